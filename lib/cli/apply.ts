/**
 * `xdp-root apply FILE`: makes this node's root arrays match a config file, all or nothing.
 *
 * @internal
 * @module
 */
import { BpfError, BpfVerifierError } from '../errors';
import { applyFleet, FleetApplyError, formatFailure, type ApplyFailure } from '../fleet/apply';
import { FleetConfigError, loadFleetConfig } from '../fleet/config';
import { formatPlan } from '../fleet/plan';
import { DEFAULT_STATE_FILE } from '../fleet/state';
import type { FleetConfig } from '../fleet/config';
import { cliErrorText, positionals, type Command } from './command';
import { warnInsecure } from './insecure';

/** Each object's SHA-256, for pinning (`sha256:` on its entry): one line per slot. */
function objectHashes(config: FleetConfig): string {
  const lines = config.interfaces.flatMap((i) =>
    i.programs.map((p) => `  ${p.sha256}  ${i.name}${i.netns ? ` (netns ${i.netns})` : ''} slot ${p.slot}: ${p.object}${p.pinned ? ' (pinned)' : ''}`),
  );
  return lines.length ? `sha256 of each object (pin one with 'sha256: <hex>' on its entry):\n${lines.join('\n')}` : 'no objects';
}

/**
 * A failure's reason as the CLI says it: a verifier refusal as the line naming the cause, a
 * {@link BpfError} as what happened and the advice in CLI syntax ({@link cliErrorText}), on one line.
 */
function cliReason(f: ApplyFailure): string {
  if (f.error instanceof BpfVerifierError || !(f.error instanceof BpfError)) return f.reason;
  return cliErrorText(f.error).replace(/\s*\n\s*/g, ' ');
}

/**
 * Prints a failed apply: what happened, one line per failure (config file:line, interface, slot,
 * cause, with the CLI's advice), what was put back; with --debug, each verifier log in full.
 */
export function printApplyError(e: FleetApplyError, debug: boolean): void {
  const lines = e.message.split('\n');
  // The message is the head line, one line per failure, then the put-back lines.
  console.error([`xdp-root: ${lines[0]}`, ...e.failures.map((f) => formatFailure({ ...f, reason: cliReason(f) })), ...lines.slice(1 + e.failures.length)].join('\n'));
  for (const f of e.failures) {
    if (f.verifierLog === undefined) continue;
    if (debug) console.error(`--- verifier log of ${f.file}:${f.line} (slot ${f.slot}) ---\n${f.verifierLog.trimEnd()}\n---`);
    else console.error('(--debug prints the whole verifier log)');
  }
}

export const apply: Command = {
  usage: '<config.yaml> [--dry-run] [--prune] [--state FILE] [--insecure]',
  summary: "make this node's root arrays match a config file, all or nothing",
  help: [
    'Loads and verifies every program the config needs before the first slot changes; then swaps',
    'them in, each atomically. If a swap fails, what this run replaced is put back. Each failure is',
    'one line: config file:line, interface, namespace, slot and the reason (for a verifier refusal,',
    'the line naming the cause; --debug prints the whole log). An interface that cannot be applied',
    '(missing, or its root has another slot count) is left as it is and the others are applied.',
    'Prints "in sync (no changes)" when everything already runs as configured.',
    'The config and every object must be root\'s and not writable by others (or match their pinned',
    'sha256); what loads is the bytes that were checked. A refusal is a config error: nothing',
    'changes. --dry-run also prints each object\'s sha256 for pinning (see docs/fleet-security.md).',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean', description: "print the plan and each object's sha256, change nothing" },
    prune: { type: 'boolean', description: 'empty slots of configured interfaces that the config does not mention' },
    state: { type: 'string', value: 'FILE', default: DEFAULT_STATE_FILE, description: 'what apply remembers between runs' },
    insecure: { type: 'boolean', description: 'waive the ownership checks (development only; pinned hashes still checked; warns on every apply)' },
  },
  exitCodes: { 0: 'in sync (applied, or nothing to do)', 1: 'the config is refused (untrusted files included), an interface was left as it is, or a change failed (and was put back)' },
  async run({ args, values, where }) {
    const [file] = positionals(args, 1, '<config.yaml>');
    let config;
    try {
      config = loadFleetConfig(file, { insecure: values.insecure === true, pinBase: where.pinBase, netns: where.netns });
    } catch (e) {
      if (e instanceof FleetConfigError) {
        console.error(`xdp-root: ${e.message}`);
        return 1;
      }
      throw e;
    }
    const dryRun = values['dry-run'] === true;
    let result;
    try {
      result = await applyFleet(config, {
        dryRun,
        prune: values.prune === true,
        stateFile: values.state as string,
        onInsecure: (_warning, waived) => warnInsecure(waived),
      });
    } catch (e) {
      if (!(e instanceof FleetApplyError)) throw e;
      printApplyError(e, values.debug === true);
      return 1;
    }
    const { plan, applied } = result;
    console.log(formatPlan(plan));
    if (dryRun) {
      console.log(plan.changes.length ? `dry run: ${plan.changes.length} change(s) not applied` : 'dry run');
      console.log(objectHashes(config));
    } else if (applied.length) console.log(`applied ${applied.length} change(s)`);
    if (plan.refused.length > 0) {
      console.error(`xdp-root: ${plan.refused.length} interface(s) left as they are (see above)`);
      return 1;
    }
    return 0;
  },
};
