// The fleet config's checks one by one: each mistake gives exactly one issue, at the right path,
// in the right words (with the value it got), and the value just inside each bound is accepted.
// No kernel state is touched (object files are opened, not loaded).
// @module-tag pure
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetConfigError, loadFleetConfig, objectFileFor, parseFleetConfig, type SlotSpec } from '../../lib/fleet/index';
import { objectNameOf } from '../../lib/fleet/config';
import { shippedObjectPath } from '../../lib/index';
import { fixturePath } from '../support/helpers';

const dir = mkdtempSync(join(tmpdir(), 'fleet-checks-'));
const file = join(dir, 'fleet.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The issues of a config, as `path: message`; [] when it is accepted. */
function issues(text: string): string[] {
  return refusal(() => parseFleetConfig(text, file))?.issues.map((i) => `${i.path}: ${i.message}`) ?? [];
}

/** The FleetConfigError `read` throws, or undefined when it throws nothing. */
function refusal(read: () => unknown): FleetConfigError | undefined {
  try {
    read();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(FleetConfigError);
    return e as FleetConfigError;
  }
}

/** A config with one interface (4 slots) and one program entry (YAML flow mapping). */
const entry = (slot: string, iface = 'name: eth1\n    slots: 4') => `interfaces:\n  - ${iface}\n    programs:\n      - ${slot}\n`;
/** The one slot spec of an accepted one-entry config. */
function spec(slot: string): SlotSpec {
  return parseFleetConfig(entry(slot), file).interfaces[0].programs[0];
}
const P = 'interfaces[0].programs[0]';

describe('fleet config: the checks of a slot entry', () => {
  it('slot: an integer below the interface slot count', () => {
    expect(issues(entry('{ slot: 3, object: xdp_pass }'))).toEqual([]);
    expect(issues(entry('{ slot: 4, object: xdp_pass }'))).toEqual([`${P}.slot: slot 4 is out of range: the interface has 4 slots (0 to 3)`]);
    expect(issues(entry('{ slot: 32, object: xdp_pass }'))).toEqual([`${P}.slot: must be an integer in [0, 31], got number 32`]);
    expect(issues(entry('{ slot: -1, object: xdp_pass }'))).toEqual([`${P}.slot: must be an integer in [0, 31], got number -1`]);
    expect(issues(entry('{ slot: 1.5, object: xdp_pass }'))).toEqual([`${P}.slot: must be an integer in [0, 31], got number 1.5`]);
    expect(issues(entry("{ slot: '1', object: xdp_pass }"))).toEqual([`${P}.slot: must be an integer in [0, 31], got '1'`]);
    expect(issues(entry('{ object: xdp_pass }'))).toEqual([`${P}.slot: must be an integer in [0, 31], got nothing`]);
    expect(issues(entry('{ slot: 31, object: xdp_pass }', 'name: eth1\n    slots: 32'))).toEqual([]);
  });

  it('object: a shipped program, or a path (with a "/" or ending in .o) to a file', () => {
    const shippedList = 'xdp_pass, xdp_drop, xdp_count, xdp_filter, xdp_sampler, xdp_counter';
    expect(issues(entry('{ slot: 0, object: nope }'))).toEqual([`${P}.object: unknown program 'nope': a shipped program (${shippedList}) or a path to a .bpf.o`]);
    expect(issues(entry('{ slot: 0, object: x.o }'))).toEqual([`${P}.object: missing file ${join(dir, 'x.o')}`]);
    expect(issues(entry('{ slot: 0, object: sub/x }'))).toEqual([`${P}.object: missing file ${join(dir, 'sub', 'x')}`]);
    expect(issues(entry(`{ slot: 0, object: ${dir} }`))).toEqual([`${P}.object: ${dir} is not a file`]);
    expect(issues(entry("{ slot: 0, object: '' }"))).toEqual([`${P}.object: must be a non-empty string, got ''`]);
    expect(issues(entry('{ slot: 0 }'))).toEqual([`${P}.object: must be a non-empty string, got nothing`]);
    expect(issues(entry('{ slot: 0, object: [a] }'))).toEqual([`${P}.object: must be a non-empty string, got a list`]);
    expect(issues(entry('{ slot: 0, object: { a: 1 } }'))).toEqual([`${P}.object: must be a non-empty string, got a mapping`]);
    expect(issues(entry('{ slot: 0, object: null }'))).toEqual([`${P}.object: must be a non-empty string, got null`]);
    expect(issues(entry('{ slot: 0, object: true }'))).toEqual([`${P}.object: must be a non-empty string, got boolean true`]);
    expect(issues(entry('{ slot: 0, object: "a\\0b" }'))).toEqual([`${P}.object: must be a non-empty string, got 'a\0b'`]);
    const s = spec(`{ slot: 0, object: ${fixturePath('slot_count')} }`);
    expect(s).toMatchObject({ slot: 0, shipped: undefined, program: undefined, object: fixturePath('slot_count'), pinned: undefined, globals: {} });
  });

  it('program: a string naming an XDP program of the object', () => {
    expect(issues(entry(`{ slot: 0, object: ${fixturePath('slot_count')}, program: 7 }`))).toEqual([`${P}.program: must be a non-empty string, got number 7`]);
    expect(issues(entry(`{ slot: 0, object: ${fixturePath('slot_count')}, program: nope }`))).toEqual([`${P}.program: unknown program 'nope': ${fixturePath('slot_count')} has slot_count`]);
    expect(spec(`{ slot: 0, object: ${fixturePath('slot_count')}, program: slot_count }`).program).toBe('slot_count');
    expect(spec('{ slot: 0, object: xdp_drop }').program).toBe('xdp_drop');
  });

  it('sha256: 64 hex digits that match the object', () => {
    expect(issues(entry('{ slot: 0, object: xdp_pass, sha256: 12 }'))).toEqual([`${P}.sha256: must be the object's SHA-256 as 64 hex digits (xdp-root apply --dry-run prints it), got number 12`]);
    expect(issues(entry("{ slot: 0, object: xdp_pass, sha256: 'zz' }"))).toEqual([`${P}.sha256: must be the object's SHA-256 as 64 hex digits (xdp-root apply --dry-run prints it), got 'zz'`]);
    const wrong = '0'.repeat(64);
    const e = issues(entry(`{ slot: 0, object: xdp_pass, sha256: '${wrong}' }`));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(new RegExp(`^${P.replace(/[[\]]/g, '\\$&')}\\.sha256: `));
    const right = spec('{ slot: 0, object: xdp_pass }').sha256;
    expect(right).toMatch(/^[0-9a-f]{64}$/);
    const pinned = spec(`{ slot: 0, object: xdp_pass, sha256: '${right.toUpperCase()}' }`);
    expect([pinned.pinned, pinned.sha256]).toEqual([right, right]);
  });

  it('globals: a mapping whose names are globals of the object', () => {
    expect(issues(entry(`{ slot: 0, object: ${fixturePath('slot_drop_port')}, globals: 5 }`))).toEqual([`${P}.globals: must be a mapping, got number 5`]);
    expect(spec(`{ slot: 0, object: ${fixturePath('slot_drop_port')}, globals: { drop_port: 7 } }`).globals).toEqual({ drop_port: 7 });
  });

  it('settings sections belong to their shipped program only', () => {
    expect(issues(entry('{ slot: 0, object: xdp_pass, filter: {} }'))).toEqual([`${P}.filter: 'filter' settings are for object xdp_filter, not xdp_pass`]);
    expect(issues(entry('{ slot: 0, object: xdp_sampler, counter: {} }'))).toEqual([`${P}.counter: 'counter' settings are for object xdp_counter, not xdp_sampler`]);
    expect(issues(entry('{ slot: 0, sampler: {} }'))).toEqual([`${P}.object: must be a non-empty string, got nothing`, `${P}.sampler: 'sampler' settings are for object xdp_sampler`]);
  });

  it('filter: booleans, a bounded size, a list of CIDRs with short tags', () => {
    const F = `${P}.filter`;
    const f = (s: string) => issues(entry(`{ slot: 0, object: xdp_filter, filter: ${s} }`));
    expect(f('{ dropFragments: yes }')).toEqual([`${F}.dropFragments: must be true or false, got 'yes'`]);
    expect(f('{ matchDestination: 1 }')).toEqual([`${F}.matchDestination: must be true or false, got number 1`]);
    expect(f('{ maxEntries: 0 }')).toEqual([`${F}.maxEntries: must be an integer in [1, 16777216], got number 0`]);
    expect(f('{ maxEntries: 16777217 }')).toEqual([`${F}.maxEntries: must be an integer in [1, 16777216], got number 16777217`]);
    expect(f('{ block: x }')).toEqual([`${F}.block: must be a list, got 'x'`]);
    expect(f('{ block: [ 7 ] }')).toEqual([`${F}.block[0]: must be a mapping, got number 7`]);
    expect(f('{ block: [ { cidr: 10.0.0.0/8, x: 1 } ] }')).toEqual([`${F}.block[0].x: unknown key 'x' (known: cidr, tag)`]);
    expect(f('{ block: [ { tag: a } ] }')).toEqual([`${F}.block[0].cidr: must be a non-empty string, got nothing`]);
    expect(f('{ block: [ { cidr: 10.0.0.0/8, tag: 5 } ] }')).toEqual([`${F}.block[0].tag: must be a non-empty string, got number 5`]);
    expect(f('{ block: [ { cidr: 10.0.0.0/8, tag: abcdefghijklmnopq } ] }')).toEqual([`${F}.block[0].tag: tag 'abcdefghijklmnopq' is longer than 16 bytes`]);
    expect(f('{ block: [ { cidr: 10.0.0.0/33 } ] }')).toEqual([expect.stringMatching(/^interfaces\[0\]\.programs\[0\]\.filter\.block\[0\]\.cidr: bad CIDR: /)]);
    expect(f('{ block: [ 10.0.0.0/33 ] }')).toEqual([expect.stringMatching(/^interfaces\[0\]\.programs\[0\]\.filter\.block\[0\]: bad CIDR: /)]);
    expect(f('5')).toEqual([`${F}: must be a mapping, got number 5`]);
    expect(f('{ nope: 1 }')).toEqual([`${F}.nope: unknown key 'nope' (known: block, dropFragments, matchDestination, maxEntries)`]);
    const ok = spec('{ slot: 0, object: xdp_filter, filter: { matchDestination: true, maxEntries: 16777216, block: [ { cidr: 10.1.2.3/8, tag: abcdefghijklmnop } ] } }');
    expect(ok.filter).toEqual({ block: [{ cidr: '10.0.0.0/8', tag: 'abcdefghijklmnop' }], dropFragments: false, matchDestination: true, maxEntries: 16777216 });
    expect(spec('{ slot: 0, object: xdp_filter }').filter).toEqual({ block: [], dropFragments: false, matchDestination: false });
  });

  it('sampler and counter: bounded integers, with defaults', () => {
    const S = `${P}.sampler`;
    expect(issues(entry('{ slot: 0, object: xdp_sampler, sampler: { rate: -1 } }'))).toEqual([`${S}.rate: must be an integer in [0, 4294967295], got number -1`]);
    expect(issues(entry('{ slot: 0, object: xdp_sampler, sampler: { ringBytes: 4095 } }'))).toEqual([`${S}.ringBytes: must be an integer in [4096, 1073741824], got number 4095`]);
    expect(issues(entry('{ slot: 0, object: xdp_sampler, sampler: 5 }'))).toEqual([`${S}: must be a mapping, got number 5`]);
    expect(spec('{ slot: 0, object: xdp_sampler }').sampler).toEqual({ rate: 100 });
    expect(spec('{ slot: 0, object: xdp_sampler, sampler: { rate: 0, ringBytes: 4096 } }').sampler).toEqual({ rate: 0, ringBytes: 4096 });
    const C = `${P}.counter`;
    expect(issues(entry('{ slot: 0, object: xdp_counter, counter: { maxSources: 0 } }'))).toEqual([`${C}.maxSources: must be an integer in [1, 16777216], got number 0`]);
    expect(issues(entry('{ slot: 0, object: xdp_counter, counter: [] }'))).toEqual([`${C}: must be a mapping, got a list`]);
    expect(issues(entry('{ slot: 0, object: xdp_counter, counter: { x: 1 } }'))).toEqual([`${C}.x: unknown key 'x' (known: maxSources)`]);
    expect(spec('{ slot: 0, object: xdp_counter }').counter).toEqual({});
    expect(spec('{ slot: 0, object: xdp_counter, counter: { maxSources: 16777216 } }').counter).toEqual({ maxSources: 16777216 });
    expect(spec('{ slot: 0, object: xdp_pass }')).toMatchObject({ filter: undefined, sampler: undefined, counter: undefined });
  });

  it('an entry that is not a mapping, or has unknown keys', () => {
    expect(issues(entry('7'))).toEqual([`${P}: must be a mapping, got number 7`]);
    expect(issues(entry('{ slot: 0, object: xdp_pass, nope: 1 }'))).toEqual([`${P}.nope: unknown key 'nope' (known: slot, object, sha256, program, globals, filter, sampler, counter)`]);
  });
});

describe('fleet config: the checks of an interface and of the file', () => {
  const iface = (lines: string) => `interfaces:\n  - ${lines}\n`;
  it('name: at most 15 characters, no "/" or spaces', () => {
    expect(issues(iface('name: abcdefghijklmno'))).toEqual([]);
    expect(issues(iface('name: abcdefghijklmnop'))).toEqual(["interfaces[0].name: 'abcdefghijklmnop' is not an interface name (at most 15 characters, no '/' or spaces)"]);
    expect(issues(iface('name: a/b'))).toEqual(["interfaces[0].name: 'a/b' is not an interface name (at most 15 characters, no '/' or spaces)"]);
    expect(issues(iface("name: 'a b'"))).toEqual(["interfaces[0].name: 'a b' is not an interface name (at most 15 characters, no '/' or spaces)"]);
    expect(issues(iface('mode: skb'))).toEqual(['interfaces[0].name: must be a non-empty string, got nothing']);
  });

  it('netns, mode, slots, passMeta and programs', () => {
    expect(issues(iface('name: eth1\n    netns: run/netns/x'))).toEqual(["interfaces[0].netns: must be an absolute path like /run/netns/NAME, got 'run/netns/x'"]);
    expect(issues(iface('name: eth1\n    netns: 5'))).toEqual(['interfaces[0].netns: must be a non-empty string, got number 5']);
    expect(issues(iface('name: eth1\n    mode: hw'))).toEqual(["interfaces[0].mode: must be skb or native, got 'hw'"]);
    expect(issues(iface('name: eth1\n    slots: 0'))).toEqual(['interfaces[0].slots: must be an integer in [1, 32], got number 0']);
    expect(issues(iface('name: eth1\n    slots: 33'))).toEqual(['interfaces[0].slots: must be an integer in [1, 32], got number 33']);
    expect(issues(iface('name: eth1\n    programs: x'))).toEqual(["interfaces[0].programs: must be a list, got 'x'"]);
    expect(issues(iface('name: eth1\n    passMeta: yes'))).toEqual(["interfaces[0].passMeta: must be true or false, got 'yes'"]);
    expect(issues(iface('name: eth1\n    passMeta: 1'))).toEqual(['interfaces[0].passMeta: must be true or false, got number 1']);
    const c = parseFleetConfig(iface('name: eth1\n    mode: native\n    slots: 32\n    passMeta: true'), file).interfaces[0];
    expect(c).toEqual({ name: 'eth1', netns: undefined, mode: 'native', slots: 32, passMeta: true, programs: [], line: 2 });
    expect(parseFleetConfig(iface('name: eth1\n    passMeta: false'), file).interfaces[0].passMeta).toBe(false);
    expect(parseFleetConfig(iface('name: eth1'), file).interfaces[0]).toMatchObject({ mode: undefined, slots: 8, passMeta: undefined });
    expect(parseFleetConfig(iface('name: eth1'), file, { netns: '/run/netns/d' }).interfaces[0].netns).toBe('/run/netns/d');
    expect(parseFleetConfig(iface('name: eth1\n    netns: /run/netns/e'), file, { netns: '/run/netns/d' }).interfaces[0].netns).toBe('/run/netns/e');
  });

  it('a slot given twice is named at the second entry, even when the first has other mistakes', () => {
    const text = 'interfaces:\n  - name: eth1\n    programs:\n      - { slot: 1, object: nope }\n      - { slot: 1, object: xdp_pass }\n      - { slot: 2, object: xdp_pass }\n      - { slot: 2, object: xdp_drop }\n';
    expect(issues(text)).toEqual([
      `${P}.object: unknown program 'nope': a shipped program (xdp_pass, xdp_drop, xdp_count, xdp_filter, xdp_sampler, xdp_counter) or a path to a .bpf.o`,
      'interfaces[0].programs[1].slot: slot 1 is given twice (also at programs[0])',
      'interfaces[0].programs[3].slot: slot 2 is given twice (also at programs[2])',
    ]);
    expect(issues('interfaces:\n  - name: eth1\n    programs:\n      - null\n      - null\n')).toEqual([`${P}: must be a mapping, got null`, 'interfaces[0].programs[1]: must be a mapping, got null']);
  });

  it('programs come out sorted by slot', () => {
    const text = 'interfaces:\n  - name: eth1\n    programs:\n      - { slot: 3, object: xdp_pass }\n      - { slot: 0, object: xdp_drop }\n      - { slot: 2, object: xdp_count }\n';
    expect(parseFleetConfig(text, file).interfaces[0].programs.map((p) => [p.slot, p.shipped, p.line])).toEqual([[0, 'xdp_drop', 5], [2, 'xdp_count', 6], [3, 'xdp_pass', 4]]);
  });

  it('the file: a mapping with interfaces (a list) and pinBase (under /sys/fs/bpf/)', () => {
    expect(issues('- 1\n')).toEqual([': must be a mapping, got a list']);
    expect(issues('nope: 1\n')).toEqual(["nope: unknown key 'nope' (known: interfaces, pinBase)"]);
    expect(issues('interfaces: { a: 1 }\n')).toEqual(['interfaces: must be a list, got a mapping']);
    expect(issues('pinBase: /tmp/x\n')).toEqual(["pinBase: must be a folder under /sys/fs/bpf/ without '..', got '/tmp/x'"]);
    expect(issues('pinBase: /sys/fs/bpf/../x\n')).toEqual(["pinBase: must be a folder under /sys/fs/bpf/ without '..', got '/sys/fs/bpf/../x'"]);
    expect(issues('pinBase: 5\n')).toEqual(['pinBase: must be a non-empty string, got number 5']);
    expect(parseFleetConfig('pinBase: /sys/fs/bpf/mine\n', file)).toMatchObject({ pinBase: '/sys/fs/bpf/mine', interfaces: [], waived: [], insecure: false, file });
    expect(parseFleetConfig('pinBase: /sys/fs/bpf/mine\n', file, { pinBase: '/sys/fs/bpf/cli' }).pinBase).toBe('/sys/fs/bpf/cli');
    expect(parseFleetConfig('interfaces: []\n', file, { insecure: true }).insecure).toBe(true);
  });

  it('an interface given twice: by name, in the same namespace', () => {
    expect(issues('interfaces:\n  - name: eth1\n  - name: eth1\n')).toEqual(['interfaces[1].name: interface eth1 is given twice (also at interfaces[0])']);
    expect(issues('interfaces:\n  - { name: eth1, netns: /run/netns/a }\n  - { name: eth1, netns: /run/netns/a }\n')).toEqual(['interfaces[1].name: interface eth1 in /run/netns/a is given twice (also at interfaces[0])']);
    expect(issues('interfaces:\n  - { name: eth1, netns: /run/netns/a }\n  - { name: eth1, netns: /run/netns/b }\n  - name: eth1\n')).toEqual([]);
    // The same namespace by two paths is the same interface.
    expect(issues(`interfaces:\n  - { name: eth1, netns: /proc/self/ns/net }\n  - { name: eth1, netns: /proc/${process.pid}/ns/net }\n`)).toEqual([`interfaces[1].name: interface eth1 in /proc/${process.pid}/ns/net is given twice (also at interfaces[0])`]);
  });

  it('lists every issue sorted by line, in a message that counts them', () => {
    const text = 'interfaces:\n  - name: eth1\n    slots: 0\n  - name: a/b\n';
    const e = refusal(() => parseFleetConfig(text, file));
    expect(e?.name).toBe('FleetConfigError');
    expect(e?.issues.map((i) => [i.line, i.column, i.file])).toEqual([[3, 12, file], [4, 11, file]]);
    expect(e?.message).toBe(
      `config refused, nothing changed (2 errors):\n  ${file}:3:12: interfaces[0].slots: must be an integer in [1, 32], got number 0\n  ${file}:4:11: interfaces[1].name: 'a/b' is not an interface name (at most 15 characters, no '/' or spaces)`,
    );
    const one = new FleetConfigError([{ file: '/f', line: 0, column: 0, path: '', message: 'cannot read' }]);
    expect(one.message).toBe('config refused, nothing changed (1 error):\n  /f: cannot read');
    expect(one).toBeInstanceOf(RangeError);
  });

  it('an unknown key is placed at its own line', () => {
    const e = refusal(() => parseFleetConfig('interfaces:\n  - name: eth1\n    slots: 4\n    bogus: 1\n', file));
    expect(e?.issues.map((i) => [i.line, i.column, i.path])).toEqual([[4, 5, 'interfaces[0].bogus']]);
  });
});

describe('objectFileFor and objectNameOf', () => {
  it('a shipped name is the shipped object; a path is resolved from the base folder', () => {
    expect(objectFileFor('xdp_pass', '/base')).toEqual({ file: shippedObjectPath('xdp_pass'), shipped: 'xdp_pass' });
    expect(objectFileFor('a/b.bpf.o', '/base')).toEqual({ file: '/base/a/b.bpf.o', shipped: undefined });
    expect(objectFileFor('x.o', '/base')).toEqual({ file: '/base/x.o', shipped: undefined });
    expect(objectFileFor('/abs/x', '/base')).toEqual({ file: '/abs/x', shipped: undefined });
    expect(objectFileFor('nope', '/base')).toBeUndefined();
    expect(objectFileFor('xdp_root', '/base')).toBeUndefined();
    expect(objectFileFor('o', '/base')).toBeUndefined();
  });

  it('the object name libbpf would give the file', () => {
    expect(objectNameOf('/a/xdp_filter.bpf.o')).toBe('xdp_filter');
    expect(objectNameOf('prog')).toBe('prog');
    expect(objectNameOf('/a/.hidden.o')).toBe('bpf_object');
  });
});

describe('fingerprints', () => {
  it('settings written in another key order give the same fingerprint; another value a new one', () => {
    const a = spec('{ slot: 0, object: xdp_filter, filter: { dropFragments: true, matchDestination: false, block: [ 10.0.0.0/8 ] } }');
    const b = spec('{ slot: 0, object: xdp_filter, filter: { block: [ 10.0.0.0/8 ], matchDestination: false, dropFragments: true } }');
    const c = spec('{ slot: 0, object: xdp_filter, filter: { block: [ 10.0.0.0/8 ], matchDestination: true, dropFragments: true } }');
    const d = spec('{ slot: 0, object: xdp_filter, filter: { block: [ 10.0.0.0/8, 10.0.0.0/16 ], dropFragments: true } }');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(d.fingerprint).not.toBe(a.fingerprint);
    const g1 = spec(`{ slot: 0, object: ${fixturePath('slot_drop_port')}, globals: { drop_port: 7 } }`);
    const g2 = spec(`{ slot: 0, object: ${fixturePath('slot_drop_port')}, globals: { drop_port: 8 } }`);
    expect(g1.fingerprint).not.toBe(g2.fingerprint);
    expect(spec('{ slot: 1, object: xdp_pass }').fingerprint).toBe(spec('{ slot: 0, object: xdp_pass }').fingerprint);
  });
});

describe('an object file written by the test', () => {
  it('a file that is not a BPF object cannot be opened', () => {
    const junk = join(dir, 'junk.o');
    writeFileSync(junk, 'not an ELF file');
    const e = issues(entry('{ slot: 0, object: ./junk.o }'));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^interfaces\[0\]\.programs\[0\]\.object: /);
  });
});

describe('object files: the XDP program to run', () => {
  it('an object with several XDP programs needs `program`; one with none is refused', () => {
    const maps = fixturePath('maps');
    expect(issues(entry(`{ slot: 0, object: ${maps} }`))).toEqual([`${P}.object: ${maps} has several XDP programs (xdp_fill, xdp_tail): choose one with 'program'`]);
    expect(spec(`{ slot: 0, object: ${maps}, program: xdp_tail }`).program).toBe('xdp_tail');
    const sock = fixturePath('sock_filter');
    expect(issues(entry(`{ slot: 0, object: ${sock} }`))).toEqual([`${P}.object: ${sock} has no XDP program`]);
    expect(issues(entry(`{ slot: 0, object: ${sock}, program: sock_keep_64 }`))).toEqual([`${P}.program: program 'sock_keep_64' of ${sock} is not an XDP program`]);
    expect(issues(entry(`{ slot: 0, object: ${sock}, program: nope }`))).toEqual([`${P}.program: unknown program 'nope': ${sock} has no XDP program`]);
  });
});

describe('trust: the config file and its objects', () => {
  it('loadFleetConfig refuses a bad argument with a TypeError', () => {
    expect(() => loadFleetConfig('')).toThrow(new TypeError("file must be a non-empty string, got ''"));
    expect(() => loadFleetConfig(5 as unknown as string)).toThrow(new TypeError('file must be a non-empty string, got number 5'));
  });

  it('an object others may write is refused (EUNTRUSTED), waived with insecure, and a pinned hash is checked (ESHA256)', () => {
    const obj = join(dir, 'open.bpf.o');
    copyFileSync(fixturePath('slot_count'), obj);
    chmodSync(obj, 0o666);
    const text = entry('{ slot: 0, object: ./open.bpf.o }');
    let e = refusal(() => parseFleetConfig(text, file));
    expect(e?.issues.map((i) => [i.path, i.code])).toEqual([[`${P}.object`, 'EUNTRUSTED']]);
    expect(e?.issues[0].message).toMatch(/^untrusted object .*open\.bpf\.o/);
    const waived = parseFleetConfig(text, file, { insecure: true });
    expect(waived.insecure).toBe(true);
    expect(waived.waived.some((w) => w.startsWith(`${obj}: ${obj} (owner`))).toBe(true);
    const wrong = '1'.repeat(64);
    e = refusal(() => parseFleetConfig(entry(`{ slot: 0, object: ./open.bpf.o, sha256: '${wrong}' }`), file));
    expect(e?.issues.map((i) => [i.path, i.code])).toEqual([[`${P}.sha256`, 'ESHA256']]);
  });

  it('a config file others may write is refused before it is read, and read with insecure', () => {
    const cfg = join(dir, 'open.yaml');
    writeFileSync(cfg, 'interfaces: []\n');
    chmodSync(cfg, 0o666);
    const e = refusal(() => loadFleetConfig(cfg));
    expect(e?.issues).toEqual([{ file: cfg, line: 0, column: 0, path: '', message: expect.stringMatching(/^untrusted config /), code: 'EUNTRUSTED' }]);
    const c = loadFleetConfig(cfg, { insecure: true, pinBase: '/sys/fs/bpf/x' });
    expect(c).toMatchObject({ file: cfg, insecure: true, pinBase: '/sys/fs/bpf/x', interfaces: [] });
    expect(c.waived).toEqual([expect.stringMatching(new RegExp(`^${cfg}: ${cfg} \\(owner `))]);
    chmodSync(cfg, 0o644);
    expect(loadFleetConfig(cfg)).toMatchObject({ insecure: false, waived: [] });
  });
});

describe('YAML the parser refuses', () => {
  it('a duplicate key and an alias bomb are YAML issues at their line', () => {
    const e = refusal(() => parseFleetConfig('pinBase: /sys/fs/bpf/a\npinBase: /sys/fs/bpf/b\n', file));
    expect(e?.issues.map((i) => [i.line, i.path])).toEqual([[2, '']]);
    expect(e?.issues[0].message).toMatch(/^YAML: /);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', ''].join('\n');
    const b = refusal(() => parseFleetConfig(bomb, file));
    expect(b?.issues).toHaveLength(1);
    expect(b?.issues[0]).toMatchObject({ line: 2, path: '', message: expect.stringMatching(/^YAML: /) });
  });
});
