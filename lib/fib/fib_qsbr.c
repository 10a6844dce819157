/*
 * Quiescent-state based reclamation for the FIB's groups (see sl_fib.h).
 *
 * A global epoch counts grace periods. Each reader has a cache line with
 * the last epoch it saw at a quiescent state (or "offline"). The writer
 * unlinks memory, then sl_fib_qsbr_start() advances the epoch and returns
 * the new value as a token; the memory is safe to reuse once every reader
 * has reported an epoch >= token.
 *
 * Ordering (C11):
 * - start: the epoch moves with a seq_cst read-modify-write, after the
 *   unlinking stores of the update;
 * - quiescent: the reader loads the epoch with acquire (so a reader that
 *   sees the new epoch also sees the unlinking stores in its later
 *   lookups) and publishes it with release (so its earlier lookups are
 *   done before the writer, who loads it with acquire, reuses memory);
 * - register and online: the reader's slot is counted (high-water mark)
 *   and its epoch loaded and stored, all seq_cst, then a full fence comes
 *   before any lookup; check: a full fence, then seq_cst loads of the
 *   high-water mark and of every epoch. Either the writer's check sees
 *   the reader online, or the reader's lookups see the unlinking stores.
 */
#include <errno.h>
#include <stdlib.h>

#include "fib_private.h"

#define QSBR_READERS_MAX 1024u
/* Epoch of a reader that is offline or not registered: passes every check. */
#define QSBR_OFFLINE UINT64_MAX

struct qsbr_reader {
	uint64_t seen; /* last epoch at a quiescent state, or QSBR_OFFLINE */
	uint32_t used; /* 1 when registered */
} __sl_cache_aligned;

struct sl_fib_qsbr {
	uint64_t epoch __sl_cache_aligned;
	uint32_t max_readers __sl_cache_aligned;
	uint32_t hiwat; /* readers[hiwat..] were never registered */
	struct qsbr_reader readers[];
};

struct sl_fib_qsbr *
sl_fib_qsbr_create(unsigned max_readers)
{
	struct sl_fib_qsbr *q;
	unsigned i;

	if (max_readers == 0 || max_readers > QSBR_READERS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	q = sl_zmalloc(sizeof(*q) + max_readers * sizeof(q->readers[0]));
	if (q == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	q->epoch = 1;
	q->max_readers = max_readers;
	for (i = 0; i < max_readers; i++)
		q->readers[i].seen = QSBR_OFFLINE;
	return q;
}

void
sl_fib_qsbr_free(struct sl_fib_qsbr *q)
{
	sl_free(q);
}

int
sl_fib_qsbr_register(struct sl_fib_qsbr *q)
{
	uint32_t i, zero, hw;

	if (q == NULL)
		return -EINVAL;
	for (i = 0; i < q->max_readers; i++) {
		zero = 0;
		if (!__atomic_compare_exchange_n(&q->readers[i].used, &zero, 1,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		hw = __atomic_load_n(&q->hiwat, __ATOMIC_RELAXED);
		while (hw < i + 1 &&
		       !__atomic_compare_exchange_n(&q->hiwat, &hw, i + 1,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED))
			;
		sl_fib_qsbr_online(q, i);
		return (int)i;
	}
	return -ENOSPC;
}

int
sl_fib_qsbr_unregister(struct sl_fib_qsbr *q, unsigned id)
{
	if (q == NULL || id >= q->max_readers ||
	    __atomic_load_n(&q->readers[id].used, __ATOMIC_RELAXED) == 0)
		return -EINVAL;
	sl_fib_qsbr_offline(q, id);
	__atomic_store_n(&q->readers[id].used, 0, __ATOMIC_RELEASE);
	return 0;
}

void
sl_fib_qsbr_quiescent(struct sl_fib_qsbr *q, unsigned id)
{
	uint64_t e = __atomic_load_n(&q->epoch, __ATOMIC_ACQUIRE);

	__atomic_store_n(&q->readers[id].seen, e, __ATOMIC_RELEASE);
}

void
sl_fib_qsbr_offline(struct sl_fib_qsbr *q, unsigned id)
{
	__atomic_store_n(&q->readers[id].seen, QSBR_OFFLINE, __ATOMIC_RELEASE);
}

void
sl_fib_qsbr_online(struct sl_fib_qsbr *q, unsigned id)
{
	uint64_t e = __atomic_load_n(&q->epoch, __ATOMIC_SEQ_CST);

	__atomic_store_n(&q->readers[id].seen, e, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t
sl_fib_qsbr_start(struct sl_fib_qsbr *q)
{
	return __atomic_add_fetch(&q->epoch, 1, __ATOMIC_SEQ_CST);
}

bool
sl_fib_qsbr_check(struct sl_fib_qsbr *q, uint64_t token)
{
	uint32_t i, n;

	/*
	 * A reader that registers or comes online after these loads saw the
	 * epoch of the token (or a later one): every step of both sides is
	 * seq_cst, so its lookups see the unlinking stores.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	n = __atomic_load_n(&q->hiwat, __ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++)
		if (__atomic_load_n(&q->readers[i].seen, __ATOMIC_SEQ_CST) <
		    token)
			return false;
	return true;
}
