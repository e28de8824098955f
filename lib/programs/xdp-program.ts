/**
 * What the XDP controllers ({@link XdpFilter}, {@link XdpSampler}, {@link XdpCounter}) share:
 * loading a shipped object on its own or into a root-array slot, attaching, and the lifetime.
 *
 * @internal
 * @module
 */
import { BpfStateError } from '../errors';
import type { InterfaceRef } from '../internal/iface';
import type { BpfMap } from '../map/map';
import { BpfObject } from '../object';
import { BpfProgram } from '../program';
import { RootArray } from '../rootarray/root-array';
import { shippedObjectPath, type ShippedObject } from '../shipped';
import { checkKnownKeys, checkObject, checkUint32, describe } from '../internal/validate';
import { attachXdp, type XdpLink, type XdpMode } from '../attach/xdp';

/**
 * Where an XDP controller runs: on its own (no options; then {@link XdpProgramController.attach}
 * it to an interface), or in slot `slot` of a {@link libbpf-node!RootArray} attached by you.
 */
export interface XdpPlacement {
  /** The root array to run in. With it, `slot` is required. */
  root?: RootArray;
  /** The slot of `root` to put the program in; a program already there is replaced atomically. */
  slot?: number;
}

/** Options of {@link XdpProgramController.attach}. */
export interface ControllerAttachOptions {
  /** The interface's network namespace, as a path (`/run/netns/<name>`). Default: the caller's. */
  netns?: string;
  /** XDP mode. Default: the kernel's choice (native when the driver supports it, else skb). */
  mode?: XdpMode;
}

/** Where a standalone controller is attached: see {@link XdpProgramController.attachment}. */
export interface ControllerAttachment {
  ifindex: number;
  netns: string | undefined;
  mode: XdpMode | undefined;
}

const placementKeys = ['root', 'slot'] as const;
const attachKeys = ['netns', 'mode'] as const;

/** @internal Checks options of a controller's load(): the placement keys plus `extra`. */
export function checkPlacement(options: unknown, what: string, extra: readonly string[]): XdpPlacement {
  checkObject(options, 'options');
  checkKnownKeys(options, `${what} options`, [...placementKeys, ...extra]);
  const { root, slot } = options as XdpPlacement;
  if (root !== undefined && !(root instanceof RootArray)) throw new TypeError(`options.root must be a RootArray, got ${describe(root)}`);
  if ((root === undefined) !== (slot === undefined)) {
    throw new TypeError(`give options.root and options.slot together (a slot of a root array), or neither (standalone); got only ${root === undefined ? 'slot' : 'root'}`);
  }
  if (slot !== undefined) checkUint32(slot, 'options.slot');
  return { root, slot };
}

/** @internal What a loaded controller is made of. */
export interface LoadedParts {
  object: BpfObject;
  program: BpfProgram;
  /** The controller's own handle on the root (independent of the caller's), in a slot. */
  root: RootArray | undefined;
  slot: number | undefined;
}

/**
 * @internal Opens the shipped object `name`, lets `configure` size maps and set globals, loads it
 * and, with a root, installs its program in the slot. Nothing is left behind on failure.
 *
 * Standalone, the root-array maps the object declares (xdp_root.h) are its own and pinned
 * nowhere, so two standalone controllers never share them, and `xdp_root_nslots` is 1 so the
 * verifier drops the tail calls: `xdp_root_return()` just returns the verdict. In a slot, they
 * reuse the root's maps ({@link libbpf-node!RootArray.prepare}).
 */
export async function loadParts(name: ShippedObject, placement: XdpPlacement, configure: (o: BpfObject) => void): Promise<LoadedParts> {
  const path = shippedObjectPath(name);
  if (placement.root === undefined) {
    const object = BpfObject.open(path);
    try {
      object.globals.set('xdp_root_slot', 0);
      object.globals.set('xdp_root_nslots', 1);
      configure(object);
      await object.load();
      return { object, program: object.program(name), root: undefined, slot: undefined };
    } catch (e) {
      object.close();
      throw e;
    }
  }
  const given = placement.root;
  const slot = placement.slot!;
  // Our own handle: the caller may close theirs while we still need the root at close().
  // By ifindex: the interface may have been renamed since the caller opened its handle.
  const root = RootArray.open(given.ifindex, { netns: given.netns, pinBase: given.pinBase });
  let object: BpfObject | undefined;
  try {
    const prepared = root.prepare(slot, path, { program: name });
    object = prepared.object;
    configure(object);
    await object.load();
    await root.load(slot, prepared.program);
    return { object, program: prepared.program, root, slot };
  } catch (e) {
    object?.close();
    root.close();
    throw e;
  }
}

/**
 * The lifetime every XDP controller shares.
 *
 * - **Standalone** (`load()` without a root): {@link XdpProgramController.attach} attaches the
 *   program to an interface through a BPF link held by this process. {@link XdpProgramController.detach}
 *   or `close()` detaches it, and so does the process exiting: nothing stays in the kernel.
 * - **In a root-array slot** (`load({ root, slot })`): the program runs from the moment `load()`
 *   resolves. `close()` takes it out of the slot (only if the slot still holds this program: a
 *   program someone put there since is left alone), then frees the maps. If the process dies
 *   without `close()`, the program stays in the slot, still dropping or counting, with maps no
 *   one can reach by name: empty the slot with `xdp-root unload <ifname> <slot>` or
 *   `RootArray.remove()`, or detach the root.
 *
 * `close()` is asynchronous (it takes the root's lock) and idempotent; `await using` calls it.
 * Every other method throws {@link libbpf-node!BpfStateError} after close.
 */
export abstract class XdpProgramController implements AsyncDisposable {
  /** The loaded object: its maps and program. @internal */
  protected readonly object: BpfObject;
  /** The XDP program (for `testRun` on crafted frames, or to inspect it: `id`, `tag`). */
  readonly program: BpfProgram;
  /** The root-array slot the program runs in, or `undefined` when standalone. */
  readonly slot: number | undefined;
  /** The interface of the root array, when in a slot. */
  readonly rootIfname: string | undefined;
  readonly #root: RootArray | undefined;
  #link: XdpLink | undefined;
  #closed = false;
  readonly #what: string;

  /** @internal */
  protected constructor(parts: LoadedParts, what: string) {
    // Made by the subclasses' load(); anything else (a `new` from JavaScript) is refused here.
    if (!(parts?.object instanceof BpfObject) || !(parts.program instanceof BpfProgram)) {
      throw new TypeError('an XDP program controller is made by load() of its class, e.g. XdpFilter.load()');
    }
    this.object = parts.object;
    this.program = parts.program;
    this.slot = parts.slot;
    this.#root = parts.root;
    this.rootIfname = parts.root?.ifname;
    this.#what = what;
  }

  /** Whether {@link XdpProgramController.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Throws after close. */
  protected check(action: string): void {
    if (this.#closed) throw new BpfStateError(`cannot ${action}: this ${this.#what} is closed`);
  }

  /** @internal A map of the object, typed from its BTF. */
  protected map<K, V, KIn = K, VIn = V>(name: string, codecs: Parameters<BpfMap['typed']>[0] = {}): BpfMap<K, V, KIn, VIn> {
    return this.object.map(name).typed<K, V, KIn, VIn>(codecs as never);
  }

  /**
   * Attaches the program to `iface` (standalone only), through a BPF link this controller owns.
   *
   * @throws {@link libbpf-node!BpfStateError} in a root-array slot (the root is what is attached) or when
   *   already attached; {@link libbpf-node!BpfError} `EBUSY` when another XDP program is attached to the
   *   interface, `ENODEV` for a missing interface.
   * @example
   * ```ts
   * await using filter = await XdpFilter.load();
   * filter.attach('veth0', { mode: 'skb', netns: '/run/netns/test' });
   * ```
   */
  attach(iface: InterfaceRef, options: ControllerAttachOptions = {}): ControllerAttachment {
    this.check('attach');
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, `${this.#what}.attach options`, attachKeys);
    if (this.slot !== undefined) {
      throw new BpfStateError(`this ${this.#what} runs in slot ${this.slot} of the root array on ${this.rootIfname}: it is not attached on its own`);
    }
    if (this.#link !== undefined && !this.#link.closed) throw new BpfStateError(`this ${this.#what} is already attached (ifindex ${this.#link.ifindex}); detach() first`);
    this.#link = attachXdp(this.program, iface, { netns: options.netns, mode: options.mode, link: true });
    return this.attachment!;
  }

  /** Where the program is attached (standalone), or `undefined`. */
  get attachment(): ControllerAttachment | undefined {
    const l = this.#link;
    if (l === undefined || l.closed) return undefined;
    return { ifindex: l.ifindex, netns: l.netns, mode: l.mode };
  }

  /** Detaches a standalone program from its interface; returns whether it was attached. */
  detach(): boolean {
    this.check('detach');
    const l = this.#link;
    this.#link = undefined;
    if (l === undefined || l.closed) return false;
    l.detach();
    return true;
  }

  /**
   * Detaches (standalone) or takes the program out of its slot (if the slot still holds it),
   * then frees the maps. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const progId = this.object.state === 'loaded' ? this.program.id : undefined;
    try {
      this.#link?.detach();
      this.#link = undefined;
      const root = this.#root;
      // A root array detached (or detached and attached again) since took the program with it.
      if (root !== undefined && progId !== undefined && root.live) {
        try {
          await root.remove(this.slot!, { expected: progId });
        } catch (e) {
          if (!(e instanceof BpfStateError)) throw e; // it went away between the check and the lock
        }
      }
    } finally {
      this.#root?.close();
      this.object.close();
    }
  }

  /** Same as {@link XdpProgramController.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** @internal Sums per-CPU values field by field (every field a bigint). */
export function sumFields<F extends string>(perCpu: readonly Readonly<Record<F, bigint>>[] | undefined, fields: readonly F[]): Record<F, bigint> {
  const out = Object.fromEntries(fields.map((f) => [f, 0n])) as Record<F, bigint>;
  for (const cpu of perCpu ?? []) for (const f of fields) out[f] += cpu[f];
  return out;
}
