/*
 * net_af_packet: an lport on a network device through an AF_PACKET socket
 * with memory-mapped rings (Documentation/networking/packet_mmap.rst,
 * packet(7)).
 *
 * One socket per lport, TPACKET_V3 for both rings, one mmap:
 *   - RX ring: blocks the kernel fills with variable-size frames and hands
 *     over whole (TP_STATUS_USER) when full or after block_timeout_ms. A
 *     burst walks the frames of the current block, copies each into an
 *     mbuf of cfg->pool (the ring is the kernel's memory, D1 does not
 *     apply) and gives the block back once its last frame is copied.
 *   - TX ring: fixed-size frames. A burst copies each packet (all its
 *     segments) into the next free frame, marks it TP_STATUS_SEND_REQUEST,
 *     frees the mbuf and kicks the kernel once with a non-blocking
 *     sendto(). PACKET_LOSS is set so that a frame the kernel refuses is
 *     skipped instead of stalling the ring.
 * Several lports on one device (qid 0..N-1) share the device's traffic
 * through a fanout group (PACKET_FANOUT, hash mode by default).
 *
 * Needs CAP_NET_RAW (and CAP_NET_ADMIN for mtu_set, promiscuous mode is a
 * socket membership and needs nothing more).
 */
#define SL_LOG_MODULE "net_af_packet"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"
#include "sl_pktdev_driver.h"
#include "../netif/netif.h"

#define AFP_BLOCKSZ_DEF (1u << 16)
#define AFP_BLOCKSZ_MAX (1u << 24)
#define AFP_FRAMESZ_DEF 2048u
#define AFP_FRAMECNT_DEF 512u
#define AFP_FRAMECNT_MAX (1u << 20)
#define AFP_RING_MAX (UINT64_C(1) << 31) /* bytes per ring */
/* TX frame data starts after the aligned V3 header (no PACKET_TX_HAS_OFF) */
#define AFP_TX_DATA_OFF (TPACKET3_HDRLEN - sizeof(struct sockaddr_ll))
#define AFP_VLAN_HLEN 4

/* RX side: touched by the RX thread only. */
struct afp_rxq {
	struct sl_port *port;
	struct sl_mempool *pool;
	uint8_t *ring; /* block 0 */
	uint32_t block_size;
	uint32_t block_nr;
	uint32_t block; /* block being read, or to be checked next */
	uint32_t left;	/* frames of it not read yet; 0: not held */
	uint8_t *next;	/* next frame of it */
} __sl_cache_aligned;

/* TX side: touched by the TX thread only (max_len also by mtu_set). */
struct afp_txq {
	struct sl_port *port;
	int fd;
	uint8_t *ring; /* frame 0 */
	uint32_t frame_size;
	uint32_t frame_nr;
	uint32_t frame;	   /* next frame to fill */
	uint32_t max_len;  /* longest packet accepted */
	bool kick_pending; /* frames may wait for a sendto() */
} __sl_cache_aligned;

struct afp_port {
	struct afp_rxq rxq;
	struct afp_txq txq;
	int fd;
	int ifindex;
	char ifname[IFNAMSIZ];
	void *map;
	size_t map_len;
	bool promisc;
	/* PACKET_STATISTICS resets the kernel's counters on every read:
	 * they are summed here, under the lock (stats calls may come from
	 * several control threads). */
	pthread_mutex_t kstats_lock;
	uint64_t tp_packets, tp_drops, tp_freeze_q_cnt;
};

/* ---- data path ----------------------------------------------------------- */

static inline struct tpacket_block_desc *
afp_block(const struct afp_rxq *q, uint32_t i)
{
	return (struct tpacket_block_desc *)(q->ring +
					     (size_t)i * q->block_size);
}

/* Give the current block back to the kernel and move to the next. */
static inline void
afp_block_release(struct afp_rxq *q)
{
	struct tpacket_block_desc *bd = afp_block(q, q->block);

	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
			 __ATOMIC_RELEASE);
	q->block = q->block + 1 == q->block_nr ? 0 : q->block + 1;
	q->left = 0;
	q->next = NULL;
}

/* Copy one frame into a new mbuf: 0, or -ENOBUFS (nothing allocated). */
static inline int
afp_frame_to_mbuf(struct afp_rxq *q, const struct tpacket3_hdr *h,
		  struct sl_mbuf **out)
{
	const uint8_t *data = (const uint8_t *)h + h->tp_mac;
	uint32_t len = h->tp_snaplen;
	struct sl_mbuf *m;

	m = sl_mbuf_alloc(q->pool);
	if (unlikely(m == NULL))
		return -ENOBUFS;
	if (likely(len <= sl_mbuf_tailroom(m))) {
		memcpy(sl_mbuf_mtod(m, uint8_t *), data, len);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
	} else if (netif_mbuf_append_copy(q->pool, m, data, len) < 0) {
		sl_mbuf_free(m);
		return -ENOBUFS;
	}
	m->packet_type = netif_ptype_ether(data, m->data_len);
	m->hash = h->hv1.tp_rxhash;
	m->ol_flags = SL_MBUF_F_RX_RSS_HASH;
	if (h->tp_status & TP_STATUS_VLAN_VALID) {
		m->vlan_tci = (uint16_t)h->hv1.tp_vlan_tci;
		m->ol_flags |= SL_MBUF_F_RX_VLAN;
	}
	if (h->tp_status & TP_STATUS_CSUM_VALID)
		m->ol_flags |= SL_MBUF_F_RX_L4_CKSUM_GOOD;
	*out = m;
	return 0;
}

static uint16_t
afp_rx(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct afp_rxq *q = queue;
	struct tpacket_block_desc *bd;
	struct tpacket3_hdr *h;
	uint64_t bytes = 0;
	uint16_t nb = 0;

	while (nb < n) {
		if (q->left == 0) {
			bd = afp_block(q, q->block);
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status,
					      __ATOMIC_ACQUIRE) &
			      TP_STATUS_USER))
				break;
			q->left = bd->hdr.bh1.num_pkts;
			q->next =
				(uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			if (unlikely(q->left == 0)) {
				afp_block_release(q);
				continue;
			}
		}
		h = (struct tpacket3_hdr *)q->next;
		if (unlikely(h->tp_snaplen < h->tp_len)) {
			/* truncated to the block: not a packet to pass on */
			q->port->rx.errors++;
		} else if (likely(afp_frame_to_mbuf(q, h, &pkts[nb]) == 0)) {
			bytes += pkts[nb]->pkt_len;
			nb++;
		} else {
			/* leave the frame in the ring for the next burst */
			q->port->rx.nombuf++;
			break;
		}
		q->next += h->tp_next_offset;
		if (--q->left == 0)
			afp_block_release(q);
	}
	q->port->rx.bytes += bytes;
	return nb;
}

static inline struct tpacket3_hdr *
afp_tx_frame(const struct afp_txq *q, uint32_t i)
{
	return (struct tpacket3_hdr *)(q->ring + (size_t)i * q->frame_size);
}

/* Ask the kernel to send the frames marked TP_STATUS_SEND_REQUEST. */
static inline void
afp_kick(struct afp_txq *q)
{
	q->kick_pending = sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0;
}

static uint16_t
afp_tx(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct afp_txq *q = queue;
	struct tpacket3_hdr *h;
	uint16_t i, bad = 0;
	uint64_t bytes = 0;
	uint32_t len;

	for (i = 0; i < n; i++) {
		h = afp_tx_frame(q, q->frame);
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
		    TP_STATUS_AVAILABLE) {
			/* ring full: the kernel has not sent these yet */
			q->kick_pending = true;
			break;
		}
		len = pkts[i]->pkt_len;
		if (unlikely(len < ETH_HLEN ||
			     len > __atomic_load_n(&q->max_len,
						   __ATOMIC_RELAXED))) {
			bad++;
			continue;
		}
		netif_mbuf_copy_out(pkts[i], (uint8_t *)h + AFP_TX_DATA_OFF);
		h->tp_len = len;
		h->tp_snaplen = len;
		h->tp_next_offset = 0;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		q->frame = q->frame + 1 == q->frame_nr ? 0 : q->frame + 1;
		bytes += len;
	}
	if (i > bad || q->kick_pending)
		afp_kick(q);
	sl_mbuf_free_bulk(pkts, i);
	q->port->tx.bytes += bytes;
	if (unlikely(bad != 0))
		netif_tx_dropped(q->port, bad);
	return i;
}

/* ---- control path -------------------------------------------------------- */

struct afp_opts {
	bool qdisc_bypass;
	bool fanout;
	bool promisc;
	int fanout_mode;
	uint64_t fanout_id;
	uint64_t blocksz, framesz, rx_framecnt, tx_framecnt, block_tmo;
};

static const char *const afp_fanout_modes[] = {"hash", "lb", "cpu", "qm", NULL};
static const int afp_fanout_kernel_modes[] = {
	PACKET_FANOUT_HASH, PACKET_FANOUT_LB, PACKET_FANOUT_CPU,
	PACKET_FANOUT_QM};

/* Frame count of one ring: option framecnt, else the cfg's descriptor
 * count rounded up to whole blocks, else the default. */
static int
afp_framecnt(const struct sl_kvargs *kv, const char *port, uint16_t desc,
	     uint32_t per_block, uint64_t *out)
{
	int err;

	err = sl_kvargs_u64(kv, "framecnt", AFP_FRAMECNT_DEF, 1,
			    AFP_FRAMECNT_MAX, out);
	if (err < 0)
		return err;
	if (sl_kvargs_str(kv, "framecnt", NULL) == NULL && desc != 0)
		*out = desc;
	if (*out % per_block == 0)
		return 0;
	if (sl_kvargs_str(kv, "framecnt", NULL) != NULL) {
		SL_ERR("%s: option 'framecnt': %llu is not a multiple of the "
		       "frames per block (blocksz / framesz = %u)",
		       port, (unsigned long long)*out, per_block);
		return -EINVAL;
	}
	*out = (*out + per_block - 1) / per_block * per_block;
	return 0;
}

static int
afp_opts_parse(const struct sl_port_cfg *cfg, const struct sl_kvargs *kv,
	       int ifindex, struct afp_opts *o)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t per_block;
	int err;

	err = sl_kvargs_bool(kv, "qdisc_bypass", false, &o->qdisc_bypass);
	if (err == 0)
		err = sl_kvargs_bool(kv, "fanout", false, &o->fanout);
	if (err == 0)
		err = sl_kvargs_bool(kv, "promisc", false, &o->promisc);
	if (err == 0)
		err = sl_kvargs_u64(kv, "fanout_id", (uint64_t)ifindex & 0xffff,
				    0, 0xffff, &o->fanout_id);
	if (err == 0) {
		o->fanout_mode = sl_kvargs_choice(kv, "fanout_mode", "hash",
						  afp_fanout_modes);
		err = o->fanout_mode < 0 ? o->fanout_mode : 0;
	}
	if (err == 0)
		err = sl_kvargs_u64(kv, "block_timeout_ms", 1, 1, 60000,
				    &o->block_tmo);
	if (err == 0)
		err = sl_kvargs_u64(kv, "blocksz", AFP_BLOCKSZ_DEF,
				    (uint64_t)page, AFP_BLOCKSZ_MAX,
				    &o->blocksz);
	if (err < 0)
		return err;
	if (!sl_is_pow2(o->blocksz)) {
		SL_ERR("%s: option 'blocksz': %llu is not a power of 2",
		       cfg->name, (unsigned long long)o->blocksz);
		return -EINVAL;
	}
	err = sl_kvargs_u64(kv, "framesz", AFP_FRAMESZ_DEF,
			    TPACKET3_HDRLEN + ETH_HLEN, o->blocksz,
			    &o->framesz);
	if (err < 0)
		return err;
	if (o->framesz % TPACKET_ALIGNMENT != 0) {
		SL_ERR("%s: option 'framesz': %llu is not a multiple of %d",
		       cfg->name, (unsigned long long)o->framesz,
		       TPACKET_ALIGNMENT);
		return -EINVAL;
	}
	per_block = (uint32_t)(o->blocksz / o->framesz);
	err = afp_framecnt(kv, cfg->name, cfg->rx_desc, per_block,
			   &o->rx_framecnt);
	if (err == 0)
		err = afp_framecnt(kv, cfg->name, cfg->tx_desc, per_block,
				   &o->tx_framecnt);
	if (err < 0)
		return err;
	if (o->rx_framecnt * o->framesz > AFP_RING_MAX ||
	    o->tx_framecnt * o->framesz > AFP_RING_MAX) {
		SL_ERR("%s: option 'framecnt': rings of %llu frames of %llu "
		       "bytes exceed 2 GiB",
		       cfg->name,
		       (unsigned long long)SL_MAX(o->rx_framecnt,
						  o->tx_framecnt),
		       (unsigned long long)o->framesz);
		return -EINVAL;
	}
	if (sl_kvargs_str(kv, "fanout_id", NULL) != NULL && !o->fanout) {
		SL_ERR("%s: option 'fanout_id' needs fanout=yes", cfg->name);
		return -EINVAL;
	}
	if (sl_kvargs_str(kv, "fanout_mode", NULL) != NULL && !o->fanout) {
		SL_ERR("%s: option 'fanout_mode' needs fanout=yes", cfg->name);
		return -EINVAL;
	}
	if (cfg->qid > 0 && !o->fanout) {
		SL_ERR("%s: queue %u of %s needs fanout=yes (the lports of "
		       "one device share its traffic through a fanout group)",
		       cfg->name, cfg->qid, cfg->ifname);
		return -EINVAL;
	}
	return 0;
}

static int
afp_setsockopt_int(struct afp_port *ap, const char *port, int opt,
		   const char *what, int val)
{
	int err;

	if (setsockopt(ap->fd, SOL_PACKET, opt, &val, sizeof(val)) == 0)
		return 0;
	err = -errno;
	SL_ERR("%s: %s on %s: %s", port, what, ap->ifname, sl_strerror(err));
	return err;
}

static int
afp_rings_setup(struct afp_port *ap, const char *port, const struct afp_opts *o)
{
	uint32_t per_block = (uint32_t)(o->blocksz / o->framesz);
	struct tpacket_req3 rx = {
		.tp_block_size = (unsigned)o->blocksz,
		.tp_block_nr = (unsigned)(o->rx_framecnt / per_block),
		.tp_frame_size = (unsigned)o->framesz,
		.tp_frame_nr = (unsigned)o->rx_framecnt,
		.tp_retire_blk_tov = (unsigned)o->block_tmo,
		.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH,
	};
	struct tpacket_req3 tx = {
		.tp_block_size = (unsigned)o->blocksz,
		.tp_block_nr = (unsigned)(o->tx_framecnt / per_block),
		.tp_frame_size = (unsigned)o->framesz,
		.tp_frame_nr = (unsigned)o->tx_framecnt,
	};
	size_t rx_len = (size_t)rx.tp_block_size * rx.tp_block_nr;
	size_t tx_len = (size_t)tx.tp_block_size * tx.tp_block_nr;
	int err;

	if (setsockopt(ap->fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx)) <
	    0) {
		err = -errno;
		SL_ERR("%s: RX ring of %u blocks of %u bytes: %s", port,
		       rx.tp_block_nr, rx.tp_block_size, sl_strerror(err));
		return err;
	}
	if (setsockopt(ap->fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx)) <
	    0) {
		err = -errno;
		SL_ERR("%s: TX ring of %u frames of %u bytes: %s", port,
		       tx.tp_frame_nr, tx.tp_frame_size, sl_strerror(err));
		return err;
	}
	ap->map = mmap(NULL, rx_len + tx_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, ap->fd, 0);
	if (ap->map == MAP_FAILED) {
		err = -errno;
		ap->map = NULL;
		SL_ERR("%s: mmap of the rings (%zu bytes): %s", port,
		       rx_len + tx_len, sl_strerror(err));
		return err;
	}
	ap->map_len = rx_len + tx_len;
	ap->rxq.ring = ap->map;
	ap->rxq.block_size = rx.tp_block_size;
	ap->rxq.block_nr = rx.tp_block_nr;
	ap->txq.ring = (uint8_t *)ap->map + rx_len;
	ap->txq.frame_size = tx.tp_frame_size;
	ap->txq.frame_nr = tx.tp_frame_nr;
	return 0;
}

static int
afp_fanout_join(struct afp_port *ap, const char *port, const struct afp_opts *o)
{
	int arg =
		(int)(o->fanout_id |
		      (uint32_t)afp_fanout_kernel_modes[o->fanout_mode] << 16);
	int err;

	if (setsockopt(ap->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) ==
	    0)
		return 0;
	err = -errno;
	SL_ERR("%s: joining fanout group %llu (mode %s) on %s: %s%s", port,
	       (unsigned long long)o->fanout_id,
	       afp_fanout_modes[o->fanout_mode], ap->ifname, sl_strerror(err),
	       err == -EINVAL || err == -EALREADY
		       ? " (the group exists with another mode, or on another "
			 "device: pick another fanout_id)"
		       : "");
	return err;
}

static int
afp_membership(struct afp_port *ap, bool on)
{
	struct packet_mreq mr = {
		.mr_ifindex = ap->ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};

	if (setsockopt(ap->fd, SOL_PACKET,
		       on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		return -errno;
	ap->promisc = on;
	return 0;
}

/* Between bind() and joining the fanout group the socket would receive
 * every packet of the device besides the group: a copy of what the other
 * lports get. A filter that drops everything closes that window. */
static int
afp_drop_all(struct afp_port *ap, const char *port, bool on)
{
	struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog prog = {.len = 1, .filter = code};
	int zero = 0, err;

	if (on ? setsockopt(ap->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			    sizeof(prog))
	       : setsockopt(ap->fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
			    sizeof(zero)))
		err = -errno;
	else
		return 0;
	SL_ERR("%s: %s the socket filter on %s: %s", port,
	       on ? "attaching" : "detaching", ap->ifname, sl_strerror(err));
	return err;
}

/* Longest packet TX takes: what a frame holds and the device sends. */
static uint32_t
afp_tx_max_len(const struct afp_port *ap, uint16_t mtu)
{
	return SL_MIN(ap->txq.frame_size - (uint32_t)AFP_TX_DATA_OFF,
		      (uint32_t)mtu + ETH_HLEN + AFP_VLAN_HLEN);
}

static int
afp_socket_setup(struct afp_port *ap, const struct sl_port_cfg *cfg,
		 const struct afp_opts *o)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ap->ifindex,
	};
	int err;

	err = afp_setsockopt_int(ap, cfg->name, PACKET_VERSION,
				 "PACKET_VERSION TPACKET_V3", TPACKET_V3);
	if (err == 0)
		err = afp_setsockopt_int(ap, cfg->name, PACKET_LOSS,
					 "PACKET_LOSS", 1);
	if (err < 0)
		return err;
	/* frames this host sends on the device are not ours to receive */
	if (afp_setsockopt_int(ap, cfg->name, PACKET_IGNORE_OUTGOING,
			       "PACKET_IGNORE_OUTGOING", 1) < 0)
		SL_WARN("%s: RX will also see frames sent on %s", cfg->name,
			ap->ifname);
	err = afp_rings_setup(ap, cfg->name, o);
	if (err == 0 && o->fanout)
		err = afp_drop_all(ap, cfg->name, true);
	if (err < 0)
		return err;
	if (bind(ap->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		SL_ERR("%s: bind to %s: %s", cfg->name, ap->ifname,
		       sl_strerror(err));
		return err;
	}
	if (o->qdisc_bypass) {
		err = afp_setsockopt_int(ap, cfg->name, PACKET_QDISC_BYPASS,
					 "PACKET_QDISC_BYPASS", 1);
		if (err < 0)
			return err;
	}
	if (o->fanout) {
		err = afp_fanout_join(ap, cfg->name, o);
		if (err == 0)
			err = afp_drop_all(ap, cfg->name, false);
		if (err < 0)
			return err;
	}
	if (o->promisc) {
		err = afp_membership(ap, true);
		if (err < 0) {
			SL_ERR("%s: promiscuous mode on %s: %s", cfg->name,
			       ap->ifname, sl_strerror(err));
			return err;
		}
	}
	return 0;
}

static void
afp_free(struct afp_port *ap)
{
	if (ap->map != NULL)
		munmap(ap->map, ap->map_len);
	if (ap->fd >= 0)
		close(ap->fd); /* drops the membership and the fanout */
	pthread_mutex_destroy(&ap->kstats_lock);
	sl_free(ap);
}

static int
afp_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	 const struct sl_kvargs *kv)
{
	struct afp_port *ap;
	struct afp_opts o;
	uint16_t mtu;
	int err;

	if (cfg->ifname == NULL || cfg->ifname[0] == '\0') {
		SL_ERR("%s: no ifname given: net_af_packet needs the network "
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
		SL_ERR("%s: no pool given for RX mbufs", cfg->name);
		return -EINVAL;
	}
	ap = sl_zmalloc(sizeof(*ap)); /* cache-aligned members */
	if (ap == NULL)
		return -ENOMEM;
	pthread_mutex_init(&ap->kstats_lock, NULL);
	snprintf(ap->ifname, sizeof(ap->ifname), "%s", cfg->ifname);
	/* protocol 0: nothing is received before bind() picks the device */
	ap->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ap->fd < 0) {
		err = -errno;
		SL_ERR("%s: AF_PACKET socket: %s%s", cfg->name,
		       sl_strerror(err),
		       err == -EPERM ? " (needs CAP_NET_RAW)" : "");
		goto free_ap;
	}
	ap->ifindex = netif_index(ap->fd, ap->ifname);
	if (ap->ifindex < 0) {
		err = ap->ifindex;
		SL_ERR("%s: network device '%s': %s", cfg->name, ap->ifname,
		       err == -ENODEV ? "no such device in this network "
					"namespace"
				      : sl_strerror(err));
		goto free_ap;
	}
	err = afp_opts_parse(cfg, kv, ap->ifindex, &o);
	if (err < 0)
		goto free_ap;
	err = afp_socket_setup(ap, cfg, &o);
	if (err < 0)
		goto free_ap;
	err = netif_mtu_get(ap->fd, ap->ifname, &mtu);
	if (err < 0) {
		SL_ERR("%s: MTU of %s: %s", cfg->name, ap->ifname,
		       sl_strerror(err));
		goto free_ap;
	}
	ap->rxq.port = port;
	ap->rxq.pool = cfg->pool;
	ap->txq.port = port;
	ap->txq.fd = ap->fd;
	ap->txq.max_len = afp_tx_max_len(ap, mtu);
	if (ap->txq.max_len < (uint32_t)mtu + ETH_HLEN)
		SL_WARN("%s: framesz %llu holds packets of %u bytes, less "
			"than the MTU of %s (%u): longer ones count as "
			"oerrors",
			cfg->name, (unsigned long long)o.framesz,
			ap->txq.max_len, ap->ifname, mtu);
	port->priv = ap;
	port->rxq = &ap->rxq;
	port->txq = &ap->txq;
	port->rx_burst = afp_rx;
	port->tx_burst = afp_tx;
	port->caps = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_MULTI_BUFFER |
		     SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET |
		     SL_PORT_CAP_PROMISC;
	SL_INFO("%s: %s queue %u, rings %llu+%llu frames of %llu bytes in "
		"blocks of %llu%s%s",
		cfg->name, ap->ifname, cfg->qid,
		(unsigned long long)o.rx_framecnt,
		(unsigned long long)o.tx_framecnt,
		(unsigned long long)o.framesz, (unsigned long long)o.blocksz,
		o.qdisc_bypass ? ", qdisc bypass" : "",
		o.fanout ? ", fanout" : "");
	return 0;
free_ap:
	afp_free(ap);
	return err;
}

static void
afp_close(struct sl_port *port)
{
	afp_free(port->priv);
}

/* Add what the kernel counted since the last read. Lock held. */
static int
afp_kstats_update(struct sl_port *port)
{
	struct afp_port *ap = port->priv;
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(ap->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -errno;
	ap->tp_packets += st.tp_packets;
	ap->tp_drops += st.tp_drops;
	ap->tp_freeze_q_cnt += st.tp_freeze_q_cnt;
	return 0;
}

static int
afp_stats_get(struct sl_port *port, struct sl_port_stats *st)
{
	struct afp_port *ap = port->priv;
	int err;

	pthread_mutex_lock(&ap->kstats_lock);
	err = afp_kstats_update(port);
	st->imissed += ap->tp_drops;
	pthread_mutex_unlock(&ap->kstats_lock);
	return err;
}

static void
afp_stats_reset(struct sl_port *port)
{
	struct afp_port *ap = port->priv;

	pthread_mutex_lock(&ap->kstats_lock);
	(void)afp_kstats_update(port);
	ap->tp_packets = 0;
	ap->tp_drops = 0;
	ap->tp_freeze_q_cnt = 0;
	pthread_mutex_unlock(&ap->kstats_lock);
}

static int
afp_xstats_get(struct sl_port *port, struct sl_port_xstat *xs, unsigned n)
{
	static const char *const names[] = {"tp_packets", "tp_drops",
					    "tp_freeze_q_cnt"};
	struct afp_port *ap = port->priv;
	uint64_t values[SL_DIM(names)];
	int err;

	pthread_mutex_lock(&ap->kstats_lock);
	err = afp_kstats_update(port);
	values[0] = ap->tp_packets;
	values[1] = ap->tp_drops;
	values[2] = ap->tp_freeze_q_cnt;
	pthread_mutex_unlock(&ap->kstats_lock);
	if (err < 0)
		return err;
	return pktdev_xstats_fill(xs, n, names, values, SL_DIM(names));
}

static int
afp_link_get(struct sl_port *port, struct sl_port_link *link)
{
	struct afp_port *ap = port->priv;

	return netif_link_get(ap->fd, ap->ifname, link);
}

static int
afp_mac_get(struct sl_port *port, uint8_t mac[6])
{
	struct afp_port *ap = port->priv;

	return netif_mac_get(ap->fd, ap->ifname, mac);
}

static int
afp_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	struct afp_port *ap = port->priv;

	return netif_mtu_get(ap->fd, ap->ifname, mtu);
}

static int
afp_mtu_set(struct sl_port *port, uint16_t mtu)
{
	struct afp_port *ap = port->priv;
	uint32_t room = ap->txq.frame_size - (uint32_t)AFP_TX_DATA_OFF;
	int err;

	if (mtu < 68 || (uint32_t)mtu + ETH_HLEN > room) {
		SL_ERR("%s: MTU %u: TX frames (framesz %u) hold MTUs of 68 "
		       "to %u",
		       port->name, mtu, ap->txq.frame_size, room - ETH_HLEN);
		return -EINVAL;
	}
	err = netif_mtu_set(ap->fd, ap->ifname, mtu);
	if (err < 0) {
		SL_ERR("%s: setting the MTU of %s to %u: %s%s", port->name,
		       ap->ifname, mtu, sl_strerror(err),
		       err == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		return err;
	}
	__atomic_store_n(&ap->txq.max_len, afp_tx_max_len(ap, mtu),
			 __ATOMIC_RELAXED);
	return 0;
}

static int
afp_promisc_set(struct sl_port *port, bool on)
{
	struct afp_port *ap = port->priv;
	int err;

	if (ap->promisc == on)
		return 0;
	err = afp_membership(ap, on);
	if (err < 0)
		SL_ERR("%s: promiscuous mode %s on %s: %s", port->name,
		       on ? "on" : "off", ap->ifname, sl_strerror(err));
	return err;
}

static int
afp_promisc_get(struct sl_port *port)
{
	return ((struct afp_port *)port->priv)->promisc;
}

static int
afp_rx_fd(struct sl_port *port)
{
	return ((struct afp_port *)port->priv)->fd;
}

static const char *const afp_keys[] = {
	"qdisc_bypass", "fanout",  "fanout_id", "fanout_mode",	    "promisc",
	"blocksz",	"framesz", "framecnt",	"block_timeout_ms", NULL,
};

static const struct sl_pktdev_ops afp_ops = {
	.name = "net_af_packet",
	.desc = "a network device through an AF_PACKET socket with "
		"TPACKET_V3 mmap rings (needs CAP_NET_RAW)",
	.keys = afp_keys,
	.open = afp_open,
	.close = afp_close,
	.stats_get = afp_stats_get,
	.stats_reset = afp_stats_reset,
	.xstats_get = afp_xstats_get,
	.link_get = afp_link_get,
	.mac_get = afp_mac_get,
	.mtu_get = afp_mtu_get,
	.mtu_set = afp_mtu_set,
	.promisc_set = afp_promisc_set,
	.promisc_get = afp_promisc_get,
	.rx_fd = afp_rx_fd,
};

SL_PKTDEV_REGISTER(afp_ops)
