#include "perfbuf.h"

#include <cerrno>

#include "addon.h"
#include "args.h"
#include "errors.h"

void PerfBufWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativePerfBuffer", {
      InstanceMethod<&PerfBufWrap::JS_pause>("pause"),
      InstanceMethod<&PerfBufWrap::JS_resume>("resume"),
      InstanceMethod<&PerfBufWrap::JS_consume>("consume"),
      InstanceMethod<&PerfBufWrap::JS_close>("close"),
  });
  exports.Set("NativePerfBuffer", ctor);
}

PerfBufWrap::PerfBufWrap(const Napi::CallbackInfo& info) : TaggedWrap<PerfBufWrap>(info) {
  Napi::Env env = info.Env();
  uint32_t mapFd = args::Uint32(info, 0, "mapFd");
  uint32_t pages = args::Uint32(info, 1, "pagesPerCpu");
  if (pages == 0 || (pages & (pages - 1)) != 0) throw Napi::RangeError::New(env, "pagesPerCpu must be a power of 2");
  if (!args::At(info, 2).IsFunction()) throw Napi::TypeError::New(env, "onRecords must be a function");
  // perf_buffer__new stores a perf event fd per CPU into the map and keeps the map fd it was
  // given only for that; its rings stay readable after the map fd is closed.
  pb_ = perf_buffer__new(static_cast<int>(mapFd), pages, OnSample, OnLost, this, nullptr);
  if (pb_ == nullptr) {
    int err = -errno;
    BpfErrorDetails d;
    if (err == -EINVAL) d.detail = "the map is not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)";
    ThrowBpfError(env, "perf_buffer__new", err, d);
  }
  StartWatching(env, perf_buffer__epoll_fd(pb_), info[2].As<Napi::Function>(), "libbpf-node:perfbuf");
}

PerfBufWrap::~PerfBufWrap() { StopWatching(); }

void PerfBufWrap::OnSample(void* ctx, int cpu, void* data, __u32 size) {
  static_cast<PerfBufWrap*>(ctx)->AppendRecord(data, size);
}

void PerfBufWrap::OnLost(void* ctx, int cpu, __u64 count) { static_cast<PerfBufWrap*>(ctx)->AddLost(count); }

// perf_buffer__consume drains every CPU's ring; there is no per-call record limit.
int PerfBufWrap::ConsumeSome(size_t max) { return perf_buffer__consume(pb_); }

void PerfBufWrap::FreeReader() {
  if (pb_ != nullptr) perf_buffer__free(pb_);
  pb_ = nullptr;
}

Napi::Value PerfBufWrap::JS_pause(const Napi::CallbackInfo& info) {
  Pause();
  return info.Env().Undefined();
}

Napi::Value PerfBufWrap::JS_resume(const Napi::CallbackInfo& info) {
  Resume();
  return info.Env().Undefined();
}

// JS: consume() -> delivers (synchronously, to onRecords) what is waiting now.
Napi::Value PerfBufWrap::JS_consume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Watching()) ThrowStateError(env, "cannot consume: the perf buffer is closed");
  int n = ConsumeAndDeliver(0);
  if (n < 0) ThrowBpfError(env, "perf_buffer__consume", n);
  return Napi::Number::New(env, n);
}

Napi::Value PerfBufWrap::JS_close(const Napi::CallbackInfo& info) {
  StopWatching();
  return info.Env().Undefined();
}
