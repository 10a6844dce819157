/*
 * net_memif control plane: the interfaces, their sockets and the one
 * control thread of the process that runs every memif control channel.
 *
 * The thread waits in epoll on: listening sockets (server interfaces),
 * control connections, a wake eventfd, a periodic timer (client
 * reconnection, handshake timeouts, queues the data path found corrupt)
 * and, for server queues in interrupt mode, the peer's RX eventfds, which
 * it forwards to the queue's own stable eventfd. It starts with the first
 * interface and is joined when the last one closes.
 *
 * Everything here runs under ctl.lock; the data path never takes it (see
 * memif_private.h for how queues go live and are quiesced).
 */
#define SL_LOG_MODULE "net_memif"
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"
#include "memif_private.h"

#define MEMIF_TICK_MS 50	    /* timer period */
#define MEMIF_RETRY_MS 100	    /* client: connect attempts */
#define MEMIF_REFUSED_RETRY_MS 1000 /* client: after the server refused */
#define MEMIF_HANDSHAKE_MS 3000	    /* connect to CONNECTED */
#define MEMIF_PENDING_MAX 16	    /* server: connections not yet bound */
#define MEMIF_LISTEN_BACKLOG 8
#define MEMIF_LABEL_LEN 160

enum evh_type {
	EVH_WAKE,
	EVH_TIMER,
	EVH_LISTENER,
	EVH_SOCK,
	EVH_FWD,
};

/* What epoll points at. Freed only by the control thread, at the top of
 * its loop (ctl.graveyard), so that an event returned just before the
 * object died still finds a valid handle, marked dead. */
struct memif_evh {
	enum evh_type type;
	bool dead;
	int fd;
	void *obj;
	struct memif_evh *next;
};

struct memif_listener {
	struct memif_listener *next;
	/* [0]: the address as DPDK 22 binds it; [1]: an abstract name in
	 * the NUL-padded form of older implementations (-1 if not bound) */
	struct memif_evh *evh[2];
	int fd[2];
	bool abstract;
	char path[MEMIF_SOCKET_PATH_MAX + 1];
	char label[MEMIF_LABEL_LEN];
	dev_t dev; /* filesystem socket we created, to unlink only ours */
	ino_t ino;
	unsigned nifs;	   /* server interfaces on it */
	unsigned npending; /* accepted, not yet bound to an interface */
	uint64_t bad_msgs; /* refused before a peer named an interface */
};

struct memif_sock {
	struct memif_sock *next;
	struct memif_evh *evh;
	int fd;
	struct memif_listener *lst; /* server side: accepted on */
	struct memif_if *ifc;	    /* bound interface */
	uint64_t deadline_ms;	    /* handshake must end by then; 0 when up */
	struct memif_conn conn;
};

bool memif_fenced = true;

static struct {
	pthread_mutex_t life; /* serialises attach/detach (thread start/stop) */
	pthread_mutex_t lock; /* everything below */
	pthread_t thread;
	bool running;
	bool stop;
	bool membarrier;
	bool membarrier_tried;
	int epfd;
	int wakefd;
	int timerfd;
	struct memif_evh wake_evh;
	struct memif_evh timer_evh;
	struct memif_if *ifs;
	struct memif_listener *lsts;
	struct memif_sock *socks;
	struct memif_evh *graveyard;
} ctl = {
	.life = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.epfd = -1,
	.wakefd = -1,
	.timerfd = -1,
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
role_name(enum memif_role role)
{
	return role == MEMIF_ROLE_SERVER ? "server" : "client";
}

/* "@name" for an abstract socket, the path otherwise. */
static void
sock_label(char *out, size_t len, bool abstract, const char *path)
{
	snprintf(out, len, "%s%s", abstract ? "@" : "", path);
}

static void
if_label(const struct memif_if *ifc, char *out, size_t len)
{
	char sock[MEMIF_SOCKET_PATH_MAX + 2];

	sock_label(sock, sizeof(sock), ifc->cfg.abstract, ifc->cfg.path);
	snprintf(out, len, "memif %s id=%u socket=%s", role_name(ifc->cfg.role),
		 ifc->cfg.p.id, sock);
}

/*
 * Address of a socket. An abstract name is bound by current DPDK (22.x)
 * with its exact length, by older implementations as the whole NUL-padded
 * sun_path: padded selects the second form.
 */
static socklen_t
sun_fill(struct sockaddr_un *sun, bool abstract, bool padded, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun->sun_path + 1, path, strlen(path));
		if (padded)
			return sizeof(*sun);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				   strlen(path));
	}
	memcpy(sun->sun_path, path, strlen(path));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			   strlen(path) + 1);
}

/* ---- event handles ------------------------------------------------------- */

static struct memif_evh *
evh_add(enum evh_type type, int fd, void *obj)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct memif_evh *h;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->type = type;
	h->fd = fd;
	h->obj = obj;
	ev.data.ptr = h;
	if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

/* Stop watching h->fd (the caller closes it) and retire h. */
static void
evh_del(struct memif_evh *h)
{
	if (h == NULL)
		return;
	(void)epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->dead = true;
	h->next = ctl.graveyard;
	ctl.graveyard = h;
}

static void
graveyard_flush(void)
{
	struct memif_evh *h;

	while ((h = ctl.graveyard) != NULL) {
		ctl.graveyard = h->next;
		free(h);
	}
}

/* ---- queues going live and quiet ----------------------------------------- */

static void
queues_quiesce(struct memif_if *ifc)
{
	unsigned i, nq = ifc->cfg.p.queues;
	struct memif_queue *q;

	for (i = 0; i < 2 * nq; i++) {
		q = i < nq ? &ifc->rxq[i] : &ifc->txq[i - nq];
		__atomic_store_n(&q->live, 0, __ATOMIC_SEQ_CST);
	}
	if (ctl.membarrier)
		(void)syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED,
			      0, 0);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (i = 0; i < 2 * nq; i++) {
		q = i < nq ? &ifc->rxq[i] : &ifc->txq[i - nq];
		while (__atomic_load_n(&q->busy, __ATOMIC_ACQUIRE))
			sched_yield();
	}
}

static void
if_down(struct memif_if *ifc)
{
	unsigned i, nq = ifc->cfg.p.queues;
	struct memif_queue *q;

	queues_quiesce(ifc);
	for (i = 0; i < 2 * nq; i++) {
		q = i < nq ? &ifc->rxq[i] : &ifc->txq[i - nq];
		if (q->fwd != NULL) {
			evh_del(q->fwd);
			q->fwd = NULL;
		}
		q->ring = NULL;
		q->regions = NULL;
		q->nregions = 0;
		q->kick_fd = -1;
		q->fault = MEMIF_FAULT_NONE;
	}
	ifc->up = false;
	ifc->n_rx = 0;
	ifc->n_tx = 0;
}

static void
queue_setup(struct memif_queue *q, const struct memif_conn *c,
	    const struct memif_conn_ring *r)
{
	q->ring = r->ring;
	q->mask = (uint16_t)((1u << r->log2) - 1);
	q->regions = c->map;
	q->nregions = c->nregions;
	q->bsize = c->bsize;
	q->last = 0;
	q->head = 0;
	q->peer = 0;
	q->audit_bad = false;
	q->kick_fd = -1;
	q->fault = MEMIF_FAULT_NONE;
}

/* ops->up: the rings are ready, make the queues live. */
static void
conn_up(struct memif_conn *c)
{
	struct memif_sock *s = c->ctx;
	struct memif_if *ifc = s->ifc;
	bool server = ifc->cfg.role == MEMIF_ROLE_SERVER;
	char label[MEMIF_LABEL_LEN];
	struct memif_queue *q;
	uint16_t i;

	ifc->n_rx = server ? c->n_c2s : c->n_s2c;
	ifc->n_tx = server ? c->n_s2c : c->n_c2s;
	for (i = 0; i < ifc->n_rx; i++) {
		q = &ifc->rxq[i];
		queue_setup(q, c, server ? &c->c2s[i] : &c->s2c[i]);
		if (!server)
			q->head = (uint16_t)(q->mask + 1u); /* all handed out */
		if (server && ifc->cfg.p.interrupt) {
			q->fwd = evh_add(EVH_FWD, c->c2s[i].fd, q);
			if (q->fwd == NULL) {
				if_label(ifc, label, sizeof(label));
				SL_WARN("%s: no RX interrupts on queue %u: %s",
					label, i, strerror(errno));
			}
		}
		__atomic_store_n(&q->live, 1, __ATOMIC_RELEASE);
	}
	for (i = 0; i < ifc->n_tx; i++) {
		q = &ifc->txq[i];
		queue_setup(q, c, server ? &c->s2c[i] : &c->c2s[i]);
		q->kick_fd = server ? c->s2c[i].fd : c->c2s[i].fd;
		__atomic_store_n(&q->live, 1, __ATOMIC_RELEASE);
	}
	ifc->up = true;
	ifc->connects++;
	ifc->retry_logged = false;
	s->deadline_ms = 0;
	snprintf(ifc->peer, sizeof(ifc->peer), "%s/%s", c->peer_name,
		 c->peer_if_name);
	if_label(ifc, label, sizeof(label));
	SL_INFO("%s: connected to '%s': %u RX and %u TX queues, %u slots, "
		"%u-byte buffers",
		label, ifc->peer, ifc->n_rx, ifc->n_tx, 1u << c->log2,
		server ? 0 : c->bsize);
}

/* ---- control connections ------------------------------------------------- */

static int
sock_send(struct memif_conn *c, const uint8_t *msg, int fd)
{
	struct memif_sock *s = c->ctx;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg,
			    .iov_len = MEMIF_MSG_SIZE};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == MEMIF_MSG_SIZE ? 0 : -EIO;
}

static const struct memif_params *
sock_bind(struct memif_conn *c, uint32_t id, const char **why)
{
	struct memif_sock *s = c->ctx;
	struct memif_if *ifc;

	for (ifc = ctl.ifs; ifc != NULL; ifc = ifc->next)
		if (ifc->lst == s->lst && ifc->cfg.role == MEMIF_ROLE_SERVER &&
		    ifc->cfg.p.id == id)
			break;
	if (ifc == NULL) {
		*why = "ID not found";
		return NULL;
	}
	if (ifc->sock != NULL) {
		*why = "Already connected";
		return NULL;
	}
	ifc->sock = s;
	s->ifc = ifc;
	s->lst->npending--;
	return &ifc->cfg.p;
}

static int
sock_ring_fd(struct memif_conn *c, bool c2s, uint16_t index)
{
	struct memif_sock *s = c->ctx;

	/* client: C2S is our TX, S2C our RX */
	return c2s ? s->ifc->txq[index].efd : s->ifc->rxq[index].efd;
}

static const struct memif_conn_ops sock_ops = {
	.send = sock_send,
	.bind = sock_bind,
	.ring_fd = sock_ring_fd,
	.up = conn_up,
};

static struct memif_sock *
sock_new(int fd, struct memif_listener *lst, struct memif_if *ifc)
{
	struct memif_sock *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->lst = lst;
	s->ifc = ifc;
	s->deadline_ms = now_ms() + MEMIF_HANDSHAKE_MS;
	memif_conn_init(&s->conn,
			lst != NULL ? MEMIF_ROLE_SERVER : MEMIF_ROLE_CLIENT,
			&sock_ops, s);
	s->evh = evh_add(EVH_SOCK, fd, s);
	if (s->evh == NULL) {
		free(s);
		return NULL;
	}
	s->next = ctl.socks;
	ctl.socks = s;
	return s;
}

/* End a connection: tell the peer why if we can, log, take the interface
 * down, release the shared memory. c->reason must be set. */
static void
sock_close(struct memif_sock *s, bool quiet)
{
	struct memif_conn *c = &s->conn;
	struct memif_if *ifc = s->ifc;
	char label[MEMIF_LABEL_LEN];
	uint8_t msg[MEMIF_MSG_SIZE];
	struct memif_sock **pp;
	bool was_up = false;

	if (c->tell_peer) {
		memif_conn_disconnect_msg(c, msg);
		(void)sock_send(c, msg, -1);
	}
	if (ifc != NULL) {
		if_label(ifc, label, sizeof(label));
		was_up = ifc->up;
		if (ifc->up)
			if_down(ifc);
		ifc->sock = NULL;
		if (c->bad_msg)
			ifc->bad_msgs++;
		ifc->disconnects++;
		if (ifc->cfg.role == MEMIF_ROLE_CLIENT) {
			if (!was_up)
				ifc->connect_fails++;
			/* a refusal will not change soon: back off */
			ifc->next_try_ms =
				now_ms() +
				(!was_up && (c->bad_msg || c->peer_disc)
					 ? MEMIF_REFUSED_RETRY_MS
					 : MEMIF_RETRY_MS);
		}
		if (quiet)
			SL_INFO("%s: disconnected: %s", label, c->reason);
		else if (was_up && !c->bad_msg && !c->tell_peer)
			SL_NOTICE("%s: disconnected: %s", label, c->reason);
		else if (was_up)
			SL_WARN("%s: disconnected: %s", label, c->reason);
		else if (ifc->cfg.role == MEMIF_ROLE_CLIENT &&
			 ifc->retry_logged)
			SL_DBG("%s: connection failed: %s", label, c->reason);
		else {
			SL_WARN("%s: connection failed: %s%s", label, c->reason,
				ifc->cfg.role == MEMIF_ROLE_CLIENT
					? " (will retry)"
					: "");
			if (ifc->cfg.role == MEMIF_ROLE_CLIENT)
				ifc->retry_logged = true;
		}
	} else if (s->lst != NULL) {
		s->lst->npending--;
		if (c->bad_msg)
			s->lst->bad_msgs++;
		if (!quiet)
			SL_WARN("%s: refused a connection: %s", s->lst->label,
				c->reason);
	}
	memif_conn_release(c);
	evh_del(s->evh);
	close(s->fd);
	for (pp = &ctl.socks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

/* Read and handle what the peer sent; may close s. */
static void
sock_input(struct memif_sock *s, uint32_t events)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	uint8_t buf[MEMIF_MSG_SIZE];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh;
	struct cmsghdr *cm;
	int fd, fds[4], nfds, i, err;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (events & (EPOLLHUP | EPOLLERR)) {
					memif_conn_fail(&s->conn, false,
							"Connection lost");
					sock_close(s, false);
				}
				return;
			}
			memif_conn_fail(&s->conn, false, "Receive failed: %s",
					strerror(errno));
			sock_close(s, false);
			return;
		}
		if (n == 0) {
			memif_conn_fail(&s->conn, false,
					"Peer closed the connection");
			sock_close(s, false);
			return;
		}
		nfds = 0;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k, cnt;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < cnt; k++) {
				memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int),
				       sizeof(int));
				if (nfds < (int)SL_DIM(fds))
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
		/* one fd per message at most: keep the first */
		for (i = 1; i < nfds; i++)
			close(fds[i]);
		err = memif_conn_input(&s->conn, buf,
				       (mh.msg_flags & MSG_TRUNC)
					       ? MEMIF_MSG_SIZE + 1
					       : (size_t)n,
				       nfds > 0 ? fds[0] : -1);
		if (err < 0) {
			sock_close(s, false);
			return;
		}
	}
}

/* ---- server: listening sockets ------------------------------------------- */

static void
listener_accept(struct memif_listener *lst, int lfd)
{
	struct memif_hello_caps caps = {0};
	struct memif_sock *s;
	struct memif_if *ifc;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				SL_WARN("%s: accept: %s", lst->label,
					strerror(errno));
			return;
		}
		if (lst->npending >= MEMIF_PENDING_MAX) {
			SL_WARN("%s: refused a connection: %u handshakes "
				"already pending",
				lst->label, lst->npending);
			lst->bad_msgs++;
			close(fd);
			continue;
		}
		s = sock_new(fd, lst, NULL);
		if (s == NULL) {
			SL_WARN("%s: refused a connection: out of memory",
				lst->label);
			close(fd);
			continue;
		}
		lst->npending++;
		/* HELLO goes out before the peer names its interface:
		 * advertise what the largest interface here accepts */
		for (ifc = ctl.ifs; ifc != NULL; ifc = ifc->next) {
			if (ifc->lst != lst)
				continue;
			caps.max_c2s =
				SL_MAX(caps.max_c2s,
				       (uint16_t)(ifc->cfg.p.queues - 1));
			caps.max_log2 =
				SL_MAX(caps.max_log2, ifc->cfg.p.log2_ring);
		}
		caps.max_s2c = caps.max_c2s;
		if (memif_conn_server_start(&s->conn, &caps) < 0)
			sock_close(s, false);
	}
}

static void
listener_destroy(struct memif_listener *lst)
{
	struct memif_listener **pp;
	struct memif_sock *s, *next;
	struct stat st;
	unsigned i;

	for (s = ctl.socks; s != NULL; s = next) {
		next = s->next;
		if (s->lst == lst && s->ifc == NULL) {
			memif_conn_fail(&s->conn, true, "Interface closed");
			sock_close(s, true);
		}
	}
	for (i = 0; i < SL_DIM(lst->fd); i++) {
		if (lst->fd[i] < 0)
			continue;
		evh_del(lst->evh[i]);
		close(lst->fd[i]);
	}
	if (!lst->abstract && stat(lst->path, &st) == 0 &&
	    st.st_dev == lst->dev && st.st_ino == lst->ino)
		unlink(lst->path);
	for (pp = &ctl.lsts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == lst) {
			*pp = lst->next;
			break;
		}
	SL_DBG("%s: closed", lst->label);
	free(lst);
}

/* A filesystem socket nobody listens on (left by a dead process)? */
static bool
socket_stale(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = sun_fill(&sun, false, false, path);
	bool stale;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	stale = connect(fd, (struct sockaddr *)&sun, len) < 0 &&
		errno == ECONNREFUSED;
	close(fd);
	return stale;
}

/* A listening socket on one address form; -errno after logging. */
static int
listener_open(struct memif_listener *lst, unsigned i, bool padded,
	      const char *lport)
{
	struct sockaddr_un sun;
	socklen_t len;
	int one = 1, fd, err;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		SL_ERR("%s: cannot create the memif socket: %s", lport,
		       strerror(-err));
		return err;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	len = sun_fill(&sun, lst->abstract, padded, lst->path);
	if (bind(fd, (struct sockaddr *)&sun, len) < 0) {
		err = -errno;
		if (err == -EADDRINUSE && !lst->abstract &&
		    socket_stale(lst->path)) {
			SL_NOTICE("%s: removing stale memif socket %s", lport,
				  lst->path);
			unlink(lst->path);
			err = bind(fd, (struct sockaddr *)&sun, len) < 0
				      ? -errno
				      : 0;
		}
		if (err < 0)
			goto close_fd;
	}
	if (listen(fd, MEMIF_LISTEN_BACKLOG) < 0) {
		err = -errno;
		goto close_fd;
	}
	lst->evh[i] = evh_add(EVH_LISTENER, fd, lst);
	if (lst->evh[i] == NULL) {
		err = -errno;
		goto close_fd;
	}
	lst->fd[i] = fd;
	return 0;
close_fd:
	close(fd);
	return err;
}

static int
listener_get(const struct memif_if_cfg *cfg, const char *lport,
	     struct memif_listener **out)
{
	struct memif_listener *lst;
	struct stat st;
	int err;

	for (lst = ctl.lsts; lst != NULL; lst = lst->next)
		if (lst->abstract == cfg->abstract &&
		    strcmp(lst->path, cfg->path) == 0) {
			*out = lst;
			return 0;
		}
	lst = calloc(1, sizeof(*lst));
	if (lst == NULL)
		return -ENOMEM;
	lst->fd[0] = lst->fd[1] = -1;
	lst->abstract = cfg->abstract;
	snprintf(lst->path, sizeof(lst->path), "%s", cfg->path);
	sock_label(lst->label, sizeof(lst->label), cfg->abstract, cfg->path);
	err = listener_open(lst, 0, false, lport);
	if (err < 0) {
		SL_ERR("%s: option 'socket': cannot listen on %s: %s", lport,
		       lst->label,
		       err == -EADDRINUSE ? "address in use (another memif "
					    "server listens there)"
					  : strerror(-err));
		free(lst);
		return err;
	}
	if (cfg->abstract) {
		/* also answer clients that use the NUL-padded form */
		err = listener_open(lst, 1, true, lport);
		if (err < 0)
			SL_DBG("%s: %s (padded form): %s", lport, lst->label,
			       strerror(-err));
	} else if (stat(cfg->path, &st) == 0) {
		lst->dev = st.st_dev;
		lst->ino = st.st_ino;
	}
	lst->next = ctl.lsts;
	ctl.lsts = lst;
	*out = lst;
	SL_INFO("%s: memif server listening on %s", lport, lst->label);
	return 0;
}

/* ---- client: connecting ----------------------------------------------------
 */

static void
client_try(struct memif_if *ifc)
{
	char label[MEMIF_LABEL_LEN];
	struct sockaddr_un sun;
	struct memif_sock *s;
	socklen_t len;
	int fd, err;

	ifc->next_try_ms = now_ms() + MEMIF_RETRY_MS;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		goto failed;
	}
	len = sun_fill(&sun, ifc->cfg.abstract, false, ifc->cfg.path);
	err = connect(fd, (struct sockaddr *)&sun, len) < 0 ? errno : 0;
	if (err == ECONNREFUSED && ifc->cfg.abstract) {
		/* a server of an older implementation: NUL-padded name */
		len = sun_fill(&sun, true, true, ifc->cfg.path);
		err = connect(fd, (struct sockaddr *)&sun, len) < 0 ? errno : 0;
		if (err != 0)
			err = ECONNREFUSED;
	}
	if (err != 0) {
		close(fd);
		goto failed;
	}
	s = sock_new(fd, NULL, ifc);
	if (s == NULL) {
		err = ENOMEM;
		close(fd);
		goto failed;
	}
	ifc->sock = s;
	memif_conn_client_start(&s->conn, &ifc->cfg.p);
	return;
failed:
	ifc->connect_fails++;
	if (!ifc->retry_logged) {
		if_label(ifc, label, sizeof(label));
		SL_WARN("%s: cannot connect: %s (retrying every %d ms)", label,
			strerror(err), MEMIF_RETRY_MS);
		ifc->retry_logged = true;
	}
}

/* ---- the thread ------------------------------------------------------------
 */

static const char *
fault_reason(uint32_t f)
{
	switch (f) {
	case MEMIF_FAULT_RING_INDEX:
		return "Peer moved a ring index out of range";
	case MEMIF_FAULT_DESC:
		return "Descriptor outside the shared memory";
	case MEMIF_FAULT_CHAIN:
		return "Chained packet longer than the ring";
	default:
		return "Ring fault";
	}
}

/*
 * Check a live ring's indexes from the control thread, so that a peer
 * that corrupts a ring the data path is not reading now (it reads the
 * peer's index only when it needs more) is still found. On both rings
 * tail <= head <= tail + size holds; tail is read first, so that the
 * indexes moving between the two reads can only widen the distance, and
 * the check allows twice the ring size. The same wrong value of the
 * peer's index on two ticks in a row is a fault.
 */
static bool
queue_audit(struct memif_queue *q, bool client)
{
	const struct memif_ring *ring = q->ring;
	uint16_t peer, mine, size = (uint16_t)(q->mask + 1u);

	if (!__atomic_load_n(&q->live, __ATOMIC_ACQUIRE) || ring == NULL)
		return true;
	if (client) { /* the server writes tail, this side head */
		peer = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		mine = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		if ((uint16_t)(mine - peer) <= 2u * size)
			goto good;
	} else { /* the client writes head, this side tail */
		mine = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		peer = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		if ((uint16_t)(peer - mine) <= 2u * size)
			goto good;
	}
	if (q->audit_bad && q->audit_peer == peer) {
		q->fault_seen = peer;
		q->fault_mine = mine;
		return false;
	}
	q->audit_bad = true;
	q->audit_peer = peer;
	return true;
good:
	q->audit_bad = false;
	return true;
}

static void
tick(void)
{
	char label[MEMIF_LABEL_LEN];
	struct memif_sock *s, *next;
	struct memif_queue *q = NULL;
	struct memif_if *ifc;
	uint64_t now = now_ms();
	uint32_t f;
	unsigned i;

	for (s = ctl.socks; s != NULL; s = next) {
		next = s->next;
		if (s->deadline_ms != 0 && now >= s->deadline_ms) {
			/* a peer that stalls the handshake misbehaves */
			if (s->conn.state != MEMIF_CONN_FAILED)
				s->conn.bad_msg = true;
			memif_conn_fail(&s->conn, true, "Handshake timed out");
			sock_close(s, false);
		}
	}
	for (ifc = ctl.ifs; ifc != NULL; ifc = ifc->next) {
		if (ifc->up) {
			f = MEMIF_FAULT_NONE;
			for (i = 0; i < 2u * ifc->cfg.p.queues && f == 0; i++) {
				q = i % 2 ? &ifc->txq[i / 2] : &ifc->rxq[i / 2];
				f = __atomic_load_n(&q->fault,
						    __ATOMIC_ACQUIRE);
				if (f == MEMIF_FAULT_NONE &&
				    !queue_audit(q, ifc->cfg.role ==
							    MEMIF_ROLE_CLIENT))
					f = MEMIF_FAULT_RING_INDEX;
			}
			if (f != MEMIF_FAULT_NONE) {
				if_label(ifc, label, sizeof(label));
				SL_WARN("%s: %s queue %u: %s (%s %u, %s %u)",
					label,
					q == &ifc->txq[(i - 1) / 2] ? "TX"
								    : "RX",
					(i - 1) / 2, fault_reason(f),
					f == MEMIF_FAULT_DESC ? "offset"
							      : "peer index",
					q->fault_seen,
					f == MEMIF_FAULT_DESC ? "length"
							      : "local",
					q->fault_mine);
				memif_conn_fail(&ifc->sock->conn, true, "%s",
						fault_reason(f));
				sock_close(ifc->sock, false);
			}
		}
		if (ifc->cfg.role == MEMIF_ROLE_CLIENT && ifc->sock == NULL &&
		    now >= ifc->next_try_ms)
			client_try(ifc);
	}
}

static void
forward_irq(struct memif_evh *h)
{
	struct memif_queue *q = h->obj;
	uint64_t v;

	if (read(h->fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
		v = 1;
		if (write(q->efd, &v, sizeof(v)) < 0)
			return;
	}
}

static void
dispatch(struct memif_evh *h, uint32_t events)
{
	uint64_t v;

	switch (h->type) {
	case EVH_WAKE:
	case EVH_TIMER:
		if (read(h->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			SL_DBG("control timer: %s", strerror(errno));
		tick();
		break;
	case EVH_LISTENER:
		listener_accept(h->obj, h->fd);
		break;
	case EVH_SOCK:
		sock_input(h->obj, events);
		break;
	case EVH_FWD:
		forward_irq(h);
		break;
	}
}

static void *
ctl_main(void *arg)
{
	struct epoll_event evs[16];
	struct memif_evh *h;
	int n, i;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "memif-ctl");
	for (;;) {
		pthread_mutex_lock(&ctl.lock);
		graveyard_flush();
		if (ctl.stop) {
			pthread_mutex_unlock(&ctl.lock);
			break;
		}
		pthread_mutex_unlock(&ctl.lock);
		n = epoll_wait(ctl.epfd, evs, (int)SL_DIM(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			SL_ERR("control thread: epoll_wait: %s",
			       strerror(errno));
			break;
		}
		pthread_mutex_lock(&ctl.lock);
		for (i = 0; i < n; i++) {
			h = evs[i].data.ptr;
			if (!h->dead)
				dispatch(h, evs[i].events);
		}
		pthread_mutex_unlock(&ctl.lock);
	}
	return NULL;
}

static void
ctl_fds_close(void)
{
	if (ctl.epfd >= 0)
		close(ctl.epfd);
	if (ctl.wakefd >= 0)
		close(ctl.wakefd);
	if (ctl.timerfd >= 0)
		close(ctl.timerfd);
	ctl.epfd = ctl.wakefd = ctl.timerfd = -1;
}

/* Caller holds life and lock. */
static int
ctl_start(void)
{
	struct itimerspec its = {
		.it_interval = {.tv_nsec = MEMIF_TICK_MS * 1000000L},
		.it_value = {.tv_nsec = MEMIF_TICK_MS * 1000000L},
	};
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	if (ctl.running)
		return 0;
	if (!ctl.membarrier_tried) {
		ctl.membarrier_tried = true;
		ctl.membarrier =
			syscall(__NR_membarrier,
				MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
				0) == 0;
		memif_fenced = !ctl.membarrier;
		if (memif_fenced)
			SL_NOTICE("membarrier(2) unavailable: the memif data "
				  "path fences every burst");
	}
	ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ctl.timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl.epfd < 0 || ctl.wakefd < 0 || ctl.timerfd < 0)
		goto sys_fail;
	if (timerfd_settime(ctl.timerfd, 0, &its, NULL) < 0)
		goto sys_fail;
	ctl.wake_evh = (struct memif_evh){.type = EVH_WAKE, .fd = ctl.wakefd};
	ctl.timer_evh =
		(struct memif_evh){.type = EVH_TIMER, .fd = ctl.timerfd};
	ev.data.ptr = &ctl.wake_evh;
	if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.wakefd, &ev) < 0)
		goto sys_fail;
	ev.data.ptr = &ctl.timer_evh;
	if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.timerfd, &ev) < 0)
		goto sys_fail;
	ctl.stop = false;
	err = pthread_create(&ctl.thread, NULL, ctl_main, NULL);
	if (err != 0) {
		SL_ERR("cannot start the memif control thread: %s",
		       strerror(err));
		ctl_fds_close();
		return -err;
	}
	ctl.running = true;
	return 0;
sys_fail:
	err = -errno;
	SL_ERR("cannot set up the memif control thread: %s", strerror(-err));
	ctl_fds_close();
	return err;
}

/* Caller holds life, not lock. */
static void
ctl_stop(void)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ctl.lock);
	if (!ctl.running || ctl.ifs != NULL) {
		pthread_mutex_unlock(&ctl.lock);
		return;
	}
	ctl.stop = true;
	if (write(ctl.wakefd, &one, sizeof(one)) < 0)
		SL_WARN("cannot wake the memif control thread: %s",
			strerror(errno));
	pthread_mutex_unlock(&ctl.lock);
	pthread_join(ctl.thread, NULL);
	pthread_mutex_lock(&ctl.lock);
	ctl.running = false;
	graveyard_flush();
	ctl_fds_close();
	pthread_mutex_unlock(&ctl.lock);
}

/* ---- interfaces -------------------------------------------------------------
 */

static int
if_check_same(const struct memif_if *ifc, const struct memif_if_cfg *cfg,
	      const char *lport)
{
	const struct memif_params *a = &ifc->cfg.p, *b = &cfg->p;
	const char *key = NULL;
	char label[MEMIF_LABEL_LEN];
	unsigned i;

	if (a->queues != b->queues)
		key = "queues";
	else if (a->log2_ring != b->log2_ring)
		key = "rsize";
	else if (a->bsize != b->bsize)
		key = "bsize";
	else if (a->interrupt != b->interrupt)
		key = "mode";
	else if (strcmp(a->secret, b->secret) != 0)
		key = "secret";
	if (key == NULL)
		return 0;
	for (i = 0; i < a->queues && ifc->lport[i][0] == '\0'; i++)
		;
	if_label(ifc, label, sizeof(label));
	SL_ERR("%s: option '%s' differs from lport '%s' of the same interface "
	       "(%s): its lports must agree",
	       lport, key, i < a->queues ? ifc->lport[i] : "?", label);
	return -EINVAL;
}

static void
if_free(struct memif_if *ifc)
{
	unsigned i;

	for (i = 0; ifc->rxq != NULL && i < ifc->cfg.p.queues; i++) {
		if (ifc->rxq[i].efd >= 0)
			close(ifc->rxq[i].efd);
		if (ifc->txq[i].efd >= 0)
			close(ifc->txq[i].efd);
	}
	sl_free(ifc->rxq);
	sl_free(ifc->txq);
	free(ifc->lport);
	free(ifc);
}

static int
if_create(const struct memif_if_cfg *cfg, const char *lport,
	  struct memif_if **out)
{
	unsigned i, nq = cfg->p.queues;
	struct memif_if *ifc;
	int err;

	ifc = calloc(1, sizeof(*ifc));
	if (ifc == NULL)
		return -ENOMEM;
	ifc->cfg = *cfg;
	ifc->rxq = sl_zmalloc(nq * sizeof(*ifc->rxq));
	ifc->txq = sl_zmalloc(nq * sizeof(*ifc->txq));
	ifc->lport = calloc(nq, sizeof(*ifc->lport));
	if (ifc->rxq == NULL || ifc->txq == NULL || ifc->lport == NULL) {
		err = -ENOMEM;
		goto free_if;
	}
	for (i = 0; i < nq; i++) {
		ifc->rxq[i].kick_fd = ifc->txq[i].kick_fd = -1;
		ifc->rxq[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ifc->txq[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (ifc->rxq[i].efd < 0 || ifc->txq[i].efd < 0) {
			err = -errno;
			SL_ERR("%s: cannot create eventfds: %s", lport,
			       strerror(-err));
			goto free_if;
		}
	}
	if (cfg->role == MEMIF_ROLE_SERVER) {
		err = listener_get(cfg, lport, &ifc->lst);
		if (err < 0)
			goto free_if;
		ifc->lst->nifs++;
	}
	ifc->next = ctl.ifs;
	ctl.ifs = ifc;
	if (cfg->role == MEMIF_ROLE_CLIENT)
		client_try(ifc);
	*out = ifc;
	return 0;
free_if:
	if_free(ifc);
	return err;
}

static void
if_destroy(struct memif_if *ifc)
{
	struct memif_if **pp;

	if (ifc->sock != NULL) {
		memif_conn_fail(&ifc->sock->conn, true, "Interface closed");
		sock_close(ifc->sock, true);
	}
	for (pp = &ctl.ifs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	if (ifc->lst != NULL && --ifc->lst->nifs == 0)
		listener_destroy(ifc->lst);
	if_free(ifc);
}

int
memif_if_attach(const struct memif_if_cfg *cfg, const char *lport, uint16_t qid,
		struct sl_port *port, struct memif_if **out)
{
	char label[MEMIF_LABEL_LEN];
	struct memif_if *ifc;
	bool created = false;
	int err;

	pthread_mutex_lock(&ctl.life);
	pthread_mutex_lock(&ctl.lock);
	err = ctl_start();
	if (err < 0)
		goto unlock;
	for (ifc = ctl.ifs; ifc != NULL; ifc = ifc->next)
		if (ifc->cfg.role == cfg->role &&
		    ifc->cfg.abstract == cfg->abstract &&
		    ifc->cfg.p.id == cfg->p.id &&
		    strcmp(ifc->cfg.path, cfg->path) == 0)
			break;
	if (ifc != NULL) {
		err = if_check_same(ifc, cfg, lport);
		if (err < 0)
			goto unlock;
		if (ifc->lport[qid][0] != '\0') {
			if_label(ifc, label, sizeof(label));
			SL_ERR("%s: queue pair %u of %s is already lport '%s'",
			       lport, qid, label, ifc->lport[qid]);
			err = -EBUSY;
			goto unlock;
		}
	} else {
		err = if_create(cfg, lport, &ifc);
		if (err < 0)
			goto unlock;
		created = true;
	}
	snprintf(ifc->lport[qid], sizeof(ifc->lport[qid]), "%s", lport);
	ifc->nports++;
	ifc->rxq[qid].port = port;
	ifc->rxq[qid].pool = port->pool;
	ifc->txq[qid].port = port;
	*out = ifc;
	if (created) {
		if_label(ifc, label, sizeof(label));
		SL_DBG("%s: created %s", lport, label);
	}
unlock:
	pthread_mutex_unlock(&ctl.lock);
	if (err < 0 && ctl.ifs == NULL)
		ctl_stop();
	pthread_mutex_unlock(&ctl.life);
	return err;
}

void
memif_if_detach(struct memif_if *ifc, uint16_t qid)
{
	pthread_mutex_lock(&ctl.life);
	pthread_mutex_lock(&ctl.lock);
	ifc->lport[qid][0] = '\0';
	ifc->rxq[qid].port = NULL;
	ifc->rxq[qid].pool = NULL;
	ifc->txq[qid].port = NULL;
	if (--ifc->nports == 0)
		if_destroy(ifc);
	pthread_mutex_unlock(&ctl.lock);
	ctl_stop();
	pthread_mutex_unlock(&ctl.life);
}

bool
memif_if_link(struct memif_if *ifc, uint16_t qid)
{
	bool up;

	pthread_mutex_lock(&ctl.lock);
	up = ifc->up && qid < ifc->n_rx && qid < ifc->n_tx;
	pthread_mutex_unlock(&ctl.lock);
	return up;
}

void
memif_if_counters(struct memif_if *ifc, uint64_t *connects,
		  uint64_t *disconnects, uint64_t *bad_msgs,
		  uint64_t *connect_fails)
{
	pthread_mutex_lock(&ctl.lock);
	*connects = ifc->connects;
	*disconnects = ifc->disconnects;
	*bad_msgs = ifc->bad_msgs + (ifc->lst != NULL ? ifc->lst->bad_msgs : 0);
	*connect_fails = ifc->connect_fails;
	pthread_mutex_unlock(&ctl.lock);
}
