/**
 * Tracepoints: {@link attachTracepoint} (`bpf_program__attach_tracepoint_opts`, needs tracefs)
 * and {@link attachRawTracepoint} (`bpf_program__attach_raw_tracepoint_opts`, needs nothing
 * mounted).
 *
 * @module
 */
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys, checkNonEmptyString } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOptions, checkProgram, nativeAttach } from './common';

/**
 * Attaches a `tracepoint` program to the tracepoint `category:name` (as listed under
 * /sys/kernel/tracing/events), whatever its section name says.
 *
 * Minimum kernel: 4.7 (5.15 for `cookie`). Needs tracefs mounted (libbpf looks at
 * /sys/kernel/tracing, then /sys/kernel/debug/tracing); when it is not, `details` says so.
 *
 * @throws {@link BpfError} `ENOENT` for an unknown tracepoint or without tracefs
 * @example
 * ```ts
 * using link = attachTracepoint(obj.program('on_exec'), 'sched', 'sched_process_exec');
 * ```
 */
export function attachTracepoint(program: BpfProgram, category: string, name: string, options: { cookie?: number | bigint } = {}): BpfLink {
  checkProgram(program);
  checkNonEmptyString(category, 'category');
  checkNonEmptyString(name, 'name');
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['cookie']);
  const cookie = checkCookie(o.cookie);
  requireFeature('tracefs', `attachTracepoint(${category}:${name})`);
  if (cookie !== undefined) requireFeature('attach-cookie', 'attachTracepoint with a cookie');
  return new BpfLink(nativeAttach.tracepoint(program.native, { category, name, cookie }));
}

/**
 * Attaches a `raw_tp` (or `tp_btf`) program to the raw tracepoint `name` (`'sys_enter'`,
 * `'sched_switch'`…). Unlike {@link attachTracepoint} it needs no tracefs.
 *
 * Minimum kernel: 4.17 (6.10 for `cookie`).
 *
 * @throws {@link BpfError} `ENOENT` for an unknown tracepoint
 * @example
 * ```ts
 * using link = attachRawTracepoint(obj.program('count_getppid'), 'sys_enter');
 * ```
 */
export function attachRawTracepoint(program: BpfProgram, name: string, options: { cookie?: number | bigint } = {}): BpfLink {
  checkProgram(program);
  checkNonEmptyString(name, 'name');
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['cookie']);
  const cookie = checkCookie(o.cookie);
  if (cookie !== undefined) requireFeature('raw-tp-cookie', 'attachRawTracepoint with a cookie');
  return new BpfLink(nativeAttach.rawTracepoint(program.native, { name, cookie }));
}
