/*
 * net_tap: an lport on a TAP device (Ethernet frames), created or attached
 * through /dev/net/tun; one lport per queue. The kernel side of the device
 * is an ordinary interface: what the lport sends, the kernel receives, and
 * what the kernel sends on it, the lport receives. The code is shared
 * with net_tun in tap_common.c.
 * Options: persist, up, create, queues, addr, mac, mtu (docs/backends.md).
 * Needs CAP_NET_ADMIN to create a device or change it.
 */
#include "tap_common.h"

static int
tap_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	 const struct sl_kvargs *kv)
{
	return tap_common_open(port, cfg, kv, false);
}

static const struct sl_pktdev_ops tap_ops = {
	.name = "net_tap",
	.desc = "a queue of a TAP device, created or attached through "
		"/dev/net/tun (needs CAP_NET_ADMIN)",
	.keys = tap_keys,
	.open = tap_open,
	.close = tap_common_close,
	.link_get = tap_common_link_get,
	.mac_get = tap_common_mac_get,
	.mtu_get = tap_common_mtu_get,
	.mtu_set = tap_common_mtu_set,
	.promisc_set = tap_common_promisc_set,
	.promisc_get = tap_common_promisc_get,
	.rx_fd = tap_common_rx_fd,
};

SL_PKTDEV_REGISTER(tap_ops)
