/*
 * IPv4 FIB: the API over the trie engine (two levels: DIR-24-8) and the
 * lookups, specialised at compile time for each entry size.
 */
#define SL_LOG_MODULE "fib"
#include <errno.h>
#include <stdlib.h>

#include "sluice/sl_fib.h"
#include "sluice/sl_log.h"

#include "fib_private.h"

/*
 * Addresses of a burst whose first-table entries are prefetched before any
 * is read: enough to keep the core's outstanding misses busy.
 */
#define FIB4_AHEAD 16u

static inline fib_key_t
key4(uint32_t ip)
{
	return (fib_key_t)ip << 96;
}

struct sl_fib4 *
sl_fib4_create(const char *name, const struct sl_fib_conf *conf)
{
	struct sl_fib4 *fib;
	int err;

	fib = sl_zmalloc(sizeof(*fib));
	if (fib == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	err = fib_trie_init(&fib->t, name, 32, conf);
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
sl_fib4_free(struct sl_fib4 *fib)
{
	if (fib == NULL)
		return;
	fib_trie_fini(&fib->t);
	sl_free(fib);
}

int
sl_fib4_add(struct sl_fib4 *fib, uint32_t ip, uint8_t depth, uint32_t nh)
{
	if (fib == NULL)
		return -EINVAL;
	return fib_trie_add(&fib->t, key4(ip), depth, nh);
}

int
sl_fib4_delete(struct sl_fib4 *fib, uint32_t ip, uint8_t depth)
{
	if (fib == NULL)
		return -EINVAL;
	return fib_trie_delete(&fib->t, key4(ip), depth);
}

int
sl_fib4_get(const struct sl_fib4 *fib, uint32_t ip, uint8_t depth, uint32_t *nh)
{
	if (fib == NULL)
		return -EINVAL;
	return fib_trie_get(&fib->t, key4(ip), depth, nh);
}

int
sl_fib4_reclaim(struct sl_fib4 *fib)
{
	if (fib == NULL)
		return -EINVAL;
	return fib_trie_reclaim(&fib->t);
}

int
sl_fib4_stats(const struct sl_fib4 *fib, struct sl_fib_stats *st)
{
	if (fib == NULL || st == NULL)
		return -EINVAL;
	fib_trie_stats(&fib->t, st);
	return 0;
}

/* ---- lookups
 * ----------------------------------------------------------------- */

/* Resolve one address: its first-table entry, then its group's if any. */
static __sl_always_inline uint32_t
lookup4(const void *tbl24, const void *tbl8, uint32_t ip, unsigned es)
{
	uint64_t e = fib_ent_acq(tbl24, ip >> 8, es);

	if (unlikely(e & FIB_EXT))
		e = fib_ent_rlx(tbl8, (size_t)(e >> 1) << 8 | (ip & 0xff), es);
	return (uint32_t)(e >> 1);
}

uint32_t
sl_fib4_lookup(const struct sl_fib4 *fib, uint32_t ip)
{
	const struct fib_trie *t = &fib->t;

	if (t->esize == 8)
		return lookup4(t->tbl24, t->tbl8, ip, 8);
	return lookup4(t->tbl24, t->tbl8, ip, 4);
}

static __sl_always_inline void
bulk4(const struct fib_trie *t, const uint32_t *ips, uint32_t *nh, unsigned n,
      unsigned es)
{
	const void *tbl24 = t->tbl24, *tbl8 = t->tbl8;
	unsigned i, ahead = n < FIB4_AHEAD ? n : FIB4_AHEAD;

	for (i = 0; i < ahead; i++)
		sl_prefetch0(fib_ent_addr(tbl24, ips[i] >> 8, es));
	for (i = 0; i + ahead < n; i++) {
		sl_prefetch0(fib_ent_addr(tbl24, ips[i + ahead] >> 8, es));
		nh[i] = lookup4(tbl24, tbl8, ips[i], es);
	}
	for (; i < n; i++)
		nh[i] = lookup4(tbl24, tbl8, ips[i], es);
}

void
sl_fib4_lookup_bulk(const struct sl_fib4 *fib, const uint32_t *ips,
		    uint32_t *nh, unsigned n)
{
	if (fib->t.esize == 8)
		bulk4(&fib->t, ips, nh, n, 8);
	else
		bulk4(&fib->t, ips, nh, n, 4);
}
