// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A valid program that keeps the verifier busy: a bounded loop it has to walk iteration by
 * iteration (hundreds of thousands of instructions), so that a load takes long enough for tests
 * to see the event loop running meanwhile. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 sink;

SEC("xdp")
int xdp_slow(struct xdp_md *ctx)
{
	__u64 acc = ctx->data_end - ctx->data;

	/* The verifier simulates every iteration (i differs in each, so no state is pruned): about
	 * 600,000 instructions processed, under the 1M limit. No data-dependent branch inside, or
	 * the verifier would queue one pending state per iteration and give up at 8192. */
#pragma clang loop unroll(disable)
	for (int i = 0; i < 120000; i++)
		acc = acc * 31 + (acc >> 7);
	sink = acc;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
