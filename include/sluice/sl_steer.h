/**
 * @file Steering rules of net_af_xdp: which packets a network device hands
 * to sluice's AF_XDP sockets, which go to the kernel and which are dropped,
 * changed while traffic flows.
 *
 * Where it sits: before everything else. The XDP program of net_af_xdp
 * (bpf/steer.bpf.c) runs on every packet the device receives; the first of
 * its rules that matches, in priority order, gives the action, and the
 * device's default action applies when none does:
 *   - SL_STEER_XSK: to the AF_XDP socket of the queue the packet arrived on
 *     (an lport's rx_burst), or to the kernel when that queue has none;
 *   - SL_STEER_PASS: to the kernel's stack (ARP, ICMP, OSPF, SSH, ...);
 *   - SL_STEER_DROP: dropped.
 * The default action follows the lport option steer=: `all` (XSK, every
 * packet of the queue) or `rules` (PASS, only what the rules select).
 *
 * A rule matches on any of these, each a wildcard when zero: the ethertype
 * (after one 802.1Q or 802.1ad tag), the IP protocol (IPv6: after the
 * common extension headers), the IP destination prefix, the UDP/TCP/SCTP
 * destination port range, and the kind SL_STEER_KIND_TRANSIT: unicast IP
 * (unicast Ethernet destination; IP destination not multicast, broadcast,
 * link-local, loopback or unspecified) whose destination is not one of the
 * local addresses given with sl_steer_local_addr_add(), i.e. what a router
 * forwards.
 *
 * The calls work on the devices this process attached the program to (an
 * lport of net_af_xdp opened without xsk_pin_path), by name in the
 * caller's network namespace; they are thread-safe. A change never
 * disturbs other traffic: a rule is written completely before it is
 * published, and unpublished (then waited for) before it is removed.
 * Every failure is logged (module "steer") naming what failed and why.
 *
 * Text form (sl_steer_rule_parse()), words in any order, the action last:
 * @code
 *   [prio N] [ip|ip6|arp|ethertype X] [udp|tcp|sctp|icmp|icmp6|gre|ospf|proto
 * N] [dst ADDR[/LEN]] [port P[-Q]] [transit] xsk|pass|drop
 * @endcode
 * e.g. "udp dst 198.18.0.0/24 port 5000-5010 xsk", "ip6 tcp port 22 pass",
 * "ethertype 0x88cc drop", "transit xsk".
 */
#ifndef SL_STEER_H
#define SL_STEER_H

#include <stddef.h>
#include <stdint.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Rules of one device at most; priorities are 0 to this - 1. */
#define SL_STEER_MAX_RULES 64
/** sl_steer_rule.prio: the slot after the last rule of the device. */
#define SL_STEER_PRIO_AUTO (-1)
/** Longest text of a rule that sl_steer_rule_format() writes, with NUL. */
#define SL_STEER_RULE_TEXT_MAX 160

/** What happens to a packet. */
enum sl_steer_action {
	SL_STEER_XSK = 0,  /**< to the AF_XDP socket of its queue */
	SL_STEER_PASS = 1, /**< to the kernel */
	SL_STEER_DROP = 2, /**< dropped */
};

/** Kinds of rules. */
enum sl_steer_kind {
	SL_STEER_KIND_MATCH = 0, /**< the fields only */
	/** The fields, and unicast IP not for a local address. */
	SL_STEER_KIND_TRANSIT = 1,
};

/** One rule. Zero a rule, then set the fields to match. */
struct sl_steer_rule {
	/** Priority = slot, 0 (first) to SL_STEER_MAX_RULES - 1, or
	 *  SL_STEER_PRIO_AUTO: right after the device's last rule. */
	int prio;
	/** Ethertype after one VLAN tag, e.g. 0x0800; 0: any. */
	uint16_t ethertype;
	/** IPv4 protocol or IPv6 next header, e.g. 17; 0: any. */
	uint8_t ip_proto;
	/** AF_INET or AF_INET6 for a destination prefix; 0: any. */
	uint8_t dst_family;
	/** Prefix length: 0..32 (AF_INET) or 0..128 (AF_INET6). */
	uint8_t dst_plen;
	/** Destination, network order (AF_INET: the first 4 bytes); bits
	 *  past dst_plen are ignored. */
	uint8_t dst[16];
	/** Destination port range, inclusive: UDP, TCP or SCTP (any of them
	 *  when ip_proto is 0); 0-0: any port. */
	uint16_t port_lo, port_hi;
	enum sl_steer_kind kind;     /**< match or transit */
	enum sl_steer_action action; /**< what a match does */
};

/** A rule of a device, with its counters (sl_steer_rule_list()). */
struct sl_steer_rule_info {
	unsigned id;		   /**< for sl_steer_rule_del() */
	struct sl_steer_rule rule; /**< as added; prio is its slot */
	uint64_t pkts;		   /**< packets it matched */
	uint64_t bytes;		   /**< their bytes (whole frames) */
};

/** Counters of a device's program (sums over the CPUs). */
struct sl_steer_dev_stats {
	uint64_t redirect;	/**< handed to an AF_XDP socket */
	uint64_t pass;		/**< given to the kernel */
	uint64_t redirect_fail; /**< XSK, but the redirect failed: kernel */
	uint64_t drop;		/**< dropped by a rule or the default */
	uint64_t default_pkts;	/**< packets no rule matched */
	uint64_t default_bytes; /**< their bytes */
};

/**
 * Parse the text form of a rule (see the file comment).
 * @param text E.g. "udp dst 198.18.0.0/24 port 5000-5010 xsk".
 * @param r Filled on success (prio SL_STEER_PRIO_AUTO without "prio").
 * @return 0, or -EINVAL after logging the word that is wrong and what was
 *   expected there.
 */
SL_API int sl_steer_rule_parse(const char *text, struct sl_steer_rule *r);

/**
 * Write the text form of a rule, as sl_steer_rule_parse() reads it.
 * @param r The rule.
 * @param buf Where to write, SL_STEER_RULE_TEXT_MAX bytes are enough.
 * @param len Size of buf.
 * @return The length written (without the NUL), -EINVAL for a rule
 *   sl_steer_rule_add() would refuse (logged), -ENOSPC when buf is short.
 */
SL_API int sl_steer_rule_format(const struct sl_steer_rule *r, char *buf,
				size_t len);

/**
 * Check a rule as sl_steer_rule_add() does.
 * @param r The rule.
 * @return 0, or -EINVAL after logging what is wrong (a port range without
 *   UDP/TCP/SCTP, a prefix of the other family than the ethertype, ...).
 */
SL_API int sl_steer_rule_check(const struct sl_steer_rule *r);

/**
 * Add a rule to a device; it applies to the next packet.
 * @param ifname The device, in the caller's network namespace.
 * @param r The rule; r->prio is its slot (or SL_STEER_PRIO_AUTO).
 * @param id Set to the rule's id, unique on this device for the life of
 *   its program (id % SL_STEER_MAX_RULES is its priority). May be NULL.
 * @return 0; -ENODEV (this process did not attach the program to ifname),
 *   -EINVAL (a bad rule), -EEXIST (that priority is taken), -ENOSPC (no
 *   slot after the last rule), -ENOTSUP (net_af_xdp not built), or the
 *   -errno of a failed map update.
 */
SL_API int sl_steer_rule_add(const char *ifname, const struct sl_steer_rule *r,
			     unsigned *id);

/**
 * Remove a rule. When this returns, no packet is being classified by it
 * any more and its counters are final (read them before).
 * @param ifname The device.
 * @param id What sl_steer_rule_add() gave.
 * @return 0, -ENODEV, -ENOENT (no rule of that id), -ENOTSUP or -errno.
 */
SL_API int sl_steer_rule_del(const char *ifname, unsigned id);

/**
 * Remove a rule and read its final counters: every packet it matched is
 * counted, none after (unlike sl_steer_rule_stats() then
 * sl_steer_rule_del(), between which packets may still match).
 * @param ifname The device.
 * @param id What sl_steer_rule_add() gave.
 * @param pkts Set to the packets it matched; may be NULL.
 * @param bytes Set to their bytes; may be NULL.
 * @return As sl_steer_rule_del().
 */
SL_API int sl_steer_rule_del_stats(const char *ifname, unsigned id,
				   uint64_t *pkts, uint64_t *bytes);

/**
 * Remove every rule of a device (the default action stays).
 * @param ifname The device.
 * @return 0, -ENODEV, -ENOTSUP or -errno.
 */
SL_API int sl_steer_rule_flush(const char *ifname);

/**
 * Counters of a rule.
 * @param ifname The device.
 * @param id The rule.
 * @param pkts Set to the packets it matched since it was added.
 * @param bytes Set to their bytes. Either may be NULL.
 * @return 0, -ENODEV, -ENOENT, -ENOTSUP or -errno.
 */
SL_API int sl_steer_rule_stats(const char *ifname, unsigned id, uint64_t *pkts,
			       uint64_t *bytes);

/**
 * The rules of a device in priority order, with their counters.
 * @param ifname The device.
 * @param out Filled with up to max rules.
 * @param max Entries of out (0 with out NULL: only count).
 * @return How many rules the device has (may exceed max), or -ENODEV,
 *   -ENOTSUP or -errno.
 */
SL_API int sl_steer_rule_list(const char *ifname,
			      struct sl_steer_rule_info *out, unsigned max);

/**
 * Set the action for packets no rule matches.
 * @param ifname The device, or NULL for every device this process attached
 *   the program to.
 * @param action SL_STEER_XSK, SL_STEER_PASS or SL_STEER_DROP.
 * @return 0, -EINVAL (action), -ENODEV (no such device, or none at all
 *   with NULL), -ENOTSUP or -errno.
 */
SL_API int sl_steer_default_set(const char *ifname,
				enum sl_steer_action action);

/**
 * The action for packets no rule matches.
 * @param ifname The device.
 * @param action Set to it.
 * @return 0, -ENODEV, -ENOTSUP or -errno.
 */
SL_API int sl_steer_default_get(const char *ifname,
				enum sl_steer_action *action);

/**
 * Declare an address as the host's own: transit rules then leave packets
 * to it alone. Add every address of the host (and the directed broadcast
 * addresses of its subnets) that packets on the device may carry.
 * @param ifname The device, or NULL for every device this process attached
 *   the program to.
 * @param family AF_INET or AF_INET6.
 * @param addr 4 or 16 bytes, network order.
 * @return 0, -EAFNOSUPPORT, -ENODEV, -ENOSPC (1024 addresses per family
 *   and device), -ENOTSUP or -errno.
 */
SL_API int sl_steer_local_addr_add(const char *ifname, int family,
				   const void *addr);

/**
 * Forget a local address.
 * @param ifname The device, or NULL for every device.
 * @param family AF_INET or AF_INET6.
 * @param addr 4 or 16 bytes, network order.
 * @return 0, -EAFNOSUPPORT, -ENODEV, -ENOENT (not there; with NULL: on no
 *   device), -ENOTSUP or -errno.
 */
SL_API int sl_steer_local_addr_del(const char *ifname, int family,
				   const void *addr);

/**
 * Counters of a device's program.
 * @param ifname The device.
 * @param st Filled.
 * @return 0, -ENODEV, -ENOTSUP or -errno.
 */
SL_API int sl_steer_dev_stats(const char *ifname,
			      struct sl_steer_dev_stats *st);

/** @return "xsk", "pass", "drop", or "?" for another value. */
SL_API const char *sl_steer_action_name(enum sl_steer_action action);

#ifdef __cplusplus
}
#endif
#endif /* SL_STEER_H */
