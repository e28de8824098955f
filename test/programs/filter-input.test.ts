// XdpFilter's input edges: a full drop list (ENOSPC, as documented), a tag with NUL (refused,
// not cut), and an IPv4-mapped IPv6 prefix (listed as the IPv4 prefix it maps, so it matches
// IPv4 traffic). On crafted frames (testRun): no interface needed.
import { afterEach, expect, it } from 'vitest';
import { BpfError } from '../../lib/index';
import { XdpFilter } from '../../lib/programs/index';
import { ETH_P_IP, IPPROTO, eth, ipv4, pad, udp as udpHdr } from '../support/frames';
import { describeBpf } from '../support/helpers';

const XDP_DROP = 1;
const XDP_PASS = 2;

describeBpf('XdpFilter input edges', () => {
  let filter: XdpFilter | undefined;
  afterEach(async () => filter?.close());
  const v4 = (src: string) => pad(eth(ETH_P_IP, ipv4({ src, dst: '198.18.0.1', proto: IPPROTO.UDP }, udpHdr(1000, 53))));

  it('a full drop list throws BpfError ENOSPC naming the list and the fix', async () => {
    filter = await XdpFilter.load({ maxEntries: 2 });
    filter.block('198.19.1.0/24');
    filter.block('198.19.2.0/24');
    const err = (() => {
      try {
        filter.block('198.19.3.0/24');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BpfError);
    expect(err).toMatchObject({ code: 'ENOSPC' });
    expect((err as Error).message).toMatch(/IPv4 drop list is full \(2 prefixes\).*maxEntries/);
    expect(filter.list()).toHaveLength(2);
  });

  it('refuses a tag with a NUL byte instead of cutting it', async () => {
    filter = await XdpFilter.load();
    expect(() => filter!.block('198.19.0.0/16', { tag: 'a\0b' })).toThrow(/must not contain a NUL/);
    expect(filter.list()).toEqual([]);
  });

  it('lists an IPv4-mapped IPv6 prefix as its IPv4 prefix, which then drops IPv4 traffic', async () => {
    filter = await XdpFilter.load();
    expect(filter.block('::ffff:198.19.7.0/120')).toBe('198.19.7.0/24');
    expect(filter.block('::ffff:c613:801')).toBe('198.19.8.1/32');
    expect(filter.program.testRun({ data: v4('198.19.7.9') }).retval).toBe(XDP_DROP);
    expect(filter.program.testRun({ data: v4('198.19.8.1') }).retval).toBe(XDP_DROP);
    expect(filter.program.testRun({ data: v4('198.19.9.1') }).retval).toBe(XDP_PASS);
    expect(filter.matches('::ffff:198.19.7.1')).toBe('198.19.7.0/24');
    expect(filter.unblock('::ffff:198.19.7.0/120')).toBe(true);
    expect(filter.list().map((e) => e.cidr)).toEqual(['198.19.8.1/32']);
  });
});
