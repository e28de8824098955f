// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Benchmark fixture (npm run bench, load time): one object of 30 small XDP programs sharing a
 * map, each parsing Ethernet and IPv4 a little differently, so the verifier does real work
 * for every one. Not shipped. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

#define PROG(n)                                                            \
	SEC("xdp")                                                         \
	int prog_##n(struct xdp_md *ctx)                                   \
	{                                                                  \
		void *data = (void *)(long)ctx->data;                      \
		void *end = (void *)(long)ctx->data_end;                   \
		struct ethhdr *eth = data;                                 \
		struct iphdr *ip = data + sizeof(*eth);                    \
		__u32 key = n;                                             \
		__u64 *c;                                                  \
		if ((void *)(ip + 1) > end)                                \
			return XDP_PASS;                                   \
		if (eth->h_proto != bpf_htons(ETH_P_IP))                   \
			return XDP_PASS;                                   \
		if (ip->ttl < n)                                           \
			key = (n + ip->protocol) & 63;                     \
		c = bpf_map_lookup_elem(&hits, &key);                      \
		if (c)                                                     \
			__sync_fetch_and_add(c, 1);                        \
		return ip->tos == n ? XDP_DROP : XDP_PASS;                 \
	}

PROG(1) PROG(2) PROG(3) PROG(4) PROG(5) PROG(6) PROG(7) PROG(8) PROG(9) PROG(10)
PROG(11) PROG(12) PROG(13) PROG(14) PROG(15) PROG(16) PROG(17) PROG(18) PROG(19) PROG(20)
PROG(21) PROG(22) PROG(23) PROG(24) PROG(25) PROG(26) PROG(27) PROG(28) PROG(29) PROG(30)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
