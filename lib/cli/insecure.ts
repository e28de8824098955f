/**
 * The warning every command run with `--insecure` prints (to stderr), each time it applies.
 *
 * @internal
 * @module
 */

/** The warning's lines: the waiver itself, then each problem it let through. */
export function insecureWarning(waived: readonly string[]): string {
  const head =
    'xdp-root: WARNING: --insecure: trust checks waived; files that users other than root can change may be loaded into the kernel. ' +
    'For development only (see docs/fleet-security.md).';
  return [head, ...waived.map((w) => `xdp-root: WARNING: untrusted, loaded anyway: ${w}`)].join('\n');
}

/** Prints {@link insecureWarning} to stderr. */
export function warnInsecure(waived: readonly string[]): void {
  console.error(insecureWarning(waived));
}
