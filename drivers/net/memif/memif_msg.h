/*
 * memif control messages: a pure parser from the 128 bytes of one message
 * (plus the fd that came with it, if any) to a struct, and a builder back.
 * No I/O and no state: the per-connection state machine (memif_conn.c)
 * decides whether a well-formed message is acceptable now.
 */
#ifndef MEMIF_MSG_H
#define MEMIF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memif_proto.h"

struct memif_msg_hello {
	char name[MEMIF_NAME_LEN + 1];
	uint16_t min_version;
	uint16_t max_version;
	uint16_t max_region; /* largest region index */
	uint16_t max_s2c;    /* largest S2C ring index */
	uint16_t max_c2s;    /* largest C2S ring index */
	uint8_t max_log2;
};

struct memif_msg_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode;
	char secret[MEMIF_SECRET_LEN + 1];
	char name[MEMIF_NAME_LEN + 1];
};

struct memif_msg_region {
	uint16_t index;
	uint64_t size;
};

struct memif_msg_ring {
	uint16_t flags;
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2;
	uint16_t private_hdr_size;
};

struct memif_msg_disconnect {
	uint32_t code;
	char reason[MEMIF_REASON_LEN + 1];
};

/* One decoded message. Strings are always NUL-terminated. */
struct memif_msg {
	uint16_t type; /* enum memif_msg_type */
	int fd;	       /* the fd that came with it, or -1 */
	union {
		struct memif_msg_hello hello;
		struct memif_msg_init init;
		struct memif_msg_region region;
		struct memif_msg_ring ring;
		char if_name[MEMIF_NAME_LEN + 1]; /* CONNECT, CONNECTED */
		struct memif_msg_disconnect disc;
	};
};

/*
 * Decode one message. Checks what needs no connection state: the size
 * (exactly MEMIF_MSG_SIZE), a known type, and the fd that ADD_REGION and
 * ADD_RING must carry. Never takes ownership of fd (m->fd is a copy).
 * @return 0, or -EBADMSG with *why set to a static reason ("Invalid
 *   message size", "Unknown message type", "Missing region fd", "Missing
 *   interrupt fd"), suitable for a DISCONNECT message.
 */
int memif_msg_parse(const void *buf, size_t len, int fd, struct memif_msg *m,
		    const char **why);

/* Encode m (its fd is not part of the bytes) into out. Strings longer
 * than their field are cut. */
void memif_msg_build(const struct memif_msg *m, uint8_t out[MEMIF_MSG_SIZE]);

/* "HELLO", "INIT", ... or "unknown" for a type value. */
const char *memif_msg_type_name(unsigned type);

#endif /* MEMIF_MSG_H */
