/**
 * `xdp-root agent --config FILE`: the node agent (see FleetAgent), with signals: SIGHUP
 * re-applies the config, SIGTERM and SIGINT stop the agent and leave every program running.
 *
 * @internal
 * @module
 */
import { FleetAgent, type AgentLog } from '../fleet/agent';
import { DEFAULT_STATE_FILE } from '../fleet/state';
import { positionals, seconds, UsageError, type Command } from './command';

/** `127.0.0.1:9102`, `[::1]:9102` → host and port. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--metrics must be HOST:PORT (like 127.0.0.1:9102 or [::1]:9102) or off, got '${text}'`, 'agent');
  return { host: m[1] ?? m[2], port };
}

function logger(format: string): AgentLog {
  if (format === 'json') {
    return (level, msg, fields) => console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  }
  return (level, msg, fields) => {
    const rest = Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    // A multi-line message (an apply's failures) stays readable at a shell.
    console.log(`${new Date().toISOString()} ${level} ${msg}${rest ? ` ${rest}` : ''}`);
  };
}

export const agent: Command = {
  usage: '--config <config.yaml> [--interval SECONDS] [--metrics HOST:PORT|off] [--run-stats] [--prune] [--state FILE] [--log-format text|json] [--wait-for-config] [--insecure]',
  summary: 'keep the root arrays as the config says (drift repaired, edits applied) and serve /metrics',
  help: [
    'Applies the config at start (as apply does), again when the file changes or on SIGHUP, and',
    'every interval repairs drift. Logs "in sync (no changes)" after a start or reload that',
    'changes nothing. SIGTERM/SIGINT stop the agent and leave every program running.',
    'A config file missing at start is an error (exit 1), unless --wait-for-config.',
    'Metrics on http://HOST:PORT/metrics, liveness on /healthz.',
    'A config or object that fails the trust check (see docs/fleet-security.md) is logged and',
    'counted (xdp_root_agent_trust_refusals_total) and nothing is loaded from it; the last good',
    "config's verified bytes keep running.",
  ].join('\n'),
  options: {
    config: { type: 'string', value: 'FILE', description: 'the config file (required)' },
    interval: { type: 'string', value: 'SECONDS', default: '10', description: 'drift check period, 0.1 to 86400' },
    metrics: { type: 'string', value: 'HOST:PORT|off', default: '127.0.0.1:9102', description: 'where to serve /metrics and /healthz' },
    'run-stats': { type: 'boolean', description: 'count BPF run time and run count (BPF_ENABLE_STATS) while running' },
    prune: { type: 'boolean', description: 'empty slots of configured interfaces that the config does not mention' },
    state: { type: 'string', value: 'FILE', default: DEFAULT_STATE_FILE, description: 'what apply remembers between runs' },
    'log-format': { type: 'string', value: 'text|json', default: 'text', description: 'log lines on stdout' },
    'wait-for-config': { type: 'boolean', description: 'a config file missing at start is waited for, not an error' },
    insecure: { type: 'boolean', description: 'waive the ownership checks (development only; pinned hashes still checked; warns on every apply)' },
  },
  exitCodes: { 0: 'stopped by SIGTERM or SIGINT', 1: 'cannot start (config file missing, metrics address in use)' },
  async run({ args, values, where }) {
    positionals(args, 0, 'no argument (the config file is --config FILE)');
    if (values.config === undefined) throw new UsageError('expected --config FILE', 'agent');
    const format = values['log-format'] as string;
    if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format must be text or json, got '${format}'`, 'agent');
    const interval = seconds(values.interval, '--interval', 0.1, 86400)!;
    const metrics = values.metrics === 'off' ? false : parseListenAddress(values.metrics as string);
    const agent = new FleetAgent({
      config: values.config as string,
      intervalMs: Math.round(interval * 1000),
      metrics,
      runStats: values['run-stats'] === true,
      prune: values.prune === true,
      stateFile: values.state as string,
      pinBase: where.pinBase,
      netns: where.netns,
      waitForConfig: values['wait-for-config'] === true,
      insecure: values.insecure === true,
      log: logger(format),
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
    try {
      await agent.start();
    } catch (e) {
      await agent.stop();
      console.error(`xdp-root: agent not started: ${(e as Error).message}`);
      return 1;
    }
    await stopped;
    return 0;
  },
};
