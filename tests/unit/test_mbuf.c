/* Unit tests of the mbuf: layout, pools of frames, headroom/tailroom
 * operations, chains, copy, read across segments and frame lookups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_thread.h"

/* SL_DEBUG build? Read before sl_log.h, which has a macro of that name. */
#ifdef SL_DEBUG
#define TEST_SL_DEBUG 1
#endif
#include "sluice/sl_log.h"

#define FS 2048 /* frame size of the test pools */
#define NB 64	/* frames per test pool */

static struct sl_mempool *
mbuf_pool(const char *name, uint32_t n, uint32_t frame_size, uint32_t cache)
{
	struct sl_mbuf_pool_cfg cfg = {
		.name = name,
		.n = n,
		.frame_size = frame_size,
		.cache_size = cache,
		.flags = SL_MEMPOOL_F_NO_HUGE,
	};
	struct sl_mempool *mp = sl_mbuf_pool_create(&cfg);

	assert_non_null(mp);
	return mp;
}

static int
pool_setup(void **state)
{
	*state = mbuf_pool("mb", NB, FS, 8);
	return 0;
}

static int
pool_teardown(void **state)
{
	struct sl_mempool *mp = *state;

	/* every test returns every frame */
	if (sl_mempool_avail_count(mp) != NB)
		return -1;
	sl_mempool_destroy(mp);
	return 0;
}

/* an mbuf with len bytes of data: byte i is (seed + i) & 0xff */
static struct sl_mbuf *
mbuf_with_data(struct sl_mempool *mp, uint32_t len, uint8_t seed)
{
	struct sl_mbuf *m = sl_mbuf_alloc(mp);
	uint8_t *p;
	uint32_t i;

	assert_non_null(m);
	p = sl_mbuf_append(m, len);
	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return m;
}

/* ---- layout ---- */

static void
test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct sl_mbuf), 128);
	assert_int_equal(SL_MBUF_META_SIZE, sizeof(struct sl_mbuf));
	assert_int_equal(SL_MBUF_HEADROOM, 256);
	/* everything rx/tx touch is in cache line 0 */
	assert_true(offsetof(struct sl_mbuf, buf_addr) < 64);
	assert_true(offsetof(struct sl_mbuf, data_off) < 64);
	assert_true(offsetof(struct sl_mbuf, data_len) < 64);
	assert_true(offsetof(struct sl_mbuf, pkt_len) < 64);
	assert_true(offsetof(struct sl_mbuf, nb_segs) < 64);
	assert_true(offsetof(struct sl_mbuf, port) < 64);
	assert_true(offsetof(struct sl_mbuf, packet_type) < 64);
	assert_true(offsetof(struct sl_mbuf, hash) < 64);
	assert_true(offsetof(struct sl_mbuf, ol_flags) + 8 <= 64);
	assert_true(offsetof(struct sl_mbuf, l2_len) < 64);
	assert_true(offsetof(struct sl_mbuf, l3_len) < 64);
	assert_true(offsetof(struct sl_mbuf, l4_len) < 64);
	assert_true(offsetof(struct sl_mbuf, next) + 8 <= 64);
	assert_true(offsetof(struct sl_mbuf, pool) + 8 <= 64);
	/* cold fields in line 1 */
	assert_int_equal(offsetof(struct sl_mbuf, userdata), 64);
	assert_true(offsetof(struct sl_mbuf, timestamp) >= 64);
	assert_true(offsetof(struct sl_mbuf, priv) >= 64);
}

static void
test_ptype_and_flags(void **state)
{
	static const uint32_t l2[] = {SL_PTYPE_L2_ETHER, SL_PTYPE_L2_ETHER_VLAN,
				      SL_PTYPE_L2_ETHER_ARP, SL_PTYPE_L2_NONE};
	static const uint32_t l3[] = {SL_PTYPE_L3_IPV4, SL_PTYPE_L3_IPV4_EXT,
				      SL_PTYPE_L3_IPV6, SL_PTYPE_L3_IPV6_EXT};
	static const uint32_t l4[] = {SL_PTYPE_L4_TCP, SL_PTYPE_L4_UDP,
				      SL_PTYPE_L4_ICMP, SL_PTYPE_L4_FRAG,
				      SL_PTYPE_L4_OTHER};
	unsigned i;

	(void)state;
	assert_int_equal(SL_PTYPE_L2_MASK & SL_PTYPE_L3_MASK, 0);
	assert_int_equal(SL_PTYPE_L3_MASK & SL_PTYPE_L4_MASK, 0);
	for (i = 0; i < SL_DIM(l2); i++) {
		assert_int_equal(l2[i] & ~SL_PTYPE_L2_MASK, 0);
		assert_int_not_equal(l2[i], SL_PTYPE_UNKNOWN);
	}
	for (i = 0; i < SL_DIM(l3); i++)
		assert_int_equal(l3[i] & ~SL_PTYPE_L3_MASK, 0);
	for (i = 0; i < SL_DIM(l4); i++)
		assert_int_equal(l4[i] & ~SL_PTYPE_L4_MASK, 0);
	assert_true(SL_PTYPE_IS_IPV4(SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV4 |
				     SL_PTYPE_L4_UDP));
	assert_true(SL_PTYPE_IS_IPV4(SL_PTYPE_L2_NONE | SL_PTYPE_L3_IPV4_EXT));
	assert_false(SL_PTYPE_IS_IPV4(SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV6));
	assert_true(SL_PTYPE_IS_IPV6(SL_PTYPE_L3_IPV6_EXT | SL_PTYPE_L4_TCP));
	assert_false(SL_PTYPE_IS_IPV6(SL_PTYPE_L2_ETHER_ARP));
	assert_int_equal(SL_MBUF_F_RX_MASK & SL_MBUF_F_TX_MASK, 0);
	assert_int_equal((SL_MBUF_F_RX_RSS_HASH | SL_MBUF_F_RX_VLAN |
			  SL_MBUF_F_RX_IP_CKSUM_GOOD |
			  SL_MBUF_F_RX_IP_CKSUM_BAD |
			  SL_MBUF_F_RX_L4_CKSUM_GOOD |
			  SL_MBUF_F_RX_L4_CKSUM_BAD | SL_MBUF_F_RX_TIMESTAMP),
			 SL_MBUF_F_RX_MASK);
	assert_int_equal((SL_MBUF_F_TX_IPV4 | SL_MBUF_F_TX_IPV6 |
			  SL_MBUF_F_TX_IP_CKSUM | SL_MBUF_F_TX_UDP_CKSUM |
			  SL_MBUF_F_TX_TCP_CKSUM | SL_MBUF_F_TX_TCP_SEG |
			  SL_MBUF_F_TX_VLAN),
			 SL_MBUF_F_TX_MASK);
}

/* ---- pools ---- */

static void
expect_pool_einval(const struct sl_mbuf_pool_cfg *cfg)
{
	errno = 0;
	assert_null(sl_mbuf_pool_create(cfg));
	assert_int_equal(errno, EINVAL);
}

static void
test_pool_rejects_bad_cfg(void **state)
{
	struct sl_mbuf_pool_cfg cfg = {.name = "bad", .n = 8, .frame_size = FS};
	void *mem = aligned_alloc(4096, 8 * FS + 4096);

	(void)state;
	assert_non_null(mem);
	expect_pool_einval(NULL);
	cfg.frame_size = FS + 32; /* not a multiple of 64 */
	expect_pool_einval(&cfg);
	cfg.frame_size = 128 + 256 + 64 - 64; /* no data room */
	expect_pool_einval(&cfg);
	cfg.frame_size = 0;
	expect_pool_einval(&cfg);
	cfg.frame_size = 128 + 1024; /* too small for this headroom */
	cfg.headroom = 1024;
	expect_pool_einval(&cfg);
	cfg.headroom = 0;
	cfg.frame_size = SL_MBUF_FRAME_MAX + 64;
	expect_pool_einval(&cfg);
	cfg.frame_size = FS;
	cfg.addr = (char *)mem + 32; /* frames must be 64-byte aligned */
	cfg.len = 8 * FS;
	expect_pool_einval(&cfg);
	cfg.addr = mem;
	cfg.len = 8 * FS - 1; /* too small: the mempool says so */
	expect_pool_einval(&cfg);
	cfg.len = 8 * FS;
	cfg.name = NULL;
	expect_pool_einval(&cfg);
	cfg.name = "bad";
	cfg.n = 0;
	expect_pool_einval(&cfg);
	free(mem);
}

static void
test_pool_smallest_frame(void **state)
{
	struct sl_mempool *mp = mbuf_pool("small", 4, 128 + 256 + 64, 0);
	struct sl_mbuf *m = sl_mbuf_alloc(mp);

	(void)state;
	assert_non_null(m);
	assert_int_equal(m->buf_len, 256 + 64);
	assert_int_equal(sl_mbuf_tailroom(m), 64);
	sl_mbuf_free(m);
	sl_mempool_destroy(mp);
}

static void
test_fresh_mbuf(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = sl_mbuf_alloc(mp);
	uint32_t idx;

	assert_non_null(m);
	idx = sl_mempool_obj_index(mp, m);
	assert_ptr_equal(sl_mbuf_frame(m), m);
	assert_ptr_equal(sl_mbuf_frame(m), sl_mempool_obj_at(mp, idx));
	assert_ptr_equal(m->buf_addr, (char *)m + 128);
	assert_int_equal(m->buf_len, FS - 128);
	assert_int_equal(m->data_off, SL_MBUF_HEADROOM);
	assert_int_equal(sl_mbuf_headroom(m), SL_MBUF_HEADROOM);
	assert_int_equal(sl_mbuf_tailroom(m), FS - 128 - SL_MBUF_HEADROOM);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(m->nb_segs, 1);
	assert_null(m->next);
	assert_int_equal(m->port, SL_MBUF_PORT_NONE);
	assert_int_equal(m->packet_type, SL_PTYPE_UNKNOWN);
	assert_int_equal(m->ol_flags, 0);
	assert_ptr_equal(m->pool, mp);
	/* data at frame + 128 + 256: where AF_XDP writes with
	 * frame_headroom = sizeof(struct sl_mbuf) */
	assert_ptr_equal(sl_mbuf_data_addr(m), (char *)m + 128 + 256);
	assert_ptr_equal(sl_mbuf_mtod(m, char *), (char *)m + 384);
	assert_ptr_equal(sl_mbuf_mtod_offset(m, char *, 14), (char *)m + 398);
	assert_int_equal(sl_mbuf_pool_offset(m), (uint64_t)idx * FS + 384);
	sl_mbuf_free(m);
}

static void
test_custom_headroom(void **state)
{
	struct sl_mbuf_pool_cfg cfg = {.name = "hr",
				       .n = 8,
				       .frame_size = 1024,
				       .headroom = 64,
				       .flags = SL_MEMPOOL_F_NO_HUGE};
	struct sl_mempool *mp = sl_mbuf_pool_create(&cfg);
	struct sl_mbuf *m;

	(void)state;
	assert_non_null(mp);
	m = sl_mbuf_alloc(mp);
	assert_non_null(m);
	assert_int_equal(m->data_off, 64);
	assert_int_equal(sl_mbuf_tailroom(m), 1024 - 128 - 64);
	sl_mbuf_free(m);
	sl_mempool_destroy(mp);
}

static void
dirty(struct sl_mbuf *m)
{
	m->data_off = 10;
	m->data_len = 99;
	m->pkt_len = 99;
	m->nb_segs = 7;
	m->port = 3;
	m->packet_type = SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV4;
	m->ol_flags = SL_MBUF_F_RX_RSS_HASH;
	m->hash = 0x1234;
	m->vlan_tci = 5;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 8;
	m->tso_segsz = 1400;
}

static void
expect_fresh(const struct sl_mempool *mp, const struct sl_mbuf *m)
{
	assert_int_equal(m->data_off, SL_MBUF_HEADROOM);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->port, SL_MBUF_PORT_NONE);
	assert_int_equal(m->packet_type, 0);
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(m->hash, 0);
	assert_int_equal(m->vlan_tci, 0);
	assert_int_equal(m->l2_len + m->l3_len + m->l4_len + m->tso_segsz, 0);
	assert_null(m->next);
	assert_ptr_equal(m->buf_addr, (const char *)m + 128);
	assert_int_equal(m->buf_len, FS - 128);
	assert_ptr_equal(m->pool, mp);
}

static void
test_reset(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = sl_mbuf_alloc(mp);

	assert_non_null(m);
	dirty(m);
	m->udata64 = 77;
	sl_mbuf_reset(m);
	expect_fresh(mp, m);
	assert_int_equal(m->udata64, 77); /* line 1 is left alone */
	sl_mbuf_free(m);
}

/* every mbuf of the pool dirtied, freed, allocated again: all fresh */
static void
test_alloc_resets(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *ms[NB];
	unsigned i;

	assert_int_equal(sl_mbuf_alloc_bulk(mp, ms, NB), 0);
	for (i = 0; i < NB; i++)
		dirty(ms[i]);
	sl_mbuf_free_bulk(ms, NB);
	for (i = 0; i < NB; i++) {
		ms[i] = sl_mbuf_alloc(mp);
		assert_non_null(ms[i]);
		expect_fresh(mp, ms[i]);
	}
	sl_mbuf_free_bulk(ms, NB);
	assert_int_equal(sl_mbuf_alloc_bulk(mp, ms, NB), 0);
	for (i = 0; i < NB; i++)
		expect_fresh(mp, ms[i]);
	sl_mbuf_free_bulk(ms, NB);
}

static int
reg_setup(void **state)
{
	if (sl_thread_register("mbuf-test") < 0)
		return -1;
	return pool_setup(state);
}

static int
reg_teardown(void **state)
{
	int ret = pool_teardown(state);

	sl_thread_unregister();
	return ret;
}

/* on a cached thread, the mbuf just freed is the next one allocated and
 * alloc cleans what the previous user left */
static void
test_alloc_resets_cached(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = sl_mbuf_alloc(mp), *m2;

	assert_non_null(m);
	assert_non_null(sl_mbuf_append(m, 100));
	m->ol_flags = SL_MBUF_F_TX_IP_CKSUM;
	m->port = 1;
	sl_mbuf_free(m);
	m2 = sl_mbuf_alloc(mp);
	assert_ptr_equal(m2, m);
	assert_int_equal(m2->data_len, 0);
	assert_int_equal(m2->pkt_len, 0);
	assert_int_equal(m2->ol_flags, 0);
	assert_int_equal(m2->port, SL_MBUF_PORT_NONE);
	assert_int_equal(m2->data_off, SL_MBUF_HEADROOM);
	sl_mbuf_free(m2);
}

static void
test_alloc_bulk_free_bulk(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *ms[NB + 1], *one;
	unsigned i;

	assert_int_equal(sl_mbuf_alloc_bulk(mp, ms, NB), 0);
	for (i = 0; i < NB; i++) {
		assert_true(sl_mempool_contains(mp, ms[i]));
		assert_int_equal(ms[i]->data_off, SL_MBUF_HEADROOM);
		assert_int_equal(ms[i]->nb_segs, 1);
	}
	assert_int_equal(sl_mbuf_alloc_bulk(mp, &ms[NB], 1), -ENOBUFS);
	errno = 0;
	assert_null(sl_mbuf_alloc(mp));
	assert_int_equal(errno, ENOBUFS);
	/* chains and NULL entries in a bulk free */
	assert_int_equal(sl_mbuf_chain(ms[0], ms[1]), 0);
	assert_int_equal(sl_mbuf_chain(ms[0], ms[2]), 0);
	ms[1] = NULL;
	ms[2] = NULL;
	sl_mbuf_free_bulk(ms, NB);
	assert_int_equal(sl_mempool_avail_count(mp), NB);
	sl_mbuf_free_bulk(ms, 0);
	sl_mbuf_free(NULL);
	one = sl_mbuf_alloc(mp);
	assert_non_null(one);
	sl_mbuf_free_bulk(&one, 1);
}

/* one bulk free returns mbufs of two pools, interleaved, to their own */
static void
test_free_bulk_two_pools(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mempool *mp2 = mbuf_pool("mb2", 200, 1024, 0);
	struct sl_mbuf *ms[2 * 100];
	unsigned i;

	for (i = 0; i < 200; i++) {
		ms[i] = sl_mbuf_alloc(i % 3 == 0 && i < 150 ? mp : mp2);
		assert_non_null(ms[i]);
	}
	assert_int_equal(sl_mempool_in_use_count(mp), 50);
	assert_int_equal(sl_mempool_in_use_count(mp2), 150);
	sl_mbuf_free_bulk(ms, 200);
	assert_int_equal(sl_mempool_in_use_count(mp), 0);
	assert_int_equal(sl_mempool_in_use_count(mp2), 0);
	sl_mempool_destroy(mp2);
}

/* ---- headroom and tailroom ---- */

static void
test_prepend(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = mbuf_with_data(mp, 100, 0);
	struct sl_mbuf snap;
	char *data = sl_mbuf_mtod(m, char *), *p;

	p = sl_mbuf_prepend(m, 14);
	assert_ptr_equal(p, data - 14);
	assert_int_equal(m->data_len, 114);
	assert_int_equal(m->pkt_len, 114);
	assert_int_equal(sl_mbuf_headroom(m), SL_MBUF_HEADROOM - 14);
	/* beyond the headroom: NULL, errno, nothing changed */
	memcpy(&snap, m, sizeof(snap));
	errno = 0;
	assert_null(sl_mbuf_prepend(m, SL_MBUF_HEADROOM - 14 + 1));
	assert_int_equal(errno, ENOSPC);
	assert_memory_equal(&snap, m, sizeof(snap));
	assert_null(sl_mbuf_prepend(m, 70000)); /* not truncated to 16 bits */
	assert_memory_equal(&snap, m, sizeof(snap));
	/* exactly the headroom */
	p = sl_mbuf_prepend(m, SL_MBUF_HEADROOM - 14);
	assert_ptr_equal(p, m->buf_addr);
	assert_int_equal(sl_mbuf_headroom(m), 0);
	assert_int_equal(m->pkt_len, 100 + SL_MBUF_HEADROOM);
	assert_null(sl_mbuf_prepend(m, 1));
	assert_non_null(sl_mbuf_prepend(m, 0));
	sl_mbuf_free(m);
}

static void
test_append(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = sl_mbuf_alloc(mp);
	struct sl_mbuf snap;
	uint16_t room = FS - 128 - SL_MBUF_HEADROOM;
	char *p;

	assert_non_null(m);
	p = sl_mbuf_append(m, 60);
	assert_ptr_equal(p, sl_mbuf_mtod(m, char *));
	p = sl_mbuf_append(m, 40);
	assert_ptr_equal(p, sl_mbuf_mtod_offset(m, char *, 60));
	assert_int_equal(m->data_len, 100);
	assert_int_equal(m->pkt_len, 100);
	assert_int_equal(sl_mbuf_tailroom(m), room - 100);
	memcpy(&snap, m, sizeof(snap));
	errno = 0;
	assert_null(sl_mbuf_append(m, room - 100 + 1u));
	assert_int_equal(errno, ENOSPC);
	assert_memory_equal(&snap, m, sizeof(snap));
	assert_null(sl_mbuf_append(m, 65536 + 10));
	assert_memory_equal(&snap, m, sizeof(snap));
	assert_non_null(sl_mbuf_append(m, room - 100u));
	assert_int_equal(sl_mbuf_tailroom(m), 0);
	assert_int_equal(m->pkt_len, room);
	assert_null(sl_mbuf_append(m, 1));
	sl_mbuf_free(m);
}

static void
test_append_on_chain(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *a = mbuf_with_data(mp, 10, 0);
	struct sl_mbuf *b = mbuf_with_data(mp, 20, 0);
	char *p;

	assert_int_equal(sl_mbuf_chain(a, b), 0);
	p = sl_mbuf_append(a, 5);
	assert_ptr_equal(p, sl_mbuf_mtod_offset(b, char *, 20));
	assert_int_equal(a->data_len, 10);
	assert_int_equal(b->data_len, 25);
	assert_int_equal(a->pkt_len, 35);
	sl_mbuf_free(a);
}

static void
test_adj_trim(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = mbuf_with_data(mp, 100, 0);
	struct sl_mbuf snap;

	assert_int_equal(sl_mbuf_adj(m, 14), 0);
	assert_int_equal(m->data_len, 86);
	assert_int_equal(m->pkt_len, 86);
	assert_int_equal(sl_mbuf_headroom(m), SL_MBUF_HEADROOM + 14);
	assert_int_equal(*sl_mbuf_mtod(m, uint8_t *), 14);
	assert_int_equal(sl_mbuf_trim(m, 6), 0);
	assert_int_equal(m->data_len, 80);
	assert_int_equal(m->pkt_len, 80);
	memcpy(&snap, m, sizeof(snap));
	assert_int_equal(sl_mbuf_adj(m, 81), -EINVAL);
	assert_int_equal(sl_mbuf_trim(m, 81), -EINVAL);
	assert_int_equal(sl_mbuf_adj(m, 70000), -EINVAL);
	assert_int_equal(sl_mbuf_trim(m, 70000), -EINVAL);
	assert_memory_equal(&snap, m, sizeof(snap));
	assert_int_equal(sl_mbuf_adj(m, 0), 0);
	assert_int_equal(sl_mbuf_trim(m, 40), 0);
	assert_int_equal(sl_mbuf_adj(m, 40), 0);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(sl_mbuf_adj(m, 1), -EINVAL);
	assert_int_equal(sl_mbuf_trim(m, 1), -EINVAL);
	sl_mbuf_free(m);
}

/* adj works on the first segment, trim on the last */
static void
test_adj_trim_chain(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *a = mbuf_with_data(mp, 30, 0);
	struct sl_mbuf *b = mbuf_with_data(mp, 50, 0);
	struct sl_mbuf snap_a, snap_b;

	assert_int_equal(sl_mbuf_chain(a, b), 0);
	memcpy(&snap_a, a, sizeof(snap_a));
	memcpy(&snap_b, b, sizeof(snap_b));
	assert_int_equal(sl_mbuf_adj(a, 31), -EINVAL); /* < pkt_len, > seg */
	assert_int_equal(sl_mbuf_trim(a, 51), -EINVAL);
	assert_memory_equal(&snap_a, a, sizeof(snap_a));
	assert_memory_equal(&snap_b, b, sizeof(snap_b));
	assert_int_equal(sl_mbuf_adj(a, 30), 0);
	assert_int_equal(a->data_len, 0);
	assert_int_equal(sl_mbuf_trim(a, 50), 0);
	assert_int_equal(b->data_len, 0);
	assert_int_equal(a->pkt_len, 0);
	sl_mbuf_free(a);
}

/* ---- chains ---- */

static void
test_chain(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *a = mbuf_with_data(mp, 100, 0);
	struct sl_mbuf *b = mbuf_with_data(mp, 200, 0);
	struct sl_mbuf *c = mbuf_with_data(mp, 300, 0);
	struct sl_mbuf *d = mbuf_with_data(mp, 1, 0);
	struct sl_mbuf snap;

	assert_int_equal(sl_mempool_in_use_count(mp), 4);
	assert_int_equal(sl_mbuf_chain(b, c), 0); /* b -> c */
	assert_int_equal(b->nb_segs, 2);
	assert_int_equal(b->pkt_len, 500);
	assert_int_equal(sl_mbuf_chain(a, b), 0); /* a -> b -> c */
	assert_int_equal(a->nb_segs, 3);
	assert_int_equal(a->pkt_len, 600);
	assert_ptr_equal(a->next, b);
	assert_ptr_equal(b->next, c);
	assert_null(c->next);
	assert_ptr_equal(sl_mbuf_last_seg(a), c);
	assert_ptr_equal(sl_mbuf_last_seg(c), c);
	/* errors */
	assert_int_equal(sl_mbuf_chain(NULL, d), -EINVAL);
	assert_int_equal(sl_mbuf_chain(a, NULL), -EINVAL);
	assert_int_equal(sl_mbuf_chain(a, a), -EINVAL);
	memcpy(&snap, a, sizeof(snap));
	d->nb_segs = SL_MBUF_MAX_SEGS - 2; /* 3 + 254 segments */
	assert_int_equal(sl_mbuf_chain(a, d), -EOVERFLOW);
	assert_memory_equal(&snap, a, sizeof(snap));
	assert_null(c->next);
	d->nb_segs = 1;
	d->pkt_len = UINT32_MAX - 599; /* 4 GB of packet */
	assert_int_equal(sl_mbuf_chain(a, d), -EOVERFLOW);
	assert_memory_equal(&snap, a, sizeof(snap));
	d->pkt_len = 1;
	d->nb_segs = SL_MBUF_MAX_SEGS - 3; /* exactly the maximum: fine */
	assert_int_equal(sl_mbuf_chain(a, d), 0);
	assert_int_equal(a->nb_segs, SL_MBUF_MAX_SEGS);
	assert_int_equal(a->pkt_len, 601);
	/* freeing the head returns every segment */
	sl_mbuf_free(a);
	assert_int_equal(sl_mempool_in_use_count(mp), 0);
	assert_int_equal(sl_mempool_avail_count(mp), NB);
}

static struct sl_mbuf *
chain_of(struct sl_mempool *mp, const uint32_t *lens, unsigned n, uint8_t seed)
{
	struct sl_mbuf *head = NULL, *m;
	uint32_t total = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		m = mbuf_with_data(mp, lens[i], (uint8_t)(seed + total));
		total += lens[i];
		if (head == NULL)
			head = m;
		else
			assert_int_equal(sl_mbuf_chain(head, m), 0);
	}
	return head;
}

/* ---- read and copy ---- */

static void
test_read_across_segments(void **state)
{
	static const uint32_t lens[] = {100, 1, 0, 700, 250};
	struct sl_mempool *mp = *state;
	struct sl_mbuf *m = chain_of(mp, lens, SL_DIM(lens), 7);
	uint8_t buf[1100];
	uint32_t off, len, i;

	assert_int_equal(m->pkt_len, 1051);
	assert_int_equal(m->nb_segs, 5);
	for (off = 0; off <= 1051; off += 13) {
		for (len = 0; off + len <= 1051; len += 97) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(sl_mbuf_read(m, off, len, buf), 0);
			for (i = 0; i < len; i++)
				assert_int_equal(buf[i],
						 (uint8_t)(7 + off + i));
			assert_int_equal(buf[len], 0xee);
		}
	}
	assert_int_equal(sl_mbuf_read(m, 0, 1051, buf), 0);
	assert_int_equal(sl_mbuf_read(m, 1051, 0, buf), 0);
	assert_int_equal(sl_mbuf_read(m, 1051, 1, buf), -EINVAL);
	assert_int_equal(sl_mbuf_read(m, 0, 1052, buf), -EINVAL);
	assert_int_equal(sl_mbuf_read(m, UINT32_MAX, 2, buf), -EINVAL);
	assert_int_equal(sl_mbuf_read(m, 1, UINT32_MAX, buf), -EINVAL);
	assert_int_equal(sl_mbuf_read(NULL, 0, 1, buf), -EINVAL);
	assert_int_equal(sl_mbuf_read(m, 0, 1, NULL), -EINVAL);
	assert_int_equal(sl_mbuf_read(m, 0, 0, NULL), 0);
	sl_mbuf_free(m);
}

static void
test_copy_chain(void **state)
{
	static const uint32_t lens[] = {1000, 1664, 3, 500};
	struct sl_mempool *mp = *state;
	/* frames of 512: 128 B of room per segment after the headroom */
	struct sl_mempool *small = mbuf_pool("small", 64, 512, 0);
	struct sl_mbuf *m = chain_of(mp, lens, SL_DIM(lens), 3), *c, *s;
	uint8_t a[3200], b[3200];
	unsigned segs = 0;

	m->port = 4;
	m->packet_type = SL_PTYPE_L2_ETHER | SL_PTYPE_L3_IPV6 | SL_PTYPE_L4_TCP;
	m->ol_flags = SL_MBUF_F_RX_RSS_HASH | SL_MBUF_F_RX_L4_CKSUM_GOOD;
	m->hash = 0xdeadbeef;
	m->vlan_tci = 42;
	m->l2_len = 14;
	m->l3_len = 40;
	m->l4_len = 20;
	m->tso_segsz = 1440;
	m->udata64 = 0x1122334455667788ull;
	m->timestamp = 123456789;
	memset(m->priv, 0x5c, sizeof(m->priv));

	/* same pool: same frame size */
	c = sl_mbuf_copy(m, mp);
	assert_non_null(c);
	assert_ptr_not_equal(c, m);
	assert_int_equal(c->pkt_len, m->pkt_len);
	assert_int_equal(sl_mbuf_read(m, 0, m->pkt_len, a), 0);
	memset(b, 0, sizeof(b));
	assert_int_equal(sl_mbuf_read(c, 0, c->pkt_len, b), 0);
	assert_memory_equal(a, b, m->pkt_len);
	assert_int_equal(c->port, 4);
	assert_int_equal(c->packet_type, m->packet_type);
	assert_int_equal(c->ol_flags, m->ol_flags);
	assert_int_equal(c->hash, 0xdeadbeef);
	assert_int_equal(c->vlan_tci, 42);
	assert_int_equal(c->l2_len, 14);
	assert_int_equal(c->l3_len, 40);
	assert_int_equal(c->l4_len, 20);
	assert_int_equal(c->tso_segsz, 1440);
	assert_int_equal(c->udata64, 0x1122334455667788ull);
	assert_int_equal(c->timestamp, 123456789);
	assert_memory_equal(c->priv, m->priv, sizeof(m->priv));
	assert_ptr_equal(c->pool, mp);
	/* the copy is independent of the original */
	*sl_mbuf_mtod(c, uint8_t *) ^= 0xff;
	assert_int_equal(*sl_mbuf_mtod(m, uint8_t *), 3);
	sl_mbuf_free(c);

	/* into smaller frames: more segments, same bytes */
	c = sl_mbuf_copy(m, small);
	assert_non_null(c);
	assert_int_equal(c->pkt_len, 3167);
	for (s = c; s != NULL; s = s->next) {
		segs++;
		assert_ptr_equal(s->pool, small);
		assert_true(s->data_len <= 128);
	}
	assert_int_equal(c->nb_segs, segs);
	assert_int_equal(segs, (3167 + 127) / 128);
	memset(b, 0, sizeof(b));
	assert_int_equal(sl_mbuf_read(c, 0, c->pkt_len, b), 0);
	assert_memory_equal(a, b, m->pkt_len);
	assert_int_equal(c->hash, 0xdeadbeef);
	assert_int_equal(sl_mempool_in_use_count(small), segs);
	sl_mbuf_free(c);
	assert_int_equal(sl_mempool_in_use_count(small), 0);

	sl_mbuf_free(m);
	sl_mempool_destroy(small);
}

static void
test_copy_errors(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mempool *tiny = mbuf_pool("tiny", 4, 512, 0);
	struct sl_mbuf *m = mbuf_with_data(mp, 1000, 0), *e, *c;

	errno = 0;
	assert_null(sl_mbuf_copy(NULL, mp));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_mbuf_copy(m, NULL));
	assert_int_equal(errno, EINVAL);
	/* 1000 bytes need 8 frames of 128 B; tiny has 4: nothing leaks */
	errno = 0;
	assert_null(sl_mbuf_copy(m, tiny));
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(sl_mempool_avail_count(tiny), 4);
	/* an empty pool */
	sl_mbuf_free(m);
	m = mbuf_with_data(tiny, 10, 0);
	e = sl_mbuf_alloc(tiny);
	assert_non_null(e);
	assert_int_equal(sl_mempool_avail_count(tiny), 2);
	/* an empty packet copies to one empty mbuf */
	c = sl_mbuf_copy(e, tiny);
	assert_non_null(c);
	assert_int_equal(c->pkt_len, 0);
	assert_int_equal(c->nb_segs, 1);
	sl_mbuf_free(c);
	sl_mbuf_free(e);
	sl_mbuf_free(m);
	assert_int_equal(sl_mempool_avail_count(tiny), 4);
	sl_mempool_destroy(tiny);
}

/* ---- frames ---- */

static void
test_from_frame(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mbuf *ms[4];
	char *base = sl_mempool_base(mp);
	unsigned i;

	assert_int_equal(sl_mbuf_alloc_bulk(mp, ms, 4), 0);
	for (i = 0; i < 4; i++) {
		char *f = sl_mbuf_frame(ms[i]);

		assert_ptr_equal(sl_mbuf_from_frame(mp, f), ms[i]);
		assert_ptr_equal(sl_mbuf_from_frame(mp, f + 1), ms[i]);
		assert_ptr_equal(sl_mbuf_from_frame(mp, f + 128), ms[i]);
		assert_ptr_equal(
			sl_mbuf_from_frame(mp, sl_mbuf_data_addr(ms[i])),
			ms[i]);
		assert_ptr_equal(sl_mbuf_from_frame(mp, f + FS - 1), ms[i]);
		/* the AF_XDP descriptor address maps back to the mbuf */
		assert_ptr_equal(sl_mbuf_from_frame(
					 mp, base + sl_mbuf_pool_offset(ms[i])),
				 ms[i]);
	}
	errno = 0;
	assert_null(sl_mbuf_from_frame(mp, base - 1));
	assert_int_equal(errno, EINVAL);
	assert_null(sl_mbuf_from_frame(mp, base + (size_t)NB * FS));
	assert_ptr_equal(sl_mbuf_from_frame(mp, base + (size_t)NB * FS - 1),
			 sl_mempool_obj_at(mp, NB - 1));
	sl_mbuf_free_bulk(ms, 4);
}

/* a UMEM-style pool on caller memory: frame i of the memory is mbuf i */
static void
test_umem_pool(void **state)
{
	const uint32_t n = 16, fs = 4096;
	size_t len = (size_t)n * fs;
	char *umem = aligned_alloc(4096, len);
	struct sl_mbuf_pool_cfg cfg = {.name = "umem",
				       .n = n,
				       .frame_size = fs,
				       .cache_size = 4,
				       .addr = umem,
				       .len = len};
	struct sl_mempool *mp;
	struct sl_mbuf *m;
	uint32_t i;

	(void)state;
	assert_non_null(umem);
	memset(umem, 0, len);
	mp = sl_mbuf_pool_create(&cfg);
	assert_non_null(mp);
	assert_ptr_equal(sl_mempool_base(mp), umem);
	for (i = 0; i < n; i++) {
		char *frame = umem + (size_t)i * fs;

		m = sl_mbuf_from_frame(mp, frame + 128 + 256 + 77);
		assert_ptr_equal(m, frame);
		assert_ptr_equal(m->buf_addr, frame + 128);
		assert_int_equal(m->buf_len, fs - 128);
		assert_ptr_equal(m->pool, mp);
		assert_int_equal(sl_mbuf_pool_offset(m),
				 (uint64_t)i * fs + 384);
	}
	/* "RX": a frame handed to the kernel comes back with 60 bytes at
	 * the descriptor address base + pool_offset */
	m = sl_mbuf_alloc(mp);
	assert_non_null(m);
	i = (uint32_t)sl_mbuf_pool_offset(m);
	memset(umem + i, 0xab, 60);
	assert_ptr_equal(sl_mbuf_from_frame(mp, umem + i), m);
	m->data_len = 60;
	m->pkt_len = 60;
	assert_int_equal(sl_mbuf_mtod(m, uint8_t *)[0], 0xab);
	assert_int_equal(sl_mbuf_mtod(m, uint8_t *)[59], 0xab);
	assert_int_equal(sl_mbuf_mtod(m, uint8_t *)[60], 0);
	sl_mbuf_free(m);
	assert_int_equal(sl_mempool_avail_count(mp), n);
	sl_mempool_destroy(mp);
	free(umem);
}

#ifdef TEST_SL_DEBUG
/* SL_DEBUG: freeing an mbuf twice is refused and counted */
static void
test_debug_double_free(void **state)
{
	struct sl_mempool *mp = *state;
	struct sl_mempool_stats st;
	struct sl_mbuf *m = sl_mbuf_alloc(mp);

	assert_non_null(m);
	sl_mbuf_free(m);
	sl_mbuf_free(m);
	assert_int_equal(sl_mempool_stats_get(mp, &st), 0);
	assert_int_equal(st.bad_puts, 1);
	assert_int_equal(sl_mempool_avail_count(mp), NB);
}
#endif

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_ptype_and_flags),
		cmocka_unit_test(test_pool_rejects_bad_cfg),
		cmocka_unit_test(test_pool_smallest_frame),
		cmocka_unit_test_setup_teardown(test_fresh_mbuf, pool_setup,
						pool_teardown),
		cmocka_unit_test(test_custom_headroom),
		cmocka_unit_test_setup_teardown(test_reset, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_resets, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_resets_cached,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_bulk_free_bulk,
						pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_bulk_free_bulk,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_free_bulk_two_pools,
						reg_setup, reg_teardown),
		cmocka_unit_test_setup_teardown(test_prepend, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_append, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_append_on_chain,
						pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_adj_trim, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_adj_trim_chain, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_chain, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_read_across_segments,
						pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_copy_chain, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_copy_errors, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_from_frame, pool_setup,
						pool_teardown),
		cmocka_unit_test(test_umem_pool),
#ifdef TEST_SL_DEBUG
		cmocka_unit_test_setup_teardown(test_debug_double_free,
						reg_setup, reg_teardown),
#endif
	};

	(void)sl_log_set_level(NULL, SL_LOG_ERR);
	return cmocka_run_group_tests_name("mbuf", t, NULL, NULL);
}
