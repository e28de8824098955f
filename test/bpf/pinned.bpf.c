// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A map pinned by name under the object's pin root, shared by every process that opens it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct peer {
	__u32 pid;
	__u32 hits;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct peer);
} shared SEC(".maps");

SEC("xdp")
int xdp_pinned(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct peer *p = bpf_map_lookup_elem(&shared, &key);

	if (p)
		__sync_fetch_and_add(&p->hits, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
