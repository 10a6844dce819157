/**
 * @file JSONC configuration of sluice applications: umems (packet pools),
 * lports, lcore groups, threads and free-form options, in the shape of
 * docs/config.md. sl_config_load() reads and checks a whole file: every
 * problem is logged as "file:line:column: key: what was expected", unknown
 * keys included, and the load fails if there was any. lport-groups are
 * expanded into lports, defaults applied, and names resolved to indices,
 * so an application reads plain arrays.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "sl_common.h"
#include "sl_pktdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest name of a umem, lcore group or thread, including the NUL. */
#define SL_CONFIG_NAMESIZE 32
/** Longest description or path, including the NUL. */
#define SL_CONFIG_TEXTSIZE 128
/** Most regions in one umem. */
#define SL_CONFIG_MAX_REGIONS 16
/** Most lports of one thread. */
#define SL_CONFIG_THREAD_PORTS 16

/** Where a value was in the file (line and column from 1; 0 if built in). */
struct sl_config_pos {
	uint32_t line;
	uint32_t col;
};

/** application{} */
struct sl_config_app {
	char name[SL_CONFIG_NAMESIZE];
	char desc[SL_CONFIG_TEXTSIZE];
};

/** A umem: the packet pool (and AF_XDP UMEM) of its lports. Each region is
 *  a pool of its own over a slice of the umem's memory. */
struct sl_config_umem {
	char name[SL_CONFIG_NAMESIZE];
	uint32_t bufcnt;   /**< buffers, the sum of the regions */
	uint32_t bufsz;	   /**< bytes per buffer (2048 or 4096, ...) */
	uint32_t cache;	   /**< per-thread cache of the pools */
	bool hugepages;	   /**< false for mtype "4KB" (no hugepages);
			    *   true otherwise: "2MB" needs hugepages, ""
			    *   (default) falls back to 4 KB pages */
	char mtype[8];	   /**< as written: "", "4KB" or "2MB" */
	uint16_t rxdesc;   /**< RX ring descriptors of its lports */
	uint16_t txdesc;   /**< TX ring descriptors of its lports */
	bool shared_umem;  /**< one pool for all regions */
	uint32_t nregions; /**< >= 1 */
	uint32_t regions[SL_CONFIG_MAX_REGIONS]; /**< buffers per region */
	char desc[SL_CONFIG_TEXTSIZE];
	struct sl_config_pos pos;
};

/** An lport: what sl_pktdev_open() needs, from lports{} or lport-groups. */
struct sl_config_lport {
	char name[SL_PORT_NAMESIZE]; /**< "netdev:qid" as written, or made */
	char netdev[SL_CONFIG_NAMESIZE]; /**< device (the part before ':') */
	char pmd[SL_CONFIG_NAMESIZE];	 /**< backend, e.g. "net_af_xdp" */
	uint16_t qid;
	uint32_t umem;	 /**< index into sl_config.umems */
	uint32_t region; /**< index into that umem's regions */
	/* net_af_xdp settings (rejected for other backends when set) */
	int8_t busy_poll;	/**< -1 auto (default), 0 off, 1 on */
	uint32_t busy_timeout;	/**< microseconds; 0: backend default */
	uint32_t busy_budget;	/**< 0: default; 0xFFFF: busy polling off */
	bool force_wakeup;	/**< always false (true is rejected:
				 *   need_wakeup is always used) */
	bool skb_mode;		/**< same as mode "skb" */
	char mode[8];		/**< "", "auto", "native", "skb", "zc" */
	bool unaligned_buffers; /**< always false: sluice aligns frames
				 *   (true is rejected) */
	char xsk_pin_path[SL_CONFIG_TEXTSIZE];
	char uds_path[SL_CONFIG_TEXTSIZE];
	/** Backend options "key=value,..." given verbatim ("options" key),
	 *  appended by sl_config_port_cfg() after the keys above. */
	char options[SL_CONFIG_TEXTSIZE * 2];
	char desc[SL_CONFIG_TEXTSIZE];
	struct sl_config_pos pos;
};

/** An lcore group: a named set of CPUs. */
struct sl_config_lcore_group {
	char name[SL_CONFIG_NAMESIZE];
	uint32_t ncpus;
	uint16_t cpus[256]; /**< sorted, unique */
	struct sl_config_pos pos;
};

/** A thread: "type[:id]", its group and its lports. */
struct sl_config_thread {
	char name[SL_CONFIG_NAMESIZE]; /**< as written, e.g. "fwd:0" */
	char type[SL_CONFIG_NAMESIZE]; /**< the part before ':', e.g. "fwd" */
	uint32_t group;		       /**< index into lcore_groups */
	uint32_t nlports;
	uint32_t lports[SL_CONFIG_THREAD_PORTS]; /**< indices into lports */
	/** Milliseconds without packets before the thread sleeps in
	 *  epoll (0: never sleeps, busy polls). */
	uint32_t idle_timeout;
	/** Longest sleep in milliseconds (0: the default, 100). */
	uint32_t intr_timeout;
	/** Give the CPU to other runnable threads after every poll round
	 *  (sched_yield()): for threads that share a CPU. */
	bool yield;
	char desc[SL_CONFIG_TEXTSIZE];
	struct sl_config_pos pos;
};

/** A loaded configuration. Arrays are owned by it. */
struct sl_config {
	char file[SL_CONFIG_TEXTSIZE]; /**< the file name used in messages */
	struct sl_config_app app;
	uint32_t numems, nlports, ngroups, nthreads;
	struct sl_config_umem *umems;
	struct sl_config_lport *lports;
	struct sl_config_lcore_group *lcore_groups;
	struct sl_config_thread *threads;
	/** @internal the parsed document (options are read from it) */
	void *doc;
	/** @internal value positions */
	void *where;
};

/**
 * Load and check a configuration file (JSON with // and block comments
 * and trailing commas).
 * @param path The file.
 * @return the configuration, or NULL with errno: ENOENT/EACCES (file, or
 *   what else open(2)/read(2) report), EFBIG (file above 1 MiB), EINVAL
 *   (one or more errors, each logged with file:line:column), ENOMEM.
 */
SL_API struct sl_config *sl_config_load(const char *path);

/**
 * Load from a string (built-in defaults, tests).
 * @param text JSONC text, NUL-terminated.
 * @param name Used as the file name in messages.
 * @return as sl_config_load().
 */
SL_API struct sl_config *sl_config_parse(const char *text, const char *name);

/** Free a configuration; NULL is a no-op. */
SL_API void sl_config_free(struct sl_config *cfg);

/**
 * Print the effective configuration (defaults applied, lport-groups
 * expanded, options as given) as JSON.
 * @return 0 or -errno (write error).
 */
SL_API int sl_config_print(const struct sl_config *cfg, FILE *out);

/**
 * Check that options{} holds only the given keys; each other key is
 * logged with its position.
 * @param known NULL-terminated list of accepted keys.
 * @return 0, or -EINVAL when an unknown key was found.
 */
SL_API int sl_config_options_check(const struct sl_config *cfg,
				   const char *const *known);

/**
 * Read options.<key> as a string.
 * @param out Set to the value (owned by cfg) or to def when absent.
 * @return 0 (found or absent), -EINVAL when present but not a string
 *   (logged with its position).
 */
SL_API int sl_config_opt_str(const struct sl_config *cfg, const char *key,
			     const char *def, const char **out);

/** Read options.<key> as an integer (JSON number or numeric string,
 *  within [min, max]). @return as sl_config_opt_str(). */
SL_API int sl_config_opt_int(const struct sl_config *cfg, const char *key,
			     int64_t def, int64_t min, int64_t max,
			     int64_t *out);

/** Read options.<key> as a boolean. @return as sl_config_opt_str(). */
SL_API int sl_config_opt_bool(const struct sl_config *cfg, const char *key,
			      bool def, bool *out);

/**
 * Read options.<key> as an array of strings (a single string counts as an
 * array of one).
 * @param out Set to a NULL-terminated array owned by cfg (never NULL: an
 *   absent key gives an empty array). The array is kept in cfg, so calls
 *   on one cfg must not run concurrently (read options at setup).
 * @param n Set to the number of strings.
 * @return 0, or -EINVAL when present with another type.
 */
SL_API int sl_config_opt_strv(const struct sl_config *cfg, const char *key,
			      const char *const **out, unsigned *n);

/**
 * Log an error about options.<key> (or its idx-th array element; -1 for
 * the key itself) as "file:line:column: options.key: message".
 */
SL_API void sl_config_opt_error(const struct sl_config *cfg, const char *key,
				int idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** @return the index of the lport named name, or -ENOENT. */
SL_API int sl_config_lport_find(const struct sl_config *cfg, const char *name);

/**
 * The sl_pktdev_open() arguments of lport i: cfg->pool left NULL (the
 * caller owns the pools); the options string is built into buf.
 * @return 0, or -ENOSPC when buf is too small, -EINVAL for a bad index.
 */
SL_API int sl_config_port_cfg(const struct sl_config *cfg, uint32_t i,
			      struct sl_port_cfg *pc, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SL_CONFIG_H */
