// XdpSampler (libbpf-node/programs): decoded samples from crafted frames (testRun), the rate
// honoured on real traffic within binomial bounds, run-time rate changes, and a root-array slot.
import { afterEach, expect, it } from 'vitest';
import { BpfStateError, RootArray } from '../../lib/index';
import { XdpSampler, type Sample } from '../../lib/programs/index';
import { VethPair } from '../../lib/testing/index';
import { ETH_P_IP, ETH_P_IPV6, IPPROTO, eth, icmp, ipv4, ipv6, pad, tcp, udp as udpHdr } from '../support/frames';
import { describeBpf, describeNet } from '../support/helpers';
import { settle, udp } from '../support/programs';

/** Reads samples until `n` arrived or `timeoutMs` passed. */
async function take(sampler: XdpSampler, n: number, timeoutMs = 2000): Promise<Sample[]> {
  const out: Sample[] = [];
  if (n === 0) return out;
  for await (const s of sampler.samples({ signal: AbortSignal.timeout(timeoutMs) })) {
    out.push(s);
    if (out.length >= n) break;
  }
  return out;
}

let sampler: XdpSampler | undefined;
let net: VethPair | undefined;
let root: RootArray | undefined;
afterEach(async () => {
  await sampler?.close();
  sampler = undefined;
  await root?.detach().catch(() => {});
  root = undefined;
  await net?.close();
  net = undefined;
});

describeBpf('XdpSampler on crafted frames', () => {
  it('decodes every field of struct xdp_sample, and never changes the packet', async () => {
    sampler = await XdpSampler.load({ rate: 1 });
    const frames = [
      pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(4000, 9000)))),
      eth(ETH_P_IPV6, ipv6({ src: 'fd00::2', dst: 'fd00::1', proto: IPPROTO.TCP, fragment: { offset: 0, mf: true } }, tcp(5000, 443)), [7, 8]),
      pad(eth(ETH_P_IP, ipv4({ src: '198.18.0.2', dst: '198.18.0.1', proto: IPPROTO.ICMP }, icmp(8, 0)))),
      pad(eth(0x0806, Buffer.alloc(28))),
    ];
    for (const f of frames) {
      const r = sampler.program.testRun({ data: f });
      expect(r.action).toBe('XDP_PASS');
      expect(r.data.equals(f)).toBe(true);
    }
    const [u, t, i, arp] = await take(sampler, 4);
    expect(u).toMatchObject({ parse: 'ok', family: 4, src: '198.18.0.2', dst: '198.18.0.1', proto: 'udp', sport: 4000, dport: 9000, len: 60, ethProto: 0x0800, vlans: [], fragment: false, meta: false, slot: 0, rate: 1 });
    expect(typeof u!.ts).toBe('bigint');
    expect(t).toMatchObject({ family: 6, src: 'fd00::2', dst: 'fd00::1', proto: 'tcp', sport: 5000, dport: 443, vlans: [7, 8], fragment: true, len: frames[1]!.length });
    expect(i).toMatchObject({ proto: 'icmp', icmpType: 8, icmpCode: 0, sport: undefined });
    expect(arp).toMatchObject({ parse: 'not-ip', family: undefined, src: undefined, ethProto: 0x0806 });
    expect(sampler.stats()).toEqual({ packets: 4n, samplesSent: 4n, ringbufFull: 0n });
  });

  it('one reader at a time; rate 0 samples nothing; bad rates are refused', async () => {
    sampler = await XdpSampler.load({ rate: 0 });
    const reader = sampler.samples();
    expect(() => sampler!.samples()).toThrow(/already open/);
    reader.close();
    sampler.program.testRun({ data: Buffer.alloc(60), repeat: 50 });
    expect(sampler.stats()).toEqual({ packets: 50n, samplesSent: 0n, ringbufFull: 0n });
    expect(() => sampler!.setRate(-1)).toThrow(RangeError);
    expect(() => sampler!.setRate(1.5)).toThrow(RangeError);
    await expect(XdpSampler.load({ ringBytes: 5000 })).rejects.toThrow(/power of two/);
    await sampler.close();
    expect(() => sampler!.rate).toThrow(BpfStateError);
  });
});

describeNet('XdpSampler on a veth pair', () => {
  it('samples about 1 in 10 of 2000 real packets, every sample describing them; setRate(0) stops it', async () => {
    net = await VethPair.create();
    sampler = await XdpSampler.load({ rate: 0 });
    sampler.attach(net.a.ifname, { mode: 'skb', netns: net.a.netnsPath });
    await settle();
    const before = sampler.stats();
    sampler.setRate(10);
    expect(sampler.rate).toBe(10);
    expect(await udp(net, { count: 2000 })).toBe(2000);
    const after = sampler.stats();
    const sent = Number(after.samplesSent - before.samplesSent);
    const samples = await take(sampler, sent);
    expect(after.packets - before.packets).toBe(2000n);
    expect(after.ringbufFull).toBe(0n);
    expect(samples).toHaveLength(sent);
    // Binomial(2000, 1/10): mean 200, sd 13.4. These bounds are 6 sd away.
    expect(sent).toBeGreaterThan(120);
    expect(sent).toBeLessThan(280);
    for (const s of samples) {
      expect(s).toMatchObject({ src: net.b.ipv4, dst: net.a.ipv4, proto: 'udp', dport: 9000, len: 60, ifindex: net.a.ifindex, rate: 10 });
    }
    sampler.setRate(0);
    expect(await udp(net, { count: 100 })).toBe(100);
    expect(sampler.stats().samplesSent).toBe(after.samplesSent);
  });

  it('in a root-array slot: samples carry the slot; rate 1 samples every IPv6 packet', async () => {
    net = await VethPair.create();
    root = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, mode: 'skb', slots: 4 });
    sampler = await XdpSampler.load({ root, slot: 3, rate: 0 });
    await settle();
    root.clear();
    sampler.setRate(1);
    expect(await udp(net, { count: 20, family: 6 })).toBe(20);
    const samples = await take(sampler, 20);
    expect(samples).toHaveLength(20);
    for (const s of samples) expect(s).toMatchObject({ slot: 3, family: 6, src: net.b.ipv6, proto: 'udp', dport: 9000 });
    expect(root.status().slots[3]!.stats.pass).toBe(20n);
  });
});
