// Generated skeletons under `tsc --strict`: the skeletons of every shipped program and of the
// fixtures compile, a consumer that uses them right compiles, and wrong uses do not (each one is
// marked `// @ts-expect-error`, which is itself an error when the line compiles).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { shippedObjectDir } from '../../lib/index';
import { generateSkeleton, type GeneratedSkeleton } from '../../lib/skeleton/index';
import { buildTs, fixturePath } from '../support/helpers';
import { outDir, root } from './support';

const dir = join(outDir, 'tsc');
/** Every shipped program: bpf/*.bpf.c, built into dist/bpf/. */
const shipped = readdirSync(join(root, 'bpf')).filter((f) => f.endsWith('.bpf.c')).map((f) => f.replace(/\.bpf\.c$/, ''));

/** The fixtures and their generator options: every BTF kind the codecs support is in btf_types. */
const fixtures: Record<string, Parameters<typeof generateSkeleton>[1]> = {
  btf_types: {},
  globals: {},
  maps: {},
  ringbuf: {},
  skel_bootstrap: { records: { events: 'struct event' } },
  skel_kconfig: {},
  skel_perf: {},
};

const consumer = `import { BtfTypes } from './btf_types.skel';
import { Globals } from './globals.skel';
import { Maps } from './maps.skel';
import { Ringbuf } from './ringbuf.skel';
import { SkelBootstrap, type Event } from './skel_bootstrap.skel';
import { XdpCountN } from './xdp_count_number.skel';
import { XdpSampler, type XdpSample } from './xdp_sampler.skel';
import { TcCounter } from './tc_counter.skel';
import { SkelKconfig } from './skel_kconfig.skel';
import { SkelPerf, type Sample } from './skel_perf.skel';
import { XdpFilter } from './xdp_filter.skel';
import { SkeletonMismatchError } from 'libbpf-node/skeleton';

export async function bootstrap(path: string): Promise<void> {
  using opened = SkelBootstrap.open(path);
  opened.rodata.min_len = 64;
  // @ts-expect-error a wrong value type for a global
  opened.rodata.min_len = '64';
  opened.maps.stats.maxEntries = 128;
  const skel = await opened.load();
  const min: number = skel.rodata.min_len;
  // @ts-expect-error .rodata is read-only once loaded
  skel.rodata.min_len = 1;
  skel.bss.reported = 0n;
  skel.bss.reported = 0;
  const reported: bigint = skel.bss.reported;
  const stats = skel.maps.stats.get(0x0800);
  if (stats !== undefined) {
    const packets: bigint = stats.packets;
    void packets;
  }
  skel.maps.stats.set(0x0800, { packets: 1n, bytes: 60 });
  // @ts-expect-error a wrong value type for a map value field
  skel.maps.stats.set(0x0800, { packets: 'many', bytes: 60 });
  // @ts-expect-error a map value with a field missing
  skel.maps.stats.set(0x0800, { packets: 1n });
  // @ts-expect-error a wrong key type
  skel.maps.stats.get('ipv4');
  // @ts-expect-error a misspelt map
  skel.maps.stat.get(0);
  for await (const e of skel.ringbuf('events')) {
    const record: Event = e;
    const len: number = e.len;
    const ts: bigint = e.ts_ns;
    const tag: Uint8Array = e.tag;
    // @ts-expect-error a record field that does not exist
    const pid = e.pid;
    void [record, len, ts, tag, pid];
    break;
  }
  // @ts-expect-error a misspelt ring buffer
  skel.ringbuf('event');
  // @ts-expect-error a map that is not a ring buffer
  skel.ringbuf('stats');
  skel.programs.bootstrap.autoload;
  // @ts-expect-error a misspelt program
  skel.programs.bootstrp;
  void [min, reported];
}

export async function btfTypes(path: string): Promise<void> {
  const skel = await BtfTypes.open(path).load();
  const outer = skel.data_outer.val_outer;
  const counts: [number, number, number] = outer.counts;
  const grid: [[number, number, number], [number, number, number]] = outer.grid;
  const wide: bigint = outer.wide;
  const name: Uint8Array = outer.name;
  skel.data_outer.val_outer = { ...outer, name: 'eth0', col: 'GREEN', sgn: 'NEG' };
  // @ts-expect-error not an enumerator of enum color
  skel.data_outer.val_outer = { ...outer, col: 'PURPLE' };
  // @ts-expect-error a fixed array of the wrong length
  skel.data_outer.val_outer = { ...outer, counts: [1, 2] };
  skel.data_union.val_union = { v4: 1 };
  skel.data_union.val_union = { w0: 1, w1: 2 };
  // @ts-expect-error two members of a union at once
  skel.data_union.val_union = { v4: 1, v6: 'x' };
  skel.data_anon.val_anon = { kind: 4, ip4: 1, lo: 1, hi: 2, tail: 3n };
  const bits = skel.data_bits.val_bits;
  const on: boolean = bits.on;
  const swide: bigint = bits.swide;
  skel.data_bits.val_bits = { ...bits, col: 'BLUE' };
  const key = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6 };
  skel.maps.flows.set(key, { ...outer, name: 'x' });
  const got = skel.maps.flows.get(key);
  // @ts-expect-error the value may be missing
  got.in.port;
  const port: number | undefined = got?.in.port;
  const ints = skel.data_ints.val_ints;
  const flag: boolean = ints.flag;
  const u64: bigint = ints.u64;
  void [counts, grid, wide, name, on, swide, port, flag, u64];
}

export async function others(): Promise<void> {
  const g = Globals.open('globals.bpf.o');
  g.rodata.ro_point = { x: 1, y: -1, tag: 'abcd' };
  g.data.data_arr = [1, 2, 3, 4];
  const loaded = await g.load();
  const arr: [number, number, number, number] = loaded.data.data_arr;
  // @ts-expect-error .rodata is read-only once loaded (structs too)
  loaded.rodata.ro_point = { x: 1, y: -1, tag: 'abcd' };

  const m = await Maps.open('maps.bpf.o').load();
  m.maps.counters.get(0);
  m.maps.jmp_table.fd;

  const r = await Ringbuf.open('ringbuf.bpf.o').load();
  for await (const raw of r.ringbuf('events')) {
    const b: Buffer = raw; // no record type in its BTF: Buffers
    void b;
  }
  r.perfbuf('perf_events');
  // @ts-expect-error a ring buffer is not a perf event array
  r.perfbuf('events');

  const c = await XdpCountN.open('xdp_count.bpf.o').load();
  const perCpu = c.maps.counters.get(2);
  const packets: number | undefined = perCpu?.[0]?.packets; // --u64 number
  // @ts-expect-error per-CPU values are arrays
  c.maps.counters.set(2, { packets: 1, bytes: 2 });
  c.maps.counters.set(2, [{ packets: 1, bytes: 2n }]);

  const s = await XdpSampler.open('xdp_sampler.bpf.o').load();
  for await (const sample of s.ringbuf('sampler_events')) {
    const typed: XdpSample = sample;
    const sport: number = sample.info.sport;
    void [typed, sport];
  }
  s.maps.sampler_config.set(0, { rate: 10, reserved: 0 });

  const t = await TcCounter.open('tc_counter.bpf.o').load();
  t.programs.tc_counter_ingress.fd;
  const f = await XdpFilter.open('xdp_filter.bpf.o').load();
  f.maps.filter_config.get(0);
  const p = await SkelPerf.open('skel_perf.bpf.o').load();
  for await (const sample of p.perfbuf('samples', { pagesPerCpu: 4 })) {
    const typed: Sample = sample;
    const delta: [number, number, number, number] = sample.delta;
    // @ts-expect-error a field that does not exist
    sample.pid;
    void [typed, delta];
  }
  for await (const raw of p.ringbuf('unused_ring')) {
    const b: Buffer = raw;
    void b;
  }
  const kopened = SkelKconfig.open('skel_kconfig.bpf.o', { kconfig: 'CONFIG_LIBBPF_NODE_SKEL_TEST=1' });
  // @ts-expect-error kconfig externs are read-only, before load too
  kopened.kconfig.CONFIG_BPF_SYSCALL = true;
  const k = await kopened.load();
  const syscall: boolean = k.kconfig.CONFIG_BPF_SYSCALL;
  const version: number = k.kconfig.LINUX_KERNEL_VERSION;
  // @ts-expect-error kconfig externs are read-only
  k.kconfig.LINUX_KERNEL_VERSION = 1;
  void [syscall, version];
  try {
    SkelBootstrap.open('changed.bpf.o');
  } catch (e) {
    if (e instanceof SkeletonMismatchError) console.error(e.expected, e.actual);
  }
  void [arr, packets];
}
`;

describe('generated skeletons under tsc --strict', () => {
  const generated = new Map<string, GeneratedSkeleton>();

  beforeAll(() => {
    buildTs('tsconfig.build.json'); // the consumer imports libbpf-node/skeleton: dist/lib's types
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const name of shipped) generated.set(name, generateSkeleton(join(shippedObjectDir, `${name}.bpf.o`)));
    for (const [name, options] of Object.entries(fixtures)) generated.set(name, generateSkeleton(fixturePath(name), options));
    generated.set('xdp_count_number', generateSkeleton(join(shippedObjectDir, 'xdp_count.bpf.o'), { u64: 'number', name: 'XdpCountN' }));
    for (const [name, g] of generated) writeFileSync(join(dir, `${name}.skel.ts`), g.code);
    writeFileSync(join(dir, 'consumer.ts'), consumer);
    // One deliberate error, so that the run proves tsc checked these files at all.
    writeFileSync(join(dir, 'sentinel.ts'), `export const sentinel: number = 'not a number';\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          module: 'Node16',
          moduleResolution: 'Node16',
          types: ['node'],
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['*.ts'],
      }),
    );
  });

  it('generates a skeleton for every shipped program', () => {
    expect(shipped.length).toBeGreaterThan(5);
    for (const name of shipped) expect(generated.get(name)?.code, name).toContain(`export const ${generated.get(name)?.name} = defineSkeleton`);
  });

  it('writes no `any`, and a header naming the object and its fingerprint', () => {
    for (const [name, g] of generated) {
      expect(g.code, name).not.toMatch(/\bany\b/);
      expect(g.code.split('\n')[0], name).toMatch(/^\/\/ Typed skeleton of .+\.bpf\.o, generated by libbpf-node gen/);
      expect(g.code, name).toContain(`// Object fingerprint: ${g.fingerprint}`);
      expect(g.fingerprint).toMatch(/^sha256:[0-9a-f]{32}$/);
    }
  });

  it('compiles the skeletons and a consumer with 0 errors; every wrong use is an error', () => {
    let output = '';
    let status = 0;
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      status = err.status;
      output = err.stdout + err.stderr;
    }
    const errors = output.split('\n').filter((l) => /error TS\d+/.test(l));
    // Only the sentinel: an unused @ts-expect-error (a wrong use that compiled) would be listed too.
    expect(errors.map((l) => l.replace(/^.*\//, ''))).toEqual([`sentinel.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.`]);
    expect(status).toBe(2);
  });
});
