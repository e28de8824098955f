// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Benchmark-only N-API addon, built by bench/bench.ts (never shipped, never loaded by lib/).
// It gives `npm run bench` the two lower layers under every measured operation, in the same
// process as the public API:
//   - C loops: the operation through libbpf with no JS at all (the floor);
//   - raw calls: one plain N-API function call per operation (napi_get_cb_info, the number
//     conversions, the syscall, a boolean back), so the cost of N-API itself is visible.
// Each C loop returns nanoseconds per operation (or per element).
#define NAPI_VERSION 8
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile uint64_t sink;

static uint32_t arg_u32(napi_env env, napi_value *argv, size_t i)
{
	uint32_t v = 0;

	napi_get_value_uint32(env, argv[i], &v);
	return v;
}

static napi_value num(napi_env env, double v)
{
	napi_value out;

	napi_create_double(env, v, &out);
	return out;
}

static napi_value throw_errno(napi_env env, const char *what, int err)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err < 0 ? -err : err));
	napi_throw_error(env, NULL, msg);
	return NULL;
}

// createMap(type 'hash'|'array' as 1|2, maxEntries, mmapable) -> fd of a u32 -> u64 map.
static napi_value create_map(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = arg_u32(env, argv, 2) ? BPF_F_MMAPABLE : 0);
	int fd = bpf_map_create(arg_u32(env, argv, 0) == 1 ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_ARRAY, "bench", 4, 8,
				arg_u32(env, argv, 1), &opts);
	if (fd < 0)
		return throw_errno(env, "bpf_map_create", fd);
	return num(env, fd);
}

// cLookup(fd, n, ops) -> ns per bpf_map_lookup_elem of keys i % n.
static napi_value c_lookup(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	uint64_t v;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int fd = arg_u32(env, argv, 0);
	uint32_t n = arg_u32(env, argv, 1), ops = arg_u32(env, argv, 2);
	double t = now_ns();
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t k = i % n;
		if (bpf_map_lookup_elem(fd, &k, &v) == 0)
			sink += v;
	}
	return num(env, (now_ns() - t) / ops);
}

// cUpdate(fd, n, ops) -> ns per bpf_map_update_elem.
static napi_value c_update(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int fd = arg_u32(env, argv, 0);
	uint32_t n = arg_u32(env, argv, 1), ops = arg_u32(env, argv, 2);
	double t = now_ns();
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t k = i % n;
		uint64_t v = i;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return throw_errno(env, "bpf_map_update_elem", -errno);
	}
	return num(env, (now_ns() - t) / ops);
}

// cDelete(fd, from, n, ops) -> ns per bpf_map_delete_elem of keys from + i % n (absent keys:
// the ENOENT path, which JS's delete() also reports as false).
static napi_value c_delete(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int fd = arg_u32(env, argv, 0);
	uint32_t from = arg_u32(env, argv, 1), n = arg_u32(env, argv, 2), ops = arg_u32(env, argv, 3);
	double t = now_ns();
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t k = from + i % n;
		sink += bpf_map_delete_elem(fd, &k);
	}
	return num(env, (now_ns() - t) / ops);
}

// cDump(fd, chunk, dumps) -> ns per element of bpf_map_lookup_batch over the whole map.
static napi_value c_dump(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int fd = arg_u32(env, argv, 0);
	uint32_t chunk = arg_u32(env, argv, 1), dumps = arg_u32(env, argv, 2);
	uint32_t *keys = malloc(chunk * 4);
	uint64_t *values = malloc(chunk * 8), batch[2];
	double elements = 0, t = now_ns();
	for (uint32_t d = 0; d < dumps; d++) {
		void *in = NULL;
		for (;;) {
			uint32_t count = chunk;
			int err = bpf_map_lookup_batch(fd, in, &batch[1], keys, values, &count, NULL);
			for (uint32_t i = 0; i < count; i++)
				sink += keys[i] + values[i];
			elements += count;
			if (err || count == 0)
				break;
			batch[0] = batch[1];
			in = &batch[0];
		}
	}
	t = (now_ns() - t) / elements;
	free(keys);
	free(values);
	return num(env, t);
}

// cMmapRead(fd, length, reps) -> ns per u64 element read from the mapped array.
static napi_value c_mmap_read(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int fd = arg_u32(env, argv, 0);
	uint32_t len = arg_u32(env, argv, 1), reps = arg_u32(env, argv, 2);
	size_t bytes = ((size_t)len * 8 + 4095) & ~(size_t)4095;
	volatile uint64_t *mem = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return throw_errno(env, "mmap", -errno);
	double t = now_ns();
	uint64_t acc = 0;
	for (uint32_t r = 0; r < reps; r++)
		for (uint32_t i = 0; i < len; i++)
			acc += mem[i];
	t = (now_ns() - t) / ((double)reps * len);
	sink += acc;
	munmap((void *)mem, bytes);
	return num(env, t);
}

// cLoad(path) -> ns for bpf_object__open_file + bpf_object__load (then closed).
static napi_value c_load(napi_env env, napi_callback_info info)
{
	size_t argc = 1, len = 0;
	napi_value argv[1];
	char path[4096];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &len);
	double t = now_ns();
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (obj == NULL)
		return throw_errno(env, "bpf_object__open_file", -errno);
	int err = bpf_object__load(obj);
	t = now_ns() - t;
	bpf_object__close(obj);
	if (err)
		return throw_errno(env, "bpf_object__load", err);
	return num(env, t);
}

// --- Ring buffer -------------------------------------------------------------------------------
// A producer thread runs a BPF program (bench/bpf/ringbuf_prod.bpf.c) `runs` times with
// BPF_PROG_TEST_RUN; each run writes records and returns how many it dropped. The consumer,
// C or JS, runs on the main thread meanwhile.
static struct {
	pthread_t thread;
	int prog_fd, runs, started;
	atomic_int done;
	atomic_ulong dropped;
	double start_ns, end_ns;
} producer;

static void *produce(void *arg)
{
	(void)arg;
	for (int i = 0; i < producer.runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		if (bpf_prog_test_run_opts(producer.prog_fd, &opts) == 0)
			atomic_fetch_add(&producer.dropped, opts.retval);
	}
	producer.end_ns = now_ns();
	atomic_store(&producer.done, 1);
	return NULL;
}

static int start(int prog_fd, int runs)
{
	if (producer.started) {
		pthread_join(producer.thread, NULL);
		producer.started = 0;
	}
	producer.prog_fd = prog_fd;
	producer.runs = runs;
	atomic_store(&producer.done, 0);
	atomic_store(&producer.dropped, 0);
	producer.start_ns = now_ns();
	if (pthread_create(&producer.thread, NULL, produce, NULL))
		return -1;
	producer.started = 1;
	return 0;
}

// startProducer(progFd, runs): starts the producer thread (one at a time).
static napi_value start_producer(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (start(arg_u32(env, argv, 0), arg_u32(env, argv, 1)))
		return throw_errno(env, "pthread_create", errno);
	return NULL;
}

// producerState() -> [done (0|1), dropped, ns the producer ran]; joins the thread once done.
static napi_value producer_state(napi_env env, napi_callback_info info)
{
	napi_value out, v;
	int done = atomic_load(&producer.done);

	if (done && producer.started) {
		pthread_join(producer.thread, NULL);
		producer.started = 0;
	}
	napi_create_array_with_length(env, 3, &out);
	napi_create_uint32(env, done, &v);
	napi_set_element(env, out, 0, v);
	napi_create_double(env, (double)atomic_load(&producer.dropped), &v);
	napi_set_element(env, out, 1, v);
	napi_create_double(env, done ? producer.end_ns - producer.start_ns : 0, &v);
	napi_set_element(env, out, 2, v);
	return out;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long *)ctx)++;
	return 0;
}

// cRingConsume(mapFd, progFd, runs, total) -> [records received, ns from start to the end of
// the drain, dropped]: starts the producer, then consumes with ring_buffer__poll until every
// record is either received or reported dropped.
static napi_value c_ring_consume(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], out, v;
	unsigned long received = 0;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int map_fd = arg_u32(env, argv, 0);
	double total = arg_u32(env, argv, 3);
	struct ring_buffer *rb = ring_buffer__new(map_fd, count_record, &received, NULL);
	if (rb == NULL)
		return throw_errno(env, "ring_buffer__new", -errno);
	if (start(arg_u32(env, argv, 1), arg_u32(env, argv, 2))) {
		ring_buffer__free(rb);
		return throw_errno(env, "pthread_create", errno);
	}
	double t = producer.start_ns;
	for (;;) {
		int done = atomic_load(&producer.done);
		ring_buffer__poll(rb, 1);
		if (done && received + atomic_load(&producer.dropped) >= total)
			break;
		if (done && now_ns() - producer.end_ns > 2e9)
			break; /* records lost without a drop report: give up after 2 s */
	}
	t = now_ns() - t;
	pthread_join(producer.thread, NULL);
	producer.started = 0;
	ring_buffer__free(rb);
	napi_create_array_with_length(env, 3, &out);
	napi_create_double(env, (double)received, &v);
	napi_set_element(env, out, 0, v);
	napi_create_double(env, t, &v);
	napi_set_element(env, out, 1, v);
	napi_create_double(env, (double)atomic_load(&producer.dropped), &v);
	napi_set_element(env, out, 2, v);
	return out;
}

// --- Draining a filled buffer: the consumer's own cost --------------------------------------
// runOnce(progFd, frameLen) -> the program's return value (records it dropped): one
// BPF_PROG_TEST_RUN on this thread (frameLen > 0: an XDP frame of that many zero bytes).
static int run_once(int prog_fd, uint32_t frame_len, uint32_t *retval)
{
	static unsigned char frame[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (frame_len > 0) {
		opts.data_in = frame;
		opts.data_size_in = frame_len > sizeof(frame) ? sizeof(frame) : frame_len;
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

static napi_value run_once_js(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	uint32_t retval = 0;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int err = run_once(arg_u32(env, argv, 0), arg_u32(env, argv, 1), &retval);
	if (err)
		return throw_errno(env, "bpf_prog_test_run_opts", err);
	return num(env, retval);
}

static napi_value drain_result(napi_env env, double received, double ns, double dropped)
{
	napi_value out;

	napi_create_array_with_length(env, 3, &out);
	napi_set_element(env, out, 0, num(env, received));
	napi_set_element(env, out, 1, num(env, ns));
	napi_set_element(env, out, 2, num(env, dropped));
	return out;
}

// cRingDrain(mapFd, progFd) -> [received, ns, dropped]: fills the ring with one producer run,
// then times ring_buffer__consume of all of it (after one warm-up fill and drain) (the callback counts, as cRingConsume's).
static napi_value c_ring_drain(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	unsigned long received = 0;
	uint32_t dropped = 0;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct ring_buffer *rb = ring_buffer__new(arg_u32(env, argv, 0), count_record, &received, NULL);
	if (rb == NULL)
		return throw_errno(env, "ring_buffer__new", -errno);
	/* A warm-up drain first (its pages faulted in), as the JS readers get. */
	int err = run_once(arg_u32(env, argv, 1), 0, &dropped);
	if (!err) {
		ring_buffer__consume(rb);
		received = 0;
		err = run_once(arg_u32(env, argv, 1), 0, &dropped);
	}
	if (err) {
		ring_buffer__free(rb);
		return throw_errno(env, "bpf_prog_test_run_opts", err);
	}
	double t = now_ns();
	ring_buffer__consume(rb);
	t = now_ns() - t;
	ring_buffer__free(rb);
	return drain_result(env, received, t, dropped);
}

static void count_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	(void)data;
	(void)size;
	(*(unsigned long *)ctx)++;
}

// cPerfDrain(mapFd, progFd, pagesPerCpu) -> [received, ns, dropped]: the same for a perf buffer
// (an XDP producer run on this thread's CPU, then perf_buffer__consume).
static napi_value c_perf_drain(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	unsigned long received = 0;
	uint32_t dropped = 0;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	struct perf_buffer *pb = perf_buffer__new(arg_u32(env, argv, 0), arg_u32(env, argv, 2), count_sample, NULL, &received, NULL);
	if (pb == NULL)
		return throw_errno(env, "perf_buffer__new", -errno);
	int err = run_once(arg_u32(env, argv, 1), 64, &dropped);
	if (!err) {
		perf_buffer__consume(pb);
		received = 0;
		err = run_once(arg_u32(env, argv, 1), 64, &dropped);
	}
	if (err) {
		perf_buffer__free(pb);
		return throw_errno(env, "bpf_prog_test_run_opts", err);
	}
	double t = now_ns();
	perf_buffer__consume(pb);
	t = now_ns() - t;
	perf_buffer__free(pb);
	return drain_result(env, received, t, dropped);
}

// The raw layer: a function per map whose fd is its `data`, as thin as N-API allows.
// rawLookup(key) -> found; rawUpdate(key, value) -> undefined.
static napi_value raw_lookup(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	void *data;
	uint32_t k = 0;
	uint64_t v;

	napi_get_cb_info(env, info, &argc, argv, NULL, &data);
	napi_get_value_uint32(env, argv[0], &k);
	int err = bpf_map_lookup_elem((int)(intptr_t)data, &k, &v);
	napi_get_boolean(env, err == 0, &out);
	return out;
}

static napi_value raw_update(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	void *data;
	uint32_t k = 0;
	int64_t v = 0;

	napi_get_cb_info(env, info, &argc, argv, NULL, &data);
	napi_get_value_uint32(env, argv[0], &k);
	napi_get_value_int64(env, argv[1], &v);
	if (bpf_map_update_elem((int)(intptr_t)data, &k, &v, BPF_ANY))
		return throw_errno(env, "bpf_map_update_elem", -errno);
	return NULL;
}

// rawFunctions(fd) -> { lookup, update } bound to fd.
static napi_value raw_functions(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out, fn;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	intptr_t fd = arg_u32(env, argv, 0);
	napi_create_object(env, &out);
	napi_create_function(env, "rawLookup", NAPI_AUTO_LENGTH, raw_lookup, (void *)fd, &fn);
	napi_set_named_property(env, out, "lookup", fn);
	napi_create_function(env, "rawUpdate", NAPI_AUTO_LENGTH, raw_update, (void *)fd, &fn);
	napi_set_named_property(env, out, "update", fn);
	return out;
}

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback cb;
	} fns[] = {
		{ "createMap", create_map }, { "cLookup", c_lookup },	      { "cUpdate", c_update },
		{ "cDelete", c_delete }, { "cDump", c_dump },	     { "cMmapRead", c_mmap_read }, { "cLoad", c_load },
		{ "rawFunctions", raw_functions }, { "startProducer", start_producer },
		{ "producerState", producer_state }, { "cRingConsume", c_ring_consume },
		{ "runOnce", run_once_js }, { "cRingDrain", c_ring_drain }, { "cPerfDrain", c_perf_drain },
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		napi_value fn;

		napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
		napi_set_named_property(env, exports, fns[i].name, fn);
	}
	return exports;
}
