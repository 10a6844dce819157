/**
 * @file Lock-free bounded rings of pointers or of fixed-size elements.
 *
 * Rings are how data-path threads hand work to each other (D3): an lport of
 * the `net_ring` backend, the free lists behind mempools, the queue between
 * a graph thread and the control plane. A ring has a power-of-two number of
 * slots, all of them usable, and is single- or multi-producer and single- or
 * multi-consumer as chosen when it is made.
 *
 * Design:
 * - Each side (producers, consumers) has a tail: the indices before it are
 *   published. Indices are free-running 32-bit counters and a slot is
 *   `index & mask`; the number of objects is `prod.tail - cons.tail`, exact
 *   across wrap-around because the number of slots (at most 2^28) divides
 *   2^32, so every slot is usable.
 * - A single producer (consumer) works on its tail alone, with no atomic
 *   read-modify-write. Several producers (consumers) also have a head, the
 *   next index to claim: each claims a range with a compare-and-swap on the
 *   head, copies, then waits until the earlier claims are published and
 *   moves the tail past its own range.
 * - Tails are published with release stores and read with acquire loads,
 *   so the code is correct on weakly ordered CPUs too (C11 memory model,
 *   `__atomic` builtins).
 * - The read-mostly description, each head and each tail sit in parts of
 *   their own, 128 bytes apart (two cache lines, against the adjacent-line
 *   prefetcher): the CAS on a head never takes the line that the other side
 *   polls for the tail. The slots follow.
 * - The hot path is inline. Element sizes 8 and 16 have copies specialised
 *   at compile time; a constant burst size folds away every size test.
 *
 * Functions that move objects return a count and never an error code (D4):
 * bulk moves all n objects or none, burst moves as many as it can.
 */
#ifndef SL_RING_H
#define SL_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flag of sl_ring_create(): one producer thread only (default: several). */
#define SL_RING_F_SP_ENQ 0x1u
/** Flag of sl_ring_create(): one consumer thread only (default: several). */
#define SL_RING_F_SC_DEQ 0x2u

/** Size of a ring's name buffer (a name has at most 31 characters). */
#define SL_RING_NAMESIZE 32

/**
 * @internal Distance between the parts of struct sl_ring: two cache lines,
 * so that the adjacent-line prefetcher does not couple them either.
 */
#define __SL_RING_PART (2 * SL_CACHE_LINE)

/**
 * @internal The published index of one side (producers or consumers) of a
 * ring, with the read-only values the hot path needs next to it.
 */
struct __sl_ring_tail {
	uint32_t tail;	 /**< indices before this one are published */
	uint32_t mask;	 /**< slots - 1 */
	uint32_t single; /**< 1: one thread on this side: no CAS, no head */
};

/**
 * A ring. The layout is public only so that the hot path can be inlined;
 * its fields are not API. It needs 8-byte alignment only, but a cache-line
 * aligned ring keeps each part on its own cache lines. Each claim index
 * (head) has its own lines: the CAS of several producers (consumers) does
 * not take the line that the other side polls for the tail. The slots
 * follow the struct.
 */
struct sl_ring {
	union {
		struct {
			char name[SL_RING_NAMESIZE]; /**< NUL-terminated */
			uint32_t size;	/**< number of slots, a power of 2 */
			uint32_t esize; /**< bytes per element, multiple of 4 */
			uint32_t flags; /**< SL_RING_F_* given at creation */
			uint32_t owned; /**< 1 when sl_ring_free() frees it */
			uint64_t memsize; /**< bytes, slots included */
		};
		char __pad_desc[__SL_RING_PART];
	};
	union {
		uint32_t prod_head; /**< next index to claim (several only) */
		char __pad_prod_head[__SL_RING_PART];
	};
	union {
		struct __sl_ring_tail prod; /**< producer tail */
		char __pad_prod[__SL_RING_PART];
	};
	union {
		uint32_t cons_head; /**< next index to claim (several only) */
		char __pad_cons_head[__SL_RING_PART];
	};
	union {
		struct __sl_ring_tail cons; /**< consumer tail */
		char __pad_cons[__SL_RING_PART];
	};
	/* slots follow: size * esize bytes */
};

SL_STATIC_ASSERT(offsetof(struct sl_ring, prod_head) == 1 * __SL_RING_PART,
		 "ring producer head misplaced");
SL_STATIC_ASSERT(offsetof(struct sl_ring, prod) == 2 * __SL_RING_PART,
		 "ring producer tail misplaced");
SL_STATIC_ASSERT(offsetof(struct sl_ring, cons_head) == 3 * __SL_RING_PART,
		 "ring consumer head misplaced");
SL_STATIC_ASSERT(offsetof(struct sl_ring, cons) == 4 * __SL_RING_PART,
		 "ring consumer tail misplaced");
SL_STATIC_ASSERT(sizeof(struct sl_ring) == 5 * __SL_RING_PART,
		 "ring slots misplaced");

/**
 * Bytes needed for a ring, to size the memory given to sl_ring_init().
 * @param count Number of slots: a power of 2 from 2 to 2^28.
 * @param esize Bytes per element: a non-zero multiple of 4.
 * @return The size in bytes, or -EINVAL when count or esize is invalid.
 */
SL_API ssize_t sl_ring_memsize(uint32_t count, uint32_t esize);

/**
 * Make a ring in memory the caller owns (e.g. shared memory). The ring
 * lives as long as that memory; it must never be passed to sl_ring_free()
 * (doing so is a harmless no-op). Only the header is written: memory
 * touched (or locked) in advance keeps page faults off the data path.
 * @param r Memory of at least sl_ring_memsize(count, esize) bytes, aligned
 *   to 8 bytes at least; for best performance to 2 * SL_CACHE_LINE (page
 *   aligned shared memory is).
 * @param name Name of the ring, at most SL_RING_NAMESIZE - 1 characters
 *   (longer names are rejected, not truncated).
 * @param count Number of slots: a power of 2 from 2 to 2^28. All of them
 *   are usable: the capacity is count.
 * @param esize Bytes per element: a non-zero multiple of 4.
 * @param flags 0 or SL_RING_F_SP_ENQ and/or SL_RING_F_SC_DEQ.
 * @return 0, or -EINVAL when r or name is NULL, r is not 8-byte aligned,
 *   the name is too long, count or esize is invalid, or flags has an
 *   unknown bit.
 */
SL_API int sl_ring_init(struct sl_ring *r, const char *name, uint32_t count,
			uint32_t esize, unsigned flags);

/**
 * Allocate a ring of pointers (esize sizeof(void *)), cache-line aligned,
 * with its slots zeroed (so that the data path takes no page fault).
 * @param name Name, at most SL_RING_NAMESIZE - 1 characters.
 * @param count Number of slots, a power of 2 from 2 to 2^28 (the capacity).
 * @param flags 0 or SL_RING_F_SP_ENQ and/or SL_RING_F_SC_DEQ.
 * @return The ring, or NULL with errno EINVAL (NULL or too long name, bad
 *   count, unknown flag) or ENOMEM.
 */
SL_API struct sl_ring *sl_ring_create(const char *name, uint32_t count,
				      unsigned flags);

/**
 * Allocate a ring of fixed-size elements, cache-line aligned, with its
 * slots zeroed (so that the data path takes no page fault).
 * @param name Name, at most SL_RING_NAMESIZE - 1 characters.
 * @param count Number of slots, a power of 2 from 2 to 2^28 (the capacity).
 * @param esize Bytes per element: a non-zero multiple of 4.
 * @param flags 0 or SL_RING_F_SP_ENQ and/or SL_RING_F_SC_DEQ.
 * @return The ring, or NULL with errno EINVAL (NULL or too long name, bad
 *   count or esize, unknown flag) or ENOMEM.
 */
SL_API struct sl_ring *sl_ring_create_elem(const char *name, uint32_t count,
					   uint32_t esize, unsigned flags);

/**
 * Free a ring made by sl_ring_create() or sl_ring_create_elem(). NULL, and
 * a ring made by sl_ring_init() on the caller's memory, are no-ops.
 * No thread may use the ring any more.
 * @param r The ring, or NULL.
 */
SL_API void sl_ring_free(struct sl_ring *r);

/**
 * @return The name of a ring (never NULL for a valid ring; NULL for NULL).
 * @param r The ring.
 */
SL_API const char *sl_ring_name(const struct sl_ring *r);

/**
 * @return The element size of a ring in bytes (sizeof(void *) for a ring
 *   of pointers), or 0 for NULL.
 * @param r The ring.
 */
SL_API uint32_t sl_ring_esize(const struct sl_ring *r);

/**
 * Empty a ring: its objects are dropped. Not thread safe: no other thread
 * may use the ring during the call.
 * @param r The ring.
 */
SL_API void sl_ring_reset(struct sl_ring *r);

/* ---- internals of the inline hot path (not API) ------------------------ */

/** @internal @return The first slot of a ring. */
static __sl_always_inline void *
__sl_ring_slots(const struct sl_ring *r)
{
	return (void *)(uintptr_t)(r + 1);
}

/*
 * GCC (seen with 12, at -O3 with -fsanitize=address,undefined) reports
 * -Warray-bounds and -Wstringop-* for copy classes that the count of the
 * call makes unreachable (e.g. a 32-byte move for an array of 4 pointers
 * and n == 4) but that it does not prune. The warnings are turned off for
 * the copy helpers only, so that code calling a ring with a small array
 * still builds with -Werror.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#if __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#endif

/*
 * Copies between the slots and the caller's array, for n >= 1 elements.
 * Every move is a fixed-size memcpy (a plain load and store, no alignment
 * or aliasing assumption). Sizes are taken by class so that a small
 * run-time n costs one or two well-predicted branches and a constant n
 * none: one element is one move; in the other classes two moves, which
 * may overlap, cover any n of the class (elements in the overlap are
 * copied twice, with the same value); large n moves 64-byte blocks and
 * ends with a block that may overlap the one before. Source and
 * destination never overlap each other. The offsets of the last moves are
 * clamped at 0, which never changes them for a count of their class.
 */

/** @internal Copy n >= 1 elements of 8 bytes. */
static __sl_always_inline void
__sl_ring_copy8(void *dst, const void *src, unsigned n)
{
	char *d = (char *)dst;
	const char *s = (const char *)src;
	size_t i, last;

	if (n == 1) {
		memcpy(d, s, 8);
	} else if (n <= 4) {
		last = (size_t)(n >= 2 ? n - 2 : 0) * 8;
		memcpy(d, s, 16);
		memcpy(d + last, s + last, 16);
	} else if (n <= 8) {
		last = (size_t)(n >= 4 ? n - 4 : 0) * 8;
		memcpy(d, s, 32);
		memcpy(d + last, s + last, 32);
	} else {
		for (i = 0; i + 8 <= n; i += 8)
			memcpy(d + i * 8, s + i * 8, 64);
		if (i < n) {
			last = (size_t)(n >= 8 ? n - 8 : 0) * 8;
			memcpy(d + last, s + last, 64);
		}
	}
}

/** @internal Copy n >= 1 elements of 16 bytes. */
static __sl_always_inline void
__sl_ring_copy16(void *dst, const void *src, unsigned n)
{
	char *d = (char *)dst;
	const char *s = (const char *)src;
	size_t i, last;

	if (n == 1) {
		memcpy(d, s, 16);
	} else if (n <= 4) {
		last = (size_t)(n >= 2 ? n - 2 : 0) * 16;
		memcpy(d, s, 32);
		memcpy(d + last, s + last, 32);
	} else {
		for (i = 0; i + 4 <= n; i += 4)
			memcpy(d + i * 16, s + i * 16, 64);
		if (i < n) {
			last = (size_t)(n >= 4 ? n - 4 : 0) * 16;
			memcpy(d + last, s + last, 64);
		}
	}
}

/**
 * @internal Copy n >= 1 elements of esize bytes. esize is a constant for
 * the pointer functions (and for _elem calls written with one), so only
 * one branch of this remains; other sizes use memcpy.
 */
static __sl_always_inline void
__sl_ring_copy(void *dst, const void *src, uint32_t esize, unsigned n)
{
	if (esize == 8)
		__sl_ring_copy8(dst, src, n);
	else if (esize == 16)
		__sl_ring_copy16(dst, src, n);
	else
		memcpy(dst, src, (size_t)n * esize);
}

/**
 * @internal true when indices [head, head + n) map to consecutive slots,
 * for 1 <= n <= mask + 1; idx is head & mask. For a constant n the test
 * is whether the first and the last index are in the same lap of the
 * ring, which the compiler folds to true for n == 1; otherwise the last
 * slot is compared with the mask (idx + n - 1 < 2^29: no overflow).
 */
static __sl_always_inline bool
__sl_ring_contiguous(uint32_t head, uint32_t idx, uint32_t mask, unsigned n)
{
	if (__builtin_constant_p(n))
		return ((head ^ (head + n - 1)) & ~mask) == 0;
	return idx + n - 1 <= mask;
}

/**
 * @internal Copy n >= 1 elements from objs into the slots from index head
 * on, going round the end of the ring at most once.
 */
static __sl_always_inline void
__sl_ring_put(struct sl_ring *r, uint32_t mask, uint32_t head, const void *objs,
	      uint32_t esize, unsigned n)
{
	char *slots = (char *)__sl_ring_slots(r);
	uint32_t idx = head & mask;
	unsigned first, rest;

	if (likely(__sl_ring_contiguous(head, idx, mask, n))) {
		__sl_ring_copy(slots + (size_t)idx * esize, objs, esize, n);
		return;
	}
	/*
	 * Not contiguous: both parts have 1..n-1 elements. This rare path
	 * spells that out with a clamp and tests rather than assumptions,
	 * so that no compiler sees an unbounded part.
	 */
	first = SL_MIN(mask + 1 - idx, n);
	rest = n - first;
	if (first != 0)
		__sl_ring_copy(slots + (size_t)idx * esize, objs, esize, first);
	if (rest != 0)
		__sl_ring_copy(slots,
			       (const char *)objs + (size_t)first * esize,
			       esize, rest);
}

/**
 * @internal Copy n >= 1 elements from the slots from index head on into
 * objs, going round the end of the ring at most once.
 */
static __sl_always_inline void
__sl_ring_get(const struct sl_ring *r, uint32_t mask, uint32_t head, void *objs,
	      uint32_t esize, unsigned n)
{
	const char *slots = (const char *)__sl_ring_slots(r);
	uint32_t idx = head & mask;
	unsigned first, rest;

	if (likely(__sl_ring_contiguous(head, idx, mask, n))) {
		__sl_ring_copy(objs, slots + (size_t)idx * esize, esize, n);
		return;
	}
	/* not contiguous: as in __sl_ring_put() */
	first = SL_MIN(mask + 1 - idx, n);
	rest = n - first;
	if (first != 0)
		__sl_ring_copy(objs, slots + (size_t)idx * esize, esize, first);
	if (rest != 0)
		__sl_ring_copy((char *)objs + (size_t)first * esize, slots,
			       esize, rest);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/*
 * Several threads on one side: claim a range [head, head + k) with a CAS
 * on the head, copy, then move the tail from head to head + k once every
 * earlier claim is published (claims are published in order).
 */

/**
 * @internal Claim exactly n slots, 1 <= n, for one of several producers:
 * the common case, with one compare before the CAS.
 * @return true with *old and *room set (as __sl_ring_mp_claim()),
 *   or false, claiming nothing, when n == 0 or fewer than n are free.
 */
static __sl_always_inline bool
__sl_ring_mp_claim_all(struct sl_ring *r, uint32_t mask, unsigned n,
		       uint32_t *old, uint32_t *room)
{
	uint32_t head, seen, free_slots;

	/*
	 * acquire on head (load, and CAS failure) paired with the release of
	 * the CAS: the consumer tail we read is never older than the one the
	 * producer that moved head to this value used, so free_slots never
	 * comes out above the ring size from a stale tail.
	 */
	head = __atomic_load_n(&r->prod_head, __ATOMIC_ACQUIRE);
	for (;;) {
		/* acquire: consumers are done with the slots we reuse */
		free_slots = mask + 1 +
			     __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) -
			     head;
		if (unlikely(n - 1 >= free_slots))
			return false;
		/*
		 * On success seen == head: the caller goes on with head,
		 * known before the CAS completes, not with the CAS result.
		 */
		seen = head;
		if (likely(__atomic_compare_exchange_n(
			    &r->prod_head, &seen, head + n, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
			break;
		head = seen;
	}
	*old = head;
	*room = free_slots;
	return true;
}

/**
 * @internal Claim exactly n filled slots, 1 <= n, for one of several
 * consumers (as __sl_ring_mp_claim_all()).
 * @return true with *old and *used set, or false, claiming nothing,
 *   when n == 0 or fewer than n are filled.
 */
static __sl_always_inline bool
__sl_ring_mc_claim_all(struct sl_ring *r, unsigned n, uint32_t *old,
		       uint32_t *used)
{
	uint32_t head, seen, filled;

	/* orders as in __sl_ring_mp_claim_all() */
	head = __atomic_load_n(&r->cons_head, __ATOMIC_ACQUIRE);
	for (;;) {
		/* acquire: the producers' writes to the slots are visible */
		filled =
			__atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) - head;
		if (unlikely(n - 1 >= filled))
			return false;
		seen = head;
		if (likely(__atomic_compare_exchange_n(
			    &r->cons_head, &seen, head + n, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
			break;
		head = seen;
	}
	*old = head;
	*used = filled;
	return true;
}

/**
 * @internal Claim up to n free slots for one of several producers.
 * @return The number claimed: n, fewer for a burst when fewer are free, 0
 *   for a bulk when fewer are free (or n == 0). *old is the first index
 *   claimed, *room the free slots seen before the claim.
 */
static __sl_always_inline unsigned
__sl_ring_mp_claim(struct sl_ring *r, uint32_t mask, unsigned n, bool fixed,
		   uint32_t *old, uint32_t *room)
{
	uint32_t head, seen, free_slots;
	unsigned k;

	/* orders as in __sl_ring_mp_claim_all() */
	head = __atomic_load_n(&r->prod_head, __ATOMIC_ACQUIRE);
	for (;;) {
		free_slots = mask + 1 +
			     __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) -
			     head;
		/* k <= n, visibly to the compiler */
		k = SL_MIN(free_slots, n);
		if (fixed && k < n)
			k = 0;
		if (k == 0)
			break;
		seen = head;
		if (likely(__atomic_compare_exchange_n(
			    &r->prod_head, &seen, head + k, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
			break;
		head = seen;
	}
	*old = head;
	*room = free_slots;
	return k;
}

/**
 * @internal Claim up to n filled slots for one of several consumers.
 * @return The number claimed (as __sl_ring_mp_claim()); *old is the first
 *   index claimed, *used the filled slots seen before the claim.
 */
static __sl_always_inline unsigned
__sl_ring_mc_claim(struct sl_ring *r, unsigned n, bool fixed, uint32_t *old,
		   uint32_t *used)
{
	uint32_t head, seen, filled;
	unsigned k;

	head = __atomic_load_n(&r->cons_head, __ATOMIC_ACQUIRE);
	for (;;) {
		filled =
			__atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) - head;
		k = SL_MIN(filled, n);
		if (fixed && k < n)
			k = 0;
		if (k == 0)
			break;
		seen = head;
		if (likely(__atomic_compare_exchange_n(
			    &r->cons_head, &seen, head + k, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
			break;
		head = seen;
	}
	*old = head;
	*used = filled;
	return k;
}

/** @internal Wait until the claims before index old are published. */
static __sl_always_inline void
__sl_ring_mt_wait(const struct __sl_ring_tail *t, uint32_t old)
{
	/* acquire: the slots of earlier claims are covered by our release */
	while (__atomic_load_n(&t->tail, __ATOMIC_ACQUIRE) != old)
		sl_pause();
}

/**
 * @internal One of several producers: copy n >= 1 claimed objects in and
 * publish them after the earlier claims.
 */
static __sl_always_inline void
__sl_ring_mp_put(struct sl_ring *r, uint32_t mask, uint32_t head,
		 const void *objs, uint32_t esize, unsigned n)
{
	__sl_ring_put(r, mask, head, objs, esize, n);
	__sl_ring_mt_wait(&r->prod, head);
	/* release: the slots are written before the tail moves */
	__atomic_store_n(&r->prod.tail, head + n, __ATOMIC_RELEASE);
}

/**
 * @internal One of several consumers: copy n >= 1 claimed objects out and
 * free their slots after the earlier claims.
 */
static __sl_always_inline void
__sl_ring_mc_get(struct sl_ring *r, uint32_t mask, uint32_t head, void *objs,
		 uint32_t esize, unsigned n)
{
	__sl_ring_get(r, mask, head, objs, esize, n);
	__sl_ring_mt_wait(&r->cons, head);
	/* release: our reads of the slots come before their reuse */
	__atomic_store_n(&r->cons.tail, head + n, __ATOMIC_RELEASE);
}

/** @internal Single producer: copy n >= 1 objects in and publish them. */
static __sl_always_inline void
__sl_ring_sp_put(struct sl_ring *r, uint32_t mask, uint32_t head,
		 const void *objs, uint32_t esize, unsigned n)
{
	__sl_ring_put(r, mask, head, objs, esize, n);
	/* release: the slots are written before the tail moves */
	__atomic_store_n(&r->prod.tail, head + n, __ATOMIC_RELEASE);
}

/** @internal Single consumer: copy n >= 1 objects out, free their slots. */
static __sl_always_inline void
__sl_ring_sc_get(struct sl_ring *r, uint32_t mask, uint32_t head, void *objs,
		 uint32_t esize, unsigned n)
{
	__sl_ring_get(r, mask, head, objs, esize, n);
	/* release: our reads of the slots come before their reuse */
	__atomic_store_n(&r->cons.tail, head + n, __ATOMIC_RELEASE);
}

/*
 * The common case (1 <= n <= room) is spelt out apart from the rest (n ==
 * 0, not enough room) so that in it the copy and the new index use n
 * itself: a constant for most callers, so the copy is unrolled, and the
 * count returned does not depend on the indices just loaded. A clamp
 * merged into the common path compiles to a conditional move, and then
 * back-to-back calls wait on each other through the indices in memory.
 * `n - 1 < room` tests 1 <= n <= room in one unsigned compare.
 */

/** @internal Enqueue of the _elem and pointer functions. */
static __sl_always_inline unsigned
__sl_ring_enqueue(struct sl_ring *r, const void *objs, uint32_t esize,
		  unsigned n, bool fixed, unsigned *free_space)
{
	uint32_t mask, head, room;

#ifdef SL_DEBUG
	if (r == NULL || esize != r->esize || (objs == NULL && n != 0)) {
		if (free_space != NULL)
			*free_space = 0;
		return 0;
	}
#endif
	mask = r->prod.mask;
	if (r->prod.single) {
		/* only this thread writes prod.tail: relaxed */
		head = __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED);
		/* acquire: consumers are done with the slots we reuse */
		room = mask + 1 +
		       __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE) - head;
		if (likely(n - 1 < room)) {
			__sl_ring_sp_put(r, mask, head, objs, esize, n);
		} else {
			/* the min keeps n's bound visible to the compiler */
			if (n > room)
				n = fixed ? 0 : SL_MIN(room, n);
			if (n != 0)
				__sl_ring_sp_put(r, mask, head, objs, esize, n);
		}
	} else {
		if (likely(__sl_ring_mp_claim_all(r, mask, n, &head, &room))) {
			__sl_ring_mp_put(r, mask, head, objs, esize, n);
		} else {
			n = __sl_ring_mp_claim(r, mask, n, fixed, &head, &room);
			if (n != 0)
				__sl_ring_mp_put(r, mask, head, objs, esize, n);
		}
	}
	if (free_space != NULL)
		*free_space = room - n;
	return n;
}

/** @internal Dequeue of the _elem and pointer functions. */
static __sl_always_inline unsigned
__sl_ring_dequeue(struct sl_ring *r, void *objs, uint32_t esize, unsigned n,
		  bool fixed, unsigned *available)
{
	uint32_t mask, head, used;

#ifdef SL_DEBUG
	if (r == NULL || esize != r->esize || (objs == NULL && n != 0)) {
		if (available != NULL)
			*available = 0;
		return 0;
	}
#endif
	mask = r->cons.mask;
	if (r->cons.single) {
		/* only this thread writes cons.tail: relaxed */
		head = __atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED);
		/* acquire: the producers' writes to the slots are visible */
		used = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) - head;
		if (likely(n - 1 < used)) {
			__sl_ring_sc_get(r, mask, head, objs, esize, n);
		} else {
			if (n > used)
				n = fixed ? 0 : SL_MIN(used, n);
			if (n != 0)
				__sl_ring_sc_get(r, mask, head, objs, esize, n);
		}
	} else {
		if (likely(__sl_ring_mc_claim_all(r, n, &head, &used))) {
			__sl_ring_mc_get(r, mask, head, objs, esize, n);
		} else {
			n = __sl_ring_mc_claim(r, n, fixed, &head, &used);
			if (n != 0)
				__sl_ring_mc_get(r, mask, head, objs, esize, n);
		}
	}
	if (available != NULL)
		*available = used - n;
	return n;
}

/* ---- enqueue / dequeue ------------------------------------------------- */

/**
 * Enqueue n elements, all or none.
 * @param r The ring.
 * @param objs n elements of esize bytes, one after the other.
 * @param esize Element size: must equal the ring's. Pass a constant so
 *   the copy is specialised. Checked only with SL_DEBUG: there a mismatch
 *   (or a NULL r, or NULL objs with n > 0) moves nothing, returns 0 and
 *   sets *free_space (*available) to 0. The pointer functions are these
 *   with esize sizeof(void *).
 * @param n Number of elements.
 * @param free_space If not NULL, set to the free slots after the call.
 * @return n, or 0 when fewer than n slots were free. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_enqueue_bulk_elem(struct sl_ring *r, const void *objs, uint32_t esize,
			  unsigned n, unsigned *free_space)
{
	return __sl_ring_enqueue(r, objs, esize, n, true, free_space);
}

/**
 * Enqueue as many of n elements as there are free slots.
 * @param r The ring.
 * @param objs n elements of esize bytes, one after the other.
 * @param esize Element size, equal to the ring's (see
 *   sl_ring_enqueue_bulk_elem()).
 * @param n Number of elements.
 * @param free_space If not NULL, set to the free slots after the call.
 * @return The number enqueued, 0..n (the first ones of objs). Never an error.
 */
static __sl_always_inline unsigned
sl_ring_enqueue_burst_elem(struct sl_ring *r, const void *objs, uint32_t esize,
			   unsigned n, unsigned *free_space)
{
	return __sl_ring_enqueue(r, objs, esize, n, false, free_space);
}

/**
 * Dequeue n elements, all or none.
 * @param r The ring.
 * @param objs Room for n elements of esize bytes.
 * @param esize Element size, equal to the ring's (see
 *   sl_ring_enqueue_bulk_elem()).
 * @param n Number of elements.
 * @param available If not NULL, set to the elements left after the call.
 * @return n, or 0 when fewer than n were in the ring. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_dequeue_bulk_elem(struct sl_ring *r, void *objs, uint32_t esize,
			  unsigned n, unsigned *available)
{
	return __sl_ring_dequeue(r, objs, esize, n, true, available);
}

/**
 * Dequeue up to n elements.
 * @param r The ring.
 * @param objs Room for n elements of esize bytes.
 * @param esize Element size, equal to the ring's (see
 *   sl_ring_enqueue_bulk_elem()).
 * @param n Most elements to take.
 * @param available If not NULL, set to the elements left after the call.
 * @return The number dequeued, 0..n. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_dequeue_burst_elem(struct sl_ring *r, void *objs, uint32_t esize,
			   unsigned n, unsigned *available)
{
	return __sl_ring_dequeue(r, objs, esize, n, false, available);
}

/**
 * Enqueue n pointers, all or none (ring of pointers).
 * @param r The ring, made by sl_ring_create() or with esize sizeof(void *).
 * @param objs n pointers.
 * @param n Number of pointers.
 * @param free_space If not NULL, set to the free slots after the call.
 * @return n, or 0 when fewer than n slots were free. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_enqueue_bulk(struct sl_ring *r, void *const *objs, unsigned n,
		     unsigned *free_space)
{
	return __sl_ring_enqueue(r, objs, sizeof(void *), n, true, free_space);
}

/**
 * Enqueue as many of n pointers as there are free slots.
 * @param r The ring of pointers.
 * @param objs n pointers.
 * @param n Number of pointers.
 * @param free_space If not NULL, set to the free slots after the call.
 * @return The number enqueued, 0..n (the first ones of objs). Never an error.
 */
static __sl_always_inline unsigned
sl_ring_enqueue_burst(struct sl_ring *r, void *const *objs, unsigned n,
		      unsigned *free_space)
{
	return __sl_ring_enqueue(r, objs, sizeof(void *), n, false, free_space);
}

/**
 * Dequeue n pointers, all or none.
 * @param r The ring of pointers.
 * @param objs Room for n pointers.
 * @param n Number of pointers.
 * @param available If not NULL, set to the pointers left after the call.
 * @return n, or 0 when fewer than n were in the ring. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_dequeue_bulk(struct sl_ring *r, void **objs, unsigned n,
		     unsigned *available)
{
	return __sl_ring_dequeue(r, objs, sizeof(void *), n, true, available);
}

/**
 * Dequeue up to n pointers.
 * @param r The ring of pointers.
 * @param objs Room for n pointers.
 * @param n Most pointers to take.
 * @param available If not NULL, set to the pointers left after the call.
 * @return The number dequeued, 0..n. Never an error code.
 */
static __sl_always_inline unsigned
sl_ring_dequeue_burst(struct sl_ring *r, void **objs, unsigned n,
		      unsigned *available)
{
	return __sl_ring_dequeue(r, objs, sizeof(void *), n, false, available);
}

/**
 * Enqueue one pointer.
 * @param r The ring of pointers.
 * @param obj The pointer.
 * @return 0, or -ENOBUFS when the ring is full.
 */
static __sl_always_inline int
sl_ring_enqueue(struct sl_ring *r, void *obj)
{
	return __sl_ring_enqueue(r, &obj, sizeof(void *), 1, true, NULL) != 0
		       ? 0
		       : -ENOBUFS;
}

/**
 * Dequeue one pointer.
 * @param r The ring of pointers.
 * @param obj Set to the pointer dequeued; untouched on failure.
 * @return 0, or -ENOENT when the ring is empty.
 */
static __sl_always_inline int
sl_ring_dequeue(struct sl_ring *r, void **obj)
{
	return __sl_ring_dequeue(r, obj, sizeof(void *), 1, true, NULL) != 0
		       ? 0
		       : -ENOENT;
}

/* ---- state ------------------------------------------------------------- */

/**
 * @return The number of objects in the ring (a snapshot when other threads
 *   use it; published objects only).
 * @param r The ring.
 */
static __sl_always_inline unsigned
sl_ring_count(const struct sl_ring *r)
{
	uint32_t ct = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t pt = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
	uint32_t used = pt - ct;

	/* both loads race with other threads: clamp a torn snapshot */
	return used > r->prod.mask + 1 ? r->prod.mask + 1 : used;
}

/**
 * @return The number of free slots (a snapshot when other threads use it).
 * @param r The ring.
 */
static __sl_always_inline unsigned
sl_ring_free_count(const struct sl_ring *r)
{
	return r->prod.mask + 1 - sl_ring_count(r);
}

/**
 * @return The capacity of the ring: its number of slots, count at creation.
 * @param r The ring.
 */
static __sl_always_inline unsigned
sl_ring_capacity(const struct sl_ring *r)
{
	return r->prod.mask + 1;
}

/**
 * @return true when the ring holds no object (a snapshot).
 * @param r The ring.
 */
static __sl_always_inline bool
sl_ring_empty(const struct sl_ring *r)
{
	return sl_ring_count(r) == 0;
}

/**
 * @return true when every slot of the ring is used (a snapshot).
 * @param r The ring.
 */
static __sl_always_inline bool
sl_ring_full(const struct sl_ring *r)
{
	return sl_ring_count(r) == sl_ring_capacity(r);
}

#ifdef __cplusplus
}
#endif
#endif /* SL_RING_H */
