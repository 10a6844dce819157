/*
 * sluice-txgen statistics: a line per lport every interval (the app's
 * tick, on the main thread) and the summary at the end, as text or as
 * one JSON object per line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_time.h>
#ifdef TXGEN_HAVE_XDPGEN
#include <sluice/sl_xdpgen.h>
#endif

#include "txgen.h"

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void
txgen_port_sum(const struct txgen *tg, uint32_t lport,
	       struct txgen_port_stats *out)
{
	uint32_t i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < tg->nthreads; i++) {
		const struct txgen_thread *th = tg->threads[i];

		for (k = 0; k < th->t->nports; k++) {
			const struct txgen_port_stats *s = &th->st[k];

			if (th->lport[k] != lport)
				continue;
			out->tx_pkts += load(&s->tx_pkts);
			out->tx_bytes += load(&s->tx_bytes);
			out->tx_full += load(&s->tx_full);
			out->no_mbuf += load(&s->no_mbuf);
			out->rx_pkts += load(&s->rx_pkts);
			out->rx_bytes += load(&s->rx_bytes);
			out->rx_own += load(&s->rx_own);
			out->rx_foreign += load(&s->rx_foreign);
		}
	}
}

static double
mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0;
}

static double
per_s(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

static bool
port_used(const struct txgen *tg, uint32_t i)
{
	return tg->o.is_rx[i] ||
	       (tg->o.is_tx[i] && tg->o.engine == TXGEN_ENGINE_PKTDEV);
}

void
txgen_banner(struct txgen *tg)
{
	const struct txgen_opts *o = &tg->o;
	const struct sl_config *cfg = tg->cfg;
	uint32_t i;

	if (o->json)
		return;
	printf(TXGEN_NAME ": %s/ipv%d, %u B frames, %u flow%s, ",
	       txgen_proto_name(o->pkt.proto), o->pkt.family, o->pkt.size,
	       o->pkt.flows, o->pkt.flows > 1 ? "s" : "");
	if (o->rate)
		printf("%" PRIu64 " pps, ", o->rate);
	else
		printf("unpaced, ");
	if (o->count)
		printf("%" PRIu64 " packets%s", o->count,
		       o->duration > 0 ? " or " : "");
	if (o->duration > 0)
		printf("%g s", o->duration);
	else if (o->count == 0)
		printf("until stopped");
	printf("; %u thread%s, engine %s", tg->nthreads,
	       tg->nthreads > 1 ? "s" : "", txgen_engine_name(o->engine));
	if (o->engine == TXGEN_ENGINE_XDP)
		printf(" on %s", o->xdp_ifname);
	printf("\n  tx:");
	for (i = 0; i < cfg->nlports; i++)
		if (o->is_tx[i])
			printf(" %s (%s)", cfg->lports[i].name,
			       cfg->lports[i].pmd);
	printf("\n  rx:");
	for (i = 0; i < cfg->nlports; i++)
		if (o->is_rx[i])
			printf(" %s (%s)", cfg->lports[i].name,
			       cfg->lports[i].pmd);
	if (o->rx_none)
		printf(" none (loss is not measured)");
	printf("\n");
	fflush(stdout);
}

void
txgen_tick(struct sl_app *app, void *arg)
{
	struct txgen *tg = arg;
	const struct sl_config *cfg = tg->cfg;
	const bool js = tg->o.json;
	struct txgen_port_stats cur, *p;
	uint64_t now = sl_time_ns(), ns;
	double dt = (double)(now - tg->last_ns) / 1e9;
	double t = (double)(now - tg->t0_ns) / 1e9;
	const char *sep = "";
	uint32_t i;

	if (dt <= 0)
		return;
	if (js) {
		printf("{\"t\":%.3f,\"seconds\":%.3f,\"lports\":{", t, dt);
	} else if (tg->ticks % 20 == 0) {
		printf("%7s  %-16s %11s %10s %11s %10s %9s %8s %9s\n", "t (s)",
		       "lport", "tx pps", "tx Mbit/s", "rx pps", "rx Mbit/s",
		       "tx_full", "no_mbuf", "foreign");
	}
	for (i = 0; i < cfg->nlports; i++) {
		if (!port_used(tg, i))
			continue;
		txgen_port_sum(tg, i, &cur);
		p = &tg->prev[i];
		if (js)
			printf("%s\"%s\":{\"tx\":%" PRIu64 ",\"rx\":%" PRIu64
			       ",\"rx_own\":%" PRIu64 ",\"tx_pps\":%.0f,"
			       "\"rx_pps\":%.0f,\"tx_mbps\":%.3f,"
			       "\"rx_mbps\":%.3f,\"tx_full\":%" PRIu64
			       ",\"no_mbuf\":%" PRIu64 ",\"foreign\":%" PRIu64
			       "}",
			       sep, cfg->lports[i].name, cur.tx_pkts,
			       cur.rx_pkts, cur.rx_own,
			       per_s(cur.tx_pkts - p->tx_pkts, dt),
			       per_s(cur.rx_pkts - p->rx_pkts, dt),
			       mbps(cur.tx_bytes - p->tx_bytes, dt),
			       mbps(cur.rx_bytes - p->rx_bytes, dt),
			       cur.tx_full, cur.no_mbuf, cur.rx_foreign);
		else
			printf("%7.1f  %-16s %11.0f %10.1f %11.0f %10.1f "
			       "%9" PRIu64 " %8" PRIu64 " %9" PRIu64 "\n",
			       t, cfg->lports[i].name,
			       per_s(cur.tx_pkts - p->tx_pkts, dt),
			       mbps(cur.tx_bytes - p->tx_bytes, dt),
			       per_s(cur.rx_pkts - p->rx_pkts, dt),
			       mbps(cur.rx_bytes - p->rx_bytes, dt),
			       cur.tx_full, cur.no_mbuf, cur.rx_foreign);
		sep = ",";
		*p = cur;
	}
#ifdef TXGEN_HAVE_XDPGEN
	if (tg->xdp != NULL) {
		struct sl_xdpgen_stats xs;

		if (sl_xdpgen_stats_get(tg->xdp, &xs) == 0) {
			if (js)
				printf("%s\"xdp:%s\":{\"tx\":%" PRIu64
				       ",\"tx_pps\":%.0f,\"tx_mbps\":%.3f}",
				       sep, tg->o.xdp_ifname, xs.sent,
				       per_s(xs.sent - tg->xdp_prev_sent, dt),
				       mbps(xs.bytes - tg->xdp_prev_bytes, dt));
			else
				printf("%7.1f  xdp:%-12s %11.0f %10.1f\n", t,
				       tg->o.xdp_ifname,
				       per_s(xs.sent - tg->xdp_prev_sent, dt),
				       mbps(xs.bytes - tg->xdp_prev_bytes, dt));
			tg->xdp_prev_sent = xs.sent;
			tg->xdp_prev_bytes = xs.bytes;
		}
	}
#endif
	printf(js ? "},\"threads\":{" : "%9s cpu:", "");
	sep = "";
	for (i = 0; i < tg->nthreads; i++) {
		struct txgen_thread *th = tg->threads[i];

		if (sl_app_thread_cpu_ns(app, i, &ns) < 0)
			ns = th->cpu_prev;
		if (js)
			printf("%s\"%s\":{\"cpu\":%.3f}", sep, th->t->cfg->name,
			       (double)(ns - th->cpu_prev) / (dt * 1e9));
		else
			printf(" %s %.1f%%", th->t->cfg->name,
			       (double)(ns - th->cpu_prev) / (dt * 1e9) * 100);
		th->cpu_prev = ns;
		sep = ",";
	}
	printf(js ? "}}\n" : "\n");
	fflush(stdout);
	tg->last_ns = now;
	tg->ticks++;
}

/* The backend's counters of lport i (drops it saw), zero if unknown. */
static void
port_stats(const struct txgen *tg, uint32_t i, struct sl_port_stats *ps)
{
	if (sl_pktdev_stats_get(sl_app_port(tg->app, i), ps) < 0)
		memset(ps, 0, sizeof(*ps));
}

int
txgen_summary(struct txgen *tg, unsigned in_use_start, unsigned in_use_end)
{
	const struct txgen_opts *o = &tg->o;
	const struct sl_config *cfg = tg->cfg;
	struct txgen_port_stats tot, cur;
	struct sl_port_stats ps;
	struct txgen_hist *h = calloc(1, sizeof(*h));
	uint64_t start = UINT64_MAX, lost, extra, ooo = 0;
	bool rx = false, lat, interrupted = !tg->finished;
	double secs, loss_pct;
	const char *sep = "";
	uint32_t i;
	int rc = 0;

	if (h == NULL)
		return 1;
	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < cfg->nlports; i++) {
		if (!port_used(tg, i))
			continue;
		txgen_port_sum(tg, i, &cur);
		tot.tx_pkts += cur.tx_pkts;
		tot.tx_bytes += cur.tx_bytes;
		tot.tx_full += cur.tx_full;
		tot.no_mbuf += cur.no_mbuf;
		tot.rx_pkts += cur.rx_pkts;
		tot.rx_bytes += cur.rx_bytes;
		tot.rx_own += cur.rx_own;
		tot.rx_foreign += cur.rx_foreign;
	}
	for (i = 0; i < tg->nthreads; i++) {
		const struct txgen_thread *th = tg->threads[i];

		rx |= th->nrx != 0;
		ooo += th->out_of_order;
		txgen_hist_merge(h, &th->hist);
		if (th->sender && th->tx_start_ns < start)
			start = th->tx_start_ns;
	}
	if (o->engine == TXGEN_ENGINE_XDP) {
		tot.tx_pkts = tg->xdp_sent;
		tot.tx_bytes = tg->xdp_bytes;
		start = tg->xdp_start_ns;
	}
	secs = start != UINT64_MAX && tg->tx_end_ns > start
		       ? (double)(tg->tx_end_ns - start) / 1e9
		       : 0;
	lost = rx && tot.tx_pkts > tot.rx_own ? tot.tx_pkts - tot.rx_own : 0;
	extra = tot.rx_own > tot.tx_pkts ? tot.rx_own - tot.tx_pkts : 0;
	loss_pct = tot.tx_pkts ? (double)lost * 100 / (double)tot.tx_pkts : 0;
	lat = h->count != 0;

	if (o->json) {
		printf("{\"summary\":true,\"engine\":\"%s\",\"proto\":\"%s\","
		       "\"family\":\"ipv%d\",\"size\":%u,\"flows\":%u,"
		       "\"rate\":%" PRIu64 ",\"threads\":%u,\"seconds\":%.6f,"
		       "\"sent\":%" PRIu64 ",\"sent_bytes\":%" PRIu64
		       ",\"received\":%" PRIu64 ",\"received_bytes\":%" PRIu64
		       ",\"foreign\":%" PRIu64 ",\"rx_checked\":%s,"
		       "\"lost\":%" PRIu64 ",\"loss_pct\":%.6f,"
		       "\"extra\":%" PRIu64 ",\"out_of_order\":%" PRIu64
		       ",\"tx_full\":%" PRIu64 ",\"no_mbuf\":%" PRIu64
		       ",\"tx_pps\":%.0f,\"rx_pps\":%.0f,\"tx_mbps\":%.3f,"
		       "\"rx_mbps\":%.3f,",
		       txgen_engine_name(o->engine),
		       txgen_proto_name(o->pkt.proto), o->pkt.family,
		       o->pkt.size, o->pkt.flows, o->rate, tg->nthreads, secs,
		       tot.tx_pkts, tot.tx_bytes, tot.rx_own, tot.rx_bytes,
		       tot.rx_foreign, rx ? "true" : "false", lost, loss_pct,
		       extra, ooo, tot.tx_full, tot.no_mbuf,
		       per_s(tot.tx_pkts, secs), per_s(tot.rx_own, secs),
		       mbps(tot.tx_bytes, secs), mbps(tot.rx_bytes, secs));
		if (lat)
			printf("\"latency_ns\":{\"samples\":%" PRIu64
			       ",\"min\":%" PRIu64
			       ",\"mean\":%.1f,\"p50\":%" PRIu64
			       ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
			       ",\"max\":%" PRIu64 "},",
			       h->count, h->min, txgen_hist_mean(h),
			       txgen_hist_percentile(h, 50),
			       txgen_hist_percentile(h, 90),
			       txgen_hist_percentile(h, 99), h->max);
		printf("\"mbufs_in_use\":%u,\"mbufs_in_use_start\":%u,"
		       "\"interrupted\":%s,\"lports\":{",
		       in_use_end, in_use_start,
		       interrupted ? "true" : "false");
		for (i = 0; i < cfg->nlports; i++) {
			if (!port_used(tg, i))
				continue;
			txgen_port_sum(tg, i, &cur);
			port_stats(tg, i, &ps);
			printf("%s\"%s\":{\"tx\":%" PRIu64 ",\"rx\":%" PRIu64
			       ",\"rx_own\":%" PRIu64 ",\"foreign\":%" PRIu64
			       ",\"tx_full\":%" PRIu64 ",\"no_mbuf\":%" PRIu64
			       ",\"imissed\":%" PRIu64 ",\"ierrors\":%" PRIu64
			       ",\"oerrors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64
			       "}",
			       sep, cfg->lports[i].name, cur.tx_pkts,
			       cur.rx_pkts, cur.rx_own, cur.rx_foreign,
			       cur.tx_full, cur.no_mbuf, ps.imissed, ps.ierrors,
			       ps.oerrors, ps.rx_nombuf);
			sep = ",";
		}
		printf("}}\n");
	} else {
		printf("summary: sent %" PRIu64 " frames (%" PRIu64
		       " bytes) in %.3f s: %.4f Mpps, %.1f Mbit/s%s\n",
		       tot.tx_pkts, tot.tx_bytes, secs,
		       per_s(tot.tx_pkts, secs) / 1e6, mbps(tot.tx_bytes, secs),
		       interrupted ? " (interrupted)" : "");
		if (rx)
			printf("  received %" PRIu64 " of them, lost %" PRIu64
			       " (%.4f %%), %" PRIu64 " extra, %" PRIu64
			       " out of order; %" PRIu64 " foreign frames\n",
			       tot.rx_own, lost, loss_pct, extra, ooo,
			       tot.rx_foreign);
		else
			printf("  nothing received (rx-lports none): loss "
			       "not measured\n");
		printf("  not sent: %" PRIu64 " refused by the lport "
		       "(tx_full), %" PRIu64 " bursts without mbufs\n",
		       tot.tx_full, tot.no_mbuf);
		for (i = 0; i < cfg->nlports; i++) {
			if (!port_used(tg, i))
				continue;
			port_stats(tg, i, &ps);
			if (ps.imissed || ps.ierrors || ps.oerrors ||
			    ps.rx_nombuf)
				printf("  lport %s: imissed %" PRIu64
				       ", ierrors %" PRIu64 ", oerrors %" PRIu64
				       ", rx_nombuf %" PRIu64 "\n",
				       cfg->lports[i].name, ps.imissed,
				       ps.ierrors, ps.oerrors, ps.rx_nombuf);
		}
		if (lat)
			printf("  latency (ns): min %" PRIu64 ", mean %.0f, "
			       "p50 %" PRIu64 ", p90 %" PRIu64 ", p99 %" PRIu64
			       ", max %" PRIu64 " (%" PRIu64 " samples)\n",
			       h->min, txgen_hist_mean(h),
			       txgen_hist_percentile(h, 50),
			       txgen_hist_percentile(h, 90),
			       txgen_hist_percentile(h, 99), h->max, h->count);
		else if (rx && o->engine == TXGEN_ENGINE_XDP)
			printf("  latency: not measured (the XDP engine's "
			       "frames carry no time stamp)\n");
		printf("  mbufs in use: %u at the end, %u at the start\n",
		       in_use_end, in_use_start);
	}
	if (tot.tx_pkts == 0) {
		fprintf(stderr, TXGEN_NAME ": FAIL: nothing was sent\n");
		rc = 1;
	}
	if (o->max_loss >= 0 && loss_pct > o->max_loss) {
		fprintf(stderr,
			TXGEN_NAME ": FAIL: lost %.4f %% of the frames, above "
				   "--max-loss %g %%\n",
			loss_pct, o->max_loss);
		rc = 1;
	}
	fflush(stdout);
	free(h);
	return rc;
}
