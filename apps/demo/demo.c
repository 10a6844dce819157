/*
 * sluice-demo: packets allocated from an mbuf pool travel from a producer
 * thread to a consumer thread through a lock-free ring, each thread pinned
 * to its own CPU. The producer stamps a sequence number and a payload
 * checksum into every packet; the consumer checks order and content and
 * frees the packets back to the pool. Live counters every second, then a
 * summary; the exit status is non-zero if any packet was lost, reordered,
 * corrupted or leaked.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sl_common.h>
#include <sluice/sl_log.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_mempool.h>
#include <sluice/sl_ring.h>
#include <sluice/sl_thread.h>
#include <sluice/sl_time.h>

#define BURST 32
#define PKT_LEN 64

struct demo {
	struct sl_mempool *pool;
	struct sl_ring *ring;
	unsigned seconds;
	volatile int stop;	    /* tells the producer to finish */
	volatile int producer_done; /* the consumer drains, then ends */
	/* producer-owned */
	uint64_t produced __sl_cache_aligned;
	uint64_t ring_full;
	uint64_t pool_empty;
	/* consumer-owned */
	uint64_t consumed __sl_cache_aligned;
	uint64_t bytes;
	uint64_t out_of_order;
	uint64_t corrupt;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint32_t
payload_sum(const uint8_t *p, unsigned len)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i < len; i++)
		s = s * 31 + p[i];
	return s;
}

static void
stamp(struct sl_mbuf *m, uint64_t seq)
{
	uint8_t *p = (uint8_t *)sl_mbuf_append(m, PKT_LEN);
	uint32_t sum;
	unsigned i;

	memcpy(p, &seq, sizeof(seq));
	for (i = 12; i < PKT_LEN; i++)
		p[i] = (uint8_t)(seq + i);
	sum = payload_sum(p + 12, PKT_LEN - 12);
	memcpy(p + 8, &sum, sizeof(sum));
}

static void *
producer(void *arg)
{
	struct demo *d = arg;
	struct sl_mbuf *pkts[BURST];
	uint64_t seq = 0;
	unsigned i, n, sent;

	while (!d->stop) {
		if (sl_mbuf_alloc_bulk(d->pool, pkts, BURST) < 0) {
			d->pool_empty++;
			continue;
		}
		for (i = 0; i < BURST; i++)
			stamp(pkts[i], seq++);
		sent = 0;
		while (sent < BURST) {
			n = sl_ring_enqueue_burst(d->ring, (void **)pkts + sent,
						  BURST - sent, NULL);
			if (n == 0) {
				d->ring_full++;
				if (d->stop)
					break;
				sl_pause();
			}
			sent += n;
		}
		if (sent < BURST) /* stopping with a full ring */
			sl_mbuf_free_bulk(pkts + sent, BURST - sent);
		d->produced += sent;
	}
	sl_mempool_cache_flush(d->pool);
	return NULL;
}

static void
check(struct demo *d, struct sl_mbuf *m, uint64_t *expect)
{
	const uint8_t *p = sl_mbuf_mtod(m, const uint8_t *);
	uint64_t seq;
	uint32_t sum;

	memcpy(&seq, p, sizeof(seq));
	memcpy(&sum, p + 8, sizeof(sum));
	if (seq != *expect)
		d->out_of_order++;
	*expect = seq + 1;
	if (m->data_len != PKT_LEN || sum != payload_sum(p + 12, PKT_LEN - 12))
		d->corrupt++;
	d->bytes += m->pkt_len;
}

static void *
consumer(void *arg)
{
	struct demo *d = arg;
	struct sl_mbuf *pkts[BURST];
	uint64_t expect = 0;
	unsigned i, n;

	for (;;) {
		n = sl_ring_dequeue_burst(d->ring, (void **)pkts, BURST, NULL);
		if (n == 0) {
			if (d->producer_done && sl_ring_count(d->ring) == 0)
				break;
			sl_pause();
			continue;
		}
		for (i = 0; i < n; i++)
			check(d, pkts[i], &expect);
		sl_mbuf_free_bulk(pkts, n);
		d->consumed += n;
	}
	sl_mempool_cache_flush(d->pool);
	return NULL;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--seconds N] [--log LEVELS]\n"
	       "Moves packets from a pinned producer to a pinned consumer\n"
	       "through a ring and checks every one (default 5 seconds).\n",
	       prog);
}

static int
parse_args(struct demo *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"log", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "s:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 3600) {
				fprintf(stderr,
					"--seconds: '%s' is not a whole number "
					"of seconds between 1 and 3600\n",
					optarg);
				return -EINVAL;
			}
			d->seconds = (unsigned)v;
			break;
		case 'l':
			if (sl_log_set_levels(optarg) < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sl_mbuf_pool_cfg pcfg = {
		.name = "demo",
		.n = 8192,
		.frame_size = 2048,
		.cache_size = 256,
		.headroom = SL_MBUF_HEADROOM,
	};
	struct demo d = {.seconds = 5};
	struct sl_mempool_stats st;
	uint64_t t0, last_p = 0, last_c = 0, tsc_hz, elapsed;
	int cpu_p, cpu_c, err, rc = 0;
	pthread_t tp, tc;
	unsigned s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(&d, argc, argv) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sl_log_set_level("mem", SL_LOG_INFO); /* say which pages we got */

	d.pool = sl_mbuf_pool_create(&pcfg);
	if (d.pool == NULL) {
		fprintf(stderr, "demo: cannot create the mbuf pool: %s\n",
			strerror(errno));
		return 1;
	}
	d.ring = sl_ring_create("demo", 1024,
				SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	if (d.ring == NULL) {
		fprintf(stderr, "demo: cannot create the ring: %s\n",
			strerror(errno));
		rc = 1;
		goto free_pool;
	}
	cpu_p = sl_cpu_nth(0);
	cpu_c = sl_cpu_count() > 1 ? sl_cpu_nth(1) : cpu_p;
	printf("sluice demo: %u mbufs of %u B, ring of %u, producer on CPU %d, "
	       "consumer on CPU %d, %u s\n",
	       pcfg.n, pcfg.frame_size, sl_ring_capacity(d.ring), cpu_p, cpu_c,
	       d.seconds);

	err = sl_thread_create(&tc, "demo-rx", cpu_c, consumer, &d);
	if (err < 0) {
		fprintf(stderr, "demo: cannot start the consumer: %s\n",
			sl_strerror(err));
		rc = 1;
		goto free_ring;
	}
	err = sl_thread_create(&tp, "demo-tx", cpu_p, producer, &d);
	if (err < 0) {
		fprintf(stderr, "demo: cannot start the producer: %s\n",
			sl_strerror(err));
		d.producer_done = 1;
		sl_thread_join(tc, NULL);
		rc = 1;
		goto free_ring;
	}

	tsc_hz = sl_tsc_hz();
	t0 = sl_tsc();
	printf("%4s %12s %12s %10s %8s %8s %10s\n", "sec", "produced/s",
	       "consumed/s", "in ring", "in use", "bad", "full polls");
	for (s = 1; s <= d.seconds && !interrupted; s++) {
		uint64_t p, c;

		sleep(1);
		p = d.produced;
		c = d.consumed;
		printf("%4u %12.3fM %11.3fM %10u %8u %8" PRIu64 " %10" PRIu64
		       "\n",
		       s, (double)(p - last_p) / 1e6,
		       (double)(c - last_c) / 1e6, sl_ring_count(d.ring),
		       sl_mempool_in_use_count(d.pool),
		       d.out_of_order + d.corrupt, d.ring_full);
		fflush(stdout);
		last_p = p;
		last_c = c;
	}
	d.stop = 1;
	sl_thread_join(tp, NULL);
	d.producer_done = 1;
	sl_thread_join(tc, NULL);
	elapsed = sl_tsc() - t0;

	sl_mempool_stats_get(d.pool, &st);
	printf("\nsummary: %" PRIu64 " packets (%" PRIu64 " bytes) in %.2f s: "
	       "%.2f Mpps through the ring\n",
	       d.consumed, d.bytes, (double)elapsed / (double)tsc_hz,
	       (double)d.consumed / ((double)elapsed / (double)tsc_hz) / 1e6);
	printf("checked: %" PRIu64 " out of order, %" PRIu64
	       " corrupt, %" PRIu64 " produced but not consumed\n",
	       d.out_of_order, d.corrupt, d.produced - d.consumed);
	printf("mempool: %" PRIu64 " gets, %" PRIu64 " puts, %.1f%% from "
	       "thread caches, %" PRIu64 " empty, %u of %u in use at exit\n",
	       st.gets, st.puts,
	       st.gets ? 100.0 * (double)st.cache_hits / (double)st.gets : 0.0,
	       st.empty, sl_mempool_in_use_count(d.pool), pcfg.n);
	if (d.out_of_order || d.corrupt || d.produced != d.consumed ||
	    sl_mempool_in_use_count(d.pool) != 0 || d.consumed == 0) {
		printf("FAIL: packets lost, damaged or leaked\n");
		rc = 1;
	} else {
		printf("OK: every packet arrived once, in order and intact\n");
	}
free_ring:
	sl_ring_free(d.ring);
free_pool:
	sl_mempool_destroy(d.pool);
	return rc;
}
