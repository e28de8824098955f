/**
 * What a root array reports: {@link RootStatus}, and the ecbpf-style table `xdp-root status`
 * prints.
 *
 * @module
 */
import { checkObject } from '../internal/validate';
import type { RootArray } from './root-array';
import type { CaptureStatus } from './capture';
import type { MetadataHandoff } from './meta';

/** Per-slot statistics, summed over CPUs since the slot's program was loaded. */
export interface SlotStats {
  aborted: bigint;
  drop: bigint;
  pass: bigint;
  tx: bigint;
  redirect: bigint;
  /** Return values that are not an XDP action. */
  invalid: bigint;
  /** Bytes of the packets whose verdict was counted here. */
  bytes: bigint;
  /** Packets this slot passed that a later slot took over. */
  passedOn: bigint;
}

/** One slot of a root array. */
export interface SlotStatus {
  slot: number;
  /** The kernel id of the program in the slot, or `undefined` when the slot is empty. */
  progId: number | undefined;
  /** The program's name, as the kernel knows it (at most 15 characters). */
  name: string | undefined;
  /** When the program was loaded into the kernel. */
  loadedAt: Date | undefined;
  /**
   * Whether the program records its verdicts (it ends with `xdp_root_return()` from
   * `xdp_root.h`). A plain XDP program still runs in the slot, but its counters stay at zero.
   */
  counted: boolean;
  stats: SlotStats;
}

/** The root program's own counters. */
export interface RootStats {
  /** Packets the root saw. */
  packets: bigint;
  /** Bytes of the packets the root saw. */
  bytes: bigint;
  /** Packets that found every slot empty (and passed). */
  noSlot: bigint;
}

/** What {@link RootArray.status} returns. */
export interface RootStatus {
  /** The interface's name now (display only: the ifindex and namespace are its identity). */
  ifname: string;
  /** The interface's index in its namespace. */
  ifindex: number;
  /** The network namespace of the interface (its path), when not the caller's. */
  netns: string | undefined;
  /**
   * The namespace's kernel identity: device and inode of its nsfs file (`stat -L /proc/self/ns/net`).
   * Always set by {@link RootArray.status}; optional only so that older hand-made statuses still type-check.
   */
  netnsDev?: number;
  netnsIno?: number;
  /** Chosen when the root array was created; a root array detached and attached again has another. Always set by `status()`. */
  generation?: bigint;
  /** The mode the root runs in, or `undefined` when it is not attached (an orphan, or interrupted). */
  mode: 'skb' | 'native' | 'hw' | undefined;
  /** The kernel id of the root program. */
  rootProgId: number;
  /** The number of slots of this root. */
  slotCount: number;
  root: RootStats;
  /**
   * Whether the root hands each packet's parsed summary to the slots in the XDP metadata area
   * (`passMeta`), and why: off where the kernel's probe says it cannot. Always set by
   * `status()`; optional only so that older hand-made statuses still type-check.
   */
  metadata?: MetadataHandoff;
  slots: SlotStatus[];
  /** What capture is switched on, and by whom (see {@link RootArray.capture}). Always set by `status()`. */
  capture?: CaptureStatus;
}

/** A status as plain JSON: bigints become decimal strings, dates ISO strings. */
export function statusToJson(status: RootStatus): unknown {
  checkObject(status as unknown, 'status');
  return JSON.parse(
    JSON.stringify(status, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
  );
}

const actionColumns: [string, keyof SlotStats][] = [
  ['XDP_ABORTED', 'aborted'],
  ['XDP_DROP', 'drop'],
  ['XDP_PASS', 'pass'],
  ['XDP_TX', 'tx'],
  ['XDP_REDIRECT', 'redirect'],
  ['XDP_INVALID_ACTION', 'invalid'],
  ['PASSED_ON', 'passedOn'],
];

function formatDate(d: Date | undefined): string {
  return d ? d.toUTCString() : '-';
}

/**
 * The status as an operator's table, one row per slot (as ecbpf's `xdp_root_loader --status`
 * prints it), with the root's own counters above.
 */
export function formatStatus(status: RootStatus): string {
  const header = ['SLOT', 'ID', 'NAME', 'LOAD TIME', ...actionColumns.map(([h]) => h)];
  const rows = status.slots.map((s) => [
    String(s.slot),
    s.progId === undefined ? '-' : String(s.progId),
    s.name === undefined ? '-' : s.counted ? s.name : `${s.name} *`,
    formatDate(s.loadedAt),
    ...actionColumns.map(([, key]) => (s.progId !== undefined && !s.counted ? '-' : s.stats[key].toString())),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Headings left-aligned; numbers right-aligned, text left-aligned, as in ecbpf's table.
  const numeric = (i: number): boolean => i === 0 || i === 1 || i >= 4;
  const line = (cells: string[], heading = false): string =>
    cells.map((c, i) => (!heading && numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ');
  const where = status.netns ? `${status.ifname} (netns ${status.netns})` : status.ifname;
  const out = [
    `Interface ${where} status:`,
    `ifindex ${status.ifindex}` +
      (status.netnsIno === undefined ? '' : `, netns inode ${status.netnsIno}`) +
      (status.generation === undefined ? '' : `, generation ${status.generation}`) +
      `; root program ${status.rootProgId}, mode ${status.mode ?? 'unknown'}, ${status.slotCount} slots; ` +
      `${status.root.packets} packets (${status.root.bytes} bytes) seen, ${status.root.noSlot} found no slot`,
    ...(status.metadata === undefined ? [] : [metadataLine(status)]),
    line(header, true),
    ...rows.map((r) => line(r)),
  ];
  if (status.slots.some((s) => s.progId !== undefined && !s.counted)) {
    out.push("* a plain XDP program: it does not use xdp_root_return(), so its verdicts are not counted");
  }
  for (const c of status.capture?.slots ?? []) {
    out.push(
      `capture ON on slot ${c.slot}: ${c.actions.join(',')}, snaplen ${c.snaplen}${c.rate > 1 ? `, 1 in ${c.rate}` : ''}${c.filtered ? ', filtered' : ''}; ` +
        `${c.captured} captured, ${c.lost} lost; ` +
        (c.ownerAlive ? `by process ${c.ownerPid}` : `left on by process ${c.ownerPid}, which is gone: \`xdp-root capture ${status.ifname} --stop\` or the next capture switches it off`),
    );
  }
  return out.join('\n');
}

/**
 * The status line of the metadata hand-off (`passMeta`): `metadata hand-off: <on or off, and why>`, or
 * `metadata hand-off: unknown` for a hand-made status without {@link RootStatus.metadata}.
 *
 * @example
 * ```ts
 * metadataLine(root.status()); // 'metadata hand-off: off: not asked for (…)'
 * ```
 */
export function metadataLine(status: RootStatus): string {
  const m = status.metadata;
  if (m === undefined) return 'metadata hand-off: unknown';
  // The reason says on or off first ("on: …", "off: …", "asked for, but turned off: …").
  return `metadata hand-off: ${m.reason}`;
}

/** What `xdp-root status` prints for an interface that has no root array. */
export function formatNoRoot(ifname: string): string {
  return `Interface ${ifname} status:\nRoot array not attached to interface ${ifname}.`;
}
