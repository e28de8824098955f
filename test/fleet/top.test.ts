// `xdp-root top`: per-slot rates from two readings, and the CLI's --once --json against traffic.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RootArray, type RootStatus, type SlotStats } from '../../lib/index';
import { slotRates } from '../../lib/cli/top';
import { VethPair } from '../../lib/testing/index';
import { buildTs, describeNet, fixturePath } from '../support/helpers';

const repo = join(__dirname, '..', '..');
const cli = join(repo, 'dist', 'lib', 'cli', 'xdp-root.js');

function stats(s: Partial<SlotStats>): SlotStats {
  return { aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n, invalid: 0n, bytes: 0n, passedOn: 0n, ...s };
}

function status(slots: { progId?: number; s: Partial<SlotStats> }[]): RootStatus {
  return {
    ifname: 'eth1', ifindex: 2, netns: undefined, mode: 'skb', rootProgId: 1, slotCount: slots.length,
    root: { packets: 0n, bytes: 0n, noSlot: 0n },
    slots: slots.map(({ progId, s }, slot) => ({ slot, progId, name: progId ? `p${progId}` : undefined, loadedAt: undefined, counted: true, stats: stats(s) })),
  };
}

describe('slotRates', () => {
  it('divides each filled slot\'s deltas by the seconds between readings, and restarts with a replaced program', () => {
    const before = status([{ progId: 10, s: { pass: 100n, drop: 50n, bytes: 9000n } }, { s: {} }, { progId: 30, s: { pass: 1000n } }]);
    const after = status([{ progId: 10, s: { pass: 300n, drop: 150n, aborted: 2n, bytes: 27000n } }, { s: {} }, { progId: 31, s: { pass: 40n, bytes: 400n } }]);
    expect(slotRates(before, after, 2)).toEqual([
      { ifname: 'eth1', slot: 0, program: 'p10', packetsPerSec: 151, bytesPerSec: 9000, dropsPerSec: 51 },
      { ifname: 'eth1', slot: 2, program: 'p31', packetsPerSec: 20, bytesPerSec: 200, dropsPerSec: 0 },
    ]);
  });
});

describeNet('xdp-root top', () => {
  let net: VethPair | undefined;
  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });
  afterEach(async () => {
    if (net) await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath });
    await net?.close();
    net = undefined;
  });

  it('--once --json reports drops only for the slot that drops, while traffic flows', async () => {
    net = await VethPair.create();
    const where = { netns: net.a.netnsPath };
    {
      using root = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
      await root.load(0, fixturePath('slot_count'));
      await root.load(1, fixturePath('slot_drop_port'));
    }
    const sending = net.send({ from: 'b', udp: { port: 9001, payload: 'x' }, count: 3000, intervalMs: 1, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'top', net.a.ifname, '--netns', net.a.netnsPath, '--once', '--json', '--interval', '1'], { encoding: 'utf8' });
    const sent = await sending;
    expect(sent.sent).toBe(3000);
    const rows = JSON.parse(stdout) as { slot: number; program: string; packetsPerSec: number; dropsPerSec: number }[];
    expect(rows[0].packetsPerSec).toBeGreaterThan(0);
    expect(rows.map((r) => [r.slot, r.program])).toEqual([[0, 'slot_count'], [1, 'slot_drop_port']]);
    expect(rows[0].dropsPerSec).toBe(0);
    expect(rows[1].dropsPerSec).toBeGreaterThan(0);
    // Each slot's counters come from one lookup, so a slot's drops are part of its packets (two
    // slots are read one after the other: comparing across them would race the traffic).
    expect(rows[1].dropsPerSec).toBeLessThanOrEqual(rows[1].packetsPerSec);
  });
});
