/**
 * Explicit attach calls, one module per kind of hook: what a C loader does with
 * `bpf_program__attach_*` when the section name alone does not say where.
 *
 * @module
 */
export { attachUprobe, type UprobeOptions } from './uprobe';
export { attachUsdt, type UsdtOptions } from './usdt';
export { attachKprobe, attachKprobeMulti, type KprobeOptions, type KprobeMultiOptions } from './kprobe';
export { attachTracepoint, attachRawTracepoint } from './tracepoint';
export { attachTrace, attachLsm } from './trampoline';
export { attachPerfEvent, PerfEventLinks, PERF_EVENTS, onlineCpus, type PerfEventName, type PerfEventOptions } from './perf-event';
export { attachSocket, detachSocket, type SocketRef } from './socket';
export { attachCgroup, attachCgroupLegacy, CgroupAttachment, type CgroupAttachMode, type CgroupLegacyOptions } from './cgroup';
export { attachIter, IterLink, type IterOptions } from './iter';
