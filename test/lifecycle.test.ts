// Resource lifetime: fds return to their starting count, the event loop runs during load.
import { describe, expect, it } from 'vitest';
import { BpfObject, shippedObjectPath } from '../lib/index';
import { describeBpf, fixturePath, openFdCount } from './support/helpers';
import { scaledCount } from './support/kernel';

// 1,000 on real hardware; fewer under emulation (the kernel matrix).
const cycles = scaledCount(1000, 100);

describeBpf('lifecycle', () => {
  it(`${cycles} open/load/close cycles leave the fd count where it started`, async () => {
    const path = shippedObjectPath('xdp_count');
    // One warm-up cycle so lazily opened fds (libbpf feature probes, vmlinux BTF) are counted.
    BpfObject.open(path).close();
    const before = openFdCount();
    for (let i = 0; i < cycles; i++) {
      const obj = BpfObject.open(path);
      if (i % 2 === 0) await obj.load();
      else obj.loadSync();
      obj.close();
    }
    expect(openFdCount()).toBe(before);
  });

  it('does not block the event loop while the verifier works', async () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    let ticks = 0;
    let done = false;
    const spin = (): void => {
      ticks++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    await obj.load();
    done = true;
    // The verifier walks ~60,000 loop iterations; the loop kept turning meanwhile.
    expect(ticks).toBeGreaterThan(10);
  });

  it('a synchronous load blocks: the same measure sees no turn of the loop', () => {
    using obj = BpfObject.open(fixturePath('slow_verify'));
    let ticks = 0;
    setImmediate(() => ticks++);
    obj.loadSync();
    expect(ticks).toBe(0);
  });
});

describe('finalizer', () => {
  it('a BpfObject dropped without close() is released by GC (safety net)', async () => {
    // vitest.config.mts runs the tests with --expose-gc.
    expect(typeof globalThis.gc).toBe('function');
    const before = openFdCount();
    for (let i = 0; i < 50; i++) BpfObject.open(shippedObjectPath('xdp_pass'));
    globalThis.gc!();
    await new Promise((r) => setTimeout(r, 10));
    globalThis.gc!();
    expect(openFdCount()).toBeLessThanOrEqual(before + 1);
  });
});
