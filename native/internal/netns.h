// NetnsScope: run a few calls inside another network namespace, on the calling thread only.
//
// Interfaces, ifindexes, netlink sockets and the ifindex lookups of the bpf() syscall (XDP links,
// tcx links, live-frame test runs) all resolve in the network namespace of the calling thread.
// A NetnsScope switches the calling thread with setns(CLONE_NEWNET) and switches it back when it
// ends, also when the work in between throws. A thread that cannot be switched back would keep
// running every later call in the wrong namespace, so a failed restore aborts the process.
//
// Also here: InterfaceRef, how JS names an interface ({ name } or { index }, plus the netns).
#pragma once

#include "../errors.h"

#include <napi.h>

#include <string>

class NetnsScope {
 public:
  // Enters the namespace at `path` (e.g. /run/netns/<name>); an empty path does nothing.
  // On failure `error()` is the negative errno and the thread is where it was.
  explicit NetnsScope(const std::string& path);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

  // A boundary before any call into JavaScript (the logger, the error factories): returns the
  // calling thread to the namespace it was in before the outermost active scope. The scopes stay
  // left, so a caller must not make namespace-dependent calls after calling into JS (and the
  // entry points do not: they deliver logs and build errors last).
  static void LeaveBeforeJs();
  // Whether this thread is inside an entered scope (for tests of the boundary, and asserts).
  static bool Inside();

  int error() const { return error_; }
  // The operation that failed when error() != 0 ("open" or "setns").
  const char* failedOp() const { return failedOp_; }

 private:
  int original_ = -1;  // fd of the thread's namespace before the switch, -1 when not switched
  NetnsScope* outer_ = nullptr;  // the scope this one is nested in, on this thread
  int error_ = 0;
  const char* failedOp_ = "";
};

// An interface as JS names it: by name or by index, inside a namespace (empty = the caller's).
struct InterfaceRef {
  std::string name;  // empty when given by index
  int index = 0;     // 0 when given by name
  std::string netns; // path of the namespace, empty for the current one

  // Adds the interface as given (iface or ifindex) and the namespace path to an error's facts.
  void AddTo(BpfErrorDetails& d) const;
};

// Reads { name?: string, index?: number, netns?: string } from argument i.
InterfaceRef ParseInterfaceRef(const Napi::CallbackInfo& info, size_t i);

// Resolves the interface inside the current namespace (call it inside a NetnsScope):
// returns its ifindex, or a negative errno (-ENODEV when there is no such interface).
int ResolveIfindex(const InterfaceRef& ref);

// Enters ref.netns and resolves the interface, throwing a BpfError naming both on failure.
// Use as: NetnsScope scope(ref.netns); int ifindex = EnterAndResolve(env, scope, ref);
int EnterAndResolve(Napi::Env env, const NetnsScope& scope, const InterfaceRef& ref);

// Throws the BpfError for a NetnsScope that failed to enter its namespace.
[[noreturn]] void ThrowNetnsError(Napi::Env env, const NetnsScope& scope, const std::string& path);
