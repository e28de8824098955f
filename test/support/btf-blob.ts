// Hand-built raw BTF for tests: types as u32 words, a deduplicated string section, a header
// (valid unless told otherwise), for what clang will not emit and for malformed input.

/** BTF kind numbers. */
export const K = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

export type BtfHeaderOverrides = Partial<Record<'magic' | 'version' | 'hdrLen' | 'typeOff' | 'typeLen' | 'strOff' | 'strLen', number>>;

export class BtfBlob {
  readonly #strings: number[] = [0];
  readonly #offsets = new Map<string, number>([['', 0]]);
  readonly #words: number[] = [];
  #next = 1;

  str(s: string): number {
    let off = this.#offsets.get(s);
    if (off === undefined) {
      off = this.#strings.length;
      this.#strings.push(...Buffer.from(s), 0);
      this.#offsets.set(s, off);
    }
    return off;
  }

  /** Appends a type; `extra` are the u32 words after btf_type. Returns its id. */
  add(kind: number, name: string, sizeOrType: number, extra: number[] = [], vlen = 0, kflag = false): number {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.#words.push(this.str(name), info >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return this.#next++;
  }

  int(name: string, size: number, signed = false): number {
    return this.add(K.INT, name, size, [((signed ? 1 : 0) << 24) | (size * 8)]);
  }

  /** A struct (or union); members are [name, typeId, bitOffset, bitfieldSize]. */
  struct(name: string, size: number, members: [string, number, number, number?][], kind: number = K.STRUCT): number {
    const kflag = members.some((m) => (m[3] ?? 0) > 0);
    return this.add(kind, name, size, members.flatMap(([n, t, off, bits]) => [this.str(n), t, kflag ? ((bits ?? 0) << 24) | off : off]), members.length, kflag);
  }

  /** The raw blob; `header` overrides fields to make it malformed. */
  raw(header: BtfHeaderOverrides = {}): Uint8Array {
    const types = Buffer.alloc(this.#words.length * 4);
    this.#words.forEach((w, i) => types.writeUInt32LE(w, i * 4));
    const strings = Buffer.from(this.#strings);
    const h = Buffer.alloc(24);
    h.writeUInt16LE(header.magic ?? 0xeb9f, 0);
    h.writeUInt8(header.version ?? 1, 2);
    h.writeUInt32LE(header.hdrLen ?? 24, 4);
    h.writeUInt32LE(header.typeOff ?? 0, 8);
    h.writeUInt32LE(header.typeLen ?? types.length, 12);
    h.writeUInt32LE(header.strOff ?? types.length, 16);
    h.writeUInt32LE(header.strLen ?? strings.length, 20);
    return new Uint8Array(Buffer.concat([h, types, strings]));
  }
}
