/**
 * {@link XdpFilter}: drives `xdp_filter.bpf.o`, which drops packets from listed IPv4/IPv6
 * prefixes (and, when asked, every IP fragment), counting why, as ecbpf's xdp_filter does.
 *
 * @module
 */
import { constants } from 'node:os';
import { cidrKey, parseCidr, type Cidr } from '../map/cidr';
import { BpfError } from '../errors';
import { checkBoolean, checkKnownKeys, checkObject, checkString, checkUint32 } from '../internal/validate';
import { checkPlacement, loadParts, sumFields, XdpProgramController, type LoadedParts, type XdpPlacement } from './xdp-program';
import type { BpfMap } from '../map/map';

/** Options of {@link XdpFilter.load}. */
export interface FilterLoadOptions extends XdpPlacement {
  /** Capacity of each drop list (IPv4 and IPv6). Default 16384. */
  maxEntries?: number;
}

/** One prefix of the drop lists. */
export interface FilterEntry {
  /** Canonical CIDR text: `'203.0.113.0/24'`, `'2001:db8::/32'`. */
  cidr: string;
  /** The tag given to {@link XdpFilter.block} (at most 16 bytes of UTF-8), or `''`. */
  tag: string;
  /** When it was added (the wall clock of the process that added it). */
  addedAt: Date;
}

/** The filter's run-time configuration; changes apply from the next packet. */
export interface FilterConfig {
  /** Drop every IPv4 and IPv6 fragment (ecbpf's `frags_drop`). Default false. */
  dropFragments: boolean;
  /** Also drop packets whose destination is listed (not only the source). Default false. */
  matchDestination: boolean;
}

/**
 * The filter's counters, summed over CPUs, since load. Malformed frames are counted and passed
 * (the kernel's stack drops and counts them itself).
 */
export interface FilterStats {
  /** Frames shorter than their Ethernet header and VLAN tags. */
  ethFrameErr: bigint;
  /** IPv4 headers cut short, not version 4, IHL < 5 or past the end of the frame. */
  ipHeaderErr: bigint;
  /** IPv6 headers or extension headers cut short, or not version 6. */
  ip6HeaderErr: bigint;
  /** IPv4 packets dropped because a listed prefix matched. */
  ipDropCount: bigint;
  /** IPv6 packets dropped because a listed prefix matched. */
  ip6DropCount: bigint;
  /** IPv4 fragments dropped ({@link FilterConfig.dropFragments}). */
  ipFragDropCount: bigint;
  /** IPv6 fragments dropped. */
  ip6FragDropCount: bigint;
  /** IPv4 packets passed. */
  ipPassCount: bigint;
  /** IPv6 packets passed. */
  ip6PassCount: bigint;
  /** Well-formed non-IP frames (ARP…) passed. */
  otherPassCount: bigint;
  /** Packets whose parsed summary came from the root's metadata (root with `xdp_root_pass_meta`). */
  metaUsedCount: bigint;
}

/** Everything {@link formatFilterStatus} prints: see {@link XdpFilter.status}. */
export interface FilterStatus {
  config: FilterConfig;
  entries: FilterEntry[];
  stats: FilterStats;
}

// struct xdp_filter_* as the BTF codecs decode them (bpf/include/xdp_filter.h).
interface RawEntry {
  tag: Uint8Array;
  added_ns: bigint;
}
/** What is written: the BTF codec of `char tag[]` also encodes a string. */
interface RawEntryIn {
  tag: Uint8Array | string;
  added_ns: bigint;
}
interface RawConfig {
  frags_drop: number;
  match_dst: number;
}
type RawStats = Record<string, bigint>;

/** ecbpf's counter names (snake case, as in C) and ours, in the order ecbpf prints them. */
const statNames: readonly [keyof FilterStats, string][] = [
  ['ethFrameErr', 'eth_frame_err'],
  ['ipHeaderErr', 'ip_header_err'],
  ['ip6HeaderErr', 'ip6_header_err'],
  ['ipDropCount', 'ip_drop_count'],
  ['ip6DropCount', 'ip6_drop_count'],
  ['ipFragDropCount', 'ip_frag_drop_count'],
  ['ip6FragDropCount', 'ip6_frag_drop_count'],
  ['ipPassCount', 'ip_pass_count'],
  ['ip6PassCount', 'ip6_pass_count'],
  ['otherPassCount', 'other_pass_count'],
  ['metaUsedCount', 'meta_used_count'],
];

const TAG_BYTES = 16;
const decoder = new TextDecoder();

function decodeTag(tag: Uint8Array): string {
  const end = tag.indexOf(0);
  return decoder.decode(end === -1 ? tag : tag.subarray(0, end));
}

/**
 * Drops IPv4 and IPv6 traffic from listed prefixes (longest-prefix match in two LPM tries) and,
 * optionally, every IP fragment; counts what it drops and why, with ecbpf's counter names.
 * Runs standalone on an interface or in a slot of a {@link libbpf-node!RootArray}.
 *
 * Lifetime: see {@link XdpProgramController}: standalone, nothing stays in the kernel after
 * `close()` or exit; in a slot, `close()` empties the slot, and a process that dies without it
 * leaves the filter running there (with its drop lists) until the slot is emptied.
 *
 * Minimum kernel: 5.10 (root arrays); 4.11 for LPM tries standalone.
 *
 * @example
 * ```ts
 * import { XdpFilter } from 'libbpf-node/programs';
 * await using filter = await XdpFilter.load({ root, slot: 1 });  // or load() then attach(iface)
 * filter.block('203.0.113.0/24', { tag: 'abuse' });
 * filter.block('2001:db8:bad::/48');
 * filter.configure({ dropFragments: true });
 * console.log(filter.stats().ipDropCount, filter.list());
 * ```
 */
export class XdpFilter extends XdpProgramController {
  readonly #v4: BpfMap<string, RawEntry, string, RawEntryIn>;
  readonly #v6: BpfMap<string, RawEntry, string, RawEntryIn>;
  readonly #config: BpfMap<number, RawConfig>;
  readonly #stats: BpfMap<number, RawStats[]>;

  private constructor(parts: LoadedParts) {
    super(parts, 'XdpFilter');
    this.#v4 = this.map('filter_drop_v4', { key: cidrKey('ipv4') });
    this.#v6 = this.map('filter_drop_v6', { key: cidrKey('ipv6') });
    this.#config = this.map('filter_config');
    this.#stats = this.map('filter_stats');
  }

  /**
   * Loads the filter: standalone (then {@link XdpFilter.attach} it), or into `slot` of `root`,
   * where it runs at once. It starts with empty drop lists and fragments allowed: it drops nothing.
   *
   * @throws TypeError/RangeError for bad options (a slot out of the root's range);
   *   {@link libbpf-node!BpfError} when the kernel refuses (`EPERM` without CAP_BPF/CAP_NET_ADMIN).
   * @example
   * ```ts
   * const filter = await XdpFilter.load({ root: await RootArray.attach('eth1'), slot: 2 });
   * ```
   */
  static async load(options: FilterLoadOptions = {}): Promise<XdpFilter> {
    const placement = checkPlacement(options, 'XdpFilter.load', ['maxEntries']);
    if (options.maxEntries !== undefined) checkUint32(options.maxEntries, 'options.maxEntries', 1);
    const parts = await loadParts('xdp_filter', placement, (o) => {
      if (options.maxEntries !== undefined) {
        o.map('filter_drop_v4').maxEntries = options.maxEntries;
        o.map('filter_drop_v6').maxEntries = options.maxEntries;
      }
    });
    return new XdpFilter(parts);
  }

  #list(family: 4 | 6): BpfMap<string, RawEntry, string, RawEntryIn> {
    return family === 4 ? this.#v4 : this.#v6;
  }

  /**
   * A prefix as the filter lists it. An IPv4-mapped IPv6 prefix (`::ffff:192.0.2.0/120`) is the
   * IPv4 prefix it maps (`192.0.2.0/24`): packets carry IPv4 addresses in IPv4 headers, so in
   * the IPv6 list it would never match. A shorter prefix that only contains the mapped range
   * (`::/80`) stays IPv6.
   */
  static #prefix(text: string): Cidr {
    const p = parseCidr(text);
    if (p.family !== 6 || p.prefixlen < 96) return p;
    const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(p.address);
    if (m === null) return p;
    const v4 = m[1] ?? [parseInt(m[2], 16) >> 8, parseInt(m[2], 16) & 255, parseInt(m[3], 16) >> 8, parseInt(m[3], 16) & 255].join('.');
    return parseCidr(`${v4}/${p.prefixlen - 96}`);
  }

  /**
   * Drops traffic from the prefix `cidr` (IPv4 or IPv6; a bare address is a /32 or /128), from
   * the next packet on. Host bits are cleared (`'203.0.113.7/24'` lists `'203.0.113.0/24'`).
   * Blocking a listed prefix again replaces its tag and time.
   *
   * An IPv4-mapped IPv6 prefix (`::ffff:192.0.2.0/120`) is listed as the IPv4 prefix it maps.
   *
   * @param options.tag Why, for {@link XdpFilter.list}: at most 16 bytes of UTF-8, without NUL. Default `''`.
   * @returns The canonical CIDR that was listed.
   * @throws RangeError for text that is not a CIDR prefix, or a tag too long or containing NUL;
   *   {@link libbpf-node!BpfError} `ENOSPC` when the drop list is full (see {@link FilterLoadOptions.maxEntries}).
   * @example `filter.block('198.51.100.0/24', { tag: 'scanner' });`
   */
  block(cidr: string, options: { tag?: string } = {}): string {
    this.check('block a prefix');
    const p = XdpFilter.#prefix(cidr);
    checkObject(options, 'options');
    checkKnownKeys(options, 'XdpFilter.block options', ['tag']);
    const tag = options.tag ?? '';
    checkString(tag, 'options.tag');
    if (Buffer.byteLength(tag) > TAG_BYTES) throw new RangeError(`options.tag must be at most ${TAG_BYTES} bytes of UTF-8, got ${Buffer.byteLength(tag)}: '${tag}'`);
    // The tag is stored NUL-terminated: a NUL inside would silently cut it.
    if (tag.includes('\0')) throw new RangeError(`options.tag must not contain a NUL character, got ${JSON.stringify(tag)}`);
    const list = this.#list(p.family);
    try {
      list.set(p.cidr, { tag, added_ns: BigInt(Date.now()) * 1_000_000n });
    } catch (e) {
      if (!(e instanceof BpfError && e.code === 'ENOSPC')) throw e;
      throw new BpfError(
        'XdpFilter.block',
        constants.errno.ENOSPC,
        `the IPv${p.family} drop list is full (${list.maxEntries} prefixes) adding ${p.cidr}`,
        'unblock some prefixes, or load the filter with a larger { maxEntries }',
      );
    }
    return p.cidr;
  }

  /**
   * Stops dropping the prefix `cidr` (exactly this prefix: a longer or shorter listed prefix
   * stays). Returns whether it was listed.
   * @example `filter.unblock('198.51.100.0/24'); // true`
   */
  unblock(cidr: string): boolean {
    this.check('unblock a prefix');
    const p = XdpFilter.#prefix(cidr);
    return this.#list(p.family).delete(p.cidr);
  }

  /**
   * Whether traffic from `address` is dropped: the longest listed prefix containing it, or
   * `undefined`.
   * @example `filter.matches('203.0.113.7'); // '203.0.113.0/24'`
   */
  matches(address: string): string | undefined {
    this.check('look up an address');
    const p = XdpFilter.#prefix(address);
    const full = p.family === 4 ? 32 : 128;
    if (p.prefixlen !== full) throw new RangeError(`address must be a single address, got '${address}'`);
    const list = this.#list(p.family);
    if (!list.has(p.address)) return undefined;
    // The kernel returns the value, not the matching key: find the longest listed prefix.
    let best: { cidr: string; prefixlen: number } | undefined;
    for (const [cidr] of list) {
      const c = parseCidr(cidr);
      if (c.prefixlen > (best?.prefixlen ?? -1) && parseCidr(`${p.address}/${c.prefixlen}`).cidr === c.cidr) best = c;
    }
    return best?.cidr;
  }

  /** Every listed prefix, IPv4 first. */
  list(): FilterEntry[] {
    this.check('list the drop lists');
    const out: FilterEntry[] = [];
    for (const family of [4, 6] as const) {
      for (const [cidr, v] of this.#list(family)) {
        out.push({ cidr, tag: decodeTag(v.tag), addedAt: new Date(Number(v.added_ns / 1_000_000n)) });
      }
    }
    return out;
  }

  /** Empties both drop lists; returns how many prefixes were removed. */
  clear(): number {
    this.check('clear the drop lists');
    return this.#v4.clear() + this.#v6.clear();
  }

  /** The configuration in force. */
  config(): FilterConfig {
    this.check('read the configuration');
    const c = this.#config.get(0)!;
    return { dropFragments: c.frags_drop !== 0, matchDestination: c.match_dst !== 0 };
  }

  /**
   * Changes the configuration from the next packet on; options left out keep their value.
   * @returns The configuration now in force.
   * @example `filter.configure({ dropFragments: true });`
   */
  configure(changes: Partial<FilterConfig>): FilterConfig {
    this.check('configure');
    checkObject(changes, 'changes');
    checkKnownKeys(changes, 'XdpFilter.configure changes', ['dropFragments', 'matchDestination']);
    if (changes.dropFragments !== undefined) checkBoolean(changes.dropFragments, 'changes.dropFragments');
    if (changes.matchDestination !== undefined) checkBoolean(changes.matchDestination, 'changes.matchDestination');
    const next = { ...this.config(), ...changes };
    this.#config.set(0, { frags_drop: next.dropFragments ? 1 : 0, match_dst: next.matchDestination ? 1 : 0 });
    return next;
  }

  /** The counters, summed over CPUs. */
  stats(): FilterStats {
    this.check('read the statistics');
    const raw = sumFields(this.#stats.get(0), statNames.map(([, c]) => c));
    return Object.fromEntries(statNames.map(([ts, c]) => [ts, raw[c]!])) as unknown as FilterStats;
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.check('reset the statistics');
    const perCpu = this.#stats.get(0)!;
    this.#stats.set(0, perCpu.map((cpu) => Object.fromEntries(Object.keys(cpu).map((k) => [k, 0n]))));
  }

  /** Configuration, drop lists and counters, for {@link formatFilterStatus}. */
  status(): FilterStatus {
    return { config: this.config(), entries: this.list(), stats: this.stats() };
  }
}

/**
 * The status as ecbpf's `xdp_filter --status` prints it: configuration, drop lists, counters
 * (with their C names).
 *
 * @param where What to name in the headings: the interface (and slot).
 * @example
 * ```ts
 * console.log(formatFilterStatus(filter.status(), 'eth0'));
 * ```
 */
export function formatFilterStatus(status: FilterStatus, where: string): string {
  const lines = [
    `=================== Status for interface '${where}' ===================`,
    'Current Configuration:',
    '',
    `frags_drop? ${status.config.dropFragments}`,
    `match_dst? ${status.config.matchDestination}`,
    '',
    `Drop Maps for interface '${where}':`,
    '',
  ];
  const width = Math.max(0, ...status.entries.map((e) => e.cidr.length));
  for (const e of status.entries) lines.push(`${e.cidr.padEnd(width)}  ${(e.tag || '-').padEnd(TAG_BYTES)}  added ${e.addedAt.toISOString()}`);
  if (status.entries.length === 0) lines.push('(none)');
  lines.push('', `Stats for interface '${where}':`, '');
  for (const [ts, c] of statNames) lines.push(`${c}: ${status.stats[ts]}`);
  return lines.join('\n');
}
