// attachPerfEvent with a software event (cpu-clock): this machine has no hardware PMU.
import { expect, it } from 'vitest';
import { attachPerfEvent, BpfFeatureError, BpfObject, features, onlineCpus } from '../../lib/index';
import { fixturePath } from '../support/helpers';
import { describeWith, itWith, itWithout } from '../support/kernel';

/** The fixture, without the cookie program where the kernel has no cookies (before 5.15). */
async function loaded(): Promise<BpfObject> {
  const obj = BpfObject.open(fixturePath('attach_perf_event'));
  obj.program('on_sample_cookie').autoload = features.has('attach-cookie');
  await obj.load();
  return obj;
}

/** Spins the CPU for `ms` so that cpu-clock samples fire. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
}

describeWith('perf-event', 'attachPerfEvent', () => {
  it('runs the program on cpu-clock samples of every CPU', async () => {
    using obj = await loaded();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000 });
    expect(links.cpus).toEqual(onlineCpus());
    expect(links.links.length).toBe(onlineCpus().length);
    spin(100);
    // 1 ms period: ~100 samples on the spinning CPU alone; a loose lower bound.
    expect(obj.globals.get('samples')).toBeGreaterThan(10n);
    links.close();
    const after = obj.globals.get('samples') as bigint;
    spin(30);
    expect(obj.globals.get('samples')).toBe(after);
  });

  itWith('attach-cookie', 'passes the cookie to the program', async () => {
    using obj = await loaded();
    using links = attachPerfEvent(obj.program('on_sample_cookie'), { event: 'cpu-clock', samplePeriod: 1_000_000, cookie: 7n });
    spin(100);
    expect(obj.globals.get('samples')).toBeGreaterThan(0n);
    expect(obj.globals.get('last_cookie')).toBe(7n);
  });

  itWithout('attach-cookie', 'refuses a cookie up front before 5.15, naming the feature', async () => {
    using obj = await loaded();
    expect(() => attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000, cookie: 7n })).toThrow(BpfFeatureError);
    expect(() => attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000, cookie: 7n })).toThrow(/with a cookie.*'attach-cookie'.*Linux 5\.15/);
  });

  itWith('perf-link', 'is a kernel BPF link from 5.15: info names it', async () => {
    using obj = await loaded();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000, cpus: [0] });
    expect(links.links[0]!.info()).toMatchObject({ type: 'perf_event', progId: obj.program('on_sample').id });
  });

  itWithout('perf-link', 'before 5.15 is a perf event: link info, pins and updates name the feature', async () => {
    using obj = await loaded();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'cpu-clock', samplePeriod: 1_000_000, cpus: [0] });
    const link = links.links[0]!;
    expect(() => link.info()).toThrow(BpfFeatureError);
    expect(() => link.info()).toThrow(/'perf-link'.*Linux 5\.15/);
    expect(() => link.pin(`/sys/fs/bpf/libbpf-node-test-perf-link-${process.pid}`)).toThrow(BpfFeatureError);
    expect(() => link.update(obj.program('on_sample'))).toThrow(BpfFeatureError);
    link.close();
    expect(link.closed).toBe(true);
  });

  it('follows one process with a frequency', async () => {
    using obj = await loaded();
    using links = attachPerfEvent(obj.program('on_sample'), { event: 'task-clock', frequency: 1000, pid: process.pid });
    expect(links.cpus).toEqual([-1]);
    spin(100);
    expect(obj.globals.get('samples')).toBeGreaterThan(0n);
  });

  it('checks the event and the rate', async () => {
    using obj = await loaded();
    const p = obj.program('on_sample');
    expect(() => attachPerfEvent(p, { event: 'no-such-event' as never, frequency: 1 })).toThrow(/unknown event 'no-such-event'/);
    expect(() => attachPerfEvent(p, { event: 'cpu-clock' })).toThrow(/samplePeriod and options.frequency/);
    expect(() => attachPerfEvent(p, { event: 'cpu-clock', frequency: 10, samplePeriod: 5 })).toThrow(RangeError);
    // A CPU this machine cannot have is refused before the syscall, naming the option.
    expect(() => attachPerfEvent(p, { event: 'cpu-clock', frequency: 10, cpus: [100000] })).toThrow(/^options\.cpus\[0\] must be a CPU number in/);
  });

  it('refuses auto-attach, naming attachPerfEvent', async () => {
    using obj = await loaded();
    expect(() => obj.program('on_sample').attach()).toThrow(/attachPerfEvent\(/);
  });
});
