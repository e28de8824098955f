// Mutation testing of the pure-logic modules (npm run test:mutation runs test/support/mutation.mjs,
// which runs Stryker once per module, one process at a time). The tests are the pure ones
// (vitest.mutation.config.mts). MUTATE names the module; the default is all of them.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.mts' },
  mutate: (process.env.MUTATE ?? 'lib/btf/btf.ts,lib/btf/codec.ts,lib/map/cidr.ts,lib/fleet/config.ts,lib/fleet/plan.ts,lib/errors.ts,lib/cli/command.ts').split(','),
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  reporters: ['clear-text', 'json'],
  jsonReporter: { fileName: process.env.MUTATION_REPORT ?? 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['ext', 'bench', 'deploy', 'docs', 'test/kernels/.cache', 'reports'],
  thresholds: { high: 80, low: 60, break: null },
  timeoutMS: 10_000,
  // A static mutant (in module-level code) reruns every test: hours for the BTF tests.
  ignoreStatic: true,
};
