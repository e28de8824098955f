/**
 * What a skeleton depends on in a BPF object, as data: its maps, programs, global variables and
 * event records with their names, sizes and codec shapes, and a fingerprint (a hash) of it all.
 * The generator writes the fingerprint into the generated module; the run time computes it again
 * from the object it opens, with this same code, and refuses an object that no longer matches.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import type { Btf, BtfType } from '../btf/btf';
import { codecShape, describeBtfType, type CodecShape, type ShapeMember } from '../btf/codec';
import type { BpfObject } from '../object';

/** How 64-bit integers appear in a skeleton: `bigint` (exact, the default) or `number`. */
export type U64Mode = 'bigint' | 'number';

/** Map types whose values are one per possible CPU. */
export const PER_CPU_MAP_TYPES: ReadonlySet<string> = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
/** Map types whose values are references (programs, maps, fds): not typed from BTF. */
const REFERENCE_MAP_TYPES: ReadonlySet<string> = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array', 'cgroup_array', 'sockmap', 'sockhash', 'xskmap', 'stack_trace']);
/** Map types read as streams of records. */
const EVENT_MAP_TYPES: ReadonlySet<string> = new Set(['ringbuf', 'perf_event_array']);

/** One map of the object (not the maps libbpf makes for global variables). */
export interface ManifestMap {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
  /** The key's shape when the map's BTF names a key type and the map is typed from it. */
  readonly key?: CodecShape;
  readonly keyTypeId?: number;
  readonly value?: CodecShape;
  readonly valueTypeId?: number;
}

/** A global variable. */
export interface ManifestVar {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly shape: CodecShape;
  /** The C declaration, for comments. */
  readonly declaration: string;
}

/** A data section of global variables (`.rodata`, `.data.foo`, `.bss`). */
export interface ManifestSection {
  /** The ELF section. */
  readonly section: string;
  /** The property of the skeleton: `rodata`, `data_foo`, `bss`. */
  readonly property: string;
  /** Writable after load (`.data*`, `.bss`) or only before (`.rodata*`). */
  readonly readOnlyAfterLoad: boolean;
  /** `.kconfig`: libbpf fills it in at load (from the kernel's config and the `kconfig` open option); read-only. */
  readonly kconfig?: boolean;
  readonly vars: readonly ManifestVar[];
}

/** The record type of a ring buffer or perf event array. */
export interface ManifestRecord {
  readonly map: string;
  readonly mapType: 'ringbuf' | 'perf_event_array';
  /** The C type (`struct event`), or undefined when the records stay Buffers. */
  readonly type?: string;
  readonly typeId?: number;
  readonly shape?: CodecShape;
  /** How the type was found: `--record`, a `<map>_record` variable, the only `.types.*` variable. */
  readonly from?: 'option' | 'variable' | 'types-section';
}

/** Everything a skeleton depends on. */
export interface SkeletonManifest {
  readonly object: string;
  readonly u64: U64Mode;
  readonly programs: readonly { readonly name: string; readonly section: string }[];
  readonly maps: readonly ManifestMap[];
  readonly sections: readonly ManifestSection[];
  readonly records: readonly ManifestRecord[];
}

/** Options that change the manifest (and so the fingerprint). */
export interface ManifestOptions {
  /** Record types by event map name, as C type names: `{ events: 'struct event' }`. */
  readonly records?: Readonly<Record<string, string>>;
  /** 64-bit integers as `bigint` (default) or `number`. */
  readonly u64?: U64Mode;
}

/** The skeleton property for a data section: `.rodata` → `rodata`, `.data.ints` → `data_ints`. */
export function sectionProperty(section: string): string {
  const p = section.replace(/^\./, '').replace(/[^A-Za-z0-9_$]/g, '_');
  return /^[0-9]/.test(p) ? `_${p}` : p;
}

/** Finds a type by its C name: `struct event`, `union u`, `enum e` or a typedef / plain name. */
export function findType(btf: Btf, spec: string): BtfType | undefined {
  const m = /^\s*(struct|union|enum)\s+([A-Za-z_]\w*)\s*$/.exec(spec);
  if (m) {
    const kind = m[1] === 'struct' ? 'STRUCT' : m[1] === 'union' ? 'UNION' : 'ENUM';
    return btf.findByName(m[2]!, kind) ?? (kind === 'ENUM' ? btf.findByName(m[2]!, 'ENUM64') : undefined);
  }
  const name = spec.trim();
  if (!/^[A-Za-z_]\w*$/.test(name)) return undefined;
  return btf.findByName(name, 'TYPEDEF') ?? btf.findByName(name, 'STRUCT') ?? btf.findByName(name, 'UNION');
}

/** The C name of a type for messages and comments (`struct event`, `event_t`). */
function cName(btf: Btf, id: number): string {
  const t = btf.type(id);
  switch (t.kind) {
    case 'STRUCT':
      return `struct ${t.name || '(anon)'}`;
    case 'UNION':
      return `union ${t.name || '(anon)'}`;
    case 'ENUM':
    case 'ENUM64':
      return `enum ${t.name || '(anon)'}`;
    default:
      return t.name || t.kind.toLowerCase();
  }
}

/** The type of a variable declared in any data section, by name. */
function variableType(btf: Btf, name: string): number | undefined {
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    if (t.kind === 'VAR' && t.name === name) return t.typeId;
  }
  return undefined;
}

/** Variables declared in sections libbpf ignores, named `.types*`. */
function typesSectionVars(btf: Btf): Array<{ name: string; typeId: number }> {
  const out: Array<{ name: string; typeId: number }> = [];
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    if (t.kind !== 'DATASEC' || !t.name.startsWith('.types')) continue;
    for (const v of t.vars) {
      const variable = btf.type(v.typeId);
      if (variable.kind === 'VAR') out.push({ name: v.name, typeId: variable.typeId });
    }
  }
  return out;
}

/**
 * The manifest of an opened (not necessarily loaded) object.
 *
 * @throws TypeError When the object has no BTF, or a `records` entry names a map that is not a
 *   ring or perf buffer, or a type the object's BTF does not have.
 */
export function describeObject(obj: BpfObject, options: ManifestOptions = {}): SkeletonManifest {
  const btf = obj.btf;
  if (btf === undefined) throw new TypeError(`object '${obj.name}' has no BTF: build it with clang -g`);
  const u64 = options.u64 ?? 'bigint';
  const records = options.records ?? {};
  const programs = obj.programs.map((p) => ({ name: p.name, section: p.native.info().section }));
  const maps: ManifestMap[] = [];
  const sections: ManifestSection[] = [];
  const eventMaps: { name: string; type: 'ringbuf' | 'perf_event_array' }[] = [];
  const declarations = new Map(obj.globals.names().map((g) => [g.name, g.declaration]));
  for (const map of obj.maps) {
    const info = map.native.info();
    if (info.internal) {
      if (info.section === undefined || info.btfValueTypeId === 0) continue;
      const datasec = btf.type(info.btfValueTypeId);
      if (datasec.kind !== 'DATASEC') continue;
      const vars: ManifestVar[] = [];
      for (const v of datasec.vars) {
        const variable = btf.type(v.typeId);
        if (variable.kind !== 'VAR') continue;
        const declaration = declarations.get(v.name) ?? (info.section === '.kconfig' ? `extern ${describeBtfType(btf, v.typeId).replace(/^extern /, '')} __kconfig` : v.name);
        vars.push({ name: v.name, offset: v.offset, size: v.size, shape: codecShape(btf, variable.typeId), declaration });
      }
      if (vars.length === 0) continue;
      const kconfig = info.section === '.kconfig';
      sections.push({ section: info.section, property: sectionProperty(info.section), readOnlyAfterLoad: kconfig || info.section.startsWith('.rodata'), ...(kconfig ? { kconfig } : {}), vars });
      continue;
    }
    const type = info.type;
    const perCpu = PER_CPU_MAP_TYPES.has(type);
    const typed = !REFERENCE_MAP_TYPES.has(type) && !EVENT_MAP_TYPES.has(type) && info.btfValueTypeId !== 0;
    const entry: ManifestMap = {
      name: info.name,
      type,
      keySize: map.keySize,
      valueSize: map.valueSize,
      perCpu,
      ...(typed && info.btfKeyTypeId !== 0 ? { key: codecShape(btf, info.btfKeyTypeId), keyTypeId: info.btfKeyTypeId } : {}),
      ...(typed ? { value: codecShape(btf, info.btfValueTypeId), valueTypeId: info.btfValueTypeId } : {}),
    };
    maps.push(entry);
    if (type === 'ringbuf' || type === 'perf_event_array') eventMaps.push({ name: info.name, type });
  }
  for (const name of Object.keys(records)) {
    const m = maps.find((x) => x.name === name);
    if (!m) throw new TypeError(`records: object '${obj.name}' has no map '${name}' (its ring and perf buffers: ${eventMaps.map((e) => e.name).join(', ') || 'none'})`);
    if (m.type !== 'ringbuf' && m.type !== 'perf_event_array') throw new TypeError(`records: map '${name}' is a ${m.type}, not a ring buffer or perf event array`);
  }
  // The `.types` fallback counts only what no option or `<map>_record` variable already explains:
  // a slot program's own ring buffer beside the root array's capture buffer still gets its type.
  const byName = (name: string): number | undefined => variableType(btf, `${name}_record`) ?? variableType(btf, `${name}_record_type`);
  const claimedVars = new Set(eventMaps.flatMap(({ name }) => [`${name}_record`, `${name}_record_type`]));
  const typesVars = typesSectionVars(btf).filter((v) => !claimedVars.has(v.name)).map((v) => v.typeId);
  const unexplained = eventMaps.filter(({ name }) => records[name] === undefined && byName(name) === undefined);
  const recordList: ManifestRecord[] = eventMaps.map(({ name, type }) => {
    const spec = records[name];
    if (spec !== undefined) {
      const t = findType(btf, spec);
      if (t === undefined) throw new TypeError(`records: object '${obj.name}' has no type '${spec}' in its BTF (for map '${name}'; write 'struct name', 'union name' or a typedef name)`);
      return { map: name, mapType: type, type: cName(btf, t.id), typeId: t.id, shape: codecShape(btf, t.id), from: 'option' };
    }
    const byVar = byName(name);
    if (byVar !== undefined) return { map: name, mapType: type, type: cName(btf, btf.resolve(byVar).id), typeId: byVar, shape: codecShape(btf, byVar), from: 'variable' };
    if (unexplained.length === 1 && typesVars.length === 1) {
      const id = typesVars[0]!;
      return { map: name, mapType: type, type: cName(btf, btf.resolve(id).id), typeId: id, shape: codecShape(btf, id), from: 'types-section' };
    }
    return { map: name, mapType: type };
  });
  return { object: obj.name, u64, programs, maps, sections, records: recordList };
}

/** JSON with bigints as `"123n"` and without type ids (they move when unrelated types change). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === 'typeId' || key === 'keyTypeId' || key === 'valueTypeId' || key === 'declaration' || key === 'from') return undefined;
    return typeof v === 'bigint' ? `${v}n` : v;
  });
}

/**
 * The fingerprint of a manifest: `sha256:` and the first 32 hex digits of the hash of its names,
 * sizes, offsets and shapes (not the object's name: a renamed copy of the file still matches).
 */
export function fingerprint(manifest: SkeletonManifest): string {
  const { object: _object, ...rest } = manifest;
  return `sha256:${createHash('sha256').update(canonical(rest)).digest('hex').slice(0, 32)}`;
}

/**
 * A short summary of the manifest, one line per map, program, global and record, that the
 * generated module keeps so that a mismatch can say what changed.
 */
export function summarize(manifest: SkeletonManifest): string[] {
  const keys = (members: readonly ShapeMember[]): string[] => members.flatMap((m) => (m.kind === 'union' ? m.alternatives.flatMap(keys) : [m.key]));
  const brief = (s: CodecShape): string => {
    switch (s.kind) {
      case 'object':
        return `${s.what} { ${keys(s.members).join(', ')} } (${s.size} bytes)`;
      case 'array':
        return `${brief(s.element)}[${s.length}]`;
      case 'int':
        return s.what ?? `${s.signed ? 's' : 'u'}${s.size * 8}`;
      case 'float':
        return `f${s.size * 8}`;
      case 'bytes':
        return `${s.text ? 'char' : 'u8'}[${s.size}]`;
      default:
        return s.kind;
    }
  };
  return [
    ...manifest.maps.map((m) => `map ${m.name}: ${m.type}, key ${m.key ? brief(m.key) : `${m.keySize} bytes`}, value ${m.value ? brief(m.value) : `${m.valueSize} bytes`}`),
    ...manifest.programs.map((p) => `program ${p.name}: SEC("${p.section}")`),
    ...manifest.sections.flatMap((s) => s.vars.map((v) => `global ${v.name}: ${s.section} at ${v.offset}, ${brief(v.shape)}`)),
    ...manifest.records.map((r) => `record ${r.map}: ${r.shape ? brief(r.shape) : 'Buffer'}`),
  ];
}
