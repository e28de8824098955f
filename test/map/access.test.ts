// Element access on hash, array and LRU maps: get/set/delete/flags, untyped codecs, bad inputs.
// @module-tag kernel-slice
// @module-tag threads
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, BpfMap, BpfObject, BpfStateError } from '../../lib/index';
import { binding } from '../../lib/internal/native';
import { describeBpf, fixturePath } from '../support/helpers';
import { itWith, itWithout } from '../support/kernel';

describeBpf('map element access', () => {
  let obj: BpfObject;
  beforeAll(async () => {
    obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
  });
  afterAll(() => obj.close());

  it('gets, sets and deletes in a hash map; a missing key is undefined', () => {
    const hash = obj.map('hash');
    expect(hash.get(1)).toBeUndefined();
    hash.set(1, 10n);
    hash.set(2, 20); // a safe-integer number is fine for a 64-bit value
    expect(hash.get(1)).toBe(10n);
    expect(hash.get(2)).toBe(20n);
    expect(hash.has(2)).toBe(true);
    expect(hash.delete(1)).toBe(true);
    expect(hash.delete(1)).toBe(false);
    expect(hash.get(1)).toBeUndefined();
    hash.delete(2);
  });

  itWith('hash-lookup-and-delete', 'take() looks up and deletes a hash element in one step', () => {
    const hash = obj.map('hash');
    hash.set(2, 20n);
    expect(hash.take(2)).toBe(20n);
    expect(hash.has(2)).toBe(false);
    expect(hash.take(2)).toBeUndefined();
  });

  itWithout('hash-lookup-and-delete', 'take() on a hash map before 5.14 names the missing feature instead of an unnamed errno', () => {
    const hash = obj.map('hash');
    hash.set(3, 30n);
    expect(() => hash.take(3)).toThrow(BpfFeatureError);
    expect(() => hash.take(3)).toThrow(/lookup-and-delete on hash maps.*Linux 5\.14/);
    expect(hash.get(3)).toBe(30n); // nothing was deleted
    hash.delete(3);
  });

  it('honours update flags', () => {
    const hash = obj.map('hash');
    hash.set(5, 1n, { flags: 'noexist' });
    expect(() => hash.set(5, 2n, { flags: 'noexist' })).toThrow(expect.objectContaining({ code: 'EEXIST', op: 'bpf_map_update_elem' }));
    hash.set(5, 3n, { flags: 'exist' });
    expect(hash.get(5)).toBe(3n);
    expect(() => hash.set(6, 1n, { flags: 'exist' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => hash.set(6, 1n, { flags: 'maybe' as never })).toThrow(RangeError);
    hash.delete(5);
  });

  it('reads and writes array elements; arrays cannot delete', () => {
    const counters = obj.map('counters');
    expect(counters.get(0)).toBe(0n);
    counters.set(0, 5n);
    expect(counters.get(0)).toBe(5n);
    expect(() => counters.delete(0)).toThrow(/cannot be deleted/);
    expect(() => counters.set(16, 1n)).toThrow(BpfError); // past maxEntries: EINVAL from the kernel
    expect(counters.get(16)).toBeUndefined();
  });

  it('takes Buffers for keys and values and returns them for odd sizes', () => {
    const counters = obj.map('counters');
    counters.set(Buffer.from([1, 0, 0, 0]), Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]));
    expect(counters.get(new Uint8Array([1, 0, 0, 0]))).toBe(7n);
  });

  it('evicts from an LRU hash instead of failing when full', () => {
    const lru = obj.map('lru');
    for (let i = 0; i < 1000; i++) lru.set(i, i);
    const n = [...lru.keys()].length;
    // The kernel preallocates an LRU hash's maxEntries elements: when full it reuses one, so
    // the map never holds more (whatever the per-CPU free lists hold back).
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(lru.maxEntries);
    expect(lru.maxEntries).toBeLessThan(1000); // so that evicting was needed
    expect(lru.get(999)).toBe(999);
  });

  it('refuses keys and values of the wrong size or type before any syscall', () => {
    const hash = obj.map('hash');
    expect(() => hash.get(Buffer.alloc(3))).toThrow(RangeError);
    expect(() => hash.get(-1)).toThrow(RangeError);
    expect(() => hash.get(2 ** 32)).toThrow(RangeError);
    expect(() => hash.get('1' as never)).toThrow(TypeError);
    expect(() => hash.set(1, Buffer.alloc(4))).toThrow(/value: expected .*8 bytes/);
    expect(() => hash.set(1, 1.5)).toThrow(RangeError);
    expect(() => hash.set(1, -1n)).toThrow(RangeError);
    expect(hash.has(1)).toBe(false);
  });

  it('refuses operations the map type does not have', () => {
    expect(() => obj.map('hash').push(1n)).toThrow(/push\/pop\/peek work on queue and stack/);
    expect(() => obj.map('queue').get(0)).toThrow(/use push\(\), pop\(\) and peek\(\)/);
  });

  it('describes the map from the kernel', () => {
    const info = obj.map('hash').kernelInfo();
    expect(info).toMatchObject({ name: 'hash', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4096 });
    expect(info.id).toBeGreaterThan(0);
    expect(info.btfId).toBeGreaterThan(0);
    expect(BpfMap.infoByFd(obj.map('hash').fd)).toEqual(info);
    expect(() => BpfMap.infoByFd(0)).toThrow(BpfError); // stdin is not a map
  });
});

describeBpf('map state', () => {
  it('refuses access before load and after close', async () => {
    const obj = BpfObject.open(fixturePath('maps'));
    const hash: BpfMap = obj.map('hash');
    expect(() => hash.get(1)).toThrow(/not loaded/);
    await obj.load();
    hash.set(1, 1n);
    obj.close();
    expect(() => hash.get(1)).toThrow(BpfStateError);
    expect(() => hash.set(1, 1n)).toThrow(BpfStateError);
    expect(() => [...hash]).toThrow(BpfStateError);
  });

  it('element operations bound to a map keep their guarantees: foreign this, detached scratch, closed map', async () => {
    // The native layer directly: bindOps() is what BpfMap uses for every get/set/delete.
    const o = new (binding as any).NativeObject(fixturePath('maps'), {}); // eslint-disable-line @typescript-eslint/no-explicit-any
    o.load();
    const m = o.maps().find((x: { info(): { name: string } }) => x.info().name === 'hash');
    const ops = m.bindOps();
    const key = new Uint32Array(ops.scratch, 0, 1);
    const value = new BigUint64Array(ops.scratch, ops.valueOffset, 1);
    key[0] = 7;
    value[0] = 70n;
    ops.update();
    value[0] = 0n;
    // `this` is ignored: the map is the function's data.
    expect(ops.lookup.call({})).toBe(true);
    expect(value[0]).toBe(70n);
    expect(() => ops.update('1')).toThrow(TypeError);
    expect(() => ops.update(-1)).toThrow(TypeError);
    expect(() => ops.nextKey()).toThrow(TypeError);
    // Transferring the scratch away: Node keeps an external ArrayBuffer attached (it copies);
    // were it detached, the memory would still be the operations' own. Either way the calls go
    // on without touching freed memory, and JS never sees another map's bytes.
    try {
      structuredClone(ops.scratch, { transfer: [ops.scratch] });
    } catch {
      // not transferable at all: fine too
    }
    expect(ops.lookup()).toBe(true);
    if (ops.scratch.byteLength > 0) expect(value[0]).toBe(70n);
    expect(ops.remove()).toBe(true);
    expect(ops.remove()).toBe(false);
    // A closed object: every operation throws a BpfStateError, even through a kept function.
    const { lookup } = ops;
    o.close();
    expect(() => lookup()).toThrow(BpfStateError);
    expect(() => ops.update()).toThrow(/closed/);
    expect(() => ops.nextKey(false)).toThrow(BpfStateError);
  });

  it('refuses a foreign this', () => {
    const { NativeMap } = binding as unknown as { NativeMap: new () => { bindOps(): unknown; kernelInfo(): unknown } };
    const stray = new NativeMap();
    expect(() => stray.bindOps()).toThrow(/not created by a BPF object/);
  });
});
