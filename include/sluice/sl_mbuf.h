/**
 * @file Mbuf: the packet buffer, living in its frame (D1).
 *
 * Every packet buffer is one fixed-size frame, one object of a mempool:
 *
 *     frame + 0    struct sl_mbuf, 128 bytes (two cache lines of metadata)
 *     frame + 128  buf: headroom, then packet data, then tailroom
 *
 * buf_len is frame_size - 128 and a fresh mbuf's data starts headroom bytes
 * into buf (SL_MBUF_HEADROOM = 256 by default, the kernel's
 * XDP_PACKET_HEADROOM). An AF_XDP UMEM registered with frame_headroom =
 * sizeof(struct sl_mbuf) therefore receives packet data at frame + 128 +
 * 256, exactly where the mbuf's default data_off puts it: RX needs no copy.
 *
 * Every backend's rx_burst fills mbufs and every node of the graph reads
 * them; the first cache line holds everything rx, tx and the nodes touch
 * per packet. A packet may be a chain of mbufs (segments) linked by next;
 * the head's pkt_len and nb_segs describe the whole chain.
 */
#ifndef SL_MBUF_H
#define SL_MBUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_common.h"
#include "sl_mempool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default headroom in bytes: the kernel's XDP_PACKET_HEADROOM. */
#define SL_MBUF_HEADROOM 256
/** Bytes of metadata at the start of every frame: sizeof(struct sl_mbuf). */
#define SL_MBUF_META_SIZE 128
/** Frame sizes must be multiples of this. */
#define SL_MBUF_FRAME_ALIGN 64
/** Data room a frame has at least, after the metadata and headroom. */
#define SL_MBUF_DATA_MIN 64
/** Largest frame size (so that buf_len fits in 16 bits). */
#define SL_MBUF_FRAME_MAX 65536
/** A common frame size: half a 4 KB page, what AF_XDP uses by default. */
#define SL_MBUF_FRAME_DEFAULT 2048
/** Most segments in one packet (sl_mbuf_chain() enforces it). */
#define SL_MBUF_MAX_SEGS 256
/** Value of port when the mbuf came from no port. */
#define SL_MBUF_PORT_NONE UINT16_MAX

/* ---- packet types (packet_type) ---- */
/** Packet type not known. */
#define SL_PTYPE_UNKNOWN 0x00000000u
/** L2: Ethernet. */
#define SL_PTYPE_L2_ETHER 0x00000001u
/** L2: Ethernet with an 802.1Q tag. */
#define SL_PTYPE_L2_ETHER_VLAN 0x00000002u
/** L2: Ethernet carrying ARP. */
#define SL_PTYPE_L2_ETHER_ARP 0x00000003u
/** L2: none, the packet starts at L3 (TUN-style devices). */
#define SL_PTYPE_L2_NONE 0x0000000fu
/** Bits of the L2 type. */
#define SL_PTYPE_L2_MASK 0x0000000fu
/** L3: IPv4 without options. */
#define SL_PTYPE_L3_IPV4 0x00000010u
/** L3: IPv4 with options. */
#define SL_PTYPE_L3_IPV4_EXT 0x00000020u
/** L3: IPv6 without extension headers. */
#define SL_PTYPE_L3_IPV6 0x00000030u
/** L3: IPv6 with extension headers. */
#define SL_PTYPE_L3_IPV6_EXT 0x00000040u
/** Bits of the L3 type. */
#define SL_PTYPE_L3_MASK 0x000000f0u
/** L4: TCP. */
#define SL_PTYPE_L4_TCP 0x00000100u
/** L4: UDP. */
#define SL_PTYPE_L4_UDP 0x00000200u
/** L4: ICMP or ICMPv6. */
#define SL_PTYPE_L4_ICMP 0x00000300u
/** L4: a fragment other than the first (no L4 header). */
#define SL_PTYPE_L4_FRAG 0x00000400u
/** L4: another protocol. */
#define SL_PTYPE_L4_OTHER 0x00000f00u
/** Bits of the L4 type. */
#define SL_PTYPE_L4_MASK 0x00000f00u
/** @return true when packet type pt is IPv4 (with or without options). */
#define SL_PTYPE_IS_IPV4(pt)                                                   \
	(((pt)&SL_PTYPE_L3_MASK) == SL_PTYPE_L3_IPV4 ||                        \
	 ((pt)&SL_PTYPE_L3_MASK) == SL_PTYPE_L3_IPV4_EXT)
/** @return true when packet type pt is IPv6 (with or without extensions). */
#define SL_PTYPE_IS_IPV6(pt)                                                   \
	(((pt)&SL_PTYPE_L3_MASK) == SL_PTYPE_L3_IPV6 ||                        \
	 ((pt)&SL_PTYPE_L3_MASK) == SL_PTYPE_L3_IPV6_EXT)

/* ---- offload flags (ol_flags) ---- */
/** RX: hash holds the RSS hash the device computed. */
#define SL_MBUF_F_RX_RSS_HASH (UINT64_C(1) << 0)
/** RX: vlan_tci holds a VLAN tag stripped by the device. */
#define SL_MBUF_F_RX_VLAN (UINT64_C(1) << 1)
/** RX: the IPv4 header checksum was verified good. */
#define SL_MBUF_F_RX_IP_CKSUM_GOOD (UINT64_C(1) << 2)
/** RX: the IPv4 header checksum is wrong. */
#define SL_MBUF_F_RX_IP_CKSUM_BAD (UINT64_C(1) << 3)
/** RX: the L4 checksum was verified good. */
#define SL_MBUF_F_RX_L4_CKSUM_GOOD (UINT64_C(1) << 4)
/** RX: the L4 checksum is wrong. */
#define SL_MBUF_F_RX_L4_CKSUM_BAD (UINT64_C(1) << 5)
/** RX: timestamp holds the time of reception. */
#define SL_MBUF_F_RX_TIMESTAMP (UINT64_C(1) << 6)
/** All RX flags. */
#define SL_MBUF_F_RX_MASK (UINT64_C(0x7f))
/** TX: the packet is IPv4 (with the checksum flags below). */
#define SL_MBUF_F_TX_IPV4 (UINT64_C(1) << 40)
/** TX: the packet is IPv6. */
#define SL_MBUF_F_TX_IPV6 (UINT64_C(1) << 41)
/** TX: compute the IPv4 header checksum (needs l2_len, l3_len). */
#define SL_MBUF_F_TX_IP_CKSUM (UINT64_C(1) << 42)
/** TX: compute the UDP checksum (needs l2_len, l3_len). */
#define SL_MBUF_F_TX_UDP_CKSUM (UINT64_C(1) << 43)
/** TX: compute the TCP checksum (needs l2_len, l3_len). */
#define SL_MBUF_F_TX_TCP_CKSUM (UINT64_C(1) << 44)
/** TX: TCP segmentation (needs l2_len, l3_len, l4_len, tso_segsz). */
#define SL_MBUF_F_TX_TCP_SEG (UINT64_C(1) << 45)
/** TX: insert the VLAN tag vlan_tci. */
#define SL_MBUF_F_TX_VLAN (UINT64_C(1) << 46)
/** All TX flags. */
#define SL_MBUF_F_TX_MASK (UINT64_C(0x7f) << 40)

/**
 * Metadata of a packet buffer, at the start of its frame. Fields may be
 * read and written directly except buf_addr, buf_len, pool and
 * def_data_off, which the pool sets once.
 */
struct sl_mbuf {
	/* ---- cache line 0: everything rx/tx and the nodes touch ---- */
	void *buf_addr;	      /**< buf: the frame + 128 (set by the pool) */
	struct sl_mbuf *next; /**< next segment, or NULL */
	uint16_t data_off;    /**< data start, bytes from buf_addr */
	uint16_t data_len;    /**< bytes of data in this segment */
	uint32_t pkt_len;     /**< bytes of the whole chain (head only) */
	uint16_t nb_segs;     /**< segments in the chain (head only) */
	uint16_t port;	      /**< input port, or SL_MBUF_PORT_NONE */
	uint32_t packet_type; /**< SL_PTYPE_* L2 | L3 | L4 */
	uint64_t ol_flags;    /**< SL_MBUF_F_* */
	uint32_t hash;	      /**< RSS hash (SL_MBUF_F_RX_RSS_HASH) */
	uint16_t buf_len;  /**< bytes of buf: frame size - 128 (set by the pool)
			    */
	uint16_t vlan_tci; /**< VLAN tag (SL_MBUF_F_RX_VLAN/TX_VLAN) */
	uint8_t l2_len;	   /**< TX offload: L2 header bytes */
	uint8_t l4_len;	   /**< TX offload: L4 header bytes */
	uint16_t l3_len;   /**< TX offload: L3 header bytes */
	uint16_t tso_segsz;    /**< TX offload: TCP segment size */
	uint16_t def_data_off; /**< data_off after reset: the pool's headroom */
	struct sl_mempool *pool; /**< pool the frame returns to */
	/* ---- cache line 1: cold ---- */
	union {
		void *userdata;	  /**< for the application */
		uint64_t udata64; /**< for the application */
	};
	uint64_t timestamp; /**< RX time (SL_MBUF_F_RX_TIMESTAMP) */
	uint8_t priv[48];   /**< for the application or a backend */
};

SL_STATIC_ASSERT(sizeof(struct sl_mbuf) == SL_MBUF_META_SIZE,
		 "struct sl_mbuf must be exactly two cache lines");
SL_STATIC_ASSERT(offsetof(struct sl_mbuf, pool) + sizeof(void *) <=
			 SL_CACHE_LINE,
		 "hot mbuf fields must stay in cache line 0");
SL_STATIC_ASSERT(offsetof(struct sl_mbuf, ol_flags) + 8 <= SL_CACHE_LINE &&
			 offsetof(struct sl_mbuf, packet_type) + 4 <=
				 SL_CACHE_LINE &&
			 offsetof(struct sl_mbuf, hash) + 4 <= SL_CACHE_LINE &&
			 offsetof(struct sl_mbuf, tso_segsz) + 2 <=
				 SL_CACHE_LINE &&
			 offsetof(struct sl_mbuf, next) + 8 <= SL_CACHE_LINE,
		 "rx/tx fields must stay in cache line 0");
SL_STATIC_ASSERT(offsetof(struct sl_mbuf, userdata) == SL_CACHE_LINE,
		 "cold mbuf fields start cache line 1");

/** How to make a pool of mbufs (see sl_mbuf_pool_create()). */
struct sl_mbuf_pool_cfg {
	/** Pool name, 1 to SL_MEMPOOL_NAMESIZE - 1 characters. */
	const char *name;
	/** Number of frames. */
	uint32_t n;
	/** Bytes per frame: a multiple of SL_MBUF_FRAME_ALIGN (64), at least
	 *  128 + headroom + SL_MBUF_DATA_MIN (64), at most SL_MBUF_FRAME_MAX.
	 *  For an AF_XDP UMEM, the UMEM's frame size. */
	uint32_t frame_size;
	/** Per-thread cache size (see struct sl_mempool_cfg). */
	uint32_t cache_size;
	/** Headroom of a fresh mbuf in bytes; 0 means SL_MBUF_HEADROOM. */
	uint16_t headroom;
	/** Caller memory for the frames (e.g. a UMEM), 64-byte aligned, or
	 *  NULL for memory of the pool's own. */
	void *addr;
	/** Bytes at addr, at least n * frame_size; 0 without addr. */
	size_t len;
	/** SL_MEMPOOL_F_* */
	unsigned flags;
};

/* ---- pools and frames ---------------------------------------------------- */

/**
 * Create a mempool of frames, each holding an initialised mbuf.
 * @param cfg What to make.
 * @return The pool (free it with sl_mempool_destroy()), or NULL with errno
 *   EINVAL (cfg NULL, a bad frame_size, addr not 64-byte aligned, or any
 *   error of sl_mempool_create(); a log line names the field) or ENOMEM.
 */
SL_API struct sl_mempool *
sl_mbuf_pool_create(const struct sl_mbuf_pool_cfg *cfg);

/**
 * The mbuf of the frame that contains an address, in O(1): a frame start,
 * a packet data address (e.g. from an AF_XDP descriptor) or any byte of
 * the frame.
 * @param mp The mbuf pool.
 * @param addr Any address.
 * @return The mbuf, or NULL with errno EINVAL when addr is not in mp.
 */
static inline struct sl_mbuf *
sl_mbuf_from_frame(const struct sl_mempool *mp, const void *addr)
{
	return (struct sl_mbuf *)sl_mempool_obj_from_addr(mp, addr);
}

/** @return The start of the frame of m (m itself). @param m The mbuf. */
static inline void *
sl_mbuf_frame(const struct sl_mbuf *m)
{
	return (void *)(uintptr_t)m;
}

/**
 * Offset of m's packet data from the start of its pool's memory: the
 * address of an AF_XDP descriptor when the pool is the UMEM.
 * @param m The mbuf.
 * @return The offset in bytes.
 */
static inline uint64_t
sl_mbuf_pool_offset(const struct sl_mbuf *m)
{
	return (uint64_t)((uintptr_t)m->buf_addr + m->data_off -
			  (uintptr_t)m->pool->base);
}

/* ---- data access ---- */

/** Packet data of segment m, cast to type t. */
#define sl_mbuf_mtod(m, t) ((t)((char *)(m)->buf_addr + (m)->data_off))
/** Packet data of segment m plus off bytes, cast to type t. */
#define sl_mbuf_mtod_offset(m, t, off)                                         \
	((t)((char *)(m)->buf_addr + (m)->data_off + (off)))

/** @return The packet data of segment m. @param m The mbuf. */
static inline void *
sl_mbuf_data_addr(const struct sl_mbuf *m)
{
	return (char *)m->buf_addr + m->data_off;
}

/** @return Free bytes before the data of segment m. @param m The mbuf. */
static inline uint16_t
sl_mbuf_headroom(const struct sl_mbuf *m)
{
	return m->data_off;
}

/** @return Free bytes after the data of segment m. @param m The mbuf. */
static inline uint16_t
sl_mbuf_tailroom(const struct sl_mbuf *m)
{
	return (uint16_t)(m->buf_len - m->data_off - m->data_len);
}

/** @return The last segment of chain m. @param m A segment of a chain. */
static inline struct sl_mbuf *
sl_mbuf_last_seg(const struct sl_mbuf *m)
{
	while (m->next != NULL)
		m = m->next;
	return (struct sl_mbuf *)(uintptr_t)m;
}

/* ---- allocation ---- */

/**
 * Reset the metadata of cache line 0 to a fresh single-segment, empty
 * packet: data_off = the pool's headroom, lengths 0, nb_segs 1, next NULL,
 * port SL_MBUF_PORT_NONE, type, flags, hash, VLAN and TX offload lengths
 * 0. Cache line 1 (userdata, timestamp, priv) is left as it is.
 * @param m The mbuf.
 */
static inline void
sl_mbuf_reset(struct sl_mbuf *m)
{
	m->next = NULL;
	m->data_off = m->def_data_off;
	m->data_len = 0;
	m->pkt_len = 0;
	m->nb_segs = 1;
	m->port = SL_MBUF_PORT_NONE;
	m->packet_type = SL_PTYPE_UNKNOWN;
	m->ol_flags = 0;
	m->hash = 0;
	m->vlan_tci = 0;
	m->l2_len = 0;
	m->l4_len = 0;
	m->l3_len = 0;
	m->tso_segsz = 0;
}

/**
 * Allocate a reset mbuf.
 * @param mp An mbuf pool.
 * @return The mbuf, or NULL with errno ENOBUFS when the pool is empty.
 */
static inline struct sl_mbuf *
sl_mbuf_alloc(struct sl_mempool *mp)
{
	void *obj;

	if (unlikely(sl_mempool_get(mp, &obj) < 0)) {
		errno = ENOBUFS;
		return NULL;
	}
	sl_mbuf_reset((struct sl_mbuf *)obj);
	return (struct sl_mbuf *)obj;
}

/**
 * Allocate n reset mbufs, all or none.
 * @param mp An mbuf pool.
 * @param mbufs Filled with n mbufs on success.
 * @param n Number of mbufs.
 * @return 0, or -ENOBUFS (nothing allocated).
 */
static inline int
sl_mbuf_alloc_bulk(struct sl_mempool *mp, struct sl_mbuf **mbufs, unsigned n)
{
	unsigned i;

	if (unlikely(sl_mempool_get_bulk(mp, (void **)mbufs, n) < 0))
		return -ENOBUFS;
	for (i = 0; i < n; i++)
		sl_mbuf_reset(mbufs[i]);
	return 0;
}

/**
 * Free a packet: every segment of the chain returns to its own pool.
 * @param m The head of the chain, or NULL (a no-op).
 */
static inline void
sl_mbuf_free(struct sl_mbuf *m)
{
	struct sl_mbuf *next;

	while (m != NULL) {
		next = m->next;
		sl_mempool_put(m->pool, m);
		m = next;
	}
}

/** @internal Segments returned per put by sl_mbuf_free_bulk(). */
#define __SL_MBUF_FREE_BATCH 64

/**
 * Free n packets (every segment of each), batching the puts of segments
 * of the same pool.
 * @param mbufs n chain heads; NULL entries are skipped.
 * @param n Number of packets.
 */
static inline void
sl_mbuf_free_bulk(struct sl_mbuf *const *mbufs, unsigned n)
{
	void *batch[__SL_MBUF_FREE_BATCH];
	struct sl_mempool *mp = NULL;
	struct sl_mbuf *m, *next;
	unsigned i, k = 0;

	for (i = 0; i < n; i++) {
		for (m = mbufs[i]; m != NULL; m = next) {
			next = m->next;
			if (m->pool != mp || k == __SL_MBUF_FREE_BATCH) {
				if (k != 0)
					sl_mempool_put_bulk(mp, batch, k);
				k = 0;
				mp = m->pool;
			}
			batch[k++] = m;
		}
	}
	if (k != 0)
		sl_mempool_put_bulk(mp, batch, k);
}

/* ---- headroom and tailroom ---- */

/**
 * Grow the packet at the front, into the headroom of its first segment.
 * @param m The head of the packet.
 * @param len Bytes to add.
 * @return The new data start, or NULL with errno ENOSPC when len exceeds
 *   the headroom (m is unchanged).
 */
static inline void *
sl_mbuf_prepend(struct sl_mbuf *m, uint32_t len)
{
	if (unlikely(len > m->data_off)) {
		errno = ENOSPC;
		return NULL;
	}
	m->data_off = (uint16_t)(m->data_off - len);
	m->data_len = (uint16_t)(m->data_len + len);
	m->pkt_len += len;
	return sl_mbuf_data_addr(m);
}

/**
 * Grow the packet at the end, into the tailroom of its last segment.
 * @param m The head of the packet.
 * @param len Bytes to add.
 * @return The start of the added bytes, or NULL with errno ENOSPC when len
 *   exceeds the tailroom of the last segment (m is unchanged).
 */
static inline void *
sl_mbuf_append(struct sl_mbuf *m, uint32_t len)
{
	struct sl_mbuf *last = sl_mbuf_last_seg(m);
	void *tail;

	if (unlikely(len > sl_mbuf_tailroom(last))) {
		errno = ENOSPC;
		return NULL;
	}
	tail = (char *)sl_mbuf_data_addr(last) + last->data_len;
	last->data_len = (uint16_t)(last->data_len + len);
	m->pkt_len += len;
	return tail;
}

/**
 * Remove bytes from the front of the packet (its first segment).
 * @param m The head of the packet.
 * @param len Bytes to remove, at most m->data_len.
 * @return 0, or -EINVAL when len exceeds the first segment (m unchanged).
 */
static inline int
sl_mbuf_adj(struct sl_mbuf *m, uint32_t len)
{
	if (unlikely(len > m->data_len))
		return -EINVAL;
	m->data_off = (uint16_t)(m->data_off + len);
	m->data_len = (uint16_t)(m->data_len - len);
	m->pkt_len -= len;
	return 0;
}

/**
 * Remove bytes from the end of the packet (its last segment).
 * @param m The head of the packet.
 * @param len Bytes to remove, at most the last segment's data_len.
 * @return 0, or -EINVAL when len exceeds the last segment (m unchanged).
 */
static inline int
sl_mbuf_trim(struct sl_mbuf *m, uint32_t len)
{
	struct sl_mbuf *last = sl_mbuf_last_seg(m);

	if (unlikely(len > last->data_len))
		return -EINVAL;
	last->data_len = (uint16_t)(last->data_len - len);
	m->pkt_len -= len;
	return 0;
}

/* ---- chains ---- */

/**
 * Append the chain tail to the chain head: head's nb_segs and pkt_len grow
 * by tail's. tail must not be used as a head afterwards.
 * @param head Head of the first chain.
 * @param tail Head of the chain to append.
 * @return 0; -EINVAL when head or tail is NULL or they are the same mbuf;
 *   -EOVERFLOW when the chain would have more than SL_MBUF_MAX_SEGS
 *   segments or 2^32 bytes (nothing changed).
 */
static inline int
sl_mbuf_chain(struct sl_mbuf *head, struct sl_mbuf *tail)
{
	if (head == NULL || tail == NULL || head == tail)
		return -EINVAL;
	if ((uint32_t)head->nb_segs + tail->nb_segs > SL_MBUF_MAX_SEGS ||
	    head->pkt_len > UINT32_MAX - tail->pkt_len)
		return -EOVERFLOW;
	sl_mbuf_last_seg(head)->next = tail;
	head->nb_segs = (uint16_t)(head->nb_segs + tail->nb_segs);
	head->pkt_len += tail->pkt_len;
	return 0;
}

/**
 * Deep copy of a packet into new mbufs of mp: data byte for byte (packed
 * into as few segments as mp's frames allow, so segment boundaries may
 * differ) and the metadata (port, packet_type, ol_flags, hash, vlan_tci,
 * TX offload lengths, userdata, timestamp, priv). The copy's data starts
 * at mp's headroom.
 * @param m The head of the packet.
 * @param mp The mbuf pool to allocate from.
 * @return The copy, or NULL with errno EINVAL (m or mp NULL), ENOBUFS (mp
 *   ran out; nothing is leaked) or EOVERFLOW (more than SL_MBUF_MAX_SEGS
 *   segments needed).
 */
SL_API struct sl_mbuf *sl_mbuf_copy(const struct sl_mbuf *m,
				    struct sl_mempool *mp);

/**
 * Copy bytes of a packet out, across segments.
 * @param m The head of the packet.
 * @param off Offset of the first byte in the packet.
 * @param len Bytes to copy.
 * @param buf Room for len bytes.
 * @return 0, or -EINVAL when m is NULL, buf is NULL with len > 0, or
 *   off + len exceeds pkt_len (nothing copied).
 */
SL_API int sl_mbuf_read(const struct sl_mbuf *m, uint32_t off, uint32_t len,
			void *buf);

#ifdef __cplusplus
}
#endif
#endif /* SL_MBUF_H */
