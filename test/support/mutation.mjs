// npm run test:mutation [-- module.ts ...]: mutation testing of the pure-logic modules, one
// module at a time (Stryker with concurrency 1: the machine is shared), then one score a module.
// Score = (killed + timed out) / (every valid mutant, no coverage included), as Stryker counts.
// Mutants listed as equivalent in docs/testing.md are counted like any survivor here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Each module and its unit tests (all tagged `pure`): only these run against its mutants.
const MODULES = {
  'lib/map/cidr.ts': ['test/map/cidr.test.ts'],
  'lib/fleet/plan.ts': ['test/fleet/plan.test.ts'],
  'lib/errors.ts': ['test/errors.test.ts', 'test/errors-advice.test.ts'],
  'lib/fleet/config.ts': ['test/fleet/config.test.ts', 'test/fleet/config-checks.test.ts'],
  'lib/cli/command.ts': ['test/cli/command.test.ts'],
  'lib/btf/btf.ts': ['test/btf/btf.test.ts', 'test/btf/codec.test.ts'],
  'lib/btf/codec.ts': ['test/btf/codec.test.ts', 'test/btf/btf.test.ts'],
};
const modules = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(MODULES);

const rows = [];
let failed = false;
for (const mod of modules) {
  const name = mod.replace(/^lib\//, '').replace(/\.ts$/, '').replaceAll('/', '-');
  const report = join('reports', 'mutation', `${name}.json`);
  const started = Date.now();
  const r = spawnSync('npx', ['--no-install', 'stryker', 'run'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATE: mod, MUTATION_REPORT: report, MUTATION_TESTS: (MODULES[mod] ?? []).join(',') },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (r.status !== 0) {
    rows.push({ mod, score: 'failed', seconds });
    failed = true;
    continue;
  }
  const json = JSON.parse(readFileSync(join(root, report), 'utf8'));
  const count = {};
  for (const file of Object.values(json.files)) for (const m of file.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const detected = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const valid = detected + (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  rows.push({ mod, score: valid ? ((100 * detected) / valid).toFixed(1) : 'n/a', killed: detected, survived: count.Survived ?? 0, noCoverage: count.NoCoverage ?? 0, seconds });
}

console.log('\nmutation score per module (aim: 80)');
for (const r of rows) {
  console.log(`  ${r.mod.padEnd(22)} ${String(r.score).padStart(6)}%  killed ${r.killed ?? '-'}, survived ${r.survived ?? '-'}, no coverage ${r.noCoverage ?? '-'}  (${r.seconds} s)`);
}
process.exit(failed ? 1 : 0);
