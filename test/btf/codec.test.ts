// Codecs: primitives, and codecs built from the fixture's BTF, checked byte for byte against
// the bytes clang laid out for the same values (each value sits alone in a .data.<name> section).
// @module-tag pure
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Btf, BtfParseError, type BtfKind, type BtfTypeOf } from '../../lib/btf/btf';
import {
  bool, bytes, codecFromBtf, describeBtfType, f32, f64, i16, i32, i64, i8, ipv4, ipv6, u16, u32, u64, u8, type Codec,
} from '../../lib/btf/codec';
import { BtfBlob, K } from '../support/btf-blob';

const FIXTURE = join(__dirname, '..', '..', 'dist', 'test-bpf', 'btf_types.bpf.o');
const VALUES = ['ints', 'flow', 'outer', 'anon', 'bits', 'union', 'cv'] as const;

/** Sections of a BPF object, via llvm-objcopy. */
function sections(obj: string, names: readonly string[]): Record<string, Uint8Array> {
  if (!existsSync(obj)) throw new Error(`${obj} is missing: run \`make -C bpf\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'codec-test-'));
  try {
    const args = names.flatMap((n) => ['--dump-section', `${n}=${join(dir, n)}`]);
    execFileSync('llvm-objcopy', [...args, obj, join(dir, 'copy.o')]);
    return Object.fromEntries(names.map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sec = sections(FIXTURE, ['.BTF', ...VALUES.map((v) => `.data.${v}`)]);
const btf = Btf.parse(sec['.BTF']!);

function byName<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> {
  const t = btf.findByName(name, kind);
  if (t === undefined) throw new Error(`fixture has no ${kind} ${name}`);
  return t;
}

/** The codec of global `val_<name>` and the bytes clang produced for it. */
function fixture(name: (typeof VALUES)[number]): { codec: Codec<unknown>; bytes: Uint8Array } {
  return { codec: codecFromBtf(btf, byName(`val_${name}`, 'VAR').typeId), bytes: sec[`.data.${name}`]! };
}

/** Encodes into a buffer pre-filled with 0xaa (so unwritten padding would show). */
function encoded(codec: Codec<unknown>, value: unknown): Uint8Array {
  const buf = new Uint8Array(codec.size).fill(0xaa);
  codec.encode(value, buf, 0);
  return buf;
}

/** Expects encode to throw `type` with `message` and to leave the buffer untouched. */
function expectRejected(codec: Codec<unknown>, value: unknown, type: typeof TypeError | typeof RangeError, message: string | RegExp): void {
  const buf = new Uint8Array(codec.size + 8).fill(0xaa);
  const before = buf.slice();
  let caught: unknown;
  try {
    codec.encode(value, buf, 4);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  if (typeof message === 'string') expect((caught as Error).message).toBe(message);
  else expect((caught as Error).message).toMatch(message);
  expect(buf).toEqual(before);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Deterministic PRNG (mulberry32): `rand(n)` is an integer in [0, n). */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

describe('primitive codecs', () => {
  test('integers: extremes round-trip, little endian', () => {
    const cases: [Codec<any, any>, unknown[]][] = [
      [u8, [0, 255]], [u16, [0, 65535]], [u32, [0, 0xffff_ffff]], [u64, [0n, 2n ** 64n - 1n]],
      [i8, [-128, 127]], [i16, [-32768, 32767]], [i32, [-(2 ** 31), 2 ** 31 - 1]], [i64, [-(2n ** 63n), 2n ** 63n - 1n]],
    ];
    for (const [codec, values] of cases) {
      for (const v of values) expect(codec.decode(encoded(codec, v), 0)).toBe(v);
    }
    expect(hex(encoded(u32, 0x11223344))).toBe('44332211');
    expect(hex(encoded(i16, -2))).toBe('feff');
    expect(hex(encoded(u64, 0x0102030405060708n))).toBe('0807060504030201');
    expect(u8.size + u16.size + u32.size + u64.size).toBe(15);
  });

  test('64-bit codecs take safe-integer numbers and decode to bigint', () => {
    expect(u64.decode(encoded(u64, 2 ** 53 - 1), 0)).toBe(2n ** 53n - 1n);
    expect(i64.decode(encoded(i64, -5), 0)).toBe(-5n);
    // Numbers are written as two 32-bit halves: every boundary of the halves and of the sign.
    for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 53 - 1]) {
      expect(u64.decode(encoded(u64, n), 0)).toBe(BigInt(n));
      expect(hex(encoded(u64, n))).toBe(hex(encoded(u64, BigInt(n))));
    }
    for (const n of [-1, -(2 ** 32), -(2 ** 32) - 1, -(2 ** 32) + 1, -(2 ** 53) + 1, 2 ** 53 - 1]) {
      expect(i64.decode(encoded(i64, n), 0)).toBe(BigInt(n));
      expect(hex(encoded(i64, n))).toBe(hex(encoded(i64, BigInt(n))));
    }
    expectRejected(u64, 2 ** 53, RangeError, 'value: expected a bigint (or safe integer) in [0, 18446744073709551615], got 9007199254740992 (not a safe integer: use a bigint)');
    expectRejected(u64, -1n, RangeError, /got -1n/);
    expectRejected(u64, 2n ** 64n, RangeError, /got 18446744073709551616n/);
    expectRejected(i64, 1.5, TypeError, /got 1.5/);
    expectRejected(i64, '1', TypeError, /got "1"/);
  });

  test('integer errors: wrong type is a TypeError, out of range a RangeError', () => {
    expectRejected(u16, 70000, RangeError, 'value: expected an integer in [0, 65535], got 70000');
    expectRejected(u8, -1, RangeError, 'value: expected an integer in [0, 255], got -1');
    expectRejected(i8, 128, RangeError, /\[-128, 127\], got 128/);
    expectRejected(u32, 1.5, TypeError, /got 1.5/);
    expectRejected(u32, NaN, TypeError, /got NaN/);
    expectRejected(u32, '7', TypeError, 'value: expected an integer in [0, 4294967295], got "7"');
    expectRejected(u32, 7n, TypeError, /got 7n/);
    expectRejected(u32, undefined, TypeError, /got undefined/);
  });

  test('bool and floats', () => {
    expect(hex(encoded(bool, true))).toBe('01');
    expect(bool.decode(new Uint8Array([2]), 0)).toBe(true);
    expect(bool.decode(new Uint8Array([0]), 0)).toBe(false);
    expectRejected(bool, 1, TypeError, 'value: expected a boolean, got 1');
    expect(f32.decode(encoded(f32, 0.1), 0)).toBe(Math.fround(0.1));
    expect(f64.decode(encoded(f64, -1.25e300), 0)).toBe(-1.25e300);
    expect(Number.isNaN(f64.decode(encoded(f64, NaN), 0))).toBe(true);
    expect(hex(encoded(f32, 1))).toBe('0000803f');
    expectRejected(f64, '1', TypeError, /expected a number, got "1"/);
  });

  test('bytes(n): exactly n bytes, copied on decode', () => {
    const mac = bytes(6);
    expect(bytes(6)).toBe(mac);
    const buf = Buffer.from('00112233445566778899', 'hex');
    const got = mac.decode(buf, 2);
    expect(hex(got)).toBe('223344556677');
    expect(Buffer.isBuffer(got)).toBe(false);
    buf.fill(0);
    expect(hex(got)).toBe('223344556677');
    expect(hex(encoded(mac, Buffer.from('a1a2a3a4a5a6', 'hex')))).toBe('a1a2a3a4a5a6');
    expectRejected(mac, new Uint8Array(5), RangeError, 'value: expected a Uint8Array of 6 bytes, got a Uint8Array of 5 bytes');
    expectRejected(mac, 'abcdef', TypeError, /got "abcdef"/);
    expect(() => bytes(-1)).toThrow(RangeError);
    expect(() => bytes(1.5)).toThrow(RangeError);
  });

  test('ipv4: network order, strict dotted decimal', () => {
    expect(hex(encoded(ipv4, '198.18.0.1'))).toBe('c6120001');
    expect(ipv4.decode(new Uint8Array([10, 0, 255, 1]), 0)).toBe('10.0.255.1');
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4']) {
      expectRejected(ipv4, bad, RangeError, /is not an IPv4 address/);
    }
    expectRejected(ipv4, 0xc6120001, TypeError, /expected an IPv4 address string/);
  });

  test('ipv6: network order, any standard input, RFC 5952 output', () => {
    expect(hex(encoded(ipv6, 'fd00::1'))).toBe('fd000000000000000000000000000001');
    const cases: [string, string][] = [
      ['fd00::1', 'fd00::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['FD00:0000:0000:0000:0000:0000:0000:0001', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
      ['::ffff:198.18.0.1', '::ffff:198.18.0.1'],
      ['64:ff9b::198.18.0.1', '64:ff9b::c612:1'],
      ['fe80::', 'fe80::'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ];
    for (const [input, text] of cases) expect(ipv6.decode(encoded(ipv6, input), 0), input).toBe(text);
    for (const bad of ['fd00::1::2', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1:2:3:4:5:6:7', '12345::', '1.2.3.4::', '::1.2.3', '']) {
      expectRejected(ipv6, bad, RangeError, /is not an IPv6 address/);
    }
  });

  test('buffer and offset are checked before anything is written', () => {
    expect(() => u32.encode(1, new Uint8Array(3), 0)).toThrow(new RangeError('value: cannot encode: 4 bytes at offset 0 do not fit in a buffer of 3 bytes'));
    expect(() => u32.decode(new Uint8Array(8), 5)).toThrow(/cannot decode: 4 bytes at offset 5/);
    expect(() => u32.decode(new Uint8Array(8), -1)).toThrow(RangeError);
    expect(() => u32.decode(new Uint8Array(8), 0.5)).toThrow(RangeError);
    expect(() => u32.encode(1, [0, 0, 0, 0] as unknown as Uint8Array, 0)).toThrow(/expected a Uint8Array or Buffer, got an array of 4 elements/);
    expect(() => u32.decode(new DataView(new ArrayBuffer(4)) as unknown as Uint8Array, 0)).toThrow(TypeError);
  });

  test('views at a non-zero byteOffset, alternating buffers', () => {
    const backing = new Uint8Array(32).fill(0xee);
    const a = backing.subarray(5, 15);
    const b = Buffer.alloc(10);
    for (let i = 0; i < 3; i++) {
      u32.encode(0x01020304 + i, a, 3);
      u32.encode(0x0a0b0c0d + i, b, 6);
      expect(u32.decode(a, 3)).toBe(0x01020304 + i);
      expect(u32.decode(b, 6)).toBe(0x0a0b0c0d + i);
    }
    // a[3] is backing[8]; the bytes around it are untouched.
    expect(hex(backing.subarray(0, 16))).toBe('eeeeeeeeeeeeeeee06030201eeeeeeee');
    // A shorter view of the same memory is bounds-checked on its own length.
    expect(() => u32.decode(backing.subarray(5, 8), 0)).toThrow(RangeError);
  });
});

describe('codecFromBtf on the fixture: byte-exact against clang', () => {
  test('struct ints: every integer size and signedness, bool, char, signed char, padding', () => {
    const { codec, bytes: b } = fixture('ints');
    const value = {
      u8: 0xfe, s8: -2, u16: 0xbeef, s16: -300, u32: 0xdeadbeef, s32: -70000,
      u64: 0x1122334455667788n, s64: -5000000000n, flag: true, c: 'x'.charCodeAt(0), sc: -7,
    };
    expect(codec.size).toBe(40);
    expect(codec.decode(b, 0)).toStrictEqual(value);
    expect(encoded(codec, value)).toEqual(b);
    expect(encoded(codec, { ...value, s64: -5_000_000_000 })).toEqual(b); // a safe number for a 64-bit field
  });

  test('flow_key through a typedef chain: layout, tail padding zeroed', () => {
    const { codec, bytes: b } = fixture('flow');
    const value = { saddr: 0x010012c6, daddr: 0x020012c6, sport: 443, dport: 51000, proto: 6 };
    expect(codec.decode(b, 0)).toStrictEqual(value);
    expect(encoded(codec, value)).toEqual(b);
    const key = codecFromBtf(btf, byName('flow_key', 'STRUCT').id);
    expect(hex(encoded(key, { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 5 }))).toBe('01000000' + '02000000' + '0300' + '0400' + '05' + '000000');
  });

  test('struct outer: nested structs, arrays of structs, char arrays, 2-D arrays, floats, enums, pointers, __int128', () => {
    const { codec, bytes: b } = fixture('outer');
    const name = new Uint8Array(16);
    name.set(Buffer.from('eth0'));
    const value = {
      in: { port: 8080, mac: new Uint8Array([1, 2, 3, 4, 5, 6]) },
      pair: [{ port: 1, mac: new Uint8Array([0xa, 0, 0, 0, 0, 0]) }, { port: 2, mac: new Uint8Array([0xb, 0xc, 0, 0, 0, 0]) }],
      name,
      raw: new Uint8Array([0xff, 0, 0x7f]),
      counts: [1, 2, 3],
      grid: [[1, 2, 3], [4, 5, 6]],
      deltas: [-1, 1],
      ratio: 0.5,
      mean: -1.25,
      col: 6,
      sgn: -2,
      op: 0n,
      cb: 0n,
      wide: -3n,
    };
    expect(codec.size).toBe(128);
    expect(codec.decode(b, 0)).toStrictEqual(value);
    expect(encoded(codec, value)).toEqual(b);
    // Strings for char arrays, enumerator names for enums.
    expect(encoded(codec, { ...value, name: 'eth0', col: 'BLUE', sgn: 'NEG' })).toEqual(b);
    // Enums take either sign, since older BTF does not say which an enum has.
    expect(encoded(codec, { ...value, sgn: 0xffff_fffe })).toEqual(b);
    expect((codec.decode(encoded(codec, { ...value, col: -1 }), 0) as { col: number }).col).toBe(0xffff_ffff);
    expect(encoded(codec, { ...value, wide: -(2n ** 127n) }).subarray(112)).toEqual(new Uint8Array([...new Array(15).fill(0), 0x80]));
    expect((codec.decode(encoded(codec, { ...value, wide: 2n ** 127n - 1n }), 0) as { wide: bigint }).wide).toBe(2n ** 127n - 1n);
  });

  test('anonymous struct and union members are flattened; encode takes one union member', () => {
    const { codec, bytes: b } = fixture('anon');
    const ip6 = new Uint8Array(16);
    ip6.set([0xc0, 0xa8, 0x00, 0x01]);
    expect(codec.decode(b, 0)).toStrictEqual({ kind: 4, ip4: 0x0100a8c0, ip6, lo: 0x1234, hi: 0x5678, tail: 99n });
    expect(encoded(codec, { kind: 4, ip4: 0x0100a8c0, lo: 0x1234, hi: 0x5678, tail: 99n })).toEqual(b);
    expect(encoded(codec, { kind: 4, ip6, lo: 0x1234, hi: 0x5678, tail: 99n })).toEqual(b);
    expectRejected(codec, { kind: 4, ip4: 1, ip6, lo: 1, hi: 2, tail: 3n }, TypeError, 'value: the anonymous union in struct with_anon takes exactly one of its members (ip4, ip6), got ip4, ip6');
    expectRejected(codec, { kind: 4, lo: 1, hi: 2, tail: 3n }, TypeError, /exactly one of its members \(ip4, ip6\), got none/);
    expectRejected(codec, { kind: 4, ip4: 1, lo: 1, tail: 3n }, TypeError, 'value.hi: missing field (every member of struct with_anon must be given)');
  });

  test('bitfields: byte-crossing, signed, 40-bit, bool, enum; unnamed bits zeroed', () => {
    const { codec, bytes: b } = fixture('bits');
    const value = { a: 5, b: 300, c: -3, d: 0x7abc, wide: 0xfedcba9876n, swide: -12345n, on: true, col: 5, tail: 0x42 };
    expect(codec.decode(b, 0)).toStrictEqual(value);
    expect(encoded(codec, value)).toEqual(b);
    expect(encoded(codec, { ...value, col: 'GREEN', wide: 0xfedcba9876 })).toEqual(b);
    // Extremes of each field, and every field at zero but one, round-trip without disturbing the others.
    const max = { a: 7, b: 511, c: -16, d: 0x7fff, wide: 2n ** 40n - 1n, swide: -(2n ** 19n), on: true, col: 7, tail: 255 };
    expect(codec.decode(encoded(codec, max), 0)).toStrictEqual(max);
    const zero = { a: 0, b: 0, c: 0, d: 0, wide: 0n, swide: 0n, on: false, col: 0, tail: 0 };
    for (const [k, v] of Object.entries(max)) {
      expect(codec.decode(encoded(codec, { ...zero, [k]: v }), 0)).toStrictEqual({ ...zero, [k]: v });
    }
    expectRejected(codec, { ...value, a: 8 }, RangeError, 'value.a: expected an integer in [0, 7], got 8');
    expectRejected(codec, { ...value, c: 16 }, RangeError, 'value.c: expected an integer in [-16, 15], got 16');
    expectRejected(codec, { ...value, wide: 2n ** 40n }, RangeError, /value.wide: expected a bigint \(or safe integer\) in \[0, 1099511627775\]/);
    expectRejected(codec, { ...value, on: 1 }, TypeError, 'value.on: expected a boolean, got 1');
    expectRejected(codec, { ...value, col: 'PURPLE' }, RangeError, 'value.col: "PURPLE" is not an enumerator of enum color:3 (RED, GREEN, BLUE)');
  });

  test('named union: decodes every member, encodes exactly one', () => {
    const { codec, bytes: b } = fixture('union');
    const v6 = new Uint8Array(16);
    v6.set([0x01, 0x00, 0xa8, 0xc0]);
    expect(codec.decode(b, 0)).toStrictEqual({ v4: 0xc0a80001, v6, w0: 0x0001, w1: 0xc0a8 });
    expect(encoded(codec, { v4: 0xc0a80001 })).toEqual(b);
    expect(encoded(codec, { w0: 1, w1: 0xc0a8 })).toEqual(b); // the anonymous struct alternative; the rest is zeroed
    expect(encoded(codec, { v6 })).toEqual(b);
    expectRejected(codec, { v4: 1, w0: 1, w1: 2 }, TypeError, 'value: union addr takes exactly one of its members (v4, v6, w0+w1), got v4, w0+w1');
    expectRejected(codec, {}, TypeError, /got none/);
    expectRejected(codec, { w0: 1 }, TypeError, 'value.w1: missing field (every member of union addr must be given)');
    expectRejected(codec, { v4: 1, v5: 2 }, TypeError, 'value: unknown field "v5" (union addr has: v4, v6, w0, w1)');
    expect(encoded(codec, { v4: 1, v6: undefined })).toEqual(encoded(codec, { v4: 1 })); // undefined is absent
  });

  test('const volatile is looked through', () => {
    const { codec, bytes: b } = fixture('cv');
    expect(codec.decode(b, 0)).toBe(77);
    expect(encoded(codec, 77)).toEqual(b);
  });
});

describe('codecFromBtf validation', () => {
  const outer = codecFromBtf(btf, byName('outer', 'STRUCT').id);
  const good = outer.decode(sec['.data.outer']!, 0) as Record<string, unknown>;
  const inner = good.in as Record<string, unknown>;
  const pair = good.pair as Record<string, unknown>[];

  test('messages name the field path; nothing is written', () => {
    expectRejected(outer, { ...good, in: { ...inner, port: 70000 } }, RangeError, 'value.in.port: expected an integer in [0, 65535], got 70000');
    expectRejected(outer, { ...good, in: { ...inner, port: '80' } }, TypeError, 'value.in.port: expected an integer in [0, 65535], got "80"');
    expectRejected(outer, { ...good, pair: [pair[0], { ...pair[1], mac: new Uint8Array(5) }] }, RangeError,
      'value.pair[1].mac: expected a string of at most 6 bytes or a Uint8Array of 6 bytes for __u8[6], got a Uint8Array of 5 bytes');
    expectRejected(outer, { ...good, grid: [[1, 2, 3], [4, 5, -1]] }, RangeError, 'value.grid[1][2]: expected an integer in [0, 65535], got -1');
    expectRejected(outer, { ...good, counts: [1, 2] }, RangeError, 'value.counts: expected an array of 3 elements for __u32[3], got 2');
    expectRejected(outer, { ...good, counts: new Uint32Array(3) }, TypeError, /value.counts: expected an array of 3 elements for __u32\[3\], got a Uint32Array/);
    expectRejected(outer, { ...good, name: 'a-name-of-17-byte' }, RangeError, 'value.name: expected a string of at most 16 bytes or a Uint8Array of 16 bytes for char[16], got a string of 17 bytes');
    expectRejected(outer, { ...good, name: 'é'.repeat(9) }, RangeError, /got a string of 18 bytes/);
    expectRejected(outer, { ...good, col: 'PURPLE' }, RangeError, 'value.col: "PURPLE" is not an enumerator of enum color (RED, GREEN, BLUE)');
    expectRejected(outer, { ...good, sgn: 2 ** 32 }, RangeError, /^value.sgn: expected an integer in \[-2147483648, 4294967295\] or an enumerator name of enum sign, got 4294967296$/);
    expectRejected(outer, { ...good, ratio: '0.5' }, TypeError, 'value.ratio: expected a number, got "0.5"');
    expectRejected(outer, { ...good, op: -1n }, RangeError, /value.op: expected a bigint/);
    expectRejected(outer, { ...good, in: { port: 1 } }, TypeError, 'value.in.mac: missing field (every member of struct inner must be given)');
    expectRejected(outer, { ...good, bogus: 1 }, TypeError, /^value: unknown field "bogus" \(struct outer has: in, pair, name, raw, counts, grid, deltas, ratio, \.\.\. \(14 in all\)\)$/);
    expectRejected(outer, { ...good, in: null }, TypeError, 'value.in: expected an object for struct inner, got null');
    expectRejected(outer, [], TypeError, 'value: expected an object for struct outer, got an array of 0 elements');
    // The last field is the bad one, so a streaming encoder would already have written the rest.
    expectRejected(outer, { ...good, wide: 'x' }, TypeError, /value.wide/);
  });

  test('the label option names the root; codecs are cached per Btf, type and label', () => {
    const id = byName('flow_key', 'STRUCT').id;
    const key = codecFromBtf(btf, id, { label: 'key' });
    expect(codecFromBtf(btf, id, { label: 'key' })).toBe(key);
    expect(codecFromBtf(btf, id)).not.toBe(key);
    expect(codecFromBtf(btf, id)).toBe(codecFromBtf(btf, id));
    expectRejected(key, { saddr: 1, daddr: 2, sport: 70000, dport: 4, proto: 5 }, RangeError, 'key.sport: expected an integer in [0, 65535], got 70000');
  });

  test('extra keys that are undefined, inherited getters and class instances', () => {
    const flow = codecFromBtf(btf, byName('flow_key', 'STRUCT').id);
    const value = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 5 };
    const expected = encoded(flow, value);
    expect(encoded(flow, { ...value, extra: undefined })).toEqual(expected);
    class Key {
      saddr = 1; daddr = 2; sport = 3; dport = 4; proto = 5;
      get text(): string { return 'not enumerable: on the prototype'; }
    }
    expect(encoded(flow, new Key())).toEqual(expected);
  });

  test('types without a value representation are refused with a description', () => {
    expect(() => codecFromBtf(btf, 0)).toThrow(new TypeError('no codec for void: a VOID has no value representation'));
    expect(() => codecFromBtf(btf, byName('opaque', 'FWD').id)).toThrow(/no codec for struct opaque \(forward declaration\)/);
    expect(() => codecFromBtf(btf, byName('sum_tagged', 'FUNC').id)).toThrow(/no codec for static int sum_tagged\(struct tagged \*restrict t, int n\)/);
    expect(() => codecFromBtf(btf, btf.datasec('.data.flow')!.id)).toThrow(/lies outside the 0-byte section; an ELF object's BTF gets its section layout from libbpf/);
    expect(() => codecFromBtf(btf, btf.count)).toThrow(RangeError);
  });
});

describe('describeBtfType', () => {
  const d = (name: string, kind: BtfKind): string => describeBtfType(btf, byName(name, kind).id);

  test('C-like, short', () => {
    expect(d('flow_key', 'STRUCT')).toBe('struct flow_key { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; __u8 proto; }');
    expect(d('flow_key_alias_t', 'TYPEDEF')).toBe('flow_key_alias_t = struct flow_key { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; __u8 proto; }');
    expect(d('outer', 'STRUCT')).toBe('struct outer { struct inner in; struct inner pair[2]; char name[16]; unsigned char raw[3]; __u32 counts[3]; __u16 grid[2][3]; signed char deltas[2]; float ratio; ... }');
    expect(d('with_anon', 'STRUCT')).toBe('struct with_anon { __u32 kind; union { __u32 ip4; __u8 ip6[16]; }; struct { __u16 lo; __u16 hi; }; __u64 tail; }');
    expect(d('bits', 'STRUCT')).toMatch(/^struct bits \{ __u32 a:3; __u32 b:9; __s32 c:5; __u32 d:15; __u64 wide:40; __s64 swide:20; _Bool on:1; enum color col:3; \.\.\. \}$/);
    expect(d('color', 'ENUM')).toBe('enum color { RED = 0, GREEN = 5, BLUE = 6, }');
    expect(d('sign', 'ENUM')).toBe('enum sign { NEG = -2, ZERO = 0, POS = 3, }');
    expect(d('xdp_btf_types', 'FUNC')).toBe('int xdp_btf_types(struct xdp_md *ctx)');
    expect(d('val_cv', 'VAR')).toBe('const volatile __u32 val_cv');
    expect(describeBtfType(btf, btf.datasec('.data.flow')!.id)).toBe('SEC(".data.flow") { flow_key_alias_t val_flow; }');
    expect(d('struct_tag', 'DECL_TAG')).toBe('__attribute__((btf_decl_tag("struct_tag"))) on struct tagged');
    expect(d('member_tag', 'DECL_TAG')).toBe('__attribute__((btf_decl_tag("member_tag"))) on struct tagged member 0');
    expect(d('tagged', 'STRUCT')).toBe('struct tagged { int a; int __attribute__((btf_type_tag("user"))) *p; }');
    const outer = byName('outer', 'STRUCT');
    expect(describeBtfType(btf, outer.members.find((m) => m.name === 'cb')!.typeId)).toBe('int (*)(int)');
    expect(describeBtfType(btf, 0)).toBe('void');
  });
});

describe('codecFromBtf on hand-built BTF', () => {
  test('a fixed-up DATASEC is an object keyed by variable name, padding zeroed', () => {
    const b = new BtfBlob();
    const u32t = b.int('unsigned int', 4);
    const u64t = b.int('unsigned long long', 8);
    const ch = b.int('char', 1, true);
    const arr = b.add(K.ARRAY, '', 0, [ch, u32t, 3]);
    const va = b.add(K.VAR, 'hits', u32t, [1]);
    const vb = b.add(K.VAR, 'bytes', u64t, [1]);
    const vc = b.add(K.VAR, 'tag', arr, [1]);
    const sec = b.add(K.DATASEC, '.bss', 24, [va, 0, 4, vb, 8, 8, vc, 16, 3], 3);
    const p = Btf.parse(b.raw());
    const codec = codecFromBtf(p, sec);
    expect(codec.size).toBe(24);
    const out = encoded(codec, { hits: 7, bytes: 9n, tag: 'ab' });
    expect(hex(out)).toBe('07000000' + '00000000' + '0900000000000000' + '616200' + '0000000000');
    expect(codec.decode(out, 0)).toStrictEqual({ hits: 7, bytes: 9n, tag: new Uint8Array([0x61, 0x62, 0]) });
    expect(describeBtfType(p, sec)).toBe('SEC(".bss") { unsigned int hits; unsigned long long bytes; char tag[3]; }');
    expect(codecFromBtf(p, va).size).toBe(4); // a VAR encodes as its type
  });

  test('ENUM64 is bigint and takes enumerator names', () => {
    const b = new BtfBlob();
    const e = b.add(K.ENUM64, 'big', 8, [b.str('HUGE'), 1, 0x8000_0000, b.str('ONE'), 1, 0], 2);
    const s = b.add(K.ENUM64, 'sbig', 8, [b.str('MINUS'), 0xffff_fffe, 0xffff_ffff], 1, true);
    const p = Btf.parse(b.raw());
    const codec = codecFromBtf(p, e);
    expect(codec.decode(encoded(codec, 'HUGE'), 0)).toBe(0x8000_0000_0000_0001n);
    expect(hex(encoded(codec, 'ONE'))).toBe('0100000000000000');
    expect(codec.decode(encoded(codec, 2 ** 40), 0)).toBe(2n ** 40n);
    expectRejected(codec, 'TWO', RangeError, 'value: "TWO" is not an enumerator of enum big (HUGE, ONE)');
    expectRejected(codec, 2n ** 64n, RangeError, /in \[-9223372036854775808, 18446744073709551615\] or an enumerator name of enum big, got 18446744073709551616n/);
    expect(hex(encoded(codec, -1n))).toBe('ffffffffffffffff'); // either sign: the same bits
    expect(codecFromBtf(p, s).decode(encoded(codecFromBtf(p, s), 'MINUS'), 0)).toBe(-2n);
    expect(describeBtfType(p, e)).toBe('enum big { HUGE = 9223372036854775809, ONE = 1, }');
  });

  test('legacy bitfields, zero-length arrays, and refusals at build time', () => {
    const b = new BtfBlob();
    const u32t = b.int('unsigned int', 4);
    const narrow = b.add(K.INT, 'unsigned int', 4, [(2 << 16) | 5]); // 5 bits at offset 2 (legacy encoding)
    const legacy = b.struct('legacy', 8, [['x', u32t, 0], ['y', narrow, 32]]);
    const flex = b.add(K.ARRAY, '', 0, [u32t, u32t, 0]);
    const withFlex = b.struct('msg', 4, [['len', u32t, 0], ['data', flex, 32]]);
    const proto = b.struct('bad', 4, [['__proto__', u32t, 0]]);
    const inner = b.struct('', 4, [['x', u32t, 0]]);
    const dup = b.struct('dup', 8, [['x', u32t, 0], ['', inner, 32]]);
    const quad = b.add(K.FLOAT, 'long double', 16);
    let deep = u32t;
    for (let i = 0; i < 80; i++) deep = b.add(K.ARRAY, '', 0, [deep, u32t, 1]);
    const p = Btf.parse(b.raw());

    const lc = codecFromBtf(p, legacy);
    const out = encoded(lc, { x: 1, y: 31 });
    expect(hex(out)).toBe('01000000' + '7c000000'); // 31 << 2
    expect(lc.decode(out, 0)).toStrictEqual({ x: 1, y: 31 });
    expectRejected(lc, { x: 1, y: 32 }, RangeError, /value.y: expected an integer in \[0, 31\]/);

    const fc = codecFromBtf(p, withFlex);
    expect(fc.size).toBe(4);
    expect(fc.decode(encoded(fc, { len: 3, data: [] }), 0)).toStrictEqual({ len: 3, data: [] });

    expect(() => codecFromBtf(p, proto)).toThrow(/'__proto__' cannot be a JS object key/);
    expect(() => codecFromBtf(p, dup)).toThrow(/member name 'x' appears twice/);
    expect(() => codecFromBtf(p, quad)).toThrow(/16-byte floats are not supported/);
    expect(() => codecFromBtf(p, deep)).toThrow(/nested more than 64 deep/);
  });

  test('names from BTF cannot inject code into the compiled codec', () => {
    const b = new BtfBlob();
    const u32t = b.int('unsigned int', 4);
    const nasty = ['a"b', "c'); globalThis.pwned = 1; ('", 'd\n}e', 'f\u2028g', '*/h', '${i}', '\\'];
    const e = b.add(K.ENUM, 'e', 4, nasty.flatMap((n, i) => [b.str(n), i]), nasty.length);
    const s = b.struct('s', 4 * nasty.length + 4, [...nasty.map((n, i): [string, number, number] => [n, u32t, 32 * i]), ['kind', e, 32 * nasty.length]]);
    const codec = codecFromBtf(Btf.parse(b.raw()), s);
    const value: Record<string, unknown> = Object.fromEntries(nasty.map((n, i) => [n, i + 1]));
    value.kind = nasty[1];
    const out = encoded(codec, value);
    expect(codec.decode(out, 0)).toStrictEqual({ ...value, kind: 1 });
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    expectRejected(codec, { ...value, [nasty[2]!]: -1 }, RangeError, /^value\.d\n\}e: expected an integer/);
  });

  test('bitfields at every shift and width match a BigInt reference', () => {
    // Reference: the struct's bytes as one little-endian BigInt.
    const toBig = (buf: Uint8Array): bigint => buf.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
    const rand = rng(12345);
    // Which code path each field takes: inline int32 ops, exact doubles (<= 53 bits), BigInt.
    const paths = { int32: 0, double: 0, bigint: 0 };
    for (let round = 0; round < 100; round++) {
      const b = new BtfBlob();
      const bases = [b.int('unsigned char', 1), b.int('short', 2, true), b.int('unsigned int', 4), b.int('int', 4, true), b.int('unsigned long long', 8), b.int('long long', 8, true)];
      const sizes = [1, 2, 4, 4, 8, 8];
      const signed = [false, true, false, true, false, true];
      const members: [string, number, number, number][] = [];
      const fields: { name: string; off: number; bits: number; signed: boolean; big: boolean }[] = [];
      let off = rand(8);
      for (let i = 0; i < 4; i++) {
        const which = rand(6);
        const bits = 1 + rand(sizes[which]! * 8);
        members.push([`f${i}`, bases[which]!, off, bits]);
        const reach = (off & 7) + bits;
        paths[reach > 53 ? 'bigint' : reach > 32 ? 'double' : 'int32']++;
        fields.push({ name: `f${i}`, off, bits, signed: signed[which]!, big: sizes[which] === 8 });
        off += bits + rand(3);
      }
      const size = Math.ceil(off / 8) + rand(3);
      const id = b.struct('s', size, members);
      const codec = codecFromBtf(Btf.parse(b.raw()), id);
      const value: Record<string, number | bigint> = {};
      let expected = 0n;
      for (const f of fields) {
        const span = 2n ** BigInt(f.bits);
        let v = BigInt(rand(2 ** 30)) * BigInt(rand(2 ** 30) + 1) % span;
        if (f.signed && v >= span / 2n) v -= span;
        value[f.name] = f.big ? v : Number(v);
        expected |= BigInt.asUintN(f.bits, v) << BigInt(f.off);
      }
      const out = encoded(codec, value);
      expect(toBig(out), JSON.stringify(members)).toBe(expected);
      expect(codec.decode(out, 0)).toStrictEqual(value);
    }
    expect(Math.min(paths.int32, paths.double, paths.bigint), JSON.stringify(paths)).toBeGreaterThan(10);
  });
});

describe.skipIf(!existsSync('/sys/kernel/btf/vmlinux'))('codecs for the running kernel\'s types (needs CONFIG_DEBUG_INFO_BTF)', () => {
  test('a sample of every kind builds, or is refused with a TypeError, and decodes zeros', () => {
    const kernel = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
    let built = 0;
    for (let id = 0; id < kernel.count; id += 17) {
      let codec: Codec<unknown>;
      try {
        codec = codecFromBtf(kernel, id);
      } catch (e) {
        expect(e, describeBtfType(kernel, id)).toBeInstanceOf(TypeError);
        expect(['VOID', 'FWD', 'FUNC', 'FUNC_PROTO', 'DECL_TAG']).toContain(kernel.resolve(id).kind);
        continue;
      }
      built++;
      expect(codec.size).toBe(kernel.sizeof(id));
      if (codec.size <= 1 << 16) codec.decode(new Uint8Array(codec.size), 0);
    }
    expect(built).toBeGreaterThan(1000);
    const iphdr = codecFromBtf(kernel, kernel.findByName('iphdr', 'STRUCT')!.id);
    const header = Buffer.from('4500003c1c4640004006b1e6c0a80001c0a800c7', 'hex');
    expect(iphdr.decode(header, 0)).toMatchObject({ ihl: 5, version: 4, ttl: 64, protocol: 6 });
  });
});

describe('codecs from mutated BTF', () => {
  test('flipped bytes never make codec building or decoding crash', () => {
    const raw = sec['.BTF']!;
    const typeLen = new DataView(raw.buffer, raw.byteOffset).getUint32(12, true);
    const rand = rng(99);
    let built = 0;
    for (let round = 0; round < 150; round++) {
      const copy = raw.slice();
      for (let f = 0; f < 3; f++) copy[24 + rand(typeLen)] = rand(256);
      let p: Btf;
      try {
        p = Btf.parse(copy);
      } catch (e) {
        expect(e).toBeInstanceOf(BtfParseError);
        continue;
      }
      for (let id = 0; id < p.count; id++) {
        expect(typeof describeBtfType(p, id)).toBe('string');
        let codec: Codec<unknown>;
        try {
          codec = codecFromBtf(p, id);
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
          continue;
        }
        built++;
        if (codec.size <= 1 << 16) codec.decode(new Uint8Array(codec.size), 0);
      }
    }
    expect(built).toBeGreaterThan(0);
  });
});
