// The agent's metrics as an operator sees them: a real Prometheus (Debian package `prometheus`,
// installed by .ci/setup.sh) on loopback scrapes `xdp-root agent`, known traffic goes over a kit
// veth pair, and the query API's increase()/rate() of the slot counters match what was sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RootArray } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { AgentProcess, threeSlots } from '../support/fleet';
import { buildTs, canAdminNet } from '../support/helpers';
import { scaledCount, scaledMs } from '../support/kernel';
import { describe } from 'vitest';

const PROMETHEUS = '/usr/bin/prometheus';
const skip = !canAdminNet ? 'needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)' : !existsSync(PROMETHEUS) ? `no ${PROMETHEUS} (Debian package prometheus; .ci/setup.sh installs it)` : undefined;

/** A free loopback port (bound, then released for Prometheus to take). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(skip !== undefined)(skip ? `fleet metrics in Prometheus [skipped: ${skip}]` : 'fleet metrics in Prometheus', () => {
  let net: VethPair | undefined;
  let agent: AgentProcess | undefined;
  let prom: ChildProcess | undefined;
  let promExited: Promise<unknown> | undefined;
  let dir: string;

  beforeAll(() => {
    buildTs('tsconfig.build.json');
    dir = mkdtempSync(join(tmpdir(), 'fleet-prom-'));
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await promExited;
    }
    await agent?.stop();
    if (net) await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath });
    await net?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows per-slot increase() and rate() that match the packets sent', { timeout: scaledMs(90_000) }, async () => {
    net = await VethPair.create();
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, threeSlots(net, 9001));
    agent = new AgentProcess(['--config', file, '--interval', '1', '--metrics', '127.0.0.1:0', '--run-stats', '--state', join(dir, 'state.json')]);
    const target = (await agent.metricsUrl()).replace('http://', '');
    await agent.waitFor((r) => r.msg === 'applied' && r.slot === 2);

    const port = await freePort();
    const api = `http://127.0.0.1:${port}/api/v1`;
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: xdp-root\n    static_configs:\n      - targets: ['${target}']\n`);
    let promLog = '';
    prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    promExited = new Promise((r) => prom!.once('exit', r));

    const query = async (q: string): Promise<number | undefined> => {
      const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
      expect(body.status).toBe('success');
      return body.data.result.length ? Number(body.data.result[0].value[1]) : undefined;
    };
    const until = async (what: string, ok: () => Promise<boolean>, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!(await ok().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`Prometheus: ${what} not seen within ${ms} ms\n${promLog}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const at = `interface="${net.a.ifname}"`;
    await until('the agent target up', async () => (await query(`up{job="xdp-root"}`)) === 1, scaledMs(20_000));
    // Start from a scrape that saw the slots at their post-attach values.
    await new Promise((r) => setTimeout(r, 1500));
    const base = {
      // IPv4 UDP as slot 2's xdp_counter sees it: exactly what passed slot 1 (the slot's own
      // pass count also has the IPv6 neighbour discovery the kernel sends meanwhile).
      pass: (await query(`xdp_counter_packets_total{${at},slot="2",protocol="ipv4-udp"}`)) ?? 0,
      drop: (await query(`xdp_root_slot_packets_total{${at},slot="1",action="drop"}`)) ?? 0,
    };

    // Known traffic over ~5 s: 2500 datagrams that pass (slot 2 counts them) and 500 that slot 1
    // drops (fewer and further apart under emulation, where the listener lags behind).
    const passN = scaledCount(2500, 300);
    const dropN = scaledCount(500, 60);
    const listener = await net.listen({ on: 'a', udp: 9002 });
    const t0 = Date.now();
    const [passing, dropped] = await Promise.all([
      net.send({ from: 'b', udp: { port: 9002, payload: 'p' }, count: passN, intervalMs: scaledMs(2), timeoutMs: 30_000 }),
      net.send({ from: 'b', udp: { port: 9001, payload: 'd' }, count: dropN, intervalMs: scaledMs(10), timeoutMs: 30_000 }),
    ]);
    const seconds = (Date.now() - t0) / 1000;
    const got = await listener.collect({ timeoutMs: scaledMs(500), count: passN });
    await listener.close();
    expect(passing.sent).toBe(passN);
    expect(dropped.sent).toBe(dropN);
    expect(got.count).toBe(passN);

    // Exact values once a scrape has seen the end of the traffic.
    await until('the counters after the traffic', async () => (await query(`xdp_counter_packets_total{${at},slot="2",protocol="ipv4-udp"}`)) === base.pass + passN, scaledMs(10_000));
    expect(await query(`xdp_root_slot_packets_total{${at},slot="1",action="drop"}`)).toBe(base.drop + dropN);
    await new Promise((r) => setTimeout(r, 2500)); // a few flat samples after the traffic

    // increase() over a window holding the whole series: Prometheus scales the sampled delta up
    // to the window's edges by up to half a scrape interval each side, so over the ~10 s this
    // series has, it reads up to ~10% high (never low: the window holds every packet).
    const inc = await query(`increase(xdp_counter_packets_total{${at},slot="2",protocol="ipv4-udp"}[1m])`);
    const incDrop = await query(`increase(xdp_root_slot_packets_total{${at},slot="1",action="drop"}[1m])`);
    expect(inc).toBeGreaterThanOrEqual(passN);
    expect(inc).toBeLessThan((base.pass + passN) * 1.15);
    expect(incDrop).toBeGreaterThanOrEqual(dropN);
    expect(incDrop).toBeLessThan((base.drop + dropN) * 1.15);
    // rate() over the traffic's own span, evaluated when it ended: about the rate we sent at.
    const window = Math.ceil(seconds) + 2;
    const rate = await query(`max_over_time(rate(xdp_root_slot_packets_total{${at},slot="1",action="pass"}[${window}s])[${window + 6}s:1s])`);
    const sentRate = passN / seconds;
    expect(rate).toBeGreaterThan(sentRate * 0.6);
    expect(rate).toBeLessThan(sentRate * 1.4);

    // The root's own counters and its run statistics (BPF_ENABLE_STATS while the agent runs).
    expect(await query(`xdp_root_agent_run_stats_enabled`)).toBe(1);
    expect(await query(`increase(bpf_program_runs_total{${at},program="xdp_root"}[1m])`)).toBeGreaterThan((passN + dropN) * 0.95);
    expect(await query(`bpf_program_run_seconds_total{${at},program="xdp_root"}`)).toBeGreaterThan(0);
    expect(await query(`increase(xdp_root_slot_packets_total{${at},slot="2",action="pass"}[1m])`)).toBeGreaterThanOrEqual(passN);
    console.log(`prometheus: sent ${passN} pass + ${dropN} drop in ${seconds.toFixed(1)} s; increase() ${inc?.toFixed(1)} / ${incDrop?.toFixed(1)}, rate() ${rate?.toFixed(1)}/s vs ${sentRate.toFixed(1)}/s sent`);
  });
});
