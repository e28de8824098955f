#include "features.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"

namespace features {
namespace {

// Helper names in enum bpf_func_id order, from the UAPI header's own list (the compat form of
// the macro exists in every header version and expands to FN(name), once per helper, in id order).
#define LIBBPF_NODE_HELPER_NAME(x) #x
const char* const kHelperNames[] = {__BPF_FUNC_MAPPER(LIBBPF_NODE_HELPER_NAME)};
#undef LIBBPF_NODE_HELPER_NAME
constexpr int kHelperCount = sizeof(kHelperNames) / sizeof(kHelperNames[0]);

// Upper bounds for walking libbpf's name tables; past the last known value libbpf returns NULL.
constexpr int kMaxEnum = 256;

int ProgramTypeByName(const std::string& name) {
  for (int t = 0; t < kMaxEnum; t++) {
    const char* s = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(t));
    if (s != nullptr && name == s) return t;
  }
  return -1;
}

int MapTypeByName(const std::string& name) {
  for (int t = 0; t < kMaxEnum; t++) {
    const char* s = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(t));
    if (s != nullptr && name == s) return t;
  }
  return -1;
}

int HelperByName(std::string name) {
  if (name.rfind("bpf_", 0) == 0) name = name.substr(4);
  for (int id = 1; id < kHelperCount; id++) {
    if (name == kHelperNames[id]) return id;
  }
  return -1;
}

// libbpf's probes answer 1 (supported), 0 (not), or a negative errno when they could not tell
// (EPERM without privileges). EOPNOTSUPP from the helper probe means the program type itself is
// missing, which is a "no" for the helper.
Napi::Value Answer(Napi::Env env, const char* op, int ret) {
  if (ret == -EOPNOTSUPP) return Napi::Boolean::New(env, false);
  if (ret < 0) ThrowBpfError(env, op, ret);
  return Napi::Boolean::New(env, ret == 1);
}

Napi::Array Names(Napi::Env env, const std::vector<std::string>& names) {
  Napi::Array a = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) a.Set(static_cast<uint32_t>(i), names[i]);
  return a;
}

}  // namespace

Napi::Value JS_probeProgramType(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "program type");
  int type = ProgramTypeByName(name);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown program type '" + name + "'");
  int ret = libbpf_probe_bpf_prog_type(static_cast<enum bpf_prog_type>(type), nullptr);
  return Answer(info.Env(), "libbpf_probe_bpf_prog_type", ret);
}

Napi::Value JS_probeMapType(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "map type");
  int type = MapTypeByName(name);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown map type '" + name + "'");
  int ret = libbpf_probe_bpf_map_type(static_cast<enum bpf_map_type>(type), nullptr);
  return Answer(info.Env(), "libbpf_probe_bpf_map_type", ret);
}

Napi::Value JS_probeHelper(const Napi::CallbackInfo& info) {
  std::string progName = args::String(info, 0, "program type");
  std::string helperName = args::String(info, 1, "helper");
  int type = ProgramTypeByName(progName);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown program type '" + progName + "'");
  int helper = HelperByName(helperName);
  if (helper < 0) throw Napi::TypeError::New(info.Env(), "unknown helper '" + helperName + "'");
  int ret = libbpf_probe_bpf_helper(static_cast<enum bpf_prog_type>(type),
                                    static_cast<enum bpf_func_id>(helper), nullptr);
  return Answer(info.Env(), "libbpf_probe_bpf_helper", ret);
}

Napi::Value JS_featureNames(const Napi::CallbackInfo& info) {
  std::vector<std::string> progs, maps, helpers;
  for (int t = 0; t < kMaxEnum; t++) {
    if (const char* s = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(t))) progs.push_back(s);
    if (const char* s = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(t))) maps.push_back(s);
  }
  for (int id = 1; id < kHelperCount; id++) helpers.push_back(std::string("bpf_") + kHelperNames[id]);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("programTypes", Names(info.Env(), progs));
  out.Set("mapTypes", Names(info.Env(), maps));
  out.Set("helpers", Names(info.Env(), helpers));
  return out;
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probeProgramType", Napi::Function::New<JS_probeProgramType>(env, "probeProgramType"));
  exports.Set("probeMapType", Napi::Function::New<JS_probeMapType>(env, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New<JS_probeHelper>(env, "probeHelper"));
  exports.Set("featureNames", Napi::Function::New<JS_featureNames>(env, "featureNames"));
}

}  // namespace features
