// ProgramWrap: one `struct bpf_program` of a BpfObjectWrap.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "owned.h"

class ProgramWrap : public Napi::ObjectWrap<ProgramWrap>, public ObjectOwned {
 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);
  static Napi::Object New(Napi::Env env, BpfObjectWrap* owner, struct bpf_program* prog);

  explicit ProgramWrap(const Napi::CallbackInfo& info);

  // The program's fd; throws unless the object is loaded and the program was loaded with it.
  int Fd(Napi::Env env, const char* what) const;

 private:
  // Open phase: description and configuration.
  Napi::Value JS_info(const Napi::CallbackInfo& info);
  Napi::Value JS_setAutoload(const Napi::CallbackInfo& info);
  Napi::Value JS_setType(const Napi::CallbackInfo& info);
  Napi::Value JS_setExpectedAttachType(const Napi::CallbackInfo& info);
  // Loaded phase: what the kernel says about the program.
  Napi::Value JS_kernelInfo(const Napi::CallbackInfo& info);

  struct bpf_program* prog_ = nullptr;
};
