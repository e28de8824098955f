// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* skel_bootstrap.bpf.c rebuilt with a changed struct event (a member added): a skeleton
 * generated from the original must refuse it at open (test/skeleton/). */
#define SKEL_BOOTSTRAP_CHANGED 1
#include "skel_bootstrap.bpf.c"
