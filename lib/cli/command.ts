/**
 * What an `xdp-root` subcommand is: its usage line, help, options and a `run` function. The CLI
 * (`xdp-root.ts`) keeps a table of them, so a new subcommand is a file exporting a
 * {@link Command} and one line in that table.
 *
 * @internal
 * @module
 */
import type { ParseArgsConfig } from 'node:util';
import { BpfError } from '../errors';
import type { RootArrayLocation } from '../rootarray/root-array';

/** The parsed values of the command line: the command's own options and the common ones. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** What a subcommand gets. */
export interface CommandContext {
  /** The positional arguments after the command name. */
  args: string[];
  /** Every option given (`--json` → `values.json === true`). */
  values: OptionValues;
  /** `--netns` and `--pin-base`, validated. */
  where: RootArrayLocation;
}

/** One `xdp-root` subcommand. */
export interface Command {
  /** Arguments and options after the command name, e.g. `<iface> [--mode skb|native]`. */
  usage: string;
  /** One line: what it does. */
  summary: string;
  /** More lines for `xdp-root help <command>`. */
  help?: string;
  /** Options of its own (the common ones are always accepted). */
  options?: ParseArgsConfig['options'];
  /** Runs it; resolves with the exit code. Throws {@link UsageError} for a command-line mistake. */
  run(ctx: CommandContext): Promise<number>;
}

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A non-negative integer option or argument, or undefined. */
export function integer(value: string | boolean | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new UsageError(`${what} must be a non-negative integer, got '${String(value)}'`);
  return Number(value);
}

/** Exactly `count` positional arguments, or a usage error naming them. */
export function positionals(args: string[], count: number, names: string): string[] {
  if (args.length !== count) throw new UsageError(`expected ${names}`);
  return args;
}

/** An interface argument: an ifindex when all digits, else a name. */
export function ifaceArg(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/**
 * An error as the CLI prints it: what happened, then the advice in CLI syntax (`--netns PATH`
 * rather than `{ netns }`) where the error has it, else the library's.
 */
export function cliErrorText(e: unknown): string {
  if (e instanceof BpfError) {
    const hint = e.cliHint ?? e.hint;
    const summary = e.summary.replace(/\n+$/, '');
    return hint ? `${summary}${summary.includes('\n') ? '\n' : '. '}Hint: ${hint}` : summary;
  }
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}
