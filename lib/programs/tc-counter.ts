/**
 * {@link TcCounter}: drives `tc_counter.bpf.o`, a pair of tc programs counting packets and bytes
 * per direction and dropping IPv4 UDP datagrams to one port when asked.
 *
 * @module
 */
import { BpfStateError } from '../errors';
import type { InterfaceRef } from '../internal/iface';
import type { BpfMap } from '../map/map';
import { BpfObject } from '../object';
import type { BpfProgram } from '../program';
import { shippedObjectPath } from '../shipped';
import { attachTc, type TcAttachment, type TcDirection } from '../attach/tc';
import { checkBoolean, checkKnownKeys, checkObject, checkUint32 } from '../internal/validate';
import { sumFields } from './xdp-program';

/** Options of {@link TcCounter.attach}. */
export interface TcCounterAttachOptions {
  /** The interface's network namespace, as a path (`/run/netns/<name>`). Default: the caller's. */
  netns?: string;
  /** Which hooks: `'ingress'`, `'egress'` or `'both'`. Default `'both'`. */
  direction?: TcDirection | 'both';
  /** tcx links (kernel 6.6+) or cls_bpf filters. Default: tcx where the kernel has it. */
  mechanism?: 'tcx' | 'cls_bpf';
}

/** One direction's counters, summed over CPUs, since load. */
export interface TcDirectionStats {
  /** Every packet seen, dropped ones included. */
  packets: bigint;
  /** Their bytes (`skb->len`: from the Ethernet header on). */
  bytes: bigint;
  /** Packets dropped by {@link TcCounter.dropUdpPort}. */
  dropped: bigint;
  droppedBytes: bigint;
}

/** What {@link TcCounter.stats} returns. */
export interface TcCounterStats {
  ingress: TcDirectionStats;
  egress: TcDirectionStats;
}

interface RawConfig {
  drop_udp_port: number;
  drop_ingress: number;
  drop_egress: number;
  chain_next: number;
}

const INGRESS = 0;
const EGRESS = 1;

/**
 * Counts packets and bytes on an interface's tc ingress and egress hooks, and drops IPv4 UDP
 * datagrams to one destination port when asked ({@link TcCounter.dropUdpPort}).
 *
 * Lifetime: the programs are attached through tcx links (or cls_bpf filters on kernels before
 * 6.6) held by this controller. `close()` (or `detach()`) removes them and frees the maps; a
 * tcx link also goes when the process exits, a cls_bpf filter stays until removed (`tc filter
 * del`) or the interface goes away.
 *
 * Minimum kernel: 6.6 for tcx; 4.1 with cls_bpf.
 *
 * @example
 * ```ts
 * import { TcCounter } from 'libbpf-node/programs';
 * await using tc = await TcCounter.load();
 * tc.attach('veth0', { netns });          // ingress and egress
 * tc.dropUdpPort(9001, { direction: 'ingress' });
 * tc.stats().ingress;                     // { packets, bytes, dropped, droppedBytes }
 * ```
 */
export class TcCounter implements AsyncDisposable {
  readonly #object: BpfObject;
  readonly #config: BpfMap<number, RawConfig>;
  readonly #stats: BpfMap<number, Record<'packets' | 'bytes' | 'dropped' | 'dropped_bytes', bigint>[]>;
  #attachments: TcAttachment[] = [];
  #closed = false;

  private constructor(object: BpfObject) {
    this.#object = object;
    this.#config = object.map('tc_config').typed();
    this.#stats = object.map('tc_stats').typed();
  }

  /**
   * Loads the programs (not attached yet: see {@link TcCounter.attach}). They count everything
   * and drop nothing.
   * @throws {@link libbpf-node!BpfError} when the kernel refuses (`EPERM` without CAP_BPF).
   */
  static async load(): Promise<TcCounter> {
    const object = BpfObject.open(shippedObjectPath('tc_counter'));
    try {
      await object.load();
      return new TcCounter(object);
    } catch (e) {
      object.close();
      throw e;
    }
  }

  #check(what: string): void {
    if (this.#closed) throw new BpfStateError(`cannot ${what}: this TcCounter is closed`);
  }

  /** The program for `direction` (for `testRun`, or to inspect it). */
  program(direction: TcDirection): BpfProgram {
    this.#check('get a program');
    if (direction !== 'ingress' && direction !== 'egress') throw new TypeError(`direction must be 'ingress' or 'egress', got ${String(direction)}`);
    return this.#object.program(`tc_counter_${direction}`);
  }

  /**
   * Attaches to `iface`'s ingress and/or egress hooks.
   * @throws {@link libbpf-node!BpfStateError} when already attached; {@link libbpf-node!BpfError} `ENODEV` for a missing
   *   interface. A failure leaves nothing attached.
   */
  attach(iface: InterfaceRef, options: TcCounterAttachOptions = {}): void {
    this.#check('attach');
    checkObject(options as unknown, 'options');
    checkKnownKeys(options as Record<string, unknown>, 'TcCounter.attach options', ['netns', 'direction', 'mechanism']);
    if (this.#attachments.length > 0) throw new BpfStateError('this TcCounter is already attached; detach() first');
    const direction = options.direction ?? 'both';
    if (direction !== 'both' && direction !== 'ingress' && direction !== 'egress') {
      throw new RangeError(`options.direction must be 'ingress', 'egress' or 'both', got ${String(direction)}`);
    }
    const dirs: TcDirection[] = direction === 'both' ? ['ingress', 'egress'] : [direction];
    try {
      for (const d of dirs) {
        this.#attachments.push(attachTc(this.program(d), iface, { netns: options.netns, direction: d, mechanism: options.mechanism }));
      }
    } catch (e) {
      this.detach();
      throw e;
    }
  }

  /** Detaches from every hook; returns whether anything was attached. */
  detach(): boolean {
    const had = this.#attachments.length > 0;
    for (const a of this.#attachments) a.detach();
    this.#attachments = [];
    return had;
  }

  /**
   * Drops IPv4 UDP datagrams to destination `port` from the next packet on (replacing any port
   * set before); `0` stops dropping.
   * @param options.direction Where to drop: `'ingress'`, `'egress'` or `'both'` (default).
   * @example `tc.dropUdpPort(53, { direction: 'egress' });`
   */
  dropUdpPort(port: number, options: { direction?: TcDirection | 'both' } = {}): void {
    this.#check('configure');
    checkUint32(port, 'port');
    if (port > 65535) throw new RangeError(`port must be in [0, 65535], got ${port}`);
    checkObject(options, 'options');
    checkKnownKeys(options, 'TcCounter.dropUdpPort options', ['direction']);
    const direction = options.direction ?? 'both';
    if (direction !== 'both' && direction !== 'ingress' && direction !== 'egress') {
      throw new RangeError(`options.direction must be 'ingress', 'egress' or 'both', got ${String(direction)}`);
    }
    const c = this.#config.get(0)!;
    this.#config.set(0, {
      ...c,
      drop_udp_port: port,
      drop_ingress: port !== 0 && direction !== 'egress' ? 1 : 0,
      drop_egress: port !== 0 && direction !== 'ingress' ? 1 : 0,
    });
  }

  /**
   * With `true`, kept packets go on to the tc programs attached after this one (TCX_NEXT)
   * instead of ending classification here (TC_ACT_OK, the default).
   */
  chainNext(on: boolean): void {
    this.#check('configure');
    checkBoolean(on, 'on');
    this.#config.set(0, { ...this.#config.get(0)!, chain_next: on ? 1 : 0 });
  }

  /** The counters per direction, summed over CPUs. */
  stats(): TcCounterStats {
    this.#check('read the statistics');
    const one = (i: number): TcDirectionStats => {
      const s = sumFields(this.#stats.get(i), ['packets', 'bytes', 'dropped', 'dropped_bytes']);
      return { packets: s.packets, bytes: s.bytes, dropped: s.dropped, droppedBytes: s.dropped_bytes };
    };
    return { ingress: one(INGRESS), egress: one(EGRESS) };
  }

  /** Detaches, then frees the programs and maps. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      this.detach();
    } finally {
      this.#closed = true;
      this.#object.close();
    }
  }

  /** Same as {@link TcCounter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
