// The XDP root array on real veth pairs: chains, statistics, replacement under traffic, other
// processes, detach hygiene and bad input.
// @module-tag kernel-slice
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BpfError, BpfObject, BpfStateError, RootArray, attachXdp, queryXdp, shippedObjectPath, sumPerCpu } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { DEFAULT_PIN_BASE, rootArrayDir } from '../../lib/rootarray/root-array';
import { buildTs, describeNet, fixturePath, xdpRoot } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');

/** Waits out the MLD reports an XDP attach triggers, then zeroes the counters. */
async function settle(ra: RootArray): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  ra.clear();
}

/** Sends `count` UDP datagrams from b to a's `port` and returns how many arrived. */
async function udp(net: VethPair, port: number, count: number): Promise<number> {
  const listener = await net.listen({ on: 'a', udp: port });
  await net.send({ from: 'b', udp: { port, payload: 'x'.repeat(18) }, count });
  const got = await listener.collect({ timeoutMs: 300, count });
  await listener.close();
  return got.count;
}

describeNet('RootArray', () => {
  let net: VethPair | undefined;
  let ra: RootArray | undefined;

  beforeAll(() => {
    // The CLI tests run the compiled JavaScript in a child process.
    buildTs('tsconfig.build.json');
  });

  afterEach(async () => {
    if (ra && RootArray.exists(ra.ifname, { netns: ra.netns })) await RootArray.open(ra.ifname, { netns: ra.netns }).detach();
    ra?.close();
    ra = undefined;
    await net?.close();
    net = undefined;
  });

  /**
   * A veth pair with a root array on a. An XDP attach makes the kernel send MLD reports from a,
   * and their multicast-loopback copies reach a's own skb-mode XDP hook: let that burst pass and
   * start the counters from zero, so the tests count only their own packets.
   */
  async function setup(slots = 4): Promise<{ net: VethPair; ra: RootArray; where: { netns: string } }> {
    net = await VethPair.create();
    const where = { netns: net.a.netnsPath };
    ra = await RootArray.attach(net.a.ifname, { ...where, slots, mode: 'skb' });
    await settle(ra);
    return { net, ra, where };
  }

  it('attaches a root that passes everything while its slots are empty, and pins its state', async () => {
    const { net, ra, where } = await setup();
    const q = queryXdp(net.a.ifname, where)!;
    expect(q.name).toBe('xdp_root');
    expect(q.mode).toBe('skb');
    expect(readdirSync(ra.dir).sort()).toEqual(['root', 'xdp_root_capbuf', 'xdp_root_capcfg', 'xdp_root_capon', 'xdp_root_slots', 'xdp_root_state', 'xdp_root_stats']);
    expect(await udp(net, 9000, 20)).toBe(20);
    const s = ra.status();
    expect(s).toMatchObject({ ifname: net.a.ifname, mode: 'skb', slotCount: 4, rootProgId: q.progId });
    expect(s.root).toEqual({ packets: 20n, bytes: 20n * 60n, noSlot: 20n });
    expect(s.slots.map((x) => x.progId)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('runs a chain of three programs: counts, drops and passes exactly as configured', async () => {
    const { net, ra } = await setup();
    await ra.load(0, fixturePath('slot_count'));
    await ra.load(1, fixturePath('slot_drop_port'), { globals: { drop_port: 9001 } });
    await ra.load(3, shippedObjectPath('xdp_pass')); // a plain program, after an empty slot
    expect(await udp(net, 9000, 100)).toBe(100);
    expect(await udp(net, 9001, 50)).toBe(0);
    const s = ra.status();
    expect(s.root).toMatchObject({ packets: 150n, noSlot: 0n });
    expect(s.slots[0]).toMatchObject({ name: 'slot_count', counted: true });
    expect(s.slots[0].stats).toMatchObject({ pass: 150n, drop: 0n, passedOn: 150n, bytes: 150n * 60n });
    expect(s.slots[1]).toMatchObject({ name: 'slot_drop_port', counted: true });
    expect(s.slots[1].stats).toMatchObject({ pass: 100n, drop: 50n, passedOn: 100n });
    expect(s.slots[2].progId).toBeUndefined();
    expect(s.slots[3]).toMatchObject({ name: 'xdp_pass', counted: false });
    expect(s.slots[1].loadedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(s.slots[1].loadedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('the last counted slot keeps what no later slot takes: passedOn excludes it', async () => {
    const { net, ra } = await setup();
    await ra.load(2, fixturePath('slot_count'));
    expect(await udp(net, 9000, 10)).toBe(10);
    expect(ra.status().slots[2].stats).toMatchObject({ pass: 10n, passedOn: 0n });
  });

  it('replaces a slot 1,000 times while traffic flows: every packet runs exactly one of the two programs', async () => {
    const { net, ra } = await setup(2);
    using a = ra.prepare(0, fixturePath('slot_count')).object;
    using b = ra.prepare(0, fixturePath('slot_count')).object;
    for (const o of [a, b]) await o.load();
    // Each program counts in its own map: their sum is what ran in the slot, across every swap
    // (the slot's own counters restart at each load).
    const seen = (o: BpfObject): bigint => sumPerCpu(o.map('seen').get(0) as bigint[]);
    const ran = (): bigint => seen(a) + seen(b);
    const listener = await net.listen({ on: 'a', udp: 9100 });
    // The sender keeps sending, batch after batch, until the swapping ends; bounded by a total
    // count (what one listener counts) and a deadline, which the progress checks below turn into
    // a failure rather than a silent pass. Paced at most one datagram a millisecond, so the count
    // (90,000) outlasts the deadline (80 s) however slowly the swaps run.
    const BATCH = 100;
    const MAX_SENT = 90_000;
    const deadline = Date.now() + scaledMs(80_000); // a hang guard: 1,000 swaps take 10-20 s on a loaded 2-core VM
    let swapping = true;
    let sent = 0;
    const sender = (async () => {
      while (swapping && sent + BATCH <= MAX_SENT && Date.now() < deadline) {
        sent += (await net.send({ from: 'b', udp: { port: 9100, payload: 'y' }, count: BATCH, intervalMs: 1 })).sent;
      }
    })();
    // Every 25 swaps, wait until the program just installed runs packets: traffic overlaps the
    // swaps by construction, whatever the machine's load, and each check sees the slot switched
    // (25 is odd, so the checks alternate between a and b).
    const EVERY = 25;
    let swaps = 0;
    let checkpoints = 0;
    try {
      for (; swaps < 1000; swaps++) {
        const current = swaps % 2 ? a : b;
        await ra.load(0, current.program('slot_count'));
        if ((swaps + 1) % EVERY !== 0) continue;
        const installed = seen(current);
        while (seen(current) === installed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        if (seen(current) === installed) throw new Error(`no packet ran in the slot's new program after swap ${swaps + 1} (sent ${sent})`);
        checkpoints++;
      }
    } finally {
      swapping = false;
      await sender;
    }
    const got = await listener.collect({ timeoutMs: scaledMs(1000), count: sent });
    await listener.close();
    expect(swaps).toBe(1000);
    expect(checkpoints).toBe(1000 / EVERY);
    // No packet lost or dispatched elsewhere: each one ran exactly one of the two programs, never
    // found the slot empty, and reached the socket (or its buffer's drop counter).
    const root = ra.status().root;
    expect(root.packets).toBe(BigInt(sent));
    expect(root.noSlot).toBe(0n);
    expect(ran()).toBe(BigInt(sent));
    expect(got.count + got.dropped).toBe(sent);
  }, scaledMs(100_000));

  it('is found by another process: RootArray.open and `xdp-root status --json` agree', async () => {
    const { net, ra, where } = await setup();
    await ra.load(1, fixturePath('slot_drop_port'));
    expect(await udp(net, 9001, 7)).toBe(0);
    const same = RootArray.open(net.a.ifname, where);
    expect(same.status().slots[1].stats.drop).toBe(7n);
    same.close();
    const r = xdpRoot(['status', net.a.ifname, '--netns', net.a.netnsPath, '--json']);
    expect(r.code).toBe(0);
    const [st] = JSON.parse(r.stdout);
    expect(st).toMatchObject({ attached: true, ifname: net.a.ifname, slotCount: 4, mode: 'skb' });
    expect(st.slots[1]).toMatchObject({ name: 'slot_drop_port', counted: true, stats: { drop: '7' } });
    const table = xdpRoot(['status', net.a.ifname, '--netns', net.a.netnsPath]);
    expect(table.stdout).toMatch(/^ +1 \| +\d+ \| slot_drop_port +\|.*\| +0 \| +7 \| +0 \|/m);
  });

  it('attach is idempotent, refuses a foreign program without force, and keeps the slot count', async () => {
    const { net, where } = await setup(4);
    await ra!.load(0, fixturePath('slot_count'));
    const again = await RootArray.attach(net.a.ifname, { ...where });
    expect(again.slotCount).toBe(4);
    expect(again.status().slots[0].name).toBe('slot_count');
    again.close();
    await expect(RootArray.attach(net.a.ifname, { ...where, slots: 8 })).rejects.toThrow(/has 4 slots/);
    await ra!.detach();
    ra = undefined;
    using drop = BpfObject.open(shippedObjectPath('xdp_drop'));
    await drop.load();
    const foreign = attachXdp(drop.program('xdp_drop'), net.a.ifname, { ...where, link: false, mode: 'skb' });
    const err = await RootArray.attach(net.a.ifname, where).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).message).toMatch(/already runs XDP program 'xdp_drop' \(id \d+, skb\).*force/);
    expect(queryXdp(net.a.ifname, where)!.progId).toBe(foreign.progId);
    ra = await RootArray.attach(net.a.ifname, { ...where, force: true });
    expect(queryXdp(net.a.ifname, where)!.name).toBe('xdp_root');
  });

  it('upgrades the root program atomically, keeping mode, slots and slot programs', async () => {
    const { net, where } = await setup(4);
    await ra!.load(0, fixturePath('slot_count'));
    const before = queryXdp(net.a.ifname, where)!.progId;
    const up = await RootArray.attach(net.a.ifname, { ...where, rootObject: shippedObjectPath('xdp_root') });
    const after = queryXdp(net.a.ifname, where)!;
    expect(after.progId).not.toBe(before);
    expect(after.mode).toBe('skb');
    expect(up.status().slots[0].name).toBe('slot_count');
    await settle(up);
    expect(await udp(net, 9000, 5)).toBe(5);
    expect(up.status().slots[0].stats.pass).toBe(5n);
    up.close();
  });

  it('detach leaves nothing in bpffs or on the interface', async () => {
    const { net, where } = await setup();
    await ra!.load(0, fixturePath('slot_count'));
    const dir = ra!.dir;
    await ra!.detach();
    ra = undefined;
    expect(queryXdp(net.a.ifname, where)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    expect(RootArray.exists(net.a.ifname, where)).toBe(false);
    expect(() => RootArray.open(net.a.ifname, where)).toThrow(BpfStateError);
    expect(await udp(net, 9000, 3)).toBe(3);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const { net, ra, where } = await setup(4);
    await ra.load(0, fixturePath('slot_count'));
    const before = ra.status();
    await expect(ra.load(4, fixturePath('slot_count'))).rejects.toThrow(/slot must be in \[0, 3\]/);
    await expect(ra.load(-1, fixturePath('slot_count'))).rejects.toThrow(RangeError);
    await expect(ra.load(1, shippedObjectPath('tc_counter'))).rejects.toThrow(/has no XDP program/);
    await expect(ra.load(1, '/nonexistent.bpf.o')).rejects.toThrow(/ENOENT/);
    using tc = BpfObject.open(shippedObjectPath('tc_counter'));
    await tc.load();
    await expect(ra.load(1, tc.programs[0])).rejects.toThrow(/a slot takes an XDP program/);
    await expect(RootArray.attach('lbn-nonexist0', { ...where })).rejects.toThrow(/ENODEV/);
    expect(existsSync(join(DEFAULT_PIN_BASE, `lbn-nonexist0@${net.a.netns}`))).toBe(false);
    await expect(RootArray.attach(net.a.ifname, { ...where, slots: 33 })).rejects.toThrow(RangeError);
    expect(() => RootArray.open('../etc')).toThrow(RangeError);
    const after = ra.status();
    expect(after.slots.map((s) => s.progId)).toEqual(before.slots.map((s) => s.progId));
    expect(queryXdp(net.a.ifname, where)!.progId).toBe(before.rootProgId);
  });
});

describeNet('xdp-root CLI', () => {
  let net: VethPair | undefined;

  afterEach(async () => {
    if (net && RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })) {
      await RootArray.open(net.a.ifname, { netns: net.a.netnsPath }).detach();
    }
    await net?.close();
    net = undefined;
  });

  it('attach, load, status, clear, unload, detach end to end', async () => {
    net = await VethPair.create();
    const ns = ['--netns', net.a.netnsPath];
    const ifname = net.a.ifname;
    const dir = rootArrayDir(ifname, { netns: net.a.netnsPath });
    expect(xdpRoot(['status', ifname, ...ns]).stdout).toMatch(`Root array not attached to interface ${ifname}.`);
    let r = xdpRoot(['attach', ifname, '--mode', 'skb', '--slots', '3', ...ns]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/3 slots, mode skb/);
    r = xdpRoot(['load', ifname, '2', fixturePath('slot_drop_port'), '--program', 'slot_drop_port', ...ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/slot 2 .*slot_drop_port/);
    r = xdpRoot(['load', ifname, '1', shippedObjectPath('xdp_pass'), ...ns]);
    expect(r.stdout).toMatch(/verdicts not counted/);
    expect(await udp(net, 9001, 4)).toBe(4); // slot 1's plain xdp_pass ends the chain first
    r = xdpRoot(['unload', ifname, '1', ...ns]);
    expect(r.stdout).toMatch(/slot 1 .* emptied/);
    expect(await udp(net, 9001, 4)).toBe(0);
    r = xdpRoot(['status', ifname, ...ns]);
    expect(r.stdout).toMatch(/^ +2 \| +\d+ \| slot_drop_port .*\| +0 \| +4 \| +0 \|/m);
    expect(xdpRoot(['clear', ifname, ...ns]).code).toBe(0);
    expect(xdpRoot(['status', ifname, ...ns]).stdout).toMatch(/^ +2 \| +\d+ \| slot_drop_port .*\| +0 \| +0 \| +0 \|/m);
    r = xdpRoot(['detach', ifname, ...ns]);
    expect(r.stdout).toMatch(/detached/);
    expect(queryXdp(ifname, { netns: net.a.netnsPath })).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it('errors are one line and a non-zero exit; --debug adds the stack', () => {
    let r = xdpRoot(['load', 'lbn-none0', '9', '/x.o']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^xdp-root: .*no interface 'lbn-none0'/);
    r = xdpRoot(['load', 'lbn-none0', '9', '/x.o', '--debug']);
    expect(r.stderr).toMatch(/\n +at /);
    r = xdpRoot(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    r = xdpRoot(['attach', 'x', '--mode', 'turbo']);
    expect(r.code).toBe(2);
    r = xdpRoot(['attach', 'x', '--bogus']);
    expect(r.code).toBe(2);
  });
});
