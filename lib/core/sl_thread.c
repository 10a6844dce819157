/*
 * Thread registry and CPU pinning. Ids are small integers reused after a
 * thread unregisters; they index per-thread state such as mempool caches.
 */
#define SL_LOG_MODULE "thread"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/sl_log.h"
#include "sluice/sl_thread.h"

#define THREAD_NAMESZ 32

SL_API __thread uint32_t __sl_thread_id = SL_THREAD_ID_NONE;

static struct {
	pthread_mutex_t lock;
	unsigned count;
	bool used[SL_MAX_THREADS];
	char names[SL_MAX_THREADS][THREAD_NAMESZ];
} registry = {.lock = PTHREAD_MUTEX_INITIALIZER};

int
sl_thread_register(const char *name)
{
	char kname[16];
	uint32_t id;

	if (__sl_thread_id != SL_THREAD_ID_NONE)
		return -EEXIST;
	pthread_mutex_lock(&registry.lock);
	for (id = 0; id < SL_MAX_THREADS; id++)
		if (!registry.used[id])
			break;
	if (id == SL_MAX_THREADS) {
		pthread_mutex_unlock(&registry.lock);
		SL_ERR("cannot register thread '%s': all %d thread ids in use",
		       name != NULL ? name : "?", SL_MAX_THREADS);
		return -ENOSPC;
	}
	registry.used[id] = true;
	registry.count++;
	snprintf(registry.names[id], THREAD_NAMESZ, "%s",
		 name != NULL ? name : "thread");
	pthread_mutex_unlock(&registry.lock);
	__sl_thread_id = id;
	if (name != NULL) {
		snprintf(kname, sizeof(kname), "%s", name);
		(void)pthread_setname_np(pthread_self(), kname);
	}
	return (int)id;
}

void
sl_thread_unregister(void)
{
	uint32_t id = __sl_thread_id;

	if (id == SL_THREAD_ID_NONE)
		return;
	pthread_mutex_lock(&registry.lock);
	registry.used[id] = false;
	registry.names[id][0] = '\0';
	registry.count--;
	pthread_mutex_unlock(&registry.lock);
	__sl_thread_id = SL_THREAD_ID_NONE;
}

const char *
sl_thread_name(uint32_t id)
{
	const char *name = NULL;

	if (id >= SL_MAX_THREADS)
		return NULL;
	pthread_mutex_lock(&registry.lock);
	if (registry.used[id])
		name = registry.names[id];
	pthread_mutex_unlock(&registry.lock);
	return name;
}

unsigned
sl_thread_count(void)
{
	unsigned n;

	pthread_mutex_lock(&registry.lock);
	n = registry.count;
	pthread_mutex_unlock(&registry.lock);
	return n;
}

int
sl_cpu_count(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

int
sl_cpu_nth(int n)
{
	cpu_set_t set;
	int cpu;

	if (n < 0)
		return -EINVAL;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && n-- == 0)
			return cpu;
	return -ENOENT;
}

int
sl_cpu_pin(int cpu)
{
	cpu_set_t set;
	int err;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err != 0) {
		SL_ERR("cannot pin thread to CPU %d: %s", cpu, strerror(err));
		return -err;
	}
	return 0;
}

int
sl_cpu_current(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? -errno : cpu;
}

struct thread_start {
	char name[THREAD_NAMESZ];
	int cpu;
	sl_thread_fn fn;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int status; /* 1 while starting, then 0 or -errno */
};

static void *
thread_trampoline(void *p)
{
	struct thread_start *ts = p;
	sl_thread_fn fn = ts->fn;
	void *arg = ts->arg, *ret;
	int err;

	err = sl_thread_register(ts->name);
	if (err >= 0 && ts->cpu >= 0) {
		err = sl_cpu_pin(ts->cpu);
		if (err < 0)
			sl_thread_unregister();
	}
	pthread_mutex_lock(&ts->lock);
	ts->status = err < 0 ? err : 0;
	pthread_cond_signal(&ts->cond);
	pthread_mutex_unlock(&ts->lock);
	/* ts belongs to the creator from here on */
	if (err < 0)
		return NULL;
	ret = fn(arg);
	sl_thread_unregister();
	return ret;
}

int
sl_thread_create(pthread_t *t, const char *name, int cpu, sl_thread_fn fn,
		 void *arg)
{
	struct thread_start ts = {
		.cpu = cpu,
		.fn = fn,
		.arg = arg,
		.status = 1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	int err;

	if (t == NULL || fn == NULL || cpu < -1 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	snprintf(ts.name, sizeof(ts.name), "%s", name != NULL ? name : "sl");
	err = pthread_create(t, NULL, thread_trampoline, &ts);
	if (err != 0) {
		SL_ERR("cannot start thread '%s': %s", ts.name, strerror(err));
		return -err;
	}
	pthread_mutex_lock(&ts.lock);
	while (ts.status == 1)
		pthread_cond_wait(&ts.cond, &ts.lock);
	pthread_mutex_unlock(&ts.lock);
	if (ts.status < 0) {
		pthread_join(*t, NULL);
		return ts.status;
	}
	return 0;
}

int
sl_thread_join(pthread_t t, void **ret)
{
	return -pthread_join(t, ret);
}
