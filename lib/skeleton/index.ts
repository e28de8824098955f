/**
 * Typed skeletons: `libbpf-node gen` / {@link generateSkeleton} turn a BPF object into a
 * TypeScript module whose maps, programs, globals and ring-buffer records the compiler checks;
 * {@link defineSkeleton} is the run time that module uses. See `docs/skeletons.md`.
 *
 * @example
 * ```ts
 * import { generateSkeleton } from 'libbpf-node/skeleton';
 * const { code } = generateSkeleton('./bootstrap.bpf.o', { records: { events: 'struct event' } });
 * ```
 * @module libbpf-node/skeleton
 */
export { generateSkeleton, pascalCase, type GenerateOptions, type GeneratedSkeleton } from './generate';
export {
  defineSkeleton,
  SkeletonMismatchError,
  type SkeletonSpec,
  type SkeletonTypes,
  type SkeletonCommon,
  type SkeletonClass,
  type OpenedSkeleton,
  type LoadedSkeleton,
} from './runtime';
export type { U64Mode, SkeletonManifest, ManifestMap, ManifestVar, ManifestSection, ManifestRecord } from './manifest';
export { codecShape, type CodecShape, type ShapeMember } from '../btf/codec';
export type { BpfMap } from '../map/map';
export type { BpfProgram } from '../program';
