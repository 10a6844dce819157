/*
 * afxdp-dut: the sluice side of bench-afxdp, one lport (net_af_xdp by
 * default) on one pinned thread:
 *   rxdrop   receive bursts and free them (count at the DUT)
 *   macswap  receive, swap the Ethernet addresses, send back
 * It is sl-pkt's rx/echo loop without what a benchmark does not need:
 * no per-packet checks or counters, no clock read per burst, no TX call
 * (and its sendto()) when nothing arrived. --idle-us backs off after an
 * empty poll: a consumer that re-reads the RX ring's producer index in a
 * tight loop takes its cache line away from the kernel writing it on the
 * other core, which then receives less (in SKB mode the kernel publishes
 * the index once per packet). A sample line is printed
 * every --interval seconds from the same thread (JSON, "t" in
 * CLOCK_MONOTONIC seconds), a summary at the end; SIGTERM stops it.
 * Exit: 0; 1 failed; 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <sluice/sl_common.h>
#include <sluice/sl_log.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>
#include <sluice/sl_thread.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* Linux >= 6.17: descriptors one sendto() of a copy-mode socket sends */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif
#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif
#define DUT_MAX_BURST 256

struct opts {
	struct sl_port_cfg cfg;
	bool macswap, json;
	unsigned burst, pool_n, tx_budget;
	double seconds, interval, wait_link, idle_us;
	int cpu;
};

struct counts {
	uint64_t rx, tx, txfail, polls, empty;
	unsigned napi_id; /* of the socket: 0 = busy polling has nothing */
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sample(const struct counts *c, double t, bool summary, double secs)
{
	if (summary)
		printf("{\"summary\":true,\"t\":%.6f,\"seconds\":%.6f,"
		       "\"rx\":%" PRIu64 ",\"tx\":%" PRIu64
		       ",\"txfail\":%" PRIu64 ",\"polls\":%" PRIu64
		       ",\"empty\":%" PRIu64 ",\"napi_id\":%u}\n",
		       t, secs, c->rx, c->tx, c->txfail, c->polls, c->empty,
		       c->napi_id);
	else
		printf("{\"t\":%.6f,\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 "}\n",
		       t, c->rx, c->tx);
	fflush(stdout);
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

/* CPU pause hints that last about us microseconds here. */
static unsigned
pauses_for(double us)
{
	double t0, t;
	unsigned i;

	if (!(us > 0))
		return 0;
	t0 = now_s();
	for (i = 0; i < 100000; i++)
		sl_pause();
	t = now_s() - t0;
	return t > 0 ? (unsigned)(us * 1e-6 * 100000 / t + 0.5) : 1;
}

/* The loop; the clock is read every 256 polls only. */
static void
run(const struct opts *o, struct sl_port *port, struct counts *c)
{
	struct sl_mbuf *pkts[DUT_MAX_BURST];
	uint16_t burst = (uint16_t)o->burst;
	unsigned i, n, sent, k = 0, idle = pauses_for(o->idle_us);
	double t0 = now_s(), t, next = t0 + o->interval;
	double end = t0 + o->seconds;

	while (!stop) {
		if (++k == 256) {
			k = 0;
			t = now_s();
			if (t >= end)
				break;
			if (o->interval > 0 && t >= next) {
				sample(c, t, false, 0);
				next += o->interval;
			}
		}
		c->polls++;
		n = sl_pktdev_rx_burst(port, pkts, burst);
		if (n == 0) {
			c->empty++;
			for (i = 0; i < idle; i++)
				sl_pause();
			continue;
		}
		c->rx += n;
		if (!o->macswap) {
			sl_mbuf_free_bulk(pkts, n);
			continue;
		}
		for (i = 0; i < n; i++)
			swap_macs(pkts[i]);
		sent = sl_pktdev_tx_burst(port, pkts, (uint16_t)n);
		if (unlikely(sent < n)) {
			c->txfail += n - sent;
			sl_mbuf_free_bulk(pkts + sent, n - sent);
		}
		c->tx += sent;
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: afxdp-dut --ifname IF [options]\n"
		"  --mode rxdrop|macswap   (default rxdrop)\n"
		"  --backend NAME          (default net_af_xdp)\n"
		"  --ifname IF --qid N     device and queue\n"
		"  --options k=v,...       lport options (e.g. mode=native,"
		"busy_poll=yes)\n"
		"  --burst N               1..%d (default 32)\n"
		"  --ring N                RX and TX ring entries (default "
		"2048)\n"
		"  --pool N                frames in the pool (default 16384)\n"
		"  --tx-budget N           XDP_MAX_TX_SKB_BUDGET of the socket "
		"(0: kernel default)\n"
		"  --idle-us U             back off U microseconds after an "
		"empty poll (default 0)\n"
		"  --seconds S             run time (default 10)\n"
		"  --interval S            sample period (default 0.5; 0: "
		"none)\n"
		"  --wait-link S           wait for the link first (default "
		"5)\n"
		"  --cpu C                 pin to CPU C\n"
		"  --log LEVELS\n",
		DUT_MAX_BURST);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"mode", 1, NULL, 'm'},	     {"backend", 1, NULL, 'b'},
		{"ifname", 1, NULL, 'i'},    {"qid", 1, NULL, 'q'},
		{"options", 1, NULL, 'o'},   {"burst", 1, NULL, 'B'},
		{"ring", 1, NULL, 'r'},	     {"pool", 1, NULL, 'n'},
		{"tx-budget", 1, NULL, 'T'}, {"seconds", 1, NULL, 't'},
		{"idle-us", 1, NULL, 'P'},   {"interval", 1, NULL, 'I'},
		{"wait-link", 1, NULL, 'W'}, {"cpu", 1, NULL, 'C'},
		{"log", 1, NULL, 'l'},	     {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned ring;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "macswap") == 0)
				o->macswap = true;
			else if (strcmp(optarg, "rxdrop") != 0)
				goto bad;
			break;
		case 'b':
			o->cfg.backend = optarg;
			break;
		case 'i':
			o->cfg.ifname = optarg;
			break;
		case 'q':
			o->cfg.qid = (uint16_t)atoi(optarg);
			break;
		case 'o':
			o->cfg.options = optarg;
			break;
		case 'B':
			o->burst = (unsigned)atoi(optarg);
			break;
		case 'r':
			ring = (unsigned)atoi(optarg);
			if (ring == 0 || ring > 16384)
				goto bad;
			o->cfg.rx_desc = o->cfg.tx_desc = (uint16_t)ring;
			break;
		case 'n':
			o->pool_n = (unsigned)atoi(optarg);
			break;
		case 'T':
			o->tx_budget = (unsigned)atoi(optarg);
			break;
		case 'P':
			o->idle_us = atof(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'I':
			o->interval = atof(optarg);
			break;
		case 'W':
			o->wait_link = atof(optarg);
			break;
		case 'C':
			o->cpu = atoi(optarg);
			break;
		case 'l':
			if (sl_log_set_levels(optarg) < 0)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->cfg.ifname == NULL || o->burst == 0 ||
	    o->burst > DUT_MAX_BURST || !(o->seconds > 0) || o->interval < 0 ||
	    o->pool_n < 1024 || o->idle_us < 0 || o->idle_us > 1000) {
		fprintf(stderr,
			"afxdp-dut: --ifname is required; --burst "
			"1..256, --seconds > 0, --pool >= 1024, --idle-us "
			"0..1000\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "afxdp-dut: bad value '%s'\n", optarg);
	return -EINVAL;
}

/* The backend's own counters, on one line of stderr. */
static void
print_xstats(struct sl_port *port)
{
	struct sl_port_xstat xs[32];
	int i, n;

	n = sl_pktdev_xstats_get(port, xs, SL_DIM(xs));
	if (n <= 0)
		return;
	fprintf(stderr, "afxdp-dut: xstats");
	for (i = 0; i < n && i < (int)SL_DIM(xs); i++)
		fprintf(stderr, " %s %" PRIu64, xs[i].name, xs[i].value);
	fprintf(stderr, "\n");
}

/* Poll the link until it is up (or a backend without link state). */
static int
wait_up(struct sl_port *port, double secs)
{
	struct timespec ms = {0, 1000000};
	struct sl_port_link link;
	double end = now_s() + secs;
	int err;

	for (;;) {
		err = sl_pktdev_link_get(port, &link);
		if (err == -ENOTSUP || (err == 0 && link.up))
			return 0;
		if (stop || now_s() >= end)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.cfg = {.name = "dut",
			.backend = "net_af_xdp",
			.rx_desc = 2048,
			.tx_desc = 2048},
		.burst = 32,
		.pool_n = 16384,
		.seconds = 10,
		.interval = 0.5,
		.wait_link = 5,
		.cpu = -1,
	};
	struct sl_mbuf_pool_cfg pcfg = {
		.name = "dut", .frame_size = 2048, .cache_size = 256};
	struct sl_port_stats st;
	struct counts c = {0};
	struct sl_port *port;
	double t0, t1;
	int rc = 0, fd, err;

	if (parse(argc, argv, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pcfg.n = o.pool_n;
	if (sl_thread_register("afxdp-dut") < 0)
		return 1;
	if (o.cpu >= 0 && (err = sl_cpu_pin(o.cpu)) < 0) {
		fprintf(stderr, "afxdp-dut: pinning to CPU %d: %s\n", o.cpu,
			sl_strerror(err));
		return 1;
	}
	o.cfg.pool = sl_mbuf_pool_create(&pcfg);
	if (o.cfg.pool == NULL) {
		fprintf(stderr, "afxdp-dut: pool of %u frames: %s\n", o.pool_n,
			strerror(errno));
		return 1;
	}
	port = sl_pktdev_open(&o.cfg);
	if (port == NULL) {
		fprintf(stderr, "afxdp-dut: cannot open %s on %s: %s\n",
			o.cfg.backend, o.cfg.ifname, strerror(errno));
		rc = 1;
		goto free_pool;
	}
	if (o.tx_budget != 0) {
		fd = sl_pktdev_rx_fd(port);
		if (fd < 0 ||
		    setsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &o.tx_budget,
			       sizeof(o.tx_budget)) < 0) {
			fprintf(stderr,
				"afxdp-dut: XDP_MAX_TX_SKB_BUDGET %u: %s "
				"(needs Linux >= 6.17 and a TX ring at least "
				"that large)\n",
				o.tx_budget,
				fd < 0 ? sl_strerror(fd) : strerror(errno));
			rc = 1;
			goto close_port;
		}
	}
	if (sl_pktdev_start(port) < 0 || wait_up(port, o.wait_link) < 0) {
		fprintf(stderr,
			"afxdp-dut: %s did not start or its link is "
			"down\n",
			o.cfg.ifname);
		rc = 1;
		goto close_port;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	t0 = now_s();
	run(&o, port, &c);
	t1 = now_s();
	fd = sl_pktdev_rx_fd(port);
	if (fd >= 0) {
		socklen_t len = sizeof(c.napi_id);

		(void)getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID,
				 &c.napi_id, &len);
	}
	sample(&c, t1, true, t1 - t0);
	if (sl_pktdev_stats_get(port, &st) == 0)
		fprintf(stderr,
			"afxdp-dut: ipackets %" PRIu64 " opackets %" PRIu64
			" imissed %" PRIu64 " rx_nombuf %" PRIu64 "\n",
			st.ipackets, st.opackets, st.imissed, st.rx_nombuf);
	print_xstats(port);
close_port:
	sl_pktdev_close(port);
free_pool:
	sl_mempool_cache_flush(o.cfg.pool);
	sl_mempool_destroy(o.cfg.pool);
	sl_thread_unregister();
	return rc;
}
