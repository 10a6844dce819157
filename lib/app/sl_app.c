/*
 * The application framework (sl_app.h): pools from umems, lports opened
 * and started, one pinned thread per configured thread, a main loop that
 * calls the app's tick, and a clean stop. The SIGINT/SIGTERM handlers are
 * installed before any lport opens, so that backends which would install
 * handlers of their own (net_af_xdp detaches its program on a signal when
 * nobody else handles it) leave the stop to the app, which closes every
 * lport in order.
 */
#define SL_LOG_MODULE "app"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "sluice/sl_app.h"
#include "sluice/sl_log.h"
#include "sluice/sl_mbuf.h"
#include "sluice/sl_mem.h"
#include "sluice/sl_thread.h"

/* Longest sleep of an idle thread when intr_timeout is 0 (ms). */
#define APP_INTR_DEFAULT_MS 100
/* Longest sleep of the main loop between checks (ms). */
#define APP_MAIN_STEP_MS 50

struct app_thread {
	struct sl_app_thread t; /* first: the thread function sees this */
	pthread_t tid;
	bool started;
	int ret;
	uint64_t cpu_ns_end; /* CPU time at exit (the clock dies with it) */
	volatile int done;
};

struct sl_app {
	struct sl_app_cfg cfg;
	const struct sl_config *conf;
	/* pools: per umem, one per region (or one when shared) */
	uint32_t npools;
	struct sl_mempool **pools;
	uint32_t *pool_of_port;
	struct sl_port **ports;
	struct app_thread *threads;
	volatile int quit;
	int wakefd; /* eventfd in every idle thread's epoll: stop wakes them */
	struct timespec t0;
	struct sigaction old_int, old_term;
	bool handlers;
};

/* The app the signal handler stops (one app per process at a time). */
static struct sl_app *volatile app_current;

static void
app_on_signal(int sig)
{
	struct sl_app *app = app_current;
	int saved = errno;

	(void)sig;
	sl_app_quit(app);
	errno = saved;
}

static int
app_handlers_install(struct sl_app *app)
{
	struct sigaction sa;

	if (app_current != NULL) {
		SL_ERR("another application is running in this process");
		return -EBUSY;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = app_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, &app->old_int) < 0 ||
	    sigaction(SIGTERM, &sa, &app->old_term) < 0)
		return -errno;
	app->handlers = true;
	app_current = app;
	return 0;
}

static void
app_handlers_restore(struct sl_app *app)
{
	if (!app->handlers)
		return;
	sigaction(SIGINT, &app->old_int, NULL);
	sigaction(SIGTERM, &app->old_term, NULL);
	app->handlers = false;
	app_current = NULL;
}

/* ---- pools ---------------------------------------------------------------
 */

static unsigned
umem_npools(const struct sl_config_umem *u)
{
	return u->shared_umem ? 1 : u->nregions;
}

static int
pool_make(struct sl_app *app, const struct sl_config_umem *u, uint32_t r,
	  uint32_t slot)
{
	char name[SL_CONFIG_NAMESIZE + 16];
	struct sl_mbuf_pool_cfg pc;
	uint32_t n = u->shared_umem ? u->bufcnt : u->regions[r];

	if (u->shared_umem || u->nregions == 1)
		snprintf(name, sizeof(name), "%s", u->name);
	else
		snprintf(name, sizeof(name), "%s.%u", u->name, r);
	memset(&pc, 0, sizeof(pc));
	pc.name = name;
	pc.n = n;
	pc.frame_size = u->bufsz;
	pc.cache_size = u->cache > n / 2 ? n / 2 : u->cache;
	if (strcmp(u->mtype, "4KB") == 0)
		pc.flags = SL_MEMPOOL_F_NO_HUGE;
	else if (strcmp(u->mtype, "2MB") == 0)
		pc.flags = SL_MEMPOOL_F_HUGE_ONLY;
	app->pools[slot] = sl_mbuf_pool_create(&pc);
	if (app->pools[slot] == NULL) {
		int err = errno;

		SL_ERR("umem '%s': pool of %u buffers of %u bytes: %s", u->name,
		       n, u->bufsz, sl_strerror(err));
		return -err;
	}
	return 0;
}

static int
pools_create(struct sl_app *app)
{
	const struct sl_config *c = app->conf;
	uint32_t i, r, slot = 0, first[c->numems + 1];
	int err;

	app->npools = 0;
	for (i = 0; i < c->numems; i++) {
		first[i] = app->npools;
		app->npools += umem_npools(&c->umems[i]);
	}
	app->pools = calloc(app->npools ? app->npools : 1, sizeof(void *));
	app->pool_of_port =
		calloc(c->nlports ? c->nlports : 1, sizeof(uint32_t));
	if (app->pools == NULL || app->pool_of_port == NULL)
		return -ENOMEM;
	for (i = 0; i < c->numems; i++)
		for (r = 0; r < umem_npools(&c->umems[i]); r++) {
			err = pool_make(app, &c->umems[i], r, slot++);
			if (err < 0)
				return err;
		}
	for (i = 0; i < c->nlports; i++) {
		const struct sl_config_lport *lp = &c->lports[i];

		app->pool_of_port[i] =
			first[lp->umem] +
			(c->umems[lp->umem].shared_umem ? 0 : lp->region);
	}
	return 0;
}

static void
pools_destroy(struct sl_app *app)
{
	uint32_t i;

	for (i = 0; app->pools != NULL && i < app->npools; i++)
		sl_mempool_destroy(app->pools[i]);
	free(app->pools);
	free(app->pool_of_port);
	app->pools = NULL;
	app->pool_of_port = NULL;
}

/* ---- lports --------------------------------------------------------------
 */

static int
ports_open(struct sl_app *app)
{
	const struct sl_config *c = app->conf;
	char opts[SL_CONFIG_TEXTSIZE * 4];
	struct sl_port_cfg pc;
	uint32_t i;
	int err;

	app->ports = calloc(c->nlports ? c->nlports : 1, sizeof(void *));
	if (app->ports == NULL)
		return -ENOMEM;
	for (i = 0; i < c->nlports; i++) {
		err = sl_config_port_cfg(c, i, &pc, opts, sizeof(opts));
		if (err < 0) {
			SL_ERR("lport '%s': options: %s", c->lports[i].name,
			       sl_strerror(-err));
			return err;
		}
		pc.pool = app->pools[app->pool_of_port[i]];
		app->ports[i] = sl_pktdev_open(&pc);
		if (app->ports[i] == NULL) {
			err = errno;
			SL_ERR("lport '%s' (%s%s%s): open failed: %s", pc.name,
			       pc.backend, pc.ifname ? " on " : "",
			       pc.ifname ? pc.ifname : "", sl_strerror(err));
			return -err;
		}
		err = sl_pktdev_start(app->ports[i]);
		if (err < 0) {
			SL_ERR("lport '%s': start failed: %s", pc.name,
			       sl_strerror(-err));
			return err;
		}
	}
	return 0;
}

static void
ports_close(struct sl_app *app)
{
	uint32_t i;

	for (i = 0; app->ports != NULL && i < app->conf->nlports; i++)
		sl_pktdev_close(app->ports[i]);
	free(app->ports);
	app->ports = NULL;
}

/* ---- threads -------------------------------------------------------------
 */

static sl_app_thread_fn
type_fn(const struct sl_app *app, const char *type)
{
	unsigned i;

	for (i = 0; i < app->cfg.ntypes; i++)
		if (strcmp(app->cfg.types[i].type, type) == 0)
			return app->cfg.types[i].fn;
	return NULL;
}

static int
threads_check(const struct sl_app *app)
{
	const struct sl_config *c = app->conf;
	uint32_t i;
	int err = 0;

	for (i = 0; i < c->nthreads; i++)
		if (type_fn(app, c->threads[i].type) == NULL) {
			SL_ERR("%s:%u:%u: threads.\"%s\": this application has "
			       "no thread type '%s'%s",
			       c->file, c->threads[i].pos.line,
			       c->threads[i].pos.col, c->threads[i].name,
			       c->threads[i].type,
			       app->cfg.ntypes ? " (it runs" : "");
			for (unsigned k = 0; k < app->cfg.ntypes; k++)
				SL_ERR("  thread type '%s'",
				       app->cfg.types[k].type);
			err = -EINVAL;
		}
	if (c->nthreads == 0) {
		SL_ERR("%s: no threads{} configured: nothing would run",
		       c->file);
		err = -EINVAL;
	}
	return err;
}

static int
threads_prepare(struct sl_app *app)
{
	const struct sl_config *c = app->conf;
	uint32_t i, k;

	app->threads = calloc(c->nthreads, sizeof(*app->threads));
	if (app->threads == NULL)
		return -ENOMEM;
	for (i = 0; i < c->nthreads; i++) {
		struct sl_app_thread *t = &app->threads[i].t;
		const struct sl_config_thread *tc = &c->threads[i];

		t->app = app;
		t->cfg = tc;
		t->idx = i;
		t->nports = tc->nlports;
		t->epfd = -1;
		t->quit = &app->quit;
		for (k = 0; k < tc->nlports; k++) {
			t->port_idx[k] = tc->lports[k];
			t->ports[k] = app->ports[tc->lports[k]];
		}
		t->idle_tsc =
			sl_ns_to_tsc((uint64_t)tc->idle_timeout * 1000000);
		t->yield = tc->yield;
	}
	return 0;
}

/* Epoll over the RX fds of the thread's lports and the app's wake-up
 * eventfd, for sl_app_idle(). Lports without an fd (net_ring, net_null)
 * do not wake the thread: it then sleeps up to intr_timeout. */
static int
thread_epoll(struct sl_app_thread *t)
{
	struct epoll_event ev;
	uint32_t k;
	int fd;

	if (t->idle_tsc == 0)
		return 0;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	for (k = 0; k <= t->nports; k++) {
		fd = k < t->nports ? sl_pktdev_rx_fd(t->ports[k])
				   : t->app->wakefd;
		if (fd < 0)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = k;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static int
thread_affinity(const struct sl_app *app, const struct sl_app_thread *t)
{
	const struct sl_config_lcore_group *g =
		&app->conf->lcore_groups[t->cfg->group];
	cpu_set_t set;
	uint32_t k;
	int err;

	CPU_ZERO(&set);
	for (k = 0; k < g->ncpus; k++)
		CPU_SET(g->cpus[k], &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err != 0)
		SL_ERR("thread '%s': pinning to lcore group '%s': %s",
		       t->cfg->name, g->name, sl_strerror(err));
	return -err;
}

static uint64_t
thread_cpu_self(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
thread_main(void *arg)
{
	struct app_thread *at = arg;
	struct sl_app_thread *t = &at->t;
	struct sl_app *app = t->app;
	int err;

	err = thread_affinity(app, t);
	if (err == 0)
		err = thread_epoll(t);
	if (err == 0 && app->cfg.thread_init != NULL)
		err = app->cfg.thread_init(t, app->cfg.arg);
	if (err == 0)
		err = type_fn(app, t->cfg->type)(t);
	if (err < 0) {
		SL_ERR("thread '%s' failed: %s", t->cfg->name,
		       sl_strerror(-err));
		sl_app_quit(app);
	}
	at->ret = err;
	at->cpu_ns_end = thread_cpu_self();
	__atomic_store_n(&at->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void
__sl_app_sleep(struct sl_app_thread *t)
{
	uint32_t ms = t->cfg->intr_timeout ? t->cfg->intr_timeout
					   : APP_INTR_DEFAULT_MS;
	struct epoll_event ev[SL_CONFIG_THREAD_PORTS + 1];

	if (t->epfd < 0 || !sl_app_running(t))
		return;
	t->sleeps++;
	epoll_wait(t->epfd, ev, SL_CONFIG_THREAD_PORTS + 1, (int)ms);
}

/* ---- the app -------------------------------------------------------------
 */

static void
app_free(struct sl_app *app)
{
	uint32_t i;

	if (app->threads != NULL)
		for (i = 0; i < app->conf->nthreads; i++)
			if (app->threads[i].t.epfd >= 0)
				close(app->threads[i].t.epfd);
	free(app->threads);
	ports_close(app);
	pools_destroy(app);
	app_handlers_restore(app);
	if (app->wakefd >= 0)
		close(app->wakefd);
	free(app);
}

struct sl_app *
sl_app_create(const struct sl_app_cfg *cfg)
{
	struct sl_app *app;
	int err;

	if (cfg == NULL || cfg->config == NULL ||
	    (cfg->ntypes > 0 && cfg->types == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	app = calloc(1, sizeof(*app));
	if (app == NULL)
		return NULL;
	app->cfg = *cfg;
	app->conf = cfg->config;
	app->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = app->wakefd < 0 ? -errno : threads_check(app);
	if (err == 0)
		err = app_handlers_install(app);
	if (err == 0)
		err = pools_create(app);
	if (err == 0)
		err = ports_open(app);
	if (err == 0)
		err = threads_prepare(app);
	if (err < 0) {
		app_free(app);
		errno = -err;
		return NULL;
	}
	return app;
}

static double
ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

double
sl_app_elapsed(const struct sl_app *app)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(&app->t0, &now);
}

static bool
threads_all_done(const struct sl_app *app)
{
	uint32_t i;

	for (i = 0; i < app->conf->nthreads; i++)
		if (!__atomic_load_n(&app->threads[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Sleep until the next tick, the end or a stop; @return false to stop. */
static bool
main_wait(struct sl_app *app, double until)
{
	struct timespec step = {0, APP_MAIN_STEP_MS * 1000000L};
	double t;

	for (;;) {
		if (__atomic_load_n(&app->quit, __ATOMIC_RELAXED) ||
		    threads_all_done(app))
			return false;
		t = sl_app_elapsed(app);
		if (app->cfg.duration > 0 && t >= app->cfg.duration)
			return false;
		if (t >= until)
			return true;
		if (until - t < (double)APP_MAIN_STEP_MS / 1000)
			step.tv_nsec = (long)((until - t) * 1e9) + 1;
		nanosleep(&step, NULL);
	}
}

int
sl_app_run(struct sl_app *app)
{
	const struct sl_config *c;
	double next;
	uint32_t i;
	int err = 0;

	if (app == NULL)
		return -EINVAL;
	c = app->conf;
	clock_gettime(CLOCK_MONOTONIC, &app->t0);
	for (i = 0; i < c->nthreads && err == 0; i++) {
		struct app_thread *at = &app->threads[i];

		err = sl_thread_create(&at->tid, c->threads[i].name, -1,
				       thread_main, at);
		if (err < 0)
			SL_ERR("thread '%s': cannot start: %s",
			       c->threads[i].name, sl_strerror(-err));
		else
			at->started = true;
	}
	if (err < 0) {
		sl_app_quit(app);
		/* threads never started count as done */
		for (i = 0; i < c->nthreads; i++)
			if (!app->threads[i].started)
				app->threads[i].done = 1;
	}
	next = app->cfg.interval > 0 ? app->cfg.interval : 1e18;
	while (main_wait(app, next)) {
		if (app->cfg.tick != NULL)
			app->cfg.tick(app, app->cfg.arg);
		next += app->cfg.interval;
	}
	sl_app_quit(app);
	for (i = 0; i < c->nthreads; i++) {
		if (!app->threads[i].started)
			continue;
		sl_thread_join(app->threads[i].tid, NULL);
		app->threads[i].started = false;
		if (err == 0 && app->threads[i].ret < 0)
			err = app->threads[i].ret;
	}
	return err;
}

void
sl_app_quit(struct sl_app *app)
{
	uint64_t one = 1;

	if (app == NULL)
		return;
	__atomic_store_n(&app->quit, 1, __ATOMIC_RELAXED);
	/* wake sleeping threads; write() is async-signal-safe */
	if (write(app->wakefd, &one, sizeof(one)) < 0)
		return;
}

void
sl_app_destroy(struct sl_app *app)
{
	if (app == NULL)
		return;
	app_free(app);
}

const struct sl_config *
sl_app_config(const struct sl_app *app)
{
	return app != NULL ? app->conf : NULL;
}

struct sl_port *
sl_app_port(const struct sl_app *app, uint32_t i)
{
	if (app == NULL || i >= app->conf->nlports)
		return NULL;
	return app->ports[i];
}

struct sl_mempool *
sl_app_pool(const struct sl_app *app, uint32_t i)
{
	if (app == NULL || i >= app->conf->nlports)
		return NULL;
	return app->pools[app->pool_of_port[i]];
}

uint32_t
sl_app_nthreads(const struct sl_app *app)
{
	return app != NULL ? app->conf->nthreads : 0;
}

struct sl_app_thread *
sl_app_thread_get(const struct sl_app *app, uint32_t i)
{
	if (app == NULL || i >= app->conf->nthreads)
		return NULL;
	return &app->threads[i].t;
}

int
sl_app_thread_cpu_ns(const struct sl_app *app, uint32_t i, uint64_t *ns)
{
	const struct app_thread *at;
	struct timespec ts;
	clockid_t cid;
	int err;

	if (app == NULL || ns == NULL || i >= app->conf->nthreads)
		return -EINVAL;
	at = &app->threads[i];
	if (__atomic_load_n(&at->done, __ATOMIC_ACQUIRE) || !at->started) {
		*ns = at->cpu_ns_end;
		return 0;
	}
	err = pthread_getcpuclockid(at->tid, &cid);
	if (err != 0)
		return -err;
	if (clock_gettime(cid, &ts) < 0)
		return -errno;
	*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

void *
sl_app_arg(const struct sl_app *app)
{
	return app != NULL ? app->cfg.arg : NULL;
}
