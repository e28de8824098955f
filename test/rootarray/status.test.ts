// The status table and JSON of a root array (pure formatting, no kernel).
import { describe, expect, it } from 'vitest';
import { formatNoRoot, formatStatus, statusToJson, type RootStatus, type SlotStats } from '../../lib/rootarray/status';

const zero: SlotStats = { aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n, invalid: 0n, bytes: 0n, passedOn: 0n };

const status: RootStatus = {
  ifname: 'eth1',
  ifindex: 3,
  netns: undefined,
  mode: 'native',
  rootProgId: 42,
  slotCount: 3,
  root: { packets: 1000n, bytes: 64000n, noSlot: 10n },
  slots: [
    { slot: 0, progId: undefined, name: undefined, loadedAt: undefined, counted: false, stats: zero },
    { slot: 1, progId: 16, name: 'xdp_sampler', loadedAt: new Date(Date.UTC(2023, 4, 3, 20, 18, 12)), counted: true, stats: { ...zero, pass: 310n, passedOn: 300n } },
    { slot: 2, progId: 2257, name: 'xdp_drop', loadedAt: new Date(Date.UTC(2023, 8, 29, 23, 2, 7)), counted: false, stats: zero },
  ],
};

describe('formatStatus', () => {
  it('prints one aligned row per slot with the action columns', () => {
    const lines = formatStatus(status).split('\n');
    expect(lines[0]).toBe('Interface eth1 status:');
    expect(lines[1]).toBe('ifindex 3; root program 42, mode native, 3 slots; 1000 packets (64000 bytes) seen, 10 found no slot');
    expect(lines[2]).toMatch(/^SLOT \| ID +\| NAME +\| LOAD TIME +\| XDP_ABORTED \| XDP_DROP \| XDP_PASS \| XDP_TX \| XDP_REDIRECT \| XDP_INVALID_ACTION \| PASSED_ON$/);
    expect(lines[3]).toMatch(/^ {3}0 \| +- \| - +\| - +\| +0 \|/);
    expect(lines[4]).toContain('| xdp_sampler ');
    expect(lines[4]).toContain('Wed, 03 May 2023 20:18:12 GMT');
    expect(lines[4]).toMatch(/\| +310 \| +0 \| +0 \| +0 \| +300$/);
    // A plain program: marked, and its (meaningless) counters shown as '-'.
    expect(lines[5]).toContain('xdp_drop *');
    expect(lines[5]).toMatch(/\| +- \| +- \| +- \| +- \| +- \| +- \| +-$/);
    expect(lines[6]).toMatch(/not counted/);
    const widths = lines.slice(2, 6).map((l) => l.length);
    expect(new Set(widths).size).toBe(1);
  });

  it('says whether the root hands metadata to the slots, and why, above the table', () => {
    const on = formatStatus({ ...status, metadata: { passing: true, reason: 'on: the root parses each packet once' } }).split('\n');
    expect(on[2]).toBe('metadata hand-off: on: the root parses each packet once');
    expect(on[3]).toMatch(/^SLOT \| ID/);
    const off = formatStatus({ ...status, metadata: { passing: false, reason: 'asked for, but turned off: the verifier refused it' } });
    expect(off).toContain('\nmetadata hand-off: asked for, but turned off: the verifier refused it\n');
    // A hand-made status without it prints no such line (the table stays on line 3).
    expect(formatStatus(status)).not.toContain('metadata hand-off');
  });

  it('says so for an interface without a root', () => {
    expect(formatNoRoot('eth1')).toBe('Interface eth1 status:\nRoot array not attached to interface eth1.');
  });
});

describe('statusToJson', () => {
  it('turns bigints into strings and dates into ISO strings', () => {
    const json = statusToJson(status) as { root: { packets: string }; slots: { loadedAt?: string; stats: { pass: string } }[] };
    expect(json.root.packets).toBe('1000');
    expect(json.slots[1].stats.pass).toBe('310');
    expect(json.slots[1].loadedAt).toBe('2023-05-03T20:18:12.000Z');
  });
});
