/*
 * Integration tests of the kernel-facing backends against the kernel's own
 * UDP sockets: real traffic both ways, payloads compared byte for byte,
 * counters and xstats checked, then the control ops and the error paths.
 *
 *   test_kernel_peer af_packet PEER_NETNS   net_af_packet on veth slt0 (in
 *                                           this netns) whose peer slt1 is
 *                                           in PEER_NETNS
 *   test_kernel_peer tap                    net_tap on sltap0 / sltapm
 *   test_kernel_peer tun                    net_tun on sltun0 / sltunm
 *   test_kernel_peer af_xdp PEER_NETNS MODE net_af_xdp on slt0 (4 queues),
 *                                           mode=native or skb; a bpffs
 *                                           of the test at $SLT_BPFFS
 *
 * kernel_peer.sh creates the namespaces and devices (the names, MACs and
 * addresses below must match it) and runs this program inside them. Each
 * test closes every lport it opened and then checks that the pools have
 * every mbuf back and that no fd or ring mapping is left.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <spawn.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <cmocka.h>
#ifdef SLT_HAVE_AF_XDP
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

#include "sluice/sl_log.h"
#include "sluice/sl_mbuf.h"
#include "sluice/sl_mem.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_pktdev.h"

/* ---- topology (kept in sync with kernel_peer.sh) ------------------------- */

/* net_af_packet: veth slt0 here (no address; sluice is 198.18.0.1),
 * slt1 in the peer netns with 198.18.0.2/24 and a permanent neighbour
 * 198.18.0.1 -> slt0's MAC. */
#define AFP_IF "slt0"
#define AFP_PEER_IF "slt1"
#define AFP_MAC "\x02\x00\x00\x00\x00\x0a"
#define AFP_PEER_MAC "\x02\x00\x00\x00\x00\x0b"
#define AFP_IP "198.18.0.1"
#define AFP_PEER_IP "198.18.0.2"
/* net_af_xdp also: veth slt2 here (4 queues; sluice is 198.18.6.1) --
 * slt3 in the peer netns (4 queues, 198.18.6.2/24, permanent neighbour). */
#define AXQ2_IF "slt2"
#define AXQ2_PEER_IF "slt3"
#define AXQ2_MAC "\x02\x00\x00\x00\x06\x0a"
#define AXQ2_PEER_MAC "\x02\x00\x00\x00\x06\x0b"
#define AXQ2_IP "198.18.6.1"
#define AXQ2_PEER_IP "198.18.6.2"
/* net_tap: sltap0 (kernel 198.18.1.1/24, MAC 02:..:01:01, neighbour
 * 198.18.1.2 -> 02:..:01:02, the sluice side) and the multi-queue sltapm
 * (198.18.4.1/24, neighbour 198.18.4.2 -> 02:..:04:02). */
#define TAP_IF "sltap0"
#define TAP_MAC "\x02\x00\x00\x00\x01\x01"
#define TAP_PEER_MAC "\x02\x00\x00\x00\x01\x02"
#define TAP_IP "198.18.1.1"
#define TAP_PEER_IP "198.18.1.2"
#define TAPM_IF "sltapm"
#define TAPM_MAC "\x02\x00\x00\x00\x04\x01"
#define TAPM_PEER_MAC "\x02\x00\x00\x00\x04\x02"
#define TAPM_IP "198.18.4.1"
#define TAPM_PEER_IP "198.18.4.2"
/* net_tun: sltun0 (198.18.2.1/24, sluice side 198.18.2.2) and the
 * multi-queue sltunm (198.18.5.1/24, sluice side 198.18.5.2). */
#define TUN_IF "sltun0"
#define TUN_IP "198.18.2.1"
#define TUN_PEER_IP "198.18.2.2"
#define TUNM_IF "sltunm"
#define TUNM_IP "198.18.5.1"
#define TUNM_PEER_IP "198.18.5.2"
/* Devices the tests create themselves (and must see go away). */
#define TAPC_IF "sltapc"
#define TAPP_IF "sltapp"
#define TUNC_IF "sltunc"
#define NOSUCH_IF "slt-nosuch"

#define KPORT 7000	 /* kernel socket's UDP port */
#define SPORT 7001	 /* sluice side's UDP port */
#define FLOW_PORT0 20000 /* first destination port of the flow tests */
#define NB_PKTS 64	 /* packets each way in a traffic test */
#define BATCH 8		 /* sent before waiting for them */
#define NB_FLOWS 300	 /* flows of the multi-queue tests */
#define WAIT_MS 5000	 /* longest wait for expected packets */
#define MAX_PKT 2048

static const char *backend;
static const char *peer_ns; /* af_packet, af_xdp: the netns of slt1 */
/* Called on every packet rx_until() receives (NULL: nothing to check). */
static void (*rx_hook)(const char *where, const struct sl_mbuf *m);
static struct sl_mempool *pool_2k, *pool_1k;

/* ---- bookkeeping: lports and fds a failed test leaves open --------------- */

#define OPEN_MAX 8
static struct sl_port *opened[OPEN_MAX];
static int sockets[OPEN_MAX];
static int fd_baseline, map_baseline;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Open fds; with show, print what each is. */
static int
count_fds_show(bool show)
{
	char path[300], target[256];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	ssize_t len;
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		n++;
		if (!show)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		print_error("  fd %s -> %s\n", d->d_name, target);
	}
	closedir(dir);
	return n;
}

static int
count_fds(void)
{
	return count_fds_show(false);
}

/* Mappings of sockets: the AF_PACKET rings. */
static int
count_socket_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, "socket:") != NULL;
	fclose(f);
	return n;
}

static int
test_setup(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < OPEN_MAX; i++)
		sockets[i] = -1;
	fd_baseline = count_fds();
	map_baseline = count_socket_maps();
	return 0;
}

static void
port_close(struct sl_port *p)
{
	unsigned i;

	for (i = 0; i < OPEN_MAX; i++)
		if (opened[i] == p)
			opened[i] = NULL;
	sl_pktdev_close(p);
}

static void
sock_close(int fd)
{
	unsigned i;

	for (i = 0; i < OPEN_MAX; i++)
		if (sockets[i] == fd)
			sockets[i] = -1;
	close(fd);
}

/* Close what the test left open, then check that closing released
 * everything: every mbuf back in its pool, no fd and no ring left. */
static int
test_teardown(void **state)
{
	unsigned i;
	int fds, maps;

	(void)state;
	for (i = 0; i < OPEN_MAX; i++) {
		if (opened[i] != NULL)
			sl_pktdev_close(opened[i]);
		opened[i] = NULL;
		if (sockets[i] >= 0)
			close(sockets[i]);
		sockets[i] = -1;
	}
	fds = count_fds();
	maps = count_socket_maps();
	if (sl_mempool_in_use_count(pool_2k) != 0 ||
	    sl_mempool_in_use_count(pool_1k) != 0 || fds != fd_baseline ||
	    maps != map_baseline) {
		print_error("after close: %u + %u mbufs in use, %d fds (%d "
			    "before), %d socket mappings (%d before)\n",
			    sl_mempool_in_use_count(pool_2k),
			    sl_mempool_in_use_count(pool_1k), fds, fd_baseline,
			    maps, map_baseline);
		(void)count_fds_show(true);
		return -1;
	}
	return 0;
}

static struct sl_port *
port_open_cfg(const struct sl_port_cfg *cfg)
{
	struct sl_port *p = sl_pktdev_open(cfg);
	unsigned i;

	if (p == NULL)
		fail_msg("%s: opening %s on %s (options '%s') failed: %s",
			 cfg->name, cfg->backend,
			 cfg->ifname ? cfg->ifname : "(none)",
			 cfg->options ? cfg->options : "", strerror(errno));
	for (i = 0; i < OPEN_MAX && opened[i] != NULL; i++)
		;
	assert_true(i < OPEN_MAX);
	opened[i] = p;
	assert_int_equal(sl_pktdev_start(p), 0);
	return p;
}

static struct sl_port *
port_open(const char *name, const char *ifname, uint16_t qid,
	  struct sl_mempool *pool, const char *options)
{
	struct sl_port_cfg cfg = {
		.name = name,
		.backend = backend,
		.ifname = ifname,
		.qid = qid,
		.pool = pool,
		.options = options,
	};

	return port_open_cfg(&cfg);
}

static void
sock_track(int fd)
{
	unsigned i;

	for (i = 0; i < OPEN_MAX && sockets[i] >= 0; i++)
		;
	assert_true(i < OPEN_MAX);
	sockets[i] = fd;
}

/* ---- log capture: does the error message name the culprit? --------------- */

static int cap_fd = -1, cap_saved = -1;

static void
capture_begin(void)
{
	fflush(stderr);
	cap_fd = memfd_create("slt-log", MFD_CLOEXEC);
	assert_true(cap_fd >= 0);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved >= 0);
	assert_true(dup2(cap_fd, STDERR_FILENO) >= 0);
}

static void
capture_end(char *buf, size_t len)
{
	ssize_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	n = pread(cap_fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(cap_fd);
	fputs(buf, stderr); /* keep it in the test log */
}

/* Opening cfg must fail with errno err and a log line containing needle. */
static void
expect_open_fails(const struct sl_port_cfg *cfg, int err, const char *needle)
{
	struct sl_port *p;
	char log[4096];
	int saved;

	capture_begin();
	errno = 0;
	p = sl_pktdev_open(cfg);
	saved = errno;
	capture_end(log, sizeof(log));
	if (p != NULL) {
		sl_pktdev_close(p);
		fail_msg("%s on %s with options '%s': open succeeded, expected "
			 "%s",
			 cfg->backend, cfg->ifname ? cfg->ifname : "(none)",
			 cfg->options ? cfg->options : "", strerror(err));
	}
	if (saved != err)
		fail_msg("%s on %s with options '%s': errno %d (%s), expected "
			 "%d (%s)",
			 cfg->backend, cfg->ifname ? cfg->ifname : "(none)",
			 cfg->options ? cfg->options : "", saved,
			 strerror(saved), err, strerror(err));
	if (strstr(log, needle) == NULL)
		fail_msg("%s on %s with options '%s': the log does not say "
			 "\"%s\": %s",
			 cfg->backend, cfg->ifname ? cfg->ifname : "(none)",
			 cfg->options ? cfg->options : "", needle, log);
}

static void
expect_fails(const char *ifname, uint16_t qid, const char *options, int err,
	     const char *needle)
{
	struct sl_port_cfg cfg = {
		.name = "bad",
		.backend = backend,
		.ifname = ifname,
		.qid = qid,
		.pool = pool_2k,
		.options = options,
	};

	expect_open_fails(&cfg, err, needle);
}

/* ---- kernel side: sockets, possibly in another netns --------------------- */

static int
udp_socket_in(const char *netns, const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int self = -1, other = -1, fd, rcvbuf = 4 << 20;
	char path[128];

	if (netns != NULL) {
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		other = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || other < 0)
			fail_msg("opening %s: %s", path, strerror(errno));
		if (setns(other, CLONE_NEWNET) < 0)
			fail_msg("setns %s: %s", path, strerror(errno));
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (netns != NULL) {
		assert_int_equal(setns(self, CLONE_NEWNET), 0);
		close(self);
		close(other);
	}
	if (fd < 0)
		fail_msg("UDP socket: %s", strerror(errno));
	sock_track(fd);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		fail_msg("bind UDP %s:%u: %s", ip, port, strerror(errno));
	return fd;
}

static void
ksend(int fd, const char *ip, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(port)};
	uint64_t end = now_ms() + WAIT_MS;

	assert_int_equal(inet_pton(AF_INET, ip, &to.sin_addr), 1);
	while (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) <
	       0) {
		if (errno != EAGAIN && errno != ENOBUFS)
			fail_msg("kernel sendto %s:%u: %s", ip, port,
				 strerror(errno));
		if (now_ms() > end)
			fail_msg("kernel sendto %s:%u: still %s after %d ms",
				 ip, port, strerror(errno), WAIT_MS);
		usleep(1000);
	}
}

/* Interface ioctls in this netns, independent of the backends'. */
static int
ifioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	assert_true(fd >= 0);
	memset(ifr->ifr_name, 0, sizeof(ifr->ifr_name));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	rc = ioctl(fd, req, ifr) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* ---- packets ------------------------------------------------------------- */

/* One direction of a UDP flow between the sluice side and the kernel. */
struct flow {
	bool l2; /* Ethernet header (TAP, AF_PACKET) or bare IP (TUN) */
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr src, dst;
	uint16_t sport, dport;
};

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ethernet (if f->l2) + IPv4 + UDP with correct checksums. */
static uint32_t
build_udp(uint8_t *buf, const struct flow *f, const uint8_t *payload,
	  uint32_t plen)
{
	uint8_t *ip = buf + (f->l2 ? 14 : 0), *udp = ip + 20;
	uint32_t sum;

	if (f->l2) {
		memcpy(buf, f->dst_mac, 6);
		memcpy(buf + 6, f->src_mac, 6);
		put16(buf + 12, 0x0800);
	}
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &f->src, 4);
	memcpy(ip + 16, &f->dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(udp, f->sport);
	put16(udp + 2, f->dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	sum = csum_add(0, ip + 12, 8) + 17 + 8 + plen;
	sum = csum_add(sum, udp, 8 + plen);
	put16(udp + 6, csum_fold(sum) ? csum_fold(sum) : 0xffff);
	return (uint32_t)(udp + 8 + plen - buf);
}

/* Parse what build_udp() makes; false if pkt is not such a packet. */
static bool
parse_udp(const uint8_t *pkt, uint32_t len, bool l2, struct flow *f,
	  const uint8_t **payload, uint32_t *plen)
{
	const uint8_t *ip = pkt + (l2 ? 14 : 0), *udp;
	uint32_t ihl;

	if (len < (l2 ? 14u : 0u) + 28)
		return false;
	if (l2 && get16(pkt + 12) != 0x0800)
		return false;
	if ((ip[0] >> 4) != 4 || ip[9] != 17)
		return false;
	ihl = (ip[0] & 0xfu) * 4;
	udp = ip + ihl;
	if ((uint32_t)(udp + 8 - pkt) > len ||
	    get16(ip + 2) != (uint32_t)(pkt + len - ip) ||
	    get16(udp + 4) != (uint32_t)(pkt + len - udp))
		return false;
	memset(f, 0, sizeof(*f));
	f->l2 = l2;
	if (l2) {
		memcpy(f->dst_mac, pkt, 6);
		memcpy(f->src_mac, pkt + 6, 6);
	}
	memcpy(&f->src, ip + 12, 4);
	memcpy(&f->dst, ip + 16, 4);
	f->sport = get16(udp);
	f->dport = get16(udp + 2);
	*payload = udp + 8;
	*plen = len - (uint32_t)(udp + 8 - pkt);
	return true;
}

/* Payload of packet seq of a test: its length and its bytes, the first
 * four being seq itself. */
static uint32_t
payload_len(uint32_t seq)
{
	return 16 + (seq * 97) % 1385; /* 16..1400 bytes */
}

static void
payload_fill(uint8_t *p, uint32_t len, uint8_t tag, uint32_t seq)
{
	uint32_t i;

	memcpy(p, &seq, 4);
	for (i = 4; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i * 13 + tag);
}

static uint32_t
payload_seq(const uint8_t *p)
{
	uint32_t seq;

	memcpy(&seq, p, 4);
	return seq;
}

/* Check a received payload against what payload_fill() made. */
static void
payload_check(const char *where, const uint8_t *p, uint32_t len, uint8_t tag,
	      uint32_t limit)
{
	uint8_t want[MAX_PKT];
	uint32_t seq = payload_seq(p), i;

	if (seq >= limit)
		fail_msg("%s: payload of sequence number %u, only %u sent",
			 where, seq, limit);
	if (len != payload_len(seq))
		fail_msg("%s: packet %u has %u bytes of payload, %u sent",
			 where, seq, len, payload_len(seq));
	payload_fill(want, len, tag, seq);
	for (i = 0; i < len; i++)
		if (p[i] != want[i])
			fail_msg("%s: packet %u differs at payload byte %u: "
				 "0x%02x, 0x%02x sent",
				 where, seq, i, p[i], want[i]);
}

/* A packet in an mbuf chain of nsegs segments (split evenly). */
static struct sl_mbuf *
mbuf_make(struct sl_mempool *mp, const uint8_t *data, uint32_t len,
	  unsigned nsegs)
{
	uint32_t room =
		sl_mempool_obj_size(mp) - SL_MBUF_META_SIZE - SL_MBUF_HEADROOM;
	struct sl_mbuf *head = NULL, *m;
	uint32_t off = 0, chunk;
	unsigned i;

	/* at least as many segments as the frames need */
	if (nsegs < (len + room - 1) / room)
		nsegs = (len + room - 1) / room;
	for (i = 0; i < nsegs; i++) {
		chunk = i + 1 == nsegs ? len - off : len / nsegs;
		m = sl_mbuf_alloc(mp);
		assert_non_null(m);
		assert_non_null(sl_mbuf_append(m, chunk));
		memcpy(sl_mbuf_mtod(m, uint8_t *), data + off, chunk);
		off += chunk;
		if (head == NULL)
			head = m;
		else
			assert_int_equal(sl_mbuf_chain(head, m), 0);
	}
	return head;
}

/* Send every packet, retrying while the lport's ring is full. */
static void
tx_all(struct sl_port *p, struct sl_mbuf **pkts, uint16_t n)
{
	uint64_t end = now_ms() + WAIT_MS;
	uint16_t done = 0;

	while (done < n) {
		done += sl_pktdev_tx_burst(p, pkts + done, n - done);
		if (done < n && now_ms() > end) {
			sl_mbuf_free_bulk(pkts + done, n - done);
			fail_msg("%s: TX took %u of %u packets in %d ms",
				 sl_pktdev_name(p), done, n, WAIT_MS);
		}
	}
}

/* Every mbuf of a chain consistent: segment lengths add up. */
static void
mbuf_check(const char *where, const struct sl_mbuf *m)
{
	const struct sl_mbuf *s;
	uint32_t sum = 0;
	unsigned n = 0;

	for (s = m; s != NULL; s = s->next) {
		sum += s->data_len;
		n++;
	}
	if (sum != m->pkt_len || n != m->nb_segs)
		fail_msg("%s: chain of %u segments holding %u bytes, head says "
			 "%u segments, %u bytes",
			 where, n, sum, m->nb_segs, m->pkt_len);
}

/* ---- receiving on lports ------------------------------------------------- */

/* What lports received while waiting for a set of expected packets. */
struct rx_tally {
	uint64_t pkts, bytes; /* everything received, per lport */
	uint64_t matched;     /* expected packets, per lport */
};

struct expect {
	const struct flow *f; /* what a matching packet looks like; the
			       * destination port may vary with
			       * dport_any */
	bool dport_any;
	uint8_t tag;
	uint32_t limit; /* sequence numbers 0..limit-1 */
	uint8_t *seen;	/* limit counters */
	uint32_t nb_seen;
	uint32_t ptype; /* expected L2 | L3 type */
};

/* Account for one received packet and check it if it is one of exp's:
 * headers, packet type, payload byte for byte, seen once only. */
static void
rx_check(const char *where, struct sl_mbuf *m, struct expect *exp,
	 struct rx_tally *tally)
{
	static uint8_t buf[1 << 16];
	const uint8_t *payload;
	uint32_t plen, seq;
	struct flow got;

	mbuf_check(where, m);
	tally->pkts++;
	tally->bytes += m->pkt_len;
	assert_true(m->pkt_len <= sizeof(buf));
	assert_int_equal(sl_mbuf_read(m, 0, m->pkt_len, buf), 0);
	if (!parse_udp(buf, m->pkt_len, exp->f->l2, &got, &payload, &plen) ||
	    got.src.s_addr != exp->f->src.s_addr ||
	    got.dst.s_addr != exp->f->dst.s_addr ||
	    got.sport != exp->f->sport ||
	    (!exp->dport_any && got.dport != exp->f->dport) || plen < 4) {
		print_message("%s: %u bytes of another packet (ignored)\n",
			      where, m->pkt_len);
		return;
	}
	if (exp->f->l2 && (memcmp(got.dst_mac, exp->f->dst_mac, 6) != 0 ||
			   memcmp(got.src_mac, exp->f->src_mac, 6) != 0))
		fail_msg("%s: wrong MAC addresses", where);
	if ((m->packet_type & (SL_PTYPE_L2_MASK | SL_PTYPE_L3_MASK)) !=
	    exp->ptype)
		fail_msg("%s: packet_type 0x%x, expected 0x%x", where,
			 m->packet_type, exp->ptype);
	payload_check(where, payload, plen, exp->tag, exp->limit);
	seq = payload_seq(payload);
	if (exp->dport_any && got.dport != FLOW_PORT0 + seq)
		fail_msg("%s: packet %u on port %u", where, seq, got.dport);
	if (exp->seen[seq]++ != 0)
		fail_msg("%s: packet %u received twice", where, seq);
	exp->nb_seen++;
	tally->matched++;
}

/* Receive on nports lports until want packets of exp were seen; fail
 * after WAIT_MS, on a duplicate or on a corrupt packet. */
static void
rx_until(struct sl_port **ports, unsigned nports, struct expect *exp,
	 uint32_t want, struct rx_tally *tally)
{
	uint64_t end = now_ms() + WAIT_MS;
	struct sl_mbuf *pkts[32];
	struct pollfd pfd[8];
	char where[64];
	uint16_t nb, i;
	unsigned k;

	assert_true(nports <= 8);
	while (exp->nb_seen < want) {
		if (now_ms() > end)
			fail_msg("%s: %u of %u expected packets received in "
				 "%d ms",
				 sl_pktdev_name(ports[0]), exp->nb_seen, want,
				 WAIT_MS);
		for (k = 0; k < nports; k++) {
			pfd[k].fd = sl_pktdev_rx_fd(ports[k]);
			pfd[k].events = POLLIN;
		}
		(void)poll(pfd, nports, 20);
		for (k = 0; k < nports; k++) {
			snprintf(where, sizeof(where), "%s RX",
				 sl_pktdev_name(ports[k]));
			nb = sl_pktdev_rx_burst(ports[k], pkts, 32);
			for (i = 0; i < nb; i++) {
				if (rx_hook != NULL)
					rx_hook(where, pkts[i]);
				rx_check(where, pkts[i], exp, &tally[k]);
				sl_mbuf_free(pkts[i]);
			}
		}
	}
}

/* ---- the traffic test, common to every backend --------------------------- */

/* The two ends: the sluice lport and the kernel's socket. */
struct side {
	bool l2;
	uint8_t mac[6], peer_mac[6]; /* sluice side, kernel side */
	const char *ip, *peer_ip;    /* sluice side, kernel side */
	uint32_t ptype;		     /* what RX packets must be */
};

static void
flow_init(struct flow *f, const struct side *s, bool to_kernel)
{
	memset(f, 0, sizeof(*f));
	f->l2 = s->l2;
	memcpy(f->src_mac, to_kernel ? s->mac : s->peer_mac, 6);
	memcpy(f->dst_mac, to_kernel ? s->peer_mac : s->mac, 6);
	assert_int_equal(
		inet_pton(AF_INET, to_kernel ? s->ip : s->peer_ip, &f->src), 1);
	assert_int_equal(
		inet_pton(AF_INET, to_kernel ? s->peer_ip : s->ip, &f->dst), 1);
	f->sport = to_kernel ? SPORT : KPORT;
	f->dport = to_kernel ? KPORT : SPORT;
}

/* NB_PKTS packets from the lport to the kernel socket (as chains of up to
 * max_segs segments), then NB_PKTS from the socket to the lport, in
 * batches; payloads compared byte for byte, then every counter. */
static void
traffic_both_ways(struct sl_port *p, const struct side *s, int ksock,
		  struct sl_mempool *tx_pool, unsigned max_segs)
{
	uint8_t frame[MAX_PKT], payload[MAX_PKT], got[MAX_PKT];
	uint8_t seen_k[NB_PKTS] = {0}, seen_s[NB_PKTS] = {0};
	struct sl_mbuf *pkts[BATCH];
	struct sl_port_stats st;
	struct sl_port_xstat xs[16];
	struct flow out, in;
	struct rx_tally tally = {0};
	struct expect exp = {.f = &in,
			     .tag = 0xb5,
			     .limit = NB_PKTS,
			     .seen = seen_s,
			     .ptype = s->ptype};
	struct sockaddr_in from;
	socklen_t fromlen;
	struct pollfd pfd;
	uint64_t obytes = 0, end;
	uint32_t seq, b, len, nb_k = 0;
	ssize_t n;
	int nx, i;

	flow_init(&out, s, true);
	flow_init(&in, s, false);
	assert_int_equal(sl_pktdev_stats_reset(p), 0);

	/* sluice -> kernel */
	for (b = 0; b < NB_PKTS; b += BATCH) {
		for (seq = b; seq < b + BATCH; seq++) {
			payload_fill(payload, payload_len(seq), 0x5a, seq);
			len = build_udp(frame, &out, payload, payload_len(seq));
			obytes += len;
			pkts[seq - b] = mbuf_make(tx_pool, frame, len,
						  1 + seq % max_segs);
		}
		tx_all(p, pkts, BATCH);
		end = now_ms() + WAIT_MS;
		while (nb_k < b + BATCH) {
			fromlen = sizeof(from);
			n = recvfrom(ksock, got, sizeof(got), 0,
				     (struct sockaddr *)&from, &fromlen);
			if (n < 0) {
				assert_int_equal(errno, EAGAIN);
				if (now_ms() > end)
					fail_msg("kernel socket: %u of %u "
						 "packets from %s in %d ms",
						 nb_k, b + BATCH,
						 sl_pktdev_name(p), WAIT_MS);
				pfd = (struct pollfd){.fd = ksock,
						      .events = POLLIN};
				(void)poll(&pfd, 1, 20);
				continue;
			}
			assert_true(n >= 4);
			if (from.sin_addr.s_addr != out.src.s_addr ||
			    ntohs(from.sin_port) != SPORT)
				fail_msg("kernel socket: datagram from "
					 "%s:%u, expected %s:%u",
					 inet_ntoa(from.sin_addr),
					 ntohs(from.sin_port), s->ip, SPORT);
			payload_check("kernel socket", got, (uint32_t)n, 0x5a,
				      NB_PKTS);
			if (seen_k[payload_seq(got)]++ != 0)
				fail_msg("kernel socket: packet %u twice",
					 payload_seq(got));
			nb_k++;
		}
	}

	/* kernel -> sluice; the first batch also checks the RX fd */
	for (b = 0; b < NB_PKTS; b += BATCH) {
		for (seq = b; seq < b + BATCH; seq++) {
			payload_fill(payload, payload_len(seq), 0xb5, seq);
			ksend(ksock, s->ip, SPORT, payload, payload_len(seq));
		}
		if (b == 0) {
			pfd = (struct pollfd){.fd = sl_pktdev_rx_fd(p),
					      .events = POLLIN};
			if (poll(&pfd, 1, WAIT_MS) != 1 ||
			    !(pfd.revents & POLLIN))
				fail_msg("%s: RX fd %d not readable %d ms "
					 "after the kernel sent",
					 sl_pktdev_name(p), pfd.fd, WAIT_MS);
		}
		rx_until(&p, 1, &exp, b + BATCH, &tally);
	}

	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	print_message("%s: out %llu pkts %llu bytes, in %llu pkts %llu bytes "
		      "(%llu expected)\n",
		      sl_pktdev_name(p), (unsigned long long)st.opackets,
		      (unsigned long long)st.obytes,
		      (unsigned long long)st.ipackets,
		      (unsigned long long)st.ibytes,
		      (unsigned long long)tally.matched);
	assert_int_equal(st.opackets, NB_PKTS);
	assert_int_equal(st.obytes, obytes);
	assert_int_equal(st.oerrors, 0);
	assert_int_equal(st.ipackets, tally.pkts);
	assert_int_equal(st.ibytes, tally.bytes);
	assert_int_equal(tally.matched, NB_PKTS);
	assert_int_equal(st.ierrors, 0);
	assert_int_equal(st.imissed, 0);
	assert_int_equal(st.rx_nombuf, 0);
	nx = sl_pktdev_xstats_get(p, xs, SL_DIM(xs));
	assert_true(nx >= 0 && nx <= (int)SL_DIM(xs));
	for (i = 0; i < nx; i++)
		print_message("%s: xstat %s = %llu\n", sl_pktdev_name(p),
			      xs[i].name, (unsigned long long)xs[i].value);
}

/* Multi-queue: NB_FLOWS flows (one destination port each) from the kernel
 * reach the lports, each exactly once, and more than one lport gets some. */
static void
flows_spread(struct sl_port **ports, unsigned nports, const struct side *s,
	     int ksock)
{
	uint8_t seen[NB_FLOWS] = {0}, payload[MAX_PKT];
	struct rx_tally tally[8] = {{0}};
	struct sl_port_stats st;
	struct flow in;
	struct expect exp = {.f = &in,
			     .dport_any = true,
			     .tag = 0x3c,
			     .limit = NB_FLOWS,
			     .seen = seen,
			     .ptype = s->ptype};
	unsigned k, busy = 0;
	uint32_t seq, b;

	flow_init(&in, s, false);
	for (k = 0; k < nports; k++)
		assert_int_equal(sl_pktdev_stats_reset(ports[k]), 0);
	for (b = 0; b < NB_FLOWS; b += 50) {
		for (seq = b; seq < b + 50 && seq < NB_FLOWS; seq++) {
			payload_fill(payload, payload_len(seq), 0x3c, seq);
			ksend(ksock, s->ip, (uint16_t)(FLOW_PORT0 + seq),
			      payload, payload_len(seq));
		}
		rx_until(ports, nports, &exp, seq, tally);
	}
	for (k = 0; k < nports; k++) {
		assert_int_equal(sl_pktdev_stats_get(ports[k], &st), 0);
		print_message("%s: %llu of %u flows, %llu packets\n",
			      sl_pktdev_name(ports[k]),
			      (unsigned long long)tally[k].matched, NB_FLOWS,
			      (unsigned long long)st.ipackets);
		assert_int_equal(st.ipackets, tally[k].pkts);
		assert_int_equal(st.ibytes, tally[k].bytes);
		assert_int_equal(st.imissed, 0);
		busy += tally[k].matched > 0;
	}
	assert_int_equal(exp.nb_seen, NB_FLOWS);
	if (busy < 2)
		fail_msg("all %u flows went to one lport of %u", NB_FLOWS,
			 nports);
}

/* A packet the backend must refuse is taken, freed and counted in
 * oerrors, not in opackets. */
static void
tx_refused(struct sl_port *p, uint32_t len)
{
	uint8_t frame[4096];
	struct sl_port_stats st;
	struct sl_mbuf *m;

	assert_true(len <= sizeof(frame));
	memset(frame, 0x11, len);
	assert_int_equal(sl_pktdev_stats_reset(p), 0);
	m = mbuf_make(pool_2k, frame, len, len > 1500 ? 2 : 1);
	tx_all(p, &m, 1);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	if (st.oerrors != 1 || st.opackets != 0)
		fail_msg("%s: a %u-byte packet it cannot send counted as "
			 "%llu opackets, %llu oerrors",
			 sl_pktdev_name(p), len,
			 (unsigned long long)st.opackets,
			 (unsigned long long)st.oerrors);
}

static void
check_mtu(struct sl_port *p, const char *ifname)
{
	struct ifreq ifr;
	uint16_t mtu, orig;

	assert_int_equal(sl_pktdev_mtu_get(p, &orig), 0);
	assert_int_equal(sl_pktdev_mtu_set(p, 1400), 0);
	assert_int_equal(sl_pktdev_mtu_get(p, &mtu), 0);
	assert_int_equal(mtu, 1400);
	assert_int_equal(ifioctl(ifname, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(sl_pktdev_mtu_set(p, orig), 0);
	assert_int_equal(ifioctl(ifname, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, orig);
}

/* The link comes up (the kernel updates the operational state of a
 * device shortly after its carrier changes, e.g. when a TAP queue is
 * attached). */
static void
check_link_up(struct sl_port *p)
{
	uint64_t end = now_ms() + WAIT_MS;
	struct sl_port_link link;

	do {
		assert_int_equal(sl_pktdev_link_get(p, &link), 0);
		if (!link.up)
			usleep(10 * 1000);
	} while (!link.up && now_ms() < end);
	print_message("%s: link %s, %u Mbit/s, %s duplex\n", sl_pktdev_name(p),
		      link.up ? "up" : "down", link.speed_mbps,
		      link.full_duplex ? "full" : "half");
	assert_true(link.up);
}

/* ---- net_af_packet ------------------------------------------------------- */

static struct side afp_side;

static void
afp_side_init(void)
{
	afp_side = (struct side){.l2 = true,
				 .ip = AFP_IP,
				 .peer_ip = AFP_PEER_IP,
				 .ptype = SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV4};
	memcpy(afp_side.mac, AFP_MAC, 6);
	memcpy(afp_side.peer_mac, AFP_PEER_MAC, 6);
}

static void
test_afp_traffic(void **state)
{
	struct sl_port_xstat xs[3];
	struct sl_port *p;
	int ks;

	(void)state;
	p = port_open("afp0", AFP_IF, 0, pool_2k, NULL);
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	assert_int_equal(sl_pktdev_xstats_get(p, NULL, 0), 3);
	assert_int_equal(sl_pktdev_xstats_get(p, xs, 3), 3);
	assert_string_equal(xs[0].name, "tp_packets");
	assert_string_equal(xs[1].name, "tp_drops");
	assert_string_equal(xs[2].name, "tp_freeze_q_cnt");
	assert_true(xs[0].value >= NB_PKTS);
	assert_int_equal(xs[1].value, 0);
	sock_close(ks);
	port_close(p);
}

/* Small rings (TX wraps 4 times), qdisc bypass, and mbufs of 1 KB frames:
 * RX packets above 640 bytes arrive as chains, TX sends chains. */
static void
test_afp_bypass_small_rings_chains(void **state)
{
	struct sl_port *p;
	int ks;

	(void)state;
	p = port_open("afp0", AFP_IF, 0, pool_1k,
		      "qdisc_bypass=yes,blocksz=8192,framesz=2048,"
		      "framecnt=16");
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	traffic_both_ways(p, &afp_side, ks, pool_1k, 3);
	sock_close(ks);
	port_close(p);
}

static void
test_afp_fanout(void **state)
{
	struct sl_port *ports[2];
	int ks;

	(void)state;
	ports[0] = port_open("afp-q0", AFP_IF, 0, pool_2k,
			     "fanout=yes,fanout_id=4242");
	ports[1] = port_open("afp-q1", AFP_IF, 1, pool_2k,
			     "fanout=yes,fanout_id=4242");
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	flows_spread(ports, 2, &afp_side, ks);
	sock_close(ks);
	port_close(ports[0]);
	port_close(ports[1]);
}

/* A tiny RX ring nobody reads overflows: kernel drops show as imissed and
 * in the xstats, and what was kept plus what was dropped is what came. */
static void
test_afp_kernel_drops(void **state)
{
	uint8_t seen[200] = {0}, payload[MAX_PKT];
	struct rx_tally tally = {0};
	struct sl_port_xstat xs[3];
	struct sl_port_stats st;
	struct flow in;
	struct expect exp = {.f = &in,
			     .tag = 0x77,
			     .limit = 200,
			     .seen = seen,
			     .ptype = afp_side.ptype};
	struct sl_mbuf *pkts[32];
	struct sl_port *p;
	uint64_t end;
	uint32_t seq;
	uint16_t nb;
	int ks;

	(void)state;
	flow_init(&in, &afp_side, false);
	p = port_open("afp0", AFP_IF, 0, pool_2k,
		      "blocksz=4096,framesz=2048,framecnt=4");
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	for (seq = 0; seq < 200; seq++) {
		payload_fill(payload, 200, 0x77, seq);
		ksend(ks, AFP_IP, SPORT, payload, 200);
	}
	usleep(100 * 1000); /* let the last block retire */
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(sl_pktdev_xstats_get(p, xs, 3), 3);
	print_message("afp0: imissed %llu, tp_packets %llu, tp_drops %llu, "
		      "tp_freeze_q_cnt %llu\n",
		      (unsigned long long)st.imissed,
		      (unsigned long long)xs[0].value,
		      (unsigned long long)xs[1].value,
		      (unsigned long long)xs[2].value);
	assert_true(st.imissed > 0);
	assert_int_equal(xs[1].value, st.imissed);
	assert_true(xs[2].value > 0);
	assert_true(xs[0].value >= 200);
	/* drain what the ring kept: every packet is intact */
	end = now_ms() + 500;
	while (now_ms() < end) {
		nb = sl_pktdev_rx_burst(p, pkts, 32);
		tally.pkts += nb;
		sl_mbuf_free_bulk(pkts, nb);
	}
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(sl_pktdev_xstats_get(p, xs, 3), 3);
	assert_int_equal(tally.pkts + xs[1].value, xs[0].value);
	assert_int_equal(st.ipackets, tally.pkts);
	/* reset clears the kernel counters too */
	assert_int_equal(sl_pktdev_stats_reset(p), 0);
	assert_int_equal(sl_pktdev_stats_get(p, &st), 0);
	assert_int_equal(st.imissed, 0);
	assert_int_equal(sl_pktdev_xstats_get(p, xs, 3), 3);
	assert_int_equal(xs[0].value, 0);
	assert_int_equal(xs[1].value, 0);
	/* and the ring works again */
	payload_fill(payload, payload_len(0), 0x77, 0);
	ksend(ks, AFP_IP, SPORT, payload, payload_len(0));
	exp.limit = 1;
	rx_until(&p, 1, &exp, 1, &tally);
	sock_close(ks);
	port_close(p);
}

static void
test_afp_control(void **state)
{
	uint64_t want = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_MULTI_BUFFER |
			SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET |
			SL_PORT_CAP_PROMISC;
	struct sl_port *p;
	uint8_t mac[6];

	(void)state;
	p = port_open("afp0", AFP_IF, 0, pool_2k, NULL);
	assert_int_equal(sl_pktdev_capabilities(p) & want, want);
	assert_false(sl_pktdev_capabilities(p) & SL_PORT_CAP_L3_ONLY);
	assert_int_equal(sl_pktdev_mac_get(p, mac), 0);
	assert_memory_equal(mac, AFP_MAC, 6);
	check_link_up(p);
	check_mtu(p, AFP_IF);
	/* TX frames of 2048 bytes cannot carry a 9000-byte MTU */
	assert_int_equal(sl_pktdev_mtu_set(p, 9000), -EINVAL);
	assert_int_equal(sl_pktdev_promisc_get(p), 0);
	assert_int_equal(sl_pktdev_promisc_set(p, true), 0);
	assert_int_equal(sl_pktdev_promisc_get(p), 1);
	assert_int_equal(sl_pktdev_promisc_set(p, false), 0);
	assert_int_equal(sl_pktdev_promisc_get(p), 0);
	assert_true(sl_pktdev_rx_fd(p) >= 0);
	/* the rings are mapped (and the teardown checks they go away) */
	assert_true(count_socket_maps() > map_baseline);
	/* too short and too long for the TX frames: dropped and counted */
	tx_refused(p, 10);
	tx_refused(p, 2100);
	port_close(p);
	/* promisc=yes at open */
	p = port_open("afp0", AFP_IF, 0, pool_2k, "promisc=yes");
	assert_int_equal(sl_pktdev_promisc_get(p), 1);
	port_close(p);
}

static void
test_afp_errors(void **state)
{
	struct sl_port_cfg cfg = {
		.name = "bad", .backend = backend, .ifname = AFP_IF};
	struct sl_port *p;

	(void)state;
	expect_fails(AFP_IF, 0, "bogus=1", EINVAL, "'bogus'");
	expect_fails(NULL, 0, NULL, ENODEV, "no ifname");
	expect_fails("", 0, NULL, ENODEV, "no ifname");
	expect_fails(NOSUCH_IF, 0, NULL, ENODEV, "'" NOSUCH_IF "'");
	expect_fails(AFP_IF, 0, "qdisc_bypass=maybe", EINVAL, "'qdisc_bypass'");
	expect_fails(AFP_IF, 0, "fanout=2", EINVAL, "'fanout'");
	expect_fails(AFP_IF, 0, "framesz=100", EINVAL, "'framesz'");
	expect_fails(AFP_IF, 0, "framesz=16", EINVAL, "'framesz'");
	expect_fails(AFP_IF, 0, "blocksz=5000", EINVAL, "'blocksz'");
	expect_fails(AFP_IF, 0, "blocksz=1024", EINVAL, "'blocksz'");
	expect_fails(AFP_IF, 0, "framecnt=3", EINVAL, "'framecnt'");
	expect_fails(AFP_IF, 0, "framecnt=many", EINVAL, "'framecnt'");
	expect_fails(AFP_IF, 0, "fanout_id=5", EINVAL, "'fanout_id'");
	expect_fails(AFP_IF, 0, "fanout=yes,fanout_id=70000", EINVAL,
		     "'fanout_id'");
	expect_fails(AFP_IF, 0, "fanout=yes,fanout_mode=random", EINVAL,
		     "'fanout_mode'");
	expect_fails(AFP_IF, 1, NULL, EINVAL, "fanout=yes");
	/* refused by the kernel after the rings exist: all released (the
	 * teardown checks fds and mappings) */
	p = port_open("afp-q0", AFP_IF, 0, pool_2k, "fanout=yes,fanout_id=77");
	expect_fails(AFP_IF, 1, "fanout=yes,fanout_id=77,fanout_mode=lb",
		     EINVAL, "fanout group 77");
	port_close(p);
	/* no pool */
	expect_open_fails(&cfg, EINVAL, "pool");
}

/* ---- net_af_xdp ---------------------------------------------------------- */
#ifdef SLT_HAVE_AF_XDP

/* Same veth as net_af_packet: slt0 here (4 queues), slt1 in peer_ns. */
static const char *axq_mode; /* "native" or "skb" */
static char axq_optbuf[512];

/* "mode=<axq_mode>" plus extra options. */
static const char *
axq_opts(const char *extra)
{
	snprintf(axq_optbuf, sizeof(axq_optbuf), "mode=%s%s%s", axq_mode,
		 extra[0] != '\0' ? "," : "", extra);
	return axq_optbuf;
}

/* What `ip link show` says: 0 no XDP program, 1 native, 2 generic. */
static int
xdp_attached(const char *ifname)
{
	char cmd[128], line[1024];
	FILE *f;
	int r = 0;

	snprintf(cmd, sizeof(cmd), "ip link show dev %s 2>&1", ifname);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, " xdpgeneric") != NULL)
			r = 2;
		else if (strstr(line, " xdp ") != NULL ||
			 strstr(line, " xdpdrv") != NULL)
			r = 1;
	}
	assert_int_equal(pclose(f), 0);
	return r;
}

static int
axq_want_attached(void)
{
	return strcmp(axq_mode, "native") == 0 ? 1 : 2;
}

/* D1: a received packet is the frame the kernel wrote, in the lport's
 * pool, its data at frame + 128 + 256 (no copy). */
static void
axq_rx_in_place(const char *where, const struct sl_mbuf *m)
{
	const char *data = sl_mbuf_data_addr(m);

	if (!sl_mempool_contains(pool_2k, m) || m->pool != pool_2k)
		fail_msg("%s: mbuf %p is not a frame of the lport's pool",
			 where, (const void *)m);
	if (data - (const char *)m != SL_MBUF_META_SIZE + SL_MBUF_HEADROOM)
		fail_msg("%s: packet data at frame + %td, expected + %d", where,
			 data - (const char *)m,
			 SL_MBUF_META_SIZE + SL_MBUF_HEADROOM);
	if (m->next != NULL || m->nb_segs != 1)
		fail_msg("%s: a chain", where);
}

static uint64_t
xstat(struct sl_port *p, const char *name)
{
	struct sl_port_xstat xs[16];
	int n, i;

	n = sl_pktdev_xstats_get(p, xs, SL_DIM(xs));
	assert_true(n > 0 && n <= (int)SL_DIM(xs));
	for (i = 0; i < n; i++)
		if (strcmp(xs[i].name, name) == 0)
			return xs[i].value;
	fail_msg("%s: no xstat %s", sl_pktdev_name(p), name);
	return 0;
}

static void
test_axq_traffic(void **state)
{
	struct sl_port *p;
	int ks;

	(void)state;
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	rx_hook = axq_rx_in_place;
	/* TX of frames of the UMEM: no copy */
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	assert_int_equal(xstat(p, "tx_copies"), 0);
	assert_true(xstat(p, "xdp_redirect") >= NB_PKTS);
	/* TX of chains from another pool: copied into the UMEM */
	traffic_both_ways(p, &afp_side, ks, pool_1k, 3);
	assert_int_equal(xstat(p, "tx_copies"), NB_PKTS);
	assert_int_equal(xstat(p, "rx_dropped"), 0);
	assert_int_equal(xstat(p, "rx_ring_full"), 0);
	rx_hook = NULL;
	sock_close(ks);
	port_close(p);
	/* close detached what it attached */
	assert_int_equal(xdp_attached(AFP_IF), 0);
}

static void
test_axq_busy_poll(void **state)
{
	struct sl_port *p;
	int ks;

	(void)state;
	p = port_open("axq0", AFP_IF, 0, pool_2k,
		      axq_opts("busy_poll=yes,busy_timeout=50,"
			       "busy_budget=16"));
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	rx_hook = axq_rx_in_place;
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	rx_hook = NULL;
	sock_close(ks);
	port_close(p);
}

/* Two queues share one attached program; the last close detaches it. */
static void
test_axq_shared_program(void **state)
{
	const char *other = strcmp(axq_mode, "native") == 0 ? "skb" : "native";
	char opt[64], needle[64], log[8192];
	struct sl_port *p0, *p1;
	int level;

	(void)state;
	p0 = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	/* mode=auto says what it tries first on this kind of device, why */
	level = sl_log_get_level("net_af_xdp");
	assert_int_equal(sl_log_set_level("net_af_xdp", SL_LOG_INFO), 0);
	capture_begin();
	p1 = port_open("axq1", AFP_IF, 1, pool_2k, "mode=auto");
	capture_end(log, sizeof(log));
	(void)sl_log_set_level("net_af_xdp", level);
	if (strstr(log, "mode=auto on " AFP_IF " (driver veth): native mode "
			"first: on veth") == NULL)
		fail_msg("mode=auto gave no reason:\n%s", log);
	assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
	snprintf(opt, sizeof(opt), "mode=%s", other);
	snprintf(needle, sizeof(needle), "in %s mode", axq_mode);
	expect_fails(AFP_IF, 2, opt, EBUSY, needle);
	port_close(p0);
	assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
	port_close(p1);
	assert_int_equal(xdp_attached(AFP_IF), 0);
}

static void
test_axq_control(void **state)
{
	uint64_t want = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_ZERO_COPY |
			SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET;
	struct sl_port *p;
	uint8_t mac[6];

	(void)state;
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	assert_int_equal(sl_pktdev_capabilities(p) & want, want);
	assert_int_equal(sl_pktdev_mac_get(p, mac), 0);
	assert_memory_equal(mac, AFP_MAC, 6);
	check_link_up(p);
	check_mtu(p, AFP_IF);
	assert_int_equal(sl_pktdev_mtu_set(p, 9000), -EINVAL);
	assert_true(sl_pktdev_rx_fd(p) >= 0);
	assert_true(count_socket_maps() > map_baseline);
	tx_refused(p, 10);
	tx_refused(p, 1700); /* above the data room of a 2 KB frame */
	port_close(p);
}

static void
test_axq_errors(void **state)
{
	struct sl_port_cfg cfg = {.name = "bad",
				  .backend = backend,
				  .ifname = AFP_IF,
				  .options = "mode=skb"};
	struct sl_mbuf_pool_cfg pc = {
		.name = "slt-unaligned", .n = 64, .frame_size = 2048};
	struct sl_mempool *odd;
	void *mem;

	(void)state;
	expect_fails(AFP_IF, 0, "bogus=1", EINVAL, "'bogus'");
	expect_fails(AFP_IF, 0, "mode=turbo", EINVAL, "'mode'");
	expect_fails(AFP_IF, 0, "busy_poll=maybe", EINVAL, "'busy_poll'");
	expect_fails(AFP_IF, 0, "busy_poll=no,busy_timeout=10", EINVAL,
		     "'busy_timeout'");
	expect_fails(AFP_IF, 0, "multi_buffer=2", EINVAL, "'multi_buffer'");
	expect_fails(AFP_IF, 0, "busy_poll=yes,busy_budget=0", EINVAL,
		     "'busy_budget'");
	expect_fails(AFP_IF, 0, "force=2", EINVAL, "'force'");
	expect_fails(AFP_IF, 0, "xsk_pin_path=/nonexistent/xsks_map", ENOENT,
		     "'xsk_pin_path'");
	expect_fails(NULL, 0, NULL, ENODEV, "no ifname");
	expect_fails(NOSUCH_IF, 0, NULL, ENODEV, "'" NOSUCH_IF "'");
	expect_fails(AFP_IF, 300, NULL, EINVAL, "queue 300");
	/* veth has no zero-copy AF_XDP */
	expect_fails(AFP_IF, 0, "mode=zc", EOPNOTSUPP, "zero-copy");
	assert_int_equal(xdp_attached(AFP_IF), 0);
	/* slt0 has 4 queues */
	expect_fails(AFP_IF, 7, axq_opts(""), EINVAL, "queue 7");
	assert_int_equal(xdp_attached(AFP_IF), 0);
	/* frames of 1 KB, and frames that are not page aligned */
	cfg.pool = pool_1k;
	expect_open_fails(&cfg, EINVAL, "1024");
	mem = aligned_alloc(4096, 64 * 2048 + 4096);
	assert_non_null(mem);
	pc.addr = (char *)mem + 2048;
	pc.len = 64 * 2048;
	odd = sl_mbuf_pool_create(&pc);
	assert_non_null(odd);
	cfg.pool = odd;
	expect_open_fails(&cfg, EINVAL, "page aligned");
	sl_mempool_destroy(odd);
	free(mem);
	cfg.pool = NULL;
	expect_open_fails(&cfg, EINVAL, "pool");
	assert_int_equal(xdp_attached(AFP_IF), 0);
}

static uint32_t
axq_xdp_flag(void)
{
	return strcmp(axq_mode, "native") == 0 ? XDP_FLAGS_DRV_MODE
					       : XDP_FLAGS_SKB_MODE;
}

/* A foreign XDP program (returns XDP_PASS) on slt0: its fd. */
static int
foreign_attach(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = 0,
		 .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "slt_foreign", "GPL", insns,
			   SL_DIM(insns), NULL);
	if (fd < 0)
		fail_msg("loading a foreign XDP program: %s", strerror(errno));
	sock_track(fd);
	assert_int_equal(bpf_xdp_attach((int)if_nametoindex(AFP_IF), fd,
					axq_xdp_flag(), NULL),
			 0);
	return fd;
}

static void
test_axq_foreign(void **state)
{
	struct sl_port *p;
	int fd;

	(void)state;
	fd = foreign_attach();
	expect_fails(AFP_IF, 0, axq_opts(""), EBUSY, "'slt_foreign'");
	expect_fails(AFP_IF, 0, axq_opts(""), EBUSY, "force=yes");
	assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
	/* force=yes replaces it; close then leaves nothing */
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts("force=yes"));
	port_close(p);
	assert_int_equal(xdp_attached(AFP_IF), 0);
	sock_close(fd);
}

/* A provisioner loads and attaches steer.bpf.o and pins its maps; the
 * lport only opens the pinned XSKMAP. */
static void
test_axq_pinned_map(void **state)
{
	const char *dir = getenv("SLT_BPFFS");
	char xpath[256], qpath[256], opt[300];
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct sl_port *p;
	uint32_t key = 0, val = 7;
	int ifindex = (int)if_nametoindex(AFP_IF), ks;

	(void)state;
	if (dir == NULL || dir[0] == '\0')
		skip();
	snprintf(xpath, sizeof(xpath), "%s/xsks_map", dir);
	snprintf(qpath, sizeof(qpath), "%s/qmask", dir);
	obj = bpf_object__open_file(SLT_STEER_OBJ, NULL);
	if (obj == NULL)
		fail_msg("opening %s: %s", SLT_STEER_OBJ, strerror(errno));
	assert_int_equal(bpf_object__load(obj), 0);
	prog = bpf_object__find_program_by_name(obj, "sl_steer");
	assert_non_null(prog);
	assert_int_equal(
		bpf_map__pin(bpf_object__find_map_by_name(obj, "xsks_map"),
			     xpath),
		0);
	assert_int_equal(
		bpf_map__pin(bpf_object__find_map_by_name(obj, "qmask"), qpath),
		0);
	assert_int_equal(bpf_xdp_attach(ifindex, bpf_program__fd(prog),
					axq_xdp_flag(), NULL),
			 0);

	snprintf(opt, sizeof(opt), "xsk_pin_path=%s", xpath);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(opt));
	assert_int_equal(
		bpf_map_lookup_elem(
			bpf_map__fd(bpf_object__find_map_by_name(obj, "qmask")),
			&key, &val),
		0);
	assert_int_equal(val, 1);
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	rx_hook = axq_rx_in_place;
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	rx_hook = NULL;
	sock_close(ks);
	port_close(p);
	/* the queue is disabled again, and the program is the
	 * provisioner's: still attached */
	assert_int_equal(
		bpf_map_lookup_elem(
			bpf_map__fd(bpf_object__find_map_by_name(obj, "qmask")),
			&key, &val),
		0);
	assert_int_equal(val, 0);
	assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
	assert_int_equal(bpf_xdp_detach(ifindex, axq_xdp_flag(), NULL), 0);
	assert_int_equal(unlink(xpath), 0);
	assert_int_equal(unlink(qpath), 0);
	bpf_object__close(obj);
	assert_int_equal(xdp_attached(AFP_IF), 0);
}
/* ---- net_af_xdp: queues, shared UMEM, multi-buffer, lifecycle ------------ */

static struct side axq2_side;

static void
axq2_side_init(void)
{
	axq2_side =
		(struct side){.l2 = true,
			      .ip = AXQ2_IP,
			      .peer_ip = AXQ2_PEER_IP,
			      .ptype = SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV4};
	memcpy(axq2_side.mac, AXQ2_MAC, 6);
	memcpy(axq2_side.peer_mac, AXQ2_PEER_MAC, 6);
}

/* Run a shell command (in the peer netns when peer); it must succeed. */
static void __attribute__((format(printf, 2, 3)))
sh(bool peer, const char *fmt, ...)
{
	char cmd[512], full[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s%s%s%s", peer ? "ip netns exec " : "",
		 peer ? peer_ns : "", peer ? " " : "", cmd);
	if (system(full) != 0)
		fail_msg("command failed: %s", full);
}

/* One packet from lport p to the kernel socket ks on side s. */
static void
send_one(struct sl_port *p, const struct side *s, int ks, uint32_t seq)
{
	uint8_t frame[MAX_PKT], payload[MAX_PKT], got[MAX_PKT];
	struct sl_mbuf *m;
	struct flow out;
	uint64_t end = now_ms() + WAIT_MS;
	uint32_t len;
	ssize_t n;

	flow_init(&out, s, true);
	payload_fill(payload, payload_len(seq), 0x5a, seq);
	len = build_udp(frame, &out, payload, payload_len(seq));
	m = mbuf_make(pool_2k, frame, len, 1);
	tx_all(p, &m, 1);
	while ((n = recv(ks, got, sizeof(got), 0)) < 0) {
		if (now_ms() > end)
			fail_msg("%s: its packet did not reach the kernel "
				 "socket in %d ms",
				 sl_pktdev_name(p), WAIT_MS);
		usleep(1000);
	}
	payload_check("kernel socket", got, (uint32_t)n, 0x5a, seq + 1);
}

/* One lport on each of slt2's 4 queues, over one pool (one UMEM shared
 * by the 4 sockets): the kernel's flows reach every queue, each packet
 * once; every queue sends. In SKB mode a veth shows the program the
 * queue before the one the peer sent on (peer queue q > 0 is seen as
 * q - 1; the skb's queue mapping is read as a recorded RX queue), so
 * there the last queue gets nothing. */
static void
test_axq_four_queues(void **state)
{
	struct sl_port *ports[4];
	struct sl_port_stats st;
	char name[16];
	unsigned q;
	int ks;

	(void)state;
	for (q = 0; q < 4; q++) {
		snprintf(name, sizeof(name), "axq2-q%u", q);
		ports[q] = port_open(name, AXQ2_IF, (uint16_t)q, pool_2k,
				     axq_opts(""));
	}
	ks = udp_socket_in(peer_ns, AXQ2_PEER_IP, KPORT);
	flows_spread(ports, 4, &axq2_side, ks);
	for (q = 0; q < 4; q++) {
		assert_int_equal(sl_pktdev_stats_get(ports[q], &st), 0);
		if (st.ipackets == 0 &&
		    (strcmp(axq_mode, "native") == 0 || q != 3))
			fail_msg("queue %u received none of %u flows", q,
				 NB_FLOWS);
		send_one(ports[q], &axq2_side, ks, q);
	}
	sock_close(ks);
	for (q = 0; q < 4; q++)
		port_close(ports[q]);
	assert_int_equal(xdp_attached(AXQ2_IF), 0);
}

/* Two devices, one pool: a UMEM shared by slt0 queue 0 and slt2 queue
 * 0. Traffic both ways on each; the first lport closes first and the
 * other keeps working; its queue is held until the UMEM goes. */
static void
test_axq_shared_umem(void **state)
{
	struct sl_port *p0, *p2;
	int k0, k2, level;

	(void)state;
	level = sl_log_get_level("net_af_xdp");
	assert_int_equal(sl_log_set_level("net_af_xdp", SL_LOG_INFO), 0);
	capture_begin();
	p0 = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	p2 = port_open("axq2", AXQ2_IF, 0, pool_2k, axq_opts(""));
	{
		char log[8192];

		capture_end(log, sizeof(log));
		(void)sl_log_set_level("net_af_xdp", level);
		if (strstr(log, "as shared UMEM") == NULL)
			fail_msg("the second lport does not say it shares the "
				 "UMEM:\n%s",
				 log);
	}
	k0 = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	k2 = udp_socket_in(peer_ns, AXQ2_PEER_IP, KPORT);
	rx_hook = axq_rx_in_place;
	traffic_both_ways(p0, &afp_side, k0, pool_2k, 1);
	traffic_both_ways(p2, &axq2_side, k2, pool_2k, 1);
	port_close(p0);
	traffic_both_ways(p2, &axq2_side, k2, pool_2k, 1);
	rx_hook = NULL;
	expect_fails(AFP_IF, 0, axq_opts(""), EBUSY, "still held");
	port_close(p2);
	/* the UMEM is gone: the queue opens again */
	p0 = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	traffic_both_ways(p0, &afp_side, k0, pool_2k, 1);
	port_close(p0);
	sock_close(k0);
	sock_close(k2);
}

/* Receive one packet on any of the lports: the lport it came on. */
static unsigned
rx_any(struct sl_port **ports, unsigned n, struct sl_mbuf **m)
{
	uint64_t end = now_ms() + WAIT_MS;
	unsigned k;

	while (now_ms() < end) {
		for (k = 0; k < n; k++)
			if (sl_pktdev_rx_burst(ports[k], m, 1) == 1)
				return k;
		usleep(100);
	}
	fail_msg("no packet in %d ms", WAIT_MS);
	return 0;
}

#define JUMBO_PAYLOAD 8972 /* MTU 9000 - IPv4 - UDP */

/* MTU 9000: a 9014-byte frame from the kernel arrives as a chain of
 * frames, intact; sent back as a chain (in place, and copied from another
 * pool) it reaches the kernel intact. */
static void
test_axq_jumbo(void **state)
{
	static uint8_t payload[JUMBO_PAYLOAD], buf[JUMBO_PAYLOAD + 64];
	struct sl_mbuf_pool_cfg pc = {.n = 1024, .frame_size = 2048};
	struct sl_mempool *pools[4];
	struct sl_port *ports[4];
	struct sl_mbuf *m;
	uint8_t *h, tmp[6];
	uint64_t end;
	char name[16];
	unsigned q, k, round;
	ssize_t n;
	int ks;

	(void)state;
	sh(false, "ip link set %s mtu 9000", AXQ2_IF);
	sh(true, "ip link set %s mtu 9000", AXQ2_PEER_IF);
	for (q = 0; q < 4; q++) {
		/* multi-buffer lports have a pool each */
		snprintf(name, sizeof(name), "slt-jumbo%u", q);
		pc.name = name;
		pools[q] = sl_mbuf_pool_create(&pc);
		assert_non_null(pools[q]);
		snprintf(name, sizeof(name), "axqj-q%u", q);
		ports[q] = port_open(name, AXQ2_IF, (uint16_t)q, pools[q],
				     axq_opts(""));
		assert_true(sl_pktdev_capabilities(ports[q]) &
			    SL_PORT_CAP_MULTI_BUFFER);
	}
	ks = udp_socket_in(peer_ns, AXQ2_PEER_IP, KPORT);
	for (round = 0; round < 2; round++) {
		payload_fill(payload, 16, 0x77, round);
		for (k = 16; k < JUMBO_PAYLOAD; k++)
			payload[k] = (uint8_t)(k * 31 + round);
		ksend(ks, AXQ2_IP, SPORT, payload, sizeof(payload));
		k = rx_any(ports, 4, &m);
		print_message("jumbo %u: %u bytes in %u segments on queue %u\n",
			      round, m->pkt_len, m->nb_segs, k);
		assert_int_equal(m->pkt_len, 14 + 20 + 8 + JUMBO_PAYLOAD);
		assert_true(m->nb_segs >= 5);
		assert_int_equal(sl_mbuf_read(m, 0, m->pkt_len, buf), 0);
		if (memcmp(buf + 42, payload, JUMBO_PAYLOAD) != 0)
			fail_msg("jumbo frame %u arrived damaged", round);
		/* back to the kernel: swap the addresses and ports in the
		 * first segment; UDP checksum 0 (none) */
		h = sl_mbuf_mtod(m, uint8_t *);
		memcpy(tmp, h, 6);
		memcpy(h, h + 6, 6);
		memcpy(h + 6, tmp, 6);
		memcpy(tmp, h + 26, 4);
		memcpy(h + 26, h + 30, 4);
		memcpy(h + 30, tmp, 4);
		memcpy(tmp, h + 34, 2);
		memcpy(h + 34, h + 36, 2);
		memcpy(h + 36, tmp, 2);
		h[40] = h[41] = 0;
		if (round == 1) {
			/* a chain of another pool: copied into frames */
			struct sl_mbuf *c;

			assert_int_equal(sl_mbuf_read(m, 0, m->pkt_len, buf),
					 0);
			c = mbuf_make(pool_1k, buf, m->pkt_len, 12);
			sl_mbuf_free(m);
			m = c;
		}
		tx_all(ports[k], &m, 1);
		end = now_ms() + WAIT_MS;
		while ((n = recv(ks, buf, sizeof(buf), 0)) < 0) {
			if (now_ms() > end)
				fail_msg("jumbo %u: not back at the kernel "
					 "socket in %d ms",
					 round, WAIT_MS);
			usleep(1000);
		}
		assert_int_equal(n, JUMBO_PAYLOAD);
		if (memcmp(buf, payload, JUMBO_PAYLOAD) != 0)
			fail_msg("jumbo frame %u came back damaged", round);
	}
	assert_true(xstat(ports[k], "tx_copies") >= 1);
	sock_close(ks);
	for (q = 0; q < 4; q++)
		port_close(ports[q]);
	for (q = 0; q < 4; q++) {
		assert_int_equal(sl_mempool_in_use_count(pools[q]), 0);
		sl_mempool_destroy(pools[q]);
	}
	sh(false, "ip link set %s mtu 1500", AXQ2_IF);
	sh(true, "ip link set %s mtu 1500", AXQ2_PEER_IF);
}

/* A UMEM on 2 MB hugepages (kernel_peer.sh reserves eight): traffic both
 * ways, the frames the kernel filled being the pool's. */
static void
test_axq_hugepage_umem(void **state)
{
	struct sl_mbuf_pool_cfg pc = {.name = "slt-huge",
				      .n = 1024,
				      .frame_size = 2048,
				      .flags = SL_MEMPOOL_F_HUGE_ONLY};
	struct sl_mempool *huge;
	struct sl_port *p;
	int ks;

	(void)state;
	huge = sl_mbuf_pool_create(&pc);
	if (huge == NULL) {
		print_message("no free 2 MB hugepage (%ld free): skipped\n",
			      sl_hugepages_free());
		skip();
	}
	p = port_open("axqh", AFP_IF, 0, huge, axq_opts(""));
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	traffic_both_ways(p, &afp_side, ks, huge, 1);
	assert_int_equal(xstat(p, "tx_copies"), 0);
	sock_close(ks);
	port_close(p);
	assert_int_equal(sl_mempool_in_use_count(huge), 0);
	sl_mempool_destroy(huge);
}

static uint64_t
napi_attr(const char *ifname, const char *attr)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

static void
napi_attr_set(const char *ifname, const char *attr, uint64_t v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	f = fopen(path, "w");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fprintf(f, "%llu\n", (unsigned long long)v);
	assert_int_equal(fclose(f), 0);
}

/* busy_poll=yes: the device's NAPI is deferred while lports use it and
 * restored after; values an administrator set are kept. busy_poll=auto
 * (the default) defers it only once a socket has a NAPI id, which a
 * copy-mode socket on a veth never gets: the device stays as it is.
 * busy_poll=no touches nothing. */
static void
test_axq_busy_auto(void **state)
{
	const char *yes = "busy_poll=yes";
	struct sl_port *p, *q;

	(void)state;
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 0);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(yes));
	q = port_open("axq1", AFP_IF, 1, pool_2k, axq_opts(yes));
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 2);
	assert_int_equal(napi_attr(AFP_IF, "gro_flush_timeout"), 200000);
	port_close(p);
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 2);
	port_close(q);
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 0);
	assert_int_equal(napi_attr(AFP_IF, "gro_flush_timeout"), 0);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 0);
	assert_int_equal(napi_attr(AFP_IF, "gro_flush_timeout"), 0);
	port_close(p);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts("busy_poll=no"));
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 0);
	port_close(p);
	napi_attr_set(AFP_IF, "napi_defer_hard_irqs", 5);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(yes));
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 5);
	assert_int_equal(napi_attr(AFP_IF, "gro_flush_timeout"), 0);
	port_close(p);
	assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 5);
	napi_attr_set(AFP_IF, "napi_defer_hard_irqs", 0);
}

/* The child of child_with_lport(), a new process (this program run as
 * "test_kernel_peer lport-child MODE"): opens an lport on slt0, says so
 * on fd 3, and waits at most 30 s (with busy_poll=yes, so that the NAPI
 * settings are set for the signal test). SIGINT and SIGTERM keep their
 * default actions: sluice installs its handlers at the first open. */
static int
lport_child(const char *mode)
{
	struct sl_mbuf_pool_cfg pc = {
		.name = "slt-child", .n = 1024, .frame_size = 2048};
	struct sl_port_cfg cfg = {
		.name = "child", .backend = "net_af_xdp", .ifname = AFP_IF};
	char opts[64];
	int i;

	snprintf(opts, sizeof(opts), "mode=%s,busy_poll=yes", mode);
	cfg.options = opts;
	cfg.pool = sl_mbuf_pool_create(&pc);
	if (cfg.pool == NULL || sl_pktdev_open(&cfg) == NULL)
		return 3;
	if (write(3, "y", 1) != 1)
		return 4;
	for (i = 0; i < 300; i++)
		usleep(100000);
	return 5;
}

/* Start lport_child() and return its pid once its lport is open. A new
 * process, not a fork: this one's pools may be on hugepages, which a
 * fork must copy and cannot without free ones. */
static pid_t
child_with_lport(void)
{
	char self[4096], *argv[4], mode[16];
	posix_spawn_file_actions_t fa;
	ssize_t len;
	int pfd[2], err;
	pid_t pid;
	char c;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = '\0';
	snprintf(mode, sizeof(mode), "%s", axq_mode);
	argv[0] = self;
	argv[1] = (char *)"lport-child";
	argv[2] = mode;
	argv[3] = NULL;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, pfd[1], 3), 0);
	err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err != 0) {
		close(pfd[0]);
		fail_msg("starting %s lport-child: %s", self, strerror(err));
	}
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		(void)waitpid(pid, NULL, 0);
		fail_msg("the child could not open its lport");
	}
	close(pfd[0]);
	return pid;
}

/* SIGINT and SIGTERM: the process dies of the signal, and what it
 * attached and set is undone first. */
static void
test_axq_signal_cleanup(void **state)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	unsigned i;
	pid_t pid;
	int st;

	(void)state;
	for (i = 0; i < SL_DIM(sigs); i++) {
		pid = child_with_lport();
		assert_int_equal(xdp_attached(AFP_IF), axq_want_attached());
		assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 2);
		assert_int_equal(kill(pid, sigs[i]), 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != sigs[i])
			fail_msg("the child did not die of signal %d (status "
				 "0x%x)",
				 sigs[i], st);
		assert_int_equal(xdp_attached(AFP_IF), 0);
		assert_int_equal(napi_attr(AFP_IF, "napi_defer_hard_irqs"), 0);
		assert_int_equal(napi_attr(AFP_IF, "gro_flush_timeout"), 0);
	}
}

/* A process killed with SIGKILL undoes nothing: its program goes with
 * its bpf_link, and the next process opens the device again. A program
 * of ours attached through netlink by a process that is gone is replaced;
 * one held by a live process is not taken over. */
static void
test_axq_restart(void **state)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct sl_port *p;
	pid_t pid;
	int st, ks;

	(void)state;
	pid = child_with_lport();
	/* a second process cannot take the device of a live one */
	expect_fails(AFP_IF, 1, axq_opts(""), EBUSY, "another process");
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	ks = udp_socket_in(peer_ns, AFP_PEER_IP, KPORT);
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	port_close(p);
	assert_int_equal(xdp_attached(AFP_IF), 0);
	/* the killed child's NAPI settings stay: nothing could undo them */
	napi_attr_set(AFP_IF, "napi_defer_hard_irqs", 0);
	napi_attr_set(AFP_IF, "gro_flush_timeout", 0);

	/* our program attached through netlink, its loader gone */
	obj = bpf_object__open_file(SLT_STEER_OBJ, NULL);
	assert_non_null(obj);
	assert_int_equal(bpf_object__load(obj), 0);
	prog = bpf_object__find_program_by_name(obj, "sl_steer");
	assert_non_null(prog);
	assert_int_equal(bpf_xdp_attach((int)if_nametoindex(AFP_IF),
					bpf_program__fd(prog), axq_xdp_flag(),
					NULL),
			 0);
	bpf_object__close(obj);
	capture_begin();
	p = port_open("axq0", AFP_IF, 0, pool_2k, axq_opts(""));
	{
		char log[8192];

		capture_end(log, sizeof(log));
		if (strstr(log, "an earlier process left") == NULL)
			fail_msg("no word of the stale program:\n%s", log);
	}
	traffic_both_ways(p, &afp_side, ks, pool_2k, 1);
	port_close(p);
	assert_int_equal(xdp_attached(AFP_IF), 0);
	sock_close(ks);
}
#endif /* SLT_HAVE_AF_XDP */

/* ---- net_tap / net_tun --------------------------------------------------- */

static void
tap_side_init(struct side *s, bool l3, const char *ip, const char *peer_ip,
	      const char *mac, const char *peer_mac)
{
	*s = (struct side){.l2 = !l3,
			   .ip = ip,
			   .peer_ip = peer_ip,
			   .ptype =
				   (l3 ? SL_PTYPE_L2_NONE : SL_PTYPE_L2_ETHER) |
				   SL_PTYPE_L3_IPV4};
	if (!l3) {
		memcpy(s->mac, mac, 6);
		memcpy(s->peer_mac, peer_mac, 6);
	}
}

static bool
is_tun(void)
{
	return strcmp(backend, "tun") == 0;
}

/* The pre-created single-queue device, attached with create=no; 1 KB
 * mbufs so that RX builds chains, TX sends chains of up to 3 segments. */
static void
test_tap_traffic(void **state)
{
	bool l3 = is_tun();
	struct side s;
	struct sl_port *p;
	uint8_t mac[6];
	int ks;

	(void)state;
	tap_side_init(&s, l3, l3 ? TUN_PEER_IP : TAP_PEER_IP,
		      l3 ? TUN_IP : TAP_IP, TAP_PEER_MAC, TAP_MAC);
	p = port_open("tap0", l3 ? TUN_IF : TAP_IF, 0, pool_1k, "create=no");
	if (l3) {
		assert_true(sl_pktdev_capabilities(p) & SL_PORT_CAP_L3_ONLY);
		assert_int_equal(sl_pktdev_mac_get(p, mac), -ENOTSUP);
		assert_int_equal(sl_pktdev_promisc_get(p), -ENOTSUP);
	} else {
		assert_false(sl_pktdev_capabilities(p) & SL_PORT_CAP_L3_ONLY);
		assert_int_equal(sl_pktdev_mac_get(p, mac), 0);
		assert_memory_equal(mac, TAP_MAC, 6);
	}
	check_link_up(p);
	ks = udp_socket_in(NULL, s.peer_ip, KPORT);
	traffic_both_ways(p, &s, ks, pool_1k, 3);
	/* the kernel refuses a runt (TAP) or a non-IP packet (TUN) */
	tx_refused(p, 10);
	sock_close(ks);
	port_close(p);
}

/* Two queues of the multi-queue device: the kernel spreads flows over
 * them; TX works on the second queue too. */
static void
test_tap_multiqueue(void **state)
{
	bool l3 = is_tun();
	struct sl_port *ports[2];
	uint8_t frame[MAX_PKT], payload[64], got[MAX_PKT];
	struct sl_mbuf *m;
	struct side s;
	struct flow out;
	uint64_t end;
	uint32_t len;
	int ks;

	(void)state;
	tap_side_init(&s, l3, l3 ? TUNM_PEER_IP : TAPM_PEER_IP,
		      l3 ? TUNM_IP : TAPM_IP, TAPM_PEER_MAC, TAPM_MAC);
	ports[0] = port_open("tapm-q0", l3 ? TUNM_IF : TAPM_IF, 0, pool_2k,
			     "queues=2,create=no");
	ports[1] = port_open("tapm-q1", l3 ? TUNM_IF : TAPM_IF, 1, pool_2k,
			     "queues=2,create=no");
	/* until the carrier is seen, the kernel drops what it sends */
	check_link_up(ports[0]);
	ks = udp_socket_in(NULL, s.peer_ip, KPORT);
	flows_spread(ports, 2, &s, ks);
	/* one packet out of queue 1 */
	flow_init(&out, &s, true);
	payload_fill(payload, payload_len(0), 0x5a, 0);
	len = build_udp(frame, &out, payload, payload_len(0));
	m = mbuf_make(pool_2k, frame, len, 1);
	tx_all(ports[1], &m, 1);
	end = now_ms() + WAIT_MS;
	while (recv(ks, got, sizeof(got), 0) < 0) {
		if (now_ms() > end)
			fail_msg("nothing from queue 1 in %d ms", WAIT_MS);
		usleep(1000);
	}
	payload_check("kernel socket", got, payload_len(0), 0x5a, 1);
	sock_close(ks);
	port_close(ports[1]);
	port_close(ports[0]);
}

/* Device creation with every option, checked with ioctls of our own; the
 * device goes away with its lport unless persist=yes. */
static void
test_tap_create(void **state)
{
	bool l3 = is_tun();
	const char *ifname = l3 ? TUNC_IF : TAPC_IF;
	struct sockaddr_in *sin;
	struct sl_port *p;
	struct ifreq ifr;
	struct ifreq req;
	uint8_t mac[6];
	uint16_t mtu;
	int fd;

	(void)state;
	assert_int_equal(if_nametoindex(ifname), 0);
	p = port_open("tapc", ifname, 0, pool_2k,
		      l3 ? "up=yes,addr=198.18.6.1/24,mtu=1400"
			 : "up=yes,addr=198.18.3.1/24,mtu=1400,"
			   "mac=02:00:00:00:03:01");
	assert_true(if_nametoindex(ifname) > 0);
	assert_int_equal(ifioctl(ifname, SIOCGIFADDR, &ifr), 0);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	assert_string_equal(inet_ntoa(sin->sin_addr),
			    l3 ? "198.18.6.1" : "198.18.3.1");
	assert_int_equal(ifioctl(ifname, SIOCGIFNETMASK, &ifr), 0);
	sin = (struct sockaddr_in *)&ifr.ifr_netmask;
	assert_string_equal(inet_ntoa(sin->sin_addr), "255.255.255.0");
	assert_int_equal(ifioctl(ifname, SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	assert_int_equal(sl_pktdev_mtu_get(p, &mtu), 0);
	assert_int_equal(mtu, 1400);
	check_link_up(p);
	check_mtu(p, ifname);
	if (!l3) {
		assert_int_equal(ifioctl(ifname, SIOCGIFHWADDR, &ifr), 0);
		assert_memory_equal(ifr.ifr_hwaddr.sa_data,
				    "\x02\x00\x00\x00\x03\x01", 6);
		assert_int_equal(sl_pktdev_mac_get(p, mac), 0);
		assert_memory_equal(mac, "\x02\x00\x00\x00\x03\x01", 6);
		assert_int_equal(sl_pktdev_promisc_get(p), 0);
		assert_int_equal(sl_pktdev_promisc_set(p, true), 0);
		assert_int_equal(ifioctl(ifname, SIOCGIFFLAGS, &ifr), 0);
		assert_true(ifr.ifr_flags & IFF_PROMISC);
		assert_int_equal(sl_pktdev_promisc_get(p), 1);
		assert_int_equal(sl_pktdev_promisc_set(p, false), 0);
		assert_int_equal(sl_pktdev_promisc_get(p), 0);
	}
	port_close(p);
	assert_int_equal(if_nametoindex(ifname), 0);

	/* persist=yes: the device outlives the lport and can be attached */
	p = port_open("tapp", TAPP_IF, 0, pool_2k, "persist=yes,up=no");
	assert_int_equal(ifioctl(TAPP_IF, SIOCGIFFLAGS, &ifr), 0);
	assert_false(ifr.ifr_flags & IFF_UP);
	port_close(p);
	assert_true(if_nametoindex(TAPP_IF) > 0);
	p = port_open("tapp", TAPP_IF, 0, pool_2k, "create=no");
	port_close(p);
	assert_true(if_nametoindex(TAPP_IF) > 0);
	/* remove it */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, sizeof(req.ifr_name), "%s", TAPP_IF);
	req.ifr_flags = (short)((l3 ? IFF_TUN : IFF_TAP) | IFF_NO_PI);
	assert_int_equal(ioctl(fd, TUNSETIFF, &req), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 0), 0);
	close(fd);
	assert_int_equal(if_nametoindex(TAPP_IF), 0);
}

static void
test_tap_errors(void **state)
{
	bool l3 = is_tun();
	const char *dev = l3 ? TUN_IF : TAP_IF;
	const char *mdev = l3 ? TUNM_IF : TAPM_IF;
	struct sl_port_cfg other = {.name = "other",
				    .backend = l3 ? "tap" : "tun",
				    .ifname = "sltx",
				    .pool = pool_2k,
				    .options = "up=no"};
	struct sl_port *p, *q;

	(void)state;
	expect_fails(dev, 0, "bogus=1", EINVAL, "'bogus'");
	expect_fails(NULL, 0, NULL, ENODEV, "no ifname");
	expect_fails(NOSUCH_IF, 0, "create=no", ENODEV, "'" NOSUCH_IF "'");
	expect_fails("an-ifname-too-long", 0, NULL, EINVAL,
		     "'an-ifname-too-long'");
	expect_fails(dev, 0, "persist=maybe", EINVAL, "'persist'");
	expect_fails(dev, 0, "up=2", EINVAL, "'up'");
	expect_fails(dev, 0, "addr=198.18.3.1/40", EINVAL, "'addr'");
	expect_fails(dev, 0, "addr=198.18.3", EINVAL, "'addr'");
	expect_fails(dev, 0, "queues=0", EINVAL, "'queues'");
	expect_fails(dev, 2, "queues=2", EINVAL, "'queues'");
	expect_fails(dev, 0, "mtu=20", EINVAL, "'mtu'");
	if (l3)
		expect_fails(dev, 0, "mac=02:00:00:00:00:01", EINVAL, "'mac'");
	else {
		expect_fails(dev, 0, "mac=zz:00:00:00:00:01", EINVAL, "'mac'");
		expect_fails(dev, 0, "mac=01:00:00:00:00:01", EINVAL, "'mac'");
	}
	/* not a TUN/TAP device, or the other kind */
	expect_fails("lo", 0, NULL, EINVAL, "not a TUN/TAP device");
	q = port_open_cfg(&other);
	expect_fails("sltx", 0, NULL, EINVAL,
		     l3 ? "is a TAP device" : "is a TUN device");
	port_close(q);
	/* single-queue device already attached; multi-queue mismatch */
	p = port_open("busy", dev, 0, pool_2k, "create=no");
	expect_fails(dev, 0, "create=no", EBUSY, "already attached");
	port_close(p);
	expect_fails(mdev, 0, "create=no", EINVAL, "multi-queue");
	expect_fails(dev, 1, "create=no", EINVAL, "single-queue");
	/* a device created, then refused an option, goes away again */
	if (!l3) {
		expect_fails(TAPC_IF, 0, "mtu=65535", EINVAL,
			     "setting the MTU");
		assert_int_equal(if_nametoindex(TAPC_IF), 0);
	}
}

/* ---- main ---------------------------------------------------------------- */

static int
group_setup(void **state)
{
	struct sl_mbuf_pool_cfg c2 = {
		.name = "slt-2k", .n = 4096, .frame_size = 2048};
	struct sl_mbuf_pool_cfg c1 = {
		.name = "slt-1k", .n = 4096, .frame_size = 1024};

	(void)state;
	pool_2k = sl_mbuf_pool_create(&c2);
	pool_1k = sl_mbuf_pool_create(&c1);
	return pool_2k != NULL && pool_1k != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	sl_mempool_destroy(pool_2k);
	sl_mempool_destroy(pool_1k);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest afp[] = {
		T(test_afp_traffic), T(test_afp_bypass_small_rings_chains),
		T(test_afp_fanout),  T(test_afp_kernel_drops),
		T(test_afp_control), T(test_afp_errors),
	};
#ifdef SLT_HAVE_AF_XDP
	const struct CMUnitTest axq[] = {
		T(test_axq_traffic),	    T(test_axq_busy_poll),
		T(test_axq_shared_program), T(test_axq_control),
		T(test_axq_errors),	    T(test_axq_foreign),
		T(test_axq_pinned_map),	    T(test_axq_four_queues),
		T(test_axq_shared_umem),    T(test_axq_jumbo),
		T(test_axq_busy_auto),	    T(test_axq_signal_cleanup),
		T(test_axq_restart),	    T(test_axq_hugepage_umem),
	};
#endif
	const struct CMUnitTest tap[] = {
		T(test_tap_traffic),
		T(test_tap_multiqueue),
		T(test_tap_create),
		T(test_tap_errors),
	};

	if (argc >= 3 && strcmp(argv[1], "af_packet") == 0) {
		backend = "af_packet";
		peer_ns = argv[2];
		afp_side_init();
		return cmocka_run_group_tests_name("net_af_packet", afp,
						   group_setup, group_teardown);
	}
#ifdef SLT_HAVE_AF_XDP
	if (argc >= 3 && strcmp(argv[1], "lport-child") == 0)
		return lport_child(argv[2]);
#endif
	if (argc >= 4 && strcmp(argv[1], "af_xdp") == 0) {
#ifdef SLT_HAVE_AF_XDP
		backend = "af_xdp";
		peer_ns = argv[2];
		axq_mode = argv[3];
		afp_side_init();
		axq2_side_init();
		return cmocka_run_group_tests_name("net_af_xdp", axq,
						   group_setup, group_teardown);
#else
		fprintf(stderr, "SKIP: net_af_xdp is not built\n");
		return 77;
#endif
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "tap") == 0 || strcmp(argv[1], "tun") == 0)) {
		backend = argv[1];
		return cmocka_run_group_tests_name(
			is_tun() ? "net_tun" : "net_tap", tap, group_setup,
			group_teardown);
	}
	fprintf(stderr,
		"usage: %s af_packet PEER_NETNS | tap | tun | "
		"af_xdp PEER_NETNS native|skb\n"
		"(run by kernel_peer.sh inside the namespaces it creates)\n",
		argv[0]);
	return 2;
}
