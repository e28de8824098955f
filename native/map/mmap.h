// Mapping: a BPF map's memory mapped into the process (BPF_F_MMAPABLE arrays, .data, .bss).
//
// Two holders share a mapping: the MapWrap that made it, and the external ArrayBuffer JS sees.
// The memory is unmapped when the map is closed from JS (after the ArrayBuffer was detached, so
// JS can no longer reach it) or when both holders are gone, whichever comes first; the struct
// itself is freed with its last holder. Only writable mappings are ever given to JS: a view of
// PROT_READ memory would crash the process on the first write.
#pragma once

#include <napi.h>
#include <cstddef>

struct Mapping {
  void* addr = nullptr;  // nullptr once unmapped
  size_t length = 0;
  int holders = 0;

  // Maps `length` bytes of map `fd` read-write; returns nullptr and sets errno on failure.
  static Mapping* Create(int fd, size_t length);
  // Unmaps the memory now (the holders stay).
  void Unmap();
  // Drops one holder; frees (and unmaps) with the last.
  static void Release(Mapping* m);
  // An external ArrayBuffer over the memory; it holds the mapping until it is collected.
  Napi::ArrayBuffer NewArrayBuffer(Napi::Env env);
};
