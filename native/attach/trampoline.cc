// Programs that run through a BPF trampoline: fentry, fexit and fmod_ret
// (bpf_program__attach_trace_opts) and LSM hooks (bpf_program__attach_lsm). The target function
// or hook was fixed at load time, from the section name or set_attach_target.
#include <cerrno>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.trace(program, { cookie? })
Napi::Value Trace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct bpf_program* prog = ProgramArg(info, "attach a tracing program");
  Napi::Object o = OptionsArg(info, 1);
  LIBBPF_OPTS(bpf_trace_opts, opts);
  opts.cookie = OptU64(o, "cookie");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_trace_opts(prog, &opts);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_trace_opts",
                std::string("program '") + bpf_program__name(prog) + "' (section '" + bpf_program__section_name(prog) + "')");
}

// JS: attach.lsm(program)
Napi::Value Lsm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct bpf_program* prog = ProgramArg(info, "attach an LSM program");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_lsm(prog);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_lsm",
                std::string("program '") + bpf_program__name(prog) + "' (section '" + bpf_program__section_name(prog) + "')");
}

}  // namespace

void InitTrampoline(Napi::Env env, Napi::Object target) {
  target.Set("trace", Napi::Function::New<Trace>(env, "trace"));
  target.Set("lsm", Napi::Function::New<Lsm>(env, "lsm"));
}

}  // namespace attach
