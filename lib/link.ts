/**
 * {@link BpfLink}: a program attached to a hook through a BPF link.
 *
 * @module
 */
import { readlinkSync } from 'node:fs';
import { BpfStateError } from './errors';
import { featureError } from './features';
import { binding, type NativeLink, type NativeLinkInfo } from './internal/native';
import { checkPinPath } from './internal/pin';
import type { BpfProgram } from './program';

/** What the kernel reports about a link. */
export interface LinkInfo {
  /** The link's kernel id (`bpftool link show`). */
  id: number;
  /** The id of the program it runs. */
  progId: number;
  /** The link type as libbpf names it: `'xdp'`, `'tcx'`, `'perf_event'`, `'kprobe_multi'`, `'tracing'`… */
  type: string;
  /** For XDP and tcx links: the interface (an index in the namespace it was attached in). */
  ifindex?: number;
  /** For tcx links: `'tcx_ingress'` or `'tcx_egress'`. */
  attachType?: string;
}

/**
 * A BPF link: the kernel object that keeps a program attached to its hook (an interface's XDP
 * or tcx hook, a kprobe, a tracepoint…). Made by {@link attachXdp}, {@link attachTc},
 * {@link BpfProgram.attach}, or reopened with {@link BpfLink.openPinned}.
 *
 * Lifetime: the attachment lasts as long as the link exists. The link exists while some fd or a
 * bpffs pin refers to it. So:
 * - {@link BpfLink.close} (or `using`, or the process exiting, or this handle being garbage
 *   collected) closes our fd: an unpinned link is then detached; a pinned one stays.
 * - {@link BpfLink.pin} keeps the link, and the attachment, after the process exits; reopen it
 *   elsewhere with {@link BpfLink.openPinned}.
 * - {@link BpfLink.detach} ends the attachment now, pinned or not, and removes our pin.
 *
 * Minimum kernel: 5.7 for links (5.9 XDP links, 6.6 tcx, 5.15 kprobes, uprobes, tracepoints and
 * perf events; before that those attachments close and detach, but have no info, pin or update).
 *
 * @example
 * ```ts
 * using link = attachXdp(obj.program('xdp_count'), 'veth0', { mode: 'native', netns });
 * link.update(otherObj.program('xdp_count'));   // atomic swap, no packet sees no program
 * ```
 */
export class BpfLink implements Disposable {
  readonly #native: NativeLink;

  /** @internal */
  constructor(native: NativeLink) {
    this.#native = native;
  }

  /**
   * Reopens a link pinned in bpffs (by {@link BpfLink.pin} here or in another process).
   * @throws RangeError for a path outside bpffs or with `..`
   * @throws {@link BpfError} `ENOENT` when nothing is pinned there, `EINVAL` when the pin is not a link
   * @example
   * ```ts
   * using link = BpfLink.openPinned('/sys/fs/bpf/my-xdp-link');
   * link.detach();
   * ```
   */
  static openPinned(path: string): BpfLink {
    checkPinPath(path);
    return new BpfLink(binding.NativeLink.openPinned(path));
  }

  /** True once {@link BpfLink.close} or {@link BpfLink.detach} ran. */
  get closed(): boolean {
    return this.#native.closed();
  }

  /** The link's fd. @throws {@link BpfStateError} after close */
  get fd(): number {
    this.#check('read the fd');
    return this.#native.fd();
  }

  /** The link's kernel id. @throws {@link BpfStateError} after close */
  get id(): number {
    return this.info().id;
  }

  /** The id of the program the link runs now. */
  get progId(): number {
    return this.info().progId;
  }

  /**
   * What the kernel reports about the link.
   * @throws {@link BpfStateError} after close
   * @throws {@link BpfFeatureError} `'perf-link'` for a kprobe, uprobe, tracepoint or perf event
   *   attachment before 5.15, which is a perf event rather than a BPF link
   */
  info(): LinkInfo {
    this.#check('read link info');
    const info: NativeLinkInfo = this.#kernelLink('BpfLink.info()', () => this.#native.info());
    return { ...info };
  }

  /** Where the link is pinned, if {@link BpfLink.pin} (or the opener) pinned it. */
  get pinPath(): string | undefined {
    if (this.closed) return undefined;
    return this.#native.pinPath() ?? undefined;
  }

  /**
   * Pins the link in bpffs: the attachment then survives {@link BpfLink.close} and the process.
   * @throws RangeError for a path outside bpffs or with `..`
   * @throws {@link BpfError} `EEXIST` when the path is taken
   */
  pin(path: string): void {
    checkPinPath(path);
    this.#check('pin the link');
    this.#kernelLink('BpfLink.pin()', () => this.#native.pin(path));
  }

  /** Removes the pin made by {@link BpfLink.pin}. Does nothing when not pinned. */
  unpin(): void {
    this.#check('unpin the link');
    this.#native.unpin();
  }

  /**
   * Replaces the program the link runs, atomically: every packet or event sees either the old
   * or the new program. With `expected`, the kernel refuses (`EPERM`) unless the link still runs
   * that program. The new program must have the same type (and attach type).
   */
  update(program: BpfProgram, options: { expected?: BpfProgram } = {}): void {
    this.#check('update the link');
    this.#kernelLink('BpfLink.update()', () => this.#native.update(program.native, options.expected?.native));
  }

  /**
   * Detaches now (BPF_LINK_DETACH), even when the link is pinned or open elsewhere, removes the
   * pin this handle made, and closes the handle. Idempotent.
   */
  detach(): void {
    this.#native.detach(); // idempotent in native
  }

  /**
   * Closes this handle's fd. An unpinned link is detached by that (when no other fd holds it); a
   * pinned one stays attached. Idempotent.
   */
  close(): void {
    this.#native.close(); // idempotent in native
  }

  /** Same as {@link BpfLink.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #check(what: string): void {
    if (this.closed) throw new BpfStateError(`cannot ${what}: the link is closed`);
  }

  /**
   * Runs an operation only a kernel BPF link has. Before 5.15 libbpf attaches kprobes, uprobes,
   * tracepoints and perf events with an ioctl on the perf event, and this handle holds the perf
   * event's fd: the kernel then refuses the operation, and the error says why.
   */
  #kernelLink<T>(what: string, op: () => T): T {
    try {
      return op();
    } catch (e) {
      let target = '';
      try {
        target = readlinkSync(`/proc/self/fd/${this.#native.fd()}`);
      } catch {
        // the fd cannot be inspected: keep the kernel's error
      }
      if (target === 'anon_inode:[perf_event]') throw featureError('perf-link', `${what} on a perf event attachment`);
      throw e;
    }
  }
}
