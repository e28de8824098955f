#!/usr/bin/env node
/**
 * `libbpf-node`: what a project needs from the package at build time.
 *
 * ```
 * libbpf-node cflags         clang flags for a .bpf.c that uses the package's headers
 * libbpf-node include-dirs   the header folders, one a line
 * libbpf-node gen <obj.bpf.o> [--out file.ts] [--name Name] [--record map='struct x'] [--u64 number]
 *                            a typed skeleton of the object (docs/skeletons.md)
 * ```
 *
 * @internal
 * @module
 */
import { writeFileSync } from 'node:fs';
import { bpfCflags, bpfIncludeDirs } from '../cflags';
import { generateSkeleton, type GenerateOptions } from '../skeleton/generate';

const usage = `usage:
  libbpf-node cflags         clang flags to build a .bpf.c against the package's headers:
                             clang $(npx libbpf-node cflags) -c prog.bpf.c -o prog.bpf.o
  libbpf-node include-dirs   the header folders (bpf/include, libbpf's), one a line
  libbpf-node gen <object.bpf.o> [options]
                             a typed TypeScript skeleton of the object (docs/skeletons.md):
    --out <file.ts>          write it there (default: standard output)
    --name <Name>            the skeleton's name (default: from the file name, xdp_count → XdpCount)
    --record <map>=<type>    the record type of a ring or perf buffer: --record events='struct event'
    --u64 number             decode 64-bit integers as numbers (default bigint)
    --import <module>        where the generated code imports from (default libbpf-node/skeleton)`;

/** Parses `gen`'s arguments; throws a TypeError (printed as usage) for bad ones. */
function parseGen(args: string[]): { object: string; out?: string; options: GenerateOptions } {
  let object: string | undefined;
  let out: string | undefined;
  const records: Record<string, string> = {};
  const options: { -readonly [K in keyof GenerateOptions]: GenerateOptions[K] } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq === -1 ? a : a.slice(0, eq);
    const value = (): string => {
      const v = eq === -1 ? args[++i] : a.slice(eq + 1);
      if (v === undefined || v === '') throw new TypeError(`gen: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--out':
      case '-o':
        out = value();
        break;
      case '--name':
        options.name = value();
        break;
      case '--import':
        options.importFrom = value();
        break;
      case '--u64': {
        const v = value();
        if (v !== 'number' && v !== 'bigint') throw new TypeError(`gen: --u64 takes 'number' or 'bigint', got '${v}'`);
        options.u64 = v;
        break;
      }
      case '--record': {
        const v = value();
        const at = v.indexOf('=');
        if (at <= 0 || at === v.length - 1) throw new TypeError(`gen: --record takes <map>=<type>, e.g. --record events='struct event', got '${v}'`);
        records[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      default:
        if (a.startsWith('-')) throw new TypeError(`gen: unknown option '${a}'`);
        if (object !== undefined) throw new TypeError(`gen: one object at a time (got '${object}' and '${a}')`);
        object = a;
    }
  }
  if (object === undefined) throw new TypeError('gen: which object? libbpf-node gen <object.bpf.o>');
  if (Object.keys(records).length) options.records = records;
  options.source = object;
  return { object, out, options };
}

/** `libbpf-node gen`: writes the skeleton, prints notes on stderr. */
function gen(args: string[]): number {
  let parsed: ReturnType<typeof parseGen>;
  try {
    parsed = parseGen(args);
  } catch (e) {
    console.error(`libbpf-node ${(e as Error).message}\n${usage}`);
    return 2;
  }
  const skel = generateSkeleton(parsed.object, parsed.options);
  for (const note of skel.notes) console.error(`libbpf-node gen: note: ${note}`);
  if (parsed.out === undefined) {
    process.stdout.write(skel.code);
  } else {
    writeFileSync(parsed.out, skel.code);
    console.error(`libbpf-node gen: wrote ${skel.name} (${skel.fingerprint}) to ${parsed.out}`);
  }
  return 0;
}

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
      case 'gen':
        return gen(argv.slice(1));
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
