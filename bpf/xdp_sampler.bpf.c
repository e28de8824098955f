// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_sampler: sends the parsed headers of 1 packet in N (chosen at random) to userspace
 * through a ring buffer. Never drops or changes traffic: every packet passes on (to the next
 * slot in a root array). Uses the root's parsed summary (xdp_meta.h) when there is one.
 *
 * Userspace: writes sampler_config[0].rate at any time (0 = off), consumes sampler_events
 * (records of struct xdp_sample), reads sampler_stats[0] per CPU. Types in
 * include/xdp_sampler.h.
 */
#include "xdp_root.h"
#include "xdp_meta.h"
#include "xdp_sampler.h"

/* Inputs userspace changes at run time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_sampler_config);
} sampler_config SEC(".maps");

/* Outputs userspace reads. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDP_SAMPLER_RINGBUF_BYTES);
} sampler_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_sampler_stats);
} sampler_stats SEC(".maps");


/* A ring buffer has no value type, so nothing else would put struct xdp_sample in the object's
 * BTF, where userspace finds the record layout. This variable does, from a section libbpf
 * skips (no map, no global; lib/log.ts keeps libbpf's info-level notice about that out of
 * the logger). Never used. */
struct xdp_sample xdp_sampler_record_type SEC(".types.unused");

SEC("xdp")
int xdp_sampler(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xdp_sampler_config *cfg = bpf_map_lookup_elem(&sampler_config, &zero);
	struct xdp_sampler_stats *st = bpf_map_lookup_elem(&sampler_stats, &zero);
	struct xdp_sample *s;
	__u32 rate;

	if (!cfg || !st)
		return xdp_root_return(ctx, XDP_PASS);
	st->packets++;
	rate = cfg->rate;
	/* rate 1 samples every packet; the modulo is by a non-zero register (rate > 1 here). */
	if (rate == 0 || (rate > 1 && bpf_get_prandom_u32() % rate != 0))
		return xdp_root_return(ctx, XDP_PASS);

	s = bpf_ringbuf_reserve(&sampler_events, sizeof(*s), 0);
	if (!s) {
		st->ringbuf_full++;
		return xdp_root_return(ctx, XDP_PASS);
	}
	/* Parse straight into the reserved record: no copy. */
	s->parse_ret = pkt_info_get(ctx, &s->info);
	s->ts_ns = bpf_ktime_get_ns();
	s->ifindex = ctx->ingress_ifindex;
	s->rx_queue = ctx->rx_queue_index;
	s->slot = xdp_root_slot;
	s->rate = rate;
	s->flags = s->info.flags & PKT_F_META ? XDP_SAMPLE_F_META : 0;
	bpf_ringbuf_submit(s, 0);
	st->samples_sent++;
	return xdp_root_return(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
