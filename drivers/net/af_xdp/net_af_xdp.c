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
#include <limits.h>
#include <pthread.h>
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
#include "sl_pktdev_driver.h"
#include "../netif/netif.h"
#include "af_xdp_prog.h"

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
	bool busy_poll;
	uint64_t *owned; /* bitmap: frame in the fill or RX ring */
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
	int fd;
	bool busy_poll;
	uint64_t copies; /* packets copied into the UMEM */
	uint64_t *owned; /* bitmap: frame in the TX or completion ring */
} __sl_cache_aligned;

struct axq_port {
	struct axq_rx rxq;
	struct axq_tx txq;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct axp_dev *dev; /* NULL with xsk_pin_path */
	int ctl_fd;	     /* for interface ioctls (an XSK has none) */
	int xsks_fd, qmask_fd;
	bool pinned; /* the map fds are ours to close */
	bool in_map;
	uint32_t qid;
	int ifindex;
	char ifname[IFNAMSIZ];
	const char *bind_name;
	pthread_mutex_t kstats_lock;
	struct xdp_statistics kbase; /* subtracted: stats_reset */
};

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

static uint16_t
axq_rx_burst(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct axq_rx *q = queue;
	const struct xdp_desc *d;
	struct sl_mbuf *m;
	uint64_t bytes = 0, frame;
	uint32_t nb, i, idx = 0;

	nb = xsk_ring_cons__peek(&q->rx, n, &idx);
	if (nb == 0) {
		axq_refill(q);
		if (q->busy_poll || xsk_ring_prod__needs_wakeup(&q->fill))
			(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL,
				       NULL);
		return 0;
	}
	for (i = 0; i < nb; i++) {
		d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		frame = d->addr & q->frame_mask;
		m = (struct sl_mbuf *)(q->base + frame);
		axq_bit_clear(q->owned, sl_mempool_obj_index(q->pool, m));
		sl_mbuf_reset(m);
		m->data_off = (uint16_t)(d->addr - frame - SL_MBUF_META_SIZE);
		m->data_len = (uint16_t)d->len;
		m->pkt_len = d->len;
		m->packet_type = netif_ptype_ether(
			sl_mbuf_mtod(m, const uint8_t *), d->len);
		bytes += d->len;
		pkts[i] = m;
	}
	xsk_ring_cons__release(&q->rx, nb);
	q->in_fill -= nb;
	axq_refill(q);
	q->port->rx.bytes += bytes;
	return (uint16_t)nb;
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
	if (posted > 0)
		xsk_ring_prod__submit(&q->tx, posted);
	axq_kick(q);
	q->port->tx.bytes += bytes;
	if (unlikely(bad != 0))
		netif_tx_dropped(q->port, bad);
	return (uint16_t)i;
}

/* ---- control path -------------------------------------------------------- */

struct axq_opts {
	enum axq_bind bind;
	bool busy_poll, force;
	uint64_t busy_timeout, busy_budget;
	const char *pin_path;
};

static const char *const axq_binds[] = {"auto", "zc", "native", "skb", NULL};

static int
axq_opts_parse(const struct sl_kvargs *kv, struct axq_opts *o)
{
	int err, mode;

	mode = sl_kvargs_choice(kv, "mode", "auto", axq_binds);
	if (mode < 0)
		return mode;
	o->bind = (enum axq_bind)mode;
	err = sl_kvargs_bool(kv, "busy_poll", false, &o->busy_poll);
	if (err == 0)
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
	if (!o->busy_poll && (sl_kvargs_str(kv, "busy_timeout", NULL) ||
			      sl_kvargs_str(kv, "busy_budget", NULL))) {
		SL_ERR("%s: options 'busy_timeout' and 'busy_budget' need "
		       "busy_poll=yes",
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

/* Create the UMEM over the pool and the socket, bound with flags. On
 * failure nothing is left. */
static int
axq_xsk_create(struct axq_port *ap, const struct sl_port_cfg *cfg,
	       uint32_t rx_size, uint32_t tx_size, uint16_t bind_flags)
{
	struct xsk_umem_config ucfg = {
		.fill_size = rx_size,
		.comp_size = tx_size,
		.frame_size = sl_mempool_obj_size(cfg->pool),
		.frame_headroom = SL_MBUF_META_SIZE,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = rx_size,
		.tx_size = tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = (uint16_t)(bind_flags | XDP_USE_NEED_WAKEUP),
	};
	size_t len = (size_t)sl_mempool_count(cfg->pool) * ucfg.frame_size;
	int err, tries;

	err = xsk_umem__create(&ap->umem, sl_mempool_base(cfg->pool), len,
			       &ap->rxq.fill, &ap->txq.comp, &ucfg);
	if (err < 0) {
		ap->umem = NULL;
		SL_ERR("%s: registering pool '%s' (%zu bytes) as the UMEM: "
		       "%s%s",
		       cfg->name, sl_mempool_name(cfg->pool), len,
		       sl_strerror(err),
		       err == -ENOMEM || err == -EPERM
			       ? " (RLIMIT_MEMLOCK too low?)"
			       : "");
		return err;
	}
	/* The kernel releases a closed socket's hold on the queue from a
	 * work queue: a bind right after a close may find it still busy. */
	for (tries = 0;; tries++) {
		err = xsk_socket__create(&ap->xsk, ap->ifname, ap->qid,
					 ap->umem, &ap->rxq.rx, &ap->txq.tx,
					 &scfg);
		if (err != -EBUSY || tries == AXQ_BUSY_TRIES)
			break;
		usleep(AXQ_BUSY_WAIT_US);
	}
	if (err < 0) {
		ap->xsk = NULL;
		(void)xsk_umem__delete(ap->umem);
		ap->umem = NULL;
		return err;
	}
	return 0;
}

/* Bind as the mode asks; auto tries zero-copy first, then copy. */
static int
axq_bind(struct axq_port *ap, const struct sl_port_cfg *cfg,
	 const struct axq_opts *o, uint32_t rx_size, uint32_t tx_size)
{
	const char *where = ap->dev != NULL
				    ? axp_mode_name(axp_dev_mode(ap->dev))
				    : "pinned-map";
	int err;

	if (o->bind == AXQ_BIND_AUTO || o->bind == AXQ_BIND_ZC) {
		err = axq_xsk_create(ap, cfg, rx_size, tx_size, XDP_ZEROCOPY);
		if (err == 0) {
			ap->bind_name = "zero-copy";
			return 0;
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
	err = axq_xsk_create(ap, cfg, rx_size, tx_size, XDP_COPY);
	if (err < 0) {
		SL_ERR("%s: copy-mode bind to %s queue %u (program in %s "
		       "mode): %s%s",
		       cfg->name, ap->ifname, ap->qid, where, sl_strerror(err),
		       err == -EINVAL ? " (no such queue?)" : "");
		return err;
	}
	ap->bind_name = "copy";
	return 0;
}

static int
axq_busy_poll(struct axq_port *ap, const char *port, const struct axq_opts *o)
{
	int fd = xsk_socket__fd(ap->xsk), one = 1, err;
	int tmo = (int)o->busy_timeout, budget = (int)o->busy_budget;

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) <
		    0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &tmo, sizeof(tmo)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
		       sizeof(budget)) < 0) {
		err = -errno;
		SL_ERR("%s: busy polling on %s: %s%s", port, ap->ifname,
		       sl_strerror(err),
		       err == -EPERM ? " (SO_BUSY_POLL above "
				       "net.core.busy_read needs "
				       "CAP_NET_ADMIN)"
				     : "");
		return err;
	}
	return 0;
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
		xsk_socket__delete(ap->xsk);
	if (ap->umem != NULL)
		(void)xsk_umem__delete(ap->umem);
	axq_frames_reclaim(ap);
	if (ap->ctl_fd >= 0)
		close(ap->ctl_fd);
	if (ap->pinned) {
		if (ap->xsks_fd >= 0)
			close(ap->xsks_fd);
		if (ap->qmask_fd >= 0)
			close(ap->qmask_fd);
	}
	axp_dev_put(ap->dev);
	free(ap->rxq.owned);
	free(ap->txq.owned);
	pthread_mutex_destroy(&ap->kstats_lock);
	free(ap);
}

static uint32_t
axq_tx_max_len(const struct axq_port *ap, uint16_t mtu)
{
	return SL_MIN(ap->txq.copy_room,
		      (uint32_t)mtu + ETH_HLEN + AXQ_VLAN_HLEN);
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
	};
	int err;

	if (o->pin_path != NULL)
		return axq_pin_open(ap, cfg->name, o->pin_path);
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
	ap = calloc(1, sizeof(*ap));
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
	err = axq_steer_setup(ap, cfg, &o);
	if (err < 0)
		goto free_ap;
	err = axq_bind(ap, cfg, &o, rx_size, tx_size);
	if (err < 0)
		goto free_ap;
	if (o.busy_poll) {
		err = axq_busy_poll(ap, cfg->name, &o);
		if (err < 0)
			goto free_ap;
	}
	err = netif_mtu_get(ap->ctl_fd, ap->ifname, &mtu);
	if (err < 0) {
		SL_ERR("%s: MTU of %s: %s", cfg->name, ap->ifname,
		       sl_strerror(err));
		goto free_ap;
	}
	ap->rxq.port = port;
	ap->rxq.pool = cfg->pool;
	ap->rxq.base = sl_mempool_base(cfg->pool);
	ap->rxq.frame_mask = ~(uint64_t)(sl_mempool_obj_size(cfg->pool) - 1);
	ap->rxq.fd = xsk_socket__fd(ap->xsk);
	ap->rxq.busy_poll = o.busy_poll;
	ap->rxq.fill_target = SL_MIN(rx_size, sl_mempool_count(cfg->pool) / 2);
	ap->txq.port = port;
	ap->txq.pool = cfg->pool;
	ap->txq.base = ap->rxq.base;
	ap->txq.frame_mask = ap->rxq.frame_mask;
	ap->txq.fd = ap->rxq.fd;
	ap->txq.busy_poll = o.busy_poll;
	ap->txq.copy_room = sl_mempool_obj_size(cfg->pool) - SL_MBUF_META_SIZE -
			    SL_MBUF_HEADROOM;
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
	port->rx_burst = axq_rx_burst;
	port->tx_burst = axq_tx_burst;
	port->caps = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_ZERO_COPY |
		     SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET;
	SL_INFO("%s: %s queue %u: %s bind, XDP %s, rings rx %u tx %u, "
		"pool '%s' (%u frames of %u bytes) as UMEM%s",
		cfg->name, ap->ifname, ap->qid, ap->bind_name,
		ap->dev != NULL ? axp_mode_name(axp_dev_mode(ap->dev))
				: "program of the pinned map",
		rx_size, tx_size, sl_mempool_name(cfg->pool),
		sl_mempool_count(cfg->pool), sl_mempool_obj_size(cfg->pool),
		o.busy_poll ? ", busy polling" : "");
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

	if (mtu < 68 || (uint32_t)mtu + ETH_HLEN > ap->txq.copy_room) {
		SL_ERR("%s: MTU %u: frames of %u bytes hold MTUs of 68 to %u",
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
	"mode",		"busy_poll", "busy_timeout", "busy_budget",
	"xsk_pin_path", "force",     NULL,
};

static const struct sl_pktdev_ops axq_ops = {
	.name = "net_af_xdp",
	.desc = "a queue of a network device through an AF_XDP socket whose "
		"UMEM is the lport's pool (needs CAP_NET_ADMIN and CAP_BPF, "
		"or a pinned XSKMAP)",
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
