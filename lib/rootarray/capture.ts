/**
 * Capture: the frames behind a root array's verdicts. {@link startCapture} switches capture on
 * in the root's return path (`xdp_root_return()` in `bpf/include/xdp_root.h`) for some slots and
 * verdicts, and reads the frames from the root's pinned perf buffer; {@link RootArray.capture}
 * is the public entry.
 *
 * Settings live in a per-CPU array pinned beside the slots (`xdp_root_capcfg`, one entry per
 * slot, struct xdp_root_capture): its first word is the set of verdicts to capture, 0 (off) by
 * default, and is all a slot program reads when capture is off.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfStateError } from '../errors';
import { BpfMap } from '../map/map';
import { rawCodec } from '../map/codecs';
import { cidrKey, parseCidr } from '../map/cidr';
import { PerfBuffer } from '../events/perfbuf';
import { checkKnownKeys, checkObject, checkUint32, describe } from '../internal/validate';
import { CAPTURE_BUF, CAPTURE_MAP, CAPTURE_ON_PIN, SLOTS_MAP, isMissing, programInfo } from './pins';

/** A verdict a capture can select: the XDP actions, and `invalid` for any other return value. */
export type CaptureAction = 'aborted' | 'drop' | 'pass' | 'tx' | 'redirect' | 'invalid';

/** The verdicts, in the order of their index in the kernel (XDP_ABORTED = 0 … XDP_REDIRECT = 4). */
export const CAPTURE_ACTIONS: readonly CaptureAction[] = ['aborted', 'drop', 'pass', 'tx', 'redirect', 'invalid'];

/** The most bytes of a frame a capture copies (XDP_ROOT_CAPTURE_MAX_SNAPLEN). */
export const MAX_SNAPLEN = 65000;

/** Which packets a capture keeps, besides slot and verdict. Every field given must match. */
export interface CaptureFilter {
  /** Source address prefix, IPv4 or IPv6 (`'198.18.0.0/24'`, `'fd00::/8'`, or one address). */
  src?: string;
  /** Destination address prefix, as `src`. */
  dst?: string;
  /** Transport protocol: `'tcp'`, `'udp'`, `'icmp'`, `'icmpv6'`, or an IP protocol number. */
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number;
}

/** Options of {@link RootArray.capture}. */
export interface CaptureOptions {
  /** The slot whose verdicts to capture, or `'all'` (default). */
  slot?: number | 'all';
  /** The verdicts to capture. Default: all of them. */
  actions?: readonly CaptureAction[];
  /** Bytes of each frame to keep, 1 to {@link MAX_SNAPLEN}. Default {@link MAX_SNAPLEN}. */
  snaplen?: number;
  /** Keep 1 in `rate` of the matching packets (per CPU). Default 1: every one. */
  rate?: number;
  /** Keep only packets matching this (IP packets only: anything else is left out). */
  filter?: CaptureFilter;
  /** Stops the capture (the iteration ends cleanly) when aborted. */
  signal?: AbortSignal;
  /** Pages of each CPU's ring (a power of 2). Default 64. */
  pagesPerCpu?: number;
}

/** One captured frame. */
export interface CapturedFrame {
  /** The first `snaplen` bytes of the frame, from its Ethernet header on. */
  data: Buffer;
  /** The frame's length on the wire (XDP's view of it: its linear part). */
  length: number;
  /** The slot whose program returned the verdict. */
  slot: number;
  /** The verdict. */
  action: CaptureAction;
  /** The interface the frame arrived on. */
  ifindex: number;
  /** The receive queue it arrived on. */
  rxQueue: number;
  /** When it was captured: nanoseconds since the Unix epoch (from the kernel's monotonic clock). */
  timestamp: bigint;
}

/** Capture as {@link RootArray.status} reports it: what is switched on, by whom. */
export interface CaptureStatus {
  /** Whether the root array has capture at all (roots attached before capture existed do not). */
  available: boolean;
  /** The slots with capture on, and how. Empty: capture is off. */
  slots: Array<{
    slot: number;
    actions: CaptureAction[];
    snaplen: number;
    rate: number;
    filtered: boolean;
    /** The process that switched it on, and whether it still runs (false: left on by a killed process). */
    ownerPid: number;
    ownerAlive: boolean;
    /** Frames captured, and refused by the buffer (full, or nobody reading), summed over CPUs. */
    captured: bigint;
    lost: bigint;
  }>;
}

// struct xdp_root_capture (bpf/include/xdp_root.h)
const CFG_SIZE = 128;
const OFF = { actions: 0, snaplen: 4, rate: 8, countdown: 12, filter: 16, ownerPid: 20, ownerStart: 24, session: 32, captured: 40, lost: 48, family: 56, proto: 58, src: 64, srcMask: 80, dst: 96, dstMask: 112 } as const;
const CAPF_FAMILY = 1;
const CAPF_PROTO = 2;
const CAPF_SRC = 4;
const CAPF_DST = 8;
const AF_INET = 2;
const AF_INET6 = 10;
// struct xdp_root_capture_hdr
const HDR_SIZE = 32;

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

/** What a root array gives a capture. @internal */
export interface CaptureHost {
  readonly dir: string;
  readonly slotCount: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly netns: string | undefined;
}

type CfgMap = BpfMap<number, Buffer[], number, Buffer[]>;

function openCfg(dir: string): CfgMap {
  return BpfMap.openPinned(join(dir, CAPTURE_MAP)).typed<number, Buffer[], number, Buffer[]>({ value: rawCodec(CFG_SIZE, 'capture settings') as never });
}

// The `.data.xdp_capon` section: one u32 per slot (XDP_ROOT_MAX_SLOTS), the word every packet reads.
const ON_SIZE = 32 * 4;
type OnMap = BpfMap<number, Buffer, number, Buffer>;

function openOn(dir: string): OnMap {
  return BpfMap.openPinned(join(dir, CAPTURE_ON_PIN)).typed<number, Buffer, number, Buffer>({ value: rawCodec(ON_SIZE, 'capture switches') as never });
}

/** Sets the on/off word of `slots` (a read-modify-write of the section; writers hold the pin-base lock or own the slots). */
function setOn(on: OnMap, slots: readonly number[], mask: number): void {
  const words = Buffer.from(on.get(0) ?? Buffer.alloc(ON_SIZE));
  for (const slot of slots) words.writeUInt32LE(mask, slot * 4);
  on.set(0, words);
}

/** A process's start time in clock ticks after boot (field 22 of /proc/PID/stat), or undefined when it is gone. */
function processStart(pid: number): bigint | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return BigInt(fields[19]!);
  } catch {
    return undefined;
  }
}

function ownerAlive(cfg: Buffer): boolean {
  const pid = cfg.readUInt32LE(OFF.ownerPid);
  if (pid === 0) return false;
  return processStart(pid) === cfg.readBigUInt64LE(OFF.ownerStart);
}

/** The capture settings of every slot of the root at `dir`, or undefined when it has none. */
export function captureStatus(dir: string, slotCount: number): CaptureStatus {
  if (!existsSync(join(dir, CAPTURE_MAP))) return { available: false, slots: [] };
  let cfg: CfgMap;
  try {
    cfg = openCfg(dir);
  } catch (e) {
    if (isMissing(e)) return { available: false, slots: [] };
    throw e;
  }
  try {
    const slots: CaptureStatus['slots'] = [];
    for (let slot = 0; slot < slotCount; slot++) {
      const perCpu = cfg.get(slot) ?? [];
      const first = perCpu[0];
      if (first === undefined || first.readUInt32LE(OFF.actions) === 0) continue;
      const mask = first.readUInt32LE(OFF.actions);
      let captured = 0n;
      let lost = 0n;
      for (const c of perCpu) {
        captured += c.readBigUInt64LE(OFF.captured);
        lost += c.readBigUInt64LE(OFF.lost);
      }
      slots.push({
        slot,
        actions: CAPTURE_ACTIONS.filter((_, i) => (mask >> i) & 1),
        snaplen: first.readUInt32LE(OFF.snaplen),
        rate: Math.max(1, first.readUInt32LE(OFF.rate)),
        filtered: first.readUInt32LE(OFF.filter) !== 0,
        ownerPid: first.readUInt32LE(OFF.ownerPid),
        ownerAlive: ownerAlive(first),
        captured,
        lost,
      });
    }
    return { available: true, slots };
  } finally {
    cfg.close();
  }
}

/**
 * Switches capture off on every slot of the root at `dir`, whoever switched it on (a running
 * capture then receives nothing more). Returns the slots it was on.
 */
export function stopAllCaptures(dir: string, slotCount: number): number[] {
  if (!existsSync(join(dir, CAPTURE_MAP))) return [];
  if (existsSync(join(dir, CAPTURE_ON_PIN))) {
    using on = openOn(dir);
    on.set(0, Buffer.alloc(ON_SIZE)); // every packet stops here first
  }
  using cfg = openCfg(dir);
  const stopped: number[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const perCpu = cfg.get(slot) ?? [];
    if (perCpu.length === 0 || perCpu.every((c) => c.readUInt32LE(OFF.actions) === 0)) continue;
    cfg.set(slot, perCpu.map(() => Buffer.alloc(CFG_SIZE)));
    stopped.push(slot);
  }
  return stopped;
}

/** Switches off the slots that hold `session`; sync, for close, GC and exit. */
function switchOff(held: Held): void {
  const { cfg, on, session, slotCount } = held;
  const ours: number[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const perCpu = cfg.get(slot);
    if (perCpu && perCpu.length > 0 && perCpu[0]!.readBigUInt64LE(OFF.session) === session) ours.push(slot);
  }
  if (ours.length === 0) return;
  setOn(on, ours, 0);
  for (const slot of ours) cfg.set(slot, (cfg.get(slot) ?? []).map(() => Buffer.alloc(CFG_SIZE)));
}

/** What a dropped Capture leaves to switch off. */
interface Held {
  cfg: CfgMap;
  on: OnMap;
  session: bigint;
  slotCount: number;
}

/** Captures not yet closed: switched off at process exit. */
const live = new Map<bigint, Held>();
let exitHook = false;

function release(held: Held): void {
  if (!live.delete(held.session)) return;
  try {
    switchOff(held);
  } catch {
    // The root array is gone (detached): nothing is left switched on.
  } finally {
    held.cfg.close();
    held.on.close();
  }
}

const registry = new FinalizationRegistry<Held>((held) => release(held));

/** Validated settings, encoded once. */
interface Settings {
  slots: number[];
  mask: number;
  snaplen: number;
  rate: number;
  filter: { flags: number; family: number; proto: number; src: Uint8Array; srcMask: Uint8Array; dst: Uint8Array; dstMask: Uint8Array };
}

const optionKeys = ['slot', 'actions', 'snaplen', 'rate', 'filter', 'signal', 'pagesPerCpu'] as const;

/** Address and mask bytes of a prefix, as struct pkt_info holds addresses (IPv4-mapped). */
function prefixBytes(text: unknown, what: string): { family: number; addr: Uint8Array; mask: Uint8Array } {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a CIDR string like '198.18.0.0/24' or 'fd00::/8', got ${describe(text)}`);
  const c = parseCidr(text);
  const addr = Buffer.alloc(16);
  let bits: number;
  if (c.family === 4) {
    const key = Buffer.alloc(8);
    cidrKey('ipv4').encode(c.cidr, key, 0);
    addr[10] = 0xff;
    addr[11] = 0xff;
    key.copy(addr, 12, 4, 8);
    bits = 96 + c.prefixlen;
  } else {
    const key = Buffer.alloc(20);
    cidrKey('ipv6').encode(c.cidr, key, 0);
    key.copy(addr, 0, 4, 20);
    bits = c.prefixlen;
  }
  const mask = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) mask[i] = bits >= (i + 1) * 8 ? 0xff : bits > i * 8 ? (0xff << (8 - (bits - i * 8))) & 0xff : 0;
  return { family: c.family === 4 ? AF_INET : AF_INET6, addr, mask };
}

/** Checks and encodes the options; throws before anything is switched on. @internal */
export function captureSettings(options: unknown, slotCount: number, ifname: string): Settings {
  checkObject(options, 'options');
  const o = options as CaptureOptions;
  checkKnownKeys(o as Record<string, unknown>, 'capture options', optionKeys);
  let slots: number[];
  if (o.slot === undefined || o.slot === 'all') {
    slots = Array.from({ length: slotCount }, (_, i) => i);
  } else {
    checkUint32(o.slot, 'options.slot');
    if (o.slot >= slotCount) throw new RangeError(`options.slot must be in [0, ${slotCount - 1}] on ${ifname} (it has ${slotCount} slots), or 'all', got ${o.slot}`);
    slots = [o.slot];
  }
  let mask = 0;
  if (o.actions === undefined) {
    mask = (1 << CAPTURE_ACTIONS.length) - 1;
  } else {
    if (!Array.isArray(o.actions)) throw new TypeError(`options.actions must be an array of ${CAPTURE_ACTIONS.join(', ')}, got ${describe(o.actions)}`);
    if (o.actions.length === 0) throw new RangeError('options.actions must name at least one verdict');
    for (const a of o.actions as unknown[]) {
      const i = CAPTURE_ACTIONS.indexOf(a as CaptureAction);
      if (i < 0) throw new RangeError(`unknown action ${typeof a === 'string' ? `'${a}'` : describe(a)}: expected one of ${CAPTURE_ACTIONS.join(', ')}`);
      mask |= 1 << i;
    }
  }
  const snaplen = o.snaplen ?? MAX_SNAPLEN;
  checkUint32(snaplen, 'options.snaplen', 1);
  if (snaplen > MAX_SNAPLEN) throw new RangeError(`options.snaplen must be in [1, ${MAX_SNAPLEN}], got ${snaplen}`);
  const rate = o.rate ?? 1;
  checkUint32(rate, 'options.rate', 1);
  const filter: Settings['filter'] = { flags: 0, family: 0, proto: 0, src: new Uint8Array(16), srcMask: new Uint8Array(16), dst: new Uint8Array(16), dstMask: new Uint8Array(16) };
  if (o.filter !== undefined) {
    checkObject(o.filter, 'options.filter');
    checkKnownKeys(o.filter as Record<string, unknown>, 'options.filter', ['src', 'dst', 'protocol']);
    const families = new Set<number>();
    if (o.filter.src !== undefined) {
      const p = prefixBytes(o.filter.src, 'options.filter.src');
      filter.flags |= CAPF_SRC;
      filter.src = p.addr;
      filter.srcMask = p.mask;
      families.add(p.family);
    }
    if (o.filter.dst !== undefined) {
      const p = prefixBytes(o.filter.dst, 'options.filter.dst');
      filter.flags |= CAPF_DST;
      filter.dst = p.addr;
      filter.dstMask = p.mask;
      families.add(p.family);
    }
    if (families.size > 1) throw new RangeError('options.filter: src and dst must be of one address family');
    if (families.size === 1) {
      filter.flags |= CAPF_FAMILY;
      filter.family = [...families][0]!;
    }
    const p = o.filter.protocol;
    if (p !== undefined) {
      const n = typeof p === 'string' ? PROTOCOLS[p] : p;
      if (typeof p === 'string' && n === undefined) throw new RangeError(`options.filter.protocol must be tcp, udp, icmp, icmpv6 or a number in [0, 255], got '${p}'`);
      checkUint32(n, 'options.filter.protocol');
      if (n! > 255) throw new RangeError(`options.filter.protocol must be in [0, 255], got ${n}`);
      filter.flags |= CAPF_PROTO;
      filter.proto = n!;
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`options.signal must be an AbortSignal, got ${describe(o.signal)}`);
  return { slots, mask, snaplen, rate, filter };
}

function encodeCfg(s: Settings, session: bigint): Buffer {
  const b = Buffer.alloc(CFG_SIZE);
  b.writeUInt32LE(s.mask, OFF.actions);
  b.writeUInt32LE(s.snaplen, OFF.snaplen);
  b.writeUInt32LE(s.rate, OFF.rate);
  b.writeUInt32LE(s.filter.flags, OFF.filter);
  b.writeUInt32LE(process.pid, OFF.ownerPid);
  b.writeBigUInt64LE(processStart(process.pid) ?? 0n, OFF.ownerStart);
  b.writeBigUInt64LE(session, OFF.session);
  b.writeUInt16LE(s.filter.family, OFF.family);
  b.writeUInt8(s.filter.proto, OFF.proto);
  b.set(s.filter.src, OFF.src);
  b.set(s.filter.srcMask, OFF.srcMask);
  b.set(s.filter.dst, OFF.dst);
  b.set(s.filter.dstMask, OFF.dstMask);
  return b;
}

/**
 * A running capture: an async iterable of {@link CapturedFrame}s, from {@link RootArray.capture}.
 * Closing it (or breaking out of `for await`, aborting its signal, dropping it to the garbage
 * collector, or the process exiting normally) switches capture off in the kernel. A process
 * killed by a signal leaves it on: {@link RootArray.status} shows it with its owner gone, and
 * the next capture or `xdp-root capture --stop` switches it off.
 *
 * Minimum kernel: 5.10 (as the root array). See docs/capture.md.
 *
 * @example
 * ```ts
 * using cap = await root.capture({ slot: 0, actions: ['drop'], snaplen: 96 });
 * for await (const f of cap) console.log(f.slot, f.action, f.length, f.data.toString('hex'));
 * ```
 */
export class Capture implements AsyncIterable<CapturedFrame>, Disposable {
  /** The slots capturing. */
  readonly slots: readonly number[];
  /** The verdicts captured. */
  readonly actions: readonly CaptureAction[];
  /** Bytes kept of each frame. */
  readonly snaplen: number;
  /** The interface, for display (and pcapng interface blocks). */
  readonly ifname: string;
  readonly ifindex: number;
  readonly #held: Held;
  readonly #reader: PerfBuffer;
  readonly #clockOffset: bigint;
  #closed = false;

  /** @internal Use {@link RootArray.capture}. */
  constructor(host: CaptureHost, settings: Settings, held: Held, reader: PerfBuffer) {
    this.slots = settings.slots;
    this.actions = CAPTURE_ACTIONS.filter((_, i) => (settings.mask >> i) & 1);
    this.snaplen = settings.snaplen;
    this.ifname = host.ifname;
    this.ifindex = host.ifindex;
    this.#held = held;
    this.#reader = reader;
    // bpf_ktime_get_ns() is CLOCK_MONOTONIC, as is process.hrtime; their distance to the epoch:
    this.#clockOffset = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();
  }

  /** Frames the kernel captured for this capture so far (summed over CPUs and slots). */
  get captured(): bigint {
    return this.#counter(OFF.captured);
  }

  /**
   * Frames lost so far: refused by the buffer (a CPU's ring full) in the kernel. Such frames are
   * counted in the slots' statistics as usual; they are only missing from the capture.
   */
  get lost(): bigint {
    return this.#counter(OFF.lost);
  }

  #counter(offset: number): bigint {
    if (this.#closed) return this.#final.get(offset) ?? 0n;
    let n = 0n;
    try {
      for (const slot of this.slots) {
        for (const c of this.#held.cfg.get(slot) ?? []) if (c.readBigUInt64LE(OFF.session) === this.#held.session) n += c.readBigUInt64LE(offset);
      }
    } catch {
      return n;
    }
    return n;
  }

  readonly #final = new Map<number, bigint>();

  /** Whether {@link Capture.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The frames, as they arrive. Ends when the capture is closed; breaking out closes it. */
  async *[Symbol.asyncIterator](): AsyncIterator<CapturedFrame> {
    try {
      for await (const rec of this.#reader) {
        const f = this.#decode(rec);
        if (f) yield f;
      }
    } finally {
      this.close();
    }
  }

  #decode(rec: Buffer): CapturedFrame | undefined {
    if (rec.length < HDR_SIZE) return undefined;
    const caplen = rec.readUInt32LE(12);
    const action = CAPTURE_ACTIONS[rec.readUInt16LE(26)] ?? 'invalid';
    return {
      data: Buffer.from(rec.subarray(HDR_SIZE, HDR_SIZE + Math.min(caplen, rec.length - HDR_SIZE))),
      length: rec.readUInt32LE(8),
      slot: rec.readUInt16LE(24),
      action,
      ifindex: rec.readUInt32LE(16),
      rxQueue: rec.readUInt32LE(20),
      timestamp: rec.readBigUInt64LE(0) + this.#clockOffset,
    };
  }

  /** Switches capture off in the kernel and ends the iteration. Idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#final.set(OFF.captured, this.captured);
      this.#final.set(OFF.lost, this.lost);
    } catch {
      // counters unreadable (root gone): keep zeros
    }
    this.#closed = true;
    registry.unregister(this);
    try {
      release(this.#held);
    } finally {
      this.#reader.close();
    }
  }

  /** Same as {@link Capture.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Starts a capture on a root array: called by {@link RootArray.capture} under its lock, after
 * it checked the handle. Refuses while another live process captures on this root (the perf
 * buffer has one reader); takes over what a dead one left on.
 * @internal
 */
export function startCapture(host: CaptureHost, options: CaptureOptions): Capture {
  const settings = captureSettings(options, host.slotCount, host.ifname);
  const where = host.netns === undefined ? host.ifname : `${host.ifname} (netns ${host.netns})`;
  if (![CAPTURE_MAP, CAPTURE_BUF, CAPTURE_ON_PIN].every((pin) => existsSync(join(host.dir, pin)))) {
    throw new BpfStateError(
      `the root array on ${where} has no capture maps (attached by a version without capture, or repaired): ` +
        `\`xdp-root attach ${host.ifname}\` upgrades its root and adds them; slots loaded before that do not capture until loaded again`,
    );
  }
  const cfg = openCfg(host.dir);
  let on: OnMap;
  try {
    on = openOn(host.dir);
  } catch (e) {
    cfg.close();
    throw e;
  }
  let reader: PerfBuffer | undefined;
  let capture: Capture | undefined;
  try {
    // Another capture: refuse while its process lives; clear what a dead one left on.
    for (let slot = 0; slot < host.slotCount; slot++) {
      const first = (cfg.get(slot) ?? [])[0];
      if (first === undefined || first.readUInt32LE(OFF.actions) === 0) continue;
      if (ownerAlive(first)) {
        const pid = first.readUInt32LE(OFF.ownerPid);
        throw new BpfStateError(
          `a capture already runs on ${where} (slot ${slot}, process ${pid}${pid === process.pid ? ', this one' : ''}): one capture per root array at a time; stop it first (\`xdp-root capture ${host.ifname} --stop\`)`,
        );
      }
    }
    for (const slot of settings.slots) {
      const prog = progOf(host, slot);
      if (prog !== undefined && options.slot !== undefined && options.slot !== 'all' && !usesMap(prog, cfg.id)) {
        throw new BpfStateError(`slot ${slot} on ${where} runs program ${prog}, which does not capture (built against an xdp_root.h without capture, or loaded before its root had capture): load it again`);
      }
    }
    stopAllCaptures(host.dir, host.slotCount);
    using buf = BpfMap.openPinned(join(host.dir, CAPTURE_BUF));
    reader = new PerfBuffer(buf, { pagesPerCpu: options.pagesPerCpu, signal: options.signal });
    let session = randomBytes(8).readBigUInt64LE(0);
    if (session === 0n) session = 1n;
    const held: Held = { cfg, on, session, slotCount: host.slotCount };
    capture = new Capture(host, settings, held, reader);
    live.set(session, held);
    registry.register(capture, held, capture);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const h of [...live.values()]) release(h);
      });
    }
    const c = capture;
    options.signal?.addEventListener('abort', () => c.close(), { once: true });
    const value = encodeCfg(settings, session);
    for (const slot of settings.slots) {
      const n = (cfg.get(slot) ?? []).length;
      cfg.set(slot, Array.from({ length: n }, () => value));
    }
    setOn(on, settings.slots, settings.mask); // last: the settings are complete when packets see it
    if (options.signal?.aborted) capture.close();
    return capture;
  } catch (e) {
    // Nothing stays switched on: close() clears the slots this session set.
    if (capture) capture.close();
    else {
      reader?.close();
      cfg.close();
      on.close();
    }
    throw e;
  }
}

function progOf(host: CaptureHost, slot: number): number | undefined {
  try {
    using slots = BpfMap.openPinned(join(host.dir, SLOTS_MAP));
    return slots.get(slot) as number | undefined;
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

function usesMap(progId: number, mapId: number): boolean {
  try {
    return programInfo(progId).mapIds.includes(mapId);
  } catch (e) {
    if (isMissing(e)) return true;
    throw e;
  }
}
