// Kernel feature probes: thin wrappers over libbpf's probes (libbpf_probe_bpf_prog_type,
// libbpf_probe_bpf_map_type, libbpf_probe_bpf_helper) and the library's own probes. Names in,
// the kernel's answers out (numbers, errnos, facts); lib/features.ts owns what they mean, the
// caching and the named library features.
#pragma once

#include <napi.h>

namespace features {
// JS: probeProgramType(name) -> 1 (yes), 0 (no) or a negative errno (libbpf could not tell). Names as libbpf prints them ('xdp', 'sched_cls', ...).
Napi::Value JS_probeProgramType(const Napi::CallbackInfo& info);
// JS: probeMapType(name) -> 1, 0 or a negative errno. Names as libbpf prints them ('hash', 'ringbuf', ...).
Napi::Value JS_probeMapType(const Napi::CallbackInfo& info);
// JS: probeHelper(programType, helper) -> 1, 0 or a negative errno (-EOPNOTSUPP: no such
// program type). helper: 'bpf_fib_lookup' or 'fib_lookup'.
Napi::Value JS_probeHelper(const Napi::CallbackInfo& info);
// JS: featureNames() -> { programTypes: string[], mapTypes: string[], helpers: string[] },
// every name this build of libbpf knows (for validation and error messages).
Napi::Value JS_featureNames(const Napi::CallbackInfo& info);
// JS: probeKernelFeature(name) -> { step, errno, retval?, found?, log? }: where the probe
// stopped and what the kernel answered there. Names: 'xdp_link', 'perf_link', 'verified_insns',
// 'iter_task', 'iter_task_filter', 'iter_cgroup' (kernel BTF lookups), 'batch_ops',
// 'hash_lookup_and_delete', 'atomics', 'xdp_meta' (a verifier load only), 'xdp_meta_64',
// 'test_run_xdp_ctx', 'xdp_live_frames'. Each tries the operation on a map or program it creates
// and closes.
Napi::Value JS_probeKernelFeature(const Napi::CallbackInfo& info);
void Init(Napi::Env env, Napi::Object exports);
}  // namespace features
