#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace lock {

Napi::Value JS_tryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowBpfError(env, "open", -errno, {"", "", path});
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowBpfError(env, "flock", -err, {"", "", path});
  }
  return Napi::Number::New(env, fd);
}

Napi::Value JS_unlock(const Napi::CallbackInfo& info) {
  int fd = args::Int32(info, 0, "fd");
  if (fd >= 0) close(fd);  // closing the fd releases the lock
  return info.Env().Undefined();
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tryLock", Napi::Function::New<JS_tryLock>(env, "tryLock"));
  exports.Set("unlock", Napi::Function::New<JS_unlock>(env, "unlock"));
}

}  // namespace lock
