// The shipped programs (bpf/*.bpf.c): each opens, loads on this kernel both as a root-array slot
// and standalone, with the maps, sizes and shared struct layouts userspace relies on.
// @module-tag kernel-slice
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { describeBpf } from '../support/helpers';

function programPath(name: string): string {
  return join(__dirname, '..', '..', 'dist', 'bpf', `${name}.bpf.o`);
}

interface MapSpec {
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

const BPF_F_NO_PREALLOC = 1;
const rootMaps: Record<string, MapSpec> = {
  xdp_root_slots: { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 32 },
  xdp_root_stats: { type: 'percpu_array', keySize: 4, valueSize: 64, maxEntries: 33 },
};

const shipped: Record<string, { programs: Record<string, string>; maps: Record<string, MapSpec>; slot: boolean }> = {
  xdp_root: { programs: { xdp_root: 'xdp' }, maps: rootMaps, slot: false },
  xdp_filter: {
    programs: { xdp_filter: 'xdp' },
    maps: {
      filter_config: { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 },
      filter_drop_v4: { type: 'lpm_trie', keySize: 8, valueSize: 24, maxEntries: 16384, flags: BPF_F_NO_PREALLOC },
      filter_drop_v6: { type: 'lpm_trie', keySize: 20, valueSize: 24, maxEntries: 16384, flags: BPF_F_NO_PREALLOC },
      filter_stats: { type: 'percpu_array', keySize: 4, valueSize: 88, maxEntries: 1 },
      ...rootMaps,
    },
    slot: true,
  },
  xdp_sampler: {
    programs: { xdp_sampler: 'xdp' },
    maps: {
      sampler_config: { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 },
      sampler_events: { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 256 * 1024 },
      sampler_stats: { type: 'percpu_array', keySize: 4, valueSize: 24, maxEntries: 1 },
      ...rootMaps,
    },
    slot: true,
  },
  xdp_counter: {
    programs: { xdp_counter: 'xdp' },
    maps: {
      counter_proto: { type: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 10 },
      counter_src: { type: 'lru_percpu_hash', keySize: 16, valueSize: 16, maxEntries: 16384 },
      ...rootMaps,
    },
    slot: true,
  },
  tc_counter: {
    programs: { tc_counter_ingress: 'sched_cls', tc_counter_egress: 'sched_cls' },
    maps: {
      tc_config: { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 },
      tc_stats: { type: 'percpu_array', keySize: 4, valueSize: 32, maxEntries: 2 },
    },
    slot: false,
  },
};

// The structs userspace mirrors from BTF, with their sizes: explicit-width fields, no padding.
const sharedStructs: Record<string, Record<string, number>> = {
  xdp_root: { pkt_info: 56, xdp_meta: 64, xdp_root_stats: 64 },
  xdp_filter: { xdp_filter_config: 8, xdp_filter_stats: 88, xdp_filter_v4_key: 8, xdp_filter_v6_key: 20, xdp_filter_entry: 24 },
  xdp_sampler: { xdp_sampler_config: 8, xdp_sampler_stats: 24, xdp_sample: 88, pkt_info: 56 },
  xdp_counter: { xdp_counter_rec: 16, xdp_counter_src_key: 16 },
  tc_counter: { tc_counter_config: 8, tc_counter_stats: 32 },
};

describe('shipped programs, opened', () => {
  for (const [name, spec] of Object.entries(shipped)) {
    it(`${name}: programs and maps as documented`, () => {
      using obj = BpfObject.open(programPath(name));
      const progs = Object.fromEntries(obj.programs.map((p) => [p.name, p.type]));
      expect(progs).toEqual(spec.programs);
      for (const [map, m] of Object.entries(spec.maps)) {
        const got = obj.map(map);
        expect({ type: got.type, keySize: got.keySize, valueSize: got.valueSize, maxEntries: got.maxEntries }, map).toEqual({
          type: m.type,
          keySize: m.keySize,
          valueSize: m.valueSize,
          maxEntries: m.maxEntries,
        });
        if (m.flags !== undefined) expect(got.flags, `${map} flags`).toBe(m.flags);
      }
    });
  }

  for (const [name, structs] of Object.entries(sharedStructs)) {
    it(`${name}: shared structs have their documented size and no implicit padding`, () => {
      using obj = BpfObject.open(programPath(name));
      const btf = obj.btf!;
      for (const [struct, size] of Object.entries(structs)) {
        const t = btf.findByName(struct, 'STRUCT');
        expect(t, struct).toBeDefined();
        expect(t!.size, struct).toBe(size);
        let end = 0;
        for (const m of t!.members) {
          expect(m.bitOffset / 8, `${struct}.${m.name} follows the previous member`).toBe(end);
          expect(m.bitfieldSize, `${struct}.${m.name} is not a bitfield`).toBe(0);
          end += btf.sizeof(m.typeId);
        }
        expect(end, `${struct} has no tail padding`).toBe(size);
      }
    });
  }

  it('the sampler record and the counter enum are in BTF for userspace to decode', () => {
    using sampler = BpfObject.open(programPath('xdp_sampler'));
    expect(sampler.btf!.findByName('xdp_sample', 'STRUCT')).toBeDefined();
    expect(sampler.globals.names()).toEqual([
      expect.objectContaining({ name: 'xdp_root_slot' }),
      expect.objectContaining({ name: 'xdp_root_nslots' }),
      expect.objectContaining({ name: 'xdp_root_capture_on', section: '.data.xdp_capon' }), // capture's switch (xdp_root.h)
    ]);
    using counter = BpfObject.open(programPath('xdp_counter'));
    const e = counter.btf!.findByName('xdp_counter_proto', 'ENUM');
    expect(e?.values.map((v) => v.name)).toContain('XDP_COUNTER_IPV6_ICMP');
  });

  it('xdp_root does not pass metadata by default; switchable before load', () => {
    using obj = BpfObject.open(programPath('xdp_root'));
    expect(obj.globals.get('xdp_root_pass_meta')).toBe(false);
    obj.globals.set('xdp_root_pass_meta', true);
    expect(obj.globals.get('xdp_root_pass_meta')).toBe(true);
  });
});

describeBpf('shipped programs, loaded', () => {
  const pinRoot = mkdtempSync('/sys/fs/bpf/programs-load-');
  afterAll(() => rmSync(pinRoot, { recursive: true, force: true }));

  for (const [name, spec] of Object.entries(shipped)) {
    const modes = spec.slot ? ['standalone', 'slot 3 of 5'] : ['standalone'];
    for (const mode of modes) {
      it(`${name} (${mode}) passes the verifier`, async () => {
        using obj = BpfObject.open(programPath(name), { pinRoot });
        if (mode !== 'standalone') {
          obj.globals.set('xdp_root_slot', 3);
          obj.globals.set('xdp_root_nslots', 5);
        }
        await obj.load();
        for (const [prog, type] of Object.entries(spec.programs)) {
          expect(obj.program(prog).id, prog).toBeGreaterThan(0);
          expect(obj.program(prog).kernelInfo().type, prog).toBe(type);
        }
        for (const [map, m] of Object.entries(spec.maps)) {
          expect(obj.map(map).kernelInfo(), map).toMatchObject({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries });
        }
      });
    }
  }

  it('xdp_root passes the verifier with metadata on', async () => {
    using obj = BpfObject.open(programPath('xdp_root'), { pinRoot });
    obj.globals.set('xdp_root_pass_meta', true);
    await obj.load();
    expect(obj.program('xdp_root').id).toBeGreaterThan(0);
  });
});
