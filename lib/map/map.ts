/**
 * {@link BpfMap}: one BPF map, of a {@link BpfObject} or opened from bpffs; element access,
 * iteration, batch operations, pinning and memory-mapped views.
 *
 * @module
 */
import { endianness } from 'node:os';
import { Btf } from '../btf/btf';
import { cidrKey } from './cidr';
import { codecFromBtf, i16, i32, i64, i8, u16, u32, u64, u8, type Codec } from '../btf/codec';
import { BpfError, BpfStateError } from '../errors';
import { featureError, hasFeature } from '../features';
import { fdValueCodec, perCpuCodec, rawCodec } from './codecs';
import { checkPinPath } from '../internal/pin';
import { binding, type NativeMap, type NativeMapInfo, type NativeMapKernelInfo, type NativeMapOps, type NativeMapSizes } from '../internal/native';
import type { BpfObject } from '../object';
import { checkNonEmptyString, checkString, checkUint32, describe } from '../internal/validate';

/** What the kernel reports about a map: type, name, sizes, flags, id, BTF ids. */
export type MapKernelInfo = NativeMapKernelInfo;

/** Options of {@link BpfMap.create}. */
export interface CreateMapOptions {
  /** The map type as libbpf names it: `'hash'`, `'array'`, `'percpu_hash'`, `'lru_hash'`, `'array_of_maps'`, `'ringbuf'`… */
  type: string;
  /** Key size in bytes (0 for maps without keys: ring buffers, queues, stacks). */
  keySize: number;
  /** Value size in bytes (for map-in-maps: 4, an inner map fd). */
  valueSize: number;
  /** The number of entries (for a ring buffer: its size in bytes, a power of two). */
  maxEntries: number;
  /** `BPF_F_*` map flags (`BPF_F_NO_PREALLOC` = 1, `BPF_F_RDONLY_PROG` = 0x80, `BPF_F_MMAPABLE` = 0x400…). */
  flags?: number;
  /** A name for `bpftool map show` (at most 15 characters). */
  name?: string;
  /** For `array_of_maps`/`hash_of_maps`: a map with the shape every inner map must have. */
  innerMap?: BpfMap<unknown, unknown>;
  /** Type-specific extra (the number of hash functions of a bloom filter). */
  mapExtra?: number;
}

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
  /**
   * For maps whose values name interfaces by ifindex (`devmap`, `devmap_hash`): the network
   * namespace (`/run/netns/NAME`) the ifindex belongs to. The kernel resolves it in the writer's
   * namespace, so without this an interface of another namespace is `EINVAL` (or the wrong
   * interface). Only the calling thread enters the namespace, for this write.
   */
  netns?: string;
}

/**
 * Codecs for {@link BpfMap.typed}; a side left out comes from the map's BTF, else the untyped
 * codec. `KIn`/`VIn` are what the codecs encode (`u64` decodes to bigint but also encodes a
 * safe-integer number), and so what `set()` accepts.
 */
export interface MapCodecs<K, V, KIn = K, VIn = V> {
  key?: Codec<K, KIn>;
  value?: Codec<V, VIn>;
}

const updateFlags: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2, lock: 4 };

/** BPF_F_MMAPABLE. */
const BPF_F_MMAPABLE = 1 << 10;
/** errnos meaning "this map type has no batch operations" (EINVAL, EOPNOTSUPP, kernel ENOTSUPP). */
const NO_BATCH_ERRNOS = new Set([22, 95, 524]);
/** Entries fetched per batch call when iterating (fewer syscalls; the kernel's cost is per element). */
const BATCH_CHUNK = 1024;

const perCpuTypes = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const arrayTypes = new Set(['array', 'percpu_array', 'prog_array', 'perf_event_array', 'array_of_maps', 'cgroup_array', 'devmap', 'cpumap', 'xskmap']);
const queueTypes = new Set(['queue', 'stack']);
const streamTypes = new Set(['ringbuf', 'user_ringbuf', 'perf_event_array']);


/**
 * What typed views of one map share: the native handle, its state and the scratch buffers.
 * @internal
 */
class MapCore {
  readonly native: NativeMap;
  readonly object: BpfObject | undefined;
  readonly name: string;
  /** The pin this standalone map was opened from, or the last pin() made through this handle. */
  pinPath: string | undefined;
  batch: 'auto' | 'off' = 'auto';
  batchSupported: boolean | undefined;
  #ops: NativeMapOps | undefined;
  /** The element operations, bound to this map (valid once {@link sizes} was called). */
  ops!: NativeMapOps;
  /** Key at 0, value at `valueOffset`, next key at `nextOffset`: one buffer, so codecs cache one view. */
  scratch!: Buffer;
  valueOffset = 0;
  nextOffset = 0;
  /**
   * Element operations of this map under way. User JS run by an operation (a codec, a getter, a
   * Proxy key or value) may start another one on the same map: that nested operation saves the
   * scratch and puts it back when it ends, so the outer one still finds its own key and value.
   */
  depth = 0;
  #btf: Btf | null | undefined;

  constructor(native: NativeMap, object: BpfObject | undefined, name: string) {
    this.native = native;
    this.object = object;
    this.name = name;
  }

  get standalone(): boolean {
    return this.object === undefined;
  }

  /** Whether this standalone map is closed: native keeps the one record of it. */
  get closed(): boolean {
    return this.object === undefined && this.native.closed();
  }

  check(what: string): void {
    if (this.closed) throw new BpfStateError(`cannot ${what}: map '${this.name}' is closed`);
  }

  /** Sizes, binding the native scratch and element operations at first use (after load). */
  sizes(): NativeMapSizes {
    if (this.#ops) return this.#ops;
    this.check('access the map');
    const ops = this.native.bindOps();
    this.valueOffset = ops.valueOffset;
    this.nextOffset = ops.nextOffset;
    // A view of the natively owned scratch: no copy, and its memory never moves or goes away
    // while the operations live (see native/map/map_ops.cc).
    this.scratch = Buffer.from(ops.scratch);
    this.ops = ops;
    this.#ops = ops;
    return ops;
  }

  /** Forgets the scratch binding (native close() dropped it); the next access binds again. */
  unbind(): void {
    this.#ops = undefined;
  }

  get bound(): boolean {
    return this.#ops !== undefined;
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
export class BpfMap<K = unknown, V = unknown, KIn = K, VIn = V> implements Iterable<[K, V]>, Disposable {
  readonly #core: MapCore;
  readonly #codecs: MapCodecs<K, V, KIn, VIn>;
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
  constructor(native: NativeMap, object: BpfObject | undefined, shared?: { core: MapCore; codecs: MapCodecs<K, V, KIn, VIn> }) {
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
   * Creates a map that belongs to no object (`bpf_map_create`): an inner map for a map-in-map
   * slot, or a map shared by the programs of several objects (hand its fd to them with
   * `obj.map(name).reuse(map)` before load). It lives as long as its fd or a pin, a map-in-map
   * slot or a program holds it; {@link BpfMap.close} closes the fd.
   *
   * Minimum kernel: 4.4 for hash/array; the type's own minimum otherwise (`features.mapType()`).
   * @throws TypeError / RangeError for bad options (before any syscall)
   * @throws {@link BpfError} `EINVAL` when the kernel refuses the shape (sizes, flags, missing
   *   inner map), `EPERM` without CAP_BPF
   * @example
   * ```ts
   * using inner = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'inner' });
   * using outer = BpfMap.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 8, innerMap: inner });
   * outer.set(0, inner.fd);
   * ```
   */
  static create(options: CreateMapOptions): BpfMap {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${describe(options)}`);
    const known = ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'name', 'innerMap', 'mapExtra'];
    for (const k of Object.keys(options)) if (!known.includes(k)) throw new TypeError(`options: unknown option '${k}' (known: ${known.join(', ')})`);
    checkNonEmptyString(options.type, 'options.type');
    checkUint32(options.keySize, 'options.keySize');
    checkUint32(options.valueSize, 'options.valueSize');
    checkUint32(options.maxEntries, 'options.maxEntries');
    if (options.flags !== undefined) checkUint32(options.flags, 'options.flags');
    if (options.mapExtra !== undefined) checkUint32(options.mapExtra, 'options.mapExtra');
    if (options.name !== undefined) {
      checkString(options.name, 'options.name');
      if (!/^[A-Za-z0-9_.]{0,15}$/.test(options.name)) throw new RangeError(`options.name must be at most 15 letters, digits, '_' or '.', got '${options.name}'`);
    }
    let innerMapFd: number | undefined;
    if (options.innerMap !== undefined) {
      if (!(options.innerMap instanceof BpfMap)) throw new TypeError(`options.innerMap must be a BpfMap, got ${describe(options.innerMap)}`);
      innerMapFd = options.innerMap.fd;
    }
    const native = binding.createMap({ ...options, innerMap: undefined, innerMapFd } as Parameters<typeof binding.createMap>[0]);
    return new BpfMap(native, undefined);
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
  typed<TK = unknown, TV = unknown, TKIn = TK, TVIn = TV>(codecs: MapCodecs<TK, TV, TKIn, TVIn> = {}): BpfMap<TK, TV, TKIn, TVIn> {
    if (typeof codecs !== 'object' || codecs === null) throw new TypeError(`codecs must be an object, got ${describe(codecs)}`);
    for (const side of ['key', 'value'] as const) {
      const c = codecs[side];
      if (c !== undefined && (typeof c !== 'object' || c === null || typeof c.encode !== 'function' || typeof c.decode !== 'function' || !Number.isInteger(c.size))) {
        throw new TypeError(`codecs.${side} must be a Codec ({ size, encode, decode })`);
      }
    }
    return new BpfMap<TK, TV, TKIn, TVIn>(this.#core.native, this.#core.object, { core: this.#core, codecs: { ...codecs, btf: true } as MapCodecs<TK, TV, TKIn, TVIn> });
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
    } else if (perCpuTypes.has(type) && (value.size === sizes.valueSize || value.size !== sizes.valueBytes)) {
      // A codec of one CPU's value makes the map's values arrays, one per CPU, whatever the number
      // of CPUs: on a one-CPU machine one CPU's value is also the whole value, and must not
      // decode to a bare value there and to an array everywhere else.
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
    if (s !== undefined && s === core.scratch && core.bound) return s; // close() unbinds
    return (this.#keyedScratch = this.#ready(what, 'keyed'));
  }

  /**
   * The value stored under `key`, or `undefined` when there is none.
   *
   * @throws TypeError/RangeError for a key of the wrong type or size (before any syscall);
   *   {@link BpfStateError} before load or after close; {@link BpfError} if the kernel refuses.
   * @example `const hits = counters.get(0) ?? 0n;`
   */
  get(key: KIn | Uint8Array): V | undefined {
    const s = this.#keyed();
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.get(key));
    core.depth = 1;
    try {
      this.#key!.encode(key as K, s, 0);
      if (!core.ops.lookup()) return undefined;
      return this.#value!.decode(s, core.valueOffset);
    } finally {
      core.depth = 0;
    }
  }

  /**
   * Runs `op`, an operation started by user JS while another operation of this map runs: with
   * the scratch saved before and put back after, whatever `op` does or throws.
   */
  #nested<T>(op: () => T): T {
    const core = this.#core;
    const saved = Buffer.from(core.scratch);
    const depth = core.depth;
    core.depth = 0;
    try {
      return op();
    } finally {
      core.depth = depth;
      saved.copy(core.scratch);
    }
  }

  /** Whether `key` is in the map. Same errors as {@link BpfMap.get}. */
  has(key: KIn | Uint8Array): boolean {
    const s = this.#ready('look up an element', 'keyed');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.has(key));
    core.depth = 1;
    try {
      this.#key!.encode(key as K, s, 0);
      return core.ops.lookup();
    } finally {
      core.depth = 0;
    }
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
  set(key: KIn | Uint8Array, value: VIn | Uint8Array, options?: SetOptions): void {
    const s = this.#keyed('update an element');
    const flags = options === undefined ? 0 : flagsOf(options);
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.set(key, value, options));
    core.depth = 1;
    try {
      this.#key!.encode(key as K, s, 0);
      this.#value!.encode(value as V, s, core.valueOffset);
      if (options?.netns !== undefined) {
        checkNonEmptyString(options.netns, 'options.netns');
        core.ops.updateInNetns(options.netns, flags);
        return;
      }
      // No argument when 0: the native side then skips converting and checking a number.
      if (flags === 0) core.ops.update();
      else core.ops.update(flags);
    } catch (e) {
      // A DEVMAP ifindex is resolved in the writer's namespace: say so, the errno alone does not.
      if (options?.netns === undefined && e instanceof BpfError && (e.code === 'EINVAL' || e.code === 'ENODEV') && /^devmap/.test(this.#core.native.info().type)) {
        throw new BpfError(e.op, e.errno, `map '${this.name}': no such interface in this process's network namespace; an interface of another namespace needs { netns }`, undefined, e.details);
      }
      throw e;
    } finally {
      core.depth = 0;
    }
  }

  /**
   * Deletes `key`; returns whether something was deleted.
   * @throws TypeError for array maps, whose elements cannot be deleted.
   */
  delete(key: KIn | Uint8Array): boolean {
    const s = this.#ready('delete an element', 'delete');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.delete(key));
    core.depth = 1;
    try {
      this.#key!.encode(key as K, s, 0);
      return core.ops.remove();
    } finally {
      core.depth = 0;
    }
  }

  /**
   * Looks up and deletes `key` in one step (hash maps, kernel 5.14+); `undefined` when absent.
   * @throws {@link BpfFeatureError} on kernels before 5.14, which have no lookup-and-delete for
   *   hash maps (use `get` then `delete`, which is not atomic)
   */
  take(key: KIn | Uint8Array): V | undefined {
    const s = this.#ready('take an element', 'delete');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.take(key));
    core.depth = 1;
    try {
      this.#key!.encode(key as K, s, 0);
      try {
        if (!core.ops.lookupAndDelete()) return undefined;
      } catch (e) {
        // Before 5.14 the kernel answers an unnamed ENOTSUPP (524) or EINVAL: say what is missing.
        if (e instanceof BpfError && !hasFeature('hash-lookup-and-delete')) {
          throw featureError('hash-lookup-and-delete', `take() on map '${core.name}'`);
        }
        throw e;
      }
      return this.#value!.decode(s, core.valueOffset);
    } finally {
      core.depth = 0;
    }
  }

  /**
   * Queue and stack maps: adds a value (at the tail of a queue, the top of a stack).
   * @param options.overwrite When the map is full, drop the oldest value instead of failing (BPF_EXIST).
   * @throws TypeError on other map types; {@link BpfError} `E2BIG` when full.
   * Minimum kernel: 4.20.
   */
  push(value: VIn | Uint8Array, options: { overwrite?: boolean } = {}): void {
    const s = this.#ready('push', 'queue');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.push(value, options));
    core.depth = 1;
    try {
      this.#value!.encode(value as V, s, core.valueOffset);
      core.ops.update(options.overwrite ? 2 : 0);
    } finally {
      core.depth = 0;
    }
  }

  /** Queue and stack maps: removes and returns the next value, or `undefined` when empty. */
  pop(): V | undefined {
    const s = this.#ready('pop', 'queue');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.pop());
    core.depth = 1;
    try {
      if (!core.ops.lookupAndDelete()) return undefined;
      return this.#value!.decode(s, core.valueOffset);
    } finally {
      core.depth = 0;
    }
  }

  /** Queue and stack maps: returns the next value without removing it, or `undefined` when empty. */
  peek(): V | undefined {
    const s = this.#ready('peek', 'queue');
    const core = this.#core;
    if (core.depth !== 0) return this.#nested(() => this.peek());
    core.depth = 1;
    try {
      if (!core.ops.lookup()) return undefined;
      return this.#value!.decode(s, core.valueOffset);
    } finally {
      core.depth = 0;
    }
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
    const reader = new BatchReader(this.#core);
    const { keySize, valueBytes } = reader;
    for (let n = reader.read(); n > 0; n = reader.read()) {
      const buf = reader.buf;
      const valuesAt = reader.valuesAt;
      for (let i = 0; i < n; i++) {
        yield [this.#key!.decode(buf, i * keySize), this.#value!.decode(buf, valuesAt + i * valueBytes)];
      }
    }
  }

  /**
   * Per element (BPF_MAP_GET_NEXT_KEY, then a lookup): each step gives a buffer with the key at
   * 0 and the value at `valueOffset` — the scratch, or a copy when the walk runs inside another
   * operation of this map (user JS in a codec), whose scratch it then puts back.
   */
  *#nextKeySteps(): IterableIterator<Buffer> {
    const core = this.#core;
    const { keySize, maxEntries } = core.sizes();
    const ops = core.ops;
    const s = core.scratch;
    const seen = new Set<string>();
    // When the current key is deleted, the kernel restarts from the first key: skip keys already
    // seen, and give up after a bounded number of steps so a churning map cannot trap us.
    let budget = 4 * maxEntries + 64;
    let cursor: string | undefined;
    while (budget-- > 0) {
      const outer = core.depth !== 0 ? Buffer.from(s) : undefined;
      let step: Buffer | undefined;
      try {
        // The consumer may have used the scratch (get/set in the loop body): restore our cursor.
        if (cursor !== undefined) s.write(cursor, 0, keySize, 'latin1');
        if (!ops.nextKey(cursor !== undefined)) return;
        s.copy(s, 0, core.nextOffset, core.nextOffset + keySize);
        cursor = s.toString('latin1', 0, keySize);
        if (seen.has(cursor)) continue;
        seen.add(cursor);
        if (!ops.lookup()) continue; // deleted meanwhile
        step = outer ? Buffer.from(s) : s;
      } finally {
        outer?.copy(s);
      }
      yield step;
    }
  }

  /** A key and value decoded from `buf`; decoders are user JS, which may use this map. */
  #entryAt(buf: Buffer, keyAt: number, valueAt: number): [K, V] {
    const core = this.#core;
    const depth = core.depth;
    core.depth = 1;
    try {
      return [this.#key!.decode(buf, keyAt), this.#value!.decode(buf, valueAt)];
    } finally {
      core.depth = depth;
    }
  }

  *#nextKeyEntries(): IterableIterator<[K, V]> {
    const valueOffset = this.#core.valueOffset;
    for (const s of this.#nextKeySteps()) yield this.#entryAt(s, 0, valueOffset);
  }

  /**
   * All `[key, value]` pairs as an array, fetched with batch lookups where the kernel has them.
   * Same semantics as {@link BpfMap.entries}; faster than spreading it (no generator step per
   * element).
   *
   * @throws {@link BpfStateError} before load or after close; {@link BpfError} if the kernel refuses.
   * @example `const all = counters.dump(); // [[0, 12n], [1, 3n], ...]`
   */
  dump(): [K, V][] {
    this.#ready('iterate', 'keyed');
    const out: [K, V][] = [];
    const key = this.#key!;
    const value = this.#value!;
    if (this.#useBatch()) {
      const reader = new BatchReader(this.#core);
      const { keySize, valueBytes } = reader;
      let n = 0;
      try {
        n = reader.read();
      } catch (e) {
        if (!this.#noBatch(e)) throw e;
        n = -1;
      }
      if (n >= 0) {
        // Plain integers are read through typed-array views of the batch (one load each, and a
        // u64 becomes a BigInt in one step): most of dump()'s cost per element otherwise.
        const KA = integerArray(key, keySize);
        const VA = integerArray(value, valueBytes);
        for (; n > 0; n = reader.read()) {
          const buf = reader.buf;
          const valuesAt = reader.valuesAt;
          const kv = KA && (buf.byteOffset % keySize === 0) ? new KA(buf.buffer, buf.byteOffset, n) : undefined;
          const vv = VA && ((buf.byteOffset + valuesAt) % valueBytes === 0) ? new VA(buf.buffer, buf.byteOffset + valuesAt, n) : undefined;
          if (kv !== undefined && vv !== undefined) {
            for (let i = 0; i < n; i++) out.push([kv[i] as K, vv[i] as V]);
          } else {
            for (let i = 0; i < n; i++) {
              out.push([kv !== undefined ? (kv[i] as K) : key.decode(buf, i * keySize), vv !== undefined ? (vv[i] as V) : value.decode(buf, valuesAt + i * valueBytes)]);
            }
          }
        }
        return out;
      }
    }
    const valueOffset = this.#core.valueOffset;
    for (const s of this.#nextKeySteps()) out.push(this.#entryAt(s, 0, valueOffset));
    return out;
  }

  /**
   * The whole map as two typed arrays over its raw bytes, without an object per element: the
   * bulk form of {@link BpfMap.dump} for numeric keys and values. Element `i`'s key is
   * `keys[i * kw .. (i + 1) * kw)` and its value `values[i * vw .. (i + 1) * vw)`, where
   * `kw = keySize / keys.BYTES_PER_ELEMENT` and `vw = valueBytes / values.BYTES_PER_ELEMENT`
   * (1 for a u32 → u64 map read as `Uint32Array`, `BigUint64Array`; the number of CPUs for a
   * per-CPU map of u64). Host byte order, as the kernel stores them. The kernel writes straight
   * into the arrays with batch lookups (per element where it has none).
   *
   * @param keyType A typed-array class whose element size divides the key size.
   * @param valueType A typed-array class whose element size divides the value size (all CPUs'
   *   values, each rounded up to 8 bytes, for per-CPU maps).
   * @returns `count` elements; the arrays hold exactly `count * kw` and `count * vw` items.
   * @throws TypeError when a class is not a typed-array class; RangeError when its element size
   *   does not divide the key or value size; {@link BpfStateError} before load or after close;
   *   {@link BpfError} if the kernel refuses.
   * Minimum kernel: 5.6 for batch lookups (older kernels go per element).
   * @example
   * ```ts
   * const { count, keys, values } = counters.dumpArrays(Uint32Array, BigUint64Array);
   * for (let i = 0; i < count; i++) total += values[i];
   * ```
   */
  dumpArrays<KA extends TypedArray, VA extends TypedArray>(
    keyType: TypedArrayClass<KA>,
    valueType: TypedArrayClass<VA>,
  ): { count: number; keys: KA; values: VA } {
    const kb = elementSize(keyType, 'keyType');
    const vb = elementSize(valueType, 'valueType');
    this.#ready('iterate', 'keyed');
    const { keySize, valueBytes, maxEntries } = this.#core.sizes();
    if (keySize % kb !== 0) throw new RangeError(`keyType: ${keyType.name} elements (${kb} bytes) do not divide the key size (${keySize} bytes)`);
    if (valueBytes % vb !== 0) throw new RangeError(`valueType: ${valueType.name} elements (${vb} bytes) do not divide the value size (${valueBytes} bytes)`);
    let cap = Math.max(maxEntries, 1);
    let keys = new ArrayBuffer(cap * keySize);
    let values = new ArrayBuffer(cap * valueBytes);
    let count = 0;
    const grow = (): void => {
      // A map that changes underneath can show more than maxEntries elements in one pass.
      cap *= 2;
      const k = new ArrayBuffer(cap * keySize);
      const v = new ArrayBuffer(cap * valueBytes);
      new Uint8Array(k).set(new Uint8Array(keys));
      new Uint8Array(v).set(new Uint8Array(values));
      keys = k;
      values = v;
    };
    let batched = false;
    if (this.#useBatch()) {
      const native = this.#core.native;
      const tokenSize = Math.max(keySize, 8);
      const tokens = Buffer.alloc(2 * tokenSize);
      const outToken = tokens.subarray(tokenSize);
      let inToken: Buffer | null = null;
      try {
        for (;;) {
          if (count === cap) grow();
          const room = cap - count;
          const r = native.lookupBatch(
            false, inToken, outToken,
            new Uint8Array(keys, count * keySize, room * keySize), new Uint8Array(values, count * valueBytes, room * valueBytes),
            room, 0,
          );
          this.#core.batchSupported = true;
          batched = true;
          count += r.count;
          if (r.done || r.count === 0) break;
          if (inToken === null) inToken = tokens.subarray(0, tokenSize);
          outToken.copy(inToken);
        }
      } catch (e) {
        if (batched || !this.#noBatch(e)) throw e;
      }
    }
    if (!batched) {
      const { valueOffset } = this.#core;
      for (const s of this.#nextKeySteps()) {
        if (count === cap) grow();
        new Uint8Array(keys).set(s.subarray(0, keySize), count * keySize);
        new Uint8Array(values).set(s.subarray(valueOffset, valueOffset + valueBytes), count * valueBytes);
        count++;
      }
    }
    return {
      count,
      keys: new keyType(keys, 0, (count * keySize) / kb),
      values: new valueType(values, 0, (count * valueBytes) / vb),
    };
  }

  /**
   * The values of several keys: an array in the order of `keys`, `undefined` where a key is
   * absent. (The kernel has no batch lookup by key, so this is one lookup per key, with no
   * allocation per key besides the decoded value.)
   */
  getBatch(keys: readonly (KIn | Uint8Array)[]): (V | undefined)[] {
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
  setBatch(entries: Iterable<readonly [KIn | Uint8Array, VIn | Uint8Array]>, options?: SetOptions): number {
    if (options?.netns !== undefined) throw new TypeError('options.netns applies to set() only: write interfaces of another namespace one by one');
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
      core.ops.update(flags);
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
  deleteBatch(keys: readonly (KIn | Uint8Array)[]): number {
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
      if (core.ops.remove()) n++;
    }
    return n;
  }

  /** Deletes every element (hash-like maps); returns how many were deleted. */
  clear(): number {
    this.#ready('clear the map', 'delete');
    const keys = [...this.keys()];
    let n = 0;
    for (const k of keys) if (this.delete(k as unknown as KIn)) n++; // what decodes, encodes
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
    checkPinPath(path, 'pin path', 'create');
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
    checkPinPath(target, 'pin path');
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
  /**
   * Whether this map is closed: a map opened from the kernel after {@link BpfMap.close}, a map
   * of an object once its object closed.
   */
  get closed(): boolean {
    return this.#core.native.closed();
  }

  close(): void {
    const core = this.#core;
    core.native.close(); // idempotent in native
    core.unbind(); // the next access binds again, or (standalone) finds the map closed
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
 * has length 0, and {@link MappedArray.get}, {@link MappedArray.set}, {@link MappedArray.array}
 * and {@link MappedArray.numbers} throw {@link BpfStateError}.
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
    this.#checkOpen();
    const per = (ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    return new ctor(this.buffer, 0, Math.floor((this.stride * this.length) / per));
  }

  /**
   * The elements as plain numbers, for 8-byte values such as counters: `view.get(i)` reads
   * the two 32-bit halves of element `i`, so no BigInt is made per read (a `BigUint64Array`
   * read makes one). Values must stay below 2^53 to be read this way.
   *
   * @throws TypeError unless the values are 8 bytes.
   * @example
   * ```ts
   * const hits = obj.map('hits').mmap().numbers();
   * let total = 0;
   * for (let i = 0; i < hits.length; i++) total += hits.get(i);
   * ```
   */
  numbers(): MappedNumbers {
    this.#checkOpen();
    if (this.valueSize !== 8) throw new TypeError(`numbers() reads 8-byte values; this map's values are ${this.valueSize} bytes`);
    return new MappedNumbers(this.buffer, this.length);
  }

  /** Throws BpfStateError once the map (or its object) closed: the buffer is then detached. */
  #checkOpen(): void {
    if (this.buffer.byteLength === 0) throw new BpfStateError('the map was closed: its memory is no longer mapped');
  }

  #check(i: number): void {
    this.#checkOpen();
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

/** Any typed array. */
export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** The typed-array class that reads what `codec` decodes (a plain integer of `size` bytes in host order), if any. */
function integerArray(codec: Codec<unknown, unknown>, size: number): (new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<unknown>) | undefined {
  if (endianness() !== 'LE') return undefined; // the codecs are little endian
  const array =
    codec === u32 ? Uint32Array : codec === u64 ? BigUint64Array : codec === i32 ? Int32Array : codec === i64 ? BigInt64Array
    : codec === u16 ? Uint16Array : codec === i16 ? Int16Array : codec === u8 ? Uint8Array : codec === i8 ? Int8Array : undefined;
  return array !== undefined && array.BYTES_PER_ELEMENT === size ? array : undefined;
}

/** A typed-array class such as `Uint32Array` or `BigUint64Array` (for {@link BpfMap.dumpArrays}). */
export interface TypedArrayClass<T extends TypedArray> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const typedArrayClasses = new Set<unknown>([
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
]);

/** The element size of typed-array class `ctor` (one of the built-in classes). */
function elementSize(ctor: unknown, name: string): number {
  if (!typedArrayClasses.has(ctor)) {
    throw new TypeError(`${name} must be a typed-array class (Uint32Array, BigUint64Array, ...), got ${describe(ctor)}`);
  }
  return (ctor as TypedArrayClass<TypedArray>).BYTES_PER_ELEMENT;
}

/**
 * One pass over a map with BPF_MAP_LOOKUP_BATCH into one reused buffer: keys at 0, values at
 * `valuesAt`. @internal
 */
class BatchReader {
  readonly keySize: number;
  readonly valueBytes: number;
  buf: Buffer;
  valuesAt: number;
  readonly #core: MapCore;
  #chunk: number;
  readonly #inToken: Buffer;
  readonly #outToken: Buffer;
  #started = false;
  #done = false;

  constructor(core: MapCore) {
    const { keySize, valueBytes, maxEntries } = core.sizes();
    this.#core = core;
    this.keySize = keySize;
    this.valueBytes = valueBytes;
    this.#chunk = Math.min(BATCH_CHUNK, Math.max(maxEntries, 1));
    const tokenSize = Math.max(keySize, 8);
    const tokens = Buffer.alloc(2 * tokenSize);
    this.#inToken = tokens.subarray(0, tokenSize);
    this.#outToken = tokens.subarray(tokenSize);
    this.buf = Buffer.allocUnsafeSlow(this.#chunk * (keySize + valueBytes));
    this.valuesAt = this.#chunk * keySize;
  }

  /** Reads the next chunk: its element count, 0 at the end. */
  read(): number {
    if (this.#done) return 0;
    const { keySize, valueBytes } = this;
    for (;;) {
      const chunk = this.#chunk;
      let r: { count: number; done: boolean };
      try {
        r = this.#core.native.lookupBatch(
          false, this.#started ? this.#inToken : null, this.#outToken,
          this.buf.subarray(0, chunk * keySize), this.buf.subarray(chunk * keySize), chunk, 0,
        );
      } catch (e) {
        // ENOSPC: a hash bucket holds more elements than fit; retry with room for more.
        if (e instanceof BpfError && e.code === 'ENOSPC' && chunk < 1 << 16) {
          this.#chunk *= 4;
          this.buf = Buffer.allocUnsafeSlow(this.#chunk * (keySize + valueBytes));
          this.valuesAt = this.#chunk * keySize;
          continue;
        }
        throw e;
      }
      this.#core.batchSupported = true;
      if (r.done || r.count === 0) this.#done = true;
      else {
        this.#started = true;
        this.#outToken.copy(this.#inToken);
      }
      return r.count;
    }
  }
}

/** Index of the low 32-bit half of a 64-bit integer in a Uint32Array, on this host. */
const LOW_HALF = endianness() === 'LE' ? 0 : 1;

/**
 * The 8-byte elements of a memory-mapped array as numbers ({@link MappedArray.numbers}): reads
 * and writes go through the two 32-bit halves, with no BigInt. For counters and other values
 * below 2^53 (Number.MAX_SAFE_INTEGER + 1).
 *
 * After the map or its object closes, every access throws {@link BpfStateError}.
 */
export class MappedNumbers {
  /** Number of elements (the map's maxEntries). */
  readonly length: number;
  readonly #w: Uint32Array;

  /** @internal */
  constructor(buffer: ArrayBuffer, length: number) {
    this.length = length;
    this.#w = new Uint32Array(buffer, 0, 2 * length);
  }

  /**
   * Element `i` as a number.
   * @throws RangeError for an index outside [0, length) or a value of 2^53 or more (read it
   *   as a bigint with `array(BigUint64Array)`); {@link BpfStateError} after close.
   */
  get(i: number): number {
    const w = this.#w;
    const at = 2 * i;
    const lo = w[at + LOW_HALF];
    const hi = w[at + 1 - LOW_HALF];
    // Two comparisons on the hot path: undefined (out of range, detached) and values of 2^53 or
    // more fail the first, a fractional or non-number index the second.
    if (!(hi! < 0x200000) || (i | 0) !== i) this.#fail(i, hi);
    return lo! + hi! * 4294967296;
  }

  /**
   * Writes element `i` (a safe, non-negative integer). Not atomic against a BPF program
   * updating the same element: use it to reset or seed values, not to count concurrently.
   * @throws RangeError/TypeError for a bad index or value; {@link BpfStateError} after close.
   */
  set(i: number, value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`value must be a safe non-negative integer, got ${describe(value)}`);
    this.#index(i);
    const hi = Math.floor(value / 4294967296);
    this.#w[2 * i + LOW_HALF] = value - hi * 4294967296;
    this.#w[2 * i + 1 - LOW_HALF] = hi;
  }

  #index(i: number): void {
    if (this.#w.length === 0) throw new BpfStateError('the map was closed: its memory is no longer mapped');
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`index must be an integer in [0, ${this.length - 1}], got ${describe(i)}`);
  }

  #fail(i: number, hi: number | undefined): never {
    this.#index(i);
    throw new RangeError(`element ${i} is ${2 ** 53} or more (high half ${hi}): read it as a bigint with array(BigUint64Array)`);
  }
}
