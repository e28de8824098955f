// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count_getppid: counts one process's calls of one syscall (getppid in the tests), from the raw
 * sys_enter tracepoint, which needs neither tracefs nor a kprobe PMU. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Inputs the loader sets before load. */
const volatile __u32 target_tgid;
const volatile __u64 target_nr;  /* the syscall number: differs between architectures */

/* Outputs userspace reads. */
__u64 calls;

/* sys_enter's raw arguments: (struct pt_regs *regs, long id). */
SEC("raw_tp/sys_enter")
int count_getppid(struct bpf_raw_tracepoint_args *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid && ctx->args[1] == target_nr)
		__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
