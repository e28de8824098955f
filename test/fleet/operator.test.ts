// The fleet as operators run it (issue 26): each test reproduces one defect found end to end —
// apply all or nothing with errors at the config line, per-interface refusal, kernel identities,
// a broken state file, a stale state folder, one option parser matching the help, and the smaller
// operator messages.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BpfError, BpfObject, RootArray, type RootStatus } from '../../lib/index';
import { applyFleet, FleetApplyError, FleetConfigError, loadFleetConfig, parseFleetConfig } from '../../lib/fleet/index';
import { formatRates, slotRates } from '../../lib/cli/top';
import { commandHelp, commands } from '../../lib/cli/xdp-root';
import { parseCommandLine } from '../../lib/cli/command';
import { printApplyError } from '../../lib/cli/apply';
import { VethPair } from '../../lib/testing/index';
import { AgentProcess, threeSlots } from '../support/fleet';
import { buildTs, canLoadBpf, describeNet, fixturePath, xdpRoot, xdpRootCli } from '../support/helpers';
import { scaledMs } from '../support/kernel';

/**
 * Why this kernel will not load `slot_frags` (an `xdp.frags` program: kernels before 5.18 refuse
 * the flag at load), or undefined when it does. The swap-failure test needs a program that loads
 * and then fails its swap; where it cannot load, the test skips with the kernel's answer.
 */
function fragsRefused(): string | undefined {
  if (!canLoadBpf) return 'needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs';
  try {
    using probe = BpfObject.open(fixturePath('slot_frags'));
    probe.loadSync();
    return undefined;
  } catch (e) {
    return `this kernel refuses an xdp.frags program at load (${(e as Error).message.split('\n')[0]}), so no swap can be made to fail after every program loaded`;
  }
}
const noFrags = fragsRefused();

/** The CLI in another process with a hang guard (a hung CLI is killed and reported as such). */
async function cli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [xdpRootCli, ...args], { encoding: 'utf8', timeout: timeoutMs });
    return { code: 0, stdout, stderr, killed: false };
  } catch (e) {
    const err = e as { code: number | null; stdout: string; stderr: string; killed: boolean };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, killed: err.killed };
  }
}

describe('xdp-root help and the option parser', () => {
  it('every option help lists is accepted by the parser, and help <command> gives options, defaults and exit codes', () => {
    for (const [name, c] of Object.entries(commands)) {
      const help = commandHelp(name);
      expect(help).toMatch(/exit codes:\n {2}0 {2}/);
      const listed = [...help.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]);
      for (const opt of ['netns', 'pin-base', 'debug', ...Object.keys(c.options ?? {})]) expect(listed).toContain(opt);
      for (const opt of listed) {
        const spec = { ...(c.options ?? {}) }[opt];
        const argv = spec?.type === 'string' || opt === 'netns' || opt === 'pin-base' ? [name, `--${opt}`, 'x'] : [name, `--${opt}`];
        expect(() => parseCommandLine(argv, { netns: { type: 'string' }, 'pin-base': { type: 'string' }, debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, ...(c.options ?? {}) }, name)).not.toThrow();
      }
    }
    const apply = commandHelp('apply');
    expect(apply).toMatch(/--state FILE .*default: \/run\/xdp-root\/fleet-state\.json/);
    expect(apply).toMatch(/--pin-base DIR .*default: \/sys\/fs\/bpf\/xdp-root; config key: pinBase/);
    expect(commandHelp('agent')).toMatch(/--interval SECONDS .*default: 10/);
  });

  it("the trust options are the parser's too: --insecure for apply, agent and load, --sha256 HEX for load", () => {
    for (const name of ['apply', 'agent', 'load']) {
      expect(commandHelp(name)).toMatch(/^usage: .*\[--insecure\]/);
      expect(commandHelp(name)).toMatch(/^ {2}--insecure +waive the ownership checks/m);
      expect(parseCommandLine([name, '--insecure'], commands[name].options!, name).values.insecure).toBe(true);
    }
    expect(commandHelp('load')).toMatch(/^ {2}--sha256 HEX +the object's pinned SHA-256/m);
    expect(parseCommandLine(['load', '--sha256=ab'], commands.load.options!, 'load').values.sha256).toBe('ab');
    // A bad hash is a command-line mistake (exit 2) naming load's usage, before any kernel work.
    const bad = xdpRoot(['load', 'lbn-none0', '0', 'xdp_pass', '--sha256', 'xyz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^xdp-root: --sha256 must be 64 hex digits, got 'xyz'\nusage: xdp-root load /);
    // status takes neither.
    expect(xdpRoot(['status', '--insecure']).stderr.split('\n')[0]).toMatch(/^xdp-root: unknown option '--insecure' for status/);
  });

  it("a failed apply prints one line per failure with the error's advice in CLI syntax, then what was put back", () => {
    const error = new BpfError('bpf_xdp_attach', 95, "on 'eth9'", 'use { mode: "skb" }', [], {}, 'use --mode skb');
    const failure = { file: '/etc/f.yaml', line: 4, ifname: 'eth9', netns: undefined, slot: undefined, object: undefined, reason: 'library words', verifierLog: undefined, error };
    const e = new FleetApplyError([failure], ['root array attached to eth8'], []);
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void printed.push(a.join(' ')));
    try {
      printApplyError(e, false);
    } finally {
      spy.mockRestore();
    }
    expect(printed.join('\n').split('\n')).toEqual([
      "xdp-root: apply failed; this run's 1 change was put back (1 error):",
      `  /etc/f.yaml:4: eth9: ${error.summary}. Hint: use --mode skb`,
      '  put back: root array attached to eth8',
    ]);
  });

  it('an unknown option is one plain line naming the command, with that command\'s usage only', () => {
    const r = xdpRoot(['status', '--state', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("xdp-root: unknown option '--state' for status (it takes --netns, --pin-base, --debug, --help, --version, --json)");
    expect(r.stderr).toMatch(/^usage: xdp-root status /m);
    expect(r.stderr).not.toMatch(/xdp-root attach/);
    const missing = xdpRoot(['apply', 'x.yaml', '--state']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--state needs a value \(FILE\) for apply/);
  });
});

describe('smaller operator messages', () => {
  it('top shows a plain slot program as "-" (null in JSON), like status', () => {
    const st = (pass: bigint): RootStatus => ({
      ifname: 'eth1', ifindex: 2, netns: undefined, mode: 'skb', rootProgId: 1, slotCount: 1,
      root: { packets: 0n, bytes: 0n, noSlot: 0n },
      slots: [{ slot: 0, progId: 7, name: 'plain', loadedAt: undefined, counted: false, stats: { aborted: 0n, drop: 0n, pass, tx: 0n, redirect: 0n, invalid: 0n, bytes: 0n, passedOn: 0n } }],
    });
    const rows = slotRates(st(0n), st(0n), 1);
    expect(rows).toEqual([{ ifname: 'eth1', slot: 0, program: 'plain', packetsPerSec: null, bytesPerSec: null, dropsPerSec: null }]);
    expect(formatRates(rows).split('\n')[1]).toMatch(/^eth1\s+0\s+plain\s+-\s+-\s+-$/);
  });

  it('a YAML alias bomb is a FleetConfigError with the file and line', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]', ''].join('\n');
    let err: unknown;
    try {
      parseFleetConfig(bomb, '/etc/xdp-root/bomb.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetConfigError);
    expect((err as FleetConfigError).issues[0]).toMatchObject({ file: '/etc/xdp-root/bomb.yaml', line: 2 });
    expect((err as Error).message).toMatch(/bomb\.yaml:2:\d+: YAML: .*alias/i);
  });

  it('deploy/README says how to install without the registry package', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'deploy', 'README.md'), 'utf8');
    expect(readme).not.toMatch(/^npm install -g libbpf-node\s/m);
    expect(readme).toMatch(/npm install -g \.\/libbpf-node-[\d.]+\.tgz/);
  });
});

describeNet('the fleet as operators run it', () => {
  let net: VethPair | undefined;
  let dir: string;
  let pinBase: string | undefined;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    if (net) {
      for (const end of [net.a, net.b]) {
        if (pinBase) await RootArray.cleanup(end.ifname, { netns: end.netnsPath, pinBase });
        await RootArray.cleanup(end.ifname, { netns: end.netnsPath });
      }
    }
    if (pinBase) rmSync(pinBase, { recursive: true, force: true });
    pinBase = undefined;
    await net?.close();
    net = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(): Promise<{ net: VethPair; file: string; stateFile: string }> {
    net = await VethPair.create();
    dir = mkdtempSync(join(tmpdir(), 'fleet-op-'));
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, threeSlots(net, 9001));
    return { net, file, stateFile: join(dir, 'state.json') };
  }

  function progIds(n: VethPair, where: { pinBase?: string } = {}): (number | undefined)[] {
    using root = RootArray.open(n.a.ifname, { netns: n.a.netnsPath, ...where });
    return root.status().slots.map((s) => s.progId);
  }

  /** The three-slot config with slot 1 changed (another port) and a slot 3 entry (line 16). */
  const withSlot3 = (n: VethPair, object: string): string => `${threeSlots(n, 9005)}      - slot: 3\n        object: ${object}\n`;

  it('apply: a program the verifier refuses changes no slot; the line names file:line, interface, netns, slot and the cause', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const before = progIds(net);
    writeFileSync(file, withSlot3(net, fixturePath('verifier_reject')));
    const r = xdpRoot(['apply', file, '--state', stateFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/apply failed; nothing was changed \(1 error\)/);
    const line = r.stderr.split('\n').find((l) => l.includes('fleet.yaml:16:'));
    expect(line).toBeDefined();
    expect(line).toContain(`${net.a.ifname} (netns ${net.a.netnsPath}) slot 3 (${fixturePath('verifier_reject')}): the verifier refused program 'xdp_unchecked': `);
    // The verifier's own words for the unchecked packet read (they vary across kernels).
    expect(line).toMatch(/outside of the packet|invalid access to packet/);
    expect(r.stderr).toMatch(/--debug prints the whole verifier log/);
    // Slot 1's valid change was not made either.
    expect(progIds(net)).toEqual(before);
    const debug = xdpRoot(['apply', file, '--state', stateFile, '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/--- verifier log of .*fleet\.yaml:16 \(slot 3\) ---\n[\s\S]*(outside of the packet|invalid access to packet)[\s\S]*\n---/);
    expect(progIds(net)).toEqual(before);
  });

  it.skipIf(noFrags !== undefined)(`apply: a swap that fails puts back what this run replaced, and says so${noFrags ? ` [skipped: ${noFrags}]` : ''}`, async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const before = progIds(net);
    // slot_frags loads (the verifier accepts it) but a non-frags root's slots refuse it.
    writeFileSync(file, withSlot3(net, fixturePath('slot_frags')));
    let err: unknown;
    try {
      await applyFleet(loadFleetConfig(file), { stateFile });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetApplyError);
    const e = err as FleetApplyError;
    expect(e.failures).toMatchObject([{ slot: 3, line: 16, ifname: net.a.ifname, netns: net.a.netnsPath }]);
    expect(e.rolledBack).toEqual([expect.stringMatching(/slot 1: slot_drop_port \(id \d+\) replaced by/)]);
    expect(e.notRolledBack).toEqual([]);
    expect(e.message).toMatch(/this run's 1 change was put back/);
    expect(progIds(net)).toEqual(before);
    // The state was put back too: the old file is in sync.
    writeFileSync(file, threeSlots(net, 9001));
    const again = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(again.plan.changes).toEqual([]);
  });

  it('apply: an interface whose root has another slot count is left as it is, the others are applied', async () => {
    const { net, file, stateFile } = await setup();
    {
      using root = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, slots: 2, mode: 'skb' });
      void root;
    }
    writeFileSync(file, `${threeSlots(net, 9001)}  - name: ${net.b.ifname}\n    netns: ${net.b.netnsPath}\n    mode: skb\n    programs:\n      - { slot: 0, object: xdp_pass }\n`);
    const { plan } = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(plan.refused).toMatchObject([{ ifname: net.a.ifname, line: 2, reason: expect.stringMatching(/has 2 slots, the config asks for 4/) }]);
    {
      using b = RootArray.open(net.b.ifname, { netns: net.b.netnsPath });
      expect(b.status().slots[0].name).toBe('xdp_pass');
    }
    expect(progIds(net)).toEqual([undefined, undefined]);
    const r = xdpRoot(['apply', file, '--state', stateFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`fleet\\.yaml:2: ${net.a.ifname} \\(netns ${net.a.netnsPath}\\): left as it is: its running root array has 2 slots`));
    expect(r.stdout).toMatch(/1 slot unchanged/);
  });

  it('a null or broken state file is recovered from the kernel: apply goes on and refills a slot emptied by hand', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { programs: Record<string, unknown> };
    state.programs['4242'] = null;
    writeFileSync(stateFile, JSON.stringify(state));
    {
      using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      await root.remove(2);
    }
    const r = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(r.plan.changes).toMatchObject([{ action: 'load', slot: 2, drift: true }]);
    expect(progIds(net)[2]).toBeDefined();
    // A file that is not JSON at all: every slot replaced once (atomically), then in sync.
    writeFileSync(stateFile, '{"version": 1, "programs": {');
    const recovered = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(recovered.plan.changes.map((c) => c.action)).toEqual(['replace', 'replace', 'replace']);
    expect((await applyFleet(loadFleetConfig(file), { stateFile })).plan.changes).toEqual([]);
  });

  it('the same namespace by /run/netns and by /proc/PID/ns/net is one interface: in sync, and a duplicate', async () => {
    const { net, file, stateFile } = await setup();
    await applyFleet(loadFleetConfig(file), { stateFile });
    const holder = spawn('ip', ['netns', 'exec', basename(net.a.netnsPath), 'sleep', '60'], { stdio: 'ignore' });
    children.push(holder);
    await new Promise((r) => setTimeout(r, 300));
    const procPath = `/proc/${holder.pid}/ns/net`;
    const other = threeSlots(net, 9001).replace(`netns: ${net.a.netnsPath}`, `netns: ${procPath}`);
    writeFileSync(file, other);
    const r = await applyFleet(loadFleetConfig(file), { stateFile });
    expect(r.plan.changes).toEqual([]);
    expect(r.plan.unchanged).toHaveLength(3);
    const both = `${threeSlots(net, 9001)}${other.split('\n').slice(1).join('\n')}`;
    writeFileSync(file, both);
    expect(() => loadFleetConfig(file)).toThrow(/interfaces\[1\]\.name: interface .* is given twice \(also at interfaces\[0\]\)/);
  });

  it('apply --state under a folder deleted while reachable fails before any change instead of hanging', async () => {
    const { net, file } = await setup();
    const gone = join(dir, 'gone');
    mkdirSync(gone);
    const holder = spawn('sleep', ['60'], { cwd: gone, stdio: 'ignore' });
    children.push(holder);
    await new Promise((r) => setTimeout(r, 200));
    rmdirSync(gone);
    const r = await cli(['apply', file, '--state', `/proc/${holder.pid}/cwd/sub/state.json`], 30_000);
    expect(r.killed).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot create the folder \/proc\/\d+\/cwd\/sub: .*ENOENT.*deleted/);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
  });

  it('apply and agent take --pin-base and --netns as help says; top without an interface lists the roots', async () => {
    const { net, file, stateFile } = await setup();
    pinBase = `/sys/fs/bpf/lbn-op-${process.pid}`;
    // No netns key: --netns gives it.
    writeFileSync(file, threeSlots(net, 9001).replace(`    netns: ${net.a.netnsPath}\n`, ''));
    const r = xdpRoot(['apply', file, '--state', stateFile, '--pin-base', pinBase, '--netns', net.a.netnsPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath, pinBase })).toBe(true);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);

    const agent = new AgentProcess(['--config', file, '--state', stateFile, '--pin-base', pinBase, '--netns', net.a.netnsPath, '--metrics', 'off', '--interval', '30']);
    children.push(agent.child);
    await agent.waitFor((l) => l.msg === 'in sync (no changes)' && l.reason === 'start', scaledMs(20_000));
    agent.child.kill('SIGHUP');
    await agent.waitFor((l) => l.msg === 'in sync (no changes)' && l.reason === 'SIGHUP', scaledMs(20_000));
    expect(await agent.stop()).toBe(0);

    const top = await cli(['top', '--pin-base', pinBase, '--once', '--json', '--interval', '0.2']);
    expect(top.stderr).toBe('');
    expect(top.code).toBe(0);
    const rows = JSON.parse(top.stdout) as { ifname: string; slot: number }[];
    expect(rows.filter((x) => x.ifname === net.a.ifname).map((x) => x.slot)).toEqual([0, 1, 2]);
  });

  it('load takes a shipped program name as a config does and names a verifier refusal\'s cause; an agent without its config file exits', async () => {
    const { net } = await setup();
    {
      using root = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, slots: 2, mode: 'skb' });
      void root;
    }
    const r = xdpRoot(['load', net.a.ifname, '0', 'xdp_counter', '--netns', net.a.netnsPath]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^slot 0 on .*: xdp_counter \(id \d+, sha256 [0-9a-f]{64}\)/);
    const nope = xdpRoot(['load', net.a.ifname, '1', 'xdp_nope', '--netns', net.a.netnsPath]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(/no object 'xdp_nope': neither a file nor a shipped program \(xdp_pass, /);

    // A verifier refusal at load names the cause, not a line ending at a colon.
    const refused = xdpRoot(['load', net.a.ifname, '1', fixturePath('verifier_reject'), '--netns', net.a.netnsPath]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')[0]).toMatch(/^xdp-root: the verifier refused program 'xdp_unchecked': \S.*(outside of the packet|invalid access to packet)/);

    const missing = join(dir, 'nonexist.yaml');
    const agent = await cli(['agent', '--config', missing, '--metrics', 'off'], 20_000);
    expect(agent.killed).toBe(false);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toContain(`${missing}: the config file does not exist (--wait-for-config waits for it)`);
    expect(agent.stderr).not.toMatch(/:0:0/);
  });
});
