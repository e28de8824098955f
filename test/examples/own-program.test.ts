// "Writing your own XDP program" (docs/testing-kit.md), as a user follows it: compile
// test/examples/own-program/my_xdp.bpf.c with the flags `npx libbpf-node cflags` prints (the compiled CLI, in a child), then
// run the guide's unit test (plain JavaScript with try/finally, so it runs on Node 20) against it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BpfObject, attachXdp, bpfCflags } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { buildTs, itNet } from '../support/helpers';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'libbpf-node-own-'));
const object = join(work, 'my_xdp.bpf.o');

beforeAll(() => {
  buildTs('tsconfig.build.json');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('libbpf-node cflags', () => {
  test('prints flags that compile a program against the package headers, and the CLI agrees with bpfCflags()', () => {
    const printed = execFileSync(process.execPath, [join(root, 'dist/lib/cli/libbpf-node.js'), 'cflags'], { encoding: 'utf8' }).trim();
    expect(printed).toBe(bpfCflags().join(' ')); // no spaces in this checkout's paths, so no quoting
    expect(printed).toContain(`-I${join(root, 'bpf', 'include')}`);
    // As the guide says: clang $(npx libbpf-node cflags) -c my_xdp.bpf.c -o my_xdp.bpf.o
    execFileSync('sh', ['-c', `clang ${printed} -c my_xdp.bpf.c -o ${object}`], { cwd: join(__dirname, 'own-program') });
    using obj = BpfObject.open(object);
    expect(obj.programs.map((p) => [p.name, p.section])).toEqual([['my_xdp', 'xdp']]);
    expect(obj.globals.names().map((g) => g.name).sort()).toEqual(['seen', 'verdict']);
  });

  test('an unknown command is a usage error (exit 2)', () => {
    let status = 0;
    try {
      execFileSync(process.execPath, [join(root, 'dist/lib/cli/libbpf-node.js'), 'cflag'], { stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
    }
    expect(status).toBe(2);
  });
});

// That guide's unit test, but for the object path and the import paths.
itNet('my_xdp drops when told to, and counts what it saw', async () => {
  const net = await VethPair.create();
  const obj = BpfObject.open(object);
  try {
    obj.globals.set('verdict', 1); // XDP_DROP
    await obj.load();
    const link = attachXdp(obj.program('my_xdp'), net.a.ifname, { netns: net.a.netnsPath, mode: 'skb' });
    const got = net.receive({ on: 'a', udp: 9000, timeoutMs: 300 });
    await net.send({ from: 'b', udp: { port: 9000 }, count: 10 });
    expect((await got).count).toBe(0);
    expect(obj.globals.get('seen')).toBeGreaterThanOrEqual(10n);
    link.close();
  } finally {
    obj.close();
    await net.close();
  }
});
