/*
 * Unit tests of cnet (no root): the IPv4 header checks of ip4_input, the
 * Internet checksum, the TTL decrement with its incremental checksum
 * update (RFC 1624) against a full recomputation, the tables fed with
 * mirror events as the kernel would report them, the graph of a stack
 * thread over net_ring lports (no kernel, no mirror), and UDP channels:
 * delivery, the echo through sl_chnl_sendto(), checksums, punting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/sl_chnl.h>
#include <sluice/sl_cnet.h>
#include <sluice/sl_graph.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_mempool.h>
#include <sluice/sl_pktdev.h>

/* A 20-byte header 198.18.1.2 -> 198.18.2.2, ICMP, checksum set. */
static void
hdr_make(uint8_t *h, uint8_t ttl, uint16_t tot)
{
	uint16_t ck;

	memset(h, 0, 20);
	h[0] = 0x45;
	h[2] = (uint8_t)(tot >> 8);
	h[3] = (uint8_t)tot;
	h[6] = 0x40; /* DF */
	h[8] = ttl;
	h[9] = 1;
	h[12] = 198, h[13] = 18, h[14] = 1, h[15] = 2;
	h[16] = 198, h[17] = 18, h[18] = 2, h[19] = 2;
	ck = sl_cnet_cksum(h, 20);
	memcpy(h + 10, &ck, 2);
}

static void
test_check_good(void **state)
{
	uint8_t h[64];

	(void)state;
	hdr_make(h, 64, 60);
	assert_int_equal(sl_cnet_ip4_check(h, 64), 0);
	assert_int_equal(sl_cnet_ip4_check(h, 60), 0);
	assert_int_equal(sl_cnet_cksum(h, 20), 0);
}

static void
test_check_bad(void **state)
{
	uint8_t h[64];

	(void)state;
	hdr_make(h, 64, 60);
	assert_int_equal(sl_cnet_ip4_check(h, 19), SL_CNET_DROP_TRUNCATED + 1);
	h[11] ^= 0x55;
	assert_int_equal(sl_cnet_ip4_check(h, 64), SL_CNET_DROP_BAD_CKSUM + 1);
	hdr_make(h, 64, 60);
	h[0] = 0x65;
	assert_int_equal(sl_cnet_ip4_check(h, 64),
			 SL_CNET_DROP_BAD_VERSION + 1);
	hdr_make(h, 64, 60);
	h[0] = 0x44;
	assert_int_equal(sl_cnet_ip4_check(h, 64), SL_CNET_DROP_BAD_IHL + 1);
	hdr_make(h, 64, 60);
	h[0] = 0x4f; /* 60-byte header, frame of 40 */
	assert_int_equal(sl_cnet_ip4_check(h, 40), SL_CNET_DROP_TRUNCATED + 1);
	hdr_make(h, 64, 100); /* total length past the frame */
	assert_int_equal(sl_cnet_ip4_check(h, 64), SL_CNET_DROP_BAD_LEN + 1);
	hdr_make(h, 64, 10); /* total length below the header */
	assert_int_equal(sl_cnet_ip4_check(h, 64), SL_CNET_DROP_BAD_LEN + 1);
}

static void
test_ttl_dec(void **state)
{
	uint8_t h[20], r[20];
	uint16_t ck, zero = 0;
	unsigned ttl;

	(void)state;
	for (ttl = 2; ttl <= 255; ttl++) {
		hdr_make(h, (uint8_t)ttl, 20);
		sl_cnet_ip4_ttl_dec(h);
		assert_int_equal(h[8], ttl - 1);
		memcpy(r, h, 20);
		memcpy(r + 10, &zero, 2);
		ck = sl_cnet_cksum(r, 20);
		assert_memory_equal(h + 10, &ck, 2);
		assert_int_equal(sl_cnet_ip4_check(h, 20), 0);
	}
}

static void
test_cksum_odd(void **state)
{
	/* RFC 1071's example words 0001 f203 f4f5 f6f7, sum ddf2 */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};
	uint16_t ck;

	(void)state;
	ck = sl_cnet_cksum(b, sizeof(b));
	assert_int_equal(ntohs(ck), (uint16_t)~0xddf2);
	ck = sl_cnet_cksum(b, 1); /* one byte: padded with zero */
	assert_int_equal(ntohs(ck), (uint16_t)~0x0000);
}

static void
test_tables(void **state)
{
	struct sl_nlm_link l = {.ifindex = 3,
				.name = "r0",
				.mtu = 1500,
				.admin_up = true,
				.oper_up = true};
	struct sl_nlm_addr a = {.ifindex = 3, .addr = 0xc6120101, .plen = 24};
	struct sl_nlm_route r = {
		.dst = 0xc6120300, .plen = 24, .table = 254, .npaths = 1};
	struct sl_nlm_neigh n = {.ifindex = 3,
				 .ip = 0xc6120202,
				 .mac = {2, 0, 0, 0, 0, 9},
				 .valid = true};
	struct sl_cnet *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	(void)state;
	c = sl_cnet_create(NULL);
	assert_non_null(c);
	sl_cnet_link_event(c, &l, false);
	sl_cnet_addr_event(c, &a, false);
	r.paths[0].gw = 0xc6120202;
	r.paths[0].ifindex = 3;
	/* replaced many times: next-hop slots are recycled */
	for (i = 0; i < 10000; i++)
		sl_cnet_route_event(c, &r, false);
	sl_cnet_neigh_event(c, &n, false);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_cnet_show(c, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "198.18.3.0/24 via 198.18.2.2 dev 3"));
	assert_non_null(strstr(buf, "198.18.2.2 dev 3 lladdr "
				    "02:00:00:00:00:09"));
	assert_non_null(strstr(buf, "3 r0 mac"));
	free(buf);
	sl_cnet_route_event(c, &r, true);
	n.valid = false;
	sl_cnet_neigh_event(c, &n, false);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_cnet_show(c, f), 0);
	fclose(f);
	assert_null(strstr(buf, "198.18.3.0/24"));
	assert_null(strstr(buf, "lladdr"));
	free(buf);
	sl_cnet_free(c);
}

static char *
show(struct sl_cnet *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(sl_cnet_show(c, f), 0);
	fclose(f);
	return buf;
}

static void
test_resync(void **state)
{
	struct sl_nlm_route a = {
		.dst = 0xc6120300, .plen = 24, .table = 254, .npaths = 1};
	struct sl_nlm_route b = a;
	struct sl_nlm_neigh n = {.ifindex = 3,
				 .ip = 0xc6120202,
				 .mac = {2, 0, 0, 0, 0, 9},
				 .valid = true};
	struct sl_cnet *c;
	char *buf;

	(void)state;
	c = sl_cnet_create(NULL);
	assert_non_null(c);
	a.paths[0].ifindex = 3;
	b.dst = 0xc6120400;
	b.type = SL_NLM_RT_BLACKHOLE;
	b.npaths = 0;
	sl_cnet_resync(c, true);
	sl_cnet_route_event(c, &a, false);
	sl_cnet_route_event(c, &b, false);
	sl_cnet_neigh_event(c, &n, false);
	sl_cnet_resync(c, false);
	buf = show(c);
	assert_non_null(strstr(buf, "198.18.3.0/24 connected dev 3"));
	assert_non_null(strstr(buf, "198.18.4.0/24 blackhole"));
	assert_non_null(strstr(buf, "lladdr"));
	free(buf);
	/* a dump that reports only a: b and the neighbour are gone */
	sl_cnet_resync(c, true);
	sl_cnet_route_event(c, &a, false);
	sl_cnet_resync(c, false);
	buf = show(c);
	assert_non_null(strstr(buf, "198.18.3.0/24 connected dev 3"));
	assert_null(strstr(buf, "198.18.4.0/24"));
	assert_null(strstr(buf, "lladdr"));
	free(buf);
	sl_cnet_free(c);
}

/* ---- the nodes over net_ring lports ------------------------------------ */

static const uint8_t mac_r0[6] = {2, 0, 0, 0, 0, 0x10};
static const uint8_t mac_r1[6] = {2, 0, 0, 0, 0, 0x11};
static const uint8_t mac_c1[6] = {2, 0, 0, 0, 0, 0x01};
static const uint8_t mac_c2[6] = {2, 0, 0, 0, 0, 0x02};

struct rig {
	struct sl_mempool *pool;
	struct sl_port *r0, *c1, *r1, *c2; /* r0 <-> c1, r1 <-> c2 */
	struct sl_cnet *c;
	struct sl_cnet_thread *t;
};

static struct sl_port *
ring_open(struct rig *g, const char *name, const char *options)
{
	struct sl_port_cfg cfg = {
		.name = name,
		.backend = "net_ring",
		.pool = g->pool,
		.options = options,
	};
	struct sl_port *p = sl_pktdev_open(&cfg);

	assert_non_null(p);
	assert_int_equal(sl_pktdev_start(p), 0);
	return p;
}

static int
rig_setup(void **state)
{
	struct sl_mbuf_pool_cfg pc = {
		.name = "stack-unit",
		.n = 2048, /* a full channel (SL_CHNL_RX_DEPTH) and more */
		.frame_size = 2048,
	};
	struct sl_nlm_link l = {.mtu = 1500, .admin_up = true, .oper_up = true};
	struct sl_nlm_addr a = {.ifindex = 10, .addr = 0xc6120101, .plen = 24};
	struct sl_nlm_route r = {.plen = 24, .table = 254, .npaths = 1};
	struct sl_nlm_neigh n = {.valid = true};
	struct sl_port *ports[2];
	int ifx[2] = {10, 11};
	struct rig *g;

	g = calloc(1, sizeof(*g));
	assert_non_null(g);
	g->pool = sl_mbuf_pool_create(&pc);
	assert_non_null(g->pool);
	g->r0 = ring_open(g, "su-r0", "");
	g->c1 = ring_open(g, "su-c1", "peer=su-r0");
	g->r1 = ring_open(g, "su-r1", "");
	g->c2 = ring_open(g, "su-c2", "peer=su-r1");
	g->c = sl_cnet_create(NULL);
	assert_non_null(g->c);
	l.ifindex = 10;
	memcpy(l.mac, mac_r0, 6);
	snprintf(l.name, sizeof(l.name), "r0");
	sl_cnet_link_event(g->c, &l, false);
	l.ifindex = 11;
	memcpy(l.mac, mac_r1, 6);
	snprintf(l.name, sizeof(l.name), "r1");
	sl_cnet_link_event(g->c, &l, false);
	sl_cnet_addr_event(g->c, &a, false);
	a.ifindex = 11;
	a.addr = 0xc6120201;
	sl_cnet_addr_event(g->c, &a, false);
	r.dst = 0xc6120100;
	r.paths[0].ifindex = 10;
	sl_cnet_route_event(g->c, &r, false);
	r.dst = 0xc6120200;
	r.paths[0].ifindex = 11;
	sl_cnet_route_event(g->c, &r, false);
	r.dst = 0xc6120101; /* the router's address */
	r.plen = 32;
	r.table = 255;
	r.type = SL_NLM_RT_LOCAL;
	r.npaths = 0;
	sl_cnet_route_event(g->c, &r, false);
	n.ifindex = 10;
	n.ip = 0xc6120102;
	memcpy(n.mac, mac_c1, 6);
	sl_cnet_neigh_event(g->c, &n, false);
	n.ifindex = 11;
	n.ip = 0xc6120202;
	memcpy(n.mac, mac_c2, 6);
	sl_cnet_neigh_event(g->c, &n, false);
	ports[0] = g->r0;
	ports[1] = g->r1;
	g->t = sl_cnet_thread_create(g->c, "stack-unit", ports, ifx, 2, NULL,
				     0);
	assert_non_null(g->t);
	*state = g;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *g = *state;

	sl_cnet_thread_destroy(g->t);
	sl_cnet_free(g->c);
	sl_pktdev_close(g->c1);
	sl_pktdev_close(g->r0);
	sl_pktdev_close(g->c2);
	sl_pktdev_close(g->r1);
	assert_int_equal(sl_mempool_in_use_count(g->pool), 0);
	sl_mempool_destroy(g->pool);
	free(g);
	return 0;
}

/* Send from c1 an ICMP echo src -> dst with ttl; mangle may change the
 * IP header (the checksum is computed before). */
static void
send_c1_from(struct rig *g, uint32_t src, uint32_t dst, uint8_t ttl, int mangle)
{
	struct sl_mbuf *m = sl_mbuf_alloc(g->pool);
	uint8_t *f;
	uint16_t ck;

	assert_non_null(m);
	f = sl_mbuf_append(m, 14 + 20 + 8);
	assert_non_null(f);
	memcpy(f, mac_r0, 6);
	memcpy(f + 6, mac_c1, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	hdr_make(f + 14, ttl, 28);
	f[14 + 12] = (uint8_t)(src >> 24);
	f[14 + 13] = (uint8_t)(src >> 16);
	f[14 + 14] = (uint8_t)(src >> 8);
	f[14 + 15] = (uint8_t)src;
	f[14 + 16] = (uint8_t)(dst >> 24);
	f[14 + 17] = (uint8_t)(dst >> 16);
	f[14 + 18] = (uint8_t)(dst >> 8);
	f[14 + 19] = (uint8_t)dst;
	memset(f + 24, 0, 2);
	ck = sl_cnet_cksum(f + 14, 20);
	memcpy(f + 24, &ck, 2);
	memset(f + 34, 0, 8);
	f[34] = 8; /* echo request */
	ck = sl_cnet_cksum(f + 34, 8);
	memcpy(f + 36, &ck, 2);
	if (mangle)
		f[14 + 11] ^= 0xff; /* break the checksum */
	assert_int_equal(sl_pktdev_tx_burst(g->c1, &m, 1), 1);
}

/* From c1's address 198.18.1.2. */
static void
send_c1(struct rig *g, uint32_t dst, uint8_t ttl, int mangle)
{
	send_c1_from(g, 0xc6120102, dst, ttl, mangle);
}

static struct sl_mbuf *
recv_one(struct sl_port *p)
{
	struct sl_mbuf *m;

	return sl_pktdev_rx_burst(p, &m, 1) ? m : NULL;
}

static void
test_nodes_forward(void **state)
{
	struct rig *g = *state;
	struct sl_mbuf *m;
	const uint8_t *f;

	send_c1(g, 0xc6120202, 64, 0);
	assert_int_equal(sl_cnet_thread_poll(g->t), 1);
	m = recv_one(g->c2);
	assert_non_null(m);
	f = sl_mbuf_mtod(m, const uint8_t *);
	assert_memory_equal(f, mac_c2, 6);
	assert_memory_equal(f + 6, mac_r1, 6);
	assert_int_equal(f[14 + 8], 63);
	assert_int_equal(sl_cnet_ip4_check(f + 14, m->data_len - 14), 0);
	sl_mbuf_free(m);
	assert_null(recv_one(g->c1));
}

static void
test_nodes_errors(void **state)
{
	struct rig *g = *state;
	uint64_t d[SL_CNET_DROP_MAX];
	struct sl_mbuf *m;
	const uint8_t *f;

	/* TTL 1: time exceeded from 198.18.1.1 back to c1 */
	send_c1(g, 0xc6120202, 1, 0);
	sl_cnet_thread_poll(g->t);
	assert_null(recv_one(g->c2));
	m = recv_one(g->c1);
	assert_non_null(m);
	f = sl_mbuf_mtod(m, const uint8_t *);
	assert_memory_equal(f, mac_c1, 6);
	assert_int_equal(sl_cnet_ip4_check(f + 14, m->data_len - 14), 0);
	assert_int_equal(f[14 + 9], 1);
	assert_int_equal(f[14 + 12], 198);
	assert_int_equal(f[14 + 15], 1); /* from 198.18.1.1 */
	assert_int_equal(f[34], 11);	 /* time exceeded */
	assert_int_equal(f[35], 0);
	assert_int_equal(sl_cnet_cksum(f + 34, m->data_len - 34), 0);
	/* the quote: the original header, TTL 1 */
	assert_int_equal(f[42 + 8], 1);
	sl_mbuf_free(m);

	/* no route: net unreachable */
	send_c1(g, 0xc6120909, 64, 0);
	sl_cnet_thread_poll(g->t);
	m = recv_one(g->c1);
	assert_non_null(m);
	f = sl_mbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[34], 3);
	assert_int_equal(f[35], 0);
	sl_mbuf_free(m);

	/* bad checksum: dropped and counted */
	send_c1(g, 0xc6120202, 64, 1);
	sl_cnet_thread_poll(g->t);
	assert_null(recv_one(g->c1));
	assert_null(recv_one(g->c2));
	assert_int_equal(sl_cnet_thread_drops(g->t, d), 0);
	assert_int_equal(d[SL_CNET_DROP_BAD_CKSUM], 1);
}

static void
test_nodes_hold(void **state)
{
	struct sl_nlm_neigh n = {.ifindex = 11,
				 .ip = 0xc6120203,
				 .mac = {2, 0, 0, 0, 0, 3},
				 .valid = true};
	struct rig *g = *state;
	uint64_t d[SL_CNET_DROP_MAX];
	struct sl_mbuf *m;
	int i;

	/* 10 packets to an unresolved neighbour: 8 held, 2 dropped */
	for (i = 0; i < 10; i++)
		send_c1(g, 0xc6120203, 64, 0);
	sl_cnet_thread_poll(g->t);
	assert_null(recv_one(g->c2));
	assert_int_equal(sl_cnet_thread_drops(g->t, d), 0);
	assert_int_equal(d[SL_CNET_DROP_NEIGH_HOLD_FULL], 2);
	/* resolved: the next poll sends the held packets */
	sl_cnet_neigh_event(g->c, &n, false);
	sl_cnet_thread_poll(g->t);
	for (i = 0; i < 8; i++) {
		m = recv_one(g->c2);
		assert_non_null(m);
		assert_int_equal(sl_mbuf_mtod(m, const uint8_t *)[5], 3);
		sl_mbuf_free(m);
	}
	assert_null(recv_one(g->c2));
}

/* The folded one's complement sum of a UDP datagram (ulen bytes at u)
 * with the pseudo-header of the IPv4 header ip, computed independently
 * of cnet's helpers from sl_cnet_cksum() of the pieces. */
static uint16_t
udp_sum(const uint8_t *ip, const uint8_t *u, unsigned ulen)
{
	uint8_t ph[12];
	uint32_t sum;

	memcpy(ph, ip + 12, 8); /* addresses, zero, protocol, UDP length */
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(ulen >> 8);
	ph[11] = (uint8_t)ulen;
	sum = (uint16_t)~sl_cnet_cksum(ph, 12);
	sum += (uint16_t)~sl_cnet_cksum(u, ulen);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Send from c1 a UDP datagram 198.18.1.2:sport -> dst:dport with a
 * payload of len bytes (i & 0xff); how: 0 good, 1 bad UDP checksum,
 * 2 UDP length beyond the datagram, 3 no UDP checksum, 4 IP options. */
static void
send_udp_c1(struct rig *g, uint32_t dst, uint16_t sport, uint16_t dport,
	    unsigned len, int how)
{
	unsigned ihl = how == 4 ? 24 : 20, i;
	struct sl_mbuf *m = sl_mbuf_alloc(g->pool);
	uint8_t *f, *ip, *u;
	uint16_t ck, tot = (uint16_t)(ihl + 8 + len);

	assert_non_null(m);
	f = sl_mbuf_append(m, 14 + tot);
	assert_non_null(f);
	memcpy(f, mac_r0, 6);
	memcpy(f + 6, mac_c1, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	ip = f + 14;
	hdr_make(ip, 64, tot);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[9] = 17;
	ip[16] = (uint8_t)(dst >> 24);
	ip[17] = (uint8_t)(dst >> 16);
	ip[18] = (uint8_t)(dst >> 8);
	ip[19] = (uint8_t)dst;
	if (ihl == 24)
		memset(ip + 20, 1, 4); /* four NOP options */
	memset(ip + 10, 0, 2);
	ck = sl_cnet_cksum(ip, ihl);
	memcpy(ip + 10, &ck, 2);
	u = ip + ihl;
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + len + (how == 2 ? 10 : 0)) >> 8);
	u[5] = (uint8_t)(8 + len + (how == 2 ? 10 : 0));
	u[6] = u[7] = 0;
	for (i = 0; i < len; i++)
		u[8 + i] = (uint8_t)i;
	if (how != 3) {
		ck = (uint16_t)~udp_sum(ip, u, 8 + len);
		if (ck == 0)
			ck = 0xffff;
		memcpy(u + 6, &ck, 2);
		if (how == 1)
			u[7] ^= 0x5a;
	}
	assert_int_equal(sl_pktdev_tx_burst(g->c1, &m, 1), 1);
}

/* Check a UDP datagram as received from the wire: IP and UDP checksums. */
static void
check_udp(const uint8_t *f, unsigned frame_len)
{
	const uint8_t *ip = f + 14, *u = ip + 20;
	unsigned ulen = (unsigned)(u[4] << 8 | u[5]);

	assert_int_equal(sl_cnet_ip4_check(ip, frame_len - 14), 0);
	assert_int_equal(ip[9], 17);
	assert_int_equal(ulen + 20, (unsigned)(ip[2] << 8 | ip[3]));
	/* the sum with the check field */
	assert_int_equal(udp_sum(ip, u, ulen), 0xffff);
}

struct closer {
	struct sl_chnl *ch;
	int done;
};

static void *
closer_main(void *arg)
{
	struct closer *c = arg;

	sl_chnl_close(c->ch);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Close a channel from another thread while this one, the graph thread,
 * walks: the close waits for the walker's quiescent state. */
static void
chnl_close(struct rig *g, struct sl_chnl *ch)
{
	struct closer c = {ch, 0};
	pthread_t th;
	unsigned i;

	assert_int_equal(pthread_create(&th, NULL, closer_main, &c), 0);
	for (i = 0; i < 10000000 && !__atomic_load_n(&c.done, __ATOMIC_ACQUIRE);
	     i++)
		sl_cnet_thread_poll(g->t);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(c.done);
}

struct echo_state {
	unsigned calls, got;
	struct sl_chnl_addr from;
	int echo; /* send back what arrived */
};

static void
echo_cb(struct sl_chnl *ch, unsigned events, void *arg)
{
	struct echo_state *e = arg;
	struct sl_chnl_addr from[8];
	struct sl_mbuf *pkts[8];
	unsigned n, i;

	assert_int_equal(events, SL_CHNL_EV_READ);
	e->calls++;
	while ((n = sl_chnl_recvfrom(ch, pkts, from, 8)) != 0)
		for (i = 0; i < n; i++) {
			e->got++;
			e->from = from[i];
			if (e->echo)
				assert_int_equal(sl_chnl_sendto(ch, &pkts[i], 1,
								&from[i]),
						 1);
			else
				sl_mbuf_free(pkts[i]);
		}
}

static void
test_chnl_open_errors(void **state)
{
	static const char *const bad[] = {
		"udp4-listen:",	       "udp4-listen:0",	  "udp4-listen:70000",
		"udp4-listen:1.2.3:7", "udp4:7",	  "udp4:0.0.0.0:7",
		"tcp4-listen:7",       "udp4-listen:x:7", "udp4-listen:7x",
	};
	struct rig *g = *state;
	struct sl_chnl *a, *b;
	struct sl_chnl_addr la;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(sl_chnl_open(g->c, bad[i], NULL, NULL));
		assert_int_equal(errno, EINVAL);
	}
	a = sl_chnl_open(g->c, "udp4-listen:198.18.1.1:7", NULL, NULL);
	assert_non_null(a);
	/* the same port on the same or any address is taken */
	errno = 0;
	assert_null(sl_chnl_open(g->c, "udp4-listen:198.18.1.1:7", NULL, NULL));
	assert_int_equal(errno, EADDRINUSE);
	assert_null(sl_chnl_open(g->c, "udp4-listen:7", NULL, NULL));
	assert_int_equal(errno, EADDRINUSE);
	/* another address is free; a connected channel gets a port */
	b = sl_chnl_open(g->c, "udp4-listen:198.18.2.1:7", NULL, NULL);
	assert_non_null(b);
	chnl_close(g, b);
	b = sl_chnl_open(g->c, "udp4:198.18.2.2:9", NULL, NULL);
	assert_non_null(b);
	assert_int_equal(sl_chnl_local(b, &la), 0);
	assert_true(la.port >= 49152);
	assert_int_equal(la.ip, 0);
	chnl_close(g, b);
	chnl_close(g, a);
	/* closed: the port is free again */
	a = sl_chnl_open(g->c, "udp4-listen:7", NULL, NULL);
	assert_non_null(a);
	chnl_close(g, a);
	sl_chnl_close(NULL);
}

static void
test_chnl_echo(void **state)
{
	struct echo_state e = {.echo = 1};
	struct rig *g = *state;
	struct sl_chnl_stats st;
	struct sl_chnl *ch;
	struct sl_mbuf *m;
	const uint8_t *f, *u;
	unsigned i;

	ch = sl_chnl_open(g->c, "udp4-listen:198.18.1.1:7", echo_cb, &e);
	assert_non_null(ch);
	/* three datagrams, one of them odd-sized: one callback, three
	 * echoes */
	send_udp_c1(g, 0xc6120101, 4000, 7, 100, 0);
	send_udp_c1(g, 0xc6120101, 4001, 7, 33, 0);
	send_udp_c1(g, 0xc6120101, 4002, 7, 0, 3); /* no checksum: ok */
	sl_cnet_thread_poll(g->t); /* delivery, the callback queues echoes */
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.got, 3);
	assert_int_equal(e.from.ip, 0xc6120102);
	assert_int_equal(e.from.port, 4002);
	sl_cnet_thread_poll(g->t); /* udp_output sends them */
	for (i = 0; i < 3; i++) {
		m = recv_one(g->c1);
		assert_non_null(m);
		f = sl_mbuf_mtod(m, const uint8_t *);
		assert_memory_equal(f, mac_c1, 6);
		assert_memory_equal(f + 6, mac_r0, 6);
		check_udp(f, m->data_len);
		assert_int_equal(f[14 + 8], 64);
		assert_int_equal(f[14 + 15], 1); /* from 198.18.1.1 */
		assert_int_equal(f[14 + 19], 2); /* to 198.18.1.2 */
		u = f + 34;
		assert_int_equal(u[0] << 8 | u[1], 7);
		assert_int_equal(u[2] << 8 | u[3], 4000 + i);
		assert_int_equal(u[4] << 8 | u[5], 8 + (i == 0	 ? 100
							: i == 1 ? 33
								 : 0));
		if (i == 1)
			assert_int_equal(u[8 + 32], 32);
		sl_mbuf_free(m);
	}
	assert_null(recv_one(g->c1));
	assert_null(recv_one(g->c2));
	assert_int_equal(sl_chnl_stats_get(ch, &st), 0);
	assert_int_equal(st.rx_pkts, 3);
	assert_int_equal(st.rx_bytes, 133);
	assert_int_equal(st.tx_pkts, 3);
	chnl_close(g, ch);
}

/*
 * A channel nobody reads holds SL_CHNL_RX_DEPTH datagrams: the ones after
 * are dropped and counted (the thread's chnl_full, the channel's rx_full),
 * and every queued one is still there, in arrival order.
 */
static void
test_chnl_full(void **state)
{
	const unsigned extra = 40, total = SL_CHNL_RX_DEPTH + extra;
	struct rig *g = *state;
	uint64_t d[SL_CNET_DROP_MAX];
	struct sl_chnl_addr from[64];
	struct sl_chnl_stats st;
	struct sl_mbuf *pkts[64];
	struct sl_chnl *ch;
	unsigned i, n, got = 0;

	ch = sl_chnl_open(g->c, "udp4-listen:7", NULL, NULL);
	assert_non_null(ch);
	for (i = 0; i < total; i++) {
		send_udp_c1(g, 0xc6120101, (uint16_t)(1000 + i), 7, 20, 0);
		if (i % 32 == 31)
			sl_cnet_thread_poll(g->t);
	}
	sl_cnet_thread_poll(g->t);
	assert_int_equal(sl_cnet_thread_drops(g->t, d), 0);
	assert_int_equal(d[SL_CNET_DROP_CHNL_FULL], extra);
	assert_int_equal(sl_chnl_stats_get(ch, &st), 0);
	assert_int_equal(st.rx_pkts, SL_CHNL_RX_DEPTH);
	assert_int_equal(st.rx_full, extra);
	while ((n = sl_chnl_recvfrom(ch, pkts, from, SL_DIM(pkts))) > 0) {
		for (i = 0; i < n; i++) {
			assert_int_equal(from[i].port, 1000 + got + i);
			sl_mbuf_free(pkts[i]);
		}
		got += n;
	}
	assert_int_equal(got, SL_CHNL_RX_DEPTH);
	chnl_close(g, ch);
}

static void
test_chnl_paths(void **state)
{
	struct echo_state e = {0};
	struct rig *g = *state;
	uint64_t d[SL_CNET_DROP_MAX];
	struct sl_node_stats ns;
	struct sl_chnl_addr to = {0xc6120202, 9};
	struct sl_chnl *ch;
	struct sl_mbuf *m;
	uint8_t *p;

	ch = sl_chnl_open(g->c, "udp4-listen:7", echo_cb, &e);
	assert_non_null(ch);
	send_udp_c1(g, 0xc6120101, 4000, 7, 20, 1); /* bad checksum */
	send_udp_c1(g, 0xc6120101, 4000, 7, 20, 2); /* bad length */
	send_udp_c1(g, 0xc6120101, 4000, 8, 20, 0); /* no channel */
	send_udp_c1(g, 0xc6120101, 4000, 7, 20, 4); /* IP options */
	send_udp_c1(g, 0xc6120202, 4000, 7, 20, 0); /* transit: forwarded */
	sl_cnet_thread_poll(g->t);
	assert_int_equal(e.got, 0);
	assert_int_equal(sl_cnet_thread_drops(g->t, d), 0);
	assert_int_equal(d[SL_CNET_DROP_BAD_UDP_CKSUM], 1);
	assert_int_equal(d[SL_CNET_DROP_BAD_UDP_LEN], 1);
	/* no punt device in this rig: punted packets are counted */
	assert_int_equal(d[SL_CNET_DROP_PUNT], 2);
	assert_int_equal(
		sl_graph_node_stats(sl_cnet_thread_graph(g->t), "punt", &ns),
		0);
	assert_int_equal(ns.objs, 2);
	m = recv_one(g->c2);
	assert_non_null(m);
	sl_mbuf_free(m);
	/* a datagram from the channel to 198.18.2.2:9 leaves on r1, from
	 * r1's address (the channel is bound to any) */
	m = sl_mbuf_alloc(g->pool);
	assert_non_null(m);
	p = sl_mbuf_append(m, 5);
	memcpy(p, "hello", 5);
	assert_int_equal(sl_chnl_sendto(ch, &m, 1, &to), 1);
	sl_cnet_thread_poll(g->t);
	m = recv_one(g->c2);
	assert_non_null(m);
	p = sl_mbuf_mtod(m, uint8_t *);
	check_udp(p, m->data_len);
	assert_memory_equal(p, mac_c2, 6);
	assert_int_equal(p[14 + 14], 2); /* from 198.18.2.1, r1's address */
	assert_int_equal(p[14 + 15], 1);
	assert_int_equal(p[34 + 2] << 8 | p[34 + 3], 9);
	assert_memory_equal(p + 42, "hello", 5);
	sl_mbuf_free(m);
	/* no route: counted */
	m = sl_mbuf_alloc(g->pool);
	assert_non_null(m);
	to.ip = 0x0a000001;
	assert_int_equal(sl_chnl_sendto(ch, &m, 1, &to), 1);
	sl_cnet_thread_poll(g->t);
	assert_int_equal(sl_cnet_thread_drops(g->t, d), 0);
	assert_int_equal(d[SL_CNET_DROP_NO_ROUTE], 1);
	/* bad arguments */
	m = sl_mbuf_alloc(g->pool);
	assert_non_null(m);
	assert_int_equal(sl_chnl_sendto(ch, &m, 1, NULL), -EINVAL);
	m->data_off = 10; /* no room for the headers */
	assert_int_equal(sl_chnl_sendto(ch, &m, 1, &to), -EINVAL);
	sl_mbuf_free(m);
	chnl_close(g, ch);
}

/* Count what c1 and c2 received, checking each is the forwarded echo. */
static void
count_out(struct rig *g, unsigned *n1, unsigned *n2)
{
	struct sl_mbuf *m;

	while ((m = recv_one(g->c1)) != NULL) {
		assert_int_equal(sl_mbuf_mtod(m, const uint8_t *)[14 + 8], 63);
		(*n1)++;
		sl_mbuf_free(m);
	}
	while ((m = recv_one(g->c2)) != NULL) {
		assert_int_equal(sl_mbuf_mtod(m, const uint8_t *)[14 + 8], 63);
		(*n2)++;
		sl_mbuf_free(m);
	}
}

static void
test_nodes_ecmp(void **state)
{
	struct sl_nlm_route r = {
		.dst = 0xc6121400, /* 198.18.20.0/24 */
		.plen = 24,
		.table = 254,
		.npaths = 2,
		.paths = {{.gw = 0xc6120102, .ifindex = 10, .weight = 1},
			  {.gw = 0xc6120202, .ifindex = 11, .weight = 1}}};
	struct rig *g = *state;
	unsigned n1 = 0, n2 = 0, a1, a2, first, i, k;

	sl_cnet_route_event(g->c, &r, false);
	/* 200 flows (sources), each sent twice: both paths are used, and
	 * each flow stays on its path */
	for (i = 0; i < 200; i++) {
		first = 0;
		for (k = 0; k < 2; k++) {
			send_c1_from(g, 0x0a000000 + i * 7919, 0xc6121401, 64,
				     0);
			sl_cnet_thread_poll(g->t);
			a1 = n1;
			a2 = n2;
			count_out(g, &n1, &n2);
			assert_int_equal(n1 - a1 + n2 - a2, 1);
			if (k == 0)
				first = n1 - a1; /* 1: via c1 */
			else
				assert_int_equal(n1 - a1, first);
		}
	}
	print_message("ECMP 1:1 over 200 flows x 2: %u via c1, %u via c2\n", n1,
		      n2);
	assert_int_equal(n1 + n2, 400);
	assert_true(n1 >= 100 && n2 >= 100); /* 2 x 200 flows, about half */

	/* weights 1 and 3: about a quarter and three quarters */
	r.paths[1].weight = 3;
	sl_cnet_route_event(g->c, &r, false);
	n1 = n2 = 0;
	for (i = 0; i < 400; i++) {
		send_c1_from(g, 0x0a000000 + i * 7919, 0xc6121401, 64, 0);
		sl_cnet_thread_poll(g->t);
		count_out(g, &n1, &n2);
	}
	print_message("ECMP 1:3 over 400 flows: %u via c1, %u via c2\n", n1,
		      n2);
	assert_int_equal(n1 + n2, 400);
	assert_true(n1 >= 50 && n1 <= 150 && n2 >= 250);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_bad),
		cmocka_unit_test(test_ttl_dec),
		cmocka_unit_test(test_cksum_odd),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_resync),
		cmocka_unit_test_setup_teardown(test_nodes_forward, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_nodes_errors, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_chnl_open_errors,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_chnl_echo, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_chnl_full, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_chnl_paths, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_nodes_ecmp, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_nodes_hold, rig_setup,
						rig_teardown),
	};
	return cmocka_run_group_tests_name("stack", t, NULL, NULL);
}
