// attachUprobe on a function of a binary the build compiles (test/bin/uprobe_target.c).
import { afterEach, expect, it } from 'vitest';
import { attachUprobe, BpfError, BpfFeatureError, BpfObject, features } from '../../lib/index';
import { fixturePath } from '../support/helpers';
import { describeWith, itWith, itWithout } from '../support/kernel';
import { startTarget, targetPath, type Target } from '../support/probe-targets';

/** The fixture, without the cookie program where the kernel has no cookies (before 5.15). */
async function loaded(): Promise<BpfObject> {
  const obj = BpfObject.open(fixturePath('attach_uprobe'));
  obj.program('on_target_cookie').autoload = features.has('attach-cookie');
  await obj.load();
  return obj;
}

describeWith('uprobe', 'attachUprobe', () => {
  let target: Target | undefined;
  afterEach(() => target?.kill());

  it('counts the entries and returns of one process', async () => {
    using obj = await loaded();
    target = startTarget('uprobe_target', ['7']);
    using entry = attachUprobe(obj.program('on_target'), { binary: targetPath('uprobe_target'), func: 'libbpf_node_target', pid: target.pid });
    using ret = attachUprobe(obj.program('on_target_ret'), { binary: targetPath('uprobe_target'), func: 'libbpf_node_target', pid: target.pid, retprobe: true });
    // Before 5.15 the attachment is a perf event, not a BPF link: no link info, and it says so.
    if (features.has('perf-link')) expect(entry.info().type).toMatch(/perf_event|uprobe/);
    else expect(() => entry.info()).toThrow(/BpfLink.info\(\) on a perf event attachment.*'perf-link'.*Linux 5\.15/);
    expect((await target.go()).trim()).toBe('7');
    expect(obj.globals.get('entries')).toBe(7n);
    expect(obj.globals.get('returns')).toBe(7n);
    expect(obj.globals.get('last_tgid')).toBe(target.pid);
    ret.close();
  });

  itWith('attach-cookie', 'passes the cookie to the program', async () => {
    using obj = await loaded();
    target = startTarget('uprobe_target', ['2']);
    using entry = attachUprobe(obj.program('on_target_cookie'), { binary: targetPath('uprobe_target'), func: 'libbpf_node_target', pid: target.pid, cookie: 0xfeedn });
    await target.go();
    expect(obj.globals.get('cookie_entries')).toBe(2n);
    expect(obj.globals.get('last_cookie')).toBe(0xfeedn);
  });

  itWithout('attach-cookie', 'refuses a cookie up front before 5.15, naming the feature', async () => {
    using obj = await loaded();
    const call = () => attachUprobe(obj.program('on_target'), { binary: targetPath('uprobe_target'), func: 'libbpf_node_target', cookie: 1n });
    expect(call).toThrow(BpfFeatureError);
    expect(call).toThrow(/attachUprobe with a cookie.*Linux 5\.15/);
  });

  it('sees nothing once the link is closed', async () => {
    using obj = await loaded();
    target = startTarget('uprobe_target', ['3']);
    const link = attachUprobe(obj.program('on_target'), { binary: targetPath('uprobe_target'), func: 'libbpf_node_target' });
    link.close();
    await target.go();
    expect(obj.globals.get('entries')).toBe(0n);
  });

  it('names the missing function with libbpf\'s reason', async () => {
    using obj = await loaded();
    let err: unknown;
    try {
      attachUprobe(obj.program('on_target'), { binary: targetPath('uprobe_target'), func: 'no_such_function_here' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    const e = err as BpfError;
    expect(e.code).toBe('ENOENT');
    expect(e.message).toContain('no_such_function_here');
    expect(e.details.join('\n')).toMatch(/no_such_function_here/);
  });

  it('refuses auto-attach of a target-less SEC("uprobe"), naming attachUprobe', async () => {
    using obj = await loaded();
    expect(() => obj.program('on_target').attach()).toThrow(/attachUprobe\(program, \{ binary, func \}\)/);
  });

  it('checks its options before any syscall', async () => {
    using obj = await loaded();
    const p = obj.program('on_target');
    expect(() => attachUprobe(p, { binary: '' })).toThrow(RangeError);
    expect(() => attachUprobe(p, { binary: '/bin/true' })).toThrow(/func, options.offset/);
    expect(() => attachUprobe(p, { binary: '/bin/true', func: 'main', pid: -3 })).toThrow(RangeError);
    expect(() => attachUprobe(p, { binary: '/bin/true', func: 'main', bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => attachUprobe({} as never, { binary: '/bin/true', func: 'main' })).toThrow(TypeError);
  });
});
