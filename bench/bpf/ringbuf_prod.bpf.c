// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Benchmark fixture (npm run bench, ring buffer): a producer that writes `count` records of 16
 * or 256 bytes into a ring buffer as fast as the kernel allows, one bpf_loop per run. Each
 * run returns how many records it could not write (ring full), so the harness counts drops
 * exactly. Run with BPF_PROG_TEST_RUN from a thread of the harness. Not shipped. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} rb SEC(".maps");

/* Inputs the loader sets. */
const volatile __u32 count = 1000000;

struct rec16 {
	__u64 seq;
	__u64 value;
};

struct rec256 {
	__u64 seq;
	__u64 value[31];
};

static long emit16(__u64 i, void *dropped)
{
	struct rec16 *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		(*(__u32 *)dropped)++;
		return 0;
	}
	r->seq = i;
	r->value = i * 3;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

static long emit256(__u64 i, void *dropped)
{
	struct rec256 *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		(*(__u32 *)dropped)++;
		return 0;
	}
	r->seq = i;
	r->value[0] = i * 3;
	r->value[30] = i;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("syscall")
int produce16(void *ctx)
{
	__u32 dropped = 0;

	bpf_loop(count, emit16, &dropped, 0);
	return dropped;
}

SEC("syscall")
int produce256(void *ctx)
{
	__u32 dropped = 0;

	bpf_loop(count, emit256, &dropped, 0);
	return dropped;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
