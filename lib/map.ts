/**
 * {@link BpfMap}: one BPF map, of a {@link BpfObject} or opened from bpffs; element access,
 * iteration, batch operations, pinning and memory-mapped views.
 *
 * @module
 */
import { statfsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { Btf } from './btf';
import { cidrKey } from './cidr';
import { codecFromBtf, type Codec } from './codec';
import { BpfError, BpfStateError } from './errors';
import { featureError, hasFeature } from './features';
import { fdValueCodec, perCpuCodec, rawCodec } from './map-codecs';
import { binding, type NativeMap, type NativeMapInfo, type NativeMapKernelInfo, type NativeMapSizes } from './native';
import type { BpfObject } from './object';
import { checkNonEmptyString, checkString, checkUint32, describe } from './validate';

/** What the kernel reports about a map: type, name, sizes, flags, id, BTF ids. */
export type MapKernelInfo = NativeMapKernelInfo;

/**
 * How {@link BpfMap.set} treats an existing key: `'any'` creates or replaces (BPF_ANY),
 * `'noexist'` only creates (BPF_NOEXIST, `EEXIST` otherwise), `'exist'` only replaces
 * (BPF_EXIST, `ENOENT` otherwise), `'lock'` updates a value holding a `bpf_spin_lock` under
 * the lock (BPF_F_LOCK).
 */
export type UpdateFlag = 'any' | 'noexist' | 'exist' | 'lock';

/** Options of {@link BpfMap.set} and {@link BpfMap.setBatch}. */
export interface SetOptions {
  /** Default `'any'`. */
  flags?: UpdateFlag;
}

/** Codecs for {@link BpfMap.typed}; a side left out comes from the map's BTF, else the untyped codec. */
export interface MapCodecs<K, V> {
  key?: Codec<K, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  value?: Codec<V, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const updateFlags: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2, lock: 4 };

/** BPF_F_MMAPABLE. */
const BPF_F_MMAPABLE = 1 << 10;
/** statfs magic of bpffs. */
const BPF_FS_MAGIC = 0xcafe4a11;
/** errnos meaning "this map type has no batch operations" (EINVAL, EOPNOTSUPP, kernel ENOTSUPP). */
const NO_BATCH_ERRNOS = new Set([22, 95, 524]);
/** Entries fetched per batch call when iterating. */
const BATCH_CHUNK = 256;

const perCpuTypes = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const arrayTypes = new Set(['array', 'percpu_array', 'prog_array', 'perf_event_array', 'array_of_maps', 'cgroup_array', 'devmap', 'cpumap', 'xskmap']);
const queueTypes = new Set(['queue', 'stack']);
const streamTypes = new Set(['ringbuf', 'user_ringbuf', 'perf_event_array']);

/** Throws unless `path` is an absolute path without `..`, whose folder is on bpffs. */
function checkPinPath(path: unknown): asserts path is string {
  checkNonEmptyString(path, 'path');
  if (!isAbsolute(path)) throw new RangeError(`pin path must be absolute, got '${path}'`);
  if (path.split('/').includes('..')) throw new RangeError(`pin path must not contain '..', got '${path}'`);
  let type: number;
  try {
    type = statfsSync(dirname(path)).type;
  } catch (e) {
    throw new RangeError(`pin path '${path}': its folder ${dirname(path)} does not exist (${(e as Error).message})`);
  }
  if (type !== BPF_FS_MAGIC) {
    throw new RangeError(`pin path '${path}' is not on a BPF filesystem (bpffs, usually mounted at /sys/fs/bpf)`);
  }
}

/**
 * What typed views of one map share: the native handle, its state and the scratch buffers.
 * @internal
 */
class MapCore {
  readonly native: NativeMap;
  readonly object: BpfObject | undefined;
  readonly name: string;
  closed = false;
  /** The pin this standalone map was opened from, or the last pin() made through this handle. */
  pinPath: string | undefined;
  batch: 'auto' | 'off' = 'auto';
  batchSupported: boolean | undefined;
  #sizes: NativeMapSizes | undefined;
  /** Key at 0, value at `valueOffset`, next key at `nextOffset`: one buffer, so codecs cache one view. */
  scratch!: Buffer;
  valueOffset = 0;
  nextOffset = 0;
  #btf: Btf | null | undefined;

  constructor(native: NativeMap, object: BpfObject | undefined, name: string) {
    this.native = native;
    this.object = object;
    this.name = name;
  }

  get standalone(): boolean {
    return this.object === undefined;
  }

  check(what: string): void {
    if (this.closed) throw new BpfStateError(`cannot ${what}: map '${this.name}' is closed`);
  }

  /** Sizes, binding the scratch buffers at first use (after load). */
  sizes(): NativeMapSizes {
    if (this.#sizes) return this.#sizes;
    this.check('access the map');
    const info = this.native.info();
    const perCpu = perCpuTypes.has(info.type);
    const ncpus = perCpu ? binding.numPossibleCpus() : 1;
    const valueBytes = perCpu ? ((info.valueSize + 7) & ~7) * ncpus : info.valueSize;
    const align = (n: number): number => (n + 7) & ~7;
    this.valueOffset = align(info.keySize);
    this.nextOffset = this.valueOffset + align(valueBytes);
    // allocUnsafeSlow: an ArrayBuffer of its own that never moves (native keeps its address).
    this.scratch = Buffer.allocUnsafeSlow(this.nextOffset + align(Math.max(info.keySize, 1)));
    this.scratch.fill(0);
    const s = this.scratch;
    this.#sizes = this.native.bindScratch(
      s.subarray(0, info.keySize),
      s.subarray(this.valueOffset, this.valueOffset + valueBytes),
      s.subarray(this.nextOffset, this.nextOffset + info.keySize),
    );
    return this.#sizes;
  }

  /** Forgets the scratch binding (native close() dropped it); the next access binds again. */
  unbind(): void {
    this.#sizes = undefined;
  }

  get bound(): boolean {
    return this.#sizes !== undefined;
  }

  btf(): Btf | undefined {
    if (this.#btf === undefined) {
      if (this.object) {
        this.#btf = this.object.btf ?? null;
      } else {
        const raw = this.native.btf();
        this.#btf = raw ? Btf.parse(raw) : null;
      }
    }
    return this.#btf ?? undefined;
  }
}

/**
 * One BPF map: of a {@link BpfObject} ({@link BpfObject.map}), or opened from the kernel with
 * {@link BpfMap.openPinned} / {@link BpfMap.openById}.
 *
 * Before the object's `load()`: read its definition and resize it ({@link BpfMap.maxEntries}
 * and friends), or make it {@link BpfMap.reuse} another map. After: element access.
 *
 * Keys and values: a Buffer/Uint8Array of the exact size always works. An untyped map also takes
 * integers for 1-, 2-, 4-byte keys and values (and returns numbers) and bigints or safe integers
 * for 8-byte ones (and returns bigints); other sizes come back as Buffers. Per-CPU maps take and
 * return one value per possible CPU; LPM tries with 8- or 20-byte keys take CIDR strings
 * (`'203.0.113.0/24'`); prog arrays and maps of maps take a program or map (or an fd) and return
 * the kernel id of what is stored. {@link BpfMap.typed} gives plain objects from BTF or your
 * codecs. A key or value of the wrong size or shape throws a TypeError/RangeError before any
 * syscall; a missing key is `undefined`.
 *
 * Lifetime: a map of an object is closed with its object (`obj.close()`); {@link BpfMap.close}
 * on it is a no-op. A map opened from the kernel owns its fd: `close()` (or `using`) closes it.
 * The kernel frees a map once no fd, pin, program or map-of-maps references it; a pin stays until
 * {@link BpfMap.unpin} or `rm`. Memory views ({@link BpfMap.mmap}) become empty (detached) when
 * the map or its object is closed.
 *
 * Minimum kernel: 4.4 for element access; 5.6 for batch operations (older kernels fall back to
 * one syscall per element); 5.5 for memory-mapped arrays.
 *
 * @typeParam K What keys decode to (and, for most codecs, what they encode from).
 * @typeParam V What values decode to.
 *
 * @example
 * ```ts
 * const counters = obj.map('counters');
 * counters.set(0, 5n);
 * counters.get(0);                     // 5n
 * for (const [k, v] of counters) console.log(k, v);
 * const flows = obj.map('flows').typed<FlowKey, FlowStats>();
 * ```
 */
export class BpfMap<K = unknown, V = unknown> implements Iterable<[K, V]>, Disposable {
  readonly #core: MapCore;
  readonly #codecs: MapCodecs<K, V>;
  #key: Codec<K, unknown> | undefined;
  #value: Codec<V, unknown> | undefined;
  /** The scratch buffer once keyed access was checked for this map type (hot-path shortcut). */
  #keyedScratch: Buffer | undefined;
  /** The map's name: its C variable name, or `<object>.<section>` for a global-variable map. */
  readonly name: string;
  /** For the maps libbpf makes from global variables: their section (`'.rodata'`, `'.data'`, `'.bss'`…). */
  readonly section: string | undefined;
  /** Whether libbpf made this map itself (global variables, kconfig) rather than from a map definition. */
  readonly internal: boolean;

  /** @internal */
  constructor(native: NativeMap, object: BpfObject | undefined, shared?: { core: MapCore; codecs: MapCodecs<K, V> }) {
    const info = native.info();
    this.#core = shared?.core ?? new MapCore(native, object, info.name);
    this.#codecs = shared?.codecs ?? {};
    this.name = info.name;
    this.section = info.section;
    this.internal = info.internal;
  }

  /**
   * Opens the map pinned at `path` in bpffs (by this or another process). Its type, sizes and
   * BTF come from the kernel, so {@link BpfMap.typed} works as for a map of an object.
   *
   * @param path An absolute path on bpffs, without `..`.
   * @throws RangeError for a path outside bpffs or with `..`; {@link BpfError} `ENOENT` when
   *   nothing is pinned there, `EINVAL` when the pin is not a map.
   * @example
   * ```ts
   * using counters = BpfMap.openPinned('/sys/fs/bpf/app/counters');
   * counters.get(0);
   * ```
   */
  static openPinned(path: string): BpfMap {
    checkPinPath(path);
    const map = new BpfMap(binding.openPinnedMap(path), undefined);
    map.#core.pinPath = path;
    return map;
  }

  /**
   * Opens the map with kernel id `id` (as {@link BpfMap.id}, `bpftool map show`, or the value of
   * a map-of-maps slot report it).
   * @throws {@link BpfError} `ENOENT` when no map has that id.
   */
  static openById(id: number): BpfMap {
    checkUint32(id, 'id', 1);
    return new BpfMap(binding.openMapById(id), undefined);
  }

  /**
   * What the kernel reports about any map fd (not only ours).
   * @throws {@link BpfError} `EBADF` for a closed fd, `EINVAL` when it is not a map.
   */
  static infoByFd(fd: number): MapKernelInfo {
    checkUint32(fd, 'fd');
    return binding.mapInfoByFd(fd);
  }

  /** The object that owns this map, or `undefined` for a map opened from the kernel. */
  get object(): BpfObject | undefined {
    return this.#core.object;
  }

  #info(): NativeMapInfo {
    this.#core.check('describe the map');
    return this.#core.native.info();
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
    this.#core.native.setKeySize(size);
  }

  /** Size of a value in bytes (for per-CPU maps: of one CPU's value). Settable before load. */
  get valueSize(): number {
    return this.#info().valueSize;
  }
  set valueSize(size: number) {
    checkUint32(size, 'valueSize', 1);
    this.#core.native.setValueSize(size);
  }

  /** The capacity of the map. Settable before load. */
  get maxEntries(): number {
    return this.#info().maxEntries;
  }
  set maxEntries(n: number) {
    checkUint32(n, 'maxEntries', 1);
    this.#core.native.setMaxEntries(n);
  }

  /** The map's `BPF_F_*` creation flags. Settable before load. */
  get flags(): number {
    return this.#info().flags;
  }
  set flags(flags: number) {
    checkUint32(flags, 'flags');
    this.#core.native.setFlags(flags);
  }

  /**
   * Where libbpf pins the map at load (and reuses a map already pinned there), or `undefined`.
   * Settable before load; maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)` get
   * `<pinRoot>/<name>` from {@link OpenOptions.pinRoot}. For a map opened from a pin: that pin.
   */
  get pinPath(): string | undefined {
    return this.#core.standalone ? this.#core.pinPath : this.#info().pinPath;
  }
  set pinPath(path: string | undefined) {
    if (path !== undefined) checkString(path, 'pinPath');
    this.#core.native.setPinPath(path ?? null);
  }

  /** Whether the map is pinned in bpffs (by libbpf at load, or by {@link BpfMap.pin}). */
  get pinned(): boolean {
    return this.#core.standalone ? this.#core.pinPath !== undefined : this.#info().pinned;
  }

  /**
   * Makes the object use an existing map instead of creating this one at load (libbpf
   * `bpf_map__reuse_fd`): both objects then share the map. Before load only; the other map's
   * type, sizes and flags must match.
   *
   * @param other A loaded map (of another object, or opened from the kernel), or its fd.
   * @throws {@link BpfStateError} after load or for a map opened from the kernel.
   * @example
   * ```ts
   * const b = BpfObject.open(path);
   * b.map('counters').reuse(a.map('counters'));
   * await b.load(); // a and b now count into the same map
   * ```
   */
  reuse(other: BpfMap | number): void {
    const fd = other instanceof BpfMap ? other.fd : other;
    checkUint32(fd, 'fd');
    this.#core.native.reuseFd(fd);
  }

  /** The map's file descriptor. @throws {@link BpfStateError} before load or after close. */
  get fd(): number {
    const core = this.#core;
    core.check('get the fd');
    if (core.standalone) return core.native.fd();
    const fd = core.native.info().fd;
    if (fd < 0) {
      throw new BpfStateError(
        core.object!.state === 'loaded'
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
  kernelInfo(): MapKernelInfo {
    this.#core.check('read map info');
    return this.#core.native.kernelInfo();
  }

  /** @internal The native handle, for other lib/ modules (globals, ring buffers). */
  get native(): NativeMap {
    return this.#core.native;
  }

  // --- Codecs -------------------------------------------------------------------------------------

  /**
   * A view of this map with typed keys and values. Without arguments the codecs come from the
   * map's BTF key and value types (structs as plain objects, see `codecFromBtf`); per-CPU maps
   * wrap the value codec in one-per-CPU arrays. Codecs you pass win over BTF. The view shares
   * the map: closing either closes both.
   *
   * @throws TypeError (at first element access) when a side has no codec: no BTF type and none given.
   * @example
   * ```ts
   * interface FlowKey { saddr: number; daddr: number; sport: number; dport: number; proto: number }
   * const flows = obj.map('flows').typed<FlowKey, FlowStats>();
   * flows.get({ saddr: 0x010012c6, daddr: 0x020012c6, sport: 53, dport: 4000, proto: 17 });
   * const blocked = obj.map('blocked').typed({ key: cidrKey('ipv4'), value: u32 });
   * ```
   */
  typed<TK = unknown, TV = unknown>(codecs: MapCodecs<TK, TV> = {}): BpfMap<TK, TV> {
    if (typeof codecs !== 'object' || codecs === null) throw new TypeError(`codecs must be an object, got ${describe(codecs)}`);
    for (const side of ['key', 'value'] as const) {
      const c = codecs[side];
      if (c !== undefined && (typeof c !== 'object' || c === null || typeof c.encode !== 'function' || typeof c.decode !== 'function' || !Number.isInteger(c.size))) {
        throw new TypeError(`codecs.${side} must be a Codec ({ size, encode, decode })`);
      }
    }
    return new BpfMap<TK, TV>(this.#core.native, this.#core.object, { core: this.#core, codecs: { ...codecs, btf: true } as MapCodecs<TK, TV> });
  }

  /** Resolves the codecs (needs the sizes, so after load). */
  #resolve(): void {
    const core = this.#core;
    const sizes = core.sizes();
    const useBtf = (this.#codecs as { btf?: boolean }).btf === true;
    const type = sizes.type;
    let key: Codec<unknown, unknown> | undefined = this.#codecs.key;
    let value: Codec<unknown, unknown> | undefined = this.#codecs.value;
    const btfIds = useBtf && (key === undefined || value === undefined) ? this.#btfTypeIds() : undefined;
    const btf = btfIds ? core.btf() : undefined;
    if (key === undefined) {
      if (btf && btfIds!.key) key = codecFromBtf(btf, btfIds!.key, { label: 'key' });
      else if (type === 'lpm_trie' && (sizes.keySize === 8 || sizes.keySize === 20)) key = cidrKey(sizes.keySize === 8 ? 'ipv4' : 'ipv6');
      else key = rawCodec(sizes.keySize, 'key');
    }
    if (value === undefined) {
      if (type === 'prog_array') value = fdValueCodec('value', 'a BpfProgram');
      else if (type === 'array_of_maps' || type === 'hash_of_maps') value = fdValueCodec('value', 'a BpfMap');
      else if (btf && btfIds!.value) value = codecFromBtf(btf, btfIds!.value, { label: 'value' });
      else value = rawCodec(sizes.valueSize, 'value');
      if (sizes.ncpus > 1 || perCpuTypes.has(type)) value = perCpuCodec(value, sizes.ncpus, 'value');
    } else if (perCpuTypes.has(type) && value.size !== sizes.valueBytes) {
      value = perCpuCodec(value, sizes.ncpus, 'value');
    }
    if (key.size !== sizes.keySize && !queueTypes.has(type)) {
      throw new RangeError(`map '${this.name}': the key codec is ${key.size} bytes, the map's keys are ${sizes.keySize}`);
    }
    if (value.size !== sizes.valueBytes) {
      throw new RangeError(`map '${this.name}': the value codec is ${value.size} bytes, the map's values are ${sizes.valueBytes}`);
    }
    this.#key = key as Codec<K, unknown>;
    this.#value = value as Codec<V, unknown>;
  }

  #btfTypeIds(): { key: number; value: number } {
    const core = this.#core;
    const ids = core.standalone ? core.native.kernelInfo() : core.native.info();
    if (!ids.btfKeyTypeId && !ids.btfValueTypeId && !queueTypes.has(core.sizes().type)) {
      throw new TypeError(`map '${this.name}' has no BTF key/value types: pass codecs to typed({ key, value })`);
    }
    return { key: ids.btfKeyTypeId, value: ids.btfValueTypeId };
  }

  /** The codecs in use (resolved at first access). */
  get codecs(): { key: Codec<K, unknown>; value: Codec<V, unknown> } {
    if (this.#value === undefined) this.#resolve();
    return { key: this.#key!, value: this.#value! };
  }

  // --- Element access -----------------------------------------------------------------------------

  /** Scratch buffer, with codecs resolved and the operation allowed on this map type. */
  #ready(what: string, kind: 'keyed' | 'queue' | 'delete' | 'any'): Buffer {
    const core = this.#core;
    if (core.closed) core.check(what);
    if (this.#value === undefined) this.#resolve();
    const type = core.sizes().type;
    if (kind !== 'any') {
      if (streamTypes.has(type)) {
        throw new TypeError(`cannot ${what}: map '${this.name}' is a ${type}; read it with obj.ringbuf()/obj.perfbuf()`);
      }
      const isQueue = queueTypes.has(type);
      if (kind === 'queue' && !isQueue) throw new TypeError(`cannot ${what}: map '${this.name}' is a ${type} map; push/pop/peek work on queue and stack maps`);
      if (kind !== 'queue' && isQueue) throw new TypeError(`cannot ${what}: map '${this.name}' is a ${type}; use push(), pop() and peek()`);
      if (kind === 'delete' && arrayTypes.has(type) && type !== 'prog_array' && type !== 'array_of_maps' && type !== 'devmap' && type !== 'cpumap' && type !== 'xskmap' && type !== 'perf_event_array') {
        throw new TypeError(`cannot ${what}: elements of a ${type} map cannot be deleted (set them to zero instead)`);
      }
    }
    return core.scratch;
  }

  /** The scratch buffer for keyed access, checked once per binding. */
  #keyed(what = 'look up an element'): Buffer {
    const s = this.#keyedScratch;
    const core = this.#core;
    if (s !== undefined && s === core.scratch && !core.closed && core.bound) return s;
    return (this.#keyedScratch = this.#ready(what, 'keyed'));
  }

  /**
   * The value stored under `key`, or `undefined` when there is none.
   *
   * @throws TypeError/RangeError for a key of the wrong type or size (before any syscall);
   *   {@link BpfStateError} before load or after close; {@link BpfError} if the kernel refuses.
   * @example `const hits = counters.get(0) ?? 0n;`
   */
  get(key: K | Uint8Array): V | undefined {
    const s = this.#keyed();
    this.#key!.encode(key as K, s, 0);
    if (!this.#core.native.lookup()) return undefined;
    return this.#value!.decode(s, this.#core.valueOffset);
  }

  /** Whether `key` is in the map. Same errors as {@link BpfMap.get}. */
  has(key: K | Uint8Array): boolean {
    const s = this.#ready('look up an element', 'keyed');
    this.#key!.encode(key as K, s, 0);
    return this.#core.native.lookup();
  }

  /**
   * Stores `value` under `key`.
   *
   * @param options.flags See {@link UpdateFlag}.
   * @throws TypeError/RangeError for a key or value of the wrong shape (nothing is written);
   *   {@link BpfError} `EEXIST` (`'noexist'` and the key exists), `ENOENT` (`'exist'` and it does
   *   not), `E2BIG` (the map is full), `EINVAL` (an array index past maxEntries).
   * @example `counters.set(0, 5n, { flags: 'noexist' });`
   */
  set(key: K | Uint8Array, value: V | Uint8Array | unknown, options?: SetOptions): void {
    const s = this.#keyed('update an element');
    const flags = options === undefined ? 0 : flagsOf(options);
    this.#key!.encode(key as K, s, 0);
    this.#value!.encode(value as V, s, this.#core.valueOffset);
    this.#core.native.update(flags);
  }

  /**
   * Deletes `key`; returns whether something was deleted.
   * @throws TypeError for array maps, whose elements cannot be deleted.
   */
  delete(key: K | Uint8Array): boolean {
    const s = this.#ready('delete an element', 'delete');
    this.#key!.encode(key as K, s, 0);
    return this.#core.native.remove();
  }

  /**
   * Looks up and deletes `key` in one step (hash maps, kernel 5.14+); `undefined` when absent.
   * @throws {@link BpfFeatureError} on kernels before 5.14, which have no lookup-and-delete for
   *   hash maps (use `get` then `delete`, which is not atomic)
   */
  take(key: K | Uint8Array): V | undefined {
    const s = this.#ready('take an element', 'delete');
    this.#key!.encode(key as K, s, 0);
    try {
      if (!this.#core.native.lookupAndDelete()) return undefined;
    } catch (e) {
      // Before 5.14 the kernel answers an unnamed ENOTSUPP (524) or EINVAL: say what is missing.
      if (e instanceof BpfError && !hasFeature('hash-lookup-and-delete')) {
        throw featureError('hash-lookup-and-delete', `take() on map '${this.#core.name}'`);
      }
      throw e;
    }
    return this.#value!.decode(s, this.#core.valueOffset);
  }

  /**
   * Queue and stack maps: adds a value (at the tail of a queue, the top of a stack).
   * @param options.overwrite When the map is full, drop the oldest value instead of failing (BPF_EXIST).
   * @throws TypeError on other map types; {@link BpfError} `E2BIG` when full.
   * Minimum kernel: 4.20.
   */
  push(value: V | Uint8Array | unknown, options: { overwrite?: boolean } = {}): void {
    const s = this.#ready('push', 'queue');
    this.#value!.encode(value as V, s, this.#core.valueOffset);
    this.#core.native.update(options.overwrite ? 2 : 0);
  }

  /** Queue and stack maps: removes and returns the next value, or `undefined` when empty. */
  pop(): V | undefined {
    const s = this.#ready('pop', 'queue');
    if (!this.#core.native.lookupAndDelete()) return undefined;
    return this.#value!.decode(s, this.#core.valueOffset);
  }

  /** Queue and stack maps: returns the next value without removing it, or `undefined` when empty. */
  peek(): V | undefined {
    const s = this.#ready('peek', 'queue');
    if (!this.#core.native.lookup()) return undefined;
    return this.#value!.decode(s, this.#core.valueOffset);
  }

  // --- Iteration ----------------------------------------------------------------------------------

  /**
   * How iteration and batch operations run: `'auto'` uses the kernel's batch syscalls where the
   * map type has them (falling back per element otherwise), `'off'` always goes per element
   * (BPF_MAP_GET_NEXT_KEY and one lookup per key). Shared by typed views.
   */
  get batchMode(): 'auto' | 'off' {
    return this.#core.batch;
  }
  set batchMode(mode: 'auto' | 'off') {
    if (mode !== 'auto' && mode !== 'off') throw new RangeError(`batchMode must be 'auto' or 'off', got ${describe(mode)}`);
    this.#core.batch = mode;
  }

  #useBatch(): boolean {
    return this.#core.batch === 'auto' && this.#core.batchSupported !== false;
  }

  /**
   * Every `[key, value]` of the map. Uses batch lookups where the kernel has them, else
   * BPF_MAP_GET_NEXT_KEY. A map that changes underneath never makes it loop forever or throw:
   * elements added or deleted meanwhile may or may not be seen, and none is yielded twice by
   * the per-element path.
   *
   * @example `for (const [ip, count] of map.entries()) console.log(ip, count);`
   */
  *entries(): IterableIterator<[K, V]> {
    this.#ready('iterate', 'keyed');
    if (this.#useBatch()) {
      const it = this.#batchEntries();
      let first: IteratorResult<[K, V]> | undefined;
      try {
        first = it.next();
      } catch (e) {
        if (!this.#noBatch(e)) throw e;
      }
      if (first !== undefined) {
        if (first.done) return;
        yield first.value;
        yield* it;
        return;
      }
    }
    yield* this.#nextKeyEntries();
  }

  /** The keys of the map (see {@link BpfMap.entries}). */
  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  /** The values of the map (see {@link BpfMap.entries}). */
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  /** Same as {@link BpfMap.entries}. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** True when `e` says the map type has no batch operations; remembers it. */
  #noBatch(e: unknown): boolean {
    if (e instanceof BpfError && NO_BATCH_ERRNOS.has(e.errno) && e.op.includes('batch')) {
      this.#core.batchSupported = false;
      return true;
    }
    return false;
  }

  *#batchEntries(): IterableIterator<[K, V]> {
    const core = this.#core;
    const { keySize, valueBytes } = core.sizes();
    let chunk = Math.min(BATCH_CHUNK, Math.max(core.sizes().maxEntries, 1));
    const tokenSize = Math.max(keySize, 8);
    const tokens = Buffer.alloc(2 * tokenSize);
    let inToken: Buffer | null = null;
    const outToken = tokens.subarray(tokenSize);
    let buf = Buffer.allocUnsafeSlow(chunk * (keySize + valueBytes));
    for (;;) {
      let r: { count: number; done: boolean };
      try {
        r = core.native.lookupBatch(false, inToken, outToken, buf.subarray(0, chunk * keySize), buf.subarray(chunk * keySize), chunk, 0);
      } catch (e) {
        // ENOSPC: a hash bucket holds more elements than fit; retry with room for more.
        if (e instanceof BpfError && e.code === 'ENOSPC' && chunk < 1 << 16) {
          chunk *= 4;
          buf = Buffer.allocUnsafeSlow(chunk * (keySize + valueBytes));
          continue;
        }
        throw e;
      }
      core.batchSupported = true;
      const valuesAt = chunk * keySize;
      for (let i = 0; i < r.count; i++) {
        yield [this.#key!.decode(buf, i * keySize), this.#value!.decode(buf, valuesAt + i * valueBytes)];
      }
      if (r.done || r.count === 0) return;
      if (inToken === null) inToken = tokens.subarray(0, tokenSize);
      outToken.copy(inToken);
    }
  }

  *#nextKeyEntries(): IterableIterator<[K, V]> {
    const core = this.#core;
    const { keySize, maxEntries } = core.sizes();
    const native = core.native;
    const s = core.scratch;
    const seen = new Set<string>();
    // When the current key is deleted, the kernel restarts from the first key: skip keys already
    // seen, and give up after a bounded number of steps so a churning map cannot trap us.
    let budget = 4 * maxEntries + 64;
    let fromKey = false;
    while (budget-- > 0) {
      if (!native.nextKey(fromKey)) return;
      fromKey = true;
      s.copy(s, 0, core.nextOffset, core.nextOffset + keySize);
      const id = s.toString('latin1', 0, keySize);
      if (seen.has(id)) continue;
      seen.add(id);
      const key = this.#key!.decode(s, 0);
      if (!native.lookup()) continue; // deleted meanwhile
      yield [key, this.#value!.decode(s, core.valueOffset)];
      // The consumer may have used the scratch (get/set in the loop body): restore our cursor.
      Buffer.from(id, 'latin1').copy(s, 0);
    }
  }

  /**
   * All `[key, value]` pairs as an array, fetched with batch lookups where the kernel has them.
   * Same semantics as {@link BpfMap.entries}.
   */
  dump(): [K, V][] {
    return [...this.entries()];
  }

  /**
   * The values of several keys: an array in the order of `keys`, `undefined` where a key is
   * absent. (The kernel has no batch lookup by key, so this is one lookup per key, with no
   * allocation per key besides the decoded value.)
   */
  getBatch(keys: readonly (K | Uint8Array)[]): (V | undefined)[] {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array, got ${describe(keys)}`);
    return keys.map((k) => this.get(k));
  }

  /**
   * Stores many entries with one BPF_MAP_UPDATE_BATCH syscall (per element where the kernel or
   * map type has none). Every key and value is encoded and checked before anything is written.
   *
   * @returns The number of entries written.
   * @throws As {@link BpfMap.set}; a kernel failure part-way says how many were written.
   */
  setBatch(entries: Iterable<readonly [K | Uint8Array, V | Uint8Array | unknown]>, options?: SetOptions): number {
    this.#ready('update a batch', 'keyed');
    const flags = options === undefined ? 0 : flagsOf(options);
    const list = [...entries];
    if (list.length === 0) return 0;
    const core = this.#core;
    const { keySize, valueBytes } = core.sizes();
    const buf = Buffer.alloc(list.length * (keySize + valueBytes));
    const valuesAt = list.length * keySize;
    list.forEach((entry, i) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError(`entries[${i}] must be a [key, value] pair`);
      this.#key!.encode(entry[0] as K, buf, i * keySize);
      this.#value!.encode(entry[1] as V, buf, valuesAt + i * valueBytes);
    });
    if (this.#useBatch()) {
      try {
        const n = core.native.updateBatch(buf.subarray(0, valuesAt), buf.subarray(valuesAt), list.length, flags);
        core.batchSupported = true;
        return n;
      } catch (e) {
        if (!this.#noBatch(e)) throw e;
      }
    }
    const s = core.scratch;
    for (let i = 0; i < list.length; i++) {
      buf.copy(s, 0, i * keySize, (i + 1) * keySize);
      buf.copy(s, core.valueOffset, valuesAt + i * valueBytes, valuesAt + (i + 1) * valueBytes);
      core.native.update(flags);
    }
    return list.length;
  }

  /**
   * Deletes many keys with one BPF_MAP_DELETE_BATCH syscall (per element where there is none).
   * With the batch syscall, a missing key fails the call with `ENOENT` after deleting the keys
   * before it; per element, missing keys are skipped.
   *
   * @returns The number of keys deleted.
   */
  deleteBatch(keys: readonly (K | Uint8Array)[]): number {
    this.#ready('delete a batch', 'delete');
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array, got ${describe(keys)}`);
    if (keys.length === 0) return 0;
    const core = this.#core;
    const { keySize } = core.sizes();
    const buf = Buffer.alloc(keys.length * keySize);
    keys.forEach((k, i) => this.#key!.encode(k as K, buf, i * keySize));
    if (this.#useBatch()) {
      try {
        const n = core.native.deleteBatch(buf, keys.length);
        core.batchSupported = true;
        return n;
      } catch (e) {
        if (!this.#noBatch(e)) throw e;
      }
    }
    let n = 0;
    for (let i = 0; i < keys.length; i++) {
      buf.copy(core.scratch, 0, i * keySize, (i + 1) * keySize);
      if (core.native.remove()) n++;
    }
    return n;
  }

  /** Deletes every element (hash-like maps); returns how many were deleted. */
  clear(): number {
    this.#ready('clear the map', 'delete');
    const keys = [...this.keys()];
    let n = 0;
    for (const k of keys) if (this.delete(k)) n++;
    return n;
  }

  // --- Kernel object ------------------------------------------------------------------------------

  /**
   * Makes the map read-only for userspace (BPF_MAP_FREEZE); programs can still write it.
   * Minimum kernel: 5.2.
   */
  freeze(): void {
    this.#core.check('freeze the map');
    this.#core.native.freeze();
  }

  /**
   * Pins the map at `path` in bpffs, so that it outlives this process and other processes can
   * {@link BpfMap.openPinned} it. The pin stays until {@link BpfMap.unpin} or `rm`.
   *
   * @throws RangeError for a path that is not absolute, contains `..`, or is outside bpffs;
   *   {@link BpfError} `EEXIST` when something is pinned there already.
   */
  pin(path: string): void {
    checkPinPath(path);
    this.#core.check('pin the map');
    this.#core.native.pin(path);
    this.#core.pinPath = path;
  }

  /**
   * Removes a pin: `path`, or the map's own pin (the one it was opened from, made with
   * {@link BpfMap.pin}, or set by libbpf). The map itself lives on while something holds it.
   *
   * @throws {@link BpfStateError} when there is no pin to remove; {@link BpfError} `ENOENT` when it is gone.
   */
  unpin(path?: string): void {
    this.#core.check('unpin the map');
    const target = path ?? this.pinPath;
    if (target === undefined) throw new BpfStateError(`cannot unpin map '${this.name}': it has no pin path`);
    checkPinPath(target);
    this.#core.native.unpin(target);
    if (target === this.#core.pinPath) this.#core.pinPath = undefined;
  }

  /**
   * A view of the map's memory, shared with the kernel: reads and writes go straight to the
   * map with no syscall. For array maps created with `BPF_F_MMAPABLE` and an object's `.data`
   * and `.bss`. The view is emptied (its ArrayBuffer detached) when the map or its object
   * closes, so it can never reach unmapped memory.
   *
   * Read-only maps (`.rodata` after load, frozen or `BPF_F_RDONLY` maps) are refused: writing
   * to read-only memory would crash the process. Read them with {@link BpfMap.get}.
   *
   * Minimum kernel: 5.5.
   *
   * @throws {@link BpfStateError} for a map that cannot be mapped, before load, after close.
   * @example
   * ```ts
   * const stats = obj.map('stats').mmap();   // BPF_F_MMAPABLE array of __u64
   * const u64 = stats.array(BigUint64Array);
   * u64[7];                                  // element 7, read from kernel memory
   * ```
   */
  mmap(): MappedArray<V> {
    const core = this.#core;
    core.check('map the memory');
    const sizes = core.sizes();
    if (sizes.type !== 'array' || (sizes.flags & BPF_F_MMAPABLE) === 0) {
      throw new BpfStateError(`cannot map map '${this.name}': only array maps created with BPF_F_MMAPABLE (and .data/.bss) can be memory-mapped; it is a ${sizes.type}`);
    }
    if (this.#value === undefined) this.#resolve();
    return new MappedArray<V>(core.native.mmap(), sizes.valueSize, sizes.maxEntries, this.#value!);
  }

  /**
   * Closes a map opened from the kernel (its fd, and its memory view). Idempotent. For a map of
   * an object this only drops its memory view: the object closes the map.
   */
  close(): void {
    const core = this.#core;
    if (core.closed) return;
    core.native.close();
    if (core.standalone) core.closed = true;
    else core.unbind();
  }

  /** Same as {@link BpfMap.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function flagsOf(options: SetOptions): number {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${describe(options)}`);
  const f = options.flags ?? 'any';
  const n = updateFlags[f];
  if (n === undefined) throw new RangeError(`flags must be 'any', 'noexist', 'exist' or 'lock', got ${describe(f)}`);
  return n;
}

/**
 * An array map's memory, mapped into this process ({@link BpfMap.mmap}). Element `i` lives at
 * byte `i * stride`. Reads and writes touch the kernel's memory directly, with no syscall and
 * no copy; concurrent programs see writes at once (no atomicity beyond what the CPU gives for
 * aligned 8-byte accesses).
 *
 * After the map or its object closes, {@link MappedArray.buffer} is detached: every view over it
 * has length 0, and {@link MappedArray.get} throws.
 */
export class MappedArray<V = unknown> {
  /** The mapped memory (detached when the map closes). */
  readonly buffer: ArrayBuffer;
  /** Bytes from one element to the next: the value size rounded up to 8. */
  readonly stride: number;
  /** Number of elements (the map's maxEntries). */
  readonly length: number;
  /** Bytes of one value. */
  readonly valueSize: number;
  readonly #codec: Codec<V, unknown>;
  readonly #bytes: Uint8Array;

  /** @internal */
  constructor(buffer: ArrayBuffer, valueSize: number, length: number, codec: Codec<V, unknown>) {
    this.buffer = buffer;
    this.valueSize = valueSize;
    this.stride = (valueSize + 7) & ~7;
    this.length = length;
    this.#codec = codec;
    this.#bytes = new Uint8Array(buffer, 0, this.stride * length);
  }

  /**
   * A typed array over all elements, for the fastest access: with `BigUint64Array` and 8-byte
   * values, `view[i]` is element `i`; for other layouts index by `i * stride / BYTES_PER_ELEMENT`.
   */
  array<T extends ArrayBufferView>(ctor: new (buffer: ArrayBuffer, byteOffset: number, length: number) => T & { BYTES_PER_ELEMENT?: number }): T {
    const per = (ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    return new ctor(this.buffer, 0, Math.floor((this.stride * this.length) / per));
  }

  #check(i: number): void {
    if (this.buffer.byteLength === 0) throw new BpfStateError('the map was closed: its memory is no longer mapped');
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`index must be an integer in [0, ${this.length - 1}], got ${describe(i)}`);
  }

  /** Element `i`, decoded with the map's value codec. */
  get(i: number): V {
    this.#check(i);
    return this.#codec.decode(this.#bytes, i * this.stride);
  }

  /** Writes element `i` (checked by the codec first; nothing is written when it does not fit). */
  set(i: number, value: V | unknown): void {
    this.#check(i);
    this.#codec.encode(value as V, this.#bytes, i * this.stride);
  }
}
