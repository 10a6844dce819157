/*
 * sl_nlm_neigh_resolve(): ask the kernel to resolve an IPv4 neighbour.
 *
 * The request is RTM_NEWNEIGH with NTF_USE, NLM_F_CREATE and state
 * NUD_NONE. For NTF_USE the kernel does not apply the state: it looks the
 * entry up (creating it when absent, hence NLM_F_CREATE) and "uses" it as
 * if it had a packet for it. An unknown or FAILED entry goes INCOMPLETE
 * and an ARP request leaves at once; a STALE one goes DELAY and is
 * probed. The answer reaches the mirror as a neighbour event
 * (REACHABLE with the MAC, or FAILED). NUD_NONE rather than iproute2's
 * default NUD_PERMANENT: the latter would make a new entry exempt from
 * garbage collection.
 *
 * The socket is the mirror's second one, used only here, under res_lock.
 */
#define SL_LOG_MODULE "nlmirror"
#include <net/if.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "sluice/sl_log.h"
#include "nlm_private.h"

/* How long to wait for the kernel's acknowledgement. */
#define NLM_ACK_TIMEOUT_MS 1000

int
nlm_resolve_open(struct sl_nlm *m)
{
	int nerr;

	m->res = nl_socket_alloc();
	if (m->res == NULL) {
		SL_ERR("rtnetlink request socket: no memory");
		return -ENOMEM;
	}
	errno = 0;
	nerr = nl_connect(m->res, NETLINK_ROUTE);
	if (nerr < 0) {
		SL_ERR("rtnetlink request socket: %s (%s)", nl_geterror(nerr),
		       strerror(errno));
		return errno != 0 ? -errno : -EIO;
	}
	return 0;
}

void
nlm_resolve_close(struct sl_nlm *m)
{
	if (m->res != NULL)
		nl_socket_free(m->res);
	m->res = NULL;
}

/* Wait for the acknowledgement of request seq. @return its error (0 or
 * -errno), -ETIMEDOUT, or the -errno of a failed receive. */
static int
wait_ack(struct sl_nlm *m, uint32_t seq)
{
	int fd = nl_socket_get_fd(m->res), left;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	union {
		uint8_t b[8192];
		struct nlmsghdr align;
	} buf;
	const struct nlmsgerr *e;
	struct nlmsghdr *nlh;
	ssize_t n;

	for (;;) {
		n = poll(&p, 1, NLM_ACK_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf.b, sizeof(buf.b), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		left = (int)n;
		/* answers to earlier requests that timed out are skipped */
		for (nlh = &buf.align; nlmsg_ok(nlh, left);
		     nlh = nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			e = NLMSG_DATA(nlh);
			return e->error;
		}
	}
}

int
sl_nlm_neigh_resolve(struct sl_nlm *m, int ifindex, uint32_t ip)
{
	struct ndmsg ndm;
	struct nl_msg *msg;
	char ipstr[INET_ADDRSTRLEN];
	uint32_t be = htonl(ip), seq;
	int err, nerr;

	if (m == NULL || ifindex <= 0 || ip == 0 || IN_MULTICAST(ip) ||
	    ip == INADDR_BROADCAST)
		return -EINVAL;
	inet_ntop(AF_INET, &be, ipstr, sizeof(ipstr));
	memset(&ndm, 0, sizeof(ndm));
	ndm.ndm_family = AF_INET;
	ndm.ndm_ifindex = ifindex;
	ndm.ndm_state = NUD_NONE;
	ndm.ndm_flags = NTF_USE;
	msg = nlmsg_alloc_simple(RTM_NEWNEIGH,
				 NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK);
	if (msg == NULL ||
	    nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, NDA_DST, sizeof(be), &be) < 0) {
		nlmsg_free(msg);
		SL_ERR("resolving %s on ifindex %d: no memory for the request",
		       ipstr, ifindex);
		return -ENOMEM;
	}
	pthread_mutex_lock(&m->res_lock);
	seq = nl_socket_use_seq(m->res);
	if (seq == 0)
		seq = nl_socket_use_seq(m->res);
	nlmsg_hdr(msg)->nlmsg_seq = seq;
	errno = 0;
	nerr = nl_send_auto(m->res, msg);
	if (nerr < 0) {
		err = errno != 0 ? -errno : -EIO;
		SL_ERR("resolving %s on ifindex %d: sending the request: %s",
		       ipstr, ifindex, nl_geterror(nerr));
	} else {
		err = wait_ack(m, seq);
		if (err < 0)
			SL_ERR("resolving %s on ifindex %d: the kernel "
			       "answered %s",
			       ipstr, ifindex, strerror(-err));
	}
	pthread_mutex_unlock(&m->res_lock);
	nlmsg_free(msg);
	return err;
}
