// The reliability scenarios at CI size (test/reliability/scenarios.ts; `npm run reliability`
// runs them bigger and prints the table): privileges dropped, loaders killed mid-operation,
// concurrent writers, hitless upgrades under traffic, and a soak for leaked fds, pins and memory.
import { beforeAll, expect, it } from 'vitest';
import { concurrency, killPoints, privileges, soak, upgrade } from './scenarios';
import { buildTs, describeNet } from '../support/helpers';
import { scaledCount, scaledMs } from '../support/kernel';

describeNet('reliability', () => {
  beforeAll(() => {
    buildTs('test/reliability/tsconfig.json'); // (lib included)
  }, scaledMs(120_000));

  it('without CAP_BPF/NET_ADMIN/SYS_ADMIN every operation fails cleanly, naming the capability; bad pin paths are refused', async () => {
    const r = await privileges();
    expect(r.cases.filter((c) => !c.clean)).toEqual([]);
    expect(r.tried).toBeGreaterThan(15);
  });

  it('a loader killed at random points leaves a state a fresh process reads correctly and attach/detach repair', async () => {
    const r = await killPoints({ kills: 10, seed: Math.floor(Math.random() * 100_000) });
    expect(r.notes).toEqual([]); // a loader that failed by itself (not killed) is a failure too
    expect(r).toMatchObject({ tried: 10, inconsistent: 0, unrepaired: 0, packetsLost: 0 });
  }, scaledMs(120_000));

  it('concurrent writers: the final state is one somebody asked for, counters add up, nothing stays locked', async () => {
    const r = await concurrency({ writers: 4, rounds: 10 });
    expect(r).toMatchObject({ errors: 0, conflicts: 0, statsConsistent: true, leftLocked: false });
  }, scaledMs(120_000));

  it('replacing slot and root programs under a steady stream loses no packet', async () => {
    const r = await upgrade({ packets: scaledCount(3000, 300) });
    expect(r.rootSwaps).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
  }, scaledMs(120_000));

  it('a soak of open/load/attach/detach/pin/ring buffer/slot changes leaks no fd, pin or attachment', async () => {
    const r = await soak({ cycles: scaledCount(500, 50) });
    expect(r).toMatchObject({ leakedFds: 0, leakedPins: 0, xdpLeft: false });
    expect(r.rssGrowthMiB).toBeLessThan(32);
  }, scaledMs(120_000));
});
