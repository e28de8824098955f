// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One 32 KiB record per run into a 64 MiB ring buffer, numbered, so that a test can check that
 * an unread reader keeps its memory bounded and the rest waits in the kernel, losing nothing. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define RECORD_SIZE 32768

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} large_events SEC(".maps");

/* Outputs userspace reads. */
__u64 large_seq;
__u64 large_dropped;

SEC("xdp")
int xdp_large(struct xdp_md *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&large_events, RECORD_SIZE, 0);

	if (!rec) {
		__sync_fetch_and_add(&large_dropped, 1);
		return XDP_PASS;
	}
	/* A plain read-and-increment (test runs are serial): a fetch atomic needs 5.12. */
	*rec = large_seq++;
	bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
