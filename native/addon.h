// Per-instance state of the addon. Node can load the addon once per worker thread, so nothing
// here is global: every wrapper reaches its Addon through env.GetInstanceData<Addon>().
#pragma once

#include <napi.h>
#include <unistd.h>

#include <unordered_map>
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

  // Plain fds this addon opened and handed to JS by number, with what they are: the flocks of
  // tryLock() and the readable fds of iterators (bpf_iter_create). Each is closed by the call
  // made for its kind (unlock(), iterClose()), which refuses any other number — closing an fd we
  // were not given would break its owner — or by environment teardown (a worker's end releases
  // its locks and iterator reads, and with them the programs the iterators hold).
  enum class FdKind { kLock, kIter };
  std::unordered_map<int, FdKind> ownedFds;
  // Registers `fd` (acquire-then-register: call it right after the fd is opened, before
  // anything can throw); on failure closes it and returns false.
  bool RegisterFd(int fd, FdKind kind) noexcept {
    try {
      ownedFds.emplace(fd, kind);
      return true;
    } catch (...) {
      ::close(fd);
      return false;
    }
  }
  // Closes `fd` if this addon handed it out as `kind`; false (nothing closed) otherwise.
  bool CloseFd(int fd, FdKind kind) noexcept {
    auto it = ownedFds.find(fd);
    if (it == ownedFds.end() || it->second != kind) return false;
    ownedFds.erase(it);
    ::close(fd);
    return true;
  }

  static Addon* Get(Napi::Env env) { return env.GetInstanceData<Addon>(); }
};
