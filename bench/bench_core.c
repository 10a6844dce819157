/*
 * bench-core: sluice's ring and mempool side by side with DPDK's rte_ring
 * and rte_mempool, in one process, on the same pinned CPU.
 *
 * Fairness rules kept here (see docs/performance.md):
 * - one loop body per operation, instantiated for both libraries by a macro,
 *   so sluice and DPDK run exactly the same harness code;
 * - the burst size reaches the loop through an optimisation barrier, so
 *   neither side is specialised for a constant n;
 * - both sides call their inline fast paths (sl_ring_*_burst,
 *   rte_ring_*_burst, sl_mempool_*_bulk, rte_mempool_*_bulk) through the
 *   generic entry points that dispatch on the flags given at creation;
 * - same ring size (4096 pointers), same flags, same pool geometry
 *   (8192 x 2048 B, cache 256), results of every call counted and checked;
 * - burst arrays never straddle a page, and the mempool loop moves its
 *   array over every burst-sized slot of a page (see below), so ASLR does
 *   not decide a run's result;
 * - repetitions alternate sluice/DPDK (ABBA order), each one after a short
 *   warm-up of its own; the median is reported.
 *
 * Exit status: 0, 1 when a row has no valid value, 2 on bad usage,
 * 77 when DPDK's EAL cannot start here.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "sluice/sl_mempool.h"
#include "sluice/sl_ring.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

#include "bench_common.h"
#include "bench_eal.h"

#define RING_SIZE 4096u
#define POOL_N 8192u
#define POOL_OBJ_SIZE 2048u
#define POOL_CACHE 256u
#define POOL_BULK 32u
#define MAX_BURST 32u
#define PC_BURST 32u	/* burst of the 2-thread row */
#define PC_TIMEOUT_S 20 /* a 2-thread repetition never takes longer */

/* Objects moved per repetition and side (normal, --quick). */
#define RING_OBJS (UINT64_C(1) << 23)
#define RING_OBJS_QUICK (UINT64_C(1) << 15)
#define POOL_OBJS (UINT64_C(1) << 23)
#define POOL_OBJS_QUICK (UINT64_C(1) << 15)
#define PC_OBJS (UINT64_C(1) << 24)
#define PC_OBJS_QUICK (UINT64_C(1) << 17)

/*
 * Burst arrays (at most 32 pointers, 256 bytes) are aligned so that they
 * never straddle a 4 KB page: a copy across a page boundary costs more
 * (measured once: sluice's mempool get/put, then copying with libc memcpy,
 * ran 2.2x slower with a straddling array, DPDK's did not), and where the
 * stack lands is up to ASLR, so unaligned arrays made runs differ at random.
 */
#define BURST_ALIGNED __attribute__((aligned(MAX_BURST * sizeof(void *))))
SL_STATIC_ASSERT(POOL_BULK <= MAX_BURST && PC_BURST <= MAX_BURST,
		 "a burst array is larger than its alignment");

static const char *const prog = "bench-core";

/* Single-thread ring loop: enqueue_burst(n) then dequeue_burst(n).
 * @return cycles per object (one enqueue plus one dequeue), NAN when a
 * call moved fewer than n objects. */
#define DEFINE_RING_LOOP(fn, ring_t, enq, deq)                                 \
	static __attribute__((noinline)) double fn(ring_t *r, void *const *in, \
						   void **out, unsigned n,     \
						   uint64_t iters)             \
	{                                                                      \
		uint64_t i, moved = 0, t0, t1;                                 \
		uintptr_t acc = 0;                                             \
                                                                               \
		BENCH_OPAQUE(n);                                               \
		t0 = sl_tsc();                                                 \
		for (i = 0; i < iters; i++) {                                  \
			moved += enq(r, in, n, NULL);                          \
			moved += deq(r, out, n, NULL);                         \
			acc ^= (uintptr_t)out[0];                              \
		}                                                              \
		t1 = sl_tsc();                                                 \
		BENCH_USE(acc);                                                \
		if (moved != 2 * iters * n)                                    \
			return NAN;                                            \
		return (double)(t1 - t0) / (double)(iters * n);                \
	}

DEFINE_RING_LOOP(loop_sl_ring, struct sl_ring, sl_ring_enqueue_burst,
		 sl_ring_dequeue_burst)
DEFINE_RING_LOOP(loop_rte_ring, struct rte_ring, rte_ring_enqueue_burst,
		 rte_ring_dequeue_burst)

/*
 * Cached mempool loop: get_bulk(n) then put_bulk(n) of the same objects.
 * The caller's array moves through the 16 burst-sized slots of one 4 KB
 * page, one slot per iteration: where an application's array sits relative
 * to the pool's cache changes the cost (4K aliasing between the array and
 * the top of the cache: sluice's get/put measured 0.53 -> 0.65 cycles/obj
 * with the array at one page offset), and a fixed array would let ASLR pick
 * a lucky or unlucky offset per run. Rotating averages over every
 * placement, the same for both sides.
 * @return cycles per object (one get plus one put), NAN on a failed get.
 */
#define POOL_SLOTS (4096 / (MAX_BURST * sizeof(void *)))
#define DEFINE_POOL_LOOP(fn, pool_t, get, put)                                 \
	static __attribute__((noinline)) double fn(pool_t *mp, void **page,    \
						   unsigned n, uint64_t iters) \
	{                                                                      \
		uint64_t i, fails = 0, t0, t1;                                 \
		uintptr_t acc = 0;                                             \
		void **objs;                                                   \
                                                                               \
		BENCH_OPAQUE(n);                                               \
		t0 = sl_tsc();                                                 \
		for (i = 0; i < iters; i++) {                                  \
			objs = page + (i % POOL_SLOTS) * MAX_BURST;            \
			if (get(mp, objs, n) != 0) {                           \
				fails++;                                       \
				continue;                                      \
			}                                                      \
			acc ^= (uintptr_t)objs[0];                             \
			put(mp, objs, n);                                      \
		}                                                              \
		t1 = sl_tsc();                                                 \
		BENCH_USE(acc);                                                \
		if (fails != 0)                                                \
			return NAN;                                            \
		return (double)(t1 - t0) / (double)(iters * n);                \
	}

DEFINE_POOL_LOOP(loop_sl_mempool, struct sl_mempool, sl_mempool_get_bulk,
		 sl_mempool_put_bulk)
DEFINE_POOL_LOOP(loop_rte_mempool, struct rte_mempool, rte_mempool_get_bulk,
		 rte_mempool_put_bulk)

/*
 * 2-thread SP/SC: a producer thread on another CPU enqueues the values
 * 1..total in bursts of PC_BURST; the benchmark thread dequeues bursts of
 * PC_BURST and checks that they arrive in order. Time runs on the consumer
 * from the start signal to the last object.
 */
struct pc_ctx {
	void *ring;
	uint64_t total;
	atomic_int go; /* 1: start, 2: give up */
	atomic_int ready;
};

#define DEFINE_PC(prod_fn, cons_fn, ring_t, enq, deq)                          \
	static void *prod_fn(void *arg)                                        \
	{                                                                      \
		struct pc_ctx *c = arg;                                        \
		ring_t *r = c->ring;                                           \
		void *objs[PC_BURST] BURST_ALIGNED;                            \
		uint64_t sent = 0, total = c->total;                           \
		unsigned n, k, j;                                              \
                                                                               \
		atomic_store(&c->ready, 1);                                    \
		while (atomic_load_explicit(&c->go, memory_order_acquire) ==   \
		       0)                                                      \
			sl_pause();                                            \
		while (sent < total) {                                         \
			n = (unsigned)SL_MIN((uint64_t)PC_BURST,               \
					     total - sent);                    \
			for (j = 0; j < n; j++)                                \
				objs[j] = (void *)(uintptr_t)(sent + j + 1);   \
			k = 0;                                                 \
			while (k < n) {                                        \
				unsigned m = enq(r, objs + k, n - k, NULL);    \
				if (m == 0) {                                  \
					if (atomic_load_explicit(              \
						    &c->go,                    \
						    memory_order_relaxed) ==   \
					    2)                                 \
						return NULL;                   \
					sl_pause();                            \
				}                                              \
				k += m;                                        \
			}                                                      \
			sent += n;                                             \
		}                                                              \
		return NULL;                                                   \
	}                                                                      \
	static __attribute__((noinline)) double cons_fn(struct pc_ctx *c)      \
	{                                                                      \
		ring_t *r = c->ring;                                           \
		void *objs[PC_BURST] BURST_ALIGNED;                            \
		uint64_t expect = 1, total = c->total, t0, t1, bad = 0;        \
		uint64_t limit = sl_tsc_hz() * PC_TIMEOUT_S, empty = 0;        \
		unsigned n = PC_BURST, k, j;                                   \
                                                                               \
		BENCH_OPAQUE(n);                                               \
		while (atomic_load(&c->ready) == 0)                            \
			sl_pause();                                            \
		t0 = sl_tsc();                                                 \
		atomic_store_explicit(&c->go, 1, memory_order_release);        \
		while (expect <= total) {                                      \
			k = deq(r, objs, n, NULL);                             \
			if (k == 0) {                                          \
				if ((++empty & 0xffff) == 0 &&                 \
				    sl_tsc() - t0 > limit) {                   \
					atomic_store(&c->go, 2);               \
					return NAN;                            \
				}                                              \
				sl_pause();                                    \
				continue;                                      \
			}                                                      \
			for (j = 0; j < k; j++)                                \
				bad += (uintptr_t)objs[j] != expect + j;       \
			expect += k;                                           \
		}                                                              \
		t1 = sl_tsc();                                                 \
		if (bad != 0)                                                  \
			return NAN;                                            \
		return (double)(t1 - t0) / (double)total;                      \
	}

DEFINE_PC(pc_prod_sl, pc_cons_sl, struct sl_ring, sl_ring_enqueue_burst,
	  sl_ring_dequeue_burst)
DEFINE_PC(pc_prod_rte, pc_cons_rte, struct rte_ring, rte_ring_enqueue_burst,
	  rte_ring_dequeue_burst)

/* Everything one run needs. */
struct bench {
	struct bench_opts opts;
	struct bench_report report;
	int cpu, prod_cpu; /* prod_cpu < 0: one CPU only */
	void *in[MAX_BURST] BURST_ALIGNED;
	void *out[MAX_BURST] BURST_ALIGNED;
	uint64_t ring_objs, pool_objs, pc_objs;
	unsigned failures;
};

static void
fail(struct bench *b, const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	b->failures++;
}

static void
fill_nan(double *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		v[i] = NAN;
}

static void
row_ring(struct bench *b, bool spsc, unsigned burst)
{
	double s[BENCH_MAX_REPS], p[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i;
	uint64_t iters = b->ring_objs / burst;
	struct sl_ring *sr;
	struct rte_ring *rr;
	char name[BENCH_CASE_LEN];

	snprintf(name, sizeof(name), "ring %s burst %u",
		 spsc ? "SP/SC" : "MP/MC", burst);
	fill_nan(s, reps);
	fill_nan(p, reps);
	sr = sl_ring_create(spsc ? "bench-spsc" : "bench-mpmc", RING_SIZE,
			    spsc ? SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ : 0);
	if (sr == NULL)
		fail(b, "sl_ring_create", strerror(errno));
	rr = rte_ring_create(spsc ? "bench-spsc" : "bench-mpmc", RING_SIZE,
			     SOCKET_ID_ANY,
			     spsc ? RING_F_SP_ENQ | RING_F_SC_DEQ : 0);
	if (rr == NULL)
		fail(b, "rte_ring_create", rte_strerror(rte_errno));

	for (i = 0; i < reps; i++) {
		/* ABBA: even repetitions run sluice first, odd ones DPDK */
		bool sl_first = i % 2 == 0;
		unsigned k;

		for (k = 0; k < 2; k++) {
			if ((k == 0) == sl_first) {
				if (sr == NULL)
					continue;
				(void)loop_sl_ring(sr, b->in, b->out, burst,
						   iters / 8 + 1);
				s[i] = loop_sl_ring(sr, b->in, b->out, burst,
						    iters);
			} else {
				if (rr == NULL)
					continue;
				(void)loop_rte_ring(rr, b->in, b->out, burst,
						    iters / 8 + 1);
				p[i] = loop_rte_ring(rr, b->in, b->out, burst,
						     iters);
			}
		}
	}
	if (sr != NULL)
		sl_ring_free(sr);
	if (rr != NULL)
		rte_ring_free(rr);
	if (bench_report_add(&b->report, name, "cycles/obj",
			     BENCH_LOWER_IS_BETTER, "rte_ring", s, p, reps) < 0)
		fail(b, name, "out of memory");
}

static double
pc_run(struct bench *b, void *ring, bool is_sl)
{
	struct pc_ctx c = {.ring = ring, .total = b->pc_objs};
	pthread_t t;
	double v;
	int err;

	atomic_init(&c.go, 0);
	atomic_init(&c.ready, 0);
	err = sl_thread_create(&t, "bench-prod", b->prod_cpu,
			       is_sl ? pc_prod_sl : pc_prod_rte, &c);
	if (err < 0) {
		fail(b, "producer thread", sl_strerror(err));
		return NAN;
	}
	v = is_sl ? pc_cons_sl(&c) : pc_cons_rte(&c);
	(void)sl_thread_join(t, NULL);
	if (isnan(v))
		fprintf(stderr,
			"%s: 2-thread %s repetition failed (timeout "
			"or objects out of order)\n",
			prog, is_sl ? "sluice" : "DPDK");
	return v;
}

static void
row_ring_2thread(struct bench *b)
{
	double s[BENCH_MAX_REPS], p[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i, k;
	struct sl_ring *sr;
	struct rte_ring *rr;
	char name[BENCH_CASE_LEN];
	void *drain[MAX_BURST];

	snprintf(name, sizeof(name), "ring SP/SC 2-thread burst %u", PC_BURST);
	fill_nan(s, reps);
	fill_nan(p, reps);
	sr = sl_ring_create("bench-pc", RING_SIZE,
			    SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	if (sr == NULL)
		fail(b, "sl_ring_create", strerror(errno));
	rr = rte_ring_create("bench-pc", RING_SIZE, SOCKET_ID_ANY,
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rr == NULL)
		fail(b, "rte_ring_create", rte_strerror(rte_errno));

	for (i = 0; i < reps; i++) {
		bool sl_first = i % 2 == 0;

		for (k = 0; k < 2; k++) {
			if ((k == 0) == sl_first) {
				if (sr == NULL)
					continue;
				s[i] = pc_run(b, sr, true);
				/* after a timeout, leave the ring empty */
				while (sl_ring_dequeue_burst(
					       sr, drain, MAX_BURST, NULL) != 0)
					;
			} else {
				if (rr == NULL)
					continue;
				p[i] = pc_run(b, rr, false);
				while (rte_ring_dequeue_burst(
					       rr, drain, MAX_BURST, NULL) != 0)
					;
			}
		}
	}
	if (sr != NULL)
		sl_ring_free(sr);
	if (rr != NULL)
		rte_ring_free(rr);
	if (bench_report_add(&b->report, name, "cycles/obj",
			     BENCH_LOWER_IS_BETTER, "rte_ring", s, p, reps) < 0)
		fail(b, name, "out of memory");
}

static void
row_mempool(struct bench *b)
{
	const struct sl_mempool_cfg cfg = {
		.name = "bench-pool",
		.n = POOL_N,
		.obj_size = POOL_OBJ_SIZE,
		.cache_size = POOL_CACHE,
	};
	double s[BENCH_MAX_REPS], p[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i, k;
	uint64_t iters = b->pool_objs / POOL_BULK;
	static void *objs[POOL_SLOTS * MAX_BURST]
		__attribute__((aligned(4096)));
	struct sl_mempool *sp;
	struct rte_mempool *rp;
	char name[BENCH_CASE_LEN];

	snprintf(name, sizeof(name), "mempool get/put %u, cache %u", POOL_BULK,
		 POOL_CACHE);
	fill_nan(s, reps);
	fill_nan(p, reps);
	sp = sl_mempool_create(&cfg);
	if (sp == NULL)
		fail(b, "sl_mempool_create", strerror(errno));
	rp = rte_mempool_create("bench-pool", POOL_N, POOL_OBJ_SIZE, POOL_CACHE,
				0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (rp == NULL)
		fail(b, "rte_mempool_create", rte_strerror(rte_errno));

	for (i = 0; i < reps; i++) {
		bool sl_first = i % 2 == 0;

		for (k = 0; k < 2; k++) {
			if ((k == 0) == sl_first) {
				if (sp == NULL)
					continue;
				(void)loop_sl_mempool(sp, objs, POOL_BULK,
						      iters / 8 + 1);
				s[i] = loop_sl_mempool(sp, objs, POOL_BULK,
						       iters);
			} else {
				if (rp == NULL)
					continue;
				(void)loop_rte_mempool(rp, objs, POOL_BULK,
						       iters / 8 + 1);
				p[i] = loop_rte_mempool(rp, objs, POOL_BULK,
							iters);
			}
		}
	}
	if (sp != NULL)
		sl_mempool_destroy(sp);
	if (rp != NULL)
		rte_mempool_free(rp);
	if (bench_report_add(&b->report, name, "cycles/obj",
			     BENCH_LOWER_IS_BETTER, "rte_mempool", s, p,
			     reps) < 0)
		fail(b, name, "out of memory");
}

int
main(int argc, char **argv)
{
	static struct bench b;
	char lcores[32], buf[128];
	struct bench_eal eal;
	unsigned i;
	int err;

	err = bench_parse_args(argc, argv, "bench/results/core.json", &b.opts);
	if (err != 0)
		return err > 0 ? 0 : 2;
	b.ring_objs = b.opts.quick ? RING_OBJS_QUICK : RING_OBJS;
	b.pool_objs = b.opts.quick ? POOL_OBJS_QUICK : POOL_OBJS;
	b.pc_objs = b.opts.quick ? PC_OBJS_QUICK : PC_OBJS;
	for (i = 0; i < MAX_BURST; i++)
		b.in[i] = (void *)(uintptr_t)(0x1000 + 64 * i);

	/* choose CPUs before EAL narrows this thread's affinity */
	b.cpu = sl_cpu_nth(1);
	b.prod_cpu = sl_cpu_nth(0);
	if (b.cpu < 0) {
		b.cpu = b.prod_cpu >= 0 ? b.prod_cpu : 0;
		b.prod_cpu = -1;
	}

	if (b.prod_cpu >= 0)
		snprintf(lcores, sizeof(lcores), "%d,%d", b.prod_cpu, b.cpu);
	else
		snprintf(lcores, sizeof(lcores), "%d", b.cpu);
	if (bench_eal_start(&eal, prog, lcores, b.cpu, 256) < 0)
		return 77;
	err = sl_cpu_pin(b.cpu);
	if (err < 0)
		fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", prog, b.cpu,
			sl_strerror(err));
	err = sl_thread_register("bench");
	if (err < 0)
		fprintf(stderr, "%s: sl_thread_register: %s\n", prog,
			sl_strerror(err));

	bench_report_init(&b.report, "core");
	bench_report_note_num(&b.report, "reps", b.opts.reps);
	bench_report_note_str(&b.report, "quick", b.opts.quick ? "yes" : "no");
	bench_report_note_num(&b.report, "cpu", b.cpu);
	bench_report_note_num(&b.report, "producer_cpu", b.prod_cpu);
	bench_report_note_str(&b.report, "peer", rte_version());
	bench_report_note_num(&b.report, "ring_size", RING_SIZE);
	bench_report_note_num(&b.report, "ring_objs_per_rep",
			      (double)b.ring_objs);
	bench_report_note_str(&b.report, "pool",
			      "8192 objects of 2048 B, cache 256, bulk 32, "
			      "caller array rotated over a 4 KB page");
	bench_report_note_num(&b.report, "pool_objs_per_rep",
			      (double)b.pool_objs);
	snprintf(buf, sizeof(buf), "%" PRIu64 " objects in bursts of %u",
		 b.pc_objs, PC_BURST);
	bench_report_note_str(&b.report, "two_thread", buf);

	printf("%s: %s, CPU %d, %u repetitions%s, TSC %.3f GHz\n", prog,
	       rte_version(), b.cpu, b.opts.reps,
	       b.opts.quick ? " (quick)" : "", (double)sl_tsc_hz() / 1e9);
	if (b.prod_cpu >= 0)
		printf("%s: 2-thread producer on CPU %d\n", prog, b.prod_cpu);
	fflush(stdout);

	row_ring(&b, true, 1);
	row_ring(&b, true, 8);
	row_ring(&b, true, 32);
	row_ring(&b, false, 1);
	row_ring(&b, false, 8);
	row_ring(&b, false, 32);
	if (b.prod_cpu >= 0)
		row_ring_2thread(&b);
	else
		printf("%s: one CPU only: no 2-thread row\n", prog);
	row_mempool(&b);

	sl_thread_unregister();
	bench_eal_stop(&eal, prog);

	bench_report_print(&b.report, stdout);
	err = bench_report_write_json(&b.report, b.opts.out);
	if (err == 0)
		printf("%s: results in %s\n", prog, b.opts.out);
	if (bench_report_check(&b.report) != 0 || b.failures != 0 || err < 0) {
		bench_report_fini(&b.report);
		return 1;
	}
	bench_report_fini(&b.report);
	return 0;
}
