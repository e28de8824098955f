/**
 * {@link BpfObject}: a BPF ELF object, opened, configured, loaded into the kernel and closed.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { Btf } from './btf/btf';
import { BpfError, BpfStateError } from './errors';
import { makeDirectories } from './internal/mkdir';
import { hasFeature } from './features';
import { Globals } from './globals';
import { BpfMap } from './map/map';
import { binding, type NativeObject, type NativeOpenOptions } from './internal/native';
import { checkPinDir, checkPinPath } from './internal/pin';
import { PerfBuffer, type PerfBufferOptions } from './events/perfbuf';
import { BpfProgram } from './program';
import { RingBuffer, type EventReaderOptions } from './events/ringbuf';
import { checkKnownKeys, checkNonEmptyString, checkObject, describe } from './internal/validate';

/** Options of {@link BpfObject.open}. */
export interface OpenOptions {
  /**
   * The object's name (libbpf uses it to prefix its internal maps). Default: the file name
   * without extension, or `'bpf_object'` for a Buffer.
   */
  objectName?: string;
  /**
   * The bpffs folder where maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)` are pinned,
   * and where an existing pin of that name is reused, so that two processes share the map.
   * Default: `/sys/fs/bpf`.
   */
  pinRoot?: string;
  /** Extra Kconfig values for `extern` kconfig variables, as `CONFIG_X=y` lines. */
  kconfig?: string;
  /** A vmlinux BTF file to use for CO-RE relocations instead of `/sys/kernel/btf/vmlinux`. */
  btfCustomPath?: string;
}

const openOptionKeys = ['objectName', 'pinRoot', 'kconfig', 'btfCustomPath'] as const;

/** The life of a {@link BpfObject}: `opened` → `loading` → `loaded` (or `failed`) → `closed`. */
export type BpfObjectState = 'opened' | 'loading' | 'loaded' | 'failed' | 'closed';

/**
 * A BPF ELF object (as built by `clang -target bpf`): its programs, maps and global variables.
 *
 * 1. {@link BpfObject.open} parses the ELF file. Programs and maps can be inspected and
 *    configured: which programs load, map sizes, pin paths, `.rodata` globals.
 * 2. {@link BpfObject.load} creates the maps and loads the programs into the kernel; the
 *    verifier runs on a worker thread. Configuration is now fixed.
 * 3. {@link BpfObject.close} releases everything (idempotent; `using` calls it).
 *
 * Lifetime: closing the object, or the process exiting, closes its program and map fds. What
 * stays in the kernel after that is only what something else holds: pinned maps and programs
 * (until unpinned), programs attached through netlink (until detached), and programs and maps
 * referenced by those. A `BpfObject` that is garbage-collected without `close()` is closed by a
 * finalizer as a safety net; do not rely on it.
 *
 * Minimum kernel: 5.4 for global variables (5.5 for mmap-able `.data`/`.bss`); BTF on the kernel
 * for CO-RE programs.
 *
 * @example
 * ```ts
 * using obj = BpfObject.open('./xdp_count.bpf.o');
 * obj.map('counters').maxEntries = 1024;
 * await obj.load();
 * for (const p of obj.programs) console.log(p.name, p.type, p.id, p.tag);
 * ```
 */
export class BpfObject implements Disposable {
  readonly #native: NativeObject;
  readonly #programs: Map<string, BpfProgram>;
  readonly #maps: Map<string, BpfMap>;
  #btf: Btf | null | undefined;
  #globals: Globals | undefined;
  /** The object's name (see {@link OpenOptions.objectName}). */
  readonly name: string;

  private constructor(native: NativeObject) {
    this.#native = native;
    this.name = native.name();
    this.#programs = new Map();
    for (const p of native.programs()) {
      const program = new BpfProgram(p, this);
      this.#programs.set(program.name, program);
    }
    this.#maps = new Map();
    for (const m of native.maps()) {
      const map = new BpfMap(m, this); // reads the map's info once, for its name too
      this.#maps.set(map.name, map);
    }
  }

  /**
   * Opens a BPF ELF object from a file or from memory. Nothing is loaded into the kernel yet.
   *
   * @param source - a path to the `.o` file, or a Buffer/Uint8Array holding the ELF image
   * @throws {@link BpfError} when the file is missing (`ENOENT`), a folder (`EISDIR`), or not a
   *   valid BPF object (`LIBBPF_ERRNO__FORMAT`, `LIBBPF_ERRNO__LIBELF`, `EINVAL`…)
   * @throws TypeError / RangeError for arguments of the wrong type or an empty source
   */
  static open(source: string | Uint8Array, options: OpenOptions = {}): BpfObject {
    checkObject(options, 'options');
    checkKnownKeys(options, 'BpfObject.open options', openOptionKeys);
    const nativeOptions: NativeOpenOptions = {};
    for (const key of openOptionKeys) {
      const value = options[key];
      if (value !== undefined) {
        checkNonEmptyString(value, `options.${key}`);
        nativeOptions[key] = value;
      }
    }
    if (typeof source === 'string') {
      checkNonEmptyString(source, 'source');
      let isDir = false;
      try {
        isDir = statSync(source).isDirectory();
      } catch {
        // Missing files are reported by libbpf's open (ENOENT), in one place.
      }
      if (isDir) throw new BpfError('bpf_object__open_file', constants.errno.EISDIR, `'${source}' is a directory`);
    } else if (source instanceof Uint8Array) {
      if (source.length === 0) throw new RangeError('source must not be an empty buffer');
      nativeOptions.objectName ??= 'bpf_object';
    } else {
      throw new TypeError(`source must be a path or a Buffer/Uint8Array, got ${describe(source)}`);
    }
    return new BpfObject(new binding.NativeObject(source, nativeOptions));
  }

  /**
   * Where the object is in its life. The native object keeps the phase (one source of truth):
   * a `close()` from anywhere, even a logger during `loadSync()`, shows here at once.
   */
  get state(): BpfObjectState {
    const s = this.#native.state();
    return s === 'closing' ? 'closed' : s;
  }

  /** The programs, in ELF order. */
  get programs(): readonly BpfProgram[] {
    this.#checkOpen('list programs');
    return [...this.#programs.values()];
  }

  /** The maps, in ELF order, including the maps libbpf makes for global variables. */
  get maps(): readonly BpfMap[] {
    this.#checkOpen('list maps');
    return [...this.#maps.values()];
  }

  /**
   * The program called `name` (its C function name).
   * @throws RangeError naming the programs that exist, when there is none of that name
   */
  program(name: string): BpfProgram {
    this.#checkOpen('get a program');
    checkNonEmptyString(name, 'name');
    const p = this.#programs.get(name);
    if (!p) {
      throw new RangeError(`no program '${name}' in object '${this.name}' (it has: ${[...this.#programs.keys()].join(', ') || 'none'})`);
    }
    return p;
  }

  /**
   * The map called `name` (its C variable name; `'.rodata'`, `'.data'`, `'.bss'` find the
   * global-variable maps).
   * @throws RangeError naming the maps that exist, when there is none of that name
   */
  map(name: string): BpfMap {
    this.#checkOpen('get a map');
    checkNonEmptyString(name, 'name');
    const m = this.#maps.get(name) ?? [...this.#maps.values()].find((x) => x.section !== undefined && x.section === name);
    if (!m) {
      throw new RangeError(`no map '${name}' in object '${this.name}' (it has: ${[...this.#maps.keys()].join(', ') || 'none'})`);
    }
    return m;
  }

  /**
   * Starts reading the ring buffer map `name`: `for await (const record of obj.ringbuf('events'))`.
   * See {@link RingBuffer}. Minimum kernel: 5.8.
   * @throws RangeError for an unknown map; TypeError when it is not a ring buffer;
   *   {@link BpfStateError} before load.
   */
  ringbuf<T = Buffer>(name: string, options?: EventReaderOptions<T>): RingBuffer<T> {
    return new RingBuffer<T>(this.map(name), options);
  }

  /**
   * Starts reading the perf event array map `name`. See {@link PerfBuffer}.
   * @throws RangeError for an unknown map; TypeError when it is not a perf event array;
   *   {@link BpfStateError} before load.
   */
  perfbuf<T = Buffer>(name: string, options?: PerfBufferOptions<T>): PerfBuffer<T> {
    return new PerfBuffer<T>(this.map(name), options);
  }

  /** The object's BTF (types of its maps and globals), or `undefined` when it was built without `-g`. */
  get btf(): Btf | undefined {
    this.#checkOpen('read BTF');
    if (this.#btf === undefined) {
      const raw = this.#native.btf();
      this.#btf = raw ? Btf.parse(raw) : null;
    }
    return this.#btf ?? undefined;
  }

  /** The object's global variables, typed from BTF. See {@link Globals}. */
  get globals(): Globals {
    this.#checkOpen('access globals');
    this.#globals ??= new Globals(this);
    return this.#globals;
  }

  /**
   * Creates the maps and loads the programs into the kernel. The verifier runs on a libuv worker
   * thread, so the event loop keeps running.
   *
   * By default no verifier log is asked for while loading; when the kernel refuses a program,
   * libbpf loads it again with a log that it grows on `ENOSPC` up to the kernel's limit, so a
   * refusal always comes with its full log. `options.logLevel` asks for the log of every program
   * (1 = verbose, 2 = very verbose, 4 = statistics, combinable) in a buffer of `options.logSize`
   * bytes per program; read it with {@link BpfObject.verifierLog} and {@link BpfObject.verifierStats}.
   *
   * @throws {@link BpfVerifierError} when the verifier refuses a program (its `log` has the full log)
   * @throws {@link BpfError} for other failures (`EPERM` without privileges, map creation…;
   *   `ENOSPC` when a log asked for with `logLevel` does not fit in `logSize`)
   * @throws {@link BpfStateError} when already loaded, loading, or closed
   * @throws TypeError / RangeError for bad options
   */
  async load(options: LoadOptions = {}): Promise<void> {
    const native = checkLoadOptions(options);
    this.#checkLoadable();
    await this.#native.loadAsync(native);
  }

  /** {@link BpfObject.load}, blocking the thread until the verifier is done. Same errors. */
  loadSync(options: LoadOptions = {}): void {
    const native = checkLoadOptions(options);
    this.#checkLoadable();
    this.#native.load(native);
  }

  /**
   * The verifier's log of `program`, when the object was loaded with a `logLevel`; otherwise
   * `undefined`.
   * @throws RangeError for an unknown program; {@link BpfStateError} when closed
   * @example
   * ```ts
   * obj.loadSync({ logLevel: 1, logSize: 1 << 20 });
   * console.log(obj.verifierLog('xdp_main'));
   * ```
   */
  verifierLog(program: string): string | undefined {
    this.program(program);
    return this.#native.verifierLog(program) ?? undefined;
  }

  /**
   * What the verifier reported for `program`: the instructions it verified (from the kernel,
   * always, where it counts them: feature `'verified-insns'`, 5.16), plus with `logLevel` 4
   * (`BPF_LOG_STATS`) the processed instructions, states and verification time from its log.
   * @throws RangeError for an unknown program; {@link BpfStateError} unless loaded
   * @example
   * ```ts
   * await obj.load({ logLevel: 4, logSize: 4096 });
   * obj.verifierStats('xdp_main'); // { verifiedInsns: 812, processedInsns: 812, totalStates: 40, peakStates: 40, timeUsec: 95 }
   * ```
   */
  verifierStats(program: string): VerifierStats {
    const p = this.program(program);
    const stats: VerifierStats = hasFeature('verified-insns') ? { verifiedInsns: p.kernelInfo().verifiedInsns } : {};
    const log = this.#native.verifierLog(program);
    if (log) Object.assign(stats, parseVerifierStats(log));
    return stats;
  }

  /**
   * Pins every map defined in the object's `.maps` section at `<dir>/<map name>` in bpffs
   * (making `dir` if needed), as `bpf_object__pin_maps` does: the maps then outlive the object and
   * the process, and other processes open them with {@link BpfMap.openPinned}. The maps libbpf
   * makes for global variables (`.bss`, `.data`, `.rodata`) stay private to the object. If one
   * pin fails, the pins made so far are removed before the error is thrown.
   *
   * @returns The paths pinned, in map order.
   * @throws RangeError for a `dir` outside bpffs or with `..` (nothing is made)
   * @throws {@link BpfStateError} before load or after close
   * @throws {@link BpfError} `EEXIST` when a map's path is taken; op `mkdir` when `dir` cannot be made
   * @example
   * ```ts
   * await obj.load();
   * obj.pinMaps('/sys/fs/bpf/myapp');   // /sys/fs/bpf/myapp/counters, /sys/fs/bpf/myapp/myapp.bss...
   * ```
   */
  pinMaps(dir: string): string[] {
    checkPinDir(dir);
    this.#checkOpen('pin maps');
    if (this.state !== 'loaded') throw new BpfStateError(`cannot pin maps: the BPF object is ${this.state} (call load() first)`);
    makeDirectories(dir, 'pin folder');
    const done: Array<[BpfMap, string]> = [];
    try {
      for (const map of this.maps) {
        if (map.internal) continue;
        const path = join(dir, map.name);
        map.pin(path);
        done.push([map, path]);
      }
    } catch (e) {
      for (const [map, path] of done) {
        try {
          map.unpin(path);
        } catch {
          // Best effort: the first error is the one to report.
        }
      }
      throw e;
    }
    return done.map(([, path]) => path);
  }

  /**
   * Removes the pins {@link BpfObject.pinMaps} made under `dir` (`bpf_object__unpin_maps`);
   * paths already gone are skipped. The directory itself stays.
   *
   * @returns The paths removed.
   * @throws RangeError for a `dir` outside bpffs; {@link BpfStateError} after close
   */
  unpinMaps(dir: string): string[] {
    checkPinPath(join(dir, 'map'), 'dir');
    this.#checkOpen('unpin maps');
    const removed: string[] = [];
    for (const map of this.maps) {
      if (map.internal) continue;
      const path = join(dir, map.name);
      try {
        map.unpin(path);
        removed.push(path);
      } catch (e) {
        if (!(e instanceof BpfError && e.code === 'ENOENT')) throw e;
      }
    }
    return removed;
  }

  /**
   * Releases the object: its program and map fds, and libbpf's memory. Idempotent. A `close()`
   * while `load()` runs takes effect when the load ends.
   */
  close(): void {
    this.#native.close();
  }

  /** Same as {@link BpfObject.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(what: string): void {
    if (this.state === 'closed') throw new BpfStateError(`cannot ${what}: the BPF object '${this.name}' is closed`);
  }

  #checkLoadable(): void {
    switch (this.state) {
      case 'opened':
        return;
      case 'loading':
        throw new BpfStateError(`cannot load '${this.name}': a load() is already running`);
      case 'loaded':
        throw new BpfStateError(`cannot load '${this.name}': it is already loaded`);
      case 'failed':
        throw new BpfStateError(`cannot load '${this.name}': an earlier load() failed; open the object again`);
      case 'closed':
        throw new BpfStateError(`cannot load '${this.name}': the BPF object is closed`);
    }
  }
}

/** Options of {@link BpfObject.load}. */
export interface LoadOptions {
  /**
   * The verifier's log level for every program: a combination of 1 (`BPF_LOG_LEVEL1`),
   * 2 (`BPF_LOG_LEVEL2`) and 4 (`BPF_LOG_STATS`). Default 0: no log unless a program is refused.
   */
  logLevel?: number;
  /** Bytes of log per program with a `logLevel`, in [128, 2^30). Default 1 MiB. */
  logSize?: number;
}

/** What {@link BpfObject.verifierStats} returns. Fields from the log are there with `logLevel` 4. */
export interface VerifierStats {
  /** Instructions the verifier walked, as the kernel counts them (5.16+; absent before). */
  verifiedInsns?: number;
  /** "processed N insns" from the log. */
  processedInsns?: number;
  /** "total_states" from the log. */
  totalStates?: number;
  /** "peak_states" from the log. */
  peakStates?: number;
  /** "verification time N usec" from the log. */
  timeUsec?: number;
}

const maxLogSize = 2 ** 30 - 1;

function checkLoadOptions(options: LoadOptions): { logLevel?: number; logSize?: number } {
  const raw: unknown = options;
  checkObject(raw, 'load options');
  checkKnownKeys(raw, 'load options', ['logLevel', 'logSize']);
  const logLevel = raw.logLevel ?? 0;
  const logSize = raw.logSize;
  if (typeof logLevel !== 'number' || (logSize !== undefined && typeof logSize !== 'number')) {
    throw new TypeError('load options: logLevel and logSize must be numbers');
  }
  if (!Number.isInteger(logLevel) || logLevel < 0 || logLevel > 7) throw new RangeError(`logLevel must be an integer in [0, 7], got ${String(logLevel)}`);
  if (logSize !== undefined && (!Number.isInteger(logSize) || logSize < 128 || logSize > maxLogSize)) {
    throw new RangeError(`logSize must be an integer in [128, 2^30), got ${String(logSize)}`);
  }
  if (logLevel === 0) return {};
  return { logLevel, logSize: logSize ?? 1 << 20 };
}

/**
 * The statistics lines of a verifier log (BPF_LOG_STATS): "processed N insns … total_states …
 * peak_states …" and "verification time N usec". Fields missing from the log are left out.
 * Never throws. Minimum kernel: 5.2 for BPF_LOG_STATS.
 *
 * @internal
 * @example
 * ```ts
 * parseVerifierStats('verification time 12 usec\n'); // { timeUsec: 12 }
 * ```
 */
export function parseVerifierStats(log: string): Omit<VerifierStats, 'verifiedInsns'> {
  const out: Omit<VerifierStats, 'verifiedInsns'> = {};
  const processed = /processed (\d+) insns \(limit \d+\) max_states_per_insn \d+ total_states (\d+) peak_states (\d+)/.exec(log);
  if (processed) {
    out.processedInsns = Number(processed[1]);
    out.totalStates = Number(processed[2]);
    out.peakStates = Number(processed[3]);
  }
  const time = /verification time (\d+) usec/.exec(log);
  if (time) out.timeUsec = Number(time[1]);
  return out;
}
