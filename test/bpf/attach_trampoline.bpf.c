// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* on_getppid: an fentry program on bpf_fentry_test1 (in every kernel with BPF test runs). Kernels (and VMs) without BPF trampolines
 * refuse it: the test checks that the refusal says why, and skips the attach by feature. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Outputs userspace reads. */
__u64 calls;

SEC("fentry/bpf_fentry_test1")
int BPF_PROG(on_getppid)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
