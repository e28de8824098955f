// EpollReader: the part that ring buffers and perf buffers share. libbpf gives each an epoll fd
// that becomes readable when records are waiting; we watch it from the libuv loop (uv_poll), so
// the event loop never blocks, and on readiness the subclass consumes records into one batch
// that is handed to JS in a single call:
//
//   onRecords(data: ArrayBuffer, ends: ArrayBuffer, count: number, lost: number, lease?: Int32Array)
//
// record i being data[ends[i-1] .. ends[i]) (ends as u32, ends[-1] = 0).
//
// The data path copies each record once. With `lease` present, data and ends are this reader's
// own reused buffers (allocated once, grown when a batch does not fit): JS may read them until
// it returns, or keep them by setting lease[0] = 1 and clear it when done. While lease[0] is set
// (or while onRecords runs, for a consume() called from it), the next batch is staged aside and
// delivered without `lease`, as buffers of its exact size that belong to JS.
//
// Lifetime (see native/README.md): the reader is a root handle of the owner graph; its close
// (JS close(), the finalizer, environment teardown) frees the libbpf reader and its dup of the
// map fd, and begins closing the libuv handles. The reader holds `onRecords` weakly
// and keeps the event loop alive only while JS says someone waits for a record (setWaiting),
// so a reader dropped without close() is collected (its finalizer frees it) and never keeps
// the process running. While someone waits, the callback is held strongly: the waiting
// iterator cannot be collected under its own feet.
//
// Each drain stops at kRecordsPerTick records or kBytesPerTick bytes, whichever comes first,
// so one wake-up never copies more than that into this process.
//
// A timer also drains the reader every kDrainIntervalMs while it is not paused: the kernel
// signals new records through irq_work, which on a tickless idle CPU can stay pending until
// something else runs there (seen with perf buffers fed by BPF_PROG_TEST_RUN). Readiness stays
// the normal path; the timer only bounds how long a missed wakeup can delay records.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <cstddef>
#include <cstring>
#include <vector>

#include "../addon.h"
#include "../errors.h"
#include "../internal/args.h"
#include "../internal/handle.h"
#include "../internal/tags.h"
#include "../log.h"

class EpollReader {
 public:
  virtual ~EpollReader();

 protected:
  // Starts watching `epollFd`; `onRecords` receives the batches (see above).
  void StartWatching(Napi::Env env, int epollFd, Napi::Function onRecords, const char* resourceName);
  // Stops and resumes watching (backpressure: JS pauses while its queue is full).
  void Pause();
  void Resume();
  // Whether JS waits for a record now: the loop is kept alive and the callback held strongly.
  void SetWaiting(bool waiting);
  // Stops watching for good; safe to call twice.
  void StopWatching();
  bool Watching() const { return watch_ != nullptr; }

  // Consumes up to about `max` records into the batch (AppendRecord/AddLost), stopping early
  // once BudgetReached(); returns the count or a negative errno.
  virtual int ConsumeSome(size_t max) = 0;
  // Frees the libbpf reader (called once, from StopWatching or the cleanup hook).
  virtual void FreeReader() = 0;

  // For the libbpf callbacks: one copy, from the kernel's ring into the batch.
  // Small records (the common case of an event of a few fields) are copied inline with
  // fixed-size moves instead of a call to memcpy, which cost as much as libbpf's own loop per
  // record at 16 B (perf profile in docs/benchmarks.md).
  void AppendRecord(const void* data, size_t size) {
    if (size > cap_ - len_ || count_ == endsCap_) Grow(size);
    uint8_t* dst = out_ + len_;
    const uint8_t* src = static_cast<const uint8_t*>(data);
    if (size <= 32 && size >= 8) {
      // Two (or four) overlapping 8/16-byte moves cover any size in [8, 32] exactly.
      if (size >= 16) {
        Copy16(dst, src);
        Copy16(dst + size - 16, src + size - 16);
      } else {
        memcpy(dst, src, 8);
        memcpy(dst + size - 8, src + size - 8, 8);
      }
    } else {
      memcpy(dst, src, size);
    }
    len_ += size;
    endsOut_[count_++] = static_cast<uint32_t>(len_);
  }
  static void Copy16(uint8_t* dst, const uint8_t* src) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + 8, &b, 8);
  }
  void AddLost(uint64_t n) { lost_ += n; }
  // Records in the batch so far.
  size_t RecordCount() const { return count_; }
  // Whether the batch holds kBytesPerTick bytes (or more) already.
  bool BudgetReached() const { return len_ >= byteBudget_; }

  // Consumes what is waiting (up to `max` records) and delivers it to JS now; returns the count.
  int ConsumeAndDeliver(size_t max);

 private:
  // The libuv handles, apart from the reader: closing them takes a loop turn, which may come
  // after the reader was freed (finalizer) or, in an ending worker, must come before the addon
  // is unloaded: the Addon counts them, and its teardown waits for that turn.
  struct Watch {
    uv_poll_t poll;
    uv_timer_t timer;
    EpollReader* reader;  // null once the reader stopped watching
    Addon* addon = nullptr;
    int open = 2;         // handles not closed yet
    bool closing = false;
  };
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void BeginClose(Watch* w);
  void Drain();
  void AfterDelivery();
  // Points the batch at the reused buffers (shared) or at the staging vectors (owned).
  void BeginBatch(bool shared);
  // Makes room for a record of `size` bytes and one more end.
  void Grow(size_t size);
  // Resets the batch (keeps every buffer for the next one).
  void ResetBatch() { len_ = 0; count_ = 0; lost_ = 0; }

  Napi::Env env_ = Napi::Env(nullptr);
  Watch* watch_ = nullptr;
  bool paused_ = false;
  bool waiting_ = false;
  bool delivering_ = false;  // onRecords is running
  int deliveryDepth_ = 0;    // onRecords calls running (a consume() from onRecords nests one)
  size_t byteBudget_ = SIZE_MAX;
  Napi::FunctionReference onRecords_;
  Napi::AsyncContext* context_ = nullptr;
  // The reused buffers handed to JS, and the lease word JS sets while it keeps them.
  Napi::Reference<Napi::ArrayBuffer> sharedData_;
  Napi::Reference<Napi::ArrayBuffer> sharedEnds_;
  Napi::Reference<Napi::Int32Array> lease_;
  int32_t* leaseWord_ = nullptr;
  // The staging vectors of owned batches (used as raw storage: size is the capacity).
  std::vector<uint8_t> stageData_;
  std::vector<uint32_t> stageEnds_;
  // The batch being filled: into the shared buffers or the staging vectors.
  bool shared_ = false;
  uint8_t* out_ = nullptr;
  size_t cap_ = 0;
  size_t len_ = 0;
  uint32_t* endsOut_ = nullptr;
  size_t endsCap_ = 0;
  size_t count_ = 0;
  uint64_t lost_ = 0;
  bool more_ = false;  // the last drain stopped at a budget
};

// The JS class of a reader (RingBufWrap, PerfBufWrap): the methods both have. T provides
// ConsumeSome/FreeReader, kTag, kClassName, kWhat ("ring buffer") and kConsumeOp (the libbpf call
// named in a consume() error).
template <typename T>
class EventReaderWrap : public TaggedWrap<T>, public EpollReader, public Handle {
 public:
  explicit EventReaderWrap(const Napi::CallbackInfo& info) : TaggedWrap<T>(info) {}

  const char* Kind() const override { return T::kWhat; }

  static Napi::Function DefineReaderClass(Napi::Env env) {
    using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);
    return TaggedWrap<T>::DefineClass(env, T::kClassName, {
        TaggedWrap<T>::InstanceMethod("pause", static_cast<Method>(&EventReaderWrap::JS_pause)),
        TaggedWrap<T>::InstanceMethod("resume", static_cast<Method>(&EventReaderWrap::JS_resume)),
        TaggedWrap<T>::InstanceMethod("consume", static_cast<Method>(&EventReaderWrap::JS_consume)),
        TaggedWrap<T>::InstanceMethod("setWaiting", static_cast<Method>(&EventReaderWrap::JS_setWaiting)),
        TaggedWrap<T>::InstanceMethod("close", static_cast<Method>(&EventReaderWrap::JS_close)),
        TaggedWrap<T>::InstanceMethod("closed", static_cast<Method>(&EventReaderWrap::JS_closed)),
    });
  }

 protected:
  // The end of T's constructor: registers the reader libbpf opened (err 0) as a root of the owner
  // graph, then calls JS — the logger with libbpf's messages, then, when libbpf refused (`op`
  // failed with err), the error factory. A logger that throws leaves no reader behind: the
  // wrapper is not made, so the reader is closed here.
  void FinishOpen(Napi::Env env, LogCapture& capture, int err, const char* op) {
    if (err == 0) Handle::RegisterRoot(Addon::Get(env));
    try {
      capture.Deliver(env);
    } catch (...) {
      Handle::Close(Handle::Cause::kFinalize);
      throw;
    }
    if (err != 0) ThrowBpfError(env, op, err, BpfErrorDetails("reader-open").Set("reader", T::kWhat));
  }

  // Handle: stops watching and frees the libbpf reader (T's FreeReader: T calls Close() in its
  // destructor, while it still exists).
  void Release(Handle::Cause, Napi::Env*) noexcept override { StopWatching(); }
  const char* OwnClosedState() const override { return "reader-closed"; }

  Napi::Value JS_pause(const Napi::CallbackInfo& info) {
    Pause();
    return info.Env().Undefined();
  }
  Napi::Value JS_resume(const Napi::CallbackInfo& info) {
    Resume();
    return info.Env().Undefined();
  }
  // JS: consume(max?) -> records delivered (synchronously, to onRecords) from what is waiting
  // now; max 0 or absent: all of it.
  Napi::Value JS_consume(const Napi::CallbackInfo& info);
  Napi::Value JS_setWaiting(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Handle::Close(Handle::Cause::kClose, &env);
    return env.Undefined();
  }
  Napi::Value JS_closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Handle::IsClosed()); }
};

template <typename T>
Napi::Value EventReaderWrap<T>::JS_consume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t max = args::At(info, 0).IsUndefined() ? 0 : args::Uint32(info, 0, "max");
  if (!Watching()) ThrowStateError(env, "consume", "reader-closed", BpfErrorDetails().Set("reader", T::kWhat));
  int n = ConsumeAndDeliver(max);
  if (n < 0) ThrowBpfError(env, T::kConsumeOp, n);
  return Napi::Number::New(env, n);
}

template <typename T>
Napi::Value EventReaderWrap<T>::JS_setWaiting(const Napi::CallbackInfo& info) {
  SetWaiting(args::Bool(info, 0, "waiting"));
  return info.Env().Undefined();
}
