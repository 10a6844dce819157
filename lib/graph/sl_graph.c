/*
 * The graph engine's control plane: the node registry, building and
 * destroying instances, node buffers that grow, statistics and the DOT
 * export. The walk and the enqueue helpers are inline in sl_graph.h; the
 * debug walk and tracing are in graph_debug.c, capture in
 * graph_capture.c.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_LOG_MODULE "graph"
#include "sluice/sl_log.h"

#include "graph_private.h"

/* ---- errors ------------------------------------------------------------ */

static __thread char graph_errbuf[256];

static void __attribute__((format(printf, 1, 2)))
graph_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(graph_errbuf, sizeof(graph_errbuf), fmt, ap);
	va_end(ap);
	SL_ERR("%s", graph_errbuf);
}

const char *
sl_graph_last_error(void)
{
	return graph_errbuf;
}

/* 1 to size - 1 characters of [A-Za-z0-9_.:-] */
static bool
graph_name_ok(const char *s, size_t size)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i + 1 >= size)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == ':' || c == '-'))
			return false;
	}
	return true;
}

static const char *
str_or_null(const char *s)
{
	return s != NULL ? s : "(null)";
}

/* ---- registry ---------------------------------------------------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct graph_reg **regs; /* index == id */
static uint32_t nb_regs, cap_regs;

/* reg_lock held */
static struct graph_reg *
reg_find(struct graph_reg *const *tab, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i]->name, name) == 0)
			return tab[i];
	return NULL;
}

static int
reg_check(const struct sl_node_register *r, uint16_t *nb_edges)
{
	const char *name;
	unsigned i, n = 0;

	if (r == NULL) {
		graph_err("node registration: NULL description");
		return -EINVAL;
	}
	name = r->name;
	if (!graph_name_ok(name, SL_NODE_NAMESIZE)) {
		graph_err("node '%s': bad name (1 to %d characters of "
			  "[A-Za-z0-9_.:-])",
			  str_or_null(name), SL_NODE_NAMESIZE - 1);
		return -EINVAL;
	}
	if (r->process == NULL) {
		graph_err("node '%s': no process function", name);
		return -EINVAL;
	}
	if ((r->flags & ~SL_NODE_F_SOURCE) != 0) {
		graph_err("node '%s': unknown flags 0x%x", name,
			  r->flags & ~SL_NODE_F_SOURCE);
		return -EINVAL;
	}
	for (i = 0; i < SL_NODE_EDGES_MAX; i++)
		if (r->next_nodes[i] != NULL)
			n = i + 1;
	for (i = 0; i < n; i++) {
		const char *e = r->next_nodes[i];

		if (e == NULL) {
			graph_err("node '%s': edge %u has no destination "
				  "(edges are numbered without holes)",
				  name, i);
			return -EINVAL;
		}
		if (!graph_name_ok(e, SL_NODE_NAMESIZE)) {
			graph_err("node '%s': edge %u: bad node name '%s'",
				  name, i, e);
			return -EINVAL;
		}
		if (strcmp(e, name) == 0) {
			graph_err("node '%s': edge %u leads to the node itself",
				  name, i);
			return -EINVAL;
		}
	}
	*nb_edges = (uint16_t)n;
	return 0;
}

int
sl_node_register(const struct sl_node_register *r)
{
	struct graph_reg *reg, **tab;
	uint16_t nb_edges = 0, i;
	int err;

	graph_errbuf[0] = '\0';
	err = reg_check(r, &nb_edges);
	if (err < 0)
		return err;
	reg = calloc(1, sizeof(*reg));
	if (reg == NULL) {
		graph_err("node '%s': out of memory", r->name);
		return -ENOMEM;
	}
	snprintf(reg->name, sizeof(reg->name), "%s", r->name);
	reg->flags = r->flags;
	reg->process = r->process;
	reg->init = r->init;
	reg->fini = r->fini;
	reg->nb_edges = nb_edges;
	for (i = 0; i < nb_edges; i++)
		snprintf(reg->edges[i], sizeof(reg->edges[i]), "%s",
			 r->next_nodes[i]);

	pthread_mutex_lock(&reg_lock);
	if (reg_find(regs, nb_regs, reg->name) != NULL) {
		err = -EEXIST;
		goto unlock;
	}
	if (nb_regs == cap_regs) {
		uint32_t cap = cap_regs != 0 ? 2 * cap_regs : 64;

		tab = realloc(regs, cap * sizeof(*tab));
		if (tab == NULL) {
			err = -ENOMEM;
			goto unlock;
		}
		regs = tab;
		cap_regs = cap;
	}
	reg->id = nb_regs;
	regs[nb_regs++] = reg;
	pthread_mutex_unlock(&reg_lock);
	return (int)reg->id;
unlock:
	pthread_mutex_unlock(&reg_lock);
	if (err == -EEXIST)
		graph_err("node '%s': a node of that name is registered",
			  reg->name);
	else
		graph_err("node '%s': out of memory", reg->name);
	free(reg);
	return err;
}

/* ---- live instances ---------------------------------------------------- */

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct graph_priv *graphs;

/* list_lock held */
static struct graph_priv *
list_find(const char *name)
{
	struct graph_priv *gp;

	for (gp = graphs; gp != NULL; gp = gp->list_next)
		if (strcmp(gp->name, name) == 0)
			return gp;
	return NULL;
}

/* ---- building an instance ---------------------------------------------- */

/* What sl_graph_create() works on before the instance exists. */
struct graph_build {
	const char *name;
	struct graph_reg **tab; /* snapshot of the registry */
	uint32_t nb_tab;
	uint8_t *in;		/* by id: selected */
	struct graph_reg **sel; /* selected, in the order reached */
	uint32_t nb_sel;
};

static void
build_add(struct graph_build *b, struct graph_reg *r)
{
	if (!b->in[r->id]) {
		b->in[r->id] = 1;
		b->sel[b->nb_sel++] = r;
	}
}

/* Select the nodes of the patterns and everything they reach. */
static int
build_select(struct graph_build *b, const char *const *patterns,
	     unsigned nb_patterns)
{
	uint32_t i, k, matched;
	unsigned p, e;

	for (p = 0; p < nb_patterns; p++) {
		matched = 0;
		for (i = 0; i < b->nb_tab; i++) {
			if (fnmatch(patterns[p], b->tab[i]->name, 0) == 0) {
				build_add(b, b->tab[i]);
				matched++;
			}
		}
		if (matched == 0) {
			graph_err("graph '%s': pattern '%s' matches no "
				  "registered node",
				  b->name, patterns[p]);
			return -ENOENT;
		}
	}
	/* breadth first: sel grows while it is scanned */
	for (k = 0; k < b->nb_sel; k++) {
		struct graph_reg *r = b->sel[k];

		for (e = 0; e < r->nb_edges; e++) {
			struct graph_reg *d =
				reg_find(b->tab, b->nb_tab, r->edges[e]);

			if (d == NULL) {
				graph_err("graph '%s': node '%s' edge %u "
					  "('%s'): no node of that name is "
					  "registered",
					  b->name, r->name, e, r->edges[e]);
				return -ENOENT;
			}
			if (d->flags & SL_NODE_F_SOURCE) {
				graph_err("graph '%s': node '%s' edge %u "
					  "('%s'): leads to a source node",
					  b->name, r->name, e, r->edges[e]);
				return -EINVAL;
			}
			build_add(b, d);
		}
	}
	return 0;
}

/* Bytes of one node instance with its edges, a whole number of lines. */
static size_t
node_inst_size(const struct graph_reg *r)
{
	return sl_align_ceil(offsetof(struct sl_node, next) +
				     (size_t)r->nb_edges *
					     sizeof(struct __sl_node_edge),
			     SL_CACHE_LINE);
}

static void
graph_free_mem(struct graph_priv *gp)
{
	uint32_t i;

	if (gp->nodes != NULL)
		for (i = 0; i < gp->g.nb_nodes; i++)
			if (gp->nodes[i] != NULL)
				free(gp->nodes[i]->objs);
	free(gp->node_mem);
	free(gp->nodes);
	free(gp->aux);
	free(gp->succ_mem);
	free(gp->g.pending);
	free(gp->g.spill);
	free(gp->g.sources);
	pthread_mutex_destroy(&gp->lock);
	free(gp);
}

/* Allocate the instance for the selected nodes, sources first. */
static struct graph_priv *
graph_alloc(struct graph_build *b)
{
	struct graph_priv *gp;
	struct sl_node **by_id = NULL;
	struct graph_reg **order = NULL;
	uint32_t n = b->nb_sel, i, k, nsrc = 0, nsucc = 0, e;
	size_t total = 0, off;
	char *mem;

	gp = aligned_alloc(SL_CACHE_LINE,
			   sl_align_ceil(sizeof(*gp), SL_CACHE_LINE));
	if (gp == NULL)
		return NULL;
	memset(gp, 0, sizeof(*gp));
	pthread_mutex_init(&gp->lock, NULL);
	snprintf(gp->name, sizeof(gp->name), "%s", b->name);
	gp->g.nb_nodes = n;

	order = malloc(n * sizeof(*order));
	by_id = calloc(b->nb_tab, sizeof(*by_id));
	gp->nodes = calloc(n, sizeof(*gp->nodes));
	gp->aux = calloc(n, sizeof(*gp->aux));
	gp->g.mask = sl_align32pow2(n) - 1;
	gp->g.pending = calloc(gp->g.mask + 1, sizeof(*gp->g.pending));
	gp->g.spill = calloc(SL_GRAPH_SPILL, sizeof(*gp->g.spill));
	if (order == NULL || by_id == NULL || gp->nodes == NULL ||
	    gp->aux == NULL || gp->g.pending == NULL || gp->g.spill == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (b->sel[i]->flags & SL_NODE_F_SOURCE)
			order[nsrc++] = b->sel[i];
	k = nsrc;
	for (i = 0; i < n; i++)
		if (!(b->sel[i]->flags & SL_NODE_F_SOURCE))
			order[k++] = b->sel[i];
	gp->g.nb_sources = nsrc;
	gp->g.sources = calloc(nsrc != 0 ? nsrc : 1, sizeof(*gp->g.sources));
	if (gp->g.sources == NULL)
		goto fail;

	for (i = 0; i < n; i++) {
		total += node_inst_size(order[i]);
		nsucc += order[i]->nb_edges;
	}
	gp->node_mem = aligned_alloc(SL_CACHE_LINE, total);
	gp->succ_mem = calloc(nsucc != 0 ? nsucc : 1, sizeof(*gp->succ_mem));
	if (gp->node_mem == NULL || gp->succ_mem == NULL)
		goto fail;
	memset(gp->node_mem, 0, total);
	mem = gp->node_mem;
	for (i = 0, off = 0; i < n; i++) {
		struct sl_node *node = (struct sl_node *)(void *)(mem + off);
		const struct graph_reg *r = order[i];

		off += node_inst_size(r);
		node->index = (uint16_t)i;
		node->process = r->process;
		node->nb_edges = r->nb_edges;
		node->graph = &gp->g;
		node->name = r->name;
		node->id = r->id;
		node->source = (r->flags & SL_NODE_F_SOURCE) != 0;
		if (!node->source) {
			node->objs = aligned_alloc(
				SL_CACHE_LINE, SL_GRAPH_BURST * sizeof(void *));
			if (node->objs == NULL)
				goto fail;
			node->size = SL_GRAPH_BURST;
		}
		gp->nodes[i] = node;
		by_id[r->id] = node;
		if (node->source)
			gp->g.sources[i] = node; /* sources are 0..nsrc-1 */
	}
	/* edges, and each node's distinct destinations for the debug walk */
	for (i = 0, k = 0; i < n; i++) {
		struct sl_node *node = gp->nodes[i];
		struct graph_aux *aux = &gp->aux[i];

		aux->reg = order[i];
		aux->succ = gp->succ_mem + k;
		for (e = 0; e < order[i]->nb_edges; e++) {
			struct graph_reg *d =
				reg_find(b->tab, b->nb_tab, order[i]->edges[e]);
			struct sl_node *dn = by_id[d->id];
			uint16_t j;

			node->next[e].dst = dn;
			for (j = 0; j < aux->nb_succ; j++)
				if (aux->succ[j] == dn)
					break;
			if (j == aux->nb_succ)
				aux->succ[aux->nb_succ++] = dn;
		}
		k += aux->nb_succ;
	}
	free(order);
	free(by_id);
	return gp;
fail:
	free(order);
	free(by_id);
	graph_free_mem(gp);
	return NULL;
}

/* Call fini of nodes [0, n) in reverse order. */
static void
graph_fini_nodes(struct graph_priv *gp, uint32_t n)
{
	while (n-- > 0)
		if (gp->aux[n].reg->fini != NULL)
			gp->aux[n].reg->fini(&gp->g, gp->nodes[n]);
}

struct sl_graph *
sl_graph_create(const char *name, const char *const *patterns,
		unsigned nb_patterns)
{
	struct graph_build b = {.name = name};
	struct graph_priv *gp = NULL;
	unsigned p;
	uint32_t i;
	int err;

	graph_errbuf[0] = '\0';
	if (!graph_name_ok(name, SL_GRAPH_NAMESIZE)) {
		graph_err("graph '%s': bad name (1 to %d characters of "
			  "[A-Za-z0-9_.:-])",
			  str_or_null(name), SL_GRAPH_NAMESIZE - 1);
		err = -EINVAL;
		goto fail;
	}
	if (patterns == NULL || nb_patterns == 0) {
		graph_err("graph '%s': no node pattern", name);
		err = -EINVAL;
		goto fail;
	}
	for (p = 0; p < nb_patterns; p++) {
		if (patterns[p] == NULL) {
			graph_err("graph '%s': pattern %u is NULL", name, p);
			err = -EINVAL;
			goto fail;
		}
	}
	pthread_mutex_lock(&list_lock);
	err = list_find(name) != NULL ? -EEXIST : 0;
	pthread_mutex_unlock(&list_lock);
	if (err < 0) {
		graph_err("graph '%s': an instance of that name exists", name);
		goto fail;
	}

	/* registry entries never change: work on a copy of the table */
	pthread_mutex_lock(&reg_lock);
	b.nb_tab = nb_regs;
	b.tab = malloc((nb_regs != 0 ? nb_regs : 1) * sizeof(*b.tab));
	if (b.tab != NULL && nb_regs != 0)
		memcpy(b.tab, regs, nb_regs * sizeof(*b.tab));
	pthread_mutex_unlock(&reg_lock);
	b.in = calloc(b.nb_tab != 0 ? b.nb_tab : 1, 1);
	b.sel = calloc(b.nb_tab != 0 ? b.nb_tab : 1, sizeof(*b.sel));
	if (b.tab == NULL || b.in == NULL || b.sel == NULL) {
		graph_err("graph '%s': out of memory", name);
		err = -ENOMEM;
		goto free_build;
	}
	err = build_select(&b, patterns, nb_patterns);
	if (err < 0)
		goto free_build;
	if (b.nb_sel > UINT16_MAX) {
		graph_err("graph '%s': %u nodes, at most %u", name, b.nb_sel,
			  UINT16_MAX);
		err = -EINVAL;
		goto free_build;
	}
	gp = graph_alloc(&b);
	if (gp == NULL) {
		graph_err("graph '%s': out of memory", name);
		err = -ENOMEM;
		goto free_build;
	}
	for (i = 0; i < gp->g.nb_nodes; i++) {
		const struct graph_reg *r = gp->aux[i].reg;

		if (r->init == NULL)
			continue;
		err = r->init(&gp->g, gp->nodes[i]);
		if (err < 0) {
			graph_err("graph '%s': init of node '%s' failed: %s",
				  name, r->name, sl_strerror(err));
			graph_fini_nodes(gp, i);
			goto free_graph;
		}
	}
	pthread_mutex_lock(&list_lock);
	if (list_find(name) != NULL) {
		pthread_mutex_unlock(&list_lock);
		graph_err("graph '%s': an instance of that name exists", name);
		err = -EEXIST;
		graph_fini_nodes(gp, gp->g.nb_nodes);
		goto free_graph;
	}
	gp->list_next = graphs;
	graphs = gp;
	pthread_mutex_unlock(&list_lock);
	free(b.tab);
	free(b.in);
	free(b.sel);
	return &gp->g;
free_graph:
	graph_free_mem(gp);
free_build:
	free(b.tab);
	free(b.in);
	free(b.sel);
fail:
	errno = -err;
	return NULL;
}

void
sl_graph_destroy(struct sl_graph *g)
{
	struct graph_priv *gp, **pp;

	if (g == NULL)
		return;
	gp = graph_priv(g);
	pthread_mutex_lock(&list_lock);
	for (pp = &graphs; *pp != NULL; pp = &(*pp)->list_next) {
		if (*pp == gp) {
			*pp = gp->list_next;
			break;
		}
	}
	pthread_mutex_unlock(&list_lock);
	(void)graph_capture_end(gp);
	graph_trace_free(gp);
	graph_fini_nodes(gp, g->nb_nodes);
	graph_free_mem(gp);
}

struct sl_graph *
sl_graph_lookup(const char *name)
{
	struct graph_priv *gp;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&list_lock);
	gp = list_find(name);
	pthread_mutex_unlock(&list_lock);
	if (gp == NULL) {
		errno = ENOENT;
		return NULL;
	}
	return &gp->g;
}

const char *
sl_graph_name(const struct sl_graph *g)
{
	return g != NULL ? graph_priv_const(g)->name : NULL;
}

struct sl_node *
sl_graph_node_at(const struct sl_graph *g, unsigned i)
{
	if (g == NULL || i >= g->nb_nodes) {
		errno = g == NULL ? EINVAL : ENOENT;
		return NULL;
	}
	return graph_priv_const(g)->nodes[i];
}

struct sl_node *
sl_graph_node_get(const struct sl_graph *g, const char *name)
{
	const struct graph_priv *gp;
	uint32_t i;

	if (g == NULL || name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	gp = graph_priv_const(g);
	for (i = 0; i < g->nb_nodes; i++)
		if (strcmp(gp->nodes[i]->name, name) == 0)
			return gp->nodes[i];
	errno = ENOENT;
	return NULL;
}

/* ---- node buffers ------------------------------------------------------ */

/* Grow dst's buffer so that need more objects fit. @return the room. */
static uint32_t
node_grow(struct sl_node *dst, uint32_t need)
{
	uint32_t idx = dst->idx, size = dst->size, want = idx + need, nsize;
	void **objs;

	if (want <= size || size == 0 || size >= SL_NODE_OBJS_MAX)
		return size - idx;
	for (nsize = size; nsize < want && nsize < SL_NODE_OBJS_MAX;)
		nsize *= 2;
	if (nsize > SL_NODE_OBJS_MAX)
		nsize = SL_NODE_OBJS_MAX;
	objs = aligned_alloc(SL_CACHE_LINE, nsize * sizeof(void *));
	if (objs == NULL)
		return size - idx;
	memcpy(objs, dst->objs, idx * sizeof(void *));
	free(dst->objs);
	dst->objs = objs;
	dst->size = (uint16_t)nsize;
	return nsize - idx;
}

/* Append objs[0..n) to dst, growing it; count what does not fit. */
static uint16_t
node_append(struct sl_graph *g, struct sl_node *dst, void *const *objs,
	    uint16_t n)
{
	uint32_t room = node_grow(dst, n);
	uint16_t k = (uint16_t)SL_MIN(room, (uint32_t)n);

	dst->drops += n - k;
	if (k == 0)
		return 0;
	if (dst->idx == 0)
		__sl_graph_pend(g, dst);
	memcpy(dst->objs + dst->idx, objs, (size_t)k * sizeof(void *));
	dst->idx += k;
	return k;
}

void
__sl_graph_spill_drain(struct sl_graph *g)
{
	uint32_t i, n = g->nb_spill, j;

	/* consecutive entries for the same node are appended at once */
	for (i = 0; i < n; i = j) {
		struct sl_node *dst = g->spill[i].dst;
		void *batch[64];
		uint16_t k = 0;

		for (j = i; j < n && g->spill[j].dst == dst && k < 64; j++)
			batch[k++] = g->spill[j].obj;
		(void)node_append(g, dst, batch, k);
	}
	g->nb_spill = 0;
}

uint32_t
__sl_node_grow(struct sl_graph *g, struct sl_node *dst, uint32_t need)
{
	/* the spill goes first: its objects were enqueued before */
	if (g->nb_spill != 0)
		__sl_graph_spill_drain(g);
	return node_grow(dst, need);
}

uint16_t
__sl_node_enqueue_slow(struct sl_graph *g, struct sl_node *dst,
		       void *const *objs, uint16_t n)
{
	if (g->nb_spill != 0)
		__sl_graph_spill_drain(g);
	return node_append(g, dst, objs, n);
}

uint16_t
sl_graph_node_enqueue(struct sl_graph *g, struct sl_node *node,
		      void *const *objs, uint16_t nb_objs)
{
	if (g == NULL || node == NULL || node->graph != g || node->source ||
	    (objs == NULL && nb_objs != 0))
		return 0;
	return __sl_node_enqueue_slow(g, node, objs, nb_objs);
}

/* ---- statistics -------------------------------------------------------- */

static void
node_stats_read(const struct sl_node *n, struct sl_node_stats *st)
{
	st->calls = __atomic_load_n(&n->calls, __ATOMIC_RELAXED);
	st->objs = __atomic_load_n(&n->processed, __ATOMIC_RELAXED);
	st->cycles = __atomic_load_n(&n->cycles, __ATOMIC_RELAXED);
	st->drops = __atomic_load_n(&n->drops, __ATOMIC_RELAXED);
}

int
sl_graph_node_stats(const struct sl_graph *g, const char *node,
		    struct sl_node_stats *st)
{
	const struct sl_node *n;

	if (g == NULL || node == NULL || st == NULL)
		return -EINVAL;
	n = sl_graph_node_get(g, node);
	if (n == NULL)
		return -ENOENT;
	node_stats_read(n, st);
	return 0;
}

int
sl_graph_stats_sum(const char *graph_pattern, const char *node,
		   struct sl_node_stats *sum)
{
	struct graph_priv *gp;
	struct sl_node_stats st;
	const struct sl_node *n;
	int count = 0;

	if (node == NULL || sum == NULL)
		return -EINVAL;
	memset(sum, 0, sizeof(*sum));
	pthread_mutex_lock(&list_lock);
	for (gp = graphs; gp != NULL; gp = gp->list_next) {
		if (graph_pattern != NULL &&
		    fnmatch(graph_pattern, gp->name, 0) != 0)
			continue;
		n = sl_graph_node_get(&gp->g, node);
		if (n == NULL)
			continue;
		node_stats_read(n, &st);
		sum->calls += st.calls;
		sum->objs += st.objs;
		sum->cycles += st.cycles;
		sum->drops += st.drops;
		count++;
	}
	pthread_mutex_unlock(&list_lock);
	return count != 0 ? count : -ENOENT;
}

void
sl_graph_stats_reset(struct sl_graph *g)
{
	struct graph_priv *gp;
	uint32_t i;

	if (g == NULL)
		return;
	gp = graph_priv(g);
	for (i = 0; i < g->nb_nodes; i++) {
		struct sl_node *n = gp->nodes[i];

		__atomic_store_n(&n->calls, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&n->processed, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&n->cycles, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&n->drops, 0, __ATOMIC_RELAXED);
	}
}

int
sl_graph_stats_dump(const struct sl_graph *g, FILE *f)
{
	const struct graph_priv *gp;
	struct sl_node_stats st;
	uint32_t i;

	if (g == NULL || f == NULL)
		return -EINVAL;
	gp = graph_priv_const(g);
	fprintf(f, "graph %s: %" PRIu64 " walks\n", gp->name,
		sl_graph_walk_count(g));
	fprintf(f, "%-31s %12s %14s %9s %11s %10s\n", "node", "calls", "objs",
		"objs/call", "cycles/obj", "drops");
	for (i = 0; i < g->nb_nodes; i++) {
		node_stats_read(gp->nodes[i], &st);
		fprintf(f,
			"%-31s %12" PRIu64 " %14" PRIu64 " %9.1f %11.1f "
			"%10" PRIu64 "\n",
			gp->nodes[i]->name, st.calls, st.objs,
			st.calls != 0 ? (double)st.objs / (double)st.calls
				      : 0.0,
			st.objs != 0 ? (double)st.cycles / (double)st.objs
				     : 0.0,
			st.drops);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/* ---- DOT export -------------------------------------------------------- */

int
sl_graph_export_dot(const struct sl_graph *g, FILE *f)
{
	const struct graph_priv *gp;
	uint32_t i;
	uint16_t e;

	if (g == NULL || f == NULL)
		return -EINVAL;
	gp = graph_priv_const(g);
	/* names are [A-Za-z0-9_.:-]: nothing to escape */
	fprintf(f, "digraph \"%s\" {\n\trankdir=LR;\n", gp->name);
	for (i = 0; i < g->nb_nodes; i++) {
		const struct sl_node *n = gp->nodes[i];

		if (n->source)
			fprintf(f, "\t\"%s\" [shape=doublecircle];\n", n->name);
		else
			fprintf(f, "\t\"%s\";\n", n->name);
	}
	for (i = 0; i < g->nb_nodes; i++) {
		const struct sl_node *n = gp->nodes[i];

		for (e = 0; e < n->nb_edges; e++)
			fprintf(f, "\t\"%s\" -> \"%s\" [label=\"%u\"];\n",
				n->name, n->next[e].dst->name, e);
	}
	fprintf(f, "}\n");
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/* ---- debug bits -------------------------------------------------------- */

void
graph_debug_update(struct graph_priv *gp)
{
	uint32_t bits = 0;

	if (gp->trace != NULL)
		bits |= GRAPH_DEBUG_TRACE;
	if (gp->nb_capture != 0 && gp->cap != NULL)
		bits |= GRAPH_DEBUG_CAPTURE;
	__atomic_store_n(&gp->g.debug, bits, __ATOMIC_RELAXED);
}
