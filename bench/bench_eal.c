/* DPDK's EAL for the benchmarks (see bench_eal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "bench_common.h"
#include "bench_eal.h"

/* EAL's runtime directory when rte_eal_init() did not tell us. */
static void
eal_runtime_dir_guess(char *buf, size_t len, const char *prefix)
{
	const char *base = "/var/run";

	if (geteuid() != 0) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL)
			base = "/tmp";
	}
	snprintf(buf, len, "%s/dpdk/%s", base, prefix);
}

int
bench_eal_start(struct bench_eal *e, const char *prog, const char *lcores,
		int main_lcore, unsigned mem_mb)
{
	char mem[16], main_arg[16];
	char *argv[16];
	int argc = 0;

	snprintf(e->prefix, sizeof(e->prefix), "sluice-%s-%d", prog,
		 (int)getpid());
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	argv[argc++] = (char *)prog;
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"-m";
	argv[argc++] = mem;
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = e->prefix;
	argv[argc++] = (char *)"-l";
	argv[argc++] = (char *)lcores;
	if (main_lcore >= 0) {
		snprintf(main_arg, sizeof(main_arg), "%d", main_lcore);
		argv[argc++] = (char *)"--main-lcore";
		argv[argc++] = main_arg;
	}
	argv[argc++] = (char *)"--log-level=error";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc] = NULL;

	eal_runtime_dir_guess(e->rundir, sizeof(e->rundir), e->prefix);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr,
			"%s: DPDK's rte_eal_init failed: %s (EAL args: "
			"--no-huge --no-pci -m %s --file-prefix %s -l %s%s%s); "
			"skipping\n",
			prog, rte_strerror(rte_errno), mem, e->prefix, lcores,
			main_lcore >= 0 ? " --main-lcore " : "",
			main_lcore >= 0 ? main_arg : "");
		(void)bench_rm_rf(e->rundir);
		return -1;
	}
	if (rte_eal_get_runtime_dir()[0] != '\0')
		snprintf(e->rundir, sizeof(e->rundir), "%s",
			 rte_eal_get_runtime_dir());
	return 0;
}

void
bench_eal_stop(struct bench_eal *e, const char *prog)
{
	int err;

	rte_eal_cleanup();
	err = bench_rm_rf(e->rundir);
	if (err < 0)
		fprintf(stderr, "%s: cannot remove %s: %s\n", prog, e->rundir,
			strerror(-err));
}

#define HEAP_PAGE (2ul << 20)

int
bench_heap_start(struct bench_heap *h, const char *prog, const char *name,
		 size_t len)
{
	memset(h, 0, sizeof(*h));
	h->socket = SOCKET_ID_ANY;
	h->len = len;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->map = mmap(NULL, len + HEAP_PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->map == MAP_FAILED) {
		h->map = NULL;
		fprintf(stderr, "%s: mmap of DPDK's heap: %s\n", prog,
			strerror(errno));
		return -1;
	}
	h->addr = (void *)(((uintptr_t)h->map + HEAP_PAGE - 1) &
			   ~(HEAP_PAGE - 1));
	(void)madvise(h->addr, len, MADV_HUGEPAGE);
	if (rte_malloc_heap_create(h->name) != 0 ||
	    rte_malloc_heap_memory_add(h->name, h->addr, len, NULL,
				       len / HEAP_PAGE, HEAP_PAGE) != 0) {
		fprintf(stderr, "%s: DPDK external heap: %s\n", prog,
			rte_strerror(rte_errno));
		return -1;
	}
	h->socket = rte_malloc_heap_get_socket(h->name);
	if (h->socket < 0) {
		h->socket = SOCKET_ID_ANY;
		return -1;
	}
	return 0;
}

void
bench_heap_stop(struct bench_heap *h)
{
	if (h->map == NULL)
		return;
	if (h->socket != SOCKET_ID_ANY) {
		(void)rte_malloc_heap_memory_remove(h->name, h->addr, h->len);
		(void)rte_malloc_heap_destroy(h->name);
	}
	munmap(h->map, h->len + HEAP_PAGE);
	h->map = NULL;
}
