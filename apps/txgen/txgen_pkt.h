/*
 * The frames of sluice-txgen: Ethernet, IPv4 or IPv6, then UDP, TCP (an
 * ACK segment) or an ICMP/ICMPv6 echo request, then the 16-byte stamp,
 * then a fixed pattern up to the frame size. Every checksum is valid.
 *
 * A template is built once per flow (txgen_tmpl_build()): the first
 * TXGEN_HEAD bytes of the frame with the stamp zeroed, and the partial
 * one's-complement sum of the L4 checksum over everything but the stamp.
 * Sending a frame (txgen_pkt_write()) copies the flow's head (and the
 * shared tail of longer frames), writes the stamp and finishes the L4
 * checksum from the partial sum: no loop over the payload per packet.
 *
 * The stamp, right after the L4 header (all little-endian):
 *   0  3 bytes magic "sTg", 1 byte stream (the sending thread and lport)
 *   4  sequence number of the stream (32 bits, wraps)
 *   8  TX time, CLOCK_MONOTONIC nanoseconds
 * A receiver finds it with txgen_pkt_parse() and measures latency and
 * order with it.
 *
 * Flow i (0..flows-1) differs from flow 0 by its source address (IPv4:
 * src + i; IPv6: the last 32 bits + i) and its source port (src-port + i,
 * modulo 65536; for ICMP, the echo identifier).
 */
#ifndef TXGEN_PKT_H
#define TXGEN_PKT_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sluice/sl_common.h>

/** L4 protocol of the frames. */
enum txgen_proto {
	TXGEN_PROTO_UDP = 0,
	TXGEN_PROTO_TCP,
	TXGEN_PROTO_ICMP, /* ICMP echo request; ICMPv6 with IPv6 */
};

/** Bytes of the stamp after the L4 header. */
#define TXGEN_STAMP_LEN 16
/** Smallest frame size accepted (without FCS). */
#define TXGEN_MIN_FRAME 64
/** Most flows. */
#define TXGEN_MAX_FLOWS 65536
/** Bytes of a frame kept per flow: every header and the stamp fit. */
#define TXGEN_HEAD 128
/** The magic: the three low bytes of the stamp's first word. */
#define TXGEN_MAGIC 0x00675473u
/** Mask of the magic in the first word. */
#define TXGEN_MAGIC_MASK 0x00ffffffu

#define TXGEN_ETH_LEN 14
#define TXGEN_IP4_LEN 20
#define TXGEN_IP6_LEN 40
#define TXGEN_UDP_LEN 8
#define TXGEN_TCP_LEN 20
#define TXGEN_ICMP_LEN 8 /* echo header, v4 and v6 */
#define TXGEN_ETHERTYPE_IPV4 0x0800
#define TXGEN_ETHERTYPE_IPV6 0x86dd
#define TXGEN_IPPROTO_ICMP 1
#define TXGEN_IPPROTO_TCP 6
#define TXGEN_IPPROTO_UDP 17
#define TXGEN_IPPROTO_ICMPV6 58
#define TXGEN_ICMP_ECHO 8
#define TXGEN_ICMPV6_ECHO 128

/** What the frames look like. Addresses and ports are of flow 0. */
struct txgen_pkt_cfg {
	enum txgen_proto proto;
	int family;	/**< 4 or 6 */
	uint32_t size;	/**< frame bytes without FCS */
	uint32_t flows; /**< 1..TXGEN_MAX_FLOWS */
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t src_ip[16]; /**< network order; IPv4 in the first 4 bytes */
	uint8_t dst_ip[16];
	uint16_t src_port; /**< host order; ICMP: the echo identifier */
	uint16_t dst_port;
};

/** Per-flow templates, read-only once built (shared by the threads). */
struct txgen_tmpl {
	uint8_t *heads;	       /**< flows * TXGEN_HEAD bytes, 64-byte aligned */
	uint32_t *sums;	       /**< per flow: L4 partial sum, stamp left out */
	uint8_t *tail;	       /**< frame bytes TXGEN_HEAD..size-1, or NULL */
	uint32_t size;	       /**< frame size */
	uint32_t flows;	       /**< number of flows */
	uint32_t head_len;     /**< min(size, TXGEN_HEAD) */
	uint32_t tail_len;     /**< size - head_len */
	uint16_t stamp_off;    /**< offset of the stamp in the frame */
	uint16_t csum_off;     /**< offset of the L4 checksum */
	uint16_t icmp_seq_off; /**< offset of the echo sequence, or 0 */
	bool zero_is_ffff;     /**< UDP: a checksum of 0 is sent as 0xffff */
};

/** A stamp read back from a frame. */
struct txgen_stamp {
	uint64_t ns;	/**< TX time */
	uint32_t seq;	/**< sequence number in its stream */
	uint8_t stream; /**< sending stream */
};

/** @return the bytes of the headers before the stamp (Ethernet to L4). */
unsigned txgen_pkt_hdr_len(enum txgen_proto proto, int family);

/** @return the smallest frame size: the headers, the stamp, and at least
 *  TXGEN_MIN_FRAME. */
unsigned txgen_pkt_min_size(enum txgen_proto proto, int family);

/** @return "udp", "tcp" or "icmp". */
const char *txgen_proto_name(enum txgen_proto proto);

/** Source port (or ICMP identifier) of a flow, host order. */
static inline uint16_t
txgen_flow_src_port(const struct txgen_pkt_cfg *c, uint32_t flow)
{
	return (uint16_t)(c->src_port + flow);
}

/** Source address of a flow (16 bytes; IPv4 in the first 4). */
void txgen_flow_src_ip(const struct txgen_pkt_cfg *c, uint32_t flow,
		       uint8_t ip[16]);

/**
 * Build the templates.
 * @param t Filled; free with txgen_tmpl_free().
 * @param c The frames; size at least txgen_pkt_min_size() and at most
 *   max_size, flows 1..TXGEN_MAX_FLOWS.
 * @return 0, -EINVAL (a setting out of range) or -ENOMEM.
 */
int txgen_tmpl_build(struct txgen_tmpl *t, const struct txgen_pkt_cfg *c,
		     uint32_t max_size);

/** Free the templates (a zeroed or freed t is a no-op). */
void txgen_tmpl_free(struct txgen_tmpl *t);

/**
 * One's-complement sum of len bytes, as 16-bit words in memory order,
 * added to sum (not folded).
 */
uint64_t txgen_csum_add(uint64_t sum, const void *p, size_t len);

/** Fold a sum to 16 bits (not complemented). */
static inline uint16_t
txgen_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/**
 * Write frame seq of a stream into dst (size bytes): the flow's head, the
 * tail, the stamp and the L4 checksum.
 */
static inline void
txgen_pkt_write(const struct txgen_tmpl *t, uint8_t *dst, uint32_t flow,
		uint8_t stream, uint32_t seq, uint64_t ns)
{
	uint8_t *st = dst + t->stamp_off;
	uint32_t w0 = htole32(TXGEN_MAGIC | (uint32_t)stream << 24);
	uint32_t w1 = htole32(seq);
	uint64_t w2 = htole64(ns);
	uint64_t s = t->sums[flow];
	uint16_t c, q;

	memcpy(dst, t->heads + (size_t)flow * TXGEN_HEAD, t->head_len);
	if (t->tail_len != 0)
		memcpy(dst + TXGEN_HEAD, t->tail, t->tail_len);
	memcpy(st, &w0, 4);
	memcpy(st + 4, &w1, 4);
	memcpy(st + 8, &w2, 8);
	/* the words as they sit in memory: the sum is byte-order neutral */
	s += (uint64_t)w0 + w1 + (uint32_t)w2 + (w2 >> 32);
	if (t->icmp_seq_off != 0) {
		q = htobe16((uint16_t)seq);
		memcpy(dst + t->icmp_seq_off, &q, 2);
		s += q;
	}
	c = (uint16_t)~txgen_csum_fold(s);
	if (c == 0 && t->zero_is_ffff)
		c = 0xffff;
	memcpy(dst + t->csum_off, &c, 2);
}

/**
 * Find the stamp of a frame: Ethernet, IPv4 (any header length) or IPv6
 * (no extension header), then UDP, TCP (any data offset) or an ICMP /
 * ICMPv6 echo request, then the magic.
 * @return true and st filled for a txgen frame, false otherwise.
 */
static inline bool
txgen_pkt_parse(const uint8_t *p, uint32_t len, struct txgen_stamp *st)
{
	uint32_t l4, off, w0, w1;
	uint64_t w2;
	uint8_t proto;

	if (unlikely(len < TXGEN_ETH_LEN + TXGEN_IP4_LEN + TXGEN_UDP_LEN +
				   TXGEN_STAMP_LEN))
		return false;
	if (p[12] == 0x08 && p[13] == 0x00) {
		if ((p[14] >> 4) != 4)
			return false;
		l4 = TXGEN_ETH_LEN + (uint32_t)(p[14] & 0xf) * 4;
		proto = p[23];
	} else if (p[12] == 0x86 && p[13] == 0xdd) {
		if ((p[14] >> 4) != 6)
			return false;
		l4 = TXGEN_ETH_LEN + TXGEN_IP6_LEN;
		proto = p[20];
	} else {
		return false;
	}
	if (l4 + TXGEN_ICMP_LEN > len)
		return false;
	switch (proto) {
	case TXGEN_IPPROTO_UDP:
		off = l4 + TXGEN_UDP_LEN;
		break;
	case TXGEN_IPPROTO_TCP:
		if (l4 + TXGEN_TCP_LEN > len)
			return false;
		off = l4 + (uint32_t)(p[l4 + 12] >> 4) * 4;
		break;
	case TXGEN_IPPROTO_ICMP:
		if (p[l4] != TXGEN_ICMP_ECHO)
			return false;
		off = l4 + TXGEN_ICMP_LEN;
		break;
	case TXGEN_IPPROTO_ICMPV6:
		if (p[l4] != TXGEN_ICMPV6_ECHO)
			return false;
		off = l4 + TXGEN_ICMP_LEN;
		break;
	default:
		return false;
	}
	if (off + TXGEN_STAMP_LEN > len)
		return false;
	memcpy(&w0, p + off, 4);
	w0 = le32toh(w0);
	if ((w0 & TXGEN_MAGIC_MASK) != TXGEN_MAGIC)
		return false;
	memcpy(&w1, p + off + 4, 4);
	memcpy(&w2, p + off + 8, 8);
	st->stream = (uint8_t)(w0 >> 24);
	st->seq = le32toh(w1);
	st->ns = le64toh(w2);
	return true;
}

/** What a receiver saw of each stream's sequence numbers. */
struct txgen_order {
	uint32_t next[256]; /**< highest number seen + 1 */
	uint8_t seen[256];  /**< 1 once a frame of the stream arrived */
};

/**
 * Check the order of a received frame: its number must be above every
 * number seen before from its stream (serial arithmetic, so the 32-bit
 * numbers may wrap). A gap is fine (a loss, counted elsewhere).
 * @return false for a frame that arrived late: reordered or duplicated.
 */
static inline bool
txgen_order_check(struct txgen_order *o, const struct txgen_stamp *st)
{
	if (unlikely(!o->seen[st->stream])) {
		o->seen[st->stream] = 1;
	} else if ((int32_t)(st->seq - o->next[st->stream]) < 0) {
		return false;
	}
	o->next[st->stream] = st->seq + 1;
	return true;
}

/**
 * Recognise a frame of the XDP live-frames engine (sl_xdpgen): IPv4 UDP
 * to dst_ip:dst_port (network order / host order) with room for its
 * 8-byte sequence number. Those frames carry no magic and no time.
 */
static inline bool
txgen_pkt_match_xdp(const uint8_t *p, uint32_t len, const uint8_t dst_ip[4],
		    uint16_t dst_port)
{
	uint32_t l4;

	if (len < TXGEN_ETH_LEN + TXGEN_IP4_LEN + TXGEN_UDP_LEN + 8 ||
	    p[12] != 0x08 || p[13] != 0x00 || (p[14] >> 4) != 4 ||
	    p[23] != TXGEN_IPPROTO_UDP || memcmp(p + 30, dst_ip, 4) != 0)
		return false;
	l4 = TXGEN_ETH_LEN + (uint32_t)(p[14] & 0xf) * 4;
	if (l4 + TXGEN_UDP_LEN + 8 > len)
		return false;
	return p[l4 + 2] == (uint8_t)(dst_port >> 8) &&
	       p[l4 + 3] == (uint8_t)dst_port;
}

#endif /* TXGEN_PKT_H */
