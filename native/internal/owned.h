// The tie between a program or map wrapper and the BpfObjectWrap that owns its libbpf struct.
// Such a wrapper is a child handle of its object in the owner graph (handle.h): the object's
// close closes it. It also holds a strong reference to the object's JS value, so the object is
// never finalized before its children, and checks the object's phase before every use (the
// libbpf struct is freed by close(); programs and maps are usable only once loaded).
// A wrapper of no object (a standalone map or program) is a root instead.
#pragma once

#include <napi.h>

#include "../errors.h"
#include "handle.h"
#include "../object.h"

class ObjectOwned : public Handle {
 public:
  BpfObjectWrap* owner() const { return owner_; }

 protected:
  // A child of `owner`; cannot throw once the reference is made.
  void Bind(BpfObjectWrap* owner) {
    ownerRef_ = Napi::Persistent(owner->Value());
    owner_ = owner;
    RegisterChild(owner);
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
