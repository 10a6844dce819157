/*
 * Channels (sl_chnl.h): the table udp_input reads, binding and its
 * steering rules, the queues between the graph threads and the owner.
 *
 * The table is a cuckoo hash from (address, port) to the channel, with
 * one writer at a time (chnl_lock) and lock-free readers. A closed
 * channel leaves the table first; it is freed after a QSBR grace period
 * of the stack's domain, when no graph thread can hold its pointer.
 */
#define SL_LOG_MODULE "cnet"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sl_log.h>
#include <sluice/sl_steer.h>

#include "cnet_private.h"

#define CHNL_TXQ_DEPTH 4096
#define CHNL_PORT_FIRST 49152
#define CHNL_GRACE_WAIT_NS 100000L
/* a graph thread that stopped walking without leaving the QSBR domain */
#define CHNL_GRACE_MAX_WAITS 100000

int
cnet_chnl_init(struct sl_cnet *c)
{
	pthread_mutex_init(&c->chnl_lock, NULL);
	c->chnl_port_next = CHNL_PORT_FIRST;
	c->chnls = sl_hash_create("cnet_chnl", SL_CHNL_MAX,
				  sizeof(struct cnet_chnl_key));
	if (c->chnls == NULL)
		return -errno;
	c->chnl_txq = sl_ring_create("cnet_chnl_tx", CHNL_TXQ_DEPTH, 0);
	if (c->chnl_txq == NULL) {
		sl_hash_free(c->chnls);
		c->chnls = NULL;
		return -errno;
	}
	return 0;
}

void
cnet_chnl_fini(struct sl_cnet *c)
{
	void *m;

	if (c->chnl_txq != NULL)
		while (sl_ring_dequeue(c->chnl_txq, &m) == 0)
			sl_mbuf_free(m);
	sl_ring_free(c->chnl_txq);
	if (c->nchnls != 0)
		SL_WARN("%u channels still open at the stack's end", c->nchnls);
	sl_hash_free(c->chnls);
	pthread_mutex_destroy(&c->chnl_lock);
}

/* ---- steering ----------------------------------------------------------- */

/* Add the channel's rule on one device (chnl_lock held). */
static void
rule_add(struct sl_chnl *ch, const char *dev)
{
	struct sl_steer_rule r;
	unsigned id;
	int err;

	if (ch->nrules == CNET_CHNL_RULES) {
		SL_WARN("channel %u: more than %d devices, %s gets no rule",
			ch->local.port, CNET_CHNL_RULES, dev);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.prio = SL_STEER_PRIO_AUTO;
	r.ethertype = 0x0800;
	r.ip_proto = IPPROTO_UDP;
	r.port_lo = r.port_hi = ch->local.port;
	if (ch->local.ip != 0) {
		uint32_t be = htonl(ch->local.ip);

		r.dst_family = AF_INET;
		r.dst_plen = 32;
		memcpy(r.dst, &be, sizeof(be));
	}
	r.action = SL_STEER_XSK;
	err = sl_steer_rule_add(dev, &r, &id);
	if (err < 0) {
		SL_WARN("channel %u: steering rule on %s: %s", ch->local.port,
			dev, sl_strerror(-err));
		return;
	}
	snprintf(ch->rules[ch->nrules].dev, sizeof(ch->rules[0].dev), "%s",
		 dev);
	ch->rules[ch->nrules++].id = id;
}

int
sl_cnet_steer_attach(struct sl_cnet *c, const char *ifname, bool transit)
{
	struct sl_steer_rule r;
	unsigned i;
	int err = 0;

	if (c == NULL || ifname == NULL || strlen(ifname) >= 16)
		return -EINVAL;
	pthread_mutex_lock(&c->chnl_lock);
	for (i = 0; i < c->nsteer; i++)
		if (strcmp(c->steer_devs[i], ifname) == 0)
			goto unlock; /* once */
	if (c->nsteer == CNET_STEER_DEVS) {
		err = -ENOSPC;
		goto unlock;
	}
	if (transit) {
		err = sl_steer_rule_parse("transit xsk", &r);
		if (err == 0)
			err = sl_steer_rule_add(ifname, &r, NULL);
		if (err < 0)
			goto unlock;
	}
	snprintf(c->steer_devs[c->nsteer++], sizeof(c->steer_devs[0]), "%s",
		 ifname);
	for (i = 0; i < SL_CHNL_MAX; i++)
		if (c->chnl_list[i] != NULL && c->chnl_list[i]->bound)
			rule_add(c->chnl_list[i], ifname);
unlock:
	pthread_mutex_unlock(&c->chnl_lock);
	return err;
}

/* ---- binding ------------------------------------------------------------ */

/* Is (ip, port) free: no binding of the same port with the same or a
 * wildcard address on either side? (chnl_lock held) */
static bool
port_free(const struct sl_cnet *c, uint32_t ip, uint16_t port)
{
	const struct sl_chnl *o;
	unsigned i;

	for (i = 0; i < SL_CHNL_MAX; i++) {
		o = c->chnl_list[i];
		if (o != NULL && o->bound && o->local.port == port &&
		    (o->local.ip == 0 || ip == 0 || o->local.ip == ip))
			return false;
	}
	return true;
}

struct sl_chnl *
sl_chnl_udp4(struct sl_cnet *c, sl_chnl_cb cb, void *arg)
{
	struct sl_chnl *ch;
	char name[32];
	unsigned i;
	int err;

	if (c == NULL || c->chnls == NULL) {
		errno = EINVAL;
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->cnet = c;
	ch->cb = cb;
	ch->arg = arg;
	pthread_mutex_lock(&c->chnl_lock);
	for (i = 0; i < SL_CHNL_MAX && c->chnl_list[i] != NULL; i++)
		;
	if (i == SL_CHNL_MAX) {
		err = ENOSPC;
		goto fail;
	}
	snprintf(name, sizeof(name), "chnl%u", i);
	ch->rxq = sl_ring_create(name, SL_CHNL_RX_DEPTH, SL_RING_F_SC_DEQ);
	if (ch->rxq == NULL) {
		err = errno;
		goto fail;
	}
	c->chnl_list[i] = ch;
	pthread_mutex_unlock(&c->chnl_lock);
	return ch;
fail:
	pthread_mutex_unlock(&c->chnl_lock);
	free(ch);
	errno = err;
	return NULL;
}

int
sl_chnl_bind(struct sl_chnl *ch, const struct sl_chnl_addr *a)
{
	struct sl_cnet *c;
	struct cnet_chnl_key k;
	uint16_t port;
	unsigned i;
	int err;

	if (ch == NULL || a == NULL || ch->bound)
		return -EINVAL;
	c = ch->cnet;
	pthread_mutex_lock(&c->chnl_lock);
	port = a->port;
	if (port == 0) {
		for (i = 0; i < 65536 - CHNL_PORT_FIRST; i++) {
			port = c->chnl_port_next;
			c->chnl_port_next = port == UINT16_MAX
						    ? CHNL_PORT_FIRST
						    : (uint16_t)(port + 1);
			if (port_free(c, a->ip, port))
				break;
		}
		if (i == 65536 - CHNL_PORT_FIRST) {
			err = -ENOSPC;
			goto unlock;
		}
	} else if (!port_free(c, a->ip, port)) {
		err = -EADDRINUSE;
		goto unlock;
	}
	memset(&k, 0, sizeof(k));
	k.ip = a->ip;
	k.port = port;
	err = sl_hash_add(c->chnls, &k, (uint64_t)(uintptr_t)ch);
	if (err < 0)
		goto unlock;
	ch->local.ip = a->ip;
	ch->local.port = port;
	ch->bound = true;
	__atomic_add_fetch(&c->nchnls, 1, __ATOMIC_RELEASE);
	for (i = 0; i < c->nsteer; i++)
		rule_add(ch, c->steer_devs[i]);
unlock:
	pthread_mutex_unlock(&c->chnl_lock);
	return err;
}

int
sl_chnl_connect(struct sl_chnl *ch, const struct sl_chnl_addr *a)
{
	struct sl_chnl_addr any = {0, 0};
	int err;

	if (ch == NULL || a == NULL || a->ip == 0 || a->port == 0)
		return -EINVAL;
	if (!ch->bound) {
		err = sl_chnl_bind(ch, &any);
		if (err < 0)
			return err;
	}
	ch->peer = *a;
	ch->connected = true;
	return 0;
}

/* "ADDR:PORT" or "PORT" (addr_opt) into a; logs what is wrong. */
static int
addr_parse(const char *spec, const char *s, bool addr_opt,
	   struct sl_chnl_addr *a)
{
	const char *colon = strrchr(s, ':');
	char ip[INET_ADDRSTRLEN];
	struct in_addr in;
	unsigned long port;
	char *end;

	memset(a, 0, sizeof(*a));
	if (colon != NULL) {
		if ((size_t)(colon - s) >= sizeof(ip)) {
			SL_ERR("channel '%s': '%.*s' is not an IPv4 address",
			       spec, (int)(colon - s), s);
			return -EINVAL;
		}
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
		if (inet_pton(AF_INET, ip, &in) != 1) {
			SL_ERR("channel '%s': '%s' is not an IPv4 address",
			       spec, ip);
			return -EINVAL;
		}
		a->ip = ntohl(in.s_addr);
		s = colon + 1;
	} else if (!addr_opt) {
		SL_ERR("channel '%s': expected ADDR:PORT", spec);
		return -EINVAL;
	}
	errno = 0;
	port = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || port == 0 ||
	    port > UINT16_MAX) {
		SL_ERR("channel '%s': '%s' is not a port (1..65535)", spec, s);
		return -EINVAL;
	}
	a->port = (uint16_t)port;
	if (!addr_opt && a->ip == 0) {
		SL_ERR("channel '%s': the peer address may not be 0.0.0.0",
		       spec);
		return -EINVAL;
	}
	return 0;
}

struct sl_chnl *
sl_chnl_open(struct sl_cnet *c, const char *spec, sl_chnl_cb cb, void *arg)
{
	static const char listen[] = "udp4-listen:", conn[] = "udp4:";
	struct sl_chnl_addr a;
	struct sl_chnl *ch;
	bool is_listen;
	int err;

	if (c == NULL || spec == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (strncmp(spec, listen, sizeof(listen) - 1) == 0)
		is_listen = true;
	else if (strncmp(spec, conn, sizeof(conn) - 1) == 0)
		is_listen = false;
	else {
		SL_ERR("channel '%s': expected udp4-listen:[ADDR:]PORT or "
		       "udp4:ADDR:PORT",
		       spec);
		errno = EINVAL;
		return NULL;
	}
	err = addr_parse(spec,
			 spec + (is_listen ? sizeof(listen) : sizeof(conn)) - 1,
			 is_listen, &a);
	if (err < 0) {
		errno = -err;
		return NULL;
	}
	ch = sl_chnl_udp4(c, cb, arg);
	if (ch == NULL)
		return NULL;
	err = is_listen ? sl_chnl_bind(ch, &a) : sl_chnl_connect(ch, &a);
	if (err < 0) {
		SL_ERR("channel '%s': %s", spec, sl_strerror(-err));
		sl_chnl_close(ch);
		errno = -err;
		return NULL;
	}
	return ch;
}

/* ---- data --------------------------------------------------------------- */

unsigned
sl_chnl_recvfrom(struct sl_chnl *ch, struct sl_mbuf **pkts,
		 struct sl_chnl_addr *from, unsigned n)
{
	unsigned i, got;

	if (ch == NULL || pkts == NULL)
		return 0;
	got = sl_ring_dequeue_burst(ch->rxq, (void **)pkts, n, NULL);
	if (from != NULL)
		for (i = 0; i < got; i++) {
			from[i].ip = cnet_meta(pkts[i])->raddr;
			from[i].port = cnet_meta(pkts[i])->rport;
		}
	return got;
}

int
sl_chnl_sendto(struct sl_chnl *ch, struct sl_mbuf **pkts, unsigned n,
	       const struct sl_chnl_addr *to)
{
	struct cnet_meta *meta;
	uint64_t bytes = 0;
	unsigned i, sent;

	if (ch == NULL || !ch->bound || (pkts == NULL && n != 0))
		return -EINVAL;
	if (to == NULL) {
		if (!ch->connected)
			return -EINVAL;
		to = &ch->peer;
	}
	if (to->ip == 0 || to->port == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (pkts[i] == NULL || pkts[i]->nb_segs != 1 ||
		    pkts[i]->data_off < SL_CHNL_HEADROOM ||
		    pkts[i]->data_len > UINT16_MAX - CNET_UDP_HDRS)
			return -EINVAL;
		meta = cnet_meta(pkts[i]);
		meta->laddr = ch->local.ip;
		meta->lport = ch->local.port;
		meta->raddr = to->ip;
		meta->rport = to->port;
		meta->in_ifindex = 0;
	}
	sent = sl_ring_enqueue_burst(ch->cnet->chnl_txq, (void *const *)pkts, n,
				     NULL);
	for (i = 0; i < sent; i++)
		bytes += pkts[i]->data_len;
	__atomic_add_fetch(&ch->st.tx_pkts, sent, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ch->st.tx_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ch->st.tx_full, n - sent, __ATOMIC_RELAXED);
	return (int)sent;
}

struct sl_mbuf *
sl_chnl_alloc(struct sl_chnl *ch)
{
	struct sl_mbuf *m;

	if (ch == NULL || ch->cnet->cfg.pool == NULL)
		return NULL;
	m = sl_mbuf_alloc(ch->cnet->cfg.pool);
	if (m != NULL && m->data_off < SL_CHNL_HEADROOM) {
		sl_mbuf_free(m);
		return NULL;
	}
	return m;
}

void
sl_chnl_close(struct sl_chnl *ch)
{
	struct timespec ts = {0, CHNL_GRACE_WAIT_NS};
	struct cnet_chnl_key k;
	struct sl_cnet *c;
	uint64_t token;
	bool was_bound;
	unsigned i;
	void *m;

	if (ch == NULL)
		return;
	c = ch->cnet;
	pthread_mutex_lock(&c->chnl_lock);
	was_bound = ch->bound;
	if (ch->bound) {
		memset(&k, 0, sizeof(k));
		k.ip = ch->local.ip;
		k.port = ch->local.port;
		(void)sl_hash_del(c->chnls, &k);
		__atomic_sub_fetch(&c->nchnls, 1, __ATOMIC_RELEASE);
		for (i = 0; i < ch->nrules; i++)
			(void)sl_steer_rule_del(ch->rules[i].dev,
						ch->rules[i].id);
	}
	for (i = 0; i < SL_CHNL_MAX; i++)
		if (c->chnl_list[i] == ch)
			c->chnl_list[i] = NULL;
	pthread_mutex_unlock(&c->chnl_lock);
	/* graph threads found it before it left the table until their next
	 * quiescent state */
	token = was_bound ? sl_fib_qsbr_start(c->qsbr) : 0;
	for (i = 0; was_bound && !sl_fib_qsbr_check(c->qsbr, token); i++) {
		if (i == CHNL_GRACE_MAX_WAITS) {
			SL_ERR("channel %u: a graph thread reports no "
			       "quiescent "
			       "state; the channel is left allocated",
			       ch->local.port);
			return;
		}
		nanosleep(&ts, NULL);
	}
	while (sl_ring_dequeue(ch->rxq, &m) == 0)
		sl_mbuf_free(m);
	sl_ring_free(ch->rxq);
	free(ch);
}

int
sl_chnl_stats_get(const struct sl_chnl *ch, struct sl_chnl_stats *st)
{
	if (ch == NULL || st == NULL)
		return -EINVAL;
	st->rx_pkts = __atomic_load_n(&ch->st.rx_pkts, __ATOMIC_RELAXED);
	st->rx_bytes = __atomic_load_n(&ch->st.rx_bytes, __ATOMIC_RELAXED);
	st->rx_full = __atomic_load_n(&ch->st.rx_full, __ATOMIC_RELAXED);
	st->tx_pkts = __atomic_load_n(&ch->st.tx_pkts, __ATOMIC_RELAXED);
	st->tx_bytes = __atomic_load_n(&ch->st.tx_bytes, __ATOMIC_RELAXED);
	st->tx_full = __atomic_load_n(&ch->st.tx_full, __ATOMIC_RELAXED);
	return 0;
}

int
sl_chnl_local(const struct sl_chnl *ch, struct sl_chnl_addr *a)
{
	if (ch == NULL || a == NULL || !ch->bound)
		return -EINVAL;
	*a = ch->local;
	return 0;
}
