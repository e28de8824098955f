// The xdp-root command-line helpers as pure functions: the option parser every subcommand uses,
// the help lines it prints, the argument checks and the error text. No kernel, no child process.
// @module-tag pure
import { describe, expect, it } from 'vitest';
import { UsageError, cliErrorText, ifaceArg, integer, optionsHelp, parseCommandLine, positionals, seconds, type OptionSpec } from '../../lib/cli/command';
import { BpfError } from '../../lib/errors';

const table: Record<string, OptionSpec> = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  mode: { type: 'string', value: 'skb|native', default: 'skb' },
  slots: { type: 'string', short: 's' },
  tag: { type: 'string', multiple: true },
};

/** The UsageError a call throws (fails the test if it throws something else or nothing). */
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('parseCommandLine', () => {
  it('reads --name value, --name=value, short aliases and booleans; keeps positionals in order', () => {
    const r = parseCommandLine(['attach', '--slots', '8', 'eth0', '--json', '-h', '--mode=native', 'x'], table, 'attach');
    expect(r.positionals).toEqual(['attach', 'eth0', 'x']);
    expect(r.values).toEqual({ slots: '8', json: true, help: true, mode: 'native' });
  });

  it('fills defaults only for options not given, and leaves the others undefined', () => {
    const r = parseCommandLine([], table, undefined);
    expect(r).toEqual({ values: { mode: 'skb' }, positionals: [] });
    expect(Object.keys(r.values)).toEqual(['mode']);
    expect(parseCommandLine(['--mode', 'native'], table, undefined).values.mode).toBe('native');
  });

  it('a short alias takes its value from the next argument', () => {
    expect(parseCommandLine(['-s', '4'], table, 'attach')).toEqual({ values: { slots: '4', mode: 'skb' }, positionals: [] });
  });

  it('collects a multiple option into a list, in order; a single one keeps the last value', () => {
    expect(parseCommandLine(['--tag', 'a', '--tag=b', '--tag', 'c'], table, undefined).values.tag).toEqual(['a', 'b', 'c']);
    expect(parseCommandLine(['--tag', 'only'], table, undefined).values.tag).toEqual(['only']);
    expect(parseCommandLine(['--slots', '1', '--slots', '2'], table, undefined).values.slots).toBe('2');
  });

  it('stops reading options at --: what follows is positional, even if it looks like an option', () => {
    expect(parseCommandLine(['a', '--', '--json', '-h', '--'], table, undefined)).toEqual({ values: { mode: 'skb' }, positionals: ['a', '--json', '-h', '--'] });
  });

  it('treats a lone "-" as a positional and as a value', () => {
    expect(parseCommandLine(['-'], table, undefined).positionals).toEqual(['-']);
    expect(parseCommandLine(['--slots', '-'], table, undefined).values.slots).toBe('-');
  });

  it('takes a negative number as a value, but not an option', () => {
    expect(parseCommandLine(['--slots', '-1'], table, undefined).values.slots).toBe('-1');
    const e = usageError(() => parseCommandLine(['--slots', '--json'], table, 'attach'));
    expect(e.message).toBe('--slots needs a value (VALUE) for attach');
    expect([e.name, e.command]).toEqual(['UsageError', 'attach']);
    expect(e).toBeInstanceOf(Error);
    // Only a leading "-<digit>" makes a value of something that starts with "-".
    expect(usageError(() => parseCommandLine(['--slots', '-x-1'], table, undefined)).message).toBe('--slots needs a value (VALUE)');
  });

  it('an inline value may be empty or contain "="', () => {
    expect(parseCommandLine(['--mode='], table, undefined).values.mode).toBe('');
    expect(parseCommandLine(['--mode=a=b'], table, undefined).values.mode).toBe('a=b');
  });

  it('a string option at the end needs a value, named by its placeholder', () => {
    const e = usageError(() => parseCommandLine(['--mode'], table, 'attach'));
    expect(e.message).toBe('--mode needs a value (skb|native) for attach');
    expect(usageError(() => parseCommandLine(['--slots'], table, undefined)).message).toBe('--slots needs a value (VALUE)');
  });

  it('refuses a value given to a boolean', () => {
    const e = usageError(() => parseCommandLine(['--json=yes'], table, 'status'));
    expect(e.message).toBe("--json takes no value for status, got '--json=yes'");
    expect(e.command).toBe('status');
  });

  it('refuses an unknown long or short option, naming it (without its value) and listing the known ones', () => {
    const known = '(it takes --json, --help, --mode, --slots, --tag)';
    expect(usageError(() => parseCommandLine(['--nope=3'], table, 'attach')).message).toBe(`unknown option '--nope' for attach ${known}`);
    expect(usageError(() => parseCommandLine(['-x'], table, undefined)).message).toBe(`unknown option '-x' ${known}`);
    // A bundle of short flags is not supported: it is one unknown option.
    expect(usageError(() => parseCommandLine(['-hs'], table, undefined)).message).toBe(`unknown option '-hs' ${known}`);
    // A key of Object.prototype is not an option.
    expect(usageError(() => parseCommandLine(['--toString'], table, undefined)).message).toBe(`unknown option '--toString' ${known}`);
    expect(usageError(() => parseCommandLine(['--toString=x'], table, undefined)).message).toBe(`unknown option '--toString' ${known}`);
    expect(usageError(() => parseCommandLine(['--constructor'], {}, undefined)).message).toBe("unknown option '--constructor' (it takes )");
  });

  it('a short letter that belongs to no option is unknown, even when a long option has that name', () => {
    expect(() => parseCommandLine(['-j'], { j: { type: 'boolean' } }, undefined)).toThrow(UsageError);
    // Whatever the options are called (even "undefined").
    expect(() => parseCommandLine(['-z'], { undefined: { type: 'boolean' } }, undefined)).toThrow(UsageError);
  });
});

describe('optionsHelp', () => {
  it('one aligned line per option: alias, name, value, description, default and config key', () => {
    const lines = optionsHelp({
      json: { type: 'boolean', description: 'print JSON' },
      help: { type: 'boolean', short: 'h', description: 'this help', default: false },
      mode: { type: 'string', value: 'MODE', default: 'skb', description: 'attach mode', configKey: 'mode' },
      slots: { type: 'string', default: '4' },
      quiet: { type: 'boolean', default: true },
      pin: { type: 'string', configKey: 'pinBase' },
    });
    expect(lines).toEqual([
      '  --json         print JSON',
      '  -h, --help     this help',
      '  --mode MODE    attach mode (default: skb; config key: mode)',
      '  --slots VALUE  (default: 4)',
      '  --quiet        (default: true)',
      '  --pin VALUE    (config key: pinBase)',
    ]);
  });
});

describe('argument checks', () => {
  it('integer: digits only, or undefined', () => {
    expect(integer(undefined, 'slots')).toBeUndefined();
    expect(integer('0', 'slots')).toBe(0);
    expect(integer('42', 'slots')).toBe(42);
    for (const bad of ['', '-1', '1.5', '1e3', ' 1', '1 ', 'x1', '1x']) {
      expect(usageError(() => integer(bad, '--slots')).message).toBe(`--slots must be a non-negative integer, got '${bad}'`);
    }
    expect(usageError(() => integer(true, '--slots')).message).toBe("--slots must be a non-negative integer, got 'true'");
    expect(() => integer(['1'], '--slots')).toThrow(UsageError);
  });

  it('seconds: a decimal number within [min, max], both ends included', () => {
    expect(seconds(undefined, '--interval', 1, 60)).toBeUndefined();
    expect(seconds('1', '--interval', 1, 60)).toBe(1);
    expect(seconds('60', '--interval', 1, 60)).toBe(60);
    expect(seconds('2.5', '--interval', 1, 60)).toBe(2.5);
    expect(seconds('12.25', '--interval', 1, 60)).toBe(12.25);
    for (const bad of ['0.5', '60.1', '', '1.', '.5', '-2', '2s', 'x2.5', '2.5x', 'NaN', ' 2', '2 ', '0x10', '1e1']) {
      expect(usageError(() => seconds(bad, '--interval', 1, 60)).message).toBe(`--interval must be a number of seconds in [1, 60], got '${bad}'`);
    }
    expect(() => seconds(true, '--interval', 0, 60)).toThrow(UsageError);
    expect(() => seconds(['2'], '--interval', 0, 60)).toThrow(UsageError);
  });

  it('positionals: exactly the count, naming what was expected and the first extra', () => {
    expect(positionals(['eth0', '2'], 2, '<iface> <slot>')).toEqual(['eth0', '2']);
    expect(usageError(() => positionals(['eth0'], 2, '<iface> <slot>')).message).toBe('expected <iface> <slot>');
    expect(usageError(() => positionals(['eth0', '2', 'x', 'y'], 2, '<iface> <slot>')).message).toBe("expected <iface> <slot>, got also 'x'");
  });

  it('ifaceArg: all digits is an ifindex, anything else a name', () => {
    expect(ifaceArg('3')).toBe(3);
    expect(ifaceArg('12')).toBe(12);
    expect(ifaceArg('eth0')).toBe('eth0');
    expect(ifaceArg('3a')).toBe('3a');
    expect(ifaceArg('a3')).toBe('a3');
    expect(ifaceArg('')).toBe('');
  });
});

describe('cliErrorText', () => {
  it('a BpfError: its summary, then the CLI hint if it has one, else the library hint', () => {
    const withCli = new BpfError('attach', 19, undefined, 'pass { netns }', [], {}, 'pass --netns PATH');
    expect(cliErrorText(withCli)).toBe(`${withCli.summary.replace(/\n+$/, '')}. Hint: pass --netns PATH`);
    const libOnly = new BpfError('attach', 19, undefined, 'pass { netns }');
    expect(cliErrorText(libOnly)).toBe(`${libOnly.summary.replace(/\n+$/, '')}. Hint: pass { netns }`);
    const none = new BpfError('attach', 19, 'no such device', undefined);
    expect(none.hint).toBeUndefined();
    expect(cliErrorText(none)).toBe(none.summary.replace(/\n+$/, ''));
  });

  it('a multi-line summary puts the hint on its own line and drops trailing newlines', () => {
    const e = new BpfError('attach', 19, 'first\nsecond\n\n', 'do this');
    expect(e.summary.endsWith('\n')).toBe(true);
    expect(cliErrorText(e)).toBe(`${e.summary.replace(/\n+$/, '')}\nHint: do this`);
    expect(cliErrorText(e)).not.toMatch(/\n\nHint/);
  });

  it('any other Error: its first line; anything else: as a string', () => {
    expect(cliErrorText(new TypeError('bad value\n  at somewhere'))).toBe('bad value');
    expect(cliErrorText(new Error(''))).toBe('');
    expect(cliErrorText('plain')).toBe('plain');
    expect(cliErrorText(42)).toBe('42');
    expect(cliErrorText(undefined)).toBe('undefined');
  });
});
