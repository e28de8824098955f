// planInterface and formatPlan: the fleet plan's decisions from a config, what runs (a status)
// and the last apply's state, without a kernel. planFleet itself, reading a real root array, is
// tested in apply.test.ts and agent.test.ts.
// @module-tag pure
import { describe, expect, it } from 'vitest';
import type { InterfaceSpec, SlotSpec } from '../../lib/fleet/config';
import { formatPlan, planInterface, type FleetPlan } from '../../lib/fleet/plan';
import type { FleetState } from '../../lib/fleet/state';
import type { RootStatus } from '../../lib/rootarray/status';

const spec = (slot: number, fingerprint: string, extra: Partial<SlotSpec> = {}): SlotSpec => ({
  slot,
  shipped: undefined,
  object: `/objs/p${slot}.bpf.o`,
  program: undefined,
  globals: {},
  fingerprint,
  image: Buffer.alloc(0),
  sha256: '',
  pinned: undefined,
  line: 10 + slot,
  ...extra,
});

const iface = (programs: SlotSpec[], extra: Partial<InterfaceSpec> = {}): InterfaceSpec => ({ name: 'veth0', netns: undefined, mode: undefined, slots: 4, passMeta: undefined, programs, line: 3, ...extra });

/** A running root array with `progs[slot]` in its slots (undefined: empty). */
function status(progs: Array<{ id: number; name: string } | undefined>, extra: Partial<RootStatus> = {}): RootStatus {
  return {
    ifname: 'veth0',
    mode: 'skb',
    slotCount: progs.length,
    slots: progs.map((p, slot) => ({ slot, progId: p?.id, name: p?.name })),
    ...extra,
  } as unknown as RootStatus;
}

const fresh = (): FleetPlan => ({ changes: [], unchanged: [], notes: [], refused: [] });

function plan(i: InterfaceSpec, s: RootStatus | undefined, state: FleetState = {}, prune = false): FleetPlan {
  const p = fresh();
  planInterface(p, i, s, state, { prune });
  return p;
}

describe('planInterface', () => {
  it('no root: attach, then load every configured slot', () => {
    const p = plan(iface([spec(0, 'a'), spec(2, 'b')], { mode: 'native', slots: 3 }), undefined);
    expect(p.changes).toEqual([
      { action: 'attach', ifname: 'veth0', netns: undefined, slots: 3, mode: 'native', passMeta: undefined },
      { action: 'load', ifname: 'veth0', netns: undefined, slot: 0, spec: spec(0, 'a'), reason: 'new root array', drift: false },
      { action: 'load', ifname: 'veth0', netns: undefined, slot: 2, spec: spec(2, 'b'), reason: 'new root array', drift: false },
    ]);
    expect(p.unchanged).toEqual([]);
    expect(p.notes).toEqual([]);
  });

  it('a slot as the last apply left it is unchanged; an empty configured slot is loaded', () => {
    const state: FleetState = { '41': { fingerprint: 'a', ifname: 'veth0', netns: undefined, slot: 0 } };
    const p = plan(iface([spec(0, 'a'), spec(1, 'b')]), status([{ id: 41, name: 'p0' }, undefined, undefined, undefined]), state);
    expect(p.unchanged).toEqual([{ ifname: 'veth0', netns: undefined, slot: 0, progId: 41 }]);
    expect(p.changes).toEqual([{ action: 'load', ifname: 'veth0', netns: undefined, slot: 1, spec: spec(1, 'b'), reason: 'empty', drift: false }]);
  });

  it('a changed config entry is replaced; a program apply did not load is replaced as foreign', () => {
    const state: FleetState = { '41': { fingerprint: 'old', ifname: 'veth0', netns: undefined, slot: 0 } };
    const p = plan(iface([spec(0, 'new'), spec(1, 'b')]), status([{ id: 41, name: 'p0' }, { id: 50, name: 'other' }, undefined, undefined]), state);
    expect(p.changes).toEqual([
      { action: 'replace', ifname: 'veth0', netns: undefined, slot: 0, spec: spec(0, 'new'), from: { progId: 41, name: 'p0' }, reason: 'the config entry changed', drift: false },
      { action: 'replace', ifname: 'veth0', netns: undefined, slot: 1, spec: spec(1, 'b'), from: { progId: 50, name: 'other' }, reason: 'not loaded from this config', drift: false },
    ]);
    expect(p.unchanged).toEqual([]);
  });

  it('drift: a slot emptied or replaced by hand names the program apply had put there', () => {
    const state: FleetState = {
      '41': { fingerprint: 'a', ifname: 'veth0', netns: undefined, slot: 0 },
      '42': { fingerprint: 'b', ifname: 'veth0', netns: undefined, slot: 1 },
    };
    const p = plan(iface([spec(0, 'a'), spec(1, 'b')]), status([undefined, { id: 77, name: 'byhand' }, undefined, undefined]), state);
    expect(p.changes).toEqual([
      { action: 'load', ifname: 'veth0', netns: undefined, slot: 0, spec: spec(0, 'a'), reason: 'drift: emptied by hand (it held program 41)', drift: true },
      { action: 'replace', ifname: 'veth0', netns: undefined, slot: 1, spec: spec(1, 'b'), from: { progId: 77, name: 'byhand' }, reason: 'drift: replaced by hand (it held program 42)', drift: true },
    ]);
  });

  it('state of other interfaces, namespaces or slots is not drift here', () => {
    const state: FleetState = {
      '41': { fingerprint: 'a', ifname: 'veth1', netns: undefined, slot: 0 },
      '42': { fingerprint: 'a', ifname: 'veth0', netns: 'ns1', slot: 0 },
      '43': { fingerprint: 'a', ifname: 'veth0', netns: undefined, slot: 1 },
      '44': { fingerprint: 'a', ifname: 'veth0', netns: undefined, slot: 0 }, // the one running: not lost
    };
    const p = plan(iface([spec(0, 'a')]), status([{ id: 44, name: 'p0' }, undefined, undefined, undefined]), state);
    expect(p.unchanged).toEqual([{ ifname: 'veth0', netns: undefined, slot: 0, progId: 44 }]);
    expect(p.changes).toEqual([]);
    // The same program id applied for another slot or interface does not count as applied here.
    for (const other of [{ ifname: 'veth1', netns: undefined, slot: 0 }, { ifname: 'veth0', netns: 'ns1', slot: 0 }, { ifname: 'veth0', netns: undefined, slot: 1 }]) {
      const q = plan(iface([spec(0, 'a')]), status([{ id: 44, name: 'p0' }, undefined, undefined, undefined]), { '44': { fingerprint: 'a', ...other } });
      expect(q.changes.map((c) => [c.action, 'reason' in c ? c.reason : '']), JSON.stringify(other)).toEqual([['replace', 'not loaded from this config']]);
    }
    // In a namespace: its state entries match (netns compared, null as undefined).
    const ns = plan(iface([spec(0, 'a')], { netns: 'ns1' }), status([{ id: 42, name: 'p0' }, undefined, undefined, undefined]), {
      '42': { fingerprint: 'a', ifname: 'veth0', netns: null as unknown as undefined, slot: 0 },
    });
    expect(ns.changes.map((c) => c.action)).toEqual(['replace']);
    const ns2 = plan(iface([spec(0, 'a')], { netns: 'ns1' }), status([{ id: 42, name: 'p0' }, undefined, undefined, undefined]), state);
    expect(ns2.unchanged).toEqual([{ ifname: 'veth0', netns: 'ns1', slot: 0, progId: 42 }]);
    // An empty slot is drift only for what was applied to this interface, namespace and slot.
    for (const other of [{ ifname: 'veth1', netns: undefined, slot: 0 }, { ifname: 'veth0', netns: 'ns1', slot: 0 }, { ifname: 'veth0', netns: undefined, slot: 1 }]) {
      const q = plan(iface([spec(0, 'a')]), status([undefined, undefined, undefined, undefined]), { '45': { fingerprint: 'a', ...other } });
      expect(q.changes, JSON.stringify(other)).toMatchObject([{ action: 'load', reason: 'empty', drift: false }]);
      const r = plan(iface([spec(0, 'a')]), status([{ id: 46, name: 'x' }, undefined, undefined, undefined]), { '45': { fingerprint: 'a', ...other } });
      expect(r.changes, JSON.stringify(other)).toMatchObject([{ action: 'replace', reason: 'not loaded from this config', drift: false }]);
    }
    const nsDrift = plan(iface([spec(0, 'a')], { netns: 'ns1' }), status([undefined, undefined, undefined, undefined]), state);
    expect(nsDrift.changes).toMatchObject([{ action: 'load', reason: 'drift: emptied by hand (it held program 42)', drift: true }]);
  });

  it('slots the config does not mention are left alone, or removed with prune', () => {
    const running = status([{ id: 41, name: 'p0' }, undefined, { id: 43, name: '' }, undefined]);
    expect(plan(iface([]), running).changes).toEqual([]);
    expect(plan(iface([]), running, {}, true).changes).toEqual([
      { action: 'remove', ifname: 'veth0', netns: undefined, slot: 0, from: { progId: 41, name: 'p0' }, reason: 'not in the config (--prune)' },
      { action: 'remove', ifname: 'veth0', netns: undefined, slot: 2, from: { progId: 43, name: '' }, reason: 'not in the config (--prune)' },
    ]);
    // A nameless program keeps an empty name.
    const nameless = status([{ id: 41, name: undefined as unknown as string }, undefined, undefined, undefined]);
    expect(plan(iface([]), nameless, {}, true).changes).toMatchObject([{ from: { progId: 41, name: '' } }]);
    expect(plan(iface([spec(0, 'x')]), nameless).changes).toMatchObject([{ action: 'replace', from: { progId: 41, name: '' } }]);
  });

  it('a different slot count is refused; a different mode is a note, not a change', () => {
    // Refused for this interface only: listed with its config line, nothing planned for it.
    const refused = plan(iface([spec(0, 'a')], { slots: 8 }), status([undefined, undefined]));
    expect(refused.refused).toEqual([
      {
        ifname: 'veth0',
        netns: undefined,
        file: '?',
        line: 3,
        reason: 'its running root array has 2 slots, the config asks for 8: a slot count is fixed for the life of a root; detach it (xdp-root detach) to change it',
      },
    ]);
    expect(refused.changes).toEqual([]);
    expect(plan(iface([], { slots: 8, netns: 'ns1' }), status([undefined])).refused[0]).toMatchObject({ netns: 'ns1', reason: /has 1 slots/ });
    const p = plan(iface([], { mode: 'native', slots: 1 }), status([undefined]));
    expect(p.notes).toEqual(['veth0 runs in skb mode, the config asks for native: left as it is (changing the mode needs a detach)']);
    expect(p.changes).toEqual([]);
    expect(plan(iface([], { mode: 'native', slots: 1 }), status([undefined], { mode: undefined })).notes).toEqual([
      'veth0 runs in no mode, the config asks for native: left as it is (changing the mode needs a detach)',
    ]);
    expect(plan(iface([], { mode: 'skb', slots: 1 }), status([undefined])).notes).toEqual([]);
    expect(plan(iface([], { slots: 1 }), status([undefined])).notes).toEqual([]);
  });

  describe('the metadata hand-off (passMeta)', () => {
    const on = { passing: true, reason: 'on: the root parses each packet once and passes the summary to the slots' };
    const off = { passing: false, reason: 'off: not asked for' };
    const cannot = { passing: false, reason: 'asked for, but turned off: this kernel cannot hand 64 bytes of metadata to the slots (unavailable: the verifier refused bpf_xdp_adjust_meta in XDP programs); each slot parses for itself' };
    /** The plan for `passMeta` asked, the running root's hand-off (undefined: no root), and the kernel's answer. */
    function handoffPlan(passMeta: boolean | undefined, running: typeof on | undefined, kernel: typeof on | undefined = undefined): FleetPlan {
      const p = fresh();
      planInterface(p, iface([], { slots: 1, passMeta }), running && status([undefined], { metadata: running }), {}, {}, undefined, kernel);
      return p;
    }

    it('a new root is attached with what the config asks', () => {
      for (const passMeta of [true, false, undefined]) {
        expect(handoffPlan(passMeta, undefined).changes).toEqual([{ action: 'attach', ifname: 'veth0', netns: undefined, slots: 1, mode: undefined, passMeta }]);
      }
    });

    it('a running root that does otherwise is reloaded; one that does as asked, or is not asked, is left', () => {
      expect(handoffPlan(true, off).changes).toEqual([{ action: 'handoff', ifname: 'veth0', netns: undefined, passMeta: true }]);
      expect(handoffPlan(false, on).changes).toEqual([{ action: 'handoff', ifname: 'veth0', netns: undefined, passMeta: false }]);
      expect(handoffPlan(true, on, on).changes).toEqual([]);
      expect(handoffPlan(false, off).changes).toEqual([]);
      expect(handoffPlan(undefined, on).changes).toEqual([]);
      expect(handoffPlan(undefined, off, cannot).changes).toEqual([]);
      // A status that does not say (made by hand, or by an older library): nothing to compare.
      const unknown = fresh();
      planInterface(unknown, iface([], { slots: 1, passMeta: true }), status([undefined]), {}, {}, undefined, on);
      expect(unknown).toMatchObject({ changes: [], notes: [] });
    });

    it('asked for where the kernel cannot: no reload, and a note with the kernel\'s answer', () => {
      const note = `veth0: metadata hand-off ${cannot.reason}`;
      expect(handoffPlan(true, off, cannot)).toMatchObject({ changes: [], notes: [note] });
      // A new root is attached all the same (it runs without it), with the same note.
      expect(handoffPlan(true, undefined, cannot)).toMatchObject({ changes: [{ action: 'attach', passMeta: true }], notes: [note] });
      // Turning it off needs no kernel: nothing to say.
      expect(handoffPlan(false, off, cannot)).toMatchObject({ changes: [], notes: [] });
    });
  });
});

describe('formatPlan', () => {
  it('one line per change, then the unchanged count and the notes', () => {
    const shipped = spec(1, 'f', { shipped: 'xdp_filter' as SlotSpec['shipped'], program: 'xdp_filter' });
    const other = spec(2, 'g', { program: 'prog2' });
    const text = formatPlan({
      changes: [
        { action: 'attach', ifname: 'veth0', netns: 'ns1', slots: 4, mode: undefined, passMeta: undefined },
        { action: 'attach', ifname: 'veth1', netns: undefined, slots: 2, mode: 'skb', passMeta: true },
        { action: 'handoff', ifname: 'veth2', netns: undefined, passMeta: true },
        { action: 'handoff', ifname: 'veth3', netns: 'ns1', passMeta: false },
        { action: 'load', ifname: 'veth0', netns: 'ns1', slot: 1, spec: shipped, reason: 'empty', drift: false },
        { action: 'replace', ifname: 'veth0', netns: undefined, slot: 2, spec: other, from: { progId: 9, name: 'old' }, reason: 'the config entry changed', drift: false },
        { action: 'remove', ifname: 'veth0', netns: undefined, slot: 3, from: { progId: 8, name: 'gone' }, reason: 'not in the config (--prune)' },
      ],
      unchanged: [{ ifname: 'veth0', netns: undefined, slot: 0, progId: 1 }],
      notes: ['n1', 'n2'],
      refused: [],
    });
    expect(text.split('\n')).toEqual([
      '+ attach root array to veth0 (netns ns1): 4 slots, mode kernel default',
      '+ attach root array to veth1: 2 slots, mode skb, metadata hand-off asked for',
      '~ veth2: reload the root program with the metadata hand-off on (atomic; slots and counters stay)',
      '~ veth3 (netns ns1): reload the root program with the metadata hand-off off (atomic; slots and counters stay)',
      '+ veth0 (netns ns1) slot 1: load xdp_filter (empty)',
      '~ veth0 slot 2: replace old (id 9) with /objs/p2.bpf.o (program prog2) (the config entry changed)',
      '- veth0 slot 3: remove gone (id 8) (not in the config (--prune))',
      '1 slot unchanged',
      'note: n1',
      'note: n2',
    ]);
  });

  it('says so when nothing changes, and counts unchanged slots', () => {
    expect(formatPlan(fresh())).toBe('in sync (no changes)');
    const two = fresh();
    two.unchanged.push({ ifname: 'a', netns: undefined, slot: 0, progId: 1 }, { ifname: 'a', netns: undefined, slot: 1, progId: 2 });
    expect(formatPlan(two)).toBe('in sync (no changes)\n2 slots unchanged');
    const refused = fresh();
    refused.refused.push({ ifname: 'a', netns: undefined, file: 'fleet.yaml', line: 4, reason: 'its running root array has 2 slots' });
    expect(formatPlan(refused)).toBe('fleet.yaml:4: a: left as it is: its running root array has 2 slots');
    const loadPlain = fresh();
    loadPlain.changes.push({ action: 'load', ifname: 'a', netns: undefined, slot: 0, spec: spec(0, 'x'), reason: 'empty', drift: false });
    expect(formatPlan(loadPlain)).toBe('+ a slot 0: load /objs/p0.bpf.o (empty)');
  });
});
