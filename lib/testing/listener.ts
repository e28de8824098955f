// A UDP or TCP listener inside one side of a VethPair, and what it received.

import { AGENT_GRACE_MS, type Agent } from './agent.js';
import { checkTimeout } from './command.js';
import { TestNetError } from './errors.js';
import type { Side } from './veth.js';

/** Options for {@link Listener.collect} and {@link VethPair.receive}. */
export interface CollectOptions {
  /** How long to wait for traffic, in ms (at most 60 000). Default 1 000. */
  timeoutMs?: number;
  /**
   * Stop as soon as this many datagrams (UDP) or connections (TCP) have arrived instead of waiting
   * the full `timeoutMs`. Without it, `collect` always waits `timeoutMs`, which is what you want when
   * asserting that nothing more (or nothing at all) arrives.
   */
  count?: number;
}

/** One datagram (UDP) or accepted connection (TCP) seen by a listener. */
export interface ReceivedPacket {
  /** Source address: dotted IPv4 (`198.18.0.2`) or IPv6 (`fd00:6c62:6e00::2`). */
  from: string;
  /** Source port. */
  sourcePort: number;
  /** The UDP payload. Always empty for TCP, which records connections only. */
  payload: Buffer;
}

/** What a listener received. */
export interface ReceiveResult {
  /** Number of datagrams (UDP) or accepted connections (TCP) that arrived before the listener closed. */
  count: number;
  /**
   * The packets themselves, in arrival order. Holds at most 100 000 entries and 64 MiB of payload;
   * beyond that `count` keeps counting while `packets` stops growing.
   */
  packets: ReceivedPacket[];
  /**
   * UDP datagrams the kernel dropped in the listener's namespace while it was listening because a
   * socket receive buffer was full: lost by the kit's receiver, not by the code under test. Non-zero
   * only for large fast bursts (tens of thousands of datagrams); pace the sender with `intervalMs`
   * if it happens. Always 0 for TCP.
   */
  dropped: number;
}

const DEFAULT_COLLECT_TIMEOUT_MS = 1_000;
const MAX_COUNT = 100_000;

/** Validates an optional positive integer count no greater than `max`. */
export function checkCount(name: string, value: unknown, fallback: number | undefined, max: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < 1 || value > max) throw new RangeError(`${name} must be in [1, ${max}], got ${value}`);
  return value;
}

interface RawReceiveResult {
  count: number;
  dropped: number;
  packets: Array<{ from: string; sourcePort: number; payload: string }>;
}

/**
 * A socket bound inside one side of a {@link VethPair}, recording everything that arrives until
 * {@link Listener.collect} is called. Obtained from {@link VethPair.listen}; when the promise
 * returned by `listen` resolves, the socket is bound, so anything sent afterwards is seen.
 *
 * UDP listeners bind `[::]:port` dual-stack (IPv4 and IPv6); TCP listeners accept on `[::]:port`
 * and count connections (a SYN that completes the handshake). A listener is one-shot: `collect`
 * closes it. Closing the pair closes its listeners.
 *
 * @example
 * ```ts
 * await using listener = await net.listen({ on: 'a', udp: 9000 });
 * await net.send({ from: 'b', udp: { port: 9000, payload: Buffer.from('hi') }, count: 10 });
 * const { count } = await listener.collect({ timeoutMs: 500 });
 * ```
 */
export class Listener implements AsyncDisposable {
  /** The side the listener lives on. */
  readonly side: Side;
  /** `udp` or `tcp`. */
  readonly protocol: 'udp' | 'tcp';
  /** The port it is bound to. */
  readonly port: number;
  readonly #agent: Agent;
  readonly #handle: number;
  #finished = false;

  private constructor(agent: Agent, handle: number, side: Side, protocol: 'udp' | 'tcp', port: number) {
    this.#agent = agent;
    this.#handle = handle;
    this.side = side;
    this.protocol = protocol;
    this.port = port;
  }

  /** @internal Binds a listener through `agent`; used by {@link VethPair.listen}. */
  static async open(op: string, agent: Agent, side: Side, protocol: 'udp' | 'tcp', port: number): Promise<Listener> {
    const { handle } = await agent.request<{ handle: number }>(op, `${protocol}-listen`, { port }, AGENT_GRACE_MS);
    return new Listener(agent, handle, side, protocol, port);
  }

  /**
   * Waits `timeoutMs` (or until `count` arrivals), closes the listener and returns what arrived.
   * @throws {@link TestNetError} if the listener was already collected or closed, or the pair closed.
   */
  async collect(options: CollectOptions = {}): Promise<ReceiveResult> {
    const op = 'Listener.collect';
    const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs, DEFAULT_COLLECT_TIMEOUT_MS);
    const count = checkCount('count', options.count, undefined, MAX_COUNT);
    if (this.#finished) throw new TestNetError(op, `the ${this.protocol} listener on port ${this.port} is already collected or closed`, { code: 'ECLOSED' });
    this.#finished = true;
    const raw = await this.#agent.request<RawReceiveResult>(op, 'collect', { handle: this.#handle, timeoutMs, count }, timeoutMs + AGENT_GRACE_MS);
    return {
      count: raw.count,
      packets: raw.packets.map((p) => ({ from: p.from, sourcePort: p.sourcePort, payload: Buffer.from(p.payload, 'base64') })),
      dropped: raw.dropped,
    };
  }

  /** Closes the listener without collecting. Idempotent; a no-op once the pair is closed. */
  async close(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#agent.alive) return;
    await this.#agent.request('Listener.close', 'close', { handle: this.#handle }, AGENT_GRACE_MS);
  }

  /** Same as {@link Listener.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
