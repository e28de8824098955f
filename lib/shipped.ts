/**
 * Paths of the BPF objects shipped with the package (built from `bpf/*.bpf.c`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './internal/native';

/** The kernel programs shipped with libbpf-node. */
export type ShippedObject =
  | 'xdp_pass'
  | 'xdp_drop'
  | 'xdp_count'
  | 'xdp_root'
  | 'xdp_filter'
  | 'xdp_sampler'
  | 'xdp_counter'
  | 'tc_counter';

/** The names of all shipped objects. */
export const shippedObjects: readonly ShippedObject[] = [
  'xdp_pass',
  'xdp_drop',
  'xdp_count',
  'xdp_root',
  'xdp_filter',
  'xdp_sampler',
  'xdp_counter',
  'tc_counter',
];

/** The folder holding the shipped `.bpf.o` files. */
export const shippedObjectDir = join(PACKAGE_ROOT, 'dist', 'bpf');

/**
 * The path of a shipped BPF object, for {@link BpfObject.open}.
 *
 * @example
 * ```ts
 * using obj = BpfObject.open(shippedObjectPath('xdp_count'));
 * ```
 * @throws Error when the package was installed without its BPF objects (run `npm run build:bpf`)
 */
export function shippedObjectPath(name: ShippedObject): string {
  if (!shippedObjects.includes(name)) {
    throw new RangeError(`no shipped BPF object '${String(name)}' (there are: ${shippedObjects.join(', ')})`);
  }
  const path = join(shippedObjectDir, `${name}.bpf.o`);
  if (!existsSync(path)) throw new Error(`${path} is missing: build the BPF objects with 'npm run build:bpf'`);
  return path;
}
