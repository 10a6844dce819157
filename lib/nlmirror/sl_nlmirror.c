/*
 * The kernel mirror (sl_nlmirror.h): the thread, the event socket, dumps
 * and resyncs.
 *
 * One NETLINK_ROUTE socket (libnl) is subscribed to links, IPv4
 * addresses, IPv4 routes, neighbours and nexthop objects before anything
 * is dumped, and the dumps run on that same socket: dump answers and
 * notifications arrive in one stream, in the kernel's order, so applying
 * them in turn converges without comparing timestamps. The thread waits
 * in poll(2) on the socket and an eventfd (stop).
 *
 * Two kinds of re-dump:
 * - a full resync (at start, after ENOBUFS, after an interrupted dump):
 *   resync_begin, every dump, resync_end; the consumer drops what it did
 *   not hear about in between;
 * - a route re-dump (a link went up or down, a link or an IPv4 address
 *   went away: IPv4 then removes or revives routes and nexthop objects
 *   without a message): nexthop objects and routes are dumped again and
 *   only the differences are reported, removals as del events.
 */
#define SL_LOG_MODULE "nlmirror"
#include <net/if.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "sluice/sl_log.h"
#include "sluice/sl_thread.h"
#include "nlm_private.h"

#define NLM_DEFAULT_RCVBUF (4u << 20)
/* Receive buffer: the kernel's dump datagrams are at most 32 KB unless
 * a single object is larger (a link with many VFs). */
#define NLM_BUF_MIN 65536
#define NLM_BUF_MAX (1u << 20)
/* Datagrams read before looking at stop and pending work again. */
#define NLM_READ_BATCH 256
/* A dump not complete after this long has failed (and is tried again). */
#define NLM_DUMP_TIMEOUT_MS 10000
/* Wait before trying a failed dump again. */
#define NLM_RETRY_MS 1000
/* Resync windows in a row for interrupted dumps, then accept. */
#define NLM_MAX_INTR_RETRIES 3

static bool
stopping(const struct sl_nlm *m)
{
	return __atomic_load_n(&m->stopping, __ATOMIC_ACQUIRE);
}

static void
overflow(struct sl_nlm *m)
{
	NLM_STAT_INC(m, overflows);
	/* one line per burst: the resync is not done yet */
	if (m->todo < NLM_TODO_FULL)
		SL_NOTICE("netlink receive buffer overflow (ENOBUFS): events "
			  "were lost, full resync (%" PRIu64 " overflows)",
			  __atomic_load_n(&m->st.overflows, __ATOMIC_RELAXED));
	m->todo = NLM_TODO_FULL;
}

/* A control message or the end of the dump in progress. */
static void
control_msg(struct sl_nlm *m, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e;
	int err = 0;

	if (m->dump_seq == 0 || nlh->nlmsg_seq != m->dump_seq)
		return;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e))) {
			e = NLMSG_DATA(nlh);
			err = e->error;
		} else {
			err = -EPROTO;
		}
	} else if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
		/* NLMSG_DONE carries the dump's status */
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		m->dump_intr = true;
	m->dump_err = err < 0 ? err : 0;
	m->dump_done = true;
}

static void
handle_buf(struct sl_nlm *m, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	int left = (int)len;

	for (; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			continue;
		case NLMSG_DONE:
		case NLMSG_ERROR:
			control_msg(m, nlh);
			continue;
		default:
			break;
		}
		if (m->dump_seq != 0 && nlh->nlmsg_seq == m->dump_seq &&
		    (nlh->nlmsg_flags & NLM_F_DUMP_INTR))
			m->dump_intr = true;
		nlm_msg_handle(m, nlh);
	}
}

/* A datagram did not fit the buffer: it is lost. Take a bigger buffer
 * for the next ones and resync. */
static void
truncated(struct sl_nlm *m, size_t len)
{
	size_t nsz = m->bufsz;
	uint8_t *nb;

	while (nsz < len && nsz < NLM_BUF_MAX)
		nsz *= 2;
	SL_WARN("a netlink message of %zu bytes did not fit the %zu byte "
		"buffer: full resync",
		len, m->bufsz);
	nb = nsz > m->bufsz ? realloc(m->buf, nsz) : NULL;
	if (nb != NULL) {
		m->buf = nb;
		m->bufsz = nsz;
	}
	m->todo = NLM_TODO_FULL;
	/* it may have held the end of the dump in progress */
	if (m->dump_seq != 0) {
		m->dump_err = -EMSGSIZE;
		m->dump_done = true;
	}
}

/*
 * Read what the socket holds, up to NLM_READ_BATCH datagrams.
 *
 * No MSG_PEEK to size a datagram first: every receive, a peek too, lets
 * the kernel go on with a dump in progress, and when that fails for lack
 * of room it flags ENOBUFS on the socket, so a peek before each receive
 * can keep the next receive failing forever. One receive into a large
 * buffer, MSG_TRUNC to see a datagram that did not fit.
 * @return 0, or -errno of a receive that failed (logged).
 */
static int
nlm_read(struct sl_nlm *m)
{
	int fd = nl_socket_get_fd(m->ev), i;
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	for (i = 0; i < NLM_READ_BATCH && !stopping(m); i++) {
		iov.iov_base = m->buf;
		iov.iov_len = m->bufsz;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				overflow(m);
				continue;
			}
			SL_ERR("receive on the rtnetlink event socket: %s",
			       strerror(errno));
			return -errno;
		}
		if ((size_t)n > m->bufsz) {
			truncated(m, (size_t)n);
			continue;
		}
		/* only the kernel speaks on this socket */
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0) {
			NLM_STAT_INC(m, ignored);
			continue;
		}
		handle_buf(m, (size_t)n);
	}
	return 0;
}

/*
 * Wait for the socket to be readable.
 * @return 1 readable, 0 timeout, -ECANCELED stopping, or -errno.
 */
static int
nlm_poll(struct sl_nlm *m, int timeout_ms)
{
	struct pollfd p[2] = {
		{.fd = m->evfd, .events = POLLIN},
		{.fd = nl_socket_get_fd(m->ev), .events = POLLIN},
	};
	int n;

	for (;;) {
		if (stopping(m))
			return -ECANCELED;
		n = poll(p, 2, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			SL_ERR("poll on the rtnetlink event socket: %s",
			       strerror(errno));
			return -errno;
		}
		if (p[0].revents != 0 || stopping(m))
			return -ECANCELED;
		return p[1].revents != 0;
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Handle what arrives for ms milliseconds (before a dump is tried again:
 * a dump the mirror gave up on may still be running in the kernel, which
 * refuses a new one with EBUSY until it ends).
 * @return 0 or -ECANCELED.
 */
static int
nlm_drain(struct sl_nlm *m, int ms)
{
	int64_t deadline = now_ms() + ms, left;
	int err;

	while ((left = deadline - now_ms()) > 0) {
		err = nlm_poll(m, (int)left);
		if (err == -ECANCELED)
			return err;
		if (err > 0 && nlm_read(m) == -ECANCELED)
			return -ECANCELED;
		if (err < 0)
			break;
	}
	return stopping(m) ? -ECANCELED : 0;
}

/*
 * Dump one kind of object and handle everything that arrives until the
 * dump ends (notifications included, in order).
 * @return 0, -ECANCELED (stop), or -errno (logged).
 */
static int
dump_one(struct sl_nlm *m, int type, const void *hdr, size_t hdrlen,
	 const char *what)
{
	bool nobufs_seen = false;
	int64_t deadline, left;
	struct nl_msg *msg;
	int err;

	msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
	if (msg == NULL || nlmsg_append(msg, (void *)(uintptr_t)hdr, hdrlen,
					NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		SL_ERR("dump of %s: no memory for the request", what);
		return -ENOMEM;
	}
	if (type == RTM_GETLINK &&
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		SL_ERR("dump of %s: no memory for the request", what);
		return -ENOMEM;
	}
	m->dump_seq = nl_socket_use_seq(m->ev);
	if (m->dump_seq == 0) /* 0 is "no dump" here */
		m->dump_seq = nl_socket_use_seq(m->ev);
	nlmsg_hdr(msg)->nlmsg_seq = m->dump_seq;
	m->dump_done = false;
	m->dump_err = 0;
	SL_DBG("dump of %s (seq %u)", what, m->dump_seq);
	err = nl_send_auto(m->ev, msg);
	nlmsg_free(msg);
	if (err < 0) {
		SL_ERR("dump of %s: send of the request: %s (errno %d)", what,
		       nl_geterror(err), errno);
		m->dump_seq = 0;
		return -EIO;
	}
	deadline = now_ms() + NLM_DUMP_TIMEOUT_MS;
	for (;;) {
		left = deadline - now_ms();
		err = left > 0 ? nlm_poll(m, (int)left) : 0;
		if (err == 0) {
			SL_ERR("dump of %s: not complete after %d ms", what,
			       NLM_DUMP_TIMEOUT_MS);
			err = -ETIMEDOUT;
		}
		if (err < 0)
			break;
		err = nlm_read(m);
		if (err < 0 || !m->dump_done)
			continue;
		/*
		 * ENOBUFS: the socket was full when the dump began. The kernel
		 * answers so but keeps the dump, which goes on as the socket
		 * is read: read it to its end (events were lost meanwhile,
		 * another resync follows).
		 */
		if (m->dump_err == -ENOBUFS && !nobufs_seen) {
			nobufs_seen = true;
			overflow(m);
			m->dump_done = false;
			m->dump_err = 0;
			continue;
		}
		break;
	}
	m->dump_seq = 0;
	if (err < 0)
		return err;
	SL_DBG("dump of %s done (%d)", what, m->dump_err);
	if (m->dump_err < 0) {
		/* a kernel without nexthop objects has none to dump */
		if (type == RTM_GETNEXTHOP &&
		    (m->dump_err == -EOPNOTSUPP || m->dump_err == -EINVAL)) {
			SL_DBG("no nexthop objects in this kernel (%s)",
			       strerror(-m->dump_err));
			return 0;
		}
		SL_ERR("dump of %s: the kernel answered %s", what,
		       strerror(-m->dump_err));
		return m->dump_err;
	}
	return 0;
}

static int
dump_links(struct sl_nlm *m)
{
	struct ifinfomsg h = {.ifi_family = AF_UNSPEC};

	return dump_one(m, RTM_GETLINK, &h, sizeof(h), "links");
}

static int
dump_addrs(struct sl_nlm *m)
{
	struct ifaddrmsg h = {.ifa_family = AF_INET};

	return dump_one(m, RTM_GETADDR, &h, sizeof(h), "IPv4 addresses");
}

static int
dump_nhs(struct sl_nlm *m)
{
	struct nhmsg h = {.nh_family = AF_UNSPEC};

	return dump_one(m, RTM_GETNEXTHOP, &h, sizeof(h), "nexthop objects");
}

static int
dump_routes(struct sl_nlm *m)
{
	struct rtmsg h = {.rtm_family = AF_INET};

	return dump_one(m, RTM_GETROUTE, &h, sizeof(h), "IPv4 routes");
}

static int
dump_neighs(struct sl_nlm *m)
{
	struct ndmsg h = {.ndm_family = AF_INET};

	return dump_one(m, RTM_GETNEIGH, &h, sizeof(h), "IPv4 neighbours");
}

static void
mark_synced(struct sl_nlm *m)
{
	pthread_mutex_lock(&m->sync_lock);
	m->synced = true;
	pthread_cond_broadcast(&m->sync_cond);
	pthread_mutex_unlock(&m->sync_lock);
}

/*
 * A full resync window. Dump errors are retried inside the window (no
 * event was lost: what was reported before still holds); an overflow or
 * an interrupted dump closes the window and asks for another.
 */
static int
resync_full(struct sl_nlm *m, unsigned *intr_runs)
{
	int err;

	m->todo = NLM_TODO_NONE;
	m->gen++;
	m->dump_intr = false;
	m->in_resync = true;
	if (m->first_done)
		NLM_STAT_INC(m, resyncs);
	SL_DBG("full resync: begin");
	if (m->ops.resync_begin != NULL) {
		NLM_STAT_INC(m, events);
		m->ops.resync_begin(m->arg);
	}
	for (;;) {
		err = dump_links(m);
		if (err == 0)
			err = dump_addrs(m);
		if (err == 0)
			err = dump_nhs(m);
		if (err == 0)
			err = dump_routes(m);
		if (err == 0)
			err = dump_neighs(m);
		if (err == 0 || err == -ECANCELED)
			break;
		SL_ERR("full dump failed (%s): again in %d ms", strerror(-err),
		       NLM_RETRY_MS);
		err = nlm_drain(m, NLM_RETRY_MS);
		if (err == -ECANCELED)
			break;
	}
	if (err == -ECANCELED)
		return err;
	nlm_sweep_links(m);
	nlm_sweep_nhs(m);
	nlm_sweep_routes(m, false);
	m->in_resync = false;
	SL_DBG("full resync: end");
	if (m->ops.resync_end != NULL) {
		NLM_STAT_INC(m, events);
		m->ops.resync_end(m->arg);
	}
	if (!m->first_done) {
		m->first_done = true;
		mark_synced(m);
	}
	if (m->dump_intr) {
		if (++*intr_runs <= NLM_MAX_INTR_RETRIES) {
			SL_DBG("a dump was interrupted by changes: resync");
			if (m->todo < NLM_TODO_FULL)
				m->todo = NLM_TODO_FULL;
		}
	} else {
		*intr_runs = 0;
	}
	return 0;
}

/* Dump nexthop objects and routes again and report the differences. */
static int
resync_routes(struct sl_nlm *m)
{
	int err;

	m->todo = NLM_TODO_NONE;
	m->gen++;
	err = dump_nhs(m);
	if (err == 0)
		err = dump_routes(m);
	if (err < 0) {
		if (err != -ECANCELED && m->todo < NLM_TODO_ROUTES)
			m->todo = NLM_TODO_ROUTES;
		return err;
	}
	nlm_sweep_nhs(m);
	nlm_sweep_routes(m, true);
	return 0;
}

static void *
nlm_thread(void *arg)
{
	struct sl_nlm *m = arg;
	unsigned intr_runs = 0;
	int err = 0, timeout;

	m->todo = NLM_TODO_FULL;
	while (!stopping(m)) {
		err = 0;
		if (m->todo == NLM_TODO_FULL)
			err = resync_full(m, &intr_runs);
		else if (m->todo == NLM_TODO_ROUTES)
			err = resync_routes(m);
		if (err == -ECANCELED)
			break;
		if (err < 0) {
			/* a failed re-dump: try again later */
			if (nlm_drain(m, NLM_RETRY_MS) == -ECANCELED)
				break;
			continue;
		}
		timeout = m->todo != NLM_TODO_NONE ? 0 : -1;
		err = nlm_poll(m, timeout);
		if (err == -ECANCELED)
			break;
		if (err > 0)
			(void)nlm_read(m);
	}
	return NULL;
}

static int
set_rcvbuf(struct sl_nlm *m)
{
	int fd = nl_socket_get_fd(m->ev), v = (int)m->cfg.rcvbuf, got = 0;
	socklen_t len = sizeof(got);

	/* beyond net.core.rmem_max only with CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0) {
		SL_ERR("receive buffer of %u bytes on the rtnetlink socket: %s",
		       m->cfg.rcvbuf, strerror(errno));
		return -errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got < v)
		SL_INFO("rtnetlink receive buffer: %d bytes, not the %u asked "
			"(net.core.rmem_max; SO_RCVBUFFORCE needs "
			"CAP_NET_ADMIN)",
			got, m->cfg.rcvbuf);
	return 0;
}

static int
open_event_socket(struct sl_nlm *m)
{
	static const struct {
		int grp;
		const char *name;
	} groups[] = {
		{RTNLGRP_LINK, "links"},
		{RTNLGRP_IPV4_IFADDR, "IPv4 addresses"},
		{RTNLGRP_IPV4_ROUTE, "IPv4 routes"},
		{RTNLGRP_NEIGH, "neighbours"},
		{RTNLGRP_NEXTHOP, "nexthop objects"},
	};
	size_t i;
	int err, nerr;

	m->ev = nl_socket_alloc();
	if (m->ev == NULL) {
		SL_ERR("rtnetlink event socket: no memory");
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(m->ev);
	nl_socket_disable_auto_ack(m->ev);
	errno = 0;
	nerr = nl_connect(m->ev, NETLINK_ROUTE);
	if (nerr < 0) {
		err = errno != 0 ? -errno : -EIO;
		SL_ERR("rtnetlink event socket: %s (%s)", nl_geterror(nerr),
		       strerror(-err));
		return err;
	}
	err = set_rcvbuf(m);
	if (err < 0)
		return err;
	for (i = 0; i < SL_DIM(groups); i++) {
		errno = 0;
		nerr = nl_socket_add_membership(m->ev, groups[i].grp);
		if (nerr == 0)
			continue;
		/* a kernel without nexthop objects: routes still work */
		if (groups[i].grp == RTNLGRP_NEXTHOP) {
			SL_INFO("no nexthop object notifications (%s)",
				nl_geterror(nerr));
			continue;
		}
		err = errno != 0 ? -errno : -EIO;
		SL_ERR("subscribing to %s notifications: %s", groups[i].name,
		       strerror(-err));
		return err;
	}
	errno = 0;
	if (nl_socket_set_nonblocking(m->ev) < 0) {
		err = errno != 0 ? -errno : -EIO;
		SL_ERR("rtnetlink event socket: non-blocking: %s",
		       strerror(-err));
		return err;
	}
	return 0;
}

static void
nlm_free(struct sl_nlm *m)
{
	nlm_resolve_close(m);
	if (m->ev != NULL)
		nl_socket_free(m->ev);
	if (m->evfd >= 0)
		close(m->evfd);
	nlm_state_free(m);
	free(m->buf);
	pthread_cond_destroy(&m->sync_cond);
	pthread_mutex_destroy(&m->sync_lock);
	pthread_mutex_destroy(&m->res_lock);
	free(m);
}

struct sl_nlm *
sl_nlm_start(const struct sl_nlm_cfg *cfg, const struct sl_nlm_ops *ops,
	     void *arg)
{
	pthread_condattr_t ca;
	struct sl_nlm *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	m->evfd = -1;
	pthread_mutex_init(&m->sync_lock, NULL);
	pthread_mutex_init(&m->res_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->sync_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (cfg != NULL)
		m->cfg = *cfg;
	if (m->cfg.table == 0)
		m->cfg.table = RT_TABLE_MAIN;
	if (m->cfg.rcvbuf == 0)
		m->cfg.rcvbuf = NLM_DEFAULT_RCVBUF;
	if (ops != NULL)
		m->ops = *ops;
	m->arg = arg;

	m->bufsz = NLM_BUF_MIN;
	m->buf = malloc(m->bufsz);
	if (m->buf == NULL || nlm_htab_init(&m->links, 64) < 0 ||
	    nlm_htab_init(&m->nhs, 64) < 0 ||
	    nlm_htab_init(&m->routes, 1024) < 0) {
		SL_ERR("mirror state: no memory");
		err = -ENOMEM;
		goto free_mirror;
	}
	m->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->evfd < 0) {
		err = -errno;
		SL_ERR("eventfd for the mirror thread: %s", strerror(errno));
		goto free_mirror;
	}
	/* sockets now, in the caller's network namespace */
	err = open_event_socket(m);
	if (err < 0)
		goto free_mirror;
	err = nlm_resolve_open(m);
	if (err < 0)
		goto free_mirror;
	err = sl_thread_create(&m->thread, "sl-nlmirror", -1, nlm_thread, m);
	if (err < 0) {
		SL_ERR("starting the mirror thread: %s", strerror(-err));
		goto free_mirror;
	}
	m->thread_started = true;
	return m;
free_mirror:
	nlm_free(m);
fail:
	errno = -err;
	return NULL;
}

int
sl_nlm_wait_synced(struct sl_nlm *m, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	/* the mirror thread would wait for itself */
	if (m == NULL || pthread_equal(pthread_self(), m->thread))
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->sync_lock);
	while (!m->synced && rc == 0)
		rc = pthread_cond_timedwait(&m->sync_cond, &m->sync_lock, &ts);
	rc = m->synced ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&m->sync_lock);
	return rc;
}

void
sl_nlm_stop(struct sl_nlm *m)
{
	uint64_t one = 1;

	if (m == NULL)
		return;
	if (m->thread_started) {
		if (pthread_equal(pthread_self(), m->thread)) {
			SL_ERR("sl_nlm_stop() called from a mirror callback: "
			       "not stopped");
			return;
		}
		__atomic_store_n(&m->stopping, true, __ATOMIC_RELEASE);
		if (write(m->evfd, &one, sizeof(one)) < 0)
			SL_ERR("waking the mirror thread: %s (it stops at "
			       "its next event)",
			       strerror(errno));
		(void)sl_thread_join(m->thread, NULL);
	}
	nlm_free(m);
}

int
sl_nlm_stats_get(const struct sl_nlm *m, struct sl_nlm_stats *st)
{
	if (m == NULL || st == NULL)
		return -EINVAL;
	st->events = __atomic_load_n(&m->st.events, __ATOMIC_RELAXED);
	st->resyncs = __atomic_load_n(&m->st.resyncs, __ATOMIC_RELAXED);
	st->overflows = __atomic_load_n(&m->st.overflows, __ATOMIC_RELAXED);
	st->ignored = __atomic_load_n(&m->st.ignored, __ATOMIC_RELAXED);
	return 0;
}
