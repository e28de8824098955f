#include "epoll_reader.h"

#include "../addon.h"

#include <cstring>

// Records and bytes handed to JS per loop iteration at most; the rest wait in the kernel for the
// next readiness event, so that one burst cannot monopolise the event loop or the heap.
// Records cap the drains of small records: 65536 records of 16 B take about as long to copy as
// the byte budget's worth of 256 B records, and a quarter of the loop turns of 16384 per drain.
static constexpr size_t kRecordsPerTick = 65536;
static constexpr size_t kBytesPerTick = 4 << 20;
// How often the safety-net timer drains the reader (see the header).
static constexpr uint64_t kDrainIntervalMs = 50;

// Subclasses call StopWatching() in their destructor: FreeReader() is theirs.
EpollReader::~EpollReader() = default;

void EpollReader::StartWatching(Napi::Env env, int epollFd, Napi::Function onRecords, const char* resourceName) {
  env_ = env;
  onRecords_ = Napi::Weak(onRecords);
  context_ = new Napi::AsyncContext(env, resourceName);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  watch_ = new Watch();
  watch_->reader = this;
  watch_->addon = Addon::Get(env);
  uv_poll_init(loop, &watch_->poll, epollFd);
  watch_->poll.data = watch_;
  uv_poll_start(&watch_->poll, UV_READABLE, OnPoll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch_->poll));  // until JS waits (SetWaiting)
  uv_timer_init(loop, &watch_->timer);
  watch_->timer.data = watch_;
  uv_timer_start(&watch_->timer, OnTimer, kDrainIntervalMs, kDrainIntervalMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch_->timer));  // the poll handle alone may keep the loop alive
}

void EpollReader::Pause() {
  if (watch_ != nullptr && !paused_) {
    uv_poll_stop(&watch_->poll);
    uv_timer_stop(&watch_->timer);
  }
  paused_ = true;
}

void EpollReader::Resume() {
  if (watch_ != nullptr && paused_) {
    uv_poll_start(&watch_->poll, UV_READABLE, OnPoll);
    uv_timer_start(&watch_->timer, OnTimer, kDrainIntervalMs, kDrainIntervalMs);
  }
  paused_ = false;
}

void EpollReader::SetWaiting(bool waiting) {
  if (watch_ == nullptr || waiting == waiting_) return;
  waiting_ = waiting;
  if (waiting) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&watch_->poll));
    onRecords_.Ref();
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(&watch_->poll));
    onRecords_.Unref();
  }
}

void EpollReader::StopWatching() {
  if (watch_ == nullptr) return;
  watch_->reader = nullptr;
  BeginClose(watch_);
  watch_ = nullptr;
  FreeReader();
  if (!delivering_) {
    delete context_;
    context_ = nullptr;
  }
  onRecords_.Reset();
}

void EpollReader::BeginClose(Watch* w) {
  if (w->closing) return;
  w->closing = true;
  w->addon->UvCloseBegins();
  uv_poll_stop(&w->poll);
  uv_timer_stop(&w->timer);
  auto closed = [](uv_handle_t* h) {
    Watch* w = static_cast<Watch*>(h->data);
    if (--w->open > 0) return;
    Addon* addon = w->addon;
    delete w;
    addon->UvCloseEnded();  // environment teardown waits for this
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), closed);
}

void EpollReader::AfterDelivery() {
  delivering_ = false;
  if (watch_ == nullptr && context_ != nullptr) {
    delete context_;
    context_ = nullptr;
  }
}

// First sizes of the reused buffers; they grow (doubling) when a batch does not fit.
static constexpr size_t kFirstDataBytes = 64 << 10;
static constexpr size_t kFirstEnds = 4096;

void EpollReader::BeginBatch(bool shared) {
  shared_ = shared;
  ResetBatch();
  if (shared) {
    if (sharedData_.IsEmpty()) {
      sharedData_ = Napi::Persistent(Napi::ArrayBuffer::New(env_, kFirstDataBytes));
      sharedEnds_ = Napi::Persistent(Napi::ArrayBuffer::New(env_, kFirstEnds * sizeof(uint32_t)));
      Napi::Int32Array lease = Napi::Int32Array::New(env_, 1);
      leaseWord_ = lease.Data();
      lease_ = Napi::Persistent(lease);
    }
    Napi::ArrayBuffer data = sharedData_.Value();
    Napi::ArrayBuffer ends = sharedEnds_.Value();
    out_ = static_cast<uint8_t*>(data.Data());
    cap_ = data.ByteLength();
    endsOut_ = static_cast<uint32_t*>(ends.Data());
    endsCap_ = ends.ByteLength() / sizeof(uint32_t);
  } else {
    if (stageData_.empty()) stageData_.resize(kFirstDataBytes);
    if (stageEnds_.empty()) stageEnds_.resize(kFirstEnds);
    out_ = stageData_.data();
    cap_ = stageData_.size();
    endsOut_ = stageEnds_.data();
    endsCap_ = stageEnds_.size();
  }
}

void EpollReader::Grow(size_t size) {
  size_t dataCap = cap_;
  while (size > dataCap - len_) dataCap *= 2;
  size_t endsCap = count_ == endsCap_ ? endsCap_ * 2 : endsCap_;
  if (!shared_) {
    stageData_.resize(dataCap);
    stageEnds_.resize(endsCap);
    out_ = stageData_.data();
    cap_ = dataCap;
    endsOut_ = stageEnds_.data();
    endsCap_ = endsCap;
    return;
  }
  // Called from a libbpf callback on the JS thread, inside Drain's or consume()'s handle scope.
  if (dataCap != cap_) {
    Napi::ArrayBuffer data = Napi::ArrayBuffer::New(env_, dataCap);
    memcpy(data.Data(), out_, len_);
    out_ = static_cast<uint8_t*>(data.Data());
    cap_ = dataCap;
    sharedData_ = Napi::Persistent(data);
  }
  if (endsCap != endsCap_) {
    Napi::ArrayBuffer ends = Napi::ArrayBuffer::New(env_, endsCap * sizeof(uint32_t));
    memcpy(ends.Data(), endsOut_, count_ * sizeof(uint32_t));
    endsOut_ = static_cast<uint32_t*>(ends.Data());
    endsCap_ = endsCap;
    sharedEnds_ = Napi::Persistent(ends);
  }
}

int EpollReader::ConsumeAndDeliver(size_t max) {
  // The reused buffers, unless JS keeps them (lease) or reads them right now (a consume() called
  // from onRecords).
  BeginBatch(deliveryDepth_ == 0 && (leaseWord_ == nullptr || *leaseWord_ == 0));
  byteBudget_ = kBytesPerTick;
  int n = ConsumeSome(max);
  byteBudget_ = SIZE_MAX;
  if (n < 0 && count_ > 0) n = static_cast<int>(count_);  // stopped by the byte budget
  // Stopped by a budget: more records are waiting (see Drain).
  more_ = (max > 0 && count_ >= max) || len_ >= kBytesPerTick;
  if (count_ == 0 && lost_ == 0) return n < 0 ? n : 0;
  Napi::HandleScope scope(env_);
  Napi::Function onRecords = onRecords_.Value();
  if (onRecords.IsEmpty()) {
    // JS dropped the reader; its finalizer is on the way. Nobody can take these records.
    ResetBatch();
    return n;
  }
  Napi::Value args[5];
  if (shared_) {
    args[0] = sharedData_.Value();
    args[1] = sharedEnds_.Value();
    args[4] = lease_.Value();
  } else {
    Napi::ArrayBuffer data = Napi::ArrayBuffer::New(env_, len_);
    if (len_ > 0) memcpy(data.Data(), out_, len_);
    Napi::ArrayBuffer ends = Napi::ArrayBuffer::New(env_, count_ * sizeof(uint32_t));
    if (count_ > 0) memcpy(ends.Data(), endsOut_, count_ * sizeof(uint32_t));
    args[0] = data;
    args[1] = ends;
    args[4] = env_.Undefined();
  }
  args[2] = Napi::Number::New(env_, static_cast<double>(count_));
  args[3] = Napi::Number::New(env_, static_cast<double>(lost_));
  ResetBatch();
  // JavaScript runs here; it may close this reader (StopWatching then leaves the async context,
  // which this call still uses, to us).
  delivering_ = true;
  deliveryDepth_++;
  try {
    onRecords.MakeCallback(env_.Global(), {args[0], args[1], args[2], args[3], args[4]}, *context_);
  } catch (...) {
    deliveryDepth_--;
    AfterDelivery();
    throw;
  }
  deliveryDepth_--;
  AfterDelivery();
  return n;
}

void EpollReader::OnPoll(uv_poll_t* handle, int status, int events) {
  Watch* w = static_cast<Watch*>(handle->data);
  if (w->reader != nullptr) w->reader->Drain();
}

void EpollReader::OnTimer(uv_timer_t* handle) {
  Watch* w = static_cast<Watch*>(handle->data);
  if (w->reader != nullptr) w->reader->Drain();
}

void EpollReader::Drain() {
  Napi::Env env = env_;
  Napi::HandleScope scope(env);
  try {
    ConsumeAndDeliver(kRecordsPerTick);
    // A drain that stopped at a budget left records in the kernel: drain again on the next turn
    // of the loop rather than wait for a readiness event, which the kernel sends only when the
    // consumer has caught up (and which irq_work can delay).
    if (more_ && watch_ != nullptr && !paused_) uv_timer_start(&watch_->timer, OnTimer, 0, kDrainIntervalMs);
  } catch (const Napi::Error& e) {
    // The JS callback threw: report it as an uncaught exception, as an event emitter would.
    // (While the environment ends this can fail too; nobody is left to tell then.)
    napi_fatal_exception(env, e.Value());
  } catch (...) {
  }
}
