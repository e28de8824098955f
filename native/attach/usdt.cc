// USDT probes: bpf_program__attach_usdt (a provider:name probe point of a binary, for one
// process or all). The program uses <bpf/usdt.bpf.h> to read the probe's arguments.
#include <cerrno>

#include "attach.h"

namespace attach {
namespace {

// JS: attach.usdt(program, { binary, provider, name, pid?, cookie? })
Napi::Value Usdt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = OptionsArg(info, 1);
  std::string binary = OptString(o, "binary");
  std::string provider = OptString(o, "provider");
  std::string name = OptString(o, "name");
  if (binary.empty() || provider.empty() || name.empty()) {
    throw Napi::TypeError::New(env, "options.binary, options.provider and options.name are required");
  }
  int pid = static_cast<int>(OptInt(o, "pid", -1));
  LIBBPF_OPTS(bpf_usdt_opts, opts);
  opts.usdt_cookie = OptU64(o, "cookie");
  // The program last: reading options may run JS (getters) that closes its object.
  struct bpf_program* prog = ProgramArg(info, "attach a USDT probe");
  LogCapture capture;
  struct bpf_link* link = bpf_program__attach_usdt(prog, pid, binary.c_str(), provider.c_str(), name.c_str(), &opts);
  int err = link == nullptr ? -errno : 0;
  return Finish(env, capture, link, err, "bpf_program__attach_usdt",
                BpfErrorDetails("attach").Set("target", "usdt").Set("provider", provider).Set("name", name).Set("binary", binary));
}

}  // namespace

void InitUsdt(Napi::Env env, Napi::Object target) {
  target.Set("usdt", Napi::Function::New<Usdt>(env, "usdt"));
}

}  // namespace attach
