// Worker threads: a worker that ends (terminate(), or process.exit() inside it) while native
// async work is in flight must not take the process down, and must leave no fd behind. Each
// operation is cut at several delays, so the end lands before, during and after the work.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { binding } from '../../lib/internal/native';
import { VethPair } from '../../lib/testing/index';
import { describeBpf, describeNet, openFdCount } from '../support/helpers';
import { scaledMs } from '../support/kernel';
import { eventually, programExists } from '../support/program-ids';

const root = join(__dirname, '..', '..');
const actor = join(__dirname, '..', 'support', 'workers', 'actor.cjs');
const delays = [0, 5, 30, 120];

interface Run {
  op: string;
  delayMs: number;
  how: 'terminate' | 'exit';
  iface?: { name: string; netns: string };
  lockPath?: string;
}

/** Starts a worker, ends it after `delayMs` once it started its work; resolves when it is gone. */
/** Runs the actor and ends it; resolves with the program ids it reported. */
async function runAndEnd({ op, delayMs, how, iface, lockPath }: Run): Promise<number[]> {
  const progIds: number[] = [];
  const worker = new Worker(actor, {
    workerData: {
      dist: join(root, 'dist'),
      fixtures: join(root, 'dist', 'test-bpf'),
      op,
      iface,
      lockPath,
      // leaveOpen exits by itself once everything is open; the others after delayMs.
      exitAfterMs: how === 'exit' && op !== 'leaveOpen' ? delayMs : undefined,
      exitOnceStarted: how === 'exit' && op === 'leaveOpen',
    },
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const started = new Promise<string>((resolve, reject) => {
    worker.on('message', (m: string | { progIds: number[] }) => {
      if (typeof m === 'object' && m !== null && Array.isArray(m.progIds)) progIds.push(...m.progIds);
      else if (m === 'started') resolve(m);
      else reject(new Error(String(m)));
    });
    worker.once('error', reject);
    void exited.then(() => resolve('exited'));
  });
  await started;
  if (how === 'terminate') {
    await new Promise((r) => setTimeout(r, delayMs));
    await worker.terminate();
  }
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${op}: worker did not end`)), scaledMs(15_000)));
  await Promise.race([exited, timeout]);
  return progIds;
}

/** fds settle once libuv has closed what the ended workers left to close. */
async function expectFdsBackTo(baseline: number): Promise<void> {
  const deadline = Date.now() + scaledMs(1000);
  while (openFdCount() > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(openFdCount()).toBe(baseline);
}

describeBpf('worker threads ending during native async work', () => {
  for (const op of ['load', 'testRunAsync', 'ringbuf', 'perfbuf']) {
    // A load keeps the verifier busy ~1 s and an ending worker waits for it: fewer delays.
    const cuts = op === 'load' ? [0, 120] : delays;
    it(`${op}: terminate() and process.exit() at ${cuts.join('/')} ms, the process survives, fds return`, async () => {
      // One warm-up run: the first worker loads the addon and libuv's pool for good.
      await runAndEnd({ op, delayMs: 0, how: 'terminate' });
      const baseline = openFdCount();
      for (const delayMs of cuts) {
        await runAndEnd({ op, delayMs, how: 'terminate' });
        await runAndEnd({ op, delayMs, how: 'exit' });
      }
      await expectFdsBackTo(baseline);
    }, scaledMs(60_000));
  }
});

describeBpf('worker threads ending with one handle of every kind left open', () => {
  it('closes them all: fds return, the lock is free, the programs leave the kernel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbn-leave-'));
    const lockPath = join(dir, 'lock');
    writeFileSync(lockPath, '');
    try {
      await runAndEnd({ op: 'leaveOpen', delayMs: 0, how: 'terminate', lockPath }); // warm-up
      const baseline = openFdCount();
      for (const how of ['terminate', 'exit'] as const) {
        const ids = await runAndEnd({ op: 'leaveOpen', delayMs: 20, how, lockPath });
        expect(ids.length, 'program ids reported').toBeGreaterThanOrEqual(3);
        const fd = binding.tryLock(lockPath);
        expect(fd, `lock after ${how}`).toBeGreaterThanOrEqual(0);
        binding.unlock(fd);
        await expectFdsBackTo(baseline);
        await eventually(() => !ids.some(programExists), scaledMs(2000));
        expect(ids.filter(programExists), `programs still in the kernel after ${how}`).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, scaledMs(60_000));
});

describeBpf('worker threads ending while holding a lock', () => {
  it('releases the lock: a later tryLock in this thread gets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbn-lock-'));
    const lockPath = join(dir, 'lock');
    writeFileSync(lockPath, '');
    try {
      for (const how of ['terminate', 'exit'] as const) {
        await runAndEnd({ op: 'lock', delayMs: 10, how, lockPath });
        const fd = binding.tryLock(lockPath);
        expect(fd, `after ${how}`).toBeGreaterThanOrEqual(0);
        binding.unlock(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeNet('worker threads ending during packet capture and send', () => {
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  for (const op of ['capture', 'send']) {
    it(`${op}: terminate() and process.exit() at ${delays.join('/')} ms, the process survives, fds return`, async () => {
      const iface = { name: net.a.ifname, netns: net.a.netnsPath };
      await runAndEnd({ op, delayMs: 0, how: 'terminate', iface });
      const baseline = openFdCount();
      for (const delayMs of delays) {
        await runAndEnd({ op, delayMs, how: 'terminate', iface });
        await runAndEnd({ op, delayMs, how: 'exit', iface });
      }
      await expectFdsBackTo(baseline);
    }, scaledMs(60_000));
  }
});
