/**
 * Where this package is installed, found without loading the native addon (so that
 * `npx libbpf-node cflags` works before the addon is built).
 *
 * @internal
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root: the nearest folder above this file holding binding.gyp. */
function findPackageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`libbpf-node: cannot find the package root above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** @internal */
export const PACKAGE_ROOT = findPackageRoot();
