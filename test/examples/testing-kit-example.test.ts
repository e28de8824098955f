// The "unit test of an XDP program" example of docs/testing-kit.md, verbatim but for the import
// paths and the privilege skip (itNet, naming the reason): if that example stops working, this fails.
import { expect } from 'vitest';
import { BpfObject, attachXdp, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { itNet } from '../support/helpers';

itNet('xdp_drop drops UDP', async () => {
  await using net = await VethPair.create();
  using obj = BpfObject.open(shippedObjectPath('xdp_drop'));
  await obj.load();
  using link = attachXdp(obj.program('xdp_drop'), net.a.ifname, { netns: net.a.netnsPath, mode: 'skb' });
  const got = net.receive({ on: 'a', udp: 9000, timeoutMs: 300 });
  await net.send({ from: 'b', udp: { port: 9000 }, count: 10 });
  expect((await got).count).toBe(0);
  void link;
});
