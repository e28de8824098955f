// The owner graph's mechanics: see handle.h and native/README.md.
#include "handle.h"

#include "../addon.h"

Handle::~Handle() {
  // Children outlive a parent only when a destructor order we do not control (the environment's
  // last finalizers) destroys the parent first: they are closed already; forget them.
  while (Handle* c = children_.head_) c->Unlink();
  Unlink();
}

void Handle::Close(Cause cause, Napi::Env* env) noexcept {
  if (closed_) return;
  closed_ = true;
  while (Handle* c = children_.head_) {  // newest first: children are pushed at the front
    c->Unlink();
    c->closedState_ = ClosedState();
    c->Close(Cause::kParent, env);
  }
  Release(cause, env);
  Unlink();
}

void Handle::RegisterRoot(Addon* addon) noexcept { Link(&addon->roots); }

void Handle::RegisterChild(Handle* parent) noexcept { Link(&parent->children_); }

void Handle::Link(HandleList* list) noexcept {
  Unlink();
  list_ = list;
  next_ = list->head_;
  prev_ = nullptr;
  if (next_ != nullptr) next_->prev_ = this;
  list->head_ = this;
}

void Handle::Unlink() noexcept {
  if (list_ == nullptr) return;
  if (prev_ != nullptr) prev_->next_ = next_;
  else list_->head_ = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  list_ = nullptr;
  prev_ = next_ = nullptr;
}
