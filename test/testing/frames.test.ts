// The kit's raw frames: crafted Ethernet frames sent with AF_PACKET across the veth, captured on
// the other side, and an XDP parser that drops the malformed ones.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject, attachXdp } from '../../lib/index';
import { VethPair, udpFrame } from '../../lib/testing/index';
import { ethFrame } from '../support/attach';
import { describeNet, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

describeNet('VethPair.sendFrames / captureFrames', () => {
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  const frameTo = (dstPort: number, ihl = 5, payload = 'raw') =>
    udpFrame({ srcMac: net.b.mac, dstMac: net.a.mac, srcIp: net.b.ipv4, dstIp: net.a.ipv4, srcPort: 5000, dstPort, payload, ihl });

  it('frames sent from b arrive at a byte for byte, and a well-formed UDP frame reaches a socket', async () => {
    const frame = frameTo(9400);
    const captured = net.captureFrames({ on: 'a', timeoutMs: scaledMs(2000), count: 5 });
    const received = net.receive({ on: 'a', udp: 9400, timeoutMs: scaledMs(2000), count: 5 });
    expect(await net.sendFrames({ from: 'b', frames: frame, count: 5 })).toEqual({ sent: 5 });
    const got = await captured;
    expect(got.count).toBe(5);
    for (const f of got.frames) expect(f.equals(frame)).toBe(true);
    const udp = await received;
    expect(udp.count).toBe(5);
    expect(udp.packets[0]?.payload.toString()).toBe('raw');
  });

  it('a capture ends at its timeout with what arrived, and b does not see its own frames', async () => {
    const onA = net.captureFrames({ on: 'a', timeoutMs: scaledMs(300) });
    const onB = net.captureFrames({ on: 'b', timeoutMs: scaledMs(300) });
    const sent = [frameTo(9401), frameTo(9402)];
    await net.sendFrames({ from: 'b', frames: sent, count: 3 });
    expect((await onA).count).toBe(3);
    // b does receive a's answers (ICMP port unreachable: nothing listens on a), never its own frames.
    const mac = (m: string) => Buffer.from(m.split(':').map((h) => parseInt(h, 16)));
    for (const f of (await onB).frames) {
      expect(sent.some((s) => s.equals(f))).toBe(false);
      expect(f.subarray(6, 12).equals(mac(net.a.mac))).toBe(true);
    }
  });

  it('xdp_guard on a drops what it should: runts and bad IPv4 header lengths never get past XDP', async () => {
    using obj = BpfObject.open(fixturePath('xdp_guard'));
    await obj.load();
    using _link = attachXdp(obj.program('xdp_guard'), net.a.ifname, { mode: 'native', netns: net.a.netnsPath });
    const captured = net.captureFrames({ on: 'a', timeoutMs: scaledMs(500) });
    await net.sendFrames({ from: 'b', frames: [frameTo(9403, 3), frameTo(9403, 15), frameTo(9403), ethFrame(net.a.mac, net.b.mac, 0x88b5)], count: 40 });
    const got = await captured;
    // 10 good UDP frames and 10 frames of another EtherType pass; the 20 malformed ones do not.
    expect(got.count).toBe(20);
    expect(obj.globals.get('bad_ihl')).toBe(20n);
    expect(obj.globals.get('passed')).toBe(20n);
  });

  it('checks its arguments', async () => {
    await expect(net.sendFrames({ from: 'b', frames: [Buffer.alloc(4)] })).rejects.toThrow(RangeError);
    await expect(net.sendFrames({ from: 'c' as 'a', frames: [frameTo(1)] })).rejects.toThrow(TypeError);
    expect(() => net.captureFrames({ on: 'a', timeoutMs: 120_000 })).toThrow(RangeError);
  });
});
