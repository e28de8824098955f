// The generator's inputs and the run time's edges: codec shapes agree with what codecs decode,
// bad options are typed errors that leave nothing open, `--u64 number` refuses what does not fit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpfObject, codecFromBtf, shippedObjectDir } from '../../lib/index';
import { codecShape, defineSkeleton, generateSkeleton, SkeletonMismatchError, type CodecShape, type ShapeMember, type SkeletonClass, type SkeletonTypes } from '../../lib/skeleton/index';
import { fixturePath, openFdCount } from '../support/helpers';
import { loadSkeleton, outDir, root } from './support';

/** Throws unless `value` has exactly the JS shape `shape` says. */
function conform(shape: CodecShape, value: unknown, path: string): void {
  const fail = (what: string) => {
    throw new Error(`${path}: expected ${what}, got ${typeof value}`);
  };
  switch (shape.kind) {
    case 'int':
      if (typeof value !== (shape.big ? 'bigint' : 'number')) fail(shape.big ? 'bigint' : 'number');
      return;
    case 'bool':
      if (typeof value !== 'boolean') fail('boolean');
      return;
    case 'float':
    case 'address':
      if (typeof value !== (shape.kind === 'float' ? 'number' : 'string')) fail(shape.kind);
      return;
    case 'bytes':
      if (!(value instanceof Uint8Array) || value.length !== shape.size) fail(`${shape.size} bytes`);
      return;
    case 'array':
      if (!Array.isArray(value) || value.length !== shape.length) fail(`an array of ${shape.length}`);
      (value as unknown[]).forEach((v, i) => conform(shape.element, v, `${path}[${i}]`));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null) fail('an object');
      const o = value as Record<string, unknown>;
      const keys: string[] = [];
      const visit = (members: readonly ShapeMember[]): void => {
        for (const m of members) {
          if (m.kind === 'union') m.alternatives.forEach(visit);
          else {
            keys.push(m.key);
            conform(m.shape, o[m.key], `${path}.${m.key}`);
          }
        }
      };
      visit(shape.members);
      expect(Object.keys(o).sort(), path).toEqual(keys.sort());
    }
  }
}

describe('codecShape', () => {
  it('describes exactly what codecFromBtf decodes, for every global and map of the fixtures and shipped programs', () => {
    const objects = [
      ...['btf_types', 'globals', 'maps', 'skel_bootstrap', 'skel_kconfig'].map(fixturePath),
      ...readdirSync(join(root, 'bpf')).filter((f) => f.endsWith('.bpf.c')).map((f) => join(shippedObjectDir, f.replace(/\.c$/, '.o'))),
    ];
    let checked = 0;
    for (const path of objects) {
      using obj = BpfObject.open(path);
      const btf = obj.btf!;
      const ids = new Set<number>();
      for (const m of obj.maps) {
        const info = m.native.info();
        if (info.btfKeyTypeId) ids.add(info.btfKeyTypeId);
        if (info.btfValueTypeId && m.type !== 'prog_array' && !m.type.endsWith('of_maps')) ids.add(info.btfValueTypeId);
      }
      for (const id of ids) {
        const codec = codecFromBtf(btf, id);
        // Decode bytes of every value, so that enums, bools and floats decode something non-zero.
        const bytes = new Uint8Array(codec.size).map((_, i) => (i * 37 + 11) & 0xff);
        conform(codecShape(btf, id), codec.decode(bytes, 0), `${path}#${id}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('names structs and enums with their BTF ids and gives member offsets', () => {
    using obj = BpfObject.open(fixturePath('btf_types'));
    const btf = obj.btf!;
    const outer = btf.findByName('outer', 'STRUCT')!;
    const shape = codecShape(btf, outer.id);
    expect(shape).toMatchObject({ kind: 'object', size: 128, what: 'struct outer', typeId: outer.id });
    const members = (shape as Extract<CodecShape, { kind: 'object' }>).members;
    expect(members.find((m) => m.kind === 'field' && m.key === 'col')).toMatchObject({
      offset: 88,
      shape: { kind: 'int', what: 'enum color', typeId: btf.findByName('color', 'ENUM')!.id, enumerators: [{ name: 'RED', value: 0 }, { name: 'GREEN', value: 5 }, { name: 'BLUE', value: 6 }] },
    });
  });
});

describe('generateSkeleton', () => {
  it.each([
    [{ name: 'a b' }, TypeError, /options\.name must be a TypeScript identifier/],
    [{ u64: 'float' }, TypeError, /options\.u64 must be 'bigint' or 'number'/],
    [{ records: { events: 5 } }, TypeError, /options\.records\.events must be a C type name/],
    [{ records: { nope: 'struct event' } }, TypeError, /has no map 'nope' \(its ring and perf buffers: events\)/],
    [{ importFrom: '' }, TypeError, /options\.importFrom must be a module name/],
    [{ colour: 1 }, TypeError, /unknown option 'colour'/],
  ])('refuses %j with a typed error and leaves no fd open', (options, type, message) => {
    const fds = openFdCount();
    expect(() => generateSkeleton(fixturePath('skel_bootstrap'), options as never)).toThrow(type);
    expect(() => generateSkeleton(fixturePath('skel_bootstrap'), options as never)).toThrow(message);
    expect(openFdCount()).toBe(fds);
  });

  it('refuses an object without BTF, saying to build it with -g', () => {
    // llvm-objcopy comes with llvm (.ci/setup.sh installs it with clang).
    const stripped = join(outDir, 'xdp_pass.nobtf.bpf.o');
    mkdirSync(outDir, { recursive: true });
    execFileSync('llvm-objcopy', ['--remove-section', '.BTF', '--remove-section', '.BTF.ext', join(shippedObjectDir, 'xdp_pass.bpf.o'), stripped]);
    const fds = openFdCount();
    expect(() => generateSkeleton(stripped)).toThrow(new TypeError("object 'xdp_pass' has no BTF: build it with clang -g"));
    expect(openFdCount()).toBe(fds);
  });

  it('refuses a source that is not an object file or bytes', () => {
    expect(() => generateSkeleton(42 as never)).toThrow(TypeError);
    expect(() => generateSkeleton(new Uint8Array(0))).toThrow(RangeError);
  });

  it('takes the object as bytes, and the fingerprint does not depend on the file name', () => {
    const fromPath = generateSkeleton(fixturePath('skel_bootstrap'), { records: { events: 'struct event' } });
    const fromBytes = generateSkeleton(readFileSync(fixturePath('skel_bootstrap')), { records: { events: 'struct event' }, name: 'SkelBootstrap' });
    expect(fromBytes.fingerprint).toBe(fromPath.fingerprint);
    expect(fromBytes.code).toContain("source: 'bpf_object.o'");
  });

  it('finds a record type by the one variable in a .types section (shipped xdp_sampler)', () => {
    const g = generateSkeleton(join(shippedObjectDir, 'xdp_sampler.bpf.o'));
    // Its own ring buffer by the .types fallback; the root array's capture buffer (from
    // xdp_root.h) by its `<map>_record` variable, which does not count against the fallback.
    expect(g.manifest.records).toMatchObject([
      { map: 'sampler_events', type: 'struct xdp_sample', from: 'types-section' },
      { map: 'xdp_root_capbuf', type: 'struct xdp_root_capture_hdr', from: 'variable' },
    ]);
    expect(g.code).toContain('readonly sampler_events: XdpSample;');
    expect(g.notes).toEqual([]);
  });
});

describe('the run time', () => {
  type Any = SkeletonClass<SkeletonTypes>;

  it('refuses a bad spec and bad reader arguments with typed errors', async () => {
    expect(() => defineSkeleton(null as never)).toThrow(TypeError);
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('skel_bootstrap'), 'edges.skel.ts', { records: { events: 'struct event' }, name: 'Edges' });
    using opened = module.Edges!.open(fixturePath('skel_bootstrap'));
    const loose = opened as unknown as { ringbuf(name: unknown): unknown; perfbuf(name: unknown): unknown };
    expect(() => loose.ringbuf(5)).toThrow(TypeError);
    expect(() => loose.ringbuf('stats')).toThrow(/skeleton Edges has no ring buffer 'stats' \(it has: events\)/);
    expect(() => loose.perfbuf('events')).toThrow(/has no perf event array 'events' \(it has: none\)/);
    expect(() => (opened as unknown as { rodata: { min_len: unknown } }).rodata.min_len = 'x').toThrow(TypeError);
    expect((opened as unknown as { rodata: { min_len: unknown } }).rodata.min_len).toBe(0);
    expect(() => ((opened as unknown as Record<string, unknown>).bss as Record<string, unknown>).nope = 1).toThrow(TypeError); // sealed
    opened.close();
    opened.close(); // idempotent
    expect(() => (opened as unknown as { rodata: { min_len: unknown } }).rodata.min_len).toThrow(/closed/);
  });

  it('--u64 number: a value beyond 2^53 throws a RangeError naming the variable', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('globals'), 'globals-number.skel.ts', { u64: 'number', name: 'GlobalsN' });
    using opened = module.GlobalsN!.open(fixturePath('globals'));
    const data = (opened as unknown as { data: { data_u64: unknown } }).data;
    expect(() => data.data_u64).toThrow(RangeError);
    expect(() => data.data_u64).toThrow(/^data_u64: 1234605616436508552 does not fit in a number/);
    data.data_u64 = 2 ** 53 - 1;
    expect(data.data_u64).toBe(2 ** 53 - 1);
    const ro = (opened as unknown as { rodata: { ro_s64: unknown } }).rodata;
    expect(ro.ro_s64).toBe(-5);
  });

  it('a mismatch error is a SkeletonMismatchError, also for an object without the skeleton\'s record type', async () => {
    const { module } = await loadSkeleton<Record<string, Any>>(fixturePath('skel_bootstrap'), 'records.skel.ts', { records: { events: 'struct event' }, name: 'Records' });
    expect(() => module.Records!.open(fixturePath('ringbuf'))).toThrow(SkeletonMismatchError);
    expect(() => module.Records!.open(fixturePath('ringbuf'))).toThrow(/has no type 'struct event'/);
  });
});
