#include "program.h"

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <vector>

#include "addon.h"
#include "internal/args.h"
#include "errors.h"
#include "internal/kinds.h"
#include "link.h"
#include "log.h"
#include "internal/pin.h"
#include "internal/tags.h"

namespace {

struct bpf_prog_info KernelInfo(Napi::Env env, int fd) {
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  __u32 len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  return pi;
}

// enableStats(): BPF_ENABLE_STATS(BPF_STATS_RUN_TIME). The kernel counts every program's runs
// and run time while the returned fd is open; JS closes it (fs.closeSync) to stop.
Napi::Value JS_enableStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) ThrowBpfError(env, "bpf_enable_stats", fd);
  if (!Addon::Get(env)->RegisterFd(fd, Addon::FdKind::kStats)) ThrowBpfError(env, "bpf_enable_stats", -ENOMEM);
  return Napi::Number::New(env, fd);
}

// JS: closeStats(fd) -> whether fd was a statistics request of this environment (then closed).
// Any other number is left alone: closing an fd we did not hand out would break its owner.
Napi::Value JS_closeStats(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(args::Uint32(info, 0, "fd"));
  return Napi::Boolean::New(info.Env(), Addon::Get(info.Env())->CloseFd(fd, Addon::FdKind::kStats));
}

}  // namespace

void ProgramWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeProgram", {
      InstanceMethod<&ProgramWrap::JS_info>("info"),
      InstanceMethod<&ProgramWrap::JS_names>("names"),
      InstanceMethod<&ProgramWrap::JS_setAutoload>("setAutoload"),
      InstanceMethod<&ProgramWrap::JS_setType>("setType"),
      InstanceMethod<&ProgramWrap::JS_setExpectedAttachType>("setExpectedAttachType"),
      InstanceMethod<&ProgramWrap::JS_kernelInfo>("kernelInfo"),
      InstanceMethod<&ProgramWrap::JS_pin>("pin"),
      InstanceMethod<&ProgramWrap::JS_unpin>("unpin"),
      InstanceMethod<&ProgramWrap::JS_attach>("attach"),
      InstanceMethod<&ProgramWrap::JS_close>("close"),
      InstanceMethod<&ProgramWrap::JS_closed>("closed"),
      StaticMethod<&ProgramWrap::JS_openPinned>("openPinned"),
      StaticMethod<&ProgramWrap::JS_openById>("openById"),
  });
  addon->programCtor = Napi::Persistent(ctor);
  exports.Set("NativeProgram", ctor);
  exports.Set("enableStats", Napi::Function::New<JS_enableStats>(env, "enableStats"));
  exports.Set("closeStats", Napi::Function::New<JS_closeStats>(env, "closeStats"));
}

Napi::Object ProgramWrap::New(Napi::Env env, BpfObjectWrap* owner, struct bpf_program* prog) {
  Napi::Object obj = Addon::Get(env)->programCtor.New({});
  ProgramWrap* wrap = Unwrap(obj);
  wrap->Bind(owner);
  wrap->prog_ = prog;
  return obj;
}

Napi::Object ProgramWrap::NewStandalone(Napi::Env env, int fd) {
  Napi::Object obj;
  try {
    obj = Addon::Get(env)->programCtor.New({});
  } catch (...) {
    close(fd);
    throw;
  }
  ProgramWrap* wrap = Unwrap(obj);
  wrap->standalone_ = true;
  wrap->ownFd_ = fd;
  wrap->RegisterRoot(Addon::Get(env));
  return obj;
}

ProgramWrap* ProgramWrap::FromValue(Napi::Env env, Napi::Value value, const char* name) {
  if (!tags::Has(value, tags::kProgram)) throw Napi::TypeError::New(env, std::string(name) + " must be a BPF program handle");
  return Unwrap(value.As<Napi::Object>());
}

ProgramWrap::ProgramWrap(const Napi::CallbackInfo& info) : TaggedWrap<ProgramWrap>(info) {}

// The finalizer releases the fd of a standalone program, nothing else: a pin or an attachment
// made through netlink keeps the program in the kernel.
ProgramWrap::~ProgramWrap() { Close(Cause::kFinalize); }

void ProgramWrap::Release(Cause, Napi::Env*) noexcept {
  if (ownFd_ >= 0) close(ownFd_);
  ownFd_ = -1;
}

std::string ProgramWrap::Name() const {
  if (prog_ != nullptr && owner_ != nullptr && owner_->IsOpen()) return bpf_program__name(prog_);
  if (ownFd_ >= 0) {
    struct bpf_prog_info pi;
    memset(&pi, 0, sizeof(pi));
    __u32 len = sizeof(pi);
    if (bpf_obj_get_info_by_fd(ownFd_, &pi, &len) == 0) return pi.name;
  }
  return "";
}

void ProgramWrap::CheckObjectProgram(Napi::Env env, const char* what) const {
  if (standalone_) ThrowStateError(env, what, "program-standalone");
  CheckUsable(env, what);
}

int ProgramWrap::Fd(Napi::Env env, const char* what) const {
  if (standalone_) {
    if (ownFd_ < 0) ThrowStateError(env, what, "program-closed");
    return ownFd_;
  }
  CheckLoaded(env, what);
  int fd = bpf_program__fd(prog_);
  if (fd < 0) {
    ThrowStateError(env, what, "program-not-autoloaded", BpfErrorDetails().Set("name", bpf_program__name(prog_)));
  }
  return fd;
}

struct bpf_program* ProgramWrap::LibbpfProgram(Napi::Env env, const char* what) const {
  if (standalone_) {
    ThrowStateError(env, what, "program-standalone-attach");
  }
  Fd(env, what);
  return prog_;
}

Napi::Value ProgramWrap::JS_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (standalone_) {
    int fd = Fd(env, "describe a program");
    struct bpf_prog_info pi = KernelInfo(env, fd);
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", pi.name);
    out.Set("section", "");
    out.Set("type", kinds::ProgType(static_cast<enum bpf_prog_type>(pi.type)));
    out.Set("expectedAttachType", "");
    out.Set("autoload", true);
    out.Set("fd", fd);
    out.Set("insnCount", static_cast<double>(pi.xlated_prog_len / 8));
    out.Set("standalone", true);
    return out;
  }
  CheckUsable(env, "describe a program");
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", bpf_program__name(prog_));
  out.Set("section", bpf_program__section_name(prog_));
  out.Set("type", kinds::ProgType(bpf_program__type(prog_)));
  // Attach type 0 is BPF_CGROUP_INET_INGRESS, but it is also what every program without an
  // attach type (tracepoint, kprobe, sched_cls, socket filter, perf event...) reads: only a
  // cgroup_skb program means it.
  enum bpf_attach_type eat = bpf_program__expected_attach_type(prog_);
  bool none = eat == 0 && bpf_program__type(prog_) != BPF_PROG_TYPE_CGROUP_SKB;
  out.Set("expectedAttachType", none ? std::string() : kinds::AttachType(eat));
  out.Set("autoload", bpf_program__autoload(prog_));
  out.Set("fd", bpf_program__fd(prog_));
  out.Set("insnCount", static_cast<double>(bpf_program__insn_cnt(prog_)));
  return out;
}

// JS: names() -> the name, or [name, section] of an object's program: what BpfProgram's
// constructor reads, without building the whole info() object (open() makes one per program).
Napi::Value ProgramWrap::JS_names(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (standalone_) {
    struct bpf_prog_info pi = KernelInfo(env, Fd(env, "describe a program"));
    return Napi::String::New(env, pi.name);
  }
  CheckUsable(env, "describe a program");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::String::New(env, bpf_program__name(prog_)));
  out.Set(1u, Napi::String::New(env, bpf_program__section_name(prog_)));
  return out;
}

Napi::Value ProgramWrap::JS_setAutoload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = args::Bool(info, 0, "autoload");
  if (standalone_) CheckObjectProgram(env, "set autoload");
  CheckConfigurable(env, "set autoload");
  int err = bpf_program__set_autoload(prog_, on);
  if (err) ThrowBpfError(env, "bpf_program__set_autoload", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_setType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = args::String(info, 0, "type");
  if (standalone_) CheckObjectProgram(env, "set the program type");
  CheckConfigurable(env, "set the program type");
  int type = kinds::FindProgType(name);
  if (type < 0) throw Napi::RangeError::New(env, "unknown program type '" + name + "'");
  int err = bpf_program__set_type(prog_, static_cast<enum bpf_prog_type>(type));
  if (err) ThrowBpfError(env, "bpf_program__set_type", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_setExpectedAttachType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = args::String(info, 0, "expectedAttachType");
  if (standalone_) CheckObjectProgram(env, "set the expected attach type");
  CheckConfigurable(env, "set the expected attach type");
  int type = kinds::FindAttachType(name);
  if (type < 0) throw Napi::RangeError::New(env, "unknown attach type '" + name + "'");
  int err = bpf_program__set_expected_attach_type(prog_, static_cast<enum bpf_attach_type>(type));
  if (err) ThrowBpfError(env, "bpf_program__set_expected_attach_type", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_kernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read program info");
  struct bpf_prog_info pi = KernelInfo(env, fd);
  char tag[2 * BPF_TAG_SIZE + 1];
  for (int i = 0; i < BPF_TAG_SIZE; i++) snprintf(tag + 2 * i, 3, "%02x", pi.tag[i]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", pi.id);
  out.Set("tag", tag);
  out.Set("name", pi.name);
  out.Set("type", kinds::ProgType(static_cast<enum bpf_prog_type>(pi.type)));
  out.Set("jitedSize", pi.jited_prog_len);
  out.Set("xlatedSize", pi.xlated_prog_len);
  out.Set("btfId", pi.btf_id);
  out.Set("loadTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.load_time)));
  // Counted by the kernel only while BPF statistics are enabled (JS_enableStats).
  out.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_cnt)));
  out.Set("runTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_time_ns)));
  out.Set("verifiedInsns", pi.verified_insns);
  // The maps the program uses: a second call, now with room for their ids.
  std::vector<__u32> mapIds(pi.nr_map_ids);
  if (!mapIds.empty()) {
    struct bpf_prog_info again;
    memset(&again, 0, sizeof(again));
    again.nr_map_ids = mapIds.size();
    again.map_ids = reinterpret_cast<__u64>(mapIds.data());
    __u32 len = sizeof(again);
    if (bpf_obj_get_info_by_fd(fd, &again, &len) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
    mapIds.resize(std::min<size_t>(mapIds.size(), again.nr_map_ids));
  }
  Napi::Array ids = Napi::Array::New(env, mapIds.size());
  for (size_t i = 0; i < mapIds.size(); i++) ids.Set(static_cast<uint32_t>(i), mapIds[i]);
  out.Set("mapIds", ids);
  return out;
}

Napi::Value ProgramWrap::JS_pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = Fd(env, "pin the program");
  pin::CheckPath(env, path);
  LogCapture capture;
  int err;
  if (!standalone_) {
    err = bpf_program__pin(prog_, path.c_str());
  } else {
    err = bpf_obj_pin(fd, path.c_str()) != 0 ? -errno : 0;
  }
  capture.Deliver(env);
  if (err != 0) {
    BpfErrorDetails d("pin");
    d.Set("path", path).Set("kind", "program");
    ThrowBpfError(env, "bpf_obj_pin", err, d);
  }
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // libbpf does not remember where bpf_program__pin put a program (and a reopened program has no
  // libbpf struct at all): lib/ keeps the path and passes it.
  std::string path = args::String(info, 0, "path");
  Fd(env, "unpin the program");
  pin::CheckPath(env, path);
  int err = standalone_ ? (unlink(path.c_str()) != 0 ? -errno : 0) : bpf_program__unpin(prog_, path.c_str());
  if (err != 0 && err != -ENOENT) ThrowBpfError(env, "unlink", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_openPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  pin::CheckPath(env, path);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d("open-pinned");
    d.Set("path", path).Set("expected", "program");
    ThrowBpfError(env, "bpf_obj_get", err, d);
  }
  // A pin can hold a map or a link too (and get-info answers for any of them): check the kind.
  std::string kind = bpffs::FdKind(fd);
  if (kind != "prog") {
    close(fd);
    BpfErrorDetails d("pin-kind");
    d.Set("path", path).Set("kind", kind).Set("expected", "program");
    ThrowBpfError(env, "bpf_obj_get", -EINVAL, d);
  }
  return NewStandalone(env, fd);
}

Napi::Value ProgramWrap::JS_openById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = args::Uint32(info, 0, "id");
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d("open-by-id");
    d.Set("id", id).Set("kind", "program");
    ThrowBpfError(env, "bpf_prog_get_fd_by_id", err, d);
  }
  return NewStandalone(env, fd);
}

Napi::Value ProgramWrap::JS_attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckObjectProgram(env, "attach");
  Fd(env, "attach");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach(prog_);
  int err = link == nullptr ? -errno : 0;
  // Everything the error needs is read before the logger runs: it may close the object.
  BpfErrorDetails d("auto-attach");
  if (link == nullptr) {
    d.program = bpf_program__name(prog_);
    d.Set("section", bpf_program__section_name(prog_));
  }
  // The link is wrapped (owned by JS) before any JS runs, so a throwing logger cannot leak it.
  Napi::Object wrapped;
  if (link != nullptr) wrapped = BpfLinkWrap::New(env, link);
  capture.Deliver(env);
  if (link == nullptr) {
    d.libbpfLog = capture.WarningLines();  // libbpf's reason, from our own copy of its lines
    ThrowBpfError(env, "bpf_program__attach", err, d);
  }
  return wrapped;
}

// A program of an object is closed with its object: close() on it does nothing.
Napi::Value ProgramWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (standalone_) Close(Cause::kClose, &env);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsClosed());
}

std::string ProgramNameById(__u32 id) {
  if (id == 0) return "";
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return "";
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  __u32 len = sizeof(pi);
  std::string name = bpf_obj_get_info_by_fd(fd, &pi, &len) == 0 ? pi.name : "";
  close(fd);
  return name;
}
