// Cgroup programs (cgroup_skb, cgroup_sock, cgroup_sockopt, cgroup_sysctl, cgroup_device...):
// as a link (bpf_program__attach_cgroup; ends when the link is closed) or with the legacy
// BPF_PROG_ATTACH (none/override/multi flags; stays until detached or the cgroup is removed).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <bpf/bpf.h>

#include "../internal/args.h"
#include "../errors.h"
#include "../internal/kinds.h"
#include "../program.h"
#include "attach.h"

namespace attach {
namespace {

// An fd of the cgroup directory at `path`, closed when this goes out of scope.
struct CgroupDir {
  int fd;
  CgroupDir(Napi::Env env, const std::string& path) : fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd < 0) {
      BpfErrorDetails d("cgroup-open");
      d.Set("path", path);
      ThrowBpfError(env, "open", -errno, d);
    }
  }
  ~CgroupDir() { close(fd); }
};

// The attach type to use: the named one, else the program's expected attach type.
enum bpf_attach_type AttachTypeOf(Napi::Env env, struct bpf_program* prog, const std::string& name) {
  if (name.empty()) return bpf_program__expected_attach_type(prog);
  int t = kinds::FindAttachType(name);
  if (t < 0) throw Napi::RangeError::New(env, "unknown attach type '" + name + "'");
  return static_cast<enum bpf_attach_type>(t);
}

// JS: attach.cgroup(program, path)
Napi::Value Cgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 1, "cgroup");
  CgroupDir dir(env, path);
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach to a cgroup");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_cgroup(prog, dir.fd);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_cgroup", BpfErrorDetails("attach").Set("target", "cgroup").Set("path", path));
}

// JS: attach.cgroupLegacy(program, path, attachType, flags): BPF_PROG_ATTACH, no link.
Napi::Value CgroupLegacy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramWrap* wrap = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  int progFd = wrap->Fd(env, "attach to a cgroup");
  std::string path = args::String(info, 1, "cgroup");
  std::string typeName = args::String(info, 2, "attachType");
  uint32_t flags = args::Uint32(info, 3, "flags");
  int t = kinds::FindAttachType(typeName);
  if (t < 0) throw Napi::RangeError::New(env, "unknown attach type '" + typeName + "'");
  CgroupDir dir(env, path);
  LIBBPF_OPTS(bpf_prog_attach_opts, opts);
  opts.flags = flags;
  if (bpf_prog_attach_opts(progFd, dir.fd, static_cast<enum bpf_attach_type>(t), &opts) != 0) {
    int err = -errno;
    BpfErrorDetails d("attach");
    d.Set("target", "cgroup").Set("path", path).Set("attachType", typeName).Set("flags", flags);
    ThrowBpfError(env, "bpf_prog_attach", err, d);
  }
  return env.Undefined();
}

// JS: attach.cgroupLegacyDetach(program, path, attachType) -> whether it was attached.
Napi::Value CgroupLegacyDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ProgramWrap::FromValue(env, args::At(info, 0), "program")->Fd(env, "detach from a cgroup");
  std::string path = args::String(info, 1, "cgroup");
  std::string typeName = args::String(info, 2, "attachType");
  int t = kinds::FindAttachType(typeName);
  if (t < 0) throw Napi::RangeError::New(env, "unknown attach type '" + typeName + "'");
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);  // the cgroup is gone, and the attachment with it
    int err = -errno;
    ThrowBpfError(env, "open", err, BpfErrorDetails("cgroup-open").Set("path", path));
  }
  int rc = bpf_prog_detach2(progFd, fd, static_cast<enum bpf_attach_type>(t));
  int err = rc != 0 ? -errno : 0;
  close(fd);
  if (err == -ENOENT) return Napi::Boolean::New(env, false);
  if (err != 0) ThrowBpfError(env, "bpf_prog_detach2", err, BpfErrorDetails("detach").Set("target", "cgroup").Set("path", path).Set("attachType", typeName));
  return Napi::Boolean::New(env, true);
}

// JS: attach.programAttachType(program) -> the attach type a legacy attach uses by default.
Napi::Value ProgramAttachType(const Napi::CallbackInfo& info) {
  struct bpf_program* prog = ProgramArg(info, "read the attach type");
  return Napi::String::New(info.Env(), kinds::AttachType(AttachTypeOf(info.Env(), prog, "")));
}

}  // namespace

void InitCgroup(Napi::Env env, Napi::Object target) {
  target.Set("cgroup", Napi::Function::New<Cgroup>(env, "cgroup"));
  target.Set("cgroupLegacy", Napi::Function::New<CgroupLegacy>(env, "cgroupLegacy"));
  target.Set("cgroupLegacyDetach", Napi::Function::New<CgroupLegacyDetach>(env, "cgroupLegacyDetach"));
  target.Set("programAttachType", Napi::Function::New<ProgramAttachType>(env, "programAttachType"));
}

}  // namespace attach
