/**
 * What `apply` remembers between runs: for each program it put in a slot, by the program's kernel
 * id, the fingerprint of the config entry it came from. The kernel says what runs (slot → program
 * id); this file only says which config entry a running program was loaded from, so a restart
 * or a second apply can tell "already as configured" from "changed".
 *
 * The file is never trusted blindly: {@link readFleetState} keeps only well-formed entries, and
 * the plan uses an entry only when the kernel agrees (the program id runs in the slot the entry
 * names, of the interface in the namespace with the entry's kernel identity). A broken, partial
 * or missing file costs one atomic replacement per slot it no longer vouches for, nothing more.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BpfProgram } from '../program';

/** Where apply keeps its state unless told otherwise (tmpfs: it goes with the programs at reboot). */
export const DEFAULT_STATE_FILE = '/run/xdp-root/fleet-state.json';

/** One program apply installed. */
export interface AppliedProgram {
  /** The fingerprint of the config entry it was loaded from. */
  fingerprint: string;
  ifname: string;
  /** The namespace path as the config gave it (for people; identity is {@link AppliedProgram.netnsKey}). */
  netns: string | undefined;
  /** The namespace's kernel identity, `dev:ino` of its nsfs file. */
  netnsKey?: string;
  slot: number;
}

/** The state file's content: kernel program id → what it was loaded from. */
export type FleetState = Record<string, AppliedProgram>;

function wellFormed(id: string, e: unknown): e is AppliedProgram {
  if (!/^[1-9]\d{0,9}$/.test(id) || typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  return (
    typeof o.fingerprint === 'string' &&
    typeof o.ifname === 'string' &&
    (o.netns === undefined || o.netns === null || typeof o.netns === 'string') &&
    (o.netnsKey === undefined || (typeof o.netnsKey === 'string' && /^\d+:\d+$/.test(o.netnsKey))) &&
    Number.isInteger(o.slot) &&
    (o.slot as number) >= 0
  );
}

/**
 * Reads the state. A missing or unreadable file is an empty state; an entry that is not
 * well-formed (null, a missing field, a wrong type) is dropped, the others kept. Either way the
 * next apply replaces, once, the slots the file no longer vouches for.
 */
export function readFleetState(file: string): FleetState {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const programs = (data as { version?: unknown; programs?: unknown } | null)?.programs;
  if ((data as { version?: unknown } | null)?.version !== 1 || typeof programs !== 'object' || programs === null || Array.isArray(programs)) return {};
  const out: FleetState = {};
  for (const [id, e] of Object.entries(programs)) {
    if (!wellFormed(id, e)) continue;
    out[id] = { fingerprint: e.fingerprint, ifname: e.ifname, netns: e.netns ?? undefined, slot: e.slot, ...(e.netnsKey ? { netnsKey: e.netnsKey } : {}) };
  }
  return out;
}

function programExists(id: number): boolean {
  try {
    using p = BpfProgram.openById(id);
    return p.id === id;
  } catch {
    return false;
  }
}

/**
 * Creates a folder and its missing parents one at a time. Unlike `mkdirSync(dir, { recursive:
 * true })`, it cannot loop forever when mkdir says ENOENT under a parent that exists (a folder
 * deleted while still reachable, like a stale bind mount): that is an error naming the folder.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw new Error(`cannot create the folder ${dir}: ${d} is not a folder`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (its parent exists but was deleted: a stale mount or a removed folder?)' : '';
      throw new Error(`cannot create the folder ${d}: ${(e as Error).message}${why}`);
    }
  }
}

/**
 * Writes the state atomically (a temporary file renamed over it), keeping only programs the
 * kernel still has.
 *
 * @throws Error when the file's folder cannot be created or written (nothing else is changed)
 */
export function writeFleetState(file: string, state: FleetState): void {
  const kept: FleetState = {};
  for (const [id, entry] of Object.entries(state)) if (programExists(Number(id))) kept[id] = entry;
  makeFolder(dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ version: 1, programs: kept }, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw new Error(`cannot write the state file ${file}: ${(e as Error).message}`);
  }
}
