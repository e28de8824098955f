// XdpFilter (libbpf-node/programs): drop lists, fragments and malformed frames, with real
// traffic on a veth pair (standalone and in a root-array slot) and on crafted frames (testRun).
import { afterEach, describe, expect, it } from 'vitest';
import { BpfStateError, RootArray, queryXdp } from '../../lib/index';
import { XdpFilter, formatFilterStatus } from '../../lib/programs/index';
import { VethPair, udpFrame } from '../../lib/testing/index';
import { ETH_P_IP, ETH_P_IPV6, IPPROTO, eth, ipv4, ipv6, pad, tcp, udp as udpHdr } from '../support/frames';
import { describeBpf, describeNet } from '../support/helpers';
import { EXTRA_V4, EXTRA_V6, addExtraSubnet, settle, udp } from '../support/programs';
import { scaledMs } from '../support/kernel';

const XDP_DROP = 1;
const XDP_PASS = 2;

describeBpf('XdpFilter on crafted frames', () => {
  let filter: XdpFilter;
  afterEach(async () => filter?.close());
  const v4 = (src: string, extra: Partial<Parameters<typeof ipv4>[0]> = {}, vlans: number[] = []) =>
    pad(eth(ETH_P_IP, ipv4({ src, dst: '198.18.0.1', proto: IPPROTO.UDP, ...extra }, udpHdr(1000, 53)), vlans));
  const v6 = (src: string, extra: Partial<Parameters<typeof ipv6>[0]> = {}) =>
    eth(ETH_P_IPV6, ipv6({ src, dst: 'fd00::1', proto: IPPROTO.TCP, ...extra }, tcp(1000, 443)));
  const run = (frame: Buffer) => filter.program.testRun({ data: frame }).retval;

  it('drops the longest-prefix matches of its IPv4 and IPv6 lists, behind VLAN tags too', async () => {
    filter = await XdpFilter.load();
    expect(filter.block('198.19.0.0/16', { tag: 'wide' })).toBe('198.19.0.0/16');
    expect(filter.block('fd00:bad::7/48', { tag: 'v6' })).toBe('fd00:bad::/48');
    expect(run(v4('198.19.200.1'))).toBe(XDP_DROP);
    expect(run(v4('198.19.200.1', {}, [100, 200]))).toBe(XDP_DROP);
    expect(run(v4('198.18.200.1'))).toBe(XDP_PASS);
    expect(run(v6('fd00:bad:0:1::1'))).toBe(XDP_DROP);
    expect(run(v6('fd00:bad:1::1', { hopByHop: true }))).toBe(XDP_PASS);
    expect(filter.matches('198.19.1.2')).toBe('198.19.0.0/16');
    filter.block('198.19.1.0/24');
    expect(filter.matches('198.19.1.2')).toBe('198.19.1.0/24');
    expect(filter.matches('198.18.1.2')).toBeUndefined();
    expect(filter.unblock('198.19.0.0/16')).toBe(true);
    expect(filter.unblock('198.19.0.0/16')).toBe(false);
    expect(run(v4('198.19.200.1'))).toBe(XDP_PASS);
    expect(filter.stats()).toMatchObject({ ipDropCount: 2n, ip6DropCount: 1n, ipPassCount: 2n, ip6PassCount: 1n });
    expect(filter.list().map((e) => [e.cidr, e.tag])).toEqual([
      ['198.19.1.0/24', ''],
      ['fd00:bad::/48', 'v6'],
    ]);
    const added = filter.list()[1]!.addedAt.getTime();
    expect(added).toBeGreaterThan(Date.now() - 60_000);
    expect(added).toBeLessThanOrEqual(Date.now());
  });

  it('drops fragments only when configured, and destinations only with matchDestination', async () => {
    filter = await XdpFilter.load();
    const frags = [v4('198.18.0.9', { mf: true }), v4('198.18.0.9', { fragOffset: 185 }), v6('fd00::9', { fragment: { offset: 0, mf: true } })];
    expect(frags.map(run)).toEqual([XDP_PASS, XDP_PASS, XDP_PASS]);
    expect(filter.configure({ dropFragments: true })).toEqual({ dropFragments: true, matchDestination: false });
    expect(frags.map(run)).toEqual([XDP_DROP, XDP_DROP, XDP_DROP]);
    expect(run(v4('198.18.0.9'))).toBe(XDP_PASS);
    expect(filter.stats()).toMatchObject({ ipFragDropCount: 2n, ip6FragDropCount: 1n });
    filter.block('198.18.0.1/32');
    expect(run(v4('198.18.0.9'))).toBe(XDP_PASS);
    filter.configure({ matchDestination: true });
    expect(filter.config()).toEqual({ dropFragments: true, matchDestination: true });
    expect(run(v4('198.18.0.9'))).toBe(XDP_DROP);
  });

  it('counts malformed frames under their error and passes them', async () => {
    filter = await XdpFilter.load();
    filter.block('0.0.0.0/0');
    filter.block('::/0');
    const hdr = ipv4({ src: '198.19.0.1', dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(1, 2));
    const badIhl = Buffer.from(hdr);
    badIhl[0] = 0x43;
    expect(run(Buffer.from('0200000000020200000000018100', 'hex'))).toBe(XDP_PASS); // VLAN tag missing
    expect(run(eth(ETH_P_IP, badIhl))).toBe(XDP_PASS);
    expect(run(eth(ETH_P_IPV6, Buffer.alloc(30, 0x60)))).toBe(XDP_PASS);
    expect(filter.stats()).toMatchObject({ ethFrameErr: 1n, ipHeaderErr: 1n, ip6HeaderErr: 1n, ipDropCount: 0n, ip6DropCount: 0n });
  });

  it('refuses bad input with errors that say what to give, and changes nothing', async () => {
    filter = await XdpFilter.load();
    expect(() => filter.block('300.1.2.3/8')).toThrow(/not a CIDR prefix/);
    expect(() => filter.block('198.18.0.0/33')).toThrow(/\[0, 32\]/);
    expect(() => filter.block('fd00::/129')).toThrow(/\[0, 128\]/);
    expect(() => filter.block('198.18.0.0/24', { tag: 'x'.repeat(17) })).toThrow(/at most 16 bytes/);
    expect(() => filter.block(42 as unknown as string)).toThrow(TypeError);
    expect(() => filter.configure({ dropFragments: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => filter.configure({ frags: true } as never)).toThrow(/frags/);
    expect(() => filter.matches('198.18.0.0/24')).toThrow(/single address/);
    expect(() => filter.attach('lo', { mode: 'turbo' as never })).toThrow(RangeError);
    expect(filter.list()).toEqual([]);
    await expect(XdpFilter.load({ slot: 1 })).rejects.toThrow(/root and options.slot together/);
    await filter.close();
    expect(() => filter.block('198.18.0.0/24')).toThrow(BpfStateError);
    await filter.close(); // idempotent
  });

  it('formats its status as ecbpf does', async () => {
    filter = await XdpFilter.load();
    filter.block('203.0.113.0/24', { tag: 'abuse' });
    const text = formatFilterStatus(filter.status(), 'eth0');
    expect(text).toMatch(/^=+ Status for interface 'eth0' =+\nCurrent Configuration:\n\nfrags_drop\? false\n/);
    expect(text).toMatch(/^203\.0\.113\.0\/24 +abuse +added \d{4}-/m);
    expect(text).toMatch(/^ip_drop_count: 0$/m);
  });
});

describeNet('XdpFilter on a veth pair', () => {
  let net: VethPair | undefined;
  let root: RootArray | undefined;
  let filter: XdpFilter | undefined;

  afterEach(async () => {
    await filter?.close();
    filter = undefined;
    await root?.detach().catch(() => {});
    root = undefined;
    await net?.close();
    net = undefined;
  });

  it('standalone: drops blocked IPv4 and IPv6 sources, passes the rest, detaches on close', async () => {
    net = await VethPair.create();
    const netns = net.a.netnsPath;
    await addExtraSubnet(net);
    filter = await XdpFilter.load();
    expect(filter.attach(net.a.ifname, { mode: 'skb', netns })).toMatchObject({ ifindex: net.a.ifindex, mode: 'skb' });
    expect(queryXdp(net.a.ifname, { netns })!.name).toBe('xdp_filter');
    await settle();
    filter.resetStats();
    filter.block(EXTRA_V4.net, { tag: 'test' });
    filter.block(EXTRA_V6.net);
    expect(await udp(net, { count: 30 })).toBe(30);
    expect(await udp(net, { count: 20, family: 6 })).toBe(20);
    expect(await udp(net, { count: 25, to: EXTRA_V4.a })).toBe(0);
    expect(await udp(net, { count: 15, to: EXTRA_V6.a })).toBe(0);
    expect(filter.stats()).toMatchObject({ ipDropCount: 25n, ip6DropCount: 15n, ipPassCount: 30n, ip6PassCount: 20n, ethFrameErr: 0n });
    expect(filter.unblock(EXTRA_V4.net)).toBe(true);
    expect(await udp(net, { count: 10, to: EXTRA_V4.a })).toBe(10);
    expect(() => filter!.attach(net!.a.ifname, { netns })).toThrow(/already attached/);
    await filter.close();
    expect(queryXdp(net.a.ifname, { netns })).toBeUndefined();
  });

  it('drops real fragments only while dropFragments is on (IPv4 and IPv6, MTU lowered on b)', async () => {
    net = await VethPair.create();
    const netns = net.a.netnsPath;
    expect((await net.b.exec('ip', ['link', 'set', 'dev', net.b.ifname, 'mtu', '1280'])).code).toBe(0);
    filter = await XdpFilter.load();
    filter.attach(net.a.ifname, { mode: 'skb', netns });
    await settle();
    filter.resetStats();
    const payload = Buffer.alloc(3000, 0x61); // 3008 bytes of UDP: 3 fragments at MTU 1280, either family
    expect(await udp(net, { count: 4, payload })).toBe(4);
    expect(await udp(net, { count: 4, payload, family: 6 })).toBe(4);
    expect(filter.stats()).toMatchObject({ ipPassCount: 12n, ip6PassCount: 12n, ipFragDropCount: 0n });
    filter.configure({ dropFragments: true });
    expect(await udp(net, { count: 4, payload })).toBe(0);
    expect(await udp(net, { count: 4, payload, family: 6 })).toBe(0);
    expect(await udp(net, { count: 5 })).toBe(5); // small datagrams are not fragments
    expect(filter.stats()).toMatchObject({ ipFragDropCount: 12n, ip6FragDropCount: 12n, ipPassCount: 17n });
  });

  it('counts malformed frames sent on the wire under their error, and passes them', async () => {
    net = await VethPair.create();
    const netns = net.a.netnsPath;
    filter = await XdpFilter.load();
    filter.attach(net.a.ifname, { mode: 'skb', netns });
    filter.block(`${net.b.ipv4}/32`);
    await settle();
    filter.resetStats();
    const base = { srcMac: net.b.mac, dstMac: net.a.mac, srcIp: net.b.ipv4, dstIp: net.a.ipv4, srcPort: 1, dstPort: 9000 };
    const badIhl = udpFrame({ ...base, ihl: 3 });
    const shortVlan = Buffer.concat([udpFrame(base).subarray(0, 12), Buffer.from([0x81, 0x00])]); // 14 bytes: the tag is missing
    const capture = net.captureFrames({ on: 'a', timeoutMs: scaledMs(500) });
    await net.sendFrames({ from: 'b', frames: [badIhl], count: 4 });
    await net.sendFrames({ from: 'b', frames: [shortVlan], count: 3 });
    // Passed: the capture sees only what XDP let through. (The truncated VLAN frames pass XDP too,
    // see the testRun case above, but the stack frees them before a capture could see them.)
    expect((await capture).frames.filter((f) => f.equals(badIhl))).toHaveLength(4);
    expect(filter.stats()).toMatchObject({ ipHeaderErr: 4n, ethFrameErr: 3n, ipDropCount: 0n });
    await net.sendFrames({ from: 'b', frames: [udpFrame(base)], count: 2 });
    expect(filter.stats().ipDropCount).toBe(2n);
  });

  it('in a root-array slot: drops blocked sources, counted in the slot; close() empties only its own slot', async () => {
    net = await VethPair.create();
    const netns = net.a.netnsPath;
    await addExtraSubnet(net);
    root = await RootArray.attach(net.a.ifname, { netns, mode: 'skb', slots: 4 });
    filter = await XdpFilter.load({ root, slot: 2 });
    expect(filter.slot).toBe(2);
    expect(() => filter!.attach(net!.a.ifname, { netns })).toThrow(/runs in slot 2/);
    await settle();
    root.clear();
    filter.resetStats();
    filter.block(EXTRA_V4.net);
    filter.block(EXTRA_V6.net);
    expect(await udp(net, { count: 12, to: EXTRA_V4.a })).toBe(0);
    expect(await udp(net, { count: 8, to: EXTRA_V6.a })).toBe(0);
    expect(await udp(net, { count: 10 })).toBe(10);
    const slot = root.status().slots[2]!;
    expect(slot).toMatchObject({ name: 'xdp_filter', counted: true });
    expect(slot.stats).toMatchObject({ drop: 20n, pass: 10n });
    expect(filter.stats()).toMatchObject({ ipDropCount: 12n, ip6DropCount: 8n, ipPassCount: 10n });
    await filter.close();
    expect(root.status().slots[2]!.progId).toBeUndefined();
    expect(await udp(net, { count: 5, to: EXTRA_V4.a })).toBe(5);

    // A filter whose slot was taken over leaves the new program there at close().
    filter = await XdpFilter.load({ root, slot: 1 });
    const other = await XdpFilter.load({ root, slot: 1 });
    const otherId = other.program.id;
    await filter.close();
    expect(root.status().slots[1]!.progId).toBe(otherId);
    await other.close();
    expect(root.status().slots[1]!.progId).toBeUndefined();
  });
});

describe('XdpFilter placement options', () => {
  it('wants root and slot together, and a RootArray', async () => {
    await expect(XdpFilter.load({ root: {} as RootArray, slot: 0 })).rejects.toThrow(/must be a RootArray/);
    await expect(XdpFilter.load({ bogus: 1 } as never)).rejects.toThrow(/bogus/);
  });
});
