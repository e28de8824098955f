// Per-instance state of the addon. Node can load the addon once per worker thread, so nothing
// here is global: every wrapper reaches its Addon through env.GetInstanceData<Addon>().
//
// The Addon holds the registry of the owner graph's roots (native/README.md): every handle that
// is not the child of another. Environment teardown walks it (Teardown).
#pragma once

#include <napi.h>

#include "internal/handle.h"

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

  // The roots of the owner graph: BPF objects, standalone maps and programs, links, readers,
  // packet sockets, and the plain fds below.
  HandleList roots;

  // Plain fds this addon opened and handed to JS by number, with what they are: the flocks of
  // tryLock(), the readable fds of iterators (bpf_iter_create) and run-time statistics requests
  // (bpf_enable_stats). Each is a root handle, closed
  // by the call made for its kind (unlock(), iterClose()), which refuses any other number —
  // closing an fd we were not given would break its owner — or by environment teardown (a
  // worker's end releases its locks, iterator reads and statistics requests, and with them the
  // programs the iterators hold).
  enum class FdKind { kLock, kIter, kStats };
  // Registers `fd` (acquire-then-register: call it right after the fd is opened, before
  // anything can throw); on failure closes it and returns false.
  bool RegisterFd(int fd, FdKind kind) noexcept;
  // Closes `fd` if this addon handed it out as `kind`; false (nothing closed) otherwise.
  bool CloseFd(int fd, FdKind kind) noexcept;

  // libuv handles still closing (a reader's poll and timer): environment teardown waits for them,
  // since their close callbacks are ours.
  void UvCloseBegins() { uvClosing++; }
  void UvCloseEnded();

  // Registers the teardown hook (Init).
  void WatchTeardown(Napi::Env env);

  static Addon* Get(Napi::Env env) { return env.GetInstanceData<Addon>(); }

 private:
  // Environment teardown: closes every root (Handle::Cause::kTeardown), then lets Node go on once
  // no libuv handle of ours is still closing.
  static void Teardown(napi_async_cleanup_hook_handle hook, void* arg);
  void FinishTeardownIfDone();

  int uvClosing = 0;
  napi_async_cleanup_hook_handle teardownHook = nullptr;
  bool tearingDown = false;
};
