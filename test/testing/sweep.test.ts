// The test kit across processes: leftovers of a killed run, sweep(), the exit hook, and the error a
// process without privileges gets. Each case runs the kit in a child Node process, from a copy of
// lib/testing transpiled to JavaScript (children cannot load TypeScript). Needs root.

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasNetnsPrivileges, sweep } from '../../lib/testing/index.js';

const run = promisify(execFile);
const privileged = hasNetnsPrivileges();
if (!privileged) console.warn('testing-sweep.test.ts skipped: needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)');

const CHILD_SOURCE = `
const { VethPair } = require('./kit/index.js');
const report = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
(async () => {
  const net = await VethPair.create();
  const agentPid = await net.a.run(() => process.pid);
  report({ pid: process.pid, names: [net.a.netns, net.b.netns], agentPid });
  if (process.argv[2] === 'exit-without-close') process.exit(0);
  process.stdin.resume();
  process.stdin.on('end', async () => { await net.close(); process.exit(0); });
})().catch((err) => { report({ error: err.message, code: err.code }); process.exit(1); });
`;

interface ChildReport {
  pid?: number;
  names?: string[];
  agentPid?: number;
  error?: string;
  code?: string;
}

let workDir = '';

/** Starts a child that creates a pair and reports on its first line of output. */
async function startChild(mode: string, uid?: number): Promise<{ child: ChildProcessWithoutNullStreams; report: ChildReport }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [join(workDir, 'child.js'), mode], {
    cwd: workDir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [line] = (await once(lines, 'line').catch(() => [undefined])) as [string | undefined];
  clearTimeout(timer);
  if (line === undefined) throw new Error(`child printed nothing; stderr: ${stderr}`);
  return { child, report: JSON.parse(line) as ChildReport };
}

async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  return (JSON.parse(stdout || '[]') as Array<{ name: string }>).map((n) => n.name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

describe.skipIf(!privileged)('test kit across processes (needs root: CAP_NET_ADMIN + CAP_SYS_ADMIN)', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'lbn-kit-'));
    const kitDir = join(workDir, 'kit');
    await mkdir(kitDir);
    const sourceDir = join(__dirname, '..', '..', 'lib', 'testing');
    for (const file of await readdir(sourceDir)) {
      if (!file.endsWith('.ts')) continue;
      const { outputText } = ts.transpileModule(await readFile(join(sourceDir, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      });
      await writeFile(join(kitDir, file.replace(/\.ts$/, '.js')), outputText);
    }
    await writeFile(join(workDir, 'child.js'), CHILD_SOURCE);
    // Readable by the unprivileged child too.
    for (const path of [workDir, kitDir]) await chmod(path, 0o755);
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('sweep removes the leftovers of a killed process and leaves a live one alone', async () => {
    const killed = await startChild('stay');
    const live = await startChild('stay');
    const killedNames = killed.report.names!;
    const liveNames = live.report.names!;
    const manual = `lbn-${killed.report.pid}-manual`; // carries the prefix but not the kit's pattern
    try {
      killed.child.kill('SIGKILL');
      await once(killed.child, 'exit');
      // The agent notices its parent is gone and exits; the namespaces stay behind.
      expect(await waitFor(() => !alive(killed.report.agentPid!), 3000)).toBe(true);
      await run('ip', ['netns', 'add', manual]);
      const before = await netnsNames();
      for (const name of [...killedNames, ...liveNames, manual]) expect(before).toContain(name);

      const removed = await sweep();

      expect(removed.sort()).toEqual(expect.arrayContaining(killedNames.sort()));
      expect(removed).not.toContain(manual);
      for (const name of liveNames) expect(removed).not.toContain(name);
      const after = await netnsNames();
      for (const name of killedNames) expect(after).not.toContain(name);
      for (const name of [...liveNames, manual]) expect(after).toContain(name);
      expect(alive(live.report.agentPid!)).toBe(true);

      // The live child still closes its own pair normally.
      live.child.stdin.end();
      const [code] = (await once(live.child, 'exit')) as [number | null];
      expect(code).toBe(0);
      const final = await netnsNames();
      for (const name of liveNames) expect(final).not.toContain(name);
      // Nothing of ours is left to sweep (a neighbour's leftovers may be, and are not our business).
      const ours = new Set([...killedNames, ...liveNames]);
      expect((await sweep()).filter((name) => ours.has(name))).toEqual([]);
    } finally {
      killed.child.kill('SIGKILL');
      live.child.kill('SIGKILL');
      await run('ip', ['netns', 'del', manual]).catch(() => {});
    }
  });

  test('a process that exits without close() has its namespaces and agents removed at exit', async () => {
    const { child, report } = await startChild('exit-without-close');
    await once(child, 'exit');
    const left = await netnsNames();
    for (const name of report.names!) expect(left).not.toContain(name);
    expect(await waitFor(() => !alive(report.agentPid!), 3000)).toBe(true);
  });

  test('without CAP_NET_ADMIN / CAP_SYS_ADMIN, create explains what is needed', async () => {
    const { child, report } = await startChild('stay', 65534);
    await once(child, 'exit');
    expect(report.code).toBe('EPERM');
    expect(report.error).toMatch(/^VethPair\.create: .*CAP_NET_ADMIN and CAP_SYS_ADMIN.*root/);
    // The child's namespaces would be lbn-<its pid>-…; other processes' namespaces are not counted.
    expect((await netnsNames()).filter((name) => name.startsWith(`lbn-${child.pid}-`))).toEqual([]);
  });
});
