/**
 * {@link Globals}: an object's global variables, by name, typed from BTF.
 *
 * @module
 */
import type { Btf, BtfVar } from './btf/btf';
import { codecFromBtf, describeBtfType, type Codec } from './btf/codec';
import { BpfStateError } from './errors';
import type { BpfMap } from './map/map';
import type { BpfObject } from './object';
import { checkString } from './internal/validate';

/** Where one global variable lives. */
interface GlobalVar {
  readonly name: string;
  readonly section: string;
  readonly map: BpfMap;
  readonly offset: number;
  readonly codec: Codec<unknown>;
  /** The BTF id of the VAR (its declaration), not of its type. */
  readonly varId: number;
}

/**
 * The global variables of a {@link BpfObject}, read and written by name with types from BTF:
 * integers (64-bit ones as `bigint`), booleans, enums, fixed arrays (`char[]` as bytes), structs
 * and unions as plain objects.
 *
 * - `.rodata` (`const volatile` globals): written before `load()` only. The verifier then sees
 *   them as constants; after load they are frozen and read-only.
 * - `.data` and `.bss`: read and written before and after load. After load they live in the
 *   kernel's memory, mapped into this process: a write changes only that variable's bytes and is
 *   seen by the program at once. (Linked against a system libbpf older than 1.5, a write after
 *   load is a lookup and update of the whole section instead, which can undo a concurrent update
 *   the program makes to another variable of the same section.)
 *
 * @example
 * ```ts
 * const obj = BpfObject.open(path);
 * obj.globals.set('verdict', 1);      // const volatile __u32 verdict
 * await obj.load();
 * obj.globals.get('last_len');        // __u32 in .bss, updated by the program
 * ```
 */
export class Globals {
  readonly #object: BpfObject;
  #vars: Map<string, GlobalVar> | undefined;

  /** @internal */
  constructor(object: BpfObject) {
    this.#object = object;
  }

  #index(): Map<string, GlobalVar> {
    if (this.#vars) return this.#vars;
    const vars = new Map<string, GlobalVar>();
    const btf: Btf | undefined = this.#object.btf;
    if (btf) {
      for (const map of this.#object.maps) {
        if (!map.internal || map.section === undefined || map.section === '.kconfig') continue;
        const datasec = btf.datasec(map.section);
        if (!datasec) continue;
        for (const v of datasec.vars) {
          const variable = btf.type(v.typeId);
          if (variable.kind !== 'VAR') continue;
          const typeId = (variable as BtfVar).typeId;
          vars.set(v.name, {
            name: v.name,
            section: map.section,
            map,
            offset: v.offset,
            varId: v.typeId,
            codec: codecFromBtf(btf, typeId),
          });
        }
      }
    }
    this.#vars = vars;
    return vars;
  }

  #lookup(name: unknown): GlobalVar {
    checkString(name, 'name');
    const v = this.#index().get(name);
    if (!v) {
      const known = [...this.#index().keys()];
      if (!this.#object.btf) {
        throw new RangeError(
          `no global variable '${name}' can be found in object '${this.#object.name}': it has no BTF, which names them; ` +
            'build it with clang -g (libbpf-node cflags prints the flags)',
        );
      }
      throw new RangeError(`no global variable '${name}' in object '${this.#object.name}'` + (known.length ? ` (it has: ${known.join(', ')})` : ' (it has none)'));
    }
    return v;
  }

  /** The global variables: name, section and C declaration (`'const volatile __u32 verdict'`). */
  names(): { name: string; section: string; declaration: string }[] {
    const btf = this.#object.btf;
    return [...this.#index().values()].map((v) => ({
      name: v.name,
      section: v.section,
      declaration: btf ? describeBtfType(btf, v.varId) : v.name,
    }));
  }

  /** Whether the object has a global variable of this name. */
  has(name: string): boolean {
    checkString(name, 'name');
    return this.#index().has(name);
  }

  /**
   * The value of a global variable.
   * @throws RangeError for an unknown name; {@link BpfStateError} after close.
   */
  get(name: string): unknown {
    const v = this.#lookup(name);
    const bytes = v.map.native.readValue(v.offset, v.codec.size);
    return v.codec.decode(bytes, 0);
  }

  /**
   * Sets a global variable. The value is checked against the variable's BTF type first; nothing
   * is written when it does not fit.
   * @throws RangeError for an unknown name or a value out of range; TypeError for a value of the
   *   wrong shape; {@link BpfStateError} for `.rodata` after load, or after close.
   */
  set(name: string, value: unknown): void {
    const v = this.#lookup(name);
    if (v.section.startsWith('.rodata') && this.#object.state !== 'opened') {
      throw new BpfStateError(
        `cannot set '${name}': it is in ${v.section}, which is read-only once the object is loaded (set it before load())`,
      );
    }
    const bytes = new Uint8Array(v.codec.size);
    v.codec.encode(value, bytes, 0);
    v.map.native.writeValue(v.offset, bytes);
  }

  /** All global variables and their values, as a plain object. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.#index().keys()) out[name] = this.get(name);
    return out;
  }
}
