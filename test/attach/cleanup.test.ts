// The test kit's teardown: after close, the namespaces and veth interfaces it made, and an XDP
// attachment on them, are gone. It checks only what it created itself, by name (other processes
// on the machine make namespaces too). The kit pins nothing; pins are the objects' (test/map/pin,
// test/link).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BpfObject, attachXdp, queryXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet } from '../support/helpers';

/** Names of the network namespaces `ip` knows. */
function netnsNames(): string[] {
  const out = execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }).trim();
  return out ? (JSON.parse(out) as Array<{ name: string }>).map((n) => n.name) : [];
}

/** Whether an interface of that name exists in this (the host's) namespace. */
function hostHasLink(ifname: string): boolean {
  const out = execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' });
  return (JSON.parse(out) as Array<{ ifname: string }>).some((l) => l.ifname === ifname);
}

describeNet('the kit leaves nothing behind', () => {
  it('after close: its namespaces and veth interfaces (one with XDP attached) are gone', async () => {
    const net = await VethPair.create();
    const made = [net.a.netns, net.b.netns];
    const ifnames = [net.a.ifname, net.b.ifname];
    // What was made exists while the pair is open (so the checks below can see it go).
    expect(netnsNames()).toEqual(expect.arrayContaining(made));
    for (const ns of made) expect(existsSync(`/run/netns/${ns}`)).toBe(true);
    using obj = BpfObject.open(shippedObjectPath('xdp_drop'));
    await obj.load();
    // A netlink attachment (which outlives processes) goes with the interface.
    attachXdp(obj.program('xdp_drop'), net.a.ifname, { netns: net.a.netnsPath, link: false });
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toMatchObject({ name: 'xdp_drop' });
    await net.sendFrames({ from: 'b', frames: Buffer.alloc(60, 0xff), count: 3 });
    await net.close();
    const left = netnsNames();
    expect(made.filter((ns) => left.includes(ns))).toEqual([]);
    for (const ns of made) expect(existsSync(`/run/netns/${ns}`)).toBe(false);
    expect(ifnames.filter(hostHasLink)).toEqual([]); // not moved out before the namespaces went
  });
});
