// Socket filters: SO_ATTACH_BPF puts a socket_filter program on a socket (it sees every packet
// the socket would receive and returns how many bytes to keep, 0 to drop); SO_DETACH_BPF takes
// it off. The attachment belongs to the socket: it ends when the socket closes, not with us.
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include "../internal/args.h"
#include "../errors.h"
#include "../program.h"
#include "attach.h"

namespace attach {
namespace {

int SocketArg(const Napi::CallbackInfo& info, size_t i) {
  int fd = args::Int32(info, i, "socket");
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    BpfErrorDetails d("not-a-socket");
    d.Set("fd", fd);
    ThrowBpfError(info.Env(), "setsockopt", fd < 0 || errno == EBADF ? -EBADF : -ENOTSOCK, d);
  }
  return fd;
}

// JS: attach.socket(program, fd). Any program fd works, a reopened pin included.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int progFd = ProgramWrap::FromValue(env, args::At(info, 0), "program")->Fd(env, "attach a socket filter");
  int fd = SocketArg(info, 1);
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof(progFd)) != 0) {
    int err = -errno;
    BpfErrorDetails d("socket-attach");
    d.Set("fd", fd);
    ThrowBpfError(env, "setsockopt", err, d);
  }
  return env.Undefined();
}

// JS: attach.socketDetach(fd) -> whether a filter was attached.
Napi::Value SocketDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = SocketArg(info, 0);
  int dummy = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &dummy, sizeof(dummy)) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    int err = -errno;
    ThrowBpfError(env, "setsockopt", err, BpfErrorDetails("socket-detach").Set("fd", fd));
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object target) {
  target.Set("socket", Napi::Function::New<Socket>(env, "socket"));
  target.Set("socketDetach", Napi::Function::New<SocketDetach>(env, "socketDetach"));
}

}  // namespace attach
