// No answer of the feature probes comes from the kernel's version: with the release string faked
// (os.release() answering a kernel far older and one far newer than this one), every
// features.has() answer, every reason, and the library's own decisions stay what they are.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeBpf } from './support/helpers';

type FeaturesModule = typeof import('../lib/features');

/** lib/features.ts loaded afresh (its caches empty) with os.release() answering `fake`. */
async function loadWithRelease(fake: string | undefined): Promise<FeaturesModule> {
  vi.resetModules();
  if (fake !== undefined) {
    vi.doMock('node:os', async (importOriginal) => {
      const os = await importOriginal<typeof import('node:os')>();
      return { ...os, release: () => fake, default: { ...os, release: () => fake } };
    });
  }
  return import('../lib/features.js');
}

function answers(m: FeaturesModule) {
  return m.features.list().map((f) => ({ name: f.name, state: f.state, available: f.available, reason: f.reason }));
}

afterEach(() => {
  vi.doUnmock('node:os');
  vi.resetModules();
});

describe('the version string', () => {
  it('is what the fake says (the mock reaches lib/features.ts)', async () => {
    const m = await loadWithRelease('3.10.0-fake-el7');
    expect(m.kernelVersion().release).toBe('3.10.0-fake-el7');
    expect(m.kernelAtLeast('4.0')).toBe(false);
  });
});

describeBpf('no feature answer comes from the kernel version', () => {
  it('has(), the states and the reasons are the same with the release faked as 3.10 and as 99.0', async () => {
    const real = answers(await loadWithRelease(undefined));
    const old = await loadWithRelease('3.10.0-1160.fake.el7.x86_64');
    expect(old.kernelVersion().major).toBe(3);
    expect(answers(old)).toEqual(real);
    const future = await loadWithRelease('99.0.0-fake');
    expect(future.kernelVersion().major).toBe(99);
    expect(answers(future)).toEqual(real);
  });

  it('featureError names the answer, not the fake version, as the cause', async () => {
    const m = await loadWithRelease('99.0.0-fake');
    for (const f of m.features.list().filter((x) => !x.available)) {
      const e = m.featureError(f.name, 'op');
      expect(e.message).toContain(f.reason);
      expect(e.message).not.toMatch(/needs Linux/);
    }
  });
});
