#include "errors.h"

#include <cstdlib>

#include "addon.h"
#include "internal/netns.h"

namespace {

// The context object lib/errors.ts reads: { what, <strings>, <numbers>, attached? }.
Napi::Object Context(Napi::Env env, const BpfErrorDetails& d) {
  Napi::Object ctx = Napi::Object::New(env);
  if (!d.what.empty()) ctx.Set("what", d.what);
  for (const auto& [key, value] : d.strings) ctx.Set(key, value);
  for (const auto& [key, value] : d.numbers) ctx.Set(key, value);
  if (d.hasAttached) {
    Napi::Array list = Napi::Array::New(env, d.attached.size());
    for (size_t i = 0; i < d.attached.size(); i++) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("id", d.attached[i].id);
      p.Set("name", d.attached[i].name);
      p.Set("mode", d.attached[i].mode);
      list.Set(static_cast<uint32_t>(i), p);
    }
    ctx.Set("attached", list);
  }
  return ctx;
}

}  // namespace

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
  extra.Set("context", Context(env, details));
  if (!details.libbpfLog.empty()) {
    Napi::Array lines = Napi::Array::New(env, details.libbpfLog.size());
    for (size_t i = 0; i < details.libbpfLog.size(); i++) lines.Set(static_cast<uint32_t>(i), details.libbpfLog[i]);
    extra.Set("libbpfLog", lines);
  }
  if (addon == nullptr || addon->errorFactory.IsEmpty()) {
    // Only reachable if the binding is used without lib/internal/native.ts: the facts, unworded.
    Napi::Error e = Napi::Error::New(env, op + " failed: errno " + std::to_string(errnum));
    e.Set("errno", Napi::Number::New(env, errnum));
    e.Set("op", op);
    e.Set("context", extra.Get("context"));
    return e.Value();
  }
  return addon->errorFactory.Call({Napi::String::New(env, op), Napi::Number::New(env, errnum), extra});
}

void ThrowBpfError(Napi::Env env, const std::string& op, int err, const BpfErrorDetails& details) {
  throw Napi::Error(env, MakeBpfError(env, op, err, details));
}

void ThrowStateError(Napi::Env env, const std::string& action, const char* state, const BpfErrorDetails& facts) {
  NetnsScope::LeaveBeforeJs();
  Addon* addon = Addon::Get(env);
  Napi::Object ctx = Context(env, facts);
  if (addon == nullptr || addon->stateErrorFactory.IsEmpty()) {
    Napi::Error e = Napi::Error::New(env, "cannot " + action + ": " + state);
    e.Set("state", state);
    throw e;
  }
  throw Napi::Error(env, addon->stateErrorFactory.Call({Napi::String::New(env, action), Napi::String::New(env, state), ctx}));
}
