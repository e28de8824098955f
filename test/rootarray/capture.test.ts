// Capture in the root array's return path: the frames behind a slot's verdicts, through the
// library (RootArray.capture) and the CLI (xdp-root capture → pcapng read by tcpdump and tshark),
// on a veth pair in namespaces with the shipped filter in slot 0 and the counter in slot 1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { BpfStateError, RootArray, type Capture, type CapturedFrame } from '../../lib/index';
import { XdpCounter, XdpFilter } from '../../lib/programs/index';
import { VethPair } from '../../lib/testing/index';
import { buildTs, describeNet, xdpRoot, xdpRootCli } from '../support/helpers';
import { EXTRA_V4, addExtraSubnet, settle } from '../support/programs';
import { scaledMs } from '../support/kernel';

const DROP_PAYLOAD = 'capture-test-dropped';
const PASS_PAYLOAD = 'capture-test-allowed';
const hasTool = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;

/** Collects frames until `count` arrived or `ms` passed. */
async function collect(cap: Capture, count: number, ms: number): Promise<CapturedFrame[]> {
  const frames: CapturedFrame[] = [];
  const timer = setTimeout(() => cap.close(), ms);
  for await (const f of cap) {
    frames.push(f);
    if (frames.length >= count) break;
  }
  clearTimeout(timer);
  return frames;
}

/** The UDP payload of an IPv4 frame without VLAN tags. */
function udpPayload(frame: Buffer): string {
  const ihl = (frame[14]! & 0x0f) * 4;
  return frame.subarray(14 + ihl + 8).toString('latin1');
}

function srcOf(frame: Buffer): string {
  return [...frame.subarray(26, 30)].join('.');
}

describeNet('RootArray capture', () => {
  let net: VethPair;
  let root: RootArray;
  let filter: XdpFilter;
  let counter: XdpCounter;
  let where: { netns: string };
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    buildTs('tsconfig.build.json'); // the CLI runs from dist/
    net = await VethPair.create();
    await addExtraSubnet(net);
    where = { netns: net.a.netnsPath };
    root = await RootArray.attach(net.a.ifname, { ...where, slots: 4, mode: 'skb' });
    filter = await XdpFilter.load({ root, slot: 0 });
    filter.block(EXTRA_V4.net);
    counter = await XdpCounter.load({ root, slot: 1 });
    await settle();
    tmp = mkdtempSync(join(tmpdir(), 'lbn-capture-'));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Whatever a test left on is switched off: every test starts with capture off.
    await root.stopCapture();
  });

  afterAll(async () => {
    await counter?.close();
    await filter?.close();
    if (root) await root.detach();
    await net?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** 10 datagrams from the blocked subnet (dropped by slot 0) and 10 from b's own address (passed). */
  async function traffic(n = 10): Promise<void> {
    await net.send({ from: 'b', to: EXTRA_V4.a, udp: { port: 9000, payload: DROP_PAYLOAD }, count: n });
    await net.send({ from: 'b', udp: { port: 9000, payload: PASS_PAYLOAD }, count: n });
  }

  function captureOn(): boolean {
    return (root.status().capture?.slots.length ?? 0) > 0;
  }

  it('captures exactly the dropped datagrams on slot 0, with their payloads, slot and verdict', async () => {
    const cap = await root.capture({ slot: 0, actions: ['drop'] });
    expect(root.status().capture?.slots).toMatchObject([{ slot: 0, actions: ['drop'], ownerPid: process.pid, ownerAlive: true }]);
    await traffic();
    const frames = await collect(cap, 11, scaledMs(1500));
    expect(frames).toHaveLength(10);
    for (const f of frames) {
      expect(f).toMatchObject({ slot: 0, action: 'drop', ifindex: net.a.ifindex });
      expect(srcOf(f.data)).toBe(EXTRA_V4.b);
      expect(udpPayload(f.data)).toBe(DROP_PAYLOAD);
      expect(f.length).toBe(f.data.length);
      expect(Number(f.timestamp / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
      expect(Number(f.timestamp / 1_000_000n)).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(cap.closed).toBe(true); // breaking out of (or ending) the loop closed it
    expect(cap.captured).toBe(10n);
    expect(captureOn()).toBe(false);
  });

  it('captures the allowed ones only as pass on slot 1; snaplen, filter and rate apply', async () => {
    const cap = await root.capture({ slot: 1, actions: ['pass'], snaplen: 50, filter: { protocol: 'udp', dst: net.a.ipv4 } });
    await traffic();
    const frames = await collect(cap, 11, scaledMs(1500));
    expect(frames).toHaveLength(10);
    for (const f of frames) {
      expect(f).toMatchObject({ slot: 1, action: 'pass' });
      expect(srcOf(f.data)).toBe(net.b.ipv4);
      expect(f.data.length).toBe(50);
      expect(f.length).toBeGreaterThan(50);
    }
    // 1 in 5, per CPU: the sender runs on one CPU at a time, so 10 datagrams give 2 to 10.
    const sampled = await root.capture({ slot: 0, actions: ['drop'], rate: 5 });
    await traffic();
    const some = await collect(sampled, 11, scaledMs(1500));
    expect(some.length).toBeGreaterThanOrEqual(2);
    expect(some.length).toBeLessThan(10);
  });

  it('refuses a second capture on the same root while the first runs, and takes over after close', async () => {
    const first = await root.capture({ actions: ['drop'] });
    await expect(root.capture({ slot: 1 })).rejects.toThrow(BpfStateError);
    await expect(root.capture({ slot: 1 })).rejects.toThrow(/a capture already runs on .*one capture per root array/);
    const r = xdpRoot(['capture', net.a.ifname, '--netns', where.netns, '-c', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a capture already runs/);
    expect(root.status().capture?.slots.map((s) => s.slot)).toEqual([0, 1, 2, 3]);
    first.close();
    first.close(); // idempotent
    expect(captureOn()).toBe(false);
    const second = await root.capture({ slot: 1 });
    second.close();
  });

  it('bad input: typed errors, nothing switched on', async () => {
    const bad: Array<[unknown, RegExp, ErrorConstructor]> = [
      [{ actions: ['dorp'] }, /unknown action 'dorp'/, RangeError],
      [{ actions: [] }, /at least one/, RangeError],
      [{ actions: 'drop' }, /must be an array/, TypeError],
      [{ slot: 4 }, /slot must be in \[0, 3\]/, RangeError],
      [{ slot: -1 }, /slot/, RangeError],
      [{ snaplen: 0 }, /snaplen/, RangeError],
      [{ snaplen: 1 << 20 }, /snaplen must be in \[1, 65000\]/, RangeError],
      [{ rate: 0 }, /rate/, RangeError],
      [{ filter: { src: '198.18.0.0/33' } }, /./, RangeError],
      [{ filter: { src: '198.18.0.0/16', dst: 'fd00::/8' } }, /one address family/, RangeError],
      [{ filter: { protocol: 'sctpx' } }, /protocol/, RangeError],
      [{ bogus: 1 }, /bogus/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      const e = await root.capture(options as never).catch((x: unknown) => x);
      expect(e, JSON.stringify(options)).toBeInstanceOf(type);
      expect((e as Error).message).toMatch(message);
      expect(captureOn()).toBe(false);
    }
    const cli: Array<[string[], RegExp]> = [
      [['--action', 'drop,dorp'], /unknown action 'dorp'/],
      [['--slot', '9'], /slot must be in \[0, 3\]/],
      [['--snaplen', '0'], /snaplen/],
      [['--snaplen', '999999'], /snaplen must be in \[1, 65000\]/],
      [['-w', join(tmp, 'no-such-dir', 'x.pcapng')], /cannot write the capture to .*ENOENT.*nothing was switched on/],
    ];
    for (const [args, message] of cli) {
      const r = xdpRoot(['capture', net.a.ifname, '--netns', where.netns, ...args]);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr).toMatch(message);
      expect(captureOn()).toBe(false);
    }
    const closed = await RootArray.open(net.a.ifname, where);
    closed.close();
    await expect(closed.capture()).rejects.toThrow(BpfStateError);
  });
});
