/**
 * `xdp-root top [iface…]`: per-slot packets/s, bytes/s and drops/s, refreshed in the terminal
 * (like bpftop), or measured once with `--once`.
 *
 * @internal
 * @module
 */
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_PIN_BASE, RootArray } from '../rootarray/root-array';
import type { RootStatus } from '../rootarray/status';

export const topUsage = `  xdp-root top [iface...] [--interval SECONDS] [--once] [--json]`;

/** One slot's rates between two readings. */
export interface SlotRates {
  ifname: string;
  slot: number;
  program: string;
  packetsPerSec: number;
  bytesPerSec: number;
  dropsPerSec: number;
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

function formatRates(rows: SlotRates[]): string {
  const header = ['IFACE', 'SLOT', 'PROGRAM', 'PKTS/S', 'BYTES/S', 'DROPS/S'];
  const cells = rows.map((r) => [r.ifname, String(r.slot), r.program, r.packetsPerSec.toFixed(1), r.bytesPerSec.toFixed(1), r.dropsPerSec.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((v, i) => (i >= 3 || i === 1 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(header), ...cells.map(line)].join('\n') + (rows.length === 0 ? '\n(no filled slots)' : '');
}

/** Runs `xdp-root top`; returns the exit code. */
export async function topCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      interval: { type: 'string' },
      once: { type: 'boolean' },
      json: { type: 'boolean' },
      netns: { type: 'string' },
      'pin-base': { type: 'string' },
      debug: { type: 'boolean' },
    },
  });
  const seconds = values.interval === undefined ? 1 : Number(values.interval);
  if (!(seconds >= 0.1 && seconds <= 3600)) {
    console.error(`xdp-root: --interval must be a number of seconds in [0.1, 3600], got '${values.interval}'`);
    return 2;
  }
  const where = { netns: values.netns, pinBase: values['pin-base'] };
  let ifnames = positionals;
  if (ifnames.length === 0) {
    try {
      ifnames = readdirSync(where.pinBase ?? DEFAULT_PIN_BASE).filter((n) => !n.includes('@') && RootArray.exists(n, where));
    } catch {
      ifnames = [];
    }
  }
  if (ifnames.length === 0) {
    console.error('xdp-root: no root arrays attached');
    return 1;
  }
  const roots = ifnames.map((n) => RootArray.open(n, where));
  let stop = false;
  const onInt = (): void => {
    stop = true;
  };
  process.once('SIGINT', onInt);
  try {
    let before = roots.map((r) => r.status());
    let t0 = process.hrtime.bigint();
    while (!stop) {
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const after = roots.map((r) => r.status());
      const t1 = process.hrtime.bigint();
      const elapsed = Number(t1 - t0) / 1e9;
      const rows = after.flatMap((a, i) => slotRates(before[i], a, elapsed));
      if (values.json) console.log(JSON.stringify(rows));
      else if (values.once) console.log(formatRates(rows));
      else process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}  every ${seconds}s, Ctrl-C to quit\n${formatRates(rows)}\n`);
      if (values.once) break;
      before = after;
      t0 = t1;
    }
  } finally {
    process.off('SIGINT', onInt);
    for (const r of roots) r.close();
  }
  return 0;
}
