// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* skel_bootstrap.bpf.c (the docs/skeletons.md example) rebuilt with a changed struct event: a
 * member added. A skeleton generated from the original must refuse this object at open
 * (test/skeleton/). The original's struct is renamed away and the new one takes its name. */
#include <linux/types.h>

struct event {
	__u64 ts_ns;
	__u32 len;
	__u16 proto;
	char tag[6];
	__u32 queue;
};

#define event event_before
#include "skel_bootstrap.bpf.c"
#undef event

struct event changed_event_type SEC(".types.unused");
