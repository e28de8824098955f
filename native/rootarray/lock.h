// Advisory locks (flock) on a file or folder, so that processes changing the same pinned state
// (a root array's bpffs folder) take turns. The kernel drops the lock when the fd closes, also
// when the process dies, so a killed process never leaves a stale lock.
#pragma once

#include <napi.h>

namespace lock {
// JS: tryLock(path) -> fd (the lock is held) | -1 (someone else holds it). Never blocks.
Napi::Value JS_tryLock(const Napi::CallbackInfo& info);
// JS: unlock(fd): releases the lock and closes the fd.
Napi::Value JS_unlock(const Napi::CallbackInfo& info);
void Init(Napi::Env env, Napi::Object exports);
}  // namespace lock
