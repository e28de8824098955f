// dump() reads plain-integer keys and values through typed-array views of each batch: the same
// pairs as get(), for every integer codec, across batch chunks, at the edges of each range.
import { expect, it } from 'vitest';
import { BpfMap, i16, i32, i64, i8, u16, u32, u64, u8, type Codec } from '../../lib/index';
import { describeBpf } from '../support/helpers';

describeBpf('dump() of integer maps', () => {
  it('matches get() for every integer key and value codec, over more than one batch', () => {
    const cases: [Codec<any, any>, number, (i: number) => unknown][] = [
      [u8, 1, (i) => i & 0xff],
      [i8, 1, (i) => (i & 0xff) - 128],
      [u16, 2, (i) => (i * 7) & 0xffff],
      [i16, 2, (i) => ((i * 7) & 0xffff) - 32768],
      [u32, 4, (i) => (i * 2654435761) >>> 0],
      [i32, 4, (i) => ((i * 2654435761) | 0)],
      [u64, 8, (i) => (BigInt(i) << 48n) | 0xffffn],
      [i64, 8, (i) => -(BigInt(i) << 40n) - 1n],
    ];
    for (const [codec, size, valueOf] of cases) {
      const n = size === 1 ? 200 : 2100; // 2100: three chunks of 1024
      using raw = BpfMap.create({ type: 'hash', keySize: 4, valueSize: size, maxEntries: n });
      const map = raw.typed({ key: u32, value: codec });
      const expected = new Map<number, unknown>();
      for (let i = 0; i < n; i++) {
        const v = size === 1 ? valueOf(i % 256) : valueOf(i);
        map.set(i, v);
        expected.set(i, v);
      }
      const got = map.dump();
      expect(got.length).toBe(n);
      for (const [k, v] of got) expect([k, v]).toEqual([k, expected.get(k)]);
      // Keys as the value type too (u64 and i64 keys through BigUint64Array/BigInt64Array).
      if (size >= 4) {
        using byValue = BpfMap.create({ type: 'hash', keySize: size, valueSize: 4, maxEntries: 100 });
        const rev = byValue.typed({ key: codec, value: u32 });
        for (let i = 0; i < 100; i++) rev.set(valueOf(i), i);
        const pairs = rev.dump();
        expect(pairs.length).toBe(100);
        for (const [k, v] of pairs) expect(k).toEqual(valueOf(v as number));
      }
    }
  });
});
