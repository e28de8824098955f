/**
 * `npm run bench` (second part): what the XDP root array costs per packet, measured with
 * BPF_PROG_TEST_RUN in one run: a program alone, the same program behind the root in slot 0, in
 * slot 7 behind seven empty slots, and four slot programs chained; then the root's metadata
 * handoff on and off in front of the shipped filter and counter; then capture: off (against the
 * same chain built without capture) and on (every frame copied to a perf buffer being read). Each number is the kernel's
 * average over REPEAT runs, the median of ROUNDS. Prints a table and writes
 * bench/out/root-array.json. Not a test: nothing here fails on a slow machine.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject, type BpfProgram } from '../lib/index';
import { rawCodec } from '../lib/map/codecs';
import { PerfBuffer } from '../lib/events/perfbuf';
import { udpFrame } from '../lib/testing/frames';
import { VethPair } from '../lib/testing/index';

const root = join(__dirname, '..', '..');
const out = join(root, 'bench', 'out');
const REPEAT = Number(process.env.REPEAT ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 21);
/** Live frames per round (BPF_F_TEST_XDP_LIVE_FRAMES) and rounds of them. */
const LIVE_FRAMES = Number(process.env.LIVE_FRAMES ?? 200_000);
const LIVE_ROUNDS = Number(process.env.LIVE_ROUNDS ?? 7);
const shipped = (name: string): string => join(root, 'dist', 'bpf', `${name}.bpf.o`);
const fixture = (name: string): string => join(root, 'dist', 'test-bpf', `${name}.bpf.o`);
/** Capture on: runs per test run (what one CPU's ring holds, so the reader keeps up) and rounds. */
const CAP_REPEAT = Number(process.env.CAP_REPEAT ?? 2000);
const CAP_ROUNDS = Number(process.env.CAP_ROUNDS ?? 301);
/** Capture off against no capture, paired: runs per test run and rounds. */
const OFF_REPEAT = Number(process.env.OFF_REPEAT ?? 200_000);
const OFF_ROUNDS = Number(process.env.OFF_ROUNDS ?? 101);

/**
 * `source` built as the bpf/ Makefile builds it, with -DXDP_ROOT_NO_CAPTURE: the slot program
 * without capture in its return path, which is instruction for instruction the one of the
 * xdp_root.h before capture existed. The baseline for "capture off costs nothing".
 */
function buildNoCapture(source: string, name: string): string {
  const obj = join(out, `${name}-nocapture.bpf.o`);
  mkdirSync(out, { recursive: true });
  const arch = execFileSync('cc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  execFileSync('clang', [
    '-target', 'bpf', '-mcpu=v3', '-g', '-O2', '-Wall', '-Werror', '-Wno-unused-function', '-DXDP_ROOT_NO_CAPTURE',
    '-I', join(root, 'bpf', 'include'), '-I', join(root, 'ext', 'libbpf', 'usr', 'include'), '-idirafter', `/usr/include/${arch}`,
    '-c', source, '-o', obj,
  ], { stdio: 'inherit' });
  return obj;
}

const frame = udpFrame({
  srcMac: '02:00:00:00:00:02',
  dstMac: '02:00:00:00:00:01',
  srcIp: '198.18.0.2',
  dstIp: '198.18.0.1',
  srcPort: 40000,
  dstPort: 9000,
  payload: Buffer.alloc(18),
});

/** One chain: a pin root holding the shared slot and stats maps, and the objects in it. */
class Chain {
  readonly dir = mkdtempSync('/sys/fs/bpf/lbn-bench-');
  readonly objects: BpfObject[] = [];
  root: BpfProgram | undefined;

  async add(path: string, globals: Record<string, unknown>): Promise<BpfObject> {
    const obj = BpfObject.open(path, { pinRoot: this.dir });
    for (const [k, v] of Object.entries(globals)) if (obj.globals.has(k)) obj.globals.set(k, v);
    // Slots share the root's maps by reuse, as RootArray does (they are not pinned by name).
    const first = this.objects[0];
    if (first) for (const m of ['xdp_root_slots', 'xdp_root_stats', 'xdp_root_capcfg', 'xdp_root_capbuf', '.data.xdp_capon']) if (obj.maps.some((x) => x.name === m) && first.maps.some((x) => x.name === m)) obj.map(m).reuse(first.map(m));
    await obj.load();
    this.objects.push(obj);
    return obj;
  }

  async withRoot(nslots: number, passMeta = false, object = shipped('xdp_root')): Promise<this> {
    const obj = await this.add(object, { xdp_root_nslots: nslots, xdp_root_pass_meta: passMeta });
    this.root = obj.program('xdp_root');
    return this;
  }

  async slot(slot: number, path: string, nslots: number): Promise<BpfProgram> {
    const obj = await this.add(path, { xdp_root_slot: slot, xdp_root_nslots: nslots });
    const prog = obj.programs.find((p) => p.type === 'xdp')!;
    if (this.root) this.objects[0].map('xdp_root_slots').set(slot, prog);
    return prog;
  }

  close(): void {
    for (const o of this.objects) o.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The kernel's average run time, trimmed mean over rounds (the kernel reports whole ns). */
function trimmedMean(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const cut = Math.floor(v.length / 4);
  const mid = v.slice(cut, v.length - cut);
  return mid.reduce((a, b) => a + b, 0) / mid.length;
}

interface Case {
  name: string;
  prog: BpfProgram;
  runs: number[];
}

async function main(): Promise<void> {
  const chains: Chain[] = [];
  const capOff: number[] = [];
  const capOn: number[] = [];
  const capCounts = { captured: 0n, lost: 0n, received: 0 };
  const offPairs: number[] = [];
  const live: Record<string, number[]> = {};
  const cases = new Map<string, Case>();
  const add = async (name: string, setup: (c: Chain) => Promise<BpfProgram>): Promise<void> => {
    const chain = new Chain();
    chains.push(chain);
    cases.set(name, { name, prog: await setup(chain), runs: [] });
  };
  try {
    // A minimal program: what BPF_PROG_TEST_RUN itself costs per run.
    await add('xdp_pass', (c) => c.slot(0, shipped('xdp_pass'), 1));
    // The program under test: slot_count (counts in its own map, ends with xdp_root_return).
    // Alone with nslots 1, so it attempts no tail call after itself.
    await add('alone', (c) => c.slot(0, fixture('slot_count'), 1));
    await add('slot0', async (c) => {
      await c.withRoot(1);
      await c.slot(0, fixture('slot_count'), 1);
      return c.root!;
    });
    await add('slot7', async (c) => {
      await c.withRoot(8);
      await c.slot(7, fixture('slot_count'), 8);
      return c.root!;
    });
    await add('chain3', async (c) => {
      await c.withRoot(3);
      for (let s = 0; s < 3; s++) await c.slot(s, fixture('slot_count'), 3);
      return c.root!;
    });
    await add('chain4', async (c) => {
      await c.withRoot(4);
      for (let s = 0; s < 4; s++) await c.slot(s, fixture('slot_count'), 4);
      return c.root!;
    });
    // The metadata handoff: root + xdp_filter + xdp_counter, parsing in each slot or once in the root.
    for (const passMeta of [false, true]) {
      await add(passMeta ? 'metaOn' : 'metaOff', async (c) => {
        await c.withRoot(2, passMeta);
        await c.slot(0, shipped('xdp_filter'), 2);
        await c.slot(1, shipped('xdp_counter'), 2);
        return c.root!;
      });
    }
    // Capture off: slot0 (today's objects, capture compiled in and switched off) against the same
    // chain built without capture (-DXDP_ROOT_NO_CAPTURE).
    const noCapRoot = buildNoCapture(join(root, 'bpf', 'xdp_root.bpf.c'), 'xdp_root');
    const noCapSlot = buildNoCapture(join(root, 'test', 'bpf', 'slot_count.bpf.c'), 'slot_count');
    await add('slot0NoCapture', async (c) => {
      await c.withRoot(1, false, noCapRoot);
      await c.slot(0, noCapSlot, 1);
      return c.root!;
    });
    // Rounds interleave the cases, so a slow spell of the machine hits all of them alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases.values()) {
        const r = await c.prog.testRunAsync({ data: frame, repeat: REPEAT });
        if (r.action !== 'XDP_PASS') throw new Error(`${c.name} returned ${r.action}`);
        c.runs.push(r.durationNs);
      }
    }
    // Capture off, paired: slot0 and slot0NoCapture back to back (order alternating) in each of
    // OFF_ROUNDS short rounds; the differences within a round share the machine's slow spells,
    // which two separate means do not.
    for (let round = 0; round < OFF_ROUNDS; round++) {
      const order = round % 2 === 0 ? ['slot0', 'slot0NoCapture'] : ['slot0NoCapture', 'slot0'];
      const ns: Record<string, number> = {};
      for (const name of order) ns[name] = (await cases.get(name)!.prog.testRunAsync({ data: frame, repeat: OFF_REPEAT })).durationNs;
      offPairs.push(ns.slot0! - ns.slot0NoCapture!);
    }
    // Capture on: slot0's chain with capture of XDP_PASS on slot 0 (whole 60-byte frames) and a
    // reader draining the perf buffer, against capture off, both at CAP_REPEAT runs per test run.
    {
      const chain = chains[[...cases.keys()].indexOf('slot0')]!;
      const cfg = chain.objects[0]!.map('xdp_root_capcfg').typed<number, Buffer[], number, Buffer[]>({ value: rawCodec(128, 'capture settings') as never });
      const on = Buffer.alloc(128);
      on.writeUInt32LE(1 << 2, 0); // actions: XDP_PASS
      on.writeUInt32LE(65000, 4); // snaplen
      const off = Buffer.alloc(128);
      const ncpu = cfg.get(0)!.length;
      // The per-slot switch word that every packet reads (xdp_root_capture_on[0]).
      const onWord = chain.objects[0]!.map('.data.xdp_capon').typed<number, Buffer, number, Buffer>({ value: rawCodec(128, 'capture switches') as never });
      const switchOn = Buffer.alloc(128);
      switchOn.writeUInt32LE(1 << 2, 0);
      const reader = new PerfBuffer(chain.objects[0]!.map('xdp_root_capbuf'), { pagesPerCpu: 256 });
      let received = 0;
      const draining = (async () => {
        for await (const rec of reader) if (rec.length >= 92) received++;
      })();
      const slot0 = cases.get('slot0')!.prog;
      const captured = (): bigint => cfg.get(0)!.reduce((n, b) => n + b.readBigUInt64LE(40), 0n);
      const lost = (): bigint => cfg.get(0)!.reduce((n, b) => n + b.readBigUInt64LE(48), 0n);
      for (let round = 0; round < CAP_ROUNDS; round++) {
        onWord.set(0, off);
        cfg.set(0, Array(ncpu).fill(off));
        capOff.push((await slot0.testRunAsync({ data: frame, repeat: CAP_REPEAT })).durationNs);
        cfg.set(0, Array(ncpu).fill(on));
        onWord.set(0, switchOn);
        const r = await slot0.testRunAsync({ data: frame, repeat: CAP_REPEAT });
        capOn.push(r.durationNs);
        capCounts.captured += captured();
        capCounts.lost += lost();
        // Let the reader drain before the next round (bounded).
        for (let i = 0; i < 100 && BigInt(received) < capCounts.captured; i++) await new Promise((res) => setTimeout(res, 1));
      }
      onWord.set(0, off);
      cfg.set(0, Array(ncpu).fill(off));
      await new Promise((res) => setTimeout(res, 50));
      reader.close();
      await draining;
      capCounts.received = received;
    }
    // Live frames: the same frame injected into a veth's receive path in a namespace of our
    // own (the kit's), through the bare program and through root + 3 slots. Its destination MAC
    // is not the veth's, so past XDP_PASS the stack drops it at once: nothing is sent anywhere.
    const net = await VethPair.create();
    try {
      for (let round = 0; round < LIVE_ROUNDS; round++) {
        for (const name of ['alone', 'chain3']) {
          const r = await cases.get(name)!.prog.testRunAsync({ data: frame, repeat: LIVE_FRAMES, live: { ingress: net.b.ifname, netns: net.b.netnsPath } });
          (live[name] ??= []).push(r.framesPerSecond ?? 0);
        }
      }
    } finally {
      await net.close();
    }
  } finally {
    for (const chain of chains) chain.close();
  }
  const t = (name: string): number => trimmedMean(cases.get(name)!.runs);
  const work = t('alone') - t('xdp_pass'); // what slot_count itself does, without the harness
  const perFilled = t('slot0') - t('alone'); // root + one tail call, for one filled slot
  const perEmpty = (t('slot7') - t('slot0')) / 7; // a failed tail call per empty slot
  const perChained = (t('chain4') - t('slot0')) / 3 - work; // each further filled slot, minus its own work
  const meta = t('metaOn') - t('metaOff');
  const sortedPairs = [...offPairs].sort((a, b) => a - b);
  // The kernel reports whole ns per run: the trimmed mean over many rounds resolves fractions.
  const captureOff = trimmedMean(offPairs);
  const offIqr = [sortedPairs[Math.floor(sortedPairs.length / 4)]!, sortedPairs[Math.floor((sortedPairs.length * 3) / 4)]!];
  const captureOn = trimmedMean(capOn) - trimmedMean(capOff);
  const rows: [string, number, string][] = [
    ['xdp_pass alone (test-run harness)', t('xdp_pass'), ''],
    ['slot_count alone', t('alone'), `its own work: ${work.toFixed(1)} ns`],
    ['root + slot_count in slot 0', t('slot0'), `filled slot: +${perFilled.toFixed(1)} ns (target <= 3 ns)`],
    ['root + slot_count in slot 7 (0-6 empty)', t('slot7'), `empty slot: +${perEmpty.toFixed(2)} ns each (target <= 1 ns)`],
    ['root + 4 x slot_count chained', t('chain4'), `each further filled slot: +${perChained.toFixed(1)} ns over its own work (target <= 3 ns)`],
    ['root + xdp_filter + xdp_counter, meta off', t('metaOff'), ''],
    ['root + xdp_filter + xdp_counter, meta on', t('metaOn'), `metadata handoff: ${meta >= 0 ? '+' : ''}${meta.toFixed(1)} ns`],
    ['root + slot_count in slot 0, built without capture', t('slot0NoCapture'), `capture off: ${captureOff >= 0 ? '+' : ''}${captureOff.toFixed(2)} ns per packet, trimmed mean of ${OFF_ROUNDS} paired rounds (quartiles ${offIqr[0].toFixed(1)} to ${offIqr[1].toFixed(1)}; target <= 0.5 ns)`],
    [`root + slot_count in slot 0, capture off (${CAP_REPEAT} runs)`, trimmedMean(capOff), ''],
    [`root + slot_count in slot 0, capturing every frame`, trimmedMean(capOn), `capture on: +${captureOn.toFixed(1)} ns per captured frame (${capCounts.captured} captured, ${capCounts.lost} lost, ${capCounts.received} read)`],
  ];
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const pps = { alone: median(live.alone!), chain3: median(live.chain3!) };
  rows.push(['live frames: slot_count alone', 1e9 / pps.alone, `${(pps.alone / 1e6).toFixed(2)} Mpps`]);
  rows.push(['live frames: root + 3 x slot_count', 1e9 / pps.chain3, `${(pps.chain3 / 1e6).toFixed(2)} Mpps, ${((pps.chain3 / pps.alone) * 100).toFixed(0)}% of the bare program's rate`]);
  console.log(`XDP root array: BPF_PROG_TEST_RUN, ${REPEAT} runs per round, ${ROUNDS} interleaved rounds, trimmed mean; 60-byte UDP frame;`);
  console.log(`  live frames: ${LIVE_FRAMES} per round into a veth of our own namespace, ${LIVE_ROUNDS} interleaved rounds, median`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [name, v, note] of rows) console.log(`  ${name.padEnd(w)}  ${v.toFixed(1).padStart(7)} ns  ${note}`);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'root-array.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        repeat: REPEAT,
        rounds: ROUNDS,
        ns: Object.fromEntries([...cases.keys()].map((k) => [k, t(k)])),
        livePps: pps,
        overhead: { perFilledSlot: perFilled, perEmptySlot: perEmpty, perChainedSlot: perChained, metaHandoff: meta, captureOff, captureOnPerFrame: captureOn },
        capture: { offPairedRounds: OFF_ROUNDS, offRepeat: OFF_REPEAT, offQuartiles: offIqr, repeat: CAP_REPEAT, rounds: CAP_ROUNDS, captured: String(capCounts.captured), lost: String(capCounts.lost), read: capCounts.received },
        targets: { perFilledSlot: 3, perEmptySlot: 1, perChainedSlot: 3, captureOff: 0.5 },
      },
      null,
      2,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
