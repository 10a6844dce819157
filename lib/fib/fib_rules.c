/*
 * The FIB's rule store: every route (prefix, length, next hop) in an
 * open-addressing hash table, so that a delete can find the route that
 * covers what it uncovers. Control plane only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fib_private.h"

static uint32_t
rules_hash(fib_key_t key, unsigned depth)
{
	uint64_t hi = (uint64_t)(key >> 64), lo = (uint64_t)key;
	uint64_t h;

	h = hi * UINT64_C(0x9e3779b97f4a7c15);
	h ^= (lo + depth) * UINT64_C(0xc2b2ae3d27d4eb4f);
	h ^= h >> 31;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 29;
	return (uint32_t)h;
}

int
fib_rules_init(struct fib_rules *r, uint32_t max)
{
	uint32_t n = sl_align32pow2(max * 2 < 16 ? 16 : max * 2);

	memset(r, 0, sizeof(*r));
	r->slots = calloc(n, sizeof(*r->slots));
	if (r->slots == NULL)
		return -ENOMEM;
	r->mask = n - 1;
	r->max = max;
	return 0;
}

void
fib_rules_fini(struct fib_rules *r)
{
	free(r->slots);
	r->slots = NULL;
}

struct fib_rule *
fib_rules_find(const struct fib_rules *r, fib_key_t key, unsigned depth)
{
	uint32_t i = rules_hash(key, depth) & r->mask;
	struct fib_rule *s;

	if (r->per_depth[depth] == 0)
		return NULL;
	for (;; i = (i + 1) & r->mask) {
		s = &r->slots[i];
		if (s->dc == 0)
			return NULL;
		if (s->dc == depth + 1 && s->key == key)
			return s;
	}
}

int
fib_rules_insert(struct fib_rules *r, fib_key_t key, unsigned depth,
		 uint32_t nh)
{
	uint32_t i = rules_hash(key, depth) & r->mask;

	if (r->count >= r->max)
		return -ENOSPC;
	while (r->slots[i].dc != 0)
		i = (i + 1) & r->mask;
	r->slots[i].key = key;
	r->slots[i].nh = nh;
	r->slots[i].dc = (uint8_t)(depth + 1);
	r->count++;
	r->per_depth[depth]++;
	return 0;
}

void
fib_rules_remove(struct fib_rules *r, struct fib_rule *slot)
{
	uint32_t hole = (uint32_t)(slot - r->slots), i = hole, home;

	r->count--;
	r->per_depth[slot->dc - 1]--;
	/*
	 * Backward shift: move later members of the probe run into the hole
	 * when their home slot is not in (hole, i] (cyclically), so that no
	 * lookup stops early at the hole.
	 */
	for (;;) {
		r->slots[hole].dc = 0;
		for (;;) {
			i = (i + 1) & r->mask;
			if (r->slots[i].dc == 0)
				return;
			home = rules_hash(r->slots[i].key,
					  r->slots[i].dc - 1u) &
			       r->mask;
			if (((i - home) & r->mask) >= ((i - hole) & r->mask))
				break;
		}
		r->slots[hole] = r->slots[i];
		hole = i;
	}
}
