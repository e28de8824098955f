/**
 * Uprobes: run a program when a process enters (or returns from) a function of a binary or a
 * shared library — {@link attachUprobe}, the C loader's `bpf_program__attach_uprobe_opts`.
 *
 * @module
 */
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys, checkBoolean, checkNonEmptyString } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOffset, checkOptions, checkPid, checkProgram, checkTargetBinary, nativeAttach } from './common';

/** Options of {@link attachUprobe}. */
export interface UprobeOptions {
  /**
   * The binary or shared library: a path, or a library name libbpf finds in the usual library
   * directories (`'libc.so.6'`). Not `/proc/self/exe` unless you mean the running `node`.
   */
  binary: string;
  /** The function, by its symbol name. Give `func`, `offset`, or both (then relative to the function). */
  func?: string;
  /** A file offset in the binary (or, with `func`, an offset into the function). */
  offset?: number | bigint;
  /** Only this process (default: every process that maps the binary). */
  pid?: number;
  /** Run on return from the function (a uretprobe) instead of on entry. */
  retprobe?: boolean;
  /** The offset of a USDT-style semaphore (reference counter) the kernel increments while attached. */
  refCtrOffset?: number | bigint;
  /** A value the program reads with `bpf_get_attach_cookie()` (kernel 5.15+). */
  cookie?: number | bigint;
}

const keys = ['binary', 'func', 'offset', 'pid', 'retprobe', 'refCtrOffset', 'cookie'] as const;

/**
 * Attaches a `uprobe`/`uretprobe` program (`SEC("uprobe")`, also without a target in the
 * section name) to a function of a binary. The program runs in the context of every process
 * (or of `pid`) that executes the function.
 *
 * Lifetime: see {@link BpfLink}; the probe goes when the link is closed (unless pinned).
 *
 * Minimum kernel: 4.17 (uprobe PMU; older kernels through tracefs), 5.15 for `cookie`, 4.20 for `refCtrOffset`.
 *
 * @throws TypeError / RangeError for bad options
 * @throws {@link BpfStateError} before load, or for a program reopened from a pin
 * @throws {@link BpfError} `ENOENT` when the binary or the function does not exist (`details`
 *   carries libbpf's reason, e.g. "failed to find ELF symbol"), `EPERM` without CAP_PERFMON
 * @example
 * ```ts
 * using link = attachUprobe(obj.program('on_malloc'), { binary: 'libc.so.6', func: 'malloc', pid: child.pid });
 * using ret = attachUprobe(obj.program('on_malloc_ret'), { binary: 'libc.so.6', func: 'malloc', retprobe: true });
 * ```
 */
export function attachUprobe(program: BpfProgram, options: UprobeOptions): BpfLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', keys);
  checkNonEmptyString(o.binary, 'options.binary');
  checkTargetBinary(o.binary, 'options.binary');
  if (o.func !== undefined) checkNonEmptyString(o.func, 'options.func');
  const offset = checkOffset(o.offset, 'options.offset');
  if (o.func === undefined && offset === undefined) throw new TypeError('attachUprobe needs options.func, options.offset, or both');
  if (o.retprobe !== undefined) checkBoolean(o.retprobe, 'options.retprobe');
  requireFeature('uprobe', 'attachUprobe');
  const cookie = checkCookie(o.cookie);
  if (cookie !== undefined) requireFeature('attach-cookie', 'attachUprobe with a cookie');
  const native = {
    binary: o.binary,
    func: o.func,
    offset,
    pid: checkPid(o.pid),
    retprobe: o.retprobe,
    refCtrOffset: checkOffset(o.refCtrOffset, 'options.refCtrOffset'),
    cookie,
  };
  return new BpfLink(nativeAttach.uprobe(program.native, native));
}
