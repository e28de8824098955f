#include "test_support.h"

#include <bpf/bpf.h>

#include "args.h"
#include "errors.h"

Napi::Value JS_testRunForTests(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t fd = args::Uint32(info, 0, "progFd");
  uint32_t repeat = args::Uint32(info, 1, "repeat");
  args::Bytes data = args::ByteView(info, 2, "data");
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data, .data_size_in = static_cast<__u32>(data.length),
              .repeat = static_cast<int>(repeat));
  int err = bpf_prog_test_run_opts(static_cast<int>(fd), &opts);
  if (err != 0) ThrowBpfError(env, "bpf_prog_test_run_opts", err);
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", opts.retval);
  out.Set("durationNs", opts.duration);
  return out;
}
