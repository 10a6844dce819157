/*
 * TSC calibration: the counter is compared with CLOCK_MONOTONIC_RAW over a
 * short sleep once, and the result cached for the life of the process.
 */
#define SL_LOG_MODULE "time"
#include <pthread.h>
#include <time.h>

#include "sluice/sl_log.h"
#include "sluice/sl_time.h"

static uint64_t tsc_hz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static uint64_t
mono_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
tsc_measure(uint64_t window_ns)
{
	struct timespec req = {0, (long)window_ns};
	uint64_t t0, c0, t1, c1;

	t0 = mono_raw_ns();
	c0 = sl_tsc();
	nanosleep(&req, NULL);
	t1 = mono_raw_ns();
	c1 = sl_tsc();
	if (t1 <= t0 || c1 <= c0)
		return 0;
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

static void
tsc_calibrate(void)
{
	uint64_t a, b;

#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__)
	tsc_hz = 1000000000ull; /* the counter is nanoseconds */
	return;
#endif
	/* two windows; keep the larger (a preempted window reads low) */
	a = tsc_measure(10000000);
	b = tsc_measure(10000000);
	tsc_hz = a > b ? a : b;
	if (tsc_hz == 0) {
		tsc_hz = 1000000000ull;
		SL_WARN("counter calibration failed; assuming 1 GHz");
		return;
	}
	/* round to 1 MHz, as a calibrated clock is never more precise here */
	tsc_hz = (tsc_hz + 500000) / 1000000 * 1000000;
	SL_DBG("counter runs at %.3f MHz", (double)tsc_hz / 1e6);
}

uint64_t
sl_tsc_hz(void)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return tsc_hz;
}

uint64_t
sl_tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)((double)ticks * 1e9 / (double)sl_tsc_hz());
}

uint64_t
sl_ns_to_tsc(uint64_t ns)
{
	return (uint64_t)((double)ns * (double)sl_tsc_hz() / 1e9);
}

void
sl_delay_us(uint64_t us)
{
	uint64_t end = sl_tsc() + sl_ns_to_tsc(us * 1000);

	while (sl_tsc() < end)
		sl_pause();
}
