/**
 * The codecs a {@link BpfMap} uses when none are given: integers by size, raw bytes, program
 * and map fds, CIDR keys, per-CPU arrays. See {@link BpfMap.typed} for codecs from BTF.
 *
 * @module
 */
import type { Codec } from '../btf/codec';

/** What an untyped map's key or value can be given as. */
export type RawInput = Uint8Array | number | bigint;
/** What an untyped map's key or value comes back as: `number` up to 4 bytes, `bigint` for 8, else a Buffer. */
export type RawOutput = number | bigint | Buffer;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `a ${Buffer.isBuffer(v) ? 'Buffer' : 'Uint8Array'} of ${v.length} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length} elements`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function fits(label: string, buf: Uint8Array, offset: number, size: number): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${label}: expected a Buffer or Uint8Array to work in, got ${describe(buf)}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.length) {
    throw new RangeError(`${label}: ${size} bytes at offset ${offset} do not fit in a buffer of ${buf.length} bytes`);
  }
}

const MAX = [0, 0xff, 0xffff, 0, 0xffffffff];

/**
 * The codec of an untyped key or value of `size` bytes: a Buffer/Uint8Array of exactly `size`
 * bytes always works; sizes 1, 2 and 4 also take a non-negative integer `number` (and decode to
 * one), size 8 a `bigint` or safe-integer `number` (and decodes to `bigint`). Little endian.
 *
 * @param size Bytes of the key or value.
 * @param label Name in error messages (`'key'`, `'value'`).
 */
export function rawCodec(size: number, label: string): Codec<RawOutput, RawInput> {
  const intSize = size === 1 || size === 2 || size === 4 || size === 8 ? size : 0;
  const expected = intSize === 8 ? `a bigint, a safe integer or a Buffer of 8 bytes` : intSize ? `an integer in [0, ${MAX[intSize]}] or a Buffer of ${size} bytes` : `a Buffer or Uint8Array of ${size} bytes`;
  const fail = (v: unknown): Error => {
    const bad = `${label}: expected ${expected}, got ${describe(v)}`;
    return v instanceof Uint8Array || (typeof v === 'number' && intSize) || (typeof v === 'bigint' && intSize === 8) ? new RangeError(bad) : new TypeError(bad);
  };
  return {
    size,
    encode(v: RawInput, buf: Uint8Array, offset: number): void {
      fits(label, buf, offset, size);
      if (v instanceof Uint8Array) {
        if (v.length !== size) throw fail(v);
        buf.set(v, offset);
        return;
      }
      const b = buf as Buffer;
      if (intSize === 8) {
        if (typeof v === 'bigint') {
          if (v < 0n || v > 0xffffffffffffffffn) throw fail(v);
          Buffer.prototype.writeBigUInt64LE.call(b, v, offset);
          return;
        }
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(v);
        Buffer.prototype.writeBigUInt64LE.call(b, BigInt(v), offset);
        return;
      }
      if (typeof v !== 'number' || intSize === 0 || !Number.isInteger(v) || v < 0 || v > MAX[intSize]!) throw fail(v);
      if (intSize === 4) Buffer.prototype.writeUInt32LE.call(b, v, offset);
      else if (intSize === 2) Buffer.prototype.writeUInt16LE.call(b, v, offset);
      else buf[offset] = v;
    },
    decode(buf: Uint8Array, offset: number): RawOutput {
      fits(label, buf, offset, size);
      const b = buf as Buffer;
      switch (intSize) {
        case 4:
          return Buffer.prototype.readUInt32LE.call(b, offset);
        case 8:
          return Buffer.prototype.readBigUInt64LE.call(b, offset);
        case 2:
          return Buffer.prototype.readUInt16LE.call(b, offset);
        case 1:
          return buf[offset]!;
        default:
          return Buffer.from(buf.subarray(offset, offset + size));
      }
    },
  };
}

/** Something with a file descriptor: a {@link BpfProgram} or a {@link BpfMap}. */
export interface HasFd {
  readonly fd: number;
}

/**
 * The value codec of prog arrays and maps of maps: encodes a program or map (anything with an
 * `fd`) or a plain fd number; decodes to the id the kernel reports for the stored object.
 */
export function fdValueCodec(label: string, what: string): Codec<number, HasFd | number> {
  return {
    size: 4,
    encode(v: HasFd | number, buf: Uint8Array, offset: number): void {
      fits(label, buf, offset, 4);
      const fd = typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'fd' in v ? v.fd : NaN;
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
        throw new TypeError(`${label}: expected ${what} or its fd, got ${describe(v)}`);
      }
      Buffer.prototype.writeUInt32LE.call(buf as Buffer, fd, offset);
    },
    decode(buf: Uint8Array, offset: number): number {
      fits(label, buf, offset, 4);
      return Buffer.prototype.readUInt32LE.call(buf as Buffer, offset);
    },
  };
}

/**
 * The value codec of a per-CPU map: one `inner` value per possible CPU, each in an 8-byte
 * aligned slot. Encodes an array of exactly `ncpus` values; decodes to one.
 */
export function perCpuCodec<T, TIn>(inner: Codec<T, TIn>, ncpus: number, label: string): Codec<T[], readonly TIn[]> {
  const stride = (inner.size + 7) & ~7;
  const size = stride * ncpus;
  return {
    size,
    encode(v: readonly TIn[], buf: Uint8Array, offset: number): void {
      if (!Array.isArray(v)) throw new TypeError(`${label}: a per-CPU map takes an array of one value per possible CPU (${ncpus}), got ${describe(v)}`);
      if (v.length !== ncpus) throw new RangeError(`${label}: expected one value per possible CPU (${ncpus}), got ${v.length}`);
      fits(label, buf, offset, size);
      // Encode into a scratch area first, so a bad element leaves `buf` untouched.
      const tmp = new Uint8Array(size);
      for (let i = 0; i < ncpus; i++) inner.encode(v[i]!, tmp, i * stride);
      buf.set(tmp, offset);
    },
    decode(buf: Uint8Array, offset: number): T[] {
      fits(label, buf, offset, size);
      const out = new Array<T>(ncpus);
      for (let i = 0; i < ncpus; i++) out[i] = inner.decode(buf, offset + i * stride);
      return out;
    },
  };
}

/**
 * The sum of a per-CPU value: numbers add up to a number, bigints to a bigint.
 *
 * @throws TypeError for an empty array or elements that are not all numbers or all bigints.
 * @example
 * ```ts
 * const perCpu = obj.map('pkt_count').get(0); // [3n, 0n, 7n, 1n]
 * sumPerCpu(perCpu);                          // 11n
 * ```
 */
export function sumPerCpu<T extends number | bigint>(values: readonly T[]): T {
  if (!Array.isArray(values) || values.length === 0) throw new TypeError('sumPerCpu: expected a non-empty array of per-CPU values');
  if (typeof values[0] === 'bigint') {
    let sum = 0n;
    for (const v of values) {
      if (typeof v !== 'bigint') throw new TypeError('sumPerCpu: the values mix bigints and other types');
      sum += v;
    }
    return sum as T;
  }
  let sum = 0;
  for (const v of values) {
    if (typeof v !== 'number') throw new TypeError('sumPerCpu: expected numbers or bigints');
    sum += v;
  }
  return sum as T;
}
