// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* on_sample: counts perf event samples (a software cpu-clock in the tests). on_sample_cookie also
 * keeps the attach cookie, which needs 5.15: the test turns its autoload off on older kernels. */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>

/* Outputs userspace reads. */
__u64 samples;
__u64 last_cookie;

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__sync_fetch_and_add(&samples, 1);
	return 0;
}

SEC("perf_event")
int on_sample_cookie(struct bpf_perf_event_data *ctx)
{
	__sync_fetch_and_add(&samples, 1);
	last_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
