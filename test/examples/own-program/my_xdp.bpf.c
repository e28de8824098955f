// SPDX-License-Identifier: MIT
/* The README's "Writing your own XDP program" example, verbatim: test/examples/own-program.test.ts
 * compiles it with `libbpf-node cflags` and runs the README's unit test against it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Input: set from TypeScript before load (.rodata). */
const volatile __u32 verdict = XDP_PASS;

/* Output: read from TypeScript (.bss). */
__u64 seen = 0;

SEC("xdp")
int my_xdp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&seen, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
