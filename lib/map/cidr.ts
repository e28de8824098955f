/**
 * CIDR prefixes as LPM trie keys: `'203.0.113.0/24'` ⇄ `struct { __u32 prefixlen; __u8 addr[4]; }`.
 *
 * @module
 */
import { ipv4, ipv6, type Codec } from '../btf/codec';

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

/** A parsed CIDR prefix: see {@link parseCidr}. */
export interface Cidr {
  /** 4 or 6. */
  family: 4 | 6;
  /** The prefix length: 0..32 for IPv4, 0..128 for IPv6. */
  prefixlen: number;
  /** The network address (host bits cleared), as text. */
  address: string;
  /** The canonical form, `address/prefixlen`: `'203.0.113.0/24'`, `'2001:db8::/32'`. */
  cidr: string;
}

/**
 * Parses `'203.0.113.0/24'`, `'2001:db8::/32'` or a bare address (a full-length prefix) into
 * its family, prefix length and canonical text, with the host bits cleared
 * (`'203.0.113.7/24'` → `'203.0.113.0/24'`), so two spellings of one prefix compare equal.
 *
 * @throws RangeError for text that is not an IPv4 or IPv6 address with an optional `/len` in range
 * @throws TypeError for a value that is not a string
 * @example
 * ```ts
 * parseCidr('2001:DB8::1/32');   // { family: 6, prefixlen: 32, address: '2001:db8::', cidr: '2001:db8::/32' }
 * ```
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw new TypeError(`cidr must be a string like '203.0.113.0/24' or '2001:db8::/32', got ${typeof text}`);
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const family: 4 | 6 = addrText.includes(':') ? 6 : 4;
  const codec = family === 4 ? ipv4 : ipv6;
  const bits = codec.size * 8;
  const bytes = new Uint8Array(codec.size);
  try {
    codec.encode(addrText, bytes, 0);
  } catch {
    throw new RangeError(`'${text}' is not a CIDR prefix: expected an IPv4 or IPv6 address with an optional /length, like '203.0.113.0/24' or '2001:db8::/32'`);
  }
  let prefixlen = bits;
  if (slash !== -1) {
    const len = text.slice(slash + 1);
    prefixlen = /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!(prefixlen >= 0 && prefixlen <= bits)) throw new RangeError(`prefix length in '${text}' must be an integer in [0, ${bits}]`);
  }
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixlen - 8 * i));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  const address = codec.decode(bytes, 0);
  return { family, prefixlen, address, cidr: `${address}/${prefixlen}` };
}
