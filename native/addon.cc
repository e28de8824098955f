// Entry point of the addon: registers the classes and the JS hooks, and closes what JS left
// open when the environment (main thread or worker) goes away.
#include "addon.h"

#include <unistd.h>

#include <new>

#include "internal/args.h"
#include "attach/attach.h"
#include "features.h"
#include "link.h"
#include "rootarray/lock.h"
#include "log.h"
#include "map/map.h"
#include "object.h"
#include "testing/packet_socket.h"
#include "events/perfbuf.h"
#include "program.h"
#include "events/ringbuf.h"
#include "attach/tc.h"
#include "test_run.h"
#include "attach/xdp.h"

namespace {

// A plain fd handed to JS by number (Addon::FdKind): a root handle the registry owns.
class FdHandle : public Handle {
 public:
  FdHandle(int fd, Addon::FdKind kind) : fd_(fd), kind_(kind) {}
  ~FdHandle() override { Close(Cause::kFinalize); }
  bool Is(int fd, Addon::FdKind kind) const { return fd_ == fd && kind_ == kind; }
  const char* Kind() const override { return kNames[static_cast<int>(kind_)]; }
  static constexpr const char* kNames[] = {"lock", "iterator read", "statistics request"};
  using Handle::RegisterRoot;

 protected:
  void Release(Cause, Napi::Env*) noexcept override { close(fd_); }
  const char* OwnClosedState() const override { return "fd-closed"; }

 private:
  int fd_;
  Addon::FdKind kind_;
};

bool IsPlainFd(const Handle* h) {
  const char* k = h->Kind();
  for (const char* name : FdHandle::kNames) {
    if (k == name) return true;
  }
  return false;
}

// The instance data's finalizer: Teardown closed every root before Node lets it run.
void DestroyAddon(Napi::Env, Addon* addon) { delete addon; }

// JS: setErrorFactory((op, errno, details) => BpfError, (message) => BpfStateError)
Napi::Value JS_setErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Value fn = args::At(info, 0);
  Napi::Value state = args::At(info, 1);
  if (!fn.IsFunction() || !state.IsFunction()) throw Napi::TypeError::New(info.Env(), "error factories must be functions");
  Addon::Get(info.Env())->errorFactory = Napi::Persistent(fn.As<Napi::Function>());
  Addon::Get(info.Env())->stateErrorFactory = Napi::Persistent(state.As<Napi::Function>());
  return info.Env().Undefined();
}

// JS: libbpfVersion() -> "1.5"
Napi::Value JS_libbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* addon = new Addon();
  env.SetInstanceData<Addon, DestroyAddon>(addon);
  addon->WatchTeardown(env);
  InstallLibbpfLogHook();
  BpfObjectWrap::Init(env, exports, addon);
  ProgramWrap::Init(env, exports, addon);
  MapWrap::Init(env, exports, addon);
  BpfLinkWrap::Init(env, exports, addon);
  PacketSocketWrap::Init(env, exports, addon);
  xdp::Init(env, exports);
  tc::Init(env, exports);
  test_run::Init(env, exports);
  lock::Init(env, exports);
  features::Init(env, exports);
  RingBufWrap::Init(env, exports, addon);
  PerfBufWrap::Init(env, exports, addon);
  attach::Init(env, exports);
  exports.Set("setErrorFactory", Napi::Function::New<JS_setErrorFactory>(env, "setErrorFactory"));
  exports.Set("setLogger", Napi::Function::New<JS_setLogger>(env, "setLogger"));
  exports.Set("libbpfVersion", Napi::Function::New<JS_libbpfVersion>(env, "libbpfVersion"));
  return exports;
}

}  // namespace

bool Addon::RegisterFd(int fd, FdKind kind) noexcept {
  auto* h = new (std::nothrow) FdHandle(fd, kind);
  if (h == nullptr) {
    ::close(fd);
    return false;
  }
  h->RegisterRoot(this);
  return true;
}

bool Addon::CloseFd(int fd, FdKind kind) noexcept {
  Handle* found = nullptr;
  roots.ForEach([&](Handle* h) {
    if (found == nullptr && IsPlainFd(h) && static_cast<FdHandle*>(h)->Is(fd, kind)) found = h;
  });
  if (found == nullptr) return false;
  delete static_cast<FdHandle*>(found);  // its destructor closes it
  return true;
}

void Addon::WatchTeardown(Napi::Env env) {
  napi_status s = napi_add_async_cleanup_hook(env, Teardown, this, &teardownHook);
  NAPI_THROW_IF_FAILED_VOID(env, s);
}

void Addon::Teardown(napi_async_cleanup_hook_handle, void* arg) {
  auto* addon = static_cast<Addon*>(arg);
  addon->tearingDown = true;
  // Close every root, newest first; the registry owns the plain fds' handles.
  while (Handle* h = addon->roots.Front()) {
    if (IsPlainFd(h)) {
      delete static_cast<FdHandle*>(h);
    } else {
      h->Close(Handle::Cause::kTeardown);
    }
  }
  addon->FinishTeardownIfDone();
}

void Addon::UvCloseEnded() {
  uvClosing--;
  FinishTeardownIfDone();
}

void Addon::FinishTeardownIfDone() {
  if (!tearingDown || uvClosing > 0 || teardownHook == nullptr) return;
  napi_async_cleanup_hook_handle hook = teardownHook;
  teardownHook = nullptr;
  napi_remove_async_cleanup_hook(hook);
}

NODE_API_MODULE(bpf_node, Init)
