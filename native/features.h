// Kernel feature probes: thin wrappers over libbpf's probes (libbpf_probe_bpf_prog_type,
// libbpf_probe_bpf_map_type, libbpf_probe_bpf_helper). Names in, booleans out; lib/features.ts
// owns the caching, the named library features and their minimum kernels.
#pragma once

#include <napi.h>

namespace features {
// JS: probeProgramType(name) -> boolean. Names as libbpf prints them ('xdp', 'sched_cls', ...).
Napi::Value JS_probeProgramType(const Napi::CallbackInfo& info);
// JS: probeMapType(name) -> boolean. Names as libbpf prints them ('hash', 'ringbuf', ...).
Napi::Value JS_probeMapType(const Napi::CallbackInfo& info);
// JS: probeHelper(programType, helper) -> boolean. helper: 'bpf_fib_lookup' or 'fib_lookup'.
Napi::Value JS_probeHelper(const Napi::CallbackInfo& info);
// JS: featureNames() -> { programTypes: string[], mapTypes: string[], helpers: string[] },
// every name this build of libbpf knows (for validation and error messages).
Napi::Value JS_featureNames(const Napi::CallbackInfo& info);
// JS: probeKernelFeature(name) -> boolean | undefined (cannot tell). Names: 'xdp_link',
// 'batch_ops', 'hash_lookup_and_delete', 'atomics', 'xdp_meta_64', 'test_run_xdp_ctx',
// 'xdp_live_frames'. Each tries the operation on a map or program it creates and closes.
Napi::Value JS_probeKernelFeature(const Napi::CallbackInfo& info);
void Init(Napi::Env env, Napi::Object exports);
}  // namespace features
