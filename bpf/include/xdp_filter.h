/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by xdp_filter.bpf.c and the userspace that drives it (mirrored from BTF by
 * libbpf-node). Addresses and prefixes are in network order; everything else in host order.
 */
#ifndef LIBBPF_NODE_XDP_FILTER_H
#define LIBBPF_NODE_XDP_FILTER_H

#include <linux/types.h>

/* Default size of each drop list (change it before load with the map's maxEntries). */
#define XDP_FILTER_MAX_ENTRIES 16384
#define XDP_FILTER_TAG_LEN 16

/* Key of filter_drop_v4: prefixlen is the number of leading bits of addr that must match
 * (0..32). The LPM trie wants prefixlen first, as a u32. 8 bytes. */
struct xdp_filter_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

/* Key of filter_drop_v6 (prefixlen 0..128). 20 bytes. */
struct xdp_filter_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of both drop lists: why and when the prefix was added (userspace writes both; the
 * program does not read them). 24 bytes. */
struct xdp_filter_entry {
	char tag[XDP_FILTER_TAG_LEN];   /* free text, NUL-padded */
	__u64 added_ns;                 /* CLOCK_MONOTONIC or CLOCK_REALTIME, as the writer likes */
};

/* The one entry (key 0) of filter_config, read for every packet: changes apply to the next
 * packet. All zero (the state after load) means: drop nothing but the listed sources. */
struct xdp_filter_config {
	__u32 frags_drop;    /* 1: drop every IPv4 and IPv6 fragment */
	__u32 match_dst;     /* 1: also drop packets whose destination is listed */
};

/* The one entry of filter_stats, per CPU. Named like ecbpf's xdp_filter status. */
struct xdp_filter_stats {
	__u64 eth_frame_err;        /* frames shorter than their Ethernet header and VLAN tags: passed */
	__u64 ip_header_err;        /* IPv4 header cut short, not version 4, IHL < 5 or past the end: passed */
	__u64 ip6_header_err;       /* IPv6 header or extension header cut short, not version 6: passed */
	__u64 ip_drop_count;        /* IPv4 packets dropped by filter_drop_v4 */
	__u64 ip6_drop_count;       /* IPv6 packets dropped by filter_drop_v6 */
	__u64 ip_frag_drop_count;   /* IPv4 fragments dropped by frags_drop */
	__u64 ip6_frag_drop_count;  /* IPv6 fragments dropped by frags_drop */
	__u64 ip_pass_count;        /* IPv4 packets passed */
	__u64 ip6_pass_count;       /* IPv6 packets passed */
	__u64 other_pass_count;     /* well-formed non-IP frames (ARP…) passed */
	__u64 meta_used_count;      /* packets whose summary came from the root's metadata */
};

#endif
