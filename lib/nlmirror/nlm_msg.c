/*
 * One rtnetlink message -> the mirror's state and the consumer's events.
 * Links, addresses, routes and neighbours are decoded by libnl-route-3;
 * nexthop objects (RTM_NEWNEXTHOP, which libnl 3.7 does not know) and the
 * two route attributes it skips (RTA_NH_ID, RTA_VIA) are read with
 * libnl's message and attribute helpers.
 */
#define SL_LOG_MODULE "nlmirror"
#include <net/if.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "sluice/sl_log.h"
#include "nlm_private.h"

/* Neighbour states with a usable link-layer address. */
#define NLM_NUD_VALID                                                          \
	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT |   \
	 NUD_NOARP)

static void
ignore(struct sl_nlm *m)
{
	NLM_STAT_INC(m, ignored);
}

static void
want(struct sl_nlm *m, int todo)
{
	if (todo > m->todo)
		m->todo = todo;
}

/* ---- events ---- */

static void
ev_link(struct sl_nlm *m, const struct sl_nlm_link *l, bool del)
{
	if (m->ops.link == NULL)
		return;
	NLM_STAT_INC(m, events);
	m->ops.link(m->arg, l, del);
}

static void
ev_addr(struct sl_nlm *m, const struct sl_nlm_addr *a, bool del)
{
	if (m->ops.addr == NULL)
		return;
	NLM_STAT_INC(m, events);
	m->ops.addr(m->arg, a, del);
}

static void
ev_route(struct sl_nlm *m, const struct sl_nlm_route *r, bool del)
{
	if (m->ops.route == NULL)
		return;
	NLM_STAT_INC(m, events);
	m->ops.route(m->arg, r, del);
}

static void
ev_neigh(struct sl_nlm *m, const struct sl_nlm_neigh *n, bool del)
{
	if (m->ops.neigh == NULL)
		return;
	NLM_STAT_INC(m, events);
	m->ops.neigh(m->arg, n, del);
}

/* ---- libnl objects ---- */

static void
obj_keep(struct nl_object *obj, void *arg)
{
	struct nl_object **out = arg;

	if (*out == NULL) {
		nl_object_get(obj);
		*out = obj;
	}
}

/* Decode a link or address message into its libnl object (or NULL). */
static struct nl_object *
obj_parse(const struct nlmsghdr *nlh)
{
	struct nl_object *obj = NULL;
	struct nl_msg *msg;

	msg = nlmsg_convert((struct nlmsghdr *)(uintptr_t)nlh);
	if (msg == NULL)
		return NULL;
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	(void)nl_msg_parse(msg, obj_keep, &obj);
	nlmsg_free(msg);
	return obj;
}

/* An IPv4 nl_addr in host order; false when it is not one. */
static bool
addr4(struct nl_addr *a, uint32_t *out)
{
	uint32_t be;

	if (a == NULL || nl_addr_get_family(a) != AF_INET ||
	    nl_addr_get_len(a) != sizeof(be))
		return false;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	*out = ntohl(be);
	return true;
}

static bool
mac_get(struct nl_addr *a, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (a == NULL || nl_addr_get_len(a) != 6)
		return false;
	memcpy(mac, nl_addr_get_binary_addr(a), 6);
	return memcmp(mac, zero, 6) != 0;
}

/* ---- links ---- */

static bool
link_match(const struct nlm_hnode *n, const void *key)
{
	return ((const struct nlm_link *)n)->l.ifindex == *(const int *)key;
}

static struct nlm_link *
link_find(struct sl_nlm *m, int ifindex)
{
	return (struct nlm_link *)nlm_htab_find(
		&m->links, nlm_hash32(&ifindex, sizeof(ifindex)), link_match,
		&ifindex);
}

static bool
link_same(const struct sl_nlm_link *a, const struct sl_nlm_link *b)
{
	return a->ifindex == b->ifindex && a->mtu == b->mtu &&
	       a->admin_up == b->admin_up && a->oper_up == b->oper_up &&
	       memcmp(a->mac, b->mac, sizeof(a->mac)) == 0 &&
	       strcmp(a->name, b->name) == 0;
}

static void
handle_link(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	bool del = nlh->nlmsg_type == RTM_DELLINK, changed = true;
	struct sl_nlm_link l;
	struct rtnl_link *rl;
	struct nlm_link *e;
	unsigned int flags;
	const char *name;

	rl = (struct rtnl_link *)obj_parse(nlh);
	if (rl == NULL) {
		SL_DBG("link message (type %u) not decoded: ignored",
		       nlh->nlmsg_type);
		ignore(m);
		return;
	}
	/* AF_BRIDGE messages describe bridge ports, not the link itself */
	if (rtnl_link_get_family(rl) != AF_UNSPEC) {
		rtnl_link_put(rl);
		ignore(m);
		return;
	}
	memset(&l, 0, sizeof(l));
	l.ifindex = rtnl_link_get_ifindex(rl);
	name = rtnl_link_get_name(rl);
	if (name != NULL)
		snprintf(l.name, sizeof(l.name), "%s", name);
	(void)mac_get(rtnl_link_get_addr(rl), l.mac);
	l.mtu = rtnl_link_get_mtu(rl);
	flags = rtnl_link_get_flags(rl);
	l.admin_up = (flags & IFF_UP) != 0;
	/* IFF_RUNNING: the kernel's operstate is UP (or UNKNOWN) */
	l.oper_up = l.admin_up && (flags & IFF_RUNNING) != 0;
	rtnl_link_put(rl);

	e = link_find(m, l.ifindex);
	if (del) {
		if (e != NULL) {
			nlm_htab_del(&m->links, &e->h);
			free(e);
		}
		ev_link(m, &l, true);
		/* its routes and nexthop objects went without a message */
		want(m, NLM_TODO_ROUTES);
		return;
	}
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e != NULL) {
			e->h.hash = nlm_hash32(&l.ifindex, sizeof(l.ifindex));
			e->l = l;
			nlm_htab_add(&m->links, &e->h);
		} else {
			SL_ERR("link %s (ifindex %d): no memory to track it",
			       l.name, l.ifindex);
		}
	} else {
		changed = !link_same(&e->l, &l);
		/* IPv4 removes or revives routes and nexthop objects of a
		 * link going down or up without telling */
		if (e->l.admin_up != l.admin_up || e->l.oper_up != l.oper_up)
			want(m, NLM_TODO_ROUTES);
		e->l = l;
	}
	if (e != NULL)
		e->gen = m->gen;
	if (changed || m->in_resync)
		ev_link(m, &l, false);
}

static bool
link_sweep(struct nlm_hnode *n, void *arg)
{
	struct sl_nlm *m = arg;
	struct nlm_link *e = (struct nlm_link *)n;

	if (e->gen == m->gen)
		return false;
	free(e);
	return true;
}

void
nlm_sweep_links(struct sl_nlm *m)
{
	nlm_htab_sweep(&m->links, link_sweep, m);
}

/* ---- addresses ---- */

static void
handle_addr(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	bool del = nlh->nlmsg_type == RTM_DELADDR;
	struct rtnl_addr *ra;
	struct sl_nlm_addr a;

	ra = (struct rtnl_addr *)obj_parse(nlh);
	if (ra == NULL) {
		ignore(m);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (rtnl_addr_get_family(ra) != AF_INET ||
	    !addr4(rtnl_addr_get_local(ra), &a.addr)) {
		rtnl_addr_put(ra);
		ignore(m);
		return;
	}
	a.ifindex = rtnl_addr_get_ifindex(ra);
	a.plen = (uint8_t)rtnl_addr_get_prefixlen(ra);
	rtnl_addr_put(ra);
	ev_addr(m, &a, del);
	/* routes with this preferred source went without a message */
	if (del)
		want(m, NLM_TODO_ROUTES);
}

/* ---- nexthop objects ---- */

static bool
nh_match(const struct nlm_hnode *n, const void *key)
{
	return ((const struct nlm_nh *)n)->id == *(const uint32_t *)key;
}

static struct nlm_nh *
nh_find(struct sl_nlm *m, uint32_t id)
{
	return (struct nlm_nh *)nlm_htab_find(
		&m->nhs, nlm_hash32(&id, sizeof(id)), nh_match, &id);
}

static void
nh_free(struct nlm_nh *nh)
{
	free(nh->grp);
	free(nh);
}

static bool
nh_group_has(struct sl_nlm *m, uint32_t group, uint32_t id)
{
	struct nlm_nh *g = nh_find(m, group);
	uint32_t i;

	if (g == NULL)
		return false;
	for (i = 0; i < g->ngrp; i++)
		if (g->grp[i].id == id)
			return true;
	return false;
}

/* Add the IPv4 path of one single nexthop object; false if it has none. */
static bool
nh_path(const struct nlm_nh *nh, uint32_t weight, struct sl_nlm_route *r)
{
	struct sl_nlm_path *p;

	if (nh->ngrp > 0 || nh->blackhole || nh->fdb || nh->gw6 || nh->dead)
		return false;
	if (r->npaths == SL_NLM_MAX_PATHS)
		return false;
	p = &r->paths[r->npaths++];
	p->gw = nh->gw;
	p->ifindex = nh->oif;
	p->weight = weight;
	return true;
}

/*
 * Fill r's paths (and its type, for a blackhole object) from nexthop
 * object id. -ENOENT when the mirror does not know the object.
 */
static int
nh_resolve(struct sl_nlm *m, uint32_t id, struct sl_nlm_route *r)
{
	struct nlm_nh *nh = nh_find(m, id), *mb;
	uint32_t i;

	r->npaths = 0;
	memset(r->paths, 0, sizeof(r->paths));
	if (nh == NULL)
		return -ENOENT;
	if (nh->blackhole) {
		r->type = SL_NLM_RT_BLACKHOLE;
		return 0;
	}
	if (nh->ngrp == 0) {
		(void)nh_path(nh, 1, r);
		return 0;
	}
	for (i = 0; i < nh->ngrp; i++) {
		mb = nh_find(m, nh->grp[i].id);
		if (mb == NULL)
			continue;
		/* the kernel allows a blackhole only as a group's sole member
		 */
		if (mb->blackhole && nh->ngrp == 1) {
			r->type = SL_NLM_RT_BLACKHOLE;
			return 0;
		}
		(void)nh_path(mb, nh->grp[i].weight, r);
	}
	return 0;
}

/* ---- routes ---- */

static bool
route_match(const struct nlm_hnode *n, const void *key)
{
	return memcmp(&((const struct nlm_route *)n)->k, key,
		      sizeof(struct nlm_route_key)) == 0;
}

static void
route_key(const struct sl_nlm_route *r, struct nlm_route_key *k)
{
	memset(k, 0, sizeof(*k));
	k->table = r->table;
	k->dst = r->dst;
	k->priority = r->priority;
	k->plen = r->plen;
}

static struct nlm_route *
route_find(struct sl_nlm *m, const struct nlm_route_key *k)
{
	return (struct nlm_route *)nlm_htab_find(
		&m->routes, nlm_hash32(k, sizeof(*k)), route_match, k);
}

static void
route_nh_unlink(struct sl_nlm *m, struct nlm_route *e)
{
	if (e->nh_id == 0)
		return;
	if (e->nh_prev != NULL)
		e->nh_prev->nh_next = e->nh_next;
	else
		m->nh_routes = e->nh_next;
	if (e->nh_next != NULL)
		e->nh_next->nh_prev = e->nh_prev;
	e->nh_prev = e->nh_next = NULL;
	e->nh_id = 0;
}

static void
route_nh_link(struct sl_nlm *m, struct nlm_route *e, uint32_t nh_id)
{
	if (e->nh_id == nh_id)
		return;
	route_nh_unlink(m, e);
	if (nh_id == 0)
		return;
	e->nh_id = nh_id;
	e->nh_prev = NULL;
	e->nh_next = m->nh_routes;
	if (m->nh_routes != NULL)
		m->nh_routes->nh_prev = e;
	m->nh_routes = e;
}

static void
route_free(struct sl_nlm *m, struct nlm_route *e)
{
	route_nh_unlink(m, e);
	nlm_htab_del(&m->routes, &e->h);
	free(e);
}

/*
 * Report a route unless it is what was reported last (outside a resync
 * window, where everything is reported). base_type: the route's own type,
 * before a blackhole nexthop object changed it.
 */
static void
route_report(struct sl_nlm *m, const struct sl_nlm_route *r, uint8_t base_type)
{
	struct nlm_route_key k;
	struct nlm_route *e;
	uint64_t sum;

	route_key(r, &k);
	sum = nlm_hash64(r, sizeof(*r));
	e = route_find(m, &k);
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			SL_ERR("route %08x/%u: no memory to track it", r->dst,
			       r->plen);
			ev_route(m, r, false);
			return;
		}
		e->k = k;
		e->h.hash = nlm_hash32(&k, sizeof(k));
		nlm_htab_add(&m->routes, &e->h);
	} else if (!m->in_resync && e->sum == sum) {
		e->gen = m->gen;
		return;
	}
	e->gen = m->gen;
	e->sum = sum;
	e->type = base_type;
	e->protocol = r->protocol;
	route_nh_link(m, e, r->nh_id);
	ev_route(m, r, false);
}

static void
route_from_entry(const struct nlm_route *e, struct sl_nlm_route *r)
{
	memset(r, 0, sizeof(*r));
	r->dst = e->k.dst;
	r->plen = e->k.plen;
	r->table = e->k.table;
	r->priority = e->k.priority;
	r->type = e->type;
	r->protocol = e->protocol;
	r->nh_id = e->nh_id;
}

/* Nexthop object id changed: report again the routes that use it,
 * directly or through a group. */
static void
nh_changed(struct sl_nlm *m, uint32_t id)
{
	struct nlm_route *e, *next;
	struct sl_nlm_route r;

	for (e = m->nh_routes; e != NULL; e = next) {
		next = e->nh_next;
		if (e->nh_id != id && !nh_group_has(m, e->nh_id, id))
			continue;
		route_from_entry(e, &r);
		if (nh_resolve(m, e->nh_id, &r) < 0)
			continue;
		route_report(m, &r, e->type);
	}
}

/* Nexthop object id is gone: the kernel removed the routes naming it
 * without a message. */
static void
nh_removed(struct sl_nlm *m, uint32_t id)
{
	struct nlm_route *e, *next;
	struct sl_nlm_route r;

	for (e = m->nh_routes; e != NULL; e = next) {
		next = e->nh_next;
		if (e->nh_id != id)
			continue;
		route_from_entry(e, &r);
		route_free(m, e);
		ev_route(m, &r, true);
	}
}

static uint8_t
route_type(uint8_t rtm_type)
{
	switch (rtm_type) {
	case RTN_UNICAST:
		return SL_NLM_RT_UNICAST;
	case RTN_LOCAL:
		return SL_NLM_RT_LOCAL;
	case RTN_BLACKHOLE:
		return SL_NLM_RT_BLACKHOLE;
	case RTN_UNREACHABLE:
		return SL_NLM_RT_UNREACHABLE;
	case RTN_PROHIBIT:
		return SL_NLM_RT_PROHIBIT;
	default:
		return SL_NLM_RT_OTHER;
	}
}

/*
 * Which paths of a route message have an IPv6 gateway (RTA_VIA, which
 * libnl 3.7 does not decode): bit i for path i (bit 0 for a single path).
 */
static uint32_t
route_via_mask(const struct nlmsghdr *nlh)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)nlh;
	struct nlattr *mp;
	struct rtnexthop *rtnh;
	uint32_t mask = 0, i = 0;
	int len;

	if (nlmsg_find_attr(h, sizeof(struct rtmsg), RTA_VIA) != NULL)
		mask |= 1;
	mp = nlmsg_find_attr(h, sizeof(struct rtmsg), RTA_MULTIPATH);
	if (mp == NULL)
		return mask;
	rtnh = nla_data(mp);
	len = nla_len(mp);
	while (len >= (int)sizeof(*rtnh) && rtnh->rtnh_len >= sizeof(*rtnh) &&
	       rtnh->rtnh_len <= len && i < 32) {
		if (nla_find((struct nlattr *)RTNH_DATA(rtnh),
			     rtnh->rtnh_len - (int)sizeof(*rtnh),
			     RTA_VIA) != NULL)
			mask |= 1u << i;
		len -= RTNH_ALIGN(rtnh->rtnh_len);
		rtnh = RTNH_NEXT(rtnh);
		i++;
	}
	return mask;
}

/* The paths of the route message itself (gateway/oif or RTA_MULTIPATH). */
static void
route_own_paths(struct sl_nlm *m, struct rtnl_route *rr,
		const struct nlmsghdr *nlh, struct sl_nlm_route *r)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)nlh;
	bool multi =
		nlmsg_find_attr(h, sizeof(struct rtmsg), RTA_MULTIPATH) != NULL;
	uint32_t via = route_via_mask(nlh);
	int i, n = rtnl_route_get_nnexthops(rr);
	struct rtnl_nexthop *nh;
	struct sl_nlm_path *p;

	for (i = 0; i < n; i++) {
		nh = rtnl_route_nexthop_n(rr, i);
		if (nh == NULL)
			break;
		/* dead: its link is down, the kernel does not use it */
		if (rtnl_route_nh_get_flags(nh) & RTNH_F_DEAD)
			continue;
		if (i < 32 && (via & (1u << i)))
			continue; /* IPv6 gateway: not an IPv4 path */
		if (r->npaths == SL_NLM_MAX_PATHS) {
			if (!m->warned_paths)
				SL_WARN("route %08x/%u has more than %d paths: "
					"the rest are left out",
					r->dst, r->plen, SL_NLM_MAX_PATHS);
			m->warned_paths = true;
			break;
		}
		p = &r->paths[r->npaths++];
		(void)addr4(rtnl_route_nh_get_gateway(nh), &p->gw);
		p->ifindex = rtnl_route_nh_get_ifindex(nh);
		/* rtnh_hops holds weight - 1 */
		p->weight = multi ? rtnl_route_nh_get_weight(nh) + 1u : 1u;
	}
}

static void
handle_route(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)nlh;
	bool del = nlh->nlmsg_type == RTM_DELROUTE;
	const struct rtmsg *rtm = nlmsg_data(h);
	struct nlm_route_key k;
	struct rtnl_route *rr;
	struct sl_nlm_route r;
	struct nlm_route *e;
	struct nlattr *a;
	uint8_t base_type;
	uint32_t table;
	int err;

	/* other families, cache clones, TOS and source-specific routes */
	if (rtm->rtm_family != AF_INET || (rtm->rtm_flags & RTM_F_CLONED) ||
	    rtm->rtm_tos != 0 || rtm->rtm_src_len != 0) {
		ignore(m);
		return;
	}
	a = nlmsg_find_attr(h, sizeof(*rtm), RTA_TABLE);
	table = a != NULL && nla_len(a) >= 4 ? nla_get_u32(a) : rtm->rtm_table;
	if (table != m->cfg.table && table != RT_TABLE_LOCAL) {
		ignore(m);
		return;
	}
	err = rtnl_route_parse(h, &rr);
	if (err < 0) {
		SL_DBG("route message not decoded (%s): ignored",
		       nl_geterror(err));
		ignore(m);
		return;
	}
	memset(&r, 0, sizeof(r));
	(void)addr4(rtnl_route_get_dst(rr), &r.dst);
	r.plen = rtm->rtm_dst_len;
	r.table = table;
	r.priority = rtnl_route_get_priority(rr);
	r.protocol = rtm->rtm_protocol;
	r.type = base_type = route_type(rtm->rtm_type);
	a = nlmsg_find_attr(h, sizeof(*rtm), RTA_NH_ID);
	if (a != NULL && nla_len(a) >= 4)
		r.nh_id = nla_get_u32(a);

	if (del) {
		rtnl_route_put(rr);
		route_key(&r, &k);
		e = route_find(m, &k);
		if (e != NULL)
			route_free(m, e);
		ev_route(m, &r, true);
		return;
	}
	switch (r.type) {
	case SL_NLM_RT_BLACKHOLE:
	case SL_NLM_RT_UNREACHABLE:
	case SL_NLM_RT_PROHIBIT:
		break;
	default:
		/* a route naming a nexthop object takes its paths from the
		 * object (nexthop_compat_mode may omit them here) */
		if (r.nh_id == 0 || nh_resolve(m, r.nh_id, &r) < 0) {
			r.type = base_type;
			route_own_paths(m, rr, nlh, &r);
		}
		break;
	}
	rtnl_route_put(rr);
	route_report(m, &r, base_type);
}

struct route_sweep_arg {
	struct sl_nlm *m;
	bool report;
};

static bool
route_sweep(struct nlm_hnode *n, void *arg)
{
	struct route_sweep_arg *sa = arg;
	struct nlm_route *e = (struct nlm_route *)n;
	struct sl_nlm_route r;

	if (e->gen == sa->m->gen)
		return false;
	route_from_entry(e, &r);
	route_nh_unlink(sa->m, e);
	free(e);
	if (sa->report)
		ev_route(sa->m, &r, true);
	return true;
}

void
nlm_sweep_routes(struct sl_nlm *m, bool report)
{
	struct route_sweep_arg sa = {.m = m, .report = report};

	nlm_htab_sweep(&m->routes, route_sweep, &sa);
}

/* ---- nexthop objects (RTM_NEWNEXTHOP, decoded here) ---- */

static int
nh_decode(const struct nlmsghdr *nlh, struct nlattr **tb, struct nlm_nh *nh)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)nlh;
	const struct nhmsg *nhm = nlmsg_data(h);
	const struct nexthop_grp *g;
	uint32_t i, be;

	nh->family = nhm->nh_family;
	nh->dead = (nhm->nh_flags & RTNH_F_DEAD) != 0;
	nh->blackhole = tb[NHA_BLACKHOLE] != NULL;
	nh->fdb = tb[NHA_FDB] != NULL;
	if (tb[NHA_OIF] != NULL && nla_len(tb[NHA_OIF]) >= 4)
		nh->oif = (int)nla_get_u32(tb[NHA_OIF]);
	if (tb[NHA_GATEWAY] != NULL) {
		if (nla_len(tb[NHA_GATEWAY]) == 4) {
			memcpy(&be, nla_data(tb[NHA_GATEWAY]), 4);
			nh->gw = ntohl(be);
		} else {
			nh->gw6 = true;
		}
	}
	if (tb[NHA_GROUP] != NULL) {
		nh->ngrp = (uint32_t)nla_len(tb[NHA_GROUP]) / sizeof(*g);
		if (nh->ngrp == 0)
			return 0;
		nh->grp = calloc(nh->ngrp, sizeof(*nh->grp));
		if (nh->grp == NULL)
			return -ENOMEM;
		g = nla_data(tb[NHA_GROUP]);
		for (i = 0; i < nh->ngrp; i++) {
			nh->grp[i].id = g[i].id;
			/* weight - 1; its high byte is resvd1 (Linux 6.12+
			 * weights up to 65536, 0 before) */
			nh->grp[i].weight =
				((uint32_t)g[i].resvd1 << 8 | g[i].weight) + 1;
		}
	}
	return 0;
}

static uint64_t
nh_sum(const struct nlm_nh *nh)
{
	uint64_t h;
	struct {
		uint32_t gw;
		int32_t oif;
		uint32_t ngrp;
		uint8_t family, blackhole, fdb, gw6, dead, pad[3];
	} c;

	memset(&c, 0, sizeof(c));
	c.gw = nh->gw;
	c.oif = nh->oif;
	c.ngrp = nh->ngrp;
	c.family = nh->family;
	c.blackhole = nh->blackhole;
	c.fdb = nh->fdb;
	c.gw6 = nh->gw6;
	c.dead = nh->dead;
	h = nlm_hash64(&c, sizeof(c));
	if (nh->ngrp > 0)
		h ^= nlm_hash64(nh->grp, nh->ngrp * sizeof(*nh->grp)) * 31;
	return h;
}

static void
handle_nexthop(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(uintptr_t)nlh;
	struct nlattr *tb[NHA_MAX + 1];
	struct nlm_nh tmp, *nh;
	uint32_t id;
	int err;

	err = nlmsg_parse(h, sizeof(struct nhmsg), tb, NHA_MAX, NULL);
	if (err < 0 || tb[NHA_ID] == NULL || nla_len(tb[NHA_ID]) < 4) {
		ignore(m);
		return;
	}
	id = nla_get_u32(tb[NHA_ID]);
	nh = nh_find(m, id);
	if (nlh->nlmsg_type == RTM_DELNEXTHOP) {
		if (nh != NULL) {
			nlm_htab_del(&m->nhs, &nh->h);
			nh_free(nh);
		}
		nh_removed(m, id);
		/* groups with it lose a path (their update follows) */
		nh_changed(m, id);
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (nh_decode(nlh, tb, &tmp) < 0) {
		SL_ERR("nexthop object %u: no memory for its group", id);
		want(m, NLM_TODO_FULL);
		return;
	}
	tmp.sum = nh_sum(&tmp);
	if (nh != NULL && nh->sum == tmp.sum) {
		free(tmp.grp);
		nh->gen = m->gen;
		return;
	}
	if (nh == NULL) {
		nh = calloc(1, sizeof(*nh));
		if (nh == NULL) {
			SL_ERR("nexthop object %u: no memory to track it", id);
			free(tmp.grp);
			want(m, NLM_TODO_FULL);
			return;
		}
		nh->id = id;
		nh->h.hash = nlm_hash32(&id, sizeof(id));
		nlm_htab_add(&m->nhs, &nh->h);
	}
	free(nh->grp);
	tmp.h = nh->h;
	tmp.id = id;
	*nh = tmp;
	nh->gen = m->gen;
	nh_changed(m, id);
}

static bool
nh_sweep(struct nlm_hnode *n, void *arg)
{
	struct sl_nlm *m = arg;
	struct nlm_nh *nh = (struct nlm_nh *)n;

	if (nh->gen == m->gen)
		return false;
	nh_free(nh);
	return true;
}

void
nlm_sweep_nhs(struct sl_nlm *m)
{
	nlm_htab_sweep(&m->nhs, nh_sweep, m);
}

/* ---- neighbours ---- */

static void
handle_neigh(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	bool del = nlh->nlmsg_type == RTM_DELNEIGH, has_mac;
	struct rtnl_neigh *rn;
	struct sl_nlm_neigh n;
	int state, type, err;

	err = rtnl_neigh_parse((struct nlmsghdr *)(uintptr_t)nlh, &rn);
	if (err < 0) {
		ignore(m);
		return;
	}
	memset(&n, 0, sizeof(n));
	if (rtnl_neigh_get_family(rn) != AF_INET ||
	    (rtnl_neigh_get_flags(rn) & NTF_PROXY) ||
	    !addr4(rtnl_neigh_get_dst(rn), &n.ip)) {
		rtnl_neigh_put(rn);
		ignore(m);
		return;
	}
	n.ifindex = rtnl_neigh_get_ifindex(rn);
	state = rtnl_neigh_get_state(rn);
	n.state = state < 0 ? 0 : (uint16_t)state;
	type = rtnl_neigh_get_type(rn);
	has_mac = mac_get(rtnl_neigh_get_lladdr(rn), n.mac);
	rtnl_neigh_put(rn);
	/* multicast and broadcast entries map an address, they resolve
	 * nothing; NOARP entries without a MAC have nothing to give; the
	 * kernel keys every entry of a point-to-point link as 0.0.0.0 */
	if (n.ip == 0 || IN_MULTICAST(n.ip) || n.ip == INADDR_BROADCAST ||
	    type == RTN_MULTICAST || type == RTN_BROADCAST ||
	    ((n.state & NUD_NOARP) && !has_mac)) {
		ignore(m);
		return;
	}
	n.valid = has_mac && (n.state & NLM_NUD_VALID) != 0;
	if (!has_mac)
		memset(n.mac, 0, sizeof(n.mac));
	ev_neigh(m, &n, del);
}

/* ---- dispatch ---- */

void
nlm_msg_handle(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	size_t hdr;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		hdr = sizeof(struct ifinfomsg);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		hdr = sizeof(struct ifaddrmsg);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		hdr = sizeof(struct rtmsg);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		hdr = sizeof(struct ndmsg);
		break;
	case RTM_NEWNEXTHOP:
	case RTM_DELNEXTHOP:
		hdr = sizeof(struct nhmsg);
		break;
	default:
		ignore(m);
		return;
	}
	if (nlh->nlmsg_len < NLMSG_LENGTH(hdr)) {
		ignore(m);
		return;
	}
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		handle_link(m, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		handle_addr(m, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		handle_route(m, nlh);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		handle_neigh(m, nlh);
		break;
	default:
		handle_nexthop(m, nlh);
		break;
	}
}

static bool
free_link(struct nlm_hnode *n, void *arg)
{
	(void)arg;
	free(n);
	return true;
}

static bool
free_nh(struct nlm_hnode *n, void *arg)
{
	(void)arg;
	nh_free((struct nlm_nh *)n);
	return true;
}

void
nlm_state_free(struct sl_nlm *m)
{
	nlm_htab_sweep(&m->links, free_link, NULL);
	nlm_htab_sweep(&m->nhs, free_nh, NULL);
	/* routes: free_link frees any node allocated whole */
	m->nh_routes = NULL;
	nlm_htab_sweep(&m->routes, free_link, NULL);
	nlm_htab_fini(&m->links);
	nlm_htab_fini(&m->nhs);
	nlm_htab_fini(&m->routes);
}
