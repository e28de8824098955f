// parseCidr: CIDR text to family, prefix length and canonical form (host bits cleared).
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../lib/map/cidr';

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
