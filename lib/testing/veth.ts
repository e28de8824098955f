// VethPair: two fresh network namespaces joined by a veth pair, and real traffic across it.

import { isIP } from 'node:net';
import { AGENT_GRACE_MS, Agent } from './agent.js';
import { DEFAULT_TIMEOUT_MS, checkTimeout, type ExecOptions, type ExecResult } from './command.js';
import { TestNetError, assertNetnsPrivileges } from './errors.js';
import { openPacketSocket } from './frames.js';
import type { NativePacketSocket } from '../internal/native.js';
import { Listener, checkCount, type CollectOptions, type ReceiveResult } from './listener.js';
import { NAME_PREFIX, Netns, netnsName } from './netns.js';

/** One side of a {@link VethPair}: `'a'` or `'b'`. */
export type Side = 'a' | 'b';

// ---------------------------------------------------------------------------------------------
// Naming and address plan. Pair number `seq` of process `pid` gets:
//   namespaces  lbn-<pid>-<seq>-a, lbn-<pid>-<seq>-b
//   interfaces  lbn<pid>-<seq base36>a / …b            (at most 15 characters, IFNAMSIZ - 1)
//   ifindex     900000 + 2·seq (a), +1 (b)              (far above what the root namespace allocates, see below)
//   MAC         02:6c:62:<seq hi>:<seq lo>:0a / …:0b    (locally administered; 6c 62 = "lb")
//   IPv4        198.18.0.0/15 cut into /30s: block seq, .1 = a, .2 = b
//   IPv6        fd00:6c62:6e00:<seq + 1>::1/64 = a, ::2 = b
// Addresses are unique among the pairs of one process; pairs of different processes may share
// addresses, which is harmless because every pair lives in namespaces of its own.
// ---------------------------------------------------------------------------------------------

const IFNAME_MAX = 15;
const IPV4_BASE = 198 * 2 ** 24 + 18 * 2 ** 16;
const IPV4_BLOCKS = 2 ** 15; // /15 = 2^17 addresses = 2^15 blocks of 4
// Interface indexes are chosen, not left to the kernel, which would number both ends 2 (the first
// free index of a fresh namespace). That would (a) let an ifindex used in the wrong namespace hit the
// wrong device, e.g. the host's eth0 when attaching from the root namespace, and (b) make the veth's
// link-up a non-urgent link-watch event (linkwatch_urgent_event() compares ifindex with the peer's
// iflink), which delays IPv6 setup, and the MLD reports it sends, by up to a second. High, distinct
// indexes avoid both.
const IFINDEX_BASE = 900_000;
const IFINDEX_SLOTS = 50_000;

interface EndPlan {
  side: Side;
  netns: string;
  ifname: string;
  ifindex: number;
  mac: string;
  ipv4: string;
  ipv6: string;
}

function ipv4ToString(n: number): string {
  return [Math.floor(n / 2 ** 24) % 256, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function hexByte(n: number): string {
  return (n & 255).toString(16).padStart(2, '0');
}

function planPair(pid: number, seq: number): Record<Side, EndPlan> {
  const block = IPV4_BASE + (seq % IPV4_BLOCKS) * 4;
  // Never 0, so the written form is already the canonical one (RFC 5952) that `ip` prints.
  const ipv6Net = `fd00:6c62:6e00:${((seq % 0xffff) + 1).toString(16)}`;
  const room = IFNAME_MAX - NAME_PREFIX.length - String(pid).length - 2; // '-' and the side letter
  const tag = (seq % 36 ** room).toString(36);
  const end = (side: Side, host: number): EndPlan => ({
    side,
    netns: netnsName(pid, seq, side),
    ifname: `${NAME_PREFIX}${pid}-${tag}${side}`,
    ifindex: IFINDEX_BASE + 2 * (seq % IFINDEX_SLOTS) + (host - 1),
    mac: `02:6c:62:${hexByte(seq >> 8)}:${hexByte(seq)}:0${side}`,
    ipv4: ipv4ToString(block + host),
    ipv6: `${ipv6Net}::${host}`,
  });
  return { a: end('a', 1), b: end('b', 2) };
}

let nextSeq = 0;

// ---------------------------------------------------------------------------------------------
// Options and results.
// ---------------------------------------------------------------------------------------------

/** Where a listener binds: exactly one of `udp` or `tcp`. */
export interface ListenOptions {
  /** The side to listen on. */
  on: Side;
  /** UDP port to bind (dual-stack, IPv4 and IPv6). */
  udp?: number;
  /** TCP port to accept connections on (dual-stack). */
  tcp?: number;
}

/** Options for {@link VethPair.receive}: where to listen and how long. */
export interface ReceiveOptions extends ListenOptions, CollectOptions {}

/** Addressing shared by {@link VethPair.send} and {@link VethPair.ping}. */
export interface TargetOptions {
  /** The side that sends. */
  from: Side;
  /** Destination address. Default: the other side's address of `family`. */
  to?: string;
  /** IP version when `to` is not given. Default 4. */
  family?: 4 | 6;
}

/** Options for sending UDP datagrams with {@link VethPair.send}. */
export interface UdpSendOptions extends TargetOptions {
  udp: {
    /** Destination port. */
    port: number;
    /** Datagram payload; a string is sent as UTF-8. Default: empty. */
    payload?: Uint8Array | string;
    /** Source port. Default: an ephemeral port. */
    sourcePort?: number;
  };
  /** Number of datagrams, at most 100 000. Default 1. */
  count?: number;
  /** Pause between datagrams in ms (at most 10 000). Default 0: each waits for the previous to be handed to the kernel. */
  intervalMs?: number;
  /** Stop sending after this many ms even if `count` is not reached (at most 60 000). Default 10 000. */
  timeoutMs?: number;
}

/** Options for sending TCP connection attempts (SYNs) with {@link VethPair.send}. */
export interface TcpSendOptions extends TargetOptions {
  tcp: {
    /** Destination port. */
    port: number;
  };
  /** Number of connection attempts, made concurrently, at most 1 000. Default 1. */
  count?: number;
  /**
   * Give up on attempts not connected after this many ms (at most 60 000). Default 900: below the
   * kernel's 1 s SYN retransmission timer, so each attempt puts exactly one SYN on the wire.
   */
  timeoutMs?: number;
}

/** Result of sending UDP. */
export interface UdpSendResult {
  /** Datagrams handed to the kernel; less than `count` only if `timeoutMs` ran out. */
  sent: number;
}

/** Result of sending TCP connection attempts. Every attempt sends at least one SYN. */
export interface TcpSendResult {
  /** Connection attempts made (= `count`). */
  sent: number;
  /** Attempts that completed the handshake (then closed gracefully). */
  connected: number;
  /** Attempts answered with a reset (nothing listening). */
  refused: number;
  /** Attempts that got no answer within `timeoutMs` (e.g. the SYN was dropped). */
  timedOut: number;
  /** Attempts that failed otherwise (e.g. EHOSTUNREACH). */
  failed: number;
}

/** Options for {@link VethPair.ping}. */
export interface PingOptions extends TargetOptions {
  /** Echo requests to send, at most 1 000. Default 3. */
  count?: number;
  /** Pause between requests in ms, 2 to 10 000. Default 10. */
  intervalMs?: number;
  /** How long to wait for the last reply, in ms (at most 60 000). Default 1 000. */
  timeoutMs?: number;
}

/** Result of {@link VethPair.ping}. */
export interface PingResult {
  /** Echo requests sent. */
  sent: number;
  /** Echo replies received. */
  received: number;
}

/** Options for {@link VethPair.sendFrames}. */
export interface SendFramesOptions {
  /** The side whose interface transmits the frames (they arrive at the other side). */
  from: Side;
  /** The raw Ethernet frames (destination MAC first), each 14 to 65 536 bytes. */
  frames: Uint8Array | readonly Uint8Array[];
  /** How many frames to send in all, cycling through `frames`, at most 1 000 000. Default: each frame once. */
  count?: number;
  /** Stop after this many ms even if `count` is not reached (at most 60 000). Default 10 000. */
  timeoutMs?: number;
}

/** Options for {@link VethPair.captureFrames}. */
export interface CaptureFramesOptions {
  /** The side whose interface receives the frames. */
  on: Side;
  /** How long to capture, in ms (at most 60 000). Default 1 000. */
  timeoutMs?: number;
  /** Stop as soon as this many frames arrived (at most 100 000). Default: capture until the timeout. */
  count?: number;
}

/** Result of {@link VethPair.captureFrames}. */
export interface CaptureFramesResult {
  /** Frames captured. */
  count: number;
  /** The frames, as received (Ethernet header first). */
  frames: Buffer[];
}

/** Options for {@link VethEnd.run}. */
export interface RunOptions {
  /** Kill the agent and throw if the function has not settled after this many ms (at most 60 000). Default 10 000. */
  timeoutMs?: number;
}

const MAX_UDP_COUNT = 100_000;
const MAX_TCP_COUNT = 1_000;
const MAX_PING_COUNT = 1_000;
const MAX_INTERVAL_MS = 10_000;
const DEFAULT_SEND_TIMEOUT_MS = 10_000;
const DEFAULT_SYN_TIMEOUT_MS = 900;
const DEFAULT_PING_TIMEOUT_MS = 1_000;
const UP_TIMEOUT_MS = 3_000;

function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object, got ${String(value)}`);
  return value as Record<string, unknown>;
}

function checkSide(name: string, value: unknown): Side {
  if (value !== 'a' && value !== 'b') throw new TypeError(`${name} must be 'a' or 'b', got ${JSON.stringify(value)}`);
  return value;
}

function checkPort(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer port, got ${String(value)}`);
  if (value < 1 || value > 65535) throw new RangeError(`${name} must be in [1, 65535], got ${value}`);
  return value;
}

function checkInterval(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name} must be a number of milliseconds, got ${String(value)}`);
  if (value < min || value > MAX_INTERVAL_MS) throw new RangeError(`${name} must be in [${min}, ${MAX_INTERVAL_MS}] ms, got ${value}`);
  return value;
}

function checkListen(given: unknown): { side: Side; protocol: 'udp' | 'tcp'; port: number } {
  const options = checkObject('options', given);
  const side = checkSide('options.on', options.on);
  if ((options.udp === undefined) === (options.tcp === undefined)) {
    throw new TypeError('give exactly one of options.udp or options.tcp (a port number)');
  }
  return options.udp !== undefined
    ? { side, protocol: 'udp', port: checkPort('options.udp', options.udp) }
    : { side, protocol: 'tcp', port: checkPort('options.tcp', options.tcp) };
}

// ---------------------------------------------------------------------------------------------
// Creation steps.
// ---------------------------------------------------------------------------------------------

/** Creates the two namespaces of a new pair, skipping names that are taken; returns the pair number. */
async function createNamespaces(op: string, created: Netns[]): Promise<number> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const seq = nextSeq++;
    const results = await Promise.allSettled(
      (['a', 'b'] as const).map((side) => Netns.create(op, netnsName(process.pid, seq, side))),
    );
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length === 0) {
      created.push(...made);
      return seq;
    }
    await Promise.allSettled(made.map((ns) => ns.delete(op)));
    const fatal = failures.find((err) => !(err instanceof TestNetError && err.code === 'EEXIST'));
    if (fatal) throw fatal;
  }
  throw new TestNetError(op, 'no free namespace name after 16 attempts', { code: 'EEXIST' });
}

/**
 * Namespace defaults that keep the link quiet, set before the veth exists so it inherits them:
 * no IPv6 link-local address (so no DAD probes or router solicitations), and MLD reports sent at
 * link-up only (MLDv1 with a 1 ms unsolicited-report interval instead of retransmissions spread
 * over the following second).
 */
async function quietDefaults(op: string, ns: Netns): Promise<void> {
  const conf = '/proc/sys/net/ipv6/conf/default';
  const script = `echo 1 > ${conf}/addr_gen_mode && echo 1 > ${conf}/force_mld_version && echo 1 > ${conf}/mldv1_unsolicited_report_interval`;
  const result = await ns.exec(op, 'sh', ['-c', script]);
  if (result.code !== 0) {
    throw new TestNetError(op, `could not set IPv6 defaults in ${ns.name}: ${result.stderr.trim() || `exit code ${result.code}`}`, {
      command: ['ip', 'netns', 'exec', ns.name, 'sh', '-c', script],
      exitCode: result.code,
      stderr: result.stderr.trim(),
    });
  }
}

/**
 * Addresses, static neighbour entries for the peer (so no ARP or neighbour discovery is needed) and
 * link up, in one `ip -batch`; returns the link's operstate as reported right after.
 */
async function configureEnd(op: string, ns: Netns, self: EndPlan, peer: EndPlan): Promise<string> {
  const dev = self.ifname;
  const script = [
    'link set lo up',
    `addr add ${self.ipv4}/30 dev ${dev}`,
    `addr add ${self.ipv6}/64 dev ${dev} nodad`,
    `neigh add ${peer.ipv4} lladdr ${peer.mac} dev ${dev} nud permanent`,
    `neigh add ${peer.ipv6} lladdr ${peer.mac} dev ${dev} nud permanent`,
    `link set ${dev} up`,
    `link show dev ${dev}`,
  ].join('\n');
  const out = await ns.ip(op, ['-j', '-batch', '-'], `${script}\n`);
  return operstate(out);
}

function operstate(ipJson: string): string {
  const lines = ipJson.trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1] ?? '[]') as Array<{ operstate?: string }>;
  return parsed[0]?.operstate ?? 'UNKNOWN';
}

/** Polls until the end reports operstate UP: the kernel is then ready to carry traffic on it. */
async function waitUntilUp(op: string, ns: Netns, end: EndPlan, state: string): Promise<void> {
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (state !== 'UP') {
    if (Date.now() > deadline) {
      throw new TestNetError(op, `${end.ifname} in ${ns.name} is still ${state} after ${UP_TIMEOUT_MS} ms`, { code: 'ETIMEDOUT' });
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    state = operstate(await ns.ip(op, ['-j', 'link', 'show', 'dev', end.ifname]));
  }
}

// ---------------------------------------------------------------------------------------------
// The classes.
// ---------------------------------------------------------------------------------------------

/** What a {@link VethEnd} needs from its pair. */
interface PairAccess {
  assertOpen(op: string): void;
  agent(op: string, side: Side): Promise<Agent>;
}

/**
 * One end of a {@link VethPair}: a veth interface alone in its own network namespace (besides
 * `lo`), with an IPv4 and an IPv6 address. Attach XDP programs here.
 *
 * The ifindex is only meaningful inside {@link VethEnd.netns}. An attach done from the test process,
 * which stays in the root namespace, must enter that namespace first; the kit picks indexes
 * (900000 and up) far above those the root namespace hands out, so a mix-up fails with ENODEV
 * instead of attaching to a host interface.
 *
 * @example
 * ```ts
 * await using net = await VethPair.create();
 * console.log(net.a.ifname, net.a.ifindex, net.a.netns, net.a.ipv4, net.a.ipv6, net.a.mac);
 * const { stdout } = await net.a.exec('ip', ['-j', 'addr', 'show', 'dev', net.a.ifname]);
 * ```
 */
export class VethEnd {
  /** `'a'` or `'b'`. */
  readonly side: Side;
  /** Name of the network namespace (`ip netns exec <netns> …`, `ip -n <netns> …`). */
  readonly netns: string;
  /** Path of the namespace file, for setns(2): `/run/netns/<netns>`. */
  readonly netnsPath: string;
  /** Interface name (at most 15 characters). */
  readonly ifname: string;
  /** Interface index inside {@link VethEnd.netns}. */
  readonly ifindex: number;
  /** MAC address, `02:6c:62:…:0a` for side a and `…:0b` for side b. */
  readonly mac: string;
  /** IPv4 address, in 198.18.0.0/15 (prefix length 30). */
  readonly ipv4: string;
  /** IPv6 address, in fd00::/8 (prefix length 64). */
  readonly ipv6: string;
  readonly #netns: Netns;
  readonly #pair: PairAccess;

  /** @internal Ends are made by {@link VethPair.create}. */
  constructor(plan: EndPlan, netns: Netns, pair: PairAccess) {
    this.side = plan.side;
    this.netns = plan.netns;
    this.netnsPath = `/run/netns/${plan.netns}`;
    this.ifname = plan.ifname;
    this.ifindex = plan.ifindex;
    this.mac = plan.mac;
    this.ipv4 = plan.ipv4;
    this.ipv6 = plan.ipv6;
    this.#netns = netns;
    this.#pair = pair;
  }

  /**
   * Runs a command inside this end's namespace (`ip netns exec <netns> file args…`). Resolves with
   * the exit status whatever it is; a missing program shows as exit code 255 with a message on stderr.
   *
   * @throws {@link TestNetError} if the pair is closed or the command exceeds `timeoutMs` (default 10 000 ms; it is killed).
   * @example
   * ```ts
   * const { code, stdout } = await net.b.exec('ip', ['-j', 'route']);
   * ```
   */
  async exec(file: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    const op = 'VethEnd.exec';
    if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty string');
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) throw new TypeError('args must be an array of strings');
    checkObject('options', options);
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.#pair.assertOpen(op);
    return this.#netns.exec(op, file, args, { input: options.input, timeoutMs });
  }

  /**
   * Runs a JavaScript function inside this end's namespace, in the side's agent process, and
   * returns its (JSON-serializable) result. Sockets the function opens live in the namespace.
   *
   * The function is sent as source text: it must be an arrow function or function expression that
   * uses nothing from the enclosing scope; get modules with `require(...)` inside it and pass data
   * through `arg` (JSON). If it runs longer than `timeoutMs` the agent is killed (and restarted on
   * next use; open listeners on this side are lost).
   *
   * @throws {@link TestNetError} if the function throws (message included), times out, or the pair is closed.
   * @example
   * ```ts
   * const names = await net.a.run(() => Object.keys(require('node:os').networkInterfaces()));
   * const doubled = await net.b.run((n: number) => n * 2, 21);
   * ```
   */
  async run<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A, options: RunOptions = {}): Promise<Awaited<R>> {
    const op = 'VethEnd.run';
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    checkObject('options', options);
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    const agent = await this.#pair.agent(op, this.side);
    try {
      const { value } = await agent.request<{ value: Awaited<R> }>(op, 'run', { source: fn.toString(), arg }, timeoutMs);
      return value;
    } catch (err) {
      if (err instanceof TestNetError && / is not defined$/.test(err.message)) {
        err.message += ' (functions given to run() execute in another process: they cannot use variables or imports of the enclosing scope)';
      }
      throw err;
    }
  }
}

/**
 * Two fresh network namespaces joined by a veth pair, for testing XDP and other eBPF programs
 * against real packets without touching the host's interfaces.
 *
 * `create()` makes namespaces `lbn-<pid>-<n>-a` and `…-b`, puts one veth end in each (the ends never
 * exist in the root namespace), assigns IPv4 (198.18.0.0/15) and IPv6 (fd00::/8, without duplicate
 * address detection) addresses, adds static neighbour entries and brings the links up. The link is
 * quiet: once `create()` returns, the only packets crossing it are the ones you send (no ARP, no
 * neighbour discovery, no router solicitations, no MLD).
 *
 * Traffic is generated by small agent processes started inside the namespaces on first use (one
 * Node.js start-up each, about 100 ms). {@link VethPair.receive} / {@link VethPair.listen} count what really arrives.
 *
 * **Ordering.** `send` and `ping` first wait until every listener requested earlier on this pair is
 * bound, so `const p = net.receive(...); await net.send(...); await p` is race-free without awaiting
 * `receive`'s setup yourself.
 *
 * **Lifetime.** `close()` (or `await using`) kills the agents, deletes the veth and both namespaces;
 * nothing remains in the kernel, and XDP programs attached to the ends are detached with them. It is
 * idempotent. If the process exits without closing, an exit hook deletes the namespaces; if it is
 * killed (SIGKILL), they stay until {@link sweep} runs.
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 `ip`, and `ping` (iputils) for
 * {@link VethPair.ping}. Minimum kernel: 4.19 for native XDP on veth.
 *
 * @example
 * ```ts
 * import { VethPair } from 'libbpf-node/testing';
 *
 * await using net = await VethPair.create();
 * // attach an XDP program to net.a.ifname inside net.a.netns here
 * const arrived = net.receive({ on: 'a', udp: 9000, timeoutMs: 500 });
 * await net.send({ from: 'b', udp: { port: 9000, payload: Buffer.from('x') }, count: 100 });
 * expect((await arrived).count).toBe(100);
 * expect(await net.ping({ from: 'b', count: 3 })).toEqual({ sent: 3, received: 3 });
 * ```
 */
export class VethPair implements AsyncDisposable {
  /** Side a. */
  readonly a: VethEnd;
  /** Side b. */
  readonly b: VethEnd;
  readonly #netns: Record<Side, Netns>;
  readonly #agents: Partial<Record<Side, Promise<Agent>>> = {};
  /** Listeners being set up; send and ping wait for them. */
  readonly #listening = new Set<Promise<void>>();
  /** Packet sockets of running captures, closed with the pair. */
  readonly #captures = new Set<NativePacketSocket>();
  #closing: Promise<void> | undefined;

  private constructor(plan: Record<Side, EndPlan>, netns: Record<Side, Netns>) {
    this.#netns = netns;
    const access: PairAccess = {
      assertOpen: (op) => this.#assertOpen(op),
      agent: (op, side) => this.#agentFor(op, side),
    };
    this.a = new VethEnd(plan.a, netns.a, access);
    this.b = new VethEnd(plan.b, netns.b, access);
  }

  /**
   * Creates the namespaces and the veth pair, configured and up. Takes a few tens of milliseconds.
   * If any step fails, whatever was created is removed before the error is thrown.
   *
   * @throws {@link TestNetError} with code `EPERM` without CAP_NET_ADMIN and CAP_SYS_ADMIN; with the
   * failing `ip` command and its stderr otherwise.
   * @example
   * ```ts
   * await using net = await VethPair.create();
   * ```
   */
  static async create(): Promise<VethPair> {
    const op = 'VethPair.create';
    assertNetnsPrivileges(op);
    const created: Netns[] = [];
    try {
      const seq = await createNamespaces(op, created);
      const [nsA, nsB] = created as [Netns, Netns];
      const plan = planPair(process.pid, seq);
      await Promise.all([quietDefaults(op, nsA), quietDefaults(op, nsB)]);
      const { a, b } = plan;
      await nsA.ip(op, [
        'link', 'add', a.ifname, 'index', String(a.ifindex), 'address', a.mac, 'type', 'veth',
        'peer', 'name', b.ifname, 'index', String(b.ifindex), 'address', b.mac, 'netns', nsB.name,
      ]);
      const [stateA, stateB] = await Promise.all([configureEnd(op, nsA, a, b), configureEnd(op, nsB, b, a)]);
      await Promise.all([waitUntilUp(op, nsA, a, stateA), waitUntilUp(op, nsB, b, stateB)]);
      return new VethPair(plan, { a: nsA, b: nsB });
    } catch (err) {
      await Promise.allSettled(created.map((ns) => ns.delete(op)));
      throw err;
    }
  }

  /** True once {@link VethPair.close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The end on `side`. */
  end(side: Side): VethEnd {
    return checkSide('side', side) === 'a' ? this.a : this.b;
  }

  /**
   * Binds a UDP socket or TCP listener on one side and resolves once it is ready: everything sent
   * after that is recorded until {@link Listener.collect}. Use it when sending and collecting are
   * far apart; {@link VethPair.receive} is the one-call form.
   *
   * @throws {@link TestNetError} (e.g. code `EADDRINUSE`) if the port cannot be bound, or the pair is closed.
   * @example
   * ```ts
   * await using listener = await net.listen({ on: 'a', tcp: 8080 });
   * await net.send({ from: 'b', tcp: { port: 8080 }, count: 5 });
   * expect((await listener.collect({ count: 5 })).count).toBe(5);
   * ```
   */
  listen(options: ListenOptions): Promise<Listener> {
    return this.#listen('VethPair.listen', options, () => {});
  }

  /**
   * Listens on one side and reports what arrives within `timeoutMs` (default 1 000 ms), or until
   * `count` arrivals. The time window opens when the socket is bound. `send`/`ping` calls made after
   * `receive` wait for that, so there is no need to await the setup separately.
   *
   * UDP results hold each datagram's source and payload; TCP results hold one entry per accepted
   * connection (empty payload).
   *
   * @throws {@link TestNetError} if the port cannot be bound or the pair closes meanwhile.
   * @example
   * ```ts
   * const got = net.receive({ on: 'a', udp: 9000, timeoutMs: 1000 });
   * await net.send({ from: 'b', udp: { port: 9000, payload: 'hello' }, count: 100 });
   * const { count, packets } = await got; // count === 100, packets[0].payload.toString() === 'hello'
   * ```
   */
  receive(options: ReceiveOptions): Promise<ReceiveResult> {
    let collect: CollectOptions = {};
    const listening = this.#listen('VethPair.receive', options, () => {
      collect = { timeoutMs: options.timeoutMs, count: options.count };
      checkTimeout('options.timeoutMs', collect.timeoutMs, 1);
      checkCount('options.count', collect.count, undefined, MAX_UDP_COUNT);
    });
    return listening.then((listener) => listener.collect(collect));
  }

  /**
   * Sends real packets from one side to the other (or to `to`): UDP datagrams (`udp`) or TCP
   * connection attempts (`tcp`, one SYN each, whether or not anything listens). Waits first for
   * listeners set up earlier on this pair. Bounded by `count` and `timeoutMs`.
   *
   * @throws {@link TestNetError} if sending fails (message names the errno) or the pair is closed;
   * `TypeError`/`RangeError` for bad options.
   * @example
   * ```ts
   * const { sent } = await net.send({ from: 'b', udp: { port: 9000, payload: Buffer.alloc(64) }, count: 100 });
   * const syn = await net.send({ from: 'b', tcp: { port: 80 }, count: 3 }); // { sent: 3, refused: 3, ... }
   * await net.send({ from: 'b', family: 6, udp: { port: 9000 } });          // to net.a.ipv6
   * ```
   */
  send(options: UdpSendOptions): Promise<UdpSendResult>;
  send(options: TcpSendOptions): Promise<TcpSendResult>;
  async send(options: UdpSendOptions | TcpSendOptions): Promise<UdpSendResult | TcpSendResult> {
    const op = 'VethPair.send';
    checkObject('options', options);
    const from = checkSide('options.from', options.from);
    const udp = (options as Partial<UdpSendOptions>).udp;
    const tcp = (options as Partial<TcpSendOptions>).tcp;
    if ((udp === undefined) === (tcp === undefined)) throw new TypeError('give exactly one of options.udp or options.tcp');
    const host = this.#target(from, options);
    this.#assertOpen(op);
    if (udp !== undefined) {
      checkObject('options.udp', udp);
      const port = checkPort('options.udp.port', udp.port);
      const sourcePort = udp.sourcePort === undefined ? undefined : checkPort('options.udp.sourcePort', udp.sourcePort);
      const given: unknown = udp.payload;
      const payload = given === undefined ? Buffer.alloc(0) : typeof given === 'string' ? Buffer.from(given, 'utf8') : given;
      if (!(payload instanceof Uint8Array)) throw new TypeError('options.udp.payload must be a Buffer, Uint8Array or string');
      const maxPayload = isIP(host) === 6 ? 65527 : 65507;
      if (payload.length > maxPayload) throw new RangeError(`options.udp.payload is ${payload.length} bytes; a UDP datagram holds at most ${maxPayload}`);
      const count = checkCount('options.count', options.count, 1, MAX_UDP_COUNT)!;
      const intervalMs = checkInterval('options.intervalMs', (options as UdpSendOptions).intervalMs, 0, 0);
      const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_SEND_TIMEOUT_MS);
      const agent = await this.#senderReady(op, from);
      const args = { host, port, sourcePort, count, intervalMs, timeoutMs, payload: Buffer.from(payload).toString('base64') };
      return agent.request<UdpSendResult>(op, 'udp-send', args, timeoutMs + AGENT_GRACE_MS);
    }
    checkObject('options.tcp', tcp);
    const port = checkPort('options.tcp.port', tcp!.port);
    const count = checkCount('options.count', options.count, 1, MAX_TCP_COUNT)!;
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_SYN_TIMEOUT_MS);
    const agent = await this.#senderReady(op, from);
    return agent.request<TcpSendResult>(op, 'tcp-syn', { host, port, count, timeoutMs }, timeoutMs + AGENT_GRACE_MS);
  }

  /**
   * Sends ICMP echo requests with `ping` (iputils) from one side to the other (or to `to`) and
   * counts the replies. Waits first for listeners set up earlier on this pair. Bounded by `count`,
   * `intervalMs` and `timeoutMs`: at most `count × intervalMs + timeoutMs` plus process start-up.
   *
   * @throws {@link TestNetError} if `ping` is missing or fails to run, or the pair is closed.
   * @example
   * ```ts
   * expect(await net.ping({ from: 'b', count: 3 })).toEqual({ sent: 3, received: 3 });
   * expect((await net.ping({ from: 'a', family: 6 })).received).toBe(3);
   * ```
   */
  async ping(options: PingOptions): Promise<PingResult> {
    const op = 'VethPair.ping';
    checkObject('options', options);
    const from = checkSide('options.from', options.from);
    const host = this.#target(from, options);
    const count = checkCount('options.count', options.count, 3, MAX_PING_COUNT)!;
    const intervalMs = checkInterval('options.intervalMs', options.intervalMs, 10, 2);
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_PING_TIMEOUT_MS);
    this.#assertOpen(op);
    await this.#listenersReady();
    const args = [
      '-n', '-q', `-${isIP(host)}`, '-c', String(count),
      '-i', (intervalMs / 1000).toFixed(3), '-W', (timeoutMs / 1000).toFixed(3), host,
    ];
    const limit = count * intervalMs + timeoutMs + AGENT_GRACE_MS;
    const result = await this.#netns[from].exec(op, 'ping', args, { timeoutMs: limit });
    const stats = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(result.stdout);
    if (!stats) {
      const stderr = result.stderr.trim();
      const missing = /exec of "ping" failed/.test(stderr) ? ' (install iputils-ping)' : '';
      throw new TestNetError(op, `ping ${host} from ${this.#netns[from].name} failed: ${stderr || `exit code ${result.code}`}${missing}`, {
        command: ['ip', 'netns', 'exec', this.#netns[from].name, 'ping', ...args],
        exitCode: result.code,
        stderr,
      });
    }
    return { sent: Number(stats[1]), received: Number(stats[2]) };
  }

  /**
   * Sends raw Ethernet frames from one side's interface with an AF_PACKET socket (opened inside
   * that side's namespace by the addon): crafted or malformed frames that no socket API would
   * produce (bad IP header lengths, runts). They are handed to the interface as they are and
   * arrive at the other side, where XDP sees them first. Bounded by `count` and `timeoutMs`.
   *
   * @throws {@link TestNetError} if the socket cannot be opened or the pair is closed; the
   *   addon's `BpfError` if sending fails (e.g. `EMSGSIZE` above the MTU).
   * @example
   * ```ts
   * const frame = udpFrame({ srcMac: net.b.mac, dstMac: net.a.mac, srcIp: net.b.ipv4, dstIp: net.a.ipv4, srcPort: 1, dstPort: 9000, ihl: 3 });
   * await net.sendFrames({ from: 'b', frames: [frame], count: 10 });   // { sent: 10 }
   * ```
   */
  async sendFrames(options: SendFramesOptions): Promise<{ sent: number }> {
    const op = 'VethPair.sendFrames';
    checkObject('options', options);
    const from = checkSide('options.from', options.from);
    const given: unknown = options.frames;
    const frames = given instanceof Uint8Array ? [given] : given;
    if (!Array.isArray(frames) || frames.length === 0 || !frames.every((f) => f instanceof Uint8Array)) {
      throw new TypeError('options.frames must be a Uint8Array or a non-empty array of them');
    }
    for (const f of frames as Uint8Array[]) {
      if (f.length < 14 || f.length > 65536) throw new RangeError(`every frame must hold 14 to 65536 bytes (an Ethernet header at least), got ${f.length}`);
    }
    const count = checkCount('options.count', options.count, frames.length, 1_000_000)!;
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, DEFAULT_SEND_TIMEOUT_MS);
    this.#assertOpen(op);
    await this.#listenersReady();
    const end = this.end(from);
    const socket = await openPacketSocket(op, end.ifname, end.netnsPath);
    try {
      return await socket.send(frames as Uint8Array[], count, timeoutMs);
    } finally {
      socket.close();
    }
  }

  /**
   * Captures the raw Ethernet frames arriving at one side's interface, with an AF_PACKET socket
   * opened right away; `send`, `sendFrames` and `ping` calls made after this one wait until it is
   * open, so what they send is seen. It captures for `timeoutMs` or until
   * `count` frames arrived. The wait runs off the main thread. Frames the side itself sends are
   * not included. A capture sees what got past XDP (a frame XDP drops never shows up here) but
   * sees frames before tc ingress.
   *
   * @throws {@link TestNetError} if the socket cannot be opened or the pair is closed.
   * @example
   * ```ts
   * const got = net.captureFrames({ on: 'a', timeoutMs: 500, count: 10 });
   * await net.sendFrames({ from: 'b', frames: [frame], count: 10 });
   * (await got).count;   // 10
   * ```
   */
  captureFrames(options: CaptureFramesOptions): Promise<CaptureFramesResult> {
    const op = 'VethPair.captureFrames';
    checkObject('options', options);
    const on = checkSide('options.on', options.on);
    const timeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs, 1_000);
    const count = checkCount('options.count', options.count, 100_000, 100_000)!;
    this.#assertOpen(op);
    const end = this.end(on);
    // Like receive(): sends and pings issued after this call wait until the socket is open.
    const ready = openPacketSocket(op, end.ifname, end.netnsPath).then((socket) => {
      if (this.#closing) {
        socket.close();
        this.#assertOpen(op);
      }
      this.#captures.add(socket);
      return socket;
    });
    const settled = ready.then(
      () => {},
      () => {},
    );
    this.#listening.add(settled);
    void settled.then(() => this.#listening.delete(settled));
    return ready.then((socket) =>
      socket
        .receive(timeoutMs, count)
        .then(({ frames }) => ({ count: frames.length, frames }))
        .finally(() => {
          this.#captures.delete(socket);
          socket.close();
        }),
    );
  }

  /**
   * Kills the agents and deletes the veth and both namespaces. Idempotent: later calls return the
   * same promise. Pending sends, receives and listeners on this pair fail with code `ECLOSED`.
   *
   * @throws {@link TestNetError} if a namespace cannot be deleted.
   * @example
   * ```ts
   * const net = await VethPair.create();
   * try { … } finally { await net.close(); }
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }

  /** Same as {@link VethPair.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #teardown(): Promise<void> {
    const op = 'VethPair.close';
    for (const socket of this.#captures) socket.close();
    const agents = await Promise.allSettled(Object.values(this.#agents));
    await Promise.all(agents.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    // Deleting the link explicitly makes its removal (and the detach of anything attached to it)
    // synchronous; a namespace itself is torn down by the kernel in the background.
    await this.#netns.a.ip(op, ['link', 'del', this.a.ifname]).catch(() => {});
    const results = await Promise.allSettled([this.#netns.a.delete(op), this.#netns.b.delete(op)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #assertOpen(op: string): void {
    if (this.#closing) throw new TestNetError(op, `the pair ${this.a.netns} / ${this.b.netns} is closed`, { code: 'ECLOSED' });
  }

  /** The destination address for traffic from `from`: `to`, or the other side's address. */
  #target(from: Side, options: TargetOptions): string {
    const { to, family } = options;
    if (family !== undefined && family !== 4 && family !== 6) throw new TypeError(`options.family must be 4 or 6, got ${String(family)}`);
    if (to === undefined) {
      const peer = from === 'a' ? this.b : this.a;
      return family === 6 ? peer.ipv6 : peer.ipv4;
    }
    if (typeof to !== 'string' || isIP(to) === 0) throw new TypeError(`options.to must be an IPv4 or IPv6 address, got ${String(to)}`);
    if (family !== undefined && isIP(to) !== family) throw new RangeError(`options.to (${to}) is not an IPv${family} address`);
    return to;
  }

  #listen(op: string, options: ListenOptions, checkMore: () => void): Promise<Listener> {
    const ready = (async () => {
      const { side, protocol, port } = checkListen(options);
      checkMore();
      const agent = await this.#agentFor(op, side);
      return Listener.open(op, agent, side, protocol, port);
    })();
    const settled = ready.then(
      () => {},
      () => {},
    );
    this.#listening.add(settled);
    void settled.then(() => this.#listening.delete(settled));
    return ready;
  }

  async #listenersReady(): Promise<void> {
    while (this.#listening.size > 0) await Promise.all(this.#listening);
  }

  /** The sending side's agent, once every listener set up earlier on this pair is bound. */
  async #senderReady(op: string, from: Side): Promise<Agent> {
    const [agent] = await Promise.all([this.#agentFor(op, from), this.#listenersReady()]);
    return agent;
  }

  /** The agent of `side`, started on first use and restarted if it died (e.g. after a timeout). */
  async #agentFor(op: string, side: Side): Promise<Agent> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#assertOpen(op);
      let pending = this.#agents[side];
      if (!pending) {
        const starting = Agent.start(op, this.#netns[side].name);
        this.#agents[side] = pending = starting;
        starting.catch(() => {
          if (this.#agents[side] === starting) delete this.#agents[side];
        });
      }
      const agent = await pending;
      this.#assertOpen(op);
      if (agent.alive) return agent;
      if (this.#agents[side] === pending) delete this.#agents[side];
    }
    throw new TestNetError(op, `the agent in ${this.#netns[side].name} keeps dying; see its output above`, { code: 'ECHILD' });
  }
}
