#!/usr/bin/env node
/**
 * `xdp-root`: attach, load, inspect, repair and detach XDP root arrays from the command line.
 *
 * ```
 * xdp-root attach <iface> [--mode skb|native] [--slots N] [--force] [--pass-meta]
 * xdp-root load <iface> <slot> <object.o|shipped-name> [--program NAME] [--sha256 HEX] [--insecure]
 * xdp-root unload <iface> <slot>
 * xdp-root status [iface…] [--json]
 * xdp-root clear <iface> [--slot N]
 * xdp-root detach <iface> [--force]
 * xdp-root repair <iface>
 * xdp-root cleanup --orphans
 * xdp-root migrate
 * xdp-root capture <iface> [--slot N] [--action drop,…] [-w FILE|-] …   (lib/cli/capture.ts)
 * xdp-root help [command]
 * xdp-root --version
 * xdp-root apply <config.yaml> [--dry-run] [--prune] [--state FILE] [--insecure]   (lib/cli/apply.ts)
 * xdp-root agent --config <config.yaml> [--metrics …] [--insecure]     (lib/cli/agent.ts)
 * xdp-root top [iface…] [--once]                                       (lib/cli/top.ts)
 * ```
 * Every command takes `--netns PATH` (the interface's network namespace), `--pin-base DIR` (a
 * bpffs folder other than /sys/fs/bpf/xdp-root) and `--debug` (stack traces). An interface is a
 * name or an ifindex. Errors are one line on stderr and a non-zero exit (2 for a command-line
 * mistake).
 *
 * The subcommands are the table {@link commands}: a new one is a file exporting a
 * {@link Command} (see `command.ts`) and one line there. One parser ({@link parseCommandLine})
 * reads every command's options from the table it declares, so `help <command>` lists exactly
 * what is accepted.
 *
 * @internal
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_PIN_BASE, RootArray, type RootArrayLocation, type RootEntry } from '../rootarray/root-array';
import { BpfError, BpfStateError, BpfVerifierError } from '../errors';
import { errorReason, FleetApplyError } from '../fleet/apply';
import { checkBpffs, netnsId, sameNetns } from '../rootarray/state';
import { formatNoRoot, formatStatus, metadataLine, statusToJson } from '../rootarray/status';
import { objectFileFor, objectNameOf, slotPrograms } from '../fleet/config';
import { formatProblem, normalizeSha256, readTrusted } from '../fleet/trust';
import { printApplyError } from './apply';
import { fleetCommands } from './fleet';
import { warnInsecure } from './insecure';
import { capture } from './capture';
import { UsageError, cliErrorText, ifaceArg, integer, optionsHelp, parseCommandLine, positionals, type Command, type CommandContext, type OptionSpec } from './command';

/** The options every command takes. */
const commonOptions: Record<string, OptionSpec> = {
  netns: { type: 'string', value: 'PATH', description: "the interface's network namespace (/run/netns/NAME or /proc/PID/ns/net); apply/agent: of interfaces the config lists without netns" },
  'pin-base': { type: 'string', value: 'DIR', default: DEFAULT_PIN_BASE, configKey: 'pinBase', description: 'the bpffs folder of the root arrays' },
  debug: { type: 'boolean', description: 'stack traces and whole verifier logs' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
  version: { type: 'boolean', description: "the package's version" },
};

const attach: Command = {
  usage: '<iface> [--mode skb|native|hw] [--slots N] [--force] [--pass-meta]',
  summary: 'attach a root array (idempotent; a running root in another mode is an error)',
  help:
    'A root pinned but no longer attached is attached again with its slots. --force replaces a foreign XDP program.\n' +
    '--pass-meta: the root parses each packet once and hands the summary to the slots in the XDP metadata area,\n' +
    "where the kernel's probe (xdp-meta-64) says it can; elsewhere it stays off and `status` says why.\n" +
    'A root already running without it is reloaded with it, swapped in atomically (slots, mode and counters stay).',
  options: {
    mode: { type: 'string', value: 'skb|native|hw', description: "XDP mode (default: the kernel's choice)" },
    slots: { type: 'string', value: 'N', description: 'number of slots, 1 to 32 (default 8), fixed for the life of the root' },
    force: { type: 'boolean', description: 'replace a foreign XDP program' },
    'pass-meta': { type: 'boolean', description: 'hand parsed packets to the slots in the XDP metadata area, where the kernel can (see docs/kernels.md)' },
  },
  async run({ args, values, where }) {
    const [ifname] = positionals(args, 1, '<iface>');
    const mode = values.mode;
    if (mode !== undefined && mode !== 'skb' && mode !== 'native' && mode !== 'hw') {
      throw new UsageError(`--mode must be skb, native or hw, got '${String(mode)}'`);
    }
    const passMeta = values['pass-meta'] === true ? true : undefined;
    using root = await RootArray.attach(ifaceArg(ifname), { ...where, mode, slots: integer(values.slots, '--slots'), force: values.force as boolean | undefined, passMeta });
    const s = root.status();
    console.log(`root array attached to ${s.ifname}: ${s.slotCount} slots, mode ${s.mode ?? 'unknown'}, root program ${s.rootProgId} (ifindex ${s.ifindex}, netns inode ${s.netnsIno})`);
    console.log(metadataLine(s));
    return 0;
  },
};

const load: Command = {
  usage: '<iface> <slot> <object.o|shipped-name> [--program NAME] [--sha256 HEX] [--insecure]',
  summary: "put an object's XDP program in a slot (atomic replace)",
  help:
    `The object is a path to a .bpf.o or a shipped program's name (${Object.keys(slotPrograms).join(', ')}), as in a config file.\n` +
    'The object, and every folder above it, must be owned by root and not writable by group or others,\n' +
    'unless --sha256 pins its hash (then only its bytes are checked). It is read once and those bytes are loaded.\n' +
    '--insecure waives the ownership checks, with a warning (development only). See docs/fleet-security.md.',
  options: {
    program: { type: 'string', value: 'NAME', description: 'the XDP program of the object (when it has several)' },
    sha256: { type: 'string', value: 'HEX', description: "the object's pinned SHA-256 (64 hex digits): its bytes must match, wherever it is" },
    insecure: { type: 'boolean', description: 'waive the ownership checks (development only; --sha256 still checked; prints a warning)' },
  },
  exitCodes: { 1: 'failed: the object is untrusted or does not match --sha256, the verifier refused it, … (stderr says why; nothing changed)' },
  async run({ args, values, where }) {
    const [ifname, slotText, objectText] = positionals(args, 3, '<iface> <slot> <object.o>');
    const slot = integer(slotText, '<slot>')!;
    if (values.sha256 !== undefined && (typeof values.sha256 !== 'string' || normalizeSha256(values.sha256) === undefined)) {
      throw new UsageError(`--sha256 must be 64 hex digits, got '${String(values.sha256)}'`, 'load');
    }
    const resolved = existsSync(objectText) ? undefined : objectFileFor(objectText, process.cwd());
    if (resolved === undefined && !existsSync(objectText)) {
      throw new BpfStateError(`no object '${objectText}': neither a file nor a shipped program (${Object.keys(slotPrograms).join(', ')})`);
    }
    const object = resolved?.file ?? objectText;
    using root = RootArray.open(ifaceArg(ifname), where);
    // Read once, checked (trust rule or pinned hash), and those bytes loaded: never the path again.
    const verified = readTrusted(object, { what: 'object', sha256: values.sha256 as string | undefined, insecure: values.insecure === true });
    if (values.insecure === true) warnInsecure(verified.waived.map((p) => `${verified.path}: ${formatProblem(p)}`));
    const s = await root.load(slot, verified.bytes, { program: values.program as string | undefined, objectName: objectNameOf(verified.path) });
    console.log(`slot ${slot} on ${root.ifname}: ${s.name} (id ${s.progId}, sha256 ${verified.sha256})${s.counted ? '' : ', a plain program: verdicts not counted'}`);
    return 0;
  },
};

const unload: Command = {
  usage: '<iface> <slot>',
  summary: 'empty a slot',
  async run({ args, where }) {
    const [ifname, slotText] = positionals(args, 2, '<iface> <slot>');
    const slot = integer(slotText, '<slot>')!;
    using root = RootArray.open(ifaceArg(ifname), where);
    const removed = await root.remove(slot);
    console.log(removed ? `slot ${slot} on ${root.ifname} emptied` : `slot ${slot} on ${root.ifname} was already empty`);
    return 0;
  },
};

/** What `status` prints for one listed root that cannot be opened: an orphan, or one needing repair. */
function entryLine(e: RootEntry): string {
  const ns = e.netns === undefined ? '' : ` netns ${e.netns}`;
  const tag = e.orphan ? 'ORPHAN' : e.condition.toUpperCase();
  const fix = e.orphan ? ' (`xdp-root cleanup --orphans` removes it)' : '';
  return `${tag}: root array of ${e.ifname ?? '?'} (ifindex ${e.ifindex ?? '?'}${ns}, netns inode ${e.netnsIno ?? '?'}) at ${e.dir}: ${e.condition}, ${e.detail}${fix}`;
}

function entryJson(e: RootEntry): unknown {
  return { attached: false, ...(statusToJson(e as never) as object) };
}

const status: Command = {
  usage: '[iface...] [--json]',
  summary: 'show slots and counters; without an interface, every root array under the pin base, orphans marked',
  help: 'Without an interface: every root array in every namespace (with --netns, only that namespace\'s), each one whose namespace or interface is gone, or whose root no longer runs, marked ORPHAN.',
  options: { json: { type: 'boolean', description: 'JSON instead of tables' } },
  async run({ args, values, where }) {
    const out: unknown[] = [];
    const show = (root: RootArray): void => {
      const s = root.status();
      const attached = s.mode !== undefined;
      if (values.json) out.push({ attached, ...(statusToJson(s) as object) });
      else console.log(`${formatStatus(s)}\n${attached ? '' : `(the root is pinned but not attached to ${s.ifname}: run xdp-root attach or detach)\n`}`);
    };
    if (args.length > 0) {
      for (const ifname of args) {
        let root: RootArray;
        try {
          root = RootArray.open(ifaceArg(ifname), where);
        } catch (e) {
          if (!(e instanceof BpfStateError && e.message.startsWith('no root array'))) throw e;
          if (values.json) out.push({ ifname, attached: false });
          else console.log(`${formatNoRoot(ifname)}\n`);
          continue;
        }
        using owned = root;
        show(owned);
      }
    } else {
      const only = where.netns === undefined ? undefined : netnsId(where.netns);
      const entries = RootArray.list({ pinBase: where.pinBase }).filter(
        (e) => only === undefined || (e.netnsIno !== undefined && sameNetns(only, { dev: e.netnsDev!, ino: e.netnsIno })),
      );
      for (const e of entries) {
        let root: RootArray | undefined;
        if (e.condition === 'attached' && e.ifindex !== undefined) {
          try {
            root = RootArray.open(e.ifindex, { netns: e.netns, pinBase: where.pinBase });
          } catch (err) {
            // Detached or changed since it was listed: show it as listed.
            if (!(err instanceof BpfStateError || (err instanceof BpfError && err.code === 'ENODEV'))) throw err;
          }
        }
        if (root !== undefined) {
          using owned = root;
          show(owned);
        } else if (values.json) {
          out.push(entryJson(e));
        } else {
          console.log(`${entryLine(e)}\n`);
        }
      }
      if (entries.length === 0 && !values.json) console.log('no root arrays attached');
    }
    if (values.json) console.log(JSON.stringify(out, null, 2));
    return 0;
  },
};

const clear: Command = {
  usage: '<iface> [--slot N]',
  summary: 'reset counters (one slot, or all)',
  options: { slot: { type: 'string', value: 'N', description: 'only this slot' } },
  async run({ args, values, where }) {
    const [ifname] = positionals(args, 1, '<iface>');
    using root = RootArray.open(ifaceArg(ifname), where);
    root.clear(integer(values.slot, '--slot'));
    console.log(`counters on ${root.ifname} reset`);
    return 0;
  },
};

const detach: Command = {
  usage: '<iface> [--force]',
  summary: 'detach the root (confirmed with the kernel) and remove its pins, complete or not',
  help: '--force also detaches an xdp_root whose pins are missing (otherwise: run repair first).',
  options: { force: { type: 'boolean', description: 'also detach an xdp_root whose pins are missing' } },
  async run({ args, values, where }) {
    const [ifname] = positionals(args, 1, '<iface>');
    // cleanup() also removes what an interrupted attach or detach left half-way.
    if (!(await RootArray.cleanup(ifaceArg(ifname), { ...where, force: values.force === true }))) {
      throw new BpfStateError(`no root array on ${ifname}: nothing attached or pinned`);
    }
    console.log(`root array detached from ${ifname}`);
    return 0;
  },
};

const repair: Command = {
  usage: '<iface>',
  summary: 're-pin what is missing for the xdp_root running on an interface',
  async run({ args, where }) {
    const [ifname] = positionals(args, 1, '<iface>');
    using root = await RootArray.repair(ifaceArg(ifname), where);
    console.log(`root array on ${root.ifname} repaired: root program ${root.status().rootProgId}, pins complete at ${root.dir}`);
    return 0;
  },
};

const cleanup: Command = {
  usage: '--orphans',
  summary: 'remove every orphan: root arrays whose namespace or interface is gone, or whose root no longer runs',
  options: { orphans: { type: 'boolean', description: 'required: what to remove' } },
  async run({ args, values, where }) {
    positionals(args, 0, 'no argument (use detach <iface> for one interface)');
    if (!values.orphans) throw new UsageError('cleanup needs --orphans (use detach <iface> for one interface)');
    if (where.netns !== undefined) throw new UsageError('cleanup --orphans acts on every namespace; --netns does not apply');
    const removed = await RootArray.cleanupOrphans({ pinBase: where.pinBase });
    for (const e of removed) console.log(`removed ${entryLine(e).replace(/ \(`xdp-root cleanup --orphans` removes it\)$/, '')}`);
    console.log(`${removed.length} orphan${removed.length === 1 ? '' : 's'} removed`);
    return 0;
  },
};

const migrate: Command = {
  usage: '',
  summary: 'convert root arrays pinned in the old <ifname>[@netns] layout',
  async run({ args, where }) {
    positionals(args, 0, 'no argument');
    const moved = await RootArray.migrate({ pinBase: where.pinBase });
    for (const m of moved) console.log(`migrated ${m.from} -> ${m.to}`);
    console.log(`${moved.length} root arrays migrated`);
    return 0;
  },
};

/** Every subcommand, by name. To add one: a file exporting a {@link Command}, and a line here. */
export const commands: Record<string, Command> = {
  attach,
  load,
  unload,
  status,
  clear,
  detach,
  repair,
  cleanup,
  migrate,
  capture,
  ...fleetCommands,
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  xdp-root ${name} ${c.usage}`.trimEnd());
  return `usage:
${lines.join('\n')}
  xdp-root help [command]
  xdp-root --version
options for every command:
${optionsHelp(commonOptions).join('\n')}
an interface is a name or an ifindex; \`xdp-root help <command>\` lists its options, defaults and exit codes`;
}

/** `help <command>`: usage, what it does, its options with defaults, the common ones, exit codes. */
export function commandHelp(name: string): string {
  const c = commands[name];
  if (c === undefined) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})`);
  const own = c.options ?? {};
  const codes: Record<number, string> = { 0: 'done', 1: 'failed (one line on stderr says why)', 2: 'a command-line mistake', ...(c.exitCodes ?? {}) };
  return [
    `usage: xdp-root ${name} ${c.usage}`.trimEnd(),
    '',
    c.summary,
    ...(c.help ? ['', c.help] : []),
    ...(Object.keys(own).length ? ['', 'options:', ...optionsHelp(own)] : []),
    '',
    'options for every command:',
    ...optionsHelp(commonOptions),
    '',
    'exit codes:',
    ...Object.entries(codes).map(([k, v]) => `  ${k}  ${v}`),
  ].join('\n');
}

/** One command's usage line, for a command-line mistake. */
function shortUsage(name: string | undefined): string {
  const c = name === undefined ? undefined : commands[name];
  if (c === undefined) return usage();
  return `usage: xdp-root ${name} ${c.usage}`.trimEnd() + `\n(xdp-root help ${name}: options, defaults and exit codes)`;
}

/** This package's version, from the package.json above this file. */
function version(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'libbpf-node') return pkg.version ?? 'unknown';
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** Validates --netns and --pin-base before any command uses them: unknown paths are errors. */
function checkWhere(where: RootArrayLocation): void {
  if (where.netns !== undefined) netnsId(where.netns); // RangeError: not a namespace file
  if (where.pinBase !== undefined) {
    if (!where.pinBase.startsWith('/sys/fs/bpf/') || where.pinBase.split('/').includes('..')) {
      throw new UsageError(`--pin-base must be a folder under /sys/fs/bpf/ without '..', got '${where.pinBase}'`);
    }
  }
  checkBpffs(where.pinBase ?? DEFAULT_PIN_BASE);
}

async function run(argv: string[]): Promise<number> {
  const first = argv.find((a) => !a.startsWith('-'));
  const command = first === undefined ? undefined : commands[first];
  const { values, positionals: rest } = parseCommandLine(argv, { ...commonOptions, ...(command?.options ?? {}) }, command ? first : undefined);
  if (values.version) {
    console.log(`xdp-root ${version()}`);
    return 0;
  }
  const [name, ...args] = rest;
  if (name === 'help') {
    console.log(args.length > 0 ? commandHelp(args[0]) : usage());
    return 0;
  }
  if (values.help || name === undefined) {
    console.log(name !== undefined && commands[name] ? commandHelp(name) : usage());
    return values.help ? 0 : 2;
  }
  if (command === undefined) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})`);
  // The default pin base is filled in for help only: a command gets undefined when none is given.
  const pinBase = argv.some((a) => a === '--pin-base' || a.startsWith('--pin-base=')) ? (values['pin-base'] as string) : undefined;
  const where: RootArrayLocation = { netns: values.netns as string | undefined, pinBase };
  checkWhere(where);
  const ctx: CommandContext = { args, values, where };
  return command.run(ctx);
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`xdp-root: ${e.message}\n${shortUsage(e.command ?? argv.find((a) => !a.startsWith('-')))}`);
      return 2;
    }
    if (e instanceof FleetApplyError) {
      // Its lines: what happened, then one per failure (config file:line, interface, slot, cause).
      printApplyError(e, debug);
      return 1;
    }
    if (e instanceof BpfVerifierError) {
      // The first line of the message ends at a colon: the cause is in the log.
      console.error(`xdp-root: ${errorReason(e)}`);
      const hint = e.cliHint ?? e.hint;
      if (hint) console.error(`Hint: ${hint}`);
      console.error(debug ? `--- verifier log ---\n${e.log.trimEnd()}\n---\n${e.stack}` : '(--debug prints the whole verifier log)');
      return 1;
    }
    console.error(debug && e instanceof Error ? e.stack : `xdp-root: ${cliErrorText(e)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
