// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count_egress / count_ingress: count the packets the sockets of one cgroup send and receive,
 * letting all of them through. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 egress;
__u64 ingress;

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress, 1);
	return 1;
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&ingress, 1);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
