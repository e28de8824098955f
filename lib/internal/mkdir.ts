/**
 * `mkdir -p` that reports what the kernel said. Node's recursive `mkdirSync` turns some refusals
 * into a misleading ENOENT (EROFS on a read-only mount) and spins when mkdir says ENOENT under a
 * parent that exists (a stale bind mount); this walks up to the nearest existing folder, then
 * makes each missing component once, and throws a {@link BpfError} naming the component that
 * failed with the kernel's errno.
 *
 * @internal
 * @module
 */
import { mkdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { BpfError } from '../errors';

function errnoOf(e: unknown): number {
  const n = (e as NodeJS.ErrnoException).errno;
  return n ? Math.abs(n) : constants.errno.EIO;
}

/**
 * Makes `path` and any missing parents (mode `mode`). `what` names the folder for the message
 * ("pin folder", "state folder").
 *
 * @throws {@link BpfError} op `mkdir` with the kernel's errno (`EROFS`, `EACCES`, `ENOTDIR` when a
 *   component is a file) and the component that failed
 */
export function makeDirectories(path: string, what: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a component above is a file; the walk reaches it and says so.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || at === '/') throw new BpfError('stat', errnoOf(e), `${what} '${path}': cannot inspect '${at}'`);
      missing.unshift(at);
      continue;
    }
    if (!isDir) throw new BpfError('mkdir', constants.errno.ENOTDIR, `${what} '${path}': '${at}' exists and is not a folder`);
    break;
  }
  for (const at of missing) {
    try {
      mkdirSync(at, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(at, { throwIfNoEntry: false })?.isDirectory()) continue; // made meanwhile
      // ENOENT right after the parent was found (or made): the parent was deleted while still
      // reachable (a process's removed cwd, a stale bind mount); recursive mkdir would spin here.
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (its parent exists but was deleted: a stale mount or a removed folder?)' : '';
      throw new BpfError('mkdir', errnoOf(e), `${what} '${path}': cannot make '${at}'${why}`);
    }
  }
}
