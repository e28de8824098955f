// Readers dropped without close() are collected and do not keep the process alive; an unread
// reader stops at its byte high-water mark, leaving the rest in the kernel.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');

describeBpf('reader lifetime', () => {
  it('50 dropped ring and 50 dropped perf buffers: collected, fds back, the process exits on its own', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, '..', 'support', 'workers', 'drop-readers.cjs'), join(root, 'dist'), join(root, 'dist', 'test-bpf')], {
      encoding: 'utf8',
      timeout: scaledMs(20_000),
    });
    expect(r.signal, r.stderr).toBeNull(); // not killed by the timeout: it exited by itself
    expect(r.status, r.stderr).toBe(0);
    const { start, before, held, after } = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    expect(held).toBeGreaterThanOrEqual(before + 200); // each reader held 2+ fds while alive
    // The object is closed and every reader collected: back to the count before the object.
    expect(after).toBe(start);
  });

  it('an unread ring buffer pauses at highWaterBytes: what it holds stays bounded', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    obj.loadSync();
    using rb = obj.ringbuf('events', { highWaterBytes: 4096 });
    obj.program('xdp_ringbuf').testRun({ data: Buffer.alloc(64), repeat: 50_000 }); // 800 KB of records
    // Let the reader run a few turns of the loop with nobody reading.
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rb.pendingBytes).toBeGreaterThanOrEqual(4096);
    // One batch may cross the mark; with 16-byte records that batch is the 4 MiB per-wake-up cap
    // at most, and here everything waiting (800 KB) is less than that.
    expect(rb.pendingBytes).toBeLessThanOrEqual(4096 + (4 << 20));
    const first = rb.pendingBytes;
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rb.pendingBytes).toBe(first); // paused: nothing more was copied in
  });

  it('32 KiB records, nobody reading: this process holds about highWaterBytes (16 MiB) + one 4 MiB batch, the rest waits in the kernel', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf_large'));
    obj.loadSync();
    using rb = obj.ringbuf('large_events');
    const records = 1900; // ~60 MiB: before, the 65,536-record mark let all of it into this process
    obj.program('xdp_large').testRun({ data: Buffer.alloc(64), repeat: records });
    expect(obj.globals.get('large_dropped')).toBe(0n);
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rb.pendingBytes).toBeGreaterThanOrEqual(16 << 20);
    expect(rb.pendingBytes).toBeLessThanOrEqual((16 << 20) + (4 << 20) + 32768);
    // Reading resumes the reader: everything arrives, in order, nothing lost.
    let expected = 0n;
    for await (const r of rb) {
      expect(r.length).toBe(32768);
      expect(r.readBigUInt64LE(0)).toBe(expected);
      if (++expected === BigInt(records)) break;
    }
  });
});
