// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* drop_marked: a socket filter that drops every packet whose last byte is 'D' and keeps the
 * others whole, counting both. The last byte is read relative to skb->len so the program does not
 * depend on where the socket's data starts (UDP header or IP header). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 seen;
__u64 dropped;

SEC("socket")
int drop_marked(struct __sk_buff *skb)
{
	__u8 last = 0;

	__sync_fetch_and_add(&seen, 1);
	if (skb->len == 0 || bpf_skb_load_bytes(skb, skb->len - 1, &last, 1) < 0)
		return skb->len;
	if (last == 'D') {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	return skb->len;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
