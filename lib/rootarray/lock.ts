/**
 * Cross-process advisory locks (flock) on a path, taken without blocking the event loop.
 *
 * @internal
 * @module
 */
import { makeDirectories } from '../internal/mkdir';
import { setTimeout as sleep } from 'node:timers/promises';
import { BpfStateError } from '../errors';
import { binding } from '../internal/native';
import { checkBpffs } from './state';

/** A held lock; release it with `release()` or `using`. */
export interface HeldLock extends Disposable {
  release(): void;
}

/**
 * Takes an exclusive flock on `path` (a file or folder), retrying with a growing pause while
 * another process holds it. The kernel releases the lock if this process dies.
 *
 * @throws {@link BpfStateError} when the lock is still held by someone else after `timeoutMs`
 */
export async function lockPath(path: string, timeoutMs = 30_000): Promise<HeldLock> {
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  for (;;) {
    const fd = binding.tryLock(path);
    if (fd >= 0) {
      let held = true;
      const release = (): void => {
        if (held) binding.unlock(fd);
        held = false;
      };
      return { release, [Symbol.dispose]: release };
    }
    if (Date.now() >= deadline) {
      throw new BpfStateError(`${path} is locked by another process (waited ${timeoutMs} ms)`);
    }
    // Short, jittered pauses: a waiter that backs off far longer than a holder holds the lock
    // loses every race to newcomers (seen with 8 writers at 50 ms).
    await sleep(pause * (0.5 + Math.random()));
    pause = Math.min(pause * 2, 8);
  }
}

/**
 * Takes the lock that serializes every change to the root arrays under `base`: a flock on the
 * pin base folder itself, which nothing ever removes (a lock on a folder that detach deletes
 * and attach recreates would let two processes each hold "the" lock). Checks first that `base`
 * is on bpffs, so a wrong mount fails in one line instead of a mkdir failing in a loop.
 *
 * @throws {@link BpfStateError} when `base` is not on bpffs, or the lock stays held past `timeoutMs`
 */
export async function lockPinBase(base: string, timeoutMs = 30_000): Promise<HeldLock> {
  checkBpffs(base);
  makeDirectories(base, 'pin base');
  return lockPath(base, timeoutMs);
}
