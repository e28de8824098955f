#!/usr/bin/env node
/**
 * `xdp-root`: attach, load, inspect and detach XDP root arrays from the command line.
 *
 * ```
 * xdp-root attach <iface> [--mode skb|native] [--slots N] [--force]
 * xdp-root load <iface> <slot> <object.o> [--program NAME]
 * xdp-root unload <iface> <slot>
 * xdp-root status [iface…] [--json]
 * xdp-root clear <iface> [--slot N]
 * xdp-root detach <iface>
 * xdp-root apply <config.yaml> [--dry-run] [--prune]     (lib/cli/apply.ts)
 * xdp-root agent --config <config.yaml> [--metrics …]   (lib/cli/agent.ts)
 * xdp-root top [iface…] [--once]                          (lib/cli/top.ts)
 * ```
 * Every command takes `--netns PATH` (the interface's network namespace), `--pin-base DIR` (a
 * bpffs folder other than /sys/fs/bpf/xdp-root) and `--debug` (stack traces). Errors are one line on stderr and a non-zero exit.
 *
 * @internal
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_PIN_BASE, RootArray, rootArrayDir } from '../root-array';
import { BpfStateError } from '../errors';
import { formatNoRoot, formatStatus, statusToJson } from '../root-array-status';
import { fleetCommand, fleetUsage } from './fleet';

const usage = `usage:
  xdp-root attach <iface> [--mode skb|native] [--slots N] [--force]
  xdp-root load <iface> <slot> <object.o> [--program NAME]
  xdp-root unload <iface> <slot>
  xdp-root status [iface...] [--json]
  xdp-root clear <iface> [--slot N]
  xdp-root detach <iface>
${fleetUsage}
options for every command: --netns PATH (the interface's network namespace),
  --pin-base DIR (a bpffs folder other than ${DEFAULT_PIN_BASE}), --debug`;

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

function integer(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function positionals(args: string[], count: number, names: string): string[] {
  if (args.length !== count) throw new UsageError(`expected ${names}`);
  return args;
}

/** The interfaces that have a root array pinned (in the caller's namespace). */
function attachedInterfaces(pinBase: string | undefined): string[] {
  try {
    return readdirSync(pinBase ?? DEFAULT_PIN_BASE).filter((n) => !n.includes('@') && RootArray.exists(n, { pinBase }));
  } catch {
    return [];
  }
}

async function run(argv: string[]): Promise<number> {
  const fleet = fleetCommand(argv[0]);
  if (fleet) return fleet(argv.slice(1));
  const { values, positionals: rest } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      mode: { type: 'string' },
      slots: { type: 'string' },
      slot: { type: 'string' },
      force: { type: 'boolean' },
      program: { type: 'string' },
      json: { type: 'boolean' },
      netns: { type: 'string' },
      'pin-base': { type: 'string' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = rest;
  if (values.help || command === undefined) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const netns = values.netns;
  const where = { netns, pinBase: values['pin-base'] };
  switch (command) {
    case 'attach': {
      const [ifname] = positionals(args, 1, '<iface>');
      const mode = values.mode;
      if (mode !== undefined && mode !== 'skb' && mode !== 'native' && mode !== 'hw') {
        throw new UsageError(`--mode must be skb, native or hw, got '${mode}'`);
      }
      using root = await RootArray.attach(ifname, { ...where, mode, slots: integer(values.slots, '--slots'), force: values.force });
      const s = root.status();
      console.log(`root array attached to ${ifname}: ${s.slotCount} slots, mode ${s.mode ?? 'unknown'}, root program ${s.rootProgId}`);
      return 0;
    }
    case 'load': {
      const [ifname, slotText, object] = positionals(args, 3, '<iface> <slot> <object.o>');
      const slot = integer(slotText, '<slot>')!;
      using root = RootArray.open(ifname, where);
      const s = await root.load(slot, object, { program: values.program });
      console.log(`slot ${slot} on ${ifname}: ${s.name} (id ${s.progId})${s.counted ? '' : ', a plain program: verdicts not counted'}`);
      return 0;
    }
    case 'unload': {
      const [ifname, slotText] = positionals(args, 2, '<iface> <slot>');
      const slot = integer(slotText, '<slot>')!;
      using root = RootArray.open(ifname, where);
      const removed = await root.remove(slot);
      console.log(removed ? `slot ${slot} on ${ifname} emptied` : `slot ${slot} on ${ifname} was already empty`);
      return 0;
    }
    case 'status': {
      const ifnames = args.length > 0 ? args : attachedInterfaces(where.pinBase);
      const out: unknown[] = [];
      for (const ifname of ifnames) {
        // A folder without a root pin is an interrupted attach or detach: open() completes it
        // (the running root is adopted) or says how to repair it.
        if (!existsSync(rootArrayDir(ifname, where))) {
          if (values.json) out.push({ ifname, attached: false });
          else console.log(`${formatNoRoot(ifname)}\n`);
          continue;
        }
        let root: RootArray;
        try {
          root = RootArray.open(ifname, where);
        } catch (e) {
          // An empty folder (an attach killed right after creating it): nothing is attached.
          if (!(e instanceof BpfStateError && e.message.startsWith('no root array'))) throw e;
          if (values.json) out.push({ ifname, attached: false });
          else console.log(`${formatNoRoot(ifname)}\n`);
          continue;
        }
        using owned = root;
        const status = owned.status();
        // A pinned root that is not on the interface: a detach was interrupted.
        const attached = status.mode !== undefined;
        if (values.json) out.push({ attached, ...(statusToJson(status) as object) });
        else console.log(`${formatStatus(status)}\n${attached ? '' : `(the root is pinned but not attached to ${ifname}: run xdp-root attach or detach)\n`}`);
      }
      if (values.json) console.log(JSON.stringify(out, null, 2));
      else if (ifnames.length === 0) console.log('no root arrays attached');
      return 0;
    }
    case 'clear': {
      const [ifname] = positionals(args, 1, '<iface>');
      using root = RootArray.open(ifname, where);
      root.clear(integer(values.slot, '--slot'));
      console.log(`counters on ${ifname} reset`);
      return 0;
    }
    case 'detach': {
      const [ifname] = positionals(args, 1, '<iface>');
      // cleanup() also removes what an interrupted attach or detach left half-way.
      if (!(await RootArray.cleanup(ifname, where))) throw new Error(`no root array on ${ifname}`);
      console.log(`root array detached from ${ifname}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    const debug = argv.includes('--debug');
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`xdp-root: ${e.message}\n${usage}`);
      return 2;
    }
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    console.error(debug && e instanceof Error ? e.stack : `xdp-root: ${message}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
