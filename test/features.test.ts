// @module-tag kernel-slice
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, FEATURES, features, parseKernelVersion } from '../lib';
import { featureError } from '../lib/features';
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
  it('name the feature, its minimum kernel and the running kernel', () => {
    const e = featureError('ringbuf', 'RingBuffer');
    expect(e).toBeInstanceOf(BpfFeatureError);
    expect(e).toBeInstanceOf(BpfError);
    expect(e.errno).toBe(95); // EOPNOTSUPP, which Node names ENOTSUP
    expect(['ENOTSUP', 'EOPNOTSUPP']).toContain(e.code);
    expect(e.feature).toBe('ringbuf');
    expect(e.minKernel).toBe(FEATURES.ringbuf.minKernel);
    expect(e.message).toContain('RingBuffer');
    expect(e.message).toContain('BPF ring buffer maps');
    expect(e.message).toContain(`Linux ${FEATURES.ringbuf.minKernel}`);
    expect(e.message).toContain(release());
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

  it('answer named features from the kernel, matching the version where they are mainline', () => {
    for (const f of features.list()) {
      expect(typeof f.available).toBe('boolean');
      // A feature that needs more than the version (a config option, a mount, hardware) may be missing.
      if (features.kernelAtLeast(f.minKernel) && f.requires === undefined) expect(f.available, `${f.name} (${f.description})`).toBe(true);
    }
    expect(features.btf()).toBe(existsSync('/sys/kernel/btf/vmlinux'));
    expect(() => features.require('xdp')).not.toThrow();
  });
});

describeBpf('library features across kernels (the kernel matrix checks these on 5.10 … 7.x)', () => {
  it('every named feature is present on every kernel at least as new as its minimum', () => {
    // A probe that says "no" on a kernel that has the feature would turn fallbacks and skips on
    // where they are not needed: the matrix runs this on each kernel.
    // Features with `requires` (a config option, a mount, hardware) can be missing on any kernel.
    const wrong = features
      .list()
      .filter((f) => !f.available && features.kernelAtLeast(f.minKernel) && !('requires' in FEATURES[f.name]))
      .map((f) => f.name);
    expect(wrong).toEqual([]);
  });

  it('the probes answer from the kernel, not from the version', () => {
    // The same probes in a process told that the kernel is 4.4: a probe that read the version
    // instead of asking the kernel would answer differently there.
    buildTs('tsconfig.build.json');
    const child = `const os = require('node:os'); os.release = () => '4.4.0-told';
      const { features } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'lib', 'index.js'))});
      process.stdout.write(JSON.stringify({ release: features.kernelVersion().release, list: features.list().map((f) => [f.name, f.available]) }));`;
    const told = JSON.parse(execFileSync(process.execPath, ['-e', child], { encoding: 'utf8' })) as { release: string; list: [string, boolean][] };
    expect(told.release).toBe('4.4.0-told');
    expect(told.list).toEqual(features.list().map((f) => [f.name, f.available]));
    expect(told.list.some(([, available]) => available)).toBe(true);
    expect(() => binding.probeKernelFeature('no_such_probe')).toThrow(TypeError);
  });
});
