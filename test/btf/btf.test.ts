// BTF parser: every kind clang emits (checked against bpftool), hand-built blobs for the rest,
// and malformed input of every sort, which must throw BtfParseError and never hang.
// @module-tag pure
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Btf, BtfParseError, type BtfKind, type BtfType, type BtfTypeOf } from '../../lib/btf/btf';
import { BtfBlob, K } from '../support/btf-blob';
import { scaledCount } from '../support/kernel';

const FIXTURES = join(__dirname, '..', '..', 'dist', 'test-bpf');
const FIXTURE = join(FIXTURES, 'btf_types.bpf.o');

/** The `.BTF` section of a BPF object, via llvm-objcopy. */
function btfSection(obj: string): Uint8Array {
  if (!existsSync(obj)) throw new Error(`${obj} is missing: run \`make -C bpf\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'btf-test-'));
  try {
    execFileSync('llvm-objcopy', ['--dump-section', `.BTF=${join(dir, 'btf')}`, obj, join(dir, 'copy.o')]);
    return new Uint8Array(readFileSync(join(dir, 'btf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses and expects a BtfParseError whose message matches. */
function expectParseError(raw: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    Btf.parse(raw);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BtfParseError);
  expect((caught as Error).message).toMatch(message);
}

/** Parses, accepting only success or a BtfParseError; a successful parse is then walked. */
function parseOrReject(raw: Uint8Array): Btf | undefined {
  try {
    const btf = Btf.parse(raw);
    for (let id = 0; id < btf.count; id++) {
      btf.resolve(id);
      try {
        btf.sizeof(id);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
      }
    }
    return btf;
  } catch (e) {
    if (e instanceof BtfParseError) return undefined;
    throw e;
  }
}

/** Deterministic PRNG (mulberry32), so a failing fuzz case can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const raw = btfSection(FIXTURE);
const btf = Btf.parse(raw);

function byName<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> {
  const t = btf.findByName(name, kind);
  if (t === undefined) throw new Error(`fixture has no ${kind} ${name}`);
  return t;
}

/** `t`, checked to be of `kind` and typed accordingly. */
function as<K extends BtfKind>(t: BtfType, kind: K): BtfTypeOf<K> {
  expect(t.kind).toBe(kind);
  return t as BtfTypeOf<K>;
}

describe('Btf.parse on clang output', () => {
  test('type 0 is void and ids are dense', () => {
    expect(btf.type(0)).toEqual({ id: 0, kind: 'VOID', name: '' });
    for (let id = 0; id < btf.count; id++) expect(btf.type(id).id).toBe(id);
  });

  test('every kind clang 14 emits is present (ENUM64 is covered by a hand-built blob)', () => {
    const kinds = new Set<BtfKind>();
    for (let id = 0; id < btf.count; id++) kinds.add(btf.type(id).kind);
    const all: BtfKind[] = ['VOID', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
      'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG'];
    expect([...kinds].sort()).toEqual(all.sort());
  });

  test('integers: sizes, signedness, bool, char, __int128', () => {
    expect(byName('unsigned int', 'INT')).toMatchObject({ size: 4, bits: 32, bitOffset: 0, signed: false, bool: false });
    expect(byName('long long', 'INT')).toMatchObject({ size: 8, bits: 64, signed: true });
    expect(byName('unsigned char', 'INT')).toMatchObject({ size: 1, signed: false });
    expect(byName('short', 'INT')).toMatchObject({ size: 2, signed: true });
    expect(byName('_Bool', 'INT')).toMatchObject({ size: 1, bool: true, signed: false });
    expect(byName('char', 'INT')).toMatchObject({ size: 1, signed: true, char: false });
    expect(byName('__int128', 'INT')).toMatchObject({ size: 16, bits: 128, signed: true });
  });

  test('struct members and offsets match the C layout', () => {
    const ints = byName('ints', 'STRUCT');
    expect(ints.size).toBe(40);
    expect(ints.members.map((m) => [m.name, m.bitOffset / 8])).toEqual([
      ['u8', 0], ['s8', 1], ['u16', 2], ['s16', 4], ['u32', 8], ['s32', 12], ['u64', 16], ['s64', 24], ['flag', 32], ['c', 33], ['sc', 34],
    ]);
    const outer = byName('outer', 'STRUCT');
    expect(btf.sizeof(outer.id)).toBe(128);
    const grid = outer.members.find((m) => m.name === 'grid')!;
    expect(btf.sizeof(grid.typeId)).toBe(12);
    const gridType = btf.type(grid.typeId);
    expect(gridType).toMatchObject({ kind: 'ARRAY', nelems: 2 });
    expect(btf.type(as(gridType, 'ARRAY').elemTypeId)).toMatchObject({ kind: 'ARRAY', nelems: 3 });
  });

  test('bitfields carry their width and bit offset', () => {
    const bits = byName('bits', 'STRUCT');
    expect(bits.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([
      ['a', 0, 3], ['b', 3, 9], ['c', 12, 5], ['d', 17, 15], ['wide', 64, 40], ['swide', 104, 20], ['on', 124, 1], ['col', 125, 3], ['tail', 136, 0],
    ]);
  });

  test('anonymous members and unions', () => {
    const anon = byName('with_anon', 'STRUCT');
    expect(anon.members.map((m) => m.name)).toEqual(['kind', '', '', 'tail']);
    expect(btf.type(anon.members[1]!.typeId)).toMatchObject({ kind: 'UNION', name: '', size: 16 });
    expect(btf.type(anon.members[2]!.typeId)).toMatchObject({ kind: 'STRUCT', name: '', size: 4 });
    const addr = byName('addr', 'UNION');
    expect(addr.members.map((m) => [m.name, m.bitOffset])).toEqual([['v4', 0], ['v6', 0], ['', 0]]);
  });

  test('enums: values, and signedness inferred from negative values when kind_flag is absent', () => {
    expect(byName('color', 'ENUM')).toMatchObject({ size: 4, signed: false, values: [{ name: 'RED', value: 0 }, { name: 'GREEN', value: 5 }, { name: 'BLUE', value: 6 }] });
    expect(byName('sign', 'ENUM')).toMatchObject({ signed: true, values: [{ name: 'NEG', value: -2 }, { name: 'ZERO', value: 0 }, { name: 'POS', value: 3 }] });
  });

  test('typedef chains, qualifiers and type tags resolve to the underlying type', () => {
    const alias = byName('flow_key_alias_t', 'TYPEDEF');
    expect(btf.type(alias.typeId)).toMatchObject({ kind: 'TYPEDEF', name: 'flow_key_t' });
    expect(btf.resolve(alias.id)).toBe(byName('flow_key', 'STRUCT'));
    expect(btf.sizeof(alias.id)).toBe(16);
    const cv = byName('val_cv', 'VAR');
    expect(btf.type(cv.typeId).kind).toBe('CONST');
    expect(btf.resolve(cv.typeId)).toBe(byName('unsigned int', 'INT'));
    const tag = byName('user', 'TYPE_TAG');
    expect(btf.resolve(tag.id)).toBe(byName('int', 'INT'));
    expect(btf.resolve(0).kind).toBe('VOID');
  });

  test('pointers, forward declarations, function prototypes, restrict', () => {
    const outer = byName('outer', 'STRUCT');
    const op = btf.type(outer.members.find((m) => m.name === 'op')!.typeId);
    expect(op.kind).toBe('PTR');
    expect(btf.sizeof(op.id)).toBe(8);
    expect(btf.type(as(op, 'PTR').typeId)).toMatchObject({ kind: 'FWD', name: 'opaque', union: false });
    const cb = as(btf.type(outer.members.find((m) => m.name === 'cb')!.typeId), 'PTR');
    expect(btf.type(cb.typeId)).toMatchObject({ kind: 'FUNC_PROTO', returnTypeId: byName('int', 'INT').id, params: [{ name: '', typeId: byName('int', 'INT').id }], variadic: false });

    const sum = byName('sum_tagged', 'FUNC');
    expect(sum.linkage).toBe('static');
    expect(byName('xdp_btf_types', 'FUNC').linkage).toBe('global');
    const proto = btf.type(sum.typeId);
    expect(proto).toMatchObject({ kind: 'FUNC_PROTO', params: [{ name: 't' }, { name: 'n' }] });
    const first = btf.type(as(proto, 'FUNC_PROTO').params[0]!.typeId);
    expect(first.kind).toBe('RESTRICT');
    expect(btf.resolve(first.id).kind).toBe('PTR');
  });

  test('decl tags point at a type or one of its members', () => {
    const tagged = byName('tagged', 'STRUCT');
    expect(byName('struct_tag', 'DECL_TAG')).toMatchObject({ typeId: tagged.id, componentIdx: -1 });
    expect(byName('member_tag', 'DECL_TAG')).toMatchObject({ typeId: tagged.id, componentIdx: 0 });
  });

  test('floats', () => {
    expect(byName('float', 'FLOAT').size).toBe(4);
    expect(byName('double', 'FLOAT').size).toBe(8);
  });

  test('datasec lists its variables (offsets are 0 before libbpf fixes them up)', () => {
    const flow = btf.datasec('.data.flow');
    expect(flow).toBeDefined();
    expect(flow!.vars).toEqual([{ name: 'val_flow', typeId: byName('val_flow', 'VAR').id, offset: 0, size: 16 }]);
    expect(byName('val_flow', 'VAR').linkage).toBe('global');
    expect(btf.datasec('.maps')!.vars.map((v) => v.name)).toEqual(['flows']);
    expect(btf.datasec('.data.bits')!.vars[0]!.size).toBe(24);
    expect(btf.datasec('.nope')).toBeUndefined();
  });

  test('findByName filters by kind and returns undefined when absent', () => {
    expect(btf.findByName('flow_key')?.kind).toBe('STRUCT');
    expect(btf.findByName('flow_key', 'TYPEDEF')).toBeUndefined();
    expect(btf.findByName('flow_key_t', 'TYPEDEF')?.kind).toBe('TYPEDEF');
    expect(btf.findByName('no_such_type')).toBeUndefined();
    expect(btf.findByName('')).toBeUndefined();
  });

  test('type, resolve and sizeof refuse bad ids; sizeof refuses types without a size', () => {
    for (const id of [-1, btf.count, 1.5, NaN]) {
      expect(() => btf.type(id)).toThrow(RangeError);
      expect(() => btf.resolve(id)).toThrow(RangeError);
      expect(() => btf.sizeof(id)).toThrow(RangeError);
    }
    expect(() => btf.sizeof(0)).toThrow(/void has no size/);
    expect(() => btf.sizeof(byName('opaque', 'FWD').id)).toThrow(TypeError);
    expect(() => btf.sizeof(byName('sum_tagged', 'FUNC').id)).toThrow(/FUNC 'sum_tagged'.*has no size/);
  });

  test('parses a Uint8Array view at a non-zero offset and does not keep it', () => {
    const big = new Uint8Array(raw.length + 7);
    big.set(raw, 7);
    const view = big.subarray(7);
    const again = Btf.parse(view);
    view.fill(0);
    expect(again.count).toBe(btf.count);
    expect(again.findByName('flow_key', 'STRUCT')).toEqual(btf.findByName('flow_key', 'STRUCT'));
  });

  test('type objects are frozen', () => {
    const s = byName('flow_key', 'STRUCT');
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.members)).toBe(true);
    expect(Object.isFrozen(s.members[0])).toBe(true);
  });
});

/** bpftool's JSON dump of an object's BTF. */
function bpftoolTypes(obj: string): Record<string, unknown>[] {
  const out = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', obj], { encoding: 'utf8' });
  return (JSON.parse(out) as { types: Record<string, unknown>[] }).types;
}

function hasBpftool(): boolean {
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasBpftool())('Btf.parse agrees with bpftool (needs bpftool on PATH)', () => {
  const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.bpf.o')).map((f) => join(FIXTURES, f));
  const shipped = join(__dirname, '..', '..', 'dist', 'bpf');
  if (existsSync(shipped)) objects.push(...readdirSync(shipped).filter((f) => f.endsWith('.bpf.o')).map((f) => join(shipped, f)));

  test.each(objects)('%s', (obj) => {
    const parsed = Btf.parse(btfSection(obj));
    const expected = bpftoolTypes(obj);
    expect(parsed.count).toBe(expected.length + 1);
    for (const e of expected) {
      const t = parsed.type(e.id as number);
      const where = `type ${t.id}`;
      expect(t.kind, where).toBe(e.kind);
      expect(t.name === '' ? '(anon)' : t.name, where).toBe(e.name);
      if ('size' in e && 'size' in t) expect(t.size, where).toBe(e.size);
      if (t.kind === 'STRUCT' || t.kind === 'UNION') {
        const members = e.members as { name: string; type_id: number; bits_offset: number; bitfield_size?: number }[];
        expect(t.members.map((m) => [m.name || '(anon)', m.typeId, m.bitOffset, m.bitfieldSize]), where).toEqual(
          members.map((m) => [m.name, m.type_id, m.bits_offset, m.bitfield_size ?? 0]),
        );
      }
      if (t.kind === 'INT') expect([t.bits, t.bitOffset], where).toEqual([e.nr_bits, e.bits_offset]);
      if (t.kind === 'ARRAY') expect([t.elemTypeId, t.indexTypeId, t.nelems], where).toEqual([e.type_id, e.index_type_id, e.nr_elems]);
      if (t.kind === 'ENUM') expect(t.values.map((v) => v.name), where).toEqual((e.values as { name: string }[]).map((v) => v.name));
      if (t.kind === 'DATASEC') {
        expect(t.vars.map((v) => [v.typeId, v.offset, v.size]), where).toEqual((e.vars as { type_id: number; offset: number; size: number }[]).map((v) => [v.type_id, v.offset, v.size]));
      }
      if (t.kind === 'FUNC' || t.kind === 'VAR') expect(t.linkage, where).toBe(e.linkage);
    }
  });
});

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe.skipIf(!hasBpftool() || !existsSync(VMLINUX))('the running kernel\'s BTF (needs bpftool and CONFIG_DEBUG_INFO_BTF, kernel >= 5.4)', () => {
  test('every type agrees with bpftool on kind, name and size', () => {
    const kernel = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX], { encoding: 'utf8', maxBuffer: 1 << 30 });
    let seen = 0;
    for (const line of text.split('\n')) {
      const m = /^\[(\d+)\] (\w+) '([^']*)'(?:.* size=(\d+))?/.exec(line);
      if (m === null) continue;
      const t = kernel.type(Number(m[1]));
      const where = `type ${t.id}`;
      expect(t.kind, where).toBe(m[2]);
      expect(t.name === '' ? '(anon)' : t.name, where).toBe(m[3]);
      if (m[4] !== undefined && 'size' in t) expect(t.size, where).toBe(Number(m[4]));
      seen++;
    }
    expect(kernel.count).toBe(seen + 1);
    expect(kernel.sizeof(kernel.findByName('iphdr', 'STRUCT')!.id)).toBe(20);
  });
});

describe('Btf.parse on hand-built blobs', () => {
  test('ENUM64, signed and unsigned', () => {
    const b = new BtfBlob();
    // ENUM64 entries: name_off, val_lo32, val_hi32.
    const u = b.add(K.ENUM64, 'big', 8, [b.str('HUGE'), 0x0000_0001, 0x8000_0000, b.str('ONE'), 1, 0], 2);
    const s = b.add(K.ENUM64, 'sbig', 8, [b.str('MINUS'), 0xffff_fffe, 0xffff_ffff], 1, true);
    const p = Btf.parse(b.raw());
    expect(p.type(u)).toMatchObject({ kind: 'ENUM64', size: 8, signed: false, values: [{ name: 'HUGE', value: 0x8000_0000_0000_0001n }, { name: 'ONE', value: 1n }] });
    expect(p.type(s)).toMatchObject({ kind: 'ENUM64', signed: true, values: [{ name: 'MINUS', value: -2n }] });
    expect(p.sizeof(u)).toBe(8);
  });

  test('ENUM sign: kind_flag decides when the producer sets it anywhere (clang >= 15, pahole)', () => {
    const b = new BtfBlob();
    const signed = b.add(K.ENUM, 'e1', 4, [b.str('A'), 0xffff_ffff], 1, true);
    const unsigned = b.add(K.ENUM, 'e2', 4, [b.str('B'), 0x8000_0000], 1);
    const p = Btf.parse(b.raw());
    expect(p.type(signed)).toMatchObject({ signed: true, values: [{ value: -1 }] });
    expect(p.type(unsigned)).toMatchObject({ signed: false, values: [{ value: 0x8000_0000 }] });
    // An ENUM64 also shows the producer knows kind_flag.
    const c = new BtfBlob();
    c.add(K.ENUM64, 'e64', 8, [c.str('C'), 1, 0], 1);
    const flags = c.add(K.ENUM, 'flags', 4, [c.str('HIGH'), 0x8000_0000], 1);
    expect(Btf.parse(c.raw()).type(flags)).toMatchObject({ signed: false, values: [{ value: 0x8000_0000 }] });
  });

  test('ENUM sign in legacy BTF (no kind_flag anywhere, clang < 15): signed if an enumerator is negative', () => {
    const b = new BtfBlob();
    const neg = b.add(K.ENUM, 'neg', 4, [b.str('M'), 0xffff_fffe, b.str('P'), 3], 2);
    const pos = b.add(K.ENUM, 'pos', 4, [b.str('X'), 7], 1);
    const p = Btf.parse(b.raw());
    expect(p.type(neg)).toMatchObject({ signed: true, values: [{ name: 'M', value: -2 }, { name: 'P', value: 3 }] });
    expect(p.type(pos)).toMatchObject({ signed: false, values: [{ value: 7 }] });
  });

  test('legacy bitfields (kind_flag 0, width in the INT) are normalised', () => {
    const b = new BtfBlob();
    const u32 = b.int('unsigned int', 4);
    // INT with 5 bits at bit offset 2 inside its 4 bytes: encoding 0, offset 2, bits 5.
    const narrow = b.add(K.INT, 'unsigned int', 4, [(2 << 16) | 5]);
    const s = b.add(K.STRUCT, 'legacy', 8, [b.str('x'), u32, 0, b.str('y'), narrow, 32], 2);
    const p = Btf.parse(b.raw());
    expect(as(p.type(s), 'STRUCT').members).toEqual([
      { name: 'x', typeId: u32, bitOffset: 0, bitfieldSize: 0 },
      { name: 'y', typeId: narrow, bitOffset: 34, bitfieldSize: 5 },
    ]);
  });

  test('variadic prototypes, FWD union, FLOAT 16, header longer than 24 bytes', () => {
    const b = new BtfBlob();
    const int = b.int('int', 4, true);
    const proto = b.add(K.FUNC_PROTO, '', int, [b.str('fmt'), int, 0, 0], 2);
    const fwd = b.add(K.FWD, 'u', 0, [], 0, true);
    const q = b.add(K.FLOAT, 'long double', 16);
    const blob = b.raw();
    // Same blob with 8 extra (zero) header bytes.
    const longer = new Uint8Array(blob.length + 8);
    longer.set(blob.subarray(0, 24));
    longer.set(blob.subarray(24), 32);
    new DataView(longer.buffer).setUint32(4, 32, true);
    for (const p of [Btf.parse(blob), Btf.parse(longer)]) {
      expect(p.type(proto)).toMatchObject({ params: [{ name: 'fmt', typeId: int }], variadic: true, returnTypeId: int });
      expect(p.type(fwd)).toMatchObject({ kind: 'FWD', union: true });
      expect(p.sizeof(q)).toBe(16);
    }
  });

  test('a struct may refer to itself through a pointer', () => {
    const b = new BtfBlob();
    const ptr = b.add(K.PTR, '', 2); // id 1 -> struct node (id 2)
    const node = b.add(K.STRUCT, 'node', 8, [b.str('next'), ptr, 0], 1);
    const p = Btf.parse(b.raw());
    expect(p.sizeof(node)).toBe(8);
  });

  test('an empty blob (header and an empty string section) has only void', () => {
    const p = Btf.parse(new BtfBlob().raw());
    expect(p.count).toBe(1);
  });
});

describe('Btf.parse rejects malformed input with BtfParseError', () => {
  test('every truncation of the fixture', () => {
    for (let len = 0; len < raw.length; len++) {
      expect(() => Btf.parse(raw.subarray(0, len)), `length ${len}`).toThrow(BtfParseError);
    }
  });

  test('header', () => {
    const good = new BtfBlob();
    good.int('int', 4, true);
    expectParseError(new BtfBlob().raw({ magic: 0x1234 }), /bad magic 0x1234/);
    expectParseError(new BtfBlob().raw({ magic: 0x9feb }), /big-endian/);
    expectParseError(new BtfBlob().raw({ version: 2 }), /unsupported version 2/);
    expectParseError(new BtfBlob().raw({ hdrLen: 8 }), /header length 8 out of range/);
    expectParseError(new BtfBlob().raw({ hdrLen: 1000 }), /header length 1000 out of range/);
    expectParseError(good.raw({ typeLen: 1000 }), /type section .* runs past/);
    expectParseError(good.raw({ typeOff: 0xffff_fff0 }), /type section .* runs past/);
    expectParseError(good.raw({ strLen: 1000 }), /string section .* runs past/);
    expectParseError(good.raw({ strOff: 0xffff_ffff }), /string section .* runs past/);
    expectParseError(good.raw({ strOff: 4 }), /overlaps/);
    expectParseError(good.raw({ typeLen: 14 }), /multiples of 4/);
    expectParseError(good.raw({ typeLen: 8 }), /truncated/);
    expect(() => Btf.parse('BTF' as unknown as Uint8Array)).toThrow(TypeError);
  });

  test('string section', () => {
    const b = new BtfBlob();
    b.int('int', 4, true);
    const blob = b.raw();
    // Last byte of the string section is the NUL after "int".
    const noNul = blob.slice();
    noNul[noNul.length - 1] = 0x41;
    expectParseError(noNul, /must start and end with a NUL/);
    const c = new BtfBlob();
    c.add(K.INT, '', 4, [32]);
    const bad = c.raw();
    new DataView(bad.buffer).setUint32(24, 500, true); // name_off of type 1
    expectParseError(bad, /type 1: name offset 500 is outside/);
  });

  test('records', () => {
    const cases: [string, (b: BtfBlob) => void, RegExp][] = [
      ['unknown kind', (b) => b.add(20, 'x', 0), /unknown kind 20/],
      ['kind 0', (b) => b.add(0, 'x', 0), /unknown kind 0/],
      ['INT of 3 bytes', (b) => b.add(K.INT, 'i', 3, [24]), /size 3 is not/],
      ['INT of 0 bits', (b) => b.add(K.INT, 'i', 4, [0]), /0 bits/],
      ['INT bits past its size', (b) => b.add(K.INT, 'i', 4, [(4 << 16) | 32]), /do not fit/],
      ['INT with two encodings', (b) => b.add(K.INT, 'i', 4, [(3 << 24) | 32]), /invalid encoding/],
      ['ENUM of 3 bytes', (b) => b.add(K.ENUM, 'e', 3), /size 3 is not/],
      ['FLOAT of 3 bytes', (b) => b.add(K.FLOAT, 'f', 3), /size 3 is not/],
      ['FUNC linkage 7', (b) => { const p = b.add(K.FUNC_PROTO, '', 0); b.add(K.FUNC, 'f', p, [], 7); }, /unknown linkage 7/],
      ['VAR linkage 3', (b) => b.add(K.VAR, 'v', b.int('int', 4), [3]), /unknown linkage 3/],
      ['anonymous typedef', (b) => b.add(K.TYPEDEF, '', 0), /typedef needs a name/],
      ['DECL_TAG component -2', (b) => b.add(K.DECL_TAG, 't', b.int('int', 4), [-2]), /component index -2/],
      ['STRUCT whose members run past the section', (b) => b.add(K.STRUCT, 's', 4, [], 50), /truncated/],
    ];
    for (const [what, make, message] of cases) {
      const b = new BtfBlob();
      make(b);
      expect(() => Btf.parse(b.raw()), what).toThrow(message);
      expect(() => Btf.parse(b.raw()), what).toThrow(BtfParseError);
    }
  });

  test('graph: ids out of range, loops, containment, layout', () => {
    const cases: [string, (b: BtfBlob) => void, RegExp][] = [
      ['PTR to a missing id', (b) => b.add(K.PTR, '', 99), /refers to type id 99, but the last id is 1/],
      ['member of a missing type', (b) => b.add(K.STRUCT, 's', 4, [b.str('m'), 42, 0], 1), /member 'm' refers to type id 42/],
      ['typedef loop', (b) => { b.add(K.TYPEDEF, 'a', 2); b.add(K.TYPEDEF, 'b', 1); }, /refers back to itself/],
      ['const of itself', (b) => b.add(K.CONST, '', 1), /refers back to itself/],
      ['pointer loop', (b) => { b.add(K.PTR, '', 2); b.add(K.PTR, '', 1); }, /refers back to itself/],
      ['array of itself', (b) => b.add(K.ARRAY, '', 0, [1, 1, 2]), /refers back to itself/],
      ['struct containing itself', (b) => b.add(K.STRUCT, 's', 4, [b.str('m'), 1, 0], 1), /contains itself/],
      ['struct containing itself via typedef', (b) => { b.add(K.STRUCT, 's', 4, [b.str('m'), 2, 0], 1); b.add(K.TYPEDEF, 't', 1); }, /contains itself/],
      ['member past the end', (b) => { const i = b.int('int', 4); b.add(K.STRUCT, 's', 4, [b.str('m'), i, 8], 1); }, /run past the 4-byte struct/],
      ['member not byte aligned', (b) => { const i = b.int('int', 4); b.add(K.STRUCT, 's', 8, [b.str('m'), i, 3], 1); }, /not a whole byte/],
      ['bitfield past the end', (b) => { const i = b.int('int', 4); b.add(K.STRUCT, 's', 4, [b.str('m'), i, (4 << 24) | 30], 1, true); }, /run past/],
      ['bitfield wider than its type', (b) => { const i = b.int('char', 1); b.add(K.STRUCT, 's', 4, [b.str('m'), i, 9 << 24], 1, true); }, /wider than/],
      ['bitfield of a struct', (b) => { const i = b.int('int', 4); const s = b.add(K.STRUCT, 'in', 4, [b.str('x'), i, 0], 1); b.add(K.STRUCT, 's', 4, [b.str('m'), s, 4 << 24], 1, true); }, /bitfield of kind STRUCT/],
      ['member of incomplete type', (b) => { const f = b.add(K.FWD, 'f', 0); b.add(K.STRUCT, 's', 4, [b.str('m'), f, 0], 1); }, /has no size/],
      ['member that is a VAR', (b) => { const i = b.int('int', 4); const v = b.add(K.VAR, 'v', i, [1]); b.add(K.STRUCT, 's', 4, [b.str('m'), v, 0], 1); }, /VAR cannot be a member/],
      ['array of void', (b) => b.add(K.ARRAY, '', 0, [0, 0, 2]), /element type 0 has no size/],
      ['array over 4 GiB', (b) => { const i = b.int('long', 8); b.add(K.ARRAY, '', 0, [i, i, 0xffff_ffff]); }, /exceed 4 GiB/],
      ['datasec entry that is not a VAR', (b) => { const i = b.int('int', 4); b.add(K.DATASEC, '.data', 4, [i, 0, 4], 1); }, /is a INT, not a VAR/],
    ];
    for (const [what, make, message] of cases) {
      const b = new BtfBlob();
      make(b);
      let caught: unknown;
      try {
        Btf.parse(b.raw());
      } catch (e) {
        caught = e;
      }
      expect(caught, what).toBeInstanceOf(BtfParseError);
      expect((caught as Error).message, what).toMatch(message);
    }
  });

  test('a long typedef chain and a deep array nesting parse without recursion', () => {
    const b = new BtfBlob();
    let id = b.int('int', 4, true);
    for (let i = 0; i < 50_000; i++) id = b.add(K.TYPEDEF, `t${i % 7}`, id);
    let arr = id;
    for (let i = 0; i < 20_000; i++) arr = b.add(K.ARRAY, '', 0, [arr, 1, 1]);
    const p = Btf.parse(b.raw());
    expect(p.resolve(id).kind).toBe('INT');
    expect(p.sizeof(arr)).toBe(4);
  });

  test('fuzz: shrinking the type section, flipped bytes and random garbage never escape as another error', () => {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const typeLen = dv.getUint32(12, true);
    for (let cut = 4; cut <= typeLen; cut += 4) {
      const copy = raw.slice();
      new DataView(copy.buffer).setUint32(12, typeLen - cut, true);
      parseOrReject(copy);
    }
    const random = rng(0xb7f);
    let parsed = 0;
    for (let i = 0; i < scaledCount(3000, 300); i++) {
      const copy = raw.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        // Mostly the type section, where flips give interesting structure; sometimes the header.
        const at = random() < 0.1 ? Math.floor(random() * 24) : 24 + Math.floor(random() * typeLen);
        copy[at] = Math.floor(random() * 256);
      }
      if (parseOrReject(copy)) parsed++;
    }
    for (let i = 0; i < scaledCount(2000, 200); i++) {
      const len = 24 + Math.floor(random() * 400);
      const garbage = new Uint8Array(len);
      for (let j = 0; j < len; j++) garbage[j] = Math.floor(random() * 256);
      // A plausible header so the garbage reaches the type parser.
      const g = new DataView(garbage.buffer);
      g.setUint16(0, 0xeb9f, true);
      g.setUint8(2, 1);
      g.setUint32(4, 24, true);
      const tl = Math.floor(random() * (len - 24) / 4) * 4;
      g.setUint32(8, 0, true);
      g.setUint32(12, tl, true);
      g.setUint32(16, tl, true);
      g.setUint32(20, len - 24 - tl, true);
      garbage[24 + tl] = 0;
      garbage[len - 1] = 0;
      parseOrReject(garbage);
    }
    expect(parsed).toBeGreaterThan(0); // some flips land on harmless bytes (names, sizes)
  });
});
