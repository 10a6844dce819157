/*
 * Latency histogram of sluice-txgen: log-linear buckets over nanoseconds.
 * Values below 16 have a bucket each; above, every power of two [2^k,
 * 2^(k+1)) is cut into 16 buckets of equal width, so a bucket is at most
 * 1/16 of its lower bound wide. One writer (a receiving thread); the
 * main thread merges them at the end.
 */
#ifndef TXGEN_HIST_H
#define TXGEN_HIST_H

#include <stdint.h>

/** Sub-buckets per power of two (log2). */
#define TXGEN_HIST_SUB_BITS 4
#define TXGEN_HIST_SUB (1u << TXGEN_HIST_SUB_BITS)
/** Buckets: 16 exact ones, then 16 for each k in 4..63. */
#define TXGEN_HIST_BUCKETS ((64 - TXGEN_HIST_SUB_BITS + 1) * TXGEN_HIST_SUB)

struct txgen_hist {
	uint64_t count;
	uint64_t sum; /**< of the values, for the mean (wraps after 584 y) */
	uint64_t min;
	uint64_t max;
	uint64_t b[TXGEN_HIST_BUCKETS];
};

/** @return the bucket of value v. */
static inline unsigned
txgen_hist_bucket(uint64_t v)
{
	unsigned k;

	if (v < TXGEN_HIST_SUB)
		return (unsigned)v;
	k = 63u - (unsigned)__builtin_clzll(v); /* 2^k <= v, k >= 4 */
	return (k - TXGEN_HIST_SUB_BITS + 1) * TXGEN_HIST_SUB +
	       (unsigned)((v >> (k - TXGEN_HIST_SUB_BITS)) &
			  (TXGEN_HIST_SUB - 1));
}

/** Add one value. */
static inline void
txgen_hist_add(struct txgen_hist *h, uint64_t v)
{
	h->b[txgen_hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min || h->count == 1)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/** Empty a histogram. */
void txgen_hist_init(struct txgen_hist *h);

/** Add src's values to dst. */
void txgen_hist_merge(struct txgen_hist *dst, const struct txgen_hist *src);

/** @return the smallest value of bucket i. */
uint64_t txgen_hist_bucket_low(unsigned i);

/** @return the largest value of bucket i. */
uint64_t txgen_hist_bucket_high(unsigned i);

/**
 * The value at a percentile: the largest value of the bucket that holds
 * the ceil(pct/100 * count)-th smallest value, at most max (so at most
 * 1/16 above the exact value). @return 0 when empty.
 */
uint64_t txgen_hist_percentile(const struct txgen_hist *h, double pct);

/** @return the mean, 0 when empty. */
double txgen_hist_mean(const struct txgen_hist *h);

#endif /* TXGEN_HIST_H */
