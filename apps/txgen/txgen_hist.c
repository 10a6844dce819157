/*
 * sluice-txgen latency histogram (txgen_hist.h).
 */
#include <math.h>
#include <string.h>

#include "txgen_hist.h"

void
txgen_hist_init(struct txgen_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
txgen_hist_merge(struct txgen_hist *dst, const struct txgen_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < TXGEN_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t
txgen_hist_bucket_low(unsigned i)
{
	unsigned k;

	if (i < TXGEN_HIST_SUB)
		return i;
	k = i / TXGEN_HIST_SUB + TXGEN_HIST_SUB_BITS - 1;
	return (uint64_t)(TXGEN_HIST_SUB + i % TXGEN_HIST_SUB)
	       << (k - TXGEN_HIST_SUB_BITS);
}

uint64_t
txgen_hist_bucket_high(unsigned i)
{
	unsigned k;

	if (i < TXGEN_HIST_SUB)
		return i;
	k = i / TXGEN_HIST_SUB + TXGEN_HIST_SUB_BITS - 1;
	/* low + width - 1; the last bucket ends at UINT64_MAX */
	return txgen_hist_bucket_low(i) +
	       ((uint64_t)1 << (k - TXGEN_HIST_SUB_BITS)) - 1;
}

uint64_t
txgen_hist_percentile(const struct txgen_hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (pct <= 0)
		return h->min;
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	if (rank == 0)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < TXGEN_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			v = txgen_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double
txgen_hist_mean(const struct txgen_hist *h)
{
	return h->count != 0 ? (double)h->sum / (double)h->count : 0.0;
}
