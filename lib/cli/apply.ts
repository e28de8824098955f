/**
 * `xdp-root apply FILE`: makes this node's root arrays match a config file, all or nothing.
 *
 * @internal
 * @module
 */
import { applyFleet, FleetApplyError } from '../fleet/apply';
import { FleetConfigError, loadFleetConfig } from '../fleet/config';
import { formatPlan } from '../fleet/plan';
import { DEFAULT_STATE_FILE } from '../fleet/state';
import { positionals, type Command } from './command';

/** Prints a failed apply: one line per failure; with --debug, each verifier log in full. */
export function printApplyError(e: FleetApplyError, debug: boolean): void {
  console.error(`xdp-root: ${e.message}`);
  for (const f of e.failures) {
    if (f.verifierLog === undefined) continue;
    if (debug) console.error(`--- verifier log of ${f.file}:${f.line} (slot ${f.slot}) ---\n${f.verifierLog.trimEnd()}\n---`);
    else console.error('(--debug prints the whole verifier log)');
  }
}

export const apply: Command = {
  usage: '<config.yaml> [--dry-run] [--prune] [--state FILE]',
  summary: "make this node's root arrays match a config file, all or nothing",
  help: [
    'Loads and verifies every program the config needs before the first slot changes; then swaps',
    'them in, each atomically. If a swap fails, what this run replaced is put back. Each failure is',
    'one line: config file:line, interface, namespace, slot and the reason (for a verifier refusal,',
    'the line naming the cause; --debug prints the whole log). An interface that cannot be applied',
    '(missing, or its root has another slot count) is left as it is and the others are applied.',
    'Prints "in sync (no changes)" when everything already runs as configured.',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean', description: 'print the plan, change nothing' },
    prune: { type: 'boolean', description: 'empty slots of configured interfaces that the config does not mention' },
    state: { type: 'string', value: 'FILE', default: DEFAULT_STATE_FILE, description: 'what apply remembers between runs' },
  },
  exitCodes: { 0: 'in sync (applied, or nothing to do)', 1: 'the config is refused, an interface was left as it is, or a change failed (and was put back)' },
  async run({ args, values, where }) {
    const [file] = positionals(args, 1, '<config.yaml>');
    let config;
    try {
      config = loadFleetConfig(file, { pinBase: where.pinBase, netns: where.netns });
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
      result = await applyFleet(config, { dryRun, prune: values.prune === true, stateFile: values.state as string });
    } catch (e) {
      if (!(e instanceof FleetApplyError)) throw e;
      printApplyError(e, values.debug === true);
      return 1;
    }
    const { plan, applied } = result;
    console.log(formatPlan(plan));
    if (dryRun) console.log(plan.changes.length ? `dry run: ${plan.changes.length} change(s) not applied` : 'dry run');
    else if (applied.length) console.log(`applied ${applied.length} change(s)`);
    if (plan.refused.length > 0) {
      console.error(`xdp-root: ${plan.refused.length} interface(s) left as they are (see above)`);
      return 1;
    }
    return 0;
  },
};
