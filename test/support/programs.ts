// Shared by the controller tests (test/programs-*.test.ts): a second subnet on a veth pair, the
// settle pause after an XDP attach, and UDP round trips counted at the receiver.
import type { VethPair } from '../../lib/testing/index';

/**
 * A second subnet on the link, for traffic from source addresses a filter can block while b's
 * own addresses stay allowed: b sends to a's address in it from its own address in it. Static
 * neighbours, so no ARP or neighbour discovery adds packets to the counts.
 */
export const EXTRA_V4 = { net: '198.19.66.0/24', a: '198.19.66.1', b: '198.19.66.2' };
export const EXTRA_V6 = { net: 'fd00:6c62:bad::/64', a: 'fd00:6c62:bad::1', b: 'fd00:6c62:bad::2' };

export async function addExtraSubnet(net: VethPair): Promise<void> {
  for (const [self, peer] of [['a', 'b'], ['b', 'a']] as const) {
    const end = net[self];
    const script = [
      `addr add ${EXTRA_V4[self]}/24 dev ${end.ifname}`,
      `addr add ${EXTRA_V6[self]}/64 dev ${end.ifname} nodad`,
      `neigh add ${EXTRA_V4[peer]} lladdr ${net[peer].mac} dev ${end.ifname} nud permanent`,
      `neigh add ${EXTRA_V6[peer]} lladdr ${net[peer].mac} dev ${end.ifname} nud permanent`,
    ].join('\n');
    const r = await end.exec('ip', ['-batch', '-'], { input: `${script}\n` });
    if (r.code !== 0) throw new Error(`ip -batch in ${end.netns}: ${r.stderr}`);
  }
}

/**
 * An XDP attach makes the kernel send MLD reports whose multicast-loopback copies reach the
 * skb-mode hook: wait them out before zeroing counters.
 */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 100));
}

/** Sends `count` UDP datagrams from b to a (to `to`, or a's address of `family`); returns how many arrived. */
export async function udp(net: VethPair, options: { count: number; port?: number; to?: string; family?: 4 | 6; payload?: string | Buffer }): Promise<number> {
  const port = options.port ?? 9000;
  const listener = await net.listen({ on: 'a', udp: port });
  await net.send({ from: 'b', to: options.to, family: options.family, udp: { port, payload: options.payload ?? 'x'.repeat(18) }, count: options.count });
  const got = await listener.collect({ timeoutMs: 300, count: options.count });
  await listener.close();
  return got.count;
}
