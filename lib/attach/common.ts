/**
 * What the attach modules share: the native attach functions, cookie and pid checks.
 *
 * @internal
 * @module
 */
import { closeSync, openSync, readFileSync, readSync, statfsSync, statSync } from 'node:fs';
import { BpfError } from '../errors';
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

// statfs magic numbers (linux/magic.h).
const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * `path` must be a folder of the cgroup v2 hierarchy. An ordinary folder would reach the kernel
 * as a cgroup fd and come back as a bare EBADF; a missing one is left to the kernel (ENOENT).
 */
export function checkCgroupDir(path: string, name: string): void {
  let type: number;
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
    type = statfsSync(path).type;
  } catch {
    return; // missing or unreadable: the kernel's own error names it
  }
  if (!isDir || type !== CGROUP2_SUPER_MAGIC) {
    const mount = cgroup2Mount();
    throw new RangeError(
      `${name} '${path}' is not a cgroup v2 directory${isDir ? '' : ' (not a folder)'}; give a folder under the cgroup2 mount` +
        (mount ? ` (${mount} here)` : ' (none is mounted here: mount -t cgroup2 none /sys/fs/cgroup)'),
    );
  }
}

function cgroup2Mount(): string | undefined {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2')?.split(' ')[1];
  } catch {
    return undefined;
  }
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * A uprobe or USDT target given as a path must be a regular file that starts like an ELF file (any
 * architecture: libbpf reads its symbols). A bare name (`'libc.so.6'`) is found by libbpf in the
 * library folders and is left to it.
 */
export function checkTargetBinary(binary: string, name: string): void {
  if (!binary.includes('/')) return;
  let fd: number;
  try {
    if (!statSync(binary).isFile()) throw new RangeError(`${name} '${binary}' is not a regular file; give an ELF executable or shared library`);
    fd = openSync(binary, 'r');
  } catch (e) {
    if (e instanceof RangeError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new BpfError('open', Math.abs(err.errno ?? 2), `${name} '${binary}'`, err.code === 'ENOENT' ? 'give the path of an ELF executable or shared library, or a library name such as libc.so.6' : undefined);
  }
  const head = Buffer.alloc(4);
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(ELF_MAGIC)) throw new RangeError(`${name} '${binary}' is not an ELF file; give an ELF executable or shared library (uprobes attach to native code)`);
}
