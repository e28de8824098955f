/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by xdp_counter.bpf.c and the userspace that reads its maps. */
#ifndef LIBBPF_NODE_XDP_COUNTER_H
#define LIBBPF_NODE_XDP_COUNTER_H

#include <linux/types.h>

/* Default number of sources counter_src remembers (least recently seen go first). */
#define XDP_COUNTER_MAX_SOURCES 16384

/* The index of counter_proto: what kind of packet. */
enum xdp_counter_proto {
	XDP_COUNTER_NON_IP = 0,      /* well-formed Ethernet, not IPv4/IPv6 (ARP, LLDP…) */
	XDP_COUNTER_IPV4_TCP = 1,
	XDP_COUNTER_IPV4_UDP = 2,
	XDP_COUNTER_IPV4_ICMP = 3,
	XDP_COUNTER_IPV4_OTHER = 4,  /* any other protocol over IPv4 */
	XDP_COUNTER_IPV6_TCP = 5,
	XDP_COUNTER_IPV6_UDP = 6,
	XDP_COUNTER_IPV6_ICMP = 7,   /* ICMPv6 */
	XDP_COUNTER_IPV6_OTHER = 8,
	XDP_COUNTER_MALFORMED = 9,   /* short Ethernet, bad IPv4 or IPv6 header */
	XDP_COUNTER_PROTOS = 10,     /* the number of entries */
};

/* A value of counter_proto and of counter_src (per CPU: sum the CPUs). */
struct xdp_counter_rec {
	__u64 packets;
	__u64 bytes;       /* frame lengths, Ethernet header included */
};

/* The key of counter_src: the source address, IPv4-mapped for IPv4 (as in struct pkt_info). */
struct xdp_counter_src_key {
	__u8 addr[16];
};

#endif
