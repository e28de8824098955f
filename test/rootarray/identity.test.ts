// Root arrays keyed by kernel identity, as on a Kubernetes node: three namespaces each with an
// `eth0`, a root on each, traffic counted by its own root only, a detach that leaves the others
// alone, a rename under a root, and a namespace deleted under a root: an orphan that
// `xdp-root cleanup --orphans` removes entirely (checked with bpftool and ip).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfError, BpfStateError, RootArray, queryXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { buildTs, describeNet, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const repo = join(__dirname, '..', '..');
const cli = join(repo, 'dist', 'lib', 'cli', 'xdp-root.js');
const pinBase = `/sys/fs/bpf/lbn-i11-id-${process.pid}`;

function xdpRoot(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args, '--pin-base', pinBase], { encoding: 'utf8', timeout: scaledMs(30_000) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether the kernel still has a program with this id (bpftool prog show id N). */
function programExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether the program is gone within `ms`: the kernel frees a program once its last reference
 * drops, and a prog array's references drop from a deferred work item after the map's last pin
 * goes, so the id can outlive the unpin by a moment on a busy machine.
 */
async function goneWithin(id: number, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    if (!programExists(id)) return true;
  }
  return !programExists(id);
}

/** Renames side a's interface of a pair (down, rename, up: the kernel refuses renaming a running one). */
async function rename(net: VethPair, from: string, to: string): Promise<void> {
  for (const args of [['link', 'set', 'dev', from, 'down'], ['link', 'set', 'dev', from, 'name', to], ['link', 'set', 'dev', to, 'up']]) {
    const r = await net.a.exec('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
}

/** UDP datagrams from b to a's address; how many the root on a counted (a has no listener). */
async function send(net: VethPair, port: number, count: number): Promise<void> {
  await net.send({ from: 'b', udp: { port, payload: 'x'.repeat(18) }, count });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeNet('RootArray identity: namespaces, renames, orphans', () => {
  const nets: VethPair[] = [];
  const roots: RootArray[] = [];

  beforeAll(async () => {
    buildTs('tsconfig.build.json');
    for (let i = 0; i < 3; i++) {
      const net = await VethPair.create();
      nets.push(net);
      await rename(net, net.a.ifname, 'eth0');
    }
  }, scaledMs(60_000));

  afterAll(async () => {
    for (const r of roots) r.close();
    for (const net of nets) {
      try {
        await RootArray.cleanup('eth0', { netns: net.a.netnsPath, pinBase });
      } catch {
        /* gone with its namespace, or renamed */
      }
    }
    await Promise.allSettled(nets.map((n) => n.close()));
    await RootArray.cleanupOrphans({ pinBase }).catch(() => []);
    rmSync(pinBase, { recursive: true, force: true });
  });

  it('three namespaces, each with an eth0: three roots, each counting only its own traffic', async () => {
    for (const net of nets) roots.push(await RootArray.attach('eth0', { netns: net.a.netnsPath, pinBase, slots: 2, mode: 'skb' }));
    const dirs = new Set(roots.map((r) => r.dir));
    expect(dirs.size).toBe(3);
    const inodes = new Set(roots.map((r) => r.netnsIno));
    expect(inodes.size).toBe(3);
    roots.forEach((r, i) => {
      expect(r.ifname).toBe('eth0');
      expect(r.ifindex).toBe(nets[i].a.ifindex);
      expect(queryXdp('eth0', { netns: nets[i].a.netnsPath })!.progId).toBe(r.status().rootProgId);
    });
    // `xdp-root status` sees roots in other namespaces: all three, or one with --netns.
    const all = JSON.parse(xdpRoot(['status', '--json']).stdout) as Array<{ ifname: string; ifindex: number; attached: boolean }>;
    expect(all.map((e) => [e.ifname, e.attached]).sort()).toEqual([['eth0', true], ['eth0', true], ['eth0', true]]);
    const one = JSON.parse(xdpRoot(['status', '--json', '--netns', nets[1].a.netnsPath]).stdout) as Array<{ netnsIno: number }>;
    expect(one.map((e) => e.netnsIno)).toEqual([roots[1].netnsIno]);
    await roots[0].load(0, fixturePath('slot_count'));
    await roots[1].load(0, fixturePath('slot_drop_port'), { globals: { drop_port: 9001 } });
    await roots[2].load(1, shippedObjectPath('xdp_pass'));
    // Each slot holds what was loaded through its own root, nothing of the others'.
    expect(roots.map((r) => r.status().slots.map((s) => s.name ?? '-').join(','))).toEqual(['slot_count,-', 'slot_drop_port,-', '-,xdp_pass']);
    // One datagram each first, so that b has resolved a's address (its ARP request would be
    // counted), then wait out the MLD burst an attach and an interface going up cause.
    for (const net of nets) await send(net, 9000, 1);
    await sleep(150);
    for (const r of roots) r.clear();
    await send(nets[0], 9001, 5);
    await send(nets[1], 9001, 7);
    await send(nets[2], 9001, 9);
    const st = roots.map((r) => r.status());
    expect(st.map((s) => s.root.packets)).toEqual([5n, 7n, 9n]);
    expect(st[0].slots[0].stats).toMatchObject({ pass: 5n, drop: 0n });
    expect(st[1].slots[0].stats).toMatchObject({ pass: 0n, drop: 7n });
    expect(st[2].slots[1].progId).toBeDefined();
  });

  it('detaching one leaves the others attached and counting', async () => {
    const dir = roots[1].dir;
    await roots[1].detach();
    expect(queryXdp('eth0', { netns: nets[1].a.netnsPath })).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    for (const i of [0, 2]) {
      expect(queryXdp('eth0', { netns: nets[i].a.netnsPath })!.progId).toBe(roots[i].status().rootProgId);
      roots[i].clear();
    }
    await send(nets[0], 9001, 3);
    await send(nets[2], 9001, 4);
    expect(roots[0].status().root.packets).toBe(3n);
    expect(roots[2].status().root.packets).toBe(4n);
  });

  it('an interface renamed under its root keeps it: found by the new name, not the old', async () => {
    const net = nets[0];
    const where = { netns: net.a.netnsPath, pinBase };
    const before = roots[0].status().rootProgId;
    await rename(net, 'eth0', 'eth9');
    expect(RootArray.exists('eth0', where)).toBe(false);
    await expect(RootArray.cleanup('eth0', where)).rejects.toThrow(/no interface eth0/);
    using renamed = RootArray.open('eth9', where);
    expect(renamed.dir).toBe(roots[0].dir);
    expect(renamed.status()).toMatchObject({ ifname: 'eth9', rootProgId: before });
    // attach is idempotent on the new name, and the old handle still works (same ifindex).
    using again = await RootArray.attach('eth9', where);
    expect(again.status().rootProgId).toBe(before);
    await roots[0].remove(0);
    expect(renamed.status().slots[0].progId).toBeUndefined();
    await rename(net, 'eth9', 'eth0');
  });

  it('a namespace deleted under a root: status marks the orphan, cleanup --orphans removes pins and programs', async () => {
    const net = nets[2];
    const st = roots[2].status();
    const slotProg = st.slots[1].progId!;
    const dir = roots[2].dir;
    roots[2].close();
    // No process of ours is inside a's namespace (the sends ran from b), so deleting its name
    // destroys it, with its eth0 and the attachment.
    execFileSync('ip', ['netns', 'del', net.a.netns]);
    let condition: string | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
      condition = RootArray.list({ pinBase }).find((e) => e.dir === dir)?.condition;
      if (condition === 'namespace-gone') break;
    }
    expect(condition).toBe('namespace-gone');
    expect(programExists(st.rootProgId)).toBe(true); // the pins keep it loaded

    // The child looks again. The kernel hands out namespace inode numbers lowest-free-first, so a
    // namespace another test file creates meanwhile can take this one's number: the child then
    // finds a namespace with that inode and no such interface. Still an orphan, named by ifindex.
    const status = xdpRoot(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`ORPHAN: root array of eth0 \\(ifindex ${net.a.ifindex}.*(namespace-gone|interface-gone)`));
    expect(status.stdout).toMatch(/Interface eth0 \(netns .*\) status:/); // the live one is listed too
    const json = JSON.parse(xdpRoot(['status', '--json']).stdout) as Array<{ orphan?: boolean; condition?: string }>;
    expect(json.filter((e) => e.orphan)).toHaveLength(1);

    const r = xdpRoot(['cleanup', '--orphans']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 orphan removed/);
    expect(existsSync(dir)).toBe(false);
    expect(await goneWithin(st.rootProgId)).toBe(true);
    expect(await goneWithin(slotProg)).toBe(true);
    // The live root is untouched.
    expect(queryXdp('eth0', { netns: nets[0].a.netnsPath })!.progId).toBe(roots[0].status().rootProgId);
    const ipShow = execFileSync('ip', ['-n', nets[0].a.netns, '-d', 'link', 'show', 'eth0'], { encoding: 'utf8' });
    expect(ipShow).toMatch(/ xdpgeneric /);
    expect(ipShow).toMatch(/prog\/xdp id \d+ name xdp_root /);
  });

  it('an interface deleted under a root is an orphan too; a handle on it refuses changes', async () => {
    const net = nets[0];
    const dir = roots[0].dir;
    const rootId = roots[0].status().rootProgId;
    await net.a.exec('ip', ['link', 'del', 'eth0']);
    const e = RootArray.list({ pinBase }).find((x) => x.dir === dir);
    expect(e).toMatchObject({ condition: 'interface-gone', orphan: true });
    await expect(roots[0].load(0, fixturePath('slot_count'))).rejects.toThrow(BpfStateError);
    await expect(roots[0].load(0, fixturePath('slot_count'))).rejects.toThrow(/is gone: its root array is an orphan/);
    const removed = await RootArray.cleanupOrphans({ pinBase });
    expect(removed.map((x) => x.dir)).toEqual([dir]);
    expect(await goneWithin(rootId)).toBe(true);
    expect(RootArray.list({ pinBase })).toEqual([]);
    await expect(RootArray.cleanup('eth0', { netns: net.a.netnsPath, pinBase })).rejects.toThrow(BpfError);
  });
});
