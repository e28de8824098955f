// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dump_task: a task iterator printing "<tgid> <pid>" per task. The kernel types are declared
 * here with only the fields used; CO-RE (preserve_access_index) relocates their offsets against
 * the running kernel's BTF, so no vmlinux.h is needed. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct seq_file;

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	/* The iterator ends with one call where task is NULL: the verifier insists on the check. */
	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d\n", task->tgid, task->pid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
