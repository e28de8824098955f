// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bootstrap.bpf.c: counts packets per EtherType in a hash map and reports those of at least
 * min_len bytes through a ring buffer of struct event. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct event {
	__u64 ts_ns;
	__u32 len;
	__u16 proto;
	char tag[6];
};

struct stats {
	__u64 packets;
	__u64 bytes;
};

/* Set before load: packets shorter than this are counted but not reported. */
const volatile __u32 min_len = 0;
/* Events sent so far (read by userspace after load). */
__u64 reported = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16); /* EtherType, host order */
	__type(value, struct stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* A ring buffer has no value type: this puts struct event in the object's BTF (from a section
 * libbpf skips), where `libbpf-node gen --record events='struct event'` finds it. */
struct event event_type SEC(".types.unused");

SEC("xdp")
int bootstrap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct stats *s, zero = {};
	struct event *e;
	__u32 len = end - data;
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = bpf_ntohs(eth->h_proto);
	s = bpf_map_lookup_elem(&stats, &proto);
	if (!s) {
		bpf_map_update_elem(&stats, &proto, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&stats, &proto);
		if (!s)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&s->packets, 1);
	__sync_fetch_and_add(&s->bytes, len);
	if (len < min_len)
		return XDP_PASS;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	e->ts_ns = bpf_ktime_get_ns();
	e->len = len;
	e->proto = proto;
	__builtin_memcpy(e->tag, "boot\0", 6);
	bpf_ringbuf_submit(e, 0);
	reported++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
