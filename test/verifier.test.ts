// Verifier rejection: BpfVerifierError with the verifier's complaint in the message and full log.
// @module-tag kernel-slice
// @module-tag threads
import { describe, expect, it } from 'vitest';
import { BpfError, BpfObject, BpfVerifierError, verifierSummary } from '../lib/index';
import { describeBpf, fixturePath } from './support/helpers';

describeBpf('verifier rejection', () => {
  it('throws BpfVerifierError naming the program, with the complaint and the full log', async () => {
    using obj = BpfObject.open(fixturePath('verifier_reject'));
    const err = await obj.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BpfVerifierError);
    expect(err).toBeInstanceOf(BpfError);
    const v = err as BpfVerifierError;
    expect(v.program).toBe('xdp_unchecked');
    expect(v.op).toBe('bpf_object__load');
    expect(v.code).toBe('EACCES');
    // The kernel's complaint about the unchecked packet read, in both the message and the log.
    expect(v.log).toMatch(/invalid access to packet/);
    expect(v.message).toMatch(/the verifier refused program 'xdp_unchecked'/);
    expect(v.message).toMatch(/invalid access to packet/);
    expect(v.log.length).toBeGreaterThan(v.message.length / 2);
    expect(obj.state).toBe('failed');
    await expect(obj.load()).rejects.toThrow(/an earlier load\(\) failed/);
  });

  it('gives the same error from loadSync()', () => {
    using obj = BpfObject.open(fixturePath('verifier_reject'));
    expect(() => obj.loadSync()).toThrow(BpfVerifierError);
  });
});

describe('verifierSummary', () => {
  it('keeps the last meaningful lines and drops the statistics trailer', () => {
    const log = ['0: R1=ctx() R10=fp0', '; return data[20]', '2: (71) r0 = *(u8 *)(r2 +20)', 'invalid access to packet, off=20 size=1, R2(id=0,off=20,r=0)', 'R2 offset is outside of the packet', 'processed 3 insns (limit 1000000) max_states_per_insn 0', ''].join('\n');
    const s = verifierSummary(log, 3);
    expect(s.split('\n')).toEqual(['  2: (71) r0 = *(u8 *)(r2 +20)', '  invalid access to packet, off=20 size=1, R2(id=0,off=20,r=0)', '  R2 offset is outside of the packet']);
  });

  it('on the 7.3+ log format, still ends with the complaint, then the suggestion', () => {
    // The diagnostics block Linux 7.3's kernel/bpf/diagnostics.c appends after the complaint.
    const log = [
      '0: R1=ctx() R10=fp0',
      '2: (71) r0 = *(u8 *)(r2 +20)',
      'invalid access to packet, off=20 size=1, R2(id=0,off=20,r=0)',
      'R2 offset is outside of the packet',
      'Verification failed: invalid access to packet',
      'Reason: the access is not proven to be within the packet',
      '  Instruction context:',
      '  >>> 2 | r0 = *(u8 *)(r2 +20)',
      '        |        ^-- here',
      '  Source context:',
      '  prog.bpf.c:12:9',
      'Suggestion: compare the pointer with data_end before the access',
      'processed 3 insns (limit 1000000) max_states_per_insn 0',
    ].join('\n');
    expect(verifierSummary(log, 2).split('\n')).toEqual([
      '  invalid access to packet, off=20 size=1, R2(id=0,off=20,r=0)',
      '  R2 offset is outside of the packet',
      '  Suggestion: compare the pointer with data_end before the access',
    ]);
  });
});
