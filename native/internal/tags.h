// Type tags for wrapped objects: a native function handed a JS object checks its tag before
// unwrapping it, so a foreign `this` or argument (a map where a program is expected, a plain
// object with a borrowed prototype) throws a TypeError instead of being misread.
//
// Every wrapped class derives from TaggedWrap<T>: its constructor tags the new object, and its
// Unwrap (which node-addon-api calls as T::Unwrap before every instance method) refuses an
// object without T's tag. Without it, `NativeMap.prototype.info.call(aNativeProgram)` would
// reinterpret a ProgramWrap as a MapWrap.
#pragma once

#include <napi.h>

#include <string>

namespace tags {

inline constexpr napi_type_tag kProgram = {0x6c62706e6f646501ULL, 0x70726f6772616d00ULL};
inline constexpr napi_type_tag kLink = {0x6c62706e6f646502ULL, 0x6c696e6b00000000ULL};
inline constexpr napi_type_tag kPacketSocket = {0x6c62706e6f646503ULL, 0x706b74736f636b00ULL};
inline constexpr napi_type_tag kObject = {0x6c62706e6f646504ULL, 0x6f626a6563740000ULL};
inline constexpr napi_type_tag kMap = {0x6c62706e6f646505ULL, 0x6d61700000000000ULL};
inline constexpr napi_type_tag kRingBuf = {0x6c62706e6f646506ULL, 0x72696e6762756600ULL};
inline constexpr napi_type_tag kPerfBuf = {0x6c62706e6f646507ULL, 0x7065726662756600ULL};

inline void Set(Napi::Object obj, const napi_type_tag& tag) {
  napi_status s = napi_type_tag_object(obj.Env(), obj, &tag);
  NAPI_THROW_IF_FAILED_VOID(obj.Env(), s);
}

inline bool Has(Napi::Value v, const napi_type_tag& tag) {
  if (!v.IsObject()) return false;
  bool result = false;
  napi_status s = napi_check_object_type_tag(v.Env(), v, &tag, &result);
  return s == napi_ok && result;
}

}  // namespace tags

// Base of every wrapped class T, which declares `static constexpr const napi_type_tag& kTag` and
// `static constexpr const char* kClassName`.
template <typename T>
class TaggedWrap : public Napi::ObjectWrap<T> {
 public:
  explicit TaggedWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {
    tags::Set(info.This().As<Napi::Object>(), T::kTag);
  }

  // Hides ObjectWrap<T>::Unwrap: a `this` (or argument) that is not a T throws a TypeError.
  static T* Unwrap(Napi::Object obj) {
    if (!tags::Has(obj, T::kTag)) {
      throw Napi::TypeError::New(obj.Env(), std::string("'this' is not a ") + T::kClassName + " (a method was called on a foreign object)");
    }
    return Napi::ObjectWrap<T>::Unwrap(obj);
  }
};
