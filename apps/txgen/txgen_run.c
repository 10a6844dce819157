/*
 * sluice-txgen threads. Each "txgen" thread sends on its TX lports (its
 * share of the rate and count, a token bucket on the TSC, frames from
 * the per-flow templates) and receives on its RX lports (own frames by
 * their stamp: latency, order; the rest counted as foreign). When every
 * sender has stopped, the receivers keep draining until every frame sent
 * came back or TXGEN_DRAIN_NS passed, then return, which ends the app.
 *
 * The XDP engine sends with sl_xdpgen instead: its own pthread, started
 * by the thread of the first TX lport (so on that thread's CPUs), runs
 * sl_xdpgen_run() for the duration or the count.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sl_log.h>
#include <sluice/sl_time.h>
#ifdef TXGEN_HAVE_XDPGEN
#include <sluice/sl_xdpgen.h>
#endif

#include "txgen.h"

/* Fallback source MAC of an lport without one (net_ring, net_memif). */
static const uint8_t txgen_default_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

static void
sender_done(struct txgen *tg, uint64_t end_ns)
{
	uint64_t cur = __atomic_load_n(&tg->tx_end_ns, __ATOMIC_RELAXED);

	while (cur < end_ns &&
	       !__atomic_compare_exchange_n(&tg->tx_end_ns, &cur, end_ns, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_sub_fetch(&tg->senders, 1, __ATOMIC_RELEASE);
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* True once every sender stopped and every frame came back, or the
 * drain time passed. */
static bool
drain_over(struct txgen *tg)
{
	uint64_t sent = 0, got = 0;
	uint32_t i, k;
	bool rx = false;

	if (__atomic_load_n(&tg->senders, __ATOMIC_ACQUIRE) > 0)
		return false;
	for (i = 0; i < tg->nthreads; i++) {
		const struct txgen_thread *th = tg->threads[i];

		rx |= th->nrx != 0;
		for (k = 0; k < SL_CONFIG_THREAD_PORTS; k++) {
			sent += load(&th->st[k].tx_pkts);
			got += load(&th->st[k].rx_own);
		}
	}
	sent += __atomic_load_n(&tg->xdp_sent, __ATOMIC_RELAXED);
	if (!rx || got >= sent ||
	    sl_time_ns() >= __atomic_load_n(&tg->tx_end_ns, __ATOMIC_RELAXED) +
				    TXGEN_DRAIN_NS) {
		__atomic_store_n(&tg->finished, true, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

/* Receive one burst on every RX lport. @return frames received. */
static unsigned
rx_round(struct txgen_thread *th)
{
	const struct txgen_opts *o = &th->tg->o;
	struct sl_mbuf *pkts[TXGEN_RX_BURST];
	bool xdp = o->engine == TXGEN_ENGINE_XDP;
	uint64_t now, bytes, own, lat;
	struct txgen_stamp st;
	unsigned total = 0;
	uint32_t i, k, n;

	for (i = 0; i < th->nrx; i++) {
		n = sl_pktdev_rx_burst(th->rx[i].port, pkts, TXGEN_RX_BURST);
		if (n == 0)
			continue;
		now = sl_time_ns();
		bytes = 0;
		own = 0;
		for (k = 0; k < n; k++) {
			struct sl_mbuf *m = pkts[k];
			const uint8_t *p = sl_mbuf_mtod(m, const uint8_t *);

			if (k + 1 < n)
				sl_prefetch0(sl_mbuf_data_addr(pkts[k + 1]));
			bytes += m->pkt_len;
			if (unlikely(xdp)) {
				own += txgen_pkt_match_xdp(p, m->data_len,
							   o->pkt.dst_ip,
							   o->pkt.dst_port);
				continue;
			}
			if (!txgen_pkt_parse(p, m->data_len, &st))
				continue;
			own++;
			lat = now > st.ns ? now - st.ns : 0;
			txgen_hist_add(&th->hist, lat);
			if (unlikely(!txgen_order_check(&th->order, &st)))
				th->out_of_order++;
		}
		sl_mbuf_free_bulk(pkts, n);
		th->rx[i].st->rx_pkts += n;
		th->rx[i].st->rx_bytes += bytes;
		th->rx[i].st->rx_own += own;
		th->rx[i].st->rx_foreign += n - own;
		total += n;
	}
	return total;
}

/* Send one burst (as many frames as the bucket allows) on the next TX
 * lport. @return frames offered. */
static unsigned
tx_round(struct txgen_thread *th, uint64_t now)
{
	struct txgen *tg = th->tg;
	const struct txgen_tmpl *tm = &tg->tmpl;
	struct sl_mbuf *pkts[TXGEN_BURST_MAX];
	uint32_t n = tg->o.burst, size = tm->size, i, sent;
	struct txgen_txq *q;
	uint64_t ns, dt;

	if (th->rate != 0) {
		dt = now - th->last_tsc;
		th->last_tsc = now;
		if (dt > tg->hz)
			dt = tg->hz;
		th->credit += dt * th->rate;
		if (th->credit > th->depth)
			th->credit = th->depth;
		if (th->credit < th->batch)
			return 0;
		if (th->credit < (uint64_t)n * tg->hz)
			n = (uint32_t)(th->credit / tg->hz);
	}
	if (th->limit != 0 && th->remaining < n)
		n = (uint32_t)th->remaining;
	q = &th->tx[th->txi];
	if (++th->txi == th->ntx)
		th->txi = 0;
	if (unlikely(sl_mbuf_alloc_bulk(q->pool, pkts, n) < 0)) {
		q->st->no_mbuf++;
		return 0;
	}
	ns = sl_time_ns();
	for (i = 0; i < n; i++) {
		struct sl_mbuf *m = pkts[i];
		uint8_t *p = sl_mbuf_mtod(m, uint8_t *);

		txgen_pkt_write(tm, p, th->flow, q->stream, q->seq++, ns);
		if (q->patch_mac)
			memcpy(p + 6, q->mac, 6);
		m->data_len = (uint16_t)size;
		m->pkt_len = size;
		if (++th->flow == tm->flows)
			th->flow = 0;
	}
	sent = sl_pktdev_tx_burst(q->port, pkts, (uint16_t)n);
	if (unlikely(sent < n)) {
		sl_mbuf_free_bulk(pkts + sent, n - sent);
		q->st->tx_full += n - sent;
	}
	q->st->tx_pkts += sent;
	q->st->tx_bytes += (uint64_t)sent * size;
	if (th->rate != 0)
		th->credit -= (uint64_t)n * tg->hz;
	if (th->limit != 0)
		th->remaining -= sent;
	return n;
}

/* Empty bursts on the TX lports: a backend that holds frames the kernel
 * could not take yet (net_af_packet) offers them again, net_af_xdp kicks
 * the kernel and takes back the frames it has sent. */
static void
tx_flush(struct txgen_thread *th)
{
	struct sl_mbuf *none[1];
	uint32_t i;

	for (i = 0; i < th->ntx; i++)
		(void)sl_pktdev_tx_burst(th->tx[i].port, none, 0);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

#ifdef TXGEN_HAVE_XDPGEN
static void *
xdp_main(void *arg)
{
	struct txgen *tg = arg;
	struct sl_xdpgen_stats st;
	sigset_t set;
	double secs = tg->o.duration;
	int err;

	/* the app's main thread takes the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (secs == 0 && tg->o.count == 0)
		secs = 1e9; /* until stopped */
	memset(&st, 0, sizeof(st));
	tg->xdp_start_ns = sl_time_ns();
	err = sl_xdpgen_run(tg->xdp, tg->o.count, secs, &st);
	if (err < 0) {
		sl_log(SL_LOG_ERR, "txgen", "XDP engine on %s: %s",
		       tg->o.xdp_ifname, sl_strerror(err));
		if (sl_xdpgen_stats_get(tg->xdp, &st) < 0)
			memset(&st, 0, sizeof(st));
	}
	tg->xdp_err = err;
	tg->xdp_bytes = st.bytes;
	__atomic_store_n(&tg->xdp_sent, st.sent, __ATOMIC_RELAXED);
	__atomic_store_n(&tg->xdp_done, 1, __ATOMIC_RELEASE);
	sender_done(tg, sl_time_ns());
	return NULL;
}
#endif

int
txgen_thread_fn(struct sl_app_thread *t)
{
	struct txgen_thread *th = t->priv;
	struct txgen *tg = th->tg;
	bool sending = th->sender;
	uint64_t now, end_tsc, next_check = 0;
	unsigned nrx;

	th->last_tsc = sl_tsc();
	th->tx_start_ns = sl_time_ns();
	end_tsc = tg->o.duration > 0
			  ? th->last_tsc +
				    (uint64_t)(tg->o.duration * (double)tg->hz)
			  : UINT64_MAX;
	th->remaining = th->limit;
#ifdef TXGEN_HAVE_XDPGEN
	if (th->xdp_owner) {
		/* the generator inherits this thread's CPUs */
		int err = pthread_create(&tg->xdp_tid, NULL, xdp_main, tg);

		if (err != 0) {
			sender_done(tg, sl_time_ns());
			return -err;
		}
		tg->xdp_started = true;
	}
#endif
	while (sl_app_running(t)) {
		nrx = th->nrx != 0 ? rx_round(th) : 0;
		now = sl_tsc();
		if (sending) {
			if (now >= end_tsc ||
			    (th->limit != 0 && th->remaining == 0)) {
				sending = false;
				th->tx_end_ns = sl_time_ns();
				sender_done(tg, th->tx_end_ns);
				continue;
			}
			if (tx_round(th, now) == 0 && nrx == 0)
				sl_pause();
			continue;
		}
		if (th->ntx != 0)
			tx_flush(th);
		if (now >= next_check) {
			next_check = now + tg->hz / 1000;
			if (drain_over(tg))
				break;
		}
		if (th->nrx == 0)
			sleep_ms(1);
		else
			sl_app_idle(t, nrx);
	}
	if (sending) {
		th->tx_end_ns = sl_time_ns();
		sender_done(tg, th->tx_end_ns);
	}
	return 0;
}

/* The lports, rate and count of every thread; streams; MACs. */
int
txgen_threads_setup(struct txgen *tg)
{
	const struct txgen_opts *o = &tg->o;
	uint32_t i, k, lp, nsend = 0, j = 0, stream = 0;
	struct txgen_thread *th;
	struct sl_app_thread *t;
	uint64_t min_batch;
	bool xdp_owner_set = false;

	tg->hz = sl_tsc_hz();
	tg->nthreads = sl_app_nthreads(tg->app);
	tg->threads =
		calloc(tg->nthreads ? tg->nthreads : 1, sizeof(*tg->threads));
	if (tg->threads == NULL)
		return -ENOMEM;
	for (i = 0; i < tg->nthreads; i++) {
		t = sl_app_thread_get(tg->app, i);
		th = aligned_alloc(SL_CACHE_LINE, sizeof(*th));
		if (th == NULL)
			return -ENOMEM;
		memset(th, 0, sizeof(*th));
		tg->threads[i] = th;
		th->tg = tg;
		th->t = t;
		t->priv = th;
		txgen_hist_init(&th->hist);
		for (k = 0; k < t->nports; k++) {
			lp = t->port_idx[k];
			th->lport[k] = lp;
			if (o->is_tx[lp] && o->engine == TXGEN_ENGINE_XDP &&
			    !xdp_owner_set) {
				th->xdp_owner = true;
				xdp_owner_set = true;
			}
			if (o->is_tx[lp] && o->engine == TXGEN_ENGINE_PKTDEV) {
				struct txgen_txq *q = &th->tx[th->ntx++];

				q->port = t->ports[k];
				q->pool = sl_app_pool(tg->app, lp);
				q->st = &th->st[k];
				q->stream = (uint8_t)stream++;
				if (!o->src_mac_set) {
					q->patch_mac = true;
					if (sl_pktdev_mac_get(q->port, q->mac) <
					    0)
						memcpy(q->mac,
						       txgen_default_mac, 6);
				}
			}
			if (o->is_rx[lp]) {
				th->rx[th->nrx].port = t->ports[k];
				th->rx[th->nrx].st = &th->st[k];
				th->nrx++;
			}
		}
		nsend += th->ntx != 0;
	}
	if (o->engine == TXGEN_ENGINE_XDP && !xdp_owner_set &&
	    tg->nthreads > 0) {
		/* xdp-ifname without a tx lport: the first thread starts it */
		tg->threads[0]->xdp_owner = true;
	}
	/* split rate and count evenly over the threads that send */
	for (i = 0; i < tg->nthreads; i++) {
		th = tg->threads[i];
		if (th->ntx == 0)
			continue;
		th->rate = o->rate / nsend + (j < o->rate % nsend);
		th->limit = o->count / nsend + (j < o->count % nsend);
		th->sender = (o->rate == 0 || th->rate != 0) &&
			     (o->count == 0 || th->limit != 0);
		j++;
		if (!th->sender)
			continue;
		tg->senders++;
		/* bucket: 10 ms of traffic, at least a burst (a thread that
		 * lost its CPU for a few ms catches up); send when about
		 * 100 us of traffic (at most a burst, at least 1) is there */
		th->depth = SL_MAX((uint64_t)o->burst, th->rate / 100) * tg->hz;
		min_batch = SL_MIN((uint64_t)o->burst, th->rate / 10000);
		th->batch = SL_MAX(min_batch, (uint64_t)1) * tg->hz;
	}
	if (o->engine == TXGEN_ENGINE_XDP)
		tg->senders++;
	return 0;
}

#ifdef TXGEN_HAVE_XDPGEN
static void
ip4_host(const uint8_t *ip, uint32_t *out)
{
	memcpy(out, ip, 4);
}

int
txgen_xdp_start(struct txgen *tg)
{
	const struct txgen_opts *o = &tg->o;
	struct sl_xdpgen_cfg c;

	memset(&c, 0, sizeof(c));
	c.ifname = o->xdp_ifname;
	if (o->src_mac_set)
		memcpy(c.src_mac, o->pkt.src_mac, 6);
	memcpy(c.dst_mac, o->pkt.dst_mac, 6);
	ip4_host(o->pkt.src_ip, &c.src_ip);
	ip4_host(o->pkt.dst_ip, &c.dst_ip);
	c.src_port = o->pkt.src_port;
	c.dst_port = o->pkt.dst_port;
	c.frame_size = (uint16_t)o->pkt.size;
	c.flows = o->pkt.flows;
	c.flow_field = SL_XDPGEN_FLOW_BOTH;
	c.rate_pps = o->rate;
	tg->xdp = sl_xdpgen_create(&c);
	if (tg->xdp == NULL)
		return -errno;
	return 0;
}

void
txgen_xdp_stop(struct txgen *tg)
{
	if (tg->xdp == NULL)
		return;
	if (tg->xdp_started) {
		sl_xdpgen_stop(tg->xdp);
		pthread_join(tg->xdp_tid, NULL);
		tg->xdp_started = false;
	}
	sl_xdpgen_destroy(tg->xdp);
	tg->xdp = NULL;
}
#else
int
txgen_xdp_start(struct txgen *tg)
{
	(void)tg;
	return -ENOTSUP;
}

void
txgen_xdp_stop(struct txgen *tg)
{
	(void)tg;
}
#endif
