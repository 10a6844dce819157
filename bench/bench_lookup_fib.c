/*
 * bench-lookup-fib: sluice's FIB side by side with DPDK's rte_fib
 * (DIR-24-8) and rte_fib6 (trie), in one process, on the same pinned CPU.
 *
 * Fairness rules kept here (see docs/performance.md):
 * - the same routes (a table-like mix of prefix lengths, generated from a
 *   fixed seed) go into both FIBs, with the same default next hop, the
 *   same entry size (8 bytes: sl_fib default vs RTE_FIB_DIR24_8_8B /
 *   RTE_FIB6_TRIE_8B; 4 bytes: SL_FIB_F_COMPACT vs the _4B variants) and
 *   the same number of groups;
 * - the same addresses, in the same order: most inside random routes (as
 *   traffic goes to routed destinations), the rest random; every answer of
 *   both FIBs is compared before timing;
 * - one loop body per operation, instantiated for both libraries by a
 *   macro; the burst size reaches it through an optimisation barrier; both
 *   sides go through their public bulk lookup call;
 * - both sides' tables on 2 MB pages: sluice asks for transparent huge
 *   pages itself; DPDK runs with --no-huge here (no hugepages need be
 *   reserved), where its own memory is a memfd on 4 KB pages, so the
 *   benchmark gives DPDK an external malloc heap of anonymous memory
 *   advised MADV_HUGEPAGE and creates DPDK's FIBs on it; the THP coverage
 *   of each side is measured and written in the results;
 * - repetitions alternate sluice/DPDK (ABBA order), each after a warm-up
 *   pass of its own; the median is reported.
 *
 * Exit status: 0, 1 when a row has no valid value (or the FIBs disagree),
 * 2 on bad usage, 77 when DPDK's EAL cannot start here.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_version.h>

#include "sluice/sl_fib.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

#include "bench_common.h"
#include "bench_eal.h"

#define MAX_BURST 64u
#define DFLT_NH 0x7fffff00u /* fits both entry sizes */

/* Routes and addresses (normal, --quick). */
#define ROUTES4 500000u
#define ROUTES4_QUICK 50000u
#define ROUTES6 100000u
#define ROUTES6_QUICK 20000u
#define ADDRS (1u << 20)
#define ADDRS_QUICK (1u << 16)
#define PASSES 4u /* passes over the addresses per repetition */
#define TBL8_4 (1u << 15)
#define TBL8_6 (1u << 17)
/* DPDK's external heap: room for the largest pair of tables and its RIB */
#define HEAP_LEN (768ul << 20)

static const char *const prog = "bench-lookup-fib";

/* The generator of routes and addresses: splitmix64 from a fixed seed. */
static uint64_t rng = UINT64_C(0x5eed0f1b);

static uint64_t
rnd(void)
{
	uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Pick an index by weight (weights summing to total). */
static unsigned
pick(const unsigned *w, unsigned n, unsigned total)
{
	unsigned x = rnd_below(total), i;

	for (i = 0; i < n - 1; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

struct route4 {
	uint32_t ip;
	uint8_t depth;
	uint32_t nh;
};

struct route6 {
	uint8_t ip[16];
	uint8_t depth;
	uint32_t nh;
};

/* Everything one run needs. */
struct bench {
	struct bench_opts opts;
	struct bench_report report;
	int cpu;
	unsigned failures;
	uint32_t nroutes4, nroutes6, naddrs;
	struct route4 *r4;
	struct route6 *r6;
	uint32_t *a4;
	uint8_t (*a6)[16];
	uint64_t *nh_rte;
	uint32_t *nh_sl;
	char thp[512];
	int socket;		/* DPDK's heap for the FIBs */
	struct bench_heap heap; /* its memory */
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

/* ---- routes and addresses ---------------------------------------------- */

/*
 * IPv4: lengths in proportions like a full BGP table's (about 56% /24,
 * 11% /22, 10% /23, then /20, /21, /19, ...), plus a few percent longer
 * than /24 as an internal FIB carries (links, loopbacks, host routes), and
 * a default route. Prefixes anywhere in 1.0.0.0 - 223.255.255.255.
 */
static void
gen_routes4(struct bench *b)
{
	/* weights, per 10000, of lengths 8..32 */
	static const unsigned w[25] = {
		1,   1,	  3,   8,   20,	 40,   70,   110,  160,
		120, 190, 320, 480, 560, 1100, 1000, 5440, /* /8../24 */
		40,  40,  30,  30,  30,	 30,   10,   50,   /* /25../32 */
	};
	uint32_t i, ip;
	unsigned d;

	b->r4[0].ip = 0;
	b->r4[0].depth = 0;
	b->r4[0].nh = 1;
	for (i = 1; i < b->nroutes4; i++) {
		d = 8 + pick(w, 25, 10000);
		ip = (1u << 24) + rnd_below(223u << 24);
		b->r4[i].ip = d == 32 ? ip : ip & ~(UINT32_MAX >> d);
		b->r4[i].depth = (uint8_t)d;
		b->r4[i].nh = (uint32_t)rnd() & 0x3fffffffu;
	}
}

static void
set_bits6(uint8_t ip[16], unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to; i++)
		if (rnd() & 1)
			ip[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

static void
mask6(uint8_t ip[16], unsigned depth)
{
	unsigned i;

	for (i = depth; i < 128; i++)
		ip[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/*
 * IPv6: like a BGP table: allocations of /19../32 inside the RIRs' blocks
 * (2001::/16, 2400::/12, 2600::/12, 2800::/12, 2a00::/12, 2c00::/12),
 * each RIR handing them out of a few dozen /20 pools; then more specifics
 * under allocations (a few large networks announce most of them, in a few
 * /40 sub-blocks each), about half of them /48s, with /36, /40, /44, /56,
 * /64 and a few host routes, as a FIB carries them.
 */
static void
gen_routes6(struct bench *b)
{
	static const uint16_t blocks[] = {0x2001, 0x2400, 0x2600,
					  0x2800, 0x2a00, 0x2c00};
	/* more-specific lengths and weights (per 1000) */
	static const uint8_t len[] = {33, 34, 35, 36, 38, 40, 42, 44,
				      45, 46, 47, 48, 56, 64, 128};
	static const unsigned w[] = {15, 15, 10, 40,  15, 70, 15, 110,
				     15, 30, 20, 560, 40, 40, 15};
	uint32_t nalloc = b->nroutes6 / 5, i, a;
	struct route6 *r;
	unsigned d, k, sub;
	double u;

	memset(b->r6, 0, (size_t)b->nroutes6 * sizeof(*b->r6));
	b->r6[0].depth = 0; /* default route */
	b->r6[0].nh = 1;
	for (i = 1; i < b->nroutes6; i++) {
		r = &b->r6[i];
		if (i < nalloc) {
			k = rnd_below(SL_DIM(blocks));
			r->ip[0] = (uint8_t)(blocks[k] >> 8);
			r->ip[1] = (uint8_t)blocks[k];
			/* pool: 32 /20s per block */
			r->ip[2] = (uint8_t)((k == 0 ? 0 : r->ip[1] & 0xf0) |
					     (rnd_below(32) * 7 % 16));
			if (k != 0)
				r->ip[1] |= (uint8_t)rnd_below(2);
			d = rnd_below(4) == 0 ? 19 + rnd_below(10)
					      : 29 + rnd_below(4);
			if (d < 24)
				d = 24;
			set_bits6(r->ip, 20, d);
		} else {
			/* skewed: a few allocations announce most */
			u = (double)rnd_below(1u << 20) / (double)(1u << 20);
			a = 1 + (uint32_t)(u * u * u * (nalloc - 2));
			const struct route6 *p = &b->r6[a];

			d = len[pick(w, SL_DIM(len), 1000)];
			memcpy(r->ip, p->ip, 16);
			/* one of 4 sub-blocks of the allocation down to /40 */
			sub = (unsigned)((a * 2654435761u) >> 7) + rnd_below(4);
			for (k = p->depth; k < 40 && k < d; k++)
				if ((sub >> (k % 29)) & 1)
					r->ip[k / 8] |=
						(uint8_t)(0x80u >> (k % 8));
			if (d > 40)
				set_bits6(r->ip, 40, d);
		}
		mask6(r->ip, d);
		r->depth = (uint8_t)d;
		r->nh = (uint32_t)rnd() & 0x3fffffffu;
	}
}

/* Addresses: 90% inside random routes (not the default), 10% random. */
static void
gen_addrs(struct bench *b)
{
	uint32_t i, hostmask;
	const struct route4 *r4;
	const struct route6 *r6;

	for (i = 0; i < b->naddrs; i++) {
		if (rnd_below(10) == 0) {
			b->a4[i] = (uint32_t)rnd();
		} else {
			r4 = &b->r4[1 + rnd_below(b->nroutes4 - 1)];
			hostmask =
				r4->depth == 32 ? 0 : UINT32_MAX >> r4->depth;
			b->a4[i] = r4->ip | ((uint32_t)rnd() & hostmask);
		}
		if (rnd_below(10) == 0) {
			memset(b->a6[i], 0, 16);
			b->a6[i][0] = 0x20;
			set_bits6(b->a6[i], 3, 128);
		} else {
			r6 = &b->r6[1 + rnd_below(b->nroutes6 - 1)];
			memcpy(b->a6[i], r6->ip, 16);
			set_bits6(b->a6[i], r6->depth, 128);
		}
	}
}

/* ---- memory: transparent huge pages ---------------------------------------
 */

/* @return AnonHugePages of the process in kB (smaps_rollup), -1 if unknown. */
static long
thp_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * The memory of the mapping that starts at addr: resident and on
 * transparent huge pages, in kB (-1 when unknown).
 */
static void
thp_range_kb(const void *addr, long *rss, long *thp)
{
	char line[256], start[32];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	*rss = *thp = -1;
	if (f == NULL)
		return;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f) != NULL) {
		/* a mapping's first line starts with its address (lower
		 * case hex); its fields' names start with a capital */
		if ((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f')) {
			in = strncmp(line, start, strlen(start)) == 0;
			continue;
		}
		if (in)
			(void)(sscanf(line, "Rss: %ld kB", rss) == 1 ||
			       sscanf(line, "AnonHugePages: %ld kB", thp) == 1);
	}
	fclose(f);
}

/* Note how much of a FIB's memory the kernel put on huge pages. */
static void
thp_note(struct bench *b, const char *who, long before)
{
	long after = thp_kb();
	size_t len = strlen(b->thp);

	snprintf(b->thp + len, sizeof(b->thp) - len, "%s%s %ld MB",
		 len != 0 ? ", " : "", who,
		 before >= 0 && after >= 0 ? (after - before) / 1024 : -1L);
}

/* ---- timed loops -----------------------------------------------------------
 */

static __sl_always_inline void
sl4_bulk(struct sl_fib4 *f, const uint32_t *ips, uint32_t *nh, unsigned n)
{
	sl_fib4_lookup_bulk(f, ips, nh, n);
}

static __sl_always_inline void
rte4_bulk(struct rte_fib *f, const uint32_t *ips, uint64_t *nh, unsigned n)
{
	(void)rte_fib_lookup_bulk(f, (uint32_t *)(uintptr_t)ips, nh, (int)n);
}

static __sl_always_inline void
sl6_bulk(struct sl_fib6 *f, const uint8_t (*ips)[16], uint32_t *nh, unsigned n)
{
	sl_fib6_lookup_bulk(f, ips, nh, n);
}

static __sl_always_inline void
rte6_bulk(struct rte_fib6 *f, const uint8_t (*ips)[16], uint64_t *nh,
	  unsigned n)
{
	(void)rte_fib6_lookup_bulk(f, (uint8_t(*)[16])(uintptr_t)ips, nh,
				   (int)n);
}

/*
 * Look up every address in bursts of n, `passes` times.
 * @return cycles per lookup.
 */
#define DEFINE_LOOP(fn, fib_t, addr_t, nh_t, call)                             \
	static __attribute__((noinline)) double fn(                            \
		fib_t *fib, const addr_t *addrs, uint32_t naddrs, unsigned n,  \
		unsigned passes)                                               \
	{                                                                      \
		nh_t nh[MAX_BURST] __attribute__((aligned(64)));               \
		uint64_t t0, t1, acc = 0, i;                                   \
		unsigned p;                                                    \
                                                                               \
		BENCH_OPAQUE(n);                                               \
		t0 = sl_tsc();                                                 \
		for (p = 0; p < passes; p++)                                   \
			for (i = 0; i + n <= naddrs; i += n) {                 \
				call(fib, addrs + i, nh, n);                   \
				acc += nh[0];                                  \
			}                                                      \
		t1 = sl_tsc();                                                 \
		BENCH_USE(acc);                                                \
		return (double)(t1 - t0) /                                     \
		       ((double)passes * (double)(naddrs / n * n));            \
	}

typedef uint8_t ip6_t[16];

DEFINE_LOOP(loop_sl4, struct sl_fib4, uint32_t, uint32_t, sl4_bulk)
DEFINE_LOOP(loop_rte4, struct rte_fib, uint32_t, uint64_t, rte4_bulk)
DEFINE_LOOP(loop_sl6, struct sl_fib6, ip6_t, uint32_t, sl6_bulk)
DEFINE_LOOP(loop_rte6, struct rte_fib6, ip6_t, uint64_t, rte6_bulk)

/* ---- IPv4 -----------------------------------------------------------------
 */

struct pair4 {
	struct sl_fib4 *sl;
	struct rte_fib *rte;
};

static int
build4(struct bench *b, bool compact, struct pair4 *p)
{
	struct sl_fib_conf sc = {
		.default_nh = DFLT_NH,
		.max_routes = b->nroutes4,
		.num_tbl8 = TBL8_4,
		.flags = compact ? SL_FIB_F_COMPACT : 0,
	};
	struct rte_fib_conf rc;
	uint32_t i, bad = 0;
	long before;
	int err;

	memset(&rc, 0, sizeof(rc));
	rc.type = RTE_FIB_DIR24_8;
	rc.default_nh = DFLT_NH;
	rc.max_routes = (int)b->nroutes4;
	rc.dir24_8.nh_sz = compact ? RTE_FIB_DIR24_8_4B : RTE_FIB_DIR24_8_8B;
	rc.dir24_8.num_tbl8 = TBL8_4;

	before = thp_kb();
	p->sl = sl_fib4_create(compact ? "bench4c" : "bench4", &sc);
	if (p->sl == NULL) {
		fail(b, "sl_fib4_create", strerror(errno));
		return -1;
	}
	thp_note(b, compact ? "sl_fib4 compact" : "sl_fib4", before);
	p->rte = rte_fib_create(compact ? "bench4c" : "bench4", b->socket, &rc);
	if (p->rte == NULL) {
		fail(b, "rte_fib_create", rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < b->nroutes4; i++) {
		const struct route4 *r = &b->r4[i];

		err = sl_fib4_add(p->sl, r->ip, r->depth, r->nh);
		if (err < 0) {
			fail(b, "sl_fib4_add", sl_strerror(err));
			return -1;
		}
		err = rte_fib_add(p->rte, r->ip, r->depth, r->nh);
		if (err < 0) {
			fail(b, "rte_fib_add", rte_strerror(-err));
			return -1;
		}
	}
	/* both must give the same answers */
	for (i = 0; i + MAX_BURST <= b->naddrs; i += MAX_BURST) {
		sl_fib4_lookup_bulk(p->sl, b->a4 + i, b->nh_sl + i, MAX_BURST);
		(void)rte_fib_lookup_bulk(p->rte, b->a4 + i, b->nh_rte + i,
					  MAX_BURST);
	}
	for (i = 0; i < b->naddrs / MAX_BURST * MAX_BURST; i++)
		bad += b->nh_sl[i] != b->nh_rte[i] ||
		       b->nh_sl[i] != sl_fib4_lookup(p->sl, b->a4[i]);
	if (bad != 0) {
		fprintf(stderr, "%s: IPv4: %u of %u answers differ\n", prog,
			bad, b->naddrs);
		b->failures++;
		return -1;
	}
	return 0;
}

static void
row4(struct bench *b, struct pair4 *p, bool compact, unsigned burst)
{
	double s[BENCH_MAX_REPS], r[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i, k;
	char name[BENCH_CASE_LEN];

	snprintf(name, sizeof(name), "fib4%s bulk lookup %u",
		 compact ? " compact" : "", burst);
	fill_nan(s, reps);
	fill_nan(r, reps);
	for (i = 0; i < reps && p->sl != NULL && p->rte != NULL; i++) {
		for (k = 0; k < 2; k++) {
			if ((k == 0) == (i % 2 == 0)) {
				(void)loop_sl4(p->sl, b->a4, b->naddrs, burst,
					       1);
				s[i] = loop_sl4(p->sl, b->a4, b->naddrs, burst,
						PASSES);
			} else {
				(void)loop_rte4(p->rte, b->a4, b->naddrs, burst,
						1);
				r[i] = loop_rte4(p->rte, b->a4, b->naddrs,
						 burst, PASSES);
			}
		}
	}
	if (bench_report_add(
		    &b->report, name, "cycles/lookup", BENCH_LOWER_IS_BETTER,
		    compact ? "rte_fib DIR24_8_4B" : "rte_fib DIR24_8_8B", s, r,
		    reps) < 0)
		fail(b, name, "out of memory");
}

static void
run4(struct bench *b, bool compact)
{
	struct pair4 p = {0};
	struct sl_fib_stats st;

	if (build4(b, compact, &p) == 0) {
		if (sl_fib4_stats(p.sl, &st) == 0)
			printf("%s: IPv4%s: %u routes, %u groups\n", prog,
			       compact ? " compact" : "", st.routes,
			       st.tbl8_used);
		row4(b, &p, compact, 32);
		row4(b, &p, compact, 64);
	} else {
		p.sl = NULL; /* rows of NaN: the run fails */
		row4(b, &p, compact, 32);
		row4(b, &p, compact, 64);
	}
	sl_fib4_free(p.sl);
	rte_fib_free(p.rte);
}

/* ---- IPv6 -----------------------------------------------------------------
 */

struct pair6 {
	struct sl_fib6 *sl;
	struct rte_fib6 *rte;
};

static int
build6(struct bench *b, bool compact, struct pair6 *p)
{
	struct sl_fib_conf sc = {
		.default_nh = DFLT_NH,
		.max_routes = b->nroutes6,
		.num_tbl8 = TBL8_6,
		.flags = compact ? SL_FIB_F_COMPACT : 0,
	};
	struct rte_fib6_conf rc;
	uint32_t i, bad = 0;
	long before;
	int err;

	memset(&rc, 0, sizeof(rc));
	rc.type = RTE_FIB6_TRIE;
	rc.default_nh = DFLT_NH;
	rc.max_routes = (int)b->nroutes6;
	rc.trie.nh_sz = compact ? RTE_FIB6_TRIE_4B : RTE_FIB6_TRIE_8B;
	rc.trie.num_tbl8 = TBL8_6;

	before = thp_kb();
	p->sl = sl_fib6_create(compact ? "bench6c" : "bench6", &sc);
	if (p->sl == NULL) {
		fail(b, "sl_fib6_create", strerror(errno));
		return -1;
	}
	thp_note(b, compact ? "sl_fib6 compact" : "sl_fib6", before);
	p->rte =
		rte_fib6_create(compact ? "bench6c" : "bench6", b->socket, &rc);
	if (p->rte == NULL) {
		fail(b, "rte_fib6_create", rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < b->nroutes6; i++) {
		const struct route6 *r = &b->r6[i];

		err = sl_fib6_add(p->sl, r->ip, r->depth, r->nh);
		if (err < 0) {
			fail(b, "sl_fib6_add", sl_strerror(err));
			return -1;
		}
		err = rte_fib6_add(p->rte, r->ip, r->depth, r->nh);
		if (err < 0) {
			fail(b, "rte_fib6_add", rte_strerror(-err));
			return -1;
		}
	}
	for (i = 0; i + MAX_BURST <= b->naddrs; i += MAX_BURST) {
		sl_fib6_lookup_bulk(p->sl, (const uint8_t(*)[16])(b->a6 + i),
				    b->nh_sl + i, MAX_BURST);
		(void)rte_fib6_lookup_bulk(p->rte, b->a6 + i, b->nh_rte + i,
					   MAX_BURST);
	}
	for (i = 0; i < b->naddrs / MAX_BURST * MAX_BURST; i++)
		bad += b->nh_sl[i] != b->nh_rte[i] ||
		       b->nh_sl[i] != sl_fib6_lookup(p->sl, b->a6[i]);
	if (bad != 0) {
		fprintf(stderr, "%s: IPv6: %u of %u answers differ\n", prog,
			bad, b->naddrs);
		b->failures++;
		return -1;
	}
	return 0;
}

static void
row6(struct bench *b, struct pair6 *p, bool compact, unsigned burst)
{
	const uint8_t(*a6)[16] = (const uint8_t(*)[16])b->a6;
	double s[BENCH_MAX_REPS], r[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i, k;
	char name[BENCH_CASE_LEN];

	snprintf(name, sizeof(name), "fib6%s bulk lookup %u",
		 compact ? " compact" : "", burst);
	fill_nan(s, reps);
	fill_nan(r, reps);
	for (i = 0; i < reps && p->sl != NULL && p->rte != NULL; i++) {
		for (k = 0; k < 2; k++) {
			if ((k == 0) == (i % 2 == 0)) {
				(void)loop_sl6(p->sl, a6, b->naddrs, burst, 1);
				s[i] = loop_sl6(p->sl, a6, b->naddrs, burst,
						PASSES);
			} else {
				(void)loop_rte6(p->rte, a6, b->naddrs, burst,
						1);
				r[i] = loop_rte6(p->rte, a6, b->naddrs, burst,
						 PASSES);
			}
		}
	}
	if (bench_report_add(&b->report, name, "cycles/lookup",
			     BENCH_LOWER_IS_BETTER,
			     compact ? "rte_fib6 TRIE_4B" : "rte_fib6 TRIE_8B",
			     s, r, reps) < 0)
		fail(b, name, "out of memory");
}

static void
run6(struct bench *b, bool compact)
{
	struct pair6 p = {0};
	struct sl_fib_stats st;

	if (build6(b, compact, &p) == 0) {
		if (sl_fib6_stats(p.sl, &st) == 0)
			printf("%s: IPv6%s: %u routes, %u groups\n", prog,
			       compact ? " compact" : "", st.routes,
			       st.tbl8_used);
	} else {
		p.sl = NULL;
	}
	row6(b, &p, compact, 32);
	row6(b, &p, compact, 64);
	sl_fib6_free(p.sl);
	rte_fib6_free(p.rte);
}

/* ---- EAL ------------------------------------------------------------------
 */

/* EAL, then DPDK's heap of hugepage memory for its FIBs. */
static int
eal_start(struct bench *b, struct bench_eal *eal)
{
	char lcores[16];

	snprintf(lcores, sizeof(lcores), "%d", b->cpu);
	if (bench_eal_start(eal, prog, lcores, -1, 256) < 0)
		return -1;
	if (bench_heap_start(&b->heap, prog, "sl-bench-fib", HEAP_LEN) < 0)
		fprintf(stderr,
			"%s: DPDK's FIBs in its own memory (4 KB "
			"pages with --no-huge)\n",
			prog);
	b->socket = b->heap.socket;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	char buf[256];
	struct bench_eal eal;
	int err;

	err = bench_parse_args(argc, argv, "bench/results/lookup-fib.json",
			       &b.opts);
	if (err != 0)
		return err > 0 ? 0 : 2;
	b.nroutes4 = b.opts.quick ? ROUTES4_QUICK : ROUTES4;
	b.nroutes6 = b.opts.quick ? ROUTES6_QUICK : ROUTES6;
	b.naddrs = b.opts.quick ? ADDRS_QUICK : ADDRS;

	b.cpu = sl_cpu_nth(1);
	if (b.cpu < 0)
		b.cpu = sl_cpu_nth(0) >= 0 ? sl_cpu_nth(0) : 0;
	if (eal_start(&b, &eal) < 0)
		return 77;
	err = sl_cpu_pin(b.cpu);
	if (err < 0)
		fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", prog, b.cpu,
			sl_strerror(err));

	b.r4 = calloc(b.nroutes4, sizeof(*b.r4));
	b.r6 = calloc(b.nroutes6, sizeof(*b.r6));
	b.a4 = aligned_alloc(64, (size_t)b.naddrs * sizeof(*b.a4));
	b.a6 = aligned_alloc(64, (size_t)b.naddrs * sizeof(*b.a6));
	b.nh_sl = calloc(b.naddrs, sizeof(*b.nh_sl));
	b.nh_rte = calloc(b.naddrs, sizeof(*b.nh_rte));
	if (b.r4 == NULL || b.r6 == NULL || b.a4 == NULL || b.a6 == NULL ||
	    b.nh_sl == NULL || b.nh_rte == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	gen_routes4(&b);
	gen_routes6(&b);
	gen_addrs(&b);

	bench_report_init(&b.report, "lookup-fib");
	bench_report_note_num(&b.report, "reps", b.opts.reps);
	bench_report_note_str(&b.report, "quick", b.opts.quick ? "yes" : "no");
	bench_report_note_num(&b.report, "cpu", b.cpu);
	bench_report_note_str(&b.report, "peer", rte_version());
	snprintf(buf, sizeof(buf),
		 "%u routes (BGP-like lengths, 56%% /24, 3%% longer, a default "
		 "route), %u groups",
		 b.nroutes4, TBL8_4);
	bench_report_note_str(&b.report, "ipv4", buf);
	snprintf(buf, sizeof(buf),
		 "%u routes (allocations /19-/32, more specifics 56%% /48, "
		 "/56, /64, /128, a default route), %u groups",
		 b.nroutes6, TBL8_6);
	bench_report_note_str(&b.report, "ipv6", buf);
	snprintf(buf, sizeof(buf),
		 "%u addresses, 90%% inside random routes, 10%% random; %u "
		 "passes per repetition",
		 b.naddrs, PASSES);
	bench_report_note_str(&b.report, "addresses", buf);

	printf("%s: %s, CPU %d, %u repetitions%s, TSC %.3f GHz\n", prog,
	       rte_version(), b.cpu, b.opts.reps,
	       b.opts.quick ? " (quick)" : "", (double)sl_tsc_hz() / 1e9);
	fflush(stdout);

	run4(&b, false);
	run4(&b, true);
	run6(&b, false);
	run6(&b, true);
	if (b.socket >= 0) {
		long rss, thp;
		size_t len = strlen(b.thp);

		thp_range_kb(b.heap.addr, &rss, &thp);
		snprintf(b.thp + len, sizeof(b.thp) - len,
			 ", DPDK's heap %ld of %ld MB resident", thp / 1024,
			 rss / 1024);
	}
	bench_report_note_str(&b.report, "thp_tables", b.thp);
	printf("%s: tables on transparent huge pages: %s\n", prog, b.thp);

	bench_heap_stop(&b.heap);
	bench_eal_stop(&eal, prog);

	bench_report_print(&b.report, stdout);
	err = bench_report_write_json(&b.report, b.opts.out);
	if (err == 0)
		printf("%s: results in %s\n", prog, b.opts.out);
	free(b.r4);
	free(b.r6);
	free(b.a4);
	free(b.a6);
	free(b.nh_sl);
	free(b.nh_rte);
	if (bench_report_check(&b.report) != 0 || b.failures != 0 || err < 0) {
		bench_report_fini(&b.report);
		return 1;
	}
	bench_report_fini(&b.report);
	return 0;
}
