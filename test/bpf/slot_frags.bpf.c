// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A plain slot program that loads but that a root's slots refuse: it is multi-buffer
 * (SEC("xdp.frags")) and the root is not, so the prog-array update fails (EINVAL). It uses no map
 * of the root, so the verifier cannot see the mismatch at load. The fleet tests use it to make a
 * swap fail after every program has loaded. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int slot_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
