// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Globals of every shape the globals accessor must read and write. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

struct point {
	__u16 x;
	__s16 y;
	__u8 tag[4];
};

/* .rodata: set before load only. */
const volatile __u32 ro_u32 = 7;
const volatile bool ro_flag = false;
const volatile __s64 ro_s64 = -5;
const volatile struct point ro_point = { .x = 1, .y = -2, .tag = { 'a', 'b', 'c', 'd' } };

/* .data: initialised, writable before and after load. */
__u64 data_u64 = 0x1122334455667788ULL;
__u32 data_arr[4] = { 1, 2, 3, 4 };

/* .bss: zero-initialised. */
__u32 bss_hits;
struct point bss_point;

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	bss_hits += ro_u32;
	bss_point.x = ro_point.x;
	data_u64 += ro_flag ? 1 : 2;
	data_arr[0] += (__u32)ro_s64;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
