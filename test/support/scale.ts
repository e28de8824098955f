// The emulation scale of the kernel matrix (test/kernels/run.sh), for tests and the child
// processes they spawn (no vitest here: test/reliability/ children import it too).

/**
 * How many times slower than real hardware this run is: LIBBPF_NODE_TEST_SLOW, set by the kernel
 * matrix for its emulated guests; 1 otherwise.
 */
export const slow = Math.max(1, Number(process.env.LIBBPF_NODE_TEST_SLOW) || 1);

/** A fixed timeout (ms) scaled for emulation. */
export const scaledMs = (ms: number): number => ms * slow;

/** The size of a heavy sweep (iterations, packets, cycles) scaled down for emulation, at least `min`. */
export const scaledCount = (n: number, min = 1): number => Math.max(min, Math.round(n / slow));
