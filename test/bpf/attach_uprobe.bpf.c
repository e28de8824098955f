// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* on_target / on_target_ret: count entries into and returns from one function of the uprobe test
 * binary (test/bin/uprobe_target.c); on_target_cookie keeps the attach cookie the loader gave
 * (5.15+: the test turns its autoload off on older kernels). SEC("uprobe") without a target:
 * libbpf cannot auto-attach it, the loader names binary and function. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 entries;
__u64 returns;
__u64 cookie_entries;
__u64 last_cookie;
__u32 last_tgid;

SEC("uprobe")
int on_target(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&entries, 1);
	last_tgid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

SEC("uprobe")
int on_target_cookie(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&cookie_entries, 1);
	last_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

SEC("uretprobe")
int on_target_ret(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&returns, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
