// `npm run demo` (lib/examples/demo.ts), run as users run it: the compiled JavaScript in a child process.
// It checks its own numbers; here we check that it says so, exits 0 and leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { DEFAULT_PIN_BASE } from '../../lib/rootarray/root-array';
import { buildTs, describeNet } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');

describeNet('npm run demo', () => {
  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });

  it('runs a root array with sampler, filter and counter on real traffic, every check passing', () => {
    const r = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'examples', 'demo.js')], { encoding: 'utf8', timeout: scaledMs(30_000) });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).not.toMatch(/✗/);
    expect(out).toMatch(/✓ blocked traffic never arrived: 0 datagrams, 0 ping replies/);
    expect(out).toMatch(/✓ slot 1 \(filter\) dropped 205\/205 blocked, passed 420\/420 allowed/);
    expect(out).toMatch(/^ +0 \| +\d+ \| xdp_sampler +\|.*\| +0 \| +0 \| +625 \|/m);
    expect(out).toMatch(/^ +1 \| +\d+ \| xdp_filter +\|.*\| +0 \| +205 \| +420 \|/m);
    expect(out).toMatch(/^ip_drop_count: 105$/m);
    expect(out).toMatch(/^ip6_drop_count: 100$/m);
    expect(out).toMatch(/^ +198\.19\.66\.2 → 198\.19\.66\.1 +udp +\d+ → 7000/m);
    expect(out).toMatch(/Every check passed\.\n$/);
    // Only the demo's own root array: its interfaces are named lbn<pid>-…, and other processes
    // (another test run, an agent) may keep root arrays of their own under the same base.
    const ours = existsSync(DEFAULT_PIN_BASE) ? readdirSync(DEFAULT_PIN_BASE).filter((f) => f.startsWith(`lbn${r.pid}-`)) : [];
    expect(out).toMatch(new RegExp(`^Interface lbn${r.pid}-`, 'm')); // the filter above matches what the demo made
    expect(ours).toEqual([]);
  });
});
