/**
 * What the running kernel can do: program types, map types and helpers (libbpf's probes), the
 * kernel version, BTF, and the named features the library itself depends on, each with the first
 * kernel that has it. Every answer is probed once per thread and cached.
 *
 * The library uses {@link requireFeature} before an operation that needs a feature, so that a
 * kernel without it fails up front with a {@link BpfFeatureError} naming the feature and its
 * minimum kernel, instead of a bare errno from deep inside the call.
 *
 * @example
 * ```ts
 * import { features } from 'libbpf-node';
 * if (!features.mapType('ringbuf')) console.log('no ring buffers before Linux 5.8');
 * features.helper('xdp', 'bpf_fib_lookup');   // true on 4.18+
 * features.require('ringbuf');                // throws BpfFeatureError when missing
 * ```
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { BpfFeatureError } from './errors';
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

/** The running kernel's version. */
export function kernelVersion(): KernelVersion {
  runningKernel ??= parseKernelVersion(release());
  return runningKernel;
}

/** True when the running kernel's version is at least `version` (`'5.10'`, `'6.6.0'`). */
export function kernelAtLeast(version: string): boolean {
  return compareVersions(kernelVersion(), parseKernelVersion(version)) >= 0;
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

/** True when the kernel exposes its own BTF (`/sys/kernel/btf/vmlinux`), needed for CO-RE. */
export function hasKernelBtf(): boolean {
  return cached('btf', () => existsSync('/sys/kernel/btf/vmlinux'));
}

/**
 * True when the kernel can load programs of this type. Names as libbpf prints them (`'xdp'`,
 * `'sched_cls'`, `'kprobe'`, `'tracing'`…); an unknown name throws a `TypeError`.
 */
export function probeProgramType(name: string): boolean {
  return cached(`prog:${name}`, () => binding.probeProgramType(name));
}

/** True when the kernel can create maps of this type (`'hash'`, `'ringbuf'`, `'lru_hash'`…). */
export function probeMapType(name: string): boolean {
  return cached(`map:${name}`, () => binding.probeMapType(name));
}

/**
 * True when programs of `programType` may call `helper` (`'bpf_fib_lookup'` or `'fib_lookup'`).
 * False also when the program type itself is missing.
 */
export function probeHelper(programType: string, helper: string): boolean {
  return cached(`helper:${programType}:${helper}`, () => binding.probeHelper(programType, helper));
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

/** A perf PMU the kernel registered (`kprobe`, `uprobe`, `software`, `cpu`…). */
function hasPmu(name: string): boolean {
  return existsSync(`/sys/bus/event_source/devices/${name}/type`);
}

/** A probe of native/features.cc; where the kernel cannot tell, whether it is at least `fallback`. */
function probeKernel(name: string, fallback: string): boolean {
  return binding.probeKernelFeature(name) ?? kernelAtLeast(fallback);
}

/** tcx: a query of the loopback's tcx ingress (read-only) succeeds only where tcx exists. */
function probeTcx(): boolean {
  try {
    binding.tcxQuery({ name: 'lo' }, 'ingress');
    return true;
  } catch {
    return false;
  }
}

/** A feature the library depends on: what it is, the first kernel with it, and how to tell. */
export interface FeatureSpec {
  /** What the feature is, for messages: "BPF ring buffer maps". */
  readonly description: string;
  /** The first mainline kernel that has it, such as `'5.8'`. */
  readonly minKernel: string;
  /** Asks the running kernel. Called once per thread; the answer is cached. */
  readonly probe: () => boolean;
  /**
   * What the feature needs besides the kernel version (a config option, a mount, hardware), for
   * features a recent kernel can still lack; absent when the version alone decides.
   */
  readonly requires?: string;
}

/**
 * The named features, each probed on the running kernel rather than inferred from its version
 * (distributions backport features, and configs turn them off).
 */
export const FEATURES = {
  btf: { description: 'kernel BTF (/sys/kernel/btf/vmlinux)', minKernel: '5.4', probe: hasKernelBtf },
  ringbuf: { description: 'BPF ring buffer maps', minKernel: '5.8', probe: () => probeMapType('ringbuf') },
  xdp: { description: 'XDP programs', minKernel: '4.8', probe: () => probeProgramType('xdp') },
  'tc-programs': { description: 'tc (sched_cls) programs', minKernel: '4.1', probe: () => probeProgramType('sched_cls') },
  'syscall-programs': { description: 'BPF_PROG_TYPE_SYSCALL programs (SEC("syscall"), run with testRun)', minKernel: '5.14', probe: () => probeProgramType('syscall') },
  // Attach kinds (lib/attach/): each probed where it would fail, not by version.
  kprobe: {
    requires: 'CONFIG_KPROBE_EVENTS',
    description: 'kprobes (the kprobe PMU, or kprobe_events in a mounted tracefs)',
    minKernel: '4.17',
    probe: () => probeProgramType('kprobe') && (hasPmu('kprobe') || existsSync(`${tracefsPath() ?? '/nonexistent'}/kprobe_events`)),
  },
  uprobe: {
    requires: 'CONFIG_UPROBE_EVENTS',
    description: 'uprobes (the uprobe PMU, or uprobe_events in a mounted tracefs)',
    minKernel: '4.17',
    probe: () => probeProgramType('kprobe') && (hasPmu('uprobe') || existsSync(`${tracefsPath() ?? '/nonexistent'}/uprobe_events`)),
  },
  tracefs: { requires: 'tracefs mounted at /sys/kernel/tracing', description: 'a mounted tracefs (for tracepoints by category and name)', minKernel: '4.7', probe: () => tracefsPath() !== undefined },
  'perf-event': {
    requires: 'CONFIG_PERF_EVENTS',
    description: 'perf_event programs on software perf events',
    minKernel: '4.9',
    probe: () => probeProgramType('perf_event') && hasPmu('software'),
  },
  'perf-event-hardware': { requires: 'a hardware PMU (VMs often have none)', description: 'a hardware PMU (cpu-cycles, instructions…)', minKernel: '4.9', probe: () => hasPmu('cpu') },
  trampoline: {
    requires: 'an architecture and a hypervisor that allow BPF trampolines',
    description: 'BPF trampolines (fentry, fexit, fmod_ret, LSM programs)',
    minKernel: '5.5',
    probe: () => hasKernelBtf() && nativeAttach.probeTrampoline() === 0,
  },
  cgroup2: {
    requires: 'a mounted cgroup v2 hierarchy',
    description: 'cgroup v2 mounted and cgroup_skb programs',
    minKernel: '4.10',
    probe: () => cgroup2Path() !== undefined && probeProgramType('cgroup_skb'),
  },
  // libbpf's program type probe cannot load a tracing program without an attach target, so it
  // answers false for 'tracing' everywhere; iterators are found in the kernel's BTF instead.
  'task-iterator': { requires: 'kernel BTF', description: 'BPF task iterators', minKernel: '5.8', probe: () => hasKernelBtf() && probeKernel('iter_task', '5.8') },
  'task-iterator-filter': {
    requires: 'kernel BTF',
    description: 'task iterators over one process or thread (attachIter pid, tid)',
    minKernel: '6.1',
    probe: () => hasKernelBtf() && probeKernel('iter_task', '5.8') && probeKernel('iter_task_filter', '6.1'),
  },
  'cgroup-iterator': { requires: 'kernel BTF', description: 'BPF cgroup iterators (attachIter cgroup)', minKernel: '6.1', probe: () => hasKernelBtf() && probeKernel('iter_cgroup', '6.1') },
  'verified-insns': {
    description: "the verifier's instruction count in program info (verifierStats().verifiedInsns)",
    minKernel: '5.16',
    probe: () => probeKernel('verified_insns', '5.16'),
  },
  'perf-link': {
    description: 'kprobe, uprobe, tracepoint and perf event attachments as BPF links (link info, pins, update)',
    minKernel: '5.15',
    probe: () => probeKernel('perf_link', '5.15'),
  },
  // Cookies: the helper came for kprobes, uprobes, tracepoints and perf events together; raw
  // tracepoints had to wait. The helper probe answers for each program type.
  'attach-cookie': {
    description: 'BPF cookies on kprobe, uprobe, tracepoint and perf event attachments',
    minKernel: '5.15',
    probe: () => probeHelper('kprobe', 'bpf_get_attach_cookie'),
  },
  'raw-tp-cookie': {
    description: 'BPF cookies on raw tracepoint attachments',
    minKernel: '6.10',
    probe: () => probeHelper('raw_tracepoint', 'bpf_get_attach_cookie'),
  },
  // What the library's fallbacks and the kernel matrix (test/kernels/) depend on. Each is tried on
  // a map or program the probe creates itself; where the kernel cannot tell (no BTF for the XDP
  // link probe), the version decides.
  'xdp-link': { description: 'XDP BPF links', minKernel: '5.9', probe: () => probeKernel('xdp_link', '5.9') },
  tcx: { description: 'tcx (tc BPF links)', minKernel: '6.6', probe: probeTcx },
  'batch-ops': { description: 'batch map operations', minKernel: '5.6', probe: () => probeKernel('batch_ops', '5.6') },
  'hash-lookup-and-delete': {
    description: 'lookup-and-delete on hash maps',
    minKernel: '5.14',
    probe: () => probeKernel('hash_lookup_and_delete', '5.14'),
  },
  atomics: { description: 'BPF atomic fetch instructions (-mcpu=v3 atomics)', minKernel: '5.12', probe: () => probeKernel('atomics', '5.12') },
  'test-run-xdp-ctx': { description: 'an xdp_md context in XDP test runs', minKernel: '5.15', probe: () => probeKernel('test_run_xdp_ctx', '5.15') },
  'xdp-live-frames': { description: 'XDP test runs with live frames', minKernel: '5.18', probe: () => probeKernel('xdp_live_frames', '5.18') },
  'xdp-meta-64': { description: 'XDP metadata areas over 32 bytes', minKernel: '6.6', probe: () => probeKernel('xdp_meta_64', '6.6') },
} satisfies Record<string, FeatureSpec>;

/** The name of a feature in {@link FEATURES}. */
export type FeatureName = keyof typeof FEATURES;

function specOf(name: string): FeatureSpec {
  const spec = (FEATURES as Record<string, FeatureSpec>)[name];
  if (!spec) throw new TypeError(`unknown feature '${name}'; known: ${Object.keys(FEATURES).join(', ')}`);
  return spec;
}

/** True when the running kernel has the named feature. An unknown name throws a `TypeError`. */
export function hasFeature(name: FeatureName): boolean {
  const spec = specOf(name);
  return cached(`feature:${name}`, spec.probe);
}

/** The error {@link requireFeature} throws for a missing feature, with `what` as the operation. */
export function featureError(name: FeatureName, what?: string): BpfFeatureError {
  const spec = specOf(name);
  return new BpfFeatureError(name, spec.description, spec.minKernel, kernelVersion().release, what);
}

/**
 * Throws a {@link BpfFeatureError} when the running kernel lacks the named feature. `what` names
 * the operation that needs it, for the message ("attachTc with mechanism 'tcx'").
 */
export function requireFeature(name: FeatureName, what?: string): void {
  if (!hasFeature(name)) throw featureError(name, what);
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
  require: requireFeature,
  /** The names libbpf knows: program types, map types and helpers. */
  names: (): { programTypes: string[]; mapTypes: string[]; helpers: string[] } => binding.featureNames(),
  /** Every named feature with its description, minimum kernel and whether this kernel has it. */
  list: (): Array<{ name: FeatureName; description: string; minKernel: string; requires?: string; available: boolean }> =>
    (Object.keys(FEATURES) as FeatureName[]).map((name) => ({
      name,
      description: FEATURES[name].description,
      minKernel: FEATURES[name].minKernel,
      ...((FEATURES[name] as FeatureSpec).requires !== undefined ? { requires: (FEATURES[name] as FeatureSpec).requires } : {}),
      available: hasFeature(name),
    })),
};
