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
import { closeSync, constants, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeDirectories } from '../internal/mkdir';
import { BpfProgram } from '../program';
import { checkTrusted, formatProblems, ownerName, TrustError } from './trust';

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

/**
 * The state's folder must be root's: trusted all the way from `/` (see `trust.ts`), never
 * reached through a symlink someone else owns, and not writable by others unless sticky.
 */
function checkStateFolder(file: string): void {
  const dir = dirname(resolve(file));
  const problems = checkTrusted(dir);
  const st = statSync(dir);
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0 && !problems.some((p) => p.path === dir)) {
    problems.push({ path: dir, uid: st.uid, owner: ownerName(st.uid), mode: st.mode & 0o7777, reason: 'a folder writable by group or others' });
  }
  if (problems.length > 0) {
    throw new TrustError('EUNTRUSTED', resolve(file), `untrusted state file ${resolve(file)}: ${formatProblems(problems)}. The state says which programs are as configured: keep it in a folder only root can change (default ${DEFAULT_STATE_FILE})`, { problems });
  }
}

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
 * next apply replaces, once, the slots the file no longer vouches for. The file is opened
 * without following a symlink, in a folder checked first.
 *
 * @throws {@link TrustError} when the state's folder is not root's (see {@link writeFleetState})
 */
export function readFleetState(file: string): FleetState {
  let data: unknown;
  try {
    checkStateFolder(file);
  } catch (e) {
    if (e instanceof TrustError) throw e;
    return {}; // no folder yet
  }
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      data = JSON.parse(readFileSync(fd, 'utf8'));
    } finally {
      closeSync(fd);
    }
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
 * Writes the state atomically (a temporary file renamed over it), keeping only programs the
 * kernel still has. A missing folder is created 0700 one level at a time (a mkdir that cannot
 * loop, see `internal/mkdir.ts`), the file 0600 (created exclusively: a symlink put in its place
 * is not followed, and the rename replaces a symlink, not its target).
 *
 * @throws {@link TrustError} when the folder, or one above it, is owned by another user, writable
 *   by others (and not sticky), or reached through a symlink someone else owns
 * @throws Error when the file's folder cannot be created or written (nothing else is changed)
 */
export function writeFleetState(file: string, state: FleetState): void {
  const kept: FleetState = {};
  for (const [id, entry] of Object.entries(state)) if (programExists(Number(id))) kept[id] = entry;
  const dir = dirname(resolve(file));
  try {
    makeDirectories(dir, 'state folder', 0o700);
  } catch (e) {
    throw new Error(`cannot create the folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  checkStateFolder(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp); // left by a crash: removed, never followed
  } catch {
    // none
  }
  try {
    writeFileSync(tmp, `${JSON.stringify({ version: 1, programs: kept }, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw new Error(`cannot write the state file ${file}: ${(e as Error).message}`, { cause: e });
  }
}
