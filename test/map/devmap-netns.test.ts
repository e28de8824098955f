// DEVMAP writes with { netns }: the kernel resolves a DEVMAP value's ifindex in the writer's
// network namespace, so an interface of a test namespace needs the option.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet, fixturePath } from '../support/helpers';

describeNet('DEVMAP writes with { netns }', () => {
  let net: VethPair;
  let obj: BpfObject;

  beforeAll(async () => {
    net = await VethPair.create();
    obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
  });

  afterAll(async () => {
    obj?.close();
    await net?.close();
  });

  it('stores an interface of another namespace, and says what is wrong without the option', () => {
    const dev = obj.map('devmap');
    const ifindex = net.a.ifindex;
    dev.set(0, ifindex, { netns: net.a.netnsPath });
    expect(dev.get(0)).toBe(ifindex);
    // An ifindex no interface has in our own namespace: refused, with the reason.
    expect(() => dev.set(1, 0x7ffffff0)).toThrow(/another namespace needs \{ netns \}/);
    expect(() => dev.set(1, 0x7ffffff0, { netns: net.a.netnsPath })).toThrow(/in netns/);
    expect(() => dev.set(1, ifindex, { netns: '/run/netns/lbn-no-such-namespace' })).toThrow();
    expect(() => dev.setBatch([[1, ifindex]], { netns: net.a.netnsPath })).toThrow(TypeError);
  });
});
