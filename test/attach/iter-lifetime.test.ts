// An iterator read holds an fd (anon_inode:bpf_iter), and that fd holds the program. Leaving
// lines() early, destroying a stream, dropping one unread (GC) and a worker that ends mid-read
// all close it: the fd count comes back, and once the link and object are closed the program
// is gone from the kernel.
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { attachIter, BpfObject } from '../../lib/index';
import { fixturePath, openFdCount } from '../support/helpers';
import { recordProgramIds } from '../support/leak-check';
import { eventually as waitFor, programExists } from '../support/program-ids';
import { describeWith, scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');
const actor = join(__dirname, '..', 'support', 'workers', 'actor.cjs');

/** fds of this process that are iterator reads. */
function iterFdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:bpf_iter') n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits (bounded) until `check` holds; stream closes go through the thread pool. */
const eventually = (check: () => boolean, ms = scaledMs(2000)): Promise<boolean> => waitFor(check, ms);

describeWith('task-iterator', 'iterator reads: fds and programs released', () => {
  it('leaving lines() early closes the fd; closing link and object then removes the program', async () => {
    const before = iterFdCount();
    const fds = openFdCount();
    const obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    const id = obj.program('dump_task').id;
    recordProgramIds(id);
    const link = attachIter(obj.program('dump_task'));
    for (let i = 0; i < 3; i++) {
      for await (const _ of link.lines()) break;
    }
    expect(await eventually(() => iterFdCount() === before)).toBe(true);
    link.close();
    obj.close();
    expect(await eventually(() => !programExists(id))).toBe(true);
    expect(await eventually(() => openFdCount() === fds)).toBe(true);
  });

  it('a lines() generator ended with return() closes the fd', async () => {
    const before = iterFdCount();
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    using link = attachIter(obj.program('dump_task'));
    const gen = link.lines();
    expect((await gen.next()).done).toBe(false);
    expect(iterFdCount()).toBe(before + 1);
    await gen.return(undefined);
    expect(await eventually(() => iterFdCount() === before)).toBe(true);
  });

  it('a destroyed stream, and a stream dropped unread, close their fds', async () => {
    const before = iterFdCount();
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    using link = attachIter(obj.program('dump_task'));
    const s = link.stream();
    s.destroy();
    expect(await eventually(() => iterFdCount() === before)).toBe(true);
    // Dropped without a read: garbage collection closes it.
    (() => {
      for (let i = 0; i < 3; i++) link.stream().pause();
    })();
    expect(iterFdCount()).toBe(before + 3);
    const gc = (globalThis as { gc?: () => void }).gc!;
    expect(await eventually(() => (gc(), iterFdCount() === before))).toBe(true);
  });

  for (const op of ['iterLines', 'iterStream']) {
    for (const how of ['terminate', 'exit'] as const) {
      it(`a worker ended by ${how === 'exit' ? 'process.exit()' : 'terminate()'} during ${op === 'iterLines' ? 'lines()' : 'stream()'}: fds back, program gone`, async () => {
        const fds = openFdCount();
        const before = iterFdCount();
        const worker = new Worker(actor, {
          workerData: { dist: join(root, 'dist'), fixtures: join(root, 'dist', 'test-bpf'), op, exitAfterMs: how === 'exit' ? 30 : undefined },
        });
        const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
        let progId = 0;
        await new Promise<void>((resolve, reject) => {
          worker.on('message', (m: unknown) => {
            if (typeof m === 'object' && m !== null && 'progId' in m) progId = (m as { progId: number }).progId;
            else if (m === 'started') resolve();
            else reject(new Error(String(m)));
          });
          worker.once('error', reject);
          void exited.then(() => resolve());
        });
        expect(progId).toBeGreaterThan(0);
        recordProgramIds(progId);
        if (how === 'terminate') {
          await new Promise((r) => setTimeout(r, 30));
          await worker.terminate();
        }
        await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('worker did not end')), scaledMs(15_000)))]);
        expect(await eventually(() => iterFdCount() === before)).toBe(true);
        expect(await eventually(() => openFdCount() === fds)).toBe(true);
        expect(await eventually(() => !programExists(progId))).toBe(true);
      }, scaledMs(30_000));
    }
  }
});
