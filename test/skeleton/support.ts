// Helpers of the skeleton tests: generate a skeleton into dist/test-skeleton/ and import it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { generateSkeleton, type GenerateOptions, type GeneratedSkeleton } from '../../lib/skeleton/index';

export const root = join(__dirname, '..', '..');
/** Where the tests write generated modules (dist/ is not committed). */
export const outDir = join(root, 'dist', 'test-skeleton');

/**
 * Generates the skeleton of `object` into `dir/file` importing the run time from the library's
 * sources (so that it shares classes with the test), and returns the module and its text.
 */
export async function loadSkeleton<M>(object: string, file: string, options: GenerateOptions = {}): Promise<{ module: M; generated: GeneratedSkeleton; path: string }> {
  const dir = join(outDir, 'run');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const importFrom = relative(dir, join(root, 'lib', 'skeleton', 'index'));
  const generated = generateSkeleton(object, { ...options, importFrom });
  writeFileSync(path, generated.code);
  const module = (await import(path)) as M;
  return { module, generated, path };
}
