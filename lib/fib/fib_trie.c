/*
 * The FIB's multibit trie, control plane: creation, add, delete, group
 * allocation and deferred reuse. One engine for both families: level 0 is
 * the 2^24-entry first table (address bits 0..23), level l >= 1 a group of
 * 256 entries indexed by bits 24 + 8(l-1) .. 24 + 8l - 1. A route of
 * length d lives at level L(d) = 0 for d <= 24, else ceil((d - 24) / 8),
 * where it fills 2^(24 + 8L - d) consecutive entries.
 *
 * Beside each entry the control plane keeps the depth code (length + 1,
 * 0: no route) of the route whose next hop the entry holds. For a link
 * entry it is meaningless. Invariants:
 * - every leaf holds the next hop of the longest route covering all of
 *   its addresses (or the default next hop, depth code 0);
 * - every group has at least one entry that is a link or comes from a
 *   route longer than its parent's level (else it is folded back).
 *
 * Readers never lock: every entry changes with one atomic store; a group
 * is filled before the release store that links it; an unlinked group is
 * queued and reused after a grace period (fib_trie_reclaim()).
 */
#define SL_LOG_MODULE "fib"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sluice/sl_log.h"

#include "fib_private.h"

/* A table of entries and the depth codes beside them. */
struct fib_node {
	void *ent;
	uint8_t *dep;
};

/* ---- entries (control plane: the entry size is read at run time) ------- */

static inline uint64_t
ent_get(const struct fib_trie *t, const void *tbl, size_t i)
{
	if (t->esize == 8)
		return __atomic_load_n((const uint64_t *)tbl + i,
				       __ATOMIC_RELAXED);
	return __atomic_load_n((const uint32_t *)tbl + i, __ATOMIC_RELAXED);
}

/* A change that lookups may see in any order with others. */
static inline void
ent_set(const struct fib_trie *t, void *tbl, size_t i, uint64_t v)
{
	if (t->esize == 8)
		__atomic_store_n((uint64_t *)tbl + i, v, __ATOMIC_RELAXED);
	else
		__atomic_store_n((uint32_t *)tbl + i, (uint32_t)v,
				 __ATOMIC_RELAXED);
}

/* A store that links a group: everything written before is seen first. */
static inline void
ent_publish(const struct fib_trie *t, void *tbl, size_t i, uint64_t v)
{
	if (t->esize == 8)
		__atomic_store_n((uint64_t *)tbl + i, v, __ATOMIC_RELEASE);
	else
		__atomic_store_n((uint32_t *)tbl + i, (uint32_t)v,
				 __ATOMIC_RELEASE);
}

static inline struct fib_node
root_node(const struct fib_trie *t)
{
	return (struct fib_node){.ent = t->tbl24, .dep = t->dep24};
}

static inline struct fib_node
grp_node(const struct fib_trie *t, uint64_t g)
{
	return (struct fib_node){
		.ent = (char *)t->tbl8 + g * FIB_GRP_SIZE * t->esize,
		.dep = t->dep8 + g * FIB_GRP_SIZE,
	};
}

/* ---- levels ----------------------------------------------------------------
 */

static inline unsigned
level_of(unsigned depth)
{
	return depth <= FIB_TBL24_BITS ? 0 : (depth - FIB_TBL24_BITS + 7) / 8;
}

/* Address bits that the entries of a level cover. */
static inline unsigned
level_bits(unsigned level)
{
	return FIB_TBL24_BITS + FIB_GRP_BITS * level;
}

/* Index of a key's entry at a level. */
static inline uint32_t
level_idx(fib_key_t key, unsigned level)
{
	if (level == 0)
		return (uint32_t)(key >> (128 - FIB_TBL24_BITS));
	return (uint32_t)(key >> (128 - level_bits(level))) & 0xff;
}

/* ---- groups
 * ------------------------------------------------------------------ */

/* Queue an unlinked group for reuse after a grace period. */
static void
grp_retire(struct fib_trie *t, uint32_t g)
{
	uint32_t slot = (t->ret_head + t->ret_count) % t->num_tbl8;

	t->retired[slot].grp = g;
	t->retired[slot].token = 0;
	t->ret_count++;
	t->ret_untok++;
	t->tbl8_used--;
}

/* End of an update: start the grace period of the groups it unlinked. */
static void
grp_seal(struct fib_trie *t)
{
	uint64_t token;
	uint32_t k;

	if (t->ret_untok == 0)
		return;
	token = t->qsbr != NULL ? sl_fib_qsbr_start(t->qsbr) : 1;
	for (k = t->ret_count - t->ret_untok; k < t->ret_count; k++)
		t->retired[(t->ret_head + k) % t->num_tbl8].token = token;
	t->ret_untok = 0;
}

int
fib_trie_reclaim(struct fib_trie *t)
{
	uint64_t ok = 0; /* largest token known to be past */
	struct fib_retired *r;
	int n = 0;

	while (t->ret_count > t->ret_untok) {
		r = &t->retired[t->ret_head];
		if (t->qsbr != NULL && r->token > ok) {
			if (!sl_fib_qsbr_check(t->qsbr, r->token))
				break;
			ok = r->token;
		}
		t->free_grp[t->nfree++] = r->grp;
		t->ret_head = (t->ret_head + 1) % t->num_tbl8;
		t->ret_count--;
		n++;
	}
	return n;
}

/* Take a free group (the caller checked that there is one) and fill it
 * with copies of a leaf and its depth code. */
static uint32_t
grp_new(struct fib_trie *t, uint64_t leaf, uint8_t dc)
{
	uint32_t g = t->free_grp[--t->nfree], j;
	struct fib_node c = grp_node(t, g);

	for (j = 0; j < FIB_GRP_SIZE; j++)
		ent_set(t, c.ent, j, leaf);
	memset(c.dep, dc, FIB_GRP_SIZE);
	t->tbl8_used++;
	return g;
}

/*
 * Fold group g, linked from entry i of parent (at level plevel), back into
 * its parent when none of its entries is a link or comes from a route
 * longer than the parent's level: they then all hold the same leaf.
 * @return true when folded (g is retired).
 */
static bool
grp_fold(struct fib_trie *t, struct fib_node parent, unsigned plevel,
	 uint32_t i, uint32_t g)
{
	struct fib_node c = grp_node(t, g);
	uint8_t limit = (uint8_t)(level_bits(plevel) + 1);
	uint64_t v0 = ent_get(t, c.ent, 0);
	uint32_t j;

	for (j = 0; j < FIB_GRP_SIZE; j++)
		if (c.dep[j] > limit || ent_get(t, c.ent, j) != v0)
			return false;
	if (v0 & FIB_EXT)
		return false;
	parent.dep[i] = c.dep[0];
	ent_publish(t, parent.ent, i, v0);
	grp_retire(t, g);
	return true;
}

/* ---- updates ----------------------------------------------------------------
 */

/*
 * Give entries [lo, lo + n) of a table, and the entries of the groups
 * below them, the leaf of a route of depth code dc where they hold a route
 * no longer than it.
 */
static void
trie_cover(struct fib_trie *t, struct fib_node nd, uint32_t lo, uint32_t n,
	   uint64_t leaf, uint8_t dc)
{
	uint32_t i;
	uint64_t v;

	for (i = lo; i < lo + n; i++) {
		v = ent_get(t, nd.ent, i);
		if (v & FIB_EXT) {
			trie_cover(t, grp_node(t, v >> 1), 0, FIB_GRP_SIZE,
				   leaf, dc);
		} else if (nd.dep[i] <= dc) {
			nd.dep[i] = dc;
			ent_set(t, nd.ent, i, leaf);
		}
	}
}

/*
 * Give the entries of a deleted route (depth code old_dc) in [lo, lo + n)
 * of a table at a level, and in the groups below them, the leaf of the
 * route that covers it (depth code dc). Groups left without entries of
 * their own are folded back.
 */
static void
trie_uncover(struct fib_trie *t, struct fib_node nd, unsigned level,
	     uint32_t lo, uint32_t n, uint8_t old_dc, uint64_t leaf, uint8_t dc)
{
	uint32_t i, g;
	uint64_t v;

	for (i = lo; i < lo + n; i++) {
		v = ent_get(t, nd.ent, i);
		if (v & FIB_EXT) {
			g = (uint32_t)(v >> 1);
			trie_uncover(t, grp_node(t, g), level + 1, 0,
				     FIB_GRP_SIZE, old_dc, leaf, dc);
			(void)grp_fold(t, nd, level, i, g);
		} else if (nd.dep[i] == old_dc) {
			nd.dep[i] = dc;
			ent_set(t, nd.ent, i, leaf);
		}
	}
}

int
fib_trie_add(struct fib_trie *t, fib_key_t key, unsigned depth, uint32_t nh)
{
	unsigned level = level_of(depth), l, need = 0;
	struct fib_node nd = root_node(t);
	struct fib_rule *r;
	uint32_t i, g;
	uint64_t v;

	if (depth > t->maxlen || nh > t->nh_max)
		return -EINVAL;
	key = fib_key_mask(key, depth);
	r = fib_rules_find(&t->rules, key, depth);
	if (r != NULL) {
		/* a new next hop: the path exists, no group is needed */
		if (r->nh == nh)
			return 0;
		r->nh = nh;
	} else {
		if (t->rules.count >= t->rules.max)
			return -ENOSPC;
		for (l = 0; l < level; l++) {
			v = ent_get(t, nd.ent, level_idx(key, l));
			if (!(v & FIB_EXT)) {
				need = level - l;
				break;
			}
			nd = grp_node(t, v >> 1);
		}
		/* without a QSBR domain, only the caller knows when
		 * freed groups are safe: sl_fib4_reclaim() */
		if (need > t->nfree && t->qsbr != NULL)
			(void)fib_trie_reclaim(t);
		if (need > t->nfree)
			return -ENOSPC;
		if (fib_rules_insert(&t->rules, key, depth, nh) < 0)
			return -ENOSPC;
	}

	/* the path down to the route's level, linking new groups */
	nd = root_node(t);
	for (l = 0; l < level; l++) {
		i = level_idx(key, l);
		v = ent_get(t, nd.ent, i);
		if (!(v & FIB_EXT)) {
			g = grp_new(t, v, nd.dep[i]);
			v = (uint64_t)g << 1 | FIB_EXT;
			ent_publish(t, nd.ent, i, v);
		}
		nd = grp_node(t, v >> 1);
	}
	trie_cover(t, nd, level_idx(key, level),
		   1u << (level_bits(level) - depth), (uint64_t)nh << 1,
		   (uint8_t)(depth + 1));
	return 0;
}

int
fib_trie_delete(struct fib_trie *t, fib_key_t key, unsigned depth)
{
	unsigned level = level_of(depth), l, d;
	struct fib_node path[FIB_LEVELS_MAX], nd = root_node(t);
	uint32_t pidx[FIB_LEVELS_MAX];
	struct fib_rule *r, *cover;
	uint64_t v, leaf = t->dflt_leaf;
	uint8_t dc = 0;

	if (depth > t->maxlen)
		return -EINVAL;
	key = fib_key_mask(key, depth);
	r = fib_rules_find(&t->rules, key, depth);
	if (r == NULL)
		return -ENOENT;
	for (l = 0; l < level; l++) {
		path[l] = nd;
		pidx[l] = level_idx(key, l);
		v = ent_get(t, nd.ent, pidx[l]);
		if (!(v & FIB_EXT)) {
			SL_ERR("%s: no group on the path of a route of "
			       "length %u at level %u",
			       t->name, depth, l);
			return -EIO;
		}
		nd = grp_node(t, v >> 1);
	}
	/* the longest route that covers the deleted one */
	for (d = depth; d-- > 0;) {
		cover = fib_rules_find(&t->rules, fib_key_mask(key, d), d);
		if (cover != NULL) {
			leaf = (uint64_t)cover->nh << 1;
			dc = (uint8_t)(d + 1);
			break;
		}
	}
	fib_rules_remove(&t->rules, r);
	trie_uncover(t, nd, level, level_idx(key, level),
		     1u << (level_bits(level) - depth), (uint8_t)(depth + 1),
		     leaf, dc);
	/* fold the groups of the path that are left without routes */
	for (l = level; l-- > 0;) {
		v = ent_get(t, path[l].ent, pidx[l]);
		if (!(v & FIB_EXT) ||
		    !grp_fold(t, path[l], l, pidx[l], (uint32_t)(v >> 1)))
			break;
	}
	grp_seal(t);
	return 0;
}

int
fib_trie_get(const struct fib_trie *t, fib_key_t key, unsigned depth,
	     uint32_t *nh)
{
	const struct fib_rule *r;

	if (depth > t->maxlen)
		return -EINVAL;
	r = fib_rules_find(&t->rules, fib_key_mask(key, depth), depth);
	if (r == NULL)
		return -ENOENT;
	if (nh != NULL)
		*nh = r->nh;
	return 0;
}

void
fib_trie_stats(const struct fib_trie *t, struct sl_fib_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->routes = t->rules.count;
	st->max_routes = t->rules.max;
	st->tbl8_total = t->num_tbl8;
	st->tbl8_used = t->tbl8_used;
	st->tbl8_retired = t->ret_count;
	st->tbl8_free = t->nfree;
	st->entry_size = t->esize;
}

/* ---- creation
 * ----------------------------------------------------------------- */

/*
 * Memory for a table that lookups read at random: a region on hugepages
 * when the system has them; else on small pages that the kernel is asked
 * to back with transparent huge pages.
 */
static void *
table_alloc(struct sl_memregion **mrp, const char *name, const char *what,
	    size_t len)
{
	char rname[SL_FIB_NAMESIZE + 16];

	snprintf(rname, sizeof(rname), "%s.%s", name, what);
	*mrp = sl_memregion_alloc(rname, len, SL_MEM_F_THP);
	return *mrp != NULL ? (*mrp)->addr : NULL;
}

int
fib_trie_init(struct fib_trie *t, const char *name, unsigned maxlen,
	      const struct sl_fib_conf *conf)
{
	static const struct sl_fib_conf dflt;
	uint32_t routes, ntbl8, g;
	size_t i;
	int err;

	if (conf == NULL)
		conf = &dflt;
	routes = conf->max_routes != 0 ? conf->max_routes
				       : SL_FIB_DEFAULT_ROUTES;
	ntbl8 = conf->num_tbl8;
	if (ntbl8 == 0)
		ntbl8 = maxlen == 32 ? SL_FIB4_DEFAULT_TBL8
				     : SL_FIB6_DEFAULT_TBL8;
	if (name == NULL || strlen(name) >= SL_FIB_NAMESIZE ||
	    (conf->flags & ~SL_FIB_F_COMPACT) != 0 ||
	    routes > SL_FIB_ROUTES_MAX || ntbl8 > SL_FIB_TBL8_MAX ||
	    ((conf->flags & SL_FIB_F_COMPACT) &&
	     conf->default_nh > SL_FIB_COMPACT_NH_MAX))
		return -EINVAL;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->maxlen = maxlen;
	t->num_tbl8 = ntbl8;
	t->esize = conf->flags & SL_FIB_F_COMPACT ? 4 : 8;
	t->nh_max = conf->flags & SL_FIB_F_COMPACT ? SL_FIB_COMPACT_NH_MAX
						   : UINT32_MAX;
	t->default_nh = conf->default_nh;
	t->dflt_leaf = (uint64_t)conf->default_nh << 1;
	t->qsbr = conf->qsbr;

	err = -ENOMEM;
	t->tbl24 = table_alloc(&t->mr24, name, "tbl24",
			       (size_t)FIB_TBL24_SIZE * t->esize);
	t->tbl8 = table_alloc(&t->mr8, name, "tbl8",
			      (size_t)ntbl8 * FIB_GRP_SIZE * t->esize);
	t->dep24 = calloc(FIB_TBL24_SIZE, 1);
	t->dep8 = calloc((size_t)ntbl8 * FIB_GRP_SIZE, 1);
	t->free_grp = malloc(ntbl8 * sizeof(*t->free_grp));
	t->retired = malloc(ntbl8 * sizeof(*t->retired));
	if (t->tbl24 == NULL || t->tbl8 == NULL || t->dep24 == NULL ||
	    t->dep8 == NULL || t->free_grp == NULL || t->retired == NULL)
		goto fail;
	err = fib_rules_init(&t->rules, routes);
	if (err < 0)
		goto fail;
	/* every address has the default next hop; this also maps the
	 * whole first table now, not on the data path */
	for (i = 0; i < FIB_TBL24_SIZE; i++)
		ent_set(t, t->tbl24, i, t->dflt_leaf);
	/* lowest groups first: they are the ones already mapped */
	for (g = 0; g < ntbl8; g++)
		t->free_grp[g] = ntbl8 - 1 - g;
	t->nfree = ntbl8;
	return 0;
fail:
	SL_ERR("%s: cannot allocate the tables (%u groups of %u-byte "
	       "entries, %u routes): %s",
	       name, ntbl8, t->esize, routes, strerror(-err));
	fib_trie_fini(t);
	return err;
}

void
fib_trie_fini(struct fib_trie *t)
{
	fib_rules_fini(&t->rules);
	sl_memregion_free(t->mr24);
	sl_memregion_free(t->mr8);
	free(t->dep24);
	free(t->dep8);
	free(t->free_grp);
	free(t->retired);
	memset(t, 0, sizeof(*t));
}
