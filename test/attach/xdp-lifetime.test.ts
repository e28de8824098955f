// What outlives the process that attached: a child process attaches and exits; its link-attached
// program is gone with it, its netlink-attached program stays.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { detachXdp, queryXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet } from '../support/helpers';
import { scaledMs } from '../support/kernel';

// Plain JS, run by a separate node process: loads the built addon directly and attaches.
const CHILD = String.raw`
const [addonPath, objPath, ifname, netns, how] = process.argv.slice(1);
const b = require(addonPath);
const obj = new b.NativeObject(objPath, {});
obj.load();
const prog = obj.programs()[0];
const iface = { name: ifname, netns };
if (how === 'link') b.xdpAttachLink(prog, iface, 'skb');
else b.xdpAttachNetlink(prog, iface, { mode: 'skb', force: false });
process.stdout.write(String(prog.kernelInfo().id));
`;

describeNet('XDP attachments after the attaching process exits', () => {
  let net: VethPair;
  beforeEach(async () => {
    net = await VethPair.create();
  });
  afterEach(async () => {
    await net.close();
  });

  function attachInChild(how: 'link' | 'netlink'): number {
    const addon = join(__dirname, '..', '..', 'build', 'Release', 'bpf_node.node');
    const r = spawnSync(process.execPath, ['-e', CHILD, addon, shippedObjectPath('xdp_pass'), net.a.ifname, net.a.netnsPath, how], {
      encoding: 'utf8',
      timeout: scaledMs(10_000),
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return Number(r.stdout);
  }

  it('a link-attached program disappears when its owner exits', () => {
    const id = attachInChild('link');
    expect(id).toBeGreaterThan(0);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
  });

  it('a netlink-attached program stays, and another process can detach it', () => {
    const id = attachInChild('netlink');
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toMatchObject({ progId: id, mode: 'skb', name: 'xdp_pass' });
    expect(detachXdp(net.a.ifname, { netns: net.a.netnsPath, expected: id })).toBe(true);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
  });
});
