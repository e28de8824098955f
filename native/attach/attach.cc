#include "attach.h"

#include <cmath>

#include "../errors.h"
#include "../link.h"
#include "../program.h"

namespace attach {

void Init(Napi::Env env, Napi::Object exports) {
  Napi::Object target = Napi::Object::New(env);
  InitUprobe(env, target);
  InitUsdt(env, target);
  InitKprobe(env, target);
  InitTracepoint(env, target);
  InitTrampoline(env, target);
  InitPerfEvent(env, target);
  InitSocket(env, target);
  InitCgroup(env, target);
  InitIter(env, target);
  exports.Set("attach", target);
}

struct bpf_program* ProgramArg(const Napi::CallbackInfo& info, const char* what) {
  Napi::Value v = info.Length() > 0 ? info[0] : info.Env().Undefined();
  return ProgramWrap::FromValue(info.Env(), v, "program")->LibbpfProgram(info.Env(), what);
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info.Length() > i ? info[i] : info.Env().Undefined();
  if (v.IsUndefined()) return Napi::Object::New(info.Env());
  if (!v.IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  return v.As<Napi::Object>();
}

std::string OptString(Napi::Object o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

uint64_t OptU64(Napi::Object o, const char* key, uint64_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t n = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must fit in 64 bits");
    return n;
  }
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a number or bigint");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || std::floor(d) != d) {
    throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be a non-negative integer");
  }
  return static_cast<uint64_t>(d);
}

int64_t OptInt(Napi::Object o, const char* key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::floor(d) != d || std::fabs(d) > 2147483647.0) {
    throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be a 32-bit integer");
  }
  return static_cast<int64_t>(d);
}

bool OptBool(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Value Finish(Napi::Env env, LogCapture& capture, struct bpf_link* link, int err, const std::string& op,
                   BpfErrorDetails d) {
  // The link is owned by JS before the logger runs, so a throwing logger cannot leak it.
  Napi::Object wrapped;
  if (link != nullptr) wrapped = BpfLinkWrap::New(env, link);
  capture.Deliver(env);
  if (link == nullptr) {
    d.libbpfLog = capture.WarningLines();
    ThrowBpfError(env, op, err != 0 ? err : -EINVAL, d);
  }
  return wrapped;
}

}  // namespace attach
