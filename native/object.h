// BpfObjectWrap: one libbpf `struct bpf_object` (an opened, then loaded, ELF object).
//
// Lifetime: see native/README.md. The object owns its programs and maps; their wrappers keep a
// strong reference to it and check IsOpen() before every use. close() is idempotent; a close()
// that arrives while an async load runs takes effect when the load ends. The phase lives here
// only (Phase below); lib/object.ts asks state().
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "log.h"
#include "internal/tags.h"

#include <string>
#include <unordered_set>
#include <vector>

struct Addon;

// Told when its object is closed from JS, before libbpf frees the object (MapWrap uses it to
// detach the ArrayBuffers over a map's memory).
class CloseListener {
 public:
  virtual ~CloseListener() = default;
  virtual void OwnerClosing(Napi::Env env) = 0;
  // The object's wrapper is being destroyed (environment teardown): forget it.
  virtual void OwnerGone() = 0;
};

class BpfObjectWrap : public TaggedWrap<BpfObjectWrap> {
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

  // Closes the libbpf object now (environment teardown, finalizer, JS close()); libbpf's
  // messages go to `logs` when given (JS close() delivers them), else nowhere.
  void CloseNow(std::vector<LogRecord>* logs = nullptr);
  void Detach() { addon_ = nullptr; }

  // Listeners told by close() from JS; a listener removes itself when it goes away.
  void AddCloseListener(CloseListener* l) { closeListeners_.insert(l); }
  void RemoveCloseListener(CloseListener* l) { closeListeners_.erase(l); }

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
  Addon* addon_ = nullptr;
  std::vector<uint8_t> elf_;  // the ELF image when opened from memory
  Phase phase_ = Phase::kOpened;
  bool closeRequested_ = false;
  std::vector<std::pair<std::string, std::string>> verifierLogs_;  // per program, logLevel > 0
  std::unordered_set<CloseListener*> closeListeners_;
};
