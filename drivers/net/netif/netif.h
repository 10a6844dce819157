/*
 * Helpers shared by the backends that sit on a kernel network interface
 * (net_af_packet, net_tap, net_tun); not installed.
 *
 *  - interface ioctls (index, MAC, MTU, flags, link) on a control socket
 *    the backend opened at open() time, so that they act in the network
 *    namespace of the lport even if the thread later moves;
 *  - copies between flat buffers and mbuf chains, for backends whose
 *    packets live in kernel memory or a bounce buffer;
 *  - a packet-type classifier for the first bytes of a frame;
 *  - the accounting of packets a TX burst takes but cannot send.
 *
 * Control-plane helpers return 0 or -errno and do not log: the backend
 * knows what the call was for and says so.
 */
#ifndef SL_NETIF_H
#define SL_NETIF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_pktdev.h"

/* ---- interface ioctls ---------------------------------------------------- */

/* Interface index of ifname: > 0, or -ENODEV (no such device in the
 * socket's namespace) or another -errno. */
int netif_index(int sock, const char *ifname);

/* MAC address (SIOCGIFHWADDR / SIOCSIFHWADDR). */
int netif_mac_get(int sock, const char *ifname, uint8_t mac[6]);
int netif_mac_set(int sock, const char *ifname, const uint8_t mac[6]);

/* Hardware type (ARPHRD_*) of ifname. */
int netif_hwtype_get(int sock, const char *ifname, unsigned *type);

/* MTU (SIOCGIFMTU / SIOCSIFMTU). An MTU above 65535 reads as 65535. */
int netif_mtu_get(int sock, const char *ifname, uint16_t *mtu);
int netif_mtu_set(int sock, const char *ifname, uint16_t mtu);

/* Interface flags (IFF_*): read, or set and clear bits. */
int netif_flags_get(int sock, const char *ifname, unsigned *flags);
int netif_flags_change(int sock, const char *ifname, unsigned set,
		       unsigned clear);

/* Link state: up is IFF_UP and IFF_RUNNING (carrier); speed and duplex
 * from ETHTOOL_GLINKSETTINGS when the driver reports them, else 0/false. */
int netif_link_get(int sock, const char *ifname, struct sl_port_link *link);

/* Name of the driver (ETHTOOL_GDRVINFO), e.g. "veth", "tun". */
int netif_driver_get(int sock, const char *ifname, char *out, size_t len);

/* Identity of the calling thread's network namespace (the inode of
 * /proc/self/ns/net; 0 when it cannot be read). */
unsigned long netif_netns(void);

/* Read or write the unsigned number in /sys/class/net/<ifname>/<attr>
 * (the sysfs of the namespace the caller's /sys was mounted in). */
int netif_sysfs_get(const char *ifname, const char *attr, uint64_t *val);
int netif_sysfs_set(const char *ifname, const char *attr, uint64_t val);

/* ---- data path ----------------------------------------------------------- */

/*
 * Append len bytes at src to the packet head: first into the tailroom of
 * its last segment, then into new segments of mp (data from offset 0, no
 * headroom). Returns 0, or -ENOBUFS (mp empty) or -EOVERFLOW (more than
 * SL_MBUF_MAX_SEGS segments); on failure head may have grown and the
 * caller frees it.
 */
int netif_mbuf_append_copy(struct sl_mempool *mp, struct sl_mbuf *head,
			   const void *src, uint32_t len);

/* Copy a whole packet (every segment) to dst, which has pkt_len bytes. */
static inline void
netif_mbuf_copy_out(const struct sl_mbuf *m, void *dst)
{
	uint8_t *p = dst;

	for (; m != NULL; m = m->next) {
		memcpy(p, sl_mbuf_mtod(m, const uint8_t *), m->data_len);
		p += m->data_len;
	}
}

/* L3 type of an IP packet from its version nibble: SL_PTYPE_L3_IPV4 or
 * _IPV4_EXT (options), SL_PTYPE_L3_IPV6 or _IPV6_EXT (an extension header
 * follows), or SL_PTYPE_UNKNOWN. len is the bytes readable at p. */
static inline uint32_t
netif_ptype_ip(const uint8_t *p, uint32_t len)
{
	if (len < 1)
		return SL_PTYPE_UNKNOWN;
	switch (p[0] >> 4) {
	case 4:
		return (p[0] & 0x0f) > 5 ? SL_PTYPE_L3_IPV4_EXT
					 : SL_PTYPE_L3_IPV4;
	case 6:
		if (len < 40)
			return SL_PTYPE_L3_IPV6;
		switch (p[6]) { /* next header */
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 44:	/* fragment */
		case 50:	/* ESP */
		case 51:	/* AH */
		case 60:	/* destination options */
		case 135:	/* mobility */
			return SL_PTYPE_L3_IPV6_EXT;
		default:
			return SL_PTYPE_L3_IPV6;
		}
	default:
		return SL_PTYPE_UNKNOWN;
	}
}

/* L2 and L3 type of an Ethernet frame: SL_PTYPE_L2_ETHER with the L3 type
 * of IPv4/IPv6, SL_PTYPE_L2_ETHER_ARP, SL_PTYPE_L2_ETHER_VLAN (tagged; the
 * inner type is not looked at), or SL_PTYPE_UNKNOWN below 14 bytes. */
static inline uint32_t
netif_ptype_ether(const uint8_t *p, uint32_t len)
{
	uint16_t type;

	if (len < 14)
		return SL_PTYPE_UNKNOWN;
	type = (uint16_t)(p[12] << 8 | p[13]);
	switch (type) {
	case 0x0800:
	case 0x86dd:
		return SL_PTYPE_L2_ETHER | netif_ptype_ip(p + 14, len - 14);
	case 0x0806:
		return SL_PTYPE_L2_ETHER_ARP;
	case 0x8100:
	case 0x88a8:
		return SL_PTYPE_L2_ETHER_VLAN;
	default:
		return SL_PTYPE_L2_ETHER;
	}
}

/* Account for n packets a TX burst took but could not send: the burst
 * shim counts every taken packet in tx.packets, so move these n to
 * tx.errors (opackets then counts packets handed to the kernel only).
 * Called by the TX thread, the only writer of both counters. */
static inline void
netif_tx_dropped(struct sl_port *port, uint16_t n)
{
	port->tx.errors += n;
	port->tx.packets -= n;
}

#endif /* SL_NETIF_H */
