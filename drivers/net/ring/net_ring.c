/*
 * net_ring: an lport over a pair of sluice rings, for loopback tests and
 * for pipelines between threads.
 *   - alone, it creates its own RX and TX rings;
 *   - peer=<lport> connects it back to back with an open net_ring lport:
 *     what one sends, the other receives;
 *   - loopback=yes makes it receive what it sends.
 * Options: size=N (ring slots, a power of 2, default 1024), peer=,
 * loopback=, count_bytes=yes|no (default no: like a pipe between threads,
 * the lport never reads the mbufs it passes, so ibytes/obytes stay 0;
 * counting them reads every mbuf and costs about 2 cycles a packet). Each ring
 * is single-producer single-consumer, as each direction of an lport is driven
 * by one thread.
 */
#define SL_LOG_MODULE "net_ring"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "sluice/sl_ring.h"
#include "sl_pktdev_driver.h"

/* A ring shared by the lports using it, freed with the last of them. */
struct shared_ring {
	struct sl_ring *ring;
	unsigned users;
};

struct ring_port {
	struct sl_port *port;
	struct shared_ring *rx;
	struct shared_ring *tx;
	uint16_t mtu;
	bool peered;
};

/* Without count_bytes: packets only (the shim counts them), no mbuf read. */
static uint16_t
ring_rx(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = q;

	return (uint16_t)sl_ring_dequeue_burst(rp->rx->ring, (void **)pkts, n,
					       NULL);
}

static uint16_t
ring_tx(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = q;

	return (uint16_t)sl_ring_enqueue_burst(rp->tx->ring, (void **)pkts, n,
					       NULL);
}

/* With count_bytes=yes: also bytes, at the cost of reading every mbuf. */
static uint16_t
ring_rx_bytes(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = q;
	uint64_t bytes = 0;
	uint16_t nb, i;

	nb = ring_rx(q, pkts, n);
	for (i = 0; i < nb; i++)
		bytes += pkts[i]->pkt_len;
	rp->port->rx.bytes += bytes;
	return nb;
}

static uint16_t
ring_tx_bytes(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	struct ring_port *rp = q;
	uint64_t bytes = 0;
	uint16_t nb, i;

	nb = ring_tx(q, pkts, n);
	for (i = 0; i < nb; i++)
		bytes += pkts[i]->pkt_len;
	rp->port->tx.bytes += bytes;
	return nb;
}

static struct shared_ring *
shared_ring_new(const char *port, const char *dir, uint32_t size)
{
	struct shared_ring *sr;
	char name[64];

	sr = calloc(1, sizeof(*sr));
	if (sr == NULL)
		return NULL;
	snprintf(name, sizeof(name), "%s-%s", port, dir);
	sr->ring =
		sl_ring_create(name, size, SL_RING_F_SP_ENQ | SL_RING_F_SC_DEQ);
	if (sr->ring == NULL) {
		free(sr);
		return NULL;
	}
	sr->users = 1;
	return sr;
}

static void
shared_ring_put(struct shared_ring *sr)
{
	struct sl_mbuf *m;

	if (sr == NULL || --sr->users > 0)
		return;
	/* packets still in flight go back to their pools */
	while (sl_ring_dequeue(sr->ring, (void **)&m) == 0)
		sl_mbuf_free(m);
	sl_ring_free(sr->ring);
	free(sr);
}

static int
ring_open_peer(struct sl_port *port, struct ring_port *rp, const char *peer)
{
	struct sl_port *other = NULL;
	struct ring_port *orp;

	other = pktdev_lookup_locked(peer);
	if (other == NULL ||
	    strcmp(sl_pktdev_backend(other), "net_ring") != 0) {
		SL_ERR("%s: option 'peer': '%s' is not an open net_ring lport",
		       port->name, peer);
		return -EINVAL;
	}
	orp = other->priv;
	if (orp->peered || orp->rx == orp->tx) {
		SL_ERR("%s: option 'peer': '%s' is already connected",
		       port->name, peer);
		return -EBUSY;
	}
	rp->rx = orp->tx;
	rp->tx = orp->rx;
	rp->rx->users++;
	rp->tx->users++;
	rp->peered = true;
	orp->peered = true;
	return 0;
}

static int
ring_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	  const struct sl_kvargs *kv)
{
	const char *peer = sl_kvargs_str(kv, "peer", NULL);
	struct ring_port *rp;
	uint64_t size;
	bool loop, count_bytes;
	int err;

	err = sl_kvargs_u64(kv, "size", cfg->rx_desc ? cfg->rx_desc : 1024, 2,
			    1u << 20, &size);
	if (err < 0)
		return err;
	if (!sl_is_pow2(size)) {
		SL_ERR("%s: option 'size': %llu is not a power of 2", cfg->name,
		       (unsigned long long)size);
		return -EINVAL;
	}
	err = sl_kvargs_bool(kv, "loopback", false, &loop);
	if (err < 0)
		return err;
	err = sl_kvargs_bool(kv, "count_bytes", false, &count_bytes);
	if (err < 0)
		return err;
	if (loop && peer != NULL) {
		SL_ERR("%s: options 'loopback' and 'peer' exclude each other",
		       cfg->name);
		return -EINVAL;
	}
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return -ENOMEM;
	rp->port = port;
	rp->mtu = 1500;
	if (peer != NULL) {
		err = ring_open_peer(port, rp, peer);
		if (err < 0)
			goto free_rp;
	} else {
		rp->rx = shared_ring_new(cfg->name, "rx", (uint32_t)size);
		if (rp->rx == NULL) {
			err = -errno;
			goto free_rp;
		}
		if (loop) {
			rp->tx = rp->rx;
			rp->rx->users++;
		} else {
			rp->tx = shared_ring_new(cfg->name, "tx",
						 (uint32_t)size);
			if (rp->tx == NULL) {
				err = -errno;
				shared_ring_put(rp->rx);
				goto free_rp;
			}
		}
	}
	port->priv = rp;
	port->rxq = rp;
	port->txq = rp;
	port->rx_burst = count_bytes ? ring_rx_bytes : ring_rx;
	port->tx_burst = count_bytes ? ring_tx_bytes : ring_tx;
	port->caps = SL_PORT_CAP_ZERO_COPY | SL_PORT_CAP_MULTI_BUFFER |
		     SL_PORT_CAP_MTU_SET;
	return 0;
free_rp:
	free(rp);
	return err;
}

static void
ring_close(struct sl_port *port)
{
	struct ring_port *rp = port->priv;

	shared_ring_put(rp->rx);
	shared_ring_put(rp->tx);
	free(rp);
}

static int
ring_link_get(struct sl_port *port, struct sl_port_link *link)
{
	(void)port;
	*link = (struct sl_port_link){.up = true, .full_duplex = true};
	return 0;
}

static int
ring_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	*mtu = ((struct ring_port *)port->priv)->mtu;
	return 0;
}

static int
ring_mtu_set(struct sl_port *port, uint16_t mtu)
{
	if (mtu < 68)
		return -EINVAL;
	((struct ring_port *)port->priv)->mtu = mtu;
	return 0;
}

static const char *const ring_keys[] = {"size", "peer", "loopback",
					"count_bytes", NULL};

static const struct sl_pktdev_ops ring_ops = {
	.name = "net_ring",
	.desc = "an lport over a pair of rings: peer=<lport> connects two, "
		"loopback=yes receives what it sends",
	.keys = ring_keys,
	.open = ring_open,
	.close = ring_close,
	.link_get = ring_link_get,
	.mtu_get = ring_mtu_get,
	.mtu_set = ring_mtu_set,
};

SL_PKTDEV_REGISTER(ring_ops)
