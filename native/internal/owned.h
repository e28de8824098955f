// The tie between a program or map wrapper and the BpfObjectWrap that owns its libbpf struct:
// a strong reference (the object outlives the wrapper) plus a check before every use (the
// libbpf struct is freed by close()).
#pragma once

#include <napi.h>

#include "../errors.h"
#include "../object.h"

class ObjectOwned {
 public:
  BpfObjectWrap* owner() const { return owner_; }

 protected:
  void Bind(BpfObjectWrap* owner) {
    owner_ = owner;
    ownerRef_ = Napi::Persistent(owner->Value());
  }
  // Throws unless the wrapper was made by its object (not `new`ed from JS).
  void CheckBound(Napi::Env env) const {
    if (owner_ == nullptr) throw Napi::TypeError::New(env, "this handle was not created by a BPF object");
  }
  // Throws unless the owning object is open and not being loaded.
  void CheckUsable(Napi::Env env, const char* what) const {
    CheckBound(env);
    owner_->CheckUsable(env, what);
  }
  void CheckConfigurable(Napi::Env env, const char* what) const {
    CheckBound(env);
    owner_->CheckConfigurable(env, what);
  }
  void CheckLoaded(Napi::Env env, const char* what) const {
    CheckUsable(env, what);
    if (owner_->IsFailed()) ThrowStateError(env, what, "object-load-failed");
    if (!owner_->IsLoaded()) ThrowStateError(env, what, "object-not-loaded");
  }

  BpfObjectWrap* owner_ = nullptr;
  Napi::ObjectReference ownerRef_;
};
