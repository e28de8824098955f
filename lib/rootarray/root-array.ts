/**
 * {@link RootArray}: many XDP programs on one interface, chained through the tail-call slots
 * of a root program, with per-slot statistics.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { makeDirectories } from '../internal/mkdir';
import { constants } from 'node:os';
import { join } from 'node:path';
import { BpfError, BpfStateError } from '../errors';
import type { InterfaceRef } from '../internal/iface';
import { lockPinBase } from './lock';
import { BpfMap } from '../map/map';
import { binding } from '../internal/native';
import { BpfObject } from '../object';
import { BpfProgram } from '../program';
import {
  STATE_LAYOUT,
  checkBpffs,
  decodeState,
  interfaceId,
  isNoDevice,
  netnsId,
  newGeneration,
  rootKey,
  sameNetns,
  type InterfaceId,
  type RootState,
} from './state';
import {
  CAPTURE_PINS,
  NSLOTS_GLOBAL,
  ROOT_PIN,
  ROOT_PROGRAM,
  SLOTS_MAP,
  STATE_MAP,
  STATS_MAP,
  attachedOf,
  inspectRoot,
  isMissing,
  isRootOf,
  legacyDir,
  newStateMap,
  openPins,
  programInfo,
  removePins,
  rootMap,
  slotCountOf,
  whereText,
  writeState,
  type Attached,
  type RootEntry,
} from './pins';
import type { RootStatus, SlotStats, SlotStatus } from './status';
import { Capture, captureSettings, captureStatus, startCapture, stopAllCaptures, type CaptureOptions } from './capture';
import { metadataDecision, metadataOf, passMetaOf, PASS_META_GLOBAL } from './meta';

export type { RootCondition, RootEntry } from './pins';
import { shippedObjectPath } from '../shipped';
import { checkKnownKeys, checkNonEmptyString, checkObject, checkUint32, describe } from '../internal/validate';
import { attachXdp, detachXdp, type XdpMode } from '../attach/xdp';

/**
 * Where root arrays keep their pinned state: `<base>/net-<dev>-<ino>-if-<ifindex>/`, one folder
 * per interface, named by the kernel identity of its network namespace and its ifindex.
 */
export const DEFAULT_PIN_BASE = '/sys/fs/bpf/xdp-root';

/** The most slots a root can have (XDP_ROOT_MAX_SLOTS in `bpf/include/xdp_root.h`). */
export const MAX_SLOTS = 32;
/** The number of slots of a root unless asked otherwise. */
export const DEFAULT_SLOTS = 8;

const SLOT_GLOBAL = 'xdp_root_slot';
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
  /**
   * XDP mode. Default: the kernel's choice (native when the driver supports it). A running root
   * in another mode is not switched: that is a {@link BpfStateError}.
   */
  mode?: XdpMode;
  /** Replace a foreign XDP program attached to the interface (default: refuse). */
  force?: boolean;
  /** The root program's object file; default: the shipped `xdp_root.bpf.o`. */
  rootObject?: string;
  /**
   * Parse each packet once in the root and hand the summary to the slots in the XDP metadata
   * area (`xdp_root_pass_meta`, `bpf/include/xdp_meta.h`). Default: off for a new root; a running
   * root keeps its setting. Given, and different from what the running root does, the root
   * program is reloaded (from `rootObject`, default the shipped one) and swapped in atomically,
   * keeping mode, slots and counters. Where the kernel's probe says it cannot (the verifier
   * refuses `bpf_xdp_adjust_meta` in XDP programs, or less than 64 bytes of metadata), it turns
   * itself off and `status().metadata` says why; the slots then parse for themselves.
   */
  passMeta?: boolean;
}

/** Options of {@link RootArray.cleanup}. */
export interface RootArrayCleanupOptions extends RootArrayLocation {
  /**
   * Also detach an `xdp_root` program whose pins are missing (it cannot be proven ours). Without
   * it, that case is a {@link BpfStateError} suggesting `repair`.
   */
  force?: boolean;
}

/** Options of {@link RootArray.load} and {@link RootArray.prepare}. */
export interface SlotLoadOptions {
  /** The XDP program of the object to put in the slot; needed when the object has several. */
  program?: string;
  /** Global variables to set before load (`.rodata` included), by name. */
  globals?: Record<string, unknown>;
  /** The object's name when the source is a Buffer (see `OpenOptions.objectName`); default `bpf_object`. */
  objectName?: string;
}

const attachKeys = ['netns', 'pinBase', 'slots', 'mode', 'force', 'rootObject', 'passMeta'] as const;
const locationKeys = ['netns', 'pinBase'] as const;
const cleanupKeys = ['netns', 'pinBase', 'force'] as const;
const loadKeys = ['program', 'globals', 'objectName'] as const;

function checkIface(iface: unknown): asserts iface is InterfaceRef {
  if (typeof iface === 'number') {
    checkUint32(iface, 'ifname', 1);
    return;
  }
  checkNonEmptyString(iface, 'ifname');
  if (iface.length > 15 || /[/\s\0]/.test(iface) || iface === '.' || iface === '..') {
    throw new RangeError(`ifname must be an interface name (at most 15 characters, no '/' or spaces), got '${iface}'`);
  }
}

function checkLocation(options: RootArrayLocation): void {
  if (options.netns !== undefined) {
    checkNonEmptyString(options.netns, 'options.netns');
    netnsId(options.netns); // RangeError unless a namespace file
  }
  if (options.pinBase !== undefined) {
    checkNonEmptyString(options.pinBase, 'options.pinBase');
    if (!options.pinBase.startsWith('/sys/fs/bpf/') || options.pinBase.split('/').includes('..')) {
      throw new RangeError(`options.pinBase must be a folder under /sys/fs/bpf/ without '..', got '${options.pinBase}'`);
    }
  }
}

function checkedLocation(options: unknown, what: string, keys: readonly string[]): RootArrayLocation {
  checkObject(options, 'options');
  checkKnownKeys(options as Record<string, unknown>, what, keys);
  checkLocation(options as RootArrayLocation);
  return options as RootArrayLocation;
}

/**
 * The bpffs folder of the root array on `iface`: named by the kernel identity of the interface
 * (its namespace's device and inode, its ifindex), so renames and same-named interfaces in other
 * namespaces never collide.
 * @throws {@link BpfError} `ENODEV` when the interface does not exist
 */
export function rootArrayDir(iface: InterfaceRef, options: RootArrayLocation = {}): string {
  checkIface(iface);
  checkedLocation(options, 'rootArrayDir options', locationKeys);
  const id = interfaceId(iface, options.netns);
  return join(options.pinBase ?? DEFAULT_PIN_BASE, rootKey(id.netns, id.ifindex));
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

function zeroStats(stats: BpfMap<number, RawStats[]>, index: number): void {
  const perCpu = stats.get(index) ?? [];
  stats.set(index, perCpu.map(() => ({ actions: ACTIONS.map(() => 0n), bytes: 0n, passed_on: 0n })));
}


/**
 * An XDP root array on one interface: a root program attached to the interface that hands each
 * packet to the programs in slots 0, 1, 2 … through tail calls. The first filled slot takes
 * over; a program that ends with `xdp_root_return(ctx, XDP_PASS)` (from `xdp_root.h`) hands the
 * packet on to the next filled slot, and its verdicts are counted per slot. With every slot
 * empty, packets pass.
 *
 * **Identity.** A root array is the interface's, by kernel identity: the network namespace's
 * nsfs device and inode, and the ifindex. Its state lives in bpffs under
 * `/sys/fs/bpf/xdp-root/net-<dev>-<ino>-if-<ifindex>/`: the slots (a prog array), the
 * statistics (a per-CPU array), a one-entry state map (identity, generation, root program id,
 * and the interface's name and namespace path for display) and the root program, all pinned;
 * the root is attached through netlink. Renaming the interface changes nothing; interfaces of
 * the same name in different namespaces have different root arrays. It all survives the process
 * that made it; {@link RootArray.open} picks it up from any process (by name or ifindex), and
 * {@link RootArray.detach} removes it.
 *
 * **Concurrency.** Changes from several processes are serialized by a lock on the pin base
 * folder, which is never removed. Every change made through a handle first checks, under that
 * lock, that the handle still refers to the live root array (same state map and generation, its
 * root still attached); otherwise it throws {@link BpfStateError} saying what changed and
 * changes nothing. An upgrade of the root program (attach with `rootObject`) keeps the slots,
 * so handles stay valid.
 *
 * **Orphans.** A namespace or interface that disappears takes the attachment with it, but the
 * pins keep the programs loaded: {@link RootArray.list} marks those roots, and
 * {@link RootArray.cleanupOrphans} (`xdp-root cleanup --orphans`) removes them.
 * {@link RootArray.repair} re-pins what is missing for a root that still runs.
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
  /** The interface's name when this handle was made (for display; the ifindex is the identity). */
  readonly ifname: string;
  /** The interface's index in its namespace. */
  readonly ifindex: number;
  /** The interface's namespace path, when not the caller's. */
  readonly netns: string | undefined;
  /** The namespace's kernel identity: device and inode of its nsfs file. */
  readonly netnsDev: number;
  readonly netnsIno: number;
  /** The bpffs folder holding every root array (the one locked for changes). */
  readonly pinBase: string;
  /** The bpffs folder holding this root's state. */
  readonly dir: string;
  /** The number of slots. */
  readonly slotCount: number;
  /** The generation of the root array this handle refers to (chosen when it was created). */
  readonly generation: bigint;
  readonly #slots: BpfMap;
  readonly #stats: BpfMap<number, RawStats[]>;
  readonly #stateId: number;

  private constructor(id: InterfaceId, pinBase: string, dir: string, slotCount: number) {
    this.ifname = id.ifname;
    this.ifindex = id.ifindex;
    this.netns = id.netnsPath;
    this.netnsDev = id.netns.dev;
    this.netnsIno = id.netns.ino;
    this.pinBase = pinBase;
    this.dir = dir;
    this.slotCount = slotCount;
    using state = BpfMap.openPinned(join(dir, STATE_MAP));
    this.#stateId = state.id;
    this.generation = decodeState(state.get(0) as Buffer).generation;
    this.#slots = BpfMap.openPinned(join(dir, SLOTS_MAP));
    try {
      this.#stats = BpfMap.openPinned(join(dir, STATS_MAP)).typed<number, RawStats[]>();
    } catch (e) {
      this.#slots.close();
      throw e;
    }
  }

  /**
   * Attaches a root array to an interface (name or ifindex), or reuses the one already there
   * (attach is idempotent; a root found in the old pin layout is migrated). A root program of a
   * newer object (`rootObject`), or one for another metadata hand-off (`passMeta`), is swapped in
   * atomically, keeping the mode and the slots. A root
   * that is pinned but no longer attached is attached again with its slots.
   *
   * @throws {@link BpfError} `EBUSY` when a foreign XDP program is attached (name and id in the
   *   message) and `force` is not set, or an `xdp_root` whose pins are not here (use
   *   {@link RootArray.repair}); `ENODEV` for a missing interface; `EPERM` without
   *   CAP_NET_ADMIN/CAP_BPF
   * @throws {@link BpfStateError} when the running root is in another mode than `mode`, or the pin
   *   base is not on bpffs
   * @throws RangeError for a slot count out of [1, 32], or one that differs from the running
   *   root's; for a `netns` that is not a namespace file
   */
  static async attach(ifname: InterfaceRef, options: RootArrayAttachOptions = {}): Promise<RootArray> {
    checkIface(ifname);
    checkedLocation(options, 'RootArray.attach options', attachKeys);
    const slots = options.slots ?? DEFAULT_SLOTS;
    checkUint32(slots, 'options.slots', 1);
    if (slots > MAX_SLOTS) throw new RangeError(`options.slots must be at most ${MAX_SLOTS}, got ${slots}`);
    if (options.passMeta !== undefined && typeof options.passMeta !== 'boolean') throw new TypeError(`options.passMeta must be a boolean, got ${describe(options.passMeta)}`);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    using lock = await lockPinBase(base);
    void lock;
    const id = interfaceId(ifname, options.netns);
    await RootArray.#migrateLocked(base, id);
    const dir = join(base, rootKey(id.netns, id.ifindex));
    const created = !existsSync(dir);
    try {
      return await RootArray.#attachLocked(id, base, dir, slots, options);
    } catch (e) {
      // A failed first attach leaves nothing behind.
      if (created && !existsSync(join(dir, ROOT_PIN))) removePins(dir);
      throw e;
    }
  }

  static async #attachLocked(id: InterfaceId, base: string, dir: string, requestedSlots: number, options: RootArrayAttachOptions): Promise<RootArray> {
    const netns = id.netnsPath;
    const where = whereText(id.ifname, netns);
    const attached = attachedOf(id.query);
    using pins = openPins(dir);
    const ours =
      attached !== undefined &&
      pins.slots !== undefined &&
      (attached.progId === pins.decoded?.rootProgId || attached.progId === pins.root || isRootOf(attached, pins.slots.id));
    // Maps worth keeping: all three pinned (a root detached by an interrupted detach, or by
    // someone else, keeps its slot programs when attached again).
    const reusable = pins.slots !== undefined && pins.stats !== undefined && pins.state !== undefined;
    if (ours && !reusable) {
      // Our root runs but pins are missing: complete them first.
      (await RootArray.#repairLocked(id, base, dir)).close();
      return RootArray.#attachLocked(id, base, dir, requestedSlots, options);
    }
    if (!ours && !reusable && existsSync(dir)) removePins(dir); // leftovers of an interrupted attach

    const runningRoot = ours ? attached.progId : reusable ? (pins.root ?? undefined) : undefined;
    let slots = requestedSlots;
    const pinnedSlots = runningRoot !== undefined ? slotCountOf(runningRoot) : undefined;
    if (pinnedSlots !== undefined && options.slots !== undefined && pinnedSlots !== slots) {
      throw new RangeError(`the root array on ${where} has ${pinnedSlots} slots; detach it first to change that (asked for ${slots})`);
    }
    if (pinnedSlots !== undefined) slots = pinnedSlots;
    if (ours && options.mode !== undefined && attached.mode !== options.mode) {
      throw new BpfStateError(
        `the root array on ${where} runs in ${attached.mode} mode, not ${options.mode}: detach it first (xdp-root detach) to attach it in ${options.mode} mode`,
      );
    }
    // A hand-off asked for that the running root does not do (and this kernel allows), or one
    // asked off that it does: the root is reloaded, swapped in atomically like an upgrade.
    const switchesHandoff = ours && options.passMeta !== undefined && metadataDecision(options.passMeta).passing !== passMetaOf(attached.progId);
    if (ours && options.rootObject === undefined && !switchesHandoff) {
      if (pins.root !== attached.progId) RootArray.#pinRoot(dir, attached.progId); // root pin lost or stale
      const d = pins.decoded!;
      if (d.layout !== STATE_LAYOUT || d.generation === 0n) {
        // An attach killed before it recorded anything: record it all, as a new generation.
        writeState(pins.state!, { layout: STATE_LAYOUT, ifindex: id.ifindex, netns: id.netns, generation: newGeneration(), rootProgId: attached.progId, upgrades: 0, ifname: id.ifname, netnsPath: id.netnsPath });
      } else if (d.rootProgId !== attached.progId || d.ifname !== id.ifname) {
        writeState(pins.state!, { ...d, rootProgId: attached.progId, ifname: id.ifname }); // adopted, or renamed
      }
      return new RootArray(id, base, dir, slots);
    }
    if (!ours && attached !== undefined && !options.force) {
      const hint =
        attached.name === ROOT_PROGRAM
          ? `its pins are not under ${base} (removed, or another pin base): \`xdp-root repair ${id.ifname}\` re-pins it here; pass { force: true } (--force) to replace it`
          : 'pass { force: true } (xdp-root attach --force) to replace it';
      throw new BpfError(
        'RootArray.attach',
        constants.errno.EBUSY,
        `${where} already runs XDP program '${attached.name}' (id ${attached.progId}, ${attached.mode}); ${hint}`,
      );
    }

    using obj = BpfObject.open(options.rootObject ?? shippedObjectPath('xdp_root'));
    obj.globals.set(NSLOTS_GLOBAL, slots);
    // The metadata hand-off, where the kernel allows it (else the verifier could refuse the root).
    const passMeta = metadataDecision(options.passMeta ?? (runningRoot !== undefined && passMetaOf(runningRoot))).passing;
    if (obj.globals.has(PASS_META_GLOBAL)) obj.globals.set(PASS_META_GLOBAL, passMeta);
    if (reusable) {
      obj.map(SLOTS_MAP).reuse(pins.slots!);
      obj.map(STATS_MAP).reuse(pins.stats!);
      obj.map(STATE_MAP).reuse(pins.state!);
    }
    // Capture's maps: kept across upgrades like the slots; a root from before capture gets them now.
    const captureMaps = RootArray.#captureMapsOf(obj);
    const keptCapture: BpfMap[] = [];
    try {
      for (const [name, pin] of captureMaps) {
        if (!reusable || !existsSync(join(dir, pin))) continue;
        const m = BpfMap.openPinned(join(dir, pin));
        keptCapture.push(m);
        obj.map(name).reuse(m);
      }
      await obj.load();
    } finally {
      for (const m of keptCapture) m.close();
    }
    const program = obj.program(ROOT_PROGRAM);
    if (!reusable) {
      // Pinned before the attach: an attach killed after it leaves a root that open() and
      // repair() recognize by these slots.
      makeDirectories(dir, 'root array pin folder');
      for (const name of [SLOTS_MAP, STATS_MAP, STATE_MAP]) obj.map(name).pin(join(dir, name));
    }
    for (const [name, pin] of captureMaps) if (!existsSync(join(dir, pin))) obj.map(name).pin(join(dir, pin));
    // An upgrade replaces our running root atomically in its mode; a foreign program only with force.
    const replacing = ours ? BpfProgram.openById(attached.progId) : undefined;
    try {
      attachXdp(program, id.ifindex, {
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
    const previous = reusable ? pins.decoded : undefined;
    using state = BpfMap.openPinned(join(dir, STATE_MAP));
    writeState(state, {
      layout: STATE_LAYOUT,
      ifindex: id.ifindex,
      netns: id.netns,
      generation: previous && previous.layout === STATE_LAYOUT && previous.generation !== 0n ? previous.generation : newGeneration(),
      rootProgId: program.id,
      upgrades: (previous?.upgrades ?? 0) + (ours ? 1 : 0),
      ifname: id.ifname,
      netnsPath: netns,
    });
    if (!ours) {
      using stats = BpfMap.openPinned(join(dir, STATS_MAP));
      zeroStats(stats.typed<number, RawStats[]>(), ROOT_STATS_INDEX);
    }
    return new RootArray(id, base, dir, slots);
  }

  /**
   * The root array already attached to an interface (by this or another process), by name or
   * ifindex.
   * @throws {@link BpfStateError} when there is none, when its pins are damaged or in the old
   *   layout (the message names the command that fixes it), or the pin base is not on bpffs
   * @throws {@link BpfError} `ENODEV` when the interface does not exist
   */
  static open(ifname: InterfaceRef, options: RootArrayLocation = {}): RootArray {
    checkIface(ifname);
    checkedLocation(options, 'RootArray.open options', locationKeys);
    try {
      return RootArray.#open(ifname, options);
    } catch (e) {
      // Open takes no lock: a pin or program that went away half-way means another process
      // detached it meanwhile.
      if (!isMissing(e)) throw e;
      throw new BpfStateError(`the root array on ${whereText(String(ifname), options.netns)} changed while it was being opened (detached by another process?): ${(e as Error).message}`);
    }
  }

  static #open(ifname: InterfaceRef, options: RootArrayLocation): RootArray {
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    checkBpffs(base);
    const id = interfaceId(ifname, options.netns);
    const where = whereText(id.ifname, id.netnsPath);
    const dir = join(base, rootKey(id.netns, id.ifindex));
    const attached = attachedOf(id.query);
    if (!existsSync(dir)) {
      const legacy = legacyDir(base, id.ifname, id.netnsPath);
      if (existsSync(join(legacy, SLOTS_MAP)) || existsSync(join(legacy, ROOT_PIN))) {
        throw new BpfStateError(`the root array on ${where} is pinned in the old layout at ${legacy}: run \`xdp-root migrate\` (RootArray.migrate()) once, or attach it again`);
      }
      if (attached?.name === ROOT_PROGRAM) {
        throw new BpfStateError(
          `xdp_root (id ${attached.progId}) is attached to ${where} but nothing is pinned for it at ${dir}: ` +
            `run \`xdp-root repair ${id.ifname}\` to re-pin it, or \`xdp-root detach --force ${id.ifname}\` to remove it`,
        );
      }
      throw new BpfStateError(`no root array on ${where} (nothing pinned at ${dir})`);
    }
    {
      using pins = openPins(dir);
      const ours = attached !== undefined && pins.slots !== undefined && isRootOf(attached, pins.slots.id);
      const missing = [
        pins.slots === undefined && 'slots map',
        pins.stats === undefined && 'statistics map',
        pins.state === undefined && 'state map',
      ].filter((x): x is string => typeof x === 'string');
      if (missing.length > 0 || (pins.root === undefined && !ours)) {
        if (ours || (attached?.name === ROOT_PROGRAM && pins.slots === undefined)) {
          throw new BpfStateError(
            `the root array on ${where} is damaged: ${missing.join(', ') || 'root program pin'} missing at ${dir}: ` +
              `run \`xdp-root repair ${id.ifname}\` (RootArray.repair) to re-pin it from the running root, or \`xdp-root detach ${id.ifname}\``,
          );
        }
        throw new BpfStateError(
          `the root array on ${where} is incomplete (an attach or detach was interrupted: ${missing.join(', ') || 'no root program'} at ${dir}): ` +
            'run `xdp-root attach` to complete it or `xdp-root detach` to remove it',
        );
      }
      // An attach or upgrade killed between attaching the root and recording it: the running
      // xdp_root uses our slots, so it is ours. Recording it is idempotent, so no lock is needed.
      if (ours && (attached.progId !== pins.decoded?.rootProgId || attached.progId !== pins.root)) {
        RootArray.#pinRoot(dir, attached.progId);
        const d = pins.decoded;
        const valid = d !== undefined && d.layout === STATE_LAYOUT && d.generation !== 0n;
        writeState(pins.state!, {
          layout: STATE_LAYOUT,
          ifindex: id.ifindex,
          netns: id.netns,
          generation: valid ? d.generation : newGeneration(),
          rootProgId: attached.progId,
          upgrades: (d?.upgrades ?? 0) + 1,
          ifname: id.ifname,
          netnsPath: id.netnsPath,
        });
      }
    }
    using root = BpfProgram.openPinned(join(dir, ROOT_PIN));
    return new RootArray(id, base, dir, slotCountOf(root.id));
  }

  /** Whether a root array is pinned for the interface (false when the interface does not exist). */
  static exists(ifname: InterfaceRef, options: RootArrayLocation = {}): boolean {
    checkIface(ifname);
    checkedLocation(options, 'RootArray.exists options', locationKeys);
    try {
      return existsSync(join(rootArrayDir(ifname, options), ROOT_PIN));
    } catch (e) {
      if (isNoDevice(e)) return false;
      throw e;
    }
  }

  /**
   * Removes the root array of an interface, complete or not: detaches its root (the running XDP
   * program when it is ours: the recorded or pinned root, or an xdp_root using our pinned slots),
   * confirms with the kernel that it is gone, and removes every pin and the folder. This repairs
   * what an attach or detach killed half-way leaves behind (`xdp-root detach` runs it). Returns
   * false when there was nothing. Acts on the interface's identity, not its name: after a rename,
   * the new name finds the root.
   *
   * @throws {@link BpfStateError} when an `xdp_root` runs whose pins are missing (run
   *   {@link RootArray.repair}, or pass `force`)
   * @throws {@link BpfError} `ENODEV` when the interface does not exist (a root whose interface or
   *   namespace is gone is an orphan: {@link RootArray.cleanupOrphans}); `EBUSY` when the kernel
   *   still runs the root after the detach
   */
  static async cleanup(ifname: InterfaceRef, options: RootArrayCleanupOptions = {}): Promise<boolean> {
    checkIface(ifname);
    checkedLocation(options, 'RootArray.cleanup options', cleanupKeys);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    using lock = await lockPinBase(base);
    void lock;
    let id: InterfaceId;
    try {
      id = interfaceId(ifname, options.netns);
    } catch (e) {
      if (!isNoDevice(e)) throw e;
      throw new BpfError(
        'RootArray.cleanup',
        constants.errno.ENODEV,
        `no interface ${whereText(String(ifname), options.netns)}: a root array whose interface or namespace is gone is an orphan; \`xdp-root cleanup --orphans\` removes it`,
      );
    }
    await RootArray.#migrateLocked(base, id);
    return RootArray.#detachLocked(id, join(base, rootKey(id.netns, id.ifindex)), options.force === true);
  }

  /** Detaches (confirmed by a query) and unpins. Under the lock. */
  static #detachLocked(id: InterfaceId, dir: string, force: boolean): boolean {
    const where = whereText(id.ifname, id.netnsPath);
    const attached = attachedOf(id.query);
    const hasDir = existsSync(dir);
    let ours = false;
    if (hasDir && attached !== undefined) {
      using pins = openPins(dir);
      ours = attached.progId === pins.decoded?.rootProgId || attached.progId === pins.root || isRootOf(attached, pins.slots?.id);
    }
    if (attached !== undefined && !ours && attached.name === ROOT_PROGRAM) {
      if (!force) {
        throw new BpfStateError(
          `xdp_root (id ${attached.progId}) runs on ${where} but its pins are missing${hasDir ? ' or belong to another root' : ''} at ${dir}: ` +
            `run \`xdp-root repair ${id.ifname}\` to re-pin it, or \`xdp-root detach --force ${id.ifname}\` to detach it anyway`,
        );
      }
      ours = true;
    }
    let detached = false;
    if (ours && attached !== undefined) {
      if (attached.mode === 'multi') {
        throw new BpfStateError(`${where} runs XDP programs in several modes; detach them with \`ip link set ${id.ifname} xdp off\` first`);
      }
      detachXdp(id.ifindex, { netns: id.netnsPath, mode: attached.mode, expected: attached.progId });
      // Success only once the kernel confirms.
      const after = attachedOf(binding.xdpQuery({ index: id.ifindex, ...(id.netnsPath === undefined ? {} : { netns: id.netnsPath }) }));
      if (after?.progId === attached.progId) {
        throw new BpfError('RootArray.detach', constants.errno.EBUSY, `root program ${attached.progId} is still attached to ${where} after the detach`);
      }
      detached = true;
    }
    if (!hasDir) return detached;
    removePins(dir);
    return true;
  }

  /**
   * Re-pins what is missing for the xdp_root running on an interface (its root, slots, statistics
   * or state), from the running root itself, and returns a handle. Also adopts a root whose pins
   * were removed by hand, or that was pinned under another pin base.
   *
   * @throws {@link BpfStateError} when no xdp_root runs on the interface (nothing to repair from)
   * @throws {@link BpfError} `ENODEV` when the interface does not exist
   * @example
   * ```ts
   * using root = await RootArray.repair('eth0');
   * ```
   */
  static async repair(ifname: InterfaceRef, options: RootArrayLocation = {}): Promise<RootArray> {
    checkIface(ifname);
    checkedLocation(options, 'RootArray.repair options', locationKeys);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    using lock = await lockPinBase(base);
    void lock;
    const id = interfaceId(ifname, options.netns);
    await RootArray.#migrateLocked(base, id);
    return RootArray.#repairLocked(id, base, join(base, rootKey(id.netns, id.ifindex)));
  }

  static async #repairLocked(id: InterfaceId, base: string, dir: string): Promise<RootArray> {
    const where = whereText(id.ifname, id.netnsPath);
    const attached = attachedOf(id.query);
    if (attached === undefined || attached.name !== ROOT_PROGRAM || attached.mode === 'multi') {
      throw new BpfStateError(
        `nothing to repair on ${where}: ${attached ? `it runs '${attached.name}' (id ${attached.progId}), not an xdp_root` : 'no XDP program is attached'}` +
          (existsSync(dir) ? `; \`xdp-root detach ${id.ifname}\` removes the pins left at ${dir}` : ''),
      );
    }
    const slots = rootMap(attached.progId, SLOTS_MAP);
    const stats = rootMap(attached.progId, STATS_MAP);
    try {
      if (slots === undefined || stats === undefined) {
        throw new BpfStateError(`the xdp_root on ${where} (id ${attached.progId}) has no ${SLOTS_MAP}/${STATS_MAP} maps: not a root array of this library`);
      }
      makeDirectories(dir, 'root array pin folder');
      using pins = openPins(dir);
      for (const [name, map, pinned] of [
        [SLOTS_MAP, slots, pins.slots],
        [STATS_MAP, stats, pins.stats],
      ] as const) {
        if (pinned?.id === map.id) continue;
        rmSync(join(dir, name), { force: true });
        map.pin(join(dir, name));
      }
      if (pins.root !== attached.progId) RootArray.#pinRoot(dir, attached.progId);
      // A state map of another root (stale pins) is replaced, as a missing one is.
      const stateOk = pins.state !== undefined && pins.slots?.id === slots.id && pins.decoded?.layout === STATE_LAYOUT;
      let state = stateOk ? pins.state! : await newStateMap();
      try {
        if (!stateOk) {
          rmSync(join(dir, STATE_MAP), { force: true });
          state.pin(join(dir, STATE_MAP));
        }
        writeState(state, {
          layout: STATE_LAYOUT,
          ifindex: id.ifindex,
          netns: id.netns,
          generation: stateOk && pins.decoded!.generation !== 0n ? pins.decoded!.generation : newGeneration(),
          rootProgId: attached.progId,
          upgrades: stateOk ? pins.decoded!.upgrades : 0,
          ifname: id.ifname,
          netnsPath: id.netnsPath,
        });
      } finally {
        if (!stateOk) state.close();
        state = undefined as never;
      }
    } finally {
      slots?.close();
      stats?.close();
    }
    return new RootArray(id, base, dir, slotCountOf(attached.progId));
  }

  /** Pins the program `progId` as the root of `dir`, in place of what was pinned. */
  static #pinRoot(dir: string, progId: number): void {
    rmSync(join(dir, ROOT_PIN), { force: true });
    using prog = BpfProgram.openById(progId);
    try {
      prog.pin(join(dir, ROOT_PIN));
    } catch (e) {
      // Another process pinned it at the same moment.
      if (!(e instanceof BpfError && e.code === 'EEXIST')) throw e;
    }
  }

  /**
   * Every root array under the pin base, in every namespace, and how it relates to the kernel
   * ({@link RootCondition}): the ones whose namespace or interface is gone, or whose root no
   * longer runs, are marked as orphans. Reads only; takes no lock.
   *
   * @throws {@link BpfStateError} when the pin base is not on bpffs
   * @example
   * ```ts
   * for (const r of RootArray.list()) if (r.orphan) console.log(r.ifname, r.condition);
   * ```
   */
  static list(options: { pinBase?: string } = {}): RootEntry[] {
    checkedLocation(options, 'RootArray.list options', ['pinBase']);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    checkBpffs(base);
    if (!existsSync(base)) return [];
    const out: RootEntry[] = [];
    for (const name of readdirSync(base).sort()) {
      const entry = inspectRoot(join(base, name), name);
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  /**
   * Removes every orphan under the pin base ({@link RootArray.list}): root arrays whose namespace
   * or interface is gone, or whose root is no longer attached. Their pins go, and with them the
   * root and slot programs leave the kernel (unless held elsewhere). Returns what was removed.
   *
   * @throws {@link BpfStateError} when the pin base is not on bpffs
   * @example
   * ```ts
   * const removed = await RootArray.cleanupOrphans();
   * ```
   */
  static async cleanupOrphans(options: { pinBase?: string } = {}): Promise<RootEntry[]> {
    checkedLocation(options, 'RootArray.cleanupOrphans options', ['pinBase']);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    checkBpffs(base);
    if (!existsSync(base)) return [];
    using lock = await lockPinBase(base);
    void lock;
    const orphans = RootArray.list(options).filter((e) => e.orphan);
    for (const o of orphans) removePins(o.dir);
    return orphans;
  }

  /**
   * Converts root arrays pinned in the old layout (`<base>/<ifname>[@<netns name>]/`) whose root
   * still runs into the current one (folder named by kernel identity, with a state map).
   * `attach`, `cleanup` and `repair` do this for their interface by themselves. Returns the
   * folders converted.
   *
   * @example
   * ```ts
   * await RootArray.migrate(); // once, after upgrading the library
   * ```
   */
  static async migrate(options: { pinBase?: string } = {}): Promise<Array<{ from: string; to: string }>> {
    checkedLocation(options, 'RootArray.migrate options', ['pinBase']);
    const base = options.pinBase ?? DEFAULT_PIN_BASE;
    checkBpffs(base);
    if (!existsSync(base)) return [];
    using lock = await lockPinBase(base);
    void lock;
    const out: Array<{ from: string; to: string }> = [];
    for (const e of RootArray.list(options)) {
      if (e.condition !== 'legacy' || e.orphan) continue;
      const id = interfaceId(e.ifname!, e.netns);
      const to = await RootArray.#migrateLocked(base, id);
      if (to !== undefined) out.push({ from: e.dir, to });
    }
    return out;
  }

  /** Moves the old-layout folder of this interface, if its root runs here, to the new one. */
  static async #migrateLocked(base: string, id: InterfaceId): Promise<string | undefined> {
    const from = legacyDir(base, id.ifname, id.netnsPath);
    if (!existsSync(join(from, SLOTS_MAP))) return undefined;
    const to = join(base, rootKey(id.netns, id.ifindex));
    if (existsSync(to)) return undefined;
    const attached = attachedOf(id.query);
    {
      using pins = openPins(from);
      if (attached === undefined || !(attached.progId === pins.root || isRootOf(attached, pins.slots?.id))) return undefined;
    }
    renameSync(from, to);
    // repair re-pins the root and adds the state map the old layout did not have.
    (await RootArray.#repairLocked(id, base, to)).close();
    return to;
  }

  #check(what: string): void {
    if (this.#slots.closed) throw new BpfStateError(`cannot ${what}: this RootArray handle is closed`);
  }

  /**
   * Checks that this handle still refers to the live root array: the same pinned state map and
   * generation, its namespace still the one it was, and (for changes) its root still attached.
   * Call it under the lock for changes, so nothing can change between the check and the change.
   */
  #verify(what: string, requireAttached: boolean): RootState {
    this.#check(what);
    const where = whereText(this.ifname, this.netns);
    const statePin = join(this.dir, STATE_MAP);
    if (!existsSync(statePin)) {
      throw new BpfStateError(`cannot ${what}: the root array on ${where} is gone (detached, or its pins at ${this.dir} were removed): attach or open it again`);
    }
    let st: RootState;
    let stateId: number;
    try {
      using state = BpfMap.openPinned(statePin);
      stateId = state.id;
      st = decodeState(state.get(0) as Buffer);
    } catch (e) {
      if (!isMissing(e)) throw e;
      throw new BpfStateError(`cannot ${what}: the root array on ${where} is gone (detached, or its pins at ${this.dir} were removed): attach or open it again`);
    }
    if (stateId !== this.#stateId || st.generation !== this.generation) {
      throw new BpfStateError(
        `cannot ${what}: the root array on ${where} was detached and attached again since this handle was opened ` +
          `(generation ${this.generation}, now ${st.generation}); its slots are no longer this handle's: open it again`,
      );
    }
    if (this.netns !== undefined) {
      let same = false;
      try {
        same = sameNetns(netnsId(this.netns), { dev: this.netnsDev, ino: this.netnsIno });
      } catch {
        same = false;
      }
      if (!same) throw new BpfStateError(`cannot ${what}: the namespace ${this.netns} is gone or is another one now: the root array on ${this.ifname} is an orphan (xdp-root cleanup --orphans)`);
    }
    if (requireAttached) {
      let q: ReturnType<typeof binding.xdpQuery>;
      try {
        q = binding.xdpQuery({ index: this.ifindex, ...(this.netns === undefined ? {} : { netns: this.netns }) });
      } catch (e) {
        if (!isNoDevice(e)) throw e;
        throw new BpfStateError(`cannot ${what}: interface ${where} (ifindex ${this.ifindex}) is gone: its root array is an orphan (xdp-root cleanup --orphans)`);
      }
      const a = attachedOf(q);
      if (a?.progId !== st.rootProgId) {
        throw new BpfStateError(
          `cannot ${what}: root program ${st.rootProgId} is no longer attached to ${where} (it runs ${a ? `'${a.name}' id ${a.progId}` : 'nothing'}): ` +
            `\`xdp-root attach ${q.ifname}\` attaches it again with its slots; \`xdp-root detach ${q.ifname}\` removes it`,
        );
      }
    }
    return st;
  }

  #checkSlot(slot: unknown): asserts slot is number {
    checkUint32(slot, 'slot');
    if (slot >= this.slotCount) {
      throw new RangeError(`slot must be in [0, ${this.slotCount - 1}] on ${this.ifname} (it has ${this.slotCount} slots), got ${slot}`);
    }
  }

  /**
   * Opens an object for `slot` without loading it: its `xdp_root_slots` and `xdp_root_stats` maps
   * (from `xdp_root.h`) reuse this root's, the slot globals are set, the chosen XDP program is the
   * only one that loads, with the root's program type. Load it yourself, then install its program
   * with {@link RootArray.load}.
   *
   * @throws TypeError for an object without a suitable XDP program, or the root program itself
   * @throws {@link BpfStateError} when this handle is closed or no longer refers to the live root
   */
  prepare(slot: number, source: string | Uint8Array, options: SlotLoadOptions = {}): { object: BpfObject; program: BpfProgram } {
    this.#verify('prepare a slot', false);
    this.#checkSlot(slot);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.load options', loadKeys);
    const object = BpfObject.open(source, options.objectName === undefined ? {} : { objectName: options.objectName });
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
      RootArray.#refuseRoot(program.name);
      for (const p of object.programs) p.autoload = p === program;
      // Tail calls need the callee to have the root's program type and expected attach type.
      program.type = 'xdp';
      program.expectedAttachType = 'xdp';
      // Share the root's slots and statistics: reuse, never pin by name (nothing is left behind).
      const names = new Set(object.maps.map((m) => m.name));
      if (names.has(SLOTS_MAP)) object.map(SLOTS_MAP).reuse(this.#slots);
      if (names.has(STATS_MAP)) object.map(STATS_MAP).reuse(this.#stats);
      // Capture's maps, when both sides have them: the slot's frames reach the root's capture.
      for (const [name, pin] of RootArray.#captureMapsOf(object)) {
        if (!existsSync(join(this.dir, pin))) continue;
        using m = BpfMap.openPinned(join(this.dir, pin));
        object.map(name).reuse(m);
      }
      if (object.globals.has(SLOT_GLOBAL)) object.globals.set(SLOT_GLOBAL, slot);
      if (object.globals.has(NSLOTS_GLOBAL)) object.globals.set(NSLOTS_GLOBAL, this.slotCount);
      for (const [name, value] of Object.entries(options.globals ?? {})) object.globals.set(name, value);
      return { object, program };
    } catch (e) {
      object.close();
      throw e;
    }
  }

  /** The capture maps an object declares, with their pins (all, or none: an object from before capture). */
  static #captureMapsOf(obj: BpfObject): ReadonlyArray<readonly [string, string]> {
    const names = new Set(obj.maps.map((m) => m.name));
    return CAPTURE_PINS.every(([name]) => names.has(name)) ? CAPTURE_PINS : [];
  }

  /** The root program in a slot would tail-call the slots again: every packet counted many times. */
  static #refuseRoot(name: string): void {
    if (name === ROOT_PROGRAM) {
      throw new TypeError(`'${ROOT_PROGRAM}' is the root program itself: it cannot run in a slot (it would run the slots again for every packet)`);
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
   * @throws RangeError for a slot out of range; TypeError for an object without an XDP program,
   *   or the root program; {@link BpfVerifierError} when the program does not load;
   *   {@link BpfError} when the kernel refuses the program for the slot (a program type other
   *   than the root's); {@link BpfStateError} when the root array was detached (and perhaps
   *   attached again) since this handle was opened: nothing is changed
   */
  async load(slot: number, source: string | Uint8Array | BpfProgram, options: SlotLoadOptions = {}): Promise<SlotStatus> {
    this.#check('load a slot');
    this.#checkSlot(slot);
    if (source instanceof BpfProgram) {
      if (source.type !== 'xdp') throw new TypeError(`program '${source.name}' is a ${source.type} program; a slot takes an XDP program`);
      RootArray.#refuseRoot(source.name);
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
    using lock = await lockPinBase(this.pinBase);
    void lock;
    this.#verify('load a slot', true);
    zeroStats(this.#stats, slot);
    this.#slots.set(slot, program);
  }

  /**
   * Empties `slot` (packets go on to the next filled slot) and resets its counters. Returns whether
   * it held a program.
   *
   * @param options.expected Empty the slot only if it holds this program (a loaded
   *   {@link BpfProgram} or a kernel id); otherwise leave it as it is and return false. Checked
   *   under the lock, so a program another process put there meanwhile is never removed.
   * @throws {@link BpfStateError} when this handle no longer refers to the live root array
   */
  async remove(slot: number, options: { expected?: BpfProgram | number } = {}): Promise<boolean> {
    this.#check('remove a slot');
    this.#checkSlot(slot);
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'RootArray.remove options', ['expected']);
    const expected = options.expected instanceof BpfProgram ? options.expected.id : options.expected;
    if (expected !== undefined) checkUint32(expected, 'options.expected', 1);
    using lock = await lockPinBase(this.pinBase);
    void lock;
    this.#verify('remove a slot', true);
    if (expected !== undefined && this.#slots.get(slot) !== expected) return false;
    const removed = this.#slots.delete(slot);
    zeroStats(this.#stats, slot);
    return removed;
  }

  /**
   * Whether this handle still refers to the live root array (same generation, root attached).
   * A hint only: another process may change that at any moment; changes check it under the lock.
   */
  get live(): boolean {
    if (this.#slots.closed) return false;
    try {
      this.#verify('check', true);
      return true;
    } catch (e) {
      if (e instanceof BpfStateError) return false;
      throw e;
    }
  }

  /**
   * Resets the counters of one slot, or of every slot and the root.
   * @throws {@link BpfStateError} when this handle no longer refers to the live root array
   */
  clear(slot?: number): void {
    this.#verify('clear counters', false);
    if (slot !== undefined) {
      this.#checkSlot(slot);
      zeroStats(this.#stats, slot);
      return;
    }
    for (let i = 0; i < this.slotCount; i++) zeroStats(this.#stats, i);
    zeroStats(this.#stats, ROOT_STATS_INDEX);
  }

  /**
   * What runs in each slot, with its counters, the root's own counters, and the kernel identity
   * (ifindex, namespace inode, root program id, generation).
   * @throws {@link BpfStateError} when this handle no longer refers to the live root array
   */
  status(): RootStatus {
    const st = this.#verify('read the status', false);
    const boot = bootTimeMs();
    let attached: Attached | undefined;
    let ifname = this.ifname;
    try {
      const q = binding.xdpQuery({ index: this.ifindex, ...(this.netns === undefined ? {} : { netns: this.netns }) });
      attached = attachedOf(q);
      ifname = q.ifname;
    } catch (e) {
      if (!isNoDevice(e)) throw e;
    }
    const statsMapId = this.#stats.id;
    const slots: SlotStatus[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) {
      const progId = this.#slots.get(slot) as number | undefined;
      const stats = sumStats(this.#stats.get(slot) ?? []);
      if (progId === undefined) {
        slots.push({ slot, progId: undefined, name: undefined, loadedAt: undefined, counted: false, stats });
        continue;
      }
      let info: ReturnType<typeof programInfo>;
      try {
        info = programInfo(progId);
      } catch (e) {
        if (!isMissing(e)) throw e;
        // Replaced (and freed) between reading the slot and asking about its program.
        slots.push({ slot, progId: undefined, name: undefined, loadedAt: undefined, counted: false, stats });
        continue;
      }
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
      ifname,
      ifindex: this.ifindex,
      netns: this.netns,
      netnsDev: this.netnsDev,
      netnsIno: this.netnsIno,
      generation: st.generation,
      mode: attached && attached.progId === st.rootProgId && attached.mode !== 'multi' ? attached.mode : undefined,
      rootProgId: st.rootProgId,
      slotCount: this.slotCount,
      root: { packets: rootStats.passedOn + rootStats.pass, bytes: rootStats.bytes, noSlot: rootStats.pass },
      metadata: metadataOf(st.rootProgId),
      slots,
      capture: captureStatus(this.dir, this.slotCount),
    };
  }

  /**
   * Captures the frames behind the verdicts of one slot (or all) as an async iterable of
   * {@link CapturedFrame}s: the slot programs copy them in `xdp_root_return()`, so every program
   * built against this version's `xdp_root.h` and loaded into this root is captured without
   * changes. Capture is switched off by closing the capture, breaking out of `for await`, the
   * signal, garbage collection, and the process's normal exit; one left on by a killed process
   * shows in {@link RootArray.status} (`capture`) and is switched off by the next capture or by
   * {@link RootArray.stopCapture} (`xdp-root capture <iface> --stop`).
   *
   * One capture per root array at a time (the frames go to one perf buffer, which has one reader):
   * a second one, from this process or another, is refused while the first one's process lives.
   *
   * Cost: with capture off, a slot program does one array lookup and one test per packet (within
   * the benchmark's noise, see docs/capture.md); with it on, each captured frame costs a perf
   * buffer write of its first `snaplen` bytes.
   *
   * Minimum kernel: 5.10 (as the root array).
   *
   * @throws RangeError for a slot out of range, an unknown action, a snaplen out of [1, 65000],
   *   a rate of 0, a bad CIDR or protocol; TypeError for options of the wrong type: nothing is
   *   switched on
   * @throws {@link BpfStateError} while another live process captures on this root; for a root
   *   attached without capture (`xdp-root attach` upgrades it); for a `slot` whose program does
   *   not capture; when this handle no longer refers to the live root array
   * @example
   * ```ts
   * const cap = await root.capture({ slot: 0, actions: ['drop'], snaplen: 128 });
   * for await (const f of cap) {
   *   console.log(f.slot, f.action, f.length, f.data.subarray(0, 14).toString('hex'));
   *   if (cap.captured >= 10n) break;   // closes it: capture off
   * }
   * ```
   */
  async capture(options: CaptureOptions = {}): Promise<Capture> {
    this.#check('start a capture');
    captureSettings(options, this.slotCount, this.ifname); // typed errors first, before any lock
    using lock = await lockPinBase(this.pinBase);
    void lock;
    this.#verify('start a capture', true);
    return startCapture(this, options);
  }

  /**
   * Switches capture off on every slot of this root array, whoever switched it on (a capture
   * left on by a killed process, or one still running, which then receives nothing more).
   * Returns the slots where it was on.
   * @throws {@link BpfStateError} when this handle no longer refers to the live root array
   */
  async stopCapture(): Promise<number[]> {
    this.#check('stop capture');
    using lock = await lockPinBase(this.pinBase);
    void lock;
    this.#verify('stop capture', false);
    return stopAllCaptures(this.dir, this.slotCount);
  }

  /**
   * Detaches the root from the interface (confirmed with the kernel) and removes everything this
   * root array pinned: the slots (their programs leave the kernel), the statistics, the state and
   * the root. Closes this handle.
   *
   * @throws {@link BpfStateError} when the root array was detached and attached again since this
   *   handle was opened (the new one is left alone)
   * @throws {@link BpfError} `EBUSY` when the kernel still runs the root after the detach
   */
  async detach(): Promise<void> {
    this.#check('detach');
    using lock = await lockPinBase(this.pinBase);
    void lock;
    if (existsSync(join(this.dir, STATE_MAP))) this.#verify('detach', false);
    let id: InterfaceId | undefined;
    try {
      id = interfaceId(this.ifindex, this.netns);
    } catch (e) {
      if (!isNoDevice(e) && !(e instanceof RangeError)) throw e;
    }
    this.close();
    if (id === undefined || !sameNetns(id.netns, { dev: this.netnsDev, ino: this.netnsIno })) {
      removePins(this.dir); // interface or namespace gone: the attachment went with it
      return;
    }
    RootArray.#detachLocked(id, this.dir, false);
  }

  /** Releases this handle's fds. The root array stays in the kernel. Idempotent. */
  close(): void {
    // Closed is what the slots map's native handle says: no flag of its own.
    this.#slots.close();
    this.#stats.close();
  }

  /** Same as {@link RootArray.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
