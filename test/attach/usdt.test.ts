// attachUsdt on a probe point of a binary the build compiles (test/bin/usdt_target.c, with
// <sys/sdt.h> from Debian's systemtap-sdt-dev).
import { afterEach, expect, it } from 'vitest';
import { attachUsdt, BpfError, BpfObject } from '../../lib/index';
import { fixturePath } from '../support/helpers';
import { describeWith } from '../support/kernel';
import { startTarget, targetPath, type Target } from '../support/probe-targets';

describeWith('uprobe', 'attachUsdt', () => {
  let target: Target | undefined;
  afterEach(() => target?.kill());

  it('fires at each probe hit with its argument and the cookie', async () => {
    using obj = BpfObject.open(fixturePath('attach_usdt'));
    await obj.load();
    target = startTarget('usdt_target', ['4']);
    using link = attachUsdt(obj.program('on_tick'), {
      binary: targetPath('usdt_target'),
      provider: 'libbpf_node_test',
      name: 'tick',
      pid: target.pid,
      cookie: 42,
    });
    expect(link.closed).toBe(false);
    await target.go();
    expect(obj.globals.get('hits')).toBe(4n);
    expect(obj.globals.get('sum')).toBe(1n + 2n + 3n + 4n);
    expect(obj.globals.get('cookie')).toBe(42n);
  });

  it('fails with libbpf\'s reason for a probe the binary lacks', async () => {
    using obj = BpfObject.open(fixturePath('attach_usdt'));
    await obj.load();
    let err: unknown;
    try {
      attachUsdt(obj.program('on_tick'), { binary: targetPath('usdt_target'), provider: 'libbpf_node_test', name: 'no_such_probe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).message).toContain('libbpf_node_test:no_such_probe');
    expect((err as BpfError).code).toBe('ENOENT');
  });

  it('refuses auto-attach, naming attachUsdt', async () => {
    using obj = BpfObject.open(fixturePath('attach_usdt'));
    await obj.load();
    expect(() => obj.program('on_tick').attach()).toThrow(/attachUsdt\(/);
  });
});
