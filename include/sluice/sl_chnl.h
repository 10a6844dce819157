/**
 * @file Channels: the socket-like API of applications on the hybrid stack
 * (sl_cnet.h). A UDP channel is bound to a local address and port of the
 * host; the stack's graph threads deliver its datagrams to it without a
 * system call or a copy, and send what it gives them.
 *
 * Where it sits: udp_input looks the destination (address, port) of a
 * datagram for the host up in the channel table (an exact binding first,
 * then a wildcard one); chnl_recv queues the mbuf on the channel, with
 * data_off at the UDP payload, and calls the channel's readiness callback
 * on the graph thread once per burst. sl_chnl_sendto() queues payload
 * mbufs for udp_output, which prepends the UDP, IPv4 and Ethernet headers
 * (checksums filled) and routes them like forwarded packets. A datagram
 * for the host that matches no channel is punted to the kernel.
 *
 * Binding a channel on a stack whose steering is managed
 * (sl_cnet_cfg.steer_local) adds a steering rule "udp [dst ADDR] port P
 * xsk" to every device of the stack's net_af_xdp lports, so the kernel no
 * longer gets that port's traffic; closing the channel removes it.
 *
 * Threads: open, bind, connect and close from any thread except inside a
 * callback; recv and send from any one thread at a time (callbacks run on
 * the graph thread that delivered). Ownership: received mbufs belong to
 * the caller; mbufs given to sl_chnl_sendto() belong to the stack when it
 * accepts them.
 *
 * Address strings (sl_chnl_open()):
 * @code
 *   udp4-listen:[ADDR:]PORT   bind to ADDR (default: any of the host's) and
 * PORT udp4:ADDR:PORT            bind to any address and an unused port, and
 *                             connect to ADDR:PORT
 * @endcode
 */
#ifndef SL_CHNL_H
#define SL_CHNL_H

#include <stdint.h>

#include "sl_cnet.h"
#include "sl_common.h"
#include "sl_mbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most channels of one stack. */
#define SL_CHNL_MAX 1024
/** Datagrams a channel holds before delivery drops them (chnl_full). */
#define SL_CHNL_RX_DEPTH 1024
/** Bytes of headers sl_chnl_sendto() prepends (Ethernet, IPv4, UDP). */
#define SL_CHNL_HEADROOM 42

/** An IPv4 address and port, host byte order. */
struct sl_chnl_addr {
	uint32_t ip;   /**< 0: any */
	uint16_t port; /**< 0: any (bind: choose one) */
};

/** Readiness events. */
#define SL_CHNL_EV_READ 0x1u

struct sl_chnl;

/**
 * Readiness callback, called on the graph thread after a burst delivered
 * datagrams to the channel. It may receive and send; it must not close
 * the channel nor block.
 */
typedef void (*sl_chnl_cb)(struct sl_chnl *ch, unsigned events, void *arg);

/** Counters of a channel. */
struct sl_chnl_stats {
	uint64_t rx_pkts;  /**< datagrams delivered to the channel */
	uint64_t rx_bytes; /**< their payload bytes */
	uint64_t rx_full;  /**< datagrams dropped: the channel was full */
	uint64_t tx_pkts;  /**< datagrams accepted by sl_chnl_sendto() */
	uint64_t tx_bytes; /**< their payload bytes */
	uint64_t tx_full;  /**< refused: the stack's send queue was full */
};

/**
 * Open a channel from an address string (see the file comment) and bind
 * (and connect) it.
 * @param c The stack.
 * @param spec E.g. "udp4-listen:198.18.1.1:7", "udp4-listen:5000",
 *   "udp4:198.18.2.2:9".
 * @param cb Readiness callback, or NULL to poll with sl_chnl_recvfrom().
 * @param arg Passed to cb.
 * @return The channel, or NULL with errno EINVAL (bad string, logged
 *   naming what is wrong), EADDRINUSE, ENOSPC (SL_CHNL_MAX open) or ENOMEM.
 */
SL_API struct sl_chnl *sl_chnl_open(struct sl_cnet *c, const char *spec,
				    sl_chnl_cb cb, void *arg);

/**
 * A new, unbound UDP channel.
 * @param c The stack.
 * @param cb Readiness callback, or NULL.
 * @param arg Passed to cb.
 * @return The channel, or NULL with errno EINVAL, ENOSPC or ENOMEM.
 */
SL_API struct sl_chnl *sl_chnl_udp4(struct sl_cnet *c, sl_chnl_cb cb,
				    void *arg);

/**
 * Bind a channel to a local address and port; from now on it receives.
 * @param ch The channel (not bound yet).
 * @param a Local address (ip 0: any; port 0: an unused port from 49152).
 * @return 0, -EINVAL (bound already), -EADDRINUSE or -ENOSPC.
 */
SL_API int sl_chnl_bind(struct sl_chnl *ch, const struct sl_chnl_addr *a);

/**
 * Set the default destination of sl_chnl_sendto() (binds to any address
 * and an unused port first when unbound). Datagrams from other sources are
 * still delivered.
 * @param ch The channel.
 * @param a Remote address and port, neither 0.
 * @return 0 or -EINVAL, or bind's error.
 */
SL_API int sl_chnl_connect(struct sl_chnl *ch, const struct sl_chnl_addr *a);

/**
 * Take received datagrams.
 * @param ch The channel.
 * @param pkts Filled with up to n mbufs, data at the UDP payload.
 * @param from Filled with each datagram's source, or NULL.
 * @param n Room in pkts (and from).
 * @return Datagrams taken, 0 when none wait.
 */
SL_API unsigned sl_chnl_recvfrom(struct sl_chnl *ch, struct sl_mbuf **pkts,
				 struct sl_chnl_addr *from, unsigned n);

/**
 * Send datagrams. Each mbuf holds one payload (one segment) with at least
 * SL_CHNL_HEADROOM bytes of headroom: a received mbuf qualifies, so an
 * echo sends back what it got without copying.
 * @param ch The channel (bound; connected when to is NULL).
 * @param pkts The payloads.
 * @param n Their number.
 * @param to Destination of all of them, or NULL for the connected peer.
 * @return Datagrams accepted (the first ones, now owned by the stack);
 *   the caller keeps the others. -EINVAL for a bad channel, destination
 *   or mbuf (nothing accepted).
 */
SL_API int sl_chnl_sendto(struct sl_chnl *ch, struct sl_mbuf **pkts, unsigned n,
			  const struct sl_chnl_addr *to);

/**
 * A fresh mbuf for sl_chnl_sendto() from the stack's pool
 * (sl_cnet_cfg.pool), data_off leaving SL_CHNL_HEADROOM, empty.
 * @param ch The channel.
 * @return The mbuf, or NULL (no pool, or it is empty).
 */
SL_API struct sl_mbuf *sl_chnl_alloc(struct sl_chnl *ch);

/**
 * Close a channel: unbind it (and remove its steering rule), wait until
 * no graph thread can still deliver to it, free the datagrams still
 * queued. NULL is a no-op.
 * @param ch The channel.
 */
SL_API void sl_chnl_close(struct sl_chnl *ch);

/**
 * Read a channel's counters.
 * @param ch The channel.
 * @param st Filled.
 * @return 0 or -EINVAL.
 */
SL_API int sl_chnl_stats_get(const struct sl_chnl *ch,
			     struct sl_chnl_stats *st);

/**
 * The local address of a bound channel.
 * @param ch The channel.
 * @param a Filled.
 * @return 0, or -EINVAL when ch is NULL or not bound.
 */
SL_API int sl_chnl_local(const struct sl_chnl *ch, struct sl_chnl_addr *a);

#ifdef __cplusplus
}
#endif
#endif /* SL_CHNL_H */
