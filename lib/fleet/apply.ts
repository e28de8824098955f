/**
 * {@link applyFleet}: makes the running root arrays match a config, with the smallest set of
 * atomic changes (see {@link planFleet}).
 *
 * @module
 */
import { cidrKey } from '../map/cidr';
import type { BpfObject } from '../object';
import { RootArray } from '../rootarray/root-array';
import { objectNameOf, type FleetConfig, type SlotSpec } from './config';
import { planFleet, type FleetChange, type FleetPlan } from './plan';
import { DEFAULT_STATE_FILE, readFleetState, writeFleetState } from './state';

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
  /** The changes made (all of the plan's, unless dryRun). */
  applied: { change: FleetChange; progId: number | undefined }[];
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
 * Loads the program a slot spec describes, fully configured, then puts it in its slot in one
 * prog-array update: the previous program handles every packet until then, the new one every
 * packet after. Returns the new program's kernel id. The program stays in the slot after this
 * process exits. What loads is `spec.image`, the bytes checked when the config was read.
 */
export async function installSlot(root: RootArray, spec: SlotSpec): Promise<number> {
  // The bytes verified when the config was read, never the path again: a file replaced since
  // the check cannot be what loads.
  const { object, program } = root.prepare(spec.slot, spec.image, { program: spec.program, globals: spec.globals, objectName: objectNameOf(spec.object) });
  try {
    sizeMaps(object, spec);
    await object.load();
    configure(object, spec);
    await root.load(spec.slot, program);
    return program.id;
  } finally {
    object.close();
  }
}

/**
 * Makes the running root arrays match `config`: attaches a root where there is none, and per
 * slot loads, replaces (atomically) or, with `prune`, empties. Slots already as configured are
 * not touched, so applying the same config twice changes nothing. Anything the config does not
 * mention is left alone (without `prune`). Programs stay in their slots after the process exits.
 *
 * The plan is computed (and every interface checked) before the first change; a change that
 * fails stops the apply, leaving the changes before it in place, and throws.
 *
 * What loads is the bytes {@link loadFleetConfig} verified (trusted files, or matching their
 * pinned hashes); a config read with `insecure` warns on every apply (see `onInsecure`).
 *
 * Minimum kernel: 5.10 (root arrays).
 *
 * @throws TrustError (`EUNTRUSTED`) when the state file's folder is not root's;
 *   {@link libbpf-node!BpfError} for an interface that does not exist (before any change) or a change
 *   the kernel refuses; {@link libbpf-node!BpfVerifierError} for a program that does not load
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
  const roots = new Map<string, RootArray>();
  const rootFor = (ifname: string, netns: string | undefined): RootArray => {
    const key = `${ifname}@${netns ?? ''}`;
    let root = roots.get(key);
    if (!root) {
      root = RootArray.open(ifname, { netns, pinBase: config.pinBase });
      roots.set(key, root);
    }
    return root;
  };
  try {
    for (const change of plan.changes) {
      let progId: number | undefined;
      switch (change.action) {
        case 'attach': {
          const root = await RootArray.attach(change.ifname, { netns: change.netns, pinBase: config.pinBase, slots: change.slots, mode: change.mode });
          roots.set(`${change.ifname}@${change.netns ?? ''}`, root);
          break;
        }
        case 'load':
        case 'replace': {
          progId = await installSlot(rootFor(change.ifname, change.netns), change.spec);
          if (change.action === 'replace') delete state[String(change.from.progId)];
          for (const [id, e] of Object.entries(state)) if (e.ifname === change.ifname && e.netns === change.netns && e.slot === change.slot) delete state[id];
          state[String(progId)] = { fingerprint: change.spec.fingerprint, ifname: change.ifname, netns: change.netns, slot: change.slot };
          break;
        }
        case 'remove':
          await rootFor(change.ifname, change.netns).remove(change.slot, { expected: change.from.progId });
          delete state[String(change.from.progId)];
          break;
      }
      result.applied.push({ change, progId });
      options.onChange?.(change, progId);
      // Written after every change, so a crash half-way leaves a state that matches the kernel.
      writeFleetState(stateFile, state);
    }
  } finally {
    for (const root of roots.values()) root.close();
  }
  return result;
}
