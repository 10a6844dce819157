/*
 * Unit tests of the graph engine: node registration and its errors,
 * building graphs from patterns (transitive closure, unknown edges), the
 * enqueue helpers (x1, x4, burst, stream move with and without a swap),
 * buffers that grow and their drop limit, source nodes, loops, init/fini
 * and the context area, statistics per instance and summed, the DOT
 * export, tracing, pcap capture read back with libpcap (and tcpdump when
 * installed), and two threads walking their own instances.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include <sluice/sl_graph.h>
#include <sluice/sl_mbuf.h>

/* Objects of the routing tests: tagged values, never dereferenced. */
#define OBJ(i) ((void *)(uintptr_t)(((uintptr_t)(i) + 1) * 16))
#define OBJ_ID(p) ((uintptr_t)(p) / 16 - 1)

/* What one sink saw. */
#define LOG_MAX 70000
struct sink_log {
	uintptr_t ids[LOG_MAX];
	unsigned n;
	unsigned calls;
	void **last_objs; /* the objs array of the last call */
};

static void
log_add(struct sink_log *l, void **objs, uint16_t n)
{
	uint16_t i;

	l->calls++;
	l->last_objs = objs;
	for (i = 0; i < n && l->n < LOG_MAX; i++)
		l->ids[l->n++] = OBJ_ID(objs[i]);
}

static struct sl_node *
node_of(struct sl_graph *g, const char *name)
{
	struct sl_node *n = sl_graph_node_get(g, name);

	assert_non_null(n);
	return n;
}

static struct sl_node_stats
stats_of(struct sl_graph *g, const char *name)
{
	struct sl_node_stats st;

	assert_int_equal(sl_graph_node_stats(g, name, &st), 0);
	return st;
}

static bool
graph_has(struct sl_graph *g, const char *name)
{
	return sl_graph_node_get(g, name) != NULL;
}

/* ==== a graph to build: tb_src -> tb_a -> {tb_b, tb_c} -> tb_d ========= */

enum { TB_SRC_NEXT_A, TB_SRC_NEXT_MAX };
enum { TB_A_NEXT_B, TB_A_NEXT_C, TB_A_NEXT_MAX };
enum { TB_B_NEXT_D, TB_B_NEXT_MAX };
enum { TB_C_NEXT_D, TB_C_NEXT_MAX };

static uint16_t
tb_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	(void)g;
	(void)node;
	(void)objs;
	return n;
}

static struct sl_node_register tb_src = {
	.name = "tb_src",
	.flags = SL_NODE_F_SOURCE,
	.process = tb_process,
	.next_nodes = {[TB_SRC_NEXT_A] = "tb_a"},
};
SL_NODE_REGISTER(tb_src)

static struct sl_node_register tb_a = {
	.name = "tb_a",
	.process = tb_process,
	.next_nodes = {[TB_A_NEXT_B] = "tb_b", [TB_A_NEXT_C] = "tb_c"},
};
SL_NODE_REGISTER(tb_a)

static struct sl_node_register tb_b = {
	.name = "tb_b",
	.process = tb_process,
	.next_nodes = {[TB_B_NEXT_D] = "tb_d"},
};
SL_NODE_REGISTER(tb_b)

static struct sl_node_register tb_c = {
	.name = "tb_c",
	.process = tb_process,
	.next_nodes = {[TB_C_NEXT_D] = "tb_d"},
};
SL_NODE_REGISTER(tb_c)

static struct sl_node_register tb_d = {
	.name = "tb_d",
	.process = tb_process,
};
SL_NODE_REGISTER(tb_d)

/* Not reached from anything: only in graphs whose patterns name it. */
static struct sl_node_register tb_lonely = {
	.name = "tb_lonely",
	.process = tb_process,
};
SL_NODE_REGISTER(tb_lonely)

static void
test_register_errors(void **state)
{
	struct sl_node_register r = {.name = "re_ok", .process = tb_process};
	int id;

	(void)state;
	assert_int_equal(sl_node_register(NULL), -EINVAL);

	r.name = NULL;
	assert_int_equal(sl_node_register(&r), -EINVAL);
	r.name = "";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	r.name = "has space";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	r.name = "a_name_that_is_much_too_long_32c";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	assert_non_null(strstr(sl_graph_last_error(), "bad name"));

	r.name = "re_noproc";
	r.process = NULL;
	assert_int_equal(sl_node_register(&r), -EINVAL);
	assert_non_null(strstr(sl_graph_last_error(), "re_noproc"));
	r.process = tb_process;

	r.name = "re_flags";
	r.flags = 0x80;
	assert_int_equal(sl_node_register(&r), -EINVAL);
	r.flags = 0;

	r.name = "re_hole";
	r.next_nodes[0] = "tb_d";
	r.next_nodes[2] = "tb_c";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	assert_non_null(strstr(sl_graph_last_error(), "edge 1"));
	r.next_nodes[2] = NULL;

	r.name = "re_self";
	r.next_nodes[0] = "re_self";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	assert_non_null(strstr(sl_graph_last_error(), "itself"));

	r.name = "re_badedge";
	r.next_nodes[0] = "no*such";
	assert_int_equal(sl_node_register(&r), -EINVAL);
	r.next_nodes[0] = NULL;

	r.name = "re_ok";
	id = sl_node_register(&r);
	assert_true(id >= 0);
	assert_string_equal(sl_graph_last_error(), "");
	assert_int_equal(sl_node_register(&r), -EEXIST);
	/* the constructor-registered nodes are there */
	r.name = "tb_a";
	assert_int_equal(sl_node_register(&r), -EEXIST);
}

static void
test_build_from_patterns(void **state)
{
	const char *only_a[] = {"tb_a"};
	const char *src[] = {"tb_s*"};
	const char *two[] = {"tb_d", "tb_lon*"};
	const char *none[] = {"tb_a", "zz_nothing*"};
	struct sl_graph *g;
	struct sl_node *a;

	(void)state;
	/* tb_a reaches b, c and d, never the source nor tb_lonely */
	g = sl_graph_create("tb-a", only_a, 1);
	assert_non_null(g);
	assert_string_equal(sl_graph_name(g), "tb-a");
	assert_int_equal(sl_graph_node_count(g), 4);
	assert_true(graph_has(g, "tb_a") && graph_has(g, "tb_b") &&
		    graph_has(g, "tb_c") && graph_has(g, "tb_d"));
	assert_false(graph_has(g, "tb_src"));
	assert_false(graph_has(g, "tb_lonely"));
	a = node_of(g, "tb_a");
	assert_int_equal(sl_node_edge_count(a), TB_A_NEXT_MAX);
	assert_string_equal(sl_node_name(sl_node_next(a, TB_A_NEXT_B)), "tb_b");
	assert_string_equal(sl_node_name(sl_node_next(a, TB_A_NEXT_C)), "tb_c");
	assert_null(sl_node_next(a, TB_A_NEXT_MAX));
	assert_ptr_equal(sl_graph_lookup("tb-a"), g);

	/* a second instance of the same name is refused */
	errno = 0;
	assert_null(sl_graph_create("tb-a", only_a, 1));
	assert_int_equal(errno, EEXIST);
	sl_graph_destroy(g);
	errno = 0;
	assert_null(sl_graph_lookup("tb-a"));
	assert_int_equal(errno, ENOENT);

	/* from the source: all five, the source first */
	g = sl_graph_create("tb-src", src, 1);
	assert_non_null(g);
	assert_int_equal(sl_graph_node_count(g), 5);
	assert_string_equal(sl_node_name(sl_graph_node_at(g, 0)), "tb_src");
	assert_false(graph_has(g, "tb_lonely"));
	assert_null(sl_graph_node_at(g, 5));
	sl_graph_destroy(g);

	/* several patterns, each adding its nodes */
	g = sl_graph_create("tb-two", two, 2);
	assert_non_null(g);
	assert_int_equal(sl_graph_node_count(g), 2);
	assert_true(graph_has(g, "tb_d") && graph_has(g, "tb_lonely"));
	sl_graph_destroy(g);

	/* a pattern that matches nothing is an error naming it */
	errno = 0;
	assert_null(sl_graph_create("tb-none", none, 2));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(sl_graph_last_error(), "zz_nothing*"));

	errno = 0;
	assert_null(sl_graph_create("bad name", only_a, 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_graph_create("tb-zero", only_a, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_graph_create("tb-nullpat", NULL, 1));
	assert_int_equal(errno, EINVAL);
}

static void
test_unknown_edge(void **state)
{
	struct sl_node_register r = {
		.name = "ue_head",
		.process = tb_process,
		.next_nodes = {"tb_d", "ue_missing"},
	};
	struct sl_node_register to_src = {
		.name = "ue_tosrc",
		.process = tb_process,
		.next_nodes = {"tb_src"},
	};
	const char *pat[] = {"ue_head"};
	const char *pat2[] = {"ue_tosrc"};
	const char *msg;

	(void)state;
	/* registering is fine: edges are resolved when a graph is built */
	assert_true(sl_node_register(&r) >= 0);
	errno = 0;
	assert_null(sl_graph_create("ue", pat, 1));
	assert_int_equal(errno, ENOENT);
	msg = sl_graph_last_error();
	assert_non_null(strstr(msg, "'ue_head'"));
	assert_non_null(strstr(msg, "edge 1"));
	assert_non_null(strstr(msg, "'ue_missing'"));
	/* nothing was left behind */
	assert_null(sl_graph_lookup("ue"));

	assert_true(sl_node_register(&to_src) >= 0);
	errno = 0;
	assert_null(sl_graph_create("ue2", pat2, 1));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(sl_graph_last_error(), "source"));
}

/* ==== enqueue helpers: eq_src -> eq_split -> eq_sink{0,1,2} ============= */

enum {
	EQ_SPLIT_NEXT_SINK0,
	EQ_SPLIT_NEXT_SINK1,
	EQ_SPLIT_NEXT_SINK2,
	EQ_SPLIT_NEXT_MAX,
};

enum eq_mode {
	EQ_X1,	  /* one object at a time */
	EQ_X4,	  /* fours where a group shares its destination */
	EQ_BURST, /* each run of one destination as a burst */
	EQ_MOVE,  /* the whole burst to eq_move_dest */
	EQ_MIXED, /* stream move when the burst has one destination */
};

static enum eq_mode eq_mode;
static uint16_t eq_emit;      /* objects the source emits next walk */
static uintptr_t eq_next_id;  /* id of the next object */
static uint16_t eq_move_dest; /* EQ_MOVE: destination of every object */
static unsigned eq_x4_calls, eq_moves, eq_split_calls;
static void **eq_split_objs; /* the objs array of eq_split's last call */
static struct sink_log eq_log[EQ_SPLIT_NEXT_MAX];

/* Destination by id: runs of varying length. */
static uint16_t
eq_dest(uintptr_t id)
{
	return (uint16_t)((id / 8 + id / 21) % EQ_SPLIT_NEXT_MAX);
}

static uint16_t
eq_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	void **room;
	uint16_t i;

	assert_null(objs);
	assert_int_equal(n, 0);
	if (eq_emit == 0)
		return 0;
	room = sl_node_next_stream_get(g, node, 0, eq_emit);
	assert_non_null(room);
	for (i = 0; i < eq_emit; i++)
		room[i] = OBJ(eq_next_id++);
	sl_node_next_stream_put(g, node, 0, eq_emit);
	return eq_emit;
}

static uint16_t
eq_split_process(struct sl_graph *g, struct sl_node *node, void **objs,
		 uint16_t n)
{
	uint16_t i, j, d;

	eq_split_calls++;
	eq_split_objs = objs;
	switch (eq_mode) {
	case EQ_X1:
		for (i = 0; i < n; i++)
			sl_node_enqueue_x1(g, node, eq_dest(OBJ_ID(objs[i])),
					   objs[i]);
		break;
	case EQ_X4:
		for (i = 0; i + 4 <= n; i += 4) {
			d = eq_dest(OBJ_ID(objs[i]));
			if (eq_dest(OBJ_ID(objs[i + 1])) == d &&
			    eq_dest(OBJ_ID(objs[i + 2])) == d &&
			    eq_dest(OBJ_ID(objs[i + 3])) == d) {
				assert_int_equal(
					sl_node_enqueue_x4(g, node, d, objs[i],
							   objs[i + 1],
							   objs[i + 2],
							   objs[i + 3]),
					4);
				eq_x4_calls++;
				continue;
			}
			for (j = i; j < i + 4; j++)
				sl_node_enqueue_x1(g, node,
						   eq_dest(OBJ_ID(objs[j])),
						   objs[j]);
		}
		for (; i < n; i++)
			sl_node_enqueue_x1(g, node, eq_dest(OBJ_ID(objs[i])),
					   objs[i]);
		break;
	case EQ_BURST:
		for (i = 0; i < n; i = j) {
			d = eq_dest(OBJ_ID(objs[i]));
			for (j = i + 1; j < n && eq_dest(OBJ_ID(objs[j])) == d;
			     j++)
				;
			assert_int_equal(sl_node_enqueue(g, node, d, objs + i,
							 (uint16_t)(j - i)),
					 j - i);
		}
		break;
	case EQ_MOVE:
		assert_int_equal(
			sl_node_next_stream_move(g, node, eq_move_dest), n);
		eq_moves++;
		break;
	case EQ_MIXED:
		d = eq_dest(OBJ_ID(objs[0]));
		for (i = 1; i < n && eq_dest(OBJ_ID(objs[i])) == d; i++)
			;
		if (i == n) {
			sl_node_next_stream_move(g, node, d);
			eq_moves++;
			break;
		}
		for (i = 0; i < n; i++)
			sl_node_enqueue_x1(g, node, eq_dest(OBJ_ID(objs[i])),
					   objs[i]);
		break;
	}
	return n;
}

#define EQ_SINK(k)                                                             \
	static uint16_t eq_sink##k##_process(struct sl_graph *g,               \
					     struct sl_node *node,             \
					     void **objs, uint16_t n)          \
	{                                                                      \
		(void)g;                                                       \
		(void)node;                                                    \
		log_add(&eq_log[k], objs, n);                                  \
		return n;                                                      \
	}                                                                      \
	static struct sl_node_register eq_sink##k = {                          \
		.name = "eq_sink" #k,                                          \
		.process = eq_sink##k##_process,                               \
	};                                                                     \
	SL_NODE_REGISTER(eq_sink##k)
EQ_SINK(0)
EQ_SINK(1)
EQ_SINK(2)

static struct sl_node_register eq_src = {
	.name = "eq_src",
	.flags = SL_NODE_F_SOURCE,
	.process = eq_src_process,
	.next_nodes = {"eq_split"},
};
SL_NODE_REGISTER(eq_src)

static struct sl_node_register eq_split = {
	.name = "eq_split",
	.process = eq_split_process,
	.next_nodes = {[EQ_SPLIT_NEXT_SINK0] = "eq_sink0",
		       [EQ_SPLIT_NEXT_SINK1] = "eq_sink1",
		       [EQ_SPLIT_NEXT_SINK2] = "eq_sink2"},
};
SL_NODE_REGISTER(eq_split)

static void
eq_reset(enum eq_mode mode)
{
	eq_mode = mode;
	eq_emit = 0;
	eq_next_id = 0;
	eq_x4_calls = 0;
	eq_moves = 0;
	eq_split_calls = 0;
	memset(eq_log, 0, sizeof(eq_log));
}

/* Every id in [0, total) arrived once, at its sink, in increasing order. */
static void
eq_check(uintptr_t total, const uint16_t *dest_of_id)
{
	unsigned k, i, seen = 0;

	for (k = 0; k < EQ_SPLIT_NEXT_MAX; k++) {
		uintptr_t prev = 0;

		for (i = 0; i < eq_log[k].n; i++) {
			uintptr_t id = eq_log[k].ids[i];

			assert_true(id < total);
			assert_int_equal(dest_of_id[id], k);
			if (i > 0)
				assert_true(id > prev);
			prev = id;
		}
		seen += eq_log[k].n;
	}
	assert_int_equal(seen, total);
}

/* Burst sizes of the walks: small ones, a full one, one that grows. */
static const uint16_t eq_plan[] = {1, 3, 4, 17, 0, 256, 300, 1000, 5, 64};

static void
eq_run(enum eq_mode mode)
{
	static const char *const names[] = {
		[EQ_X1] = "eq-x1",	 [EQ_X4] = "eq-x4",
		[EQ_BURST] = "eq-burst", [EQ_MOVE] = "eq-move",
		[EQ_MIXED] = "eq-mixed",
	};
	const char *pat[] = {"eq_src"};
	static uint16_t dest_of_id[4096];
	struct sl_graph *g;
	uintptr_t total = 0, id;
	unsigned w;

	eq_reset(mode);
	/* a name per mode: a failed run leaves no clash for the next */
	g = sl_graph_create(names[mode], pat, 1);
	assert_non_null(g);
	assert_int_equal(sl_graph_node_count(g), 5);
	for (w = 0; w < SL_DIM(eq_plan); w++) {
		eq_emit = eq_plan[w];
		eq_move_dest = (uint16_t)(w % EQ_SPLIT_NEXT_MAX);
		for (id = total; id < total + eq_emit; id++)
			dest_of_id[id] =
				mode == EQ_MOVE ? eq_move_dest : eq_dest(id);
		total += eq_emit;
		sl_graph_walk(g);
	}
	assert_int_equal(sl_graph_walk_count(g), SL_DIM(eq_plan));
	eq_check(total, dest_of_id);
	/* no node is left with objects */
	for (w = 0; w < sl_graph_node_count(g); w++)
		assert_int_equal(sl_graph_node_at(g, w)->idx, 0);
	sl_graph_destroy(g);
}

static void
test_enqueue_x1(void **state)
{
	(void)state;
	eq_run(EQ_X1);
}

static void
test_enqueue_x4(void **state)
{
	(void)state;
	eq_run(EQ_X4);
	assert_true(eq_x4_calls > 100); /* the x4 path did most of it */
}

static void
test_enqueue_burst(void **state)
{
	(void)state;
	eq_run(EQ_BURST);
}

static void
test_stream_move(void **state)
{
	const char *pat[] = {"eq_src"};
	struct sl_graph *g;
	void **before;
	unsigned k;

	(void)state;
	eq_run(EQ_MOVE);
	assert_int_equal(eq_moves, SL_DIM(eq_plan) - 1); /* not the empty */
	eq_run(EQ_MIXED);
	assert_true(eq_moves > 0);

	/* a move to an empty node hands over the array itself */
	eq_reset(EQ_MOVE);
	g = sl_graph_create("eq-swap", pat, 1);
	assert_non_null(g);
	for (k = 0; k < 3; k++) {
		eq_emit = 40;
		eq_move_dest = (uint16_t)k;
		sl_graph_walk(g);
		before = eq_split_objs;
		assert_ptr_equal(eq_log[k].last_objs, before);
		assert_int_equal(eq_log[k].calls, 1);
		/* and eq_split got the sink's array in exchange */
		assert_ptr_not_equal(node_of(g, "eq_split")->objs, before);
	}
	sl_graph_destroy(g);
}

/* ==== stream move onto a node with objects: mv_src -> mv_p{1,2} -> sink = */

static uint16_t mv_n1, mv_n2;
static void **mv_p1_objs;
static struct sink_log mv_log;

static uint16_t
mv_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	uint16_t i;

	(void)objs;
	(void)n;
	for (i = 0; i < mv_n1; i++)
		sl_node_enqueue_x1(g, node, 0, OBJ(i));
	for (i = 0; i < mv_n2; i++)
		sl_node_enqueue_x1(g, node, 1, OBJ(1000 + i));
	return (uint16_t)(mv_n1 + mv_n2);
}

static uint16_t
mv_p1_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	mv_p1_objs = objs;
	return sl_node_next_stream_move(g, node, 0) == n ? n : 0;
}

static uint16_t
mv_p2_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	(void)objs;
	return sl_node_next_stream_move(g, node, 0) == n ? n : 0;
}

static uint16_t
mv_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	(void)g;
	(void)node;
	log_add(&mv_log, objs, n);
	return n;
}

static struct sl_node_register mv_src = {
	.name = "mv_src",
	.flags = SL_NODE_F_SOURCE,
	.process = mv_src_process,
	.next_nodes = {"mv_p1", "mv_p2"},
};
SL_NODE_REGISTER(mv_src)
static struct sl_node_register mv_p1 = {
	.name = "mv_p1",
	.process = mv_p1_process,
	.next_nodes = {"mv_sink"},
};
SL_NODE_REGISTER(mv_p1)
static struct sl_node_register mv_p2 = {
	.name = "mv_p2",
	.process = mv_p2_process,
	.next_nodes = {"mv_sink"},
};
SL_NODE_REGISTER(mv_p2)
static struct sl_node_register mv_sink = {
	.name = "mv_sink",
	.process = mv_sink_process,
};
SL_NODE_REGISTER(mv_sink)

static void
test_stream_move_onto_pending(void **state)
{
	const char *pat[] = {"mv_*"};
	struct sl_graph *g;
	unsigned w, i;

	(void)state;
	g = sl_graph_create("mv", pat, 1);
	assert_non_null(g);
	for (w = 0; w < 4; w++) {
		memset(&mv_log, 0, sizeof(mv_log));
		mv_n1 = (uint16_t)(10 + w * 100);
		mv_n2 = (uint16_t)(7 + w * 50);
		sl_graph_walk(g);
		/* one call with p1's burst (swapped in), then p2's (copied;
		 * into a new array when they do not fit together) */
		assert_int_equal(mv_log.calls, 1);
		if (mv_n1 + mv_n2 <= SL_GRAPH_BURST)
			assert_ptr_equal(mv_log.last_objs, mv_p1_objs);
		assert_int_equal(mv_log.n, mv_n1 + mv_n2);
		for (i = 0; i < mv_n1; i++)
			assert_int_equal(mv_log.ids[i], i);
		for (i = 0; i < mv_n2; i++)
			assert_int_equal(mv_log.ids[mv_n1 + i], 1000 + i);
	}
	/* sources take no input: their "move" moves nothing */
	assert_int_equal(stats_of(g, "mv_sink").calls, 4);
	sl_graph_destroy(g);
}

/* ==== buffers grow to SL_NODE_OBJS_MAX, then drop ======================= */

static unsigned gr_calls, gr_objs;

static uint16_t
gr_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	uint16_t i;

	(void)g;
	(void)node;
	gr_calls++;
	for (i = 0; i < n; i++)
		assert_int_equal(OBJ_ID(objs[i]), gr_objs + i);
	gr_objs += n;
	return n;
}

static struct sl_node_register gr_a = {
	.name = "gr_a",
	.process = gr_process,
};
SL_NODE_REGISTER(gr_a)

static void
test_growth_and_drops(void **state)
{
	const char *pat[] = {"gr_a"};
	static void *objs[40000];
	struct sl_graph *g;
	struct sl_node *a;
	struct sl_node_stats st;
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(objs); i++)
		objs[i] = OBJ(i);
	g = sl_graph_create("gr", pat, 1);
	assert_non_null(g);
	a = node_of(g, "gr_a");
	assert_int_equal(a->size, SL_GRAPH_BURST);

	/* nothing pending: the walk calls nothing; 0 objects pend nothing */
	assert_int_equal(sl_graph_node_enqueue(g, a, objs, 0), 0);
	sl_graph_walk(g);
	assert_int_equal(gr_calls, 0);

	assert_int_equal(sl_graph_node_enqueue(g, a, objs, 30000), 30000);
	assert_int_equal(sl_graph_node_enqueue(g, a, objs + 30000, 5000),
			 SL_NODE_OBJS_MAX - 30000);
	assert_int_equal(a->size, SL_NODE_OBJS_MAX);
	sl_graph_walk(g);
	assert_int_equal(gr_calls, 1);
	assert_int_equal(gr_objs, SL_NODE_OBJS_MAX);
	st = stats_of(g, "gr_a");
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.objs, SL_NODE_OBJS_MAX);
	assert_int_equal(st.drops, 35000 - SL_NODE_OBJS_MAX);

	/* bad arguments enqueue nothing */
	assert_int_equal(sl_graph_node_enqueue(NULL, a, objs, 1), 0);
	assert_int_equal(sl_graph_node_enqueue(g, NULL, objs, 1), 0);
	sl_graph_destroy(g);
}

/* ==== x1 to a full buffer: set aside, appended in order, or dropped ==== */

static uint16_t sp_x1, sp_stream; /* what sp_src emits: x1, then stream */
static unsigned sp_x1_failed;
static struct sink_log sp_log;

static uint16_t
sp_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	void **room;
	uint16_t i;

	(void)objs;
	(void)n;
	for (i = 0; i < sp_x1; i++)
		if (sl_node_enqueue_x1(g, node, 0, OBJ(i)) == 0)
			sp_x1_failed++;
	if (sp_stream != 0) {
		room = sl_node_next_stream_get(g, node, 0, sp_stream);
		assert_non_null(room);
		for (i = 0; i < sp_stream; i++)
			room[i] = OBJ(5000 + i);
		sl_node_next_stream_put(g, node, 0, sp_stream);
	}
	return (uint16_t)(sp_x1 + sp_stream);
}

static uint16_t
sp_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	(void)g;
	(void)node;
	log_add(&sp_log, objs, n);
	return n;
}

static struct sl_node_register sp_src = {
	.name = "sp_src",
	.flags = SL_NODE_F_SOURCE,
	.process = sp_src_process,
	.next_nodes = {"sp_sink"},
};
SL_NODE_REGISTER(sp_src)
static struct sl_node_register sp_sink = {
	.name = "sp_sink",
	.process = sp_sink_process,
};
SL_NODE_REGISTER(sp_sink)

static void
test_x1_spill(void **state)
{
	const char *pat[] = {"sp_src"};
	uint16_t fit = SL_GRAPH_BURST + SL_GRAPH_SPILL;
	struct sl_graph *g;
	unsigned i;

	(void)state;
	g = sl_graph_create("sp", pat, 1);
	assert_non_null(g);

	/* more than the buffer and the spill hold: the rest is refused */
	memset(&sp_log, 0, sizeof(sp_log));
	sp_x1 = (uint16_t)(fit + 100);
	sp_stream = 0;
	sl_graph_walk(g);
	assert_int_equal(sp_x1_failed, 100);
	assert_int_equal(stats_of(g, "sp_sink").drops, 100);
	assert_int_equal(sp_log.calls, 1);
	assert_int_equal(sp_log.n, fit);
	for (i = 0; i < fit; i++)
		assert_int_equal(sp_log.ids[i], i);
	assert_int_equal(g->nb_spill, 0);

	/* the buffer grew when the spill was appended: all fit now */
	memset(&sp_log, 0, sizeof(sp_log));
	sp_x1_failed = 0;
	sl_graph_walk(g);
	assert_int_equal(sp_x1_failed, 0);
	assert_int_equal(sp_log.n, sp_x1);
	sl_graph_destroy(g);

	/* set aside, then a stream that has to grow the buffer: the spill
	 * is appended first, so the order holds */
	g = sl_graph_create("sp2", pat, 1);
	assert_non_null(g);
	memset(&sp_log, 0, sizeof(sp_log));
	sp_x1 = 300;
	sp_stream = 40;
	sl_graph_walk(g);
	assert_int_equal(sp_x1_failed, 0);
	assert_int_equal(sp_log.n, 340);
	for (i = 0; i < 300; i++)
		assert_int_equal(sp_log.ids[i], i);
	for (i = 0; i < 40; i++)
		assert_int_equal(sp_log.ids[300 + i], 5000 + i);
	assert_int_equal(stats_of(g, "sp_sink").drops, 0);
	sl_graph_destroy(g);
}

/* ==== sources, loops ==================================================== */

static uint16_t sr_b_emit;
static unsigned sr_a_calls, sr_b_calls;
static struct sink_log sr_log;

static uint16_t
sr_a_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	(void)objs;
	(void)n;
	sr_a_calls++;
	sl_node_enqueue_x4(g, node, 0, OBJ(1), OBJ(2), OBJ(3), OBJ(4));
	return 4;
}

static uint16_t
sr_b_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	uint16_t i;

	(void)objs;
	(void)n;
	sr_b_calls++;
	for (i = 0; i < sr_b_emit; i++)
		sl_node_enqueue_x1(g, node, 0, OBJ(100 + i));
	return sr_b_emit;
}

static uint16_t
sr_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	(void)g;
	(void)node;
	log_add(&sr_log, objs, n);
	return n;
}

static struct sl_node_register sr_a = {
	.name = "sr_a",
	.flags = SL_NODE_F_SOURCE,
	.process = sr_a_process,
	.next_nodes = {"sr_sink"},
};
SL_NODE_REGISTER(sr_a)
static struct sl_node_register sr_b = {
	.name = "sr_b",
	.flags = SL_NODE_F_SOURCE,
	.process = sr_b_process,
	.next_nodes = {"sr_sink"},
};
SL_NODE_REGISTER(sr_b)
static struct sl_node_register sr_sink = {
	.name = "sr_sink",
	.process = sr_sink_process,
};
SL_NODE_REGISTER(sr_sink)

static void
test_sources(void **state)
{
	const char *pat[] = {"sr_a", "sr_b"};
	const char *sink_only[] = {"sr_sink"};
	struct sl_graph *g;
	struct sl_node_stats st;
	unsigned w, expect_calls = 0, expect_objs = 0, i;

	(void)state;
	g = sl_graph_create("sr", pat, 2);
	assert_non_null(g);
	assert_int_equal(g->nb_sources, 2);
	for (w = 0; w < 6; w++) {
		memset(&sr_log, 0, sizeof(sr_log));
		sr_b_emit = (uint16_t)(w % 2 == 0 ? 0 : w);
		sl_graph_walk(g);
		/* both sources ran; the sink once, with both bursts */
		assert_int_equal(sr_a_calls, w + 1);
		assert_int_equal(sr_b_calls, w + 1);
		assert_int_equal(sr_log.calls, 1);
		assert_int_equal(sr_log.n, 4 + sr_b_emit);
		for (i = 0; i < 4; i++)
			assert_int_equal(sr_log.ids[i], i + 1);
		for (i = 0; i < sr_b_emit; i++)
			assert_int_equal(sr_log.ids[4 + i], 100 + i);
		expect_calls++;
		expect_objs += 4 + sr_b_emit;
	}
	st = stats_of(g, "sr_b");
	assert_int_equal(st.calls, 6); /* every walk, even with nothing */
	assert_int_equal(st.objs, 1 + 3 + 5);
	st = stats_of(g, "sr_sink");
	assert_int_equal(st.calls, expect_calls);
	assert_int_equal(st.objs, expect_objs);
	sl_graph_destroy(g);

	/* no source: only what is given from outside runs */
	g = sl_graph_create("sr-nosrc", sink_only, 1);
	assert_non_null(g);
	memset(&sr_log, 0, sizeof(sr_log));
	sl_graph_walk(g);
	assert_int_equal(sr_log.calls, 0);
	{
		void *in[2] = {OBJ(7), OBJ(8)};

		assert_int_equal(
			sl_graph_node_enqueue(g, node_of(g, "sr_sink"), in, 2),
			2);
	}
	sl_graph_walk(g);
	assert_int_equal(sr_log.calls, 1);
	assert_int_equal(sr_log.n, 2);
	assert_int_equal(sr_log.ids[0], 7);
	assert_int_equal(sr_log.ids[1], 8);
	sl_graph_destroy(g);
}

/* A loop: lp_a sends an object to lp_b until it went round three times. */
struct lp_obj {
	unsigned rounds;
	unsigned a_visits;
};

static unsigned lp_a_calls, lp_sunk;

enum { LP_A_NEXT_B, LP_A_NEXT_SINK, LP_A_NEXT_MAX };

static uint16_t
lp_a_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	uint16_t i;

	lp_a_calls++;
	for (i = 0; i < n; i++) {
		struct lp_obj *o = objs[i];

		o->a_visits++;
		sl_node_enqueue_x1(g, node,
				   o->rounds < 3 ? LP_A_NEXT_B : LP_A_NEXT_SINK,
				   o);
	}
	return n;
}

static uint16_t
lp_b_process(struct sl_graph *g, struct sl_node *node, void **objs, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		((struct lp_obj *)objs[i])->rounds++;
	return sl_node_next_stream_move(g, node, 0);
}

static uint16_t
lp_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	(void)g;
	(void)node;
	(void)objs;
	lp_sunk += n;
	return n;
}

static struct sl_node_register lp_a = {
	.name = "lp_a",
	.process = lp_a_process,
	.next_nodes = {[LP_A_NEXT_B] = "lp_b", [LP_A_NEXT_SINK] = "lp_sink"},
};
SL_NODE_REGISTER(lp_a)
static struct sl_node_register lp_b = {
	.name = "lp_b",
	.process = lp_b_process,
	.next_nodes = {"lp_a"},
};
SL_NODE_REGISTER(lp_b)
static struct sl_node_register lp_sink = {
	.name = "lp_sink",
	.process = lp_sink_process,
};
SL_NODE_REGISTER(lp_sink)

static void
test_loop_runs_again_in_the_walk(void **state)
{
	const char *pat[] = {"lp_a"};
	struct lp_obj objs[5];
	void *in[5];
	struct sl_graph *g;
	unsigned i;

	(void)state;
	memset(objs, 0, sizeof(objs));
	for (i = 0; i < 5; i++) {
		objs[i].rounds = i % 2; /* some need fewer rounds */
		in[i] = &objs[i];
	}
	g = sl_graph_create("lp", pat, 1);
	assert_non_null(g);
	assert_int_equal(sl_graph_node_enqueue(g, node_of(g, "lp_a"), in, 5),
			 5);
	sl_graph_walk(g);
	/* one walk finishes every object */
	assert_int_equal(lp_sunk, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(objs[i].rounds, 3);
		assert_int_equal(objs[i].a_visits, 4 - i % 2);
	}
	assert_int_equal(lp_a_calls, 4);
	sl_graph_destroy(g);
}

/* ==== init, fini, context =============================================== */

#define IF_MAGIC 0x5a5a1234u
static unsigned if_inits, if_finis;
static bool if_fail;

static int
if_a_init(struct sl_graph *g, struct sl_node *node)
{
	uint32_t *ctx = sl_node_ctx(node);
	unsigned i;

	assert_ptr_equal(node->graph, g);
	for (i = 0; i < SL_NODE_CTX_SIZE / 4; i++)
		assert_int_equal(ctx[i], 0); /* zeroed */
	ctx[0] = IF_MAGIC;
	assert_int_equal((uintptr_t)ctx % SL_CACHE_LINE, 0);
	if_inits++;
	return 0;
}

static void
if_fini(struct sl_graph *g, struct sl_node *node)
{
	(void)g;
	(void)node;
	if_finis++;
}

static int
if_bad_init(struct sl_graph *g, struct sl_node *node)
{
	(void)g;
	(void)node;
	if_inits++;
	return if_fail ? -EADDRNOTAVAIL : 0;
}

static struct sl_node_register if_a = {
	.name = "if_a",
	.flags = SL_NODE_F_SOURCE,
	.process = tb_process,
	.init = if_a_init,
	.fini = if_fini,
	.next_nodes = {"if_bad"},
};
SL_NODE_REGISTER(if_a)
static struct sl_node_register if_bad = {
	.name = "if_bad",
	.process = tb_process,
	.init = if_bad_init,
	.fini = if_fini,
};
SL_NODE_REGISTER(if_bad)

static void
test_init_fini_ctx(void **state)
{
	const char *pat[] = {"if_a"};
	struct sl_graph *g;

	(void)state;
	if_fail = true;
	errno = 0;
	assert_null(sl_graph_create("if", pat, 1));
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_non_null(strstr(sl_graph_last_error(), "if_bad"));
	assert_int_equal(if_inits, 2);
	assert_int_equal(if_finis, 1); /* if_a's init is undone */
	assert_null(sl_graph_lookup("if"));

	if_fail = false;
	if_inits = if_finis = 0;
	g = sl_graph_create("if", pat, 1);
	assert_non_null(g);
	assert_int_equal(if_inits, 2);
	assert_int_equal(*(uint32_t *)sl_node_ctx(node_of(g, "if_a")),
			 IF_MAGIC);
	assert_int_equal(*(uint32_t *)sl_node_ctx(node_of(g, "if_bad")), 0);
	sl_graph_walk(g);
	sl_graph_destroy(g);
	assert_int_equal(if_finis, 2);
}

/* ==== statistics ======================================================== */

static void
test_stats(void **state)
{
	const char *pat[] = {"eq_src"};
	static const uint16_t plan[] = {10, 0, 300, 1, 0, 40};
	struct sl_graph *g0, *g1;
	struct sl_node_stats st, sum;
	unsigned w, k, busy = 0, total = 0, sink_calls[EQ_SPLIT_NEXT_MAX];
	uint64_t cyc;
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	eq_reset(EQ_X1);
	g0 = sl_graph_create("eqs-0", pat, 1);
	g1 = sl_graph_create("eqs-1", pat, 1);
	assert_non_null(g0);
	assert_non_null(g1);
	memset(sink_calls, 0, sizeof(sink_calls));
	for (w = 0; w < SL_DIM(plan); w++) {
		unsigned before[EQ_SPLIT_NEXT_MAX];

		for (k = 0; k < EQ_SPLIT_NEXT_MAX; k++)
			before[k] = eq_log[k].calls;
		eq_emit = plan[w];
		busy += plan[w] != 0;
		total += plan[w];
		sl_graph_walk(g0);
		for (k = 0; k < EQ_SPLIT_NEXT_MAX; k++)
			sink_calls[k] += eq_log[k].calls - before[k];
	}
	/* g1 walks 3 times with nothing to do */
	eq_emit = 0;
	for (w = 0; w < 3; w++)
		sl_graph_walk(g1);

	st = stats_of(g0, "eq_src");
	assert_int_equal(st.calls, SL_DIM(plan));
	assert_int_equal(st.objs, total);
	assert_true(st.cycles > 0);
	st = stats_of(g0, "eq_split");
	assert_int_equal(st.calls, busy);
	assert_int_equal(st.calls, eq_split_calls);
	assert_int_equal(st.objs, total);
	assert_int_equal(st.drops, 0);
	assert_true(st.cycles > 0);
	cyc = st.cycles;
	for (k = 0; k < EQ_SPLIT_NEXT_MAX; k++) {
		char name[16];

		snprintf(name, sizeof(name), "eq_sink%u", k);
		st = stats_of(g0, name);
		assert_int_equal(st.calls, sink_calls[k]);
		assert_int_equal(st.objs, eq_log[k].n);
	}
	st = stats_of(g1, "eq_src");
	assert_int_equal(st.calls, 3);
	assert_int_equal(st.objs, 0);

	/* summed over both instances, and over one */
	assert_int_equal(sl_graph_stats_sum("eqs-*", "eq_src", &sum), 2);
	assert_int_equal(sum.calls, SL_DIM(plan) + 3);
	assert_int_equal(sum.objs, total);
	assert_int_equal(sl_graph_stats_sum("eqs-1", "eq_split", &sum), 1);
	assert_int_equal(sum.calls, 0);
	assert_int_equal(sl_graph_stats_sum(NULL, "eq_split", &sum), 2);
	assert_int_equal(sum.cycles, cyc);
	assert_int_equal(sl_graph_stats_sum("eqs-*", "nope", &sum), -ENOENT);
	assert_int_equal(sl_graph_stats_sum("zz*", "eq_src", &sum), -ENOENT);
	assert_int_equal(sl_graph_node_stats(g0, "nope", &st), -ENOENT);
	assert_int_equal(sl_graph_node_stats(NULL, "eq_src", &st), -EINVAL);

	/* the table names every node */
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_graph_stats_dump(g0, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "eq_split"));
	assert_non_null(strstr(buf, "eq_sink2"));
	free(buf);

	sl_graph_stats_reset(g0);
	st = stats_of(g0, "eq_split");
	assert_int_equal(st.calls + st.objs + st.cycles + st.drops, 0);
	sl_graph_destroy(g0);
	sl_graph_destroy(g1);
	assert_int_equal(sl_graph_stats_sum("eqs-*", "eq_src", &sum), -ENOENT);
}

/* ==== DOT export ======================================================== */

static void
test_dot(void **state)
{
	const char *pat[] = {"tb_src"};
	struct sl_graph *g;
	FILE *f;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	unsigned i, e, nodes_seen = 0, edges_seen = 0, edges = 0;
	bool digraph = false, closed = false;

	(void)state;
	g = sl_graph_create("tb-dot", pat, 1);
	assert_non_null(g);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_graph_export_dot(g, f), 0);
	fclose(f);

	/* parse it back: node statements and "a" -> "b" edges */
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char a[SL_NODE_NAMESIZE], b[SL_NODE_NAMESIZE];
		struct sl_node *na, *nb;
		unsigned label;

		if (strncmp(line, "digraph \"tb-dot\" {", 18) == 0) {
			digraph = true;
		} else if (strcmp(line, "}") == 0) {
			closed = true;
		} else if (sscanf(line,
				  " \"%31[^\"]\" -> \"%31[^\"]\" "
				  "[label=\"%u\"]",
				  a, b, &label) == 3) {
			na = node_of(g, a);
			nb = node_of(g, b);
			assert_ptr_equal(sl_node_next(na, label), nb);
			edges_seen++;
		} else if (sscanf(line, " \"%31[^\"]\"", a) == 1) {
			na = node_of(g, a);
			if (na->source)
				assert_non_null(strstr(line, "doublecircle"));
			nodes_seen++;
		}
	}
	free(buf);
	for (i = 0; i < sl_graph_node_count(g); i++)
		for (e = 0; e < sl_node_edge_count(sl_graph_node_at(g, i)); e++)
			edges++;
	assert_true(digraph && closed);
	assert_int_equal(nodes_seen, sl_graph_node_count(g));
	assert_int_equal(edges_seen, edges);
	assert_int_equal(edges, 5);
	assert_int_equal(sl_graph_export_dot(NULL, stdout), -EINVAL);
	sl_graph_destroy(g);
}

/* ==== tracing: tr_src -> tr_cls -> {ip -> udp, arp} -> sink, or drop ==== */

#define TR_PKTS 40
#define TR_PATH_MAX 8

/* A packet that writes down where it went: the truth to compare with. */
struct tr_pkt {
	unsigned id;
	unsigned n;
	struct sl_node *path[TR_PATH_MAX];
};

static struct tr_pkt tr_pkts[TR_PKTS];
static unsigned tr_walk;

enum { TR_CLS_NEXT_IP, TR_CLS_NEXT_ARP, TR_CLS_NEXT_DROP, TR_CLS_NEXT_MAX };

static void
tr_visit(struct sl_node *node, void **objs, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct tr_pkt *p = objs[i];

		assert_true(p->n < TR_PATH_MAX);
		p->path[p->n++] = node;
	}
}

static uint16_t
tr_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	unsigned i;

	(void)objs;
	(void)n;
	for (i = 0; i < TR_PKTS; i++) {
		tr_pkts[i].n = 0;
		tr_pkts[i].path[tr_pkts[i].n++] = node;
		sl_node_enqueue_x1(g, node, 0, &tr_pkts[i]);
	}
	return TR_PKTS;
}

static uint16_t
tr_cls_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	uint16_t i;

	tr_visit(node, objs, n);
	for (i = 0; i < n; i++) {
		struct tr_pkt *p = objs[i];

		sl_node_enqueue_x1(g, node, (uint16_t)((p->id + tr_walk) % 3),
				   p);
	}
	return n;
}

static uint16_t
tr_pass_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	tr_visit(node, objs, n);
	return sl_node_next_stream_move(g, node, 0);
}

static uint16_t
tr_end_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	(void)g;
	tr_visit(node, objs, n);
	return n;
}

static struct sl_node_register tr_src = {
	.name = "tr_src",
	.flags = SL_NODE_F_SOURCE,
	.process = tr_src_process,
	.next_nodes = {"tr_cls"},
};
SL_NODE_REGISTER(tr_src)
static struct sl_node_register tr_cls = {
	.name = "tr_cls",
	.process = tr_cls_process,
	.next_nodes = {[TR_CLS_NEXT_IP] = "tr_ip",
		       [TR_CLS_NEXT_ARP] = "tr_arp",
		       [TR_CLS_NEXT_DROP] = "tr_drop"},
};
SL_NODE_REGISTER(tr_cls)
static struct sl_node_register tr_ip = {
	.name = "tr_ip",
	.process = tr_pass_process,
	.next_nodes = {"tr_udp"},
};
SL_NODE_REGISTER(tr_ip)
static struct sl_node_register tr_udp = {
	.name = "tr_udp",
	.process = tr_pass_process,
	.next_nodes = {"tr_sink"},
};
SL_NODE_REGISTER(tr_udp)
static struct sl_node_register tr_arp = {
	.name = "tr_arp",
	.process = tr_pass_process,
	.next_nodes = {"tr_sink"},
};
SL_NODE_REGISTER(tr_arp)
static struct sl_node_register tr_sink = {
	.name = "tr_sink",
	.process = tr_end_process,
};
SL_NODE_REGISTER(tr_sink)
static struct sl_node_register tr_drop = {
	.name = "tr_drop",
	.process = tr_end_process,
};
SL_NODE_REGISTER(tr_drop)

static void
test_trace(void **state)
{
	const char *pat[] = {"tr_src"};
	struct sl_node *path[TR_PATH_MAX];
	struct sl_graph *g;
	uint64_t walk;
	unsigned i, k, lens[3] = {0, 0, 0};
	char *buf = NULL, expect[256];
	size_t len = 0, off;
	FILE *f;
	int n;

	(void)state;
	for (i = 0; i < TR_PKTS; i++)
		tr_pkts[i].id = i;
	g = sl_graph_create("tr", pat, 1);
	assert_non_null(g);
	assert_int_equal(sl_graph_trace_path(g, &tr_pkts[0], path, 8, NULL),
			 -EINVAL); /* tracing is off */
	sl_graph_walk(g);	   /* not recorded */
	assert_int_equal(sl_graph_trace_enable(g, 0), -EINVAL);
	assert_int_equal(sl_graph_trace_enable(g, 4096), 0);

	/* the same packets take another route in each walk */
	for (tr_walk = 0; tr_walk < 3; tr_walk++) {
		sl_graph_walk(g);
		for (i = 0; i < TR_PKTS; i++) {
			n = sl_graph_trace_path(g, &tr_pkts[i], path,
						TR_PATH_MAX, &walk);
			assert_int_equal(n, tr_pkts[i].n);
			assert_int_equal(walk, tr_walk + 1);
			for (k = 0; k < tr_pkts[i].n; k++)
				assert_ptr_equal(path[k], tr_pkts[i].path[k]);
			if (tr_walk == 0)
				lens[(i + tr_walk) % 3] = (unsigned)n;
		}
	}
	/* src cls ip udp sink / src cls arp sink / src cls drop */
	assert_int_equal(lens[0], 5);
	assert_int_equal(lens[1], 4);
	assert_int_equal(lens[2], 3);
	/* a short path buffer gets the start, the length is still whole */
	n = sl_graph_trace_path(g, &tr_pkts[0], path, 2, NULL);
	assert_int_equal(n, tr_pkts[0].n);
	assert_ptr_equal(path[0], node_of(g, "tr_src"));
	assert_ptr_equal(path[1], node_of(g, "tr_cls"));
	assert_int_equal(sl_graph_trace_path(g, &i, path, 8, NULL), -ENOENT);

	/* the dump has each packet's line */
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_graph_trace_dump(g, f), 0);
	fclose(f);
	for (i = 0; i < TR_PKTS; i += 7) {
		off = (size_t)snprintf(expect, sizeof(expect),
				       "walk 3 obj %p: ", (void *)&tr_pkts[i]);
		for (k = 0; k < tr_pkts[i].n; k++)
			off += (size_t)snprintf(
				expect + off, sizeof(expect) - off, "%s%s",
				k == 0 ? "" : " -> ",
				sl_node_name(tr_pkts[i].path[k]));
		assert_non_null(strstr(buf, expect));
	}
	free(buf);

	/* disabled: the walk is the plain one again */
	sl_graph_trace_disable(g);
	assert_int_equal(g->debug, 0);
	sl_graph_walk(g);
	assert_int_equal(sl_graph_trace_path(g, &tr_pkts[0], path, 8, NULL),
			 -EINVAL);
	sl_graph_destroy(g);
}

/* ==== capture to pcap =================================================== */

#define CP_PKTS 24

static struct sl_mbuf *cp_pkts[CP_PKTS];
static struct sink_log cp_log;

static uint16_t
cp_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	(void)objs;
	(void)n;
	return sl_node_enqueue(g, node, 0, (void **)cp_pkts, CP_PKTS);
}

static uint16_t
cp_mid_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	(void)objs;
	(void)n;
	return sl_node_next_stream_move(g, node, 0);
}

static uint16_t
cp_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	(void)g;
	(void)node;
	cp_log.calls++;
	cp_log.n += n;
	(void)objs;
	return n;
}

static struct sl_node_register cp_src = {
	.name = "cp_src",
	.flags = SL_NODE_F_SOURCE,
	.process = cp_src_process,
	.next_nodes = {"cp_mid"},
};
SL_NODE_REGISTER(cp_src)
static struct sl_node_register cp_mid = {
	.name = "cp_mid",
	.process = cp_mid_process,
	.next_nodes = {"cp_sink"},
};
SL_NODE_REGISTER(cp_mid)
static struct sl_node_register cp_sink = {
	.name = "cp_sink",
	.process = cp_sink_process,
};
SL_NODE_REGISTER(cp_sink)

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Ethernet + IPv4 + UDP to 198.18.0.2, random payload, 1 to 3 segments. */
static struct sl_mbuf *
cp_make_pkt(struct sl_mempool *mp, unsigned i, uint32_t *seed)
{
	uint8_t frame[1514];
	uint32_t len = 60 + lcg(seed) % (sizeof(frame) - 60), off, seg, k;
	unsigned nseg = 1 + i % 3;
	struct sl_mbuf *head = NULL, *m;
	uint8_t *p;

	for (k = 0; k < len; k++)
		frame[k] = (uint8_t)lcg(seed);
	memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	p = frame + 14;
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)((len - 14) >> 8);
	p[3] = (uint8_t)(len - 14);
	p[6] = 0x40;
	p[7] = 0;
	p[8] = 64;
	p[9] = 17;
	p[10] = p[11] = 0;
	memcpy(p + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	p += 20;
	p[0] = 0x30;
	p[1] = 0x39;
	p[2] = 0x00;
	p[3] = 0x35;
	p[4] = (uint8_t)((len - 34) >> 8);
	p[5] = (uint8_t)(len - 34);
	p[6] = p[7] = 0;
	for (off = 0, k = 0; k < nseg; k++, off += seg) {
		seg = k + 1 == nseg ? len - off : len / nseg;
		m = sl_mbuf_alloc(mp);
		assert_non_null(m);
		memcpy(sl_mbuf_append(m, seg), frame + off, seg);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(sl_mbuf_chain(head, m), 0);
	}
	assert_int_equal(head->pkt_len, len);
	assert_int_equal(head->nb_segs, nseg);
	return head;
}

/* Compare a capture file with the packets expected, in order. */
static void
cp_check_file(const char *path, struct sl_mbuf *const *expect, unsigned n,
	      uint32_t snaplen)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t want[1514];
	unsigned got = 0;
	pcap_t *p;
	int rc;

	p = pcap_open_offline(path, err);
	if (p == NULL)
		fail_msg("pcap_open_offline(%s): %s", path, err);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		const struct sl_mbuf *m;
		uint32_t cap;

		assert_true(got < n);
		m = expect[got];
		cap = SL_MIN(m->pkt_len, snaplen);
		assert_int_equal(h->len, m->pkt_len);
		assert_int_equal(h->caplen, cap);
		assert_int_equal(sl_mbuf_read(m, 0, cap, want), 0);
		assert_memory_equal(data, want, cap);
		got++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK); /* end of file, no error */
	assert_int_equal(got, n);
	pcap_close(p);
}

/* tcpdump -r must read the file: one line per packet. */
static void
cp_check_tcpdump(const char *path, unsigned n)
{
	char cmd[512], line[1024];
	unsigned lines = 0;
	FILE *f;

	if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
		print_message("tcpdump is not installed: tcpdump -r not "
			      "checked (scripts/deps.sh installs it)\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "tcpdump -nn -q -r '%s' 2>/dev/null; echo rc=$?", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "rc=", 3) == 0) {
			assert_string_equal(line, "rc=0\n");
			continue;
		}
		assert_non_null(
			strstr(line, "198.18.0.1.12345 > 198.18.0.2.53"));
		lines++;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(lines, n);
}

static void
test_capture(void **state)
{
	const struct sl_mbuf_pool_cfg cfg = {
		.name = "graph-cap",
		.n = 256,
		.frame_size = 2048,
	};
	const char *pat[] = {"cp_src"};
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], path2[300];
	struct sl_mbuf *expect[3 * CP_PKTS];
	struct sl_mempool *mp;
	struct sl_graph *g;
	uint32_t seed = 12345;
	unsigned i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sl-graph-test-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	snprintf(path2, sizeof(path2), "%s/b.pcap", dir);
	mp = sl_mbuf_pool_create(&cfg);
	assert_non_null(mp);
	for (i = 0; i < CP_PKTS; i++)
		cp_pkts[i] = cp_make_pkt(mp, i, &seed);
	g = sl_graph_create("cp", pat, 1);
	assert_non_null(g);

	assert_int_equal(sl_graph_capture_node(g, "cp_mid", 1), -EBADF);
	assert_int_equal(sl_graph_capture_close(g), -EBADF);
	assert_int_equal(sl_graph_capture_open(g, "/nonexistent-dir/x.pcap",
					       SL_GRAPH_DLT_EN10MB, 0) < 0,
			 1);
	assert_int_equal(sl_graph_capture_open(g, path, SL_GRAPH_DLT_EN10MB, 0),
			 0);
	assert_int_equal(sl_graph_capture_open(g, path, SL_GRAPH_DLT_EN10MB, 0),
			 -EBUSY);
	assert_int_equal(sl_graph_capture_node(g, "nope", 1), -ENOENT);
	assert_int_equal(sl_graph_capture_node(g, "cp_mid", 4), -EINVAL);

	/* walk 1: what leaves cp_mid, then what enters cp_sink */
	assert_int_equal(
		sl_graph_capture_node(g, "cp_mid", SL_GRAPH_CAPTURE_OUT), 0);
	assert_int_equal(
		sl_graph_capture_node(g, "cp_sink", SL_GRAPH_CAPTURE_IN), 0);
	sl_graph_walk(g);
	/* walk 2: cp_sink no more */
	assert_int_equal(sl_graph_capture_node(g, "cp_sink", 0), 0);
	sl_graph_walk(g);
	/* walk 3: nothing captured, the plain walk again */
	assert_int_equal(sl_graph_capture_node(g, "cp_mid", 0), 0);
	assert_int_equal(g->debug, 0);
	sl_graph_walk(g);
	assert_int_equal(sl_graph_capture_close(g), 3 * CP_PKTS);
	assert_int_equal(cp_log.n, 3 * CP_PKTS);

	for (i = 0; i < 3 * CP_PKTS; i++)
		expect[i] = cp_pkts[i % CP_PKTS];
	cp_check_file(path, expect, 3 * CP_PKTS, 65535);
	cp_check_tcpdump(path, 3 * CP_PKTS);

	/* a short snaplen keeps the start of each packet, and the length */
	assert_int_equal(
		sl_graph_capture_open(g, path2, SL_GRAPH_DLT_EN10MB, 100), 0);
	assert_int_equal(
		sl_graph_capture_node(g, "cp_src", SL_GRAPH_CAPTURE_OUT), 0);
	sl_graph_walk(g);
	/* destroying the graph closes the file */
	sl_graph_destroy(g);
	cp_check_file(path2, cp_pkts, CP_PKTS, 100);

	for (i = 0; i < CP_PKTS; i++)
		sl_mbuf_free(cp_pkts[i]);
	sl_mempool_destroy(mp);
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

/* ==== two threads, each walking its own instance ======================== */

#define TH_WALKS 3000
#define TH_BURST 48

struct th_state {
	uintptr_t tag;
	uintptr_t next_out, next_in;
	uint64_t bad;
};

static struct th_state *
th_state_of(struct sl_node *node)
{
	struct th_state *s;

	memcpy(&s, sl_node_ctx(node), sizeof(s));
	return s;
}

static uint16_t
th_src_process(struct sl_graph *g, struct sl_node *node, void **objs,
	       uint16_t n)
{
	struct th_state *s = th_state_of(node);
	void **room = sl_node_next_stream_get(g, node, 0, TH_BURST);
	uint16_t i;

	(void)objs;
	(void)n;
	if (room == NULL)
		return 0;
	for (i = 0; i < TH_BURST; i++)
		room[i] = (void *)((s->tag << 32) | (++s->next_out << 4));
	sl_node_next_stream_put(g, node, 0, TH_BURST);
	return TH_BURST;
}

static uint16_t
th_work_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	uint16_t i = 0;

	/* fours, then ones, then the last eight as a burst */
	for (; i + 4 <= n - 8; i += 4)
		sl_node_enqueue_x4(g, node, 0, objs[i], objs[i + 1],
				   objs[i + 2], objs[i + 3]);
	for (; i < n - 8; i++)
		sl_node_enqueue_x1(g, node, 0, objs[i]);
	sl_node_enqueue(g, node, 0, objs + i, 8);
	return n;
}

static uint16_t
th_sink_process(struct sl_graph *g, struct sl_node *node, void **objs,
		uint16_t n)
{
	struct th_state *s = th_state_of(node);
	uint16_t i;

	(void)g;
	for (i = 0; i < n; i++) {
		uintptr_t v = (uintptr_t)objs[i];

		s->bad += (v >> 32) != s->tag;
		s->bad += ((v & 0xffffffffu) >> 4) != ++s->next_in;
	}
	return n;
}

static struct sl_node_register th_src = {
	.name = "th_src",
	.flags = SL_NODE_F_SOURCE,
	.process = th_src_process,
	.next_nodes = {"th_work"},
};
SL_NODE_REGISTER(th_src)
static struct sl_node_register th_work = {
	.name = "th_work",
	.process = th_work_process,
	.next_nodes = {"th_sink"},
};
SL_NODE_REGISTER(th_work)
static struct sl_node_register th_sink = {
	.name = "th_sink",
	.process = th_sink_process,
};
SL_NODE_REGISTER(th_sink)

static void *
th_body(void *arg)
{
	struct sl_graph *g = arg;
	unsigned i;

	for (i = 0; i < TH_WALKS; i++)
		sl_graph_walk(g);
	return NULL;
}

static void
test_threads(void **state)
{
	const char *pat[] = {"th_*"};
	struct th_state st[2];
	struct sl_graph *g[2];
	struct sl_node_stats sum, one;
	pthread_t t[2];
	char name[16];
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct th_state *p = &st[k];

		memset(p, 0, sizeof(*p));
		p->tag = 0x100 + k;
		snprintf(name, sizeof(name), "th-%u", k);
		g[k] = sl_graph_create(name, pat, 1);
		assert_non_null(g[k]);
		memcpy(sl_node_ctx(node_of(g[k], "th_src")), &p, sizeof(p));
		memcpy(sl_node_ctx(node_of(g[k], "th_sink")), &p, sizeof(p));
	}
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, th_body, g[k]), 0);
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_join(t[k], NULL), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(st[k].bad, 0);
		assert_int_equal(st[k].next_out,
				 (uintptr_t)TH_WALKS * TH_BURST);
		assert_int_equal(st[k].next_in, (uintptr_t)TH_WALKS * TH_BURST);
		assert_int_equal(sl_graph_walk_count(g[k]), TH_WALKS);
		one = stats_of(g[k], "th_sink");
		assert_int_equal(one.calls, TH_WALKS);
		assert_int_equal(one.objs, (uint64_t)TH_WALKS * TH_BURST);
	}
	assert_int_equal(sl_graph_stats_sum("th-*", "th_work", &sum), 2);
	assert_int_equal(sum.calls, 2 * TH_WALKS);
	assert_int_equal(sum.objs, 2ull * TH_WALKS * TH_BURST);
	assert_int_equal(sum.drops, 0);
	for (k = 0; k < 2; k++)
		sl_graph_destroy(g[k]);
}

#ifdef SL_DEBUG
/* SL_DEBUG: an edge number the node does not have drops, counted. */
static uint16_t
bad_edge_process(struct sl_graph *g, struct sl_node *node, void **objs,
		 uint16_t n)
{
	(void)objs;
	assert_int_equal(sl_node_enqueue_x1(g, node, 3, OBJ(1)), 0);
	assert_null(sl_node_next_stream_get(g, node, 1, 4));
	return n;
}

static struct sl_node_register bad_edge = {
	.name = "bad_edge",
	.flags = SL_NODE_F_SOURCE,
	.process = bad_edge_process,
	.next_nodes = {"tb_d"},
};
SL_NODE_REGISTER(bad_edge)

static void
test_debug_bad_edge(void **state)
{
	const char *pat[] = {"bad_edge"};
	struct sl_graph *g;

	(void)state;
	g = sl_graph_create("bad-edge", pat, 1);
	assert_non_null(g);
	sl_graph_walk(g);
	assert_int_equal(stats_of(g, "bad_edge").drops, 1);
	assert_int_equal(stats_of(g, "tb_d").calls, 0);
	sl_graph_destroy(g);
}
#endif

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_register_errors),
		cmocka_unit_test(test_build_from_patterns),
		cmocka_unit_test(test_unknown_edge),
		cmocka_unit_test(test_enqueue_x1),
		cmocka_unit_test(test_enqueue_x4),
		cmocka_unit_test(test_enqueue_burst),
		cmocka_unit_test(test_stream_move),
		cmocka_unit_test(test_stream_move_onto_pending),
		cmocka_unit_test(test_growth_and_drops),
		cmocka_unit_test(test_x1_spill),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_loop_runs_again_in_the_walk),
		cmocka_unit_test(test_init_fini_ctx),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_dot),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_threads),
#ifdef SL_DEBUG
		cmocka_unit_test(test_debug_bad_edge),
#endif
	};
	return cmocka_run_group_tests_name("graph", t, NULL, NULL);
}
