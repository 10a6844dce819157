/**
 * @file pktdev: the one packet API of sluice. An application opens lports
 * (a netdev queue, a ring pair, a memif link, ...) from a struct
 * sl_port_cfg naming a backend and its options, then moves packets with
 * sl_pktdev_rx_burst() / sl_pktdev_tx_burst(). The backend is chosen by
 * configuration only: code written against this header runs unchanged on
 * every backend.
 *
 * One lport is one queue pair. RX and TX of one lport may run on two
 * different threads, but each direction on one thread at a time.
 */
#ifndef SL_PKTDEV_H
#define SL_PKTDEV_H

#include "sl_common.h"
#include "sl_mbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest lport name, including the terminating NUL. */
#define SL_PORT_NAMESIZE 32
/** Most lports open at once. */
#define SL_PORT_MAX 64
/** Longest name of a backend-specific statistic, including the NUL. */
#define SL_XSTAT_NAMESIZE 64

/** Capability: the backend can open several queues of one device. */
#define SL_PORT_CAP_MULTI_QUEUE (UINT64_C(1) << 0)
/** Capability: RX hands out and TX takes frames without copying. */
#define SL_PORT_CAP_ZERO_COPY (UINT64_C(1) << 1)
/** Capability: packets larger than one frame arrive and leave as chains. */
#define SL_PORT_CAP_MULTI_BUFFER (UINT64_C(1) << 2)
/** Capability: sl_pktdev_rx_fd() gives a file descriptor to wait on. */
#define SL_PORT_CAP_RX_INTR (UINT64_C(1) << 3)
/** Capability: the MTU can be changed. */
#define SL_PORT_CAP_MTU_SET (UINT64_C(1) << 4)
/** Capability: promiscuous mode can be changed. */
#define SL_PORT_CAP_PROMISC (UINT64_C(1) << 5)
/** Capability: packets carry no L2 header (SL_PTYPE_L2_NONE), as on TUN. */
#define SL_PORT_CAP_L3_ONLY (UINT64_C(1) << 6)

/** How to open an lport. The JSONC loader fills this same struct. */
struct sl_port_cfg {
	/** Unique lport name, e.g. "eth0:0" (1..SL_PORT_NAMESIZE-1 chars). */
	const char *name;
	/** Backend: "net_af_packet", "net_ring", ... (the "net_" prefix may
	 *  be left out). sl_pktdev_backend_list() tells which exist. */
	const char *backend;
	/** Network device for kernel-facing backends (may be NULL
	 *  otherwise; some backends take it from options instead). */
	const char *ifname;
	/** Queue of the device (0 for single-queue backends). */
	uint16_t qid;
	/** Pool that RX mbufs come from. Required by every backend that
	 *  receives; TX accepts mbufs of any pool. */
	struct sl_mempool *pool;
	/** RX / TX ring sizes in descriptors; 0 for the backend's default. */
	uint16_t rx_desc, tx_desc;
	/** Backend options as "key=value,key=value"; NULL or "" for none.
	 *  An unknown key or a bad value fails the open, naming the key. */
	const char *options;
};

/** Standard counters of an lport. */
struct sl_port_stats {
	uint64_t ipackets;  /**< packets received */
	uint64_t ibytes;    /**< bytes received */
	uint64_t opackets;  /**< packets sent */
	uint64_t obytes;    /**< bytes sent */
	uint64_t ierrors;   /**< received packets dropped as erroneous */
	uint64_t oerrors;   /**< packets the backend failed to send */
	uint64_t imissed;   /**< packets dropped before sluice saw them
			     *   (ring full, kernel drops) */
	uint64_t rx_nombuf; /**< receptions that found the pool empty */
};

/** One named backend-specific counter. */
struct sl_port_xstat {
	char name[SL_XSTAT_NAMESIZE]; /**< e.g. "tp_drops" */
	uint64_t value;		      /**< counter value */
};

/** Link state. */
struct sl_port_link {
	bool up;	     /**< carrier and administratively up */
	bool full_duplex;    /**< full duplex when known */
	uint32_t speed_mbps; /**< speed in Mbit/s, 0 when unknown */
};

/** A backend's name and one-line description. */
struct sl_pktdev_backend_info {
	const char *name; /**< "net_ring" */
	const char *desc; /**< one line: what it is and what it needs */
};

/** @internal RX or TX burst function of a backend. */
typedef uint16_t (*sl_burst_fn)(void *queue, struct sl_mbuf **pkts, uint16_t n);

/** @internal Layout for inlining the burst shims; fields are not API. */
struct sl_port {
	/* line 0: read on every burst */
	sl_burst_fn rx_burst;
	void *rxq;
	sl_burst_fn tx_burst;
	void *txq;
	bool started;
	/* RX counters: written by the RX thread only */
	struct {
		uint64_t packets;
		uint64_t bytes;
		uint64_t errors;
		uint64_t missed;
		uint64_t nombuf;
	} rx __sl_cache_aligned;
	/* TX counters: written by the TX thread only */
	struct {
		uint64_t packets;
		uint64_t bytes;
		uint64_t errors;
	} tx __sl_cache_aligned;
	/* control plane */
	char name[SL_PORT_NAMESIZE] __sl_cache_aligned;
	const struct sl_pktdev_ops *ops;
	void *priv;
	uint64_t caps;
	uint16_t qid;
	struct sl_mempool *pool;
};

/**
 * Open an lport.
 * @param cfg What to open.
 * @return the lport, stopped, or NULL with errno: EINVAL (bad field or
 *   option; the log names it), ENOENT (no such backend; the log lists the
 *   available ones), EEXIST (name in use), ENOSPC (SL_PORT_MAX open),
 *   ENODEV (no such device), EPERM/EACCES (privileges missing), ENOMEM,
 *   or what the backend reports.
 */
SL_API struct sl_port *sl_pktdev_open(const struct sl_port_cfg *cfg);

/**
 * Start an lport: after this, bursts move packets.
 * @return 0, -EINVAL (NULL), -EALREADY (already started) or a backend error.
 */
SL_API int sl_pktdev_start(struct sl_port *port);

/**
 * Stop an lport: bursts return 0 afterwards.
 * @return 0, -EINVAL (NULL) or -EALREADY (not started).
 */
SL_API int sl_pktdev_stop(struct sl_port *port);

/** Stop (if needed) and close an lport, releasing everything; NULL no-op. */
SL_API void sl_pktdev_close(struct sl_port *port);

/**
 * Receive up to n packets.
 * @return packets received, 0..n; each mbuf now belongs to the caller.
 */
static inline uint16_t
sl_pktdev_rx_burst(struct sl_port *port, struct sl_mbuf **pkts, uint16_t n)
{
	uint16_t nb;

#ifdef SL_DEBUG
	if (port == NULL || pkts == NULL || !port->started)
		return 0;
#endif
	nb = port->rx_burst(port->rxq, pkts, n);
	port->rx.packets += nb;
	return nb;
}

/**
 * Send up to n packets. The lport takes the mbufs it accepted (and frees
 * them once sent); the rest, pkts[ret..n-1], stay the caller's.
 * @return packets accepted, 0..n.
 */
static inline uint16_t
sl_pktdev_tx_burst(struct sl_port *port, struct sl_mbuf **pkts, uint16_t n)
{
	uint16_t nb;

#ifdef SL_DEBUG
	if (port == NULL || pkts == NULL || !port->started)
		return 0;
#endif
	nb = port->tx_burst(port->txq, pkts, n);
	port->tx.packets += nb;
	return nb;
}

/**
 * Read the standard counters (software counters plus what the backend
 * knows, e.g. kernel drops).
 * @return 0 or -EINVAL.
 */
SL_API int sl_pktdev_stats_get(struct sl_port *port, struct sl_port_stats *st);

/** Zero the counters (not while bursts run). @return 0 or -EINVAL. */
SL_API int sl_pktdev_stats_reset(struct sl_port *port);

/**
 * Read the backend-specific counters.
 * @param xs Array to fill, or NULL to ask the number.
 * @param n Size of xs.
 * @return the number of counters the backend has (may exceed n: call
 *   again with a larger array), or -EINVAL.
 */
SL_API int sl_pktdev_xstats_get(struct sl_port *port, struct sl_port_xstat *xs,
				unsigned n);

/** Link state. @return 0, -EINVAL or -ENOTSUP. */
SL_API int sl_pktdev_link_get(struct sl_port *port, struct sl_port_link *link);

/** MAC address. @return 0, -EINVAL or -ENOTSUP (no L2 address, e.g. TUN). */
SL_API int sl_pktdev_mac_get(struct sl_port *port, uint8_t mac[6]);

/** MTU (L3 payload size). @return 0, -EINVAL or -ENOTSUP. */
SL_API int sl_pktdev_mtu_get(struct sl_port *port, uint16_t *mtu);

/**
 * Change the MTU.
 * @return 0, -EINVAL (NULL, or outside what the backend or its pool can
 *   carry), -ENOTSUP, or the backend's -errno (e.g. -EPERM).
 */
SL_API int sl_pktdev_mtu_set(struct sl_port *port, uint16_t mtu);

/** Promiscuous mode on or off. @return 0, -EINVAL, -ENOTSUP or -errno. */
SL_API int sl_pktdev_promisc_set(struct sl_port *port, bool on);

/** @return 1 when promiscuous, 0 when not, -EINVAL or -ENOTSUP. */
SL_API int sl_pktdev_promisc_get(struct sl_port *port);

/** @return the SL_PORT_CAP_* flags of an lport (0 for NULL). */
SL_API uint64_t sl_pktdev_capabilities(const struct sl_port *port);

/**
 * A file descriptor that becomes readable when RX has packets, for idle
 * threads (epoll). @return the fd, -EINVAL or -ENOTSUP.
 */
SL_API int sl_pktdev_rx_fd(struct sl_port *port);

/** @return the lport's name ("" for NULL). */
SL_API const char *sl_pktdev_name(const struct sl_port *port);

/** @return the backend's name ("" for NULL). */
SL_API const char *sl_pktdev_backend(const struct sl_port *port);

/** @return the open lport of that name, or NULL with errno ENOENT. */
SL_API struct sl_port *sl_pktdev_lookup(const char *name);

/**
 * The registered backends.
 * @param out Filled with up to n entries (may be NULL when n is 0).
 * @return the number of backends registered.
 */
SL_API unsigned sl_pktdev_backend_list(struct sl_pktdev_backend_info *out,
				       unsigned n);

#ifdef __cplusplus
}
#endif
#endif /* SL_PKTDEV_H */
