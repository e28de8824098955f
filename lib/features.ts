/**
 * What the running kernel can do: program types, map types and helpers (libbpf's probes), BTF,
 * and the named features the library itself depends on. Every answer comes from an operation the
 * probe performs on the running kernel, never from its version (vendor kernels backport features,
 * configs and lockdown turn them off), and is cached once per thread.
 *
 * A named feature's probe has three answers ({@link FeatureAnswer}): available, not available, or
 * undetermined (the kernel refused the probe itself, for example with `EPERM` under lockdown),
 * each with what was tried and what the kernel said. Undetermined counts as not available for
 * every choice the library makes. The library uses {@link requireFeature} before an operation
 * that needs a feature, so that a kernel without it fails up front with a
 * {@link BpfFeatureError} naming the feature and the kernel's answer, instead of a bare errno from
 * deep inside the call.
 *
 * @example
 * ```ts
 * import { features } from 'libbpf-node';
 * if (!features.mapType('ringbuf')) console.log('no ring buffers here');
 * features.helper('xdp', 'bpf_fib_lookup');   // what the verifier allows XDP programs
 * features.answer('xdp-meta-64');             // { state: 'available', reason: '…' }
 * features.require('ringbuf');                // throws BpfFeatureError when missing
 * ```
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { BpfError, BpfFeatureError, errnoName } from './errors';
import { binding } from './internal/native';
import { nativeAttach } from './attach/common';

/** The running kernel's version, from `uname -r`. */
export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
  /** The full release string, such as `'6.1.0-27-amd64'`. */
  release: string;
}

/** Parses `'6.1.0-27-amd64'` (or `'5.10'`) into numbers; missing parts are 0. */
export function parseKernelVersion(text: string): KernelVersion {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) throw new TypeError(`not a kernel version: '${text}'`);
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), release: text };
}

function compareVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

let runningKernel: KernelVersion | undefined;

/**
 * The running kernel's version, for display. The library decides nothing from it: what a kernel
 * has is probed ({@link featureAnswer}).
 */
export function kernelVersion(): KernelVersion {
  runningKernel ??= parseKernelVersion(release());
  return runningKernel;
}

/**
 * True when the running kernel's version is at least `version` (`'5.10'`, `'6.6.0'`). For
 * display and reports only: a version says little about what a vendor or restricted kernel
 * allows, so probe the feature instead ({@link hasFeature}).
 */
export function kernelAtLeast(version: string): boolean {
  return compareVersions(kernelVersion(), parseKernelVersion(version)) >= 0;
}

/** What a probe found on the running kernel. */
export interface FeatureAnswer {
  /**
   * `'available'`: the kernel did it. `'unavailable'`: the kernel refused in the way a kernel
   * without the feature does. `'undetermined'`: the kernel refused the probe itself (`EPERM`
   * under lockdown or a security policy, no kernel BTF to look in), so it cannot tell; the
   * library then treats the feature as not available.
   */
  readonly state: 'available' | 'unavailable' | 'undetermined';
  /** What was tried and what the kernel answered: "the verifier refused bpf_xdp_adjust_meta in XDP programs". */
  readonly reason: string;
  /** The errno name of the kernel's refusal (`'EPERM'`), when there was one. */
  readonly errno?: string;
}

/** What the library's own probes in the addon report: where it stopped and the kernel's answer there. */
export interface KernelProbeFact {
  /** `'map_create'`, `'map_op'`, `'prog_load'`, `'test_run'`, `'btf_load'` or `'btf_find'`. */
  step: string;
  /** The positive errno of that step, 0 when it succeeded. */
  errno: number;
  /** `test_run`: the program's return value. */
  retval?: number;
  /** `btf_find`: whether the kernel's BTF has the type. */
  found?: boolean;
  /** `prog_load` refused: the verifier's log. */
  log?: string;
}

const ENOTSUPP = 524; // the kernel-internal "not supported" that leaks to userspace
const { EINVAL, EACCES, ENOENT, EOPNOTSUPP } = { EINVAL: 22, EACCES: 13, ENOENT: 2, EOPNOTSUPP: 95 };

const named = (errno: number): string => (errno === ENOTSUPP ? 'ENOTSUPP' : errnoName(errno));
const yes = (reason: string): FeatureAnswer => ({ state: 'available', reason });
const no = (reason: string, errno?: number): FeatureAnswer => ({ state: 'unavailable', reason, ...(errno ? { errno: named(errno) } : {}) });
const unsure = (reason: string, errno?: number): FeatureAnswer => ({ state: 'undetermined', reason, ...(errno ? { errno: named(errno) } : {}) });

/** The verifier's complaint: the last non-empty line of its log that is not its statistics. */
function verifierLine(log: string | undefined): string | undefined {
  const lines = (log ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^(processed \d+ insns|verification time)/.test(l));
  return lines[lines.length - 1];
}

/** What each BTF probe looks for, for messages. */
const BTF_PROBES: Record<string, string> = {
  xdp_link: 'struct bpf_xdp_link',
  perf_link: 'struct bpf_perf_link',
  verified_insns: 'the member verified_insns of struct bpf_prog_info',
  iter_task: 'the function bpf_iter_task',
  iter_task_filter: 'the member task of union bpf_iter_link_info',
  iter_cgroup: 'the member cgroup of union bpf_iter_link_info',
};

/** What each program probe loads, for messages. */
const LOADED: Record<string, string> = {
  atomics: 'a socket filter with a fetch-and-add atomic (BPF_ATOMIC | BPF_FETCH)',
  xdp_meta: 'an XDP program calling bpf_xdp_adjust_meta',
  xdp_meta_64: 'an XDP program calling bpf_xdp_adjust_meta',
  test_run_xdp_ctx: 'a two-instruction XDP program',
  xdp_live_frames: 'a two-instruction XDP program',
};

/**
 * Turns what a probe of the addon saw into one of the three answers. Pure: tests feed it the
 * kernel's possible answers (errno values) to check the mapping on any kernel.
 */
export function interpretKernelProbe(name: string, fact: KernelProbeFact): FeatureAnswer {
  const { step, errno } = fact;
  const btf = BTF_PROBES[name];
  if (btf !== undefined) {
    if (step === 'btf_load') return unsure(`the kernel's BTF (/sys/kernel/btf/vmlinux), where the probe looks for ${btf}, could not be read (${named(errno)})`, errno);
    return fact.found ? yes(`the kernel's BTF has ${btf}`) : no(`the kernel's BTF has no ${btf}`);
  }
  if (name === 'batch_ops' || name === 'hash_lookup_and_delete') {
    const op = name === 'batch_ops' ? 'a batch lookup (BPF_MAP_LOOKUP_BATCH)' : 'a lookup-and-delete (BPF_MAP_LOOKUP_AND_DELETE_ELEM)';
    if (step === 'map_create') return unsure(`creating the one-entry hash map the probe tries ${op} on was refused (${named(errno)})`, errno);
    if (errno === 0 || errno === ENOENT) return yes(`${op} on an empty hash map answered ${errno === 0 ? 'with success' : 'ENOENT'}, as where it exists`);
    if (errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP) return no(`the kernel refused ${op} on a hash map (${named(errno)})`, errno);
    return unsure(`${op} on a hash map was refused with ${named(errno)}, which does not tell whether the kernel has it`, errno);
  }
  const loaded = LOADED[name];
  if (loaded === undefined) throw new TypeError(`unknown kernel feature probe '${name}'`);
  if (step === 'prog_load' && errno !== 0) {
    const line = verifierLine(fact.log);
    if (name.startsWith('xdp_meta') && /cannot use helper|unknown func|invalid func/.test(fact.log ?? '')) {
      return no(`the verifier refused bpf_xdp_adjust_meta in XDP programs ("${line}")`, errno);
    }
    if (errno === EINVAL || errno === EACCES) return no(`the verifier refused ${loaded} (${named(errno)}${line ? `: "${line}"` : ''})`, errno);
    return unsure(`loading ${loaded} was refused with ${named(errno)}, before the verifier could answer (lockdown, a security policy or missing privileges)`, errno);
  }
  if (name === 'atomics') return yes(`the verifier accepted ${loaded}`);
  if (name === 'xdp_meta') return yes('the verifier allows bpf_xdp_adjust_meta in XDP programs');
  // A test run.
  const retval = fact.retval;
  if (name === 'xdp_meta_64') {
    if (errno !== 0) return unsure(`the verifier allows bpf_xdp_adjust_meta, but the XDP test run that measures the metadata room was refused (${named(errno)})`, errno);
    if (retval === 2) return yes('bpf_xdp_adjust_meta made room for 64 bytes of metadata in an XDP test run');
    return no('the verifier allows bpf_xdp_adjust_meta, but it refused 64 bytes of metadata in an XDP test run (kernels before 6.6 allow 32)');
  }
  if (name === 'test_run_xdp_ctx') {
    if (errno === EINVAL || errno === EOPNOTSUPP || errno === ENOTSUPP) return no(`an XDP test run with an xdp_md context was refused (${named(errno)})`, errno);
    if (errno !== 0) return unsure(`an XDP test run with an xdp_md context was refused with ${named(errno)}, which does not tell whether the kernel has it`, errno);
    return retval === 2 ? yes('an XDP test run with an xdp_md context ran the program') : no(`an XDP test run with an xdp_md context returned ${retval}, not XDP_PASS`);
  }
  // xdp_live_frames
  if (errno === EINVAL || errno === EOPNOTSUPP || errno === ENOTSUPP) return no(`the kernel refused an XDP test run with BPF_F_TEST_XDP_LIVE_FRAMES (${named(errno)})`, errno);
  if (errno !== 0) {
    return unsure(
      `an XDP test run with BPF_F_TEST_XDP_LIVE_FRAMES was refused with ${named(errno)}, while ordinary test runs are allowed: the kernel or a security policy refuses live frames`,
      errno,
    );
  }
  // Kernels before 5.18 that do not check the flags run the frame the ordinary way and report the
  // program's XDP_DROP; a live run reports no verdict (0).
  return retval === 0 ? yes('an XDP test run with BPF_F_TEST_XDP_LIVE_FRAMES ran') : no('the kernel ignored BPF_F_TEST_XDP_LIVE_FRAMES and ran the frame the ordinary way');
}

/** Turns a libbpf probe's number (1, 0, a negative errno) into an answer; `what` is what it loads. */
export function interpretLibbpfProbe(ret: number, what: string): FeatureAnswer {
  if (ret === 1) return yes(`libbpf's probe: the kernel accepted ${what}`);
  if (ret === 0) return no(`libbpf's probe: the kernel refused ${what}`);
  if (ret === -EOPNOTSUPP) return no(`libbpf's probe: the kernel has no such program type for ${what}`, EOPNOTSUPP);
  return unsure(`libbpf's probe of ${what} was refused with ${named(-ret)}, which does not tell whether the kernel has it`, -ret);
}

const cache = new Map<string, boolean>();

function cached(key: string, probe: () => boolean): boolean {
  let v = cache.get(key);
  if (v === undefined) {
    v = probe();
    cache.set(key, v);
  }
  return v;
}

const answers = new Map<string, FeatureAnswer>();

function cachedAnswer(key: string, probe: () => FeatureAnswer): FeatureAnswer {
  let v = answers.get(key);
  if (v === undefined) {
    v = probe();
    answers.set(key, v);
  }
  return v;
}

/** A library probe of the addon, by its native name. */
function kernelProbe(name: string): FeatureAnswer {
  return cachedAnswer(`kernel:${name}`, () => interpretKernelProbe(name, binding.probeKernelFeature(name)));
}

function libbpfBoolean(op: string, ret: number, helperProbe = false): boolean {
  if (ret === 1) return true;
  if (ret === 0 || (helperProbe && ret === -EOPNOTSUPP)) return false;
  throw new BpfError(op, -ret, 'the probe could not tell');
}

function programTypeAnswer(name: string): FeatureAnswer {
  return cachedAnswer(`prog:${name}`, () => interpretLibbpfProbe(binding.probeProgramType(name), `a ${name} program`));
}

function mapTypeAnswer(name: string): FeatureAnswer {
  return cachedAnswer(`map:${name}`, () => interpretLibbpfProbe(binding.probeMapType(name), `a ${name} map`));
}

function helperAnswer(programType: string, helper: string): FeatureAnswer {
  const h = helper.startsWith('bpf_') ? helper : `bpf_${helper}`;
  return cachedAnswer(`helper:${programType}:${h}`, () => interpretLibbpfProbe(binding.probeHelper(programType, helper), `${h} in ${programType} programs`));
}

/** The first answer that is not "available", else the last: every part must be there. */
function allOf(...parts: Array<() => FeatureAnswer>): FeatureAnswer {
  let last: FeatureAnswer = yes('');
  for (const part of parts) {
    last = part();
    if (last.state !== 'available') return last;
  }
  return last;
}

/** The first available answer, else the first refusal: one of the parts is enough. */
function anyOf(...parts: Array<() => FeatureAnswer>): FeatureAnswer {
  const seen: FeatureAnswer[] = [];
  for (const part of parts) {
    const a = part();
    if (a.state === 'available') return a;
    seen.push(a);
  }
  return { ...seen[0]!, reason: seen.map((a) => a.reason).join('; and ') };
}

function pathAnswer(path: string, what: string): FeatureAnswer {
  return existsSync(path) ? yes(`${what} exists (${path})`) : no(`${what} is missing (${path})`);
}

/** True when the kernel exposes its own BTF (`/sys/kernel/btf/vmlinux`), needed for CO-RE. */
export function hasKernelBtf(): boolean {
  return cached('btf', () => existsSync('/sys/kernel/btf/vmlinux'));
}

/**
 * True when the kernel can load programs of this type. Names as libbpf prints them (`'xdp'`,
 * `'sched_cls'`, `'kprobe'`, `'tracing'`…); an unknown name throws a `TypeError`; a probe the
 * kernel refuses (`EPERM` without privileges) throws a `BpfError`.
 */
export function probeProgramType(name: string): boolean {
  return cached(`prog:${name}`, () => libbpfBoolean('libbpf_probe_bpf_prog_type', binding.probeProgramType(name)));
}

/** True when the kernel can create maps of this type (`'hash'`, `'ringbuf'`, `'lru_hash'`…). */
export function probeMapType(name: string): boolean {
  return cached(`map:${name}`, () => libbpfBoolean('libbpf_probe_bpf_map_type', binding.probeMapType(name)));
}

/**
 * True when programs of `programType` may call `helper` (`'bpf_fib_lookup'` or `'fib_lookup'`):
 * the verifier's own answer. False also when the program type itself is missing.
 */
export function probeHelper(programType: string, helper: string): boolean {
  return cached(`helper:${programType}:${helper}`, () => libbpfBoolean('libbpf_probe_bpf_helper', binding.probeHelper(programType, helper), true));
}

/** Where tracefs is mounted (`/sys/kernel/tracing` or the debugfs copy), or undefined. */
export function tracefsPath(): string | undefined {
  return ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((p) => existsSync(`${p}/events`));
}

/** Where the cgroup v2 hierarchy is mounted (pure or hybrid), from /proc/mounts, or undefined. */
export function cgroup2Path(): string | undefined {
  try {
    const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
    return line?.split(' ')[1];
  } catch {
    return undefined;
  }
}

/** The kernel's lockdown mode (`'none'`, `'integrity'`, `'confidentiality'`), as the kernel reports it; undefined without the lockdown LSM. */
function lockdown(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Kprobes under kernel lockdown: the kernel refuses to create them in confidentiality mode
 * (LOCKDOWN_KPROBES), which the kernel reports in /sys/kernel/security/lockdown.
 */
function kprobeLockdownAnswer(): FeatureAnswer {
  const mode = lockdown();
  return mode === 'confidentiality'
    ? no("kernel lockdown is 'confidentiality' (/sys/kernel/security/lockdown), which refuses kprobes (LOCKDOWN_KPROBES)")
    : yes(`kernel lockdown is ${mode ?? 'not in use'}`);
}

/** tracefs: mounted with events, and a file in it can be read (lockdown refuses tracefs in confidentiality mode). */
function tracefsAnswer(): FeatureAnswer {
  const base = tracefsPath();
  if (base === undefined) return no('no tracefs with events is mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing');
  try {
    readFileSync(`${base}/events/header_page`);
    return yes(`tracefs is mounted at ${base} and readable`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const mode = lockdown();
    return no(`tracefs is mounted at ${base} but reading ${base}/events/header_page failed (${code})${mode !== undefined && mode !== 'none' ? `; kernel lockdown is '${mode}'` : ''}`);
  }
}

/** A perf PMU the kernel registered (`kprobe`, `uprobe`, `software`, `cpu`…). */
function pmuAnswer(name: string): FeatureAnswer {
  return pathAnswer(`/sys/bus/event_source/devices/${name}/type`, `the ${name} PMU`);
}

function tracefsFileAnswer(file: string): FeatureAnswer {
  const base = tracefsPath();
  return base === undefined ? no(`tracefs is not mounted, so there is no ${file}`) : pathAnswer(`${base}/${file}`, file);
}

function btfAnswer(): FeatureAnswer {
  return pathAnswer('/sys/kernel/btf/vmlinux', "the kernel's BTF");
}

/** tcx: a query of the loopback's tcx ingress (read-only) succeeds only where tcx exists. */
function tcxAnswer(): FeatureAnswer {
  try {
    binding.tcxQuery({ name: 'lo' }, 'ingress');
    return yes("a query of the loopback's tcx ingress (BPF_PROG_QUERY, BPF_TCX_INGRESS) succeeded");
  } catch (e) {
    const errno = e instanceof BpfError ? e.errno : 0;
    if (errno === EINVAL || errno === EOPNOTSUPP || errno === ENOTSUPP) return no(`the kernel refused a query of tcx ingress (BPF_TCX_INGRESS) as an unknown attach type (${named(errno)})`, errno);
    return unsure(`a query of the loopback's tcx ingress failed${errno ? ` with ${named(errno)}` : ` (${String(e)})`}, which does not tell whether the kernel has tcx`, errno || undefined);
  }
}

/** Trampolines: load and attach an fentry program on bpf_fentry_test1 (never called otherwise). */
function trampolineAnswer(): FeatureAnswer {
  const btf = btfAnswer();
  if (btf.state !== 'available') return btf;
  const errno = nativeAttach.probeTrampoline();
  if (errno === 0) return yes('an fentry program on bpf_fentry_test1 loaded and attached');
  if (errno === EINVAL || errno === EOPNOTSUPP || errno === ENOTSUPP || errno === ENOENT) {
    return no(`the kernel refused an fentry program on bpf_fentry_test1 (${named(errno)})`, errno);
  }
  return unsure(`loading or attaching an fentry program on bpf_fentry_test1 was refused with ${named(errno)} (lockdown, a security policy or the hypervisor)`, errno);
}

/** A feature the library depends on: what it is, the first mainline kernel with it, and how to tell. */
export interface FeatureSpec {
  /** What the feature is, for messages: "BPF ring buffer maps". */
  readonly description: string;
  /**
   * The first mainline kernel that has it, such as `'5.8'`: documentation only. Vendor kernels
   * backport features into older versions and configs or lockdown remove them from newer ones,
   * so no answer is derived from it.
   */
  readonly minKernel: string;
  /**
   * Asks the running kernel: a {@link FeatureAnswer}, or a boolean (taken as available / not
   * available, for probes that cannot fail). Called once per thread; the answer is cached.
   */
  readonly probe: () => FeatureAnswer | boolean;
  /**
   * What the feature needs besides a kernel that has the code (a config option, a mount,
   * hardware), for features a recent kernel can still lack.
   */
  readonly requires?: string;
}

/**
 * The named features, each probed on the running kernel by trying it, never inferred from its
 * version (distributions backport features, and configs and lockdown turn them off).
 */
export const FEATURES = {
  btf: { description: 'kernel BTF (/sys/kernel/btf/vmlinux)', minKernel: '5.4', probe: btfAnswer },
  ringbuf: { description: 'BPF ring buffer maps', minKernel: '5.8', probe: () => mapTypeAnswer('ringbuf') },
  xdp: { description: 'XDP programs', minKernel: '4.8', probe: () => programTypeAnswer('xdp') },
  'tc-programs': { description: 'tc (sched_cls) programs', minKernel: '4.1', probe: () => programTypeAnswer('sched_cls') },
  'syscall-programs': { description: 'BPF_PROG_TYPE_SYSCALL programs (SEC("syscall"), run with testRun)', minKernel: '5.14', probe: () => programTypeAnswer('syscall') },
  // Attach kinds (lib/attach/): each probed where it would fail.
  kprobe: {
    requires: 'CONFIG_KPROBE_EVENTS',
    description: 'kprobes (the kprobe PMU, or kprobe_events in a mounted tracefs)',
    minKernel: '4.17',
    probe: () => allOf(() => programTypeAnswer('kprobe'), kprobeLockdownAnswer, () => anyOf(() => pmuAnswer('kprobe'), () => tracefsFileAnswer('kprobe_events'))),
  },
  uprobe: {
    requires: 'CONFIG_UPROBE_EVENTS',
    description: 'uprobes (the uprobe PMU, or uprobe_events in a mounted tracefs)',
    minKernel: '4.17',
    probe: () => allOf(() => programTypeAnswer('kprobe'), () => anyOf(() => pmuAnswer('uprobe'), () => tracefsFileAnswer('uprobe_events'))),
  },
  tracefs: {
    requires: 'tracefs mounted at /sys/kernel/tracing',
    description: 'a mounted tracefs (for tracepoints by category and name)',
    minKernel: '4.7',
    probe: tracefsAnswer,
  },
  'perf-event': {
    requires: 'CONFIG_PERF_EVENTS',
    description: 'perf_event programs on software perf events',
    minKernel: '4.9',
    probe: () => allOf(() => programTypeAnswer('perf_event'), () => pmuAnswer('software')),
  },
  'perf-event-hardware': { requires: 'a hardware PMU (VMs often have none)', description: 'a hardware PMU (cpu-cycles, instructions…)', minKernel: '4.9', probe: () => pmuAnswer('cpu') },
  trampoline: {
    requires: 'an architecture and a hypervisor that allow BPF trampolines',
    description: 'BPF trampolines (fentry, fexit, fmod_ret, LSM programs)',
    minKernel: '5.5',
    probe: trampolineAnswer,
  },
  cgroup2: {
    requires: 'a mounted cgroup v2 hierarchy',
    description: 'cgroup v2 mounted and cgroup_skb programs',
    minKernel: '4.10',
    probe: () => allOf(() => (cgroup2Path() !== undefined ? yes(`cgroup v2 is mounted at ${cgroup2Path()}`) : no('no cgroup v2 hierarchy is mounted (/proc/mounts)')), () => programTypeAnswer('cgroup_skb')),
  },
  // libbpf's program type probe cannot load a tracing program without an attach target, so it
  // answers false for 'tracing' everywhere; iterators are found in the kernel's BTF instead.
  'task-iterator': { requires: 'kernel BTF', description: 'BPF task iterators', minKernel: '5.8', probe: () => allOf(btfAnswer, () => kernelProbe('iter_task')) },
  'task-iterator-filter': {
    requires: 'kernel BTF',
    description: 'task iterators over one process or thread (attachIter pid, tid)',
    minKernel: '6.1',
    probe: () => allOf(btfAnswer, () => kernelProbe('iter_task'), () => kernelProbe('iter_task_filter')),
  },
  'cgroup-iterator': { requires: 'kernel BTF', description: 'BPF cgroup iterators (attachIter cgroup)', minKernel: '6.1', probe: () => allOf(btfAnswer, () => kernelProbe('iter_cgroup')) },
  'verified-insns': {
    description: "the verifier's instruction count in program info (verifierStats().verifiedInsns)",
    minKernel: '5.16',
    probe: () => kernelProbe('verified_insns'),
  },
  'perf-link': {
    description: 'kprobe, uprobe, tracepoint and perf event attachments as BPF links (link info, pins, update)',
    minKernel: '5.15',
    probe: () => kernelProbe('perf_link'),
  },
  // Cookies: the helper came for kprobes, uprobes, tracepoints and perf events together; raw
  // tracepoints had to wait. The helper probe answers for each program type.
  'attach-cookie': {
    description: 'BPF cookies on kprobe, uprobe, tracepoint and perf event attachments',
    minKernel: '5.15',
    probe: () => helperAnswer('kprobe', 'bpf_get_attach_cookie'),
  },
  'raw-tp-cookie': {
    description: 'BPF cookies on raw tracepoint attachments',
    minKernel: '6.10',
    probe: () => helperAnswer('raw_tracepoint', 'bpf_get_attach_cookie'),
  },
  // What the library's fallbacks and the kernel matrix (test/kernels/) depend on. Each is tried on
  // a map or program the probe creates itself; where the kernel refuses the probe itself (no BTF
  // for the XDP link probe, EPERM), the answer is "undetermined" and the library does without.
  'xdp-link': { description: 'XDP BPF links', minKernel: '5.9', probe: () => kernelProbe('xdp_link') },
  tcx: { description: 'tcx (tc BPF links)', minKernel: '6.6', probe: tcxAnswer },
  'batch-ops': { description: 'batch map operations', minKernel: '5.6', probe: () => kernelProbe('batch_ops') },
  'hash-lookup-and-delete': {
    description: 'lookup-and-delete on hash maps',
    minKernel: '5.14',
    probe: () => kernelProbe('hash_lookup_and_delete'),
  },
  atomics: { description: 'BPF atomic fetch instructions (-mcpu=v3 atomics)', minKernel: '5.12', probe: () => kernelProbe('atomics') },
  'test-run-xdp-ctx': { description: 'an xdp_md context in XDP test runs', minKernel: '5.15', probe: () => kernelProbe('test_run_xdp_ctx') },
  'xdp-live-frames': { description: 'XDP test runs with live frames', minKernel: '5.18', probe: () => kernelProbe('xdp_live_frames') },
  // The verifier first (some kernels refuse the helper in XDP programs), then a test run for the room.
  'xdp-meta-64': {
    description: 'XDP metadata areas over 32 bytes (bpf_xdp_adjust_meta)',
    minKernel: '6.6',
    probe: () => allOf(() => kernelProbe('xdp_meta'), () => kernelProbe('xdp_meta_64')),
  },
} satisfies Record<string, FeatureSpec>;

/** The name of a feature in {@link FEATURES}. */
export type FeatureName = keyof typeof FEATURES;

function specOf(name: string): FeatureSpec {
  const spec = (FEATURES as Record<string, FeatureSpec>)[name];
  if (!spec) throw new TypeError(`unknown feature '${name}'; known: ${Object.keys(FEATURES).join(', ')}`);
  return spec;
}

/**
 * What the running kernel answered when the named feature was tried: available, not available or
 * undetermined, with what was tried and the kernel's answer. An unknown name throws a `TypeError`.
 *
 * Minimum kernel: any (the probes run everywhere; an old kernel answers "unavailable").
 *
 * @example
 * ```ts
 * const a = features.answer('xdp-live-frames');
 * if (a.state !== 'available') console.log(`no live frames here: ${a.reason}`);
 * ```
 */
export function featureAnswer(name: FeatureName): FeatureAnswer {
  const spec = specOf(name);
  return cachedAnswer(`feature:${name}`, () => {
    let a: FeatureAnswer | boolean;
    try {
      a = spec.probe();
    } catch (e) {
      // A probe that throws (a BpfError from a refused syscall) could not tell.
      const errno = e instanceof BpfError ? e.errno : undefined;
      return unsure(`the probe failed: ${e instanceof Error ? e.message : String(e)}`, errno);
    }
    if (typeof a === 'boolean') return a ? yes('the probe found it') : no('the probe did not find it');
    return a;
  });
}

/**
 * True when the running kernel has the named feature: its probe answered "available" (an
 * undetermined answer counts as not available). An unknown name throws a `TypeError`.
 */
export function hasFeature(name: FeatureName): boolean {
  return featureAnswer(name).state === 'available';
}

/** The error {@link requireFeature} throws for a missing feature, with `what` as the operation. */
export function featureError(name: FeatureName, what?: string): BpfFeatureError {
  const spec = specOf(name);
  return new BpfFeatureError(name, spec.description, spec.minKernel, kernelVersion().release, what, featureAnswer(name));
}

/**
 * Throws a {@link BpfFeatureError} when the running kernel lacks the named feature (or refused
 * its probe). `what` names the operation that needs it, for the message ("attachTc with
 * mechanism 'tcx'").
 */
export function requireFeature(name: FeatureName, what?: string): void {
  if (!hasFeature(name)) throw featureError(name, what);
}

/** One line of {@link features}.list(). */
export interface FeatureListEntry {
  name: FeatureName;
  description: string;
  /** The first mainline kernel with it (documentation; nothing is decided from it). */
  minKernel: string;
  requires?: string;
  /** The probe answered "available". */
  available: boolean;
  /** The probe's answer: available, unavailable or undetermined. */
  state: FeatureAnswer['state'];
  /** What was tried and what the kernel answered. */
  reason: string;
  /** The errno name of the kernel's refusal, when there was one. */
  errno?: string;
}

/**
 * Every probe in one object.
 *
 * Minimum kernel: the probes themselves work on every kernel libbpf supports.
 */
export const features = {
  kernelVersion,
  kernelAtLeast,
  btf: hasKernelBtf,
  programType: probeProgramType,
  mapType: probeMapType,
  helper: probeHelper,
  has: hasFeature,
  answer: featureAnswer,
  require: requireFeature,
  /** The names libbpf knows: program types, map types and helpers. */
  names: (): { programTypes: string[]; mapTypes: string[]; helpers: string[] } => binding.featureNames(),
  /** Every named feature with its description, minimum kernel, and the running kernel's answer. */
  list: (): FeatureListEntry[] =>
    (Object.keys(FEATURES) as FeatureName[]).map((name) => {
      const spec = FEATURES[name] as FeatureSpec;
      const a = featureAnswer(name);
      return {
        name,
        description: spec.description,
        minKernel: spec.minKernel,
        ...(spec.requires !== undefined ? { requires: spec.requires } : {}),
        available: a.state === 'available',
        state: a.state,
        reason: a.reason,
        ...(a.errno !== undefined ? { errno: a.errno } : {}),
      };
    }),
};
