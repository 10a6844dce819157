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

/**
 * An external malloc heap for DPDK's tables: anonymous memory from a 2 MB
 * boundary that the kernel is asked to back with transparent huge pages,
 * as sluice's tables are (SL_MEM_F_THP). With --no-huge, DPDK's own
 * memory is on 4 KB pages, and a table that lookups read at random would
 * compare TLB misses instead of lookups.
 */
struct bench_heap {
	int socket; /**< pass to DPDK's *_create(); SOCKET_ID_ANY if none */
	void *map;  /**< the mapping (len + 2 MB) */
	void *addr; /**< the heap: len bytes from the first 2 MB boundary */
	size_t len;
	char name[32];
};

/**
 * Create the heap (after bench_eal_start()).
 * @param len Bytes, a multiple of 2 MB.
 * @return 0, or -1 after a message; h->socket is then SOCKET_ID_ANY and
 *   DPDK uses its own memory.
 */
int bench_heap_start(struct bench_heap *h, const char *prog, const char *name,
		     size_t len);

/** Destroy the heap (before bench_eal_stop()); DPDK must have freed what
 * it allocated there. */
void bench_heap_stop(struct bench_heap *h);

#endif /* SL_BENCH_EAL_H */
