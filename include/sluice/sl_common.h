/**
 * @file Common definitions used by every sluice layer: symbol export,
 * cache-line alignment, branch hints, prefetch and small arithmetic helpers.
 */
#ifndef SL_COMMON_H
#define SL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the exported ABI of libsluice. */
#define SL_API __attribute__((visibility("default")))

/** Size of a CPU cache line in bytes. */
#define SL_CACHE_LINE 64

/** Aligns a type or variable on a cache line. */
#define __sl_cache_aligned __attribute__((aligned(SL_CACHE_LINE)))

/** Branch hint: the condition is almost always true. */
#define likely(x) __builtin_expect(!!(x), 1)
/** Branch hint: the condition is almost always false. */
#define unlikely(x) __builtin_expect(!!(x), 0)

/** Run a function before main(): SL_INIT(fn) { ... } */
#define SL_INIT(fn) static void __attribute__((constructor)) fn(void)

/** Compile-time assertion. */
#define SL_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/** Number of elements of an array. */
#define SL_DIM(a) (sizeof(a) / sizeof((a)[0]))

/** Smaller of two values (evaluates each once). */
#define SL_MIN(a, b)                                                           \
	__extension__({                                                        \
		__typeof__(a) _a = (a);                                        \
		__typeof__(b) _b = (b);                                        \
		_a < _b ? _a : _b;                                             \
	})
/** Larger of two values (evaluates each once). */
#define SL_MAX(a, b)                                                           \
	__extension__({                                                        \
		__typeof__(a) _a = (a);                                        \
		__typeof__(b) _b = (b);                                        \
		_a > _b ? _a : _b;                                             \
	})

/** Marks a parameter or variable as possibly unused. */
#define __sl_unused __attribute__((unused))
/** Forces inlining of a hot-path helper. */
#define __sl_always_inline inline __attribute__((always_inline))

/** Prefetch for reading into all cache levels. */
static inline void
sl_prefetch0(const volatile void *p)
{
	__builtin_prefetch((const void *)p, 0, 3);
}
/** Prefetch for reading into L2 and below. */
static inline void
sl_prefetch1(const volatile void *p)
{
	__builtin_prefetch((const void *)p, 0, 2);
}
/** Prefetch for reading into L3 and below. */
static inline void
sl_prefetch2(const volatile void *p)
{
	__builtin_prefetch((const void *)p, 0, 1);
}
/** Prefetch for writing. */
static inline void
sl_prefetch_w(const volatile void *p)
{
	__builtin_prefetch((const void *)p, 1, 3);
}

/** CPU relax hint for spin loops. */
static inline void
sl_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/** @return true when x is a non-zero power of two. */
static inline bool
sl_is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/** @return the smallest power of two >= x (x <= 2^31), 1 for 0. */
static inline uint32_t
sl_align32pow2(uint32_t x)
{
	if (x <= 1)
		return 1;
	return 1u << (32 - __builtin_clz(x - 1));
}

/** @return x rounded up to a multiple of align, a power of two. */
static inline uint64_t
sl_align_ceil(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/** @return a pointer rounded up to a multiple of align, a power of two. */
static inline void *
sl_ptr_align_ceil(void *p, uintptr_t align)
{
	return (void *)(((uintptr_t)p + align - 1) & ~(align - 1));
}

/**
 * Describe an error code of sluice.
 * @param err A negative errno value as returned by sluice (or a positive one).
 * @return A static string, never NULL.
 */
SL_API const char *sl_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* SL_COMMON_H */
