// The per-file leak check (vitest `setupFiles`): a test file that leaves kernel objects behind
// fails itself, not a later file. Before the file's tests it notes what this process holds;
// after them (its own afterAll hooks have run: vitest runs hooks as a stack) it checks that
//   - this process's fds on kernel objects are back: BPF maps, programs, links, iterator reads,
//     BTF, perf events, bpffs and cgroup folders, namespace files and sockets;
//   - no bpffs pin whose name carries this process's pid was added (the test's pin base:
//     `/sys/fs/bpf/<prefix>-<pid>…`);
//   - no namespace of the test kit for this pid (`lbn-<pid>-…`) was added;
//   - every program id the file recorded with `recordProgramIds()` is gone from the kernel.
// Only what this process made is compared: other processes' pins, namespaces and programs are
// never looked at. Closes finish asynchronously (streams, sockets, worker teardown), so each
// check waits a bounded time for things to settle before it fails.
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { binding } from '../../lib/internal/native';

const SETTLE_MS = 3000 * Math.max(1, Number(process.env.LIBBPF_NODE_TEST_SLOW) || 1);

const recorded = new Set<number>();

/** Records program ids this test file made: they must be gone from the kernel when it ends. */
export function recordProgramIds(...ids: number[]): void {
  for (const id of ids) if (Number.isInteger(id) && id > 0) recorded.add(id);
}

/** The pin base of this process: bpffs names carrying this pid are checked. */
export const testPinBase = `/sys/fs/bpf/libbpf-node-test-${process.pid}`;

/** What an fd of this process points at, when it is a kernel object the library deals in. */
function kernelObject(target: string): string | undefined {
  if (target.startsWith('anon_inode:')) {
    const kind = target.slice('anon_inode:'.length);
    return /bpf|btf|perf_event/.test(kind) ? target : undefined;
  }
  if (target.startsWith('/sys/fs/bpf') || target.startsWith('/sys/fs/cgroup') || target.startsWith('/run/netns')) return target;
  if (target.startsWith('net:[') || target.startsWith('socket:[')) return target.replace(/\[\d+\]/, '[]');
  return undefined;
}

/** fds on kernel objects, counted by what they point at. */
function kernelFds(): Map<string, number> {
  const out = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the readdir's own fd among them)
    }
    const k = kernelObject(target);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

const ownPid = new RegExp(`(^|[-_])${process.pid}([-_]|$)`);

function listNames(dir: string, match: (name: string) => boolean): Set<string> {
  try {
    return new Set(readdirSync(dir).filter(match));
  } catch {
    return new Set();
  }
}

const pins = (): Set<string> => listNames('/sys/fs/bpf', (n) => ownPid.test(n));
const namespaces = (): Set<string> => listNames('/run/netns', (n) => n.startsWith(`lbn-${process.pid}-`));

function programExists(id: number, binding: { NativeProgram: { openById(id: number): { close(): void } } }): boolean {
  try {
    binding.NativeProgram.openById(id).close();
    return true;
  } catch {
    return false;
  }
}

let fdsBefore = new Map<string, number>();
let pinsBefore = new Set<string>();
let namespacesBefore = new Set<string>();

beforeAll(() => {
  fdsBefore = kernelFds();
  pinsBefore = pins();
  namespacesBefore = namespaces();
  recorded.clear();
});

afterAll(async () => {
  const problems = (): string[] => {
    const out: string[] = [];
    const now = kernelFds();
    for (const [k, n] of now) {
      const was = fdsBefore.get(k) ?? 0;
      if (n > was) out.push(`${n - was} more fd(s) on ${k}`);
    }
    for (const p of pins()) if (!pinsBefore.has(p)) out.push(`pin /sys/fs/bpf/${p} left behind`);
    for (const ns of namespaces()) if (!namespacesBefore.has(ns)) out.push(`namespace ${ns} left behind`);
    for (const id of recorded) if (programExists(id, binding as never)) out.push(`program id ${id} still in the kernel`);
    return out;
  };
  const deadline = Date.now() + SETTLE_MS;
  let found = problems();
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    (globalThis as { gc?: () => void }).gc?.();
    found = problems();
  }
  if (found.length > 0) throw new Error(`leak check: this test file left kernel objects behind:\n  ${found.join('\n  ')}`);
});
