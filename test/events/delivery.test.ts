// The three ways of reading a ring or perf buffer (subscribe(fn), batches(), for await) and the
// lifetime of what each hands out: subscribe's record only during the call, a batch until the
// next turn of its loop (the reader reuses its buffers), for-await records for good.
import { expect, it } from 'vitest';
import { BpfObject, BpfStateError, type RecordBatch } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

const BURST = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` is true, polling each turn of the loop; rejects after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(1);
  }
}

describeBpf('event delivery', () => {
  it('subscribe(fn): every record of a 100,000-record burst, in order, one call each, no promise', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    let next = 0n;
    let bad = '';
    let lastData: Buffer | undefined;
    let buffers = 0;
    rb.subscribe((data, offset, length) => {
      if (data !== lastData) buffers++;
      lastData = data;
      if (length !== 16) bad ||= `length ${length}`;
      const seq = data.readBigUInt64LE(offset);
      if (seq !== next) bad ||= `record ${seq} arrived when ${next} was expected`;
      if (data.readUInt32LE(offset + 12) !== 0xfeedbeef) bad ||= `bad magic at ${seq}`;
      next++;
    });
    testRun(obj.program('xdp_ringbuf'), BURST);
    expect(obj.globals.get('rb_dropped')).toBe(0n);
    await until(() => next === BigInt(BURST) || bad !== '');
    expect(bad).toBe('');
    // The records came in the reader's reused buffer: the same Buffer each call (it grows, so at
    // most a few distinct ones), not one object per record or batch.
    expect(buffers).toBeLessThan(8);
    rb.close();
    testRun(obj.program('xdp_ringbuf'), 10);
    await sleep(120); // more than the 50 ms safety-net drain
    expect(next).toBe(BigInt(BURST)); // nothing after close()
  });

  it('subscribe(fn) on a perf buffer; one consumer per reader; bad arguments change nothing', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using perf = obj.perfbuf('perf_events', { pagesPerCpu: 64 });
    expect(() => perf.subscribe(42 as unknown as () => void)).toThrow(TypeError);
    const seen: bigint[] = [];
    perf.subscribe((data, offset) => {
      seen.push(data.readBigUInt64LE(offset));
    });
    expect(() => perf.subscribe(() => {})).toThrow(BpfStateError);
    expect(() => perf.batches()).toThrow(/subscribe\(\)/);
    expect(() => perf.next()).toThrow(/subscribe\(\)/);
    testRun(obj.program('xdp_perf'), 1000);
    await until(() => seen.length === 1000);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(i)));
    expect(perf.lost).toBe(0);
    perf.close();
    expect(() => perf.subscribe(() => {})).toThrow(/closed/);

    using rb = obj.ringbuf('events');
    const it = rb.batches();
    expect(() => rb.subscribe(() => {})).toThrow(/batches\(\)/);
    await it.return!();
  });

  it('subscribe(fn) after records arrived: they are delivered too; drops are the kernel\'s only', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    // More than the 8 MiB ring holds (349,525 records of 16 bytes + an 8-byte header), nobody
    // reading yet: the last ones are dropped by the kernel and counted by the program.
    const runs = 400_000;
    testRun(obj.program('xdp_ringbuf'), runs);
    const dropped = Number(obj.globals.get('rb_dropped'));
    expect(dropped).toBeGreaterThan(0);
    await sleep(120); // the reader takes a first batch meanwhile (queued: nobody subscribed yet)
    let n = 0;
    let ordered = true;
    rb.subscribe((data, offset) => {
      if (data.readBigUInt64LE(offset) !== BigInt(n)) ordered = false;
      n++;
    });
    await until(() => n === runs - dropped);
    expect(ordered).toBe(true);
    await sleep(120);
    expect(n).toBe(runs - dropped);
  });

  it('batches(): the reader reuses its buffer while the loop keeps up; a batch held across a turn is never overwritten', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    const it = rb.batches();
    const prog = obj.program('xdp_ringbuf');

    testRun(prog, 100);
    const first = (await it.next()).value as RecordBatch;
    const firstSeqs = [...first].map((r) => r.readBigUInt64LE(0));
    expect(firstSeqs).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    const kept = first.copy();
    // Held: more records arrive and are drained (the safety-net timer runs every 50 ms) while
    // this loop still holds `first`. They go to memory of their own, not into first's buffer.
    testRun(prog, 100);
    await sleep(150);
    expect(rb.pending).toBe(100);
    expect([...first].map((r) => r.readBigUInt64LE(0))).toEqual(firstSeqs);
    const second = (await it.next()).value as RecordBatch;
    expect(second.data.buffer).not.toBe(first.data.buffer);
    expect(second.record(0).readBigUInt64LE(0)).toBe(100n);

    // Keeping up: the next batches come in the reused buffer again (first's), which is why a
    // batch is valid only until the next turn; copy() keeps one.
    const buffers = new Set<ArrayBufferLike>();
    let seq = 200n;
    for (let round = 0; round < 3; round++) {
      const pending = it.next();
      testRun(prog, 10);
      const b = (await pending).value as RecordBatch;
      buffers.add(b.data.buffer);
      for (const r of b) expect(r.readBigUInt64LE(0)).toBe(seq++);
    }
    expect([...buffers]).toEqual([first.data.buffer]);
    expect(first.record(0).readBigUInt64LE(0)).not.toBe(0n); // overwritten: its turn is over
    expect([...kept].map((r) => r.readBigUInt64LE(0))).toEqual(firstSeqs); // the copy is intact
    await it.return!();
    expect(rb.closed).toBe(true);
  });

  it('for await: records are kept for good, and the kernel is drained in batches whatever the loop\'s pace', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    const prog = obj.program('xdp_ringbuf');
    testRun(prog, 3000);
    const kept: Buffer[] = [];
    for await (const r of rb) {
      kept.push(r);
      if (kept.length === 1) {
        // While this loop holds its first record, the reader drains the rest of the ring.
        testRun(prog, 3000);
        await sleep(150);
        expect(rb.pending).toBe(5999);
      }
      if (kept.length === 6000) break;
    }
    expect(kept.map((r) => r.readBigUInt64LE(0))).toEqual(Array.from({ length: 6000 }, (_, i) => BigInt(i)));
  });

  it('for await: a loop that never yields to the event loop still drains the kernel, so a producer four times faster loses nothing', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    // The ring holds about 349,000 records; 650,000 are written while the loop reads 160,000,
    // without a turn of the event loop in between (each next() finds records queued).
    using rb = obj.ringbuf('events', { highWaterMark: 1 << 20 });
    const prog = obj.program('xdp_ringbuf');
    testRun(prog, 50_000);
    let n = 0;
    let cycles = 0;
    let outOfOrder = 0;
    for await (const r of rb) {
      if (r.readBigUInt64LE(0) !== BigInt(n)) outOfOrder++;
      n++;
      if (n % 10_000 === 0 && cycles < 15) {
        testRun(prog, 40_000);
        cycles++;
        if (obj.globals.get('rb_dropped') !== 0n) break; // lost records would never come: no hang
      }
      if (n === 650_000) break;
    }
    expect(obj.globals.get('rb_dropped')).toBe(0n);
    expect(n).toBe(650_000);
    expect(outOfOrder).toBe(0);
  });
});
