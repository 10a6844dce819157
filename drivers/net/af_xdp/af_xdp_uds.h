/*
 * The client side of the AF_XDP device plugin's Unix socket protocol, for
 * net_af_xdp's option uds_path (not installed).
 *
 * A provisioner (the device plugin, or tests/tools/sl_dp_server) loads the
 * XDP program on the host and serves, over an AF_UNIX SOCK_SEQPACKET
 * socket, the fd of its XSKMAP for each network device it gave the pod.
 * The lport then puts its socket in that map at key = queue, with no
 * CAP_BPF or CAP_NET_ADMIN of its own.
 *
 * The server accepts a single connection, so one connection (a session)
 * per socket path is kept per process and shared, reference counted, by
 * every lport that names the path:
 *
 *   /connect,<hostname>  ->  /host_ok            (when the session opens)
 *   /version             ->  a version string    (logged)
 *   /xsk_map_fd,<netdev> ->  /fd_ack + one fd    (once per netdev: cached)
 *   /config_busy_poll,<timeout>,<budget> + the XSK fd
 *                        ->  /config_busy_poll_ack
 *   /fin                 ->  /fin_ack            (when the last lport
 *                                                 releases the session)
 *
 * Each request waits for its reply at most the session's timeout. A reply
 * other than the one expected, a closed peer, a timeout or a wrong number
 * of fds fails the call, with a message naming the lport, the path, the
 * step and the reply. A timeout, a closed peer or an unknown reply also
 * ends the session (later requests on it fail at once; the fds already
 * received stay valid); a new session is made when every lport has
 * released the failed one. All functions are thread-safe and return 0 or
 * -errno after logging what failed.
 */
#ifndef SL_AF_XDP_UDS_H
#define SL_AF_XDP_UDS_H

#include <limits.h>
#include <stddef.h>

/* Longest message either side sends or reads (the plugin reads 64). */
#define AXU_MSG_MAX 64
/* Default wait for each reply, in milliseconds. */
#define AXU_TIMEOUT_DEF_MS 5000u
/* Room for a hostname: HOST_NAME_MAX characters and the NUL. */
#define AXU_HOST_MAX (HOST_NAME_MAX + 1)

struct axu_session;

/*
 * The session with the server at path: a reference to the open one, or a
 * new connection and handshake (/connect with this host's name, then
 * /version). port names the lport in messages; timeout_ms bounds the
 * connection and each reply of the session (the first lport's value is
 * kept). -ENAMETOOLONG (path or /connect message too long), -ENOENT (no
 * socket there), -ECONNREFUSED (nobody listens), -ETIMEDOUT, -EACCES
 * (/host_nak), -ECONNRESET (peer closed), -EPROTO (unexpected reply),
 * -EMSGSIZE (reply longer than AXU_MSG_MAX) or another -errno.
 */
int axu_session_get(const char *port, const char *path, unsigned timeout_ms,
		    struct axu_session **out);

/* axu_session_get() with the hostname given instead of gethostname()'s
 * (NULL: gethostname()); for the tests. */
int axu_session_get_as(const char *port, const char *path, const char *hostname,
		       unsigned timeout_ms, struct axu_session **out);

/* Drop a reference. The last one sends /fin, waits for /fin_ack (a
 * missing one is logged, not an error) and closes the connection and the
 * cached map fds. NULL: no-op. */
void axu_session_put(struct axu_session *s);

/*
 * The XSKMAP fd of netdev: asked once per session with /xsk_map_fd, then
 * taken from the cache. *fd is a new close-on-exec descriptor (a dup) that
 * the caller closes. -EINVAL (bad netdev name), -ENODEV (/fd_nak),
 * -EBADMSG (/fd_ack without exactly one fd, or a truncated control
 * message), -EPROTO, -ETIMEDOUT, -ECONNRESET, or another -errno.
 */
int axu_map_fd(struct axu_session *s, const char *port, const char *netdev,
	       int *fd);

/*
 * Ask the server to set busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL =
 * timeout_us, SO_BUSY_POLL_BUDGET = budget) on xsk_fd, which it receives.
 * -EPERM (/config_busy_poll_nak), -EPROTO, -ETIMEDOUT, -ECONNRESET or
 * another -errno.
 */
int axu_busy_poll(struct axu_session *s, const char *port, int xsk_fd,
		  unsigned timeout_us, unsigned budget);

/* The path of a session, for messages. */
const char *axu_session_path(const struct axu_session *s);

/* ---- internals, for the unit tests -------------------------------------- */

/* gethostname() into buf (at least AXU_HOST_MAX bytes). 0 or -errno. */
int axu_hostname(char *buf, size_t len);

/* "/connect,<hostname>" into buf[len]: its length, or -ENAMETOOLONG when
 * the message is longer than AXU_MSG_MAX (the server would read a
 * truncated name) or does not fit buf, -EINVAL for an empty name or one
 * with a comma or a space. */
int axu_connect_msg(char *buf, size_t len, const char *hostname);

/* Sessions open in this process. */
unsigned axu_session_count(void);

#endif /* SL_AF_XDP_UDS_H */
