// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sock_keep_64: a socket filter that keeps the first 64 bytes of every packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sock_keep_64(struct __sk_buff *skb)
{
	return 64;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
