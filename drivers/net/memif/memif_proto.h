/*
 * memif 2.0 wire format: constants, the shared-memory ring and descriptor
 * layout, and the control message types. Written from the protocol facts
 * in docs (PROTOCOLS.md section 2); everything is in host byte order, as
 * both peers share the memory.
 */
#ifndef MEMIF_PROTO_H
#define MEMIF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/sl_common.h"

#define MEMIF_COOKIE 0x3E31F20u
#define MEMIF_VERSION_MAJOR 2
#define MEMIF_VERSION_MINOR 0
#define MEMIF_VERSION ((MEMIF_VERSION_MAJOR << 8) | MEMIF_VERSION_MINOR)

/* Every control message is exactly this long. */
#define MEMIF_MSG_SIZE 128
#define MEMIF_NAME_LEN 32
#define MEMIF_SECRET_LEN 24
#define MEMIF_REASON_LEN 96

/* Limits of this implementation (and of DPDK's). */
#define MEMIF_MAX_LOG2_RING 14
#define MEMIF_MAX_RINGS 255 /* per direction, i.e. queue pairs */
#define MEMIF_MAX_REGIONS 256
/* Descriptor offsets are 32 bits: a region larger than this cannot be
 * addressed and is refused. */
#define MEMIF_MAX_REGION_SIZE (UINT64_C(1) << 32)

enum memif_msg_type {
	MEMIF_MSG_NONE = 0,
	MEMIF_MSG_ACK = 1,
	MEMIF_MSG_HELLO = 2,	  /* server -> client */
	MEMIF_MSG_INIT = 3,	  /* client -> server */
	MEMIF_MSG_ADD_REGION = 4, /* client -> server, region memfd */
	MEMIF_MSG_ADD_RING = 5,	  /* client -> server, ring eventfd */
	MEMIF_MSG_CONNECT = 6,	  /* client -> server */
	MEMIF_MSG_CONNECTED = 7,  /* server -> client */
	MEMIF_MSG_DISCONNECT = 8, /* either way */
	MEMIF_MSG_TYPE_MAX = 8,
};

/* Interface modes carried in INIT; only ethernet is supported. */
#define MEMIF_MODE_ETHERNET 0

/* ADD_RING flags: the ring carries client-to-server traffic. */
#define MEMIF_RING_FLAG_C2S 0x1u

/* Byte offsets of the fields inside a 128-byte message. */
#define MEMIF_OFF_TYPE 0
#define MEMIF_OFF_HELLO_NAME 2
#define MEMIF_OFF_HELLO_MIN_VER 34
#define MEMIF_OFF_HELLO_MAX_VER 36
#define MEMIF_OFF_HELLO_MAX_REGION 38
#define MEMIF_OFF_HELLO_MAX_S2C 40
#define MEMIF_OFF_HELLO_MAX_C2S 42
#define MEMIF_OFF_HELLO_MAX_LOG2 44
#define MEMIF_OFF_INIT_VERSION 2
#define MEMIF_OFF_INIT_ID 4
#define MEMIF_OFF_INIT_MODE 8
#define MEMIF_OFF_INIT_SECRET 9
#define MEMIF_OFF_INIT_NAME 33
#define MEMIF_OFF_REGION_INDEX 2
#define MEMIF_OFF_REGION_SIZE 4
#define MEMIF_OFF_RING_FLAGS 2
#define MEMIF_OFF_RING_INDEX 4
#define MEMIF_OFF_RING_REGION 6
#define MEMIF_OFF_RING_OFFSET 8
#define MEMIF_OFF_RING_LOG2 12
#define MEMIF_OFF_RING_PRIV_HDR 13
#define MEMIF_OFF_CONNECT_NAME 2
#define MEMIF_OFF_DISC_CODE 2
#define MEMIF_OFF_DISC_REASON 6

/* ---- shared memory ------------------------------------------------------ */

/* Descriptor flag: the packet continues in the next descriptor. */
#define MEMIF_DESC_FLAG_NEXT 0x1u

struct memif_desc {
	uint16_t flags;
	uint16_t region;
	uint32_t length;
	uint32_t offset;
	uint32_t metadata;
};

SL_STATIC_ASSERT(sizeof(struct memif_desc) == 16, "memif descriptor is 16 B");

/* Ring flag: the consumer polls, the producer must not signal it. */
#define MEMIF_RING_FLAG_MASK_INT 0x1u

/* Ring header, then 2^log2 descriptors. head and tail are free-running
 * 16-bit counters (masked by 2^log2 - 1 to index desc[]). On both rings
 * the client writes head and the server writes tail: on C2S the client
 * adds packets at head and the server consumes up to it; on S2C the
 * client adds empty buffers at head and the server fills them up to tail.
 * flags is written by the ring's consumer only. */
struct memif_ring {
	uint32_t cookie;
	uint16_t flags;
	uint16_t head;
	uint8_t pad0[56];
	uint16_t tail;
	uint8_t pad1[62];
	struct memif_desc desc[];
};

SL_STATIC_ASSERT(offsetof(struct memif_ring, flags) == 4, "ring flags @4");
SL_STATIC_ASSERT(offsetof(struct memif_ring, head) == 6, "ring head @6");
SL_STATIC_ASSERT(offsetof(struct memif_ring, tail) == 64, "ring tail @64");
SL_STATIC_ASSERT(offsetof(struct memif_ring, desc) == 128, "ring desc @128");

/* Bytes of a ring of 2^log2 descriptors. */
static inline uint64_t
memif_ring_size(unsigned log2)
{
	return sizeof(struct memif_ring) +
	       sizeof(struct memif_desc) * ((uint64_t)1 << log2);
}

#endif /* MEMIF_PROTO_H */
