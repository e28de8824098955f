/**
 * Cgroup programs (`cgroup_skb`, `cgroup/sock`, `cgroup/sockopt`, `cgroup/sysctl`,
 * `cgroup/dev`…): {@link attachCgroup} with a link (`bpf_program__attach_cgroup`), or
 * {@link attachCgroupLegacy}, the pre-link `BPF_PROG_ATTACH` with its multi/override flags.
 *
 * @module
 */
import { BpfStateError } from '../errors';
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys, checkName, checkNonEmptyString } from '../internal/validate';
import { checkCgroupDir, checkOptions, checkProgram, nativeAttach } from './common';

function checkCgroupPath(path: unknown): asserts path is string {
  checkNonEmptyString(path, 'cgroup');
  if (!path.startsWith('/')) throw new RangeError(`cgroup must be an absolute path of a cgroup v2 directory, got '${path}'`);
  checkCgroupDir(path, 'cgroup');
}

/**
 * Attaches a cgroup program to the cgroup v2 directory `cgroup` (such as
 * `/sys/fs/cgroup/my.slice`) with a BPF link, at the hook of its expected attach type
 * (`SEC("cgroup_skb/ingress")` → `cgroup_inet_ingress`). Other programs attached to the cgroup
 * keep running (links always allow multiple programs).
 *
 * Lifetime: see {@link BpfLink}; removing the cgroup also ends the attachment.
 *
 * Minimum kernel: 5.7 (cgroup links).
 *
 * @throws RangeError for a relative path
 * @throws {@link BpfError} `ENOENT` when the cgroup does not exist, `EINVAL` for a program that is not a cgroup program
 * @example
 * ```ts
 * using link = attachCgroup(obj.program('count_egress'), '/sys/fs/cgroup/test.slice');
 * ```
 */
export function attachCgroup(program: BpfProgram, cgroup: string): BpfLink {
  checkProgram(program);
  checkCgroupPath(cgroup);
  return new BpfLink(nativeAttach.cgroup(program.native, cgroup));
}

/** How {@link attachCgroupLegacy} shares the hook with other programs. */
export type CgroupAttachMode = 'exclusive' | 'override' | 'multi';

// BPF_F_ALLOW_OVERRIDE / BPF_F_ALLOW_MULTI (linux/bpf.h).
const FLAGS: Record<CgroupAttachMode, number> = { exclusive: 0, override: 1, multi: 2 };

/** Options of {@link attachCgroupLegacy}. */
export interface CgroupLegacyOptions {
  /**
   * `'multi'` (default): add to the programs of the hook (BPF_F_ALLOW_MULTI); `'override'`: a
   * sub-cgroup's program replaces this one (BPF_F_ALLOW_OVERRIDE); `'exclusive'`: the only one.
   */
  mode?: CgroupAttachMode;
  /** The hook (`'cgroup_inet_egress'`…); default: the program's expected attach type. */
  attachType?: string;
}

/**
 * A program attached to a cgroup with {@link attachCgroupLegacy}. Not a link: the kernel keeps
 * the attachment after this process exits, until {@link CgroupAttachment.detach} or until the
 * cgroup is removed. `using` detaches at the end of the scope; garbage collection never does.
 */
export class CgroupAttachment implements Disposable {
  /** The cgroup directory. */
  readonly cgroup: string;
  /** The hook. */
  readonly attachType: string;
  readonly #program: BpfProgram;
  #detached = false;

  /** @internal */
  constructor(program: BpfProgram, cgroup: string, attachType: string) {
    this.#program = program;
    this.cgroup = cgroup;
    this.attachType = attachType;
  }

  /**
   * Detaches the program (BPF_PROG_DETACH). Returns false when it was no longer attached (the
   * cgroup was removed, or someone else detached it). Idempotent.
   * @throws {@link BpfStateError} when the program's object was closed first (its fd is needed)
   */
  detach(): boolean {
    if (this.#detached) return false;
    let was: boolean;
    try {
      was = nativeAttach.cgroupLegacyDetach(this.#program.native, this.cgroup, this.attachType);
    } catch (e) {
      if (e instanceof BpfStateError) throw new BpfStateError(`cannot detach from cgroup '${this.cgroup}': ${e.message} (detach before closing the object)`);
      throw e;
    }
    this.#detached = true;
    return was;
  }

  /** Same as {@link CgroupAttachment.detach}, for `using`. */
  [Symbol.dispose](): void {
    this.detach();
  }
}

/**
 * Attaches a cgroup program with BPF_PROG_ATTACH, the way C loaders did before links (and
 * still do for `mode`s links lack): see {@link CgroupLegacyOptions}.
 *
 * Minimum kernel: 4.10 (multi: 4.15).
 *
 * @throws {@link BpfError} `EPERM` when an exclusive program holds the hook, `ENOENT` for a missing cgroup
 * @example
 * ```ts
 * using att = attachCgroupLegacy(obj.program('count_egress'), '/sys/fs/cgroup/test.slice', { mode: 'multi' });
 * ```
 */
export function attachCgroupLegacy(program: BpfProgram, cgroup: string, options: CgroupLegacyOptions = {}): CgroupAttachment {
  checkProgram(program);
  checkCgroupPath(cgroup);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['mode', 'attachType']);
  const mode = checkName(o.mode ?? 'multi', 'options.mode', Object.keys(FLAGS) as CgroupAttachMode[]);
  let attachType: string;
  if (o.attachType !== undefined) {
    checkNonEmptyString(o.attachType, 'options.attachType');
    attachType = o.attachType;
  } else {
    attachType = program.expectedAttachType;
    if (attachType === '') attachType = nativeAttach.programAttachType(program.native);
  }
  nativeAttach.cgroupLegacy(program.native, cgroup, attachType, FLAGS[mode]);
  return new CgroupAttachment(program, cgroup, attachType);
}
