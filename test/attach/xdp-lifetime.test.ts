// What outlives the process that attached: a child process attaches and exits; its link-attached
// program is gone with it, its netlink-attached program stays.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { detachXdp, queryXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet } from '../support/helpers';
import { scaledMs } from '../support/kernel';

// Plain JS, run by a separate node process: loads the built addon directly and attaches. With
// 'wait' it prints the program id, then stays (holding what it attached) until its stdin closes.
const CHILD = String.raw`
const [addonPath, objPath, ifname, netns, how, wait] = process.argv.slice(1);
const b = require(addonPath);
const obj = new b.NativeObject(objPath, {});
obj.load();
const prog = obj.programs()[0];
const iface = { name: ifname, netns };
if (how === 'link') b.xdpAttachLink(prog, iface, 'skb');
else b.xdpAttachNetlink(prog, iface, { mode: 'skb', force: false });
process.stdout.write(String(prog.kernelInfo().id) + '\n');
if (wait) process.stdin.on('data', () => {}).on('end', () => process.exit(0));
`;

describeNet('XDP attachments after the attaching process exits', () => {
  let net: VethPair;
  beforeEach(async () => {
    net = await VethPair.create();
  });
  afterEach(async () => {
    await net.close();
  });

  const addon = join(__dirname, '..', '..', 'build', 'Release', 'bpf_node.node');

  function attachInChild(how: 'link' | 'netlink'): number {
    const r = spawnSync(process.execPath, ['-e', CHILD, addon, shippedObjectPath('xdp_pass'), net.a.ifname, net.a.netnsPath, how], {
      encoding: 'utf8',
      timeout: scaledMs(10_000),
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return Number(r.stdout);
  }

  it('a link-attached program is attached while its owner lives and disappears when it exits', async () => {
    const child = spawn(process.execPath, ['-e', CHILD, addon, shippedObjectPath('xdp_pass'), net.a.ifname, net.a.netnsPath, 'link', 'wait'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // Hang guard: the child is killed if it neither prints nor exits in time.
    const guard = setTimeout(() => child.kill('SIGKILL'), scaledMs(10_000));
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.endsWith('\n')) resolve();
        });
        void exited.then(() => reject(new Error(`child exited before attaching: ${err}`)));
      });
      const id = Number(out);
      expect(id).toBeGreaterThan(0);
      // While the child lives, its link holds the program on the interface.
      expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toMatchObject({ progId: id, mode: 'skb', name: 'xdp_pass' });
      child.stdin.end();
      expect(await exited).toBe(0);
      expect(err).toBe('');
      expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
    } finally {
      clearTimeout(guard);
      child.kill('SIGKILL');
    }
  });

  it('a netlink-attached program stays, and another process can detach it', () => {
    const id = attachInChild('netlink');
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toMatchObject({ progId: id, mode: 'skb', name: 'xdp_pass' });
    expect(detachXdp(net.a.ifname, { netns: net.a.netnsPath, expected: id })).toBe(true);
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
  });
});
