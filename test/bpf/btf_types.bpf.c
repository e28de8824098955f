// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Types of every shape the BTF parser and codecs must handle. Each test value lives alone in
 * its own `.data.<name>` section, so the test reads the bytes clang laid out for it (at
 * offset 0 of that section) and compares them with what the codec encodes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

/* Every integer size and signedness, bool and chars; clang inserts padding before u32. */
struct ints {
	__u8 u8;
	__s8 s8;
	__u16 u16;
	__s16 s16;
	__u32 u32;
	__s32 s32;
	__u64 u64;
	__s64 s64;
	bool flag;
	char c;
	signed char sc;
};

/* A typical map key: 3 bytes of tail padding. */
struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
};
typedef struct flow_key flow_key_t;
typedef flow_key_t flow_key_alias_t; /* a typedef chain */

enum color { RED, GREEN = 5, BLUE };
enum sign { NEG = -2, ZERO = 0, POS = 3 };

struct inner {
	__u16 port;
	__u8 mac[6];
};

struct opaque; /* never defined: a FWD */

/* Nesting, arrays of every kind, floats, enums, pointers. */
struct outer {
	struct inner in;
	struct inner pair[2];
	char name[16];
	unsigned char raw[3];
	__u32 counts[3];
	__u16 grid[2][3];
	signed char deltas[2];
	float ratio;
	double mean;
	enum color col;
	enum sign sgn;
	struct opaque *op;
	int (*cb)(int);
	__int128 wide;
};

/* Anonymous members, flattened into the parent as C does. */
struct with_anon {
	__u32 kind;
	union {
		__u32 ip4;
		__u8 ip6[16];
	};
	struct {
		__u16 lo;
		__u16 hi;
	};
	__u64 tail;
};

/* Bitfields: byte-crossing, signed, wider than 32 bits, bool, enum, and an unnamed gap. */
struct bits {
	__u32 a : 3;
	__u32 b : 9;
	__s32 c : 5;
	__u32 d : 15;
	__u64 wide : 40;
	__s64 swide : 20;
	bool on : 1;
	enum color col : 3;
	__u32 : 2;
	__u8 tail;
};

/* A named union, with an anonymous struct alternative. */
union addr {
	__u32 v4;
	__u8 v6[16];
	struct {
		__u16 w0;
		__u16 w1;
	};
};

/* Qualifiers: const, volatile, restrict (on a parameter below), type and decl tags. */
struct tagged {
	int a __attribute__((btf_decl_tag("member_tag")));
	int __attribute__((btf_type_tag("user"))) *p;
} __attribute__((btf_decl_tag("struct_tag")));

/* Test values, one per section (inputs the test decodes and re-encodes). */
struct ints val_ints SEC(".data.ints") = {
	.u8 = 0xfe, .s8 = -2, .u16 = 0xbeef, .s16 = -300, .u32 = 0xdeadbeef, .s32 = -70000,
	.u64 = 0x1122334455667788ULL, .s64 = -5000000000LL, .flag = true, .c = 'x', .sc = -7,
};
flow_key_alias_t val_flow SEC(".data.flow") = {
	.saddr = 0x010012c6, .daddr = 0x020012c6, .sport = 443, .dport = 51000, .proto = 6,
};
struct outer val_outer SEC(".data.outer") = {
	.in = { .port = 8080, .mac = { 1, 2, 3, 4, 5, 6 } },
	.pair = { { .port = 1, .mac = { 0xa } }, { .port = 2, .mac = { 0xb, 0xc } } },
	.name = "eth0",
	.raw = { 0xff, 0, 0x7f },
	.counts = { 1, 2, 3 },
	.grid = { { 1, 2, 3 }, { 4, 5, 6 } },
	.deltas = { -1, 1 },
	.ratio = 0.5f,
	.mean = -1.25,
	.col = BLUE,
	.sgn = NEG,
	.wide = -3,
};
struct with_anon val_anon SEC(".data.anon") = {
	.kind = 4, .ip4 = 0x0100a8c0, .lo = 0x1234, .hi = 0x5678, .tail = 99,
};
struct bits val_bits SEC(".data.bits") = {
	.a = 5, .b = 300, .c = -3, .d = 0x7abc, .wide = 0xfedcba9876ULL, .swide = -12345,
	.on = true, .col = GREEN, .tail = 0x42,
};
union addr val_union SEC(".data.union") = { .v4 = 0xc0a80001 };
const volatile __u32 val_cv SEC(".data.cv") = 77;

/* A map using the key type, so the types are also reachable from a map definition. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, flow_key_t);
	__type(value, struct outer);
} flows SEC(".maps");

struct tagged val_tagged;

/* restrict shows up as a RESTRICT type; noinline keeps it a separate FUNC. */
static __attribute__((noinline)) int sum_tagged(struct tagged *restrict t, int n)
{
	return t->a + n;
}

SEC("xdp")
int xdp_btf_types(struct xdp_md *ctx)
{
	struct outer *o = bpf_map_lookup_elem(&flows, &val_flow);
	int r = sum_tagged(&val_tagged, val_ints.s8 + val_anon.lo + val_bits.a + val_union.v4 + val_cv);

	if (o)
		r += o->in.port;
	return r > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
