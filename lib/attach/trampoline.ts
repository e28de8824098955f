/**
 * Programs that run through a BPF trampoline: `fentry`/`fexit`/`fmod_ret`
 * ({@link attachTrace}, `bpf_program__attach_trace_opts`) and `lsm` ({@link attachLsm},
 * `bpf_program__attach_lsm`). Their target is fixed at load time by the section name.
 *
 * @module
 */
import { BpfLink } from '../link';
import type { BpfProgram } from '../program';
import { checkKnownKeys } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCookie, checkOptions, checkProgram, nativeAttach } from './common';

/**
 * Attaches an `fentry`, `fexit`, `fmod_ret` or `tp_btf` program to the function its section
 * names.
 *
 * Minimum kernel: 5.5 (x86-64; 6.0 arm64), 6.1 for `cookie`. Some kernels (and some VMs) refuse
 * trampolines: `features.has('trampoline')` tells, and the error says why.
 *
 * @throws {@link BpfError} `ENOTSUPP`/`EOPNOTSUPP`/`EPERM` where the kernel has no trampolines
 *   (the EPERM hint says when privileges are not the cause)
 * @example
 * ```ts
 * using link = attachTrace(obj.program('on_tcp_connect'));  // SEC("fentry/tcp_connect")
 * ```
 */
export function attachTrace(program: BpfProgram, options: { cookie?: number | bigint } = {}): BpfLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['cookie']);
  requireFeature('trampoline', 'attachTrace');
  return new BpfLink(nativeAttach.trace(program.native, { cookie: checkCookie(o.cookie) }));
}

/**
 * Attaches an `lsm` program to the LSM hook its section names.
 *
 * Minimum kernel: 5.7, with `CONFIG_BPF_LSM` and `bpf` in the active LSM list.
 *
 * @throws {@link BpfError} as {@link attachTrace}
 * @example
 * ```ts
 * using link = attachLsm(obj.program('deny_bpf'));  // SEC("lsm/bpf")
 * ```
 */
export function attachLsm(program: BpfProgram): BpfLink {
  checkProgram(program);
  requireFeature('trampoline', 'attachLsm');
  return new BpfLink(nativeAttach.lsm(program.native));
}
