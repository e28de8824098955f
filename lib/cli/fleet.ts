/**
 * The fleet subcommands of `xdp-root` (apply, agent, top), each in a file of its own; they are
 * {@link Command}s like every other, in the table of `xdp-root.ts`.
 *
 * @internal
 * @module
 */
import { agent } from './agent';
import { apply } from './apply';
import type { Command } from './command';
import { top } from './top';

/** The fleet subcommands, by name. */
export const fleetCommands: Record<string, Command> = { apply, agent, top };
