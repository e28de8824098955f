// Generated skeletons against the kernel: values round-trip through typed maps, globals and a
// ring buffer; .rodata is refused after load; a stale skeleton refuses a changed object.
import { copyFileSync, mkdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpfStateError, shippedObjectPath } from '../../lib/index';
import { SkeletonMismatchError, type SkeletonClass, type SkeletonTypes } from '../../lib/skeleton/index';
import { describeBpf, fixturePath, openFdCount } from '../support/helpers';
import { loadSkeleton, outDir } from './support';

/** An Ethernet frame of `len` bytes with EtherType `proto`. */
function frame(len: number, proto: number): Buffer {
  const f = Buffer.alloc(len);
  f.writeUInt16BE(proto, 12);
  return f;
}

// The generated modules are imported at run time, so the test sees their types only through
// the run-time generics; test/skeleton/compile.test.ts checks the static types under tsc.
type Any = SkeletonClass<SkeletonTypes>;
interface Loose {
  [key: string]: unknown;
}

describeBpf('a generated skeleton in the kernel', () => {
  it('bootstrap example: .rodata filter, hash map, .bss counter and typed ring buffer records', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('skel_bootstrap'), 'bootstrap.skel.ts', { records: { events: 'struct event' } });
    const Bootstrap = module.SkelBootstrap!;
    using opened = Bootstrap.open(fixturePath('skel_bootstrap'));
    (opened as unknown as { rodata: { min_len: number } }).rodata.min_len = 100;
    const skel = (await opened.load()) as unknown as Loose & {
      rodata: { min_len: number };
      bss: { reported: bigint };
      maps: { stats: { get(k: number): { packets: bigint; bytes: bigint } | undefined; set(k: number, v: { packets: bigint | number; bytes: bigint | number }): void } };
      programs: { bootstrap: { testRun(o: { data: Uint8Array }): { retval: number } } };
      ringbuf(name: string): AsyncIterableIterator<{ ts_ns: bigint; len: number; proto: number; tag: Uint8Array }> & { close(): void };
    };
    expect(skel.rodata.min_len).toBe(100);
    expect(() => {
      skel.rodata.min_len = 1;
    }).toThrow(BpfStateError);
    expect(skel.rodata.min_len).toBe(100);
    const events = skel.ringbuf('events');
    for (const len of [60, 150, 200]) expect(skel.programs.bootstrap.testRun({ data: frame(len, 0x0800) }).retval).toBe(2);
    skel.programs.bootstrap.testRun({ data: frame(120, 0x86dd) });
    expect(skel.maps.stats.get(0x0800)).toEqual({ packets: 3n, bytes: 410n });
    expect(skel.maps.stats.get(0x86dd)).toEqual({ packets: 1n, bytes: 120n });
    expect(skel.maps.stats.get(0x0806)).toBeUndefined();
    skel.maps.stats.set(0x0806, { packets: 5, bytes: 7n });
    expect(skel.maps.stats.get(0x0806)).toEqual({ packets: 5n, bytes: 7n });
    expect(skel.bss.reported).toBe(3n);
    skel.bss.reported = 40n;
    expect(skel.bss.reported).toBe(40n);
    const got: { len: number; proto: number; tag: string; ts: boolean }[] = [];
    for await (const e of events) {
      got.push({ len: e.len, proto: e.proto, tag: Buffer.from(e.tag).toString('latin1'), ts: typeof e.ts_ns === 'bigint' && e.ts_ns > 0n });
      if (got.length === 3) break;
    }
    expect(got).toEqual([
      { len: 150, proto: 0x0800, tag: 'boot\0\0', ts: true },
      { len: 200, proto: 0x0800, tag: 'boot\0\0', ts: true },
      { len: 120, proto: 0x86dd, tag: 'boot\0\0', ts: true },
    ]);
  });

  it('every BTF kind the codecs support round-trips through globals and a map (btf_types)', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('btf_types'), 'btf-types.skel.ts');
    using opened = module.BtfTypes!.open(fixturePath('btf_types'));
    const skel = (await opened.load()) as unknown as Record<string, Record<string, unknown>> & { maps: { flows: { set(k: unknown, v: unknown): void; get(k: unknown): unknown } } };
    const before = skel.data_outer!.val_outer as Record<string, unknown>;
    expect(before.col).toBe(6); // BLUE
    const outer = {
      in: { port: 9, mac: new Uint8Array([1, 2, 3, 4, 5, 6]) },
      pair: [{ port: 1, mac: new Uint8Array(6) }, { port: 2, mac: new Uint8Array([9, 9, 9, 9, 9, 9]) }],
      name: new Uint8Array(Buffer.from('veth-skel\0\0\0\0\0\0\0')),
      raw: new Uint8Array([7, 8, 9]),
      counts: [10, 20, 30],
      grid: [[1, 2, 3], [4, 5, 6]],
      deltas: [-5, 5],
      ratio: 0.25,
      mean: 2.5,
      col: 5,
      sgn: -2,
      op: 0n,
      cb: 0x1234n,
      wide: -(1n << 100n),
    };
    skel.data_outer!.val_outer = outer;
    expect(skel.data_outer!.val_outer).toEqual(outer);
    skel.data_outer!.val_outer = { ...outer, col: 'RED', sgn: 'POS', name: 'eth1' };
    expect(skel.data_outer!.val_outer).toMatchObject({ col: 0, sgn: 3, name: new Uint8Array(Buffer.from('eth1\0\0\0\0\0\0\0\0\0\0\0\0')) });
    const key = { saddr: 0x010012c6, daddr: 0x020012c6, sport: 443, dport: 51000, proto: 6 };
    skel.maps.flows.set(key, outer);
    expect(skel.maps.flows.get(key)).toEqual(outer);
    const bits = { a: 7, b: 511, c: -16, d: 0x7fff, wide: (1n << 40n) - 1n, swide: -(1n << 19n), on: true, col: 6, tail: 0x99 };
    skel.data_bits!.val_bits = bits;
    expect(skel.data_bits!.val_bits).toEqual(bits);
    skel.data_anon!.val_anon = { kind: 6, ip6: new Uint8Array(16).fill(0xfd), lo: 1, hi: 2, tail: 3n };
    expect(skel.data_anon!.val_anon).toMatchObject({ kind: 6, ip6: new Uint8Array(16).fill(0xfd), ip4: 0xfdfdfdfd, lo: 1, hi: 2, tail: 3n });
    skel.data_union!.val_union = { w0: 0x1111, w1: 0x2222 };
    expect(skel.data_union!.val_union).toMatchObject({ v4: 0x22221111, w0: 0x1111, w1: 0x2222 });
    const ints = { u8: 255, s8: -128, u16: 65535, s16: -32768, u32: 0xffffffff, s32: -(2 ** 31), u64: (1n << 64n) - 1n, s64: -(1n << 63n), flag: true, c: 0x41, sc: -1 };
    skel.data_ints!.val_ints = ints;
    expect(skel.data_ints!.val_ints).toEqual(ints);
  });

  it('per-CPU maps give one value per CPU (shipped xdp_count), and u64 as number on request', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(shippedObjectPath('xdp_count'), 'xdp-count-number.skel.ts', { u64: 'number', name: 'XdpCountN' });
    using opened = module.XdpCountN!.open(shippedObjectPath('xdp_count'));
    const skel = (await opened.load()) as unknown as {
      maps: { counters: { get(k: number): { packets: number; bytes: number }[] | undefined } };
      programs: { xdp_count: { testRun(o: { data: Uint8Array; repeat?: number }): { retval: number } } };
      bss: { last_len: number };
    };
    skel.programs.xdp_count.testRun({ data: frame(64, 0x0800), repeat: 3 });
    const perCpu = skel.maps.counters.get(2)!; // the key is the verdict, XDP_PASS
    expect(Array.isArray(perCpu)).toBe(true);
    const total = perCpu.reduce((a, v) => ({ packets: a.packets + v.packets, bytes: a.bytes + v.bytes }), { packets: 0, bytes: 0 });
    expect(total).toEqual({ packets: 3, bytes: 192 });
    expect(typeof perCpu[0]!.packets).toBe('number');
    expect(skel.bss.last_len).toBe(64);
  });

  it('globals fixture: .rodata before load, .data and .bss after, in the kernel program', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('globals'), 'globals.skel.ts');
    using opened = module.Globals!.open(fixturePath('globals'));
    const o = opened as unknown as { rodata: Record<string, unknown>; data: Record<string, unknown> };
    o.rodata.ro_u32 = 3;
    o.rodata.ro_point = { x: 11, y: -12, tag: 'wxyz' };
    o.data.data_arr = [100, 0, 0, 0];
    const skel = (await opened.load()) as unknown as {
      rodata: Record<string, unknown>;
      data: Record<string, unknown>;
      bss: Record<string, unknown>;
      programs: { xdp_globals: { testRun(o: { data: Uint8Array }): { retval: number } } };
    };
    skel.programs.xdp_globals.testRun({ data: frame(64, 0x0800) });
    expect(skel.bss.bss_hits).toBe(3);
    expect(skel.bss.bss_point).toMatchObject({ x: 11 });
    expect(skel.data.data_arr).toEqual([95, 0, 0, 0]); // += (u32)ro_s64, -5
    expect(skel.rodata.ro_point).toEqual({ x: 11, y: -12, tag: new Uint8Array(Buffer.from('wxyz')) });
    skel.data.data_u64 = 1n;
    skel.programs.xdp_globals.testRun({ data: frame(64, 0x0800) });
    expect(skel.data.data_u64).toBe(3n);
    expect(() => {
      skel.rodata.ro_u32 = 1;
    }).toThrow(/read-only once the object is loaded/);
  });
});

describeBpf('map types in a skeleton (maps fixture)', () => {
  it('queue, per-CPU hash, LPM trie with a struct key and a hash of structs, typed from BTF', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('maps'), 'maps.skel.ts');
    using opened = module.Maps!.open(fixturePath('maps'));
    type M<K, V> = { get(k: K): V | undefined; set(k: K, v: V): void; push(v: V): void; pop(): V | undefined; codecs: { value: { size: number } } };
    const skel = (await opened.load()) as unknown as {
      maps: { queue: M<never, number>; pcpu_hash: M<number, bigint[]>; lpm4: M<{ prefixlen: number; addr: Uint8Array | string }, number>; flows: M<Record<string, unknown>, Record<string, unknown>> };
    };
    skel.maps.queue.push(5);
    skel.maps.queue.push(6);
    expect(skel.maps.queue.pop()).toBe(5);
    const ncpus = skel.maps.pcpu_hash.codecs.value.size / 8;
    const perCpu = Array.from({ length: ncpus }, (_, i) => BigInt(i) * 10n + 1n);
    skel.maps.pcpu_hash.set(7, perCpu);
    expect(skel.maps.pcpu_hash.get(7)).toEqual(perCpu);
    skel.maps.lpm4.set({ prefixlen: 24, addr: new Uint8Array([198, 18, 0, 0]) }, 99);
    expect(skel.maps.lpm4.get({ prefixlen: 32, addr: new Uint8Array([198, 18, 0, 77]) })).toBe(99);
    expect(skel.maps.lpm4.get({ prefixlen: 32, addr: new Uint8Array([198, 19, 0, 77]) })).toBeUndefined();
    expect(() => skel.maps.flows.set({ bogus: 1 }, {})).toThrow(TypeError);
  });
});

describeBpf('a perf event array in a skeleton', () => {
  it('types samples from the <map>_record variable and decodes them', async () => {
    const { module, generated } = await loadSkeleton<Record<string, Any>>(fixturePath('skel_perf'), 'perf.skel.ts');
    expect(generated.manifest.records).toMatchObject([
      { map: 'samples', mapType: 'perf_event_array', type: 'struct sample', from: 'variable' },
      { map: 'unused_ring', mapType: 'ringbuf' },
    ]);
    expect(generated.notes).toEqual([`map 'unused_ring': no record type found, its records stay Buffers (name one: --record unused_ring='struct name')`]);
    using opened = module.SkelPerf!.open(fixturePath('skel_perf'));
    const skel = (await opened.load()) as unknown as {
      perfbuf(name: string, o?: { pagesPerCpu?: number }): AsyncIterableIterator<{ len: number; cpu: number; seq: bigint; delta: number[] }> & { close(): void };
      programs: { xdp_perf_sample: { testRun(o: { data: Uint8Array }): { retval: number } } };
    };
    const perf = skel.perfbuf('samples', { pagesPerCpu: 1 });
    for (const len of [64, 65, 66]) skel.programs.xdp_perf_sample.testRun({ data: frame(len, 0x0800) });
    const got: { len: number; seq: bigint; delta: number[] }[] = [];
    for await (const s of perf) {
      got.push({ len: s.len, seq: s.seq, delta: s.delta });
      if (got.length === 3) break;
    }
    // One ring per CPU: the test runs may have run on different CPUs, so order by sequence.
    got.sort((x, y) => Number(x.seq - y.seq));
    expect(got).toEqual([
      { len: 64, seq: 0n, delta: [-1, 2, -3, 4] },
      { len: 65, seq: 1n, delta: [-1, 2, -3, 4] },
      { len: 66, seq: 2n, delta: [-1, 2, -3, 4] },
    ]);
  });
});

describeBpf('kconfig externs in a skeleton', () => {
  it('are read-only, filled in at load from the kernel and the kconfig open option', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('skel_kconfig'), 'kconfig.skel.ts');
    using opened = module.SkelKconfig!.open(fixturePath('skel_kconfig'), { kconfig: 'CONFIG_LIBBPF_NODE_SKEL_TEST=42' });
    const before = (opened as unknown as { kconfig: Record<string, unknown> }).kconfig;
    expect(() => before.CONFIG_BPF_SYSCALL).toThrow(/cannot read SkelKconfig\.kconfig\.CONFIG_BPF_SYSCALL before load\(\)/);
    expect(() => {
      before.CONFIG_LIBBPF_NODE_SKEL_TEST = 1;
    }).toThrow(BpfStateError);
    const skel = (await opened.load()) as unknown as {
      kconfig: Record<string, unknown>;
      bss: { seen: number };
      programs: { xdp_kconfig: { testRun(o: { data: Uint8Array }): { retval: number } } };
    };
    // This process loads BPF, so the kernel has the bpf() syscall.
    expect(skel.kconfig.CONFIG_BPF_SYSCALL).toBe(true);
    const [major, minor, patch] = release().split(/[.-]/).map(Number) as [number, number, number];
    expect(skel.kconfig.LINUX_KERNEL_VERSION).toBe((major << 16) + (minor << 8) + Math.min(patch, 255));
    expect(skel.kconfig.CONFIG_LIBBPF_NODE_SKEL_TEST).toBe(42);
    skel.programs.xdp_kconfig.testRun({ data: frame(64, 0x0800) });
    expect(skel.bss.seen).toBe((skel.kconfig.LINUX_KERNEL_VERSION as number) + 1 + 42);
    expect(() => {
      skel.kconfig.CONFIG_BPF_SYSCALL = false;
    }).toThrow(/libbpf fills \.kconfig in at load.*open\(path, \{ kconfig: 'CONFIG_BPF_SYSCALL=\.\.\.' \}\)/);
  });
});

describe('a stale skeleton', () => {
  it('refuses an object rebuilt with a changed struct, says what changed and to regenerate, and closes it', async () => {
    const dir = join(outDir, 'stale');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'bootstrap.bpf.o');
    copyFileSync(fixturePath('skel_bootstrap'), path);
    const { module } = await loadSkeleton<Record<string, Any>>(path, 'stale.skel.ts', { records: { events: 'struct event' }, name: 'Bootstrap' });
    const Bootstrap = module.Bootstrap!;
    Bootstrap.open(path).close(); // matches
    copyFileSync(fixturePath('skel_bootstrap_changed'), path); // "rebuilt"
    const fds = openFdCount();
    let error: unknown;
    try {
      Bootstrap.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SkeletonMismatchError);
    const message = (error as Error).message;
    expect(message).toContain('does not match the skeleton Bootstrap');
    expect(message).toContain('- record events: struct event { ts_ns, len, proto, tag } (24 bytes)');
    expect(message).toContain('+ record events: struct event { ts_ns, len, proto, tag, queue } (24 bytes)');
    expect(message).toMatch(/regenerate the skeleton \(npx libbpf-node gen .*bootstrap\.bpf\.o/);
    expect((error as SkeletonMismatchError).expected).toBe(Bootstrap.spec.fingerprint);
    expect((error as SkeletonMismatchError).actual).not.toBe(Bootstrap.spec.fingerprint);
    expect(openFdCount()).toBe(fds);
  });

  it('refuses a different object altogether, listing the maps and programs it lacks', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(shippedObjectPath('xdp_count'), 'xdp-count.skel.ts');
    expect(() => module.XdpCount!.open(shippedObjectPath('xdp_pass'))).toThrow(/- map counters: percpu_array, key u32, value struct xdp_count_rec \{ packets, bytes \} \(16 bytes\)[\s\S]*- program xdp_count[\s\S]*\+ program xdp_pass/);
  });
});
