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
 * Throws a RangeError unless `path` is absolute, free of `..`, and in a folder on a bpffs mount.
 * (A missing folder is left to the native call, which reports it as ENOENT.)
 */
export function checkPinPath(path: unknown, name = 'path'): asserts path is string {
  checkNonEmptyString(path, name);
  if (!path.startsWith('/')) throw new RangeError(`${name} must be absolute, inside a bpffs mount such as /sys/fs/bpf; got '${path}'`);
  if (path.split('/').includes('..')) throw new RangeError(`${name} must not contain '..'; got '${path}'`);
  let type: number | undefined;
  try {
    type = statfsSync(dirname(path)).type;
  } catch {
    return;
  }
  if (type !== BPF_FS_MAGIC) throw new RangeError(`${name} '${path}' is not inside a bpffs mount (such as /sys/fs/bpf)`);
}
