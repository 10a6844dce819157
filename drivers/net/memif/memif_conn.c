/*
 * memif control connection: the handshake of both roles and the shared
 * memory behind it.
 *
 * Server: HELLO out; INIT (version, id, mode, secret checked), then
 * ADD_REGION and ADD_RING (each with its fd, each ACKed), then CONNECT:
 * the regions are mapped and every ring is checked to lie inside its
 * region and to carry the cookie before CONNECTED goes out.
 * Client: on HELLO the region (rings then buffers) is created in a sealed
 * memfd and INIT, ADD_REGION, ADD_RING..., CONNECT are queued; each ACK
 * releases the next; CONNECTED brings the link up.
 *
 * Anything else is a protocol error: the connection fails with a reason
 * that the caller logs and sends in DISCONNECT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memif_conn.h"

#ifndef F_SEAL_SHRINK
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SHRINK 0x0002
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif

/* Name this side gives itself in HELLO (the interface is not known yet
 * when HELLO goes out). */
#define MEMIF_HELLO_NAME "sluice"

void
memif_conn_init(struct memif_conn *c, enum memif_role role,
		const struct memif_conn_ops *ops, void *ctx)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->ops = ops;
	c->ctx = ctx;
	c->state = role == MEMIF_ROLE_SERVER ? MEMIF_CONN_S_WAIT_INIT
					     : MEMIF_CONN_C_WAIT_HELLO;
	for (i = 0; i < MEMIF_MAX_REGIONS; i++)
		c->region_fd[i] = -1;
	for (i = 0; i < MEMIF_MAX_RINGS; i++) {
		c->c2s[i].fd = -1;
		c->s2c[i].fd = -1;
	}
}

void
memif_conn_fail(struct memif_conn *c, bool tell_peer, const char *fmt, ...)
{
	va_list ap;

	/* keep the first reason: it is the cause, later ones are effects */
	if (c->state == MEMIF_CONN_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	c->tell_peer = tell_peer;
	c->state = MEMIF_CONN_FAILED;
}

void
memif_conn_disconnect_msg(const struct memif_conn *c,
			  uint8_t out[MEMIF_MSG_SIZE])
{
	struct memif_msg m = {.type = MEMIF_MSG_DISCONNECT};

	m.disc.code = 1;
	snprintf(m.disc.reason, sizeof(m.disc.reason), "%s", c->reason);
	memif_msg_build(&m, out);
}

static int
conn_send(struct memif_conn *c, const struct memif_msg *m, int fd)
{
	uint8_t buf[MEMIF_MSG_SIZE];
	int err;

	memif_msg_build(m, buf);
	err = c->ops->send(c, buf, fd);
	if (err < 0) {
		memif_conn_fail(c, false, "Cannot send %s: %s",
				memif_msg_type_name(m->type), sl_strerror(err));
		return err;
	}
	return 0;
}

static int
conn_ack(struct memif_conn *c)
{
	struct memif_msg m = {.type = MEMIF_MSG_ACK};

	return conn_send(c, &m, -1);
}

/* A protocol error: fail telling the peer. */
static int
conn_refuse(struct memif_conn *c, const char *why)
{
	if (c->state != MEMIF_CONN_FAILED)
		c->bad_msg = true;
	memif_conn_fail(c, true, "%s", why);
	return -EPROTO;
}

/* ---- server ----------------------------------------------------------- */

int
memif_conn_server_start(struct memif_conn *c,
			const struct memif_hello_caps *caps)
{
	struct memif_msg m = {.type = MEMIF_MSG_HELLO};

	c->caps = *caps;
	snprintf(m.hello.name, sizeof(m.hello.name), "%s", MEMIF_HELLO_NAME);
	m.hello.min_version = MEMIF_VERSION;
	m.hello.max_version = MEMIF_VERSION;
	m.hello.max_region = MEMIF_MAX_REGIONS - 1;
	m.hello.max_c2s = caps->max_c2s;
	m.hello.max_s2c = caps->max_s2c;
	m.hello.max_log2 = caps->max_log2;
	c->state = MEMIF_CONN_S_WAIT_INIT;
	return conn_send(c, &m, -1);
}

static int
server_init(struct memif_conn *c, const struct memif_msg_init *in)
{
	const struct memif_params *p;
	const char *why = "ID not found";

	if (in->version != MEMIF_VERSION)
		return conn_refuse(c, "Incompatible memif version");
	p = c->ops->bind(c, in->id, &why);
	if (p == NULL)
		return conn_refuse(c, why);
	c->p = p;
	if (in->mode != MEMIF_MODE_ETHERNET)
		return conn_refuse(c, "Only ethernet mode is supported");
	if (p->secret[0] != '\0') {
		if (in->secret[0] == '\0')
			return conn_refuse(c, "Secret required");
		if (strncmp(in->secret, p->secret, MEMIF_SECRET_LEN) != 0)
			return conn_refuse(c, "Incorrect secret");
	}
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", in->name);
	c->state = MEMIF_CONN_S_WAIT_CONFIG;
	return conn_ack(c);
}

/* Takes *fd (sets it to -1) when it keeps it. */
static int
server_add_region(struct memif_conn *c, const struct memif_msg_region *r,
		  int *fdp)
{
	int fd = *fdp;
	struct stat st;
	int seals;

	if (r->index >= MEMIF_MAX_REGIONS)
		return conn_refuse(c, "Too many regions");
	if (r->index != c->nregions)
		return conn_refuse(c, "Invalid region index");
	if (r->size == 0 || r->size > MEMIF_MAX_REGION_SIZE)
		return conn_refuse(c, "Invalid region size");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return conn_refuse(c, "Region fd is not a memory file");
	if ((uint64_t)st.st_size < r->size)
		return conn_refuse(c, "Region larger than its file");
	/* a peer that could shrink the file under our mapping would make
	 * us fault (SIGBUS): demand the seal */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return conn_refuse(c, "Region not sealed against shrinking");
	c->region_fd[r->index] = fd;
	*fdp = -1;
	c->map[r->index].size = r->size;
	c->nregions++;
	return conn_ack(c);
}

/* Takes *fd (sets it to -1) when it keeps it. */
static int
server_add_ring(struct memif_conn *c, const struct memif_msg_ring *r, int *fdp)
{
	int fd = *fdp;
	bool c2s = r->flags & MEMIF_RING_FLAG_C2S;
	struct memif_conn_ring *ring;
	struct stat st;
	int fl;

	if (r->index >= c->p->queues)
		return conn_refuse(c, "Invalid ring index");
	ring = c2s ? &c->c2s[r->index] : &c->s2c[r->index];
	if (ring->present)
		return conn_refuse(c, "Ring already added");
	if (r->log2 > c->caps.max_log2 || r->log2 > MEMIF_MAX_LOG2_RING)
		return conn_refuse(c, "Ring size too large");
	/* the data path writes to this fd: it must be an eventfd (an
	 * anonymous inode), not a pipe or socket that could block or raise
	 * SIGPIPE, and must not block */
	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != 0)
		return conn_refuse(c, "Interrupt fd is not an eventfd");
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return conn_refuse(c, "Interrupt fd is not an eventfd");
	ring->present = true;
	ring->own_fd = true;
	ring->fd = fd;
	*fdp = -1;
	ring->region = r->region;
	ring->offset = r->offset;
	ring->log2 = r->log2;
	return conn_ack(c);
}

/* Rings of one direction must be 0..n-1 with n >= 1; returns n or 0. */
static uint16_t
rings_count(const struct memif_conn_ring *rings)
{
	uint16_t n = 0, i;

	while (n < MEMIF_MAX_RINGS && rings[n].present)
		n++;
	for (i = n; i < MEMIF_MAX_RINGS; i++)
		if (rings[i].present)
			return 0;
	return n;
}

static int
map_rings(struct memif_conn *c, struct memif_conn_ring *rings, uint16_t n,
	  bool c2s)
{
	struct memif_conn_ring *r;
	struct memif_ring *ring;
	uint16_t i;

	for (i = 0; i < n; i++) {
		r = &rings[i];
		if (r->region >= c->nregions)
			return conn_refuse(c, "Ring in an unknown region");
		if (r->offset % 8 != 0)
			return conn_refuse(c, "Ring offset not aligned");
		if ((uint64_t)r->offset + memif_ring_size(r->log2) >
		    c->map[r->region].size)
			return conn_refuse(c, "Ring beyond its region");
		ring = (struct memif_ring *)(c->map[r->region].base +
					     r->offset);
		if (ring->cookie != MEMIF_COOKIE)
			return conn_refuse(c, "Invalid ring cookie");
		__atomic_store_n(&ring->head, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ring->tail, 0, __ATOMIC_RELAXED);
		/* the server consumes C2S: say whether it wants interrupts */
		if (c2s)
			__atomic_store_n(
				&ring->flags,
				c->p->interrupt ? 0 : MEMIF_RING_FLAG_MASK_INT,
				__ATOMIC_RELAXED);
		r->ring = ring;
	}
	return 0;
}

static int
server_connect(struct memif_conn *c, const char *if_name)
{
	struct memif_msg m = {.type = MEMIF_MSG_CONNECTED};
	uint16_t i;
	void *base;
	int err;

	if (c->nregions == 0)
		return conn_refuse(c, "No region");
	c->n_c2s = rings_count(c->c2s);
	c->n_s2c = rings_count(c->s2c);
	if (c->n_c2s == 0 || c->n_s2c == 0)
		return conn_refuse(c, "Rings missing");
	for (i = 0; i < c->nregions; i++) {
		base = mmap(NULL, c->map[i].size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, c->region_fd[i], 0);
		if (base == MAP_FAILED)
			return conn_refuse(c, "Cannot map region");
		c->map[i].base = base;
	}
	err = map_rings(c, c->c2s, c->n_c2s, true);
	if (err == 0)
		err = map_rings(c, c->s2c, c->n_s2c, false);
	if (err < 0)
		return err;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	snprintf(c->peer_if_name, sizeof(c->peer_if_name), "%s", if_name);
	snprintf(m.if_name, sizeof(m.if_name), "%s", c->p->name);
	err = conn_send(c, &m, -1);
	if (err < 0)
		return err;
	c->state = MEMIF_CONN_UP;
	c->ops->up(c);
	return 0;
}

static int
server_input(struct memif_conn *c, const struct memif_msg *m, int *fd)
{
	switch (c->state) {
	case MEMIF_CONN_S_WAIT_INIT:
		if (m->type != MEMIF_MSG_INIT)
			break;
		return server_init(c, &m->init);
	case MEMIF_CONN_S_WAIT_CONFIG:
		if (m->type == MEMIF_MSG_ADD_REGION)
			return server_add_region(c, &m->region, fd);
		if (m->type == MEMIF_MSG_ADD_RING)
			return server_add_ring(c, &m->ring, fd);
		if (m->type == MEMIF_MSG_CONNECT)
			return server_connect(c, m->if_name);
		break;
	default:
		break;
	}
	return conn_refuse(c, "Unexpected message");
}

/* ---- client ----------------------------------------------------------- */

void
memif_conn_client_start(struct memif_conn *c, const struct memif_params *p)
{
	c->p = p;
	c->state = MEMIF_CONN_C_WAIT_HELLO;
}

/* Region 0: [C2S rings][S2C rings][buffers], in a sealed memfd; buffer
 * j of ring r (C2S rings first) is number r * 2^log2 + j. */
static int
client_build_region(struct memif_conn *c)
{
	uint64_t ring_sz = memif_ring_size(c->log2);
	uint64_t nrings = (uint64_t)c->n_c2s + c->n_s2c;
	uint64_t stride = memif_buf_stride(c->bsize);
	uint64_t buf_off, size, slots = (uint64_t)1 << c->log2;
	struct memif_ring *ring;
	uint64_t r, j;
	void *base;
	int fd, err;

	buf_off = sl_align_ceil(nrings * ring_sz, SL_CACHE_LINE);
	size = buf_off + nrings * slots * stride;
	if (size > MEMIF_MAX_REGION_SIZE) {
		memif_conn_fail(c, true, "Region would exceed 4 GiB");
		return -EFBIG;
	}
	fd = memfd_create("memif region 0", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0)
		goto sys_fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
	    ftruncate(fd, (off_t)size) < 0)
		goto close_fd;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		goto close_fd;
	c->region_fd[0] = fd;
	c->map[0].base = base;
	c->map[0].size = size;
	c->nregions = 1;
	for (r = 0; r < nrings; r++) {
		bool c2s = r < c->n_c2s;
		struct memif_conn_ring *cr =
			c2s ? &c->c2s[r] : &c->s2c[r - c->n_c2s];

		ring = (struct memif_ring *)((uint8_t *)base + r * ring_sz);
		ring->cookie = MEMIF_COOKIE;
		/* the client consumes S2C */
		ring->flags = (!c2s && !c->p->interrupt)
				      ? MEMIF_RING_FLAG_MASK_INT
				      : 0;
		for (j = 0; j < slots; j++) {
			ring->desc[j].region = 0;
			ring->desc[j].offset =
				(uint32_t)(buf_off + (r * slots + j) * stride);
			ring->desc[j].length = c->bsize;
		}
		cr->ring = ring;
		cr->present = true;
		cr->region = 0;
		cr->offset = (uint32_t)(r * ring_sz);
		cr->log2 = c->log2;
		cr->own_fd = false;
		cr->fd = c->ops->ring_fd(c, c2s,
					 (uint16_t)(c2s ? r : r - c->n_c2s));
	}
	return 0;
close_fd:
	err = -errno;
	close(fd);
	memif_conn_fail(c, true, "Cannot create region: %s", sl_strerror(err));
	return err;
sys_fail:
	err = -errno;
	memif_conn_fail(c, true, "Cannot create region: %s", sl_strerror(err));
	return err;
}

static void
txq_add(struct memif_conn *c, const struct memif_msg *m, int fd)
{
	memif_msg_build(m, c->txq[c->txq_len]);
	c->txq_fd[c->txq_len] = fd;
	c->txq_len++;
}

static int
client_queue_config(struct memif_conn *c)
{
	unsigned n = 3u + c->n_c2s + c->n_s2c, i;
	struct memif_msg m;

	c->txq = calloc(n, MEMIF_MSG_SIZE);
	c->txq_fd = calloc(n, sizeof(int));
	if (c->txq == NULL || c->txq_fd == NULL) {
		memif_conn_fail(c, true, "Out of memory");
		return -ENOMEM;
	}
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_INIT;
	m.init.version = MEMIF_VERSION;
	m.init.id = c->p->id;
	m.init.mode = MEMIF_MODE_ETHERNET;
	snprintf(m.init.secret, sizeof(m.init.secret), "%s", c->p->secret);
	snprintf(m.init.name, sizeof(m.init.name), "%s", c->p->name);
	txq_add(c, &m, -1);
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_ADD_REGION;
	m.region.index = 0;
	m.region.size = c->map[0].size;
	txq_add(c, &m, c->region_fd[0]);
	for (i = 0; i < (unsigned)c->n_c2s + c->n_s2c; i++) {
		bool c2s = i < c->n_c2s;
		const struct memif_conn_ring *r =
			c2s ? &c->c2s[i] : &c->s2c[i - c->n_c2s];

		memset(&m, 0, sizeof(m));
		m.type = MEMIF_MSG_ADD_RING;
		m.ring.flags = c2s ? MEMIF_RING_FLAG_C2S : 0;
		m.ring.index = (uint16_t)(c2s ? i : i - c->n_c2s);
		m.ring.region = r->region;
		m.ring.offset = r->offset;
		m.ring.log2 = r->log2;
		txq_add(c, &m, r->fd);
	}
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_CONNECT;
	snprintf(m.if_name, sizeof(m.if_name), "%s", c->p->name);
	txq_add(c, &m, -1);
	return 0;
}

static int
client_send_next(struct memif_conn *c)
{
	int err;

	err = c->ops->send(c, c->txq[c->txq_pos], c->txq_fd[c->txq_pos]);
	if (err < 0) {
		memif_conn_fail(c, false, "Cannot send: %s", sl_strerror(err));
		return err;
	}
	c->txq_pos++;
	c->state = c->txq_pos == c->txq_len ? MEMIF_CONN_C_WAIT_CONNECTED
					    : MEMIF_CONN_C_SENDING;
	return 0;
}

static int
client_hello(struct memif_conn *c, const struct memif_msg_hello *h)
{
	const struct memif_params *p = c->p;
	int err;

	if (h->min_version > MEMIF_VERSION || h->max_version < MEMIF_VERSION)
		return conn_refuse(c, "Incompatible memif version");
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", h->name);
	c->n_c2s =
		(uint16_t)SL_MIN((uint32_t)h->max_c2s + 1, (uint32_t)p->queues);
	c->n_s2c =
		(uint16_t)SL_MIN((uint32_t)h->max_s2c + 1, (uint32_t)p->queues);
	c->log2 = SL_MIN(h->max_log2, p->log2_ring);
	c->bsize = p->bsize;
	err = client_build_region(c);
	if (err < 0)
		return err;
	err = client_queue_config(c);
	if (err < 0)
		return err;
	return client_send_next(c);
}

static int
client_connected(struct memif_conn *c, const char *if_name)
{
	uint16_t i;

	for (i = 0; i < c->n_c2s; i++)
		if (c->c2s[i].ring->cookie != MEMIF_COOKIE)
			return conn_refuse(c, "Invalid ring cookie");
	for (i = 0; i < c->n_s2c; i++)
		if (c->s2c[i].ring->cookie != MEMIF_COOKIE)
			return conn_refuse(c, "Invalid ring cookie");
	for (i = 0; i < c->n_c2s; i++) {
		__atomic_store_n(&c->c2s[i].ring->head, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->c2s[i].ring->tail, 0, __ATOMIC_RELAXED);
	}
	for (i = 0; i < c->n_s2c; i++) {
		struct memif_ring *ring = c->s2c[i].ring;
		uint32_t j, slots = 1u << c->log2;

		/* hand every buffer to the server */
		for (j = 0; j < slots; j++)
			ring->desc[j].length = c->bsize;
		__atomic_store_n(&ring->flags,
				 c->p->interrupt ? 0 : MEMIF_RING_FLAG_MASK_INT,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&ring->tail, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ring->head, (uint16_t)slots,
				 __ATOMIC_RELEASE);
	}
	snprintf(c->peer_if_name, sizeof(c->peer_if_name), "%s", if_name);
	c->state = MEMIF_CONN_UP;
	c->ops->up(c);
	return 0;
}

static int
client_input(struct memif_conn *c, const struct memif_msg *m)
{
	switch (c->state) {
	case MEMIF_CONN_C_WAIT_HELLO:
		if (m->type == MEMIF_MSG_HELLO)
			return client_hello(c, &m->hello);
		break;
	case MEMIF_CONN_C_SENDING:
		if (m->type == MEMIF_MSG_ACK)
			return client_send_next(c);
		break;
	case MEMIF_CONN_C_WAIT_CONNECTED:
		if (m->type == MEMIF_MSG_CONNECTED)
			return client_connected(c, m->if_name);
		break;
	default:
		break;
	}
	return conn_refuse(c, "Unexpected message");
}

/* ---- both -------------------------------------------------------------- */

int
memif_conn_input(struct memif_conn *c, const void *buf, size_t len, int fd)
{
	struct memif_msg m;
	const char *why = NULL;
	int err;

	if (c->state == MEMIF_CONN_FAILED) {
		err = -EPROTO;
		goto close_fd;
	}
	err = memif_msg_parse(buf, len, fd, &m, &why);
	if (err < 0) {
		conn_refuse(c, why);
		goto close_fd;
	}
	if (m.type == MEMIF_MSG_DISCONNECT) {
		if (c->state != MEMIF_CONN_FAILED)
			c->peer_disc = true;
		memif_conn_fail(c, false, "peer said: %s (code %u)",
				m.disc.reason[0] ? m.disc.reason
						 : "(no reason)",
				m.disc.code);
		err = -ECONNRESET;
		goto close_fd;
	}
	/* an fd only travels with ADD_REGION and ADD_RING */
	if (fd >= 0 && m.type != MEMIF_MSG_ADD_REGION &&
	    m.type != MEMIF_MSG_ADD_RING) {
		close(fd);
		fd = -1;
	}
	if (c->state == MEMIF_CONN_UP) {
		err = conn_refuse(c, "Unexpected message");
		goto close_fd;
	}
	if (c->role == MEMIF_ROLE_SERVER)
		err = server_input(c, &m, &fd);
	else
		err = client_input(c, &m);
close_fd:
	if (fd >= 0)
		close(fd);
	return err;
}

void
memif_conn_release(struct memif_conn *c)
{
	unsigned i;

	for (i = 0; i < MEMIF_MAX_REGIONS; i++) {
		if (c->map[i].base != NULL)
			munmap(c->map[i].base, c->map[i].size);
		c->map[i].base = NULL;
		if (c->region_fd[i] >= 0)
			close(c->region_fd[i]);
		c->region_fd[i] = -1;
	}
	c->nregions = 0;
	for (i = 0; i < MEMIF_MAX_RINGS; i++) {
		if (c->c2s[i].own_fd && c->c2s[i].fd >= 0)
			close(c->c2s[i].fd);
		if (c->s2c[i].own_fd && c->s2c[i].fd >= 0)
			close(c->s2c[i].fd);
		memset(&c->c2s[i], 0, sizeof(c->c2s[i]));
		memset(&c->s2c[i], 0, sizeof(c->s2c[i]));
		c->c2s[i].fd = -1;
		c->s2c[i].fd = -1;
	}
	free(c->txq);
	free(c->txq_fd);
	c->txq = NULL;
	c->txq_fd = NULL;
	c->txq_len = 0;
	c->txq_pos = 0;
}
