// Explicit attach calls, one file per kind of hook (a C loader's bpf_program__attach_* calls):
//
//   uprobe.cc      uprobes and uretprobes on a function or offset of a binary
//   usdt.cc        USDT probe points
//   kprobe.cc      kprobes, kretprobes, kprobe.multi
//   tracepoint.cc  tracepoints and raw tracepoints
//   trampoline.cc  fentry/fexit/fmod_ret and LSM programs (BPF trampolines)
//   perf_event.cc  perf events (opened here) running a program on overflow
//   socket.cc      socket filters (SO_ATTACH_BPF / SO_DETACH_BPF)
//   cgroup.cc      cgroup programs: a link, or the legacy multi-attach
//   iter.cc        iterators: the link with its filter, and reading one (bpf_iter_create)
//
// Each takes the program handle as its first argument and an options object as its last, and
// returns a NativeLink (or, for attachments that are not links, nothing). Validation with good
// messages is in lib/attach/; these re-check cheaply. On failure each throws the BpfError of the
// libbpf call, carrying libbpf's own warnings (its reason) in `libbpfLog`.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "../errors.h"

#include <cstdint>
#include <string>

#include "../log.h"

class ProgramWrap;

namespace attach {

// Registers every attach function on `exports.attach`.
void Init(Napi::Env env, Napi::Object exports);

// One Init per file, called by Init.
void InitUprobe(Napi::Env env, Napi::Object target);
void InitUsdt(Napi::Env env, Napi::Object target);
void InitKprobe(Napi::Env env, Napi::Object target);
void InitTracepoint(Napi::Env env, Napi::Object target);
void InitTrampoline(Napi::Env env, Napi::Object target);
void InitPerfEvent(Napi::Env env, Napi::Object target);
void InitSocket(Napi::Env env, Napi::Object target);
void InitCgroup(Napi::Env env, Napi::Object target);
void InitIter(Napi::Env env, Napi::Object target);

// The libbpf program behind argument 0: a loaded program of an object. Programs reopened from a
// pin have no libbpf program (BpfStateError naming `what`).
struct bpf_program* ProgramArg(const Napi::CallbackInfo& info, const char* what);

// The options object at argument i (an empty object when undefined).
Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i);

// Option readers: absent (undefined) gives the fallback; a wrong type throws TypeError naming it.
std::string OptString(Napi::Object o, const char* key, const std::string& fallback = "");
uint64_t OptU64(Napi::Object o, const char* key, uint64_t fallback = 0);  // number or bigint
int64_t OptInt(Napi::Object o, const char* key, int64_t fallback);
bool OptBool(Napi::Object o, const char* key, bool fallback = false);

// Wraps `link` in a NativeLink, or throws the BpfError for `op` (errno `err`) with the facts `d`
// and libbpf's warnings from `capture`. Delivers the captured log to the JS logger either way.
Napi::Value Finish(Napi::Env env, LogCapture& capture, struct bpf_link* link, int err, const std::string& op,
                   BpfErrorDetails d);

}  // namespace attach
