// Shared test helpers: privilege checks with stated skip reasons, fixture paths, fd counting, the
// xdp-root CLI, and building dist/ when it is stale.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_BPF = 39;

function effectiveCaps(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.split(/\s+/)[1]}`) : 0n;
}

function hasCap(cap: number): boolean {
  return (effectiveCaps() & (1n << BigInt(cap))) !== 0n;
}

/** Loading BPF programs needs CAP_BPF (or CAP_SYS_ADMIN on kernels before 5.8). */
export const canLoadBpf = hasCap(CAP_BPF) || hasCap(CAP_SYS_ADMIN);
/** Attaching to interfaces and creating namespaces needs CAP_NET_ADMIN and CAP_SYS_ADMIN. */
export const canAdminNet = hasCap(CAP_NET_ADMIN) && hasCap(CAP_SYS_ADMIN);

const bpfReason = 'needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs (run as root)';
const netReason = 'needs CAP_NET_ADMIN and CAP_SYS_ADMIN for namespaces and XDP (run as root)';

/** `describe` for tests that load programs; skipped, with the reason, without the capability. */
export const describeBpf = (name: string, fn: () => void) =>
  describe.skipIf(!canLoadBpf)(canLoadBpf ? name : `${name} [skipped: ${bpfReason}]`, fn);

/** `describe` for tests that build namespaces and attach to interfaces. */
export const describeNet = (name: string, fn: () => void) =>
  describe.skipIf(!canAdminNet)(canAdminNet ? name : `${name} [skipped: ${netReason}]`, fn);

/** `it` that runs when `ok`; otherwise skipped, with `[skipped: <reason>]` in its name. */
export function itIf(ok: boolean, reason: string, name: string, fn: () => unknown, timeout?: number): void {
  if (ok) it(name, fn, timeout);
  else it.skip(`${name} [skipped: ${reason}]`, fn);
}

/** `it` for a test that loads programs; skipped, with the reason, without the capability. */
export const itBpf = (name: string, fn: () => unknown, timeout?: number): void => itIf(canLoadBpf, bpfReason, name, fn, timeout);

/** `it` for a test that builds namespaces and attaches to interfaces. */
export const itNet = (name: string, fn: () => unknown, timeout?: number): void => itIf(canAdminNet, netReason, name, fn, timeout);


/** A test fixture built from test/bpf/<name>.bpf.c. */
export function fixturePath(name: string): string {
  return join(__dirname, '..', '..', 'dist', 'test-bpf', `${name}.bpf.o`);
}

/** The number of open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The built xdp-root CLI. */
export const xdpRootCli = join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'xdp-root.js');

/** Runs the built xdp-root CLI in another process: its exit code, stdout and stderr (also on success). */
export function xdpRoot(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [xdpRootCli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Newest modification time of a file, or of the files under a directory (recursively). */
function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

const BUILDS = {
  // The library and its CLIs, as .ci/setup.sh builds them (the tests run dist/lib/cli/*.js).
  'tsconfig.build.json': { stamp: 'dist/.tsbuildinfo', sources: ['lib'] },
  // The child processes the reliability tests spawn, and the lib they import.
  'test/reliability/tsconfig.json': { stamp: 'dist/.tsbuildinfo-reliability', sources: ['lib', 'test/reliability', 'test/support/scale.ts'] },
} as const;

/**
 * Compiles a TypeScript project into dist/ unless its last build is newer than every source, as
 * .ci/setup.sh does: starting tsc alone takes seconds here and minutes under emulation (the
 * kernel matrix builds both on the host before the guests start).
 */
export function buildTs(project: keyof typeof BUILDS): void {
  const root = join(__dirname, '..', '..');
  const { stamp, sources } = BUILDS[project];
  let built = 0;
  try {
    built = statSync(join(root, stamp)).mtimeMs;
  } catch {
    /* never built */
  }
  const newest = Math.max(...[...sources, 'tsconfig.json', project].map((p) => newestMtime(join(root, p))));
  if (built > newest) return;
  execFileSync('npx', ['tsc', '-p', project], { cwd: root, stdio: 'ignore' });
  const now = new Date();
  utimesSync(join(root, stamp), now, now); // tsc leaves it alone when nothing changed
}

/**
 * Collects garbage until `done()` holds, at most `rounds` times (a hang guard), then returns
 * whether it holds. Needs --expose-gc (vitest.config.mts). `done()` and `gc()` run in different
 * jobs: a `WeakRef.deref()` keeps its target alive until the current job ends, so a check that
 * derefs right before `gc()` would keep alive the very object it waits for.
 */
export async function gcUntil(done: () => boolean, rounds = 100): Promise<boolean> {
  const tick = () => new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < rounds; i++) {
    if (done()) return true;
    await tick();
    globalThis.gc!();
    await tick(); // finalizers run after the collection
  }
  return done();
}
