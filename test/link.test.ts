// Links and pins: libbpf auto-attach from the section name, pinning a link and reopening it,
// pinning a program and reopening it as a standalone handle, and pin paths that are refused.
// @module-tag kernel-slice
// @module-tag threads
import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfLink, BpfObject, BpfProgram, BpfStateError, attachXdp, queryXdp, shippedObjectPath } from '../lib/index';
import { VethPair } from '../lib/testing/index';
import { describeBpf, describeNet, fixturePath, itIf, openFdCount } from './support/helpers';

const PIN_DIR = `/sys/fs/bpf/libbpf-node-test-${process.pid}`;

describeBpf('links and pins', () => {
  beforeAll(() => mkdirSync(PIN_DIR, { recursive: true }));
  afterAll(() => rmSync(PIN_DIR, { recursive: true, force: true }));

  const GETPPID: Partial<Record<string, number>> = { x64: 110, arm64: 173 };

  itIf(GETPPID[process.arch] !== undefined, `getppid()'s syscall number is known here for x64 and arm64 only, this is ${process.arch}`, 'prog.attach() uses the section name (a raw tracepoint here); closing the link detaches', async () => {
    using obj = BpfObject.open(fixturePath('trace_getppid'));
    obj.globals.set('target_tgid', process.pid);
    obj.globals.set('target_nr', BigInt(GETPPID[process.arch]!));
    await obj.load();
    const link = obj.program('count_getppid').attach();
    expect(link.info()).toMatchObject({ type: 'raw_tracepoint', progId: obj.program('count_getppid').id });
    for (let i = 0; i < 5; i++) void process.ppid; // each read is a getppid() call
    expect(obj.globals.get('calls')).toBe(5n);
    link.close();
    expect(link.closed).toBe(true);
    void process.ppid;
    expect(obj.globals.get('calls')).toBe(5n);
    expect(() => link.info()).toThrow(BpfStateError);
  });

  it('auto-attach of a section libbpf cannot attach says what to do instead', async () => {
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    expect(() => obj.program('xdp_pass').attach()).toThrow(/attachXdp/);
  });

  it('a program pinned, its object closed, reopened standalone, run, closed; the pin keeps it', async () => {
    const path = `${PIN_DIR}/xdp_drop`;
    const obj = BpfObject.open(shippedObjectPath('xdp_drop'));
    await obj.load();
    const id = obj.program('xdp_drop').id;
    obj.program('xdp_drop').pin(path);
    expect(obj.program('xdp_drop').pinPath).toBe(path);
    obj.close();
    const before = openFdCount();
    const prog = BpfProgram.openPinned(path);
    expect(prog.object).toBeUndefined();
    expect(prog.name).toBe('xdp_drop');
    expect(prog.type).toBe('xdp');
    expect(prog.id).toBe(id);
    expect(prog.testRun({ data: Buffer.alloc(64) }).action).toBe('XDP_DROP');
    expect(() => (prog.autoload = false)).toThrow(/belongs to no BPF object/);
    prog.close();
    prog.close(); // idempotent
    expect(openFdCount()).toBe(before);
    expect(() => prog.testRun({ data: Buffer.alloc(64) })).toThrow(BpfStateError);
    {
      using again = BpfProgram.openPinned(path);
      expect(again.id).toBe(id);
      again.unpin();
    }
    expect(() => BpfProgram.openPinned(path)).toThrow(/ENOENT/);
  });

  it('refuses pin paths outside bpffs or with ..', async () => {
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    const prog = obj.program('xdp_pass');
    expect(() => prog.pin('/tmp/xdp_pass')).toThrow(/not inside a bpffs mount/);
    expect(() => prog.pin(`${PIN_DIR}/../escape`)).toThrow(/must not contain '\.\.'/);
    expect(() => prog.pin('relative/path')).toThrow(/must be absolute/);
    expect(() => BpfProgram.openPinned('/etc/passwd')).toThrow(RangeError);
    expect(() => BpfLink.openPinned(`${PIN_DIR}/../x`)).toThrow(RangeError);
  });

  it('opening a pinned program as a link (and the reverse) is an error, not a crash', async () => {
    const path = `${PIN_DIR}/xdp_pass_prog`;
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    obj.program('xdp_pass').pin(path);
    expect(() => BpfLink.openPinned(path)).toThrow();
    obj.program('xdp_pass').unpin();
  });
});

describeNet('pinned XDP links', () => {
  let net: VethPair;
  beforeAll(async () => {
    mkdirSync(PIN_DIR, { recursive: true });
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
    rmSync(PIN_DIR, { recursive: true, force: true });
  });

  it('a pinned link survives close(); reopened, detach() ends it and removes the pin', async () => {
    const path = `${PIN_DIR}/xdp-link`;
    const obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    const link = attachXdp(obj.program('xdp_pass'), net.a.ifname, { netns: net.a.netnsPath, mode: 'skb' });
    link.pin(path);
    expect(link.pinPath).toBe(path);
    const id = link.id;
    link.close();
    obj.close();
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })?.name).toBe('xdp_pass');
    const again = BpfLink.openPinned(path);
    expect(again.info()).toMatchObject({ id, type: 'xdp', ifindex: net.a.ifindex });
    again.detach();
    again.detach(); // idempotent
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
    expect(() => BpfLink.openPinned(path)).toThrow(/ENOENT/);
  });
});
