/**
 * @file The node graph engine: packets move through a graph of nodes in
 * bursts, one graph instance per data-path thread (D3).
 *
 * It sits between the I/O layer (pktdev) and the stack (cnet): an RX node
 * is a source node that polls its lports, every protocol step (ptype, arp,
 * ip4_input, udp, ...) is a node, and TX or punt nodes end the path.
 *
 * - **Nodes** are registered by name, usually from a constructor with
 *   SL_NODE_REGISTER(). A node has a process function, optional init/fini
 *   called per graph instance, a context area of SL_NODE_CTX_SIZE bytes per
 *   instance, and edges: the names of the nodes it may pass objects to,
 *   resolved when a graph is built. Edge numbers follow the style
 *   `UDP4_INPUT_NEXT_<DEST>`, with `_MAX` last.
 * - **Graphs** are built from node-name patterns (fnmatch(3), e.g.
 *   "ip4*") plus every node those reach through edges. Each call of
 *   sl_graph_create() makes one instance with its own buffers, contexts and
 *   statistics, walked by one thread at a time.
 * - **The walk** (sl_graph_walk()) calls every source node once, then
 *   every pending node in the order it first received objects in this walk
 *   (a FIFO of pending nodes), until no node has objects left. A node
 *   receives all objects queued to it since it last ran as one burst; a
 *   node that receives objects again after it ran (a loop in the graph)
 *   runs again in the same walk.
 * - **Enqueue helpers** pass one object, four or a burst along an edge;
 *   sl_node_next_stream_move() hands the whole burst to the next node
 *   without copying (the two nodes swap their buffers) when that node has
 *   nothing pending.
 * - **Buffers** of pending objects start at SL_GRAPH_BURST objects and
 *   double when needed up to SL_NODE_OBJS_MAX; objects that still do not
 *   fit (or when memory runs out) are not enqueued and are counted as drops
 *   of the destination node. The per-object helpers never allocate: they
 *   set objects for a full buffer aside (at most SL_GRAPH_SPILL per node
 *   call) and the walk appends them when the node returns.
 * - **Observability**: per-node statistics (calls, objects, cycles, drops)
 *   per instance and summed over instances, DOT export, a trace ring that
 *   records the path of every object, and capture of the packets entering
 *   or leaving chosen nodes into a pcap file. Tracing and capture run in a
 *   separate walk; when both are off they cost one test per walk.
 *
 * Functions that move objects return a count and never an error code (D4).
 */
#ifndef SL_GRAPH_H
#define SL_GRAPH_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "sl_common.h"
#include "sl_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a node name buffer: names have 1 to 31 characters. */
#define SL_NODE_NAMESIZE 32
/** Size of a graph name buffer: names have 1 to 31 characters. */
#define SL_GRAPH_NAMESIZE 32
/** Most edges of one node. */
#define SL_NODE_EDGES_MAX 32
/** Bytes of the per-instance context area of a node (sl_node_ctx()). */
#define SL_NODE_CTX_SIZE 64
/** Initial buffer of a node, in objects; also the burst a source should
 *  produce at most per call so that no buffer has to grow. */
#define SL_GRAPH_BURST 256
/** Most objects pending at one node; more are dropped and counted. */
#define SL_NODE_OBJS_MAX 32768
/** Objects sl_node_enqueue_x1() can set aside per node call when their
 *  destination's buffer is full (see there). */
#define SL_GRAPH_SPILL 1024

SL_STATIC_ASSERT(SL_GRAPH_BURST >= 4 && SL_GRAPH_BURST <= SL_NODE_OBJS_MAX,
		 "the enqueue helpers need room for 4 in every buffer");

/** Node flag: a source, called once per walk with no input (e.g. RX). */
#define SL_NODE_F_SOURCE 0x1u

/** Capture the objects a node is given (sl_graph_capture_node()). */
#define SL_GRAPH_CAPTURE_IN 0x1u
/** Capture the objects a node passes on along its edges. */
#define SL_GRAPH_CAPTURE_OUT 0x2u

/** Link type of capture files: Ethernet (DLT_EN10MB of pcap-linktype(7)). */
#define SL_GRAPH_DLT_EN10MB 1
/** Link type of capture files: raw IP, no L2 header (DLT_RAW). */
#define SL_GRAPH_DLT_RAW 12

struct sl_graph;
struct sl_node;

/**
 * Process a burst.
 * @param g The graph instance being walked.
 * @param node This node's instance in g.
 * @param objs The objects, nb_objs of them (for a source: NULL).
 * @param nb_objs Number of objects (for a source: 0).
 * @return The number of objects handled (a source: produced); only
 *   counted in the node's statistics.
 */
typedef uint16_t (*sl_node_process_t)(struct sl_graph *g, struct sl_node *node,
				      void **objs, uint16_t nb_objs);

/**
 * Set up a node's instance when a graph is created; its context area is
 * zeroed before.
 * @return 0, or -errno: the graph is not created and sl_graph_create()
 *   fails with that errno.
 */
typedef int (*sl_node_init_t)(struct sl_graph *g, struct sl_node *node);

/** Release what init set up, when the graph is destroyed. */
typedef void (*sl_node_fini_t)(struct sl_graph *g, struct sl_node *node);

/** What sl_node_register() needs to know about a node. */
struct sl_node_register {
	/** Name: 1 to 31 characters of [A-Za-z0-9_.:-]. */
	const char *name;
	/** 0 or SL_NODE_F_SOURCE. */
	uint32_t flags;
	/** Called by the walk with the node's pending objects (required). */
	sl_node_process_t process;
	/** Optional, per graph instance. */
	sl_node_init_t init;
	/** Optional, per graph instance. */
	sl_node_fini_t fini;
	/** Names of the edges' destinations, indexed by edge number; the
	 *  edges are those up to the last non-NULL name, with no NULL in
	 *  between. A destination may not be the node itself nor a source. */
	const char *next_nodes[SL_NODE_EDGES_MAX];
};

/**
 * Register a node kind. The description is copied; graphs built later can
 * use it. Thread safe.
 * @param reg The description.
 * @return The node's id (>= 0), or -EINVAL (reg NULL, a bad name or edge
 *   name, no process function, an unknown flag, a NULL edge before the
 *   last one, an edge to the node itself), -EEXIST (the name is taken) or
 *   -ENOMEM. sl_graph_last_error() says what was wrong.
 */
SL_API int sl_node_register(const struct sl_node_register *reg);

/**
 * Register a node from a constructor: SL_NODE_REGISTER(my_node) for a
 * `static struct sl_node_register my_node`. A failure is logged and makes
 * graphs using the node fail to build.
 */
#define SL_NODE_REGISTER(reg)                                                  \
	SL_INIT(__sl_node_register_##reg)                                      \
	{                                                                      \
		(void)sl_node_register(&(reg));                                \
	}

/**
 * @return A message about the last failure of sl_node_register() or
 *   sl_graph_create() in the calling thread ("" after a success), naming
 *   the graph, node, edge or pattern at fault.
 */
SL_API const char *sl_graph_last_error(void);

/**
 * @internal An edge of a node instance: its destination. A struct rather
 * than a bare pointer so that type-based alias analysis can tell loads of
 * edges from the stores of the enqueue helpers (see struct __sl_node_slot).
 */
struct __sl_node_edge {
	struct sl_node *dst;
};

/**
 * A node instance. The layout is public only so that the hot path can be
 * inlined; its fields are not API (use the functions below).
 */
struct sl_node {
	/* ---- cache line 0: the walk and the enqueue helpers ---- */
	void **objs;		   /**< pending objects */
	uint16_t idx;		   /**< number of pending objects */
	uint16_t size;		   /**< room of objs, in objects */
	uint16_t nb_edges;	   /**< number of edges */
	uint16_t index;		   /**< position in the graph, 0-based */
	sl_node_process_t process; /**< the node's function */
	uint64_t calls;		   /**< stats: process calls */
	uint64_t processed;	   /**< stats: sum of process' results */
	uint64_t cycles;	   /**< stats: cycles spent, see the walk */
	uint64_t drops;		   /**< stats: objects not enqueued here */
	uint64_t __pad0;
	/* ---- cache line 1 ---- */
	uint8_t ctx[SL_NODE_CTX_SIZE] __sl_cache_aligned; /**< for the node */
	/* ---- cache line 2: cold, then the edges ---- */
	struct sl_graph *graph; /**< the instance this node belongs to */
	const char *name;	/**< registered name */
	uint32_t id;		/**< registered id */
	uint8_t source;		/**< 1 for a source */
	uint8_t capture;	/**< SL_GRAPH_CAPTURE_* (atomic) */
	uint16_t __pad1;
	struct __sl_node_edge next[]; /**< edge destinations */
};

SL_STATIC_ASSERT(offsetof(struct sl_node, ctx) == SL_CACHE_LINE,
		 "hot node fields must fill cache line 0");
SL_STATIC_ASSERT(offsetof(struct sl_node, graph) == 2 * SL_CACHE_LINE,
		 "node context must be cache line 1");

/**
 * A graph instance. The layout is public only so that the walk can be
 * inlined; its fields are not API. The library's private part follows.
 */
struct sl_graph {
	uint32_t head;		  /**< next pending entry to run */
	uint32_t tail;		  /**< next free pending entry */
	uint32_t mask;		  /**< entries of pending - 1 */
	uint32_t debug;		  /**< non-zero: trace or capture on (atomic) */
	struct sl_node **pending; /**< FIFO of nodes with objects */
	struct sl_node **sources; /**< source nodes, run first */
	uint32_t nb_sources;	  /**< number of sources */
	uint32_t nb_nodes;	  /**< number of nodes */
	uint64_t walks;		  /**< walks done */
	struct __sl_spill *spill; /**< set aside by x1, SL_GRAPH_SPILL */
	uint32_t nb_spill;	  /**< entries in spill */
};

/* ---- graphs ------------------------------------------------------------ */

/**
 * Build a graph instance: the registered nodes whose names match one of
 * the patterns, plus every node they reach through edges. Each node's
 * init runs (sources first, then in the order nodes were reached).
 * @param name Name of the instance, 1 to 31 characters, unique among the
 *   live instances (e.g. "fwd-0", "fwd-1" for two threads' instances).
 * @param patterns fnmatch(3) patterns of node names.
 * @param nb_patterns Number of patterns, at least 1.
 * @return The instance, or NULL with errno EINVAL (bad name, NULL or no
 *   patterns, an edge to a source node), ENOENT (a pattern matches no
 *   node, or an edge names no registered node), EEXIST (an instance has
 *   that name), ENOMEM, or the errno a node's init returned.
 *   sl_graph_last_error() names the pattern, node and edge at fault.
 */
SL_API struct sl_graph *sl_graph_create(const char *name,
					const char *const *patterns,
					unsigned nb_patterns);

/**
 * Destroy an instance: close its capture file, call each node's fini
 * (in reverse order) and free its memory. Objects still pending are
 * dropped, not freed. No thread may walk it any more. NULL is a no-op.
 * @param g The instance.
 */
SL_API void sl_graph_destroy(struct sl_graph *g);

/**
 * @return The live instance of that name, or NULL with errno ENOENT
 *   (EINVAL for a NULL name).
 * @param name Its name.
 */
SL_API struct sl_graph *sl_graph_lookup(const char *name);

/** @return The name of an instance. @param g The instance. */
SL_API const char *sl_graph_name(const struct sl_graph *g);

/** @return The number of nodes of an instance. @param g The instance. */
static inline unsigned
sl_graph_node_count(const struct sl_graph *g)
{
	return g->nb_nodes;
}

/** @return The number of walks done. @param g The instance. */
static inline uint64_t
sl_graph_walk_count(const struct sl_graph *g)
{
	return __atomic_load_n(&g->walks, __ATOMIC_RELAXED);
}

/**
 * @return The i-th node of an instance (sources first), or NULL with
 *   errno ENOENT when i >= sl_graph_node_count().
 * @param g The instance.
 * @param i Its index.
 */
SL_API struct sl_node *sl_graph_node_at(const struct sl_graph *g, unsigned i);

/**
 * @return The node of that name in an instance, or NULL with errno ENOENT
 *   (EINVAL for NULL arguments).
 * @param g The instance.
 * @param name The node's registered name.
 */
SL_API struct sl_node *sl_graph_node_get(const struct sl_graph *g,
					 const char *name);

/**
 * Give objects to a node from outside the walk (before or between walks,
 * in the thread that walks g): they are processed by the next walk.
 * @param g The instance.
 * @param node A node of g that is not a source.
 * @param objs Objects.
 * @param nb_objs Number of objects.
 * @return The number enqueued (the first ones), 0..nb_objs; the others did
 *   not fit and are counted as drops of the node. 0 for bad arguments.
 */
SL_API uint16_t sl_graph_node_enqueue(struct sl_graph *g, struct sl_node *node,
				      void *const *objs, uint16_t nb_objs);

/* ---- nodes ------------------------------------------------------------- */

/** @return The registered name of a node. @param node The node. */
static inline const char *
sl_node_name(const struct sl_node *node)
{
	return node->name;
}

/**
 * @return The context area of a node's instance: SL_NODE_CTX_SIZE bytes,
 *   cache-line aligned, zeroed before init.
 * @param node The node.
 */
static inline void *
sl_node_ctx(struct sl_node *node)
{
	return node->ctx;
}

/** @return The number of edges of a node. @param node The node. */
static inline unsigned
sl_node_edge_count(const struct sl_node *node)
{
	return node->nb_edges;
}

/**
 * @return The destination of one edge, or NULL when next is not an edge.
 * @param node The node.
 * @param next The edge number.
 */
static inline struct sl_node *
sl_node_next(const struct sl_node *node, unsigned next)
{
	return next < node->nb_edges ? node->next[next].dst : NULL;
}

/* ---- internals of the inline hot path (not API) ------------------------ */

/*
 * The stores of sl_node_enqueue_x1() go through these struct types (which
 * is allowed: each has a member of the type stored). Type-based alias
 * analysis then knows that they cannot change a node's or the graph's
 * fields, and a loop of enqueues keeps the destination and its count in
 * registers instead of reloading them after every store (the reload would
 * wait for the store just made: a few cycles per object). For the same
 * reason its rare paths make no call: a full buffer sets the object aside
 * (spill), and the walk appends the spill when the node returns.
 */
/** @internal A slot of a node's buffer. */
struct __sl_node_slot {
	void *obj;
};
/** @internal An entry of the pending FIFO. */
struct __sl_pend_slot {
	struct sl_node *node;
};
/** @internal An object set aside because its destination was full. */
struct __sl_spill {
	struct sl_node *dst;
	void *obj;
};

/** @internal Put a node that just got its first objects in the FIFO. */
static __sl_always_inline void
__sl_graph_pend(struct sl_graph *g, struct sl_node *dst)
{
	((struct __sl_pend_slot *)(void *)g->pending)[g->tail++ & g->mask]
		.node = dst;
}

/**
 * @internal Append the objects set aside by sl_node_enqueue_x1() to their
 * destinations, growing the buffers, in the order they were set aside.
 */
SL_API void __sl_graph_spill_drain(struct sl_graph *g);

/**
 * @internal Grow a node's buffer so that need more objects fit, after
 * appending the spill (which may add to dst: read dst->idx after).
 * @return The room now free (may be less than need: at SL_NODE_OBJS_MAX or
 *   out of memory).
 */
SL_API uint32_t __sl_node_grow(struct sl_graph *g, struct sl_node *dst,
			       uint32_t need);

/**
 * @internal Enqueue when the buffer may be too small: append the spill,
 * grow, queue what fits, count the rest as drops.
 * @return The number enqueued.
 */
SL_API uint16_t __sl_node_enqueue_slow(struct sl_graph *g, struct sl_node *dst,
				       void *const *objs, uint16_t n);

/** @internal The walk with tracing or capture on. */
SL_API void __sl_graph_walk_debug(struct sl_graph *g);

/**
 * @internal Check an edge number (SL_DEBUG only; otherwise always true):
 * objects sent on an edge the node does not have are counted as drops of
 * the sending node.
 */
static __sl_always_inline bool
__sl_node_edge_ok(struct sl_node *node, uint16_t next, uint16_t n)
{
#ifdef SL_DEBUG
	if (unlikely(next >= node->nb_edges)) {
		node->drops += n;
		return false;
	}
#else
	(void)node;
	(void)next;
	(void)n;
#endif
	return true;
}

/**
 * @internal Queue one object at dst without a call (see struct
 * __sl_node_slot): in its buffer, else in the spill. @return 1 or 0.
 */
static __sl_always_inline uint16_t
__sl_node_put1(struct sl_graph *g, struct sl_node *dst, void *obj)
{
	struct __sl_node_slot *slots =
		(struct __sl_node_slot *)(void *)dst->objs;
	uint16_t idx = dst->idx;
	struct __sl_spill *sp;

	/* 0 < idx < size: one test (idx 0 wraps round) */
	if (likely((uint32_t)idx - 1 < (uint32_t)dst->size - 1)) {
		slots[idx].obj = obj;
		dst->idx = idx + 1;
		return 1;
	}
	if (idx == 0) {
		/* the first object: every buffer has room for one */
		__sl_graph_pend(g, dst);
		slots[0].obj = obj;
		dst->idx = 1;
		return 1;
	}
	if (likely(g->nb_spill < SL_GRAPH_SPILL)) {
		sp = &g->spill[g->nb_spill++];
		sp->dst = dst;
		sp->obj = obj;
		return 1;
	}
	dst->drops++;
	return 0;
}

/* ---- enqueue (inside a process function) ------------------------------- */

/**
 * Pass one object along an edge. It never allocates nor calls: when the
 * destination's buffer is full, the object is set aside and appended when
 * the calling node returns (the buffer grows then), keeping the order. A
 * node call can set aside up to SL_GRAPH_SPILL objects that way; a node
 * that may emit more objects than its buffers hold (e.g. one that
 * replicates a burst) should use sl_node_enqueue() or the stream functions.
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number.
 * @param obj The object.
 * @return 1, or 0 when it could not be queued nor set aside (counted as a
 *   drop of the destination; the caller still owns obj).
 */
static __sl_always_inline uint16_t
sl_node_enqueue_x1(struct sl_graph *g, struct sl_node *node, uint16_t next,
		   void *obj)
{
	if (!__sl_node_edge_ok(node, next, 1))
		return 0;
	return __sl_node_put1(g, node->next[next].dst, obj);
}

/**
 * Pass four objects along the same edge; like sl_node_enqueue_x1(), it
 * never allocates nor calls.
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number.
 * @param obj0 First object.
 * @param obj1 Second object.
 * @param obj2 Third object.
 * @param obj3 Fourth object.
 * @return 4, or fewer when some could not be queued nor set aside: the
 *   first ones were, the others are counted as drops of the destination.
 */
static __sl_always_inline uint16_t
sl_node_enqueue_x4(struct sl_graph *g, struct sl_node *node, uint16_t next,
		   void *obj0, void *obj1, void *obj2, void *obj3)
{
	struct __sl_node_slot *o;
	struct sl_node *dst;
	uint16_t idx;

	if (!__sl_node_edge_ok(node, next, 4))
		return 0;
	dst = node->next[next].dst;
	idx = dst->idx;
	/* 0 < idx and room for four: one test (idx 0 wraps round) */
	if (unlikely((uint32_t)idx - 1 >= (uint32_t)dst->size - 4)) {
		/* once one fails (the spill is full) the next ones do */
		return (uint16_t)(__sl_node_put1(g, dst, obj0) +
				  __sl_node_put1(g, dst, obj1) +
				  __sl_node_put1(g, dst, obj2) +
				  __sl_node_put1(g, dst, obj3));
	}
	o = (struct __sl_node_slot *)(void *)dst->objs + idx;
	o[0].obj = obj0;
	o[1].obj = obj1;
	o[2].obj = obj2;
	o[3].obj = obj3;
	dst->idx = idx + 4;
	return 4;
}

/**
 * Pass a burst along one edge (copying the pointers).
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number.
 * @param objs The objects.
 * @param nb_objs Number of objects.
 * @return nb_objs, or fewer when they did not fit (the first ones were
 *   enqueued, the others counted as drops of the destination).
 */
static __sl_always_inline uint16_t
sl_node_enqueue(struct sl_graph *g, struct sl_node *node, uint16_t next,
		void *const *objs, uint16_t nb_objs)
{
	struct sl_node *dst;
	uint16_t idx;

	if (!__sl_node_edge_ok(node, next, nb_objs))
		return 0;
	dst = node->next[next].dst;
	idx = dst->idx;
	if (unlikely((uint32_t)idx + nb_objs > dst->size))
		return __sl_node_enqueue_slow(g, dst, objs, nb_objs);
	if (idx == 0) {
		if (nb_objs == 0)
			return 0;
		__sl_graph_pend(g, dst);
	}
	memcpy(dst->objs + idx, objs, (size_t)nb_objs * sizeof(void *));
	dst->idx = idx + nb_objs;
	return nb_objs;
}

/**
 * Pass the whole burst this node was called with along one edge: when the
 * destination has nothing pending, the two nodes swap their buffers and no
 * pointer is copied; otherwise the burst is appended as by
 * sl_node_enqueue(). After the call the node must not read its objs array
 * any more (it now belongs to the destination) and has no burst left: call
 * it at most once, as the node's last step. A source has no burst: 0.
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number.
 * @return The number of objects passed on.
 */
static __sl_always_inline uint16_t
sl_node_next_stream_move(struct sl_graph *g, struct sl_node *node,
			 uint16_t next)
{
	struct sl_node *dst;
	uint16_t n = node->idx, size;
	void **objs;

	if (!__sl_node_edge_ok(node, next, n))
		return 0;
	dst = node->next[next].dst;
	objs = node->objs;
	if (likely(dst->idx == 0)) {
		if (unlikely(n == 0))
			return 0;
		size = node->size;
		node->objs = dst->objs;
		node->size = dst->size;
		node->idx = 0;
		dst->objs = objs;
		dst->size = size;
		dst->idx = n;
		__sl_graph_pend(g, dst);
		return n;
	}
	node->idx = 0;
	return sl_node_enqueue(g, node, next, objs, n);
}

/**
 * Room for nb_objs objects at the end of the destination's buffer, to
 * fill in place (an RX node receives straight into it), then publish them
 * with sl_node_next_stream_put().
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number.
 * @param nb_objs Room wanted.
 * @return The room, or NULL when the buffer cannot grow that much (at
 *   SL_NODE_OBJS_MAX, or out of memory).
 */
static __sl_always_inline void **
sl_node_next_stream_get(struct sl_graph *g, struct sl_node *node, uint16_t next,
			uint16_t nb_objs)
{
	struct sl_node *dst;

	if (!__sl_node_edge_ok(node, next, 0))
		return NULL;
	dst = node->next[next].dst;
	if (unlikely((uint32_t)dst->idx + nb_objs > dst->size) &&
	    __sl_node_grow(g, dst, nb_objs) < nb_objs)
		return NULL;
	return dst->objs + dst->idx;
}

/**
 * Publish objects written into the room sl_node_next_stream_get() gave.
 * @param g The graph being walked.
 * @param node The calling node.
 * @param next The edge number (the same).
 * @param nb_objs Objects written, at most the room asked for.
 */
static __sl_always_inline void
sl_node_next_stream_put(struct sl_graph *g, struct sl_node *node, uint16_t next,
			uint16_t nb_objs)
{
	struct sl_node *dst;

	if (!__sl_node_edge_ok(node, next, nb_objs))
		return;
	dst = node->next[next].dst;
	if (nb_objs == 0)
		return;
	if (dst->idx == 0)
		__sl_graph_pend(g, dst);
	dst->idx += nb_objs;
}

/* ---- the walk ---------------------------------------------------------- */

/** @internal Run one node; t0 is when its time started. @return now. */
static __sl_always_inline uint64_t
__sl_node_run(struct sl_graph *g, struct sl_node *node, uint64_t t0)
{
	uint64_t t1;
	uint16_t rc;

	rc = node->process(g, node, node->objs, node->idx);
	node->idx = 0;
	if (unlikely(g->nb_spill != 0))
		__sl_graph_spill_drain(g);
	t1 = sl_tsc();
	node->cycles += t1 - t0;
	node->calls++;
	node->processed += rc;
	return t1;
}

/**
 * Walk an instance once: call every source node, then every node with
 * pending objects, until none has any. Only one thread may walk an
 * instance at a time. A node's cycles are counted from the end of the
 * previous node's call (one counter read per node call): they include its
 * share of the walk itself.
 * @param g The instance.
 */
static inline void
sl_graph_walk(struct sl_graph *g)
{
	struct sl_node **const pending = g->pending;
	struct sl_node **const sources = g->sources;
	const uint32_t mask = g->mask, nb_sources = g->nb_sources;
	uint32_t head, i;
	uint64_t t;

	if (unlikely(__atomic_load_n(&g->debug, __ATOMIC_RELAXED) != 0)) {
		__sl_graph_walk_debug(g);
		return;
	}
	t = sl_tsc();
	for (i = 0; i < nb_sources; i++)
		t = __sl_node_run(g, sources[i], t);
	/* only the walk takes from the FIFO: its head stays in a register;
	 * the nodes append at g->tail */
	head = g->head;
	while (head != g->tail)
		t = __sl_node_run(g, pending[head++ & mask], t);
	g->head = head;
	g->walks++;
}

/* ---- statistics -------------------------------------------------------- */

/** Statistics of one node in one instance, or summed over instances. */
struct sl_node_stats {
	uint64_t calls;	 /**< process calls (a source: one per walk) */
	uint64_t objs;	 /**< sum of what process returned */
	uint64_t cycles; /**< cycles spent in the node (see sl_graph_walk()) */
	uint64_t drops;	 /**< objects that did not fit in its buffer (and,
			  *  with SL_DEBUG, objects it sent on a bad edge) */
};

/**
 * Read a node's statistics in one instance (from any thread: each counter
 * is read atomically, the set is not a snapshot).
 * @param g The instance.
 * @param node The node's name.
 * @param st Filled.
 * @return 0, -EINVAL (NULL argument) or -ENOENT (no such node in g).
 */
SL_API int sl_graph_node_stats(const struct sl_graph *g, const char *node,
			       struct sl_node_stats *st);

/**
 * Sum a node's statistics over every live instance whose name matches a
 * pattern (e.g. over each thread's instance of the same graph).
 * @param graph_pattern fnmatch(3) pattern of instance names; NULL: all.
 * @param node The node's name.
 * @param sum Filled (zero when no instance has the node).
 * @return The number of instances summed (>= 1), -EINVAL (NULL node or
 *   sum) or -ENOENT (no matching instance has the node).
 */
SL_API int sl_graph_stats_sum(const char *graph_pattern, const char *node,
			      struct sl_node_stats *sum);

/**
 * Zero the statistics of every node of an instance (from the thread that
 * walks it, or while no thread does).
 * @param g The instance.
 */
SL_API void sl_graph_stats_reset(struct sl_graph *g);

/**
 * Print a table of an instance's node statistics: name, calls, objects,
 * objects per call, cycles per object, drops.
 * @param g The instance.
 * @param f Where to.
 * @return 0, -EINVAL or -EIO (a write failed).
 */
SL_API int sl_graph_stats_dump(const struct sl_graph *g, FILE *f);

/* ---- DOT export -------------------------------------------------------- */

/**
 * Write an instance as a Graphviz digraph: one statement per node
 * (sources drawn as double circles) and one per edge, labelled with the
 * edge number: `"a" -> "b" [label="0"];`. `dot -Tsvg` draws it.
 * @param g The instance.
 * @param f Where to.
 * @return 0, -EINVAL or -EIO (a write failed).
 */
SL_API int sl_graph_export_dot(const struct sl_graph *g, FILE *f);

/* ---- tracing ----------------------------------------------------------- */

/**
 * Record the path of every object: each time a node is given an object (a
 * source: passes one on), the walk number, the object's pointer and the
 * node go into a ring of nb_records records (the oldest are overwritten).
 * Walks take the slower debug path while tracing is on. Call from the
 * thread that walks g, or while no thread does. Enabling again clears
 * the ring.
 * @param g The instance.
 * @param nb_records Records kept, rounded up to a power of 2 (at most
 *   2^24).
 * @return 0, -EINVAL (g NULL, nb_records 0 or too large) or -ENOMEM.
 */
SL_API int sl_graph_trace_enable(struct sl_graph *g, uint32_t nb_records);

/**
 * Stop tracing and free the ring (same thread rule). A no-op when off.
 * @param g The instance.
 */
SL_API void sl_graph_trace_disable(struct sl_graph *g);

/**
 * The path of an object in the latest walk that recorded it: the nodes
 * in the order it went through them.
 * @param g The instance.
 * @param obj The object (a packet's pointer).
 * @param path Filled with the first max nodes of the path.
 * @param max Room of path.
 * @param walk If not NULL, set to the walk's number (0-based).
 * @return The length of the path (may exceed max), -EINVAL (tracing off,
 *   NULL g or path with max > 0) or -ENOENT (no record of obj).
 */
SL_API int sl_graph_trace_path(const struct sl_graph *g, const void *obj,
			       struct sl_node **path, unsigned max,
			       uint64_t *walk);

/**
 * Print every object's path in the ring, walk by walk, one line per object
 * in the order objects first appear: `walk 3 obj 0x... : rx -> ip4 ->
 * tx`. Paths whose oldest records were overwritten start late.
 * @param g The instance.
 * @param f Where to.
 * @return 0, -EINVAL (tracing off or NULL argument), -ENOMEM or -EIO.
 */
SL_API int sl_graph_trace_dump(const struct sl_graph *g, FILE *f);

/* ---- capture ----------------------------------------------------------- */

/**
 * Open a pcap file (tcpdump's format, via libpcap) for the packets of the
 * nodes chosen with sl_graph_capture_node(). Objects of a captured node
 * must be struct sl_mbuf pointers; chains are written as one packet.
 * Call from the thread that walks g, or while no thread does.
 * @param g The instance.
 * @param path The file, created or truncated.
 * @param linktype The packets' first header: SL_GRAPH_DLT_EN10MB,
 *   SL_GRAPH_DLT_RAW or another DLT_ value of pcap-linktype(7).
 * @param snaplen Bytes kept per packet; 0 means 65535.
 * @return 0, -EINVAL (NULL argument, snaplen > 262144), -EBUSY (a file is
 *   open already), -ENOMEM, or -EIO (libpcap could not open the file; the
 *   log has its message).
 */
SL_API int sl_graph_capture_open(struct sl_graph *g, const char *path,
				 int linktype, uint32_t snaplen);

/**
 * Choose what one node captures; from any thread, at any time, while a
 * file is open.
 * @param g The instance.
 * @param node The node's name.
 * @param dirs SL_GRAPH_CAPTURE_IN and/or SL_GRAPH_CAPTURE_OUT, or 0 to
 *   stop capturing at this node.
 * @return 0, -EINVAL (NULL argument, unknown bit), -ENOENT (no such
 *   node) or -EBADF (no capture file is open).
 */
SL_API int sl_graph_capture_node(struct sl_graph *g, const char *node,
				 unsigned dirs);

/**
 * Stop capturing at every node, flush and close the file (same thread rule
 * as sl_graph_capture_open()).
 * @param g The instance.
 * @return The number of packets written, -EINVAL, -EBADF (no file open)
 *   or -EIO (flushing failed: the file is incomplete).
 */
SL_API ssize_t sl_graph_capture_close(struct sl_graph *g);

#ifdef __cplusplus
}
#endif
#endif /* SL_GRAPH_H */
