#!/usr/bin/env node
/**
 * `libbpf-node`: what a project needs from the package at build time.
 *
 * ```
 * libbpf-node cflags         clang flags for a .bpf.c that uses the package's headers
 * libbpf-node include-dirs   the header folders, one a line
 * ```
 *
 * @internal
 * @module
 */
import { bpfCflags, bpfIncludeDirs } from '../cflags';

const usage = `usage:
  libbpf-node cflags         clang flags to build a .bpf.c against the package's headers:
                             clang $(npx libbpf-node cflags) -c prog.bpf.c -o prog.bpf.o
  libbpf-node include-dirs   the header folders (bpf/include, libbpf's), one a line`;

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export function main(argv: string[]): number {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  try {
    switch (argv[0]) {
      case 'cflags':
        console.log(bpfCflags().map(quote).join(' '));
        return 0;
      case 'include-dirs':
        console.log(bpfIncludeDirs().join('\n'));
        return 0;
      case undefined:
      case 'help':
      case '--help':
        console.log(usage);
        return 0;
      default:
        console.error(`libbpf-node: unknown command '${argv[0]}'\n${usage}`);
        return 2;
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
