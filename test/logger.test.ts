// libbpf's log goes to the JS logger, and nowhere when none is set.
// @module-tag threads
import { afterEach, describe, expect, it } from 'vitest';
import { BpfObject, libbpfVersion, setLogger, shippedObjectPath, type LogLevel } from '../lib/index';
import { describeBpf, fixturePath } from './support/helpers';

afterEach(() => setLogger(null));

describe('logger', () => {
  it('reports the pinned libbpf version', () => {
    expect(libbpfVersion()).toBe('v1.5');
  });

  it('delivers libbpf messages for a failed open to the logger', () => {
    const seen: [LogLevel, string][] = [];
    setLogger((level, msg) => seen.push([level, msg]));
    expect(() => BpfObject.open(Buffer.alloc(64, 1))).toThrow();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.some(([level]) => level === 'warn')).toBe(true);
    expect(seen.every(([, msg]) => !msg.endsWith('\n'))).toBe(true);
  });

  it('hands over messages without libbpf\'s own "libbpf: " prefix, so a logger adds its own once', () => {
    const seen: string[] = [];
    setLogger((_level, msg) => seen.push(msg));
    expect(() => BpfObject.open(Buffer.alloc(64, 1))).toThrow();
    // libbpf says "libbpf: elf: ..." here; the prefix is gone, the rest is intact.
    expect(seen.some((msg) => msg.startsWith('elf: '))).toBe(true);
    expect(seen.filter((msg) => msg.startsWith('libbpf:'))).toEqual([]);
  });

  it('does not report the BTF-only .types.unused section of the shipped objects, but reports its other info', () => {
    const seen: [LogLevel, string][] = [];
    setLogger((level, msg) => seen.push([level, msg]));
    using obj = BpfObject.open(shippedObjectPath('xdp_sampler')); // carries a .types.unused section
    expect(obj.name).toBe('xdp_sampler');
    // (libbpf's debug level lists every ELF section, this one included; that stays.)
    expect(seen.filter(([level, msg]) => level !== 'debug' && msg.includes('.types.unused'))).toEqual([]);
    expect(seen.some(([level, msg]) => level === 'debug' && msg.includes('.types.unused'))).toBe(true);
    expect(seen.some(([level]) => level === 'info' || level === 'debug')).toBe(true); // the logger did hear libbpf
  });

  it('survives a logger that throws', () => {
    let calls = 0;
    setLogger(() => {
      calls++;
      throw new Error('boom');
    });
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    expect(calls).toBeGreaterThan(0); // libbpf logs while opening: the throwing logger ran
    expect(obj.name).toBe('xdp_pass');
  });

  it('rejects a logger that is not a function', () => {
    // @ts-expect-error wrong type on purpose
    expect(() => setLogger('console')).toThrow(TypeError);
  });
});

describeBpf('logger during async load', () => {
  it('receives the messages of a load that ran on a worker thread, before it settles', async () => {
    const seen: string[] = [];
    setLogger((level, msg) => seen.push(`${level}: ${msg}`));
    using obj = BpfObject.open(fixturePath('verifier_reject'));
    await expect(obj.load()).rejects.toThrow();
    expect(seen.some((m) => m.includes('BEGIN PROG LOAD LOG') || m.includes('failed to load'))).toBe(true);
  });
});
