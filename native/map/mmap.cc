#include "mmap.h"

#include <sys/mman.h>

Mapping* Mapping::Create(int fd, size_t length) {
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return nullptr;
  auto* m = new Mapping();
  m->addr = addr;
  m->length = length;
  m->holders = 1;
  return m;
}

void Mapping::Unmap() {
  if (addr != nullptr) munmap(addr, length);
  addr = nullptr;
}

void Mapping::Release(Mapping* m) {
  if (--m->holders > 0) return;
  m->Unmap();
  delete m;
}

Napi::ArrayBuffer Mapping::NewArrayBuffer(Napi::Env env) {
  holders++;
  return Napi::ArrayBuffer::New(env, addr, length, [](Napi::Env, void*, Mapping* m) { Release(m); }, this);
}
