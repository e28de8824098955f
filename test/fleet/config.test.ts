// The fleet config: every mistake refused at once, each with its line; good configs give stable
// fingerprints. No kernel state is touched (object files are opened, not loaded).
// @module-tag pure
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetConfigError, loadFleetConfig, parseFleetConfig } from '../../lib/fleet/index';
import { fixturePath } from '../support/helpers';

const dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refused(text: string): FleetConfigError {
  try {
    parseFleetConfig(text, join(dir, 'fleet.yaml'));
  } catch (e) {
    expect(e).toBeInstanceOf(FleetConfigError);
    return e as FleetConfigError;
  }
  throw new Error('the config was accepted');
}

const good = (drop = 9001) => `
interfaces:
  - name: eth1
    netns: /run/netns/edge
    mode: skb
    slots: 4
    programs:
      - slot: 0
        object: xdp_filter
        filter:
          dropFragments: true
          block:
            - { cidr: 203.0.113.0/24, tag: abuse }
            - 2001:db8:bad::/48
      - slot: 1
        object: ${fixturePath('slot_drop_port')}
        globals: { drop_port: ${drop} }
      - slot: 3
        object: xdp_sampler
        sampler: { rate: 10 }
`;

describe('fleet config', () => {
  it('parses a good config into sorted slot specs with canonical CIDRs', () => {
    const c = parseFleetConfig(good(), join(dir, 'fleet.yaml'));
    expect(c.interfaces).toHaveLength(1);
    const [iface] = c.interfaces;
    expect(iface).toMatchObject({ name: 'eth1', netns: '/run/netns/edge', mode: 'skb', slots: 4, line: 3 });
    expect(iface.programs.map((p) => p.slot)).toEqual([0, 1, 3]);
    expect(iface.programs[0].filter).toEqual({
      block: [
        { cidr: '203.0.113.0/24', tag: 'abuse' },
        { cidr: '2001:db8:bad::/48', tag: '' },
      ],
      dropFragments: true,
      matchDestination: false,
    });
    expect(iface.programs[1]).toMatchObject({ shipped: undefined, program: undefined, globals: { drop_port: 9001 }, line: 15 });
    expect(iface.programs[2].sampler).toEqual({ rate: 10 });
  });

  it('gives the same fingerprint to the same entry and a new one to a changed entry only', () => {
    const a = parseFleetConfig(good(), 'a.yaml').interfaces[0].programs;
    const b = parseFleetConfig(good(), 'b.yaml').interfaces[0].programs;
    const c = parseFleetConfig(good(9002), 'c.yaml').interfaces[0].programs;
    expect(a.map((p) => p.fingerprint)).toEqual(b.map((p) => p.fingerprint));
    expect(c[0].fingerprint).toBe(a[0].fingerprint);
    expect(c[1].fingerprint).not.toBe(a[1].fingerprint);
    expect(c[2].fingerprint).toBe(a[2].fingerprint);
  });

  it('changes the fingerprint when the object file changes at the same path', () => {
    const file = join(dir, 'prog.bpf.o');
    copyFileSync(fixturePath('slot_drop_port'), file);
    const text = `interfaces:\n  - name: eth1\n    programs:\n      - { slot: 0, object: ./prog.bpf.o }\n`;
    const before = parseFleetConfig(text, join(dir, 'f.yaml')).interfaces[0].programs[0];
    expect(before.object).toBe(file);
    copyFileSync(fixturePath('slot_count'), file);
    const after = parseFleetConfig(text, join(dir, 'f.yaml')).interfaces[0].programs[0];
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it('refuses a config with an unknown program, a slot out of range, a bad CIDR and a missing file, naming each line', () => {
    const e = refused(`interfaces:
  - name: eth1
    slots: 2
    programs:
      - slot: 0
        object: xdp_firewall
      - slot: 2
        object: xdp_pass
      - slot: 1
        object: xdp_filter
        filter:
          block: [ 203.0.113.0/33 ]
  - name: eth2
    programs:
      - slot: 0
        object: ./missing.bpf.o
      - slot: 1
        object: ${fixturePath('slot_drop_port')}
        program: nope
`);
    const lines = e.issues.map((i) => [i.line, i.path, i.message]);
    expect(lines).toEqual([
      [6, 'interfaces[0].programs[0].object', expect.stringMatching(/unknown program 'xdp_firewall'/)],
      [7, 'interfaces[0].programs[1].slot', expect.stringMatching(/slot 2 is out of range: the interface has 2 slots/)],
      [12, 'interfaces[0].programs[2].filter.block[0]', expect.stringMatching(/bad CIDR/)],
      [16, 'interfaces[1].programs[0].object', expect.stringMatching(/missing file .*missing\.bpf\.o/)],
      [19, 'interfaces[1].programs[1].program', expect.stringMatching(/unknown program 'nope'.*has slot_drop_port/)],
    ]);
    expect(e.message).toMatch(/config refused, nothing changed \(5 errors\)/);
    expect(e.message).toMatch(/fleet\.yaml:6:\d+: interfaces\[0\]\.programs\[0\]\.object: unknown program/);
  });

  it('refuses unknown keys, wrong types, duplicates, settings for the wrong program and bad globals', () => {
    const e = refused(`interfaces:
  - name: eth1
    mode: turbo
    slot: 4
    programs:
      - { slot: 0, object: xdp_pass, sampler: { rate: 5 } }
      - { slot: 0, object: xdp_drop }
      - slot: 1
        object: ${fixturePath('slot_drop_port')}
        globals: { no_such_global: 1 }
      - { slot: 2, object: xdp_sampler, sampler: { rate: -1 } }
  - name: eth1
`);
    const got = e.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(got).toEqual([
      expect.stringMatching(/^3 interfaces\[0\]\.mode: must be skb or native, got 'turbo'/),
      expect.stringMatching(/^4 interfaces\[0\]\.slot: unknown key 'slot'/),
      expect.stringMatching(/^6 interfaces\[0\]\.programs\[0\]\.sampler: 'sampler' settings are for object xdp_sampler, not xdp_pass/),
      expect.stringMatching(/^7 interfaces\[0\]\.programs\[1\]\.slot: slot 0 is given twice/),
      expect.stringMatching(/^10 interfaces\[0\]\.programs\[2\]\.globals\.no_such_global: unknown global/),
      expect.stringMatching(/^11 interfaces\[0\]\.programs\[3\]\.sampler\.rate: must be an integer/),
      expect.stringMatching(/^12 interfaces\[1\]\.name: interface eth1 is given twice/),
    ]);
  });

  it('reports YAML syntax errors and a missing file as config errors', () => {
    const e = refused('interfaces:\n  - name: eth1\n   bad: [\n');
    expect(e.issues[0].message).toMatch(/^YAML: /);
    expect(e.issues[0].line).toBeGreaterThan(1);
    expect(() => loadFleetConfig(join(dir, 'nope.yaml'))).toThrow(/cannot read the config: ENOENT/);
    expect(() => loadFleetConfig(join(dir, 'nope.yaml'))).toThrow(FleetConfigError);
  });

  it('reads JSON too, and an empty file as an empty config', () => {
    const file = join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify({ interfaces: [{ name: 'eth1', slots: 2, programs: [{ slot: 1, object: 'xdp_drop' }] }] }));
    expect(loadFleetConfig(file).interfaces[0].programs[0]).toMatchObject({ slot: 1, shipped: 'xdp_drop', program: 'xdp_drop' });
    expect(parseFleetConfig('', join(dir, 'empty.yaml')).interfaces).toEqual([]);
  });
});
