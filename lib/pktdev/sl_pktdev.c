/*
 * pktdev: the backend registry and the lport table. Control-plane calls
 * are serialised by one mutex; the burst shims in sl_pktdev.h touch none
 * of this.
 */
#define SL_LOG_MODULE "pktdev"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"
#include "sl_pktdev_driver.h"

#define BACKENDS_MAX 32

static struct {
	pthread_mutex_t lock;
	unsigned nb_backends;
	const struct sl_pktdev_ops *backends[BACKENDS_MAX];
	struct sl_port *ports[SL_PORT_MAX];
} pktdev = {.lock = PTHREAD_MUTEX_INITIALIZER};

uint16_t
pktdev_burst_none(void *queue, struct sl_mbuf **pkts, uint16_t n)
{
	(void)queue;
	(void)pkts;
	(void)n;
	return 0;
}

int
sl_pktdev_register(const struct sl_pktdev_ops *ops)
{
	unsigned i;
	int err = 0;

	if (ops == NULL || ops->name == NULL || ops->open == NULL ||
	    ops->close == NULL)
		return -EINVAL;
	pthread_mutex_lock(&pktdev.lock);
	for (i = 0; i < pktdev.nb_backends; i++)
		if (strcmp(pktdev.backends[i]->name, ops->name) == 0) {
			err = -EEXIST;
			goto unlock;
		}
	if (pktdev.nb_backends == BACKENDS_MAX) {
		err = -ENOSPC;
		goto unlock;
	}
	pktdev.backends[pktdev.nb_backends++] = ops;
unlock:
	pthread_mutex_unlock(&pktdev.lock);
	return err;
}

unsigned
sl_pktdev_backend_list(struct sl_pktdev_backend_info *out, unsigned n)
{
	unsigned i, count;

	pthread_mutex_lock(&pktdev.lock);
	count = pktdev.nb_backends;
	for (i = 0; out != NULL && i < n && i < count; i++) {
		out[i].name = pktdev.backends[i]->name;
		out[i].desc = pktdev.backends[i]->desc != NULL
				      ? pktdev.backends[i]->desc
				      : "";
	}
	pthread_mutex_unlock(&pktdev.lock);
	return count;
}

/* Caller holds the lock. */
static const struct sl_pktdev_ops *
backend_find(const char *name)
{
	char full[64];
	unsigned i;

	if (strncmp(name, "net_", 4) != 0) {
		snprintf(full, sizeof(full), "net_%s", name);
		name = full;
	}
	for (i = 0; i < pktdev.nb_backends; i++)
		if (strcmp(pktdev.backends[i]->name, name) == 0)
			return pktdev.backends[i];
	return NULL;
}

/* Caller holds the lock. */
static void
backend_names(char *out, size_t len)
{
	size_t off = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < pktdev.nb_backends && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i ? ", " : "",
					pktdev.backends[i]->name);
}

/* Caller holds the lock. */
static int
port_slot(const char *name)
{
	int i, free_slot = -ENOSPC;

	for (i = 0; i < SL_PORT_MAX; i++) {
		if (pktdev.ports[i] == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (strcmp(pktdev.ports[i]->name, name) == 0) {
			return -EEXIST;
		}
	}
	return free_slot;
}

static int
cfg_check(const struct sl_port_cfg *cfg)
{
	if (cfg == NULL) {
		SL_ERR("open: no configuration given");
		return -EINVAL;
	}
	if (cfg->name == NULL || cfg->name[0] == '\0' ||
	    strlen(cfg->name) >= SL_PORT_NAMESIZE) {
		SL_ERR("open: lport name '%s' must have 1 to %d characters",
		       cfg->name != NULL ? cfg->name : "(null)",
		       SL_PORT_NAMESIZE - 1);
		return -EINVAL;
	}
	if (cfg->backend == NULL || cfg->backend[0] == '\0') {
		SL_ERR("%s: no backend given", cfg->name);
		return -EINVAL;
	}
	return 0;
}

struct sl_port *
sl_pktdev_open(const struct sl_port_cfg *cfg)
{
	const struct sl_pktdev_ops *ops;
	struct sl_kvargs *kv = NULL;
	struct sl_port *port = NULL;
	char names[512];
	int err, slot;

	err = cfg_check(cfg);
	if (err < 0)
		goto fail;
	pthread_mutex_lock(&pktdev.lock);
	ops = backend_find(cfg->backend);
	if (ops == NULL) {
		backend_names(names, sizeof(names));
		SL_ERR("%s: unknown backend '%s' (available: %s)", cfg->name,
		       cfg->backend, names);
		err = -ENOENT;
		goto unlock;
	}
	slot = port_slot(cfg->name);
	if (slot < 0) {
		err = slot;
		SL_ERR("%s: %s", cfg->name,
		       err == -EEXIST ? "an lport of that name is open"
				      : "too many lports open");
		goto unlock;
	}
	kv = sl_kvargs_parse(cfg->name, cfg->options, ops->keys);
	if (kv == NULL) {
		err = -errno;
		goto unlock;
	}
	port = sl_zmalloc(sizeof(*port));
	if (port == NULL) {
		err = -ENOMEM;
		goto free_kv;
	}
	snprintf(port->name, sizeof(port->name), "%s", cfg->name);
	port->ops = ops;
	port->qid = cfg->qid;
	port->pool = cfg->pool;
	port->rx_burst = pktdev_burst_none;
	port->tx_burst = pktdev_burst_none;
	err = ops->open(port, cfg, kv);
	if (err < 0) {
		SL_ERR("%s: %s open failed: %s", cfg->name, ops->name,
		       sl_strerror(err));
		goto free_port;
	}
	pktdev.ports[slot] = port;
	pthread_mutex_unlock(&pktdev.lock);
	sl_kvargs_free(kv);
	SL_INFO("%s: opened on %s", port->name, ops->name);
	return port;
free_port:
	sl_free(port);
free_kv:
	sl_kvargs_free(kv);
unlock:
	pthread_mutex_unlock(&pktdev.lock);
fail:
	errno = -err;
	return NULL;
}

int
sl_pktdev_start(struct sl_port *port)
{
	int err;

	if (port == NULL)
		return -EINVAL;
	if (port->started)
		return -EALREADY;
	if (port->ops->start != NULL) {
		err = port->ops->start(port);
		if (err < 0) {
			SL_ERR("%s: start failed: %s", port->name,
			       sl_strerror(err));
			return err;
		}
	}
	port->started = true;
	return 0;
}

int
sl_pktdev_stop(struct sl_port *port)
{
	if (port == NULL)
		return -EINVAL;
	if (!port->started)
		return -EALREADY;
	port->started = false;
	if (port->ops->stop != NULL)
		return port->ops->stop(port);
	return 0;
}

void
sl_pktdev_close(struct sl_port *port)
{
	unsigned i;

	if (port == NULL)
		return;
	if (port->started)
		(void)sl_pktdev_stop(port);
	pthread_mutex_lock(&pktdev.lock);
	for (i = 0; i < SL_PORT_MAX; i++)
		if (pktdev.ports[i] == port)
			pktdev.ports[i] = NULL;
	pthread_mutex_unlock(&pktdev.lock);
	port->ops->close(port);
	SL_INFO("%s: closed", port->name);
	sl_free(port);
}

struct sl_port *
pktdev_lookup_locked(const char *name)
{
	unsigned i;

	for (i = 0; name != NULL && i < SL_PORT_MAX; i++)
		if (pktdev.ports[i] != NULL &&
		    strcmp(pktdev.ports[i]->name, name) == 0)
			return pktdev.ports[i];
	return NULL;
}

struct sl_port *
sl_pktdev_lookup(const char *name)
{
	struct sl_port *port;

	pthread_mutex_lock(&pktdev.lock);
	port = pktdev_lookup_locked(name);
	pthread_mutex_unlock(&pktdev.lock);
	if (port == NULL)
		errno = ENOENT;
	return port;
}

int
sl_pktdev_stats_get(struct sl_port *port, struct sl_port_stats *st)
{
	if (port == NULL || st == NULL)
		return -EINVAL;
	*st = (struct sl_port_stats){
		.ipackets = port->rx.packets,
		.ibytes = port->rx.bytes,
		.ierrors = port->rx.errors,
		.imissed = port->rx.missed,
		.rx_nombuf = port->rx.nombuf,
		.opackets = port->tx.packets,
		.obytes = port->tx.bytes,
		.oerrors = port->tx.errors,
	};
	if (port->ops->stats_get != NULL)
		return port->ops->stats_get(port, st);
	return 0;
}

int
sl_pktdev_stats_reset(struct sl_port *port)
{
	if (port == NULL)
		return -EINVAL;
	memset(&port->rx, 0, sizeof(port->rx));
	memset(&port->tx, 0, sizeof(port->tx));
	if (port->ops->stats_reset != NULL)
		port->ops->stats_reset(port);
	return 0;
}

int
pktdev_xstats_fill(struct sl_port_xstat *xs, unsigned n,
		   const char *const *names, const uint64_t *values,
		   unsigned count)
{
	unsigned i;

	for (i = 0; i < n && i < count; i++) {
		snprintf(xs[i].name, sizeof(xs[i].name), "%s", names[i]);
		xs[i].value = values[i];
	}
	return (int)count;
}

int
sl_pktdev_xstats_get(struct sl_port *port, struct sl_port_xstat *xs, unsigned n)
{
	if (port == NULL || (xs == NULL && n > 0))
		return -EINVAL;
	if (port->ops->xstats_get == NULL)
		return 0;
	return port->ops->xstats_get(port, xs, n);
}

#define PKTDEV_OPTIONAL(port, op, ...)                                         \
	((port) == NULL		   ? -EINVAL                                   \
	 : (port)->ops->op == NULL ? -ENOTSUP                                  \
				   : (port)->ops->op((port), __VA_ARGS__))

int
sl_pktdev_link_get(struct sl_port *port, struct sl_port_link *link)
{
	if (link == NULL)
		return -EINVAL;
	return PKTDEV_OPTIONAL(port, link_get, link);
}

int
sl_pktdev_mac_get(struct sl_port *port, uint8_t mac[6])
{
	if (mac == NULL)
		return -EINVAL;
	return PKTDEV_OPTIONAL(port, mac_get, mac);
}

int
sl_pktdev_mtu_get(struct sl_port *port, uint16_t *mtu)
{
	if (mtu == NULL)
		return -EINVAL;
	return PKTDEV_OPTIONAL(port, mtu_get, mtu);
}

int
sl_pktdev_mtu_set(struct sl_port *port, uint16_t mtu)
{
	return PKTDEV_OPTIONAL(port, mtu_set, mtu);
}

int
sl_pktdev_promisc_set(struct sl_port *port, bool on)
{
	return PKTDEV_OPTIONAL(port, promisc_set, on);
}

int
sl_pktdev_promisc_get(struct sl_port *port)
{
	if (port == NULL)
		return -EINVAL;
	if (port->ops->promisc_get == NULL)
		return -ENOTSUP;
	return port->ops->promisc_get(port);
}

int
sl_pktdev_rx_fd(struct sl_port *port)
{
	if (port == NULL)
		return -EINVAL;
	if (port->ops->rx_fd == NULL)
		return -ENOTSUP;
	return port->ops->rx_fd(port);
}

uint64_t
sl_pktdev_capabilities(const struct sl_port *port)
{
	return port != NULL ? port->caps : 0;
}

const char *
sl_pktdev_name(const struct sl_port *port)
{
	return port != NULL ? port->name : "";
}

const char *
sl_pktdev_backend(const struct sl_port *port)
{
	return port != NULL ? port->ops->name : "";
}
