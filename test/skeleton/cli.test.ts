// `libbpf-node gen`: a skeleton for every shipped program from the built CLI (what `npx
// libbpf-node gen` runs), the same text as generateSkeleton(); bad arguments are usage errors.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { shippedObjectDir } from '../../lib/index';
import { generateSkeleton } from '../../lib/skeleton/index';
import { buildTs, fixturePath } from '../support/helpers';
import { outDir, root } from './support';

const cli = join(root, 'dist', 'lib', 'cli', 'libbpf-node.js');
const dir = join(outDir, 'cli');

function gen(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'gen', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('libbpf-node gen', () => {
  beforeAll(() => {
    buildTs('tsconfig.build.json');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });

  it('writes a skeleton for every shipped program, the same as generateSkeleton()', () => {
    const shipped = readdirSync(join(root, 'bpf')).filter((f) => f.endsWith('.bpf.c')).map((f) => f.replace(/\.bpf\.c$/, '.bpf.o'));
    expect(shipped.length).toBeGreaterThan(5);
    for (const object of shipped) {
      const path = join(shippedObjectDir, object);
      const out = join(dir, object.replace(/\.bpf\.o$/, '.skel.ts'));
      const r = gen([path, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(generateSkeleton(path, { source: path }).code);
    }
  });

  it('prints to stdout without --out, with --name, --record and --u64', () => {
    const r = gen([fixturePath('skel_bootstrap'), '--name', 'Boot', '--record', 'events=struct event', '--u64=number']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(generateSkeleton(fixturePath('skel_bootstrap'), { name: 'Boot', records: { events: 'struct event' }, u64: 'number', source: fixturePath('skel_bootstrap') }).code);
    expect(r.stdout).toContain('export const Boot = defineSkeleton<BootTypes>(');
    expect(r.stdout).toContain('ts_ns: number;');
  });

  it('notes a ring buffer whose records stay Buffers', () => {
    const r = gen([fixturePath('ringbuf'), '--out', join(dir, 'ringbuf.skel.ts')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("note: map 'events': no record type found, its records stay Buffers (name one: --record events='struct name')");
    expect(r.stderr).toMatch(/wrote Ringbuf \(sha256:[0-9a-f]{32}\) to /);
    const text = readFileSync(join(dir, 'ringbuf.skel.ts'), 'utf8');
    expect(text).toContain('readonly events: Buffer;');
  });

  it.each([
    [[], /which object\?/, 2],
    [['a.o', 'b.o'], /one object at a time/, 2],
    [['a.o', '--bogus'], /unknown option '--bogus'/, 2],
    [['a.o', '--record', 'events'], /--record takes <map>=<type>/, 2],
    [['a.o', '--u64', 'float'], /--u64 takes 'number' or 'bigint'/, 2],
    [['a.o', '--out'], /--out needs a value/, 2],
    [[join(root, 'nonexistent.bpf.o')], /ENOENT/, 1],
    [[fixturePath('skel_bootstrap'), '--record', 'stats=struct stats'], /map 'stats' is a hash, not a ring buffer/, 1],
    [[fixturePath('skel_bootstrap'), '--record', 'events=struct nothing'], /has no type 'struct nothing'/, 1],
    [[fixturePath('skel_bootstrap'), '--name', 'not-an-identifier'], /must be a TypeScript identifier/, 1],
  ] as const)('refuses %j', (args, message, code) => {
    const r = gen([...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
