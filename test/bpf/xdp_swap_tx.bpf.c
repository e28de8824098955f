// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_swap_tx: swaps the Ethernet source and destination and sends the frame back out of the
 * interface it came in on (XDP_TX). A frame too short for an Ethernet header is dropped. Also
 * the packet generator of the live-frames tests: a frame injected at one veth end leaves it
 * towards the peer. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 swapped;

SEC("xdp")
int xdp_swap_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	__sync_fetch_and_add(&swapped, 1);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
