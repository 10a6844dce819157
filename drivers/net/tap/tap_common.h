/*
 * What net_tap and net_tun share (not installed): both open one queue of
 * a TUN/TAP device through /dev/net/tun (Documentation/networking/
 * tuntap.rst) and move one packet per read()/write() on a non-blocking
 * fd. They differ only in the device type (IFF_TAP carries Ethernet
 * frames, IFF_TUN bare IP packets), in the packet types RX sets and in
 * the options and ops that need an L2 address.
 */
#ifndef SL_TAP_COMMON_H
#define SL_TAP_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_pktdev_driver.h"

/* Option keys of net_tap and of net_tun, NULL-terminated. */
extern const char *const tap_keys[];
extern const char *const tun_keys[];

/* open() of net_tap (l3 false) and net_tun (l3 true). */
int tap_common_open(struct sl_port *port, const struct sl_port_cfg *cfg,
		    const struct sl_kvargs *kv, bool l3);

/* Ops that are the same for both. */
void tap_common_close(struct sl_port *port);
int tap_common_link_get(struct sl_port *port, struct sl_port_link *link);
int tap_common_mtu_get(struct sl_port *port, uint16_t *mtu);
int tap_common_mtu_set(struct sl_port *port, uint16_t mtu);
int tap_common_rx_fd(struct sl_port *port);

/* Ops of net_tap only. */
int tap_common_mac_get(struct sl_port *port, uint8_t mac[6]);
int tap_common_promisc_set(struct sl_port *port, bool on);
int tap_common_promisc_get(struct sl_port *port);

#endif /* SL_TAP_COMMON_H */
