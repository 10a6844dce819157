/*
 * The kernel mirror's API (sluice/sl_nlmirror.h) without root and without
 * changing anything: argument checks, and starting the mirror in the
 * caller's network namespace (reading it needs no privilege), waiting for
 * its first dump and stopping it, again and again. The netns test
 * (tests/netns/test_nlmirror.c) checks what it reports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "sluice/sl_log.h"
#include "sluice/sl_nlmirror.h"

struct seen {
	pthread_mutex_t lock;
	unsigned begins, ends, links, lo;
	bool order_ok; /* nothing before resync_begin */
};

static void
on_link(void *arg, const struct sl_nlm_link *l, bool del)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	if (s->begins == 0)
		s->order_ok = false;
	s->links++;
	if (!del && strcmp(l->name, "lo") == 0)
		s->lo++;
	pthread_mutex_unlock(&s->lock);
}

static void
on_begin(void *arg)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	s->begins++;
	pthread_mutex_unlock(&s->lock);
}

static void
on_end(void *arg)
{
	struct seen *s = arg;

	pthread_mutex_lock(&s->lock);
	s->ends++;
	pthread_mutex_unlock(&s->lock);
}

static void
test_args(void **state)
{
	struct sl_nlm_stats st;

	(void)state;
	sl_nlm_stop(NULL);
	assert_int_equal(sl_nlm_wait_synced(NULL, 0), -EINVAL);
	assert_int_equal(sl_nlm_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(sl_nlm_neigh_resolve(NULL, 1, 0xc6120001), -EINVAL);
}

static void
test_start_sync_stop(void **state)
{
	static const struct sl_nlm_ops ops = {
		.link = on_link,
		.resync_begin = on_begin,
		.resync_end = on_end,
	};
	struct seen s = {.lock = PTHREAD_MUTEX_INITIALIZER, .order_ok = true};
	struct sl_nlm_stats st;
	struct sl_nlm *m;
	unsigned i;

	(void)state;
	for (i = 0; i < 5; i++) {
		memset(&st, 0, sizeof(st));
		m = sl_nlm_start(NULL, &ops, &s);
		assert_non_null(m);
		assert_int_equal(sl_nlm_wait_synced(m, 5000), 0);
		assert_int_equal(sl_nlm_stats_get(m, &st), 0);
		assert_true(st.events >= 3); /* begin, lo, end */
		assert_int_equal(sl_nlm_stats_get(m, NULL), -EINVAL);
		/* bad arguments are refused before the kernel is asked */
		assert_int_equal(sl_nlm_neigh_resolve(m, 0, 0xc6120001),
				 -EINVAL);
		assert_int_equal(sl_nlm_neigh_resolve(m, 1, 0), -EINVAL);
		assert_int_equal(sl_nlm_neigh_resolve(m, 1, 0xe0000001),
				 -EINVAL);
		assert_int_equal(sl_nlm_neigh_resolve(m, 1, 0xffffffff),
				 -EINVAL);
		sl_nlm_stop(m);
		pthread_mutex_lock(&s.lock);
		assert_int_equal(s.begins, i + 1);
		assert_int_equal(s.ends, i + 1);
		assert_int_equal(s.lo, i + 1);
		assert_true(s.order_ok);
		pthread_mutex_unlock(&s.lock);
	}
	/* stopped before its first dump ended */
	for (i = 0; i < 5; i++) {
		m = sl_nlm_start(NULL, NULL, NULL);
		assert_non_null(m);
		sl_nlm_stop(m);
	}
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_start_sync_stop),
	};

	sl_log_set_levels("notice");
	return cmocka_run_group_tests_name("nlmirror", t, NULL, NULL);
}
