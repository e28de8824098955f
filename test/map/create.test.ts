// BpfMap.create (a map of no object: inner maps of map-in-maps) and obj.pinMaps / unpinMaps.
import { existsSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BpfError, BpfMap, BpfObject, BpfStateError } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';

describeBpf('BpfMap.create', () => {
  it('creates a hash map the kernel describes as asked, usable at once', () => {
    using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: 'lbn_create' });
    expect(map.kernelInfo()).toMatchObject({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: 'lbn_create' });
    map.set(Buffer.from([1, 0, 0, 0]), Buffer.alloc(8, 7));
    expect(map.get(Buffer.from([1, 0, 0, 0]))).toBe(0x0707070707070707n);
  });

  it('makes an array_of_maps around an inner map, and puts the inner map in a slot', () => {
    using inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    using outer = BpfMap.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner });
    expect(outer.kernelInfo().type).toBe('array_of_maps');
    outer.set(Buffer.from([0, 0, 0, 0]), inner.fd as never);
    // The kernel reports the inner map's id where the fd went in.
    expect(outer.get(Buffer.from([0, 0, 0, 0]))).toBe(inner.id);
  });

  it('refuses bad options before the syscall, and says what the kernel refused', () => {
    expect(() => BpfMap.create({ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 })).toThrow(RangeError);
    expect(() => BpfMap.create({ type: '', keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(RangeError);
    expect(() => BpfMap.create({ type: 'no_such_type', keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(/unknown map type 'no_such_type'/);
    expect(() => BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'x'.repeat(16) })).toThrow(RangeError);
    expect(() => BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, inner: 1 } as never)).toThrow(/unknown option 'inner'/);
    expect(() => BpfMap.create({ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(BpfError);
    expect(() => BpfMap.create({ type: 'hash', keySize: 0, valueSize: 4, maxEntries: 1 })).toThrow(/map type 'hash'/);
  });
});

describeBpf('obj.pinMaps / unpinMaps', () => {
  const dir = `/sys/fs/bpf/lbn-i13-maps-${process.pid}-${randomBytes(3).toString('hex')}`;
  afterEach(() => {
    if (existsSync(dir)) rmdirSync(dir);
  });

  it('pins every map under a directory, for another opener, and removes the pins', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    expect(() => obj.pinMaps(dir)).toThrow(BpfStateError);
    await obj.load();
    const paths = obj.pinMaps(dir);
    expect(paths.length).toBe(obj.maps.filter((m) => !m.internal).length);
    expect(paths).toContain(`${dir}/counters`);
    for (const p of paths) expect(existsSync(p)).toBe(true);
    using again = BpfMap.openPinned(`${dir}/counters`);
    expect(again.id).toBe(obj.map('counters').id);
    // Again for the same object: already pinned there, nothing to do (as libbpf).
    expect(obj.pinMaps(dir)).toEqual(paths);
    // Another object's maps: the paths are taken; its failure removes nothing of the first.
    {
      using other = BpfObject.open(fixturePath('maps'));
      await other.load();
      expect(() => other.pinMaps(dir)).toThrow(/EEXIST|already exists/);
    }
    for (const p of paths) expect(existsSync(p)).toBe(true);
    expect(obj.unpinMaps(dir).sort()).toEqual([...paths].sort());
    for (const p of paths) expect(existsSync(p)).toBe(false);
    expect(obj.unpinMaps(dir)).toEqual([]);
  });

  it('refuses a directory outside bpffs before making any of it, and types what mkdir refuses', async () => {
    using obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
    const outside = join(tmpdir(), `lbn-not-bpffs-${process.pid}-${randomBytes(3).toString('hex')}`);
    expect(() => obj.pinMaps(`${outside}/a/b`)).toThrow(/is not inside a bpffs mount/);
    expect(existsSync(outside)).toBe(false);
    // In bpffs, below a pin (a file): the folder cannot be made, and says so as a BpfError.
    const paths = obj.pinMaps(dir);
    try {
      const err = (() => {
        try {
          obj.pinMaps(`${paths[0]}/sub`);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(BpfError);
      expect(err).toMatchObject({ op: 'mkdir', code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    } finally {
      obj.unpinMaps(dir);
    }
  });
});
