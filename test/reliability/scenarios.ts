/**
 * The reliability scenarios, each returning numbers: privileges dropped, loaders killed at random
 * points, concurrent writers, hitless upgrades under load, and a soak for leaks. Used by the short
 * vitest suite (test/reliability/reliability.test.ts) and by `npm run reliability` (report.ts) with larger
 * counts. Everything runs on test-kit veth pairs; pins go under /sys/fs/bpf/lbn-rel-<pid>-*,
 * removed at the end, also after a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, BpfMap, BpfObject, BpfProgram, BpfStateError, RingBuffer, RootArray, attachXdp, queryXdp, rootArrayDir, shippedObjectPath } from '../../lib/index';
import { lockPath } from '../../lib/rootarray/lock';
import { VethPair } from '../../lib/testing/index';

const distDir = __filename.endsWith('.ts') ? join(__dirname, '..', '..', 'dist') : join(__dirname, '..', '..');
const childDir = join(distDir, 'test', 'reliability');
const cli = join(distDir, 'lib', 'cli', 'xdp-root.js');
const fixture = (name: string): string => join(distDir, 'test-bpf', `${name}.bpf.o`);
let pinCounter = 0;
const newPinBase = (what: string): string => `/sys/fs/bpf/lbn-rel-${process.pid}-${what}-${pinCounter++}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` with a fresh veth pair and pin base, removing both afterwards whatever happens. */
async function withPair<T>(what: string, fn: (net: VethPair, pinBase: string) => Promise<T>): Promise<T> {
  const net = await VethPair.create();
  const pinBase = newPinBase(what);
  try {
    return await fn(net, pinBase);
  } finally {
    try {
      await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath, pinBase });
    } catch {
      /* the pair goes away below, and the pins with the folder */
    }
    rmSync(pinBase, { recursive: true, force: true });
    await net.close();
  }
}

function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** UDP datagrams from b to a: how many of `count` arrived. */
async function udp(net: VethPair, port: number, count: number): Promise<number> {
  const listener = await net.listen({ on: 'a', udp: port });
  await net.send({ from: 'b', udp: { port, payload: 'x'.repeat(18) }, count });
  const got = await listener.collect({ timeoutMs: 500, count });
  return got.count;
}

// -------------------------------------------------------------------------------- privileges

export interface PrivilegesReport {
  tried: number;
  clean: number;
  cases: Array<{ name: string; clean: boolean; outcome: string }>;
}

/** Privileged operations in a child without CAP_BPF/NET_ADMIN/SYS_ADMIN/PERFMON, and pin paths outside bpffs. */
export async function privileges(): Promise<PrivilegesReport> {
  return withPair('priv', async (net, pinBase) => {
    const where = { netns: net.a.netnsPath, pinBase };
    using ra = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    await ra.load(0, fixture('slot_count'));
    const before = ra.status();
    using slots = BpfMap.openPinned(join(ra.dir, 'xdp_root_slots'));
    const setup = {
      ifname: net.a.ifname,
      otherIfname: net.b.ifname,
      netns: net.a.netnsPath,
      pinBase,
      mapPin: join(ra.dir, 'xdp_root_slots'),
      progPin: join(ra.dir, 'root'),
      mapId: slots.id,
      progId: before.rootProgId,
      cli,
    };
    const r = spawnSync(
      'capsh',
      ['--drop=cap_bpf,cap_net_admin,cap_sys_admin,cap_perfmon', '--', '-c', 'exec "$@"', 'sh', process.execPath, join(childDir, 'privileges-child.js'), JSON.stringify(setup)],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`privileges child: exit ${r.status} signal ${r.signal}: ${r.stderr}`);
    const cases = JSON.parse(r.stdout.trim().split('\n').pop()!) as PrivilegesReport['cases'];
    // Nothing the unprivileged process tried changed the root array.
    const after = ra.status();
    const unchanged = after.rootProgId === before.rootProgId && after.slots[0].progId === before.slots[0].progId && queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.progId === before.rootProgId;
    cases.push({ name: 'root array unchanged afterwards', clean: unchanged, outcome: unchanged ? 'unchanged' : 'CHANGED' });
    cases.push({ name: 'no root array left on the other end', clean: !existsSync(join(pinBase, `${net.b.ifname}@${net.b.netns}`)) && queryXdp(net.b.ifname, { netns: net.b.netnsPath }) === undefined, outcome: '' });
    // Pin paths outside bpffs or with '..' are refused (privileged, so only the path check stops them).
    using obj = BpfObject.open(shippedObjectPath('xdp_count'));
    await obj.load();
    const refusals: Array<[string, () => unknown]> = [
      ['program.pin outside bpffs', () => obj.programs[0].pin('/tmp/lbn-rel-pin')],
      ['program.pin with ..', () => obj.programs[0].pin(`${pinBase}/../lbn-rel-escape`)],
      ['map.pin outside bpffs', () => obj.maps[0].pin('/tmp/lbn-rel-pin')],
      ['map.pin with ..', () => obj.maps[0].pin(`${pinBase}/../lbn-rel-escape`)],
      ['map.pin relative', () => obj.maps[0].pin('lbn-rel-pin')],
      ['RootArray pinBase outside bpffs', () => RootArray.open(net.a.ifname, { netns: net.a.netnsPath, pinBase: '/tmp/lbn-rel' })],
      ['RootArray pinBase with ..', () => RootArray.open(net.a.ifname, { netns: net.a.netnsPath, pinBase: '/sys/fs/bpf/../../tmp' })],
      ['BpfObject pinRoot outside bpffs', () => BpfObject.open(fixture('pinned'), { pinRoot: '/tmp' }).loadSync()],
    ];
    for (const [name, fn] of refusals) {
      try {
        fn();
        cases.push({ name, clean: false, outcome: 'accepted' });
      } catch (e) {
        const clean = e instanceof RangeError || e instanceof TypeError || (e instanceof BpfError && ['EINVAL', 'EPERM'].includes(e.code));
        cases.push({ name, clean, outcome: `${(e as Error).constructor.name}: ${(e as Error).message.split('\n')[0]}` });
      }
    }
    return { tried: cases.length, clean: cases.filter((c) => c.clean).length, cases };
  });
}

// ------------------------------------------------------------------------------ kill points

export interface KillReport {
  tried: number;
  inconsistent: number;
  unrepaired: number;
  packetsSent: number;
  packetsLost: number;
  notes: string[];
}

function spawnActor(options: object): { ready: Promise<void>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>; kill: () => void } {
  const p = spawn(process.execPath, [join(childDir, 'actor-child.js'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      onReady();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { ready, done, kill: () => p.kill('SIGKILL') };
}

/**
 * Kills a loader (attach, slot loads, root upgrade, slot removal, detach in a loop) with SIGKILL
 * after a random delay, `kills` times. After each kill, a fresh process (`xdp-root status`) must
 * see a state that agrees with the kernel, traffic must flow, and `xdp-root attach` or `detach`
 * must repair it.
 */
export async function killPoints(options: { kills: number; seed: number; maxDelayMs?: number }): Promise<KillReport> {
  return withPair('kill', async (net, pinBase) => {
    const report: KillReport = { tried: 0, inconsistent: 0, unrepaired: 0, packetsSent: 0, packetsLost: 0, notes: [] };
    const ns = ['--netns', net.a.netnsPath, '--pin-base', pinBase];
    const dir = rootArrayDir(net.a.ifname, { netns: net.a.netnsPath, pinBase });
    let x = options.seed >>> 0;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    for (let k = 0; k < options.kills; k++) {
      const actor = spawnActor({ action: 'cycle', ifname: net.a.ifname, netns: net.a.netnsPath, pinBase, seed: k, rounds: 0, slotCount: 4, fixtures: { slotCount: fixture('slot_count') } });
      await actor.ready;
      await sleep(rand(options.maxDelayMs ?? 400));
      actor.kill();
      const ended = await actor.done;
      report.tried++;
      if (ended.code !== null && ended.code !== 0) report.notes.push(`kill ${k}: the loader failed by itself: ${ended.stderr.split('\n')[0]}`);
      // What a fresh process sees, against what the kernel runs.
      const q = queryXdp(net.a.ifname, { netns: net.a.netnsPath });
      const st = runCli(['status', net.a.ifname, '--json', ...ns]);
      let consistent: boolean;
      let seen = '';
      if (st.code === 0) {
        const [s] = JSON.parse(st.stdout) as Array<{ attached: boolean; rootProgId?: number; mode?: string }>;
        seen = s.attached ? `root ${s.rootProgId} ${s.mode}` : 'not attached';
        consistent = s.attached ? q !== undefined && q.progId === s.rootProgId && s.mode === 'skb' : q === undefined || q.progId !== s.rootProgId;
      } else {
        // A clear "incomplete, run attach/detach" is fine while nothing of ours runs.
        seen = st.stderr.trim();
        consistent = /incomplete|no root array/.test(st.stderr) && (q === undefined || q.name !== 'xdp_root');
      }
      if (!consistent) {
        report.inconsistent++;
        report.notes.push(`kill ${k}: status says '${seen}', the kernel runs ${q ? `${q.name} ${q.progId}` : 'nothing'}`);
      }
      // Traffic flows through whatever is installed (every program here passes).
      const got = await udp(net, 9300 + (k % 100), 10);
      report.packetsSent += 10;
      report.packetsLost += 10 - got;
      // Repair: detach now and then (everything gone), else attach (complete and pinned).
      if (k % 3 === 2) {
        const r = runCli(['detach', net.a.ifname, ...ns]);
        const clean = queryXdp(net.a.ifname, { netns: net.a.netnsPath }) === undefined && !existsSync(dir);
        if (!clean) {
          report.unrepaired++;
          report.notes.push(`kill ${k}: detach left ${existsSync(dir) ? readdirSync(dir).join(',') : 'no pins'} (exit ${r.code}: ${r.stderr.trim()})`);
          await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath, pinBase });
        }
      } else {
        const r = runCli(['attach', net.a.ifname, '--slots', '4', '--mode', 'skb', ...ns]);
        let ok = r.code === 0;
        if (ok) {
          using ra = RootArray.open(net.a.ifname, { netns: net.a.netnsPath, pinBase });
          ok = ra.status().rootProgId === queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.progId;
        }
        if (!ok) {
          report.unrepaired++;
          report.notes.push(`kill ${k}: attach did not repair (exit ${r.code}: ${r.stderr.trim()})`);
          await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath, pinBase });
        }
      }
    }
    return report;
  });
}

// ------------------------------------------------------------------------------ concurrency

export interface ConcurrencyReport {
  writers: number;
  operations: number;
  errors: number;
  conflicts: number;
  statsConsistent: boolean;
  leftLocked: boolean;
  notes: string[];
}

/** `writers` processes change slots of one root array at once, `rounds` changes each. */
export async function concurrency(options: { writers: number; rounds: number }): Promise<ConcurrencyReport> {
  return withPair('conc', async (net, pinBase) => {
    const where = { netns: net.a.netnsPath, pinBase };
    const slotCount = 4;
    using ra = await RootArray.attach(net.a.ifname, { ...where, slots: slotCount, mode: 'skb' });
    const actors = Array.from({ length: options.writers }, (_, i) =>
      spawnActor({ action: 'writer', ifname: net.a.ifname, netns: net.a.netnsPath, pinBase, seed: 1000 + i, rounds: options.rounds, slotCount, fixtures: { slotCount: fixture('slot_count') } }),
    );
    const results = await Promise.all(actors.map((a) => a.done));
    const report: ConcurrencyReport = { writers: options.writers, operations: options.writers * options.rounds, errors: 0, conflicts: 0, statsConsistent: false, leftLocked: false, notes: [] };
    const asked: Record<number, Set<number | null>> = {};
    for (const r of results) {
      if (r.code !== 0) {
        report.errors += options.rounds;
        report.notes.push(`writer failed: exit ${r.code} ${r.signal}: ${r.stderr.split('\n')[0]}`);
        continue;
      }
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { asked: Record<string, Array<number | null>>; errors: string[] };
      report.errors += out.errors.length;
      report.notes.push(...out.errors.slice(0, 3));
      for (const [slot, ids] of Object.entries(out.asked)) for (const id of ids) (asked[Number(slot)] ??= new Set()).add(id);
    }
    // The final program of every slot is one some writer asked for (or empty, if asked or untouched).
    const status = ra.status();
    for (const s of status.slots) {
      const allowed = asked[s.slot] ?? new Set([null]);
      if (!allowed.has(s.progId ?? null)) {
        report.conflicts++;
        report.notes.push(`slot ${s.slot} holds ${s.progId}, which no writer asked for`);
      }
    }
    // Nothing is left locked, and the counters add up on fresh traffic.
    try {
      (await lockPath(ra.dir, 200)).release();
    } catch {
      report.leftLocked = true;
    }
    await sleep(100);
    ra.clear();
    const got = await udp(net, 9400, 40);
    const after = ra.status();
    const first = after.slots.find((s) => s.progId !== undefined);
    report.statsConsistent = got === 40 && after.root.packets === 40n && (first === undefined ? after.root.noSlot === 40n : first.stats.pass === 40n);
    return report;
  });
}

// --------------------------------------------------------------------------- hitless upgrade

export interface UpgradeReport {
  sent: number;
  received: number;
  lost: number;
  socketDrops: number;
  slotSwaps: number;
  rootSwaps: number;
}

/** While b sends a steady stream to a, replaces slot 0's program and the root program over and over. */
export async function upgrade(options: { packets: number; intervalMs?: number }): Promise<UpgradeReport> {
  return withPair('upg', async (net, pinBase) => {
    const where = { netns: net.a.netnsPath, pinBase };
    let ra = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    using a = ra.prepare(0, fixture('slot_count')).object;
    using b = ra.prepare(0, fixture('slot_count')).object;
    await a.load();
    await b.load();
    await ra.load(0, a.program('slot_count'));
    await sleep(100);
    const listener = await net.listen({ on: 'a', udp: 9500 });
    let sending = true;
    const sender = net.send({ from: 'b', udp: { port: 9500, payload: 'u'.repeat(18) }, count: options.packets, intervalMs: options.intervalMs ?? 0, timeoutMs: 60_000 }).finally(() => (sending = false));
    let slotSwaps = 0;
    let rootSwaps = 0;
    try {
      while (sending) {
        await ra.load(0, slotSwaps % 2 ? a.program('slot_count') : b.program('slot_count'));
        slotSwaps++;
        if (slotSwaps % 5 === 0) {
          const next = await RootArray.attach(net.a.ifname, { ...where, rootObject: shippedObjectPath('xdp_root') });
          ra.close();
          ra = next;
          rootSwaps++;
        }
      }
    } finally {
      ra.close();
    }
    const sent = (await sender).sent;
    const got = await listener.collect({ timeoutMs: 1000, count: sent });
        // Datagrams the receiving socket's buffer overflowed on (counted by the kit) did pass XDP.
    const socketDrops = got.dropped ?? 0;
    return { sent, received: got.count, lost: sent - got.count - socketDrops, socketDrops, slotSwaps, rootSwaps };
  });
}

// -------------------------------------------------------------------------------------- soak

export interface SoakReport {
  cycles: number;
  operations: number;
  fdsBefore: number;
  fdsAfter: number;
  leakedFds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssGrowthMiB: number;
  leakedPins: number;
  xdpLeft: boolean;
  gcReleasedFds: number;
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const rssMiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function settleGc(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(10);
  }
}

/**
 * Repeats open/load/attach(link on a veth end)/detach/close, map pin/unpin, ring buffer
 * open/close, root-array slot changes and objects dropped without close(); fds, pins, XDP
 * attachments and RSS must come back to where they started (RSS within `rssToleranceMiB`).
 */
export async function soak(options: { cycles: number }): Promise<SoakReport> {
  return withPair('soak', async (net, pinBase) => {
    const where = { netns: net.a.netnsPath };
    using ra = await RootArray.attach(net.b.ifname, { netns: net.b.netnsPath, pinBase, slots: 2, mode: 'skb' });
    const pinDir = join(pinBase, 'maps');
    rmSync(pinDir, { recursive: true, force: true });
    require('node:fs').mkdirSync(pinDir);
    using rbObj = BpfObject.open(fixture('ringbuf'));
    await rbObj.load();
    const rbMap = rbObj.maps.find((m) => m.type === 'ringbuf')!;
    let operations = 0;
    const cycle = async (i: number): Promise<void> => {
      switch (i % 5) {
        case 0: {
          using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
          await obj.load();
          using link = attachXdp(obj.program('xdp_pass'), net.a.ifname, { ...where, mode: 'skb' });
          void link;
          break;
        }
        case 1: {
          using obj = BpfObject.open(shippedObjectPath('xdp_count'));
          obj.loadSync();
          const path = join(pinDir, `m${i}`);
          obj.maps[0].pin(path);
          using again = BpfMap.openPinned(path);
          void again;
          obj.maps[0].unpin(path);
          break;
        }
        case 2: {
          const rb = new RingBuffer(rbMap);
          rb.close();
          break;
        }
        case 3:
          if (i % 2) await ra.load(0, shippedObjectPath('xdp_pass'));
          else await ra.remove(0);
          break;
        default: {
          // Dropped without close(): the finalizers release the fds.
          const obj = BpfObject.open(shippedObjectPath('xdp_count'));
          obj.loadSync();
          BpfProgram.openById(obj.programs[0].id);
          BpfMap.openById(obj.maps[0].id);
        }
      }
      operations++;
    };
    // Warm-up: code paths compiled, caches and the codec cache filled, before the baseline.
    const warmup = Math.min(200, Math.ceil(options.cycles / 10));
    for (let i = 0; i < warmup; i++) await cycle(i);
    await settleGc();
    const fdsBefore = fdCount();
    const rssBefore = rssMiB();
    const pinsBefore = readdirSync(pinBase, { recursive: true }).length;
    let gcReleasedFds = 0;
    for (let i = 0; i < options.cycles; i++) {
      await cycle(i);
      if (i % 500 === 499) {
        const f = fdCount();
        await settleGc();
        gcReleasedFds += Math.max(0, f - fdCount());
      }
    }
    await settleGc();
    const fdsAfter = fdCount();
    const rssAfter = rssMiB();
    const pinsAfter = readdirSync(pinBase, { recursive: true }).length;
    const xdpLeft = queryXdp(net.a.ifname, where) !== undefined;
    return {
      cycles: options.cycles,
      operations,
      fdsBefore,
      fdsAfter,
      leakedFds: Math.max(0, fdsAfter - fdsBefore),
      rssBeforeMiB: Math.round(rssBefore),
      rssAfterMiB: Math.round(rssAfter),
      rssGrowthMiB: Math.round((rssAfter - rssBefore) * 10) / 10,
      leakedPins: Math.max(0, pinsAfter - pinsBefore),
      xdpLeft,
      gcReleasedFds,
    };
  });
}

export { BpfStateError };
