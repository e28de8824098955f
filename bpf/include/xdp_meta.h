/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Parse once, use in every slot: the root program of a root array (xdp_root.bpf.c, when its
 * xdp_root_pass_meta is true) parses each packet and stores the struct pkt_info in the XDP
 * metadata area, just before the packet data, before tail-calling the slots. A slot program
 * calls
 *
 *	struct pkt_info info;
 *	int ret = pkt_info_get(ctx, &info);
 *
 * which copies the root's summary when there is a valid one (PKT_F_META is then set in
 * info.flags) and parses the packet itself otherwise: when the program runs on its own, when
 * the root does not pass metadata, or when the driver has no metadata area (bpf_xdp_adjust_meta
 * fails, as with some drivers' native XDP).
 *
 * The metadata starts with a magic number and a version, and must fill the whole metadata area,
 * so a slot never trusts bytes that something else put there.
 *
 * What happens to the metadata afterwards: for XDP_DROP, XDP_TX and XDP_ABORTED nothing looks
 * at it. For XDP_PASS the kernel copies it into the skb, where only a tc BPF program reading
 * __sk_buff->data_meta sees it; the stack ignores it, except that GRO merges two packets only
 * when their metadata are equal. That is why the stored summary holds only what is the same for
 * every packet of a flow: len is stored as 0 (pkt_info_get() fills it in). For XDP_REDIRECT it
 * travels with the frame (to a cpumap or veth it ends up in the skb, as for XDP_PASS; AF_XDP
 * sockets see it before the data).
 *
 * A slot that rewrites the headers it was given (addresses, ports, encapsulation) must call
 * xdp_meta_invalidate() so that later slots parse the new packet instead of trusting the old
 * summary.
 */
#ifndef LIBBPF_NODE_XDP_META_H
#define LIBBPF_NODE_XDP_META_H

#include "parse.h"

/* 'LBNM': libbpf-node metadata. */
#define XDP_META_MAGIC 0x4c424e4dU
/* Bumped when struct xdp_meta or struct pkt_info changes layout. */
#define XDP_META_VERSION 1

/* The metadata area as the root writes it: 64 bytes (the kernel wants a multiple of 4). */
struct xdp_meta {
	__u32 magic;         /* XDP_META_MAGIC */
	__u16 version;       /* XDP_META_VERSION */
	__s16 parse_ret;     /* what parse_packet() returned (enum parse_result) */
	struct pkt_info info;
};

/*
 * Root side: parses the packet and stores the summary in a new metadata area. Returns 1 when
 * stored, 0 when the driver has no room or no support for metadata (the slots then parse for
 * themselves).
 */
static __always_inline int xdp_meta_store(struct xdp_md *ctx)
{
	struct pkt_info info;
	struct xdp_meta *meta;
	void *data;
	int ret = parse_packet(ctx, &info);

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return 0;
	/* adjust_meta invalidated every packet pointer: read them again, and check the bounds the
	 * verifier wants even though we just made the room. */
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data)
		return 0;
	meta->magic = XDP_META_MAGIC;
	meta->version = XDP_META_VERSION;
	meta->parse_ret = ret;
	info.len = 0; /* the same for every packet of a flow, for GRO (see above) */
	__builtin_memcpy(&meta->info, &info, sizeof(info));
	return 1;
}

/* The root's metadata of this packet, or NULL when there is none we can trust. */
static __always_inline struct xdp_meta *xdp_meta_find(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct xdp_meta *meta = (void *)(long)ctx->data_meta;

	/* The verifier learns the readable range only from a `>` comparison of data_meta with
	 * data, not from the `!=` that checks the area is exactly ours. The compiler would fold the
	 * first into the second: the empty asm hides from it that meta is unchanged in between. */
	if ((void *)(meta + 1) > data)
		return NULL;
	asm volatile("" : "+r"(meta));
	if ((void *)(meta + 1) != data)
		return NULL;
	if (meta->magic != XDP_META_MAGIC || meta->version != XDP_META_VERSION)
		return NULL;
	return meta;
}

/*
 * Removes the root's metadata, if this packet has it. For the root (no slot took the packet)
 * and for slots that rewrite the headers.
 */
static __always_inline void xdp_meta_invalidate(struct xdp_md *ctx)
{
	if (xdp_meta_find(ctx))
		bpf_xdp_adjust_meta(ctx, (int)sizeof(struct xdp_meta));
}

/*
 * Slot side: fills `info` from the root's metadata when this packet has it (and sets
 * PKT_F_META), else parses the packet. Returns what parse_packet() returned or would have.
 */
static __always_inline int pkt_info_get(struct xdp_md *ctx, struct pkt_info *info)
{
	struct xdp_meta *meta = xdp_meta_find(ctx);

	if (!meta)
		return parse_packet(ctx, info);
	__builtin_memcpy(info, &meta->info, sizeof(*info));
	info->len = ctx->data_end - ctx->data;
	info->flags |= PKT_F_META;
	return meta->parse_ret;
}

#endif /* LIBBPF_NODE_XDP_META_H */
