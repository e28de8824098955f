#include "xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "../internal/args.h"
#include "../errors.h"
#include "../link.h"
#include "../log.h"
#include "../internal/netns.h"
#include "../program.h"

namespace xdp {
namespace {

const char* const kModeNames[] = {"none", "native", "skb", "hw", "multi"};  // XDP_ATTACHED_*

__u32 ModeFlags(Napi::Env env, const std::string& mode) {
  if (mode.empty()) return 0;
  if (mode == "skb") return XDP_FLAGS_SKB_MODE;
  if (mode == "native") return XDP_FLAGS_DRV_MODE;
  if (mode == "hw") return XDP_FLAGS_HW_MODE;
  throw Napi::RangeError::New(env, "mode must be 'skb', 'native' or 'hw', got '" + mode + "'");
}

// What is attached now (in the current namespace), as facts for an error.
void AddAttached(BpfErrorDetails& d, int ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(ifindex, 0, &q) != 0) return;
  d.hasAttached = true;
  auto add = [&](__u32 id, const char* mode) {
    if (id != 0) d.attached.push_back({id, ProgramNameById(id), mode});
  };
  add(q.drv_prog_id, "native");
  add(q.skb_prog_id, "skb");
  add(q.hw_prog_id, "hw");
}

// The kernel's own explanation, which libbpf's netlink code logs as "Kernel error message: ...".
std::string KernelMessage(const std::vector<LogRecord>& records) {
  static const char kPrefix[] = "Kernel error message: ";
  for (const LogRecord& r : records) {
    size_t at = r.message.find(kPrefix);
    if (at != std::string::npos) return r.message.substr(at + sizeof(kPrefix) - 1);
  }
  return "";
}

// The facts of a failed XDP attach: where, how, in which mode, and what is attached now.
BpfErrorDetails AttachFacts(int err, int ifindex, const InterfaceRef& ref, const std::string& mode, const char* via) {
  BpfErrorDetails d("xdp-attach");
  ref.AddTo(d);
  d.Set("ifindex", ifindex).Set("mode", mode.empty() ? "native" : mode).Set("via", via);
  if (err == -EBUSY || err == -EEXIST) AddAttached(d, ifindex);
  return d;
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpAttachLink", Napi::Function::New<JS_attachLink>(env, "xdpAttachLink"));
  exports.Set("xdpAttachNetlink", Napi::Function::New<JS_attachNetlink>(env, "xdpAttachNetlink"));
  exports.Set("xdpDetachNetlink", Napi::Function::New<JS_detachNetlink>(env, "xdpDetachNetlink"));
  exports.Set("xdpQuery", Napi::Function::New<JS_query>(env, "xdpQuery"));
}

Napi::Value JS_attachLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramWrap* prog = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  InterfaceRef ref = ParseInterfaceRef(info, 1);
  std::string mode = args::String(info, 2, "mode");
  __u32 flags = ModeFlags(env, mode);
  int progFd = prog->Fd(env, "attach a program");

  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
  int fd = bpf_link_create(progFd, ifindex, BPF_XDP, &opts);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d = AttachFacts(err, ifindex, ref, mode, "link");
    d.program = prog->Name();
    ThrowBpfError(env, "bpf_link_create", err, d);
  }
  return BpfLinkWrap::NewFromFd(env, fd);
}

Napi::Value JS_attachNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramWrap* prog = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  InterfaceRef ref = ParseInterfaceRef(info, 1);
  Napi::Value optsValue = args::At(info, 2);
  if (!optsValue.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object o = optsValue.As<Napi::Object>();
  std::string mode = o.Get("mode").IsString() ? o.Get("mode").As<Napi::String>().Utf8Value() : "";
  bool force = o.Get("force").ToBoolean().Value();
  Napi::Value replace = o.Get("replace");
  int progFd = prog->Fd(env, "attach a program");
  int oldFd = -1;
  if (!replace.IsUndefined() && !replace.IsNull()) oldFd = ProgramWrap::FromValue(env, replace, "replace")->Fd(env, "replace a program");
  __u32 flags = ModeFlags(env, mode);

  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  if (oldFd >= 0) {
    // lib/attach/xdp.ts passes the mode of the program being replaced.
    flags |= XDP_FLAGS_REPLACE;
    opts.old_prog_fd = oldFd;
  } else if (!force) {
    flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
  }
  LogCapture capture;
  int err = bpf_xdp_attach(ifindex, progFd, flags, &opts);
  std::vector<LogRecord> logs = capture.Take();
  if (err != 0) {
    BpfErrorDetails d = AttachFacts(err, ifindex, ref, mode, "netlink");
    d.program = prog->Name();
    if (oldFd >= 0) {
      d.Set("replacing", 1);
      if (err == -EEXIST) AddAttached(d, ifindex);
    }
    if (force) d.Set("force", 1);
    std::string kernel = KernelMessage(logs);
    if (!kernel.empty()) d.Set("kernelMessage", kernel);
    DeliverLogRecords(env, logs);
    ThrowBpfError(env, "bpf_xdp_attach", err, d);
  }
  // Namespace-dependent calls first; the logger (JavaScript) last.
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  bool queried = bpf_xdp_query(ifindex, 0, &q) == 0;
  DeliverLogRecords(env, logs);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  if (queried && q.attach_mode < 5) out.Set("mode", kModeNames[q.attach_mode]);
  return out;
}

Napi::Value JS_detachNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  Napi::Value optsValue = args::At(info, 1);
  if (!optsValue.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object o = optsValue.As<Napi::Object>();
  std::string mode = o.Get("mode").IsString() ? o.Get("mode").As<Napi::String>().Utf8Value() : "";
  __u32 flags = ModeFlags(env, mode);
  if (!o.Get("progId").IsNumber()) throw Napi::TypeError::New(env, "options.progId must be a number");
  __u32 progId = o.Get("progId").As<Napi::Number>().Uint32Value();

  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  if (progId == 0) {
    // Whatever is attached in that mode.
    LogCapture capture;
    int err = bpf_xdp_detach(ifindex, flags, nullptr);
    capture.Deliver(env);
    if (err != 0) {
      BpfErrorDetails d("xdp-detach");
      ref.AddTo(d);
      ThrowBpfError(env, "bpf_xdp_detach", err, d);
    }
    return Napi::Boolean::New(env, true);
  }
  // Detach only our program: XDP_FLAGS_REPLACE with the expected fd makes the kernel check it.
  int expected = bpf_prog_get_fd_by_id(progId);
  if (expected < 0) return Napi::Boolean::New(env, false);  // gone: so it is not attached anywhere
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = expected);
  LogCapture capture;
  int err = bpf_xdp_detach(ifindex, flags | XDP_FLAGS_REPLACE, &opts);
  close(expected);
  capture.Deliver(env);
  if (err == -EEXIST) return Napi::Boolean::New(env, false);  // someone replaced it meanwhile
  if (err != 0) {
    BpfErrorDetails d("xdp-detach");
    ref.AddTo(d);
    d.Set("id", progId);
    ThrowBpfError(env, "bpf_xdp_detach", err, d);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value JS_query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  LogCapture capture;
  int err = bpf_xdp_query(ifindex, 0, &q);
  char name[IF_NAMESIZE] = "";
  if (err == 0) if_indextoname(ifindex, name);
  // Namespace-dependent calls done: now the logger (JavaScript).
  capture.Deliver(env);
  if (err != 0) {
    BpfErrorDetails d("xdp-query");
    ref.AddTo(d);
    ThrowBpfError(env, "bpf_xdp_query", err, d);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  out.Set("ifname", name);
  out.Set("attachMode", q.attach_mode < 5 ? kModeNames[q.attach_mode] : "unknown");
  auto add = [&](const char* key, __u32 id) {
    if (id == 0) return;
    Napi::Object p = Napi::Object::New(env);
    p.Set("id", id);
    p.Set("name", ProgramNameById(id));
    out.Set(key, p);
  };
  add("native", q.drv_prog_id);
  add("skb", q.skb_prog_id);
  add("hw", q.hw_prog_id);
  return out;
}

}  // namespace xdp
