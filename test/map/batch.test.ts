// Batch operations and iteration: the kernel batch path, the forced per-element fallback, and
// maps that change while they are iterated.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject, type BpfMap } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';

describeBpf('batch operations and iteration', () => {
  let obj: BpfObject;
  beforeAll(async () => {
    obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
  });
  afterAll(() => obj.close());

  const entries = (n: number): [number, bigint][] => Array.from({ length: n }, (_, i) => [i, BigInt(i * 10)]);

  for (const mode of ['auto', 'off'] as const) {
    it(`sets, dumps and deletes 1000 entries (batchMode '${mode}')`, () => {
      const hash: BpfMap = obj.map('hash');
      hash.batchMode = mode;
      try {
        expect(hash.setBatch(entries(1000))).toBe(1000);
        const dumped = hash.dump() as [number, bigint][];
        expect(dumped.length).toBe(1000);
        expect(new Map(dumped)).toEqual(new Map(entries(1000)));
        expect(hash.getBatch([0, 999, 5000])).toEqual([0n, 9990n, undefined]);
        expect(hash.deleteBatch(entries(1000).map(([k]) => k))).toBe(1000);
        expect(hash.dump()).toEqual([]);
      } finally {
        hash.batchMode = 'auto';
      }
    });
  }

  it('falls back per element on map types without batch operations (LPM trie)', () => {
    const lpm = obj.map('lpm4');
    expect(lpm.setBatch([['10.0.0.0/8', 8], ['10.1.0.0/16', 16]])).toBe(2);
    expect(new Map(lpm.dump() as [string, number][])).toEqual(new Map([['10.0.0.0/8', 8], ['10.1.0.0/16', 16]]));
    expect(lpm.deleteBatch(['10.0.0.0/8', '10.1.0.0/16'])).toBe(2);
  });

  it('checks every entry before writing any', () => {
    const hash = obj.map('hash');
    expect(() => hash.setBatch([[1, 1n], [2, 'two' as never]])).toThrow(TypeError);
    expect(() => hash.setBatch([[1, 1n], [2] as never])).toThrow(/entries\[1\]/);
    expect(hash.has(1)).toBe(false);
  });

  for (const mode of ['auto', 'off'] as const) {
    it(`dumpArrays() gives keys and values as typed arrays (batchMode '${mode}')`, () => {
      const hash = obj.map('hash');
      hash.batchMode = mode;
      try {
        hash.setBatch(entries(1500)); // more than one batch chunk
        const { count, keys, values } = hash.dumpArrays(Uint32Array, BigUint64Array);
        expect(count).toBe(1500);
        expect(keys).toBeInstanceOf(Uint32Array);
        expect(keys.length).toBe(1500);
        expect(values.length).toBe(1500);
        const got = new Map(Array.from(keys, (k, i) => [k, values[i]!] as [number, bigint]));
        expect(got).toEqual(new Map(entries(1500)));
        // Narrower elements: each key spans keySize / BYTES_PER_ELEMENT items.
        const bytes = hash.dumpArrays(Uint8Array, Uint32Array);
        expect(bytes.keys.length).toBe(4 * 1500);
        expect(bytes.values.length).toBe(2 * 1500);
        hash.deleteBatch(entries(1500).map(([k]) => k));
        expect(hash.dumpArrays(Uint32Array, BigUint64Array).count).toBe(0);
      } finally {
        hash.batchMode = 'auto';
      }
    });
  }

  it('dumpArrays() on per-CPU maps and maps without batch lookups; refuses element sizes that do not fit', () => {
    const pcpu = obj.map('pcpu_array');
    const ncpus = (pcpu.get(0) as number[]).length;
    pcpu.set(2, Array.from({ length: ncpus }, (_, c) => c + 1));
    // __u32 per CPU, each in an 8-byte slot: 2 * ncpus Uint32Array items per element.
    const { count, keys, values } = pcpu.dumpArrays(Uint32Array, Uint32Array);
    expect(count).toBe(4);
    expect(values.length).toBe(4 * 2 * ncpus);
    const at = [...keys].indexOf(2);
    expect(Array.from({ length: ncpus }, (_, c) => values[at * 2 * ncpus + 2 * c])).toEqual(Array.from({ length: ncpus }, (_, c) => c + 1));
    const lpm = obj.map('lpm4');
    lpm.setBatch([['10.0.0.0/8', 8]]);
    const l = lpm.dumpArrays(Uint8Array, Uint32Array);
    expect(l.count).toBe(1);
    expect(l.values[0]).toBe(8);
    lpm.deleteBatch(['10.0.0.0/8']);
    const hash = obj.map('hash');
    expect(() => hash.dumpArrays(Uint32Array, Float64Array as never)).not.toThrow();
    expect(() => hash.dumpArrays(BigUint64Array, BigUint64Array)).toThrow(/do not divide the key size \(4 bytes\)/);
    expect(() => hash.dumpArrays(Array as never, BigUint64Array)).toThrow(TypeError);
    expect(() => hash.dumpArrays({ BYTES_PER_ELEMENT: 1 } as never, BigUint64Array)).toThrow(TypeError);
  });

  it('dumps arrays and per-CPU arrays with batch lookups', () => {
    const counters = obj.map('counters');
    counters.set(3, 33n);
    const dumped = counters.dump();
    expect(dumped.length).toBe(16);
    expect(dumped[3]).toEqual([3, 33n]);
    expect(obj.map('pcpu_array').dump().length).toBe(4);
  });

  for (const mode of ['auto', 'off'] as const) {
    it(`iterating a map that is changed underneath ends without throwing (batchMode '${mode}')`, () => {
      const hash: BpfMap = obj.map('hash');
      hash.batchMode = mode;
      try {
        hash.setBatch(entries(500));
        let seen = 0;
        let next = 10_000;
        for (const [k] of hash) {
          // Delete what we just saw and add new keys: the kernel restarts next-key walks from the
          // first key when the current one disappears.
          hash.delete(k as number);
          hash.set(next++, 1n);
          if (++seen > 100_000) throw new Error('iteration did not end');
        }
        expect(seen).toBeGreaterThan(0);
      } finally {
        hash.batchMode = 'auto';
        hash.clear();
      }
      expect(hash.dump()).toEqual([]);
    });
  }
});
