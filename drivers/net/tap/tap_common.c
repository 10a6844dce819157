/*
 * TUN/TAP queues for net_tap and net_tun (see tap_common.h).
 *
 * An lport is one queue fd of the device cfg->ifname, which is created
 * when missing (create=yes) or attached when it exists. With
 * IFF_MULTI_QUEUE (queues=N > 1, or any qid > 0) every lport of the
 * device attaches its own queue; the kernel spreads the flows it sends
 * over the attached queues (tuntap.rst, "multiqueue tuntap interface").
 *
 * RX reads one packet per readv(): the first iovec is the data room of an
 * mbuf, the second a 64 KiB bounce buffer, so a packet longer than one
 * mbuf becomes a chain without knowing the MTU beforehand. TX writes one
 * packet per writev(), one iovec per segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>

#include "sluice/sl_log.h"
#include "tap_common.h"
#include "../netif/netif.h"

/* Longest packet a queue reads: the largest MTU plus an Ethernet header
 * and a VLAN tag, rounded up. */
#define TAP_SCRATCH (65536u + 256u)
#define TAP_QUEUES_MAX 256 /* the kernel's MAX_TAP_QUEUES */
#define TAP_DEV "/dev/net/tun"

#define TAP_LOG(lvl, l3, ...)                                                  \
	sl_log(lvl, (l3) ? "net_tun" : "net_tap", __VA_ARGS__)
#define TAP_ERR(l3, ...) TAP_LOG(SL_LOG_ERR, l3, __VA_ARGS__)

struct tap_port {
	/* data path */
	struct sl_port *port;
	struct sl_mempool *pool;
	int fd;
	uint8_t *scratch;
	struct sl_mbuf *spare; /* RX: an mbuf left from the last burst */
	/* control */
	int ctl; /* AF_INET socket for interface ioctls */
	bool l3;
	char ifname[IFNAMSIZ];
};

const char *const tap_keys[] = {"persist", "up",  "create", "queues",
				"addr",	   "mac", "mtu",    NULL};
const char *const tun_keys[] = {"persist", "up",  "create", "queues",
				"addr",	   "mtu", NULL};

/* ---- data path ----------------------------------------------------------- */

static __sl_always_inline uint16_t
tap_rx_common(struct tap_port *tp, struct sl_mbuf **pkts, uint16_t n, bool l3)
{
	struct iovec iov[2];
	struct sl_mbuf *m;
	uint64_t bytes = 0;
	uint16_t nb = 0;
	uint32_t room;
	ssize_t len;

	iov[1].iov_base = tp->scratch;
	iov[1].iov_len = TAP_SCRATCH;
	while (nb < n) {
		m = tp->spare;
		if (m == NULL) {
			m = sl_mbuf_alloc(tp->pool);
			if (unlikely(m == NULL)) {
				tp->port->rx.nombuf++;
				break;
			}
			tp->spare = m;
		}
		room = sl_mbuf_tailroom(m);
		iov[0].iov_base = sl_mbuf_mtod(m, void *);
		iov[0].iov_len = room;
		len = readv(tp->fd, iov, 2);
		if (len <= 0)
			break; /* EAGAIN: the queue is empty */
		if (unlikely((size_t)len > room + TAP_SCRATCH)) {
			tp->port->rx.errors++; /* truncated */
			continue;
		}
		tp->spare = NULL;
		if (likely((uint32_t)len <= room)) {
			m->data_len = (uint16_t)len;
			m->pkt_len = (uint32_t)len;
		} else {
			m->data_len = (uint16_t)room;
			m->pkt_len = room;
			if (unlikely(netif_mbuf_append_copy(
					     tp->pool, m, tp->scratch,
					     (uint32_t)len - room) < 0)) {
				sl_mbuf_free(m);
				tp->port->rx.nombuf++;
				break;
			}
		}
		if (l3)
			m->packet_type =
				SL_PTYPE_L2_NONE |
				netif_ptype_ip(sl_mbuf_mtod(m, uint8_t *),
					       m->data_len);
		else
			m->packet_type = netif_ptype_ether(
				sl_mbuf_mtod(m, uint8_t *), m->data_len);
		pkts[nb++] = m;
		bytes += (uint32_t)len;
	}
	tp->port->rx.bytes += bytes;
	return nb;
}

static uint16_t
tap_rx(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	return tap_rx_common(queue, pkts, n, false);
}

static uint16_t
tun_rx(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	return tap_rx_common(queue, pkts, n, true);
}

static uint16_t
tap_tx(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	struct iovec iov[SL_MBUF_MAX_SEGS];
	struct tap_port *tp = queue;
	const struct sl_mbuf *s;
	uint16_t i, bad = 0;
	uint64_t bytes = 0;
	unsigned nseg;

	for (i = 0; i < n; i++) {
		nseg = 0;
		for (s = pkts[i]; s != NULL && nseg < SL_MBUF_MAX_SEGS;
		     s = s->next) {
			iov[nseg].iov_base = sl_mbuf_mtod(s, void *);
			iov[nseg].iov_len = s->data_len;
			nseg++;
		}
		if (unlikely(s != NULL)) {
			bad++; /* longer chain than an mbuf may be */
			continue;
		}
		if (likely(writev(tp->fd, iov, (int)nseg) >= 0)) {
			bytes += pkts[i]->pkt_len;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			break; /* the caller keeps pkts[i..n-1] */
		bad++; /* refused (e.g. not an IP packet on TUN): dropped */
	}
	sl_mbuf_free_bulk(pkts, i);
	tp->port->tx.bytes += bytes;
	if (unlikely(bad != 0))
		netif_tx_dropped(tp->port, bad);
	return i;
}

/* ---- options ------------------------------------------------------------- */

struct tap_opts {
	bool persist, up, create, multi;
	uint64_t queues, mtu;
	bool has_mtu, has_mac, has_addr;
	uint8_t mac[6];
	struct in_addr addr, mask;
};

static int
tap_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1)
		return -EINVAL; /* multicast */
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	return 0;
}

/* "a.b.c.d/n" (or "a.b.c.d", a /32) into an address and a netmask. */
static int
tap_addr_parse(const char *s, struct in_addr *addr, struct in_addr *mask)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	unsigned long plen = 32;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || plen > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	mask->s_addr = plen == 0 ? 0 : htonl(~UINT32_C(0) << (32 - plen));
	return 0;
}

static int
tap_opts_parse(const struct sl_port_cfg *cfg, const struct sl_kvargs *kv,
	       bool l3, struct tap_opts *o)
{
	const char *s;
	int err;

	memset(o, 0, sizeof(*o));
	err = sl_kvargs_bool(kv, "persist", false, &o->persist);
	if (err == 0)
		err = sl_kvargs_bool(kv, "up", true, &o->up);
	if (err == 0)
		err = sl_kvargs_bool(kv, "create", true, &o->create);
	if (err == 0)
		err = sl_kvargs_u64(kv, "queues", 1, 1, TAP_QUEUES_MAX,
				    &o->queues);
	if (err == 0)
		err = sl_kvargs_u64(kv, "mtu", 0, 68, 65535, &o->mtu);
	if (err < 0)
		return err;
	o->has_mtu = sl_kvargs_str(kv, "mtu", NULL) != NULL;
	if (sl_kvargs_str(kv, "queues", NULL) != NULL &&
	    cfg->qid >= o->queues) {
		TAP_ERR(l3,
			"%s: option 'queues': queue %u does not exist on "
			"a device of %llu queues",
			cfg->name, cfg->qid, (unsigned long long)o->queues);
		return -EINVAL;
	}
	o->multi = o->queues > 1 || cfg->qid > 0;
	s = sl_kvargs_str(kv, "mac", NULL);
	if (s != NULL) {
		if (tap_mac_parse(s, o->mac) < 0) {
			TAP_ERR(l3,
				"%s: option 'mac': '%s' is not a unicast "
				"MAC address (xx:xx:xx:xx:xx:xx)",
				cfg->name, s);
			return -EINVAL;
		}
		o->has_mac = true;
	}
	s = sl_kvargs_str(kv, "addr", NULL);
	if (s != NULL) {
		if (tap_addr_parse(s, &o->addr, &o->mask) < 0) {
			TAP_ERR(l3,
				"%s: option 'addr': '%s' is not an IPv4 "
				"address with an optional /prefix (0..32)",
				cfg->name, s);
			return -EINVAL;
		}
		o->has_addr = true;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

/* An existing device must be a TUN/TAP device of the right kind. */
static int
tap_check_existing(const struct tap_port *tp, const char *port)
{
	char driver[32] = "";
	unsigned type = 0;
	int err;

	/* every TUN/TAP device answers ETHTOOL_GDRVINFO with "tun" */
	err = netif_driver_get(tp->ctl, tp->ifname, driver, sizeof(driver));
	if (err < 0 || strcmp(driver, "tun") != 0) {
		TAP_ERR(tp->l3,
			"%s: '%s' exists and is not a TUN/TAP device "
			"(driver %s)",
			port, tp->ifname, err < 0 ? "unknown" : driver);
		return -EINVAL;
	}
	/* TAP devices are Ethernet, TUN devices have no L2 (ARPHRD_NONE) */
	err = netif_hwtype_get(tp->ctl, tp->ifname, &type);
	if (err == 0 && (type == ARPHRD_ETHER) == tp->l3) {
		TAP_ERR(tp->l3, "%s: '%s' is a %s device, not a %s device",
			port, tp->ifname, tp->l3 ? "TAP" : "TUN",
			tp->l3 ? "TUN" : "TAP");
		return -EINVAL;
	}
	return 0;
}

static int
tap_attach(struct tap_port *tp, const char *port, const struct tap_opts *o,
	   bool exists)
{
	struct ifreq ifr;
	int err;

	tp->fd = open(TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tp->fd < 0) {
		err = -errno;
		TAP_ERR(tp->l3, "%s: %s: %s%s", port, TAP_DEV, sl_strerror(err),
			err == -ENOENT ? " (is the tun module loaded?)" : "");
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tp->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = (short)((tp->l3 ? IFF_TUN : IFF_TAP) | IFF_NO_PI |
				(o->multi ? IFF_MULTI_QUEUE : 0));
	if (ioctl(tp->fd, TUNSETIFF, &ifr) == 0)
		return 0;
	err = -errno;
	if (err == -EBUSY)
		TAP_ERR(tp->l3,
			"%s: '%s' is single-queue and already "
			"attached (a multi-queue device needs queues=N "
			"on every lport)",
			port, tp->ifname);
	else if (err == -EINVAL && exists)
		TAP_ERR(tp->l3,
			"%s: '%s' is %s-queue, this lport asks for a "
			"%s-queue device (option 'queues', qid)",
			port, tp->ifname, o->multi ? "single" : "multi",
			o->multi ? "multi" : "single");
	else
		TAP_ERR(tp->l3, "%s: %s '%s': %s%s", port,
			exists ? "attaching to" : "creating", tp->ifname,
			sl_strerror(err),
			err == -EPERM ? " (needs CAP_NET_ADMIN, or to own the "
					"device)"
				      : "");
	return err;
}

static int
tap_configure(struct tap_port *tp, const char *port, const struct tap_opts *o)
{
	struct ifreq ifr;
	const char *what;
	int err = 0;

	if (o->has_mac) {
		what = "setting the MAC address";
		err = netif_mac_set(tp->ctl, tp->ifname, o->mac);
	}
	if (err == 0 && o->has_mtu) {
		what = "setting the MTU";
		err = netif_mtu_set(tp->ctl, tp->ifname, (uint16_t)o->mtu);
	}
	if (err == 0 && o->has_addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

		what = "assigning the address";
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, tp->ifname, sizeof(ifr.ifr_name));
		sin->sin_family = AF_INET;
		sin->sin_addr = o->addr;
		err = ioctl(tp->ctl, SIOCSIFADDR, &ifr) < 0 ? -errno : 0;
		if (err == 0) {
			sin->sin_addr = o->mask;
			err = ioctl(tp->ctl, SIOCSIFNETMASK, &ifr) < 0 ? -errno
								       : 0;
		}
	}
	if (err == 0 && o->up) {
		what = "bringing the link up";
		err = netif_flags_change(tp->ctl, tp->ifname, IFF_UP, 0);
	}
	if (err == 0 && o->persist) {
		what = "making the device persistent";
		err = ioctl(tp->fd, TUNSETPERSIST, 1) < 0 ? -errno : 0;
	}
	if (err < 0)
		TAP_ERR(tp->l3, "%s: %s of '%s': %s", port, what, tp->ifname,
			sl_strerror(err));
	return err;
}

static void
tap_free(struct tap_port *tp)
{
	if (tp->fd >= 0)
		close(tp->fd);
	if (tp->ctl >= 0)
		close(tp->ctl);
	sl_mbuf_free(tp->spare);
	free(tp->scratch);
	free(tp);
}

int
tap_common_open(struct sl_port *port, const struct sl_port_cfg *cfg,
		const struct sl_kvargs *kv, bool l3)
{
	struct tap_port *tp;
	struct tap_opts o;
	bool exists;
	int err;

	if (cfg->ifname == NULL || cfg->ifname[0] == '\0') {
		TAP_ERR(l3,
			"%s: no ifname given: the %s device to create or "
			"attach",
			cfg->name, l3 ? "TUN" : "TAP");
		return -ENODEV;
	}
	if (strlen(cfg->ifname) >= IFNAMSIZ) {
		TAP_ERR(l3, "%s: ifname '%s' is longer than %d characters",
			cfg->name, cfg->ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (cfg->pool == NULL) {
		TAP_ERR(l3, "%s: no pool given for RX mbufs", cfg->name);
		return -EINVAL;
	}
	err = tap_opts_parse(cfg, kv, l3, &o);
	if (err < 0)
		return err;
	tp = calloc(1, sizeof(*tp));
	if (tp == NULL)
		return -ENOMEM;
	tp->fd = -1;
	tp->l3 = l3;
	tp->port = port;
	tp->pool = cfg->pool;
	snprintf(tp->ifname, sizeof(tp->ifname), "%s", cfg->ifname);
	tp->scratch = malloc(TAP_SCRATCH);
	if (tp->scratch == NULL) {
		err = -ENOMEM;
		goto free_tp;
	}
	tp->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tp->ctl < 0) {
		err = -errno;
		TAP_ERR(l3, "%s: control socket: %s", cfg->name,
			sl_strerror(err));
		goto free_tp;
	}
	exists = netif_index(tp->ctl, tp->ifname) > 0;
	if (!exists && !o.create) {
		TAP_ERR(l3,
			"%s: no device '%s' in this network namespace "
			"(and create=no)",
			cfg->name, tp->ifname);
		err = -ENODEV;
		goto free_tp;
	}
	if (exists) {
		err = tap_check_existing(tp, cfg->name);
		if (err < 0)
			goto free_tp;
	}
	err = tap_attach(tp, cfg->name, &o, exists);
	if (err < 0)
		goto free_tp;
	/* a device we created and did not make persistent goes away with
	 * its last queue fd: nothing else to undo on failure */
	err = tap_configure(tp, cfg->name, &o);
	if (err < 0)
		goto free_tp;
	port->priv = tp;
	port->rxq = tp;
	port->txq = tp;
	port->rx_burst = l3 ? tun_rx : tap_rx;
	port->tx_burst = tap_tx;
	port->caps = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_MULTI_BUFFER |
		     SL_PORT_CAP_RX_INTR | SL_PORT_CAP_MTU_SET |
		     (l3 ? SL_PORT_CAP_L3_ONLY : SL_PORT_CAP_PROMISC);
	TAP_LOG(SL_LOG_INFO, l3, "%s: %s %s '%s' queue %u%s", cfg->name,
		exists ? "attached to" : "created", l3 ? "TUN" : "TAP",
		tp->ifname, cfg->qid, o.multi ? " (multi-queue)" : "");
	return 0;
free_tp:
	tap_free(tp);
	return err;
}

void
tap_common_close(struct sl_port *port)
{
	tap_free(port->priv);
}

/* ---- control ops --------------------------------------------------------- */

int
tap_common_link_get(struct sl_port *port, struct sl_port_link *link)
{
	struct tap_port *tp = port->priv;

	return netif_link_get(tp->ctl, tp->ifname, link);
}

int
tap_common_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	struct tap_port *tp = port->priv;

	return netif_mtu_get(tp->ctl, tp->ifname, mtu);
}

int
tap_common_mtu_set(struct sl_port *port, uint16_t mtu)
{
	struct tap_port *tp = port->priv;
	int err;

	if (mtu < 68) {
		TAP_ERR(tp->l3, "%s: MTU %u is below 68", port->name, mtu);
		return -EINVAL;
	}
	err = netif_mtu_set(tp->ctl, tp->ifname, mtu);
	if (err < 0)
		TAP_ERR(tp->l3, "%s: setting the MTU of '%s' to %u: %s%s",
			port->name, tp->ifname, mtu, sl_strerror(err),
			err == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return err;
}

int
tap_common_rx_fd(struct sl_port *port)
{
	return ((struct tap_port *)port->priv)->fd;
}

int
tap_common_mac_get(struct sl_port *port, uint8_t mac[6])
{
	struct tap_port *tp = port->priv;

	return netif_mac_get(tp->ctl, tp->ifname, mac);
}

int
tap_common_promisc_set(struct sl_port *port, bool on)
{
	struct tap_port *tp = port->priv;
	int err;

	err = netif_flags_change(tp->ctl, tp->ifname, on ? IFF_PROMISC : 0,
				 on ? 0 : IFF_PROMISC);
	if (err < 0)
		TAP_ERR(tp->l3, "%s: promiscuous mode %s on '%s': %s",
			port->name, on ? "on" : "off", tp->ifname,
			sl_strerror(err));
	return err;
}

int
tap_common_promisc_get(struct sl_port *port)
{
	struct tap_port *tp = port->priv;
	unsigned flags;
	int err;

	err = netif_flags_get(tp->ctl, tp->ifname, &flags);
	return err < 0 ? err : !!(flags & IFF_PROMISC);
}
