/**
 * @file Longest-prefix-match forwarding tables (FIB) for IPv4 and IPv6.
 *
 * The FIB is where the stack's ip4_lookup / ip6_lookup nodes turn a
 * destination address into a next-hop id; the control thread fills it from
 * the kernel's routes (netlink mirror). A next hop is an opaque 32-bit id
 * (an index into the caller's adjacency table); an address that no route
 * covers gets the default next hop given at creation.
 *
 * Design (both families, Gupta et al.'s DIR-24-8 generalised to a
 * multibit trie):
 * - A first table of 2^24 entries indexed by the first 24 bits of the
 *   address, then groups of 256 entries ("tbl8 groups"), each indexed by
 *   the next 8 bits. IPv4 has at most one group level (bits 24..31); IPv6
 *   has up to 13 (bits 24..127). A lookup reads one entry per level, so an
 *   IPv4 lookup costs one or two memory reads and an IPv6 lookup 1 + ceil(
 *   (length of the matching route - 24) / 8) reads.
 * - An entry is either a leaf, holding a next hop, or points to a group
 *   (its low bit set). Entries are 8 bytes by default: `next_hop << 1` or
 *   `group << 1 | 1`, so every 32-bit next hop is representable. With
 *   SL_FIB_F_COMPACT entries are 4 bytes, halving the tables, and next hops
 *   are limited to 0..SL_FIB_COMPACT_NH_MAX (2^31 - 1).
 * - The first table lives in a memory region on 2 MB pages (hugepages when
 *   reserved, else transparent huge pages where the kernel allows them), so
 *   that random lookups do not miss the TLB.
 * - The control plane keeps every route in a rule store (a hash table of
 *   prefix and length) and, per table entry, the length of the route that
 *   filled it: adding a route overwrites only entries of shorter (or equal)
 *   routes; deleting one gives its entries back to the longest route that
 *   covers it. A group whose entries all come from routes no longer than
 *   its parent's level is folded back into its parent and freed.
 *
 * Addresses: IPv4 in host byte order (10.0.0.1 is 0x0a000001), IPv6 as 16
 * bytes in network order. Bits of a route's address beyond its prefix
 * length are ignored.
 *
 * Concurrency (D3): one control thread updates a FIB (add, delete,
 * reclaim: calls must be serialised by the caller) while any number of
 * data-path threads look up without locks.
 * - An update changes each table entry with a single atomic store, so a
 *   lookup sees every entry either before or after the store, never torn:
 *   each result is the next hop that the address had at some moment during
 *   the lookup (during an update that covers many entries, two addresses of
 *   the same lookup may see different moments).
 * - A new group is filled completely before the entry that points to it is
 *   published (release store; lookups load entries with acquire ordering).
 * - A group unlinked by a delete may still be read by a lookup that began
 *   before. It is reused only after a grace period: once every reader has
 *   passed a quiescent state (a point where it holds no reference into any
 *   FIB, e.g. between two bursts). Two ways to tell the FIB:
 *   1. Give it a QSBR domain (struct sl_fib_qsbr, in struct sl_fib_conf):
 *      each reader thread registers once and calls sl_fib_qsbr_quiescent()
 *      between bursts; the FIB then reuses groups on its own as soon as
 *      every online reader has passed a quiescent state since they were
 *      freed (checked when it needs a group and in sl_fib4_reclaim()).
 *   2. Without a domain, freed groups wait until the control thread calls
 *      sl_fib4_reclaim() (sl_fib6_reclaim()), which it must do only after
 *      every reader has passed a quiescent point since the deletes whose
 *      groups it reclaims (by whatever means the application has), or at
 *      any time when no thread looks up concurrently.
 *   sl_fib4_free() (sl_fib6_free()) needs that no thread uses the FIB.
 *
 * Limits: up to max_routes routes and num_tbl8 groups (struct
 * sl_fib_conf). An add that needs more returns -ENOSPC and changes
 * nothing. An IPv4 route longer than /24 needs one group for its /24, an
 * IPv6 route of length L > 24 up to ceil((L - 24) / 8) groups (shared with
 * the routes around it). Memory: the first table is 2^24 entries (128 MB,
 * 64 MB compact), each group 256 entries (2 KB, 1 KB compact); the control
 * plane adds 1 byte per entry and 64 to 128 bytes per route of max_routes
 * (a hash table of 32-byte slots, at most half full).
 */
#ifndef SL_FIB_H
#define SL_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a FIB's name buffer (a name has at most 31 characters). */
#define SL_FIB_NAMESIZE 32

/**
 * Flag of struct sl_fib_conf: 4-byte table entries instead of 8. Halves
 * the memory (and cache footprint) of the tables; next hops are limited to
 * 0..SL_FIB_COMPACT_NH_MAX.
 */
#define SL_FIB_F_COMPACT 0x1u

/** Largest next hop (and default next hop) of a SL_FIB_F_COMPACT FIB. */
#define SL_FIB_COMPACT_NH_MAX 0x7fffffffu

/** Largest num_tbl8 of struct sl_fib_conf. */
#define SL_FIB_TBL8_MAX (1u << 22)
/** Largest max_routes of struct sl_fib_conf. */
#define SL_FIB_ROUTES_MAX (1u << 24)

/** Default max_routes (when 0 is given). */
#define SL_FIB_DEFAULT_ROUTES 65536u
/** Default num_tbl8 of an IPv4 FIB (when 0 is given). */
#define SL_FIB4_DEFAULT_TBL8 4096u
/** Default num_tbl8 of an IPv6 FIB (when 0 is given). */
#define SL_FIB6_DEFAULT_TBL8 65536u

struct sl_fib4;
struct sl_fib6;
struct sl_fib_qsbr;

/** Configuration of a FIB (both families). Zeroed fields take defaults. */
struct sl_fib_conf {
	/** Next hop of addresses that no route covers. */
	uint32_t default_nh;
	/** Most routes (0: SL_FIB_DEFAULT_ROUTES; at most SL_FIB_ROUTES_MAX).
	 */
	uint32_t max_routes;
	/**
	 * Number of 256-entry groups (0: SL_FIB4_DEFAULT_TBL8 or
	 * SL_FIB6_DEFAULT_TBL8; at most SL_FIB_TBL8_MAX). Their memory is
	 * reserved at creation and touched as groups are first used.
	 */
	uint32_t num_tbl8;
	/** 0 or SL_FIB_F_COMPACT. */
	unsigned flags;
	/**
	 * QSBR domain of the threads that look up in this FIB, or NULL (freed
	 * groups then wait for sl_fib4_reclaim() / sl_fib6_reclaim()). It
	 * must outlive the FIB.
	 */
	struct sl_fib_qsbr *qsbr;
};

/** Counters of a FIB (a snapshot, read by the control thread). */
struct sl_fib_stats {
	uint32_t routes;       /**< routes in the FIB */
	uint32_t max_routes;   /**< capacity for routes */
	uint32_t tbl8_total;   /**< groups: num_tbl8 */
	uint32_t tbl8_used;    /**< groups linked into the tables */
	uint32_t tbl8_retired; /**< groups freed, waiting for a grace period */
	uint32_t tbl8_free;    /**< groups ready for use */
	uint32_t entry_size;   /**< bytes per table entry: 8, or 4 (compact) */
};

/* ---- quiescent-state based reclamation ---------------------------------- */

/**
 * Create a QSBR domain: the set of reader threads whose quiescent states
 * tell FIBs (and anything else) when memory they unlinked is no longer
 * read. One domain can serve every FIB of an application.
 * @param max_readers Most reader threads registered at once, 1..1024.
 * @return The domain, or NULL with errno EINVAL or ENOMEM.
 */
SL_API struct sl_fib_qsbr *sl_fib_qsbr_create(unsigned max_readers);

/**
 * Free a QSBR domain. No FIB may use it any more; NULL is a no-op.
 * @param q The domain.
 */
SL_API void sl_fib_qsbr_free(struct sl_fib_qsbr *q);

/**
 * Register the calling reader thread. It is online from now on: the
 * writer waits for its quiescent states until it unregisters or goes
 * offline. Call before the thread's first lookup.
 * @param q The domain.
 * @return The reader id (>= 0) to pass to the other reader calls,
 *   -EINVAL when q is NULL, -ENOSPC when max_readers are registered.
 */
SL_API int sl_fib_qsbr_register(struct sl_fib_qsbr *q);

/**
 * Unregister a reader: the writer no longer waits for it. The thread must
 * not look up any more (until it registers again).
 * @param q The domain.
 * @param id Its id from sl_fib_qsbr_register().
 * @return 0, or -EINVAL (NULL q, id out of range or not registered).
 */
SL_API int sl_fib_qsbr_unregister(struct sl_fib_qsbr *q, unsigned id);

/**
 * Report a quiescent state: the calling reader holds no reference into
 * the tables of any FIB of the domain (call it between bursts). Two
 * loads and a store on the reader's own cache line; never blocks.
 * @param q The domain.
 * @param id The reader's id.
 */
SL_API void sl_fib_qsbr_quiescent(struct sl_fib_qsbr *q, unsigned id);

/**
 * Take a registered reader offline (e.g. before it sleeps): the writer
 * does not wait for it; it must not look up until sl_fib_qsbr_online().
 * @param q The domain.
 * @param id The reader's id.
 */
SL_API void sl_fib_qsbr_offline(struct sl_fib_qsbr *q, unsigned id);

/**
 * Bring an offline reader back; it may look up when this returns.
 * @param q The domain.
 * @param id The reader's id.
 */
SL_API void sl_fib_qsbr_online(struct sl_fib_qsbr *q, unsigned id);

/**
 * Start a grace period (writer side): memory unlinked before this call is
 * safe to reuse once sl_fib_qsbr_check() says so for the token returned.
 * FIBs call this themselves; it is exported for other users of a domain.
 * @param q The domain.
 * @return The token of the grace period (never 0).
 */
SL_API uint64_t sl_fib_qsbr_start(struct sl_fib_qsbr *q);

/**
 * Check a grace period without waiting.
 * @param q The domain.
 * @param token A token from sl_fib_qsbr_start().
 * @return true when every reader online at the call has reported a
 *   quiescent state (or gone offline) since the token was taken.
 */
SL_API bool sl_fib_qsbr_check(struct sl_fib_qsbr *q, uint64_t token);

/* ---- IPv4 -----------------------------------------------------------------
 */

/**
 * Create an IPv4 FIB (DIR-24-8): a 2^24-entry first table and num_tbl8
 * groups of 256 entries for routes longer than /24. Every address gets the
 * default next hop until routes are added.
 * @param name Name for logs, at most SL_FIB_NAMESIZE - 1 characters.
 * @param conf Configuration (NULL: all defaults, default next hop 0).
 * @return The FIB, or NULL with errno EINVAL (NULL or too long name,
 *   unknown flag, default_nh above SL_FIB_COMPACT_NH_MAX for a compact FIB,
 *   max_routes or num_tbl8 above their maximum) or ENOMEM.
 */
SL_API struct sl_fib4 *sl_fib4_create(const char *name,
				      const struct sl_fib_conf *conf);

/**
 * Free an IPv4 FIB; NULL is a no-op. No thread may use it any more.
 * @param fib The FIB.
 */
SL_API void sl_fib4_free(struct sl_fib4 *fib);

/**
 * Add a route, or change the next hop of an existing one. Concurrent
 * lookups see each address switch from its old next hop to the new one.
 * @param fib The FIB.
 * @param ip Address of the prefix, host byte order (bits past depth are
 *   ignored).
 * @param depth Prefix length, 0..32 (0: a default route).
 * @param nh Next hop (0..SL_FIB_COMPACT_NH_MAX for a compact FIB).
 * @return 0, -EINVAL (NULL fib, depth > 32, next hop out of range), or
 *   -ENOSPC (max_routes routes already, or no free group: the FIB is
 *   unchanged; see sl_fib4_reclaim()).
 */
SL_API int sl_fib4_add(struct sl_fib4 *fib, uint32_t ip, uint8_t depth,
		       uint32_t nh);

/**
 * Delete a route: its addresses go back to the longest route that covers
 * them, or to the default next hop.
 * @param fib The FIB.
 * @param ip Address of the prefix, host byte order (bits past depth are
 *   ignored).
 * @param depth Prefix length, 0..32.
 * @return 0, -EINVAL (NULL fib, depth > 32) or -ENOENT (no such route).
 */
SL_API int sl_fib4_delete(struct sl_fib4 *fib, uint32_t ip, uint8_t depth);

/**
 * Read a route of the rule store (exact prefix and length, not a lookup).
 * @param fib The FIB.
 * @param ip Address of the prefix, host byte order.
 * @param depth Prefix length, 0..32.
 * @param nh Set to the route's next hop when found; may be NULL.
 * @return 0, -EINVAL (NULL fib, depth > 32) or -ENOENT.
 */
SL_API int sl_fib4_get(const struct sl_fib4 *fib, uint32_t ip, uint8_t depth,
		       uint32_t *nh);

/**
 * Look up one address.
 * @param fib The FIB.
 * @param ip The address, host byte order.
 * @return The next hop of the longest matching route, or the default next
 *   hop. Never an error code.
 */
SL_API uint32_t sl_fib4_lookup(const struct sl_fib4 *fib, uint32_t ip);

/**
 * Look up n addresses (the data-path call: it prefetches the first table's
 * entries of the whole burst before reading them).
 * @param fib The FIB.
 * @param ips n addresses, host byte order.
 * @param nh Set to the n next hops (the default next hop where no route
 *   matches). May not overlap ips.
 * @param n Number of addresses (any; bursts of 16..64 run best).
 */
SL_API void sl_fib4_lookup_bulk(const struct sl_fib4 *fib, const uint32_t *ips,
				uint32_t *nh, unsigned n);

/**
 * Make groups freed by deletes reusable (control thread). With a QSBR
 * domain, only groups whose grace period has ended are reused; without
 * one, every freed group is, and the caller must call this only once every
 * reader has passed a quiescent point since those deletes.
 * @param fib The FIB.
 * @return The number of groups made reusable, or -EINVAL for NULL.
 */
SL_API int sl_fib4_reclaim(struct sl_fib4 *fib);

/**
 * Read a FIB's counters (control thread).
 * @param fib The FIB.
 * @param st Filled in.
 * @return 0 or -EINVAL (NULL argument).
 */
SL_API int sl_fib4_stats(const struct sl_fib4 *fib, struct sl_fib_stats *st);

/* ---- IPv6 -----------------------------------------------------------------
 */

/**
 * Create an IPv6 FIB: a multibit trie with a 2^24-entry first level
 * (address bits 0..23) and 8-bit levels of 256-entry groups after it.
 * Every address gets the default next hop until routes are added.
 * @param name Name for logs, at most SL_FIB_NAMESIZE - 1 characters.
 * @param conf Configuration (NULL: all defaults, default next hop 0).
 * @return The FIB, or NULL with errno EINVAL (as sl_fib4_create()) or
 *   ENOMEM.
 */
SL_API struct sl_fib6 *sl_fib6_create(const char *name,
				      const struct sl_fib_conf *conf);

/**
 * Free an IPv6 FIB; NULL is a no-op. No thread may use it any more.
 * @param fib The FIB.
 */
SL_API void sl_fib6_free(struct sl_fib6 *fib);

/**
 * Add a route, or change the next hop of an existing one.
 * @param fib The FIB.
 * @param ip Address of the prefix, 16 bytes in network order (bits past
 *   depth are ignored).
 * @param depth Prefix length, 0..128.
 * @param nh Next hop (0..SL_FIB_COMPACT_NH_MAX for a compact FIB).
 * @return 0, -EINVAL (NULL argument, depth > 128, next hop out of range),
 *   or -ENOSPC (max_routes routes already, or not enough free groups: the
 *   FIB is unchanged).
 */
SL_API int sl_fib6_add(struct sl_fib6 *fib, const uint8_t ip[16], uint8_t depth,
		       uint32_t nh);

/**
 * Delete a route: its addresses go back to the longest route that covers
 * them, or to the default next hop.
 * @param fib The FIB.
 * @param ip Address of the prefix, network order.
 * @param depth Prefix length, 0..128.
 * @return 0, -EINVAL (NULL argument, depth > 128) or -ENOENT.
 */
SL_API int sl_fib6_delete(struct sl_fib6 *fib, const uint8_t ip[16],
			  uint8_t depth);

/**
 * Read a route of the rule store (exact prefix and length).
 * @param fib The FIB.
 * @param ip Address of the prefix, network order.
 * @param depth Prefix length, 0..128.
 * @param nh Set to the route's next hop when found; may be NULL.
 * @return 0, -EINVAL (NULL fib or ip, depth > 128) or -ENOENT.
 */
SL_API int sl_fib6_get(const struct sl_fib6 *fib, const uint8_t ip[16],
		       uint8_t depth, uint32_t *nh);

/**
 * Look up one address.
 * @param fib The FIB.
 * @param ip The address, network order.
 * @return The next hop of the longest matching route, or the default next
 *   hop. Never an error code.
 */
SL_API uint32_t sl_fib6_lookup(const struct sl_fib6 *fib, const uint8_t ip[16]);

/**
 * Look up n addresses (the data-path call: it prefetches the first-table
 * entries of the burst, then walks each address down the trie).
 * @param fib The FIB.
 * @param ips n addresses, network order.
 * @param nh Set to the n next hops.
 * @param n Number of addresses.
 */
SL_API void sl_fib6_lookup_bulk(const struct sl_fib6 *fib,
				const uint8_t (*ips)[16], uint32_t *nh,
				unsigned n);

/**
 * Make groups freed by deletes reusable; see sl_fib4_reclaim().
 * @param fib The FIB.
 * @return The number of groups made reusable, or -EINVAL for NULL.
 */
SL_API int sl_fib6_reclaim(struct sl_fib6 *fib);

/**
 * Read a FIB's counters (control thread).
 * @param fib The FIB.
 * @param st Filled in.
 * @return 0 or -EINVAL (NULL argument).
 */
SL_API int sl_fib6_stats(const struct sl_fib6 *fib, struct sl_fib_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* SL_FIB_H */
