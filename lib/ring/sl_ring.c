/*
 * Ring creation, sizing and state. The enqueue/dequeue hot path is inline
 * in sl_ring.h; this file has the control-plane side only.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_ring.h"

/** Largest number of slots. */
#define RING_COUNT_MAX (1u << 28)

/** Value of sl_ring.owned for rings allocated here. */
#define RING_OWNED 1u

static int
ring_check_args(uint32_t count, uint32_t esize, size_t *memsize)
{
	size_t len;

	if (count < 2 || count > RING_COUNT_MAX || !sl_is_pow2(count))
		return -EINVAL;
	if (esize == 0 || esize % 4 != 0)
		return -EINVAL;
	/* count <= 2^28: the size overflows only with a 32-bit size_t */
	if ((size_t)esize >
	    ((size_t)SSIZE_MAX - sizeof(struct sl_ring) - __SL_RING_PART) /
		    count)
		return -EINVAL;
	len = sizeof(struct sl_ring) + (size_t)count * esize;
	*memsize = sl_align_ceil(len, __SL_RING_PART);
	return 0;
}

static int
ring_check_name(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	if (strnlen(name, SL_RING_NAMESIZE) >= SL_RING_NAMESIZE)
		return -EINVAL;
	return 0;
}

ssize_t
sl_ring_memsize(uint32_t count, uint32_t esize)
{
	size_t len;
	int err;

	err = ring_check_args(count, esize, &len);
	if (err < 0)
		return err;
	return (ssize_t)len;
}

static void
ring_tail_init(struct __sl_ring_tail *t, uint32_t count, bool single)
{
	t->tail = 0;
	t->mask = count - 1;
	t->single = single ? 1 : 0;
}

int
sl_ring_init(struct sl_ring *r, const char *name, uint32_t count,
	     uint32_t esize, unsigned flags)
{
	size_t len;
	int err;

	if (r == NULL || (uintptr_t)r % 8 != 0)
		return -EINVAL;
	if (flags & ~(SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ))
		return -EINVAL;
	err = ring_check_name(name);
	if (err < 0)
		return err;
	err = ring_check_args(count, esize, &len);
	if (err < 0)
		return err;

	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strlen(name) + 1);
	r->size = count;
	r->esize = esize;
	r->flags = flags;
	r->owned = 0; /* the caller's memory: sl_ring_free() leaves it */
	r->memsize = len;
	r->prod_head = 0;
	r->cons_head = 0;
	ring_tail_init(&r->prod, count, flags & SL_RING_F_SP_ENQ);
	ring_tail_init(&r->cons, count, flags & SL_RING_F_SC_DEQ);
	return 0;
}

struct sl_ring *
sl_ring_create_elem(const char *name, uint32_t count, uint32_t esize,
		    unsigned flags)
{
	struct sl_ring *r;
	ssize_t len;
	int err;

	len = sl_ring_memsize(count, esize);
	if (len < 0) {
		err = (int)len;
		goto fail;
	}
	/* validate the rest before allocating */
	err = ring_check_name(name);
	if (err < 0)
		goto fail;
	if (flags & ~(SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ)) {
		err = -EINVAL;
		goto fail;
	}
	/* a whole adjacent-line pair per part of the ring */
	r = aligned_alloc(__SL_RING_PART, (size_t)len);
	if (r == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	err = sl_ring_init(r, name, count, esize, flags);
	if (err < 0)
		goto free_ring;
	/*
	 * Touch the slots now: a page fault on the data path, between a
	 * claim and its publication, would stall every other thread of
	 * that side.
	 */
	memset(r + 1, 0, (size_t)count * esize);
	r->owned = RING_OWNED;
	return r;
free_ring:
	free(r);
fail:
	errno = -err;
	return NULL;
}

struct sl_ring *
sl_ring_create(const char *name, uint32_t count, unsigned flags)
{
	return sl_ring_create_elem(name, count, sizeof(void *), flags);
}

void
sl_ring_free(struct sl_ring *r)
{
	if (r == NULL || r->owned != RING_OWNED)
		return;
	free(r);
}

const char *
sl_ring_name(const struct sl_ring *r)
{
	return r == NULL ? NULL : r->name;
}

uint32_t
sl_ring_esize(const struct sl_ring *r)
{
	return r == NULL ? 0 : r->esize;
}

void
sl_ring_reset(struct sl_ring *r)
{
	if (r == NULL)
		return;
	__atomic_store_n(&r->prod_head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->prod.tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->cons_head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->cons.tail, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
