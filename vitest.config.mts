import { defineConfig } from 'vitest/config';
import { TAGS } from './test/support/tags.mjs';

// Under emulation (the kernel matrix, test/kernels/run.sh) everything runs several times slower.
const slow = Math.max(1, Number(process.env.LIBBPF_NODE_TEST_SLOW) || 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file must leave no kernel objects behind (fds, pins, namespaces, recorded programs).
    setupFiles: ['./test/support/leak-check.ts'],
    // Subsets a test file opts into with `// @module-tag <name>` (test/support/tags.mjs).
    tags: TAGS,
    reporters: ['default', './test/support/summary-reporter.mts'],
    // Kernel state (interfaces, bpffs pins, XDP hooks) is per machine: run files one at a time.
    fileParallelism: false,
    // For the finalizer tests: let them trigger garbage collection.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000 * slow,
    hookTimeout: 60_000 * slow,
  },
});
