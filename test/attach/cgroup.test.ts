// attachCgroup (link) and attachCgroupLegacy (BPF_PROG_ATTACH, multi) of cgroup_skb programs in a
// cgroup v2 directory the test creates and removes. The sockets counted are the test kit's: its
// side-a agent (inside side a's namespace) moves into the cgroup; traffic flows a <-> b only.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachCgroup, attachCgroupLegacy, BpfError, BpfObject } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet, fixturePath } from '../support/helpers';
import { missing } from '../support/kernel';
import { cgroup2Path } from '../../lib/features';

const mount = cgroup2Path();
const why = missing('cgroup2');
const describeCgroup = why !== undefined ? (name: string, fn: () => void) => describe.skip(`${name} [skipped: ${why}]`, fn) : describeNet;

describeCgroup('cgroup_skb programs in a cgroup of the test', () => {
  let net: VethPair;
  let cgroup: string;
  let agentPid = 0;
  let agentHome = '';

  beforeAll(async () => {
    cgroup = join(mount!, `lbn-i13-${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(cgroup);
    net = await VethPair.create();
    agentPid = await net.a.run(() => process.pid);
    agentHome = readFileSync(`/proc/${agentPid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    writeFileSync(join(cgroup, 'cgroup.procs'), String(agentPid));
  });

  afterAll(async () => {
    // Back home first: a cgroup with a process in it cannot be removed.
    if (agentPid !== 0) {
      try {
        writeFileSync(join(mount!, agentHome, 'cgroup.procs'), String(agentPid));
      } catch {
        // The agent may be gone already; closing the pair below ends it anyway.
      }
    }
    await net?.close();
    if (cgroup !== undefined) rmdirSync(cgroup);
  });

  it('counts the cgroup\'s egress with a link and its ingress with a legacy multi attach', async () => {
    using obj = BpfObject.open(fixturePath('attach_cgroup'));
    await obj.load();
    expect(obj.program('count_egress').expectedAttachType).toBe('cgroup_inet_egress');
    const link = attachCgroup(obj.program('count_egress'), cgroup);
    expect(link.info().type).toBe('cgroup');
    using legacy = attachCgroupLegacy(obj.program('count_ingress'), cgroup, { mode: 'multi' });
    expect(legacy.attachType).toBe('cgroup_inet_ingress');

    await using listener = await net.listen({ on: 'a', udp: 9200 });
    await net.send({ from: 'a', udp: { port: 9201, payload: 'out' }, count: 5 });
    await net.send({ from: 'b', udp: { port: 9200, payload: 'in' }, count: 4 });
    expect((await listener.collect({ count: 4, timeoutMs: 2000 })).count).toBe(4);
    expect(obj.globals.get('egress')).toBeGreaterThanOrEqual(5n);
    expect(obj.globals.get('ingress')).toBeGreaterThanOrEqual(4n);

    link.close();
    expect(legacy.detach()).toBe(true);
    expect(legacy.detach()).toBe(false);
    const [egress, ingress] = [obj.globals.get('egress'), obj.globals.get('ingress')];
    await using again = await net.listen({ on: 'a', udp: 9202 });
    await net.send({ from: 'a', udp: { port: 9201, payload: 'out' }, count: 3 });
    await net.send({ from: 'b', udp: { port: 9202, payload: 'in' }, count: 3 });
    expect((await again.collect({ count: 3, timeoutMs: 2000 })).count).toBe(3);
    expect(obj.globals.get('egress')).toBe(egress);
    expect(obj.globals.get('ingress')).toBe(ingress);
  });

  it('names the cgroup that does not exist, and the explicit call for auto-attach', async () => {
    using obj = BpfObject.open(fixturePath('attach_cgroup'));
    await obj.load();
    expect(() => attachCgroup(obj.program('count_egress'), join(cgroup, 'missing'))).toThrow(BpfError);
    expect(() => attachCgroup(obj.program('count_egress'), join(cgroup, 'missing'))).toThrow(/missing/);
    expect(() => attachCgroup(obj.program('count_egress'), 'relative/path')).toThrow(RangeError);
    expect(() => obj.program('count_egress').attach()).toThrow(/attachCgroup\(program, cgroupPath\)/);
  });
});
