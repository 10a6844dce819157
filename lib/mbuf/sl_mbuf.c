/*
 * Mbuf: pools of frames holding an mbuf each, and the operations too long
 * to inline (deep copy, reads across segments).
 */
#include <errno.h>
#include <string.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"

/* after the inline hot path: sl_log.h has a macro named SL_DEBUG */
#define SL_LOG_MODULE "mbuf"
#include "sluice/sl_log.h"

struct frame_layout {
	uint16_t headroom;
	uint16_t buf_len;
};

/* obj_init of an mbuf pool: the metadata of one frame. */
static void
mbuf_init(struct sl_mempool *mp, void *obj, uint32_t idx, void *arg)
{
	const struct frame_layout *fl = arg;
	struct sl_mbuf *m = obj;

	(void)idx;
	memset(m, 0, sizeof(*m));
	m->buf_addr = (char *)obj + sizeof(*m);
	m->buf_len = fl->buf_len;
	m->def_data_off = fl->headroom;
	m->pool = mp;
	sl_mbuf_reset(m);
}

struct sl_mempool *
sl_mbuf_pool_create(const struct sl_mbuf_pool_cfg *cfg)
{
	struct sl_mempool_cfg mcfg;
	struct frame_layout fl;
	const char *name;
	uint32_t headroom;
	int err;

	if (cfg == NULL) {
		SL_ERR("cannot create mbuf pool: cfg is NULL");
		err = -EINVAL;
		goto fail;
	}
	name = cfg->name != NULL ? cfg->name : "(NULL)";
	headroom = cfg->headroom != 0 ? cfg->headroom : SL_MBUF_HEADROOM;
	if (cfg->frame_size % SL_MBUF_FRAME_ALIGN != 0 ||
	    cfg->frame_size > SL_MBUF_FRAME_MAX ||
	    cfg->frame_size < SL_MBUF_META_SIZE + headroom + SL_MBUF_DATA_MIN) {
		SL_ERR("cannot create mbuf pool '%s': frame_size=%u must be a "
		       "multiple of %d from %u (%d of metadata + headroom %u + "
		       "%d of data) to %d",
		       name, cfg->frame_size, SL_MBUF_FRAME_ALIGN,
		       SL_MBUF_META_SIZE + headroom + SL_MBUF_DATA_MIN,
		       SL_MBUF_META_SIZE, headroom, SL_MBUF_DATA_MIN,
		       SL_MBUF_FRAME_MAX);
		err = -EINVAL;
		goto fail;
	}
	if ((uintptr_t)cfg->addr % SL_MBUF_FRAME_ALIGN != 0) {
		SL_ERR("cannot create mbuf pool '%s': addr=%p is not %d-byte "
		       "aligned",
		       name, cfg->addr, SL_MBUF_FRAME_ALIGN);
		err = -EINVAL;
		goto fail;
	}
	fl.headroom = (uint16_t)headroom;
	fl.buf_len = (uint16_t)(cfg->frame_size - SL_MBUF_META_SIZE);
	mcfg = (struct sl_mempool_cfg){
		.name = cfg->name,
		.n = cfg->n,
		.obj_size = cfg->frame_size,
		.cache_size = cfg->cache_size,
		.addr = cfg->addr,
		.len = cfg->len,
		.flags = cfg->flags,
		.obj_init = mbuf_init,
		.obj_init_arg = &fl,
	};
	/* sets errno and logs the field at fault */
	return sl_mempool_create(&mcfg);
fail:
	errno = -err;
	return NULL;
}

/* Copy the metadata that describes the packet, not the buffer. */
static void
copy_meta(struct sl_mbuf *d, const struct sl_mbuf *s)
{
	d->port = s->port;
	d->packet_type = s->packet_type;
	d->ol_flags = s->ol_flags;
	d->hash = s->hash;
	d->vlan_tci = s->vlan_tci;
	d->l2_len = s->l2_len;
	d->l3_len = s->l3_len;
	d->l4_len = s->l4_len;
	d->tso_segsz = s->tso_segsz;
	d->udata64 = s->udata64;
	d->timestamp = s->timestamp;
	memcpy(d->priv, s->priv, sizeof(d->priv));
}

struct sl_mbuf *
sl_mbuf_copy(const struct sl_mbuf *m, struct sl_mempool *mp)
{
	struct sl_mbuf *head, *dst, *seg;
	const struct sl_mbuf *src;
	uint32_t soff, room, chunk;
	int err;

	if (m == NULL || mp == NULL) {
		err = -EINVAL;
		goto fail;
	}
	head = sl_mbuf_alloc(mp);
	if (head == NULL) {
		err = -ENOBUFS;
		goto fail;
	}
	copy_meta(head, m);
	dst = head;
	for (src = m; src != NULL; src = src->next) {
		for (soff = 0; soff < src->data_len; soff += chunk) {
			room = sl_mbuf_tailroom(dst);
			if (room == 0) {
				if (head->nb_segs == SL_MBUF_MAX_SEGS) {
					err = -EOVERFLOW;
					goto free_copy;
				}
				seg = sl_mbuf_alloc(mp);
				if (seg == NULL) {
					err = -ENOBUFS;
					goto free_copy;
				}
				dst->next = seg;
				dst = seg;
				head->nb_segs++;
				room = sl_mbuf_tailroom(dst);
			}
			chunk = SL_MIN(room, (uint32_t)src->data_len - soff);
			memcpy(sl_mbuf_mtod_offset(dst, char *, dst->data_len),
			       sl_mbuf_mtod_offset(src, const char *, soff),
			       chunk);
			dst->data_len = (uint16_t)(dst->data_len + chunk);
			head->pkt_len += chunk;
		}
	}
	return head;
free_copy:
	sl_mbuf_free(head);
fail:
	errno = -err;
	return NULL;
}

int
sl_mbuf_read(const struct sl_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	const struct sl_mbuf *seg;
	char *out = buf;
	uint32_t chunk;

	if (m == NULL || (buf == NULL && len != 0) ||
	    (uint64_t)off + len > m->pkt_len)
		return -EINVAL;
	for (seg = m; seg != NULL && off >= seg->data_len; seg = seg->next)
		off -= seg->data_len;
	while (len != 0) {
		if (seg == NULL)
			return -EINVAL; /* pkt_len exceeds the chain's data */
		chunk = SL_MIN(len, (uint32_t)seg->data_len - off);
		memcpy(out, sl_mbuf_mtod_offset(seg, const char *, off), chunk);
		out += chunk;
		len -= chunk;
		off = 0;
		seg = seg->next;
	}
	return 0;
}
