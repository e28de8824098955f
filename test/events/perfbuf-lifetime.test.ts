// Perf buffer lifetime: it owns a dup of its map's fd, so close order does not matter, closing
// the map or the object does not silence it, and its close() never touches another map that
// reused the map's fd number.
// @module-tag threads
import { expect, it } from 'vitest';
import { BpfMap, BpfObject, BpfProgram } from '../../lib/index';
import { binding } from '../../lib/internal/native';
import { describeBpf, fixturePath, openFdCount } from '../support/helpers';
import { testRun } from '../support/run';

async function take(perf: AsyncIterator<Buffer>, n: number): Promise<bigint[]> {
  const out: bigint[] = [];
  while (out.length < n) {
    const r = await perf.next();
    if (r.done) break;
    out.push(r.value.readBigUInt64LE(0));
  }
  return out;
}

describeBpf('perf buffer lifetime', () => {
  it('keeps delivering after its object (and map) are closed, then closes cleanly', async () => {
    const before = openFdCount();
    const obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    const perf = obj.perfbuf('perf_events', { pagesPerCpu: 8 });
    testRun(obj.program('xdp_perf'), 2);
    // The same program, by id: it keeps the map alive after the object is closed.
    const prog = BpfProgram.openById(obj.program('xdp_perf').id);
    obj.close();
    // Samples written after the object closed still arrive: the kernel drops the entries put
    // through a map file when that file closes, and the buffer's own dup keeps it open.
    testRun(prog, 3);
    // One ring per CPU: the thread may have moved between runs, so compare as a set.
    expect((await take(perf, 5)).sort()).toEqual([0n, 1n, 2n, 3n, 4n]);
    perf.close();
    prog.close();
    expect(openFdCount()).toBe(before);
  });

  it('closes in any order: buffer then object, object then buffer, map-less buffer twice', async () => {
    const before = openFdCount();
    for (const order of ['buffer-first', 'object-first'] as const) {
      const obj = BpfObject.open(fixturePath('ringbuf'));
      await obj.load();
      const perf = obj.perfbuf('perf_events', { pagesPerCpu: 1 });
      testRun(obj.program('xdp_perf'), 3);
      expect((await take(perf, 3)).length).toBe(3);
      if (order === 'buffer-first') {
        perf.close();
        obj.close();
      } else {
        obj.close();
        perf.close();
      }
      perf.close();
    }
    expect(openFdCount()).toBe(before);
  });

  it('leaves an unrelated map that reused the perf map fd number untouched', async () => {
    const cpus = binding.numPossibleCpus();
    using other = BpfObject.open(fixturePath('maps'));
    await other.load();
    const hash = other.map('hash');
    for (let k = 0; k < cpus; k++) hash.set(k, BigInt(100 + k));

    const obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    const perfMap = obj.map('perf_events');
    const fdNumber = perfMap.fd;
    const perf = obj.perfbuf('perf_events', { pagesPerCpu: 1 });
    obj.close(); // the perf map's fd number is free now

    // Reopen the hash map until one handle lands on that number (the lowest free fd is reused).
    const extra: BpfMap[] = [];
    let reused: BpfMap | undefined;
    for (let i = 0; i < 256 && !reused; i++) {
      const m = BpfMap.openById(hash.kernelInfo().id);
      if (m.fd === fdNumber) reused = m;
      else extra.push(m);
    }
    expect(reused, `no reopened map landed on fd ${fdNumber}`).toBeDefined();
    perf.close(); // must delete its CPU entries through its own fd, not fd number `fdNumber`
    for (let k = 0; k < cpus; k++) expect(hash.get(k)).toBe(BigInt(100 + k));
    reused!.close();
    for (const m of extra) m.close();
  });
});
