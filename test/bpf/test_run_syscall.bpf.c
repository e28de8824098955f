// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test fixture: a BPF_PROG_TYPE_SYSCALL program run with testRun (repeat 0, a context in and
 * out). It reads two numbers from its argument, writes their sum back into it, counts its runs
 * and returns the product. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
	__u32 a;
	__u32 b;
	__u64 sum;
};

__u64 runs;

SEC("syscall")
int add_args(struct args *ctx)
{
	runs++;
	ctx->sum = (__u64)ctx->a + ctx->b;
	return ctx->a * ctx->b;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
