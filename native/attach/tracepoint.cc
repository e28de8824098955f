// Tracepoints (bpf_program__attach_tracepoint_opts: a category and a name, through tracefs and
// perf) and raw tracepoints (bpf_program__attach_raw_tracepoint: a name, no tracefs needed).
#include <cerrno>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.tracepoint(program, { category, name, cookie? })
Napi::Value Tracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string category = OptString(o, "category");
  std::string name = OptString(o, "name");
  if (category.empty() || name.empty()) throw Napi::TypeError::New(env, "options.category and options.name are required");
  LIBBPF_OPTS(bpf_tracepoint_opts, opts);
  opts.bpf_cookie = OptU64(o, "cookie");
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a tracepoint");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_tracepoint_opts(prog, category.c_str(), name.c_str(), &opts);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_tracepoint_opts",
                BpfErrorDetails("attach").Set("target", "tracepoint").Set("category", category).Set("name", name));
}

// JS: attach.rawTracepoint(program, { name, cookie? })
Napi::Value RawTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string name = OptString(o, "name");
  if (name.empty()) throw Napi::TypeError::New(env, "options.name is required");
  LIBBPF_OPTS(bpf_raw_tracepoint_opts, opts);
  opts.cookie = OptU64(o, "cookie");
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a raw tracepoint");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_raw_tracepoint_opts(prog, name.c_str(), &opts);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_raw_tracepoint_opts",
                BpfErrorDetails("attach").Set("target", "raw tracepoint").Set("name", name));
}

}  // namespace

void InitTracepoint(Napi::Env env, Napi::Object target) {
  target.Set("tracepoint", Napi::Function::New<Tracepoint>(env, "tracepoint"));
  target.Set("rawTracepoint", Napi::Function::New<RawTracepoint>(env, "rawTracepoint"));
}

}  // namespace attach
