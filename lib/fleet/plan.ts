/**
 * {@link planFleet}: what must change for the running root arrays to match a config, as the
 * smallest set of changes: a root attached where there is none, and per slot a load, an atomic
 * replacement or (with `prune`) a removal. Slots already as configured are left alone.
 *
 * @module
 */
import { BpfError } from '../errors';
import { RootArray } from '../rootarray/root-array';
import { metadataDecision, type MetadataHandoff } from '../rootarray/meta';
import type { RootStatus } from '../rootarray/status';
import { queryXdp } from '../attach/xdp';
import { netnsId } from '../rootarray/state';
import type { FleetConfig, InterfaceSpec, SlotSpec } from './config';
import type { AppliedProgram, FleetState } from './state';

/** One change of a plan. */
export type FleetChange =
  | { action: 'attach'; ifname: string; netns: string | undefined; slots: number; mode: 'skb' | 'native' | undefined; passMeta: boolean | undefined }
  /** The running root reloaded (swapped in atomically) to turn its metadata hand-off on or off. */
  | { action: 'handoff'; ifname: string; netns: string | undefined; passMeta: boolean }
  | { action: 'load'; ifname: string; netns: string | undefined; slot: number; spec: SlotSpec; reason: string; drift: boolean }
  | { action: 'replace'; ifname: string; netns: string | undefined; slot: number; spec: SlotSpec; from: { progId: number; name: string }; reason: string; drift: boolean }
  | { action: 'remove'; ifname: string; netns: string | undefined; slot: number; from: { progId: number; name: string }; reason: string };

/** An interface the plan leaves as it is, and why: the other interfaces are still planned. */
export interface RefusedInterface {
  ifname: string;
  netns: string | undefined;
  /** The config file and the line of the interface's entry. */
  file: string;
  line: number;
  reason: string;
}

/** What {@link planFleet} returns. */
export interface FleetPlan {
  changes: FleetChange[];
  /** Slots already as configured. */
  unchanged: { ifname: string; netns: string | undefined; slot: number; progId: number }[];
  /**
   * Differences the plan does not change, one line each: a mode differs (that needs a detach), or
   * the config asks for the metadata hand-off and this kernel cannot do it.
   */
  notes: string[];
  /**
   * Interfaces left as they are because the config cannot be applied to them (their running root
   * has another slot count than configured): one line each.
   */
  refused: RefusedInterface[];
}

/** Options of {@link planFleet}. */
export interface PlanOptions {
  /** Empty the slots of configured interfaces that the config does not mention. Default false. */
  prune?: boolean;
}

/** An interface as people read it: `eth1`, or `eth1 (netns /run/netns/edge)`. */
export function where(ifname: string, netns: string | undefined): string {
  return netns ? `${ifname} (netns ${netns})` : ifname;
}

/**
 * A namespace's kernel identity as text, `dev:ino` (undefined path: this process's namespace).
 * Two paths of the same namespace (`/run/netns/X`, `/proc/PID/ns/net`) give the same key.
 *
 * @throws RangeError when the path is not a network namespace file
 */
export function netnsKey(netns: string | undefined): string {
  const id = netnsId(netns);
  return `${id.dev}:${id.ino}`;
}

/** Whether a state entry names this interface: by namespace identity when it has one. */
function sameInterface(e: AppliedProgram, ifname: string, netns: string | undefined, key: string): boolean {
  if (e.ifname !== ifname) return false;
  return e.netnsKey !== undefined ? e.netnsKey === key : (e.netns ?? undefined) === netns;
}

/** The running root array's status, or undefined when the interface has none. */
function runningStatus(iface: InterfaceSpec, pinBase: string | undefined): RootStatus | undefined {
  const loc = { netns: iface.netns, pinBase };
  if (!RootArray.exists(iface.name, loc)) return undefined;
  using root = RootArray.open(iface.name, loc);
  return root.status();
}

/** Throws ENODEV naming the config line of an interface that does not exist: the whole plan is refused. */
function checkExists(iface: InterfaceSpec): void {
  try {
    queryXdp(iface.name, { netns: iface.netns });
  } catch (e) {
    if (e instanceof BpfError && e.code === 'ENODEV') {
      throw new BpfError('planFleet', e.errno, `interface ${where(iface.name, iface.netns)} (config line ${iface.line}) does not exist`);
    }
    throw e;
  }
}

/**
 * Compares a config with what runs and returns the changes that make them match. Reads the
 * kernel (and bpffs) only; changes nothing.
 *
 * Drift is a slot whose program the previous apply put there and that no longer holds it (emptied
 * or replaced by hand): it is planned like any other difference, marked `drift: true`.
 *
 * An interface whose running root has another slot count than configured is listed in `refused`
 * and left as it is; the others are planned. State entries are
 * matched by kernel identity (program id in the slot, namespace by device and inode), never by
 * the path the config used.
 *
 * @throws {@link libbpf-node!BpfError} `ENODEV` naming the config line of an interface that does
 *   not exist (the whole plan is refused: nothing changes)
 */
export function planFleet(config: FleetConfig, state: FleetState, options: PlanOptions = {}): FleetPlan {
  const plan: FleetPlan = { changes: [], unchanged: [], notes: [], refused: [] };
  // What the kernel allows, probed once (not at all when no interface asks).
  const handoff = config.interfaces.some((i) => i.passMeta === true) ? metadataDecision(true) : undefined;
  for (const iface of config.interfaces) {
    checkExists(iface);
    planInterface(plan, iface, runningStatus(iface, config.pinBase), state, options, { file: config.file, netnsKey: netnsKey(iface.netns) }, handoff);
  }
  return plan;
}

/**
 * The part of {@link planFleet} for one interface, given what runs there (`status`, undefined
 * when no root array is attached), the identity of its namespace (`where.netnsKey`, device and
 * inode) and what the kernel makes of a metadata hand-off asked for (`handoff`: `metadataDecision(true)`;
 * undefined: it can): adds its changes, unchanged slots, notes and refusal to `plan`. Reads
 * nothing, so it is tested without a kernel.
 * @internal
 */
export function planInterface(
  plan: FleetPlan,
  iface: InterfaceSpec,
  status: RootStatus | undefined,
  state: FleetState,
  options: PlanOptions = {},
  where_: { file: string; netnsKey: string } = { file: '?', netnsKey: '?' },
  handoff?: MetadataHandoff,
): void {
  const { name: ifname, netns } = iface;
  const key = where_.netnsKey;
  // Asked for where the kernel cannot: the root runs without it, and the operator is told why.
  const cannot = iface.passMeta === true && handoff !== undefined && !handoff.passing;
  if (cannot) plan.notes.push(`${where(ifname, netns)}: metadata hand-off ${handoff.reason}`);
  if (status === undefined) {
    plan.changes.push({ action: 'attach', ifname, netns, slots: iface.slots, mode: iface.mode, passMeta: iface.passMeta });
    for (const spec of iface.programs) plan.changes.push({ action: 'load', ifname, netns, slot: spec.slot, spec, reason: 'new root array', drift: false });
    return;
  }
  if (status.slotCount !== iface.slots) {
    plan.refused.push({
      ifname,
      netns,
      file: where_.file,
      line: iface.line,
      reason: `its running root array has ${status.slotCount} slots, the config asks for ${iface.slots}: a slot count is fixed for the life of a root; detach it (xdp-root detach) to change it`,
    });
    return;
  }
  if (iface.mode !== undefined && status.mode !== iface.mode) {
    plan.notes.push(`${where(ifname, netns)} runs in ${status.mode ?? 'no'} mode, the config asks for ${iface.mode}: left as it is (changing the mode needs a detach)`);
  }
  if (iface.passMeta !== undefined && !cannot && status.metadata !== undefined && status.metadata.passing !== iface.passMeta) {
    plan.changes.push({ action: 'handoff', ifname, netns, passMeta: iface.passMeta });
  }
  const wanted = new Map(iface.programs.map((s) => [s.slot, s]));
  for (const running of status.slots) {
    const slot = running.slot;
    const spec = wanted.get(slot);
    // What the last apply put in this slot, if it no longer runs there: drift.
    const lost = Object.entries(state).find(([id, e]) => sameInterface(e, ifname, netns, key) && e.slot === slot && Number(id) !== running.progId);
    if (spec === undefined) {
      if (options.prune && running.progId !== undefined) {
        plan.changes.push({ action: 'remove', ifname, netns, slot, from: { progId: running.progId, name: running.name ?? '' }, reason: 'not in the config (--prune)' });
      }
      continue;
    }
    if (running.progId === undefined) {
      const reason = lost ? `drift: emptied by hand (it held program ${lost[0]})` : 'empty';
      plan.changes.push({ action: 'load', ifname, netns, slot, spec, reason, drift: lost !== undefined });
      continue;
    }
    // Trusted only when the kernel agrees: this program id runs in this very slot.
    const e = state[String(running.progId)];
    const applied = e && sameInterface(e, ifname, netns, key) && e.slot === slot ? e : undefined;
    if (applied?.fingerprint === spec.fingerprint) {
      plan.unchanged.push({ ifname, netns, slot, progId: running.progId });
      continue;
    }
    const from = { progId: running.progId, name: running.name ?? '' };
    if (applied) plan.changes.push({ action: 'replace', ifname, netns, slot, spec, from, reason: 'the config entry changed', drift: false });
    else if (lost) plan.changes.push({ action: 'replace', ifname, netns, slot, spec, from, reason: `drift: replaced by hand (it held program ${lost[0]})`, drift: true });
    else plan.changes.push({ action: 'replace', ifname, netns, slot, spec, from, reason: 'not loaded from this config', drift: false });
  }
}

function objectText(spec: SlotSpec): string {
  return `${spec.shipped ?? spec.object}${spec.program && spec.program !== spec.shipped ? ` (program ${spec.program})` : ''}`;
}

/** A plan as lines for an operator: one per change, then the unchanged count and the notes. */
export function formatPlan(plan: FleetPlan): string {
  const lines = plan.changes.map((c) => {
    const at = where(c.ifname, c.netns);
    switch (c.action) {
      case 'attach':
        return `+ attach root array to ${at}: ${c.slots} slots, mode ${c.mode ?? 'kernel default'}${c.passMeta ? ', metadata hand-off asked for' : ''}`;
      case 'handoff':
        return `~ ${at}: reload the root program with the metadata hand-off ${c.passMeta ? 'on' : 'off'} (atomic; slots and counters stay)`;
      case 'load':
        return `+ ${at} slot ${c.slot}: load ${objectText(c.spec)} (${c.reason})`;
      case 'replace':
        return `~ ${at} slot ${c.slot}: replace ${c.from.name} (id ${c.from.progId}) with ${objectText(c.spec)} (${c.reason})`;
      case 'remove':
        return `- ${at} slot ${c.slot}: remove ${c.from.name} (id ${c.from.progId}) (${c.reason})`;
    }
  });
  if (plan.changes.length === 0 && plan.refused.length === 0) lines.push('in sync (no changes)');
  if (plan.unchanged.length > 0) lines.push(`${plan.unchanged.length} slot${plan.unchanged.length === 1 ? '' : 's'} unchanged`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  for (const r of plan.refused) lines.push(`${r.file}:${r.line}: ${where(r.ifname, r.netns)}: left as it is: ${r.reason}`);
  return lines.join('\n');
}
