/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by xdp_count.bpf.c and the userspace that reads its map. */
#ifndef LIBBPF_NODE_XDP_COUNT_H
#define LIBBPF_NODE_XDP_COUNT_H

#include <linux/types.h>

/* One counters entry: what xdp_count saw for one XDP action. */
struct xdp_count_rec {
	__u64 packets;
	__u64 bytes;
};

#endif
