/*
 * sluice-txgen frames and latency histogram (apps/txgen/txgen_pkt.h,
 * txgen_hist.h): every protocol and family is built and checked field by
 * field, its checksums verified with the straightforward RFC 1071 routine
 * below (not the builder's), the stamp read back; flows vary what the
 * documentation says; sizes out of range are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "txgen_hist.h"
#include "txgen_pkt.h"

#define MAX_SIZE 9000

/* ---- an independent reading of the frame ------------------------------ */

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* RFC 1071: sum of big-endian 16-bit words, odd byte padded with zero. */
static uint32_t
rfc1071_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static unsigned
rfc1071_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Checks a frame built from c for flow `flow` with stamp (stream, seq,
 * ns): every header field, every checksum, the stamp and the pattern. */
static void
check_frame(const struct txgen_pkt_cfg *c, const uint8_t *f, uint32_t flow,
	    uint8_t stream, uint32_t seq, uint64_t ns)
{
	unsigned l3 = 14, l4, l4_len, hdr, i;
	uint8_t src[16], proto_num;
	uint32_t sum;

	txgen_flow_src_ip(c, flow, src);
	assert_memory_equal(f, c->dst_mac, 6);
	assert_memory_equal(f + 6, c->src_mac, 6);
	proto_num = c->proto == TXGEN_PROTO_UDP	  ? 17
		    : c->proto == TXGEN_PROTO_TCP ? 6
		    : c->family == 6		  ? 58
						  : 1;
	if (c->family == 4) {
		assert_int_equal(be16(f + 12), 0x0800);
		assert_int_equal(f[l3], 0x45);
		assert_int_equal(be16(f + l3 + 2), c->size - 14);
		assert_int_equal(f[l3 + 8], 64);
		assert_int_equal(f[l3 + 9], proto_num);
		assert_memory_equal(f + l3 + 12, src, 4);
		assert_memory_equal(f + l3 + 16, c->dst_ip, 4);
		/* the header sums to 0xffff with its checksum */
		assert_int_equal(rfc1071_fold(rfc1071_sum(0, f + l3, 20)),
				 0xffff);
		l4 = l3 + 20;
	} else {
		assert_int_equal(be16(f + 12), 0x86dd);
		assert_int_equal(f[l3] >> 4, 6);
		assert_int_equal(be16(f + l3 + 4), c->size - 54);
		assert_int_equal(f[l3 + 6], proto_num);
		assert_int_equal(f[l3 + 7], 64);
		assert_memory_equal(f + l3 + 8, src, 16);
		assert_memory_equal(f + l3 + 24, c->dst_ip, 16);
		l4 = l3 + 40;
	}
	l4_len = c->size - l4;
	/* pseudo-header (not for ICMPv4), then the whole L4 message */
	sum = 0;
	if (c->family == 4 && c->proto != TXGEN_PROTO_ICMP) {
		sum = rfc1071_sum(sum, src, 4);
		sum = rfc1071_sum(sum, c->dst_ip, 4);
		sum += proto_num + l4_len;
	} else if (c->family == 6) {
		sum = rfc1071_sum(sum, src, 16);
		sum = rfc1071_sum(sum, c->dst_ip, 16);
		sum += (l4_len >> 16) + (l4_len & 0xffff) + proto_num;
	}
	sum = rfc1071_sum(sum, f + l4, l4_len);
	assert_int_equal(rfc1071_fold(sum), 0xffff);
	switch (c->proto) {
	case TXGEN_PROTO_UDP:
		assert_int_equal(be16(f + l4), (uint16_t)(c->src_port + flow));
		assert_int_equal(be16(f + l4 + 2), c->dst_port);
		assert_int_equal(be16(f + l4 + 4), l4_len);
		assert_int_not_equal(be16(f + l4 + 6), 0); /* 0: no checksum */
		hdr = l4 + 8;
		break;
	case TXGEN_PROTO_TCP:
		assert_int_equal(be16(f + l4), (uint16_t)(c->src_port + flow));
		assert_int_equal(be16(f + l4 + 2), c->dst_port);
		assert_int_equal(f[l4 + 12], 0x50);
		assert_int_equal(f[l4 + 13], 0x10); /* ACK only */
		assert_int_equal(be32(f + l4 + 8), 1);
		hdr = l4 + 20;
		break;
	default:
		assert_int_equal(f[l4], c->family == 6 ? 128 : 8);
		assert_int_equal(f[l4 + 1], 0);
		assert_int_equal(be16(f + l4 + 4),
				 (uint16_t)(c->src_port + flow));
		assert_int_equal(be16(f + l4 + 6), seq & 0xffff);
		hdr = l4 + 8;
		break;
	}
	assert_int_equal(hdr, txgen_pkt_hdr_len(c->proto, c->family));
	/* the stamp: "sTg", stream, seq (LE), time (LE) */
	assert_int_equal(f[hdr], 's');
	assert_int_equal(f[hdr + 1], 'T');
	assert_int_equal(f[hdr + 2], 'g');
	assert_int_equal(f[hdr + 3], stream);
	assert_int_equal((uint32_t)le64(f + hdr + 4) & 0xffffffffu, seq);
	assert_true(le64(f + hdr + 8) == ns);
	for (i = hdr + 16; i < c->size; i++)
		assert_int_equal(f[i], (uint8_t)i);
}

static void
cfg_init(struct txgen_pkt_cfg *c, enum txgen_proto proto, int family,
	 uint32_t size, uint32_t flows)
{
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x0a};
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x0b};
	static const uint8_t s6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 1};
	static const uint8_t d6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 2};

	memset(c, 0, sizeof(*c));
	c->proto = proto;
	c->family = family;
	c->size = size;
	c->flows = flows;
	memcpy(c->src_mac, smac, 6);
	memcpy(c->dst_mac, dmac, 6);
	if (family == 6) {
		memcpy(c->src_ip, s6, 16);
		memcpy(c->dst_ip, d6, 16);
	} else {
		c->src_ip[0] = 198, c->src_ip[1] = 18, c->src_ip[3] = 1;
		c->dst_ip[0] = 198, c->dst_ip[1] = 19, c->dst_ip[3] = 2;
	}
	c->src_port = 9000;
	c->dst_port = 9001;
}

static const enum txgen_proto protos[] = {TXGEN_PROTO_UDP, TXGEN_PROTO_TCP,
					  TXGEN_PROTO_ICMP};
static const int families[] = {4, 6};

/* Every proto x family x size: build, check, parse the stamp back; many
 * sequence numbers and times, to exercise the carries of the checksum. */
static void
test_build_all(void **state)
{
	static const uint32_t sizes[] = {0,   65,   127,  128,
					 129, 1000, 1514, MAX_SIZE};
	uint64_t ns_vals[] = {0, 1, 0xffffffffull, 0xffffffffffffffffull,
			      1234567890123456789ull};
	uint32_t seq_vals[] = {0, 1, 0xffff, 0x10000, 0xfffffffeu, 0xffffffffu};
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;
	struct txgen_stamp st;
	uint8_t *f = malloc(MAX_SIZE);
	unsigned p, fa, s, i, j;
	uint32_t size, flow;

	(void)state;
	assert_non_null(f);
	srand(7);
	for (p = 0; p < SL_DIM(protos); p++) {
		for (fa = 0; fa < SL_DIM(families); fa++) {
			for (s = 0; s < SL_DIM(sizes); s++) {
				/* 0 and sizes below it: the minimum */
				size = txgen_pkt_min_size(protos[p],
							  families[fa]);
				if (sizes[s] > size)
					size = sizes[s];
				cfg_init(&c, protos[p], families[fa], size, 7);
				assert_int_equal(
					txgen_tmpl_build(&t, &c, MAX_SIZE), 0);
				for (i = 0; i < SL_DIM(seq_vals); i++) {
					for (j = 0; j < SL_DIM(ns_vals); j++) {
						flow = (i + j) % 7;
						memset(f, 0xa5, MAX_SIZE);
						txgen_pkt_write(
							&t, f, flow,
							(uint8_t)(i * 40 + j),
							seq_vals[i],
							ns_vals[j]);
						check_frame(
							&c, f, flow,
							(uint8_t)(i * 40 + j),
							seq_vals[i],
							ns_vals[j]);
						assert_true(txgen_pkt_parse(
							f, size, &st));
						assert_int_equal(st.seq,
								 seq_vals[i]);
						assert_true(st.ns ==
							    ns_vals[j]);
						assert_int_equal(
							st.stream,
							(uint8_t)(i * 40 + j));
					}
				}
				for (i = 0; i < 300; i++) {
					uint64_t ns = (uint64_t)rand() << 40 ^
						      (uint64_t)rand() << 20 ^
						      (uint64_t)rand();
					uint32_t seq =
						(uint32_t)rand() * 2654435761u;

					txgen_pkt_write(&t, f, i % 7, 3, seq,
							ns);
					check_frame(&c, f, i % 7, 3, seq, ns);
				}
				txgen_tmpl_free(&t);
			}
		}
	}
	free(f);
}

/* Flows: source port (ICMP identifier) + i and source address + i; the
 * rest of the frame is the same. */
static void
test_flows(void **state)
{
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;
	uint8_t f0[256], f[256], ip[16];
	uint32_t flow;

	(void)state;
	/* IPv4 UDP, 70000 -> 65536 flows is the limit */
	cfg_init(&c, TXGEN_PROTO_UDP, 4, 64, TXGEN_MAX_FLOWS);
	c.src_port = 65530;
	c.src_ip[2] = 255, c.src_ip[3] = 250;
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_pkt_write(&t, f0, 0, 0, 5, 5);
	for (flow = 1; flow < TXGEN_MAX_FLOWS; flow += 4099) {
		txgen_pkt_write(&t, f, flow, 0, 5, 5);
		check_frame(&c, f, flow, 0, 5, 5);
		/* port wraps modulo 65536 */
		assert_int_equal(be16(f + 34), (uint16_t)(65530 + flow));
		/* address: + flow, carrying into the upper bytes */
		assert_int_equal(be32(f + 26),
				 (198u << 24 | 18u << 16 | 255u << 8 | 250u) +
					 flow);
		/* everything else equal: MACs, dst, ports, stamp */
		assert_memory_equal(f, f0, 24); /* 24: IPv4 checksum */
		assert_memory_equal(f + 30, f0 + 30, 4);
		assert_memory_equal(f + 36, f0 + 36, 4);
		assert_memory_equal(f + 42, f0 + 42, 64 - 42);
	}
	txgen_tmpl_free(&t);

	/* IPv6: the last 32 bits of the source address */
	cfg_init(&c, TXGEN_PROTO_ICMP, 6, 100, 300);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_pkt_write(&t, f, 299, 1, 77, 88);
	check_frame(&c, f, 299, 1, 77, 88);
	txgen_flow_src_ip(&c, 299, ip);
	assert_int_equal(be32(ip + 12), 1 + 299);
	assert_memory_equal(ip, c.src_ip, 12);
	assert_int_equal(be16(f + 54 + 4), 9000 + 299); /* identifier */
	txgen_tmpl_free(&t);
}

static void
test_sizes(void **state)
{
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;

	(void)state;
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_UDP, 4), 64);
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_ICMP, 4), 64);
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_TCP, 4), 70);
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_UDP, 6), 78);
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_ICMP, 6), 78);
	assert_int_equal(txgen_pkt_min_size(TXGEN_PROTO_TCP, 6), 90);
	assert_int_equal(txgen_pkt_hdr_len(TXGEN_PROTO_TCP, 6), 74);

	cfg_init(&c, TXGEN_PROTO_UDP, 4, 63, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), -EINVAL);
	cfg_init(&c, TXGEN_PROTO_TCP, 6, 89, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), -EINVAL);
	cfg_init(&c, TXGEN_PROTO_TCP, 6, 90, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_tmpl_free(&t);
	/* the pool's data room is the upper bound */
	cfg_init(&c, TXGEN_PROTO_UDP, 4, 1665, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 1664), -EINVAL);
	c.size = 1664;
	assert_int_equal(txgen_tmpl_build(&t, &c, 1664), 0);
	txgen_tmpl_free(&t);
	/* flows */
	cfg_init(&c, TXGEN_PROTO_UDP, 4, 64, 0);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), -EINVAL);
	c.flows = TXGEN_MAX_FLOWS + 1;
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), -EINVAL);
	c.flows = 1;
	c.family = 5;
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), -EINVAL);
	/* freeing twice is harmless */
	txgen_tmpl_free(&t);
}

/* A UDP checksum that computes to 0 is sent as 0xffff (0 means "none"):
 * look for a sequence number that gives it. */
static void
test_udp_zero_checksum(void **state)
{
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;
	uint8_t f[256];
	uint32_t seq;
	bool found = false;

	(void)state;
	cfg_init(&c, TXGEN_PROTO_UDP, 4, 64, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	for (seq = 0; seq < (1u << 22) && !found; seq++) {
		txgen_pkt_write(&t, f, 0, 0, seq, 0);
		found = be16(f + 40) == 0xffff;
	}
	assert_true(found);
	check_frame(&c, f, 0, 0, seq - 1, 0);
	txgen_tmpl_free(&t);
}

/* The fold keeps the value modulo 0xffff, 0 only for 0, at most 0xffff,
 * also for sums that need every step. */
static void
test_csum_fold(void **state)
{
	static const uint64_t v[] = {0,
				     1,
				     0xffff,
				     0x10000,
				     0xffffffffull,
				     0x100000000ull,
				     0x1fffffffeull,
				     0xffffffffffffull,
				     0x8000000000000000ull,
				     0xfffffffffffffffeull,
				     0xffffffffffffffffull,
				     0x123456789abcdef0ull};
	unsigned i;
	uint16_t r;

	(void)state;
	for (i = 0; i < SL_DIM(v); i++) {
		r = txgen_csum_fold(v[i]);
		assert_int_equal(r % 0xffff, v[i] % 0xffff);
		assert_true((r == 0) == (v[i] == 0));
	}
}

/* The parser accepts only well-formed txgen frames. */
static void
test_parse_rejects(void **state)
{
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;
	struct txgen_stamp st;
	uint8_t f[256], g[256];
	unsigned hdr;

	(void)state;
	cfg_init(&c, TXGEN_PROTO_TCP, 4, 128, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_pkt_write(&t, f, 0, 9, 42, 4242);
	hdr = txgen_pkt_hdr_len(c.proto, c.family);
	assert_true(txgen_pkt_parse(f, 128, &st));
	assert_int_equal(st.stream, 9);
	/* truncated before the end of the stamp */
	assert_false(txgen_pkt_parse(f, hdr + 15, &st));
	assert_true(txgen_pkt_parse(f, hdr + 16, &st));
	/* another ethertype, a bad IP version, another magic */
	memcpy(g, f, 128);
	g[12] = 0x08, g[13] = 0x06;
	assert_false(txgen_pkt_parse(g, 128, &st));
	memcpy(g, f, 128);
	g[14] = 0x65;
	assert_false(txgen_pkt_parse(g, 128, &st));
	memcpy(g, f, 128);
	g[hdr + 1] = 't';
	assert_false(txgen_pkt_parse(g, 128, &st));
	/* SCTP */
	memcpy(g, f, 128);
	g[23] = 132;
	assert_false(txgen_pkt_parse(g, 128, &st));
	/* TCP with options: the stamp moves with the data offset */
	memcpy(g, f, 128);
	g[34 + 12] = 6 << 4;
	memmove(g + hdr + 4, f + hdr, 16);
	assert_true(txgen_pkt_parse(g, 128, &st));
	assert_int_equal(st.seq, 42);
	txgen_tmpl_free(&t);

	/* an echo reply is not ours */
	cfg_init(&c, TXGEN_PROTO_ICMP, 6, 100, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_pkt_write(&t, f, 0, 0, 1, 1);
	assert_true(txgen_pkt_parse(f, 100, &st));
	f[54] = 129;
	assert_false(txgen_pkt_parse(f, 100, &st));
	txgen_tmpl_free(&t);
	assert_false(txgen_pkt_parse(f, 10, &st));
}

/* Frames of the XDP engine are recognised by destination and port. */
static void
test_match_xdp(void **state)
{
	struct txgen_pkt_cfg c;
	struct txgen_tmpl t;
	uint8_t f[256], other[4] = {198, 19, 0, 3};

	(void)state;
	cfg_init(&c, TXGEN_PROTO_UDP, 4, 64, 1);
	assert_int_equal(txgen_tmpl_build(&t, &c, 2048), 0);
	txgen_pkt_write(&t, f, 0, 0, 1, 1);
	assert_true(txgen_pkt_match_xdp(f, 64, c.dst_ip, 9001));
	assert_false(txgen_pkt_match_xdp(f, 64, c.dst_ip, 9002));
	assert_false(txgen_pkt_match_xdp(f, 64, other, 9001));
	assert_false(txgen_pkt_match_xdp(f, 49, c.dst_ip, 9001));
	f[23] = 6;
	assert_false(txgen_pkt_match_xdp(f, 64, c.dst_ip, 9001));
	txgen_tmpl_free(&t);
}

/* Order: numbers go up per stream; late and repeated ones are caught,
 * gaps are not (loss is counted elsewhere), streams are independent, the
 * 32-bit numbers wrap. */
static void
test_order(void **state)
{
	static const struct {
		uint8_t stream;
		uint32_t seq;
		bool ok;
	} in[] = {
		{0, 7, true},
		{0, 8, true},
		{0, 12, true},	/* gap */
		{0, 11, false}, /* late */
		{0, 12, false}, /* duplicate */
		{0, 13, true},
		{1, 3, true},
		{1, 2, false},
		{0, 14, true}, /* stream 1 does not disturb 0 */
		{2, 0xfffffffeu, true},
		{2, 0xffffffffu, true},
		{2, 0, true},
		{2, 1, true},		 /* wraps */
		{2, 0xffffffffu, false}, /* before the wrap: late */
		{255, 0, true},
		{255, 0, false},
	};
	struct txgen_order *o = calloc(1, sizeof(*o));
	struct txgen_stamp st;
	unsigned i;

	(void)state;
	assert_non_null(o);
	for (i = 0; i < SL_DIM(in); i++) {
		st.stream = in[i].stream;
		st.seq = in[i].seq;
		st.ns = 0;
		assert_int_equal(txgen_order_check(o, &st), in[i].ok);
	}
	free(o);
}

/* ---- histogram ---------------------------------------------------------- */

static void
test_hist_buckets(void **state)
{
	uint64_t v, vals[] = {0,
			      1,
			      15,
			      16,
			      17,
			      31,
			      32,
			      33,
			      100,
			      1000,
			      123456789,
			      1ull << 40,
			      (1ull << 40) - 1,
			      UINT64_MAX};
	unsigned i, b;

	(void)state;
	for (i = 0; i < SL_DIM(vals); i++) {
		v = vals[i];
		b = txgen_hist_bucket(v);
		assert_true(b < TXGEN_HIST_BUCKETS);
		assert_true(txgen_hist_bucket_low(b) <= v);
		assert_true(txgen_hist_bucket_high(b) >= v);
		/* width at most 1/16 of the lower bound (exact below 16) */
		if (v < 16)
			assert_true(txgen_hist_bucket_low(b) == v &&
				    txgen_hist_bucket_high(b) == v);
		else
			assert_true(txgen_hist_bucket_high(b) -
					    txgen_hist_bucket_low(b) + 1 <=
				    txgen_hist_bucket_low(b) / 16);
	}
	/* buckets tile the range: each one starts after the previous */
	for (b = 1; b < TXGEN_HIST_BUCKETS; b++)
		assert_true(txgen_hist_bucket_low(b) ==
			    txgen_hist_bucket_high(b - 1) + 1);
	assert_true(txgen_hist_bucket_high(TXGEN_HIST_BUCKETS - 1) ==
		    UINT64_MAX);
}

static void
test_hist_percentiles(void **state)
{
	struct txgen_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	uint64_t v, p50, p90, p99;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	txgen_hist_init(a);
	txgen_hist_init(b);
	assert_int_equal(txgen_hist_percentile(a, 50), 0);
	/* 1..10000 ns spread over two histograms, then merged */
	for (v = 1; v <= 10000; v++)
		txgen_hist_add(v & 1 ? a : b, v);
	txgen_hist_merge(a, b);
	assert_int_equal(a->count, 10000);
	assert_int_equal(a->min, 1);
	assert_int_equal(a->max, 10000);
	assert_true(txgen_hist_mean(a) > 5000.4 && txgen_hist_mean(a) < 5000.6);
	p50 = txgen_hist_percentile(a, 50);
	p90 = txgen_hist_percentile(a, 90);
	p99 = txgen_hist_percentile(a, 99);
	/* never below the exact value, at most 1/16 above it */
	assert_true(p50 >= 5000 && p50 <= 5000 + 5000 / 16);
	assert_true(p90 >= 9000 && p90 <= 9000 + 9000 / 16);
	assert_true(p99 >= 9900 && p99 <= 10000);
	assert_int_equal(txgen_hist_percentile(a, 100), 10000);
	assert_int_equal(txgen_hist_percentile(a, 0), 1);
	/* one outlier: max and p100 see it, p99 does not */
	txgen_hist_init(a);
	for (v = 0; v < 1000; v++)
		txgen_hist_add(a, 700);
	txgen_hist_add(a, 5000000);
	assert_int_equal(a->max, 5000000);
	assert_true(txgen_hist_percentile(a, 99) >= 700 &&
		    txgen_hist_percentile(a, 99) <= 700 + 700 / 16);
	assert_int_equal(txgen_hist_percentile(a, 100), 5000000);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_build_all),
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_csum_fold),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_match_xdp),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_percentiles),
	};
	return cmocka_run_group_tests_name("txgen_pkt", t, NULL, NULL);
}
