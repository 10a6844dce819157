/**
 * @file CPU pinning and the thread registry. Every data-path thread is
 * registered and gets a small per-thread id (0..SL_MAX_THREADS-1) that
 * indexes per-thread state such as mempool caches.
 */
#ifndef SL_THREAD_H
#define SL_THREAD_H

#include <pthread.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most threads registered at once. */
#define SL_MAX_THREADS 128
/** Thread id of a thread that is not registered. */
#define SL_THREAD_ID_NONE UINT32_MAX

/**
 * @internal Per-thread id, SL_THREAD_ID_NONE until registered. Initial-exec
 * TLS so that reading it on the data path is one load, in the library and
 * in applications alike.
 */
SL_API extern __thread uint32_t __sl_thread_id
	__attribute__((tls_model("initial-exec")));

/** @return the calling thread's id, or SL_THREAD_ID_NONE. */
static inline uint32_t
sl_thread_id(void)
{
	return __sl_thread_id;
}

/**
 * Register the calling thread and give it an id.
 * @param name Name for logs and for the kernel (first 15 characters).
 * @return the id (>= 0), -EEXIST if already registered, -ENOSPC if
 *   SL_MAX_THREADS are registered.
 */
SL_API int sl_thread_register(const char *name);

/** Release the calling thread's id; a no-op for an unregistered thread. */
SL_API void sl_thread_unregister(void);

/** @return the name a thread id was registered with, or NULL. */
SL_API const char *sl_thread_name(uint32_t id);

/** @return the number of threads registered now. */
SL_API unsigned sl_thread_count(void);

/** Thread body for sl_thread_create(). */
typedef void *(*sl_thread_fn)(void *arg);

/**
 * Start a registered thread, optionally pinned to one CPU. The thread is
 * registered before fn runs and unregistered after it returns.
 * @param t Filled with the thread handle.
 * @param name Thread name.
 * @param cpu CPU to pin to, or -1 for no pinning.
 * @return 0, -EINVAL (bad CPU), -ENOSPC, or the -errno of pthread_create.
 */
SL_API int sl_thread_create(pthread_t *t, const char *name, int cpu,
			    sl_thread_fn fn, void *arg);

/** Wait for a thread started with sl_thread_create(). @return 0 or -errno. */
SL_API int sl_thread_join(pthread_t t, void **ret);

/**
 * Pin the calling thread to one CPU.
 * @return 0, -EINVAL for a CPU outside the process's allowed set, or -errno.
 */
SL_API int sl_cpu_pin(int cpu);

/** @return the CPU the calling thread runs on now, or -errno. */
SL_API int sl_cpu_current(void);

/** @return the number of CPUs this process may run on (>= 1). */
SL_API int sl_cpu_count(void);

/**
 * The n-th CPU (0-based) of the process's allowed set.
 * @return the CPU number, or -ENOENT when the set has fewer CPUs.
 */
SL_API int sl_cpu_nth(int n);

#ifdef __cplusplus
}
#endif
#endif /* SL_THREAD_H */
