/**
 * The package's demo (`npm run demo`): a root array with the shipped sampler, filter and counter
 * on a veth pair it makes for the purpose (two throw-away network namespaces, addresses from
 * 198.18.0.0/15 and fd00::/8; no real interface is touched), real traffic through it, and what
 * each program saw. It checks every number it prints against the traffic it sent and exits
 * non-zero when one is off. Cleans up on success and on failure.
 *
 * @internal
 * @module
 */
import { release } from 'node:os';
import { libbpfVersion } from '../log';
import { RootArray } from '../rootarray/root-array';
import { formatStatus } from '../rootarray/status';
import { XdpCounter, XdpFilter, XdpSampler, formatFilterStatus, type Sample } from '../programs/index';
import { VethPair, hasNetnsPrivileges } from '../testing/index';

// A second subnet on the link, whose traffic the filter blocks: b sends to a's address in it
// from its own address in it, so blocked and allowed traffic flow side by side.
const BLOCKED_V4 = { net: '198.19.66.0/24', a: '198.19.66.1', b: '198.19.66.2' };
const BLOCKED_V6 = { net: 'fd00:6c62:bad::/64', a: 'fd00:6c62:bad::1', b: 'fd00:6c62:bad::2' };
const PORT = 7000;
const RATE = 10;

// What the demo sends from b to a.
const SEND = { udp4: 200, udp6: 200, ping4: 10, ping6: 10, blockedUdp4: 100, blockedUdp6: 100, blockedPing4: 5 };

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? '✓' : '✗'} ${what}`);
  if (!ok) failures.push(what);
}

function heading(text: string): void {
  console.log(`\n== ${text}`);
}

/** Adds the blocked subnet on both ends, with static neighbours (no ARP or ND on the wire). */
async function addBlockedSubnet(net: VethPair): Promise<void> {
  for (const [end, self, peer] of [
    [net.a, 'a', 'b'],
    [net.b, 'b', 'a'],
  ] as const) {
    const peerMac = (peer === 'a' ? net.a : net.b).mac;
    const script = [
      `addr add ${BLOCKED_V4[self]}/24 dev ${end.ifname}`,
      `addr add ${BLOCKED_V6[self]}/64 dev ${end.ifname} nodad`,
      `neigh add ${BLOCKED_V4[peer]} lladdr ${peerMac} dev ${end.ifname} nud permanent`,
      `neigh add ${BLOCKED_V6[peer]} lladdr ${peerMac} dev ${end.ifname} nud permanent`,
    ].join('\n');
    const r = await end.exec('ip', ['-batch', '-'], { input: `${script}\n` });
    if (r.code !== 0) throw new Error(`could not add the blocked subnet on ${end.ifname}: ${r.stderr.trim()}`);
  }
}

function formatSample(s: Sample): string {
  const ports = s.sport !== undefined ? `${s.sport} → ${s.dport}` : s.icmpType !== undefined ? `type ${s.icmpType} code ${s.icmpCode}` : '';
  return `${(s.src ?? '-').padStart(20)} → ${(s.dst ?? '-').padEnd(20)} ${(s.proto ?? s.parse).padEnd(7)} ${ports.padEnd(16)} ${String(s.len).padStart(4)} bytes  ifindex ${s.ifindex}  slot ${s.slot}`;
}

async function main(): Promise<void> {
  console.log(`libbpf-node demo: libbpf ${libbpfVersion()}, kernel ${release()}`);
  if (!hasNetnsPrivileges()) {
    throw new Error('the demo needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_BPF): it builds network namespaces and loads XDP programs');
  }
  const net = await VethPair.create();
  const where = { netns: net.a.netnsPath };
  let root: RootArray | undefined;
  const controllers: { close(): Promise<void> }[] = [];
  try {
    await addBlockedSubnet(net);
    console.log(`\nA veth pair in two throw-away namespaces: traffic goes from b to a.`);
    console.log(`  a: ${net.a.ifname}  ${net.a.ipv4}, ${net.a.ipv6}  (also ${BLOCKED_V4.a}, ${BLOCKED_V6.a})`);
    console.log(`  b: ${net.b.ifname}  ${net.b.ipv4}, ${net.b.ipv6}  (also ${BLOCKED_V4.b}, ${BLOCKED_V6.b})`);

    root = await RootArray.attach(net.a.ifname, { ...where, mode: 'skb', slots: 4 });
    const sampler = await XdpSampler.load({ root, slot: 0, rate: 0 });
    controllers.push(sampler);
    const filter = await XdpFilter.load({ root, slot: 1 });
    controllers.push(filter);
    const counter = await XdpCounter.load({ root, slot: 2 });
    controllers.push(counter);
    filter.block(BLOCKED_V4.net, { tag: 'demo-blocked' });
    filter.block(BLOCKED_V6.net, { tag: 'demo-blocked' });
    console.log(`\nRoot array on a (skb mode): slot 0 xdp_sampler (1 in ${RATE}), slot 1 xdp_filter (blocking ${BLOCKED_V4.net} and ${BLOCKED_V6.net}), slot 2 xdp_counter.`);

    // The attach makes the kernel send MLD reports whose loopback copies reach a's XDP hook: let
    // them pass, then count from zero.
    await new Promise((r) => setTimeout(r, 100));
    root.clear();
    filter.resetStats();
    counter.reset();
    const samplerBefore = sampler.stats();
    sampler.setRate(RATE);
    const samples: Sample[] = [];
    const reader = sampler.samples();
    const reading = (async () => {
      for await (const s of reader) samples.push(s);
    })();

    heading('Traffic from b to a');
    const listener = await net.listen({ on: 'a', udp: PORT });
    const payload = 'libbpf-node demo';
    await net.send({ from: 'b', to: BLOCKED_V4.a, udp: { port: PORT, payload }, count: SEND.blockedUdp4 });
    await net.send({ from: 'b', to: BLOCKED_V6.a, udp: { port: PORT, payload }, count: SEND.blockedUdp6 });
    await net.send({ from: 'b', udp: { port: PORT, payload }, count: SEND.udp4 });
    await net.send({ from: 'b', family: 6, udp: { port: PORT, payload }, count: SEND.udp6 });
    const ping4 = await net.ping({ from: 'b', count: SEND.ping4, intervalMs: 5 });
    const ping6 = await net.ping({ from: 'b', family: 6, count: SEND.ping6, intervalMs: 5 });
    const blockedPing = await net.ping({ from: 'b', to: BLOCKED_V4.a, count: SEND.blockedPing4, intervalMs: 5, timeoutMs: 300 });
    const got = await listener.collect({ timeoutMs: 300 });
    await listener.close();
    const from = (addr: string): number => got.packets.filter((p) => p.from === addr).length;
    console.log(`  UDP to port ${PORT}: ${SEND.udp4} over IPv4 and ${SEND.udp6} over IPv6 from b's own addresses,`);
    console.log(`    ${SEND.blockedUdp4} over IPv4 and ${SEND.blockedUdp6} over IPv6 from its addresses in the blocked subnet`);
    console.log(`  ping: ${SEND.ping4} over IPv4, ${SEND.ping6} over IPv6, ${SEND.blockedPing4} from the blocked subnet`);
    check(from(net.b.ipv4) === SEND.udp4 && from(net.b.ipv6) === SEND.udp6, `allowed UDP arrived: ${from(net.b.ipv4)}/${SEND.udp4} over IPv4, ${from(net.b.ipv6)}/${SEND.udp6} over IPv6`);
    check(ping4.received === SEND.ping4 && ping6.received === SEND.ping6, `allowed pings answered: ${ping4.received}/${SEND.ping4} over IPv4, ${ping6.received}/${SEND.ping6} over IPv6`);
    check(from(BLOCKED_V4.b) === 0 && from(BLOCKED_V6.b) === 0 && blockedPing.received === 0, `blocked traffic never arrived: ${from(BLOCKED_V4.b) + from(BLOCKED_V6.b)} datagrams, ${blockedPing.received} ping replies`);

    // Every record written before this point is in the ring; give the reader a moment to drain it.
    const samplerStats = sampler.stats();
    const sent = samplerStats.samplesSent - samplerBefore.samplesSent;
    for (let waited = 0; BigInt(samples.length) < sent && waited < 1000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    reader.close();
    await reading;

    const blocked = SEND.blockedUdp4 + SEND.blockedUdp6 + SEND.blockedPing4;
    const allowed = SEND.udp4 + SEND.udp6 + SEND.ping4 + SEND.ping6;
    const total = BigInt(blocked + allowed);

    heading(`xdp_sampler: ${samples.length} samples of ${samplerStats.packets - samplerBefore.packets} packets (1 in ${RATE}); one of each kind:`);
    const kinds = new Map<string, Sample>();
    for (const s of samples) if (!kinds.has(`${s.src} ${s.proto}`)) kinds.set(`${s.src} ${s.proto}`, s);
    for (const s of kinds.values()) console.log(`  ${formatSample(s)}`);
    // Binomial(625, 1/10): mean 62.5, sd 7.5. Bounds 5 sd away: a false alarm about once in 3 million runs.
    check(samples.length > 25 && samples.length < 100 && BigInt(samples.length) === sent && samplerStats.ringbufFull === 0n,
      `${samples.length} samples received, as many as the sampler sent, about ${total / BigInt(RATE)} expected`);
    check(samples.every((s) => s.slot === 0 && s.ifindex === net.a.ifindex && (s.src === undefined || [net.b.ipv4, net.b.ipv6, BLOCKED_V4.b, BLOCKED_V6.b].includes(s.src))),
      'every sample came through slot 0 on a, from one of b\'s addresses');

    heading('xdp-root status');
    const status = root.status();
    console.log(formatStatus(status));
    const [s0, s1, s2] = status.slots;
    check(status.root.packets === total, `the root saw every packet sent: ${status.root.packets}/${total}`);
    check(s0!.stats.pass === total && s0!.stats.passedOn === total, `slot 0 (sampler) passed all ${total} on`);
    check(s1!.stats.drop === BigInt(blocked) && s1!.stats.pass === BigInt(allowed), `slot 1 (filter) dropped ${s1!.stats.drop}/${blocked} blocked, passed ${s1!.stats.pass}/${allowed} allowed`);
    check(s2!.stats.pass === BigInt(allowed) && s2!.stats.drop === 0n, `slot 2 (counter) saw only the ${allowed} allowed packets`);

    heading('xdp_filter --status');
    const fs = filter.status();
    console.log(formatFilterStatus(fs, `${net.a.ifname}, slot 1`));
    check(fs.stats.ipDropCount === BigInt(SEND.blockedUdp4 + SEND.blockedPing4) && fs.stats.ip6DropCount === BigInt(SEND.blockedUdp6),
      `drops counted per family: ip_drop_count ${fs.stats.ipDropCount}, ip6_drop_count ${fs.stats.ip6DropCount}`);
    check(fs.stats.ipPassCount === BigInt(SEND.udp4 + SEND.ping4) && fs.stats.ip6PassCount === BigInt(SEND.udp6 + SEND.ping6),
      `passes counted per family: ip_pass_count ${fs.stats.ipPassCount}, ip6_pass_count ${fs.stats.ip6PassCount}`);

    heading('xdp_counter: by protocol, and top sources');
    const byProto = counter.byProtocol();
    for (const [name, c] of Object.entries(byProto)) if (c.packets > 0n) console.log(`  ${name.padEnd(10)} ${String(c.packets).padStart(6)} packets ${String(c.bytes).padStart(8)} bytes`);
    const top = counter.topSources(5);
    for (const t of top) console.log(`  ${t.address.padEnd(22)} ${String(t.packets).padStart(6)} packets ${String(t.bytes).padStart(8)} bytes`);
    check(byProto['ipv4-udp'].packets === BigInt(SEND.udp4) && byProto['ipv6-udp'].packets === BigInt(SEND.udp6) &&
      byProto['ipv4-icmp'].packets === BigInt(SEND.ping4) && byProto['ipv6-icmp'].packets === BigInt(SEND.ping6),
      'per-protocol counts match what passed the filter');
    check(top.length === 2 && top.some((t) => t.address === net.b.ipv4 && t.packets === BigInt(SEND.udp4 + SEND.ping4)) &&
      top.some((t) => t.address === net.b.ipv6 && t.packets === BigInt(SEND.udp6 + SEND.ping6)),
      'top sources: b\'s two allowed addresses, and nothing from the blocked subnet');
  } finally {
    // Controllers first (each empties its slot), then the root, then the namespaces.
    for (const c of controllers.reverse()) await c.close().catch((e: unknown) => failures.push(`closing a controller: ${String(e)}`));
    if (root) await root.detach().catch((e: unknown) => failures.push(`detaching the root array: ${String(e)}`));
    await net.close().catch((e: unknown) => failures.push(`removing the veth pair: ${String(e)}`));
  }
  heading('Cleaned up: controllers closed, root array detached, namespaces removed.');
  if (failures.length > 0) throw new Error(`${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
  console.log('Every check passed.');
}

main().catch((e: unknown) => {
  console.error(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
