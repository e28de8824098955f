// enableRunStats(): the kernel's run count and run time (BPF_ENABLE_STATS) while a handle is open.
import { expect, it } from 'vitest';
import { BpfObject, enableRunStats, shippedObjectPath } from '../lib/index';
import { udpFrame } from '../lib/testing/index';
import { describeBpf } from './support/helpers';

describeBpf('enableRunStats', () => {
  it('counts a program\'s runs and run time while enabled; close is idempotent', async () => {
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    const prog = obj.program('xdp_pass');
    const before = prog.kernelInfo();
    expect(typeof before.runCount).toBe('bigint');
    const stats = enableRunStats();
    expect(stats.enabled).toBe(true);
    prog.testRun({ data: udpFrame({ srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01', srcIp: '198.18.0.2', dstIp: '198.18.0.1', srcPort: 4000, dstPort: 9000 }), repeat: 1000 });
    const during = prog.kernelInfo();
    stats.close();
    stats.close();
    expect(stats.enabled).toBe(false);
    expect(during.runCount - before.runCount).toBeGreaterThanOrEqual(1000n);
    expect(during.runTimeNs).toBeGreaterThan(before.runTimeNs);
  });
});
