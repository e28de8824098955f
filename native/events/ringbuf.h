// RingBufWrap: a consumer of one BPF ring buffer map (libbpf `struct ring_buffer`), driven from
// the libuv loop by EpollReader. It owns a dup of the map fd, so closing the map does not
// disturb it.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "epoll_reader.h"

struct Addon;

class RingBufWrap : public EventReaderWrap<RingBufWrap> {
 public:
  static constexpr const napi_type_tag& kTag = tags::kRingBuf;
  static constexpr const char* kClassName = "NativeRingBuffer";
  static constexpr const char* kWhat = "ring buffer";
  static constexpr const char* kConsumeOp = "ring_buffer__consume_n";

  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativeRingBuffer(mapFd, onRecords)
  explicit RingBufWrap(const Napi::CallbackInfo& info);
  ~RingBufWrap() override;

  // EpollReader.
  int ConsumeSome(size_t max) override;
  void FreeReader() override;

 private:
  static int OnSample(void* ctx, void* data, size_t size);

  struct ring_buffer* rb_ = nullptr;
  int fd_ = -1;  // our dup of the map fd
};
