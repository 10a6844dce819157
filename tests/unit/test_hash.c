/*
 * Unit tests of the cuckoo hash table: arguments, a long random run of
 * adds, updates, deletes, lookups and bulk lookups checked operation by
 * operation against a reference (a presence/value array indexed by key
 * number) for several key lengths at >= 90 % of capacity, iteration,
 * ENOSPC (full key store, and keys that all share two buckets), the
 * bucket functions (primary bucket, alternative bucket), hash
 * variants, and a concurrent run of one writer and two lock-free readers.
 *
 * Random runs are seeded; the seed is printed and can be set with
 * SL_TEST_SEED=<n> to replay a failure.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <sluice/sl_hash.h>

#include "hash_private.h" /* the buckets of a hash */

static uint64_t seed;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: the test's random numbers */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A bijection of 32-bit numbers (murmur3's finaliser). */
static uint32_t
mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/*
 * A universe of distinct keys of one length: key i starts with mix32(i)
 * (or i itself for keys shorter than 4 bytes), random bytes after that.
 */
struct keyset {
	uint32_t len, n;
	uint8_t *bytes;
};

static const void *
key_at(const struct keyset *ks, uint32_t i)
{
	return ks->bytes + (size_t)i * ks->len;
}

static void
keyset_make(struct keyset *ks, uint32_t len, uint32_t n, uint64_t *rs)
{
	uint32_t i, j;

	ks->len = len;
	ks->n = n;
	ks->bytes = malloc((size_t)len * n);
	assert_non_null(ks->bytes);
	for (i = 0; i < n; i++) {
		uint8_t *k = ks->bytes + (size_t)i * len;
		uint32_t head = len >= 4 ? mix32(i) : i;

		for (j = 0; j < len; j++)
			k[j] = j < 4 ? (uint8_t)(head >> (8 * j))
				     : (uint8_t)rnd(rs);
	}
}

/* @return the inverse of x modulo 2^32 (x odd), by Newton's iteration. */
static uint32_t
inv32(uint32_t x)
{
	uint32_t y = x;
	int i;

	for (i = 0; i < 5; i++)
		y *= 2 - x * y;
	return y;
}

/* The inverse of mix32(). */
static uint32_t
unmix32(uint32_t x)
{
	x ^= x >> 16;
	x *= inv32(0xc2b2ae35u);
	x ^= (x >> 13) ^ (x >> 26);
	x *= inv32(0x85ebca6bu);
	x ^= x >> 16;
	return x;
}

/* @return the number of the key with these bytes, or -1. */
static int64_t
keyset_find(const struct keyset *ks, const void *key)
{
	const uint8_t *k = key;
	uint32_t head = 0, id, j;

	for (j = 0; j < 4 && j < ks->len; j++)
		head |= (uint32_t)k[j] << (8 * j);
	id = ks->len >= 4 ? unmix32(head) : head;
	if (id >= ks->n || memcmp(key_at(ks, id), key, ks->len) != 0)
		return -1;
	return id;
}

/* ---- arguments --------------------------------------------------------- */

static void
test_create_args(void **state)
{
	struct sl_hash *h;

	(void)state;
	errno = 0;
	assert_null(sl_hash_create(NULL, 16, 4));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(
		sl_hash_create("0123456789012345678901234567890123", 16, 4));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_hash_create("h", 0, 4));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_hash_create("h", SL_HASH_ENTRIES_MAX + 1, 4));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_hash_create("h", 16, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_hash_create("h", 16, SL_HASH_KEY_LEN_MAX + 1));
	assert_int_equal(errno, EINVAL);

	h = sl_hash_create("h", 1, SL_HASH_KEY_LEN_MAX);
	assert_non_null(h);
	assert_int_equal(sl_hash_capacity(h), 1);
	assert_int_equal(sl_hash_count(h), 0);
	sl_hash_free(h);
	sl_hash_free(NULL);
}

static void
test_null_args(void **state)
{
	struct sl_hash *h = sl_hash_create("nulls", 64, 8);
	const void *keys[SL_HASH_LOOKUP_BULK_MAX + 1];
	uint64_t k = 1, v, mask, vals[SL_HASH_LOOKUP_BULK_MAX + 1];
	uint32_t hv, pos = 0;
	unsigned i;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < SL_DIM(keys); i++)
		keys[i] = &k;
	hv = sl_hash_hash(h, &k);
	assert_int_equal(sl_hash_add(NULL, &k, 1), -EINVAL);
	assert_int_equal(sl_hash_add(h, NULL, 1), -EINVAL);
	assert_int_equal(sl_hash_add_with_hash(NULL, &k, hv, 1), -EINVAL);
	assert_int_equal(sl_hash_del(NULL, &k), -EINVAL);
	assert_int_equal(sl_hash_del(h, NULL), -EINVAL);
	assert_int_equal(sl_hash_del_with_hash(h, NULL, hv), -EINVAL);
	assert_int_equal(sl_hash_lookup(NULL, &k, &v), -EINVAL);
	assert_int_equal(sl_hash_lookup(h, NULL, &v), -EINVAL);
	assert_int_equal(sl_hash_lookup_with_hash(h, NULL, hv, &v), -EINVAL);
	assert_int_equal(sl_hash_lookup_bulk(NULL, keys, 1, &mask, vals),
			 -EINVAL);
	assert_int_equal(sl_hash_lookup_bulk(h, NULL, 1, &mask, vals), -EINVAL);
	assert_int_equal(sl_hash_lookup_bulk(h, keys, 1, NULL, vals), -EINVAL);
	assert_int_equal(sl_hash_lookup_bulk(h, keys, 1, &mask, NULL), -EINVAL);
	assert_int_equal(sl_hash_lookup_bulk(h, keys,
					     SL_HASH_LOOKUP_BULK_MAX + 1, &mask,
					     vals),
			 -EINVAL);
	assert_int_equal(
		sl_hash_lookup_bulk_with_hash(h, keys, NULL, 1, &mask, vals),
		-EINVAL);
	assert_int_equal(sl_hash_iterate(NULL, &pos, keys, &v), -EINVAL);
	assert_int_equal(sl_hash_iterate(h, NULL, keys, &v), -EINVAL);
	assert_int_equal(sl_hash_stats_get(h, NULL), -EINVAL);
	assert_int_equal(sl_hash_count(NULL), 0);
	assert_int_equal(sl_hash_capacity(NULL), 0);
	sl_hash_reset(NULL);
	/* n = 0 is a valid, empty bulk */
	mask = 5;
	assert_int_equal(sl_hash_lookup_bulk(h, keys, 0, &mask, vals), 0);
	assert_int_equal(mask, 0);
	sl_hash_free(h);
}

/* ---- basic operations -------------------------------------------------- */

static void
test_basic(void **state)
{
	struct sl_hash *h = sl_hash_create("basic", 100, 16);
	uint8_t k1[16] = "key number one!", k2[16] = "key number two!";
	const void *keys[2] = {k1, k2};
	uint64_t v = 0, vals[2] = {0, 0}, mask = 0;
	struct sl_hash_stats st;

	(void)state;
	assert_non_null(h);
	assert_int_equal(sl_hash_lookup(h, k1, &v), -ENOENT);
	assert_int_equal(sl_hash_add(h, k1, 11), 0);
	assert_int_equal(sl_hash_count(h), 1);
	assert_int_equal(sl_hash_lookup(h, k1, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(sl_hash_lookup(h, k1, NULL), 0);
	assert_int_equal(sl_hash_lookup(h, k2, &v), -ENOENT);
	/* update */
	assert_int_equal(sl_hash_add(h, k1, 12), 1);
	assert_int_equal(sl_hash_count(h), 1);
	assert_int_equal(sl_hash_lookup(h, k1, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(sl_hash_add(h, k2, UINT64_MAX), 0);
	assert_int_equal(sl_hash_lookup_bulk(h, keys, 2, &mask, vals), 2);
	assert_int_equal(mask, 3);
	assert_int_equal(vals[0], 12);
	assert_true(vals[1] == UINT64_MAX);
	/* delete */
	assert_int_equal(sl_hash_del(h, k1), 0);
	assert_int_equal(sl_hash_del(h, k1), -ENOENT);
	assert_int_equal(sl_hash_lookup(h, k1, &v), -ENOENT);
	assert_int_equal(sl_hash_lookup_bulk(h, keys, 2, &mask, vals), 1);
	assert_int_equal(mask, 2);
	assert_int_equal(sl_hash_count(h), 1);
	assert_int_equal(sl_hash_stats_get(h, &st), 0);
	assert_int_equal(st.adds, 2);
	assert_int_equal(st.updates, 1);
	assert_int_equal(st.dels, 1);
	assert_int_equal(st.full, 0);
	/* reset */
	sl_hash_reset(h);
	assert_int_equal(sl_hash_count(h), 0);
	assert_int_equal(sl_hash_lookup(h, k2, &v), -ENOENT);
	assert_int_equal(sl_hash_add(h, k2, 5), 0);
	assert_int_equal(sl_hash_lookup(h, k2, &v), 0);
	assert_int_equal(v, 5);
	sl_hash_free(h);
}

/* ---- random run against the reference ---------------------------------- */

struct ref {
	uint8_t *present;
	uint64_t *value;
	uint32_t count;
};

/* Iterate the whole table: each key once, each one present, right value. */
static void
check_iteration(struct sl_hash *h, const struct keyset *ks, const struct ref *r)
{
	uint8_t *seen = calloc(ks->n, 1);
	uint32_t pos = 0, visited = 0;
	const void *key;
	uint64_t v;
	int64_t id;

	assert_non_null(seen);
	while (sl_hash_iterate(h, &pos, &key, &v) == 0) {
		id = keyset_find(ks, key);
		assert_true(id >= 0);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		assert_int_equal(r->present[id], 1);
		assert_true(r->value[id] == v);
		visited++;
	}
	assert_int_equal(sl_hash_iterate(h, &pos, &key, &v), -ENOENT);
	assert_int_equal(visited, r->count);
	free(seen);
}

static void
check_bulk(struct sl_hash *h, const struct keyset *ks, const struct ref *r,
	   uint64_t *rs)
{
	const void *keys[SL_HASH_LOOKUP_BULK_MAX];
	uint32_t ids[SL_HASH_LOOKUP_BULK_MAX], hashes[SL_HASH_LOOKUP_BULK_MAX];
	uint64_t vals[SL_HASH_LOOKUP_BULK_MAX], mask, want = 0;
	unsigned n = 1 + (unsigned)(rnd(rs) % SL_HASH_LOOKUP_BULK_MAX), i;
	bool with_hash = rnd(rs) & 1;
	int hits = 0, ret;

	for (i = 0; i < n; i++) {
		ids[i] = (uint32_t)(rnd(rs) % ks->n);
		keys[i] = key_at(ks, ids[i]);
		hashes[i] = sl_hash_hash(h, keys[i]);
		if (r->present[ids[i]]) {
			want |= UINT64_C(1) << i;
			hits++;
		}
	}
	if (with_hash)
		ret = sl_hash_lookup_bulk_with_hash(h, keys, hashes, n, &mask,
						    vals);
	else
		ret = sl_hash_lookup_bulk(h, keys, n, &mask, vals);
	assert_int_equal(ret, hits);
	assert_true(mask == want);
	for (i = 0; i < n; i++)
		if (want >> i & 1)
			assert_true(vals[i] == r->value[ids[i]]);
}

/*
 * One key length and capacity: a random mix of operations (adds five times
 * as likely as deletes, so the table fills and often is full) that, once the
 * table is 90 % full, keeps it at 90 % or more; every answer checked
 * against the reference.
 */
static void
run_reference(uint32_t key_len, uint32_t cap, unsigned ops)
{
	struct sl_hash *h = sl_hash_create("ref", cap, key_len);
	uint64_t rs = seed ^ ((uint64_t)key_len << 32) ^ cap, v;
	uint32_t universe = cap + cap / 4 + 8, id, lo = cap - cap / 10;
	uint32_t min_after = UINT32_MAX, full = 0;
	bool reached = false;
	struct keyset ks;
	struct ref r = {0};
	struct sl_hash_stats st;
	unsigned op;
	int ret;

	assert_non_null(h);
	if (key_len < 4 && universe > (1u << (8 * key_len)))
		universe = 1u << (8 * key_len);
	keyset_make(&ks, key_len, universe, &rs);
	r.present = calloc(universe, 1);
	r.value = calloc(universe, sizeof(uint64_t));
	assert_non_null(r.present);
	assert_non_null(r.value);

	for (op = 0; op < ops; op++) {
		unsigned what = (unsigned)(rnd(&rs) % 100);

		id = (uint32_t)(rnd(&rs) % universe);
		/* below the low mark (or while filling), add more */
		if (r.count < lo && what >= 50 && what < 60)
			what = 0;
		if (what < 50) {
			/* add or update */
			v = rnd(&rs);
			ret = rnd(&rs) & 1
				      ? sl_hash_add(h, key_at(&ks, id), v)
				      : sl_hash_add_with_hash(
						h, key_at(&ks, id),
						sl_hash_hash(h,
							     key_at(&ks, id)),
						v);
			if (r.present[id]) {
				assert_int_equal(ret, 1);
				r.value[id] = v;
			} else if (r.count == cap) {
				assert_int_equal(ret, -ENOSPC);
				full++;
			} else {
				/* below capacity an add never fails */
				assert_int_equal(ret, 0);
				r.present[id] = 1;
				r.value[id] = v;
				r.count++;
			}
		} else if (what < 60) {
			ret = rnd(&rs) & 1
				      ? sl_hash_del(h, key_at(&ks, id))
				      : sl_hash_del_with_hash(
						h, key_at(&ks, id),
						sl_hash_hash(h,
							     key_at(&ks, id)));
			if (r.present[id]) {
				assert_int_equal(ret, 0);
				r.present[id] = 0;
				r.count--;
			} else {
				assert_int_equal(ret, -ENOENT);
			}
		} else if (what < 78) {
			v = 0;
			ret = sl_hash_lookup(h, key_at(&ks, id), &v);
			if (r.present[id]) {
				assert_int_equal(ret, 0);
				assert_true(v == r.value[id]);
			} else {
				assert_int_equal(ret, -ENOENT);
			}
		} else {
			check_bulk(h, &ks, &r, &rs);
		}
		assert_int_equal(sl_hash_count(h), r.count);
		reached |= r.count >= lo;
		if (reached)
			min_after = SL_MIN(min_after, r.count);
		if (op % (ops / 4) == 0)
			check_iteration(h, &ks, &r);
	}
	/* the run reached high load and kept it, and was full at times */
	assert_true(reached);
	assert_true(min_after + 1 >= lo);
	assert_true(full > 0);
	check_iteration(h, &ks, &r);
	assert_int_equal(sl_hash_stats_get(h, &st), 0);
	assert_int_equal(st.full, full);
	print_message(
		"  key_len %2u cap %5u: %u..%u keys after reaching 90 %%, "
		"%llu adds, %llu moves, %u ENOSPC\n",
		key_len, cap, min_after, cap, (unsigned long long)st.adds,
		(unsigned long long)st.moves, full);
	free(r.present);
	free(r.value);
	free(ks.bytes);
	sl_hash_free(h);
}

static void
test_reference(void **state)
{
	/* specialised lengths (4, 8, 16, 20, 40, 64) and generic ones */
	static const uint32_t lens[] = {1, 3, 4, 7, 8, 13, 16, 20, 37, 40, 64};
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(lens); i++) {
		uint32_t cap = lens[i] == 1 ? 200 : 7372;

		run_reference(lens[i], cap, 60000);
	}
	/* a power-of-two capacity and a tiny one */
	run_reference(16, 4096, 30000);
	run_reference(12, 3, 2000);
}

/* ---- full tables ------------------------------------------------------- */

static void
test_enospc_full(void **state)
{
	const uint32_t cap = 1000;
	struct sl_hash *h = sl_hash_create("full", cap, 4);
	uint32_t i, k;
	uint64_t v;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < cap; i++) {
		k = mix32(i);
		assert_int_equal(sl_hash_add(h, &k, i), 0);
	}
	assert_int_equal(sl_hash_count(h), cap);
	k = mix32(cap);
	assert_int_equal(sl_hash_add(h, &k, 0), -ENOSPC);
	assert_int_equal(sl_hash_count(h), cap);
	assert_int_equal(sl_hash_lookup(h, &k, &v), -ENOENT);
	/* updates still work when full */
	k = mix32(7);
	assert_int_equal(sl_hash_add(h, &k, 777), 1);
	assert_int_equal(sl_hash_lookup(h, &k, &v), 0);
	assert_int_equal(v, 777);
	/* a delete makes room for one more */
	assert_int_equal(sl_hash_del(h, &k), 0);
	k = mix32(cap);
	assert_int_equal(sl_hash_add(h, &k, 5), 0);
	k = mix32(cap + 1);
	assert_int_equal(sl_hash_add(h, &k, 5), -ENOSPC);
	for (i = 0; i <= cap; i++) {
		k = mix32(i);
		assert_int_equal(sl_hash_lookup(h, &k, &v),
				 i == 7 ? -ENOENT : 0);
		if (i != 7)
			assert_int_equal(v, i == cap ? 5 : i);
	}
	sl_hash_free(h);
}

/*
 * Keys that share one hash have the same two buckets: exactly two buckets'
 * worth of them fit, whatever else is in the table, and the other keys
 * there are moved away to make room. (No other key may have the same two
 * buckets: it could not be moved away. Random keys that would are left
 * out.)
 */
/*
 * The bucket functions, for even bucket counts that are and are not powers
 * of two: a hash's primary bucket is in range and every bucket is used; a
 * signature's alternative bucket is in range, never the bucket itself, and
 * leads back (an involution), for every signature.
 */
static void
test_bucket_functions(void **state)
{
	static const uint32_t counts[] = {2, 4, 6, 10, 1000, 1024, 145636};
	static uint8_t seen[1000];
	uint64_t rs = seed ^ 0xb0c4e7;
	uint32_t c, i, b, a, nb, used = 0;
	unsigned sig;

	(void)state;
	for (c = 0; c < SL_DIM(counts); c++) {
		nb = counts[c];
		for (sig = 1; sig <= 0xffff; sig++) {
			/* every bucket of the small counts, some of the others
			 */
			b = nb <= 16 ? sig % nb : (uint32_t)(rnd(&rs) % nb);
			a = hash_alt(b, (uint16_t)sig, nb);
			assert_true(a < nb);
			assert_true(a != b);
			assert_int_equal(hash_alt(a, (uint16_t)sig, nb), b);
		}
		for (i = 0; i < 4096; i++)
			assert_true(hash_bucket_idx((uint32_t)rnd(&rs), nb) <
				    nb);
		assert_int_equal(hash_bucket_idx(UINT32_MAX, nb), nb - 1);
	}
	for (i = 0; i < 100000; i++)
		seen[hash_bucket_idx((uint32_t)rnd(&rs), 1000)] = 1;
	for (i = 0; i < SL_DIM(seen); i++)
		used += seen[i];
	assert_int_equal(used, SL_DIM(seen));
}

static bool
same_buckets(const struct sl_hash *h, uint32_t hv1, uint32_t hv2)
{
	uint32_t p1 = hash_bucket_idx(hv1, h->nb_buckets);
	uint32_t p2 = hash_bucket_idx(hv2, h->nb_buckets);
	uint32_t a1 = hash_alt(p1, hash_sig(hv1), h->nb_buckets);
	uint32_t a2 = hash_alt(p2, hash_sig(hv2), h->nb_buckets);

	return (p1 == p2 && a1 == a2) || (p1 == a2 && a1 == p2);
}

static void
test_enospc_same_buckets(void **state)
{
	const uint32_t cap = 7372, hv = 0x12345678u;
	struct sl_hash *h = sl_hash_create("collide", cap, 8);
	uint64_t rs = seed ^ 0xc0111de, k, v, mask, vals[64];
	const void *keys[64];
	uint64_t same[2 * SL_HASH_BUCKET_ENTRIES + 1];
	uint32_t hashes[64];
	struct sl_hash_stats st;
	uint32_t i, others = cap * 85 / 100;

	(void)state;
	assert_non_null(h);
	/* 85 % full of other keys (bit 63 clear) */
	for (i = 0; i < others; i++) {
		k = rnd(&rs) & ~(UINT64_C(1) << 63);
		if (same_buckets(h, sl_hash_hash(h, &k), hv) ||
		    sl_hash_add(h, &k, k) != 0)
			i--; /* left out, or a repeated random key: update */
	}
	for (i = 0; i < SL_DIM(same); i++) {
		same[i] = (UINT64_C(1) << 63) | i;
		if (i < 2 * SL_HASH_BUCKET_ENTRIES)
			assert_int_equal(
				sl_hash_add_with_hash(h, &same[i], hv, i + 100),
				0);
		else
			assert_int_equal(
				sl_hash_add_with_hash(h, &same[i], hv, i + 100),
				-ENOSPC);
	}
	assert_int_equal(sl_hash_count(h), others + 2 * SL_HASH_BUCKET_ENTRIES);
	assert_int_equal(sl_hash_stats_get(h, &st), 0);
	assert_true(st.moves > 0);
	assert_int_equal(st.full, 1);
	for (i = 0; i < 2 * SL_HASH_BUCKET_ENTRIES; i++) {
		assert_int_equal(sl_hash_lookup_with_hash(h, &same[i], hv, &v),
				 0);
		assert_int_equal(v, i + 100);
		keys[i] = &same[i];
		hashes[i] = hv;
	}
	keys[i] = &same[i];
	hashes[i] = hv;
	assert_int_equal(sl_hash_lookup_bulk_with_hash(h, keys, hashes, i + 1,
						       &mask, vals),
			 (int)i);
	assert_true(mask == (UINT64_C(1) << i) - 1);
	/* every other key is still there, with its value */
	rs = seed ^ 0xc0111de;
	for (i = 0; i < others; i++) {
		k = rnd(&rs) & ~(UINT64_C(1) << 63);
		if (same_buckets(h, sl_hash_hash(h, &k), hv)) {
			i--; /* left out */
			continue;
		}
		assert_int_equal(sl_hash_lookup(h, &k, &v), 0);
		assert_true(v == k);
	}
	/* one of the 16 out, the 17th in */
	assert_int_equal(sl_hash_del_with_hash(h, &same[3], hv), 0);
	assert_int_equal(sl_hash_add_with_hash(h, &same[16], hv, 1), 0);
	assert_int_equal(sl_hash_lookup_with_hash(h, &same[3], hv, &v),
			 -ENOENT);
	sl_hash_free(h);
}

/* The _with_hash variants agree with the plain ones. */
static void
test_with_hash(void **state)
{
	struct sl_hash *h = sl_hash_create("wh", 512, 13);
	uint64_t rs = seed ^ 0x77, v;
	struct keyset ks;
	uint32_t i;

	(void)state;
	assert_non_null(h);
	keyset_make(&ks, 13, 400, &rs);
	for (i = 0; i < ks.n; i++) {
		uint32_t hv = sl_hash_hash(h, key_at(&ks, i));

		assert_int_equal(hv, sl_hash_hash(h, key_at(&ks, i)));
		if (i % 2)
			assert_int_equal(sl_hash_add(h, key_at(&ks, i), i), 0);
		else
			assert_int_equal(
				sl_hash_add_with_hash(h, key_at(&ks, i), hv, i),
				0);
	}
	for (i = 0; i < ks.n; i++) {
		uint32_t hv = sl_hash_hash(h, key_at(&ks, i));

		assert_int_equal(
			sl_hash_lookup_with_hash(h, key_at(&ks, i), hv, &v), 0);
		assert_int_equal(v, i);
		/* a wrong hash looks in the wrong buckets */
		if (sl_hash_lookup_with_hash(h, key_at(&ks, i), ~hv, &v) == 0)
			assert_int_equal(v, i);
	}
	free(ks.bytes);
	sl_hash_free(h);
}

/*
 * A bulk lookup that finds the table's seq odd (as while the writer removes
 * an entry) or moved takes the path that checks each bucket's version: the
 * same answers, for a specialised and the generic key length, with keys in
 * both their buckets (a nearly full table) and half the keys absent.
 */
static void
test_bulk_checked(void **state)
{
	static const uint32_t lens[] = {8, 13};
	uint64_t rs = seed ^ 0xc4ec, vals[64], ref_vals[64], mask, ref_mask;
	const void *keys[64];
	struct sl_hash_stats st;
	struct keyset ks;
	uint32_t li, i, off, cap = 1000;

	(void)state;
	for (li = 0; li < SL_DIM(lens); li++) {
		struct sl_hash *h = sl_hash_create("checked", cap, lens[li]);

		assert_non_null(h);
		keyset_make(&ks, lens[li], 2 * cap, &rs);
		for (i = 0; i < cap; i++)
			assert_int_equal(sl_hash_add(h, key_at(&ks, 2 * i), i),
					 0);
		assert_int_equal(sl_hash_stats_get(h, &st), 0);
		assert_true(st.moves > 0); /* keys live in both buckets */
		for (off = 0; off + 64 <= ks.n; off += 64) {
			for (i = 0; i < 64; i++)
				keys[i] = key_at(&ks, off + i);
			assert_int_equal(sl_hash_lookup_bulk(h, keys, 64,
							     &ref_mask,
							     ref_vals),
					 32);
			h->seq++; /* a removal in progress */
			assert_int_equal(
				sl_hash_lookup_bulk(h, keys, 64, &mask, vals),
				32);
			h->seq++;
			assert_true(mask == ref_mask);
			for (i = 0; i < 64; i++) {
				assert_int_equal(mask >> i & 1, (i + 1) % 2);
				if (mask >> i & 1)
					assert_int_equal(vals[i],
							 (off + i) / 2);
			}
		}
		free(ks.bytes);
		sl_hash_free(h);
	}
}

/* ---- one writer, lock-free readers ------------------------------------- */

/*
 * The writer adds, updates and deletes "churn" keys and updates "stable"
 * keys, which it never deletes, keeping the table between 88 % of its
 * capacity and full (deletes are rarer than adds), where adds often move
 * entries. Every value is
 * (key number << 32 | a counter). Readers look keys up, alone and in bulk,
 * and check that a value found belongs to the key it was found for, and
 * that a stable key is always found.
 */
#define STRESS_CAP 7372u
#define STRESS_STABLE (STRESS_CAP / 2)
#define STRESS_UNIVERSE (STRESS_CAP + STRESS_CAP / 8)
#define STRESS_READERS 2

struct stress {
	struct sl_hash *h;
	struct keyset ks;
	uint64_t deadline;
	atomic_int stop;
	/* results of each reader */
	uint64_t lookups[STRESS_READERS], wrong_value[STRESS_READERS],
		stable_miss[STRESS_READERS];
	uint64_t writer_ops, moves;
};

struct reader_arg {
	struct stress *s;
	unsigned id;
};

static bool
stress_check(struct stress *s, unsigned rid, uint32_t id, int found, uint64_t v)
{
	if (found && (v >> 32) != id) {
		s->wrong_value[rid]++;
		return false;
	}
	if (!found && id < STRESS_STABLE) {
		s->stable_miss[rid]++;
		return false;
	}
	return true;
}

static void *
stress_reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct stress *s = ra->s;
	uint64_t rs = seed ^ (0xabcdull + ra->id), v, mask;
	uint64_t vals[SL_HASH_LOOKUP_BULK_MAX];
	const void *keys[SL_HASH_LOOKUP_BULK_MAX];
	uint32_t ids[SL_HASH_LOOKUP_BULK_MAX];
	unsigned n, i;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		if (rnd(&rs) & 1) {
			uint32_t id = (uint32_t)(rnd(&rs) % STRESS_UNIVERSE);
			int ret = sl_hash_lookup(s->h, key_at(&s->ks, id), &v);

			(void)stress_check(s, ra->id, id, ret == 0, v);
			s->lookups[ra->id]++;
			continue;
		}
		n = 1 + (unsigned)(rnd(&rs) % SL_HASH_LOOKUP_BULK_MAX);
		for (i = 0; i < n; i++) {
			ids[i] = (uint32_t)(rnd(&rs) % STRESS_UNIVERSE);
			keys[i] = key_at(&s->ks, ids[i]);
		}
		if (sl_hash_lookup_bulk(s->h, keys, n, &mask, vals) < 0) {
			s->wrong_value[ra->id]++;
			break;
		}
		for (i = 0; i < n; i++)
			(void)stress_check(s, ra->id, ids[i], mask >> i & 1,
					   vals[i]);
		s->lookups[ra->id] += n;
	}
	return NULL;
}

static void
stress_writer(struct stress *s)
{
	uint64_t rs = seed ^ 0x5eed, ops = 0;
	uint8_t *present = calloc(STRESS_UNIVERSE, 1);
	uint32_t count = 0, id, ctr = 0;
	const uint32_t lo = STRESS_CAP * 88 / 100;
	struct sl_hash_stats st;
	int ret;

	assert_non_null(present);
	/* test_concurrent() added the stable keys */
	memset(present, 1, STRESS_STABLE);
	count = STRESS_STABLE;
	while (now_ns() < s->deadline) {
		uint64_t v;

		id = (uint32_t)(rnd(&rs) % STRESS_UNIVERSE);
		v = (uint64_t)id << 32 | ++ctr;
		if (id < STRESS_STABLE || (!present[id] && count < lo)) {
			ret = sl_hash_add(s->h, key_at(&s->ks, id), v);
			if (present[id]) {
				assert_int_equal(ret, 1);
			} else {
				assert_int_equal(ret, 0);
				present[id] = 1;
				count++;
			}
		} else if (present[id]) {
			if (rnd(&rs) % 3 != 0) {
				assert_int_equal(sl_hash_add(s->h,
							     key_at(&s->ks, id),
							     v),
						 1);
			} else {
				assert_int_equal(
					sl_hash_del(s->h, key_at(&s->ks, id)),
					0);
				present[id] = 0;
				count--;
			}
		} else {
			ret = sl_hash_add(s->h, key_at(&s->ks, id), v);
			if (count == STRESS_CAP) {
				assert_int_equal(ret, -ENOSPC);
			} else {
				assert_int_equal(ret, 0);
				present[id] = 1;
				count++;
			}
		}
		ops++;
	}
	assert_int_equal(sl_hash_count(s->h), count);
	assert_int_equal(sl_hash_stats_get(s->h, &st), 0);
	s->writer_ops = ops;
	s->moves = st.moves;
	free(present);
}

static void
test_concurrent(void **state)
{
	static struct stress s;
	struct reader_arg ra[STRESS_READERS];
	pthread_t t[STRESS_READERS];
	uint64_t rs = seed ^ 0x1234, total = 0;
	unsigned i;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.h = sl_hash_create("stress", STRESS_CAP, 16);
	assert_non_null(s.h);
	keyset_make(&s.ks, 16, STRESS_UNIVERSE, &rs);
	s.deadline = now_ns() + 3000000000ull;
	atomic_init(&s.stop, 0);
	/* the stable keys go in first, before any reader runs */
	for (i = 0; i < STRESS_STABLE; i++)
		assert_int_equal(
			sl_hash_add(s.h, key_at(&s.ks, i), (uint64_t)i << 32),
			0);
	for (i = 0; i < STRESS_READERS; i++) {
		ra[i].s = &s;
		ra[i].id = i;
		assert_int_equal(
			pthread_create(&t[i], NULL, stress_reader, &ra[i]), 0);
	}
	stress_writer(&s);
	atomic_store(&s.stop, 1);
	for (i = 0; i < STRESS_READERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < STRESS_READERS; i++) {
		print_message("  reader %u: %llu lookups, %llu wrong values, "
			      "%llu stable keys missed\n",
			      i, (unsigned long long)s.lookups[i],
			      (unsigned long long)s.wrong_value[i],
			      (unsigned long long)s.stable_miss[i]);
		assert_int_equal(s.wrong_value[i], 0);
		assert_int_equal(s.stable_miss[i], 0);
		total += s.lookups[i];
	}
	print_message("  writer: %llu operations, %llu moves\n",
		      (unsigned long long)s.writer_ops,
		      (unsigned long long)s.moves);
	/* the run did race lookups against moves */
	assert_true(s.moves > 1000);
	assert_true(total > 10000);
	free(s.ks.bytes);
	sl_hash_free(s.h);
}

int
main(void)
{
	const char *env = getenv("SL_TEST_SEED");
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_enospc_full),
		cmocka_unit_test(test_bucket_functions),
		cmocka_unit_test(test_enospc_same_buckets),
		cmocka_unit_test(test_with_hash),
		cmocka_unit_test(test_bulk_checked),
		cmocka_unit_test(test_concurrent),
	};

	seed = env != NULL ? strtoull(env, NULL, 0) : (uint64_t)now_ns();
	print_message("test_hash: seed %llu (SL_TEST_SEED=%llu to replay)\n",
		      (unsigned long long)seed, (unsigned long long)seed);
	return cmocka_run_group_tests_name("hash", t, NULL, NULL);
}
