// @module-tag kernel-slice
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, FEATURES, features, parseKernelVersion } from '../lib';
import { featureError, interpretKernelProbe, interpretLibbpfProbe, type KernelProbeFact } from '../lib/features';
import { binding } from '../lib/internal/native';
import { buildTs, describeBpf } from './support/helpers';

describe('kernel versions', () => {
  it('parses release strings', () => {
    expect(parseKernelVersion('6.1.0-27-amd64')).toMatchObject({ major: 6, minor: 1, patch: 0 });
    expect(parseKernelVersion('5.10')).toMatchObject({ major: 5, minor: 10, patch: 0 });
    expect(parseKernelVersion('7.3.12+deb14')).toMatchObject({ major: 7, minor: 3, patch: 12 });
    expect(() => parseKernelVersion('linux')).toThrow(TypeError);
  });

  it('reads the running kernel and compares', () => {
    const v = features.kernelVersion();
    expect(v.release).toBe(release());
    expect(features.kernelAtLeast(`${v.major}.${v.minor}`)).toBe(true);
    expect(features.kernelAtLeast(`${v.major + 1}.0`)).toBe(false);
    expect(features.kernelAtLeast('3.0')).toBe(true);
  });
});

describe('feature errors', () => {
  it("name the feature, the operation, the running kernel and the kernel's own answer", () => {
    const e = featureError('ringbuf', 'RingBuffer');
    expect(e).toBeInstanceOf(BpfFeatureError);
    expect(e).toBeInstanceOf(BpfError);
    expect(e.errno).toBe(95); // EOPNOTSUPP, which Node names ENOTSUP
    expect(['ENOTSUP', 'EOPNOTSUPP']).toContain(e.code);
    expect(e.feature).toBe('ringbuf');
    expect(e.minKernel).toBe(FEATURES.ringbuf.minKernel);
    expect(e.message).toContain('RingBuffer');
    expect(e.message).toContain('BPF ring buffer maps');
    expect(e.message).toContain(release());
    expect(e.answer).toEqual(features.answer('ringbuf'));
    expect(e.message).toContain(features.answer('ringbuf').reason);
  });

  it('say what the kernel refused, not a minimum version, for each kind of answer', () => {
    const refused = new BpfFeatureError('xdp-meta-64', 'XDP metadata', '6.6', '6.18.44-x', 'RootArray.attach', {
      state: 'unavailable',
      reason: 'the verifier refused bpf_xdp_adjust_meta in XDP programs',
      errno: 'EINVAL',
    });
    expect(refused.message).toContain("lacks XDP metadata ('xdp-meta-64'): the verifier refused bpf_xdp_adjust_meta in XDP programs");
    expect(refused.message).not.toMatch(/needs Linux/);
    expect(refused.answer?.errno).toBe('EINVAL');
    const unsure = new BpfFeatureError('xdp-live-frames', 'live frames', '5.18', '6.18.44-x', 'testRun', {
      state: 'undetermined',
      reason: 'a live-frames test run was refused with EPERM',
      errno: 'EPERM',
    });
    expect(unsure.message).toContain('refused the probe for live frames');
    expect(unsure.message).toContain('EPERM');
    expect(unsure.hint).toMatch(/lockdown/);
    // Built without an answer (other callers), it keeps the old wording.
    const old = new BpfFeatureError('tcx', 'tcx', '6.6', '5.10.0');
    expect(old.message).toContain('needs Linux 6.6');
    expect(old.answer).toBeUndefined();
  });

  it('refuse unknown names', () => {
    expect(() => features.has('no-such-feature' as never)).toThrow(TypeError);
    expect(() => features.programType('no_such_type')).toThrow(/unknown program type/);
    expect(() => features.mapType('no_such_map')).toThrow(/unknown map type/);
    expect(() => features.helper('xdp', 'bpf_no_such_helper')).toThrow(/unknown helper/);
    expect(() => features.programType(42 as never)).toThrow(TypeError);
  });
});

describeBpf('probes on the running kernel', () => {
  it('know the names libbpf knows', () => {
    const n = features.names();
    expect(n.programTypes).toContain('xdp');
    expect(n.mapTypes).toContain('ringbuf');
    expect(n.helpers).toContain('bpf_fib_lookup');
    expect(n.helpers).toContain('bpf_map_lookup_elem');
  });

  // This machine's kernel (6.18) has all of these; the test fails, not skips, where it should.
  it('find what every supported kernel has', () => {
    expect(features.programType('xdp')).toBe(true);
    expect(features.programType('sched_cls')).toBe(true);
    expect(features.mapType('hash')).toBe(true);
    expect(features.mapType('array')).toBe(true);
    expect(features.helper('xdp', 'bpf_map_lookup_elem')).toBe(true);
    expect(features.helper('xdp', 'map_lookup_elem')).toBe(true);
  });

  it('tell helpers apart by program type', () => {
    // bpf_skb_store_bytes takes an skb: refused for XDP, allowed for tc.
    expect(features.helper('sched_cls', 'bpf_skb_store_bytes')).toBe(true);
    expect(features.helper('xdp', 'bpf_skb_store_bytes')).toBe(false);
  });

  it('answer every named feature with one of three answers and a reason', () => {
    for (const f of features.list()) {
      expect(['available', 'unavailable', 'undetermined'], f.name).toContain(f.state);
      expect(f.available, f.name).toBe(f.state === 'available');
      expect(f.reason.length, f.name).toBeGreaterThan(10);
      expect(features.has(f.name)).toBe(f.available);
    }
    expect(features.btf()).toBe(existsSync('/sys/kernel/btf/vmlinux'));
    expect(() => features.require('xdp')).not.toThrow();
  });

  it('agree with the verifier: xdp-meta-64 is never available where XDP programs may not call bpf_xdp_adjust_meta', () => {
    if (!features.helper('xdp', 'bpf_xdp_adjust_meta')) {
      expect(features.answer('xdp-meta-64').state).toBe('unavailable');
      expect(features.answer('xdp-meta-64').reason).toMatch(/verifier refused bpf_xdp_adjust_meta/);
    } else {
      expect(features.answer('xdp-meta-64').reason).not.toMatch(/verifier refused bpf_xdp_adjust_meta/);
    }
  });

  it('the probes that try the operation report what the kernel answered', () => {
    for (const name of ['batch_ops', 'hash_lookup_and_delete', 'atomics', 'xdp_meta', 'xdp_meta_64', 'test_run_xdp_ctx', 'xdp_live_frames', 'xdp_link']) {
      const fact = binding.probeKernelFeature(name);
      expect(typeof fact.step, name).toBe('string');
      expect(typeof fact.errno, name).toBe('number');
      expect(['available', 'unavailable', 'undetermined']).toContain(interpretKernelProbe(name, fact).state);
    }
    expect(() => binding.probeKernelFeature('no_such_probe')).toThrow(TypeError);
  });
});

// The kernel's possible answers, fed to the mapping: the same checks on every host.
describe('three answers from the kernel (the mapping, fed errnos)', () => {
  const EPERM = 1, ENOENT = 2, EACCES = 13, EINVAL = 22, EOPNOTSUPP = 95, ENOTSUPP = 524;
  const state = (name: string, fact: KernelProbeFact): string => interpretKernelProbe(name, fact).state;

  it('bpf_xdp_adjust_meta: the verifier refusing the helper means unavailable; EPERM cannot tell', () => {
    const log = '0: R1=ctx() R10=fp0\n; 1: (85) call bpf_xdp_adjust_meta#54\nprogram of this type cannot use helper bpf_xdp_adjust_meta#54\nprocessed 2 insns\n';
    const refused = interpretKernelProbe('xdp_meta', { step: 'prog_load', errno: EINVAL, log });
    expect(refused).toMatchObject({ state: 'unavailable', errno: 'EINVAL' });
    expect(refused.reason).toContain('the verifier refused bpf_xdp_adjust_meta in XDP programs');
    expect(refused.reason).toContain('cannot use helper');
    expect(state('xdp_meta_64', { step: 'prog_load', errno: EINVAL, log: 'unknown func bpf_xdp_adjust_meta#54' })).toBe('unavailable');
    expect(interpretKernelProbe('xdp_meta', { step: 'prog_load', errno: EPERM })).toMatchObject({ state: 'undetermined', errno: 'EPERM' });
    expect(state('xdp_meta', { step: 'prog_load', errno: 0 })).toBe('available');
  });

  it('64 bytes of metadata: the test run decides; a refused test run cannot tell', () => {
    expect(state('xdp_meta_64', { step: 'test_run', errno: 0, retval: 2 })).toBe('available');
    const small = interpretKernelProbe('xdp_meta_64', { step: 'test_run', errno: 0, retval: 1 });
    expect(small.state).toBe('unavailable');
    expect(small.reason).toMatch(/refused 64 bytes/);
    expect(interpretKernelProbe('xdp_meta_64', { step: 'test_run', errno: EPERM })).toMatchObject({ state: 'undetermined', errno: 'EPERM' });
  });

  it('live frames: EINVAL means unavailable, EPERM undetermined, an ignored flag unavailable', () => {
    expect(state('xdp_live_frames', { step: 'test_run', errno: 0, retval: 0 })).toBe('available');
    expect(state('xdp_live_frames', { step: 'test_run', errno: EINVAL })).toBe('unavailable');
    expect(interpretKernelProbe('xdp_live_frames', { step: 'test_run', errno: 0, retval: 1 }).reason).toMatch(/ignored BPF_F_TEST_XDP_LIVE_FRAMES/);
    const eperm = interpretKernelProbe('xdp_live_frames', { step: 'test_run', errno: EPERM });
    expect(eperm).toMatchObject({ state: 'undetermined', errno: 'EPERM' });
    expect(eperm.reason).toMatch(/refused with EPERM/);
    expect(state('xdp_live_frames', { step: 'prog_load', errno: EPERM })).toBe('undetermined');
  });

  it('xdp_md test runs, atomics, map operations', () => {
    expect(state('test_run_xdp_ctx', { step: 'test_run', errno: 0, retval: 2 })).toBe('available');
    expect(state('test_run_xdp_ctx', { step: 'test_run', errno: EINVAL })).toBe('unavailable');
    expect(state('test_run_xdp_ctx', { step: 'test_run', errno: EPERM })).toBe('undetermined');
    expect(state('atomics', { step: 'prog_load', errno: 0 })).toBe('available');
    expect(state('atomics', { step: 'prog_load', errno: EINVAL, log: 'invalid BPF_ATOMIC' })).toBe('unavailable');
    expect(state('atomics', { step: 'prog_load', errno: EACCES })).toBe('unavailable');
    expect(state('atomics', { step: 'prog_load', errno: EPERM })).toBe('undetermined');
    for (const name of ['batch_ops', 'hash_lookup_and_delete']) {
      expect(state(name, { step: 'map_op', errno: ENOENT })).toBe('available');
      expect(state(name, { step: 'map_op', errno: 0 })).toBe('available');
      expect(state(name, { step: 'map_op', errno: EINVAL })).toBe('unavailable');
      expect(state(name, { step: 'map_op', errno: ENOTSUPP })).toBe('unavailable');
      expect(interpretKernelProbe(name, { step: 'map_op', errno: ENOTSUPP }).errno).toBe('ENOTSUPP');
      expect(state(name, { step: 'map_op', errno: EPERM })).toBe('undetermined');
      expect(state(name, { step: 'map_create', errno: EPERM })).toBe('undetermined');
    }
  });

  it('kernel BTF lookups: no BTF cannot tell', () => {
    expect(state('xdp_link', { step: 'btf_find', errno: 0, found: true })).toBe('available');
    expect(interpretKernelProbe('xdp_link', { step: 'btf_find', errno: 0, found: false }).reason).toBe("the kernel's BTF has no struct bpf_xdp_link");
    expect(state('perf_link', { step: 'btf_load', errno: ENOENT })).toBe('undetermined');
    expect(() => interpretKernelProbe('no_such_probe', { step: 'x', errno: 0 })).toThrow(TypeError);
  });

  it("libbpf's probes: 1, 0, no such program type, or an errno that cannot tell", () => {
    expect(interpretLibbpfProbe(1, 'a ringbuf map').state).toBe('available');
    expect(interpretLibbpfProbe(0, 'a ringbuf map').state).toBe('unavailable');
    expect(interpretLibbpfProbe(-EOPNOTSUPP, 'x').state).toBe('unavailable');
    expect(interpretLibbpfProbe(-EPERM, 'a ringbuf map')).toMatchObject({ state: 'undetermined', errno: 'EPERM' });
  });
});

// The kernel matrix checks each guest against these files (test/kernels/expect-features.cjs).
describe("the kernel matrix's recorded feature sets", () => {
  it('name only known features, each once, with one answer', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(__dirname, 'kernels', 'expected');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['bullseye.json', 'bookworm.json', 'trixie.json']));
    for (const file of files) {
      const e = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { unavailable?: string[]; undetermined?: string[] };
      const named = [...(e.unavailable ?? []), ...(e.undetermined ?? [])];
      for (const n of named) expect(Object.keys(FEATURES), `${file}: ${n}`).toContain(n);
      expect(new Set(named).size, file).toBe(named.length);
    }
  });
});
