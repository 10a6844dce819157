/*
 * IPv6 FIB: the API over the trie engine (a 24-bit first level, then up to
 * 13 levels of 8 bits) and the lookups, specialised at compile time for
 * each entry size.
 */
#define SL_LOG_MODULE "fib"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_fib.h"
#include "sluice/sl_log.h"

#include "fib_private.h"

/* Addresses whose first-table entries are prefetched together. */
#define FIB6_CHUNK 32u

static inline fib_key_t
key6(const uint8_t ip[16])
{
	fib_key_t k = 0;
	unsigned i;

	for (i = 0; i < 16; i++)
		k = k << 8 | ip[i];
	return k;
}

struct sl_fib6 *
sl_fib6_create(const char *name, const struct sl_fib_conf *conf)
{
	struct sl_fib6 *fib;
	int err;

	fib = sl_zmalloc(sizeof(*fib));
	if (fib == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	err = fib_trie_init(&fib->t, name, 128, conf);
	if (err < 0)
		goto free_fib;
	return fib;
free_fib:
	sl_free(fib);
fail:
	errno = -err;
	return NULL;
}

void
sl_fib6_free(struct sl_fib6 *fib)
{
	if (fib == NULL)
		return;
	fib_trie_fini(&fib->t);
	sl_free(fib);
}

int
sl_fib6_add(struct sl_fib6 *fib, const uint8_t ip[16], uint8_t depth,
	    uint32_t nh)
{
	if (fib == NULL || ip == NULL)
		return -EINVAL;
	return fib_trie_add(&fib->t, key6(ip), depth, nh);
}

int
sl_fib6_delete(struct sl_fib6 *fib, const uint8_t ip[16], uint8_t depth)
{
	if (fib == NULL || ip == NULL)
		return -EINVAL;
	return fib_trie_delete(&fib->t, key6(ip), depth);
}

int
sl_fib6_get(const struct sl_fib6 *fib, const uint8_t ip[16], uint8_t depth,
	    uint32_t *nh)
{
	if (fib == NULL || ip == NULL)
		return -EINVAL;
	return fib_trie_get(&fib->t, key6(ip), depth, nh);
}

int
sl_fib6_reclaim(struct sl_fib6 *fib)
{
	if (fib == NULL)
		return -EINVAL;
	return fib_trie_reclaim(&fib->t);
}

int
sl_fib6_stats(const struct sl_fib6 *fib, struct sl_fib_stats *st)
{
	if (fib == NULL || st == NULL)
		return -EINVAL;
	fib_trie_stats(&fib->t, st);
	return 0;
}

/* ---- lookups
 * ----------------------------------------------------------------- */

/* First-table index of an address: its first 24 bits. */
static __sl_always_inline uint32_t
idx24(const uint8_t *ip)
{
	return (uint32_t)ip[0] << 16 | (uint32_t)ip[1] << 8 | ip[2];
}

static __sl_always_inline uint32_t
lookup6(const struct fib_trie *t, const uint8_t *ip, unsigned es)
{
	const void *tbl8 = t->tbl8;
	uint64_t e = fib_ent_acq(t->tbl24, idx24(ip), es);
	unsigned b = 3;

	/* a link is never in the last level: b stays < 16 */
	while (e & FIB_EXT)
		e = fib_ent_acq(tbl8, (size_t)(e >> 1) << 8 | ip[b++], es);
	return (uint32_t)(e >> 1);
}

uint32_t
sl_fib6_lookup(const struct sl_fib6 *fib, const uint8_t ip[16])
{
	if (fib->t.esize == 8)
		return lookup6(&fib->t, ip, 8);
	return lookup6(&fib->t, ip, 4);
}

/*
 * Compute the first-table index of every address of the burst (once) and
 * prefetch its entry, then walk each address down the trie. (Walking the
 * burst level by level, with every address's next entry prefetched before
 * any is read, measured slower on a BGP-like table: the few addresses that
 * go much deeper than the rest, /64s and host routes, then cost one memory
 * latency per level with nothing to overlap them, where a walk overlaps
 * them with the addresses after them.)
 */
static __sl_always_inline void
bulk6(const struct fib_trie *t, const uint8_t (*ips)[16], uint32_t *nh,
      unsigned n, unsigned es)
{
	const void *tbl24 = t->tbl24, *tbl8 = t->tbl8;
	uint32_t idx[FIB6_CHUNK];
	unsigned j, b;
	uint64_t e;

	for (j = 0; j < n; j++) {
		idx[j] = idx24(ips[j]);
		sl_prefetch0(fib_ent_addr(tbl24, idx[j], es));
	}
	for (j = 0; j < n; j++) {
		e = fib_ent_acq(tbl24, idx[j], es);
		for (b = 3; e & FIB_EXT; b++)
			e = fib_ent_acq(tbl8, (size_t)(e >> 1) << 8 | ips[j][b],
					es);
		nh[j] = (uint32_t)(e >> 1);
	}
}

void
sl_fib6_lookup_bulk(const struct sl_fib6 *fib, const uint8_t (*ips)[16],
		    uint32_t *nh, unsigned n)
{
	unsigned i, m;

	for (i = 0; i < n; i += m) {
		m = n - i < FIB6_CHUNK ? n - i : FIB6_CHUNK;
		if (fib->t.esize == 8)
			bulk6(&fib->t, ips + i, nh + i, m, 8);
		else
			bulk6(&fib->t, ips + i, nh + i, m, 4);
	}
}
