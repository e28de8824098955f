// XDP attachment on a veth pair: each mode, seen by `ip` and queryXdp, real traffic dropped and
// counted, atomic replacement while traffic flows, and the errors people hit.
// @module-tag kernel-slice
// @module-tag threads
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BpfError, BpfObject, attachXdp, detachXdp, queryXdp, shippedObjectPath, type XdpMode } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { IP_XDP_MODE, XDP_PASS, ipLinkXdp, xdpCount } from '../support/attach';
import { scaledCount, scaledMs } from '../support/kernel';
import { describeNet, fixturePath } from '../support/helpers';

async function loaded(path: string): Promise<BpfObject> {
  const obj = BpfObject.open(path);
  await obj.load();
  return obj;
}

describeNet('attachXdp on a veth pair', () => {
  let net: VethPair;
  const objects: BpfObject[] = [];
  const load = async (name: 'xdp_pass' | 'xdp_drop' | 'xdp_count') => {
    const obj = await loaded(shippedObjectPath(name));
    objects.push(obj);
    return obj;
  };
  beforeEach(async () => {
    net = await VethPair.create();
  });
  afterEach(async () => {
    for (const o of objects.splice(0)) o.close();
    await net.close();
  });

  for (const mode of ['skb', 'native'] as XdpMode[]) {
    for (const viaLink of [true, false]) {
      it(`attaches in ${mode} mode through ${viaLink ? 'a link' : 'netlink'}; ip and queryXdp see it; detach removes it`, async () => {
        const obj = await load('xdp_pass');
        const prog = obj.program('xdp_pass');
        const att = attachXdp(prog, net.a.ifname, { mode, netns: net.a.netnsPath, link: viaLink });
        expect(att.mode).toBe(mode);
        expect(await ipLinkXdp(net.a)).toEqual({ mode: IP_XDP_MODE[mode], prog: expect.objectContaining({ id: prog.id }) });
        const q = queryXdp(net.a.ifname, { netns: net.a.netnsPath });
        expect(q).toMatchObject({ ifindex: net.a.ifindex, ifname: net.a.ifname, mode, progId: prog.id, name: 'xdp_pass' });
        expect(q!.programs).toEqual({ [mode]: { id: prog.id, name: 'xdp_pass' } });
        // By index too, and nothing on the other end.
        expect(queryXdp(net.a.ifindex, { netns: net.a.netnsPath })?.progId).toBe(prog.id);
        expect(queryXdp(net.b.ifname, { netns: net.b.netnsPath })).toBeUndefined();
        att.detach();
        expect(await ipLinkXdp(net.a)).toBeUndefined();
        expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
      });
    }
  }

  it('queryXdp sees a program attached by ip, and detachXdp removes it', async () => {
    const obj = await load('xdp_drop');
    const ok = await net.a.exec('ip', ['link', 'set', 'dev', net.a.ifname, 'xdpgeneric', 'obj', shippedObjectPath('xdp_drop'), 'sec', 'xdp']);
    expect(ok.stderr).toBe('');
    const q = queryXdp(net.a.ifname, { netns: net.a.netnsPath });
    expect(q).toMatchObject({ mode: 'skb', name: 'xdp_drop' });
    expect(q!.progId).not.toBe(obj.program('xdp_drop').id); // ip loaded its own copy
    expect(detachXdp(net.a.ifname, { netns: net.a.netnsPath, expected: q!.progId + 1000000 })).toBe(false);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeDefined();
    expect(detachXdp(net.a.ifname, { netns: net.a.netnsPath, expected: q!.progId })).toBe(true);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
  });

  it('xdp_drop stops real traffic, which flows again after detach', async () => {
    const obj = await load('xdp_drop');
    expect(await net.ping({ from: 'b', count: 3 })).toEqual({ sent: 3, received: 3 });
    const link = attachXdp(obj.program('xdp_drop'), net.a.ifname, { mode: 'native', netns: net.a.netnsPath });
    const dropped = net.receive({ on: 'a', udp: 9000, timeoutMs: 300 });
    await net.send({ from: 'b', udp: { port: 9000, payload: 'x' }, count: 50 });
    expect((await dropped).count).toBe(0);
    expect((await net.ping({ from: 'b', count: 3, timeoutMs: 300 })).received).toBe(0);
    link.close();
    const passed = net.receive({ on: 'a', udp: 9000, timeoutMs: scaledMs(1000), count: 50 });
    await net.send({ from: 'b', udp: { port: 9000, payload: 'x' }, count: 50 });
    expect((await passed).count).toBe(50);
  });

  it('xdp_count counts exactly the packets sent, and their bytes', async () => {
    const obj = await load('xdp_count');
    using _link = attachXdp(obj.program('xdp_count'), net.a.ifname, { mode: 'native', netns: net.a.netnsPath });
    const arrived = net.receive({ on: 'a', udp: 9000, timeoutMs: scaledMs(2000), count: 137 });
    await net.send({ from: 'b', udp: { port: 9000, payload: Buffer.alloc(100) }, count: 137 });
    expect((await arrived).count).toBe(137);
    // 14 Ethernet + 20 IPv4 + 8 UDP + 100 payload per frame.
    expect(xdpCount(obj.map('counters'), XDP_PASS)).toEqual({ packets: 137n, bytes: 137n * 142n });
  });

  // Traffic during a swap: 1500 datagrams 1 ms apart, fewer under emulation (where each send
  // takes longer anyway), received within receive()'s 60 s limit.
  const swapPackets = scaledCount(1500, 200);
  const swapWindowMs = Math.min(scaledMs(20_000), 60_000);

  async function untilCounted(obj: BpfObject): Promise<void> {
    for (let i = 0; i < 500 && xdpCount(obj.map('counters'), XDP_PASS).packets === 0n; i++) await new Promise((r) => setTimeout(r, 5));
  }

  it('netlink replace is atomic: traffic flowing during the swap is counted by one program or the other', async () => {
    const first = await load('xdp_count');
    const second = await load('xdp_count');
    const att = attachXdp(first.program('xdp_count'), net.a.ifname, { mode: 'native', netns: net.a.netnsPath, link: false });
    const total = swapPackets;
    const arrived = net.receive({ on: 'a', udp: 9100, timeoutMs: swapWindowMs, count: total });
    const sending = net.send({ from: 'b', udp: { port: 9100 }, count: total, intervalMs: 1 });
    await untilCounted(first);
    const swapped = attachXdp(second.program('xdp_count'), net.a.ifname, { netns: net.a.netnsPath, link: false, replace: first.program('xdp_count') });
    expect(swapped.mode).toBe('native'); // the mode of the replaced program is kept
    expect((await sending).sent).toBe(total);
    expect((await arrived).count).toBe(total);
    const a = xdpCount(first.map('counters'), XDP_PASS).packets;
    const b = xdpCount(second.map('counters'), XDP_PASS).packets;
    expect(a).toBeGreaterThan(0n);
    expect(b).toBeGreaterThan(0n); // the swap happened while traffic flowed
    expect(a + b).toBe(BigInt(total));
    // The first attachment's handle no longer owns the hook: its detach leaves the new program.
    expect(att.detach()).toBe(false);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.progId).toBe(second.program('xdp_count').id);
    expect(swapped.detach()).toBe(true);
  });

  it('link.update() swaps atomically too', async () => {
    const first = await load('xdp_count');
    const second = await load('xdp_count');
    using link = attachXdp(first.program('xdp_count'), net.a.ifname, { mode: 'skb', netns: net.a.netnsPath });
    const total = swapPackets;
    const arrived = net.receive({ on: 'a', udp: 9101, timeoutMs: swapWindowMs, count: total });
    const sending = net.send({ from: 'b', udp: { port: 9101 }, count: total, intervalMs: 1 });
    await untilCounted(first);
    link.update(second.program('xdp_count'), { expected: first.program('xdp_count') });
    expect((await sending).sent).toBe(total);
    expect((await arrived).count).toBe(total);
    const a = xdpCount(first.map('counters'), XDP_PASS).packets;
    const b = xdpCount(second.map('counters'), XDP_PASS).packets;
    expect(b).toBeGreaterThan(0n);
    expect(a + b).toBe(BigInt(total));
    expect(link.progId).toBe(second.program('xdp_count').id);
    // The expected program is checked.
    expect(() => link.update(first.program('xdp_count'), { expected: first.program('xdp_count') })).toThrow(/EPERM/);
  });

  it('refuses to clobber an attached program, naming it; force overwrites', async () => {
    const drop = await load('xdp_drop');
    const pass = await load('xdp_pass');
    const att = attachXdp(drop.program('xdp_drop'), net.a.ifname, { mode: 'skb', netns: net.a.netnsPath, link: false });
    const id = drop.program('xdp_drop').id;
    const err = (() => {
      try {
        attachXdp(pass.program('xdp_pass'), net.a.ifname, { mode: 'skb', netns: net.a.netnsPath, link: false });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).code).toBe('EBUSY');
    expect((err as BpfError).message).toContain(`program ${id} 'xdp_drop' in skb mode`);
    expect((err as BpfError).message).toContain('replace');
    // A link cannot take the hook either.
    expect(() => attachXdp(pass.program('xdp_pass'), net.a.ifname, { mode: 'skb', netns: net.a.netnsPath })).toThrow(new RegExp(`EBUSY.*program ${id} 'xdp_drop'`, 's'));
    // Replacing with the wrong expected program is refused.
    expect(() => attachXdp(pass.program('xdp_pass'), net.a.ifname, { netns: net.a.netnsPath, link: false, replace: pass.program('xdp_pass') })).toThrow(/EEXIST/);
    const forced = attachXdp(pass.program('xdp_pass'), net.a.ifname, { mode: 'skb', netns: net.a.netnsPath, link: false, force: true });
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.name).toBe('xdp_pass');
    expect(att.attached).toBe(false);
    expect(forced.attached).toBe(true);
    forced.detach();
  });

  it('a missing interface is ENODEV, naming it and the namespace', async () => {
    const obj = await load('xdp_pass');
    const call = () => attachXdp(obj.program('xdp_pass'), 'nope0', { netns: net.a.netnsPath });
    expect(call).toThrow(BpfError);
    expect(call).toThrow(/ENODEV.*interface 'nope0' in netns \/run\/netns\/lbn-/s);
    // The veth end is not in the test process's namespace: without netns it is not found.
    expect(() => queryXdp(net.a.ifname)).toThrow(/ENODEV/);
    expect(() => queryXdp(net.a.ifindex)).toThrow(/ENODEV/);
    expect(() => queryXdp('x', { netns: '/run/netns/lbn-does-not-exist' })).toThrow(/ENOENT.*lbn-does-not-exist/s);
  });

  it('a program of the wrong type is a TypeError saying what is needed', async () => {
    using tc = await loaded(fixturePath('tc_drop'));
    expect(() => attachXdp(tc.program('tc_drop'), net.a.ifname, { netns: net.a.netnsPath })).toThrow(TypeError);
    expect(() => attachXdp(tc.program('tc_drop'), net.a.ifname, { netns: net.a.netnsPath })).toThrow(/sched_cls program; attachXdp needs an XDP program/);
    const obj = await load('xdp_pass');
    expect(() => attachXdp(obj.program('xdp_pass'), net.a.ifname, { netns: net.a.netnsPath, mode: 'fast' as XdpMode })).toThrow(RangeError);
    expect(() => attachXdp(obj.program('xdp_pass'), net.a.ifname, { netns: net.a.netnsPath, replace: obj.program('xdp_pass') })).toThrow(/link.update/);
  });

  it('an unsupported mode says so, and falls back to skb when asked', async () => {
    const obj = await load('xdp_pass');
    const prog = obj.program('xdp_pass');
    // veth has no offload.
    expect(() => attachXdp(prog, net.a.ifname, { mode: 'hw', netns: net.a.netnsPath, link: false })).toThrow(/does not support XDP offload/);
    // The loopback of the kit's namespace has no native XDP.
    const err = (() => {
      try {
        attachXdp(prog, 'lo', { mode: 'native', netns: net.a.netnsPath, link: false });
      } catch (e) {
        return e as BpfError;
      }
    })();
    expect(err?.errno).toBe(95); // EOPNOTSUPP (Node names 95 ENOTSUP, its alias on Linux)
    expect(err?.message).toMatch(/does not support XDP in native mode/);
    using fallback = attachXdp(prog, 'lo', { mode: 'native', fallback: 'skb', netns: net.a.netnsPath });
    expect(fallback.mode).toBe('skb');
    expect(queryXdp('lo', { netns: net.a.netnsPath })?.mode).toBe('skb');
  });
});
