// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* prog_verified_insns <id>: the kernel's own answer about a program's verified instruction count,
 * read with bare bpf() syscalls (no libbpf, no libbpf-node), for tests to compare with.
 * Prints the count, or "absent" when the kernel's struct bpf_prog_info ends before the field
 * (kernels before 5.16). Exit 1 on errors. */
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	union bpf_attr attr;
	struct bpf_prog_info info;
	int fd;

	if (argc != 2)
		return 1;
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = (unsigned)strtoul(argv[1], NULL, 10);
	fd = syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0) {
		perror("BPF_PROG_GET_FD_BY_ID");
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (unsigned long)&info;
	if (syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0) {
		perror("BPF_OBJ_GET_INFO_BY_FD");
		return 1;
	}
	/* The kernel writes back how much of the struct it knows. */
	if (attr.info.info_len < offsetof(struct bpf_prog_info, verified_insns) + sizeof(info.verified_insns))
		printf("absent\n");
	else
		printf("%u\n", info.verified_insns);
	return 0;
}
