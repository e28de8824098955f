// struct(): a codec for C structs built from field codecs, for records without BTF.
import { expect, it, describe } from 'vitest';
import { BpfObject, bytes, i8, struct, u16, u32, u64, u8, type Codec } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';
import { testRun } from '../support/run';

describe('struct codec', () => {
  it('lays fields out as C does: aligned, padded, size rounded to the widest field', () => {
    // struct { __u32 pid; char comm[16]; __u64 ts; }: ts at 24 (4 bytes of padding), size 32.
    const event = struct({ pid: u32, comm: bytes(16), ts: u64 });
    expect(event.size).toBe(32);
    expect(event.align).toBe(8);
    const buf = Buffer.alloc(32, 0xff);
    const comm = Buffer.alloc(16);
    comm.write('node');
    event.encode({ pid: 7, comm, ts: 5n }, buf, 0);
    expect(buf.readUInt32LE(0)).toBe(7);
    expect(buf.subarray(4, 20)).toEqual(comm);
    expect(buf.subarray(20, 24)).toEqual(Buffer.alloc(4)); // padding written as zeros
    expect(buf.readBigUInt64LE(24)).toBe(5n);
    expect(event.decode(buf, 0)).toEqual({ pid: 7, comm: new Uint8Array(comm), ts: 5n });
    // struct { __u8 a; __u16 b; __u8 c; }: b at 2, c at 4, size 6.
    expect(struct({ a: u8, b: u16, c: u8 }).size).toBe(6);
  });

  it('nests, packs, and honours an alignment a user codec states', () => {
    const inner = struct({ a: u8, b: u64 }); // 16 bytes, align 8
    const outer = struct({ tag: u8, inner }); // inner at 8: size 24
    expect(outer.size).toBe(24);
    const buf = Buffer.alloc(24);
    outer.encode({ tag: 1, inner: { a: 2, b: 3n } }, buf, 0);
    expect(buf[8]).toBe(2);
    expect(buf.readBigUInt64LE(16)).toBe(3n);
    expect(struct({ a: u8, b: u32 }, { packed: true }).size).toBe(5);
    const be16: Codec<number> & { align: number } = {
      size: 2,
      align: 2,
      encode: (v, b, o) => { b[o] = v >> 8; b[o + 1] = v & 0xff; },
      decode: (b, o) => (b[o]! << 8) | b[o + 1]!,
    };
    const s = struct({ flag: i8, port: be16 });
    expect(s.size).toBe(4);
    const b2 = Buffer.alloc(4);
    s.encode({ flag: -1, port: 0x1234 }, b2, 0);
    expect([...b2]).toEqual([0xff, 0, 0x12, 0x34]);
  });

  it('names the wrong field and writes nothing', () => {
    const event = struct({ pid: u32, comm: bytes(4) });
    const buf = Buffer.alloc(8, 0xaa);
    expect(() => event.encode({ pid: 1, comm: Buffer.alloc(3) }, buf, 0)).toThrow(/^value\.comm/);
    expect(() => event.encode({ pid: -1, comm: Buffer.alloc(4) }, buf, 0)).toThrow(/value\.pid/);
    expect(() => event.encode({ pid: 1 } as never, buf, 0)).toThrow(/value\.comm: missing/);
    expect(buf).toEqual(Buffer.alloc(8, 0xaa));
    expect(() => struct({ x: 5 as never })).toThrow(TypeError);
    expect(() => struct({ x: u8 }, { align: 3 })).toThrow(RangeError);
  });
});

describeBpf('struct codec on real records', () => {
  it('decodes the ring buffer records of a program with no help from BTF', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    await obj.load();
    // struct event { __u64 seq; __u32 len; __u32 magic; } in test/bpf/ringbuf.bpf.c
    using rb = obj.ringbuf('events', { codec: struct({ seq: u64, len: u32, magic: u32 }) });
    testRun(obj.program('xdp_ringbuf'), 2);
    const got = [];
    for await (const e of rb) {
      got.push(e);
      if (got.length === 2) break;
    }
    expect(got).toEqual([0n, 1n].map((seq) => ({ seq, len: 64, magic: 0xfeedbeef })));
  });
});
