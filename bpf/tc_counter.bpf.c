// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tc_counter: a pair of tc programs, one per direction, counting packets and bytes, and
 * dropping IPv4 UDP datagrams to one configured destination port when asked to.
 *
 * Sections: "tc/ingress" and "tc/egress". In libbpf 1.5 they are aliases of "tcx/ingress" and
 * "tcx/egress": program type sched_cls with expected attach type BPF_TCX_INGRESS/EGRESS, which
 * bpf_program__attach_tcx() uses to choose the direction. The kernel does not check the
 * expected attach type of a sched_cls program at load, and legacy cls_bpf (netlink, `tc filter
 * ... bpf da`, bpf_tc_attach()) ignores it, so the same programs attach both ways. "tc/…" reads
 * right for both; the legacy "tc" section would load too but leave the direction unnamed.
 *
 * Return codes: TC_ACT_SHOT drops. For kept packets TC_ACT_OK (0, = TCX_PASS) ends the
 * classification: tcx programs attached after this one, and later cls_bpf filters, do not run.
 * With tc_config.chain_next = 1 we return TC_ACT_UNSPEC (-1, = TCX_NEXT) instead, which hands
 * the packet to the next program (and, at the end of the chain, lets it through).
 *
 * Userspace: writes tc_config[0] at any time, reads tc_stats[TC_COUNTER_INGRESS / _EGRESS] per
 * CPU. Types in include/tc_counter.h.
 */
#include <linux/pkt_cls.h>
#include "parse.h"
#include "tc_counter.h"

/* Inputs userspace changes at run time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_counter_config);
} tc_config SEC(".maps");

/* Outputs userspace reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TC_COUNTER_DIRECTIONS);
	__type(key, __u32);
	__type(value, struct tc_counter_stats);
} tc_stats SEC(".maps");

/* Ethernet, two VLAN tags, IPv4 with the longest options, UDP: what the drop rule reads. */
#define TC_COUNTER_PULL_LEN (14 + 2 * 4 + 60 + 8)

static __always_inline int count(struct __sk_buff *skb, __u32 dir)
{
	__u32 zero = 0;
	struct tc_counter_config *cfg = bpf_map_lookup_elem(&tc_config, &zero);
	struct tc_counter_stats *st = bpf_map_lookup_elem(&tc_stats, &dir);
	struct pkt_info info;
	__u32 linear, want;
	int drop_dir;

	/* The verifier needs the NULL checks even though both keys are in range. */
	if (!cfg || !st)
		return TC_ACT_OK;
	st->packets++;
	st->bytes += skb->len;

	drop_dir = dir == TC_COUNTER_INGRESS ? cfg->drop_ingress : cfg->drop_egress;
	if (cfg->drop_udp_port && drop_dir) {
		/* Direct packet access sees only the linear part of the skb; pull the headers we read
		 * into it when they are not there yet (GSO and some drivers leave them in frags). */
		linear = skb->data_end - skb->data;
		want = skb->len < TC_COUNTER_PULL_LEN ? skb->len : TC_COUNTER_PULL_LEN;
		if (linear < want)
			bpf_skb_pull_data(skb, want);
		/* Read data and data_end only now: the pull invalidated earlier packet pointers. */
		if (parse_frame((void *)(long)skb->data, (void *)(long)skb->data_end, &info) == PARSE_OK &&
		    info.family == AF_INET && info.proto == IPPROTO_UDP && (info.flags & PKT_F_L4) &&
		    info.dport == cfg->drop_udp_port) {
			st->dropped++;
			st->dropped_bytes += skb->len;
			return TC_ACT_SHOT;
		}
	}
	return cfg->chain_next ? TC_ACT_UNSPEC : TC_ACT_OK;
}

SEC("tc/ingress")
int tc_counter_ingress(struct __sk_buff *skb)
{
	return count(skb, TC_COUNTER_INGRESS);
}

SEC("tc/egress")
int tc_counter_egress(struct __sk_buff *skb)
{
	return count(skb, TC_COUNTER_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
