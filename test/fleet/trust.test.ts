// The trust rule (lib/fleet/trust.ts) on real files: root-owned and not writable by others all the
// way from `/`, or a pinned SHA-256. Each untrusted case is refused naming the path, its owner and
// mode; the config refuses it at the entry's line; the state file is kept out of others' reach.
// Needs root (files are given to `nobody` with chown); nothing here touches the kernel but
// opening objects (not loading them).
import { chmodSync, chownSync, copyFileSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetConfigError, loadFleetConfig, readFleetState, readTrusted, TrustError, checkTrusted, writeFleetState } from '../../lib/fleet/index';
import { shippedObjectPath } from '../../lib/index';
import { buildTs, fixturePath } from '../support/helpers';
import { execFileSync, spawnSync } from 'node:child_process';

const NOBODY = 65534;
const isRoot = process.geteuid?.() === 0;
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

// mkdtemp makes a 0700 folder root owns, in the sticky /tmp: a trusted place to start from.
const base = mkdtempSync(join(tmpdir(), 'fleet-trust-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
function place(): string {
  const d = join(base, `case${n++}`);
  mkdirSync(d, { mode: 0o755 });
  return d;
}
function object(dir: string, name = 'obj.bpf.o', from = fixturePath('slot_drop_port')): string {
  const f = join(dir, name);
  copyFileSync(from, f);
  chmodSync(f, 0o644);
  return f;
}
function untrusted(fn: () => unknown): TrustError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TrustError);
    return e as TrustError;
  }
  throw new Error('accepted');
}
function configRefused(fn: () => unknown): FleetConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FleetConfigError);
    return e as FleetConfigError;
  }
  throw new Error('the config was accepted');
}
const config = (objectPath: string, extra = '') => `interfaces:
  - name: eth1
    slots: 2
    programs:
      - slot: 0
        object: ${objectPath}
        globals: { drop_port: 9001 }
${extra}`;

describe.skipIf(!isRoot)('fleet trust (needs root: chown to nobody; this process has euid ' + process.geteuid?.() + ')', () => {
  it('accepts a root-owned 0644 object in root-owned folders (sticky /tmp above), and returns the bytes it checked', () => {
    const f = object(place());
    expect(checkTrusted(f)).toEqual([]);
    const v = readTrusted(f, { what: 'object' });
    expect(v.bytes.equals(readFileSync(f))).toBe(true);
    expect(v.sha256).toBe(sha(f));
    expect(v).toMatchObject({ path: f, waived: [], pinned: false });
  });

  it('refuses an object writable by others, naming the path, owner and mode', () => {
    const f = object(place());
    chmodSync(f, 0o666);
    const e = untrusted(() => readTrusted(f, { what: 'object' }));
    expect(e.code).toBe('EUNTRUSTED');
    expect(e.message).toContain(`untrusted object ${f}: ${f} (owner root (uid 0), mode 0666) is writable by group and others`);
    expect(e.message).toMatch(/chown root:root PATH; chmod go-w PATH/);
    chmodSync(f, 0o664);
    expect(untrusted(() => readTrusted(f)).message).toContain('mode 0664) is writable by group');
  });

  it('refuses an object another user owns, even 0644', () => {
    const f = object(place());
    chownSync(f, NOBODY, NOBODY);
    expect(untrusted(() => readTrusted(f)).message).toContain(`${f} (owner nobody (uid ${NOBODY}), mode 0644) is not owned by root`);
  });

  it('refuses a root-owned object in a folder others can write (not sticky), naming the folder', () => {
    const d = place();
    const sub = join(d, 'drop');
    mkdirSync(sub);
    const f = object(sub);
    chmodSync(sub, 0o777);
    const e = untrusted(() => readTrusted(f));
    expect(e.problems.map((p) => p.path)).toEqual([sub]);
    expect(e.message).toContain(`${sub} (owner root (uid 0), mode 0777) is a folder writable by group and others`);
    // A folder several levels up counts the same.
    chmodSync(sub, 0o755);
    chmodSync(d, 0o757);
    expect(untrusted(() => readTrusted(f)).message).toContain(`${d} (owner root (uid 0), mode 0757) is a folder writable by others`);
  });

  it('accepts a root-owned file in a sticky folder others can write, and refuses one another user owns there', () => {
    const d = place();
    chmodSync(d, 0o1777);
    const f = object(d);
    expect(checkTrusted(f)).toEqual([]);
    chownSync(f, NOBODY, NOBODY);
    const e = untrusted(() => readTrusted(f));
    expect(e.problems.map((p) => p.path)).toEqual([f]);
    expect(e.message).toContain(`${f} (owner nobody (uid ${NOBODY}), mode 0644) is not owned by root`);
  });

  it('refuses a folder another user owns, and an object under a node_modules a user installed', () => {
    const d = place();
    const theirs = join(d, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    const f = object(theirs);
    chownSync(theirs, NOBODY, NOBODY);
    expect(untrusted(() => readTrusted(f)).message).toContain(`${theirs} (owner nobody (uid ${NOBODY}), mode 0755) is not owned by root`);

    const nm = join(d, 'app', 'node_modules');
    mkdirSync(join(nm, 'libbpf-node', 'dist', 'bpf'), { recursive: true, mode: 0o755 });
    const shipped = object(join(nm, 'libbpf-node', 'dist', 'bpf'), 'xdp_pass.bpf.o', shippedObjectPath('xdp_pass'));
    expect(checkTrusted(shipped)).toEqual([]);
    chownSync(nm, NOBODY, NOBODY); // `npm install` run by a user
    const e = untrusted(() => readTrusted(shipped, { what: 'object' }));
    expect(e.problems.map((p) => p.path)).toEqual([nm]);
    expect(e.message).toContain(`untrusted object ${shipped}: ${nm} (owner nobody (uid ${NOBODY}), mode 0755) is not owned by root`);
  });

  it('follows symlinks component by component: a root symlink to a trusted file is fine; one a user owns in a sticky folder, or one into their folder, is not', () => {
    const d = place();
    const f = object(d);
    const link = join(d, 'link.o');
    symlinkSync(f, link);
    expect(checkTrusted(link)).toEqual([]);
    expect(readTrusted(link).bytes.equals(readFileSync(f))).toBe(true);

    const sticky = place();
    chmodSync(sticky, 0o1777);
    const theirLink = join(sticky, 'their-link.o');
    symlinkSync(f, theirLink);
    lchownSync(theirLink, NOBODY, NOBODY);
    expect(untrusted(() => readTrusted(theirLink)).message).toContain(`${theirLink} (owner nobody (uid ${NOBODY}), mode 0777) is a symlink not owned by root`);

    const theirs = join(d, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    const g = object(theirs);
    chownSync(theirs, NOBODY, NOBODY);
    const into = join(d, 'into.o');
    symlinkSync('theirs/obj.bpf.o', into); // relative, resolved from the link's folder
    expect(untrusted(() => readTrusted(into)).problems.map((p) => p.path)).toEqual([theirs]);
    expect(g).toBe(join(theirs, 'obj.bpf.o'));
  });

  it('accepts a pinned hash that matches even in a writable place, and refuses one that does not, naming both hashes', () => {
    const d = place();
    chmodSync(d, 0o777);
    const f = object(d);
    chownSync(f, NOBODY, NOBODY);
    chmodSync(f, 0o666);
    const good = sha(f);
    const v = readTrusted(f, { sha256: good.toUpperCase() });
    expect(v).toMatchObject({ sha256: good, pinned: true });
    const wrong = 'ab'.repeat(32);
    const e = untrusted(() => readTrusted(f, { what: 'object', sha256: wrong }));
    expect(e).toMatchObject({ code: 'ESHA256', expected: wrong, actual: good });
    expect(e.message).toContain(`object ${f} does not match its pinned hash: sha256 ${good}, pinned ${wrong}`);
    expect(() => readTrusted(f, { sha256: 'abc' })).toThrow(RangeError);
    // A FIFO in its place is refused at once, not waited on.
    rmSync(f);
    execFileSync('mkfifo', [f]);
    expect(() => readTrusted(f, { sha256: good })).toThrow(/is not a regular file/);
  });

  it('with insecure, reads an untrusted file and lists what was waived (a pin is still checked)', () => {
    const d = place();
    const f = object(d);
    chmodSync(f, 0o666);
    const v = readTrusted(f, { insecure: true });
    expect(v.waived.map((p) => p.path)).toEqual([f]);
    expect(v.sha256).toBe(sha(f));
    expect(untrusted(() => readTrusted(f, { insecure: true, sha256: '00'.repeat(32) })).code).toBe('ESHA256');
  });

  it('accepts a folder and file on a read-only mount whatever their mode (a ConfigMap volume is 0777, mounted read-only)', () => {
    // In a mount namespace of its own: the tmpfs is seen by that child process only.
    buildTs('tsconfig.build.json');
    const d = place();
    mkdirSync(join(d, 'ro'));
    const trust = join(__dirname, '..', '..', 'dist', 'lib', 'fleet', 'trust.js');
    const script = [
      `mount -t tmpfs -o mode=0777,size=1m none ${d}/ro`,
      `cp ${fixturePath('slot_drop_port')} ${d}/ro/x.o && chmod 0666 ${d}/ro/x.o`,
      `node -e 'console.log(JSON.stringify(require("${trust}").checkTrusted("${d}/ro/x.o").map((p) => p.path)))'`,
      `mount -o remount,ro ${d}/ro`,
      `node -e 'console.log(JSON.stringify(require("${trust}").checkTrusted("${d}/ro/x.o").map((p) => p.path)))'`,
    ].join(' && ');
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const [writable, readOnly] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(writable).toEqual([`${d}/ro`, `${d}/ro/x.o`]);
    expect(readOnly).toEqual([]);
  });

  describe('in a config', () => {
    it('refuses a writable config, and a config in a folder another user owns, naming path, owner and mode', () => {
      const d = place();
      const f = object(d);
      const file = join(d, 'fleet.yaml');
      writeFileSync(file, config(f), { mode: 0o666 });
      chmodSync(file, 0o666);
      let e = configRefused(() => loadFleetConfig(file));
      expect(e.issues).toHaveLength(1);
      expect(e.issues[0]).toMatchObject({ file, line: 0, code: 'EUNTRUSTED' });
      expect(e.message).toContain(`untrusted config ${file}: ${file} (owner root (uid 0), mode 0666) is writable by group and others`);

      chmodSync(file, 0o644);
      expect(loadFleetConfig(file).interfaces[0].programs[0].sha256).toBe(sha(f));
      chownSync(d, NOBODY, NOBODY);
      e = configRefused(() => loadFleetConfig(file));
      expect(e.message).toContain(`untrusted config ${file}: ${d} (owner nobody (uid ${NOBODY}), mode 0755) is not owned by root`);
    });

    it('refuses a writable object at its entry line, and accepts the same file root-owned 0644', () => {
      const d = place();
      const f = object(d);
      const file = join(d, 'fleet.yaml');
      writeFileSync(file, config(f));
      chmodSync(f, 0o646);
      const e = configRefused(() => loadFleetConfig(file));
      expect(e.issues).toMatchObject([{ line: 6, path: 'interfaces[0].programs[0].object', code: 'EUNTRUSTED' }]);
      expect(e.message).toContain(`${file}:6:`);
      expect(e.message).toContain(`untrusted object ${f}: ${f} (owner root (uid 0), mode 0646) is writable by others`);
      chmodSync(f, 0o644);
      const spec = loadFleetConfig(file).interfaces[0].programs[0];
      expect(spec.image.equals(readFileSync(f))).toBe(true);
      expect(spec).toMatchObject({ sha256: sha(f), pinned: undefined });
    });

    it('takes a pinned sha256: a match in a writable folder is accepted, a mismatch names both hashes, a malformed one is a config error', () => {
      const d = place();
      const drop = join(d, 'drop');
      mkdirSync(drop, { mode: 0o777 });
      chmodSync(drop, 0o777);
      const f = object(drop);
      chownSync(f, NOBODY, NOBODY);
      const file = join(d, 'fleet.yaml');
      writeFileSync(file, config(f));
      expect(configRefused(() => loadFleetConfig(file)).issues[0].code).toBe('EUNTRUSTED');

      writeFileSync(file, config(f, `        sha256: ${sha(f)}\n`));
      const spec = loadFleetConfig(file).interfaces[0].programs[0];
      expect(spec).toMatchObject({ sha256: sha(f), pinned: sha(f) });

      const wrong = 'cd'.repeat(32);
      writeFileSync(file, config(f, `        sha256: ${wrong}\n`));
      const e = configRefused(() => loadFleetConfig(file));
      expect(e.issues).toMatchObject([{ line: 8, path: 'interfaces[0].programs[0].sha256', code: 'ESHA256' }]);
      expect(e.message).toContain(`sha256 ${sha(f)}, pinned ${wrong}`);

      writeFileSync(file, config(f, '        sha256: 1234\n'));
      expect(configRefused(() => loadFleetConfig(file)).message).toMatch(/fleet\.yaml:8:\d+: interfaces\[0\]\.programs\[0\]\.sha256: must be the object's SHA-256 as 64 hex digits/);
    });

    it('with insecure, loads an untrusted config and object and lists every waived problem', () => {
      const d = place();
      const f = object(d);
      chmodSync(f, 0o666);
      const file = join(d, 'fleet.yaml');
      writeFileSync(file, config(f));
      chmodSync(file, 0o666);
      const c = loadFleetConfig(file, { insecure: true });
      expect(c.insecure).toBe(true);
      expect(c.waived).toEqual([`${file}: ${file} (owner root (uid 0), mode 0666) is writable by group and others`, `${f}: ${f} (owner root (uid 0), mode 0666) is writable by group and others`]);
      chmodSync(file, 0o644);
      chmodSync(f, 0o644);
      expect(loadFleetConfig(file)).toMatchObject({ insecure: false, waived: [] });
    });
  });

  describe('the state file', () => {
    it('is created 0600 in a folder created 0700', () => {
      const d = place();
      const state = join(d, 'run', 'xdp-root', 'fleet-state.json');
      writeFleetState(state, {});
      expect(statSync(join(d, 'run', 'xdp-root')).mode & 0o7777).toBe(0o700);
      expect(statSync(state).mode & 0o7777).toBe(0o600);
      expect(readFleetState(state)).toEqual({});
    });

    it('is never read or written through a symlink someone else owns, or in a folder others can write', () => {
      const sticky = place();
      chmodSync(sticky, 0o1777);
      const target = place();
      const link = join(sticky, 'xdp-root');
      symlinkSync(target, link);
      lchownSync(link, NOBODY, NOBODY);
      const state = join(link, 'fleet-state.json');
      const e = untrusted(() => writeFleetState(state, {}));
      expect(e.message).toContain(`untrusted state file ${state}: ${link} (owner nobody (uid ${NOBODY}), mode 0777) is a symlink not owned by root`);
      expect(() => statSync(join(target, 'fleet-state.json'))).toThrow(/ENOENT/);
      writeFileSync(join(target, 'fleet-state.json'), JSON.stringify({ version: 1, programs: { 1: { fingerprint: 'x', ifname: 'eth1', slot: 0 } } }));
      expect(untrusted(() => readFleetState(state)).code).toBe('EUNTRUSTED');

      // The same link owned by root is followed.
      lchownSync(link, 0, 0);
      expect(readFleetState(state)).toHaveProperty('1');

      const open = place();
      chmodSync(open, 0o777);
      expect(untrusted(() => writeFleetState(join(open, 's.json'), {})).message).toContain(`${open} (owner root (uid 0), mode 0777) is a folder writable by group or others`);

      // A symlink in the file's own place is replaced by the rename, never written through.
      const d = place();
      const victim = join(target, 'victim');
      writeFileSync(victim, 'keep');
      symlinkSync(victim, join(d, 's.json'));
      writeFleetState(join(d, 's.json'), {});
      expect(readFileSync(victim, 'utf8')).toBe('keep');
    });
  });
});
