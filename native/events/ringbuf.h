// RingBufWrap: a consumer of one BPF ring buffer map (libbpf `struct ring_buffer`), driven from
// the libuv loop by EpollReader. It owns a dup of the map fd, so closing the map does not
// disturb it.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "../internal/tags.h"

#include "epoll_reader.h"

struct Addon;

class RingBufWrap : public TaggedWrap<RingBufWrap>, public EpollReader {
 public:
  static constexpr const napi_type_tag& kTag = tags::kRingBuf;
  static constexpr const char* kClassName = "NativeRingBuffer";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativeRingBuffer(mapFd, onRecords)
  explicit RingBufWrap(const Napi::CallbackInfo& info);
  ~RingBufWrap() override;

 private:
  // JS methods: flow control, a synchronous drain, and close.
  Napi::Value JS_pause(const Napi::CallbackInfo& info);
  Napi::Value JS_resume(const Napi::CallbackInfo& info);
  Napi::Value JS_consume(const Napi::CallbackInfo& info);
  Napi::Value JS_setWaiting(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  // EpollReader.
  int ConsumeSome(size_t max) override;
  void FreeReader() override;
  static int OnSample(void* ctx, void* data, size_t size);

  struct ring_buffer* rb_ = nullptr;
  int fd_ = -1;  // our dup of the map fd
};
