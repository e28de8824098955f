// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_root: the root of an XDP root array. Attached to the interface, it counts each packet and
 * tail-calls slot 0, 1, 2 … in order; the first filled slot takes over. With every slot empty
 * the packet passes. See include/xdp_root.h for the slots' side.
 */
#include "xdp_root.h"

SEC("xdp")
int xdp_root(struct xdp_md *ctx)
{
	struct xdp_root_stats *st = xdp_root_stats_of(XDP_ROOT_STATS_ROOT);

	if (st) {
		st->bytes += ctx->data_end - ctx->data;
		st->passed_on++;
	}
	xdp_root_tail_call_from(ctx, 0);
	/* Every slot was empty. */
	if (st) {
		st->passed_on--;
		st->actions[XDP_PASS]++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
