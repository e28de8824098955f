// Handle: a node of the one owner graph (native/README.md). Every native thing that owns or uses
// a kernel resource is a Handle: BPF objects, their programs and maps, standalone maps and
// programs, links, ring/perf buffer readers, packet sockets, a map's bound element functions and
// memory view, and the plain fds handed to JS by number (locks, iterator reads).
//
// A handle is either a root, listed in its Addon's registry, or a child, listed in its parent.
// Close(cause) closes the children first (newest first), then releases the handle's own
// resources, once, and takes it out of its list: a closed handle is in no list. JS close(), the
// finalizer (the wrapper's destructor) and environment teardown (Addon::Teardown walks the
// registry) all end in Close(); they differ only in the cause, which says whether JS may still
// run (only kClose and a kParent coming from it may touch JS values, e.g. detach an ArrayBuffer).
//
// Lists are intrusive (no allocation), so registering cannot throw: acquire-then-register.
#pragma once

#include <napi.h>

class Handle;

// A list of handles: the Addon's roots, or a handle's children.
class HandleList {
 public:
  bool Empty() const { return head_ == nullptr; }
  Handle* Front() const { return head_; }
  // Calls fn(handle) for each handle; fn may close (unlink) the handle it is given.
  template <typename F>
  void ForEach(F fn);

 private:
  friend class Handle;
  Handle* head_ = nullptr;
};

class Handle {
 public:
  enum class Cause {
    kClose,     // JS asked: JS may run (after the C part)
    kParent,    // the parent closed; JS may run only if the parent's cause allowed it
    kFinalize,  // the wrapper is being destroyed (GC, or the environment's last finalizers)
    kTeardown,  // the environment ends: no JS runs any more
  };

  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Closes the children, then this handle's resources; idempotent. `env` is given when JS may
  // still run (a close() from JS); it is passed to the children.
  void Close(Cause cause, Napi::Env* env = nullptr) noexcept;
  bool IsClosed() const { return closed_; }
  // The state code a call on this closed handle reports: its own (e.g. "map-closed"), or the
  // code of the ancestor whose close closed it (e.g. "object-closed").
  const char* ClosedState() const { return closedState_ != nullptr ? closedState_ : OwnClosedState(); }
  // For native/README.md's table and debugging: "object", "map", "link", …
  virtual const char* Kind() const = 0;

 protected:
  Handle() = default;
  // Unlinks the handle and its children. A subclass destructor calls Close(kFinalize) first:
  // Release is virtual and must run while the subclass still exists.
  virtual ~Handle();

  // Lists this handle in the registry of `addon` (a root) or in `parent` (a child). Cannot throw.
  void RegisterRoot(struct Addon* addon) noexcept;
  void RegisterChild(Handle* parent) noexcept;

  // Releases this handle's own resources (its children are closed already). Never throws, never
  // calls into JS except through `env` (present only when JS may run).
  virtual void Release(Cause cause, Napi::Env* env) noexcept = 0;
  virtual const char* OwnClosedState() const = 0;

 private:
  friend class HandleList;
  void Link(HandleList* list) noexcept;
  void Unlink() noexcept;

  HandleList* list_ = nullptr;  // the list this handle is in (registry or parent's children)
  Handle* prev_ = nullptr;
  Handle* next_ = nullptr;
  HandleList children_;
  bool closed_ = false;
  const char* closedState_ = nullptr;  // set when an ancestor's close closed this handle
};

template <typename F>
void HandleList::ForEach(F fn) {
  for (Handle* h = head_; h != nullptr;) {
    Handle* next = h->next_;
    fn(h);
    h = next;
  }
}
