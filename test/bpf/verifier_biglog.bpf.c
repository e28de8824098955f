// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A program the verifier refuses only after a long walk: a bounded loop it simulates iteration
 * by iteration (each one a few log lines at log level 1, well over 4 MiB of log in all), then
 * an unchecked packet read. The refusal must come with its whole log, not ENOSPC. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 sink;

SEC("xdp")
int xdp_biglog(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	__u64 acc = ctx->data_end - ctx->data;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 30000; i++)
		acc = acc * 31 + (acc >> 7);
	sink = acc;
	return data[20] == 0xff ? XDP_DROP : XDP_PASS; /* no check against data_end */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
