// The root array's metadata hand-off (passMeta) follows the kernel's probe: on where the kernel
// can hand 64 bytes of metadata to the slots, off (and status() says why) where it cannot. The
// refusing kernel is played by a faked probe answer; the root is then really loaded and attached.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { features, RootArray, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { metadataDecision, passMetaOf } from '../../lib/rootarray/meta';
import { buildTs, describeNet, xdpRoot } from '../support/helpers';

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

/** The status of net's root array, read by this process from the pins. */
function readBack(net: VethPair): ReturnType<RootArray['status']> {
  using ra = RootArray.open(net.a.ifname, { netns: net.a.netnsPath });
  return ra.status();
}

describeNet('xdp-root attach --pass-meta and status', () => {
  let net: VethPair | undefined;
  beforeAll(() => {
    // The CLI runs the compiled JavaScript in a child process.
    buildTs('tsconfig.build.json');
  });
  afterEach(async () => {
    if (net && RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })) await RootArray.open(net.a.ifname, { netns: net.a.netnsPath }).detach();
    await net?.close();
    net = undefined;
  });

  it('sets the hand-off where the kernel can, and status (text and JSON) shows it with the reason', async () => {
    net = await VethPair.create();
    const ns = ['--netns', net.a.netnsPath];
    const ifname = net.a.ifname;
    const can = features.has('xdp-meta-64');
    let r = xdpRoot(['attach', ifname, '--mode', 'skb', '--pass-meta', ...ns]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // What the library reads back from the running root, in this process.
    const m = readBack(net).metadata!;
    expect(m.passing).toBe(can);
    expect(passMetaOf(readBack(net).rootProgId)).toBe(can);
    if (!can) expect(m.reason).toContain(features.answer('xdp-meta-64').reason);
    expect(r.stdout).toContain(`\nmetadata hand-off: ${m.reason}\n`);
    r = xdpRoot(['status', ifname, ...ns]);
    expect(r.stdout.split('\n')[2]).toBe(`metadata hand-off: ${m.reason}`);
    r = xdpRoot(['status', ifname, '--json', ...ns]);
    expect((JSON.parse(r.stdout) as { metadata: unknown }[])[0].metadata).toEqual(m);
    // The listing without an interface shows it too.
    const all = JSON.parse(xdpRoot(['status', '--json', ...ns]).stdout) as { ifname: string; metadata: unknown }[];
    expect(all.find((e) => e.ifname === ifname)?.metadata).toEqual(m);

    // Attach again without the flag: the running root keeps its setting.
    r = xdpRoot(['attach', ifname, ...ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`metadata hand-off: ${m.reason}`);
    expect(xdpRoot(['detach', ifname, ...ns]).code).toBe(0);

    // Without --pass-meta: off, because it was not asked for where the kernel could; where it
    // could not, the kernel's answer is the reason that counts.
    r = xdpRoot(['attach', ifname, '--mode', 'skb', ...ns]);
    if (can) expect(r.stdout).toMatch(/\nmetadata hand-off: off: not asked for .*--pass-meta/);
    else expect(r.stdout).toContain(`\nmetadata hand-off: off: this kernel cannot hand 64 bytes of metadata to the slots (${features.answer('xdp-meta-64').state}: ${features.answer('xdp-meta-64').reason})`);
    r = xdpRoot(['status', ifname, '--json', ...ns]);
    expect((JSON.parse(r.stdout) as { metadata: { passing: boolean } }[])[0].metadata.passing).toBe(false);
    // Asking for it now reloads the running root with it where the kernel can (a new root program,
    // swapped in atomically; the slots stay), and says why not where it cannot.
    const before = readBack(net);
    {
      using root = RootArray.open(ifname, { netns: net.a.netnsPath });
      await root.load(0, shippedObjectPath('xdp_pass'));
    }
    r = xdpRoot(['attach', ifname, '--pass-meta', ...ns]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const after = readBack(net);
    expect(after.metadata!.passing).toBe(can);
    expect(passMetaOf(after.rootProgId)).toBe(can);
    expect(after.rootProgId !== before.rootProgId).toBe(can);
    expect(after.slots[0].name).toBe('xdp_pass');
    expect(after.mode).toBe('skb');
    expect(r.stdout).toContain(`metadata hand-off: ${after.metadata!.reason}`);
    if (!can) expect(r.stdout).toContain(features.answer('xdp-meta-64').reason);
  });

  it('refuses a value for --pass-meta as a command-line mistake, attaching nothing', async () => {
    net = await VethPair.create();
    const r = xdpRoot(['attach', net.a.ifname, '--pass-meta=yes', '--netns', net.a.netnsPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pass-meta takes no value/);
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath })).toBe(false);
    expect(xdpRoot(['help', 'attach']).stdout).toMatch(/--pass-meta +hand parsed packets/);
  });
});

describe('metadataDecision', () => {
  it('is off unless asked', () => {
    expect(metadataDecision(false)).toMatchObject({ passing: false, reason: expect.stringMatching(/not asked for/) });
  });
});
