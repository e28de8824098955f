/**
 * {@link BpfProgram}: one program of a {@link BpfObject}, or a program reopened from a bpffs pin.
 *
 * @module
 */
import type { BpfObject } from './object';
import { binding, type NativeProgram, type NativeProgramKernelInfo } from './internal/native';
import { BpfStateError } from './errors';
import { BpfLink } from './link';
import { checkPinPath } from './internal/pin';
import { MAX_SYNC_REPEAT, toNativeRunOptions, toRunResult, type TestRunOptions, type TestRunResult } from './test-run';
import { checkBoolean, checkString, checkUint32 } from './internal/validate';

/**
 * One BPF program: either a program of a {@link BpfObject} (from {@link BpfObject.program} or
 * {@link BpfObject.programs}; valid as long as its object is open), or a standalone program
 * reopened from a bpffs pin with {@link BpfProgram.openPinned}.
 *
 * Before `load()`: read its description, choose whether it loads ({@link BpfProgram.autoload})
 * and override its type. After `load()`: its fd, kernel id and tag; attach it
 * ({@link BpfProgram.attach}, `attachXdp`, `attachTc`), pin it, run it on test input
 * ({@link BpfProgram.testRun}).
 *
 * Lifetime: a program of an object is owned by the object. `obj.close()` closes its fd; the
 * kernel then frees the program unless something else holds it (an attachment made through
 * netlink, a pin in bpffs, a prog array slot, or a link that is still open). A standalone program
 * owns its fd: {@link BpfProgram.close} (or `using`, or garbage collection) closes it, with the
 * same rule for what stays.
 */
export class BpfProgram implements Disposable {
  readonly #native: NativeProgram;
  readonly #object: BpfObject | undefined;
  #pinPath: string | undefined;
  /** The program's name: its C function name (for a reopened pin: the kernel's name, 15 characters at most). */
  readonly name: string;
  /** The ELF section it came from, such as `'xdp'` or `'tc/ingress'` (`''` for a reopened pin). */
  readonly section: string;

  /** @internal */
  constructor(native: NativeProgram, object: BpfObject | undefined) {
    this.#native = native;
    this.#object = object;
    const names = native.names();
    if (typeof names === 'string') {
      this.name = names;
      this.section = '';
    } else {
      this.name = names[0];
      this.section = names[1];
    }
  }

  /**
   * Reopens a program pinned in bpffs (by {@link BpfProgram.pin}, bpftool, another process). The
   * program belongs to no object: it can be attached, run, pinned again and closed.
   *
   * @throws RangeError for a path outside bpffs or with `..`
   * @throws {@link BpfError} `ENOENT` when nothing is pinned there, `EINVAL` when the pin is not a program
   * @example
   * ```ts
   * using prog = BpfProgram.openPinned('/sys/fs/bpf/my_xdp');
   * using link = attachXdp(prog, 'veth0', { netns });
   * ```
   */
  static openPinned(path: string): BpfProgram {
    checkPinPath(path);
    const p = new BpfProgram(binding.NativeProgram.openPinned(path), undefined);
    p.#pinPath = path;
    return p;
  }

  /**
   * Opens the loaded program with kernel id `id` (as `bpftool prog show` lists it), whoever
   * loaded it. Like a pinned program, it belongs to no object. Needs CAP_SYS_ADMIN.
   *
   * @throws {@link BpfError} `ENOENT` when no program has that id
   * @example
   * ```ts
   * using prog = BpfProgram.openById(queryXdp('eth0')!.progId);
   * prog.kernelInfo().mapIds;
   * ```
   */
  static openById(id: number): BpfProgram {
    checkUint32(id, 'id', 1);
    return new BpfProgram(binding.NativeProgram.openById(id), undefined);
  }

  /** The object that owns this program; `undefined` for a program reopened from a pin. */
  get object(): BpfObject | undefined {
    return this.#object;
  }

  /** The program type as libbpf names it: `'xdp'`, `'sched_cls'`, `'kprobe'`… Settable before load. */
  get type(): string {
    return this.#native.info().type;
  }
  set type(type: string) {
    checkString(type, 'type');
    this.#native.setType(type);
  }

  /**
   * The expected attach type as libbpf names it (`'xdp'`, `'tcx_ingress'`, `'cgroup_inet_egress'`…),
   * or `''` for programs that have none (tracepoint, kprobe, `sched_cls`, socket filter, perf
   * event…). Settable before load.
   */
  get expectedAttachType(): string {
    return this.#native.info().expectedAttachType;
  }
  set expectedAttachType(type: string) {
    checkString(type, 'expectedAttachType');
    this.#native.setExpectedAttachType(type);
  }

  /** Whether `load()` loads this program (default true). Settable before load. */
  get autoload(): boolean {
    return this.#native.info().autoload;
  }
  set autoload(on: boolean) {
    checkBoolean(on, 'autoload');
    this.#native.setAutoload(on);
  }

  /** The number of BPF instructions, as in the ELF file (before load) or as relocated (after). */
  get instructions(): number {
    return this.#native.info().insnCount;
  }

  /**
   * The program's file descriptor.
   * @throws {@link BpfStateError} before load, after close, or when the program was not loaded.
   */
  get fd(): number {
    this.#checkOpen('read the fd');
    const fd = this.#native.info().fd;
    if (fd < 0) {
      throw new BpfStateError(
        this.#object?.state === 'loaded'
          ? `program '${this.name}' has no fd: it was not loaded (autoload was off)`
          : `program '${this.name}' has no fd: the object is not loaded yet (call load() first)`,
      );
    }
    return fd;
  }

  /** The kernel's id for the program (as `bpftool prog show` lists it). @throws {@link BpfStateError} before load. */
  get id(): number {
    return this.kernelInfo().id;
  }

  /** The program's tag: a hash of its instructions, as 16 hex digits. @throws {@link BpfStateError} before load. */
  get tag(): string {
    return this.kernelInfo().tag;
  }

  /**
   * What the kernel reports about the loaded program: id, tag, kernel name, JITed and translated
   * sizes, BTF id, load time.
   * @throws {@link BpfStateError} before load or after close.
   */
  kernelInfo(): NativeProgramKernelInfo {
    this.#checkOpen('read program info');
    return this.#native.kernelInfo();
  }

  /**
   * Attaches the program where its section name says, with libbpf's auto-attach: `kprobe/<fn>`,
   * `kretprobe/<fn>`, `tracepoint/<cat>/<name>`, `raw_tp/<name>`, `fentry/<fn>`, `fexit/<fn>`,
   * `uprobe/<binary>:<fn>`, `lsm/<hook>`, `iter/…`… Sections that do not say where (`uprobe`
   * without a target, `usdt`, `perf_event`, `socket`, `cgroup…`, `xdp`, `tc`) are refused with
   * a message naming the explicit call to use: {@link attachUprobe}, {@link attachUsdt},
   * {@link attachPerfEvent}, {@link attachSocket}, {@link attachCgroup}, `attachXdp`, `attachTc`.
   *
   * Lifetime: see {@link BpfLink}; the attachment ends when the link is closed unless it is pinned.
   * @throws {@link BpfError} when libbpf cannot attach the section (`EOPNOTSUPP`/`ESRCH` for
   *   sections without auto-attach, `ENOENT` for a missing function or tracepoint)
   * @throws {@link BpfStateError} before load, and for programs reopened from a pin (no section)
   * @example
   * ```ts
   * using link = obj.program('count_getppid').attach();
   * ```
   */
  attach(): BpfLink {
    this.#checkOpen('attach');
    return new BpfLink(this.#native.attach());
  }

  /**
   * Pins the loaded program at `path` in bpffs: it then stays in the kernel after its object is
   * closed and the process exits, until unpinned. Reopen it with {@link BpfProgram.openPinned}.
   * @throws RangeError for a path outside bpffs or with `..`
   * @throws {@link BpfError} `EEXIST` when the path is taken
   */
  pin(path: string): void {
    checkPinPath(path);
    this.#checkOpen('pin');
    this.#native.pin(path);
    this.#pinPath = path;
  }

  /** Where {@link BpfProgram.pin} pinned the program (or where it was reopened from). */
  get pinPath(): string | undefined {
    return this.#pinPath;
  }

  /** Removes the pin made by {@link BpfProgram.pin} (or the one it was reopened from). Does nothing when not pinned. */
  unpin(): void {
    this.#checkOpen('unpin');
    if (this.#pinPath === undefined) return;
    this.#native.unpin(this.#pinPath);
    this.#pinPath = undefined;
  }

  /**
   * Runs the loaded program once (or `repeat` times) on the given frame and context with
   * BPF_PROG_TEST_RUN, without any interface, and reports its verdict, the frame as the program
   * left it and the kernel's per-run duration. Blocks the thread: use it for short runs and
   * {@link BpfProgram.testRunAsync} for long ones (`repeat` above 1,000,000 is refused here).
   *
   * Works for XDP, tc (`sched_cls`/`sched_act`) and socket-filter programs, among others.
   * Minimum kernel: 4.12 (5.10 for an XDP context, 5.18 for live frames).
   *
   * @throws {@link BpfError} `EINVAL` when the kernel refuses the input (frame shorter than an
   *   Ethernet header…), `ENOTSUPP` for program types without test runs
   * @example
   * ```ts
   * const r = obj.program('xdp_count').testRun({ data: frame, repeat: 1000 });
   * r.action;      // 'XDP_PASS'
   * r.durationNs;  // ~20
   * ```
   */
  testRun(options: TestRunOptions): TestRunResult {
    this.#checkOpen('run');
    const type = this.type;
    const native = toNativeRunOptions(type, options);
    if ((native.repeat ?? 1) > MAX_SYNC_REPEAT) {
      throw new RangeError(`options.repeat ${native.repeat} is too long for the synchronous testRun (at most ${MAX_SYNC_REPEAT}); use testRunAsync`);
    }
    return toRunResult(type, binding.testRun(this.#native, native), native.live === true, native.repeat ?? 1);
  }

  /**
   * {@link BpfProgram.testRun} on the libuv thread pool: the event loop keeps running during long
   * runs, and the live-frames packet generator. Same options and errors.
   *
   * @example
   * ```ts
   * // 100,000 frames through the XDP path of veth0 (the program returns XDP_TX: a generator)
   * const r = await gen.testRunAsync({ data: frame, repeat: 100_000, live: { ingress: 'veth0', netns } });
   * r.framesPerSecond;
   * ```
   */
  async testRunAsync(options: TestRunOptions): Promise<TestRunResult> {
    this.#checkOpen('run');
    const type = this.type;
    const native = toNativeRunOptions(type, options);
    const callSite = new Error();
    try {
      const r = await binding.testRunAsync(this.#native, native);
      return toRunResult(type, r, native.live === true, native.repeat ?? 1);
    } catch (e) {
      // Async errors carry the caller's stack, not the event loop's.
      if (e instanceof Error && callSite.stack) e.stack = `${e.name}: ${e.message}\n${callSite.stack.split('\n').slice(1).join('\n')}`;
      throw e;
    }
  }

  /**
   * For a program reopened from a pin: closes its fd (the pin, attachments and links keep the
   * program in the kernel). Idempotent. For a program of an object: nothing (close the object).
   */
  close(): void {
    if (this.#object === undefined) this.#native.close(); // idempotent in native
  }

  /**
   * Whether this handle is closed: a program reopened from the kernel after
   * {@link BpfProgram.close}, a program of an object once its object closed.
   */
  get closed(): boolean {
    return this.#native.closed();
  }

  /** Same as {@link BpfProgram.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(what: string): void {
    // A program of an object says what its object's state forbids (checked by the caller).
    if (this.#object === undefined && this.#native.closed()) throw new BpfStateError(`cannot ${what}: the program '${this.name}' is closed`);
  }

  /** @internal The native handle, for other lib/ modules (attach, prog arrays). */
  get native(): NativeProgram {
    return this.#native;
  }
}
