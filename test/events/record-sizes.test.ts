// Every record size from 1 to 48 bytes arrives intact through ring and perf buffers: the native
// reader copies small records with fixed-size moves (native/events/epoll_reader.h), so each size
// and each byte is checked, in subscribe(fn) and batches() (for await rides on batches).
import { expect, it } from 'vitest';
import { BpfObject, type RecordBatch } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

const MAX_SIZE = 48;
const COUNT = MAX_SIZE * 20;

/**
 * '' when `rec` is record `n` of the fixture, else what differs. A perf sample's raw data is
 * padded by the kernel (its 4-byte size and the data end on 8 bytes): `perf` checks that length.
 */
function mismatch(n: number, rec: Buffer, perf = false): string {
  const size = (n % MAX_SIZE) + 1;
  const length = perf ? ((size + 4 + 7) & ~7) - 4 : size;
  if (rec.length !== length) return `record ${n}: ${rec.length} bytes, expected ${length}`;
  for (let i = 0; i < size; i++) if (rec[i] !== ((n * 7 + i) & 0xff)) return `record ${n} (${size} bytes): byte ${i} is ${rec[i]}, expected ${(n * 7 + i) & 0xff}`;
  return '';
}

/** Reads `count` records from the batches of `it`, checking each; hang guard 10 s. */
async function checkBatches(it: AsyncIterator<RecordBatch>, count: number, perf = false): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 10_000)));
  let n = 0;
  let bad = '';
  try {
    while (n < count) {
      const r = await Promise.race([it.next(), timeout]);
      if (r === 'timeout' || r.done) break;
      for (const rec of r.value) bad ||= mismatch(n++, rec, perf);
    }
  } finally {
    clearTimeout(timer);
  }
  return bad || (n === count ? '' : `${n} of ${count} records`);
}

describeBpf('record sizes', () => {
  it('ring buffer: records of 1 to 48 bytes, byte for byte, through subscribe(fn) and batches()', async () => {
    using obj = BpfObject.open(fixturePath('event_sizes'));
    await obj.load();
    const prog = obj.program('xdp_sized_ringbuf');

    using rb = obj.ringbuf('sized_events');
    let n = 0;
    let bad = '';
    rb.subscribe((data, offset, length) => {
      bad ||= mismatch(n++, data.subarray(offset, offset + length));
    });
    testRun(prog, COUNT);
    const end = Date.now() + 10_000;
    while (n < COUNT && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
    expect(bad).toBe('');
    expect(n).toBe(COUNT);
    rb.close();

    using rb2 = obj.ringbuf('sized_events');
    obj.globals.set('rb_n', 0n);
    testRun(prog, COUNT);
    expect(obj.globals.get('sized_dropped')).toBe(0n);
    expect(await checkBatches(rb2.batches(), COUNT)).toBe('');
  });

  it('perf buffer: records of 1 to 48 bytes, byte for byte, through batches()', async () => {
    using obj = BpfObject.open(fixturePath('event_sizes'));
    await obj.load();
    using pb = obj.perfbuf('sized_perf');
    testRun(obj.program('xdp_sized_perf'), COUNT); // one CPU: its records in order
    expect(await checkBatches(pb.batches(), COUNT, true)).toBe('');
    expect(pb.lost).toBe(0);
  });
});
