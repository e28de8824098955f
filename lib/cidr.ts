/**
 * CIDR prefixes as LPM trie keys: `'203.0.113.0/24'` ⇄ `struct { __u32 prefixlen; __u8 addr[4]; }`.
 *
 * @module
 */
import { ipv4, ipv6, type Codec } from './codec';

/**
 * The key codec of an LPM trie (`BPF_MAP_TYPE_LPM_TRIE`) whose key is a prefix length followed
 * by an address in network order: 8 bytes for IPv4, 20 for IPv6. Encodes `'203.0.113.0/24'`
 * (or an address without `/len`, meaning a full-length prefix, handy for lookups); decodes to
 * `'203.0.113.0/24'`. Host bits past the prefix are encoded as they are given (the kernel
 * ignores them).
 *
 * Untyped LPM maps with 8- or 20-byte keys use this codec automatically.
 *
 * Minimum kernel: 4.11 (LPM tries).
 *
 * @param family `'ipv4'` or `'ipv6'`.
 * @throws RangeError (from encode) for text that is not an address of the family, or a prefix
 *   length out of range; TypeError for a value that is not a string.
 * @example
 * ```ts
 * const blocked = obj.map('blocked').typed({ key: cidrKey('ipv4'), value: u32 });
 * blocked.set('203.0.113.0/24', 1);
 * blocked.get('203.0.113.7');   // 1: the longest matching prefix
 * ```
 */
export function cidrKey(family: 'ipv4' | 'ipv6'): Codec<string> {
  if (family !== 'ipv4' && family !== 'ipv6') throw new RangeError(`family must be 'ipv4' or 'ipv6', got ${String(family)}`);
  const addr = family === 'ipv4' ? ipv4 : ipv6;
  const bits = addr.size * 8;
  const size = 4 + addr.size;
  return {
    size,
    encode(value: string, buf: Uint8Array, offset: number): void {
      if (typeof value !== 'string') throw new TypeError(`key: expected a CIDR string like '${family === 'ipv4' ? '203.0.113.0/24' : 'fd00::/8'}', got ${typeof value}`);
      const slash = value.indexOf('/');
      let len = bits;
      if (slash !== -1) {
        const text = value.slice(slash + 1);
        len = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
        if (!(len >= 0 && len <= bits)) throw new RangeError(`key: prefix length in '${value}' must be an integer in [0, ${bits}]`);
      }
      if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.length) {
        throw new RangeError(`key: ${size} bytes at offset ${offset} do not fit in a buffer of ${buf.length} bytes`);
      }
      // The address codec validates first and writes nothing on failure.
      addr.encode(slash === -1 ? value : value.slice(0, slash), buf, offset + 4);
      new DataView(buf.buffer, buf.byteOffset, buf.length).setUint32(offset, len, true);
    },
    decode(buf: Uint8Array, offset: number): string {
      const len = new DataView(buf.buffer, buf.byteOffset, buf.length).getUint32(offset, true);
      return `${addr.decode(buf, offset + 4)}/${len}`;
    },
  };
}
