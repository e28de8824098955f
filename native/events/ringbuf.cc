#include "ringbuf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"
#include "../log.h"

void RingBufWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeRingBuffer", {
      InstanceMethod<&RingBufWrap::JS_pause>("pause"),
      InstanceMethod<&RingBufWrap::JS_resume>("resume"),
      InstanceMethod<&RingBufWrap::JS_consume>("consume"),
      InstanceMethod<&RingBufWrap::JS_setWaiting>("setWaiting"),
      InstanceMethod<&RingBufWrap::JS_close>("close"),
  });
  exports.Set("NativeRingBuffer", ctor);
}

RingBufWrap::RingBufWrap(const Napi::CallbackInfo& info) : TaggedWrap<RingBufWrap>(info) {
  Napi::Env env = info.Env();
  uint32_t mapFd = args::Uint32(info, 0, "mapFd");
  if (!args::At(info, 1).IsFunction()) throw Napi::TypeError::New(env, "onRecords must be a function");
  fd_ = fcntl(static_cast<int>(mapFd), F_DUPFD_CLOEXEC, 3);
  if (fd_ < 0) ThrowBpfError(env, "fcntl(F_DUPFD_CLOEXEC)", -errno);
  LogCapture capture;
  rb_ = ring_buffer__new(fd_, OnSample, this, nullptr);
  int err = rb_ == nullptr ? -errno : 0;
  if (rb_ == nullptr) {
    close(fd_);
    fd_ = -1;
  } else {
    StartWatching(env, ring_buffer__epoll_fd(rb_), info[1].As<Napi::Function>(), "libbpf-node:ringbuf");
  }
  // JavaScript last: the logger, then the error factory.
  capture.Deliver(env);
  if (err != 0) {
    BpfErrorDetails d("reader-open");
    d.Set("reader", "ring buffer");
    ThrowBpfError(env, "ring_buffer__new", err, d);
  }
}

RingBufWrap::~RingBufWrap() { StopWatching(); }

int RingBufWrap::OnSample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingBufWrap*>(ctx);
  self->AppendRecord(data, size);
  // libbpf has consumed this record already; a negative return stops the drain after it.
  return self->BudgetReached() ? -E2BIG : 0;
}

int RingBufWrap::ConsumeSome(size_t max) { return ring_buffer__consume_n(rb_, max); }

void RingBufWrap::FreeReader() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Napi::Value RingBufWrap::JS_pause(const Napi::CallbackInfo& info) {
  Pause();
  return info.Env().Undefined();
}

Napi::Value RingBufWrap::JS_resume(const Napi::CallbackInfo& info) {
  Resume();
  return info.Env().Undefined();
}

// JS: consume(max) -> records delivered (synchronously, to onRecords) from what is waiting now.
Napi::Value RingBufWrap::JS_consume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t max = args::Uint32(info, 0, "max");
  if (!Watching()) ThrowStateError(env, "consume", "reader-closed", BpfErrorDetails().Set("reader", "ring buffer"));
  int n = ConsumeAndDeliver(max);
  if (n < 0) ThrowBpfError(env, "ring_buffer__consume_n", n);
  return Napi::Number::New(env, n);
}

Napi::Value RingBufWrap::JS_setWaiting(const Napi::CallbackInfo& info) {
  SetWaiting(args::Bool(info, 0, "waiting"));
  return info.Env().Undefined();
}

Napi::Value RingBufWrap::JS_close(const Napi::CallbackInfo& info) {
  StopWatching();
  return info.Env().Undefined();
}
