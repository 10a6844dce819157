/*
 * libFuzzer target for the memif control channel: the message parser
 * (memif_msg.c) and the handshake state machine of both roles
 * (memif_conn.c), driven with no sockets.
 *
 * Input: byte 0 selects the role and a few settings, then records of
 * [control byte][128 bytes]. Control bit 0 attaches an fd to the message
 * (a sealed memfd for ADD_REGION, an eventfd otherwise), bit 1 makes the
 * message short (length = control >> 2). The region memfd is filled with
 * ring cookies so that fuzzed ring offsets reach the ring checks. Every
 * message the state machine sends must parse back, and every message that
 * parses must survive build() and parse() unchanged.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memif_conn.h"
#include "memif_msg.h"

#define REGION_SIZE (512u * 1024u)
#define RECORD (1 + MEMIF_MSG_SIZE)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int region_fd = -1;
static uint32_t *region_map;
static int event_fd = -1;
static bool region_dirty = true; /* a CONNECT may have reset ring fields */

static struct {
	struct memif_params params;
	bool bound;
	bool up;
	unsigned sent;
} fz;

static int
fz_send(struct memif_conn *c, const uint8_t *msg, int fd)
{
	struct memif_msg m;
	const char *why;

	(void)c;
	(void)fd;
	/* what this side sends must be well formed */
	if (memif_msg_parse(msg, MEMIF_MSG_SIZE, fd, &m, &why) != 0)
		abort();
	fz.sent++;
	return 0;
}

static const struct memif_params *
fz_bind(struct memif_conn *c, uint32_t id, const char **why)
{
	(void)c;
	if (id != fz.params.id) {
		*why = "ID not found";
		return NULL;
	}
	if (fz.bound) {
		*why = "Already connected";
		return NULL;
	}
	fz.bound = true;
	return &fz.params;
}

static int
fz_ring_fd(struct memif_conn *c, bool c2s, uint16_t index)
{
	(void)c;
	(void)c2s;
	(void)index;
	return event_fd;
}

static void
fz_up(struct memif_conn *c)
{
	uint16_t i;

	fz.up = true;
	/* the data path would touch every ring: so do we */
	for (i = 0; i < c->n_c2s; i++)
		__atomic_load_n(&c->c2s[i].ring->head, __ATOMIC_ACQUIRE);
	for (i = 0; i < c->n_s2c; i++)
		__atomic_load_n(&c->s2c[i].ring->tail, __ATOMIC_ACQUIRE);
}

static const struct memif_conn_ops fz_ops = {
	.send = fz_send,
	.bind = fz_bind,
	.ring_fd = fz_ring_fd,
	.up = fz_up,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	region_fd = memfd_create("fuzz region", MFD_ALLOW_SEALING);
	if (region_fd < 0 || ftruncate(region_fd, REGION_SIZE) < 0 ||
	    fcntl(region_fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		abort();
	region_map = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  region_fd, 0);
	if (region_map == MAP_FAILED)
		abort();
	event_fd = eventfd(0, EFD_NONBLOCK);
	if (event_fd < 0)
		abort();
	return 0;
}

/* A parsed message encodes back to something that parses the same. */
static void
check_roundtrip(const uint8_t *buf)
{
	uint8_t out[MEMIF_MSG_SIZE];
	struct memif_msg a, b;
	const char *why;

	if (memif_msg_parse(buf, MEMIF_MSG_SIZE, 3, &a, &why) != 0)
		return;
	memif_msg_build(&a, out);
	if (memif_msg_parse(out, MEMIF_MSG_SIZE, 3, &b, &why) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memif_conn c;
	struct memif_hello_caps caps = {
		.max_c2s = 3,
		.max_s2c = 3,
		.max_log2 = MEMIF_MAX_LOG2_RING,
	};
	uint8_t msg[MEMIF_MSG_SIZE], ctl;
	size_t off, len;
	uint16_t type;
	int fd, lowest_fd;
	unsigned i;

	if (region_fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	lowest_fd = dup(0); /* the connection must give back every fd */
	close(lowest_fd);
	memset(&fz, 0, sizeof(fz));
	fz.params.id = 0;
	fz.params.queues = (uint16_t)(1 + (data[0] >> 4 & 3));
	fz.params.log2_ring = (uint8_t)(4 + (data[0] >> 6));
	fz.params.bsize = 256;
	fz.params.interrupt = data[0] & 2;
	if (data[0] & 4)
		memcpy(fz.params.secret, "fuzz", 5);
	memcpy(fz.params.name, "fuzz0", 6);
	if (region_dirty) {
		for (i = 0; i < REGION_SIZE / 4; i++)
			region_map[i] = MEMIF_COOKIE;
		region_dirty = false;
	}

	if (data[0] & 1) {
		memif_conn_init(&c, MEMIF_ROLE_CLIENT, &fz_ops, NULL);
		memif_conn_client_start(&c, &fz.params);
	} else {
		memif_conn_init(&c, MEMIF_ROLE_SERVER, &fz_ops, NULL);
		if (memif_conn_server_start(&c, &caps) != 0)
			abort();
	}
	for (off = 1; off < size; off += RECORD) {
		ctl = data[off];
		len = SL_MIN(size - off - 1, (size_t)MEMIF_MSG_SIZE);
		memset(msg, 0, sizeof(msg));
		memcpy(msg, data + off + 1, len);
		if (ctl & 2)
			len = SL_MIN(len, (size_t)(ctl >> 2));
		else
			len = MEMIF_MSG_SIZE;
		check_roundtrip(msg);
		fd = -1;
		memcpy(&type, msg, sizeof(type));
		if (type == MEMIF_MSG_CONNECT)
			region_dirty = true;
		if (ctl & 1) {
			fd = dup(type == MEMIF_MSG_ADD_REGION ? region_fd
							      : event_fd);
		}
		if (memif_conn_input(&c, msg, len, fd) != 0) {
			/* a failure always says why */
			if (c.reason[0] == '\0' || c.state != MEMIF_CONN_FAILED)
				abort();
			break;
		}
	}
	memif_conn_release(&c);
	fd = dup(0);
	close(fd);
	if (fd != lowest_fd)
		abort();
	return 0;
}
