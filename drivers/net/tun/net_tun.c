/*
 * net_tun: an lport on a TUN device: mbufs carry bare IPv4/IPv6 packets
 * (packet_type SL_PTYPE_L2_NONE with the L3 type from the version nibble,
 * capability SL_PORT_CAP_L3_ONLY) and the lport has no MAC address
 * (sl_pktdev_mac_get() gives -ENOTSUP). Everything else is net_tap's,
 * in drivers/net/tap/tap_common.c.
 * Options: persist, up, create, queues, addr, mtu (docs/backends.md).
 * Needs CAP_NET_ADMIN to create a device or change it.
 */
#include "../tap/tap_common.h"

static int
tun_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	 const struct sl_kvargs *kv)
{
	return tap_common_open(port, cfg, kv, true);
}

static const struct sl_pktdev_ops tun_ops = {
	.name = "net_tun",
	.desc = "a queue of a TUN device (bare IP packets), created or "
		"attached through /dev/net/tun (needs CAP_NET_ADMIN)",
	.keys = tun_keys,
	.open = tun_open,
	.close = tap_common_close,
	.link_get = tap_common_link_get,
	.mtu_get = tap_common_mtu_get,
	.mtu_set = tap_common_mtu_set,
	.rx_fd = tap_common_rx_fd,
};

SL_PKTDEV_REGISTER(tun_ops)
