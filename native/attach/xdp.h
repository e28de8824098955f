// XDP attachment to an interface, the two ways the kernel offers:
//  - a bpf_link (BPF_LINK_CREATE, BPF_XDP): detached when the link's last fd closes, unless pinned;
//  - netlink (IFLA_XDP, bpf_xdp_attach): stays until someone detaches it, whatever happens to us.
// And the query of what is attached in each mode (skb, native, hw), whoever attached it.
// Every call enters the interface's network namespace first (see netns.h).
#pragma once

#include <napi.h>

struct Addon;

namespace xdp {

void Init(Napi::Env env, Napi::Object exports);

// JS: xdpAttachLink(program, iface, mode: '' | 'skb' | 'native' | 'hw') -> NativeLink
Napi::Value JS_attachLink(const Napi::CallbackInfo& info);
// JS: xdpAttachNetlink(program, iface, { mode, force, replace?: program }) -> { ifindex, mode }
Napi::Value JS_attachNetlink(const Napi::CallbackInfo& info);
// JS: xdpDetachNetlink(iface, { mode, progId }) -> boolean (false: that program was no longer attached);
// progId 0 detaches whatever netlink attached in that mode.
Napi::Value JS_detachNetlink(const Napi::CallbackInfo& info);
// JS: xdpQuery(iface) -> { ifindex, ifname, attachMode, skb?, native?, hw? }
Napi::Value JS_query(const Napi::CallbackInfo& info);

}  // namespace xdp
