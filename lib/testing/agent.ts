// The traffic agent: a small Node.js process started inside a namespace with `ip netns exec`.
//
// Sockets belong to the network namespace of the process that opens them and Node cannot switch
// namespaces, so every socket the kit needs (senders, listeners) is opened by an agent living in
// the right namespace. One agent per side, started on first use, killed by VethPair.close().
//
// Protocol: JSON lines over file descriptor 3 (a socketpair), so the agent's stdout and stderr stay
// free for user code run with VethEnd.run().
//   request:  {"id": 7, "op": "udp-send", "args": {...}}
//   response: {"id": 7, "ok": true, "result": {...}}
//          or {"id": 7, "ok": false, "error": {"message": "...", "code": "EADDRINUSE"}}
// Payloads travel as base64. Operations (see `ops` in AGENT_SOURCE):
//   hello                                       -> {pid}
//   udp-listen {port}                           -> {handle}   bound to [::] (v4 and v6) when it resolves
//   tcp-listen {port}                           -> {handle}   listening on [::] when it resolves
//   collect {handle, timeoutMs, count?}         -> {count, packets:[{from, sourcePort, payload}], dropped}, closes the handle
//   close {handle}                              -> {}
//   udp-send {host, port, payload, count, intervalMs, timeoutMs, sourcePort?} -> {sent}
//   tcp-syn {host, port, count, timeoutMs}      -> {sent, connected, refused, timedOut, failed}
//   run {source, arg}                           -> {value}    evaluates a function expression
// Raw Ethernet frames need an AF_PACKET socket, which Node's standard library cannot open; a
// `raw-send {ifname, frame, count}` operation slots into `ops` once a native helper provides one.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { TestNetError } from './errors.js';

/**
 * Source of the agent, plain CommonJS run with `node -e`, so it works the same whether the kit is
 * loaded from TypeScript sources (tests) or from compiled JavaScript (dist/). Written with String.raw;
 * it must not contain backticks or dollar-brace sequences.
 */
export const AGENT_SOURCE = String.raw`'use strict';
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');

const MAX_STORED_PACKETS = 100000;
const MAX_STORED_BYTES = 64 * 1024 * 1024;
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

const channel = new net.Socket({ fd: 3, readable: true, writable: true });
const handles = new Map();
let nextHandle = 1;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// '::ffff:198.18.0.2' (an IPv4 sender seen by a dual-stack socket) -> '198.18.0.2'
function plainAddress(address) {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function fail(message, code) {
  const err = new Error(message);
  err.code = code;
  return err;
}

// Datagrams this namespace's UDP sockets dropped because a receive buffer was full (IPv4 + IPv6).
function udpBufferDrops() {
  let total = 0;
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    total += Number(values[names.indexOf('RcvbufErrors')]) || 0;
  } catch {}
  try {
    const match = /^Udp6RcvbufErrors\s+(\d+)/m.exec(fs.readFileSync('/proc/net/snmp6', 'utf8'));
    if (match) total += Number(match[1]);
  } catch {}
  return total;
}

// A sink records what a listener receives until it is collected. dropsAtStart is a baseline for
// udpBufferDrops(), or null for TCP.
function makeSink(close, dropsAtStart) {
  return { count: 0, packets: [], bytes: 0, waiter: null, close, dropsAtStart };
}

function record(sink, from, sourcePort, payload) {
  sink.count++;
  if (sink.packets.length < MAX_STORED_PACKETS && sink.bytes + payload.length <= MAX_STORED_BYTES) {
    sink.packets.push({ from: plainAddress(from), sourcePort, payload });
    sink.bytes += payload.length;
  }
  if (sink.waiter && sink.count >= sink.waiter.count) sink.waiter.finish();
}

function register(sink) {
  const handle = nextHandle++;
  handles.set(handle, sink);
  return { handle };
}

const ops = {
  async hello() {
    return { pid: process.pid };
  },

  'udp-listen'({ port }) {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp6', ipv6Only: false, recvBufferSize: RECV_BUFFER_BYTES });
      const sink = makeSink(() => socket.close(), udpBufferDrops());
      socket.on('message', (msg, rinfo) => record(sink, rinfo.address, rinfo.port, msg));
      socket.once('error', reject);
      socket.bind({ port, address: '::' }, () => {
        socket.removeListener('error', reject);
        socket.on('error', () => {});
        resolve(register(sink));
      });
    });
  },

  'tcp-listen'({ port }) {
    return new Promise((resolve, reject) => {
      const connections = new Set();
      const server = net.createServer((conn) => {
        connections.add(conn);
        conn.on('error', () => {});
        conn.on('close', () => connections.delete(conn));
        conn.resume();
        record(sink, conn.remoteAddress || '', conn.remotePort || 0, Buffer.alloc(0));
      });
      const sink = makeSink(() => {
        server.close();
        for (const conn of connections) conn.destroy();
      }, null);
      server.once('error', reject);
      server.listen({ port, host: '::', ipv6Only: false, backlog: 1024 }, () => {
        server.removeListener('error', reject);
        server.on('error', () => {});
        resolve(register(sink));
      });
    });
  },

  collect({ handle, timeoutMs, count }) {
    const sink = handles.get(handle);
    if (!sink) throw fail('no open listener with handle ' + handle, 'EBADF');
    if (sink.waiter) throw fail('listener ' + handle + ' is already being collected', 'EBUSY');
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        handles.delete(handle);
        sink.close();
        const packets = sink.packets.map((p) => ({ from: p.from, sourcePort: p.sourcePort, payload: p.payload.toString('base64') }));
        const dropped = sink.dropsAtStart === null ? 0 : udpBufferDrops() - sink.dropsAtStart;
        resolve({ count: sink.count, packets, dropped });
      };
      const timer = setTimeout(finish, timeoutMs);
      sink.waiter = { count: count == null ? Infinity : count, finish };
      if (sink.count >= sink.waiter.count) finish();
    });
  },

  close({ handle }) {
    const sink = handles.get(handle);
    if (sink) {
      handles.delete(handle);
      sink.close();
    }
    return {};
  },

  async 'udp-send'({ host, port, payload, count, intervalMs, timeoutMs, sourcePort }) {
    const data = Buffer.from(payload, 'base64');
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const deadline = Date.now() + timeoutMs;
    let sent = 0;
    try {
      if (sourcePort) {
        await new Promise((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(sourcePort, () => {
            socket.removeListener('error', reject);
            resolve();
          });
        });
      }
      while (sent < count && Date.now() < deadline) {
        await new Promise((resolve, reject) => socket.send(data, port, host, (err) => (err ? reject(err) : resolve())));
        sent++;
        if (intervalMs > 0 && sent < count) await sleep(intervalMs);
      }
    } catch (err) {
      err.message += ' (after ' + sent + ' datagrams were sent)';
      throw err;
    } finally {
      socket.close();
    }
    return { sent };
  },

  async 'tcp-syn'({ host, port, count, timeoutMs }) {
    // Each attempt is a connect(): the kernel sends a SYN whether or not anything listens. An
    // attempt that connects is closed gracefully (FIN), so the listener sees a normal connection.
    const attempt = () => new Promise((resolve) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        resolve('timedOut');
      }, timeoutMs);
      sock.on('error', (err) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'failed');
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
        resolve('connected');
      });
    });
    const tally = { sent: count, connected: 0, refused: 0, timedOut: 0, failed: 0 };
    for (const outcome of await Promise.all(Array.from({ length: count }, attempt))) tally[outcome]++;
    return tally;
  },

  async run({ source, arg }) {
    const fn = (0, eval)('(' + source + ')');
    if (typeof fn !== 'function') throw new TypeError('run() needs a function');
    return { value: await fn(arg) };
  },
};

function reply(message) {
  let text;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    text = JSON.stringify({ id: message.id, ok: false, error: { message: 'result is not JSON-serializable: ' + err.message } });
  }
  channel.write(text + '\n');
}

async function dispatch(line) {
  let id = null;
  try {
    const request = JSON.parse(line);
    id = request.id;
    const op = Object.prototype.hasOwnProperty.call(ops, request.op) ? ops[request.op] : undefined;
    if (!op) throw fail('unknown operation "' + request.op + '"', 'ENOSYS');
    reply({ id, ok: true, result: await op(request.args || {}) });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    reply({ id, ok: false, error: { message: error.message, code: error.code, name: error.name } });
  }
}

let partial = '';
channel.setEncoding('utf8');
channel.on('data', (chunk) => {
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  for (const line of lines) if (line) dispatch(line);
});
// The parent went away (or closed us): nothing left to do.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(1));
`;

/**
 * How long a fresh agent may take to answer its first request: 10 s, times
 * LIBBPF_NODE_TEST_SLOW under emulation (the kernel matrix's guests start node much slower).
 */
const START_TIMEOUT_MS = 10_000 * Math.max(1, Number(process.env.LIBBPF_NODE_TEST_SLOW) || 1);
/** Extra time, beyond an operation's own time limit, before the parent gives up on an agent. */
export const AGENT_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 2_000;

interface Pending {
  op: string;
  name: string;
  callSite: { stack?: string };
  timer: NodeJS.Timeout;
  resolve(value: unknown): void;
  reject(reason: Error): void;
}

interface AgentReply {
  id: number | null;
  ok: boolean;
  result?: unknown;
  error?: { message: string; code?: string; name?: string };
}

const liveAgents = new Set<Agent>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const agent of liveAgents) agent.kill();
  });
}

/** Puts the caller's stack under an error created later, in a callback. */
function withCallSite<E extends Error>(err: E, callSite: { stack?: string }): E {
  const frames = callSite.stack?.split('\n').slice(1).join('\n');
  if (frames) err.stack = `${err.name}: ${err.message}\n${frames}`;
  return err;
}

/**
 * The parent side of one agent process: sends requests, matches replies by id, enforces time
 * limits. An agent that misses a deadline is killed, since its state can no longer be trusted.
 */
export class Agent {
  /** The namespace the agent runs in. */
  readonly netns: string;
  readonly #child: ChildProcess;
  readonly #channel: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #partial: string[] = [];
  #stderrTail = '';
  #dead = false;

  private constructor(netns: string) {
    this.netns = netns;
    const env = { ...process.env };
    // Loaders or inspectors meant for the test runner must not follow us into the agent.
    delete env.NODE_OPTIONS;
    this.#child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', AGENT_SOURCE], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env,
    });
    this.#channel = this.#child.stdio[3] as Socket;
    // Pending requests keep the event loop alive through their timers; an idle agent must not.
    this.#child.unref();
    for (const stream of [this.#channel, this.#child.stdout, this.#child.stderr] as Socket[]) stream.unref();

    const label = `[${netns}] `;
    const forward = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
      process.stderr.write(text.replace(/^(?=.)/gm, label));
    };
    this.#child.stdout!.on('data', forward);
    this.#child.stderr!.on('data', forward);
    this.#channel.setEncoding('utf8');
    this.#channel.on('data', (chunk: string) => this.#onData(chunk));
    this.#channel.on('error', () => {});

    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        this.#die(`could not be started: ${err.message}`);
        resolve();
      });
      this.#child.on('exit', (code, signal) => {
        this.#die(`exited (${signal ? `signal ${signal}` : `code ${code}`})`);
        resolve();
      });
    });
    liveAgents.add(this);
    installExitHook();
  }

  /**
   * Starts an agent inside `netns` and waits until it answers.
   * @throws {@link TestNetError} if it cannot be started, with the agent's standard error.
   */
  static async start(op: string, netns: string): Promise<Agent> {
    const agent = new Agent(netns);
    try {
      await agent.request(op, 'hello', {}, START_TIMEOUT_MS);
    } catch (err) {
      await agent.close();
      throw err;
    }
    return agent;
  }

  /** False once the process has exited or been killed. */
  get alive(): boolean {
    return !this.#dead;
  }

  /**
   * Sends one request and resolves with its result. Rejects with a {@link TestNetError} if the
   * agent reports an error, exits, or does not answer within `timeoutMs` (it is then killed).
   */
  request<T>(op: string, name: string, args: object, timeoutMs: number): Promise<T> {
    const callSite: { stack?: string } = {};
    Error.captureStackTrace(callSite, this.request);
    if (this.#dead) {
      return Promise.reject(
        withCallSite(new TestNetError(op, `the agent in ${this.netns} is not running`, { code: 'ECLOSED' }), callSite),
      );
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          withCallSite(
            new TestNetError(op, `the agent in ${this.netns} did not answer "${name}" within ${timeoutMs} ms and was stopped`, {
              code: 'ETIMEDOUT',
              stderr: this.#stderrTail.trim(),
            }),
            callSite,
          ),
        );
        this.kill();
      }, timeoutMs);
      this.#pending.set(id, { op, name, callSite, timer, resolve: resolve as (value: unknown) => void, reject });
      this.#channel.write(`${JSON.stringify({ id, op: name, args })}\n`);
    });
  }

  /** Kills the agent at once (SIGKILL). Safe to call at any time, including from an exit hook. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    this.#die('was stopped');
  }

  /** Kills the agent and waits until the process is gone. Idempotent. */
  async close(): Promise<void> {
    this.kill();
    // The child is unref'ed while idle; waiting for its exit must keep the process alive.
    this.#child.ref();
    await this.#exited;
  }

  #onData(chunk: string): void {
    // Replies can be megabytes (collected payloads): look for newlines in the new chunk only.
    if (!chunk.includes('\n')) {
      this.#partial.push(chunk);
      return;
    }
    const lines = (this.#partial.join('') + chunk).split('\n');
    this.#partial = [lines.pop()!];
    for (const line of lines) if (line) this.#onReply(JSON.parse(line) as AgentReply);
  }

  #onReply(message: AgentReply): void {
    const pending = message.id === null ? undefined : this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id!);
    clearTimeout(pending.timer);
    if (message.ok) {
      pending.resolve(message.result);
    } else {
      const error = message.error ?? { message: 'unknown error' };
      pending.reject(
        withCallSite(
          new TestNetError(pending.op, `${pending.name} in ${this.netns} failed: ${error.message}`, { code: error.code }),
          pending.callSite,
        ),
      );
    }
  }

  /** Marks the agent dead and fails every request still waiting for it. */
  #die(why: string): void {
    if (this.#dead && this.#pending.size === 0) return;
    this.#dead = true;
    liveAgents.delete(this);
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      const tail = this.#stderrTail.trim();
      pending.reject(
        withCallSite(
          new TestNetError(
            pending.op,
            `the agent in ${this.netns} ${why} while "${pending.name}" was pending${tail ? `: ${tail}` : ''}`,
            { code: 'ECLOSED', stderr: tail },
          ),
          pending.callSite,
        ),
      );
    }
  }
}
