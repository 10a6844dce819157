/* Unit tests of pktdev and its in-process backends (net_null, net_ring). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_pktdev.h"
#include "sluice/sl_thread.h"

#ifndef SL_BUILTIN_BACKENDS
#error "the build passes the list of built-in backends"
#endif

static struct sl_mempool *pool;

static int
pool_setup(void **state)
{
	struct sl_mbuf_pool_cfg cfg = {
		.name = "pktdev-test",
		.n = 4096,
		.frame_size = 2048,
		.cache_size = 0,
	};

	(void)state;
	pool = sl_mbuf_pool_create(&cfg);
	return pool == NULL ? -1 : 0;
}

static int
pool_teardown(void **state)
{
	(void)state;
	assert_int_equal(sl_mempool_in_use_count(pool), 0);
	sl_mempool_destroy(pool);
	return 0;
}

static struct sl_port *
open_port(const char *name, const char *backend, const char *options)
{
	struct sl_port_cfg cfg = {
		.name = name,
		.backend = backend,
		.pool = pool,
		.options = options,
	};

	return sl_pktdev_open(&cfg);
}

static void
test_every_builtin_backend_registered(void **state)
{
	struct sl_pktdev_backend_info info[32];
	char list[] = SL_BUILTIN_BACKENDS, *name, *save = NULL;
	unsigned n, i;
	bool found;

	(void)state;
	n = sl_pktdev_backend_list(info, 32);
	assert_true(n >= 2 && n <= 32);
	assert_int_equal(sl_pktdev_backend_list(NULL, 0), n);
	for (name = strtok_r(list, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		found = false;
		for (i = 0; i < n; i++)
			if (strcmp(info[i].name, name) == 0) {
				found = true;
				assert_true(strlen(info[i].desc) > 10);
			}
		if (!found)
			fail_msg("backend %s is built but not registered",
				 name);
	}
}

static void
test_open_errors(void **state)
{
	struct sl_port_cfg cfg = {.name = "x", .backend = "net_null"};
	struct sl_port *p;

	(void)state;
	errno = 0;
	assert_null(sl_pktdev_open(NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "no_such_backend", NULL));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(open_port("p", NULL, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("", "null", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("a-name-much-longer-than-thirty-two-characters",
			      "null", NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "no_such_key=1"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "pkt_size"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "pkt_size=abc"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "pkt_size=10"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "pkt_size=64,pkt_size=65"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("p", "null", "pkt_size=4000")); /* > frame */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	cfg.options = "pkt_size=64"; /* needs a pool */
	assert_null(sl_pktdev_open(&cfg));
	assert_int_equal(errno, EINVAL);

	p = open_port("dup", "null", NULL);
	assert_non_null(p);
	errno = 0;
	assert_null(open_port("dup", "ring", NULL));
	assert_int_equal(errno, EEXIST);
	sl_pktdev_close(p);
	sl_pktdev_close(NULL);
}

static void
test_lifecycle_and_control(void **state)
{
	struct sl_port_link link;
	struct sl_port_stats st;
	uint8_t mac[6];
	uint16_t mtu;
	struct sl_port *p;

	(void)state;
	p = open_port("ctl", "net_null", "mtu=9000");
	assert_non_null(p);
	assert_string_equal(sl_pktdev_name(p), "ctl");
	assert_string_equal(sl_pktdev_backend(p), "net_null");
	assert_ptr_equal(sl_pktdev_lookup("ctl"), p);
	errno = 0;
	assert_null(sl_pktdev_lookup("nope"));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(sl_pktdev_stop(p), -EALREADY);
	assert_int_equal(sl_pktdev_start(p), 0);
	assert_int_equal(sl_pktdev_start(p), -EALREADY);
	assert_int_equal(sl_pktdev_link_get(p, &link), 0);
	assert_true(link.up);
	assert_int_equal(sl_pktdev_mac_get(p, mac), 0);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(sl_pktdev_mtu_get(p, &mtu), 0);
	assert_int_equal(mtu, 9000);
	assert_int_equal(sl_pktdev_mtu_set(p, 1500), 0);
	assert_int_equal(sl_pktdev_mtu_get(p, &mtu), 0);
	assert_int_equal(mtu, 1500);
	assert_int_equal(sl_pktdev_mtu_set(p, 10), -EINVAL);
	assert_int_equal(sl_pktdev_promisc_get(p), 0);
	assert_int_equal(sl_pktdev_promisc_set(p, true), 0);
	assert_int_equal(sl_pktdev_promisc_get(p), 1);
	assert_true(sl_pktdev_capabilities(p) & SL_PORT_CAP_PROMISC);
	assert_int_equal(sl_pktdev_capabilities(NULL), 0);
	assert_int_equal(sl_pktdev_rx_fd(p), -ENOTSUP);
	assert_int_equal(sl_pktdev_xstats_get(p, NULL, 0), 0);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(st.ipackets + st.opackets, 0);
	/* NULL handling everywhere */
	assert_int_equal(sl_pktdev_start(NULL), -EINVAL);
	assert_int_equal(sl_pktdev_stop(NULL), -EINVAL);
	assert_int_equal(sl_pktdev_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(sl_pktdev_stats_get(p, NULL), -EINVAL);
	assert_int_equal(sl_pktdev_stats_reset(NULL), -EINVAL);
	assert_int_equal(sl_pktdev_xstats_get(NULL, NULL, 0), -EINVAL);
	assert_int_equal(sl_pktdev_xstats_get(p, NULL, 3), -EINVAL);
	assert_int_equal(sl_pktdev_link_get(NULL, &link), -EINVAL);
	assert_int_equal(sl_pktdev_link_get(p, NULL), -EINVAL);
	assert_int_equal(sl_pktdev_mac_get(p, NULL), -EINVAL);
	assert_int_equal(sl_pktdev_mtu_get(p, NULL), -EINVAL);
	assert_int_equal(sl_pktdev_mtu_set(NULL, 1500), -EINVAL);
	assert_int_equal(sl_pktdev_promisc_set(NULL, true), -EINVAL);
	assert_int_equal(sl_pktdev_promisc_get(NULL), -EINVAL);
	assert_int_equal(sl_pktdev_rx_fd(NULL), -EINVAL);
	assert_string_equal(sl_pktdev_name(NULL), "");
	assert_int_equal(sl_pktdev_stop(p), 0);
	sl_pktdev_close(p);
	assert_null(sl_pktdev_lookup("ctl"));
}

static void
test_null_rx_tx(void **state)
{
	struct sl_mbuf *pkts[32];
	struct sl_port_stats st;
	struct sl_port *p;
	unsigned avail;
	uint16_t n, i;

	(void)state;
	p = open_port("null0", "null", "pkt_size=128");
	assert_non_null(p);
	assert_int_equal(sl_pktdev_start(p), 0);
	avail = sl_mempool_avail_count(pool);
	n = sl_pktdev_rx_burst(p, pkts, 32);
	assert_int_equal(n, 32);
	for (i = 0; i < n; i++) {
		assert_int_equal(pkts[i]->pkt_len, 128);
		assert_int_equal(pkts[i]->data_len, 128);
	}
	assert_int_equal(sl_mempool_avail_count(pool), avail - 32);
	assert_int_equal(sl_pktdev_tx_burst(p, pkts, n), 32);
	assert_int_equal(sl_mempool_avail_count(pool), avail);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(st.ipackets, 32);
	assert_int_equal(st.ibytes, 32 * 128);
	assert_int_equal(st.opackets, 32);
	assert_int_equal(st.obytes, 32 * 128);
	assert_int_equal(sl_pktdev_stats_reset(p), 0);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(st.ipackets + st.obytes, 0);
	sl_pktdev_close(p);

	/* without pkt_size RX gives nothing */
	p = open_port("null1", "null", NULL);
	assert_non_null(p);
	assert_int_equal(sl_pktdev_start(p), 0);
	assert_int_equal(sl_pktdev_rx_burst(p, pkts, 32), 0);
	sl_pktdev_close(p);
}

static void
test_null_rx_counts_empty_pool(void **state)
{
	struct sl_mbuf_pool_cfg cfg = {
		.name = "tiny",
		.n = 16,
		.frame_size = 2048,
	};
	struct sl_port_cfg pcfg = {
		.name = "nullnb",
		.backend = "null",
		.options = "pkt_size=64",
	};
	struct sl_mbuf *pkts[32];
	struct sl_port_stats st;
	struct sl_port *p;

	(void)state;
	pcfg.pool = sl_mbuf_pool_create(&cfg);
	assert_non_null(pcfg.pool);
	p = sl_pktdev_open(&pcfg);
	assert_non_null(p);
	assert_int_equal(sl_pktdev_start(p), 0);
	assert_int_equal(sl_pktdev_rx_burst(p, pkts, 32), 0);
	assert_int_equal(sl_pktdev_rx_burst(p, pkts, 16), 16);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(st.rx_nombuf, 1);
	assert_int_equal(st.ipackets, 16);
	sl_mbuf_free_bulk(pkts, 16);
	sl_pktdev_close(p);
	sl_mempool_destroy(pcfg.pool);
}

static void
make_pkts(struct sl_mbuf **pkts, unsigned n, uint32_t first)
{
	unsigned i;

	assert_int_equal(sl_mbuf_alloc_bulk(pool, pkts, n), 0);
	for (i = 0; i < n; i++) {
		uint32_t *p = sl_mbuf_append(pkts[i], 60 + i);

		assert_non_null(p);
		memset(p, (int)(first + i), 60 + i);
		p[0] = first + i;
	}
}

static void
test_ring_back_to_back(void **state)
{
	struct sl_mbuf *pkts[16], *got[16];
	struct sl_port_stats st;
	struct sl_port *a, *b;
	unsigned i;

	(void)state;
	a = open_port("ra", "net_ring", "size=64");
	assert_non_null(a);
	b = open_port("rb", "net_ring", "peer=ra,count_bytes=yes");
	assert_non_null(b);
	assert_int_equal(sl_pktdev_start(a), 0);
	assert_int_equal(sl_pktdev_start(b), 0);
	/* a -> b */
	make_pkts(pkts, 16, 100);
	assert_int_equal(sl_pktdev_tx_burst(a, pkts, 16), 16);
	assert_int_equal(sl_pktdev_rx_burst(a, got, 16), 0);
	assert_int_equal(sl_pktdev_rx_burst(b, got, 16), 16);
	for (i = 0; i < 16; i++) {
		const uint8_t *d = sl_mbuf_mtod(got[i], const uint8_t *);

		assert_ptr_equal(got[i], pkts[i]); /* no copy */
		assert_int_equal(got[i]->pkt_len, 60 + i);
		assert_int_equal(*(const uint32_t *)d, 100 + i);
		assert_int_equal(d[got[i]->pkt_len - 1], (uint8_t)(100 + i));
	}
	/* b -> a, same mbufs */
	assert_int_equal(sl_pktdev_tx_burst(b, got, 16), 16);
	assert_int_equal(sl_pktdev_rx_burst(a, pkts, 16), 16);
	assert_int_equal(sl_pktdev_stats_get(b, &st), 0);
	assert_int_equal(st.ipackets, 16);
	assert_int_equal(st.opackets, 16);
	assert_int_equal(st.ibytes, 16 * 60 + 120);
	assert_int_equal(st.obytes, st.ibytes);
	/* without count_bytes an lport counts packets but never reads mbufs */
	assert_int_equal(sl_pktdev_stats_get(a, &st), 0);
	assert_int_equal(st.ipackets, 16);
	assert_int_equal(st.opackets, 16);
	assert_int_equal(st.ibytes + st.obytes, 0);
	sl_mbuf_free_bulk(pkts, 16);
	/* a full ring: burst is partial, the rest stays the caller's */
	for (i = 0; i < 5; i++) {
		make_pkts(pkts, 16, 0);
		assert_int_equal(sl_pktdev_tx_burst(a, pkts, 16),
				 i < 4 ? 16 : 0);
	}
	sl_mbuf_free_bulk(pkts, 16);
	/* closing frees what is still in flight */
	sl_pktdev_close(a);
	sl_pktdev_close(b);
}

static void
test_ring_loopback_and_errors(void **state)
{
	struct sl_mbuf *pkts[8], *got[8];
	struct sl_port *a, *b, *n;

	(void)state;
	a = open_port("loop", "ring", "loopback=yes");
	assert_non_null(a);
	assert_int_equal(sl_pktdev_start(a), 0);
	make_pkts(pkts, 8, 7);
	assert_int_equal(sl_pktdev_tx_burst(a, pkts, 8), 8);
	assert_int_equal(sl_pktdev_rx_burst(a, got, 8), 8);
	assert_memory_equal(got, pkts, sizeof(pkts));
	sl_mbuf_free_bulk(got, 8);

	errno = 0;
	assert_null(open_port("x", "ring", "peer=loop")); /* already looped */
	assert_int_equal(errno, EBUSY);
	errno = 0;
	assert_null(open_port("x", "ring", "peer=absent"));
	assert_int_equal(errno, EINVAL);
	n = open_port("n", "null", NULL);
	assert_non_null(n);
	errno = 0;
	assert_null(open_port("x", "ring", "peer=n"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("x", "ring", "size=100"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("x", "ring", "loopback=maybe"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(open_port("x", "ring", "loopback=yes,peer=n"));
	assert_int_equal(errno, EINVAL);
	b = open_port("b1", "ring", NULL);
	assert_non_null(b);
	assert_non_null(open_port("b2", "ring", "peer=b1"));
	errno = 0;
	assert_null(open_port("b3", "ring", "peer=b1"));
	assert_int_equal(errno, EBUSY);
	sl_pktdev_close(sl_pktdev_lookup("b2"));
	sl_pktdev_close(b);
	sl_pktdev_close(n);
	sl_pktdev_close(a);
}

#define PIPE_PKTS 200000u

struct pipe_arg {
	struct sl_port *port;
	uint64_t bad;
	uint64_t done;
};

static void *
pipe_tx(void *p)
{
	struct pipe_arg *a = p;
	struct sl_mbuf *pkts[32];
	uint32_t seq = 0;
	unsigned i, sent;

	while (seq < PIPE_PKTS) {
		if (sl_mbuf_alloc_bulk(pool, pkts, 32) < 0)
			continue;
		for (i = 0; i < 32; i++)
			*(uint32_t *)sl_mbuf_append(pkts[i], 64) = seq + i;
		sent = 0;
		while (sent < 32)
			sent += sl_pktdev_tx_burst(a->port, pkts + sent,
						   (uint16_t)(32 - sent));
		seq += 32;
	}
	sl_mempool_cache_flush(pool);
	a->done = seq;
	return NULL;
}

static void *
pipe_rx(void *p)
{
	struct pipe_arg *a = p;
	struct sl_mbuf *pkts[32];
	uint32_t expect = 0;
	unsigned i, n;

	while (expect < PIPE_PKTS) {
		n = sl_pktdev_rx_burst(a->port, pkts, 32);
		for (i = 0; i < n; i++)
			if (*sl_mbuf_mtod(pkts[i], uint32_t *) != expect++)
				a->bad++;
		sl_mbuf_free_bulk(pkts, n);
	}
	sl_mempool_cache_flush(pool);
	a->done = expect;
	return NULL;
}

static void
test_ring_pipeline_two_threads(void **state)
{
	struct pipe_arg tx = {0}, rx = {0};
	pthread_t t1, t2;

	(void)state;
	tx.port = open_port("pa", "ring", NULL);
	assert_non_null(tx.port);
	rx.port = open_port("pb", "ring", "peer=pa");
	assert_non_null(rx.port);
	assert_int_equal(sl_pktdev_start(tx.port), 0);
	assert_int_equal(sl_pktdev_start(rx.port), 0);
	assert_int_equal(sl_thread_create(&t2, "rx", -1, pipe_rx, &rx), 0);
	assert_int_equal(sl_thread_create(&t1, "tx", -1, pipe_tx, &tx), 0);
	assert_int_equal(sl_thread_join(t1, NULL), 0);
	assert_int_equal(sl_thread_join(t2, NULL), 0);
	assert_int_equal(rx.done, PIPE_PKTS);
	assert_int_equal(rx.bad, 0);
	sl_pktdev_close(tx.port);
	sl_pktdev_close(rx.port);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_every_builtin_backend_registered),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_lifecycle_and_control),
		cmocka_unit_test(test_null_rx_tx),
		cmocka_unit_test(test_null_rx_counts_empty_pool),
		cmocka_unit_test(test_ring_back_to_back),
		cmocka_unit_test(test_ring_loopback_and_errors),
		cmocka_unit_test(test_ring_pipeline_two_threads),
	};

	return cmocka_run_group_tests_name("pktdev", t, pool_setup,
					   pool_teardown);
}
