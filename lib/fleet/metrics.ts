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
  readonly #families = new Map<string, MetricFamily>();

  /** Adds one sample; `name` must end in `_total` for a counter (Prometheus convention). */
  add(name: string, type: 'counter' | 'gauge', help: string, labels: Labels, value: number | bigint): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`'${name}' is not a Prometheus metric name`);
    let family = this.#families.get(name);
    if (!family) {
      family = { name, type, help, samples: [] };
      this.#families.set(name, family);
    }
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) if (v !== undefined) kept[k] = String(v);
    family.samples.push({ labels: kept, value });
  }

  /** The families added so far, in order, with their samples. */
  families(): MetricFamily[] {
    return [...this.#families.values()];
  }

  /** The exposition text (ends with a newline). */
  text(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.samples) {
        const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
        out.push(`${f.name}${parts.length ? `{${parts.join(',')}}` : ''} ${formatValue(value)}`);
      }
    }
    return out.length ? `${out.join('\n')}\n` : '';
  }
}

/** One metric family of a {@link MetricSet}. */
export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: { labels: Record<string, string>; value: number | bigint }[];
}

/** A family root arrays can have: its name, type, help and label names. */
export interface RootArrayFamily {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  labelNames: readonly string[];
}

const BASE = ['interface', 'netns'] as const;
const SLOT = [...BASE, 'slot', 'program'] as const;
/** The fields of struct xdp_filter_stats and struct xdp_sampler_stats (bpf/include), in order. */
const programStats = {
  filter_stats: ['eth_frame_err', 'ip_header_err', 'ip6_header_err', 'ip_drop_count', 'ip6_drop_count', 'ip_frag_drop_count', 'ip6_frag_drop_count', 'ip_pass_count', 'ip6_pass_count', 'other_pass_count', 'meta_used_count'],
  sampler_stats: ['packets', 'samples_sent', 'ringbuf_full'],
} as const;
const statsPrefix = { filter_stats: 'xdp_filter', sampler_stats: 'xdp_sampler' } as const;

function statsFamily(map: keyof typeof programStats, field: string): RootArrayFamily {
  const prefix = statsPrefix[map];
  return { name: `${prefix}_${field}_total`, type: 'counter', help: `${prefix} counter ${field} (struct ${map} in bpf/include)`, labelNames: SLOT };
}

/**
 * Every family {@link rootArrayMetrics} can render, with its label names: what a registry that
 * declares its metrics up front (prom-client) needs. {@link registerRootArrayMetrics} uses it.
 */
export const rootArrayFamilies: readonly RootArrayFamily[] = [
  { name: 'xdp_root_info', type: 'gauge', help: 'A root array: its root program id, slot count and XDP mode (value 1)', labelNames: [...BASE, 'ifindex', 'root_prog_id', 'slots', 'mode'] },
  { name: 'xdp_root_packets_seen_total', type: 'counter', help: 'Packets the root program saw', labelNames: BASE },
  { name: 'xdp_root_bytes_seen_total', type: 'counter', help: 'Bytes of the packets the root program saw', labelNames: BASE },
  { name: 'xdp_root_no_slot_packets_total', type: 'counter', help: 'Packets that found every slot empty (passed)', labelNames: BASE },
  { name: 'bpf_program_runs_total', type: 'counter', help: 'Runs of the program counted while BPF statistics were enabled (BPF_ENABLE_STATS)', labelNames: [...BASE, 'program', 'prog_id'] },
  { name: 'bpf_program_run_seconds_total', type: 'counter', help: 'Run time of the program, its tail calls included, counted while BPF statistics were enabled', labelNames: [...BASE, 'program', 'prog_id'] },
  { name: 'xdp_root_slot_info', type: 'gauge', help: 'What runs in a slot: prog_id 0 when empty, counted 1 when it reports its verdicts (value 1)', labelNames: [...SLOT, 'prog_id', 'counted'] },
  { name: 'xdp_root_slot_packets_total', type: 'counter', help: 'Packets per XDP verdict of a slot since its program was loaded', labelNames: [...SLOT, 'action'] },
  { name: 'xdp_root_slot_bytes_total', type: 'counter', help: 'Bytes of the packets whose verdict a slot counted', labelNames: SLOT },
  { name: 'xdp_root_slot_passed_on_total', type: 'counter', help: 'Packets a slot passed that a later slot took over', labelNames: SLOT },
  ...programStats.filter_stats.map((f) => statsFamily('filter_stats', f)),
  ...programStats.sampler_stats.map((f) => statsFamily('sampler_stats', f)),
  { name: 'xdp_counter_packets_total', type: 'counter', help: 'Packets xdp_counter saw, per kind of packet', labelNames: [...SLOT, 'protocol'] },
  { name: 'xdp_counter_bytes_total', type: 'counter', help: 'Bytes xdp_counter saw, per kind of packet', labelNames: [...SLOT, 'protocol'] },
];

const familyByName = new Map(rootArrayFamilies.map((f) => [f.name, f]));

/** Adds a sample of a family of {@link rootArrayFamilies} (one definition of name, type and help). */
function addFamily(m: MetricSet, name: string, labels: Labels, value: number | bigint): void {
  const f = familyByName.get(name);
  if (f === undefined) throw new RangeError(`'${name}' is not a root-array family`);
  m.add(name, f.type, f.help, labels, value);
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
        // The fields the catalog declares (a field added to the struct must be added there too).
        const sums = sumPerCpu(map.typed<number, unknown>().get(0));
        for (const field of programStats[name]) addFamily(m, `${statsPrefix[name]}_${field}_total`, labels, sums[field] ?? 0n);
      } else if (name === 'counter_proto') {
        const typed = map.typed<number, unknown>();
        counterProtocols.forEach((protocol, i) => {
          const s = sumPerCpu(typed.get(i));
          addFamily(m, 'xdp_counter_packets_total', { ...labels, protocol }, s.packets ?? 0n);
          addFamily(m, 'xdp_counter_bytes_total', { ...labels, protocol }, s.bytes ?? 0n);
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
  addFamily(m, 'xdp_root_info', { ...base, ifindex: status.ifindex, root_prog_id: status.rootProgId, slots: status.slotCount, mode: status.mode ?? 'detached' }, 1);
  addFamily(m, 'xdp_root_packets_seen_total', base, status.root.packets);
  addFamily(m, 'xdp_root_bytes_seen_total', base, status.root.bytes);
  addFamily(m, 'xdp_root_no_slot_packets_total', base, status.root.noSlot);
  if (options.runStats) {
    // The kernel counts runs where a program is entered from its hook: the root. Tail calls into
    // the slots are not counted apart; their time is part of the root's.
    try {
      using prog = BpfProgram.openById(status.rootProgId);
      const info = prog.kernelInfo();
      const labels = { ...base, program: info.name, prog_id: status.rootProgId };
      addFamily(m, 'bpf_program_runs_total', labels, info.runCount);
      addFamily(m, 'bpf_program_run_seconds_total', labels, Number(info.runTimeNs) / 1e9);
    } catch {
      // the root was replaced since the status was read
    }
  }
  for (const s of status.slots) {
    const labels = { ...base, slot: s.slot, program: s.name ?? '' };
    addFamily(m, 'xdp_root_slot_info', { ...labels, prog_id: s.progId ?? 0, counted: s.counted ? 1 : 0 }, 1);
    if (s.progId === undefined) continue;
    for (const action of actions) addFamily(m, 'xdp_root_slot_packets_total', { ...labels, action }, s.stats[action]);
    addFamily(m, 'xdp_root_slot_bytes_total', labels, s.stats.bytes);
    addFamily(m, 'xdp_root_slot_passed_on_total', labels, s.stats.passedOn);
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
