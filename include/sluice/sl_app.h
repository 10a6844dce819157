/**
 * @file The application framework: from a loaded configuration
 * (sl_config.h) it creates the umems' pools, opens and starts the lports,
 * runs one pinned thread per configured thread on its lcore group, and
 * stops everything cleanly on SIGINT/SIGTERM, a duration or
 * sl_app_quit(): threads joined, lports closed (XDP programs detached),
 * pools destroyed.
 *
 * A thread function loops while sl_app_running() and calls sl_app_idle()
 * after every poll round with the number of packets it saw: after the
 * thread's idle_timeout without packets it sleeps in epoll on its lports'
 * RX descriptors (AF_XDP need_wakeup, memif interrupts, ...) for at most
 * intr_timeout, so an app without traffic does not burn a core.
 */
#ifndef SL_APP_H
#define SL_APP_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include "sl_common.h"
#include "sl_config.h"
#include "sl_mempool.h"
#include "sl_pktdev.h"
#include "sl_time.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sl_app;

/** A running thread as its function sees it. */
struct sl_app_thread {
	struct sl_app *app;
	const struct sl_config_thread *cfg; /**< its configuration */
	uint32_t idx;			    /**< index in cfg->threads */
	uint32_t nports;
	struct sl_port *ports[SL_CONFIG_THREAD_PORTS]; /**< its lports */
	uint32_t port_idx[SL_CONFIG_THREAD_PORTS];     /**< lport indices */
	void *priv; /**< for the application */
	/* idle mode (sl_app_idle) */
	uint64_t idle_tsc;   /**< idle_timeout in TSC ticks; 0: never sleep */
	uint64_t idle_since; /**< TSC of the first empty round, 0 if busy */
	uint64_t sleeps;     /**< times the thread slept */
	int epfd;	     /**< epoll over the lports' RX fds, or -1 */
	bool yield;	     /**< sched_yield() after every round */
	volatile int *quit;  /**< @internal */
};

/** A thread body: returns 0, or -errno to make sl_app_run() fail. */
typedef int (*sl_app_thread_fn)(struct sl_app_thread *t);

/** The body of the threads of one type ("fwd", "txgen", ...). */
struct sl_app_thread_type {
	const char *type;
	sl_app_thread_fn fn;
};

/** What sl_app_create() needs. */
struct sl_app_cfg {
	const struct sl_config *config;
	/** The thread types this app runs; a configured thread of another
	 *  type is an error naming it. */
	const struct sl_app_thread_type *types;
	unsigned ntypes;
	/** Called on the main thread every interval seconds while the
	 *  threads run (live statistics); may be NULL. */
	void (*tick)(struct sl_app *app, void *arg);
	double interval;
	/** Stop after this many seconds; 0: until a signal or sl_app_quit(). */
	double duration;
	/** Passed to tick; also sl_app_arg(). */
	void *arg;
	/** Called on each thread before the threads start (per-thread
	 *  setup, may set t->priv); may be NULL. Returns 0 or -errno. */
	int (*thread_init)(struct sl_app_thread *t, void *arg);
};

/**
 * Create the pools and open and start every configured lport. Installs
 * SIGINT/SIGTERM handlers that make sl_app_run() stop.
 * @return the app, or NULL with errno (the log names the lport, umem or
 *   thread that failed and why); nothing is left open on failure.
 */
SL_API struct sl_app *sl_app_create(const struct sl_app_cfg *cfg);

/**
 * Start every thread on its lcore group and wait until a signal, the
 * duration or sl_app_quit(); then stop and join the threads. Calls tick
 * every interval.
 * @return 0, or the first error a thread returned, or -errno of a thread
 *   that could not start.
 */
SL_API int sl_app_run(struct sl_app *app);

/** Ask the threads to stop (async-signal-safe). */
SL_API void sl_app_quit(struct sl_app *app);

/** Stop and close every lport and destroy the pools; NULL is a no-op. */
SL_API void sl_app_destroy(struct sl_app *app);

/** @return the configuration of the app. */
SL_API const struct sl_config *sl_app_config(const struct sl_app *app);

/** @return lport i (index in the configuration), or NULL. */
SL_API struct sl_port *sl_app_port(const struct sl_app *app, uint32_t i);

/** @return the pool that lport i receives into, or NULL. */
SL_API struct sl_mempool *sl_app_pool(const struct sl_app *app, uint32_t i);

/** @return the number of threads. */
SL_API uint32_t sl_app_nthreads(const struct sl_app *app);

/** @return thread i (index in the configuration), or NULL. */
SL_API struct sl_app_thread *sl_app_thread_get(const struct sl_app *app,
					       uint32_t i);

/** CPU time thread i has used, in nanoseconds. @return 0 or -errno. */
SL_API int sl_app_thread_cpu_ns(const struct sl_app *app, uint32_t i,
				uint64_t *ns);

/** @return the arg given in sl_app_cfg. */
SL_API void *sl_app_arg(const struct sl_app *app);

/** @return seconds since sl_app_run() started the threads. */
SL_API double sl_app_elapsed(const struct sl_app *app);

/** @return false once the app is stopping: the thread must return. */
static inline bool
sl_app_running(const struct sl_app_thread *t)
{
	return !__atomic_load_n(t->quit, __ATOMIC_RELAXED);
}

/** @internal Sleep in epoll until an RX fd is readable or intr_timeout. */
SL_API void __sl_app_sleep(struct sl_app_thread *t);

/**
 * Idle handling, called after every poll round: with the thread's yield
 * setting, the CPU goes to other runnable threads; after idle_timeout
 * without packets, the thread sleeps.
 * @param n Packets the round received (or sent, for a source).
 */
static inline void
sl_app_idle(struct sl_app_thread *t, unsigned n)
{
	uint64_t now;

	if (unlikely(t->yield))
		sched_yield();
	if (likely(n != 0)) {
		t->idle_since = 0;
		return;
	}
	if (t->idle_tsc == 0)
		return;
	now = sl_tsc();
	if (t->idle_since == 0) {
		t->idle_since = now;
		return;
	}
	if (now - t->idle_since >= t->idle_tsc)
		__sl_app_sleep(t);
}

#ifdef __cplusplus
}
#endif
#endif /* SL_APP_H */
