/**
 * Errors thrown by libbpf-node.
 *
 * - {@link BpfError}: a libbpf call or a syscall failed. `code` is the errno name (`'EPERM'`),
 *   `errno` its number and `op` the libbpf function that failed. Common causes get a hint.
 * - {@link BpfVerifierError}: the kernel verifier refused a program; `log` holds its full log.
 * - Misuse of the API (wrong argument types or ranges) throws the built-in `TypeError` or
 *   `RangeError`; use of a closed handle, or configuration after load, throws {@link BpfStateError}.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The errno name for a number (`1` → `'EPERM'`), or `'E<n>'` when the platform has no name. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

// libbpf's own error codes (libbpf_errno.c), above the kernel's errno range.
const libbpfErrors: Record<number, [string, string]> = {
  4000: ['LIBBPF_ERRNO__LIBELF', 'something wrong in libelf'],
  4001: ['LIBBPF_ERRNO__FORMAT', 'BPF object format invalid'],
  4002: ['LIBBPF_ERRNO__KVERSION', 'incorrect or no kernel version section'],
  4003: ['LIBBPF_ERRNO__ENDIAN', 'endian mismatch'],
  4004: ['LIBBPF_ERRNO__INTERNAL', 'internal libbpf error'],
  4005: ['LIBBPF_ERRNO__RELOC', 'relocation failed'],
  4006: ['LIBBPF_ERRNO__LOAD', 'load BPF program failed'],
  4007: ['LIBBPF_ERRNO__VERIFY', 'kernel verifier blocks program loading'],
  4008: ['LIBBPF_ERRNO__PROG2BIG', 'program too big'],
  4009: ['LIBBPF_ERRNO__KVER', 'incorrect kernel version'],
  4010: ['LIBBPF_ERRNO__PROGTYPE', 'kernel does not support this program type'],
  4011: ['LIBBPF_ERRNO__WRNGPID', 'wrong pid in netlink message'],
  4012: ['LIBBPF_ERRNO__INVSEQ', 'invalid netlink sequence'],
  4013: ['LIBBPF_ERRNO__NLPARSE', 'netlink message parsing error'],
};

function describeErrno(errno: number): string {
  const libbpf = libbpfErrors[errno];
  if (libbpf) return libbpf[1];
  const name = errnoName(errno);
  // util.getSystemErrorMessage exists from Node 22; fall back to a small table of our own.
  return systemMessages[name] ?? name;
}

const systemMessages: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EINVAL: 'invalid argument',
  E2BIG: 'argument list too long',
  ENOMEM: 'out of memory',
  EEXIST: 'file exists',
  EBUSY: 'device or resource busy',
  ENODEV: 'no such device',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  ENOSPC: 'no space left on device',
  EBADF: 'bad file descriptor',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOEXEC: 'exec format error',
  ESRCH: 'no such process',
  EFAULT: 'bad address',
  ENOSYS: 'function not implemented',
  ENOTTY: 'inappropriate ioctl for device',
  ERANGE: 'result out of range',
  EAGAIN: 'resource temporarily unavailable',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENXIO: 'no such device or address',
};

// Capabilities by bit number (linux/capability.h), for the EPERM diagnosis.
const CAPS: Record<string, number> = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

/** The effective capabilities of this process, from /proc/self/status; undefined when unreadable. */
function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel lockdown mode (`'none'`, `'integrity'`, `'confidentiality'`), undefined when unknown. */
function lockdownMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * What EPERM/EACCES means for this process: which of the capabilities `op` needs are missing, or,
 * when it has them all, that the refusal comes from elsewhere (lockdown, a security module,
 * seccomp, a kernel without the feature) so asking for more privileges will not help.
 */
function privilegeHint(op: string, needed: string[], fallback: string): string {
  const caps = effectiveCapabilities();
  if (caps === undefined) return fallback;
  const has = (name: string): boolean => (caps & (1n << BigInt(CAPS[name]!))) !== 0n;
  // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (kernels before 5.8 know only it).
  const missing = needed.filter((c) => !has(c) && !((c === 'CAP_BPF' || c === 'CAP_PERFMON') && has('CAP_SYS_ADMIN')));
  if (missing.length > 0) return `this process lacks ${missing.join(', ')}: ${fallback}`;
  const lockdown = lockdownMode();
  const causes = [
    lockdown !== undefined && lockdown !== 'none' ? `kernel lockdown is '${lockdown}'` : undefined,
    'a security module (SELinux, AppArmor, BPF LSM) or a seccomp filter refusing it',
    'a kernel built to refuse this operation (vendor and hardened kernels are; features.list() shows what its probes found)',
    /attach|trace|lsm|kprobe|uprobe|fentry|fexit/.test(op) ? 'a kernel that refuses this kind of attach (no trampolines, kprobes or uprobes)' : undefined,
    op.startsWith('bpf_object__load') || op.startsWith('bpf_prog_load') ? 'a kernel that refuses this program type (some refuse BPF trampolines: fentry, fexit, LSM)' : undefined,
  ].filter((c) => c !== undefined);
  return `the process already has ${needed.join(', ')}, so more privileges will not help; the refusal comes from ${causes.join(', or ')}`;
}

/**
 * For kprobe and tracepoint attach failures: what this machine lacks (tracefs, the kprobe PMU),
 * found by looking, since libbpf reports both as a bare ENOENT.
 */
function tracingHint(op: string): string | undefined {
  const tracefs = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'].some((p) => existsSync(p));
  if (op.startsWith('bpf_program__attach_tracepoint')) {
    return tracefs ? 'check the category and name under /sys/kernel/tracing/events' : 'tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing); raw tracepoints (attachRawTracepoint) need no tracefs';
  }
  if (op.startsWith('bpf_program__attach_kprobe')) {
    const pmu = existsSync('/sys/bus/event_source/devices/kprobe/type');
    if (!pmu && !tracefs) return "this kernel has no kprobe PMU ('/sys/bus/event_source/devices/kprobe/type' is missing) and tracefs is not mounted for legacy kprobes";
    if (!pmu) return "this kernel has no kprobe PMU ('/sys/bus/event_source/devices/kprobe/type' is missing); check the function exists in /proc/kallsyms and kprobes are enabled";
    return 'check the function exists in /proc/kallsyms and is not blacklisted for kprobes';
  }
  return undefined;
}

/** What to try next, for errors with a common cause. */
function hintFor(code: string, op: string): string | undefined {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      // From a program load, EACCES is the verifier's refusal (BpfVerifierError), not privileges.
      if (code === 'EACCES' && (op.startsWith('bpf_object__load') || op.startsWith('bpf_prog_load'))) return undefined;
      if (op === 'setns') return privilegeHint(op, ['CAP_SYS_ADMIN'], 'entering another network namespace needs CAP_SYS_ADMIN, or root');
      if (op.startsWith('bpf_program__attach') || op.startsWith('perf_event_open')) {
        return privilegeHint(op, ['CAP_BPF', 'CAP_PERFMON'], 'tracing attachments need CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), or root');
      }
      if (op.startsWith('bpf_object__load') || op.startsWith('bpf_map') || op.startsWith('bpf_prog')) {
        return privilegeHint(op, ['CAP_BPF'], 'loading BPF needs CAP_BPF (plus CAP_PERFMON for tracing, CAP_NET_ADMIN for networking programs), or root');
      }
      if (op.includes('xdp') || op.includes('tc') || op.includes('netlink') || op.includes('link') || op.includes('sock')) {
        return privilegeHint(op, ['CAP_NET_ADMIN', 'CAP_BPF'], 'attaching to an interface needs CAP_NET_ADMIN (and CAP_BPF), or root');
      }
      return privilegeHint(op, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'], 'this needs CAP_BPF/CAP_NET_ADMIN/CAP_SYS_ADMIN, or root');
    case 'ENOENT':
    case 'EOPNOTSUPP':
    case 'ENOTSUP': {
      const tracing = tracingHint(op);
      if (tracing !== undefined) return tracing;
      if (code === 'ENOENT' && op.includes('open')) return 'check that the path exists';
      return undefined;
    }
    case 'LIBBPF_ERRNO__FORMAT':
    case 'ENOEXEC':
      return 'the file is not a valid BPF ELF object (build it with clang -target bpf -g -O2)';
    default:
      return undefined;
  }
}

/** Extra facts the native layer attaches to some errors. */
export interface BpfErrorDetails {
  /** The program being loaded, when the failure belongs to one. */
  program?: string;
  /** The kernel verifier's log, when a program load was refused. */
  log?: string;
  /** Free text about the failure. */
  detail?: string;
  /** libbpf's warnings during the failing call: its own reason. */
  libbpfLog?: string[];
}

/**
 * A libbpf call or a BPF syscall failed.
 *
 * @example
 * ```ts
 * try { await obj.load(); } catch (e) {
 *   if (e instanceof BpfError && e.code === 'EPERM') console.error('run as root');
 * }
 * ```
 */
export class BpfError extends Error {
  /** The errno name, such as `'EPERM'`, or a libbpf error name such as `'LIBBPF_ERRNO__FORMAT'`. */
  readonly code: string;
  /** The positive errno value. */
  readonly errno: number;
  /** The libbpf function or syscall that failed, such as `'bpf_object__load'`. */
  readonly op: string;
  /** What to try next, when the error has a common cause. */
  readonly hint: string | undefined;
  /**
   * libbpf's own warnings during the failing call, such as `"failed to open
   * '/sys/bus/event_source/devices/kprobe/type'"` — kept even when no logger is set. The last one
   * is also in the message. Empty when libbpf said nothing.
   */
  readonly details: readonly string[];

  constructor(op: string, errno: number, detail?: string, hint?: string, libbpfLog: readonly string[] = []) {
    const code = libbpfErrors[errno]?.[0] ?? errnoName(errno);
    hint ??= hintFor(code, op);
    let message = `${op} failed: ${describeErrno(errno)} (${code})`;
    if (detail) message += `: ${detail}`;
    const reason = libbpfReason(libbpfLog);
    if (reason !== undefined && !message.includes(reason)) message += `${message.endsWith('\n') ? '' : ' '}(libbpf: ${reason})`;
    if (hint) message += `${message.endsWith('\n') ? '' : '. '}Hint: ${hint}`;
    super(message);
    this.name = 'BpfError';
    this.code = code;
    this.errno = errno;
    this.op = op;
    this.hint = hint;
    this.details = Object.freeze([...libbpfLog]);
  }
}

/**
 * The libbpf line that says why: the first warning that is not one of libbpf's generic wrap-ups
 * ("failed to load object", "failed to load: -22"), which follow the real cause. Without
 * libbpf's "libbpf: " prefix.
 */
function libbpfReason(lines: readonly string[]): string | undefined {
  const cleaned = lines.map((l) => l.replace(/^libbpf: /, '').trim()).filter((l) => l.length > 0);
  const generic = /failed to load object|failed to load: -?\d+$|failed to prepare load attributes|try raising 'ulimit -l'/;
  return cleaned.find((l) => !generic.test(l)) ?? cleaned[cleaned.length - 1];
}

/**
 * The kernel verifier refused a program. The message ends with the last meaningful lines of the
 * verifier's log; {@link BpfVerifierError.log} holds all of it.
 */
export class BpfVerifierError extends BpfError {
  /** The program the verifier refused. */
  readonly program: string;
  /** The verifier's full log. */
  readonly log: string;

  constructor(op: string, errno: number, program: string, log: string) {
    super(
      op,
      errno,
      `the verifier refused program '${program}':\n${verifierSummary(log)}\n`,
      'the full verifier log is in the error\'s `log` property',
    );
    this.name = 'BpfVerifierError';
    this.program = program;
    this.log = log;
  }
}

/**
 * The last meaningful lines of a verifier log: the complaint and the few instructions before it,
 * without the statistics trailer ("processed N insns ...") and blank lines.
 *
 * From Linux 7.3 the verifier appends a diagnostics block after the complaint ("Verification
 * failed: …", "Reason: …", "Instruction context:", "Source context:", "Suggestion: …"); the
 * summary still ends with the complaint, and adds the suggestion when there is one.
 */
export function verifierSummary(log: string, maxLines = 6): string {
  const lines = log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .filter((l) => !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l));
  const block = lines.findIndex((l) => /^Verification failed:/.test(l) || /^\s*(Instruction|Source) context:/.test(l) || /^(Reason|Suggestion):/.test(l));
  const before = block < 0 ? lines : lines.slice(0, block);
  const suggestion = block < 0 ? [] : lines.slice(block).filter((l) => /^Suggestion:/.test(l)).slice(0, 1);
  // A log that is all diagnostics (no classic lines before it) keeps its own last lines.
  const shown = before.length > 0 ? before.slice(-maxLines).concat(suggestion) : lines.slice(-maxLines);
  return shown.map((l) => `  ${l}`).join('\n');
}

/**
 * A handle was used in a state that does not allow the operation: after `close()`, configuring
 * after `load()`, loading twice.
 */
export class BpfStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BpfStateError';
  }
}

/** Builds the error for a failed native call. Registered with the addon by lib/internal/native.ts. */
export function makeBpfError(op: string, errno: number, details: BpfErrorDetails): BpfError {
  if (details.log !== undefined && details.program !== undefined) {
    return new BpfVerifierError(op, errno, details.program, details.log);
  }
  return new BpfError(op, errno, details.detail, undefined, details.libbpfLog ?? []);
}

/**
 * The running kernel lacks a feature the operation needs, or refused the probe for it. Thrown up
 * front (before any syscall) by the operations that probe for what they need; the message names
 * the feature and the kernel's own answer ({@link BpfFeatureError.answer}); see `features` in the
 * main module.
 *
 * @example
 * ```ts
 * try { await prog.testRunAsync({ data, live: { ingress: 'veth0' } }); } catch (e) {
 *   if (e instanceof BpfFeatureError) console.log(e.feature, e.answer?.reason);
 * }
 * ```
 */
export class BpfFeatureError extends BpfError {
  /** The feature's name in `FEATURES`, such as `'ringbuf'`. */
  readonly feature: string;
  /** The first mainline kernel with the feature, such as `'5.8'` (for information: vendor kernels differ). */
  readonly minKernel: string;
  /** The running kernel's release string. */
  readonly kernel: string;
  /**
   * The running kernel's own answer when the feature was probed: `'unavailable'` (it refused as a
   * kernel without it does) or `'undetermined'` (it refused the probe itself), what was tried and
   * the errno. Absent when the error was built without one.
   */
  readonly answer: { readonly state: string; readonly reason: string; readonly errno?: string } | undefined;

  constructor(
    feature: string,
    description: string,
    minKernel: string,
    kernel: string,
    what?: string,
    answer?: { readonly state: string; readonly reason: string; readonly errno?: string },
  ) {
    const undetermined = answer?.state === 'undetermined';
    super(
      what ? `${what}` : `feature ${feature}`,
      95, // EOPNOTSUPP
      answer === undefined
        ? `the running kernel (${kernel}) lacks ${description} ('${feature}'), which needs Linux ${minKernel} or newer`
        : undetermined
          ? `the running kernel (${kernel}) refused the probe for ${description} ('${feature}'), so the library does without it: ${answer.reason}`
          : `the running kernel (${kernel}) lacks ${description} ('${feature}'): ${answer.reason}`,
      answer === undefined
        ? `run on a kernel >= ${minKernel}, or use an option that does without '${feature}'`
        : undetermined
          ? `check what restricts BPF here (kernel lockdown in /sys/kernel/security/lockdown, a security module, a seccomp filter: mainline Linux ${minKernel} and newer has the feature where nothing refuses it), or use an option that does without '${feature}'`
          : `use an option that does without '${feature}', or a kernel that has it (mainline Linux ${minKernel} and newer, or a vendor kernel with it backported)`,
    );
    this.name = 'BpfFeatureError';
    this.feature = feature;
    this.minKernel = minKernel;
    this.kernel = kernel;
    this.answer = answer;
  }
}

/** Builds the error for a handle used in the wrong phase. Registered with the addon by lib/internal/native.ts. */
export function makeStateError(message: string): BpfStateError {
  return new BpfStateError(message);
}
