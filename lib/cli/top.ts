/**
 * `xdp-root top [iface…]`: per-slot packets/s, bytes/s and drops/s, refreshed in the terminal
 * (like bpftop), or measured once with `--once`.
 *
 * @internal
 * @module
 */
import { BpfError, BpfStateError } from '../errors';
import { RootArray, type RootArrayLocation } from '../rootarray/root-array';
import { netnsId, sameNetns } from '../rootarray/state';
import type { RootStatus } from '../rootarray/status';
import { ifaceArg, seconds, type Command } from './command';

/** One slot's rates between two readings. */
export interface SlotRates {
  ifname: string;
  slot: number;
  program: string;
  /** null for a plain program (not built with xdp_root.h): the root cannot count its verdicts. */
  packetsPerSec: number | null;
  bytesPerSec: number | null;
  dropsPerSec: number | null;
}

/** Rates per filled slot between two statuses of the same root, `seconds` apart. */
export function slotRates(before: RootStatus, after: RootStatus, seconds: number): SlotRates[] {
  const out: SlotRates[] = [];
  for (const s of after.slots) {
    if (s.progId === undefined) continue;
    const b = before.slots[s.slot];
    // A program replaced between the readings restarted its counters: count from zero.
    const prev = b && b.progId === s.progId ? b.stats : undefined;
    const delta = (k: keyof typeof s.stats): number => Number(s.stats[k] - (prev?.[k] ?? 0n));
    const packets = delta('aborted') + delta('drop') + delta('pass') + delta('tx') + delta('redirect') + delta('invalid');
    if (!s.counted) {
      out.push({ ifname: after.ifname, slot: s.slot, program: s.name ?? '', packetsPerSec: null, bytesPerSec: null, dropsPerSec: null });
      continue;
    }
    out.push({
      ifname: after.ifname,
      slot: s.slot,
      program: s.name ?? '',
      packetsPerSec: packets / seconds,
      bytesPerSec: delta('bytes') / seconds,
      dropsPerSec: (delta('drop') + delta('aborted')) / seconds,
    });
  }
  return out;
}

const rate = (n: number | null): string => (n === null ? '-' : n.toFixed(1));

/** Rows as a table; a plain program's rates as "-" (as `status` shows its counters). */
export function formatRates(rows: SlotRates[]): string {
  const header = ['IFACE', 'SLOT', 'PROGRAM', 'PKTS/S', 'BYTES/S', 'DROPS/S'];
  const cells = rows.map((r) => [r.ifname, String(r.slot), r.program, rate(r.packetsPerSec), rate(r.bytesPerSec), rate(r.dropsPerSec)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((v, i) => (i >= 3 || i === 1 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(header), ...cells.map(line)].join('\n') + (rows.length === 0 ? '\n(no filled slots)' : '');
}

/** The roots `top` shows without an interface: every attached one under the pin base (with --netns, that namespace's). */
function attachedRoots(where: RootArrayLocation): RootArray[] {
  const only = where.netns === undefined ? undefined : netnsId(where.netns);
  const roots: RootArray[] = [];
  for (const e of RootArray.list({ pinBase: where.pinBase })) {
    if (e.condition !== 'attached' || e.ifindex === undefined) continue;
    if (only !== undefined && !(e.netnsIno !== undefined && sameNetns(only, { dev: e.netnsDev!, ino: e.netnsIno }))) continue;
    try {
      roots.push(RootArray.open(e.ifindex, { netns: e.netns, pinBase: where.pinBase }));
    } catch (err) {
      // Detached or its namespace gone since it was listed: not shown.
      if (!(err instanceof BpfStateError || (err instanceof BpfError && err.code === 'ENODEV') || err instanceof RangeError)) throw err;
    }
  }
  return roots;
}

export const top: Command = {
  usage: '[iface...] [--interval SECONDS] [--once] [--json]',
  summary: 'per-slot packets/s, bytes/s and drops/s, refreshed (like bpftop); without an interface, every attached root array',
  help: 'A plain slot program (not built with xdp_root.h) has no counters: its rates show as "-" (null in --json).',
  options: {
    interval: { type: 'string', value: 'SECONDS', default: '1', description: 'between two readings, 0.1 to 3600' },
    once: { type: 'boolean', description: 'measure once (one interval) and exit' },
    json: { type: 'boolean', description: 'one JSON array of rows per reading' },
  },
  exitCodes: { 1: 'no root array attached (or one named cannot be opened)' },
  async run({ args, values, where }) {
    const interval = seconds(values.interval, '--interval', 0.1, 3600)!;
    const roots: RootArray[] = [];
    try {
      if (args.length > 0) for (const n of args) roots.push(RootArray.open(ifaceArg(n), where));
      else roots.push(...attachedRoots(where));
    } catch (e) {
      for (const r of roots) r.close();
      throw e;
    }
    if (roots.length === 0) {
      for (const r of roots) r.close();
      console.error('xdp-root: no root arrays attached');
      return 1;
    }
    let stop = false;
    const onInt = (): void => {
      stop = true;
    };
    process.once('SIGINT', onInt);
    try {
      let before = roots.map((r) => r.status());
      let t0 = process.hrtime.bigint();
      while (!stop) {
        await new Promise((r) => setTimeout(r, interval * 1000));
        const after = roots.map((r) => r.status());
        const t1 = process.hrtime.bigint();
        const elapsed = Number(t1 - t0) / 1e9;
        const rows = after.flatMap((a, i) => slotRates(before[i], a, elapsed));
        if (values.json) console.log(JSON.stringify(rows));
        else if (values.once) console.log(formatRates(rows));
        else process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}  every ${interval}s, Ctrl-C to quit\n${formatRates(rows)}\n`);
        if (values.once) break;
        before = after;
        t0 = t1;
      }
    } finally {
      process.off('SIGINT', onInt);
      for (const r of roots) r.close();
    }
    return 0;
  },
};
