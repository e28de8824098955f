/**
 * Kprobes: run a program when the kernel enters or returns from a function —
 * {@link attachKprobe} (`bpf_program__attach_kprobe_opts`) and {@link attachKprobeMulti}
 * (`bpf_program__attach_kprobe_multi_opts`).
 *
 * @module
 */
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkBoolean, checkKnownKeys, checkNonEmptyString } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOffset, checkOptions, checkProgram, nativeAttach } from './common';

/** Options of {@link attachKprobe}. */
export interface KprobeOptions {
  /** The kernel function (as in /proc/kallsyms). */
  func: string;
  /** An offset into the function (default 0: its entry). */
  offset?: number;
  /** Run on return (a kretprobe) instead of on entry. */
  retprobe?: boolean;
  /** A value the program reads with `bpf_get_attach_cookie()` (kernel 5.15+). */
  cookie?: number | bigint;
}

/**
 * Attaches a `kprobe`/`kretprobe` program to a kernel function, whatever its section name says.
 *
 * Lifetime: see {@link BpfLink}. Minimum kernel: 4.17 (kprobe PMU; older kernels through
 * tracefs), 5.15 for `cookie`. Needs a kernel built with kprobes: `features.has('kprobe')`
 * tells.
 *
 * @throws {@link BpfError} `ENOENT` for an unknown function; on a kernel without kprobes the
 *   error's `details` carry libbpf's reason ("failed to open '/sys/bus/event_source/devices/kprobe/type'")
 * @throws {@link BpfStateError} before load, or for a program reopened from a pin
 * @example
 * ```ts
 * using link = attachKprobe(obj.program('on_open'), { func: 'do_sys_openat2' });
 * ```
 */
export function attachKprobe(program: BpfProgram, options: KprobeOptions): BpfLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['func', 'offset', 'retprobe', 'cookie']);
  checkNonEmptyString(o.func, 'options.func');
  requireFeature('kprobe', 'attachKprobe');
  if (o.retprobe !== undefined) checkBoolean(o.retprobe, 'options.retprobe');
  const cookie = checkCookie(o.cookie);
  if (cookie !== undefined) requireFeature('attach-cookie', 'attachKprobe with a cookie');
  const native = { func: o.func, offset: checkOffset(o.offset, 'options.offset'), retprobe: o.retprobe, cookie };
  return new BpfLink(nativeAttach.kprobe(program.native, native));
}

/** Options of {@link attachKprobeMulti}: a glob `pattern`, or a list of `funcs` (with optional `cookies`). */
export interface KprobeMultiOptions {
  /** A glob over kernel function names (`'tcp_*'`). */
  pattern?: string;
  /** Kernel functions by name. */
  funcs?: string[];
  /** One cookie per entry of `funcs`. */
  cookies?: bigint[];
  /** Run on return instead of on entry. */
  retprobe?: boolean;
}

/**
 * Attaches a `kprobe.multi` program to many kernel functions with one link (fprobe).
 *
 * Minimum kernel: 5.18. Lifetime: see {@link BpfLink}.
 *
 * @throws {@link BpfError} `ENOENT` when nothing matches, `EOPNOTSUPP` without fprobe support
 * @example
 * ```ts
 * using link = attachKprobeMulti(obj.program('count_tcp'), { pattern: 'tcp_v4_*' });
 * ```
 */
export function attachKprobeMulti(program: BpfProgram, options: KprobeMultiOptions): BpfLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['pattern', 'funcs', 'cookies', 'retprobe']);
  if ((o.pattern === undefined) === (o.funcs === undefined)) throw new TypeError('attachKprobeMulti needs options.pattern or options.funcs (not both)');
  if (o.pattern !== undefined) checkNonEmptyString(o.pattern, 'options.pattern');
  if (o.funcs !== undefined) {
    if (!Array.isArray(o.funcs) || o.funcs.length === 0) throw new TypeError('options.funcs must be a non-empty array of function names');
    o.funcs.forEach((f, i) => checkNonEmptyString(f, `options.funcs[${i}]`));
  }
  if (o.cookies !== undefined) {
    if (!Array.isArray(o.cookies) || !Array.isArray(o.funcs) || o.cookies.length !== o.funcs.length) {
      throw new RangeError('options.cookies must have one cookie per entry of options.funcs');
    }
  }
  requireFeature('kprobe', 'attachKprobeMulti');
  const cookies = Array.isArray(o.cookies) ? o.cookies.map((c, i) => checkCookie(c, `options.cookies[${i}]`)) : undefined;
  if (o.retprobe !== undefined) checkBoolean(o.retprobe, 'options.retprobe');
  return new BpfLink(nativeAttach.kprobeMulti(program.native, { pattern: o.pattern, funcs: o.funcs, cookies, retprobe: o.retprobe }));
}
