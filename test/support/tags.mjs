// Test subsets that live with the tests: a test file opts into a subset with a comment line
//
//   // @module-tag kernel-slice
//
// (vitest's own file-tag syntax, so `npx vitest run --tags-filter kernel-slice` selects the same
// tests). The configs and scripts that run a subset as whole files (vitest.threads.config.mts,
// test/kernels/run.sh --slice) take their file lists from here, so nothing keeps a list by hand.
//
//   node test/support/tags.mjs kernel-slice     prints the files of a subset, one a line
//   node test/support/tags.mjs                  prints every tag with its files
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The subsets, for vitest's `tags` option (a tag not defined here is an error in vitest). */
export const TAGS = [
  { name: 'kernel-slice', description: 'touches kernel features: run on every kernel of the matrix (npm run test:kernels -- --slice)' },
  { name: 'threads', description: 'also run under pool: threads, one worker thread per file (npm run test:threads)' },
  { name: 'pure', description: 'pure logic, no kernel: the tests mutation testing runs (npm run test:mutation)' },
];

// The same pattern vitest reads file tags with.
const TAG = /(\/\/|\*)\s*@module-tag\s+([\w\-/]+)\b/g;

/** Every test file under test/, relative to the project root, in name order. */
export function testFiles() {
  return readdirSync(join(root, 'test'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test', f))
    .sort();
}

/** The tags a file declares. */
export function tagsOf(file) {
  return [...readFileSync(join(root, file), 'utf8').matchAll(TAG)].map((m) => m[2]);
}

/** The test files (relative to the project root) that declare `tag`. */
export function filesTagged(tag) {
  if (!TAGS.some((t) => t.name === tag)) throw new Error(`unknown test tag '${tag}' (known: ${TAGS.map((t) => t.name).join(', ')})`);
  return testFiles().filter((f) => tagsOf(f).includes(tag));
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const tag = process.argv[2];
  try {
    if (tag) console.log(filesTagged(tag).join('\n'));
    else for (const t of TAGS) console.log(`${t.name}: ${t.description}\n  ${filesTagged(t.name).join('\n  ')}`);
  } catch (e) {
    console.error(String(e.message));
    process.exit(2);
  }
}
