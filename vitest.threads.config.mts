// A representative part of the suite under vitest's `pool: 'threads'`: every test file runs in
// a worker thread, so the addon is loaded once per worker and torn down with it (native
// lifetime, cleanup hooks, async completions during teardown). `npm run test:threads`, which
// starts vitest with --expose-gc (V8 flags are per process; workers cannot take them).
// perfbuf.test.ts stays out: its lost-sample test needs the kernel to report drops on the CPU
// that overflowed, and a pool thread can stay on another CPU for its 10,000 extra runs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'threads',
    // Each file must leave no kernel objects behind (fds, pins, namespaces, recorded programs).
    setupFiles: ['./test/support/leak-check.ts'],
    include: [
      'test/object.test.ts',
      'test/lifecycle.test.ts',
      'test/errors.test.ts',
      'test/logger.test.ts',
      'test/verifier.test.ts',
      'test/reliability/reentrancy.test.ts',
      'test/events/ringbuf.test.ts',
      'test/events/perfbuf-lifetime.test.ts',
      'test/map/access.test.ts',
      'test/map/mmap.test.ts',
      'test/test-run.test.ts',
      'test/link.test.ts',
      'test/attach/xdp.test.ts',
      'test/attach/tc.test.ts',
      'test/rootarray/lock.test.ts',
    ],
    reporters: ['default', './test/support/summary-reporter.mts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
