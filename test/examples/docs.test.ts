// Every code block marked `ts test` in README.md and docs/*.md, run as written: each is compiled
// as an ES module (top-level await, `using`) with the package's imports pointed at dist/, and run
// in its own Node process as root. An example that stops working fails here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTs, canAdminNet } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist', 'lib');
const SUBPATHS: Record<string, string> = {
  'libbpf-node': join(dist, 'index.js'),
  'libbpf-node/testing': join(dist, 'testing', 'index.js'),
  'libbpf-node/programs': join(dist, 'programs', 'index.js'),
  'libbpf-node/fleet': join(dist, 'fleet', 'index.js'),
};

interface Example {
  file: string;
  line: number;
  code: string;
}

/** The `ts test` blocks of a Markdown file, with the line each starts on. */
export function testBlocks(file: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts test\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    while (++i < lines.length && !/^```\s*$/.test(lines[i]!));
    out.push({ file, line: start + 1, code: lines.slice(start, i).join('\n') });
  }
  return out;
}

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const examples = files.flatMap((f) => testBlocks(f, readFileSync(join(root, f), 'utf8')));

let work = '';
beforeAll(() => {
  buildTs('tsconfig.build.json');
  work = mkdtempSync(join(tmpdir(), 'lbn-docs-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('finds the README example', () => {
  expect(examples.some((e) => e.file === 'README.md')).toBe(true);
});

for (const ex of examples) {
  it.runIf(canAdminNet)(`${ex.file}:${ex.line} runs as written`, () => {
    let js = ts.transpileModule(ex.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    js = js.replace(/from '(libbpf-node(?:\/[a-z]+)?)'/g, (m, name: string) => {
      const target = SUBPATHS[name];
      if (!target) throw new Error(`${ex.file}:${ex.line}: unknown import '${name}'`);
      return `from ${JSON.stringify(target)}`;
    });
    const script = join(work, `${ex.file.replace(/\W/g, '_')}_${ex.line}.mjs`);
    writeFileSync(script, js);
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: scaledMs(60_000), cwd: work });
    expect(r.stderr, `${ex.file}:${ex.line} wrote to stderr`).toBe('');
    expect(r.status, `${ex.file}:${ex.line} exit status; stdout:\n${r.stdout}`).toBe(0);
    // An example that prints its expected output in a trailing comment (`// arrived: 10`) must print it.
    for (const [, expected] of ex.code.matchAll(/console\.log\([^\n]*\);\s*\/\/ ([^\n]+)$/gm)) {
      expect(r.stdout, `${ex.file}:${ex.line}`).toContain(expected!.trim());
    }
  });
}
