// A representative part of the suite, the test files tagged `threads`, under vitest's
// `pool: 'threads'`: every test file runs in a worker thread, so the addon is loaded once per
// worker and torn down with it (native lifetime, cleanup hooks, async completions during
// teardown). `npm run test:threads`, which starts vitest with --expose-gc (V8 flags are per
// process; workers cannot take them). perfbuf.test.ts carries no such tag: its lost-sample test
// needs the kernel to report drops on the CPU that overflowed, and a pool thread can stay on
// another CPU for its 10,000 extra runs.
import { defineConfig } from 'vitest/config';
import { filesTagged, TAGS } from './test/support/tags.mjs';

export default defineConfig({
  test: {
    pool: 'threads',
    // Each file must leave no kernel objects behind (fds, pins, namespaces, recorded programs).
    setupFiles: ['./test/support/leak-check.ts'],
    // The files that carry `// @module-tag threads` (test/support/tags.mjs): a new test file opts in
    // where it is written.
    include: filesTagged('threads'),
    tags: TAGS,
    reporters: ['default', './test/support/summary-reporter.mts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
