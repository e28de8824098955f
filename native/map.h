// MapWrap: one BPF map. Issue scope today: a map of a BpfObjectWrap (its libbpf `struct
// bpf_map`), with description, open-phase configuration and access to the memory of the
// object's global-variable maps (.rodata, .data, .bss).
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "owned.h"

class MapWrap : public Napi::ObjectWrap<MapWrap>, public ObjectOwned {
 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);
  static Napi::Object NewFromObject(Napi::Env env, BpfObjectWrap* owner, struct bpf_map* map);

  explicit MapWrap(const Napi::CallbackInfo& info);

  // The map's fd; throws unless the object is loaded and the map was created.
  int Fd(Napi::Env env, const char* what) const;

 private:
  // Open phase: description and configuration.
  Napi::Value JS_info(const Napi::CallbackInfo& info);
  Napi::Value JS_setMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value JS_setKeySize(const Napi::CallbackInfo& info);
  Napi::Value JS_setValueSize(const Napi::CallbackInfo& info);
  Napi::Value JS_setFlags(const Napi::CallbackInfo& info);
  Napi::Value JS_setPinPath(const Napi::CallbackInfo& info);
  Napi::Value JS_setAutocreate(const Napi::CallbackInfo& info);
  // Loaded phase: what the kernel says about the map.
  Napi::Value JS_kernelInfo(const Napi::CallbackInfo& info);
  // Global-variable maps: copy bytes out of / into the map's value (its memory image before
  // load; the kernel's memory after load where the map is mmap-able, else a syscall).
  Napi::Value JS_readValue(const Napi::CallbackInfo& info);
  Napi::Value JS_writeValue(const Napi::CallbackInfo& info);

  struct bpf_map* map_ = nullptr;
};
