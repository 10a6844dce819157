/*
 * Internals of the graph engine shared by its files: the node registry's
 * entries, the private part of an instance, tracing and capture state.
 * Not installed.
 */
#ifndef SL_GRAPH_PRIVATE_H
#define SL_GRAPH_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sluice/sl_graph.h"

/** Bits of sl_graph.debug: why the debug walk runs. */
#define GRAPH_DEBUG_TRACE 0x1u
#define GRAPH_DEBUG_CAPTURE 0x2u

/** A registered node kind; never freed or changed once registered. */
struct graph_reg {
	char name[SL_NODE_NAMESIZE];
	uint32_t id;
	uint32_t flags;
	sl_node_process_t process;
	sl_node_init_t init;
	sl_node_fini_t fini;
	uint16_t nb_edges;
	char edges[SL_NODE_EDGES_MAX][SL_NODE_NAMESIZE];
};

/** Per-node state of the debug walk. */
struct graph_aux {
	const struct graph_reg *reg; /* the node's registration */
	struct sl_node **succ;	     /* distinct edge destinations */
	uint16_t nb_succ;
	uint16_t snap; /* idx before the running predecessor's call */
};

/** One trace record: obj was given to node (a source: passed on by it). */
struct graph_trace_rec {
	const void *obj;
	uint64_t walk;
	uint32_t node; /* index in the instance */
	uint32_t __pad;
};

struct graph_capture; /* graph_capture.c */

/** An instance: the public hot part, then the rest. */
struct graph_priv {
	struct sl_graph g; /* first: sl_graph pointers are graph_priv ones */
	char name[SL_GRAPH_NAMESIZE];
	struct sl_node **nodes; /* every node, sources first */
	void *node_mem;		/* the block holding the node instances */
	struct graph_aux *aux;	/* per node, same index */
	struct sl_node **succ_mem;
	pthread_mutex_t lock; /* capture flags and the debug bits */
	unsigned nb_capture;  /* nodes with capture flags */
	/* tracing (owned by the walking thread) */
	struct graph_trace_rec *trace;
	uint32_t trace_mask;
	uint64_t trace_pos; /* records written, free-running */
	/* capture */
	struct graph_capture *cap;
	struct graph_priv *list_next; /* live instances */
};

static inline struct graph_priv *
graph_priv(struct sl_graph *g)
{
	return (struct graph_priv *)g;
}

static inline const struct graph_priv *
graph_priv_const(const struct sl_graph *g)
{
	return (const struct graph_priv *)g;
}

/* graph_debug.c */
void graph_trace_free(struct graph_priv *gp);

/* graph_capture.c */
/** Write the packets objs[0..n) (struct sl_mbuf *) to the capture file. */
void graph_capture_write(struct graph_priv *gp, void *const *objs, uint32_t n);
/** Close the capture file, if open. @return packets written or -errno. */
ssize_t graph_capture_end(struct graph_priv *gp);
/** Set the debug bits from the trace and capture state (lock held). */
void graph_debug_update(struct graph_priv *gp);

#endif /* SL_GRAPH_PRIVATE_H */
