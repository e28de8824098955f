/**
 * What this process may do, read from the kernel's own files: its effective capabilities, the
 * lockdown mode, the security modules that are active, and whether a seccomp filter applies.
 * Facts only: lib/errors.ts turns them into words when an operation is refused.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';

/** Capabilities by bit number (linux/capability.h), as far as BPF needs them. */
export const CAPABILITY_BITS: Readonly<Record<string, number>> = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The effective capabilities of this process, from /proc/self/status; undefined when unreadable. */
export function effectiveCapabilities(): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(read('/proc/self/status') ?? '');
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** Whether this process holds `name` (`'CAP_BPF'`…) in its effective set; undefined when unknown. */
export function hasCapability(name: string, caps = effectiveCapabilities()): boolean | undefined {
  const bit = CAPABILITY_BITS[name];
  if (caps === undefined || bit === undefined) return undefined;
  return (caps & (1n << BigInt(bit))) !== 0n;
}

/** The kernel lockdown mode (`'none'`, `'integrity'`, `'confidentiality'`), undefined when unknown. */
export function lockdownMode(): string | undefined {
  return /\[(\w+)\]/.exec(read('/sys/kernel/security/lockdown') ?? '')?.[1];
}

/** What is known of the security modules and seccomp, each fact only where the kernel says it. */
export interface SecurityFacts {
  /** The active LSMs from /sys/kernel/security/lsm, or undefined where securityfs is not mounted. */
  lsms: string[] | undefined;
  /** SELinux is active (/sys/fs/selinux/enforce exists). */
  selinux: boolean;
  /** AppArmor is active (/sys/module/apparmor/parameters/enabled says Y). */
  apparmor: boolean;
  /** A seccomp filter applies to this process (/proc/self/status Seccomp: 2). */
  seccompFilter: boolean | undefined;
  /** The lockdown mode, or undefined where securityfs is not mounted. */
  lockdown: string | undefined;
}

/** Reads {@link SecurityFacts} from the running kernel. */
export function securityFacts(): SecurityFacts {
  const lsm = read('/sys/kernel/security/lsm');
  const seccomp = /^Seccomp:\s*(\d)/m.exec(read('/proc/self/status') ?? '')?.[1];
  return {
    lsms: lsm === undefined ? undefined : lsm.trim().split(',').filter((s) => s.length > 0),
    selinux: existsSync('/sys/fs/selinux/enforce'),
    apparmor: (read('/sys/module/apparmor/parameters/enabled') ?? '').trim() === 'Y',
    seccompFilter: seccomp === undefined ? undefined : seccomp === '2',
    lockdown: lockdownMode(),
  };
}
