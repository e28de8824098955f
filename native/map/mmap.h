// MapView: a BPF map's memory mapped into the process (BPF_F_MMAPABLE arrays, .data, .bss), a
// child handle of its MapWrap in the owner graph (native/README.md).
//
// JS sees the memory through one external ArrayBuffer, which holds a strong reference to the
// map's JS object: the map (and so the mapping) outlives every buffer over it. The view is closed
// with its map (or its map's object), or by the map's close(): a close from JS detaches the
// ArrayBuffer first (every view over it becomes empty), then unmaps. Closed without JS (teardown)
// it only unmaps: no JS runs any more. Only writable mappings are ever given to JS: a view of
// PROT_READ memory would crash the process on the first write.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>

#include "../internal/handle.h"

class MapView : public Handle {
 public:
  // Maps `length` bytes of map `fd` read-write as a child of `map`; nullptr (errno set) on failure.
  static std::unique_ptr<MapView> Create(Handle* map, int fd, size_t length);
  ~MapView() override;

  // The ArrayBuffer over the memory: the same one while it lives. It keeps `mapValue` alive.
  Napi::ArrayBuffer Buffer(Napi::Env env, Napi::Object mapValue);
  const char* Kind() const override { return "map memory view"; }

 protected:
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "map-closed"; }

 private:
  MapView() = default;
  void* addr_ = nullptr;
  size_t length_ = 0;
  Napi::Reference<Napi::ArrayBuffer> buffer_;  // weak
};
