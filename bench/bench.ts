/**
 * `npm run bench`: map operations from JS against the same operations from C (bench/map_bench.c,
 * linked with the pinned libbpf), on the same maps. Not a test: prints a table and writes
 * bench/out/maps.json.
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject } from '../lib/index';

const root = join(__dirname, '..', '..');
const out = join(root, 'bench', 'out');
const N = 4000;
const OPS = 1_000_000;
const DUMPS = 200;

function buildC(): string {
  mkdirSync(out, { recursive: true });
  const exe = join(out, 'map_bench');
  execFileSync('cc', [
    '-O2', join(root, 'bench', 'map_bench.c'),
    '-I', join(root, 'ext', 'libbpf', 'usr', 'include'), '-I', join(root, 'ext', 'libbpf', 'include', 'uapi'),
    join(root, 'build', 'Release', 'obj.target', 'ext', 'bpf.a'), '-lelf', '-lz', '-o', exe,
  ], { stdio: 'inherit' });
  return exe;
}

function time(fn: () => void, count: number): number {
  fn(); // warm up
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / count;
}

async function main(): Promise<void> {
  const exe = buildC();
  using obj = BpfObject.open(join(root, 'dist', 'test-bpf', 'maps.bpf.o'));
  await obj.load();
  const hash = obj.map('hash').typed<number, bigint>();
  for (let i = 0; i < N; i++) hash.set(i, BigInt(i));
  const array = obj.map('mmapped');

  let sink = 0n;
  const js = {
    lookup: time(() => {
      for (let i = 0; i < OPS; i++) sink += hash.get(i % N)!;
    }, OPS),
    update: time(() => {
      for (let i = 0; i < OPS; i++) hash.set(i % N, i);
    }, OPS),
    dump: time(() => {
      for (let d = 0; d < DUMPS; d++) for (const [k, v] of hash) sink += BigInt(k) + v;
    }, DUMPS * N),
    // Reading a BigUint64Array element makes a BigInt; the low 32-bit words are plain numbers.
    mmapRead: (() => {
      const u64 = array.mmap().array(BigUint64Array);
      const reps = 20000;
      return time(() => {
        for (let r = 0; r < reps; r++) for (let i = 0; i < u64.length; i++) sink += u64[i]!;
      }, reps * u64.length);
    })(),
    mmapRead32: (() => {
      const u32 = array.mmap().array(Uint32Array);
      const reps = 20000;
      let acc = 0;
      const ns = time(() => {
        for (let r = 0; r < reps; r++) for (let i = 0; i < u32.length; i += 2) acc += u32[i]!;
      }, (reps * u32.length) / 2);
      sink += BigInt(acc & 1);
      return ns;
    })(),
  };

  const run = spawnSync(exe, [String(N), String(OPS), String(DUMPS), '1024'], {
    stdio: ['ignore', 'pipe', 'inherit', hash.fd, array.fd],
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`map_bench failed with status ${run.status}`);
  const c = { ...(JSON.parse(run.stdout) as Omit<typeof js, 'mmapRead32'>), mmapRead32: 0 };
  c.mmapRead32 = c.mmapRead;

  const targets: Record<keyof typeof js, string> = { lookup: 'ratio <= 1.15', update: 'ratio <= 1.15', dump: 'ratio <= 1.2', mmapRead: 'JS < 5 ns', mmapRead32: 'JS < 5 ns' };
  const met = (k: keyof typeof js): boolean => (k.startsWith('mmapRead') ? js[k] < 5 : js[k] / c[k] <= (k === 'dump' ? 1.2 : 1.15));
  const rows = (Object.keys(js) as (keyof typeof js)[]).map((k) => ({
    op: k,
    'JS ns': js[k].toFixed(k.startsWith('mmapRead') ? 3 : 1),
    'C ns': c[k].toFixed(k.startsWith('mmapRead') ? 3 : 1),
    ratio: (js[k] / c[k]).toFixed(2),
    target: targets[k],
    met: met(k) ? 'yes' : 'NO',
  }));
  console.log(`maps bench: hash of ${N} u32 -> u64 (lookup/update per op, dump per element), mmap'd array of 1024 u64 (per element read)`);
  console.table(rows);
  writeFileSync(join(out, 'maps.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, js, c, rows }, null, 2));
  if (sink === -1n) console.log(sink);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
