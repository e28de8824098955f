// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The uprobe test's target: waits for one line on stdin (so the test can attach first), then calls
 * libbpf_node_target() argv[1] times and exits. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline, used)) int libbpf_node_target(int x)
{
	/* An empty asm keeps the call from being folded away. */
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	char line[16];
	int acc = 0;

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++)
		acc = libbpf_node_target(acc);
	printf("%d\n", acc);
	return 0;
}
