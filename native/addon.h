// Per-instance state of the addon. Node can load the addon once per worker thread, so nothing
// here is global: every wrapper reaches its Addon through env.GetInstanceData<Addon>().
#pragma once

#include <napi.h>
#include <unordered_set>

class BpfObjectWrap;
class MapWrap;

struct Addon {
  // Constructors of the wrapped classes, for creating instances from C++.
  Napi::FunctionReference objectCtor;
  Napi::FunctionReference programCtor;
  Napi::FunctionReference mapCtor;
  Napi::FunctionReference linkCtor;
  Napi::FunctionReference packetSocketCtor;

  // JS hooks registered by lib/internal/native.ts: the error factories (see errors.h) and the libbpf logger.
  Napi::FunctionReference errorFactory;
  Napi::FunctionReference stateErrorFactory;
  Napi::FunctionReference logger;

  // Live BPF objects, closed by the environment cleanup hook if JS never closed them.
  std::unordered_set<BpfObjectWrap*> liveObjects;
  // Live standalone maps (opened from a pin or an id), whose fds are closed the same way.
  std::unordered_set<MapWrap*> liveMaps;

  // fds of the flocks tryLock() handed out: unlock() closes only these, never an fd it was not given.
  std::unordered_set<int> lockFds;

  static Addon* Get(Napi::Env env) { return env.GetInstanceData<Addon>(); }
};
