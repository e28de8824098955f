// The test kit itself (libbpf-node/testing): VethPair lifecycle, addressing, exec/run, cleanup.
// Real kernel, real namespaces; needs root. Traffic is in testing-traffic.test.ts, leftovers and
// process exit in testing-sweep.test.ts.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Script } from 'node:vm';
import { afterAll, describe, expect, test } from 'vitest';
import { AGENT_SOURCE } from '../../lib/testing/agent.js';
import { TestNetError, VethPair, hasNetnsPrivileges } from '../../lib/testing/index.js';
import { scaledMs } from '../support/kernel';

const run = promisify(execFile);

test('the agent source is valid JavaScript (runs without privileges)', () => {
  expect(() => new Script(AGENT_SOURCE, { filename: 'agent.js' })).not.toThrow();
});
const privileged = hasNetnsPrivileges();
if (!privileged) console.warn('testing.test.ts skipped: needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)');

async function ipJson<T>(args: string[]): Promise<T> {
  const { stdout } = await run('ip', ['-j', ...args]);
  return JSON.parse(stdout || '[]') as T;
}

async function netnsNames(): Promise<string[]> {
  return (await ipJson<Array<{ name: string }>>(['netns', 'list'])).map((n) => n.name);
}

/** Kit namespaces owned by this process. */
async function ownNamespaces(): Promise<string[]> {
  return (await netnsNames()).filter((name) => name.startsWith(`lbn-${process.pid}-`));
}

interface IpAddr {
  ifname: string;
  ifindex: number;
  address: string;
  operstate: string;
  flags: string[];
  addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}

interface IpLinkStats {
  ifname: string;
  stats64: { rx: { packets: number }; tx: { packets: number } };
}

describe.skipIf(!privileged)('VethPair (needs root: CAP_NET_ADMIN + CAP_SYS_ADMIN)', () => {
  afterAll(async () => {
    // Every test cleans up after itself; anything left here is a bug in the kit.
    expect(await ownNamespaces()).toEqual([]);
  });

  test('create: two namespaces, one veth end in each, addresses and links up', async () => {
    await using net = await VethPair.create();
    const names = await netnsNames();
    expect(names).toContain(net.a.netns);
    expect(names).toContain(net.b.netns);
    expect(net.a.netns).toMatch(new RegExp(`^lbn-${process.pid}-\\d+-a$`));
    expect(net.b.netns).toBe(net.a.netns.replace(/a$/, 'b'));
    expect(net.a.netnsPath).toBe(`/run/netns/${net.a.netns}`);

    for (const end of [net.a, net.b]) {
      expect(end.ifname.length).toBeLessThanOrEqual(15);
      expect(end.ifname.startsWith('lbn')).toBe(true);
      const links = await ipJson<IpAddr[]>(['-n', end.netns, 'addr']);
      // lo and the veth end, nothing else.
      expect(links.map((l) => l.ifname).sort()).toEqual([end.ifname, 'lo'].sort());
      const lo = links.find((l) => l.ifname === 'lo')!;
      expect(lo.flags).toContain('UP');
      const link = links.find((l) => l.ifname === end.ifname)!;
      expect(link.ifindex).toBe(end.ifindex);
      expect(link.address).toBe(end.mac);
      expect(link.operstate).toBe('UP');
      const v4 = link.addr_info.filter((a) => a.family === 'inet');
      const v6 = link.addr_info.filter((a) => a.family === 'inet6');
      expect(v4).toEqual([expect.objectContaining({ local: end.ipv4, prefixlen: 30 })]);
      // Only the global fd00:: address: no link-local (keeps the link quiet).
      expect(v6).toEqual([expect.objectContaining({ local: end.ipv6, prefixlen: 64, scope: 'global' })]);
    }

    // Addresses come from the reserved ranges and the ends share a subnet.
    expect(net.a.ipv4).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    expect(net.a.ipv6.startsWith('fd')).toBe(true);
    const [a4, b4] = [net.a.ipv4, net.b.ipv4].map((ip) => ip.split('.').map(Number));
    expect(b4![3]).toBe(a4![3]! + 1);
    expect(a4!.slice(0, 3)).toEqual(b4!.slice(0, 3));
    expect(net.a.mac).not.toBe(net.b.mac);
    expect(net.a.ifindex).not.toBe(net.b.ifindex);
  });

  test('nothing is created in the root namespace', async () => {
    await using net = await VethPair.create();
    const rootLinks = await ipJson<Array<{ ifname: string; ifindex: number }>>(['link', 'show']);
    expect(rootLinks.map((l) => l.ifname)).not.toContain(net.a.ifname);
    expect(rootLinks.map((l) => l.ifname)).not.toContain(net.b.ifname);
    expect(rootLinks.some((l) => l.ifname.startsWith(`lbn${process.pid}-`))).toBe(false);
    // An ifindex used in the wrong namespace must not land on a host interface.
    expect(rootLinks.map((l) => l.ifindex)).not.toContain(net.a.ifindex);
    expect(rootLinks.map((l) => l.ifindex)).not.toContain(net.b.ifindex);
    const rootAddrs = await ipJson<IpAddr[]>(['addr', 'show']);
    const locals = rootAddrs.flatMap((l) => l.addr_info.map((a) => a.local));
    expect(locals).not.toContain(net.a.ipv4);
    expect(locals).not.toContain(net.b.ipv6);
  });

  test('pairs get distinct names and addresses', async () => {
    await using one = await VethPair.create();
    await using two = await VethPair.create();
    expect(two.a.netns).not.toBe(one.a.netns);
    expect(two.a.ifname).not.toBe(one.a.ifname);
    expect(two.a.ipv4).not.toBe(one.a.ipv4);
    expect(two.a.ipv6).not.toBe(one.a.ipv6);
    expect(two.a.mac).not.toBe(one.a.mac);
  });

  test('the link is quiet: no packets cross it unless sent', async () => {
    await using net = await VethPair.create();
    const counters = async () => {
      const [a, b] = await Promise.all(
        [net.a, net.b].map(async (end) => (await ipJson<IpLinkStats[]>(['-n', end.netns, '-s', 'link', 'show', 'dev', end.ifname]))[0]!.stats64),
      );
      return { aRx: a!.rx.packets, bRx: b!.rx.packets };
    };
    const before = await counters();
    // IPv6 would otherwise send DAD probes, router solicitations and MLD reports within ~1 s.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await counters()).toEqual(before);
    // ...and the counters do move when something is sent (the check above can fail).
    await net.ping({ from: 'b', count: 2 });
    const after = await counters();
    expect(after.aRx - before.aRx).toBe(2);
    expect(after.bRx - before.bRx).toBe(2);
  });

  test('exec runs a command inside the namespace', async () => {
    await using net = await VethPair.create();
    const { code, stdout, stderr, signal } = await net.a.exec('ip', ['-j', 'link', 'show']);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const names = (JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
    expect(names.sort()).toEqual([net.a.ifname, 'lo'].sort());

    const failing = await net.b.exec('sh', ['-c', 'echo out; echo err >&2; exit 7']);
    expect(failing).toEqual({ code: 7, signal: null, stdout: 'out\n', stderr: 'err\n' });
    const withInput = await net.b.exec('cat', [], { input: 'piped' });
    expect(withInput.stdout).toBe('piped');
    const missing = await net.b.exec('no-such-program-lbn');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-program-lbn/);
  });

  test('exec is bounded in time', async () => {
    await using net = await VethPair.create();
    const started = Date.now();
    await expect(net.a.exec('sleep', ['10'], { timeoutMs: 200 })).rejects.toMatchObject({
      name: 'TestNetError',
      code: 'ETIMEDOUT',
    });
    expect(Date.now() - started).toBeLessThan(scaledMs(2000));
    await expect(net.a.exec('true', [], { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(net.a.exec('true', [], { timeoutMs: 600_000 })).rejects.toThrow(RangeError);
  });

  test('run executes a function inside the namespace', async () => {
    await using net = await VethPair.create();
    const seen = await net.a.run(() => Object.keys(require('node:os').networkInterfaces()).sort());
    expect(seen).toEqual([net.a.ifname, 'lo'].sort());
    expect(await net.b.run((n: number) => n * 2, 21)).toBe(42);
    expect(await net.b.run(async (o: { x: string }) => `${o.x}!`, { x: 'hi' })).toBe('hi!');
    await expect(net.a.run(() => { throw new Error('inside'); })).rejects.toThrow(/inside/);
    const outside = 5;
    await expect(net.a.run(() => outside)).rejects.toThrow(/enclosing scope/);
  });

  test('run is bounded in time and the agent recovers', async () => {
    await using net = await VethPair.create();
    await expect(net.a.run(() => new Promise(() => {}), undefined, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    // The stuck agent was killed; the next call gets a fresh one.
    expect(await net.a.run(() => 'alive')).toBe('alive');
  });

  test('close removes both namespaces and the interfaces; it is idempotent', async () => {
    const net = await VethPair.create();
    await net.send({ from: 'b', udp: { port: 9 }, count: 1 }); // start an agent, so close has one to kill
    const names = [net.a.netns, net.b.netns];
    await Promise.all([net.close(), net.close()]);
    await net.close();
    expect(net.closed).toBe(true);
    const left = await netnsNames();
    expect(left).not.toContain(names[0]);
    expect(left).not.toContain(names[1]);
    const { stdout } = await run('ip', ['-o', 'link', 'show']);
    expect(stdout).not.toContain(net.a.ifname);
  });

  test('use after close throws ECLOSED', async () => {
    const net = await VethPair.create();
    await net.close();
    await expect(net.send({ from: 'a', udp: { port: 9 } })).rejects.toMatchObject({ code: 'ECLOSED', op: 'VethPair.send' });
    await expect(net.receive({ on: 'a', udp: 9 })).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(net.ping({ from: 'a' })).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(net.a.exec('true')).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(net.b.run(() => 1)).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  test('closing fails pending operations instead of hanging', async () => {
    const net = await VethPair.create();
    const pending = net.receive({ on: 'a', udp: 9000, timeoutMs: 30_000 });
    await net.send({ from: 'b', udp: { port: 9000 }, count: 1 }); // listener is bound by now
    const outcome = expect(pending).rejects.toMatchObject({ code: 'ECLOSED' });
    const started = Date.now();
    await net.close();
    await outcome;
    expect(Date.now() - started).toBeLessThan(scaledMs(5_000));
  });

  test('a test that throws inside `await using` still cleans up', async () => {
    let names: string[] = [];
    await expect(
      (async () => {
        await using net = await VethPair.create();
        names = [net.a.netns, net.b.netns];
        await net.send({ from: 'a', udp: { port: 9 }, count: 1 });
        throw new Error('test failed here');
      })(),
    ).rejects.toThrow('test failed here');
    expect(names).toHaveLength(2);
    const left = await netnsNames();
    for (const name of names) expect(left).not.toContain(name);
  });

  describe('when a step of create fails', () => {
    let fakeBin = '';
    afterAll(async () => {
      if (fakeBin) await rm(fakeBin, { recursive: true, force: true });
    });

    test('namespaces created before the failure are removed and the error names the step', async () => {
      // A wrapper `ip` that refuses to add links and passes everything else to the real one.
      const { stdout: realIp } = await run('sh', ['-c', 'command -v ip']);
      fakeBin = await mkdtemp(join(tmpdir(), 'lbn-fake-ip-'));
      const wrapper = join(fakeBin, 'ip');
      await writeFile(
        wrapper,
        `#!/bin/sh\ncase "$*" in *"link add"*) echo "RTNETLINK answers: injected failure" >&2; exit 2;; esac\nexec ${realIp.trim()} "$@"\n`,
      );
      await chmod(wrapper, 0o755);
      const before = await ownNamespaces();
      const savedPath = process.env.PATH;
      process.env.PATH = `${fakeBin}:${savedPath ?? ''}`;
      let error: unknown;
      try {
        await VethPair.create();
      } catch (err) {
        error = err;
      } finally {
        process.env.PATH = savedPath;
      }
      expect(error).toBeInstanceOf(TestNetError);
      expect((error as TestNetError).op).toBe('VethPair.create');
      expect((error as TestNetError).message).toMatch(/link add .*injected failure/);
      expect((error as TestNetError).command?.slice(0, 4)).toEqual(['ip', '-n', expect.stringMatching(/^lbn-/), 'link']);
      expect(await ownNamespaces()).toEqual(before);
    });
  });

  test('bad arguments are TypeError / RangeError, before anything is sent', async () => {
    await using net = await VethPair.create();
    const anyNet = net as unknown as { send(o: unknown): Promise<unknown>; receive(o: unknown): Promise<unknown>; ping(o: unknown): Promise<unknown> };
    await expect(anyNet.send({ from: 'c', udp: { port: 1 } })).rejects.toThrow(TypeError);
    await expect(anyNet.send({ from: 'a' })).rejects.toThrow(/exactly one of/);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, tcp: { port: 1 } })).rejects.toThrow(TypeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 70000 } })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, count: 0 })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, count: 1_000_000 })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, count: 1.5 })).rejects.toThrow(TypeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1, payload: 42 } })).rejects.toThrow(TypeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1, payload: Buffer.alloc(70_000) } })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, timeoutMs: 120_000 })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', tcp: { port: 1 }, count: 5000 })).rejects.toThrow(RangeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, to: 'example.com' })).rejects.toThrow(TypeError);
    await expect(anyNet.send({ from: 'a', udp: { port: 1 }, to: '198.18.0.9', family: 6 })).rejects.toThrow(RangeError);
    await expect(anyNet.receive({ on: 'a' })).rejects.toThrow(TypeError);
    await expect(anyNet.receive({ on: 'a', udp: 1, timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(anyNet.ping({ from: 'a', count: 10_000 })).rejects.toThrow(RangeError);
    await expect(anyNet.ping({ from: 'a', intervalMs: 0 })).rejects.toThrow(RangeError);
    expect(() => net.end('x' as 'a')).toThrow(TypeError);
    expect(net.end('b')).toBe(net.b);
  });

  test('timings: create, agent start, 100 UDP datagrams, close', async () => {
    const ms = (from: number) => (performance.now() - from).toFixed(1);
    let t = performance.now();
    const net = await VethPair.create();
    const createText = ms(t);
    t = performance.now();
    await Promise.all([net.a.run(() => 0), net.b.run(() => 0)]);
    const agents = ms(t);
    t = performance.now();
    const arrived = net.receive({ on: 'a', udp: 9000, timeoutMs: scaledMs(5000), count: 100 });
    const { sent } = await net.send({ from: 'b', udp: { port: 9000, payload: Buffer.alloc(64) }, count: 100 });
    const { count } = await arrived;
    const traffic = ms(t);
    t = performance.now();
    await net.close();
    const close = performance.now() - t;
    console.log(
      `create ${createText} ms; both agents ${agents} ms; listen + send 100 UDP + collect ${traffic} ms; close ${close.toFixed(1)} ms`,
    );
    // Printed only: speed goals live in the benchmarks (bench/), not in functional tests.
    expect({ sent, count }).toEqual({ sent: 100, count: 100 });
    expect(net.closed).toBe(true);
  });
});
