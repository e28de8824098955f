// `applyFleet` and `xdp-root apply` on a kit veth pair: a three-slot config behaves as written,
// a changed entry replaces only its slot without losing a packet, the same file again changes
// nothing, a slot emptied by hand is drift, and a bad config changes nothing at all.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { features, RootArray } from '../../lib/index';
import { applyFleet, FleetApplyError, loadFleetConfig, rootArrayMetrics } from '../../lib/fleet/index';
import { metadataDecision } from '../../lib/rootarray/meta';
import { VethPair } from '../../lib/testing/index';
import { sample, threeSlots } from '../support/fleet';
import { buildTs, describeNet, fixturePath, xdpRoot, xdpRootCli } from '../support/helpers';
import { itWith, scaledMs } from '../support/kernel';


/** The CLI in another process, without blocking this one's event loop (traffic goes on meanwhile). */
async function xdpRootAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [xdpRootCli, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describeNet('fleet apply', () => {
  let net: VethPair | undefined;
  let dir: string;

  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });

  afterEach(async () => {
    if (net) await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath });
    await net?.close();
    net = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(): Promise<{ net: VethPair; file: string; stateFile: string }> {
    net = await VethPair.create();
    dir = mkdtempSync(join(tmpdir(), 'fleet-apply-'));
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, threeSlots(net, 9001));
    return { net, file, stateFile: join(dir, 'state.json') };
  }

  async function udp(n: VethPair, port: number, count: number, intervalMs = 0): Promise<number> {
    const listener = await n.listen({ on: 'a', udp: port });
    await n.send({ from: 'b', udp: { port, payload: 'x'.repeat(18) }, count, intervalMs });
    const got = await listener.collect({ timeoutMs: 400, count });
    await listener.close();
    return got.count;
  }

  function progIds(n: VethPair): (number | undefined)[] {
    using root = RootArray.open(n.a.ifname, { netns: n.a.netnsPath });
    return root.status().slots.map((s) => s.progId);
  }

  it('applies three slots that behave as configured, and the same file again changes nothing', async () => {
    const { net, file, stateFile } = await setup();
    const first = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(first.plan.changes.map((c) => c.action)).toEqual(['attach', 'load', 'load', 'load']);
    await new Promise((r) => setTimeout(r, 100)); // the MLD reports an attach triggers
    using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
    root.clear();
    const ids = progIds(net);
    expect(ids.slice(0, 3).every((id) => id !== undefined)).toBe(true);
    expect(ids[3]).toBeUndefined();

    expect(await udp(net, 9001, 30)).toBe(0); // dropped by slot 1
    expect(await udp(net, 9002, 20)).toBe(20);
    const text = rootArrayMetrics([root]);
    const at = { interface: net.a.ifname };
    expect(sample(text, 'xdp_filter_ip_pass_count_total', { ...at, slot: 0 })).toBe(50);
    expect(sample(text, 'xdp_root_slot_packets_total', { ...at, slot: 1, action: 'drop' })).toBe(30);
    expect(sample(text, 'xdp_counter_packets_total', { ...at, slot: 2, protocol: 'ipv4-udp' })).toBe(20);
    expect(sample(text, 'xdp_root_slot_packets_total', { ...at, slot: 2, action: 'pass' })).toBe(20);

    const again = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(again.plan.changes).toEqual([]);
    expect(again.plan.unchanged).toHaveLength(3);
    expect(progIds(net)).toEqual(ids);
    const cliAgain = xdpRoot(['apply', file, '--state', stateFile]);
    expect(cliAgain).toMatchObject({ code: 0 });
    expect(cliAgain.stdout).toMatch(/in sync \(no changes\)\n3 slots unchanged/);
    expect(progIds(net)).toEqual(ids);
  });

  /** The three-slot config with `passMeta` set, and what it loads as. */
  function withHandoff(n: VethPair, file: string, passMeta: boolean, extra = ''): ReturnType<typeof loadFleetConfig> {
    writeFileSync(file, threeSlots(n, 9001).replace('    slots: 4\n', `    slots: 4\n    passMeta: ${passMeta}\n`) + extra);
    return loadFleetConfig(file);
  }

  function rootStatus(n: VethPair): ReturnType<RootArray['status']> {
    using root = RootArray.open(n.a.ifname, { netns: n.a.netnsPath });
    return root.status();
  }

  it('turns the metadata hand-off on and off as the config says, reloading the root and keeping the slots; says why where the kernel cannot', async () => {
    const { net, file, stateFile } = await setup();
    const can = features.has('xdp-meta-64');
    const at = { ifname: net.a.ifname, netns: net.a.netnsPath };
    const cannot = `${net.a.ifname} (netns ${net.a.netnsPath}): metadata hand-off ${metadataDecision(true).reason}`;
    // A new root, asked for it: on where the kernel can, else off and the plan says why.
    const first = await applyFleet(withHandoff(net, file, true), { stateFile });
    expect(first.plan.changes[0]).toMatchObject({ action: 'attach', passMeta: true });
    expect(first.plan.notes).toEqual(can ? [] : [cannot]);
    expect(rootStatus(net).metadata!.passing).toBe(can);
    const slots = progIds(net);
    const root = rootStatus(net).rootProgId;
    // Asked off: the root is reloaded where it was on; nothing to do where it never was.
    const off = await applyFleet(withHandoff(net, file, false), { stateFile });
    expect(off.plan.changes).toEqual(can ? [{ action: 'handoff', ...at, passMeta: false }] : []);
    expect(off.plan.notes).toEqual([]);
    expect(rootStatus(net).metadata!.passing).toBe(false);
    expect(rootStatus(net).rootProgId !== root).toBe(can);
    expect(progIds(net)).toEqual(slots);
    // The reloaded root still runs the chain: slot 1 drops its port, the rest passes.
    expect(await udp(net, 9001, 10)).toBe(0);
    expect(await udp(net, 9002, 10)).toBe(10);
    // Asked on again, then the same file again: a reload (or the note), then nothing.
    const on = await applyFleet(withHandoff(net, file, true), { stateFile });
    expect(on.plan.changes).toEqual(can ? [{ action: 'handoff', ...at, passMeta: true }] : []);
    expect(on.plan.notes).toEqual(can ? [] : [cannot]);
    expect(rootStatus(net).metadata!.passing).toBe(can);
    expect(progIds(net)).toEqual(slots);
    expect((await applyFleet(withHandoff(net, file, true), { stateFile })).plan.changes).toEqual([]);
    // The CLI prints the reload (or the note) as a plan line.
    const cli = xdpRoot(['apply', withHandoff(net, file, false).file, '--state', stateFile, '--dry-run']);
    expect(cli, cli.stderr).toMatchObject({ code: 0 });
    if (can) expect(cli.stdout).toContain(`~ ${net.a.ifname} (netns ${net.a.netnsPath}): reload the root program with the metadata hand-off off (atomic; slots and counters stay)`);
    else expect(cli.stdout).toMatch(/in sync \(no changes\)/);
  });

  itWith('xdp-meta-64', 'a failed apply puts the metadata hand-off back as it was', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(withHandoff(net, file, false), { stateFile });
    const slots = progIds(net);
    const root = rootStatus(net).rootProgId;
    // The hand-off is switched first (step 1), then slot 3's program is refused by the verifier.
    const bad = withHandoff(net, file, true, `      - slot: 3\n        object: ${fixturePath('verifier_reject')}\n`);
    const err = await applyFleet(bad, { stateFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetApplyError);
    expect((err as FleetApplyError).rolledBack).toEqual([`${net.a.ifname} (netns ${net.a.netnsPath}): root program reloaded with the metadata hand-off on`]);
    expect((err as FleetApplyError).notRolledBack).toEqual([]);
    expect(rootStatus(net).metadata!.passing).toBe(false);
    expect(rootStatus(net).rootProgId).not.toBe(root); // reloaded twice: on, then back off
    expect(progIds(net)).toEqual(slots);
  });

  it('replaces only the changed slot, atomically, losing no packet while traffic flows', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const before = progIds(net);
    writeFileSync(file, threeSlots(net, 9003));

    const dry = xdpRoot(['apply', file, '--state', stateFile, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`~ ${net.a.ifname} \\(netns .*\\) slot 1: replace slot_drop_port \\(id ${before[1]}\\) with .*slot_drop_port\\.bpf\\.o \\(the config entry changed\\)`));
    expect(dry.stdout).toMatch(/2 slots unchanged\ndry run: 1 change\(s\) not applied/);
    expect(progIds(net)).toEqual(before);

    // Traffic to a port that every version passes, in batches of 500 (1 ms apart) from before the
    // CLI's apply starts until after it ends, however long it takes (minutes under emulation):
    // the overlap comes by construction, not from a guess at how long the apply takes.
    const listener = await net.listen({ on: 'a', udp: 9002 });
    const batch = async (): Promise<number> => (await net.send({ from: 'b', udp: { port: 9002, payload: 'y' }, count: 500, intervalMs: 1, timeoutMs: 60_000 })).sent;
    let sent = await batch(); // traffic flows before the apply starts
    let applying = true;
    let sendingEnded = 0;
    const sending = (async () => {
      while (applying && sent < 200_000) sent += await batch();
      sendingEnded = Date.now();
    })();
    const applied = await xdpRootAsync(['apply', file, '--state', stateFile]);
    const applyEnded = Date.now();
    applying = false;
    await sending;
    const got = await listener.collect({ timeoutMs: scaledMs(500), count: sent });
    await listener.close();
    expect(applied.code).toBe(0);
    expect(sendingEnded).toBeGreaterThan(applyEnded);
    expect(applied.stdout).toMatch(/applied 1 change\(s\)/);
    expect(got.count).toBe(sent);

    const after = progIds(net);
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(after[1]).not.toBe(before[1]);
    expect(await udp(net, 9001, 10)).toBe(10); // no longer dropped
    expect(await udp(net, 9003, 10)).toBe(0);
  });

  it('plans a slot emptied by hand as drift and refills it', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const before = progIds(net);
    {
      using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      await root.remove(1);
    }
    const { plan } = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(plan.changes).toMatchObject([{ action: 'load', slot: 1, drift: true, reason: `drift: emptied by hand (it held program ${before[1]})` }]);
    const after = progIds(net);
    expect(after[1]).toBeDefined();
    expect([after[0], after[2]]).toEqual([before[0], before[2]]);
    expect(await udp(net, 9001, 10)).toBe(0);
  });

  it('leaves unmentioned slots alone unless --prune', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    {
      using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      await root.load(3, fixturePath('slot_count'));
    }
    expect((await applyFleet(loadFleetConfig(file), { stateFile })).plan.changes).toEqual([]);
    expect(progIds(net)[3]).toBeDefined();
    const pruned = xdpRoot(['apply', file, '--state', stateFile, '--prune']);
    expect(pruned.stdout).toMatch(/- .* slot 3: remove slot_count .*not in the config \(--prune\)/);
    expect(progIds(net)[3]).toBeUndefined();
  });

  it('refuses a config with errors as a whole, naming the lines, and changes nothing', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const before = progIds(net);
    writeFileSync(
      file,
      `${threeSlots(net, 9005)}      - slot: 4
        object: xdp_pass
      - slot: 3
        object: xdp_nope
  - name: ${net.b.ifname}
    netns: ${net.b.netnsPath}
    programs:
      - slot: 0
        object: xdp_filter
        filter: { block: [ 198.18.0.0/99 ] }
      - slot: 1
        object: ./gone.bpf.o
`,
    );
    const r = xdpRoot(['apply', file, '--state', stateFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config refused, nothing changed \(4 errors\)/);
    expect(r.stderr).toMatch(/fleet\.yaml:16:\d+: interfaces\[0\]\.programs\[3\]\.slot: slot 4 is out of range/);
    expect(r.stderr).toMatch(/fleet\.yaml:19:\d+: interfaces\[0\]\.programs\[4\]\.object: unknown program 'xdp_nope'/);
    expect(r.stderr).toMatch(/fleet\.yaml:25:\d+: interfaces\[1\]\.programs\[0\]\.filter\.block\[0\]: bad CIDR/);
    expect(r.stderr).toMatch(/fleet\.yaml:27:\d+: interfaces\[1\]\.programs\[1\]\.object: missing file .*gone\.bpf\.o/);
    // Slot 1's valid change (port 9005) was not applied either, and b got no root.
    expect(progIds(net)).toEqual(before);
    expect(RootArray.exists(net.b.ifname, { netns: net.b.netnsPath })).toBe(false);
  });

  it('refuses an interface that does not exist before changing anything', async () => {
    const { net, file, stateFile } = await setup();
    writeFileSync(file, `${threeSlots(net, 9001)}  - name: lbn-missing0\n    netns: ${net.b.netnsPath}\n`);
    await expect(applyFleet(loadFleetConfig(file), { stateFile })).rejects.toThrow(/interface lbn-missing0 .*config line 16.* does not exist/);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
  });
});
