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
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { effectiveCapabilities, hasCapability, securityFacts } from './internal/privileges';

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

// --- Privileges: what EPERM/EACCES means for this process --------------------------------------

/** "A, B and C". */
function listing(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Why the kernel said EPERM/EACCES: every capability of `needed` this process lacks, or — when it
 * has them all — only the causes that are active here (lockdown, a security module, a seccomp
 * filter), read from the kernel, so asking for more privileges is not suggested when it cannot
 * help.
 */
function privilegeHint(op: string, needed: string[], fallback: string): string {
  const caps = effectiveCapabilities();
  if (caps === undefined) return fallback;
  // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (kernels before 5.8 know only it).
  const missing = needed.filter(
    (c) => !hasCapability(c, caps) && !((c === 'CAP_BPF' || c === 'CAP_PERFMON') && hasCapability('CAP_SYS_ADMIN', caps)),
  );
  if (missing.length > 0) return `this process lacks ${listing(missing)}: ${fallback}`;
  const facts = securityFacts();
  const active: string[] = [];
  if (facts.lockdown !== undefined && facts.lockdown !== 'none') active.push(`kernel lockdown is '${facts.lockdown}'`);
  if (facts.selinux || facts.lsms?.includes('selinux')) active.push('SELinux is active');
  if (facts.apparmor || facts.lsms?.includes('apparmor')) active.push('AppArmor is active');
  if (facts.lsms?.includes('bpf')) active.push('the BPF LSM is active (a program attached to it may refuse this)');
  if (facts.seccompFilter) active.push('a seccomp filter applies to this process');
  const unknown = facts.lsms === undefined ? ' (securityfs is not mounted, so lockdown and the BPF LSM could not be checked)' : '';
  const kind = /attach|trace|lsm|kprobe|uprobe|fentry|fexit/.test(op)
    ? 'this kind of attach'
    : op.startsWith('bpf_object__load') || op.startsWith('bpf_prog_load')
      ? 'this program type or a helper it calls'
      : 'this operation';
  const have = `the process already has ${listing(needed)}, so more privileges will not help`;
  if (active.length > 0) return `${have}; active here: ${active.join('; ')}`;
  return `${have}; no security module or seccomp filter is known to be active, so the kernel itself refuses ${kind}: a kernel built to refuse it (vendor and hardened kernels are; features.list() shows what its probes found)${unknown}`;
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

/** What to try next for an errno with a common cause, whatever the operation was. */
function hintForCode(code: string, op: string): string | undefined {
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
        return privilegeHint(
          op,
          ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON'],
          'loading BPF needs CAP_BPF, plus CAP_NET_ADMIN for networking programs and CAP_PERFMON for tracing, or root',
        );
      }
      if (op.includes('xdp') || op.includes('tc') || op.includes('netlink') || op.includes('link') || op.includes('sock')) {
        return privilegeHint(op, ['CAP_NET_ADMIN', 'CAP_BPF'], 'attaching to an interface needs CAP_NET_ADMIN (and CAP_BPF), or root');
      }
      return privilegeHint(op, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'], 'this needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN, or root');
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
      // Only a BPF object's open reads a BPF ELF file; elsewhere (a uprobe's target) this would mislead.
      return op.startsWith('bpf_object__open') ? 'the file is not a valid BPF ELF object (build it with clang -target bpf -g -O2)' : undefined;
    default:
      return undefined;
  }
}

// --- The advice table: what native reported, in words -----------------------------------------

/**
 * The facts native code reports with a failure: `what` was being done (a code of the table
 * below) and its context. Also on {@link BpfError.context}, for programs that want the facts.
 */
export interface BpfErrorContext {
  /** What was being done: `'pin'`, `'xdp-attach'`, `'tc-attach'`, `'open-pinned'`… */
  readonly what?: string;
  /** XDP attach failures with EBUSY/EEXIST: what is attached to the interface now. */
  readonly attached?: ReadonlyArray<{ readonly id: number; readonly name: string; readonly mode: string }>;
  readonly [key: string]: unknown;
}

/** A hint in the library's syntax and, where it differs, in the `xdp-root` CLI's. */
export interface Advice {
  /** What went wrong, in words, after "op failed: <errno>: ". */
  detail?: string;
  /** What to do, in the library's API. */
  hint?: string;
  /** The same advice in CLI syntax (`--netns PATH` instead of `{ netns }`), where it differs. */
  cliHint?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? '?'));

/** "interface 'veth0' in netns /run/netns/x" / "ifindex 7". */
function where(c: BpfErrorContext): string {
  const base = typeof c.iface === 'string' ? `interface '${c.iface}'` : `ifindex ${str(c.ifindex)}`;
  return typeof c.netns === 'string' ? `${base} in netns ${c.netns}` : base;
}

const KIND_NAMES: Record<string, string> = { prog: 'program', map: 'map', link: 'link' };
const REOPEN: Record<string, string> = { prog: 'BpfProgram.openPinned()', map: 'BpfMap.openPinned()', link: 'BpfLink.openPinned()' };

/** The explicit attach call for a section libbpf cannot auto-attach. */
export function explicitAttachFor(section: string): string | undefined {
  const kind = section.split('/')[0]!;
  const table: Array<[RegExp, string]> = [
    [/^u(ret)?probe(\.s|\.multi)?$/, 'attachUprobe(program, { binary, func })'],
    [/^usdt$/, 'attachUsdt(program, { binary, provider, name })'],
    [/^k(ret)?probe\.multi$/, 'attachKprobeMulti(program, { pattern })'],
    [/^k(ret)?probe$/, 'attachKprobe(program, { func })'],
    [/^(tracepoint|tp)$/, 'attachTracepoint(program, category, name)'],
    [/^(raw_tp|raw_tracepoint)(\.w)?$/, 'attachRawTracepoint(program, name)'],
    [/^perf_event$/, "attachPerfEvent(program, { event: 'cpu-clock', frequency })"],
    [/^socket$/, 'attachSocket(program, socket)'],
    [/^cgroup/, 'attachCgroup(program, cgroupPath)'],
    [/^iter(\.s)?$/, 'attachIter(program)'],
    [/^xdp/, 'attachXdp(program, iface)'],
    [/^(tc|tcx|classifier|action)$/, "attachTc(program, iface, { direction: 'ingress' })"],
  ];
  return table.find(([re]) => re.test(kind))?.[1];
}

/** The root array's own program, by the name the kernel reports (bpf/xdp_root.bpf.c). */
const ROOT_PROGRAM_NAME = 'xdp_root';

function attachedList(c: BpfErrorContext): string {
  return (c.attached ?? []).map((p) => `program ${p.id} '${p.name}' in ${p.mode} mode`).join(' and ');
}

function xdpAttachAdvice(code: string, c: BpfErrorContext, program: string | undefined): Advice {
  const at = `${where(c)}${typeof c.iface === 'string' ? ` (ifindex ${str(c.ifindex)})` : ''}`;
  const subject = `attaching XDP program '${program ?? '?'}' to ${at}`;
  const kernel = typeof c.kernelMessage === 'string' ? ` [kernel: ${c.kernelMessage}]` : '';
  if (code === 'EBUSY' || code === 'EEXIST') {
    const now = attachedList(c);
    if (c.replacing && code === 'EEXIST') {
      return { detail: `replacing on ${where(c)}: the expected program is not the one attached (now: ${now || 'nothing'})${kernel}` };
    }
    if ((c.attached ?? []).some((p) => p.name === ROOT_PROGRAM_NAME)) {
      return {
        detail: `${subject}: ${at} runs an XDP root array (${now})${kernel}`,
        hint: 'load the program into a slot of the root array instead: (await RootArray.open(iface)).load(slot, program); replacing the root would cut every slot off',
        cliHint: 'load it into a slot instead: xdp-root load <iface> <slot> <object>; replacing the root would cut every slot off',
      };
    }
    const link = c.via === 'link' ? ' (a program attached through a link is only replaced through that link: link.update())' : '';
    return {
      detail: `${subject}: ${at} already has ${now || 'an XDP attachment'}${kernel}`,
      hint: `pass { replace: oldProgram } (netlink) to swap it atomically, { force: true } to overwrite it, or detach it first${link}`,
    };
  }
  if (code === 'EOPNOTSUPP') {
    return {
      detail: `${subject}: the driver does not support XDP in ${str(c.mode)} mode${kernel}`,
      hint: "use mode 'skb' (generic XDP, any driver) or pass { fallback: 'skb' }",
      cliHint: 'use --mode skb (generic XDP, any driver)',
    };
  }
  if (code === 'EINVAL' && c.mode === 'hw') {
    return { detail: `${subject}: the driver does not support XDP offload (hw mode)${kernel}`, hint: "use mode 'native' or 'skb'", cliHint: 'use --mode native or --mode skb' };
  }
  return { detail: `${subject}${kernel}` };
}

function attachTarget(c: BpfErrorContext): string {
  switch (c.target) {
    case 'cgroup':
      return c.attachType !== undefined ? `attach type '${str(c.attachType)}' on cgroup '${str(c.path)}'` : `cgroup '${str(c.path)}'`;
    case 'iterator':
      return `iterator '${str(c.section)}'${c.filter !== undefined ? ` for ${str(c.filter)}` : ''}`;
    case 'kprobe':
    case 'kretprobe':
      return `${c.target} on '${str(c.func)}'`;
    case 'kprobe.multi':
      return `kprobe.multi on ${c.pattern !== undefined ? `'${str(c.pattern)}'` : `${str(c.functions)} functions`}`;
    case 'perf event':
      return `perf event on cpu ${str(c.cpu)} pid ${str(c.pid)}`;
    case 'tracepoint':
      return `tracepoint ${str(c.category)}:${str(c.name)}`;
    case 'raw tracepoint':
      return `raw tracepoint ${str(c.name)}`;
    case 'uprobe':
    case 'uretprobe':
      return `${c.target} on '${str(c.binary)}'${c.func !== undefined ? ` function '${str(c.func)}'` : ''}${c.offset !== undefined ? ` offset ${str(c.offset)}` : ''}`;
    case 'usdt':
      return `USDT probe ${str(c.provider)}:${str(c.name)} in '${str(c.binary)}'`;
    default:
      return String(c.target ?? 'attachment');
  }
}

/**
 * The one advice table: the words for a failure native code reported as facts, keyed by what was
 * being done (`context.what`), the errno name and the context.
 */
export function adviceFor(op: string, errnoCode: string, c: BpfErrorContext, program?: string): Advice {
  // Linux gives EOPNOTSUPP and ENOTSUP one number; Node names it ENOTSUP.
  const code = errnoCode === 'ENOTSUP' ? 'EOPNOTSUPP' : errnoCode;
  const path = str(c.path);
  switch (c.what) {
    case 'verifier-log-truncated':
      return { detail: `the verifier log of program '${str(c.program)}' did not fit in logSize`, hint: 'raise load({ logSize })' };
    case 'pin':
      if (code === 'EBUSY') return { detail: `the ${str(c.kind)} is already pinned`, hint: 'unpin() it first' };
      if (code === 'EEXIST') return { detail: `'${path}' already exists`, hint: 'unpin what is there, or choose another path' };
      return { detail: `cannot pin the ${str(c.kind)} at '${path}'` };
    case 'unpin':
      return { detail: `cannot unpin the ${str(c.kind)} at '${path}'` };
    case 'open-pinned':
      if (code === 'ENOENT') return { detail: `nothing is pinned at '${path}'` };
      return {
        detail: `cannot open the ${str(c.expected)} pinned at '${path}'`,
        hint: code === 'EINVAL' && c.expected === 'link' ? 'is it a link? programs reopen with BpfProgram.openPinned()' : undefined,
      };
    case 'pin-kind': {
      const kind = str(c.kind);
      const known = Object.hasOwn(REOPEN, kind); // own keys only: a kind such as 'toString' is no kind of ours
      return { detail: `'${path}' holds a BPF ${known ? KIND_NAMES[kind] : kind}, not a ${str(c.expected)}`, hint: known ? `reopen it with ${REOPEN[kind]}` : undefined };
    }
    case 'open-by-id':
      return { detail: code === 'ENOENT' ? `no ${str(c.kind)} with id ${str(c.id)}` : `cannot open ${str(c.kind)} id ${str(c.id)}` };
    case 'auto-attach': {
      const detail = `program '${program ?? '?'}' (section '${str(c.section)}')`;
      const instead = typeof c.section === 'string' ? explicitAttachFor(c.section) : undefined;
      if ((code === 'EOPNOTSUPP' || code === 'ESRCH') && instead) return { detail: `${detail}: libbpf cannot auto-attach this section`, hint: `attach it with ${instead}` };
      return { detail };
    }
    case 'attach': {
      const detail = attachTarget(c);
      if (c.target === 'cgroup' && code === 'EPERM' && c.flags === 0) return { detail: `${detail}: another program is attached without multi or override` };
      if (c.target === 'cgroup' && code === 'EBADF') return { detail: `${detail}: '${path}' is not a cgroup v2 directory` };
      return { detail };
    }
    case 'detach':
      return { detail: attachTarget(c) };
    case 'perf-event-open': {
      const detail = `event type ${str(c.type)} config ${str(c.config)} on cpu ${str(c.cpu)} pid ${str(c.pid)}`;
      if (code === 'ENOENT' || code === 'EOPNOTSUPP') return { detail: `${detail}: this machine has no such event`, hint: 'a hardware event needs a hardware PMU, which virtual machines often lack; software events (cpu-clock) work everywhere' };
      return { detail };
    }
    case 'iter-create':
      return { detail: `link fd ${str(c.fd)}`, hint: code === 'EINVAL' ? 'is it an iterator link?' : undefined };
    case 'not-a-socket':
      return { detail: `fd ${str(c.fd)} is not an open socket` };
    case 'socket-attach':
      return { detail: `SO_ATTACH_BPF on fd ${str(c.fd)}`, hint: code === 'EINVAL' ? 'only socket_filter programs attach to sockets' : undefined };
    case 'socket-detach':
      return { detail: `SO_DETACH_BPF on fd ${str(c.fd)}` };
    case 'cgroup-open':
      return { detail: `cannot open the cgroup '${path}'` };
    case 'link-update':
      if (code === 'EPERM' && c.expected) return { detail: 'the link no longer runs the expected program' };
      if (code === 'EINVAL') return { detail: 'the new program must have the same type and attach type as the old one' };
      return {};
    case 'tc-attach': {
      const how = c.mechanism === 'tcx' ? 'with tcx' : 'as a cls_bpf filter';
      const detail = `attaching tc program '${program ?? '?'}' to ${where(c)} ${str(c.direction)} ${how}`;
      if (c.mechanism === 'tcx' && code === 'EINVAL') return { detail, hint: "tcx needs a sched_cls program and a kernel with tcx; the legacy path is { mechanism: 'cls_bpf' }" };
      if (c.mechanism === 'cls_bpf' && code === 'EEXIST') return { detail: `${detail}: a filter with handle ${str(c.handle)} and priority ${str(c.priority)} exists`, hint: 'pass { replace: true }' };
      return { detail };
    }
    case 'tc-detach':
      return { detail: `detaching the cls_bpf filter ${str(c.handle)}:${str(c.priority)} from ${where(c)}` };
    case 'tc-query':
      return { detail: c.mechanism === 'tcx' ? `querying tcx on ${where(c)}` : `listing the cls_bpf filters of ${where(c)} ${str(c.direction)}` };
    case 'xdp-attach':
      return xdpAttachAdvice(code, c, program);
    case 'xdp-detach':
      return {
        detail: c.id !== undefined ? `detaching XDP program ${str(c.id)} from ${where(c)}` : `detaching XDP from ${where(c)}`,
        hint: code === 'EBUSY' ? 'it is attached through a BPF link: detach the link (BpfLink.openPinned(path).detach(), or end its owner)' : undefined,
      };
    case 'xdp-query':
      return { detail: `querying XDP on ${where(c)}` };
    case 'netns-enter':
      return { detail: `cannot enter network namespace ${str(c.netns)}`, hint: code === 'ENOENT' ? 'no such file: is the namespace gone?' : undefined };
    case 'no-interface':
      return {
        detail: `no ${where(c)}`,
        hint: typeof c.netns === 'string' ? undefined : 'an interface inside a network namespace needs { netns }',
        cliHint: typeof c.netns === 'string' ? undefined : 'an interface inside a network namespace needs --netns PATH',
      };
    case 'packet-socket':
      return { detail: `opening a packet socket for ${where(c)}`, hint: code === 'EPERM' ? 'this needs CAP_NET_RAW' : undefined };
    case 'packet-socket-bind':
      return { detail: `binding a packet socket to ${where(c)}` };
    case 'packet-send': {
      const detail = `sending frames on ifindex ${str(c.ifindex)} (after ${str(c.sent)} were sent)`;
      if (code === 'EMSGSIZE') return { detail: `${detail}: a frame is larger than the interface's MTU plus its Ethernet header` };
      if (code === 'ENETDOWN') return { detail: `${detail}: the interface is down` };
      return { detail };
    }
    case 'test-run': {
      const detail = `test run of program '${str(c.program)}'`;
      if (code === 'E524' || code === 'EOPNOTSUPP') return { detail: `${detail}: this program type has no BPF_PROG_TEST_RUN (XDP, tc, socket filters and a few others do)` };
      if (code === 'EINVAL') {
        return {
          detail: c.live
            ? `${detail}: live frames need an XDP program, a frame, and repeat >= 1 (and no output buffers)`
            : `${detail}: the frame or context was refused (too short for the program type, or a context field it may not set)`,
        };
      }
      if (code === 'ENOSPC') return { detail: `${detail}: the output frame did not fit in dataOutSize` };
      return { detail };
    }
    case 'reader-open':
      if (code !== 'EINVAL') return {};
      return { detail: c.reader === 'ring buffer' ? 'the map is not a ring buffer (BPF_MAP_TYPE_RINGBUF)' : 'the map is not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)' };
    case 'map-update-netns':
      return { detail: `in netns ${str(c.netns)}`, hint: code === 'ENODEV' || code === 'EINVAL' ? 'is there an interface with that ifindex in that namespace?' : undefined };
    case 'map-info':
      if (code !== 'EINVAL') return {};
      return { detail: c.fd !== undefined ? `fd ${str(c.fd)} is not a BPF map` : 'the object is not a BPF map' };
    case 'map-create':
      return {
        detail: `map type '${str(c.type)}'${c.name !== undefined ? ` named '${str(c.name)}'` : ''}`,
        hint: code === 'EINVAL' ? 'check the key/value sizes, max entries and flags this map type takes; map-in-maps need an inner map' : undefined,
      };
    case 'map-mmap':
      return { detail: code === 'EPERM' || code === 'EACCES' ? 'the map is frozen or read-only' : undefined };
    case 'pin-folder':
      return { detail: `the folder of pin path '${path}' cannot be inspected` };
    case 'external-arraybuffer':
      return { detail: 'this runtime does not allow external ArrayBuffers' };
    case 'batch':
      return { detail: `${str(c.done)} of ${str(c.count)} elements were ${str(c.verb)}` };
    case 'lock':
      return { detail: `'${path}'` };
    default:
      return {};
  }
}

/** The words for a handle used in a state that does not allow the operation, by state code. */
function stateText(state: string, c: BpfErrorContext): string {
  const name = str(c.name);
  switch (state) {
    case 'object-closed':
      return 'the BPF object is closed';
    case 'object-loading':
      return 'the BPF object is being loaded';
    case 'object-load-failed':
      return "the BPF object's load failed; open it again";
    case 'object-loaded':
      return 'the BPF object is already loaded (configure before load())';
    case 'object-not-loaded':
      return 'the BPF object is not loaded yet (call load() first)';
    case 'program-standalone':
      return 'this program was reopened from a pin and belongs to no BPF object';
    case 'program-standalone-attach':
      return 'this program was reopened from a pin; libbpf attaches programs of a loaded BPF object';
    case 'program-closed':
      return 'the program handle is closed';
    case 'program-not-autoloaded':
      return `program '${name}' was not loaded (autoload was off)`;
    case 'map-standalone':
      return 'this map was opened from the kernel (a pin or an id), not from a BPF object';
    case 'map-closed':
      return 'the map is closed';
    case 'map-not-autocreated':
      return `map '${name}' was not created (autocreate was off)`;
    case 'map-no-initial-value':
      return `map '${name}' has no initial value`;
    case 'map-read-only-after-load':
      return `map '${name}' is read-only after load (set .rodata before load())`;
    case 'map-not-mmapable':
      return 'only array maps created with BPF_F_MMAPABLE (and the .data/.bss maps of an object) can be memory-mapped';
    case 'map-read-only-mmap':
      return 'the map is read-only, and a view of read-only memory would crash the process when written (read it with get(), or globals for .rodata)';
    case 'scratch-unbound':
      return 'bindScratch() must be called before element access';
    case 'scratch-detached':
      return 'the scratch buffers bound with bindScratch() were detached: bind them again';
    case 'reader-closed':
      return `the ${str(c.reader)} is closed`;
    case 'link-closed':
      return 'the link is closed';
    case 'packet-socket-closed':
      return 'the packet socket is closed';
    default:
      return state;
  }
}

/** Extra facts the native layer attaches to some errors. */
export interface BpfErrorDetails {
  /** The program being loaded, when the failure belongs to one. */
  program?: string;
  /** The kernel verifier's log, when a program load was refused. */
  log?: string;
  /** Free text about the failure (from lib/ code; native reports {@link BpfErrorDetails.context}). */
  detail?: string;
  /** What native code reported: what was being done, and its context. */
  context?: BpfErrorContext;
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
  /** What to try next, when the error has a common cause, in the library's API. */
  readonly hint: string | undefined;
  /** The same advice in the `xdp-root` CLI's syntax, where it differs from {@link BpfError.hint}. */
  readonly cliHint: string | undefined;
  /** The message without the hint: what happened. */
  readonly summary: string;
  /** The facts native code reported (what was being done, paths, interfaces, what is attached). */
  readonly context: BpfErrorContext;
  /**
   * libbpf's own warnings during the failing call, such as `"failed to open
   * '/sys/bus/event_source/devices/kprobe/type'"` — kept even when no logger is set. The last one
   * is also in the message. Empty when libbpf said nothing.
   */
  readonly details: readonly string[];

  constructor(op: string, errno: number, detail?: string, hint?: string, libbpfLog: readonly string[] = [], context: BpfErrorContext = {}, cliHint?: string) {
    const code = libbpfErrors[errno]?.[0] ?? errnoName(errno);
    hint ??= hintForCode(code, op);
    let summary = `${op} failed: ${describeErrno(errno)} (${code})`;
    if (detail) summary += `: ${detail}`;
    const reason = libbpfReason(libbpfLog);
    if (reason !== undefined && !summary.includes(reason)) summary += `${summary.endsWith('\n') ? '' : ' '}(libbpf: ${reason})`;
    super(hint ? `${summary}${summary.endsWith('\n') ? '' : '. '}Hint: ${hint}` : summary);
    this.name = 'BpfError';
    this.code = code;
    this.errno = errno;
    this.op = op;
    this.hint = hint;
    this.cliHint = cliHint;
    this.summary = summary;
    this.context = Object.freeze({ ...context });
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
  // "Failed to bump RLIMIT_MEMLOCK" is misleading where the kernel accounts BPF memory to the
  // cgroup (5.11+) and the refusal is about privileges: never the reason shown.
  const generic = /failed to load object|failed to load: -?\d+$|failed to prepare load attributes|try raising 'ulimit -l'|Failed to bump RLIMIT_MEMLOCK/;
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
      [],
      { what: 'verify', program },
      'run with --debug to see the whole verifier log',
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
  /**
   * Why, as a code, for errors native code reports (`'object-closed'`, `'map-closed'`,
   * `'object-not-loaded'`…); undefined for the ones lib/ raises itself.
   */
  readonly state: string | undefined;

  constructor(message: string, state?: string) {
    super(message);
    this.name = 'BpfStateError';
    this.state = state;
  }
}

/** Builds the error for a failed native call. Registered with the addon by lib/internal/native.ts. */
export function makeBpfError(op: string, errno: number, details: BpfErrorDetails): BpfError {
  if (details.log !== undefined && details.program !== undefined) {
    return new BpfVerifierError(op, errno, details.program, details.log);
  }
  const context = details.context ?? {};
  const code = libbpfErrors[errno]?.[0] ?? errnoName(errno);
  const advice = adviceFor(op, code, context, details.program);
  return new BpfError(op, errno, details.detail ?? advice.detail, advice.hint, details.libbpfLog ?? [], context, advice.cliHint);
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

/**
 * Builds the error for a handle used in the wrong phase, from what native code reports: the action
 * tried ("attach a program") and the state's code. Registered with the addon by
 * lib/internal/native.ts.
 */
export function makeStateError(action: string, state: string, context: BpfErrorContext = {}): BpfStateError {
  return new BpfStateError(`cannot ${action}: ${stateText(state, context)}`, state);
}
