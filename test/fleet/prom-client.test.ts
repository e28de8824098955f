// registerRootArrayMetrics against prom-client itself: a service's own registry gets the root
// array's families next to its own metrics, read at scrape time, and they are the agent's
// /metrics families, labels and values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { RootArray } from '../../lib/index';
import { applyFleet, FleetAgent, loadFleetConfig, registerRootArrayMetrics, rootArrayFamilies } from '../../lib/fleet/index';
import { VethPair } from '../../lib/testing/index';
import { sample, threeSlots } from '../support/fleet';
import { describeNet } from '../support/helpers';

/** name{labels} → value, for the samples of the given families. */
function samples(text: string, names: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const key = line.slice(0, line.lastIndexOf(' '));
    const name = key.split('{')[0];
    if (names.has(name)) out.set(key, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** The HELP and TYPE lines of the families that have samples. */
function headers(text: string, names: ReadonlySet<string>): string[] {
  const withSamples = new Set([...samples(text, names).keys()].map((k) => k.split('{')[0]));
  return text.split('\n').filter((l) => /^# (HELP|TYPE) /.test(l) && withSamples.has(l.split(' ')[2])).sort();
}

describeNet('prom-client collector', () => {
  let net: VethPair | undefined;
  let dir: string | undefined;
  let agent: FleetAgent | undefined;

  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    if (net) await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath });
    await net?.close();
    net = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("registers the root array's families in a service's registry, read at scrape time, as the agent renders them", async () => {
    net = await VethPair.create();
    dir = mkdtempSync(join(tmpdir(), 'prom-client-'));
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, `${threeSlots(net, 9001)}      - slot: 3\n        object: xdp_sampler\n        sampler: { rate: 1 }\n`);
    const stateFile = join(dir, 'state.json');
    await applyFleet(loadFleetConfig(file), { stateFile });
    using root = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });

    // The service's own registry, with a metric of its own.
    const registry = new client.Registry();
    const requests = new client.Counter({ name: 'myservice_requests_total', help: 'Requests served', registers: [registry] });
    requests.inc(3);
    const collector = registerRootArrayMetrics(client, registry, { roots: [root] });
    expect(collector.names).toEqual(rootArrayFamilies.map((f) => f.name));
    expect(() => registerRootArrayMetrics(client, registry, { roots: [root] })).toThrow(/already been registered/);

    const at = { interface: net.a.ifname, slot: 1, action: 'drop' };
    expect(sample(await registry.metrics(), 'xdp_root_slot_packets_total', at)).toBe(0);
    // Read at scrape time: traffic sent after registering shows in the next scrape.
    await net.send({ from: 'b', udp: { port: 9001, payload: 'x' }, count: 25 });
    const text = await registry.metrics();
    expect(sample(text, 'myservice_requests_total', {})).toBe(3);
    expect(sample(text, 'xdp_root_slot_packets_total', at)).toBe(25);

    // The agent's /metrics: same families, labels and help; same values for the traffic sent.
    agent = new FleetAgent({ config: file, stateFile, metrics: { host: '127.0.0.1', port: 0 }, intervalMs: 60_000 });
    await agent.start();
    const endpoint = await (await fetch(`http://127.0.0.1:${agent.metricsAddress!.port}/metrics`)).text();
    const collected = await registry.metrics();
    const names = new Set(rootArrayFamilies.map((f) => f.name));
    const fromAgent = samples(endpoint, names);
    const fromCollector = samples(collected, names);
    expect([...fromCollector.keys()].sort()).toEqual([...fromAgent.keys()].sort());
    expect(fromCollector.size).toBeGreaterThan(40);
    for (const family of ['xdp_filter_ip_pass_count_total', 'xdp_sampler_packets_total', 'xdp_counter_packets_total', 'xdp_root_slot_info']) {
      expect([...fromCollector.keys()].some((k) => k.startsWith(`${family}{`))).toBe(true);
    }
    expect(headers(collected, names)).toEqual(headers(endpoint, names));
    expect(sample(collected, 'xdp_root_slot_packets_total', at)).toBe(sample(endpoint, 'xdp_root_slot_packets_total', at));

    collector.unregister();
    const after = await registry.metrics();
    expect(after).not.toMatch(/xdp_root_/);
    expect(sample(after, 'myservice_requests_total', {})).toBe(3);
  });
});
