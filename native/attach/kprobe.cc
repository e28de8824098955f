// Kprobes: bpf_program__attach_kprobe_opts (one kernel function, entry or return, at an offset,
// with a cookie) and bpf_program__attach_kprobe_multi_opts (many functions by glob or list).
#include <cerrno>
#include <vector>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.kprobe(program, { func, offset?, retprobe?, cookie? })
Napi::Value Kprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string func = OptString(o, "func");
  if (func.empty()) throw Napi::TypeError::New(env, "options.func must name a kernel function");
  LIBBPF_OPTS(bpf_kprobe_opts, opts);
  opts.retprobe = OptBool(o, "retprobe");
  opts.offset = static_cast<size_t>(OptU64(o, "offset"));
  opts.bpf_cookie = OptU64(o, "cookie");
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a kprobe");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_kprobe_opts(prog, func.c_str(), &opts);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_kprobe_opts",
                BpfErrorDetails("attach").Set("target", opts.retprobe ? "kretprobe" : "kprobe").Set("func", func));
}

// JS: attach.kprobeMulti(program, { pattern?, funcs?: string[], cookies?: bigint[], retprobe? })
Napi::Value KprobeMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string pattern = OptString(o, "pattern");
  std::vector<std::string> names;
  std::vector<const char*> syms;
  std::vector<__u64> cookies;
  Napi::Value funcs = o.Get("funcs");
  if (funcs.IsArray()) {
    Napi::Array a = funcs.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsString()) throw Napi::TypeError::New(env, "options.funcs must be strings");
      names.push_back(v.As<Napi::String>().Utf8Value());
    }
  }
  for (const std::string& n : names) syms.push_back(n.c_str());
  Napi::Value cs = o.Get("cookies");
  if (cs.IsArray()) {
    Napi::Array a = cs.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsBigInt()) throw Napi::TypeError::New(env, "options.cookies must be bigints");
      bool lossless = false;
      cookies.push_back(v.As<Napi::BigInt>().Uint64Value(&lossless));
    }
    if (cookies.size() != syms.size()) throw Napi::RangeError::New(env, "options.cookies needs one cookie per function");
  }
  if (pattern.empty() == syms.empty()) throw Napi::TypeError::New(env, "give either options.pattern or options.funcs");
  LIBBPF_OPTS(bpf_kprobe_multi_opts, opts);
  opts.retprobe = OptBool(o, "retprobe");
  if (!syms.empty()) {
    opts.syms = syms.data();
    opts.cnt = syms.size();
    if (!cookies.empty()) opts.cookies = cookies.data();
  }
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a kprobe.multi");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_kprobe_multi_opts(prog, pattern.empty() ? nullptr : pattern.c_str(), &opts);
  int err = link == nullptr ? -errno : 0;
  BpfErrorDetails d("attach");
  d.Set("target", "kprobe.multi");
  if (pattern.empty()) d.Set("functions", syms.size()); else d.Set("pattern", pattern);
  return Finish(env, capture, link, err, "bpf_program__attach_kprobe_multi_opts", d);
}

}  // namespace

void InitKprobe(Napi::Env env, Napi::Object target) {
  target.Set("kprobe", Napi::Function::New<Kprobe>(env, "kprobe"));
  target.Set("kprobeMulti", Napi::Function::New<KprobeMulti>(env, "kprobeMulti"));
}

}  // namespace attach
