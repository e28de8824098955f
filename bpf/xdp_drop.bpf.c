// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_drop: drops every packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
