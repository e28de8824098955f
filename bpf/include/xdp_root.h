/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The XDP root array: one root program on an interface hands each packet to programs held in
 * numbered slots of a prog array, through tail calls. Include this header in a slot program and
 * end it with
 *
 *	return xdp_root_return(ctx, XDP_PASS);
 *
 * which counts the verdict in this slot's statistics and, on XDP_PASS, tail-calls the next
 * filled slot after this one. The loader (RootArray in libbpf-node) sets xdp_root_slot and
 * xdp_root_nslots before load, and makes the object reuse the root's instances of the two maps
 * below (bpf_map__reuse_fd) when, and only when, the program goes into a root's slot. The maps
 * are not pinned by name: opened on its own, the object pins nothing and shares nothing, its own
 * prog array is empty, and xdp_root_return just returns the verdict.
 *
 * Shared by C and TypeScript: the layouts below are mirrored in lib/rootarray/root-array.ts.
 */
#ifndef LIBBPF_NODE_XDP_ROOT_H
#define LIBBPF_NODE_XDP_ROOT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

/* The most slots a root can have; a root uses the first xdp_root_nslots of them. */
#define XDP_ROOT_MAX_SLOTS 32
#define XDP_ROOT_DEFAULT_SLOTS 8

/* Indexes of struct xdp_root_stats.actions: the XDP actions, then any other return value. */
#define XDP_ROOT_ACTION_INVALID (XDP_REDIRECT + 1)
#define XDP_ROOT_ACTIONS (XDP_ROOT_ACTION_INVALID + 1)

/* The root's own entry in xdp_root_stats, after the slots'. */
#define XDP_ROOT_STATS_ROOT XDP_ROOT_MAX_SLOTS

/*
 * Per-CPU statistics, one entry per slot plus one for the root.
 *
 * Slot entry: actions[] counts the verdicts this slot's program returned through
 * xdp_root_return(); bytes sums the frame lengths of those packets; passed_on counts the packets
 * it passed that a later slot took over (the rest of its XDP_PASS left the chain here).
 *
 * Root entry: passed_on counts packets handed to a slot; actions[XDP_PASS] counts packets that
 * found every slot empty and passed; bytes sums the length of every packet the root saw.
 */
struct xdp_root_stats {
	__u64 actions[XDP_ROOT_ACTIONS];
	__u64 bytes;
	__u64 passed_on;
};

/*
 * What the loader records about a root array, in a one-entry array that only the root object
 * declares (xdp_root.bpf.c) and pins beside the slots; no program reads it. Identity comes from
 * the kernel (the namespace's device and inode, the ifindex); the names are for display.
 * Mirrored in lib/rootarray/state.ts.
 */
#define XDP_ROOT_STATE_LAYOUT 1
struct xdp_root_state {
	__u32 layout;          /* XDP_ROOT_STATE_LAYOUT */
	__u32 ifindex;         /* the interface, in the namespace below */
	__u64 netns_dev;       /* the network namespace: st_dev and st_ino of its nsfs file */
	__u64 netns_ino;
	__u64 generation;      /* chosen when the root array is created; a re-created one differs */
	__u32 root_prog_id;    /* the root program attached to the interface */
	__u32 upgrades;        /* root programs swapped in since creation */
	char ifname[16];       /* display: the interface's name when last seen */
	char netns_path[128];  /* display: the namespace path given at attach ("" = the caller's) */
};

/* Inputs the loader sets before load. */
const volatile __u32 xdp_root_slot = 0;                         /* this program's slot */
const volatile __u32 xdp_root_nslots = XDP_ROOT_DEFAULT_SLOTS;  /* slots in use by the root */

/* The slots: a prog array. The loader makes every program of one root share it. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XDP_ROOT_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xdp_root_slots SEC(".maps");

/* The statistics, shared like the slots. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_ROOT_MAX_SLOTS + 1);
	__type(key, __u32);
	__type(value, struct xdp_root_stats);
} xdp_root_stats SEC(".maps");

/*
 * Capture (lib/rootarray/capture.ts): per slot, which verdicts to copy to userspace and how.
 * One entry per slot in a per-CPU array, written for every CPU when a capture starts or stops;
 * the countdown and the counters are then each CPU's own. `actions` is read first and alone on
 * every packet: 0 (the default) means off, and nothing else of capture runs.
 * Mirrored in lib/rootarray/capture.ts.
 */
#define XDP_ROOT_CAPTURE_MAX_SNAPLEN 65535
#define XDP_ROOT_CAPF_FAMILY 0x1  /* only packets of this address family */
#define XDP_ROOT_CAPF_PROTO 0x2   /* only this transport protocol */
#define XDP_ROOT_CAPF_SRC 0x4     /* only sources in src/src_mask */
#define XDP_ROOT_CAPF_DST 0x8     /* only destinations in dst/dst_mask */
struct xdp_root_capture {
	__u32 actions;      /* bit i set: capture verdict index i (as in xdp_root_stats.actions); 0 = off */
	__u32 snaplen;      /* bytes of each frame to copy, at most XDP_ROOT_CAPTURE_MAX_SNAPLEN */
	__u32 rate;         /* capture 1 in `rate` matching packets (0 or 1: every one) */
	__u32 countdown;    /* per CPU: matching packets still to skip */
	__u32 filter;       /* XDP_ROOT_CAPF_* */
	__u32 owner_pid;    /* the process that switched capture on (for status) */
	__u64 owner_start;  /* its start time, clock ticks after boot (/proc/PID/stat field 22) */
	__u64 session;      /* chosen by the capture that switched it on */
	__u64 captured;     /* per CPU: frames written to the buffer */
	__u64 lost;         /* per CPU: frames the buffer refused (full, or no reader) */
	__u16 family;       /* AF_INET or AF_INET6 with XDP_ROOT_CAPF_FAMILY */
	__u8 proto;         /* IPPROTO_* with XDP_ROOT_CAPF_PROTO */
	__u8 pad[5];
	__u8 src[16];       /* addresses as struct pkt_info holds them (IPv4-mapped for IPv4) */
	__u8 src_mask[16];
	__u8 dst[16];
	__u8 dst_mask[16];
};

/* What each captured frame's record starts with; `caplen` bytes of the frame follow. */
struct xdp_root_capture_hdr {
	__u64 tstamp;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 len;          /* the frame's length (its linear part) */
	__u32 caplen;       /* bytes of it that follow this header */
	__u32 ifindex;      /* ingress_ifindex */
	__u32 rx_queue;     /* rx_queue_index */
	__u16 slot;
	__u16 action;       /* the verdict index, as in xdp_root_stats.actions */
	__u32 pad;
};

#ifndef XDP_ROOT_NO_CAPTURE
/*
 * Per slot, the verdicts to capture (bit i: verdict index i), 0 = off: the word every packet
 * reads. A global in a data section of its own, which the loader makes every program of one
 * root share (reusing the root's map, as for the maps below), so that a slot program reads it
 * with one load from a known address: no map lookup while capture is off. Mirrors `actions`
 * of the slot's struct xdp_root_capture.
 */
__u32 xdp_root_capture_on[XDP_ROOT_MAX_SLOTS] SEC(".data.xdp_capon");

/* The capture settings, shared like the slots. (Build with -DXDP_ROOT_NO_CAPTURE for a slot
 * program without capture: the benchmark's baseline, bench/root-array.ts.) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_ROOT_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct xdp_root_capture);
} xdp_root_capcfg SEC(".maps");

/* Where captured frames go: a perf event array (one ring per CPU), shared like the slots. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} xdp_root_capbuf SEC(".maps");

/* The type of xdp_root_capbuf's records (the header before the frame bytes), named after the map
 * for tools that type event records by name (libbpf-node gen: `<map>_record`). In .types.unused,
 * a section nothing loads: it only makes clang write the type into the object's BTF. */
struct xdp_root_capture_hdr xdp_root_capbuf_record SEC(".types.unused");

static __always_inline int xdp_root_capture_match(const __u8 *addr, const __u8 *want, const __u8 *mask)
{
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if ((addr[i] ^ want[i]) & mask[i])
			return 0;
	}
	return 1;
}

/*
 * Copies the frame to xdp_root_capbuf when it passes the filter and the rate. Called only when
 * capture is on for this slot and verdict; a function of its own (not inlined), so that with
 * capture off the slot program runs only the lookup and the test of `actions`.
 */
static __noinline int xdp_root_capture_frame(struct xdp_md *ctx, struct xdp_root_capture *cap, __u32 slot, __u32 index)
{
	struct xdp_root_capture_hdr hdr = {};
	__u64 len = ctx->data_end - ctx->data;
	__u64 caplen;

	if (cap->filter) {
		struct pkt_info info = {};

		if (parse_packet(ctx, &info) != PARSE_OK)
			return 0;
		if ((cap->filter & XDP_ROOT_CAPF_FAMILY) && info.family != cap->family)
			return 0;
		if ((cap->filter & XDP_ROOT_CAPF_PROTO) && info.proto != cap->proto)
			return 0;
		if ((cap->filter & XDP_ROOT_CAPF_SRC) && !xdp_root_capture_match(info.saddr, cap->src, cap->src_mask))
			return 0;
		if ((cap->filter & XDP_ROOT_CAPF_DST) && !xdp_root_capture_match(info.daddr, cap->dst, cap->dst_mask))
			return 0;
	}
	if (cap->rate > 1) {
		if (cap->countdown > 0) {
			cap->countdown--;
			return 0;
		}
		cap->countdown = cap->rate - 1;
	}
	caplen = cap->snaplen;
	if (caplen > len)
		caplen = len;
	if (caplen > XDP_ROOT_CAPTURE_MAX_SNAPLEN)
		caplen = XDP_ROOT_CAPTURE_MAX_SNAPLEN;
	hdr.tstamp = bpf_ktime_get_ns();
	hdr.len = len;
	hdr.caplen = caplen;
	hdr.ifindex = ctx->ingress_ifindex;
	hdr.rx_queue = ctx->rx_queue_index;
	hdr.slot = slot;
	hdr.action = index;
	/* For XDP, the upper 32 bits of the flags ask the kernel to append that many frame bytes. */
	if (bpf_perf_event_output(ctx, &xdp_root_capbuf, BPF_F_CURRENT_CPU | (caplen << 32), &hdr, sizeof(hdr)))
		cap->lost++;
	else
		cap->captured++;
	return 0;
}

#endif /* XDP_ROOT_NO_CAPTURE */

static __always_inline struct xdp_root_stats *xdp_root_stats_of(__u32 index)
{
	return bpf_map_lookup_elem(&xdp_root_stats, &index);
}

/*
 * Tail-calls the first filled slot in [first, xdp_root_nslots). Returns only when all of them
 * are empty. The loop is unrolled and every key is a constant (xdp_root_nslots and
 * xdp_root_slot are read-only globals the verifier knows), so the JIT turns each tail call into
 * a direct jump; the verifier drops the iterations the bounds rule out.
 */
static __always_inline void xdp_root_tail_call_from(struct xdp_md *ctx, __u32 first)
{
	/* Read once: as a volatile global it would be re-read from .rodata before every slot. */
	__u32 nslots = xdp_root_nslots;

#pragma unroll
	for (__u32 i = 0; i < XDP_ROOT_MAX_SLOTS; i++) {
		if (i >= first && i < nslots)
			bpf_tail_call(ctx, &xdp_root_slots, i);
	}
}

/*
 * Ends a slot program: counts `action` for this slot, copies the frame to userspace when a
 * capture asks for it, and, on XDP_PASS, hands the packet to the next filled slot. Returns `action` when the packet leaves the chain here.
 */
static __always_inline int xdp_root_return(struct xdp_md *ctx, int action)
{
	struct xdp_root_stats *st = xdp_root_stats_of(xdp_root_slot);
	__u32 index = (__u32)action <= XDP_REDIRECT ? (__u32)action : XDP_ROOT_ACTION_INVALID;

	/* The verifier needs the NULL check even though the index is always in range. */
	if (st) {
		st->actions[index]++;
		st->bytes += ctx->data_end - ctx->data;
	}
#ifndef XDP_ROOT_NO_CAPTURE
	/* Capture: off unless this slot's word has this verdict's bit. */
	if ((xdp_root_capture_on[xdp_root_slot & (XDP_ROOT_MAX_SLOTS - 1)] >> index) & 1) {
		__u32 slot = xdp_root_slot;
		struct xdp_root_capture *cap = bpf_map_lookup_elem(&xdp_root_capcfg, &slot);

		if (cap && (cap->actions >> index) & 1)
			xdp_root_capture_frame(ctx, cap, slot, index);
	}
#endif
	if (action != XDP_PASS)
		return action;
	/* Counted as passed on before the tail call, which does not return when it succeeds; taken
	 * back when every later slot was empty. Per-CPU, so no other writer races with us. */
	if (st)
		st->passed_on++;
	xdp_root_tail_call_from(ctx, xdp_root_slot + 1);
	if (st)
		st->passed_on--;
	return XDP_PASS;
}

#endif /* LIBBPF_NODE_XDP_ROOT_H */
