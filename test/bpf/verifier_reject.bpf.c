// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A program the verifier must reject: it reads packet data without a bounds check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;

	return data[20] == 0xff ? XDP_DROP : XDP_PASS; /* no check against data_end */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
