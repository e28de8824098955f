/**
 * `xdp-root apply FILE`: makes this node's root arrays match a config file.
 *
 * @internal
 * @module
 */
import { parseArgs } from 'node:util';
import { applyFleet } from '../fleet/apply';
import { FleetConfigError, loadFleetConfig } from '../fleet/config';
import { formatPlan } from '../fleet/plan';
import { DEFAULT_STATE_FILE } from '../fleet/state';
import type { FleetConfig } from '../fleet/config';
import { warnInsecure } from './insecure';

/** Each object's SHA-256, for pinning (`sha256:` on its entry): one line per slot. */
function objectHashes(config: FleetConfig): string {
  const lines = config.interfaces.flatMap((i) =>
    i.programs.map((p) => `  ${p.sha256}  ${i.name}${i.netns ? ` (netns ${i.netns})` : ''} slot ${p.slot}: ${p.object}${p.pinned ? ' (pinned)' : ''}`),
  );
  return lines.length ? `sha256 of each object (pin one with 'sha256: <hex>' on its entry):\n${lines.join('\n')}` : 'no objects';
}

export const applyUsage = `  xdp-root apply <config.yaml> [--dry-run] [--prune] [--state FILE] [--insecure]`;

/** Runs `xdp-root apply` with the arguments after `apply`; returns the exit code. */
export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean' },
      prune: { type: 'boolean' },
      state: { type: 'string' },
      debug: { type: 'boolean' },
      insecure: { type: 'boolean' },
    },
  });
  const insecure = values.insecure === true;
  if (positionals.length !== 1) {
    console.error(`xdp-root: expected <config.yaml>\nusage:\n${applyUsage}`);
    return 2;
  }
  let config;
  try {
    config = loadFleetConfig(positionals[0], { insecure });
  } catch (e) {
    if (e instanceof FleetConfigError) {
      console.error(`xdp-root: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const dryRun = values['dry-run'] === true;
  const { plan, applied } = await applyFleet(config, {
    dryRun,
    prune: values.prune,
    stateFile: values.state ?? DEFAULT_STATE_FILE,
    onInsecure: (_warning, waived) => warnInsecure(waived),
  });
  console.log(formatPlan(plan));
  if (dryRun) {
    console.log(plan.changes.length ? `dry run: ${plan.changes.length} change(s) not applied` : 'dry run');
    console.log(objectHashes(config));
  } else if (applied.length) console.log(`applied ${applied.length} change(s)`);
  return 0;
}
