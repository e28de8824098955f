/**
 * {@link RootArray}: many XDP programs on one interface, chained through the tail-call slots
 * of a root program, with per-slot statistics.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, join } from 'node:path';
import { BpfError, BpfStateError } from './errors';
import { lockPath } from './lock';
import { BpfMap } from './map';
import { BpfObject } from './object';
import { BpfProgram } from './program';
import type { RootStatus, SlotStats, SlotStatus } from './root-array-status';
import { shippedObjectPath } from './shipped';
import { checkKnownKeys, checkNonEmptyString, checkObject, checkUint32, describe } from './validate';
import { attachXdp, detachXdp, queryXdp, type XdpMode } from './xdp';

/** Where root arrays keep their pinned state: `<base>/<ifname>[@<netns>]/`. */
export const DEFAULT_PIN_BASE = '/sys/fs/bpf/xdp-root';

/** The most slots a root can have (XDP_ROOT_MAX_SLOTS in `bpf/include/xdp_root.h`). */
export const MAX_SLOTS = 32;
/** The number of slots of a root unless asked otherwise. */
export const DEFAULT_SLOTS = 8;

// Names fixed by bpf/include/xdp_root.h and bpf/xdp_root.bpf.c.
const SLOTS_MAP = 'xdp_root_slots';
const STATS_MAP = 'xdp_root_stats';
const ROOT_PIN = 'root';
const ROOT_PROGRAM = 'xdp_root';
const SLOT_GLOBAL = 'xdp_root_slot';
const NSLOTS_GLOBAL = 'xdp_root_nslots';
const ROOT_STATS_INDEX = MAX_SLOTS;
// struct xdp_root_stats.actions indexes
const ACTIONS = ['aborted', 'drop', 'pass', 'tx', 'redirect', 'invalid'] as const;

/** Where a root array lives: an interface, in the caller's network namespace or another. */
export interface RootArrayLocation {
  /** The interface's network namespace, as a path (`/var/run/netns/NAME`); default: the caller's. */
  netns?: string;
  /** The bpffs folder holding every root array's state. Default {@link DEFAULT_PIN_BASE}. */
  pinBase?: string;
}

/** Options of {@link RootArray.attach}. */
export interface RootArrayAttachOptions extends RootArrayLocation {
  /** How many slots (1 to 32). Default 8. Fixed for the life of the root. */
  slots?: number;
  /** XDP mode. Default: the kernel's choice (native when the driver supports it). */
  mode?: XdpMode;
  /** Replace a foreign XDP program attached to the interface (default: refuse). */
  force?: boolean;
  /** The root program's object file; default: the shipped `xdp_root.bpf.o`. */
  rootObject?: string;
}

/** Options of {@link RootArray.load} and {@link RootArray.prepare}. */
export interface SlotLoadOptions {
  /** The XDP program of the object to put in the slot; needed when the object has several. */
  program?: string;
  /** Global variables to set before load (`.rodata` included), by name. */
  globals?: Record<string, unknown>;
}

const attachKeys = ['netns', 'pinBase', 'slots', 'mode', 'force', 'rootObject'] as const;
const locationKeys = ['netns', 'pinBase'] as const;
const loadKeys = ['program', 'globals'] as const;

function checkIfname(ifname: unknown): asserts ifname is string {
  checkNonEmptyString(ifname, 'ifname');
  if (ifname.length > 15 || /[/\s]/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new RangeError(`ifname must be an interface name (at most 15 characters, no '/' or spaces), got '${ifname}'`);
  }
}

function checkLocation(options: RootArrayLocation): void {
  if (options.netns !== undefined) checkNonEmptyString(options.netns, 'options.netns');
  if (options.pinBase !== undefined) {
    checkNonEmptyString(options.pinBase, 'options.pinBase');
    if (!options.pinBase.startsWith('/sys/fs/bpf/') || options.pinBase.split('/').includes('..')) {
      throw new RangeError(`options.pinBase must be a folder under /sys/fs/bpf/ without '..', got '${options.pinBase}'`);
    }
  }
}

/** The bpffs folder of the root array on `ifname`. */
export function rootArrayDir(ifname: string, options: RootArrayLocation = {}): string {
  const base = options.pinBase ?? DEFAULT_PIN_BASE;
  return join(base, options.netns === undefined ? ifname : `${ifname}@${basename(options.netns)}`);
}

/** What the kernel says about the program with this id. */
function programInfo(id: number): { name: string; loadTimeNs: bigint; mapIds: number[] } {
  using prog = BpfProgram.openById(id);
  return prog.kernelInfo();
}

/** Boot time as a wall-clock instant, to turn the kernel's load times into dates. */
function bootTimeMs(): number {
  const uptime = Number.parseFloat(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - uptime * 1000;
}

function emptyStats(): SlotStats {
  return { aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n, invalid: 0n, bytes: 0n, passedOn: 0n };
}

/** struct xdp_root_stats, as the typed stats map decodes it. */
interface RawStats {
  actions: bigint[];
  bytes: bigint;
  passed_on: bigint;
}

function sumStats(perCpu: readonly RawStats[]): SlotStats {
  const s = emptyStats();
  for (const cpu of perCpu) {
    ACTIONS.forEach((name, i) => (s[name] += cpu.actions[i]));
    s.bytes += cpu.bytes;
    s.passedOn += cpu.passed_on;
  }
  return s;
}

/**
 * An XDP root array on one interface: a root program attached to the interface that hands each
 * packet to the programs in slots 0, 1, 2 … through tail calls. The first filled slot takes
 * over; a program that ends with `xdp_root_return(ctx, XDP_PASS)` (from `xdp_root.h`) hands the
 * packet on to the next filled slot, and its verdicts are counted per slot. With every slot
 * empty, packets pass.
 *
 * State lives in the kernel and in bpffs, under `/sys/fs/bpf/xdp-root/<ifname>/`: the slots
 * (a prog array), the statistics (a per-CPU array) and the root program, all pinned; the root
 * is attached through netlink. It all survives the process that made it; {@link RootArray.open}
 * picks it up from any process, and {@link RootArray.detach} removes it. Changes from several
 * processes are serialized by a lock on that folder.
 *
 * Minimum kernel: 5.10 (tail calls with BPF-to-BPF calls, XDP_FLAGS_REPLACE).
 *
 * @example
 * ```ts
 * const root = await RootArray.attach('eth1', { slots: 8, mode: 'native' });
 * await root.load(2, './filter.bpf.o', { program: 'xdp_filter' });
 * await root.load(2, './filter-v2.bpf.o');   // atomic replace: one prog-array update
 * console.log(root.status().slots[2].stats);
 * await root.remove(2);
 * await root.detach();                        // unpins and removes everything it created
 * ```
 */
export class RootArray implements Disposable {
  /** The interface. */
  readonly ifname: string;
  /** The interface's namespace, when not the caller's. */
  readonly netns: string | undefined;
  /** The bpffs folder holding this root's state. */
  readonly dir: string;
  /** The number of slots. */
  readonly slotCount: number;
  readonly #slots: BpfMap;
  readonly #stats: BpfMap<number, RawStats[]>;
  #closed = false;

  private constructor(ifname: string, netns: string | undefined, dir: string, slotCount: number) {
    this.ifname = ifname;
    this.netns = netns;
    this.dir = dir;
    this.slotCount = slotCount;
    this.#slots = BpfMap.openPinned(join(dir, SLOTS_MAP));
    this.#stats = BpfMap.openPinned(join(dir, STATS_MAP)).typed<number, RawStats[]>();
  }

  /**
   * Attaches a root array to `ifname`, or reuses the one already there (attach is idempotent).
   * A root program of a newer object is swapped in atomically, keeping the mode and the slots.
   *
   * @throws {@link BpfError} `EBUSY` when a foreign XDP program is attached (name and id in the
   *   message) and `force` is not set; `ENODEV` for a missing interface; `EPERM` without
   *   CAP_NET_ADMIN/CAP_BPF
   * @throws RangeError for a slot count out of [1, 32], or one that differs from the running root's
   */
  static async attach(ifname: string, options: RootArrayAttachOptions = {}): Promise<RootArray> {
    checkIfname(ifname);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.attach options', attachKeys);
    checkLocation(options);
    const slots = options.slots ?? DEFAULT_SLOTS;
    checkUint32(slots, 'options.slots', 1);
    if (slots > MAX_SLOTS) throw new RangeError(`options.slots must be at most ${MAX_SLOTS}, got ${slots}`);
    const dir = rootArrayDir(ifname, options);
    const created = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    try {
      return await RootArray.#attachLocked(ifname, dir, slots, options);
    } catch (e) {
      // A failed first attach leaves nothing behind (a later, successful one pins into it).
      if (created && !existsSync(join(dir, ROOT_PIN))) rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  static async #attachLocked(ifname: string, dir: string, requestedSlots: number, options: RootArrayAttachOptions): Promise<RootArray> {
    const netns = options.netns;
    const iface = { netns };
    using lock = await lockPath(dir);
    void lock;
    let slots = requestedSlots;

    const attached = queryXdp(ifname, iface);
    let existing = RootArray.#pinnedRoot(dir);
    if (attached !== undefined && attached.progId !== existing?.id) existing = RootArray.#adopt(attached, dir) ?? existing;
    const ours = existing !== undefined && attached !== undefined && attached.progId === existing.id;
    // The slot count of a pinned root (running, or left unattached by an interrupted detach) is
    // kept by an upgrade or a re-attach: its slot programs were loaded for it.
    const pinnedSlots = existing !== undefined ? RootArray.#slotCountOf(existing.id) : undefined;
    if (pinnedSlots !== undefined && options.slots !== undefined && pinnedSlots !== slots) {
      throw new RangeError(`the root array on ${ifname} has ${pinnedSlots} slots; detach it first to change that (asked for ${slots})`);
    }
    if (pinnedSlots !== undefined) slots = pinnedSlots;
    if (ours && options.rootObject === undefined) return new RootArray(ifname, netns, dir, slots);
    if (!ours && attached !== undefined && !options.force) {
      throw new BpfError(
        'RootArray.attach',
        constants.errno.EBUSY,
        `${ifname} already runs XDP program '${attached.name}' (id ${attached.progId}, ${attached.mode}); ` +
          'pass { force: true } (xdp-root attach --force) to replace it',
      );
    }

    using obj = BpfObject.open(options.rootObject ?? shippedObjectPath('xdp_root'), { pinRoot: dir });
    obj.globals.set(NSLOTS_GLOBAL, slots);
    await obj.load();
    const program = obj.program(ROOT_PROGRAM);
    // An upgrade replaces our running root atomically in its mode; a foreign program only with force.
    const replacing = ours ? BpfProgram.openPinned(join(dir, ROOT_PIN)) : undefined;
    try {
      attachXdp(program, ifname, {
        netns,
        link: false,
        // Replacing keeps the running mode; so does forcing over a foreign program unless a mode
        // is asked for (native and generic XDP cannot both be active on one interface).
        mode: replacing || (options.mode === undefined && attached && attached.mode !== 'multi') ? (attached?.mode as XdpMode) : options.mode,
        replace: replacing,
        force: !ours && options.force === true,
      });
    } finally {
      replacing?.close();
    }
    rmSync(join(dir, ROOT_PIN), { force: true });
    program.pin(join(dir, ROOT_PIN));
    if (!ours) RootArray.#resetPinnedStats(dir, ROOT_STATS_INDEX);
    return new RootArray(ifname, netns, dir, slots);
  }

  /**
   * The root array already attached to `ifname` (by this or another process).
   * @throws {@link BpfStateError} when there is none
   */
  static open(ifname: string, options: RootArrayLocation = {}): RootArray {
    checkIfname(ifname);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.open options', locationKeys);
    checkLocation(options);
    const dir = rootArrayDir(ifname, options);
    let root = RootArray.#pinnedRoot(dir);
    if (existsSync(join(dir, SLOTS_MAP))) {
      // An attach or upgrade killed before it pinned the root it attached: adopt the running one.
      let attached: ReturnType<typeof queryXdp>;
      try {
        attached = queryXdp(ifname, { netns: options.netns });
      } catch (e) {
        if (!(e instanceof BpfError && e.code === 'ENODEV')) throw e;
      }
      if (attached !== undefined && attached.progId !== root?.id) root = RootArray.#adopt(attached, dir) ?? root;
    }
    if (root === undefined) {
      if (existsSync(join(dir, SLOTS_MAP)) || existsSync(join(dir, STATS_MAP))) {
        throw new BpfStateError(
          `the root array on ${ifname} is incomplete (an attach or detach was interrupted: maps pinned at ${dir}, no root): ` +
            'run `xdp-root attach` to complete it or `xdp-root detach` to remove it',
        );
      }
      throw new BpfStateError(`no root array on ${ifname} (nothing pinned at ${dir})`);
    }
    return new RootArray(ifname, options.netns, dir, RootArray.#slotCountOf(root.id));
  }

  /** Whether a root array's state is pinned for `ifname`. */
  static exists(ifname: string, options: RootArrayLocation = {}): boolean {
    checkIfname(ifname);
    return existsSync(join(rootArrayDir(ifname, options), ROOT_PIN));
  }

  /**
   * Removes whatever a root array on `ifname` left, complete or not: detaches the root (when the
   * running XDP program is ours: the pinned root, or an xdp_root using our pinned slots), and
   * removes every pin and the folder. This is what repairs the state an attach or detach killed
   * half-way leaves behind (`xdp-root detach` runs it). Returns false when there was nothing.
   */
  static async cleanup(ifname: string, options: RootArrayLocation = {}): Promise<boolean> {
    checkIfname(ifname);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.cleanup options', locationKeys);
    checkLocation(options);
    const dir = rootArrayDir(ifname, options);
    if (!existsSync(dir)) return false;
    {
      using lock = await lockPath(dir);
      void lock;
      let attached: ReturnType<typeof queryXdp>;
      try {
        attached = queryXdp(ifname, { netns: options.netns });
      } catch (e) {
        // The interface is gone, and its XDP program with it: only the pins are left.
        if (!(e instanceof BpfError && e.code === 'ENODEV')) throw e;
      }
      const pinned = RootArray.#pinnedRoot(dir)?.id;
      if (attached !== undefined && attached.mode !== 'multi' && (attached.progId === pinned || RootArray.#isOurRoot(attached, dir))) {
        detachXdp(ifname, { netns: options.netns, mode: attached.mode, expected: attached.progId });
      }
      for (const name of [ROOT_PIN, SLOTS_MAP, STATS_MAP]) rmSync(join(dir, name), { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
    return true;
  }

  /**
   * An attach or upgrade that died between attaching the root and pinning it leaves our root
   * running unpinned (or an older root pinned): the running xdp_root uses our pinned slots, so it
   * is ours. Pins it in place of whatever was pinned, and returns it; undefined if it is not ours.
   */
  static #adopt(attached: { progId: number; name: string }, dir: string): { id: number } | undefined {
    if (!RootArray.#isOurRoot(attached, dir)) return undefined;
    rmSync(join(dir, ROOT_PIN), { force: true });
    using adopted = BpfProgram.openById(attached.progId);
    try {
      adopted.pin(join(dir, ROOT_PIN));
    } catch (e) {
      // Another process adopted it at the same moment.
      if (!(e instanceof BpfError && e.code === 'EEXIST')) throw e;
    }
    return { id: attached.progId };
  }

  /** Whether the attached XDP program is a root of ours: an xdp_root using the slots pinned in `dir`. */
  static #isOurRoot(attached: { progId: number; name: string }, dir: string): boolean {
    if (attached.name !== ROOT_PROGRAM || !existsSync(join(dir, SLOTS_MAP))) return false;
    using slots = BpfMap.openPinned(join(dir, SLOTS_MAP));
    return programInfo(attached.progId).mapIds.includes(slots.id);
  }

  /** The pinned root program's kernel info, or undefined. */
  static #pinnedRoot(dir: string): { id: number } | undefined {
    if (!existsSync(join(dir, ROOT_PIN))) return undefined;
    using prog = BpfProgram.openPinned(join(dir, ROOT_PIN));
    return { id: prog.id };
  }

  /**
   * The slot count a running root was loaded with: its read-only xdp_root_nslots, read from the
   * root program's own .rodata map (found through the program's map ids), so no extra state
   * needs pinning.
   */
  static #slotCountOf(rootId: number): number {
    for (const mapId of programInfo(rootId).mapIds) {
      using map = BpfMap.openById(mapId);
      if (!map.name.endsWith('.rodata')) continue;
      const rodata = map.typed<number, Record<string, unknown>>().get(0);
      const n = rodata?.[NSLOTS_GLOBAL];
      if (typeof n === 'number') return n;
    }
    throw new BpfStateError(`root program ${rootId} has no readable ${NSLOTS_GLOBAL}: is it an xdp_root program?`);
  }

  /** Zeroes one entry of the statistics (every CPU's copy). */
  static #zeroStats(stats: BpfMap<number, RawStats[]>, index: number): void {
    const perCpu = stats.get(index) ?? [];
    stats.set(index, perCpu.map(() => ({ actions: ACTIONS.map(() => 0n), bytes: 0n, passed_on: 0n })));
  }

  /** {@link RootArray.#zeroStats} before a handle exists (attach): opens the pinned map for it. */
  static #resetPinnedStats(dir: string, index: number): void {
    using stats = BpfMap.openPinned(join(dir, STATS_MAP));
    RootArray.#zeroStats(stats.typed<number, RawStats[]>(), index);
  }

  /** Zeroes one entry through this handle's open, typed stats map: cheap enough to do under the lock. */
  #resetStats(index: number): void {
    RootArray.#zeroStats(this.#stats, index);
  }

  #check(what: string): void {
    if (this.#closed) throw new BpfStateError(`cannot ${what}: this RootArray handle is closed`);
  }

  #checkSlot(slot: unknown): asserts slot is number {
    checkUint32(slot, 'slot');
    if (slot >= this.slotCount) {
      throw new RangeError(`slot must be in [0, ${this.slotCount - 1}] on ${this.ifname} (it has ${this.slotCount} slots), got ${slot}`);
    }
  }

  /**
   * Opens an object for `slot` without loading it: the root's shared maps are reused (pin root),
   * the slot globals are set, the chosen XDP program is the only one that loads, with the root's
   * program type. Load it yourself, then install its program with {@link RootArray.load}.
   */
  prepare(slot: number, source: string | Uint8Array, options: SlotLoadOptions = {}): { object: BpfObject; program: BpfProgram } {
    this.#check('prepare a slot');
    this.#checkSlot(slot);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.load options', loadKeys);
    const object = BpfObject.open(source, { pinRoot: this.dir });
    try {
      const xdp = object.programs.filter((p) => p.type === 'xdp');
      let program: BpfProgram;
      if (options.program !== undefined) {
        program = object.program(options.program);
        if (program.type !== 'xdp') throw new TypeError(`program '${program.name}' is a ${program.type} program; a slot takes an XDP program`);
      } else if (xdp.length === 1) {
        program = xdp[0];
      } else if (xdp.length === 0) {
        throw new TypeError(`object '${object.name}' has no XDP program (SEC("xdp")) to put in a slot`);
      } else {
        throw new TypeError(`object '${object.name}' has several XDP programs (${xdp.map((p) => p.name).join(', ')}); choose one with { program }`);
      }
      for (const p of object.programs) p.autoload = p === program;
      // Tail calls need the callee to have the root's program type and expected attach type.
      program.type = 'xdp';
      program.expectedAttachType = 'xdp';
      if (object.globals.has(SLOT_GLOBAL)) object.globals.set(SLOT_GLOBAL, slot);
      if (object.globals.has(NSLOTS_GLOBAL)) object.globals.set(NSLOTS_GLOBAL, this.slotCount);
      for (const [name, value] of Object.entries(options.globals ?? {})) object.globals.set(name, value);
      return { object, program };
    } catch (e) {
      object.close();
      throw e;
    }
  }

  /**
   * Puts a program in `slot`, replacing what was there in one prog-array update (no packet
   * misses the slot), and resets the slot's counters.
   *
   * - With a path or Buffer: opens the object (see {@link RootArray.prepare}), loads it, installs
   *   its program and closes the object; the slot keeps the program in the kernel.
   * - With a loaded {@link BpfProgram}: installs it; you keep the object (for its maps).
   *
   * @throws RangeError for a slot out of range; TypeError for an object without an XDP program;
   *   {@link BpfVerifierError} when the program does not load; {@link BpfError} when the kernel
   *   refuses the program for the slot (a program type other than the root's)
   */
  async load(slot: number, source: string | Uint8Array | BpfProgram, options: SlotLoadOptions = {}): Promise<SlotStatus> {
    this.#check('load a slot');
    this.#checkSlot(slot);
    if (source instanceof BpfProgram) {
      if (source.type !== 'xdp') throw new TypeError(`program '${source.name}' is a ${source.type} program; a slot takes an XDP program`);
      await this.#install(slot, source);
      return this.status().slots[slot];
    }
    if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
      throw new TypeError(`source must be a path, a Buffer or a loaded BpfProgram, got ${describe(source)}`);
    }
    const { object, program } = this.prepare(slot, source, options);
    try {
      await object.load();
      await this.#install(slot, program);
    } finally {
      object.close();
    }
    return this.status().slots[slot];
  }

  async #install(slot: number, program: BpfProgram): Promise<void> {
    using lock = await lockPath(this.dir);
    void lock;
    this.#resetStats(slot);
    this.#slots.set(slot, program);
  }

  /**
   * Empties `slot` (packets go on to the next filled slot) and resets its counters. Returns whether
   * it held a program.
   *
   * @param options.expected Empty the slot only if it holds this program (a loaded
   *   {@link BpfProgram} or a kernel id); otherwise leave it as it is and return false. Checked
   *   under the root's lock, so a program another process put there meanwhile is never removed.
   */
  async remove(slot: number, options: { expected?: BpfProgram | number } = {}): Promise<boolean> {
    this.#check('remove a slot');
    this.#checkSlot(slot);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.remove options', ['expected']);
    const expected = options.expected instanceof BpfProgram ? options.expected.id : options.expected;
    if (expected !== undefined) checkUint32(expected, 'options.expected', 1);
    using lock = await lockPath(this.dir);
    void lock;
    if (expected !== undefined && this.#slots.get(slot) !== expected) return false;
    const removed = this.#slots.delete(slot);
    this.#resetStats(slot);
    return removed;
  }

  /** Resets the counters of one slot, or of every slot and the root. */
  clear(slot?: number): void {
    this.#check('clear counters');
    if (slot !== undefined) {
      this.#checkSlot(slot);
      this.#resetStats(slot);
      return;
    }
    for (let i = 0; i < this.slotCount; i++) this.#resetStats(i);
    this.#resetStats(ROOT_STATS_INDEX);
  }

  /** What runs in each slot, with its counters, and the root's own counters. */
  status(): RootStatus {
    this.#check('read the status');
    const boot = bootTimeMs();
    const attached = queryXdp(this.ifname, { netns: this.netns });
    using root = BpfProgram.openPinned(join(this.dir, ROOT_PIN));
    const statsMapId = this.#stats.id;
    const slots: SlotStatus[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) {
      const progId = this.#slots.get(slot) as number | undefined;
      const stats = sumStats(this.#stats.get(slot) ?? []);
      if (progId === undefined) {
        slots.push({ slot, progId: undefined, name: undefined, loadedAt: undefined, counted: false, stats });
        continue;
      }
      const info = programInfo(progId);
      slots.push({
        slot,
        progId,
        name: info.name,
        loadedAt: new Date(boot + Number(info.loadTimeNs / 1_000_000n)),
        counted: info.mapIds.includes(statsMapId),
        stats,
      });
    }
    const rootStats = sumStats(this.#stats.get(ROOT_STATS_INDEX) ?? []);
    return {
      ifname: this.ifname,
      ifindex: attached?.ifindex ?? 0,
      netns: this.netns,
      mode: attached && attached.progId === root.id && attached.mode !== 'multi' ? attached.mode : undefined,
      rootProgId: root.id,
      slotCount: this.slotCount,
      root: { packets: rootStats.passedOn + rootStats.pass, bytes: rootStats.bytes, noSlot: rootStats.pass },
      slots,
    };
  }

  /**
   * Detaches the root from the interface and removes everything this root array pinned: the
   * slots (their programs leave the kernel), the statistics and the root. Closes this handle.
   */
  async detach(): Promise<void> {
    this.#check('detach');
    {
      using lock = await lockPath(this.dir);
      void lock;
      const rootId = RootArray.#pinnedRoot(this.dir)?.id;
      const attached = queryXdp(this.ifname, { netns: this.netns });
      if (rootId !== undefined && attached !== undefined && attached.progId === rootId && attached.mode !== 'multi') {
        detachXdp(this.ifname, { netns: this.netns, mode: attached.mode, expected: rootId });
      }
      this.close();
      for (const name of [ROOT_PIN, SLOTS_MAP, STATS_MAP]) rmSync(join(this.dir, name), { force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Releases this handle's fds. The root array stays in the kernel. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slots.close();
    this.#stats.close();
  }

  /** Same as {@link RootArray.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
