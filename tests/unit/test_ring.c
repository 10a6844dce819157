/*
 * Unit tests of the ring library: argument checking, bulk and burst
 * semantics, wrap-around for several element sizes, state queries, rings
 * on caller memory, and two-thread stress runs of the SP/SC and MP/MC
 * paths (each bounded by a deadline).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <sluice/sl_ring.h>

/* All flag combinations, for tests that run on every kind of ring. */
static const unsigned ring_kinds[] = {
	0,
	SL_RING_F_SP_ENQ,
	SL_RING_F_SC_DEQ,
	SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ,
};

static void *
tag(uintptr_t v)
{
	return (void *)v;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Small deterministic generator for burst sizes. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/*
 * Join a test thread, failing the test instead of hanging when a broken
 * ring leaves it spinning past the deadline (a CLOCK_MONOTONIC time in ns).
 */
static void
join_before(pthread_t t, uint64_t deadline)
{
	struct timespec ts;
	uint64_t left = deadline > now_ns() ? deadline - now_ns() : 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	left += (uint64_t)ts.tv_nsec + 1000000000ull; /* one second of grace */
	ts.tv_sec += (time_t)(left / 1000000000ull);
	ts.tv_nsec = (long)(left % 1000000000ull);
	if (pthread_timedjoin_np(t, NULL, &ts) != 0)
		fail_msg("a thread is still running after the deadline: the "
			 "ring is stuck");
}

/* ---- sizing and arguments ------------------------------------------------ */

static void
test_memsize(void **state)
{
	ssize_t len;

	(void)state;
	len = sl_ring_memsize(2, 4);
	assert_true(len >= (ssize_t)sizeof(struct sl_ring) + 2 * 4);
	len = sl_ring_memsize(1024, 8);
	assert_true(len >= (ssize_t)sizeof(struct sl_ring) + 1024 * 8);
	assert_int_equal(len % SL_CACHE_LINE, 0);
	len = sl_ring_memsize(1u << 28, 4);
	assert_true(len >= (ssize_t)sizeof(struct sl_ring) + (4ll << 28));
	/* a larger element needs more memory */
	assert_true(sl_ring_memsize(64, 20) > sl_ring_memsize(64, 16));
}

static void
test_memsize_rejects_bad_args(void **state)
{
	(void)state;
	assert_int_equal(sl_ring_memsize(0, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(1, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(3, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(100, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(1u << 29, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(UINT32_MAX, 8), -EINVAL);
	assert_int_equal(sl_ring_memsize(16, 0), -EINVAL);
	assert_int_equal(sl_ring_memsize(16, 2), -EINVAL);
	assert_int_equal(sl_ring_memsize(16, 6), -EINVAL);
	assert_int_equal(sl_ring_memsize(16, 13), -EINVAL);
}

static void
expect_create_einval(const char *name, uint32_t count, unsigned flags)
{
	errno = 0;
	assert_null(sl_ring_create(name, count, flags));
	assert_int_equal(errno, EINVAL);
}

static void
test_create_rejects_bad_count(void **state)
{
	(void)state;
	expect_create_einval("r", 0, 0);
	expect_create_einval("r", 1, 0);
	expect_create_einval("r", 3, 0);
	expect_create_einval("r", 100, 0);
	expect_create_einval("r", (1u << 28) + 1, 0);
	expect_create_einval("r", 1u << 29, 0);
	expect_create_einval("r", 1u << 31, 0);
	expect_create_einval("r", UINT32_MAX, 0);
}

static void
test_create_rejects_bad_esize(void **state)
{
	static const uint32_t bad[] = {0, 1, 2, 3, 5, 6, 7, 9, 10, 13, 18};
	size_t i;

	(void)state;
	for (i = 0; i < SL_DIM(bad); i++) {
		errno = 0;
		assert_null(sl_ring_create_elem("r", 16, bad[i], 0));
		assert_int_equal(errno, EINVAL);
	}
}

static void
test_create_rejects_bad_name_and_flags(void **state)
{
	char name[SL_RING_NAMESIZE + 8];
	struct sl_ring *r;

	(void)state;
	expect_create_einval(NULL, 16, 0);
	/* SL_RING_NAMESIZE characters: one too many (names are not cut) */
	memset(name, 'n', sizeof(name));
	name[SL_RING_NAMESIZE] = '\0';
	expect_create_einval(name, 16, 0);
	name[SL_RING_NAMESIZE + 4] = '\0';
	expect_create_einval(name, 16, 0);
	/* unknown flag bit */
	expect_create_einval("r", 16, 0x4u);
	expect_create_einval("r", 16, SL_RING_F_SP_ENQ | 0x80000000u);
	/* the longest name that fits */
	name[SL_RING_NAMESIZE - 1] = '\0';
	r = sl_ring_create(name, 16, 0);
	assert_non_null(r);
	assert_string_equal(sl_ring_name(r), name);
	sl_ring_free(r);
	/* an empty name is allowed */
	r = sl_ring_create("", 16, 0);
	assert_non_null(r);
	assert_string_equal(sl_ring_name(r), "");
	sl_ring_free(r);
}

static void
test_create_and_describe(void **state)
{
	struct sl_ring *r;

	(void)state;
	r = sl_ring_create("ptrs", 2, SL_RING_F_SP_ENQ);
	assert_non_null(r);
	assert_string_equal(sl_ring_name(r), "ptrs");
	assert_int_equal(sl_ring_esize(r), sizeof(void *));
	assert_int_equal(sl_ring_capacity(r), 2);
	assert_int_equal(sl_ring_count(r), 0);
	assert_int_equal(sl_ring_free_count(r), 2);
	assert_true(sl_ring_empty(r));
	assert_false(sl_ring_full(r));
	/* cache-line aligned allocation */
	assert_int_equal((uintptr_t)r % SL_CACHE_LINE, 0);
	sl_ring_free(r);

	r = sl_ring_create_elem("elems", 1u << 10, 20, 0);
	assert_non_null(r);
	assert_string_equal(sl_ring_name(r), "elems");
	assert_int_equal(sl_ring_esize(r), 20);
	assert_int_equal(sl_ring_capacity(r), 1u << 10);
	sl_ring_free(r);

	/* a larger one (the largest, 2^28 slots, is checked by memsize) */
	r = sl_ring_create_elem("big", 1u << 20, 4, 0);
	assert_non_null(r);
	assert_int_equal(sl_ring_capacity(r), 1u << 20);
	assert_int_equal(sl_ring_free_count(r), 1u << 20);
	sl_ring_free(r);
	/* NULL is a no-op for free and answers NULL/0 for queries */
	sl_ring_free(NULL);
	assert_null(sl_ring_name(NULL));
	assert_int_equal(sl_ring_esize(NULL), 0);
	sl_ring_reset(NULL);
}

/* ---- rings on caller memory ---------------------------------------------- */

static void
test_init_on_caller_memory(void **state)
{
	ssize_t len = sl_ring_memsize(8, sizeof(void *));
	struct sl_ring *r;
	void *out = NULL;
	char *mem;
	uintptr_t i;

	(void)state;
	assert_true(len > 0);
	mem = malloc((size_t)len); /* 16-byte aligned only: must work */
	assert_non_null(mem);
	r = (struct sl_ring *)mem;
	assert_int_equal(sl_ring_init(r, "shm", 8, sizeof(void *),
				      SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ),
			 0);
	assert_string_equal(sl_ring_name(r), "shm");
	assert_int_equal(sl_ring_capacity(r), 8);
	assert_true(sl_ring_empty(r));
	for (i = 1; i <= 8; i++)
		assert_int_equal(sl_ring_enqueue(r, tag(i)), 0);
	assert_int_equal(sl_ring_enqueue(r, tag(9)), -ENOBUFS);
	for (i = 1; i <= 8; i++) {
		assert_int_equal(sl_ring_dequeue(r, &out), 0);
		assert_ptr_equal(out, tag(i));
	}
	/* the caller's memory: free must leave it (ASan reports otherwise) */
	sl_ring_free(r);
	assert_string_equal(sl_ring_name(r), "shm");
	assert_int_equal(sl_ring_enqueue(r, tag(1)), 0);
	assert_int_equal(sl_ring_count(r), 1);
	free(mem);
}

static void
test_init_rejects_bad_args(void **state)
{
	ssize_t len = sl_ring_memsize(16, 8);
	char name[SL_RING_NAMESIZE + 1];
	struct sl_ring *r;
	char *mem;

	(void)state;
	mem = aligned_alloc(2 * SL_CACHE_LINE, (size_t)len + 2 * SL_CACHE_LINE);
	assert_non_null(mem);
	r = (struct sl_ring *)mem;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(sl_ring_init(NULL, "r", 16, 8, 0), -EINVAL);
	assert_int_equal(
		sl_ring_init((struct sl_ring *)(mem + 4), "r", 16, 8, 0),
		-EINVAL);
	assert_int_equal(sl_ring_init(r, NULL, 16, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, name, 16, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 0, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 1, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 12, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 1u << 29, 8, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 16, 0, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 16, 10, 0), -EINVAL);
	assert_int_equal(sl_ring_init(r, "r", 16, 8, 0x10u), -EINVAL);
	/* 8-byte aligned but not cache aligned is accepted */
	assert_int_equal(
		sl_ring_init((struct sl_ring *)(mem + 8), "r", 16, 8, 0), 0);
	assert_int_equal(sl_ring_init(r, "r", 16, 8, 0), 0);
	sl_ring_free(r); /* no-op */
	free(mem);
}

/* ---- single objects, bulk and burst ---- */

static void
test_enqueue_dequeue_one(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r = sl_ring_create("one", 4, ring_kinds[k]);
		void *out = tag(0xdead);
		uintptr_t i;

		assert_non_null(r);
		assert_int_equal(sl_ring_dequeue(r, &out), -ENOENT);
		assert_ptr_equal(out, tag(0xdead)); /* untouched on failure */
		for (i = 1; i <= 4; i++)
			assert_int_equal(sl_ring_enqueue(r, tag(i)), 0);
		assert_true(sl_ring_full(r));
		assert_int_equal(sl_ring_enqueue(r, tag(5)), -ENOBUFS);
		assert_int_equal(sl_ring_count(r), 4);
		for (i = 1; i <= 4; i++) {
			assert_int_equal(sl_ring_dequeue(r, &out), 0);
			assert_ptr_equal(out, tag(i));
		}
		assert_int_equal(sl_ring_dequeue(r, &out), -ENOENT);
		assert_true(sl_ring_empty(r));
		sl_ring_free(r);
	}
}

static int
ring8_setup(void **state)
{
	*state = sl_ring_create("r8", 8, 0);
	return *state == NULL ? -1 : 0;
}

static int
ring8_teardown(void **state)
{
	sl_ring_free(*state);
	return 0;
}

static void
test_bulk_all_or_nothing(void **state)
{
	struct sl_ring *r = *state;
	void *in[16], *out[16];
	unsigned fs = 99, av = 99;
	uintptr_t i;

	for (i = 0; i < 16; i++)
		in[i] = tag(i + 100);
	assert_int_equal(sl_ring_enqueue_bulk(r, in, 5, &fs), 5);
	assert_int_equal(fs, 3);
	/* 4 do not fit in 3: nothing is enqueued */
	assert_int_equal(sl_ring_enqueue_bulk(r, in + 5, 4, &fs), 0);
	assert_int_equal(fs, 3);
	assert_int_equal(sl_ring_count(r), 5);
	assert_int_equal(sl_ring_enqueue_bulk(r, in + 5, 3, &fs), 3);
	assert_int_equal(fs, 0);
	assert_true(sl_ring_full(r));
	assert_int_equal(sl_ring_enqueue_bulk(r, in, 1, &fs), 0);
	assert_int_equal(fs, 0);
	/* 9 are not there: nothing is dequeued */
	assert_int_equal(sl_ring_dequeue_bulk(r, out, 9, &av), 0);
	assert_int_equal(av, 8);
	assert_int_equal(sl_ring_dequeue_bulk(r, out, 6, &av), 6);
	assert_int_equal(av, 2);
	for (i = 0; i < 6; i++)
		assert_ptr_equal(out[i], in[i]);
	assert_int_equal(sl_ring_dequeue_bulk(r, out, 3, &av), 0);
	assert_int_equal(av, 2);
	assert_int_equal(sl_ring_dequeue_bulk(r, out, 2, NULL), 2);
	assert_ptr_equal(out[0], in[6]);
	assert_ptr_equal(out[1], in[7]);
	assert_true(sl_ring_empty(r));
}

static void
test_burst_partial(void **state)
{
	struct sl_ring *r = *state;
	void *in[16], *out[16];
	unsigned fs = 99, av = 99;
	uintptr_t i;

	for (i = 0; i < 16; i++)
		in[i] = tag(i + 1);
	assert_int_equal(sl_ring_enqueue_burst(r, in, 5, &fs), 5);
	assert_int_equal(fs, 3);
	/* only 3 of 6 fit: the first 3 go in */
	assert_int_equal(sl_ring_enqueue_burst(r, in + 5, 6, &fs), 3);
	assert_int_equal(fs, 0);
	assert_int_equal(sl_ring_enqueue_burst(r, in, 4, &fs), 0);
	assert_int_equal(fs, 0);
	/* 8 of 16 are there */
	assert_int_equal(sl_ring_dequeue_burst(r, out, 16, &av), 8);
	assert_int_equal(av, 0);
	for (i = 0; i < 8; i++)
		assert_ptr_equal(out[i], in[i]);
	assert_int_equal(sl_ring_dequeue_burst(r, out, 4, &av), 0);
	assert_int_equal(av, 0);
}

static void
test_zero_objects(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r = sl_ring_create("zero", 4, ring_kinds[k]);
		void *obj = tag(1), *out[4];
		unsigned fs = 99, av = 99;

		assert_non_null(r);
		assert_int_equal(sl_ring_enqueue_burst(r, &obj, 0, &fs), 0);
		assert_int_equal(fs, 4);
		assert_int_equal(sl_ring_enqueue_bulk(r, &obj, 0, &fs), 0);
		assert_int_equal(fs, 4);
		assert_int_equal(sl_ring_dequeue_burst(r, out, 0, &av), 0);
		assert_int_equal(av, 0);
		assert_int_equal(sl_ring_enqueue(r, obj), 0);
		assert_int_equal(sl_ring_dequeue_bulk(r, out, 0, &av), 0);
		assert_int_equal(av, 1);
		assert_int_equal(sl_ring_enqueue_burst(r, &obj, 0, &fs), 0);
		assert_int_equal(fs, 3);
		assert_int_equal(sl_ring_count(r), 1);
		/* a zero-length move must not disturb the next ones */
		assert_int_equal(sl_ring_dequeue_burst(r, out, 4, &av), 1);
		assert_ptr_equal(out[0], obj);
		sl_ring_free(r);
	}
}

static void
test_state_queries(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r = sl_ring_create("st", 16, ring_kinds[k]);
		void *out;
		unsigned i;

		assert_non_null(r);
		for (i = 0; i < 16; i++) {
			assert_int_equal(sl_ring_count(r), i);
			assert_int_equal(sl_ring_free_count(r), 16 - i);
			assert_int_equal(sl_ring_empty(r), i == 0);
			assert_false(sl_ring_full(r));
			assert_int_equal(sl_ring_enqueue(r, tag(i + 1)), 0);
		}
		assert_true(sl_ring_full(r));
		assert_int_equal(sl_ring_free_count(r), 0);
		assert_int_equal(sl_ring_count(r), 16);
		assert_int_equal(sl_ring_capacity(r), 16);
		for (i = 16; i > 0; i--) {
			assert_int_equal(sl_ring_count(r), i);
			assert_int_equal(sl_ring_dequeue(r, &out), 0);
			assert_false(sl_ring_full(r));
		}
		assert_true(sl_ring_empty(r));
		sl_ring_free(r);
	}
}

static void
test_reset(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r = sl_ring_create("rst", 8, ring_kinds[k]);
		void *in[8], *out[8];
		uintptr_t i;

		assert_non_null(r);
		for (i = 0; i < 8; i++)
			in[i] = tag(i + 1);
		/* move the indices off zero, then leave 3 objects */
		assert_int_equal(sl_ring_enqueue_bulk(r, in, 6, NULL), 6);
		assert_int_equal(sl_ring_dequeue_bulk(r, out, 5, NULL), 5);
		assert_int_equal(sl_ring_enqueue_bulk(r, in, 2, NULL), 2);
		assert_int_equal(sl_ring_count(r), 3);
		sl_ring_reset(r);
		assert_true(sl_ring_empty(r));
		assert_int_equal(sl_ring_count(r), 0);
		assert_int_equal(sl_ring_free_count(r), 8);
		assert_int_equal(sl_ring_dequeue_burst(r, out, 8, NULL), 0);
		/* the full capacity is usable again, in order */
		assert_int_equal(sl_ring_enqueue_bulk(r, in, 8, NULL), 8);
		assert_int_equal(sl_ring_dequeue_bulk(r, out, 8, NULL), 8);
		assert_memory_equal(out, in, sizeof(in));
		sl_ring_free(r);
	}
}

/* ---- wrap-around with several element sizes ----------------------------- */

/*
 * Fill element i of a buffer of esize-byte elements with a pattern derived
 * from the sequence number seq + i, and check it back.
 */
static void
pattern_fill(void *buf, uint32_t esize, uint32_t seq, unsigned n)
{
	uint32_t *w = buf;
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < esize / 4; j++)
			w[i * (esize / 4) + j] = (seq + i) * 0x9e3779b1u + j;
}

static int
pattern_check(const void *buf, uint32_t esize, uint32_t seq, unsigned n)
{
	const uint32_t *w = buf;
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < esize / 4; j++)
			if (w[i * (esize / 4) + j] !=
			    (seq + i) * 0x9e3779b1u + j)
				return -1;
	return 0;
}

/*
 * Move 2000 elements through a ring of 8 (or 16) slots with bursts and
 * bulks of sizes 1..count, so that every split point of the wrap-around is
 * hit, and check content, order, counts and the reported room. esize is a
 * macro argument so that the copy is the one specialised at compile time.
 */
#define WRAP_TEST_BODY(r, ESZ, count)                                          \
	do {                                                                   \
		uint32_t buf[32 * 16], sent = 0, got = 0, seed = 7;            \
		unsigned it, n, k, fs, av;                                     \
                                                                               \
		for (it = 0; it < 2000; it++) {                                \
			n = 1 + lcg(&seed) % (count);                          \
			pattern_fill(buf, (ESZ), sent, n);                     \
			if (it & 1) {                                          \
				k = sl_ring_enqueue_burst_elem((r), buf,       \
							       (ESZ), n, &fs); \
				assert_int_equal(                              \
					k, SL_MIN(n, (count) - (sent - got))); \
			} else {                                               \
				k = sl_ring_enqueue_bulk_elem((r), buf, (ESZ), \
							      n, &fs);         \
				assert_int_equal(                              \
					k,                                     \
					n <= (count) - (sent - got) ? n : 0);  \
			}                                                      \
			sent += k;                                             \
			assert_int_equal(fs, (count) - (sent - got));          \
			assert_int_equal(sl_ring_count(r), sent - got);        \
			n = 1 + lcg(&seed) % (count);                          \
			memset(buf, 0xa5, sizeof(buf));                        \
			if (it % 3 == 0) {                                     \
				k = sl_ring_dequeue_bulk_elem((r), buf, (ESZ), \
							      n, &av);         \
				assert_int_equal(k, n <= sent - got ? n : 0);  \
			} else {                                               \
				k = sl_ring_dequeue_burst_elem((r), buf,       \
							       (ESZ), n, &av); \
				assert_int_equal(k, SL_MIN(n, sent - got));    \
			}                                                      \
			assert_int_equal(pattern_check(buf, (ESZ), got, k),    \
					 0);                                   \
			got += k;                                              \
			assert_int_equal(av, sent - got);                      \
		}                                                              \
		/* drain */                                                    \
		k = sl_ring_dequeue_burst_elem((r), buf, (ESZ), (count), &av); \
		assert_int_equal(pattern_check(buf, (ESZ), got, k), 0);        \
		got += k;                                                      \
		assert_int_equal(sent, got);                                   \
		assert_true(sent > 2000);                                      \
		assert_true(sl_ring_empty(r));                                 \
	} while (0)

#define WRAP_TEST_FN(ESZ)                                                      \
	static void wrap_test_##ESZ(struct sl_ring *r, uint32_t count)         \
	{                                                                      \
		WRAP_TEST_BODY(r, ESZ, count);                                 \
	}
WRAP_TEST_FN(4)
WRAP_TEST_FN(8)
WRAP_TEST_FN(12)
WRAP_TEST_FN(16)
WRAP_TEST_FN(20)
WRAP_TEST_FN(64)

/* the same with an element size only known at run time */
static void
wrap_test_runtime(struct sl_ring *r, uint32_t esize, uint32_t count)
{
	WRAP_TEST_BODY(r, esize, count);
}

static void
run_wrap_test(uint32_t esize, void (*fn)(struct sl_ring *, uint32_t))
{
	static const uint32_t counts[] = {8, 16};
	size_t k, c;

	for (c = 0; c < SL_DIM(counts); c++) {
		for (k = 0; k < SL_DIM(ring_kinds); k++) {
			struct sl_ring *r = sl_ring_create_elem(
				"wrap", counts[c], esize, ring_kinds[k]);

			assert_non_null(r);
			fn(r, counts[c]);
			sl_ring_reset(r);
			wrap_test_runtime(r, esize, counts[c]);
			sl_ring_free(r);
		}
	}
}

static void
test_wrap_esize_8(void **state)
{
	(void)state;
	run_wrap_test(8, wrap_test_8);
}

static void
test_wrap_esize_16(void **state)
{
	(void)state;
	run_wrap_test(16, wrap_test_16);
}

static void
test_wrap_esize_12(void **state)
{
	(void)state;
	run_wrap_test(12, wrap_test_12);
}

static void
test_wrap_esize_20(void **state)
{
	(void)state;
	run_wrap_test(20, wrap_test_20);
}

static void
test_wrap_esize_4_and_64(void **state)
{
	(void)state;
	run_wrap_test(4, wrap_test_4);
	run_wrap_test(64, wrap_test_64);
}

/* Pointer functions on a pointer ring, across the end of the slots. */
static void
test_wrap_pointers(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r = sl_ring_create("wp", 8, ring_kinds[k]);
		void *in[8], *out[8];
		uintptr_t next = 1, expect = 1;
		unsigned it, n, i, m;

		assert_non_null(r);
		for (it = 0; it < 200; it++) {
			n = 1 + it % 7;
			for (i = 0; i < n; i++)
				in[i] = tag(next + i);
			m = sl_ring_enqueue_burst(r, in, n, NULL);
			next += m;
			m = sl_ring_dequeue_burst(r, out, 1 + it % 5, NULL);
			for (i = 0; i < m; i++)
				assert_ptr_equal(out[i], tag(expect + i));
			expect += m;
		}
		sl_ring_free(r);
	}
}

/*
 * White-box: start the free-running indices just below 2^32, to check that
 * counts and slots stay right when the 32-bit indices wrap. The fields are
 * not API; the test knows them on purpose.
 */
static void
test_index_wrap_32bit(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < SL_DIM(ring_kinds); k++) {
		struct sl_ring *r =
			sl_ring_create_elem("w32", 16, 12, ring_kinds[k]);
		const uint32_t start = UINT32_MAX - 20;

		assert_non_null(r);
		r->prod_head = r->prod.tail = start;
		r->cons_head = r->cons.tail = start;
		assert_true(sl_ring_empty(r));
		assert_int_equal(sl_ring_free_count(r), 16);
		wrap_test_12(r, 16);
		assert_true(r->prod.tail < start); /* it did wrap */
		sl_ring_free(r);
	}
}

#ifdef SL_DEBUG
/* With SL_DEBUG, an element size that is not the ring's moves nothing. */
static void
test_debug_esize_mismatch(void **state)
{
	struct sl_ring *r = sl_ring_create_elem("dbg", 8, 16, 0);
	uint32_t buf[8 * 4] = {0};
	unsigned fs = 99;

	(void)state;
	assert_non_null(r);
	assert_int_equal(sl_ring_enqueue_burst_elem(r, buf, 8, 2, &fs), 0);
	assert_int_equal(sl_ring_enqueue_bulk_elem(r, buf, 16, 2, &fs), 2);
	assert_int_equal(sl_ring_dequeue_burst_elem(r, buf, 8, 2, NULL), 0);
	/* the pointer functions on a ring of 16-byte elements */
	assert_int_equal(sl_ring_dequeue_burst(r, (void **)buf, 2, NULL), 0);
	assert_int_equal(sl_ring_count(r), 2);
	sl_ring_free(r);
}
#endif

/* ---- two-thread stress --------------------------------------------------- */

#define STRESS_DEADLINE_NS (20ull * 1000000000ull)
#define STRESS_PRODUCERS 2
#define STRESS_CONSUMERS 2
#define STRESS_PER_PRODUCER (1u << 18) /* values per producer */
#define STRESS_BURST 32
#define STRESS_ID_SHIFT 24 /* value = (producer + 1) << 24 | sequence */

struct stress {
	struct sl_ring *r;
	uint64_t deadline;
	unsigned nb_prod;
	uint32_t per_prod;
	int bulk;	   /* use bulk calls, else burst */
	int stop;	   /* set on deadline or error */
	uint32_t consumed; /* total taken, all consumers */
	uint8_t *seen[STRESS_PRODUCERS];
	/* per consumer: errors found (order, range, duplicates) */
	unsigned errors[STRESS_CONSUMERS];
	unsigned nb_cons;
};

struct stress_arg {
	struct stress *s;
	unsigned id;
};

static bool
stress_stopped(struct stress *s, uint32_t *poll)
{
	if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
		return true;
	if ((++*poll & 1023) == 0 && now_ns() > s->deadline) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

static void *
stress_producer(void *arg)
{
	struct stress_arg *a = arg;
	struct stress *s = a->s;
	uintptr_t base = (uintptr_t)(a->id + 1) << STRESS_ID_SHIFT;
	uint32_t seq = 0, seed = 17 + a->id, poll = 0;
	void *objs[STRESS_BURST];
	unsigned n, k, i;

	while (seq < s->per_prod) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		if (n > s->per_prod - seq)
			n = s->per_prod - seq;
		for (i = 0; i < n; i++)
			objs[i] = tag(base | (seq + i));
		k = s->bulk ? sl_ring_enqueue_bulk(s->r, objs, n, NULL)
			    : sl_ring_enqueue_burst(s->r, objs, n, NULL);
		seq += k;
		if (k == 0) {
			if (stress_stopped(s, &poll))
				break;
			sched_yield(); /* threads may outnumber cores */
		}
	}
	return NULL;
}

static void *
stress_consumer(void *arg)
{
	struct stress_arg *a = arg;
	struct stress *s = a->s;
	uint32_t total = s->nb_prod * s->per_prod;
	uint32_t last[STRESS_PRODUCERS], seed = 91 + a->id, poll = 0;
	void *objs[STRESS_BURST];
	unsigned n, k, i, p;

	for (p = 0; p < STRESS_PRODUCERS; p++)
		last[p] = UINT32_MAX;
	while (__atomic_load_n(&s->consumed, __ATOMIC_RELAXED) < total) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		k = s->bulk ? sl_ring_dequeue_bulk(s->r, objs, n, NULL)
			    : sl_ring_dequeue_burst(s->r, objs, n, NULL);
		if (k == 0) {
			if (s->bulk && n > 1 && !sl_ring_empty(s->r))
				continue; /* retry with another size */
			if (stress_stopped(s, &poll))
				break;
			sched_yield();
			continue;
		}
		for (i = 0; i < k; i++) {
			uintptr_t v = (uintptr_t)objs[i];
			uint32_t seq = v & ((1u << STRESS_ID_SHIFT) - 1);

			p = (unsigned)(v >> STRESS_ID_SHIFT) - 1;
			if (p >= s->nb_prod || seq >= s->per_prod) {
				s->errors[a->id]++;
				continue;
			}
			/* each value once: a second sighting is an error */
			if (__atomic_fetch_add(&s->seen[p][seq], 1,
					       __ATOMIC_RELAXED) != 0)
				s->errors[a->id]++;
			/* one producer's values come out in its order */
			if (last[p] != UINT32_MAX && seq <= last[p])
				s->errors[a->id]++;
			last[p] = seq;
		}
		__atomic_fetch_add(&s->consumed, k, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
run_stress(unsigned flags, unsigned nb_prod, unsigned nb_cons,
	   uint32_t per_prod, int bulk)
{
	struct stress s;
	struct stress_arg pa[STRESS_PRODUCERS], ca[STRESS_CONSUMERS];
	pthread_t pt[STRESS_PRODUCERS], ct[STRESS_CONSUMERS];
	uint64_t missing = 0, dup = 0;
	unsigned p, c;
	uint32_t q;

	memset(&s, 0, sizeof(s));
	s.r = sl_ring_create("stress", 256, flags);
	assert_non_null(s.r);
	s.nb_prod = nb_prod;
	s.nb_cons = nb_cons;
	s.per_prod = per_prod;
	s.bulk = bulk;
	s.deadline = now_ns() + STRESS_DEADLINE_NS;
	for (p = 0; p < nb_prod; p++) {
		s.seen[p] = calloc(per_prod, 1);
		assert_non_null(s.seen[p]);
	}
	for (c = 0; c < nb_cons; c++) {
		ca[c].s = &s;
		ca[c].id = c;
		assert_int_equal(
			pthread_create(&ct[c], NULL, stress_consumer, &ca[c]),
			0);
	}
	for (p = 0; p < nb_prod; p++) {
		pa[p].s = &s;
		pa[p].id = p;
		assert_int_equal(
			pthread_create(&pt[p], NULL, stress_producer, &pa[p]),
			0);
	}
	for (p = 0; p < nb_prod; p++)
		join_before(pt[p], s.deadline);
	for (c = 0; c < nb_cons; c++)
		join_before(ct[c], s.deadline);

	if (s.stop)
		fail_msg("stress: deadline of %llu s passed with %u of %u "
			 "values moved",
			 STRESS_DEADLINE_NS / 1000000000ull, s.consumed,
			 nb_prod * per_prod);
	for (c = 0; c < nb_cons; c++)
		assert_int_equal(s.errors[c], 0);
	for (p = 0; p < nb_prod; p++) {
		for (q = 0; q < per_prod; q++) {
			missing += s.seen[p][q] == 0;
			dup += s.seen[p][q] > 1;
		}
		free(s.seen[p]);
	}
	assert_int_equal(missing, 0);
	assert_int_equal(dup, 0);
	assert_int_equal(s.consumed, nb_prod * per_prod);
	assert_true(sl_ring_empty(s.r));
	sl_ring_free(s.r);
}

/* Two producers and two consumers on a multi-producer/consumer ring. */
static void
test_stress_mpmc(void **state)
{
	(void)state;
	run_stress(0, STRESS_PRODUCERS, STRESS_CONSUMERS, STRESS_PER_PRODUCER,
		   0);
}

/* The same with all-or-nothing calls. */
static void
test_stress_mpmc_bulk(void **state)
{
	(void)state;
	run_stress(0, STRESS_PRODUCERS, STRESS_CONSUMERS,
		   STRESS_PER_PRODUCER / 4, 1);
}

/* One producer, one consumer: every value arrives, in order. */
static void
test_stress_spsc_ordered(void **state)
{
	(void)state;
	run_stress(SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ, 1, 1,
		   8 * STRESS_PER_PRODUCER, 0);
}

/* Mixed: two producers into a single-consumer ring. */
static void
test_stress_mpsc(void **state)
{
	(void)state;
	run_stress(SL_RING_F_SC_DEQ, STRESS_PRODUCERS, 1,
		   STRESS_PER_PRODUCER / 2, 0);
}

/*
 * Contention on one side only: two producers (or two consumers) run at the
 * same time on a ring big enough for every value, so that their claims and
 * publications race on every call; each checks that the count only moves
 * one way, and every value is checked at the end.
 */
#define CONTENTION_VALUES (1u << 17) /* per thread */
#define CONTENTION_THREADS 2

struct contention {
	struct sl_ring *r;
	unsigned id;
	int *gop;      /* rendezvous counter, shared */
	uint32_t *log; /* consumer: values taken, in order */
	uint32_t nb_log;
	uint64_t deadline;
	int timeout;
	unsigned backwards; /* count seen moving the wrong way */
};

/*
 * Rendezvous of the threads under test: each waits until all have arrived,
 * so that the contended part starts with every thread on a CPU.
 */
static void
contention_wait_go(int *gop)
{
	__atomic_add_fetch(gop, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(gop, __ATOMIC_ACQUIRE) < CONTENTION_THREADS)
		sl_pause();
}

static void *
contention_producer(void *arg)
{
	struct contention *c = arg;
	uintptr_t base = (uintptr_t)(c->id + 1) << STRESS_ID_SHIFT;
	uint32_t seq = 0, seed = 3 + c->id;
	void *objs[STRESS_BURST];
	unsigned n, i, count, prev = 0;

	contention_wait_go(c->gop);
	while (seq < CONTENTION_VALUES) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		if (n > CONTENTION_VALUES - seq)
			n = CONTENTION_VALUES - seq;
		for (i = 0; i < n; i++)
			objs[i] = tag(base | (seq + i));
		/* the ring holds every value: a short count is a bug */
		if (sl_ring_enqueue_burst(c->r, objs, n, NULL) != n) {
			c->timeout = 1;
			break;
		}
		seq += n;
		/* with nobody dequeuing, the published count never drops */
		count = sl_ring_count(c->r);
		if (count < prev)
			c->backwards++;
		prev = count;
	}
	return NULL;
}

static void *
contention_consumer(void *arg)
{
	struct contention *c = arg;
	uint32_t seed = 11 + c->id, poll = 0;
	void *objs[STRESS_BURST];
	unsigned n, k, i, count, prev = UINT32_MAX;

	contention_wait_go(c->gop);
	for (;;) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		k = sl_ring_dequeue_burst(c->r, objs, n, NULL);
		/* with nobody enqueuing, the count never grows */
		count = sl_ring_count(c->r);
		if (count > prev)
			c->backwards++;
		prev = count;
		if (k == 0) {
			if (sl_ring_empty(c->r))
				break;
			if ((++poll & 1023) == 0 && now_ns() > c->deadline) {
				c->timeout = 1;
				break;
			}
			sched_yield(); /* the other consumer may be preempted */
			continue;
		}
		for (i = 0; i < k && c->nb_log < 2 * CONTENTION_VALUES; i++)
			c->log[c->nb_log++] = (uint32_t)(uintptr_t)objs[i];
	}
	return NULL;
}

/*
 * Check the logs of nb consumers: every value of producer p below
 * counts[p] was seen exactly once, and each consumer saw each producer's
 * values in order.
 */
static void
contention_check_counts(struct contention *c, unsigned nb,
			const uint32_t *counts)
{
	uint8_t *seen[CONTENTION_THREADS];
	uint32_t last[CONTENTION_THREADS];
	uint64_t total = 0, expect = 0, bad = 0, missing = 0;
	unsigned t, p;
	uint32_t i;

	for (p = 0; p < CONTENTION_THREADS; p++) {
		seen[p] = calloc(counts[p] + 1, 1);
		assert_non_null(seen[p]);
		expect += counts[p];
	}
	for (t = 0; t < nb; t++) {
		for (p = 0; p < CONTENTION_THREADS; p++)
			last[p] = UINT32_MAX;
		for (i = 0; i < c[t].nb_log; i++) {
			uint32_t v = c[t].log[i];
			uint32_t seq = v & ((1u << STRESS_ID_SHIFT) - 1);

			p = (v >> STRESS_ID_SHIFT) - 1;
			if (p >= CONTENTION_THREADS || seq >= counts[p] ||
			    seen[p][seq]++ != 0 ||
			    (last[p] != UINT32_MAX && seq <= last[p])) {
				bad++;
				continue;
			}
			last[p] = seq;
		}
		total += c[t].nb_log;
	}
	for (p = 0; p < CONTENTION_THREADS; p++) {
		for (i = 0; i < counts[p]; i++)
			missing += seen[p][i] == 0;
		free(seen[p]);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(missing, 0);
	assert_int_equal(total, expect);
}

/* As contention_check_counts() with CONTENTION_VALUES per producer. */
static void
contention_check(struct contention *c, unsigned nb)
{
	const uint32_t counts[CONTENTION_THREADS] = {CONTENTION_VALUES,
						     CONTENTION_VALUES};

	contention_check_counts(c, nb, counts);
}

/* One round of test_contention_two_producers(). */
static void
contention_producers_round(struct sl_ring *r, uint64_t deadline)
{
	struct contention c[CONTENTION_THREADS], drain;
	pthread_t t[CONTENTION_THREADS];
	void *objs[STRESS_BURST];
	unsigned i, k;
	int go = 0;

	/* sl_ring_create() touched the slots: no page fault in the race */

	memset(c, 0, sizeof(c));
	for (i = 0; i < CONTENTION_THREADS; i++) {
		c[i].r = r;
		c[i].id = i;
		c[i].gop = &go;
		assert_int_equal(
			pthread_create(&t[i], NULL, contention_producer, &c[i]),
			0);
	}
	/*
	 * The main thread only waits: waking up to poll would preempt a
	 * producer between its claim and its publication and leave the
	 * other one spinning for the rest of its time slice.
	 */
	for (i = 0; i < CONTENTION_THREADS; i++) {
		join_before(t[i], deadline);
		assert_int_equal(c[i].timeout, 0);
		assert_int_equal(c[i].backwards, 0);
	}
	assert_int_equal(sl_ring_count(r), 2 * CONTENTION_VALUES);
	/* drain in one thread and check */
	memset(&drain, 0, sizeof(drain));
	drain.log = malloc(2 * CONTENTION_VALUES * sizeof(uint32_t));
	assert_non_null(drain.log);
	while ((k = sl_ring_dequeue_burst(r, objs, STRESS_BURST, NULL)) > 0)
		for (i = 0; i < k; i++)
			drain.log[drain.nb_log++] =
				(uint32_t)(uintptr_t)objs[i];
	contention_check(&drain, 1);
	free(drain.log);
}

static void
test_contention_two_producers(void **state)
{
	uint64_t deadline = now_ns() + STRESS_DEADLINE_NS;
	struct sl_ring *r;

	(void)state;
	r = sl_ring_create("mp", 2 * CONTENTION_VALUES, 0);
	assert_non_null(r);
	contention_producers_round(r, deadline);
	sl_ring_free(r);
}

static void
test_contention_two_consumers(void **state)
{
	struct contention c[CONTENTION_THREADS];
	pthread_t t[CONTENTION_THREADS];
	void *objs[STRESS_BURST];
	unsigned i, p;
	int go = 0;
	uint32_t seq[CONTENTION_THREADS] = {0};
	uint64_t deadline = now_ns() + STRESS_DEADLINE_NS;
	struct sl_ring *r;

	(void)state;
	r = sl_ring_create("mc", 2 * CONTENTION_VALUES, 0);
	assert_non_null(r);
	/* interleave the two "producers" so both consumers see both */
	while (seq[0] < CONTENTION_VALUES || seq[1] < CONTENTION_VALUES) {
		p = (seq[0] + seq[1]) % 3 == 0 ? 1 : 0;
		if (seq[p] == CONTENTION_VALUES)
			p ^= 1;
		for (i = 0; i < STRESS_BURST && seq[p] < CONTENTION_VALUES; i++)
			objs[i] = tag(((uintptr_t)(p + 1) << STRESS_ID_SHIFT) |
				      seq[p]++);
		assert_int_equal(sl_ring_enqueue_bulk(r, objs, i, NULL), i);
	}
	memset(c, 0, sizeof(c));
	for (i = 0; i < CONTENTION_THREADS; i++) {
		c[i].r = r;
		c[i].id = i;
		c[i].gop = &go;
		c[i].deadline = deadline;
		c[i].log = malloc(2 * CONTENTION_VALUES * sizeof(uint32_t));
		assert_non_null(c[i].log);
		assert_int_equal(
			pthread_create(&t[i], NULL, contention_consumer, &c[i]),
			0);
	}
	for (i = 0; i < CONTENTION_THREADS; i++) {
		join_before(t[i], deadline);
		assert_int_equal(c[i].timeout, 0);
		assert_int_equal(c[i].backwards, 0);
	}
	assert_true(sl_ring_empty(r));
	contention_check(c, CONTENTION_THREADS);
	for (i = 0; i < CONTENTION_THREADS; i++)
		free(c[i].log);
	sl_ring_free(r);
}

/*
 * Two threads that both produce and consume on a small MP/MC ring: with
 * two cores, both sides of the ring are contended whenever both threads
 * run. The contended part lasts a fixed time rather than a fixed count, so
 * that on a busy machine it still sees many moments with both threads on
 * a CPU. Elements are 64 bytes, so that a copy lasts long enough for the
 * other thread to claim, publish and dequeue meanwhile. A tail published
 * past slots not yet written (or freed before they were read) shows up as
 * a value from an earlier lap (a duplicate or a missing value) or as a
 * torn element.
 */
#define SYM_BUDGET_NS (250ull * 1000000ull)
#define SYM_MAX_VALUES (1u << 23) /* per thread */

struct sym_elem {
	uint32_t tag;
	uint32_t fill[14];
	uint32_t tag2; /* == tag */
};

struct symmetric {
	struct sl_ring *r;
	unsigned id;
	int *gop;
	uint32_t *produced; /* shared: values enqueued by both threads */
	uint32_t *consumed; /* shared: values dequeued by both threads */
	int *done;	    /* shared: threads done producing */
	uint64_t **seen;    /* shared: one bit per value, per producer */
	uint32_t sent;	    /* values this thread enqueued */
	uint64_t errors;    /* torn, unknown, repeated or out of order */
	uint64_t deadline;
	int timeout;
};

/* Check one value taken by consumer t; last[] is its per-producer order. */
static void
symmetric_take(struct symmetric *t, const struct sym_elem *e, uint32_t *last)
{
	uint32_t seq = e->tag & ((1u << STRESS_ID_SHIFT) - 1);
	unsigned p = (e->tag >> STRESS_ID_SHIFT) - 1;
	uint64_t bit;

	if (e->tag != e->tag2 || p >= CONTENTION_THREADS ||
	    seq >= SYM_MAX_VALUES) {
		t->errors++;
		return;
	}
	bit = 1ull << (seq % 64);
	if (__atomic_fetch_or(&t->seen[p][seq / 64], bit, __ATOMIC_RELAXED) &
	    bit)
		t->errors++; /* seen before */
	if (last[p] != UINT32_MAX && seq <= last[p])
		t->errors++; /* out of order */
	last[p] = seq;
}

static void *
symmetric_thread(void *arg)
{
	struct symmetric *t = arg;
	uint32_t base = (uint32_t)(t->id + 1) << STRESS_ID_SHIFT;
	uint32_t seq = 0, seed = 23 + 7 * t->id, poll = 0;
	uint32_t last[CONTENTION_THREADS] = {UINT32_MAX, UINT32_MAX};
	struct sym_elem e[STRESS_BURST];
	uint64_t end;
	unsigned n, k, i, it = 0;
	bool producing = true;

	memset(e, 0, sizeof(e));
	contention_wait_go(t->gop);
	end = now_ns() + SYM_BUDGET_NS;
	for (;;) {
		if (producing && (seq == SYM_MAX_VALUES ||
				  ((++it & 63) == 0 && now_ns() > end))) {
			producing = false;
			__atomic_add_fetch(t->done, 1, __ATOMIC_ACQ_REL);
		}
		if (producing) {
			n = 1 + lcg(&seed) % STRESS_BURST;
			if (n > SYM_MAX_VALUES - seq)
				n = SYM_MAX_VALUES - seq;
			for (i = 0; i < n; i++)
				e[i].tag = e[i].tag2 = base | (seq + i);
			k = sl_ring_enqueue_burst_elem(t->r, e, sizeof(e[0]), n,
						       NULL);
			seq += k;
			__atomic_fetch_add(t->produced, k, __ATOMIC_RELAXED);
		} else if (__atomic_load_n(t->done, __ATOMIC_ACQUIRE) ==
				   CONTENTION_THREADS &&
			   __atomic_load_n(t->consumed, __ATOMIC_RELAXED) ==
				   __atomic_load_n(t->produced,
						   __ATOMIC_RELAXED)) {
			break; /* all produced, all consumed */
		}
		n = 1 + lcg(&seed) % STRESS_BURST;
		k = sl_ring_dequeue_burst_elem(t->r, e, sizeof(e[0]), n, NULL);
		for (i = 0; i < k; i++)
			symmetric_take(t, &e[i], last);
		__atomic_fetch_add(t->consumed, k, __ATOMIC_RELAXED);
		if (k == 0) {
			if ((++poll & 1023) == 0 && now_ns() > t->deadline) {
				t->timeout = 1;
				break;
			}
			if (!producing)
				sched_yield();
		}
	}
	t->sent = seq;
	return NULL;
}

static void
test_stress_mpmc_symmetric(void **state)
{
	struct symmetric t[CONTENTION_THREADS];
	pthread_t th[CONTENTION_THREADS];
	uint64_t *seen[CONTENTION_THREADS];
	uint64_t deadline = now_ns() + STRESS_DEADLINE_NS, missing = 0;
	uint32_t produced = 0, consumed = 0, q;
	int go = 0, done = 0;
	struct sl_ring *r;
	unsigned i;

	(void)state;
	r = sl_ring_create_elem("sym", 64, sizeof(struct sym_elem), 0);
	assert_non_null(r);
	for (i = 0; i < CONTENTION_THREADS; i++) {
		seen[i] = calloc(SYM_MAX_VALUES / 64, sizeof(uint64_t));
		assert_non_null(seen[i]);
	}
	memset(t, 0, sizeof(t));
	for (i = 0; i < CONTENTION_THREADS; i++) {
		t[i].r = r;
		t[i].id = i;
		t[i].gop = &go;
		t[i].produced = &produced;
		t[i].consumed = &consumed;
		t[i].done = &done;
		t[i].seen = seen;
		t[i].deadline = deadline;
		assert_int_equal(
			pthread_create(&th[i], NULL, symmetric_thread, &t[i]),
			0);
	}
	for (i = 0; i < CONTENTION_THREADS; i++) {
		join_before(th[i], deadline);
		assert_int_equal(t[i].timeout, 0);
		assert_int_equal(t[i].errors, 0);
		assert_true(t[i].sent > 0);
	}
	/* every value sent was seen */
	for (i = 0; i < CONTENTION_THREADS; i++) {
		for (q = 0; q < t[i].sent; q++)
			missing += !(seen[i][q / 64] >> (q % 64) & 1);
		free(seen[i]);
	}
	assert_int_equal(missing, 0);
	assert_int_equal(consumed, produced);
	assert_int_equal(produced, t[0].sent + t[1].sent);
	assert_true(sl_ring_empty(r));
	sl_ring_free(r);
}

/*
 * Ordered stress of 16-byte elements on an SP/SC ring: element i carries
 * (i, ~i), so a torn or stale copy is seen.
 */
struct elem16 {
	uint64_t seq;
	uint64_t inv;
};

struct stress16 {
	struct sl_ring *r;
	uint64_t deadline;
	uint64_t total;
	int stop;
	unsigned errors;
};

static void *
stress16_producer(void *arg)
{
	struct stress16 *s = arg;
	struct elem16 e[STRESS_BURST];
	uint64_t seq = 0;
	uint32_t seed = 5, poll = 0;
	unsigned n, k, i;

	while (seq < s->total && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		for (i = 0; i < n; i++) {
			e[i].seq = seq + i;
			e[i].inv = ~(seq + i);
		}
		if (n > s->total - seq)
			n = (unsigned)(s->total - seq);
		k = sl_ring_enqueue_burst_elem(s->r, e, sizeof(e[0]), n, NULL);
		seq += k;
		if (k == 0) {
			if ((++poll & 1023) == 0 && now_ns() > s->deadline)
				__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
			sched_yield();
		}
	}
	return NULL;
}

static void *
stress16_consumer(void *arg)
{
	struct stress16 *s = arg;
	struct elem16 e[STRESS_BURST];
	uint64_t seq = 0;
	uint32_t seed = 9, poll = 0;
	unsigned n, k, i;

	while (seq < s->total && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		n = 1 + lcg(&seed) % STRESS_BURST;
		k = sl_ring_dequeue_burst_elem(s->r, e, sizeof(e[0]), n, NULL);
		for (i = 0; i < k; i++, seq++)
			if (e[i].seq != seq || e[i].inv != ~seq)
				s->errors++;
		if (k == 0) {
			if ((++poll & 1023) == 0 && now_ns() > s->deadline)
				__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
			sched_yield();
		}
	}
	return NULL;
}

static void
test_stress_spsc_elem16(void **state)
{
	struct stress16 s;
	pthread_t p, c;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.r = sl_ring_create_elem("s16", 128, sizeof(struct elem16),
				  SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	assert_non_null(s.r);
	s.total = 1u << 21;
	s.deadline = now_ns() + STRESS_DEADLINE_NS;
	assert_int_equal(pthread_create(&c, NULL, stress16_consumer, &s), 0);
	assert_int_equal(pthread_create(&p, NULL, stress16_producer, &s), 0);
	join_before(p, s.deadline);
	join_before(c, s.deadline);
	if (s.stop)
		fail_msg("stress16: deadline passed");
	assert_int_equal(s.errors, 0);
	assert_true(sl_ring_empty(s.r));
	sl_ring_free(s.r);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_memsize),
		cmocka_unit_test(test_memsize_rejects_bad_args),
		cmocka_unit_test(test_create_rejects_bad_count),
		cmocka_unit_test(test_create_rejects_bad_esize),
		cmocka_unit_test(test_create_rejects_bad_name_and_flags),
		cmocka_unit_test(test_create_and_describe),
		cmocka_unit_test(test_init_on_caller_memory),
		cmocka_unit_test(test_init_rejects_bad_args),
		cmocka_unit_test(test_enqueue_dequeue_one),
		cmocka_unit_test_setup_teardown(test_bulk_all_or_nothing,
						ring8_setup, ring8_teardown),
		cmocka_unit_test_setup_teardown(test_burst_partial, ring8_setup,
						ring8_teardown),
		cmocka_unit_test(test_zero_objects),
		cmocka_unit_test(test_state_queries),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_wrap_esize_8),
		cmocka_unit_test(test_wrap_esize_16),
		cmocka_unit_test(test_wrap_esize_12),
		cmocka_unit_test(test_wrap_esize_20),
		cmocka_unit_test(test_wrap_esize_4_and_64),
		cmocka_unit_test(test_wrap_pointers),
		cmocka_unit_test(test_index_wrap_32bit),
#ifdef SL_DEBUG
		cmocka_unit_test(test_debug_esize_mismatch),
#endif
		cmocka_unit_test(test_stress_spsc_ordered),
		cmocka_unit_test(test_stress_spsc_elem16),
		cmocka_unit_test(test_stress_mpmc),
		cmocka_unit_test(test_stress_mpmc_bulk),
		cmocka_unit_test(test_stress_mpsc),
		cmocka_unit_test(test_contention_two_producers),
		cmocka_unit_test(test_contention_two_consumers),
		cmocka_unit_test(test_stress_mpmc_symmetric),
	};

	return cmocka_run_group_tests_name("ring", t, NULL, NULL);
}
