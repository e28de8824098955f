// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_root: the root of an XDP root array. Attached to the interface, it counts each packet and
 * tail-calls slot 0, 1, 2 … in order; the first filled slot takes over. With every slot empty
 * the packet passes. See include/xdp_root.h for the slots' side.
 *
 * With xdp_root_pass_meta set before load, it also parses each packet once and hands the summary
 * to the slots in the XDP metadata area (include/xdp_meta.h), so that slot programs using
 * pkt_info_get() need not parse it again. Off by default: measured on this project's benchmark
 * (bench/, BPF_PROG_TEST_RUN), the root's parse and bpf_xdp_adjust_meta cost 30-40 ns per packet
 * while a slot reading the metadata saves at most ~13 ns over parsing, so it pays only for chains
 * of several parsing slots.
 */
#include <stdbool.h>
#include "xdp_root.h"
#include "xdp_meta.h"

/* Inputs the loader sets before load. */
const volatile bool xdp_root_pass_meta = false;  /* parse here, pass struct pkt_info to the slots */

/* Nothing else would put struct xdp_meta (and struct pkt_info) in the object's BTF, where
 * userspace finds their layout. From a section libbpf skips (no map, no global; lib/log.ts
 * keeps libbpf's info-level notice about that out of the logger). Never used. */
struct xdp_meta xdp_root_meta_type SEC(".types.unused");

/* The root array's pinned state (struct xdp_root_state): written by the loader, never read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_root_state);
} xdp_root_state SEC(".maps");

SEC("xdp")
int xdp_root(struct xdp_md *ctx)
{
	struct xdp_root_stats *st = xdp_root_stats_of(XDP_ROOT_STATS_ROOT);
	int stored = 0;

	if (st) {
		st->bytes += ctx->data_end - ctx->data;
		st->passed_on++;
	}
	/* A read-only global: with it false, the verifier removes this branch and the parser. */
	if (xdp_root_pass_meta)
		stored = xdp_meta_store(ctx);
	xdp_root_tail_call_from(ctx, 0);
	/* Every slot was empty: the packet passes without our metadata. */
	if (stored)
		xdp_meta_invalidate(ctx);
	if (st) {
		st->passed_on--;
		st->actions[XDP_PASS]++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
