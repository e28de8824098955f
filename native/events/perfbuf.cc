#include "perfbuf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"
#include "../log.h"

void PerfBufWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  exports.Set(kClassName, DefineReaderClass(env));
}

PerfBufWrap::PerfBufWrap(const Napi::CallbackInfo& info) : EventReaderWrap<PerfBufWrap>(info) {
  Napi::Env env = info.Env();
  uint32_t mapFd = args::Uint32(info, 0, "mapFd");
  uint32_t pages = args::Uint32(info, 1, "pagesPerCpu");
  if (pages == 0 || (pages & (pages - 1)) != 0) throw Napi::RangeError::New(env, "pagesPerCpu must be a power of 2");
  if (!args::At(info, 2).IsFunction()) throw Napi::TypeError::New(env, "onRecords must be a function");
  fd_ = fcntl(static_cast<int>(mapFd), F_DUPFD_CLOEXEC, 3);
  if (fd_ < 0) ThrowBpfError(env, "fcntl(F_DUPFD_CLOEXEC)", -errno);
  LogCapture capture;
  pb_ = perf_buffer__new(fd_, pages, OnSample, OnLost, this, nullptr);
  int err = pb_ == nullptr ? -errno : 0;
  if (pb_ == nullptr) {
    close(fd_);
    fd_ = -1;
  } else {
    StartWatching(env, perf_buffer__epoll_fd(pb_), info[2].As<Napi::Function>(), "libbpf-node:perfbuf");
  }
  FinishOpen(env, capture, err, "perf_buffer__new");
}

PerfBufWrap::~PerfBufWrap() { Close(Cause::kFinalize); }

void PerfBufWrap::OnSample(void* ctx, int cpu, void* data, __u32 size) {
  static_cast<PerfBufWrap*>(ctx)->AppendRecord(data, size);
}

void PerfBufWrap::OnLost(void* ctx, int cpu, __u64 count) { static_cast<PerfBufWrap*>(ctx)->AddLost(count); }

// A CPU's ring is drained whole (libbpf has no per-record stop for perf buffers), ring after
// ring, until `max` records or the byte budget are reached; the next drain starts with the ring
// after the last one drained, so no CPU is starved.
int PerfBufWrap::ConsumeSome(size_t max) {
  size_t rings = perf_buffer__buffer_cnt(pb_);
  size_t before = RecordCount();
  for (size_t i = 0; i < rings; i++) {
    size_t ring = (nextRing_ + i) % rings;
    int err = perf_buffer__consume_buffer(pb_, ring);
    if (err < 0 && err != -ENOENT) return err;
    if ((max > 0 && RecordCount() - before >= max) || BudgetReached()) {
      nextRing_ = (ring + 1) % rings;
      break;
    }
  }
  return static_cast<int>(RecordCount() - before);
}

void PerfBufWrap::FreeReader() {
  // Deletes the CPUs' entries through our dup, which still names this map.
  if (pb_ != nullptr) perf_buffer__free(pb_);
  pb_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}
