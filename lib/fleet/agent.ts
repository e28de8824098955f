/**
 * {@link FleetAgent}: keeps a node's root arrays as its config file says, for as long as it runs,
 * and serves their metrics.
 *
 * @module
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import { RootArray } from '../rootarray/root-array';
import { enableRunStats, type RunStats } from '../run-stats';
import { applyFleet, FleetApplyError } from './apply';
import { FleetConfigError, loadFleetConfig, type FleetConfig } from './config';
import { addRootArrayMetrics, MetricSet } from './metrics';
import type { FleetChange } from './plan';
import { DEFAULT_STATE_FILE } from './state';

/** A structured log record: a message and fields. */
export type AgentLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** Options of {@link FleetAgent}. */
export interface FleetAgentOptions {
  /** The config file. */
  config: string;
  /** How often to look for drift and repair it, in milliseconds. Default 10000. */
  intervalMs?: number;
  /** Where to serve `/metrics` and `/healthz`: `{ host, port }` (port 0: any), or false. Default 127.0.0.1:9102. */
  metrics?: { host: string; port: number } | false;
  /** Count run count and run time of every BPF program (BPF_ENABLE_STATS) while the agent runs. Default false. */
  runStats?: boolean;
  /** Empty the slots of configured interfaces that the config does not mention. Default false. */
  prune?: boolean;
  /** Where apply remembers what it loaded. Default {@link DEFAULT_STATE_FILE}. */
  stateFile?: string;
  /** Where log records go. Default: nowhere. */
  log?: AgentLog;
  /**
   * Waive the trust checks (ownership and mode of the config, objects and folders; pinned hashes
   * are still checked): development only, a warning is logged on every apply. Default false.
   */
  insecure?: boolean;
  /** The bpffs folder of the root arrays; wins over the config's `pinBase`. */
  pinBase?: string;
  /** The namespace of the interfaces the config lists without `netns`. */
  netns?: string;
  /**
   * A config file missing at start is waited for (applied when it appears) instead of making
   * {@link FleetAgent.start} throw. Default false.
   */
  waitForConfig?: boolean;
}

/**
 * The node agent: applies the config at start, re-applies it when the file changes or on
 * {@link FleetAgent.reload} (the CLI calls it on SIGHUP), and every interval repairs drift (a
 * slot emptied or replaced by hand is put back, and logged as drift). Serves Prometheus metrics
 * (the root arrays', with {@link rootArrayMetrics}, and its own health) on loopback by default.
 *
 * {@link FleetAgent.stop} stops the agent and detaches **nothing**: the programs keep running,
 * and the next agent finds them as configured and changes nothing. A config with errors is
 * refused as a whole (logged, counted in `xdp_root_agent_errors_total`); the running setup stays.
 *
 * Minimum kernel: 5.10 (root arrays); 5.8 for run statistics.
 *
 * @example
 * ```ts
 * const agent = new FleetAgent({ config: '/etc/xdp-root/fleet.yaml', log: console.log });
 * await agent.start();
 * process.on('SIGHUP', () => void agent.reload('SIGHUP'));
 * process.on('SIGTERM', () => void agent.stop());
 * ```
 */
export class FleetAgent {
  readonly #options: Required<Omit<FleetAgentOptions, 'metrics' | 'log' | 'pinBase' | 'netns'>> & Pick<FleetAgentOptions, 'metrics' | 'log' | 'pinBase' | 'netns'>;
  #config: FleetConfig | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #watchDebounce: NodeJS.Timeout | undefined;
  #server: Server | undefined;
  #runStats: RunStats | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  // Health, for the metrics.
  #lastApplyMs = 0;
  #lastSuccessMs = 0;
  #applies = 0;
  #changes = 0;
  #driftRepairs = 0;
  #errors = 0;
  /** Files refused by the trust rule (untrusted, or not matching a pinned hash). */
  #trustRefusals = 0;
  #lastError: string | undefined;
  /** Why the config file was refused when last read; cleared by the next good read. */
  #configError: string | undefined;

  constructor(options: FleetAgentOptions) {
    if (typeof options?.config !== 'string' || options.config.length === 0) throw new TypeError('options.config must be the path of the config file');
    const intervalMs = options.intervalMs ?? 10_000;
    if (!Number.isInteger(intervalMs) || intervalMs < 100) throw new RangeError(`options.intervalMs must be an integer of at least 100, got ${intervalMs}`);
    this.#options = {
      config: options.config,
      intervalMs,
      metrics: options.metrics ?? { host: '127.0.0.1', port: 9102 },
      runStats: options.runStats ?? false,
      prune: options.prune ?? false,
      stateFile: options.stateFile ?? DEFAULT_STATE_FILE,
      log: options.log,
      insecure: options.insecure === true,
      pinBase: options.pinBase,
      netns: options.netns,
      waitForConfig: options.waitForConfig ?? false,
    };
  }

  #log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    this.#options.log?.(level, msg, fields);
  }

  /** The metrics server's address, once started with metrics on. */
  get metricsAddress(): AddressInfo | undefined {
    return (this.#server?.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Starts: serves metrics, applies the config (a config with errors is logged and retried at
   * each change of the file), watches the file and starts the drift check.
   *
   * @throws {@link FleetConfigError} when the config file does not exist (unless `waitForConfig`);
   *   Error when the metrics address cannot be bound (in use, not local)
   */
  async start(): Promise<void> {
    if (!this.#options.waitForConfig && !existsSync(this.#options.config)) {
      throw new FleetConfigError([{ file: this.#options.config, line: 0, column: 0, path: '', message: 'the config file does not exist (--wait-for-config waits for it)' }]);
    }
    if (this.#options.runStats) {
      try {
        this.#runStats = enableRunStats();
      } catch (e) {
        this.#log('warn', 'BPF run statistics unavailable', { error: (e as Error).message });
      }
    }
    if (this.#options.metrics) await this.#listen(this.#options.metrics);
    await this.reload('start');
    this.#watch();
    this.#timer = setInterval(() => void this.#reconcile('interval', false), this.#options.intervalMs);
    this.#log('info', 'agent started', { config: this.#options.config, intervalMs: this.#options.intervalMs, metrics: this.metricsAddress });
  }

  /** Re-reads the config file and applies it. Never throws: failures are logged and counted. */
  reload(reason: string): Promise<void> {
    return this.#reconcile(reason, true);
  }

  #reconcile(reason: string, reread: boolean): Promise<void> {
    // One apply at a time: a reload asked for during an apply runs after it.
    this.#running = this.#running.then(() => (this.#stopped ? undefined : this.#applyOnce(reason, reread)));
    return this.#running;
  }

  async #applyOnce(reason: string, reread: boolean): Promise<void> {
    this.#applies++;
    this.#lastApplyMs = Date.now();
    try {
      if (reread || this.#config === undefined) {
        try {
          this.#config = loadFleetConfig(this.#options.config, { insecure: this.#options.insecure, pinBase: this.#options.pinBase, netns: this.#options.netns });
          this.#configError = undefined;
        } catch (e) {
          // The periodic applies go on with the last good config (its verified bytes, never the
          // files again); config_ok stays 0 meanwhile.
          this.#configError = (e as Error).message;
          const refused = e instanceof FleetConfigError ? e.issues.filter((i) => i.code !== undefined) : [];
          if (refused.length > 0) {
            this.#trustRefusals += refused.length;
            for (const i of refused) this.#log('error', 'trust check refused a file; nothing loaded from it', { reason, code: i.code, file: i.file, line: i.line, entry: i.path || undefined, error: i.message });
          }
          throw e;
        }
        this.#log('info', 'config loaded', { reason, file: this.#config.file, interfaces: this.#config.interfaces.length });
      }
      const { plan, applied } = await applyFleet(this.#config, {
        prune: this.#options.prune,
        stateFile: this.#options.stateFile,
        onInsecure: (warning, waived) => this.#log('warn', warning, { reason, waived }),
        onChange: (change, progId) => this.#logChange(change, progId, reason),
      });
      this.#changes += applied.length;
      for (const note of plan.notes) this.#log('warn', note, { reason });
      if (plan.refused.length > 0) {
        for (const r of plan.refused) this.#log('error', 'interface left as it is', { reason, interface: r.ifname, netns: r.netns, config: `${r.file}:${r.line}`, error: r.reason });
        this.#errors++;
        this.#lastError = `${plan.refused.length} interface(s) left as they are`;
        return;
      }
      // After a start or a reload (not every drift check): say that nothing is left to do.
      if (reread) this.#log('info', applied.length === 0 ? 'in sync (no changes)' : `in sync (${applied.length} change${applied.length === 1 ? '' : 's'} applied)`, { reason });
      this.#lastSuccessMs = Date.now();
      this.#lastError = undefined;
    } catch (e) {
      this.#errors++;
      this.#lastError = (e as Error).message;
      if (e instanceof FleetApplyError) {
        // One record per failure, each naming the config line and the cause.
        const head = e.rolledBack.length > 0 ? `apply failed; this run's changes were put back` : 'apply failed; nothing was changed';
        for (const f of e.failures) {
          this.#log('error', head, { reason, config: `${f.file}:${f.line}`, interface: f.ifname, netns: f.netns, slot: f.slot, object: f.object, error: f.reason });
        }
        for (const l of e.notRolledBack) this.#log('error', 'could not put back', { reason, change: l });
      } else {
        this.#log('error', 'apply failed; the running setup is left as it is', { reason, error: (e as Error).message });
      }
    }
  }

  #logChange(change: FleetChange, progId: number | undefined, reason: string): void {
    const fields: Record<string, unknown> = { reason, action: change.action, interface: change.ifname, netns: change.netns };
    if ('slot' in change) fields.slot = change.slot;
    if ('passMeta' in change && change.passMeta !== undefined) fields.passMeta = change.passMeta;
    if (progId !== undefined) fields.progId = progId;
    if (change.action === 'load' || change.action === 'replace') {
      fields.object = change.spec.shipped ?? change.spec.object;
      fields.why = change.reason;
      if (change.action === 'replace') fields.from = change.from.progId;
      if (change.drift) {
        this.#driftRepairs++;
        this.#log('warn', 'drift repaired', fields);
        return;
      }
    }
    this.#log('info', 'applied', fields);
  }

  #watch(): void {
    // The folder, not the file: editors and ConfigMap updates replace the file by a rename.
    const file = basename(this.#options.config);
    try {
      this.#watcher = watch(dirname(this.#options.config), (_event, name) => {
        if (name !== null && name !== file && !name.startsWith('..')) return;
        clearTimeout(this.#watchDebounce);
        this.#watchDebounce = setTimeout(() => void this.reload('config file changed'), 200);
      });
      this.#watcher.on('error', (e) => this.#log('warn', 'config watch failed; SIGHUP still reloads', { error: e.message }));
    } catch (e) {
      this.#log('warn', 'cannot watch the config folder; SIGHUP still reloads', { error: (e as Error).message });
    }
  }

  async #listen(at: { host: string; port: number }): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        let body: string;
        try {
          body = this.metrics();
        } catch (e) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      } else if (req.url === '/healthz') {
        // Alive while the loop runs: an apply was attempted within three intervals.
        const ok = Date.now() - this.#lastApplyMs < 3 * this.#options.intervalMs + 5000;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stalled\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  /** The metrics text: every configured root array's, then the agent's health. */
  metrics(): string {
    const m = new MetricSet();
    const config = this.#config;
    for (const iface of config?.interfaces ?? []) {
      const loc = { netns: iface.netns, pinBase: config!.pinBase };
      try {
        if (!RootArray.exists(iface.name, loc)) continue;
        using root = RootArray.open(iface.name, loc);
        addRootArrayMetrics(m, root.status(), { runStats: this.#runStats?.enabled ?? false });
      } catch (e) {
        this.#log('warn', 'metrics: cannot read a root array', { interface: iface.name, netns: iface.netns, error: (e as Error).message });
      }
    }
    m.add('xdp_root_agent_up', 'gauge', 'The agent runs (1)', {}, 1);
    m.add('xdp_root_agent_last_apply_timestamp_seconds', 'gauge', 'When the agent last applied the config (success or not)', {}, this.#lastApplyMs / 1000);
    m.add('xdp_root_agent_last_success_timestamp_seconds', 'gauge', 'When an apply last succeeded', {}, this.#lastSuccessMs / 1000);
    m.add('xdp_root_agent_applies_total', 'counter', 'Applies attempted (start, reloads, drift checks)', {}, this.#applies);
    m.add('xdp_root_agent_changes_total', 'counter', 'Changes made (attach, load, replace, remove)', {}, this.#changes);
    m.add('xdp_root_agent_drift_repairs_total', 'counter', 'Slots put back after they were emptied or replaced by hand', {}, this.#driftRepairs);
    m.add('xdp_root_agent_errors_total', 'counter', 'Applies that failed (config errors included)', {}, this.#errors);
    m.add('xdp_root_agent_trust_refusals_total', 'counter', 'Files refused by the trust rule: untrusted owner or mode, or not matching a pinned sha256', {}, this.#trustRefusals);
    m.add('xdp_root_agent_insecure', 'gauge', 'Whether the trust checks are waived (--insecure) (1) or not (0)', {}, this.#options.insecure ? 1 : 0);
    const ok = this.#lastError === undefined && this.#configError === undefined;
    m.add('xdp_root_agent_config_ok', 'gauge', 'Whether the config file as last read is valid and the last apply succeeded (1) or not (0)', {}, ok ? 1 : 0);
    m.add('xdp_root_agent_run_stats_enabled', 'gauge', 'Whether BPF run statistics are being counted (1) or not (0)', {}, this.#runStats?.enabled ? 1 : 0);
    return m.text();
  }

  /**
   * Stops the agent: no more applies, the metrics server closes, run statistics are withdrawn.
   * Detaches nothing: every root array and slot keeps running. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#watchDebounce);
    this.#watcher?.close();
    await this.#running;
    this.#runStats?.close();
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.#log('info', 'agent stopped; programs left running', {});
  }
}
