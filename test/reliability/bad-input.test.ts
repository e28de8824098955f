// Bad input never crashes the process: every method of every public class, every exported
// function and every method of the raw native binding, called with garbage arguments and foreign
// `this` values, returns or throws a typed error (TypeError, RangeError, BpfError, BpfStateError,
// BtfParseError). Each batch runs in its own child process (test/reliability/bad-input-child.ts),
// in a fresh network namespace, so a crash is seen as a signal instead of killing vitest.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { buildTs, describeBpf } from '../support/helpers';
import { scaledCount, scaledMs, slow } from '../support/kernel';

const root = join(__dirname, '..', '..');
const child = join(root, 'dist', 'test', 'reliability', 'bad-input-child.js');

interface Outcome {
  batch: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastCall: string;
  summary?: { calls: number; ok: number; typed: number; untyped: Array<{ call: string; error: string }>; hangs: string[] };
  stderr: string;
}

/** Runs one batch in a child process (in its own network namespace) and collects what happened. */
export function runBatch(batch: string): Promise<Outcome> {
  const trace = join(tmpdir(), `lbn-bad-input-${process.pid}-${batch.replace(/\W/g, '_')}.trace`);
  return new Promise((resolve) => {
    const p = spawn('unshare', ['-n', process.execPath, '--expose-gc', child, batch, trace], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), scaledMs(300_000)); // a hang guard, not a budget
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      let lastCall = '';
      try {
        lastCall = readFileSync(trace, 'utf8').trimEnd().split('\n').pop() ?? '';
        rmSync(trace, { force: true });
      } catch {
        /* no trace */
      }
      let summary: Outcome['summary'];
      try {
        summary = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        summary = undefined;
      }
      resolve({ batch, code, signal, lastCall, summary, stderr: stderr.slice(-2000) });
    });
  });
}

/**
 * Runs batches `parallel` at a time: 4; under emulation one a CPU (a kernel-matrix guest has one),
 * so that a call's hang limit measures the call, not its wait for a CPU.
 */
export async function runBatches(batches: string[], parallel = slow > 1 ? Math.min(4, availableParallelism()) : 4): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const queue = [...batches];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let b = queue.shift(); b !== undefined; b = queue.shift()) out.push(await runBatch(b));
    }),
  );
  return out;
}

describeBpf('bad input', () => {
  let batches: string[] = [];

  beforeAll(() => {
    buildTs('test/reliability/tsconfig.json');
    batches = JSON.parse(execFileSync(process.execPath, [child, '--list'], { encoding: 'utf8' }));
  }, scaledMs(120_000));

  it('never crashes the process and always throws a typed error', async () => {
    const outcomes = await runBatches(batches);
    const calls = outcomes.reduce((n, o) => n + (o.summary?.calls ?? 0), 0);
    for (const o of outcomes) {
      // A crash names the call that caused it.
      expect({ batch: o.batch, signal: o.signal, code: o.code, lastCall: o.signal ? o.lastCall : '' }).toEqual({ batch: o.batch, signal: null, code: 0, lastCall: '' });
      expect(o.summary, `${o.batch}: ${o.stderr}`).toBeDefined();
      expect(o.summary!.untyped, o.batch).toEqual([]);
      expect(o.summary!.hangs, o.batch).toEqual([]);
    }
    expect(outcomes).toHaveLength(batches.length);
    expect(calls).toBeGreaterThan(scaledCount(100_000)); // fewer under emulation (bad-input-child.ts)
  }, scaledMs(600_000)); // a hang guard: about 90 s on a quiet 2-core machine
});
