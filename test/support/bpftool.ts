// bpftool as a stopgap for what the typed API does not cover yet: BPF_PROG_TEST_RUN
// (`bpftool prog run`), map dumps decoded with the object's BTF, and map updates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function bpftool(args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface RunResult {
  /** What the program returned (XDP_* / TC_ACT_*). */
  retval: number;
  /** The average run time in nanoseconds, as the kernel measured it. */
  duration: number;
  /** The packet after the run, from the metadata area on (XDP). */
  dataOut: Buffer;
}

export interface RunOptions {
  repeat?: number;
  /** Bytes of XDP metadata at the start of `data` (passed to the kernel in an xdp_md ctx). */
  metaLen?: number;
}

/** Runs program `id` once (or `repeat` times) on `data` with BPF_PROG_TEST_RUN. */
export function progRun(id: number, data: Buffer, options: RunOptions = {}): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'progrun-'));
  try {
    const args = ['-j', 'prog', 'run', 'id', String(id)];
    writeFileSync(join(dir, 'in'), data);
    args.push('data_in', join(dir, 'in'), 'data_out', join(dir, 'out'), 'data_size_out', '4096');
    if (options.metaLen !== undefined) {
      // struct xdp_md { data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex }:
      // the kernel takes the metadata from the start of data_in, up to ctx.data.
      const ctx = Buffer.alloc(24);
      ctx.writeUInt32LE(options.metaLen, 0);
      ctx.writeUInt32LE(data.length, 4);
      writeFileSync(join(dir, 'ctx'), ctx);
      args.push('ctx_in', join(dir, 'ctx'));
    }
    args.push('repeat', String(options.repeat ?? 1));
    const out = JSON.parse(bpftool(args)) as { retval: number; duration: number };
    return { retval: out.retval, duration: out.duration, dataOut: readFileSync(join(dir, 'out')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Value = number | boolean | string | Value[] | { [k: string]: Value };
interface DumpEntry {
  formatted?: { key: Value; value?: Value; values?: { cpu: number; value: Value }[] };
}

/** The entries of map `id`, decoded by bpftool from BTF; per-CPU values summed over the CPUs. */
export function mapDump(id: number): { key: Value; value: Value }[] {
  const entries = JSON.parse(bpftool(['-j', 'map', 'dump', 'id', String(id)])) as DumpEntry[];
  return entries.map((e) => {
    const f = e.formatted;
    if (!f) throw new Error(`map ${id} has no BTF for bpftool to decode it with`);
    if (f.values) return { key: f.key, value: f.values.map((v) => v.value).reduce(sum) };
    return { key: f.key, value: f.value as Value };
  });
}

function sum(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => sum(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, sum(v, b[k])]));
  }
  return a;
}

/** The (summed) value at integer key `key` of an array map. */
export function arrayValue<T = Record<string, number>>(id: number, key = 0): T {
  const e = mapDump(id).find((x) => x.key === key);
  if (!e) throw new Error(`map ${id} has no key ${key}`);
  return e.value as T;
}

function hex(b: Buffer): string[] {
  return ['hex', ...[...b].map((x) => x.toString(16).padStart(2, '0'))];
}

/** Writes raw key and value bytes into map `id`. */
export function mapUpdate(id: number, key: Buffer, value: Buffer): void {
  bpftool(['map', 'update', 'id', String(id), 'key', ...hex(key), 'value', ...hex(value)]);
}

/** Puts program `progId` at index `index` of the prog array pinned at `path`. */
export function progArraySet(path: string, index: number, progId: number): void {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  bpftool(['map', 'update', 'pinned', path, 'key', ...hex(key), 'value', 'id', String(progId)]);
}
