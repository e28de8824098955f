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
export { BpfObject, type BpfObjectState, type OpenOptions } from './object';
export { BpfProgram } from './program';
export { BpfMap } from './map';
export { Globals } from './globals';
export { BpfError, BpfVerifierError, BpfStateError, errnoName, verifierSummary, type BpfErrorDetails } from './errors';
export { setLogger, libbpfVersion, type Logger, type LogLevel } from './log';
export { shippedObjectPath, shippedObjects, shippedObjectDir, type ShippedObject } from './shipped';
export { Btf, BtfParseError } from './btf';
export type * from './btf';
export { codecFromBtf, describeBtfType, type Codec } from './codec';
export type { NativeProgramKernelInfo as ProgramKernelInfo, NativeMapKernelInfo as MapKernelInfo } from './native';
