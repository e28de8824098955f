#include "ringbuf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"
#include "../log.h"

void RingBufWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  exports.Set(kClassName, DefineReaderClass(env));
}

RingBufWrap::RingBufWrap(const Napi::CallbackInfo& info) : EventReaderWrap<RingBufWrap>(info) {
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
  FinishOpen(env, capture, err, "ring_buffer__new");
}

RingBufWrap::~RingBufWrap() { Close(Cause::kFinalize); }

int RingBufWrap::OnSample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingBufWrap*>(ctx);
  self->AppendRecord(data, size);
  // libbpf has consumed this record already; a negative return stops the drain after it.
  return self->BudgetReached() ? -E2BIG : 0;
}

int RingBufWrap::ConsumeSome(size_t max) { return ring_buffer__consume_n(rb_, max == 0 ? SIZE_MAX : max); }

void RingBufWrap::FreeReader() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}
