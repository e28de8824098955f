// Every map type a loader needs, against the real kernel: per-CPU, LPM trie, queue and stack,
// prog array, maps of maps, devmap, cpumap.
// @module-tag kernel-slice
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfMap, BpfObject, cidrKey, sumPerCpu, u32 } from '../../lib/index';
import { binding } from '../../lib/internal/native';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

describeBpf('map types', () => {
  let obj: BpfObject;
  const ncpus = binding.numPossibleCpus();
  beforeAll(async () => {
    obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
  });
  afterAll(() => obj.close());

  it('per-CPU hash: one value per possible CPU, and their sum', () => {
    const m = obj.map('pcpu_hash');
    const values = Array.from({ length: ncpus }, (_, i) => BigInt(i + 1));
    m.set(1, values);
    expect(m.get(1)).toEqual(values);
    expect(sumPerCpu(m.get(1) as bigint[])).toBe(BigInt((ncpus * (ncpus + 1)) / 2));
    // One value too many is wrong on any machine, a one-CPU guest of the kernel matrix included.
    expect(() => m.set(2, Array.from({ length: ncpus + 1 }, () => 1n))).toThrow(/one value per possible CPU/);
    expect(() => m.set(2, 5n)).toThrow(TypeError);
  });

  it('per-CPU array: 4-byte values padded to 8 per CPU', () => {
    const m = obj.map('pcpu_array');
    m.set(2, Array.from({ length: ncpus }, () => 3));
    expect(m.get(2)).toEqual(Array.from({ length: ncpus }, () => 3));
    expect(sumPerCpu(m.get(2) as number[])).toBe(3 * ncpus);
    expect(m.get(0)).toEqual(Array.from({ length: ncpus }, () => 0));
  });

  it('LPM trie: CIDR keys, longest prefix match, IPv4 and IPv6', () => {
    const v4 = obj.map('lpm4');
    v4.set('203.0.113.0/24', 24);
    v4.set('203.0.113.128/25', 25);
    expect(v4.get('203.0.113.7')).toBe(24);
    expect(v4.get('203.0.113.200')).toBe(25);
    expect(v4.get('198.51.100.1')).toBeUndefined();
    expect(new Set([...v4.keys()])).toEqual(new Set(['203.0.113.0/24', '203.0.113.128/25']));
    expect(v4.delete('203.0.113.128/25')).toBe(true);
    expect(v4.get('203.0.113.200')).toBe(24);
    expect(() => v4.get('203.0.113.0/33')).toThrow(RangeError);
    expect(() => v4.get('fd00::1')).toThrow(RangeError);
    const v6 = obj.map('lpm6').typed({ key: cidrKey('ipv6'), value: u32 });
    v6.set('2001:db8::/32', 32);
    expect(v6.get('2001:db8::1')).toBe(32);
    expect(v6.dump()).toEqual([['2001:db8::/32', 32]]);
  });

  it('queue and stack: push, peek, pop; full and empty', () => {
    const q = obj.map('queue');
    for (const v of [1, 2, 3, 4]) q.push(v);
    expect(() => q.push(5)).toThrow(expect.objectContaining({ code: 'E2BIG' }));
    q.push(5, { overwrite: true }); // drops 1
    expect(q.peek()).toBe(2);
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([2, 3, 4, 5, undefined]);
    const s = obj.map('stack');
    s.push(1);
    s.push(2);
    expect([s.peek(), s.pop(), s.pop(), s.pop()]).toEqual([2, 2, 1, undefined]);
    expect(() => s.push('x' as never)).toThrow(TypeError);
  });

  it('prog array: stores a program (or fd), reads back its id, and the tail call runs it', () => {
    const jmp = obj.map('jmp_table');
    const tail = obj.program('xdp_tail');
    expect(testRun(obj.program('xdp_fill'))).toBe(2); // XDP_PASS: no tail call yet
    jmp.set(0, tail);
    expect(jmp.get(0)).toBe(tail.id);
    expect(testRun(obj.program('xdp_fill'))).toBe(1); // XDP_DROP from xdp_tail
    jmp.set(1, tail.fd);
    expect(jmp.get(1)).toBe(tail.id);
    expect(jmp.get(2)).toBeUndefined();
    expect(jmp.delete(0)).toBe(true);
    expect(() => jmp.set(3, obj.map('hash') as never)).toThrow(); // a map fd is not a program
    expect(() => jmp.set(3, 'prog' as never)).toThrow(TypeError);
  });

  it('array and hash of maps: store inner maps, read back their ids, open them by id', () => {
    const inner = obj.map('inner_a');
    inner.set(0, 42);
    for (const name of ['outer_array', 'outer_hash']) {
      const outer = obj.map(name);
      outer.set(1, inner);
      expect(outer.get(1)).toBe(inner.id);
      using opened = BpfMap.openById(outer.get(1) as number);
      expect(opened.get(0)).toBe(42);
      outer.set(1, obj.map('inner_b').fd);
      expect(outer.get(1)).toBe(obj.map('inner_b').id);
    }
  });

  it('devmap and cpumap: plain ifindex and queue-size values', () => {
    const dev = obj.map('devmap');
    dev.set(0, 1); // lo
    expect(dev.get(0)).toBe(1);
    expect(dev.delete(0)).toBe(true);
    const cpu = obj.map('cpumap');
    cpu.set(0, 192);
    expect(cpu.get(0)).toBe(192);
    expect(cpu.delete(0)).toBe(true);
  });
});
