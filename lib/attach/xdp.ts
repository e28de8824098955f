/**
 * XDP: attach a program to an interface's receive path ({@link attachXdp}), see what is attached
 * ({@link queryXdp}).
 *
 * @module
 */
import { BpfError } from '../errors';
import { featureError, hasFeature } from '../features';
import { checkOptions, toNativeInterface, type InterfaceOptions, type InterfaceRef, nativeInterfaceAt } from '../internal/iface';
import { BpfLink } from '../link';
import { binding, type NativeInterface, type NativeLink } from '../internal/native';
import type { BpfProgram } from '../program';
import { checkBoolean } from '../internal/validate';

/**
 * Where an XDP program runs:
 * - `'native'`: in the driver, before any socket buffer exists (fast; the driver must support it; veth does);
 * - `'skb'`: generic XDP, after the socket buffer is built (any interface; slower);
 * - `'hw'`: offloaded to the NIC (few NICs can).
 */
export type XdpMode = 'skb' | 'native' | 'hw';

/** Options of {@link attachXdp}. */
export interface XdpAttachOptions extends InterfaceOptions {
  /** The mode. Default: the kernel's choice (native when the driver supports it, else skb). */
  mode?: XdpMode;
  /**
   * `true` (default): attach through a BPF link, returned as an {@link XdpLink}; the attachment
   * ends when the link is closed or the process exits, unless the link is pinned.
   * `false`: attach through netlink, returned as an {@link XdpAttachment}; the attachment stays
   * until someone detaches it, after this process exits too. Minimum kernel for links: 5.9.
   */
  link?: boolean;
  /**
   * Netlink only: the program expected to be attached now, replaced atomically
   * (XDP_FLAGS_REPLACE) in its mode. The kernel refuses (`EEXIST`) if another program is attached.
   * A program attached through a link is replaced through the link: {@link BpfLink.update}.
   */
  replace?: BpfProgram;
  /** Netlink only: overwrite whatever program is attached (default: refuse with `EBUSY`). */
  force?: boolean;
  /** When the driver does not support `mode` (`EOPNOTSUPP`, or `EINVAL` for `'hw'`), attach in skb mode instead. */
  fallback?: 'skb';
}

const attachKeys = ['netns', 'mode', 'link', 'replace', 'force', 'fallback'] as const;

/** A program attached by {@link attachXdp} through a link: a {@link BpfLink} that knows where. */
export class XdpLink extends BpfLink {
  /** The mode the program runs in. */
  readonly mode: XdpMode | undefined;
  /** The interface's index (in {@link XdpLink.netns}). */
  readonly ifindex: number;
  /** The namespace of the interface, when given. */
  readonly netns: string | undefined;

  /** @internal */
  constructor(native: NativeLink, mode: XdpMode | undefined, ifindex: number, netns: string | undefined) {
    super(native);
    this.mode = mode;
    this.ifindex = ifindex;
    this.netns = netns;
  }
}

/**
 * A program attached by {@link attachXdp} with `{ link: false }` (netlink).
 *
 * Lifetime: it stays attached until {@link XdpAttachment.detach}, someone else detaches or
 * replaces it, or the interface goes away. Closing the program's object or exiting the process
 * does not detach it (the kernel keeps the program alive for the interface). `using` detaches at
 * the end of the scope; a garbage-collected handle never does.
 */
export class XdpAttachment implements Disposable {
  /** The interface's index (in {@link XdpAttachment.netns}). */
  readonly ifindex: number;
  /** The namespace of the interface, when given. */
  readonly netns: string | undefined;
  /** The mode the program was attached in. */
  readonly mode: XdpMode;
  /** The kernel id of the attached program. */
  readonly progId: number;
  #detached = false;

  /** @internal */
  constructor(ifindex: number, netns: string | undefined, mode: XdpMode, progId: number) {
    this.ifindex = ifindex;
    this.netns = netns;
    this.mode = mode;
    this.progId = progId;
  }

  /** Whether this program is still the one attached in {@link XdpAttachment.mode} on the interface. */
  get attached(): boolean {
    if (this.#detached) return false;
    const q = queryXdp(this.ifindex, { netns: this.netns });
    return q?.programs[this.mode]?.id === this.progId;
  }

  /**
   * Detaches the program, only if it is still the one attached (a program that replaced it
   * meanwhile is left alone). Returns whether it detached something. Idempotent.
   * @throws {@link BpfError} when the interface cannot be reached (`ENODEV` once it is gone is reported as `false`)
   */
  detach(): boolean {
    if (this.#detached) return false;
    this.#detached = true;
    try {
      return binding.xdpDetachNetlink(nativeInterfaceAt(this.ifindex, this.netns), { mode: this.mode, progId: this.progId });
    } catch (e) {
      if (e instanceof BpfError && e.code === 'ENODEV') return false;
      throw e;
    }
  }

  /** Same as {@link XdpAttachment.detach}, for `using`. */
  [Symbol.dispose](): void {
    this.detach();
  }
}

/** One program in {@link XdpQueryResult.programs}. */
export interface XdpProgramRef {
  /** Kernel id of the program. */
  id: number;
  /** Its name (the kernel keeps the first 15 characters). */
  name: string;
}

/** What {@link queryXdp} reports. */
export interface XdpQueryResult {
  ifindex: number;
  ifname: string;
  /** The mode of the attached program, or `'multi'` when programs are attached in several modes. */
  mode: XdpMode | 'multi';
  /** The attached program's id (with `'multi'`: the first of native, skb, hw). */
  progId: number;
  /** The attached program's name. */
  name: string;
  /** Every attached program by mode. */
  programs: Partial<Record<XdpMode, XdpProgramRef>>;
}

function checkXdpProgram(program: BpfProgram, what: string): void {
  if (!program || typeof program !== 'object' || !('native' in program)) throw new TypeError(`${what} must be a BpfProgram`);
  const type = program.type;
  if (type !== 'xdp') {
    throw new TypeError(`${what} '${program.name}' is a ${type} program; attachXdp needs an XDP program (SEC("xdp"))`);
  }
}

/**
 * Attaches an XDP program to an interface, through a BPF link (default) or through netlink
 * (`{ link: false }`).
 *
 * Refuses to replace a program that is already attached (`EBUSY`, the message names it and
 * says how to replace it) unless `replace` names it or `force` is set (netlink).
 *
 * @throws TypeError for a program that is not an XDP program, and for bad options
 * @throws {@link BpfError} `ENODEV` for a missing interface (named in the message); `EBUSY`
 *   when a program is already attached; `EOPNOTSUPP` when the driver does not support the mode;
 *   `EPERM` without CAP_NET_ADMIN; {@link BpfFeatureError} for `{ link: true }` before 5.9
 *
 * Minimum kernel: 4.8 (netlink); 5.9 for links. Before 5.9 the default falls back to netlink
 * and returns an {@link XdpAttachment}: check with `instanceof` where that kernel matters.
 * @example
 * ```ts
 * using link = attachXdp(obj.program('xdp_drop'), 'veth0', { mode: 'native', netns: '/run/netns/test' });
 * const a = attachXdp(obj.program('xdp_pass'), 7, { link: false, mode: 'skb' }); // stays after exit
 * a.detach();
 * ```
 */
export function attachXdp(program: BpfProgram, iface: InterfaceRef, options?: XdpAttachOptions & { link?: true }): XdpLink;
export function attachXdp(program: BpfProgram, iface: InterfaceRef, options: XdpAttachOptions & { link: false }): XdpAttachment;
export function attachXdp(program: BpfProgram, iface: InterfaceRef, options?: XdpAttachOptions): XdpLink | XdpAttachment;
export function attachXdp(program: BpfProgram, iface: InterfaceRef, options: XdpAttachOptions = {}): XdpLink | XdpAttachment {
  checkOptions(options, 'attachXdp options', attachKeys);
  checkXdpProgram(program, 'program');
  const target = toNativeInterface(iface, options.netns);
  const mode = options.mode;
  if (mode !== undefined && mode !== 'skb' && mode !== 'native' && mode !== 'hw') {
    throw new RangeError(`options.mode must be 'skb', 'native' or 'hw', got '${String(mode)}'`);
  }
  if (options.fallback !== undefined && options.fallback !== 'skb') throw new RangeError(`options.fallback must be 'skb'`);
  let viaLink = options.link ?? true;
  checkBoolean(viaLink, 'options.link');
  if (options.force !== undefined) checkBoolean(options.force, 'options.force');
  if (options.replace !== undefined) checkXdpProgram(options.replace, 'options.replace');
  if (viaLink && (options.replace !== undefined || options.force)) {
    throw new TypeError('options.replace and options.force are for netlink attachments ({ link: false }); a link is replaced with link.update(newProgram)');
  }
  // Kernels before 5.9 have no XDP links: the default then attaches through netlink, and the
  // result is an XdpAttachment (which stays after exit) instead of an XdpLink.
  if (viaLink && !hasFeature('xdp-link')) {
    if (options.link === true) throw featureError('xdp-link', 'attachXdp with { link: true }');
    viaLink = false;
  }

  const attempt = (m: XdpMode | undefined): XdpLink | XdpAttachment => {
    if (viaLink) {
      const native = binding.xdpAttachLink(program.native, target, m ?? '');
      const ifindex = native.info().ifindex ?? 0;
      const actual = m ?? modeOf(target, native.info().progId);
      return new XdpLink(native, actual, ifindex, options.netns);
    }
    // Replacing: keep the mode the replaced program runs in (the kernel refuses a replace
    // across modes). Not attached anywhere: no mode, and the kernel answers EEXIST.
    if (m === undefined && options.replace !== undefined) m = modeOf(target, options.replace.id);
    const r = binding.xdpAttachNetlink(program.native, target, {
      mode: m ?? '',
      force: options.force ?? false,
      replace: options.replace?.native,
    });
    const actual = (m ?? (r.mode === 'skb' || r.mode === 'native' || r.mode === 'hw' ? r.mode : 'native')) as XdpMode;
    return new XdpAttachment(r.ifindex, options.netns, actual, program.id);
  };

  try {
    return attempt(mode);
  } catch (e) {
    const unsupported = e instanceof BpfError && (e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP' || (mode === 'hw' && e.code === 'EINVAL'));
    if (options.fallback === 'skb' && mode !== 'skb' && unsupported) return attempt('skb');
    throw e;
  }
}

/** The mode a program of this id runs in on the interface, from a query. */
function modeOf(target: NativeInterface, progId: number): XdpMode | undefined {
  const q = binding.xdpQuery(target);
  for (const m of ['native', 'skb', 'hw'] as const) if (q[m]?.id === progId) return m;
  return undefined;
}

/**
 * What XDP programs are attached to an interface, in each mode, whoever attached them (this
 * library, `ip link set … xdp`, bpftool, another process), or `undefined` when none is.
 *
 * @throws {@link BpfError} `ENODEV` for a missing interface
 * @example
 * ```ts
 * queryXdp('veth0', { netns });   // { ifindex: 4, ifname: 'veth0', mode: 'native', progId: 42, name: 'xdp_drop', programs: {...} }
 * ```
 */
export function queryXdp(iface: InterfaceRef, options: InterfaceOptions = {}): XdpQueryResult | undefined {
  checkOptions(options, 'queryXdp options', ['netns']);
  const q = binding.xdpQuery(toNativeInterface(iface, options.netns));
  const programs: Partial<Record<XdpMode, XdpProgramRef>> = {};
  for (const m of ['native', 'skb', 'hw'] as const) {
    const p = q[m];
    if (p) programs[m] = { id: p.id, name: p.name };
  }
  const first = programs.native ?? programs.skb ?? programs.hw;
  if (!first) return undefined;
  const mode = q.attachMode === 'native' || q.attachMode === 'skb' || q.attachMode === 'hw' ? q.attachMode : 'multi';
  return { ifindex: q.ifindex, ifname: q.ifname, mode, progId: first.id, name: first.name, programs };
}

/** Options of {@link detachXdp}. */
export interface XdpDetachOptions extends InterfaceOptions {
  /** The mode to detach from. Default: the mode the attached program runs in. */
  mode?: XdpMode;
  /** Detach only if this program (id or handle) is the one attached; otherwise leave it and return false. */
  expected?: number | BpfProgram;
}

/**
 * Detaches the XDP program attached to an interface through netlink, whoever attached it (this
 * process, another one that has exited, `ip link set … xdp`). Returns whether something was
 * detached. A program attached through a BPF link is detached through the link instead (`EBUSY`).
 *
 * @throws {@link BpfError} `ENODEV` for a missing interface, `EBUSY` for a link attachment
 * @example
 * ```ts
 * detachXdp('veth0', { netns, expected: progId });
 * ```
 */
export function detachXdp(iface: InterfaceRef, options: XdpDetachOptions = {}): boolean {
  checkOptions(options, 'detachXdp options', ['netns', 'mode', 'expected']);
  const target = toNativeInterface(iface, options.netns);
  let mode = options.mode;
  const q = queryXdp(iface, { netns: options.netns });
  if (!q) return false;
  if (mode === undefined) mode = q.mode === 'multi' ? 'native' : q.mode;
  if (!q.programs[mode]) return false;
  const expected = options.expected;
  let progId = 0;
  if (typeof expected === 'number') progId = expected;
  else if (expected !== undefined) progId = expected.id;
  return binding.xdpDetachNetlink(target, { mode, progId });
}
