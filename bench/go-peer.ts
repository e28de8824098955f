/**
 * The Go peer of the events benchmark (bench/go/peer.go): cilium/ebpf's ReadInto on the same maps,
 * built offline in GOPATH mode against Debian's golang-github-cilium-ebpf-dev. Optional: without
 * `go` or the package, {@link goPeer} says why and the benchmark prints "skipped".
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const out = join(root, 'bench', 'out');
const GOPATH = '/usr/share/gocode';

/** ns per record of one drain by cilium/ebpf. */
export interface GoPeer {
  ringDrain(mapFd: number, progFd: number, count: number): number;
  perfDrain(mapFd: number, progFd: number, count: number, pagesPerCpu: number): number;
  close(): void;
}

/** Builds the peer; a string saying why not when go or cilium/ebpf is missing. */
export function goPeer(): GoPeer | string {
  if (spawnSync('go', ['version']).status !== 0) return 'skipped: no go (apt-get install golang-go)';
  if (!existsSync(join(GOPATH, 'src', 'github.com', 'cilium', 'ebpf'))) return 'skipped: no cilium/ebpf (apt-get install golang-github-cilium-ebpf-dev)';
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'go-peer');
  try {
    execFileSync('go', ['build', '-o', bin, join(root, 'bench', 'go', 'peer.go')], {
      env: { ...process.env, GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off', GOCACHE: join(out, 'go-cache') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    return `skipped: the Go peer did not build (${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]})`;
  }
  const run = (args: string[], mapFd: number, progFd: number): number => {
    const r = spawnSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe', mapFd, progFd], encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`go peer ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    const [received, ns] = r.stdout.trim().split(' ').map(Number) as [number, number];
    return ns / received;
  };
  return {
    ringDrain: (mapFd, progFd, count) => run(['ring', String(count)], mapFd, progFd),
    perfDrain: (mapFd, progFd, count, pages) => run(['perf', String(count), String(pages)], mapFd, progFd),
    close() {},
  };
}
