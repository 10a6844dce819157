/*
 * Unit tests of the FIB: arguments and limits, edge cases of both families
 * (default routes, host routes, /24-/25 boundaries, nesting, deletes that
 * restore the covering route, group exhaustion), grace periods, a
 * randomized comparison of at least 100 000 routes per family against a
 * naive reference (a linear scan for the longest match), and a concurrent
 * stress test: a writer adds and deletes routes while readers look up and
 * check every answer.
 *
 * The random generator's seed is printed; SL_TEST_SEED=<n> repeats a run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/sl_fib.h>

/* the stress test's white-box reader walks the tables itself */
#include "../../lib/fib/fib_private.h"

__extension__ typedef unsigned __int128 u128;

#define DFLT_NH 0xdeadbeefu

/* ---- helpers ------------------------------------------------------------ */

static uint64_t seed;

/* splitmix64: small, good enough, and each thread can have its own state */
static uint64_t
rnd_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng;

static uint64_t
rnd(void)
{
	return rnd_next(&rng);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static u128
rnd128(void)
{
	return (u128)rnd() << 64 | rnd();
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Mask of the first depth bits of a 128-bit key. */
static u128
mask128(unsigned depth)
{
	return depth == 0 ? 0 : ~(u128)0 << (128 - depth);
}

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static void
key_to_ip6(u128 k, uint8_t ip[16])
{
	int i;

	for (i = 15; i >= 0; i--) {
		ip[i] = (uint8_t)k;
		k >>= 8;
	}
}

/* An IPv6 address from its first 64 bits (the rest zero). */
static void
ip6_hi(uint8_t ip[16], uint64_t hi)
{
	key_to_ip6((u128)hi << 64, ip);
}

/* Reseed the test's generator at the start of each test, from the seed. */
static int
reseed(void **state)
{
	(void)state;
	rng = seed;
	return 0;
}

static void
join_before(pthread_t t, uint64_t deadline)
{
	struct timespec ts;
	uint64_t left = deadline > now_ns() ? deadline - now_ns() : 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	left += (uint64_t)ts.tv_nsec + 5000000000ull; /* grace */
	ts.tv_sec += (time_t)(left / 1000000000ull);
	ts.tv_nsec = (long)(left % 1000000000ull);
	if (pthread_timedjoin_np(t, NULL, &ts) != 0)
		fail_msg("a thread is still running after the deadline");
}

/* ---- the two families behind one interface, keys as 128-bit values ------ */

/*
 * An IPv4 address or prefix is the key's top 32 bits (key = ip << 96), so
 * the randomized and stress tests run the same code on both families.
 */
struct fam {
	const char *name;
	unsigned maxlen;
	void *(*create)(const char *name, const struct sl_fib_conf *c);
	void (*destroy)(void *fib);
	int (*add)(void *fib, u128 key, unsigned depth, uint32_t nh);
	int (*del)(void *fib, u128 key, unsigned depth);
	int (*get)(void *fib, u128 key, unsigned depth, uint32_t *nh);
	uint32_t (*lookup)(void *fib, u128 addr);
	void (*bulk)(void *fib, const u128 *addrs, uint32_t *nh, unsigned n);
	int (*reclaim)(void *fib);
	int (*stats)(void *fib, struct sl_fib_stats *st);
};

static void *
f4_create(const char *name, const struct sl_fib_conf *c)
{
	return sl_fib4_create(name, c);
}
static void
f4_destroy(void *fib)
{
	sl_fib4_free(fib);
}
static int
f4_add(void *fib, u128 key, unsigned depth, uint32_t nh)
{
	return sl_fib4_add(fib, (uint32_t)(key >> 96), (uint8_t)depth, nh);
}
static int
f4_del(void *fib, u128 key, unsigned depth)
{
	return sl_fib4_delete(fib, (uint32_t)(key >> 96), (uint8_t)depth);
}
static int
f4_get(void *fib, u128 key, unsigned depth, uint32_t *nh)
{
	return sl_fib4_get(fib, (uint32_t)(key >> 96), (uint8_t)depth, nh);
}
static uint32_t
f4_lookup(void *fib, u128 addr)
{
	return sl_fib4_lookup(fib, (uint32_t)(addr >> 96));
}
static void
f4_bulk(void *fib, const u128 *addrs, uint32_t *nh, unsigned n)
{
	uint32_t ips[256];
	unsigned i;

	assert_true(n <= 256);
	for (i = 0; i < n; i++)
		ips[i] = (uint32_t)(addrs[i] >> 96);
	sl_fib4_lookup_bulk(fib, ips, nh, n);
}
static int
f4_reclaim(void *fib)
{
	return sl_fib4_reclaim(fib);
}
static int
f4_stats(void *fib, struct sl_fib_stats *st)
{
	return sl_fib4_stats(fib, st);
}

static void *
f6_create(const char *name, const struct sl_fib_conf *c)
{
	return sl_fib6_create(name, c);
}
static void
f6_destroy(void *fib)
{
	sl_fib6_free(fib);
}
static int
f6_add(void *fib, u128 key, unsigned depth, uint32_t nh)
{
	uint8_t ip[16];

	key_to_ip6(key, ip);
	return sl_fib6_add(fib, ip, (uint8_t)depth, nh);
}
static int
f6_del(void *fib, u128 key, unsigned depth)
{
	uint8_t ip[16];

	key_to_ip6(key, ip);
	return sl_fib6_delete(fib, ip, (uint8_t)depth);
}
static int
f6_get(void *fib, u128 key, unsigned depth, uint32_t *nh)
{
	uint8_t ip[16];

	key_to_ip6(key, ip);
	return sl_fib6_get(fib, ip, (uint8_t)depth, nh);
}
static uint32_t
f6_lookup(void *fib, u128 addr)
{
	uint8_t ip[16];

	key_to_ip6(addr, ip);
	return sl_fib6_lookup(fib, ip);
}
static void
f6_bulk(void *fib, const u128 *addrs, uint32_t *nh, unsigned n)
{
	uint8_t ips[256][16];
	unsigned i;

	assert_true(n <= 256);
	for (i = 0; i < n; i++)
		key_to_ip6(addrs[i], ips[i]);
	sl_fib6_lookup_bulk(fib, (const uint8_t(*)[16])ips, nh, n);
}
static int
f6_reclaim(void *fib)
{
	return sl_fib6_reclaim(fib);
}
static int
f6_stats(void *fib, struct sl_fib_stats *st)
{
	return sl_fib6_stats(fib, st);
}

static const struct fam fam4 = {
	.name = "ipv4",
	.maxlen = 32,
	.create = f4_create,
	.destroy = f4_destroy,
	.add = f4_add,
	.del = f4_del,
	.get = f4_get,
	.lookup = f4_lookup,
	.bulk = f4_bulk,
	.reclaim = f4_reclaim,
	.stats = f4_stats,
};

static const struct fam fam6 = {
	.name = "ipv6",
	.maxlen = 128,
	.create = f6_create,
	.destroy = f6_destroy,
	.add = f6_add,
	.del = f6_del,
	.get = f6_get,
	.lookup = f6_lookup,
	.bulk = f6_bulk,
	.reclaim = f6_reclaim,
	.stats = f6_stats,
};

static struct sl_fib_stats
stats_of(const struct fam *f, void *fib)
{
	struct sl_fib_stats st;

	assert_int_equal(f->stats(fib, &st), 0);
	return st;
}

/* ---- arguments and limits
 * ---------------------------------------------------- */

static void
test_create_args(void **state)
{
	struct sl_fib_conf c = {0};

	(void)state;
	errno = 0;
	assert_null(sl_fib4_create(NULL, &c));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(
		sl_fib6_create("a-name-that-is-much-too-long-for-a-fib", &c));
	assert_int_equal(errno, EINVAL);
	c.flags = 0x80;
	errno = 0;
	assert_null(sl_fib4_create("badflag", &c));
	assert_int_equal(errno, EINVAL);
	c.flags = SL_FIB_F_COMPACT;
	c.default_nh = SL_FIB_COMPACT_NH_MAX + 1;
	errno = 0;
	assert_null(sl_fib4_create("bignh", &c));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_fib6_create("bignh", &c));
	assert_int_equal(errno, EINVAL);
	memset(&c, 0, sizeof(c));
	c.num_tbl8 = SL_FIB_TBL8_MAX + 1;
	errno = 0;
	assert_null(sl_fib4_create("tbl8", &c));
	assert_int_equal(errno, EINVAL);
	c.num_tbl8 = 0;
	c.max_routes = SL_FIB_ROUTES_MAX + 1;
	errno = 0;
	assert_null(sl_fib6_create("routes", &c));
	assert_int_equal(errno, EINVAL);
	/* NULL is a no-op for free */
	sl_fib4_free(NULL);
	sl_fib6_free(NULL);
}

static void
test_defaults(void **state)
{
	struct sl_fib_stats st;
	struct sl_fib4 *f4;
	struct sl_fib6 *f6;
	uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};

	(void)state;
	f4 = sl_fib4_create("dflt4", NULL);
	assert_non_null(f4);
	assert_int_equal(sl_fib4_stats(f4, &st), 0);
	assert_int_equal(st.max_routes, SL_FIB_DEFAULT_ROUTES);
	assert_int_equal(st.tbl8_total, SL_FIB4_DEFAULT_TBL8);
	assert_int_equal(st.tbl8_free, SL_FIB4_DEFAULT_TBL8);
	assert_int_equal(st.entry_size, 8);
	assert_int_equal(st.routes, 0);
	assert_int_equal(sl_fib4_lookup(f4, ip4(10, 0, 0, 1)), 0);
	sl_fib4_free(f4);
	f6 = sl_fib6_create("dflt6", NULL);
	assert_non_null(f6);
	assert_int_equal(sl_fib6_stats(f6, &st), 0);
	assert_int_equal(st.tbl8_total, SL_FIB6_DEFAULT_TBL8);
	assert_int_equal(sl_fib6_lookup(f6, ip), 0);
	sl_fib6_free(f6);
}

static void
test_update_args(void **state)
{
	struct sl_fib_conf c = {.default_nh = 5, .flags = SL_FIB_F_COMPACT};
	struct sl_fib_stats st;
	uint8_t ip[16] = {0};
	struct sl_fib4 *f4;
	struct sl_fib6 *f6;
	uint32_t nh;

	(void)state;
	assert_int_equal(sl_fib4_add(NULL, 0, 8, 1), -EINVAL);
	assert_int_equal(sl_fib4_delete(NULL, 0, 8), -EINVAL);
	assert_int_equal(sl_fib4_get(NULL, 0, 8, &nh), -EINVAL);
	assert_int_equal(sl_fib4_reclaim(NULL), -EINVAL);
	assert_int_equal(sl_fib4_stats(NULL, &st), -EINVAL);
	assert_int_equal(sl_fib6_add(NULL, ip, 8, 1), -EINVAL);
	assert_int_equal(sl_fib6_delete(NULL, ip, 8), -EINVAL);
	assert_int_equal(sl_fib6_reclaim(NULL), -EINVAL);

	f4 = sl_fib4_create("args4", &c);
	assert_non_null(f4);
	assert_int_equal(sl_fib4_add(f4, 0, 33, 1), -EINVAL);
	assert_int_equal(sl_fib4_delete(f4, 0, 33), -EINVAL);
	assert_int_equal(sl_fib4_get(f4, 0, 33, &nh), -EINVAL);
	assert_int_equal(sl_fib4_stats(f4, NULL), -EINVAL);
	/* compact: 31-bit next hops */
	assert_int_equal(
		sl_fib4_add(f4, ip4(10, 0, 0, 0), 8, SL_FIB_COMPACT_NH_MAX + 1),
		-EINVAL);
	assert_int_equal(
		sl_fib4_add(f4, ip4(10, 0, 0, 0), 8, SL_FIB_COMPACT_NH_MAX), 0);
	assert_int_equal(sl_fib4_lookup(f4, ip4(10, 9, 9, 9)),
			 SL_FIB_COMPACT_NH_MAX);
	assert_int_equal(sl_fib4_delete(f4, ip4(11, 0, 0, 0), 8), -ENOENT);
	assert_int_equal(sl_fib4_get(f4, ip4(11, 0, 0, 0), 8, &nh), -ENOENT);
	assert_int_equal(sl_fib4_stats(f4, &st), 0);
	assert_int_equal(st.entry_size, 4);
	assert_int_equal(st.routes, 1);
	sl_fib4_free(f4);

	f6 = sl_fib6_create("args6", &c);
	assert_non_null(f6);
	assert_int_equal(sl_fib6_add(f6, NULL, 8, 1), -EINVAL);
	assert_int_equal(sl_fib6_add(f6, ip, 129, 1), -EINVAL);
	assert_int_equal(sl_fib6_delete(f6, ip, 129), -EINVAL);
	assert_int_equal(sl_fib6_get(f6, ip, 129, &nh), -EINVAL);
	assert_int_equal(sl_fib6_get(f6, NULL, 1, &nh), -EINVAL);
	assert_int_equal(sl_fib6_add(f6, ip, 1, SL_FIB_COMPACT_NH_MAX + 1),
			 -EINVAL);
	assert_int_equal(sl_fib6_delete(f6, ip, 1), -ENOENT);
	sl_fib6_free(f6);
}

/* 8-byte entries carry every 32-bit next hop, default included. */
static void
test_full_width_nh(void **state)
{
	struct sl_fib_conf c = {.default_nh = UINT32_MAX};
	uint32_t ips[3], nh[3];
	struct sl_fib4 *f4;
	struct sl_fib6 *f6;
	uint8_t ip[16];

	(void)state;
	f4 = sl_fib4_create("wide4", &c);
	assert_non_null(f4);
	assert_int_equal(sl_fib4_lookup(f4, 1), UINT32_MAX);
	assert_int_equal(sl_fib4_add(f4, ip4(10, 0, 0, 0), 8, 0x80000000u), 0);
	assert_int_equal(sl_fib4_add(f4, ip4(10, 1, 1, 128), 25, 0xfffffffeu),
			 0);
	ips[0] = ip4(10, 2, 3, 4);
	ips[1] = ip4(10, 1, 1, 200);
	ips[2] = ip4(11, 0, 0, 0);
	sl_fib4_lookup_bulk(f4, ips, nh, 3);
	assert_int_equal(nh[0], 0x80000000u);
	assert_int_equal(nh[1], 0xfffffffeu);
	assert_int_equal(nh[2], UINT32_MAX);
	sl_fib4_free(f4);

	f6 = sl_fib6_create("wide6", &c);
	assert_non_null(f6);
	ip6_hi(ip, UINT64_C(0x20010db800000000));
	assert_int_equal(sl_fib6_add(f6, ip, 32, 0xffff0000u), 0);
	ip6_hi(ip, UINT64_C(0x20010db812345678));
	assert_int_equal(sl_fib6_lookup(f6, ip), 0xffff0000u);
	ip6_hi(ip, UINT64_C(0x20010db900000000));
	assert_int_equal(sl_fib6_lookup(f6, ip), UINT32_MAX);
	sl_fib6_free(f6);
}

/* ---- edge cases: IPv4 -------------------------------------------------------
 */

static void
test_v4_edges(void **state)
{
	struct sl_fib_conf c = {.default_nh = DFLT_NH, .num_tbl8 = 64};
	struct sl_fib4 *f;
	struct sl_fib_stats st;
	uint32_t nh, i;

	(void)state;
	f = sl_fib4_create("edges4", &c);
	assert_non_null(f);

	/* /0: everything, then nothing again */
	assert_int_equal(sl_fib4_add(f, ip4(1, 2, 3, 4), 0, 100), 0);
	assert_int_equal(sl_fib4_get(f, 0, 0, &nh), 0);
	assert_int_equal(nh, 100);
	assert_int_equal(sl_fib4_lookup(f, 0), 100);
	assert_int_equal(sl_fib4_lookup(f, UINT32_MAX), 100);

	/* nested /8 /16 /24 /25 /32 */
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 0, 0), 8, 8), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 1, 0, 0), 16, 16), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 1, 2, 0), 24, 24), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 1, 2, 128), 25, 25), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 1, 2, 200), 32, 32), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 200)), 32);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 201)), 25);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 128)), 25);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 127)), 24);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 0)), 24);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 3, 0)), 16);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 2, 0, 0)), 8);
	assert_int_equal(sl_fib4_lookup(f, ip4(11, 0, 0, 0)), 100);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.routes, 6);
	assert_int_equal(st.tbl8_used, 1);

	/* delete the /24 under the /25: the group keeps /16 below .128 */
	assert_int_equal(sl_fib4_delete(f, ip4(10, 1, 2, 0), 24), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 5)), 16);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 130)), 25);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 200)), 32);
	/* a shorter route added later does not hide longer ones */
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 0, 0), 12, 12), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 5)), 16);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 200)), 32);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 2, 2, 5)), 12);
	assert_int_equal(sl_fib4_delete(f, ip4(10, 1, 0, 0), 16), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 5)), 12);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 1, 5)), 12);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 16, 3, 5)), 8);
	/* the /25 and /32 gone: the group folds back */
	assert_int_equal(sl_fib4_delete(f, ip4(10, 1, 2, 200), 32), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 200)), 25);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 1);
	assert_int_equal(sl_fib4_delete(f, ip4(10, 1, 2, 128), 25), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 2, 200)), 12);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 0);
	assert_int_equal(st.tbl8_retired, 1);
	assert_int_equal(sl_fib4_reclaim(f), 1);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_free, 64);

	/* host bits are ignored; a re-add changes the next hop */
	assert_int_equal(sl_fib4_add(f, ip4(10, 77, 1, 2), 8, 88), 0);
	assert_int_equal(sl_fib4_get(f, ip4(10, 0, 0, 0), 8, &nh), 0);
	assert_int_equal(nh, 88);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 200, 0, 1)), 88);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 0, 1)), 12);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.routes, 3);

	/* /32 host routes at both ends of the space */
	assert_int_equal(sl_fib4_add(f, 0, 32, 1), 0);
	assert_int_equal(sl_fib4_add(f, UINT32_MAX, 32, 2), 0);
	assert_int_equal(sl_fib4_lookup(f, 0), 1);
	assert_int_equal(sl_fib4_lookup(f, 1), 100);
	assert_int_equal(sl_fib4_lookup(f, UINT32_MAX), 2);
	assert_int_equal(sl_fib4_lookup(f, UINT32_MAX - 1), 100);

	/* a /24 over a group: only the group's /24-or-shorter entries */
	assert_int_equal(sl_fib4_add(f, ip4(192, 168, 1, 64), 26, 26), 0);
	assert_int_equal(sl_fib4_add(f, ip4(192, 168, 1, 0), 24, 240), 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(sl_fib4_lookup(f, ip4(192, 168, 1, i)),
				 i >= 64 && i < 128 ? 26 : 240);
	assert_int_equal(sl_fib4_delete(f, ip4(192, 168, 1, 0), 24), 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(sl_fib4_lookup(f, ip4(192, 168, 1, i)),
				 i >= 64 && i < 128 ? 26 : 100);

	/* /0 gone: the default next hop again */
	assert_int_equal(sl_fib4_delete(f, 0, 0), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(192, 168, 1, 1)), DFLT_NH);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 1, 0, 1)), 12);
	sl_fib4_free(f);
}

/* Exhausting the groups: -ENOSPC leaves the FIB unchanged. */
static void
test_v4_tbl8_exhaustion(void **state)
{
	struct sl_fib_conf c = {.default_nh = DFLT_NH, .num_tbl8 = 4};
	struct sl_fib_stats st;
	struct sl_fib4 *f;
	uint32_t i, nh;

	(void)state;
	f = sl_fib4_create("full4", &c);
	assert_non_null(f);
	for (i = 0; i < 4; i++)
		assert_int_equal(sl_fib4_add(f, ip4(10, 0, i, 0), 25, i), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 9, 0), 25, 9), -ENOSPC);
	assert_int_equal(sl_fib4_get(f, ip4(10, 0, 9, 0), 25, &nh), -ENOENT);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 0, 9, 1)), DFLT_NH);
	/* a route in a /24 that has a group needs no new one */
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 1, 128), 25, 11), 0);
	/* /24 and shorter routes need no group */
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 9, 0), 24, 24), 0);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 4);
	assert_int_equal(st.tbl8_free, 0);
	assert_int_equal(st.routes, 6);
	/* a freed group waits for sl_fib4_reclaim() (no QSBR domain) */
	assert_int_equal(sl_fib4_delete(f, ip4(10, 0, 0, 0), 25), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 9, 0), 25, 9), -ENOSPC);
	assert_int_equal(sl_fib4_reclaim(f), 1);
	assert_int_equal(sl_fib4_reclaim(f), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 9, 0), 25, 9), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 0, 9, 1)), 9);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 0, 9, 129)), 24);
	assert_int_equal(sl_fib4_lookup(f, ip4(10, 0, 0, 1)), DFLT_NH);
	sl_fib4_free(f);
}

static void
test_max_routes(void **state)
{
	struct sl_fib_conf c = {.max_routes = 3};
	struct sl_fib4 *f;
	struct sl_fib6 *f6;
	uint8_t ip[16] = {0x20, 0x01};

	(void)state;
	f = sl_fib4_create("max4", &c);
	assert_non_null(f);
	assert_int_equal(sl_fib4_add(f, ip4(1, 0, 0, 0), 8, 1), 0);
	assert_int_equal(sl_fib4_add(f, ip4(2, 0, 0, 0), 8, 2), 0);
	assert_int_equal(sl_fib4_add(f, ip4(3, 0, 0, 0), 8, 3), 0);
	assert_int_equal(sl_fib4_add(f, ip4(4, 0, 0, 0), 8, 4), -ENOSPC);
	assert_int_equal(sl_fib4_lookup(f, ip4(4, 0, 0, 1)), 0);
	/* changing an existing route's next hop still works */
	assert_int_equal(sl_fib4_add(f, ip4(3, 0, 0, 0), 8, 33), 0);
	assert_int_equal(sl_fib4_lookup(f, ip4(3, 0, 0, 1)), 33);
	assert_int_equal(sl_fib4_delete(f, ip4(1, 0, 0, 0), 8), 0);
	assert_int_equal(sl_fib4_add(f, ip4(4, 0, 0, 0), 8, 4), 0);
	sl_fib4_free(f);

	f6 = sl_fib6_create("max6", &c);
	assert_non_null(f6);
	assert_int_equal(sl_fib6_add(f6, ip, 16, 1), 0);
	assert_int_equal(sl_fib6_add(f6, ip, 17, 1), 0);
	assert_int_equal(sl_fib6_add(f6, ip, 18, 1), 0);
	assert_int_equal(sl_fib6_add(f6, ip, 19, 1), -ENOSPC);
	sl_fib6_free(f6);
}

/* ---- edge cases: IPv6 -------------------------------------------------------
 */

static void
test_v6_edges(void **state)
{
	struct sl_fib_conf c = {.default_nh = DFLT_NH, .num_tbl8 = 64};
	uint8_t ip[16], a[16];
	struct sl_fib_stats st;
	struct sl_fib6 *f;
	uint32_t nh;

	(void)state;
	f = sl_fib6_create("edges6", &c);
	assert_non_null(f);
	memset(ip, 0, sizeof(ip));
	assert_int_equal(sl_fib6_lookup(f, ip), DFLT_NH);
	ip[0] = 0x20;
	assert_int_equal(sl_fib6_add(f, ip, 0, 1000), 0);
	memset(a, 0xff, sizeof(a));
	assert_int_equal(sl_fib6_lookup(f, a), 1000);

	/* 2001:db8::/32, /48, /64, /128, and a /24 at the first-table edge */
	ip6_hi(ip, UINT64_C(0x20010db800000000));
	assert_int_equal(sl_fib6_add(f, ip, 32, 32), 0);
	ip6_hi(ip, UINT64_C(0x20010db8abcd0000));
	assert_int_equal(sl_fib6_add(f, ip, 48, 48), 0);
	ip6_hi(ip, UINT64_C(0x20010db8abcd0001));
	assert_int_equal(sl_fib6_add(f, ip, 64, 64), 0);
	ip[15] = 0x01;
	assert_int_equal(sl_fib6_add(f, ip, 128, 128), 0);
	ip6_hi(ip, UINT64_C(0x20010d0000000000));
	assert_int_equal(sl_fib6_add(f, ip, 24, 24), 0);
	/* levels: /32 needs 1 group, /48 2 more, /64 2 more, /128 8 more */
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 13);

	ip6_hi(a, UINT64_C(0x20010db8abcd0001));
	a[15] = 0x01;
	assert_int_equal(sl_fib6_lookup(f, a), 128);
	a[15] = 0x02;
	assert_int_equal(sl_fib6_lookup(f, a), 64);
	a[15] = 0x00;
	assert_int_equal(sl_fib6_lookup(f, a), 64);
	ip6_hi(a, UINT64_C(0x20010db8abcd0002));
	assert_int_equal(sl_fib6_lookup(f, a), 48);
	ip6_hi(a, UINT64_C(0x20010db8abce0000));
	assert_int_equal(sl_fib6_lookup(f, a), 32);
	ip6_hi(a, UINT64_C(0x20010d0100000000));
	assert_int_equal(sl_fib6_lookup(f, a), 24);
	ip6_hi(a, UINT64_C(0x20010e0000000000));
	assert_int_equal(sl_fib6_lookup(f, a), 1000);

	/* delete the /48 in the middle: /64 and /128 stay, the rest is /32 */
	ip6_hi(ip, UINT64_C(0x20010db8abcd0000));
	assert_int_equal(sl_fib6_delete(f, ip, 48), 0);
	ip6_hi(a, UINT64_C(0x20010db8abcd0002));
	assert_int_equal(sl_fib6_lookup(f, a), 32);
	ip6_hi(a, UINT64_C(0x20010db8abcd0001));
	a[15] = 0x01;
	assert_int_equal(sl_fib6_lookup(f, a), 128);
	/* the /128 gone: its 8 groups fold; then the /64: 2 more */
	ip6_hi(ip, UINT64_C(0x20010db8abcd0001));
	ip[15] = 0x01;
	assert_int_equal(sl_fib6_delete(f, ip, 128), 0);
	assert_int_equal(sl_fib6_lookup(f, a), 64);
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 5);
	assert_int_equal(sl_fib6_delete(f, ip, 64), 0);
	assert_int_equal(sl_fib6_lookup(f, a), 32);
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 1);
	assert_int_equal(st.tbl8_retired, 12);
	assert_int_equal(sl_fib6_reclaim(f), 12);
	/* host bits ignored */
	ip6_hi(ip, UINT64_C(0x20010db8ffffffff));
	assert_int_equal(sl_fib6_get(f, ip, 32, &nh), 0);
	assert_int_equal(nh, 32);
	assert_int_equal(sl_fib6_delete(f, ip, 32), 0);
	assert_int_equal(sl_fib6_lookup(f, a), 24); /* 2001:d00::/24 */
	ip6_hi(a, UINT64_C(0x20010e0000000000));
	assert_int_equal(sl_fib6_lookup(f, a), 1000);
	memset(ip, 0, sizeof(ip));
	assert_int_equal(sl_fib6_delete(f, ip, 0), 0);
	assert_int_equal(sl_fib6_lookup(f, a), DFLT_NH);
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 0);
	assert_int_equal(st.routes, 1);
	sl_fib6_free(f);
}

/* A /128 needs 13 groups: with fewer free, nothing is changed. */
static void
test_v6_tbl8_exhaustion(void **state)
{
	struct sl_fib_conf c = {.default_nh = DFLT_NH, .num_tbl8 = 15};
	struct sl_fib_stats st;
	struct sl_fib6 *f;
	uint8_t ip[16];

	(void)state;
	f = sl_fib6_create("full6", &c);
	assert_non_null(f);
	ip6_hi(ip, UINT64_C(0x20010db800000000));
	assert_int_equal(sl_fib6_add(f, ip, 48, 1), 0); /* 3 groups */
	/* elsewhere, a /128 needs 13: 12 are free */
	ip6_hi(ip, UINT64_C(0x20020db900000000));
	ip[15] = 1;
	assert_int_equal(sl_fib6_add(f, ip, 128, 2), -ENOSPC);
	assert_int_equal(sl_fib6_lookup(f, ip), DFLT_NH);
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 3);
	assert_int_equal(st.tbl8_free, 12);
	/* beside the /48, under its /40, it needs 11 */
	ip6_hi(ip, UINT64_C(0x20010db8ffff0000));
	ip[15] = 1;
	assert_int_equal(sl_fib6_add(f, ip, 128, 4), 0);
	assert_int_equal(sl_fib6_delete(f, ip, 128), 0);
	assert_int_equal(sl_fib6_reclaim(f), 11);
	assert_int_equal(st.routes, 1);
	/* a /128 under the /48 shares its 3 groups: 10 more */
	ip6_hi(ip, UINT64_C(0x20010db800000000));
	ip[15] = 1;
	assert_int_equal(sl_fib6_add(f, ip, 128, 3), 0);
	assert_int_equal(sl_fib6_lookup(f, ip), 3);
	assert_int_equal(sl_fib6_stats(f, &st), 0);
	assert_int_equal(st.tbl8_used, 13);
	sl_fib6_free(f);
}

/* ---- grace periods
 * -------------------------------------------------------------- */

static void
test_qsbr(void **state)
{
	struct sl_fib_qsbr *q;
	struct sl_fib_conf c = {.num_tbl8 = 8};
	struct sl_fib_stats st;
	struct sl_fib4 *f;
	uint64_t tok;
	int r0, r1;

	(void)state;
	errno = 0;
	assert_null(sl_fib_qsbr_create(0));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sl_fib_qsbr_register(NULL), -EINVAL);
	q = sl_fib_qsbr_create(2);
	assert_non_null(q);
	r0 = sl_fib_qsbr_register(q);
	r1 = sl_fib_qsbr_register(q);
	assert_true(r0 >= 0 && r1 >= 0 && r0 != r1);
	assert_int_equal(sl_fib_qsbr_register(q), -ENOSPC);
	assert_int_equal(sl_fib_qsbr_unregister(q, 7), -EINVAL);

	c.qsbr = q;
	f = sl_fib4_create("qsbr4", &c);
	assert_non_null(f);
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 0, 0), 25, 1), 0);
	assert_int_equal(sl_fib4_delete(f, ip4(10, 0, 0, 0), 25), 0);
	/* both readers may still be in the group */
	assert_int_equal(sl_fib4_reclaim(f), 0);
	sl_fib_qsbr_quiescent(q, (unsigned)r0);
	assert_int_equal(sl_fib4_reclaim(f), 0);
	/* an offline reader is not waited for */
	sl_fib_qsbr_offline(q, (unsigned)r1);
	assert_int_equal(sl_fib4_reclaim(f), 1);
	sl_fib_qsbr_online(q, (unsigned)r1);

	/* the add reclaims by itself when it needs a group */
	assert_int_equal(sl_fib4_add(f, ip4(10, 0, 1, 0), 25, 1), 0);
	assert_int_equal(sl_fib4_delete(f, ip4(10, 0, 1, 0), 25), 0);
	sl_fib_qsbr_quiescent(q, (unsigned)r0);
	sl_fib_qsbr_quiescent(q, (unsigned)r1);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_retired, 1);
	assert_int_equal(st.tbl8_free, 7);
	/* take all 8 groups: the 8th is the reclaimed one */
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(sl_fib4_add(f, ip4(10, 1, i, 0), 25, i), 0);
	assert_int_equal(sl_fib4_stats(f, &st), 0);
	assert_int_equal(st.tbl8_retired, 0);
	assert_int_equal(st.tbl8_free, 0);
	/* a group freed while a reader lags: -ENOSPC until it passes */
	assert_int_equal(sl_fib4_delete(f, ip4(10, 1, 0, 0), 25), 0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 2, 0, 0), 25, 1), -ENOSPC);
	sl_fib_qsbr_quiescent(q, (unsigned)r1);
	assert_int_equal(sl_fib4_add(f, ip4(10, 2, 0, 0), 25, 1), -ENOSPC);
	sl_fib_qsbr_quiescent(q, (unsigned)r0);
	assert_int_equal(sl_fib4_add(f, ip4(10, 2, 0, 0), 25, 1), 0);

	/* tokens of the domain itself */
	tok = sl_fib_qsbr_start(q);
	assert_false(sl_fib_qsbr_check(q, tok));
	assert_int_equal(sl_fib_qsbr_unregister(q, (unsigned)r0), 0);
	assert_int_equal(sl_fib_qsbr_unregister(q, (unsigned)r0), -EINVAL);
	assert_false(sl_fib_qsbr_check(q, tok));
	sl_fib_qsbr_quiescent(q, (unsigned)r1);
	assert_true(sl_fib_qsbr_check(q, tok));
	sl_fib4_free(f);
	sl_fib_qsbr_free(q);
}

/* ---- randomized comparison against a naive reference
 * ----------------------------- */

struct route {
	u128 key;      /* prefix, bits past depth zero */
	uint32_t nh;   /* next hop while in the FIB */
	uint8_t depth; /* prefix length */
	bool in;       /* in the FIB now */
	uint32_t pos;  /* index in the reference when in */
};

/* Reference: the routes in the FIB as plain arrays, scanned linearly. */
struct ref {
	uint64_t *hi, *lo, *mhi, *mlo; /* prefix and mask, two halves */
	uint32_t *nh;
	int32_t *dep;
	uint32_t *id; /* route of each slot */
	uint32_t n;
};

static void
ref_init(struct ref *r, uint32_t cap)
{
	r->hi = calloc(cap, sizeof(*r->hi));
	r->lo = calloc(cap, sizeof(*r->lo));
	r->mhi = calloc(cap, sizeof(*r->mhi));
	r->mlo = calloc(cap, sizeof(*r->mlo));
	r->nh = calloc(cap, sizeof(*r->nh));
	r->dep = calloc(cap, sizeof(*r->dep));
	r->id = calloc(cap, sizeof(*r->id));
	assert_true(r->hi && r->lo && r->mhi && r->mlo && r->nh && r->dep &&
		    r->id);
	r->n = 0;
}

static void
ref_fini(struct ref *r)
{
	free(r->hi);
	free(r->lo);
	free(r->mhi);
	free(r->mlo);
	free(r->nh);
	free(r->dep);
	free(r->id);
}

static void
ref_put(struct ref *r, uint32_t k, const struct route *rt, uint32_t id)
{
	u128 m = mask128(rt->depth);

	r->hi[k] = (uint64_t)(rt->key >> 64);
	r->lo[k] = (uint64_t)rt->key;
	r->mhi[k] = (uint64_t)(m >> 64);
	r->mlo[k] = (uint64_t)m;
	r->nh[k] = rt->nh;
	r->dep[k] = rt->depth;
	r->id[k] = id;
}

static void
ref_add(struct ref *r, struct route *pool, uint32_t id)
{
	pool[id].pos = r->n;
	pool[id].in = true;
	ref_put(r, r->n++, &pool[id], id);
}

static void
ref_del(struct ref *r, struct route *pool, uint32_t id)
{
	uint32_t k = pool[id].pos, last = --r->n;

	pool[id].in = false;
	if (k != last) {
		ref_put(r, k, &pool[r->id[last]], r->id[last]);
		pool[r->id[last]].pos = k;
	}
}

/*
 * Longest match of each address by a linear scan of every route (routes
 * outside, addresses inside, so the inner loop is branch-free).
 */
static void
ref_lookup(const struct ref *r, const uint64_t *ahi, const uint64_t *alo,
	   uint32_t *out, unsigned na, uint32_t dflt)
{
	int32_t *bd = malloc(na * sizeof(*bd));
	uint32_t k;
	unsigned j;

	assert_non_null(bd);
	for (j = 0; j < na; j++) {
		bd[j] = -1;
		out[j] = dflt;
	}
	for (k = 0; k < r->n; k++) {
		uint64_t h = r->hi[k], l = r->lo[k], mh = r->mhi[k],
			 ml = r->mlo[k];
		int32_t d = r->dep[k];
		uint32_t nh = r->nh[k];

		for (j = 0; j < na; j++) {
			int hit = ((ahi[j] & mh) == h) & ((alo[j] & ml) == l) &
				  (d > bd[j]);

			bd[j] = hit ? d : bd[j];
			out[j] = hit ? nh : out[j];
		}
	}
	free(bd);
}

static int
cmp_route(const void *a, const void *b)
{
	const struct route *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (int)x->depth - (int)y->depth;
}

/* Sort, drop duplicate prefixes, shuffle. @return the new count. */
static uint32_t
pool_unique(struct route *pool, uint32_t n)
{
	uint32_t i, k = 0;
	struct route tmp;

	qsort(pool, n, sizeof(*pool), cmp_route);
	for (i = 0; i < n; i++)
		if (k == 0 || cmp_route(&pool[k - 1], &pool[i]) != 0)
			pool[k++] = pool[i];
	for (i = k; i > 1; i--) {
		uint32_t j = rnd_below(i);

		tmp = pool[i - 1];
		pool[i - 1] = pool[j];
		pool[j] = tmp;
	}
	return k;
}

static uint32_t
rnd_nh(bool compact)
{
	return compact ? (uint32_t)rnd() & SL_FIB_COMPACT_NH_MAX
		       : (uint32_t)rnd();
}

/*
 * A random route: fresh (a length from a table-like mix) or, often, a
 * more specific of an earlier one, so that routes nest and overlap.
 * For IPv4, routes longer than /24 fall in a limited set of /24s (bounding
 * the groups); for IPv6, fresh routes fall under a few /16s.
 */
static struct route
gen_route(const struct fam *f, const struct route *pool, uint32_t n,
	  bool compact, const u128 *bases, unsigned nbases)
{
	struct route r = {0};
	unsigned d, pd, x = rnd_below(100);

	if (n > 0 && x < 40) {
		const struct route *p = &pool[rnd_below(n)];

		pd = p->depth;
		if (f->maxlen == 32)
			d = pd + 1 + rnd_below(8);
		else
			d = pd + 1 +
			    (rnd_below(4) == 0 ? rnd_below(24) : rnd_below(8));
		if (d > f->maxlen)
			d = f->maxlen;
		r.key = (p->key | (rnd128() & ~mask128(pd))) & mask128(d);
		r.depth = (uint8_t)d;
	} else if (f->maxlen == 32) {
		if (x < 41)
			d = rnd_below(13);
		else if (x < 50)
			d = 13 + rnd_below(7);
		else if (x < 80)
			d = 20 + rnd_below(5);
		else
			d = 25 + rnd_below(8);
		r.key = rnd128();
		if (d > 24)
			r.key = (bases[rnd_below(nbases)] & mask128(24)) |
				(r.key & ~mask128(24));
		r.key &= mask128(d);
		r.depth = (uint8_t)d;
	} else {
		if (x < 45)
			d = rnd_below(16);
		else if (x < 80)
			d = 16 + rnd_below(17);
		else if (x < 92)
			d = 33 + rnd_below(16);
		else if (x < 97)
			d = 49 + rnd_below(16);
		else
			d = 65 + rnd_below(64);
		r.key = rnd128();
		if (d > 16)
			r.key = (bases[rnd_below(nbases)] & mask128(16)) |
				(r.key & ~mask128(16));
		r.key &= mask128(d);
		r.depth = (uint8_t)d;
	}
	r.nh = rnd_nh(compact);
	return r;
}

/* An address to check: random, inside a route, or at/around its edges. */
static u128
gen_addr(const struct fam *f, const struct route *pool, const struct ref *ref)
{
	const struct route *r;
	unsigned x = rnd_below(16);
	u128 a, m, shift = f->maxlen == 32 ? 96 : 0;

	if (ref->n == 0 || x < 4) {
		a = rnd128();
	} else {
		r = &pool[ref->id[rnd_below(ref->n)]];
		m = mask128(r->depth);
		if (f->maxlen == 32)
			m |= ~mask128(32); /* bits below the IPv4 address */
		if (x < 12)
			a = r->key | (rnd128() & ~m);
		else if (x == 12)
			a = r->key; /* first */
		else if (x == 13)
			a = r->key | ~m; /* last */
		else if (x == 14)
			a = r->key - ((u128)1 << shift); /* before */
		else
			a = (r->key | ~m) + ((u128)1 << shift); /* after */
	}
	if (f->maxlen == 32)
		a &= mask128(32);
	return a;
}

static int
cmp_u128_fn(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return (x > y) - (x < y);
}

/*
 * Groups the FIB must hold for the routes in it: one per level l >= 1 and
 * prefix of the first 24 + 8(l - 1) bits that some route longer than that
 * falls under. The FIB folds groups as soon as they are not needed, so its
 * count must be exactly this.
 */
static uint32_t
expected_groups(const struct ref *ref, const struct route *pool)
{
	u128 *keys;
	uint32_t k, n = 0, uniq = 0;
	unsigned b;

	keys = malloc((size_t)ref->n * 13 * sizeof(*keys));
	assert_non_null(keys);
	for (k = 0; k < ref->n; k++) {
		const struct route *r = &pool[ref->id[k]];

		/* level l's group under the first b = 24 + 8(l-1) bits;
		 * the level is encoded in the low bits, which are zero */
		for (b = 24; b < r->depth; b += 8)
			keys[n++] = (r->key & mask128(b)) | b;
	}
	qsort(keys, n, sizeof(*keys), cmp_u128_fn);
	for (k = 0; k < n; k++)
		if (k == 0 || keys[k] != keys[k - 1])
			uniq++;
	free(keys);
	return uniq;
}

static void
fmt_addr(const struct fam *f, u128 a, char *buf, size_t len)
{
	uint8_t b[16];

	key_to_ip6(a, b);
	if (f->maxlen == 32)
		snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	else
		snprintf(
			buf, len,
			"%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
			"%02x%02x:%02x%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
			b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

#define CHECK_ADDRS 2048u

struct rnd_run {
	const struct fam *f;
	void *fib;
	struct route *pool;
	uint32_t npool;
	struct ref ref;
	bool compact;
	uint32_t dflt;
	uint32_t peak_groups;
	uint64_t compared;
};

/* Compare single and bulk lookups of fresh addresses with the reference,
 * and the FIB's route and group counts with what they must be. */
static void
check_all(struct rnd_run *x, const char *when)
{
	static u128 addr[CHECK_ADDRS];
	static uint64_t ahi[CHECK_ADDRS], alo[CHECK_ADDRS];
	static uint32_t expect[CHECK_ADDRS], got[CHECK_ADDRS];
	const struct fam *f = x->f;
	struct sl_fib_stats st;
	unsigned j, m;
	char buf[64];
	uint32_t groups;

	for (j = 0; j < CHECK_ADDRS; j++) {
		addr[j] = gen_addr(f, x->pool, &x->ref);
		ahi[j] = (uint64_t)(addr[j] >> 64);
		alo[j] = (uint64_t)addr[j];
	}
	ref_lookup(&x->ref, ahi, alo, expect, CHECK_ADDRS, x->dflt);
	for (j = 0; j < CHECK_ADDRS; j++) {
		uint32_t nh = f->lookup(x->fib, addr[j]);

		if (nh != expect[j]) {
			fmt_addr(f, addr[j], buf, sizeof(buf));
			fail_msg("%s %s: lookup(%s) = %" PRIu32
				 ", expected %" PRIu32 " (seed %" PRIu64 ")",
				 f->name, when, buf, nh, expect[j], seed);
		}
	}
	for (j = 0; j < CHECK_ADDRS; j += m) {
		m = 1 + rnd_below(70);
		if (m > CHECK_ADDRS - j)
			m = CHECK_ADDRS - j;
		f->bulk(x->fib, addr + j, got + j, m);
	}
	for (j = 0; j < CHECK_ADDRS; j++)
		if (got[j] != expect[j]) {
			fmt_addr(f, addr[j], buf, sizeof(buf));
			fail_msg("%s %s: bulk lookup of %s = %" PRIu32
				 ", expected %" PRIu32 " (seed %" PRIu64 ")",
				 f->name, when, buf, got[j], expect[j], seed);
		}
	x->compared += 2 * CHECK_ADDRS;
	st = stats_of(f, x->fib);
	assert_int_equal(st.routes, x->ref.n);
	groups = expected_groups(&x->ref, x->pool);
	if (st.tbl8_used != groups)
		fail_msg("%s %s: %u groups in use, %u needed (seed %" PRIu64
			 ")",
			 f->name, when, st.tbl8_used, groups, seed);
	if (groups > x->peak_groups)
		x->peak_groups = groups;
}

static void
pick_add(struct rnd_run *x)
{
	uint32_t id;

	do
		id = rnd_below(x->npool);
	while (x->pool[id].in);
	assert_int_equal(x->f->add(x->fib, x->pool[id].key, x->pool[id].depth,
				   x->pool[id].nh),
			 0);
	ref_add(&x->ref, x->pool, id);
}

static void
pick_del(struct rnd_run *x)
{
	uint32_t id = x->ref.id[rnd_below(x->ref.n)];

	assert_int_equal(x->f->del(x->fib, x->pool[id].key, x->pool[id].depth),
			 0);
	ref_del(&x->ref, x->pool, id);
}

/* A route in the FIB gets a new next hop. */
static void
pick_update(struct rnd_run *x)
{
	uint32_t id = x->ref.id[rnd_below(x->ref.n)];
	struct route *r = &x->pool[id];
	uint32_t nh;

	r->nh = rnd_nh(x->compact);
	assert_int_equal(x->f->add(x->fib, r->key, r->depth, r->nh), 0);
	assert_int_equal(x->f->get(x->fib, r->key, r->depth, &nh), 0);
	assert_int_equal(nh, r->nh);
	x->ref.nh[r->pos] = r->nh;
}

/*
 * Fill a FIB up to `peak` routes with adds, deletes and next-hop changes
 * interleaved, then empty it the same way; compare with the reference
 * `nchecks` times in each phase. At the end no group may be left.
 */
static void
run_random(const struct fam *f, bool compact, uint32_t peak, uint32_t ntbl8,
	   unsigned nchecks)
{
	struct rnd_run x = {.f = f, .compact = compact};
	struct sl_fib_conf c = {.default_nh = DFLT_NH, .num_tbl8 = ntbl8};
	uint32_t target = peak + peak / 2, i, every;
	unsigned nbases = f->maxlen == 32 ? 20000 : 16, k;
	u128 bases[20000];
	struct sl_fib_stats st;
	uint64_t t0 = now_ns(), steps = 0;
	char when[64];

	if (compact) {
		c.flags = SL_FIB_F_COMPACT;
		c.default_nh &= SL_FIB_COMPACT_NH_MAX;
	}
	x.dflt = c.default_nh;
	for (k = 0; k < nbases; k++)
		bases[k] = rnd128();
	x.pool = malloc(target * sizeof(*x.pool));
	assert_non_null(x.pool);
	for (i = 0; i < target; i++)
		x.pool[i] = gen_route(f, x.pool, i, compact, bases, nbases);
	x.npool = pool_unique(x.pool, target);
	assert_true(x.npool > peak + peak / 8);
	c.max_routes = x.npool;
	ref_init(&x.ref, x.npool);
	x.fib = f->create(f->name, &c);
	assert_non_null(x.fib);

	/* fill: 70% add, 25% delete, 5% new next hop */
	every = peak * 2 / nchecks + 1;
	while (x.ref.n < peak) {
		unsigned p = rnd_below(100);

		if (p < 70 || x.ref.n == 0)
			pick_add(&x);
		else if (p < 95)
			pick_del(&x);
		else
			pick_update(&x);
		/* no concurrent reader: freed groups are safe at once */
		if (steps % 64 == 0)
			(void)x.f->reclaim(x.fib);
		if (++steps % every == 0) {
			snprintf(when, sizeof(when), "filling, %u routes",
				 x.ref.n);
			check_all(&x, when);
		}
	}
	snprintf(when, sizeof(when), "full, %u routes", x.ref.n);
	check_all(&x, when);
	/* empty: 80% delete, 15% add, 5% new next hop */
	while (x.ref.n > 0) {
		unsigned p = rnd_below(100);

		if (p < 80)
			pick_del(&x);
		else if (p < 95)
			pick_add(&x);
		else
			pick_update(&x);
		if (steps % 64 == 0)
			(void)x.f->reclaim(x.fib);
		if (++steps % every == 0) {
			snprintf(when, sizeof(when), "emptying, %u routes",
				 x.ref.n);
			check_all(&x, when);
		}
	}
	check_all(&x, "empty");
	st = stats_of(f, x.fib);
	assert_int_equal(st.routes, 0);
	assert_int_equal(st.tbl8_used, 0);
	assert_int_equal(f->reclaim(x.fib), (int)st.tbl8_retired);
	st = stats_of(f, x.fib);
	assert_int_equal(st.tbl8_free, st.tbl8_total);
	print_message("%s%s: %u-route pool, peak %u routes and %u groups, "
		      "%" PRIu64 " updates, %" PRIu64
		      " lookups compared, %.1f s\n",
		      f->name, compact ? " compact" : "", x.npool, peak,
		      x.peak_groups, steps, x.compared,
		      (double)(now_ns() - t0) / 1e9);
	f->destroy(x.fib);
	ref_fini(&x.ref);
	free(x.pool);
}

static void
test_random_v4(void **state)
{
	(void)state;
	run_random(&fam4, false, 100000, 32768, 6);
}

static void
test_random_v4_compact(void **state)
{
	(void)state;
	run_random(&fam4, true, 30000, 16384, 4);
}

static void
test_random_v6(void **state)
{
	(void)state;
	run_random(&fam6, false, 100000, 262144, 6);
}

static void
test_random_v6_compact(void **state)
{
	(void)state;
	run_random(&fam6, true, 30000, 65536, 4);
}

/* ---- concurrent stress -----------------------------------------------------
 */

#define ST_POOL 3000u
#define ST_ADDRS 65536u
#define ST_READERS 3 /* the last one walks slowly */
#define ST_SECONDS 1.5

/*
 * Route i has next hop i + 1 (0 is the default), so a reader can tell
 * whether an answer is possible: the route must contain the address and be
 * at least as long as the longest permanent route (in the FIB all along)
 * that contains it; the default only when no permanent route does.
 */
struct stress {
	const struct fam *f;
	void *fib;
	struct sl_fib_qsbr *q;
	struct route pool[ST_POOL];
	bool perm[ST_POOL];
	uint32_t npool, nperm;
	u128 addr[ST_ADDRS];
	uint8_t min_dc[ST_ADDRS]; /* longest permanent route + 1, 0: none */
	int stop;
	int errors;
	char msg[256];
	uint64_t lookups[ST_READERS];
};

struct reader_arg {
	struct stress *s;
	unsigned idx;
};

static bool
stress_ok(const struct stress *s, unsigned a, uint32_t nh)
{
	const struct route *r;

	if (nh == 0)
		return s->min_dc[a] == 0;
	if (nh > s->npool)
		return false;
	r = &s->pool[nh - 1];
	return (s->addr[a] & mask128(r->depth)) == r->key &&
	       r->depth + 1u >= s->min_dc[a];
}

/* The trie of either family. */
static const struct fib_trie *
trie_of(const struct fam *f, void *fib)
{
	return f->maxlen == 32 ? &((struct sl_fib4 *)fib)->t
			       : &((struct sl_fib6 *)fib)->t;
}

/*
 * The lookup of the library, one level at a time with a pause of up to
 * 100 us before reading each group: a reader that is preempted in the
 * middle of a lookup. If a group were reused before every reader had
 * passed a quiescent state, this walk would read another prefix's group
 * and come back with a next hop that cannot be right.
 */
static uint32_t
slow_lookup(const struct fib_trie *t, u128 addr, uint64_t *rs)
{
	uint64_t e = fib_ent_acq(t->tbl24, (size_t)(addr >> 104), t->esize);
	uint64_t until;
	unsigned l = 1;

	while (e & FIB_EXT) {
		until = now_ns() + rnd_next(rs) % 100000;
		while (now_ns() < until)
			;
		e = fib_ent_acq(
			t->tbl8,
			(size_t)(e >> 1) << 8 |
				(size_t)((addr >> (104 - 8 * l)) & 0xff),
			t->esize);
		l++;
	}
	return (uint32_t)(e >> 1);
}

static void *
stress_reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct stress *s = ra->s;
	uint64_t rs = seed ^ (0x1234567ull * (ra->idx + 1)), n = 0;
	uint32_t nh[64];
	unsigned a, j, m, it = 0;
	char buf[64];
	int id;

	id = sl_fib_qsbr_register(s->q);
	if (id < 0) {
		__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		a = (unsigned)(rnd_next(&rs) % (ST_ADDRS - 64));
		m = 1 + (unsigned)(rnd_next(&rs) % 64);
		if (ra->idx == ST_READERS - 1) {
			m = 1 + m % 4;
			for (j = 0; j < m; j++)
				nh[j] = slow_lookup(trie_of(s->f, s->fib),
						    s->addr[a + j], &rs);
		} else if (++it % 4 == 0) {
			for (j = 0; j < m; j++)
				nh[j] = s->f->lookup(s->fib, s->addr[a + j]);
		} else {
			s->f->bulk(s->fib, s->addr + a, nh, m);
		}
		for (j = 0; j < m; j++) {
			if (stress_ok(s, a + j, nh[j]))
				continue;
			if (__atomic_add_fetch(&s->errors, 1,
					       __ATOMIC_RELAXED) == 1) {
				fmt_addr(s->f, s->addr[a + j], buf,
					 sizeof(buf));
				snprintf(s->msg, sizeof(s->msg),
					 "reader %u: %s -> next hop %" PRIu32
					 ", not possible (longest permanent "
					 "route /%d)",
					 ra->idx, buf, nh[j],
					 (int)s->min_dc[a + j] - 1);
			}
		}
		n += m;
		sl_fib_qsbr_quiescent(s->q, (unsigned)id);
	}
	s->lookups[ra->idx] = n;
	(void)sl_fib_qsbr_unregister(s->q, (unsigned)id);
	return NULL;
}

static void
run_stress(const struct fam *f, uint32_t ntbl8)
{
	struct stress *s;
	struct reader_arg ra[ST_READERS];
	pthread_t th[ST_READERS];
	struct ref ref;
	uint32_t i, target = ST_POOL, *exp, got;
	uint64_t *ahi, *alo, deadline, ops = 0, nospc = 0, lookups = 0;
	unsigned nbases = f->maxlen == 32 ? 256 : 32, k;
	u128 bases[256];
	struct sl_fib_conf c = {.default_nh = 0, .num_tbl8 = ntbl8};

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->f = f;
	for (k = 0; k < nbases; k++)
		bases[k] = rnd128();
	/* no route shorter than /10: each of those rewrites a large part
	 * of the first table and would slow the writer down */
	for (i = 0; i < target; i++) {
		do
			s->pool[i] =
				gen_route(f, s->pool, i, false, bases, nbases);
		while (s->pool[i].depth < 10);
	}
	s->npool = pool_unique(s->pool, target);
	for (i = 0; i < s->npool; i++)
		s->pool[i].nh = i + 1;

	s->q = sl_fib_qsbr_create(ST_READERS);
	assert_non_null(s->q);
	c.qsbr = s->q;
	c.max_routes = s->npool;
	s->fib = f->create("stress", &c);
	assert_non_null(s->fib);
	/*
	 * A quarter of the routes is permanent and gives each address a
	 * lower bound. They may take half of the groups only: the writer
	 * must keep unlinking and reusing groups.
	 */
	ref_init(&ref, s->npool);
	for (i = 0; i < s->npool / 4; i++) {
		int err;

		if (s->pool[i].depth > 24 &&
		    stats_of(f, s->fib).tbl8_used >= ntbl8 / 2)
			continue;
		err = f->add(s->fib, s->pool[i].key, s->pool[i].depth,
			     s->pool[i].nh);
		if (err == -ENOSPC)
			continue;
		assert_int_equal(err, 0);
		ref_add(&ref, s->pool, i);
		s->perm[i] = true;
		s->nperm++;
	}
	ahi = malloc(ST_ADDRS * sizeof(*ahi));
	alo = malloc(ST_ADDRS * sizeof(*alo));
	exp = malloc(ST_ADDRS * sizeof(*exp));
	assert_true(ahi && alo && exp);
	for (i = 0; i < ST_ADDRS; i++) {
		const struct route *r = &s->pool[rnd_below(s->npool)];
		u128 m = mask128(r->depth) |
			 (f->maxlen == 32 ? ~mask128(32) : 0);

		s->addr[i] =
			rnd_below(8) == 0 ? rnd128() : r->key | (rnd128() & ~m);
		if (f->maxlen == 32)
			s->addr[i] &= mask128(32);
		ahi[i] = (uint64_t)(s->addr[i] >> 64);
		alo[i] = (uint64_t)s->addr[i];
	}
	ref_lookup(&ref, ahi, alo, exp, ST_ADDRS, 0);
	for (i = 0; i < ST_ADDRS; i++)
		s->min_dc[i] =
			exp[i] == 0 ? 0
				    : (uint8_t)(s->pool[exp[i] - 1].depth + 1);

	deadline = now_ns() + (uint64_t)(ST_SECONDS * 1e9);
	for (k = 0; k < ST_READERS; k++) {
		ra[k].s = s;
		ra[k].idx = k;
		assert_int_equal(
			pthread_create(&th[k], NULL, stress_reader, &ra[k]), 0);
	}
	/* the writer: churn the other routes, reclaim now and then */
	while (now_ns() < deadline) {
		uint32_t id = rnd_below(s->npool);
		struct route *r = &s->pool[id];
		int err;

		if (s->perm[id])
			continue;
		if (r->in) {
			assert_int_equal(f->del(s->fib, r->key, r->depth), 0);
			ref_del(&ref, s->pool, id);
		} else {
			err = f->add(s->fib, r->key, r->depth, r->nh);
			if (err == -ENOSPC)
				nospc++;
			else if (err == 0)
				ref_add(&ref, s->pool, id);
			else
				fail_msg("add: %d", err);
		}
		ops++;
		(void)f->reclaim(s->fib);
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (k = 0; k < ST_READERS; k++) {
		join_before(th[k], deadline);
		lookups += s->lookups[k];
	}
	if (s->errors != 0)
		fail_msg("%s stress: %d impossible answers; first: %s (seed "
			 "%" PRIu64 ")",
			 f->name, s->errors, s->msg, seed);
	/* quiet now: the FIB must equal the reference exactly */
	ref_lookup(&ref, ahi, alo, exp, ST_ADDRS, 0);
	for (i = 0; i < ST_ADDRS; i++) {
		got = f->lookup(s->fib, s->addr[i]);
		if (got != exp[i])
			fail_msg("%s stress, after: %" PRIu32 " != %" PRIu32
				 " (seed %" PRIu64 ")",
				 f->name, got, exp[i], seed);
	}
	assert_true(lookups > 0);
	print_message(
		"%s stress: %u routes (%u permanent), %" PRIu64
		" updates (%" PRIu64 " refused for lack of groups), %" PRIu64
		" lookups checked by %d readers\n",
		f->name, s->npool, s->nperm, ops, nospc, lookups, ST_READERS);
	f->destroy(s->fib);
	sl_fib_qsbr_free(s->q);
	ref_fini(&ref);
	free(ahi);
	free(alo);
	free(exp);
	free(s);
}

static void
test_stress_v4(void **state)
{
	(void)state;
	run_stress(&fam4, 40);
}

static void
test_stress_v6(void **state)
{
	(void)state;
	run_stress(&fam6, 600);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup(test_create_args, reseed),
		cmocka_unit_test_setup(test_defaults, reseed),
		cmocka_unit_test_setup(test_update_args, reseed),
		cmocka_unit_test_setup(test_full_width_nh, reseed),
		cmocka_unit_test_setup(test_v4_edges, reseed),
		cmocka_unit_test_setup(test_v4_tbl8_exhaustion, reseed),
		cmocka_unit_test_setup(test_max_routes, reseed),
		cmocka_unit_test_setup(test_v6_edges, reseed),
		cmocka_unit_test_setup(test_v6_tbl8_exhaustion, reseed),
		cmocka_unit_test_setup(test_qsbr, reseed),
		cmocka_unit_test_setup(test_random_v4, reseed),
		cmocka_unit_test_setup(test_random_v4_compact, reseed),
		cmocka_unit_test_setup(test_random_v6, reseed),
		cmocka_unit_test_setup(test_random_v6_compact, reseed),
		cmocka_unit_test_setup(test_stress_v4, reseed),
		cmocka_unit_test_setup(test_stress_v6, reseed),
	};
	const char *env = getenv("SL_TEST_SEED");

	seed = env != NULL ? strtoull(env, NULL, 0)
			   : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	print_message("fib: seed %" PRIu64 " (SL_TEST_SEED=%" PRIu64
		      " repeats this run)\n",
		      seed, seed);
	return cmocka_run_group_tests_name("fib", t, NULL, NULL);
}
