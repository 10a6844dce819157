/*
 * The debug walk, taken while tracing or capture is on, and the trace
 * ring. The debug walk runs nodes in the same order as sl_graph_walk();
 * around each call it records the objects the node is given and, when
 * asked, the objects it passes on: those are the entries its call added
 * to its destinations' buffers (only the running node writes to them, and
 * a stream move leaves the moved burst at the start of the destination's
 * buffer, so "entries from the old count up" covers both cases).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "graph_private.h"

static inline void
trace_add(struct graph_priv *gp, const void *obj, uint32_t node)
{
	struct graph_trace_rec *r =
		&gp->trace[gp->trace_pos++ & gp->trace_mask];

	r->obj = obj;
	r->walk = gp->g.walks;
	r->node = node;
}

/* Run one node with tracing and capture around it. @return now. */
static uint64_t
debug_run(struct graph_priv *gp, struct sl_node *node)
{
	const struct graph_aux *aux = &gp->aux[node->index];
	unsigned cap = __atomic_load_n(&node->capture, __ATOMIC_RELAXED);
	bool tr = gp->trace != NULL, out;
	uint16_t i, k;

	if (gp->cap == NULL)
		cap = 0;
	out = (cap & SL_GRAPH_CAPTURE_OUT) || (tr && node->source);
	if (out)
		for (i = 0; i < aux->nb_succ; i++)
			gp->aux[aux->succ[i]->index].snap = aux->succ[i]->idx;
	if (node->idx != 0) {
		if (cap & SL_GRAPH_CAPTURE_IN)
			graph_capture_write(gp, node->objs, node->idx);
		if (tr)
			for (k = 0; k < node->idx; k++)
				trace_add(gp, node->objs[k], node->index);
	}
	/* the node's cycles leave the recording out */
	(void)__sl_node_run(&gp->g, node, sl_tsc());
	if (out) {
		for (i = 0; i < aux->nb_succ; i++) {
			struct sl_node *s = aux->succ[i];
			uint16_t from = gp->aux[s->index].snap;

			if (s->idx <= from)
				continue;
			if (cap & SL_GRAPH_CAPTURE_OUT)
				graph_capture_write(gp, s->objs + from,
						    s->idx - from);
			if (tr && node->source)
				for (k = from; k < s->idx; k++)
					trace_add(gp, s->objs[k], node->index);
		}
	}
	return sl_tsc();
}

void
__sl_graph_walk_debug(struct sl_graph *g)
{
	struct graph_priv *gp = graph_priv(g);
	uint32_t i;

	for (i = 0; i < g->nb_sources; i++)
		(void)debug_run(gp, g->sources[i]);
	while (g->head != g->tail)
		(void)debug_run(gp, g->pending[g->head++ & g->mask]);
	g->walks++;
}

/* ---- the trace ring ---------------------------------------------------- */

#define TRACE_RECORDS_MAX (1u << 24)

void
graph_trace_free(struct graph_priv *gp)
{
	free(gp->trace);
	gp->trace = NULL;
	gp->trace_mask = 0;
	gp->trace_pos = 0;
}

int
sl_graph_trace_enable(struct sl_graph *g, uint32_t nb_records)
{
	struct graph_priv *gp;
	struct graph_trace_rec *t;
	uint32_t n;

	if (g == NULL || nb_records == 0 || nb_records > TRACE_RECORDS_MAX)
		return -EINVAL;
	gp = graph_priv(g);
	n = sl_align32pow2(nb_records);
	t = calloc(n, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&gp->lock);
	free(gp->trace);
	gp->trace = t;
	gp->trace_mask = n - 1;
	gp->trace_pos = 0;
	graph_debug_update(gp);
	pthread_mutex_unlock(&gp->lock);
	return 0;
}

void
sl_graph_trace_disable(struct sl_graph *g)
{
	struct graph_priv *gp;

	if (g == NULL)
		return;
	gp = graph_priv(g);
	pthread_mutex_lock(&gp->lock);
	graph_trace_free(gp);
	graph_debug_update(gp);
	pthread_mutex_unlock(&gp->lock);
}

/* The records in the ring, oldest first: [first, first + n). */
static void
trace_span(const struct graph_priv *gp, uint64_t *first, uint64_t *n)
{
	uint64_t size = (uint64_t)gp->trace_mask + 1;

	*n = gp->trace_pos < size ? gp->trace_pos : size;
	*first = gp->trace_pos - *n;
}

static inline const struct graph_trace_rec *
trace_at(const struct graph_priv *gp, uint64_t pos)
{
	return &gp->trace[pos & gp->trace_mask];
}

int
sl_graph_trace_path(const struct sl_graph *g, const void *obj,
		    struct sl_node **path, unsigned max, uint64_t *walk)
{
	const struct graph_priv *gp;
	const struct graph_trace_rec *r;
	uint64_t first, n, pos, last_walk = 0;
	unsigned len = 0;
	bool found = false;

	if (g == NULL || (path == NULL && max != 0))
		return -EINVAL;
	gp = graph_priv_const(g);
	if (gp->trace == NULL)
		return -EINVAL;
	trace_span(gp, &first, &n);
	/* walks only grow along the ring: the last record has the latest */
	for (pos = first; pos < first + n; pos++) {
		r = trace_at(gp, pos);
		if (r->obj == obj) {
			last_walk = r->walk;
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	for (pos = first; pos < first + n; pos++) {
		r = trace_at(gp, pos);
		if (r->obj != obj || r->walk != last_walk)
			continue;
		if (len < max)
			path[len] = gp->nodes[r->node];
		len++;
	}
	if (walk != NULL)
		*walk = last_walk;
	return (int)SL_MIN(len, (unsigned)INT32_MAX);
}

/* Records of one walk sorted by object, then by position. */
struct trace_key {
	const void *obj;
	uint64_t pos;
};

/* A path: the keys [start, end) of one object, first seen at pos. */
struct trace_run {
	uint64_t pos;
	uint32_t start, end;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct trace_key *x = a, *y = b;

	if (x->obj != y->obj)
		return (uintptr_t)x->obj < (uintptr_t)y->obj ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
run_cmp(const void *a, const void *b)
{
	const struct trace_run *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Print the paths of the records [from, to) of one walk. */
static void
trace_dump_walk(const struct graph_priv *gp, FILE *f, uint64_t from,
		uint64_t to, struct trace_key *keys, struct trace_run *runs)
{
	uint32_t n = (uint32_t)(to - from), i, j, nruns = 0;
	uint64_t walk = trace_at(gp, from)->walk;

	for (i = 0; i < n; i++) {
		keys[i].obj = trace_at(gp, from + i)->obj;
		keys[i].pos = from + i;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && keys[j].obj == keys[i].obj; j++)
			;
		runs[nruns].pos = keys[i].pos;
		runs[nruns].start = i;
		runs[nruns].end = j;
		nruns++;
	}
	qsort(runs, nruns, sizeof(*runs), run_cmp);
	for (i = 0; i < nruns; i++) {
		fprintf(f, "walk %" PRIu64 " obj %p:", walk,
			(void *)(uintptr_t)keys[runs[i].start].obj);
		for (j = runs[i].start; j < runs[i].end; j++)
			fprintf(f, "%s %s", j == runs[i].start ? "" : " ->",
				gp->nodes[trace_at(gp, keys[j].pos)->node]
					->name);
		fputc('\n', f);
	}
}

int
sl_graph_trace_dump(const struct sl_graph *g, FILE *f)
{
	const struct graph_priv *gp;
	struct trace_key *keys;
	struct trace_run *runs;
	uint64_t first, n, from, to;

	if (g == NULL || f == NULL)
		return -EINVAL;
	gp = graph_priv_const(g);
	if (gp->trace == NULL)
		return -EINVAL;
	trace_span(gp, &first, &n);
	keys = malloc((n != 0 ? n : 1) * sizeof(*keys));
	runs = malloc((n != 0 ? n : 1) * sizeof(*runs));
	if (keys == NULL || runs == NULL) {
		free(keys);
		free(runs);
		return -ENOMEM;
	}
	for (from = first; from < first + n; from = to) {
		uint64_t walk = trace_at(gp, from)->walk;

		for (to = from + 1;
		     to < first + n && trace_at(gp, to)->walk == walk; to++)
			;
		trace_dump_walk(gp, f, from, to, keys, runs);
	}
	free(keys);
	free(runs);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
