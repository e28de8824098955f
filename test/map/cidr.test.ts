// parseCidr: CIDR text to family, prefix length and canonical form (host bits cleared).
// @module-tag pure
import { describe, expect, it } from 'vitest';
import { cidrKey, parseCidr } from '../../lib/map/cidr';

describe('parseCidr', () => {
  it('canonicalises IPv4 and IPv6 prefixes, clearing host bits', () => {
    expect(parseCidr('203.0.113.7/24')).toEqual({ family: 4, prefixlen: 24, address: '203.0.113.0', cidr: '203.0.113.0/24' });
    expect(parseCidr('198.18.0.2')).toMatchObject({ prefixlen: 32, cidr: '198.18.0.2/32' });
    expect(parseCidr('10.255.255.255/9').cidr).toBe('10.128.0.0/9');
    expect(parseCidr('0.0.0.0/0').cidr).toBe('0.0.0.0/0');
    expect(parseCidr('2001:DB8:0:0::1/32')).toEqual({ family: 6, prefixlen: 32, address: '2001:db8::', cidr: '2001:db8::/32' });
    expect(parseCidr('fd00::1').cidr).toBe('fd00::1/128');
    expect(parseCidr('fd00:ffff::/17').cidr).toBe('fd00:8000::/17');
  });

  it('refuses what is not a prefix, naming the expected form', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4/', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/ 8', 'fd00::/129', 'fd00::1%eth0', 'example.com/8', '01.2.3.4/8']) {
      expect(() => parseCidr(bad), bad).toThrow(RangeError);
    }
    expect(() => parseCidr(7 as unknown as string)).toThrow(TypeError);
  });
});

describe('parseCidr bounds and messages', () => {
  it('takes the full length and zero with a slash, and names the range in its refusal', () => {
    expect(parseCidr('198.18.0.2/32').cidr).toBe('198.18.0.2/32');
    expect(parseCidr('fd00::1/128').cidr).toBe('fd00::1/128');
    expect(parseCidr('fd00::1/0').cidr).toBe('::/0');
    for (const len of [' 8', '8 ', '+8', '1e1', '0x8']) expect(() => parseCidr(`1.2.3.4/${len}`), len).toThrow(RangeError);
    expect(() => parseCidr('1.2.3.4/33')).toThrow("prefix length in '1.2.3.4/33' must be an integer in [0, 32]");
    expect(() => parseCidr('fd00::/129')).toThrow("prefix length in 'fd00::/129' must be an integer in [0, 128]");
    expect(() => parseCidr('1.2.3')).toThrow(/^'1\.2\.3' is not a CIDR prefix: expected an IPv4 or IPv6 address with an optional \/length/);
    expect(() => parseCidr(7 as unknown as string)).toThrow("cidr must be a string like '203.0.113.0/24' or '2001:db8::/32', got number");
  });
});

describe('cidrKey', () => {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

  it('encodes the prefix length (little-endian u32) then the address in network order', () => {
    const v4 = cidrKey('ipv4');
    expect(v4.size).toBe(8);
    const buf = new Uint8Array(10);
    v4.encode('203.0.113.7/24', buf, 1);
    expect(hex(buf)).toBe('00' + '18000000' + 'cb007107' + '00'); // host bits kept as given
    expect(v4.decode(buf, 1)).toBe('203.0.113.7/24');
    const full = new Uint8Array(8);
    v4.encode('198.18.0.1', full, 0); // no /len: a full-length prefix
    expect(hex(full)).toBe('20000000' + 'c6120001');
    expect(v4.decode(full, 0)).toBe('198.18.0.1/32');
    v4.encode('0.0.0.0/0', full, 0);
    expect(hex(full)).toBe('00000000' + '00000000');
    v4.encode('10.0.0.0/32', full, 0);
    expect(v4.decode(full, 0)).toBe('10.0.0.0/32');

    const v6 = cidrKey('ipv6');
    expect(v6.size).toBe(20);
    const b6 = new Uint8Array(20);
    v6.encode('fd00::1/8', b6, 0);
    expect(hex(b6)).toBe('08000000' + 'fd000000000000000000000000000001');
    expect(v6.decode(b6, 0)).toBe('fd00::1/8');
    v6.encode('2001:db8::', b6, 0);
    expect(v6.decode(b6, 0)).toBe('2001:db8::/128');
    v6.encode('fd00::/128', b6, 0);
    expect(v6.decode(b6, 0)).toBe('fd00::/128');
  });

  it('refuses bad keys with typed errors, writing nothing', () => {
    const v4 = cidrKey('ipv4');
    const buf = new Uint8Array(8).fill(0xaa);
    expect(() => v4.encode('1.2.3.4/33', buf, 0)).toThrow("key: prefix length in '1.2.3.4/33' must be an integer in [0, 32]");
    expect(() => v4.encode('1.2.3.4/x', buf, 0)).toThrow(RangeError);
    expect(() => v4.encode('1.2.3.4/-1', buf, 0)).toThrow(RangeError);
    for (const len of [' 8', '8 ', '+8', '1e1', '0x8']) expect(() => v4.encode(`1.2.3.4/${len}`, buf, 0), len).toThrow(RangeError);
    expect(() => v4.encode('1.2.3/8', buf, 0)).toThrow(RangeError);
    expect(() => v4.encode(5 as unknown as string, buf, 0)).toThrow("key: expected a CIDR string like '203.0.113.0/24', got number");
    expect(() => cidrKey('ipv6').encode(5 as unknown as string, new Uint8Array(20), 0)).toThrow("key: expected a CIDR string like 'fd00::/8', got number");
    expect(() => cidrKey('ipv6').encode('fd00::/129', new Uint8Array(20), 0)).toThrow('must be an integer in [0, 128]');
    expect(() => v4.encode('1.2.3.4/8', buf, 1)).toThrow('key: 8 bytes at offset 1 do not fit in a buffer of 8 bytes');
    expect(() => v4.encode('1.2.3.4/8', buf, -1)).toThrow(RangeError);
    expect(() => v4.encode('1.2.3.4/8', buf, 0.5)).toThrow(RangeError);
    expect(hex(buf)).toBe('aa'.repeat(8));
    v4.encode('1.2.3.4/8', buf, 0); // exactly fits
    expect(v4.decode(buf, 0)).toBe('1.2.3.4/8');
    expect(() => cidrKey('ipv5' as 'ipv4')).toThrow("family must be 'ipv4' or 'ipv6', got ipv5");
  });
});
