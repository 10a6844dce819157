/*
 * Memory regions: anonymous mappings on 2 MB hugepages when the system has
 * them, 4 KB pages otherwise; one log line says which.
 */
#define SL_LOG_MODULE "mem"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mem.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

long
sl_hugepages_free(void)
{
	char line[128];
	long n = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Map len bytes of small pages; with thp, from a 2 MB boundary (a larger
 * mapping trimmed at both ends) and advised for transparent huge pages. */
static void *
small_map(size_t len, int mflags, bool thp)
{
	size_t head, tail, big = len + SL_HUGEPAGE_SZ;
	uint8_t *p, *a;

	if (!thp)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, mflags, -1, 0);
	p = mmap(NULL, big, PROT_READ | PROT_WRITE, mflags, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	a = sl_ptr_align_ceil(p, SL_HUGEPAGE_SZ);
	head = (size_t)(a - p);
	tail = big - head - len;
	if (head != 0)
		(void)munmap(p, head);
	if (tail != 0)
		(void)munmap(a + len, tail);
#ifdef MADV_HUGEPAGE
	if (madvise(a, len, MADV_HUGEPAGE) != 0)
		SL_DBG("no transparent huge pages: %s", strerror(errno));
#endif
	return a;
}

struct sl_memregion *
sl_memregion_alloc(const char *name, size_t len, unsigned flags)
{
	struct sl_memregion *mr;
	int mflags, err;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *addr = MAP_FAILED;

	if (len == 0 ||
	    (flags & SL_MEM_F_NO_HUGE && flags & SL_MEM_F_HUGE_ONLY)) {
		err = EINVAL;
		goto fail;
	}
	mr = calloc(1, sizeof(*mr));
	if (mr == NULL) {
		err = ENOMEM;
		goto fail;
	}
	mflags = MAP_ANONYMOUS |
		 (flags & SL_MEM_F_SHARED ? MAP_SHARED : MAP_PRIVATE);
	if (!(flags & SL_MEM_F_NO_HUGE)) {
		mr->len = sl_align_ceil(len, SL_HUGEPAGE_SZ);
		addr = mmap(NULL, mr->len, PROT_READ | PROT_WRITE,
			    mflags | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (addr != MAP_FAILED) {
			mr->page_sz = SL_HUGEPAGE_SZ;
			mr->hugepage = true;
			SL_INFO("region '%s': %zu bytes on %zu 2 MB hugepages",
				name != NULL ? name : "?", mr->len,
				mr->len / SL_HUGEPAGE_SZ);
		} else if (flags & SL_MEM_F_HUGE_ONLY) {
			err = errno;
			SL_ERR("region '%s': no 2 MB hugepages for %zu bytes "
			       "(%ld free): %s",
			       name != NULL ? name : "?", mr->len,
			       sl_hugepages_free(), strerror(err));
			err = ENOMEM;
			goto free_mr;
		}
	}
	if (addr == MAP_FAILED) {
		mr->len = sl_align_ceil(len, page);
		addr = small_map(mr->len, mflags, flags & SL_MEM_F_THP);
		if (addr == MAP_FAILED) {
			err = ENOMEM;
			SL_ERR("region '%s': cannot map %zu bytes: %s",
			       name != NULL ? name : "?", mr->len,
			       strerror(errno));
			goto free_mr;
		}
		mr->page_sz = page;
		mr->hugepage = false;
		SL_INFO("region '%s': %zu bytes on %zu KB pages%s%s",
			name != NULL ? name : "?", mr->len, page / 1024,
			flags & SL_MEM_F_NO_HUGE ? ""
						 : " (no free 2 MB hugepages)",
			flags & SL_MEM_F_THP ? ", transparent huge pages asked"
					     : "");
	}
	mr->addr = addr;
	mr->owned = true;
	return mr;
free_mr:
	free(mr);
fail:
	errno = err;
	return NULL;
}

struct sl_memregion *
sl_memregion_wrap(void *addr, size_t len)
{
	struct sl_memregion *mr;

	if (addr == NULL || len == 0) {
		errno = EINVAL;
		return NULL;
	}
	mr = calloc(1, sizeof(*mr));
	if (mr == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	mr->addr = addr;
	mr->len = len;
	mr->page_sz = (size_t)sysconf(_SC_PAGESIZE);
	mr->owned = false;
	return mr;
}

void
sl_memregion_free(struct sl_memregion *mr)
{
	if (mr == NULL)
		return;
	if (mr->owned)
		munmap(mr->addr, mr->len);
	free(mr);
}

int
sl_memregion_lock(struct sl_memregion *mr)
{
	if (mr == NULL)
		return -EINVAL;
	if (mlock(mr->addr, mr->len) != 0) {
		int err = errno;

		SL_ERR("cannot lock %zu bytes in memory: %s (raise "
		       "RLIMIT_MEMLOCK or grant CAP_IPC_LOCK)",
		       mr->len, strerror(err));
		return -err;
	}
	return 0;
}

void *
sl_zmalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, SL_CACHE_LINE, len == 0 ? 1 : len) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, len);
	return p;
}

void
sl_free(void *p)
{
	free(p);
}
