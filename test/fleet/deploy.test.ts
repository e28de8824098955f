// What deploy/ ships, checked as far as this machine allows: the systemd unit passes
// `systemd-analyze verify` without a warning, the Kubernetes manifests parse with the fields an
// operator relies on (and no `privileged`), the ConfigMap's config is a valid fleet config, and
// the command lines both start are accepted by the agent the other fleet tests exercise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseFleetConfig } from '../../lib/fleet/index';
import { AgentProcess } from '../support/fleet';
import { buildTs, itBpf, itIf } from '../support/helpers';

const repo = join(__dirname, '..', '..');
const unitPath = join(repo, 'deploy', 'systemd', 'xdp-root-agent.service');
const installed = '/usr/lib/node_modules/libbpf-node';
const dir = mkdtempSync(join(tmpdir(), 'fleet-deploy-'));

/** The unit's ExecStart arguments after the CLI script (`agent …`). */
function unitAgentArgs(): string[] {
  const line = readFileSync(unitPath, 'utf8').split('\n').find((l) => l.startsWith('ExecStart='))!;
  const words = line.slice('ExecStart='.length).split(/\s+/);
  expect(words.slice(0, 2)).toEqual(['/usr/bin/node', `${installed}/dist/lib/cli/xdp-root.js`]);
  return words.slice(2);
}

function manifests(file: string): Record<string, any>[] {
  const docs = parseAllDocuments(readFileSync(join(repo, 'deploy', 'kubernetes', file), 'utf8'));
  for (const d of docs as { errors: unknown[] }[]) expect(d.errors).toEqual([]);
  return (docs as { toJS(): Record<string, any> }[]).map((d) => d.toJS());
}

/** Starts the agent with `args`, pointing config, metrics and state at throw-away places; checks it starts and stops cleanly. */
async function startsAndStops(args: string[]): Promise<void> {
  const config = join(dir, 'empty.yaml');
  writeFileSync(config, 'interfaces: []\n');
  const replaced = args.map((a, i) => (args[i - 1] === '--config' ? config : args[i - 1] === '--metrics' ? '127.0.0.1:0' : args[i - 1] === '--state' ? join(dir, 'state.json') : a));
  expect(replaced[0]).toBe('agent');
  const agent = new AgentProcess(replaced.slice(1).filter((a, i, all) => !(a === '--log-format' || all[i - 1] === '--log-format')));
  await agent.metricsUrl();
  expect(await agent.stop()).toBe(0);
  expect(agent.logs.filter((r) => r.level === 'error')).toEqual([]);
}

describe('deploy/', () => {
  beforeAll(() => {
    buildTs('tsconfig.build.json');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itIf(existsSync('/usr/bin/systemd-analyze'), 'needs /usr/bin/systemd-analyze (Debian package systemd)', 'the systemd unit passes systemd-analyze verify, and a typo in it does not', () => {
    // The unit names the installed package; verify it against this checkout's (same files).
    const unit = readFileSync(unitPath, 'utf8').replaceAll(installed, repo).replace('/usr/bin/node', process.execPath);
    const verify = (text: string): { status: number | null; stderr: string } => {
      const file = join(dir, 'xdp-root-agent.service');
      writeFileSync(file, text);
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr.split('\n').filter((l) => l.includes('xdp-root-agent')).join('\n') };
    };
    expect(verify(unit)).toEqual({ status: 0, stderr: '' });
    expect(verify(unit.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes')).stderr).toMatch(/Unknown key 'NoNewPrivilege'/);
    // What the unit allows, and no more.
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN$/m);
    expect(unit).toMatch(/^RequiresMountsFor=\/sys\/fs\/bpf$/m);
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(unit).toMatch(/^RuntimeDirectoryPreserve=yes$/m);
    expect(unitAgentArgs()).toEqual(expect.arrayContaining(['--metrics', '127.0.0.1:9102']));
  });

  it('the DaemonSet runs on the host network and bpffs with capabilities, not privileged, with probes and the metrics port', () => {
    const [ds] = manifests('daemonset.yaml');
    expect(ds).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet' });
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    const [c] = pod.containers;
    expect(c.securityContext.privileged).toBe(false);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['BPF', 'NET_ADMIN', 'PERFMON', 'SYS_ADMIN'] });
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9102, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
    const mounts = Object.fromEntries(c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
    expect(volumes.bpffs.hostPath.path).toBe('/sys/fs/bpf');
    expect(mounts.bpffs).toBe('/sys/fs/bpf');
    expect(volumes.state.hostPath.path).toBe('/run/xdp-root');
    expect(volumes.config.configMap.name).toBe('xdp-root-config');
    expect(c.args.slice(0, 3)).toEqual(['agent', '--config', `${mounts.config}/fleet.yaml`]);
    expect(c.args[c.args.indexOf('--state') + 1].startsWith(`${mounts.state}/`)).toBe(true);
    expect(JSON.stringify(ds)).not.toMatch(/"privileged":true/);
  });

  it('the ConfigMap holds a valid fleet config', () => {
    const [cm] = manifests('configmap.yaml');
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'xdp-root-config' } });
    const config = parseFleetConfig(cm.data['fleet.yaml'], '/etc/xdp-root/fleet.yaml');
    expect(config.interfaces[0].programs.map((p) => p.shipped)).toEqual(['xdp_sampler', 'xdp_filter', 'xdp_counter']);
  });

  itBpf('the agent accepts the command lines of the unit and of the DaemonSet', async () => {
    await startsAndStops(unitAgentArgs());
    const [ds] = manifests('daemonset.yaml');
    await startsAndStops(ds.spec.template.spec.containers[0].args);
  });
});
