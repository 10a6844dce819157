/*
 * The device plugin protocol client of net_af_xdp (af_xdp_uds.c), against
 * a fake server thread on a SOCK_SEQPACKET socket in a temporary
 * directory. The fake reads at most 64 bytes per message, as the plugin
 * does, records every request and answers as each test tells it; the
 * "XSKMAP" it sends is a memfd holding "xsks:<netdev>", so that the test
 * can check which file the client received. Every test checks that no fd
 * is left open and no session remains. The last tests open net_af_xdp
 * itself with uds_path (the library's own copy of the client): its
 * options, and a received fd that is no XSKMAP.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <net/if.h>
#include <cmocka.h>

#include <sluice/sl_log.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>
#include "af_xdp_uds.h"

#define FAKE_REQS 64
#define FAKE_MAPS 8
#define PORT "uds0"
#define TMO_MS 2000u

struct fake {
	char dir[64];
	char path[96];
	int lfd;
	int stop[2];
	pthread_t th;
	pthread_mutex_t lock;
	/* behaviour (under lock) */
	const char *host_reply;
	const char *version_reply;
	const char *fd_reply;
	unsigned fd_count; /* fds sent with fd_reply */
	const char *busy_reply;
	const char *raw_reply; /* sent to every request when set */
	size_t raw_len;
	bool hang;	       /* never answer */
	bool close_at_connect; /* close when /connect arrives */
	bool close_at_map;     /* close when /xsk_map_fd arrives */
	/* what happened (under lock) */
	unsigned accepts;
	char reqs[FAKE_REQS][AXU_MSG_MAX + 1];
	unsigned req_fds[FAKE_REQS];
	bool req_trunc[FAKE_REQS];
	unsigned nreq;
	bool busy_fd_socket; /* the fd of /config_busy_poll was a socket */
	int mapfd[FAKE_MAPS];
	char mapdev[FAKE_MAPS][IFNAMSIZ];
	unsigned nmaps;
};

static struct fake *fk;
static int fds_before;

static int
count_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The memfd standing for the XSKMAP of netdev (fake->lock held). */
static int
fake_map(struct fake *f, const char *netdev)
{
	char text[64];
	unsigned i;
	int fd;

	for (i = 0; i < f->nmaps; i++)
		if (strcmp(f->mapdev[i], netdev) == 0)
			return f->mapfd[i];
	assert_true(f->nmaps < FAKE_MAPS);
	fd = memfd_create("fake-xsks", MFD_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(text, sizeof(text), "xsks:%s", netdev);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	snprintf(f->mapdev[f->nmaps], IFNAMSIZ, "%.15s", netdev);
	f->mapfd[f->nmaps++] = fd;
	return fd;
}

static void
fake_send(int c, const char *msg, size_t len, int fd, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	unsigned i;

	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd,
			       sizeof(int));
	}
	(void)sendmsg(c, &mh, MSG_NOSIGNAL);
}

/* Handle one request; false: close the connection. */
static bool
fake_request(struct fake *f, int c, const char *req, int rfd)
{
	const char *reply = NULL;
	struct stat st;
	int fd = -1;
	unsigned nfds = 0;
	bool keep = true;

	pthread_mutex_lock(&f->lock);
	if (f->hang) {
		pthread_mutex_unlock(&f->lock);
		return true;
	}
	if (strncmp(req, "/connect,", 9) == 0) {
		if (f->close_at_connect)
			keep = false;
		reply = f->host_reply;
	} else if (strcmp(req, "/version") == 0) {
		reply = f->version_reply;
	} else if (strncmp(req, "/xsk_map_fd,", 12) == 0) {
		if (f->close_at_map)
			keep = false;
		reply = f->fd_reply;
		if (strcmp(reply, "/fd_nak") != 0) {
			fd = fake_map(f, req + 12);
			nfds = f->fd_count;
		}
	} else if (strncmp(req, "/config_busy_poll,", 18) == 0) {
		f->busy_fd_socket = rfd >= 0 && fstat(rfd, &st) == 0 &&
				    S_ISSOCK(st.st_mode);
		reply = f->busy_reply;
	} else if (strcmp(req, "/fin") == 0) {
		reply = "/fin_ack";
	} else {
		reply = "/nak";
	}
	if (keep && f->raw_reply != NULL)
		fake_send(c, f->raw_reply, f->raw_len, -1, 0);
	else if (keep)
		fake_send(c, reply, strlen(reply), fd, nfds);
	pthread_mutex_unlock(&f->lock);
	return keep;
}

/* Serve one connection until it closes or the test stops. */
static void
fake_serve(struct fake *f, int c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char buf[AXU_MSG_MAX + 1];
	struct pollfd p[2] = {{.fd = c, .events = POLLIN},
			      {.fd = f->stop[0], .events = POLLIN}};
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	unsigned i;
	ssize_t n;
	int rfd;

	for (;;) {
		if (poll(p, 2, 10000) <= 0 || p[1].revents)
			return;
		iov = (struct iovec){.iov_base = buf, .iov_len = AXU_MSG_MAX};
		mh = (struct msghdr){.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return;
		buf[n] = '\0';
		rfd = -1;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_type == SCM_RIGHTS)
				memcpy(&rfd, CMSG_DATA(cm), sizeof(int));
		pthread_mutex_lock(&f->lock);
		i = f->nreq < FAKE_REQS ? f->nreq++ : FAKE_REQS - 1;
		memcpy(f->reqs[i], buf, (size_t)n + 1);
		f->req_fds[i] = rfd >= 0;
		f->req_trunc[i] = (mh.msg_flags & MSG_TRUNC) != 0;
		pthread_mutex_unlock(&f->lock);
		if (!fake_request(f, c, buf, rfd)) {
			if (rfd >= 0)
				close(rfd);
			return;
		}
		if (rfd >= 0)
			close(rfd);
	}
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd p[2] = {{.fd = f->lfd, .events = POLLIN},
			      {.fd = f->stop[0], .events = POLLIN}};
	int c;

	for (;;) {
		if (poll(p, 2, 10000) <= 0 || p[1].revents)
			return NULL;
		c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		pthread_mutex_lock(&f->lock);
		f->accepts++;
		pthread_mutex_unlock(&f->lock);
		fake_serve(f, c);
		close(c);
	}
}

static int
fake_setup(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *tmp = getenv("TMPDIR");

	(void)state;
	/* the errors are expected: shown only with SL_LOG_LEVEL set */
	if (getenv("SL_LOG_LEVEL") == NULL)
		sl_log_set_level(NULL, SL_LOG_CRIT);
	fds_before = count_fds();
	fk = calloc(1, sizeof(*fk));
	assert_non_null(fk);
	snprintf(fk->dir, sizeof(fk->dir), "%.40s/sl-uds-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 40 ? tmp
								   : "/tmp");
	assert_non_null(mkdtemp(fk->dir));
	snprintf(fk->path, sizeof(fk->path), "%s/afxdp.sock", fk->dir);
	pthread_mutex_init(&fk->lock, NULL);
	fk->host_reply = "/host_ok";
	fk->version_reply = "0.1";
	fk->fd_reply = "/fd_ack";
	fk->fd_count = 1;
	fk->busy_reply = "/config_busy_poll_ack";
	fk->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fk->lfd >= 0);
	memcpy(sa.sun_path, fk->path, strlen(fk->path) + 1);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fk->lfd, 4), 0);
	assert_int_equal(pipe2(fk->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&fk->th, NULL, fake_main, fk), 0);
	return 0;
}

static int
fake_teardown(void **state)
{
	unsigned i;

	(void)state;
	assert_int_equal(write(fk->stop[1], "x", 1), 1);
	pthread_join(fk->th, NULL);
	close(fk->stop[0]);
	close(fk->stop[1]);
	close(fk->lfd);
	for (i = 0; i < fk->nmaps; i++)
		close(fk->mapfd[i]);
	unlink(fk->path);
	rmdir(fk->dir);
	pthread_mutex_destroy(&fk->lock);
	free(fk);
	fk = NULL;
	assert_int_equal(axu_session_count(), 0);
	assert_int_equal(count_fds(), fds_before);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void
fake_set(const char **field, const char *value)
{
	pthread_mutex_lock(&fk->lock);
	*field = value;
	pthread_mutex_unlock(&fk->lock);
}

static unsigned
fake_nreq(void)
{
	unsigned n;

	pthread_mutex_lock(&fk->lock);
	n = fk->nreq;
	pthread_mutex_unlock(&fk->lock);
	return n;
}

/* The request i, as recorded. */
static const char *
fake_req(unsigned i)
{
	assert_true(i < fake_nreq());
	return fk->reqs[i];
}

static unsigned
fake_accepts(void)
{
	unsigned n;

	pthread_mutex_lock(&fk->lock);
	n = fk->accepts;
	pthread_mutex_unlock(&fk->lock);
	return n;
}

/* Wait (bounded) until the fake has recorded n requests. */
static void
fake_wait_reqs(unsigned n)
{
	uint64_t end = now_ms() + 2000;

	while (fake_nreq() < n && now_ms() < end)
		usleep(1000);
	assert_int_equal(fake_nreq(), n);
}

static struct axu_session *
session(void)
{
	struct axu_session *s = NULL;

	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s), 0);
	assert_non_null(s);
	return s;
}

/* fd is the fake's map of netdev: same content, close-on-exec. */
static void
check_map(int fd, const char *netdev)
{
	char want[64], got[64];
	ssize_t n;

	assert_true(fd >= 0);
	snprintf(want, sizeof(want), "xsks:%s", netdev);
	n = pread(fd, got, sizeof(got) - 1, 0);
	assert_int_equal(n, (ssize_t)strlen(want));
	got[n] = '\0';
	assert_string_equal(got, want);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_happy_path(void **state)
{
	struct axu_session *s;
	int fd;

	(void)state;
	s = session();
	assert_string_equal(axu_session_path(s), fk->path);
	assert_int_equal(axu_session_count(), 1);
	assert_int_equal(fake_nreq(), 2);
	assert_string_equal(fake_req(0), "/connect,pod-a");
	assert_string_equal(fake_req(1), "/version");
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), 0);
	assert_string_equal(fake_req(2), "/xsk_map_fd,slt0");
	check_map(fd, "slt0");
	close(fd);
	axu_session_put(s);
	/* /fin at the last release, answered */
	assert_int_equal(fake_nreq(), 4);
	assert_string_equal(fake_req(3), "/fin");
	assert_int_equal(fake_accepts(), 1);
}

static void
test_two_netdevs_one_connection(void **state)
{
	struct axu_session *s;
	int a, b;

	(void)state;
	s = session();
	assert_int_equal(axu_map_fd(s, PORT, "eth0", &a), 0);
	assert_int_equal(axu_map_fd(s, PORT, "eth1", &b), 0);
	check_map(a, "eth0");
	check_map(b, "eth1");
	close(a);
	close(b);
	axu_session_put(s);
	assert_int_equal(fake_accepts(), 1);
	assert_int_equal(fake_nreq(), 5);
	assert_string_equal(fake_req(2), "/xsk_map_fd,eth0");
	assert_string_equal(fake_req(3), "/xsk_map_fd,eth1");
	assert_string_equal(fake_req(4), "/fin");
}

/* A second lport on the same path and netdev: same session, the map
 * from the cache, /fin only when both are released. */
static void
test_reuse_second_lport(void **state)
{
	struct axu_session *s1, *s2;
	struct stat st1, st2;
	int a, b;

	(void)state;
	s1 = session();
	assert_int_equal(axu_map_fd(s1, PORT, "slt0", &a), 0);
	/* the second lport's timeout and hostname do not matter: joined */
	assert_int_equal(axu_session_get(PORT "b", fk->path, 1, &s2), 0);
	assert_ptr_equal(s1, s2);
	assert_int_equal(axu_session_count(), 1);
	assert_int_equal(axu_map_fd(s2, PORT "b", "slt0", &b), 0);
	assert_int_not_equal(a, b);
	check_map(b, "slt0");
	assert_int_equal(fstat(a, &st1), 0);
	assert_int_equal(fstat(b, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);
	assert_int_equal(fake_nreq(), 3); /* one /xsk_map_fd */
	close(a);
	axu_session_put(s1);
	assert_int_equal(fake_nreq(), 3); /* no /fin yet */
	assert_int_equal(axu_session_count(), 1);
	/* the received fd outlives the first lport's reference */
	check_map(b, "slt0");
	close(b);
	axu_session_put(s2);
	assert_int_equal(fake_nreq(), 4);
	assert_string_equal(fake_req(3), "/fin");
	assert_int_equal(fake_accepts(), 1);
}

static void
test_host_nak(void **state)
{
	struct axu_session *s = (void *)1;

	(void)state;
	fake_set(&fk->host_reply, "/host_nak");
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EACCES);
	assert_null(s);
	assert_int_equal(axu_session_count(), 0);
	/* a failed handshake is not kept: the next lport connects again */
	fake_set(&fk->host_reply, "/host_ok");
	s = session();
	axu_session_put(s);
	assert_int_equal(fake_accepts(), 2);
}

static void
test_host_error(void **state)
{
	struct axu_session *s;

	(void)state;
	fake_set(&fk->host_reply, "/error");
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EPROTO);
	fake_set(&fk->host_reply, "/nak");
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EPROTO);
	assert_int_equal(axu_session_count(), 0);
}

/* /fd_nak: that netdev fails, the session goes on. */
static void
test_fd_nak(void **state)
{
	struct axu_session *s;
	int fd = 0;

	(void)state;
	s = session();
	fake_set(&fk->fd_reply, "/fd_nak");
	assert_int_equal(axu_map_fd(s, PORT, "nope0", &fd), -ENODEV);
	assert_int_equal(fd, -1);
	fake_set(&fk->fd_reply, "/fd_ack");
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), 0);
	check_map(fd, "slt0");
	close(fd);
	axu_session_put(s);
	assert_string_equal(fake_req(fake_nreq() - 1), "/fin");
}

/* /fd_ack with no fd, with two, with more than the client takes. */
static void
test_fd_count(void **state)
{
	static const unsigned counts[] = {0, 2, 12};
	struct axu_session *s;
	unsigned i;
	int fd;

	(void)state;
	s = session();
	for (i = 0; i < 3; i++) {
		pthread_mutex_lock(&fk->lock);
		fk->fd_count = counts[i];
		pthread_mutex_unlock(&fk->lock);
		fd = 0;
		assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), -EBADMSG);
		assert_int_equal(fd, -1);
	}
	/* still in step: a good reply is taken */
	pthread_mutex_lock(&fk->lock);
	fk->fd_count = 1;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), 0);
	check_map(fd, "slt0");
	close(fd);
	axu_session_put(s);
	assert_string_equal(fake_req(fake_nreq() - 1), "/fin");
	/* teardown checks that every extra fd was closed */
}

static void
test_garbage_replies(void **state)
{
	static const char longer[100] = "/host_ok";
	struct axu_session *s;

	(void)state;
	pthread_mutex_lock(&fk->lock);
	fk->raw_reply = "/host_ok\n";
	fk->raw_len = 9;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EPROTO);
	pthread_mutex_lock(&fk->lock);
	fk->raw_reply = "\x01\xff\\";
	fk->raw_len = 3;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EPROTO);
	pthread_mutex_lock(&fk->lock);
	fk->raw_reply = longer;
	fk->raw_len = sizeof(longer);
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EMSGSIZE);
	pthread_mutex_lock(&fk->lock);
	fk->raw_reply = "";
	fk->raw_len = 0;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-EPROTO);
	assert_int_equal(axu_session_count(), 0);
	assert_int_equal(fake_accepts(), 4);
}

/* An unknown reply after the handshake ends the session: the next
 * request fails at once, and no /fin is sent. */
static void
test_garbage_ends_session(void **state)
{
	struct axu_session *s;
	unsigned n;
	int fd;

	(void)state;
	s = session();
	fake_set(&fk->fd_reply, "/fd_ackk");
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), -EPROTO);
	n = fake_nreq();
	fake_set(&fk->fd_reply, "/fd_ack");
	assert_int_equal(axu_map_fd(s, PORT, "slt1", &fd), -EPROTO);
	assert_int_equal(fake_nreq(), n);
	axu_session_put(s);
	assert_int_equal(fake_nreq(), n);
	/* a new session once the failed one is released */
	s = session();
	assert_int_equal(axu_map_fd(s, PORT, "slt1", &fd), 0);
	close(fd);
	axu_session_put(s);
	assert_int_equal(fake_accepts(), 2);
}

static void
test_server_closes(void **state)
{
	struct axu_session *s;
	int fd;

	(void)state;
	pthread_mutex_lock(&fk->lock);
	fk->close_at_connect = true;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(
		axu_session_get_as(PORT, fk->path, "pod-a", TMO_MS, &s),
		-ECONNRESET);
	pthread_mutex_lock(&fk->lock);
	fk->close_at_connect = false;
	fk->close_at_map = true;
	pthread_mutex_unlock(&fk->lock);
	s = session();
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), -ECONNRESET);
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), -ECONNRESET);
	axu_session_put(s);
	assert_int_equal(axu_session_count(), 0);
}

/* A server that never answers: each step fails after the timeout. */
static void
test_timeout(void **state)
{
	struct axu_session *s;
	uint64_t t0, dt;
	unsigned n;
	int fd;

	(void)state;
	pthread_mutex_lock(&fk->lock);
	fk->hang = true;
	pthread_mutex_unlock(&fk->lock);
	t0 = now_ms();
	assert_int_equal(axu_session_get_as(PORT, fk->path, "pod-a", 150, &s),
			 -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 140 && dt < 2000);
	/* hanging at the map request, after a good handshake */
	pthread_mutex_lock(&fk->lock);
	fk->hang = false;
	pthread_mutex_unlock(&fk->lock);
	assert_int_equal(axu_session_get_as(PORT, fk->path, "pod-a", 150, &s),
			 0);
	pthread_mutex_lock(&fk->lock);
	fk->hang = true;
	pthread_mutex_unlock(&fk->lock);
	t0 = now_ms();
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 140 && dt < 2000);
	n = fake_nreq();
	axu_session_put(s); /* no /fin: the session failed */
	usleep(20000);
	assert_int_equal(fake_nreq(), n);
}

/* A server that never accepts: the connection is queued in its backlog,
 * and the handshake times out. */
static void
test_not_accepting(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[256];
	struct axu_session *s;
	uint64_t t0;
	int l;

	(void)state;
	snprintf(path, sizeof(path), "%s/idle.sock", fk->dir);
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* bound but not listening: refused */
	assert_int_equal(axu_session_get_as(PORT, path, "pod-a", 150, &s),
			 -ECONNREFUSED);
	assert_int_equal(listen(l, 1), 0);
	t0 = now_ms();
	assert_int_equal(axu_session_get_as(PORT, path, "pod-a", 150, &s),
			 -ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	close(l);
	unlink(path);
	/* nothing there */
	assert_int_equal(axu_session_get_as(PORT, path, "pod-a", 150, &s),
			 -ENOENT);
	/* a stream socket is not the protocol's */
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(axu_session_get_as(PORT, path, "pod-a", 150, &s),
			 -EPROTOTYPE);
	close(l);
	unlink(path);
	assert_int_equal(axu_session_get_as(PORT, "", "pod-a", 150, &s),
			 -EINVAL);
	memset(path, 'p', 200);
	path[200] = '\0';
	assert_int_equal(axu_session_get_as(PORT, path, "pod-a", 150, &s),
			 -ENAMETOOLONG);
	assert_int_equal(fake_accepts(), 0);
}

static void
test_hostnames(void **state)
{
	char host[AXU_HOST_MAX], name[80], msg[AXU_HOST_MAX + 16];
	struct axu_session *s;
	struct utsname u;

	(void)state;
	/* this host's name, whole */
	assert_true(sizeof(host) >= 65);
	assert_int_equal(axu_hostname(host, sizeof(host)), 0);
	assert_int_equal(uname(&u), 0);
	assert_string_equal(host, u.nodename);
	/* 55 characters: "/connect,<name>" is exactly the 64 bytes the
	 * plugin reads, and arrives whole */
	memset(name, 'h', 55);
	name[55] = '\0';
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), name), 64);
	assert_int_equal(axu_session_get_as(PORT, fk->path, name, TMO_MS, &s),
			 0);
	assert_int_equal(strlen(fake_req(0)), 64);
	assert_false(fk->req_trunc[0]);
	assert_string_equal(fake_req(0) + 9, name);
	axu_session_put(s);
	/* 56 and 64 characters (a 64-byte buffer holds the latter): the
	 * plugin would read a truncated name, so nothing is sent */
	name[55] = 'h';
	name[56] = '\0';
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), name),
			 -ENAMETOOLONG);
	memset(name, 'x', 64);
	name[64] = '\0';
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), name),
			 -ENAMETOOLONG);
	assert_int_equal(axu_session_get_as(PORT, fk->path, name, TMO_MS, &s),
			 -ENAMETOOLONG);
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), ""), -EINVAL);
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), "a,b"), -EINVAL);
	assert_int_equal(axu_connect_msg(msg, sizeof(msg), "a b"), -EINVAL);
	assert_int_equal(fake_accepts(), 1);
}

static void
test_bad_netdev(void **state)
{
	struct axu_session *s;
	int fd;

	(void)state;
	s = session();
	assert_int_equal(axu_map_fd(s, PORT, "", &fd), -EINVAL);
	assert_int_equal(axu_map_fd(s, PORT, "a,b", &fd), -EINVAL);
	assert_int_equal(axu_map_fd(s, PORT, "0123456789abcdef", &fd), -EINVAL);
	assert_int_equal(fake_nreq(), 2);
	axu_session_put(s);
}

static void
test_busy_poll(void **state)
{
	struct axu_session *s;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)state;
	assert_true(sk >= 0);
	s = session();
	assert_int_equal(axu_busy_poll(s, PORT, sk, 20, 64), 0);
	assert_string_equal(fake_req(2), "/config_busy_poll,20,64");
	assert_int_equal(fk->req_fds[2], 1);
	assert_true(fk->busy_fd_socket);
	fake_set(&fk->busy_reply, "/config_busy_poll_nak");
	assert_int_equal(axu_busy_poll(s, PORT, sk, 50, 8), -EPERM);
	assert_int_equal(axu_busy_poll(s, PORT, -1, 50, 8), -EBADF);
	axu_session_put(s);
	close(sk);
	assert_string_equal(fake_req(fake_nreq() - 1), "/fin");
}

/* /version is informative: any answer will do. */
static void
test_version_any(void **state)
{
	struct axu_session *s;

	(void)state;
	fake_set(&fk->version_reply, "/nak");
	s = session();
	axu_session_put(s);
	assert_int_equal(fake_accepts(), 1);
}

#define NTHREADS 4

static pthread_barrier_t barrier;

static void *
lport_thread(void *arg)
{
	char name[16], dev[8];
	struct axu_session *s;
	long i = (long)arg;
	int fd, err;

	snprintf(name, sizeof(name), "uds%ld", i);
	snprintf(dev, sizeof(dev), "eth%ld", i % 2);
	err = axu_session_get_as(name, fk->path, "pod-a", TMO_MS, &s);
	pthread_barrier_wait(&barrier);
	if (err < 0)
		return (void *)1;
	err = axu_map_fd(s, name, dev, &fd);
	pthread_barrier_wait(&barrier);
	if (err == 0) {
		char got[16] = {0};

		if (pread(fd, got, sizeof(got) - 1, 0) < 0 ||
		    strcmp(got + 5, dev) != 0)
			err = -EIO;
		close(fd);
	}
	axu_session_put(s);
	return err < 0 ? (void *)1 : NULL;
}

/* Lports of several threads on one path: one connection, one request per
 * netdev, one /fin. */
static void
test_threads(void **state)
{
	pthread_t th[NTHREADS];
	unsigned i, maps = 0, fins = 0;
	void *ret;

	(void)state;
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, lport_thread,
						(void *)(long)i),
				 0);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	pthread_barrier_destroy(&barrier);
	assert_int_equal(fake_accepts(), 1);
	for (i = 0; i < fake_nreq(); i++) {
		maps += strncmp(fake_req(i), "/xsk_map_fd,", 12) == 0;
		fins += strcmp(fake_req(i), "/fin") == 0;
	}
	assert_int_equal(maps, 2);
	assert_int_equal(fins, 1);
}

/* The fd passed is usable after the fake is gone (it is the file). */
static void
test_fd_outlives_session(void **state)
{
	struct axu_session *s;
	int fd;

	(void)state;
	s = session();
	assert_int_equal(axu_map_fd(s, PORT, "slt0", &fd), 0);
	axu_session_put(s);
	fake_wait_reqs(4);
	check_map(fd, "slt0");
	close(fd);
}

/* ---- net_af_xdp with uds_path ------------------------------------------ */

static struct sl_mempool *
afxdp_pool(void)
{
	struct sl_mbuf_pool_cfg cfg = {
		.name = "uds", .n = 64, .frame_size = 2048, .cache_size = 0};
	struct sl_mempool *mp = sl_mbuf_pool_create(&cfg);

	assert_non_null(mp);
	return mp;
}

static struct sl_port *
afxdp_open(struct sl_mempool *mp, const char *options)
{
	struct sl_port_cfg cfg = {
		.name = "uds-lport",
		.backend = "net_af_xdp",
		.ifname = "lo",
		.pool = mp,
		.options = options,
	};

	return sl_pktdev_open(&cfg);
}

/* Options refused before anything is opened. */
static void
test_afxdp_options(void **state)
{
	static const char *const bad[] = {
		"uds_path=",
		"uds_path=/nowhere,xsk_pin_path=/sys/fs/bpf/x",
		"uds_path=/nowhere,force=yes",
		"uds_timeout=100",
		"uds_path=/nowhere,uds_timeout=0",
		"uds_path=/nowhere,uds_timeout=soon",
	};
	struct sl_mempool *mp = afxdp_pool();
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(bad); i++) {
		errno = 0;
		assert_null(afxdp_open(mp, bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(fake_accepts(), 0);
	sl_mempool_destroy(mp);
}

/* The path is used: refusals come back as the open's errno, a file that
 * is no XSKMAP is refused, and the session ends with /fin each time. */
static void
test_afxdp_uds_open(void **state)
{
	struct sl_mempool *mp = afxdp_pool();
	char opt[160];

	(void)state;
	snprintf(opt, sizeof(opt), "uds_path=%s,uds_timeout=2000", fk->path);
	fake_set(&fk->fd_reply, "/fd_nak");
	errno = 0;
	assert_null(afxdp_open(mp, opt));
	assert_int_equal(errno, ENODEV);
	assert_string_equal(fake_req(2), "/xsk_map_fd,lo");
	assert_string_equal(fake_req(3), "/fin");
	fake_set(&fk->fd_reply, "/fd_ack");
	errno = 0;
	assert_null(afxdp_open(mp, opt)); /* a memfd: not an XSKMAP */
	assert_int_not_equal(errno, 0);
	assert_string_equal(fake_req(fake_nreq() - 1), "/fin");
	assert_int_equal(fake_accepts(), 2);
	fake_set(&fk->host_reply, "/host_nak");
	errno = 0;
	assert_null(afxdp_open(mp, opt));
	assert_int_equal(errno, EACCES);
	sl_mempool_destroy(mp);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
		T(test_happy_path),
		T(test_two_netdevs_one_connection),
		T(test_reuse_second_lport),
		T(test_host_nak),
		T(test_host_error),
		T(test_fd_nak),
		T(test_fd_count),
		T(test_garbage_replies),
		T(test_garbage_ends_session),
		T(test_server_closes),
		T(test_timeout),
		T(test_not_accepting),
		T(test_hostnames),
		T(test_bad_netdev),
		T(test_busy_poll),
		T(test_version_any),
		T(test_threads),
		T(test_fd_outlives_session),
		T(test_afxdp_options),
		T(test_afxdp_uds_open),
	};
#undef T
	return cmocka_run_group_tests_name("af_xdp_uds", tests, NULL, NULL);
}
