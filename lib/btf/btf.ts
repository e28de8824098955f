/**
 * BPF Type Format (BTF): a parser for the raw blob that describes the C types of a BPF object.
 *
 * The blob is what libbpf's `btf__raw_data()` returns, what the kernel holds for a map or
 * program, and what an ELF object carries in its `.BTF` section: a header, a type section
 * and a string section (kernel `Documentation/bpf/btf.rst`). {@link Btf.parse} checks
 * everything it reads, so a truncated or hostile blob throws a {@link BtfParseError}
 * instead of looping or crashing.
 *
 * @packageDocumentation
 */

/** Magic number at the start of every BTF blob, read in host (little-endian) order. */
const BTF_MAGIC = 0xeb9f;
/** The only BTF version there is so far. */
const BTF_VERSION = 1;
/** Size of `struct btf_header` (magic, version, flags, hdr_len, type_off/len, str_off/len). */
const BTF_HEADER_SIZE = 24;
/** Size of `struct btf_type` (name_off, info, size/type). */
const BTF_TYPE_SIZE = 12;
/** Types are limited to 4 GiB - 1 bytes, as in the kernel. */
const MAX_TYPE_SIZE = 0xffff_ffff;
/** Pointers are 8 bytes: BPF is a 64-bit target and this library runs on 64-bit hosts. */
const POINTER_SIZE = 8;

/** BTF_INT_ENCODING flags. */
const INT_SIGNED = 1 << 0;
const INT_CHAR = 1 << 1;
const INT_BOOL = 1 << 2;

/**
 * The kind of a BTF type, spelled as in the kernel's `BTF_KIND_*` constants and in
 * `bpftool btf dump` output. `'VOID'` is type id 0, which has no record of its own.
 */
export type BtfKind =
  | 'VOID'
  | 'INT'
  | 'PTR'
  | 'ARRAY'
  | 'STRUCT'
  | 'UNION'
  | 'ENUM'
  | 'FWD'
  | 'TYPEDEF'
  | 'VOLATILE'
  | 'CONST'
  | 'RESTRICT'
  | 'FUNC'
  | 'FUNC_PROTO'
  | 'VAR'
  | 'DATASEC'
  | 'FLOAT'
  | 'DECL_TAG'
  | 'TYPE_TAG'
  | 'ENUM64';

/** `BTF_KIND_*` numbers, index = kind number (0 is BTF_KIND_UNKN, never valid in a record). */
const KINDS: readonly (BtfKind | undefined)[] = [
  undefined,
  'INT',
  'PTR',
  'ARRAY',
  'STRUCT',
  'UNION',
  'ENUM',
  'FWD',
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'FUNC',
  'FUNC_PROTO',
  'VAR',
  'DATASEC',
  'FLOAT',
  'DECL_TAG',
  'TYPE_TAG',
  'ENUM64',
];

/** Linkage of a FUNC or VAR: `static` (file-local), `global`, or `extern` (resolved by libbpf). */
export type BtfLinkage = 'static' | 'global' | 'extern';
const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];

/** Fields every BTF type has. */
interface BtfTypeCommon {
  /** Type id: 0 for void, then 1, 2, ... in the order of the type section. */
  readonly id: number;
  /** Name from the string section; `''` for anonymous types. */
  readonly name: string;
}

/** Type id 0: `void`. */
export interface BtfVoid extends BtfTypeCommon {
  readonly kind: 'VOID';
}

/** An integer type (`int`, `unsigned char`, `_Bool`, ...). */
export interface BtfInt extends BtfTypeCommon {
  readonly kind: 'INT';
  /** Storage size in bytes: 1, 2, 4, 8 or 16. */
  readonly size: number;
  /** Number of value bits (8 * size for every ordinary integer). */
  readonly bits: number;
  /** Bit offset of the value within its storage (0 for every ordinary integer). */
  readonly bitOffset: number;
  /** BTF_INT_SIGNED. */
  readonly signed: boolean;
  /** BTF_INT_CHAR (pahole sets it on `char`; clang does not). */
  readonly char: boolean;
  /** BTF_INT_BOOL (`_Bool`). */
  readonly bool: boolean;
}

/** A pointer. Its size is 8 bytes. */
export interface BtfPtr extends BtfTypeCommon {
  readonly kind: 'PTR';
  /** Pointee type id (0 for `void *`). */
  readonly typeId: number;
}

/** A fixed-size array. */
export interface BtfArray extends BtfTypeCommon {
  readonly kind: 'ARRAY';
  /** Element type id. */
  readonly elemTypeId: number;
  /** Index type id (clang uses a 4-byte `__ARRAY_SIZE_TYPE__`). */
  readonly indexTypeId: number;
  /** Number of elements (0 for a flexible array member). */
  readonly nelems: number;
}

/** One member of a struct or union. */
export interface BtfMember {
  /** Member name; `''` for an anonymous struct/union member or an unnamed padding bitfield. */
  readonly name: string;
  /** Member type id. */
  readonly typeId: number;
  /** Offset of the member from the start of the struct, in bits. */
  readonly bitOffset: number;
  /**
   * Width in bits if the member is a bitfield, 0 otherwise. Normalised from both BTF
   * encodings (kind_flag set, or the legacy one where the INT type carries the width).
   */
  readonly bitfieldSize: number;
}

/** A struct or a union. */
export interface BtfStruct extends BtfTypeCommon {
  readonly kind: 'STRUCT' | 'UNION';
  /** Size in bytes, padding included. */
  readonly size: number;
  readonly members: readonly BtfMember[];
}

/** One enumerator of an ENUM. */
export interface BtfEnumValue {
  readonly name: string;
  readonly value: number;
}

/** A C enum whose values fit in 32 bits. */
export interface BtfEnum extends BtfTypeCommon {
  readonly kind: 'ENUM';
  /** Storage size in bytes: 1, 2, 4 or 8. */
  readonly size: number;
  /**
   * Whether values are signed: kind_flag. In BTF from clang < 15, which never sets it, an enum
   * with a negative enumerator counts as signed.
   */
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue[];
}

/** One enumerator of an ENUM64. */
export interface BtfEnum64Value {
  readonly name: string;
  readonly value: bigint;
}

/** A C enum with 64-bit values (emitted by clang >= 15 and pahole). */
export interface BtfEnum64 extends BtfTypeCommon {
  readonly kind: 'ENUM64';
  /** Storage size in bytes: 1, 2, 4 or 8. */
  readonly size: number;
  /** Whether values are signed (kind_flag). */
  readonly signed: boolean;
  readonly values: readonly BtfEnum64Value[];
}

/** A forward declaration (`struct foo;`): an incomplete type without a size. */
export interface BtfFwd extends BtfTypeCommon {
  readonly kind: 'FWD';
  /** `true` for `union foo;`, `false` for `struct foo;`. */
  readonly union: boolean;
}

/** A typedef, a qualifier (`const`, `volatile`, `restrict`) or a type tag: names or qualifies another type. */
export interface BtfModifier extends BtfTypeCommon {
  readonly kind: 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  /** The type it names or qualifies (0 for `const void`). */
  readonly typeId: number;
}

/** A function (a subprogram of the object). */
export interface BtfFunc extends BtfTypeCommon {
  readonly kind: 'FUNC';
  /** Its FUNC_PROTO. */
  readonly typeId: number;
  readonly linkage: BtfLinkage;
}

/** One parameter of a FUNC_PROTO. */
export interface BtfParam {
  /** Parameter name; `''` when the prototype does not name it. */
  readonly name: string;
  readonly typeId: number;
}

/** A function prototype. */
export interface BtfFuncProto extends BtfTypeCommon {
  readonly kind: 'FUNC_PROTO';
  /** Return type id (0 for void). */
  readonly returnTypeId: number;
  /** Parameters, without the trailing `...` marker. */
  readonly params: readonly BtfParam[];
  /** Whether the prototype ends with `...`. */
  readonly variadic: boolean;
}

/** A global variable. */
export interface BtfVar extends BtfTypeCommon {
  readonly kind: 'VAR';
  readonly typeId: number;
  readonly linkage: BtfLinkage;
}

/** One variable (or extern function) placed in a DATASEC. */
export interface BtfDatasecVar {
  /** Name of the VAR (or FUNC) it places. */
  readonly name: string;
  /** Id of that VAR (or FUNC, for `.ksyms`). */
  readonly typeId: number;
  /** Offset in the section, in bytes (0 in an ELF object until libbpf fixes it up). */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
}

/** A data section (`.data`, `.bss`, `.rodata`, `.maps`, ...) and the variables in it. */
export interface BtfDatasec extends BtfTypeCommon {
  readonly kind: 'DATASEC';
  /** Section size in bytes (0 in an ELF object until libbpf fixes it up). */
  readonly size: number;
  readonly vars: readonly BtfDatasecVar[];
}

/** A floating-point type (`float`, `double`). */
export interface BtfFloat extends BtfTypeCommon {
  readonly kind: 'FLOAT';
  /** Size in bytes: 2, 4, 8, 12 or 16. */
  readonly size: number;
}

/** A `btf_decl_tag` attribute attached to a type, or to one of its members or parameters. */
export interface BtfDeclTag extends BtfTypeCommon {
  readonly kind: 'DECL_TAG';
  /** The tagged type. */
  readonly typeId: number;
  /** Index of the tagged member/parameter, or -1 when the type itself is tagged. */
  readonly componentIdx: number;
}

/** Any BTF type; narrow on `kind`. */
export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfModifier
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

/**
 * The variant of {@link BtfType} for one kind: `BtfTypeOf<'STRUCT'>` is {@link BtfStruct},
 * `BtfTypeOf<'CONST'>` is {@link BtfModifier}.
 */
export type BtfTypeOf<K extends BtfKind> = BtfType extends infer T ? (T extends { readonly kind: infer TK } ? (K extends TK ? T : never) : never) : never;

/**
 * Thrown by {@link Btf.parse} when the blob is not valid BTF: truncated, wrong magic or
 * byte order, a header or name offset out of range, a type id that does not exist, an
 * unknown kind, a type that contains itself, ...
 *
 * @example
 * ```ts
 * try { Btf.parse(raw) } catch (e) { if (e instanceof BtfParseError) console.error(e.message) }
 * ```
 */
export class BtfParseError extends Error {
  /** @param message What is wrong, and where. */
  constructor(message: string) {
    super(`invalid BTF: ${message}`);
    this.name = 'BtfParseError';
  }
}

/** Mutable counterpart of BtfMember, used while the parser normalises bitfields. */
type MemberDraft = { -readonly [K in keyof BtfMember]: BtfMember[K] };

/** The type-section record being decoded: where it starts and what its header says. */
interface RecordHead {
  readonly id: number;
  readonly at: number;
  readonly name: string;
  readonly vlen: number;
  readonly kindFlag: boolean;
  readonly sizeOrType: number;
}

/**
 * A parsed BTF blob: every type by id, name lookups, and sizes.
 *
 * A `Btf` holds no reference to the bytes it was parsed from and needs no cleanup. Type
 * objects are frozen and shared: do not modify them.
 *
 * Parsing needs no kernel. For reference, the kernel accepts BTF for maps since 4.18, FUNC and
 * FUNC_PROTO since 5.0, VAR and DATASEC since 5.2, FLOAT since 5.13, DECL_TAG since 5.16,
 * TYPE_TAG since 5.17 and ENUM64 since 6.0 (libbpf rewrites newer kinds for older kernels,
 * so the BTF it hands back may already be rewritten).
 *
 * @example
 * ```ts
 * const btf = Btf.parse(rawBtf);
 * const key = btf.findByName('flow_key', 'STRUCT');
 * if (key) console.log(btf.sizeof(key.id));
 * ```
 */
export class Btf {
  /** Types by id; index 0 is void. */
  readonly #types: readonly BtfType[];
  /** Size in bytes by id, or -1 for types without one (void, func, fwd, ...). */
  readonly #sizes: Float64Array;
  /** Type ids by name, built on first lookup. */
  #byName: Map<string, number[]> | undefined;

  private constructor(types: readonly BtfType[], sizes: Float64Array) {
    this.#types = types;
    this.#sizes = sizes;
  }

  /**
   * Parses raw BTF (header + type section + string section) in host byte order.
   *
   * @param raw The blob, e.g. from `btf__raw_data()` or an ELF `.BTF` section. Not retained.
   * @returns The parsed types.
   * @throws {@link BtfParseError} If the blob is malformed or big-endian.
   * @throws TypeError If `raw` is not a Uint8Array.
   */
  static parse(raw: Uint8Array): Btf {
    if (!(raw instanceof Uint8Array)) {
      throw new TypeError(`Btf.parse: expected a Uint8Array, got ${typeof raw}`);
    }
    const types = parseTypes(raw);
    const sizes = checkGraph(types);
    return new Btf(types, sizes);
  }

  /** Number of type ids, void included: valid ids are `0 .. count - 1`. */
  get count(): number {
    return this.#types.length;
  }

  /**
   * Returns the type with this id (0 is void).
   *
   * @throws RangeError If there is no such id.
   */
  type(id: number): BtfType {
    const t = this.#types[id];
    if (t === undefined || !Number.isInteger(id)) {
      throw new RangeError(`BTF type id ${String(id)} does not exist (valid ids: 0..${this.#types.length - 1})`);
    }
    return t;
  }

  /**
   * Finds the first type (lowest id) with this name, optionally of this kind.
   *
   * @param name Type name, without `struct `/`union `/`enum ` prefixes.
   * @param kind Only consider types of this kind (the result is then typed accordingly).
   * @returns The type, or `undefined` if none matches.
   *
   * @example `btf.findByName('flow_key', 'STRUCT')?.members`
   */
  findByName<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> | undefined;
  findByName(name: string): BtfType | undefined;
  findByName(name: string, kind?: BtfKind): BtfType | undefined {
    if (this.#byName === undefined) {
      const byName = new Map<string, number[]>();
      for (const t of this.#types) {
        if (t.name === '') continue;
        const ids = byName.get(t.name);
        if (ids === undefined) byName.set(t.name, [t.id]);
        else ids.push(t.id);
      }
      this.#byName = byName;
    }
    const ids = this.#byName.get(name);
    if (ids === undefined) return undefined;
    for (const id of ids) {
      const t = this.#types[id]!;
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  /**
   * Follows typedefs, qualifiers (const, volatile, restrict) and type tags to the
   * underlying type.
   *
   * @throws RangeError If there is no such id.
   */
  resolve(id: number): BtfType {
    let t = this.type(id);
    // Chains are acyclic (checked by parse), so this ends within count steps.
    while (isModifier(t)) t = this.#types[t.typeId]!;
    return t;
  }

  /**
   * Size in bytes of a value of this type, as `sizeof` would give in C (pointers are 8).
   *
   * @throws RangeError If there is no such id.
   * @throws TypeError If the type has no size: void, a function, a forward declaration.
   */
  sizeof(id: number): number {
    const t = this.type(id);
    const size = this.#sizes[id]!;
    if (size < 0) {
      const what = t.kind === 'VOID' ? 'void' : `${t.kind} ${t.name === '' ? '(anon)' : `'${t.name}'`} (id ${id})`;
      throw new TypeError(`sizeof: ${what} has no size`);
    }
    return size;
  }

  /**
   * Finds a data section by name (e.g. `'.bss'`, `'.rodata'`), with its variables.
   *
   * @returns The DATASEC, or `undefined` if there is none by that name.
   */
  datasec(name: string): BtfDatasec | undefined {
    return this.findByName(name, 'DATASEC');
  }
}

/** Whether `t` only names or qualifies another type (what {@link Btf.resolve} skips). */
function isModifier(t: BtfType): t is BtfModifier {
  switch (t.kind) {
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return true;
    default:
      return false;
  }
}

/** Pass 1: header, string section, and one object per type record. Ids are only range-checked. */
function parseTypes(raw: Uint8Array): BtfType[] {
  const len = raw.byteLength;
  if (len < BTF_HEADER_SIZE) {
    throw new BtfParseError(`truncated: ${len} bytes, the header alone needs ${BTF_HEADER_SIZE}`);
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, len);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) {
    if (magic === 0x9feb) {
      throw new BtfParseError('big-endian BTF (magic bytes eb 9f); only host (little-endian) byte order is supported');
    }
    throw new BtfParseError(`bad magic 0x${hex4(magic)}, expected 0x${hex4(BTF_MAGIC)}`);
  }
  const version = dv.getUint8(2);
  if (version !== BTF_VERSION) throw new BtfParseError(`unsupported version ${version}, expected ${BTF_VERSION}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < BTF_HEADER_SIZE || hdrLen > len) {
    throw new BtfParseError(`header length ${hdrLen} out of range [${BTF_HEADER_SIZE}, ${len}]`);
  }
  const typeOff = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const dataLen = len - hdrLen;
  if (typeOff + typeLen > dataLen) {
    throw new BtfParseError(`type section [${typeOff}, +${typeLen}) runs past the ${dataLen} data bytes after the header`);
  }
  if (strOff + strLen > dataLen) {
    throw new BtfParseError(`string section [${strOff}, +${strLen}) runs past the ${dataLen} data bytes after the header`);
  }
  if (typeOff % 4 !== 0 || typeLen % 4 !== 0) {
    throw new BtfParseError(`type section offset ${typeOff} and length ${typeLen} must be multiples of 4`);
  }
  if (typeOff < strOff + strLen && strOff < typeOff + typeLen) {
    throw new BtfParseError(`type section [${typeOff}, +${typeLen}) overlaps string section [${strOff}, +${strLen})`);
  }
  const strings = new StringTable(raw.subarray(hdrLen + strOff, hdrLen + strOff + strLen));

  const types: BtfType[] = [Object.freeze<BtfVoid>({ id: 0, kind: 'VOID', name: '' })];
  const start = hdrLen + typeOff;
  const end = start + typeLen;
  let at = start;
  while (at < end) {
    const id = types.length;
    if (end - at < BTF_TYPE_SIZE) {
      throw new BtfParseError(`type ${id} at type section offset ${at - start} is truncated`);
    }
    const info = dv.getUint32(at + 4, true);
    const kindNo = (info >>> 24) & 0x1f;
    const kind = KINDS[kindNo];
    if (kind === undefined) {
      throw new BtfParseError(`type ${id} at type section offset ${at - start} has unknown kind ${kindNo}`);
    }
    const head: RecordHead = {
      id,
      at,
      name: strings.get(dv.getUint32(at, true), id),
      vlen: info & 0xffff,
      kindFlag: info >>> 31 === 1,
      sizeOrType: dv.getUint32(at + 8, true),
    };
    const extra = extraSize(kind, head.vlen);
    if (end - at - BTF_TYPE_SIZE < extra) {
      throw new BtfParseError(`type ${id} (${kind}) at type section offset ${at - start} is truncated: it needs ${BTF_TYPE_SIZE + extra} bytes, ${end - at} left`);
    }
    types.push(Object.freeze(decodeRecord(dv, head, kind, strings)));
    at += BTF_TYPE_SIZE + extra;
  }

  enumSigns(types);

  // Every type id referenced must exist.
  const count = types.length;
  const check = (from: BtfType, ref: number, what: string): void => {
    if (ref >= count) throw new BtfParseError(`${describeRef(from)}: ${what} refers to type id ${ref}, but the last id is ${count - 1}`);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'PTR':
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
      case 'FUNC':
      case 'VAR':
      case 'DECL_TAG':
        check(t, t.typeId, 'its target');
        break;
      case 'ARRAY':
        check(t, t.elemTypeId, 'the element type');
        check(t, t.indexTypeId, 'the index type');
        break;
      case 'STRUCT':
      case 'UNION':
        for (const m of t.members) check(t, m.typeId, `member '${m.name}'`);
        break;
      case 'FUNC_PROTO':
        check(t, t.returnTypeId, 'the return type');
        for (const p of t.params) check(t, p.typeId, `parameter '${p.name}'`);
        break;
      case 'DATASEC':
        for (const v of t.vars) check(t, v.typeId, 'a variable');
        break;
      default:
        break;
    }
  }
  return types;
}

/**
 * Decides the sign of ENUMs without kind_flag. Producers that know the flag (clang >= 15,
 * pahole >= 1.24: any ENUM64, or any enum with the flag, gives them away) mean unsigned by
 * its absence. Older clang never sets it and stores negative enumerators as s32, so there an
 * enum with a negative enumerator is taken to be signed. (In such a legacy blob, an unsigned
 * enum with an enumerator >= 2^31 is therefore also read as signed; the bits are the same.)
 */
function enumSigns(types: BtfType[]): void {
  const aware = types.some((t) => t.kind === 'ENUM64' || (t.kind === 'ENUM' && t.signed));
  if (aware) return;
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== 'ENUM' || !t.values.some((v) => v.value > 0x7fff_ffff)) continue;
    const values = t.values.map((v) => Object.freeze({ name: v.name, value: v.value | 0 }));
    types[i] = Object.freeze({ ...t, signed: true, values: Object.freeze(values) });
  }
}

/** Bytes that follow the 12-byte `btf_type` for a kind with this vlen. */
function extraSize(kind: BtfKind, vlen: number): number {
  switch (kind) {
    case 'INT':
    case 'VAR':
    case 'DECL_TAG':
      return 4;
    case 'ARRAY':
      return 12;
    case 'STRUCT':
    case 'UNION':
    case 'DATASEC':
    case 'ENUM64':
      return 12 * vlen;
    case 'ENUM':
    case 'FUNC_PROTO':
      return 8 * vlen;
    default:
      return 0;
  }
}

/** Decodes one type record whose bytes are known to be in range. */
function decodeRecord(dv: DataView, h: RecordHead, kind: BtfKind, strings: StringTable): BtfType {
  const { id, name, vlen, kindFlag, sizeOrType } = h;
  const body = h.at + BTF_TYPE_SIZE;
  const bad = (what: string): BtfParseError => new BtfParseError(`type ${id} (${kind} '${name}'): ${what}`);
  switch (kind) {
    case 'INT': {
      const data = dv.getUint32(body, true);
      const encoding = (data >>> 24) & 0x0f;
      const bitOffset = (data >>> 16) & 0xff;
      const bits = data & 0xff;
      if (sizeOrType !== 1 && sizeOrType !== 2 && sizeOrType !== 4 && sizeOrType !== 8 && sizeOrType !== 16) {
        throw bad(`size ${sizeOrType} is not 1, 2, 4, 8 or 16`);
      }
      if (bits === 0 || bitOffset + bits > sizeOrType * 8) {
        throw bad(`${bits} bits at bit offset ${bitOffset} do not fit in ${sizeOrType} bytes`);
      }
      if (encoding !== 0 && encoding !== INT_SIGNED && encoding !== INT_CHAR && encoding !== INT_BOOL) {
        throw bad(`invalid encoding 0x${encoding.toString(16)}`);
      }
      return {
        id, kind, name, size: sizeOrType, bits, bitOffset,
        signed: encoding === INT_SIGNED, char: encoding === INT_CHAR, bool: encoding === INT_BOOL,
      };
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      if (kind === 'TYPEDEF' && name === '') throw bad('a typedef needs a name');
      return { id, kind, name, typeId: sizeOrType } as BtfPtr | BtfModifier;
    case 'ARRAY':
      return {
        id, kind, name,
        elemTypeId: dv.getUint32(body, true),
        indexTypeId: dv.getUint32(body + 4, true),
        nelems: dv.getUint32(body + 8, true),
      };
    case 'STRUCT':
    case 'UNION': {
      const members: MemberDraft[] = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + 12 * i;
        const offset = dv.getUint32(at + 8, true);
        members.push({
          name: strings.get(dv.getUint32(at, true), id),
          typeId: dv.getUint32(at + 4, true),
          bitOffset: kindFlag ? offset & 0xff_ffff : offset,
          bitfieldSize: kindFlag ? offset >>> 24 : 0,
        });
      }
      return { id, kind, name, size: sizeOrType, members } as BtfStruct;
    }
    case 'ENUM': {
      checkEnumSize(sizeOrType, bad);
      // Read as unsigned unless kind_flag says signed; legacy blobs are revisited by enumSigns().
      const values: BtfEnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + 8 * i;
        const value = kindFlag ? dv.getInt32(at + 4, true) : dv.getUint32(at + 4, true);
        values.push(Object.freeze({ name: strings.get(dv.getUint32(at, true), id), value }));
      }
      return { id, kind, name, size: sizeOrType, signed: kindFlag, values: Object.freeze(values) };
    }
    case 'ENUM64': {
      checkEnumSize(sizeOrType, bad);
      const values: BtfEnum64Value[] = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + 12 * i;
        const lo = BigInt(dv.getUint32(at + 4, true));
        const hi = BigInt(dv.getUint32(at + 8, true));
        const u = (hi << 32n) | lo;
        values.push(Object.freeze({ name: strings.get(dv.getUint32(at, true), id), value: kindFlag ? BigInt.asIntN(64, u) : u }));
      }
      return { id, kind, name, size: sizeOrType, signed: kindFlag, values: Object.freeze(values) };
    }
    case 'FWD':
      return { id, kind, name, union: kindFlag };
    case 'FUNC': {
      const linkage = LINKAGES[vlen];
      if (linkage === undefined) throw bad(`unknown linkage ${vlen}`);
      return { id, kind, name, typeId: sizeOrType, linkage };
    }
    case 'FUNC_PROTO': {
      const params: BtfParam[] = [];
      let variadic = false;
      for (let i = 0; i < vlen; i++) {
        const at = body + 8 * i;
        const nameOff = dv.getUint32(at, true);
        const typeId = dv.getUint32(at + 4, true);
        if (i === vlen - 1 && nameOff === 0 && typeId === 0) {
          variadic = true; // a trailing { 0, 0 } parameter stands for `...`
          break;
        }
        params.push(Object.freeze({ name: strings.get(nameOff, id), typeId }));
      }
      return { id, kind, name, returnTypeId: sizeOrType, params: Object.freeze(params), variadic };
    }
    case 'VAR': {
      const raw = dv.getUint32(body, true);
      const linkage = LINKAGES[raw];
      if (linkage === undefined) throw bad(`unknown linkage ${raw}`);
      return { id, kind, name, typeId: sizeOrType, linkage };
    }
    case 'DATASEC': {
      // Names are filled in by checkGraph once every VAR has been read.
      const vars: BtfDatasecVar[] = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + 12 * i;
        vars.push({
          name: '',
          typeId: dv.getUint32(at, true),
          offset: dv.getUint32(at + 4, true),
          size: dv.getUint32(at + 8, true),
        });
      }
      return { id, kind, name, size: sizeOrType, vars };
    }
    case 'FLOAT':
      if (sizeOrType !== 2 && sizeOrType !== 4 && sizeOrType !== 8 && sizeOrType !== 12 && sizeOrType !== 16) {
        throw bad(`size ${sizeOrType} is not 2, 4, 8, 12 or 16`);
      }
      return { id, kind, name, size: sizeOrType };
    case 'DECL_TAG': {
      const componentIdx = dv.getInt32(body, true);
      if (componentIdx < -1) throw bad(`component index ${componentIdx} is below -1`);
      if (name === '') throw bad('a decl tag needs a name');
      return { id, kind, name, typeId: sizeOrType, componentIdx };
    }
    case 'VOID':
      throw bad('kind 0 is not a valid record'); // unreachable: KINDS[0] is undefined
  }
}

function checkEnumSize(size: number, bad: (what: string) => BtfParseError): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw bad(`size ${size} is not 1, 2, 4 or 8`);
}

/**
 * Pass 2, over the whole graph:
 * - chains of typedef/qualifier/pointer/array links must end (no `typedef A B; typedef B A;`);
 * - a struct, union or array must not contain itself (only pointers may loop back);
 * - sizes are computed and bounded; struct members fit in their struct;
 * - legacy bitfields are normalised and DATASEC variables named.
 *
 * Everything is iterative, so a long chain cannot overflow the stack.
 *
 * @returns Size in bytes by type id, -1 for types without one.
 */
function checkGraph(types: BtfType[]): Float64Array {
  const n = types.length;

  // 1. Single-successor links (modifiers, pointers, arrays): walk each chain once.
  const chainState = new Uint8Array(n); // 0 new, 1 on the current walk, 2 known to end
  const path: number[] = [];
  for (let startId = 0; startId < n; startId++) {
    let id: number | undefined = startId;
    while (id !== undefined && chainState[id] === 0) {
      chainState[id] = 1;
      path.push(id);
      id = chainNext(types[id]!);
    }
    if (id !== undefined && chainState[id] === 1) {
      throw new BtfParseError(`${describeRef(types[id]!)} refers back to itself through a chain of typedefs, qualifiers, pointers or arrays`);
    }
    for (const p of path) chainState[p] = 2;
    path.length = 0;
  }

  // 2. Containment (members, array elements, modifiers, variables): depth-first, post-order sizes.
  const sizes = new Float64Array(n).fill(-1);
  const state = new Uint8Array(n); // 0 new, 1 in progress, 2 done
  const stack: number[] = [];
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    stack.push(root);
    while (stack.length > 0) {
      const id = stack[stack.length - 1]!;
      if (state[id] === 0) {
        state[id] = 1;
        for (const child of containedIds(types[id]!)) {
          if (state[child] === 1) {
            throw new BtfParseError(`${describeRef(types[child]!)} contains itself (only pointers may refer back to an enclosing type)`);
          }
          if (state[child] === 0) stack.push(child);
        }
        continue;
      }
      stack.pop();
      if (state[id] === 2) continue;
      state[id] = 2;
      sizes[id] = sizeOf(types, sizes, id);
    }
  }
  return sizes;
}

/** The one type a modifier, pointer or array leads to, for loop detection. */
function chainNext(t: BtfType): number | undefined {
  switch (t.kind) {
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return t.typeId;
    case 'ARRAY':
      return t.elemTypeId;
    default:
      return undefined;
  }
}

/** Types whose size must be known to know the size (or layout) of `t`. */
function containedIds(t: BtfType): readonly number[] {
  switch (t.kind) {
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
    case 'VAR':
      return [t.typeId];
    case 'ARRAY':
      return [t.elemTypeId];
    case 'STRUCT':
    case 'UNION':
      return t.members.map((m) => m.typeId);
    default:
      return [];
  }
}

/** Size of type `id`, once the sizes of everything it contains are known; also checks its layout. */
function sizeOf(types: BtfType[], sizes: Float64Array, id: number): number {
  const t = types[id]!;
  switch (t.kind) {
    case 'INT':
    case 'ENUM':
    case 'ENUM64':
    case 'FLOAT':
      return t.size;
    case 'PTR':
      return POINTER_SIZE;
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
    case 'VAR':
      return sizes[t.typeId]!;
    case 'ARRAY': {
      const elem = sizes[t.elemTypeId]!;
      if (elem < 0) throw new BtfParseError(`${describeRef(t)}: element type ${t.elemTypeId} has no size`);
      const total = elem * t.nelems;
      if (total > MAX_TYPE_SIZE) throw new BtfParseError(`${describeRef(t)}: ${t.nelems} elements of ${elem} bytes exceed 4 GiB`);
      return total;
    }
    case 'STRUCT':
    case 'UNION':
      checkMembers(types, sizes, t);
      return t.size;
    case 'DATASEC':
      nameDatasecVars(types, t);
      return t.size;
    default:
      return -1; // VOID, FWD, FUNC, FUNC_PROTO, DECL_TAG
  }
}

/** Checks that every member has a size and fits in the struct; normalises legacy bitfields. */
function checkMembers(types: BtfType[], sizes: Float64Array, t: BtfStruct): void {
  for (const m of t.members as MemberDraft[]) {
    const where = `${describeRef(t)}, member '${m.name}'`;
    const size = sizes[m.typeId]!;
    if (size < 0) throw new BtfParseError(`${where}: type ${m.typeId} has no size`);
    let target = types[m.typeId]!;
    while (isModifier(target)) target = types[target.typeId]!;
    if (target.kind === 'VAR' || target.kind === 'DATASEC') throw new BtfParseError(`${where}: a ${target.kind} cannot be a member`);
    if (m.bitfieldSize === 0 && target.kind === 'INT' && (target.bits !== target.size * 8 || target.bitOffset !== 0)) {
      // Legacy encoding (kind_flag 0): the INT itself says how many bits and where.
      m.bitOffset += target.bitOffset;
      m.bitfieldSize = target.bits;
    }
    if (m.bitfieldSize !== 0) {
      if (target.kind !== 'INT' && target.kind !== 'ENUM' && target.kind !== 'ENUM64') {
        throw new BtfParseError(`${where}: a ${m.bitfieldSize}-bit bitfield of kind ${target.kind}`);
      }
      if (m.bitfieldSize > size * 8) {
        throw new BtfParseError(`${where}: a ${m.bitfieldSize}-bit bitfield is wider than its ${size}-byte type`);
      }
      if (m.bitOffset + m.bitfieldSize > t.size * 8) {
        throw new BtfParseError(`${where}: bits [${m.bitOffset}, +${m.bitfieldSize}) run past the ${t.size}-byte ${t.kind.toLowerCase()}`);
      }
    } else {
      if (m.bitOffset % 8 !== 0) throw new BtfParseError(`${where}: bit offset ${m.bitOffset} is not a whole byte`);
      if (m.bitOffset / 8 + size > t.size) {
        throw new BtfParseError(`${where}: bytes [${m.bitOffset / 8}, +${size}) run past the ${t.size}-byte ${t.kind.toLowerCase()}`);
      }
    }
    Object.freeze(m);
  }
  Object.freeze(t.members);
}

/** Fills in the names of a DATASEC's variables and checks they are VARs (or FUNCs, in `.ksyms`). */
function nameDatasecVars(types: BtfType[], t: BtfDatasec): void {
  for (const v of t.vars as { -readonly [K in keyof BtfDatasecVar]: BtfDatasecVar[K] }[]) {
    const target = types[v.typeId]!;
    if (target.kind !== 'VAR' && target.kind !== 'FUNC') {
      throw new BtfParseError(`${describeRef(t)}: entry with type id ${v.typeId} is a ${target.kind}, not a VAR or FUNC`);
    }
    v.name = target.name;
    Object.freeze(v);
  }
  Object.freeze(t.vars);
}

/** `type 12 (STRUCT 'foo')`, for messages. */
function describeRef(t: BtfType): string {
  return `type ${t.id} (${t.kind}${t.name === '' ? '' : ` '${t.name}'`})`;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** The string section: NUL-terminated names addressed by byte offset. */
class StringTable {
  readonly #bytes: Uint8Array;
  readonly #cache = new Map<number, string>();
  readonly #decoder = new TextDecoder('utf-8');

  constructor(bytes: Uint8Array) {
    if (bytes.length > 0 && (bytes[0] !== 0 || bytes[bytes.length - 1] !== 0)) {
      throw new BtfParseError('string section must start and end with a NUL byte');
    }
    this.#bytes = bytes;
  }

  /** The string at `offset`; `''` for offset 0. */
  get(offset: number, typeId: number): string {
    if (offset === 0) return '';
    const cached = this.#cache.get(offset);
    if (cached !== undefined) return cached;
    if (offset >= this.#bytes.length) {
      throw new BtfParseError(`type ${typeId}: name offset ${offset} is outside the ${this.#bytes.length}-byte string section`);
    }
    // The section ends with NUL (checked above), so this always finds one.
    const end = this.#bytes.indexOf(0, offset);
    const s = this.#decoder.decode(this.#bytes.subarray(offset, end));
    this.#cache.set(offset, s);
    return s;
  }
}
