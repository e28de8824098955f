// BpfLinkWrap: one BPF link, the kernel object that keeps a program attached to a hook.
//
// Either a libbpf `struct bpf_link` (auto-attach from the section name, a pinned link reopened
// with bpf_link__open) or a raw link fd made here with bpf_link_create (XDP with mode flags, tcx).
// Closing the last fd of a link detaches it unless the link is pinned. The finalizer only closes
// the fd; detach() asks the kernel to detach even a pinned link.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include "internal/handle.h"
#include "internal/tags.h"

#include <string>

struct Addon;

class BpfLinkWrap : public TaggedWrap<BpfLinkWrap>, public Handle {
 public:
  static constexpr const napi_type_tag& kTag = tags::kLink;
  static constexpr const char* kClassName = "NativeLink";

 public:
  static void Init(Napi::Env env, Napi::Object exports, Addon* addon);
  // Takes ownership of a libbpf link / of a link fd.
  static Napi::Object New(Napi::Env env, struct bpf_link* link);
  static Napi::Object NewFromFd(Napi::Env env, int fd);

  explicit BpfLinkWrap(const Napi::CallbackInfo& info);
  ~BpfLinkWrap() override;

  const char* Kind() const override { return "link"; }

 protected:
  // Handle: releases our fd (libbpf's link or our own), which detaches an unpinned link.
  void Release(Cause cause, Napi::Env* env) noexcept override;
  const char* OwnClosedState() const override { return "link-closed"; }

 private:
  // Static: BpfLink.openPinned(path).
  static Napi::Value JS_openPinned(const Napi::CallbackInfo& info);
  // Description.
  Napi::Value JS_fd(const Napi::CallbackInfo& info);
  Napi::Value JS_info(const Napi::CallbackInfo& info);
  Napi::Value JS_pinPath(const Napi::CallbackInfo& info);
  // Pinning: the link stays in the kernel while pinned.
  Napi::Value JS_pin(const Napi::CallbackInfo& info);
  Napi::Value JS_unpin(const Napi::CallbackInfo& info);
  // Swap the program atomically (BPF_LINK_UPDATE).
  Napi::Value JS_update(const Napi::CallbackInfo& info);
  // Ending: detach (kernel-side, even if pinned) or only close our fd.
  Napi::Value JS_detach(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_closed(const Napi::CallbackInfo& info);

  int Fd(Napi::Env env, const char* what) const;

  struct bpf_link* link_ = nullptr;  // set when libbpf made the link
  int fd_ = -1;                      // set when we made it with bpf_link_create
  std::string pinPath_;              // where pin() put it (raw fd links)
};
