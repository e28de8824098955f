// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Records of every size from 1 to 48 bytes, in turn, into a ring buffer and a perf event array:
 * record n is (n % 48) + 1 bytes long and byte i of it is (n * 7 + i) & 0xff, so userspace can
 * check each byte that the readers copy (small records take a different copy path). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_SIZE 48

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} sized_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} sized_perf SEC(".maps");

/* Outputs userspace reads (test runs are serial: plain increments). */
__u64 rb_n;
__u64 perf_n;
__u64 sized_dropped;

static __always_inline __u32 fill(__u8 *buf, __u64 n)
{
	for (int i = 0; i < MAX_SIZE; i++)
		buf[i] = (__u8)(n * 7 + i);
	return (__u32)(n % MAX_SIZE) + 1;
}

SEC("xdp")
int xdp_sized_ringbuf(struct xdp_md *ctx)
{
	__u8 buf[MAX_SIZE];
	__u32 size = fill(buf, rb_n++);

	/* Hides what the compiler knows of the size, so that it keeps the range check the verifier
	 * needs. */
	asm volatile("" : "+r"(size));
	if (size > MAX_SIZE || size == 0)
		return XDP_PASS;
	if (bpf_ringbuf_output(&sized_events, buf, size, 0))
		__sync_fetch_and_add(&sized_dropped, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_sized_perf(struct xdp_md *ctx)
{
	__u8 buf[MAX_SIZE];
	__u32 size = fill(buf, perf_n++);

	asm volatile("" : "+r"(size));
	if (size > MAX_SIZE || size == 0)
		return XDP_PASS;
	bpf_perf_event_output(ctx, &sized_perf, BPF_F_CURRENT_CPU, buf, size);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
