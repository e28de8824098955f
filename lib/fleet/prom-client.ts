/**
 * {@link registerRootArrayMetrics}: the root arrays' metrics in a `prom-client` registry, for a
 * Node.js service that already serves its own metrics with prom-client. The values are read from
 * the kernel at each scrape (collectors), with the same families, labels and help as the agent's
 * `/metrics` ({@link rootArrayMetrics}).
 *
 * prom-client is an optional peer dependency: the library never loads it; the service passes its
 * own module, so the metrics land in the registry it already uses.
 *
 * @module
 */
import type { RootArray } from '../rootarray/root-array';
import { addRootArrayMetrics, MetricSet, rootArrayFamilies, type MetricFamily } from './metrics';

/** The configuration prom-client's Gauge and Counter take (the part used here). */
export interface PromMetricConfig<R = unknown> {
  name: string;
  help: string;
  labelNames: string[];
  registers: R[];
  collect: () => void;
}

/** A prom-client Gauge or Counter (the part used here). */
export interface PromMetric {
  reset(): void;
}

/** The prom-client module (`import * as client from 'prom-client'`), the part used here. */
export interface PromClientModule<R = unknown> {
  Gauge: new (config: PromMetricConfig<R>) => PromMetric & { set(labels: Record<string, string>, value: number): void };
  Counter: new (config: PromMetricConfig<R>) => PromMetric & { inc(labels: Record<string, string>, value: number): void };
}

/** A prom-client Registry (the part used here). */
export interface PromRegistry {
  removeSingleMetric(name: string): void;
}

/** Options of {@link registerRootArrayMetrics}. */
export interface RootArrayCollectorOptions {
  /**
   * The root arrays to read at each scrape: handles the service keeps open, or a function that
   * returns them (called at each scrape). A root that cannot be read (detached since) is left out
   * of that scrape.
   */
  roots: readonly RootArray[] | (() => Iterable<RootArray>);
  /** Include the root programs' run count and run time (see {@link RootArrayMetricsOptions}). Default false. */
  runStats?: boolean;
}

/** What {@link registerRootArrayMetrics} returns. */
export interface RootArrayCollector {
  /** The family names registered. */
  readonly names: readonly string[];
  /** Removes every family from the registry. Idempotent. */
  unregister(): void;
}

/**
 * Registers the root arrays' metric families in a prom-client registry, as collectors: each
 * scrape reads the kernel once (one status per root, shared by every family of that scrape) and
 * reports the same samples as the agent's `/metrics`. Counters are the kernel's counters (a
 * program replaced in a slot starts again from zero, as Prometheus expects of a counter reset).
 *
 * Minimum kernel: 5.10 (root arrays).
 *
 * @param client the prom-client module the service uses (prom-client 15 is tested)
 * @param registry the registry to add the families to (often `client.register`)
 * @throws TypeError when `client` is not prom-client or `options.roots` is missing; prom-client's
 *   Error when a family of the same name is already registered (nothing is registered then)
 * @example
 * ```ts
 * import * as client from 'prom-client';
 * import { RootArray } from 'libbpf-node';
 * import { registerRootArrayMetrics } from 'libbpf-node/fleet';
 *
 * const root = RootArray.open('eth1');
 * registerRootArrayMetrics(client, client.register, { roots: [root] });
 * // GET /metrics → await client.register.metrics(): the service's metrics and the root array's
 * ```
 */
export function registerRootArrayMetrics<R extends PromRegistry>(client: PromClientModule<R>, registry: R, options: RootArrayCollectorOptions): RootArrayCollector {
  if (typeof client?.Gauge !== 'function' || typeof client?.Counter !== 'function') throw new TypeError('client must be the prom-client module (with Gauge and Counter)');
  if (typeof registry?.removeSingleMetric !== 'function') throw new TypeError('registry must be a prom-client Registry');
  const roots = options?.roots;
  if (typeof roots !== 'function' && !Array.isArray(roots)) throw new TypeError('options.roots must be a list of RootArray or a function returning them');
  const runStats = options.runStats === true;
  let cached: Map<string, MetricFamily> | undefined;
  // Every family's collect() runs in the same tick of one scrape: one reading serves them all.
  const snapshot = (): Map<string, MetricFamily> => {
    if (cached === undefined) {
      const m = new MetricSet();
      for (const root of typeof roots === 'function' ? roots() : roots) {
        let status;
        try {
          status = root.status();
        } catch {
          continue; // detached or closed since: left out of this scrape
        }
        addRootArrayMetrics(m, status, { runStats });
      }
      cached = new Map(m.families().map((f) => [f.name, f]));
      setImmediate(() => {
        cached = undefined;
      });
    }
    return cached;
  };
  const registered: string[] = [];
  const unregister = (): void => {
    for (const name of registered.splice(0)) registry.removeSingleMetric(name);
  };
  try {
    for (const f of rootArrayFamilies) {
      const config = { name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] };
      if (f.type === 'gauge') {
        new client.Gauge({
          ...config,
          collect(this: InstanceType<PromClientModule['Gauge']>) {
            this.reset();
            for (const s of snapshot().get(f.name)?.samples ?? []) this.set(s.labels, Number(s.value));
          },
        });
      } else {
        new client.Counter({
          ...config,
          collect(this: InstanceType<PromClientModule['Counter']>) {
            this.reset();
            for (const s of snapshot().get(f.name)?.samples ?? []) this.inc(s.labels, Number(s.value));
          },
        });
      }
      registered.push(f.name);
    }
  } catch (e) {
    unregister();
    throw e;
  }
  return { names: rootArrayFamilies.map((f) => f.name), unregister };
}
