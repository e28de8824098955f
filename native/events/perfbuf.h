// PerfBufWrap: a consumer of one BPF perf event array (libbpf `struct perf_buffer`: one perf
// ring per CPU), driven from the libuv loop by EpollReader. Lost-sample counts reported by the
// kernel come with each batch.
//
// It owns a dup of the map fd: libbpf keeps the fd it is given to delete the CPUs' entries when
// the buffer is freed, and the kernel drops the entries put through a map file when that file is
// closed. Our own dup means neither closing the map nor the object can silence the buffer, and
// perf_buffer__free never deletes keys through an fd number that now belongs to someone else.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "epoll_reader.h"

struct Addon;

class PerfBufWrap : public EventReaderWrap<PerfBufWrap> {
 public:
  static constexpr const napi_type_tag& kTag = tags::kPerfBuf;
  static constexpr const char* kClassName = "NativePerfBuffer";
  static constexpr const char* kWhat = "perf buffer";
  static constexpr const char* kConsumeOp = "perf_buffer__consume_buffer";

  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativePerfBuffer(mapFd, pagesPerCpu, onRecords)
  explicit PerfBufWrap(const Napi::CallbackInfo& info);
  ~PerfBufWrap() override;

  // EpollReader.
  int ConsumeSome(size_t max) override;
  void FreeReader() override;

 private:
  static void OnSample(void* ctx, int cpu, void* data, __u32 size);
  static void OnLost(void* ctx, int cpu, __u64 count);

  struct perf_buffer* pb_ = nullptr;
  int fd_ = -1;         // our dup of the map fd
  size_t nextRing_ = 0; // the CPU ring the next drain starts with (round robin)
};
