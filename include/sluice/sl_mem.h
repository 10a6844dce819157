/**
 * @file Memory regions: page-aligned anonymous memory for pools and rings,
 * on 2 MB hugepages when the system has them and on 4 KB pages otherwise.
 * Which one was used is logged once per region and reported in the region.
 */
#ifndef SL_MEM_H
#define SL_MEM_H

#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a hugepage used for regions. */
#define SL_HUGEPAGE_SZ (2u << 20)

/** Region flag: never try hugepages. */
#define SL_MEM_F_NO_HUGE 0x1u
/** Region flag: fail with ENOMEM instead of falling back to small pages. */
#define SL_MEM_F_HUGE_ONLY 0x2u
/** Region flag: MAP_SHARED (inherited across fork). */
#define SL_MEM_F_SHARED 0x4u
/** Region flag: on small pages, start at a 2 MB boundary and ask the
 *  kernel to back the region with transparent huge pages (for tables read
 *  at random: fewer TLB misses). Without the flag, or when the kernel has
 *  THP off, the pages stay 4 KB. */
#define SL_MEM_F_THP 0x8u

/** A contiguous memory region. */
struct sl_memregion {
	void *addr;	/**< start, page aligned */
	size_t len;	/**< length, a multiple of page_sz */
	size_t page_sz; /**< SL_HUGEPAGE_SZ or the system page size */
	bool hugepage;	/**< true when backed by hugepages */
	bool owned;	/**< true when sl_memregion_free() unmaps it */
};

/**
 * Map a zeroed region of at least len bytes. Tries 2 MB hugepages first
 * (unless SL_MEM_F_NO_HUGE), then 4 KB pages, and logs which it used.
 * @param name Name for the log line.
 * @param len Bytes wanted (> 0).
 * @param flags SL_MEM_F_*.
 * @return the region, or NULL with errno EINVAL or ENOMEM.
 */
SL_API struct sl_memregion *sl_memregion_alloc(const char *name, size_t len,
					       unsigned flags);

/**
 * Describe caller-provided memory as a region (not unmapped on free).
 * @return the region, or NULL with errno EINVAL (NULL address or 0 length)
 *   or ENOMEM.
 */
SL_API struct sl_memregion *sl_memregion_wrap(void *addr, size_t len);

/** Unmap (if owned) and free a region; NULL is a no-op. */
SL_API void sl_memregion_free(struct sl_memregion *mr);

/**
 * Lock a region in memory (mlock), as AF_XDP UMEM needs.
 * @return 0 or -errno (-ENOMEM or -EPERM when RLIMIT_MEMLOCK is too low).
 */
SL_API int sl_memregion_lock(struct sl_memregion *mr);

/** @return the number of free 2 MB hugepages the system has now. */
SL_API long sl_hugepages_free(void);

/**
 * Allocate cache-line aligned, zeroed heap memory (control plane).
 * @return the memory, or NULL with errno ENOMEM.
 */
SL_API void *sl_zmalloc(size_t len);

/** Free memory from sl_zmalloc(); NULL is a no-op. */
SL_API void sl_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* SL_MEM_H */
