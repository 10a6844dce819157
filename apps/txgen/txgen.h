/*
 * sluice-txgen: traffic generator over pktdev (any backend) or the XDP
 * live-frames engine, with a receiver that counts its own frames back,
 * measures loss, order and latency. Shared between the files of the app:
 * txgen_opts.c (settings from the file and the command line), txgen_run.c
 * (the threads), txgen_stats.c (live statistics and the summary) and
 * txgen_main.c.
 */
#ifndef TXGEN_H
#define TXGEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sluice/sl_app.h>
#include <sluice/sl_config.h>
#include <sluice/sl_mbuf.h>
#include <sluice/sl_pktdev.h>

#include "txgen_hist.h"
#include "txgen_pkt.h"

#define TXGEN_NAME "sluice-txgen"
/** Largest TX burst. */
#define TXGEN_BURST_MAX 256
/** RX burst. */
#define TXGEN_RX_BURST 64
/** How long receivers wait for frames in flight after TX stopped. */
#define TXGEN_DRAIN_NS (200 * 1000 * 1000ull)
/** Interface name size (IFNAMSIZ). */
#define TXGEN_IFNAMSIZ 16

enum txgen_engine {
	TXGEN_ENGINE_PKTDEV = 0,
	TXGEN_ENGINE_XDP,
};

/** The traffic settings: defaults, then options{} of the file, then the
 *  command line (txgen_opts.c). */
struct txgen_opts {
	struct txgen_pkt_cfg pkt;
	bool family_set, size_set, src_mac_set, src_ip_set, dst_ip_set;
	int src_ip_family, dst_ip_family; /* of the addresses as written */
	uint64_t rate;	 /* pps of all threads together; 0: unpaced */
	double duration; /* seconds; 0: no limit */
	bool duration_set;
	uint64_t count;	 /* packets of all threads together; 0: none */
	uint32_t burst;	 /* packets per TX burst */
	double interval; /* seconds between live statistics; 0: none */
	double max_loss; /* percent; < 0: not checked */
	bool json;
	enum txgen_engine engine;
	char xdp_ifname[TXGEN_IFNAMSIZ];
	/* lport names as given; n == 0: the default (every lport) */
	char tx_names[SL_PORT_MAX][SL_PORT_NAMESIZE];
	unsigned ntx_names;
	char rx_names[SL_PORT_MAX][SL_PORT_NAMESIZE];
	unsigned nrx_names;
	bool rx_none; /* rx-lports "none": nothing is received */
	/* resolved by txgen_opts_finish(), indexed by config lport */
	bool is_tx[SL_PORT_MAX];
	bool is_rx[SL_PORT_MAX];
	uint32_t max_size; /* data room of the TX lports' pools */
};

/** Counters of one lport of one thread; single writer (the thread). */
struct txgen_port_stats {
	uint64_t tx_pkts;  /* accepted by the lport */
	uint64_t tx_bytes; /* their frame bytes */
	uint64_t tx_full;  /* offered, not accepted: freed */
	uint64_t no_mbuf;  /* TX bursts not built: the pool was empty */
	uint64_t rx_pkts;  /* every frame received */
	uint64_t rx_bytes;
	uint64_t rx_own;     /* frames of txgen (stamp found) */
	uint64_t rx_foreign; /* other frames */
} __sl_cache_aligned;

struct txgen_txq {
	struct sl_port *port;
	struct sl_mempool *pool;
	struct txgen_port_stats *st;
	uint32_t seq;
	uint8_t stream;
	bool patch_mac; /* write mac as the source of every frame */
	uint8_t mac[6];
};

struct txgen_rxq {
	struct sl_port *port;
	struct txgen_port_stats *st;
};

struct txgen;
struct sl_xdpgen;

/** One txgen thread (t->priv). */
struct txgen_thread {
	struct txgen *tg;
	struct sl_app_thread *t;
	uint32_t ntx, nrx;
	struct txgen_txq tx[SL_CONFIG_THREAD_PORTS];
	struct txgen_rxq rx[SL_CONFIG_THREAD_PORTS];
	uint32_t lport[SL_CONFIG_THREAD_PORTS]; /* config index of st[k] */
	struct txgen_port_stats st[SL_CONFIG_THREAD_PORTS];
	/* TX */
	bool sender;	    /* has a share of the traffic to send */
	bool xdp_owner;	    /* starts the XDP engine's thread */
	uint64_t rate;	    /* this thread's share; 0: unpaced */
	uint64_t limit;	    /* this thread's share of count; 0: none */
	uint64_t remaining; /* of limit */
	uint64_t credit;    /* token bucket, in packets x TSC Hz */
	uint64_t depth;	    /* bucket size, same unit */
	uint64_t batch;	    /* credit needed before a burst, same unit */
	uint64_t last_tsc;
	uint32_t flow;
	uint32_t txi;
	uint64_t tx_start_ns, tx_end_ns;
	/* RX: order per stream */
	uint64_t out_of_order;
	struct txgen_order order;
	struct txgen_hist hist;
	uint64_t cpu_prev; /* main thread: CPU ns at the last tick */
};

/** The whole generator. */
struct txgen {
	struct txgen_opts o;
	struct sl_config *cfg;
	struct sl_app *app;
	struct txgen_tmpl tmpl;
	uint32_t nthreads;
	struct txgen_thread **threads;
	uint64_t hz;
	/* senders still sending (threads, and the XDP engine) */
	int senders;
	uint64_t tx_end_ns; /* the last sender's end (atomic max) */
	bool finished;	    /* the run ended by itself (not a signal) */
	/* XDP engine */
	struct sl_xdpgen *xdp;
	pthread_t xdp_tid;
	bool xdp_started;
	int xdp_err;
	uint64_t xdp_sent, xdp_bytes; /* final, once xdp_done */
	int xdp_done;
	uint64_t xdp_start_ns;
	/* live statistics (main thread) */
	uint64_t t0_ns, last_ns;
	struct txgen_port_stats prev[SL_PORT_MAX];
	uint64_t xdp_prev_sent, xdp_prev_bytes;
	uint32_t ticks;
};

/* txgen_opts.c */
void txgen_opts_init(struct txgen_opts *o);
int txgen_opt_set(struct txgen_opts *o, const char *key, const char *val,
		  char *err, size_t errlen);
int txgen_opts_from_config(struct txgen_opts *o, const struct sl_config *cfg);
int txgen_opts_finish(struct txgen_opts *o, const struct sl_config *cfg);
void txgen_opts_print(const struct txgen_opts *o, const struct sl_config *cfg,
		      FILE *out);
const char *txgen_engine_name(enum txgen_engine e);
extern const char *const txgen_option_keys[];

/* txgen_run.c */
int txgen_thread_fn(struct sl_app_thread *t);
int txgen_threads_setup(struct txgen *tg);
int txgen_xdp_start(struct txgen *tg);
void txgen_xdp_stop(struct txgen *tg);

/* txgen_stats.c */
void txgen_tick(struct sl_app *app, void *arg);
void txgen_banner(struct txgen *tg);
int txgen_summary(struct txgen *tg, unsigned in_use_start, unsigned in_use_end);
void txgen_port_sum(const struct txgen *tg, uint32_t lport,
		    struct txgen_port_stats *out);

#endif /* TXGEN_H */
