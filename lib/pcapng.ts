/**
 * A small pcapng writer (the capture file format of Wireshark, tshark and tcpdump): a section
 * header, one interface description per interface, and enhanced packet blocks with the original
 * length and an optional comment per packet. Blocks are little-endian, as the byte-order magic
 * tells readers. Format: IETF draft-ietf-opsawg-pcapng.
 *
 * @module
 */
import { checkNonEmptyString, checkObject, checkUint32, describe } from './internal/validate';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;

/** Link type of Ethernet frames (LINKTYPE_ETHERNET). */
export const LINKTYPE_ETHERNET = 1;

/** An interface of a pcapng file. */
export interface PcapngInterface {
  /** Its name (`if_name`), e.g. `eth0`. */
  name?: string;
  /** A description (`if_description`). */
  description?: string;
  /** The link type; default {@link LINKTYPE_ETHERNET}. */
  linkType?: number;
  /** The most bytes kept of a packet; 0 (default) means no limit. */
  snaplen?: number;
}

/** A packet of a pcapng file. */
export interface PcapngPacket {
  /** The interface's index, as {@link PcapngWriter.addInterface} returned it. */
  interfaceId: number;
  /** When it was captured, in nanoseconds since the Unix epoch. */
  timestamp: bigint;
  /** The bytes captured. */
  data: Uint8Array;
  /** Its length on the wire (at least `data.length`); default `data.length`. */
  originalLength?: number;
  /** A comment (`opt_comment`), shown by `tshark -T fields -e frame.comment`. */
  comment?: string;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Options, each `{ code, value }`, with the end-of-options marker; empty when there are none. */
function options(opts: Array<[number, Uint8Array]>): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const size = opts.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4;
  const b = Buffer.alloc(size);
  let off = 0;
  for (const [code, v] of opts) {
    if (v.length > 0xffff) throw new RangeError(`a pcapng option holds at most 65535 bytes, got ${v.length}`);
    b.writeUInt16LE(code, off);
    b.writeUInt16LE(v.length, off + 2);
    b.set(v, off + 4);
    off += 4 + pad4(v.length);
  }
  b.writeUInt16LE(OPT_END, off);
  return b;
}

function block(type: number, body: Buffer[]): Buffer {
  const bodyLen = body.reduce((n, b) => n + b.length, 0);
  const total = 12 + bodyLen;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  let off = 8;
  for (const part of body) {
    b.set(part, off);
    off += part.length;
  }
  b.writeUInt32LE(total, off);
  return b;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * The section header block that starts a pcapng file.
 * @param application Who wrote the file (`shb_userappl`).
 */
export function pcapngSectionHeader(application = 'libbpf-node'): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  head.writeUInt16LE(1, 4); // major
  head.writeUInt16LE(0, 6); // minor
  head.writeBigInt64LE(-1n, 8); // section length: not given
  return block(SHB, [head, options([[SHB_USERAPPL, text(application)], [SHB_OS, text(`Linux`)]])]);
}

/** An interface description block, with nanosecond timestamps (`if_tsresol` 9). */
export function pcapngInterfaceBlock(iface: PcapngInterface): Buffer {
  const linkType = iface.linkType ?? LINKTYPE_ETHERNET;
  checkUint32(linkType, 'linkType');
  if (linkType > 0xffff) throw new RangeError(`linkType must be in [0, 65535], got ${linkType}`);
  const snaplen = iface.snaplen ?? 0;
  checkUint32(snaplen, 'snaplen');
  const head = Buffer.alloc(8);
  head.writeUInt16LE(linkType, 0);
  head.writeUInt32LE(snaplen, 4);
  const opts: Array<[number, Uint8Array]> = [];
  if (iface.name !== undefined) {
    checkNonEmptyString(iface.name, 'name');
    opts.push([IF_NAME, text(iface.name)]);
  }
  if (iface.description !== undefined) {
    checkNonEmptyString(iface.description, 'description');
    opts.push([IF_DESCRIPTION, text(iface.description)]);
  }
  opts.push([IF_TSRESOL, Uint8Array.of(9)]);
  return block(IDB, [head, options(opts)]);
}

/** An enhanced packet block (timestamps in nanoseconds: see {@link pcapngInterfaceBlock}). */
export function pcapngPacketBlock(packet: PcapngPacket): Buffer {
  checkObject(packet, 'packet');
  checkUint32(packet.interfaceId, 'packet.interfaceId');
  if (typeof packet.timestamp !== 'bigint' || packet.timestamp < 0n) throw new TypeError(`packet.timestamp must be a non-negative bigint (ns since the epoch), got ${describe(packet.timestamp)}`);
  if (!(packet.data instanceof Uint8Array)) throw new TypeError(`packet.data must be a Buffer or Uint8Array, got ${describe(packet.data)}`);
  const orig = packet.originalLength ?? packet.data.length;
  checkUint32(orig, 'packet.originalLength');
  if (orig < packet.data.length) throw new RangeError(`packet.originalLength (${orig}) is less than the bytes captured (${packet.data.length})`);
  const head = Buffer.alloc(20);
  head.writeUInt32LE(packet.interfaceId, 0);
  head.writeUInt32LE(Number(packet.timestamp >> 32n) >>> 0, 4);
  head.writeUInt32LE(Number(packet.timestamp & 0xffffffffn), 8);
  head.writeUInt32LE(packet.data.length, 12);
  head.writeUInt32LE(orig, 16);
  const data = Buffer.alloc(pad4(packet.data.length));
  data.set(packet.data, 0);
  const opts: Array<[number, Uint8Array]> = packet.comment === undefined ? [] : [[OPT_COMMENT, text(packet.comment)]];
  return block(EPB, [head, data, options(opts)]);
}

/**
 * Writes a pcapng file through `write` (called synchronously with each block, in order): the
 * section header first, then interfaces and packets as they are added. Each call of `write`
 * receives whole blocks, so a file cut after any call is a valid capture.
 *
 * @example
 * ```ts
 * import { openSync, writeSync } from 'node:fs';
 * const fd = openSync('out.pcapng', 'w');
 * const w = new PcapngWriter((b) => writeSync(fd, b));
 * const eth0 = w.addInterface({ name: 'eth0', snaplen: 65535 });
 * w.packet({ interfaceId: eth0, timestamp: BigInt(Date.now()) * 1_000_000n, data: frame, comment: 'slot 0 action drop' });
 * ```
 */
export class PcapngWriter {
  readonly #write: (chunk: Buffer) => void;
  #interfaces = 0;
  /** Packets written. */
  packets = 0;

  /** Writes the section header block now. */
  constructor(write: (chunk: Buffer) => void, options: { application?: string } = {}) {
    if (typeof write !== 'function') throw new TypeError(`write must be a function, got ${describe(write)}`);
    this.#write = write;
    this.#write(pcapngSectionHeader(options.application));
  }

  /** Adds an interface; returns its id for {@link PcapngWriter.packet}. */
  addInterface(iface: PcapngInterface = {}): number {
    this.#write(pcapngInterfaceBlock(iface));
    return this.#interfaces++;
  }

  /** Adds a packet. @throws RangeError for an interface id not added yet. */
  packet(packet: PcapngPacket): void {
    checkObject(packet, 'packet');
    if (!Number.isInteger(packet.interfaceId) || packet.interfaceId < 0 || packet.interfaceId >= this.#interfaces) {
      throw new RangeError(`packet.interfaceId must be an interface added to this writer (0 to ${this.#interfaces - 1}), got ${describe(packet.interfaceId)}`);
    }
    this.#write(pcapngPacketBlock(packet));
    this.packets++;
  }
}
