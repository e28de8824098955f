// Memory-mapped arrays and .data/.bss: views over the kernel's memory, detached on close, and
// never a writable view of read-only memory.
// @module-tag kernel-slice
// @module-tag threads
import { expect, it } from 'vitest';
import { BpfMap, BpfObject, BpfStateError } from '../../lib/index';
import { describeBpf, fixturePath, gcUntil } from '../support/helpers';
import { testRun } from '../support/run';

describeBpf('memory-mapped maps', () => {
  it('shares a BPF_F_MMAPABLE array with the program, without syscalls', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const map = obj.map('mmapped');
    const mem = map.mmap();
    expect(mem.length).toBe(1024);
    expect(mem.stride).toBe(8);
    const u64 = mem.array(BigUint64Array);
    expect(u64.length).toBe(1024);
    testRun(obj.program('xdp_fill'), 3);
    expect(u64[7]).toBe(30n); // the program added 10 three times
    u64[8] = 99n;
    expect(map.get(8)).toBe(99n); // seen through the syscall path too
    map.set(9, 5n);
    expect(mem.get(9)).toBe(5n);
    mem.set(10, 6n);
    expect(map.get(10)).toBe(6n);
    expect(() => mem.get(1024)).toThrow(RangeError);
    expect(map.mmap().buffer).toBe(mem.buffer); // one mapping per map
  });

  it('numbers() reads and writes 8-byte counters as numbers, and refuses what does not fit', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const map = obj.map('mmapped');
    const mem = map.mmap();
    const nums = mem.numbers();
    expect(nums.length).toBe(1024);
    const u64 = mem.array(BigUint64Array);
    for (const [i, v] of [[0, 0], [1, 2 ** 32 - 1], [2, 2 ** 32], [3, 2 ** 53 - 1], [4, 123456789012]] as const) {
      nums.set(i, v);
      expect(u64[i]).toBe(BigInt(v)); // same bytes as the bigint view
      expect(nums.get(i)).toBe(v);
    }
    testRun(obj.program('xdp_fill'), 2);
    expect(nums.get(7)).toBe(Number(u64[7])); // what the program wrote
    u64[5] = 2n ** 53n;
    expect(() => nums.get(5)).toThrow(/2\^53|9007199254740992 or more/);
    expect(() => nums.get(1024)).toThrow(RangeError);
    expect(() => nums.get(-1)).toThrow(RangeError);
    expect(() => nums.get(1.5)).toThrow(RangeError);
    expect(() => nums.get('1' as never)).toThrow(RangeError);
    expect(() => nums.set(0, -1)).toThrow(RangeError);
    expect(() => nums.set(0, 2 ** 53)).toThrow(RangeError);
    map.close();
    expect(() => nums.get(0)).toThrow(BpfStateError);
    expect(() => nums.set(0, 1)).toThrow(BpfStateError);
  });

  it('maps .data and .bss, typed from the datasec BTF', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const bss = obj.map('.bss').typed().mmap();
    const data = obj.map('.data').typed().mmap();
    testRun(obj.program('xdp_fill'), 2);
    expect(bss.get(0)).toEqual({ bss_runs: 2 });
    expect(data.get(0)).toEqual({ data_total: 7n });
    data.set(0, { data_total: 100n });
    expect(obj.globals.get('data_total')).toBe(100n);
  });

  it('refuses read-only and non-mmap-able maps', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    expect(() => obj.map('.rodata').mmap()).toThrow(/read-only/);
    expect(() => obj.map('counters').mmap()).toThrow(/BPF_F_MMAPABLE/);
    expect(() => obj.map('hash').mmap()).toThrow(BpfStateError);
  });

  it('detaches views when the object closes, so JS cannot reach unmapped memory', async () => {
    const obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const mem = obj.map('mmapped').mmap();
    const u64 = mem.array(BigUint64Array);
    u64[1] = 1n;
    obj.close();
    expect(mem.buffer.byteLength).toBe(0);
    expect(u64.length).toBe(0);
    expect(u64[1]).toBeUndefined();
    expect(() => mem.get(1)).toThrow(/closed/);
  });

  it('array(), numbers() and set() after close throw BpfStateError, not V8\'s detached-buffer TypeError', async () => {
    const obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const map = obj.map('mmapped');
    const mem = map.mmap();
    const nums = mem.numbers();
    map.close();
    expect(() => mem.array(BigUint64Array)).toThrow(BpfStateError);
    expect(() => mem.numbers()).toThrow(BpfStateError);
    expect(() => mem.set(1, 1n)).toThrow(BpfStateError);
    expect(() => nums.get(1)).toThrow(BpfStateError);
    const again = map.mmap();
    obj.close();
    expect(() => again.array(Uint8Array)).toThrow(BpfStateError);
    expect(() => again.numbers()).toThrow(BpfStateError);
    expect(() => again.array(BigUint64Array)).toThrow(/closed/);
  });

  it('detaches a view when only the map handle closes, and maps again afterwards', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const map = obj.map('mmapped');
    const first = map.mmap();
    first.set(2, 22n);
    map.close(); // an object's map: drops the view, the map stays
    expect(first.buffer.byteLength).toBe(0);
    expect(map.mmap().get(2)).toBe(22n);
  });

  it('keeps the memory valid for a view whose map handle was garbage-collected', async () => {
    // vitest.config.mts runs the tests with --expose-gc.
    expect(typeof globalThis.gc).toBe('function');
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    // An object's maps live as long as the object, so the handle here is one of its own: the
    // same kernel map opened by id, dropped right after mmap().
    let ref!: WeakRef<BpfMap>;
    const mapAndDrop = (): BigUint64Array => {
      const handle = BpfMap.openById(obj.map('mmapped').id);
      ref = new WeakRef(handle);
      return handle.mmap().array(BigUint64Array);
    };
    const u64 = mapAndDrop();
    await gcUntil(() => ref.deref() === undefined);
    expect(ref.deref()).toBeUndefined();
    u64[3] = 3n;
    expect(u64.length).toBe(1024);
    expect(obj.map('mmapped').get(3)).toBe(3n);
  });
});
