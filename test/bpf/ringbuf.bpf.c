// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One record per run into a ring buffer and a perf event array, numbered so that userspace can
 * check that nothing was lost. Triggered with BPF_PROG_TEST_RUN and `repeat`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;
	__u32 len;
	__u32 magic;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* room for a 100,000-record burst (32 bytes each) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* Outputs userspace reads. */
__u64 rb_seq;
__u64 rb_dropped;
__u64 perf_seq;

/*
 * The sequence numbers are a plain read-and-increment, not __sync_fetch_and_add: a fetch whose
 * result is used compiles to BPF_ATOMIC | BPF_FETCH, which kernels before 5.12 refuse ("BPF_STX
 * uses reserved fields"), and the tests drive these programs one frame at a time (test runs).
 */
SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	struct event e = {
		.seq = rb_seq++,
		.len = ctx->data_end - ctx->data,
		.magic = 0xfeedbeef,
	};

	if (bpf_ringbuf_output(&events, &e, sizeof(e), 0))
		__sync_fetch_and_add(&rb_dropped, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_perf(struct xdp_md *ctx)
{
	struct event e = {
		.seq = perf_seq++,
		.len = ctx->data_end - ctx->data,
		.magic = 0xfeedbeef,
	};

	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
