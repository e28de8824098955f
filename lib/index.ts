/// <reference types="node" preserve="true" />
/**
 * libbpf-node: load and drive eBPF programs from Node.js through libbpf.
 *
 * @example
 * ```ts
 * import { BpfObject } from 'libbpf-node';
 * using obj = BpfObject.open('./xdp_count.bpf.o');
 * await obj.load();
 * ```
 * @module libbpf-node
 */
export { BpfObject, type BpfObjectState, type OpenOptions, type LoadOptions, type VerifierStats } from './object';
export { BpfProgram } from './program';
export { enableRunStats, RunStats } from './run-stats';
export { BpfLink, type LinkInfo } from './link';
export * from './attach/index';
export { attachXdp, queryXdp, detachXdp, XdpLink, XdpAttachment, type XdpMode, type XdpAttachOptions, type XdpDetachOptions, type XdpQueryResult, type XdpProgramRef } from './attach/xdp';
export { attachTc, queryTc, TcxLink, TcFilter, type TcAttachment, type TcAttachOptions, type TcDirection, type TcQueryResult, type TcFilterInfo } from './attach/tc';
export { actionName, type TestRunOptions, type TestRunResult } from './test-run';
export type { InterfaceRef, InterfaceOptions } from './internal/iface';
export { BpfMap, MappedArray, MappedNumbers, type CreateMapOptions, type TypedArray, type TypedArrayClass, type MapKernelInfo, type UpdateFlag, type SetOptions, type MapCodecs } from './map/map';
export { sumPerCpu, type RawInput, type RawOutput, type HasFd } from './map/codecs';
export { cidrKey, parseCidr, type Cidr } from './map/cidr';
export { RingBuffer } from './events/ringbuf';
export { PerfBuffer, type PerfBufferOptions } from './events/perfbuf';
export { RecordBatch, type EventReaderOptions, type RecordCallback } from './events/queue';
export { Globals } from './globals';
export { BpfError, BpfVerifierError, BpfStateError, BpfFeatureError, errnoName, verifierSummary, type BpfErrorDetails } from './errors';
export {
  features,
  FEATURES,
  kernelVersion,
  kernelAtLeast,
  parseKernelVersion,
  requireFeature,
  hasFeature,
  featureAnswer,
  type FeatureAnswer,
  type FeatureListEntry,
  type FeatureName,
  type FeatureSpec,
  type KernelVersion,
} from './features';
export { setLogger, libbpfVersion, type Logger, type LogLevel } from './log';
export { shippedObjectPath, shippedObjects, shippedObjectDir, type ShippedObject } from './shipped';
export { bpfCflags, bpfIncludeDirs } from './cflags';
export { Btf, BtfParseError } from './btf/btf';
export type * from './btf/btf';
export { codecFromBtf, describeBtfType, u8, u16, u32, u64, i8, i16, i32, i64, bool, f32, f64, bytes, ipv4, ipv6, struct, type Codec, type AlignedCodec, type StructOptions, type StructValue, type StructInput, type BtfCodecOptions } from './btf/codec';
export type { NativeProgramKernelInfo as ProgramKernelInfo } from './internal/native';
export {
  RootArray,
  rootArrayDir,
  DEFAULT_PIN_BASE,
  DEFAULT_SLOTS,
  MAX_SLOTS,
  type RootArrayLocation,
  type RootArrayAttachOptions,
  type RootArrayCleanupOptions,
  type RootCondition,
  type RootEntry,
  type SlotLoadOptions,
} from './rootarray/root-array';
export { formatStatus, formatNoRoot, statusToJson, type RootStatus, type SlotStatus, type SlotStats, type RootStats } from './rootarray/status';
export { Capture, CAPTURE_ACTIONS, MAX_SNAPLEN, type CaptureAction, type CaptureFilter, type CaptureOptions, type CapturedFrame, type CaptureStatus } from './rootarray/capture';
export { PcapngWriter, pcapngSectionHeader, pcapngInterfaceBlock, pcapngPacketBlock, LINKTYPE_ETHERNET, type PcapngInterface, type PcapngPacket } from './pcapng';
