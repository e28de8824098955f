// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A root-array slot program: drops IPv4 UDP datagrams to one destination port (set before
 * load), passes everything else on. */
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "xdp_root.h"

/* Input the loader sets before load. */
const volatile __u16 drop_port = 9001;

SEC("xdp")
int slot_drop_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return xdp_root_return(ctx, XDP_PASS);
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return xdp_root_return(ctx, XDP_PASS);
	if (udp->dest == bpf_htons(drop_port))
		return xdp_root_return(ctx, XDP_DROP);
	return xdp_root_return(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
