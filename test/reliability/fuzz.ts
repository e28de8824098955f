/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Fuzz harness: mutated and truncated ELF objects derived from the shipped ones
 * (dist/bpf/*.bpf.o) fed to BpfObject.open + load, and mutated frames fed to prog.testRun.
 *
 *   node dist/test/reliability/fuzz.js [--iterations N] [--seconds S] [--seed X] [--json]
 *
 * Inputs are generated from (seed, iteration), so every crash is reproducible. Iterations run in
 * child processes that report each iteration before running it; a child that dies from a signal
 * is a crash: the input is written to /tmp/lbn-fuzz-crash-<seed>-<iteration>.bin and a fresh
 * child carries on with the next iteration. Bounded by count and time. Nothing is attached to any
 * interface; maps a mutated object asks to pin go under a private /sys/fs/bpf/lbn-fuzz-* folder,
 * removed at the end.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, BpfObject, BpfStateError, shippedObjectPath, type BpfProgram } from '../../lib/index';

// Run from dist/test/reliability (node) or test/reliability (vitest): children always run the JS.
const distDir = __filename.endsWith('.ts') ? join(__dirname, '..', '..', 'dist') : join(__dirname, '..', '..');
const shippedDir = join(distDir, 'bpf');
const script = join(distDir, 'test', 'reliability', 'fuzz.js');

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const interesting = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];

/** One input of iteration `i`: which kind, and its bytes. */
export function makeInput(seeds: Buffer[], seed: number, i: number): { kind: 'elf' | 'frame'; bytes: Buffer; base: number } {
  const r = rng(seed * 1_000_003 + i);
  const pick = (n: number): number => Math.floor(r() * n);
  if (i % 4 === 3) {
    // A frame for testRun: random length (including too short and jumbo), random or Ethernet-ish.
    const len = [0, 1, 13, 14, 34, 60, 64, 1514, 1515, 9000, 70_000][pick(11)];
    const b = Buffer.alloc(len);
    for (let k = 0; k < len; k++) b[k] = pick(256);
    if (len >= 14 && r() < 0.7) b.writeUInt16BE([0x0800, 0x86dd, 0x8100, 0x0806][pick(4)], 12);
    if (len >= 15 && r() < 0.5) b[14] = 0x45;
    return { kind: 'frame', bytes: b, base: pick(1 << 30) };
  }
  const base = pick(seeds.length);
  const b = Buffer.from(seeds[base]);
  const rounds = 1 + pick(4);
  let out = b;
  for (let k = 0; k < rounds; k++) {
    switch (pick(6)) {
      case 0: // bit flips
        for (let n = 1 + pick(8); n > 0; n--) out[pick(out.length)] ^= 1 << pick(8);
        break;
      case 1: // random bytes
        for (let n = 1 + pick(16); n > 0; n--) out[pick(out.length)] = pick(256);
        break;
      case 2: // truncation
        out = out.subarray(0, pick(out.length));
        break;
      case 3: { // an interesting 32-bit value somewhere (sizes, offsets, counts)
        if (out.length >= 4) out.writeUInt32LE(interesting[pick(interesting.length)], pick(out.length - 3) & ~3);
        break;
      }
      case 4: { // the ELF header: e_shoff, e_shnum, e_shstrndx, e_shentsize
        const fields: Array<[number, number]> = [[0x28, 8], [0x3c, 2], [0x3e, 2], [0x3a, 2]];
        const [off, size] = fields[pick(fields.length)];
        if (out.length >= off + size) {
          const v = interesting[pick(interesting.length)];
          if (size === 8) out.writeBigUInt64LE(BigInt(v), off);
          else out.writeUInt16LE(v & 0xffff, off);
        }
        break;
      }
      default: { // a zeroed or duplicated chunk
        const at = pick(out.length);
        const len = Math.min(pick(256), out.length - at);
        if (r() < 0.5) out.fill(0, at, at + len);
        else out.copy(out, pick(Math.max(1, out.length - len)), at, at + len);
      }
    }
  }
  return { kind: 'elf', bytes: Buffer.from(out), base };
}

function seedObjects(): Buffer[] {
  return readdirSync(shippedDir)
    .filter((f) => f.endsWith('.bpf.o'))
    .sort()
    .map((f) => readFileSync(join(shippedDir, f)));
}

// ------------------------------------------------------------------------------------ child

async function child(seed: number, from: number, to: number, deadline: number, pinRoot: string): Promise<void> {
  const seeds = seedObjects();
  const codes: Record<string, number> = {};
  const untyped: string[] = [];
  // Each outcome goes to the parent as it happens ("r <outcome>"), so the outcomes of a child
  // that is later killed (a hang) or crashes are not lost with it.
  const outcome = (key: string): void => {
    codes[key] = (codes[key] ?? 0) + 1;
    process.stdout.write(`r ${key}\n`);
  };
  const note = (e: unknown): void => {
    const key = e instanceof BpfError ? e.code : e instanceof BpfStateError ? 'BpfStateError' : e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : `untyped:${(e as Error)?.constructor?.name}`;
    outcome(key);
    if (key.startsWith('untyped') && untyped.length < 10) untyped.push(String((e as Error)?.message ?? e).split('\n')[0]);
  };
  // Programs to testRun frames against: the shipped XDP programs, loaded once.
  const targets: BpfProgram[] = [];
  for (const name of ['xdp_filter', 'xdp_count', 'xdp_root', 'xdp_sampler', 'xdp_pass'] as const) {
    const o = BpfObject.open(shippedObjectPath(name), { pinRoot });
    await o.load();
    targets.push(...o.programs.filter((p) => p.type === 'xdp'));
  }
  let done = 0;
  let loaded = 0;
  for (let i = from; i < to && Date.now() < deadline; i++) {
    process.stdout.write(`i ${i}\n`); // a pipe: synchronous on Linux, so it is out before a crash
    const input = makeInput(seeds, seed, i);
    if (input.kind === 'frame') {
      try {
        const prog = targets[input.base % targets.length];
        prog.testRun({ data: input.bytes, repeat: 1 + (input.base % 3) });
        outcome('ok');
      } catch (e) {
        note(e);
      }
    } else {
      try {
        using obj = BpfObject.open(input.bytes, { pinRoot });
        obj.loadSync();
        loaded++;
        outcome('ok');
      } catch (e) {
        note(e);
      }
    }
    done++;
  }
  process.stdout.write(`done ${JSON.stringify({ done, loaded, codes, untyped })}\n`);
}

// ----------------------------------------------------------------------------------- parent

export interface FuzzReport {
  iterations: number;
  elfInputs: number;
  frameInputs: number;
  loadedMutants: number;
  crashes: Array<{ iteration: number; signal: string; input: string }>;
  /** Inputs that ran longer than 10 s and were killed (a mutated max_entries can make the kernel allocate for minutes). */
  hangs: Array<{ iteration: number; input: string }>;
  errorCodes: Record<string, number>;
  untyped: string[];
  seconds: number;
}

/** Runs the fuzzer for `iterations` inputs or `seconds`, whichever ends first. */
export async function fuzz(options: { iterations: number; seconds: number; seed: number }): Promise<FuzzReport> {
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const pinRoot = `/sys/fs/bpf/lbn-fuzz-${process.pid}`;
  mkdirSync(pinRoot, { recursive: true });
  const report: FuzzReport = { iterations: 0, elfInputs: 0, frameInputs: 0, loadedMutants: 0, crashes: [], hangs: [], errorCodes: {}, untyped: [], seconds: 0 };
  const seeds = seedObjects();
  let next = 0;
  try {
    while (next < options.iterations && Date.now() < deadline) {
      const { last, summary, signal, stderr, hung, codes } = await runChild(options.seed, next, options.iterations, deadline, pinRoot);
      // Outcomes streamed by the child count whether it finished, hung or crashed.
      for (const [k, v] of Object.entries(codes)) report.errorCodes[k] = (report.errorCodes[k] ?? 0) + v;
      if (summary) {
        report.iterations += summary.done;
        report.loadedMutants += summary.loaded;
        report.untyped.push(...summary.untyped);
        next += summary.done;
        if (summary.done === 0) break;
        continue;
      }
      // A child that failed before its first iteration is a broken harness, not a crash.
      if (last === undefined) throw new Error(`fuzz child failed to start (${signal}): ${stderr}`);
      // The child died in iteration `last`: keep the input, go on after it.
      const at = last;
      const input = makeInput(seeds, options.seed, at);
      const file = `/tmp/lbn-fuzz-${hung ? 'hang' : 'crash'}-${options.seed}-${at}.bin`;
      writeFileSync(file, input.bytes);
      if (hung) report.hangs.push({ iteration: at, input: file });
      else report.crashes.push({ iteration: at, signal: signal ?? 'exit', input: file });
      report.iterations += at - next + 1;
      next = at + 1;
    }
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
  for (let i = 0; i < report.iterations; i++) (i % 4 === 3 ? report.frameInputs++ : report.elfInputs++);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

function runChild(
  seed: number,
  from: number,
  to: number,
  deadline: number,
  pinRoot: string,
): Promise<{ last?: number; summary?: any; signal?: string; stderr?: string; hung?: boolean; codes: Record<string, number> }> {
  return new Promise((resolve) => {
    // A fresh network namespace: testRun never touches an interface, this makes sure of it.
    const p = spawn('unshare', ['-n', process.execPath, script, 'child', String(seed), String(from), String(to), String(deadline), pinRoot], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let last: number | undefined;
    let summary: any;
    const codes: Record<string, number> = {};
    // One input running longer than 10 s is a hang: killed, reported apart from crashes.
    let lastAt = Date.now();
    let hung = false;
    const watchdog = setInterval(() => {
      if (Date.now() - lastAt > 10_000) {
        hung = true;
        p.kill('SIGKILL');
      }
    }, 500);
    p.stdout.on('data', (d: Buffer) => {
      lastAt = Date.now();
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('i ')) last = Number(l.slice(2));
        else if (l.startsWith('r ')) codes[l.slice(2)] = (codes[l.slice(2)] ?? 0) + 1;
        else if (l.startsWith('done ')) summary = JSON.parse(l.slice(5));
      }
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const killer = setTimeout(() => p.kill('SIGKILL'), Math.max(0, deadline - Date.now()) + 30_000);
    p.on('close', (code, signal) => {
      clearTimeout(killer);
      clearInterval(watchdog);
      if (summary && code === 0) resolve({ summary, codes });
      else resolve({ last, signal: signal ?? `exit ${code}`, stderr, hung, codes });
    });
  });
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (require.main === module) {
  if (process.argv[2] === 'child') {
    const [seed, from, to, deadline] = process.argv.slice(3, 7).map(Number);
    child(seed, from, to, deadline, process.argv[7]).then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(3);
      },
    );
  } else {
    const options = { iterations: arg('--iterations', 20_000), seconds: arg('--seconds', 60), seed: arg('--seed', Date.now() % 100_000) };
    void fuzz(options).then((r) => {
      if (process.argv.includes('--json')) console.log(JSON.stringify(r));
      else {
        console.log(`fuzz: seed ${options.seed}, ${r.iterations} iterations (${r.elfInputs} ELF objects, ${r.frameInputs} frames) in ${r.seconds.toFixed(1)} s`);
        console.log(`  mutants that loaded: ${r.loadedMutants}; crashes: ${r.crashes.length}; hangs (> 10 s, killed): ${r.hangs.length}; untyped errors: ${r.untyped.length}`);
        console.log(`  outcomes: ${Object.entries(r.errorCodes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        for (const h of r.hangs.slice(0, 5)) console.log(`  HANG at iteration ${h.iteration}: input in ${h.input}`);
        for (const c of r.crashes.slice(0, 20)) console.log(`  CRASH at iteration ${c.iteration} (${c.signal}): input in ${c.input}`);
      }
      process.exitCode = r.crashes.length > 0 || r.untyped.length > 0 ? 1 : 0;
    });
  }
}
