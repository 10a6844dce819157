/*
 * One memif control connection, either role: the handshake state machine
 * and the shared memory it sets up (the client creates and maps its
 * region; the server maps and checks what the client sent). No socket
 * I/O: messages come in through memif_conn_input() and leave through
 * ops->send(), so the same code runs under the control thread
 * (memif_ctl.c) and under the fuzzer (tests/fuzz/fuzz_memif_msg.c).
 */
#ifndef MEMIF_CONN_H
#define MEMIF_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "memif_msg.h"
#include "memif_proto.h"

enum memif_role {
	MEMIF_ROLE_SERVER = 0,
	MEMIF_ROLE_CLIENT = 1,
};

/* What one interface asks for; fixed while the interface exists. */
struct memif_params {
	uint32_t id;
	uint16_t queues;   /* queue pairs wanted, 1..MEMIF_MAX_RINGS */
	uint8_t log2_ring; /* client: ring size; server: largest accepted */
	uint32_t bsize;	   /* client: bytes per buffer */
	bool interrupt;	   /* rings this side consumes want interrupts */
	char secret[MEMIF_SECRET_LEN + 1]; /* "" for none */
	char name[MEMIF_NAME_LEN + 1];	   /* our interface name */
};

enum memif_conn_state {
	/* server */
	MEMIF_CONN_S_WAIT_INIT,	  /* HELLO sent */
	MEMIF_CONN_S_WAIT_CONFIG, /* INIT accepted: regions, rings, CONNECT */
	/* client */
	MEMIF_CONN_C_WAIT_HELLO,
	MEMIF_CONN_C_SENDING,	     /* queued messages go out one per ACK */
	MEMIF_CONN_C_WAIT_CONNECTED, /* CONNECT sent */
	/* both */
	MEMIF_CONN_UP,
	MEMIF_CONN_FAILED,
};

/*
 * Distance between two buffers of a region this side creates: bsize
 * rounded up to a whole, odd number of cache lines. A power-of-two stride
 * (2048) would put the same bytes of every buffer in a few cache sets:
 * with a ring full of packets in flight they evict each other. Peers find
 * buffers by desc.offset only, so the padding is invisible to them.
 */
static inline uint64_t
memif_buf_stride(uint32_t bsize)
{
	uint64_t lines = ((uint64_t)bsize + SL_CACHE_LINE - 1) / SL_CACHE_LINE;

	return (lines | 1) * SL_CACHE_LINE;
}

/* A mapped region: the data path checks every descriptor against it. */
struct memif_region_map {
	uint8_t *base;
	uint64_t size;
};

struct memif_conn_ring {
	struct memif_ring *ring; /* in the mapped region, once mapped */
	uint32_t offset;
	uint16_t region;
	uint8_t log2;
	bool present;
	bool own_fd; /* server: received; client: borrowed from the if */
	int fd;	     /* interrupt eventfd */
};

struct memif_conn;

struct memif_conn_ops {
	/* Send one message (and an fd, or -1, which stays the caller's).
	 * 0 or -errno. */
	int (*send)(struct memif_conn *c, const uint8_t *msg, int fd);
	/* Server: bind the connection to the server interface of id; NULL
	 * with *why ("ID not found", "Already connected") when none fits. */
	const struct memif_params *(*bind)(struct memif_conn *c, uint32_t id,
					   const char **why);
	/* Client: the eventfd of a ring (kept by the interface). */
	int (*ring_fd)(struct memif_conn *c, bool c2s, uint16_t index);
	/* Both: the rings are checked and reset; publish them. */
	void (*up)(struct memif_conn *c);
};

/* What a server advertises in HELLO. */
struct memif_hello_caps {
	uint16_t max_c2s; /* largest ring index, i.e. queues - 1 */
	uint16_t max_s2c;
	uint8_t max_log2;
};

struct memif_conn {
	enum memif_role role;
	enum memif_conn_state state;
	const struct memif_conn_ops *ops;
	void *ctx;		      /* for ops (the control thread's) */
	const struct memif_params *p; /* our interface (server: from INIT) */
	struct memif_hello_caps caps; /* server: HELLO contents */
	/* why the connection failed (for the log and DISCONNECT) */
	char reason[MEMIF_REASON_LEN + 1];
	/* send DISCONNECT with reason before closing (false when the peer
	 * said DISCONNECT or the socket is gone) */
	bool tell_peer;
	/* the failure is a message this side refused (a protocol error) */
	bool bad_msg;
	/* the failure is the peer's DISCONNECT */
	bool peer_disc;
	char peer_name[MEMIF_NAME_LEN + 1];
	char peer_if_name[MEMIF_NAME_LEN + 1];
	/* negotiated */
	uint16_t n_c2s;
	uint16_t n_s2c;
	uint8_t log2;
	uint32_t bsize; /* client only */
	/* shared memory */
	uint16_t nregions;
	int region_fd[MEMIF_MAX_REGIONS];
	struct memif_region_map map[MEMIF_MAX_REGIONS];
	struct memif_conn_ring c2s[MEMIF_MAX_RINGS];
	struct memif_conn_ring s2c[MEMIF_MAX_RINGS];
	/* client: messages queued after HELLO, sent one per ACK */
	uint8_t (*txq)[MEMIF_MSG_SIZE];
	int *txq_fd;
	unsigned txq_len;
	unsigned txq_pos;
};

/* Set up c (allocated by the caller) for a role. Nothing is sent. */
void memif_conn_init(struct memif_conn *c, enum memif_role role,
		     const struct memif_conn_ops *ops, void *ctx);

/* Server: send HELLO advertising caps. 0 or -errno (reason set). */
int memif_conn_server_start(struct memif_conn *c,
			    const struct memif_hello_caps *caps);

/* Client: the connection belongs to interface p (before HELLO). */
void memif_conn_client_start(struct memif_conn *c,
			     const struct memif_params *p);

/*
 * Handle one received message (buf/len as read, fd received with it or
 * -1). The fd is always consumed: kept by the connection or closed.
 * @return 0, or -errno after which the connection must be closed:
 *   c->reason says why and c->tell_peer whether to send DISCONNECT first.
 */
int memif_conn_input(struct memif_conn *c, const void *buf, size_t len, int fd);

/* Record a failure decided outside (timeout, socket error). */
void memif_conn_fail(struct memif_conn *c, bool tell_peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Build a DISCONNECT carrying c->reason. */
void memif_conn_disconnect_msg(const struct memif_conn *c,
			       uint8_t out[MEMIF_MSG_SIZE]);

/* Unmap and close everything the connection owns; c can be re-inited. */
void memif_conn_release(struct memif_conn *c);

#endif /* MEMIF_CONN_H */
