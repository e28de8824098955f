// A short fuzz run (test/reliability/fuzz.ts): mutated and truncated copies of the shipped ELF
// objects through BpfObject.open + load, and mutated frames through testRun, in child processes.
// Zero crashes, and every failure is a typed error. `npm run fuzz` runs it longer.
import { beforeAll, expect, it } from 'vitest';
import { fuzz } from './fuzz';
import { buildTs, describeBpf } from '../support/helpers';
import { scaledCount, scaledMs } from '../support/kernel';

describeBpf('fuzz (short run)', () => {
  beforeAll(() => {
    buildTs('test/reliability/tsconfig.json');
  }, scaledMs(120_000));

  it('mutated objects and frames never crash the loader', async () => {
    const seed = Math.floor(Math.random() * 100_000);
    const r = await fuzz({ iterations: scaledCount(4000, 200), seconds: 15, seed });
    expect(r.crashes, `seed ${seed}`).toEqual([]);
    expect(r.untyped, `seed ${seed}`).toEqual([]);
    expect(r.iterations).toBeGreaterThan(scaledCount(100, 10));
    // The mutations reach past the ELF parser: some fail later (relocation, verifier) or load.
    expect(Object.keys(r.errorCodes).length).toBeGreaterThan(3);
  }, scaledMs(120_000));
});
