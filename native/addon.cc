// Entry point of the addon: registers the classes and the JS hooks, and closes what JS left
// open when the environment (main thread or worker) goes away.
#include "addon.h"

#include <unistd.h>

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

// Environment teardown (main thread exit, worker end): see native/README.md.
void DestroyAddon(Napi::Env, Addon* addon) {
  // A lock held by a worker that ends is released with it, or every later writer would wait;
  // an iterator read it left open would keep its program in the kernel.
  for (const auto& [fd, kind] : addon->ownedFds) close(fd);
  addon->ownedFds.clear();
  for (MapWrap* map : addon->liveMaps) map->CloseWithoutJs();
  for (BpfObjectWrap* obj : addon->liveObjects) {
    obj->CloseNow();
    obj->Detach();
  }
  delete addon;
}

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

NODE_API_MODULE(bpf_node, Init)
