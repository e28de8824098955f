// BPF_PROG_TEST_RUN (bpf_prog_test_run_opts): run a loaded program on a frame (and context) the
// caller builds, without any interface, and read back its return value, the output frame and
// context, and the kernel's per-run duration. Also the live-frames mode of XDP
// (BPF_F_TEST_XDP_LIVE_FRAMES): the frames go through a real interface's XDP path (XDP_TX and
// XDP_REDIRECT transmit them, XDP_PASS hands them to the stack), a packet generator.
//
// testRun blocks the calling thread; testRunAsync runs on the libuv pool (baton in, baton out).
#pragma once

#include <napi.h>

namespace test_run {

void Init(Napi::Env env, Napi::Object exports);

// JS: testRun(program, { data, ctx?, repeat, dataOutSize?, ctxOutSize?, live?, batchSize?, ingress? })
//   -> { retval, data, ctx, durationNs, elapsedNs }
Napi::Value JS_testRun(const Napi::CallbackInfo& info);
// JS: testRunAsync(program, same options) -> Promise<same result>
Napi::Value JS_testRunAsync(const Napi::CallbackInfo& info);

}  // namespace test_run
