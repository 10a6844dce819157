/*
 * bench-lookup-hash: sluice's cuckoo hash table (sl_hash) side by side with
 * DPDK's rte_hash, bulk lookups, in one process, on the same pinned CPU.
 *
 * Fairness rules kept here (see docs/performance.md):
 * - the same keys are inserted into both tables, created for the same
 *   number of entries (each sizes its buckets by its own rule) and filled
 *   to 90 % of it; values are the key numbers + 1 on both sides;
 * - rte_hash uses CRC32C (rte_hash_crc, inlined from DPDK's header and
 *   compiled with the project's flags), as sl_hash does;
 * - rte_hash is created with RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, the
 *   model of sl_hash (lock-free readers, one writer): those are the main
 *   rows. The same cases against an rte_hash made without flags (no reader
 *   protection at all) are extra rows marked "(no LF)";
 * - both sides read the same lookup streams: the keys copied one after the
 *   other (as they would come out of packets), 2^20 lookups in random order
 *   over the inserted keys ("hit"), half of them keys that are not in the
 *   table ("50% miss"), or only such keys ("all miss", a flood of unknown
 *   flows), through the same loop body instantiated for each library, with
 *   the bulk size hidden from the optimiser;
 * - each side's answers are checked once against the expected ones (every
 *   hit bit and value), and every timed pass must count the expected number
 *   of hits;
 * - both tables on the same kind of pages: sluice asks for transparent
 *   huge pages (SL_MEM_F_THP) unless hugepages are free, DPDK's tables
 *   live on an external heap of the same kind of memory (bench_heap; its
 *   --no-huge memory would be 4 KB pages), so that a row compares
 *   lookups, not TLB misses;
 * - repetitions alternate sluice/DPDK (ABBA), each after a short warm-up;
 *   the median is reported.
 *
 * Exit status: 0, 1 when a row has no valid value, 2 on bad usage,
 * 77 when DPDK's EAL cannot start here.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "sluice/sl_hash.h"
#include "sluice/sl_mem.h"
#include "sluice/sl_thread.h"
#include "sluice/sl_time.h"

#include "bench_common.h"
#include "bench_eal.h"

#define MAX_BULK 64u
/* Lookups per pass (normal, --quick), a multiple of MAX_BULK. */
#define STREAM_LEN (1u << 20)
#define STREAM_LEN_QUICK (1u << 12)
/* Keys inserted: 90 % of the table's entries. */
#define FILL_NUM 9
#define FILL_DEN 10
/* DPDK's external heap: room for both tables of the largest dataset */
#define HEAP_LEN (512ul << 20)

static const char *const prog = "bench-lookup-hash";

/* A 5-tuple as a 16-byte key. */
struct tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto, pad[3];
};
SL_STATIC_ASSERT(sizeof(struct tuple) == 16, "the tuple key is 16 bytes");

/* A bijection of 32-bit numbers: distinct key numbers, distinct keys. */
static uint32_t
mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Key number i of a length (4: an address; 16: a 5-tuple). */
static void
key_make(uint8_t *k, uint32_t key_len, uint32_t i, uint64_t *rs)
{
	uint32_t a = mix32(i);
	struct tuple t;

	if (key_len == 4) {
		memcpy(k, &a, 4);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.src = a; /* distinct per key */
	t.dst = 0xc0a80000u | (uint32_t)(rnd(rs) & 0xffff);
	t.sport = (uint16_t)rnd(rs);
	t.dport = (uint16_t)(rnd(rs) % 1024);
	t.proto = rnd(rs) & 1 ? 6 : 17;
	memcpy(k, &t, sizeof(t));
}

/* A lookup stream: keys back to back, and which key each one is. */
struct stream {
	uint8_t *keys;
	const void **ptrs;
	uint32_t *ids; /* key number, or UINT32_MAX: not in the table */
	uint64_t hits;
};

/* One table size and key length, with its keys, streams and tables. */
struct dataset {
	uint32_t key_len, entries, nkeys, nmiss, len;
	char label[24]; /* "16B/1M" */
	uint8_t *keys;	/* nkeys inserted, then nmiss never inserted */
	struct stream hit, mix, miss;
	struct sl_hash *sh;
	struct rte_hash *rh_lf, *rh_plain;
};

struct bench {
	struct bench_opts opts;
	struct bench_report report;
	int cpu;
	struct bench_heap heap; /* DPDK's tables */
	unsigned failures;
};

static void
fail(struct bench *b, const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	b->failures++;
}

static void
fill_nan(double *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		v[i] = NAN;
}

/*
 * One pass over a stream in bulks of n: cycles per lookup, NAN when the
 * hits counted are not the expected number.
 */
#define DEFINE_LOOKUP_LOOP(fn, table_t, val_t, call)                           \
	static __attribute__((noinline)) double fn(                            \
		const table_t *t, const void **ptrs, uint32_t len, unsigned n, \
		uint64_t want_hits)                                            \
	{                                                                      \
		val_t vals[MAX_BULK];                                          \
		uint64_t hits = 0, mask = 0, t0, t1;                           \
		uint32_t off;                                                  \
                                                                               \
		BENCH_OPAQUE(n);                                               \
		t0 = sl_tsc();                                                 \
		for (off = 0; off + n <= len; off += n) {                      \
			(void)call(t, ptrs + off, n, &mask, vals);             \
			hits += (uint64_t)__builtin_popcountll(mask);          \
		}                                                              \
		t1 = sl_tsc();                                                 \
		BENCH_USE(vals[0]);                                            \
		if (hits != want_hits)                                         \
			return NAN;                                            \
		return (double)(t1 - t0) / (double)len;                        \
	}

DEFINE_LOOKUP_LOOP(loop_sl, struct sl_hash, uint64_t, sl_hash_lookup_bulk)
DEFINE_LOOKUP_LOOP(loop_rte, struct rte_hash, void *, rte_hash_lookup_bulk_data)

/* Check every answer of one side over a stream. @return errors. */
static uint64_t
verify(const struct dataset *d, const struct stream *s, struct rte_hash *rh)
{
	uint64_t vals[MAX_BULK], mask, errors = 0;
	void *data[MAX_BULK];
	uint32_t off, i;
	int ret;

	for (off = 0; off < d->len; off += MAX_BULK) {
		if (rh != NULL)
			ret = rte_hash_lookup_bulk_data(rh, s->ptrs + off,
							MAX_BULK, &mask, data);
		else
			ret = sl_hash_lookup_bulk(d->sh, s->ptrs + off,
						  MAX_BULK, &mask, vals);
		if (ret != __builtin_popcountll(mask))
			errors++;
		for (i = 0; i < MAX_BULK; i++) {
			uint32_t id = s->ids[off + i];
			bool hit = mask >> i & 1;
			uint64_t v = rh != NULL ? (uintptr_t)data[i] : vals[i];

			if (hit != (id != UINT32_MAX) ||
			    (hit && v != (uint64_t)id + 1))
				errors++;
		}
	}
	return errors;
}

/* @return errors of one side over every stream. */
static uint64_t
verify_all(const struct dataset *d, struct rte_hash *rh)
{
	return verify(d, &d->hit, rh) + verify(d, &d->mix, rh) +
	       verify(d, &d->miss, rh);
}

static int
stream_make(struct dataset *d, struct stream *s, unsigned miss_pct,
	    uint64_t *rs)
{
	uint32_t i, id;

	s->keys = malloc((size_t)d->len * d->key_len);
	s->ptrs = malloc((size_t)d->len * sizeof(*s->ptrs));
	s->ids = malloc((size_t)d->len * sizeof(*s->ids));
	if (s->keys == NULL || s->ptrs == NULL || s->ids == NULL)
		return -ENOMEM;
	s->hits = 0;
	for (i = 0; i < d->len; i++) {
		bool miss = rnd(rs) % 100 < miss_pct;

		if (miss) {
			id = d->nkeys + (uint32_t)(rnd(rs) % d->nmiss);
			s->ids[i] = UINT32_MAX;
		} else {
			id = (uint32_t)(rnd(rs) % d->nkeys);
			s->ids[i] = id;
			s->hits++;
		}
		memcpy(s->keys + (size_t)i * d->key_len,
		       d->keys + (size_t)id * d->key_len, d->key_len);
		s->ptrs[i] = s->keys + (size_t)i * d->key_len;
	}
	return 0;
}

static void
stream_free(struct stream *s)
{
	free(s->keys);
	free(s->ptrs);
	free(s->ids);
}

static struct rte_hash *
rte_table(struct bench *b, const struct dataset *d, const char *name,
	  uint8_t flags)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = d->entries,
		.key_len = d->key_len,
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = b->heap.socket,
		.extra_flag = flags,
	};
	struct rte_hash *rh = rte_hash_create(&p);
	uint32_t i;
	int ret;

	if (rh == NULL) {
		fail(b, "rte_hash_create", rte_strerror(rte_errno));
		return NULL;
	}
	for (i = 0; i < d->nkeys; i++) {
		ret = rte_hash_add_key_data(rh,
					    d->keys + (size_t)i * d->key_len,
					    (void *)(uintptr_t)(i + 1));
		if (ret < 0) {
			fprintf(stderr, "%s: %s: key %u of %u: %s\n", prog,
				name, i, d->nkeys, strerror(-ret));
			fail(b, "rte_hash_add_key_data", "failed");
			rte_hash_free(rh);
			return NULL;
		}
	}
	return rh;
}

static int
dataset_make(struct bench *b, struct dataset *d, uint32_t key_len,
	     uint32_t entries)
{
	uint64_t rs = 0x5eed0000ull + key_len * 131ull + entries;
	uint32_t i;
	int ret;

	memset(d, 0, sizeof(*d));
	d->key_len = key_len;
	d->entries = entries;
	d->nkeys = (uint32_t)((uint64_t)entries * FILL_NUM / FILL_DEN);
	d->nmiss = d->nkeys;
	d->len = b->opts.quick ? STREAM_LEN_QUICK : STREAM_LEN;
	if (entries >= (1u << 20))
		snprintf(d->label, sizeof(d->label), "%uB/%uM", key_len,
			 entries >> 20);
	else
		snprintf(d->label, sizeof(d->label), "%uB/%uK", key_len,
			 entries >> 10);
	d->keys = malloc((size_t)(d->nkeys + d->nmiss) * key_len);
	if (d->keys == NULL)
		return -ENOMEM;
	for (i = 0; i < d->nkeys + d->nmiss; i++)
		key_make(d->keys + (size_t)i * key_len, key_len, i, &rs);
	if (stream_make(d, &d->hit, 0, &rs) < 0 ||
	    stream_make(d, &d->mix, 50, &rs) < 0 ||
	    stream_make(d, &d->miss, 100, &rs) < 0)
		return -ENOMEM;

	d->sh = sl_hash_create("bench", entries, key_len);
	if (d->sh == NULL) {
		fail(b, "sl_hash_create", strerror(errno));
	} else {
		for (i = 0; i < d->nkeys; i++) {
			ret = sl_hash_add(d->sh, d->keys + (size_t)i * key_len,
					  i + 1);
			if (ret != 0) {
				fail(b, "sl_hash_add", sl_strerror(ret));
				sl_hash_free(d->sh);
				d->sh = NULL;
				break;
			}
		}
	}
	d->rh_lf = rte_table(b, d, "bench-lf",
			     RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF);
	d->rh_plain = rte_table(b, d, "bench-plain", 0);

	/* every answer of every side, once */
	if (d->sh != NULL && verify_all(d, NULL) != 0) {
		fail(b, d->label, "sl_hash gave wrong answers");
		sl_hash_free(d->sh);
		d->sh = NULL;
	}
	if (d->rh_lf != NULL && verify_all(d, d->rh_lf) != 0) {
		fail(b, d->label, "rte_hash (LF) gave wrong answers");
		rte_hash_free(d->rh_lf);
		d->rh_lf = NULL;
	}
	if (d->rh_plain != NULL && verify_all(d, d->rh_plain) != 0) {
		fail(b, d->label, "rte_hash gave wrong answers");
		rte_hash_free(d->rh_plain);
		d->rh_plain = NULL;
	}
	return 0;
}

static void
dataset_free(struct dataset *d)
{
	sl_hash_free(d->sh);
	rte_hash_free(d->rh_lf);
	rte_hash_free(d->rh_plain);
	stream_free(&d->hit);
	stream_free(&d->mix);
	stream_free(&d->miss);
	free(d->keys);
}

/* The streams, in the order of the rows. */
enum stream_kind { STREAM_HIT, STREAM_MIX, STREAM_MISS, STREAM_KINDS };
static const char *const stream_names[STREAM_KINDS] = {"hit", "50% miss",
						       "all miss"};

static void
row_lookup(struct bench *b, const struct dataset *d, enum stream_kind kind,
	   unsigned bulk, bool lf)
{
	const struct stream *s = kind == STREAM_HIT   ? &d->hit
				 : kind == STREAM_MIX ? &d->mix
						      : &d->miss;
	const struct rte_hash *rh = lf ? d->rh_lf : d->rh_plain;
	double sv[BENCH_MAX_REPS], pv[BENCH_MAX_REPS];
	unsigned reps = b->opts.reps, i, k;
	uint32_t warm = d->len / 8;
	char name[BENCH_CASE_LEN];

	snprintf(name, sizeof(name), "%s %s bulk %u%s", d->label,
		 stream_names[kind], bulk, lf ? "" : " (no LF)");
	fill_nan(sv, reps);
	fill_nan(pv, reps);
	for (i = 0; i < reps; i++) {
		bool sl_first = i % 2 == 0;

		for (k = 0; k < 2; k++) {
			if ((k == 0) == sl_first) {
				if (d->sh == NULL)
					continue;
				(void)loop_sl(d->sh, s->ptrs, warm, bulk, 0);
				sv[i] = loop_sl(d->sh, s->ptrs, d->len, bulk,
						s->hits);
			} else {
				if (rh == NULL)
					continue;
				(void)loop_rte(rh, s->ptrs, warm, bulk, 0);
				pv[i] = loop_rte(rh, s->ptrs, d->len, bulk,
						 s->hits);
			}
		}
	}
	if (bench_report_add(&b->report, name, "cycles/lookup",
			     BENCH_LOWER_IS_BETTER,
			     lf ? "rte_hash LF" : "rte_hash", sv, pv, reps) < 0)
		fail(b, name, "out of memory");
}

static void
run_dataset(struct bench *b, uint32_t key_len, uint32_t entries)
{
	static const unsigned bulks[] = {32, 64};
	enum stream_kind m;
	struct dataset d;
	unsigned i;

	if (dataset_make(b, &d, key_len, entries) < 0) {
		fail(b, "dataset", "out of memory");
		dataset_free(&d);
		return;
	}
	printf("%s: %s: %u keys in tables of %u entries, %u lookups per "
	       "pass\n",
	       prog, d.label, d.nkeys, entries, d.len);
	fflush(stdout);
	for (m = 0; m < STREAM_KINDS; m++)
		for (i = 0; i < SL_DIM(bulks); i++)
			row_lookup(b, &d, m, bulks[i], true);
	/* the peer without concurrency flags, bulk 64 only */
	for (m = 0; m < STREAM_KINDS; m++)
		row_lookup(b, &d, m, MAX_BULK, false);
	dataset_free(&d);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	char lcores[16], buf[160];
	struct bench_eal eal;
	int err;

	err = bench_parse_args(argc, argv, "bench/results/lookup-hash.json",
			       &b.opts);
	if (err != 0)
		return err > 0 ? 0 : 2;

	/* choose the CPU before EAL narrows this thread's affinity */
	b.cpu = sl_cpu_nth(1);
	if (b.cpu < 0)
		b.cpu = sl_cpu_nth(0) >= 0 ? sl_cpu_nth(0) : 0;
	snprintf(lcores, sizeof(lcores), "%d", b.cpu);
	if (bench_eal_start(&eal, prog, lcores, -1, 512) < 0)
		return 77;
	if (bench_heap_start(&b.heap, prog, "sl-bench-hash", HEAP_LEN) < 0)
		fprintf(stderr,
			"%s: DPDK's tables in its own memory (4 KB "
			"pages with --no-huge)\n",
			prog);
	err = sl_cpu_pin(b.cpu);
	if (err < 0)
		fprintf(stderr, "%s: cannot pin to CPU %d: %s\n", prog, b.cpu,
			sl_strerror(err));

	bench_report_init(&b.report, "lookup-hash");
	bench_report_note_num(&b.report, "reps", b.opts.reps);
	bench_report_note_str(&b.report, "quick", b.opts.quick ? "yes" : "no");
	bench_report_note_num(&b.report, "cpu", b.cpu);
	bench_report_note_str(&b.report, "peer", rte_version());
	bench_report_note_str(&b.report, "peer_hash",
			      "rte_hash_crc (CRC32C), init 0; main rows "
			      "RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, "
			      "'(no LF)' rows extra_flag 0");
	bench_report_note_str(&b.report, "fill",
			      "90 % of the entries both tables are created "
			      "for");
	snprintf(buf, sizeof(buf),
		 "%u lookups per pass, keys copied back to back; hit: "
		 "random inserted keys; 50%% miss: half never inserted; "
		 "all miss: only keys never inserted",
		 b.opts.quick ? STREAM_LEN_QUICK : STREAM_LEN);
	bench_report_note_str(&b.report, "streams", buf);
	bench_report_note_str(
		&b.report, "pages",
		sl_hugepages_free() > 0
			? "sluice on 2 MB hugepages; DPDK on an external heap "
			  "of anonymous memory advised for transparent huge "
			  "pages"
		: b.heap.socket != SOCKET_ID_ANY
			? "both on anonymous memory advised for transparent "
			  "huge pages (sluice SL_MEM_F_THP, DPDK an external "
			  "heap)"
			: "sluice asks for transparent huge pages, DPDK "
			  "--no-huge (4 KB): its heap failed");

	printf("%s: %s, CPU %d, %u repetitions%s, TSC %.3f GHz\n", prog,
	       rte_version(), b.cpu, b.opts.reps,
	       b.opts.quick ? " (quick)" : "", (double)sl_tsc_hz() / 1e9);
	fflush(stdout);

	if (b.opts.quick) {
		run_dataset(&b, 16, 1u << 12);
		run_dataset(&b, 4, 1u << 12);
	} else {
		run_dataset(&b, 16, 1u << 16);
		run_dataset(&b, 16, 1u << 20);
		run_dataset(&b, 4, 1u << 16);
		run_dataset(&b, 4, 1u << 20);
	}

	bench_heap_stop(&b.heap);
	bench_eal_stop(&eal, prog);

	bench_report_print(&b.report, stdout);
	err = bench_report_write_json(&b.report, b.opts.out);
	if (err == 0)
		printf("%s: results in %s\n", prog, b.opts.out);
	if (bench_report_check(&b.report) != 0 || b.failures != 0 || err < 0) {
		bench_report_fini(&b.report);
		return 1;
	}
	bench_report_fini(&b.report);
	return 0;
}
