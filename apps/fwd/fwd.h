/*
 * sluice-fwd: shared definitions of the forwarder's files.
 *   fwd.c       command line, configuration, live statistics
 *   fwd_modes.c the per-thread loops of each mode
 *   fwd_l3.c    l3fwd rules: parsing and the FIBs
 */
#ifndef FWD_H
#define FWD_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/sl_app.h>
#include <sluice/sl_common.h>
#include <sluice/sl_config.h>
#include <sluice/sl_fib.h>

#define FWD_BURST_MAX 256
#define FWD_TX_SIZE_MIN 60
#define FWD_TX_SIZE_MAX 1500

enum fwd_mode {
	FWD_DROP,
	FWD_RX_ONLY,
	FWD_TX_ONLY,
	FWD_LOOPBACK,
	FWD_L2,
	FWD_L3,
	FWD_MODE_MAX
};

/* Why a packet was dropped by the app (the backends count their own). */
enum fwd_drop {
	FWD_DROP_MODE,	   /* the mode drops (drop, rx-only, tx-only) */
	FWD_DROP_TX_FULL,  /* the output lport took fewer than offered */
	FWD_DROP_NO_ROUTE, /* l3fwd: no rule covers the destination */
	FWD_DROP_NOT_IP,   /* l3fwd: neither IPv4 nor IPv6 */
	FWD_DROP_BAD_IP,   /* l3fwd: truncated or malformed IP header */
	FWD_DROP_TTL,	   /* l3fwd: TTL / hop limit would reach 0 */
	FWD_DROP_NOMBUF,   /* tx-only: the pool was empty */
	FWD_DROP_MAX
};

extern const char *const fwd_mode_names[FWD_MODE_MAX];
extern const char *const fwd_drop_names[FWD_DROP_MAX];

/* Counters of one lport: the RX half is written by the thread receiving
 * on it, the TX half by the one thread sending on it. */
struct fwd_ctr {
	struct {
		uint64_t pkts, bytes;
		uint64_t drops[FWD_DROP_MAX];
	} rx __sl_cache_aligned;
	struct {
		uint64_t pkts, bytes;
		uint64_t drops[FWD_DROP_MAX];
	} tx __sl_cache_aligned;
};

/* An l3fwd next hop: where and to whom. */
struct fwd_nh {
	uint8_t dst_mac[6];
	uint8_t src_mac[6]; /* the output lport's */
	uint32_t port;	    /* lport index */
};

struct fwd {
	const struct sl_config *conf;
	struct sl_app *app;
	enum fwd_mode mode;   /* options.mode: threads of type "fwd" */
	enum fwd_mode *tmode; /* per thread: its type's mode or mode */
	unsigned burst;
	unsigned tx_size;
	bool json;
	double interval;
	uint32_t nports;
	uint32_t *peer; /* per lport: where fwd mode sends, or UINT32_MAX */
	struct fwd_ctr *ctr; /* per lport */
	/* l3fwd */
	struct sl_fib4 *fib4;
	struct sl_fib6 *fib6;
	struct fwd_nh *nh; /* index = next hop id - 1 */
	uint32_t nnh;
	uint32_t nrules;
	/* tx-only: the frame sent */
	uint8_t tx_frame[FWD_TX_SIZE_MAX];
	/* statistics between ticks */
	struct fwd_snap *prev;
	uint64_t *prev_cpu;
	double prev_t;
};

/* The thread body of every mode (fwd_modes.c). */
int fwd_thread(struct sl_app_thread *t);

/* Build tx_frame for lport 0's MAC (fwd_modes.c). */
void fwd_tx_frame_build(struct fwd *f, const uint8_t src_mac[6]);

/* Parse options.l3fwd-fib-rules into the FIBs (fwd_l3.c); logs and
 * returns -EINVAL on a bad rule, or when needed and there is none. */
int fwd_l3_setup(struct fwd *f, bool needed);
void fwd_l3_free(struct fwd *f);
/* Print the rules as parsed (for --check). */
void fwd_l3_print(const struct fwd *f);

#endif /* FWD_H */
