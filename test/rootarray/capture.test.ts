// Capture in the root array's return path: the frames behind a slot's verdicts, through the
// library (RootArray.capture) and the CLI (xdp-root capture → pcapng read by tcpdump and tshark),
// on a veth pair in namespaces with the shipped filter in slot 0 and the counter in slot 1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

  /** Runs `xdp-root capture` in the background; resolves once it says it is capturing. */
  async function startCli(args: string[], stdout: 'pipe' | 'ignore' = 'ignore'): Promise<{ child: ChildProcess; stderr: () => string; exit: Promise<number | null> }> {
    const child = spawn(process.execPath, [xdpRootCli, 'capture', net.a.ifname, '--netns', where.netns, ...args], { stdio: ['ignore', stdout, 'pipe'] });
    children.push(child);
    let err = '';
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`xdp-root capture did not start: ${err}`)), scaledMs(15_000));
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('capturing on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`xdp-root capture exited: ${err}`));
      });
    });
    return { child, stderr: () => err, exit };
  }

  const tcpdump = (file: string, ...args: string[]) => spawnSync('tcpdump', ['-r', file, '-n', ...args], { encoding: 'utf8' });
  const tshark = (file: string, ...args: string[]) => spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8' });

  it('xdp-root capture -w FILE -c 10: tcpdump and tshark read exactly the dropped datagrams, slot 0 and drop in the comments', async () => {
    const file = join(tmp, 'drops.pcapng');
    const cli = await startCli(['--slot', '0', '--action', 'drop', '-w', file, '-c', '10']);
    await traffic();
    expect(await cli.exit).toBe(0);
    expect(cli.stderr()).toMatch(/10 frames written; 10 frames captured, 0 lost by the ring; capture off/);
    expect(captureOn()).toBe(false);
    const td = tcpdump(file, '-A');
    expect(td.status).toBe(0);
    const lines = td.stdout.split('\n').filter((l) => / IP /.test(l));
    expect(lines).toHaveLength(10);
    for (const l of lines) expect(l).toContain(`IP ${EXTRA_V4.b}.`);
    expect(td.stdout.split(DROP_PAYLOAD).length - 1).toBe(10);
    expect(td.stdout).not.toContain(PASS_PAYLOAD);
    const ts = tshark(file, '-T', 'fields', '-e', 'frame.comment', '-e', 'ip.src', '-e', 'udp.payload');
    expect(ts.status).toBe(0);
    const rows = ts.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(10);
    for (const [comment, src, payload] of rows) {
      expect(comment).toMatch(/^slot 0 action drop rxq \d+$/);
      expect(src).toBe(EXTRA_V4.b);
      expect(Buffer.from(payload!.replace(/:/g, ''), 'hex').toString()).toBe(DROP_PAYLOAD);
    }
    // The allowed ones: only as pass on slot 1.
    const passFile = join(tmp, 'passes.pcapng');
    const pass = await startCli(['--slot', '1', '--action', 'pass', '--proto', 'udp', '-w', passFile, '-c', '10']);
    await traffic();
    expect(await pass.exit).toBe(0);
    const p = tshark(passFile, '-T', 'fields', '-e', 'frame.comment', '-e', 'ip.src');
    expect(p.stdout.trim().split('\n')).toEqual(Array(10).fill(`slot 1 action pass rxq 0\t${net.b.ipv4}`));
  });

  it('xdp-root capture -w - pipes into tcpdump -r -', async () => {
    const cli = await startCli(['--slot', '0', '--action', 'drop', '-w', '-', '-c', '5'], 'pipe');
    const td = spawn('tcpdump', ['-r', '-', '-n'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(td);
    cli.child.stdout!.pipe(td.stdin!);
    let out = '';
    td.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const tdExit = new Promise<number | null>((resolve) => td.on('close', resolve));
    await traffic(5);
    expect(await cli.exit).toBe(0);
    expect(await tdExit).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(new RegExp(`IP ${EXTRA_V4.b.replace(/\./g, '\\.')}\\.\\d+ > ${EXTRA_V4.a.replace(/\./g, '\\.')}\\.9000: UDP`));
    expect(cli.stderr()).not.toContain('\r'); // no tty: one final line, nothing in the stream
  });

  it('--duration stops it; SIGINT leaves a valid file and capture off', async () => {
    const empty = join(tmp, 'empty.pcapng');
    const t0 = Date.now();
    const d = await startCli(['--action', 'tx', '-w', empty, '--duration', '1']);
    expect(await d.exit).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(captureOn()).toBe(false);
    const e = tcpdump(empty);
    expect(e.status).toBe(0);
    expect(e.stdout.trim()).toBe('');

    const file = join(tmp, 'sigint.pcapng');
    const cli = await startCli(['--slot', '0', '--action', 'drop', '-w', file]);
    await traffic();
    // Until the 10 frames are in the file (each frame is written as it arrives).
    for (let i = 0; i < 50 && tcpdump(file).stdout.trim().split('\n').filter(Boolean).length < 10; i++) await new Promise((r) => setTimeout(r, 100));
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
    expect(captureOn()).toBe(false);
    const r = tcpdump(file);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
  });

  it('a killed capture stays visible in status; --stop clears it, and so does the next capture', async () => {
    for (const clear of ['--stop', 'next capture'] as const) {
      const cli = await startCli(['--slot', '0', '--action', 'drop,aborted']);
      const pid = cli.child.pid!;
      cli.child.kill('SIGKILL');
      await cli.exit;
      const s = root.status().capture!;
      expect(s.slots).toMatchObject([{ slot: 0, actions: ['aborted', 'drop'], ownerPid: pid, ownerAlive: false }]);
      const st = xdpRoot(['status', net.a.ifname, '--netns', where.netns]);
      expect(st.stdout).toMatch(new RegExp(`capture ON on slot 0: aborted,drop, snaplen 65000; .*left on by process ${pid}, which is gone: .xdp-root capture ${net.a.ifname} --stop`));
      if (clear === '--stop') {
        const r = xdpRoot(['capture', net.a.ifname, '--netns', where.netns, '--stop']);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/capture switched off on .*slot 0/);
        expect(captureOn()).toBe(false);
        expect(xdpRoot(['capture', net.a.ifname, '--netns', where.netns, '--stop']).stdout).toMatch(/no capture was on/);
      } else {
        const next = await root.capture({ slot: 2 });
        expect(root.status().capture!.slots.map((x) => x.slot)).toEqual([2]);
        next.close();
        expect(captureOn()).toBe(false);
      }
    }
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
