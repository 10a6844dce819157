/*
 * Mempool: creation, the slow paths of get/put (cache refill and drain,
 * threads without a cache), the SL_DEBUG checks, and statistics.
 *
 * Bookkeeping is one cache-line aligned allocation:
 *   [struct sl_mempool][SL_MAX_THREADS caches][free ring][debug state]
 * The objects live elsewhere: in the caller's memory or in a region of the
 * pool's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_mem.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_ring.h"
#include "sluice/sl_thread.h"

/*
 * Whether this is an SL_DEBUG build, read before sl_log.h, which defines a
 * logging macro of the same name.
 */
#ifdef SL_DEBUG
#define MEMPOOL_CHECKS 1
#else
#define MEMPOOL_CHECKS 0
#endif

#define SL_LOG_MODULE "mempool"
#include "sluice/sl_log.h"

/* Object states of the SL_DEBUG checks. */
#define OBJ_FREE 0
#define OBJ_IN_USE 1

/* Objects moved into the ring per call at creation. */
#define INIT_BATCH 64

/* Bad objects put per inner put of __sl_mempool_put_checked(). */
#define CHECK_BATCH 64

#define ALL_FLAGS                                                              \
	(SL_MEMPOOL_F_NO_HUGE | SL_MEMPOOL_F_HUGE_ONLY | SL_MEMPOOL_F_SHARED)

SL_STATIC_ASSERT(sizeof(struct __sl_mempool_cache) % sizeof(void *) == 0,
		 "cache objects misaligned");
SL_STATIC_ASSERT(offsetof(struct sl_mempool, shared) % SL_CACHE_LINE == 0,
		 "shared counters must sit on their own cache line");

/* ---- slow paths ---- */

/*
 * The free ring has a slot for every object, so an enqueue can only fail
 * when an object is in two places at once (a double free in a build
 * without SL_DEBUG). Such objects are dropped and counted.
 */
static void
ring_put(struct sl_mempool *mp, void *const *objs, unsigned n)
{
	if (unlikely(sl_ring_enqueue_bulk(mp->ring, objs, n, NULL) != n))
		__atomic_fetch_add(&mp->shared.bad_puts, n, __ATOMIC_RELAXED);
}

int
__sl_mempool_get_slow(struct sl_mempool *mp, struct __sl_mempool_cache *c,
		      void **objs, unsigned n)
{
	uint32_t len = c->len, want;

	/* here n > len */
	if (n <= c->cap - c->size) {
		/* refill so that c->size objects stay after serving n */
		want = n - len + c->size;
		if (sl_ring_dequeue_bulk(mp->ring, &c->objs[len], want, NULL) !=
		    want) {
			want = n - len;
			if (sl_ring_dequeue_bulk(mp->ring, &c->objs[len], want,
						 NULL) != want)
				goto empty;
		}
		len += want - n;
		__sl_mempool_copy(objs, &c->objs[len], n);
		c->len = len;
	} else {
		/* too big to stage in the cache: the ring gives what the
		 * cache cannot, then the cache empties itself */
		want = n - len;
		if (sl_ring_dequeue_bulk(mp->ring, objs, want, NULL) != want)
			goto empty;
		__sl_mempool_copy(objs + want, c->objs, len);
		c->len = 0;
	}
	c->gets += n;
	c->ring_gets += n;
	return 0;
empty:
	c->empty++;
	return -ENOBUFS;
}

void
__sl_mempool_put_slow(struct sl_mempool *mp, struct __sl_mempool_cache *c,
		      void *const *objs, unsigned n)
{
	uint32_t len = c->len;

	/* here len + n > cap */
	if (n <= c->cap - c->size) {
		/* len > size: drain the top down to size, then stack n */
		ring_put(mp, &c->objs[c->size], len - c->size);
		len = c->size;
		__sl_mempool_copy(&c->objs[len], objs, n);
		c->len = len + n;
	} else {
		ring_put(mp, objs, n);
	}
	c->puts += n;
}

int
__sl_mempool_get_shared(struct sl_mempool *mp, void **objs, unsigned n)
{
	if (unlikely(sl_ring_dequeue_bulk(mp->ring, objs, n, NULL) != n)) {
		__atomic_fetch_add(&mp->shared.empty, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	__atomic_fetch_add(&mp->shared.gets, n, __ATOMIC_RELAXED);
	return 0;
}

void
__sl_mempool_put_shared(struct sl_mempool *mp, void *const *objs, unsigned n)
{
	ring_put(mp, objs, n);
	__atomic_fetch_add(&mp->shared.puts, n, __ATOMIC_RELAXED);
}

/* ---- SL_DEBUG checks ---- */

/* 0 when obj may be put (and mark it free), -errno after logging why not. */
static int
check_put(struct sl_mempool *mp, void *obj)
{
	uint32_t idx;
	uint8_t old;

	if (!sl_mempool_contains(mp, obj)) {
		SL_ERR("mempool '%s': put of %p refused: not an object of this "
		       "pool (outside its object area)",
		       mp->name, obj);
		return -EINVAL;
	}
	idx = sl_mempool_obj_index(mp, obj);
	if (obj != sl_mempool_obj_at(mp, idx)) {
		SL_ERR("mempool '%s': put of %p refused: inside object %u but "
		       "%zu bytes past its start",
		       mp->name, obj, idx,
		       (size_t)((char *)obj -
				(char *)sl_mempool_obj_at(mp, idx)));
		return -EINVAL;
	}
	if (mp->dbg_state == NULL)
		return 0;
	old = __atomic_exchange_n(&mp->dbg_state[idx], OBJ_FREE,
				  __ATOMIC_ACQ_REL);
	if (old == OBJ_FREE) {
		SL_ERR("mempool '%s': put of object %u (%p) refused: double "
		       "free, the object is already free",
		       mp->name, idx, obj);
		return -EALREADY;
	}
	return 0;
}

void
__sl_mempool_put_checked(struct sl_mempool *mp, void *const *objs, unsigned n)
{
	void *good[CHECK_BATCH];
	unsigned i, k, bad = 0;

	if (mp == NULL || (objs == NULL && n != 0))
		return;
	for (i = 0; i < n; i++)
		if (check_put(mp, objs[i]) < 0)
			break;
	if (i == n) {
		/* all good: the same single put as without SL_DEBUG */
		__sl_mempool_put_raw(mp, objs, n);
		return;
	}
	/* objs[0..i) were checked and are good; objs[i] is bad */
	bad = 1;
	for (k = 0; k < i; k++) {
		good[k % CHECK_BATCH] = objs[k];
		if (k % CHECK_BATCH == CHECK_BATCH - 1)
			__sl_mempool_put_raw(mp, good, CHECK_BATCH);
	}
	k = i % CHECK_BATCH;
	for (i++; i < n; i++) {
		if (check_put(mp, objs[i]) < 0) {
			bad++;
			continue;
		}
		good[k++] = objs[i];
		if (k == CHECK_BATCH) {
			__sl_mempool_put_raw(mp, good, k);
			k = 0;
		}
	}
	if (k != 0)
		__sl_mempool_put_raw(mp, good, k);
	__atomic_fetch_add(&mp->shared.bad_puts, bad, __ATOMIC_RELAXED);
}

void
__sl_mempool_got_checked(struct sl_mempool *mp, void *const *objs, unsigned n)
{
	unsigned i;
	uint32_t idx;

	if (mp->dbg_state == NULL)
		return;
	for (i = 0; i < n; i++) {
		idx = sl_mempool_obj_index(mp, objs[i]);
		if (__atomic_exchange_n(&mp->dbg_state[idx], OBJ_IN_USE,
					__ATOMIC_ACQ_REL) != OBJ_FREE)
			SL_ERR("mempool '%s': object %u (%p) handed out while "
			       "in use: the pool is corrupted",
			       mp->name, idx, objs[i]);
	}
}

/* ---- creation ---- */

static int
check_cfg(const struct sl_mempool_cfg *cfg, size_t *area)
{
	const char *name;
	uint64_t need;

	if (cfg == NULL) {
		SL_ERR("cannot create mempool: cfg is NULL");
		return -EINVAL;
	}
	name = cfg->name;
	if (name == NULL || name[0] == '\0' ||
	    strnlen(name, SL_MEMPOOL_NAMESIZE) >= SL_MEMPOOL_NAMESIZE) {
		SL_ERR("cannot create mempool: name %s%s%s must have 1 to %d "
		       "characters",
		       name != NULL ? "'" : "", name != NULL ? name : "NULL",
		       name != NULL ? "'" : "", SL_MEMPOOL_NAMESIZE - 1);
		return -EINVAL;
	}
	if (cfg->n == 0 || cfg->n > SL_MEMPOOL_MAX_OBJS) {
		SL_ERR("cannot create mempool '%s': n=%u must be 1 to %u", name,
		       cfg->n, SL_MEMPOOL_MAX_OBJS);
		return -EINVAL;
	}
	if (cfg->obj_size < SL_MEMPOOL_OBJ_MIN ||
	    cfg->obj_size % SL_MEMPOOL_OBJ_ALIGN != 0) {
		SL_ERR("cannot create mempool '%s': obj_size=%u must be at "
		       "least %d and a multiple of %d",
		       name, cfg->obj_size, SL_MEMPOOL_OBJ_MIN,
		       SL_MEMPOOL_OBJ_ALIGN);
		return -EINVAL;
	}
	if (cfg->cache_size > SL_MEMPOOL_CACHE_MAX ||
	    cfg->cache_size > cfg->n / 2) {
		SL_ERR("cannot create mempool '%s': cache_size=%u must be at "
		       "most %d and at most n/2=%u",
		       name, cfg->cache_size, SL_MEMPOOL_CACHE_MAX, cfg->n / 2);
		return -EINVAL;
	}
	if ((cfg->flags & ~ALL_FLAGS) != 0 ||
	    ((cfg->flags & SL_MEMPOOL_F_NO_HUGE) &&
	     (cfg->flags & SL_MEMPOOL_F_HUGE_ONLY))) {
		SL_ERR("cannot create mempool '%s': flags=%#x: unknown flag, "
		       "or "
		       "NO_HUGE with HUGE_ONLY",
		       name, cfg->flags);
		return -EINVAL;
	}
	need = (uint64_t)cfg->n * cfg->obj_size;
	if (need > SIZE_MAX) {
		SL_ERR("cannot create mempool '%s': n * obj_size = %llu bytes "
		       "does not fit in memory",
		       name, (unsigned long long)need);
		return -EINVAL;
	}
	*area = (size_t)need;
	if (cfg->addr == NULL) {
		if (cfg->len != 0) {
			SL_ERR("cannot create mempool '%s': len=%zu given "
			       "without addr",
			       name, cfg->len);
			return -EINVAL;
		}
		return 0;
	}
	if ((uintptr_t)cfg->addr % SL_MEMPOOL_OBJ_ALIGN != 0) {
		SL_ERR("cannot create mempool '%s': addr=%p is not %d-byte "
		       "aligned",
		       name, cfg->addr, SL_MEMPOOL_OBJ_ALIGN);
		return -EINVAL;
	}
	if (cfg->len < *area) {
		SL_ERR("cannot create mempool '%s': len=%zu is smaller than n "
		       "* "
		       "obj_size = %zu bytes",
		       name, cfg->len, *area);
		return -EINVAL;
	}
	return 0;
}

static unsigned
mem_flags(unsigned flags)
{
	unsigned f = 0;

	if (flags & SL_MEMPOOL_F_NO_HUGE)
		f |= SL_MEM_F_NO_HUGE;
	if (flags & SL_MEMPOOL_F_HUGE_ONLY)
		f |= SL_MEM_F_HUGE_ONLY;
	if (flags & SL_MEMPOOL_F_SHARED)
		f |= SL_MEM_F_SHARED;
	return f;
}

/* Fill the ring with every object in index order, initialising each. */
static void
pool_populate(struct sl_mempool *mp, const struct sl_mempool_cfg *cfg)
{
	void *batch[INIT_BATCH];
	uint32_t i, k = 0;

	for (i = 0; i < mp->n; i++) {
		batch[k] = sl_mempool_obj_at(mp, i);
		if (cfg->obj_init != NULL)
			cfg->obj_init(mp, batch[k], i, cfg->obj_init_arg);
		if (++k == INIT_BATCH) {
			ring_put(mp, batch, k);
			k = 0;
		}
	}
	if (k != 0)
		ring_put(mp, batch, k);
}

struct sl_mempool *
sl_mempool_create(const struct sl_mempool_cfg *cfg)
{
	struct sl_mempool *mp;
	size_t area, hdr, caches, ringsz, stride, total;
	uint32_t ring_count, i;
	ssize_t rs;
	char *mem;
	int err;

	err = check_cfg(cfg, &area);
	if (err < 0)
		goto fail;

	ring_count = SL_MAX(sl_align32pow2(cfg->n), 2u);
	rs = sl_ring_memsize(ring_count, sizeof(void *));
	if (rs < 0) {
		err = (int)rs;
		SL_ERR("cannot create mempool '%s': no free ring of %u slots",
		       cfg->name, ring_count);
		goto fail;
	}
	hdr = sl_align_ceil(sizeof(*mp), SL_CACHE_LINE);
	stride = sl_align_ceil(sizeof(struct __sl_mempool_cache) +
				       2 * (size_t)cfg->cache_size *
					       sizeof(void *),
			       SL_CACHE_LINE);
	caches = stride * SL_MAX_THREADS;
	ringsz = sl_align_ceil((size_t)rs, SL_CACHE_LINE);
	total = hdr + caches + ringsz + (MEMPOOL_CHECKS ? cfg->n : 0);
	mem = sl_zmalloc(total);
	if (mem == NULL) {
		err = -ENOMEM;
		SL_ERR("cannot create mempool '%s': no memory for %zu bytes of "
		       "bookkeeping",
		       cfg->name, total);
		goto fail;
	}
	mp = (struct sl_mempool *)mem;
	mp->caches = mem + hdr;
	mp->cache_stride = stride;
	mp->ring = (struct sl_ring *)(mem + hdr + caches);
	if (MEMPOOL_CHECKS)
		mp->dbg_state = (uint8_t *)(mem + hdr + caches + ringsz);
	mp->obj_size = cfg->obj_size;
	mp->obj_shift = sl_is_pow2(cfg->obj_size)
				? (uint32_t)__builtin_ctz(cfg->obj_size)
				: 0;
	mp->n = cfg->n;
	mp->area_len = area;
	mp->cache_size = cfg->cache_size;
	mp->flags = cfg->flags;
	snprintf(mp->name, sizeof(mp->name), "%s", cfg->name);
	for (i = 0; i < SL_MAX_THREADS; i++) {
		struct __sl_mempool_cache *c = __sl_mempool_cache(mp, i);

		c->size = cfg->cache_size;
		c->cap = 2 * cfg->cache_size;
	}

	err = sl_ring_init(mp->ring, mp->name, ring_count, sizeof(void *), 0);
	if (err < 0) {
		SL_ERR("cannot create mempool '%s': free ring: %s", mp->name,
		       sl_strerror(err));
		goto free_mem;
	}

	if (cfg->addr != NULL)
		mp->mr = sl_memregion_wrap(cfg->addr, cfg->len);
	else
		mp->mr = sl_memregion_alloc(mp->name, area,
					    mem_flags(cfg->flags));
	if (mp->mr == NULL) {
		err = -errno;
		SL_ERR("cannot create mempool '%s': no memory for %u objects "
		       "of "
		       "%u bytes: %s",
		       mp->name, cfg->n, cfg->obj_size, sl_strerror(err));
		goto free_mem;
	}
	mp->base = mp->mr->addr;

	pool_populate(mp, cfg);
	SL_INFO("mempool '%s': %u objects of %u bytes at %p (%s memory), "
		"cache %u per thread",
		mp->name, mp->n, mp->obj_size, (void *)mp->base,
		cfg->addr != NULL ? "caller" : "own", mp->cache_size);
	return mp;
free_mem:
	sl_free(mem);
fail:
	errno = -err;
	return NULL;
}

void
sl_mempool_destroy(struct sl_mempool *mp)
{
	unsigned used;

	if (mp == NULL)
		return;
	used = sl_mempool_in_use_count(mp);
	if (used != 0)
		SL_WARN("mempool '%s' destroyed with %u of %u objects in use",
			mp->name, used, mp->n);
	sl_memregion_free(mp->mr);
	sl_free(mp);
}

/* ---- information ---- */

unsigned
sl_mempool_avail_count(const struct sl_mempool *mp)
{
	uint64_t sum;
	uint32_t i;

	if (mp == NULL)
		return 0;
	sum = sl_ring_count(mp->ring);
	for (i = 0; i < SL_MAX_THREADS; i++)
		sum += __atomic_load_n(&__sl_mempool_cache(mp, i)->len,
				       __ATOMIC_RELAXED);
	return sum > mp->n ? mp->n : (unsigned)sum;
}

unsigned
sl_mempool_in_use_count(const struct sl_mempool *mp)
{
	if (mp == NULL)
		return 0;
	return mp->n - sl_mempool_avail_count(mp);
}

void *
sl_mempool_base(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->base : NULL;
}

uint32_t
sl_mempool_obj_size(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->obj_size : 0;
}

uint32_t
sl_mempool_count(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->n : 0;
}

uint32_t
sl_mempool_cache_size(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->cache_size : 0;
}

const char *
sl_mempool_name(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->name : NULL;
}

struct sl_memregion *
sl_mempool_memregion(const struct sl_mempool *mp)
{
	return mp != NULL ? mp->mr : NULL;
}

int
sl_mempool_stats_get(const struct sl_mempool *mp, struct sl_mempool_stats *st)
{
	uint64_t ring_gets = 0;
	uint32_t i;

	if (mp == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (i = 0; i < SL_MAX_THREADS; i++) {
		const struct __sl_mempool_cache *c = __sl_mempool_cache(mp, i);

		st->gets += c->gets;
		st->puts += c->puts;
		st->empty += c->empty;
		ring_gets += c->ring_gets;
	}
	st->cache_hits = st->gets - ring_gets;
	st->gets += __atomic_load_n(&mp->shared.gets, __ATOMIC_RELAXED);
	st->puts += __atomic_load_n(&mp->shared.puts, __ATOMIC_RELAXED);
	st->empty += __atomic_load_n(&mp->shared.empty, __ATOMIC_RELAXED);
	st->bad_puts = __atomic_load_n(&mp->shared.bad_puts, __ATOMIC_RELAXED);
	return 0;
}

void
sl_mempool_cache_flush(struct sl_mempool *mp)
{
	uint32_t tid = sl_thread_id();
	struct __sl_mempool_cache *c;

	if (mp == NULL || tid >= SL_MAX_THREADS)
		return;
	c = __sl_mempool_cache(mp, tid);
	if (c->len != 0)
		ring_put(mp, c->objs, c->len);
	c->len = 0;
}
