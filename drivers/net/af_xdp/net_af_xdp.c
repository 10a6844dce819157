/*
 * net_af_xdp: an lport on one queue of a network device through an AF_XDP
 * socket (Documentation/networking/af_xdp.rst), over libxdp's <xdp/xsk.h>.
 *
 * UMEM = the lport's mempool (D1). The whole object area of cfg->pool is
 * registered as the UMEM, one chunk per frame, with frame_headroom = the
 * mbuf metadata (128 bytes): the kernel writes a packet at frame + 128 +
 * XDP_PACKET_HEADROOM (256), where a fresh mbuf's data starts. Hence:
 *   - RX: the fill ring gets free frames of the pool in bursts; a received
 *     descriptor is turned back into the mbuf of its frame, with no copy;
 *   - TX: an mbuf whose frame is in the pool is posted as it is (its data
 *     address is a UMEM offset) and returns to the pool from the
 *     completion ring; other mbufs (other pools, chains) are copied into a
 *     frame of the pool first and freed.
 * Every frame handed to the kernel is marked in a bitmap owned by the
 * thread of that direction (fill: RX, TX ring: TX), so that close returns
 * the frames the kernel still held to the pool.
 *
 * Steering: our XDP program (bpf/steer.bpf.c, af_xdp_prog.c) is attached
 * once per device and shared by the lports on its queues; the socket goes
 * into its XSKMAP at the queue's index and its queue is then enabled. With
 * xsk_pin_path the XSKMAP pinned by someone else is used instead (no
 * CAP_BPF/CAP_NET_ADMIN needed), and a map pinned next to it as "qmask"
 * is updated when present.
 *
 * need_wakeup is always requested: RX calls recvfrom() when the fill ring
 * asks for it (or with busy polling), TX calls sendto() when the TX ring
 * asks for it.
 */
#define SL_LOG_MODULE "net_af_xdp"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"
#include "sl_pktdev_driver.h"
#include "../netif/netif.h"
#include "af_xdp_prog.h"
#include "af_xdp_uds.h"

/* Newer than the 6.1 UAPI headers of some build machines. */
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

#define AXQ_RING_DEF 1024u
#define AXQ_RING_MAX 16384u
#define AXQ_MAX_QUEUES 256u /* entries of the program's maps */
#define AXQ_FILL_BURST 64u
#define AXQ_COMP_BURST 64u
#define AXQ_VLAN_HLEN 4
#define AXQ_KICK_MAX 64 /* sendto() calls per TX burst at most */
#define AXQ_BITS 64u
#define AXQ_BUSY_TRIES 100 /* binds to a queue still being released */
#define AXQ_BUSY_WAIT_US 10000
#define AXQ_MAX_SEGS 18 /* descriptors of a packet: MAX_SKB_FRAGS + 1 */

enum axq_bind {
	AXQ_BIND_AUTO = 0,
	AXQ_BIND_ZC,
	AXQ_BIND_NATIVE,
	AXQ_BIND_SKB,
};

/* RX side: the RX thread only. */
struct axq_rx {
	struct sl_port *port;
	struct sl_mempool *pool;
	char *base;
	uint64_t frame_mask; /* ~(frame_size - 1) */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	uint32_t in_fill;     /* frames the kernel holds for RX */
	uint32_t fill_target; /* frames to keep there */
	int fd;
	bool busy_poll;	  /* recvfrom() on an empty ring runs the NAPI */
	bool busy_wanted; /* busy polling asked for, NAPI id not seen yet */
	bool napi_defer;  /* defer the device's NAPI once an id is seen */
	uint32_t napi_probes;
	uint64_t *owned; /* bitmap: frame in the fill or RX ring */
	/* multi-buffer: a chain whose last descriptor has not arrived */
	struct sl_mbuf *head, *tail;
} __sl_cache_aligned;

/* TX side: the TX thread only (max_len also by mtu_set). */
struct axq_tx {
	struct sl_port *port;
	struct sl_mempool *pool;
	char *base;
	uint64_t frame_mask;
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	uint32_t max_len;   /* longest packet sent */
	uint32_t copy_room; /* data room of a frame of the pool */
	uint32_t max_segs;  /* descriptors of one packet (1 without SG) */
	uint32_t inflight;  /* frames posted and not completed yet */
	int fd;
	bool busy_poll;
	uint64_t copies; /* packets copied into the UMEM */
	uint64_t *owned; /* bitmap: frame in the TX or completion ring */
} __sl_cache_aligned;

struct axq_umem;

struct axq_port {
	struct axq_rx rxq;
	struct axq_tx txq;
	struct axq_umem *um; /* the pool's UMEM, maybe shared */
	struct xsk_socket *xsk;
	struct axp_dev *dev;   /* NULL with xsk_pin_path */
	struct axq_napi *napi; /* deferred NAPI of the device, or NULL */
	bool sg;	       /* multi-buffer (XDP_USE_SG) */
	int ctl_fd;	       /* for interface ioctls (an XSK has none) */
	int xsks_fd, qmask_fd;
	bool pinned; /* the map fds are ours to close */
	/* uds_path: the device plugin's session, shared with its lports */
	struct axu_session *uds;
	bool in_map;
	uint32_t qid;
	int ifindex;
	char ifname[IFNAMSIZ];
	const char *bind_name;
	pthread_mutex_t kstats_lock;
	struct xdp_statistics kbase; /* subtracted: stats_reset */
};
SL_STATIC_ASSERT(offsetof(struct axq_port, rxq) == 0,
		 "axq_napi_defer_late() finds the port from its rxq");

/* ---- data path ----------------------------------------------------------- */

static inline void
axq_bit_set(uint64_t *bm, uint32_t i)
{
	bm[i / AXQ_BITS] |= UINT64_C(1) << (i % AXQ_BITS);
}

static inline void
axq_bit_clear(uint64_t *bm, uint32_t i)
{
	bm[i / AXQ_BITS] &= ~(UINT64_C(1) << (i % AXQ_BITS));
}

/* Top the fill ring up to fill_target with frames of the pool. */
static inline void
axq_refill(struct axq_rx *q)
{
	void *objs[AXQ_FILL_BURST];
	uint32_t want, n, i, idx = 0;

	while (q->in_fill < q->fill_target) {
		want = SL_MIN(q->fill_target - q->in_fill, AXQ_FILL_BURST);
		n = SL_MIN(xsk_prod_nb_free(&q->fill, want), want);
		if (n == 0)
			return;
		if (unlikely(sl_mempool_get_bulk(q->pool, objs, n) < 0)) {
			q->port->rx.nombuf++;
			return;
		}
		(void)xsk_ring_prod__reserve(&q->fill, n, &idx);
		for (i = 0; i < n; i++) {
			uint64_t off = (uint64_t)((char *)objs[i] - q->base);

			*xsk_ring_prod__fill_addr(&q->fill, idx + i) = off;
			axq_bit_set(q->owned,
				    sl_mempool_obj_index(q->pool, objs[i]));
		}
		xsk_ring_prod__submit(&q->fill, n);
		q->in_fill += n;
	}
}

#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif
#define AXQ_NAPI_PROBE_EVERY 256 /* bursts between two looks */
#define AXQ_NAPI_PROBES 64	 /* looks before giving up */

/*
 * Busy polling works only on a socket with a NAPI id (the kernel marks it
 * from the packets it receives): a copy-mode socket on a veth never gets
 * one, and a recvfrom() on every empty poll is then a syscall for
 * nothing. Until an id is seen, the RX path polls as without busy
 * polling; it looks every AXQ_NAPI_PROBE_EVERY bursts, and gives up (and
 * says so) after AXQ_NAPI_PROBES looks.
 */
static void axq_napi_defer_late(struct axq_rx *q);

static void __attribute__((noinline, cold)) axq_napi_probe(struct axq_rx *q)
{
	unsigned id = 0;
	socklen_t len = sizeof(id);

	if (++q->napi_probes % AXQ_NAPI_PROBE_EVERY != 0)
		return;
	if (getsockopt(q->fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len) ==
		    0 &&
	    id != 0) {
		q->busy_poll = true;
		q->busy_wanted = false;
		SL_INFO("%s: busy polling NAPI %u", q->port->name, id);
		if (q->napi_defer)
			axq_napi_defer_late(q);
	} else if (q->napi_probes / AXQ_NAPI_PROBE_EVERY >= AXQ_NAPI_PROBES) {
		q->busy_wanted = false;
		SL_NOTICE("%s: busy polling has no effect: the socket has no "
			  "NAPI id (a copy-mode socket on a veth has none); "
			  "polling without it",
			  q->port->name);
	}
}

/* Nothing received: refill, and let the kernel run when it must. */
static inline void
axq_rx_idle(struct axq_rx *q)
{
	axq_refill(q);
	if (q->busy_poll || xsk_ring_prod__needs_wakeup(&q->fill))
		(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* The mbuf of the frame a received descriptor points into, reset to
 * hold what the kernel wrote there. */
static inline struct sl_mbuf *
axq_rx_mbuf(struct axq_rx *q, const struct xdp_desc *d)
{
	uint64_t frame = d->addr & q->frame_mask;
	struct sl_mbuf *m = (struct sl_mbuf *)(q->base + frame);

	axq_bit_clear(q->owned, sl_mempool_obj_index(q->pool, m));
	sl_mbuf_reset(m);
	m->data_off = (uint16_t)(d->addr - frame - SL_MBUF_META_SIZE);
	m->data_len = (uint16_t)d->len;
	m->pkt_len = d->len;
	return m;
}

static uint16_t
axq_rx_burst(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct axq_rx *q = queue;
	const struct xdp_desc *d;
	struct sl_mbuf *m;
	uint64_t bytes = 0;
	uint32_t nb, i, idx = 0;

	nb = xsk_ring_cons__peek(&q->rx, n, &idx);
	if (nb == 0) {
		axq_rx_idle(q);
		return 0;
	}
	for (i = 0; i < nb; i++) {
		d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		m = axq_rx_mbuf(q, d);
		m->packet_type = netif_ptype_ether(
			sl_mbuf_mtod(m, const uint8_t *), d->len);
		bytes += d->len;
		pkts[i] = m;
	}
	xsk_ring_cons__release(&q->rx, nb);
	q->in_fill -= nb;
	axq_refill(q);
	if (unlikely(q->busy_wanted))
		axq_napi_probe(q);
	q->port->rx.bytes += bytes;
	return (uint16_t)nb;
}

/*
 * RX with multi-buffer (XDP_USE_SG): a packet is one descriptor, or several
 * in a row with XDP_PKT_CONTD on all but the last; they become one chain.
 * A chain cut by the end of a burst is kept in q->head until the rest
 * arrives. At most n descriptors are taken, so at most n packets.
 */
static uint16_t
axq_rx_burst_sg(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct axq_rx *q = queue;
	const struct xdp_desc *d;
	struct sl_mbuf *m, *h;
	uint64_t bytes = 0;
	uint32_t nb, i, idx = 0;
	uint16_t np = 0;

	nb = xsk_ring_cons__peek(&q->rx, n, &idx);
	if (nb == 0) {
		axq_rx_idle(q);
		return 0;
	}
	for (i = 0; i < nb; i++) {
		d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		m = axq_rx_mbuf(q, d);
		bytes += d->len;
		h = q->head;
		if (h == NULL) {
			q->head = q->tail = m;
		} else if (likely(h->nb_segs < SL_MBUF_MAX_SEGS)) {
			q->tail->next = m;
			q->tail = m;
			h->nb_segs++;
			h->pkt_len += d->len;
		} else {
			/* cannot happen with the kernel's fragment limit */
			sl_mbuf_free(m);
			q->port->rx.errors++;
		}
		if (d->options & XDP_PKT_CONTD)
			continue;
		h = q->head;
		h->packet_type = netif_ptype_ether(
			sl_mbuf_mtod(h, const uint8_t *), h->data_len);
		pkts[np++] = h;
		q->head = NULL;
	}
	xsk_ring_cons__release(&q->rx, nb);
	q->in_fill -= nb;
	axq_refill(q);
	if (unlikely(q->busy_wanted))
		axq_napi_probe(q);
	q->port->rx.bytes += bytes;
	return np;
}

/* Return the frames the kernel has sent to the pool. */
static inline void
axq_complete(struct axq_tx *q)
{
	void *objs[AXQ_COMP_BURST];
	uint32_t n, i, idx = 0;

	while ((n = xsk_ring_cons__peek(&q->comp, AXQ_COMP_BURST, &idx)) > 0) {
		for (i = 0; i < n; i++) {
			uint64_t a =
				*xsk_ring_cons__comp_addr(&q->comp, idx + i);

			objs[i] = q->base + (a & q->frame_mask);
			axq_bit_clear(q->owned,
				      sl_mempool_obj_index(q->pool, objs[i]));
		}
		xsk_ring_cons__release(&q->comp, n);
		q->inflight -= n;
		sl_mempool_put_bulk(q->pool, objs, n);
	}
}

/* Entries of the TX ring the kernel has not taken yet. */
static inline uint32_t
axq_tx_pending(const struct xsk_ring_prod *r)
{
	return r->cached_prod - __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
}

/* Make the kernel send what the TX ring holds. In copy mode each
 * sendto() sends a batch of descriptors and asks for another call with
 * EAGAIN. */
static inline void
axq_kick(struct axq_tx *q)
{
	int i;

	/* nothing to send, and (busy polling) nothing to complete */
	if (axq_tx_pending(&q->tx) == 0 && (!q->busy_poll || q->inflight == 0))
		return;
	if (!q->busy_poll && !xsk_ring_prod__needs_wakeup(&q->tx))
		return;
	for (i = 0; i < AXQ_KICK_MAX; i++) {
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 &&
		    axq_tx_pending(&q->tx) == 0)
			return;
		if (axq_tx_pending(&q->tx) == 0)
			return;
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
		    errno != EINTR)
			return;
		/* the completion ring may be full: make room */
		axq_complete(q);
	}
}

/* The UMEM offset at which m's data can be sent, copying m into a frame
 * of the pool when it is not a single frame of it. 0 or -ENOBUFS. */
static inline int
axq_tx_addr(struct axq_tx *q, struct sl_mbuf *m, uint64_t *addr)
{
	struct sl_mbuf *c;

	if (likely(m->pool == q->pool && m->next == NULL)) {
		*addr = sl_mbuf_pool_offset(m);
		return 0;
	}
	c = sl_mbuf_alloc(q->pool);
	if (unlikely(c == NULL))
		return -ENOBUFS;
	netif_mbuf_copy_out(m, sl_mbuf_mtod(c, uint8_t *));
	c->data_len = (uint16_t)m->pkt_len;
	c->pkt_len = m->pkt_len;
	sl_mbuf_free(m);
	q->copies++;
	*addr = sl_mbuf_pool_offset(c);
	return 0;
}

static uint16_t
axq_tx_burst(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct axq_tx *q = queue;
	struct xdp_desc *d;
	uint32_t room, i, idx = 0, len, max_len, posted = 0;
	uint64_t bytes = 0, addr;
	uint16_t bad = 0;

	axq_complete(q);
	room = xsk_prod_nb_free(&q->tx, n);
	if (room > n)
		room = n;
	if (room == 0 || xsk_ring_prod__reserve(&q->tx, room, &idx) != room) {
		axq_kick(q);
		return 0;
	}
	max_len = __atomic_load_n(&q->max_len, __ATOMIC_RELAXED);
	for (i = 0; i < room; i++) {
		len = pkts[i]->pkt_len;
		if (unlikely(len < ETH_HLEN || len > max_len)) {
			sl_mbuf_free(pkts[i]);
			bad++;
			continue;
		}
		if (unlikely(axq_tx_addr(q, pkts[i], &addr) < 0))
			break; /* pool empty: the rest stays the caller's */
		d = xsk_ring_prod__tx_desc(&q->tx, idx + posted);
		d->addr = addr;
		d->len = len;
		d->options = 0;
		axq_bit_set(q->owned,
			    sl_mempool_obj_index(q->pool, q->base + addr));
		posted++;
		bytes += len;
	}
	if (posted < room) {
		/* give back the unused reservations (a producer may cancel
		 * entries it has not submitted) */
		q->tx.cached_prod -= room - posted;
	}
	if (posted > 0) {
		xsk_ring_prod__submit(&q->tx, posted);
		q->inflight += posted;
	}
	axq_kick(q);
	q->port->tx.bytes += bytes;
	if (unlikely(bad != 0))
		netif_tx_dropped(q->port, bad);
	return (uint16_t)i;
}

/* Can m be posted as it is: every segment a non-empty frame of the pool? */
static inline bool
axq_sg_direct(const struct axq_tx *q, const struct sl_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (m->pool != q->pool || m->data_len == 0)
			return false;
	return true;
}

/* Descriptors a copy of a packet of len bytes takes: the first frame holds
 * copy_room bytes (after the headroom), the others a whole buffer. */
static inline uint32_t
axq_sg_copy_segs(const struct axq_tx *q, uint32_t len)
{
	uint32_t seg_room = sl_mempool_obj_size(q->pool) - SL_MBUF_META_SIZE;

	if (len <= q->copy_room)
		return 1;
	return 1 + (len - q->copy_room + seg_room - 1) / seg_room;
}

/* A copy of m in frames of the pool, or NULL when the pool ran out. */
static struct sl_mbuf *
axq_sg_copy(struct axq_tx *q, const struct sl_mbuf *m)
{
	struct sl_mbuf *c = sl_mbuf_alloc(q->pool);

	if (c == NULL)
		return NULL;
	for (; m != NULL; m = m->next)
		if (netif_mbuf_append_copy(q->pool, c,
					   sl_mbuf_mtod(m, const void *),
					   m->data_len) < 0) {
			sl_mbuf_free(c);
			return NULL;
		}
	return c;
}

/*
 * TX with multi-buffer: a chain goes out as one descriptor per segment,
 * XDP_PKT_CONTD on all but the last, each frame returning to the pool from
 * the completion ring. A chain with segments of other pools is copied
 * into frames of the pool first. A packet is posted only when all its
 * descriptors fit in the ring.
 */
static uint16_t
axq_tx_burst_sg(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct axq_tx *q = queue;
	struct xdp_desc *d;
	struct sl_mbuf *m, *s;
	uint32_t i, k, segs, idx = 0, total = 0, max_len;
	uint64_t bytes = 0;
	uint16_t bad = 0;
	bool direct;

	axq_complete(q);
	max_len = __atomic_load_n(&q->max_len, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		m = pkts[i];
		direct = axq_sg_direct(q, m);
		segs = direct ? m->nb_segs : axq_sg_copy_segs(q, m->pkt_len);
		if (unlikely(m->pkt_len < ETH_HLEN || m->pkt_len > max_len ||
			     segs > q->max_segs)) {
			sl_mbuf_free(m);
			bad++;
			continue;
		}
		if (xsk_prod_nb_free(&q->tx, segs) < segs)
			break;
		if (!direct) {
			m = axq_sg_copy(q, m);
			if (unlikely(m == NULL))
				break; /* pool empty: the rest stays the
					  caller's */
			sl_mbuf_free(pkts[i]);
			q->copies++;
		}
		(void)xsk_ring_prod__reserve(&q->tx, segs, &idx);
		for (s = m, k = 0; s != NULL; s = s->next, k++) {
			d = xsk_ring_prod__tx_desc(&q->tx, idx + k);
			d->addr = sl_mbuf_pool_offset(s);
			d->len = s->data_len;
			d->options = s->next != NULL ? XDP_PKT_CONTD : 0;
			axq_bit_set(q->owned, sl_mempool_obj_index(q->pool, s));
		}
		total += segs;
		bytes += m->pkt_len;
	}
	if (total > 0) {
		xsk_ring_prod__submit(&q->tx, total);
		q->inflight += total;
	}
	axq_kick(q);
	q->port->tx.bytes += bytes;
	if (unlikely(bad != 0))
		netif_tx_dropped(q->port, bad);
	return (uint16_t)i;
}

/* ---- control path -------------------------------------------------------- */

enum axq_tri { AXQ_AUTO = 0, AXQ_YES, AXQ_NO };

struct axq_opts {
	enum axq_bind bind;
	enum axq_tri busy_poll, multi_buffer;
	bool force;
	uint64_t busy_timeout, busy_budget;
	const char *pin_path;
	enum axp_steer steer; /* device default action (sl_steer.h) */
	const char *uds_path; /* the XSKMAP from a device plugin socket */
	uint64_t uds_timeout; /* ms, each reply of its protocol */
};

static const char *const axq_binds[] = {"auto", "zc", "native", "skb", NULL};
static const char *const axq_steers[] = {
	[AXP_STEER_ALL] = "all", [AXP_STEER_RULES] = "rules", NULL};
static const char *const axq_tris[] = {"auto", "yes", "no", NULL};

/* uds_path and uds_timeout: no program of ours, like xsk_pin_path. */
static int
axq_uds_opts_parse(const struct sl_kvargs *kv, struct axq_opts *o)
{
	const char *port = sl_kvargs_port(kv);
	int err;

	o->uds_path = sl_kvargs_str(kv, "uds_path", NULL);
	err = sl_kvargs_u64(kv, "uds_timeout", AXU_TIMEOUT_DEF_MS, 1, 3600000,
			    &o->uds_timeout);
	if (err < 0)
		return err;
	if (o->uds_path == NULL) {
		if (sl_kvargs_str(kv, "uds_timeout", NULL) != NULL) {
			SL_ERR("%s: option 'uds_timeout' needs uds_path", port);
			return -EINVAL;
		}
		return 0;
	}
	if (o->uds_path[0] == '\0') {
		SL_ERR("%s: option 'uds_path': empty path", port);
		return -EINVAL;
	}
	if (o->pin_path != NULL) {
		SL_ERR("%s: options 'uds_path' and 'xsk_pin_path' exclude each "
		       "other (both name the XSKMAP to use)",
		       port);
		return -EINVAL;
	}
	if (o->force || sl_kvargs_str(kv, "steer", NULL) != NULL) {
		SL_ERR("%s: options 'force' and 'steer' do not apply with "
		       "uds_path (the device plugin's program is used)",
		       port);
		return -EINVAL;
	}
	return 0;
}

static int
axq_opts_parse(const struct sl_kvargs *kv, struct axq_opts *o)
{
	int err, mode;

	mode = sl_kvargs_choice(kv, "mode", "auto", axq_binds);
	if (mode < 0)
		return mode;
	o->bind = (enum axq_bind)mode;
	mode = sl_kvargs_choice(kv, "busy_poll", "auto", axq_tris);
	if (mode < 0)
		return mode;
	o->busy_poll = (enum axq_tri)mode;
	mode = sl_kvargs_choice(kv, "multi_buffer", "auto", axq_tris);
	if (mode < 0)
		return mode;
	o->multi_buffer = (enum axq_tri)mode;
	mode = sl_kvargs_choice(kv, "steer", "all", axq_steers);
	if (mode < 0)
		return mode;
	o->steer = (enum axp_steer)mode;
	err = sl_kvargs_bool(kv, "force", false, &o->force);
	if (err == 0)
		err = sl_kvargs_u64(kv, "busy_timeout", 20, 1, 1000000,
				    &o->busy_timeout);
	if (err == 0)
		err = sl_kvargs_u64(kv, "busy_budget", 64, 1, 65535,
				    &o->busy_budget);
	if (err < 0)
		return err;
	o->pin_path = sl_kvargs_str(kv, "xsk_pin_path", NULL);
	if (o->pin_path != NULL && o->pin_path[0] == '\0') {
		SL_ERR("%s: option 'xsk_pin_path': empty path",
		       sl_kvargs_port(kv));
		return -EINVAL;
	}
	if (o->pin_path != NULL && o->force) {
		SL_ERR("%s: option 'force' does not apply with xsk_pin_path "
		       "(no program is attached)",
		       sl_kvargs_port(kv));
		return -EINVAL;
	}
	if (o->pin_path != NULL && sl_kvargs_str(kv, "steer", NULL) != NULL) {
		SL_ERR("%s: option 'steer' does not apply with xsk_pin_path "
		       "(the program's loader steers)",
		       sl_kvargs_port(kv));
		return -EINVAL;
	}
	err = axq_uds_opts_parse(kv, o);
	if (err < 0)
		return err;
	if (o->busy_poll == AXQ_NO &&
	    (sl_kvargs_str(kv, "busy_timeout", NULL) ||
	     sl_kvargs_str(kv, "busy_budget", NULL))) {
		SL_ERR("%s: options 'busy_timeout' and 'busy_budget' do not "
		       "apply with busy_poll=no",
		       sl_kvargs_port(kv));
		return -EINVAL;
	}
	return 0;
}

/* Ring size: the cfg's count rounded up to a power of 2, or the default. */
static uint32_t
axq_ring_size(uint16_t desc)
{
	if (desc == 0)
		return AXQ_RING_DEF;
	return SL_MIN(sl_align32pow2(desc), AXQ_RING_MAX);
}

static int
axq_pool_check(const struct sl_port_cfg *cfg)
{
	uint32_t fs = sl_mempool_obj_size(cfg->pool);
	uintptr_t base = (uintptr_t)sl_mempool_base(cfg->pool);
	long page = sysconf(_SC_PAGESIZE);

	if (fs != 2048 && fs != 4096) {
		SL_ERR("%s: pool '%s' has frames of %u bytes: AF_XDP needs "
		       "2048 or 4096",
		       cfg->name, sl_mempool_name(cfg->pool), fs);
		return -EINVAL;
	}
	if (base % (uintptr_t)page != 0) {
		SL_ERR("%s: the frames of pool '%s' are not page aligned "
		       "(%p): they cannot be a UMEM",
		       cfg->name, sl_mempool_name(cfg->pool), (void *)base);
		return -EINVAL;
	}
	return 0;
}

/*
 * UMEMs: one per pool, shared by every lport over that pool
 * (XDP_SHARED_UMEM: queues of one device or of different devices). The
 * first socket of a UMEM is the UMEM's own socket (libxdp binds the UMEM's
 * fd): when its lport closes first, that socket stays bound to its queue,
 * out of every XSKMAP, until the last lport of the UMEM closes; its queue
 * cannot be opened again meanwhile (its fill ring would be the stale one).
 */
struct axq_umem {
	struct axq_umem *next;
	struct sl_mempool *pool;
	struct xsk_umem *umem;
	unsigned refs;	     /* sockets on it */
	unsigned long netns; /* queue of the UMEM's own socket */
	int ifindex;
	uint32_t qid;
	bool first_bound;	/* the own socket has been created */
	bool first_closed;	/* ... and its lport has closed */
	struct axq_port *first; /* the lport of the own socket */
};

static struct {
	pthread_mutex_t lock;
	struct axq_umem *list;
} axq_umems = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The UMEM of cfg->pool, registered now or shared; NULL on failure with
 * *err set. The caller holds axq_umems.lock. */
static struct axq_umem *
axq_umem_get(struct axq_port *ap, const struct sl_port_cfg *cfg,
	     uint32_t rx_size, uint32_t tx_size, int *err)
{
	struct xsk_umem_config ucfg = {
		.fill_size = rx_size,
		.comp_size = tx_size,
		.frame_size = sl_mempool_obj_size(cfg->pool),
		.frame_headroom = SL_MBUF_META_SIZE,
		.flags = 0,
	};
	size_t len = (size_t)sl_mempool_count(cfg->pool) * ucfg.frame_size;
	struct axq_umem *u;

	for (u = axq_umems.list; u != NULL; u = u->next) {
		if (u->pool != cfg->pool)
			continue;
		if (ap->sg) {
			SL_ERR("%s: multi-buffer lports cannot share pool "
			       "'%s' with another lport (a socket sharing a "
			       "UMEM is bound without XDP_USE_SG): give it a "
			       "pool of its own",
			       cfg->name, sl_mempool_name(cfg->pool));
			*err = -EINVAL;
			return NULL;
		}
		if (u->first_closed && u->netns == netif_netns() &&
		    u->ifindex == ap->ifindex && u->qid == ap->qid) {
			SL_ERR("%s: %s queue %u is still held by the first "
			       "socket of the UMEM of pool '%s', which stays "
			       "bound until the last lport over that pool "
			       "closes",
			       cfg->name, ap->ifname, ap->qid,
			       sl_mempool_name(cfg->pool));
			*err = -EBUSY;
			return NULL;
		}
		u->refs++;
		return u;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	/* the UMEM's fill and completion rings are the first lport's */
	*err = xsk_umem__create(&u->umem, sl_mempool_base(cfg->pool), len,
				&ap->rxq.fill, &ap->txq.comp, &ucfg);
	if (*err < 0) {
		SL_ERR("%s: registering pool '%s' (%zu bytes) as the UMEM: "
		       "%s%s",
		       cfg->name, sl_mempool_name(cfg->pool), len,
		       sl_strerror(*err),
		       *err == -ENOMEM || *err == -EPERM
			       ? " (RLIMIT_MEMLOCK too low?)"
			       : "");
		free(u);
		return NULL;
	}
	u->pool = cfg->pool;
	u->refs = 1;
	u->next = axq_umems.list;
	axq_umems.list = u;
	return u;
}

/* Drop a socket's reference; the last one deletes the UMEM (and with it
 * the UMEM's own socket). The caller holds axq_umems.lock. */
static void
axq_umem_put(struct axq_umem *u)
{
	struct axq_umem **pp;
	int err;

	if (--u->refs > 0)
		return;
	for (pp = &axq_umems.list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	err = xsk_umem__delete(u->umem);
	if (err < 0)
		SL_WARN("deleting the UMEM of pool '%s': %s",
			sl_mempool_name(u->pool), sl_strerror(err));
	free(u);
}

/* Create the socket, bound with flags, on the pool's UMEM (registered now
 * or shared). On failure nothing is left. */
static int
axq_xsk_create(struct axq_port *ap, const struct sl_port_cfg *cfg,
	       uint32_t rx_size, uint32_t tx_size, uint16_t bind_flags)
{
	struct xsk_socket_config scfg = {
		.rx_size = rx_size,
		.tx_size = tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = (uint16_t)(bind_flags | XDP_USE_NEED_WAKEUP),
	};
	struct axq_umem *u;
	int err, tries;

	pthread_mutex_lock(&axq_umems.lock);
	u = axq_umem_get(ap, cfg, rx_size, tx_size, &err);
	if (u == NULL)
		goto unlock;
	/* The kernel releases a closed socket's hold on the queue from a
	 * work queue: a bind right after a close may find it still busy. */
	for (tries = 0;; tries++) {
		err = xsk_socket__create_shared(
			&ap->xsk, ap->ifname, ap->qid, u->umem, &ap->rxq.rx,
			&ap->txq.tx, &ap->rxq.fill, &ap->txq.comp, &scfg);
		if (err != -EBUSY || tries == AXQ_BUSY_TRIES)
			break;
		usleep(AXQ_BUSY_WAIT_US);
	}
	if (err < 0) {
		ap->xsk = NULL;
		axq_umem_put(u);
		goto unlock;
	}
	if (!u->first_bound) {
		u->first_bound = true;
		u->first = ap;
		u->netns = netif_netns();
		u->ifindex = ap->ifindex;
		u->qid = ap->qid;
	}
	ap->um = u;
unlock:
	pthread_mutex_unlock(&axq_umems.lock);
	return err;
}

/* Close the socket and drop its UMEM reference. */
static void
axq_xsk_delete(struct axq_port *ap)
{
	pthread_mutex_lock(&axq_umems.lock);
	xsk_socket__delete(ap->xsk);
	ap->xsk = NULL;
	if (ap->um->first == ap) {
		ap->um->first = NULL;
		ap->um->first_closed = true;
	}
	axq_umem_put(ap->um);
	ap->um = NULL;
	pthread_mutex_unlock(&axq_umems.lock);
}

/* Multi-buffer when asked, or (auto) when the MTU needs it. */
static void
axq_sg_choose(struct axq_port *ap, const char *port, const struct axq_opts *o,
	      uint16_t mtu)
{
	uint32_t need = (uint32_t)mtu + ETH_HLEN + AXQ_VLAN_HLEN;
	bool big = need > ap->txq.copy_room;

	ap->sg = o->multi_buffer == AXQ_YES ||
		 (o->multi_buffer == AXQ_AUTO && big);
	ap->txq.max_segs = ap->sg ? AXQ_MAX_SEGS : 1;
	if (ap->sg && o->multi_buffer == AXQ_AUTO)
		SL_INFO("%s: MTU %u of %s takes more than the %u bytes of a "
			"frame: multi-buffer (packets as chains)",
			port, mtu, ap->ifname, ap->txq.copy_room);
	else if (big && !ap->sg)
		SL_WARN("%s: MTU %u of %s takes more than the %u bytes of a "
			"frame and multi_buffer=no: longer packets are "
			"dropped",
			port, mtu, ap->ifname, ap->txq.copy_room);
}

/* Is the socket bound in zero-copy mode? */
static bool
axq_is_zc(struct axq_port *ap)
{
	struct xdp_options opts = {0};
	socklen_t len = sizeof(opts);

	return getsockopt(xsk_socket__fd(ap->xsk), SOL_XDP, XDP_OPTIONS, &opts,
			  &len) == 0 &&
	       (opts.flags & XDP_OPTIONS_ZEROCOPY);
}

/* Bind as the mode asks; auto tries zero-copy first, then copy. */
static int
axq_bind(struct axq_port *ap, const struct sl_port_cfg *cfg,
	 const struct axq_opts *o, uint32_t rx_size, uint32_t tx_size)
{
	const char *where = ap->dev != NULL
				    ? axp_mode_name(axp_dev_mode(ap->dev))
				    : "pinned-map";
	uint16_t sg = ap->sg ? XDP_USE_SG : 0;
	int err;

	if (o->bind == AXQ_BIND_AUTO || o->bind == AXQ_BIND_ZC) {
		err = axq_xsk_create(ap, cfg, rx_size, tx_size,
				     XDP_ZEROCOPY | sg);
		if (err == 0 && axq_is_zc(ap)) {
			ap->bind_name = "zero-copy";
			return 0;
		}
		if (err == 0 && o->bind == AXQ_BIND_AUTO) {
			/* a socket sharing a UMEM is bound as the UMEM's
			 * first socket was */
			ap->bind_name = "copy";
			return 0;
		}
		if (err == 0) {
			axq_xsk_delete(ap);
			SL_ERR("%s: mode=zc: pool '%s' is the UMEM of an lport "
			       "bound in copy mode, which this one would share",
			       cfg->name, sl_mempool_name(cfg->pool));
			return -EOPNOTSUPP;
		}
		if (o->bind == AXQ_BIND_ZC) {
			SL_ERR("%s: zero-copy bind to %s queue %u: %s%s",
			       cfg->name, ap->ifname, ap->qid, sl_strerror(err),
			       err == -EOPNOTSUPP
				       ? " (the driver has no zero-copy "
					 "AF_XDP; mode=native or skb copies)"
				       : "");
			return err;
		}
		SL_INFO("%s: zero-copy bind to %s queue %u failed (%s): "
			"binding in copy mode",
			cfg->name, ap->ifname, ap->qid, sl_strerror(err));
	}
	err = axq_xsk_create(ap, cfg, rx_size, tx_size, XDP_COPY | sg);
	if (err < 0) {
		SL_ERR("%s: copy-mode%s bind to %s queue %u (program in %s "
		       "mode): %s%s",
		       cfg->name, ap->sg ? " multi-buffer" : "", ap->ifname,
		       ap->qid, where, sl_strerror(err),
		       err != -EINVAL ? ""
		       : ap->sg	      ? " (no such queue? multi-buffer "
					"AF_XDP needs Linux 6.6 or later)"
				      : " (no such queue?)");
		return err;
	}
	ap->bind_name = "copy";
	return 0;
}

/*
 * Preferred busy polling (busy_poll=auto|yes). The socket gets
 * SO_PREFER_BUSY_POLL, SO_BUSY_POLL and SO_BUSY_POLL_BUDGET; the device's
 * NAPI is deferred (napi_defer_hard_irqs, gro_flush_timeout) so that the
 * application's polling, not the softirq, runs it. The device values are
 * changed only when they are the kernel's defaults (0), once per device,
 * and restored when the last lport on the device closes, at exit, and on
 * SIGINT/SIGTERM (af_xdp_exit.c).
 */
#define AXQ_NAPI_DEFER 2
#define AXQ_GRO_FLUSH_NS 200000

struct axq_napi {
	struct axq_napi *next;
	unsigned long netns;
	int ifindex;
	unsigned refs;
	bool set; /* the values below are to be restored */
	uint64_t old_defer, old_gro;
	char ifname[IFNAMSIZ];
};

static struct {
	pthread_mutex_t lock;
	struct axq_napi *list;
} axq_napis = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int
axq_busy_sockopts(struct axq_port *ap, const struct axq_opts *o)
{
	int fd = xsk_socket__fd(ap->xsk), one = 1;
	int tmo = (int)o->busy_timeout, budget = (int)o->busy_budget;

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) <
		    0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &tmo, sizeof(tmo)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
		       sizeof(budget)) < 0)
		return -errno;
	return 0;
}

/* Defer the NAPI of ap's device (a reference on the device's entry). */
static int
axq_napi_get(struct axq_port *ap, const char *port)
{
	unsigned long netns = netif_netns();
	uint64_t defer, gro;
	struct axq_napi *n;
	int err = 0;

	pthread_mutex_lock(&axq_napis.lock);
	for (n = axq_napis.list; n != NULL; n = n->next)
		if (n->netns == netns && n->ifindex == ap->ifindex)
			break;
	if (n != NULL) {
		n->refs++;
		goto done;
	}
	err = netif_sysfs_get(ap->ifname, "napi_defer_hard_irqs", &defer);
	if (err == 0)
		err = netif_sysfs_get(ap->ifname, "gro_flush_timeout", &gro);
	if (err < 0) {
		SL_INFO("%s: reading the NAPI settings of %s: %s", port,
			ap->ifname, sl_strerror(err));
		goto unlock;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		err = -ENOMEM;
		goto unlock;
	}
	n->netns = netns;
	n->ifindex = ap->ifindex;
	n->refs = 1;
	snprintf(n->ifname, sizeof(n->ifname), "%s", ap->ifname);
	if (defer != 0 || gro != 0) {
		SL_INFO("%s: %s already has napi_defer_hard_irqs=%" PRIu64
			" gro_flush_timeout=%" PRIu64 ": kept as they are",
			port, ap->ifname, defer, gro);
	} else {
		err = netif_sysfs_set(ap->ifname, "napi_defer_hard_irqs",
				      AXQ_NAPI_DEFER);
		if (err == 0)
			err = netif_sysfs_set(ap->ifname, "gro_flush_timeout",
					      AXQ_GRO_FLUSH_NS);
		if (err < 0) {
			(void)netif_sysfs_set(ap->ifname,
					      "napi_defer_hard_irqs", defer);
			SL_INFO("%s: deferring the NAPI of %s: %s%s", port,
				ap->ifname, sl_strerror(err),
				err == -EACCES || err == -EPERM
					? " (needs CAP_NET_ADMIN)"
					: "");
			free(n);
			goto unlock;
		}
		n->set = true;
		n->old_defer = defer;
		n->old_gro = gro;
		SL_NOTICE("%s: preferred busy polling: set %s "
			  "napi_defer_hard_irqs=%u gro_flush_timeout=%u "
			  "(restored at exit)",
			  port, ap->ifname, AXQ_NAPI_DEFER, AXQ_GRO_FLUSH_NS);
	}
	n->next = axq_napis.list;
	axq_napis.list = n;
done:
	ap->napi = n;
unlock:
	pthread_mutex_unlock(&axq_napis.lock);
	return err;
}

static void
axq_napi_restore(const struct axq_napi *n)
{
	if (!n->set)
		return;
	(void)netif_sysfs_set(n->ifname, "gro_flush_timeout", n->old_gro);
	(void)netif_sysfs_set(n->ifname, "napi_defer_hard_irqs", n->old_defer);
}

static void
axq_napi_put(struct axq_napi *n)
{
	struct axq_napi **pp;

	if (n == NULL)
		return;
	pthread_mutex_lock(&axq_napis.lock);
	if (--n->refs == 0) {
		for (pp = &axq_napis.list; *pp != NULL; pp = &(*pp)->next)
			if (*pp == n) {
				*pp = n->next;
				break;
			}
		axq_napi_restore(n);
		if (n->set)
			SL_INFO("restored the NAPI settings of %s", n->ifname);
		free(n);
	}
	pthread_mutex_unlock(&axq_napis.lock);
}

/* ---- exit guard ------------------------------------------------------------
 * What the process changed outside itself is undone even when it does not
 * close its lports: at exit() and on SIGINT/SIGTERM (when the application
 * left their default action, which would kill it without cleanup), the XDP
 * programs it attached are detached and the NAPI settings restored. No
 * lock and no allocation there: it may run in a signal handler.
 */
static void
axq_undo_all(void)
{
	const struct axq_napi *n;

	axp_detach_all();
	for (n = axq_napis.list; n != NULL; n = n->next)
		axq_napi_restore(n);
}

static void
axq_exit_signal(int sig)
{
	axq_undo_all();
	/* SA_RESETHAND restored the default action: die of the signal */
	raise(sig);
}

static void
axq_exit_install(void)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	struct sigaction sa, old;
	unsigned i;

	if (atexit(axq_undo_all) != 0)
		SL_WARN("cannot register the exit handler: XDP programs stay "
			"attached if the lports are not closed");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = axq_exit_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < SL_DIM(sigs); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_DFL)
			(void)sigaction(sigs[i], &sa, NULL);
}

static void
axq_exit_guard(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, axq_exit_install);
}

static void axq_napi_defer(struct axq_port *ap, const char *port);

/* Busy polling as o asks: 0, or an error with busy_poll=yes. */
static int
axq_busy_setup(struct axq_port *ap, const char *port, const struct axq_opts *o)
{
	int err;

	if (o->busy_poll == AXQ_NO)
		return 0;
	err = axq_busy_sockopts(ap, o);
	/* without CAP_NET_ADMIN: the device plugin may set them */
	if (err == -EPERM && ap->uds != NULL && o->busy_poll == AXQ_YES)
		err = axu_busy_poll(ap->uds, port, xsk_socket__fd(ap->xsk),
				    (unsigned)o->busy_timeout,
				    (unsigned)o->busy_budget);
	if (err < 0) {
		if (o->busy_poll == AXQ_YES) {
			SL_ERR("%s: busy polling on %s: %s%s", port, ap->ifname,
			       sl_strerror(err),
			       err == -EPERM ? " (SO_BUSY_POLL above "
					       "net.core.busy_read needs "
					       "CAP_NET_ADMIN)"
					     : "");
			return err;
		}
		SL_INFO("%s: busy_poll=auto: no busy polling on %s (%s%s)",
			port, ap->ifname, sl_strerror(err),
			err == -EPERM ? ": needs CAP_NET_ADMIN" : "");
		return 0;
	}
	/* RX busy polls once the socket has a NAPI id (axq_napi_probe).
	 * With auto the device's NAPI is deferred only then: deferred with
	 * nobody busy polling it (a copy-mode socket on a veth never gets
	 * an id), it runs only when gro_flush_timeout expires, which here
	 * cost 4 % loss and 250 us of latency at 0.5 Mpps through a veth. */
	ap->rxq.busy_wanted = ap->txq.busy_poll = true;
	if (o->busy_poll == AXQ_AUTO) {
		ap->rxq.napi_defer = true;
		return 0;
	}
	axq_napi_defer(ap, port);
	return 0;
}

/* Defer the device's NAPI; the socket busy polls even when that cannot
 * be done from here (no CAP_NET_ADMIN: the host's to set). */
static void
axq_napi_defer(struct axq_port *ap, const char *port)
{
	if (axq_napi_get(ap, port) < 0)
		SL_NOTICE("%s: busy polling on %s without deferring its NAPI "
			  "(napi_defer_hard_irqs, gro_flush_timeout are the "
			  "host's to set)",
			  port, ap->ifname);
}

/* busy_poll=auto, from the RX thread when the socket got its NAPI id
 * (once: a mutex and two sysfs writes). */
static void
axq_napi_defer_late(struct axq_rx *q)
{
	struct axq_port *ap = (struct axq_port *)(void *)q; /* rxq is first */

	q->napi_defer = false;
	axq_napi_defer(ap, q->port->name);
}

/* The XSKMAP (and qmask) pinned at path. */
static int
axq_pin_open(struct axq_port *ap, const char *port, const char *path)
{
	char qpath[PATH_MAX];
	const char *slash;
	int err;

	ap->xsks_fd = bpf_obj_get(path);
	if (ap->xsks_fd < 0) {
		err = -errno;
		ap->xsks_fd = -1;
		SL_ERR("%s: option 'xsk_pin_path': opening the XSKMAP pinned "
		       "at %s: %s",
		       port, path, sl_strerror(err));
		return err;
	}
	ap->pinned = true;
	slash = strrchr(path, '/');
	snprintf(qpath, sizeof(qpath), "%.*s%sqmask",
		 slash != NULL ? (int)(slash - path) : 0, path,
		 slash != NULL ? "/" : "");
	ap->qmask_fd = bpf_obj_get(qpath);
	if (ap->qmask_fd < 0) {
		ap->qmask_fd = -1;
		SL_INFO("%s: no qmask map pinned at %s: the loader of the "
			"program enables queue %u",
			port, qpath, ap->qid);
	}
	return 0;
}

/* The XSKMAP of the device from the device plugin at o->uds_path: the
 * session shared with the other lports naming that path, then the map of
 * this netdev (asked once per session). */
static int
axq_uds_open(struct axq_port *ap, const char *port, const struct axq_opts *o)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int err;

	err = axu_session_get(port, o->uds_path, (unsigned)o->uds_timeout,
			      &ap->uds);
	if (err < 0) {
		ap->uds = NULL;
		return err;
	}
	err = axu_map_fd(ap->uds, port, ap->ifname, &ap->xsks_fd);
	if (err < 0)
		return err;
	ap->pinned = true; /* a dup: ours to close */
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(ap->xsks_fd, &info, &len);
	if (err == -EPERM)
		return 0; /* an older kernel refusing bpf() unprivileged */
	if (err < 0) {
		SL_ERR("%s: the fd received from %s for %s is not a BPF map: "
		       "%s",
		       port, o->uds_path, ap->ifname, sl_strerror(err));
		return -EINVAL;
	}
	if (info.type != BPF_MAP_TYPE_XSKMAP) {
		SL_ERR("%s: the map received from %s for %s ('%s') is of "
		       "type %u, not an XSKMAP",
		       port, o->uds_path, ap->ifname, info.name, info.type);
		return -EINVAL;
	}
	if (ap->qid >= info.max_entries) {
		SL_ERR("%s: queue %u: the XSKMAP received from %s for %s has "
		       "%u entries",
		       port, ap->qid, o->uds_path, ap->ifname,
		       info.max_entries);
		return -EINVAL;
	}
	return 0;
}

static void
axq_map_leave(struct axq_port *ap)
{
	uint32_t q = ap->qid;

	if (!ap->in_map)
		return;
	if (ap->qmask_fd >= 0)
		(void)axp_qmask_set(ap->qmask_fd, q, false);
	(void)bpf_map_delete_elem(ap->xsks_fd, &q);
	ap->in_map = false;
}

/* Give every frame the kernel still holds back to the pool. */
static void
axq_frames_reclaim(struct axq_port *ap)
{
	struct sl_mempool *mp = ap->rxq.pool;
	uint32_t i, n = sl_mempool_count(mp);
	uint64_t *bm[2] = {ap->rxq.owned, ap->txq.owned};
	unsigned k;

	for (k = 0; k < 2; k++) {
		if (bm[k] == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (bm[k][i / AXQ_BITS] &
			    (UINT64_C(1) << (i % AXQ_BITS)))
				sl_mempool_put(mp, sl_mempool_obj_at(mp, i));
	}
}

static void
axq_free(struct axq_port *ap)
{
	axq_map_leave(ap);
	if (ap->xsk != NULL)
		axq_xsk_delete(ap);
	axq_frames_reclaim(ap);
	if (ap->rxq.head != NULL)
		sl_mbuf_free(ap->rxq.head); /* a chain still incomplete */
	if (ap->ctl_fd >= 0)
		close(ap->ctl_fd);
	if (ap->pinned) {
		if (ap->xsks_fd >= 0)
			close(ap->xsks_fd);
		if (ap->qmask_fd >= 0)
			close(ap->qmask_fd);
	}
	axu_session_put(ap->uds); /* the last lport of the session: /fin */
	axp_dev_put(ap->dev);
	axq_napi_put(ap->napi);
	free(ap->rxq.owned);
	free(ap->txq.owned);
	pthread_mutex_destroy(&ap->kstats_lock);
	sl_free(ap);
}

/* Longest packet sent: an MTU's worth, within one frame without SG. */
static uint32_t
axq_tx_max_len(const struct axq_port *ap, uint16_t mtu)
{
	uint32_t len = (uint32_t)mtu + ETH_HLEN + AXQ_VLAN_HLEN;

	return ap->txq.max_segs > 1 ? len : SL_MIN(ap->txq.copy_room, len);
}

static int
axq_check_cfg(const struct sl_port_cfg *cfg)
{
	if (cfg->ifname == NULL || cfg->ifname[0] == '\0') {
		SL_ERR("%s: no ifname given: net_af_xdp needs the network "
		       "device to open",
		       cfg->name);
		return -ENODEV;
	}
	if (strlen(cfg->ifname) >= IFNAMSIZ) {
		SL_ERR("%s: ifname '%s' is longer than %d characters",
		       cfg->name, cfg->ifname, IFNAMSIZ - 1);
		return -ENODEV;
	}
	if (cfg->pool == NULL) {
		SL_ERR("%s: no pool given: net_af_xdp registers the pool's "
		       "frames as its UMEM",
		       cfg->name);
		return -EINVAL;
	}
	if (cfg->qid >= AXQ_MAX_QUEUES) {
		SL_ERR("%s: queue %u: the XDP program serves queues 0 to %u",
		       cfg->name, cfg->qid, AXQ_MAX_QUEUES - 1);
		return -EINVAL;
	}
	return axq_pool_check(cfg);
}

/*
 * mode=auto tries native mode first, then SKB mode, on every kind of
 * device, for the reason the log gives: measured where the kind is known
 * (bench-afxdp, docs/performance.md), else the general one.
 */
static const struct {
	const char *driver;
	const char *why;
} axq_auto_kinds[] = {
	{"veth", "on veth, native mode received 2.5 times what SKB mode did "
		 "(64 B on one core, bench-afxdp) and forwarded as fast"},
};

static void
axq_auto_why(const struct axq_port *ap, const char *port)
{
	const char *why = "native mode builds no skb per packet; SKB mode "
			  "serves drivers without native XDP";
	char driver[32] = "";
	unsigned i;

	(void)netif_driver_get(ap->ctl_fd, ap->ifname, driver, sizeof(driver));
	for (i = 0; i < SL_DIM(axq_auto_kinds); i++)
		if (strcmp(driver, axq_auto_kinds[i].driver) == 0)
			why = axq_auto_kinds[i].why;
	SL_INFO("%s: mode=auto on %s (driver %s): native mode first: %s", port,
		ap->ifname, driver[0] != '\0' ? driver : "unknown", why);
}

/* Attach our program, or open the pinned map. */
static int
axq_steer_setup(struct axq_port *ap, const struct sl_port_cfg *cfg,
		const struct axq_opts *o)
{
	static const enum axp_mode modes[] = {
		[AXQ_BIND_AUTO] = AXP_MODE_AUTO,
		[AXQ_BIND_ZC] = AXP_MODE_NATIVE,
		[AXQ_BIND_NATIVE] = AXP_MODE_NATIVE,
		[AXQ_BIND_SKB] = AXP_MODE_SKB,
	};
	struct axp_req req = {
		.port = cfg->name,
		.ifname = ap->ifname,
		.ifindex = ap->ifindex,
		.mode = modes[o->bind],
		.force = o->force,
		.frags = ap->sg, /* multi-buffer: the xdp.frags build */
		.steer = o->steer,
	};
	int err;

	if (o->uds_path != NULL)
		return axq_uds_open(ap, cfg->name, o);
	if (o->pin_path != NULL)
		return axq_pin_open(ap, cfg->name, o->pin_path);
	if (o->bind == AXQ_BIND_AUTO)
		axq_auto_why(ap, cfg->name);
	err = axp_dev_get(&req, &ap->dev);
	if (err < 0) {
		ap->dev = NULL;
		return err;
	}
	ap->xsks_fd = axp_dev_xsks_fd(ap->dev);
	ap->qmask_fd = axp_dev_qmask_fd(ap->dev);
	return 0;
}

static int
axq_map_join(struct axq_port *ap, const char *port)
{
	int err;

	err = xsk_socket__update_xskmap(ap->xsk, ap->xsks_fd);
	if (err < 0) {
		SL_ERR("%s: adding the socket to the XSKMAP at key %u: %s",
		       port, ap->qid, sl_strerror(err));
		return err;
	}
	ap->in_map = true;
	if (ap->qmask_fd >= 0) {
		err = axp_qmask_set(ap->qmask_fd, ap->qid, true);
		if (err < 0) {
			SL_ERR("%s: enabling queue %u in the qmask map: %s",
			       port, ap->qid, sl_strerror(err));
			return err;
		}
	}
	return 0;
}

static int
axq_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	 const struct sl_kvargs *kv)
{
	uint32_t rx_size = axq_ring_size(cfg->rx_desc);
	uint32_t tx_size = axq_ring_size(cfg->tx_desc);
	struct axq_port *ap;
	struct axq_opts o;
	size_t words;
	uint16_t mtu;
	int err;

	err = axq_check_cfg(cfg);
	if (err < 0)
		return err;
	err = axq_opts_parse(kv, &o);
	if (err < 0)
		return err;
	axq_exit_guard();
	ap = sl_zmalloc(sizeof(*ap)); /* cache-aligned members */
	if (ap == NULL)
		return -ENOMEM;
	pthread_mutex_init(&ap->kstats_lock, NULL);
	ap->xsks_fd = ap->qmask_fd = -1;
	ap->qid = cfg->qid;
	ap->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ap->ctl_fd < 0) {
		err = -errno;
		SL_ERR("%s: control socket: %s", cfg->name, sl_strerror(err));
		goto free_ap;
	}
	snprintf(ap->ifname, sizeof(ap->ifname), "%s", cfg->ifname);
	words = (sl_mempool_count(cfg->pool) + AXQ_BITS - 1) / AXQ_BITS;
	ap->rxq.owned = calloc(words, sizeof(uint64_t));
	ap->txq.owned = calloc(words, sizeof(uint64_t));
	if (ap->rxq.owned == NULL || ap->txq.owned == NULL) {
		err = -ENOMEM;
		goto free_ap;
	}
	ap->ifindex = (int)if_nametoindex(ap->ifname);
	if (ap->ifindex == 0) {
		err = -ENODEV;
		SL_ERR("%s: network device '%s': no such device in this "
		       "network namespace",
		       cfg->name, ap->ifname);
		goto free_ap;
	}
	err = netif_mtu_get(ap->ctl_fd, ap->ifname, &mtu);
	if (err < 0) {
		SL_ERR("%s: MTU of %s: %s", cfg->name, ap->ifname,
		       sl_strerror(err));
		goto free_ap;
	}
	ap->txq.copy_room = sl_mempool_obj_size(cfg->pool) - SL_MBUF_META_SIZE -
			    SL_MBUF_HEADROOM;
	axq_sg_choose(ap, cfg->name, &o, mtu);
	err = axq_steer_setup(ap, cfg, &o);
	if (err < 0)
		goto free_ap;
	err = axq_bind(ap, cfg, &o, rx_size, tx_size);
	if (err < 0)
		goto free_ap;
	err = axq_busy_setup(ap, cfg->name, &o);
	if (err < 0)
		goto free_ap;
	ap->rxq.port = port;
	ap->rxq.pool = cfg->pool;
	ap->rxq.base = sl_mempool_base(cfg->pool);
	ap->rxq.frame_mask = ~(uint64_t)(sl_mempool_obj_size(cfg->pool) - 1);
	ap->rxq.fd = xsk_socket__fd(ap->xsk);
	/* lports sharing a pool share its frames */
	ap->rxq.fill_target =
		SL_MIN(rx_size, sl_mempool_count(cfg->pool) / 2 / ap->um->refs);
	ap->txq.port = port;
	ap->txq.pool = cfg->pool;
	ap->txq.base = ap->rxq.base;
	ap->txq.frame_mask = ap->rxq.frame_mask;
	ap->txq.fd = ap->rxq.fd;
	ap->txq.max_len = axq_tx_max_len(ap, mtu);
	/* frames in the fill ring before the socket can receive */
	axq_refill(&ap->rxq);
	if (ap->rxq.in_fill == 0) {
		err = -ENOBUFS;
		SL_ERR("%s: pool '%s' has no free frame for the fill ring",
		       cfg->name, sl_mempool_name(cfg->pool));
		goto free_ap;
	}
	err = axq_map_join(ap, cfg->name);
	if (err < 0)
		goto free_ap;
	port->priv = ap;
	port->rxq = &ap->rxq;
	port->txq = &ap->txq;
	port->rx_burst = ap->sg ? axq_rx_burst_sg : axq_rx_burst;
	port->tx_burst = ap->sg ? axq_tx_burst_sg : axq_tx_burst;
	port->caps = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_ZERO_COPY |
		     SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET;
	if (ap->sg)
		port->caps |= SL_PORT_CAP_MULTI_BUFFER;
	SL_INFO("%s: %s queue %u: %s bind, XDP %s, rings rx %u tx %u, "
		"pool '%s' (%u frames of %u bytes) as %s UMEM%s%s",
		cfg->name, ap->ifname, ap->qid, ap->bind_name,
		ap->dev != NULL ? axp_mode_name(axp_dev_mode(ap->dev))
				: "program of the provisioner",
		rx_size, tx_size, sl_mempool_name(cfg->pool),
		sl_mempool_count(cfg->pool), sl_mempool_obj_size(cfg->pool),
		ap->um->refs > 1 ? "shared" : "its",
		ap->sg ? ", multi-buffer" : "",
		ap->rxq.busy_wanted ? ", busy polling" : "");
	return 0;
free_ap:
	axq_free(ap);
	return err;
}

static void
axq_close(struct sl_port *port)
{
	axq_free(port->priv);
}

static int
axq_kstats(struct axq_port *ap, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(xsk_socket__fd(ap->xsk), SOL_XDP, XDP_STATISTICS, st,
		       &len) < 0)
		return -errno;
	st->rx_dropped -= ap->kbase.rx_dropped;
	st->rx_invalid_descs -= ap->kbase.rx_invalid_descs;
	st->tx_invalid_descs -= ap->kbase.tx_invalid_descs;
	st->rx_ring_full -= ap->kbase.rx_ring_full;
	st->rx_fill_ring_empty_descs -= ap->kbase.rx_fill_ring_empty_descs;
	st->tx_ring_empty_descs -= ap->kbase.tx_ring_empty_descs;
	return 0;
}

static int
axq_stats_get(struct sl_port *port, struct sl_port_stats *st)
{
	struct axq_port *ap = port->priv;
	struct xdp_statistics ks;
	int err;

	pthread_mutex_lock(&ap->kstats_lock);
	err = axq_kstats(ap, &ks);
	pthread_mutex_unlock(&ap->kstats_lock);
	if (err < 0)
		return err;
	st->imissed += ks.rx_dropped + ks.rx_ring_full;
	st->ierrors += ks.rx_invalid_descs;
	return 0;
}

static void
axq_stats_reset(struct sl_port *port)
{
	struct axq_port *ap = port->priv;
	struct xdp_statistics ks;

	pthread_mutex_lock(&ap->kstats_lock);
	memset(&ap->kbase, 0, sizeof(ap->kbase));
	if (axq_kstats(ap, &ks) == 0)
		ap->kbase = ks;
	ap->txq.copies = 0;
	pthread_mutex_unlock(&ap->kstats_lock);
}

static int
axq_xstats_get(struct sl_port *port, struct sl_port_xstat *xs, unsigned n)
{
	static const char *const names[] = {
		"rx_dropped",
		"rx_invalid_descs",
		"tx_invalid_descs",
		"rx_ring_full",
		"rx_fill_ring_empty_descs",
		"tx_ring_empty_descs",
		"tx_copies",
		"xdp_redirect",
		"xdp_pass",
		"xdp_redirect_fail",
		"xdp_drop",
	};
	struct axq_port *ap = port->priv;
	uint64_t v[SL_DIM(names)] = {0};
	struct xdp_statistics ks;
	int err;

	pthread_mutex_lock(&ap->kstats_lock);
	err = axq_kstats(ap, &ks);
	pthread_mutex_unlock(&ap->kstats_lock);
	if (err < 0)
		return err;
	v[0] = ks.rx_dropped;
	v[1] = ks.rx_invalid_descs;
	v[2] = ks.tx_invalid_descs;
	v[3] = ks.rx_ring_full;
	v[4] = ks.rx_fill_ring_empty_descs;
	v[5] = ks.tx_ring_empty_descs;
	v[6] = ap->txq.copies;
	/* the program's counters are per device: every packet it saw */
	if (ap->dev != NULL)
		(void)axp_dev_stats(ap->dev, &v[7]);
	return pktdev_xstats_fill(xs, n, names, v, SL_DIM(names));
}

static int
axq_link_get(struct sl_port *port, struct sl_port_link *link)
{
	struct axq_port *ap = port->priv;

	return netif_link_get(ap->ctl_fd, ap->ifname, link);
}

static int
axq_mac_get(struct sl_port *port, uint8_t mac[6])
{
	struct axq_port *ap = port->priv;

	return netif_mac_get(ap->ctl_fd, ap->ifname, mac);
}

static int
axq_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	struct axq_port *ap = port->priv;

	return netif_mtu_get(ap->ctl_fd, ap->ifname, mtu);
}

static int
axq_mtu_set(struct sl_port *port, uint16_t mtu)
{
	struct axq_port *ap = port->priv;
	int err;

	if (mtu < 68 ||
	    (!ap->sg && (uint32_t)mtu + ETH_HLEN > ap->txq.copy_room)) {
		SL_ERR("%s: MTU %u: frames of %u bytes hold MTUs of 68 to %u "
		       "(larger ones need multi_buffer=yes)",
		       port->name, mtu, sl_mempool_obj_size(ap->txq.pool),
		       ap->txq.copy_room - ETH_HLEN);
		return -EINVAL;
	}
	err = netif_mtu_set(ap->ctl_fd, ap->ifname, mtu);
	if (err < 0) {
		SL_ERR("%s: setting the MTU of %s to %u: %s%s", port->name,
		       ap->ifname, mtu, sl_strerror(err),
		       err == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		return err;
	}
	__atomic_store_n(&ap->txq.max_len, axq_tx_max_len(ap, mtu),
			 __ATOMIC_RELAXED);
	return 0;
}

static int
axq_rx_fd(struct sl_port *port)
{
	return xsk_socket__fd(((struct axq_port *)port->priv)->xsk);
}

static const char *const axq_keys[] = {
	"mode",		"busy_poll",   "busy_timeout", "busy_budget",
	"xsk_pin_path", "force",       "multi_buffer", "steer",
	"uds_path",	"uds_timeout", NULL,
};

static const struct sl_pktdev_ops axq_ops = {
	.name = "net_af_xdp",
	.desc = "a queue of a network device through an AF_XDP socket whose "
		"UMEM is the lport's pool (needs CAP_NET_ADMIN and CAP_BPF, "
		"or an XSKMAP pinned or received over a Unix socket)",
	.keys = axq_keys,
	.open = axq_open,
	.close = axq_close,
	.stats_get = axq_stats_get,
	.stats_reset = axq_stats_reset,
	.xstats_get = axq_xstats_get,
	.link_get = axq_link_get,
	.mac_get = axq_mac_get,
	.mtu_get = axq_mtu_get,
	.mtu_set = axq_mtu_set,
	.rx_fd = axq_rx_fd,
};

SL_PKTDEV_REGISTER(axq_ops)
