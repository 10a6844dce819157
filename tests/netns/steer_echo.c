/*
 * slt-steer-echo: the sluice side of steer.sh. Opens a net_af_xdp lport on
 * queue 0 of a device with steer=rules, echoes every UDP packet that
 * reaches it (MAC addresses, IP addresses and ports swapped, the UDP
 * checksum computed) and changes steering rules while it runs, on
 * commands read from standard input, one per line:
 *
 *   add RULE      add a rule (text form)  -> "ok ID" | "err ERRNO"
 *   del ID        delete it               -> "ok PKTS BYTES" (final counters)
 *   stats ID      a rule's counters       -> "ok PKTS BYTES"
 *   count PORT    UDP packets to PORT echoed -> "ok PKTS BYTES"
 *   other         packets that were not UDP  -> "ok N"
 *   quit          close and exit 0
 *
 * Prints "ready" once the lport is open. Waits on the socket and on
 * standard input with poll() (at most WAIT_MS), so it does not spin.
 * usage: slt-steer-echo IFNAME native|skb
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_pktdev.h"
#include "sluice/sl_steer.h"

#define BURST 32
#define WAIT_MS 5
#define PORTS_MAX 16
#define TX_TRIES 1000

struct port_count {
	uint16_t port;
	uint64_t pkts, bytes;
};

static struct port_count counts[PORTS_MAX];
static uint64_t other, tx_dropped;
static const char *ifname;

static struct port_count *
count_of(uint16_t port, bool make)
{
	unsigned i;

	for (i = 0; i < PORTS_MAX; i++) {
		if (counts[i].port == port && (counts[i].pkts || !make))
			return &counts[i];
		if (make && counts[i].pkts == 0) {
			counts[i].port = port;
			return &counts[i];
		}
	}
	return NULL;
}

static void
swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[6];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* The UDP checksum, computed again: a sender on veth leaves it to the
 * offload that never happens on the way to an AF_XDP socket. */
static void
udp_csum(uint8_t *ip, uint8_t *udp, uint32_t len)
{
	uint32_t sum;

	udp[6] = udp[7] = 0;
	sum = sum16(0, ip + 12, 8) + 17 + len;
	sum = sum16(sum, udp, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	if (sum == 0)
		sum = 0xffff;
	udp[6] = (uint8_t)(sum >> 8);
	udp[7] = (uint8_t)sum;
}

/* Turn an IPv4 UDP packet around; false for anything else. */
static bool
echo_prepare(struct sl_mbuf *m)
{
	uint8_t *p = sl_mbuf_mtod(m, uint8_t *), *ip, *udp;
	struct port_count *c;
	uint32_t ihl, ulen;

	if (m->data_len < 14 + 20 + 8 || p[12] != 0x08 || p[13] != 0x00)
		return false;
	ip = p + 14;
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ip[9] != 17 || ihl < 20 ||
	    m->data_len < 14 + ihl + 8)
		return false;
	udp = ip + ihl;
	ulen = (uint32_t)(udp[4] << 8 | udp[5]);
	if (ulen < 8 || 14 + ihl + ulen > m->data_len)
		return false;
	c = count_of((uint16_t)(udp[2] << 8 | udp[3]), true);
	if (c != NULL) {
		c->pkts++;
		c->bytes += m->pkt_len;
	}
	swap(p, p + 6, 6);
	swap(ip + 12, ip + 16, 4);
	swap(udp, udp + 2, 2);
	udp_csum(ip, udp, ulen);
	return true;
}

static void
echo(struct sl_port *port)
{
	struct sl_mbuf *pkts[BURST], *out[BURST];
	uint16_t n, i, k = 0, sent = 0, tries;

	n = sl_pktdev_rx_burst(port, pkts, BURST);
	for (i = 0; i < n; i++) {
		if (echo_prepare(pkts[i])) {
			out[k++] = pkts[i];
		} else {
			other++;
			sl_mbuf_free(pkts[i]);
		}
	}
	for (tries = 0; sent < k && tries < TX_TRIES; tries++)
		sent += sl_pktdev_tx_burst(port, out + sent, k - sent);
	for (; sent < k; sent++) {
		tx_dropped++;
		sl_mbuf_free(out[sent]);
	}
}

/* One command; false on "quit". */
static bool
command(char *line)
{
	struct sl_steer_rule r;
	struct port_count *c;
	uint64_t p = 0, b = 0;
	unsigned id = 0;
	int err;

	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "add ", 4) == 0) {
		err = sl_steer_rule_parse(line + 4, &r);
		if (err == 0)
			err = sl_steer_rule_add(ifname, &r, &id);
		if (err == 0)
			printf("ok %u\n", id);
		else
			printf("err %d\n", -err);
	} else if (strncmp(line, "del ", 4) == 0 ||
		   strncmp(line, "stats ", 6) == 0) {
		id = (unsigned)strtoul(strchr(line, ' ') + 1, NULL, 0);
		err = line[0] == 'd'
			      ? sl_steer_rule_del_stats(ifname, id, &p, &b)
			      : sl_steer_rule_stats(ifname, id, &p, &b);
		if (err == 0)
			printf("ok %" PRIu64 " %" PRIu64 "\n", p, b);
		else
			printf("err %d\n", -err);
	} else if (strncmp(line, "count ", 6) == 0) {
		c = count_of((uint16_t)atoi(line + 6), false);
		printf("ok %" PRIu64 " %" PRIu64 "\n", c ? c->pkts : 0,
		       c ? c->bytes : 0);
	} else if (strcmp(line, "other") == 0) {
		printf("ok %" PRIu64 "\n", other);
	} else if (strcmp(line, "quit") == 0) {
		printf("ok %" PRIu64 " tx_dropped\n", tx_dropped);
		return false;
	} else {
		printf("err %d unknown command '%s'\n", EINVAL, line);
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct sl_mbuf_pool_cfg pc = {
		.name = "slt-echo", .n = 4096, .frame_size = 2048};
	struct sl_port_cfg cfg = {
		.name = "echo",
		.backend = "net_af_xdp",
		.qid = 0,
	};
	struct sl_mempool *pool;
	struct sl_port *port;
	struct pollfd fds[2];
	char opts[64], line[512];
	size_t used = 0;
	ssize_t n;
	bool run = true;
	char *nl;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IFNAME native|skb\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ifname = argv[1];
	snprintf(opts, sizeof(opts), "mode=%s,steer=rules", argv[2]);
	pool = sl_mbuf_pool_create(&pc);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", strerror(errno));
		return 1;
	}
	cfg.ifname = ifname;
	cfg.pool = pool;
	cfg.options = opts;
	port = sl_pktdev_open(&cfg);
	if (port == NULL || sl_pktdev_start(port) < 0) {
		fprintf(stderr, "lport on %s (%s): %s\n", ifname, opts,
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fds[0].fd = sl_pktdev_rx_fd(port);
	fds[0].events = POLLIN;
	fds[1].fd = STDIN_FILENO;
	fds[1].events = POLLIN;
	while (run) {
		echo(port);
		if (poll(fds, 2, WAIT_MS) < 0 && errno != EINTR)
			break;
		if (!(fds[1].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
		if (n <= 0)
			break; /* the script went away */
		used += (size_t)n;
		line[used] = '\0';
		while (run && (nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			run = command(line);
			memmove(line, nl + 1,
				used - (size_t)(nl + 1 - line) + 1);
			used -= (size_t)(nl + 1 - line);
		}
		if (used == sizeof(line) - 1)
			used = 0; /* a line too long: dropped */
	}
	sl_pktdev_close(port);
	sl_mempool_destroy(pool);
	return 0;
}
