// Shared by the fleet tests: the three-slot config, a metrics sample reader, and `xdp-root agent`
// in a child process with its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { VethPair } from '../../lib/testing/index';
import { fixturePath } from './helpers';
import { scaledMs } from './scale';

/** The config the tests apply: a filter, a port dropper, a counter. */
export function threeSlots(net: VethPair, dropPort: number): string {
  return `interfaces:
  - name: ${net.a.ifname}
    netns: ${net.a.netnsPath}
    mode: skb
    slots: 4
    programs:
      - slot: 0
        object: xdp_filter
        filter:
          block: [ { cidr: 203.0.113.0/24, tag: doc }, 2001:db8:bad::/48 ]
      - slot: 1
        object: ${fixturePath('slot_drop_port')}
        globals: { drop_port: ${dropPort} }
      - slot: 2
        object: xdp_counter
`;
}

/** One sample's value from a metrics text, by name and labels (all given labels must match). */
export function sample(text: string, name: string, labels: Record<string, string | number>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const cli = join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'xdp-root.js');

/** A log record of the agent (`--log-format json`). */
export type LogRecord = { time: string; level: string; msg: string } & Record<string, unknown>;

/** An agent process: its log records so far, and helpers to wait for more. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly logs: LogRecord[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [cli, 'agent', '--log-format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogRecord);
        } catch {
          this.stderr.push(`(stdout) ${line}`);
        }
        for (const w of this.#waiters.splice(0)) w();
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits for a log record matching `pred` at index `from` or later; returns it. */
  async waitFor(pred: (r: LogRecord) => boolean, timeoutMs = scaledMs(10_000), from = 0): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.slice(from).find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching agent log within ${timeoutMs} ms; logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The metrics port, from the "agent started" record. */
  async metricsUrl(): Promise<string> {
    const started = await this.waitFor((r) => r.msg === 'agent started');
    const m = started.metrics as { address: string; port: number };
    return `http://${m.address}:${m.port}`;
  }

  /** Sends SIGTERM and waits for the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}
