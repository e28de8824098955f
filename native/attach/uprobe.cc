// Uprobes: bpf_program__attach_uprobe_opts (a function by name or an offset in a binary or
// library, one process or all, entry or return, with a USDT-style reference counter).
#include <cerrno>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.uprobe(program, { binary, func?, offset?, pid?, retprobe?, refCtrOffset?, cookie? })
Napi::Value Uprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string binary = OptString(o, "binary");
  if (binary.empty()) throw Napi::TypeError::New(env, "options.binary must name a binary or library");
  std::string func = OptString(o, "func");
  uint64_t offset = OptU64(o, "offset");
  int pid = static_cast<int>(OptInt(o, "pid", -1));
  LIBBPF_OPTS(bpf_uprobe_opts, opts);
  opts.retprobe = OptBool(o, "retprobe");
  opts.ref_ctr_offset = OptU64(o, "refCtrOffset");
  opts.bpf_cookie = OptU64(o, "cookie");
  if (!func.empty()) opts.func_name = func.c_str();
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a uprobe");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_uprobe_opts(prog, pid, binary.c_str(), offset, &opts);
  int err = link == nullptr ? -errno : 0;
  BpfErrorDetails d("attach");
  d.Set("target", opts.retprobe ? "uretprobe" : "uprobe").Set("binary", binary);
  if (!func.empty()) d.Set("func", func);
  if (offset != 0) d.Set("offset", static_cast<double>(offset));
  return Finish(env, capture, link, err, "bpf_program__attach_uprobe_opts", d);
}

}  // namespace

void InitUprobe(Napi::Env env, Napi::Object target) {
  target.Set("uprobe", Napi::Function::New<Uprobe>(env, "uprobe"));
}

}  // namespace attach
