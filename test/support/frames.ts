// Test frames built byte by byte: Ethernet (with VLAN tags), IPv4, IPv6, TCP, UDP, ICMP(v6).
// Checksums are left zero: the programs under test never verify them.
import { isIPv4 } from 'node:net';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, FRAGMENT: 44, HOPOPTS: 0, GRE: 47 } as const;

/** 4 or 16 bytes of an IPv4 or IPv6 address in text form. */
export function addrBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  const [head, tail = ''] = addr.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = addr.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** 16 bytes: the address as struct pkt_info stores it (IPv4-mapped for IPv4). */
export function mappedBytes(addr: string): Buffer {
  if (!isIPv4(addr)) return addrBytes(addr);
  return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), addrBytes(addr)]);
}

/** An Ethernet frame; `vlans` are VLAN IDs, outermost first (802.1ad outer tag for two). */
export function eth(etherType: number, payload: Uint8Array, vlans: number[] = []): Buffer {
  const macs = Buffer.from('020000000002' + '020000000001', 'hex'); // destination, source
  // Each tag is a TPID then a TCI; two tags make a QinQ frame with an 802.1ad outer TPID.
  const tags = vlans.map((vid, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(vlans.length === 2 && i === 0 ? ETH_P_8021AD : ETH_P_8021Q, 0);
    t.writeUInt16BE(vid, 2);
    return t;
  });
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType, 0);
  return Buffer.concat([macs, ...tags, type, payload]);
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  /** Header length in 4-byte words (default 5). Values below 5 make a malformed header. */
  ihl?: number;
  /** More-fragments flag. */
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
}

export function ipv4(o: Ipv4Options, payload: Uint8Array): Buffer {
  const ihl = o.ihl ?? 5;
  const h = Buffer.alloc(Math.max(ihl, 5) * 4);
  h[0] = 0x40 | ihl;
  h.writeUInt16BE(h.length + payload.length, 2);
  h.writeUInt16BE((o.mf ? 0x2000 : 0) | (o.fragOffset ?? 0), 6);
  h[8] = 64;
  h[9] = o.proto;
  addrBytes(o.src).copy(h, 12);
  addrBytes(o.dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

export interface Ipv6Options {
  src: string;
  dst: string;
  proto: number;
  /** Insert a fragment header with this offset (8-byte units) and more-fragments flag. */
  fragment?: { offset: number; mf: boolean };
  /** Insert an 8-byte hop-by-hop options header first. */
  hopByHop?: boolean;
}

export function ipv6(o: Ipv6Options, payload: Uint8Array): Buffer {
  const exts: Buffer[] = [];
  const nexts: number[] = [];
  if (o.hopByHop) {
    exts.push(Buffer.from([0, 0, 1, 4, 0, 0, 0, 0])); // next set below; PadN option
    nexts.push(IPPROTO.HOPOPTS);
  }
  if (o.fragment) {
    const f = Buffer.alloc(8);
    f.writeUInt16BE((o.fragment.offset << 3) | (o.fragment.mf ? 1 : 0), 2);
    f.writeUInt32BE(0x1234, 4);
    exts.push(f);
    nexts.push(IPPROTO.FRAGMENT);
  }
  // Chain the next-header fields: fixed header -> ext[0] -> ext[1] -> proto.
  const chain = [...nexts, o.proto];
  exts.forEach((e, i) => (e[0] = chain[i + 1]));
  const body = Buffer.concat([...exts, payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(body.length, 4);
  h[6] = chain[0];
  h[7] = 64;
  addrBytes(o.src).copy(h, 8);
  addrBytes(o.dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

export function udp(sport: number, dport: number, payload = Buffer.from('hello')): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function tcp(sport: number, dport: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h[12] = 5 << 4;
  h[13] = 0x02; // SYN
  return h;
}

/** ICMP or ICMPv6: type, code, checksum, then 4 bytes (echo id and sequence). */
export function icmp(type: number, code: number): Buffer {
  return Buffer.from([type, code, 0, 0, 0, 1, 0, 1]);
}

/** Pads a frame with zeros to at least `len` bytes (the minimum Ethernet frame is 60). */
export function pad(frame: Buffer, len = 60): Buffer {
  return frame.length >= len ? frame : Buffer.concat([frame, Buffer.alloc(len - frame.length)]);
}
