/**
 * {@link XdpSampler}: drives `xdp_sampler.bpf.o`, which sends the parsed headers of 1 packet in N
 * to userspace through a ring buffer, never touching traffic.
 *
 * @module
 */
import { codecFromBtf, ipv4, ipv6, type Codec } from '../btf/codec';
import { BpfStateError } from '../errors';
import type { EventReaderOptions } from '../events/queue';
import type { BpfMap } from '../map/map';
import type { RingBuffer } from '../events/ringbuf';
import { checkKnownKeys, checkObject, checkUint32 } from '../internal/validate';
import { checkPlacement, loadParts, sumFields, XdpProgramController, type LoadedParts, type XdpPlacement } from './xdp-program';

/** Options of {@link XdpSampler.load}. */
export interface SamplerLoadOptions extends XdpPlacement {
  /** Sample 1 packet in `rate`, at random; 0 turns sampling off. Default 100. */
  rate?: number;
  /** Size of the ring buffer in bytes: a power of two, a multiple of the page size. Default 256 KiB (~2900 samples). */
  ringBytes?: number;
}

/** How the program's parser ended (enum parse_result in `bpf/include/parse.h`). */
export type ParseResult = 'ok' | 'not-ip' | 'eth-error' | 'ip-error' | 'ip6-error';

/** One sampled packet, decoded from `struct xdp_sample` with the object's BTF. */
export interface Sample {
  /** When the program saw it: `CLOCK_MONOTONIC` nanoseconds (`process.hrtime.bigint()` is on the same clock). */
  ts: bigint;
  /** The receiving interface (in its namespace). */
  ifindex: number;
  /** The receive queue. */
  rxQueue: number;
  /** The root-array slot of the sampler (0 when standalone). */
  slot: number;
  /** The rate in force: this sample stands for about `rate` packets. */
  rate: number;
  /** How parsing ended; the address fields below are set only for `'ok'`. */
  parse: ParseResult;
  /** 4 or 6 for IP packets. */
  family: 4 | 6 | undefined;
  /** Source and destination addresses (`'198.18.0.2'`, `'fd00::2'`). */
  src: string | undefined;
  dst: string | undefined;
  /** The transport protocol: `'tcp'`, `'udp'`, `'icmp'`, `'icmpv6'`, or `'ip-proto-N'`. */
  proto: string | undefined;
  /** TCP/UDP ports, when the transport header was in the frame. */
  sport: number | undefined;
  dport: number | undefined;
  /** ICMP/ICMPv6 type and code, when the header was in the frame. */
  icmpType: number | undefined;
  icmpCode: number | undefined;
  /** The frame's length in bytes, from the Ethernet header on. */
  len: number;
  /** The EtherType after any VLAN tags (0x0800, 0x86dd, 0x0806…). */
  ethProto: number;
  /** VLAN IDs, outermost first (empty when untagged). */
  vlans: number[];
  /** Whether it is an IP fragment. */
  fragment: boolean;
  /** Whether the parsed summary came from the root's metadata (see `xdp_meta.h`). */
  meta: boolean;
}

/** The sampler's counters, summed over CPUs, since load. */
export interface SamplerStats {
  /** Packets seen. */
  packets: bigint;
  /** Samples written to the ring buffer. */
  samplesSent: bigint;
  /** Samples lost because the ring buffer was full (nobody read it fast enough). */
  ringbufFull: bigint;
}

// struct xdp_sample, as the BTF codec decodes it (bpf/include/xdp_sampler.h, parse.h).
interface RawSample {
  ts_ns: bigint;
  ifindex: number;
  rx_queue: number;
  slot: number;
  rate: number;
  parse_ret: number;
  flags: number;
  info: {
    saddr: Uint8Array;
    daddr: Uint8Array;
    len: number;
    family: number;
    eth_proto: number;
    sport: number;
    dport: number;
    vlan: number;
    vlan_inner: number;
    proto: number;
    is_fragment: number;
    vlan_count: number;
    flags: number;
  };
}

const AF_INET = 2;
const PKT_F_L4 = 0x01;
const XDP_SAMPLE_F_META = 0x1;
const parseResults: Record<number, ParseResult> = { 0: 'ok', 1: 'not-ip', [-1]: 'eth-error', [-2]: 'ip-error', [-3]: 'ip6-error' };
const protoNames: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 47: 'gre', 50: 'esp', 132: 'sctp' };

function address(bytes: Uint8Array, family: number): string {
  return family === AF_INET ? ipv4.decode(bytes, 12) : ipv6.decode(bytes, 0);
}

/** @internal Turns a decoded struct xdp_sample into a {@link Sample}. */
export function toSample(r: RawSample): Sample {
  const i = r.info;
  const ok = r.parse_ret === 0;
  const l4 = ok && (i.flags & PKT_F_L4) !== 0;
  const icmp = i.proto === 1 || i.proto === 58;
  return {
    ts: r.ts_ns,
    ifindex: r.ifindex,
    rxQueue: r.rx_queue,
    slot: r.slot,
    rate: r.rate,
    parse: parseResults[r.parse_ret] ?? 'eth-error',
    family: ok ? (i.family === AF_INET ? 4 : 6) : undefined,
    src: ok ? address(i.saddr, i.family) : undefined,
    dst: ok ? address(i.daddr, i.family) : undefined,
    proto: ok ? (protoNames[i.proto] ?? `ip-proto-${i.proto}`) : undefined,
    sport: l4 && !icmp ? i.sport : undefined,
    dport: l4 && !icmp ? i.dport : undefined,
    icmpType: l4 && icmp ? i.sport : undefined,
    icmpCode: l4 && icmp ? i.dport : undefined,
    len: i.len,
    ethProto: i.eth_proto,
    vlans: [i.vlan, i.vlan_inner].slice(0, i.vlan_count),
    fragment: i.is_fragment !== 0,
    meta: (r.flags & XDP_SAMPLE_F_META) !== 0,
  };
}

/** Options of {@link XdpSampler.samples}. */
export type SamplesOptions = Pick<EventReaderOptions<Sample>, 'signal' | 'highWaterMark'>;

/**
 * Samples 1 packet in N at random and delivers its parsed headers ({@link Sample}) as an async
 * iterable; every packet passes on untouched. Runs standalone on an interface or in a slot of a
 * {@link libbpf-node!RootArray} (put it first to see everything the later slots see).
 *
 * Lifetime: see {@link XdpProgramController}. Samples nobody reads wait in the kernel's ring
 * buffer; when it is full, new ones are lost and counted ({@link SamplerStats.ringbufFull}).
 *
 * Minimum kernel: 5.8 (ring buffers).
 *
 * @example
 * ```ts
 * import { XdpSampler } from 'libbpf-node/programs';
 * await using sampler = await XdpSampler.load({ root, slot: 0, rate: 100 });
 * for await (const s of sampler.samples()) {
 *   console.log(s.src, s.dst, s.proto, s.sport, s.dport, s.len);
 *   if (++n === 10) break;        // closes the reader
 * }
 * ```
 */
export class XdpSampler extends XdpProgramController {
  readonly #config: BpfMap<number, { rate: number; reserved: number }>;
  readonly #stats: BpfMap<number, Record<'packets' | 'samples_sent' | 'ringbuf_full', bigint>[]>;
  readonly #codec: Codec<Sample>;
  #reader: RingBuffer<Sample> | undefined;

  private constructor(parts: LoadedParts) {
    super(parts, 'XdpSampler');
    this.#config = this.map('sampler_config');
    this.#stats = this.map('sampler_stats');
    const btf = this.object.btf;
    const type = btf?.findByName('xdp_sample', 'STRUCT');
    if (!btf || !type) throw new TypeError(`object '${this.object.name}' has no BTF for struct xdp_sample: was it built with -g?`);
    const raw = codecFromBtf(btf, type.id, { label: 'sample' }) as Codec<RawSample>;
    this.#codec = {
      size: raw.size,
      encode() {
        throw new TypeError('samples are only decoded');
      },
      decode: (buf, offset) => toSample(raw.decode(buf, offset)),
    };
  }

  /**
   * Loads the sampler: standalone (then {@link XdpSampler.attach} it), or into `slot` of `root`,
   * where it runs at once, sampling 1 packet in `rate`.
   *
   * @throws TypeError/RangeError for bad options; {@link libbpf-node!BpfError} when the kernel refuses.
   * @example `const sampler = await XdpSampler.load({ root, slot: 0, rate: 10 });`
   */
  static async load(options: SamplerLoadOptions = {}): Promise<XdpSampler> {
    const placement = checkPlacement(options, 'XdpSampler.load', ['rate', 'ringBytes']);
    const rate = options.rate ?? 100;
    checkUint32(rate, 'options.rate');
    if (options.ringBytes !== undefined) {
      checkUint32(options.ringBytes, 'options.ringBytes', 4096);
      if ((options.ringBytes & (options.ringBytes - 1)) !== 0) throw new RangeError(`options.ringBytes must be a power of two, got ${options.ringBytes}`);
    }
    const parts = await loadParts('xdp_sampler', placement, (o) => {
      if (options.ringBytes !== undefined) o.map('sampler_events').maxEntries = options.ringBytes;
    });
    const sampler = new XdpSampler(parts);
    try {
      sampler.setRate(rate);
    } catch (e) {
      await sampler.close();
      throw e;
    }
    return sampler;
  }

  /** The rate in force: 1 packet in `rate` is sampled; 0 means off. */
  get rate(): number {
    this.check('read the rate');
    return this.#config.get(0)!.rate;
  }

  /**
   * Samples 1 packet in `rate` from the next packet on (1: every packet; 0: none).
   * @example `sampler.setRate(1000);`
   */
  setRate(rate: number): void {
    this.check('set the rate');
    checkUint32(rate, 'rate');
    this.#config.set(0, { rate, reserved: 0 });
  }

  /**
   * Starts reading samples: an async iterable of {@link Sample}. One reader at a time; `break`
   * (or `close()` on the reader, or the abort signal) stops it, and the next `samples()` starts
   * where it left off.
   *
   * @throws {@link libbpf-node!BpfStateError} while another reader of this sampler is open, or after close
   */
  samples(options: SamplesOptions = {}): RingBuffer<Sample> {
    this.check('read samples');
    checkObject(options, 'options');
    checkKnownKeys(options, 'XdpSampler.samples options', ['signal', 'highWaterMark']);
    if (this.#reader !== undefined && !this.#reader.closed) {
      throw new BpfStateError('a samples() reader of this sampler is already open: break out of its loop (or close it) first');
    }
    this.#reader = this.object.ringbuf<Sample>('sampler_events', { ...options, codec: this.#codec });
    return this.#reader;
  }

  /** The counters, summed over CPUs. */
  stats(): SamplerStats {
    this.check('read the statistics');
    const s = sumFields(this.#stats.get(0), ['packets', 'samples_sent', 'ringbuf_full']);
    return { packets: s.packets, samplesSent: s.samples_sent, ringbufFull: s.ringbuf_full };
  }

  /** Stops the reader, then as {@link XdpProgramController.close}. */
  override async close(): Promise<void> {
    this.#reader?.close();
    await super.close();
  }
}
