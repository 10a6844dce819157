/*
 * libFuzzer target for the IPv4 path of the stack's graph nodes (lib/cnet):
 * eth_rx, ptype, ip4_input, ip4_forward, ip4_output, icmp4, udp_input,
 * chnl_recv, punt, drop and eth_tx, over net_ring lports (no kernel, no
 * mirror), with a UDP channel bound to 198.18.1.1:7. The tables are filled
 * through the mirror's callbacks as in tests/netns/stack_unit.c:
 *
 *   link 10 r0 198.18.1.1/24, lport r0 (peer c1), neighbour .2 resolved
 *   link 11 r1 198.18.2.1/24 MTU 1000, lport r1 (peer c2), neighbour .2
 *   link 12 r2 down, no address, lport r2 (peer c3)
 *   link 13 r3 up, no lport of the thread, neighbour 198.18.8.2
 *   198.18.3.0/24 via 198.18.2.2, 198.18.9.0/24 via 198.18.2.9 (unresolved),
 *   10.0.0.0/8 via 198.18.1.2, 198.18.4.0/24 blackhole, .5.0/24
 *   unreachable, .6.0/24 prohibit, .7.0/24 dev r2, .8.0/24 dev r3, and the
 *   local table's 198.18.1.1, 198.18.2.1 and broadcast 198.18.1.255.
 *
 * Input: one control byte, then one Ethernet frame (cut to an mbuf's room):
 *   bits 0-1: input lport (0 r0, 1 r1, 2 r2, 3 r0);
 *   bit 2: keep the frame's destination MAC (else: the input link's MAC);
 *   bit 3: no ICMP tokens left (rate limit);
 *   bit 4: a held packet expires (else its neighbour gets resolved).
 *
 * Checks: the packet is received and accounted for exactly once, as a
 * frame sent (forwarded, or an ICMP error made of it), a drop counter
 * (punt included), a datagram delivered to the channel (whose payload and
 * source are the datagram's) or a held packet, which after the flush
 * (resolution or expiry) is sent or counted in turn; frames refused before
 * ip4_forward get the reason the headers call for; a forwarded frame is the
 * datagram with TTL - 1 and a valid header checksum, from the output link's MAC
 * to a known neighbour; an ICMP error has valid checksums, comes from a router
 * address and quotes the datagram; the pool's in-use count is back to its
 * baseline after every input.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_chnl.h>
#include <sluice/sl_cnet.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_mempool.h>
#include <sluice/sl_pktdev.h>
#include <sluice/sl_time.h>

#include "cnet_private.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPORTS 3
#define ICMP_RATE 100
#define IP(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

static const uint8_t mac_r[4][6] = {
	{2, 0, 0, 0, 0, 0x10},
	{2, 0, 0, 0, 0, 0x11},
	{2, 0, 0, 0, 0, 0x12},
	{2, 0, 0, 0, 0, 0x13},
};
static const uint8_t mac_c1[6] = {2, 0, 0, 0, 0, 0x01};
static const uint8_t mac_c2[6] = {2, 0, 0, 0, 0, 0x02};
static const uint8_t mac_late[6] = {2, 0, 0, 0, 0, 0xaa};
static const int ifx[NPORTS] = {10, 11, 12};

static struct {
	struct sl_mempool *pool;
	struct sl_port *r[NPORTS], *c[NPORTS]; /* r[i] <-> c[i] */
	struct sl_cnet *c_net;
	struct sl_cnet_thread *t;
	struct sl_chnl *ch;
	unsigned baseline;
	unsigned delivered; /* datagrams the channel got for this input */
	const uint8_t *ip;  /* the input datagram, when ip4_input takes it */
} fz;

/* The channel's callback: each datagram must be the input's payload. */
static void
chnl_cb(struct sl_chnl *ch, unsigned events, void *arg)
{
	struct sl_chnl_addr from;
	struct sl_mbuf *m;
	const uint8_t *ip = fz.ip, *u;
	uint32_t ihl;

	(void)arg;
	if (events != SL_CHNL_EV_READ)
		abort();
	while (sl_chnl_recvfrom(ch, &m, &from, 1) == 1) {
		if (ip == NULL)
			abort();
		ihl = (ip[0] & 0xfu) * 4;
		u = ip + ihl;
		if (ihl != 20 || ip[9] != 17 ||
		    m->data_len != (uint32_t)(u[4] << 8 | u[5]) - 8 ||
		    memcmp(sl_mbuf_mtod(m, const uint8_t *), u + 8,
			   m->data_len) != 0 ||
		    from.port != (uint16_t)(u[0] << 8 | u[1]) ||
		    from.ip !=
			    ((uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 |
			     (uint32_t)ip[14] << 8 | ip[15]))
			abort();
		fz.delivered++;
		sl_mbuf_free(m);
	}
}

static struct sl_port *
ring_open(const char *name, const char *options)
{
	struct sl_port_cfg cfg = {
		.name = name,
		.backend = "net_ring",
		.pool = fz.pool,
		.options = options,
	};
	struct sl_port *p = sl_pktdev_open(&cfg);

	if (p == NULL || sl_pktdev_start(p) != 0)
		abort();
	return p;
}

static void
add_link(int ifindex, const char *name, const uint8_t *mac, uint32_t mtu,
	 bool up)
{
	struct sl_nlm_link l = {
		.ifindex = ifindex, .mtu = mtu, .admin_up = up, .oper_up = up};

	memcpy(l.mac, mac, 6);
	snprintf(l.name, sizeof(l.name), "%s", name);
	sl_cnet_link_event(fz.c_net, &l, false);
}

static void
add_route(uint32_t dst, uint8_t plen, uint8_t type, uint32_t table, int ifindex,
	  uint32_t gw)
{
	struct sl_nlm_route r = {
		.dst = dst, .plen = plen, .type = type, .table = table};

	if (type == SL_NLM_RT_UNICAST) {
		r.npaths = 1;
		r.paths[0].ifindex = ifindex;
		r.paths[0].gw = gw;
	}
	sl_cnet_route_event(fz.c_net, &r, false);
}

static void
set_neigh(int ifindex, uint32_t ip, const uint8_t *mac, bool del)
{
	struct sl_nlm_neigh n = {.ifindex = ifindex, .ip = ip, .valid = true};

	memcpy(n.mac, mac, 6);
	sl_cnet_neigh_event(fz.c_net, &n, del);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_mbuf_pool_cfg pc = {
		.name = "fuzz-cnet",
		.n = 256,
		.frame_size = 2048,
	};
	struct sl_nlm_addr a = {.plen = 24};
	struct sl_port *ports[NPORTS];
	char name[16], opt[32];
	unsigned i;

	(void)argc;
	(void)argv;
	if (fz.t != NULL)
		return 0;
	fz.pool = sl_mbuf_pool_create(&pc);
	if (fz.pool == NULL)
		abort();
	for (i = 0; i < NPORTS; i++) {
		snprintf(name, sizeof(name), "fz-r%u", i);
		fz.r[i] = ring_open(name, "");
		snprintf(opt, sizeof(opt), "peer=%s", name);
		snprintf(name, sizeof(name), "fz-c%u", i);
		fz.c[i] = ring_open(name, opt);
	}
	fz.c_net =
		sl_cnet_create(&(struct sl_cnet_cfg){.icmp_rate = ICMP_RATE});
	if (fz.c_net == NULL)
		abort();
	add_link(10, "r0", mac_r[0], 1500, true);
	add_link(11, "r1", mac_r[1], 1000, true);
	add_link(12, "r2", mac_r[2], 1500, false);
	add_link(13, "r3", mac_r[3], 1500, true);
	a.ifindex = 10;
	a.addr = IP(198, 18, 1, 1);
	sl_cnet_addr_event(fz.c_net, &a, false);
	a.ifindex = 11;
	a.addr = IP(198, 18, 2, 1);
	sl_cnet_addr_event(fz.c_net, &a, false);

	add_route(IP(198, 18, 1, 0), 24, SL_NLM_RT_UNICAST, 254, 10, 0);
	add_route(IP(198, 18, 2, 0), 24, SL_NLM_RT_UNICAST, 254, 11, 0);
	add_route(IP(198, 18, 3, 0), 24, SL_NLM_RT_UNICAST, 254, 11,
		  IP(198, 18, 2, 2));
	add_route(IP(198, 18, 9, 0), 24, SL_NLM_RT_UNICAST, 254, 11,
		  IP(198, 18, 2, 9));
	add_route(IP(10, 0, 0, 0), 8, SL_NLM_RT_UNICAST, 254, 10,
		  IP(198, 18, 1, 2));
	add_route(IP(198, 18, 4, 0), 24, SL_NLM_RT_BLACKHOLE, 254, 0, 0);
	add_route(IP(198, 18, 5, 0), 24, SL_NLM_RT_UNREACHABLE, 254, 0, 0);
	add_route(IP(198, 18, 6, 0), 24, SL_NLM_RT_PROHIBIT, 254, 0, 0);
	add_route(IP(198, 18, 7, 0), 24, SL_NLM_RT_UNICAST, 254, 12, 0);
	add_route(IP(198, 18, 8, 0), 24, SL_NLM_RT_UNICAST, 254, 13, 0);
	add_route(IP(198, 18, 1, 1), 32, SL_NLM_RT_LOCAL, 255, 0, 0);
	add_route(IP(198, 18, 2, 1), 32, SL_NLM_RT_LOCAL, 255, 0, 0);
	add_route(IP(198, 18, 1, 255), 32, SL_NLM_RT_OTHER, 255, 0, 0);
	set_neigh(10, IP(198, 18, 1, 2), mac_c1, false);
	set_neigh(11, IP(198, 18, 2, 2), mac_c2, false);
	set_neigh(13, IP(198, 18, 8, 2), mac_c2, false);

	for (i = 0; i < NPORTS; i++)
		ports[i] = fz.r[i];
	fz.t = sl_cnet_thread_create(fz.c_net, "fuzz-cnet", ports, ifx, NPORTS,
				     NULL, 0);
	if (fz.t == NULL)
		abort();
	fz.ch = sl_chnl_open(fz.c_net, "udp4-listen:198.18.1.1:7", chnl_cb,
			     NULL);
	if (fz.ch == NULL)
		abort();
	fz.baseline = sl_mempool_in_use_count(fz.pool);
	return 0;
}

static uint64_t
drops_total(uint64_t d[SL_CNET_DROP_MAX])
{
	uint64_t sum = 0;
	unsigned i;

	if (sl_cnet_thread_drops(fz.t, d) != 0)
		abort();
	for (i = 0; i < SL_CNET_DROP_MAX; i++)
		sum += d[i];
	return sum;
}

static unsigned
held_total(unsigned *slot)
{
	unsigned i, n = 0;

	for (i = 0; i < SL_CNET_HOLD_SLOTS; i++) {
		if (fz.t->hold[i].n == 0)
			continue;
		n += fz.t->hold[i].n;
		*slot = i;
	}
	return n;
}

static bool
neigh_mac_ok(unsigned port, const uint8_t *mac)
{
	if (memcmp(mac, mac_late, 6) == 0)
		return true;
	return memcmp(mac, port == 0 ? mac_c1 : mac_c2, 6) == 0 && port < 2;
}

/* Same datagram but for TTL and checksum. */
static bool
same_but_ttl(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	return memcmp(a, b, 8) == 0 && a[9] == b[9] &&
	       memcmp(a + 12, b + 12, len - 12) == 0;
}

/* Check a frame the router sent on lport port for the input datagram ip
 * (checked by ip4_input: tot bytes). */
static void
check_out(unsigned port, const struct sl_mbuf *m, const uint8_t *ip,
	  uint32_t tot)
{
	const uint8_t *f = sl_mbuf_mtod(m, const uint8_t *);
	const uint8_t *o = f + CNET_ETH_HLEN;
	uint32_t len, qlen, src, ihl;

	if (m->nb_segs != 1 || m->data_len < CNET_ETH_HLEN + 20)
		abort();
	len = m->data_len - CNET_ETH_HLEN;
	if (memcmp(f + 6, mac_r[port], 6) != 0 || !neigh_mac_ok(port, f) ||
	    f[12] != 0x08 || f[13] != 0x00)
		abort();
	/* a valid header, total length = the frame's */
	if (sl_cnet_ip4_check(o, len) != 0 ||
	    (uint32_t)(o[2] << 8 | o[3]) != len)
		abort();
	if (len == tot && same_but_ttl(o, ip, tot) && o[8] + 1 == ip[8])
		return; /* forwarded */
	/* else an ICMP error about the datagram */
	ihl = (ip[0] & 0xfu) * 4;
	src = (uint32_t)o[12] << 24 | (uint32_t)o[13] << 16 |
	      (uint32_t)o[14] << 8 | o[15];
	if (len < 28 || o[0] != 0x45 || o[9] != 1 ||
	    (src != IP(198, 18, 1, 1) && src != IP(198, 18, 2, 1)) ||
	    memcmp(o + 16, ip + 12, 4) != 0 || sl_cnet_cksum(o + 20, len - 20))
		abort();
	if (o[20] != 3 && o[20] != 11)
		abort();
	qlen = len - 28;
	if (qlen > tot || qlen > 576 - 28 || (qlen < tot && qlen != 576 - 28))
		abort();
	/* the quote: the datagram (at least its header), maybe with its
	 * TTL decremented */
	if (qlen < ihl || !same_but_ttl(o + 28, ip, qlen))
		abort();
}

/* Receive and check what the router sent; @return the frame count. */
static unsigned
collect(const uint8_t *ip, uint32_t tot)
{
	struct sl_mbuf *m;
	unsigned p, n = 0;

	for (p = 0; p < NPORTS; p++)
		while (sl_pktdev_rx_burst(fz.c[p], &m, 1) == 1) {
			if (ip == NULL)
				abort(); /* nothing may leave */
			check_out(p, m, ip, tot);
			sl_mbuf_free(m);
			n++;
		}
	return n;
}

/* The reason eth_rx or ip4_input must give, or SL_CNET_DROP_MAX. */
static unsigned
expected_early(const uint8_t *f, uint32_t len, unsigned port)
{
	unsigned bad;

	if (len < CNET_ETH_HLEN || (f[0] & 1))
		return SL_CNET_DROP_PUNT;
	if (memcmp(f, mac_r[port], 6) != 0)
		return SL_CNET_DROP_OTHER_HOST;
	if (f[12] != 0x08 || f[13] != 0x00)
		return SL_CNET_DROP_PUNT;
	bad = sl_cnet_ip4_check(f + CNET_ETH_HLEN, len - CNET_ETH_HLEN);
	return bad != 0 ? bad - 1 : SL_CNET_DROP_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t d0[SL_CNET_DROP_MAX], d1[SL_CNET_DROP_MAX];
	uint64_t before, dropped;
	uint8_t ip[2048];
	struct sl_mbuf *m;
	unsigned port, early, held, slot = 0, out, n;
	uint32_t len, tot = 0, hold_ip;
	int hold_ifx;
	uint8_t ctl, *f;

	if (fz.t == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	ctl = data[0];
	port = (ctl & 3) == 3 ? 0 : ctl & 3;
	m = sl_mbuf_alloc(fz.pool);
	if (m == NULL)
		abort();
	len = (uint32_t)SL_MIN(size - 1, (size_t)sl_mbuf_tailroom(m));
	len = SL_MIN(len, (uint32_t)sizeof(ip));
	f = len ? sl_mbuf_append(m, len) : NULL;
	if (len && f == NULL)
		abort();
	if (len)
		memcpy(f, data + 1, len);
	if (!(ctl & 4) && len >= 6)
		memcpy(f, mac_r[port], 6);
	early = expected_early(f, len, port);
	if (early == SL_CNET_DROP_MAX) {
		tot = (uint32_t)f[CNET_ETH_HLEN + 2] << 8 |
		      f[CNET_ETH_HLEN + 3];
		memcpy(ip, f + CNET_ETH_HLEN, tot);
	}
	fz.t->icmp_tokens = ctl & 8 ? 0 : ICMP_RATE;
	fz.t->icmp_last_tsc = sl_tsc();

	before = drops_total(d0);
	fz.delivered = 0;
	fz.ip = early == SL_CNET_DROP_MAX ? ip : NULL;
	if (sl_pktdev_tx_burst(fz.c[port], &m, 1) != 1)
		abort();
	if (sl_cnet_thread_poll(fz.t) != 1)
		abort();
	out = collect(early == SL_CNET_DROP_MAX ? ip : NULL, tot);
	dropped = drops_total(d1) - before;
	held = held_total(&slot);
	if (out + dropped + held + fz.delivered != 1)
		abort();
	if (early != SL_CNET_DROP_MAX && d1[early] != d0[early] + 1)
		abort();

	if (held != 0) {
		/* flush: the neighbour is resolved, or the packet expires */
		hold_ip = fz.t->hold[slot].ip;
		hold_ifx = fz.t->hold[slot].ifindex;
		if (ctl & 16) {
			fz.t->hold[slot].tsc =
				sl_tsc() - sl_ns_to_tsc(2000000000);
			fz.t->hold_check = 0;
			sl_cnet_thread_poll(fz.t);
			n = collect(ip, tot);
			if (n != 0 || drops_total(d0) - before != 1 ||
			    d0[SL_CNET_DROP_NO_NEIGH] !=
				    d1[SL_CNET_DROP_NO_NEIGH] + 1)
				abort();
		} else {
			set_neigh(hold_ifx, hold_ip, mac_late, false);
			sl_cnet_thread_poll(fz.t);
			n = collect(ip, tot);
			if (n + (drops_total(d0) - before) != 1)
				abort();
			set_neigh(hold_ifx, hold_ip, mac_late, true);
		}
		if (held_total(&slot) != 0)
			abort();
	}
	if (sl_mempool_in_use_count(fz.pool) != fz.baseline)
		abort();
	return 0;
}
