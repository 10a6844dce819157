/* Unit tests of the mempool: configuration checks, caller memory, bulk
 * semantics, exact statistics, index helpers, caches, a two-thread stress
 * and (SL_DEBUG builds) the double free and foreign pointer checks. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sluice/sl_mempool.h"
#include "sluice/sl_ring.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

/* SL_DEBUG build? Read before sl_log.h, which has a macro of that name. */
#ifdef SL_DEBUG
#define TEST_SL_DEBUG 1
#endif
#include "sluice/sl_log.h"

/* ---- helpers ---- */

static struct sl_mempool *
pool_new(uint32_t n, uint32_t obj_size, uint32_t cache)
{
	struct sl_mempool_cfg cfg = {
		.name = "test",
		.n = n,
		.obj_size = obj_size,
		.cache_size = cache,
		.flags = SL_MEMPOOL_F_NO_HUGE,
	};
	struct sl_mempool *mp = sl_mempool_create(&cfg);

	assert_non_null(mp);
	return mp;
}

static void
expect_einval(const struct sl_mempool_cfg *cfg)
{
	errno = 0;
	assert_null(sl_mempool_create(cfg));
	assert_int_equal(errno, EINVAL);
}

static void
stats_expect(const struct sl_mempool *mp, uint64_t gets, uint64_t puts,
	     uint64_t hits, uint64_t empty, uint64_t bad)
{
	struct sl_mempool_stats st;

	assert_int_equal(sl_mempool_stats_get(mp, &st), 0);
	assert_int_equal(st.gets, gets);
	assert_int_equal(st.puts, puts);
	assert_int_equal(st.cache_hits, hits);
	assert_int_equal(st.empty, empty);
	assert_int_equal(st.bad_puts, bad);
}

static int
reg_setup(void **state)
{
	(void)state;
	return sl_thread_register("test") >= 0 ? 0 : -1;
}

static int
reg_teardown(void **state)
{
	(void)state;
	sl_thread_unregister();
	return 0;
}

/* ---- configuration ---- */

static void
test_create_rejects_null_cfg(void **state)
{
	(void)state;
	expect_einval(NULL);
}

static void
test_create_rejects_bad_name(void **state)
{
	struct sl_mempool_cfg cfg = {.n = 16, .obj_size = 64};
	char longname[SL_MEMPOOL_NAMESIZE + 1];

	(void)state;
	cfg.name = NULL;
	expect_einval(&cfg);
	cfg.name = "";
	expect_einval(&cfg);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cfg.name = longname;
	expect_einval(&cfg);
	/* the longest allowed name works */
	longname[SL_MEMPOOL_NAMESIZE - 1] = '\0';
	cfg.flags = SL_MEMPOOL_F_NO_HUGE;
	struct sl_mempool *mp = sl_mempool_create(&cfg);
	assert_non_null(mp);
	assert_string_equal(sl_mempool_name(mp), longname);
	sl_mempool_destroy(mp);
}

static void
test_create_rejects_bad_n(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "n", .n = 0, .obj_size = 64};

	(void)state;
	expect_einval(&cfg);
	cfg.n = SL_MEMPOOL_MAX_OBJS + 1;
	expect_einval(&cfg);
}

static void
test_create_rejects_bad_obj_size(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "o", .n = 16};

	(void)state;
	cfg.obj_size = 0;
	expect_einval(&cfg);
	cfg.obj_size = 4; /* too small */
	expect_einval(&cfg);
	cfg.obj_size = 12; /* not a multiple of 8 */
	expect_einval(&cfg);
	cfg.obj_size = 65;
	expect_einval(&cfg);
}

static void
test_create_rejects_big_cache(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "c", .n = 4096, .obj_size = 64};

	(void)state;
	cfg.cache_size = SL_MEMPOOL_CACHE_MAX + 1;
	expect_einval(&cfg);
	cfg.n = 100;
	cfg.cache_size = 51; /* more than n / 2 */
	expect_einval(&cfg);
}

static void
test_create_rejects_bad_memory(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "m", .n = 16, .obj_size = 64};
	char *mem = aligned_alloc(64, 16 * 64);

	(void)state;
	assert_non_null(mem);
	cfg.addr = mem;
	cfg.len = 16 * 64 - 1; /* caller memory too small */
	expect_einval(&cfg);
	cfg.len = 0;
	expect_einval(&cfg);
	cfg.addr = mem + 4; /* misaligned */
	cfg.len = 15 * 64;
	cfg.n = 8;
	expect_einval(&cfg);
	cfg.addr = NULL; /* len without addr */
	cfg.len = 4096;
	expect_einval(&cfg);
	free(mem);
}

static void
test_create_rejects_bad_flags(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "f", .n = 16, .obj_size = 64};

	(void)state;
	cfg.flags = 0x80;
	expect_einval(&cfg);
	cfg.flags = SL_MEMPOOL_F_NO_HUGE | SL_MEMPOOL_F_HUGE_ONLY;
	expect_einval(&cfg);
}

static void
test_create_own_memory(void **state)
{
	struct sl_mempool_cfg cfg = {
		.name = "own", .n = 100, .obj_size = 72, .cache_size = 10};
	struct sl_mempool *mp;
	struct sl_memregion *mr;
	uint32_t i;

	(void)state;
	mp = sl_mempool_create(&cfg); /* hugepages or fallback */
	assert_non_null(mp);
	assert_string_equal(sl_mempool_name(mp), "own");
	assert_int_equal(sl_mempool_count(mp), 100);
	assert_int_equal(sl_mempool_obj_size(mp), 72);
	assert_int_equal(sl_mempool_cache_size(mp), 10);
	assert_int_equal(sl_mempool_avail_count(mp), 100);
	assert_int_equal(sl_mempool_in_use_count(mp), 0);
	mr = sl_mempool_memregion(mp);
	assert_non_null(mr);
	assert_true(mr->owned);
	assert_ptr_equal(mr->addr, sl_mempool_base(mp));
	assert_true(mr->len >= 100 * 72);
	/* own memory is zeroed and writable */
	for (i = 0; i < 100 * 72; i++)
		assert_int_equal(((char *)sl_mempool_base(mp))[i], 0);
	memset(sl_mempool_base(mp), 0xab, 100 * 72);
	stats_expect(mp, 0, 0, 0, 0, 0);
	sl_mempool_destroy(mp);
}

static void
test_create_huge_only(void **state)
{
	struct sl_mempool_cfg cfg = {.name = "huge",
				     .n = 64,
				     .obj_size = 2048,
				     .flags = SL_MEMPOOL_F_HUGE_ONLY};
	struct sl_mempool *mp;

	(void)state;
	errno = 0;
	mp = sl_mempool_create(&cfg);
	if (mp == NULL) {
		/* no hugepages on this machine: a clean ENOMEM */
		assert_int_equal(errno, ENOMEM);
		return;
	}
	assert_true(sl_mempool_memregion(mp)->hugepage);
	sl_mempool_destroy(mp);
}

static void
test_null_pool_accessors(void **state)
{
	struct sl_mempool_stats st;
	struct sl_mempool *mp = pool_new(8, 64, 0);

	(void)state;
	assert_null(sl_mempool_base(NULL));
	assert_int_equal(sl_mempool_obj_size(NULL), 0);
	assert_int_equal(sl_mempool_count(NULL), 0);
	assert_int_equal(sl_mempool_cache_size(NULL), 0);
	assert_null(sl_mempool_name(NULL));
	assert_null(sl_mempool_memregion(NULL));
	assert_int_equal(sl_mempool_avail_count(NULL), 0);
	assert_int_equal(sl_mempool_in_use_count(NULL), 0);
	assert_int_equal(sl_mempool_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(sl_mempool_stats_get(mp, NULL), -EINVAL);
	sl_mempool_cache_flush(NULL);
	sl_mempool_destroy(NULL);
	sl_mempool_destroy(mp);
}

/* ---- caller memory and object init ---- */

#define CM_N 32
#define CM_SZ 256

static void
test_caller_memory(void **state)
{
	size_t len = CM_N * CM_SZ + 512; /* room past the objects */
	unsigned char *mem = NULL;
	void *objs[CM_N], *extra;
	struct sl_mempool_cfg cfg = {
		.name = "umem", .n = CM_N, .obj_size = CM_SZ, .cache_size = 4};
	struct sl_mempool *mp;
	struct sl_memregion *mr;
	size_t i;
	unsigned j;

	(void)state;
	assert_int_equal(posix_memalign((void **)&mem, 4096, len), 0);
	for (i = 0; i < len; i++)
		mem[i] = (unsigned char)(i * 7 + 3);
	cfg.addr = mem;
	cfg.len = len;
	mp = sl_mempool_create(&cfg);
	assert_non_null(mp);
	assert_ptr_equal(sl_mempool_base(mp), mem);
	mr = sl_mempool_memregion(mp);
	assert_false(mr->owned);
	assert_ptr_equal(mr->addr, mem);
	/* the pool wrote nothing into the caller's memory */
	for (i = 0; i < len; i++)
		assert_int_equal(mem[i], (unsigned char)(i * 7 + 3));
	/* every object is object i of the memory, each handed out once */
	assert_int_equal(sl_mempool_get_bulk(mp, objs, CM_N), 0);
	for (j = 0; j < CM_N; j++) {
		uintptr_t off = (uintptr_t)objs[j] - (uintptr_t)mem;

		assert_true(off < CM_N * CM_SZ);
		assert_int_equal(off % CM_SZ, 0);
		/* fresh from the ring: in index order */
		assert_int_equal(off / CM_SZ, j);
	}
	assert_int_equal(sl_mempool_get(mp, &extra), -ENOBUFS);
	assert_int_equal(sl_mempool_in_use_count(mp), CM_N);
	sl_mempool_put_bulk(mp, objs, CM_N);
	assert_int_equal(sl_mempool_avail_count(mp), CM_N);
	sl_mempool_destroy(mp);
	/* still ours: the pool did not free or unmap it */
	memset(mem, 0, len);
	free(mem);
}

struct init_rec {
	uint32_t calls;
	uint32_t bad_order;
	struct sl_mempool *mp;
};

static void
obj_init_cb(struct sl_mempool *mp, void *obj, uint32_t idx, void *arg)
{
	struct init_rec *r = arg;

	if (idx != r->calls || obj != sl_mempool_obj_at(mp, idx))
		r->bad_order++;
	r->mp = mp;
	r->calls++;
	*(uint32_t *)obj = idx ^ 0x5a5a5a5au;
}

static void
test_obj_init(void **state)
{
	struct init_rec rec = {0};
	struct sl_mempool_cfg cfg = {.name = "init",
				     .n = 50,
				     .obj_size = 40,
				     .obj_init = obj_init_cb,
				     .obj_init_arg = &rec};
	struct sl_mempool *mp;
	uint32_t i;

	(void)state;
	mp = sl_mempool_create(&cfg);
	assert_non_null(mp);
	assert_int_equal(rec.calls, 50);
	assert_int_equal(rec.bad_order, 0);
	assert_ptr_equal(rec.mp, mp);
	for (i = 0; i < 50; i++)
		assert_int_equal(*(uint32_t *)sl_mempool_obj_at(mp, i),
				 i ^ 0x5a5a5a5au);
	sl_mempool_destroy(mp);
}

/* ---- get / put semantics ---- */

static void
bulk_all_or_nothing(void)
{
	struct sl_mempool *mp = pool_new(64, 64, 8);
	void *a[64], *b[16];
	unsigned i;

	assert_int_equal(sl_mempool_get_bulk(mp, a, 0), 0);
	sl_mempool_put_bulk(mp, a, 0);
	assert_int_equal(sl_mempool_get_bulk(mp, a, 60), 0);
	for (i = 0; i < SL_DIM(b); i++)
		b[i] = (void *)&b; /* sentinel */
	assert_int_equal(sl_mempool_get_bulk(mp, b, 8), -ENOBUFS);
	for (i = 0; i < SL_DIM(b); i++)
		assert_ptr_equal(b[i], (void *)&b); /* untouched */
	assert_int_equal(sl_mempool_get_bulk(mp, a + 60, 4), 0);
	assert_int_equal(sl_mempool_get(mp, &b[0]), -ENOBUFS);
	assert_ptr_equal(b[0], (void *)&b);
	assert_int_equal(sl_mempool_avail_count(mp), 0);
	assert_int_equal(sl_mempool_in_use_count(mp), 64);
	/* 64 distinct objects */
	for (i = 0; i < 64; i++)
		for (unsigned j = i + 1; j < 64; j++)
			assert_ptr_not_equal(a[i], a[j]);
	sl_mempool_put(mp, a[0]);
	sl_mempool_put_bulk(mp, a + 1, 63);
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	assert_int_equal(sl_mempool_in_use_count(mp), 0);
	/* every get used the ring: no cache hits, 2 failed gets */
	stats_expect(mp, 64, 64, 0, 2, 0);
	sl_mempool_destroy(mp);
}

/* unregistered thread: straight to the ring */
static void
test_bulk_all_or_nothing_shared(void **state)
{
	(void)state;
	assert_int_equal(sl_thread_id(), SL_THREAD_ID_NONE);
	bulk_all_or_nothing();
}

/* registered thread, cache 8 (room 16): the same results */
static void
test_bulk_all_or_nothing_cached(void **state)
{
	(void)state;
	assert_int_not_equal(sl_thread_id(), SL_THREAD_ID_NONE);
	bulk_all_or_nothing();
}

/* Exact counters for a scripted sequence on a cached thread:
 * n = 64, cache_size 8 (room 16). */
static void
test_stats_exact_cached(void **state)
{
	struct sl_mempool *mp = pool_new(64, 64, 8);
	void *a[65];

	(void)state;
	/* refill 12 from the ring, serve 4, keep 8 */
	assert_int_equal(sl_mempool_get_bulk(mp, a, 4), 0);
	stats_expect(mp, 4, 0, 0, 0, 0);
	assert_int_equal(sl_mempool_avail_count(mp), 60);
	/* 8 from the cache */
	assert_int_equal(sl_mempool_get_bulk(mp, a + 4, 8), 0);
	stats_expect(mp, 12, 0, 8, 0, 0);
	/* cache empty: refill 9, serve 1 */
	assert_int_equal(sl_mempool_get(mp, &a[12]), 0);
	stats_expect(mp, 13, 0, 8, 0, 0);
	assert_int_equal(sl_mempool_in_use_count(mp), 13);
	/* 8 + 13 > 16 and 13 > 16 - 8: straight to the ring */
	sl_mempool_put_bulk(mp, a, 13);
	stats_expect(mp, 13, 13, 8, 0, 0);
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	/* 8 from the cache, then 8 back into it */
	assert_int_equal(sl_mempool_get_bulk(mp, a, 8), 0);
	sl_mempool_put_bulk(mp, a, 8);
	stats_expect(mp, 21, 21, 16, 0, 0);
	/* more than the pool: fails, counted */
	assert_int_equal(sl_mempool_get_bulk(mp, a, 65), -ENOBUFS);
	stats_expect(mp, 21, 21, 16, 1, 0);
	/* the whole pool: 56 from the ring plus the 8 cached */
	assert_int_equal(sl_mempool_get_bulk(mp, a, 64), 0);
	stats_expect(mp, 85, 21, 16, 1, 0);
	assert_int_equal(sl_mempool_avail_count(mp), 0);
	assert_int_equal(sl_mempool_get(mp, &a[64]), -ENOBUFS);
	stats_expect(mp, 85, 21, 16, 2, 0);
	/* put 1 into the cache, get it back from the cache */
	sl_mempool_put(mp, a[63]);
	assert_int_equal(sl_mempool_get(mp, &a[63]), 0);
	stats_expect(mp, 86, 22, 17, 2, 0);
	sl_mempool_put_bulk(mp, a, 64);
	stats_expect(mp, 86, 86, 17, 2, 0);
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	sl_mempool_destroy(mp);
}

/* Exact counters on an unregistered thread (shared atomic counters). */
static void
test_stats_exact_shared(void **state)
{
	struct sl_mempool *mp = pool_new(64, 64, 8);
	void *a[70];

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 10), 0);
	assert_int_equal(sl_mempool_get_bulk(mp, a + 10, 60), -ENOBUFS);
	sl_mempool_put_bulk(mp, a, 10);
	assert_int_equal(sl_mempool_get_bulk(mp, a, 64), 0);
	assert_int_equal(sl_mempool_get(mp, &a[0]), -ENOBUFS);
	sl_mempool_put_bulk(mp, a, 64);
	stats_expect(mp, 74, 74, 0, 2, 0);
	sl_mempool_destroy(mp);
}

/* Bursts larger than the cache can stage, mixed with cached ones. */
static void
test_large_bursts_cached(void **state)
{
	struct sl_mempool *mp = pool_new(256, 64, 4); /* room 8 */
	void *a[256], *b[100];
	unsigned i, j;

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 3), 0);   /* cache 4 */
	assert_int_equal(sl_mempool_get_bulk(mp, b, 100), 0); /* 96 + 4 */
	assert_int_equal(sl_mempool_avail_count(mp), 153);
	sl_mempool_put_bulk(mp, b, 7);	    /* cache 7 */
	sl_mempool_put_bulk(mp, b + 7, 93); /* ring */
	sl_mempool_put_bulk(mp, a, 3);	    /* drain to 4, then 7 */
	assert_int_equal(sl_mempool_avail_count(mp), 256);
	assert_int_equal(sl_mempool_get_bulk(mp, a, 256), 0);
	for (i = 0; i < 256; i++) {
		assert_true(sl_mempool_contains(mp, a[i]));
		for (j = i + 1; j < 256; j++)
			assert_ptr_not_equal(a[i], a[j]);
	}
	sl_mempool_put_bulk(mp, a, 256);
	assert_int_equal(sl_mempool_avail_count(mp), 256);
	sl_mempool_destroy(mp);
}

/* A pool without caches on a registered thread uses the ring only. */
static void
test_no_cache_registered(void **state)
{
	struct sl_mempool *mp = pool_new(16, 64, 0);
	void *a[16];

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 16), 0);
	assert_int_equal(sl_mempool_get(mp, &a[0]), -ENOBUFS);
	sl_mempool_put_bulk(mp, a, 16);
	assert_int_equal(sl_mempool_get_bulk(mp, a, 1), 0);
	sl_mempool_put(mp, a[0]);
	stats_expect(mp, 17, 17, 0, 1, 0);
	sl_mempool_destroy(mp);
}

/* ---- addresses ---- */

static void
index_roundtrip(uint32_t n, uint32_t size)
{
	struct sl_mempool *mp = pool_new(n, size, 0);
	char *base = sl_mempool_base(mp);
	uint32_t i;

	for (i = 0; i < n; i++) {
		char *o = sl_mempool_obj_at(mp, i);

		assert_ptr_equal(o, base + (size_t)i * size);
		assert_int_equal(sl_mempool_obj_index(mp, o), i);
		assert_int_equal(sl_mempool_obj_index(mp, o + size - 1), i);
		assert_ptr_equal(sl_mempool_obj_from_addr(mp, o), o);
		assert_ptr_equal(sl_mempool_obj_from_addr(mp, o + 1), o);
		assert_ptr_equal(sl_mempool_obj_from_addr(mp, o + size / 2), o);
		assert_ptr_equal(sl_mempool_obj_from_addr(mp, o + size - 1), o);
		assert_true(sl_mempool_contains(mp, o + size - 1));
	}
	assert_false(sl_mempool_contains(mp, base - 1));
	assert_false(sl_mempool_contains(mp, base + (size_t)n * size));
	errno = 0;
	assert_null(sl_mempool_obj_from_addr(mp, base - 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_mempool_obj_from_addr(mp, base + (size_t)n * size));
	assert_int_equal(errno, EINVAL);
	assert_null(sl_mempool_obj_from_addr(mp, NULL));
	sl_mempool_destroy(mp);
}

static void
test_index_roundtrip_pow2(void **state)
{
	(void)state;
	index_roundtrip(64, 64);
	index_roundtrip(33, 2048);
}

static void
test_index_roundtrip_non_pow2(void **state)
{
	(void)state;
	index_roundtrip(77, 72);
	index_roundtrip(20, 1536);
	index_roundtrip(5, 8 * 1000003);
}

/* ---- caches ---- */

struct ring_get_arg {
	struct sl_mempool *mp;
	unsigned n;
	int ret;
};

/* unregistered helper thread: can it get n objects from the ring alone? */
static void *
ring_get_thread(void *p)
{
	struct ring_get_arg *a = p;
	void **objs = calloc(a->n, sizeof(void *));

	a->ret = sl_mempool_get_bulk(a->mp, objs, a->n);
	if (a->ret == 0)
		sl_mempool_put_bulk(a->mp, objs, a->n);
	free(objs);
	return NULL;
}

static int
ring_get_from_other_thread(struct sl_mempool *mp, unsigned n)
{
	struct ring_get_arg a = {.mp = mp, .n = n, .ret = 1};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, ring_get_thread, &a), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	return a.ret;
}

static void
test_cache_flush(void **state)
{
	struct sl_mempool *mp = pool_new(64, 64, 16);
	void *a[10];

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 10), 0);
	sl_mempool_put_bulk(mp, a, 10);
	/* this thread's cache holds objects: the ring alone has too few */
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	assert_int_equal(ring_get_from_other_thread(mp, 64), -ENOBUFS);
	sl_mempool_cache_flush(mp);
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	assert_int_equal(ring_get_from_other_thread(mp, 64), 0);
	/* flushing an empty cache is harmless */
	sl_mempool_cache_flush(mp);
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	stats_expect(mp, 74, 74, 0, 1, 0);
	sl_mempool_destroy(mp);
}

static void
test_cache_flush_unregistered(void **state)
{
	struct sl_mempool *mp = pool_new(64, 64, 16);
	void *a[10];

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 10), 0);
	sl_mempool_put_bulk(mp, a, 10);
	sl_mempool_cache_flush(mp); /* no cache: a no-op */
	assert_int_equal(sl_mempool_avail_count(mp), 64);
	assert_int_equal(sl_mempool_get_bulk(mp, a, 10), 0);
	sl_mempool_put_bulk(mp, a, 10);
	stats_expect(mp, 20, 20, 0, 0, 0);
	sl_mempool_destroy(mp);
}

/* ---- two-thread stress ---- */

#define ST_N 1024
#define ST_CACHE 32
#define ST_HELD 384
#define ST_XFER 256
#define ST_MAX_ITERS 2000000u
#define ST_RUN_NS 1000000000ull	      /* stop after 1 s */
#define ST_DEADLINE_NS 10000000000ull /* threads must be back by 10 s */

struct st_obj {
	uint64_t owner; /* 0 when free, else the holder's tag (atomic) */
	uint64_t mark;	/* holder's tag << 32 | index */
	uint64_t pad[6];
};

struct st_thread {
	struct sl_mempool *mp;
	struct sl_ring *out, *in; /* to and from the peer */
	uint64_t tag, peer_tag;
	uint64_t seed;
	const int *stop;
	void *held[ST_HELD];
	unsigned nheld;
	/* results */
	uint64_t iters, calls, gets, get_fails, sent, received, errors;
	uint32_t tid;
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t
st_mark(const struct st_thread *t, struct sl_mempool *mp, struct st_obj *o)
{
	return t->tag << 32 | sl_mempool_obj_index(mp, o);
}

/* take ownership of an object just got: it must have been free */
static void
st_claim(struct st_thread *t, struct st_obj *o)
{
	uint64_t expect = 0;

	if (!__atomic_compare_exchange_n(&o->owner, &expect, t->tag, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		t->errors++; /* handed out twice */
	o->mark = st_mark(t, t->mp, o);
}

/* check an object we hold is still ours and untouched */
static void
st_check(struct st_thread *t, struct st_obj *o)
{
	if (__atomic_load_n(&o->owner, __ATOMIC_ACQUIRE) != t->tag ||
	    o->mark != st_mark(t, t->mp, o))
		t->errors++;
}

static void
st_put(struct st_thread *t, unsigned k)
{
	unsigned i;

	for (i = t->nheld - k; i < t->nheld; i++) {
		struct st_obj *o = t->held[i];

		st_check(t, o);
		__atomic_store_n(&o->owner, 0, __ATOMIC_RELEASE);
	}
	t->nheld -= k;
	sl_mempool_put_bulk(t->mp, &t->held[t->nheld], k);
	t->calls++;
}

static void *
st_body(void *p)
{
	struct st_thread *t = p;
	void *tmp[64];
	unsigned burst, k, i;
	uint64_t r;

	t->tid = sl_thread_id();
	while (!__atomic_load_n(t->stop, __ATOMIC_ACQUIRE) &&
	       t->iters < ST_MAX_ITERS) {
		__atomic_store_n(&t->iters, t->iters + 1, __ATOMIC_RELAXED);
		r = xorshift(&t->seed);
		/* get a burst: mostly cached sizes, sometimes beyond the cache
		 */
		burst = (r & 0x1f) == 0 ? 1 + (unsigned)(r >> 8) % 160
					: 1 + (unsigned)(r >> 8) % 12;
		if (t->nheld + burst <= ST_HELD) {
			if (sl_mempool_get_bulk(t->mp, &t->held[t->nheld],
						burst) == 0) {
				for (i = 0; i < burst; i++)
					st_claim(t, t->held[t->nheld + i]);
				t->nheld += burst;
				t->gets += burst;
				t->calls++;
			} else {
				t->get_fails++;
			}
		}
		/* objects from the peer become ours */
		k = sl_ring_dequeue_burst(
			t->in, tmp, SL_MIN(64u, ST_HELD - t->nheld), NULL);
		for (i = 0; i < k; i++) {
			struct st_obj *o = tmp[i];

			if (__atomic_load_n(&o->owner, __ATOMIC_ACQUIRE) !=
			    t->tag)
				t->errors++;
			o->mark = st_mark(t, t->mp, o);
			t->held[t->nheld++] = o;
		}
		t->received += k;
		/* hand a few to the peer */
		if ((r >> 20) & 1) {
			unsigned want =
				SL_MIN(t->nheld, (unsigned)(r >> 24) % 8);

			for (i = 0; i < want; i++) {
				struct st_obj *o = t->held[t->nheld - 1 - i];

				st_check(t, o);
				__atomic_store_n(&o->owner, t->peer_tag,
						 __ATOMIC_RELEASE);
				tmp[i] = o;
			}
			k = sl_ring_enqueue_burst(t->out, tmp, want, NULL);
			for (i = k; i < want; i++) /* no room: keep them */
				__atomic_store_n(
					&((struct st_obj *)tmp[i])->owner,
					t->tag, __ATOMIC_RELEASE);
			/* the k sent are the top k of held */
			t->nheld -= k;
			t->sent += k;
		}
		/* put a burst back */
		burst = (r & 0x3e0) == 0 ? 1 + (unsigned)(r >> 32) % 160
					 : 1 + (unsigned)(r >> 32) % 12;
		st_put(t, SL_MIN(burst, t->nheld));
	}
	st_put(t, t->nheld);
	sl_mempool_cache_flush(t->mp);
	return NULL;
}

static void
test_stress_two_threads(void **state)
{
	struct sl_mempool *mp = pool_new(ST_N, sizeof(struct st_obj), ST_CACHE);
	struct sl_ring *ab = sl_ring_create(
		"st_ab", ST_XFER, SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	struct sl_ring *ba = sl_ring_create(
		"st_ba", ST_XFER, SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	static struct st_thread t[2];
	struct sl_mempool_stats st;
	pthread_t th[2];
	uint64_t start, got;
	void **all;
	int stop = 0;
	unsigned i, j, k;
	void *o;

	(void)state;
	assert_non_null(ab);
	assert_non_null(ba);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 2; i++) {
		t[i].mp = mp;
		t[i].out = i == 0 ? ab : ba;
		t[i].in = i == 0 ? ba : ab;
		t[i].tag = i + 1;
		t[i].peer_tag = 2 - i;
		t[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
		t[i].stop = &stop;
	}
	start = sl_time_ns();
	for (i = 0; i < 2; i++)
		assert_int_equal(sl_thread_create(&th[i], i ? "st1" : "st0", -1,
						  st_body, &t[i]),
				 0);
	/* run until both are done or 1 s has passed */
	while (sl_time_ns() - start < ST_RUN_NS &&
	       (__atomic_load_n(&t[0].iters, __ATOMIC_RELAXED) < ST_MAX_ITERS ||
		__atomic_load_n(&t[1].iters, __ATOMIC_RELAXED) <
			ST_MAX_ITERS)) {
		struct timespec ts = {0, 5000000};

		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		assert_int_equal(sl_thread_join(th[i], NULL), 0);
	assert_true(sl_time_ns() - start < ST_DEADLINE_NS);

	for (i = 0; i < 2; i++) {
		print_message("stress thread %u (id %u): %llu iterations, "
			      "%llu get/put calls, %llu objects got, %llu "
			      "failed gets, %llu passed, %llu received\n",
			      i, t[i].tid, (unsigned long long)t[i].iters,
			      (unsigned long long)t[i].calls,
			      (unsigned long long)t[i].gets,
			      (unsigned long long)t[i].get_fails,
			      (unsigned long long)t[i].sent,
			      (unsigned long long)t[i].received);
		assert_int_equal(t[i].errors, 0);
		assert_true(t[i].iters >= 1000);
		assert_true(t[i].tid < SL_MAX_THREADS);
	}
	assert_true(t[0].sent + t[1].sent > 0);
	assert_true(t[0].received + t[1].received > 0);
	/* objects still in the transfer rings go back from here */
	for (i = 0; i < 2; i++) {
		struct sl_ring *r = i == 0 ? ab : ba;

		while (sl_ring_dequeue(r, &o) == 0) {
			struct st_obj *so = o;

			assert_int_equal(so->owner, i == 0 ? 2 : 1);
			so->owner = 0;
			sl_mempool_put(mp, o);
		}
	}
	/* everything is back, in the ring (caches were flushed) */
	assert_int_equal(sl_mempool_avail_count(mp), ST_N);
	assert_int_equal(sl_mempool_stats_get(mp, &st), 0);
	assert_int_equal(st.gets, st.puts);
	assert_int_equal(st.bad_puts, 0);
	got = t[0].gets + t[1].gets;
	assert_int_equal(st.gets, got);
	all = calloc(ST_N, sizeof(void *));
	assert_non_null(all);
	assert_int_equal(sl_mempool_get_bulk(mp, all, ST_N), 0);
	{
		uint8_t *seen = calloc(ST_N, 1);

		assert_non_null(seen);
		for (k = 0; k < ST_N; k++) {
			j = sl_mempool_obj_index(mp, all[k]);
			assert_true(j < ST_N);
			assert_int_equal(seen[j], 0);
			seen[j] = 1;
			assert_int_equal(((struct st_obj *)all[k])->owner, 0);
		}
		free(seen);
	}
	sl_mempool_put_bulk(mp, all, ST_N);
	free(all);
	sl_ring_free(ab);
	sl_ring_free(ba);
	sl_mempool_destroy(mp);
}

/* ---- SL_DEBUG checks ---- */
#ifdef TEST_SL_DEBUG

static void
test_debug_double_free(void **state)
{
	struct sl_mempool *mp = pool_new(16, 64, 4);
	void *o, *p;

	(void)state;
	assert_int_equal(sl_mempool_get(mp, &o), 0);
	sl_mempool_put(mp, o);
	sl_mempool_put(mp, o); /* refused */
	stats_expect(mp, 1, 1, 0, 0, 1);
	assert_int_equal(sl_mempool_avail_count(mp), 16);
	/* the object is not in the pool twice: 16 distinct objects */
	{
		void *a[16];
		unsigned i, j;

		assert_int_equal(sl_mempool_get_bulk(mp, a, 16), 0);
		for (i = 0; i < 16; i++)
			for (j = i + 1; j < 16; j++)
				assert_ptr_not_equal(a[i], a[j]);
		assert_int_equal(sl_mempool_get(mp, &p), -ENOBUFS);
		sl_mempool_put_bulk(mp, a, 16);
	}
	sl_mempool_destroy(mp);
}

static void
test_debug_double_free_unregistered(void **state)
{
	struct sl_mempool *mp = pool_new(16, 64, 4);
	void *o;

	(void)state;
	assert_int_equal(sl_mempool_get(mp, &o), 0);
	sl_mempool_put(mp, o);
	sl_mempool_put(mp, o);
	stats_expect(mp, 1, 1, 0, 0, 1);
	assert_int_equal(sl_mempool_avail_count(mp), 16);
	sl_mempool_destroy(mp);
}

static void
test_debug_foreign_pointers(void **state)
{
	struct sl_mempool *mp = pool_new(16, 64, 4);
	struct sl_mempool *other = pool_new(16, 64, 4);
	uint64_t local = 0;
	void *o, *q;

	(void)state;
	assert_int_equal(sl_mempool_get(mp, &o), 0);
	assert_int_equal(sl_mempool_get(other, &q), 0);
	sl_mempool_put(mp, &local); /* outside the object area */
	sl_mempool_put(mp, NULL);
	sl_mempool_put(mp, (char *)o + 8); /* not an object start */
	sl_mempool_put(mp, q);		   /* another pool's object */
	stats_expect(mp, 1, 0, 0, 0, 4);
	assert_int_equal(sl_mempool_in_use_count(mp), 1);
	sl_mempool_put(mp, o);
	sl_mempool_put(other, q);
	stats_expect(mp, 1, 1, 0, 0, 4);
	assert_int_equal(sl_mempool_avail_count(mp), 16);
	sl_mempool_destroy(other);
	sl_mempool_destroy(mp);
}

/* a bulk put with bad entries keeps the good ones */
static void
test_debug_bulk_mixed(void **state)
{
	struct sl_mempool *mp = pool_new(256, 64, 8);
	void *a[200], *put[220];
	uint64_t local;
	unsigned i, k = 0;

	(void)state;
	assert_int_equal(sl_mempool_get_bulk(mp, a, 200), 0);
	sl_mempool_put(mp, a[5]); /* a[5] is free from here */
	for (i = 0; i < 200; i++) {
		put[k++] = a[i];
		if (i == 3)
			put[k++] = &local;
		if (i == 100)
			put[k++] = a[100]; /* twice in one bulk */
		if (i == 150)
			put[k++] = (char *)a[0] + 1;
	}
	sl_mempool_put_bulk(mp, put, k);
	/* bad: &local, a[5] (already free), 2nd a[100], a[0] + 1 */
	stats_expect(mp, 200, 200, 0, 0, 4);
	assert_int_equal(sl_mempool_avail_count(mp), 256);
	assert_int_equal(sl_mempool_in_use_count(mp), 0);
	sl_mempool_destroy(mp);
}
#endif /* TEST_SL_DEBUG */

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_create_rejects_null_cfg),
		cmocka_unit_test(test_create_rejects_bad_name),
		cmocka_unit_test(test_create_rejects_bad_n),
		cmocka_unit_test(test_create_rejects_bad_obj_size),
		cmocka_unit_test(test_create_rejects_big_cache),
		cmocka_unit_test(test_create_rejects_bad_memory),
		cmocka_unit_test(test_create_rejects_bad_flags),
		cmocka_unit_test(test_create_own_memory),
		cmocka_unit_test(test_create_huge_only),
		cmocka_unit_test(test_null_pool_accessors),
		cmocka_unit_test(test_caller_memory),
		cmocka_unit_test(test_obj_init),
		cmocka_unit_test(test_bulk_all_or_nothing_shared),
		cmocka_unit_test_setup_teardown(test_bulk_all_or_nothing_cached,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_stats_exact_cached,
						reg_setup, reg_teardown),
		cmocka_unit_test(test_stats_exact_shared),
		cmocka_unit_test_setup_teardown(test_large_bursts_cached,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_no_cache_registered,
						reg_setup, reg_teardown),
		cmocka_unit_test(test_index_roundtrip_pow2),
		cmocka_unit_test(test_index_roundtrip_non_pow2),
		cmocka_unit_test_setup_teardown(test_cache_flush, reg_setup,
						reg_teardown),
		cmocka_unit_test(test_cache_flush_unregistered),
		cmocka_unit_test(test_stress_two_threads),
#ifdef TEST_SL_DEBUG
		cmocka_unit_test_setup_teardown(test_debug_double_free,
						reg_setup, reg_teardown),
		cmocka_unit_test(test_debug_double_free_unregistered),
		cmocka_unit_test_setup_teardown(test_debug_foreign_pointers,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_debug_bulk_mixed,
						reg_setup, reg_teardown),
#endif
	};

	/* keep the expected error lines of the negative tests short */
	(void)sl_log_set_level(NULL, SL_LOG_ERR);
	return cmocka_run_group_tests_name("mempool", t, NULL, NULL);
}
