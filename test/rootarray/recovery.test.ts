// Root-array handles that went stale, detach that tells the truth, repair of missing pins,
// migration from the old `<ifname>@<netns>` layout, and the refusals: a mode mismatch, the root
// program as a slot, a pin base that is not bpffs (as inside `ip netns exec`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { BpfObject, BpfStateError, RootArray, attachXdp, queryXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { buildTs, describeNet, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const repo = join(__dirname, '..', '..');
const cli = join(repo, 'dist', 'lib', 'cli', 'xdp-root.js');
let seq = 0;

async function udp(net: VethPair, port: number, count: number): Promise<number> {
  const listener = await net.listen({ on: 'a', udp: port });
  await net.send({ from: 'b', udp: { port, payload: 'x'.repeat(18) }, count });
  const got = await listener.collect({ timeoutMs: 300, count });
  await listener.close();
  return got.count;
}

describeNet('RootArray recovery and refusals', () => {
  let net: VethPair | undefined;
  let pinBase = '';
  let where: { netns: string; pinBase: string };
  const xdpRoot = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args, '--netns', net!.a.netnsPath, '--pin-base', pinBase], { encoding: 'utf8', timeout: scaledMs(30_000) });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    buildTs('tsconfig.build.json');
  }, scaledMs(60_000));

  afterEach(async () => {
    if (net) {
      try {
        await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath, pinBase, force: true });
      } catch {
        /* nothing left */
      }
      await net.close();
    }
    net = undefined;
    rmSync(pinBase, { recursive: true, force: true });
  });

  async function setup(): Promise<VethPair> {
    net = await VethPair.create();
    pinBase = `/sys/fs/bpf/lbn-i11-rec-${process.pid}-${seq++}`;
    where = { netns: net.a.netnsPath, pinBase };
    return net;
  }

  it('a stale handle (root detached and attached again meanwhile) refuses to load and changes nothing', async () => {
    const net = await setup();
    using stale = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    const other = RootArray.open(net.a.ifname, where);
    await other.detach();
    using live = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    expect(live.generation).not.toBe(stale.generation);
    expect(stale.live).toBe(false);
    const err = await stale.load(0, shippedObjectPath('xdp_drop')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BpfStateError);
    expect((err as Error).message).toMatch(/detached and attached again since this handle was opened/);
    expect(() => stale.status()).toThrow(BpfStateError);
    await expect(stale.remove(0)).rejects.toThrow(BpfStateError);
    await expect(stale.detach()).rejects.toThrow(BpfStateError);
    expect(live.status().slots[0].progId).toBeUndefined();
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })!.progId).toBe(live.status().rootProgId);
    expect(await udp(net, 9000, 5)).toBe(5); // nothing drops
    // A handle whose root was detached (and not attached again) refuses too.
    await live.detach();
    await expect(stale.load(0, shippedObjectPath('xdp_drop'))).rejects.toThrow(/is gone/);
  });

  it('detach with the pins removed by hand fails with a repair hint; repair re-pins; detach then removes it', async () => {
    const net = await setup();
    const ra = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    await ra.load(0, fixturePath('slot_count'));
    const rootId = ra.status().rootProgId;
    const dir = ra.dir;
    ra.close();
    rmSync(dir, { recursive: true });
    let r = xdpRoot(['detach', net.a.ifname]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/xdp_root \(id \d+\) runs on .* but its pins are missing.*xdp-root repair/);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })!.progId).toBe(rootId);
    r = xdpRoot(['repair', net.a.ifname]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['root', 'xdp_root_slots', 'xdp_root_state', 'xdp_root_stats']);
    using repaired = RootArray.open(net.a.ifname, where);
    expect(repaired.status()).toMatchObject({ rootProgId: rootId, slotCount: 2 });
    // The kernel empties a prog array when its last pin and fd go (it breaks the reference
    // cycle through tail calls), so the slot programs were gone with the pins; the root keeps
    // running, and loading works again.
    expect(repaired.status().slots[0].progId).toBeUndefined();
    await repaired.load(0, fixturePath('slot_count'));
    expect(await udp(net, 9000, 3)).toBe(3);
    expect(repaired.status().slots[0].stats.pass).toBeGreaterThanOrEqual(3n);
    // Only the slots pin missing: a diagnosis naming it and the fix.
    rmSync(join(dir, 'xdp_root_slots'));
    expect(() => RootArray.open(net.a.ifname, where)).toThrow(/damaged: slots map missing .*xdp-root repair/);
    await RootArray.repair(net.a.ifname, where).then((x) => x.close());
    r = xdpRoot(['detach', net.a.ifname]);
    expect(r.code).toBe(0);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    // Nothing left: detach says so, with a non-zero exit.
    expect(xdpRoot(['detach', net.a.ifname]).code).toBe(1);
  });

  it('detach --force removes an xdp_root whose pins are gone', async () => {
    const net = await setup();
    const ra = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    rmSync(ra.dir, { recursive: true });
    ra.close();
    expect(xdpRoot(['detach', net.a.ifname, '--force']).code).toBe(0);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
  });

  it('migrates a root pinned in the old <ifname>@<netns> layout, keeping root, slots and counters', async () => {
    const net = await setup();
    // The old layout, built as the previous version did: maps and root pinned in one folder.
    const legacy = join(pinBase, `${net.a.ifname}@${net.a.netns}`);
    mkdirSync(legacy, { recursive: true });
    {
      using root = BpfObject.open(shippedObjectPath('xdp_root'));
      root.globals.set('xdp_root_nslots', 4);
      await root.load();
      root.map('xdp_root_slots').pin(join(legacy, 'xdp_root_slots'));
      root.map('xdp_root_stats').pin(join(legacy, 'xdp_root_stats'));
      attachXdp(root.program('xdp_root'), net.a.ifname, { netns: net.a.netnsPath, link: false, mode: 'skb' });
      root.program('xdp_root').pin(join(legacy, 'root'));
    }
    const rootId = queryXdp(net.a.ifname, { netns: net.a.netnsPath })!.progId;
    expect(() => RootArray.open(net.a.ifname, where)).toThrow(/old layout .*xdp-root migrate/);
    expect(RootArray.list({ pinBase })).toMatchObject([{ condition: 'legacy', orphan: false }]);
    const r = xdpRoot(['migrate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 root arrays migrated/);
    expect(existsSync(legacy)).toBe(false);
    using ra = RootArray.open(net.a.ifname, where);
    expect(ra.status()).toMatchObject({ rootProgId: rootId, slotCount: 4, mode: 'skb' });
    await ra.load(1, fixturePath('slot_drop_port'), { globals: { drop_port: 9001 } });
    expect(await udp(net, 9001, 6)).toBe(0);
    expect(ra.status().slots[1].stats.drop).toBe(6n);
    expect(RootArray.list({ pinBase })).toMatchObject([{ condition: 'attached', orphan: false }]);
  });

  it('refuses a mode switch, the root program as a slot, and a non-bpffs pin base (ip netns exec) in one line', async () => {
    const net = await setup();
    using ra = await RootArray.attach(net.a.ifname, { ...where, slots: 2, mode: 'skb' });
    await expect(RootArray.attach(net.a.ifname, { ...where, mode: 'native' })).rejects.toThrow(/runs in skb mode, not native/);
    let r = xdpRoot(['attach', net.a.ifname, '--mode', 'native']);
    expect(r.code).toBe(1);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })!.mode).toBe('skb');
    await expect(ra.load(0, shippedObjectPath('xdp_root'))).rejects.toThrow(/root program itself: it cannot run in a slot/);
    expect(ra.status().slots[0].progId).toBeUndefined();
    // Inside `ip netns exec`, /sys/fs/bpf is plain sysfs: one line, exit 1, no spinning.
    const started = Date.now();
    const inside = await net.a.exec(process.execPath, [cli, 'attach', net.a.ifname], { timeoutMs: 10_000 });
    expect(inside.code).toBe(1);
    expect(inside.stderr.trim().split('\n')).toHaveLength(1);
    expect(inside.stderr).toMatch(/is not on a BPF filesystem .*mount -t bpf.*--netns/);
    expect(Date.now() - started).toBeLessThan(scaledMs(10_000));
    // Unknown paths are errors.
    r = spawnSync(process.execPath, [cli, 'status', '--netns', '/etc/passwd'], { encoding: 'utf8' }) as never;
    expect(r.code ?? (r as unknown as { status: number }).status).toBe(1);
    const bad = spawnSync(process.execPath, [cli, 'status', '--pin-base', '/etc/passwd'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    expect(version.stdout).toMatch(/^xdp-root \d+\.\d+\.\d+/);
    const help = spawnSync(process.execPath, [cli, 'help', 'cleanup'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/usage: xdp-root cleanup --orphans/);
    // The fleet commands (lib/cli/fleet.ts) have help too.
    const fleetHelp = spawnSync(process.execPath, [cli, 'help', 'apply'], { encoding: 'utf8' });
    expect(fleetHelp.status).toBe(0);
    expect(fleetHelp.stdout).toMatch(/xdp-root apply <config.yaml>/);
  });

  it('a shipped slot-capable object opened on its own pins nothing and shares nothing', async () => {
    await setup();
    using a = BpfObject.open(shippedObjectPath('xdp_filter'));
    using b = BpfObject.open(shippedObjectPath('xdp_filter'));
    await a.load();
    await b.load();
    for (const o of [a, b]) for (const m of ['xdp_root_slots', 'xdp_root_stats']) expect(o.map(m).pinned).toBe(false);
    expect(a.map('xdp_root_slots').id).not.toBe(b.map('xdp_root_slots').id);
  });
});
