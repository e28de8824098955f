// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdp_legacy: a program in a section name libbpf 1.0 no longer recognizes ("xdp_prog", once
 * accepted as an "xdp" prefix). Loading it fails with "missing BPF prog type, check ELF section
 * name": the error message must carry that. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp_prog")
int xdp_legacy(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
