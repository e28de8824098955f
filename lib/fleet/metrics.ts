/**
 * Root-array metrics in the Prometheus text exposition format: {@link rootArrayMetrics}, and the
 * small {@link MetricSet} it is built with (which the agent uses for its own health metrics).
 *
 * @module
 */
import { BpfMap } from '../map/map';
import { BpfProgram } from '../program';
import { counterProtocols } from '../programs/counter';
import type { RootArray } from '../rootarray/root-array';
import type { RootStatus } from '../rootarray/status';

/** Label names and values of one sample; undefined values are left out. */
export type Labels = Record<string, string | number | undefined>;

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/**
 * Metric families in the Prometheus text format (version 0.0.4): each family with its `# HELP`
 * and `# TYPE` once, then its samples.
 *
 * @example
 * ```ts
 * const m = new MetricSet();
 * m.add('xdp_root_agent_up', 'gauge', 'Whether the agent runs', {}, 1);
 * res.end(m.text());
 * ```
 */
export class MetricSet {
  readonly #families = new Map<string, { type: string; help: string; samples: string[] }>();

  /** Adds one sample; `name` must end in `_total` for a counter (Prometheus convention). */
  add(name: string, type: 'counter' | 'gauge', help: string, labels: Labels, value: number | bigint): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`'${name}' is not a Prometheus metric name`);
    let family = this.#families.get(name);
    if (!family) {
      family = { type, help, samples: [] };
      this.#families.set(name, family);
    }
    const parts = Object.entries(labels)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}="${escape(String(v))}"`);
    family.samples.push(`${name}${parts.length ? `{${parts.join(',')}}` : ''} ${formatValue(value)}`);
  }

  /** The exposition text (ends with a newline). */
  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    return out.length ? `${out.join('\n')}\n` : '';
  }
}

const actions = ['aborted', 'drop', 'pass', 'tx', 'redirect', 'invalid'] as const;

/** Sums a per-CPU array entry's numeric fields. */
function sumPerCpu(values: unknown): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const cpu of (values as Record<string, unknown>[] | undefined) ?? []) {
    for (const [k, v] of Object.entries(cpu)) if (typeof v === 'bigint') out[k] = (out[k] ?? 0n) + v;
  }
  return out;
}

/** The shipped programs' own counters, found by map name among the program's maps. */
function programCounters(m: MetricSet, progId: number, labels: Labels): void {
  let mapIds: number[];
  try {
    using prog = BpfProgram.openById(progId);
    mapIds = prog.kernelInfo().mapIds;
  } catch {
    return; // replaced and freed since the status was read
  }
  for (const id of mapIds) {
    let map: BpfMap;
    try {
      map = BpfMap.openById(id);
    } catch {
      continue;
    }
    try {
      const name = map.name;
      if (name === 'filter_stats' || name === 'sampler_stats') {
        const prefix = name === 'filter_stats' ? 'xdp_filter' : 'xdp_sampler';
        for (const [field, v] of Object.entries(sumPerCpu(map.typed<number, unknown>().get(0)))) {
          m.add(`${prefix}_${field}_total`, 'counter', `${prefix} counter ${field} (struct ${name} in bpf/include)`, labels, v);
        }
      } else if (name === 'counter_proto') {
        const typed = map.typed<number, unknown>();
        counterProtocols.forEach((protocol, i) => {
          const s = sumPerCpu(typed.get(i));
          m.add('xdp_counter_packets_total', 'counter', 'Packets xdp_counter saw, per kind of packet', { ...labels, protocol }, s.packets ?? 0n);
          m.add('xdp_counter_bytes_total', 'counter', 'Bytes xdp_counter saw, per kind of packet', { ...labels, protocol }, s.bytes ?? 0n);
        });
      }
    } finally {
      map.close();
    }
  }
}

/** Adds one root array's metrics to `m`. */
export function addRootArrayMetrics(m: MetricSet, status: RootStatus, options: RootArrayMetricsOptions = {}): void {
  const base = { interface: status.ifname, netns: status.netns ?? '' };
  m.add('xdp_root_info', 'gauge', 'A root array: its root program id, slot count and XDP mode (value 1)', { ...base, ifindex: status.ifindex, root_prog_id: status.rootProgId, slots: status.slotCount, mode: status.mode ?? 'detached' }, 1);
  m.add('xdp_root_packets_seen_total', 'counter', 'Packets the root program saw', base, status.root.packets);
  m.add('xdp_root_bytes_seen_total', 'counter', 'Bytes of the packets the root program saw', base, status.root.bytes);
  m.add('xdp_root_no_slot_packets_total', 'counter', 'Packets that found every slot empty (passed)', base, status.root.noSlot);
  if (options.runStats) {
    // The kernel counts runs where a program is entered from its hook: the root. Tail calls into
    // the slots are not counted apart; their time is part of the root's.
    try {
      using prog = BpfProgram.openById(status.rootProgId);
      const info = prog.kernelInfo();
      const labels = { ...base, program: info.name, prog_id: status.rootProgId };
      m.add('bpf_program_runs_total', 'counter', 'Runs of the program counted while BPF statistics were enabled (BPF_ENABLE_STATS)', labels, info.runCount);
      m.add('bpf_program_run_seconds_total', 'counter', 'Run time of the program, its tail calls included, counted while BPF statistics were enabled', labels, Number(info.runTimeNs) / 1e9);
    } catch {
      // the root was replaced since the status was read
    }
  }
  for (const s of status.slots) {
    const labels = { ...base, slot: s.slot, program: s.name ?? '' };
    m.add('xdp_root_slot_info', 'gauge', 'What runs in a slot: prog_id 0 when empty, counted 1 when it reports its verdicts (value 1)', { ...labels, prog_id: s.progId ?? 0, counted: s.counted ? 1 : 0 }, 1);
    if (s.progId === undefined) continue;
    for (const action of actions) m.add('xdp_root_slot_packets_total', 'counter', 'Packets per XDP verdict of a slot since its program was loaded', { ...labels, action }, s.stats[action]);
    m.add('xdp_root_slot_bytes_total', 'counter', 'Bytes of the packets whose verdict a slot counted', labels, s.stats.bytes);
    m.add('xdp_root_slot_passed_on_total', 'counter', 'Packets a slot passed that a later slot took over', labels, s.stats.passedOn);
    programCounters(m, s.progId, labels);
  }
}

/** Options of {@link rootArrayMetrics}. */
export interface RootArrayMetricsOptions {
  /**
   * Include the root program's `bpf_program_runs_total` and `bpf_program_run_seconds_total`
   * (counted by the kernel only while an {@link enableRunStats} handle is open; the slots run as
   * tail calls of the root, which the kernel does not count apart: their time is in the root's).
   * Default false.
   */
  runStats?: boolean;
}

/**
 * The metrics of root arrays, in the Prometheus text format: per interface the root's counters,
 * per slot the packets per verdict (`action` label), bytes and passed-on packets, the shipped
 * filter's, sampler's and counter's own counters, and, with `runStats`, the kernel's run count
 * and run time of the root program (slots included). Labels: `interface`, `netns`, `slot`, `program`, `action`.
 *
 * Minimum kernel: 5.10 (root arrays); 5.8 for run statistics.
 *
 * @throws {@link libbpf-node!BpfStateError} for a closed RootArray
 * @example
 * ```ts
 * using root = RootArray.open('eth1');
 * http.createServer((req, res) => res.end(rootArrayMetrics([root]))).listen(9102, '127.0.0.1');
 * ```
 */
export function rootArrayMetrics(roots: readonly RootArray[], options: RootArrayMetricsOptions = {}): string {
  const m = new MetricSet();
  for (const root of roots) addRootArrayMetrics(m, root.status(), options);
  return m.text();
}
