// The tests mutation testing runs (npm run test:mutation, stryker.config.mjs): the pure-logic
// test files, tagged `// @module-tag pure` (test/support/tags.mjs). No kernel, no namespaces:
// Stryker runs them once per mutant.
import { defineConfig } from 'vitest/config';
import { filesTagged, TAGS } from './test/support/tags.mjs';

export default defineConfig({
  test: {
    // MUTATION_TESTS (comma-separated, set by test/support/mutation.mjs) narrows it to a module's own tests.
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : filesTagged('pure'),
    tags: TAGS,
    testTimeout: 60_000,
  },
});
