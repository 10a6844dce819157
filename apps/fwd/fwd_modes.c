/*
 * The data path of sluice-fwd: one loop per mode. Every loop polls the
 * thread's lports in turn, hands each burst to the mode and tells the
 * idle logic how many packets the round saw. Counters are plain stores
 * into the lport's RX or TX half (each written by one thread only).
 */
#include <string.h>
#include <arpa/inet.h>

#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>

#include "fwd.h"

const char *const fwd_mode_names[FWD_MODE_MAX] = {
	[FWD_DROP] = "drop",	   [FWD_RX_ONLY] = "rx-only",
	[FWD_TX_ONLY] = "tx-only", [FWD_LOOPBACK] = "loopback",
	[FWD_L2] = "fwd",	   [FWD_L3] = "l3fwd",
};

const char *const fwd_drop_names[FWD_DROP_MAX] = {
	[FWD_DROP_MODE] = "mode",	  [FWD_DROP_TX_FULL] = "tx_full",
	[FWD_DROP_NO_ROUTE] = "no_route", [FWD_DROP_NOT_IP] = "not_ip",
	[FWD_DROP_BAD_IP] = "bad_ip",	  [FWD_DROP_TTL] = "ttl",
	[FWD_DROP_NOMBUF] = "nombuf",
};

/* Per-thread view: the lports it receives on and where each sends. */
struct fwd_lane {
	struct sl_port *rx;
	struct fwd_ctr *rx_ctr;
	uint32_t out;
	struct sl_port *tx;
	struct fwd_ctr *tx_ctr;
	struct sl_mempool *pool; /* tx-only */
};

static inline uint64_t
bytes_of(struct sl_mbuf *const *pkts, unsigned n)
{
	uint64_t b = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		b += pkts[i]->pkt_len;
	return b;
}

/* Send n packets; what the lport does not take is freed and counted. */
static inline void
lane_send(struct fwd_lane *l, struct sl_mbuf **pkts, unsigned n)
{
	unsigned sent;

	if (n == 0)
		return;
	sent = sl_pktdev_tx_burst(l->tx, pkts, (uint16_t)n);
	l->tx_ctr->tx.pkts += sent;
	l->tx_ctr->tx.bytes += bytes_of(pkts, sent);
	if (unlikely(sent < n)) {
		l->tx_ctr->tx.drops[FWD_DROP_TX_FULL] += n - sent;
		sl_mbuf_free_bulk(pkts + sent, n - sent);
	}
}

static inline unsigned
lane_rx(struct fwd_lane *l, struct sl_mbuf **pkts, unsigned burst)
{
	unsigned n = sl_pktdev_rx_burst(l->rx, pkts, (uint16_t)burst);

	l->rx_ctr->rx.pkts += n;
	l->rx_ctr->rx.bytes += bytes_of(pkts, n);
	return n;
}

static unsigned
do_drop(struct fwd *f, struct fwd_lane *l, struct sl_mbuf **pkts)
{
	unsigned n = lane_rx(l, pkts, f->burst);

	if (n != 0) {
		l->rx_ctr->rx.drops[FWD_DROP_MODE] += n;
		sl_mbuf_free_bulk(pkts, n);
	}
	return n;
}

/* rx-only reads each packet's Ethernet header, as a receiver would. */
static unsigned
do_rx_only(struct fwd *f, struct fwd_lane *l, struct sl_mbuf **pkts)
{
	unsigned i, n = lane_rx(l, pkts, f->burst);
	volatile uint16_t sink = 0;
	uint16_t acc = 0;

	for (i = 0; i < n; i++)
		acc ^= sl_mbuf_mtod_offset(pkts[i], uint16_t *, 12)[0];
	sink = acc;
	(void)sink;
	if (n != 0) {
		l->rx_ctr->rx.drops[FWD_DROP_MODE] += n;
		sl_mbuf_free_bulk(pkts, n);
	}
	return n;
}

/* tx-only sends the prepared frame and drops what comes back. */
static unsigned
do_tx_only(struct fwd *f, struct fwd_lane *l, struct sl_mbuf **pkts)
{
	unsigned i, n, got = do_drop(f, l, pkts);

	n = f->burst;
	if (sl_mbuf_alloc_bulk(l->pool, pkts, n) < 0) {
		l->tx_ctr->tx.drops[FWD_DROP_NOMBUF] += n;
		return got;
	}
	for (i = 0; i < n; i++) {
		struct sl_mbuf *m = pkts[i];

		memcpy(sl_mbuf_mtod(m, void *), f->tx_frame, f->tx_size);
		m->data_len = (uint16_t)f->tx_size;
		m->pkt_len = f->tx_size;
	}
	lane_send(l, pkts, n);
	return got + n;
}

static inline void
swap_macs(struct sl_mbuf *m)
{
	uint8_t *p = sl_mbuf_mtod(m, uint8_t *);
	uint8_t t[6];

	memcpy(t, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, t, 6);
}

static unsigned
do_loopback(struct fwd *f, struct fwd_lane *l, struct sl_mbuf **pkts)
{
	unsigned i, n = lane_rx(l, pkts, f->burst);

	for (i = 0; i < n; i++)
		swap_macs(pkts[i]);
	lane_send(l, pkts, n);
	return n;
}

static unsigned
do_l2(struct fwd *f, struct fwd_lane *l, struct sl_mbuf **pkts)
{
	unsigned n = lane_rx(l, pkts, f->burst);

	lane_send(l, pkts, n);
	return n;
}

/* ---- l3fwd ---------------------------------------------------------------
 */

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86DD

/* Decrement the IPv4 TTL and update the checksum (RFC 1624). */
static inline void
ip4_ttl_dec(uint8_t *ip)
{
	uint32_t sum;
	uint16_t ck;

	ip[8]--;
	memcpy(&ck, ip + 10, 2);
	sum = (uint32_t)ck + htons(0x0100);
	ck = (uint16_t)(sum + (sum >> 16));
	memcpy(ip + 10, &ck, 2);
}

/* Classify one packet: its next hop id (0: dropped and counted). */
static inline int
l3_key(struct fwd_lane *l, struct sl_mbuf *m, uint32_t *ip4, uint8_t *ip6)
{
	const uint8_t *p = sl_mbuf_mtod(m, const uint8_t *);
	uint16_t et;

	if (unlikely(m->data_len < ETH_HLEN + 20)) {
		l->rx_ctr->rx.drops[FWD_DROP_BAD_IP]++;
		return -1;
	}
	et = (uint16_t)(p[12] << 8 | p[13]);
	if (et == ETH_P_IPV4) {
		if (unlikely((p[ETH_HLEN] >> 4) != 4 ||
			     (p[ETH_HLEN] & 0xf) < 5)) {
			l->rx_ctr->rx.drops[FWD_DROP_BAD_IP]++;
			return -1;
		}
		if (unlikely(p[ETH_HLEN + 8] <= 1)) {
			l->rx_ctr->rx.drops[FWD_DROP_TTL]++;
			return -1;
		}
		*ip4 = (uint32_t)p[ETH_HLEN + 16] << 24 |
		       (uint32_t)p[ETH_HLEN + 17] << 16 |
		       (uint32_t)p[ETH_HLEN + 18] << 8 | p[ETH_HLEN + 19];
		return 4;
	}
	if (et == ETH_P_IPV6) {
		if (unlikely(m->data_len < ETH_HLEN + 40 ||
			     (p[ETH_HLEN] >> 4) != 6)) {
			l->rx_ctr->rx.drops[FWD_DROP_BAD_IP]++;
			return -1;
		}
		if (unlikely(p[ETH_HLEN + 7] <= 1)) {
			l->rx_ctr->rx.drops[FWD_DROP_TTL]++;
			return -1;
		}
		memcpy(ip6, p + ETH_HLEN + 24, 16);
		return 6;
	}
	l->rx_ctr->rx.drops[FWD_DROP_NOT_IP]++;
	return -1;
}

/* Rewrite a packet for next hop nh and queue it on its output lport. */
static inline void
l3_out(struct fwd *f, struct sl_mbuf *m, const struct fwd_nh *nh, int fam,
       struct sl_mbuf ***q, unsigned *qn)
{
	uint8_t *p = sl_mbuf_mtod(m, uint8_t *);

	memcpy(p, nh->dst_mac, 6);
	memcpy(p + 6, nh->src_mac, 6);
	if (fam == 4)
		ip4_ttl_dec(p + ETH_HLEN);
	else
		p[ETH_HLEN + 7]--;
	q[nh->port][qn[nh->port]++] = m;
	(void)f;
}

static unsigned
do_l3(struct fwd *f, struct fwd_lane *lanes, struct fwd_lane *l,
      struct sl_mbuf **pkts, struct sl_mbuf ***q, unsigned *qn, uint32_t *outs,
      unsigned nouts)
{
	uint32_t ip4[FWD_BURST_MAX], nh4[FWD_BURST_MAX];
	uint8_t ip6[FWD_BURST_MAX][16];
	uint32_t nh6[FWD_BURST_MAX];
	unsigned i, k, n4 = 0, n6 = 0, n = lane_rx(l, pkts, f->burst);
	struct sl_mbuf *m4[FWD_BURST_MAX], *m6[FWD_BURST_MAX];
	int fam;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		fam = l3_key(l, pkts[i], &ip4[n4], ip6[n6]);
		if (fam == 4)
			m4[n4++] = pkts[i];
		else if (fam == 6)
			m6[n6++] = pkts[i];
		else
			sl_mbuf_free(pkts[i]);
	}
	if (n4 != 0)
		sl_fib4_lookup_bulk(f->fib4, ip4, nh4, n4);
	if (n6 != 0)
		sl_fib6_lookup_bulk(f->fib6, (const uint8_t(*)[16])ip6, nh6,
				    n6);
	for (i = 0; i < n4; i++) {
		if (unlikely(nh4[i] == 0 || nh4[i] > f->nnh)) {
			l->rx_ctr->rx.drops[FWD_DROP_NO_ROUTE]++;
			sl_mbuf_free(m4[i]);
			continue;
		}
		l3_out(f, m4[i], &f->nh[nh4[i] - 1], 4, q, qn);
	}
	for (i = 0; i < n6; i++) {
		if (unlikely(nh6[i] == 0 || nh6[i] > f->nnh)) {
			l->rx_ctr->rx.drops[FWD_DROP_NO_ROUTE]++;
			sl_mbuf_free(m6[i]);
			continue;
		}
		l3_out(f, m6[i], &f->nh[nh6[i] - 1], 6, q, qn);
	}
	for (k = 0; k < nouts; k++) {
		uint32_t o = outs[k];

		if (qn[o] == 0)
			continue;
		lane_send(&lanes[o], q[o], qn[o]);
		qn[o] = 0;
	}
	return n;
}

/* ---- the thread ----------------------------------------------------------
 */

/* TX of lport p from this thread: it must be the only thread sending on
 * it (the configuration check makes sure of that). */
static void
lane_init(struct fwd *f, struct sl_app_thread *t, unsigned k,
	  struct fwd_lane *l)
{
	uint32_t in = t->port_idx[k];
	uint32_t out = f->tmode[t->idx] == FWD_L2 ? f->peer[in] : in;

	l->rx = t->ports[k];
	l->rx_ctr = &f->ctr[in];
	l->out = out;
	l->tx = sl_app_port(f->app, out);
	l->tx_ctr = &f->ctr[out];
	l->pool = sl_app_pool(f->app, in);
}

static int
l3_loop(struct fwd *f, struct sl_app_thread *t)
{
	/* one queue per lport of the app: l3fwd may send anywhere */
	struct sl_mbuf *pkts[FWD_BURST_MAX];
	struct sl_mbuf **q[SL_PORT_MAX];
	struct sl_mbuf *qmem[SL_PORT_MAX][FWD_BURST_MAX];
	struct fwd_lane out[SL_PORT_MAX];
	struct fwd_lane in[SL_CONFIG_THREAD_PORTS];
	unsigned qn[SL_PORT_MAX] = {0};
	uint32_t outs[SL_PORT_MAX];
	unsigned k, nouts = 0, total;
	uint32_t p;

	for (p = 0; p < f->nports && p < SL_PORT_MAX; p++) {
		q[p] = qmem[p];
		out[p].tx = sl_app_port(f->app, p);
		out[p].tx_ctr = &f->ctr[p];
		out[p].out = p;
	}
	for (p = 0; p < f->nnh; p++) {
		bool seen = false;

		for (k = 0; k < nouts; k++)
			seen |= outs[k] == f->nh[p].port;
		if (!seen)
			outs[nouts++] = f->nh[p].port;
	}
	for (k = 0; k < t->nports; k++)
		lane_init(f, t, k, &in[k]);
	while (sl_app_running(t)) {
		total = 0;
		for (k = 0; k < t->nports; k++)
			total +=
				do_l3(f, out, &in[k], pkts, q, qn, outs, nouts);
		sl_app_idle(t, total);
	}
	return 0;
}

int
fwd_thread(struct sl_app_thread *t)
{
	struct fwd *f = sl_app_arg(t->app);
	struct fwd_lane lanes[SL_CONFIG_THREAD_PORTS];
	struct sl_mbuf *pkts[FWD_BURST_MAX];
	unsigned (*fn)(struct fwd *, struct fwd_lane *, struct sl_mbuf **);
	unsigned k, total;

	switch (f->tmode[t->idx]) {
	case FWD_DROP:
		fn = do_drop;
		break;
	case FWD_RX_ONLY:
		fn = do_rx_only;
		break;
	case FWD_TX_ONLY:
		fn = do_tx_only;
		break;
	case FWD_LOOPBACK:
		fn = do_loopback;
		break;
	case FWD_L2:
		fn = do_l2;
		break;
	case FWD_L3:
		return l3_loop(f, t);
	default:
		return -EINVAL;
	}
	for (k = 0; k < t->nports; k++)
		lane_init(f, t, k, &lanes[k]);
	while (sl_app_running(t)) {
		total = 0;
		for (k = 0; k < t->nports; k++)
			total += fn(f, &lanes[k], pkts);
		sl_app_idle(t, total);
	}
	return 0;
}

/* ---- the tx-only frame ---------------------------------------------------
 */

static uint16_t
csum16(const uint8_t *p, unsigned len, uint32_t sum)
{
	unsigned i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet broadcast, IPv4 198.18.0.1 -> 198.18.1.1, UDP 9 -> 9 (discard),
 * padded with zeros to tx_size, checksums valid. */
void
fwd_tx_frame_build(struct fwd *f, const uint8_t src_mac[6])
{
	uint8_t *p = f->tx_frame, *ip = p + ETH_HLEN, *udp = ip + 20;
	unsigned ip_len = f->tx_size - ETH_HLEN, udp_len = ip_len - 20;
	uint32_t sum;
	uint16_t ck;

	memset(p, 0, sizeof(f->tx_frame));
	memset(p, 0xff, 6);
	memcpy(p + 6, src_mac, 6);
	p[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 1;
	ip[16] = 198, ip[17] = 18, ip[18] = 1, ip[19] = 1;
	ck = csum16(ip, 20, 0);
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	udp[1] = 9;
	udp[3] = 9;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
	/* pseudo-header: addresses, protocol, length */
	sum = (198u << 8 | 18) * 2 + 1 + (1u << 8 | 1) + 17 + udp_len;
	ck = csum16(udp, udp_len, sum);
	if (ck == 0)
		ck = 0xffff;
	udp[6] = (uint8_t)(ck >> 8);
	udp[7] = (uint8_t)ck;
}
