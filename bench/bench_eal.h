/**
 * @file DPDK's EAL for the benchmarks that compare with DPDK: started the
 * same way by each (no hugepages, no PCI, a file prefix of its own) and
 * stopped with its runtime directory removed.
 *
 * Not part of libsluice: linked only into the benchmark executables.
 */
#ifndef SL_BENCH_EAL_H
#define SL_BENCH_EAL_H

/** A started EAL: what bench_eal_stop() removes. */
struct bench_eal {
	char prefix[64];  /**< --file-prefix: sluice-bench-<prog>-<pid> */
	char rundir[512]; /**< EAL's runtime directory */
};

/**
 * Start EAL with --no-huge --no-pci -m mem_mb --file-prefix ... -l lcores
 * (and --main-lcore main_lcore when it is >= 0), logging errors only.
 * @param lcores The EAL lcore list, e.g. "1" or "0,1".
 * @return 0, or -1 after a message on stderr, with the runtime directory
 *   removed (the benchmark then exits 77: skipped).
 */
int bench_eal_start(struct bench_eal *e, const char *prog, const char *lcores,
		    int main_lcore, unsigned mem_mb);

/** rte_eal_cleanup() and remove the runtime directory (a message when it
 * cannot be). */
void bench_eal_stop(struct bench_eal *e, const char *prog);

#endif /* SL_BENCH_EAL_H */
