// tc on a veth pair: tcx links and the legacy clsact + cls_bpf path, real traffic dropped at
// ingress, queries, and errors.
// @module-tag kernel-slice
// @module-tag threads
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, BpfObject, TcFilter, TcxLink, attachTc, queryTc, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet, fixturePath } from '../support/helpers';
import { itWith, itWithout } from '../support/kernel';

describeNet('attachTc on a veth pair', () => {
  let net: VethPair;
  let obj: BpfObject;
  beforeEach(async () => {
    net = await VethPair.create();
    obj = BpfObject.open(fixturePath('tc_drop'));
    await obj.load();
  });
  afterEach(async () => {
    obj.close();
    await net.close();
  });

  /** How many of `count` datagrams from b reach a's socket. The 300 ms grace starts once the last
   *  one is sent, so a slow guest (arm64 under TCG) that takes longer to send counts them all. */
  async function delivered(port: number, count = 20): Promise<number> {
    await using listener = await net.listen({ on: 'a', udp: port });
    await net.send({ from: 'b', udp: { port, payload: 'tc' }, count });
    return (await listener.collect({ timeoutMs: 300, count })).count;
  }

  itWith('tcx', 'tcx ingress: drops real traffic, counts it, and lets it through again after detach', async () => {
    const att = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(att).toBeInstanceOf(TcxLink);
    expect(att.kind).toBe('tcx');
    const q = queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(q.programs).toEqual([{ id: obj.program('tc_drop').id, name: 'tc_drop', linkId: (att as TcxLink).id }]);
    expect(queryTc(net.a.ifname, { direction: 'egress', netns: net.a.netnsPath }).programs).toEqual([]);
    expect(await delivered(9200)).toBe(0);
    expect(obj.globals.get('dropped')).toBe(20n);
    att.detach();
    expect(queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath }).programs).toEqual([]);
    expect(await delivered(9200)).toBe(20);
    expect(obj.globals.get('dropped')).toBe(20n);
  });

  it('the legacy path (clsact + cls_bpf, direct action) when forced; tc sees the filter; detach removes it', async () => {
    const att = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath, mechanism: 'cls_bpf' });
    expect(att).toBeInstanceOf(TcFilter);
    expect(att.attached).toBe(true);
    const shown = await net.a.exec('tc', ['-j', 'filter', 'show', 'dev', net.a.ifname, 'ingress']);
    const filters = JSON.parse(shown.stdout) as Array<{ kind: string; options?: { bpf_name?: string; 'direct-action'?: boolean; prog?: { id: number } } }>;
    const bpf = filters.find((f) => f.kind === 'bpf' && f.options);
    expect(bpf?.options?.['direct-action']).toBe(true);
    expect(bpf?.options?.prog?.id).toBe(obj.program('tc_drop').id);
    // cls_bpf filters are not tcx programs, but queryTc lists them as filters.
    const q = queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(q.programs).toEqual([]);
    expect(q.filters).toEqual([
      expect.objectContaining({ handle: att.handle, priority: att.priority, progId: obj.program('tc_drop').id, name: 'tc_drop', directAction: true }),
    ]);
    expect(queryTc(net.a.ifname, { direction: 'egress', netns: net.a.netnsPath }).filters).toEqual([]);
    expect(await delivered(9201)).toBe(0);
    expect(att.detach()).toBe(true);
    expect(att.attached).toBe(false);
    expect(att.detach()).toBe(false);
    expect(queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath }).filters).toEqual([]);
    expect(await delivered(9201)).toBe(20);
  });

  it('cls_bpf: a taken handle/priority is EEXIST unless replace', async () => {
    using first = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, handle: 7, priority: 3 });
    expect(first).toMatchObject({ kind: 'cls_bpf', handle: 7, priority: 3 });
    expect(() => attachTc(obj.program('tc_pass'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, handle: 7, priority: 3 })).toThrow(/EEXIST.*replace/s);
    const second = attachTc(obj.program('tc_pass'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, handle: 7, priority: 3, replace: true });
    expect(second.progId).toBe(obj.program('tc_pass').id);
    expect((first as TcFilter).attached).toBe(false);
    expect(queryTc(net.a.ifname, { direction: 'egress', netns: net.a.netnsPath }).filters).toEqual([
      expect.objectContaining({ handle: 7, priority: 3, progId: obj.program('tc_pass').id, name: 'tc_pass' }),
    ]);
  });

  itWith('tcx', 'egress with tcx: traffic sent by a is dropped on its way out', async () => {
    using _att = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, mechanism: 'tcx' });
    const got = net.receive({ on: 'b', udp: 9202, timeoutMs: 300 });
    await net.send({ from: 'a', udp: { port: 9202 }, count: 10 });
    expect((await got).count).toBe(0);
  });

  itWith('tcx', 'the default is tcx where the kernel has it; queryTc lists the program', async () => {
    using att = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(att).toBeInstanceOf(TcxLink);
    const q = queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(q.ifindex).toBe(net.a.ifindex);
    expect(q.programs.map((p) => p.id)).toEqual([obj.program('tc_drop').id]);
    expect(await delivered(9203)).toBe(0);
  });

  itWithout('tcx', 'without tcx the default is a cls_bpf filter, and asking for tcx is a named error', async () => {
    using att = attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(att).toBeInstanceOf(TcFilter);
    const q = queryTc(net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath });
    expect(q.ifindex).toBe(net.a.ifindex);
    expect(q.programs).toEqual([]); // tcx's list: a cls_bpf filter is not in it
    expect(await delivered(9203)).toBe(0);
    // Asked for explicitly, tcx is a named, typed error on a kernel without it.
    expect(() => attachTc(obj.program('tc_pass'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, mechanism: 'tcx' })).toThrow(BpfFeatureError);
    expect(() => attachTc(obj.program('tc_pass'), net.a.ifname, { direction: 'egress', netns: net.a.netnsPath, mechanism: 'tcx' })).toThrow(/tcx.*Linux 6\.6/);
  });

  it('errors: wrong program type, missing interface, bad direction', async () => {
    using xdp = BpfObject.open(shippedObjectPath('xdp_pass'));
    await xdp.load();
    expect(() => attachTc(xdp.program('xdp_pass'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath })).toThrow(/xdp program; attachTc needs a sched_cls program/);
    expect(() => attachTc(obj.program('tc_drop'), 'missing0', { direction: 'ingress', netns: net.a.netnsPath })).toThrow(BpfError);
    expect(() => attachTc(obj.program('tc_drop'), 'missing0', { direction: 'ingress', netns: net.a.netnsPath })).toThrow(/ENODEV.*'missing0'/s);
    expect(() => attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'sideways' as 'ingress', netns: net.a.netnsPath })).toThrow(TypeError);
    expect(() => attachTc(obj.program('tc_drop'), net.a.ifname, { direction: 'ingress', netns: net.a.netnsPath, mechanism: 'tcx', handle: 1 })).toThrow(TypeError);
  });
});
