// Iterators: bpf_program__attach_iter makes the link, with its filter (one task or process, one
// map, one cgroup and a walk order); bpf_iter_create opens a readable fd on the link — each
// open runs the iterator once, from the start. Reading it (lib/, on the thread pool) gives the
// bytes the program wrote with bpf_seq_printf / BPF_SEQ_PRINTF.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <bpf/bpf.h>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"
#include "attach.h"

namespace attach {
namespace {

// JS: attach.iter(program, { tid?, pid?, pidFd?, mapFd?, cgroup?, cgroupId?, order? })
Napi::Value Iter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  union bpf_iter_link_info linfo;
  memset(&linfo, 0, sizeof(linfo));
  bool filtered = false;
  std::string what;
  std::string cgroupPath;
  if (!o.Get("mapFd").IsUndefined()) {
    linfo.map.map_fd = static_cast<__u32>(OptInt(o, "mapFd", 0));
    filtered = true;
    what = "map fd " + std::to_string(linfo.map.map_fd);
  } else if (!o.Get("cgroup").IsUndefined() || !o.Get("cgroupId").IsUndefined()) {
    cgroupPath = OptString(o, "cgroup");
    if (cgroupPath.empty()) linfo.cgroup.cgroup_id = OptU64(o, "cgroupId");
    linfo.cgroup.order = static_cast<enum bpf_cgroup_iter_order>(OptInt(o, "order", BPF_CGROUP_ITER_SELF_ONLY));
    filtered = true;
    what = cgroupPath.empty() ? "cgroup id " + std::to_string(linfo.cgroup.cgroup_id) : "cgroup '" + cgroupPath + "'";
  } else if (!o.Get("tid").IsUndefined() || !o.Get("pid").IsUndefined() || !o.Get("pidFd").IsUndefined()) {
    linfo.task.tid = static_cast<__u32>(OptInt(o, "tid", 0));
    linfo.task.pid = static_cast<__u32>(OptInt(o, "pid", 0));
    linfo.task.pid_fd = static_cast<__u32>(OptInt(o, "pidFd", 0));
    filtered = true;
    what = linfo.task.tid ? "tid " + std::to_string(linfo.task.tid) : "pid " + std::to_string(linfo.task.pid);
  }
  LIBBPF_OPTS(bpf_iter_attach_opts, opts);
  if (filtered) {
    opts.link_info = &linfo;
    opts.link_info_len = sizeof(linfo);
  }
  // Acquire-then-register: options (which may run JS getters that close the object) and the
  // program's state are read before the cgroup folder is opened; from there nothing throws
  // until it is closed again.
  struct bpf_program* prog = ProgramArg(info, "attach an iterator");
  int cgroupFd = -1;
  if (!cgroupPath.empty()) {
    cgroupFd = open(cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroupFd < 0) {
      int err = -errno;
      ThrowBpfError(env, "open", err, BpfErrorDetails("cgroup-open").Set("path", cgroupPath));
    }
    linfo.cgroup.cgroup_fd = cgroupFd;
  }
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_iter(prog, &opts);
  int err = link == nullptr ? -errno : 0;
  if (cgroupFd >= 0) close(cgroupFd);
  BpfErrorDetails d("attach");
  d.Set("target", "iterator").Set("section", bpf_program__section_name(prog));
  if (!what.empty()) d.Set("filter", what);
  return Finish(env, capture, link, err, "bpf_program__attach_iter", d);
}

// JS: attach.iterCreate(linkFd) -> a new fd, registered with the addon; close it with iterClose().
Napi::Value IterCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int linkFd = args::Int32(info, 0, "link fd");
  int fd = bpf_iter_create(linkFd);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d("iter-create");
    d.Set("fd", linkFd);
    ThrowBpfError(env, "bpf_iter_create", err, d);
  }
  // Registered at once: environment teardown closes it if JS never does (a worker that ends
  // mid-read), so the program the read holds does not stay in the kernel.
  if (!Addon::Get(env)->RegisterFd(fd, Addon::FdKind::kIter)) ThrowBpfError(env, "bpf_iter_create", -ENOMEM, BpfErrorDetails("iter-create").Set("fd", linkFd));
  return Napi::Number::New(env, fd);
}

// JS: attach.iterClose(fd) -> whether fd was an iterator fd of this addon (it is then closed).
// Any other number is left alone.
Napi::Value IterClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::Int32(info, 0, "fd");
  return Napi::Boolean::New(env, Addon::Get(env)->CloseFd(fd, Addon::FdKind::kIter));
}

}  // namespace

void InitIter(Napi::Env env, Napi::Object target) {
  target.Set("iter", Napi::Function::New<Iter>(env, "iter"));
  target.Set("iterCreate", Napi::Function::New<IterCreate>(env, "iterCreate"));
  target.Set("iterClose", Napi::Function::New<IterClose>(env, "iterClose"));
}

}  // namespace attach
