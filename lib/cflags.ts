/**
 * The compiler flags for building your own BPF programs against the headers this package ships:
 * libbpf's `<bpf/bpf_helpers.h>` and friends (the pinned libbpf the addon links), the package's
 * own `bpf/include/` (`xdp_root.h`, `parse.h`, `xdp_meta.h`…) and, as a fallback after the
 * system's, libbpf's copy of the kernel UAPI headers (`<linux/bpf.h>`).
 *
 * This module does not load the native addon, so `npx libbpf-node cflags` works before the addon
 * is built.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './internal/package-root';

/** Debian/Ubuntu's multiarch folder for `<asm/types.h>`, which `-target bpf` does not search. */
const MULTIARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
};

/**
 * The folders holding the headers a BPF program built for this package includes, in search
 * order: the package's `bpf/include` and libbpf's public headers.
 *
 * @throws Error when the package's folders are missing (a broken install).
 * @example
 * ```ts
 * bpfIncludeDirs(); // ['/app/node_modules/libbpf-node/bpf/include', '/app/node_modules/libbpf-node/ext/libbpf/usr/include']
 * ```
 */
export function bpfIncludeDirs(): string[] {
  const root = PACKAGE_ROOT;
  const dirs = [join(root, 'bpf', 'include'), join(root, 'ext', 'libbpf', 'usr', 'include')];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new Error(`libbpf-node: ${dir} is missing; reinstall the package (or run \`npm run setup\` in a clone)`);
  }
  return dirs;
}

/**
 * The clang flags to compile a `.bpf.c` file into an object this package loads: BPF target,
 * BTF (`-g`, which libbpf needs for maps, globals and CO-RE), `-O2` (the verifier needs
 * optimised code), `-mcpu=v3` (kernel ≥ 5.1) and the include folders. The same flags build the
 * shipped programs (`bpf/Makefile`). Needs clang ≥ 14 on the building machine; the kernel
 * minimum is that of the program you write.
 *
 * @throws Error when the package's header folders are missing (a broken install).
 * @example
 * ```sh
 * clang $(npx libbpf-node cflags) -c my_prog.bpf.c -o my_prog.bpf.o
 * ```
 */
export function bpfCflags(): string[] {
  const flags = ['-target', 'bpf', '-mcpu=v3', '-g', '-O2'];
  for (const dir of bpfIncludeDirs()) flags.push(`-I${dir}`);
  const multiarch = MULTIARCH[process.arch];
  if (multiarch && existsSync(join('/usr/include', multiarch))) flags.push('-idirafter', join('/usr/include', multiarch));
  // Without the distribution's kernel headers (linux-libc-dev), libbpf's copy of the BPF UAPI.
  flags.push('-idirafter', join(PACKAGE_ROOT, 'ext', 'libbpf', 'include', 'uapi'));
  return flags;
}
