/**
 * @file The IPv4 forwarding data path of the hybrid stack (cnet).
 *
 * It sits on top of the graph engine (sl_graph.h) and below the
 * application: the kernel stays the control plane, the kernel mirror
 * (sl_nlmirror.h) reports its links, addresses, routes and neighbours on
 * a thread of its own, and cnet turns them into tables the graph threads
 * read without locks:
 *
 * - links: ifindex to MAC, MTU, state and first IPv4 address;
 * - an IPv4 FIB (sl_fib4) from prefixes to next-hop ids, and a next-hop
 *   table whose entries never change once published (a change writes a
 *   fresh entry and publishes its id through the FIB; the old entry is
 *   reused after a QSBR grace period);
 * - neighbours in a cuckoo hash keyed by (ifindex, IPv4 address).
 *
 * The graph of one stack thread: eth_rx (source) -> ptype -> ip4_input
 * -> ip4_forward -> ip4_output -> eth_tx, with icmp4 (errors), udp_input
 * -> chnl_recv for the host's datagrams bound to a channel (sl_chnl.h),
 * udp_output (source: what channels send), punt (to the kernel through a
 * TAP device), kernel_recv (source: what the kernel sends back through
 * it) and drop (counted by reason). Multipath routes spread flows over
 * their paths by a hash of the addresses (weights honoured).
 * Packets to a neighbour not yet resolved are held (SL_CNET_HOLD_PKTS per
 * neighbour, per thread) while the kernel resolves it, and sent when its
 * neighbour event arrives.
 */
#ifndef SL_CNET_H
#define SL_CNET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_common.h"
#include "sl_nlmirror.h"
#include "sl_pktdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Highest ifindex the link table holds; links above it are ignored. */
#define SL_CNET_IFINDEX_MAX 4095
/** Packets a thread holds per unresolved neighbour. */
#define SL_CNET_HOLD_PKTS 8
/** Unresolved neighbours a thread holds packets for at once. */
#define SL_CNET_HOLD_SLOTS 16
/** Most lports of one stack thread. */
#define SL_CNET_THREAD_PORTS 16

/** Why the drop node freed a packet. */
enum sl_cnet_drop_reason {
	SL_CNET_DROP_NOT_IP4,	      /**< not IPv4 and not punted */
	SL_CNET_DROP_OTHER_HOST,      /**< unicast to another MAC address */
	SL_CNET_DROP_TRUNCATED,	      /**< frame shorter than the headers */
	SL_CNET_DROP_BAD_VERSION,     /**< IP version is not 4 */
	SL_CNET_DROP_BAD_IHL,	      /**< header length below 20 bytes */
	SL_CNET_DROP_BAD_CKSUM,	      /**< header checksum wrong */
	SL_CNET_DROP_BAD_LEN,	      /**< total length vs frame */
	SL_CNET_DROP_PUNT,	      /**< for the kernel, no punt device */
	SL_CNET_DROP_BLACKHOLE,	      /**< blackhole route */
	SL_CNET_DROP_NO_NEIGH,	      /**< neighbour not resolved (in time) */
	SL_CNET_DROP_NEIGH_HOLD_FULL, /**< too many packets wait for it */
	SL_CNET_DROP_MTU,	 /**< too big, DF clear (no fragmentation) */
	SL_CNET_DROP_LINK_DOWN,	 /**< output link down or unknown */
	SL_CNET_DROP_NO_TX_PORT, /**< no lport of the thread on the link */
	SL_CNET_DROP_TX_FULL,	 /**< the lport refused it */
	SL_CNET_DROP_ICMP_RATELIMIT, /**< ICMP error not sent: rate limit */
	SL_CNET_DROP_ICMP_NOT_SENT,  /**< no error for an error (or bad src) */
	SL_CNET_DROP_BAD_UDP_LEN,    /**< UDP length vs IP payload */
	SL_CNET_DROP_BAD_UDP_CKSUM,  /**< UDP checksum wrong */
	SL_CNET_DROP_CHNL_FULL,	     /**< the channel's queue was full */
	SL_CNET_DROP_NO_ROUTE,	     /**< a channel's datagram: no route */
	SL_CNET_DROP_PUNT_FULL,	     /**< the punt device refused it */
	SL_CNET_DROP_MAX,
};

/** Settings of a stack. Zeroed fields take the defaults. */
struct sl_cnet_cfg {
	uint32_t max_routes; /**< 0: 65536 */
	uint32_t max_nh;     /**< next-hop slots; 0: 4096 */
	uint32_t max_neigh;  /**< 0: 4096 */
	/** Keep the steering program's local-address map (sl_steer.h) equal
	 *  to the kernel's IPv4 addresses, for `transit` rules. */
	bool steer_local;
	/** ICMP errors per second per thread (token bucket); 0: 100. */
	uint32_t icmp_rate;
	/** Hand punted packets to the kernel through a TAP device per
	 *  device of the threads' lports, and send what the kernel writes
	 *  to it out of the lport (kernel_recv). Needs pool. */
	bool punt_tap;
	/** Pool of the packets cnet makes: punt-device reception,
	 *  sl_chnl_alloc(). NULL: none (punted packets are dropped). */
	struct sl_mempool *pool;
};

struct sl_cnet;
struct sl_cnet_thread;

/**
 * Create the tables of a stack (no mirror yet).
 * @param cfg Settings, or NULL for the defaults.
 * @return The stack, or NULL with errno EINVAL or ENOMEM.
 */
SL_API struct sl_cnet *sl_cnet_create(const struct sl_cnet_cfg *cfg);

/**
 * Start the kernel mirror that fills the tables and wait for its first
 * full dump.
 * @param c The stack.
 * @param timeout_ms Longest wait for the dump.
 * @return 0, -EINVAL, -EALREADY, -ETIMEDOUT or the mirror's -errno.
 */
SL_API int sl_cnet_start(struct sl_cnet *c, unsigned timeout_ms);

/** Stop the mirror and free the tables. No thread may use c any more;
 *  NULL is a no-op. @param c The stack. */
SL_API void sl_cnet_free(struct sl_cnet *c);

/** @name Table updates (the mirror's callbacks; exported for tests).
 *  One writer thread at a time. */
/**@{*/
/** A link event. @param c The stack. @param l The link. @param del Removed. */
SL_API void sl_cnet_link_event(struct sl_cnet *c, const struct sl_nlm_link *l,
			       bool del);
/** An address event. @param c The stack. @param a The address.
 *  @param del Removed. */
SL_API void sl_cnet_addr_event(struct sl_cnet *c, const struct sl_nlm_addr *a,
			       bool del);
/** A route event. @param c The stack. @param r The route. @param del Removed.
 */
SL_API void sl_cnet_route_event(struct sl_cnet *c, const struct sl_nlm_route *r,
				bool del);
/** A neighbour event. @param c The stack. @param n The neighbour.
 *  @param del Removed. */
SL_API void sl_cnet_neigh_event(struct sl_cnet *c, const struct sl_nlm_neigh *n,
				bool del);
/**
 * A full dump begins (begin true) or is complete (begin false): routes
 * and neighbours not reported again in between are removed at the end.
 * @param c The stack.
 * @param begin true at resync_begin, false at resync_end.
 */
SL_API void sl_cnet_resync(struct sl_cnet *c, bool begin);
/**@}*/

/**
 * Print the links, routes and neighbours as the stack sees them.
 * @param c The stack.
 * @param f Where to.
 * @return 0 or -EINVAL.
 */
SL_API int sl_cnet_show(struct sl_cnet *c, FILE *f);

/**
 * Create the graph of one stack thread over its lports. Call from the
 * thread that will walk it (it registers as a QSBR reader of the FIB).
 * @param c The stack.
 * @param name Graph instance name (unique).
 * @param ports The thread's lports.
 * @param ifindex The kernel ifindex of each lport's device.
 * @param nports Number of lports, 1..SL_CNET_THREAD_PORTS.
 * @param patterns Node-name patterns of the graph, or NULL for the stack's
 *   nodes.
 * @param npatterns Number of patterns.
 * @return The thread's state, or NULL with errno EINVAL, ENOSPC (too many
 *   readers), ENOMEM or the graph's errno.
 */
SL_API struct sl_cnet_thread *
sl_cnet_thread_create(struct sl_cnet *c, const char *name,
		      struct sl_port *const *ports, const int *ifindex,
		      unsigned nports, const char *const *patterns,
		      unsigned npatterns);

/**
 * Walk the thread's graph once and report a quiescent state.
 * @param t The thread's state.
 * @return Packets received by eth_rx in this walk.
 */
SL_API unsigned sl_cnet_thread_poll(struct sl_cnet_thread *t);

/** Destroy a thread's graph (from that thread); NULL is a no-op.
 *  @param t The thread's state. */
SL_API void sl_cnet_thread_destroy(struct sl_cnet_thread *t);

/** @return The thread's graph instance. @param t The thread's state. */
SL_API struct sl_graph *sl_cnet_thread_graph(const struct sl_cnet_thread *t);

/**
 * Read a thread's drop counters (any thread).
 * @param t The thread's state.
 * @param out SL_CNET_DROP_MAX counters, indexed by reason.
 * @return 0 or -EINVAL.
 */
SL_API int sl_cnet_thread_drops(const struct sl_cnet_thread *t,
				uint64_t out[SL_CNET_DROP_MAX]);

/** @return The name of a drop reason ("bad_cksum", ...), or "?".
 *  @param reason An enum sl_cnet_drop_reason. */
SL_API const char *sl_cnet_drop_name(unsigned reason);

/**
 * Let the stack manage the steering of a device with an lport of
 * net_af_xdp (opened by this process): every channel bound now or later
 * gets its rule there (sl_chnl.h), and with transit a "transit xsk" rule
 * brings the traffic the host forwards to sluice. Call after
 * sl_cnet_start() (the local-address map is then complete), once per
 * device (again: no-op).
 * @param c The stack.
 * @param ifname The device.
 * @param transit Add the transit rule.
 * @return 0, -EINVAL, -ENOSPC (too many devices) or sl_steer_rule_add()'s
 *   error.
 */
SL_API int sl_cnet_steer_attach(struct sl_cnet *c, const char *ifname,
				bool transit);

/**
 * The name of the punt device of a device: "slp" and the ifindex
 * ("slp7"). sl_cnet_thread_create() creates it when sl_cnet_cfg.punt_tap
 * is set, sl_cnet_thread_destroy() removes it.
 * @param ifindex The device's ifindex.
 * @param buf Filled, IFNAMSIZ bytes.
 */
SL_API void sl_cnet_punt_ifname(int ifindex, char buf[16]);

/* ---- header checks and arithmetic (pure; used by the nodes) ----------- */

/**
 * Check an IPv4 header as a router must before forwarding.
 * @param ip The header (at least len bytes readable).
 * @param len Bytes from the header's start to the end of the frame.
 * @return 0 when it may be forwarded, else an enum sl_cnet_drop_reason
 *   (SL_CNET_DROP_TRUNCATED, _BAD_VERSION, _BAD_IHL, _BAD_CKSUM,
 *   _BAD_LEN) plus 1, so that 0 stays "good".
 */
SL_API unsigned sl_cnet_ip4_check(const void *ip, uint32_t len);

/**
 * Decrement the TTL of a checked IPv4 header whose TTL is above 1 and
 * update its checksum incrementally (RFC 1624, eqn. 3).
 * @param ip The header.
 */
SL_API void sl_cnet_ip4_ttl_dec(void *ip);

/**
 * The Internet checksum (RFC 1071) of a buffer.
 * @param data The bytes.
 * @param len Their number.
 * @return The checksum, ready to store (network order as the bytes).
 */
SL_API uint16_t sl_cnet_cksum(const void *data, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* SL_CNET_H */
