// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_filter: drops IPv4 and IPv6 packets whose source (and, with match_dst, destination)
 * address falls in a prefix of a drop list, and optionally every IP fragment. Works attached to
 * an interface on its own or in a root-array slot, where it uses the root's parsed summary
 * (xdp_meta.h) when there is one.
 *
 * Userspace: adds and removes prefixes in filter_drop_v4 / filter_drop_v6, writes
 * filter_config[0] (both at any time, effective from the next packet), reads filter_stats[0]
 * (per CPU: sum the CPUs). Types in include/xdp_filter.h.
 *
 * Malformed frames (shorter than Ethernet, bad IPv4/IPv6 headers) are counted and PASSED, not
 * dropped: the kernel checks them again, drops them itself and counts them where operators look
 * (IP MIB InHdrErrors, interface errors) and tcpdump still shows them; a filter configured with
 * a list of sources should drop only those; and a parser stricter than the stack (a third VLAN
 * tag, an exotic extension header) must not black-hole traffic the stack would have accepted.
 */
#include "xdp_root.h"
#include "xdp_meta.h"
#include "xdp_filter.h"

/* Inputs userspace changes at run time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_filter_config);
} filter_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* the kernel requires it for LPM tries */
	__uint(max_entries, XDP_FILTER_MAX_ENTRIES);
	__type(key, struct xdp_filter_v4_key);
	__type(value, struct xdp_filter_entry);
} filter_drop_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XDP_FILTER_MAX_ENTRIES);
	__type(key, struct xdp_filter_v6_key);
	__type(value, struct xdp_filter_entry);
} filter_drop_v6 SEC(".maps");

/* Outputs userspace reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_filter_stats);
} filter_stats SEC(".maps");

static __always_inline int listed_v4(const __u8 *addr)
{
	struct xdp_filter_v4_key key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, addr + 12, 4);
	return bpf_map_lookup_elem(&filter_drop_v4, &key) != NULL;
}

static __always_inline int listed_v6(const __u8 *addr)
{
	struct xdp_filter_v6_key key = { .prefixlen = 128 };

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&filter_drop_v6, &key) != NULL;
}

/* The verdict for one packet, counting why in st. */
static __always_inline int filter(struct pkt_info *info, int ret, struct xdp_filter_config *cfg,
				  struct xdp_filter_stats *st)
{
	switch (ret) {
	case PARSE_ERR_ETH:
		st->eth_frame_err++;
		return XDP_PASS;
	case PARSE_ERR_IP:
		st->ip_header_err++;
		return XDP_PASS;
	case PARSE_ERR_IP6:
		st->ip6_header_err++;
		return XDP_PASS;
	case PARSE_OK:
		break;
	default:
		st->other_pass_count++;
		return XDP_PASS;
	}

	if (info->family == AF_INET) {
		if (listed_v4(info->saddr) || (cfg->match_dst && listed_v4(info->daddr))) {
			st->ip_drop_count++;
			return XDP_DROP;
		}
		if (info->is_fragment && cfg->frags_drop) {
			st->ip_frag_drop_count++;
			return XDP_DROP;
		}
		st->ip_pass_count++;
		return XDP_PASS;
	}
	if (listed_v6(info->saddr) || (cfg->match_dst && listed_v6(info->daddr))) {
		st->ip6_drop_count++;
		return XDP_DROP;
	}
	if (info->is_fragment && cfg->frags_drop) {
		st->ip6_frag_drop_count++;
		return XDP_DROP;
	}
	st->ip6_pass_count++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xdp_filter_config *cfg = bpf_map_lookup_elem(&filter_config, &zero);
	struct xdp_filter_stats *st = bpf_map_lookup_elem(&filter_stats, &zero);
	struct pkt_info info;
	int ret, verdict;

	/* The verifier needs the NULL checks even though key 0 of an array always exists. */
	if (!cfg || !st)
		return xdp_root_return(ctx, XDP_PASS);
	ret = pkt_info_get(ctx, &info);
	if (info.flags & PKT_F_META)
		st->meta_used_count++;
	verdict = filter(&info, ret, cfg, st);
	return xdp_root_return(ctx, verdict);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
