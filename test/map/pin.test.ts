// Pinning: pin/unpin, openPinned with sizes and BTF from the kernel, pin roots shared by two
// processes, reuse(), and pin paths that are refused.
// @module-tag kernel-slice
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfError, BpfMap, BpfObject, BpfStateError } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';
import { scaledMs } from '../support/kernel';

const root = join(__dirname, '..', '..');
const pinRoot = `/sys/fs/bpf/libbpf-node-test-${process.pid}`;

/** Runs `script` in a child node process that has the built package as `lib`. */
function child(script: string): string {
  const prelude = `const lib = require(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});\n`;
  return execFileSync(process.execPath, ['-e', prelude + script], { encoding: 'utf8' }).trim();
}

describeBpf('pinned maps', () => {
  beforeAll(() => {
    // The child process runs the compiled package.
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')]);
    mkdirSync(pinRoot, { recursive: true });
  }, scaledMs(120_000));
  afterAll(() => rmSync(pinRoot, { recursive: true, force: true }));

  it('pins, opens the pin with sizes and BTF from the kernel, and unpins', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const flows = obj.map('flows');
    const path = `${pinRoot}/flows`;
    flows.pin(path);
    expect(flows.pinned).toBe(true);
    const key = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6 };
    flows.typed().set(key, { total: { packets: 1n, bytes: 2n }, hist: [0, 0, 0, 0], verdict: 1, mark: 5 });
    {
      using pinned = BpfMap.openPinned(path);
      expect(pinned.object).toBeUndefined();
      const { name, type, keySize, maxEntries, pinPath } = pinned;
      expect({ name, type, keySize, maxEntries, pinPath }).toEqual({ name: 'flows', type: 'hash', keySize: 16, maxEntries: 64, pinPath: path });
      expect(pinned.id).toBe(flows.id);
      expect(pinned.typed().get(key)).toMatchObject({ total: { packets: 1n, bytes: 2n }, mark: 5 });
      pinned.close();
      pinned.close(); // idempotent
      expect(() => pinned.get(Buffer.alloc(16))).toThrow(BpfStateError);
    }
    flows.unpin();
    expect(existsSync(path)).toBe(false);
    expect(() => BpfMap.openPinned(path)).toThrow(expect.objectContaining({ code: 'ENOENT', op: 'bpf_obj_get' }));
  });

  it('refuses pin paths outside bpffs, relative or with ..', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const hash = obj.map('hash');
    expect(() => hash.pin('/tmp/hash')).toThrow(/not inside a bpffs mount/);
    expect(() => hash.pin(`${pinRoot}/../hash`)).toThrow(/\.\./);
    expect(() => hash.pin('hash')).toThrow(/absolute/);
    expect(() => BpfMap.openPinned('/etc/passwd')).toThrow(RangeError);
    expect(() => hash.pin(`${pinRoot}/no/such/dir/hash`)).toThrow(/does not exist/);
  });

  it('reports a bpffs entry that is not a pinned map', () => {
    expect(() => BpfMap.openPinned(pinRoot)).toThrow(BpfError); // a folder
  });

  it('shares a map pinned by name between two processes', async () => {
    const opts = { pinRoot };
    using obj = BpfObject.open(fixturePath('pinned'), opts);
    await obj.load();
    const shared = obj.map('shared').typed<number, { pid: number; hits: number; comm: Uint8Array | string }>();
    expect(shared.pinPath).toBe(`${pinRoot}/shared`);
    shared.set(0, { pid: process.pid, hits: 0, comm: 'parent' });
    testRun(obj.program('xdp_pinned'), 5);

    // A second process opens the same object with the same pin root: libbpf reuses the pin.
    const out = child(`
      const obj = lib.BpfObject.open(${JSON.stringify(fixturePath('pinned'))}, { pinRoot: ${JSON.stringify(pinRoot)} });
      obj.loadSync();
      const m = obj.map('shared').typed();
      const seen = m.get(0);
      m.set(1, { pid: process.pid, hits: seen.hits + 1, comm: 'child' });
      // And through the pin path alone, with BTF from the kernel.
      const byPath = lib.BpfMap.openPinned(${JSON.stringify(`${pinRoot}/shared`)}).typed();
      console.log(JSON.stringify({ hits: seen.hits, keys: [...byPath.keys()].sort() }));
      byPath.close();
      obj.close();
    `);
    expect(JSON.parse(out)).toEqual({ hits: 5, keys: [0, 1] });
    const fromChild = shared.get(1)!;
    expect(fromChild.hits).toBe(6);
    expect(fromChild.pid).not.toBe(process.pid);
    expect(Buffer.from(fromChild.comm as Uint8Array).toString('latin1').replace(/\0+$/, '')).toBe('child');
    obj.map('shared').unpin();
  });

  it('reuse(): a second object uses the first one\'s map', async () => {
    using a = BpfObject.open(fixturePath('maps'));
    await a.load();
    using b = BpfObject.open(fixturePath('maps'));
    b.map('counters').reuse(a.map('counters'));
    await b.load();
    expect(b.map('counters').id).toBe(a.map('counters').id);
    testRun(b.program('xdp_fill'), 4);
    expect(a.map('counters').get(3)).toBe(4n);
    expect(() => b.map('hash').reuse(a.map('hash'))).toThrow(/already loaded/);
  });
});
