#include "epoll_reader.h"

#include <cstring>

// Records handed to JS per loop iteration at most; the rest wait for the next readiness event,
// so that one burst cannot monopolise the event loop.
static constexpr size_t kRecordsPerTick = 16384;
// How often the safety-net timer drains the reader (see the header).
static constexpr uint64_t kDrainIntervalMs = 50;

// Subclasses call StopWatching() in their destructor: FreeReader() is theirs.
EpollReader::~EpollReader() = default;

void EpollReader::StartWatching(Napi::Env env, int epollFd, Napi::Function onRecords, const char* resourceName) {
  env_ = env;
  onRecords_ = Napi::Persistent(onRecords);
  context_ = new Napi::AsyncContext(env, resourceName);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  uv_poll_init(loop, poll_, epollFd);
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnPoll);
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  uv_timer_start(timer_, OnTimer, kDrainIntervalMs, kDrainIntervalMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));  // the poll handle alone keeps the loop alive
  napi_add_env_cleanup_hook(env, CleanupHook, this);
}

void EpollReader::Pause() {
  if (poll_ != nullptr && !paused_) {
    uv_poll_stop(poll_);
    uv_timer_stop(timer_);
  }
  paused_ = true;
}

void EpollReader::Resume() {
  if (poll_ != nullptr && paused_) {
    uv_poll_start(poll_, UV_READABLE, OnPoll);
    uv_timer_start(timer_, OnTimer, kDrainIntervalMs, kDrainIntervalMs);
  }
  paused_ = false;
}

void EpollReader::StopWatching() {
  if (poll_ == nullptr) return;
  uv_poll_stop(poll_);
  poll_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  poll_ = nullptr;
  uv_timer_stop(timer_);
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
  napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  FreeReader();
  delete context_;
  context_ = nullptr;
  onRecords_.Reset();
}

void EpollReader::CleanupHook(void* arg) { static_cast<EpollReader*>(arg)->StopWatching(); }

void EpollReader::AppendRecord(const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  data_.insert(data_.end(), p, p + size);
  ends_.push_back(static_cast<uint32_t>(data_.size()));
}

int EpollReader::ConsumeAndDeliver(size_t max) {
  int n = ConsumeSome(max);
  if (ends_.empty() && lost_ == 0) return n < 0 ? n : 0;
  Napi::HandleScope scope(env_);
  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::Copy(env_, data_.data(), data_.size());
  Napi::Uint32Array ends = Napi::Uint32Array::New(env_, ends_.size());
  if (!ends_.empty()) memcpy(ends.Data(), ends_.data(), ends_.size() * sizeof(uint32_t));
  Napi::Number lost = Napi::Number::New(env_, static_cast<double>(lost_));
  data_.clear();
  ends_.clear();
  lost_ = 0;
  onRecords_.MakeCallback(env_.Global(), {data, ends, lost}, *context_);
  return n;
}

void EpollReader::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<EpollReader*>(handle->data);
  if (self != nullptr) self->Drain();
}

void EpollReader::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<EpollReader*>(handle->data);
  if (self != nullptr) self->Drain();
}

void EpollReader::Drain() {
  Napi::Env env = env_;
  Napi::HandleScope scope(env);
  try {
    ConsumeAndDeliver(kRecordsPerTick);
  } catch (const Napi::Error& e) {
    // The JS callback threw: report it as an uncaught exception, as an event emitter would.
    napi_fatal_exception(env, e.Value());
  }
}
