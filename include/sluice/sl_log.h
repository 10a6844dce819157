/**
 * @file Logging for the control plane. Levels follow syslog(3); each module
 * (a short name such as "ring" or "mempool") has its own level, and output
 * goes to stderr (default) or to syslog. The data path never logs: it counts.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>
#include "sl_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels, the values of syslog(3). */
enum sl_log_level {
	SL_LOG_EMERG = 0,
	SL_LOG_ALERT = 1,
	SL_LOG_CRIT = 2,
	SL_LOG_ERR = 3,
	SL_LOG_WARNING = 4,
	SL_LOG_NOTICE = 5,
	SL_LOG_INFO = 6,
	SL_LOG_DEBUG = 7,
};

/** Where log lines go. */
enum sl_log_sink {
	/** "time level module: message" on stderr */
	SL_LOG_SINK_STDERR = 0,
	SL_LOG_SINK_SYSLOG = 1, /**< syslog(3) with the identity given */
};

/**
 * Emit one log line if the module's level allows it.
 * @param level One of enum sl_log_level.
 * @param module Module name; NULL means "sluice".
 * @param fmt printf(3) format.
 */
SL_API void sl_log(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** va_list variant of sl_log(). */
SL_API void sl_vlog(int level, const char *module, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/**
 * Set the level of one module, or the default of every module.
 * @param module Module name, or NULL (or "*") for the default level that
 *   applies to every module without its own level.
 * @param level One of enum sl_log_level.
 * @return 0, -EINVAL for a level out of range, -ENOSPC when too many
 *   modules have their own level.
 */
SL_API int sl_log_set_level(const char *module, int level);

/** @return the level in force for a module (its own, or the default). */
SL_API int sl_log_get_level(const char *module);

/**
 * Parse a level name ("err", "warning", "info", "debug", ...) or digit.
 * @return the level, or -EINVAL.
 */
SL_API int sl_log_level_parse(const char *name);

/**
 * Apply a list such as "info,ring=debug,mempool=err": a bare level sets the
 * default; module=level sets one module.
 * @return 0, or -EINVAL naming nothing (the log says which item was wrong).
 */
SL_API int sl_log_set_levels(const char *spec);

/**
 * Choose where log lines go.
 * @param sink SL_LOG_SINK_STDERR or SL_LOG_SINK_SYSLOG.
 * @param ident Identity for syslog (ignored for stderr); NULL for "sluice".
 * @return 0 or -EINVAL.
 */
SL_API int sl_log_set_sink(int sink, const char *ident);

/** Per-file logging helpers: define SL_LOG_MODULE before including. */
#ifndef SL_LOG_MODULE
#define SL_LOG_MODULE "sluice"
#endif
#define SL_ERR(...) sl_log(SL_LOG_ERR, SL_LOG_MODULE, __VA_ARGS__)
#define SL_WARN(...) sl_log(SL_LOG_WARNING, SL_LOG_MODULE, __VA_ARGS__)
#define SL_NOTICE(...) sl_log(SL_LOG_NOTICE, SL_LOG_MODULE, __VA_ARGS__)
#define SL_INFO(...) sl_log(SL_LOG_INFO, SL_LOG_MODULE, __VA_ARGS__)
#define SL_DBG(...) sl_log(SL_LOG_DEBUG, SL_LOG_MODULE, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* SL_LOG_H */
