/*
 * Internals of the FIB: one multibit trie engine (24-bit first level, then
 * 8-bit levels) serves both families; IPv4 uses 2 levels, IPv6 14. The
 * control plane works on 128-bit keys (the address left-aligned: bit 127
 * is the first bit of the address); the lookups of each family are in
 * sl_fib4.c and sl_fib6.c.
 */
#ifndef FIB_PRIVATE_H
#define FIB_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/sl_fib.h"
#include "sluice/sl_mem.h"

__extension__ typedef unsigned __int128 fib_key_t;

#define FIB_TBL24_BITS 24
#define FIB_TBL24_SIZE (1u << FIB_TBL24_BITS)
#define FIB_GRP_BITS 8
#define FIB_GRP_SIZE (1u << FIB_GRP_BITS)
/* Low bit of an entry: it points to a group (else it is a leaf). */
#define FIB_EXT 1u
/* Most levels: IPv6 has 1 + (128 - 24) / 8. */
#define FIB_LEVELS_MAX 14
/* Longest prefix (IPv6). */
#define FIB_DEPTH_MAX 128

/* A route of the rule store. dc (depth code) is the prefix length + 1;
 * 0 marks an empty slot. */
struct fib_rule {
	fib_key_t key;
	uint32_t nh;
	uint8_t dc;
};

/* Open-addressing hash table of routes (linear probing, backward-shift
 * deletion, at most half full). */
struct fib_rules {
	struct fib_rule *slots;
	uint32_t mask;
	uint32_t count, max;
	uint32_t per_depth[FIB_DEPTH_MAX + 1]; /* routes of each length */
};

int fib_rules_init(struct fib_rules *r, uint32_t max);
void fib_rules_fini(struct fib_rules *r);
struct fib_rule *fib_rules_find(const struct fib_rules *r, fib_key_t key,
				unsigned depth);
/* Insert a route known to be absent: 0 or -ENOSPC. */
int fib_rules_insert(struct fib_rules *r, fib_key_t key, unsigned depth,
		     uint32_t nh);
void fib_rules_remove(struct fib_rules *r, struct fib_rule *slot);

/* A group freed by a delete, waiting for its grace period. */
struct fib_retired {
	uint32_t grp;
	uint64_t token; /* 0: not assigned yet (the update is running) */
};

/*
 * The trie. The fields the lookups read come first, on one cache line.
 * Entries are esize bytes: a leaf is nh << 1, a link is group << 1 | 1.
 */
struct fib_trie {
	void *tbl24;	     /* FIB_TBL24_SIZE entries */
	void *tbl8;	     /* num_tbl8 * FIB_GRP_SIZE entries */
	uint32_t esize;	     /* 4 or 8 */
	uint32_t default_nh; /* next hop where no route matches */

	/* control plane */
	char name[SL_FIB_NAMESIZE] __sl_cache_aligned;
	uint32_t maxlen;    /* 32 or 128 */
	uint32_t num_tbl8;  /* groups */
	uint64_t nh_max;    /* largest next hop */
	uint64_t dflt_leaf; /* default_nh << 1 */
	uint8_t *dep24;	    /* per entry: dc of the route that filled it */
	uint8_t *dep8;
	struct sl_memregion *mr24, *mr8;
	uint32_t *free_grp; /* stack of free groups */
	uint32_t nfree;
	struct fib_retired *retired; /* FIFO of num_tbl8 slots */
	uint32_t ret_head, ret_count, ret_untok;
	uint32_t tbl8_used;
	struct sl_fib_qsbr *qsbr;
	struct fib_rules rules;
};

/* The FIBs of the API are the trie (the unit test's white-box reader
 * walks it too). */
struct sl_fib4 {
	struct fib_trie t;
};

struct sl_fib6 {
	struct fib_trie t;
};

int fib_trie_init(struct fib_trie *t, const char *name, unsigned maxlen,
		  const struct sl_fib_conf *conf);
void fib_trie_fini(struct fib_trie *t);
int fib_trie_add(struct fib_trie *t, fib_key_t key, unsigned depth,
		 uint32_t nh);
int fib_trie_delete(struct fib_trie *t, fib_key_t key, unsigned depth);
int fib_trie_get(const struct fib_trie *t, fib_key_t key, unsigned depth,
		 uint32_t *nh);
int fib_trie_reclaim(struct fib_trie *t);
void fib_trie_stats(const struct fib_trie *t, struct sl_fib_stats *st);

/* @return key with the bits past depth cleared. */
static inline fib_key_t
fib_key_mask(fib_key_t key, unsigned depth)
{
	if (depth == 0)
		return 0;
	return key & ~(((fib_key_t)1 << (128 - depth)) - 1);
}

/* ---- entries, for the lookups ------------------------------------------- */

/* Load entry i of a table: acquire, since a link must show a full group. */
static __sl_always_inline uint64_t
fib_ent_acq(const void *tbl, size_t i, unsigned esize)
{
	if (esize == 8)
		return __atomic_load_n((const uint64_t *)tbl + i,
				       __ATOMIC_ACQUIRE);
	return __atomic_load_n((const uint32_t *)tbl + i, __ATOMIC_ACQUIRE);
}

/* Load an entry that can only be a leaf (IPv4's groups): relaxed. */
static __sl_always_inline uint64_t
fib_ent_rlx(const void *tbl, size_t i, unsigned esize)
{
	if (esize == 8)
		return __atomic_load_n((const uint64_t *)tbl + i,
				       __ATOMIC_RELAXED);
	return __atomic_load_n((const uint32_t *)tbl + i, __ATOMIC_RELAXED);
}

/* Address of entry i, for prefetching. */
static __sl_always_inline const void *
fib_ent_addr(const void *tbl, size_t i, unsigned esize)
{
	return (const char *)tbl + i * esize;
}

#endif /* FIB_PRIVATE_H */
