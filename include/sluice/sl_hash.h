/**
 * @file Cuckoo hash table with signatures: exact-match lookup of fixed-size
 * keys to 64-bit values.
 *
 * The stack keeps its neighbour and flow tables in it, and graph nodes look
 * packets up in bursts with sl_hash_lookup_bulk(). Keys have a fixed length
 * given at creation (1 to SL_HASH_KEY_LEN_MAX bytes); a value is a
 * `uint64_t` (a pointer fits: store `(uintptr_t)ptr`).
 *
 * Design:
 * - Bucketized cuckoo hashing: each key has two candidate buckets of
 *   SL_HASH_BUCKET_ENTRIES entries. The primary bucket comes from the hash,
 *   the alternative from the primary and the key's 16-bit signature (so an
 *   entry can be moved to its other bucket without its key). A bucket is one
 *   cache line: the signatures of its entries, a version counter, the
 *   index of each entry's key in the key store, and overflow bits: one bit
 *   (chosen by the signature) for each key whose primary bucket it is that
 *   lives in its alternative bucket. A lookup that matches nothing in a
 *   primary bucket where its bit is clear is a miss decided on that one
 *   cache line.
 * - Keys and values live in a separate key store, one record per key index;
 *   a record is never larger than a cache line for keys up to 56 bytes.
 * - Insertion goes to the primary bucket, then the alternative one, and
 *   otherwise searches breadth-first for a short chain of entries to move
 *   to their other buckets (a bounded search); when that fails too the
 *   table is full (ENOSPC).
 * - The table is sized so that `entries` keys fit: it has at least
 *   `entries / 0.9` bucket entries (an even number of buckets, not rounded
 *   up to a power of two: a table larger than needed costs cache misses)
 *   and exactly `entries` key records.
 * - The hash is CRC32C (SSE4.2) when the build targets a CPU that has it,
 *   and a 64-bit multiply-xorshift mix otherwise; hash values are only
 *   meaningful within one build of the library (never store them).
 *
 * Concurrency: one writer, any number of lock-free readers.
 * - Lookups (sl_hash_lookup*, sl_hash_count) may run on any number of
 *   threads, with no lock, at the same time as one writer thread that adds,
 *   updates, deletes or resets. Two writers at once need a lock of the
 *   caller's.
 * - A lookup returns a value that was associated with that key at some
 *   moment during the call, and finds every key present during the whole
 *   call: keys being moved between their buckets are not missed.
 * - How: each bucket has a version counter that the writer makes odd
 *   while it changes the bucket's entries (a move or a delete) and even
 *   again after. A reader notes the versions of the buckets it reads,
 *   reads signatures, key and value, and checks the versions again; when a
 *   version moved it looks the key up again. A bulk lookup first checks
 *   one table-wide counter instead, which the writer moves the same way
 *   around every removal: when it did not move during the bulk, no bucket
 *   version needs checking; when it did, the bulk runs again with them.
 *   Readers take no lock and write nothing shared; a reader waits only
 *   while the writer is in the middle of changing one of the key's two
 *   buckets (a few stores). A deleted key's record may be reused at once
 *   for another key: a reader still comparing the old key sees the version
 *   of its bucket move and retries, so it never returns the new key's
 *   value for the old key. Every shared word is read and written with C11
 *   atomics (no data race).
 * - Iteration and the key pointers it returns are for the writer thread
 *   (or when no writer runs): a key's bytes change when its record is
 *   reused.
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stdint.h>

#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest key, in bytes. */
#define SL_HASH_KEY_LEN_MAX 64
/** Most keys one sl_hash_lookup_bulk() call takes (bits of its hit mask). */
#define SL_HASH_LOOKUP_BULK_MAX 64
/** Most entries a table can be created for (2^28). */
#define SL_HASH_ENTRIES_MAX (1u << 28)
/** Entries per bucket. */
#define SL_HASH_BUCKET_ENTRIES 8
/** Size of a table's name buffer (a name has at most 31 characters). */
#define SL_HASH_NAMESIZE 32

/** A hash table (opaque). */
struct sl_hash;

/** Counters of the writer's work, for metrics. */
struct sl_hash_stats {
	uint64_t adds;	  /**< keys added */
	uint64_t updates; /**< values replaced by sl_hash_add() */
	uint64_t dels;	  /**< keys deleted */
	uint64_t moves;	  /**< entries moved to their other bucket */
	uint64_t full;	  /**< sl_hash_add() calls that failed with ENOSPC */
};

/**
 * Create an empty table.
 * @param name Name for log lines, at most SL_HASH_NAMESIZE - 1 characters.
 * @param entries Keys the table must hold, 1..SL_HASH_ENTRIES_MAX.
 * @param key_len Key length in bytes, 1..SL_HASH_KEY_LEN_MAX.
 * @return The table, or NULL with errno EINVAL (NULL or long name, entries
 *   or key_len out of range) or ENOMEM.
 */
SL_API struct sl_hash *sl_hash_create(const char *name, uint32_t entries,
				      uint32_t key_len);

/**
 * Free a table. No reader may use it any more. NULL is a no-op.
 */
SL_API void sl_hash_free(struct sl_hash *h);

/**
 * Hash a key the way the table does, for the _with_hash functions (hash
 * once, then add, look up or delete with the same value).
 * @return The key's 32-bit hash.
 */
SL_API uint32_t sl_hash_hash(const struct sl_hash *h, const void *key);

/**
 * Add a key, or change the value of a key already present. Writer only.
 * @return 0 when the key was added, 1 when it was present and its value
 *   replaced, -EINVAL (NULL argument), -ENOSPC (the table holds `entries`
 *   keys, or no chain of moves frees an entry in the key's buckets).
 */
SL_API int sl_hash_add(struct sl_hash *h, const void *key, uint64_t value);

/**
 * sl_hash_add() with the key's hash already computed by sl_hash_hash().
 * @return as sl_hash_add().
 */
SL_API int sl_hash_add_with_hash(struct sl_hash *h, const void *key,
				 uint32_t hash, uint64_t value);

/**
 * Delete a key. Writer only.
 * @return 0, -ENOENT (no such key), -EINVAL (NULL argument).
 */
SL_API int sl_hash_del(struct sl_hash *h, const void *key);

/**
 * sl_hash_del() with the key's hash already computed.
 * @return as sl_hash_del().
 */
SL_API int sl_hash_del_with_hash(struct sl_hash *h, const void *key,
				 uint32_t hash);

/**
 * Look a key up. Any thread, lock-free.
 * @param value Receives the key's value on success (may be NULL).
 * @return 0, -ENOENT (no such key), -EINVAL (NULL table or key).
 */
SL_API int sl_hash_lookup(const struct sl_hash *h, const void *key,
			  uint64_t *value);

/**
 * sl_hash_lookup() with the key's hash already computed.
 * @return as sl_hash_lookup().
 */
SL_API int sl_hash_lookup_with_hash(const struct sl_hash *h, const void *key,
				    uint32_t hash, uint64_t *value);

/**
 * Look up to SL_HASH_LOOKUP_BULK_MAX keys at once, pipelined: hash every
 * key, prefetch the buckets, compare signatures, prefetch the keys, compare
 * keys. Any thread, lock-free.
 * @param keys n pointers to keys.
 * @param n Number of keys, 0..SL_HASH_LOOKUP_BULK_MAX.
 * @param hit_mask Receives bit i set when keys[i] was found.
 * @param values values[i] receives the value of keys[i] when found; for a
 *   key not found it is unspecified.
 * @return The number of keys found, 0..n, or -EINVAL (NULL argument, n too
 *   large).
 */
SL_API int sl_hash_lookup_bulk(const struct sl_hash *h, const void *const *keys,
			       unsigned n, uint64_t *hit_mask,
			       uint64_t *values);

/**
 * sl_hash_lookup_bulk() with the keys' hashes already computed.
 * @param hashes hashes[i] is sl_hash_hash() of keys[i].
 * @return as sl_hash_lookup_bulk().
 */
SL_API int sl_hash_lookup_bulk_with_hash(const struct sl_hash *h,
					 const void *const *keys,
					 const uint32_t *hashes, unsigned n,
					 uint64_t *hit_mask, uint64_t *values);

/**
 * Visit the keys one by one. Writer thread only (or no writer running):
 * each key present for the whole iteration is visited exactly once.
 * @param pos Iteration state: set *pos to 0 to start.
 * @param key Receives a pointer to the key in the table, valid until the
 *   key is deleted.
 * @param value Receives the key's value (may be NULL).
 * @return 0 (one key returned), -ENOENT (no more keys), -EINVAL (NULL
 *   argument).
 */
SL_API int sl_hash_iterate(const struct sl_hash *h, uint32_t *pos,
			   const void **key, uint64_t *value);

/** @return The number of keys in the table (0 for NULL). Any thread. */
SL_API uint32_t sl_hash_count(const struct sl_hash *h);

/** @return The number of keys the table can hold (0 for NULL). */
SL_API uint32_t sl_hash_capacity(const struct sl_hash *h);

/**
 * Read the writer's counters. Any thread (each counter is read atomically;
 * together they are not a snapshot).
 * @return 0 or -EINVAL (NULL argument).
 */
SL_API int sl_hash_stats_get(const struct sl_hash *h, struct sl_hash_stats *st);

/**
 * Delete every key (the counters stay). Writer only; concurrent readers see
 * keys vanish and never a wrong value. NULL is a no-op.
 */
SL_API void sl_hash_reset(struct sl_hash *h);

#ifdef __cplusplus
}
#endif
#endif /* SL_HASH_H */
