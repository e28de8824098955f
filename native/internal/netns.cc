#include "netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "../errors.h"

namespace {
// The innermost NetnsScope of this thread.
thread_local NetnsScope* tls_scope = nullptr;

[[noreturn]] void RestoreFailed() {
  // Carrying on would run this thread's later network calls in a test namespace: stop here.
  fprintf(stderr, "libbpf-node: FATAL: could not return to the original network namespace: %s\n", strerror(errno));
  abort();
}
}  // namespace

NetnsScope::NetnsScope(const std::string& path) : outer_(tls_scope) {
  tls_scope = this;
  if (path.empty()) return;
  // /proc/thread-self: the namespace of this thread, which may differ from the process's.
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) {
    error_ = -errno;
    failedOp_ = "open";
    return;
  }
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    error_ = -errno;
    failedOp_ = "open";
    close(original);
    return;
  }
  struct stat a, b;
  if (fstat(original, &a) == 0 && fstat(target, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
    // Already there: nothing to switch or restore.
    close(target);
    close(original);
    return;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    error_ = -errno;
    failedOp_ = "setns";
    close(target);
    close(original);
    return;
  }
  close(target);
  original_ = original;
}

NetnsScope::~NetnsScope() {
  tls_scope = outer_;
  if (original_ < 0) return;
  if (setns(original_, CLONE_NEWNET) != 0) RestoreFailed();
  close(original_);
}

void NetnsScope::LeaveBeforeJs() {
  // The outermost switched scope holds the thread's own namespace; inner ones are forgotten.
  NetnsScope* outermost = nullptr;
  for (NetnsScope* s = tls_scope; s != nullptr; s = s->outer_) {
    if (s->original_ >= 0) outermost = s;
  }
  if (outermost == nullptr) return;
  if (setns(outermost->original_, CLONE_NEWNET) != 0) RestoreFailed();
  for (NetnsScope* s = tls_scope; s != nullptr; s = s->outer_) {
    if (s->original_ >= 0) close(s->original_);
    s->original_ = -1;
  }
}

bool NetnsScope::Inside() {
  for (NetnsScope* s = tls_scope; s != nullptr; s = s->outer_) {
    if (s->original_ >= 0) return true;
  }
  return false;
}

void InterfaceRef::AddTo(BpfErrorDetails& d) const {
  if (name.empty()) d.Set("ifindex", index); else d.Set("iface", name);
  if (!netns.empty()) d.Set("netns", netns);
}

InterfaceRef ParseInterfaceRef(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Value v = args::At(info, i);
  if (!v.IsObject()) throw Napi::TypeError::New(env, "interface must be an object { name | index, netns? }");
  Napi::Object o = v.As<Napi::Object>();
  InterfaceRef ref;
  Napi::Value name = o.Get("name"), index = o.Get("index"), netns = o.Get("netns");
  if (name.IsString()) {
    ref.name = name.As<Napi::String>().Utf8Value();
    if (ref.name.empty() || ref.name.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "interface name must be 1 to 15 characters");
  } else if (index.IsNumber()) {
    double d = index.As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d)))
      throw Napi::RangeError::New(env, "interface index must be a positive integer");
    ref.index = static_cast<int>(d);
  } else {
    throw Napi::TypeError::New(env, "interface needs a name (string) or an index (number)");
  }
  if (netns.IsString()) {
    ref.netns = netns.As<Napi::String>().Utf8Value();
  } else if (!netns.IsUndefined() && !netns.IsNull()) {
    throw Napi::TypeError::New(env, "netns must be a path string");
  }
  return ref;
}

int ResolveIfindex(const InterfaceRef& ref) {
  if (ref.name.empty()) {
    // Check that the index exists here, so that a wrong namespace is reported as such.
    char buf[IF_NAMESIZE];
    if (if_indextoname(ref.index, buf) == nullptr) return errno == ENXIO ? -ENODEV : -errno;
    return ref.index;
  }
  unsigned idx = if_nametoindex(ref.name.c_str());
  if (idx == 0) return errno == ENXIO || errno == 0 ? -ENODEV : -errno;
  return static_cast<int>(idx);
}

void ThrowNetnsError(Napi::Env env, const NetnsScope& scope, const std::string& path) {
  BpfErrorDetails d("netns-enter");
  d.Set("netns", path);
  ThrowBpfError(env, scope.failedOp(), scope.error(), d);
}

int EnterAndResolve(Napi::Env env, const NetnsScope& scope, const InterfaceRef& ref) {
  if (scope.error() != 0) ThrowNetnsError(env, scope, ref.netns);
  int ifindex = ResolveIfindex(ref);
  if (ifindex < 0) {
    BpfErrorDetails d("no-interface");
    ref.AddTo(d);
    ThrowBpfError(env, ref.name.empty() ? "if_indextoname" : "if_nametoindex", ifindex, d);
  }
  return ifindex;
}
