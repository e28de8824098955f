/**
 * USDT: run a program at a statically defined probe point (`DTRACE_PROBE`/`STAP_PROBE` in
 * `<sys/sdt.h>`) of a binary — {@link attachUsdt}, the C loader's `bpf_program__attach_usdt`.
 *
 * @module
 */
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys, checkNonEmptyString } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOptions, checkPid, checkProgram, checkTargetBinary, nativeAttach } from './common';

/** Options of {@link attachUsdt}. */
export interface UsdtOptions {
  /** The binary or shared library holding the probe point (a path, or a library name). */
  binary: string;
  /** The probe's provider (the first argument of `DTRACE_PROBE`). */
  provider: string;
  /** The probe's name. */
  name: string;
  /** Only this process (default: every process running the binary). */
  pid?: number;
  /** A value the program reads with `bpf_usdt_cookie()`. */
  cookie?: number | bigint;
}

const keys = ['binary', 'provider', 'name', 'pid', 'cookie'] as const;

/**
 * Attaches a `SEC("usdt")` program (written with `<bpf/usdt.bpf.h>`, which reads the probe's
 * arguments with `bpf_usdt_arg()`) to every site of the probe `provider:name` in `binary`.
 *
 * Lifetime: see {@link BpfLink}.
 *
 * Minimum kernel: 4.17 (uprobes through the PMU), 5.15 recommended (cookies; libbpf falls back
 * to an IP lookup map before that).
 *
 * @throws {@link BpfError} `ENOENT` when the binary has no such probe (libbpf's reason in `details`)
 * @throws {@link BpfStateError} before load, or for a program reopened from a pin
 * @example
 * ```ts
 * using link = attachUsdt(obj.program('on_query'), { binary: '/usr/sbin/mysqld', provider: 'mysql', name: 'query__start' });
 * ```
 */
export function attachUsdt(program: BpfProgram, options: UsdtOptions): BpfLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', keys);
  checkNonEmptyString(o.binary, 'options.binary');
  checkTargetBinary(o.binary, 'options.binary');
  checkNonEmptyString(o.provider, 'options.provider');
  checkNonEmptyString(o.name, 'options.name');
  requireFeature('uprobe', 'attachUsdt');
  const native = { binary: o.binary, provider: o.provider, name: o.name, pid: checkPid(o.pid), cookie: checkCookie(o.cookie) };
  return new BpfLink(nativeAttach.usdt(program.native, native));
}
