// Cheap re-checks of arguments arriving from JS. lib/ validates properly and with better messages;
// these exist so that a direct call into the binding with garbage throws instead of crashing.
#pragma once

#include <napi.h>
#include <cstdint>
#include <string>

namespace args {

inline Napi::Value At(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

inline std::string String(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = At(info, i);
  if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline bool Bool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = At(info, i);
  if (!v.IsBoolean()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline uint32_t Uint32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = At(info, i);
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(d);
}

inline int32_t Int32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = At(info, i);
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a 32-bit integer");
  return static_cast<int32_t>(d);
}

// A byte view (Buffer, any TypedArray or DataView). The pointer is valid while the value is alive.
struct Bytes {
  uint8_t* data = nullptr;
  size_t length = 0;
};

inline Bytes ViewOf(Napi::Env env, Napi::Value v, const char* name) {
  Bytes b;
  // The C calls give the data pointer for any backing store: Napi::ArrayBuffer::Data() throws a
  // plain Error for a SharedArrayBuffer. A detached buffer comes back as (nullptr, 0).
  void* data = nullptr;
  size_t length = 0;
  napi_status s = napi_invalid_arg;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t elements = 0;
    s = napi_get_typedarray_info(env, v, &type, &elements, &data, nullptr, nullptr);
    length = v.As<Napi::TypedArray>().ByteLength();
  } else if (v.IsDataView()) {
    s = napi_get_dataview_info(env, v, &length, &data, nullptr, nullptr);
  }
  if (s != napi_ok) throw Napi::TypeError::New(env, std::string(name) + " must be a Buffer or Uint8Array");
  if (data == nullptr) length = 0;
  b.data = static_cast<uint8_t*>(data);
  b.length = length;
  return b;
}

inline Bytes ByteView(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ViewOf(info.Env(), At(info, i), name);
}

}  // namespace args
