/*
 * Internals of the kernel mirror (sl_nlmirror.h), shared by its files:
 *
 *   sl_nlmirror.c  start/stop, the thread, receiving, dumps and resyncs
 *   nlm_msg.c      one rtnetlink message -> state and events
 *   nlm_table.c    the chained hash tables of the mirror's own state
 *   nlm_resolve.c  sl_nlm_neigh_resolve() on a socket of its own
 *
 * State that the mirror keeps (only what the kernel does not tell again):
 * links (to see up/down transitions and report only real changes),
 * nexthop objects (routes name them by id) and the keys of the routes it
 * reported (the kernel removes routes without a message when a link goes
 * down or a nexthop object goes away: a route re-dump finds them).
 * Everything below the API is touched by the mirror thread only, except
 * the counters (atomic) and the fields under sync_lock / res_lock.
 */
#ifndef NLM_PRIVATE_H
#define NLM_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "sluice/sl_nlmirror.h"

struct nl_sock;

/* One node of a chained hash table; embedded first in each entry. */
struct nlm_hnode {
	struct nlm_hnode *next;
	uint32_t hash;
};

/* A chained hash table that grows by doubling. */
struct nlm_htab {
	struct nlm_hnode **b;
	uint32_t mask; /* buckets - 1 */
	uint32_t n;    /* entries */
};

typedef bool (*nlm_match_fn)(const struct nlm_hnode *node, const void *key);
/* Return true to remove the node (the callback then owns it). */
typedef bool (*nlm_sweep_fn)(struct nlm_hnode *node, void *arg);

int nlm_htab_init(struct nlm_htab *t, uint32_t buckets);
void nlm_htab_fini(struct nlm_htab *t);
struct nlm_hnode *nlm_htab_find(const struct nlm_htab *t, uint32_t hash,
				nlm_match_fn match, const void *key);
/* Insert (the caller checked the key is absent); growing may fail
 * quietly, the table then only gets longer chains. */
void nlm_htab_add(struct nlm_htab *t, struct nlm_hnode *node);
void nlm_htab_del(struct nlm_htab *t, struct nlm_hnode *node);
/* Visit every node; remove those for which fn returns true. */
void nlm_htab_sweep(struct nlm_htab *t, nlm_sweep_fn fn, void *arg);

uint32_t nlm_hash32(const void *p, size_t len);
uint64_t nlm_hash64(const void *p, size_t len);

/* A link as last reported. */
struct nlm_link {
	struct nlm_hnode h;
	struct sl_nlm_link l;
	uint32_t gen;
};

/* One member of a nexthop group. */
struct nlm_nh_member {
	uint32_t id;
	uint32_t weight; /* 1..65536 */
};

/* A nexthop object (RTM_NEWNEXTHOP), any family. */
struct nlm_nh {
	struct nlm_hnode h;
	uint32_t id;
	uint32_t gen;
	uint64_t sum; /* hash of the content, to see real changes */
	uint8_t family;
	bool blackhole;
	bool fdb;
	bool gw6; /* the gateway is IPv6: no IPv4 path */
	bool dead;
	uint32_t gw; /* host order, 0: none */
	int oif;
	uint32_t ngrp; /* > 0: a group */
	struct nlm_nh_member *grp;
};

/* Key of a route as the consumer sees it. */
struct nlm_route_key {
	uint32_t table;
	uint32_t dst;
	uint32_t priority;
	uint8_t plen;
	uint8_t pad[3];
};

/* A route the mirror reported. */
struct nlm_route {
	struct nlm_hnode h;
	struct nlm_route_key k;
	uint32_t gen;
	uint32_t nh_id; /* != 0: on the nh_routes list */
	uint8_t type;
	uint8_t protocol;
	uint64_t sum; /* hash of the sl_nlm_route last reported */
	struct nlm_route *nh_prev, *nh_next;
};

/* What the thread should do once the socket is drained. */
enum nlm_todo {
	NLM_TODO_NONE = 0,
	NLM_TODO_ROUTES = 1, /* re-dump nexthops and routes, report changes */
	NLM_TODO_FULL = 2,   /* full resync (overflow, interrupted dump) */
};

struct sl_nlm {
	struct sl_nlm_cfg cfg;
	struct sl_nlm_ops ops;
	void *arg;

	/* event socket: subscribed to the groups, dumps run on it too */
	struct nl_sock *ev;
	int evfd; /* eventfd: stop */
	pthread_t thread;
	bool thread_started;
	bool stopping; /* set by sl_nlm_stop() (atomic) */

	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;
	bool synced;

	pthread_mutex_t res_lock;
	struct nl_sock *res; /* sl_nlm_neigh_resolve() */

	/* mirror thread only */
	uint8_t *buf;
	size_t bufsz;
	uint32_t gen;	   /* generation of the dump in progress */
	bool in_resync;	   /* between resync_begin and resync_end */
	int todo;	   /* enum nlm_todo, the largest wanted */
	uint32_t dump_seq; /* sequence of the dump in progress, 0: none */
	bool dump_done;
	bool dump_intr; /* NLM_F_DUMP_INTR seen in the dump */
	int dump_err;	/* error answer to the dump request */
	bool first_done;
	bool warned_paths;
	struct nlm_htab links;
	struct nlm_htab nhs;
	struct nlm_htab routes;
	struct nlm_route *nh_routes; /* routes naming a nexthop object */

	struct sl_nlm_stats st; /* atomic: read by sl_nlm_stats_get() */
};

/* Counters written by the mirror thread, read by any. */
#define NLM_STAT_INC(m, f)                                                     \
	__atomic_store_n(&(m)->st.f,                                           \
			 __atomic_load_n(&(m)->st.f, __ATOMIC_RELAXED) + 1,    \
			 __ATOMIC_RELAXED)

/* nlm_msg.c */
void nlm_msg_handle(struct sl_nlm *m, const struct nlmsghdr *nlh);
void nlm_state_free(struct sl_nlm *m);
/* End of a dump pass: drop what it did not see. report: send del events
 * for the routes (a route re-dump); else silent (a resync window). */
void nlm_sweep_links(struct sl_nlm *m);
void nlm_sweep_nhs(struct sl_nlm *m);
void nlm_sweep_routes(struct sl_nlm *m, bool report);

/* nlm_resolve.c */
int nlm_resolve_open(struct sl_nlm *m);
void nlm_resolve_close(struct sl_nlm *m);

#endif /* NLM_PRIVATE_H */
