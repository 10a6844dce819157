/*
 * net_memif: lports over shared-memory packet interfaces (memif 2.0),
 * interoperable with DPDK's net_memif, libmemif and VPP in copy mode.
 *
 * An interface is identified by its socket (path, abstract or not), its id
 * and the role of this side; lports naming the same interface share one
 * memif connection and each is one of its queue pairs (cfg->qid, below
 * queues=N). The client side creates the shared memory; either side may
 * be sluice. The control channel runs on the backend's control thread
 * (memif_ctl.c); the bursts (memif_rxtx.c) are lock-free.
 *
 * Options (docs/backends.md has the full table):
 *   role=server|client, socket=PATH, socket_abstract=yes|no, id=N,
 *   secret=S, queues=N, rsize=LOG2, bsize=BYTES, mode=poll|interrupt.
 */
#define SL_LOG_MODULE "net_memif"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "sl_pktdev_driver.h"
#include "memif_private.h"

struct memif_port {
	struct memif_if *ifc;
	uint16_t qid;
	bool interrupt;
};

static int
memif_parse(const struct sl_port_cfg *cfg, const struct sl_kvargs *kv,
	    struct memif_if_cfg *ic)
{
	static const char *const roles[] = {"server", "client", NULL};
	static const char *const modes[] = {"poll", "interrupt", NULL};
	uint64_t id, queues, rsize, bsize, size;
	const char *path, *secret;
	int role, mode, err;

	memset(ic, 0, sizeof(*ic));
	role = sl_kvargs_choice(kv, "role", "server", roles);
	if (role < 0)
		return role;
	ic->role = role == 0 ? MEMIF_ROLE_SERVER : MEMIF_ROLE_CLIENT;
	path = sl_kvargs_str(kv, "socket", MEMIF_DEFAULT_SOCKET);
	if (path[0] == '\0' || strlen(path) > MEMIF_SOCKET_PATH_MAX) {
		SL_ERR("%s: option 'socket': '%s' must have 1 to %zu "
		       "characters",
		       cfg->name, path, MEMIF_SOCKET_PATH_MAX);
		return -EINVAL;
	}
	snprintf(ic->path, sizeof(ic->path), "%s", path);
	err = sl_kvargs_bool(kv, "socket_abstract", true, &ic->abstract);
	if (err < 0)
		return err;
	err = sl_kvargs_u64(kv, "id", 0, 0, UINT32_MAX, &id);
	if (err < 0)
		return err;
	ic->p.id = (uint32_t)id;
	secret = sl_kvargs_str(kv, "secret", "");
	if (strlen(secret) >= MEMIF_SECRET_LEN) {
		SL_ERR("%s: option 'secret': longer than %d characters",
		       cfg->name, MEMIF_SECRET_LEN - 1);
		return -EINVAL;
	}
	snprintf(ic->p.secret, sizeof(ic->p.secret), "%s", secret);
	err = sl_kvargs_u64(kv, "queues", 1, 1, MEMIF_MAX_RINGS, &queues);
	if (err < 0)
		return err;
	ic->p.queues = (uint16_t)queues;
	err = sl_kvargs_u64(kv, "rsize", 10, 1, MEMIF_MAX_LOG2_RING, &rsize);
	if (err < 0)
		return err;
	ic->p.log2_ring = (uint8_t)rsize;
	err = sl_kvargs_u64(kv, "bsize", 2048, 64, 65535, &bsize);
	if (err < 0)
		return err;
	ic->p.bsize = (uint32_t)bsize;
	mode = sl_kvargs_choice(kv, "mode", "poll", modes);
	if (mode < 0)
		return mode;
	ic->p.interrupt = mode == 1;
	snprintf(ic->p.name, sizeof(ic->p.name), "%s", cfg->name);
	if (cfg->qid >= queues) {
		SL_ERR("%s: qid %u is not below option 'queues' (%llu)",
		       cfg->name, cfg->qid, (unsigned long long)queues);
		return -EINVAL;
	}
	/* the client's one region must stay addressable by 32-bit offsets */
	size = 2 * queues *
	       (memif_ring_size((unsigned)rsize) +
		(memif_buf_stride((uint32_t)bsize) << rsize));
	if (ic->role == MEMIF_ROLE_CLIENT && size > MEMIF_MAX_REGION_SIZE) {
		SL_ERR("%s: options 'queues', 'rsize', 'bsize': %llu queue "
		       "pairs of 2^%llu buffers of %llu bytes exceed the 4 GiB "
		       "that a memif region can address",
		       cfg->name, (unsigned long long)queues,
		       (unsigned long long)rsize, (unsigned long long)bsize);
		return -EINVAL;
	}
	if (cfg->pool == NULL) {
		SL_ERR("%s: net_memif needs a pool to receive into "
		       "(cfg.pool)",
		       cfg->name);
		return -EINVAL;
	}
	return 0;
}

static int
memif_open(struct sl_port *port, const struct sl_port_cfg *cfg,
	   const struct sl_kvargs *kv)
{
	struct memif_if_cfg ic;
	struct memif_port *mp;
	bool client;
	int err;

	err = memif_parse(cfg, kv, &ic);
	if (err < 0)
		return err;
	mp = calloc(1, sizeof(*mp));
	if (mp == NULL)
		return -ENOMEM;
	mp->qid = cfg->qid;
	mp->interrupt = ic.p.interrupt;
	err = memif_if_attach(&ic, cfg->name, cfg->qid, port, &mp->ifc);
	if (err < 0) {
		free(mp);
		return err;
	}
	client = ic.role == MEMIF_ROLE_CLIENT;
	port->priv = mp;
	port->rxq = &mp->ifc->rxq[mp->qid];
	port->txq = &mp->ifc->txq[mp->qid];
	if (memif_fenced) {
		port->rx_burst = client ? memif_rx_client_fenced
					: memif_rx_server_fenced;
		port->tx_burst = client ? memif_tx_client_fenced
					: memif_tx_server_fenced;
	} else {
		port->rx_burst = client ? memif_rx_client : memif_rx_server;
		port->tx_burst = client ? memif_tx_client : memif_tx_server;
	}
	port->caps = SL_PORT_CAP_MULTI_QUEUE | SL_PORT_CAP_MULTI_BUFFER;
	if (ic.p.interrupt)
		port->caps |= SL_PORT_CAP_RX_INTR;
	return 0;
}

static void
memif_close(struct sl_port *port)
{
	struct memif_port *mp = port->priv;

	memif_if_detach(mp->ifc, mp->qid);
	free(mp);
}

static int
memif_link_get(struct sl_port *port, struct sl_port_link *link)
{
	struct memif_port *mp = port->priv;

	*link = (struct sl_port_link){
		.up = memif_if_link(mp->ifc, mp->qid),
		.full_duplex = true,
	};
	return 0;
}

static int
memif_rx_fd(struct sl_port *port)
{
	struct memif_port *mp = port->priv;

	if (!mp->interrupt)
		return -ENOTSUP;
	return mp->ifc->rxq[mp->qid].efd;
}

struct memif_xval {
	const char *name;
	uint64_t value;
};

static int
memif_xstats_get(struct sl_port *port, struct sl_port_xstat *xs, unsigned n)
{
	struct memif_port *mp = port->priv;
	const struct memif_queue *rx = &mp->ifc->rxq[mp->qid];
	const struct memif_queue *tx = &mp->ifc->txq[mp->qid];
	uint64_t connects, disconnects, bad_msgs, connect_fails;
	unsigned i;

	memif_if_counters(mp->ifc, &connects, &disconnects, &bad_msgs,
			  &connect_fails);
	const struct memif_xval vals[] = {
		{"rx_bad_desc", rx->bad_desc},
		{"rx_chained", rx->chained},
		{"rx_ring_faults", rx->faults},
		{"tx_bad_desc", tx->bad_desc},
		{"tx_chained", tx->chained},
		{"tx_ring_full", tx->ring_full},
		{"tx_kicks", tx->kicks},
		{"tx_ring_faults", tx->faults},
		{"connects", connects},
		{"disconnects", disconnects},
		{"bad_msgs", bad_msgs},
		{"connect_fails", connect_fails},
	};

	for (i = 0; i < SL_DIM(vals) && i < n; i++) {
		snprintf(xs[i].name, sizeof(xs[i].name), "%s", vals[i].name);
		xs[i].value = vals[i].value;
	}
	return (int)SL_DIM(vals);
}

static void
memif_stats_reset(struct sl_port *port)
{
	struct memif_port *mp = port->priv;
	struct memif_queue *rx = &mp->ifc->rxq[mp->qid];
	struct memif_queue *tx = &mp->ifc->txq[mp->qid];

	rx->bad_desc = rx->chained = rx->ring_full = rx->kicks = 0;
	rx->faults = 0;
	tx->bad_desc = tx->chained = tx->ring_full = tx->kicks = 0;
	tx->faults = 0;
}

static const char *const memif_keys[] = {
	"role",	  "socket", "socket_abstract", "id",   "secret",
	"queues", "rsize",  "bsize",	       "mode", NULL,
};

static const struct sl_pktdev_ops memif_ops = {
	.name = "net_memif",
	.desc = "shared-memory interface (memif 2.0, DPDK/VPP compatible): "
		"role=server|client, socket=PATH, id=N, queues=N",
	.keys = memif_keys,
	.open = memif_open,
	.close = memif_close,
	.stats_reset = memif_stats_reset,
	.xstats_get = memif_xstats_get,
	.link_get = memif_link_get,
	.rx_fd = memif_rx_fd,
};

SL_PKTDEV_REGISTER(memif_ops)
