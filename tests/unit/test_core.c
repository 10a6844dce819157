/* Unit tests of core: logging, errors, thread registry, pinning, time, memory.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sluice/sl_common.h"
#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

/* Run fn with stderr redirected to a temporary file; return what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	static char buf[4096];
	FILE *tmp = tmpfile();
	int saved, n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = (int)fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static void
log_some_lines(void)
{
	sl_log(SL_LOG_ERR, "modA", "error %d", 1);
	sl_log(SL_LOG_DEBUG, "modA", "debug hidden %d", 2);
	sl_log(SL_LOG_DEBUG, "modB", "debug shown %d", 3);
	sl_log(SL_LOG_INFO, NULL, "default module %s", "x");
}

static void
test_log_levels_filter_per_module(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(sl_log_set_level(NULL, SL_LOG_INFO), 0);
	assert_int_equal(sl_log_set_level("modB", SL_LOG_DEBUG), 0);
	assert_int_equal(sl_log_get_level("modA"), SL_LOG_INFO);
	assert_int_equal(sl_log_get_level("modB"), SL_LOG_DEBUG);
	out = capture_stderr(log_some_lines);
	assert_non_null(strstr(out, "err     modA: error 1"));
	assert_null(strstr(out, "debug hidden"));
	assert_non_null(strstr(out, "modB: debug shown 3"));
	assert_non_null(strstr(out, "sluice: default module x"));
	assert_int_equal(sl_log_set_level("*", SL_LOG_NOTICE), 0);
	assert_int_equal(sl_log_get_level("modA"), SL_LOG_NOTICE);
}

static void
test_log_bad_input(void **state)
{
	(void)state;
	assert_int_equal(sl_log_set_level("m", 8), -EINVAL);
	assert_int_equal(sl_log_set_level("m", -1), -EINVAL);
	assert_int_equal(
		sl_log_set_level("a-module-name-that-is-far-too-long", 3),
		-EINVAL);
	assert_int_equal(sl_log_set_sink(7, NULL), -EINVAL);
	assert_int_equal(sl_log_level_parse("warning"), SL_LOG_WARNING);
	assert_int_equal(sl_log_level_parse("DEBUG"), SL_LOG_DEBUG);
	assert_int_equal(sl_log_level_parse("5"), 5);
	assert_int_equal(sl_log_level_parse("9"), -EINVAL);
	assert_int_equal(sl_log_level_parse(""), -EINVAL);
	assert_int_equal(sl_log_level_parse(NULL), -EINVAL);
	assert_int_equal(sl_log_level_parse("loud"), -EINVAL);
}

static void
set_bad_levels(void)
{
	assert_int_equal(sl_log_set_levels("info,ring=shout"), -EINVAL);
}

static void
test_log_set_levels_spec(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(sl_log_set_levels("warning,ring=debug,mempool=err"),
			 0);
	assert_int_equal(sl_log_get_level("ring"), SL_LOG_DEBUG);
	assert_int_equal(sl_log_get_level("mempool"), SL_LOG_ERR);
	assert_int_equal(sl_log_get_level("other"), SL_LOG_WARNING);
	out = capture_stderr(set_bad_levels);
	assert_non_null(strstr(out, "bad log level 'shout'"));
	assert_int_equal(sl_log_set_levels(NULL), -EINVAL);
	assert_int_equal(sl_log_set_levels("notice"), 0);
}

static void
test_log_syslog_sink(void **state)
{
	(void)state;
	assert_int_equal(sl_log_set_sink(SL_LOG_SINK_SYSLOG, "sluice-test"), 0);
	sl_log(SL_LOG_DEBUG, "t", "not emitted at notice");
	assert_int_equal(sl_log_set_sink(SL_LOG_SINK_STDERR, NULL), 0);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sl_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(sl_strerror(EINVAL), strerror(EINVAL));
	assert_string_equal(sl_strerror(0), "success");
}

static void
test_thread_register(void **state)
{
	int id;

	(void)state;
	assert_int_equal(sl_thread_id(), SL_THREAD_ID_NONE);
	id = sl_thread_register("main-test");
	assert_true(id >= 0 && id < SL_MAX_THREADS);
	assert_int_equal(sl_thread_id(), (uint32_t)id);
	assert_string_equal(sl_thread_name((uint32_t)id), "main-test");
	assert_int_equal(sl_thread_count(), 1);
	assert_int_equal(sl_thread_register("again"), -EEXIST);
	sl_thread_unregister();
	assert_int_equal(sl_thread_id(), SL_THREAD_ID_NONE);
	assert_null(sl_thread_name((uint32_t)id));
	assert_null(sl_thread_name(SL_MAX_THREADS));
	assert_int_equal(sl_thread_count(), 0);
	sl_thread_unregister(); /* no-op */
}

struct worker_arg {
	uint32_t id;
	int cpu;
	int pinned_cpu;
};

static void *
worker(void *p)
{
	struct worker_arg *a = p;

	a->id = sl_thread_id();
	a->pinned_cpu = sl_cpu_current();
	return p;
}

static void
test_thread_create_pinned(void **state)
{
	struct worker_arg a = {.cpu = sl_cpu_nth(sl_cpu_count() - 1)};
	pthread_t t;
	void *ret;

	(void)state;
	assert_true(a.cpu >= 0);
	assert_int_equal(sl_thread_create(&t, "w0", a.cpu, worker, &a), 0);
	assert_int_equal(sl_thread_join(t, &ret), 0);
	assert_ptr_equal(ret, &a);
	assert_true(a.id < SL_MAX_THREADS);
	assert_int_equal(a.pinned_cpu, a.cpu);
	/* the id is released when the thread ends */
	assert_int_equal(sl_thread_count(), 0);
	assert_int_equal(sl_thread_create(&t, "w1", -1, worker, &a), 0);
	assert_int_equal(sl_thread_join(t, NULL), 0);
}

static void
test_thread_create_bad_args(void **state)
{
	pthread_t t;
	int absent = -1, cpu;

	(void)state;
	assert_int_equal(sl_thread_create(NULL, "x", -1, worker, NULL),
			 -EINVAL);
	assert_int_equal(sl_thread_create(&t, "x", -1, NULL, NULL), -EINVAL);
	assert_int_equal(sl_thread_create(&t, "x", -2, worker, NULL), -EINVAL);
	assert_int_equal(sl_cpu_pin(-1), -EINVAL);
	assert_int_equal(sl_cpu_nth(-1), -EINVAL);
	assert_int_equal(sl_cpu_nth(sl_cpu_count()), -ENOENT);
	/* a CPU outside our set: the thread fails to start, cleanly */
	for (cpu = 0; cpu < 1024; cpu++) {
		int i, found = 0;

		for (i = 0; i < sl_cpu_count(); i++)
			if (sl_cpu_nth(i) == cpu)
				found = 1;
		if (!found) {
			absent = cpu;
			break;
		}
	}
	assert_true(absent >= 0);
	assert_int_equal(sl_thread_create(&t, "x", absent, worker, NULL),
			 -EINVAL);
	assert_int_equal(sl_thread_count(), 0);
}

static pthread_barrier_t hold;

static void *
holder(void *p)
{
	(void)p;
	pthread_barrier_wait(&hold);
	return NULL;
}

static void
test_thread_registry_full(void **state)
{
	pthread_t t[SL_MAX_THREADS];
	pthread_t extra;
	unsigned i;

	(void)state;
	assert_int_equal(pthread_barrier_init(&hold, NULL, SL_MAX_THREADS + 1),
			 0);
	for (i = 0; i < SL_MAX_THREADS; i++)
		assert_int_equal(sl_thread_create(&t[i], "h", -1, holder, NULL),
				 0);
	assert_int_equal(sl_thread_count(), SL_MAX_THREADS);
	assert_int_equal(sl_thread_register("one-too-many"), -ENOSPC);
	assert_int_equal(sl_thread_create(&extra, "x", -1, holder, NULL),
			 -ENOSPC);
	pthread_barrier_wait(&hold);
	for (i = 0; i < SL_MAX_THREADS; i++)
		assert_int_equal(sl_thread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&hold);
	assert_int_equal(sl_thread_count(), 0);
}

static void
test_tsc_calibration(void **state)
{
	uint64_t hz, t0, c0, dt, dc, ns;

	(void)state;
	hz = sl_tsc_hz();
	assert_true(hz >= 1000000ull);	   /* at least 1 MHz */
	assert_int_equal(sl_tsc_hz(), hz); /* cached */
	assert_int_equal(sl_tsc_to_ns(hz), 1000000000ull);
	assert_int_equal(sl_ns_to_tsc(1000000000ull), hz);
	t0 = sl_time_ns();
	c0 = sl_tsc();
	sl_delay_us(20000);
	dt = sl_time_ns() - t0;
	dc = sl_tsc() - c0;
	ns = sl_tsc_to_ns(dc);
	/* the delay lasted at least 20 ms by both clocks, and both agree */
	assert_true(dt >= 20000000ull);
	assert_true(ns >= 19000000ull);
	assert_true(ns <= dt + dt / 10 && ns + dt / 10 >= dt);
}

static void
test_memregion_small_pages(void **state)
{
	struct sl_memregion *mr;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p;
	size_t i;

	(void)state;
	mr = sl_memregion_alloc("t4k", 10000, SL_MEM_F_NO_HUGE);
	assert_non_null(mr);
	assert_false(mr->hugepage);
	assert_int_equal(mr->page_sz, page);
	assert_int_equal(mr->len % page, 0);
	assert_true(mr->len >= 10000);
	assert_int_equal((uintptr_t)mr->addr % page, 0);
	p = mr->addr;
	for (i = 0; i < mr->len; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xab, mr->len);
	assert_int_equal(sl_memregion_lock(mr), 0);
	sl_memregion_free(mr);
	sl_memregion_free(NULL);
}

/* SL_MEM_F_THP on small pages: a 2 MB aligned start, the length asked
 * (rounded to pages), zeroed and writable to its end, and the huge-page
 * advice visible in /proc/self/smaps (when the kernel has THP at all). */
static void
test_memregion_thp(void **state)
{
	struct sl_memregion *mr;
	char line[256], want[32];
	unsigned char *p;
	bool found = false, advised = false;
	size_t i;
	FILE *f;

	(void)state;
	mr = sl_memregion_alloc("tthp", (5u << 20) + 100,
				SL_MEM_F_NO_HUGE | SL_MEM_F_THP);
	assert_non_null(mr);
	assert_false(mr->hugepage);
	assert_int_equal((uintptr_t)mr->addr % SL_HUGEPAGE_SZ, 0);
	assert_int_equal(mr->len, ((5u << 20) + 100 + mr->page_sz - 1) /
					  mr->page_sz * mr->page_sz);
	p = mr->addr;
	for (i = 0; i < mr->len; i += 4096)
		assert_int_equal(p[i], 0);
	memset(p, 0x5a, mr->len);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)p);
	f = fopen("/proc/self/smaps", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, want, strlen(want)) == 0)
				found = true;
			else if (found && strncmp(line, "VmFlags:", 8) == 0) {
				advised = strstr(line, " hg") != NULL;
				break;
			}
		}
		fclose(f);
		assert_true(found);
		if (access("/sys/kernel/mm/transparent_hugepage/enabled",
			   F_OK) == 0)
			assert_true(advised);
	}
	sl_memregion_free(mr);
}

static void
test_memregion_hugepages_or_fallback(void **state)
{
	struct sl_memregion *mr;
	long free_huge = sl_hugepages_free();

	(void)state;
	mr = sl_memregion_alloc("tauto", 3u << 20, 0);
	assert_non_null(mr);
	if (mr->hugepage) {
		assert_int_equal(mr->page_sz, SL_HUGEPAGE_SZ);
		assert_int_equal(mr->len, 4u << 20);
	} else {
		assert_int_equal(mr->len, 3u << 20);
	}
	memset(mr->addr, 1, mr->len);
	sl_memregion_free(mr);

	errno = 0;
	mr = sl_memregion_alloc("tonly", 1u << 20, SL_MEM_F_HUGE_ONLY);
	if (free_huge == 0) {
		assert_null(mr);
		assert_int_equal(errno, ENOMEM);
	} else {
		assert_non_null(mr);
		assert_true(mr->hugepage);
		sl_memregion_free(mr);
	}
}

static void
test_memregion_errors_and_wrap(void **state)
{
	char buf[256];
	struct sl_memregion *mr;

	(void)state;
	errno = 0;
	assert_null(sl_memregion_alloc("z", 0, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_memregion_alloc("both", 4096,
				       SL_MEM_F_NO_HUGE | SL_MEM_F_HUGE_ONLY));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_memregion_wrap(NULL, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_memregion_wrap(buf, 0));
	assert_int_equal(errno, EINVAL);
	mr = sl_memregion_wrap(buf, sizeof(buf));
	assert_non_null(mr);
	assert_ptr_equal(mr->addr, buf);
	assert_false(mr->owned);
	sl_memregion_free(mr); /* must not unmap the stack */
	buf[0] = 1;
	assert_int_equal(sl_memregion_lock(NULL), -EINVAL);
}

static void
test_zmalloc_aligned(void **state)
{
	unsigned char *p;
	int i;

	(void)state;
	p = sl_zmalloc(1000);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % SL_CACHE_LINE, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(p[i], 0);
	sl_free(p);
	sl_free(NULL);
}

static void
test_helpers(void **state)
{
	char buf[128];

	(void)state;
	assert_true(sl_is_pow2(1) && sl_is_pow2(4096));
	assert_false(sl_is_pow2(0) || sl_is_pow2(12));
	assert_int_equal(sl_align32pow2(0), 1);
	assert_int_equal(sl_align32pow2(1000), 1024);
	assert_int_equal(sl_align32pow2(1024), 1024);
	assert_int_equal(sl_align_ceil(65, 64), 128);
	assert_int_equal(SL_MIN(3, 4), 3);
	assert_int_equal(SL_MAX(3, 4), 4);
	assert_int_equal((uintptr_t)sl_ptr_align_ceil(buf + 1, 64) % 64, 0);
	sl_prefetch0(buf);
	sl_prefetch1(buf);
	sl_prefetch2(buf);
	sl_prefetch_w(buf);
	sl_pause();
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_log_levels_filter_per_module),
		cmocka_unit_test(test_log_bad_input),
		cmocka_unit_test(test_log_set_levels_spec),
		cmocka_unit_test(test_log_syslog_sink),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_thread_register),
		cmocka_unit_test(test_thread_create_pinned),
		cmocka_unit_test(test_thread_create_bad_args),
		cmocka_unit_test(test_thread_registry_full),
		cmocka_unit_test(test_tsc_calibration),
		cmocka_unit_test(test_memregion_small_pages),
		cmocka_unit_test(test_memregion_thp),
		cmocka_unit_test(test_memregion_hugepages_or_fallback),
		cmocka_unit_test(test_memregion_errors_and_wrap),
		cmocka_unit_test(test_zmalloc_aligned),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests_name("core", t, NULL, NULL);
}
