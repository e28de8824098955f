/**
 * {@link applyFleet}: makes the running root arrays match a config, all or nothing, with the
 * smallest set of atomic changes (see {@link planFleet}).
 *
 * @module
 */
import { BpfVerifierError, verifierSummary } from '../errors';
import { cidrKey } from '../map/cidr';
import type { BpfObject } from '../object';
import { BpfProgram } from '../program';
import { RootArray } from '../rootarray/root-array';
import { objectNameOf, type FleetConfig, type SlotSpec } from './config';
import { netnsKey, planFleet, where, type FleetChange, type FleetPlan } from './plan';
import { DEFAULT_STATE_FILE, readFleetState, writeFleetState, type FleetState } from './state';

/** Options of {@link applyFleet}. */
export interface ApplyOptions {
  /** Only compute the plan. Default false. */
  dryRun?: boolean;
  /** Empty the slots of configured interfaces that the config does not mention. Default false. */
  prune?: boolean;
  /** Where to remember what was applied. Default {@link DEFAULT_STATE_FILE}. */
  stateFile?: string;
  /** Called after each change is made, with the program id it installed (load/replace). */
  onChange?: (change: FleetChange, progId: number | undefined) => void;
  /**
   * Called on every apply of a config read with `insecure` (trust checks waived), with a warning
   * and the problems waived. Default: `process.emitWarning` (printed on stderr).
   */
  onInsecure?: (warning: string, waived: readonly string[]) => void;
}

/** The warning of an apply whose config was read with the trust checks waived. */
export const INSECURE_WARNING = 'trust checks waived (insecure): files that users other than root can change may be loaded into the kernel; for development only';

/** What {@link applyFleet} did. */
export interface ApplyResult {
  plan: FleetPlan;
  /** The changes made (all of the plan's, unless dryRun). Interfaces in `plan.refused` got none. */
  applied: { change: FleetChange; progId: number | undefined }[];
}

/** One change that could not be made, located in the config. */
export interface ApplyFailure {
  /** The config file and the line of the slot's (or interface's) entry. */
  file: string;
  line: number;
  ifname: string;
  netns: string | undefined;
  /** The slot, or undefined for an interface-wide step (attaching the root). */
  slot: number | undefined;
  /** The object, as the config names it (a shipped name or a path). */
  object: string | undefined;
  /** One line: what failed and why (for a verifier refusal, the verifier's line naming the cause). */
  reason: string;
  /** The verifier's whole log, when the verifier refused the program. */
  verifierLog: string | undefined;
  /** The error itself. */
  error: Error;
}

/**
 * {@link applyFleet} failed: `failures` says, one line each, what could not be done and where in
 * the config; `rolledBack` what this run had changed and put back. When the failure happened
 * while loading (the verifier refused a program, an object did not open), no slot was changed.
 */
export class FleetApplyError extends Error {
  readonly failures: ApplyFailure[];
  /** What this run changed and then put back, one line each (empty: nothing had changed). */
  readonly rolledBack: string[];
  /** Changes that could not be put back, one line each (empty when the rollback was complete). */
  readonly notRolledBack: string[];

  constructor(failures: ApplyFailure[], rolledBack: string[], notRolledBack: string[]) {
    const head =
      notRolledBack.length > 0
        ? 'apply failed and could not put everything back'
        : rolledBack.length > 0
          ? `apply failed; this run's ${rolledBack.length} change${rolledBack.length === 1 ? ' was' : 's were'} put back`
          : 'apply failed; nothing was changed';
    const lines = [
      `${head} (${failures.length} error${failures.length === 1 ? '' : 's'}):`,
      ...failures.map(formatFailure),
      ...rolledBack.map((l) => `  put back: ${l}`),
      ...notRolledBack.map((l) => `  NOT put back: ${l}`),
    ];
    super(lines.join('\n'));
    this.name = 'FleetApplyError';
    this.failures = failures;
    this.rolledBack = rolledBack;
    this.notRolledBack = notRolledBack;
  }
}

/** `file:line: eth1 (netns …) slot 3: object: reason`, indented: one line of a {@link FleetApplyError}. */
export function formatFailure(f: ApplyFailure): string {
  return `  ${f.file}:${f.line}: ${where(f.ifname, f.netns)}${f.slot === undefined ? '' : ` slot ${f.slot}`}${f.object ? ` (${f.object})` : ''}: ${f.reason}`;
}

/** One line for an error: a verifier refusal as the program and the line naming the cause. */
export function errorReason(e: unknown): string {
  if (e instanceof BpfVerifierError) {
    const cause = verifierSummary(e.log, 1)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .join('; ');
    return `the verifier refused program '${e.program}': ${cause || `${e.code} (the log is empty)`}`;
  }
  return e instanceof Error ? e.message.split('\n')[0].replace(/:$/, '') : String(e);
}

/** Sets the shipped programs' map sizes before load. */
function sizeMaps(object: BpfObject, spec: SlotSpec): void {
  if (spec.filter?.maxEntries !== undefined) {
    object.map('filter_drop_v4').maxEntries = spec.filter.maxEntries;
    object.map('filter_drop_v6').maxEntries = spec.filter.maxEntries;
  }
  if (spec.counter?.maxSources !== undefined) object.map('counter_src').maxEntries = spec.counter.maxSources;
  if (spec.sampler?.ringBytes !== undefined) object.map('sampler_events').maxEntries = spec.sampler.ringBytes;
}

/** Fills the shipped programs' settings after load, before the program is put in its slot. */
function configure(object: BpfObject, spec: SlotSpec): void {
  if (spec.filter) {
    const addedNs = BigInt(Date.now()) * 1_000_000n;
    const v4 = object.map('filter_drop_v4').typed<string, unknown>({ key: cidrKey('ipv4') });
    const v6 = object.map('filter_drop_v6').typed<string, unknown>({ key: cidrKey('ipv6') });
    for (const { cidr, tag } of spec.filter.block) (cidr.includes(':') ? v6 : v4).set(cidr, { tag, added_ns: addedNs });
    object.map('filter_config').typed<number, unknown>().set(0, { frags_drop: spec.filter.dropFragments ? 1 : 0, match_dst: spec.filter.matchDestination ? 1 : 0 });
  }
  if (spec.sampler) object.map('sampler_config').typed<number, unknown>().set(0, { rate: spec.sampler.rate, reserved: 0 });
}

/**
 * The one place the fleet turns a config entry into an object: opened for its slot of `root`
 * (sharing the root's maps, globals set), not loaded. Everything that loads a config entry's
 * program goes through here. What opens is `spec.image`, the bytes verified when the config was
 * read (trusted, or matching the pinned `sha256`), never the path again: a file replaced since
 * the check cannot be what loads. The object is named as libbpf names the file
 * (`xdp_filter.bpf.o` → `xdp_filter`), so maps and messages read as when opened by path.
 *
 * @throws like {@link RootArray.prepare}
 */
export function openSlotObject(root: RootArray, spec: SlotSpec): { object: BpfObject; program: BpfProgram } {
  return root.prepare(spec.slot, spec.image, { program: spec.program, globals: spec.globals, objectName: objectNameOf(spec.object) });
}

/**
 * Loads the program a slot spec describes, fully configured (verified by the kernel), without
 * putting it anywhere: the caller installs `program` and then closes `object`.
 *
 * @throws {@link libbpf-node!BpfVerifierError} when the verifier refuses it; the object is closed
 */
export async function loadSlotProgram(root: RootArray, spec: SlotSpec): Promise<{ object: BpfObject; program: BpfProgram }> {
  const opened = openSlotObject(root, spec);
  try {
    sizeMaps(opened.object, spec);
    await opened.object.load();
    configure(opened.object, spec);
    return opened;
  } catch (e) {
    opened.object.close();
    throw e;
  }
}

/**
 * Loads the program a slot spec describes, fully configured, then puts it in its slot in one
 * prog-array update: the previous program handles every packet until then, the new one every
 * packet after. Returns the new program's kernel id. The program stays in the slot after this
 * process exits. What loads is `spec.image`, the bytes checked when the config was read (see
 * {@link openSlotObject}).
 *
 * @throws {@link libbpf-node!BpfVerifierError} when the verifier refuses it (the slot is unchanged)
 */
export async function installSlot(root: RootArray, spec: SlotSpec): Promise<number> {
  const { object, program } = await loadSlotProgram(root, spec);
  try {
    await root.load(spec.slot, program);
    return program.id;
  } finally {
    object.close();
  }
}

/** A state entry's namespace key (an old entry has only the path; a path gone: undefined). */
function entryKey(e: FleetState[string]): string | undefined {
  if (e.netnsKey !== undefined) return e.netnsKey;
  try {
    return netnsKey(e.netns);
  } catch {
    return undefined;
  }
}

type Undo = { text: string; run: () => Promise<unknown> };

function changeText(c: FleetChange): string {
  const at = where(c.ifname, c.netns);
  switch (c.action) {
    case 'attach':
      return `root array attached to ${at}`;
    case 'handoff':
      return `${at}: root program reloaded with the metadata hand-off ${c.passMeta ? 'on' : 'off'}`;
    case 'load':
      return `${at} slot ${c.slot}: loaded ${c.spec.shipped ?? c.spec.object}`;
    case 'replace':
      return `${at} slot ${c.slot}: ${c.from.name} (id ${c.from.progId}) replaced by ${c.spec.shipped ?? c.spec.object}`;
    case 'remove':
      return `${at} slot ${c.slot}: ${c.from.name} (id ${c.from.progId}) removed`;
  }
}

/**
 * Makes the running root arrays match `config`: attaches a root where there is none, and per
 * slot loads, replaces (atomically) or, with `prune`, empties. Slots already as configured are
 * not touched, so applying the same config twice changes nothing. Anything the config does not
 * mention is left alone (without `prune`). Programs stay in their slots after the process exits.
 *
 * All or nothing: every program the plan needs is loaded (verified, configured) before the first
 * slot changes; a program that does not load changes no slot (roots this run attached for it are
 * detached again). Then the slots are swapped; if a swap fails, every change this run made is put
 * back (the replaced programs return to their slots) and {@link FleetApplyError} says so. The
 * state file's folder is checked before the first change.
 *
 * An interface the config cannot be applied to (missing, or its root has another slot count) is
 * left as it is and listed in `plan.refused`; the others are applied.
 *
 * What loads is the bytes {@link loadFleetConfig} verified (trusted files, or matching their
 * pinned hashes); a config read with `insecure` warns on every apply (see `onInsecure`).
 *
 * Minimum kernel: 5.10 (root arrays).
 *
 * @throws {@link FleetApplyError} listing each failure with its config line (for a program the
 *   verifier refuses: the verifier's line naming the cause; the whole log in `verifierLog`);
 *   TrustError (`EUNTRUSTED`) when the state file's folder is not root's, Error when the state
 *   file cannot be written (both before any change)
 * @example
 * ```ts
 * const config = loadFleetConfig('/etc/xdp-root/fleet.yaml');
 * const { plan } = await applyFleet(config);
 * console.log(formatPlan(plan));
 * ```
 */
export async function applyFleet(config: FleetConfig, options: ApplyOptions = {}): Promise<ApplyResult> {
  const stateFile = options.stateFile ?? DEFAULT_STATE_FILE;
  if (config.insecure) {
    if (options.onInsecure) options.onInsecure(INSECURE_WARNING, config.waived);
    else process.emitWarning([INSECURE_WARNING, ...config.waived.map((w) => `untrusted, loaded anyway: ${w}`)].join('\n'), 'InsecureWarning');
  }
  const state = readFleetState(stateFile);
  const plan = planFleet(config, state, { prune: options.prune });
  const result: ApplyResult = { plan, applied: [] };
  if (options.dryRun || plan.changes.length === 0) return result;
  // Before the first change: the state can be written (a stale mount fails here, not half-way).
  writeFleetState(stateFile, state);
  const before: FleetState = { ...state };
  const keyOf = (ifname: string, netns: string | undefined): string => `${ifname}@${netnsKey(netns)}`;
  const roots = new Map<string, RootArray>();
  const rootFor = (ifname: string, netns: string | undefined): RootArray => {
    const key = keyOf(ifname, netns);
    let root = roots.get(key);
    if (!root) {
      root = RootArray.open(ifname, { netns, pinBase: config.pinBase });
      roots.set(key, root);
    }
    return root;
  };
  const objects: BpfObject[] = [];
  const held: BpfProgram[] = [];
  const undo: Undo[] = [];
  const failures: ApplyFailure[] = [];
  const fail = (change: FleetChange, e: unknown): void => {
    const iface = config.interfaces.find((i) => i.name === change.ifname && i.netns === change.netns);
    const spec = change.action === 'load' || change.action === 'replace' ? change.spec : undefined;
    failures.push({
      file: config.file,
      line: spec?.line ?? iface?.line ?? 0,
      ifname: change.ifname,
      netns: change.netns,
      slot: 'slot' in change ? change.slot : undefined,
      object: spec ? (spec.shipped ?? spec.object) : undefined,
      reason: errorReason(e),
      verifierLog: e instanceof BpfVerifierError ? e.log : undefined,
      error: e instanceof Error ? e : new Error(String(e)),
    });
  };
  const rollBack = async (): Promise<never> => {
    const rolledBack: string[] = [];
    const notRolledBack: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
        rolledBack.push(u.text);
      } catch (e) {
        notRolledBack.push(`${u.text}: ${errorReason(e)}`);
      }
    }
    for (const o of objects.splice(0)) o.close();
    for (const k of Object.keys(state)) delete state[k];
    Object.assign(state, before);
    try {
      writeFleetState(stateFile, state);
    } catch {
      // Checked writable before the first change; if it fails now, the next apply re-checks.
    }
    throw new FleetApplyError(failures, rolledBack, notRolledBack);
  };
  try {
    // 1. Roots where there are none (empty: packets pass as before), undone by a detach; and
    //    running roots reloaded for their metadata hand-off (atomic), undone by reloading back.
    for (const change of plan.changes) {
      if (change.action !== 'attach' && change.action !== 'handoff') continue;
      const at = { netns: change.netns, pinBase: config.pinBase };
      try {
        if (change.action === 'attach') {
          const root = await RootArray.attach(change.ifname, { ...at, slots: change.slots, mode: change.mode, passMeta: change.passMeta });
          roots.set(keyOf(change.ifname, change.netns), root);
          undo.push({ text: changeText(change), run: () => RootArray.cleanup(change.ifname, at) });
        } else {
          const root = await RootArray.attach(change.ifname, { ...at, passMeta: change.passMeta });
          roots.set(keyOf(change.ifname, change.netns), root);
          undo.push({ text: changeText(change), run: async () => (await RootArray.attach(change.ifname, { ...at, passMeta: !change.passMeta })).close() });
        }
        result.applied.push({ change, progId: undefined });
        options.onChange?.(change, undefined);
      } catch (e) {
        fail(change, e);
      }
    }
    if (failures.length > 0) return await rollBack();
    // 2. Every program loaded and verified before any slot changes.
    const loaded = new Map<FleetChange, BpfProgram>();
    for (const change of plan.changes) {
      if (change.action !== 'load' && change.action !== 'replace') continue;
      try {
        const { object, program } = await loadSlotProgram(rootFor(change.ifname, change.netns), change.spec);
        objects.push(object);
        loaded.set(change, program);
      } catch (e) {
        fail(change, e);
      }
    }
    if (failures.length > 0) return await rollBack();
    // 3. The swaps, each atomic; the programs they replace are held so they can be put back.
    for (const change of plan.changes) {
      if (change.action === 'attach' || change.action === 'handoff') continue;
      const root = rootFor(change.ifname, change.netns);
      let progId: number | undefined;
      try {
        let old: BpfProgram | undefined;
        if (change.action === 'remove' || change.action === 'replace') {
          try {
            old = BpfProgram.openById(change.from.progId);
            held.push(old);
          } catch {
            old = undefined; // gone meanwhile: nothing to put back but an empty slot
          }
        }
        const prev = old;
        if (change.action === 'remove') {
          await root.remove(change.slot, { expected: change.from.progId });
          undo.push({ text: changeText(change), run: () => (prev ? root.load(change.slot, prev) : Promise.resolve()) });
          delete state[String(change.from.progId)];
        } else {
          const program = loaded.get(change)!;
          await root.load(change.slot, program);
          undo.push({
            text: changeText(change),
            run: () => (prev ? root.load(change.slot, prev) : root.remove(change.slot, { expected: program.id })),
          });
          progId = program.id;
          const key = netnsKey(change.netns);
          for (const [id, e] of Object.entries(state)) {
            if (e.ifname === change.ifname && entryKey(e) === key && e.slot === change.slot) delete state[id];
          }
          state[String(progId)] = { fingerprint: change.spec.fingerprint, ifname: change.ifname, netns: change.netns, netnsKey: key, slot: change.slot };
        }
      } catch (e) {
        fail(change, e);
        return await rollBack();
      }
      result.applied.push({ change, progId });
      options.onChange?.(change, progId);
      // After every change, so a crash half-way leaves a state that matches the kernel.
      writeFleetState(stateFile, state);
    }
  } finally {
    for (const o of objects) o.close();
    for (const p of held) p.close();
    for (const root of roots.values()) root.close();
  }
  return result;
}
