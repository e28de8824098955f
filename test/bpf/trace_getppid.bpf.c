// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count_getppid: counts getppid() calls of one process, through the syscall tracepoint. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Inputs the loader sets before load. */
const volatile __u32 target_tgid;

/* Outputs userspace reads. */
__u64 calls;

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
