// MapWrap: one BPF map. Either a map of a BpfObjectWrap (its libbpf `struct bpf_map`, valid while
// the object is open) or a standalone map that owns its fd (opened from a bpffs pin or by id;
// close() closes the fd).
//
// Element access is built for a hot path: bindOps() (native/map/map_ops.cc) exposes natively
// owned scratch memory once (key, value, next key), JS encodes into it, and each operation is a
// function bound to this map that takes no buffers and returns a boolean: no N-API object per
// call, no `this` unwrap, no type-tag check, no detached-buffer check. The scratch is shared by
// the map's operations: lib/map/map.ts saves and restores it around an operation started by
// user JS while another one runs (re-entry), see native/README.md.
//
// In the owner graph a map of an object is its object's child, a standalone map a root; its
// memory view (mmap.h) is its child.
#pragma once

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <napi.h>

#include "../internal/tags.h"

#include <cstdint>
#include <memory>

#include "mmap.h"
#include "../internal/owned.h"

class MapWrap : public TaggedWrap<MapWrap>, public ObjectOwned {
 public:
  static constexpr const napi_type_tag& kTag = tags::kMap;
  static constexpr const char* kClassName = "NativeMap";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);
  static Napi::Object NewFromObject(Napi::Env env, BpfObjectWrap* owner, struct bpf_map* map);

  explicit MapWrap(const Napi::CallbackInfo& info);
  ~MapWrap() override;

  // The map's fd; throws unless the map is usable (object loaded and map created, or standalone
  // and not closed).
  int Fd(Napi::Env env, const char* what) const;

  const char* Kind() const override { return "map"; }

 protected:
  // Handle: a standalone map closes its fd (its memory view, a child, is closed already).
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "map-closed"; }

 private:
  // Module functions: standalone maps and facts about any map fd.
  static Napi::Object NewStandalone(Napi::Env env, int fd);
  static Napi::Value JS_openPinned(const Napi::CallbackInfo& info);
  static Napi::Value JS_openById(const Napi::CallbackInfo& info);
  // JS: createMap({ type, keySize, valueSize, maxEntries, flags, name, innerMapFd, mapExtra }): a map of no object.
  static Napi::Value JS_create(const Napi::CallbackInfo& info);
  static Napi::Value JS_infoByFd(const Napi::CallbackInfo& info);
  static Napi::Value JS_numPossibleCpus(const Napi::CallbackInfo& info);

  // Open phase: description and configuration.
  Napi::Value JS_info(const Napi::CallbackInfo& info);
  Napi::Value JS_setMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value JS_setKeySize(const Napi::CallbackInfo& info);
  Napi::Value JS_setValueSize(const Napi::CallbackInfo& info);
  Napi::Value JS_setFlags(const Napi::CallbackInfo& info);
  Napi::Value JS_setPinPath(const Napi::CallbackInfo& info);
  Napi::Value JS_setAutocreate(const Napi::CallbackInfo& info);
  Napi::Value JS_reuseFd(const Napi::CallbackInfo& info);
  // Loaded phase: what the kernel says about the map, its BTF, its fd.
  Napi::Value JS_kernelInfo(const Napi::CallbackInfo& info);
  Napi::Value JS_btf(const Napi::CallbackInfo& info);
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  // Global-variable maps: copy bytes out of / into the map's value (its memory image before
  // load; the kernel's memory after load where the map is mmap-able, else a syscall).
  Napi::Value JS_readValue(const Napi::CallbackInfo& info);
  Napi::Value JS_writeValue(const Napi::CallbackInfo& info);
  // Element access, fast path (native/map/map_ops.cc): per-map functions over natively owned scratch.
  Napi::Value JS_bindOps(const Napi::CallbackInfo& info);
  // Batch access through caller buffers of `count` keys and values.
  Napi::Value JS_lookupBatch(const Napi::CallbackInfo& info);
  Napi::Value JS_updateBatch(const Napi::CallbackInfo& info);
  Napi::Value JS_deleteBatch(const Napi::CallbackInfo& info);
  // Kernel object: freeze, pin, unpin, memory map, close.
  Napi::Value JS_freeze(const Napi::CallbackInfo& info);
  Napi::Value JS_pin(const Napi::CallbackInfo& info);
  Napi::Value JS_unpin(const Napi::CallbackInfo& info);
  Napi::Value JS_mmap(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_closed(const Napi::CallbackInfo& info);

  // Sizes of what the kernel exchanges (valid once the map has an fd).
  void LoadSizes(Napi::Env env);
  // Writes the sizes LoadSizes() read into `out` (type, keySize, valueSize, valueBytes, maxEntries,
  // flags, ncpus), for bindOps().
  void SetSizes(Napi::Object out) const;
  uint32_t ValueBytes() const;  // value size, times the rounded-up per-CPU stride for per-CPU maps
  // Throws unless this is a map of an object (configuration goes through libbpf).
  void CheckObjectMap(Napi::Env env, const char* what) const;
  // Throws unless this is a global-variable map (readValue/writeValue).
  void CheckGlobalsMap(Napi::Env env, const char* what) const;

  // A map of an object.
  struct bpf_map* map_ = nullptr;
  // A standalone map: its fd (-1 once closed) and what the kernel said about it at open.
  bool standalone_ = false;
  int fd_ = -1;
  struct bpf_map_info kinfo_ = {};

  // Sizes for element access: known after load (object maps) or at open (standalone).
  bool sized_ = false;
  uint32_t type_ = 0, keySize_ = 0, valueSize_ = 0, maxEntries_ = 0, flags_ = 0;
  int ncpus_ = 1;


  friend struct MapOps;

  // The map's memory mapped into the process (a child handle), once mmap() was called.
  std::unique_ptr<MapView> view_;
};
