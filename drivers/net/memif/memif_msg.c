/*
 * memif control messages: decoding and encoding of the fixed 128-byte
 * messages. Pure functions over a buffer (fuzzed by
 * tests/fuzz/fuzz_memif_msg.c); all field access goes through memcpy so
 * that no alignment or aliasing is assumed about the buffer.
 */
#include <errno.h>
#include <string.h>

#include "memif_msg.h"

static uint16_t
get16(const uint8_t *b, size_t off)
{
	uint16_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t
get32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint64_t
get64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* Copy a fixed-size, possibly unterminated string field. */
static void
get_str(char *dst, const uint8_t *b, size_t off, size_t len)
{
	size_t n = strnlen((const char *)b + off, len);

	memcpy(dst, b + off, n);
	dst[n] = '\0';
}

static void
put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static void
put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static void
put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

/* Copy a string into a fixed field, cut to the field, zero-padded. */
static void
put_str(uint8_t *b, size_t off, const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	memcpy(b + off, s, n);
}

const char *
memif_msg_type_name(unsigned type)
{
	static const char *const names[] = {
		"NONE",	    "ACK",     "HELLO",	    "INIT",	  "ADD_REGION",
		"ADD_RING", "CONNECT", "CONNECTED", "DISCONNECT",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type]
						       : "unknown";
}

int
memif_msg_parse(const void *buf, size_t len, int fd, struct memif_msg *m,
		const char **why)
{
	const uint8_t *b = buf;

	memset(m, 0, sizeof(*m));
	m->fd = fd;
	if (b == NULL || len != MEMIF_MSG_SIZE) {
		*why = "Invalid message size";
		return -EBADMSG;
	}
	m->type = get16(b, MEMIF_OFF_TYPE);
	switch (m->type) {
	case MEMIF_MSG_NONE:
	case MEMIF_MSG_ACK:
		break;
	case MEMIF_MSG_HELLO:
		get_str(m->hello.name, b, MEMIF_OFF_HELLO_NAME, MEMIF_NAME_LEN);
		m->hello.min_version = get16(b, MEMIF_OFF_HELLO_MIN_VER);
		m->hello.max_version = get16(b, MEMIF_OFF_HELLO_MAX_VER);
		m->hello.max_region = get16(b, MEMIF_OFF_HELLO_MAX_REGION);
		m->hello.max_s2c = get16(b, MEMIF_OFF_HELLO_MAX_S2C);
		m->hello.max_c2s = get16(b, MEMIF_OFF_HELLO_MAX_C2S);
		m->hello.max_log2 = b[MEMIF_OFF_HELLO_MAX_LOG2];
		break;
	case MEMIF_MSG_INIT:
		m->init.version = get16(b, MEMIF_OFF_INIT_VERSION);
		m->init.id = get32(b, MEMIF_OFF_INIT_ID);
		m->init.mode = b[MEMIF_OFF_INIT_MODE];
		get_str(m->init.secret, b, MEMIF_OFF_INIT_SECRET,
			MEMIF_SECRET_LEN);
		get_str(m->init.name, b, MEMIF_OFF_INIT_NAME, MEMIF_NAME_LEN);
		break;
	case MEMIF_MSG_ADD_REGION:
		if (fd < 0) {
			*why = "Missing region fd";
			return -EBADMSG;
		}
		m->region.index = get16(b, MEMIF_OFF_REGION_INDEX);
		m->region.size = get64(b, MEMIF_OFF_REGION_SIZE);
		break;
	case MEMIF_MSG_ADD_RING:
		if (fd < 0) {
			*why = "Missing interrupt fd";
			return -EBADMSG;
		}
		m->ring.flags = get16(b, MEMIF_OFF_RING_FLAGS);
		m->ring.index = get16(b, MEMIF_OFF_RING_INDEX);
		m->ring.region = get16(b, MEMIF_OFF_RING_REGION);
		m->ring.offset = get32(b, MEMIF_OFF_RING_OFFSET);
		m->ring.log2 = b[MEMIF_OFF_RING_LOG2];
		m->ring.private_hdr_size = get16(b, MEMIF_OFF_RING_PRIV_HDR);
		break;
	case MEMIF_MSG_CONNECT:
	case MEMIF_MSG_CONNECTED:
		get_str(m->if_name, b, MEMIF_OFF_CONNECT_NAME, MEMIF_NAME_LEN);
		break;
	case MEMIF_MSG_DISCONNECT:
		m->disc.code = get32(b, MEMIF_OFF_DISC_CODE);
		get_str(m->disc.reason, b, MEMIF_OFF_DISC_REASON,
			MEMIF_REASON_LEN);
		break;
	default:
		*why = "Unknown message type";
		return -EBADMSG;
	}
	return 0;
}

void
memif_msg_build(const struct memif_msg *m, uint8_t out[MEMIF_MSG_SIZE])
{
	memset(out, 0, MEMIF_MSG_SIZE);
	put16(out, MEMIF_OFF_TYPE, m->type);
	switch (m->type) {
	case MEMIF_MSG_HELLO:
		put_str(out, MEMIF_OFF_HELLO_NAME, m->hello.name,
			MEMIF_NAME_LEN);
		put16(out, MEMIF_OFF_HELLO_MIN_VER, m->hello.min_version);
		put16(out, MEMIF_OFF_HELLO_MAX_VER, m->hello.max_version);
		put16(out, MEMIF_OFF_HELLO_MAX_REGION, m->hello.max_region);
		put16(out, MEMIF_OFF_HELLO_MAX_S2C, m->hello.max_s2c);
		put16(out, MEMIF_OFF_HELLO_MAX_C2S, m->hello.max_c2s);
		out[MEMIF_OFF_HELLO_MAX_LOG2] = m->hello.max_log2;
		break;
	case MEMIF_MSG_INIT:
		put16(out, MEMIF_OFF_INIT_VERSION, m->init.version);
		put32(out, MEMIF_OFF_INIT_ID, m->init.id);
		out[MEMIF_OFF_INIT_MODE] = m->init.mode;
		put_str(out, MEMIF_OFF_INIT_SECRET, m->init.secret,
			MEMIF_SECRET_LEN);
		put_str(out, MEMIF_OFF_INIT_NAME, m->init.name, MEMIF_NAME_LEN);
		break;
	case MEMIF_MSG_ADD_REGION:
		put16(out, MEMIF_OFF_REGION_INDEX, m->region.index);
		put64(out, MEMIF_OFF_REGION_SIZE, m->region.size);
		break;
	case MEMIF_MSG_ADD_RING:
		put16(out, MEMIF_OFF_RING_FLAGS, m->ring.flags);
		put16(out, MEMIF_OFF_RING_INDEX, m->ring.index);
		put16(out, MEMIF_OFF_RING_REGION, m->ring.region);
		put32(out, MEMIF_OFF_RING_OFFSET, m->ring.offset);
		out[MEMIF_OFF_RING_LOG2] = m->ring.log2;
		put16(out, MEMIF_OFF_RING_PRIV_HDR, m->ring.private_hdr_size);
		break;
	case MEMIF_MSG_CONNECT:
	case MEMIF_MSG_CONNECTED:
		put_str(out, MEMIF_OFF_CONNECT_NAME, m->if_name,
			MEMIF_NAME_LEN);
		break;
	case MEMIF_MSG_DISCONNECT:
		put32(out, MEMIF_OFF_DISC_CODE, m->disc.code);
		put_str(out, MEMIF_OFF_DISC_REASON, m->disc.reason,
			MEMIF_REASON_LEN);
		break;
	default:
		break;
	}
}
