/**
 * What an `xdp-root` subcommand is: its usage line, help, options and a `run` function. The CLI
 * (`xdp-root.ts`) keeps a table of them, so a new subcommand is a file exporting a
 * {@link Command} and one line in that table. Every command's options are parsed by one parser,
 * {@link parseCommandLine}, from the table the command declares: what `help <command>` prints is
 * what the parser accepts.
 *
 * @internal
 * @module
 */
import { BpfError } from '../errors';
import type { RootArrayLocation } from '../rootarray/root-array';

/** The parsed values of the command line: the command's own options and the common ones. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/**
 * One option of a command (a superset of `node:util` parseArgs' option config, so a table written
 * for parseArgs works as is).
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** A one-letter alias (`-h`). */
  short?: string;
  /** May be given several times; the value is then a list. */
  multiple?: boolean;
  /** The value when not given (shown by help). */
  default?: string | boolean;
  /** What the value is, for help: `FILE`, `SECONDS`. Default `VALUE`. */
  value?: string;
  /** One line for help. */
  description?: string;
  /** The config key that sets the same thing, for help (the option wins over the key). */
  configKey?: string;
}

/** What a subcommand gets. */
export interface CommandContext {
  /** The positional arguments after the command name. */
  args: string[];
  /** Every option given (`--json` → `values.json === true`), defaults filled in. */
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
  options?: Record<string, OptionSpec>;
  /** Exit codes other than the usual (0 done, 1 failed, 2 command-line mistake), for help. */
  exitCodes?: Record<number, string>;
  /** Runs it; resolves with the exit code. Throws {@link UsageError} for a command-line mistake. */
  run(ctx: CommandContext): Promise<number>;
}

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  /** The command it is about, when known (its usage is printed rather than every command's). */
  command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/**
 * Parses `argv` against an option table: `--name value`, `--name=value`, `-x`, `--` ends the
 * options. Every mistake is a {@link UsageError} in plain words (the unknown option, the option
 * that needs a value), naming the command.
 */
export function parseCommandLine(argv: readonly string[], options: Record<string, OptionSpec>, command: string | undefined): { values: OptionValues; positionals: string[] } {
  const values: OptionValues = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(options).filter(([, o]) => o.short).map(([n, o]) => [o.short!, n]));
  const forWhat = command ? ` for ${command}` : '';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (arg.length === 2) {
      name = byShort.get(arg[1]);
    }
    // Own keys only: `--toString` is not an option because every object has a toString.
    const spec = name === undefined || !Object.hasOwn(options, name) ? undefined : options[name];
    if (name === undefined || spec === undefined) {
      const known = Object.keys(options).map((n) => `--${n}`).join(', ');
      throw new UsageError(`unknown option '${arg.split('=')[0]}'${forWhat} (it takes ${known})`, command);
    }
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value${forWhat}, got '${arg}'`, command);
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw new UsageError(`--${name} needs a value (${spec.value ?? 'VALUE'})${forWhat}`, command);
      }
      value = next;
      i++;
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), String(value)];
    else values[name] = value;
  }
  for (const [name, spec] of Object.entries(options)) if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  return { values, positionals };
}

/** The options part of `help <command>`: one line each, with the value, the default and the config key. */
export function optionsHelp(options: Record<string, OptionSpec>): string[] {
  const left = Object.entries(options).map(([n, o]) => `  ${o.short ? `-${o.short}, ` : ''}--${n}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return Object.values(options).map((o, i) => {
    const extra = [o.default !== undefined && o.default !== false ? `default: ${String(o.default)}` : undefined, o.configKey ? `config key: ${o.configKey}` : undefined].filter(Boolean);
    const text = [o.description, extra.length ? `(${extra.join('; ')})` : undefined].filter(Boolean).join(' ');
    return `${left[i].padEnd(width)}${text}`.trimEnd();
  });
}

/** A non-negative integer option or argument, or undefined. */
export function integer(value: string | boolean | string[] | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new UsageError(`${what} must be a non-negative integer, got '${String(value)}'`);
  return Number(value);
}

/** A number of seconds in [min, max]. */
export function seconds(value: string | boolean | string[] | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${what} must be a number of seconds in [${min}, ${max}], got '${String(value)}'`);
  return n;
}

/** Exactly `count` positional arguments, or a usage error naming them. */
export function positionals(args: string[], count: number, names: string): string[] {
  if (args.length !== count) throw new UsageError(`expected ${names}${args.length > count ? `, got also '${args[count]}'` : ''}`);
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
