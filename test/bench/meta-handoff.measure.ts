// What the root's metadata handoff (include/xdp_meta.h) saves: BPF_PROG_TEST_RUN run times,
// averaged by the kernel over REPEAT runs, median of ROUNDS. Prints a table.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { progArraySet, progRun } from '../bpftool';
import { ETH_P_IP, ETH_P_IPV6, IPPROTO, eth, ipv4, ipv6, pad, udp } from '../frames';

const REPEAT = Number(process.env.REPEAT ?? 1_000_000);
const ROUNDS = 3;
const programPath = (name: string) => join(__dirname, '..', '..', 'dist', 'bpf', `${name}.bpf.o`);
const pinRoot = mkdtempSync('/sys/fs/bpf/meta-bench-');
const objects: BpfObject[] = [];
afterAll(() => {
  for (const o of objects) o.close();
  rmSync(pinRoot, { recursive: true, force: true });
});

async function load(name: string, dir: string, globals: Record<string, unknown> = {}) {
  const obj = BpfObject.open(programPath(name), { pinRoot: dir });
  for (const [k, v] of Object.entries(globals)) obj.globals.set(k, v);
  await obj.load();
  objects.push(obj);
  return obj;
}

function ns(id: number, data: Buffer, expected: number, metaLen?: number): number {
  const runs = Array.from({ length: ROUNDS }, () => {
    const r = progRun(id, data, { repeat: REPEAT, metaLen });
    expect(r.retval).toBe(expected);
    return r.duration;
  });
  return runs.sort((a, b) => a - b)[1]!;
}

it('measures parsing in each slot against reading the root’s metadata', async () => {
  const frames = {
    'IPv4/UDP': pad(eth(ETH_P_IP, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.UDP }, udp(1, 2)))),
    'QinQ IPv6+HBH/UDP': eth(ETH_P_IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: IPPROTO.UDP, hopByHop: true }, udp(1, 2)), [10, 20]),
  };
  const rows: string[] = [];
  const pass = await load('xdp_pass', mkdtempSync(join(pinRoot, 'p-')));
  const filter = await load('xdp_filter', mkdtempSync(join(pinRoot, 'f-')));
  // Metadata as the root writes it, taken from a real root run (with every slot empty it would
  // be stripped, so use a chain whose last slot leaves it on the packet).
  const on = mkdtempSync(join(pinRoot, 'on-'));
  const off = mkdtempSync(join(pinRoot, 'off-'));
  const chains: Record<string, number> = {};
  for (const [label, dir, passMeta] of [['on', on, true], ['off', off, false]] as const) {
    const root = await load('xdp_root', dir, { xdp_root_pass_meta: passMeta });
    const f = await load('xdp_filter', dir, { xdp_root_slot: 0 });
    const c = await load('xdp_counter', dir, { xdp_root_slot: 1 });
    progArraySet(join(dir, 'xdp_root_slots'), 0, f.program('xdp_filter').id);
    progArraySet(join(dir, 'xdp_root_slots'), 1, c.program('xdp_counter').id);
    chains[label] = root.program('xdp_root').id;
  }
  const emptyOn = await load('xdp_root', mkdtempSync(join(pinRoot, 'eon-')));
  const emptyOff = await load('xdp_root', mkdtempSync(join(pinRoot, 'eoff-')), { xdp_root_pass_meta: false });

  rows.push(`repeat ${REPEAT}, median of ${ROUNDS}; ns per packet`);
  rows.push(['frame', 'xdp_pass', 'filter parses', 'filter reads meta', 'root(empty) meta off', 'root(empty) meta on', 'root+filter+counter off', 'root+filter+counter on'].join(' | '));
  for (const [name, frame] of Object.entries(frames)) {
    const withMeta = progRun(chains.on!, frame).dataOut; // metadata + frame
    expect(withMeta.length).toBe(64 + frame.length);
    rows.push(
      [
        name,
        ns(pass.program('xdp_pass').id, frame, 2),
        ns(filter.program('xdp_filter').id, frame, 2),
        ns(filter.program('xdp_filter').id, withMeta, 2, 64),
        ns(emptyOff.program('xdp_root').id, frame, 2),
        ns(emptyOn.program('xdp_root').id, frame, 2),
        ns(chains.off!, frame, 2),
        ns(chains.on!, frame, 2),
      ].join(' | '),
    );
  }
  console.log(rows.join('\n'));
});
