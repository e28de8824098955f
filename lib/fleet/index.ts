/**
 * Running root arrays on a fleet: a node's XDP setup in one config file
 * ({@link loadFleetConfig}), applied with the smallest set of atomic changes ({@link applyFleet}),
 * kept that way by an agent ({@link FleetAgent}), with Prometheus metrics ({@link rootArrayMetrics}).
 *
 * @example
 * ```ts
 * import { loadFleetConfig, applyFleet, formatPlan } from 'libbpf-node/fleet';
 * const { plan } = await applyFleet(loadFleetConfig('/etc/xdp-root/fleet.yaml'));
 * console.log(formatPlan(plan));
 * ```
 *
 * @packageDocumentation
 */
export { loadFleetConfig, parseFleetConfig, FleetConfigError, slotPrograms, objectFileFor, type FleetConfig, type InterfaceSpec, type SlotSpec, type ConfigIssue, type FilterSettings, type SamplerSettings, type CounterSettings, type SlotProgramName, type LoadConfigOptions } from './config';
export { readTrusted, checkTrusted, sha256Hex, TrustError, type TrustProblem, type VerifiedFile, type ReadTrustedOptions } from './trust';
export { planFleet, formatPlan, netnsKey, type FleetPlan, type FleetChange, type PlanOptions, type RefusedInterface } from './plan';
export { applyFleet, installSlot, loadSlotProgram, openSlotObject, FleetApplyError, formatFailure, type ApplyOptions, type ApplyResult, type ApplyFailure } from './apply';
export { readFleetState, writeFleetState, DEFAULT_STATE_FILE, type FleetState, type AppliedProgram } from './state';
export { rootArrayMetrics, addRootArrayMetrics, MetricSet, rootArrayFamilies, type RootArrayMetricsOptions, type Labels, type MetricFamily, type RootArrayFamily } from './metrics';
export { registerRootArrayMetrics, type RootArrayCollector, type RootArrayCollectorOptions, type PromClientModule, type PromRegistry, type PromMetric, type PromMetricConfig } from './prom-client';
export { FleetAgent, type FleetAgentOptions, type AgentLog } from './agent';
export { enableRunStats, RunStats } from '../run-stats';
