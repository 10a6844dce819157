/**
 * @file Mempool: pools of fixed-size objects over one memory region.
 *
 * A mempool sits between the memory regions of core and everything that
 * holds packets: the mbuf layer makes every packet frame one mempool object,
 * and for AF_XDP the UMEM itself is the pool's memory (D1), so frame i of
 * the UMEM is object i of the pool.
 *
 * Layout: object i is at `base + i * obj_size`, with no hidden header, so
 * an address converts to an object index and back in O(1). The pool's own
 * bookkeeping (this struct, the free ring, the caches, the debug state)
 * lives in separate memory, never in the object area.
 *
 * Free objects sit in a multi-producer/multi-consumer ring and in one cache
 * per registered thread (indexed by sl_thread_id()). A cache is a LIFO
 * array: get and put move pointers between the caller and the top of the
 * array and touch no shared cache line. When a cache runs dry or overflows
 * it is refilled from, or drained into, the ring in one bulk move. Threads
 * that are not registered go to the ring directly and count their stats in
 * shared atomic counters.
 *
 * With SL_DEBUG (meson -Dsl_debug=true) every put is checked: a pointer
 * outside the object area, a pointer that is not an object's start and a
 * second put of a free object are logged (pool name and object index),
 * refused and counted in stats.bad_puts. Without SL_DEBUG the checks are
 * not compiled in.
 */
#ifndef SL_MEMPOOL_H
#define SL_MEMPOOL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sl_common.h"
#include "sl_mem.h"
#include "sl_ring.h"
#include "sl_thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a pool's name buffer: a name has 1 to SL_MEMPOOL_NAMESIZE - 1 chars.
 */
#define SL_MEMPOOL_NAMESIZE 32
/** Largest per-thread cache size (cfg.cache_size). */
#define SL_MEMPOOL_CACHE_MAX 512
/** Object sizes and caller memory must be multiples of this (bytes). */
#define SL_MEMPOOL_OBJ_ALIGN 8
/** Smallest object size in bytes. */
#define SL_MEMPOOL_OBJ_MIN 8
/** Most objects in one pool (2^28, the largest free ring). */
#define SL_MEMPOOL_MAX_OBJS (1u << 28)

/** Flag: map the pool's own memory on 4 KB pages only. */
#define SL_MEMPOOL_F_NO_HUGE 0x1u
/** Flag: map the pool's own memory on hugepages or fail with ENOMEM. */
#define SL_MEMPOOL_F_HUGE_ONLY 0x2u
/** Flag: map the pool's own memory MAP_SHARED (inherited across fork). */
#define SL_MEMPOOL_F_SHARED 0x4u

struct sl_mempool;

/**
 * Called once per object at creation, in index order, before any object
 * can be got.
 * @param mp The pool being created.
 * @param obj The object (its obj_size bytes are the pool memory as given:
 *   zero for the pool's own memory, untouched caller memory otherwise).
 * @param idx Its index.
 * @param arg cfg.obj_init_arg.
 */
typedef void (*sl_mempool_obj_init_fn)(struct sl_mempool *mp, void *obj,
				       uint32_t idx, void *arg);

/** How to make a pool (see sl_mempool_create()). */
struct sl_mempool_cfg {
	/** Name for logs, 1 to SL_MEMPOOL_NAMESIZE - 1 characters; copied. */
	const char *name;
	/** Number of objects, 1 to SL_MEMPOOL_MAX_OBJS. */
	uint32_t n;
	/** Bytes per object: >= SL_MEMPOOL_OBJ_MIN, a multiple of
	 *  SL_MEMPOOL_OBJ_ALIGN. A power of two makes address to index
	 *  conversion a shift instead of a division. */
	uint32_t obj_size;
	/** Objects a thread's cache keeps after a refill or a drain, 0 (no
	 *  cache) to SL_MEMPOOL_CACHE_MAX, and at most n / 2. A cache holds up
	 *  to 2 * cache_size objects. */
	uint32_t cache_size;
	/** Caller memory for the objects, or NULL for memory of the pool's
	 *  own (sl_memregion_alloc(): hugepages with fallback to 4 KB pages).
	 *  Caller memory must be 8-byte aligned; the pool never frees it and
	 *  writes nothing into it (only obj_init does). */
	void *addr;
	/** Bytes at addr, at least n * obj_size; must be 0 when addr is NULL.
	 */
	size_t len;
	/** SL_MEMPOOL_F_*; the memory flags matter only without addr. */
	unsigned flags;
	/** Optional object initialiser, or NULL. */
	sl_mempool_obj_init_fn obj_init;
	/** Argument of obj_init. */
	void *obj_init_arg;
};

/** Counters of a pool, summed over every thread. */
struct sl_mempool_stats {
	uint64_t gets;	     /**< objects handed out by successful gets */
	uint64_t puts;	     /**< objects taken back by puts */
	uint64_t cache_hits; /**< objects of gets served by the calling
			      *   thread's cache without touching the ring */
	uint64_t empty;	     /**< get calls that failed (-ENOBUFS) */
	uint64_t bad_puts;   /**< objects refused by puts: with SL_DEBUG, double
			      *   frees and foreign pointers; in any build,
			      *   objects the free ring could not take (only
			      *   possible after a double free) */
};

/* ---- layout for inlining (fields are not API) ---------------------------- */

/** @internal A thread's cache: a LIFO array of free objects. */
struct __sl_mempool_cache {
	uint32_t len;  /**< objects in objs[]; the top is objs[len - 1] */
	uint32_t cap;  /**< room in objs[]: 2 * size (0: no cache) */
	uint32_t size; /**< level left by a refill or a drain */
	uint32_t __rsvd;
	uint64_t gets;	    /**< objects got (single writer: the owner) */
	uint64_t puts;	    /**< objects put */
	uint64_t ring_gets; /**< objects got by calls that used the ring */
	uint64_t empty;	    /**< failed get calls */
	void *objs[];	    /**< cap entries */
};

/**
 * @internal A pool. Public only so that get/put and the index helpers can
 * be inlined; use the accessor functions.
 */
struct sl_mempool {
	/* read-only after creation, read on every get/put */
	char *caches;	      /**< SL_MAX_THREADS caches, cache_stride apart */
	size_t cache_stride;  /**< bytes per cache, a multiple of 64 */
	struct sl_ring *ring; /**< free objects not in a cache */
	char *base;	      /**< object 0 */
	size_t area_len;      /**< n * obj_size */
	uint32_t obj_size;    /**< bytes per object */
	uint32_t obj_shift;   /**< log2(obj_size) if a power of 2, else 0 */
	uint32_t n;	      /**< number of objects */
	uint32_t cache_size;  /**< cfg.cache_size */
	uint8_t *dbg_state;   /**< SL_DEBUG library: a state per object */
	/** counters of threads without a cache (atomic adds) */
	struct {
		uint64_t gets, puts, empty, bad_puts;
	} shared __sl_cache_aligned;
	/* cold */
	struct sl_memregion *mr __sl_cache_aligned; /**< the object memory */
	unsigned flags;				    /**< cfg.flags */
	char name[SL_MEMPOOL_NAMESIZE];		    /**< NUL-terminated */
};

/** @internal Slow path of a get by a cached thread (refill). */
SL_API int __sl_mempool_get_slow(struct sl_mempool *mp,
				 struct __sl_mempool_cache *c, void **objs,
				 unsigned n);
/** @internal Slow path of a put by a cached thread (drain). */
SL_API void __sl_mempool_put_slow(struct sl_mempool *mp,
				  struct __sl_mempool_cache *c,
				  void *const *objs, unsigned n);
/** @internal Get of a thread without a cache: ring only. */
SL_API int __sl_mempool_get_shared(struct sl_mempool *mp, void **objs,
				   unsigned n);
/** @internal Put of a thread without a cache: ring only. */
SL_API void __sl_mempool_put_shared(struct sl_mempool *mp, void *const *objs,
				    unsigned n);
/** @internal SL_DEBUG: check and put; bad objects are refused and counted. */
SL_API void __sl_mempool_put_checked(struct sl_mempool *mp, void *const *objs,
				     unsigned n);
/** @internal SL_DEBUG: mark objects just got as in use. */
SL_API void __sl_mempool_got_checked(struct sl_mempool *mp, void *const *objs,
				     unsigned n);

/** @internal The cache of thread tid. */
static __sl_always_inline struct __sl_mempool_cache *
__sl_mempool_cache(const struct sl_mempool *mp, uint32_t tid)
{
	return (struct __sl_mempool_cache *)(mp->caches +
					     (size_t)tid * mp->cache_stride);
}

/**
 * @internal Copy n pointers: eight at a time, then one at a time. Inline
 * fixed-size copies beat a call to memcpy() for bursts of a few dozen, and
 * memcpy makes no aliasing assumption about the arrays' declared types.
 */
static __sl_always_inline void
__sl_mempool_copy(void **dst, void *const *src, unsigned n)
{
	unsigned i;

	for (i = 0; i + 8 <= n; i += 8)
		memcpy(dst + i, src + i, 8 * sizeof(void *));
	for (; i < n; i++)
		memcpy(dst + i, src + i, sizeof(void *));
}

/** @internal Get without the SL_DEBUG bookkeeping. */
static __sl_always_inline int
__sl_mempool_get_raw(struct sl_mempool *mp, void **objs, unsigned n)
{
	uint32_t tid = sl_thread_id();
	struct __sl_mempool_cache *c;

	if (unlikely(tid >= SL_MAX_THREADS))
		return __sl_mempool_get_shared(mp, objs, n);
	c = __sl_mempool_cache(mp, tid);
	if (likely(n <= c->len)) {
		c->len -= n;
		__sl_mempool_copy(objs, &c->objs[c->len], n);
		c->gets += n;
		return 0;
	}
	return __sl_mempool_get_slow(mp, c, objs, n);
}

/** @internal Put without the SL_DEBUG checks. */
static __sl_always_inline void
__sl_mempool_put_raw(struct sl_mempool *mp, void *const *objs, unsigned n)
{
	uint32_t tid = sl_thread_id();
	struct __sl_mempool_cache *c;

	if (unlikely(tid >= SL_MAX_THREADS)) {
		__sl_mempool_put_shared(mp, objs, n);
		return;
	}
	c = __sl_mempool_cache(mp, tid);
	if (likely(c->len + n <= c->cap)) {
		__sl_mempool_copy(&c->objs[c->len], objs, n);
		c->len += n;
		c->puts += n;
		return;
	}
	__sl_mempool_put_slow(mp, c, objs, n);
}

/* ---- creation ------------------------------------------------------------ */

/**
 * Create a pool. Every field of cfg is checked and a bad one is named in a
 * log line. All objects are free afterwards, in the ring in index order.
 * @param cfg What to make (see struct sl_mempool_cfg).
 * @return The pool, or NULL with errno:
 *   - EINVAL: cfg NULL; name NULL, empty or too long; n 0 or above
 *     SL_MEMPOOL_MAX_OBJS; obj_size too small or not a multiple of 8;
 *     cache_size above SL_MEMPOOL_CACHE_MAX or n / 2; addr not 8-byte
 *     aligned; len smaller than n * obj_size, or non-zero without addr;
 *     unknown flag, or NO_HUGE with HUGE_ONLY.
 *   - ENOMEM: no memory for the bookkeeping or the objects.
 */
SL_API struct sl_mempool *sl_mempool_create(const struct sl_mempool_cfg *cfg);

/**
 * Destroy a pool: free its bookkeeping, and its object memory unless the
 * caller provided it. No thread may use the pool any more; objects still in
 * use become invalid (a warning says how many). NULL is a no-op.
 * @param mp The pool, or NULL.
 */
SL_API void sl_mempool_destroy(struct sl_mempool *mp);

/* ---- get / put (hot path) ---- */

/**
 * Get n objects, all or none. Served from the calling thread's cache when
 * it holds n objects; otherwise the cache is refilled from the ring in one
 * move. Objects in other threads' caches are not reachable: a get can fail
 * while sl_mempool_avail_count() is >= n.
 * @param mp The pool.
 * @param objs Filled with n object pointers on success; untouched on failure.
 * @param n Number of objects (0 succeeds and does nothing).
 * @return 0, or -ENOBUFS when fewer than n objects were reachable (counted
 *   in stats.empty).
 */
static inline int
sl_mempool_get_bulk(struct sl_mempool *mp, void **objs, unsigned n)
{
#ifdef SL_DEBUG
	int ret = __sl_mempool_get_raw(mp, objs, n);

	if (ret == 0)
		__sl_mempool_got_checked(mp, objs, n);
	return ret;
#else
	return __sl_mempool_get_raw(mp, objs, n);
#endif
}

/**
 * Return n objects to the pool. Into the calling thread's cache when it has
 * room; otherwise the cache is drained into the ring in one move.
 * @param mp The pool the objects came from.
 * @param objs n objects got from mp and not yet put.
 * @param n Number of objects.
 */
static inline void
sl_mempool_put_bulk(struct sl_mempool *mp, void *const *objs, unsigned n)
{
#ifdef SL_DEBUG
	__sl_mempool_put_checked(mp, objs, n);
#else
	__sl_mempool_put_raw(mp, objs, n);
#endif
}

/**
 * Get one object.
 * @param mp The pool.
 * @param obj Set to the object on success; untouched on failure.
 * @return 0 or -ENOBUFS.
 */
static inline int
sl_mempool_get(struct sl_mempool *mp, void **obj)
{
	return sl_mempool_get_bulk(mp, obj, 1);
}

/**
 * Return one object to its pool.
 * @param mp The pool the object came from.
 * @param obj The object.
 */
static inline void
sl_mempool_put(struct sl_mempool *mp, void *obj)
{
	sl_mempool_put_bulk(mp, &obj, 1);
}

/* ---- addresses and indices (O(1)) ---- */

/**
 * @return true when addr lies inside the object area of mp.
 * @param mp The pool.
 * @param addr Any address.
 */
static inline bool
sl_mempool_contains(const struct sl_mempool *mp, const void *addr)
{
	return (uintptr_t)addr - (uintptr_t)mp->base < mp->area_len;
}

/**
 * Index of the object that contains an address.
 * @param mp The pool.
 * @param obj An address inside the object area (not checked; see
 *   sl_mempool_contains()): an object's start or any byte of it.
 * @return Its index, 0..count-1.
 */
static inline uint32_t
sl_mempool_obj_index(const struct sl_mempool *mp, const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)mp->base;

	if (mp->obj_shift != 0)
		return (uint32_t)(off >> mp->obj_shift);
	return (uint32_t)(off / mp->obj_size);
}

/**
 * @return The object of index idx.
 * @param mp The pool.
 * @param idx An index below sl_mempool_count() (not checked).
 */
static inline void *
sl_mempool_obj_at(const struct sl_mempool *mp, uint32_t idx)
{
	return mp->base + (size_t)idx * mp->obj_size;
}

/**
 * Start of the object that contains an address.
 * @param mp The pool.
 * @param addr Any address.
 * @return The object, or NULL with errno EINVAL when addr is outside the
 *   object area.
 */
static inline void *
sl_mempool_obj_from_addr(const struct sl_mempool *mp, const void *addr)
{
	if (unlikely(!sl_mempool_contains(mp, addr))) {
		errno = EINVAL;
		return NULL;
	}
	return sl_mempool_obj_at(mp, sl_mempool_obj_index(mp, addr));
}

/* ---- information ---- */

/**
 * Free objects: those in the ring plus those in every thread's cache (a
 * snapshot while other threads work).
 * @param mp The pool.
 * @return The count, 0..count (0 for NULL).
 */
SL_API unsigned sl_mempool_avail_count(const struct sl_mempool *mp);

/**
 * Objects in use: count - sl_mempool_avail_count() (a snapshot).
 * @param mp The pool.
 * @return The count (0 for NULL).
 */
SL_API unsigned sl_mempool_in_use_count(const struct sl_mempool *mp);

/** @return Object 0 (the start of the object area), or NULL for NULL.
 *  @param mp The pool. */
SL_API void *sl_mempool_base(const struct sl_mempool *mp);

/** @return Bytes per object, or 0 for NULL. @param mp The pool. */
SL_API uint32_t sl_mempool_obj_size(const struct sl_mempool *mp);

/** @return Number of objects, or 0 for NULL. @param mp The pool. */
SL_API uint32_t sl_mempool_count(const struct sl_mempool *mp);

/** @return cfg.cache_size of the pool, or 0 for NULL. @param mp The pool. */
SL_API uint32_t sl_mempool_cache_size(const struct sl_mempool *mp);

/** @return The pool's name, or NULL for NULL. @param mp The pool. */
SL_API const char *sl_mempool_name(const struct sl_mempool *mp);

/**
 * The memory region that holds the objects: the pool's own, or a wrap of
 * the caller's memory (e.g. to mlock it with sl_memregion_lock()).
 * @param mp The pool.
 * @return The region (owned by the pool), or NULL for NULL.
 */
SL_API struct sl_memregion *sl_mempool_memregion(const struct sl_mempool *mp);

/**
 * Read the pool's counters, summed over every thread (a snapshot).
 * @param mp The pool.
 * @param st Filled with the counters.
 * @return 0, or -EINVAL when mp or st is NULL.
 */
SL_API int sl_mempool_stats_get(const struct sl_mempool *mp,
				struct sl_mempool_stats *st);

/**
 * Return the calling thread's cached objects to the ring. Call it before a
 * registered thread exits, or its objects stay in its cache slot until a
 * thread with the same id uses the pool again. A no-op for NULL and for a
 * thread that is not registered.
 * @param mp The pool.
 */
SL_API void sl_mempool_cache_flush(struct sl_mempool *mp);

#ifdef __cplusplus
}
#endif
#endif /* SL_MEMPOOL_H */
