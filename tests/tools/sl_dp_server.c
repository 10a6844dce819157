/*
 * sl-dp-server: a provisioner speaking the AF_XDP device plugin's Unix
 * socket protocol, for the tests of net_af_xdp's uds_path and
 * xsk_pin_path (not installed).
 *
 * Like the plugin, it loads an XDP program on each --netdev (steer.bpf.o:
 * its qmask entries set to 1 for the queues served, so that sockets put in
 * its xsks_map receive) and serves, on a SOCK_SEQPACKET socket, the
 * xsks_map fd of each device:
 *
 *   /connect,<host>  -> /host_ok (or /host_nak: --host differs)
 *   /version         -> 0.1
 *   /xsk_map_fd,<netdev> -> /fd_ack + the fd, or /fd_nak (not served)
 *   /config_busy_poll,<timeout>,<budget> + an XSK fd
 *                    -> /config_busy_poll_ack once set on that socket
 *   /fin             -> /fin_ack, and the session ends
 *   anything else    -> /nak
 *
 * It reads at most 64 bytes per message and one fd, as the plugin does,
 * and waits --timeout seconds for each request (and, with --once, for the
 * connection). --misbehave makes it answer wrongly, for the error paths.
 *
 * --pin DIR pins each device's xsks_map and qmask at DIR/<netdev>/, for an
 * lport of another process (xsk_pin_path); with --exit it then exits,
 * leaving the program attached and the maps pinned, which --unpin DIR
 * removes later (it detaches only a program named sl_steer).
 *
 * It detaches what it attached, unpins and removes its socket on exit,
 * SIGINT and SIGTERM. Exit status: 0 when every session it served ended
 * with /fin (or, serving until a signal, on that signal), 1 on an error,
 * a timeout or a session ended without /fin, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define DP_MSG_MAX 64 /* what the plugin reads of a message */
#define DP_DEVS_MAX 8
#define DP_PROG "sl_steer"
#define DP_SLICE_MS 200 /* signals are looked at this often */

enum misbehave {
	MB_NONE = 0,
	MB_HOST_NAK, /* /host_nak to every /connect */
	MB_FD_NAK,   /* /fd_nak to every /xsk_map_fd */
	MB_NO_FD,    /* /fd_ack without the fd */
	MB_TWO_FDS,  /* /fd_ack with the fd twice */
	MB_GARBAGE,  /* a reply that is no reply to every request */
	MB_HANG,     /* read requests, never answer */
	MB_CLOSE,    /* close the connection when /connect arrives */
};

static const char *const mb_names[] = {
	"none",	   "host_nak", "fd_nak", "no_fd", "two_fds",
	"garbage", "hang",     "close",	 NULL,
};

struct dev {
	char name[IFNAMSIZ];
	int ifindex;
	struct bpf_object *obj;
	int prog_fd, xsks_fd, qmask_fd;
	bool attached, pinned;
};

static struct {
	struct dev devs[DP_DEVS_MAX];
	unsigned ndevs;
	const char *sock_path, *obj_path, *pin_dir, *unpin_dir, *host;
	uint32_t xdp_flags;
	unsigned queues; /* 0: every entry of qmask */
	unsigned timeout_s;
	bool once, exit_after_pin, sock_made;
	enum misbehave mb;
	int lfd;
} dp = {
	.xdp_flags = XDP_FLAGS_DRV_MODE,
	.timeout_s = 30,
	.lfd = -1,
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sl-dp-server: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for POLLIN on fd: 1 ready, 0 deadline passed (0: none), -EINTR on
 * a signal, -errno. */
static int
wait_in(int fd, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t now;
	int n, slice;

	for (;;) {
		if (stop)
			return -EINTR;
		now = now_ms();
		if (deadline != 0 && now >= deadline)
			return 0;
		slice = DP_SLICE_MS;
		if (deadline != 0 && deadline - now < (uint64_t)slice)
			slice = (int)(deadline - now);
		n = poll(&p, 1, slice);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* ---- XDP ---------------------------------------------------------------- */

static int
dev_load(struct dev *d)
{
	struct bpf_program *prog;
	struct bpf_map *xsks, *qmask;
	uint32_t q, n, one = 1;
	int err;

	d->obj = bpf_object__open_file(dp.obj_path, NULL);
	if (d->obj == NULL) {
		err = -errno;
		say("opening %s: %s", dp.obj_path, strerror(-err));
		return err;
	}
	err = bpf_object__load(d->obj);
	if (err < 0) {
		say("loading %s: %s", dp.obj_path, strerror(-err));
		return err;
	}
	prog = bpf_object__find_program_by_name(d->obj, DP_PROG);
	xsks = bpf_object__find_map_by_name(d->obj, "xsks_map");
	qmask = bpf_object__find_map_by_name(d->obj, "qmask");
	if (prog == NULL || xsks == NULL || qmask == NULL) {
		say("%s has no program %s, or no map xsks_map or qmask",
		    dp.obj_path, DP_PROG);
		return -ENOENT;
	}
	d->prog_fd = bpf_program__fd(prog);
	d->xsks_fd = bpf_map__fd(xsks);
	d->qmask_fd = bpf_map__fd(qmask);
	n = bpf_map__max_entries(qmask);
	if (dp.queues != 0 && dp.queues < n)
		n = dp.queues;
	for (q = 0; q < n; q++) {
		if (bpf_map_update_elem(d->qmask_fd, &q, &one, BPF_ANY) < 0) {
			err = -errno;
			say("%s: enabling queue %u in qmask: %s", d->name, q,
			    strerror(-err));
			return err;
		}
	}
	err = bpf_xdp_attach(d->ifindex, d->prog_fd,
			     dp.xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err < 0) {
		say("attaching %s to %s in %s mode: %s%s", DP_PROG, d->name,
		    dp.xdp_flags & XDP_FLAGS_SKB_MODE ? "skb" : "native",
		    strerror(-err),
		    err == -EBUSY || err == -EEXIST
			    ? " (another XDP program is attached)"
			    : "");
		return err;
	}
	d->attached = true;
	say("%s: %s attached in %s mode, queues 0-%u enabled", d->name, DP_PROG,
	    dp.xdp_flags & XDP_FLAGS_SKB_MODE ? "skb" : "native", n - 1);
	return 0;
}

static void
pin_paths(const char *dir, const struct dev *d, char *sub, char *xpath,
	  char *qpath, size_t len)
{
	snprintf(sub, len, "%s/%s", dir, d->name);
	snprintf(xpath, len, "%s/%s/xsks_map", dir, d->name);
	snprintf(qpath, len, "%s/%s/qmask", dir, d->name);
}

static int
dev_pin(struct dev *d)
{
	char sub[PATH_MAX], xpath[PATH_MAX], qpath[PATH_MAX];
	int err;

	pin_paths(dp.pin_dir, d, sub, xpath, qpath, sizeof(sub));
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		say("mkdir %s: %s", sub, strerror(-err));
		return err;
	}
	err = bpf_obj_pin(d->xsks_fd, xpath);
	if (err == 0)
		err = bpf_obj_pin(d->qmask_fd, qpath);
	if (err < 0) {
		err = -errno;
		say("pinning the maps of %s at %s: %s", d->name, sub,
		    strerror(-err));
		unlink(xpath);
		rmdir(sub);
		return err;
	}
	d->pinned = true;
	say("%s: xsks_map pinned at %s, qmask at %s", d->name, xpath, qpath);
	return 0;
}

static void
dev_unpin_paths(const char *dir, const struct dev *d)
{
	char sub[PATH_MAX], xpath[PATH_MAX], qpath[PATH_MAX];

	pin_paths(dir, d, sub, xpath, qpath, sizeof(sub));
	if (unlink(xpath) < 0 && errno != ENOENT)
		say("unlink %s: %s", xpath, strerror(errno));
	if (unlink(qpath) < 0 && errno != ENOENT)
		say("unlink %s: %s", qpath, strerror(errno));
	if (rmdir(sub) < 0 && errno != ENOENT)
		say("rmdir %s: %s", sub, strerror(errno));
}

/* Detach the program named DP_PROG from d in either mode (--unpin: the
 * program of an earlier run). 0 or -errno. */
static int
dev_detach_by_name(struct dev *d)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t ids[2], flags[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	struct bpf_prog_info info;
	uint32_t ilen;
	unsigned i;
	int err, fd, rc = 0;

	err = bpf_xdp_query(d->ifindex, 0, &q);
	if (err < 0) {
		say("querying the XDP programs of %s: %s", d->name,
		    strerror(-err));
		return err;
	}
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao);

		if (ids[i] == 0)
			continue;
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0) {
			rc = -errno;
			say("%s: program id %u: %s", d->name, ids[i],
			    strerror(-rc));
			continue;
		}
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) < 0 ||
		    strcmp(info.name, DP_PROG) != 0) {
			say("%s: the XDP program id %u is not %s: left alone",
			    d->name, ids[i], DP_PROG);
			close(fd);
			continue;
		}
		ao.old_prog_fd = fd;
		err = bpf_xdp_detach(d->ifindex, flags[i] | XDP_FLAGS_REPLACE,
				     &ao);
		close(fd);
		if (err < 0) {
			rc = err;
			say("%s: detaching %s: %s", d->name, DP_PROG,
			    strerror(-err));
		} else {
			say("%s: %s detached", d->name, DP_PROG);
		}
	}
	return rc;
}

/* Undo what dev_load and dev_pin did (--exit: leave it all). */
static void
dev_release(struct dev *d)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int err;

	if (d->attached && !dp.exit_after_pin) {
		ao.old_prog_fd = d->prog_fd;
		err = bpf_xdp_detach(d->ifindex,
				     dp.xdp_flags | XDP_FLAGS_REPLACE, &ao);
		if (err < 0)
			say("%s: detaching %s: %s", d->name, DP_PROG,
			    strerror(-err));
		else
			say("%s: %s detached", d->name, DP_PROG);
	}
	if (d->pinned && !dp.exit_after_pin)
		dev_unpin_paths(dp.pin_dir, d);
	bpf_object__close(d->obj);
	d->obj = NULL;
	d->attached = d->pinned = false;
}

/* ---- protocol ----------------------------------------------------------- */

static void
reply(int c, const char *msg, int fd, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg,
			    .iov_len = strlen(msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	unsigned i;

	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd,
			       sizeof(int));
	}
	if (sendmsg(c, &mh, MSG_NOSIGNAL) < 0)
		say("sending '%s': %s", msg, strerror(errno));
	else
		say("-> %s%s", msg, nfds ? " + fd" : "");
}

static struct dev *
dev_find(const char *name)
{
	unsigned i;

	for (i = 0; i < dp.ndevs; i++)
		if (strcmp(dp.devs[i].name, name) == 0)
			return &dp.devs[i];
	return NULL;
}

/* Apply busy polling on a socket received. */
static const char *
busy_poll(const char *args, int fd)
{
	unsigned tmo, budget;
	int one = 1, t, b;
	char extra;

	if (fd < 0 || sscanf(args, "%u,%u%c", &tmo, &budget, &extra) != 2 ||
	    tmo > INT_MAX || budget > 65535)
		return "/config_busy_poll_nak";
	t = (int)tmo;
	b = (int)budget;
	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) <
		    0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &t, sizeof(t)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &b, sizeof(b)) <
		    0) {
		say("setting busy polling on the socket received: %s",
		    strerror(errno));
		return "/config_busy_poll_nak";
	}
	return "/config_busy_poll_ack";
}

/* Serve one connection. 0 when it ended with /fin, else 1. */
static int
serve(int c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char raw[DP_MSG_MAX + 1], msg[DP_MSG_MAX + 1], *args;
	bool connected = false;
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	struct dev *d;
	unsigned i, k;
	ssize_t n;
	int rfd, err;

	for (;;) {
		err = wait_in(c, now_ms() + (uint64_t)dp.timeout_s * 1000);
		if (err == 0) {
			say("no request within %u s: ending the session",
			    dp.timeout_s);
			return 1;
		}
		if (err < 0)
			return 1;
		iov = (struct iovec){.iov_base = raw, .iov_len = DP_MSG_MAX};
		mh = (struct msghdr){.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			say("recvmsg: %s", strerror(errno));
			return 1;
		}
		if (n == 0) {
			say("the client closed the connection without /fin");
			return 1;
		}
		rfd = -1;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS)
				memcpy(&rfd, CMSG_DATA(cm), sizeof(int));
		/* the plugin strips spaces */
		for (i = k = 0; i < (unsigned)n; i++)
			if (raw[i] != ' ')
				msg[k++] = raw[i];
		msg[k] = '\0';
		say("<- %s%s", msg, rfd >= 0 ? " + fd" : "");
		args = strchr(msg, ',');
		if (args != NULL)
			*args++ = '\0';
		if (dp.mb == MB_HANG) {
			/* nothing */
		} else if (dp.mb == MB_CLOSE) {
			if (rfd >= 0)
				close(rfd);
			say("closing the connection (--misbehave close)");
			return 1;
		} else if (dp.mb == MB_GARBAGE) {
			reply(c, "/h0st_0k", -1, 0);
		} else if (strcmp(msg, "/connect") == 0) {
			connected =
				args != NULL && args[0] != '\0' &&
				dp.mb != MB_HOST_NAK &&
				(dp.host == NULL || strcmp(args, dp.host) == 0);
			reply(c, connected ? "/host_ok" : "/host_nak", -1, 0);
		} else if (!connected && strcmp(msg, "/fin") != 0) {
			reply(c, "/nak", -1, 0);
		} else if (strcmp(msg, "/version") == 0) {
			reply(c, "0.1", -1, 0);
		} else if (strcmp(msg, "/xsk_map_fd") == 0) {
			d = args != NULL ? dev_find(args) : NULL;
			if (args == NULL || args[0] == '\0')
				reply(c, "/nak", -1, 0);
			else if (d == NULL || dp.mb == MB_FD_NAK)
				reply(c, "/fd_nak", -1, 0);
			else if (dp.mb == MB_NO_FD)
				reply(c, "/fd_ack", -1, 0);
			else
				reply(c, "/fd_ack", d->xsks_fd,
				      dp.mb == MB_TWO_FDS ? 2 : 1);
		} else if (strcmp(msg, "/config_busy_poll") == 0) {
			reply(c, busy_poll(args != NULL ? args : "", rfd), -1,
			      0);
		} else if (strcmp(msg, "/fin") == 0) {
			reply(c, "/fin_ack", -1, 0);
			if (rfd >= 0)
				close(rfd);
			return 0;
		} else {
			reply(c, "/nak", -1, 0);
		}
		if (rfd >= 0)
			close(rfd);
	}
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		say("socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	dp.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (dp.lfd < 0) {
		err = -errno;
		say("socket: %s", strerror(-err));
		return err;
	}
	if (bind(dp.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		say("bind %s: %s", path, strerror(-err));
		return err;
	}
	dp.sock_made = true;
	if (listen(dp.lfd, 1) < 0) {
		err = -errno;
		say("listen %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

/* Accept and serve connections, one at a time: one with --once, else
 * until a signal. */
static int
serve_all(void)
{
	int c, err, rc = 0;

	for (;;) {
		err = wait_in(dp.lfd,
			      dp.once ? now_ms() + (uint64_t)dp.timeout_s * 1000
				      : 0);
		if (err == -EINTR)
			return rc;
		if (err == 0) {
			say("no connection within %u s", dp.timeout_s);
			return 1;
		}
		if (err < 0) {
			say("waiting for a connection: %s", strerror(-err));
			return 1;
		}
		c = accept4(dp.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			say("accept: %s", strerror(errno));
			continue;
		}
		say("connection accepted");
		if (serve(c) != 0)
			rc = 1;
		close(c);
		if (dp.once || stop)
			return rc;
	}
}

/* ---- main --------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: sl-dp-server --netdev IF [--netdev IF...] "
			"[--socket PATH] [--pin DIR [--exit]]\n"
			"         [--mode native|skb] [--obj steer.bpf.o] "
			"[--queues N] [--once] [--timeout S]\n"
			"         [--host NAME] [--misbehave "
			"host_nak|fd_nak|no_fd|two_fds|garbage|hang|close]\n"
			"       sl-dp-server --unpin DIR --netdev IF [--netdev "
			"IF...]\n");
}

static int
parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"netdev", 1, NULL, 'n'},    {"socket", 1, NULL, 's'},
		{"mode", 1, NULL, 'm'},	     {"obj", 1, NULL, 'o'},
		{"queues", 1, NULL, 'q'},    {"once", 0, NULL, '1'},
		{"timeout", 1, NULL, 't'},   {"host", 1, NULL, 'H'},
		{"misbehave", 1, NULL, 'b'}, {"pin", 1, NULL, 'p'},
		{"exit", 0, NULL, 'x'},	     {"unpin", 1, NULL, 'u'},
		{"help", 0, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	struct dev *d;
	unsigned i;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (dp.ndevs == DP_DEVS_MAX ||
			    strlen(optarg) >= IFNAMSIZ)
				goto bad;
			d = &dp.devs[dp.ndevs++];
			snprintf(d->name, sizeof(d->name), "%s", optarg);
			d->prog_fd = d->xsks_fd = d->qmask_fd = -1;
			break;
		case 's':
			dp.sock_path = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "native") == 0)
				dp.xdp_flags = XDP_FLAGS_DRV_MODE;
			else if (strcmp(optarg, "skb") == 0)
				dp.xdp_flags = XDP_FLAGS_SKB_MODE;
			else
				goto bad;
			break;
		case 'o':
			dp.obj_path = optarg;
			break;
		case 'q':
			dp.queues = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case '1':
			dp.once = true;
			break;
		case 't':
			dp.timeout_s = (unsigned)strtoul(optarg, NULL, 0);
			if (dp.timeout_s == 0)
				goto bad;
			break;
		case 'H':
			dp.host = optarg;
			break;
		case 'b':
			for (i = 0; mb_names[i] != NULL; i++)
				if (strcmp(optarg, mb_names[i]) == 0)
					break;
			if (mb_names[i] == NULL)
				goto bad;
			dp.mb = (enum misbehave)i;
			break;
		case 'p':
			dp.pin_dir = optarg;
			break;
		case 'x':
			dp.exit_after_pin = true;
			break;
		case 'u':
			dp.unpin_dir = optarg;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -EINVAL;
		}
	}
	if (dp.ndevs == 0 || optind != argc ||
	    (dp.unpin_dir == NULL && dp.sock_path == NULL &&
	     dp.pin_dir == NULL) ||
	    (dp.exit_after_pin && (dp.pin_dir == NULL || dp.sock_path))) {
		usage();
		return -EINVAL;
	}
	for (i = 0; i < dp.ndevs; i++) {
		dp.devs[i].ifindex = (int)if_nametoindex(dp.devs[i].name);
		if (dp.devs[i].ifindex == 0) {
			say("no network device %s here", dp.devs[i].name);
			return -ENODEV;
		}
	}
	return 0;
bad:
	fprintf(stderr, "sl-dp-server: bad value '%s'\n", optarg);
	usage();
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned i;
	int rc = 0, err;

	if (parse(argc, argv) < 0)
		return 2;
	if (dp.unpin_dir != NULL) {
		for (i = 0; i < dp.ndevs; i++) {
			if (dev_detach_by_name(&dp.devs[i]) < 0)
				rc = 1;
			dev_unpin_paths(dp.unpin_dir, &dp.devs[i]);
		}
		return rc;
	}
#ifdef SL_DP_STEER_OBJ
	if (dp.obj_path == NULL)
		dp.obj_path = SL_DP_STEER_OBJ;
#endif
	if (dp.obj_path == NULL) {
		say("no --obj given");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < dp.ndevs && rc == 0; i++) {
		err = dev_load(&dp.devs[i]);
		if (err == 0 && dp.pin_dir != NULL)
			err = dev_pin(&dp.devs[i]);
		if (err < 0)
			rc = 1;
	}
	if (rc == 0 && dp.sock_path != NULL && listen_on(dp.sock_path) < 0)
		rc = 1;
	if (rc == 0) {
		/* the tests wait for this line */
		printf("ready\n");
		fflush(stdout);
		if (dp.sock_path != NULL) {
			rc = serve_all();
		} else if (!dp.exit_after_pin) {
			while (!stop)
				(void)wait_in(-1, 0);
		}
	}
	if (dp.lfd >= 0)
		close(dp.lfd);
	if (dp.sock_made)
		unlink(dp.sock_path);
	if (rc != 0)
		dp.exit_after_pin = false; /* failed: leave nothing behind */
	for (i = 0; i < dp.ndevs; i++)
		dev_release(&dp.devs[i]);
	say("exiting (%d)", rc);
	return rc;
}
