// Named network namespaces owned by this process: naming, create, delete, exec, and sweep.
//
// Every namespace the kit creates is called `lbn-<pid>-<seq>-<side>`: a fixed prefix, the pid of
// the creating process, a per-process counter and the side (`a` or `b`). The pid is what lets
// sweep() decide, without any state file, that a namespace belongs to a process that no longer
// exists. Names that do not match that exact pattern are never touched.

import { spawnSync } from 'node:child_process';
import { runCommand, runIp, type ExecOptions, type ExecResult } from './command.js';
import { TestNetError } from './errors.js';

/** Prefix of every namespace and interface name the kit creates. */
export const NAME_PREFIX = 'lbn';

const OWNED_NAME = /^lbn-(\d+)-(\d+)-([ab])$/;

/** The namespace name for one side of pair number `seq` created by process `pid`. */
export function netnsName(pid: number, seq: number, side: 'a' | 'b'): string {
  return `${NAME_PREFIX}-${pid}-${seq}-${side}`;
}

/** If `name` is a kit namespace, the pid of the process that created it. */
export function ownerPid(name: string): number | undefined {
  const match = OWNED_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Namespaces created by this process and not yet deleted; removed at exit if still here. */
const live = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort for pairs nobody closed. A SIGKILLed process leaves its namespaces
  // behind; sweep() in a later run removes those.
  process.on('exit', () => {
    if (live.size === 0) return;
    const script = [...live].map((name) => `netns del ${name}\n`).join('');
    spawnSync('ip', ['-force', '-batch', '-'], { input: script, stdio: ['pipe', 'ignore', 'ignore'], timeout: 5_000 });
    live.clear();
  });
}

/**
 * A named network namespace (`ip netns add`) created by this process. Internal to the kit: the
 * public face is {@link VethPair}, whose two ends each live in one of these.
 */
export class Netns {
  /** Name under /run/netns, usable with `ip -n NAME` and `ip netns exec NAME`. */
  readonly name: string;
  #deleted = false;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Creates the namespace (`ip netns add`). Throws a {@link TestNetError} with code `EEXIST` if the
   * name is taken, so the caller can pick another.
   */
  static async create(op: string, name: string): Promise<Netns> {
    if (ownerPid(name) !== process.pid) throw new Error(`internal: ${name} is not a name this process may create`);
    await runIp(op, ['netns', 'add', name]);
    installExitHook();
    live.add(name);
    return new Netns(name);
  }

  /** True once {@link Netns.delete} has run. */
  get deleted(): boolean {
    return this.#deleted;
  }

  /** Runs `ip -n NAME args…` and returns its output; `input` goes to a `-batch -` script. */
  ip(op: string, args: readonly string[], input?: string): Promise<string> {
    return runIp(op, ['-n', this.name, ...args], input);
  }

  /** Runs a command inside the namespace via `ip netns exec`. */
  exec(op: string, file: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return runCommand(op, 'ip', ['netns', 'exec', this.name, file, ...args], options);
  }

  /**
   * Removes the namespace name. The kernel destroys the namespace, and with it its interfaces, once
   * no process is left inside it. Idempotent; a name that is already gone is not an error.
   */
  async delete(op: string): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    try {
      await runIp(op, ['netns', 'del', this.name]);
    } catch (err) {
      if (!(err instanceof TestNetError && err.code === 'ENOENT')) throw err;
    } finally {
      live.delete(this.name);
    }
  }
}

/** Names of all named network namespaces on this machine (kit or not), from `ip -j netns list`. */
export async function listNetns(): Promise<string[]> {
  const out = (await runIp('listNetns', ['-j', 'netns', 'list'])).trim();
  if (out === '') return [];
  const parsed = JSON.parse(out) as Array<{ name: string }>;
  return parsed.map((entry) => entry.name);
}

/** True if a process with this pid exists (a process owned by someone else still counts). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes network namespaces left behind by test runs that were killed before they could clean up.
 *
 * Only names of the exact form `lbn-<pid>-<seq>-<a|b>` are considered, and only those whose `<pid>`
 * is not a running process; everything else, including pairs of other live test processes, is left
 * alone. Deleting a namespace also deletes the veth end inside it. If a pid was reused by an
 * unrelated process the leftover is kept (the safe direction) until that process ends.
 *
 * Call it once before a test run, e.g. from a vitest `globalSetup`.
 *
 * @returns the names of the namespaces removed.
 * @throws {@link TestNetError} if listing or deleting fails (e.g. not root).
 * @example
 * ```ts
 * // vitest.global-setup.ts
 * import { sweep } from 'libbpf-node/testing';
 * export default async function setup() {
 *   const removed = await sweep();
 *   if (removed.length) console.log(`removed leftover namespaces: ${removed.join(', ')}`);
 * }
 * ```
 */
export async function sweep(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNetns()) {
    const pid = ownerPid(name);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    try {
      await runIp('sweep', ['netns', 'del', name]);
      removed.push(name);
    } catch (err) {
      // Another sweeper may have been faster.
      if (!(err instanceof TestNetError && err.code === 'ENOENT')) throw err;
    }
  }
  return removed;
}
