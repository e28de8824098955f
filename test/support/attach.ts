// Helpers for the attach, tc and test-run tests: reading per-CPU counters with bpftool (typed map
// access lives in another branch), what `ip` says about an interface, frames by hand.
import { execFileSync } from 'node:child_process';
import type { BpfMap } from '../../lib/index';
import type { VethEnd } from '../../lib/testing/index';

/**
 * The xdp_count counters for one XDP action, summed over the CPUs, read with
 * `bpftool -j map dump id <id>`.
 */
export function xdpCount(map: BpfMap, action: number): { packets: bigint; bytes: bigint } {
  const out = execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(map.id)], { encoding: 'utf8' });
  const entries = JSON.parse(out) as Array<Record<string, unknown>>;
  let packets = 0n;
  let bytes = 0n;
  for (const entry of entries) {
    // With BTF bpftool prints a `formatted` view ({ key: 2, values: [{ cpu, value: { packets, bytes } }] }).
    const view = (entry.formatted ?? entry) as { key: unknown; values: Array<{ cpu: number; value: unknown }> };
    const key = Array.isArray(view.key) ? Buffer.from((view.key as string[]).map((h) => parseInt(h, 16))).readUInt32LE(0) : Number(view.key);
    if (key !== action) continue;
    for (const { value } of view.values) {
      if (Array.isArray(value)) {
        const b = Buffer.from((value as string[]).map((h) => parseInt(h, 16)));
        packets += b.readBigUInt64LE(0);
        bytes += b.readBigUInt64LE(8);
      } else {
        const v = value as { packets: number | string; bytes: number | string };
        packets += BigInt(v.packets);
        bytes += BigInt(v.bytes);
      }
    }
  }
  return { packets, bytes };
}

export const XDP_PASS = 2;

/** What `ip -j link show` reports about the XDP program of an end, or undefined. */
export async function ipLinkXdp(end: VethEnd): Promise<{ mode: number; prog: { id: number } } | undefined> {
  const { stdout } = await end.exec('ip', ['-j', '-d', 'link', 'show', 'dev', end.ifname]);
  const [link] = JSON.parse(stdout) as Array<{ xdp?: { mode: number; prog?: { id: number } } }>;
  if (!link?.xdp?.prog) return undefined;
  return { mode: link.xdp.mode, prog: link.xdp.prog };
}

/** iproute2's numbering of XDP modes in `ip -j link` (XDP_ATTACHED_*). */
export const IP_XDP_MODE = { native: 1, skb: 2, hw: 3 } as const;

/** An Ethernet frame: destination, source, EtherType, payload. */
export function ethFrame(dst: string, src: string, etherType: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const mac = (m: string) => Buffer.from(m.split(':').map((h) => parseInt(h, 16)));
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType);
  return Buffer.concat([mac(dst), mac(src), type, Buffer.from(payload)]);
}
