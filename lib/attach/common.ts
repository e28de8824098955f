/**
 * What the attach modules share: the native attach functions, cookie and pid checks.
 *
 * @internal
 * @module
 */
import { binding, type NativeLink, type NativeProgram } from '../internal/native';
import type { BpfProgram } from '../program';
import { checkObject, describe } from '../internal/validate';

/** The native attach functions (native/attach/). @internal */
export interface NativeAttach {
  uprobe(p: NativeProgram, o: object): NativeLink;
  usdt(p: NativeProgram, o: object): NativeLink;
  kprobe(p: NativeProgram, o: object): NativeLink;
  kprobeMulti(p: NativeProgram, o: object): NativeLink;
  tracepoint(p: NativeProgram, o: object): NativeLink;
  rawTracepoint(p: NativeProgram, o: object): NativeLink;
  trace(p: NativeProgram, o: object): NativeLink;
  lsm(p: NativeProgram): NativeLink;
  perfEvent(p: NativeProgram, o: object): NativeLink;
  socket(p: NativeProgram, fd: number): void;
  socketDetach(fd: number): boolean;
  cgroup(p: NativeProgram, path: string): NativeLink;
  cgroupLegacy(p: NativeProgram, path: string, attachType: string, flags: number): void;
  cgroupLegacyDetach(p: NativeProgram, path: string, attachType: string): boolean;
  programAttachType(p: NativeProgram): string;
  iter(p: NativeProgram, o: object): NativeLink;
  iterCreate(linkFd: number): number;
  iterClose(fd: number): boolean;
  probeTrampoline(): number;
}

/** @internal */
export const nativeAttach = (binding as unknown as { attach: NativeAttach }).attach;

/** Checks the program argument of an attach call. @internal */
export function checkProgram(program: unknown, name = 'program'): asserts program is BpfProgram {
  if (typeof program !== 'object' || program === null || !('native' in program)) {
    throw new TypeError(`${name} must be a BpfProgram, got ${describe(program)}`);
  }
}

/** Checks an options object (undefined is an empty one). @internal */
export function checkOptions(options: unknown, name = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  checkObject(options, name);
  return options;
}

/** A BPF cookie: a u64 the program reads with bpf_get_attach_cookie(). @internal */
export function checkCookie(value: unknown, name = 'options.cookie'): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n && value < 1n << 64n) return value;
  throw new RangeError(`${name} must be an integer in [0, 2^64), got ${describe(value)}`);
}

/** A process id (positive), or undefined for every process. @internal */
export function checkPid(value: unknown, name = 'options.pid'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new RangeError(`${name} must be a process id (a positive integer), got ${describe(value)}`);
  }
  return value;
}

/** A byte offset (safe integer ≥ 0, or bigint). @internal */
export function checkOffset(value: unknown, name: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n && value < 1n << 64n) return value;
  throw new RangeError(`${name} must be a non-negative integer, got ${describe(value)}`);
}
