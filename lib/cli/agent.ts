/**
 * `xdp-root agent --config FILE`: the node agent (see FleetAgent), with signals: SIGHUP
 * re-applies the config, SIGTERM and SIGINT stop the agent and leave every program running.
 *
 * @internal
 * @module
 */
import { parseArgs } from 'node:util';
import { FleetAgent, type AgentLog } from '../fleet/agent';
import { DEFAULT_STATE_FILE } from '../fleet/state';

export const agentUsage = `  xdp-root agent --config <config.yaml> [--interval SECONDS] [--metrics HOST:PORT|off]
                 [--run-stats] [--prune] [--state FILE] [--log-format text|json] [--insecure]`;

/** `127.0.0.1:9102`, `[::1]:9102` → host and port. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`--metrics must be HOST:PORT (like 127.0.0.1:9102 or [::1]:9102) or off, got '${text}'`);
  return { host: m[1] ?? m[2], port };
}

function logger(format: string): AgentLog {
  if (format === 'json') {
    return (level, msg, fields) => console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  }
  return (level, msg, fields) => {
    const rest = Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
      .join(' ');
    console.log(`${new Date().toISOString()} ${level} ${msg}${rest ? ` ${rest}` : ''}`);
  };
}

/** Runs the agent until SIGTERM/SIGINT; returns the exit code. */
export async function agentCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      interval: { type: 'string' },
      metrics: { type: 'string' },
      'run-stats': { type: 'boolean' },
      prune: { type: 'boolean' },
      state: { type: 'string' },
      'log-format': { type: 'string' },
      debug: { type: 'boolean' },
      insecure: { type: 'boolean' },
    },
  });
  const format = values['log-format'] ?? 'text';
  if (values.config === undefined || positionals.length > 0 || (format !== 'text' && format !== 'json')) {
    console.error(`xdp-root: ${values.config === undefined ? 'expected --config FILE' : positionals.length ? `unexpected '${positionals[0]}'` : `--log-format must be text or json, got '${format}'`}\nusage:\n${agentUsage}`);
    return 2;
  }
  const seconds = values.interval === undefined ? 10 : Number(values.interval);
  if (!(seconds >= 0.1 && seconds <= 86400)) {
    console.error(`xdp-root: --interval must be a number of seconds in [0.1, 86400], got '${values.interval}'`);
    return 2;
  }
  const metrics = values.metrics === 'off' ? false : parseListenAddress(values.metrics ?? '127.0.0.1:9102');
  const agent = new FleetAgent({
    config: values.config,
    intervalMs: Math.round(seconds * 1000),
    metrics,
    runStats: values['run-stats'] === true,
    prune: values.prune === true,
    stateFile: values.state ?? DEFAULT_STATE_FILE,
    log: logger(format),
    insecure: values.insecure === true,
  });
  const stopped = new Promise<void>((resolve) => {
    // SIGTERM/SIGINT stop the agent; nothing is detached (FleetAgent.stop).
    const stop = (): void => {
      process.off('SIGHUP', hup);
      void agent.stop().then(resolve, resolve);
    };
    const hup = (): void => void agent.reload('SIGHUP');
    process.on('SIGHUP', hup);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await agent.start();
  await stopped;
  return 0;
}
