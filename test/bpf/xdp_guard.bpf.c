// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_guard: drops malformed frames before the stack sees them and counts why: frames shorter
 * than an Ethernet header, and IPv4 packets whose header length (IHL) is below 5 words or runs
 * past the end of the frame. Everything else passes. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads: frames seen by outcome. */
__u64 passed;
__u64 short_frames;
__u64 bad_ihl;

/* A cursor over the frame: each parser checks bounds before reading and advances it. */
struct cursor {
	void *pos;
	void *end;
};

/* Returns the EtherType, or -1 when the frame is shorter than an Ethernet header. */
static __always_inline int parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	return bpf_ntohs(eth->h_proto);
}

/* Returns the IP protocol, or -1 when the IPv4 header is malformed or truncated. */
static __always_inline int parse_ipv4(struct cursor *c)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return -1;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return -1;
	/* The verifier needs the variable-length bound checked against data_end explicitly. */
	if (c->pos + hlen > c->end)
		return -1;
	c->pos += hlen;
	return ip->protocol;
}

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	struct cursor c = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	int proto = parse_eth(&c);

	if (proto < 0) {
		__sync_fetch_and_add(&short_frames, 1);
		return XDP_DROP;
	}
	if (proto == ETH_P_IP && parse_ipv4(&c) < 0) {
		__sync_fetch_and_add(&bad_ihl, 1);
		return XDP_DROP;
	}
	__sync_fetch_and_add(&passed, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
