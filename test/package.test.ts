// What `npm pack` publishes, and what a TypeScript consumer sees: the files every npm user
// expects, nothing that points at sources we do not ship, and declarations that compile in a
// project whose tsconfig does not list Node's types.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildTs } from './support/helpers';

const root = join(__dirname, '..');

beforeAll(() => {
  buildTs('tsconfig.build.json');
});

describe('the published package', () => {
  test('ships LICENSE, CHANGELOG, the install script, both CLIs and declarations; no source maps, no demo', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: root, encoding: 'utf8' });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'CHANGELOG.md', 'scripts/install.js', 'dist/lib/cli/libbpf-node.js', 'dist/lib/cli/xdp-root.js', 'dist/lib/index.d.ts', 'ext/glibc-floor.c', 'ext/libelf.gyp', 'ext/zlib.gyp']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('dist/') && f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.includes('demo'))).toEqual([]);
    // The pinned sources, so the addon builds without apt where no prebuild fits.
    for (const dir of ['ext/libbpf/src/', 'ext/elfutils/libelf/', 'ext/zlib/']) expect(files.some((f) => f.startsWith(dir)), dir).toBe(true);
  });

  test('its declarations compile in a consumer whose tsconfig lists no types (they reference Node\'s)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'libbpf-node-consumer-'));
    try {
      mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
      symlinkSync(root, join(dir, 'node_modules', 'libbpf-node'));
      symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], noEmit: true }, files: ['a.ts'] }),
      );
      writeFileSync(
        join(dir, 'a.ts'),
        "import { BpfObject } from 'libbpf-node';\nimport { VethPair } from 'libbpf-node/testing';\nimport { XdpFilter } from 'libbpf-node/programs';\nexport const f = (b: Buffer) => BpfObject.open(b);\nexport type T = [VethPair, XdpFilter];\n",
      );
      let output = '';
      try {
        execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8' });
      } catch (e) {
        output = String((e as { stdout?: string }).stdout);
      }
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
