// Raw Ethernet frames for the kit: building them (UDP over IPv4, with knobs to break them) and
// putting them on, or taking them off, a veth end through the addon's AF_PACKET socket.

import type { NativeBinding, NativePacketSocket } from '../internal/native.js';
import { TestNetError } from './errors.js';

/**
 * The addon, loaded on first use: the rest of the kit (namespaces, agents, UDP/TCP/ICMP) works
 * without it, e.g. before the native build or from a copy of the kit.
 */
let addon: Promise<NativeBinding> | undefined;
function loadAddon(): Promise<NativeBinding> {
  addon ??= import('../internal/native.js').then((m: { binding?: NativeBinding; default?: { binding: NativeBinding } }) => (m.binding ?? m.default!.binding));
  return addon;
}

/** Options of {@link udpFrame}. */
export interface UdpFrameOptions {
  /** Source and destination MAC addresses, `'02:6c:62:00:00:0b'` form. */
  srcMac: string;
  dstMac: string;
  /** Source and destination IPv4 addresses. */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** The UDP payload. Default: empty. */
  payload?: Uint8Array | string;
  /**
   * The IPv4 header length field in 32-bit words (default 5, the correct value for a header
   * without options). Anything else makes a malformed packet, for tests of parsers.
   */
  ihl?: number;
  /** Time to live. Default 64. */
  ttl?: number;
}

function macBytes(mac: string, name: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) throw new TypeError(`${name} must be a MAC address like 02:00:00:00:00:01, got ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

function ipv4Bytes(ip: string, name: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) throw new TypeError(`${name} must be an IPv4 address, got ${ip}`);
  return Buffer.from(parts);
}

function checksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An Ethernet frame carrying a UDP datagram over IPv4 (header checksum set, UDP checksum 0,
 * which IPv4 allows). With `ihl` other than 5 the IPv4 header is deliberately malformed.
 *
 * @example
 * ```ts
 * const frame = udpFrame({ srcMac: net.b.mac, dstMac: net.a.mac, srcIp: net.b.ipv4, dstIp: net.a.ipv4, srcPort: 4000, dstPort: 9000, payload: 'hi' });
 * ```
 */
export function udpFrame(options: UdpFrameOptions): Buffer {
  const payload = options.payload === undefined ? Buffer.alloc(0) : Buffer.from(options.payload);
  const ihl = options.ihl ?? 5;
  if (!Number.isInteger(ihl) || ihl < 0 || ihl > 15) throw new RangeError(`ihl must be an integer in [0, 15], got ${ihl}`);
  for (const [name, port] of [['srcPort', options.srcPort], ['dstPort', options.dstPort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${name} must be in [0, 65535], got ${port}`);
  }
  const eth = Buffer.concat([macBytes(options.dstMac, 'dstMac'), macBytes(options.srcMac, 'srcMac'), Buffer.from([0x08, 0x00])]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(options.srcPort, 0);
  udp.writeUInt16BE(options.dstPort, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x40 | ihl;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = options.ttl ?? 64;
  ip[9] = 17; // UDP
  ipv4Bytes(options.srcIp, 'srcIp').copy(ip, 12);
  ipv4Bytes(options.dstIp, 'dstIp').copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** An AF_PACKET socket on one interface of one namespace. @internal */
export async function openPacketSocket(op: string, ifname: string, netnsPath: string): Promise<NativePacketSocket> {
  const binding = await loadAddon();
  try {
    return new binding.NativePacketSocket({ name: ifname, netns: netnsPath });
  } catch (err) {
    throw new TestNetError(op, `cannot open a packet socket on ${ifname} in ${netnsPath}: ${(err as Error).message}`, {
      code: (err as { code?: string }).code,
    }, { cause: err });
  }
}
