// Errors raised by the test kit, and the privilege check that explains the most common one.

import { readFileSync } from 'node:fs';

/** Details attached to a {@link TestNetError}. */
export interface TestNetErrorDetails {
  /** The command that failed, as an argument vector (`['ip', '-n', 'lbn-…', 'link', 'add', …]`). */
  command?: readonly string[];
  /** Exit code of the failed command, when there was one. */
  exitCode?: number | null;
  /** Standard error of the failed command (trimmed), or of the agent process. */
  stderr?: string;
  /** A short error code: an errno name such as `EEXIST`, or `ETIMEDOUT`, `ECLOSED`, `EPERM`. */
  code?: string;
}

/**
 * Thrown when the test kit cannot set up, use or tear down its network namespaces.
 *
 * `op` names the operation that failed (`VethPair.create`, `VethPair.send`, …); the message says
 * what went wrong and, for known causes such as missing privileges, what to do about it.
 * Argument mistakes are reported as `TypeError` / `RangeError` instead.
 *
 * @example
 * ```ts
 * try {
 *   await VethPair.create();
 * } catch (err) {
 *   if (err instanceof TestNetError && err.code === 'EPERM') console.log('run the suite as root');
 *   else throw err;
 * }
 * ```
 */
export class TestNetError extends Error {
  /** The operation that failed, e.g. `VethPair.create`. */
  readonly op: string;
  /** Short error code, see {@link TestNetErrorDetails.code}. */
  readonly code: string | undefined;
  /** The failing command, if a command failed. */
  readonly command: readonly string[] | undefined;
  /** Exit code of the failing command. */
  readonly exitCode: number | null | undefined;
  /** Standard error of the failing command or agent. */
  readonly stderr: string | undefined;

  constructor(op: string, message: string, details: TestNetErrorDetails = {}, options?: ErrorOptions) {
    super(`${op}: ${message}`, options);
    this.name = 'TestNetError';
    this.op = op;
    this.code = details.code;
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
  }
}

// Bit numbers from <linux/capability.h>.
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/** The effective capability mask of this process, or undefined if /proc is unreadable. */
function effectiveCapabilities(): bigint | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return match ? BigInt(`0x${match[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True if this process can create network namespaces and veth pairs: it needs CAP_NET_ADMIN
 * (links, addresses) and CAP_SYS_ADMIN (`ip netns add` bind-mounts the namespace). Reads the
 * effective capabilities from /proc/self/status; falls back to "is root" if that is unreadable.
 *
 * @example
 * ```ts
 * import { hasNetnsPrivileges } from 'libbpf-node/testing';
 * describe.skipIf(!hasNetnsPrivileges())('XDP on a veth pair (needs root)', () => { … });
 * ```
 */
export function hasNetnsPrivileges(): boolean {
  const caps = effectiveCapabilities();
  if (caps === undefined) return process.getuid?.() === 0;
  const need = (1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_SYS_ADMIN));
  return (caps & need) === need;
}

/** Throws a {@link TestNetError} with code EPERM explaining the needed capabilities. */
export function assertNetnsPrivileges(op: string): void {
  if (hasNetnsPrivileges()) return;
  throw new TestNetError(
    op,
    'creating network namespaces and veth pairs needs CAP_NET_ADMIN and CAP_SYS_ADMIN. ' +
      'Run the tests as root (e.g. `sudo npx vitest run`) or in a container started with ' +
      '--cap-add NET_ADMIN --cap-add SYS_ADMIN (or --privileged).',
    { code: 'EPERM' },
  );
}

/** A hint for a failed `ip` command, from its standard error; empty if nothing is known. */
export function hintFor(stderr: string): string {
  if (/Operation not permitted|Permission denied/i.test(stderr)) {
    return ' (needs CAP_NET_ADMIN and CAP_SYS_ADMIN: run as root)';
  }
  if (/File exists/i.test(stderr)) return ' (a namespace or interface with this name already exists)';
  return '';
}
