#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"

namespace lock {

Napi::Value JS_tryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = -errno;  // before copying strings, which may change errno
    ThrowBpfError(env, "open", err, BpfErrorDetails("lock").Set("path", path));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowBpfError(env, "flock", -err, BpfErrorDetails("lock").Set("path", path));
  }
  if (!Addon::Get(env)->RegisterFd(fd, Addon::FdKind::kLock)) ThrowBpfError(env, "tryLock", -ENOMEM, BpfErrorDetails("lock").Set("path", path));
  return Napi::Number::New(env, fd);
}

Napi::Value JS_unlock(const Napi::CallbackInfo& info) {
  int fd = args::Int32(info, 0, "fd");
  // Closing the fd releases the lock. Any other number is refused: closing an fd we do not own
  // (a map's, libuv's) would break whoever owns it.
  if (!Addon::Get(info.Env())->CloseFd(fd, Addon::FdKind::kLock)) throw Napi::RangeError::New(info.Env(), "fd is not a lock this environment holds");
  return info.Env().Undefined();
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tryLock", Napi::Function::New<JS_tryLock>(env, "tryLock"));
  exports.Set("unlock", Napi::Function::New<JS_unlock>(env, "unlock"));
}

}  // namespace lock
