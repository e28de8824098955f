// Perf events: opens one event (perf_event_open: software or hardware, a sample period or a
// frequency, one CPU or one process) and runs the program on each sample with
// bpf_program__attach_perf_event_opts. The link owns the event: closing it closes both.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../errors.h"
#include "attach.h"

namespace attach {
namespace {

// JS: attach.perfEvent(program, { type, config, samplePeriod?, sampleFreq?, pid?, cpu?, cookie? })
// pid -1 with a cpu: every process on that CPU (the profiler case); a pid with cpu -1: that
// process on any CPU.
Napi::Value PerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = static_cast<__u32>(OptU64(o, "type"));
  attr.config = OptU64(o, "config");
  uint64_t freq = OptU64(o, "sampleFreq");
  if (freq != 0) {
    attr.freq = 1;
    attr.sample_freq = freq;
  } else {
    attr.sample_period = OptU64(o, "samplePeriod", 1);
  }
  int pid = static_cast<int>(OptInt(o, "pid", -1));
  int cpu = static_cast<int>(OptInt(o, "cpu", -1));
  if (pid == -1 && cpu == -1) throw Napi::RangeError::New(env, "a perf event needs a pid or a cpu (or both)");
  LIBBPF_OPTS(bpf_perf_event_opts, opts);
  opts.bpf_cookie = OptU64(o, "cookie");
  // Acquire-then-register: every option read (which may run JS getters that close the object)
  // and the program's state check come before the event is opened; from there on nothing can
  // throw until the link owns the event (or the event is closed).
  struct bpf_program* prog = ProgramArg(info, "attach a perf event");
  int pfd = static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0) {
    int err = -errno;
    BpfErrorDetails d("perf-event-open");
    d.Set("type", attr.type).Set("config", static_cast<double>(attr.config)).Set("cpu", cpu).Set("pid", pid);
    ThrowBpfError(env, "perf_event_open", err, d);
  }
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_perf_event_opts(prog, pfd, &opts);
  int err = link == nullptr ? -errno : 0;
  if (link == nullptr) close(pfd);  // on success the link owns it
  return Finish(env, capture, link, err, "bpf_program__attach_perf_event_opts",
                BpfErrorDetails("attach").Set("target", "perf event").Set("cpu", cpu).Set("pid", pid));
}

}  // namespace

void InitPerfEvent(Napi::Env env, Napi::Object target) {
  target.Set("perfEvent", Napi::Function::New<PerfEvent>(env, "perfEvent"));
}

}  // namespace attach
