/*
 * The interface between pktdev and its backends (not installed). A backend
 * lives in drivers/net/<name>/, fills one struct sl_pktdev_ops and
 * registers it from a constructor with SL_PKTDEV_REGISTER().
 */
#ifndef SL_PKTDEV_DRIVER_H
#define SL_PKTDEV_DRIVER_H

#include "sluice/sl_pktdev.h"

/* Options of an lport, parsed from "key=value,key=value". */
struct sl_kvargs;

struct sl_pktdev_ops {
	const char *name; /* "net_ring" */
	const char *desc; /* one line for sl_pktdev_backend_list() */
	/* Option keys the backend accepts, NULL-terminated. Any other key
	 * fails the open before open() runs, naming the key. */
	const char *const *keys;
	/* Required. Set port->rx_burst/rxq/tx_burst/txq, port->priv and
	 * port->caps; return 0 or -errno after logging what failed. */
	int (*open)(struct sl_port *port, const struct sl_port_cfg *cfg,
		    const struct sl_kvargs *kv);
	/* Required. Release everything open() took. */
	void (*close)(struct sl_port *port);
	/* Optional: called by sl_pktdev_start()/stop(). */
	int (*start)(struct sl_port *port);
	int (*stop)(struct sl_port *port);
	/* Optional: add backend-known counters (ierrors, imissed, ...) to st,
	 * which already holds the software counters. */
	int (*stats_get)(struct sl_port *port, struct sl_port_stats *st);
	void (*stats_reset)(struct sl_port *port);
	int (*xstats_get)(struct sl_port *port, struct sl_port_xstat *xs,
			  unsigned n);
	/* Optional: -ENOTSUP when missing. */
	int (*link_get)(struct sl_port *port, struct sl_port_link *link);
	int (*mac_get)(struct sl_port *port, uint8_t mac[6]);
	int (*mtu_get)(struct sl_port *port, uint16_t *mtu);
	int (*mtu_set)(struct sl_port *port, uint16_t mtu);
	int (*promisc_set)(struct sl_port *port, bool on);
	int (*promisc_get)(struct sl_port *port);
	int (*rx_fd)(struct sl_port *port);
};

/* 0, -EINVAL (name, open, close, rx_burst set by open: checked at open),
 * -EEXIST (name taken) or -ENOSPC. */
SL_API int sl_pktdev_register(const struct sl_pktdev_ops *ops);

#define SL_PKTDEV_REGISTER(ops)                                                \
	SL_INIT(sl_pktdev_init_##ops)                                          \
	{                                                                      \
		(void)sl_pktdev_register(&(ops));                              \
	}

/* Lookup for use inside an open() callback, which runs with the lport
 * table locked. NULL when no open lport has that name. */
struct sl_port *pktdev_lookup_locked(const char *name);

/* Fill xs[0..n-1] from count parallel names and values; return count, as
 * an xstats_get op does. */
int pktdev_xstats_fill(struct sl_port_xstat *xs, unsigned n,
		       const char *const *names, const uint64_t *values,
		       unsigned count);

/* Burst function of a direction a backend does not support. */
uint16_t pktdev_burst_none(void *queue, struct sl_mbuf **pkts, uint16_t n);

/* ---- options ------------------------------------------------------------ */

/* Parse "k=v,k=v" keeping only keys in valid (NULL-terminated). Logs and
 * returns NULL with errno EINVAL for an unknown key (listing the valid
 * ones), a key without '=' or a duplicate key; port names the lport in
 * the messages. An empty or NULL string gives an empty list. */
struct sl_kvargs *sl_kvargs_parse(const char *port, const char *s,
				  const char *const *valid);
void sl_kvargs_free(struct sl_kvargs *kv);

/* The value of key, or def when absent. */
const char *sl_kvargs_str(const struct sl_kvargs *kv, const char *key,
			  const char *def);

/* Integer value (decimal, 0x hex) of key within [min, max], or def when
 * absent. 0 or -EINVAL after logging "<port>: option '<key>': '<value>'
 * is not a number between <min> and <max>". */
int sl_kvargs_u64(const struct sl_kvargs *kv, const char *key, uint64_t def,
		  uint64_t min, uint64_t max, uint64_t *out);

/* Boolean value (1/0, yes/no, true/false, on/off) or def. 0 or -EINVAL
 * after logging. */
int sl_kvargs_bool(const struct sl_kvargs *kv, const char *key, bool def,
		   bool *out);

/* One of choices (NULL-terminated): its index, or the index of def when
 * absent; -EINVAL after logging the choices. */
int sl_kvargs_choice(const struct sl_kvargs *kv, const char *key,
		     const char *def, const char *const *choices);

/* The lport name used in messages. */
const char *sl_kvargs_port(const struct sl_kvargs *kv);

#endif /* SL_PKTDEV_DRIVER_H */
