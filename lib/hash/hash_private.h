/*
 * Internals of the cuckoo hash table shared by its control-plane part
 * (sl_hash.c) and its lookup paths (hash_lookup.c): the table and bucket
 * layout, the hash function, signatures and alternative buckets, and the
 * atomic accessors every shared word goes through.
 */
#ifndef HASH_PRIVATE_H
#define HASH_PRIVATE_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(SL_HASH_PORTABLE)
#include <emmintrin.h>
#define HASH_SIG_SSE2 1
#endif
#if defined(__SSE4_2__) && !defined(SL_HASH_PORTABLE)
#define HASH_CRC32C 1
#endif

#include "sluice/sl_common.h"
#include "sluice/sl_hash.h"
#include "sluice/sl_mem.h"

/*
 * Every word that a reader may read while the writer writes it is accessed
 * through these (C11 memory model; on x86 they are plain moves).
 */
#define HASH_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define HASH_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define HASH_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define HASH_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Signature of an empty entry; a key's signature is never 0. */
#define HASH_SIG_EMPTY 0
/* Signature lanes per 64-bit word of a bucket. */
#define HASH_SIGS_PER_WORD 4

/* Breadth-first search for a free entry: most buckets queued, most moves. */
#define HASH_BFS_NODES 1024
#define HASH_BFS_DEPTH 5

/* Seed of the hash function (fixed: hash values are reproducible). */
#define HASH_SEED 0x6a09e667u

/*
 * One bucket: one cache line. Entry j is in use when its 16-bit signature,
 * lane j of sig[], is not HASH_SIG_EMPTY; idx[j] is then its key record.
 * ver is even when the bucket is stable, odd while the writer changes it.
 * ovf counts the keys whose primary bucket this is that live in their
 * alternative bucket, and ovf_bits has bit hash_ovf_bit() of each such
 * key's signature set (and maybe bits of keys gone since: it is cleared
 * when ovf returns to 0). A key whose bit is clear and that is not in this
 * bucket is nowhere: most misses are decided on this one line.
 */
struct hash_bucket {
	uint64_t sig[SL_HASH_BUCKET_ENTRIES / HASH_SIGS_PER_WORD];
	uint32_t ver;
	uint32_t idx[SL_HASH_BUCKET_ENTRIES];
	uint32_t ovf;	   /* writer only */
	uint32_t ovf_bits; /* read by lookups */
	uint8_t in_alt; /* writer only: bit j, entry j is in its alt bucket */
	uint8_t pad[3];
} __sl_cache_aligned;

SL_STATIC_ASSERT(sizeof(struct hash_bucket) == SL_CACHE_LINE,
		 "a hash bucket must be one cache line");
SL_STATIC_ASSERT(SL_HASH_BUCKET_ENTRIES == 8,
		 "the signature compare handles 8 entries per bucket");

/* A node of the breadth-first search: a bucket reached from its parent. */
struct hash_bfs_node {
	uint32_t bkt;	 /* bucket index */
	int32_t parent;	 /* node index, -1 for the key's own two buckets */
	uint8_t slot;	 /* entry of the parent bucket that moves here */
	uint8_t depth;	 /* moves from a root */
	uint16_t unused; /* keeps the node 12 bytes */
};

/* Lookup of one key with its hash (a specialisation per key length). */
typedef int (*hash_lookup_fn)(const struct sl_hash *h, const void *key,
			      uint32_t hv, uint64_t *value);
/* Bulk lookup (hashes NULL: hash the keys). */
typedef int (*hash_bulk_fn)(const struct sl_hash *h, const void *const *keys,
			    const uint32_t *hashes, unsigned n,
			    uint64_t *hit_mask, uint64_t *values);

struct sl_hash {
	/* read by every lookup, written only at creation */
	struct hash_bucket *buckets;
	uint8_t *store;	     /* key records: [value][key, zero padded] */
	uint32_t nb_buckets; /* even, at least 2 */
	uint32_t key_len;
	uint32_t rec_size; /* bytes per key record */
	hash_lookup_fn lookup;
	hash_bulk_fn bulk;
	/*
	 * Written by the writer, read by lookups, on a line of their own.
	 * seq is odd while the writer removes an entry anywhere (a delete, a
	 * move, a reset): a bulk lookup that sees it even and unchanged from
	 * its start to its end saw no entry removed and needs no check per
	 * bucket.
	 */
	uint32_t seq __sl_cache_aligned;
	uint32_t count; /* keys present */
	/* writer only */
	uint32_t entries; /* key records */
	uint32_t nfree;	  /* entries of free_idx in use */
	uint32_t *free_idx;
	struct hash_bfs_node *bfs;
	uint64_t rng;
	struct sl_hash_stats st; /* written by the writer, atomically */
	struct sl_memregion *mr;
	char name[SL_HASH_NAMESIZE];
} __sl_cache_aligned;

/* @return bytes of a key record for a key length. */
static inline uint32_t
hash_rec_size(uint32_t key_len)
{
	uint32_t raw = 8 + (uint32_t)sl_align_ceil(key_len, 8);

	return raw <= SL_CACHE_LINE ? sl_align32pow2(raw)
				    : (uint32_t)sl_align_ceil(raw, 16);
}

static __sl_always_inline uint64_t
hash_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* @return the last len (1..7) bytes of a key as a zero-padded word. */
static __sl_always_inline uint64_t
hash_load_tail(const uint8_t *p, uint32_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len);
	return v;
}

/*
 * The hash of a key of len bytes. With len a constant the loop unrolls.
 * CRC32C over 8-byte words then the tail, or (without SSE4.2) a
 * multiply-xorshift mix of the same words.
 */
static __sl_always_inline uint32_t
hash_key(const void *key, uint32_t len)
{
	const uint8_t *p = key;
#ifdef HASH_CRC32C
	uint64_t c = HASH_SEED;
	uint32_t t;

	for (; len >= 8; len -= 8, p += 8)
		c = __builtin_ia32_crc32di(c, hash_load64(p));
	t = (uint32_t)c;
	if (len & 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		t = __builtin_ia32_crc32si(t, w);
		p += 4;
	}
	if (len & 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		t = __builtin_ia32_crc32hi(t, w);
		p += 2;
	}
	if (len & 1)
		t = __builtin_ia32_crc32qi(t, *p);
	return t;
#else
	uint64_t x = HASH_SEED ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull);

	for (; len >= 8; len -= 8, p += 8) {
		x = (x ^ hash_load64(p)) * 0xbf58476d1ce4e5b9ull;
		x ^= x >> 31;
	}
	if (len != 0) {
		x = (x ^ hash_load_tail(p, len)) * 0xbf58476d1ce4e5b9ull;
		x ^= x >> 31;
	}
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (uint32_t)(x ^ (x >> 32));
#endif
}

/* @return the signature of a hash: its upper 16 bits, never 0. */
static __sl_always_inline uint16_t
hash_sig(uint32_t hv)
{
	uint16_t s = (uint16_t)(hv >> 16);

	return (uint16_t)(s + (s == 0));
}

/*
 * @return the primary bucket of a hash among nb: the hash, rotated so
 * that its low half (independent of the signature) leads, scaled to
 * [0, nb) with a multiply (nb need not be a power of two).
 */
static __sl_always_inline uint32_t
hash_bucket_idx(uint32_t hv, uint32_t nb)
{
	uint32_t r = hv << 16 | hv >> 16;

	return (uint32_t)(((uint64_t)r * nb) >> 32);
}

/*
 * @return the other bucket of an entry in bucket b with signature sig,
 * among nb (even): t - b modulo nb for a t mixed from the signature, or,
 * for the two buckets that map to themselves (2b = t modulo nb), each
 * other (b + nb/2). An involution (alt(alt(b)) == b), never b itself.
 */
static __sl_always_inline uint32_t
hash_alt(uint32_t b, uint16_t sig, uint32_t nb)
{
	uint32_t t =
		(uint32_t)(((uint64_t)((uint32_t)sig * 0x9e3779b1u) * nb) >>
			   32);
	uint32_t d = t - b + (t < b ? nb : 0);

	if (unlikely(d == b)) {
		d = b + nb / 2;
		d -= d >= nb ? nb : 0;
	}
	return d;
}

/* @return the bit of ovf_bits that stands for a signature. */
static __sl_always_inline uint32_t
hash_ovf_bit(uint16_t sig)
{
	return UINT32_C(1) << (sig & 31);
}

/*
 * @return a mask of the entries of a bucket whose signature is sig (bit j:
 * entry j). The two signature words are read with acquire loads: an entry
 * whose signature is seen also has its key index and record visible.
 */
static __sl_always_inline uint32_t
hash_sig_match(const struct hash_bucket *b, uint16_t sig)
{
	uint64_t lo = HASH_LOAD_ACQ(&b->sig[0]);
	uint64_t hi = HASH_LOAD_ACQ(&b->sig[1]);
#ifdef HASH_SIG_SSE2
	__m128i v = _mm_set_epi64x((long long)hi, (long long)lo);
	__m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16((short)sig));

	return (uint32_t)_mm_movemask_epi8(
		_mm_packs_epi16(eq, _mm_setzero_si128()));
#else
	const uint64_t l = 0x7fff7fff7fff7fffull;
	const uint64_t s = (uint64_t)sig * 0x0001000100010001ull;
	/* exact zero-lane test: bit 15 of a lane set iff the lane is 0 */
	uint64_t x0 = lo ^ s, x1 = hi ^ s;
	uint64_t z0 = ~(((x0 & l) + l) | x0 | l);
	uint64_t z1 = ~(((x1 & l) + l) | x1 | l);

	/* gather bits 15, 31, 47, 63 into bits 0..3 */
	z0 = ((z0 >> 15) * 0x0000200040008001ull) >> 45;
	z1 = ((z1 >> 15) * 0x0000200040008001ull) >> 45;
	return (uint32_t)((z0 & 0xf) | (z1 & 0xf) << 4);
#endif
}

/* @return the key record of key index i. */
static __sl_always_inline uint8_t *
hash_rec(const struct sl_hash *h, uint32_t i, uint32_t rec_size)
{
	return h->store + (size_t)i * rec_size;
}

/* @return a record's value word. */
static __sl_always_inline uint64_t *
hash_rec_value(uint8_t *rec)
{
	return (uint64_t *)(void *)rec;
}

/* @return a record's key words (zero padded to a multiple of 8 bytes). */
static __sl_always_inline uint64_t *
hash_rec_key(uint8_t *rec)
{
	return (uint64_t *)(void *)(rec + 8);
}

/*
 * @return true when the key words of a record hold key (len bytes). The
 * record is read with relaxed atomic loads: it may be reused by the writer
 * meanwhile, which the caller detects through the bucket version.
 */
static __sl_always_inline bool
hash_key_eq(const uint64_t *rk, const void *key, uint32_t len)
{
	const uint8_t *k = key;
	uint64_t diff = 0;

	for (; len >= 8; len -= 8, k += 8, rk++)
		diff |= HASH_LOAD(rk) ^ hash_load64(k);
	if (len != 0)
		diff |= HASH_LOAD(rk) ^ hash_load_tail(k, len);
	return diff == 0;
}

/* Choose the lookup paths specialised for the table's key length. */
void hash_lookup_select(struct sl_hash *h);

#endif /* HASH_PRIVATE_H */
