// Test support, not public API: BPF_PROG_TEST_RUN, so that tests can make programs produce map
// updates and ring buffer records on demand. (The public test-run API lives with attach.)
#pragma once

#include <napi.h>

// JS: _testRun(progFd, repeat, data: Uint8Array) -> { retval, durationNs }
Napi::Value JS_testRunForTests(const Napi::CallbackInfo& info);
