/**
 * {@link enableRunStats}: the kernel's per-program run count and run time (BPF_ENABLE_STATS),
 * counted only while someone asks for them.
 *
 * @module
 */
import { binding } from './internal/native';

/**
 * A request that the kernel count every BPF program's runs and run time. Counting costs a
 * little on every program run, so it stays on only while at least one request is open (the
 * kernel refcounts them); {@link RunStats.close} (or `using`, or process exit) withdraws this one.
 * The counts then appear in `BpfProgram.kernelInfo()` as `runCount` and `runTimeNs`.
 */
export class RunStats implements Disposable {
  #fd: number | undefined;

  /** @internal */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('RunStats is made by enableRunStats()');
    this.#fd = fd;
  }

  /** Whether this request is still open. */
  get enabled(): boolean {
    return this.#fd !== undefined;
  }

  /** Withdraws this request. Idempotent. */
  close(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    // Native closes only an fd it handed out as a statistics request: a RunStats made with
    // `new` from any other number closes nothing.
    if (fd !== undefined) binding.closeStats(fd);
  }

  /** Same as {@link RunStats.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Asks the kernel to count every BPF program's runs and run time until the returned handle is
 * closed.
 *
 * Minimum kernel: 5.8 (BPF_ENABLE_STATS).
 *
 * @throws {@link BpfError} `EPERM` without CAP_SYS_ADMIN; `EINVAL` on kernels without BPF_ENABLE_STATS
 * @example
 * ```ts
 * using stats = enableRunStats();
 * // … traffic …
 * const { runCount, runTimeNs } = BpfProgram.openById(id).kernelInfo();
 * ```
 */
export function enableRunStats(): RunStats {
  return new RunStats(binding.enableStats());
}
