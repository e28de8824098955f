/**
 * {@link planFleet}: what must change for the running root arrays to match a config, as the
 * smallest set of changes: a root attached where there is none, and per slot a load, an atomic
 * replacement or (with `prune`) a removal. Slots already as configured are left alone.
 *
 * @module
 */
import { BpfError } from '../errors';
import { RootArray } from '../rootarray/root-array';
import type { RootStatus } from '../rootarray/status';
import { queryXdp } from '../attach/xdp';
import type { FleetConfig, InterfaceSpec, SlotSpec } from './config';
import type { FleetState } from './state';

/** One change of a plan. */
export type FleetChange =
  | { action: 'attach'; ifname: string; netns: string | undefined; slots: number; mode: 'skb' | 'native' | undefined }
  | { action: 'load'; ifname: string; netns: string | undefined; slot: number; spec: SlotSpec; reason: string; drift: boolean }
  | { action: 'replace'; ifname: string; netns: string | undefined; slot: number; spec: SlotSpec; from: { progId: number; name: string }; reason: string; drift: boolean }
  | { action: 'remove'; ifname: string; netns: string | undefined; slot: number; from: { progId: number; name: string }; reason: string };

/** What {@link planFleet} returns. */
export interface FleetPlan {
  changes: FleetChange[];
  /** Slots already as configured. */
  unchanged: { ifname: string; netns: string | undefined; slot: number; progId: number }[];
  /** Differences the plan does not change (a mode differs: that needs a detach), one line each. */
  notes: string[];
}

/** Options of {@link planFleet}. */
export interface PlanOptions {
  /** Empty the slots of configured interfaces that the config does not mention. Default false. */
  prune?: boolean;
}

function where(ifname: string, netns: string | undefined): string {
  return netns ? `${ifname} (netns ${netns})` : ifname;
}

/** The running root array's status, or undefined when the interface has none. */
function runningStatus(iface: InterfaceSpec, pinBase: string | undefined): RootStatus | undefined {
  const loc = { netns: iface.netns, pinBase };
  // Throws ENODEV for a missing interface: the whole plan is refused before anything changes.
  try {
    queryXdp(iface.name, { netns: iface.netns });
  } catch (e) {
    if (e instanceof BpfError && e.code === 'ENODEV') {
      throw new BpfError('planFleet', e.errno, `interface ${where(iface.name, iface.netns)} (config line ${iface.line}) does not exist`);
    }
    throw e;
  }
  if (!RootArray.exists(iface.name, loc)) return undefined;
  using root = RootArray.open(iface.name, loc);
  return root.status();
}

/** Whether the state says this program was loaded for this interface and slot. */
function appliedHere(state: FleetState, progId: number, ifname: string, netns: string | undefined, slot: number): FleetState[string] | undefined {
  const e = state[String(progId)];
  return e && e.ifname === ifname && (e.netns ?? undefined) === netns && e.slot === slot ? e : undefined;
}

/**
 * Compares a config with what runs and returns the changes that make them match. Reads the
 * kernel (and bpffs) only; changes nothing.
 *
 * Drift is a slot whose program the previous apply put there and that no longer holds it (emptied
 * or replaced by hand): it is planned like any other difference, marked `drift: true`.
 *
 * @throws {@link libbpf-node!BpfError} `ENODEV` naming the config line of an interface that does not exist;
 *   RangeError when a running root has a different slot count than configured
 */
export function planFleet(config: FleetConfig, state: FleetState, options: PlanOptions = {}): FleetPlan {
  const plan: FleetPlan = { changes: [], unchanged: [], notes: [] };
  for (const iface of config.interfaces) planInterface(plan, iface, runningStatus(iface, config.pinBase), state, options);
  return plan;
}

/**
 * The part of {@link planFleet} for one interface, given what runs there (`status`, undefined
 * when no root array is attached): adds its changes, unchanged slots and notes to `plan`. Reads
 * nothing, so it is tested without a kernel.
 * @internal
 */
export function planInterface(plan: FleetPlan, iface: InterfaceSpec, status: RootStatus | undefined, state: FleetState, options: PlanOptions = {}): void {
  const { name: ifname, netns } = iface;
  if (status === undefined) {
    plan.changes.push({ action: 'attach', ifname, netns, slots: iface.slots, mode: iface.mode });
    for (const spec of iface.programs) plan.changes.push({ action: 'load', ifname, netns, slot: spec.slot, spec, reason: 'new root array', drift: false });
    return;
  }
  if (status.slotCount !== iface.slots) {
    throw new RangeError(
      `the root array on ${where(ifname, netns)} has ${status.slotCount} slots, the config (line ${iface.line}) asks for ${iface.slots}: ` +
        'a slot count is fixed for the life of a root; detach it (xdp-root detach) to change it',
    );
  }
  if (iface.mode !== undefined && status.mode !== iface.mode) {
    plan.notes.push(`${where(ifname, netns)} runs in ${status.mode ?? 'no'} mode, the config asks for ${iface.mode}: left as it is (changing the mode needs a detach)`);
  }
  const wanted = new Map(iface.programs.map((s) => [s.slot, s]));
  for (const running of status.slots) {
    const slot = running.slot;
    const spec = wanted.get(slot);
    // What the last apply put in this slot, if it no longer runs there: drift.
    const lost = Object.entries(state).find(([id, e]) => e.ifname === ifname && (e.netns ?? undefined) === netns && e.slot === slot && Number(id) !== running.progId);
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
    const applied = appliedHere(state, running.progId, ifname, netns, slot);
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
        return `+ attach root array to ${at}: ${c.slots} slots, mode ${c.mode ?? 'kernel default'}`;
      case 'load':
        return `+ ${at} slot ${c.slot}: load ${objectText(c.spec)} (${c.reason})`;
      case 'replace':
        return `~ ${at} slot ${c.slot}: replace ${c.from.name} (id ${c.from.progId}) with ${objectText(c.spec)} (${c.reason})`;
      case 'remove':
        return `- ${at} slot ${c.slot}: remove ${c.from.name} (id ${c.from.progId}) (${c.reason})`;
    }
  });
  if (plan.changes.length === 0) lines.push('no changes: everything runs as configured');
  if (plan.unchanged.length > 0) lines.push(`${plan.unchanged.length} slot${plan.unchanged.length === 1 ? '' : 's'} unchanged`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
