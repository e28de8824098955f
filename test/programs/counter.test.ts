// XdpCounter and TcCounter (libbpf-node/programs): exact per-protocol and per-source counts on
// crafted frames and on real IPv4/IPv6 traffic, standalone and in a root-array slot; tc counts
// per direction and the UDP port drop.
import { afterEach, expect, it } from 'vitest';
import { BpfStateError, RootArray, queryTc } from '../../lib/index';
import { TcCounter, XdpCounter, XdpFilter, counterProtocols } from '../../lib/programs/index';
import { VethPair } from '../../lib/testing/index';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO, eth, icmp, ipv4, ipv6, pad, tcp, udp as udpHdr } from '../support/frames';
import { describeBpf, describeNet } from '../support/helpers';
import { EXTRA_V4, addExtraSubnet, settle, udp } from '../support/programs';

const closers: { close(): Promise<void> }[] = [];
let net: VethPair | undefined;
let root: RootArray | undefined;
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c.close();
  await root?.detach().catch(() => {});
  root = undefined;
  await net?.close();
  net = undefined;
});

async function track<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const c = await p;
  closers.push(c);
  return c;
}

describeBpf('XdpCounter on crafted frames', () => {
  it('counts packets and bytes per protocol and per source, exactly; reset() zeroes both', async () => {
    const counter = await track(XdpCounter.load());
    const frames: [Buffer, string][] = [
      [pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.TCP }, tcp(1, 80)))), 'ipv4-tcp'],
      [pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(1, 53)), [5])), 'ipv4-udp'],
      [pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.3', dst: '198.18.0.1', proto: IPPROTO.ICMP }, icmp(8, 0)))), 'ipv4-icmp'],
      [pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.3', dst: '198.18.0.1', proto: IPPROTO.GRE }, Buffer.alloc(8)))), 'ipv4-other'],
      [eth(ETH_P_IPV6, ipv6({ src: 'fd00::2', dst: 'fd00::1', proto: IPPROTO.UDP, hopByHop: true }, udpHdr(1, 53))), 'ipv6-udp'],
      [eth(ETH_P_IPV6, ipv6({ src: 'fd00::2', dst: 'fd00::1', proto: IPPROTO.ICMPV6 }, icmp(128, 0))), 'ipv6-icmp'],
      [pad(eth(ETH_P_ARP, Buffer.alloc(28))), 'non-ip'],
      [eth(ETH_P_IP, Buffer.alloc(10, 0x45)), 'malformed'],
    ];
    for (const [f] of frames) expect(counter.program.testRun({ data: f, repeat: 2 }).action).toBe('XDP_PASS');
    const byProto = counter.byProtocol();
    expect(Object.keys(byProto)).toEqual([...counterProtocols]);
    for (const name of counterProtocols) {
      const mine = frames.filter(([, n]) => n === name);
      expect(byProto[name], name).toEqual({ packets: BigInt(2 * mine.length), bytes: BigInt(2 * mine.reduce((a, [f]) => a + f.length, 0)) });
    }
    const len = (...i: number[]) => BigInt(2 * i.reduce((a, k) => a + frames[k]![0].length, 0));
    // Most packets first, ties broken by bytes, then by address: all three sent 4 packets.
    const expected = [
      { address: '198.18.0.2', packets: 4n, bytes: len(0, 1) },
      { address: '198.18.0.3', packets: 4n, bytes: len(2, 3) },
      { address: 'fd00::2', packets: 4n, bytes: len(4, 5) },
    ].sort((a, b) => Number(b.bytes - a.bytes) || (a.address < b.address ? -1 : 1));
    expect(counter.sources()).toEqual(expected);
    expect(counter.topSources(2)).toEqual(expected.slice(0, 2));
    counter.reset();
    expect(counter.sources()).toEqual([]);
    expect(Object.values(counter.byProtocol()).every((c) => c.packets === 0n && c.bytes === 0n)).toBe(true);
  });

  it('the protocol names follow enum xdp_counter_proto in the object\'s BTF', async () => {
    const counter = await track(XdpCounter.load());
    const e = (counter.program.object!.btf!.findByName('xdp_counter_proto', 'ENUM'))!;
    const fromBtf = e.values.filter((v) => v.name !== 'XDP_COUNTER_PROTOS').sort((a, b) => Number(a.value) - Number(b.value));
    expect(fromBtf.map((v) => v.name.replace('XDP_COUNTER_', '').toLowerCase().replace('_', '-'))).toEqual([...counterProtocols]);
    await counter.close();
    expect(() => counter.byProtocol()).toThrow(BpfStateError);
  });
});

describeNet('XdpCounter on a veth pair', () => {
  it('standalone: exact counts of real UDP, ping and TCP over IPv4 and IPv6', async () => {
    net = await VethPair.create();
    const counter = await track(XdpCounter.load());
    counter.attach(net.a.ifname, { mode: 'skb', netns: net.a.netnsPath });
    await settle();
    counter.reset();
    expect(await udp(net, { count: 30 })).toBe(30); // 60-byte frames
    expect(await udp(net, { count: 20, family: 6 })).toBe(20); // 80-byte frames
    expect((await net.ping({ from: 'b', count: 4, intervalMs: 5 })).received).toBe(4);
    expect((await net.ping({ from: 'b', family: 6, count: 3, intervalMs: 5 })).received).toBe(3);
    await net.send({ from: 'b', tcp: { port: 81 }, count: 2 }); // refused: a SYN each, then our RST is egress
    const p = counter.byProtocol();
    expect(p['ipv4-udp']).toEqual({ packets: 30n, bytes: 30n * 60n });
    expect(p['ipv6-udp']).toEqual({ packets: 20n, bytes: 20n * 80n });
    expect(p['ipv4-icmp'].packets).toBe(4n);
    expect(p['ipv6-icmp'].packets).toBe(3n);
    expect(p['ipv4-tcp'].packets).toBe(2n);
    expect(p['non-ip'].packets + p.malformed.packets + p['ipv6-tcp'].packets).toBe(0n);
    const top = counter.topSources(5);
    expect(top.map((s) => [s.address, s.packets])).toEqual([
      [net.b.ipv4, 36n],
      [net.b.ipv6, 23n],
    ]);
  });

  it('behind a filter in a root array: counts only what the filter passed', async () => {
    net = await VethPair.create();
    await addExtraSubnet(net);
    root = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, mode: 'skb', slots: 3 });
    const filter = await track(XdpFilter.load({ root, slot: 0 }));
    const counter = await track(XdpCounter.load({ root, slot: 1 }));
    filter.block(EXTRA_V4.net);
    await settle();
    counter.reset();
    expect(await udp(net, { count: 15, to: EXTRA_V4.a })).toBe(0);
    expect(await udp(net, { count: 25 })).toBe(25);
    expect(counter.byProtocol()['ipv4-udp'].packets).toBe(25n);
    expect(counter.topSources(10).map((s) => s.address)).toEqual([net.b.ipv4]);
  });
});

describeBpf('TcCounter on crafted frames', () => {
  it('drops IPv4 UDP to the configured port in the configured direction only', async () => {
    const tc = await track(TcCounter.load());
    const toPort = pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(5000, 9001))));
    const other = pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(5000, 9002))));
    const run = (d: 'ingress' | 'egress', f: Buffer) => tc.program(d).testRun({ data: f }).action;
    expect(run('ingress', toPort)).toBe('TC_ACT_OK');
    tc.dropUdpPort(9001, { direction: 'ingress' });
    expect(run('ingress', toPort)).toBe('TC_ACT_SHOT');
    expect(run('ingress', other)).toBe('TC_ACT_OK');
    expect(run('egress', toPort)).toBe('TC_ACT_OK');
    tc.chainNext(true);
    expect(run('egress', toPort)).toBe('TC_ACT_UNSPEC');
    tc.dropUdpPort(0);
    expect(run('ingress', toPort)).toBe('TC_ACT_UNSPEC');
    expect(tc.stats()).toEqual({
      ingress: { packets: 4n, bytes: 240n, dropped: 1n, droppedBytes: 60n },
      egress: { packets: 2n, bytes: 120n, dropped: 0n, droppedBytes: 0n },
    });
    expect(() => tc.dropUdpPort(70000)).toThrow(RangeError);
    expect(() => tc.dropUdpPort(53, { direction: 'sideways' as never })).toThrow(RangeError);
  });
});

describeNet('TcCounter on a veth pair', () => {
  // What runs on a hook: tcx programs, or cls_bpf filters on kernels before tcx (6.6).
  const onHook = (ifname: string, netns: string, direction: 'ingress' | 'egress'): string[] => {
    const q = queryTc(ifname, { netns, direction });
    return [...q.programs.map((p) => p.name), ...q.filters.map((f) => f.name)];
  };

  it('counts both directions of real traffic and drops the chosen UDP port on ingress; close() detaches', async () => {
    net = await VethPair.create();
    const netns = net.a.netnsPath;
    const tc = await track(TcCounter.load());
    tc.attach(net.a.ifname, { netns });
    expect(onHook(net.a.ifname, netns, 'ingress')).toEqual(['tc_counter_ingr']); // the kernel keeps 15 characters
    expect(onHook(net.a.ifname, netns, 'egress')).toEqual(['tc_counter_egre']);
    expect(await udp(net, { count: 10 })).toBe(10);
    expect((await net.ping({ from: 'b', count: 3, intervalMs: 5 })).received).toBe(3);
    let s = tc.stats();
    expect(s.ingress.packets).toBeGreaterThanOrEqual(13n);
    expect(s.egress.packets).toBeGreaterThanOrEqual(3n); // the echo replies
    tc.dropUdpPort(9001, { direction: 'ingress' });
    const before = tc.stats().ingress;
    expect(await udp(net, { count: 12, port: 9001 })).toBe(0);
    expect(await udp(net, { count: 5, port: 9002 })).toBe(5);
    s = tc.stats();
    expect(s.ingress.dropped - before.dropped).toBe(12n);
    expect(s.ingress.droppedBytes - before.droppedBytes).toBe(12n * 60n);
    expect(s.ingress.packets - before.packets).toBeGreaterThanOrEqual(17n);
    expect(() => tc.attach(net!.a.ifname, { netns })).toThrow(/already attached/);
    await tc.close();
    expect(onHook(net.a.ifname, netns, 'ingress')).toEqual([]);
    expect(await udp(net, { count: 3, port: 9001 })).toBe(3);
  });
});
