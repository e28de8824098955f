// ProgramWrap: one BPF program. Either a `struct bpf_program` of a BpfObjectWrap (the object
// owns it and its fd), or a standalone program reopened from a bpffs pin, which owns its fd:
// close() (or the finalizer) closes it, and the kernel frees the program once nothing else
// holds it (a pin, an attachment, a link).
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "internal/tags.h"

#include <string>

#include "internal/owned.h"

class ProgramWrap : public TaggedWrap<ProgramWrap>, public ObjectOwned {
 public:
  static constexpr const napi_type_tag& kTag = tags::kProgram;
  static constexpr const char* kClassName = "NativeProgram";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);
  static Napi::Object New(Napi::Env env, BpfObjectWrap* owner, struct bpf_program* prog);
  // Takes ownership of `fd`, a loaded program.
  static Napi::Object NewStandalone(Napi::Env env, int fd);
  // The ProgramWrap behind a JS value; TypeError naming `name` for anything else.
  static ProgramWrap* FromValue(Napi::Env env, Napi::Value value, const char* name);

  explicit ProgramWrap(const Napi::CallbackInfo& info);
  ~ProgramWrap() override;

  // The program's fd; throws unless the object is loaded and the program was loaded with it
  // (or, standalone, unless it was closed).
  int Fd(Napi::Env env, const char* what) const;
  // The name, for error messages ("" when unknown).
  std::string Name() const;
  // The loaded libbpf program, for the explicit attach calls (native/attach/); BpfStateError
  // for a program reopened from a pin (no libbpf program) or one that is not loaded.
  struct bpf_program* LibbpfProgram(Napi::Env env, const char* what) const;

 private:
  // Open phase: description and configuration.
  Napi::Value JS_info(const Napi::CallbackInfo& info);
  Napi::Value JS_names(const Napi::CallbackInfo& info);
  Napi::Value JS_setAutoload(const Napi::CallbackInfo& info);
  Napi::Value JS_setType(const Napi::CallbackInfo& info);
  Napi::Value JS_setExpectedAttachType(const Napi::CallbackInfo& info);
  // Loaded phase: what the kernel says about the program.
  Napi::Value JS_kernelInfo(const Napi::CallbackInfo& info);
  // Pinning in bpffs, and reopening a pinned program (static).
  Napi::Value JS_pin(const Napi::CallbackInfo& info);
  Napi::Value JS_unpin(const Napi::CallbackInfo& info);
  static Napi::Value JS_openPinned(const Napi::CallbackInfo& info);
  static Napi::Value JS_openById(const Napi::CallbackInfo& info);
  // libbpf's auto-attach from the section name (object programs only).
  Napi::Value JS_attach(const Napi::CallbackInfo& info);
  // Standalone programs: close the owned fd (idempotent; a no-op for object programs).
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  // JS: closed() -> whether this handle is closed (a standalone program's close(), or its object's).
  Napi::Value JS_closed(const Napi::CallbackInfo& info);

  void CheckObjectProgram(Napi::Env env, const char* what) const;

  const char* Kind() const override { return "program"; }
  // Handle: a standalone program closes its fd; a program of an object holds nothing of its own.
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "program-closed"; }

  // An object's program.
  struct bpf_program* prog_ = nullptr;
  // A standalone program: its fd (-1 once closed).
  bool standalone_ = false;
  int ownFd_ = -1;
};

// The kernel name of the loaded program with this id, or "" when there is none (or no access).
std::string ProgramNameById(__u32 id);
