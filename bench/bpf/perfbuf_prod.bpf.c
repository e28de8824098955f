// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Benchmark fixture (npm run bench, perf buffer): an XDP program that writes `count` samples of
 * 16 or 256 bytes into the perf ring of the CPU it runs on, one bpf_loop per run, and returns
 * how many it could not write (ring full). Run with BPF_PROG_TEST_RUN. Not shipped. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

/* Inputs the loader sets. */
const volatile __u32 count = 100000;

struct rec16 {
	__u64 seq;
	__u64 value;
};

struct rec256 {
	__u64 seq;
	__u64 value[31];
};

struct loop_ctx {
	struct xdp_md *ctx;
	__u32 dropped;
};

static long emit16(__u64 i, void *arg)
{
	struct loop_ctx *c = arg;
	struct rec16 r = { .seq = i, .value = i * 3 };

	if (bpf_perf_event_output(c->ctx, &pb, BPF_F_CURRENT_CPU, &r, sizeof(r)))
		c->dropped++;
	return 0;
}

static long emit256(__u64 i, void *arg)
{
	struct loop_ctx *c = arg;
	struct rec256 r = { .seq = i };

	r.value[0] = i * 3;
	r.value[30] = i;
	if (bpf_perf_event_output(c->ctx, &pb, BPF_F_CURRENT_CPU, &r, sizeof(r)))
		c->dropped++;
	return 0;
}

SEC("xdp")
int perf16(struct xdp_md *ctx)
{
	struct loop_ctx c = { .ctx = ctx };

	bpf_loop(count, emit16, &c, 0);
	return c.dropped;
}

SEC("xdp")
int perf256(struct xdp_md *ctx)
{
	struct loop_ctx c = { .ctx = ctx };

	bpf_loop(count, emit256, &c, 0);
	return c.dropped;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
