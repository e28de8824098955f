// attachPerfEvent with a software event (cpu-clock): this machine has no hardware PMU.
import { expect, it } from 'vitest';
import { attachPerfEvent, BpfError, BpfObject, onlineCpus } from '../lib/index';
import { fixturePath } from './helpers';
import { describeWithFeature } from './feature-skip';

/** Spins the CPU for `ms` so that cpu-clock samples fire. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
}

describeWithFeature('perf-event', 'attachPerfEvent', () => {
  it('runs the program on cpu-clock samples of every CPU, with the cookie', async () => {
    using obj = BpfObject.open(fixturePath('attach_perf_event'));
    await obj.load();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000, cookie: 7n });
    expect(links.cpus).toEqual(onlineCpus());
    expect(links.links.length).toBe(onlineCpus().length);
    spin(100);
    // 1 ms period: ~100 samples on the spinning CPU alone; a loose lower bound.
    expect(obj.globals.get('samples')).toBeGreaterThan(10n);
    expect(obj.globals.get('last_cookie')).toBe(7n);
    links.close();
    const after = obj.globals.get('samples') as bigint;
    spin(30);
    expect(obj.globals.get('samples')).toBe(after);
  });

  it('follows one process with a frequency', async () => {
    using obj = BpfObject.open(fixturePath('attach_perf_event'));
    await obj.load();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'task-clock', frequency: 1000, pid: process.pid });
    expect(links.cpus).toEqual([-1]);
    spin(100);
    expect(obj.globals.get('samples')).toBeGreaterThan(0n);
  });

  it('checks the event and the rate', async () => {
    using obj = BpfObject.open(fixturePath('attach_perf_event'));
    await obj.load();
    const p = obj.program('on_sample');
    expect(() => attachPerfEvent(p, { event: 'no-such-event' as never, frequency: 1 })).toThrow(/unknown event 'no-such-event'/);
    expect(() => attachPerfEvent(p, { event: 'cpu-clock' })).toThrow(/samplePeriod and options.frequency/);
    expect(() => attachPerfEvent(p, { event: 'cpu-clock', frequency: 10, samplePeriod: 5 })).toThrow(RangeError);
    expect(() => attachPerfEvent(p, { event: 'cpu-clock', frequency: 10, cpus: [100000] })).toThrow(BpfError);
  });

  it('refuses auto-attach, naming attachPerfEvent', async () => {
    using obj = BpfObject.open(fixturePath('attach_perf_event'));
    await obj.load();
    expect(() => obj.program('on_sample').attach()).toThrow(/attachPerfEvent\(/);
  });
});
