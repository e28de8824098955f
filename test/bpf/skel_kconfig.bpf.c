// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kconfig externs for the skeleton tests: libbpf fills them in at load, from the kernel's config,
 * uname and the `kconfig` open option. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
/* No kernel has it: 0 unless the kconfig open option sets it. */
extern int CONFIG_LIBBPF_NODE_SKEL_TEST __kconfig __weak;

__u32 seen;

SEC("xdp")
int xdp_kconfig(struct xdp_md *ctx)
{
	seen = LINUX_KERNEL_VERSION + CONFIG_BPF_SYSCALL + CONFIG_LIBBPF_NODE_SKEL_TEST;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
