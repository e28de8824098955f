// The root array's metadata hand-off (passMeta) follows the kernel's probe: on where the kernel
// can hand 64 bytes of metadata to the slots, off (and status() says why) where it cannot. The
// refusing kernel is played by a faked probe answer; the root is then really loaded and attached.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { features, RootArray } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { metadataDecision, passMetaOf } from '../../lib/rootarray/meta';
import { describeNet } from '../support/helpers';

describeNet('RootArray passMeta', () => {
  let net: VethPair | undefined;
  afterEach(async () => {
    vi.doUnmock('../../lib/features');
    vi.resetModules();
    if (net && RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })) await RootArray.open(net.a.ifname, { netns: net.a.netnsPath }).detach();
    await net?.close();
    net = undefined;
  });

  it('is on where the probe says the kernel can, off with the reason where it cannot, off unless asked', async () => {
    net = await VethPair.create();
    const where = { netns: net.a.netnsPath, mode: 'skb' as const };
    {
      using ra = await RootArray.attach(net.a.ifname, { ...where, passMeta: true });
      const m = ra.status().metadata!;
      const can = features.has('xdp-meta-64');
      expect(m.passing).toBe(can);
      expect(passMetaOf(ra.status().rootProgId)).toBe(can);
      if (!can) expect(m.reason).toContain(features.answer('xdp-meta-64').reason);
      // Opened from its pins (as another process would), it reports the same.
      using again = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
      expect(again.status().metadata).toEqual(m);
      await ra.detach();
    }
    using off = await RootArray.attach(net.a.ifname, where);
    expect(off.status().metadata!.passing).toBe(false);
    expect(passMetaOf(off.status().rootProgId)).toBe(false);
  });

  it('refuses a passMeta that is not a boolean, changing nothing', async () => {
    net = await VethPair.create();
    await expect(RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, passMeta: 'yes' as never })).rejects.toThrow(TypeError);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
  });

  it('turns itself off where the verifier refuses bpf_xdp_adjust_meta (a faked answer), and the root still loads', async () => {
    const refused = { state: 'unavailable' as const, reason: 'the verifier refused bpf_xdp_adjust_meta in XDP programs ("program of this type cannot use helper bpf_xdp_adjust_meta#54")', errno: 'EINVAL' };
    vi.resetModules();
    vi.doMock('../../lib/features', async (importOriginal) => {
      const real = await importOriginal<typeof import('../../lib/features')>();
      const featureAnswer = (name: Parameters<typeof real.featureAnswer>[0]) => (name === 'xdp-meta-64' ? refused : real.featureAnswer(name));
      return { ...real, featureAnswer, hasFeature: (name: Parameters<typeof real.hasFeature>[0]) => featureAnswer(name).state === 'available' };
    });
    const lib = await import('../../lib/index.js');
    const meta = await import('../../lib/rootarray/meta.js');
    expect(meta.metadataDecision(true)).toEqual({ passing: false, reason: expect.stringContaining(refused.reason) });
    net = await VethPair.create();
    using ra = await lib.RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, mode: 'skb', passMeta: true });
    const m = ra.status().metadata!;
    expect(m.passing).toBe(false);
    expect(m.reason).toContain('verifier refused bpf_xdp_adjust_meta');
    expect(meta.passMetaOf(ra.status().rootProgId)).toBe(false);
  });
});

describe('metadataDecision', () => {
  it('is off unless asked', () => {
    expect(metadataDecision(false)).toMatchObject({ passing: false, reason: expect.stringMatching(/not asked for/) });
  });
});
