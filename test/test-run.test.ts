// BPF_PROG_TEST_RUN on hand-built frames: verdicts by name, rewritten output frames, per-run
// duration from the kernel, async runs off the event loop, and live frames through a veth.
// @module-tag kernel-slice
// @module-tag threads
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, BpfObject, BpfStateError, attachXdp, features, shippedObjectPath } from '../lib/index';
import { VethPair, udpFrame } from '../lib/testing/index';
import { XDP_PASS, ethFrame, xdpCount } from './support/attach';
import { describeBpf, describeNet, fixturePath } from './support/helpers';
import { itWith, itWithout } from './support/kernel';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const frame = udpFrame({ srcMac: B, dstMac: A, srcIp: '198.18.0.2', dstIp: '198.18.0.1', srcPort: 4000, dstPort: 9000, payload: 'hello' });

async function loaded(path: string): Promise<BpfObject> {
  const obj = BpfObject.open(path);
  await obj.load();
  return obj;
}

describeBpf('testRun', () => {
  const objects: Record<string, BpfObject> = {};
  beforeAll(async () => {
    for (const name of ['xdp_pass', 'xdp_drop', 'xdp_count'] as const) objects[name] = await loaded(shippedObjectPath(name));
    for (const name of ['xdp_swap_tx', 'xdp_guard', 'tc_drop', 'sock_filter', 'trace_getppid']) objects[name] = await loaded(fixturePath(name));
  });
  afterAll(() => {
    for (const o of Object.values(objects)) o.close();
  });

  it('XDP pass and drop, by name, with the frame unchanged', () => {
    const pass = objects.xdp_pass!.program('xdp_pass').testRun({ data: frame });
    expect(pass).toMatchObject({ retval: 2, action: 'XDP_PASS' });
    expect(pass.data.equals(frame)).toBe(true);
    expect(objects.xdp_drop!.program('xdp_drop').testRun({ data: frame }).action).toBe('XDP_DROP');
  });

  it('a rewritten frame comes back: MACs swapped, XDP_TX', () => {
    const obj = objects.xdp_swap_tx!;
    const r = obj.program('xdp_swap_tx').testRun({ data: frame });
    expect(r.action).toBe('XDP_TX');
    expect(r.data.subarray(0, 6).equals(frame.subarray(6, 12))).toBe(true);
    expect(r.data.subarray(6, 12).equals(frame.subarray(0, 6))).toBe(true);
    expect(r.data.subarray(12).equals(frame.subarray(12))).toBe(true);
    expect(obj.globals.get('swapped')).toBe(1n);
  });

  it('repeat runs the program that many times; the kernel reports a per-run duration', () => {
    const obj = objects.xdp_count!;
    const before = xdpCount(obj.map('counters'), XDP_PASS).packets;
    const r = obj.program('xdp_count').testRun({ data: frame, repeat: 1000 });
    expect(r.action).toBe('XDP_PASS');
    expect(r.durationNs).toBeGreaterThan(0); // the kernel's average over the runs, in ns
    expect(xdpCount(obj.map('counters'), XDP_PASS).packets - before).toBe(1000n);
    expect(obj.globals.get('last_len')).toBe(frame.length);
  });

  it('the parser fixture on malformed frames: short frame, IPv4 header length too small or too long', () => {
    const guard = objects.xdp_guard!.program('xdp_guard');
    // The kernel refuses test frames shorter than an Ethernet header, so the short case is 14 bytes of a non-IP type here.
    expect(guard.testRun({ data: ethFrame(A, B, 0x88b5) }).action).toBe('XDP_PASS');
    expect(guard.testRun({ data: udpFrame({ srcMac: B, dstMac: A, srcIp: '198.18.0.2', dstIp: '198.18.0.1', srcPort: 1, dstPort: 2, ihl: 3 }) }).action).toBe('XDP_DROP');
    expect(guard.testRun({ data: udpFrame({ srcMac: B, dstMac: A, srcIp: '198.18.0.2', dstIp: '198.18.0.1', srcPort: 1, dstPort: 2, ihl: 15 }) }).action).toBe('XDP_DROP');
    expect(guard.testRun({ data: frame }).action).toBe('XDP_PASS');
    expect(objects.xdp_guard!.globals.get('bad_ihl')).toBe(2n);
  });

  it('tc programs decode to TC_ACT_*, socket filters return a length', () => {
    expect(objects.tc_drop!.program('tc_drop').testRun({ data: frame }).action).toBe('TC_ACT_SHOT');
    expect(objects.tc_drop!.program('tc_pass').testRun({ data: frame }).action).toBe('TC_ACT_OK');
    const sock = objects.sock_filter!.program('sock_keep_64').testRun({ data: frame });
    expect(sock).toMatchObject({ retval: 64, action: '64' });
  });

  itWith('test-run-xdp-ctx', 'an XDP context in and out (5.15+)', () => {
    const ctx = Buffer.alloc(24); // struct xdp_md, all zero: data offsets filled in by the kernel
    expect(objects.xdp_pass!.program('xdp_pass').testRun({ data: frame, ctx }).ctx?.length).toBe(24);
  });

  itWithout('test-run-xdp-ctx', 'an XDP context before 5.15: a named feature error instead of an EINVAL blaming the frame', () => {
    const ctx = Buffer.alloc(24);
    const run = () => objects.xdp_pass!.program('xdp_pass').testRun({ data: frame, ctx });
    expect(run).toThrow(BpfFeatureError);
    expect(run).toThrow(/xdp_md context.*Linux 5\.15/);
  });

  it('errors: frames the kernel refuses, program types without test runs, bad options', () => {
    // Shorter than an Ethernet header: refused before the kernel, the same on every kernel.
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: Buffer.alloc(4) })).toThrow(RangeError);
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: Buffer.alloc(4) })).toThrow(/4 bytes.*at least 14/);
    expect(() => objects.trace_getppid!.program('count_getppid').testRun({ data: frame })).toThrow(BpfError);
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: 'x' as unknown as Uint8Array })).toThrow(TypeError);
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: frame, repeat: 0 })).toThrow(RangeError);
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: frame, repeat: 5_000_000 })).toThrow(/testRunAsync/);
    expect(() => objects.tc_drop!.program('tc_drop').testRun({ data: frame, live: { ingress: 'lo' } })).toThrow(/for XDP programs/);
    expect(() => objects.xdp_pass!.program('xdp_pass').testRun({ data: frame, bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
  });

  it('a program of a closed object cannot run', async () => {
    const obj = await loaded(shippedObjectPath('xdp_pass'));
    const prog = obj.program('xdp_pass');
    obj.close();
    expect(() => prog.testRun({ data: frame })).toThrow(BpfStateError);
  });

  it('testRunAsync keeps the event loop turning during a long run, with the same results', async () => {
    const obj = objects.xdp_count!;
    const before = xdpCount(obj.map('counters'), XDP_PASS).packets;
    let ticks = 0;
    let done = false;
    const spin = (): void => {
      ticks++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const r = await obj.program('xdp_count').testRunAsync({ data: frame, repeat: 5_000_000 });
    done = true;
    expect(r.action).toBe('XDP_PASS');
    expect(xdpCount(obj.map('counters'), XDP_PASS).packets - before).toBe(5_000_000n);
    expect(ticks).toBeGreaterThan(1);
  });

  it('testRunAsync rejects with a BpfError that points at the caller', async () => {
    const err = await objects.trace_getppid!.program('count_getppid').testRunAsync({ data: frame }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BpfError);
    expect((err as Error).stack).toContain('test-run.test.ts');
  });
});

describeNet('testRun with live frames', () => {
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  itWith('xdp-live-frames', 'injects frames into b\'s XDP path: XDP_TX sends each to a, where xdp_count counts every one', async () => {
    using gen = await loaded(fixturePath('xdp_swap_tx'));
    using counter = await loaded(shippedObjectPath('xdp_count'));
    // A frame addressed as if a had sent it to b: the generator swaps the MACs and transmits it to a.
    const out = udpFrame({ srcMac: net.a.mac, dstMac: net.b.mac, srcIp: net.b.ipv4, dstIp: net.a.ipv4, srcPort: 4000, dstPort: 9300, payload: 'live' });
    // veth delivers XDP_TX'd frames to a peer running XDP (or with GRO): attach the counter on a.
    using _link = attachXdp(counter.program('xdp_count'), net.a.ifname, { mode: 'native', netns: net.a.netnsPath });
    // The generator does not wait for listeners the way net.send does: bind first.
    await using listener = await net.listen({ on: 'a', udp: 9300 });
    const r = await gen.program('xdp_swap_tx').testRunAsync({ data: out, repeat: 10_000, live: { ingress: net.b.ifname, netns: net.b.netnsPath } });
    expect(r.framesPerSecond).toBeGreaterThan(0);
    expect(gen.globals.get('swapped')).toBe(10_000n);
    expect(xdpCount(counter.map('counters'), XDP_PASS).packets).toBe(10_000n);
    // Every frame reached a's XDP hook (counted above); past it, the stack may shed some of a
    // burst this fast, so only check that the frames are real UDP to the listener.
    const got = await listener.collect({ count: 10_000, timeoutMs: 1000 });
    expect(got.count).toBeGreaterThan(0);
    expect(got.packets[0]?.payload.toString()).toBe('live');
  });

  itWithout('xdp-live-frames', "where the kernel refuses live frames, testRun({ live }) refuses up front with the kernel's answer", async () => {
    using gen = await loaded(fixturePath('xdp_swap_tx'));
    const err = (() => {
      try {
        gen.program('xdp_swap_tx').testRun({ data: frame, repeat: 1, live: { ingress: net.b.ifname, netns: net.b.netnsPath } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BpfFeatureError);
    expect((err as BpfFeatureError).feature).toBe('xdp-live-frames');
    expect((err as Error).message).toContain(features.answer('xdp-live-frames').reason);
  });

  itWith('xdp-live-frames', 'live frames need the interface\'s namespace: without it the ifindex is not found', async () => {
    using gen = await loaded(fixturePath('xdp_swap_tx'));
    expect(() => gen.program('xdp_swap_tx').testRun({ data: frame, repeat: 1, live: { ingress: net.b.ifname } })).toThrow(/ENODEV/);
  });
});
