/**
 * @file The kernel mirror: links, IPv4 addresses, IPv4 routes and
 * neighbours of the kernel (the calling thread's network namespace), read
 * over rtnetlink with libnl-route-3 on a thread of its own and handed to
 * the application as events. A full dump comes first, then live updates;
 * after a netlink overflow (ENOBUFS) the mirror dumps everything again
 * between resync_begin and resync_end, so the consumer can drop what it
 * did not see again. The consumer (the stack) turns the events into its
 * data-path tables (FIB, neighbour hash, link table) without stopping the
 * data path.
 *
 * Callbacks run on the mirror's thread, one at a time, in the order the
 * kernel reported the changes.
 */
#ifndef SL_NLMIRROR_H
#define SL_NLMIRROR_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most paths of a multipath route. */
#define SL_NLM_MAX_PATHS 16

/** A link (interface). */
struct sl_nlm_link {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	uint32_t mtu;
	bool admin_up; /**< IFF_UP */
	bool oper_up;  /**< IFF_UP and carrier (IFF_RUNNING / IF_OPER_UP) */
};

/** An IPv4 address of a link. */
struct sl_nlm_addr {
	int ifindex;
	uint32_t addr; /**< host byte order */
	uint8_t plen;
};

/** What a route does with its packets. */
enum sl_nlm_route_type {
	SL_NLM_RT_UNICAST,     /**< forward along paths[] */
	SL_NLM_RT_LOCAL,       /**< for this host (table local) */
	SL_NLM_RT_BLACKHOLE,   /**< drop silently */
	SL_NLM_RT_UNREACHABLE, /**< drop, ICMP host unreachable */
	SL_NLM_RT_PROHIBIT,    /**< drop, ICMP administratively prohibited */
	SL_NLM_RT_OTHER,       /**< broadcast, multicast, throw, ... */
};

/** One path of a route. */
struct sl_nlm_path {
	uint32_t gw; /**< gateway, host byte order; 0: directly connected */
	int ifindex;
	/** Relative weight as the kernel counts it: 1..256 from a multipath
	 *  route, up to 65536 from a nexthop group (Linux 6.12+); 1 for a
	 *  single path. */
	uint32_t weight;
};

/** An IPv4 route of the mirrored table (sl_nlm_cfg.table) or of the
 *  local table. Paths whose link is down (RTNH_F_DEAD) and paths with an
 *  IPv6 gateway are left out, and paths past SL_NLM_MAX_PATHS. Routes
 *  with a TOS or a source prefix, and cache clones, are not reported. */
struct sl_nlm_route {
	uint32_t dst; /**< host byte order */
	uint8_t plen;
	uint8_t type;	   /**< enum sl_nlm_route_type */
	uint8_t protocol;  /**< rtm_protocol (kernel, boot, static, 188 OSPF) */
	uint32_t table;	   /**< routing table id */
	uint32_t priority; /**< metric */
	uint32_t nh_id;	   /**< nexthop object id (RTA_NH_ID), 0 if none */
	uint32_t npaths;   /**< 0 for blackhole/unreachable/prohibit */
	/** The paths, resolved from the nexthop object (or group) when the
	 *  route names one. */
	struct sl_nlm_path paths[SL_NLM_MAX_PATHS];
};

/** A neighbour (ARP entry). */
struct sl_nlm_neigh {
	int ifindex;
	uint32_t ip; /**< host byte order */
	uint8_t mac[6];
	uint16_t state; /**< NUD_* of the kernel */
	bool valid;	/**< the MAC can be used (REACHABLE, STALE, DELAY,
			 *   PROBE, PERMANENT, NOARP with a MAC) */
};

/** The consumer's callbacks (any may be NULL). del is true for a
 *  removal: then only the keys (ifindex; ifindex+addr+plen;
 *  dst+plen+table+priority; ifindex+ip) are meaningful. An event with
 *  del false adds or replaces the object with that key. Between
 *  resync_begin and resync_end everything is reported; otherwise links
 *  and routes only when they changed. A callback must
 *  not call sl_nlm_stop() or sl_nlm_wait_synced(); it may call
 *  sl_nlm_neigh_resolve() and sl_nlm_stats_get(). */
struct sl_nlm_ops {
	void (*link)(void *arg, const struct sl_nlm_link *l, bool del);
	void (*addr)(void *arg, const struct sl_nlm_addr *a, bool del);
	void (*route)(void *arg, const struct sl_nlm_route *r, bool del);
	void (*neigh)(void *arg, const struct sl_nlm_neigh *n, bool del);
	/** A full dump follows (at start, after an overflow, after a dump
	 *  the kernel marked interrupted). */
	void (*resync_begin)(void *arg);
	/** The dump is complete: what was not reported since resync_begin
	 *  no longer exists. */
	void (*resync_end)(void *arg);
};

/** Mirror settings. Zeroed fields take the defaults. */
struct sl_nlm_cfg {
	/** Routing table to mirror; 0: RT_TABLE_MAIN (254). Routes of the
	 *  local table are reported too (type SL_NLM_RT_LOCAL, its
	 *  broadcast entries SL_NLM_RT_OTHER). */
	uint32_t table;
	/** Netlink socket receive buffer in bytes; 0: 4 MB. (Small values
	 *  make overflows, for tests.) */
	uint32_t rcvbuf;
};

struct sl_nlm;

/**
 * Start the mirror thread. It dumps links, addresses, nexthop objects,
 * routes and neighbours (between resync_begin/resync_end) and then
 * reports changes.
 * @return the mirror, or NULL with errno (EPERM, ENOMEM, or netlink's).
 */
SL_API struct sl_nlm *sl_nlm_start(const struct sl_nlm_cfg *cfg,
				   const struct sl_nlm_ops *ops, void *arg);

/**
 * Wait until the first full dump has been delivered (its resync_end
 * callback has returned).
 * @return 0, -ETIMEDOUT, or -EINVAL (m NULL, or called from the mirror's
 *   own thread).
 */
SL_API int sl_nlm_wait_synced(struct sl_nlm *m, unsigned timeout_ms);

/** Stop the thread and free the mirror; NULL is a no-op. */
SL_API void sl_nlm_stop(struct sl_nlm *m);

/**
 * Ask the kernel to resolve a neighbour (a netlink neighbour request with
 * NTF_USE: the kernel sends ARP requests as it would for its own
 * traffic); the answer arrives as a neigh event (valid with the MAC, or
 * FAILED). Callable from any thread (it uses a socket of its own, under a
 * lock); waits at most a second for the kernel's acknowledgement.
 * @param ip IPv4 address, host byte order.
 * @return 0, -EINVAL (m NULL, ifindex <= 0, ip 0, multicast or
 *   broadcast), -ETIMEDOUT, or the kernel's answer (-ENODEV for an
 *   unknown ifindex, ...).
 */
SL_API int sl_nlm_neigh_resolve(struct sl_nlm *m, int ifindex, uint32_t ip);

/** Counters of a mirror. */
struct sl_nlm_stats {
	uint64_t events;    /**< callbacks made */
	uint64_t resyncs;   /**< full dumps after the first */
	uint64_t overflows; /**< ENOBUFS seen */
	uint64_t ignored;   /**< messages ignored (other tables, families,
			     *   NOARP multicast neighbours, ...) */
};

/** @return 0 or -EINVAL. */
SL_API int sl_nlm_stats_get(const struct sl_nlm *m, struct sl_nlm_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* SL_NLMIRROR_H */
