/**
 * What identifies a root array and what it records about itself: the kernel identity of its
 * interface (network namespace device + inode, ifindex), the pinned state (struct
 * xdp_root_state in `bpf/include/xdp_root.h`), and the checks that a folder really is on bpffs
 * and a path really is a network namespace.
 *
 * @internal
 * @module
 */
import { readdirSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, BpfStateError } from '../errors';
import { toNativeInterface, type InterfaceRef } from '../internal/iface';
import { binding, type NativeXdpQuery } from '../internal/native';
import { BPF_FS_MAGIC, nearestFilesystem } from '../internal/pin';

/** statfs(2) magic numbers (linux/magic.h). */
const NSFS_MAGIC = 0x6e736673;

/** The kernel identity of a network namespace: its nsfs file's device and inode. */
export interface NetnsId {
  dev: number;
  ino: number;
}

/** Where an interface is, by kernel identity, with its current name. */
export interface InterfaceId {
  netns: NetnsId;
  /** The namespace path the caller gave (`undefined`: the caller's namespace). */
  netnsPath: string | undefined;
  ifindex: number;
  ifname: string;
  /** The XDP programs attached to it right now. */
  query: NativeXdpQuery;
}

/** The caller's own network namespace: the thread's, which is the one the native calls use. */
const OWN_NETNS = '/proc/thread-self/ns/net';

/**
 * The identity of the network namespace at `path` (default: the caller's).
 * @throws RangeError when `path` is not a namespace file (nsfs), with what it is instead
 */
export function netnsId(path: string | undefined): NetnsId {
  const p = path ?? OWN_NETNS;
  let magic: number;
  try {
    magic = statfsSync(p).type;
  } catch (e) {
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RangeError(
      `netns '${p}' is not a network namespace: ${(e as Error).message}` +
        (gone ? ' (if it was deleted, root arrays left in it are orphans: `xdp-root cleanup --orphans` removes them)' : ''),
    );
  }
  if (magic !== NSFS_MAGIC) {
    throw new RangeError(`netns '${p}' is not a network namespace file (/run/netns/NAME or /proc/PID/ns/net): it is on a filesystem of type 0x${magic.toString(16)}, not nsfs`);
  }
  const st = statSync(p);
  return { dev: st.dev, ino: st.ino };
}

/** Whether two namespace identities are the same namespace. */
export function sameNetns(a: NetnsId, b: NetnsId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Resolves an interface (name or ifindex) in a namespace to its kernel identity.
 * @throws {@link BpfError} `ENODEV` when it does not exist; RangeError for a path that is not a namespace
 */
export function interfaceId(iface: InterfaceRef, netnsPath: string | undefined): InterfaceId {
  const netns = netnsId(netnsPath);
  const query = binding.xdpQuery(toNativeInterface(iface, netnsPath));
  return { netns, netnsPath, ifindex: query.ifindex, ifname: query.ifname, query };
}

/**
 * A path to the namespace with this identity, if it still exists: the path recorded at attach
 * when it still is that namespace, the caller's own, one under /run/netns, or a process's
 * /proc/PID/ns/net. `undefined` when no such namespace can be found (it was deleted).
 */
export function findNetns(id: NetnsId, recorded: string | undefined): string | null | undefined {
  const matches = (p: string): boolean => {
    try {
      return sameNetns(netnsId(p), id);
    } catch {
      return false;
    }
  };
  if (recorded !== undefined && matches(recorded)) return recorded;
  if (matches(OWN_NETNS)) return null; // the caller's own: no path needed
  const candidates: string[] = [];
  try {
    for (const n of readdirSync('/run/netns')) candidates.push(join('/run/netns', n));
  } catch {
    /* no named namespaces */
  }
  for (const p of candidates) if (matches(p)) return p;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    /* no /proc */
  }
  for (const pid of pids) {
    const p = `/proc/${pid}/ns/net`;
    try {
      // Cheap pre-check: the link text is net:[INODE].
      if (readlinkSync(p) !== `net:[${id.ino}]`) continue;
    } catch {
      continue;
    }
    if (matches(p)) return p;
  }
  return undefined;
}

/**
 * Checks that `dir` (or, when it does not exist yet, its nearest existing parent) is on bpffs.
 * Inside `ip netns exec`, /sys is remounted for the namespace and /sys/fs/bpf is plain sysfs:
 * this says so in one line instead of letting a recursive mkdir fail (or spin) there.
 *
 * @throws {@link BpfStateError} naming the filesystem found and the fix
 */
export function checkBpffs(dir: string): void {
  let found: { at: string; type: number };
  try {
    found = nearestFilesystem(dir);
  } catch (e) {
    throw new BpfStateError(`cannot check that ${dir} is on bpffs: ${(e as Error).message}`);
  }
  if (found.type === BPF_FS_MAGIC) return;
  throw new BpfStateError(
    `${found.at} is not on a BPF filesystem (filesystem type 0x${found.type.toString(16)}, bpffs is 0xcafe4a11), so ${dir} cannot hold pins: ` +
      'mount one (`mount -t bpf bpf /sys/fs/bpf`), or, under `ip netns exec` (which remounts /sys), run outside it with --netns',
  );
}

/** struct xdp_root_state, decoded. */
export interface RootState {
  layout: number;
  ifindex: number;
  netns: NetnsId;
  generation: bigint;
  rootProgId: number;
  upgrades: number;
  ifname: string;
  netnsPath: string | undefined;
}

/** XDP_ROOT_STATE_LAYOUT and sizeof(struct xdp_root_state). */
export const STATE_LAYOUT = 1;
export const STATE_SIZE = 4 + 4 + 8 + 8 + 8 + 4 + 4 + 16 + 128;

function cString(buf: Buffer, offset: number, size: number): string {
  const raw = buf.subarray(offset, offset + size);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? size : end).toString('utf8');
}

/** Encodes a state as the bytes of struct xdp_root_state (little-endian, as BPF maps on x86/arm64). */
export function encodeState(s: RootState): Buffer {
  const b = Buffer.alloc(STATE_SIZE);
  b.writeUInt32LE(s.layout, 0);
  b.writeUInt32LE(s.ifindex, 4);
  b.writeBigUInt64LE(BigInt(s.netns.dev), 8);
  b.writeBigUInt64LE(BigInt(s.netns.ino), 16);
  b.writeBigUInt64LE(s.generation, 24);
  b.writeUInt32LE(s.rootProgId, 32);
  b.writeUInt32LE(s.upgrades, 36);
  b.write(s.ifname.slice(0, 15), 40, 15, 'utf8');
  b.write((s.netnsPath ?? '').slice(0, 127), 56, 127, 'utf8');
  return b;
}

/** Decodes struct xdp_root_state. */
export function decodeState(b: Buffer): RootState {
  if (b.length !== STATE_SIZE) throw new BpfStateError(`root array state has ${b.length} bytes, expected ${STATE_SIZE}: written by another version?`);
  const path = cString(b, 56, 128);
  return {
    layout: b.readUInt32LE(0),
    ifindex: b.readUInt32LE(4),
    netns: { dev: Number(b.readBigUInt64LE(8)), ino: Number(b.readBigUInt64LE(16)) },
    generation: b.readBigUInt64LE(24),
    rootProgId: b.readUInt32LE(32),
    upgrades: b.readUInt32LE(36),
    ifname: cString(b, 40, 16),
    netnsPath: path === '' ? undefined : path,
  };
}

/** A fresh generation: milliseconds since the epoch in the high bits, 20 random bits below. */
export function newGeneration(): bigint {
  return (BigInt(Date.now()) << 20n) | BigInt(Math.floor(Math.random() * 2 ** 20));
}

/** The folder name of a root array: kernel identity only, so it cannot collide or go stale. */
export function rootKey(netns: NetnsId, ifindex: number): string {
  return `net-${netns.dev}-${netns.ino}-if-${ifindex}`;
}

/** Parses {@link rootKey}; undefined for anything else (e.g. a folder of the old layout). */
export function parseRootKey(name: string): { netns: NetnsId; ifindex: number } | undefined {
  const m = /^net-(\d+)-(\d+)-if-(\d+)$/.exec(name);
  return m ? { netns: { dev: Number(m[1]), ino: Number(m[2]) }, ifindex: Number(m[3]) } : undefined;
}

/** Whether an error is the kernel saying the interface does not exist. */
export function isNoDevice(e: unknown): boolean {
  return e instanceof BpfError && e.code === 'ENODEV';
}
