/*
 * cnet control plane: the tables the graph threads read (links, FIB,
 * next hops, neighbours), filled from the kernel mirror's events on the
 * mirror's thread, and the per-thread graph setup.
 */
#define SL_LOG_MODULE "cnet"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sluice/sl_log.h>
#include <sluice/sl_pktdev.h>
#include <sluice/sl_steer.h>
#include <sluice/sl_time.h>

#include "cnet_private.h"

#define CNET_RT_TABLE_LOCAL 255

__thread struct sl_cnet_thread *cnet_thread_setup;

/* nh slot states (control side) */
enum { NH_FREE, NH_USED, NH_RETIRED };

static uint8_t *
nh_state(struct sl_cnet *c)
{
	return (uint8_t *)(c->retired + c->max_nh);
}

static void resolver_stop(struct sl_cnet *c);

static const char *const drop_names[SL_CNET_DROP_MAX] = {
	[SL_CNET_DROP_NOT_IP4] = "not_ip4",
	[SL_CNET_DROP_OTHER_HOST] = "other_host",
	[SL_CNET_DROP_TRUNCATED] = "truncated",
	[SL_CNET_DROP_BAD_VERSION] = "bad_version",
	[SL_CNET_DROP_BAD_IHL] = "bad_ihl",
	[SL_CNET_DROP_BAD_CKSUM] = "bad_cksum",
	[SL_CNET_DROP_BAD_LEN] = "bad_len",
	[SL_CNET_DROP_PUNT] = "punt",
	[SL_CNET_DROP_BLACKHOLE] = "blackhole",
	[SL_CNET_DROP_NO_NEIGH] = "no_neigh",
	[SL_CNET_DROP_NEIGH_HOLD_FULL] = "neigh_hold_full",
	[SL_CNET_DROP_MTU] = "mtu",
	[SL_CNET_DROP_LINK_DOWN] = "link_down",
	[SL_CNET_DROP_NO_TX_PORT] = "no_tx_port",
	[SL_CNET_DROP_TX_FULL] = "tx_full",
	[SL_CNET_DROP_ICMP_RATELIMIT] = "icmp_ratelimit",
	[SL_CNET_DROP_ICMP_NOT_SENT] = "icmp_not_sent",
	[SL_CNET_DROP_BAD_UDP_LEN] = "bad_udp_len",
	[SL_CNET_DROP_BAD_UDP_CKSUM] = "bad_udp_cksum",
	[SL_CNET_DROP_CHNL_FULL] = "chnl_full",
	[SL_CNET_DROP_NO_ROUTE] = "no_route",
	[SL_CNET_DROP_PUNT_FULL] = "punt_full",
};

const char *
sl_cnet_drop_name(unsigned reason)
{
	return reason < SL_CNET_DROP_MAX ? drop_names[reason] : "?";
}

struct sl_cnet *
sl_cnet_create(const struct sl_cnet_cfg *cfg)
{
	struct sl_fib_conf fc;
	struct sl_cnet *c;
	int err = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	if (cfg != NULL)
		c->cfg = *cfg;
	if (c->cfg.max_routes == 0)
		c->cfg.max_routes = 65536;
	if (c->cfg.max_nh == 0)
		c->cfg.max_nh = 4096;
	if (c->cfg.max_neigh == 0)
		c->cfg.max_neigh = 4096;
	if (c->cfg.icmp_rate == 0)
		c->cfg.icmp_rate = 100;
	if (c->cfg.max_nh < 2 || c->cfg.max_routes > SL_FIB_ROUTES_MAX) {
		err = -EINVAL;
		goto free_c;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->rq_lock, NULL);
	pthread_cond_init(&c->rq_cond, NULL);
	c->max_nh = c->cfg.max_nh;
	c->max_routes = c->cfg.max_routes;
	c->nh = calloc(c->max_nh, sizeof(*c->nh));
	/* retired list, then one state byte per slot */
	c->retired = calloc(1, c->max_nh * (sizeof(*c->retired) + 1));
	c->routes = calloc(c->max_routes, sizeof(*c->routes));
	if (c->nh == NULL || c->retired == NULL || c->routes == NULL)
		goto free_tables;
	nh_state(c)[0] = NH_USED; /* id 0: no route */
	c->nh_next = 1;
	c->qsbr = sl_fib_qsbr_create(128);
	if (c->qsbr == NULL)
		goto free_tables;
	memset(&fc, 0, sizeof(fc));
	fc.max_routes = c->max_routes;
	fc.qsbr = c->qsbr;
	c->fib = sl_fib4_create("cnet4", &fc);
	if (c->fib == NULL) {
		err = -errno;
		goto free_qsbr;
	}
	c->neigh = sl_hash_create("cnet_neigh", c->cfg.max_neigh,
				  sizeof(struct cnet_neigh_key));
	if (c->neigh == NULL) {
		err = -errno;
		goto free_fib;
	}
	err = cnet_chnl_init(c);
	if (err < 0) {
		sl_hash_free(c->neigh);
		goto free_fib;
	}
	return c;
free_fib:
	sl_fib4_free(c->fib);
free_qsbr:
	sl_fib_qsbr_free(c->qsbr);
free_tables:
	free(c->nh);
	free(c->retired);
	free(c->routes);
	pthread_cond_destroy(&c->rq_cond);
	pthread_mutex_destroy(&c->rq_lock);
	pthread_mutex_destroy(&c->lock);
free_c:
	free(c);
fail:
	errno = -err;
	return NULL;
}

void
sl_cnet_free(struct sl_cnet *c)
{
	if (c == NULL)
		return;
	resolver_stop(c);
	sl_nlm_stop(c->nlm);
	cnet_chnl_fini(c);
	sl_hash_free(c->neigh);
	sl_fib4_free(c->fib);
	sl_fib_qsbr_free(c->qsbr);
	free(c->nh);
	free(c->retired);
	free(c->routes);
	pthread_cond_destroy(&c->rq_cond);
	pthread_mutex_destroy(&c->rq_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- mirror callbacks --------------------------------------------------- */

static void
ops_link(void *arg, const struct sl_nlm_link *l, bool del)
{
	sl_cnet_link_event(arg, l, del);
}

static void
ops_addr(void *arg, const struct sl_nlm_addr *a, bool del)
{
	sl_cnet_addr_event(arg, a, del);
}

static void
ops_route(void *arg, const struct sl_nlm_route *r, bool del)
{
	sl_cnet_route_event(arg, r, del);
}

static void
ops_neigh(void *arg, const struct sl_nlm_neigh *n, bool del)
{
	sl_cnet_neigh_event(arg, n, del);
}

static void
ops_resync_begin(void *arg)
{
	sl_cnet_resync(arg, true);
}

static void
ops_resync_end(void *arg)
{
	sl_cnet_resync(arg, false);
}

void
cnet_resolve_post(struct sl_cnet *c, int ifindex, uint32_t ip)
{
	/* a busy lock means the resolver is at work: the caller asks again
	 * after its rate limit */
	if (!__atomic_load_n(&c->resolver_on, __ATOMIC_ACQUIRE) ||
	    pthread_mutex_trylock(&c->rq_lock) != 0)
		return;
	if (c->rq_n < CNET_RQ_MAX) {
		c->rq[c->rq_n].ifindex = ifindex;
		c->rq[c->rq_n].ip = ip;
		c->rq_n++;
		pthread_cond_signal(&c->rq_cond);
	}
	pthread_mutex_unlock(&c->rq_lock);
}

static void *
resolver_main(void *arg)
{
	struct cnet_neigh_key rq[CNET_RQ_MAX];
	struct sl_cnet *c = arg;
	uint32_t i, n;
	int err;

	pthread_mutex_lock(&c->rq_lock);
	while (!c->resolver_quit) {
		if (c->rq_n == 0) {
			pthread_cond_wait(&c->rq_cond, &c->rq_lock);
			continue;
		}
		n = c->rq_n;
		memcpy(rq, c->rq, n * sizeof(rq[0]));
		c->rq_n = 0;
		pthread_mutex_unlock(&c->rq_lock);
		for (i = 0; i < n; i++) {
			err = sl_nlm_neigh_resolve(c->nlm, rq[i].ifindex,
						   rq[i].ip);
			if (err < 0)
				SL_DBG("resolve %08" PRIx32 " on %d: %s",
				       rq[i].ip, rq[i].ifindex,
				       sl_strerror(-err));
		}
		pthread_mutex_lock(&c->rq_lock);
	}
	pthread_mutex_unlock(&c->rq_lock);
	return NULL;
}

static void
resolver_stop(struct sl_cnet *c)
{
	if (!c->resolver_on)
		return;
	pthread_mutex_lock(&c->rq_lock);
	c->resolver_quit = true;
	pthread_cond_signal(&c->rq_cond);
	pthread_mutex_unlock(&c->rq_lock);
	pthread_join(c->resolver, NULL);
	c->resolver_on = false;
}

int
sl_cnet_start(struct sl_cnet *c, unsigned timeout_ms)
{
	static const struct sl_nlm_ops ops = {
		.link = ops_link,
		.addr = ops_addr,
		.route = ops_route,
		.neigh = ops_neigh,
		.resync_begin = ops_resync_begin,
		.resync_end = ops_resync_end,
	};
	int err;

	if (c == NULL)
		return -EINVAL;
	if (c->nlm != NULL)
		return -EALREADY;
	c->nlm = sl_nlm_start(NULL, &ops, c);
	if (c->nlm == NULL)
		return -errno;
	err = sl_nlm_wait_synced(c->nlm, timeout_ms);
	if (err < 0)
		goto stop_nlm;
	err = -pthread_create(&c->resolver, NULL, resolver_main, c);
	if (err < 0)
		goto stop_nlm;
	__atomic_store_n(&c->resolver_on, true, __ATOMIC_RELEASE);
	return 0;
stop_nlm:
	sl_nlm_stop(c->nlm);
	c->nlm = NULL;
	return err;
}

void
sl_cnet_link_event(struct sl_cnet *c, const struct sl_nlm_link *l, bool del)
{
	struct cnet_link *lk;

	if (l->ifindex <= 0 || l->ifindex > SL_CNET_IFINDEX_MAX) {
		SL_DBG("link %d above %d: ignored", l->ifindex,
		       SL_CNET_IFINDEX_MAX);
		return;
	}
	pthread_mutex_lock(&c->lock);
	lk = &c->links[l->ifindex];
	if (del) {
		__atomic_store_n(&lk->up, 0, __ATOMIC_RELEASE);
		lk->known = 0;
	} else {
		memcpy(lk->mac, l->mac, sizeof(lk->mac));
		lk->mtu = l->mtu;
		snprintf(lk->name, sizeof(lk->name), "%s", l->name);
		lk->known = 1;
		__atomic_store_n(&lk->up, l->oper_up ? 1 : 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
}

static void
steer_addr(uint32_t addr, bool del)
{
	uint32_t be = htonl(addr);
	int err;

	err = del ? sl_steer_local_addr_del(NULL, AF_INET, &be)
		  : sl_steer_local_addr_add(NULL, AF_INET, &be);
	if (err < 0 && err != -ENOENT && err != -EEXIST)
		SL_DBG("steer local address %08" PRIx32 ": %s", addr,
		       sl_strerror(-err));
}

void
sl_cnet_addr_event(struct sl_cnet *c, const struct sl_nlm_addr *a, bool del)
{
	struct cnet_link *lk;
	uint32_t bcast;

	if (c->cfg.steer_local) {
		steer_addr(a->addr, del);
		if (a->plen < 31) {
			bcast = a->addr | (UINT32_MAX >> a->plen);
			steer_addr(bcast, del);
		}
	}
	if (a->ifindex <= 0 || a->ifindex > SL_CNET_IFINDEX_MAX)
		return;
	pthread_mutex_lock(&c->lock);
	lk = &c->links[a->ifindex];
	if (!del && lk->addr == 0)
		__atomic_store_n(&lk->addr, a->addr, __ATOMIC_RELAXED);
	else if (del && lk->addr == a->addr)
		__atomic_store_n(&lk->addr, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
}

/* Make slots whose grace period ended free again. */
static void
nh_reclaim(struct sl_cnet *c)
{
	uint32_t i = 0;

	while (i < c->nretired) {
		if (!sl_fib_qsbr_check(c->qsbr, c->retired[i].token)) {
			i++;
			continue;
		}
		nh_state(c)[c->retired[i].nh] = NH_FREE;
		c->retired[i] = c->retired[--c->nretired];
	}
	(void)sl_fib4_reclaim(c->fib);
}

static uint32_t
nh_alloc(struct sl_cnet *c, const struct cnet_nh *e)
{
	uint32_t i, id;

	nh_reclaim(c);
	for (i = 0; i < c->max_nh; i++) {
		id = (c->nh_next + i) % c->max_nh;
		if (id == 0 || nh_state(c)[id] != NH_FREE)
			continue;
		c->nh[id] = *e;
		nh_state(c)[id] = NH_USED;
		c->nh_next = id + 1;
		/* the entry is complete before its id is published by the
		 * FIB (whose update is a release store) */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		return id;
	}
	return 0;
}

/* Free a slot once no reader can hold its id any more. */
static void
nh_retire(struct sl_cnet *c, uint32_t id)
{
	if (id == 0 || id >= c->max_nh)
		return;
	nh_state(c)[id] = NH_RETIRED;
	c->retired[c->nretired].nh = id;
	c->retired[c->nretired].token = sl_fib_qsbr_start(c->qsbr);
	c->nretired++;
}

static struct cnet_route *
route_find(struct sl_cnet *c, uint32_t dst, uint8_t plen, bool local)
{
	uint32_t i;

	for (i = 0; i < c->nroutes; i++)
		if (c->routes[i].dst == dst && c->routes[i].plen == plen &&
		    c->routes[i].local == local)
			return &c->routes[i];
	return NULL;
}

/* Publish the winner for a prefix: a local-table route, else the main
 * table's. */
static void
prefix_publish(struct sl_cnet *c, uint32_t dst, uint8_t plen)
{
	const struct cnet_route *r;
	int err;

	r = route_find(c, dst, plen, true);
	if (r == NULL)
		r = route_find(c, dst, plen, false);
	if (r == NULL) {
		(void)sl_fib4_delete(c->fib, dst, plen);
		return;
	}
	err = sl_fib4_add(c->fib, dst, plen, r->nh);
	if (err < 0)
		SL_WARN("route %08" PRIx32 "/%u: %s", dst, plen,
			sl_strerror(-err));
}

/* The slots of a route's paths: one each when their weights are equal
 * (up to CNET_NH_PATHS paths), else CNET_NH_PATHS slots shared in
 * proportion to the weights (each path at least one while slots last). */
static void
paths_fill(const struct sl_nlm_route *r, struct cnet_nh *e)
{
	uint32_t n = SL_MIN(r->npaths, (uint32_t)CNET_NH_PATHS), i, k, share;
	uint64_t total = 0;
	bool equal = true;

	for (i = 0; i < n; i++) {
		total += r->paths[i].weight ? r->paths[i].weight : 1;
		equal &= r->paths[i].weight == r->paths[0].weight;
	}
	e->npaths = 0;
	for (i = 0; i < n && e->npaths < CNET_NH_PATHS; i++) {
		share = equal ? 1
			      : (uint32_t)((uint64_t)CNET_NH_PATHS *
					   (r->paths[i].weight
						    ? r->paths[i].weight
						    : 1) /
					   total);
		if (share == 0)
			share = 1;
		for (k = 0; k < share && e->npaths < CNET_NH_PATHS; k++) {
			e->path[e->npaths].ifindex = r->paths[i].ifindex;
			e->path[e->npaths].gw = r->paths[i].gw;
			e->npaths++;
		}
	}
}

static bool
route_nh(const struct sl_nlm_route *r, struct cnet_nh *e)
{
	memset(e, 0, sizeof(*e));
	switch (r->type) {
	case SL_NLM_RT_UNICAST:
		if (r->npaths == 0)
			return false;
		paths_fill(r, e);
		e->type = e->path[0].gw != 0 ? CNET_NH_GATEWAY
					     : CNET_NH_CONNECTED;
		return true;
	case SL_NLM_RT_LOCAL:
		e->type = CNET_NH_LOCAL;
		return true;
	case SL_NLM_RT_BLACKHOLE:
		e->type = CNET_NH_BLACKHOLE;
		return true;
	case SL_NLM_RT_UNREACHABLE:
		e->type = CNET_NH_UNREACHABLE;
		return true;
	case SL_NLM_RT_PROHIBIT:
		e->type = CNET_NH_PROHIBIT;
		return true;
	case SL_NLM_RT_OTHER:
		/* the local table's broadcast addresses: for the host */
		if (r->table != CNET_RT_TABLE_LOCAL || r->plen != 32)
			return false;
		e->type = CNET_NH_LOCAL;
		return true;
	default:
		return false;
	}
}

void
sl_cnet_route_event(struct sl_cnet *c, const struct sl_nlm_route *r, bool del)
{
	bool local = r->table == CNET_RT_TABLE_LOCAL;
	uint32_t dst = r->plen ? r->dst & (UINT32_MAX << (32 - r->plen)) : 0;
	struct cnet_route *rt;
	struct cnet_nh e;
	uint32_t id;

	if (r->plen > 32)
		return;
	pthread_mutex_lock(&c->lock);
	rt = route_find(c, dst, r->plen, local);
	if (del) {
		if (rt == NULL || rt->priority != r->priority)
			goto unlock;
		(void)sl_fib4_delete(c->fib, dst, r->plen);
		nh_retire(c, rt->nh);
		*rt = c->routes[--c->nroutes];
		prefix_publish(c, dst, r->plen);
		goto unlock;
	}
	if (!route_nh(r, &e))
		goto unlock;
	/* one route per prefix and table: the lowest metric (during a
	 * resync, a route not seen again yet may be replaced) */
	if (rt != NULL && r->priority > rt->priority &&
	    !(c->resync && !rt->seen))
		goto unlock;
	if (rt == NULL && c->nroutes == c->max_routes) {
		SL_WARN("route table full (%u routes)", c->max_routes);
		goto unlock;
	}
	id = nh_alloc(c, &e);
	if (id == 0) {
		SL_WARN("next-hop table full (%u)", c->max_nh);
		goto unlock;
	}
	if (rt == NULL) {
		rt = &c->routes[c->nroutes++];
		rt->dst = dst;
		rt->plen = r->plen;
		rt->local = local;
		rt->nh = 0;
	}
	nh_retire(c, rt->nh);
	rt->nh = id;
	rt->priority = r->priority;
	rt->seen = 1;
	prefix_publish(c, dst, r->plen);
unlock:
	pthread_mutex_unlock(&c->lock);
}

void
sl_cnet_neigh_event(struct sl_cnet *c, const struct sl_nlm_neigh *n, bool del)
{
	struct cnet_neigh_key k = {.ifindex = n->ifindex, .ip = n->ip};
	uint64_t v = 0;
	unsigned i;
	int err;

	pthread_mutex_lock(&c->lock);
	if (del || !n->valid) {
		(void)sl_hash_del(c->neigh, &k);
	} else {
		for (i = 0; i < 6; i++)
			v = v << 8 | n->mac[i];
		v |= (uint64_t)(c->epoch & 0x7fff) << CNET_NEIGH_EPOCH_SHIFT;
		err = sl_hash_add(c->neigh, &k, v | CNET_NEIGH_VALID);
		if (err < 0)
			SL_WARN("neighbour table: %s", sl_strerror(-err));
	}
	__atomic_fetch_add(&c->neigh_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
}

void
sl_cnet_resync(struct sl_cnet *c, bool begin)
{
	struct cnet_neigh_key *stale;
	uint32_t i, n, pos, dst;
	const void *key;
	uint64_t v;
	uint8_t plen;

	pthread_mutex_lock(&c->lock);
	if (begin) {
		c->resync = true;
		c->epoch++;
		for (i = 0; i < c->nroutes; i++)
			c->routes[i].seen = 0;
		goto unlock;
	}
	c->resync = false;
	/* what the dump did not report again is gone */
	i = 0;
	while (i < c->nroutes) {
		if (c->routes[i].seen) {
			i++;
			continue;
		}
		dst = c->routes[i].dst;
		plen = c->routes[i].plen;
		(void)sl_fib4_delete(c->fib, dst, plen);
		nh_retire(c, c->routes[i].nh);
		c->routes[i] = c->routes[--c->nroutes];
		prefix_publish(c, dst, plen);
	}
	/* neighbours of an older epoch: collected, then deleted */
	stale = malloc(sizeof(*stale) * (sl_hash_count(c->neigh) + 1));
	n = 0;
	pos = 0;
	while (stale != NULL && sl_hash_iterate(c->neigh, &pos, &key, &v) == 0)
		if ((v >> CNET_NEIGH_EPOCH_SHIFT) != (c->epoch & 0x7fff))
			memcpy(&stale[n++], key, sizeof(stale[0]));
	for (i = 0; i < n; i++)
		(void)sl_hash_del(c->neigh, &stale[i]);
	free(stale);
	__atomic_fetch_add(&c->neigh_gen, 1, __ATOMIC_RELEASE);
unlock:
	pthread_mutex_unlock(&c->lock);
}

/* ---- show --------------------------------------------------------------- */

static const char *
nh_type_name(uint8_t t)
{
	static const char *const names[] = {
		"none",	     "via",	    "connected", "local",
		"blackhole", "unreachable", "prohibit",
	};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void
ip_str(uint32_t ip, char *buf, size_t len)
{
	uint32_t be = htonl(ip);

	if (inet_ntop(AF_INET, &be, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

int
sl_cnet_show(struct sl_cnet *c, FILE *f)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	const struct cnet_neigh_key *k;
	const struct cnet_nh *nh;
	const struct cnet_link *lk;
	uint32_t i, j, pos = 0;
	const void *key;
	uint64_t v;

	if (c == NULL || f == NULL)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	fprintf(f, "links:\n");
	for (i = 1; i <= SL_CNET_IFINDEX_MAX; i++) {
		lk = &c->links[i];
		if (!lk->known)
			continue;
		ip_str(lk->addr, a, sizeof(a));
		fprintf(f,
			"  %u %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u %s "
			"addr %s\n",
			i, lk->name, lk->mac[0], lk->mac[1], lk->mac[2],
			lk->mac[3], lk->mac[4], lk->mac[5], lk->mtu,
			lk->up ? "up" : "down", a);
	}
	fprintf(f, "routes:\n");
	for (i = 0; i < c->nroutes; i++) {
		nh = &c->nh[c->routes[i].nh];
		ip_str(c->routes[i].dst, a, sizeof(a));
		fprintf(f, "  %s/%u %s", a, c->routes[i].plen,
			nh_type_name(nh->type));
		for (j = 0; (nh->type == CNET_NH_GATEWAY ||
			     nh->type == CNET_NH_CONNECTED) &&
			    j < nh->npaths;
		     j++) {
			if (j != 0 &&
			    nh->path[j].ifindex == nh->path[j - 1].ifindex &&
			    nh->path[j].gw == nh->path[j - 1].gw)
				continue; /* a weight's further slots */
			ip_str(nh->path[j].gw, b, sizeof(b));
			fprintf(f, "%s%s%s dev %d", j ? " nexthop" : "",
				nh->path[j].gw ? " " : "",
				nh->path[j].gw ? b : "", nh->path[j].ifindex);
		}
		fprintf(f, " metric %u%s nh %u\n", c->routes[i].priority,
			c->routes[i].local ? " table local" : "",
			c->routes[i].nh);
	}
	fprintf(f, "neighbours:\n");
	while (sl_hash_iterate(c->neigh, &pos, &key, &v) == 0) {
		k = key;
		ip_str(k->ip, a, sizeof(a));
		fprintf(f, "  %s dev %d lladdr %02x:%02x:%02x:%02x:%02x:%02x\n",
			a, k->ifindex, (unsigned)(v >> 40) & 0xff,
			(unsigned)(v >> 32) & 0xff, (unsigned)(v >> 24) & 0xff,
			(unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff,
			(unsigned)v & 0xff);
	}
	pthread_mutex_unlock(&c->lock);
	return ferror(f) ? -EIO : 0;
}

/* ---- punt devices ------------------------------------------------------- */

void
sl_cnet_punt_ifname(int ifindex, char buf[16])
{
	snprintf(buf, 16, "slp%d", ifindex);
}

static void
sysctl_set(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(val, f) < 0 || fclose(f) != 0) {
		SL_WARN("%s: %s", path, sl_strerror(errno));
		if (f != NULL)
			fclose(f);
	}
}

/* Bring a device up (or down). */
static int
ifup(const char *ifname, bool up)
{
	struct ifreq ifr;
	int s, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	else {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(s);
	return err;
}

/* One TAP device per device of the thread's lports that no other thread
 * punts to yet: the device's MAC address and MTU, no IPv6 (the kernel
 * would send its own neighbour discovery through it), rp_filter off (the
 * kernel's route back to a punted packet's source is via the device, not
 * the TAP). */
static int
punt_open(struct sl_cnet_thread *t)
{
	struct sl_cnet *c = t->cnet;
	char tap[16], opts[96], path[128], name[SL_PORT_NAMESIZE];
	const struct cnet_link *lk;
	struct sl_port_cfg pc;
	unsigned p, q;
	int err;

	if (c->cfg.pool == NULL) {
		SL_ERR("punt devices need sl_cnet_cfg.pool");
		return -EINVAL;
	}
	for (p = 0; p < t->nports; p++) {
		for (q = 0; q < p && t->ifindex[q] != t->ifindex[p]; q++)
			;
		lk = cnet_link_get(c, t->ifindex[p]);
		if (q < p || lk == NULL || !lk->known)
			continue; /* one per device; unknown: no MAC to use */
		pthread_mutex_lock(&c->lock);
		if (c->punt_taken[t->ifindex[p]]) {
			pthread_mutex_unlock(&c->lock);
			continue;
		}
		c->punt_taken[t->ifindex[p]] = 1;
		pthread_mutex_unlock(&c->lock);
		sl_cnet_punt_ifname(t->ifindex[p], tap);
		snprintf(name, sizeof(name), "punt:%s", tap);
		snprintf(opts, sizeof(opts),
			 "up=no,mtu=%u,mac=%02x:%02x:%02x:%02x:%02x:%02x",
			 lk->mtu < 68 ? 1500 : lk->mtu, lk->mac[0], lk->mac[1],
			 lk->mac[2], lk->mac[3], lk->mac[4], lk->mac[5]);
		memset(&pc, 0, sizeof(pc));
		pc.name = name;
		pc.backend = "net_tap";
		pc.ifname = tap;
		pc.pool = c->cfg.pool;
		pc.options = opts;
		t->punt[p] = sl_pktdev_open(&pc);
		if (t->punt[p] == NULL) {
			err = -errno;
			SL_ERR("punt device %s for %s: %s", tap, lk->name,
			       sl_strerror(-err));
			return err;
		}
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", tap);
		if (access(path, F_OK) == 0)
			sysctl_set(path, "1");
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv4/conf/%s/rp_filter", tap);
		sysctl_set(path, "0");
		err = sl_pktdev_start(t->punt[p]);
		if (err == 0)
			err = ifup(tap, true);
		if (err < 0) {
			SL_ERR("punt device %s: %s", tap, sl_strerror(-err));
			return err;
		}
		t->punt_poll_tsc = 0;
		SL_INFO("punt device %s for %s", tap, lk->name);
	}
	return 0;
}

static void
punt_close(struct sl_cnet_thread *t)
{
	unsigned p;

	for (p = 0; p < t->nports; p++) {
		if (t->punt[p] == NULL)
			continue;
		(void)sl_pktdev_stop(t->punt[p]);
		sl_pktdev_close(t->punt[p]);
		t->punt[p] = NULL;
		pthread_mutex_lock(&t->cnet->lock);
		t->cnet->punt_taken[t->ifindex[p]] = 0;
		pthread_mutex_unlock(&t->cnet->lock);
	}
}

/* ---- threads ------------------------------------------------------------ */

int
cnet_node_init(struct sl_graph *g, struct sl_node *node)
{
	(void)g;
	if (cnet_thread_setup == NULL)
		return -EINVAL; /* only sl_cnet_thread_create() builds these */
	((struct cnet_node_ctx *)sl_node_ctx(node))->t = cnet_thread_setup;
	return 0;
}

struct sl_cnet_thread *
sl_cnet_thread_create(struct sl_cnet *c, const char *name,
		      struct sl_port *const *ports, const int *ifindex,
		      unsigned nports, const char *const *patterns,
		      unsigned npatterns)
{
	static const char *const def[] = {"eth_rx", "kernel_recv",
					  "udp_output"};
	struct sl_cnet_thread *t;
	int err, id;

	if (c == NULL || name == NULL || ports == NULL || ifindex == NULL ||
	    nports == 0 || nports > SL_CNET_THREAD_PORTS) {
		err = -EINVAL;
		goto fail;
	}
	t = aligned_alloc(SL_CACHE_LINE, (sizeof(*t) + SL_CACHE_LINE - 1) /
						 SL_CACHE_LINE * SL_CACHE_LINE);
	if (t == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	memset(t, 0, sizeof(*t));
	t->cnet = c;
	t->nports = nports;
	memcpy(t->ports, ports, nports * sizeof(ports[0]));
	memcpy(t->ifindex, ifindex, nports * sizeof(ifindex[0]));
	t->icmp_tokens = c->cfg.icmp_rate;
	t->icmp_tsc_per_token = sl_tsc_hz() / c->cfg.icmp_rate;
	if (t->icmp_tsc_per_token == 0)
		t->icmp_tsc_per_token = 1;
	t->icmp_last_tsc = sl_tsc();
	id = sl_fib_qsbr_register(c->qsbr);
	if (id < 0) {
		err = id;
		goto free_t;
	}
	t->qsbr_id = (unsigned)id;
	cnet_thread_setup = t;
	t->punt_poll_tsc = UINT64_MAX;
	if (c->cfg.punt_tap) {
		err = punt_open(t);
		if (err < 0)
			goto unregister;
	}
	if (patterns == NULL || npatterns == 0) {
		patterns = def;
		npatterns = sizeof(def) / sizeof(def[0]);
	}
	t->graph = sl_graph_create(name, patterns, npatterns);
	cnet_thread_setup = NULL;
	if (t->graph == NULL) {
		err = -errno;
		SL_ERR("graph %s: %s", name, sl_graph_last_error());
		goto unregister;
	}
	t->output = sl_graph_node_get(t->graph, "ip4_output");
	return t;
unregister:
	punt_close(t);
	(void)sl_fib_qsbr_unregister(c->qsbr, t->qsbr_id);
free_t:
	free(t);
fail:
	errno = -err;
	return NULL;
}

unsigned
sl_cnet_thread_poll(struct sl_cnet_thread *t)
{
	t->rx_last = 0;
	if (t->hold_n != 0)
		cnet_hold_flush(t);
	sl_graph_walk(t->graph);
	sl_fib_qsbr_quiescent(t->cnet->qsbr, t->qsbr_id);
	return (unsigned)t->rx_last;
}

void
sl_cnet_thread_destroy(struct sl_cnet_thread *t)
{
	unsigned i;

	if (t == NULL)
		return;
	for (i = 0; i < SL_CNET_HOLD_SLOTS; i++)
		sl_mbuf_free_bulk(t->hold[i].pkts, t->hold[i].n);
	sl_graph_destroy(t->graph);
	punt_close(t);
	(void)sl_fib_qsbr_unregister(t->cnet->qsbr, t->qsbr_id);
	free(t);
}

struct sl_graph *
sl_cnet_thread_graph(const struct sl_cnet_thread *t)
{
	return t->graph;
}

int
sl_cnet_thread_drops(const struct sl_cnet_thread *t,
		     uint64_t out[SL_CNET_DROP_MAX])
{
	unsigned i;

	if (t == NULL || out == NULL)
		return -EINVAL;
	for (i = 0; i < SL_CNET_DROP_MAX; i++)
		out[i] = __atomic_load_n(&t->drops[i], __ATOMIC_RELAXED);
	return 0;
}
