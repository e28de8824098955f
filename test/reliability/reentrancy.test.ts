// JavaScript called from inside a native call (the logger) is a boundary: it may close the
// object, throw, or open sockets, and the native call neither crashes nor reads freed libbpf
// memory afterwards; the logger runs in the caller's network namespace, never in the one an
// attach entered; errors stay typed.
// @module-tag threads
import { createSocket } from 'node:dgram';
import { readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { attachXdp, BpfObject, BpfStateError, BpfVerifierError, BpfError, setLogger, shippedObjectPath } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeBpf, describeNet, fixturePath } from '../support/helpers';

afterEach(() => setLogger(null));

const netnsOfThisThread = (): string => readlinkSync('/proc/thread-self/ns/net');

describeBpf('a logger that closes the object or throws', () => {
  it('closes the object during loadSync(): typed error, state closed, no crash', () => {
    const obj = BpfObject.open(fixturePath('verifier_reject'));
    let calls = 0;
    setLogger(() => {
      calls++;
      obj.close();
    });
    expect(() => obj.loadSync()).toThrow(BpfVerifierError);
    expect(calls).toBeGreaterThan(0);
    expect(obj.state).toBe('closed');
    expect(() => obj.programs).toThrow(BpfStateError);
  });

  it('closes the object during load(): typed rejection, state closed', async () => {
    const obj = BpfObject.open(fixturePath('verifier_reject'));
    setLogger(() => obj.close());
    await expect(obj.load()).rejects.toBeInstanceOf(BpfVerifierError);
    expect(obj.state).toBe('closed');
  });

  it('closes the object during a successful loadSync(): closed, not "loaded"', () => {
    const obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    // libbpf logs while loading at debug level; close at the first record.
    let calls = 0;
    setLogger(() => {
      calls++;
      obj.close();
    });
    obj.loadSync();
    expect(calls).toBeGreaterThan(0);
    expect(obj.state).toBe('closed');
    expect(() => obj.programs).toThrow(BpfStateError);
  });

  it('throws: the load error is still the verifier error, not the logger\'s', async () => {
    using obj = BpfObject.open(fixturePath('verifier_reject'));
    let calls = 0;
    setLogger(() => {
      calls++;
      throw new Error('logger boom');
    });
    await expect(obj.load()).rejects.toBeInstanceOf(BpfVerifierError);
    expect(calls).toBeGreaterThan(0);
  });

  it('closes a reader from inside its own batch: no crash, iteration ends', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    obj.loadSync();
    const rb = obj.ringbuf('events');
    obj.program('xdp_ringbuf').testRun({ data: Buffer.alloc(64), repeat: 100 });
    let n = 0;
    for await (const _ of rb) {
      if (++n === 1) rb.close();
    }
    expect(n).toBeGreaterThanOrEqual(1);
    expect(rb.closed).toBe(true);
  });
});

describeNet('a logger called by an attach inside a namespace', () => {
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  it('runs in the caller\'s namespace, can open a socket there, and the error stays typed', async () => {
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    obj.loadSync();
    const prog = obj.program(obj.programs[0]!.name);
    const ours = netnsOfThisThread();
    using first = attachXdp(prog, net.a.ifname, { netns: net.a.netnsPath, link: false, mode: 'skb' });
    const seen: string[] = [];
    const bound: Promise<string>[] = [];
    setLogger((_level, msg) => {
      seen.push(netnsOfThisThread());
      // A server the logger opens binds where the caller lives (its loopback is up).
      const sock = createSocket('udp4');
      bound.push(
        new Promise((resolve) => {
          sock.once('error', (e) => resolve(`error ${e.message}`));
          sock.bind(0, '127.0.0.1', () => {
            sock.close();
            resolve('bound');
          });
        }),
      );
      void msg;
    });
    // A second netlink attach without force: the kernel refuses with an extack message that
    // libbpf logs while the thread is still inside net.a's namespace.
    let err: unknown;
    try {
      attachXdp(prog, net.a.ifname, { netns: net.a.netnsPath, link: false, mode: 'skb' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BpfError);
    expect(seen.length).toBeGreaterThan(0);
    for (const ns of seen) expect(ns).toBe(ours);
    expect(await Promise.all(bound)).toEqual(seen.map(() => 'bound'));
    expect(netnsOfThisThread()).toBe(ours);
    void first;
  });
});
