// Explicit kprobe and tracepoint attach. This machine has no kprobes and no tracefs mounted: those
// tests skip by feature probe (the title says which), and the up-front refusal is checked instead.
// Raw tracepoints need neither and always run; their cookies need 6.10.
import { expect, it } from 'vitest';
import { attachKprobe, attachKprobeMulti, attachRawTracepoint, attachTracepoint, BpfFeatureError, BpfObject, features } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { describeWith, describeWithout, itWith, itWithout } from '../support/kernel';

async function loaded(): Promise<BpfObject> {
  const obj = BpfObject.open(fixturePath('attach_kprobe'));
  obj.globals.set('target_tgid', process.pid);
  // The verifier refuses the cookie helper in raw tracepoints before 6.10.
  obj.program('on_raw_cookie').autoload = features.has('raw-tp-cookie');
  await obj.load();
  return obj;
}

describeWith('kprobe', 'attachKprobe', () => {
  it('counts calls of a kernel function made by this process', async () => {
    using obj = await loaded();
    using link = attachKprobe(obj.program('on_kprobe'), { func: '__x64_sys_getppid' });
    expect(link.closed).toBe(false);
    for (let i = 0; i < 3; i++) void process.ppid;
    expect(obj.globals.get('kprobe_hits')).toBeGreaterThanOrEqual(3n);
  });
});

describeWithout('kprobe', 'attachKprobe on a kernel without kprobes', () => {
  it('refuses up front, naming the feature and its minimum kernel', async () => {
    using obj = await loaded();
    for (const call of [() => attachKprobe(obj.program('on_kprobe'), { func: 'do_sys_openat2' }), () => attachKprobeMulti(obj.program('on_kprobe'), { pattern: 'tcp_*' })]) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BpfFeatureError);
      expect((err as BpfFeatureError).feature).toBe('kprobe');
      expect((err as Error).message).toMatch(/kprobes.*Linux 4\.17/);
    }
  });
});

describeWith('tracefs', 'attachTracepoint', () => {
  it('counts a tracepoint fired by this process', async () => {
    using obj = await loaded();
    using link = attachTracepoint(obj.program('on_tracepoint'), 'syscalls', 'sys_enter_getppid');
    expect(link.closed).toBe(false);
    for (let i = 0; i < 3; i++) void process.ppid;
    expect(obj.globals.get('tp_hits')).toBeGreaterThanOrEqual(3n);
  });
});

describeWithout('tracefs', 'attachTracepoint without tracefs', () => {
  it('refuses up front, naming tracefs', async () => {
    using obj = await loaded();
    expect(() => attachTracepoint(obj.program('on_tracepoint'), 'sched', 'sched_switch')).toThrow(/tracefs/);
  });
});

describeBpf('attachRawTracepoint', () => {
  it('counts this process\'s syscalls, whatever the section name says', async () => {
    using obj = await loaded();
    const link = attachRawTracepoint(obj.program('on_raw'), 'sys_enter');
    for (let i = 0; i < 3; i++) void process.ppid;
    link.close();
    const hits = obj.globals.get('raw_hits') as bigint;
    expect(hits).toBeGreaterThanOrEqual(3n);
    void process.ppid;
    expect(obj.globals.get('raw_hits')).toBe(hits);
  });

  itWith('raw-tp-cookie', 'passes the cookie to the program', async () => {
    using obj = await loaded();
    using link = attachRawTracepoint(obj.program('on_raw_cookie'), 'sys_enter', { cookie: 99 });
    for (let i = 0; i < 3; i++) void process.ppid;
    expect(obj.globals.get('raw_cookie_hits')).toBeGreaterThanOrEqual(3n);
    expect(obj.globals.get('raw_cookie')).toBe(99n);
  });

  itWithout('raw-tp-cookie', 'refuses a cookie up front where raw tracepoints have none, naming the feature', async () => {
    using obj = await loaded();
    let err: unknown;
    try {
      attachRawTracepoint(obj.program('on_raw'), 'sys_enter', { cookie: 99 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfFeatureError);
    expect((err as BpfFeatureError).feature).toBe('raw-tp-cookie');
    expect((err as Error).message).toMatch(/attachRawTracepoint with a cookie.*Linux 6\.10/);
  });

  it('names the unknown tracepoint, with libbpf\'s reason', async () => {
    using obj = await loaded();
    expect(() => attachRawTracepoint(obj.program('on_raw'), 'no_such_tracepoint')).toThrow(/raw tracepoint no_such_tracepoint/);
  });
});
