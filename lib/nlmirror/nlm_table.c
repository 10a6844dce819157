/*
 * Chained hash tables for the mirror's own state (links, nexthop objects,
 * route keys). Used by the mirror thread only: no locking. The table
 * doubles when it holds more entries than buckets.
 */
#include <errno.h>
#include <stdlib.h>

#include "nlm_private.h"

#define NLM_HTAB_MAX_BUCKETS (1u << 26)

int
nlm_htab_init(struct nlm_htab *t, uint32_t buckets)
{
	uint32_t n = 16;

	while (n < buckets && n < NLM_HTAB_MAX_BUCKETS)
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (t->b == NULL)
		return -ENOMEM;
	t->mask = n - 1;
	t->n = 0;
	return 0;
}

void
nlm_htab_fini(struct nlm_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = 0;
	t->n = 0;
}

struct nlm_hnode *
nlm_htab_find(const struct nlm_htab *t, uint32_t hash, nlm_match_fn match,
	      const void *key)
{
	struct nlm_hnode *n;

	for (n = t->b[hash & t->mask]; n != NULL; n = n->next)
		if (n->hash == hash && match(n, key))
			return n;
	return NULL;
}

static void
htab_grow(struct nlm_htab *t)
{
	uint32_t nb = (t->mask + 1) * 2, i;
	struct nlm_hnode **b, *n, *next;

	if (nb > NLM_HTAB_MAX_BUCKETS)
		return;
	b = calloc(nb, sizeof(*b));
	if (b == NULL)
		return; /* longer chains, still correct */
	for (i = 0; i <= t->mask; i++) {
		for (n = t->b[i]; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->b);
	t->b = b;
	t->mask = nb - 1;
}

void
nlm_htab_add(struct nlm_htab *t, struct nlm_hnode *node)
{
	struct nlm_hnode **head;

	if (t->n > t->mask)
		htab_grow(t);
	head = &t->b[node->hash & t->mask];
	node->next = *head;
	*head = node;
	t->n++;
}

void
nlm_htab_del(struct nlm_htab *t, struct nlm_hnode *node)
{
	struct nlm_hnode **pp;

	for (pp = &t->b[node->hash & t->mask]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			t->n--;
			return;
		}
	}
}

void
nlm_htab_sweep(struct nlm_htab *t, nlm_sweep_fn fn, void *arg)
{
	struct nlm_hnode **pp, *n;
	uint32_t i;

	if (t->b == NULL)
		return;
	for (i = 0; i <= t->mask; i++) {
		pp = &t->b[i];
		while ((n = *pp) != NULL) {
			/* unlink first: fn may free the node */
			*pp = n->next;
			t->n--;
			if (fn(n, arg))
				continue;
			/* kept: link it back where it was */
			n->next = *pp;
			*pp = n;
			t->n++;
			pp = &n->next;
		}
	}
}

/* FNV-1a, 64-bit: enough to tell a changed object from the same one. */
uint64_t
nlm_hash64(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint32_t
nlm_hash32(const void *p, size_t len)
{
	uint64_t h = nlm_hash64(p, len);

	return (uint32_t)(h ^ (h >> 32));
}
