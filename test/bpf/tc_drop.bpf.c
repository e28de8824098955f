// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tc_drop: counts every packet and drops IPv4 and IPv6 ones (TC_ACT_SHOT); tc_pass counts and
 * lets everything through (TC_ACT_OK). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 dropped;
__u64 passed;

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP) || skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__sync_fetch_and_add(&dropped, 1);
		return TC_ACT_SHOT;
	}
	__sync_fetch_and_add(&passed, 1);
	return TC_ACT_OK;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&passed, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
