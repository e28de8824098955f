// The pcapng writer: block layout (lengths, padding, options) checked byte by byte, bad input,
// and tshark reading a file it wrote (comments, original length, nanosecond timestamps).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapngWriter, pcapngInterfaceBlock, pcapngPacketBlock, pcapngSectionHeader } from '../lib/index';
import { udpFrame } from '../lib/testing/frames';

/** Splits a file into blocks, checking that each one's two length fields agree. */
function blocks(file: Buffer): Array<{ type: number; body: Buffer }> {
  const out: Array<{ type: number; body: Buffer }> = [];
  for (let off = 0; off < file.length; ) {
    const len = file.readUInt32LE(off + 4);
    expect(len % 4).toBe(0);
    expect(file.readUInt32LE(off + len - 4)).toBe(len);
    out.push({ type: file.readUInt32LE(off), body: file.subarray(off + 8, off + len - 4) });
    off += len;
  }
  return out;
}

describe('pcapng writer', () => {
  it('writes a section header, interfaces and packets with padded data and comments', () => {
    const chunks: Buffer[] = [];
    const w = new PcapngWriter((b) => chunks.push(b));
    const id = w.addInterface({ name: 'veth0', snaplen: 128 });
    w.packet({ interfaceId: id, timestamp: 0x1_0000_0002n, data: Buffer.from('abcde'), originalLength: 60, comment: 'slot 0 action drop' });
    const bs = blocks(Buffer.concat(chunks));
    expect(bs.map((b) => b.type)).toEqual([0x0a0d0d0a, 1, 6]);
    expect(bs[0]!.body.readUInt32LE(0)).toBe(0x1a2b3c4d);
    expect(bs[1]!.body.readUInt16LE(0)).toBe(1); // Ethernet
    expect(bs[1]!.body.readUInt32LE(4)).toBe(128);
    const epb = bs[2]!.body;
    expect([epb.readUInt32LE(0), epb.readUInt32LE(4), epb.readUInt32LE(8), epb.readUInt32LE(12), epb.readUInt32LE(16)]).toEqual([0, 1, 2, 5, 60]);
    expect(epb.subarray(20, 28)).toEqual(Buffer.from('abcde\0\0\0'));
    expect(epb.readUInt16LE(28)).toBe(1); // opt_comment
    expect(epb.subarray(32, 32 + epb.readUInt16LE(30)).toString()).toBe('slot 0 action drop');
    expect(w.packets).toBe(1);
  });

  it('refuses bad input, writing nothing', () => {
    const chunks: Buffer[] = [];
    const w = new PcapngWriter((b) => chunks.push(b));
    const n = chunks.length;
    expect(() => w.packet({ interfaceId: 0, timestamp: 0n, data: Buffer.alloc(1) })).toThrow(RangeError);
    w.addInterface();
    expect(() => w.packet({ interfaceId: 0, timestamp: 1 as never, data: Buffer.alloc(1) })).toThrow(TypeError);
    expect(() => w.packet({ interfaceId: 0, timestamp: 0n, data: 'x' as never })).toThrow(TypeError);
    expect(() => w.packet({ interfaceId: 0, timestamp: 0n, data: Buffer.alloc(10), originalLength: 5 })).toThrow(RangeError);
    expect(() => pcapngInterfaceBlock({ linkType: 70000 })).toThrow(RangeError);
    expect(() => new PcapngWriter('x' as never)).toThrow(TypeError);
    expect(chunks.length).toBe(n + 1); // only the interface
  });

  it('tshark reads what it writes: comment, original length and nanosecond time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbn-pcapng-'));
    try {
      const frame = udpFrame({ srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01', srcIp: '198.18.0.2', dstIp: '198.18.0.1', srcPort: 4000, dstPort: 9000, payload: Buffer.from('hello') });
      const ts = 1_700_000_000_123_456_789n;
      const file = Buffer.concat([
        pcapngSectionHeader(),
        pcapngInterfaceBlock({ name: 'veth0' }),
        pcapngPacketBlock({ interfaceId: 0, timestamp: ts, data: frame.subarray(0, 40), originalLength: frame.length, comment: 'slot 3 action pass' }),
      ]);
      writeFileSync(join(dir, 'f.pcapng'), file);
      const r = spawnSync('tshark', ['-r', join(dir, 'f.pcapng'), '-T', 'fields', '-e', 'frame.comment', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch', '-e', 'ip.src'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\t')).toEqual(['slot 3 action pass', String(frame.length), '40', '1700000000.123456789', '198.18.0.2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
