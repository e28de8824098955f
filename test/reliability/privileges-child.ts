/**
 * Runs privileged operations in a process started without CAP_BPF, CAP_NET_ADMIN,
 * CAP_SYS_ADMIN and CAP_PERFMON (see scenarios.ts: `capsh --drop=...`), and prints, per case,
 * whether it failed cleanly: a typed error, and for EPERM/EACCES a hint naming a capability.
 *
 *   node privileges-child.js '<json: { ifname, otherIfname, netns, pinBase, mapPin, progPin, mapId, progId, cli }>'
 */
import { spawnSync } from 'node:child_process';
import {
  BpfError,
  BpfLink,
  BpfMap,
  BpfObject,
  BpfProgram,
  BpfStateError,
  RootArray,
  detachXdp,
  queryXdp,
  shippedObjectPath,
} from '../../lib/index';

interface Setup {
  ifname: string;
  otherIfname: string;
  netns: string;
  pinBase: string;
  mapPin: string;
  progPin: string;
  mapId: number;
  progId: number;
  cli: string;
}

export interface PrivilegeCase {
  name: string;
  clean: boolean;
  outcome: string;
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2]) as Setup;
  const where = { netns: s.netns, pinBase: s.pinBase };
  const cases: Array<[string, () => unknown]> = [
    ['BpfObject.load', async () => {
      using o = BpfObject.open(shippedObjectPath('xdp_pass'));
      await o.load();
    }],
    ['BpfObject.loadSync', () => {
      using o = BpfObject.open(shippedObjectPath('xdp_count'));
      o.loadSync();
    }],
    ['BpfMap.openPinned', () => BpfMap.openPinned(s.mapPin)],
    ['BpfMap.openById', () => BpfMap.openById(s.mapId)],
    ['BpfProgram.openPinned', () => BpfProgram.openPinned(s.progPin)],
    ['BpfProgram.openById', () => BpfProgram.openById(s.progId)],
    ['BpfLink.openPinned', () => BpfLink.openPinned(s.progPin)],
    ['queryXdp in a netns', () => queryXdp(s.ifname, { netns: s.netns })],
    ['detachXdp in a netns', () => detachXdp(s.ifname, { netns: s.netns })],
    ['RootArray.open', () => RootArray.open(s.ifname, where)],
    ['RootArray.attach', () => RootArray.attach(s.otherIfname, { ...where, mode: 'skb' })],
    ['xdp-root status (CLI)', () => {
      const r = spawnSync(process.execPath, [s.cli, 'status', s.ifname, '--netns', s.netns, '--pin-base', s.pinBase], { encoding: 'utf8' });
      const line = r.stderr.trim();
      if (r.status !== 1 || line.split('\n').length !== 1 || !/EPERM|permission|CAP_/i.test(line)) {
        throw new Error(`CLI exit ${r.status} signal ${r.signal}: ${line || r.stdout}`);
      }
      throw new BpfError('xdp-root status', 1, line);
    }],
  ];
  const out: PrivilegeCase[] = [];
  for (const [name, fn] of cases) {
    try {
      const r = await fn();
      (r as { close?: () => void } | undefined)?.close?.();
      // Opening a pin is BPF_OBJ_GET, which the kernel grants on the pin file's permissions alone.
      const granted = name.endsWith('openPinned') && name !== 'BpfLink.openPinned';
      out.push({ name, clean: granted, outcome: granted ? 'permitted by the kernel (pin file permissions, no capability needed)' : 'succeeded without the capabilities' });
    } catch (e) {
      if (e instanceof BpfError) {
        const permission = e.code === 'EPERM' || e.code === 'EACCES';
        const named = /CAP_[A-Z_]+/.test(`${e.message} ${e.hint ?? ''}`);
        out.push({ name, clean: permission ? named : true, outcome: `BpfError ${e.code}${named ? ' (hint names the capability)' : ' (no capability named)'}: ${e.message.split('\n')[0]}` });
      } else if (e instanceof BpfStateError || e instanceof TypeError || e instanceof RangeError) {
        out.push({ name, clean: true, outcome: `${e.constructor.name}: ${e.message}` });
      } else {
        out.push({ name, clean: false, outcome: `untyped ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}` });
      }
    }
  }
  console.log(JSON.stringify(out));
}

void main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(3);
});
