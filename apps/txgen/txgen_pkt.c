/*
 * sluice-txgen frames: building the per-flow templates (txgen_pkt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txgen_pkt.h"

unsigned
txgen_pkt_hdr_len(enum txgen_proto proto, int family)
{
	unsigned l3 = family == 6 ? TXGEN_IP6_LEN : TXGEN_IP4_LEN;
	unsigned l4 = proto == TXGEN_PROTO_TCP	 ? TXGEN_TCP_LEN
		      : proto == TXGEN_PROTO_UDP ? TXGEN_UDP_LEN
						 : TXGEN_ICMP_LEN;

	return TXGEN_ETH_LEN + l3 + l4;
}

unsigned
txgen_pkt_min_size(enum txgen_proto proto, int family)
{
	unsigned n = txgen_pkt_hdr_len(proto, family) + TXGEN_STAMP_LEN;

	return n < TXGEN_MIN_FRAME ? TXGEN_MIN_FRAME : n;
}

const char *
txgen_proto_name(enum txgen_proto proto)
{
	switch (proto) {
	case TXGEN_PROTO_UDP:
		return "udp";
	case TXGEN_PROTO_TCP:
		return "tcp";
	case TXGEN_PROTO_ICMP:
		return "icmp";
	}
	return "?";
}

void
txgen_flow_src_ip(const struct txgen_pkt_cfg *c, uint32_t flow, uint8_t ip[16])
{
	unsigned last = c->family == 6 ? 12 : 0;
	uint32_t v;

	memcpy(ip, c->src_ip, 16);
	memcpy(&v, ip + last, 4);
	v = htobe32(be32toh(v) + flow);
	memcpy(ip + last, &v, 4);
}

uint64_t
txgen_csum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint16_t w;
	uint8_t last[2];
	size_t i;

	for (i = 0; i + 2 <= len; i += 2) {
		memcpy(&w, b + i, 2);
		sum += w;
	}
	if (i < len) {
		/* an odd byte is the first byte of a zero-padded word */
		last[0] = b[i];
		last[1] = 0;
		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

/* The pattern after the stamp: byte i of the frame is i (mod 256). */
static void
fill_pattern(uint8_t *f, uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++)
		f[i] = (uint8_t)i;
}

/* Build the whole frame of one flow into f (size bytes, stamp zero) and
 * return the partial sum of its L4 checksum (pseudo-header included). */
static uint64_t
build_frame(const struct txgen_pkt_cfg *c, const struct txgen_tmpl *t,
	    uint32_t flow, uint8_t *f)
{
	unsigned l3 = TXGEN_ETH_LEN;
	unsigned l4 = l3 + (c->family == 6 ? TXGEN_IP6_LEN : TXGEN_IP4_LEN);
	uint32_t l4_len = c->size - l4;
	uint8_t src[16], pseudo[40];
	uint8_t nh;
	uint64_t sum;
	uint16_t csum;

	memset(f, 0, c->size);
	txgen_flow_src_ip(c, flow, src);
	nh = c->proto == TXGEN_PROTO_UDP   ? TXGEN_IPPROTO_UDP
	     : c->proto == TXGEN_PROTO_TCP ? TXGEN_IPPROTO_TCP
	     : c->family == 6		   ? TXGEN_IPPROTO_ICMPV6
					   : TXGEN_IPPROTO_ICMP;
	memcpy(f, c->dst_mac, 6);
	memcpy(f + 6, c->src_mac, 6);
	if (c->family == 6) {
		put16(f + 12, TXGEN_ETHERTYPE_IPV6);
		put32(f + l3, 0x60000000u);
		put16(f + l3 + 4, (uint16_t)l4_len);
		f[l3 + 6] = nh;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, src, 16);
		memcpy(f + l3 + 24, c->dst_ip, 16);
	} else {
		put16(f + 12, TXGEN_ETHERTYPE_IPV4);
		f[l3] = 0x45;
		put16(f + l3 + 2, (uint16_t)(c->size - l3));
		put16(f + l3 + 6, 0x4000); /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = nh;
		memcpy(f + l3 + 12, src, 4);
		memcpy(f + l3 + 16, c->dst_ip, 4);
		csum = (uint16_t)~txgen_csum_fold(
			txgen_csum_add(0, f + l3, TXGEN_IP4_LEN));
		memcpy(f + l3 + 10, &csum, 2);
	}
	switch (c->proto) {
	case TXGEN_PROTO_UDP:
		put16(f + l4, txgen_flow_src_port(c, flow));
		put16(f + l4 + 2, c->dst_port);
		put16(f + l4 + 4, (uint16_t)l4_len);
		break;
	case TXGEN_PROTO_TCP:
		put16(f + l4, txgen_flow_src_port(c, flow));
		put16(f + l4 + 2, c->dst_port);
		put32(f + l4 + 4, 1);	    /* sequence number */
		put32(f + l4 + 8, 1);	    /* acknowledgement */
		f[l4 + 12] = 5 << 4;	    /* data offset: 20 bytes */
		f[l4 + 13] = 0x10;	    /* ACK */
		put16(f + l4 + 14, 0xffff); /* window */
		break;
	case TXGEN_PROTO_ICMP:
		f[l4] = c->family == 6 ? TXGEN_ICMPV6_ECHO : TXGEN_ICMP_ECHO;
		put16(f + l4 + 4, txgen_flow_src_port(c, flow));
		break;
	}
	fill_pattern(f, t->stamp_off + TXGEN_STAMP_LEN, c->size);

	/* pseudo-header: IPv4 src, dst, 0, proto, length; IPv6 src, dst,
	 * 32-bit length, 3 zero bytes, next header. ICMPv4 has none. */
	sum = 0;
	memset(pseudo, 0, sizeof(pseudo));
	if (c->family == 6) {
		memcpy(pseudo, src, 16);
		memcpy(pseudo + 16, c->dst_ip, 16);
		put32(pseudo + 32, l4_len);
		pseudo[39] = nh;
		sum = txgen_csum_add(sum, pseudo, 40);
	} else if (c->proto != TXGEN_PROTO_ICMP) {
		memcpy(pseudo, src, 4);
		memcpy(pseudo + 4, c->dst_ip, 4);
		pseudo[9] = nh;
		put16(pseudo + 10, (uint16_t)l4_len);
		sum = txgen_csum_add(sum, pseudo, 12);
	}
	return txgen_csum_add(sum, f + l4, l4_len);
}

int
txgen_tmpl_build(struct txgen_tmpl *t, const struct txgen_pkt_cfg *c,
		 uint32_t max_size)
{
	unsigned hdr = txgen_pkt_hdr_len(c->proto, c->family);
	uint8_t *frame;
	uint64_t sum;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if ((c->family != 4 && c->family != 6) || c->proto > TXGEN_PROTO_ICMP ||
	    c->size < txgen_pkt_min_size(c->proto, c->family) ||
	    c->size > max_size || c->size > 65535 || c->flows == 0 ||
	    c->flows > TXGEN_MAX_FLOWS)
		return -EINVAL;
	t->size = c->size;
	t->flows = c->flows;
	t->head_len = c->size < TXGEN_HEAD ? c->size : TXGEN_HEAD;
	t->tail_len = c->size - t->head_len;
	t->stamp_off = (uint16_t)hdr;
	/* L4 checksum: UDP +6, TCP +16, ICMP +2; echo sequence: ICMP +6 */
	switch (c->proto) {
	case TXGEN_PROTO_UDP:
		t->csum_off = (uint16_t)(hdr - TXGEN_UDP_LEN + 6);
		break;
	case TXGEN_PROTO_TCP:
		t->csum_off = (uint16_t)(hdr - TXGEN_TCP_LEN + 16);
		break;
	case TXGEN_PROTO_ICMP:
		t->csum_off = (uint16_t)(hdr - TXGEN_ICMP_LEN + 2);
		t->icmp_seq_off = (uint16_t)(hdr - TXGEN_ICMP_LEN + 6);
		break;
	}
	t->zero_is_ffff = c->proto == TXGEN_PROTO_UDP;
	t->heads = aligned_alloc(64, (size_t)c->flows * TXGEN_HEAD);
	t->sums = malloc((size_t)c->flows * sizeof(*t->sums));
	frame = malloc(c->size);
	if (t->tail_len != 0)
		t->tail = malloc(t->tail_len);
	if (t->heads == NULL || t->sums == NULL || frame == NULL ||
	    (t->tail_len != 0 && t->tail == NULL)) {
		free(frame);
		txgen_tmpl_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < c->flows; i++) {
		sum = build_frame(c, t, i, frame);
		t->sums[i] = txgen_csum_fold(sum);
		memset(t->heads + (size_t)i * TXGEN_HEAD, 0, TXGEN_HEAD);
		memcpy(t->heads + (size_t)i * TXGEN_HEAD, frame, t->head_len);
	}
	if (t->tail_len != 0)
		memcpy(t->tail, frame + TXGEN_HEAD, t->tail_len);
	free(frame);
	return 0;
}

void
txgen_tmpl_free(struct txgen_tmpl *t)
{
	free(t->heads);
	free(t->sums);
	free(t->tail);
	t->heads = NULL;
	t->sums = NULL;
	t->tail = NULL;
}
