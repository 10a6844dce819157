/*
 * The kernel mirror (sluice/sl_nlmirror.h) against the real kernel, in a
 * network namespace made by nlmirror.sh (the test runs inside it; the
 * peer namespace is named by $SLNM_PEER_NS). The test changes the kernel
 * with ip(8) and, where timing matters, with its own netlink requests, and
 * keeps the consumer's view (a reference map built only from the events,
 * with the resync rule: what is not reported between resync_begin and
 * resync_end is dropped). It checks the view against what it configured
 * and against `ip route show`.
 *
 * 1. the initial dump (links, addresses, unicast, multipath, blackhole,
 *    unreachable, prohibit, nexthop objects and groups, other tables
 *    ignored, local table, neighbours);
 * 2. live changes: route add (latency measured, < 100 ms) and del,
 *    nexthop object changes re-reporting their routes, link carrier and
 *    admin up/down (routes the kernel drops silently), MTU and MAC,
 *    addresses, neighbours, ignored multicast/NOARP neighbours;
 * 3. neighbour resolution through the peer namespace;
 * 4. overflow: a tiny receive buffer, a stalled consumer, 2000 routes:
 *    ENOBUFS counted, resync, the view equals the kernel's table;
 * 5. start/stop again and again (the ASan build checks for leaks).
 *
 * Needs root; exits 77 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "sluice/sl_log.h"
#include "sluice/sl_nlmirror.h"

#define VIEW_ROUTES 4096
#define VIEW_LINKS 64
#define VIEW_ADDRS 64
#define VIEW_NEIGHS 256
#define WAIT_MS 5000
#define LATENCY_MAX_MS 100.0
#define LATENCY_ROUNDS 20
#define OVERFLOW_ROUTES 2000

#define IP4(a, b, c, d)                                                        \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

/* ---- the consumer's view ---- */

struct vroute {
	struct sl_nlm_route r;
	bool stale;
	uint64_t t_ns; /* when last reported */
};

struct vlink {
	struct sl_nlm_link l;
	bool stale;
};

struct vaddr {
	struct sl_nlm_addr a;
	bool stale;
};

struct vneigh {
	struct sl_nlm_neigh n;
	bool stale;
};

struct view {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vroute routes[VIEW_ROUTES];
	unsigned nroutes;
	struct vlink links[VIEW_LINKS];
	unsigned nlinks;
	struct vaddr addrs[VIEW_ADDRS];
	unsigned naddrs;
	struct vneigh neighs[VIEW_NEIGHS];
	unsigned nneighs;
	unsigned begins, ends, events_before_begin;
	bool in_resync;
	unsigned route_dels, events;
	bool overfull;	     /* a map was full: the test is wrong */
	bool hold;	     /* route callbacks wait while set */
	uint64_t hold_until; /* ... but not past this */
	unsigned slow_us;    /* route callbacks sleep this long */
};

static struct view view1, view2, view3;
static struct sl_nlm *mirror;
static const char *peer_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
}

static void
view_fini(struct view *v)
{
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
}

static struct vroute *
vroute_find(struct view *v, uint32_t dst, uint8_t plen, uint32_t table,
	    uint32_t prio)
{
	unsigned i;

	for (i = 0; i < v->nroutes; i++) {
		struct sl_nlm_route *r = &v->routes[i].r;

		if (r->dst == dst && r->plen == plen && r->table == table &&
		    r->priority == prio)
			return &v->routes[i];
	}
	return NULL;
}

static struct vlink *
vlink_find(struct view *v, int ifindex)
{
	unsigned i;

	for (i = 0; i < v->nlinks; i++)
		if (v->links[i].l.ifindex == ifindex)
			return &v->links[i];
	return NULL;
}

static struct vaddr *
vaddr_find(struct view *v, int ifindex, uint32_t addr, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < v->naddrs; i++) {
		struct sl_nlm_addr *a = &v->addrs[i].a;

		if (a->ifindex == ifindex && a->addr == addr && a->plen == plen)
			return &v->addrs[i];
	}
	return NULL;
}

static struct vneigh *
vneigh_find(struct view *v, int ifindex, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < v->nneighs; i++)
		if (v->neighs[i].n.ifindex == ifindex &&
		    v->neighs[i].n.ip == ip)
			return &v->neighs[i];
	return NULL;
}

static void
ev_done(struct view *v)
{
	v->events++;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static void
on_link(void *arg, const struct sl_nlm_link *l, bool del)
{
	struct view *v = arg;
	struct vlink *e;

	pthread_mutex_lock(&v->lock);
	e = vlink_find(v, l->ifindex);
	if (del) {
		if (e != NULL)
			*e = v->links[--v->nlinks];
	} else if (e != NULL) {
		e->l = *l;
		e->stale = false;
	} else if (v->nlinks < VIEW_LINKS) {
		v->links[v->nlinks].l = *l;
		v->links[v->nlinks++].stale = false;
	} else {
		v->overfull = true;
	}
	ev_done(v);
}

static void
on_addr(void *arg, const struct sl_nlm_addr *a, bool del)
{
	struct view *v = arg;
	struct vaddr *e;

	pthread_mutex_lock(&v->lock);
	e = vaddr_find(v, a->ifindex, a->addr, a->plen);
	if (del) {
		if (e != NULL)
			*e = v->addrs[--v->naddrs];
	} else if (e != NULL) {
		e->a = *a;
		e->stale = false;
	} else if (v->naddrs < VIEW_ADDRS) {
		v->addrs[v->naddrs].a = *a;
		v->addrs[v->naddrs++].stale = false;
	} else {
		v->overfull = true;
	}
	ev_done(v);
}

static void
on_route(void *arg, const struct sl_nlm_route *r, bool del)
{
	struct view *v = arg;
	uint64_t t = now_ns();
	struct vroute *e;

	pthread_mutex_lock(&v->lock);
	/* a consumer that stops while the kernel fills the socket
	 * (bounded: hold_until) */
	if (v->slow_us != 0 && !v->in_resync) {
		pthread_mutex_unlock(&v->lock);
		usleep(v->slow_us);
		pthread_mutex_lock(&v->lock);
	}
	while (v->hold && now_ns() < v->hold_until) {
		struct timespec ts = {0, 0};

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&v->cond, &v->lock, &ts);
	}
	e = vroute_find(v, r->dst, r->plen, r->table, r->priority);
	if (del) {
		v->route_dels++;
		if (e != NULL)
			*e = v->routes[--v->nroutes];
	} else if (e != NULL) {
		e->r = *r;
		e->stale = false;
		e->t_ns = t;
	} else if (v->nroutes < VIEW_ROUTES) {
		e = &v->routes[v->nroutes++];
		e->r = *r;
		e->stale = false;
		e->t_ns = t;
	} else {
		v->overfull = true;
	}
	ev_done(v);
}

static void
on_neigh(void *arg, const struct sl_nlm_neigh *n, bool del)
{
	struct view *v = arg;
	struct vneigh *e;

	pthread_mutex_lock(&v->lock);
	e = vneigh_find(v, n->ifindex, n->ip);
	if (del) {
		if (e != NULL)
			*e = v->neighs[--v->nneighs];
	} else if (e != NULL) {
		e->n = *n;
		e->stale = false;
	} else if (v->nneighs < VIEW_NEIGHS) {
		v->neighs[v->nneighs].n = *n;
		v->neighs[v->nneighs++].stale = false;
	} else {
		v->overfull = true;
	}
	ev_done(v);
}

static void
on_resync_begin(void *arg)
{
	struct view *v = arg;
	unsigned i;

	pthread_mutex_lock(&v->lock);
	if (v->begins == 0)
		v->events_before_begin = v->events;
	v->begins++;
	v->in_resync = true;
	for (i = 0; i < v->nroutes; i++)
		v->routes[i].stale = true;
	for (i = 0; i < v->nlinks; i++)
		v->links[i].stale = true;
	for (i = 0; i < v->naddrs; i++)
		v->addrs[i].stale = true;
	for (i = 0; i < v->nneighs; i++)
		v->neighs[i].stale = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

/* Drop what the resync did not report again. */
static void
on_resync_end(void *arg)
{
	struct view *v = arg;
	unsigned i;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nroutes;)
		if (v->routes[i].stale)
			v->routes[i] = v->routes[--v->nroutes];
		else
			i++;
	for (i = 0; i < v->nlinks;)
		if (v->links[i].stale)
			v->links[i] = v->links[--v->nlinks];
		else
			i++;
	for (i = 0; i < v->naddrs;)
		if (v->addrs[i].stale)
			v->addrs[i] = v->addrs[--v->naddrs];
		else
			i++;
	for (i = 0; i < v->nneighs;)
		if (v->neighs[i].stale)
			v->neighs[i] = v->neighs[--v->nneighs];
		else
			i++;
	v->ends++;
	v->in_resync = false;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static const struct sl_nlm_ops view_ops = {
	.link = on_link,
	.addr = on_addr,
	.route = on_route,
	.neigh = on_neigh,
	.resync_begin = on_resync_begin,
	.resync_end = on_resync_end,
};

/* Wait (bounded) until pred holds; pred runs with the view locked. */
typedef bool (*pred_fn)(struct view *v, const void *arg);

static bool
wait_for(struct view *v, pred_fn pred, const void *arg, unsigned ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&v->lock);
	while (!(ok = pred(v, arg)))
		if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) ==
		    ETIMEDOUT) {
			ok = pred(v, arg);
			break;
		}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

/* ---- driving the kernel ---- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (status %d): %s", rc, cmd);
}

static int
ifidx(const char *name)
{
	int i = (int)if_nametoindex(name);

	if (i <= 0)
		fail_msg("no device %s", name);
	return i;
}

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad address %s", s);
	return ntohl(a.s_addr);
}

static void
mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		fail_msg("bad MAC %s", s);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

/* Add dst/plen dev oif to the main table with a request of our own:
 * t0 is taken just before it leaves. @return 0 or -errno. */
static int
nl_route_add(uint32_t dst, uint8_t plen, int oif, uint64_t *t0)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg r;
		char attrs[64];
	} req;
	struct {
		struct nlmsghdr n;
		struct nlmsgerr e;
		char more[256];
	} ans;
	struct rtattr *a;
	uint32_t be = htonl(dst);
	int fd, err = -EPROTO;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_type = RTM_NEWROUTE;
	req.n.nlmsg_flags =
		NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	req.n.nlmsg_seq = 1;
	req.r.rtm_family = AF_INET;
	req.r.rtm_dst_len = plen;
	req.r.rtm_table = RT_TABLE_MAIN;
	req.r.rtm_protocol = RTPROT_STATIC;
	req.r.rtm_scope = RT_SCOPE_LINK;
	req.r.rtm_type = RTN_UNICAST;
	a = (struct rtattr *)req.attrs;
	a->rta_type = RTA_DST;
	a->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(a), &be, 4);
	a = (struct rtattr *)(req.attrs + RTA_ALIGN(a->rta_len));
	a->rta_type = RTA_OIF;
	a->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(a), &oif, 4);
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.r)) + 2 * RTA_SPACE(4);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	*t0 = now_ns();
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	n = recv(fd, &ans, sizeof(ans), 0);
	if (n >= (ssize_t)NLMSG_LENGTH(sizeof(ans.e)) &&
	    ans.n.nlmsg_type == NLMSG_ERROR)
		err = ans.e.error;
	close(fd);
	return err;
}

/* ---- the kernel's table, from ip ---- */

struct kroute {
	uint32_t dst;
	uint8_t plen;
	uint8_t type;
	uint32_t prio;
	uint32_t gw; /* single path only */
	unsigned npaths;
};

static uint8_t
kroute_type(const char *tok, bool *is_type)
{
	static const struct {
		const char *name;
		uint8_t type;
	} types[] = {
		{"unicast", SL_NLM_RT_UNICAST},
		{"local", SL_NLM_RT_LOCAL},
		{"blackhole", SL_NLM_RT_BLACKHOLE},
		{"unreachable", SL_NLM_RT_UNREACHABLE},
		{"prohibit", SL_NLM_RT_PROHIBIT},
		{"broadcast", SL_NLM_RT_OTHER},
		{"multicast", SL_NLM_RT_OTHER},
		{"throw", SL_NLM_RT_OTHER},
		{"anycast", SL_NLM_RT_OTHER},
		{"nat", SL_NLM_RT_OTHER},
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(tok, types[i].name) == 0) {
			*is_type = true;
			return types[i].type;
		}
	*is_type = false;
	return SL_NLM_RT_UNICAST;
}

/* `ip -4 -o route show table main`, parsed: key, type, the live paths
 * (dead ones left out, as the mirror does) and the gateway of a single
 * live path. @return the count. */
static unsigned
kernel_routes(struct kroute *k, unsigned max)
{
	static const char *sep = " \t\n\\";
	char line[1024], *tok, *save, *slash;
	uint32_t gw[SL_NLM_MAX_PATHS + 1];
	bool dead[SL_NLM_MAX_PATHS + 1], is_type;
	unsigned n = 0, np, i;
	FILE *f;

	f = popen("ip -4 -o route show table main", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL && n < max) {
		struct kroute *r = &k[n];

		memset(r, 0, sizeof(*r));
		tok = strtok_r(line, sep, &save);
		if (tok == NULL)
			continue;
		r->type = kroute_type(tok, &is_type);
		if (is_type)
			tok = strtok_r(NULL, sep, &save);
		assert_non_null(tok);
		if (strcmp(tok, "default") == 0) {
			r->plen = 0;
		} else {
			slash = strchr(tok, '/');
			r->plen = 32;
			if (slash != NULL) {
				*slash = '\0';
				r->plen = (uint8_t)atoi(slash + 1);
			}
			r->dst = ip4(tok);
		}
		/* path 0: the route's own; each "nexthop" starts another */
		np = 0;
		gw[0] = 0;
		dead[0] = false;
		while ((tok = strtok_r(NULL, sep, &save)) != NULL) {
			if (strcmp(tok, "metric") == 0) {
				tok = strtok_r(NULL, sep, &save);
				assert_non_null(tok);
				r->prio = (uint32_t)strtoul(tok, NULL, 10);
			} else if (strcmp(tok, "via") == 0) {
				tok = strtok_r(NULL, sep, &save);
				assert_non_null(tok);
				gw[np] = ip4(tok);
			} else if (strcmp(tok, "nexthop") == 0 &&
				   np < SL_NLM_MAX_PATHS) {
				np++;
				gw[np] = 0;
				dead[np] = false;
			} else if (strcmp(tok, "dead") == 0) {
				dead[np] = true;
			}
		}
		if (r->type != SL_NLM_RT_UNICAST) {
			n++;
			continue;
		}
		/* single path: index 0; multipath: 1..np */
		for (i = np == 0 ? 0 : 1; i <= np; i++) {
			if (dead[i])
				continue;
			if (r->npaths++ == 0)
				r->gw = gw[i];
		}
		n++;
	}
	pclose(f);
	return n;
}

/* Compare the view's main table with the kernel's; NULL when equal, else
 * what differs (a static string). */
static const char *
view_vs_kernel(struct view *v, const struct kroute *k, unsigned nk, char *why,
	       size_t whylen)
{
	unsigned i, nmain = 0;
	struct vroute *e;

	for (i = 0; i < v->nroutes; i++)
		if (v->routes[i].r.table == RT_TABLE_MAIN)
			nmain++;
	if (nmain != nk) {
		snprintf(why, whylen, "%u routes in the view, %u in the kernel",
			 nmain, nk);
		return why;
	}
	for (i = 0; i < nk; i++) {
		e = vroute_find(v, k[i].dst, k[i].plen, RT_TABLE_MAIN,
				k[i].prio);
		if (e == NULL) {
			snprintf(why, whylen, "%08x/%u metric %u not in view",
				 k[i].dst, k[i].plen, k[i].prio);
			return why;
		}
		if (e->r.type != k[i].type || e->r.npaths != k[i].npaths ||
		    (k[i].npaths == 1 && e->r.paths[0].gw != k[i].gw)) {
			snprintf(why, whylen,
				 "%08x/%u: view type %u paths %u gw %08x, "
				 "kernel type %u paths %u gw %08x",
				 k[i].dst, k[i].plen, e->r.type, e->r.npaths,
				 e->r.paths[0].gw, k[i].type, k[i].npaths,
				 k[i].gw);
			return why;
		}
	}
	return NULL;
}

/* Poll until the view equals the kernel's main table (bounded). */
static void
assert_view_matches_kernel(struct view *v, unsigned ms)
{
	static struct kroute k[VIEW_ROUTES];
	char why[256];
	const char *diff = "not compared";
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	unsigned nk;

	do {
		nk = kernel_routes(k, VIEW_ROUTES);
		pthread_mutex_lock(&v->lock);
		diff = v->in_resync
			       ? "in a resync"
			       : view_vs_kernel(v, k, nk, why, sizeof(why));
		pthread_mutex_unlock(&v->lock);
		if (diff == NULL)
			return;
		usleep(100 * 1000);
	} while (now_ns() < end);
	fail_msg("view differs from the kernel's main table: %s", diff);
}

/* ---- predicates ---- */

struct rkey {
	uint32_t dst;
	uint8_t plen;
	uint32_t table, prio;
};

static bool
p_route_present(struct view *v, const void *arg)
{
	const struct rkey *k = arg;

	return vroute_find(v, k->dst, k->plen, k->table, k->prio) != NULL;
}

static bool
p_route_absent(struct view *v, const void *arg)
{
	return !p_route_present(v, arg);
}

struct rgw {
	struct rkey k;
	unsigned npaths;
	uint32_t gw0;
	uint8_t type;
};

/* the route exists with npaths paths, the first through gw0 */
static bool
p_route_paths(struct view *v, const void *arg)
{
	const struct rgw *g = arg;
	struct vroute *e;

	e = vroute_find(v, g->k.dst, g->k.plen, g->k.table, g->k.prio);
	return e != NULL && e->r.type == g->type && e->r.npaths == g->npaths &&
	       (g->npaths == 0 || e->r.paths[0].gw == g->gw0);
}

static bool
p_synced(struct view *v, const void *arg)
{
	(void)arg;
	return v->ends > 0;
}

struct lstate {
	int ifindex;
	int admin, oper; /* -1: any */
	uint32_t mtu;	 /* 0: any */
	const uint8_t *mac;
};

static bool
p_link(struct view *v, const void *arg)
{
	const struct lstate *s = arg;
	struct vlink *e = vlink_find(v, s->ifindex);

	return e != NULL && (s->admin < 0 || e->l.admin_up == s->admin) &&
	       (s->oper < 0 || e->l.oper_up == s->oper) &&
	       (s->mtu == 0 || e->l.mtu == s->mtu) &&
	       (s->mac == NULL || memcmp(e->l.mac, s->mac, 6) == 0);
}

struct akey {
	int ifindex;
	uint32_t addr;
	uint8_t plen;
	bool present;
};

static bool
p_addr(struct view *v, const void *arg)
{
	const struct akey *k = arg;

	return (vaddr_find(v, k->ifindex, k->addr, k->plen) != NULL) ==
	       k->present;
}

struct nkey {
	int ifindex;
	uint32_t ip;
	int present;	    /* 1 present (with valid/state below), 0 absent */
	int valid;	    /* -1 any */
	uint16_t state_any; /* 0: any, else one of these bits */
};

static bool
p_neigh(struct view *v, const void *arg)
{
	const struct nkey *k = arg;
	struct vneigh *e = vneigh_find(v, k->ifindex, k->ip);

	if (!k->present)
		return e == NULL;
	return e != NULL && (k->valid < 0 || e->n.valid == k->valid) &&
	       (k->state_any == 0 || (e->n.state & k->state_any) != 0);
}

static void
copy_route(struct view *v, const struct rkey *k, struct sl_nlm_route *out)
{
	struct vroute *e;

	pthread_mutex_lock(&v->lock);
	e = vroute_find(v, k->dst, k->plen, k->table, k->prio);
	if (e != NULL)
		*out = e->r;
	pthread_mutex_unlock(&v->lock);
	if (e == NULL)
		fail_msg("route %08x/%u table %u metric %u not in the view",
			 k->dst, k->plen, k->table, k->prio);
}

static struct rkey
mkey(uint32_t dst, uint8_t plen, uint32_t prio)
{
	struct rkey k = {
		.dst = dst, .plen = plen, .table = RT_TABLE_MAIN, .prio = prio};

	return k;
}

/* ---- topology ---- */

static const uint8_t mac0[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t mac1[6] = {2, 0, 0, 0, 1, 1};

static int
group_setup(void **state)
{
	(void)state;
	view_init(&view1);
	view_init(&view2);
	sh("ip link add slnm0 address 02:00:00:00:00:01 type veth peer name "
	   "slnm0p address 02:00:00:00:00:02");
	sh("ip link add slnm1 address 02:00:00:00:01:01 type veth peer name "
	   "slnm1p address 02:00:00:00:01:02");
	sh("ip link set slnm1 mtu 1400");
	sh("ip link set slnm0p up && ip link set slnm1p up && "
	   "ip link set slnm0 up && ip link set slnm1 up");
	sh("ip addr add 198.18.0.1/24 dev slnm0");
	sh("ip addr add 198.18.1.1/24 dev slnm1");
	sh("ip route add 198.18.10.0/24 via 198.18.0.2 metric 5");
	sh("ip route add 198.18.11.0/24 nexthop via 198.18.0.2 weight 2 "
	   "nexthop via 198.18.1.2 weight 3");
	sh("ip route add blackhole 198.18.12.0/24");
	sh("ip route add unreachable 198.18.13.0/24");
	sh("ip route add prohibit 198.18.14.0/24");
	sh("ip nexthop add id 10 via 198.18.0.2 dev slnm0");
	sh("ip nexthop add id 11 via 198.18.1.2 dev slnm1");
	sh("ip nexthop add id 20 group 10/11,4");
	sh("ip route add 198.18.15.0/24 nhid 10");
	sh("ip route add 198.18.16.0/24 nhid 20");
	sh("ip route add 198.18.17.0/24 via 198.18.0.2 table 100");
	sh("ip route add 198.18.18.0/24 dev slnm1 proto static");
	sh("ip neigh add 198.18.1.5 lladdr 02:00:00:00:01:05 dev slnm1 "
	   "nud permanent");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sl_nlm_stop(mirror);
	mirror = NULL;
	view_fini(&view1);
	view_fini(&view2);
	return 0;
}

/* ---- 1. the initial dump ---- */

static void
test_initial_dump(void **state)
{
	struct sl_nlm_route r;
	struct sl_nlm_stats st;
	struct vneigh *n;
	struct vlink *l;
	struct rkey k;
	int i0 = ifidx("slnm0"), i1 = ifidx("slnm1");

	(void)state;
	mirror = sl_nlm_start(NULL, &view_ops, &view1);
	assert_non_null(mirror);
	assert_int_equal(sl_nlm_wait_synced(mirror, WAIT_MS), 0);
	assert_true(wait_for(&view1, p_synced, NULL, WAIT_MS));

	pthread_mutex_lock(&view1.lock);
	assert_false(view1.overfull);
	assert_int_equal(view1.begins, 1);
	assert_int_equal(view1.ends, 1);
	assert_int_equal(view1.events_before_begin, 0);
	l = vlink_find(&view1, i0);
	assert_non_null(l);
	assert_string_equal(l->l.name, "slnm0");
	assert_memory_equal(l->l.mac, mac0, 6);
	assert_int_equal(l->l.mtu, 1500);
	assert_true(l->l.admin_up);
	assert_true(l->l.oper_up);
	l = vlink_find(&view1, i1);
	assert_non_null(l);
	assert_int_equal(l->l.mtu, 1400);
	assert_memory_equal(l->l.mac, mac1, 6);
	assert_non_null(vlink_find(&view1, 1)); /* lo */
	assert_non_null(vaddr_find(&view1, i0, IP4(198, 18, 0, 1), 24));
	assert_non_null(vaddr_find(&view1, i1, IP4(198, 18, 1, 1), 24));
	n = vneigh_find(&view1, i1, IP4(198, 18, 1, 5));
	assert_non_null(n);
	assert_true(n->n.valid);
	assert_int_equal(n->n.state, NUD_PERMANENT);
	assert_int_equal(n->n.mac[5], 5);
	/* another table: not reported */
	assert_null(vroute_find(&view1, IP4(198, 18, 17, 0), 24, 100, 0));
	assert_null(
		vroute_find(&view1, IP4(198, 18, 17, 0), 24, RT_TABLE_MAIN, 0));
	pthread_mutex_unlock(&view1.lock);

	/* one path, metric 5 */
	k = mkey(IP4(198, 18, 10, 0), 24, 5);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_UNICAST);
	assert_int_equal(r.protocol, RTPROT_BOOT);
	assert_int_equal(r.nh_id, 0);
	assert_int_equal(r.npaths, 1);
	assert_int_equal(r.paths[0].gw, IP4(198, 18, 0, 2));
	assert_int_equal(r.paths[0].ifindex, i0);
	assert_int_equal(r.paths[0].weight, 1);
	/* multipath */
	k = mkey(IP4(198, 18, 11, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.npaths, 2);
	assert_int_equal(r.paths[0].gw, IP4(198, 18, 0, 2));
	assert_int_equal(r.paths[0].ifindex, i0);
	assert_int_equal(r.paths[0].weight, 2);
	assert_int_equal(r.paths[1].gw, IP4(198, 18, 1, 2));
	assert_int_equal(r.paths[1].ifindex, i1);
	assert_int_equal(r.paths[1].weight, 3);
	/* the three drops */
	k = mkey(IP4(198, 18, 12, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_BLACKHOLE);
	assert_int_equal(r.npaths, 0);
	k = mkey(IP4(198, 18, 13, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_UNREACHABLE);
	assert_int_equal(r.npaths, 0);
	k = mkey(IP4(198, 18, 14, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_PROHIBIT);
	assert_int_equal(r.npaths, 0);
	/* a nexthop object */
	k = mkey(IP4(198, 18, 15, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_UNICAST);
	assert_int_equal(r.nh_id, 10);
	assert_int_equal(r.npaths, 1);
	assert_int_equal(r.paths[0].gw, IP4(198, 18, 0, 2));
	assert_int_equal(r.paths[0].ifindex, i0);
	/* a group 10/11,4 */
	k = mkey(IP4(198, 18, 16, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.nh_id, 20);
	assert_int_equal(r.npaths, 2);
	assert_int_equal(r.paths[0].gw, IP4(198, 18, 0, 2));
	assert_int_equal(r.paths[0].ifindex, i0);
	assert_int_equal(r.paths[0].weight, 1);
	assert_int_equal(r.paths[1].gw, IP4(198, 18, 1, 2));
	assert_int_equal(r.paths[1].ifindex, i1);
	assert_int_equal(r.paths[1].weight, 4);
	/* directly connected, static; and the kernel's connected route */
	k = mkey(IP4(198, 18, 18, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.protocol, RTPROT_STATIC);
	assert_int_equal(r.npaths, 1);
	assert_int_equal(r.paths[0].gw, 0);
	assert_int_equal(r.paths[0].ifindex, i1);
	k = mkey(IP4(198, 18, 0, 0), 24, 0);
	copy_route(&view1, &k, &r);
	assert_int_equal(r.protocol, RTPROT_KERNEL);
	assert_int_equal(r.paths[0].ifindex, i0);
	/* the local table */
	k.dst = IP4(198, 18, 0, 1);
	k.plen = 32;
	k.table = RT_TABLE_LOCAL;
	copy_route(&view1, &k, &r);
	assert_int_equal(r.type, SL_NLM_RT_LOCAL);
	assert_int_equal(r.table, RT_TABLE_LOCAL);

	assert_int_equal(sl_nlm_stats_get(mirror, &st), 0);
	assert_true(st.ignored > 0); /* at least table 100 */
	assert_int_equal(st.resyncs, 0);
	assert_int_equal(st.overflows, 0);
	assert_true(st.events >= 20);
	assert_view_matches_kernel(&view1, WAIT_MS);
}

/* ---- 2. live changes ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_live_route_add_del(void **state)
{
	double lat[LATENCY_ROUNDS], worst;
	struct rkey k;
	struct vroute *e;
	uint64_t t0 = 0, tev;
	unsigned i, dels;
	int i0 = ifidx("slnm0");

	(void)state;
	for (i = 0; i < LATENCY_ROUNDS; i++) {
		k = mkey(IP4(198, 18, 100 + i, 0), 24, 0);
		assert_int_equal(nl_route_add(k.dst, 24, i0, &t0), 0);
		assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
		pthread_mutex_lock(&view1.lock);
		e = vroute_find(&view1, k.dst, 24, RT_TABLE_MAIN, 0);
		tev = e->t_ns;
		assert_int_equal(e->r.paths[0].ifindex, i0);
		assert_int_equal(e->r.protocol, RTPROT_STATIC);
		pthread_mutex_unlock(&view1.lock);
		lat[i] = (double)(tev - t0) / 1e6;
	}
	qsort(lat, LATENCY_ROUNDS, sizeof(lat[0]), cmp_double);
	worst = lat[LATENCY_ROUNDS - 1];
	print_message("route add -> event: min %.3f ms, median %.3f ms, "
		      "max %.3f ms (%d adds)\n",
		      lat[0], lat[LATENCY_ROUNDS / 2], worst, LATENCY_ROUNDS);
	assert_true(worst < LATENCY_MAX_MS);

	/* with ip(8): the time includes starting ip */
	k = mkey(IP4(198, 18, 99, 0), 24, 0);
	t0 = now_ns();
	sh("ip route add 198.18.99.0/24 via 198.18.0.2");
	assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
	pthread_mutex_lock(&view1.lock);
	tev = vroute_find(&view1, k.dst, 24, RT_TABLE_MAIN, 0)->t_ns;
	pthread_mutex_unlock(&view1.lock);
	print_message("ip route add -> event (with ip's start): %.3f ms\n",
		      (double)(tev - t0) / 1e6);
	assert_true((double)(tev - t0) / 1e6 < LATENCY_MAX_MS);

	/* del */
	pthread_mutex_lock(&view1.lock);
	dels = view1.route_dels;
	pthread_mutex_unlock(&view1.lock);
	sh("ip route del 198.18.99.0/24");
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	pthread_mutex_lock(&view1.lock);
	assert_true(view1.route_dels > dels);
	pthread_mutex_unlock(&view1.lock);
	for (i = 0; i < LATENCY_ROUNDS; i++)
		sh("ip route del 198.18.%u.0/24", 100 + i);
	k = mkey(IP4(198, 18, 100 + LATENCY_ROUNDS - 1, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);
}

static void
test_live_nexthop(void **state)
{
	struct sl_nlm_route r;
	struct rgw g;
	struct rkey k;
	int i0 = ifidx("slnm0"), i1 = ifidx("slnm1");

	(void)state;
	/* the object changes: both routes using it follow */
	sh("ip nexthop replace id 10 via 198.18.0.3 dev slnm0");
	memset(&g, 0, sizeof(g));
	g.k = mkey(IP4(198, 18, 15, 0), 24, 0);
	g.npaths = 1;
	g.gw0 = IP4(198, 18, 0, 3);
	g.type = SL_NLM_RT_UNICAST;
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));
	g.k = mkey(IP4(198, 18, 16, 0), 24, 0);
	g.npaths = 2;
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));
	copy_route(&view1, &g.k, &r);
	assert_int_equal(r.paths[0].ifindex, i0);
	assert_int_equal(r.paths[1].gw, IP4(198, 18, 1, 2));

	/* the group changes (the kernel sends no route message for it) */
	sh("ip nexthop replace id 20 group 11");
	g.npaths = 1;
	g.gw0 = IP4(198, 18, 1, 2);
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));
	copy_route(&view1, &g.k, &r);
	assert_int_equal(r.nh_id, 20);
	assert_int_equal(r.paths[0].ifindex, i1);
	assert_int_equal(r.paths[0].weight, 1);

	/* a blackhole object */
	sh("ip nexthop add id 12 blackhole");
	sh("ip route add 198.18.19.0/24 nhid 12");
	g.k = mkey(IP4(198, 18, 19, 0), 24, 0);
	g.npaths = 0;
	g.type = SL_NLM_RT_BLACKHOLE;
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));

	/* removing an object removes its routes (no route message) */
	sh("ip nexthop del id 12");
	assert_true(wait_for(&view1, p_route_absent, &g.k, WAIT_MS));
	sh("ip nexthop del id 10");
	k = mkey(IP4(198, 18, 15, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	/* put them back for the tests that follow */
	sh("ip nexthop add id 10 via 198.18.0.2 dev slnm0");
	sh("ip route add 198.18.15.0/24 nhid 10");
	assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);
}

static void
test_live_link(void **state)
{
	static const uint8_t newmac[6] = {2, 0, 0, 0, 1, 0x11};
	struct lstate s;
	struct rgw g;
	struct rkey k;
	int i0 = ifidx("slnm0"), i1 = ifidx("slnm1");

	(void)state;
	s = (struct lstate){
		.ifindex = i1, .admin = -1, .oper = -1, .mtu = 1300};
	sh("ip link set slnm1 mtu 1300");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));
	s = (struct lstate){
		.ifindex = i1, .admin = -1, .oper = -1, .mac = newmac};
	sh("ip link set slnm1 address 02:00:00:00:01:11");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));

	/* carrier: the peer goes down */
	s = (struct lstate){.ifindex = i0, .admin = 1, .oper = 0};
	sh("ip link set slnm0p down");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));
	s.oper = 1;
	sh("ip link set slnm0p up");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);

	/* admin down: IPv4 drops the routes through slnm0 silently */
	s = (struct lstate){.ifindex = i0, .admin = 0, .oper = 0};
	sh("ip link set slnm0 down");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));
	k = mkey(IP4(198, 18, 10, 0), 24, 5);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	k = mkey(IP4(198, 18, 0, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	k = mkey(IP4(198, 18, 15, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	/* the multipath route keeps its live path only */
	memset(&g, 0, sizeof(g));
	g.k = mkey(IP4(198, 18, 11, 0), 24, 0);
	g.npaths = 1;
	g.gw0 = IP4(198, 18, 1, 2);
	g.type = SL_NLM_RT_UNICAST;
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);

	s = (struct lstate){.ifindex = i0, .admin = 1, .oper = 1};
	sh("ip link set slnm0 up");
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));
	k = mkey(IP4(198, 18, 0, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
	g.npaths = 2;
	g.gw0 = IP4(198, 18, 0, 2);
	assert_true(wait_for(&view1, p_route_paths, &g, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);
	/* what the kernel dropped, back for the tests that follow */
	sh("ip nexthop add id 10 via 198.18.0.2 dev slnm0");
	sh("ip route add 198.18.15.0/24 nhid 10");
	sh("ip route add 198.18.10.0/24 via 198.18.0.2 metric 5");
	k = mkey(IP4(198, 18, 10, 0), 24, 5);
	assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);
}

static void
test_live_addr(void **state)
{
	struct akey a;
	struct rkey k;
	int i1 = ifidx("slnm1");

	(void)state;
	a = (struct akey){.ifindex = i1,
			  .addr = IP4(198, 18, 2, 1),
			  .plen = 24,
			  .present = true};
	k = mkey(IP4(198, 18, 2, 0), 24, 0);
	sh("ip addr add 198.18.2.1/24 dev slnm1");
	assert_true(wait_for(&view1, p_addr, &a, WAIT_MS));
	assert_true(wait_for(&view1, p_route_present, &k, WAIT_MS));
	/* a route through the address's preferred source */
	sh("ip route add 198.18.20.0/24 via 198.18.1.2 src 198.18.2.1");
	a.present = false;
	sh("ip addr del 198.18.2.1/24 dev slnm1");
	assert_true(wait_for(&view1, p_addr, &a, WAIT_MS));
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	/* the kernel dropped that one without a message */
	k = mkey(IP4(198, 18, 20, 0), 24, 0);
	assert_true(wait_for(&view1, p_route_absent, &k, WAIT_MS));
	assert_view_matches_kernel(&view1, WAIT_MS);
}

static void
test_live_neigh(void **state)
{
	struct sl_nlm_stats st0, st1;
	struct sl_nlm *m3;
	struct nkey n;
	struct vneigh *e;
	uint8_t mac[6];
	int i1 = ifidx("slnm1");

	(void)state;
	n = (struct nkey){.ifindex = i1,
			  .ip = IP4(198, 18, 1, 6),
			  .present = 1,
			  .valid = 1};
	sh("ip neigh add 198.18.1.6 lladdr 02:00:00:00:01:06 dev slnm1 "
	   "nud permanent");
	assert_true(wait_for(&view1, p_neigh, &n, WAIT_MS));
	pthread_mutex_lock(&view1.lock);
	e = vneigh_find(&view1, i1, n.ip);
	mac_parse("02:00:00:00:01:06", mac);
	assert_memory_equal(e->n.mac, mac, 6);
	assert_int_equal(e->n.state, NUD_PERMANENT);
	pthread_mutex_unlock(&view1.lock);
	n.present = 0;
	sh("ip neigh del 198.18.1.6 dev slnm1");
	assert_true(wait_for(&view1, p_neigh, &n, WAIT_MS));

	/* ignored: a multicast entry and a NOARP one without a MAC */
	assert_int_equal(sl_nlm_stats_get(mirror, &st0), 0);
	sh("ip neigh add 224.1.2.3 lladdr 01:00:5e:01:02:03 dev slnm1 "
	   "nud noarp");
	sh("ip neigh add 198.18.1.9 lladdr 00:00:00:00:00:00 dev slnm1 "
	   "nud noarp");
	/* a barrier: events come in order */
	n = (struct nkey){.ifindex = i1,
			  .ip = IP4(198, 18, 1, 10),
			  .present = 1,
			  .valid = 1};
	sh("ip neigh add 198.18.1.10 lladdr 02:00:00:00:01:0a dev slnm1 "
	   "nud permanent");
	assert_true(wait_for(&view1, p_neigh, &n, WAIT_MS));
	/* the kernel announces the NOARP entry, not the multicast one */
	assert_int_equal(sl_nlm_stats_get(mirror, &st1), 0);
	assert_true(st1.ignored >= st0.ignored + 1);
	pthread_mutex_lock(&view1.lock);
	assert_null(vneigh_find(&view1, i1, IP4(224, 1, 2, 3)));
	assert_null(vneigh_find(&view1, i1, IP4(198, 18, 1, 9)));
	pthread_mutex_unlock(&view1.lock);
	/* a dump lists both: a second mirror leaves them out too */
	view_init(&view3);
	m3 = sl_nlm_start(NULL, &view_ops, &view3);
	assert_non_null(m3);
	assert_int_equal(sl_nlm_wait_synced(m3, WAIT_MS), 0);
	assert_int_equal(sl_nlm_stats_get(m3, &st1), 0);
	sl_nlm_stop(m3);
	assert_true(st1.ignored >= 2);
	assert_non_null(vneigh_find(&view3, i1, IP4(198, 18, 1, 10)));
	assert_null(vneigh_find(&view3, i1, IP4(224, 1, 2, 3)));
	assert_null(vneigh_find(&view3, i1, IP4(198, 18, 1, 9)));
	view_fini(&view3);
	sh("ip neigh del 224.1.2.3 dev slnm1 && ip neigh del 198.18.1.9 dev "
	   "slnm1 && ip neigh del 198.18.1.10 dev slnm1");
}

/* ---- 3. resolution ---- */

static void
test_resolve(void **state)
{
	char cmd[256], line[256];
	struct lstate s;
	struct nkey n;
	struct vneigh *e;
	uint8_t peer_mac[6];
	bool seen = false;
	FILE *f;
	int ir;

	(void)state;
	sh("ip link add slnmr0 address 02:00:00:00:03:01 type veth peer name "
	   "slnmr1 netns %s address 02:00:00:00:03:02",
	   peer_ns);
	sh("ip addr add 198.18.3.1/24 dev slnmr0 && ip link set slnmr0 up");
	sh("ip -n %s addr add 198.18.3.2/24 dev slnmr1 && "
	   "ip -n %s link set slnmr1 up",
	   peer_ns, peer_ns);
	/* unanswered requests give up after 2 x 100 ms */
	sh("echo 100 >/proc/sys/net/ipv4/neigh/slnmr0/retrans_time_ms && "
	   "echo 2 >/proc/sys/net/ipv4/neigh/slnmr0/mcast_solicit");
	ir = ifidx("slnmr0");
	s = (struct lstate){.ifindex = ir, .admin = 1, .oper = 1};
	assert_true(wait_for(&view1, p_link, &s, WAIT_MS));

	assert_int_equal(sl_nlm_neigh_resolve(NULL, ir, IP4(198, 18, 3, 2)),
			 -EINVAL);
	assert_int_equal(sl_nlm_neigh_resolve(mirror, 0, IP4(198, 18, 3, 2)),
			 -EINVAL);
	assert_int_equal(sl_nlm_neigh_resolve(mirror, ir, IP4(224, 0, 0, 5)),
			 -EINVAL);
	assert_int_equal(
		sl_nlm_neigh_resolve(mirror, 999999, IP4(198, 18, 3, 2)),
		-ENODEV);

	assert_int_equal(sl_nlm_neigh_resolve(mirror, ir, IP4(198, 18, 3, 2)),
			 0);
	n = (struct nkey){.ifindex = ir,
			  .ip = IP4(198, 18, 3, 2),
			  .present = 1,
			  .valid = 1};
	assert_true(wait_for(&view1, p_neigh, &n, WAIT_MS));
	mac_parse("02:00:00:00:03:02", peer_mac);
	pthread_mutex_lock(&view1.lock);
	e = vneigh_find(&view1, ir, n.ip);
	assert_memory_equal(e->n.mac, peer_mac, 6);
	assert_true(e->n.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY));
	pthread_mutex_unlock(&view1.lock);
	/* the ARP request reached the peer: it learnt our MAC from it */
	snprintf(cmd, sizeof(cmd), "ip -n %s neigh show 198.18.3.1 dev slnmr1",
		 peer_ns);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "02:00:00:00:03:01") != NULL)
			seen = true;
	pclose(f);
	assert_true(seen);

	/* nobody answers: FAILED, reported as not valid */
	assert_int_equal(sl_nlm_neigh_resolve(mirror, ir, IP4(198, 18, 3, 9)),
			 0);
	n = (struct nkey){.ifindex = ir,
			  .ip = IP4(198, 18, 3, 9),
			  .present = 1,
			  .valid = 0,
			  .state_any = NUD_FAILED};
	assert_true(wait_for(&view1, p_neigh, &n, WAIT_MS));
	/* asking again for a known neighbour is fine */
	assert_int_equal(sl_nlm_neigh_resolve(mirror, ir, IP4(198, 18, 3, 2)),
			 0);
}

/* ---- 4. overflow ---- */

static bool
p_resynced_after_overflow(struct view *v, const void *arg)
{
	(void)arg;
	return v->begins >= 2 && v->ends == v->begins && !v->in_resync;
}

static void
test_overflow(void **state)
{
	struct sl_nlm_cfg cfg = {.rcvbuf = 4096};
	struct sl_nlm_stats st;
	struct sl_nlm *m2;
	char path[] = "/tmp/slnm-batch-XXXXXX", cmd[64];
	unsigned i;
	int rc;
	FILE *f;
	int fd;

	(void)state;
	m2 = sl_nlm_start(&cfg, &view_ops, &view2);
	assert_non_null(m2);
	assert_int_equal(sl_nlm_wait_synced(m2, WAIT_MS), 0);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (i = 0; i < OVERFLOW_ROUTES; i++)
		fprintf(f, "route add 198.19.%u.%u/32 dev slnm1\n", i / 256,
			i % 256);
	fclose(f);
	/* the consumer stops at the first route until ip is done: 2000
	 * notifications cannot fit in the socket's 8 KB */
	snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
	pthread_mutex_lock(&view2.lock);
	view2.hold = true;
	view2.hold_until = now_ns() + 20000000000ull;
	pthread_mutex_unlock(&view2.lock);
	rc = system(cmd);
	pthread_mutex_lock(&view2.lock);
	view2.hold = false;
	pthread_cond_broadcast(&view2.cond);
	pthread_mutex_unlock(&view2.lock);
	unlink(path);
	assert_int_equal(rc, 0);

	assert_true(
		wait_for(&view2, p_resynced_after_overflow, NULL, 3 * WAIT_MS));
	assert_int_equal(sl_nlm_stats_get(m2, &st), 0);
	print_message("overflow: %" PRIu64 " ENOBUFS, %" PRIu64
		      " resyncs, %" PRIu64 " events\n",
		      st.overflows, st.resyncs, st.events);
	assert_true(st.overflows >= 1);
	assert_true(st.resyncs >= 1);
	assert_view_matches_kernel(&view2, 3 * WAIT_MS);
	/* the mirror with the default buffer kept up as well */
	if (mirror != NULL)
		assert_view_matches_kernel(&view1, 3 * WAIT_MS);
	pthread_mutex_lock(&view2.lock);
	assert_false(view2.overfull);
	pthread_mutex_unlock(&view2.lock);

	/* changes keep coming while the mirror resyncs: a slow consumer
	 * while ip deletes the routes; whatever overflows, the view must
	 * end equal to the kernel's */
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (i = 0; i < OVERFLOW_ROUTES; i++)
		fprintf(f, "route del 198.19.%u.%u/32 dev slnm1\n", i / 256,
			i % 256);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
	pthread_mutex_lock(&view2.lock);
	view2.slow_us = 200;
	pthread_mutex_unlock(&view2.lock);
	rc = system(cmd);
	pthread_mutex_lock(&view2.lock);
	view2.slow_us = 0;
	pthread_mutex_unlock(&view2.lock);
	unlink(path);
	assert_int_equal(rc, 0);
	assert_view_matches_kernel(&view2, 3 * WAIT_MS);
	assert_int_equal(sl_nlm_stats_get(m2, &st), 0);
	print_message("churn: %" PRIu64 " ENOBUFS, %" PRIu64
		      " resyncs in all\n",
		      st.overflows, st.resyncs);
	sl_nlm_stop(m2);
}

/* ---- 5. start/stop ---- */

static void
test_start_stop(void **state)
{
	struct sl_nlm_cfg cfg = {.table = RT_TABLE_MAIN};
	struct sl_nlm *m;
	unsigned i;

	(void)state;
	sl_nlm_stop(NULL);
	assert_int_equal(sl_nlm_wait_synced(NULL, 10), -EINVAL);
	for (i = 0; i < 10; i++) {
		/* no callbacks at all */
		m = sl_nlm_start(&cfg, NULL, NULL);
		assert_non_null(m);
		assert_int_equal(sl_nlm_wait_synced(m, WAIT_MS), 0);
		sl_nlm_stop(m);
	}
	for (i = 0; i < 10; i++) {
		/* stopped in the middle of its first dump */
		m = sl_nlm_start(NULL, NULL, NULL);
		assert_non_null(m);
		sl_nlm_stop(m);
	}
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_initial_dump),
		cmocka_unit_test(test_live_route_add_del),
		cmocka_unit_test(test_live_nexthop),
		cmocka_unit_test(test_live_link),
		cmocka_unit_test(test_live_addr),
		cmocka_unit_test(test_live_neigh),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_start_stop),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (run through nlmirror.sh)\n");
		return 77;
	}
	peer_ns = getenv("SLNM_PEER_NS");
	if (peer_ns == NULL || peer_ns[0] == '\0') {
		fprintf(stderr, "SKIP: SLNM_PEER_NS is not set (run through "
				"nlmirror.sh)\n");
		return 77;
	}
	/* SLNM_LOG=debug, say, to follow the mirror; SLNM_ONLY=test_overflow
	 * to run one test (after the shared set-up) */
	sl_log_set_levels(getenv("SLNM_LOG") != NULL ? getenv("SLNM_LOG")
						     : "notice");
	if (getenv("SLNM_ONLY") != NULL)
		cmocka_set_test_filter(getenv("SLNM_ONLY"));
	return cmocka_run_group_tests_name("nlmirror", t, group_setup,
					   group_teardown);
}
