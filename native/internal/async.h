// Completion: the promise of one async operation, settled from its AsyncWorker's OnOK.
//
// OnOK can run while the environment is being torn down: a worker thread that is terminated (or
// calls process.exit()) while the libuv pool still runs our work. Node then drains the pending
// work and calls OnOK, but JavaScript can no longer run: resolving the promise, calling the
// error factory or the logger fails, and an exception thrown out of OnOK ends in std::terminate
// (the whole process aborts). So a completion is built and settled inside Settle(), which catches
// everything, checks napi's answer instead of throwing, and reports whether JS could be reached.
// The worker updates its C state (fds, phases) before calling Settle, never after.
#pragma once

#include <napi.h>

#include <functional>

class Completion {
 public:
  explicit Completion(Napi::Env env) : env_(env) {
    if (napi_create_promise(env, &deferred_, &promise_) != napi_ok) throw Napi::Error::New(env, "cannot create a promise");
  }
  Napi::Value Promise() const { return Napi::Value(env_, promise_); }

  // Settles the promise with what `build` returns (resolve), or with the error it throws
  // (reject). Never throws. Returns false when JavaScript could not be reached (teardown).
  bool Settle(const std::function<Napi::Value()>& build) {
    if (deferred_ == nullptr) return false;
    napi_deferred d = deferred_;
    deferred_ = nullptr;
    try {
      Napi::HandleScope scope(env_);
      napi_value value;
      bool ok = true;
      try {
        value = build();
      } catch (const Napi::Error& e) {
        ok = false;
        value = e.Value();
      }
      napi_status status = ok ? napi_resolve_deferred(env_, d, value) : napi_reject_deferred(env_, d, value);
      if (status != napi_ok) {
        ClearPending();
        return false;
      }
      return true;
    } catch (...) {
      ClearPending();
      return false;
    }
  }

 private:
  // A failed call can leave an exception pending; nobody can handle it now.
  void ClearPending() {
    bool pending = false;
    if (napi_is_exception_pending(env_, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env_, &ignored);
    }
  }

  Napi::Env env_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};
