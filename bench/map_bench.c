// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// The C side of `npm run bench`: the same map operations as bench.ts, through libbpf directly,
// on maps the JS side passes as inherited fds (3: hash u32 -> u64, 4: mmap-able array of u64).
// Prints one JSON object of ns per operation / per element.
#include <bpf/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int hash = 3, array = 4;
	uint32_t n = argc > 1 ? atoi(argv[1]) : 4000;
	long ops = argc > 2 ? atol(argv[2]) : 1000000;
	int dumps = argc > 3 ? atoi(argv[3]) : 200;
	uint32_t array_len = argc > 4 ? atoi(argv[4]) : 1024;
	volatile uint64_t sink = 0;
	uint64_t v;
	double t;

	t = now_ns();
	for (long i = 0; i < ops; i++) {
		uint32_t k = i % n;
		if (bpf_map_lookup_elem(hash, &k, &v))
			return 1;
		sink += v;
	}
	double lookup = (now_ns() - t) / ops;

	t = now_ns();
	for (long i = 0; i < ops; i++) {
		uint32_t k = i % n;
		v = i;
		if (bpf_map_update_elem(hash, &k, &v, BPF_ANY))
			return 1;
	}
	double update = (now_ns() - t) / ops;

	uint32_t chunk = 256, keys[256], batch[2];
	uint64_t values[256];
	long elements = 0;
	t = now_ns();
	for (int d = 0; d < dumps; d++) {
		void *in = NULL;
		for (;;) {
			uint32_t count = chunk;
			int err = bpf_map_lookup_batch(hash, in, &batch[1], keys, values, &count, NULL);
			for (uint32_t i = 0; i < count; i++)
				sink += keys[i] + values[i];
			elements += count;
			if (err)
				break;
			batch[0] = batch[1];
			in = &batch[0];
		}
	}
	double dump = (now_ns() - t) / elements;

	uint64_t *mem = mmap(NULL, array_len * 8, PROT_READ, MAP_SHARED, array, 0);
	if (mem == MAP_FAILED)
		return 1;
	long reps = 20000;
	t = now_ns();
	for (long r = 0; r < reps; r++)
		for (uint32_t i = 0; i < array_len; i++)
			sink += ((volatile uint64_t *)mem)[i];
	double mmap_read = (now_ns() - t) / (reps * (double)array_len);

	printf("{\"lookup\":%.1f,\"update\":%.1f,\"dump\":%.2f,\"mmapRead\":%.3f}\n", lookup, update, dump, mmap_read);
	return sink == 42 ? 2 : 0;
}
