#include "program.h"

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "kinds.h"

void ProgramWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeProgram", {
      InstanceMethod<&ProgramWrap::JS_info>("info"),
      InstanceMethod<&ProgramWrap::JS_setAutoload>("setAutoload"),
      InstanceMethod<&ProgramWrap::JS_setType>("setType"),
      InstanceMethod<&ProgramWrap::JS_setExpectedAttachType>("setExpectedAttachType"),
      InstanceMethod<&ProgramWrap::JS_kernelInfo>("kernelInfo"),
  });
  addon->programCtor = Napi::Persistent(ctor);
  exports.Set("NativeProgram", ctor);
}

Napi::Object ProgramWrap::New(Napi::Env env, BpfObjectWrap* owner, struct bpf_program* prog) {
  Napi::Object obj = Addon::Get(env)->programCtor.New({});
  ProgramWrap* wrap = Unwrap(obj);
  wrap->Bind(owner);
  wrap->prog_ = prog;
  return obj;
}

ProgramWrap::ProgramWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProgramWrap>(info) {}

int ProgramWrap::Fd(Napi::Env env, const char* what) const {
  CheckLoaded(env, what);
  int fd = bpf_program__fd(prog_);
  if (fd < 0) {
    ThrowStateError(env, std::string("cannot ") + what + ": program '" + bpf_program__name(prog_) +
                                    "' was not loaded (autoload was off)");
  }
  return fd;
}

Napi::Value ProgramWrap::JS_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, "describe a program");
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", bpf_program__name(prog_));
  out.Set("section", bpf_program__section_name(prog_));
  out.Set("type", kinds::ProgType(bpf_program__type(prog_)));
  out.Set("expectedAttachType", kinds::AttachType(bpf_program__expected_attach_type(prog_)));
  out.Set("autoload", bpf_program__autoload(prog_));
  out.Set("fd", bpf_program__fd(prog_));
  out.Set("insnCount", static_cast<double>(bpf_program__insn_cnt(prog_)));
  return out;
}

Napi::Value ProgramWrap::JS_setAutoload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = args::Bool(info, 0, "autoload");
  CheckConfigurable(env, "set autoload");
  int err = bpf_program__set_autoload(prog_, on);
  if (err) ThrowBpfError(env, "bpf_program__set_autoload", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_setType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = args::String(info, 0, "type");
  CheckConfigurable(env, "set the program type");
  int type = kinds::FindProgType(name);
  if (type < 0) throw Napi::RangeError::New(env, "unknown program type '" + name + "'");
  int err = bpf_program__set_type(prog_, static_cast<enum bpf_prog_type>(type));
  if (err) ThrowBpfError(env, "bpf_program__set_type", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_setExpectedAttachType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = args::String(info, 0, "expectedAttachType");
  CheckConfigurable(env, "set the expected attach type");
  int type = kinds::FindAttachType(name);
  if (type < 0) throw Napi::RangeError::New(env, "unknown attach type '" + name + "'");
  int err = bpf_program__set_expected_attach_type(prog_, static_cast<enum bpf_attach_type>(type));
  if (err) ThrowBpfError(env, "bpf_program__set_expected_attach_type", err);
  return env.Undefined();
}

Napi::Value ProgramWrap::JS_kernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read program info");
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  __u32 len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  char tag[2 * BPF_TAG_SIZE + 1];
  for (int i = 0; i < BPF_TAG_SIZE; i++) snprintf(tag + 2 * i, 3, "%02x", pi.tag[i]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", pi.id);
  out.Set("tag", tag);
  out.Set("name", pi.name);
  out.Set("type", kinds::ProgType(static_cast<enum bpf_prog_type>(pi.type)));
  out.Set("jitedSize", pi.jited_prog_len);
  out.Set("xlatedSize", pi.xlated_prog_len);
  out.Set("btfId", pi.btf_id);
  out.Set("loadTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.load_time)));
  return out;
}
