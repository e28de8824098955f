/**
 * The run time of generated skeletons: {@link defineSkeleton} turns what `libbpf-node gen` wrote
 * (types and a fingerprint) into a loader whose phases are types: `open()` gives an
 * {@link OpenedSkeleton} (`.rodata` writable), whose `load()` gives a {@link LoadedSkeleton}
 * (`.rodata` read-only, typed maps and ring buffers). Everything underneath is the library's own
 * {@link BpfObject}, {@link BpfMap} views and BTF codecs.
 *
 * @module
 */
import { codecFromBtf, type Codec, type CodecShape, type ShapeMember } from '../btf/codec';
import { BpfStateError } from '../errors';
import type { PerfBuffer, PerfBufferOptions } from '../events/perfbuf';
import type { EventReaderOptions, RingBuffer } from '../events/ringbuf';
import type { BpfMap } from '../map/map';
import { BpfObject, type LoadOptions, type OpenOptions } from '../object';
import type { BpfProgram } from '../program';
import { checkObject, describe } from '../internal/validate';
import { describeObject, fingerprint, summarize, type SkeletonManifest, type U64Mode } from './manifest';

/**
 * What a generated module tells the run time: the skeleton's name, the object it was generated
 * from, the fingerprint to check, and the generator options that shape the types.
 */
export interface SkeletonSpec {
  /** The skeleton's name (`XdpCount`). */
  readonly name: string;
  /** The object file it was generated from, as given to the generator. */
  readonly source: string;
  /** The fingerprint of the object's maps, programs, globals and records (`sha256:...`). */
  readonly fingerprint: string;
  /** How 64-bit integers decode. */
  readonly u64: U64Mode;
  /** Record types named with `--record`, by map. */
  readonly records: Readonly<Record<string, string>>;
  /** One line per map, program, global and record, to say what changed on a mismatch. */
  readonly summary: readonly string[];
}

/**
 * The types a generated module fills in (each a property bag named after the C names).
 * `globals` maps section properties (`rodata`, `bss`, `data_foo`) to their variables; `frozen`
 * names the ones that become read-only at load (`'rodata'`, or `never`).
 */
export interface SkeletonTypes {
  readonly maps: object;
  readonly programs: object;
  readonly globals: object;
  readonly frozen: PropertyKey;
  readonly ringbufs: object;
  readonly perfbufs: object;
}

/** What both phases have. */
export interface SkeletonCommon<T extends SkeletonTypes> extends Disposable {
  /** The underlying object (for anything the skeleton does not type: attach options, pins...). */
  readonly object: BpfObject;
  /** The programs, by C function name. */
  readonly programs: T['programs'];
  /**
   * The maps, by C name, with the exact key and value types (per-CPU maps: one value per
   * possible CPU). Before load they can be configured (`maxEntries`...), not read.
   */
  readonly maps: T['maps'];
  /** The skeleton's spec: name, source and fingerprint. */
  readonly spec: SkeletonSpec;
  /** Closes the object (idempotent). */
  close(): void;
}

/**
 * An opened skeleton: programs and maps can be configured and every global variable set
 * (`.rodata` ones only now). `load()` loads it. No kernel object exists yet.
 *
 * @example
 * ```ts
 * using opened = Bootstrap.open('./bootstrap.bpf.o');
 * opened.rodata.min_len = 100;            // const volatile __u32 min_len
 * opened.maps.stats.maxEntries = 1024;
 * const skel = await opened.load();       // LoadedSkeleton: skel.rodata is now Readonly
 * ```
 */
export type OpenedSkeleton<T extends SkeletonTypes> = SkeletonCommon<T> & { readonly [K in keyof T['globals']]: T['globals'][K] } & {
  /**
   * Creates the maps and loads the programs (see {@link BpfObject.load}); resolves to the same
   * skeleton, typed as loaded: `.rodata` read-only, ring buffers readable.
   * @throws As {@link BpfObject.load} (`BpfVerifierError`, `BpfError`, `BpfStateError`).
   */
  load(options?: LoadOptions): Promise<LoadedSkeleton<T>>;
};

/**
 * A loaded skeleton: `.rodata` globals are read-only, `.data`/`.bss` read and written in place
 * (the program sees a write at once), maps and event records typed. Minimum kernel: as the
 * object needs (ring buffers 5.8, mmap-able globals 5.5).
 *
 * @example
 * ```ts
 * for await (const e of skel.ringbuf('events')) console.log(e.len, e.ts_ns);
 * skel.maps.stats.get(0x0800)?.packets;    // bigint
 * skel.bss.reported = 0n;
 * ```
 */
export type LoadedSkeleton<T extends SkeletonTypes> = SkeletonCommon<T> & {
  readonly [K in keyof T['globals']]: K extends T['frozen'] ? Readonly<T['globals'][K]> : T['globals'][K];
} & {
  /**
   * Reads the ring buffer `name`, its records decoded to the type the skeleton names.
   * @throws RangeError for an unknown map; {@link BpfStateError} after close.
   */
  ringbuf<K extends keyof T['ringbufs'] & string>(name: K, options?: Omit<EventReaderOptions<T['ringbufs'][K]>, 'codec'>): RingBuffer<T['ringbufs'][K]>;
  /**
   * Reads the perf event array `name`, its samples decoded to the type the skeleton names.
   * @throws RangeError for an unknown map; {@link BpfStateError} after close.
   */
  perfbuf<K extends keyof T['perfbufs'] & string>(name: K, options?: Omit<PerfBufferOptions<T['perfbufs'][K]>, 'codec'>): PerfBuffer<T['perfbufs'][K]>;
};

/** What {@link defineSkeleton} returns: the generated module exports it under the skeleton's name. */
export interface SkeletonClass<T extends SkeletonTypes> {
  /** The spec the module was generated with. */
  readonly spec: SkeletonSpec;
  /**
   * Opens the object (a path or its bytes) and checks that it still matches the skeleton.
   *
   * @throws {@link SkeletonMismatchError} when the object's maps, programs, globals or record
   *   types differ from what the skeleton was generated from (regenerate it).
   * @throws As {@link BpfObject.open} for a missing or invalid file.
   */
  open(source: string | Uint8Array, options?: OpenOptions): OpenedSkeleton<T>;
}

/**
 * Thrown by a skeleton's `open()` when the object no longer matches the generated module: it was
 * rebuilt with a changed struct, a renamed map or program... The message lists what changed and
 * says how to regenerate. The object is closed again before this is thrown.
 *
 * @example
 * ```ts
 * try {
 *   Bootstrap.open('./bootstrap.bpf.o');
 * } catch (e) {
 *   if (e instanceof SkeletonMismatchError) console.error(`regenerate: ${e.expected} != ${e.actual}`);
 * }
 * ```
 */
export class SkeletonMismatchError extends Error {
  /** The fingerprint the skeleton was generated with. */
  readonly expected: string;
  /** The fingerprint of the object that was opened. */
  readonly actual: string;
  /** @param message What changed. */
  constructor(message: string, expected: string, actual: string) {
    super(message);
    this.name = 'SkeletonMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a shape holds an integer that `u64: 'number'` turns into a number. */
function hasU64(shape: CodecShape): boolean {
  switch (shape.kind) {
    case 'int':
      return shape.big && shape.size <= 8;
    case 'array':
      return hasU64(shape.element);
    case 'object':
      return shape.members.some(memberHasU64);
    default:
      return false;
  }
}

function memberHasU64(m: ShapeMember): boolean {
  return m.kind === 'union' ? m.alternatives.some((alt) => alt.some(memberHasU64)) : hasU64(m.shape);
}

/** Converts a decoded value's 64-bit integers to numbers; RangeError (naming the field) if one does not fit. */
function toNumbers(shape: CodecShape, value: unknown, path: string): unknown {
  switch (shape.kind) {
    case 'int': {
      if (!(shape.big && shape.size <= 8) || typeof value !== 'bigint') return value;
      if (value > MAX_SAFE || value < -MAX_SAFE) {
        throw new RangeError(`${path}: ${value} does not fit in a number (it is beyond 2^53): this skeleton was generated with --u64 number; generate it without to get bigints`);
      }
      return Number(value);
    }
    case 'array':
      return hasU64(shape.element) ? (value as unknown[]).map((v, i) => toNumbers(shape.element, v, `${path}[${i}]`)) : value;
    case 'object': {
      const o = value as Record<string, unknown>;
      const visit = (members: readonly ShapeMember[]): void => {
        for (const m of members) {
          if (m.kind === 'union') m.alternatives.forEach(visit);
          else if (hasU64(m.shape)) o[m.key] = toNumbers(m.shape, o[m.key], `${path}.${m.key}`);
        }
      };
      visit(shape.members);
      return o;
    }
    default:
      return value;
  }
}

/** The codec of a type, with 64-bit integers as numbers when the skeleton asks. */
function skeletonCodec(obj: BpfObject, typeId: number, shape: CodecShape, u64: U64Mode, label: string): Codec<unknown> {
  const codec = codecFromBtf(obj.btf!, typeId, { label });
  if (u64 !== 'number' || !hasU64(shape)) return codec;
  return {
    size: codec.size,
    encode: (value, buf, offset) => codec.encode(value, buf, offset),
    decode: (buf, offset) => toNumbers(shape, codec.decode(buf, offset), label),
  };
}

/** A mismatch message: what the summaries say changed. */
function mismatchMessage(spec: SkeletonSpec, source: string | Uint8Array, actual: string, manifest: SkeletonManifest | undefined, reason?: string): string {
  const where = typeof source === 'string' ? `'${source}'` : 'the object passed as bytes';
  const lines: string[] = [];
  if (manifest !== undefined) {
    const now = summarize(manifest);
    const before = new Set(spec.summary);
    const after = new Set(now);
    for (const l of spec.summary) if (!after.has(l)) lines.push(`  - ${l}`);
    for (const l of now) if (!before.has(l)) lines.push(`  + ${l}`);
    if (lines.length === 0) lines.push('  the names and sizes are the same: a type changed inside (member names, types or order)');
  }
  if (reason !== undefined) lines.push(`  ${reason}`);
  const command = typeof source === 'string' ? source : spec.source;
  return (
    `the object ${where} does not match the skeleton ${spec.name}, generated from ${spec.source} ` +
    `(fingerprint ${spec.fingerprint}; this object's is ${actual}):\n${lines.join('\n')}\n` +
    `The object was rebuilt with changes: regenerate the skeleton (npx libbpf-node gen ${command} --name ${spec.name} --out <file>) and fix what no longer compiles.`
  );
}

/** The skeleton object behind both phases. */
class SkeletonInstance implements Disposable {
  readonly object: BpfObject;
  readonly spec: SkeletonSpec;
  readonly programs: Readonly<Record<string, BpfProgram>>;
  readonly maps: Readonly<Record<string, BpfMap>>;
  readonly #manifest: SkeletonManifest;

  constructor(obj: BpfObject, spec: SkeletonSpec, manifest: SkeletonManifest) {
    this.object = obj;
    this.spec = spec;
    this.#manifest = manifest;
    const programs: Record<string, BpfProgram> = Object.create(null);
    for (const p of manifest.programs) programs[p.name] = obj.program(p.name);
    this.programs = Object.freeze(programs);
    const maps: Record<string, BpfMap> = Object.create(null);
    for (const m of manifest.maps) {
      const map = obj.map(m.name);
      if (m.value === undefined || m.valueTypeId === undefined) {
        maps[m.name] = map;
        continue;
      }
      const codecs: { key?: Codec<unknown>; value?: Codec<unknown> } = {
        value: skeletonCodec(obj, m.valueTypeId, m.value, manifest.u64, 'value'),
      };
      if (m.key !== undefined && m.keyTypeId !== undefined) codecs.key = skeletonCodec(obj, m.keyTypeId, m.key, manifest.u64, 'key');
      maps[m.name] = map.typed(codecs) as BpfMap;
    }
    this.maps = Object.freeze(maps);
    for (const section of manifest.sections) {
      const vars: Record<string, unknown> = Object.create(null);
      for (const v of section.vars) {
        const convert = manifest.u64 === 'number' && hasU64(v.shape);
        if (section.kconfig === true) {
          Object.defineProperty(vars, v.name, { enumerable: true, get: () => this.#kconfig(section.section, v.name), set: () => this.#kconfig(section.section, v.name, true) });
          continue;
        }
        Object.defineProperty(vars, v.name, {
          enumerable: true,
          get: () => {
            const value = obj.globals.get(v.name);
            return convert ? toNumbers(v.shape, value, v.name) : value;
          },
          set: (value: unknown) => {
            if (section.readOnlyAfterLoad && obj.state !== 'opened') {
              throw new BpfStateError(`cannot set ${spec.name}.${section.property}.${v.name}: ${section.section} is read-only once the object is loaded (set it before load())`);
            }
            obj.globals.set(v.name, value);
          },
        });
      }
      Object.defineProperty(this, section.property, { enumerable: true, value: Object.seal(vars) });
    }
  }

  /** Reads a `.kconfig` extern (libbpf resolves them at load); refuses writes. */
  #kconfig(section: string, name: string, write = false): unknown {
    const obj = this.object;
    if (write) {
      throw new BpfStateError(`cannot set ${this.spec.name}.kconfig.${name}: libbpf fills ${section} in at load, from the kernel's config; give values with ${this.spec.name}.open(path, { kconfig: '${name}=...' })`);
    }
    if (obj.state !== 'loaded') {
      if (obj.state === 'closed') obj.map(section); // throws the usual BpfStateError for a closed object
      throw new BpfStateError(`cannot read ${this.spec.name}.kconfig.${name} before load(): libbpf fills ${section} in at load`);
    }
    const v = this.#manifest.sections.find((s) => s.section === section)!.vars.find((x) => x.name === name)!;
    const btf = obj.btf!;
    const datasec = btf.datasec(section)!;
    const typeId = (btf.type(datasec.vars.find((x) => x.name === name)!.typeId) as { typeId: number }).typeId;
    const codec = skeletonCodec(obj, typeId, v.shape, this.#manifest.u64, name);
    return codec.decode(obj.map(section).native.readValue(v.offset, codec.size), 0);
  }

  async load(options?: LoadOptions): Promise<this> {
    await this.object.load(options);
    return this;
  }

  #record(name: unknown, type: 'ringbuf' | 'perf_event_array'): Codec<unknown> | undefined {
    if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${describe(name)}`);
    const r = this.#manifest.records.find((x) => x.map === name && x.mapType === type);
    if (r === undefined) {
      const names = this.#manifest.records.filter((x) => x.mapType === type).map((x) => x.map);
      throw new RangeError(`skeleton ${this.spec.name} has no ${type === 'ringbuf' ? 'ring buffer' : 'perf event array'} '${name}' (it has: ${names.join(', ') || 'none'})`);
    }
    if (r.typeId === undefined || r.shape === undefined) return undefined;
    return skeletonCodec(this.object, r.typeId, r.shape, this.#manifest.u64, 'record');
  }

  ringbuf(name: string, options: Omit<EventReaderOptions<unknown>, 'codec'> = {}): RingBuffer<unknown> {
    checkObject(options, 'options');
    const codec = this.#record(name, 'ringbuf');
    return this.object.ringbuf<unknown>(name, codec ? { ...options, codec } : options);
  }

  perfbuf(name: string, options: Omit<PerfBufferOptions<unknown>, 'codec'> = {}): PerfBuffer<unknown> {
    checkObject(options, 'options');
    const codec = this.#record(name, 'perf_event_array');
    return this.object.perfbuf<unknown>(name, codec ? { ...options, codec } : options);
  }

  close(): void {
    this.object.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The loader of a generated skeleton (generated modules call this; you do not need to).
 *
 * @param spec What the generator wrote: name, source, fingerprint, options, summary.
 * @returns An object whose `open(path)` opens the object, checks its fingerprint and returns the
 *   typed {@link OpenedSkeleton}.
 * @throws TypeError for a spec that is not an object.
 * @example
 * ```ts
 * // In a generated module:
 * export const Minimal = defineSkeleton<MinimalTypes>({ name: 'Minimal', source: 'minimal.bpf.o', fingerprint: 'sha256:...', u64: 'bigint', records: {}, summary: [] });
 * // In your code (minimum kernel: as the object's programs need):
 * using skel = Minimal.open('./minimal.bpf.o');
 * const loaded = await skel.load();
 * ```
 */
export function defineSkeleton<T extends SkeletonTypes>(spec: SkeletonSpec): SkeletonClass<T> {
  checkObject(spec, 'spec');
  const frozen = Object.freeze({ ...spec, records: Object.freeze({ ...spec.records }), summary: Object.freeze([...spec.summary]) });
  return Object.freeze({
    spec: frozen,
    open(source: string | Uint8Array, options?: OpenOptions): OpenedSkeleton<T> {
      const obj = BpfObject.open(source, options);
      try {
        let manifest: SkeletonManifest | undefined;
        let actual = '(none)';
        let reason: string | undefined;
        try {
          manifest = describeObject(obj, { records: frozen.records, u64: frozen.u64 });
          actual = fingerprint(manifest);
        } catch (e) {
          reason = e instanceof Error ? e.message : String(e);
        }
        if (manifest === undefined || actual !== frozen.fingerprint) {
          throw new SkeletonMismatchError(mismatchMessage(frozen, source, actual, manifest, reason), frozen.fingerprint, actual);
        }
        return new SkeletonInstance(obj, frozen, manifest) as unknown as OpenedSkeleton<T>;
      } catch (e) {
        obj.close();
        throw e;
      }
    },
  });
}
