// PacketSocketWrap: an AF_PACKET socket bound to one interface, for sending and capturing raw
// Ethernet frames (the test kit uses it to put crafted frames on a veth).
//
// The socket is created inside the interface's network namespace (setns around socket() and
// bind(), see netns.h) and stays tied to that interface afterwards. send() and receive() run on
// the libuv pool, so a capture waiting for frames never blocks the event loop; receive() waits
// with poll() bounded by its timeout. close() is idempotent; while an operation runs it takes
// effect when the operation ends.
#pragma once

#include <napi.h>

#include "../internal/tags.h"

struct Addon;

class PacketSocketWrap : public TaggedWrap<PacketSocketWrap> {
 public:
  static constexpr const napi_type_tag& kTag = tags::kPacketSocket;
  static constexpr const char* kClassName = "NativePacketSocket";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);

  // JS: new NativePacketSocket(iface)
  explicit PacketSocketWrap(const Napi::CallbackInfo& info);
  ~PacketSocketWrap() override;

 private:
  class SendWorker;
  class ReceiveWorker;

  // JS: send(frames: Buffer[], count, timeoutMs) -> Promise<{ sent }>
  Napi::Value JS_send(const Napi::CallbackInfo& info);
  // JS: receive(timeoutMs, count) -> Promise<{ frames: Buffer[] }>
  Napi::Value JS_receive(const Napi::CallbackInfo& info);
  Napi::Value JS_ifindex(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env, const char* what) const;
  void Done();  // an operation ended: close now if close() came meanwhile

  int fd_ = -1;
  int ifindex_ = 0;
  int busy_ = 0;               // operations running on the pool
  bool closeRequested_ = false;
};
