/**
 * {@link BpfMap}: one map of a {@link BpfObject}.
 *
 * @module
 */
import { BpfStateError } from './errors';
import type { BpfObject } from './object';
import type { NativeMap, NativeMapInfo, NativeMapKernelInfo } from './native';
import { checkString, checkUint32 } from './validate';

/**
 * One map of a {@link BpfObject}. Got from {@link BpfObject.map} or {@link BpfObject.maps};
 * valid as long as its object is open.
 *
 * Before `load()`: read its definition and resize it ({@link BpfMap.maxEntries} and friends).
 * After `load()`: its fd and kernel id.
 *
 * Lifetime: the map is owned by its object. `obj.close()` closes its fd; the kernel frees the
 * map once no loaded program uses it and it is not pinned.
 */
export class BpfMap {
  readonly #native: NativeMap;
  readonly #object: BpfObject;
  /** The map's name: its C variable name, or `<object>.<section>` for a global-variable map. */
  readonly name: string;
  /** For the maps libbpf makes from global variables: their section (`'.rodata'`, `'.data'`, `'.bss'`…). */
  readonly section: string | undefined;
  /** Whether libbpf made this map itself (global variables, kconfig) rather than from a map definition. */
  readonly internal: boolean;

  /** @internal */
  constructor(native: NativeMap, object: BpfObject) {
    this.#native = native;
    this.#object = object;
    const info = native.info();
    this.name = info.name;
    this.section = info.section;
    this.internal = info.internal;
  }

  /** The object that owns this map. */
  get object(): BpfObject {
    return this.#object;
  }

  #info(): NativeMapInfo {
    return this.#native.info();
  }

  /** The map type as libbpf names it: `'hash'`, `'array'`, `'percpu_array'`, `'prog_array'`… */
  get type(): string {
    return this.#info().type;
  }

  /** Size of a key in bytes. Settable before load. */
  get keySize(): number {
    return this.#info().keySize;
  }
  set keySize(size: number) {
    checkUint32(size, 'keySize', 1);
    this.#native.setKeySize(size);
  }

  /** Size of a value in bytes (for per-CPU maps: of one CPU's value). Settable before load. */
  get valueSize(): number {
    return this.#info().valueSize;
  }
  set valueSize(size: number) {
    checkUint32(size, 'valueSize', 1);
    this.#native.setValueSize(size);
  }

  /** The capacity of the map. Settable before load. */
  get maxEntries(): number {
    return this.#info().maxEntries;
  }
  set maxEntries(n: number) {
    checkUint32(n, 'maxEntries', 1);
    this.#native.setMaxEntries(n);
  }

  /** The map's `BPF_F_*` creation flags. Settable before load. */
  get flags(): number {
    return this.#info().flags;
  }
  set flags(flags: number) {
    checkUint32(flags, 'flags');
    this.#native.setFlags(flags);
  }

  /**
   * Where libbpf pins the map at load (and reuses a map already pinned there), or `undefined`.
   * Settable before load; maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)` get
   * `<pinRoot>/<name>` from {@link OpenOptions.pinRoot}.
   */
  get pinPath(): string | undefined {
    return this.#info().pinPath;
  }
  set pinPath(path: string | undefined) {
    if (path !== undefined) checkString(path, 'pinPath');
    this.#native.setPinPath(path ?? null);
  }

  /** Whether the map is pinned in bpffs (by libbpf at load). */
  get pinned(): boolean {
    return this.#info().pinned;
  }

  /** The map's file descriptor. @throws {@link BpfStateError} before load or after close. */
  get fd(): number {
    const fd = this.#info().fd;
    if (fd < 0) {
      throw new BpfStateError(
        this.#object.state === 'loaded'
          ? `map '${this.name}' has no fd: it was not created (autocreate was off)`
          : `map '${this.name}' has no fd: the object is not loaded yet (call load() first)`,
      );
    }
    return fd;
  }

  /** The kernel's id for the map (as `bpftool map show` lists it). @throws {@link BpfStateError} before load. */
  get id(): number {
    return this.kernelInfo().id;
  }

  /** What the kernel reports about the created map. @throws {@link BpfStateError} before load or after close. */
  kernelInfo(): NativeMapKernelInfo {
    return this.#native.kernelInfo();
  }

  /** @internal The native handle, for other lib/ modules (globals, map access). */
  get native(): NativeMap {
    return this.#native;
  }
}
