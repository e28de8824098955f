/**
 * The fleet subcommands of `xdp-root` (apply, agent, top), each in a file of its own.
 *
 * @internal
 * @module
 */
import { agentCommand, agentUsage } from './agent';
import { applyCommand, applyUsage } from './apply';
import { topCommand, topUsage } from './top';

const usages: Record<string, string> = { apply: applyUsage, agent: agentUsage, top: topUsage };

const commands = new Map<string, (argv: string[]) => Promise<number>>([
  ['apply', applyCommand],
  ['agent', agentCommand],
  ['top', topCommand],
]);

/** The runner of a fleet subcommand (arguments after its name → exit code), or undefined. */
export function fleetCommand(name: string | undefined): ((argv: string[]) => Promise<number>) | undefined {
  return name === undefined ? undefined : commands.get(name);
}

/** Their usage lines. */
export const fleetUsage = [applyUsage, agentUsage, topUsage].join('\n');

/** The usage of one fleet subcommand, for `xdp-root help <command>`, or undefined. */
export function fleetHelp(name: string): string | undefined {
  const u = usages[name];
  return u === undefined ? undefined : `usage:\n${u}`;
}
