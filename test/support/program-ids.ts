// For the lifetime tests: whether a program is still in the kernel, and a bounded wait for a
// condition (the kernel frees a program once its last reference drops, which closes through
// the thread pool or a worker's end may take a moment to reach).
import { BpfProgram } from '../../lib/program';

/** Whether a program with this id is still in the kernel. */
export function programExists(id: number): boolean {
  try {
    BpfProgram.openById(id).close();
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` holds or `ms` passed; returns whether it holds. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return check();
}
