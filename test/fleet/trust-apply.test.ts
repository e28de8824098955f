// The trust rule end to end on a kit veth pair: `xdp-root apply` and `xdp-root load` refuse an
// untrusted object or config and attach nothing; a pinned hash loads from anywhere; a file swapped
// after the check is not what loads (the kernel's program is the checked one, by name and tag);
// the agent refuses an object a user replaced, logs and counts it, and repairs drift from the
// bytes it verified.
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { BpfMap, BpfObject, BpfProgram, RootArray, queryXdp, shippedObjectPath } from '../../lib/index';
import { applyFleet, loadFleetConfig } from '../../lib/fleet/index';
import { VethPair } from '../../lib/testing/index';
import { AgentProcess, sample } from '../support/fleet';
import { buildTs, describeNet, fixturePath, xdpRootCli } from '../support/helpers';
import { scaledMs } from '../support/kernel';
import { spawnSync } from 'node:child_process';

/** The built CLI in another process: exit code, stdout and stderr (stderr of a success too: the warnings). */
function xdpRoot(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [xdpRootCli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const NOBODY = 65534;
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The tag the kernel gives an object's program loaded on its own (a hash of its instructions). */
function tagOf(file: string, program: string, globals: Record<string, unknown> = {}): string {
  using obj = BpfObject.open(file);
  for (const [k, v] of Object.entries(globals)) obj.globals.set(k, v);
  obj.loadSync();
  return obj.program(program).tag;
}

describeNet('fleet trust (apply, load, agent)', () => {
  let net: VethPair | undefined;
  let dir: string | undefined;
  const agents: AgentProcess[] = [];

  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    if (net) await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath });
    await net?.close();
    net = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function setup(): Promise<{ net: VethPair; dir: string; ns: string[] }> {
    net = await VethPair.create();
    dir = mkdtempSync(join(tmpdir(), 'fleet-trust-apply-')); // 0700, root's
    return { net, dir, ns: ['--netns', net.a.netnsPath] };
  }

  const config = (n: VethPair, object: string, extra = '') => `interfaces:
  - name: ${n.a.ifname}
    netns: ${n.a.netnsPath}
    mode: skb
    slots: 2
    programs:
      - slot: 0
        object: ${object}
        globals: { drop_port: 9001 }
${extra}`;

  function slot0(n: VethPair): number | undefined {
    using root = RootArray.open(n.a.ifname, { netns: n.a.netnsPath });
    return root.status().slots[0].progId;
  }

  it('apply refuses an untrusted object or config and attaches nothing; root-owned 0644 is applied; --dry-run prints each sha256', async () => {
    const { net, dir } = await setup();
    const drop = join(dir, 'drop');
    mkdirSync(drop, { mode: 0o777 });
    chmodSync(drop, 0o777);
    const obj = join(drop, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), obj);
    chownSync(obj, NOBODY, NOBODY);
    chmodSync(obj, 0o666);
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, config(net, obj));
    const state = ['--state', join(dir, 'state.json')];
    const nothingAttached = () => {
      expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
      expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
    };

    let r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config refused, nothing changed (1 error)');
    expect(r.stderr).toContain(`fleet.yaml:8:17: interfaces[0].programs[0].object: untrusted object ${obj}: ${drop} (owner root (uid 0), mode 0777) is a folder writable by group and others; ${obj} (owner nobody (uid ${NOBODY}), mode 0666) is not owned by root and writable by group and others`);
    nothingAttached();
    // The library refuses it the same way.
    expect(() => loadFleetConfig(file)).toThrow(/untrusted object/);

    // The folder fixed, the object still someone else's: refused.
    chmodSync(drop, 0o755);
    r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`untrusted object ${obj}: ${obj} (owner nobody (uid ${NOBODY}), mode 0666) is not owned by root`);
    nothingAttached();

    // A writable config: refused before its objects are read.
    chownSync(obj, 0, 0);
    chmodSync(obj, 0o644);
    chmodSync(file, 0o646);
    r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: untrusted config ${file}: ${file} (owner root (uid 0), mode 0646) is writable by others`);
    nothingAttached();

    // Everything root's and 0644: the dry run prints the hash to pin, the apply attaches.
    chmodSync(file, 0o644);
    r = xdpRoot(['apply', file, ...state, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sha256 of each object (pin one with 'sha256: <hex>' on its entry):\n  ${sha(obj)}  ${net.a.ifname} (netns ${net.a.netnsPath}) slot 0: ${obj}`);
    nothingAttached();
    r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(slot0(net)).toBeDefined();
  });

  it('apply loads a pinned object from a writable place, refuses a mismatch naming both hashes, and --insecure warns', async () => {
    const { net, dir } = await setup();
    const drop = join(dir, 'drop');
    mkdirSync(drop, { mode: 0o777 });
    chmodSync(drop, 0o777);
    const obj = join(drop, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), obj);
    chownSync(obj, NOBODY, NOBODY);
    chmodSync(obj, 0o666);
    const file = join(dir, 'fleet.yaml');
    const state = ['--state', join(dir, 'state.json')];

    const wrong = 'ef'.repeat(32);
    writeFileSync(file, config(net, obj, `        sha256: ${wrong}\n`));
    let r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`fleet.yaml:10:17: interfaces[0].programs[0].sha256: object ${obj} does not match its pinned hash: sha256 ${sha(obj)}, pinned ${wrong}`);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
    // --insecure never waives a pin.
    expect(xdpRoot(['apply', file, ...state, '--insecure']).code).toBe(1);

    writeFileSync(file, config(net, obj));
    r = xdpRoot(['apply', file, ...state, '--insecure']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^xdp-root: WARNING: --insecure: trust checks waived/);
    expect(r.stderr).toContain(`xdp-root: WARNING: untrusted, loaded anyway: ${obj}: ${obj} (owner nobody (uid ${NOBODY}), mode 0666) is not owned by root`);
    const insecureId = slot0(net);
    expect(insecureId).toBeDefined();
    // Every apply warns, even one that changes nothing.
    r = xdpRoot(['apply', file, ...state, '--insecure']);
    expect(r.stdout).toMatch(/no changes/);
    expect(r.stderr).toMatch(/WARNING: --insecure/);

    writeFileSync(file, config(net, obj, `        sha256: ${sha(obj).toUpperCase()}\n`));
    r = xdpRoot(['apply', file, ...state]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(slot0(net)).toBe(insecureId); // same bytes, same settings: nothing to change
  });

  it('loads the bytes it checked: a file swapped after the check is not what reaches the kernel (name and tag)', async () => {
    const { net, dir } = await setup();
    const obj = join(dir, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), obj);
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, config(net, obj));
    const checked = loadFleetConfig(file);

    // Swapped for another object (root's, even) between the check and the load.
    const other = join(dir, 'other.bpf.o');
    copyFileSync(shippedObjectPath('xdp_pass'), other);
    renameSync(other, obj);
    expect(sha(obj)).not.toBe(checked.interfaces[0].programs[0].sha256);

    await applyFleet(checked, { stateFile: join(dir, 'state.json') });
    using prog = BpfProgram.openById(slot0(net)!);
    const expected = tagOf(fixturePath('slot_drop_port'), 'slot_drop_port', { drop_port: 9001 });
    expect(tagOf(obj, 'xdp_pass')).not.toBe(expected);
    expect(prog.kernelInfo()).toMatchObject({ name: 'slot_drop_port', tag: expected });
    // Loaded from memory under the file's object name, as from the path: its maps are named alike.
    const names = prog.kernelInfo().mapIds.map((id) => {
      using m = BpfMap.openById(id);
      return m.name;
    });
    expect(names).toContain('prog.rodata');
  });

  it('xdp-root load refuses an untrusted object (slot left empty), loads it with the right --sha256 or --insecure (warned)', async () => {
    const { net, dir, ns } = await setup();
    using root = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, mode: 'skb', slots: 2 });
    const obj = join(dir, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), obj);
    chmodSync(obj, 0o666);

    let r = xdpRoot(['load', net.a.ifname, '0', obj, ...ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`xdp-root: untrusted object ${obj}: ${obj} (owner root (uid 0), mode 0666) is writable by group and others. Root loads only what root controls: make each of these owned by root and not writable by group or others (chown root:root PATH; chmod go-w PATH), or pin the object's hash (sha256: in the config, --sha256 for xdp-root load)\n`);
    expect(root.status().slots[0].progId).toBeUndefined();

    const wrong = '01'.repeat(32);
    r = xdpRoot(['load', net.a.ifname, '0', obj, '--sha256', wrong, ...ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`object ${obj} does not match its pinned hash: sha256 ${sha(obj)}, pinned ${wrong}`);
    expect(root.status().slots[0].progId).toBeUndefined();
    expect(xdpRoot(['load', net.a.ifname, '0', obj, '--sha256', 'xyz', ...ns]).code).toBe(2);

    r = xdpRoot(['load', net.a.ifname, '0', obj, '--sha256', sha(obj), ...ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`slot 0 on ${net.a.ifname}: slot_drop_port (id ${root.status().slots[0].progId}, sha256 ${sha(obj)})`);

    r = xdpRoot(['load', net.a.ifname, '1', obj, '--insecure', ...ns]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`xdp-root: WARNING: untrusted, loaded anyway: ${obj}: ${obj} (owner root (uid 0), mode 0666) is writable by group and others`);
    expect(root.status().slots[1].name).toBe('slot_drop_port');
  });

  it('the agent refuses an object a user replaced while it runs: logged, counted, not loaded; drift is repaired from the verified bytes', async () => {
    const { net, dir } = await setup();
    const objs = join(dir, 'objects');
    mkdirSync(objs, { mode: 0o755 });
    const obj = join(objs, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), obj);
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, config(net, obj));
    const agent = new AgentProcess(['--config', file, '--interval', '0.5', '--metrics', '127.0.0.1:0', '--state', join(dir, 'state.json')]);
    agents.push(agent);
    const url = await agent.metricsUrl();
    await agent.waitFor((r) => r.msg === 'applied' && r.slot === 0);
    const first = slot0(net)!;
    const expectedTag = tagOf(fixturePath('slot_drop_port'), 'slot_drop_port', { drop_port: 9001 });

    // A user's file (another program) takes the object's place; the config is touched.
    const mark = agent.logs.length;
    const theirs = join(objs, '.new');
    copyFileSync(shippedObjectPath('xdp_pass'), theirs);
    chownSync(theirs, NOBODY, NOBODY);
    chmodSync(theirs, 0o666);
    renameSync(theirs, obj);
    writeFileSync(file, config(net, obj));
    const refused = await agent.waitFor((r) => r.msg === 'trust check refused a file; nothing loaded from it', scaledMs(5000), mark);
    expect(refused).toMatchObject({ level: 'error', code: 'EUNTRUSTED', reason: 'config file changed', file, line: 8, entry: 'interfaces[0].programs[0].object' });
    expect(refused.error).toContain(`untrusted object ${obj}: ${obj} (owner nobody (uid ${NOBODY}), mode 0666) is not owned by root`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(sample(metrics, 'xdp_root_agent_trust_refusals_total', {})).toBe(1);
    expect(sample(metrics, 'xdp_root_agent_config_ok', {})).toBe(0);
    expect(slot0(net)).toBe(first);

    // Drift: the slot emptied by hand is refilled with the bytes verified at the last good
    // read, not with the file now at the path.
    const mark2 = agent.logs.length;
    {
      using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      await root.remove(0);
    }
    const drift = await agent.waitFor((r) => r.msg === 'drift repaired', scaledMs(5000), mark2);
    using prog = BpfProgram.openById(drift.progId as number);
    expect(prog.kernelInfo()).toMatchObject({ name: 'slot_drop_port', tag: expectedTag });
    expect(agent.logs.slice(mark).some((r) => r.msg === 'applied' && r.slot === 0)).toBe(false);
  });
});
