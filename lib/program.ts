/**
 * {@link BpfProgram}: one program of a {@link BpfObject}.
 *
 * @module
 */
import type { BpfObject } from './object';
import type { NativeProgram, NativeProgramKernelInfo } from './native';
import { BpfStateError } from './errors';
import { checkBoolean, checkString } from './validate';

/**
 * One program of a {@link BpfObject}. Got from {@link BpfObject.program} or
 * {@link BpfObject.programs}; valid as long as its object is open.
 *
 * Before `load()`: read its description, choose whether it loads ({@link BpfProgram.autoload})
 * and override its type. After `load()`: its fd, kernel id and tag.
 *
 * Lifetime: the program is owned by its object. `obj.close()` closes its fd; the kernel then
 * frees the program unless something else holds it (an attachment made through netlink, a pin
 * in bpffs, a prog array slot, or a link that is still open).
 */
export class BpfProgram {
  readonly #native: NativeProgram;
  readonly #object: BpfObject;
  /** The program's name: its C function name. */
  readonly name: string;
  /** The ELF section it came from, such as `'xdp'` or `'tc/ingress'`. */
  readonly section: string;

  /** @internal */
  constructor(native: NativeProgram, object: BpfObject) {
    this.#native = native;
    this.#object = object;
    const info = native.info();
    this.name = info.name;
    this.section = info.section;
  }

  /** The object that owns this program. */
  get object(): BpfObject {
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

  /** The expected attach type as libbpf names it (`'xdp'`, `'tcx_ingress'`…). Settable before load. */
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
    const fd = this.#native.info().fd;
    if (fd < 0) {
      throw new BpfStateError(
        this.#object.state === 'loaded'
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
    return this.#native.kernelInfo();
  }

  /** @internal The native handle, for other lib/ modules (attach, prog arrays). */
  get native(): NativeProgram {
    return this.#native;
  }
}
