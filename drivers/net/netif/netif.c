/*
 * Interface ioctls and mbuf copies shared by the kernel-facing backends
 * (see netif.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "netif.h"

static int
ifreq_init(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	memcpy(ifr->ifr_name, ifname, strlen(ifname) + 1);
	return 0;
}

static int
ifreq_ioctl(int sock, unsigned long req, struct ifreq *ifr)
{
	return ioctl(sock, req, ifr) < 0 ? -errno : 0;
}

int
netif_index(int sock, const char *ifname)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFINDEX, &ifr);
	return err < 0 ? err : ifr.ifr_ifindex;
}

int
netif_mac_get(int sock, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFHWADDR, &ifr);
	if (err == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

int
netif_mac_set(int sock, const char *ifname, const uint8_t mac[6])
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err < 0)
		return err;
	ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ifreq_ioctl(sock, SIOCSIFHWADDR, &ifr);
}

int
netif_hwtype_get(int sock, const char *ifname, unsigned *type)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFHWADDR, &ifr);
	if (err == 0)
		*type = ifr.ifr_hwaddr.sa_family;
	return err;
}

int
netif_mtu_get(int sock, const char *ifname, uint16_t *mtu)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFMTU, &ifr);
	if (err == 0)
		*mtu = ifr.ifr_mtu > UINT16_MAX ? UINT16_MAX
						: (uint16_t)ifr.ifr_mtu;
	return err;
}

int
netif_mtu_set(int sock, const char *ifname, uint16_t mtu)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err < 0)
		return err;
	ifr.ifr_mtu = mtu;
	return ifreq_ioctl(sock, SIOCSIFMTU, &ifr);
}

int
netif_flags_get(int sock, const char *ifname, unsigned *flags)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr);
	if (err == 0)
		*flags = (unsigned short)ifr.ifr_flags;
	return err;
}

int
netif_flags_change(int sock, const char *ifname, unsigned set, unsigned clear)
{
	struct ifreq ifr;
	unsigned flags;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr);
	if (err < 0)
		return err;
	flags = ((unsigned short)ifr.ifr_flags | set) & ~clear;
	if (flags == (unsigned short)ifr.ifr_flags)
		return 0;
	ifr.ifr_flags = (short)flags;
	return ifreq_ioctl(sock, SIOCSIFFLAGS, &ifr);
}

/* ETHTOOL_GLINKSETTINGS: the request followed by the link mode masks,
 * as many 32-bit words as the kernel asks for in its first (handshake)
 * answer, at most 3 masks of 127 words. */
#define LINK_MASK_WORDS (3 * 127)

static void
netif_speed_get(int sock, struct ifreq *ifr, struct sl_port_link *link)
{
	uint32_t buf[(sizeof(struct ethtool_link_settings) + 3) / 4 +
		     LINK_MASK_WORDS];
	struct ethtool_link_settings *req = (void *)buf;
	int8_t nwords;

	memset(buf, 0, sizeof(buf));
	req->cmd = ETHTOOL_GLINKSETTINGS;
	ifr->ifr_data = (void *)buf;
	if (ioctl(sock, SIOCETHTOOL, ifr) < 0)
		return;
	/* handshake: the kernel answers with minus the words it needs */
	nwords = req->link_mode_masks_nwords;
	if (nwords >= 0 || -nwords > 127)
		return;
	memset(buf, 0, sizeof(buf));
	req->cmd = ETHTOOL_GLINKSETTINGS;
	req->link_mode_masks_nwords = (int8_t)-nwords;
	if (ioctl(sock, SIOCETHTOOL, ifr) < 0)
		return;
	if (req->speed != (uint32_t)SPEED_UNKNOWN)
		link->speed_mbps = req->speed;
	link->full_duplex = req->duplex == DUPLEX_FULL;
}

int
netif_link_get(int sock, const char *ifname, struct sl_port_link *link)
{
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err == 0)
		err = ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr);
	if (err < 0)
		return err;
	*link = (struct sl_port_link){
		.up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING),
	};
	netif_speed_get(sock, &ifr, link);
	return 0;
}

int
netif_driver_get(int sock, const char *ifname, char *out, size_t len)
{
	struct ethtool_drvinfo info;
	struct ifreq ifr;
	int err;

	err = ifreq_init(&ifr, ifname);
	if (err < 0)
		return err;
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GDRVINFO;
	ifr.ifr_data = (void *)&info;
	err = ifreq_ioctl(sock, SIOCETHTOOL, &ifr);
	if (err == 0)
		snprintf(out, len, "%.*s", (int)sizeof(info.driver),
			 info.driver);
	return err;
}

int
netif_mbuf_append_copy(struct sl_mempool *mp, struct sl_mbuf *head,
		       const void *src, uint32_t len)
{
	struct sl_mbuf *last = sl_mbuf_last_seg(head), *seg;
	const uint8_t *p = src;
	uint32_t chunk;

	while (len > 0) {
		chunk = SL_MIN((uint32_t)sl_mbuf_tailroom(last), len);
		if (chunk == 0) {
			if (head->nb_segs == SL_MBUF_MAX_SEGS)
				return -EOVERFLOW;
			seg = sl_mbuf_alloc(mp);
			if (seg == NULL)
				return -ENOBUFS;
			seg->data_off = 0;
			last->next = seg;
			last = seg;
			head->nb_segs++;
			continue;
		}
		memcpy(sl_mbuf_mtod(last, uint8_t *) + last->data_len, p,
		       chunk);
		last->data_len = (uint16_t)(last->data_len + chunk);
		head->pkt_len += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

unsigned long
netif_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino
						   : 0;
}

static int
netif_sysfs_path(char *buf, size_t len, const char *ifname, const char *attr)
{
	int n = snprintf(buf, len, "/sys/class/net/%s/%s", ifname, attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
netif_sysfs_get(const char *ifname, const char *attr, uint64_t *val)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, err;

	err = netif_sysfs_path(path, sizeof(path), ifname, attr);
	if (err < 0)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err < 0)
		return err;
	buf[n] = '\0';
	return sscanf(buf, "%" SCNu64, val) == 1 ? 0 : -EINVAL;
}

int
netif_sysfs_set(const char *ifname, const char *attr, uint64_t val)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, len, err;

	err = netif_sysfs_path(path, sizeof(path), ifname, attr);
	if (err < 0)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", val);
	n = write(fd, buf, (size_t)len);
	err = n < 0 ? -errno : n != len ? -EIO : 0;
	close(fd);
	return err;
}
