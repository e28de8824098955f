// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_count: counts packets and bytes per CPU, keyed by the verdict it returns, then returns the
 * verdict the loader chose (XDP_PASS unless `verdict` is set before load). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdp_count.h"

/* Inputs the loader sets before load. */
const volatile __u32 verdict = XDP_PASS;

/* Outputs userspace reads: per-CPU counters, indexed by XDP action. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct xdp_count_rec);
} counters SEC(".maps");

/* Outputs: the last frame length seen (in .bss, readable and writable after load). */
__u32 last_len;

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = verdict;
	__u32 len = ctx->data_end - ctx->data;
	struct xdp_count_rec *rec = bpf_map_lookup_elem(&counters, &key);

	/* The verifier needs the NULL check even though an array lookup in range always succeeds. */
	if (!rec)
		return XDP_ABORTED;
	rec->packets++;
	rec->bytes += len;
	last_len = len;
	return key;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
