// Verifier logs: a refusal with a log far over 4 MiB still is a BpfVerifierError with the whole
// log (libbpf grows its buffer on ENOSPC); logLevel/logSize give every program's log and stats.
import { expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { BpfError, BpfObject, BpfVerifierError } from '../lib/index';
import { targetPath } from './support/probe-targets';
import { describeBpf, fixturePath } from './support/helpers';
import { itWith, itWithout, scaledMs } from './support/kernel';

/**
 * The kernel's verified_insns for program `id`, read by a helper that uses bare bpf() syscalls
 * (test/bin/prog_verified_insns.c); undefined where the kernel's bpf_prog_info has no such field.
 */
function kernelVerifiedInsns(id: number): number | undefined {
  const out = execFileSync(targetPath('prog_verified_insns'), [String(id)], { encoding: 'utf8' }).trim();
  return out === 'absent' ? undefined : Number(out);
}

describeBpf('verifier log', () => {
  it('a refusal with a > 4 MiB log is a BpfVerifierError with the full log', async () => {
    using obj = BpfObject.open(fixturePath('verifier_biglog'));
    const err = await obj.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BpfVerifierError);
    const v = err as BpfVerifierError;
    expect(v.code).toBe('EACCES');
    expect(v.program).toBe('xdp_biglog');
    expect(v.log.length).toBeGreaterThan(4 << 20);
    // Whole: from the first instruction (or, on 5.10, the source line before it) to the
    // complaint, not cut mid-line.
    expect(v.log).toMatch(/^(func#0|0:|; )/);
    expect(v.log).toMatch(/^0: /m);
    expect(v.log).toMatch(/invalid access to packet/);
    expect(obj.state).toBe('failed');
  }, scaledMs(60_000));

  it('logLevel 4 (stats) and logSize: every program\'s log, and its statistics', async () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    await obj.load({ logLevel: 4, logSize: 4096 });
    const stats = obj.verifierStats('xdp_slow');
    expect(stats.processedInsns).toBeGreaterThan(100_000);
    // The kernel's own count, where it reports one (5.16), read without this library, is the
    // one given, and agrees with the log's; where it does not, none is made up.
    const kernel = kernelVerifiedInsns(obj.program('xdp_slow').id);
    expect(stats.verifiedInsns).toBe(kernel);
    if (kernel !== undefined) expect(kernel).toBe(stats.processedInsns);
    expect(stats.totalStates).toBeGreaterThan(0);
    expect(stats.timeUsec).toBeGreaterThan(0);
    expect(obj.verifierLog('xdp_slow')).toMatch(/processed \d+ insns/);
  });

  itWith('verified-insns', 'without logLevel: stats from the kernel only, no log', () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    obj.loadSync();
    expect(obj.verifierLog('xdp_slow')).toBeUndefined();
    const stats = obj.verifierStats('xdp_slow');
    expect(stats.verifiedInsns).toBeGreaterThan(100_000);
    expect(stats.verifiedInsns).toBe(kernelVerifiedInsns(obj.program('xdp_slow').id));
    expect(stats.processedInsns).toBeUndefined();
  });

  itWithout('verified-insns', 'without logLevel on a kernel that does not count: no stats, and no made-up 0', () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    obj.loadSync();
    expect(kernelVerifiedInsns(obj.program('xdp_slow').id)).toBeUndefined(); // the kernel's answer, not the probe's
    expect(obj.verifierStats('xdp_slow')).toEqual({});
  });

  it('a log asked for with logLevel 1 that does not fit logSize is ENOSPC, saying so', async () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    const err = await obj.load({ logLevel: 1, logSize: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BpfError);
    expect((err as BpfError).code).toBe('ENOSPC');
    expect((err as BpfError).message).toMatch(/logSize/);
  });

  it('refuses bad options with TypeError/RangeError', () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    expect(() => obj.loadSync({ logLevel: 8 })).toThrow(RangeError);
    expect(() => obj.loadSync({ logLevel: 1, logSize: 64 })).toThrow(RangeError);
    expect(() => obj.loadSync({ logLevel: 1, logSize: 2 ** 30 })).toThrow(RangeError);
    expect(() => obj.loadSync({ bogus: 1 } as never)).toThrow(TypeError);
    expect(obj.state).toBe('opened');
  });
});
