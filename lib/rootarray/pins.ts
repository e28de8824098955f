/**
 * The pinned folder of a root array: what its pins are, opening them, judging them against what
 * the kernel runs (ours, orphaned, legacy), and the small kernel queries that takes.
 * {@link RootArray} builds on these; they take no lock themselves.
 *
 * @internal
 * @module
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BpfError, BpfStateError } from '../errors';
import { BpfMap } from '../map/map';
import { binding } from '../internal/native';
import { BpfObject } from '../object';
import { BpfProgram } from '../program';
import type { RootArray } from './root-array';
import {
  STATE_LAYOUT,
  decodeState,
  encodeState,
  findNetns,
  interfaceId,
  isNoDevice,
  parseRootKey,
  type InterfaceId,
  type NetnsId,
  type RootState,
} from './state';
import { shippedObjectPath } from '../shipped';
import type { XdpMode } from '../attach/xdp';

// Names fixed by bpf/include/xdp_root.h and bpf/xdp_root.bpf.c.
export const SLOTS_MAP = 'xdp_root_slots';
export const STATS_MAP = 'xdp_root_stats';
export const STATE_MAP = 'xdp_root_state';
export const ROOT_PIN = 'root';
/** Capture settings and buffer (bpf/include/xdp_root.h); roots attached before capture lack them. */
export const CAPTURE_MAP = 'xdp_root_capcfg';
export const CAPTURE_BUF = 'xdp_root_capbuf';
/** The per-slot on/off words: the map of the `.data.xdp_capon` section, pinned under this name. */
export const CAPTURE_ON_SECTION = '.data.xdp_capon';
export const CAPTURE_ON_PIN = 'xdp_root_capon';
/** Capture's maps: the name in an object, and the pin. */
export const CAPTURE_PINS: ReadonlyArray<readonly [string, string]> = [
  [CAPTURE_MAP, CAPTURE_MAP],
  [CAPTURE_BUF, CAPTURE_BUF],
  [CAPTURE_ON_SECTION, CAPTURE_ON_PIN],
];
export const PINS = [ROOT_PIN, SLOTS_MAP, STATS_MAP, STATE_MAP, CAPTURE_MAP, CAPTURE_BUF, CAPTURE_ON_PIN] as const;
export const ROOT_PROGRAM = 'xdp_root';
export const NSLOTS_GLOBAL = 'xdp_root_nslots';

/**
 * How a pinned root array relates to the kernel, from {@link RootArray.list}:
 * - `attached`: its root runs on its interface;
 * - `detached`: namespace and interface exist, but its root is not the attached XDP program;
 * - `interface-gone`: the namespace exists, the interface does not;
 * - `namespace-gone`: no namespace with its identity exists any more;
 * - `incomplete`: pins are missing (an interrupted attach or detach, or removed by hand), while
 *   its root still runs: `repair` completes it;
 * - `legacy`: a folder of the old `<ifname>[@<netns>]` layout: `migrate` converts it.
 * Every condition except `attached` and `incomplete` is an orphan; a `legacy` one too when its
 * root no longer runs.
 */
export type RootCondition = 'attached' | 'detached' | 'interface-gone' | 'namespace-gone' | 'incomplete' | 'legacy';

/** One root array found under a pin base: see {@link RootArray.list}. */
export interface RootEntry {
  /** Its bpffs folder. */
  dir: string;
  condition: RootCondition;
  /** Whether {@link RootArray.cleanupOrphans} removes it. */
  orphan: boolean;
  /** The interface's name now, or, when it is gone, the one recorded. */
  ifname: string | undefined;
  ifindex: number | undefined;
  /** A path to its namespace now (`undefined`: the caller's, or gone), else the recorded one. */
  netns: string | undefined;
  /** The kernel identity of its namespace (device and inode of the nsfs file). */
  netnsDev: number | undefined;
  netnsIno: number | undefined;
  rootProgId: number | undefined;
  generation: bigint | undefined;
  /** Why it is in this condition, for people. */
  detail: string;
}


/** The folder of the old layout (`<ifname>[@<basename(netns)>]`), for migration. */
export function legacyDir(base: string, ifname: string, netns: string | undefined): string {
  return join(base, netns === undefined ? ifname : `${ifname}@${basename(netns)}`);
}

/** What the kernel says about the program with this id. */
export function programInfo(id: number): { name: string; loadTimeNs: bigint; mapIds: number[] } {
  using prog = BpfProgram.openById(id);
  return prog.kernelInfo();
}

/** The XDP program attached to an interface, from a native query, or undefined. */
export interface Attached {
  progId: number;
  name: string;
  mode: XdpMode | 'multi';
}

export function attachedOf(q: ReturnType<typeof binding.xdpQuery>): Attached | undefined {
  const first = q.native ?? q.skb ?? q.hw;
  if (!first) return undefined;
  const mode = q.attachMode === 'native' || q.attachMode === 'skb' || q.attachMode === 'hw' ? q.attachMode : 'multi';
  return { progId: first.id, name: first.name, mode };
}

/** A description of a namespace for messages. */
export function whereText(ifname: string, netns: string | undefined): string {
  return netns === undefined ? ifname : `${ifname} (netns ${netns})`;
}

/** The pins of a root array folder, each opened if present. */
export interface Pinned {
  root?: number;
  slots?: BpfMap;
  stats?: BpfMap;
  state?: BpfMap;
  decoded?: RootState;
  [Symbol.dispose](): void;
}

export function openPins(dir: string): Pinned {
  const p: Pinned = {
    [Symbol.dispose]() {
      p.slots?.close();
      p.stats?.close();
      p.state?.close();
    },
  };
  // A pin removed between the look and the open (another process detaching) counts as missing.
  const pinned = <T>(name: string, open: (path: string) => T): T | undefined => {
    try {
      return open(join(dir, name));
    } catch (e) {
      if (isMissing(e) || !existsSync(dir)) return undefined;
      throw e;
    }
  };
  if (!existsSync(dir)) return p;
  try {
    p.root = pinned(ROOT_PIN, (path) => {
      using prog = BpfProgram.openPinned(path);
      return prog.id;
    });
    p.slots = pinned(SLOTS_MAP, (path) => BpfMap.openPinned(path));
    p.stats = pinned(STATS_MAP, (path) => BpfMap.openPinned(path));
    p.state = pinned(STATE_MAP, (path) => BpfMap.openPinned(path));
    const raw = p.state?.get(0) as Buffer | undefined;
    if (raw !== undefined) p.decoded = decodeState(raw);
  } catch (e) {
    p[Symbol.dispose]();
    throw e;
  }
  return p;
}

/** Whether an error says that a pin or kernel object is not there (any more). */
export function isMissing(e: unknown): boolean {
  return e instanceof BpfError && e.code === 'ENOENT';
}

/** Whether the program `progId` is an xdp_root using the slots map `slotsId`. */
export function isRootOf(attached: Attached | undefined, slotsId: number | undefined): boolean {
  if (attached === undefined || slotsId === undefined || attached.name !== ROOT_PROGRAM) return false;
  return programInfo(attached.progId).mapIds.includes(slotsId);
}

export function removePins(dir: string): void {
  for (const name of PINS) rmSync(join(dir, name), { force: true });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The slot count a running root was loaded with: its read-only xdp_root_nslots, read from the
 * root program's own .rodata map (found through the program's map ids).
 */
export function slotCountOf(rootId: number): number {
  for (const mapId of programInfo(rootId).mapIds) {
    using map = BpfMap.openById(mapId);
    if (!map.name.endsWith('.rodata')) continue;
    const rodata = map.typed<number, Record<string, unknown>>().get(0);
    const n = rodata?.[NSLOTS_GLOBAL];
    if (typeof n === 'number') return n;
  }
  throw new BpfStateError(`root program ${rootId} has no readable ${NSLOTS_GLOBAL}: is it an xdp_root program?`);
}

/** A map of the running root program, by name (the slots or the statistics). */
export function rootMap(rootId: number, name: string): BpfMap | undefined {
  for (const mapId of programInfo(rootId).mapIds) {
    const map = BpfMap.openById(mapId);
    if (map.name === name) return map;
    map.close();
  }
  return undefined;
}

/** Writes the state map's one entry. */
export function writeState(state: BpfMap, s: RootState): void {
  state.set(0, encodeState(s));
}

/**
 * Makes a state map for a root array that lacks one (migration, repair): the shipped root
 * object loaded with its program left out, so only its maps are created.
 */
export async function newStateMap(): Promise<BpfMap> {
  using obj = BpfObject.open(shippedObjectPath('xdp_root'));
  obj.program(ROOT_PROGRAM).autoload = false;
  await obj.load();
  const id = obj.map(STATE_MAP).id;
  return BpfMap.openById(id);
}

export function inspectRoot(dir: string, name: string): RootEntry | undefined {
  const key = parseRootKey(name);
  if (key === undefined) return inspectLegacy(dir, name);
  using pins = openPins(dir);
  const st = pins.decoded?.layout === STATE_LAYOUT ? pins.decoded : undefined;
  const entry = (condition: RootCondition, orphan: boolean, detail: string, now?: { ifname?: string; netns?: string }): RootEntry => ({
    dir,
    condition,
    orphan,
    ifname: now?.ifname ?? st?.ifname,
    ifindex: key.ifindex,
    netns: now !== undefined ? now.netns : st?.netnsPath,
    netnsDev: key.netns.dev,
    netnsIno: key.netns.ino,
    rootProgId: st?.rootProgId ?? pins.root,
    generation: st?.generation,
    detail,
  });
  const found = findNetns(key.netns, st?.netnsPath);
  if (found === undefined) return entry('namespace-gone', true, `no network namespace with inode ${key.netns.ino} exists any more`);
  const netns = found ?? undefined;
  let q: ReturnType<typeof binding.xdpQuery>;
  try {
    q = binding.xdpQuery({ index: key.ifindex, ...(netns === undefined ? {} : { netns }) });
  } catch (e) {
    if (!isNoDevice(e)) throw e;
    return entry('interface-gone', true, `no interface with ifindex ${key.ifindex} in its namespace any more`, { netns });
  }
  const now = { ifname: q.ifname, netns };
  const a = attachedOf(q);
  const ours = a !== undefined && (a.progId === st?.rootProgId || a.progId === pins.root || isRootOf(a, pins.slots?.id));
  if (!ours) return entry('detached', true, a ? `the interface runs '${a.name}' (id ${a.progId}) instead` : 'its root is not attached', now);
  const complete = pins.slots !== undefined && pins.stats !== undefined && st !== undefined && pins.root === a.progId && st.rootProgId === a.progId;
  return complete ? entry('attached', false, `root ${a.progId} attached (${a.mode})`, now) : entry('incomplete', false, `pins missing: \`xdp-root repair ${q.ifname}\``, now);
}

/** A folder of the old `<ifname>[@<netns name>]` layout. */
function inspectLegacy(dir: string, name: string): RootEntry | undefined {
  if (!existsSync(join(dir, SLOTS_MAP)) && !existsSync(join(dir, ROOT_PIN))) return undefined;
  const [ifname, nsName] = name.split('@');
  const netns = nsName === undefined ? undefined : join('/run/netns', nsName);
  const entry = (orphan: boolean, detail: string, ifindex?: number, ids?: NetnsId): RootEntry => ({
    dir,
    condition: 'legacy',
    orphan,
    ifname,
    ifindex,
    netns,
    netnsDev: ids?.dev,
    netnsIno: ids?.ino,
    rootProgId: undefined,
    generation: undefined,
    detail,
  });
  let id: InterfaceId;
  try {
    id = interfaceId(ifname, netns);
  } catch {
    return entry(true, 'old layout; its interface or namespace is gone');
  }
  using pins = openPins(dir);
  const a = attachedOf(id.query);
  const ours = a !== undefined && (a.progId === pins.root || isRootOf(a, pins.slots?.id));
  return ours
    ? entry(false, 'old layout: `xdp-root migrate` converts it', id.ifindex, id.netns)
    : entry(true, 'old layout; its root is not attached', id.ifindex, id.netns);
}
