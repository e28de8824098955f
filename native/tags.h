// Type tags for wrapped objects: a native function handed a JS object checks its tag before
// unwrapping it, so a foreign `this` or argument (a map where a program is expected, a plain
// object with a borrowed prototype) throws a TypeError instead of being misread.
#pragma once

#include <napi.h>

namespace tags {

constexpr napi_type_tag kProgram = {0x6c62706e6f646501ULL, 0x70726f6772616d00ULL};
constexpr napi_type_tag kLink = {0x6c62706e6f646502ULL, 0x6c696e6b00000000ULL};
constexpr napi_type_tag kPacketSocket = {0x6c62706e6f646503ULL, 0x706b74736f636b00ULL};

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
