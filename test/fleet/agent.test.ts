// `xdp-root agent` in a child process on a kit veth pair: applies at start, repairs a slot
// emptied by hand within its interval (reported as drift), re-applies when the file changes,
// refuses a bad file and keeps running, exits on SIGTERM leaving every program running, and a
// restarted agent changes nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { RootArray, queryXdp } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { AgentProcess, sample, threeSlots } from '../support/fleet';
import { buildTs, describeNet } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const repo = join(__dirname, '..', '..');

describeNet('fleet agent', () => {
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
  });

  function progIds(n: VethPair): (number | undefined)[] {
    using root = RootArray.open(n.a.ifname, { netns: n.a.netnsPath });
    return root.status().slots.map((s) => s.progId);
  }

  function start(file: string, stateFile: string): AgentProcess {
    const a = new AgentProcess(['--config', file, '--interval', '0.5', '--metrics', '127.0.0.1:0', '--state', stateFile]);
    agents.push(a);
    return a;
  }

  it('applies, repairs drift, follows the file, survives a bad file, and leaves programs running across a restart', async () => {
    net = await VethPair.create();
    dir = mkdtempSync(join(tmpdir(), 'fleet-agent-'));
    const file = join(dir, 'fleet.yaml');
    const stateFile = join(dir, 'state.json');
    writeFileSync(file, threeSlots(net, 9001));

    // Start: a root and three slots.
    const agent = start(file, stateFile);
    const url = await agent.metricsUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await agent.waitFor((r) => r.msg === 'applied' && r.slot === 2);
    expect(agent.logs.filter((r) => r.msg === 'applied').map((r) => r.action)).toEqual(['attach', 'load', 'load', 'load']);
    const ids = progIds(net);

    // Drift: slot 1 emptied by hand is refilled within the interval, and reported.
    const mark = agent.logs.length;
    {
      using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      expect(await root.remove(1)).toBe(true);
    }
    const drift = await agent.waitFor((r) => r.msg === 'drift repaired', scaledMs(10_000), mark); // a hang guard; `reason: 'interval'` below says which check repaired it
    expect(drift).toMatchObject({ level: 'warn', action: 'load', slot: 1, reason: 'interval', why: `drift: emptied by hand (it held program ${ids[1]})` });
    const refilled = progIds(net);
    expect(refilled[1]).toBe(drift.progId);
    expect([refilled[0], refilled[2]]).toEqual([ids[0], ids[2]]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(sample(metrics, 'xdp_root_agent_drift_repairs_total', {})).toBe(1);
    expect(sample(metrics, 'xdp_root_slot_info', { interface: net.a.ifname, slot: 1, prog_id: drift.progId as number })).toBe(1);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // The file changes: only slot 1 is replaced.
    const mark2 = agent.logs.length;
    writeFileSync(file, threeSlots(net, 9003));
    const replaced = await agent.waitFor((r) => r.msg === 'applied' && r.action === 'replace', scaledMs(5000), mark2);
    expect(replaced).toMatchObject({ slot: 1, reason: 'config file changed', from: drift.progId });
    const afterEdit = progIds(net);
    expect([afterEdit[0], afterEdit[2]]).toEqual([ids[0], ids[2]]);

    // A bad file: refused and logged, nothing changes, the agent goes on.
    const mark3 = agent.logs.length;
    writeFileSync(file, `${threeSlots(net, 9004)}      - { slot: 9, object: xdp_pass }\n`);
    const refused = await agent.waitFor((r) => r.level === 'error', scaledMs(5000), mark3);
    expect(refused.error).toMatch(/config refused, nothing changed \(1 error\)[\s\S]*fleet\.yaml:16:\d+: interfaces\[0\]\.programs\[3\]\.slot: slot 9 is out of range/);
    expect(progIds(net)).toEqual(afterEdit);
    const m2 = await (await fetch(`${url}/metrics`)).text();
    expect(sample(m2, 'xdp_root_agent_errors_total', {})).toBeGreaterThanOrEqual(1);
    expect(sample(m2, 'xdp_root_agent_config_ok', {})).toBe(0);
    // The periodic checks go on with the last good config, and config_ok stays 0 through them.
    const applies = sample(m2, 'xdp_root_agent_applies_total', {})!;
    let m3 = m2;
    for (const deadline = Date.now() + scaledMs(10_000); sample(m3, 'xdp_root_agent_applies_total', {})! < applies + 2 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      m3 = await (await fetch(`${url}/metrics`)).text();
    }
    expect(sample(m3, 'xdp_root_agent_applies_total', {})).toBeGreaterThanOrEqual(applies + 2);
    expect(sample(m3, 'xdp_root_agent_config_ok', {})).toBe(0);
    writeFileSync(file, threeSlots(net, 9003));
    await agent.waitFor((r) => r.msg === 'config loaded' && r.reason === 'config file changed', scaledMs(5000), agent.logs.length);

    // SIGHUP re-reads the file; nothing to change.
    const mark4 = agent.logs.length;
    agent.child.kill('SIGHUP');
    await agent.waitFor((r) => r.msg === 'config loaded' && r.reason === 'SIGHUP', scaledMs(5000), mark4);

    // SIGTERM: the agent exits 0; the root and every slot keep running.
    expect(await agent.stop()).toBe(0);
    expect(agent.logs.at(-1)).toMatchObject({ msg: 'agent stopped; programs left running' });
    expect(agent.logs.slice(mark4).filter((r) => r.msg === 'applied' || r.level === 'warn')).toEqual([]);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.name).toBe('xdp_root');
    expect(progIds(net)).toEqual(afterEdit);

    // Restart: the new agent finds everything as configured and changes nothing.
    const again = start(file, stateFile);
    const url2 = await again.metricsUrl();
    // Two periodic checks ran (hang guard 10 s) and found nothing to do.
    const appliesOf = async (): Promise<number> => sample(await (await fetch(`${url2}/metrics`)).text(), 'xdp_root_agent_applies_total', {}) ?? 0;
    const first = await appliesOf();
    let now = first;
    for (const deadline = Date.now() + scaledMs(10_000); now < first + 2 && Date.now() < deadline; now = await appliesOf()) await new Promise((r) => setTimeout(r, 100));
    expect(now).toBeGreaterThanOrEqual(first + 2);
    expect(again.logs.filter((r) => r.msg === 'applied' || r.msg === 'drift repaired' || r.level === 'error')).toEqual([]);
    expect(progIds(net)).toEqual(afterEdit);
    expect(await again.stop()).toBe(0);
  });

  it('refuses a metrics address that is not HOST:PORT, and a missing --config', () => {
    const cli = join(repo, 'dist', 'lib', 'cli', 'xdp-root.js');
    const run = (args: string[]): { status: number; stderr: string } => {
      try {
        execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: string };
      }
    };
    expect(run(['agent'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/expected --config FILE/) });
    expect(run(['agent', '--config', '/nonexistent.yaml', '--metrics', 'localhost'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--metrics must be HOST:PORT/) });
  });
});
