/*
 * The device plugin protocol over a Unix socket, client side (see
 * af_xdp_uds.h): one session per socket path, shared by the lports.
 *
 * Locking: axu.lock guards the list of sessions and their reference
 * counts; each session's lock guards its socket, its state and its cache
 * of map fds, and is held across a whole request and reply so that the
 * replies of two lports never mix. The creator of a session holds its lock
 * during the handshake: an lport that finds the session then waits for the
 * handshake's result. Order: a session's lock, then axu.lock (never the
 * reverse while blocking).
 *
 * The socket is non-blocking; every wait is a poll() bounded by the
 * session's deadline for the step.
 */
#define SL_LOG_MODULE "net_af_xdp"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <net/if.h>

#include "sluice/sl_common.h"
#include "sluice/sl_log.h"
#include "af_xdp_uds.h"

#define AXU_FDS_MAX 8 /* fds of one reply received (and closed) at most */
#define AXU_QUOTE_MAX (4 * AXU_MSG_MAX + 1)
#define AXU_WHY_MAX 512
#define AXU_BACKLOG_WAIT_MS 10

_Static_assert(AXU_HOST_MAX >= 64, "a hostname needs 64 bytes");

/* The XSKMAP fd received for one netdev. */
struct axu_map {
	struct axu_map *next;
	int fd;
	char netdev[IFNAMSIZ];
};

struct axu_session {
	struct axu_session *next;   /* axu.list */
	unsigned refs;		    /* axu.lock */
	bool listed;		    /* axu.lock: in axu.list */
	pthread_mutex_t lock;	    /* the fields below */
	bool opened;		    /* the handshake succeeded */
	int fd;			    /* -1 once failed or ended */
	int err;		    /* why fd is -1: -errno */
	char why[AXU_WHY_MAX + 64]; /* ... in words */
	unsigned timeout_ms;
	struct axu_map *maps;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
};

/* A reply: the message (NUL added) and the fds that came with it. */
struct axu_reply {
	char msg[AXU_MSG_MAX + 1];
	size_t len;
	int fds[AXU_FDS_MAX];
	unsigned nfds;
	bool ctrunc; /* the kernel dropped control data: more fds */
};

/* What a step expects. */
struct axu_expect {
	const char *ok;	  /* the reply meaning success */
	unsigned ok_fds;  /* fds it carries */
	const char *nak;  /* the refusal, or NULL */
	int nak_err;	  /* returned for it */
	const char *hint; /* what the refusal means */
};

static struct {
	pthread_mutex_t lock;
	struct axu_session *list;
	unsigned count;
} axu = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- helpers ------------------------------------------------------------ */

static uint64_t
axu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for ev on fd until deadline: 1 (ready, *rev set), 0 (timed out)
 * or -errno. */
static int
axu_wait(int fd, short ev, uint64_t deadline, short *rev)
{
	struct pollfd p;
	uint64_t now;
	int n;

	for (;;) {
		now = axu_now_ms();
		if (now >= deadline)
			return 0;
		p = (struct pollfd){.fd = fd, .events = ev};
		n = poll(&p, 1,
			 deadline - now > INT_MAX ? INT_MAX
						  : (int)(deadline - now));
		if (n > 0) {
			*rev = p.revents;
			return 1;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Printable form of a message: other bytes as \xNN. */
static const char *
axu_quote(const char *p, size_t n, char out[AXU_QUOTE_MAX])
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n && i < AXU_MSG_MAX; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}

static bool
axu_is(const struct axu_reply *r, const char *want)
{
	size_t n = strlen(want);

	return r->len == n && memcmp(r->msg, want, n) == 0;
}

static void
axu_reply_close(struct axu_reply *r)
{
	unsigned i;

	for (i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
}

/* Close the connection; later requests fail with err and why. */
static void
axu_break(struct axu_session *s, int err, const char *step, const char *why)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->err = err;
	snprintf(s->why, sizeof(s->why), "%.48s: %s", step, why);
}

/* Log a failed step (and end the session when fatal); return err. */
static int
axu_fail(struct axu_session *s, const char *port, const char *step, int err,
	 bool fatal, const char *why)
{
	SL_ERR("%s: device plugin socket %s: %s: %s", port, s->path, step, why);
	if (fatal)
		axu_break(s, err, step, why);
	return err;
}

/* ---- transport ---------------------------------------------------------- */

/* Send msg, with fd in SCM_RIGHTS when fd >= 0. 0 or -errno, why set. */
static int
axu_send(struct axu_session *s, const char *msg, int fd, uint64_t deadline,
	 char *why, size_t wlen)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	size_t len = strlen(msg);
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	short rev;
	ssize_t n;
	int err;

	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	for (;;) {
		n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 && (size_t)n == len)
			return 0;
		if (n >= 0) {
			snprintf(why, wlen, "sent %zd of %zu bytes", n, len);
			return -EIO;
		}
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err != -EAGAIN)
			break;
		err = axu_wait(s->fd, POLLOUT, deadline, &rev);
		if (err == 0) {
			snprintf(why, wlen,
				 "the server took no request for %u ms "
				 "(uds_timeout)",
				 s->timeout_ms);
			return -ETIMEDOUT;
		}
		if (err < 0)
			break;
	}
	if (err == -EPIPE || err == -ECONNRESET) {
		snprintf(why, wlen, "the server closed the connection");
		return -ECONNRESET;
	}
	snprintf(why, wlen, "sending the request: %s", sl_strerror(err));
	return err;
}

/* Keep the fds of the SCM_RIGHTS messages of mh (closing those beyond
 * AXU_FDS_MAX). */
static void
axu_take_fds(struct msghdr *mh, struct axu_reply *r)
{
	struct cmsghdr *cm;
	size_t i, k;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (r->nfds < AXU_FDS_MAX)
				r->fds[r->nfds++] = fd;
			else
				close(fd);
		}
	}
}

/* Receive one reply into r. 0 or -errno, why set (r holds no fd then). */
static int
axu_recv(struct axu_session *s, struct axu_reply *r, uint64_t deadline,
	 char *why, size_t wlen)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * AXU_FDS_MAX)];
		struct cmsghdr align;
	} c;
	char q[AXU_QUOTE_MAX];
	struct iovec iov;
	struct msghdr mh;
	struct pollfd p;
	short rev;
	ssize_t n;
	int err;

	memset(r, 0, sizeof(*r));
	for (;;) {
		iov = (struct iovec){.iov_base = r->msg,
				     .iov_len = AXU_MSG_MAX};
		mh = (struct msghdr){.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = c.buf,
				     .msg_controllen = sizeof(c.buf)};
		n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n >= 0)
			break;
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err == -ECONNRESET) {
			snprintf(why, wlen, "the server closed the connection");
			return err;
		}
		if (err != -EAGAIN) {
			snprintf(why, wlen, "receiving the reply: %s",
				 sl_strerror(err));
			return err;
		}
		err = axu_wait(s->fd, POLLIN, deadline, &rev);
		if (err == 0) {
			snprintf(why, wlen,
				 "no reply within %u ms (uds_timeout)",
				 s->timeout_ms);
			return -ETIMEDOUT;
		}
		if (err < 0) {
			snprintf(why, wlen, "waiting for the reply: %s",
				 sl_strerror(err));
			return err;
		}
	}
	axu_take_fds(&mh, r);
	r->ctrunc = (mh.msg_flags & MSG_CTRUNC) != 0;
	r->len = (size_t)n;
	r->msg[r->len] = '\0';
	if (mh.msg_flags & MSG_TRUNC) {
		axu_reply_close(r);
		snprintf(why, wlen,
			 "a reply longer than %d bytes, beginning '%s'",
			 AXU_MSG_MAX, axu_quote(r->msg, r->len, q));
		return -EMSGSIZE;
	}
	if (n == 0) {
		/* end of stream, or an empty message */
		axu_reply_close(r);
		p = (struct pollfd){.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)) {
			snprintf(why, wlen, "the server closed the connection");
			return -ECONNRESET;
		}
		snprintf(why, wlen, "an empty reply");
		return -EPROTO;
	}
	return 0;
}

/* Send req (with fd when >= 0) and receive its reply. A transport failure
 * is logged and ends the session: the next reply could be this one's. */
static int
axu_exchange(struct axu_session *s, const char *port, const char *step,
	     const char *req, int fd, struct axu_reply *r)
{
	uint64_t deadline = axu_now_ms() + s->timeout_ms;
	char why[AXU_WHY_MAX];
	int err;

	memset(r, 0, sizeof(*r));
	if (s->fd < 0) {
		snprintf(why, sizeof(why),
			 "the connection failed earlier (%.300s); it is opened "
			 "again once every lport using it is closed",
			 s->why);
		return axu_fail(s, port, step, s->err, false, why);
	}
	err = axu_send(s, req, fd, deadline, why, sizeof(why));
	if (err == 0)
		err = axu_recv(s, r, deadline, why, sizeof(why));
	if (err < 0)
		return axu_fail(s, port, step, err, true, why);
	return 0;
}

/* Check r against what the step expects. On failure r's fds are closed
 * and the error logged; an unknown reply ends the session. */
static int
axu_check(struct axu_session *s, const char *port, const char *step,
	  struct axu_reply *r, const struct axu_expect *e)
{
	char q[AXU_QUOTE_MAX], why[AXU_WHY_MAX];
	unsigned nfds = r->nfds;

	axu_quote(r->msg, r->len, q);
	if (axu_is(r, e->ok) && !r->ctrunc && r->nfds == e->ok_fds)
		return 0;
	axu_reply_close(r);
	if (axu_is(r, e->ok)) {
		if (r->ctrunc)
			snprintf(why, sizeof(why),
				 "reply '%s' carried more than %d fds "
				 "(control message truncated; expected %u)",
				 q, AXU_FDS_MAX, e->ok_fds);
		else
			snprintf(why, sizeof(why),
				 "reply '%s' carried %u fds, expected %u", q,
				 nfds, e->ok_fds);
		return axu_fail(s, port, step, -EBADMSG, false, why);
	}
	if (e->nak != NULL && axu_is(r, e->nak)) {
		snprintf(why, sizeof(why), "reply '%s': %s", q, e->hint);
		return axu_fail(s, port, step, e->nak_err, false, why);
	}
	if (axu_is(r, "/nak")) {
		snprintf(why, sizeof(why),
			 "reply '/nak': the server did not accept the request");
		return axu_fail(s, port, step, -EPROTO, false, why);
	}
	if (axu_is(r, "/error")) {
		snprintf(why, sizeof(why),
			 "reply '/error': the server failed to handle the "
			 "request (e.g. its lookup of the pod)");
		return axu_fail(s, port, step, -EPROTO, true, why);
	}
	snprintf(why, sizeof(why), "unexpected reply '%s' (expected '%s')", q,
		 e->ok);
	return axu_fail(s, port, step, -EPROTO, true, why);
}

/* ---- session ------------------------------------------------------------ */

int
axu_hostname(char *buf, size_t len)
{
	if (buf == NULL || len < 2)
		return -EINVAL;
	if (gethostname(buf, len) < 0)
		return -errno;
	if (memchr(buf, '\0', len) == NULL)
		return -ENAMETOOLONG;
	return 0;
}

int
axu_connect_msg(char *buf, size_t len, const char *hostname)
{
	int n;

	if (hostname == NULL || hostname[0] == '\0' ||
	    strpbrk(hostname, ", \t\r\n") != NULL)
		return -EINVAL;
	n = snprintf(buf, len, "/connect,%s", hostname);
	if (n < 0 || n > AXU_MSG_MAX || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

static int
axu_connect(struct axu_session *s, const char *port, uint64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char why[AXU_WHY_MAX];
	uint64_t now;
	int err;

	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);
	if (s->fd < 0) {
		err = -errno;
		snprintf(why, sizeof(why),
			 "socket(AF_UNIX, SOCK_SEQPACKET): %s",
			 sl_strerror(err));
		return axu_fail(s, port, "connecting", err, true, why);
	}
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	for (;;) {
		if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		err = -errno;
		if (err == -EINTR)
			continue;
		now = axu_now_ms();
		/* a full backlog: the server has not accepted yet */
		if (err != -EAGAIN || now >= deadline)
			break;
		(void)poll(NULL, 0,
			   (int)SL_MIN(deadline - now,
				       (uint64_t)AXU_BACKLOG_WAIT_MS));
	}
	switch (err) {
	case -ENOENT:
		snprintf(why, sizeof(why),
			 "no socket there (is the device plugin serving "
			 "this pod, and the socket mounted?)");
		break;
	case -ECONNREFUSED:
		snprintf(why, sizeof(why),
			 "nobody accepts connections there (the device "
			 "plugin serves a single connection per socket: has "
			 "another process used it, or did it time out?)");
		break;
	case -EPROTOTYPE:
		snprintf(why, sizeof(why),
			 "the socket there is not SOCK_SEQPACKET");
		break;
	case -EAGAIN:
		err = -ETIMEDOUT;
		snprintf(why, sizeof(why),
			 "the server accepted no connection within %u ms "
			 "(uds_timeout)",
			 s->timeout_ms);
		break;
	default:
		snprintf(why, sizeof(why), "%s", sl_strerror(err));
		break;
	}
	return axu_fail(s, port, "connecting", err, true, why);
}

/* /connect, then /version. */
static int
axu_handshake(struct axu_session *s, const char *port, const char *msg,
	      const char *host)
{
	const struct axu_expect host_ok = {
		.ok = "/host_ok",
		.nak = "/host_nak",
		.nak_err = -EACCES,
		.hint = "the server refused this host (the pod's hostname "
			"must be its pod name, and the pod must hold the "
			"devices of this socket)",
	};
	char q[AXU_QUOTE_MAX];
	struct axu_reply r;
	int err;

	err = axu_exchange(s, port, "/connect", msg, -1, &r);
	if (err == 0)
		err = axu_check(s, port, "/connect", &r, &host_ok);
	if (err < 0)
		return err;
	/* the version is informative: DPDK does not check it, CNDP does not
	 * ask */
	err = axu_exchange(s, port, "/version", "/version", -1, &r);
	if (err < 0)
		return err;
	if (r.nfds != 0) {
		SL_WARN("%s: device plugin socket %s: /version: the reply "
			"carried %u fds (closed)",
			port, s->path, r.nfds);
		axu_reply_close(&r);
	}
	SL_INFO("%s: device plugin socket %s: connected as '%s', protocol "
		"version '%s'",
		port, s->path, host, axu_quote(r.msg, r.len, q));
	return 0;
}

/* Remove s from axu.list (axu.lock held). */
static void
axu_unlist(struct axu_session *s)
{
	struct axu_session **pp;

	if (!s->listed)
		return;
	for (pp = &axu.list; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	s->listed = false;
}

/* A reference to the listed session of path (axu.lock held), waiting for
 * its handshake: 0, or its -errno after logging. */
static int
axu_session_join(struct axu_session *s, const char *port)
{
	char why[AXU_WHY_MAX];
	bool opened;
	int err;

	s->refs++;
	pthread_mutex_unlock(&axu.lock);
	pthread_mutex_lock(&s->lock); /* a handshake may be in progress */
	opened = s->opened;
	err = s->err;
	snprintf(why, sizeof(why), "%.300s", s->why);
	pthread_mutex_unlock(&s->lock);
	if (opened)
		return 0; /* even when failed since: its fds stay usable */
	SL_ERR("%s: device plugin socket %s: the connection opened for "
	       "another lport failed (%s)",
	       port, s->path, why);
	axu_session_put(s);
	return err < 0 ? err : -ECONNRESET;
}

int
axu_session_get_as(const char *port, const char *path, const char *hostname,
		   unsigned timeout_ms, struct axu_session **out)
{
	char host[AXU_HOST_MAX], msg[AXU_HOST_MAX + 16];
	struct axu_session *s, *o;
	int err, n;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		SL_ERR("%s: option 'uds_path': empty path", port);
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(s->path)) {
		SL_ERR("%s: option 'uds_path': '%s' is longer than the %zu "
		       "characters of a Unix socket address",
		       port, path, sizeof(s->path) - 1);
		return -ENAMETOOLONG;
	}
	if (timeout_ms == 0)
		timeout_ms = AXU_TIMEOUT_DEF_MS;
	if (hostname == NULL) {
		err = axu_hostname(host, sizeof(host));
		if (err < 0) {
			SL_ERR("%s: device plugin socket %s: the hostname, "
			       "sent in /connect: %s",
			       port, path, sl_strerror(err));
			return err;
		}
		hostname = host;
	}
	n = axu_connect_msg(msg, sizeof(msg), hostname);
	if (n == -ENAMETOOLONG) {
		SL_ERR("%s: device plugin socket %s: hostname '%s' has %zu "
		       "characters: '/connect,<hostname>' would be %zu bytes, "
		       "and the device plugin reads %d (it would check a "
		       "truncated name); the pod name must be at most %d "
		       "characters",
		       port, path, hostname, strlen(hostname),
		       strlen(hostname) + 9, AXU_MSG_MAX, AXU_MSG_MAX - 9);
		return n;
	}
	if (n < 0) {
		SL_ERR("%s: device plugin socket %s: hostname '%s' cannot "
		       "be sent in /connect (empty, or a comma or space)",
		       port, path, hostname);
		return n;
	}

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		SL_ERR("%s: device plugin socket %s: no memory for a session",
		       port, path);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->fd = -1;
	s->timeout_ms = timeout_ms;
	memcpy(s->path, path, strlen(path) + 1);
	s->refs = 1;
	/* s is not reachable yet: taking its lock cannot wait */
	pthread_mutex_lock(&s->lock);
	pthread_mutex_lock(&axu.lock);
	for (o = axu.list; o != NULL; o = o->next)
		if (strcmp(o->path, path) == 0)
			break;
	if (o != NULL) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_destroy(&s->lock);
		free(s);
		err = axu_session_join(o, port); /* unlocks axu.lock */
		if (err == 0)
			*out = o;
		return err;
	}
	s->next = axu.list;
	axu.list = s;
	s->listed = true;
	axu.count++;
	pthread_mutex_unlock(&axu.lock);

	err = axu_connect(s, port, axu_now_ms() + timeout_ms);
	if (err == 0)
		err = axu_handshake(s, port, msg, hostname);
	if (err < 0) {
		if (s->fd >= 0)
			axu_break(s, err, "handshake", sl_strerror(err));
		pthread_mutex_lock(&axu.lock);
		axu_unlist(s);
		pthread_mutex_unlock(&axu.lock);
		pthread_mutex_unlock(&s->lock);
		axu_session_put(s);
		return err;
	}
	s->opened = true;
	pthread_mutex_unlock(&s->lock);
	*out = s;
	return 0;
}

int
axu_session_get(const char *port, const char *path, unsigned timeout_ms,
		struct axu_session **out)
{
	return axu_session_get_as(port, path, NULL, timeout_ms, out);
}

static void
axu_fin(struct axu_session *s)
{
	struct axu_reply r;
	char q[AXU_QUOTE_MAX], why[AXU_WHY_MAX];
	uint64_t deadline = axu_now_ms() + s->timeout_ms;
	int err;

	err = axu_send(s, "/fin", -1, deadline, why, sizeof(why));
	if (err == 0)
		err = axu_recv(s, &r, deadline, why, sizeof(why));
	if (err < 0) {
		SL_WARN("device plugin socket %s: /fin: %s", s->path, why);
		return;
	}
	axu_reply_close(&r);
	if (!axu_is(&r, "/fin_ack"))
		SL_WARN("device plugin socket %s: /fin: unexpected reply '%s' "
			"(expected '/fin_ack')",
			s->path, axu_quote(r.msg, r.len, q));
	else
		SL_INFO("device plugin socket %s: session ended", s->path);
}

void
axu_session_put(struct axu_session *s)
{
	struct axu_map *m;
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&axu.lock);
	last = --s->refs == 0;
	if (last) {
		axu_unlist(s);
		axu.count--;
	}
	pthread_mutex_unlock(&axu.lock);
	if (!last)
		return;
	/* nobody else can reach s now */
	if (s->fd >= 0) {
		axu_fin(s);
		close(s->fd);
	}
	while ((m = s->maps) != NULL) {
		s->maps = m->next;
		close(m->fd);
		free(m);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *
axu_session_path(const struct axu_session *s)
{
	return s->path;
}

unsigned
axu_session_count(void)
{
	unsigned n;

	pthread_mutex_lock(&axu.lock);
	n = axu.count;
	pthread_mutex_unlock(&axu.lock);
	return n;
}

/* ---- requests ----------------------------------------------------------- */

static int
axu_netdev_check(const char *port, const char *netdev)
{
	if (netdev == NULL || netdev[0] == '\0' || strlen(netdev) >= IFNAMSIZ ||
	    strpbrk(netdev, ", \t\r\n/") != NULL) {
		SL_ERR("%s: device plugin: '%s' is not a network device name "
		       "that can be asked for",
		       port, netdev != NULL ? netdev : "(null)");
		return -EINVAL;
	}
	return 0;
}

/* The cached map of netdev, or a new one asked for. */
static int
axu_map_find(struct axu_session *s, const char *port, const char *netdev,
	     struct axu_map **out)
{
	const struct axu_expect fd_ack = {
		.ok = "/fd_ack",
		.ok_fds = 1,
		.nak = "/fd_nak",
		.nak_err = -ENODEV,
		.hint = "the server has no XSKMAP for this device (is it "
			"one of the pod's devices?)",
	};
	char req[AXU_MSG_MAX + 1], step[48];
	struct axu_reply r;
	struct axu_map *m;
	int err;

	for (m = s->maps; m != NULL; m = m->next) {
		if (strcmp(m->netdev, netdev) == 0) {
			*out = m;
			return 0;
		}
	}
	snprintf(req, sizeof(req), "/xsk_map_fd,%s", netdev);
	snprintf(step, sizeof(step), "/xsk_map_fd for %s", netdev);
	err = axu_exchange(s, port, step, req, -1, &r);
	if (err == 0)
		err = axu_check(s, port, step, &r, &fd_ack);
	if (err < 0)
		return err;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		axu_reply_close(&r);
		return axu_fail(s, port, step, -ENOMEM, false,
				"no memory to keep the map fd");
	}
	m->fd = r.fds[0];
	snprintf(m->netdev, sizeof(m->netdev), "%s", netdev);
	m->next = s->maps;
	s->maps = m;
	SL_INFO("%s: device plugin socket %s: received the XSKMAP of %s", port,
		s->path, netdev);
	*out = m;
	return 0;
}

int
axu_map_fd(struct axu_session *s, const char *port, const char *netdev, int *fd)
{
	struct axu_map *m;
	int err;

	*fd = -1;
	err = axu_netdev_check(port, netdev);
	if (err < 0)
		return err;
	pthread_mutex_lock(&s->lock);
	err = axu_map_find(s, port, netdev, &m);
	if (err == 0) {
		*fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		if (*fd < 0) {
			err = -errno;
			SL_ERR("%s: device plugin socket %s: duplicating the "
			       "XSKMAP fd of %s: %s",
			       port, s->path, netdev, sl_strerror(err));
		}
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int
axu_busy_poll(struct axu_session *s, const char *port, int xsk_fd,
	      unsigned timeout_us, unsigned budget)
{
	const struct axu_expect ack = {
		.ok = "/config_busy_poll_ack",
		.nak = "/config_busy_poll_nak",
		.nak_err = -EPERM,
		.hint = "the server could not set busy polling on the socket",
	};
	char req[AXU_MSG_MAX + 1];
	struct axu_reply r;
	int err;

	if (xsk_fd < 0) {
		SL_ERR("%s: device plugin socket %s: /config_busy_poll: no "
		       "socket fd",
		       port, s->path);
		return -EBADF;
	}
	snprintf(req, sizeof(req), "/config_busy_poll,%u,%u", timeout_us,
		 budget);
	pthread_mutex_lock(&s->lock);
	err = axu_exchange(s, port, "/config_busy_poll", req, xsk_fd, &r);
	if (err == 0)
		err = axu_check(s, port, "/config_busy_poll", &r, &ack);
	pthread_mutex_unlock(&s->lock);
	if (err == 0)
		SL_INFO("%s: device plugin socket %s: busy polling set by the "
			"server (timeout %u us, budget %u)",
			port, s->path, timeout_us, budget);
	return err;
}
