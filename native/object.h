// BpfObjectWrap: one libbpf `struct bpf_object` (an opened, then loaded, ELF object).
//
// Lifetime: see native/README.md. The object is a root of the owner graph; the wrappers of its
// programs and maps are its children (closed with it), keep a strong reference to it and check
// its phase before every use. close() is idempotent. The one exception to "close() releases now":
// libbpf needs the object itself while an async load runs, so a close() that arrives then marks
// the object closing and the load's end releases it. The phase lives here only (Phase below);
// lib/object.ts asks state().
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "log.h"
#include "internal/handle.h"
#include "internal/tags.h"

#include <string>
#include <vector>

struct Addon;

class BpfObjectWrap : public TaggedWrap<BpfObjectWrap>, public Handle {
 public:
  static constexpr const napi_type_tag& kTag = tags::kObject;
  static constexpr const char* kClassName = "NativeObject";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativeObject(source: string | Uint8Array, options)
  explicit BpfObjectWrap(const Napi::CallbackInfo& info);
  ~BpfObjectWrap() override;

  // State, for the wrappers of the object's programs and maps.
  bool IsOpen() const { return obj_ != nullptr; }
  bool IsLoaded() const { return phase_ == Phase::kLoaded; }
  bool IsBusy() const { return phase_ == Phase::kLoading; }
  bool IsFailed() const { return phase_ == Phase::kFailed; }
  struct bpf_object* Raw() const { return obj_; }
  // Throws unless the object is open and no load is running.
  void CheckUsable(Napi::Env env, const char* what) const;
  // Throws unless the object is open, not loaded and no load is running.
  void CheckConfigurable(Napi::Env env, const char* what) const;

  const char* Kind() const override { return "object"; }

 protected:
  // Handle: closes the libbpf object (or, during a load, marks it to be closed when the load ends).
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "object-closed"; }

 private:
  class LoadWorker;
  friend class LoadWorker;

  // JS methods.
  Napi::Value JS_load(const Napi::CallbackInfo& info);
  Napi::Value JS_loadAsync(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_state(const Napi::CallbackInfo& info);
  Napi::Value JS_name(const Napi::CallbackInfo& info);
  Napi::Value JS_programs(const Napi::CallbackInfo& info);
  Napi::Value JS_maps(const Napi::CallbackInfo& info);
  Napi::Value JS_btf(const Napi::CallbackInfo& info);

  Napi::Value JS_verifierLog(const Napi::CallbackInfo& info);

  // Closes the libbpf object now; libbpf's messages go to `logs` when given, else nowhere.
  void CloseNow(std::vector<LogRecord>* logs) noexcept;
  // After a load: carries out a close() that arrived while it ran.
  void FinishDeferredClose();

  // Load steps shared by the sync and async paths.
  struct LoadOptions {
    uint32_t logLevel = 0;  // 0: libbpf's own log, grown on ENOSPC, fetched only on failure
    uint32_t logSize = 0;   // with logLevel > 0: our buffer per program
  };
  struct LoadResult {
    int err = 0;
    std::string failedProgram;
    std::string verifierLog;
    bool logTruncated = false;  // our fixed logSize was too small (logLevel > 0 only)
    std::vector<std::pair<std::string, std::string>> programLogs;  // logLevel > 0, on success
    std::vector<LogRecord> logs;
  };
  static LoadOptions ParseLoadOptions(const Napi::CallbackInfo& info);
  // C only, any thread.
  static LoadResult LoadOnAnyThread(struct bpf_object* obj, const LoadOptions& options);
  // Main thread: records the outcome (phase, logs) in C state, then calls into JS (logger,
  // error factory). Nothing native is touched after the first call into JS.
  void FinishLoad(Napi::Env env, LoadResult& result);

  // The phase, the one source of truth (closing = close() asked during a load).
  enum class Phase { kOpened, kLoading, kLoaded, kFailed, kClosed };

  struct bpf_object* obj_ = nullptr;
  std::vector<uint8_t> elf_;  // the ELF image when opened from memory
  Phase phase_ = Phase::kOpened;
  bool closeRequested_ = false;
  std::vector<std::pair<std::string, std::string>> verifierLogs_;  // per program, logLevel > 0
  std::vector<LogRecord> closeLogs_;  // libbpf's messages of a close() from JS, delivered after it
};
