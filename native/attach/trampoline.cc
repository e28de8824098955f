// Programs that run through a BPF trampoline: fentry, fexit and fmod_ret
// (bpf_program__attach_trace_opts) and LSM hooks (bpf_program__attach_lsm). The target function
// or hook was fixed at load time, from the section name or set_attach_target.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.trace(program, { cookie? })
Napi::Value Trace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  LIBBPF_OPTS(bpf_trace_opts, opts);
  opts.cookie = OptU64(o, "cookie");
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a tracing program");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_trace_opts(prog, &opts);
  int err = link == nullptr ? -errno : 0;
  BpfErrorDetails d("attach");
  d.program = bpf_program__name(prog);
  d.Set("target", "trampoline").Set("section", bpf_program__section_name(prog));
  return Finish(env, capture, link, err, "bpf_program__attach_trace_opts", d);
}

// JS: attach.lsm(program)
Napi::Value Lsm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach an LSM program");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_lsm(prog);
  int err = link == nullptr ? -errno : 0;
  BpfErrorDetails d("attach");
  d.program = bpf_program__name(prog);
  d.Set("target", "trampoline").Set("section", bpf_program__section_name(prog));
  return Finish(env, capture, link, err, "bpf_program__attach_lsm", d);
}

// JS: attach.probeTrampoline() -> 0 when this kernel loads and attaches an fentry program, else
// the errno that refused it (features.has('trampoline')). The probe program is "return 0" on
// bpf_fentry_test1, a kernel function that exists for BPF test runs and is never called
// otherwise; it is detached and unloaded before returning.
Napi::Value ProbeTrampoline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LogCapture capture;  // libbpf's complaints about a missing vmlinux BTF are the answer, not noise
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return Napi::Number::New(env, errno != 0 ? errno : ENOENT);
  int id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id < 0) return Napi::Number::New(env, ENOENT);
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                   // exit
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.expected_attach_type = BPF_TRACE_FENTRY;
  opts.attach_btf_id = static_cast<__u32>(id);
  int prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_fentry", "GPL", insns, 2, &opts);
  if (prog < 0) return Napi::Number::New(env, errno);
  int link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, nullptr);
  int err = link < 0 ? errno : 0;
  if (link >= 0) close(link);
  close(prog);
  return Napi::Number::New(env, err);
}

}  // namespace

void InitTrampoline(Napi::Env env, Napi::Object target) {
  target.Set("trace", Napi::Function::New<Trace>(env, "trace"));
  target.Set("lsm", Napi::Function::New<Lsm>(env, "lsm"));
  target.Set("probeTrampoline", Napi::Function::New<ProbeTrampoline>(env, "probeTrampoline"));
}

}  // namespace attach
