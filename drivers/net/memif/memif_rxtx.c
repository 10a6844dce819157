/*
 * net_memif data path: copy-mode RX and TX over the shared rings, for both
 * roles. No locks, no logging, no syscalls except the eventfd write that
 * wakes a peer which asked for interrupts.
 *
 * Who writes what (memif_proto.h): the client writes head, the server
 * tail, of both rings.
 *   client TX  (C2S): fill [head, tail + size), publish head.
 *   server RX  (C2S): read [last, head), publish tail.
 *   server TX  (S2C): fill [tail, head) into the client's buffers, whose
 *                     capacity is the length the client set, publish tail.
 *   client RX  (S2C): read [last, tail), then hand the slots back with
 *                     length = bsize and publish head (refill).
 * Every index and descriptor coming from shared memory is checked before
 * use: a peer that corrupts them faults the queue (live cleared, fault
 * recorded, the control thread disconnects) and is never trusted with an
 * address outside the mapped regions.
 */
#include <string.h>
#include <unistd.h>

#include "memif_private.h"

/* Packets up to this size are copied as one fixed-size block (inlined
 * vector moves instead of a call to memcpy), reading and writing past the
 * packet inside the buffers when both have the room. */
#define MEMIF_COPY_BLOCK 64
SL_STATIC_ASSERT(SL_MBUF_DATA_MIN >= MEMIF_COPY_BLOCK,
		 "a fresh mbuf must hold a copy block");

/* How far ahead (in descriptors) buffers are prefetched; descriptors
 * themselves are prefetched twice as far (two cache lines of them), and
 * only when the whole line (4 descriptors) is on this side's part of the
 * ring. */
#define MEMIF_PREFETCH_AHEAD 4

static __sl_always_inline bool
q_enter(struct memif_queue *q, bool fenced)
{
	if (fenced) {
		__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
		if (likely(__atomic_load_n(&q->live, __ATOMIC_SEQ_CST)))
			return true;
	} else {
		/* the control side's membarrier() orders this store before
		 * the load below on this CPU */
		__atomic_store_n(&q->busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (likely(__atomic_load_n(&q->live, __ATOMIC_ACQUIRE)))
			return true;
	}
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
	return false;
}

static __sl_always_inline void
q_leave(struct memif_queue *q)
{
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
}

/* The peer broke the ring: stop using it until the control thread has
 * disconnected (it polls fault). */
static void __attribute__((noinline, cold))
q_fault(struct memif_queue *q, enum memif_fault f, uint32_t seen, uint32_t mine)
{
	q->faults++;
	if (__atomic_load_n(&q->fault, __ATOMIC_RELAXED) == MEMIF_FAULT_NONE) {
		q->fault_seen = seen;
		q->fault_mine = mine;
		__atomic_store_n(&q->fault, f, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&q->live, 0, __ATOMIC_RELAXED);
}

/* Address of len bytes at region:offset, or NULL when outside the
 * mapped memory. */
static __sl_always_inline uint8_t *
q_buf(const struct memif_queue *q, uint16_t region, uint32_t offset,
      uint32_t len)
{
	const struct memif_region_map *r;

	if (unlikely(region >= q->nregions))
		return NULL;
	r = &q->regions[region];
	if (unlikely((uint64_t)offset + len > r->size))
		return NULL;
	return r->base + offset;
}

/* Descriptor of a free-running ring index. */
static __sl_always_inline struct memif_desc *
ring_desc(struct memif_ring *ring, uint16_t index, uint16_t mask)
{
	return &ring->desc[index & mask];
}

/*
 * Read a descriptor the peer may be rewriting: each field is loaded once
 * (relaxed atomics cannot be re-read by the compiler), so what was checked
 * is what is used.
 */
static __sl_always_inline struct memif_desc
desc_load(const struct memif_desc *d)
{
	struct memif_desc v;

	v.flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	v.region = __atomic_load_n(&d->region, __ATOMIC_RELAXED);
	v.length = __atomic_load_n(&d->length, __ATOMIC_RELAXED);
	v.offset = __atomic_load_n(&d->offset, __ATOMIC_RELAXED);
	v.metadata = 0;
	return v;
}

static __sl_always_inline void
q_prefetch_buf(const struct memif_queue *q, const struct memif_desc *d,
	       bool write)
{
	uint16_t region = __atomic_load_n(&d->region, __ATOMIC_RELAXED);
	uint32_t offset = __atomic_load_n(&d->offset, __ATOMIC_RELAXED);

	/* a prefetch never faults: no bounds check beyond the table */
	if (region < q->nregions) {
		if (write)
			sl_prefetch_w(q->regions[region].base + offset);
		else
			sl_prefetch0(q->regions[region].base + offset);
	}
}

/* ---- RX ------------------------------------------------------------------ */

/* Drop what rx_slow() built into head and make head fresh again. */
static void
rx_drop(struct sl_mbuf *head)
{
	if (head->next != NULL)
		sl_mbuf_free(head->next);
	sl_mbuf_reset(head);
}

/* rx_slow() results besides 1 (packet in head, *curp past it). */
#define RX_INCOMPLETE 0 /* the chain goes on past end: nothing consumed */
#define RX_DROPPED (-1) /* dropped, *curp past it, head reset for reuse */
#define RX_NOMBUF (-2)	/* the pool ran dry: nothing consumed */

/* A packet that is chained or larger than one mbuf, starting at *curp. */
static int __attribute__((noinline))
rx_slow(struct memif_queue *q, struct memif_ring *ring, uint16_t *curp,
	uint16_t end, struct sl_mbuf *head)
{
	uint16_t cur = *curp, mask = q->mask, s = cur, nd, k;
	struct sl_mbuf *seg = head, *nseg;
	struct memif_desc d;
	uint32_t len, c, total = 0;
	bool bad = false, bad_desc = false;
	const uint8_t *src;

	/* the packet's extent: a chain must be complete to be taken */
	for (;;) {
		if (s == end) {
			if ((uint16_t)(end - cur) > mask)
				q_fault(q, MEMIF_FAULT_CHAIN, end, cur);
			return RX_INCOMPLETE;
		}
		if (!(__atomic_load_n(&ring->desc[s++ & mask].flags,
				      __ATOMIC_RELAXED) &
		      MEMIF_DESC_FLAG_NEXT))
			break;
	}
	nd = (uint16_t)(s - cur);
	for (k = 0; k < nd && !bad; k++) {
		d = desc_load(ring_desc(ring, (uint16_t)(cur + k), mask));
		len = d.length;
		src = q_buf(q, d.region, d.offset, len);
		if (src == NULL) {
			bad = bad_desc = true;
			break;
		}
		while (len > 0) {
			if (sl_mbuf_tailroom(seg) == 0) {
				if (head->nb_segs == SL_MBUF_MAX_SEGS) {
					bad = true;
					break;
				}
				nseg = sl_mbuf_alloc(q->pool);
				if (nseg == NULL) {
					q->port->rx.nombuf++;
					rx_drop(head);
					return RX_NOMBUF;
				}
				seg->next = nseg;
				seg = nseg;
				head->nb_segs++;
			}
			c = SL_MIN(len, (uint32_t)sl_mbuf_tailroom(seg));
			memcpy(sl_mbuf_mtod_offset(seg, uint8_t *,
						   seg->data_len),
			       src, c);
			seg->data_len = (uint16_t)(seg->data_len + c);
			src += c;
			len -= c;
			total += c;
		}
	}
	*curp = s;
	if (bad) {
		if (bad_desc) {
			q->bad_desc++;
			q_fault(q, MEMIF_FAULT_DESC, d.offset, d.length);
		}
		q->port->rx.errors++;
		rx_drop(head);
		return RX_DROPPED;
	}
	head->pkt_len = total;
	head->packet_type = SL_PTYPE_L2_ETHER;
	if (nd > 1)
		q->chained++;
	return 1;
}

/* Read the producer's index again into *end: 0, or -1 after a fault when
 * the peer moved it out of range. */
static __sl_always_inline int
rx_end_read(struct memif_queue *q, struct memif_ring *ring, uint16_t cur,
	    bool client, uint16_t *end)
{
	uint16_t e, avail;

	if (client) {
		e = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		avail = (uint16_t)(e - cur);
		/* the server cannot fill more than was handed to it */
		if (unlikely(avail > (uint16_t)(q->head - cur))) {
			q_fault(q, MEMIF_FAULT_RING_INDEX, e,
				(uint32_t)cur << 16 | q->head);
			return -1;
		}
	} else {
		e = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		avail = (uint16_t)(e - cur);
		if (unlikely(avail > (uint16_t)(q->mask + 1u))) {
			q_fault(q, MEMIF_FAULT_RING_INDEX, e, cur);
			return -1;
		}
	}
	q->peer = e;
	*end = e;
	return 0;
}

static __sl_always_inline uint16_t
memif_rx(struct memif_queue *q, struct sl_mbuf **pkts, uint16_t n, bool client,
	 bool fenced)
{
	struct memif_ring *ring;
	struct memif_desc d;
	uint16_t cur, end, avail, nb, i = 0, mask, target;
	bool reread = false;
	uint64_t bytes = 0;
	struct sl_mbuf *m;
	const uint8_t *src;
	uint32_t len;
	int r;

	if (unlikely(!q_enter(q, fenced)))
		return 0;
	ring = q->ring;
	mask = q->mask;
	cur = q->last;
	/* the producer's index is read again only when what was seen last
	 * time does not fill the burst: fewer transfers of its cache line */
	end = q->peer;
	avail = (uint16_t)(end - cur);
	if (avail < n) {
		if (rx_end_read(q, ring, cur, client, &end) < 0)
			goto leave;
		reread = true;
		avail = (uint16_t)(end - cur);
		if (avail == 0)
			goto leave;
	}
	nb = SL_MIN(n, avail);
	if (unlikely(sl_mbuf_alloc_bulk(q->pool, pkts, nb) < 0)) {
		q->port->rx.nombuf++;
		goto leave;
	}
	while (i < nb && cur != end) {
		/* only what the producer already published: touching slots
		 * it is writing would take their lines away from it */
		if ((uint16_t)(end - cur) > 3 * MEMIF_PREFETCH_AHEAD)
			sl_prefetch0(ring_desc(
				ring, cur + 2 * MEMIF_PREFETCH_AHEAD, mask));
		if ((uint16_t)(end - cur) > MEMIF_PREFETCH_AHEAD) {
			q_prefetch_buf(q,
				       ring_desc(ring,
						 cur + MEMIF_PREFETCH_AHEAD,
						 mask),
				       false);
		}
		if (i + 2 < nb)
			sl_prefetch_w(sl_mbuf_mtod(pkts[i + 2], void *));
		d = desc_load(&ring->desc[cur & mask]);
		m = pkts[i];
		len = d.length;
		/* a short packet is read as a whole block: the block must be
		 * inside the region too (else the slow path copies it) */
		src = q_buf(q, d.region, d.offset,
			    SL_MAX(len, (uint32_t)MEMIF_COPY_BLOCK));
		if (likely(!(d.flags & MEMIF_DESC_FLAG_NEXT) && src != NULL &&
			   len <= sl_mbuf_tailroom(m))) {
			/* a fresh mbuf has room for a block */
			if (len <= MEMIF_COPY_BLOCK)
				memcpy(sl_mbuf_mtod(m, void *), src,
				       MEMIF_COPY_BLOCK);
			else
				memcpy(sl_mbuf_mtod(m, void *), src, len);
			m->data_len = (uint16_t)len;
			m->pkt_len = len;
			m->packet_type = SL_PTYPE_L2_ETHER;
			bytes += len;
			cur++;
			i++;
			continue;
		}
		r = rx_slow(q, ring, &cur, end, m);
		if (r == RX_INCOMPLETE && !reread) {
			/* the chain goes on past what was seen last time: the
			 * producer may have published the rest since */
			reread = true;
			if (rx_end_read(q, ring, cur, client, &end) < 0)
				break;
			continue;
		}
		if (r == RX_INCOMPLETE || r == RX_NOMBUF)
			break;
		if (r > 0) {
			bytes += m->pkt_len;
			i++;
		}
	}
	if (i < nb)
		sl_mempool_put_bulk(q->pool, (void *const *)&pkts[i],
				    (unsigned)(nb - i));
	if (cur != q->last) {
		q->last = cur;
		if (client) {
			/* hand the consumed slots back, one store of head */
			target = (uint16_t)(cur + mask + 1u);
			for (avail = q->head; avail != target; avail++)
				ring->desc[avail & mask].length = q->bsize;
			__atomic_store_n(&ring->head, target, __ATOMIC_RELEASE);
			q->head = target;
		} else {
			__atomic_store_n(&ring->tail, cur, __ATOMIC_RELEASE);
		}
	}
leave:
	q_leave(q);
	q->port->rx.bytes += bytes;
	return i;
}

/* ---- TX ------------------------------------------------------------------ */

/*
 * A packet that is chained or larger than one buffer: packed into as many
 * descriptors as needed, NEXT on all but the last.
 * @return 1: sent, *slotp and *roomp advanced; 0: not enough room (nothing
 *   published); -1: the ring is corrupt (queue faulted).
 */
static int __attribute__((noinline))
tx_slow(struct memif_queue *q, struct memif_ring *ring, uint16_t *slotp,
	uint16_t *roomp, struct sl_mbuf *m, bool client)
{
	uint16_t slot = *slotp, room = *roomp, mask = q->mask, nd = 0;
	uint32_t remaining = m->pkt_len, cap, fill, c, src_off = 0;
	const struct sl_mbuf *seg = m;
	struct memif_desc *d, dv;
	uint8_t *dst;

	do {
		if (room == 0)
			return 0;
		d = &ring->desc[slot & mask];
		dv = desc_load(d);
		cap = client ? q->bsize : dv.length;
		dst = q_buf(q, dv.region, dv.offset, cap);
		if (dst == NULL || cap == 0) {
			q->bad_desc++;
			q_fault(q, MEMIF_FAULT_DESC, dv.offset, cap);
			return -1;
		}
		fill = 0;
		while (fill < cap && remaining > 0) {
			while (seg != NULL && src_off == seg->data_len) {
				seg = seg->next;
				src_off = 0;
			}
			if (seg == NULL) {
				/* pkt_len larger than its segments */
				q->port->tx.errors++;
				remaining = 0;
				break;
			}
			c = SL_MIN(cap - fill, remaining);
			c = SL_MIN(c, (uint32_t)seg->data_len - src_off);
			memcpy(dst + fill,
			       sl_mbuf_mtod_offset(seg, const uint8_t *,
						   src_off),
			       c);
			fill += c;
			src_off += c;
			remaining -= c;
		}
		d->length = fill;
		d->flags = remaining > 0 ? MEMIF_DESC_FLAG_NEXT : 0;
		slot++;
		room--;
		nd++;
	} while (remaining > 0);
	*slotp = slot;
	*roomp = room;
	if (nd > 1)
		q->chained++;
	return 1;
}

/* Read the consumer's index again and return the room it gives, or -1
 * after a fault when the peer moved it out of range. */
static __sl_always_inline int
tx_room_read(struct memif_queue *q, struct memif_ring *ring, uint16_t slot,
	     bool client)
{
	uint16_t other, used, size = (uint16_t)(q->mask + 1u);

	if (client) {
		other = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		used = (uint16_t)(slot - other); /* in flight */
	} else {
		other = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		used = (uint16_t)(other - slot); /* handed to us */
	}
	if (unlikely(used > size)) {
		q_fault(q, MEMIF_FAULT_RING_INDEX, other, slot);
		return -1;
	}
	q->peer = other;
	return client ? size - used : used;
}

static __sl_always_inline uint16_t
memif_tx(struct memif_queue *q, struct sl_mbuf **pkts, uint16_t n, bool client,
	 bool fenced)
{
	uint16_t slot, room, mask, i, other;
	struct memif_ring *ring;
	struct memif_desc *d, dv;
	uint64_t bytes = 0;
	struct sl_mbuf *m;
	uint32_t cap;
	uint8_t *dst;
	bool reread = false;
	int r;

	if (unlikely(!q_enter(q, fenced)))
		return 0;
	ring = q->ring;
	mask = q->mask;
	slot = q->last;
	/* as in RX: the consumer's index is read again only when the room
	 * it gave last time does not take the whole burst */
	other = q->peer;
	room = client ? (uint16_t)(mask + 1u - (uint16_t)(slot - other))
		      : (uint16_t)(other - slot);
	if (room < n) {
		r = tx_room_read(q, ring, slot, client);
		if (unlikely(r < 0)) {
			q_leave(q);
			return 0;
		}
		room = (uint16_t)r;
		reread = true;
	}
	for (i = 0; i < n; i++) {
		if (unlikely(room == 0)) {
			/* the cached room is used up: look once more */
			r = reread ? 0 : tx_room_read(q, ring, slot, client);
			reread = true;
			if (r <= 0) {
				if (r == 0)
					q->ring_full++;
				break;
			}
			room = (uint16_t)r;
		}
		m = pkts[i];
		if (i + 2 < n)
			sl_prefetch0(sl_mbuf_mtod(pkts[i + 2], void *));
		/* descriptors are read then written: fetch them owned, but
		 * only free ones (not those the consumer may be reading) */
		if (room > 3 * MEMIF_PREFETCH_AHEAD)
			sl_prefetch_w(ring_desc(
				ring, slot + 2 * MEMIF_PREFETCH_AHEAD, mask));
		if (room > MEMIF_PREFETCH_AHEAD)
			q_prefetch_buf(q,
				       ring_desc(ring,
						 slot + MEMIF_PREFETCH_AHEAD,
						 mask),
				       true);
		d = &ring->desc[slot & mask];
		dv = desc_load(d);
		cap = client ? q->bsize : dv.length;
		if (likely(m->nb_segs == 1 && m->data_len <= cap)) {
			dst = q_buf(q, dv.region, dv.offset, cap);
			if (unlikely(dst == NULL)) {
				q->bad_desc++;
				q_fault(q, MEMIF_FAULT_DESC, dv.offset, cap);
				break;
			}
			if (m->data_len <= MEMIF_COPY_BLOCK &&
			    cap >= MEMIF_COPY_BLOCK &&
			    m->data_off + MEMIF_COPY_BLOCK <= m->buf_len)
				memcpy(dst, sl_mbuf_mtod(m, const void *),
				       MEMIF_COPY_BLOCK);
			else
				memcpy(dst, sl_mbuf_mtod(m, const void *),
				       m->data_len);
			d->length = m->data_len;
			d->flags = 0;
			bytes += m->data_len;
			slot++;
			room--;
			continue;
		}
		r = tx_slow(q, ring, &slot, &room, m, client);
		if (r == 0 && !reread) {
			/* a chain needs more slots than the cached room: the
			 * consumer may have freed some since */
			reread = true;
			r = tx_room_read(q, ring, slot, client);
			if (r > room) {
				room = (uint16_t)r;
				r = tx_slow(q, ring, &slot, &room, m, client);
			} else if (r > 0) {
				r = 0;
			}
		}
		if (r <= 0) {
			if (r == 0)
				q->ring_full++;
			break;
		}
		bytes += m->pkt_len;
	}
	if (i > 0) {
		if (client)
			__atomic_store_n(&ring->head, slot, __ATOMIC_RELEASE);
		else
			__atomic_store_n(&ring->tail, slot, __ATOMIC_RELEASE);
		q->last = slot;
		if (!(__atomic_load_n(&ring->flags, __ATOMIC_RELAXED) &
		      MEMIF_RING_FLAG_MASK_INT) &&
		    q->kick_fd >= 0) {
			uint64_t one = 1;

			if (write(q->kick_fd, &one, sizeof(one)) ==
			    (ssize_t)sizeof(one))
				q->kicks++;
		}
	}
	q_leave(q);
	if (i > 0)
		sl_mbuf_free_bulk(pkts, i);
	q->port->tx.bytes += bytes;
	return i;
}

/* ---- burst functions, chosen at open ------------------------------------- */

uint16_t
memif_rx_client(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_rx(q, pkts, n, true, false);
}

uint16_t
memif_rx_server(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_rx(q, pkts, n, false, false);
}

uint16_t
memif_tx_client(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_tx(q, pkts, n, true, false);
}

uint16_t
memif_tx_server(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_tx(q, pkts, n, false, false);
}

uint16_t
memif_rx_client_fenced(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_rx(q, pkts, n, true, true);
}

uint16_t
memif_rx_server_fenced(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_rx(q, pkts, n, false, true);
}

uint16_t
memif_tx_client_fenced(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_tx(q, pkts, n, true, true);
}

uint16_t
memif_tx_server_fenced(void *q, struct sl_mbuf **pkts, uint16_t n)
{
	return memif_tx(q, pkts, n, false, true);
}
