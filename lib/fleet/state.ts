/**
 * What `apply` remembers between runs: for each program it put in a slot, by the program's kernel
 * id, the fingerprint of the config entry it came from. The kernel says what runs (slot → program
 * id); this file only says which config entry a running program was loaded from, so a restart
 * or a second apply can tell "already as configured" from "changed".
 *
 * @module
 */
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BpfProgram } from '../program';
import { checkTrusted, formatProblems, ownerName, TrustError } from './trust';

/** Where apply keeps its state unless told otherwise (tmpfs: it goes with the programs at reboot). */
export const DEFAULT_STATE_FILE = '/run/xdp-root/fleet-state.json';

/** One program apply installed. */
export interface AppliedProgram {
  /** The fingerprint of the config entry it was loaded from. */
  fingerprint: string;
  ifname: string;
  netns: string | undefined;
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

/**
 * Reads the state; a missing or unreadable file is an empty state (everything is re-applied once).
 * The file is opened without following a symlink, in a folder checked first.
 *
 * @throws {@link TrustError} when the state's folder is not root's (see {@link writeFleetState})
 */
export function readFleetState(file: string): FleetState {
  try {
    checkStateFolder(file);
  } catch (e) {
    if (e instanceof TrustError) throw e;
    return {}; // no folder yet
  }
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const data = JSON.parse(text) as { version?: number; programs?: FleetState };
    return data.version === 1 && data.programs && typeof data.programs === 'object' ? data.programs : {};
  } catch {
    return {};
  }
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
 * kernel still has. A missing folder is created 0700, the file 0600 (created exclusively: a
 * symlink put in its place is not followed, and the rename replaces a symlink, not its target).
 *
 * @throws {@link TrustError} when the folder, or one above it, is owned by another user, writable
 *   by others (and not sticky), or reached through a symlink someone else owns
 */
export function writeFleetState(file: string, state: FleetState): void {
  const kept: FleetState = {};
  for (const [id, entry] of Object.entries(state)) if (programExists(Number(id))) kept[id] = entry;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  checkStateFolder(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp); // left by a crash: removed, never followed
  } catch {
    // none
  }
  writeFileSync(tmp, `${JSON.stringify({ version: 1, programs: kept }, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  renameSync(tmp, file);
}
