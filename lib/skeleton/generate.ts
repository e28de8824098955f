/**
 * {@link generateSkeleton}: a BPF object's BTF → a TypeScript module with its types and a typed
 * loader (what `npx libbpf-node gen` writes).
 *
 * @module
 */
import { basename } from 'node:path';
import { describeBtfType, type CodecShape, type ShapeMember } from '../btf/codec';
import type { Btf } from '../btf/btf';
import { BpfObject } from '../object';
import { checkObject, describe } from '../internal/validate';
import { describeObject, fingerprint, summarize, type ManifestMap, type SkeletonManifest, type U64Mode } from './manifest';

/** Options of {@link generateSkeleton}. */
export interface GenerateOptions {
  /** The skeleton's name, a TypeScript identifier. Default: the file name in PascalCase (`xdp_count.bpf.o` → `XdpCount`). */
  name?: string;
  /**
   * Record types of ring buffers and perf event arrays, by map name, as C type names:
   * `{ events: 'struct event' }`. Without one, a map `m` takes the type of a variable named
   * `m_record` or `m_record_type`, else (when it is the only event map left without a type) of the
   * one other variable in a `.types*` section; else its records stay Buffers.
   */
  records?: Readonly<Record<string, string>>;
  /**
   * How 64-bit integers (`__u64`, `__s64`, 64-bit enums and bitfields, pointers) decode:
   * `'bigint'` (default, exact) or `'number'` (reading one beyond 2^53 throws a RangeError).
   * Encoding takes both either way.
   */
  u64?: U64Mode;
  /** The module the generated code imports the run time from. Default `'libbpf-node/skeleton'`. */
  importFrom?: string;
  /** The object's path as the header and messages show it. Default: the file name. */
  source?: string;
}

/** What {@link generateSkeleton} returns. */
export interface GeneratedSkeleton {
  /** The skeleton's name. */
  readonly name: string;
  /** The fingerprint the generated module checks at open. */
  readonly fingerprint: string;
  /** The TypeScript module. */
  readonly code: string;
  /** What the skeleton was generated from. */
  readonly manifest: SkeletonManifest;
  /** Things a user should know (e.g. ring buffers whose records stay Buffers). */
  readonly notes: readonly string[];
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
/** Names the generated module uses or that TypeScript reserves for types. */
const RESERVED = new Set([
  'BpfMap', 'BpfProgram', 'Buffer', 'Uint8Array', 'Record', 'Readonly', 'Array', 'Object', 'String', 'Number', 'Boolean', 'BigInt', 'Symbol', 'Function', 'Error', 'Map', 'Set', 'Promise',
  'defineSkeleton', 'OpenedSkeleton', 'LoadedSkeleton', 'SkeletonCommon', 'SkeletonTypes',
]);

/**
 * The TypeScript name the generator gives a C name: words split at non-alphanumerics, each
 * capitalised (`T` in front of a leading digit).
 *
 * @example `pascalCase('xdp_count_rec') // 'XdpCountRec'`
 */
export function pascalCase(name: string): string {
  const p = name
    .split(/[^A-Za-z0-9]+/)
    .filter((s) => s !== '')
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
  return p === '' ? 'Anon' : /^[0-9]/.test(p) ? `T${p}` : p;
}

/** A string literal in single quotes. */
function q(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** A property key as TypeScript writes it. */
function prop(key: string): string {
  return IDENT.test(key) ? key : q(key);
}

/** A doc comment at `indent`, from lines (`*` `/` sequences defused). */
function doc(lines: readonly string[], indent: string): string {
  const safe = lines.map((l) => l.replace(/\*\//g, '*\\/'));
  if (safe.length === 1) return `${indent}/** ${safe[0]} */\n`;
  return `${indent}/**\n${safe.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

/** Tuples up to this many elements; `T[]` above. */
const MAX_TUPLE = 16;

/** Writes TypeScript types from codec shapes, naming structs, unions and enums once each. */
class TypeWriter {
  readonly #btf: Btf;
  readonly #u64: U64Mode;
  readonly #used: Set<string>;
  /** Declarations in the order they were first needed. */
  readonly decls: string[] = [];
  readonly #names = new Map<number, { out: string; in: string }>();

  constructor(btf: Btf, u64: U64Mode, used: Set<string>) {
    this.#btf = btf;
    this.#u64 = u64;
    this.#used = used;
  }

  /** A fresh type name from a C name. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.#used.has(name); i++) name = `${base}${i}`;
    this.#used.add(name);
    return name;
  }

  /** The decoded type (`mode: 'out'`) or the type encode accepts (`'in'`). */
  type(shape: CodecShape, mode: 'out' | 'in', indent: string): string {
    switch (shape.kind) {
      case 'bool':
        return 'boolean';
      case 'float':
        return 'number';
      case 'address':
        return 'string';
      case 'bytes':
        return mode === 'in' && shape.text ? 'Uint8Array | string' : 'Uint8Array';
      case 'int': {
        const out = shape.big && !(this.#u64 === 'number' && shape.size <= 8) ? 'bigint' : 'number';
        const base = mode === 'out' ? out : shape.big ? 'bigint | number' : 'number';
        if (mode === 'out' || shape.enumerators === undefined) return base;
        const names = this.#enumNames(shape);
        return `${base} | ${names}`;
      }
      case 'array': {
        const elem = this.type(shape.element, mode, indent);
        const wrapped = elem.includes('|') || elem.includes('&') ? `(${elem})` : elem;
        if (shape.length <= MAX_TUPLE && !elem.includes('\n')) return `[${new Array<string>(shape.length).fill(elem).join(', ')}]`;
        return `${wrapped}[]`;
      }
      case 'object': {
        const named = this.#named(shape);
        if (named !== undefined) return mode === 'out' ? named.out : named.in;
        return this.#objectType(shape.members, mode, indent);
      }
    }
  }

  /** The enumerator-name type of an enum: its `…Name` alias when the enum is named, else a literal union. */
  #enumNames(shape: Extract<CodecShape, { kind: 'int' }>): string {
    const literals = shape.enumerators!.map((e) => q(e.name)).join(' | ');
    const cname = shape.what?.replace(/^enum /, '') ?? '(anon)';
    if (shape.typeId === undefined || cname === '(anon)') return literals || 'never';
    let named = this.#names.get(shape.typeId);
    if (named === undefined) {
      const base = this.fresh(pascalCase(cname));
      const alias = this.fresh(`${base}Name`);
      named = { out: base, in: alias };
      this.#names.set(shape.typeId, named);
      const values = shape.enumerators!.map((e) => `  ${prop(e.name)}: ${typeof e.value === 'bigint' ? `${e.value}n` : e.value},`).join('\n');
      this.decls.push(
        `${doc([describeBtfType(this.#btf, shape.typeId)], '')}export const ${base} = {\n${values}\n} as const;\n` +
          `${doc([`An enumerator name of ${shape.what} (encoding takes a name or a number).`], '')}export type ${alias} = keyof typeof ${base};\n`,
      );
    }
    return named.in;
  }

  /** The interface names of a named struct or union (declared on first use). */
  #named(shape: Extract<CodecShape, { kind: 'object' }>): { out: string; in: string } | undefined {
    if (shape.typeId === undefined) return undefined;
    const t = this.#btf.type(shape.typeId);
    if ((t.kind !== 'STRUCT' && t.kind !== 'UNION') || t.name === '') return undefined;
    let named = this.#names.get(shape.typeId);
    if (named !== undefined) return named;
    const base = this.fresh(pascalCase(t.name));
    const input = this.fresh(`${base}Input`);
    named = { out: base, in: input };
    this.#names.set(shape.typeId, named);
    // Reserve the names first (recursive types), then write the bodies.
    const out = this.#objectType(shape.members, 'out', '');
    const inp = this.#objectType(shape.members, 'in', '');
    const header = doc([`${describeBtfType(this.#btf, shape.typeId)} (${shape.size} bytes), as decoded.`], '');
    let decl = `${header}export interface ${base} ${out}\n`;
    const inDoc = doc([`${shape.what}, as encoding takes it${shape.members.some((m) => m.kind === 'union') ? ' (exactly one member of each union)' : ''}.`], '');
    if (inp === out) decl += `${inDoc}export type ${input} = ${base};\n`;
    else if (inp.startsWith('{') && !inp.includes('} &')) decl += `${inDoc}export interface ${input} ${inp}\n`;
    else decl += `${inDoc}export type ${input} =${inp.startsWith('\n') ? '' : ' '}${inp};\n`;
    this.decls.push(decl);
    return named;
  }

  /** An object literal type for members: unions flattened when decoded, one alternative at a time when encoded. */
  #objectType(members: readonly ShapeMember[], mode: 'out' | 'in', indent: string, absent: readonly string[] = []): string {
    const inner = `${indent}  `;
    const fields: string[] = [];
    const unions: ShapeMember[][][] = [];
    const collect = (ms: readonly ShapeMember[]): void => {
      for (const m of ms) {
        if (m.kind === 'union') {
          if (mode === 'out') m.alternatives.forEach(collect);
          else unions.push(m.alternatives.map((alt) => [...alt]));
        } else {
          fields.push(`${inner}${prop(m.key)}: ${this.type(m.shape, mode, inner)};`);
        }
      }
    };
    collect(members);
    for (const k of absent) fields.push(`${inner}${prop(k)}?: undefined;`);
    const body = fields.length === 0 ? '{}' : `{\n${fields.join('\n')}\n${indent}}`;
    if (unions.length === 0) return body;
    const parts = unions.map((alternatives) => {
      const keysOf = (alt: readonly ShapeMember[]): string[] => alt.flatMap((m) => (m.kind === 'union' ? m.alternatives.flatMap(keysOf) : [m.key]));
      const all = alternatives.map(keysOf);
      const options = alternatives.map((alt, i) => {
        const others = all.flatMap((keys, j) => (j === i ? [] : keys)).filter((k) => !all[i]!.includes(k));
        return this.#objectType(alt, 'in', inner, others);
      });
      return `(\n${options.map((o) => `${inner}| ${o.includes(' & ') ? `(${o})` : o}`).join('\n')}\n${indent})`;
    });
    if (fields.length === 0 && parts.length === 1) return parts[0]!.slice(1, -1).replace(/\n\s*$/, '');
    return fields.length === 0 ? parts.join(' & ') : `${body} & ${parts.join(' & ')}`;
  }
}

/** The C name of a BTF type for comments. */
function cTypeName(btf: Btf, id: number): string {
  const d = describeBtfType(btf, id);
  const end = [d.indexOf(' {'), d.indexOf(' = ')].filter((i) => i !== -1);
  return end.length === 0 ? d : d.slice(0, Math.min(...end));
}

/** Raw key/value types of a side without BTF (as the untyped codec decodes them). */
function rawType(size: number, mode: 'out' | 'in'): string {
  if (size === 1 || size === 2 || size === 4) return 'number';
  if (size === 8) return mode === 'in' ? 'bigint | number' : 'bigint'; // the untyped codec: bigint whatever `u64` says
  return mode === 'in' ? 'Uint8Array' : 'Buffer';
}

/**
 * Generates a typed skeleton for a BPF object: TypeScript interfaces for the structs, unions and
 * enums its maps, globals and event records use, and a loader whose `open()` checks that the
 * object still matches (see `docs/skeletons.md`). The types come from the same codec layouts
 * the run time uses ({@link codecShape}), so they cannot disagree.
 *
 * The object is only opened (parsed), not loaded: no privileges are needed.
 *
 * @param source The `.bpf.o` path, or its bytes.
 * @param options Name, record types, 64-bit integers as numbers, import path.
 * @throws TypeError for bad options, an object without BTF, or a `records` entry that names an
 *   unknown map or type; {@link BpfError} when the object cannot be opened.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { generateSkeleton } from 'libbpf-node/skeleton';
 * const skel = generateSkeleton('./bootstrap.bpf.o', { records: { events: 'struct event' } });
 * writeFileSync('./bootstrap.skel.ts', skel.code);
 * ```
 */
export function generateSkeleton(source: string | Uint8Array, options: GenerateOptions = {}): GeneratedSkeleton {
  checkObject(options, 'options');
  const known = ['name', 'records', 'u64', 'importFrom', 'source'];
  for (const k of Object.keys(options)) if (!known.includes(k)) throw new TypeError(`generateSkeleton: unknown option '${k}' (known: ${known.join(', ')})`);
  if (options.name !== undefined && (typeof options.name !== 'string' || !IDENT.test(options.name))) {
    throw new TypeError(`options.name must be a TypeScript identifier, got ${describe(options.name)}`);
  }
  if (options.u64 !== undefined && options.u64 !== 'bigint' && options.u64 !== 'number') throw new TypeError(`options.u64 must be 'bigint' or 'number', got ${describe(options.u64)}`);
  if (options.records !== undefined) {
    checkObject(options.records, 'options.records');
    for (const [k, v] of Object.entries(options.records)) if (typeof v !== 'string') throw new TypeError(`options.records.${k} must be a C type name like 'struct event', got ${describe(v)}`);
  }
  if (options.importFrom !== undefined && (typeof options.importFrom !== 'string' || options.importFrom === '')) throw new TypeError(`options.importFrom must be a module name, got ${describe(options.importFrom)}`);
  if (options.source !== undefined && (typeof options.source !== 'string' || options.source === '')) throw new TypeError(`options.source must be a non-empty string, got ${describe(options.source)}`);
  const shown: string = (options.source as string | undefined) ?? (typeof source === 'string' ? basename(source) : 'bpf_object.o');
  const obj = BpfObject.open(source);
  try {
    return generate(obj, shown, options);
  } finally {
    obj.close();
  }
}

function generate(obj: BpfObject, shown: string, options: GenerateOptions): GeneratedSkeleton {
  const u64 = options.u64 ?? 'bigint';
  const records = options.records ?? {};
  const manifest = describeObject(obj, { records, u64 });
  const print = fingerprint(manifest);
  const btf = obj.btf!;
  const name = options.name ?? pascalCase(shown.replace(/\.o$/, '').replace(/\.bpf$/, '').replace(/^.*\//, ''));
  const used = new Set([...RESERVED, name, `${name}Opened`, `${name}Loaded`]);
  const w = new TypeWriter(btf, u64, used);
  const notes: string[] = [];
  const typesName = w.fresh(`${name}Types`);
  const mapsName = w.fresh(`${name}Maps`);
  const programsName = w.fresh(`${name}Programs`);
  const globalsName = w.fresh(`${name}Globals`);
  const ringbufsName = w.fresh(`${name}Ringbufs`);
  const perfbufsName = w.fresh(`${name}Perfbufs`);
  const imports = new Set<string>(['defineSkeleton', 'type LoadedSkeleton', 'type OpenedSkeleton']);

  // Maps.
  const mapLines: string[] = [];
  const mapType = (m: ManifestMap): string => {
    if (m.value === undefined) return 'BpfMap';
    const keyOut = m.key !== undefined ? w.type(m.key, 'out', '  ') : m.type === 'queue' || m.type === 'stack' || m.type === 'bloom_filter' ? 'never' : rawType(m.keySize, 'out');
    const keyIn = m.key !== undefined ? w.type(m.key, 'in', '  ') : keyOut === 'never' ? 'never' : rawType(m.keySize, 'in');
    let valueOut = w.type(m.value, 'out', '  ');
    let valueIn = w.type(m.value, 'in', '  ');
    if (m.perCpu) {
      const wrap = (t: string) => (t.includes('|') || t.includes('&') || t.includes('\n') ? `(${t})` : t);
      valueOut = `${wrap(valueOut)}[]`;
      valueIn = `${wrap(valueIn)}[]`;
    }
    return keyOut === keyIn && valueOut === valueIn ? `BpfMap<${keyOut}, ${valueOut}>` : `BpfMap<${keyOut}, ${valueOut}, ${keyIn}, ${valueIn}>`;
  };
  for (const m of manifest.maps) {
    const info = obj.map(m.name).native.info();
    const what =
      m.value !== undefined
        ? `${m.type} map: key ${info.btfKeyTypeId ? cTypeName(btf, info.btfKeyTypeId) : `${m.keySize} bytes`}, value ${cTypeName(btf, info.btfValueTypeId)}${m.perCpu ? ' (one per possible CPU)' : ''}.`
        : m.type === 'ringbuf' || m.type === 'perf_event_array'
          ? `${m.type} map: read its records with ${m.type === 'ringbuf' ? 'ringbuf' : 'perfbuf'}('${m.name}').`
          : `${m.type} map (untyped: its values are references or it has no BTF value type).`;
    imports.add('type BpfMap');
    mapLines.push(`${doc([what], '  ')}  readonly ${prop(m.name)}: ${mapType(m)};`);
  }

  // Programs.
  const programLines = manifest.programs.map((p) => `${doc([`SEC("${p.section}")`], '  ')}  readonly ${prop(p.name)}: BpfProgram;`);
  if (programLines.length) imports.add('type BpfProgram');

  // Globals, one interface per section.
  const sectionDecls: string[] = [];
  const globalsLines: string[] = [];
  for (const s of manifest.sections) {
    const iface = w.fresh(`${name}${pascalCase(s.property)}`);
    const lines = s.vars.map((v) => {
      const out = w.type(v.shape, 'out', '  ');
      const inp = w.type(v.shape, 'in', '  ');
      const comment = doc([v.declaration], '  ');
      if (s.kconfig === true) return `${comment}  readonly ${prop(v.name)}: ${out};`;
      if (out === inp) return `${comment}  ${prop(v.name)}: ${out};`;
      return `${comment}  get ${prop(v.name)}(): ${out};\n  set ${prop(v.name)}(value: ${inp});`;
    });
    const what =
      s.kconfig === true
        ? `SEC("${s.section}"): filled in by libbpf at load (kernel config; the kconfig open option); read-only, readable once loaded.`
        : s.readOnlyAfterLoad
          ? `SEC("${s.section}"): set before load() only; read-only once loaded.`
          : `SEC("${s.section}"): read and written before and after load().`;
    sectionDecls.push(`${doc([what], '')}export interface ${iface} {\n${lines.join('\n')}\n}\n`);
    globalsLines.push(`  readonly ${prop(s.property)}: ${iface};`);
  }
  const frozen = manifest.sections.filter((s) => s.readOnlyAfterLoad).map((s) => q(s.property));

  // Records.
  const recordLines = { ringbuf: [] as string[], perf_event_array: [] as string[] };
  for (const r of manifest.records) {
    const type = r.shape !== undefined ? w.type(r.shape, 'out', '  ') : 'Buffer';
    const from = r.from === 'option' ? 'named with --record' : r.from === 'variable' ? `from the variable ${r.map}_record` : r.from === 'types-section' ? 'from the one variable in a .types section' : '';
    if (r.shape === undefined) notes.push(`map '${r.map}': no record type found, its records stay Buffers (name one: --record ${r.map}='struct name')`);
    const what = r.type !== undefined ? `Records of ${r.map}: ${r.type} (${from}).` : `Records of ${r.map}: raw bytes (no record type: generate with --record ${r.map}='struct name').`;
    recordLines[r.mapType].push(`${doc([what], '  ')}  readonly ${prop(r.map)}: ${type};`);
  }

  const body = (lines: string[]): string => (lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n}`);
  const from = options.importFrom ?? 'libbpf-node/skeleton';
  const cmdRecords = Object.entries(records).map(([k, v]) => ` --record ${k}='${v}'`).join('');
  const spec = {
    name,
    source: shown,
    fingerprint: print,
    u64,
    records,
    summary: summarize(manifest),
  };
  const recordsSource = Object.keys(records).length === 0 ? '{}' : `{ ${Object.entries(records).map(([k, v]) => `${prop(k)}: ${q(v)}`).join(', ')} }`;
  const specSource = `{\n  name: ${q(spec.name)},\n  source: ${q(spec.source)},\n  fingerprint: ${q(spec.fingerprint)},\n  u64: ${q(u64)},\n  records: ${recordsSource},\n  summary: [\n${spec.summary.map((l) => `    ${q(l)},`).join('\n')}\n  ],\n}`;

  const importList = [...imports].sort((a, b) => a.replace('type ', '').localeCompare(b.replace('type ', '')));
  const code = `// Typed skeleton of ${shown}, generated by libbpf-node gen. Do not edit: regenerate with
//   npx libbpf-node gen ${shown} --name ${name}${u64 === 'number' ? ' --u64 number' : ''}${cmdRecords}
// Object fingerprint: ${print}
// (a hash of the names, sizes, offsets and member types of its maps, programs, globals and
// records). ${name}.open() refuses an object whose fingerprint differs.
import { ${importList.join(', ')} } from ${q(from)};

${w.decls.join('\n')}${w.decls.length ? '\n' : ''}${sectionDecls.join('\n')}${sectionDecls.length ? '\n' : ''}${doc([`The maps of ${shown}, by C name.`], '')}export interface ${mapsName} ${body(mapLines)}

${doc([`The programs of ${shown}, by C function name.`], '')}export interface ${programsName} ${body(programLines)}

${doc([`The global variables of ${shown}, by section.`], '')}export interface ${globalsName} ${body(globalsLines)}

${doc([`Ring buffers of ${shown} and their record types.`], '')}export interface ${ringbufsName} ${body(recordLines.ringbuf)}

${doc([`Perf event arrays of ${shown} and their record types.`], '')}export interface ${perfbufsName} ${body(recordLines.perf_event_array)}

${doc([`Everything ${name} types (the type parameter of its phases).`], '')}export interface ${typesName} {
  readonly maps: ${mapsName};
  readonly programs: ${programsName};
  readonly globals: ${globalsName};
  readonly frozen: ${frozen.length ? frozen.join(' | ') : 'never'};
  readonly ringbufs: ${ringbufsName};
  readonly perfbufs: ${perfbufsName};
}

${doc([`${shown}, opened: set .rodata, configure maps and programs, then load().`], '')}export type ${name}Opened = OpenedSkeleton<${typesName}>;
${doc([`${shown}, loaded: typed maps, globals and event records.`], '')}export type ${name}Loaded = LoadedSkeleton<${typesName}>;

${doc([
    `Opens ${shown} and checks it still matches this module.`,
    '',
    '@example',
    '```ts',
    `using opened = ${name}.open('./${shown}');`,
    'const skel = await opened.load();',
    '```',
  ], '')}export const ${name} = defineSkeleton<${typesName}>(${specSource});
`;
  return { name, fingerprint: print, code, manifest, notes };
}
