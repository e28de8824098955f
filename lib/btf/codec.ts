/**
 * Codecs: how JS values become the bytes of a map key, a map value or a global, and back.
 *
 * A {@link Codec} has a fixed size and encodes into / decodes from a caller's buffer at an
 * offset. There are primitive codecs ({@link u32}, {@link i64}, {@link ipv4}, {@link bytes},
 * ...), codecs derived from BTF ({@link codecFromBtf}) and, since `Codec` is a plain
 * interface, any codec a user writes.
 *
 * Encoding validates the whole value before it writes a byte: a wrong value throws a
 * `TypeError` or `RangeError` naming the field (`value.inner.port: expected an integer in
 * [0, 65535], got 70000`) and leaves the buffer untouched. Padding is written as zeros.
 * Multi-byte numbers are little endian (host order); {@link ipv4}/{@link ipv6} are network order.
 *
 * How it is fast: map operations sit on a hot path, so each codec is compiled once into a
 * pair of straight-line functions (one object literal per struct, one DataView access per
 * field, no per-field calls or lookups). The generated source only ever contains numbers
 * computed here and names quoted with `JSON.stringify`; every other value (enumerator maps,
 * messages, helpers) is passed in as a constant. This needs code generation from strings to
 * be allowed (it is unless Node runs with `--disallow-code-generation-from-strings`).
 *
 * @packageDocumentation
 */
import type { Btf, BtfArray, BtfDatasec, BtfEnum, BtfEnum64, BtfMember, BtfStruct, BtfType } from './btf';

/**
 * Converts between JS values and a fixed number of bytes.
 *
 * @typeParam T What {@link Codec.decode} returns.
 * @typeParam TIn What {@link Codec.encode} accepts (defaults to `T`; e.g. 64-bit integer
 *   codecs decode to `bigint` but also accept a safe-integer `number`).
 *
 * @example A user codec for a pair of big-endian ports:
 * ```ts
 * const ports: Codec<[number, number]> = {
 *   size: 4,
 *   encode([a, b], buf, off) { buf[off] = a >> 8; buf[off + 1] = a; buf[off + 2] = b >> 8; buf[off + 3] = b; },
 *   decode(buf, off) { return [(buf[off]! << 8) | buf[off + 1]!, (buf[off + 2]! << 8) | buf[off + 3]!]; },
 * };
 * ```
 */
export interface Codec<T, TIn = T> {
  /** Number of bytes `encode` writes and `decode` reads. */
  readonly size: number;
  /**
   * Writes `value` into `buf[offset .. offset + size)`.
   *
   * @throws TypeError If `value` has the wrong type or shape (the message names the field).
   * @throws RangeError If a number is out of range, an array or byte string has the wrong
   *   length, or `buf` is too small. Nothing is written when it throws.
   */
  encode(value: TIn, buf: Uint8Array, offset: number): void;
  /**
   * Reads a value from `buf[offset .. offset + size)`. The result shares no memory with `buf`.
   *
   * @throws RangeError If `buf` is too small.
   */
  decode(buf: Uint8Array, offset: number): T;
}

/** Options for {@link codecFromBtf}. */
export interface BtfCodecOptions {
  /** Name of the root in error messages, e.g. `'key'` gives `key.saddr: ...`. Default `'value'`. */
  readonly label?: string;
}

// ---------------------------------------------------------------------------------------------
// Code generation. A Layout describes one C type and emits JS source for it: an expression
// that reads it, statements that check a value, statements that write a checked value.
// ---------------------------------------------------------------------------------------------

/** A byte position in generated code: a JS expression plus a constant. */
interface At {
  readonly expr: string;
  readonly k: number;
}

const plus = (a: At, n: number): At => ({ expr: a.expr, k: a.k + n });
const pos = (a: At): string => (a.k === 0 ? a.expr : `${a.expr} + ${a.k}`);

/** A field path for messages: literal text and names of loop variables (array indexes). */
type Path = readonly (string | { readonly index: string })[];

/** The JS expression for a path, evaluated only when a check fails. */
function pathSource(path: Path): string {
  const parts: string[] = [];
  let text = '';
  for (const seg of path) {
    if (typeof seg === 'string') {
      text += seg;
    } else {
      parts.push(JSON.stringify(`${text}[`), seg.index);
      text = ']';
    }
  }
  parts.push(JSON.stringify(text));
  return parts.join(' + ');
}

/** Collects what generated code refers to: constants (`k3`), helper functions, fresh names. */
class Gen {
  readonly values: unknown[];
  readonly helpers: string[] = [];
  readonly #refs = new Map<unknown, string>();
  #next = 0;

  constructor(label: string) {
    this.values = [label]; // k[0], bound to `L`
  }

  /** A name bound to `value` in the generated code. */
  ref(value: unknown): string {
    let name = this.#refs.get(value);
    if (name === undefined) {
      name = `k${this.values.length}`;
      this.values.push(value);
      this.#refs.set(value, name);
    }
    return name;
  }

  /** A fresh local name. */
  tmp(prefix = 't'): string {
    return `${prefix}${this.#next++}`;
  }
}

/** One C type's codec as source fragments. */
interface Layout {
  readonly size: number;
  /** A JS expression: the value decoded from the bytes at `a` (uses `dv` and `u8`). */
  read(g: Gen, a: At): string;
  /** JS statements that throw unless the local `x` can be encoded. */
  check(g: Gen, x: string, path: Path): string;
  /** JS statements that write the checked local `x` at `a`. */
  write(g: Gen, a: At, x: string): string;
  /** What the codec decodes to and encodes from, as data (see {@link codecShape}). */
  readonly shape: CodecShape;
}

/**
 * The JS shape of a codec from {@link codecFromBtf}, as data: what its `decode` returns and its
 * `encode` takes. It comes from the same layout the codec is compiled from, so a TypeScript type
 * written from it (the skeleton generator, `libbpf-node gen`) cannot disagree with the codec.
 * Sizes and offsets are in bytes (`bitOffset` in bits).
 */
export type CodecShape =
  | {
      readonly kind: 'int';
      readonly size: number;
      readonly signed: boolean;
      /** Decodes to bigint (64- and 128-bit integers, ENUM64, pointers). */
      readonly big: boolean;
      /** An enum's enumerators (encode also takes their names). */
      readonly enumerators?: readonly { readonly name: string; readonly value: number | bigint }[];
      /** The BTF type id of a named enum. */
      readonly typeId?: number;
      /** The C type, e.g. `enum color`. */
      readonly what?: string;
    }
  | { readonly kind: 'bool' }
  | { readonly kind: 'float'; readonly size: number }
  /** A Uint8Array of `size` bytes; `text`: encode also takes a string (C char arrays). */
  | { readonly kind: 'bytes'; readonly size: number; readonly text: boolean }
  | { readonly kind: 'address'; readonly family: 'ipv4' | 'ipv6' }
  | { readonly kind: 'array'; readonly length: number; readonly element: CodecShape }
  | {
      readonly kind: 'object';
      readonly size: number;
      /** The C type, e.g. `struct flow_key` or `SEC(".bss")`. */
      readonly what: string;
      readonly members: readonly ShapeMember[];
      /** The BTF type id of the struct, union or datasec. */
      readonly typeId?: number;
    };

/** One member of an object {@link CodecShape}. */
export type ShapeMember =
  | { readonly kind: 'field'; readonly key: string; readonly offset: number; readonly shape: CodecShape }
  | { readonly kind: 'bits'; readonly key: string; readonly bitOffset: number; readonly bits: number; readonly shape: CodecShape }
  /** A union (or anonymous union): encode takes exactly one alternative, decode gives them all. */
  | { readonly kind: 'union'; readonly what: string; readonly alternatives: readonly (readonly ShapeMember[])[] };

/** Builds the error a failed check throws, given the codec's label, the field path and the value. */
type Failure = (label: string, path: string, x: unknown) => Error;

/** `${label}${path}: ${detail}` as a TypeError or RangeError. */
function failure(label: string, path: string, range: boolean, detail: string): Error {
  const message = `${label}${path}: ${detail}`;
  return range ? new RangeError(message) : new TypeError(message);
}

// Views over the last buffer seen. Map operations reuse one scratch buffer, so this saves
// creating views per call (and even reading `buf.buffer`, which is slow).
const views = {
  source: undefined as Uint8Array | undefined,
  length: 0,
  dv: new DataView(new ArrayBuffer(0)) as DataView,
  u8: new Uint8Array(0) as Uint8Array,
};

/** Checks `buf`/`offset` and points `views` at `buf`'s bytes. */
function checkBuffer(buf: Uint8Array, offset: number, size: number, label: string, op: string): void {
  if (buf !== views.source || buf.length !== views.length) {
    if (!(buf instanceof Uint8Array)) {
      throw new TypeError(`${label}: cannot ${op}: expected a Uint8Array or Buffer, got ${show(buf)}`);
    }
    views.source = buf;
    views.length = buf.length;
    views.dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    // A plain Uint8Array, whatever `buf` is: Buffer#slice would not copy.
    views.u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.length) {
    throw new RangeError(`${label}: cannot ${op}: ${size} bytes at offset ${show(offset)} do not fit in a buffer of ${buf.length} bytes`);
  }
}

/** Compiles a layout into a codec whose messages start with `label`. */
function compile<T, TIn>(layout: Layout, label: string): Codec<T, TIn> {
  const g = new Gen(label);
  const root: At = { expr: 'o', k: 0 };
  const read = layout.read(g, root);
  const check = layout.check(g, 'value', []);
  const write = layout.write(g, root, 'value');
  const checkBuf = g.ref(checkBuffer);
  const v = g.ref(views);
  const constants = g.values.map((_, i) => (i === 0 ? 'L = k[0]' : `k${i} = k[${i}]`)).join(', ');
  const source = `'use strict';
const ${constants};
${g.helpers.join('\n')}
return {
  size: ${layout.size},
  encode(value, buf, offset) {
    ${checkBuf}(buf, offset, ${layout.size}, L, 'encode');
    // Take the views before checks run user code (getters) that may encode elsewhere.
    const o = offset, dv = ${v}.dv, u8 = ${v}.u8;
${check}
${write}
  },
  decode(buf, offset) {
    ${checkBuf}(buf, offset, ${layout.size}, L, 'decode');
    const o = offset, dv = ${v}.dv, u8 = ${v}.u8;
    return ${read};
  },
};`;
  const make = new Function('k', source) as (k: unknown[]) => Codec<T, TIn>;
  return make(g.values);
}

/** A short description of a JS value for error messages. */
function show(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    case 'bigint':
      return `${v}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'symbol':
      return v.toString();
    case 'function':
      return 'a function';
    default: {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length} elements`;
      if (v instanceof Uint8Array) return `a ${Buffer.isBuffer(v) ? 'Buffer' : 'Uint8Array'} of ${v.length} bytes`;
      const ctor = (v as { constructor?: { name?: string } }).constructor;
      return ctor === Object || ctor?.name === undefined ? 'an object' : `a ${ctor.name}`;
    }
  }
}

/** `A, B, C, ... (12 in all)`. */
function listNames(names: readonly string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, ... (${names.length} in all)`;
}

// ---------------------------------------------------------------------------------------------
// Integers, booleans, floats
// ---------------------------------------------------------------------------------------------

/** Enumerator values by name. */
type EnumNames = ReadonlyMap<string, number | bigint>;

/** How an integer looks in JS: its range, bigint or number, and enumerator names it may take. */
interface IntSpec {
  readonly min: bigint;
  readonly max: bigint;
  /** Decodes to bigint (and encodes a bigint or a safe-integer number). */
  readonly big: boolean;
  readonly names?: EnumNames;
  /** The C type, for messages about enumerator names. */
  readonly what?: string;
}

/**
 * Integer range of `bits` bits. Enums take values of either sign (`-1` and `0xffffffff` are
 * the same bits): BTF from older compilers does not say which sign an enum has.
 */
function intSpec(bits: number, signed: boolean, big: boolean, names?: EnumNames, what?: string): IntSpec {
  const b = BigInt(bits);
  const min = signed || names !== undefined ? -(1n << (b - 1n)) : 0n;
  const max = signed && names === undefined ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  return { min, max, big, names, what };
}

/** Statements that throw unless local `x` is an integer of `spec` (or one of its enumerator names). */
function intCheck(g: Gen, spec: IntSpec, x: string, path: Path): string {
  const { min, max } = spec;
  // A number must be a safe integer, so compare it with bounds clamped to the safe range.
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  const [nmin, nmax] = [min < -safe ? -safe : min, max > safe ? safe : max];
  let ok = spec.big
    ? `(typeof ${x} === 'bigint' ? ${x} >= ${min}n && ${x} <= ${max}n : typeof ${x} === 'number' && ${x} >= ${nmin} && ${x} <= ${nmax} && Number.isInteger(${x}))`
    : `(typeof ${x} === 'number' && ${x} >= ${min} && ${x} <= ${max} && Number.isInteger(${x}))`;
  if (spec.names !== undefined) ok += ` || (typeof ${x} === 'string' && ${g.ref(spec.names)}.has(${x}))`;
  return `if (!(${ok})) throw ${g.ref(intFailure(spec))}(L, ${pathSource(path)}, ${x});\n`;
}

function intFailure(spec: IntSpec): Failure {
  const { min, max, big, names, what } = spec;
  const expected = `expected ${big ? 'a bigint (or safe integer)' : 'an integer'} in [${min}, ${max}]${names ? ` or an enumerator name of ${what}` : ''}`;
  return (label, path, x) => {
    if (typeof x === 'string' && names !== undefined) {
      return failure(label, path, true, `${show(x)} is not an enumerator of ${what} (${listNames([...names.keys()])})`);
    }
    if (typeof x === 'bigint' && big) return failure(label, path, true, `${expected}, got ${show(x)}`);
    if (typeof x === 'number' && Number.isInteger(x)) {
      const unsafe = big && !Number.isSafeInteger(x) ? ' (not a safe integer: use a bigint)' : '';
      return failure(label, path, true, `${expected}, got ${show(x)}${unsafe}`);
    }
    return failure(label, path, false, `${expected}, got ${show(x)}`);
  };
}

/** `x`, or the value of the enumerator named `x`. */
function intValue(g: Gen, spec: IntSpec, x: string): string {
  return spec.names === undefined ? x : `(typeof ${x} === 'string' ? ${g.ref(spec.names)}.get(${x}) : ${x})`;
}

/**
 * An integer of `size` bytes. 64- and 128-bit integers, ENUM64 and pointers are bigint in JS,
 * the rest numbers; enums also encode from an enumerator name.
 */
function intLayout(size: number, signed: boolean, big: boolean, names?: EnumNames, what?: string): Layout {
  const spec = intSpec(size * 8, signed, big, names, what);
  const s = signed ? 'Int' : 'Uint';
  return {
    size,
    shape: intShape(size, signed, big, names, what),
    read: (g, a) => {
      const at = pos(a);
      switch (size) {
        case 1:
          return big ? `BigInt(${signed ? `dv.getInt8(${at})` : `u8[${at}]`})` : signed ? `dv.getInt8(${at})` : `u8[${at}]`;
        case 2:
        case 4:
          return big ? `BigInt(dv.get${s}${size * 8}(${at}, true))` : `dv.get${s}${size * 8}(${at}, true)`;
        case 8:
          return big ? `dv.getBig${s}64(${at}, true)` : `Number(dv.getBig${s}64(${at}, true))`;
        default:
          return `${g.ref(read128)}(dv, ${at}, ${signed})`;
      }
    },
    check: (g, x, path) => intCheck(g, spec, x, path),
    write: (g, a, x) => {
      const at = pos(a);
      const v = intValue(g, spec, x);
      switch (size) {
        case 1:
          return signed ? `dv.setInt8(${at}, ${big ? `Number(${v})` : v});\n` : `u8[${at}] = ${big ? `Number(${v})` : v};\n`;
        case 2:
        case 4:
          return `dv.set${s}${size * 8}(${at}, ${big ? `Number(${v})` : v}, true);\n`;
        case 8:
          // A number is written as two 32-bit halves: no BigInt is made (checked safe integer,
          // so the halves are exact; the high half carries the sign).
          return `if (typeof ${x} === 'bigint') dv.setBig${s}64(${at}, ${x}, true);
else { const n = ${v}; if (typeof n === 'number') { const h = Math.floor(n / 4294967296); dv.setUint32(${at}, n - h * 4294967296, true); dv.set${s}32(${at} + 4, h, true); } else dv.setBig${s}64(${at}, n, true); }\n`;
        default:
          return `${g.ref(write128)}(dv, ${at}, BigInt(${v}));\n`;
      }
    },
  };
}

function intShape(size: number, signed: boolean, big: boolean, names?: EnumNames, what?: string): CodecShape {
  if (names === undefined) return { kind: 'int', size, signed, big };
  return { kind: 'int', size, signed, big, what, enumerators: [...names].map(([name, value]) => ({ name, value })) };
}

function read128(dv: DataView, at: number, signed: boolean): bigint {
  const lo = dv.getBigUint64(at, true);
  const hi = signed ? dv.getBigInt64(at + 8, true) : dv.getBigUint64(at + 8, true);
  return (hi << 64n) | lo;
}

function write128(dv: DataView, at: number, v: bigint): void {
  dv.setBigUint64(at, BigInt.asUintN(64, v), true);
  dv.setBigUint64(at + 8, BigInt.asUintN(64, v >> 64n), true);
}

/** Statements that throw unless `x` is a boolean. */
function boolCheck(g: Gen, x: string, path: Path): string {
  return `if (typeof ${x} !== 'boolean') throw ${g.ref(boolFailure)}(L, ${pathSource(path)}, ${x});\n`;
}

const boolFailure: Failure = (label, path, x) => failure(label, path, false, `expected a boolean, got ${show(x)}`);

/** C `bool`: one byte, decoded as `byte !== 0`. */
const boolLayout: Layout = {
  size: 1,
  shape: { kind: 'bool' },
  read: (_g, a) => `u8[${pos(a)}] !== 0`,
  check: boolCheck,
  write: (_g, a, x) => `u8[${pos(a)}] = ${x} ? 1 : 0;\n`,
};

const numberFailure: Failure = (label, path, x) => failure(label, path, false, `expected a number, got ${show(x)}`);

function floatLayout(size: 4 | 8): Layout {
  const bits = size * 8;
  return {
    size,
    shape: { kind: 'float', size },
    read: (_g, a) => `dv.getFloat${bits}(${pos(a)}, true)`,
    check: (g, x, path) => `if (typeof ${x} !== 'number') throw ${g.ref(numberFailure)}(L, ${pathSource(path)}, ${x});\n`,
    write: (_g, a, x) => `dv.setFloat${bits}(${pos(a)}, ${x}, true);\n`,
  };
}

// ---------------------------------------------------------------------------------------------
// Bytes, arrays
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

/** Writes `s` as UTF-8 into `u8[at .. at + n)` and NUL-pads the rest (the length was checked). */
function writeString(u8: Uint8Array, at: number, n: number, s: string): void {
  const written = utf8.encodeInto(s, u8.subarray(at, at + n)).written;
  u8.fill(0, at + written, at + n);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * `n` raw bytes as a Uint8Array. With `what` (a C char array), encode also takes a string,
 * written as UTF-8 and NUL padded.
 */
function bytesLayout(n: number, what?: string): Layout {
  const expected = what === undefined ? `expected a Uint8Array of ${n} bytes` : `expected a string of at most ${n} bytes or a Uint8Array of ${n} bytes for ${what}`;
  const fail: Failure = (label, path, x) => {
    if (x instanceof Uint8Array) return failure(label, path, true, `${expected}, got ${show(x)}`);
    if (what !== undefined && typeof x === 'string') return failure(label, path, true, `${expected}, got a string of ${utf8Length(x)} bytes`);
    return failure(label, path, false, `${expected}, got ${show(x)}`);
  };
  return {
    size: n,
    shape: { kind: 'bytes', size: n, text: what !== undefined },
    read: (_g, a) => `u8.slice(${pos(a)}, ${pos(plus(a, n))})`,
    check: (g, x, path) => {
      const str = what === undefined ? 'false' : `typeof ${x} === 'string' && ${g.ref(utf8Length)}(${x}) <= ${n}`;
      return `if (!(${x} instanceof Uint8Array ? ${x}.length === ${n} : ${str})) throw ${g.ref(fail)}(L, ${pathSource(path)}, ${x});\n`;
    },
    write: (g, a, x) =>
      what === undefined
        ? `u8.set(${x}, ${pos(a)});\n`
        : `if (typeof ${x} === 'string') ${g.ref(writeString)}(u8, ${pos(a)}, ${n}, ${x}); else u8.set(${x}, ${pos(a)});\n`,
  };
}

/** Arrays up to this many elements are decoded by an array literal rather than a loop. */
const UNROLL = 16;

/** A C array of non-byte elements as a JS array of exactly `n` elements. */
function arrayLayout(elem: Layout, n: number, what: string): Layout {
  const step = elem.size;
  const expected = `expected an array of ${n} elements for ${what}`;
  const fail: Failure = (label, path, x) =>
    Array.isArray(x) ? failure(label, path, true, `${expected}, got ${x.length}`) : failure(label, path, false, `${expected}, got ${show(x)}`);
  return {
    size: step * n,
    shape: { kind: 'array', length: n, element: elem.shape },
    read: (g, a) => {
      if (n <= UNROLL) {
        const items: string[] = [];
        for (let i = 0; i < n; i++) items.push(elem.read(g, plus(a, i * step)));
        const literal = `[${items.join(', ')}]`;
        if (literal.length < 4000) return literal;
      }
      // A helper function with a loop: `p` is the array's offset.
      const fn = g.tmp('readArray');
      const p = g.tmp('p');
      const i = g.tmp('i');
      const item = elem.read(g, { expr: `${p} + ${i} * ${step}`, k: 0 });
      g.helpers.push(`function ${fn}(dv, u8, ${p}) { const a = []; for (let ${i} = 0; ${i} < ${n}; ${i}++) a.push(${item}); return a; }`);
      return `${fn}(dv, u8, ${pos(a)})`;
    },
    check: (g, x, path) => {
      const i = g.tmp('i');
      const y = g.tmp();
      return `if (!Array.isArray(${x}) || ${x}.length !== ${n}) throw ${g.ref(fail)}(L, ${pathSource(path)}, ${x});
for (let ${i} = 0; ${i} < ${n}; ${i}++) {
const ${y} = ${x}[${i}];
${elem.check(g, y, [...path, { index: i }])}}
`;
    },
    write: (g, a, x) => {
      const i = g.tmp('i');
      const y = g.tmp();
      return `for (let ${i} = 0; ${i} < ${n}; ${i}++) {
const ${y} = ${x}[${i}];
${elem.write(g, { expr: `${pos(a)} + ${i} * ${step}`, k: 0 }, y)}}
`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Structs and unions. A struct's members become a flat list of entries: anonymous struct
// members are flattened into their parent (as C does), an anonymous union becomes a group of
// alternatives. Offsets are relative to the enclosing JS object's bytes.
// ---------------------------------------------------------------------------------------------

/** How a bitfield's bits appear in JS. */
interface BitfieldSpec {
  readonly repr: 'number' | 'bigint' | 'boolean';
  readonly int: IntSpec;
  readonly signed: boolean;
}

type Entry =
  | { readonly kind: 'field'; readonly key: string; readonly rel: number; readonly layout: Layout }
  | { readonly kind: 'bits'; readonly key: string; readonly bitOffset: number; readonly bits: number; readonly spec: BitfieldSpec }
  /** A union: exactly one alternative is encoded; decode reads them all. */
  | { readonly kind: 'group'; readonly alternatives: readonly (readonly Entry[])[]; readonly owner: string };

function entryKeys(e: Entry): string[] {
  return e.kind === 'group' ? e.alternatives.flatMap((alt) => alt.flatMap(entryKeys)) : [e.key];
}

/** JS source for `key: value` in an object literal. */
function entryRead(g: Gen, e: Entry, a: At): string {
  switch (e.kind) {
    case 'field':
      return `${JSON.stringify(e.key)}: ${e.layout.read(g, plus(a, e.rel))}`;
    case 'bits':
      return `${JSON.stringify(e.key)}: ${bitsRead(g, e, a)}`;
    case 'group':
      return e.alternatives.flatMap((alt) => alt.map((x) => entryRead(g, x, a))).join(', ');
  }
}

/** Whether any key of an alternative is given, as a JS condition. */
function presence(alt: readonly Entry[], x: string): string {
  const keys = alt.flatMap(entryKeys);
  return keys.length === 0 ? 'false' : keys.map((k) => `${x}[${JSON.stringify(k)}] !== undefined`).join(' || ');
}

/** Statements checking one entry of object `x`; they add to local `used` the keys they consumed. */
function entryCheck(g: Gen, e: Entry, x: string, path: Path, used: string, owner: string): string {
  if (e.kind === 'group') {
    if (e.alternatives.length === 0) return '';
    const fail = g.ref(groupFailure(e.alternatives.map((alt) => alt.flatMap(entryKeys)), e.owner));
    const pick = g.tmp('pick');
    const count = g.tmp('count');
    let out = `let ${pick} = -1, ${count} = 0;\n`;
    e.alternatives.forEach((alt, i) => {
      out += `if (${presence(alt, x)}) { ${pick} = ${i}; ${count}++; }\n`;
    });
    out += `if (${count} !== 1) throw ${fail}(L, ${pathSource(path)}, ${x});\n`;
    e.alternatives.forEach((alt, i) => {
      out += `${i === 0 ? '' : 'else '}if (${pick} === ${i}) {\n${alt.map((a) => entryCheck(g, a, x, path, used, owner)).join('')}}\n`;
    });
    return out;
  }
  const y = g.tmp();
  const fieldPath = [...path, `.${e.key}`];
  const check = e.kind === 'field' ? e.layout.check(g, y, fieldPath) : bitsCheck(g, e, y, fieldPath);
  return `const ${y} = ${x}[${JSON.stringify(e.key)}];
if (${y} === undefined) throw ${g.ref(missingFailure(owner))}(L, ${pathSource(fieldPath)}, ${y});
${check}${used}++;
`;
}

/** Statements writing one checked entry of object `x` (its bytes are already zeroed where needed). */
function entryWrite(g: Gen, e: Entry, a: At, x: string): string {
  switch (e.kind) {
    case 'field': {
      const y = g.tmp();
      return `const ${y} = ${x}[${JSON.stringify(e.key)}];\n${e.layout.write(g, plus(a, e.rel), y)}`;
    }
    case 'bits': {
      const y = g.tmp();
      return `const ${y} = ${x}[${JSON.stringify(e.key)}];\n${bitsWrite(g, e, a, y)}`;
    }
    case 'group':
      return e.alternatives
        .map((alt, i) => `${i === 0 ? '' : 'else '}if (${presence(alt, x)}) {\n${alt.map((f) => entryWrite(g, f, a, x)).join('')}}\n`)
        .join('');
  }
}

/** The shape of one entry: a field, a bitfield (as its JS type) or a union's alternatives. */
function entryShape(e: Entry): ShapeMember {
  switch (e.kind) {
    case 'field':
      return { kind: 'field', key: e.key, offset: e.rel, shape: e.layout.shape };
    case 'bits': {
      const { spec } = e;
      const shape: CodecShape =
        spec.repr === 'boolean' ? { kind: 'bool' } : intShape(Math.ceil(e.bits / 8), spec.signed, spec.repr === 'bigint', spec.int.names, spec.int.what);
      return { kind: 'bits', key: e.key, bitOffset: e.bitOffset, bits: e.bits, shape };
    }
    case 'group':
      return { kind: 'union', what: e.owner, alternatives: e.alternatives.map((alt) => alt.map(entryShape)) };
  }
}

function missingFailure(owner: string): Failure {
  return (label, path) => failure(label, path, false, `missing field (every member of ${owner} must be given)`);
}

function groupFailure(alternatives: readonly string[][], owner: string): Failure {
  const names = alternatives.map((keys) => keys.join('+'));
  return (label, path, x) => {
    const o = x as Record<string, unknown>;
    const given = alternatives.filter((keys) => keys.some((k) => o[k] !== undefined)).map((keys) => keys.join('+'));
    return failure(label, path, false, `${owner} takes exactly one of its members (${listNames(names)}), got ${given.length === 0 ? 'none' : given.join(', ')}`);
  };
}

// Bitfields. Little endian: bit 0 is the least significant bit of byte 0. A field that fits in
// 32 bits after its shift is read and written with int32 operations inline; one that fits in 53
// bits goes through helpers using exact double arithmetic; only wider ones need BigInt.

function bitsRead(g: Gen, e: Extract<Entry, { kind: 'bits' }>, a: At): string {
  const start = plus(a, e.bitOffset >>> 3);
  const shift = e.bitOffset & 7;
  const { bits, spec } = e;
  if (shift + bits > 53) return `${g.ref(readBitsBig)}(u8, ${pos(start)}, ${shift}, ${bits}, ${spec.signed})`;
  let value: string;
  if (shift + bits > 32) {
    value = `${g.ref(readBitsWide)}(u8, ${pos(start)}, ${shift}, ${bits}, ${spec.signed})`;
  } else {
    const nbytes = Math.ceil((shift + bits) / 8);
    const terms: string[] = [];
    for (let i = 0; i < nbytes; i++) terms.push(i === 0 ? `u8[${pos(start)}]` : `(u8[${pos(plus(start, i))}] << ${8 * i})`);
    // Shift the field to the top of an int32, then back down (arithmetic shift sign-extends).
    value = `(((${terms.join(' | ')}) << ${32 - shift - bits}) ${spec.signed ? '>>' : '>>>'} ${32 - bits})`;
  }
  return spec.repr === 'boolean' ? `${value} !== 0` : spec.repr === 'bigint' ? `BigInt(${value})` : value;
}

function bitsCheck(g: Gen, e: Extract<Entry, { kind: 'bits' }>, y: string, path: Path): string {
  return e.spec.repr === 'boolean' ? boolCheck(g, y, path) : intCheck(g, e.spec.int, y, path);
}

function bitsWrite(g: Gen, e: Extract<Entry, { kind: 'bits' }>, a: At, y: string): string {
  const start = plus(a, e.bitOffset >>> 3);
  const shift = e.bitOffset & 7;
  const { bits, spec } = e;
  let value = spec.repr === 'boolean' ? `(${y} ? 1 : 0)` : intValue(g, spec.int, y);
  if (shift + bits > 53) return `${g.ref(writeBitsBig)}(u8, ${pos(start)}, ${shift}, ${bits}, BigInt(${value}));\n`;
  // A checked value of at most 53 bits is exact as a number.
  if (spec.repr === 'bigint') value = `Number(${value})`;
  if (shift + bits > 32) return `${g.ref(writeBitsWide)}(u8, ${pos(start)}, ${shift}, ${bits}, ${value});\n`;
  const nbytes = Math.ceil((shift + bits) / 8);
  const mask = bits === 32 ? -1 : 2 ** bits - 1;
  const t = g.tmp('bits');
  let out = `const ${t} = (${value} & ${mask}) << ${shift};\n`;
  // The bytes were zeroed with the struct's padding, so OR-ing the field in is enough.
  for (let i = 0; i < nbytes; i++) out += `u8[${pos(plus(start, i))}] |= ${i === 0 ? t : `${t} >>> ${8 * i}`} & 255;\n`;
  return out;
}

/** A bitfield with shift + bits <= 53, with double arithmetic (exact below 2^53). */
function readBitsWide(u8: Uint8Array, at: number, shift: number, bits: number, signed: boolean): number {
  let acc = 0;
  for (let i = Math.ceil((shift + bits) / 8) - 1; i >= 0; i--) acc = acc * 256 + u8[at + i]!;
  const mod = 2 ** bits;
  const v = Math.floor(acc / 2 ** shift) % mod;
  return signed && v >= mod / 2 ? v - mod : v;
}

function writeBitsWide(u8: Uint8Array, at: number, shift: number, bits: number, value: number): void {
  const mod = 2 ** bits;
  let acc = (value < 0 ? value + mod : value) * 2 ** shift;
  for (let i = 0; i < Math.ceil((shift + bits) / 8); i++) {
    const byte = acc % 256;
    u8[at + i]! |= byte;
    acc = (acc - byte) / 256;
  }
}

function readBitsBig(u8: Uint8Array, at: number, shift: number, bits: number, signed: boolean): bigint {
  let acc = 0n;
  for (let i = Math.ceil((shift + bits) / 8) - 1; i >= 0; i--) acc = (acc << 8n) | BigInt(u8[at + i]!);
  const v = BigInt.asUintN(bits, acc >> BigInt(shift));
  return signed ? BigInt.asIntN(bits, v) : v;
}

function writeBitsBig(u8: Uint8Array, at: number, shift: number, bits: number, value: bigint): void {
  let acc = BigInt.asUintN(bits, value) << BigInt(shift);
  for (let i = 0; i < Math.ceil((shift + bits) / 8); i++) {
    u8[at + i]! |= Number(acc & 0xffn);
    acc >>= 8n;
  }
}

/**
 * A struct, union or datasec as a JS object: `entries` laid over `size` bytes. Bytes that no
 * entry always writes (padding, bitfields, unions) are zeroed first.
 */
function objectLayout(entries: readonly Entry[], size: number, owner: string): Layout {
  const keys = new Set<string>();
  for (const k of entries.flatMap(entryKeys)) {
    if (keys.has(k)) throw new TypeError(`no codec for ${owner}: member name '${k}' appears twice once anonymous members are flattened`);
    if (k === '__proto__') throw new TypeError(`no codec for ${owner}: a member named '__proto__' cannot be a JS object key`);
    keys.add(k);
  }
  // Gaps between the bytes fields always write (from their extents: a size in BTF may be huge).
  const spans = entries.flatMap((e) => (e.kind === 'field' ? [[e.rel, e.rel + e.layout.size] as const] : [])).sort((a, b) => a[0] - b[0]);
  const gaps: [number, number][] = [];
  let end = 0;
  for (const [from, to] of spans) {
    if (from > end) gaps.push([end, from]);
    end = Math.max(end, to);
  }
  if (end < size) gaps.push([end, size]);
  const objectFailure: Failure = (label, path, x) => failure(label, path, false, `expected an object for ${owner}, got ${show(x)}`);
  const unknownKeys = (label: string, path: string, x: Record<string, unknown>): void => {
    for (const k in x) {
      if (!keys.has(k) && x[k] !== undefined) {
        throw failure(label, path, false, `unknown field ${JSON.stringify(k)} (${owner} has: ${listNames([...keys])})`);
      }
    }
  };
  return {
    size,
    shape: { kind: 'object', size, what: owner, members: entries.map(entryShape) },
    read: (g, a) => `({ ${entries.map((e) => entryRead(g, e, a)).join(', ')} })`,
    check: (g, x, path) => {
      const used = g.tmp('used');
      const given = g.tmp('given');
      const k = g.tmp('key');
      return `if (typeof ${x} !== 'object' || ${x} === null || Array.isArray(${x}) || ArrayBuffer.isView(${x})) throw ${g.ref(objectFailure)}(L, ${pathSource(path)}, ${x});
let ${used} = 0;
${entries.map((e) => entryCheck(g, e, x, path, used, owner)).join('')}let ${given} = 0;
for (const ${k} in ${x}) ${given}++;
if (${given} !== ${used}) ${g.ref(unknownKeys)}(L, ${pathSource(path)}, ${x});
`;
    },
    write: (g, a, x) => {
      let out = '';
      for (const [from, to] of gaps) {
        if (to - from <= 8) for (let i = from; i < to; i++) out += `u8[${pos(plus(a, i))}] = 0;\n`;
        else out += `u8.fill(0, ${pos(plus(a, from))}, ${pos(plus(a, to))});\n`;
      }
      return `{\n${out}${entries.map((e) => entryWrite(g, e, a, x)).join('')}}\n`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// From BTF
// ---------------------------------------------------------------------------------------------

/** Layouts by type id, per Btf. */
const layoutCache = new WeakMap<Btf, Map<number, Layout>>();
/** Compiled codecs by `${label}\0${typeId}`, per Btf. */
const codecCache = new WeakMap<Btf, Map<string, Codec<unknown>>>();
/** Deeper nesting than this is refused (real C types are nowhere near it). */
const MAX_DEPTH = 64;

/**
 * Builds the codec for a BTF type: the JS shape of a map key, map value or global.
 *
 * | C type | JS value |
 * | --- | --- |
 * | `__u8` .. `__u32`, `int`, ... | `number` |
 * | `__u64`, `__s64`, `__int128`, pointers | `bigint` (encode also takes a safe-integer `number`) |
 * | `_Bool` | `boolean` |
 * | `float`, `double` | `number` |
 * | `char[N]`, `unsigned char[N]`, `__u8[N]` | `Uint8Array` of N bytes (encode also takes a string of at most N UTF-8 bytes, NUL padded) |
 * | other arrays (`__u32[N]`, `signed char[N]`, `struct x[N]`) | `Array` of exactly N elements |
 * | struct | object keyed by member name; anonymous members flattened as in C; bitfields as their type |
 * | union | object with every member decoded; encode takes exactly one member |
 * | enum | `number` (encode also takes an enumerator name); 64-bit enum: `bigint` |
 * | VAR | its type |
 * | DATASEC (fixed up by libbpf) | object keyed by variable name |
 *
 * Typedefs, `const`, `volatile` and type tags are looked through. Each codec is built once per
 * type and label and cached on the `Btf`, so calling this again is cheap.
 *
 * Caveat: a union decodes to all of its members, but encodes from exactly one, so a decoded
 * union (or a struct containing one) must have the other members removed before re-encoding.
 *
 * @param btf Parsed BTF the type belongs to.
 * @param typeId The type, e.g. a map's key or value type id.
 * @param options `label`: the root's name in error messages (default `'value'`).
 * @throws RangeError If `typeId` does not exist.
 * @throws TypeError If the type has no value representation: void, a function, a forward
 *   declaration, a 16-byte float, a datasec whose layout libbpf has not fixed up yet.
 *
 * @example
 * ```ts
 * const key = codecFromBtf(btf, keyTypeId, { label: 'key' });
 * const buf = Buffer.alloc(key.size);
 * key.encode({ saddr: 0x010012c6, daddr: 0x020012c6, sport: 443, dport: 51000, proto: 6 }, buf, 0);
 * ```
 */
export function codecFromBtf(btf: Btf, typeId: number, options: BtfCodecOptions = {}): Codec<unknown> {
  const label = options.label ?? 'value';
  let codecs = codecCache.get(btf);
  if (codecs === undefined) codecCache.set(btf, (codecs = new Map()));
  const cacheKey = `${label}\0${typeId}`;
  let codec = codecs.get(cacheKey);
  if (codec === undefined) {
    codec = compile<unknown, unknown>(layoutFor(btf, typeId, 0), label);
    codecs.set(cacheKey, codec);
  }
  return codec;
}

/** The (cached) layout for a type id. */
function layoutFor(btf: Btf, id: number, depth: number): Layout {
  let layouts = layoutCache.get(btf);
  if (layouts === undefined) layoutCache.set(btf, (layouts = new Map()));
  let layout = layouts.get(id);
  if (layout === undefined) {
    if (depth > MAX_DEPTH) throw new TypeError(`no codec for ${typeName(btf, id)}: types nested more than ${MAX_DEPTH} deep`);
    layout = withTypeId(buildLayout(btf, btf.resolve(id), depth), btf.resolve(id));
    layouts.set(id, layout);
  }
  return layout;
}

/** Names a struct, union, enum or datasec layout's shape with its BTF type id. */
function withTypeId(layout: Layout, t: BtfType): Layout {
  const named = t.kind === 'STRUCT' || t.kind === 'UNION' || t.kind === 'ENUM' || t.kind === 'ENUM64' || t.kind === 'DATASEC';
  if (!named || (layout.shape.kind !== 'object' && layout.shape.kind !== 'int') || layout.shape.typeId === t.id) return layout;
  return { ...layout, shape: { ...layout.shape, typeId: t.id } };
}

/**
 * The JS shape of {@link codecFromBtf}'s codec for a type, as data: the same layout the codec
 * is compiled from (so it is cached with it).
 *
 * @param btf Parsed BTF the type belongs to.
 * @param typeId The type.
 * @throws RangeError If `typeId` does not exist; TypeError if it has no value representation
 *   (as {@link codecFromBtf}).
 * @example
 * ```ts
 * const shape = codecShape(obj.btf!, obj.map('flows').native.info().btfKeyTypeId);
 * if (shape.kind === 'object') console.log(shape.members.map((m) => m.kind === 'union' ? '(union)' : m.key));
 * ```
 */
export function codecShape(btf: Btf, typeId: number): CodecShape {
  return layoutFor(btf, typeId, 0).shape;
}

function buildLayout(btf: Btf, t: BtfType, depth: number): Layout {
  const what = typeName(btf, t.id);
  switch (t.kind) {
    case 'INT':
      if (t.bool && t.size === 1) return boolLayout;
      return intLayout(t.size, t.signed, t.size >= 8);
    case 'PTR':
      return intLayout(8, false, true);
    case 'FLOAT':
      if (t.size === 4 || t.size === 8) return floatLayout(t.size);
      throw new TypeError(`no codec for ${what}: ${t.size}-byte floats are not supported`);
    case 'ENUM':
    case 'ENUM64':
      return intLayout(t.size, t.signed, t.kind === 'ENUM64', enumNames(t), what);
    case 'ARRAY':
      return arrayOf(btf, t, what, depth);
    case 'STRUCT':
      return objectLayout(structEntries(btf, t, 0, what, depth), t.size, what);
    case 'UNION':
      return objectLayout([{ kind: 'group', alternatives: unionAlternatives(btf, t, 0, what, depth), owner: what }], t.size, what);
    case 'VAR':
      return layoutFor(btf, t.typeId, depth + 1);
    case 'DATASEC':
      return datasecLayout(btf, t, depth);
    default:
      throw new TypeError(`no codec for ${describeBtfType(btf, t.id)}: a ${t.kind} has no value representation`);
  }
}

function enumNames(t: BtfEnum | BtfEnum64): Map<string, number | bigint> {
  const names = new Map<string, number | bigint>();
  for (const v of t.values) if (!names.has(v.name)) names.set(v.name, v.value);
  return names;
}

/** Whether an array of this element type is bytes: a 1-byte non-bool int, unsigned or plain `char`. */
function isByteElement(btf: Btf, elemId: number): boolean {
  const e = btf.resolve(elemId);
  return e.kind === 'INT' && e.size === 1 && !e.bool && (!e.signed || e.char || e.name === 'char');
}

function arrayOf(btf: Btf, t: BtfArray, what: string, depth: number): Layout {
  if (isByteElement(btf, t.elemTypeId)) return bytesLayout(t.nelems, what);
  return arrayLayout(layoutFor(btf, t.elemTypeId, depth + 1), t.nelems, what);
}

/** Entries of a struct's members at `rel` bytes from the object, anonymous members flattened. */
function structEntries(btf: Btf, t: BtfStruct, rel: number, owner: string, depth: number): Entry[] {
  if (depth > MAX_DEPTH) throw new TypeError(`no codec for ${owner}: types nested more than ${MAX_DEPTH} deep`);
  const entries: Entry[] = [];
  for (const m of t.members) {
    const inner = btf.resolve(m.typeId);
    if (m.name === '') {
      // An anonymous struct/union's members belong to the parent. Anything else unnamed is padding.
      const at = rel + m.bitOffset / 8;
      if (inner.kind === 'STRUCT') entries.push(...structEntries(btf, inner, at, owner, depth + 1));
      else if (inner.kind === 'UNION') entries.push({ kind: 'group', alternatives: unionAlternatives(btf, inner, at, owner, depth + 1), owner: `the anonymous union in ${owner}` });
      continue;
    }
    entries.push(memberEntry(btf, m, rel, owner, depth));
  }
  return entries;
}

/** A union's members as alternatives; an anonymous union inside contributes its own alternatives. */
function unionAlternatives(btf: Btf, t: BtfStruct, rel: number, owner: string, depth: number): Entry[][] {
  if (depth > MAX_DEPTH) throw new TypeError(`no codec for ${owner}: types nested more than ${MAX_DEPTH} deep`);
  const alternatives: Entry[][] = [];
  for (const m of t.members) {
    const inner = btf.resolve(m.typeId);
    if (m.name === '') {
      const at = rel + m.bitOffset / 8;
      if (inner.kind === 'STRUCT') alternatives.push(structEntries(btf, inner, at, owner, depth + 1));
      else if (inner.kind === 'UNION') alternatives.push(...unionAlternatives(btf, inner, at, owner, depth + 1));
      continue;
    }
    alternatives.push([memberEntry(btf, m, rel, owner, depth)]);
  }
  return alternatives;
}

/** A named member: a plain field or a bitfield. */
function memberEntry(btf: Btf, m: BtfMember, rel: number, owner: string, depth: number): Entry {
  if (m.bitfieldSize === 0) return { kind: 'field', key: m.name, rel: rel + m.bitOffset / 8, layout: layoutFor(btf, m.typeId, depth + 1) };
  const base = btf.resolve(m.typeId);
  const bits = m.bitfieldSize;
  const what = `${typeName(btf, m.typeId)}:${bits}`;
  let spec: BitfieldSpec;
  switch (base.kind) {
    case 'INT': {
      const repr = base.bool ? 'boolean' : base.size >= 8 ? 'bigint' : 'number';
      spec = { repr, signed: base.signed, int: intSpec(bits, base.signed, repr === 'bigint') };
      break;
    }
    case 'ENUM':
    case 'ENUM64': {
      const repr = base.kind === 'ENUM64' ? 'bigint' : 'number';
      spec = { repr, signed: base.signed, int: intSpec(bits, base.signed, repr === 'bigint', enumNames(base), what) };
      break;
    }
    default:
      throw new TypeError(`no codec for ${owner}: bitfield '${m.name}' has kind ${base.kind}`); // parse rejects this
  }
  if (bits > (spec.repr === 'bigint' ? 64 : 32)) {
    throw new TypeError(`no codec for ${owner}: bitfield '${m.name}' of ${bits} bits is too wide`);
  }
  return { kind: 'bits', key: m.name, bitOffset: rel * 8 + m.bitOffset, bits, spec };
}

/** A data section as an object keyed by variable name, at the offsets libbpf fixed up. */
function datasecLayout(btf: Btf, t: BtfDatasec, depth: number): Layout {
  const owner = `SEC("${t.name}")`;
  const entries: Entry[] = [];
  for (const v of t.vars) {
    if (btf.type(v.typeId).kind !== 'VAR') continue; // extern functions (.ksyms) have no bytes here
    const layout = layoutFor(btf, v.typeId, depth + 1);
    if (v.offset + layout.size > t.size) {
      throw new TypeError(
        `no codec for ${owner}: variable '${v.name}' (${layout.size} bytes at offset ${v.offset}) lies outside the ${t.size}-byte section; ` +
          "an ELF object's BTF gets its section layout from libbpf when the object is opened",
      );
    }
    entries.push({ kind: 'field', key: v.name, rel: v.offset, layout });
  }
  return objectLayout(entries, t.size, owner);
}

// ---------------------------------------------------------------------------------------------
// C-like descriptions
// ---------------------------------------------------------------------------------------------

/** Deeper than this, descriptions say `...` (so malformed pointer loops cannot recurse forever). */
const MAX_NAME_DEPTH = 12;
/** Members or enumerators shown before `...`. */
const MAX_LISTED = 8;

/** The C spelling of a type without its body: `struct flow_key`, `__u32 *`, `char[16]`. */
function typeName(btf: Btf, id: number, depth = 0): string {
  if (depth > MAX_NAME_DEPTH) return '...';
  const t = btf.type(id);
  const tagged = (keyword: string): string => `${keyword} ${t.name === '' ? '(anon)' : t.name}`;
  switch (t.kind) {
    case 'VOID':
      return 'void';
    case 'INT':
    case 'FLOAT':
    case 'TYPEDEF':
    case 'FUNC':
    case 'VAR':
    case 'DATASEC':
    case 'DECL_TAG':
      return t.name;
    case 'STRUCT':
      return tagged('struct');
    case 'UNION':
      return tagged('union');
    case 'ENUM':
    case 'ENUM64':
      return tagged('enum');
    case 'FWD':
      return tagged(t.union ? 'union' : 'struct');
    case 'PTR': {
      const target = btf.type(t.typeId);
      if (target.kind === 'FUNC_PROTO') return `${typeName(btf, target.returnTypeId, depth + 1)} (*)(${paramList(btf, target, depth + 1)})`;
      return `${typeName(btf, t.typeId, depth + 1)} *`;
    }
    case 'ARRAY': {
      const { base, dims } = arrayDims(btf, t);
      return `${typeName(btf, base, depth + 1)}${dims}`;
    }
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT': {
      const q = t.kind.toLowerCase();
      const inner = typeName(btf, t.typeId, depth + 1);
      // A qualified pointer is `int *const`, a qualified value `const int`.
      return btf.type(t.typeId).kind === 'PTR' ? `${inner}${q}` : `${q} ${inner}`;
    }
    case 'TYPE_TAG':
      return `${typeName(btf, t.typeId, depth + 1)} __attribute__((btf_type_tag("${t.name}")))`;
    case 'FUNC_PROTO':
      return `${typeName(btf, t.returnTypeId, depth + 1)} (${paramList(btf, t, depth + 1)})`;
  }
}

/** Element type and `[2][3]` of a (multi-dimensional) array. */
function arrayDims(btf: Btf, t: BtfArray): { base: number; dims: string } {
  let dims = '';
  let cur: BtfType = t;
  for (let i = 0; cur.kind === 'ARRAY' && i < MAX_NAME_DEPTH; i++) {
    dims += `[${cur.nelems}]`;
    cur = btf.type(cur.elemTypeId);
  }
  return { base: cur.id, dims };
}

/** `type name` as a C declaration (`__u8 tag[4]`, `__u32 *p`). */
function declaration(btf: Btf, typeId: number, name: string, depth: number): string {
  const t = btf.type(typeId);
  if (t.kind === 'ARRAY') {
    const { base, dims } = arrayDims(btf, t);
    return `${typeName(btf, base, depth + 1)} ${name}${dims}`;
  }
  const type = typeName(btf, typeId, depth + 1);
  if (name === '') return type;
  return type.endsWith('*') ? `${type}${name}` : `${type} ${name}`;
}

function paramList(btf: Btf, t: Extract<BtfType, { kind: 'FUNC_PROTO' }>, depth: number): string {
  const params = t.params.map((p) => declaration(btf, p.typeId, p.name, depth));
  if (t.variadic) params.push('...');
  return params.length === 0 ? 'void' : params.join(', ');
}

function memberList(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED);
  if (items.length > MAX_LISTED) shown.push('...');
  return shown.length === 0 ? '{ }' : `{ ${shown.join(' ')} }`;
}

/** Members of a struct/union as declarations; anonymous struct/union members shown inline. */
function memberDeclarations(btf: Btf, t: BtfStruct, nested: boolean): string[] {
  return t.members.map((m) => {
    const inner = btf.resolve(m.typeId);
    if (m.name === '' && (inner.kind === 'STRUCT' || inner.kind === 'UNION') && inner.name === '') {
      const keyword = inner.kind.toLowerCase();
      return nested ? `${keyword} { ... };` : `${keyword} ${memberList(memberDeclarations(btf, inner, true))};`;
    }
    const bits = m.bitfieldSize !== 0 ? `:${m.bitfieldSize}` : '';
    return `${declaration(btf, m.typeId, m.name, 0)}${bits};`;
  });
}

/**
 * A short, C-like description of a BTF type for messages: the body of a struct, union, enum
 * or datasec (first few members), the signature of a function, the spelling of anything else.
 *
 * @param btf Parsed BTF.
 * @param id Type id.
 * @returns E.g. `struct flow_key { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; __u8 proto; }`,
 *   `flow_key_t = struct flow_key { ... }`, `int xdp_prog(struct xdp_md *ctx)`.
 * @throws RangeError If `id` does not exist.
 */
export function describeBtfType(btf: Btf, id: number): string {
  const t = btf.type(id);
  switch (t.kind) {
    case 'STRUCT':
    case 'UNION':
      return `${typeName(btf, id)} ${memberList(memberDeclarations(btf, t, false))}`;
    case 'ENUM':
    case 'ENUM64':
      return `${typeName(btf, id)} ${memberList(t.values.map((v) => `${v.name} = ${v.value},`))}`;
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPE_TAG': {
      const resolved = btf.resolve(id);
      const body = resolved.kind === 'STRUCT' || resolved.kind === 'UNION' || resolved.kind === 'ENUM' || resolved.kind === 'ENUM64';
      return `${typeName(btf, id)} = ${body ? describeBtfType(btf, resolved.id) : typeName(btf, resolved.id)}`;
    }
    case 'FUNC': {
      const proto = btf.type(t.typeId);
      const linkage = t.linkage === 'global' ? '' : `${t.linkage} `;
      if (proto.kind !== 'FUNC_PROTO') return `${linkage}${t.name}(?)`;
      return `${linkage}${declaration(btf, proto.returnTypeId, t.name, 0)}(${paramList(btf, proto, 0)})`;
    }
    case 'VAR':
      return `${t.linkage === 'global' ? '' : `${t.linkage} `}${declaration(btf, t.typeId, t.name, 0)}`;
    case 'DATASEC':
      return `SEC("${t.name}") ${memberList(
        t.vars.map((v) => {
          const inner = btf.type(v.typeId);
          return `${inner.kind === 'VAR' ? declaration(btf, inner.typeId, v.name, 0) : v.name};`;
        }),
      )}`;
    case 'FWD':
      return `${typeName(btf, id)} (forward declaration)`;
    case 'DECL_TAG': {
      const target = btf.type(t.typeId);
      const component = t.componentIdx < 0 ? '' : target.kind === 'STRUCT' || target.kind === 'UNION' ? ` member ${t.componentIdx}` : ` parameter ${t.componentIdx}`;
      return `__attribute__((btf_decl_tag("${t.name}"))) on ${typeName(btf, t.typeId)}${component}`;
    }
    default:
      return typeName(btf, id);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitive codecs
// ---------------------------------------------------------------------------------------------

/** Unsigned 8-bit integer. */
export const u8: Codec<number> = compile(intLayout(1, false, false), 'value');
/** Unsigned 16-bit integer, little endian. */
export const u16: Codec<number> = compile(intLayout(2, false, false), 'value');
/**
 * Unsigned 32-bit integer, little endian.
 *
 * @example
 * ```ts
 * const buf = Buffer.alloc(4);
 * u32.encode(7, buf, 0); // buf = 07 00 00 00
 * u32.decode(buf, 0);    // 7
 * ```
 */
export const u32: Codec<number> = compile(intLayout(4, false, false), 'value');
/** Unsigned 64-bit integer, little endian: decodes to bigint, encodes a bigint or a safe-integer number. */
export const u64: Codec<bigint, bigint | number> = compile(intLayout(8, false, true), 'value');
/** Signed 8-bit integer. */
export const i8: Codec<number> = compile(intLayout(1, true, false), 'value');
/** Signed 16-bit integer, little endian. */
export const i16: Codec<number> = compile(intLayout(2, true, false), 'value');
/** Signed 32-bit integer, little endian. */
export const i32: Codec<number> = compile(intLayout(4, true, false), 'value');
/** Signed 64-bit integer, little endian: decodes to bigint, encodes a bigint or a safe-integer number. */
export const i64: Codec<bigint, bigint | number> = compile(intLayout(8, true, true), 'value');
/** C `bool`: one byte, 0 or 1; decodes any non-zero byte as `true`. */
export const bool: Codec<boolean> = compile(boolLayout, 'value');
/** IEEE 754 single precision, little endian. */
export const f32: Codec<number> = compile(floatLayout(4), 'value');
/** IEEE 754 double precision, little endian. */
export const f64: Codec<number> = compile(floatLayout(8), 'value');

const bytesCodecs = new Map<number, Codec<Uint8Array>>();

/**
 * Exactly `n` raw bytes. Decodes to a new Uint8Array; encodes a Uint8Array (or Buffer) of
 * exactly `n` bytes.
 *
 * @throws RangeError If `n` is not a non-negative integer.
 * @example `const mac = bytes(6);`
 */
export function bytes(n: number): Codec<Uint8Array> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bytes: size must be a non-negative integer, got ${show(n)}`);
  let codec = bytesCodecs.get(n);
  if (codec === undefined) bytesCodecs.set(n, (codec = compile(bytesLayout(n), 'value')));
  return codec;
}

/** Parses dotted-quad IPv4 into `out[at .. at + 4)`; returns false if `s` is not one. */
function parseIpv4(s: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e; // a virtual '.' ends the last part
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero: octal to inet_aton, so refused
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

function formatIpv4(u8: Uint8Array, at: number): string {
  return `${u8[at]}.${u8[at + 1]}.${u8[at + 2]}.${u8[at + 3]}`;
}

const ipv4Scratch = new Uint8Array(4);

function isIpv4(s: string): boolean {
  return parseIpv4(s, ipv4Scratch, 0);
}

const ipv4Failure: Failure = (label, path, x) =>
  typeof x === 'string'
    ? failure(label, path, true, `${show(x)} is not an IPv4 address (expected dotted decimal like '198.18.0.1')`)
    : failure(label, path, false, `expected an IPv4 address string like '198.18.0.1', got ${show(x)}`);

const ipv4Layout: Layout = {
  size: 4,
  shape: { kind: 'address', family: 'ipv4' },
  read: (g, a) => `${g.ref(formatIpv4)}(u8, ${pos(a)})`,
  check: (g, x, path) => `if (typeof ${x} !== 'string' || !${g.ref(isIpv4)}(${x})) throw ${g.ref(ipv4Failure)}(L, ${pathSource(path)}, ${x});\n`,
  write: (g, a, x) => `${g.ref(parseIpv4)}(${x}, u8, ${pos(a)});\n`,
};

/** Parses IPv6 text into `out[at .. at + 16)`; returns false if `s` is not an IPv6 address. */
function parseIpv6(s: string, out: Uint8Array, at: number): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return false;
  const groups = (text: string): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    const parts = text.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4(p, v4, 0)) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(gap === -1 ? s : s.slice(0, gap));
  const tail = groups(gap === -1 ? '' : s.slice(gap + 2));
  if (head === undefined || tail === undefined) return false;
  // An embedded IPv4 part may only end the address.
  if (gap !== -1 && head.length > 0 && s.slice(0, gap).includes('.')) return false;
  if (gap === -1 ? head.length !== 8 : head.length + tail.length > 7) return false;
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[at + 2 * i] = all[i]! >>> 8;
    out[at + 2 * i + 1] = all[i]! & 0xff;
  }
  return true;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of 2+ zero groups as `::`. */
function formatIpv6(u8: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((u8[at + 2 * i]! << 8) | u8[at + 2 * i + 1]!);
  // IPv4-mapped (::ffff:a.b.c.d) keeps its IPv4 part dotted, as inet_ntop writes it.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(u8, at + 12)}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  return best === -1 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

const ipv6Scratch = new Uint8Array(16);

function isIpv6(s: string): boolean {
  return parseIpv6(s, ipv6Scratch, 0);
}

const ipv6Failure: Failure = (label, path, x) =>
  typeof x === 'string'
    ? failure(label, path, true, `${show(x)} is not an IPv6 address (expected text like 'fd00::1', without a zone)`)
    : failure(label, path, false, `expected an IPv6 address string like 'fd00::1', got ${show(x)}`);

const ipv6Layout: Layout = {
  size: 16,
  shape: { kind: 'address', family: 'ipv6' },
  read: (g, a) => `${g.ref(formatIpv6)}(u8, ${pos(a)})`,
  check: (g, x, path) => `if (typeof ${x} !== 'string' || !${g.ref(isIpv6)}(${x})) throw ${g.ref(ipv6Failure)}(L, ${pathSource(path)}, ${x});\n`,
  write: (g, a, x) => `${g.ref(parseIpv6)}(${x}, u8, ${pos(a)});\n`,
};

/**
 * An IPv4 address, 4 bytes in network order, as dotted decimal text (`'198.18.0.1'`).
 * Encode refuses anything else, including leading zeros (`'010.0.0.1'`).
 *
 * @example `ipv4.encode('198.18.0.1', buf, 0); // buf = c6 12 00 01`
 */
export const ipv4: Codec<string> = compile(ipv4Layout, 'value');

/**
 * An IPv6 address, 16 bytes in network order, as text. Encode takes any standard form
 * (`'fd00::1'`, `'::ffff:198.18.0.1'`, full or upper case) without a zone; decode gives the
 * RFC 5952 form (lower case, longest zero run as `::`, IPv4-mapped in dotted form).
 */
export const ipv6: Codec<string> = compile(ipv6Layout, 'value');

// ---------------------------------------------------------------------------------------------
// Struct combinator: records whose type is not in the object's BTF
// ---------------------------------------------------------------------------------------------

/** C alignment of the built-in codecs; codecs not listed here align to 1 unless they say otherwise. */
const builtinAlign = new Map<Codec<unknown, never>, number>([
  [u8, 1], [i8, 1], [bool, 1], [u16, 2], [i16, 2], [u32, 4], [i32, 4], [f32, 4],
  [u64, 8], [i64, 8], [f64, 8], [ipv4, 1], [ipv6, 4],
] as Array<[Codec<unknown, never>, number]>);

/** A codec that knows its C alignment (what {@link struct} uses to place a field). */
export interface AlignedCodec<T, TIn = T> extends Codec<T, TIn> {
  /** The field's alignment in bytes (a power of two). */
  readonly align: number;
}

/** The alignment {@link struct} gives a field: its own `align`, the built-in's, else 1. */
function alignOf(codec: Codec<unknown, never>): number {
  const own = (codec as Partial<AlignedCodec<unknown>>).align;
  if (typeof own === 'number') return own;
  return builtinAlign.get(codec) ?? 1;
}

/** The value type a {@link struct} codec decodes to. */
export type StructValue<F extends Record<string, Codec<unknown, never>>> = { [K in keyof F]: F[K] extends Codec<infer T, never> ? T : never };
/** The value type a {@link struct} codec encodes from. */
export type StructInput<F extends Record<string, Codec<unknown, never>>> = { [K in keyof F]: F[K] extends Codec<unknown, infer TIn> ? TIn : never };

/** Options of {@link struct}. */
export interface StructOptions {
  /** No padding: fields follow each other byte by byte (`__attribute__((packed))`). */
  packed?: boolean;
  /** Round the size up to this alignment (`__attribute__((aligned(n)))`); default: the largest field alignment. */
  align?: number;
}

/**
 * A codec for a C struct from codecs of its fields, in declaration order, with C's layout: each
 * field at the next multiple of its alignment, the size rounded up to the struct's alignment
 * (or byte by byte with `packed`). For ring-buffer and perf-buffer records, or map values, whose
 * type is not in the object's BTF (with BTF, {@link codecFromBtf} does this for you).
 *
 * Field alignments: the built-in codecs align as their C types (`u32` 4, `u64` 8, {@link bytes}
 * 1); a nested `struct` aligns as its widest field; a user codec can say `align`, else 1.
 * Encoding checks the whole value first and writes nothing when a field is wrong (the message
 * names the field: `value.comm: ...`); padding is written as zeros.
 *
 * @throws TypeError If `fields` is not an object of codecs.
 * @throws RangeError For an alignment that is not a power of two.
 * @example
 * ```ts
 * // struct event { __u32 pid; char comm[16]; __u64 ts; };  (32 bytes: 4 of padding before ts)
 * const event = struct({ pid: u32, comm: bytes(16), ts: u64 });
 * for await (const e of obj.ringbuf('events', { codec: event })) console.log(e.pid, e.ts);
 * ```
 */
export function struct<F extends Record<string, Codec<unknown, never>>>(fields: F, options: StructOptions = {}): AlignedCodec<StructValue<F>, StructInput<F>> {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new TypeError(`struct: fields must be an object of codecs, got ${show(fields)}`);
  const packed = options.packed === true;
  const placed: Array<{ name: string; codec: Codec<unknown, never>; offset: number }> = [];
  let offset = 0;
  let maxAlign = 1;
  for (const [name, codec] of Object.entries(fields)) {
    if (typeof codec !== 'object' || codec === null || typeof codec.size !== 'number' || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
      throw new TypeError(`struct: field '${name}' must be a codec (size, encode, decode), got ${show(codec)}`);
    }
    const align = packed ? 1 : alignOf(codec);
    if (!Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0) throw new RangeError(`struct: field '${name}' has alignment ${align}, not a power of two`);
    offset = Math.ceil(offset / align) * align;
    placed.push({ name, codec, offset });
    offset += codec.size;
    maxAlign = Math.max(maxAlign, align);
  }
  const structAlign = options.align ?? (packed ? 1 : maxAlign);
  if (!Number.isInteger(structAlign) || structAlign < 1 || (structAlign & (structAlign - 1)) !== 0) {
    throw new RangeError(`struct: align must be a power of two, got ${show(options.align)}`);
  }
  const size = Math.ceil(offset / structAlign) * structAlign;
  const rename = (e: unknown, name: string): unknown => {
    if (e instanceof Error) e.message = e.message.replace(/^value\b/, `value.${name}`);
    return e;
  };
  return {
    size,
    align: structAlign,
    encode(value, buf, at) {
      if (typeof value !== 'object' || value === null) throw new TypeError(`value: expected an object with fields ${placed.map((p) => p.name).join(', ')}, got ${show(value)}`);
      checkBuffer(buf, at, size, 'value', 'encode');
      // Into a scratch copy first, so that a wrong field leaves `buf` untouched.
      const scratch = new Uint8Array(size);
      for (const p of placed) {
        const v = (value as Record<string, unknown>)[p.name];
        if (v === undefined) throw new TypeError(`value.${p.name}: missing`);
        try {
          (p.codec.encode as (v: unknown, b: Uint8Array, o: number) => void)(v, scratch, p.offset);
        } catch (e) {
          throw rename(e, p.name);
        }
      }
      buf.set(scratch, at);
    },
    decode(buf, at) {
      checkBuffer(buf, at, size, 'value', 'decode');
      const out: Record<string, unknown> = {};
      for (const p of placed) out[p.name] = p.codec.decode(buf, at + p.offset);
      return out as StructValue<F>;
    },
  };
}
