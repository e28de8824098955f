// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* on_tick: the USDT probe libbpf_node_test:tick of test/bin/usdt_target.c; sums its argument and
 * counts hits, and keeps the USDT cookie. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

/* Outputs userspace reads. */
__u64 hits;
__u64 sum;
__u64 cookie;

SEC("usdt")
int BPF_USDT(on_tick, int n)
{
	__sync_fetch_and_add(&hits, 1);
	__sync_fetch_and_add(&sum, n);
	cookie = bpf_usdt_cookie(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
