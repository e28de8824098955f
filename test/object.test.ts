// BpfObject: open from a path and a Buffer, configure, load (async and sync), enumerate, close.
// @module-tag kernel-slice
// @module-tag threads
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BpfError, BpfObject, BpfStateError, shippedObjectPath } from '../lib/index';
import { describeBpf, fixturePath, openFdCount } from './support/helpers';

const countPath = shippedObjectPath('xdp_count');

describe('open', () => {
  it('opens from a path and lists programs and maps without loading', () => {
    using obj = BpfObject.open(countPath);
    expect(obj.name).toBe('xdp_count');
    expect(obj.state).toBe('opened');
    expect(obj.programs.map((p) => [p.name, p.type, p.section])).toEqual([['xdp_count', 'xdp', 'xdp']]);
    const counters = obj.map('counters');
    expect([counters.type, counters.keySize, counters.valueSize, counters.maxEntries]).toEqual(['percpu_array', 4, 16, 5]);
    expect(obj.maps.map((m) => m.section)).toEqual([undefined, '.rodata', '.bss']);
  });

  it('opens from a Buffer holding the ELF image', () => {
    using obj = BpfObject.open(readFileSync(countPath), { objectName: 'from_mem' });
    expect(obj.name).toBe('from_mem');
    expect(obj.program('xdp_count').section).toBe('xdp');
  });

  it('names the programs and maps that exist when asked for one that does not', () => {
    using obj = BpfObject.open(countPath);
    expect(() => obj.program('nope')).toThrow(/no program 'nope' in object 'xdp_count' \(it has: xdp_count\)/);
    expect(() => obj.map('nope')).toThrow(/no map 'nope' .*it has: counters, xdp_coun\.rodata, xdp_coun\.bss/);
    expect(obj.map('.rodata').name).toBe('xdp_coun.rodata');
  });

  it('refuses missing files, folders, garbage and truncated ELF with BpfError', () => {
    expect(() => BpfObject.open('/nonexistent/x.bpf.o')).toThrow(BpfError);
    try {
      BpfObject.open('/nonexistent/x.bpf.o');
    } catch (e) {
      expect((e as BpfError).code).toBe('ENOENT');
      expect((e as BpfError).op).toBe('bpf_object__open_file');
    }
    expect(() => BpfObject.open('/tmp')).toThrow(/EISDIR/);
    const garbage = Buffer.alloc(4096, 0x5a);
    expect(() => BpfObject.open(garbage)).toThrow(BpfError);
    const elf = readFileSync(countPath);
    for (const len of [4, 16, 64, 200, elf.length >> 1, elf.length - 1]) {
      expect(() => BpfObject.open(elf.subarray(0, len)), `truncated to ${len}`).toThrow(BpfError);
    }
  });

  it('checks arguments before calling libbpf', () => {
    // @ts-expect-error wrong type on purpose
    expect(() => BpfObject.open(42)).toThrow(TypeError);
    expect(() => BpfObject.open('')).toThrow(RangeError);
    expect(() => BpfObject.open(Buffer.alloc(0))).toThrow(RangeError);
    // @ts-expect-error unknown option on purpose
    expect(() => BpfObject.open(countPath, { pinroot: '/x' })).toThrow(/unknown option 'pinroot'/);
    expect(() => BpfObject.open(countPath, { pinRoot: '' })).toThrow(RangeError);
  });
});

describe('configure before load', () => {
  it('sets autoload, program type, map sizes and reports them back', () => {
    using obj = BpfObject.open(countPath);
    const prog = obj.program('xdp_count');
    prog.autoload = false;
    expect(prog.autoload).toBe(false);
    prog.autoload = true;
    prog.type = 'sched_cls';
    expect(prog.type).toBe('sched_cls');
    prog.type = 'xdp';
    obj.map('counters').maxEntries = 1024;
    expect(obj.map('counters').maxEntries).toBe(1024);
    expect(() => (obj.map('counters').maxEntries = 0)).toThrow(RangeError);
    expect(() => (obj.map('counters').maxEntries = -1)).toThrow(RangeError);
    // @ts-expect-error wrong type on purpose
    expect(() => (prog.autoload = 'yes')).toThrow(TypeError);
    expect(() => (prog.type = 'not_a_type')).toThrow(/unknown program type 'not_a_type'/);
  });

  it('has no fd, id or tag before load', () => {
    using obj = BpfObject.open(countPath);
    expect(() => obj.program('xdp_count').fd).toThrow(BpfStateError);
    expect(() => obj.program('xdp_count').id).toThrow(/not loaded yet/);
    expect(() => obj.map('counters').fd).toThrow(/not loaded yet/);
  });
});

describeBpf('load', () => {
  let obj: BpfObject | undefined;
  afterEach(() => obj?.close());

  it('loads on a worker thread and reports ids, tags and fds', async () => {
    obj = BpfObject.open(countPath);
    obj.map('counters').maxEntries = 64;
    const loading = obj.load();
    expect(obj.state).toBe('loading');
    await loading;
    expect(obj.state).toBe('loaded');
    const prog = obj.program('xdp_count');
    expect(prog.id).toBeGreaterThan(0);
    expect(prog.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(prog.fd).toBeGreaterThan(2);
    expect(prog.kernelInfo().name).toBe('xdp_count');
    const counters = obj.map('counters');
    expect(counters.id).toBeGreaterThan(0);
    expect(counters.kernelInfo()).toMatchObject({ type: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 64 });
  });

  it('keeps the event loop running while the verifier works', async () => {
    // A fixture whose verification takes long enough (~60,000 loop iterations) that a blocking
    // load would be seen: no loop turn could happen before it returns.
    obj = BpfObject.open(fixturePath('slow_verify'));
    let ticks = 0;
    let loading = true;
    const spin = (): void => {
      ticks++;
      if (loading) setImmediate(spin);
    };
    setImmediate(spin);
    const done = obj.load();
    expect(obj.state).toBe('loading');
    await done;
    loading = false;
    expect(obj.state).toBe('loaded');
    expect(ticks).toBeGreaterThan(0);
  });

  it('loads synchronously with loadSync()', () => {
    obj = BpfObject.open(countPath);
    obj.loadSync();
    expect(obj.program('xdp_count').id).toBeGreaterThan(0);
  });

  it('skips programs with autoload off', async () => {
    obj = BpfObject.open(countPath);
    obj.program('xdp_count').autoload = false;
    await obj.load();
    expect(() => obj!.program('xdp_count').fd).toThrow(/autoload was off/);
  });

  it('refuses to load twice, to configure after load, and to load concurrently', async () => {
    obj = BpfObject.open(countPath);
    const first = obj.load();
    await expect(obj.load()).rejects.toThrow(/already running/);
    expect(() => obj!.loadSync()).toThrow(BpfStateError);
    await first;
    await expect(obj.load()).rejects.toThrow(/already loaded/);
    expect(() => (obj!.map('counters').maxEntries = 8)).toThrow(/already loaded/);
    expect(() => (obj!.program('xdp_count').autoload = false)).toThrow(BpfStateError);
  });
});

describe('close', () => {
  it('is idempotent and makes every later use a clear error', () => {
    const obj = BpfObject.open(countPath);
    const prog = obj.program('xdp_count');
    const map = obj.map('counters');
    obj.close();
    obj.close();
    expect(obj.state).toBe('closed');
    expect(() => obj.programs).toThrow(/closed/);
    expect(() => obj.program('xdp_count')).toThrow(BpfStateError);
    expect(() => prog.type).toThrow(/closed/);
    expect(() => map.maxEntries).toThrow(/closed/);
    expect(() => (map.maxEntries = 4)).toThrow(/closed/);
    expect(() => obj.globals).toThrow(/closed/);
    return expect(obj.load()).rejects.toThrow(/closed/);
  });

  it('is what `using` calls', () => {
    let seen: BpfObject;
    {
      using obj = BpfObject.open(countPath);
      seen = obj;
      expect(seen.state).toBe('opened');
    }
    expect(seen.state).toBe('closed');
  });

  it('during an async load takes effect when the load ends', async () => {
    BpfObject.open(countPath).close(); // warm-up: lazily opened fds (feature probes, vmlinux BTF)
    const before = openFdCount();
    const obj = BpfObject.open(countPath);
    const loading = obj.load();
    obj.close();
    expect(obj.state).toBe('closed');
    // The load itself succeeded: its promise resolves, then the close releases what it made.
    await expect(loading).resolves.toBeUndefined();
    expect(openFdCount()).toBe(before);
    expect(obj.state).toBe('closed');
    expect(() => obj.program('xdp_count')).toThrow(/closed/);
  });
});
