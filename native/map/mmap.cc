#include "mmap.h"

#include <sys/mman.h>

#include <cerrno>
#include <new>

std::unique_ptr<MapView> MapView::Create(Handle* map, int fd, size_t length) {
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return nullptr;
  std::unique_ptr<MapView> view(new (std::nothrow) MapView());
  if (view == nullptr) {
    munmap(addr, length);
    errno = ENOMEM;
    return nullptr;
  }
  view->addr_ = addr;
  view->length_ = length;
  view->RegisterChild(map);
  return view;
}

MapView::~MapView() { Close(Cause::kFinalize); }

void MapView::Release(Cause, Napi::Env* env) noexcept {
  if (env != nullptr && !buffer_.IsEmpty()) {
    // JS can still run: detach the ArrayBuffer (every view over it becomes empty), then unmap.
    napi_value ab = nullptr;
    if (napi_get_reference_value(*env, buffer_, &ab) == napi_ok && ab != nullptr) napi_detach_arraybuffer(*env, ab);
  }
  buffer_.Reset();
  if (addr_ != nullptr) munmap(addr_, length_);
  addr_ = nullptr;
}

Napi::ArrayBuffer MapView::Buffer(Napi::Env env, Napi::Object mapValue) {
  if (!buffer_.IsEmpty()) {
    Napi::ArrayBuffer ab = buffer_.Value();
    if (!ab.IsEmpty()) return ab;
  }
  auto* hold = new Napi::ObjectReference(Napi::Persistent(mapValue));
  napi_value ab;
  napi_status s = napi_create_external_arraybuffer(
      env, addr_, length_, [](napi_env, void*, void* hint) { delete static_cast<Napi::ObjectReference*>(hint); }, hold, &ab);
  if (s != napi_ok) {
    delete hold;
    NAPI_THROW_IF_FAILED(env, s, Napi::ArrayBuffer());
  }
  Napi::ArrayBuffer out(env, ab);
  buffer_ = Napi::Weak(out);
  return out;
}
