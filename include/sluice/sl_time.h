/**
 * @file Time from the CPU's time-stamp counter, calibrated once against
 * CLOCK_MONOTONIC_RAW. Where no invariant TSC is available, the counter
 * is CLOCK_MONOTONIC_RAW in nanoseconds.
 */
#ifndef SL_TIME_H
#define SL_TIME_H

#include <time.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @return the raw cycle counter (not serialising). */
static inline uint64_t
sl_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
	uint64_t v;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

/**
 * Counter frequency in Hz, calibrated on first use (about 20 ms) and cached.
 * @return the frequency, never 0.
 */
SL_API uint64_t sl_tsc_hz(void);

/** @return nanoseconds of CLOCK_MONOTONIC. */
static inline uint64_t
sl_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/** Convert counter ticks to nanoseconds. */
SL_API uint64_t sl_tsc_to_ns(uint64_t ticks);

/** Convert nanoseconds to counter ticks. */
SL_API uint64_t sl_ns_to_tsc(uint64_t ns);

/** Busy-wait for the given number of microseconds. */
SL_API void sl_delay_us(uint64_t us);

#ifdef __cplusplus
}
#endif
#endif /* SL_TIME_H */
