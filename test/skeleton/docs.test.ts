// docs/skeletons.md runs as written: its C source (the fixture test/bpf/skel_bootstrap.bpf.c) is
// built with its clang command, its skeleton generated with its `gen` command, its consumer
// compiled with its tsc command and run, and what it prints is what the page says.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTs, canLoadBpf } from '../support/helpers';
import { outDir, root } from './support';

const page = readFileSync(join(root, 'docs', 'skeletons.md'), 'utf8');

/** The fenced blocks of the page, by language, in order. */
function blocks(lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  for (let m = re.exec(page); m !== null; m = re.exec(page)) out.push(m[1]!);
  return out;
}

const dir = join(outDir, 'docs');
const cli = join(root, 'dist', 'lib', 'cli', 'libbpf-node.js');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs one line of the page's shell block, with every `npx X` as the project's own X (in
 *  `$(...)` too: the clean checkout CI runs has no executable bin to find). */
function run(line: string): string {
  const command = line.replaceAll('npx libbpf-node ', `node ${cli} `).replace(/^npx tsc /, `node ${tsc} `);
  return execFileSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('docs/skeletons.md', () => {
  it('shows the C source of the bootstrap fixture, verbatim', () => {
    expect(blocks('c')[0]).toBe(readFileSync(join(root, 'test', 'bpf', 'skel_bootstrap.bpf.c'), 'utf8'));
  });

  it.skipIf(!canLoadBpf)(`runs the example as written${canLoadBpf ? '' : ' [skipped: needs CAP_BPF or CAP_SYS_ADMIN to load BPF programs (run as root)]'}`, () => {
    buildTs('tsconfig.build.json'); // the consumer runs against dist/lib (libbpf-node/skeleton)
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bootstrap.bpf.c'), blocks('c')[0]!);
    writeFileSync(join(dir, 'main.ts'), blocks('ts')[0]!);
    const lines = blocks('sh')[0]!.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('node main.js');
    for (const line of lines.slice(0, 3)) run(line);
    const printed = run(lines[3]!);
    expect(printed).toBe(blocks('text')[0]);
  });

  it('runs the programmatic example as written', () => {
    buildTs('tsconfig.build.json');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(root, 'dist', 'test-bpf', 'skel_bootstrap.bpf.o'), join(dir, 'bootstrap.bpf.o'));
    const example = blocks('ts').find((b) => b.includes('generateSkeleton('))!;
    writeFileSync(join(dir, 'gen.ts'), example);
    rmSync(join(dir, 'bootstrap.skel.ts'), { force: true });
    run(`node ${tsc} --strict --skipLibCheck --target es2022 --lib es2022,esnext.disposable --module node16 --types node gen.ts`);
    const printed = run('node gen.js');
    expect(printed).toMatch(/^Bootstrap sha256:[0-9a-f]{32} \[\]\n$/);
    expect(readFileSync(join(dir, 'bootstrap.skel.ts'), 'utf8')).toContain("export const Bootstrap = defineSkeleton<BootstrapTypes>({");
  });
});
