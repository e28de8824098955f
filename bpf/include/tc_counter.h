/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by tc_counter.bpf.c and the userspace that drives it. */
#ifndef LIBBPF_NODE_TC_COUNTER_H
#define LIBBPF_NODE_TC_COUNTER_H

#include <linux/types.h>

/* The indexes of tc_stats. */
#define TC_COUNTER_INGRESS 0
#define TC_COUNTER_EGRESS 1
#define TC_COUNTER_DIRECTIONS 2

/* The one entry (key 0) of tc_config; changes apply to the next packet. All zero (the state
 * after load): drop nothing, return TC_ACT_OK. */
struct tc_counter_config {
	__u16 drop_udp_port;   /* drop IPv4 UDP datagrams to this destination port (host order); 0: none */
	__u8 drop_ingress;     /* 1: drop them on ingress */
	__u8 drop_egress;      /* 1: drop them on egress */
	__u32 chain_next;      /* 1: for kept packets return TC_ACT_UNSPEC (= TCX_NEXT) instead of
	                        * TC_ACT_OK, so programs after this one still run (see tc_counter.bpf.c) */
};

/* One entry of tc_stats per direction, per CPU (sum the CPUs). */
struct tc_counter_stats {
	__u64 packets;         /* every packet seen, dropped ones included */
	__u64 bytes;           /* skb->len: from the Ethernet header on */
	__u64 dropped;         /* packets dropped by drop_udp_port */
	__u64 dropped_bytes;
};

#endif
