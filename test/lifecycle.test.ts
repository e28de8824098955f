// Resource lifetime: fds return to their starting count, the event loop runs during load.
// @module-tag threads
import { expect, it } from 'vitest';
import { BpfObject, shippedObjectPath } from '../lib/index';
import { describeBpf, fixturePath, gcUntil, openFdCount } from './support/helpers';
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
  // (A test that loadSync() lets no setImmediate run was dropped: that is true of any synchronous
  // call, so it could not fail on anything of the library.)
});

describeBpf('finalizer', () => {
  it('loaded BpfObjects dropped without close() are released by GC (safety net)', async () => {
    // vitest.config.mts runs the tests with --expose-gc.
    expect(typeof globalThis.gc).toBe('function');
    const path = shippedObjectPath('xdp_pass');
    BpfObject.open(path).close(); // warm-up: lazily opened fds (feature probes, vmlinux BTF)
    const before = openFdCount();
    const count = 20;
    const refs: WeakRef<BpfObject>[] = [];
    // In a function of its own, so no local of this frame keeps an object alive.
    const openAndDrop = (): number => {
      for (let i = 0; i < count; i++) {
        const obj = BpfObject.open(path);
        obj.loadSync();
        refs.push(new WeakRef(obj));
      }
      return openFdCount();
    };
    // Each loaded object holds at least its program's fd.
    expect(openAndDrop()).toBeGreaterThanOrEqual(before + count);
    await gcUntil(() => refs.every((r) => r.deref() === undefined) && openFdCount() === before);
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(openFdCount()).toBe(before);
  });
});
