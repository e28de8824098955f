// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Programs for the explicit kprobe and tracepoint attach calls. This machine has no kprobes, so
 * the kprobe test skips by feature; the raw tracepoint needs neither kprobes nor tracefs.
 * on_raw_cookie reads the attach cookie, which raw tracepoints have only since 6.10: the test
 * turns its autoload off on older kernels (one program the verifier refuses fails the object). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

/* Inputs the loader sets before load. */
const volatile __u32 target_tgid;

/* Outputs userspace reads. */
__u64 kprobe_hits;
__u64 tp_hits;
__u64 raw_hits;
__u64 raw_cookie_hits;
__u64 raw_cookie;

SEC("kprobe")
int on_kprobe(struct pt_regs *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&kprobe_hits, 1);
	return 0;
}

SEC("tracepoint")
int on_tracepoint(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&tp_hits, 1);
	return 0;
}

SEC("raw_tp")
int on_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&raw_hits, 1);
	return 0;
}

SEC("raw_tp")
int on_raw_cookie(struct bpf_raw_tracepoint_args *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid) {
		__sync_fetch_and_add(&raw_cookie_hits, 1);
		raw_cookie = bpf_get_attach_cookie(ctx);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
