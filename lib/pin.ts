/**
 * Checks for bpffs pin paths, shared by programs and links.
 *
 * @internal
 * @module
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkNonEmptyString } from './validate';

const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * The one pin-path check (maps, programs, links): throws a RangeError unless `path` is absolute,
 * free of `..`, and in a folder on a bpffs mount. A missing folder: a RangeError when a pin is to
 * be made there (`purpose: 'create'`); left to the native call otherwise, which reports ENOENT.
 * The native side re-checks the same rules (native/pin.h) before it pins or unlinks anything.
 */
export function checkPinPath(path: unknown, name = 'path', purpose: 'create' | 'use' = 'use'): asserts path is string {
  checkNonEmptyString(path, name);
  if (!path.startsWith('/')) throw new RangeError(`${name} must be absolute, inside a bpffs mount such as /sys/fs/bpf; got '${path}'`);
  if (path.split('/').includes('..')) throw new RangeError(`${name} must not contain '..'; got '${path}'`);
  let type: number | undefined;
  try {
    type = statfsSync(dirname(path)).type;
  } catch (e) {
    if (purpose === 'create') throw new RangeError(`${name} '${path}': its folder ${dirname(path)} does not exist (${(e as Error).message})`);
    return;
  }
  if (type !== BPF_FS_MAGIC) throw new RangeError(`${name} '${path}' is not inside a bpffs mount (a BPF filesystem, such as /sys/fs/bpf)`);
}
