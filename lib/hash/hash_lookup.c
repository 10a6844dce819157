/*
 * Lookup paths of the cuckoo hash table: one key, and bulk (up to 64 keys,
 * pipelined). Both are instantiated for common key lengths so that hashing
 * and the key compare unroll for a constant length; other lengths use the
 * generic instance. See sl_hash.h for the concurrency model: a reader
 * notes the version of each bucket it reads and checks it again after the
 * key compare and the value load; a key whose buckets changed is looked up
 * again.
 */
#include <errno.h>

#include "hash_private.h"

/* A version read before the bucket's entries (acquire: pairs with ver_end). */
static __sl_always_inline uint32_t
ver_load(const struct hash_bucket *b)
{
	return HASH_LOAD_ACQ(&b->ver);
}

/*
 * Check versions read before, after the entries were read: the acquire
 * fence orders the reads of entries, keys and values before the checks.
 */
static __sl_always_inline void
ver_fence(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static __sl_always_inline bool
ver_same(const struct hash_bucket *b, uint32_t v0)
{
	return (v0 & 1) == 0 && HASH_LOAD(&b->ver) == v0;
}

/*
 * Search one bucket for key; on a match, *val gets the record's value.
 * @return true when found.
 */
static __sl_always_inline bool
bucket_find(const struct sl_hash *h, const struct hash_bucket *b, uint16_t sig,
	    const void *key, uint64_t *val, const uint32_t klen)
{
	const uint32_t rs = hash_rec_size(klen);
	uint32_t m = hash_sig_match(b, sig);

	while (m != 0) {
		unsigned j = (unsigned)__builtin_ctz(m);
		uint8_t *rec = hash_rec(h, HASH_LOAD_ACQ(&b->idx[j]), rs);

		if (hash_key_eq(hash_rec_key(rec), key, klen)) {
			*val = HASH_LOAD(hash_rec_value(rec));
			return true;
		}
		m &= m - 1;
	}
	return false;
}

/*
 * One key. Found in a bucket whose version held: the value was the key's at
 * that moment. Absent from the primary bucket while no key of it with the
 * key's overflow bit lived in its alternative bucket, or absent from both
 * buckets while both versions held (the two intervals overlap): the key was
 * absent then.
 */
static __sl_always_inline int
lookup_tmpl(const struct sl_hash *h, const void *key, uint32_t hv,
	    uint64_t *value, const uint32_t klen)
{
	const uint32_t nb = h->nb_buckets, pb = hash_bucket_idx(hv, nb);
	const uint16_t sig = hash_sig(hv);
	const struct hash_bucket *p = &h->buckets[pb];
	const struct hash_bucket *s = &h->buckets[hash_alt(pb, sig, nb)];
	uint32_t v0, w0;
	uint64_t val;
	bool found;

	for (;;) {
		v0 = ver_load(p);
		found = bucket_find(h, p, sig, key, &val, klen);
		if (found) {
			ver_fence();
			if (likely(ver_same(p, v0))) {
				*value = val;
				return 0;
			}
			sl_pause();
			continue;
		}
		if ((HASH_LOAD(&p->ovf_bits) & hash_ovf_bit(sig)) == 0) {
			ver_fence();
			if (likely(ver_same(p, v0)))
				return -ENOENT;
			sl_pause();
			continue;
		}
		w0 = ver_load(s);
		found = bucket_find(h, s, sig, key, &val, klen);
		ver_fence();
		if (found) {
			if (likely(ver_same(s, w0))) {
				*value = val;
				return 0;
			}
		} else if (likely(ver_same(p, v0) && ver_same(s, w0))) {
			return -ENOENT;
		}
		sl_pause();
	}
}

/*
 * @return c ? a : b, computed without a branch (compilers turn the
 * conditional operator into one when its operands feed a prefetch).
 */
static __sl_always_inline const void *
select_ptr(bool c, const void *a, const void *b)
{
	uintptr_t m = (uintptr_t)0 - (uintptr_t)c;

	return (const void *)(((uintptr_t)a & m) | ((uintptr_t)b & ~m));
}

/* Prefetch a key record (and its second line when it has one). */
static __sl_always_inline void
prefetch_rec(const uint8_t *rec, const uint32_t klen)
{
	sl_prefetch0(rec);
	if (hash_rec_size(klen) > SL_CACHE_LINE)
		sl_prefetch0(rec + SL_CACHE_LINE);
}

/*
 * Up to 64 keys, in stages over all keys so that the memory accesses of
 * different keys overlap:
 * 1. hash each key, prefetch its primary bucket (only the hash is kept:
 *    storing more per key here measured slower);
 * 2. compare signatures in the primary bucket; prefetch the record of the
 *    first match (its address chosen without a branch: whether a key is in
 *    the table is not predictable). A key that matches nothing in a bucket
 *    whose overflow bit for it is clear is absent, decided on one cache
 *    line; the others need their alternative bucket (rare: prefetched in a
 *    loop over them);
 * 3. compare keys in the primary bucket (only keys with a match); a key
 *    not there needs its alternative bucket if its overflow bit is set;
 * 4. and 5. the same in the alternative buckets of the keys that need it;
 * 6. checked: check the versions of the buckets read; a key whose bucket
 *    changed meanwhile is looked up again on its own. Not checked: check
 *    that the table's seq did not move (no entry was removed anywhere
 *    since stage 1), else return -EAGAIN: the caller runs the checked
 *    version. Most bulks see no removal, and one check replaces one per
 *    bucket.
 * Most keys live in their primary bucket: a hit there costs one bucket line
 * and one record line, a miss one bucket line.
 */
static __sl_always_inline int
bulk_tmpl(const struct sl_hash *h, const void *const *keys,
	  const uint32_t *hashes, unsigned n, uint64_t *hit_mask,
	  uint64_t *values, const uint32_t klen, const bool checked)
{
	const struct hash_bucket *bkts = h->buckets;
	const uint32_t nb = h->nb_buckets;
	const uint32_t rs = hash_rec_size(klen);
	uint32_t hvs[SL_HASH_LOOKUP_BULK_MAX], pri[SL_HASH_LOOKUP_BULK_MAX];
	uint32_t sec[SL_HASH_LOOKUP_BULK_MAX], obit[SL_HASH_LOOKUP_BULK_MAX];
	uint32_t pver[SL_HASH_LOOKUP_BULK_MAX], sver[SL_HASH_LOOKUP_BULK_MAX];
	uint16_t sigs[SL_HASH_LOOKUP_BULK_MAX];
	uint8_t cand[SL_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0, have = 0, need_sec = 0, sec_cand = 0, retry = 0;
	uint64_t todo;
	uint32_t seq = 0;
	unsigned i;

	if (!checked) {
		seq = HASH_LOAD_ACQ(&h->seq);
		if (unlikely(seq & 1))
			return -EAGAIN;
	}

	/* 1: hash, prefetch primary buckets */
	for (i = 0; i < n; i++) {
		uint32_t hv =
			hashes != NULL ? hashes[i] : hash_key(keys[i], klen);

		hvs[i] = hv;
		sl_prefetch0(&bkts[hash_bucket_idx(hv, nb)]);
	}

	/* 2: signatures in the primary bucket */
	for (i = 0; i < n; i++) {
		const struct hash_bucket *b;
		const uint8_t *rec;
		uint32_t m, ovf;
		unsigned j;

		pri[i] = hash_bucket_idx(hvs[i], nb);
		sigs[i] = hash_sig(hvs[i]);
		obit[i] = hash_ovf_bit(sigs[i]);
		b = &bkts[pri[i]];

		if (checked)
			pver[i] = ver_load(b);
		m = hash_sig_match(b, sigs[i]);
		ovf = HASH_LOAD(&b->ovf_bits) & obit[i];
		cand[i] = (uint8_t)m;
		/* with no match: entry 0's record, an address not used */
		j = (unsigned)__builtin_ctz(m | 0x100) & 7;
		rec = hash_rec(h, HASH_LOAD(&b->idx[j]), rs);
		/* the record, or (no match) the bucket itself: nothing new */
		sl_prefetch0(select_ptr(m != 0, rec, b));
		if (hash_rec_size(klen) > SL_CACHE_LINE)
			sl_prefetch0(
				select_ptr(m != 0, rec + SL_CACHE_LINE, b));
		have |= (uint64_t)(m != 0) << i;
		need_sec |= (uint64_t)((m == 0) & (ovf != 0)) << i;
	}
	/* keys of their primary bucket may live in their other bucket */
	for (todo = need_sec; todo != 0; todo &= todo - 1) {
		i = (unsigned)__builtin_ctzll(todo);
		sec[i] = hash_alt(pri[i], sigs[i], nb);
		sl_prefetch0(&bkts[sec[i]]);
	}

	/* 3: keys in the primary bucket, for keys with a signature match */
	for (todo = have; todo != 0; todo &= todo - 1) {
		const struct hash_bucket *b;
		uint32_t m;

		i = (unsigned)__builtin_ctzll(todo);
		m = cand[i];
		b = &bkts[pri[i]];
		do {
			unsigned j = (unsigned)__builtin_ctz(m);
			uint8_t *rec =
				hash_rec(h, HASH_LOAD_ACQ(&b->idx[j]), rs);

			if (hash_key_eq(hash_rec_key(rec), keys[i], klen)) {
				values[i] = HASH_LOAD(hash_rec_value(rec));
				hits |= UINT64_C(1) << i;
				break;
			}
			m &= m - 1;
		} while (m != 0);
		if (m == 0 && (HASH_LOAD(&b->ovf_bits) & obit[i]) != 0) {
			/* the signature matched another key */
			sec[i] = hash_alt(pri[i], sigs[i], nb);
			sl_prefetch0(&bkts[sec[i]]);
			need_sec |= UINT64_C(1) << i;
		}
	}

	/* 4: signatures in the alternative bucket */
	for (todo = need_sec; todo != 0; todo &= todo - 1) {
		const struct hash_bucket *b;
		uint32_t m;

		i = (unsigned)__builtin_ctzll(todo);
		b = &bkts[sec[i]];
		if (checked)
			sver[i] = ver_load(b);
		m = hash_sig_match(b, sigs[i]);
		cand[i] = (uint8_t)m;
		if (m != 0) {
			prefetch_rec(
				hash_rec(h,
					 HASH_LOAD(&b->idx[__builtin_ctz(m)]),
					 rs),
				klen);
			sec_cand |= UINT64_C(1) << i;
		}
	}

	/* 5: keys in the alternative bucket */
	for (todo = sec_cand; todo != 0; todo &= todo - 1) {
		const struct hash_bucket *b;
		uint32_t m;

		i = (unsigned)__builtin_ctzll(todo);
		m = cand[i];
		b = &bkts[sec[i]];
		do {
			unsigned j = (unsigned)__builtin_ctz(m);
			uint8_t *rec =
				hash_rec(h, HASH_LOAD_ACQ(&b->idx[j]), rs);

			if (hash_key_eq(hash_rec_key(rec), keys[i], klen)) {
				values[i] = HASH_LOAD(hash_rec_value(rec));
				hits |= UINT64_C(1) << i;
				break;
			}
			m &= m - 1;
		} while (m != 0);
	}

	/* 6: versions; the primary bucket of every key, the alternative one
	 * of every key that needed it; or the table's seq */
	ver_fence();
	if (!checked) {
		if (unlikely(HASH_LOAD(&h->seq) != seq))
			return -EAGAIN;
		*hit_mask = hits;
		return __builtin_popcountll(hits);
	}
	for (i = 0; i < n; i++)
		retry |= (uint64_t)!ver_same(&bkts[pri[i]], pver[i]) << i;
	for (todo = need_sec; todo != 0; todo &= todo - 1) {
		i = (unsigned)__builtin_ctzll(todo);
		retry |= (uint64_t)!ver_same(&bkts[sec[i]], sver[i]) << i;
	}
	for (; unlikely(retry != 0); retry &= retry - 1) {
		i = (unsigned)__builtin_ctzll(retry);
		if (lookup_tmpl(h, keys[i], hvs[i], &values[i], klen) == 0)
			hits |= UINT64_C(1) << i;
		else
			hits &= ~(UINT64_C(1) << i);
	}
	*hit_mask = hits;
	return __builtin_popcountll(hits);
}

/*
 * Instances: NAME, and the key length LEN, a constant for the lengths known
 * at compile time (the hash and the compare unroll), the table's for any
 * other. A bulk runs unchecked, and checked (out of line) when the table
 * changed meanwhile.
 */
#define HASH_LOOKUP_INSTANCE(NAME, LEN)                                        \
	static int lookup_##NAME(const struct sl_hash *h, const void *key,     \
				 uint32_t hv, uint64_t *value)                 \
	{                                                                      \
		return lookup_tmpl(h, key, hv, value, LEN);                    \
	}                                                                      \
	static __attribute__((noinline)) int bulk_checked_##NAME(              \
		const struct sl_hash *h, const void *const *keys,              \
		const uint32_t *hashes, unsigned n, uint64_t *hit_mask,        \
		uint64_t *values)                                              \
	{                                                                      \
		return bulk_tmpl(h, keys, hashes, n, hit_mask, values, LEN,    \
				 true);                                        \
	}                                                                      \
	static int bulk_##NAME(const struct sl_hash *h,                        \
			       const void *const *keys,                        \
			       const uint32_t *hashes, unsigned n,             \
			       uint64_t *hit_mask, uint64_t *values)           \
	{                                                                      \
		int r = bulk_tmpl(h, keys, hashes, n, hit_mask, values, LEN,   \
				  false);                                      \
                                                                               \
		return likely(r >= 0)                                          \
			       ? r                                             \
			       : bulk_checked_##NAME(h, keys, hashes, n,       \
						     hit_mask, values);        \
	}

HASH_LOOKUP_INSTANCE(k4, 4)
HASH_LOOKUP_INSTANCE(k8, 8)
HASH_LOOKUP_INSTANCE(k12, 12)
HASH_LOOKUP_INSTANCE(k16, 16)
HASH_LOOKUP_INSTANCE(k20, 20)
HASH_LOOKUP_INSTANCE(k24, 24)
HASH_LOOKUP_INSTANCE(k32, 32)
HASH_LOOKUP_INSTANCE(k40, 40)
HASH_LOOKUP_INSTANCE(k48, 48)
HASH_LOOKUP_INSTANCE(k64, 64)
HASH_LOOKUP_INSTANCE(generic, h->key_len)

void
hash_lookup_select(struct sl_hash *h)
{
	static const struct {
		uint32_t len;
		hash_lookup_fn lookup;
		hash_bulk_fn bulk;
	} inst[] = {
		{4, lookup_k4, bulk_k4},    {8, lookup_k8, bulk_k8},
		{12, lookup_k12, bulk_k12}, {16, lookup_k16, bulk_k16},
		{20, lookup_k20, bulk_k20}, {24, lookup_k24, bulk_k24},
		{32, lookup_k32, bulk_k32}, {40, lookup_k40, bulk_k40},
		{48, lookup_k48, bulk_k48}, {64, lookup_k64, bulk_k64},
	};
	unsigned i;

	h->lookup = lookup_generic;
	h->bulk = bulk_generic;
	for (i = 0; i < SL_DIM(inst); i++)
		if (inst[i].len == h->key_len) {
			h->lookup = inst[i].lookup;
			h->bulk = inst[i].bulk;
		}
}

int
sl_hash_lookup_with_hash(const struct sl_hash *h, const void *key,
			 uint32_t hash, uint64_t *value)
{
	uint64_t v;

	if (unlikely(h == NULL || key == NULL))
		return -EINVAL;
	return h->lookup(h, key, hash, value != NULL ? value : &v);
}

int
sl_hash_lookup(const struct sl_hash *h, const void *key, uint64_t *value)
{
	uint64_t v;

	if (unlikely(h == NULL || key == NULL))
		return -EINVAL;
	return h->lookup(h, key, hash_key(key, h->key_len),
			 value != NULL ? value : &v);
}

int
sl_hash_lookup_bulk(const struct sl_hash *h, const void *const *keys,
		    unsigned n, uint64_t *hit_mask, uint64_t *values)
{
	if (unlikely(h == NULL || keys == NULL || hit_mask == NULL ||
		     values == NULL || n > SL_HASH_LOOKUP_BULK_MAX))
		return -EINVAL;
	return h->bulk(h, keys, NULL, n, hit_mask, values);
}

int
sl_hash_lookup_bulk_with_hash(const struct sl_hash *h, const void *const *keys,
			      const uint32_t *hashes, unsigned n,
			      uint64_t *hit_mask, uint64_t *values)
{
	if (unlikely(h == NULL || keys == NULL || hashes == NULL ||
		     hit_mask == NULL || values == NULL ||
		     n > SL_HASH_LOOKUP_BULK_MAX))
		return -EINVAL;
	return h->bulk(h, keys, hashes, n, hit_mask, values);
}
