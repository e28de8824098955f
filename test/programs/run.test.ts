// The shipped programs at work on crafted frames, through BPF_PROG_TEST_RUN (`bpftool prog
// run`, until the typed testRun API lands): verdicts and counters for IPv4 and IPv6, VLAN tags,
// fragments and malformed frames, standalone and chained behind xdp_root with its metadata.
// @module-tag kernel-slice
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfObject } from '../../lib/index';
import { arrayValue, mapDump, mapUpdate, progArraySet, progRun } from '../support/bpftool';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO, addrBytes, eth, icmp, ipv4, ipv6, mappedBytes, pad, tcp, udp } from '../support/frames';
import { describeBpf } from '../support/helpers';
import { itWith, itWithout } from '../support/kernel';
import { metadataDecision } from '../../lib/rootarray/meta';

const programPath = (name: string) => join(__dirname, '..', '..', 'dist', 'bpf', `${name}.bpf.o`);

const XDP_DROP = 1;
const XDP_PASS = 2;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const XDP_META_MAGIC = 0x4c424e4d;
const META_LEN = 64;

const v4 = (src: string, l4: Uint8Array, proto: number, extra: Partial<Parameters<typeof ipv4>[0]> = {}, vlans: number[] = []) =>
  pad(eth(ETH_P_IP, ipv4({ src, dst: '192.0.2.1', proto, ...extra }, l4), vlans));
const v6 = (src: string, l4: Uint8Array, proto: number, extra: Partial<Parameters<typeof ipv6>[0]> = {}, vlans: number[] = []) =>
  eth(ETH_P_IPV6, ipv6({ src, dst: '2001:db8:ffff::1', proto, ...extra }, l4), vlans);

/** A key of filter_drop_v4/_v6: prefixlen (u32, host order) then the address bytes. */
function lpmKey(prefix: string): Buffer {
  const [addr, len] = prefix.split('/');
  const k = Buffer.alloc(4);
  k.writeUInt32LE(Number(len));
  return Buffer.concat([k, addrBytes(addr!)]);
}

function filterEntry(tag: string): Buffer {
  const b = Buffer.alloc(24);
  b.write(tag, 0, 16);
  b.writeBigUInt64LE(process.hrtime.bigint(), 16);
  return b;
}

/** The 4-byte key 0 of the config arrays. */
const key0 = Buffer.alloc(4);

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  return b;
}

/** Metadata as xdp_root writes it, for a frame parsed as `info` (only the header matters here). */
function meta(magic = XDP_META_MAGIC, version = 1, parseRet = 0, info: Uint8Array = Buffer.alloc(56)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(magic, 0);
  h.writeUInt16LE(version, 4);
  h.writeInt16LE(parseRet, 6);
  return Buffer.concat([h, info]);
}

/** A pkt_info as the root would store it for an IPv4 packet from src (len left 0). */
function pktInfoV4(src: string, dst: string, proto: number, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(56);
  mappedBytes(src).copy(b, 0);
  mappedBytes(dst).copy(b, 16);
  b.writeUInt16LE(2, 36); // AF_INET
  b.writeUInt16LE(ETH_P_IP, 38);
  b.writeUInt16LE(sport, 40);
  b.writeUInt16LE(dport, 42);
  b.writeUInt16LE(14, 48);
  b.writeUInt16LE(34, 50);
  b[52] = proto;
  b[55] = 1; // PKT_F_L4
  return b;
}

describeBpf('shipped programs on crafted frames', () => {
  const pinRoot = mkdtempSync('/sys/fs/bpf/programs-run-');
  const open: BpfObject[] = [];
  afterAll(() => {
    for (const o of open) o.close();
    rmSync(pinRoot, { recursive: true, force: true });
  });

  /** Loads a shipped object under its own pin folder (so each has a fresh, empty slot array). */
  async function load(name: string, configure?: (o: BpfObject) => void, root = mkdtempSync(join(pinRoot, `${name}-`))) {
    const obj = BpfObject.open(programPath(name), { pinRoot: root });
    configure?.(obj);
    await obj.load();
    open.push(obj);
    return obj;
  }

  describe('xdp_filter', () => {
    let obj: BpfObject;
    let id: number;
    const stats = () => arrayValue(obj.map('filter_stats').id);
    const run = (frame: Buffer) => progRun(id, frame).retval;

    beforeAll(async () => {
      obj = await load('xdp_filter');
      id = obj.program('xdp_filter').id;
      mapUpdate(obj.map('filter_drop_v4').id, lpmKey('10.1.0.0/16'), filterEntry('bad-v4'));
      mapUpdate(obj.map('filter_drop_v4').id, lpmKey('198.51.100.7/32'), filterEntry('one-host'));
      mapUpdate(obj.map('filter_drop_v6').id, lpmKey('2001:db8:bad::/48'), filterEntry('bad-v6'));
    });

    it('drops IPv4 sources in a listed prefix and passes the others', () => {
      const before = stats();
      expect(run(v4('10.1.2.3', udp(1000, 53), IPPROTO.UDP))).toBe(XDP_DROP);
      expect(run(v4('10.1.255.255', tcp(1000, 80), IPPROTO.TCP))).toBe(XDP_DROP);
      expect(run(v4('198.51.100.7', icmp(8, 0), IPPROTO.ICMP))).toBe(XDP_DROP);
      expect(run(v4('10.2.0.1', udp(1000, 53), IPPROTO.UDP))).toBe(XDP_PASS);
      expect(run(v4('198.51.100.8', icmp(8, 0), IPPROTO.ICMP))).toBe(XDP_PASS);
      const after = stats();
      expect(after.ip_drop_count - before.ip_drop_count).toBe(3);
      expect(after.ip_pass_count - before.ip_pass_count).toBe(2);
    });

    it('drops IPv6 sources in a listed prefix, behind extension headers too', () => {
      const before = stats();
      expect(run(v6('2001:db8:bad:1::5', udp(1000, 53), IPPROTO.UDP))).toBe(XDP_DROP);
      expect(run(v6('2001:db8:bad::1', tcp(1000, 443), IPPROTO.TCP, { hopByHop: true }))).toBe(XDP_DROP);
      expect(run(v6('2001:db8:bae::1', icmp(128, 0), IPPROTO.ICMPV6))).toBe(XDP_PASS);
      const after = stats();
      expect(after.ip6_drop_count - before.ip6_drop_count).toBe(2);
      expect(after.ip6_pass_count - before.ip6_pass_count).toBe(1);
    });

    it('finds the addresses behind one and two VLAN tags', () => {
      expect(run(v4('10.1.0.9', udp(1, 2), IPPROTO.UDP, {}, [100]))).toBe(XDP_DROP);
      expect(run(v4('10.1.0.9', udp(1, 2), IPPROTO.UDP, {}, [100, 200]))).toBe(XDP_DROP);
      expect(run(v6('2001:db8:bad::9', udp(1, 2), IPPROTO.UDP, {}, [7, 8]))).toBe(XDP_DROP);
      expect(run(v4('10.9.0.9', udp(1, 2), IPPROTO.UDP, {}, [100, 200]))).toBe(XDP_PASS);
    });

    it('drops destinations only with match_dst, and fragments only with frags_drop, at run time', () => {
      const toListed = pad(eth(ETH_P_IP, ipv4({ src: '192.0.2.9', dst: '10.1.0.1', proto: IPPROTO.UDP }, udp(1, 2))));
      const frags = [
        v4('192.0.2.10', udp(1, 2), IPPROTO.UDP, { mf: true }),
        v4('192.0.2.10', Buffer.alloc(16), IPPROTO.UDP, { fragOffset: 185 }),
        v6('2001:db8::10', udp(1, 2), IPPROTO.UDP, { fragment: { offset: 0, mf: true } }),
        v6('2001:db8::10', Buffer.alloc(16), IPPROTO.UDP, { fragment: { offset: 185, mf: false } }),
      ];
      expect(run(toListed)).toBe(XDP_PASS);
      expect(frags.map(run)).toEqual([XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS]);

      const before = stats();
      mapUpdate(obj.map('filter_config').id, key0, u32s(1, 1)); // frags_drop, match_dst
      expect(run(toListed)).toBe(XDP_DROP);
      expect(frags.map(run)).toEqual([XDP_DROP, XDP_DROP, XDP_DROP, XDP_DROP]);
      expect(run(v4('192.0.2.10', udp(1, 2), IPPROTO.UDP))).toBe(XDP_PASS);
      const after = stats();
      expect(after.ip_frag_drop_count - before.ip_frag_drop_count).toBe(2);
      expect(after.ip6_frag_drop_count - before.ip6_frag_drop_count).toBe(2);
      expect(after.ip_drop_count - before.ip_drop_count).toBe(1);

      mapUpdate(obj.map('filter_config').id, key0, u32s(0, 0));
      expect(run(toListed)).toBe(XDP_PASS);
      expect(frags.map(run)).toEqual([XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS]);
    });

    it('counts malformed frames under their error and passes them', () => {
      const cutVlan = Buffer.from('020000000002020000000001810000', 'hex'); // ends inside the VLAN tag
      const ipv4Hdr = ipv4({ src: '10.1.0.1', dst: '192.0.2.1', proto: IPPROTO.UDP }, udp(1, 2));
      const ihl4 = Buffer.from(ipv4Hdr);
      ihl4[0] = 0x44;
      const ihl15 = Buffer.from(ipv4Hdr); // claims 60 bytes of header in a 42-byte frame
      ihl15[0] = 0x4f;
      const notV4 = Buffer.from(ipv4Hdr);
      notV4[0] = 0x65;
      const before = stats();
      expect(run(cutVlan)).toBe(XDP_PASS);
      expect(run(Buffer.from('0200000000020200000000018100', 'hex'))).toBe(XDP_PASS); // 14 bytes, tag missing
      expect(run(eth(ETH_P_IP, ihl4))).toBe(XDP_PASS);
      expect(run(eth(ETH_P_IP, ihl15))).toBe(XDP_PASS);
      expect(run(eth(ETH_P_IP, notV4))).toBe(XDP_PASS);
      expect(run(eth(ETH_P_IP, ipv4Hdr.subarray(0, 12)))).toBe(XDP_PASS);
      expect(run(eth(ETH_P_IPV6, Buffer.alloc(30, 0x60)))).toBe(XDP_PASS);
      expect(run(eth(ETH_P_IPV6, ipv6({ src: '2001:db8:bad::1', dst: '::1', proto: IPPROTO.UDP, hopByHop: true }, Buffer.alloc(0)).subarray(0, 44)))).toBe(XDP_PASS);
      expect(run(pad(eth(ETH_P_ARP, Buffer.alloc(28))))).toBe(XDP_PASS);
      const after = stats();
      expect(after.eth_frame_err - before.eth_frame_err).toBe(2);
      expect(after.ip_header_err - before.ip_header_err).toBe(4);
      expect(after.ip6_header_err - before.ip6_header_err).toBe(2);
      expect(after.other_pass_count - before.other_pass_count).toBe(1);
      expect(after.ip_drop_count).toBe(before.ip_drop_count);
    });

    itWith(['test-run-xdp-ctx', 'xdp-meta-64'], 'trusts the metadata area only with our magic, version and exact size', () => {
      const frame = v4('10.2.0.1', udp(1, 2), IPPROTO.UDP);
      // The metadata claims a listed source: used, the frame's own address is not looked at.
      const listed = pktInfoV4('10.1.0.1', '192.0.2.1', IPPROTO.UDP, 1, 2);
      const before = stats();
      expect(progRun(id, Buffer.concat([meta(XDP_META_MAGIC, 1, 0, listed), frame]), { metaLen: META_LEN }).retval).toBe(XDP_DROP);
      expect(progRun(id, Buffer.concat([meta(0x12345678, 1, 0, listed), frame]), { metaLen: META_LEN }).retval).toBe(XDP_PASS);
      expect(progRun(id, Buffer.concat([meta(XDP_META_MAGIC, 2, 0, listed), frame]), { metaLen: META_LEN }).retval).toBe(XDP_PASS);
      const longer = Buffer.concat([Buffer.alloc(4), meta(XDP_META_MAGIC, 1, 0, listed)]);
      expect(progRun(id, Buffer.concat([longer, frame]), { metaLen: META_LEN + 4 }).retval).toBe(XDP_PASS);
      const after = stats();
      expect(after.meta_used_count - before.meta_used_count).toBe(1);
    });
  });

  describe('xdp_counter', () => {
    it('counts packets and bytes per protocol and per source', async () => {
      const obj = await load('xdp_counter');
      const id = obj.program('xdp_counter').id;
      const frames: [Buffer, number][] = [
        [v4('10.0.0.1', tcp(1, 80), IPPROTO.TCP), 1],
        [v4('10.0.0.1', udp(1, 53), IPPROTO.UDP, {}, [5]), 2],
        [v4('10.0.0.2', icmp(8, 0), IPPROTO.ICMP), 3],
        [v4('10.0.0.2', Buffer.alloc(8), IPPROTO.GRE), 4],
        [v6('2001:db8::1', tcp(1, 80), IPPROTO.TCP), 5],
        [v6('2001:db8::1', udp(1, 53), IPPROTO.UDP, { hopByHop: true }), 6],
        [v6('2001:db8::2', icmp(128, 0), IPPROTO.ICMPV6), 7],
        [v6('2001:db8::2', Buffer.alloc(8), IPPROTO.GRE), 8],
        [pad(eth(ETH_P_ARP, Buffer.alloc(28))), 0],
        [eth(ETH_P_IP, Buffer.alloc(10, 0x45)), 9],
      ];
      const expected = new Array(10).fill(0).map(() => ({ packets: 0, bytes: 0 }));
      for (const [frame, index] of frames) {
        expect(progRun(id, frame).retval).toBe(XDP_PASS);
        expected[index]!.packets++;
        expected[index]!.bytes += frame.length;
      }
      const proto = mapDump(obj.map('counter_proto').id).map((e) => e.value);
      expect(proto).toEqual(expected);

      const bySource = Object.fromEntries(
        mapDump(obj.map('counter_src').id).map((e) => [Buffer.from((e.key as { addr: number[] }).addr).toString('hex'), e.value]),
      );
      const len = (i: number) => frames[i]![0].length;
      expect(bySource).toEqual({
        [mappedBytes('10.0.0.1').toString('hex')]: { packets: 2, bytes: len(0) + len(1) },
        [mappedBytes('10.0.0.2').toString('hex')]: { packets: 2, bytes: len(2) + len(3) },
        [mappedBytes('2001:db8::1').toString('hex')]: { packets: 2, bytes: len(4) + len(5) },
        [mappedBytes('2001:db8::2').toString('hex')]: { packets: 2, bytes: len(6) + len(7) },
      });
    });
  });

  describe('xdp_sampler', () => {
    const frame = v6('2001:db8::1', udp(1, 2), IPPROTO.UDP);

    it('is off until a rate is set, never changes the packet, and samples every packet at rate 1', async () => {
      const obj = await load('xdp_sampler');
      const id = obj.program('xdp_sampler').id;
      const stats = () => arrayValue(obj.map('sampler_stats').id);
      const r = progRun(id, frame, { repeat: 5 });
      expect(r.retval).toBe(XDP_PASS);
      expect(r.dataOut.equals(frame)).toBe(true);
      expect(stats()).toEqual({ packets: 5, samples_sent: 0, ringbuf_full: 0 });
      mapUpdate(obj.map('sampler_config').id, key0, u32s(1, 0));
      expect(progRun(id, frame, { repeat: 7 }).dataOut.equals(frame)).toBe(true);
      expect(stats()).toEqual({ packets: 12, samples_sent: 7, ringbuf_full: 0 });
    });

    it('counts samples lost to a full ring buffer (nothing reads it here)', async () => {
      const obj = await load('xdp_sampler');
      mapUpdate(obj.map('sampler_config').id, key0, u32s(1, 0));
      progRun(obj.program('xdp_sampler').id, frame, { repeat: 3000 });
      // 256 KiB holds 2730 records of 88 bytes plus the ring buffer's 8-byte header.
      expect(arrayValue(obj.map('sampler_stats').id)).toEqual({ packets: 3000, samples_sent: 2730, ringbuf_full: 270 });
    });

    it('samples about 1 packet in N', async () => {
      const obj = await load('xdp_sampler');
      mapUpdate(obj.map('sampler_config').id, key0, u32s(4, 0));
      progRun(obj.program('xdp_sampler').id, frame, { repeat: 4000 });
      const s = arrayValue(obj.map('sampler_stats').id);
      expect(s.packets).toBe(4000);
      expect(s.ringbuf_full).toBe(0);
      // Binomial(4000, 1/4): mean 1000, sd 27; these bounds are more than 10 sd away.
      expect(s.samples_sent).toBeGreaterThan(700);
      expect(s.samples_sent).toBeLessThan(1300);
    });
  });

  describe('tc_counter', () => {
    it('counts per direction and drops the configured IPv4 UDP port where asked', async () => {
      const obj = await load('tc_counter');
      const ingress = obj.program('tc_counter_ingress').id;
      const egress = obj.program('tc_counter_egress').id;
      const toPort = v4('10.0.0.1', udp(5000, 9001), IPPROTO.UDP);
      const other = v4('10.0.0.1', udp(5000, 9002), IPPROTO.UDP);
      const v6ToPort = v6('2001:db8::1', udp(5000, 9001), IPPROTO.UDP);
      expect(progRun(ingress, toPort).retval).toBe(TC_ACT_OK);

      const cfg = Buffer.alloc(8);
      cfg.writeUInt16LE(9001, 0);
      cfg[2] = 1; // drop_ingress
      mapUpdate(obj.map('tc_config').id, key0, cfg);
      expect(progRun(ingress, toPort).retval).toBe(TC_ACT_SHOT);
      expect(progRun(ingress, other).retval).toBe(TC_ACT_OK);
      expect(progRun(ingress, v6ToPort).retval).toBe(TC_ACT_OK);
      const tagged = v4('10.0.0.1', udp(5000, 9001), IPPROTO.UDP, {}, [42]);
      expect(progRun(ingress, tagged).retval).toBe(TC_ACT_SHOT);
      expect(progRun(egress, toPort).retval).toBe(TC_ACT_OK); // drop_egress is 0

      cfg.writeUInt32LE(1, 4); // chain_next
      mapUpdate(obj.map('tc_config').id, key0, cfg);
      expect(progRun(egress, other).retval | 0).toBe(-1); // TC_ACT_UNSPEC = TCX_NEXT

      const [inStats, outStats] = mapDump(obj.map('tc_stats').id).map((e) => e.value);
      const n = (...f: Buffer[]) => f.reduce((a, b) => a + b.length, 0);
      expect(inStats).toEqual({ packets: 5, bytes: n(toPort, toPort, other, v6ToPort, tagged), dropped: 2, dropped_bytes: n(toPort, tagged) });
      expect(outStats).toEqual({ packets: 2, bytes: n(toPort, other), dropped: 0, dropped_bytes: 0 });
    });
  });

  describe('xdp_root with slots', () => {
    /**
     * A root and xdp_filter in slot 0, xdp_counter in slot 1, sharing one pin folder. The metadata
     * hand-off is asked for as RootArray does it: on only where the kernel's probe allows it.
     */
    async function chain(passMeta: boolean) {
      const dir = mkdtempSync(join(pinRoot, 'chain-'));
      const root = await load('xdp_root', (o) => o.globals.set('xdp_root_pass_meta', metadataDecision(passMeta).passing), dir);
      // The slots share the root's maps by reuse (as RootArray does); nothing is pinned by name.
      const shared = (slot: number) => (o: BpfObject) => {
        o.globals.set('xdp_root_slot', slot);
        for (const m of ['xdp_root_slots', 'xdp_root_stats']) o.map(m).reuse(root.map(m));
      };
      const filter = await load('xdp_filter', shared(0), dir);
      const counter = await load('xdp_counter', shared(1), dir);
      root.map('xdp_root_slots').pin(join(dir, 'xdp_root_slots'));
      progArraySet(join(dir, 'xdp_root_slots'), 0, filter.program('xdp_filter').id);
      progArraySet(join(dir, 'xdp_root_slots'), 1, counter.program('xdp_counter').id);
      mapUpdate(filter.map('filter_drop_v6').id, lpmKey('2001:db8:bad::/48'), filterEntry('bad'));
      return { root: root.program('xdp_root').id, filter, counter, dir };
    }

    itWith('xdp-meta-64', 'parses once in the root and the slots use its metadata', async () => {
      const c = await chain(true);
      const good = v4('10.0.0.1', udp(1234, 53), IPPROTO.UDP);
      const bad = v6('2001:db8:bad::1', tcp(1, 2), IPPROTO.TCP, {}, [3]);
      const r = progRun(c.root, good);
      expect(r.retval).toBe(XDP_PASS);
      // The metadata leaves with the packet: ours, with the per-flow summary and len 0 (for GRO).
      expect(r.dataOut.length).toBe(META_LEN + good.length);
      expect(r.dataOut.readUInt32LE(0)).toBe(XDP_META_MAGIC);
      expect(r.dataOut.subarray(8, META_LEN).equals(pktInfoV4('10.0.0.1', '192.0.2.1', IPPROTO.UDP, 1234, 53))).toBe(true);
      expect(r.dataOut.subarray(META_LEN).equals(good)).toBe(true);
      expect(progRun(c.root, bad).retval).toBe(XDP_DROP);

      const f = arrayValue(c.filter.map('filter_stats').id);
      expect([f.meta_used_count, f.ip_pass_count, f.ip6_drop_count]).toEqual([2, 1, 1]);
      // The counter in slot 1 saw only the packet the filter passed.
      const proto = mapDump(c.counter.map('counter_proto').id).map((e) => (e.value as { packets: number }).packets);
      expect(proto[2]).toBe(1);
      expect(proto.reduce((a, b) => a + b)).toBe(1);
    });

    it('with xdp_root_pass_meta off, each slot parses for itself', async () => {
      const c = await chain(false);
      const good = v4('10.0.0.1', udp(1234, 53), IPPROTO.UDP);
      const r = progRun(c.root, good);
      expect(r.retval).toBe(XDP_PASS);
      expect(r.dataOut.equals(good)).toBe(true);
      expect(progRun(c.root, v6('2001:db8:bad::1', tcp(1, 2), IPPROTO.TCP)).retval).toBe(XDP_DROP);
      const f = arrayValue(c.filter.map('filter_stats').id);
      expect([f.meta_used_count, f.ip_pass_count, f.ip6_drop_count]).toEqual([0, 1, 1]);
    });

    itWithout('xdp-meta-64', 'with the hand-off asked for where the kernel cannot hand 64 bytes of metadata, the slots parse for themselves', async () => {
      // The probed degradation: where the verifier refuses bpf_xdp_adjust_meta or the kernel
      // allows only 32 bytes, the hand-off turns itself off, the root passes no metadata, and the
      // chain gives the same verdicts without it.
      expect(metadataDecision(true).passing).toBe(false);
      const c = await chain(true);
      const good = v4('10.0.0.1', udp(1234, 53), IPPROTO.UDP);
      const r = progRun(c.root, good);
      expect(r.retval).toBe(XDP_PASS);
      expect(r.dataOut.equals(good)).toBe(true);
      expect(progRun(c.root, v6('2001:db8:bad::1', tcp(1, 2), IPPROTO.TCP)).retval).toBe(XDP_DROP);
      const f = arrayValue(c.filter.map('filter_stats').id);
      expect([f.meta_used_count, f.ip_pass_count, f.ip6_drop_count]).toEqual([0, 1, 1]);
    });

    itWith('xdp-meta-64', 'with xdp_root_pass_meta on, strips its metadata when every slot is empty', async () => {
      // The test run's data out starts at the metadata (as in the chain test above, where it is
      // META_LEN bytes longer): a root that left its metadata behind would show it here.
      const root = await load('xdp_root', (o) => o.globals.set('xdp_root_pass_meta', true));
      const frame = v6('2001:db8::1', udp(1, 2), IPPROTO.UDP);
      const r = progRun(root.program('xdp_root').id, frame);
      expect(r.retval).toBe(XDP_PASS);
      expect(r.dataOut.length).toBe(frame.length);
      expect(r.dataOut.equals(frame)).toBe(true);
    });

    it('with xdp_root_pass_meta off and every slot empty, passes the frame unchanged', async () => {
      const root = await load('xdp_root');
      const frame = v6('2001:db8::1', udp(1, 2), IPPROTO.UDP);
      const r = progRun(root.program('xdp_root').id, frame);
      expect(r.retval).toBe(XDP_PASS);
      expect(r.dataOut.equals(frame)).toBe(true);
    });
  });
});
