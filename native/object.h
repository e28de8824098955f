// BpfObjectWrap: one libbpf `struct bpf_object` (an opened, then loaded, ELF object).
//
// Lifetime: the object owns its programs and maps. ProgramWrap and MapWrap keep a strong
// reference to the BpfObjectWrap that made them and check IsOpen() before every use, so a
// wrapper outliving close() throws instead of touching freed memory. close() is idempotent; a
// close() that arrives while an async load runs takes effect when the load ends.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "tags.h"

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
  bool IsLoaded() const { return loaded_; }
  bool IsBusy() const { return busy_; }
  struct bpf_object* Raw() const { return obj_; }
  // Throws unless the object is open and no load is running.
  void CheckUsable(Napi::Env env, const char* what) const;
  // Throws unless the object is open, not loaded and no load is running.
  void CheckConfigurable(Napi::Env env, const char* what) const;

  // Closes the libbpf object now (environment teardown, finalizer, JS close()).
  void CloseNow();
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

  // Load steps shared by the sync and async paths (C only, any thread).
  struct LoadResult {
    int err = 0;
    std::string failedProgram;
    std::string verifierLog;
  };
  static LoadResult LoadOnAnyThread(struct bpf_object* obj);
  // Throws the load's error (with libbpf's warnings `libbpfLog`, its reason) or marks it loaded.
  void FinishLoad(Napi::Env env, const LoadResult& result, const std::vector<std::string>& libbpfLog);

  struct bpf_object* obj_ = nullptr;
  Addon* addon_ = nullptr;
  std::vector<uint8_t> elf_;  // the ELF image when opened from memory
  bool loaded_ = false;
  bool busy_ = false;         // an async load is running
  bool closeRequested_ = false;
  std::unordered_set<CloseListener*> closeListeners_;
};
