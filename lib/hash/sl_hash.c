/*
 * Cuckoo hash table: creation and the writer's side (add, update, delete,
 * displacement, reset, iteration). The lookup paths are in hash_lookup.c.
 *
 * Writer protocol (one writer; readers are lock-free, see sl_hash.h):
 * - A new key's record (value, key) is written first, then its key index,
 *   then its signature with a release store: a reader that sees the
 *   signature sees the record.
 * - Removing an entry (delete, the source of a move, reset) happens
 *   between ver_begin() and ver_end() of its bucket, which make the
 *   version odd and then even again; the destination of a move too. The
 *   table's seq does the same around each removal as a whole (a bulk
 *   lookup checks it once instead of a version per bucket).
 * - A record is written only after a release fence: a reader that reads a
 *   word written there for a reused key also sees the version change of
 *   the bucket the old key was deleted from, and retries.
 * - A bucket's overflow count (keys of this primary bucket that live in
 *   their alternative bucket) and the key's overflow bit go up before such
 *   a key is published there or leaves the primary bucket; the count goes
 *   down only after the key is gone from the alternative bucket, and the
 *   bits are cleared with the last such key: a reader that sees the key's
 *   bit clear and no match in the primary bucket has seen the key absent.
 */
#define SL_LOG_MODULE "hash"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "hash_private.h"

/* The table is sized for at most 90 % of its bucket entries in use. */
#define HASH_LOAD_NUM 9
#define HASH_LOAD_DEN 10

/* Count in a writer's counter that other threads may read. */
#define STAT_INC(h, f) HASH_STORE(&(h)->st.f, (h)->st.f + 1)

static void
ver_begin(struct hash_bucket *b)
{
	HASH_STORE(&b->ver, HASH_LOAD(&b->ver) + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
ver_end(struct hash_bucket *b)
{
	HASH_STORE_REL(&b->ver, HASH_LOAD(&b->ver) + 1);
}

/* Around every removal, outside the bucket versions: the table's seq. */
static void
seq_begin(struct sl_hash *h)
{
	HASH_STORE(&h->seq, h->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
seq_end(struct sl_hash *h)
{
	HASH_STORE_REL(&h->seq, h->seq + 1);
}

static uint16_t
sig_get(const struct hash_bucket *b, unsigned j)
{
	uint64_t w = HASH_LOAD(&b->sig[j / HASH_SIGS_PER_WORD]);

	return (uint16_t)(w >> (16 * (j % HASH_SIGS_PER_WORD)));
}

/* Set entry j's signature; release: its index and record are visible. */
static void
sig_set(struct hash_bucket *b, unsigned j, uint16_t sig)
{
	uint64_t *wp = &b->sig[j / HASH_SIGS_PER_WORD];
	unsigned sh = 16 * (j % HASH_SIGS_PER_WORD);
	uint64_t w = HASH_LOAD(wp);

	w = (w & ~(UINT64_C(0xffff) << sh)) | (uint64_t)sig << sh;
	HASH_STORE_REL(wp, w);
}

/* @return the mask of free entries of a bucket. */
static uint32_t
bucket_free(const struct hash_bucket *b)
{
	return hash_sig_match(b, HASH_SIG_EMPTY);
}

static uint64_t
rng_next(struct sl_hash *h)
{
	/* xorshift64*: varies which entries the displacement search tries */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dull;
}

/* Writer's search: no version checks, nothing changes under it. */
static bool
find_entry(const struct sl_hash *h, const void *key, uint32_t hv, uint32_t *bkt,
	   unsigned *slot)
{
	const uint32_t nb = h->nb_buckets;
	const uint16_t sig = hash_sig(hv);
	uint32_t b = hash_bucket_idx(hv, nb);
	unsigned k;

	for (k = 0; k < 2; k++) {
		const struct hash_bucket *bp = &h->buckets[b];
		uint32_t m = hash_sig_match(bp, sig);

		while (m != 0) {
			unsigned j = (unsigned)__builtin_ctz(m);
			uint8_t *rec = hash_rec(h, HASH_LOAD(&bp->idx[j]),
						h->rec_size);

			if (hash_key_eq(hash_rec_key(rec), key, h->key_len)) {
				*bkt = b;
				*slot = j;
				return true;
			}
			m &= m - 1;
		}
		b = hash_alt(b, sig, nb);
	}
	return false;
}

/* Mark entry j of a bucket as living in its primary or alternative bucket. */
static void
in_alt_set(struct hash_bucket *b, unsigned j, bool in_alt)
{
	b->in_alt = (uint8_t)((b->in_alt & ~(1u << j)) | (unsigned)in_alt << j);
}

static bool
in_alt_get(const struct hash_bucket *b, unsigned j)
{
	return b->in_alt >> j & 1;
}

/*
 * A key of primary bucket p goes to its alternative bucket: count it and
 * set its overflow bit before it is stored there (the store of its
 * signature is a release).
 */
static void
ovf_add(struct hash_bucket *p, uint16_t sig)
{
	HASH_STORE(&p->ovf, p->ovf + 1);
	HASH_STORE(&p->ovf_bits, p->ovf_bits | hash_ovf_bit(sig));
}

/*
 * A key of primary bucket p has left its alternative bucket: uncount it;
 * the overflow bits are cleared with the last one (a bit shared with keys
 * still there cannot be cleared before).
 */
static void
ovf_remove(struct hash_bucket *p)
{
	HASH_STORE(&p->ovf, p->ovf - 1);
	if (p->ovf == 0)
		HASH_STORE_REL(&p->ovf_bits, 0);
}

/*
 * Move entry (sb, sj) to the free entry (db, dj), its other bucket. The
 * overflow count of the entry's primary bucket goes up before the entry
 * leaves it, and down after the entry is back in it.
 */
static void
entry_move(struct sl_hash *h, uint32_t sb, unsigned sj, uint32_t db,
	   unsigned dj)
{
	struct hash_bucket *src = &h->buckets[sb], *dst = &h->buckets[db];
	uint16_t sig = sig_get(src, sj);
	bool to_alt = !in_alt_get(src, sj);

	seq_begin(h);
	ver_begin(dst);
	ver_begin(src);
	if (to_alt)
		ovf_add(src, sig);
	HASH_STORE(&dst->idx[dj], HASH_LOAD(&src->idx[sj]));
	sig_set(dst, dj, sig);
	sig_set(src, sj, HASH_SIG_EMPTY);
	if (!to_alt)
		ovf_remove(dst);
	in_alt_set(dst, dj, to_alt);
	in_alt_set(src, sj, false);
	ver_end(src);
	ver_end(dst);
	seq_end(h);
	STAT_INC(h, moves);
}

/* @return true when bucket bkt is on the path from a root to node. */
static bool
bfs_on_path(const struct hash_bfs_node *q, int32_t node, uint32_t bkt)
{
	for (; node >= 0; node = q[node].parent)
		if (q[node].bkt == bkt)
			return true;
	return false;
}

/*
 * Free an entry in bucket b1 or b2 (both full) by moving a chain of
 * entries to their other buckets: breadth-first search from b1 and b2
 * for a bucket with a free entry, at most HASH_BFS_DEPTH moves away, then
 * the moves from the far end back (each entry is copied before it is
 * removed, so it is always in one of its buckets). A path never visits a
 * bucket twice (so every move on it is still valid when it is made); when
 * the queue is full the nodes already queued are still examined.
 * @return 0 with the freed entry in *bkt and *slot, or -ENOSPC.
 */
static int
make_room(struct sl_hash *h, uint32_t b1, uint32_t b2, uint32_t *bkt,
	  unsigned *slot)
{
	struct hash_bfs_node *q = h->bfs;
	const uint32_t nb = h->nb_buckets;
	int32_t head = 0, tail = 0, node;
	unsigned k, start;

	q[tail++] = (struct hash_bfs_node){.bkt = b1, .parent = -1};
	q[tail++] = (struct hash_bfs_node){.bkt = b2, .parent = -1};
	while (head < tail) {
		const struct hash_bfs_node cur = q[head];
		const struct hash_bucket *b = &h->buckets[cur.bkt];
		uint32_t fm = bucket_free(b);

		node = head++;
		if (fm != 0 && cur.parent >= 0) {
			unsigned free_slot = (unsigned)__builtin_ctz(fm);

			/* node has a free entry: move along the path */
			while (q[node].parent >= 0) {
				const struct hash_bfs_node *nd = &q[node];

				entry_move(h, q[nd->parent].bkt, nd->slot,
					   nd->bkt, free_slot);
				free_slot = nd->slot;
				node = nd->parent;
			}
			*bkt = q[node].bkt;
			*slot = free_slot;
			return 0;
		}
		if (cur.depth >= HASH_BFS_DEPTH)
			continue;
		start = (unsigned)rng_next(h);
		for (k = 0; k < SL_HASH_BUCKET_ENTRIES && tail < HASH_BFS_NODES;
		     k++) {
			unsigned j = (start + k) % SL_HASH_BUCKET_ENTRIES;
			uint32_t a = hash_alt(cur.bkt, sig_get(b, j), nb);

			if (bfs_on_path(q, node, a))
				continue;
			q[tail++] = (struct hash_bfs_node){
				.bkt = a,
				.parent = node,
				.slot = (uint8_t)j,
				.depth = (uint8_t)(cur.depth + 1),
			};
		}
	}
	return -ENOSPC;
}

/* Write a record for a new key (a fresh or a reused index). */
static void
rec_write(struct sl_hash *h, uint32_t idx, const void *key, uint64_t value)
{
	uint8_t *rec = hash_rec(h, idx, h->rec_size);
	uint64_t *rk = hash_rec_key(rec);
	const uint8_t *k = key;
	uint32_t len = h->key_len;

	/* pairs with the reader's acquire fence (see the file comment) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	HASH_STORE(hash_rec_value(rec), value);
	for (; len >= 8; len -= 8, k += 8, rk++)
		HASH_STORE(rk, hash_load64(k));
	if (len != 0)
		HASH_STORE(rk, hash_load_tail(k, len));
}

int
sl_hash_add_with_hash(struct sl_hash *h, const void *key, uint32_t hv,
		      uint64_t value)
{
	const uint16_t sig = hash_sig(hv);
	uint32_t b1, b2, bkt, idx;
	unsigned slot;
	uint32_t fm;
	int err;

	if (h == NULL || key == NULL)
		return -EINVAL;
	if (find_entry(h, key, hv, &bkt, &slot)) {
		struct hash_bucket *b = &h->buckets[bkt];

		HASH_STORE(hash_rec_value(hash_rec(h, HASH_LOAD(&b->idx[slot]),
						   h->rec_size)),
			   value);
		STAT_INC(h, updates);
		return 1;
	}
	if (h->nfree == 0) {
		STAT_INC(h, full);
		return -ENOSPC;
	}
	b1 = hash_bucket_idx(hv, h->nb_buckets);
	b2 = hash_alt(b1, sig, h->nb_buckets);
	if ((fm = bucket_free(&h->buckets[b1])) != 0) {
		bkt = b1;
		slot = (unsigned)__builtin_ctz(fm);
	} else if ((fm = bucket_free(&h->buckets[b2])) != 0) {
		bkt = b2;
		slot = (unsigned)__builtin_ctz(fm);
	} else {
		err = make_room(h, b1, b2, &bkt, &slot);
		if (err < 0) {
			STAT_INC(h, full);
			return err;
		}
	}
	idx = h->free_idx[--h->nfree];
	rec_write(h, idx, key, value);
	/* in the alternative bucket: count it in the primary one first */
	if (bkt != b1)
		ovf_add(&h->buckets[b1], sig);
	in_alt_set(&h->buckets[bkt], slot, bkt != b1);
	HASH_STORE(&h->buckets[bkt].idx[slot], idx);
	sig_set(&h->buckets[bkt], slot, sig);
	HASH_STORE(&h->count, h->count + 1);
	STAT_INC(h, adds);
	return 0;
}

int
sl_hash_add(struct sl_hash *h, const void *key, uint64_t value)
{
	if (h == NULL || key == NULL)
		return -EINVAL;
	return sl_hash_add_with_hash(h, key, hash_key(key, h->key_len), value);
}

int
sl_hash_del_with_hash(struct sl_hash *h, const void *key, uint32_t hv)
{
	struct hash_bucket *b;
	uint32_t bkt;
	unsigned slot;

	if (h == NULL || key == NULL)
		return -EINVAL;
	if (!find_entry(h, key, hv, &bkt, &slot))
		return -ENOENT;
	b = &h->buckets[bkt];
	seq_begin(h);
	ver_begin(b);
	sig_set(b, slot, HASH_SIG_EMPTY);
	ver_end(b);
	if (in_alt_get(b, slot)) {
		/* gone from its alternative bucket: uncount it */
		struct hash_bucket *p =
			&h->buckets[hash_alt(bkt, hash_sig(hv), h->nb_buckets)];

		ovf_remove(p);
		in_alt_set(b, slot, false);
	}
	seq_end(h);
	h->free_idx[h->nfree++] = HASH_LOAD(&b->idx[slot]);
	HASH_STORE(&h->count, h->count - 1);
	STAT_INC(h, dels);
	return 0;
}

int
sl_hash_del(struct sl_hash *h, const void *key)
{
	if (h == NULL || key == NULL)
		return -EINVAL;
	return sl_hash_del_with_hash(h, key, hash_key(key, h->key_len));
}

uint32_t
sl_hash_hash(const struct sl_hash *h, const void *key)
{
	if (h == NULL || key == NULL)
		return 0;
	return hash_key(key, h->key_len);
}

int
sl_hash_iterate(const struct sl_hash *h, uint32_t *pos, const void **key,
		uint64_t *value)
{
	uint32_t end, p;

	if (h == NULL || pos == NULL || key == NULL)
		return -EINVAL;
	end = h->nb_buckets * SL_HASH_BUCKET_ENTRIES;
	for (p = *pos; p < end; p++) {
		const struct hash_bucket *b =
			&h->buckets[p / SL_HASH_BUCKET_ENTRIES];
		unsigned j = p % SL_HASH_BUCKET_ENTRIES;
		uint8_t *rec;

		if (sig_get(b, j) == HASH_SIG_EMPTY)
			continue;
		rec = hash_rec(h, HASH_LOAD(&b->idx[j]), h->rec_size);
		*key = hash_rec_key(rec);
		if (value != NULL)
			*value = HASH_LOAD(hash_rec_value(rec));
		*pos = p + 1;
		return 0;
	}
	*pos = end;
	return -ENOENT;
}

uint32_t
sl_hash_count(const struct sl_hash *h)
{
	return h != NULL ? HASH_LOAD(&h->count) : 0;
}

uint32_t
sl_hash_capacity(const struct sl_hash *h)
{
	return h != NULL ? h->entries : 0;
}

int
sl_hash_stats_get(const struct sl_hash *h, struct sl_hash_stats *st)
{
	if (h == NULL || st == NULL)
		return -EINVAL;
	st->adds = HASH_LOAD(&h->st.adds);
	st->updates = HASH_LOAD(&h->st.updates);
	st->dels = HASH_LOAD(&h->st.dels);
	st->moves = HASH_LOAD(&h->st.moves);
	st->full = HASH_LOAD(&h->st.full);
	return 0;
}

static void
free_list_fill(struct sl_hash *h)
{
	uint32_t i;

	/* pops hand out 0, 1, 2, ...: records fill the store in order */
	for (i = 0; i < h->entries; i++)
		h->free_idx[i] = h->entries - 1 - i;
	h->nfree = h->entries;
}

void
sl_hash_reset(struct sl_hash *h)
{
	uint32_t i;

	if (h == NULL)
		return;
	seq_begin(h);
	for (i = 0; i < h->nb_buckets; i++) {
		struct hash_bucket *b = &h->buckets[i];

		if (bucket_free(b) == 0xff)
			continue;
		ver_begin(b);
		HASH_STORE(&b->sig[0], 0);
		HASH_STORE(&b->sig[1], 0);
		ver_end(b);
	}
	for (i = 0; i < h->nb_buckets; i++) {
		struct hash_bucket *b = &h->buckets[i];

		HASH_STORE(&b->ovf, 0);
		HASH_STORE(&b->ovf_bits, 0);
		b->in_alt = 0;
	}
	seq_end(h);
	free_list_fill(h);
	HASH_STORE(&h->count, 0);
}

struct sl_hash *
sl_hash_create(const char *name, uint32_t entries, uint32_t key_len)
{
	struct sl_hash *h;
	uint64_t want;
	uint32_t nb;
	size_t bsize, ssize;
	int err;

	if (name == NULL || strlen(name) >= SL_HASH_NAMESIZE || entries == 0 ||
	    entries > SL_HASH_ENTRIES_MAX || key_len == 0 ||
	    key_len > SL_HASH_KEY_LEN_MAX) {
		err = -EINVAL;
		goto fail;
	}
	/*
	 * enough buckets for entries at HASH_LOAD_NUM/DEN load, an even
	 * number (see hash_alt()), at least 2; not rounded up to a power of
	 * two: a table twice as large as needed costs misses in the caches
	 */
	want = ((uint64_t)entries * HASH_LOAD_DEN +
		(uint64_t)SL_HASH_BUCKET_ENTRIES * HASH_LOAD_NUM - 1) /
	       ((uint64_t)SL_HASH_BUCKET_ENTRIES * HASH_LOAD_NUM);
	nb = (uint32_t)SL_MAX(sl_align_ceil(want, 2), (uint64_t)2);

	h = sl_zmalloc(sizeof(*h));
	if (h == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->nb_buckets = nb;
	h->key_len = key_len;
	h->rec_size = hash_rec_size(key_len);
	h->entries = entries;
	h->rng = 0x9e3779b97f4a7c15ull ^ entries;
	h->free_idx = sl_zmalloc((size_t)entries * sizeof(uint32_t));
	if (h->free_idx == NULL) {
		err = -ENOMEM;
		goto free_h;
	}
	h->bfs = sl_zmalloc(HASH_BFS_NODES * sizeof(*h->bfs));
	if (h->bfs == NULL) {
		err = -ENOMEM;
		goto free_list;
	}
	bsize = (size_t)nb * sizeof(struct hash_bucket);
	ssize = (size_t)entries * h->rec_size;
	h->mr = sl_memregion_alloc(name, bsize + ssize, SL_MEM_F_THP);
	if (h->mr == NULL) {
		err = -ENOMEM;
		SL_ERR("table '%s': cannot allocate %zu bytes for %u entries "
		       "of %u-byte keys",
		       name, bsize + ssize, entries, key_len);
		goto free_bfs;
	}
	h->buckets = h->mr->addr;
	h->store = (uint8_t *)h->mr->addr + bsize;
	free_list_fill(h);
	hash_lookup_select(h);
	SL_DBG("table '%s': %u entries, %u-byte keys, %u buckets, "
	       "%u-byte records",
	       name, entries, key_len, nb, h->rec_size);
	return h;
free_bfs:
	sl_free(h->bfs);
free_list:
	sl_free(h->free_idx);
free_h:
	sl_free(h);
fail:
	errno = -err;
	return NULL;
}

void
sl_hash_free(struct sl_hash *h)
{
	if (h == NULL)
		return;
	sl_memregion_free(h->mr);
	sl_free(h->bfs);
	sl_free(h->free_idx);
	sl_free(h);
}
