// Typed maps: codecs from BTF for nested structs, unions, arrays and enums; user codecs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject, u32, u64, type Codec } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';

interface FlowKey { saddr: number; daddr: number; sport: number; dport: number; proto: number }
interface FlowStats {
  total: { packets: bigint; bytes: bigint };
  hist: number[];
  verdict: number | string;
  mark?: number;
  tag?: Uint8Array;
}

describeBpf('typed maps', () => {
  let obj: BpfObject;
  beforeAll(async () => {
    obj = BpfObject.open(fixturePath('maps'));
    await obj.load();
  });
  afterAll(() => obj.close());

  const key: FlowKey = { saddr: 0x010012c6, daddr: 0x020012c6, sport: 53, dport: 4000, proto: 17 };

  it('derives key and value codecs from BTF: nested struct, array, enum, union', () => {
    const flows = obj.map('flows').typed<FlowKey, FlowStats>();
    flows.set(key, { total: { packets: 3n, bytes: 1500n }, hist: [1, 2, 3, 4], verdict: 'V_DROP', tag: new Uint8Array([1, 2, 3, 4]) });
    const got = flows.get(key)!;
    expect(got.total).toEqual({ packets: 3n, bytes: 1500n });
    expect(got.hist).toEqual([1, 2, 3, 4]);
    expect(got.verdict).toBe(2);
    expect(got.mark).toBe(0x04030201);
    expect(flows.get({ ...key, sport: 54 })).toBeUndefined();
    expect(flows.dump()).toEqual([[key, got]]);
    expect(flows.delete(key)).toBe(true);
  });

  it('set() takes what the codecs encode, in the types as at run time', () => {
    const counters = obj.map('counters').typed({ key: u32, value: u64 });
    counters.set(0, 5); // u64 also encodes a safe-integer number
    counters.set(1, 6n);
    expect([counters.get(0), counters.get(1)]).toEqual([5n, 6n]);
    // `tsc` (npm run build:ts / the typecheck of test/) fails if this line type-checks.
    // @ts-expect-error a string is not a u64
    expect(() => counters.set(0, 'not a bigint')).toThrow(TypeError);
    // @ts-expect-error nor is a string a u32 key
    expect(() => counters.get('0')).toThrow(TypeError);
  });

  it('names the field that does not fit, and writes nothing', () => {
    const flows = obj.map('flows').typed<FlowKey, FlowStats>();
    const value: FlowStats = { total: { packets: 1n, bytes: 1n }, hist: [0, 0, 0, 0], verdict: 1, mark: 0 };
    expect(() => flows.set({ ...key, sport: 70000 }, value)).toThrow(/key\.sport/);
    expect(() => flows.set(key, { ...value, hist: [1, 2] })).toThrow(/value\.hist/);
    expect(() => flows.set(key, { ...value, verdict: 'V_MAYBE' })).toThrow(/V_MAYBE/);
    expect(() => flows.get({ saddr: 1 } as FlowKey)).toThrow(/key\.daddr: missing field/);
    expect(flows.has(key)).toBe(false);
  });

  it('shares the map between views, and uses user codecs where given', () => {
    const port: Codec<string> = {
      size: 4,
      encode(v, buf, off) {
        const n = Number(v.replace(/^port-/, ''));
        if (!Number.isInteger(n)) throw new TypeError(`not a port: ${v}`);
        Buffer.from(buf.buffer, buf.byteOffset).writeUInt32LE(n, off);
      },
      decode(buf, off) {
        return `port-${Buffer.from(buf.buffer, buf.byteOffset).readUInt32LE(off)}`;
      },
    };
    const hash = obj.map('hash');
    const byPort = hash.typed({ key: port });
    byPort.set('port-80', 8n);
    expect(hash.get(80)).toBe(8n);
    expect(byPort.get('port-80')).toBe(8n);
    expect([...byPort.keys()]).toContain('port-80');
    expect(() => byPort.get('port-x')).toThrow(/not a port/);
    expect(() => hash.typed({ key: { size: 4 } as never })).toThrow(TypeError);
    const wrong = hash.typed({ key: { ...port, size: 2 } });
    expect(() => wrong.get('port-1')).toThrow(/key codec is 2 bytes, the map's keys are 4/);
    hash.delete(80);
  });
});
