// The test kit's traffic: UDP, TCP SYN and ICMP across a VethPair, counted on the far side.
// Real kernel, real packets; needs root.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VethPair, hasNetnsPrivileges } from '../../lib/testing/index.js';
import { scaledMs } from '../support/kernel';

const privileged = hasNetnsPrivileges();
if (!privileged) console.warn('testing-traffic.test.ts skipped: needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)');

describe.skipIf(!privileged)('VethPair traffic (needs root: CAP_NET_ADMIN + CAP_SYS_ADMIN)', () => {
  // One pair for the read-only traffic tests; tests that break the link make their own.
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  describe('UDP', () => {
    test('100 datagrams sent, exactly 100 received, with source and payload', async () => {
      const payload = Buffer.from('libbpf-node test payload');
      const arrived = net.receive({ on: 'a', udp: 9000, timeoutMs: scaledMs(500) });
      const { sent } = await net.send({ from: 'b', udp: { port: 9000, payload, sourcePort: 40000 }, count: 100 });
      expect(sent).toBe(100);
      const got = await arrived;
      expect(got.count).toBe(100);
      expect(got.dropped).toBe(0);
      expect(got.packets).toHaveLength(100);
      for (const packet of got.packets) {
        expect(packet.from).toBe(net.b.ipv4);
        expect(packet.sourcePort).toBe(40000);
        expect(packet.payload.equals(payload)).toBe(true);
      }
    });

    test('a burst of 10 000 is fully accounted for: received + dropped by the kit = sent', async () => {
      const arrived = net.receive({ on: 'a', udp: 9005, timeoutMs: scaledMs(5_000), count: 10_000 });
      const { sent } = await net.send({ from: 'b', udp: { port: 9005, payload: Buffer.alloc(256) }, count: 10_000 });
      const got = await arrived;
      expect(sent).toBe(10_000);
      expect(got.count + got.dropped).toBe(sent);
      expect(got.packets).toHaveLength(got.count);
    });

    test('in the other direction and over IPv6', async () => {
      const arrived = net.receive({ on: 'b', udp: 9001, timeoutMs: scaledMs(300) });
      await net.send({ from: 'a', family: 6, udp: { port: 9001, payload: 'v6' }, count: 7 });
      const got = await arrived;
      expect(got.count).toBe(7);
      expect(got.packets.every((p) => p.from === net.a.ipv6 && p.payload.toString() === 'v6')).toBe(true);
    });

    test('a listener on another port sees nothing, within its time bound', async () => {
      const arrived = net.receive({ on: 'a', udp: 9002, timeoutMs: 300 });
      const started = Date.now();
      await net.send({ from: 'b', udp: { port: 9003 }, count: 20 });
      expect(await arrived).toEqual({ count: 0, packets: [], dropped: 0 });
      // It waited for its time bound (a lower bound: the test's timeout is the hang guard).
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    test('receive({ count }) returns as soon as that many arrived', async () => {
      const arrived = net.receive({ on: 'a', udp: 9004, timeoutMs: 20_000, count: 10 });
      const started = Date.now();
      await net.send({ from: 'b', udp: { port: 9004 }, count: 10 });
      const got = await arrived;
      expect(got.count).toBe(10);
      expect(Date.now() - started).toBeLessThan(scaledMs(5_000));
    });

    test('many receives started before one send are all ready in time', async () => {
      const ports = [9010, 9011, 9012, 9013];
      const arrivals = ports.map((port) => net.receive({ on: 'a', udp: port, timeoutMs: scaledMs(300) }));
      await Promise.all(ports.map((port) => net.send({ from: 'b', udp: { port }, count: 5 })));
      for (const got of await Promise.all(arrivals)) expect(got.count).toBe(5);
    });

    test('listen() / collect() with a gap between setup and collection', async () => {
      await using listener = await net.listen({ on: 'b', udp: 9020 });
      expect(listener).toMatchObject({ side: 'b', protocol: 'udp', port: 9020 });
      await net.send({ from: 'a', udp: { port: 9020, payload: 'one' } });
      await net.send({ from: 'a', udp: { port: 9020, payload: 'two' } });
      const got = await listener.collect({ timeoutMs: scaledMs(200) });
      expect(got.packets.map((p) => p.payload.toString())).toEqual(['one', 'two']);
      await expect(listener.collect()).rejects.toMatchObject({ code: 'ECLOSED' });
    });

    test('a port in use is reported, and the port is free again after collect', async () => {
      const first = await net.listen({ on: 'a', udp: 9030 });
      await expect(net.listen({ on: 'a', udp: 9030 })).rejects.toMatchObject({ code: 'EADDRINUSE', op: 'VethPair.listen' });
      await first.collect({ timeoutMs: 1 });
      const again = await net.listen({ on: 'a', udp: 9030 });
      await again.close();
      await again.close();
    });

    test('sending is bounded by time as well as count', async () => {
      const started = Date.now();
      const { sent } = await net.send({ from: 'b', udp: { port: 9040 }, count: 100_000, intervalMs: 5, timeoutMs: 300 });
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(100);
      expect(Date.now() - started).toBeLessThan(scaledMs(2000));
    });
  });

  describe('ICMP', () => {
    test('ping over IPv4 and IPv6, both directions', async () => {
      expect(await net.ping({ from: 'b', count: 3 })).toEqual({ sent: 3, received: 3 });
      expect(await net.ping({ from: 'a', count: 3 })).toEqual({ sent: 3, received: 3 });
      expect(await net.ping({ from: 'b', family: 6, count: 3 })).toEqual({ sent: 3, received: 3 });
      expect(await net.ping({ from: 'a', to: net.b.ipv6, count: 2 })).toEqual({ sent: 2, received: 2 });
    });
  });

  describe('TCP', () => {
    test('SYNs to a listener complete; each connection is counted once', async () => {
      const arrived = net.receive({ on: 'a', tcp: 8080, timeoutMs: scaledMs(500) });
      const result = await net.send({ from: 'b', tcp: { port: 8080 }, count: 5 });
      expect(result).toEqual({ sent: 5, connected: 5, refused: 0, timedOut: 0, failed: 0 });
      const got = await arrived;
      expect(got.count).toBe(5);
      expect(got.packets.every((p) => p.from === net.b.ipv4 && p.payload.length === 0)).toBe(true);
      expect(new Set(got.packets.map((p) => p.sourcePort)).size).toBe(5);
    });

    test('over IPv6', async () => {
      const arrived = net.receive({ on: 'b', tcp: 8081, timeoutMs: scaledMs(300) });
      expect((await net.send({ from: 'a', family: 6, tcp: { port: 8081 } })).connected).toBe(1);
      expect((await arrived).packets[0]?.from).toBe(net.a.ipv6);
    });

    test('a SYN to a closed port is answered with a reset', async () => {
      expect(await net.send({ from: 'b', tcp: { port: 8082 }, count: 3 })).toEqual({
        sent: 3,
        connected: 0,
        refused: 3,
        timedOut: 0,
        failed: 0,
      });
    });
  });

  describe('when the far side does not answer', () => {
    // Removing side a's addresses makes it drop what is sent to them (it does not forward), the
    // way an XDP_DROP would: nothing arrives, nothing answers.
    let broken: VethPair;
    beforeAll(async () => {
      broken = await VethPair.create();
      const { code, stderr } = await broken.a.exec('ip', ['addr', 'flush', 'dev', broken.a.ifname]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    });
    afterAll(async () => {
      await broken?.close();
    });

    test('ping reports the loss, within its bound', async () => {
      const started = Date.now();
      expect(await broken.ping({ from: 'b', count: 3, timeoutMs: 300 })).toEqual({ sent: 3, received: 0 });
      expect(await broken.ping({ from: 'b', family: 6, count: 2, timeoutMs: 300 })).toEqual({ sent: 2, received: 0 });
      expect(Date.now() - started).toBeLessThan(scaledMs(3000));
    });

    test('TCP attempts time out after timeoutMs', async () => {
      const started = Date.now();
      expect(await broken.send({ from: 'b', tcp: { port: 8080 }, count: 4, timeoutMs: 300 })).toEqual({
        sent: 4,
        connected: 0,
        refused: 0,
        timedOut: 4,
        failed: 0,
      });
      expect(Date.now() - started).toBeLessThan(scaledMs(2000));
    });

    test('UDP is sent but does not arrive', async () => {
      const arrived = broken.receive({ on: 'a', udp: 9000, timeoutMs: 200 });
      expect(await broken.send({ from: 'b', udp: { port: 9000 }, count: 10 })).toEqual({ sent: 10 });
      expect((await arrived).count).toBe(0);
    });
  });
});
