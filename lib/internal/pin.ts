/**
 * Checks for bpffs pin paths and pin folders, shared by maps, programs, links and the root array.
 *
 * @internal
 * @module
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkNonEmptyString } from './validate';

/** statfs magic of bpffs. */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** Absolute and free of `..`: the shape every pin path and pin folder must have. */
function checkShape(path: unknown, name: string): asserts path is string {
  checkNonEmptyString(path, name);
  if (!path.startsWith('/')) throw new RangeError(`${name} must be absolute, inside a bpffs mount such as /sys/fs/bpf; got '${path}'`);
  if (path.split('/').includes('..')) throw new RangeError(`${name} must not contain '..'; got '${path}'`);
}

/**
 * The one pin-path check (maps, programs, links): throws a RangeError unless `path` is absolute,
 * free of `..`, and in a folder on a bpffs mount. A missing folder: a RangeError when a pin is to
 * be made there (`purpose: 'create'`); left to the native call otherwise, which reports ENOENT.
 * The native side re-checks the same rules (native/internal/pin.h) before it pins or unlinks anything.
 */
export function checkPinPath(path: unknown, name = 'path', purpose: 'create' | 'use' = 'use'): asserts path is string {
  checkShape(path, name);
  let type: number | undefined;
  try {
    type = statfsSync(dirname(path)).type;
  } catch (e) {
    if (purpose === 'create') throw new RangeError(`${name} '${path}': its folder ${dirname(path)} does not exist (${(e as Error).message})`);
    return;
  }
  if (type !== BPF_FS_MAGIC) throw new RangeError(`${name} '${path}' is not inside a bpffs mount (a BPF filesystem, such as /sys/fs/bpf)`);
}

/**
 * The filesystem of `path` or, where `path` does not exist yet, of its nearest existing parent
 * (`at`). Throws what statfs throws for anything but a missing path.
 */
export function nearestFilesystem(path: string): { at: string; type: number } {
  for (let at = path; ; at = dirname(at)) {
    try {
      return { at, type: statfsSync(at).type };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || at === '/') throw e;
    }
  }
}

/**
 * The check for a folder of pins that may not exist yet (`obj.pinMaps(dir)` makes it): `dir`, or
 * its nearest existing parent, must be on bpffs. Checked before anything is made, so a `dir`
 * elsewhere (`/etc/x/y`) is refused with nothing created.
 */
export function checkPinDir(dir: unknown, name = 'dir'): asserts dir is string {
  checkShape(dir, name);
  let type: number;
  try {
    type = nearestFilesystem(dir).type;
  } catch (e) {
    throw new RangeError(`${name} '${dir}': cannot check that it is on bpffs (${(e as Error).message})`);
  }
  if (type !== BPF_FS_MAGIC) throw new RangeError(`${name} '${dir}' is not inside a bpffs mount (a BPF filesystem, such as /sys/fs/bpf)`);
}
