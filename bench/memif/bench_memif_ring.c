/*
 * bench-memif-ring: the net_ring lport loopback row of bench-memif.
 *
 * One thread on one CPU moves the same 32 mbufs round and round through a
 * loopback lport: tx_burst(32) then rx_burst(32), in a loop, for a fixed
 * time. It measures the per-burst cost of the packet API and of a ring
 * backend, with no copy and no allocation (the mbufs come back each time).
 *   sluice: net_ring with loopback=yes (one SP/SC sl_ring, 1024 slots,
 *           that the lport both sends into and receives from);
 *   peer:   DPDK's net_ring PMD as created by --vdev=net_ring0, whose queue
 *           pair shares one SP/SC rte_ring of 1024 slots (a loopback too),
 *           driven through rte_eth_tx_burst()/rte_eth_rx_burst().
 * Same loop, same burst, same CPU, same process, repetitions alternating.
 *
 * usage: bench-memif-ring [--reps N] [--seconds S] [--cpu C] [--burst B]
 * Prints one JSON object on stdout (the repetitions of both sides, in
 * Mpps, and what was measured); bench/memif/bench_memif.py makes it a row.
 * Exit 0; 1 when a side failed; 2 bad usage; 77 DPDK's EAL cannot start.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_version.h>

#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>
#include <sluice/sl_ring.h>
#include <sluice/sl_thread.h>
#include <sluice/sl_time.h>

#include "bench_common.h"

#define MAX_BURST 64
#define PKT_LEN 64
#define CHECK_EVERY 1024 /* loop iterations between two clock reads */

static const char *prog = "bench-memif-ring";

struct opts {
	unsigned reps, burst;
	double seconds;
	int cpu;
};

/* The sluice side: a net_ring loopback lport and its pool. */
struct sl_side {
	struct sl_mempool *pool;
	struct sl_port *port;
	struct sl_mbuf *pkts[MAX_BURST];
	unsigned npkts; /* mbufs held in pkts[] */
};

/* The DPDK side: net_ring0 and its pool. */
struct dp_side {
	struct rte_mempool *pool;
	uint16_t port;
	bool started;
	struct rte_mbuf *pkts[MAX_BURST];
	unsigned npkts;
};

static int
sl_side_open(struct sl_side *s, unsigned burst)
{
	struct sl_mbuf_pool_cfg pcfg = {.name = "ring-loop",
					.n = 8192,
					.frame_size = 2048,
					.cache_size = 256};
	struct sl_port_cfg cfg = {.name = "ring-loop",
				  .backend = "net_ring",
				  .options = "loopback=yes,size=1024"};
	unsigned i;

	s->pool = sl_mbuf_pool_create(&pcfg);
	if (s->pool == NULL) {
		fprintf(stderr, "%s: sluice pool: %s\n", prog, strerror(errno));
		return -1;
	}
	cfg.pool = s->pool;
	s->port = sl_pktdev_open(&cfg);
	if (s->port == NULL || sl_pktdev_start(s->port) < 0) {
		fprintf(stderr, "%s: sluice net_ring: %s\n", prog,
			strerror(errno));
		return -1;
	}
	if (sl_mbuf_alloc_bulk(s->pool, s->pkts, burst) < 0)
		return -1;
	s->npkts = burst;
	for (i = 0; i < burst; i++)
		if (sl_mbuf_append(s->pkts[i], PKT_LEN) == NULL)
			return -1;
	return 0;
}

static void
sl_side_close(struct sl_side *s)
{
	if (s->npkts != 0)
		sl_mbuf_free_bulk(s->pkts, s->npkts);
	sl_pktdev_close(s->port);
	if (s->pool != NULL) {
		sl_mempool_cache_flush(s->pool);
		sl_mempool_destroy(s->pool);
	}
}

static int
dp_side_open(struct dp_side *d, unsigned burst)
{
	struct rte_eth_conf conf;
	unsigned i;
	int sock = (int)rte_socket_id(), err;

	memset(&conf, 0, sizeof(conf));
	d->pool = rte_pktmbuf_pool_create("ring-loop", 8191, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, sock);
	if (d->pool == NULL) {
		fprintf(stderr, "%s: DPDK pool: %s\n", prog,
			rte_strerror(rte_errno));
		return -1;
	}
	if (rte_eth_dev_get_port_by_name("net_ring0", &d->port) != 0) {
		fprintf(stderr,
			"%s: DPDK has no net_ring0 (is librte-net-ring23 "
			"installed?)\n",
			prog);
		return -1;
	}
	err = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (err == 0)
		err = rte_eth_rx_queue_setup(d->port, 0, 1024, (unsigned)sock,
					     NULL, d->pool);
	if (err == 0)
		err = rte_eth_tx_queue_setup(d->port, 0, 1024, (unsigned)sock,
					     NULL);
	if (err == 0)
		err = rte_eth_dev_start(d->port);
	if (err != 0) {
		fprintf(stderr, "%s: DPDK net_ring0 setup: %s\n", prog,
			rte_strerror(-err));
		return -1;
	}
	d->started = true;
	if (rte_pktmbuf_alloc_bulk(d->pool, d->pkts, burst) != 0)
		return -1;
	d->npkts = burst;
	for (i = 0; i < burst; i++)
		if (rte_pktmbuf_append(d->pkts[i], PKT_LEN) == NULL)
			return -1;
	return 0;
}

static void
dp_side_close(struct dp_side *d)
{
	if (d->npkts != 0)
		rte_pktmbuf_free_bulk(d->pkts, d->npkts);
	if (d->started) {
		(void)rte_eth_dev_stop(d->port);
		(void)rte_eth_dev_close(d->port);
	}
	rte_mempool_free(d->pool);
}

/* Mpps through the sluice loopback, or NAN when a burst came back short. */
static double
run_sl(struct sl_side *s, unsigned burst, uint64_t ticks)
{
	uint64_t t0, t1, n = 0;
	uint16_t tx, rx;
	unsigned k;

	t0 = sl_tsc();
	do {
		for (k = 0; k < CHECK_EVERY; k++) {
			tx = sl_pktdev_tx_burst(s->port, s->pkts,
						(uint16_t)burst);
			rx = sl_pktdev_rx_burst(s->port, s->pkts,
						(uint16_t)burst);
			if (unlikely(tx != burst || rx != burst))
				return NAN;
			n += rx;
		}
		t1 = sl_tsc();
	} while (t1 - t0 < ticks);
	return (double)n / ((double)(t1 - t0) / (double)sl_tsc_hz()) / 1e6;
}

static double
run_dp(struct dp_side *d, unsigned burst, uint64_t ticks)
{
	uint64_t t0, t1, n = 0;
	uint16_t tx, rx;
	unsigned k;

	t0 = sl_tsc();
	do {
		for (k = 0; k < CHECK_EVERY; k++) {
			tx = rte_eth_tx_burst(d->port, 0, d->pkts,
					      (uint16_t)burst);
			rx = rte_eth_rx_burst(d->port, 0, d->pkts,
					      (uint16_t)burst);
			if (unlikely(tx != burst || rx != burst))
				return NAN;
			n += rx;
		}
		t1 = sl_tsc();
	} while (t1 - t0 < ticks);
	return (double)n / ((double)(t1 - t0) / (double)sl_tsc_hz()) / 1e6;
}

/* The same loop on the bare rings, without the lport around them: tells
 * the cost of the packet API and the backend apart from the ring's. */
static double
run_sl_ring(struct sl_ring *r, void **objs, unsigned burst, uint64_t ticks)
{
	uint64_t t0, t1, n = 0;
	unsigned k, tx, rx;

	t0 = sl_tsc();
	do {
		for (k = 0; k < CHECK_EVERY; k++) {
			tx = sl_ring_enqueue_burst(r, objs, burst, NULL);
			rx = sl_ring_dequeue_burst(r, objs, burst, NULL);
			if (unlikely(tx != burst || rx != burst))
				return NAN;
			n += rx;
		}
		t1 = sl_tsc();
	} while (t1 - t0 < ticks);
	return (double)n / ((double)(t1 - t0) / (double)sl_tsc_hz()) / 1e6;
}

static double
run_rte_ring(struct rte_ring *r, void **objs, unsigned burst, uint64_t ticks)
{
	uint64_t t0, t1, n = 0;
	unsigned k, tx, rx;

	t0 = sl_tsc();
	do {
		for (k = 0; k < CHECK_EVERY; k++) {
			tx = rte_ring_enqueue_burst(r, objs, burst, NULL);
			rx = rte_ring_dequeue_burst(r, objs, burst, NULL);
			if (unlikely(tx != burst || rx != burst))
				return NAN;
			n += rx;
		}
		t1 = sl_tsc();
	} while (t1 - t0 < ticks);
	return (double)n / ((double)(t1 - t0) / (double)sl_tsc_hz()) / 1e6;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"reps", 1, NULL, 'r'}, {"seconds", 1, NULL, 's'},
		{"cpu", 1, NULL, 'c'},	{"burst", 1, NULL, 'b'},
		{"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->reps = (unsigned)atoi(optarg);
			break;
		case 's':
			o->seconds = atof(optarg);
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'b':
			o->burst = (unsigned)atoi(optarg);
			break;
		case 'h':
			printf("usage: %s [--reps N] [--seconds S] [--cpu C] "
			       "[--burst B]\n",
			       prog);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (o->reps == 0 || o->reps > BENCH_MAX_REPS || o->seconds <= 0 ||
	    o->burst == 0 || o->burst > MAX_BURST || o->cpu < 0) {
		fprintf(stderr,
			"%s: --reps 1..%d, --seconds > 0, --burst 1..%d, "
			"--cpu >= 0\n",
			prog, BENCH_MAX_REPS, MAX_BURST);
		return -EINVAL;
	}
	return 0;
}

static void
print_reps(const char *key, const double *v, unsigned n)
{
	unsigned i;

	printf("\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (isfinite(v[i]))
			printf("%s%.4f", i ? "," : "", v[i]);
		else
			printf("%snull", i ? "," : "");
	}
	printf("]");
}

int
main(int argc, char **argv)
{
	struct opts o = {.reps = 5, .burst = 32, .seconds = 1.0, .cpu = 1};
	static struct sl_side s;
	static struct dp_side d;
	double sv[BENCH_MAX_REPS], pv[BENCH_MAX_REPS];
	double srv[BENCH_MAX_REPS], prv[BENCH_MAX_REPS];
	struct sl_ring *bare_sl;
	struct rte_ring *bare_rte;
	char prefix[64], lcore[16], rundir[512];
	char *eargv[16];
	struct rte_ring *r;
	const char *ring_flags = "unknown";
	uint64_t ticks;
	unsigned i, bad = 0;
	int eargc = 0, rc = 0;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (o.cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		o.cpu = 0;
	snprintf(prefix, sizeof(prefix), "sluice-bench-ring-%d", (int)getpid());
	snprintf(lcore, sizeof(lcore), "%d", o.cpu);
	snprintf(rundir, sizeof(rundir), "/var/run/dpdk/%s", prefix);
	eargv[eargc++] = (char *)prog;
	eargv[eargc++] = (char *)"--no-huge";
	eargv[eargc++] = (char *)"--no-pci";
	eargv[eargc++] = (char *)"-m";
	eargv[eargc++] = (char *)"256";
	eargv[eargc++] = (char *)"--file-prefix";
	eargv[eargc++] = prefix;
	eargv[eargc++] = (char *)"-l";
	eargv[eargc++] = lcore;
	eargv[eargc++] = (char *)"--vdev=net_ring0";
	eargv[eargc++] = (char *)"--log-level=error";
	eargv[eargc++] = (char *)"--no-telemetry";
	eargv[eargc] = NULL;
	if (rte_eal_init(eargc, eargv) < 0) {
		fprintf(stderr,
			"%s: DPDK's rte_eal_init failed: %s; skipping\n", prog,
			rte_strerror(rte_errno));
		(void)bench_rm_rf(rundir);
		return 77;
	}
	if (rte_eal_get_runtime_dir()[0] != '\0')
		snprintf(rundir, sizeof(rundir), "%s",
			 rte_eal_get_runtime_dir());
	if (sl_thread_register("ring-loop") < 0 || sl_cpu_pin(o.cpu) < 0)
		fprintf(stderr, "%s: cannot register/pin the thread\n", prog);

	if (sl_side_open(&s, o.burst) < 0 || dp_side_open(&d, o.burst) < 0) {
		rc = 1;
		goto out;
	}
	/* say what the peer's loopback ring is */
	r = rte_ring_lookup("ETH_RXTX0_net_ring0");
	if (r != NULL)
		ring_flags = (r->flags & (RING_F_SP_ENQ | RING_F_SC_DEQ)) ==
					     (RING_F_SP_ENQ | RING_F_SC_DEQ)
				     ? "SP/SC"
				     : "MP/MC";

	ticks = (uint64_t)(o.seconds * (double)sl_tsc_hz());
	/* warm both up (caches, branch predictors, CPU frequency) */
	(void)run_sl(&s, o.burst, ticks / 4);
	(void)run_dp(&d, o.burst, ticks / 4);
	for (i = 0; i < o.reps; i++) {
		if (i % 2 == 0) {
			sv[i] = run_sl(&s, o.burst, ticks);
			pv[i] = run_dp(&d, o.burst, ticks);
		} else {
			pv[i] = run_dp(&d, o.burst, ticks);
			sv[i] = run_sl(&s, o.burst, ticks);
		}
		if (!isfinite(sv[i]) || !isfinite(pv[i]))
			bad++;
	}
	/* the bare rings, for the notes (not the row) */
	bare_sl = sl_ring_create("bare-sl", 1024,
				 SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	bare_rte = rte_ring_create("bare-rte", 1024, (int)rte_socket_id(),
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	for (i = 0; i < o.reps; i++) {
		srv[i] = bare_sl == NULL ? NAN
					 : run_sl_ring(bare_sl, (void **)s.pkts,
						       o.burst, ticks);
		prv[i] = bare_rte == NULL
				 ? NAN
				 : run_rte_ring(bare_rte, (void **)d.pkts,
						o.burst, ticks);
	}
	sl_ring_free(bare_sl);
	rte_ring_free(bare_rte);
	printf("{\"case\":\"net_ring lport loopback, tx+rx burst %u, %d B\","
	       "\"unit\":\"Mpps\",\"peer_name\":\"DPDK net_ring\",",
	       o.burst, PKT_LEN);
	print_reps("sluice_reps", sv, o.reps);
	printf(",");
	print_reps("peer_reps", pv, o.reps);
	printf(",");
	print_reps("sluice_bare_ring_reps", srv, o.reps);
	printf(",");
	print_reps("peer_bare_ring_reps", prv, o.reps);
	printf(",\"cpu\":%d,\"seconds_per_rep\":%g,\"tsc_hz\":%" PRIu64
	       ",\"dpdk\":\"%s\",\"peer_ring\":\"%s 1024 slots\"}\n",
	       o.cpu, o.seconds, sl_tsc_hz(), rte_version(), ring_flags);
	if (bad != 0) {
		fprintf(stderr, "%s: %u repetitions lost packets\n", prog, bad);
		rc = 1;
	}
out:
	sl_side_close(&s);
	if (d.pool != NULL)
		dp_side_close(&d);
	sl_thread_unregister();
	rte_eal_cleanup();
	(void)bench_rm_rf(rundir);
	return rc;
}
