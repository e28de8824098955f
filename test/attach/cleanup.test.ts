// Runs last among the attach tests (files run one at a time, in name order is not guaranteed):
// checks that this process leaves no namespaces and no bpffs pins of ours behind.
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { BpfObject, attachXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet } from '../support/helpers';

describeNet('the kit leaves nothing behind', () => {
  it('after close: no namespace of this process, no veth, nothing in bpffs of ours', async () => {
    const net = await VethPair.create();
    const obj = BpfObject.open(shippedObjectPath('xdp_drop'));
    await obj.load();
    // A netlink attachment (which outlives processes) goes with the interface.
    attachXdp(obj.program('xdp_drop'), net.a.ifname, { netns: net.a.netnsPath, link: false });
    await net.sendFrames({ from: 'b', frames: Buffer.alloc(60, 0xff), count: 3 });
    await net.close();
    obj.close();
    const namespaces = execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }).trim();
    const ours = (namespaces ? (JSON.parse(namespaces) as Array<{ name: string }>) : []).filter((n) => n.name.startsWith(`lbn-${process.pid}-`));
    expect(ours).toEqual([]);
    expect(readdirSync('/sys/fs/bpf').filter((f) => f.includes(`libbpf-node-test-${process.pid}`))).toEqual([]);
  });
});
