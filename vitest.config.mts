import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.mts'],
    // Kernel state (interfaces, bpffs pins, XDP hooks) is per machine: run files one at a time.
    fileParallelism: false,
    // For the finalizer tests: let them trigger garbage collection.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
