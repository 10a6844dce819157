/*
 * bench-lookup-graph: sluice's graph walk side by side with DPDK's
 * rte_graph, in one process, on the same pinned CPU.
 *
 * Each side has the same chains, registered from constructors: a source
 * that copies its side's free burst of mbuf-like objects (64 bytes each)
 * into the next node's buffer (stream get/put), 3 to 5 worker nodes that
 * each increment one field of every object and hand the burst on with a
 * stream move (sl_node_next_stream_move / rte_node_next_stream_move) or,
 * in the x1 rows, enqueue the objects one by one, and a sink that gives
 * the burst back. One walk moves one burst from the source to the sink;
 * a row reports cycles per packet per walk.
 *
 * Fairness rules kept here (see docs/performance.md):
 * - every node body is one macro instantiated for both libraries, so both
 *   run exactly the same harness code, calling their inline fast paths;
 * - the burst size and the x1 switch reach the nodes through globals, the
 *   same for both sides;
 * - both sides keep their per-node statistics (calls, objects, cycles):
 *   Debian's DPDK is built with RTE_LIBRTE_GRAPH_STATS, and sluice always
 *   counts;
 * - the free burst moves over one page, 64 bytes per walk, so that no
 *   side gets a lucky or unlucky placement of its copies (struct bpool);
 * - a repetition alternates short chunks of walks of each side (ABBA) and
 *   keeps each side's median chunk; the median of the repetitions is
 *   reported; repetitions are the outer loop, so that each row's are
 *   spread over the whole run: on this shared machine a state that slows
 *   one side's code more than the other's (the host's) lasts seconds, and
 *   a row measured within one such spell was a draw of that state;
 * - each repetition builds both sides' graphs afresh: where the heap puts
 *   a graph's buffers can slow a side's walk by up to half for as long as
 *   that graph lives (either side; the same graph gives the same figure
 *   rep after rep), so one graph per process made a row a draw of one
 *   layout; a new graph per repetition samples several;
 * - after each row every object's fields are summed and checked against
 *   the number of walks: a side that lost or repeated an object gets NAN.
 *
 * Exit status: 0, 1 when a row has no valid value, 2 on bad usage,
 * 77 when DPDK's EAL cannot start here.
 */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_malloc.h>
#include <rte_version.h>

#include "sluice/sl_graph.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

#include "bench_common.h"
#include "bench_eal.h"

#define BURST_MAX 256u
#define POOL_OBJS BURST_MAX /* objects per side: one burst */
/* The free objects' array moves by 64 bytes per walk (struct bpool). */
#define POOL_ROT_STEP (64u / sizeof(void *))
/*
 * Places of the free objects' array: a prime number of them (61 lines, most
 * of a page), coprime with the number of buffers a chain's stream moves
 * cycle through (4 to 6): every buffer meets every place.
 */
#define POOL_ROT_PLACES 61u
#define POOL_ROT_SLOTS (POOL_ROT_PLACES * POOL_ROT_STEP)
#define WORKERS_MAX 5u

/*
 * A repetition runs CHUNKS short chunks per side, alternating, and keeps
 * the median chunk: a chunk is well under a scheduler time slice, so on a
 * shared machine most chunks run undisturbed and the median ignores the
 * ones that were not.
 */
#define CHUNKS 64u

/* Packets per repetition and side (normal, --quick). */
#define PKTS (UINT64_C(1) << 23)
#define PKTS_QUICK (UINT64_C(1) << 16)

static const char *const prog = "bench-lookup-graph";

/* An mbuf-like object: worker i increments f[i]. */
struct bobj {
	uint64_t id;
	uint32_t f[WORKERS_MAX + 1];
	uint8_t pad[64 - 8 - 4 * (WORKERS_MAX + 1)];
} __attribute__((aligned(64)));

SL_STATIC_ASSERT(sizeof(struct bobj) == 64, "one object per cache line");

/*
 * A side's free objects: one burst, which the source takes whole and the
 * sink gives back. The sink writes it 64 bytes further than the source
 * read it, going round most of a page: where the copies' source and
 * destination sit relative to each other changes their cost (4K
 * aliasing), and a fixed place would let the heap layout favour one side.
 * Rotating gives both sides every placement, provided the number of
 * places is coprime with the number of node buffers the stream moves
 * rotate: with 64 places and a 3-worker chain (4 buffers), each buffer
 * met only 16 of them, and the row swung with where the heap had put the
 * buffers.
 */
struct bpool {
	void *slots[POOL_ROT_SLOTS + POOL_OBJS];
	unsigned rot; /* the objects are slots[rot, rot + n) */
	unsigned n;
	struct bobj *mem;
};

/* What the nodes read: set before a row, the same for both sides. */
static unsigned bench_burst = BURST_MAX;
static int bench_x1;

static struct bpool pool_sl, pool_rte;

/*
 * The node bodies of one side. P: prefix; G, N: the graph and node types;
 * GET, PUT, MOVE, X1: the side's stream get/put, stream move and
 * enqueue-one functions.
 */
#define DEFINE_NODES(P, G, N, GET, PUT, MOVE, X1)                              \
	static uint16_t P##_src(G *g, N *node, void **objs, uint16_t n)        \
	{                                                                      \
		unsigned b = bench_burst;                                      \
		void **room = GET(g, node, 0, (uint16_t)b);                    \
                                                                               \
		(void)objs;                                                    \
		(void)n;                                                       \
		memcpy(room, &pool_##P.slots[pool_##P.rot],                    \
		       b * sizeof(void *));                                    \
		pool_##P.n -= b;                                               \
		PUT(g, node, 0, (uint16_t)b);                                  \
		return (uint16_t)b;                                            \
	}                                                                      \
	static uint16_t P##_sink(G *g, N *node, void **objs, uint16_t n)       \
	{                                                                      \
		(void)g;                                                       \
		(void)node;                                                    \
		pool_##P.rot =                                                 \
			(pool_##P.rot + POOL_ROT_STEP) % POOL_ROT_SLOTS;       \
		memcpy(&pool_##P.slots[pool_##P.rot], objs,                    \
		       n * sizeof(void *));                                    \
		pool_##P.n += n;                                               \
		return n;                                                      \
	}                                                                      \
	DEFINE_WORKER(P, G, N, MOVE, X1, 1)                                    \
	DEFINE_WORKER(P, G, N, MOVE, X1, 2)                                    \
	DEFINE_WORKER(P, G, N, MOVE, X1, 3)                                    \
	DEFINE_WORKER(P, G, N, MOVE, X1, 4)                                    \
	DEFINE_WORKER(P, G, N, MOVE, X1, 5)

#define DEFINE_WORKER(P, G, N, MOVE, X1, I)                                    \
	static uint16_t P##_w##I(G *g, N *node, void **objs, uint16_t n)       \
	{                                                                      \
		uint16_t i;                                                    \
                                                                               \
		if (bench_x1) {                                                \
			for (i = 0; i < n; i++) {                              \
				((struct bobj *)objs[i])->f[I]++;              \
				X1(g, node, 0, objs[i]);                       \
			}                                                      \
			return n;                                              \
		}                                                              \
		for (i = 0; i < n; i++)                                        \
			((struct bobj *)objs[i])->f[I]++;                      \
		MOVE(g, node, 0);                                              \
		return n;                                                      \
	}

DEFINE_NODES(sl, struct sl_graph, struct sl_node, sl_node_next_stream_get,
	     sl_node_next_stream_put, sl_node_next_stream_move,
	     sl_node_enqueue_x1)
DEFINE_NODES(rte, struct rte_graph, struct rte_node, rte_node_next_stream_get,
	     rte_node_next_stream_put, rte_node_next_stream_move,
	     rte_node_enqueue_x1)

/*
 * Registration. Chain L (3, 4, 5 workers) of side S is S<L>_src ->
 * S<L>_w1 -> ... -> S<L>_w<L> -> S<L>_sink, built from the pattern
 * "S<L>_*". rte_node_register ends in a flexible array, initialised here as
 * DPDK documents it: a GNU extension that -Wpedantic reports.
 */
#define SL_REG(var, fl, fn, nx)                                                \
	static struct sl_node_register var = {                                 \
		.name = #var,                                                  \
		.flags = fl,                                                   \
		.process = fn,                                                 \
		.next_nodes = {nx},                                            \
	};                                                                     \
	SL_NODE_REGISTER(var)

#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-flexible-array-initializer"
#pragma clang diagnostic ignored "-Wpedantic"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#define RTE_REG(var, fl, fn, nx)                                               \
	static struct rte_node_register var = {                                \
		.name = #var,                                                  \
		.flags = fl,                                                   \
		.process = fn,                                                 \
		.nb_edges = 1,                                                 \
		.next_nodes = {nx},                                            \
	};                                                                     \
	RTE_NODE_REGISTER(var)
#define RTE_REG_END(var, fn)                                                   \
	static struct rte_node_register var = {                                \
		.name = #var,                                                  \
		.process = fn,                                                 \
	};                                                                     \
	RTE_NODE_REGISTER(var)

/* chain 3 */
SL_REG(sl3_src, SL_NODE_F_SOURCE, sl_src, "sl3_w1")
SL_REG(sl3_w1, 0, sl_w1, "sl3_w2")
SL_REG(sl3_w2, 0, sl_w2, "sl3_w3")
SL_REG(sl3_w3, 0, sl_w3, "sl3_sink")
SL_REG(sl3_sink, 0, sl_sink, NULL)
RTE_REG(rte3_src, RTE_NODE_SOURCE_F, rte_src, "rte3_w1")
RTE_REG(rte3_w1, 0, rte_w1, "rte3_w2")
RTE_REG(rte3_w2, 0, rte_w2, "rte3_w3")
RTE_REG(rte3_w3, 0, rte_w3, "rte3_sink")
RTE_REG_END(rte3_sink, rte_sink)
/* chain 4 */
SL_REG(sl4_src, SL_NODE_F_SOURCE, sl_src, "sl4_w1")
SL_REG(sl4_w1, 0, sl_w1, "sl4_w2")
SL_REG(sl4_w2, 0, sl_w2, "sl4_w3")
SL_REG(sl4_w3, 0, sl_w3, "sl4_w4")
SL_REG(sl4_w4, 0, sl_w4, "sl4_sink")
SL_REG(sl4_sink, 0, sl_sink, NULL)
RTE_REG(rte4_src, RTE_NODE_SOURCE_F, rte_src, "rte4_w1")
RTE_REG(rte4_w1, 0, rte_w1, "rte4_w2")
RTE_REG(rte4_w2, 0, rte_w2, "rte4_w3")
RTE_REG(rte4_w3, 0, rte_w3, "rte4_w4")
RTE_REG(rte4_w4, 0, rte_w4, "rte4_sink")
RTE_REG_END(rte4_sink, rte_sink)
/* chain 5 */
SL_REG(sl5_src, SL_NODE_F_SOURCE, sl_src, "sl5_w1")
SL_REG(sl5_w1, 0, sl_w1, "sl5_w2")
SL_REG(sl5_w2, 0, sl_w2, "sl5_w3")
SL_REG(sl5_w3, 0, sl_w3, "sl5_w4")
SL_REG(sl5_w4, 0, sl_w4, "sl5_w5")
SL_REG(sl5_w5, 0, sl_w5, "sl5_sink")
SL_REG(sl5_sink, 0, sl_sink, NULL)
RTE_REG(rte5_src, RTE_NODE_SOURCE_F, rte_src, "rte5_w1")
RTE_REG(rte5_w1, 0, rte_w1, "rte5_w2")
RTE_REG(rte5_w2, 0, rte_w2, "rte5_w3")
RTE_REG(rte5_w3, 0, rte_w3, "rte5_w4")
RTE_REG(rte5_w4, 0, rte_w4, "rte5_w5")
RTE_REG(rte5_w5, 0, rte_w5, "rte5_sink")
RTE_REG_END(rte5_sink, rte_sink)
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Timed walks. @return cycles per packet. */
#define DEFINE_RUN(fn, G, walk)                                                \
	static __attribute__((noinline)) double fn(G *g, uint64_t walks)       \
	{                                                                      \
		uint64_t i, t0, t1;                                            \
                                                                               \
		BENCH_OPAQUE(walks);                                           \
		t0 = sl_tsc();                                                 \
		for (i = 0; i < walks; i++)                                    \
			walk(g);                                               \
		t1 = sl_tsc();                                                 \
		return (double)(t1 - t0) / (double)(walks * bench_burst);      \
	}

DEFINE_RUN(run_sl, struct sl_graph, sl_graph_walk)
DEFINE_RUN(run_rte, struct rte_graph, rte_graph_walk)

/* Everything one run needs. */
struct bench {
	struct bench_opts opts;
	struct bench_report report;
	int cpu;
	uint64_t pkts;
	struct sl_graph *sg[WORKERS_MAX + 1]; /* by chain length */
	struct rte_graph *rg[WORKERS_MAX + 1];
	void *pad_sl, *pad_rte; /* see graphs_create() */
	unsigned failures;
};

static void
fail(struct bench *b, const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	b->failures++;
}

static int
pool_init(struct bpool *p)
{
	unsigned i;

	p->mem = aligned_alloc(4096, POOL_OBJS * sizeof(struct bobj));
	if (p->mem == NULL)
		return -ENOMEM;
	memset(p->mem, 0, POOL_OBJS * sizeof(struct bobj));
	for (i = 0; i < POOL_OBJS; i++)
		p->mem[i].id = i;
	return 0;
}

/* Start a row: burst objects with zero fields, at the start of a page. */
static void
pool_fill(struct bpool *p, unsigned burst)
{
	unsigned i;

	for (i = 0; i < POOL_OBJS; i++)
		memset(p->mem[i].f, 0, sizeof(p->mem[i].f));
	for (i = 0; i < burst; i++)
		p->slots[i] = &p->mem[i];
	p->rot = 0;
	p->n = burst;
}

/* The side's burst is back whole: each object once, nothing lost. */
static bool
pool_slots_ok(const struct bpool *p)
{
	uint8_t seen[POOL_OBJS] = {0};
	unsigned i;

	if (p->n != bench_burst)
		return false;
	for (i = 0; i < p->n; i++) {
		const struct bobj *o = p->slots[p->rot + i];

		if (o < p->mem || o >= p->mem + bench_burst || seen[o->id]++)
			return false;
	}
	return true;
}

/* Every object went through workers 1..len once per walk of either side
 * (both walk the same objects), nothing lost. */
static bool
pool_check(const struct bpool *p, unsigned len, uint64_t walks)
{
	uint64_t sum[WORKERS_MAX + 1] = {0};
	unsigned i, k;

	if (!pool_slots_ok(p))
		return false;
	for (i = 0; i < POOL_OBJS; i++)
		for (k = 0; k <= WORKERS_MAX; k++)
			sum[k] += p->mem[i].f[k];
	for (k = 0; k <= WORKERS_MAX; k++)
		if (sum[k] != (k >= 1 && k <= len ? walks * bench_burst : 0))
			return false;
	return true;
}

/*
 * Build the chain of len workers on both sides, each after a block of a
 * size that changes with the repetition (0 to 63 cache lines, the same for
 * both sides): where a graph's buffers and nodes fall in their pages moves
 * its walk by up to half (cache sets, 4K aliasing), and without the block
 * every graph of a process would reuse the same places.
 */
static void
graphs_create(struct bench *b, unsigned len, unsigned rep)
{
	size_t pad = (size_t)((rep * 37u + len) % 64u + 1u) * 64u;

	b->pad_sl = malloc(pad);
	b->pad_rte = rte_malloc(NULL, pad, 0);
	char pat[16], gname[32];
	const char *pats[1] = {pat};
	struct rte_graph_param prm = {
		.socket_id = SOCKET_ID_ANY,
		.nb_node_patterns = 1,
		.node_patterns = pats,
	};

	snprintf(pat, sizeof(pat), "sl%u_*", len);
	snprintf(gname, sizeof(gname), "bench-sl%u", len);
	b->sg[len] = sl_graph_create(gname, pats, 1);
	if (b->sg[len] == NULL)
		fail(b, "sl_graph_create", sl_graph_last_error());
	snprintf(pat, sizeof(pat), "rte%u_*", len);
	snprintf(gname, sizeof(gname), "bench-rte%u", len);
	b->rg[len] = NULL;
	if (rte_graph_create(gname, &prm) == RTE_GRAPH_ID_INVALID) {
		fail(b, "rte_graph_create", rte_strerror(rte_errno));
		return;
	}
	b->rg[len] = rte_graph_lookup(gname);
	if (b->rg[len] == NULL)
		fail(b, "rte_graph_lookup", rte_strerror(rte_errno));
}

static void
graphs_destroy(struct bench *b, unsigned len)
{
	free(b->pad_sl);
	rte_free(b->pad_rte);
	b->pad_sl = b->pad_rte = NULL;
	sl_graph_destroy(b->sg[len]);
	b->sg[len] = NULL;
	if (b->rg[len] != NULL)
		(void)rte_graph_destroy(rte_graph_from_name(b->rg[len]->name));
	b->rg[len] = NULL;
}

/* A row: a chain, a burst, stream moves or x1; its repetitions. */
struct row {
	unsigned len, burst;
	int x1;
	double s[BENCH_MAX_REPS], p[BENCH_MAX_REPS];
};

/*
 * One repetition of a row on fresh graphs: short chunks of walks
 * alternating sides (ABBA), each side's median chunk; NAN for both when a
 * graph is missing or a side lost or repeated objects.
 */
static void
row_rep(struct bench *b, struct row *r, unsigned i)
{
	double cs[CHUNKS], cp[CHUNKS];
	uint64_t walks = b->pkts / r->burst / CHUNKS + 1, warm = walks * 4;
	uint64_t all = 2 * (warm + CHUNKS * walks);
	struct sl_graph *sg;
	struct rte_graph *rg;
	unsigned c, k;

	r->s[i] = r->p[i] = NAN;
	bench_burst = r->burst;
	bench_x1 = r->x1;
	pool_fill(&pool_sl, r->burst);
	pool_fill(&pool_rte, r->burst);
	graphs_create(b, r->len, i);
	sg = b->sg[r->len];
	rg = b->rg[r->len];
	if (sg == NULL || rg == NULL) {
		fail(b, "graph walk", "a graph is missing");
		graphs_destroy(b, r->len);
		return;
	}
	(void)run_sl(sg, warm);
	(void)run_rte(rg, warm);
	for (c = 0; c < CHUNKS; c++)
		for (k = 0; k < 2; k++) {
			if ((k == 0) == ((c + i) % 2 == 0))
				cs[c] = run_sl(sg, walks);
			else
				cp[c] = run_rte(rg, walks);
		}
	graphs_destroy(b, r->len);
	if (!pool_check(&pool_sl, r->len, all) || !pool_slots_ok(&pool_rte)) {
		fail(b, "graph walk", "a side lost or repeated objects");
		return;
	}
	r->s[i] = bench_median(cs, CHUNKS);
	r->p[i] = bench_median(cp, CHUNKS);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	static struct row rows[] = {
		{.len = 3, .burst = 256},	   {.len = 4, .burst = 256},
		{.len = 5, .burst = 256},	   {.len = 4, .burst = 32},
		{.len = 4, .burst = 256, .x1 = 1},
	};
	char lcores[16], name[BENCH_CASE_LEN];
	unsigned i, r;
	struct bench_eal eal;
	int err;

	err = bench_parse_args(argc, argv, "bench/results/lookup-graph.json",
			       &b.opts);
	if (err != 0)
		return err > 0 ? 0 : 2;
	b.pkts = b.opts.quick ? PKTS_QUICK : PKTS;

	/* choose the CPU before EAL narrows this thread's affinity */
	b.cpu = sl_cpu_nth(1);
	if (b.cpu < 0)
		b.cpu = sl_cpu_nth(0) >= 0 ? sl_cpu_nth(0) : 0;
	snprintf(lcores, sizeof(lcores), "%d", b.cpu);
	if (bench_eal_start(&eal, prog, lcores, -1, 128) < 0)
		return 77;
	err = sl_cpu_pin(b.cpu);
	if (err < 0)
		fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", prog, b.cpu,
			sl_strerror(err));
	if (pool_init(&pool_sl) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	/* both sides walk the same objects: where the heap put them cannot
	 * favour one side */
	pool_rte.mem = pool_sl.mem;

	bench_report_init(&b.report, "lookup-graph");
	bench_report_note_num(&b.report, "reps", b.opts.reps);
	bench_report_note_str(&b.report, "quick", b.opts.quick ? "yes" : "no");
	bench_report_note_num(&b.report, "cpu", b.cpu);
	bench_report_note_str(&b.report, "peer", rte_version());
	bench_report_note_num(&b.report, "pkts_per_rep", (double)b.pkts);
	bench_report_note_str(
		&b.report, "chain",
		"source (stream get/put from a free stack) -> N workers "
		"(increment one field of each 64-byte object; stream move, "
		"or x1 enqueue per object) -> sink (back to the stack); "
		"per-node statistics on for both");

	printf("%s: %s, CPU %d, %u repetitions%s, TSC %.3f GHz\n", prog,
	       rte_version(), b.cpu, b.opts.reps,
	       b.opts.quick ? " (quick)" : "", (double)sl_tsc_hz() / 1e9);
	fflush(stdout);

	/* repetitions outermost: each row's spread over the whole run */
	for (i = 0; i < b.opts.reps; i++)
		for (r = 0; r < SL_DIM(rows); r++)
			row_rep(&b, &rows[r], i);
	for (r = 0; r < SL_DIM(rows); r++) {
		snprintf(name, sizeof(name), "graph walk %u nodes%s, burst %u",
			 rows[r].len, rows[r].x1 ? " x1 enqueue" : "",
			 rows[r].burst);
		if (bench_report_add(&b.report, name, "cycles/pkt",
				     BENCH_LOWER_IS_BETTER, "rte_graph",
				     rows[r].s, rows[r].p, b.opts.reps) < 0)
			fail(&b, name, "out of memory");
	}

	free(pool_sl.mem);
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
