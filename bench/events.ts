/**
 * `npm run bench` (events part): the consumer's own cost of ring and perf buffer readers, in ns
 * per record, against libbpf from C (and Go's cilium/ebpf when `go` and Debian's
 * golang-github-cilium-ebpf-dev are installed), in interleaved rounds in one process.
 *
 * Drain: a producer run (BPF_PROG_TEST_RUN + bpf_loop) fills the buffer, then the consumer is
 * timed from there until it has every record. Each JS reader is long-lived: one warm-up drain
 * (its reused buffers grow to their working size), then the measured drains.
 *
 * Run alone: `node dist/bench/events.js` (after `tsc -p bench/tsconfig.json`).
 *
 * @module
 */
import { BpfObject, type RingBuffer, type PerfBuffer, type RecordBatch } from '../lib/index';
import { buildBpf, loadNativeBench, type NativeBench } from './bench';
import { goPeer, type GoPeer } from './go-peer';

const RING_COUNT = 1_000_000; // more than the 16 MiB ring holds: a run fills it
const PERF_COUNT = 200_000; // more than a 4 MiB perf ring holds
const PERF_PAGES = 1024;
const ROUNDS = Number(process.env.EVENT_ROUNDS ?? 7);

/** One way of reading, driven drain by drain. */
interface Consumer {
  /** Resolves once `n` more records arrived. */
  take(n: number): Promise<void>;
  close(): void;
}

function batchesConsumer(reader: RingBuffer | PerfBuffer): Consumer {
  const it = reader.batches();
  return {
    async take(n) {
      let got = 0;
      while (got < n) {
        const r: IteratorResult<RecordBatch> = await it.next();
        if (r.done) throw new Error('reader ended');
        got += r.value.length;
      }
    },
    close: () => reader.close(),
  };
}

function subscribeConsumer(reader: RingBuffer | PerfBuffer): Consumer {
  let got = 0;
  let target = Infinity;
  let done: (() => void) | undefined;
  reader.subscribe(() => {
    if (++got === target) done!();
  });
  return {
    take(n) {
      return new Promise((resolve) => {
        got = 0;
        target = n;
        done = resolve;
      });
    },
    close: () => reader.close(),
  };
}

function recordsConsumer(reader: RingBuffer | PerfBuffer): Consumer {
  const it = reader[Symbol.asyncIterator]();
  return {
    async take(n) {
      for (let got = 0; got < n; got++) if ((await it.next()).done) throw new Error('reader ended');
    },
    close: () => reader.close(),
  };
}

const forms = { 'batches()': batchesConsumer, 'subscribe(fn)': subscribeConsumer, 'for await': recordsConsumer } as const;
type Form = keyof typeof forms;

/** ns per record of one drain through `c`: `fill` runs the producer and returns the records it wrote. */
async function jsDrain(c: Consumer, fill: () => number): Promise<number> {
  const n = fill();
  const t = process.hrtime.bigint();
  await c.take(n);
  return Number(process.hrtime.bigint() - t) / n;
}

export interface EventRow {
  buffer: string;
  record: string;
  consumer: string;
  'ns/record (min)': string;
  median: string;
  'C ns/record': string;
  ratio: string;
  target: string;
  met: string;
}

/** The events benchmark: rows ready for console.table. */
export async function eventsBench(nb: NativeBench): Promise<EventRow[]> {
  const ringObj = BpfObject.open(buildBpf('ringbuf_prod'));
  ringObj.globals.set('count', RING_COUNT);
  await ringObj.load();
  const perfObj = BpfObject.open(buildBpf('perfbuf_prod'));
  perfObj.globals.set('count', PERF_COUNT);
  await perfObj.load();
  const go: GoPeer | string = goPeer();
  // subscribe() is new: an older build (a "before" run of this benchmark) has no such form.
  const probe = ringObj.ringbuf('rb');
  const available = (Object.keys(forms) as Form[]).filter((f) => f !== 'subscribe(fn)' || typeof (probe as { subscribe?: unknown }).subscribe === 'function');
  probe.close();

  const samples = new Map<string, number[]>();
  const push = (k: string, v: number): void => void (samples.get(k) ?? samples.set(k, []).get(k)!).push(v);
  const sizes = [16, 256] as const;
  for (let round = 0; round <= ROUNDS; round++) {
    const keep = round > 0; // round 0 warms up
    for (const size of sizes) {
      // Ring buffer.
      const ringProg = ringObj.program(`produce${size}`).fd;
      const ringMap = ringObj.map('rb').fd;
      const [rec, ns] = nb.cRingDrain(ringMap, ringProg);
      if (keep) push(`ring ${size} C`, ns / rec);
      if (typeof go !== 'string') {
        const g = go.ringDrain(ringMap, ringProg, RING_COUNT);
        if (keep) push(`ring ${size} Go ReadInto`, g);
      }
      for (const form of available) {
        const c = forms[form](ringObj.ringbuf('rb', { highWaterMark: 1 << 22, highWaterBytes: 1 << 28 }));
        const fill = (): number => RING_COUNT - nb.runOnce(ringProg, 0);
        await jsDrain(c, fill);
        const v = await jsDrain(c, fill);
        c.close();
        if (keep) push(`ring ${size} ${form}`, v);
      }
      // Perf buffer.
      const perfProg = perfObj.program(`perf${size}`).fd;
      const perfMap = perfObj.map('pb').fd;
      const [prec, pns] = nb.cPerfDrain(perfMap, perfProg, PERF_PAGES);
      if (keep) push(`perf ${size} C`, pns / prec);
      if (typeof go !== 'string') {
        const g = go.perfDrain(perfMap, perfProg, PERF_COUNT, PERF_PAGES);
        if (keep) push(`perf ${size} Go ReadInto`, g);
      }
      for (const form of available) {
        const c = forms[form](perfObj.perfbuf('pb', { pagesPerCpu: PERF_PAGES, highWaterMark: 1 << 22, highWaterBytes: 1 << 28 }));
        const fill = (): number => PERF_COUNT - nb.runOnce(perfProg, 64);
        await jsDrain(c, fill);
        const v = await jsDrain(c, fill);
        c.close();
        if (keep) push(`perf ${size} ${form}`, v);
      }
    }
  }
  ringObj.close();
  perfObj.close();
  if (typeof go !== 'string') go.close();

  const min = (k: string): number => Math.min(...samples.get(k)!);
  const median = (k: string): number => [...samples.get(k)!].sort((a, b) => a - b)[samples.get(k)!.length >> 1]!;
  // Paired: the median over rounds of this form's sample / C's sample of the same round.
  const paired = (k: string, c: string): number => {
    const x = samples.get(k)!;
    const y = samples.get(c)!;
    return x.map((v, i) => v / y[i]!).sort((a, b) => a - b)[x.length >> 1]!;
  };
  const rows: EventRow[] = [];
  for (const buffer of ['ring', 'perf'] as const) {
    for (const size of sizes) {
      const cKey = `${buffer} ${size} C`;
      const goKey = `${buffer} ${size} Go ReadInto`;
      const row = (consumer: string, key: string | undefined, target: string, met: (ns: number, ratio: number) => boolean | undefined): void => {
        if (key === undefined || !samples.has(key)) {
          rows.push({ buffer, record: `${size} B`, consumer, 'ns/record (min)': 'skipped', median: '', 'C ns/record': min(cKey).toFixed(2), ratio: '', target, met: typeof go === 'string' ? go : '' });
          return;
        }
        const ratio = paired(key, cKey);
        const m = met(min(key), ratio);
        rows.push({
          buffer,
          record: `${size} B`,
          consumer,
          'ns/record (min)': min(key).toFixed(2),
          median: median(key).toFixed(2),
          'C ns/record': min(cKey).toFixed(2),
          ratio: ratio.toFixed(2),
          target,
          met: m === undefined ? '' : m ? 'yes' : 'NO',
        });
      };
      row('C (libbpf)', cKey, '', () => undefined);
      row('Go cilium/ebpf ReadInto', samples.has(goKey) ? goKey : undefined, '', () => undefined);
      const goMedian = samples.has(goKey) ? median(goKey) : undefined;
      row('batches()', `${buffer} ${size} batches()`, goMedian === undefined ? '<= 2x C' : '<= 2x C, < Go', (ns, r) => r <= 2 && (goMedian === undefined || median(`${buffer} ${size} batches()`) < goMedian));
      row('subscribe(fn)', `${buffer} ${size} subscribe(fn)`, size === 16 ? '<= 30 ns' : '', (ns) => (size === 16 ? ns <= 30 : undefined));
      row('for await', `${buffer} ${size} for await`, '', () => undefined);
    }
  }
  return rows;
}

if (require.main === module) {
  (async () => {
    const rows = await eventsBench(loadNativeBench());
    console.log(`events: drain of a filled buffer (ring 16 MiB; perf ${PERF_PAGES} pages per CPU), ns per record, ${ROUNDS} interleaved rounds; ratio = median over rounds of form/C in the same round`);
    console.table(rows);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
