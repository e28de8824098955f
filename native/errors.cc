#include "errors.h"

#include <cstdlib>

#include "addon.h"
#include "internal/netns.h"

Napi::Value MakeBpfError(Napi::Env env, const std::string& op, int err,
                         const BpfErrorDetails& details) {
  // A boundary: the factory is JavaScript, which runs in the caller's namespace, never in one a
  // NetnsScope entered (the scope stays left; the caller throws what this returns).
  NetnsScope::LeaveBeforeJs();
  int errnum = std::abs(err);
  Addon* addon = Addon::Get(env);
  Napi::Object extra = Napi::Object::New(env);
  if (!details.program.empty()) extra.Set("program", details.program);
  if (!details.verifierLog.empty()) extra.Set("log", details.verifierLog);
  if (!details.detail.empty()) extra.Set("detail", details.detail);
  if (!details.libbpfLog.empty()) {
    Napi::Array lines = Napi::Array::New(env, details.libbpfLog.size());
    for (size_t i = 0; i < details.libbpfLog.size(); i++) lines.Set(static_cast<uint32_t>(i), details.libbpfLog[i]);
    extra.Set("libbpfLog", lines);
  }
  if (addon == nullptr || addon->errorFactory.IsEmpty()) {
    // Only reachable if the binding is used without lib/internal/native.ts; still a useful error.
    Napi::Error e = Napi::Error::New(env, op + " failed: errno " + std::to_string(errnum));
    e.Set("errno", Napi::Number::New(env, errnum));
    e.Set("op", op);
    return e.Value();
  }
  return addon->errorFactory.Call({Napi::String::New(env, op), Napi::Number::New(env, errnum), extra});
}

void ThrowBpfError(Napi::Env env, const std::string& op, int err, const BpfErrorDetails& details) {
  throw Napi::Error(env, MakeBpfError(env, op, err, details));
}

void ThrowStateError(Napi::Env env, const std::string& message) {
  NetnsScope::LeaveBeforeJs();
  Addon* addon = Addon::Get(env);
  if (addon == nullptr || addon->stateErrorFactory.IsEmpty()) throw Napi::Error::New(env, message);
  throw Napi::Error(env, addon->stateErrorFactory.Call({Napi::String::New(env, message)}));
}
