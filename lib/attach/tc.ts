/**
 * tc: attach a `sched_cls` program to an interface's ingress or egress ({@link attachTc}), see
 * what is attached ({@link queryTc}).
 *
 * @module
 */
import { BpfError } from '../errors';
import { featureError, hasFeature } from '../features';
import { checkOptions, toNativeInterface, type InterfaceOptions, type InterfaceRef, nativeInterfaceAt } from '../internal/iface';
import { BpfLink } from '../link';
import { binding, type NativeLink } from '../internal/native';
import type { BpfProgram } from '../program';
import { checkBoolean, checkUint32 } from '../internal/validate';

/** Which way the traffic goes through the hook. */
export type TcDirection = 'ingress' | 'egress';

/** Options of {@link attachTc}. */
export interface TcAttachOptions extends InterfaceOptions {
  /** The hook: received (`'ingress'`) or sent (`'egress'`) traffic. */
  direction: TcDirection;
  /**
   * How to attach:
   * - `'tcx'`: a tcx BPF link (kernel 6.6+), returned as a {@link TcxLink};
   * - `'cls_bpf'`: a clsact qdisc (made if missing) and a cls_bpf filter in direct-action mode,
   *   through netlink, returned as a {@link TcFilter};
   * - default: tcx where the kernel has it, cls_bpf otherwise.
   */
  mechanism?: 'tcx' | 'cls_bpf';
  /** cls_bpf only: the filter's handle (default: the kernel picks 1). */
  handle?: number;
  /** cls_bpf only: the filter's priority (default: the kernel picks 1). */
  priority?: number;
  /** cls_bpf only: replace a filter with the same handle and priority. */
  replace?: boolean;
}

const attachKeys = ['netns', 'direction', 'mechanism', 'handle', 'priority', 'replace'] as const;

/** A program attached by {@link attachTc} with tcx: a {@link BpfLink} that knows where. */
export class TcxLink extends BpfLink {
  readonly kind = 'tcx' as const;
  readonly direction: TcDirection;
  readonly ifindex: number;
  readonly netns: string | undefined;

  /** @internal */
  constructor(native: NativeLink, direction: TcDirection, netns: string | undefined) {
    super(native);
    this.direction = direction;
    this.ifindex = native.info().ifindex ?? 0;
    this.netns = netns;
  }
}

/**
 * A program attached by {@link attachTc} as a cls_bpf filter (netlink, the pre-tcx way).
 *
 * Lifetime: the filter stays until {@link TcFilter.detach}, after the process exits too. The
 * clsact qdisc is left in place after detach (other filters may share it); it goes with the
 * interface. `using` detaches at the end of the scope; a garbage-collected handle never does.
 */
export class TcFilter implements Disposable {
  readonly kind = 'cls_bpf' as const;
  readonly direction: TcDirection;
  readonly ifindex: number;
  readonly netns: string | undefined;
  /** The filter's handle and priority, which identify it on the hook. */
  readonly handle: number;
  readonly priority: number;
  /** The kernel id of the attached program. */
  readonly progId: number;
  #detached = false;

  /** @internal */
  constructor(r: { ifindex: number; handle: number; priority: number; progId: number }, direction: TcDirection, netns: string | undefined) {
    this.ifindex = r.ifindex;
    this.handle = r.handle;
    this.priority = r.priority;
    this.progId = r.progId;
    this.direction = direction;
    this.netns = netns;
  }

  /** Whether the filter is still there, running this program. */
  get attached(): boolean {
    if (this.#detached) return false;
    return binding.tcFilterQuery(nativeInterfaceAt(this.ifindex, this.netns), this.direction, this.handle, this.priority) === this.progId;
  }

  /** Removes the filter. Returns whether it was still there. Idempotent. */
  detach(): boolean {
    if (this.#detached) return false;
    this.#detached = true;
    try {
      return binding.tcFilterDetach(nativeInterfaceAt(this.ifindex, this.netns), this.direction, this.handle, this.priority);
    } catch (e) {
      if (e instanceof BpfError && e.code === 'ENODEV') return false;
      throw e;
    }
  }

  /** Same as {@link TcFilter.detach}, for `using`. */
  [Symbol.dispose](): void {
    this.detach();
  }
}

/** What {@link attachTc} returns: a tcx link or a cls_bpf filter. Both have `detach()` and `using`. */
export type TcAttachment = TcxLink | TcFilter;

function checkTcProgram(program: BpfProgram): void {
  if (!program || typeof program !== 'object' || !('native' in program)) throw new TypeError('program must be a BpfProgram');
  if (program.type !== 'sched_cls') {
    throw new TypeError(`program '${program.name}' is a ${program.type} program; attachTc needs a sched_cls program (SEC("tc"), SEC("tcx/ingress")…)`);
  }
}

function checkDirection(direction: unknown): TcDirection {
  if (direction !== 'ingress' && direction !== 'egress') throw new TypeError(`options.direction must be 'ingress' or 'egress', got ${String(direction)}`);
  return direction;
}

/**
 * Attaches a `sched_cls` program to an interface's ingress or egress. The program's return value
 * is the verdict (TC_ACT_OK, TC_ACT_SHOT…; cls_bpf filters are made in direct-action mode).
 *
 * @throws TypeError for a program that is not `sched_cls`, and for bad options
 * @throws {@link BpfError} `ENODEV` for a missing interface, `EEXIST` for a cls_bpf filter whose
 *   handle and priority are taken (pass `replace`), `EPERM` without CAP_NET_ADMIN;
 *   {@link BpfFeatureError} for `mechanism: 'tcx'` on a kernel without tcx (before 6.6)
 *
 * Minimum kernel: 4.1 (cls_bpf); 6.6 for tcx, which the default uses where the kernel has it.
 * @example
 * ```ts
 * using att = attachTc(obj.program('tc_drop'), 'veth0', { direction: 'ingress', netns });
 * attachTc(prog, 'eth1', { direction: 'egress', mechanism: 'cls_bpf' });  // stays after exit
 * ```
 */
export function attachTc(program: BpfProgram, iface: InterfaceRef, options: TcAttachOptions & { mechanism: 'tcx' }): TcxLink;
export function attachTc(program: BpfProgram, iface: InterfaceRef, options: TcAttachOptions & { mechanism: 'cls_bpf' }): TcFilter;
export function attachTc(program: BpfProgram, iface: InterfaceRef, options: TcAttachOptions): TcAttachment;
export function attachTc(program: BpfProgram, iface: InterfaceRef, options: TcAttachOptions): TcAttachment {
  checkOptions(options, 'attachTc options', attachKeys);
  checkTcProgram(program);
  const direction = checkDirection(options.direction);
  const target = toNativeInterface(iface, options.netns);
  const mechanism = options.mechanism;
  if (mechanism !== undefined && mechanism !== 'tcx' && mechanism !== 'cls_bpf') {
    throw new RangeError(`options.mechanism must be 'tcx' or 'cls_bpf', got '${String(mechanism)}'`);
  }
  if (options.handle !== undefined) checkUint32(options.handle, 'options.handle');
  if (options.priority !== undefined) checkUint32(options.priority, 'options.priority');
  if (options.replace !== undefined) checkBoolean(options.replace, 'options.replace');
  const filterOnly = options.handle !== undefined || options.priority !== undefined || options.replace !== undefined;
  if (mechanism === 'tcx' && filterOnly) throw new TypeError('options.handle, priority and replace are for cls_bpf filters; a tcx link is replaced with link.update()');

  if (mechanism === 'tcx' && !hasFeature('tcx')) throw featureError('tcx', `attachTc with mechanism 'tcx'`);
  // Kernels before 6.6 have no tcx: the default falls back to a cls_bpf filter.
  if (mechanism !== 'cls_bpf' && !filterOnly && hasFeature('tcx')) {
    return new TcxLink(binding.tcxAttach(program.native, target, direction), direction, options.netns);
  }
  const r = binding.tcFilterAttach(program.native, target, direction, {
    handle: options.handle ?? 0,
    priority: options.priority ?? 0,
    replace: options.replace ?? false,
  });
  return new TcFilter(r, direction, options.netns);
}

/** What {@link queryTc} reports. */
export interface TcQueryResult {
  ifindex: number;
  /** The programs attached through tcx, in the order they run (empty on kernels without tcx). */
  programs: Array<{ id: number; name: string; linkId?: number }>;
  /** tcx's revision counter of the hook: it changes with every attach and detach (0 without tcx). */
  revision: bigint;
  /**
   * The cls_bpf filters on the clsact hook (netlink, the pre-tcx way, as `tc filter show` lists
   * them), in the kernel's order: by priority, then handle. tcx programs run before them.
   */
  filters: TcFilterInfo[];
}

/** One cls_bpf filter listed by {@link queryTc}. */
export interface TcFilterInfo {
  /** The filter's handle and priority: what {@link TcFilter} and `tc filter del` name it by. */
  handle: number;
  priority: number;
  /** The program it runs, and that program's kernel name. */
  progId: number;
  name: string;
  /** The name the attacher gave the filter (`'file.o:[sec]'` from tc, `'cls_bpf'`-style from libbpf). */
  section: string;
  /** Whether the filter runs in direct-action mode (the program's return value is the verdict). */
  directAction: boolean;
}

/**
 * Everything attached to an interface's ingress or egress, whoever attached it: the programs
 * attached with tcx (`bpf_prog_query`, kernel 6.6+) and the cls_bpf filters on the clsact qdisc
 * (a netlink filter dump; `bpf_tc_query` alone needs the handle and priority up front).
 *
 * Minimum kernel: 4.5 for the filter list (clsact), 6.6 for tcx programs; on older kernels,
 * where nothing can be attached through tcx, `programs` is empty and the revision 0.
 *
 * @throws {@link BpfError} `ENODEV` for a missing interface
 * @example
 * ```ts
 * const q = queryTc('veth0', { direction: 'ingress', netns });
 * q.programs;   // [{ id: 51, name: 'tc_drop', linkId: 9 }]          (tcx)
 * q.filters;    // [{ handle: 1, priority: 1, progId: 52, name: 'tc_count', ... }]   (cls_bpf)
 * ```
 */
export function queryTc(iface: InterfaceRef, options: InterfaceOptions & { direction: TcDirection }): TcQueryResult {
  checkOptions(options, 'queryTc options', ['netns', 'direction']);
  const direction = checkDirection(options.direction);
  const ref = toNativeInterface(iface, options.netns);
  const { ifindex, filters } = binding.tcFilterList(ref, direction);
  // Kernels before 6.6 have no tcx hook to query: only filters then.
  if (!hasFeature('tcx')) return { ifindex, programs: [], revision: 0n, filters };
  const q = binding.tcxQuery(ref, direction);
  return { ifindex: q.ifindex, programs: q.programs, revision: q.revision, filters };
}
