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
 * Ends a slot program: counts `action` for this slot and, on XDP_PASS, hands the packet to the
 * next filled slot. Returns `action` when the packet leaves the chain here.
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
