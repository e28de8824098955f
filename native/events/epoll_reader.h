// EpollReader: the part that ring buffers and perf buffers share. libbpf gives each an epoll fd
// that becomes readable when records are waiting; we watch it from the libuv loop (uv_poll), so
// the event loop never blocks, and on readiness the subclass consumes records into one batch
// that is handed to JS in a single call: onRecords(data: Buffer, ends: Uint32Array, lost: number),
// record i being data[ends[i-1] .. ends[i]).
//
// Lifetime (see native/README.md): JS owns the reader. The reader holds `onRecords` weakly
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
#include <vector>

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
  // Stops watching for good; safe to call twice and from the environment cleanup hook.
  void StopWatching();
  bool Watching() const { return watch_ != nullptr; }

  // Consumes up to about `max` records into the batch (AppendRecord/AddLost), stopping early
  // once BudgetReached(); returns the count or a negative errno.
  virtual int ConsumeSome(size_t max) = 0;
  // Frees the libbpf reader (called once, from StopWatching or the cleanup hook).
  virtual void FreeReader() = 0;

  // For the libbpf callbacks.
  void AppendRecord(const void* data, size_t size);
  void AddLost(uint64_t n) { lost_ += n; }
  // Records in the batch so far.
  size_t RecordCount() const { return ends_.size(); }
  // Whether the batch holds kBytesPerTick bytes (or more) already.
  bool BudgetReached() const { return data_.size() >= byteBudget_; }

  // Consumes what is waiting (up to `max` records) and delivers it to JS now; returns the count.
  int ConsumeAndDeliver(size_t max);

 private:
  // The libuv handles, apart from the reader: closing them takes a loop turn, which may come
  // after the reader was freed (finalizer) or, in an ending worker, must come before the addon
  // is unloaded. An async cleanup hook makes Node wait for that turn (see StartWatching).
  struct Watch {
    uv_poll_t poll;
    uv_timer_t timer;
    EpollReader* reader;  // null once the reader stopped watching
    napi_async_cleanup_hook_handle hook = nullptr;
    int open = 2;         // handles not closed yet
    bool closing = false;
  };
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg);
  static void BeginClose(Watch* w);
  void Drain();
  void AfterDelivery();

  Napi::Env env_ = Napi::Env(nullptr);
  Watch* watch_ = nullptr;
  bool paused_ = false;
  bool waiting_ = false;
  bool delivering_ = false;  // onRecords is running
  size_t byteBudget_ = SIZE_MAX;
  Napi::FunctionReference onRecords_;
  Napi::AsyncContext* context_ = nullptr;
  // The batch being filled.
  std::vector<uint8_t> data_;
  std::vector<uint32_t> ends_;
  uint64_t lost_ = 0;
};
