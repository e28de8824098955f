// Ring buffers: records as an async iterable, a 100,000-record burst with nothing lost, and
// clean stops on break, close() and AbortSignal.
// @module-tag kernel-slice
// @module-tag threads
import { expect, it } from 'vitest';
import { BpfObject, type Codec } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

const BURST = 100_000;

describeBpf('ring buffer', () => {
  it('delivers a burst of 100,000 records in order, losing none', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    // One record per run: the program numbers them and counts failed outputs.
    testRun(obj.program('xdp_ringbuf'), BURST);
    expect(obj.globals.get('rb_dropped')).toBe(0n);
    let expected = 0n;
    for await (const record of rb) {
      expect(record.length).toBe(16);
      const seq = record.readBigUInt64LE(0);
      if (seq !== expected) throw new Error(`record ${seq} arrived when ${expected} was expected`);
      expect(record.readUInt32LE(12)).toBe(0xfeedbeef);
      if (++expected === BigInt(BURST)) break;
    }
    expect(expected).toBe(BigInt(BURST));
    expect(rb.closed).toBe(true); // break closed it
  });

  it('batches(): the same burst as one batch per wake-up, in order; a reader is read one way only', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using rb = obj.ringbuf('events');
    testRun(obj.program('xdp_ringbuf'), BURST);
    expect(obj.globals.get('rb_dropped')).toBe(0n);
    let expected = 0n;
    let batches = 0;
    const it = rb.batches();
    expect(() => rb.next()).toThrow(/batches\(\)/);
    for await (const batch of it) {
      batches++;
      expect(batch.length).toBeGreaterThan(0);
      for (let i = 0; i < batch.length; i++) {
        expect(batch.ends[i]! - batch.start(i)).toBe(16);
        const seq = batch.data.readBigUInt64LE(batch.start(i));
        if (seq !== expected) throw new Error(`record ${seq} arrived when ${expected} was expected`);
        expected++;
      }
      expect([...batch].map((r) => r.readBigUInt64LE(0))).toEqual(Array.from({ length: batch.length }, (_, i) => batch.record(i).readBigUInt64LE(0)));
      expect(() => batch.record(batch.length)).toThrow(RangeError);
      if (expected === BigInt(BURST)) break;
    }
    expect(expected).toBe(BigInt(BURST));
    expect(batches).toBeLessThan(BURST / 100); // batched, not one per record
    expect(rb.closed).toBe(true); // break closed it

    // Records first: batches() is refused.
    using rb2 = obj.ringbuf('events');
    testRun(obj.program('xdp_ringbuf'), 1);
    for await (const _ of rb2) break;
    expect(() => rb2.batches()).toThrow(/record by record/);
  });

  it('decodes records with a codec', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    const codec: Codec<{ seq: bigint; len: number; magic: number }> = {
      size: 16,
      encode() {
        throw new Error('not used');
      },
      decode: (b, o) => {
        const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
        return { seq: buf.readBigUInt64LE(o), len: buf.readUInt32LE(o + 8), magic: buf.readUInt32LE(o + 12) };
      },
    };
    using rb = obj.ringbuf('events', { codec });
    testRun(obj.program('xdp_ringbuf'), 3);
    const got = [];
    for await (const e of rb) {
      got.push(e);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0n, 1n, 2n].map((seq) => ({ seq, len: 64, magic: 0xfeedbeef })));
  });

  it('ends a waiting loop on close() and on abort, without an error', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    const rb = obj.ringbuf('events');
    const loop = (async () => {
      let n = 0;
      for await (const _ of rb) n++;
      return n;
    })();
    setImmediate(() => rb.close());
    expect(await loop).toBe(0);

    const ac = new AbortController();
    const rb2 = obj.ringbuf('events', { signal: ac.signal });
    testRun(obj.program('xdp_ringbuf'), 2);
    const seen: bigint[] = [];
    for await (const r of rb2) {
      seen.push(r.readBigUInt64LE(0));
      if (seen.length === 2) ac.abort();
    }
    expect(seen.length).toBe(2);
    expect(rb2.closed).toBe(true);
    rb2.close(); // idempotent
  });

  it('pauses at the high-water mark and resumes, losing nothing', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    const mark = 100;
    const batch = 65536; // records one native wake-up hands over at most (native/events/epoll_reader.cc)
    const total = 100_000; // several windows: a reader that ignored the mark would queue them all
    using rb = obj.ringbuf('events', { highWaterMark: mark });
    testRun(obj.program('xdp_ringbuf'), total);
    expect(obj.globals.get('rb_dropped')).toBe(0n);
    // Nobody reads: the reader fills the queue up to the mark (plus the batch that crosses it),
    // then pauses. Watch it until the count is the same over 10 turns (hang guard: 200 turns).
    const seen: number[] = [];
    for (let i = 0; i < 200 && (seen.length < 10 || seen.at(-1) !== seen.at(-10)); i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(rb.pending);
    }
    expect(Math.max(...seen)).toBeGreaterThanOrEqual(mark);
    expect(Math.max(...seen)).toBeLessThanOrEqual(mark + batch);
    expect(seen.at(-1)).toBe(seen.at(-10)); // stopped growing, far short of the total
    let n = 0;
    let most = 0;
    let outOfOrder = 0;
    for await (const r of rb) {
      if (r.readBigUInt64LE(0) !== BigInt(n)) outOfOrder++;
      most = Math.max(most, rb.pending);
      if (++n === total) break;
    }
    expect(n).toBe(total);
    expect(outOfOrder).toBe(0);
    expect(most).toBeLessThanOrEqual(mark + batch); // at most one native batch past the mark
  });

  it('refuses maps that are not ring buffers, and use before load', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    expect(() => obj.ringbuf('events')).toThrow(/not loaded/);
    await obj.load();
    expect(() => obj.ringbuf('perf_events')).toThrow(/not a ringbuf/);
    expect(() => obj.map('events').get(0)).toThrow(/ringbuf/);
  });
});
