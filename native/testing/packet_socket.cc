#include "packet_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../addon.h"
#include "../internal/args.h"
#include "../internal/async.h"
#include "../errors.h"
#include "../internal/netns.h"
#include "../internal/tags.h"

namespace {

constexpr size_t kMaxFrame = 65536;
constexpr size_t kMaxCapture = 100000;

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

void PacketSocketWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativePacketSocket", {
      InstanceMethod<&PacketSocketWrap::JS_send>("send"),
      InstanceMethod<&PacketSocketWrap::JS_receive>("receive"),
      InstanceMethod<&PacketSocketWrap::JS_ifindex>("ifindex"),
      InstanceMethod<&PacketSocketWrap::JS_close>("close"),
  });
  addon->packetSocketCtor = Napi::Persistent(ctor);
  exports.Set("NativePacketSocket", ctor);
}

PacketSocketWrap::PacketSocketWrap(const Napi::CallbackInfo& info) : TaggedWrap<PacketSocketWrap>(info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  // Protocol 0 at socket(): nothing is received until bind() names the interface, so the socket
  // never sees frames of other interfaces.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d("packet-socket");
    ref.AddTo(d);
    ThrowBpfError(env, "socket(AF_PACKET)", err, d);
  }
  int one = 1;
  // Our own sends are not captures (kernel 4.20+; older kernels: filtered in receive()).
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) != 0) {
    int err = -errno;
    close(fd);
    BpfErrorDetails d("packet-socket-bind");
    ref.AddTo(d);
    ThrowBpfError(env, "bind", err, d);
  }
  fd_ = fd;
  ifindex_ = ifindex;
  RegisterRoot(Addon::Get(env));
}

PacketSocketWrap::~PacketSocketWrap() { Close(Cause::kFinalize); }

void PacketSocketWrap::Release(Cause, Napi::Env*) noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

int PacketSocketWrap::DupForWork(Napi::Env env, const char* what) const {
  if (IsClosed()) ThrowStateError(env, what, ClosedState());
  int fd = fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) ThrowBpfError(env, "fcntl(F_DUPFD_CLOEXEC)", -errno);
  return fd;
}

class PacketSocketWrap::SendWorker : public Napi::AsyncWorker {
 public:
  // Takes ownership of `fd`, its own dup of the socket.
  SendWorker(Napi::Env env, int fd, int ifindex, std::vector<std::vector<uint8_t>> frames, uint32_t count, uint32_t timeoutMs)
      : Napi::AsyncWorker(env, "libbpf-node:packetSend"), completion_(env), fd_(fd), ifindex_(ifindex),
        frames_(std::move(frames)), count_(count), timeoutMs_(timeoutMs) {}
  ~SendWorker() override { close(fd_); }
  Napi::Value Promise() { return completion_.Promise(); }

  void Execute() override {
    int64_t deadline = NowMs() + timeoutMs_;
    while (sent_ < count_) {
      const std::vector<uint8_t>& f = frames_[sent_ % frames_.size()];
      if (send(fd_, f.data(), f.size(), 0) < 0) {
        int e = errno;  // before NowMs(), which may change it
        if ((e == ENOBUFS || e == EAGAIN || e == EINTR) && NowMs() < deadline) {
          usleep(100);  // the device queue is full: let it drain
          continue;
        }
        err_ = -e;
        return;
      }
      sent_++;
      if ((sent_ & 255) == 0 && NowMs() >= deadline) return;
    }
  }

  // Also runs during environment teardown: C state first, then Settle, which never throws.
  void OnOK() override {
    int ifindex = ifindex_;
    completion_.Settle([&]() -> Napi::Value {
      Napi::Env env = Env();
      if (err_ != 0) {
        BpfErrorDetails d("packet-send");
        d.Set("ifindex", ifindex).Set("sent", sent_);
        throw Napi::Error(env, MakeBpfError(env, "send", err_, d));
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("sent", sent_);
      return out;
    });
  }

 private:
  Completion completion_;
  // Input.
  int fd_;
  int ifindex_;
  std::vector<std::vector<uint8_t>> frames_;
  uint32_t count_;
  uint32_t timeoutMs_;
  // Output.
  uint32_t sent_ = 0;
  int err_ = 0;
};

class PacketSocketWrap::ReceiveWorker : public Napi::AsyncWorker {
 public:
  // Takes ownership of `fd`, its own dup of the socket.
  ReceiveWorker(Napi::Env env, int fd, uint32_t timeoutMs, uint32_t count)
      : Napi::AsyncWorker(env, "libbpf-node:packetReceive"), completion_(env), fd_(fd), timeoutMs_(timeoutMs), count_(count) {}
  ~ReceiveWorker() override { close(fd_); }
  Napi::Value Promise() { return completion_.Promise(); }

  void Execute() override {
    int64_t deadline = NowMs() + timeoutMs_;
    std::vector<uint8_t> buf(kMaxFrame);
    while (frames_.size() < count_) {
      int64_t left = deadline - NowMs();
      if (left <= 0) return;
      struct pollfd p = {fd_, POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left));
      if (n < 0) {
        if (errno == EINTR) continue;
        err_ = -errno;
        return;
      }
      if (n == 0) return;
      struct sockaddr_ll from;
      socklen_t fromLen = sizeof(from);
      ssize_t len = recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&from), &fromLen);
      if (len < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        err_ = -errno;
        return;
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      frames_.emplace_back(buf.begin(), buf.begin() + len);
    }
  }

  // Also runs during environment teardown: C state first, then Settle, which never throws.
  void OnOK() override {
    completion_.Settle([&]() -> Napi::Value {
      Napi::Env env = Env();
      if (err_ != 0) throw Napi::Error(env, MakeBpfError(env, "recvfrom", err_));
      Napi::Array arr = Napi::Array::New(env, frames_.size());
      for (size_t i = 0; i < frames_.size(); i++) arr.Set(i, Napi::Buffer<uint8_t>::Copy(env, frames_[i].data(), frames_[i].size()));
      Napi::Object out = Napi::Object::New(env);
      out.Set("frames", arr);
      return out;
    });
  }

 private:
  Completion completion_;
  // Input.
  int fd_;
  uint32_t timeoutMs_;
  uint32_t count_;
  // Output.
  std::vector<std::vector<uint8_t>> frames_;
  int err_ = 0;
};

Napi::Value PacketSocketWrap::JS_send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (IsClosed()) ThrowStateError(env, "send", ClosedState());
  Napi::Value fv = args::At(info, 0);
  if (!fv.IsArray()) throw Napi::TypeError::New(env, "frames must be an array of Buffers");
  Napi::Array arr = fv.As<Napi::Array>();
  if (arr.Length() == 0) throw Napi::RangeError::New(env, "frames must not be empty");
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "frames[" + std::to_string(i) + "] must be a Buffer or Uint8Array");
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    const uint8_t* p = static_cast<const uint8_t*>(args::ViewOf(ta.Env(), ta, "bytes").data);
    if (ta.ByteLength() == 0 || ta.ByteLength() > kMaxFrame) throw Napi::RangeError::New(env, "frames[" + std::to_string(i) + "] must hold 1 to 65536 bytes");
    frames.emplace_back(p, p + ta.ByteLength());
  }
  uint32_t count = args::Uint32(info, 1, "count");
  uint32_t timeoutMs = args::Uint32(info, 2, "timeoutMs");
  int fd = DupForWork(env, "send");  // the last step that can throw
  SendWorker* worker;
  try {
    worker = new SendWorker(env, fd, ifindex_, std::move(frames), count, timeoutMs);
  } catch (...) {
    close(fd);
    throw;
  }
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value PacketSocketWrap::JS_receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (IsClosed()) ThrowStateError(env, "receive", ClosedState());
  uint32_t timeoutMs = args::Uint32(info, 0, "timeoutMs");
  uint32_t count = args::Uint32(info, 1, "count");
  if (timeoutMs > 60000) throw Napi::RangeError::New(env, "timeoutMs must be at most 60000");
  if (count > kMaxCapture) count = kMaxCapture;
  int fd = DupForWork(env, "receive");  // the last step that can throw
  ReceiveWorker* worker;
  try {
    worker = new ReceiveWorker(env, fd, timeoutMs, count);
  } catch (...) {
    close(fd);
    throw;
  }
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value PacketSocketWrap::JS_ifindex(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ifindex_);
}

// An operation under way keeps its own dup of the socket and ends by its timeout.
Napi::Value PacketSocketWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Close(Cause::kClose, &env);
  return env.Undefined();
}
