// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count_bpf_cmds: counts one process's bpf() calls by command, from the raw sys_enter tracepoint,
 * so that a test sees which syscalls a library call made (batch or per-element map access). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Where the first syscall argument sits in struct pt_regs. */
#if defined(__TARGET_ARCH_x86)
#define PARM1_OFFSET 112 /* di */
#elif defined(__TARGET_ARCH_arm64)
#define PARM1_OFFSET 0 /* regs[0] */
#else
#define PARM1_OFFSET -1 /* unknown here: the test skips, saying so */
#endif

/* Inputs the loader sets before load. */
const volatile __u32 target_tgid;
const volatile __u64 target_nr; /* bpf()'s syscall number: differs between architectures */

/* Outputs userspace reads. */
const volatile int parm1_offset = PARM1_OFFSET;
__u64 cmds[64]; /* calls per enum bpf_cmd */

SEC("raw_tp/sys_enter")
int count_bpf_cmds(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 cmd = 0;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || ctx->args[1] != target_nr || PARM1_OFFSET < 0)
		return 0;
	if (bpf_probe_read_kernel(&cmd, sizeof(cmd), (char *)ctx->args[0] + (PARM1_OFFSET < 0 ? 0 : PARM1_OFFSET)))
		return 0;
	if (cmd < 64)
		__sync_fetch_and_add(&cmds[cmd], 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
