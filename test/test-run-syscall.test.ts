// testRun on a BPF_PROG_TYPE_SYSCALL program: the kernel runs it once (repeat 0) on its context,
// which it writes back; a frame, a repeat count or output sizes are refused before the call.
import { expect } from 'vitest';
import { BpfObject } from '../lib/index';
import { describeBpf, fixturePath } from './support/helpers';
import { itWith } from './support/kernel';

describeBpf('testRun on syscall programs', () => {
  itWith('syscall-programs', 'runs once on the context and hands back the context as the program left it', async () => {
    using obj = BpfObject.open(fixturePath('test_run_syscall'));
    await obj.load();
    const prog = obj.program('add_args');
    expect(prog.type).toBe('syscall');
    const ctx = Buffer.alloc(16);
    ctx.writeUInt32LE(6, 0);
    ctx.writeUInt32LE(7, 4);
    const r = prog.testRun({ ctx });
    expect(r.retval).toBe(42);
    expect(r.ctx!.readUInt32LE(0)).toBe(6);
    expect(r.ctx!.readBigUInt64LE(8)).toBe(13n);
    expect(ctx.readBigUInt64LE(8)).toBe(0n); // the caller's buffer is not written
    expect(r.data.length).toBe(0);
    expect(obj.globals.get('runs')).toBe(1n);

    ctx.writeUInt32LE(100_000, 0);
    const a = await prog.testRunAsync({ ctx, repeat: 0 });
    expect(a.ctx!.readBigUInt64LE(8)).toBe(100_007n);
    expect(obj.globals.get('runs')).toBe(2n);
  });

  itWith('syscall-programs', 'refuses a frame, a repeat count and output sizes, running nothing', async () => {
    using obj = BpfObject.open(fixturePath('test_run_syscall'));
    await obj.load();
    const prog = obj.program('add_args');
    const ctx = Buffer.alloc(16);
    expect(() => prog.testRun({ ctx, repeat: 1 })).toThrow(/repeat must be 0/);
    expect(() => prog.testRun({ ctx, data: Buffer.alloc(64) })).toThrow(TypeError);
    expect(() => prog.testRun({ ctx, ctxOutSize: 16 })).toThrow(/in place/);
    expect(() => prog.testRun({ ctx, dataOutSize: 64 })).toThrow(RangeError);
    expect(() => prog.testRun({ ctx: 'x' as unknown as Buffer })).toThrow(TypeError);
    // The program reads 16 bytes of context: the kernel refuses a shorter one.
    expect(() => prog.testRun({ ctx: Buffer.alloc(4) })).toThrow(/EINVAL/);
    expect(obj.globals.get('runs')).toBe(0n);
  });
});
