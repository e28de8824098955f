// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * xdp_counter: counts packets and bytes per protocol (counter_proto, indexed by enum
 * xdp_counter_proto) and per IP source address (counter_src, an LRU hash: when full, the
 * sources seen least recently are forgotten to make room). Passes every packet on. Uses the
 * root's parsed summary (xdp_meta.h) when there is one.
 *
 * Userspace reads both maps (per CPU: sum the CPUs), and may delete counter_src entries to
 * reset them. Types in include/xdp_counter.h.
 */
#include "xdp_root.h"
#include "xdp_meta.h"
#include "xdp_counter.h"

/* Outputs userspace reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_COUNTER_PROTOS);
	__type(key, __u32);  /* enum xdp_counter_proto; an array key must be a plain u32 in BTF */
	__type(value, struct xdp_counter_rec);
} counter_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, XDP_COUNTER_MAX_SOURCES);
	__type(key, struct xdp_counter_src_key);
	__type(value, struct xdp_counter_rec);
} counter_src SEC(".maps");

/* Nothing else would put the enum in the object's BTF, where userspace finds its names. From a
 * section libbpf skips (no map, no global; lib/log.ts keeps libbpf's info-level notice about
 * that out of the logger). Never used. */
enum xdp_counter_proto xdp_counter_proto_type SEC(".types.unused");

static __always_inline __u32 proto_index(const struct pkt_info *info, int ret)
{
	if (ret == PARSE_NOT_IP)
		return XDP_COUNTER_NON_IP;
	if (ret != PARSE_OK)
		return XDP_COUNTER_MALFORMED;
	if (info->family == AF_INET) {
		switch (info->proto) {
		case IPPROTO_TCP: return XDP_COUNTER_IPV4_TCP;
		case IPPROTO_UDP: return XDP_COUNTER_IPV4_UDP;
		case IPPROTO_ICMP: return XDP_COUNTER_IPV4_ICMP;
		default: return XDP_COUNTER_IPV4_OTHER;
		}
	}
	switch (info->proto) {
	case IPPROTO_TCP: return XDP_COUNTER_IPV6_TCP;
	case IPPROTO_UDP: return XDP_COUNTER_IPV6_UDP;
	case IPPROTO_ICMPV6: return XDP_COUNTER_IPV6_ICMP;
	default: return XDP_COUNTER_IPV6_OTHER;
	}
}

static __always_inline void count_source(const struct pkt_info *info)
{
	struct xdp_counter_src_key key;
	struct xdp_counter_rec *rec, first = { .packets = 1, .bytes = info->len };

	__builtin_memcpy(key.addr, info->saddr, sizeof(key.addr));
	rec = bpf_map_lookup_elem(&counter_src, &key);
	if (rec) {
		rec->packets++;
		rec->bytes += info->len;
		return;
	}
	/* A new source. Per-CPU: the insert sets this CPU's value and zeroes the others. When
	 * another CPU inserted it since our lookup, NOEXIST fails and we count in its entry. */
	if (bpf_map_update_elem(&counter_src, &key, &first, BPF_NOEXIST) == 0)
		return;
	rec = bpf_map_lookup_elem(&counter_src, &key);
	if (rec) {
		rec->packets++;
		rec->bytes += info->len;
	}
}

SEC("xdp")
int xdp_counter(struct xdp_md *ctx)
{
	struct pkt_info info;
	struct xdp_counter_rec *rec;
	int ret = pkt_info_get(ctx, &info);
	__u32 index = proto_index(&info, ret);

	rec = bpf_map_lookup_elem(&counter_proto, &index);
	/* The verifier needs the NULL check even though the index is always in range. */
	if (rec) {
		rec->packets++;
		rec->bytes += info.len;
	}
	if (ret == PARSE_OK)
		count_source(&info);
	return xdp_root_return(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
