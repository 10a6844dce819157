/*
 * sl-pkt: a small traffic tool over pktdev, for integration tests and
 * benchmarks on any backend.
 *   tx    send --count packets (0: until --seconds) of --size bytes:
 *         Ethernet/IPv4/UDP, payload = 64-bit sequence number + pattern
 *   rx    receive until --count matching packets arrived or --seconds
 *         passed; checks every payload; exit 0 only if --count arrived
 *         intact (with --count 0: count for --seconds and report the rate)
 *   echo  send back what arrives, MAC addresses swapped, for --seconds
 *   echo-check
 *         send --count sequenced packets (at most --window in flight) and
 *         receive them back from a peer that echoes (e.g. testpmd macswap);
 *         exit 0 only if every one came back once and intact
 * --wait-link S polls the link until it is up before the run (fails after
 * S seconds); --delay S then waits S more seconds (a peer may still be
 * setting up, e.g. testpmd flushes its RX queues when it starts
 * forwarding); --linger S keeps the lport open S seconds after the run, so
 * a peer can drain what was sent before the link goes down.
 * The last line printed is a summary; --json prints it as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sl_common.h>
#include <sluice/sl_log.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>
#include <sluice/sl_thread.h>
#include <sluice/sl_time.h>

#define HDR_LEN 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define SEQ_OFF HDR_LEN

enum mode { MODE_TX, MODE_RX, MODE_ECHO, MODE_ECHO_CHECK };

static const char *const mode_names[] = {"tx", "rx", "echo", "echo-check"};

struct opts {
	enum mode mode;
	struct sl_port_cfg cfg;
	uint64_t count;
	double seconds, wait_link, linger, delay;
	unsigned size, burst, pool_n, window;
	int cpu;
	bool json;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
};

struct counters {
	uint64_t pkts, bytes, ok, bad, other, retries, dup;
	uint64_t t_first, t_last; /* TSC of the first and last packet seen */
};

/* One bit per sequence number below --count: finds duplicates. */
struct seen {
	uint8_t *bits;
	uint64_t n;
};

/* 1 when seq was already marked (a duplicate), 0 when newly marked or
 * outside the map. */
static int
seen_mark(struct seen *s, uint64_t seq)
{
	uint8_t bit;

	if (s->bits == NULL || seq >= s->n)
		return 0;
	bit = (uint8_t)(1u << (seq & 7));
	if (s->bits[seq >> 3] & bit)
		return 1;
	s->bits[seq >> 3] |= bit;
	return 0;
}

static void
note_time(struct counters *c, uint64_t now)
{
	if (c->t_first == 0)
		c->t_first = now;
	c->t_last = now;
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static uint8_t
pattern(uint64_t seq, unsigned i)
{
	return (uint8_t)(seq * 7 + i);
}

static uint16_t
ip_csum(const void *hdr, unsigned len)
{
	const uint16_t *p = hdr;
	uint32_t sum = 0;

	while (len > 1) {
		sum += *p++;
		len -= 2;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
build_template(const struct opts *o, uint8_t *t)
{
	uint16_t ip_len = (uint16_t)(o->size - 14);
	uint16_t udp_len = (uint16_t)(o->size - 34);
	uint16_t v16;

	memset(t, 0, HDR_LEN);
	memcpy(t, o->dst_mac, 6);
	memcpy(t + 6, o->src_mac, 6);
	t[12] = 0x08; /* IPv4 */
	t[14] = 0x45;
	v16 = htons(ip_len);
	memcpy(t + 16, &v16, 2);
	t[22] = 64; /* TTL */
	t[23] = 17; /* UDP */
	memcpy(t + 26, &o->src_ip, 4);
	memcpy(t + 30, &o->dst_ip, 4);
	v16 = ip_csum(t + 14, 20);
	memcpy(t + 24, &v16, 2);
	v16 = htons(o->sport);
	memcpy(t + 34, &v16, 2);
	v16 = htons(o->dport);
	memcpy(t + 36, &v16, 2);
	v16 = htons(udp_len);
	memcpy(t + 38, &v16, 2);
	/* UDP checksum 0: none */
}

static int
fill(const struct opts *o, const uint8_t *tmpl, struct sl_mbuf *m, uint64_t seq)
{
	uint8_t *p = sl_mbuf_append(m, o->size);
	unsigned i;

	if (p == NULL)
		return -ENOSPC;
	memcpy(p, tmpl, HDR_LEN);
	memcpy(p + SEQ_OFF, &seq, sizeof(seq));
	for (i = SEQ_OFF + 8; i < o->size; i++)
		p[i] = pattern(seq, i);
	return 0;
}

/* 1: our packet, intact (its sequence number in *seqp); 0: not ours;
 * -1: ours but damaged. */
static int
check(const struct opts *o, const struct sl_mbuf *m, uint64_t *seqp)
{
	uint8_t buf[9216];
	uint64_t seq;
	uint16_t dport;
	unsigned i;

	if (m->pkt_len < SEQ_OFF + 8 || m->pkt_len > sizeof(buf))
		return 0;
	if (sl_mbuf_read(m, 0, m->pkt_len, buf) < 0)
		return -1;
	memcpy(&dport, buf + 36, 2);
	if (buf[12] != 0x08 || buf[13] != 0 || buf[23] != 17 ||
	    ntohs(dport) != o->dport)
		return 0;
	if (m->pkt_len != o->size)
		return -1;
	memcpy(&seq, buf + SEQ_OFF, 8);
	for (i = SEQ_OFF + 8; i < m->pkt_len; i++)
		if (buf[i] != pattern(seq, i))
			return -1;
	*seqp = seq;
	return 1;
}

static void
run_tx(const struct opts *o, struct sl_port *port, struct counters *c,
       uint64_t deadline)
{
	struct sl_mbuf *pkts[256];
	uint8_t tmpl[HDR_LEN];
	uint64_t seq = 0, now;
	unsigned i, n, sent;

	build_template(o, tmpl);
	while (!stop && (o->count == 0 || seq < o->count) &&
	       (now = sl_tsc()) < deadline) {
		n = o->burst;
		if (o->count != 0 && o->count - seq < n)
			n = (unsigned)(o->count - seq);
		if (sl_mbuf_alloc_bulk(o->cfg.pool, pkts, n) < 0) {
			c->retries++;
			continue;
		}
		for (i = 0; i < n; i++)
			(void)fill(o, tmpl, pkts[i], seq + i);
		sent = 0;
		while (sent < n && !stop && sl_tsc() < deadline) {
			sent += sl_pktdev_tx_burst(port, pkts + sent,
						   (uint16_t)(n - sent));
			if (sent < n)
				c->retries++;
		}
		if (sent < n)
			sl_mbuf_free_bulk(pkts + sent, n - sent);
		if (sent != 0)
			note_time(c, now); /* no extra clock read per burst */
		seq += sent;
		c->pkts += sent;
		c->bytes += (uint64_t)sent * o->size;
	}
}

static void
run_rx(const struct opts *o, struct sl_port *port, struct counters *c,
       uint64_t deadline, struct seen *seen)
{
	struct sl_mbuf *pkts[256];
	uint64_t now, seq;
	unsigned i, n;
	int r;

	while (!stop && (o->count == 0 || c->ok < o->count) &&
	       (now = sl_tsc()) < deadline) {
		n = sl_pktdev_rx_burst(port, pkts, (uint16_t)o->burst);
		if (n != 0)
			note_time(c, now);
		for (i = 0; i < n; i++) {
			c->pkts++;
			c->bytes += pkts[i]->pkt_len;
			if (o->count == 0) /* rate mode: don't touch data */
				continue;
			r = check(o, pkts[i], &seq);
			if (r > 0) {
				c->ok++;
				c->dup += (uint64_t)seen_mark(seen, seq);
			} else if (r < 0)
				c->bad++;
			else
				c->other++;
		}
		if (o->count == 0)
			c->ok += n;
		sl_mbuf_free_bulk(pkts, n);
	}
}

static void
run_echo(const struct opts *o, struct sl_port *port, struct counters *c,
	 uint64_t deadline)
{
	struct sl_mbuf *pkts[256];
	uint8_t tmp[6], *p;
	unsigned i, n, sent;

	while (!stop && sl_tsc() < deadline) {
		n = sl_pktdev_rx_burst(port, pkts, (uint16_t)o->burst);
		for (i = 0; i < n; i++) {
			p = sl_mbuf_mtod(pkts[i], uint8_t *);
			memcpy(tmp, p, 6);
			memcpy(p, p + 6, 6);
			memcpy(p + 6, tmp, 6);
			c->bytes += pkts[i]->pkt_len;
		}
		sent = sl_pktdev_tx_burst(port, pkts, (uint16_t)n);
		if (sent < n) {
			c->other += n - sent; /* dropped: TX full */
			sl_mbuf_free_bulk(pkts + sent, n - sent);
		}
		c->pkts += sent;
		c->ok += sent;
	}
}

/* Send --count sequenced packets, keeping at most --window in flight, and
 * take them back from an echoing peer: each must return once, intact. */
static void
run_echo_check(const struct opts *o, struct sl_port *port, struct counters *c,
	       uint64_t deadline, struct seen *seen)
{
	struct sl_mbuf *pkts[256];
	uint8_t tmpl[HDR_LEN];
	uint64_t seq = 0, back = 0, now, s;
	unsigned i, n, sent;
	int r;

	build_template(o, tmpl);
	while (!stop && c->ok < o->count && (now = sl_tsc()) < deadline) {
		n = o->burst;
		if (o->count - seq < n)
			n = (unsigned)(o->count - seq);
		if (seq - back + n > o->window)
			n = seq - back >= o->window
				    ? 0
				    : (unsigned)(o->window - (seq - back));
		if (n != 0 && sl_mbuf_alloc_bulk(o->cfg.pool, pkts, n) < 0) {
			c->retries++;
			n = 0;
		}
		if (n != 0) {
			for (i = 0; i < n; i++)
				(void)fill(o, tmpl, pkts[i], seq + i);
			sent = sl_pktdev_tx_burst(port, pkts, (uint16_t)n);
			if (sent < n) {
				c->retries++;
				sl_mbuf_free_bulk(pkts + sent, n - sent);
			}
			seq += sent;
			c->pkts += sent;
			c->bytes += (uint64_t)sent * o->size;
		}
		n = sl_pktdev_rx_burst(port, pkts, (uint16_t)o->burst);
		if (n != 0)
			note_time(c, now);
		for (i = 0; i < n; i++) {
			r = check(o, pkts[i], &s);
			if (r > 0 && s >= seq) {
				c->bad++; /* a sequence number never sent */
				back++;
			} else if (r > 0 && seen_mark(seen, s)) {
				c->dup++;
			} else if (r > 0) {
				c->ok++;
				back++;
			} else if (r < 0) {
				c->bad++;
				back++;
			} else {
				c->other++;
			}
		}
		sl_mbuf_free_bulk(pkts, n);
	}
}

/* Poll the link until it is up. 0, or -ETIMEDOUT / -EINTR. A backend
 * without link state counts as up. */
static int
wait_link(struct sl_port *port, double seconds)
{
	struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
	struct sl_port_link link;
	uint64_t deadline;
	int err;

	deadline = sl_tsc() + (uint64_t)(seconds * (double)sl_tsc_hz());
	for (;;) {
		err = sl_pktdev_link_get(port, &link);
		if (err == -ENOTSUP)
			return 0;
		if (err == 0 && link.up)
			return 0;
		if (stop)
			return -EINTR;
		if (sl_tsc() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
}

/* Keep the lport open (and idle) for a while, or until a signal. */
static void
linger(double seconds)
{
	struct timespec ms = {.tv_sec = 0, .tv_nsec = 10000000};
	uint64_t deadline;

	deadline = sl_tsc() + (uint64_t)(seconds * (double)sl_tsc_hz());
	while (!stop && sl_tsc() < deadline)
		nanosleep(&ms, NULL);
}

/* One line per registered backend: name, tab, description. */
static void
list_backends(void)
{
	struct sl_pktdev_backend_info info[64];
	unsigned i, n;

	n = sl_pktdev_backend_list(info, 64);
	for (i = 0; i < n && i < 64; i++)
		printf("%s\t%s\n", info[i].name, info[i].desc);
}

static void
usage(void)
{
	printf("usage: sl-pkt --mode tx|rx|echo|echo-check --backend NAME "
	       "[--ifname IF] [--qid N]\n"
	       "  [--options k=v,...] [--count N] [--seconds S] [--size B] "
	       "[--burst N]\n"
	       "  [--wait-link S] [--delay S] [--linger S] [--window N] "
	       "[--list-backends]\n"
	       "  [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A] "
	       "[--sport P] [--dport P]\n"
	       "  [--pool N] [--cpu C] [--json] [--log LEVELS]\n");
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"mode", 1, NULL, 'm'},		 {"backend", 1, NULL, 'b'},
		{"ifname", 1, NULL, 'i'},	 {"qid", 1, NULL, 'q'},
		{"options", 1, NULL, 'o'},	 {"count", 1, NULL, 'c'},
		{"seconds", 1, NULL, 't'},	 {"size", 1, NULL, 's'},
		{"burst", 1, NULL, 'B'},	 {"src-mac", 1, NULL, 'M'},
		{"dst-mac", 1, NULL, 'D'},	 {"src-ip", 1, NULL, 'I'},
		{"dst-ip", 1, NULL, 'J'},	 {"sport", 1, NULL, 'S'},
		{"dport", 1, NULL, 'P'},	 {"pool", 1, NULL, 'n'},
		{"cpu", 1, NULL, 'C'},		 {"json", 0, NULL, 'j'},
		{"log", 1, NULL, 'l'},		 {"help", 0, NULL, 'h'},
		{"wait-link", 1, NULL, 'W'},	 {"linger", 1, NULL, 'L'},
		{"delay", 1, NULL, 'd'},	 {"window", 1, NULL, 'w'},
		{"list-backends", 0, NULL, 'T'}, {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "tx") == 0)
				o->mode = MODE_TX;
			else if (strcmp(optarg, "rx") == 0)
				o->mode = MODE_RX;
			else if (strcmp(optarg, "echo") == 0)
				o->mode = MODE_ECHO;
			else if (strcmp(optarg, "echo-check") == 0)
				o->mode = MODE_ECHO_CHECK;
			else
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
		case 'c':
			o->count = strtoull(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 's':
			o->size = (unsigned)atoi(optarg);
			break;
		case 'B':
			o->burst = (unsigned)atoi(optarg);
			break;
		case 'M':
			if (parse_mac(optarg, o->src_mac) < 0)
				goto bad;
			break;
		case 'D':
			if (parse_mac(optarg, o->dst_mac) < 0)
				goto bad;
			break;
		case 'I':
			if (inet_pton(AF_INET, optarg, &o->src_ip) != 1)
				goto bad;
			break;
		case 'J':
			if (inet_pton(AF_INET, optarg, &o->dst_ip) != 1)
				goto bad;
			break;
		case 'S':
			o->sport = (uint16_t)atoi(optarg);
			break;
		case 'P':
			o->dport = (uint16_t)atoi(optarg);
			break;
		case 'n':
			o->pool_n = (unsigned)atoi(optarg);
			break;
		case 'C':
			o->cpu = atoi(optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			if (sl_log_set_levels(optarg) < 0)
				return -EINVAL;
			break;
		case 'W':
			o->wait_link = atof(optarg);
			break;
		case 'L':
			o->linger = atof(optarg);
			break;
		case 'd':
			o->delay = atof(optarg);
			break;
		case 'w':
			o->window = (unsigned)atoi(optarg);
			break;
		case 'T':
			list_backends();
			exit(0);
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -EINVAL;
		}
	}
	if (o->cfg.backend == NULL) {
		fprintf(stderr, "sl-pkt: --backend is required\n");
		return -EINVAL;
	}
	if (o->size < HDR_LEN + 8 || o->size > 9000 || o->burst == 0 ||
	    o->burst > 256 || o->seconds <= 0) {
		fprintf(stderr, "sl-pkt: --size must be 50..9000, --burst "
				"1..256, --seconds > 0\n");
		return -EINVAL;
	}
	if (o->wait_link < 0 || o->linger < 0 || o->delay < 0 ||
	    o->window == 0) {
		fprintf(stderr,
			"sl-pkt: --wait-link, --delay and --linger must "
			"be >= 0, --window > 0\n");
		return -EINVAL;
	}
	if (o->mode == MODE_ECHO_CHECK && o->count == 0) {
		fprintf(stderr, "sl-pkt: echo-check needs --count > 0\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "sl-pkt: bad value '%s'\n", optarg);
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.mode = MODE_RX,
		.cfg = {.name = "sl-pkt"},
		.seconds = 10,
		.size = 64,
		.burst = 32,
		.pool_n = 16384,
		.window = 256,
		.cpu = -1,
		.src_mac = {0x02, 0, 0, 0, 0, 1},
		.dst_mac = {0x02, 0, 0, 0, 0, 2},
		.sport = 9000,
		.dport = 9001,
	};
	struct sl_mbuf_pool_cfg pcfg = {
		.name = "sl-pkt", .frame_size = 2048, .cache_size = 256};
	struct counters c = {0};
	struct seen seen = {NULL, 0};
	struct sl_port_stats st;
	struct sl_port *port;
	uint64_t t0, t1, hz;
	double secs, active;
	int rc = 0, err;

	inet_pton(AF_INET, "198.18.0.1", &o.src_ip);
	inet_pton(AF_INET, "198.18.0.2", &o.dst_ip);
	if (parse(argc, argv, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.size > 2048 - 128 - SL_MBUF_HEADROOM)
		pcfg.frame_size = 16384;
	pcfg.n = o.pool_n;
	if (sl_thread_register("sl-pkt") < 0 ||
	    (o.cpu >= 0 && sl_cpu_pin(o.cpu) < 0))
		return 1;
	o.cfg.pool = sl_mbuf_pool_create(&pcfg);
	if (o.cfg.pool == NULL) {
		fprintf(stderr, "sl-pkt: pool: %s\n", strerror(errno));
		return 1;
	}
	port = sl_pktdev_open(&o.cfg);
	if (port == NULL) {
		fprintf(stderr, "sl-pkt: cannot open %s: %s\n", o.cfg.backend,
			strerror(errno));
		rc = 1;
		goto free_pool;
	}
	if (sl_pktdev_start(port) < 0) {
		rc = 1;
		goto close_port;
	}
	if (o.count != 0 && (o.mode == MODE_RX || o.mode == MODE_ECHO_CHECK)) {
		seen.n = o.count;
		seen.bits = calloc((size_t)((o.count + 7) / 8), 1);
		if (seen.bits == NULL) {
			fprintf(stderr,
				"sl-pkt: no memory for %" PRIu64
				" sequence numbers\n",
				o.count);
			rc = 1;
			goto close_port;
		}
	}
	if (o.wait_link > 0) {
		err = wait_link(port, o.wait_link);
		if (err < 0) {
			fprintf(stderr,
				"sl-pkt: link of %s (%s) not up after "
				"%.1f s: %s\n",
				sl_pktdev_name(port), sl_pktdev_backend(port),
				o.wait_link, strerror(-err));
			rc = 1;
			goto close_port;
		}
	}
	if (o.delay > 0)
		linger(o.delay);
	hz = sl_tsc_hz();
	t0 = sl_tsc();
	if (o.mode == MODE_TX)
		run_tx(&o, port, &c, t0 + (uint64_t)(o.seconds * (double)hz));
	else if (o.mode == MODE_RX)
		run_rx(&o, port, &c, t0 + (uint64_t)(o.seconds * (double)hz),
		       &seen);
	else if (o.mode == MODE_ECHO)
		run_echo(&o, port, &c, t0 + (uint64_t)(o.seconds * (double)hz));
	else
		run_echo_check(&o, port, &c,
			       t0 + (uint64_t)(o.seconds * (double)hz), &seen);
	t1 = sl_tsc();
	secs = (double)(t1 - t0) / (double)hz;
	/* first to last packet received: the rate while traffic flowed */
	active = (double)(c.t_last - c.t_first) / (double)hz;
	if (o.linger > 0)
		linger(o.linger);
	sl_pktdev_stats_get(port, &st);
	if (o.json)
		printf("{\"mode\":\"%s\",\"packets\":%" PRIu64
		       ",\"bytes\":%" PRIu64 ",\"ok\":%" PRIu64
		       ",\"bad\":%" PRIu64 ",\"other\":%" PRIu64
		       ",\"seconds\":%.3f,\"mpps\":%.4f,\"ipackets\":%" PRIu64
		       ",\"opackets\":%" PRIu64 ",\"imissed\":%" PRIu64
		       ",\"rx_nombuf\":%" PRIu64 ",\"dup\":%" PRIu64
		       ",\"active_seconds\":%.6f,\"active_mpps\":%.4f}\n",
		       mode_names[o.mode], c.pkts, c.bytes, c.ok, c.bad,
		       c.other, secs, (double)c.pkts / secs / 1e6, st.ipackets,
		       st.opackets, st.imissed, st.rx_nombuf, c.dup, active,
		       active > 0 ? (double)c.pkts / active / 1e6 : 0.0);
	else
		printf("sl-pkt %s: %" PRIu64 " packets, %" PRIu64
		       " bytes in %.3f s (%.3f Mpps): %" PRIu64 " ok, %" PRIu64
		       " bad, %" PRIu64 " other\n",
		       mode_names[o.mode], c.pkts, c.bytes, secs,
		       (double)c.pkts / secs / 1e6, c.ok, c.bad, c.other);
	/* tx: every packet asked for was accepted; rx, echo-check: every one
	 * arrived intact */
	if (c.bad != 0 ||
	    (o.count != 0 && o.mode == MODE_TX && c.pkts < o.count) ||
	    (o.count != 0 && c.ok < o.count && o.mode != MODE_ECHO &&
	     o.mode != MODE_TX))
		rc = 1;
	if (o.mode == MODE_ECHO_CHECK && c.dup != 0)
		rc = 1;
close_port:
	free(seen.bits);
	sl_pktdev_close(port);
free_pool:
	sl_mempool_cache_flush(o.cfg.pool);
	sl_mempool_destroy(o.cfg.pool);
	sl_thread_unregister();
	return rc;
}
