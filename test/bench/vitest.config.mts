// Measurements, not tests: run with `npx vitest run -c test/bench/vitest.config.ts`. They print
// what they measure and assert only that the programs did what was measured, never a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/bench/**/*.measure.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
  },
});
