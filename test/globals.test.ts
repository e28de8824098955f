// Global variables by name, typed from BTF: .rodata before load, .data/.bss before and after.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BpfObject, BpfStateError } from '../lib/index';
import { describeBpf, fixturePath } from './support/helpers';

const path = fixturePath('globals');

describe('globals before load', () => {
  it('lists every variable with its section and C type', () => {
    using obj = BpfObject.open(path);
    const names = Object.fromEntries(obj.globals.names().map((v) => [v.name, v.section]));
    expect(names).toEqual({
      ro_u32: '.rodata',
      ro_flag: '.rodata',
      ro_s64: '.rodata',
      ro_point: '.rodata',
      data_u64: '.data',
      data_arr: '.data',
      bss_hits: '.bss',
      bss_point: '.bss',
    });
    const decl = Object.fromEntries(obj.globals.names().map((v) => [v.name, v.declaration]));
    expect(decl.ro_u32).toBe('const volatile __u32 ro_u32');
    expect(decl.data_arr).toBe('__u32 data_arr[4]');
  });

  it('finds the sections when the object name has dots (objectName "my.obj")', () => {
    using obj = BpfObject.open(path, { objectName: 'my.obj' });
    const names = Object.fromEntries(obj.globals.names().map((v) => [v.name, v.section]));
    expect(names.ro_u32).toBe('.rodata');
    expect(names.data_u64).toBe('.data');
    expect(names.bss_hits).toBe('.bss');
  });

  it('reads initial values of every shape', () => {
    using obj = BpfObject.open(path);
    const g = obj.globals;
    expect(g.get('ro_u32')).toBe(7);
    expect(g.get('ro_flag')).toBe(false);
    expect(g.get('ro_s64')).toBe(-5n);
    expect(g.get('ro_point')).toEqual({ x: 1, y: -2, tag: new Uint8Array([0x61, 0x62, 0x63, 0x64]) });
    expect(g.get('data_u64')).toBe(0x1122334455667788n);
    expect(g.get('data_arr')).toEqual([1, 2, 3, 4]);
    expect(g.get('bss_hits')).toBe(0);
  });

  it('writes .rodata and reads it back', () => {
    using obj = BpfObject.open(path);
    const g = obj.globals;
    g.set('ro_u32', 11);
    g.set('ro_flag', true);
    g.set('ro_s64', -9n);
    g.set('ro_point', { x: 5, y: -6, tag: 'wxyz' });
    expect([g.get('ro_u32'), g.get('ro_flag'), g.get('ro_s64')]).toEqual([11, true, -9n]);
    expect(g.get('ro_point')).toEqual({ x: 5, y: -6, tag: new Uint8Array([0x77, 0x78, 0x79, 0x7a]) });
  });

  it('refuses unknown names and values that do not fit, and writes nothing then', () => {
    using obj = BpfObject.open(path);
    const g = obj.globals;
    expect(() => g.get('nope')).toThrow(/no global variable 'nope' in object 'globals' \(it has: .*ro_u32/);
    expect(() => g.set('ro_u32', 2 ** 32)).toThrow(RangeError);
    expect(() => g.set('ro_u32', -1)).toThrow(RangeError);
    expect(() => g.set('ro_u32', 'seven')).toThrow(TypeError);
    expect(() => g.set('data_arr', [1, 2, 3])).toThrow(/array of 4 elements/);
    expect(() => g.set('ro_point', { x: 1, y: 2, tag: 'abc', z: 1 })).toThrow(/z/);
    expect(() => g.set('ro_point', { x: 70000, y: 2, tag: 'abcd' })).toThrow(/x/);
    expect(g.get('ro_u32')).toBe(7);
    expect(g.get('ro_point')).toEqual({ x: 1, y: -2, tag: new Uint8Array([0x61, 0x62, 0x63, 0x64]) });
    expect(g.get('data_arr')).toEqual([1, 2, 3, 4]);
  });
});

describeBpf('globals after load', () => {
  it('keeps .rodata values set before load, read-only afterwards', async () => {
    using obj = BpfObject.open(path);
    obj.globals.set('ro_u32', 3);
    await obj.load();
    expect(obj.globals.get('ro_u32')).toBe(3);
    expect(() => obj.globals.set('ro_u32', 4)).toThrow(BpfStateError);
    expect(obj.globals.get('ro_u32')).toBe(3);
  });

  it('reads and writes .data and .bss in the kernel map', async () => {
    using obj = BpfObject.open(path);
    await obj.load();
    obj.globals.set('bss_hits', 41);
    obj.globals.set('data_arr', [9, 8, 7, 6]);
    expect(obj.globals.get('bss_hits')).toBe(41);
    expect(obj.globals.get('data_arr')).toEqual([9, 8, 7, 6]);
    // Read by another process (bpftool) through the map's kernel id: the value is in the kernel.
    const dump = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(obj.map('.bss').id)], { encoding: 'utf8' }));
    const bss = Buffer.from(dump[0].value.map((b: string) => parseInt(b, 16)));
    expect(bss.readUInt32LE(0)).toBe(41);
  });
});
