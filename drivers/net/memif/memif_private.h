/*
 * net_memif internals shared by the pktdev glue (net_memif.c), the data
 * path (memif_rxtx.c) and the control thread (memif_ctl.c).
 *
 * Objects:
 *   - interface (struct memif_if): one memif link, identified by socket
 *     (path, abstract or not), id and role. Holds the queue pairs; each
 *     lport of the interface is one queue pair (cfg->qid).
 *   - listener: a listening socket shared by the server interfaces of one
 *     socket address (they differ by id).
 *   - sock: one control connection (accepted or connecting) with its
 *     handshake state (struct memif_conn).
 *
 * Concurrency: every control-plane object is guarded by one mutex, taken
 * by the control thread and by API calls. The data path takes no lock:
 * each queue has a live flag (set by the control plane once the rings are
 * ready, cleared before they go away) and a busy flag (set by the data
 * path for the duration of a burst). Before unmapping, the control plane
 * clears live and waits until busy is clear; the store-load ordering this
 * needs is given by membarrier(2) on the control side (then the data path
 * needs no fence at all) or, where membarrier is not available, by a full
 * fence on each burst (memif_fenced).
 */
#ifndef MEMIF_PRIVATE_H
#define MEMIF_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_pktdev.h"
#include "memif_conn.h"
#include "memif_proto.h"

#define MEMIF_DEFAULT_SOCKET "/run/memif.sock"
#define MEMIF_SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Why the data path gave up on a ring (queue fault field). */
enum memif_fault {
	MEMIF_FAULT_NONE = 0,
	MEMIF_FAULT_RING_INDEX, /* peer moved head/tail out of range */
	MEMIF_FAULT_DESC,	/* descriptor outside the shared memory */
	MEMIF_FAULT_CHAIN,	/* chained packet longer than the ring */
};

/* One direction of one queue pair. */
struct memif_queue {
	/* ---- hot: read on every burst ---- */
	uint32_t live; /* control -> data: rings below valid */
	uint32_t busy; /* data -> control: inside a burst */
	struct memif_ring *ring;
	const struct memif_region_map *regions;
	uint16_t nregions;
	uint16_t mask;		 /* ring slots - 1 */
	uint16_t last;		 /* RX: next slot to read; TX: next to fill */
	uint16_t head;		 /* client RX: slots handed to the server */
	uint16_t peer;		 /* the peer's index as last read (checked) */
	uint32_t bsize;		 /* client: bytes per buffer */
	int kick_fd;		 /* TX: the peer's eventfd, -1 for none */
	struct sl_mempool *pool; /* RX */
	struct sl_port *port;	 /* counters */
	uint32_t fault;		 /* enum memif_fault, data -> control */
	uint32_t fault_seen;	 /* what was wrong: the peer's index or the */
	uint32_t fault_mine;	 /* descriptor offset, and ours or its length */
	/* ---- counters: written by the data thread only ---- */
	uint64_t bad_desc;  /* descriptors outside the shared memory */
	uint64_t chained;   /* packets in more than one buffer */
	uint64_t ring_full; /* TX bursts stopped by a full ring */
	uint64_t kicks;	    /* eventfd writes to wake the peer */
	uint64_t faults;    /* bursts that found the ring corrupt */
	/* ---- control ---- */
	int efd;	       /* stable eventfd of the queue */
	struct memif_evh *fwd; /* server RX, interrupt mode: forwarder */
	bool audit_bad;	       /* the last audit found the indexes wrong */
	uint16_t audit_peer;   /* the peer's index it found */
} __sl_cache_aligned;

/* What an lport asks for; lports of one interface must agree. */
struct memif_if_cfg {
	enum memif_role role;
	bool abstract;
	char path[MEMIF_SOCKET_PATH_MAX + 1];
	struct memif_params p;
};

struct memif_listener;
struct memif_sock;
struct memif_evh;

struct memif_if {
	struct memif_if *next;
	struct memif_if_cfg cfg;
	struct memif_listener *lst; /* server: where clients connect */
	struct memif_queue *rxq;    /* cfg.p.queues of each */
	struct memif_queue *txq;
	char (*lport)[SL_PORT_NAMESIZE]; /* lport of each pair, "" if none */
	unsigned nports;
	struct memif_sock *sock; /* the connection bound to it, or NULL */
	bool up;		 /* CONNECTED */
	uint16_t n_rx, n_tx;	 /* rings in use while up */
	char peer[2 * MEMIF_NAME_LEN + 4];
	/* client: reconnection */
	uint64_t next_try_ms;
	bool retry_logged;
	/* counters (under the lock) */
	uint64_t connects;
	uint64_t disconnects;
	uint64_t bad_msgs;
	uint64_t connect_fails;
};

/* Set at the first interface: true when the data path must fence. */
extern bool memif_fenced;

/* ---- control (memif_ctl.c) ------------------------------------------ */

/*
 * Find the interface of cfg or create it (starting the control thread,
 * binding a server socket, starting a client's first connection) and
 * attach queue pair qid to the lport. Logs and returns -EINVAL when the
 * lport's options differ from the interface's or qid is taken, or the
 * -errno of the socket.
 */
int memif_if_attach(const struct memif_if_cfg *cfg, const char *lport,
		    uint16_t qid, struct sl_port *port, struct memif_if **out);

/* Detach queue pair qid; the last one destroys the interface. */
void memif_if_detach(struct memif_if *ifc, uint16_t qid);

/* Link of queue pair qid: up when connected and both its rings exist. */
bool memif_if_link(struct memif_if *ifc, uint16_t qid);

/* Control-plane counters of the interface (bad_msgs includes what its
 * listening socket refused before a peer named an interface). */
void memif_if_counters(struct memif_if *ifc, uint64_t *connects,
		       uint64_t *disconnects, uint64_t *bad_msgs,
		       uint64_t *connect_fails);

/* ---- data path (memif_rxtx.c) --------------------------------------- */

uint16_t memif_rx_client(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_rx_server(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_tx_client(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_tx_server(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_rx_client_fenced(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_rx_server_fenced(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_tx_client_fenced(void *q, struct sl_mbuf **pkts, uint16_t n);
uint16_t memif_tx_server_fenced(void *q, struct sl_mbuf **pkts, uint16_t n);

#endif /* MEMIF_PRIVATE_H */
