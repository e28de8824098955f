// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A perf event array whose record type a skeleton finds by convention: the variable
 * `<map>_record` (in a section libbpf skips). Also two event maps, so no other guess applies. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sample {
	__u32 len;
	__u32 cpu;
	__u64 seq;
	__s8 delta[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} unused_ring SEC(".maps");

struct sample samples_record SEC(".types.unused");

__u64 next_seq;

SEC("xdp")
int xdp_perf_sample(struct xdp_md *ctx)
{
	struct sample s = {
		.len = ctx->data_end - ctx->data,
		.cpu = bpf_get_smp_processor_id(),
		.seq = next_seq++,
		.delta = { -1, 2, -3, 4 },
	};

	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
