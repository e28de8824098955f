/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by xdp_sampler.bpf.c and the userspace that reads its samples. */
#ifndef LIBBPF_NODE_XDP_SAMPLER_H
#define LIBBPF_NODE_XDP_SAMPLER_H

#include <linux/types.h>
#include "parse.h"

/* Default ring buffer size (a power of two, a multiple of the page size): ~2900 samples. */
#define XDP_SAMPLER_RINGBUF_BYTES (256 * 1024)

/* Bits of struct xdp_sample.flags. */
#define XDP_SAMPLE_F_META 0x1   /* the summary came from the root's metadata: we ran in a root array */

/* The one entry (key 0) of sampler_config; changes apply to the next packet. */
struct xdp_sampler_config {
	__u32 rate;          /* sample 1 packet in `rate`, at random; 0 (the state after load): off */
	__u32 reserved;      /* 0 */
};

/* One record in the sampler_events ring buffer. 88 bytes. */
struct xdp_sample {
	__u64 ts_ns;         /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;       /* receiving interface */
	__u32 rx_queue;      /* receive queue */
	__u32 slot;          /* the root-array slot the loader gave this program (xdp_root_slot) */
	__u32 rate;          /* the rate in force: this sample stands for about `rate` packets */
	__s32 parse_ret;     /* enum parse_result */
	__u32 flags;         /* XDP_SAMPLE_F_* */
	struct pkt_info info;
};

/* The one entry of sampler_stats, per CPU. */
struct xdp_sampler_stats {
	__u64 packets;       /* packets seen */
	__u64 samples_sent;  /* records written to the ring buffer */
	__u64 ringbuf_full;  /* samples lost because the ring buffer was full */
};

#endif
