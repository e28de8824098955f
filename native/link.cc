#include "link.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "internal/args.h"
#include "errors.h"
#include "internal/kinds.h"
#include "log.h"
#include "internal/pin.h"
#include "program.h"
#include "internal/tags.h"

void BpfLinkWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeLink", {
      StaticMethod<&BpfLinkWrap::JS_openPinned>("openPinned"),
      InstanceMethod<&BpfLinkWrap::JS_fd>("fd"),
      InstanceMethod<&BpfLinkWrap::JS_info>("info"),
      InstanceMethod<&BpfLinkWrap::JS_pinPath>("pinPath"),
      InstanceMethod<&BpfLinkWrap::JS_pin>("pin"),
      InstanceMethod<&BpfLinkWrap::JS_unpin>("unpin"),
      InstanceMethod<&BpfLinkWrap::JS_update>("update"),
      InstanceMethod<&BpfLinkWrap::JS_detach>("detach"),
      InstanceMethod<&BpfLinkWrap::JS_close>("close"),
      InstanceMethod<&BpfLinkWrap::JS_closed>("closed"),
  });
  addon->linkCtor = Napi::Persistent(ctor);
  exports.Set("NativeLink", ctor);
}

Napi::Object BpfLinkWrap::New(Napi::Env env, struct bpf_link* link) {
  Napi::Object obj;
  try {
    obj = Addon::Get(env)->linkCtor.New({});
  } catch (...) {
    bpf_link__destroy(link);
    throw;
  }
  BpfLinkWrap* wrap = Unwrap(obj);
  wrap->link_ = link;
  wrap->RegisterRoot(Addon::Get(env));
  return obj;
}

Napi::Object BpfLinkWrap::NewFromFd(Napi::Env env, int fd) {
  Napi::Object obj;
  try {
    obj = Addon::Get(env)->linkCtor.New({});
  } catch (...) {
    close(fd);
    throw;
  }
  BpfLinkWrap* wrap = Unwrap(obj);
  wrap->fd_ = fd;
  wrap->RegisterRoot(Addon::Get(env));
  return obj;
}

BpfLinkWrap::BpfLinkWrap(const Napi::CallbackInfo& info) : TaggedWrap<BpfLinkWrap>(info) {}

// The finalizer only releases our fd (which detaches an unpinned link: the documented rule).
BpfLinkWrap::~BpfLinkWrap() { Close(Cause::kFinalize); }

void BpfLinkWrap::Release(Cause, Napi::Env*) noexcept {
  if (link_ != nullptr) {
    // bpf_link__destroy on a pinned link keeps it in the kernel: it closes the fd only.
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

int BpfLinkWrap::Fd(Napi::Env env, const char* what) const {
  if (link_ != nullptr) return bpf_link__fd(link_);
  if (fd_ >= 0) return fd_;
  ThrowStateError(env, what, "link-closed");
}

Napi::Value BpfLinkWrap::JS_openPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  pin::CheckPath(env, path);
  LogCapture capture;
  struct bpf_link* link = bpf_link__open(path.c_str());
  int err = link == nullptr ? -errno : 0;
  capture.Deliver(env);
  if (link == nullptr) {
    BpfErrorDetails d("open-pinned");
    d.Set("path", path).Set("expected", "link");
    ThrowBpfError(env, "bpf_link__open", err, d);
  }
  // bpf_link__open accepts any pinned BPF object: make sure this one is a link.
  std::string kind = bpffs::FdKind(bpf_link__fd(link));
  if (kind != "link") {
    bpf_link__destroy(link);
    BpfErrorDetails d("pin-kind");
    d.Set("path", path).Set("kind", kind).Set("expected", "link");
    ThrowBpfError(env, "bpf_link__open", -EINVAL, d);
  }
  return New(env, link);
}

Napi::Value BpfLinkWrap::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Fd(info.Env(), "read the link fd"));
}

Napi::Value BpfLinkWrap::JS_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read link info");
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  __u32 len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", li.id);
  out.Set("progId", li.prog_id);
  const char* type = libbpf_bpf_link_type_str(static_cast<enum bpf_link_type>(li.type));
  out.Set("type", type != nullptr ? type : "unknown");
  switch (li.type) {
    case BPF_LINK_TYPE_XDP:
      out.Set("ifindex", li.xdp.ifindex);
      break;
    case BPF_LINK_TYPE_TCX:
      out.Set("ifindex", li.tcx.ifindex);
      out.Set("attachType", kinds::AttachType(static_cast<enum bpf_attach_type>(li.tcx.attach_type)));
      break;
    default:
      break;
  }
  return out;
}

Napi::Value BpfLinkWrap::JS_pinPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* p = link_ != nullptr ? bpf_link__pin_path(link_) : (pinPath_.empty() ? nullptr : pinPath_.c_str());
  return p != nullptr ? Napi::Value(Napi::String::New(env, p)) : env.Null();
}

Napi::Value BpfLinkWrap::JS_pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = Fd(env, "pin the link");
  pin::CheckPath(env, path);
  LogCapture capture;
  int err;
  if (link_ != nullptr) {
    err = bpf_link__pin(link_, path.c_str());
  } else {
    if (!pinPath_.empty()) {
      err = -EBUSY;
    } else {
      err = bpf_obj_pin(fd, path.c_str()) != 0 ? -errno : 0;
      if (err == 0) pinPath_ = path;
    }
  }
  capture.Deliver(env);
  if (err != 0) {
    BpfErrorDetails d("pin");
    d.Set("path", path).Set("kind", "link");
    ThrowBpfError(env, "bpf_obj_pin", err, d);
  }
  return env.Undefined();
}

Napi::Value BpfLinkWrap::JS_unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "unpin the link");
  int err = 0;
  if (link_ != nullptr) {
    if (bpf_link__pin_path(link_) != nullptr) err = bpf_link__unpin(link_);
  } else if (!pinPath_.empty()) {
    err = unlink(pinPath_.c_str()) != 0 ? -errno : 0;
    if (err == 0 || err == -ENOENT) {
      pinPath_.clear();
      err = 0;
    }
  }
  if (err != 0) ThrowBpfError(env, "unlink", err);
  return env.Undefined();
}

Napi::Value BpfLinkWrap::JS_update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "update the link");
  int newFd = ProgramWrap::FromValue(env, args::At(info, 0), "program")->Fd(env, "attach a program");
  LIBBPF_OPTS(bpf_link_update_opts, opts);
  Napi::Value expected = args::At(info, 1);
  if (!expected.IsUndefined() && !expected.IsNull()) {
    opts.old_prog_fd = ProgramWrap::FromValue(env, expected, "expected")->Fd(env, "replace a program");
    opts.flags = BPF_F_REPLACE;
  }
  if (bpf_link_update(fd, newFd, &opts) != 0) {
    int err = -errno;
    BpfErrorDetails d("link-update");
    d.Set("expected", opts.flags != 0 ? 1 : 0);
    ThrowBpfError(env, "bpf_link_update", err, d);
  }
  return env.Undefined();
}

Napi::Value BpfLinkWrap::JS_detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (IsClosed()) return env.Undefined();  // idempotent
  int fd = Fd(env, "detach the link");
  // BPF_LINK_DETACH ends the attachment even while a pin or another fd holds the link. Links that
  // are not kernel links (perf-event based kprobes on old kernels) refuse it: closing detaches them.
  int err = bpf_link_detach(fd) != 0 ? -errno : 0;
  if (err != 0 && err != -EOPNOTSUPP && err != -EINVAL && err != -ENOLINK) ThrowBpfError(env, "bpf_link_detach", err);
  if (link_ != nullptr && bpf_link__pin_path(link_) != nullptr) bpf_link__unpin(link_);
  if (!pinPath_.empty()) {
    unlink(pinPath_.c_str());
    pinPath_.clear();
  }
  Close(Cause::kClose, &env);
  return env.Undefined();
}

Napi::Value BpfLinkWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Close(Cause::kClose, &env);
  return env.Undefined();
}

Napi::Value BpfLinkWrap::JS_closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsClosed());
}
