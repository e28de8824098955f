// Four processes × 40 rounds of attach / load / detach on one interface: every failure must be
// a typed, documented refusal (BpfStateError: the root array changed under the handle), never
// ENOENT, EBUSY or an untyped error, and nothing may be left behind.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RootArray, queryXdp } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { buildTs, describeNet, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const repo = join(__dirname, '..', '..');
const lib = join(repo, 'dist', 'lib', 'index.js');
const PROCESSES = 4;
const ROUNDS = 40;

/** The child: `ROUNDS` rounds of attach, load into a slot, detach; prints its outcome counts as JSON. */
const child = `
const { RootArray, BpfStateError, BpfError } = require(process.env.LBN_LIB);
const [ifname, netns, pinBase, fixture, rounds] = process.argv.slice(1);
(async () => {
  const out = { ok: 0, refused: 0, untyped: [] };
  for (let i = 0; i < Number(rounds); i++) {
    try {
      const ra = await RootArray.attach(ifname, { netns, pinBase, slots: 2, mode: 'skb' });
      try {
        await ra.load(i % 2, fixture);
        await ra.detach();
      } finally {
        ra.close();
      }
      out.ok++;
    } catch (e) {
      if (e instanceof BpfStateError) out.refused++;
      else out.untyped.push((e && e.constructor && e.constructor.name) + ': ' + (e && e.message));
    }
  }
  console.log(JSON.stringify(out));
})();
`;

interface Outcome {
  ok: number;
  refused: number;
  untyped: string[];
}

function runChild(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', child, ...args], { env: { ...process.env, LBN_LIB: lib }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 150_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Outcome);
    });
  });
}

describeNet('RootArray across processes', () => {
  let net: VethPair;
  const pinBase = `/sys/fs/bpf/lbn-i11-conc-${process.pid}`;

  beforeAll(async () => {
    buildTs('tsconfig.build.json');
    net = await VethPair.create();
  }, scaledMs(60_000));

  afterAll(async () => {
    try {
      await RootArray.cleanup(net.a.ifname, { netns: net.a.netnsPath, pinBase, force: true });
    } catch {
      /* nothing left */
    }
    await net.close();
    rmSync(pinBase, { recursive: true, force: true });
  });

  it(`${PROCESSES} processes × ${ROUNDS} rounds of attach/load/detach: only typed refusals, nothing left behind`, async () => {
    const args = [net.a.ifname, net.a.netnsPath, pinBase, fixturePath('slot_count'), String(ROUNDS)];
    const outcomes = await Promise.all(Array.from({ length: PROCESSES }, () => runChild(args)));
    const total = outcomes.reduce((a, o) => ({ ok: a.ok + o.ok, refused: a.refused + o.refused, untyped: [...a.untyped, ...o.untyped] }), { ok: 0, refused: 0, untyped: [] as string[] });
    console.log(`root-array concurrency: ${PROCESSES}x${ROUNDS}: ${total.ok} complete rounds, ${total.refused} typed refusals, ${total.untyped.length} other errors`);
    expect(total.untyped).toEqual([]);
    expect(total.ok + total.refused).toBe(PROCESSES * ROUNDS);
    expect(total.ok).toBeGreaterThan(0);
    // The last detach removed everything: no attachment, no pins, the lock folder kept.
    expect(queryXdp(net.a.ifname, { netns: net.a.netnsPath })).toBeUndefined();
    expect(RootArray.list({ pinBase })).toEqual([]);
    expect(existsSync(pinBase)).toBe(true);
  }, scaledMs(180_000));
});
