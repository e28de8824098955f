// Cross-process locks on a bpffs folder: one holder at a time, released on close and on death.
// @module-tag threads
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockPath } from '../../lib/rootarray/lock';
import { describeBpf } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const dir = `/sys/fs/bpf/lbn-locktest-${process.pid}`;

describeBpf('lockPath', () => {
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the lock to one holder at a time', async () => {
    const first = await lockPath(dir);
    await expect(lockPath(dir, 50)).rejects.toThrow(/locked by another process/);
    first.release();
    first.release(); // idempotent
    using second = await lockPath(dir, 50);
    expect(second).toBeDefined();
  });

  it('waits for a holder that releases, without blocking the event loop', async () => {
    const first = await lockPath(dir);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    setTimeout(() => first.release(), 30);
    const second = await lockPath(dir, 5000);
    clearInterval(timer);
    second.release();
    expect(ticks).toBeGreaterThan(0);
  });

  it('is released by the kernel when the holder is killed', async () => {
    // A child takes the lock with flock(1) (-o: it alone holds the fd, not the sleep it runs).
    // It says when it holds the lock (a fixed wait was too short under emulation).
    const child = spawn('flock', ['-o', '-x', dir, 'sh', '-c', 'echo held; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    await new Promise((resolve, reject) => {
      child.stdout!.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`flock exited (${code}) before taking the lock`)));
    });
    await expect(lockPath(dir, 50)).rejects.toThrow(/locked/);
    const exited = new Promise((r) => child.on('exit', r));
    process.kill(-child.pid!, 'SIGKILL'); // flock and its sleep
    await exited;
    using held = await lockPath(dir, scaledMs(2000));
    expect(held).toBeDefined();
  });
});
