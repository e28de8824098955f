/**
 * What `apply` remembers between runs: for each program it put in a slot, by the program's kernel
 * id, the fingerprint of the config entry it came from. The kernel says what runs (slot → program
 * id); this file only says which config entry a running program was loaded from, so a restart
 * or a second apply can tell "already as configured" from "changed".
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BpfProgram } from '../program';

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

/** Reads the state; a missing or unreadable file is an empty state (everything is re-applied once). */
export function readFleetState(file: string): FleetState {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; programs?: FleetState };
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
 * kernel still has.
 */
export function writeFleetState(file: string, state: FleetState): void {
  const kept: FleetState = {};
  for (const [id, entry] of Object.entries(state)) if (programExists(Number(id))) kept[id] = entry;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, programs: kept }, null, 2)}\n`);
  renameSync(tmp, file);
}
