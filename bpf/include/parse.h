/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet parsing for XDP and tc programs: Ethernet, up to two VLAN tags (802.1Q / 802.1ad),
 * IPv4, IPv6 (with its extension headers, to find the transport header and fragments), TCP,
 * UDP, ICMP and ICMPv6.
 *
 * Each header has one small function that takes a cursor, checks the bounds before reading,
 * fills its part of a struct pkt_info, advances the cursor and returns the next protocol, or a
 * negative PARSE_ERR_* value. parse_frame() chains them; parse_packet() does it for an XDP
 * context. Use it in your own programs:
 *
 *	struct pkt_info info;
 *	int ret = parse_packet(ctx, &info);
 *	if (ret == PARSE_OK && info.family == AF_INET && info.proto == IPPROTO_UDP) ...
 *
 * Shared by C and TypeScript: struct pkt_info is read from BTF by libbpf-node (it appears in
 * the sampler's records and in the root array's metadata, see xdp_meta.h).
 */
#ifndef LIBBPF_NODE_PARSE_H
#define LIBBPF_NODE_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Address families, as in <sys/socket.h> (not includable from BPF programs). */
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* IPv4 frag_off bits (the kernel keeps them in a private header). */
#define PARSE_IP_MF 0x2000
#define PARSE_IP_OFFSET 0x1fff
/* IPv6 fragment header: offset and more-fragments bits of frag_off. */
#define PARSE_IP6_OFFSET 0xfff8
#define PARSE_IP6_MF 0x0001

/* Internal: returned by parse_ipv4/parse_ipv6 for a fragment without a transport header. */
#define PARSE_NONFIRST_FRAGMENT (-100)

/* How many VLAN tags and IPv6 extension headers we walk through before giving up. */
#define PARSE_MAX_VLANS 2
#define PARSE_MAX_IP6_EXT 6

/* What parse_frame() and parse_packet() return. */
enum parse_result {
	PARSE_OK = 0,        /* an IPv4 or IPv6 packet: addresses filled in (ports: see PKT_F_L4) */
	PARSE_NOT_IP = 1,    /* a valid Ethernet frame carrying something else (ARP, LLDP…) */
	PARSE_ERR_ETH = -1,  /* shorter than its Ethernet header or its VLAN tags */
	PARSE_ERR_IP = -2,   /* IPv4 header cut short, version != 4, IHL < 5 or beyond the frame */
	PARSE_ERR_IP6 = -3,  /* IPv6 header or an extension header cut short, version != 6 */
};

/* Bits of struct pkt_info.flags. */
#define PKT_F_L4 0x01        /* the TCP/UDP/ICMP header was in the frame: sport/dport are valid */
#define PKT_F_L4_TRUNC 0x02  /* the IP header announced TCP/UDP/ICMP but the frame ends before it */
#define PKT_F_META 0x80      /* set by pkt_info_get() (xdp_meta.h) when read from the root's metadata */

/*
 * One packet, summarised. Addresses are 16 bytes for both families: an IPv4 address is stored
 * IPv4-mapped (::ffff:a.b.c.d), so it is in bytes 12..15, in network order. Everything else is
 * in host order. 56 bytes, no implicit padding.
 */
struct pkt_info {
	__u8 saddr[16];      /* source address (IPv4-mapped for IPv4) */
	__u8 daddr[16];      /* destination address */
	__u32 len;           /* frame length in bytes, from the Ethernet header on */
	__u16 family;        /* AF_INET, AF_INET6, or 0 when not IP */
	__u16 eth_proto;     /* the EtherType after any VLAN tags (ETH_P_IP, ETH_P_ARP…) */
	__u16 sport;         /* TCP/UDP source port; ICMP/ICMPv6: the type */
	__u16 dport;         /* TCP/UDP destination port; ICMP/ICMPv6: the code */
	__u16 vlan;          /* outer VLAN ID (12 bits), 0 when untagged */
	__u16 vlan_inner;    /* inner VLAN ID of a double-tagged frame, else 0 */
	__u16 l3_off;        /* offset of the IP header from the frame start */
	__u16 l4_off;        /* offset of the transport header (valid with PKT_F_L4) */
	__u8 proto;          /* transport protocol (IPPROTO_*; after IPv6 extension headers) */
	__u8 is_fragment;    /* 1 for any IP fragment (more-fragments set or offset != 0) */
	__u8 vlan_count;     /* VLAN tags seen: 0, 1 or 2 */
	__u8 flags;          /* PKT_F_* */
};

/* A position in the packet and the end of the data we may read. */
struct cursor {
	void *pos;
	void *end;
};

/* A VLAN tag after the MAC addresses (the kernel's struct vlan_hdr is not UAPI). */
struct parse_vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* The fixed part of every IPv6 extension header we walk (hop-by-hop, routing, destination). */
struct parse_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

/* The IPv6 fragment header (the kernel's struct frag_hdr is not UAPI). */
struct parse_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* True when `len` bytes from the cursor are inside the packet. Every read is preceded by one:
 * the verifier rejects a packet access it cannot prove is below data_end. */
static __always_inline int cursor_has(struct cursor *c, __u32 len)
{
	return c->pos + len <= c->end;
}

/*
 * Ethernet and up to PARSE_MAX_VLANS VLAN tags. Returns the EtherType that follows, in host
 * order, or PARSE_ERR_ETH.
 */
static __always_inline int parse_eth(struct cursor *c, struct pkt_info *info)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if (!cursor_has(c, sizeof(*eth)))
		return PARSE_ERR_ETH;
	proto = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;

	/* A bounded, unrolled loop: the verifier then sees straight-line code. */
#pragma unroll
	for (int i = 0; i < PARSE_MAX_VLANS; i++) {
		struct parse_vlan_tag *tag = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (!cursor_has(c, sizeof(*tag)))
			return PARSE_ERR_ETH;
		if (i == 0)
			info->vlan = bpf_ntohs(tag->tci) & 0x0fff;
		else
			info->vlan_inner = bpf_ntohs(tag->tci) & 0x0fff;
		info->vlan_count = i + 1;
		proto = bpf_ntohs(tag->proto);
		c->pos = tag + 1;
	}
	info->eth_proto = proto;
	return proto;
}

/* Writes an IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
static __always_inline void parse_map_v4(__u8 *dst, __be32 addr)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

/*
 * IPv4. Returns the transport protocol, or PARSE_ERR_IP when the header is cut short, is not
 * version 4, has IHL < 5, or claims options beyond the end of the frame. Leaves the cursor on
 * the transport header.
 */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt_info *info)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if (!cursor_has(c, sizeof(*ip)))
		return PARSE_ERR_IP;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_ERR_IP;
	/* ihl is 4 bits, so hlen <= 60: the verifier needs that bound to accept the pointer
	 * arithmetic below, and gets it from the bitfield's mask. */
	hlen = ip->ihl * 4;
	if (!cursor_has(c, hlen))
		return PARSE_ERR_IP;

	info->family = AF_INET;
	parse_map_v4(info->saddr, ip->saddr);
	parse_map_v4(info->daddr, ip->daddr);
	info->proto = ip->protocol;
	if (ip->frag_off & bpf_htons(PARSE_IP_MF | PARSE_IP_OFFSET))
		info->is_fragment = 1;
	c->pos += hlen;
	/* Only the first fragment carries the transport header. */
	if (ip->frag_off & bpf_htons(PARSE_IP_OFFSET))
		return PARSE_NONFIRST_FRAGMENT;
	return ip->protocol;
}

/*
 * IPv6: the fixed header, then hop-by-hop, routing, destination-options, authentication and
 * fragment extension headers (up to PARSE_MAX_IP6_EXT of them). Returns the transport protocol
 * (or the first header we do not walk, such as IPPROTO_NONE or ESP), or PARSE_ERR_IP6.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct pkt_info *info)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 next;

	if (!cursor_has(c, sizeof(*ip6)))
		return PARSE_ERR_IP6;
	if (ip6->version != 6)
		return PARSE_ERR_IP6;
	info->family = AF_INET6;
	__builtin_memcpy(info->saddr, &ip6->saddr, 16);
	__builtin_memcpy(info->daddr, &ip6->daddr, 16);
	next = ip6->nexthdr;
	c->pos = ip6 + 1;

#pragma unroll
	for (int i = 0; i < PARSE_MAX_IP6_EXT; i++) {
		struct parse_ip6_ext *ext = c->pos;
		struct parse_ip6_frag *frag = c->pos;
		__u32 len;

		if (next == IPPROTO_FRAGMENT) {
			if (!cursor_has(c, sizeof(*frag)))
				return PARSE_ERR_IP6;
			info->is_fragment = 1;
			next = frag->nexthdr;
			c->pos = frag + 1;
			if (frag->frag_off & bpf_htons(PARSE_IP6_OFFSET)) {
				info->proto = next;
				return PARSE_NONFIRST_FRAGMENT;
			}
			continue;
		}
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_AH)
			break;
		if (!cursor_has(c, sizeof(*ext)))
			return PARSE_ERR_IP6;
		/* AH counts its length in 4-byte units minus 2, the others in 8-byte units minus 1.
		 * Both are at most 2 KiB, a bound the verifier tracks from the u8 it is built from. */
		len = next == IPPROTO_AH ? (ext->hdrlen + 2) * 4 : (ext->hdrlen + 1) * 8;
		next = ext->nexthdr;
		if (!cursor_has(c, len))
			return PARSE_ERR_IP6;
		c->pos += len;
	}
	info->proto = next;
	return next;
}

/* The three transport headers we read. Each returns 0, or -1 when the frame is too short. */
static __always_inline int parse_tcp(struct cursor *c, struct pkt_info *info)
{
	struct tcphdr *tcp = c->pos;

	if (!cursor_has(c, sizeof(*tcp)))
		return -1;
	info->sport = bpf_ntohs(tcp->source);
	info->dport = bpf_ntohs(tcp->dest);
	return 0;
}

static __always_inline int parse_udp(struct cursor *c, struct pkt_info *info)
{
	struct udphdr *udp = c->pos;

	if (!cursor_has(c, sizeof(*udp)))
		return -1;
	info->sport = bpf_ntohs(udp->source);
	info->dport = bpf_ntohs(udp->dest);
	return 0;
}

/* ICMP and ICMPv6 start alike: type, code, checksum. */
static __always_inline int parse_icmp(struct cursor *c, struct pkt_info *info)
{
	struct icmp6hdr *icmp = c->pos;

	if (!cursor_has(c, 4))
		return -1;
	info->sport = icmp->icmp6_type;
	info->dport = icmp->icmp6_code;
	return 0;
}

/*
 * Parses the frame in [data, data_end) into `info` (zeroed first). Returns PARSE_OK,
 * PARSE_NOT_IP or a PARSE_ERR_*. On an error, what was parsed before it stays filled in (for
 * example the VLAN of a frame whose IPv4 header is bad).
 */
static __always_inline int parse_frame(void *data, void *data_end, struct pkt_info *info)
{
	struct cursor c = { .pos = data, .end = data_end };
	int proto, err = 0;

	__builtin_memset(info, 0, sizeof(*info));
	info->len = data_end - data;

	proto = parse_eth(&c, info);
	if (proto < 0)
		return proto;
	info->l3_off = c.pos - data;
	if (proto == ETH_P_IP)
		proto = parse_ipv4(&c, info);
	else if (proto == ETH_P_IPV6)
		proto = parse_ipv6(&c, info);
	else
		return PARSE_NOT_IP;
	if (proto == PARSE_NONFIRST_FRAGMENT)
		return PARSE_OK;
	if (proto < 0)
		return proto;

	info->l4_off = c.pos - data;
	switch (proto) {
	case IPPROTO_TCP:
		err = parse_tcp(&c, info);
		break;
	case IPPROTO_UDP:
		err = parse_udp(&c, info);
		break;
	case IPPROTO_ICMP:
		if (info->family != AF_INET)
			return PARSE_OK;
		err = parse_icmp(&c, info);
		break;
	case IPPROTO_ICMPV6:
		if (info->family != AF_INET6)
			return PARSE_OK;
		err = parse_icmp(&c, info);
		break;
	default:
		return PARSE_OK;
	}
	info->flags |= err ? PKT_F_L4_TRUNC : PKT_F_L4;
	return PARSE_OK;
}

/* parse_frame() on an XDP packet. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt_info *info)
{
	return parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, info);
}

/* The IPv4 address of an IPv4-mapped pkt_info address (bytes 12..15), network order. */
static __always_inline __be32 pkt_info_v4(const __u8 *addr)
{
	return ((const __u32 *)addr)[3];
}

#endif /* LIBBPF_NODE_PARSE_H */
