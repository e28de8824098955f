// Perf event arrays: the same async-iterable interface as ring buffers, with lost-sample counts.
// @module-tag kernel-slice
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

describeBpf('perf buffer', () => {
  it('delivers samples in order when the rings have room', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using perf = obj.perfbuf('perf_events', { pagesPerCpu: 64 });
    testRun(obj.program('xdp_perf'), 1000);
    let n = 0;
    for await (const s of perf) {
      expect(s.readBigUInt64LE(0)).toBe(BigInt(n));
      if (++n === 1000) break;
    }
    expect(perf.lost).toBe(0);
  });

  it('counts the samples the kernel dropped when a ring is full', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    using perf = obj.perfbuf('perf_events', { pagesPerCpu: 1 });
    const runs = 20_000; // far more than one 4 KiB ring holds
    // The kernel reports a CPU's drops with the next sample it manages to write on that CPU's
    // ring: this thread runs the burst and the extra runs below on one CPU (pinned with
    // taskset(1), its affinity restored after). Unpinned, the extra runs could all land on the
    // other CPU, and the drops would never be reported (seen once in CI).
    const pid = String(process.pid); // the main thread's id
    const affinity = execFileSync('taskset', ['-cp', pid], { encoding: 'utf8' }).trim().split(': ').pop()!;
    execFileSync('taskset', ['-cp', affinity.split(/[,-]/)[0]!, pid]);
    let received = 0;
    let extra = 0;
    try {
      testRun(obj.program('xdp_perf'), runs);
      // Once we have drained the rings, more single runs make it report the drops of the burst.
      for await (const _ of perf) {
        received++;
        if (received + perf.lost === runs + extra) break;
        if (perf.pending === 0) {
          if (++extra > 10_000) throw new Error(`drops never reported: ${received} received, ${perf.lost} lost`);
          testRun(obj.program('xdp_perf'), 1);
        }
      }
    } finally {
      execFileSync('taskset', ['-cp', affinity, pid]);
    }
    expect(perf.lost).toBeGreaterThan(0);
    expect(received + perf.lost).toBe(runs + extra);
  });

  it('refuses a bad page count and maps of another type', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    expect(() => obj.perfbuf('perf_events', { pagesPerCpu: 3 })).toThrow(/power of 2/);
    expect(() => obj.perfbuf('events')).toThrow(/not a perf_event_array/);
  });
});
