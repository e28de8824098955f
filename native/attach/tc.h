// tc attachment of sched_cls programs to an interface's ingress or egress:
//  - tcx (kernel 6.6+): a bpf_link (BPF_TCX_INGRESS/EGRESS), gone when its last fd closes unless pinned;
//  - the legacy way: a clsact qdisc plus a cls_bpf filter in direct-action mode, made through
//    netlink (bpf_tc_hook_create + bpf_tc_attach); it stays until detached.
// Every call enters the interface's network namespace first (see netns.h).
#pragma once

#include <napi.h>

namespace tc {

void Init(Napi::Env env, Napi::Object exports);

// JS: tcxAttach(program, iface, direction) -> NativeLink
Napi::Value JS_tcxAttach(const Napi::CallbackInfo& info);
// JS: tcxQuery(iface, direction) -> { revision: bigint, programs: [{ id, name, linkId }] }
Napi::Value JS_tcxQuery(const Napi::CallbackInfo& info);
// JS: tcFilterAttach(program, iface, direction, { handle, priority, replace }) -> { ifindex, handle, priority, progId, hookCreated }
Napi::Value JS_filterAttach(const Napi::CallbackInfo& info);
// JS: tcFilterDetach(iface, direction, handle, priority) -> boolean (false: not there any more)
Napi::Value JS_filterDetach(const Napi::CallbackInfo& info);
// JS: tcFilterQuery(iface, direction, handle, priority) -> progId or null
Napi::Value JS_filterQuery(const Napi::CallbackInfo& info);
// JS: tcFilterList(iface, direction) -> { ifindex, filters: [{ handle, priority, progId, name, section, directAction }] }: every
// cls_bpf filter on the clsact hook (an RTM_GETTFILTER dump; bpf_tc_query needs handle and priority).
Napi::Value JS_filterList(const Napi::CallbackInfo& info);

}  // namespace tc
