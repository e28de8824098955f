// Batch operations and iteration: the kernel batch path, the forced per-element fallback, and
// maps that change while they are iterated.
// @module-tag kernel-slice
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject, features, type BpfMap } from '../../lib/index';
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

  // Which path ran, seen from the kernel: a raw sys_enter tracepoint counts this process's bpf()
  // calls by command (test/bpf/trace_bpf_cmds.bpf.c).
  const BPF_NR: Partial<Record<string, number>> = { x64: 321, arm64: 280 };
  const cmd = { lookup: 1, getNextKey: 4, lookupBatch: 24, updateBatch: 26, deleteBatch: 27 } as const;
  // The tracer reads bpf()'s command from kernel memory: lockdown=confidentiality refuses that.
  const noTracer =
    BPF_NR[process.arch] === undefined
      ? ` [skipped: bpf()'s syscall number and pt_regs layout are known here for x64 and arm64 only, this is ${process.arch}]`
      : !features.helper('raw_tracepoint', 'bpf_probe_read_kernel')
        ? " [skipped: the tracer needs bpf_probe_read_kernel, and the verifier refuses it in raw tracepoint programs here (features.helper('raw_tracepoint', 'bpf_probe_read_kernel') is false; lockdown=confidentiality does this)]"
        : '';
  it.skipIf(noTracer !== '')(`'auto' uses the kernel's batch commands, 'off' goes per element${noTracer}`, async () => {
    using tracer = BpfObject.open(fixturePath('trace_bpf_cmds'));
    tracer.globals.set('target_tgid', process.pid);
    tracer.globals.set('target_nr', BigInt(BPF_NR[process.arch]!));
    await tracer.load();
    using link = tracer.program('count_bpf_cmds').attach();
    const counts = (): bigint[] => tracer.globals.get('cmds') as bigint[];
    /** The bpf() commands `fn` made, by command number (only those it made). */
    const during = (fn: () => void): Record<number, number> => {
      const before = counts();
      fn();
      const after = counts();
      return Object.fromEntries(after.map((n, i) => [i, Number(n - before[i]!)]).filter(([, n]) => n !== 0));
    };
    const hash = obj.map('hash');
    const calls: Record<string, Record<number, number>> = {};
    for (const mode of ['auto', 'off'] as const) {
      hash.batchMode = mode;
      try {
        calls[`${mode} set`] = during(() => hash.setBatch(entries(100)));
        calls[`${mode} dump`] = during(() => expect(hash.dump()).toHaveLength(100));
        calls[`${mode} delete`] = during(() => hash.deleteBatch(entries(100).map(([k]) => k)));
      } finally {
        hash.batchMode = 'auto';
      }
    }
    expect(link.closed).toBe(false);
    // 'auto': a few batch calls, none per element.
    expect(calls['auto set']![cmd.updateBatch]).toBeGreaterThan(0);
    expect(calls['auto dump']![cmd.lookupBatch]).toBeGreaterThan(0);
    expect(calls['auto dump']![cmd.getNextKey]).toBeUndefined();
    expect(calls['auto delete']![cmd.deleteBatch]).toBeGreaterThan(0);
    // 'off': one next-key and one lookup per element, no batch command.
    expect(calls['off dump']![cmd.getNextKey]).toBeGreaterThanOrEqual(100);
    expect(calls['off dump']![cmd.lookup]).toBeGreaterThanOrEqual(100);
    for (const op of ['set', 'dump', 'delete']) {
      for (const c of [cmd.lookupBatch, cmd.updateBatch, cmd.deleteBatch]) expect(calls[`off ${op}`]![c]).toBeUndefined();
    }
  });

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
