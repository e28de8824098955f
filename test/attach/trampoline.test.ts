// fentry through attachTrace. This machine refuses BPF trampolines: the attach test skips by the
// 'trampoline' feature probe (which loads and attaches a one-instruction fentry program), and the
// refusals are checked instead: up front from attachTrace, and from the load with the EPERM
// diagnosis that more privileges will not help.
import { expect, it } from 'vitest';
import { attachTrace, BpfError, BpfFeatureError, BpfObject } from '../../lib/index';
import { fixturePath } from '../support/helpers';
import { describeWith, describeWithout } from '../support/kernel';

describeWith('trampoline', 'attachTrace', () => {
  it('attaches an fentry program with a tracing link', async () => {
    using obj = BpfObject.open(fixturePath('attach_trampoline'));
    await obj.load();
    using link = attachTrace(obj.program('on_getppid'));
    expect(link.info().type).toBe('tracing');
  });
});

describeWithout('trampoline', 'fentry on a kernel that refuses trampolines', () => {
  it('the load error says why, and not "get CAP_BPF" when the process has it', async () => {
    using obj = BpfObject.open(fixturePath('attach_trampoline'));
    let err: unknown;
    try {
      await obj.load();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    const e = err as BpfError;
    expect(e.details.length).toBeGreaterThan(0);
    expect(e.message).toMatch(/on_getppid/);
    // The refusal seen where this runs (a security policy of the host refuses trampolines) is
    // EPERM to a process that has CAP_BPF: the case the hint is for. A kernel built without
    // trampolines would answer differently and fail here, to be given its own expectation.
    expect(e.code).toBe('EPERM');
    expect(e.hint).toMatch(/already has CAP_BPF.*more privileges will not help/);
  });

  it('attachTrace refuses up front, naming the feature', async () => {
    using obj = BpfObject.open(fixturePath('attach_uprobe'));
    await obj.load();
    expect(() => attachTrace(obj.program('on_target'))).toThrow(BpfFeatureError);
    expect(() => attachTrace(obj.program('on_target'))).toThrow(/trampolines.*Linux 5\.5/);
  });
});
