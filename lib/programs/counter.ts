/**
 * {@link XdpCounter}: drives `xdp_counter.bpf.o`, which counts packets and bytes per protocol
 * and per source address.
 *
 * @module
 */
import { ipv6 } from '../btf/codec';
import type { BpfMap } from '../map/map';
import { checkUint32 } from '../internal/validate';
import { checkPlacement, loadParts, sumFields, XdpProgramController, type LoadedParts, type XdpPlacement } from './xdp-program';

/** Options of {@link XdpCounter.load}. */
export interface CounterLoadOptions extends XdpPlacement {
  /** How many sources to remember (least recently seen go first when full). Default 16384. */
  maxSources?: number;
}

/**
 * The kinds of packet {@link XdpCounter.byProtocol} counts, in the order of `enum
 * xdp_counter_proto` (`bpf/include/xdp_counter.h`).
 */
export const counterProtocols = [
  'non-ip',
  'ipv4-tcp',
  'ipv4-udp',
  'ipv4-icmp',
  'ipv4-other',
  'ipv6-tcp',
  'ipv6-udp',
  'ipv6-icmp',
  'ipv6-other',
  'malformed',
] as const;

/** One of {@link counterProtocols}: `'ipv4-udp'`, `'ipv6-icmp'` (ICMPv6), `'non-ip'` (ARP…), `'malformed'`… */
export type CounterProtocol = (typeof counterProtocols)[number];

/** Packets and bytes (frame lengths, Ethernet header included), summed over CPUs. */
export interface PacketCount {
  packets: bigint;
  bytes: bigint;
}

/** One source address and what it sent: see {@link XdpCounter.topSources}. */
export interface SourceCount extends PacketCount {
  /** `'198.18.0.2'` or `'fd00::2'`. */
  address: string;
}

type RawRec = {
  packets: bigint;
  bytes: bigint;
};

const mappedPrefix = '::ffff:';

/**
 * Counts every packet by protocol ({@link CounterProtocol}) and every IP packet by source
 * address, passing everything on. Runs standalone on an interface or in a slot of a
 * {@link libbpf-node!RootArray} (after a filter, it counts what the filter let through).
 *
 * Lifetime: see {@link XdpProgramController}.
 *
 * Minimum kernel: 5.10 (root arrays); 4.10 for LRU hashes standalone.
 *
 * @example
 * ```ts
 * import { XdpCounter } from 'libbpf-node/programs';
 * await using counter = await XdpCounter.load({ root, slot: 2 });
 * // … traffic …
 * counter.byProtocol()['ipv4-udp'];   // { packets: 120n, bytes: 7200n }
 * counter.topSources(5);              // [{ address: '198.18.0.2', packets: 120n, bytes: 7200n }, …]
 * ```
 */
export class XdpCounter extends XdpProgramController {
  readonly #proto: BpfMap<number, RawRec[]>;
  readonly #src: BpfMap<{ addr: Uint8Array }, RawRec[]>;

  private constructor(parts: LoadedParts) {
    super(parts, 'XdpCounter');
    this.#proto = this.map('counter_proto');
    this.#src = this.map('counter_src');
  }

  /**
   * Loads the counter: standalone (then {@link XdpCounter.attach} it), or into `slot` of `root`,
   * where it runs at once.
   *
   * @throws TypeError/RangeError for bad options; {@link libbpf-node!BpfError} when the kernel refuses.
   * @example `const counter = await XdpCounter.load({ root, slot: 2 });`
   */
  static async load(options: CounterLoadOptions = {}): Promise<XdpCounter> {
    const placement = checkPlacement(options, 'XdpCounter.load', ['maxSources']);
    if (options.maxSources !== undefined) checkUint32(options.maxSources, 'options.maxSources', 1);
    const parts = await loadParts('xdp_counter', placement, (o) => {
      if (options.maxSources !== undefined) o.map('counter_src').maxEntries = options.maxSources;
    });
    return new XdpCounter(parts);
  }

  /** Packets and bytes per kind of packet, every kind present (zero when none was seen). */
  byProtocol(): Record<CounterProtocol, PacketCount> {
    this.check('read the counters');
    const out = {} as Record<CounterProtocol, PacketCount>;
    counterProtocols.forEach((name, i) => (out[name] = sumFields(this.#proto.get(i), ['packets', 'bytes'])));
    return out;
  }

  /** Every source seen (IPv4 and IPv6), most packets first. */
  sources(): SourceCount[] {
    this.check('read the counters');
    const out: SourceCount[] = [];
    for (const [key, perCpu] of this.#src) {
      const text = ipv6.decode(key.addr, 0);
      out.push({ address: text.startsWith(mappedPrefix) ? text.slice(mappedPrefix.length) : text, ...sumFields(perCpu, ['packets', 'bytes']) });
    }
    // Most packets first, then most bytes, then by address, so equal counts come in a fixed order.
    return out.sort((a, b) =>
      a.packets !== b.packets ? (a.packets > b.packets ? -1 : 1) : a.bytes !== b.bytes ? (a.bytes > b.bytes ? -1 : 1) : a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
    );
  }

  /**
   * The `n` sources that sent the most packets (ties: the most bytes first, then by address).
   * @example `counter.topSources(3).map((s) => `${s.address} ${s.packets}`)`
   */
  topSources(n: number): SourceCount[] {
    checkUint32(n, 'n');
    return this.sources().slice(0, n);
  }

  /** Zeroes the protocol counters and forgets every source. */
  reset(): void {
    this.check('reset the counters');
    for (let i = 0; i < counterProtocols.length; i++) {
      const perCpu = this.#proto.get(i)!;
      this.#proto.set(i, perCpu.map(() => ({ packets: 0n, bytes: 0n })));
    }
    this.#src.clear();
  }
}
