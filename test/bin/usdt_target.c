// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The USDT test's target: waits for one line on stdin (so the test can attach first), then fires
 * the probe libbpf_node_test:tick with 1..argv[1] and exits. <sys/sdt.h> is Debian's
 * systemtap-sdt-dev. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	char line[16];

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 1; i <= n; i++)
		DTRACE_PROBE1(libbpf_node_test, tick, i);
	printf("%d\n", n);
	return 0;
}
