/*
 * net_null: RX returns nothing, or packets of a fixed size allocated from
 * the lport's pool (for benchmarks); TX frees what it is given.
 * Options: pkt_size=N (0: no RX; else 14..frame data room), mac=, mtu=.
 */
#define SL_LOG_MODULE "net_null"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "sl_pktdev_driver.h"

struct null_port {
	struct sl_port *port;
	struct sl_mempool *pool;
	uint32_t pkt_size;
	uint16_t mtu;
	bool promisc;
};

static uint16_t
null_rx(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct null_port *np = q;
	uint16_t i;

	if (sl_mbuf_alloc_bulk(np->pool, pkts, n) < 0) {
		np->port->rx.nombuf++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		pkts[i]->data_len = (uint16_t)np->pkt_size;
		pkts[i]->pkt_len = np->pkt_size;
		pkts[i]->packet_type = SL_PTYPE_L2_ETHER;
	}
	np->port->rx.bytes += (uint64_t)n * np->pkt_size;
	return n;
}

static uint16_t
null_tx(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct null_port *np = q;
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	sl_mbuf_free_bulk(pkts, n);
	np->port->tx.bytes += bytes;
	return n;
}

static int
null_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	  const struct sl_kvargs *kv)
{
	struct null_port *np;
	uint64_t size, mtu;
	int err;

	err = sl_kvargs_u64(kv, "pkt_size", 0, 0, 65535, &size);
	if (err < 0)
		return err;
	err = sl_kvargs_u64(kv, "mtu", 1500, 68, 65535, &mtu);
	if (err < 0)
		return err;
	if (size > 0 && cfg->pool == NULL) {
		SL_ERR("%s: pkt_size=%llu needs a pool to allocate from",
		       cfg->name, (unsigned long long)size);
		return -EINVAL;
	}
	if (size > 0 && size < 14) {
		SL_ERR("%s: option 'pkt_size': %llu is shorter than an "
		       "Ethernet header (14)",
		       cfg->name, (unsigned long long)size);
		return -EINVAL;
	}
	np = calloc(1, sizeof(*np));
	if (np == NULL)
		return -ENOMEM;
	np->port = port;
	np->pool = cfg->pool;
	np->pkt_size = (uint32_t)size;
	np->mtu = (uint16_t)mtu;
	if (size > 0) {
		struct sl_mbuf *m = sl_mbuf_alloc(cfg->pool);

		if (m == NULL) {
			free(np);
			SL_ERR("%s: pool is empty", cfg->name);
			return -ENOBUFS;
		}
		if (sl_mbuf_tailroom(m) < size) {
			SL_ERR("%s: option 'pkt_size': %llu does not fit in a "
			       "frame of the pool (%u bytes of room)",
			       cfg->name, (unsigned long long)size,
			       sl_mbuf_tailroom(m));
			sl_mbuf_free(m);
			free(np);
			return -EINVAL;
		}
		sl_mbuf_free(m);
	}
	port->priv = np;
	port->rxq = np;
	port->txq = np;
	port->rx_burst = size > 0 ? null_rx : pktdev_burst_none;
	port->tx_burst = null_tx;
	port->caps = SL_PORT_CAP_MTU_SET | SL_PORT_CAP_PROMISC;
	return 0;
}

static void
null_close(struct sl_port *port)
{
	free(port->priv);
}

static int
null_link_get(struct sl_port *port, struct sl_port_link *link)
{
	(void)port;
	*link = (struct sl_port_link){.up = true, .full_duplex = true};
	return 0;
}

static int
null_mac_get(struct sl_port *port, uint8_t mac[6])
{
	static const uint8_t null_mac[6] = {0x02, 0, 0, 0, 0, 0};

	(void)port;
	memcpy(mac, null_mac, 6);
	return 0;
}

static int
null_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	*mtu = ((struct null_port *)port->priv)->mtu;
	return 0;
}

static int
null_mtu_set(struct sl_port *port, uint16_t mtu)
{
	if (mtu < 68)
		return -EINVAL;
	((struct null_port *)port->priv)->mtu = mtu;
	return 0;
}

static int
null_promisc_set(struct sl_port *port, bool on)
{
	((struct null_port *)port->priv)->promisc = on;
	return 0;
}

static int
null_promisc_get(struct sl_port *port)
{
	return ((struct null_port *)port->priv)->promisc;
}

static const char *const null_keys[] = {"pkt_size", "mtu", NULL};

static const struct sl_pktdev_ops null_ops = {
	.name = "net_null",
	.desc = "no device: RX gives nothing or pkt_size=N packets, TX frees",
	.keys = null_keys,
	.open = null_open,
	.close = null_close,
	.link_get = null_link_get,
	.mac_get = null_mac_get,
	.mtu_get = null_mtu_get,
	.mtu_set = null_mtu_set,
	.promisc_set = null_promisc_set,
	.promisc_get = null_promisc_get,
};

SL_PKTDEV_REGISTER(null_ops)
