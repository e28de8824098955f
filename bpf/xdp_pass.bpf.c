// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_pass: lets every packet through. The smallest valid XDP program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
