/* Unit tests of net_memif: a sluice server and a sluice client in one
 * process over abstract (and one filesystem) sockets, plus a hand-written
 * raw peer that speaks the wire protocol (encoded here independently of
 * the driver) to check what a misbehaving peer gets. No root needed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_pktdev.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_log.h"

#define FRAME 2048
#define NFRAMES 8192
#define BURST 32

static struct sl_mempool *pool;
static int lowest_fd; /* lowest free fd with no lport open */
static unsigned sock_seq;
static char sock_name[96];

/* ---- helpers ------------------------------------------------------------- */

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static int
thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A fresh abstract socket name for each test. */
static const char *
new_sock(void)
{
	snprintf(sock_name, sizeof(sock_name), "sluice-test-memif-%d-%u",
		 (int)getpid(), sock_seq++);
	return sock_name;
}

static struct sl_port *open_port(const char *name, uint16_t qid,
				 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct sl_port *
open_port(const char *name, uint16_t qid, const char *fmt, ...)
{
	char opts[512];
	struct sl_port_cfg cfg = {
		.name = name,
		.backend = "net_memif",
		.qid = qid,
		.pool = pool,
		.options = opts,
	};
	struct sl_port *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(opts, sizeof(opts), fmt, ap);
	va_end(ap);
	p = sl_pktdev_open(&cfg);
	if (p != NULL)
		assert_int_equal(sl_pktdev_start(p), 0);
	return p;
}

static bool
link_up(struct sl_port *p)
{
	struct sl_port_link l;

	assert_int_equal(sl_pktdev_link_get(p, &l), 0);
	return l.up;
}

static bool
wait_link(struct sl_port *p, bool up, unsigned ms)
{
	uint64_t end = ms_now() + ms;

	while (link_up(p) != up) {
		if (ms_now() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

static uint64_t
xstat(struct sl_port *p, const char *name)
{
	struct sl_port_xstat xs[32];
	int n, i;

	n = sl_pktdev_xstats_get(p, xs, 32);
	assert_true(n > 0 && n <= 32);
	for (i = 0; i < n; i++)
		if (strcmp(xs[i].name, name) == 0)
			return xs[i].value;
	fail_msg("no xstat %s", name);
	return 0;
}

static uint8_t
pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

/* A packet of len bytes, as a chain of segments of at most seg bytes. */
static struct sl_mbuf *
make_pkt(uint32_t len, uint32_t seg, uint32_t seed)
{
	struct sl_mbuf *head = NULL, *m;
	uint32_t off = 0, n, i;
	uint8_t *d;

	do {
		m = sl_mbuf_alloc(pool);
		assert_non_null(m);
		n = SL_MIN(len - off, seg);
		n = SL_MIN(n, (uint32_t)sl_mbuf_tailroom(m));
		d = sl_mbuf_append(m, n);
		assert_non_null(d);
		for (i = 0; i < n; i++)
			d[i] = pattern(seed, off + i);
		off += n;
		if (head == NULL)
			head = m;
		else
			assert_int_equal(sl_mbuf_chain(head, m), 0);
	} while (off < len);
	return head;
}

static void
check_pkt(const struct sl_mbuf *m, uint32_t len, uint32_t seed)
{
	static uint8_t buf[65536];
	uint32_t i;

	assert_int_equal(m->pkt_len, len);
	assert_int_equal(sl_mbuf_read(m, 0, len, buf), 0);
	for (i = 0; i < len; i++)
		if (buf[i] != pattern(seed, i))
			fail_msg("byte %u of a %u-byte packet: %#x, expected "
				 "%#x",
				 i, len, buf[i], pattern(seed, i));
}

/* Send n packets (sizes from lens, payload seeds seed0+i) from tx and
 * receive them on rx, checking every byte. Both sides are pumped here. */
static void
exchange(struct sl_port *tx, struct sl_port *rx, unsigned n,
	 const uint32_t *lens, unsigned nlens, uint32_t seg, uint32_t seed0)
{
	struct sl_mbuf *out[BURST], *in[BURST];
	unsigned sent = 0, got = 0, k, i, nb;
	uint64_t end = ms_now() + 5000;

	while (got < n) {
		assert_true(ms_now() < end);
		k = 0;
		while (sent + k < n && k < BURST) {
			out[k] = make_pkt(lens[(sent + k) % nlens], seg,
					  seed0 + sent + k);
			k++;
		}
		nb = sl_pktdev_tx_burst(tx, out, (uint16_t)k);
		sent += nb;
		sl_mbuf_free_bulk(out + nb, k - nb);
		nb = sl_pktdev_rx_burst(rx, in, BURST);
		for (i = 0; i < nb; i++) {
			check_pkt(in[i], lens[(got + i) % nlens],
				  seed0 + got + i);
			sl_mbuf_free(in[i]);
		}
		got += nb;
	}
	assert_int_equal(sent, n);
}

/* Server and client lports on a fresh socket, link up on both. */
static void
open_pair(struct sl_port **srv, struct sl_port **cli, const char *extra_s,
	  const char *extra_c)
{
	const char *s = new_sock();

	*srv = open_port("msrv", 0, "role=server,socket=%s%s", s, extra_s);
	assert_non_null(*srv);
	*cli = open_port("mcli", 0, "role=client,socket=%s%s", s, extra_c);
	assert_non_null(*cli);
	assert_true(wait_link(*srv, true, 2000));
	assert_true(wait_link(*cli, true, 2000));
}

/* ---- stderr capture, to check that messages name the option ------------- */

static int saved_stderr = -1, log_fd = -1;
static char logbuf[16384];

static void
capture_start(void)
{
	fflush(stderr);
	log_fd = memfd_create("log", 0);
	assert_true(log_fd >= 0);
	saved_stderr = dup(2);
	dup2(log_fd, 2);
}

static const char *
capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	lseek(log_fd, 0, SEEK_SET);
	n = read(log_fd, logbuf, sizeof(logbuf) - 1);
	logbuf[n > 0 ? n : 0] = '\0';
	close(log_fd);
	return logbuf;
}

/* ---- tests ----------------------------------------------------------------
 */

static void
test_registered(void **state)
{
	struct sl_pktdev_backend_info info[32];
	unsigned n, i;
	bool found = false;

	(void)state;
	n = sl_pktdev_backend_list(info, 32);
	for (i = 0; i < n && i < 32; i++)
		found |= strcmp(info[i].name, "net_memif") == 0;
	assert_true(found);
}

static void
test_bad_options_name_the_key(void **state)
{
	static const struct {
		const char *opts;
		uint16_t qid;
		const char *key;
	} bad[] = {
		{"role=master", 0, "'role'"},
		{"socket=", 0, "'socket'"},
		{"socket_abstract=maybe", 0, "'socket_abstract'"},
		{"id=-1", 0, "'id'"},
		{"id=4294967296", 0, "'id'"},
		{"secret=012345678901234567890123", 0, "'secret'"},
		{"queues=0", 0, "'queues'"},
		{"queues=256", 0, "'queues'"},
		{"queues=2", 2, "'queues'"},
		{"rsize=15", 0, "'rsize'"},
		{"rsize=0", 0, "'rsize'"},
		{"bsize=10", 0, "'bsize'"},
		{"bsize=65536", 0, "'bsize'"},
		{"mode=irq", 0, "'mode'"},
		{"zero_copy=yes", 0, "'zero_copy'"},
		{"role=client,queues=255,rsize=14,bsize=65535", 0, "'rsize'"},
	};
	struct sl_port *p;
	const char *log;
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(bad); i++) {
		capture_start();
		errno = 0;
		p = open_port("mbad", bad[i].qid, "%s", bad[i].opts);
		log = capture_end();
		if (p != NULL)
			fail_msg("'%s' was accepted", bad[i].opts);
		assert_int_equal(errno, EINVAL);
		if (strstr(log, bad[i].key) == NULL)
			fail_msg("'%s': the log does not name %s: %s",
				 bad[i].opts, bad[i].key, log);
	}
	/* no pool: said so */
	{
		struct sl_port_cfg cfg = {.name = "mnopool",
					  .backend = "memif"};

		capture_start();
		p = sl_pktdev_open(&cfg);
		log = capture_end();
		assert_null(p);
		assert_non_null(strstr(log, "pool"));
	}
}

static void
test_pair_both_ways(void **state)
{
	static const uint32_t lens[] = {60, 64, 1500, 128, 61, 1024, 999};
	struct sl_port_stats ss, cs;
	struct sl_port *srv, *cli;
	uint64_t bytes = 0;
	unsigned i;

	(void)state;
	open_pair(&srv, &cli, "", "");
	assert_true(sl_pktdev_capabilities(srv) & SL_PORT_CAP_MULTI_QUEUE);
	exchange(cli, srv, 1000, lens, SL_DIM(lens), 4096, 1);
	exchange(srv, cli, 1000, lens, SL_DIM(lens), 4096, 7);
	for (i = 0; i < 1000; i++)
		bytes += lens[i % SL_DIM(lens)];
	assert_int_equal(sl_pktdev_stats_get(srv, &ss), 0);
	assert_int_equal(sl_pktdev_stats_get(cli, &cs), 0);
	assert_int_equal(ss.ipackets, 1000);
	assert_int_equal(ss.opackets, 1000);
	assert_int_equal(cs.ipackets, 1000);
	assert_int_equal(cs.opackets, 1000);
	assert_int_equal(ss.ibytes, bytes);
	assert_int_equal(cs.obytes, bytes);
	assert_int_equal(ss.obytes, bytes);
	assert_int_equal(cs.ibytes, bytes);
	assert_int_equal(ss.ierrors + cs.ierrors + ss.oerrors + cs.oerrors, 0);
	assert_int_equal(xstat(srv, "connects"), 1);
	assert_int_equal(xstat(cli, "connects"), 1);
	assert_int_equal(xstat(srv, "bad_msgs"), 0);
	assert_int_equal(xstat(srv, "rx_chained") + xstat(cli, "rx_chained"),
			 0);
	/* poll mode: nobody asked for interrupts */
	assert_int_equal(xstat(srv, "tx_kicks") + xstat(cli, "tx_kicks"), 0);
	assert_int_equal(sl_pktdev_rx_fd(srv), -ENOTSUP);
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

static void
test_ring_full_keeps_packets(void **state)
{
	struct sl_port *srv, *cli;
	struct sl_mbuf *out[BURST], *in[BURST];
	unsigned sent = 0, got = 0, nb, k, i;

	(void)state;
	/* 16-slot rings */
	open_pair(&srv, &cli, ",rsize=4", ",rsize=4");
	for (;;) {
		for (k = 0; k < BURST; k++)
			out[k] = make_pkt(100, 4096, sent + k);
		nb = sl_pktdev_tx_burst(cli, out, BURST);
		sent += nb;
		for (k = nb; k < BURST; k++)
			assert_int_equal(out[k]->pkt_len, 100); /* still ours */
		sl_mbuf_free_bulk(out + nb, BURST - nb);
		if (nb < BURST)
			break;
	}
	assert_int_equal(sent, 16);
	assert_true(xstat(cli, "tx_ring_full") >= 1);
	while (got < sent) {
		nb = sl_pktdev_rx_burst(srv, in, BURST);
		for (i = 0; i < nb; i++) {
			check_pkt(in[i], 100, got + i);
			sl_mbuf_free(in[i]);
		}
		got += nb;
		assert_true(nb > 0);
	}
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

static void
test_two_queue_pairs(void **state)
{
	static const uint32_t lens[] = {64, 200};
	struct sl_port *s0, *s1, *c0, *c1;
	struct sl_mbuf *in[BURST];
	const char *s = new_sock();

	(void)state;
	s0 = open_port("ms0", 0, "role=server,socket=%s,queues=2,id=7", s);
	s1 = open_port("ms1", 1, "role=server,socket=%s,queues=2,id=7", s);
	c0 = open_port("mc0", 0, "role=client,socket=%s,queues=2,id=7", s);
	c1 = open_port("mc1", 1, "role=client,socket=%s,queues=2,id=7", s);
	assert_non_null(s0);
	assert_non_null(s1);
	assert_non_null(c0);
	assert_non_null(c1);
	assert_true(wait_link(s1, true, 2000));
	assert_true(wait_link(c1, true, 2000));
	assert_true(link_up(s0) && link_up(c0));
	exchange(c0, s0, 300, lens, 2, 4096, 100);
	exchange(c1, s1, 300, lens, 2, 4096, 200);
	exchange(s1, c1, 300, lens, 2, 4096, 300);
	exchange(s0, c0, 300, lens, 2, 4096, 400);
	/* nothing leaked across queue pairs */
	assert_int_equal(sl_pktdev_rx_burst(s1, in, BURST), 0);
	assert_int_equal(sl_pktdev_rx_burst(c0, in, BURST), 0);
	sl_pktdev_close(c1);
	/* the interface stays connected while an lport of it remains */
	sleep_ms(60);
	assert_true(link_up(s0));
	exchange(c0, s0, 10, lens, 2, 4096, 500);
	sl_pktdev_close(c0);
	assert_true(wait_link(s0, false, 2000));
	assert_false(link_up(s1));
	sl_pktdev_close(s0);
	sl_pktdev_close(s1);
}

static void
test_queue_counts_differ(void **state)
{
	static const uint32_t lens[] = {64};
	struct sl_port *s0, *c0, *c1;
	const char *s = new_sock();

	(void)state;
	/* the client wants 2 pairs, the server has 1: pair 0 only */
	s0 = open_port("ms0", 0, "role=server,socket=%s", s);
	c0 = open_port("mc0", 0, "role=client,socket=%s,queues=2", s);
	c1 = open_port("mc1", 1, "role=client,socket=%s,queues=2", s);
	assert_non_null(s0);
	assert_non_null(c0);
	assert_non_null(c1);
	assert_true(wait_link(c0, true, 2000));
	assert_true(wait_link(s0, true, 2000));
	assert_false(link_up(c1));
	exchange(c0, s0, 50, lens, 1, 4096, 61);
	exchange(s0, c0, 50, lens, 1, 4096, 62);
	sl_pktdev_close(c1);
	sl_pktdev_close(c0);
	sl_pktdev_close(s0);
	/* the server has 2, the client 1 */
	s = new_sock();
	s0 = open_port("ms0", 0, "role=server,socket=%s,queues=2", s);
	c1 = open_port("ms1", 1, "role=server,socket=%s,queues=2", s);
	c0 = open_port("mc0", 0, "role=client,socket=%s", s);
	assert_true(wait_link(s0, true, 2000));
	assert_false(link_up(c1));
	exchange(c0, s0, 50, lens, 1, 4096, 63);
	sl_pktdev_close(c0);
	sl_pktdev_close(c1);
	sl_pktdev_close(s0);
}

static void
test_chains(void **state)
{
	/* bigger than bsize=1024 and than one mbuf (1664 bytes of room) */
	static const uint32_t lens[] = {3000, 64, 1025, 9000, 1024};
	struct sl_port *srv, *cli;

	(void)state;
	open_pair(&srv, &cli, ",bsize=1024", ",bsize=1024");
	/* single-mbuf and chained mbufs out, chains back in */
	exchange(cli, srv, 50, lens, SL_DIM(lens), 4096, 11);
	exchange(cli, srv, 50, lens, SL_DIM(lens), 700, 12);
	exchange(srv, cli, 50, lens, SL_DIM(lens), 1500, 13);
	assert_true(xstat(cli, "tx_chained") >= 40);
	assert_true(xstat(srv, "rx_chained") >= 40);
	assert_true(xstat(srv, "tx_chained") >= 20);
	assert_true(xstat(cli, "rx_chained") >= 20);
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

/* Chains on small rings, sent and received one packet per burst: the
 * cached index of the other side must be read again when a chain needs
 * more room (TX) or goes on past what was published (RX). */
static void
test_chains_one_by_one(void **state)
{
	struct sl_port *srv, *cli;
	struct sl_mbuf *m;
	unsigned sent = 0, got = 0;
	uint64_t end = ms_now() + 5000;

	(void)state;
	/* 16 slots, 9000 B = 5 buffers: the room runs out mid-stream */
	open_pair(&srv, &cli, ",rsize=4", ",rsize=4");
	while (got < 40) {
		assert_true(ms_now() < end);
		if (sent < 40) {
			m = make_pkt(9000, 1500, 70 + sent);
			if (sl_pktdev_tx_burst(cli, &m, 1) == 1)
				sent++;
			else
				sl_mbuf_free(m);
		}
		if (sl_pktdev_rx_burst(srv, &m, 1) == 1) {
			check_pkt(m, 9000, 70 + got);
			sl_mbuf_free(m);
			got++;
		}
	}
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

static void
test_link_follows_peer(void **state)
{
	static const uint32_t lens[] = {64};
	struct sl_port *srv, *cli;
	const char *s;
	char sock[96];
	struct sl_mbuf *m;

	(void)state;
	open_pair(&srv, &cli, "", "");
	snprintf(sock, sizeof(sock), "%s", sock_name);
	s = sock;
	/* client goes away: server down; client back: up again */
	sl_pktdev_close(cli);
	assert_true(wait_link(srv, false, 2000));
	/* bursts on a disconnected lport: nothing, packets stay ours */
	m = make_pkt(64, 4096, 0);
	assert_int_equal(sl_pktdev_tx_burst(srv, &m, 1), 0);
	sl_mbuf_free(m);
	cli = open_port("mcli", 0, "role=client,socket=%s", s);
	assert_non_null(cli);
	assert_true(wait_link(srv, true, 2000));
	assert_true(wait_link(cli, true, 2000));
	exchange(cli, srv, 100, lens, 1, 4096, 21);
	/* server goes away: client down, retries, up when it is back */
	sl_pktdev_close(srv);
	assert_true(wait_link(cli, false, 2000));
	m = make_pkt(64, 4096, 0);
	assert_int_equal(sl_pktdev_tx_burst(cli, &m, 1), 0);
	assert_int_equal(sl_pktdev_rx_burst(cli, &m, 1), 0);
	sl_mbuf_free(m);
	sleep_ms(150); /* a failed attempt or two */
	srv = open_port("msrv", 0, "role=server,socket=%s", s);
	assert_non_null(srv);
	assert_true(wait_link(cli, true, 2000));
	assert_true(wait_link(srv, true, 2000));
	exchange(srv, cli, 100, lens, 1, 4096, 22);
	assert_int_equal(xstat(cli, "connects"), 2);
	assert_int_equal(xstat(cli, "disconnects"), 1);
	assert_true(xstat(cli, "connect_fails") >= 1);
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

/* An echo loop on another thread, bursting without pause while the
 * other side comes and goes: the control thread unmaps the rings under
 * it (run under ASan, a burst touching unmapped memory would fault). */
struct echo_arg {
	struct sl_port *port;
	volatile bool stop;
	uint64_t echoed;
};

static void *
echo_main(void *arg)
{
	struct echo_arg *e = arg;
	struct sl_mbuf *b[BURST];
	uint16_t nb, k;

	while (!e->stop) {
		nb = sl_pktdev_rx_burst(e->port, b, BURST);
		k = sl_pktdev_tx_burst(e->port, b, nb);
		sl_mbuf_free_bulk(b + k, nb - k);
		e->echoed += k;
	}
	return NULL;
}

static void
churn(const char *role_echo, const char *role_other)
{
	static const uint32_t lens[] = {64, 300, 3000};
	struct echo_arg e = {0};
	struct sl_port *other;
	const char *s = new_sock();
	pthread_t t;
	unsigned round;

	e.port = open_port("msrv", 0, "role=%s,socket=%s", role_echo, s);
	assert_non_null(e.port);
	assert_int_equal(sl_thread_create(&t, "echo", -1, echo_main, &e), 0);
	other = open_port("mcli", 0, "role=%s,socket=%s", role_other, s);
	assert_non_null(other);
	for (round = 0; round < 4; round++) {
		assert_true(wait_link(other, true, 2000));
		exchange(other, other, 60, lens, SL_DIM(lens), 1000, round);
		sl_pktdev_close(other);
		other = open_port("mcli", 0, "role=%s,socket=%s", role_other,
				  s);
		assert_non_null(other);
	}
	e.stop = true;
	assert_int_equal(sl_thread_join(t, NULL), 0);
	assert_true(e.echoed >= 4 * 60);
	sl_pktdev_close(other);
	sl_pktdev_close(e.port);
}

static void
test_reconnect_under_load(void **state)
{
	(void)state;
	/* the peer of a busy server, then of a busy client, comes and goes */
	churn("server", "client");
	churn("client", "server");
}

/* Server and client that must never connect. */
static void
expect_refused(const char *extra_s, const char *extra_c)
{
	struct sl_port *srv, *cli;
	const char *s = new_sock();
	uint64_t end = ms_now() + 2000;

	srv = open_port("msrv", 0, "role=server,socket=%s%s", s, extra_s);
	cli = open_port("mcli", 0, "role=client,socket=%s%s", s, extra_c);
	assert_non_null(srv);
	assert_non_null(cli);
	while (xstat(srv, "bad_msgs") == 0 || xstat(cli, "connect_fails") == 0)
		assert_true(ms_now() < end);
	sleep_ms(30);
	assert_false(link_up(srv));
	assert_false(link_up(cli));
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

static void
test_secret_mismatch_refused(void **state)
{
	(void)state;
	expect_refused(",secret=abc", ",secret=abd");
	expect_refused(",secret=abc", "");
	/* and a match connects */
	{
		struct sl_port *srv, *cli;

		open_pair(&srv, &cli, ",secret=s3cr3t", ",secret=s3cr3t");
		sl_pktdev_close(cli);
		sl_pktdev_close(srv);
	}
}

static void
test_id_mismatch_refused(void **state)
{
	(void)state;
	expect_refused(",id=1", ",id=2");
}

static void
test_lports_must_agree(void **state)
{
	struct sl_port *a, *b;
	const char *s = new_sock();
	const char *log;

	(void)state;
	a = open_port("ma", 0, "role=server,socket=%s,queues=2", s);
	assert_non_null(a);
	capture_start();
	b = open_port("mb", 1, "role=server,socket=%s,queues=2,rsize=11", s);
	log = capture_end();
	assert_null(b);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(log, "'rsize'"));
	capture_start();
	b = open_port("mb", 0, "role=server,socket=%s,queues=2", s);
	log = capture_end();
	assert_null(b);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(log, "'ma'"));
	/* another id on the same socket is another interface */
	b = open_port("mb", 0, "role=server,socket=%s,id=9", s);
	assert_non_null(b);
	sl_pktdev_close(b);
	sl_pktdev_close(a);
}

static void
test_interrupt_mode(void **state)
{
	static const uint32_t lens[] = {64};
	struct sl_port *srv, *cli;
	struct pollfd pfd;
	uint64_t v;
	int sfd, cfd;

	(void)state;
	open_pair(&srv, &cli, ",mode=interrupt", ",mode=interrupt");
	sfd = sl_pktdev_rx_fd(srv);
	cfd = sl_pktdev_rx_fd(cli);
	assert_true(sfd >= 0 && cfd >= 0);
	assert_true(sl_pktdev_capabilities(srv) & SL_PORT_CAP_RX_INTR);
	/* nothing pending: not readable */
	while (read(sfd, &v, sizeof(v)) > 0)
		;
	while (read(cfd, &v, sizeof(v)) > 0)
		;
	pfd = (struct pollfd){.fd = sfd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 0);
	exchange(cli, srv, 1, lens, 1, 4096, 31);
	/* the client kicked; the control thread forwards it (server) */
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_true(xstat(cli, "tx_kicks") >= 1);
	pfd = (struct pollfd){.fd = cfd, .events = POLLIN};
	exchange(srv, cli, 1, lens, 1, 4096, 32);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_true(xstat(srv, "tx_kicks") >= 1);
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
}

static void
test_filesystem_socket(void **state)
{
	static const uint32_t lens[] = {64, 1500};
	char dir[] = "/tmp/sl-memif-XXXXXX", path[128];
	struct sl_port *srv, *cli;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memif.sock", dir);
	srv = open_port("msrv", 0, "role=server,socket=%s,socket_abstract=no",
			path);
	assert_non_null(srv);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	cli = open_port("mcli", 0, "role=client,socket=%s,socket_abstract=no",
			path);
	assert_non_null(cli);
	assert_true(wait_link(cli, true, 2000));
	exchange(cli, srv, 50, lens, 2, 4096, 41);
	sl_pktdev_close(cli);
	sl_pktdev_close(srv);
	/* the server removes its socket file */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- a raw peer: the wire protocol written out by hand ---------------------
 */

enum {
	M_ACK = 1,
	M_HELLO,
	M_INIT,
	M_ADD_REGION,
	M_ADD_RING,
	M_CONNECT,
	M_CONNECTED,
	M_DISCONNECT
};

static bool raw_padded; /* connect with the NUL-padded abstract name */

static int
raw_connect(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(fd >= 0);
	memcpy(sun.sun_path + 1, name, strlen(name));
	/* DPDK 22 uses the exact length, older peers the whole sun_path */
	len = raw_padded ? sizeof(sun)
			 : (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				       1 + strlen(name));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void
raw_send(int fd, const void *msg, size_t len, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	if (pass_fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* Receive one message with a timeout; returns its type. */
static int
raw_recv(int fd, uint8_t msg[128])
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint16_t type;

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(recv(fd, msg, 128, 0), 128);
	memcpy(&type, msg, 2);
	return type;
}

static void
put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}

static void
put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void
put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void
raw_init(uint8_t *m, uint16_t version, uint32_t id)
{
	memset(m, 0, 128);
	put16(m, 0, M_INIT);
	put16(m, 2, version);
	put32(m, 4, id);
	memcpy(m + 33, "rawpeer", 7);
}

/* Expect DISCONNECT whose reason contains why, then EOF. */
static void
raw_expect_disconnect(int fd, const char *why)
{
	uint8_t m[128];
	char reason[97];

	assert_int_equal(raw_recv(fd, m), M_DISCONNECT);
	memcpy(reason, m + 6, 96);
	reason[96] = '\0';
	if (strstr(reason, why) == NULL)
		fail_msg("DISCONNECT says '%s', expected '%s'", reason, why);
	assert_int_equal(recv(fd, m, 128, 0), 0);
	close(fd);
}

/* Connect, read HELLO; return the socket. */
static int
raw_hello(const char *name)
{
	uint8_t m[128];
	uint16_t v;
	int fd = raw_connect(name);

	assert_int_equal(raw_recv(fd, m), M_HELLO);
	memcpy(&v, m + 34, 2);
	assert_int_equal(v, 0x0200); /* min version */
	memcpy(&v, m + 36, 2);
	assert_int_equal(v, 0x0200); /* max version */
	assert_int_equal(m[44], 10); /* max log2 ring: the server's rsize */
	return fd;
}

/* A region as a client builds it: one C2S and one S2C ring of 2^4 slots
 * and their buffers, in a sealed memfd. */
#define RAW_LOG2 4
#define RAW_SLOTS (1u << RAW_LOG2)
#define RAW_RING (128u + 16u * RAW_SLOTS)
#define RAW_BUF 2048u
#define RAW_SIZE (2 * RAW_RING + 2 * RAW_SLOTS * RAW_BUF)

static int
raw_region(uint8_t **base, bool seal)
{
	int fd = memfd_create("raw", MFD_ALLOW_SEALING);
	uint32_t r, j, cookie = 0x3E31F20;
	uint8_t *b;

	assert_true(fd >= 0);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	assert_int_equal(ftruncate(fd, RAW_SIZE), 0);
	b = mmap(NULL, RAW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(b != MAP_FAILED);
	for (r = 0; r < 2; r++) {
		uint8_t *ring = b + r * RAW_RING;

		memcpy(ring, &cookie, 4);
		for (j = 0; j < RAW_SLOTS; j++) {
			uint8_t *d = ring + 128 + 16 * j;

			put32(d + 4, 0, RAW_BUF);
			put32(d + 8, 0,
			      2 * RAW_RING + (r * RAW_SLOTS + j) * RAW_BUF);
		}
	}
	*base = b;
	return fd;
}

static void
raw_ring_msg(uint8_t *m, bool c2s, uint32_t offset)
{
	memset(m, 0, 128);
	put16(m, 0, M_ADD_RING);
	put16(m, 2, c2s ? 1 : 0);
	put16(m, 4, 0);
	put16(m, 6, 0);
	put32(m, 8, offset);
	m[12] = RAW_LOG2;
}

/* Full handshake with the server of name; returns the socket, up. */
static int
raw_client_connect(const char *name, uint8_t **base, int *region_fd, int efd[2])
{
	uint8_t m[128];
	int fd = raw_hello(name);

	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	*region_fd = raw_region(base, true);
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, RAW_SIZE);
	raw_send(fd, m, 128, *region_fd);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	efd[0] = eventfd(0, EFD_NONBLOCK);
	efd[1] = eventfd(0, EFD_NONBLOCK);
	raw_ring_msg(m, true, 0);
	raw_send(fd, m, 128, efd[0]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	raw_ring_msg(m, false, RAW_RING);
	raw_send(fd, m, 128, efd[1]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	memset(m, 0, 128);
	put16(m, 0, M_CONNECT);
	memcpy(m + 2, "raw0", 4);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_CONNECTED);
	assert_string_equal((char *)m + 2, "msrv");
	return fd;
}

static void
test_misbehaving_peer(void **state)
{
	struct sl_port *srv, *cli;
	const char *s = new_sock();
	uint8_t m[200], *base;
	int fd, rfd, efd[2];
	uint64_t bad;

	(void)state;
	srv = open_port("msrv", 0, "role=server,socket=%s", s);
	assert_non_null(srv);

	/* wrong size */
	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 64, -1);
	raw_expect_disconnect(fd, "Invalid message size");
	fd = raw_hello(s);
	memset(m, 0, sizeof(m));
	put16(m, 0, M_INIT);
	raw_send(fd, m, 200, -1);
	raw_expect_disconnect(fd, "Invalid message size");
	/* wrong version */
	fd = raw_hello(s);
	raw_init(m, 0x0100, 0);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "version");
	/* no INIT first */
	fd = raw_hello(s);
	memset(m, 0, 128);
	put16(m, 0, M_CONNECT);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "Unexpected message");
	/* unknown type */
	fd = raw_hello(s);
	memset(m, 0, 128);
	put16(m, 0, 77);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "Unknown message type");
	/* unknown id, over the NUL-padded address form */
	raw_padded = true;
	fd = raw_hello(s);
	raw_padded = false;
	raw_init(m, 0x0200, 5);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "ID not found");
	bad = xstat(srv, "bad_msgs");
	assert_int_equal(bad, 6);

	/* region without fd, then a region beyond its file, then one not
	 * sealed, then a ring beyond its region, then a bad cookie */
	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, 4096);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "Missing region fd");

	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	rfd = raw_region(&base, true);
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, (uint64_t)RAW_SIZE * 2);
	raw_send(fd, m, 128, rfd);
	raw_expect_disconnect(fd, "Region larger than its file");
	munmap(base, RAW_SIZE);
	close(rfd);

	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	rfd = raw_region(&base, false);
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, RAW_SIZE);
	raw_send(fd, m, 128, rfd);
	raw_expect_disconnect(fd, "sealed");
	munmap(base, RAW_SIZE);
	close(rfd);

	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	rfd = raw_region(&base, true);
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, RAW_SIZE);
	raw_send(fd, m, 128, rfd);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	efd[0] = eventfd(0, 0);
	raw_ring_msg(m, true, RAW_SIZE - 64);
	raw_send(fd, m, 128, efd[0]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	raw_ring_msg(m, false, RAW_RING);
	raw_send(fd, m, 128, efd[0]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	memset(m, 0, 128);
	put16(m, 0, M_CONNECT);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "Ring beyond its region");
	close(efd[0]);

	fd = raw_hello(s);
	raw_init(m, 0x0200, 0);
	raw_send(fd, m, 128, -1);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	memset(base, 0, 4); /* C2S ring cookie gone */
	memset(m, 0, 128);
	put16(m, 0, M_ADD_REGION);
	put64(m, 4, RAW_SIZE);
	raw_send(fd, m, 128, rfd);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	efd[0] = eventfd(0, 0);
	raw_ring_msg(m, true, 0);
	raw_send(fd, m, 128, efd[0]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	raw_ring_msg(m, false, RAW_RING);
	raw_send(fd, m, 128, efd[0]);
	assert_int_equal(raw_recv(fd, m), M_ACK);
	memset(m, 0, 128);
	put16(m, 0, M_CONNECT);
	raw_send(fd, m, 128, -1);
	raw_expect_disconnect(fd, "cookie");
	close(efd[0]);
	munmap(base, RAW_SIZE);
	close(rfd);
	assert_int_equal(xstat(srv, "bad_msgs"), bad + 5);
	assert_false(link_up(srv));

	/* a real client still gets through */
	cli = open_port("mcli", 0, "role=client,socket=%s", s);
	assert_non_null(cli);
	assert_true(wait_link(srv, true, 2000));
	sl_pktdev_close(cli);
	assert_true(wait_link(srv, false, 2000));
	sl_pktdev_close(srv);
}

static void
test_corrupt_ring_disconnects(void **state)
{
	struct sl_port *srv;
	const char *s = new_sock();
	struct sl_mbuf *in[BURST];
	uint8_t *base, m[128];
	int fd, rfd, efd[2];
	uint16_t head;

	(void)state;
	srv = open_port("msrv", 0, "role=server,socket=%s", s);
	assert_non_null(srv);
	fd = raw_client_connect(s, &base, &rfd, efd);
	assert_true(wait_link(srv, true, 2000));

	/* one good packet: a C2S descriptor of 60 bytes */
	memset(base + 2 * RAW_RING, 0xab, 60);
	put32(base + 128 + 4, 0, 60);
	head = 1;
	__atomic_store_n((uint16_t *)(base + 6), head, __ATOMIC_RELEASE);
	assert_int_equal(sl_pktdev_rx_burst(srv, in, BURST), 1);
	assert_int_equal(in[0]->pkt_len, 60);
	sl_mbuf_free(in[0]);

	/* a chain published in two steps, received one packet per burst:
	 * the part seen first must not hold the rest back */
	for (head = 1; head < 4; head++) {
		uint8_t *d = base + 128 + 16 * head;

		memset(base + 2 * RAW_RING + head * RAW_BUF, head, 100);
		put16(d, 0, head < 3 ? 1 : 0); /* NEXT */
		put32(d + 4, 0, 100);
	}
	__atomic_store_n((uint16_t *)(base + 6), (uint16_t)3, __ATOMIC_RELEASE);
	assert_int_equal(sl_pktdev_rx_burst(srv, in, 1), 0);
	__atomic_store_n((uint16_t *)(base + 6), (uint16_t)4, __ATOMIC_RELEASE);
	assert_int_equal(sl_pktdev_rx_burst(srv, in, 1), 1);
	assert_int_equal(in[0]->pkt_len, 300);
	sl_mbuf_free(in[0]);

	/* a descriptor outside the region (slot 4) */
	put32(base + 128 + 16 * 4 + 8, 0, RAW_SIZE - 10);
	put32(base + 128 + 16 * 4 + 4, 0, 60);
	head = 5;
	__atomic_store_n((uint16_t *)(base + 6), head, __ATOMIC_RELEASE);
	assert_int_equal(sl_pktdev_rx_burst(srv, in, BURST), 0);
	assert_int_equal(xstat(srv, "rx_bad_desc"), 1);
	assert_true(xstat(srv, "rx_ring_faults") >= 1);
	raw_expect_disconnect(fd, "Descriptor outside");
	assert_true(wait_link(srv, false, 2000));
	assert_int_equal(sl_pktdev_rx_burst(srv, in, BURST), 0);
	munmap(base, RAW_SIZE);
	close(rfd);
	close(efd[0]);
	close(efd[1]);

	/* a head index beyond the ring */
	fd = raw_client_connect(s, &base, &rfd, efd);
	assert_true(wait_link(srv, true, 2000));
	head = 1000;
	__atomic_store_n((uint16_t *)(base + 6), head, __ATOMIC_RELEASE);
	assert_int_equal(sl_pktdev_rx_burst(srv, in, BURST), 0);
	raw_expect_disconnect(fd, "ring index");
	assert_true(wait_link(srv, false, 2000));
	munmap(base, RAW_SIZE);
	close(rfd);
	close(efd[0]);
	close(efd[1]);

	/* a ring index moved while nobody bursts: the control thread's
	 * audit finds it */
	fd = raw_client_connect(s, &base, &rfd, efd);
	assert_true(wait_link(srv, true, 2000));
	head = 40000;
	__atomic_store_n((uint16_t *)(base + 6), head, __ATOMIC_RELEASE);
	raw_expect_disconnect(fd, "ring index");
	assert_true(wait_link(srv, false, 2000));
	munmap(base, RAW_SIZE);
	close(rfd);
	close(efd[0]);
	close(efd[1]);

	/* the peer dies while connected: link down, back to listening */
	fd = raw_client_connect(s, &base, &rfd, efd);
	assert_true(wait_link(srv, true, 2000));
	close(fd);
	assert_true(wait_link(srv, false, 2000));
	munmap(base, RAW_SIZE);
	close(rfd);
	close(efd[0]);
	close(efd[1]);
	assert_int_equal(xstat(srv, "connects"), 4);
	assert_int_equal(xstat(srv, "disconnects"), 4);
	(void)m;
	sl_pktdev_close(srv);
}

static int
group_setup(void **state)
{
	struct sl_mbuf_pool_cfg cfg = {
		.name = "memif-test",
		.n = NFRAMES,
		.frame_size = FRAME,
		.cache_size = 128,
		.flags = SL_MEMPOOL_F_NO_HUGE,
	};

	(void)state;
	if (sl_thread_register("test") < 0)
		return -1;
	pool = sl_mbuf_pool_create(&cfg);
	lowest_fd = lowest_free_fd();
	return pool != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	sl_mempool_destroy(pool);
	sl_thread_unregister();
	return 0;
}

/* Every test closes its lports (a failed one leaves them: close them so
 * that the next test starts clean) and gives back every frame. */
static int
check_frames(void **state)
{
	static const char *const names[] = {"msrv", "mcli", "ms0", "ms1",
					    "mc0",  "mc1",  "ma",  "mb"};
	struct sl_port *p;
	bool left = false;
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(names); i++) {
		p = sl_pktdev_lookup(names[i]);
		if (p != NULL) {
			sl_pktdev_close(p);
			left = true;
		}
	}
	if (left)
		return -1;
	/* no fd, thread or frame left behind */
	if (lowest_free_fd() != lowest_fd) {
		fprintf(stderr, "fds leaked: lowest free fd %d, was %d\n",
			lowest_free_fd(), lowest_fd);
		return -1;
	}
	if (thread_count() != 1) {
		fprintf(stderr, "%d threads left\n", thread_count());
		return -1;
	}
	return sl_mempool_avail_count(pool) == NFRAMES ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_teardown(test_registered, check_frames),
		cmocka_unit_test_teardown(test_bad_options_name_the_key,
					  check_frames),
		cmocka_unit_test_teardown(test_pair_both_ways, check_frames),
		cmocka_unit_test_teardown(test_ring_full_keeps_packets,
					  check_frames),
		cmocka_unit_test_teardown(test_two_queue_pairs, check_frames),
		cmocka_unit_test_teardown(test_queue_counts_differ,
					  check_frames),
		cmocka_unit_test_teardown(test_chains, check_frames),
		cmocka_unit_test_teardown(test_chains_one_by_one, check_frames),
		cmocka_unit_test_teardown(test_link_follows_peer, check_frames),
		cmocka_unit_test_teardown(test_reconnect_under_load,
					  check_frames),
		cmocka_unit_test_teardown(test_secret_mismatch_refused,
					  check_frames),
		cmocka_unit_test_teardown(test_id_mismatch_refused,
					  check_frames),
		cmocka_unit_test_teardown(test_lports_must_agree, check_frames),
		cmocka_unit_test_teardown(test_interrupt_mode, check_frames),
		cmocka_unit_test_teardown(test_filesystem_socket, check_frames),
		cmocka_unit_test_teardown(test_misbehaving_peer, check_frames),
		cmocka_unit_test_teardown(test_corrupt_ring_disconnects,
					  check_frames),
	};

	sl_log_set_level("net_memif", SL_LOG_WARNING);
	return cmocka_run_group_tests_name("memif", t, group_setup,
					   group_teardown);
}
