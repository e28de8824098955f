// PacketSocketWrap: an AF_PACKET socket bound to one interface, for sending and capturing raw
// Ethernet frames (the test kit uses it to put crafted frames on a veth).
//
// The socket is created inside the interface's network namespace (setns around socket() and
// bind(), see netns.h) and stays tied to that interface afterwards. send() and receive() run on
// the libuv pool, so a capture waiting for frames never blocks the event loop; receive() waits
// with poll() bounded by its timeout. The socket is a root handle of the owner graph; each
// operation works on its own dup of the fd, so close() (idempotent) closes the socket at once
// and an operation under way ends by its timeout.
#pragma once

#include <napi.h>

#include "../internal/handle.h"
#include "../internal/tags.h"

struct Addon;

class PacketSocketWrap : public TaggedWrap<PacketSocketWrap>, public Handle {
 public:
  static constexpr const napi_type_tag& kTag = tags::kPacketSocket;
  static constexpr const char* kClassName = "NativePacketSocket";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativePacketSocket(iface)
  explicit PacketSocketWrap(const Napi::CallbackInfo& info);
  ~PacketSocketWrap() override;

  const char* Kind() const override { return "packet socket"; }

 protected:
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "packet-socket-closed"; }

 private:
  class SendWorker;
  class ReceiveWorker;

  // JS: send(frames: Buffer[], count, timeoutMs) -> Promise<{ sent }>
  Napi::Value JS_send(const Napi::CallbackInfo& info);
  // JS: receive(timeoutMs, count) -> Promise<{ frames: Buffer[] }>
  Napi::Value JS_receive(const Napi::CallbackInfo& info);
  Napi::Value JS_ifindex(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  // A dup of the socket for one operation (its worker closes it); throws when closed.
  int DupForWork(Napi::Env env, const char* what) const;

  int fd_ = -1;
  int ifindex_ = 0;
};
