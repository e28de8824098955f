/**
 * Perf events: open a software or hardware event on every CPU (or for one process) and run a
 * program on each sample — {@link attachPerfEvent}, the classic profiler; the C loader's
 * `perf_event_open` + `bpf_program__attach_perf_event_opts`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys, describe } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOptions, checkPid, checkProgram, nativeAttach } from './common';

// perf_event_attr.type / .config (linux/perf_event.h).
const PERF_TYPE_HARDWARE = 0;
const PERF_TYPE_SOFTWARE = 1;

/** Events by name, as `perf list` spells them: software events work everywhere, hardware ones need a PMU. */
export const PERF_EVENTS = {
  'cpu-clock': [PERF_TYPE_SOFTWARE, 0],
  'task-clock': [PERF_TYPE_SOFTWARE, 1],
  'page-faults': [PERF_TYPE_SOFTWARE, 2],
  'context-switches': [PERF_TYPE_SOFTWARE, 3],
  'cpu-migrations': [PERF_TYPE_SOFTWARE, 4],
  'minor-faults': [PERF_TYPE_SOFTWARE, 5],
  'major-faults': [PERF_TYPE_SOFTWARE, 6],
  'cpu-cycles': [PERF_TYPE_HARDWARE, 0],
  instructions: [PERF_TYPE_HARDWARE, 1],
  'cache-references': [PERF_TYPE_HARDWARE, 2],
  'cache-misses': [PERF_TYPE_HARDWARE, 3],
  'branch-instructions': [PERF_TYPE_HARDWARE, 4],
  'branch-misses': [PERF_TYPE_HARDWARE, 5],
  'bus-cycles': [PERF_TYPE_HARDWARE, 6],
  'ref-cycles': [PERF_TYPE_HARDWARE, 9],
} as const satisfies Record<string, readonly [number, number]>;

/** A named event of {@link PERF_EVENTS}. */
export type PerfEventName = keyof typeof PERF_EVENTS;

/** Options of {@link attachPerfEvent}. */
export interface PerfEventOptions {
  /** The event: a name of {@link PERF_EVENTS}, or a raw `{ type, config }` of `perf_event_attr`. */
  event: PerfEventName | { type: number; config: number | bigint };
  /** Run the program every N events (for clocks: every N nanoseconds). Give this or `frequency`. */
  samplePeriod?: number | bigint;
  /** Run the program about N times a second (the kernel adjusts the period). */
  frequency?: number;
  /** The CPUs to watch (default: every online CPU; one event and one link each). */
  cpus?: number[];
  /** Only this process (then, without `cpus`, one event on any CPU). */
  pid?: number;
  /** A value the program reads with `bpf_get_attach_cookie()` (kernel 5.15+). */
  cookie?: number | bigint;
}

/** How many CPUs this machine can have (the highest possible CPU + 1), from /sys/devices/system/cpu/possible. */
function possibleCpus(): number {
  try {
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    return Math.max(...text.split(',').map((r) => Number(r.split('-').pop()))) + 1;
  } catch {
    return 2 ** 31 - 1;
  }
}

/** The online CPUs, from /sys/devices/system/cpu/online ("0-3,5"). */
export function onlineCpus(): number[] {
  const text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * The links of one {@link attachPerfEvent} call, one per CPU (or one for a process): closing
 * it closes them all, which closes the events.
 */
export class PerfEventLinks implements Disposable {
  /** The links, in the order of {@link PerfEventLinks.cpus}. */
  readonly links: readonly BpfLink[];
  /** The CPU of each link (-1: a process's event on any CPU). */
  readonly cpus: readonly number[];

  /** @internal */
  constructor(links: BpfLink[], cpus: number[]) {
    this.links = links;
    this.cpus = cpus;
  }

  /** Closes every link (and its event). Idempotent. */
  close(): void {
    for (const l of this.links) l.close();
  }

  /** Same as {@link PerfEventLinks.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens `event` on each CPU (or for `pid`) and attaches a `perf_event` program to each: the
 * program runs on every sample with the sampled registers (`struct bpf_perf_event_data`).
 *
 * Lifetime: the events and links last until {@link PerfEventLinks.close} (or the process exits).
 *
 * Minimum kernel: 4.9 (4.17 with links, 5.15 for `cookie`). Hardware events need a hardware
 * PMU (most VMs have none: `perf_event_open` fails with `ENOENT`).
 *
 * @throws RangeError for an unknown event, neither or both of `samplePeriod`/`frequency`
 * @throws {@link BpfError} `perf_event_open` failures (`ENOENT` no such event, `EACCES`/`EPERM`
 *   without CAP_PERFMON or with a strict perf_event_paranoid)
 * @example
 * ```ts
 * // 99 samples a second on every CPU: a profiler
 * using links = attachPerfEvent(obj.program('do_sample'), { event: 'cpu-clock', frequency: 99 });
 * ```
 */
export function attachPerfEvent(program: BpfProgram, options: PerfEventOptions): PerfEventLinks {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['event', 'samplePeriod', 'frequency', 'cpus', 'pid', 'cookie']);
  let type: number;
  let config: number | bigint;
  if (typeof o.event === 'string') {
    if (!Object.hasOwn(PERF_EVENTS, o.event)) throw new RangeError(`options.event: unknown event '${o.event}' (known: ${Object.keys(PERF_EVENTS).join(', ')})`);
    [type, config] = (PERF_EVENTS as Record<string, readonly [number, number]>)[o.event]!;
  } else if (typeof o.event === 'object' && o.event !== null) {
    const e = o.event as { type?: unknown; config?: unknown };
    if (typeof e.type !== 'number') throw new TypeError(`options.event.type must be a number, got ${describe(e.type)}`);
    // perf_event_attr.type is 32 bits, config 64: larger values would be cut, silently naming another event.
    if (!Number.isInteger(e.type) || e.type < 0 || e.type > 0xffffffff) throw new RangeError(`options.event.type must be an integer in [0, 4294967295], got ${e.type}`);
    if (typeof e.config !== 'bigint' && typeof e.config !== 'number') throw new TypeError(`options.event.config must be a number or bigint, got ${describe(e.config)}`);
    if (typeof e.config === 'number' ? !(Number.isSafeInteger(e.config) && e.config >= 0) : e.config < 0n || e.config > 0xffffffffffffffffn) {
      throw new RangeError(`options.event.config must be an integer in [0, 2**64 - 1], got ${String(e.config)}`);
    }
    type = e.type;
    config = e.config;
  } else {
    throw new TypeError(`options.event must be an event name or { type, config }, got ${describe(o.event)}`);
  }
  if ((o.samplePeriod === undefined) === (o.frequency === undefined)) throw new RangeError('give one of options.samplePeriod and options.frequency');
  if (o.frequency !== undefined && (typeof o.frequency !== 'number' || !Number.isInteger(o.frequency) || o.frequency < 1)) {
    throw new RangeError(`options.frequency must be a positive integer, got ${describe(o.frequency)}`);
  }
  const period = o.samplePeriod;
  if (period !== undefined && !((typeof period === 'number' && Number.isSafeInteger(period) && period >= 1) || (typeof period === 'bigint' && period >= 1n))) {
    throw new RangeError(`options.samplePeriod must be a positive integer, got ${describe(period)}`);
  }
  const pid = checkPid(o.pid);
  let cpus: number[];
  if (o.cpus !== undefined) {
    if (!Array.isArray(o.cpus) || o.cpus.length === 0) throw new TypeError('options.cpus must be a non-empty array of CPU numbers');
    const possible = possibleCpus();
    o.cpus.forEach((c, i) => {
      if (typeof c !== 'number') throw new TypeError(`options.cpus[${i}] must be a CPU number, got ${describe(c)}`);
      if (!Number.isInteger(c) || c < 0 || c >= possible) throw new RangeError(`options.cpus[${i}] must be a CPU number in [0, ${possible - 1}] (this machine's possible CPUs), got ${c}`);
    });
    cpus = o.cpus as number[];
  } else {
    cpus = pid !== undefined ? [-1] : onlineCpus();
  }
  const cookie = checkCookie(o.cookie);
  requireFeature(type === PERF_TYPE_HARDWARE ? 'perf-event-hardware' : 'perf-event', `attachPerfEvent(${typeof o.event === 'string' ? o.event : `type ${type}`})`);
  if (cookie !== undefined) requireFeature('attach-cookie', 'attachPerfEvent with a cookie');
  const links: BpfLink[] = [];
  try {
    for (const cpu of cpus) {
      const native = { type, config, samplePeriod: period, sampleFreq: o.frequency, pid: pid ?? -1, cpu, cookie };
      links.push(new BpfLink(nativeAttach.perfEvent(program.native, native)));
    }
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  return new PerfEventLinks(links, cpus);
}
