/**
 * The compiled addon (native/), loaded once per thread, with the types of what it exports.
 * Only lib/ uses this module; users go through the classes that wrap it.
 *
 * @internal
 * @module
 */
import { makeBpfError, makeStateError } from '../errors';
import { PACKAGE_ROOT } from './package-root';

export { PACKAGE_ROOT };

/** What `NativeProgram.info()` returns. @internal */
export interface NativeProgramInfo {
  name: string;
  section: string;
  type: string;
  expectedAttachType: string;
  autoload: boolean;
  fd: number;
  insnCount: number;
  /** True for a program reopened from a pin (no object, no section, no expected attach type). */
  standalone?: boolean;
}

/** What `NativeProgram.kernelInfo()` returns. @internal */
export interface NativeProgramKernelInfo {
  id: number;
  tag: string;
  name: string;
  type: string;
  jitedSize: number;
  xlatedSize: number;
  btfId: number;
  loadTimeNs: bigint;
  /** Runs counted while BPF statistics were enabled ({@link enableRunStats}). */
  runCount: bigint;
  /** Run time in nanoseconds counted while BPF statistics were enabled. */
  runTimeNs: bigint;
  mapIds: number[];
  verifiedInsns: number;
}

/** What `NativeMap.info()` returns. @internal */
export interface NativeMapInfo {
  name: string;
  internal: boolean;
  section?: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  fd: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  pinPath?: string;
  pinned: boolean;
  hasInitialValue: boolean;
}

/** What `NativeMap.kernelInfo()` returns. @internal */
export interface NativeMapKernelInfo {
  id: number;
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

/** @internal */
export interface NativeProgram {
  info(): NativeProgramInfo;
  /** [name, section] of an object's program; the kernel's name of a standalone one. */
  names(): [name: string, section: string] | string;
  setAutoload(on: boolean): void;
  setType(type: string): void;
  setExpectedAttachType(type: string): void;
  kernelInfo(): NativeProgramKernelInfo;
  pin(path: string): void;
  unpin(path: string): void;
  attach(): NativeLink;
  close(): void;
  /** Whether the handle is closed (a standalone program's close(), or its object's); the one record of it. */
  closed(): boolean;
}

/** What `NativeLink.info()` returns. @internal */
export interface NativeLinkInfo {
  id: number;
  progId: number;
  type: string;
  ifindex?: number;
  attachType?: string;
}

/** @internal */
export interface NativeLink {
  fd(): number;
  info(): NativeLinkInfo;
  pinPath(): string | null;
  pin(path: string): void;
  unpin(): void;
  update(program: NativeProgram, expected?: NativeProgram): void;
  detach(): void;
  close(): void;
  /** Whether the handle is closed (close() or detach()); the one record of it. */
  closed(): boolean;
}

/** An interface as the native side takes it. @internal */
export interface NativeInterface {
  name?: string;
  index?: number;
  netns?: string;
}

/** @internal */
export interface NativeXdpProgramRef {
  id: number;
  name: string;
}

/** What `xdpQuery()` returns. @internal */
export interface NativeXdpQuery {
  ifindex: number;
  ifname: string;
  attachMode: 'none' | 'native' | 'skb' | 'hw' | 'multi' | 'unknown';
  native?: NativeXdpProgramRef;
  skb?: NativeXdpProgramRef;
  hw?: NativeXdpProgramRef;
}

/** What `tcxQuery()` returns. @internal */
export interface NativeTcxQuery {
  ifindex: number;
  revision: bigint;
  programs: Array<{ id: number; name: string; linkId?: number }>;
}

/** Options of `testRun()`. @internal */
export interface NativeTestRunOptions {
  data?: Uint8Array;
  ctx?: Uint8Array;
  repeat?: number;
  dataOutSize?: number;
  ctxOutSize?: number;
  /** Syscall programs: no ctx_out; the kernel writes the context back into ctx_in. */
  ctxInOut?: boolean;
  live?: boolean;
  batchSize?: number;
  ingress?: NativeInterface;
}

/** What `testRun()` returns. @internal */
export interface NativeTestRunResult {
  retval: number;
  durationNs: number;
  elapsedNs: number;
  data: Buffer;
  ctx?: Buffer;
}

/** @internal */
export interface NativePacketSocket {
  send(frames: Uint8Array[], count: number, timeoutMs: number): Promise<{ sent: number }>;
  receive(timeoutMs: number, count: number): Promise<{ frames: Buffer[] }>;
  ifindex(): number;
  close(): void;
}

/** @internal */
export interface NativeMap {
  info(): NativeMapInfo;
  setMaxEntries(n: number): void;
  setKeySize(n: number): void;
  setValueSize(n: number): void;
  setFlags(n: number): void;
  setPinPath(path: string | null): void;
  setAutocreate(on: boolean): void;
  kernelInfo(): NativeMapKernelInfo;
  readValue(offset: number, length: number): Buffer;
  writeValue(offset: number, bytes: Uint8Array): void;
  reuseFd(fd: number): void;
  btf(): Buffer | null;
  fd(): number;
  bindOps(): NativeMapOps;
  lookupBatch(
    andDelete: boolean,
    inToken: Uint8Array | null,
    outToken: Uint8Array,
    keys: Uint8Array,
    values: Uint8Array,
    count: number,
    elemFlags: number,
  ): { count: number; done: boolean };
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number, elemFlags: number): number;
  deleteBatch(keys: Uint8Array, count: number): number;
  freeze(): void;
  pin(path: string): void;
  unpin(path: string): void;
  mmap(): ArrayBuffer;
  close(): void;
  /** Whether the handle is closed (a standalone map's close(), or its object's); the one record of it. */
  closed(): boolean;
}

/** The sizes element access works with (part of what `NativeMap.bindOps()` returns). @internal */
export interface NativeMapSizes {
  type: string;
  keySize: number;
  valueSize: number;
  /** Bytes of one value as the kernel exchanges it: for per-CPU maps, 8-byte-rounded value size × CPUs. */
  valueBytes: number;
  maxEntries: number;
  flags: number;
  ncpus: number;
}

/**
 * What `NativeMap.bindOps()` returns: natively owned scratch memory (key at 0, value at
 * `valueOffset`, next key at `nextOffset`) and the element operations, bound to the map. @internal
 */
export interface NativeMapOps extends NativeMapSizes {
  scratch: ArrayBuffer;
  valueOffset: number;
  nextOffset: number;
  lookup(flags?: number): boolean;
  update(flags?: number): void;
  updateInNetns(netns: string, flags?: number): void;
  remove(): boolean;
  lookupAndDelete(flags?: number): boolean;
  nextKey(fromKey: boolean): boolean;
}

/** Receives a batch of records: record i is `data[ends[i-1] .. ends[i])`. @internal */
/**
 * A batch from a native reader: `count` records, record i being data[ends[i-1] .. ends[i]) (ends
 * as u32). With `lease`, data and ends are the reader's reused buffers (JS sets lease[0] = 1 to
 * keep them past the call); without, they belong to JS.
 */
export type NativeRecordsCallback = (data: ArrayBuffer, ends: ArrayBuffer, count: number, lost: number, lease: Int32Array | undefined) => void;

/** @internal */
export interface NativeEventReader {
  pause(): void;
  resume(): void;
  consume(max?: number): number;
  /** Someone waits for a record: keep the event loop alive and the callback strongly held. */
  setWaiting(waiting: boolean): void;
  close(): void;
  /** Whether the reader is closed; the one record of it. */
  closed(): boolean;
}

/** Options of `new NativeObject()`. @internal */
export interface NativeOpenOptions {
  objectName?: string;
  pinRoot?: string;
  kconfig?: string;
  btfCustomPath?: string;
}

/** @internal */
export interface NativeObject {
  load(options?: { logLevel?: number; logSize?: number }): void;
  loadAsync(options?: { logLevel?: number; logSize?: number }): Promise<void>;
  close(): void;
  state(): 'opened' | 'loading' | 'loaded' | 'failed' | 'closing' | 'closed';
  verifierLog(program: string): string | null;
  name(): string;
  programs(): NativeProgram[];
  maps(): NativeMap[];
  btf(): Buffer | null;
}

/** @internal */
export interface NativeBinding {
  NativeObject: new (source: string | Uint8Array, options: NativeOpenOptions) => NativeObject;
  NativeProgram: { openPinned(path: string): NativeProgram; openById(id: number): NativeProgram };
  NativeLink: { openPinned(path: string): NativeLink };
  NativePacketSocket: new (iface: NativeInterface) => NativePacketSocket;
  xdpAttachLink(program: NativeProgram, iface: NativeInterface, mode: string): NativeLink;
  xdpAttachNetlink(
    program: NativeProgram,
    iface: NativeInterface,
    options: { mode: string; force: boolean; replace?: NativeProgram },
  ): { ifindex: number; mode?: string };
  xdpDetachNetlink(iface: NativeInterface, options: { mode: string; progId: number }): boolean;
  xdpQuery(iface: NativeInterface): NativeXdpQuery;
  tcxAttach(program: NativeProgram, iface: NativeInterface, direction: string): NativeLink;
  tcxQuery(iface: NativeInterface, direction: string): NativeTcxQuery;
  tcFilterAttach(
    program: NativeProgram,
    iface: NativeInterface,
    direction: string,
    options: { handle: number; priority: number; replace: boolean },
  ): { ifindex: number; handle: number; priority: number; progId: number; hookCreated: boolean };
  tcFilterDetach(iface: NativeInterface, direction: string, handle: number, priority: number): boolean;
  tcFilterQuery(iface: NativeInterface, direction: string, handle: number, priority: number): number | null;
  tcFilterList(
    iface: NativeInterface,
    direction: string,
  ): { ifindex: number; filters: Array<{ handle: number; priority: number; progId: number; name: string; section: string; directAction: boolean }> };
  testRun(program: NativeProgram, options: NativeTestRunOptions): NativeTestRunResult;
  testRunAsync(program: NativeProgram, options: NativeTestRunOptions): Promise<NativeTestRunResult>;
  NativeRingBuffer: new (mapFd: number, onRecords: NativeRecordsCallback) => NativeEventReader;
  NativePerfBuffer: new (mapFd: number, pagesPerCpu: number, onRecords: NativeRecordsCallback) => NativeEventReader;
  openPinnedMap(path: string): NativeMap;
  openMapById(id: number): NativeMap;
  createMap(options: {
    type: string;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags?: number;
    name?: string;
    innerMapFd?: number;
    mapExtra?: number;
  }): NativeMap;
  mapInfoByFd(fd: number): NativeMapKernelInfo;
  numPossibleCpus(): number;
  setErrorFactory(factory: typeof makeBpfError, stateFactory: typeof makeStateError): void;
  setLogger(logger: ((level: string, message: string) => void) | null): void;
  libbpfVersion(): string;
  /** libbpf's probes: 1 yes, 0 no, a negative errno when libbpf could not tell. */
  probeProgramType(name: string): number;
  probeMapType(name: string): number;
  probeHelper(programType: string, helper: string): number;
  featureNames(): { programTypes: string[]; mapTypes: string[]; helpers: string[] };
  enableStats(): number;
  /** Closes a statistics request made by enableStats() in this environment; false (nothing closed) for any other number. */
  closeStats(fd: number): boolean;
  /** Where the library's own probe stopped and what the kernel answered there (lib/features.ts reads it). */
  probeKernelFeature(name: string): { step: string; errno: number; retval?: number; found?: boolean; log?: string };
  tryLock(path: string): number;
  unlock(fd: number): void;
}

// node-gyp-build picks prebuilds/<platform>-<arch>/*.node when present, else build/Release.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

/** The addon of this thread. @internal */
export const binding = load(PACKAGE_ROOT) as NativeBinding;
binding.setErrorFactory(makeBpfError, makeStateError);
