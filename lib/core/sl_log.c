/*
 * Logging: per-module levels, stderr or syslog. Control plane only; the
 * module table is protected by a mutex and read with atomics.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <ctype.h>

#include "sluice/sl_log.h"

#define LOG_MODULES_MAX 64
#define LOG_MODULE_NAMESZ 32

struct log_module {
	char name[LOG_MODULE_NAMESZ];
	int level;
};

static struct {
	pthread_mutex_t lock;
	int default_level;
	int sink;
	unsigned nb_modules;
	struct log_module modules[LOG_MODULES_MAX];
	char ident[32];
} log_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.default_level = SL_LOG_NOTICE,
	.sink = SL_LOG_SINK_STDERR,
};

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* Caller holds the lock. */
static struct log_module *
log_module_find(const char *module)
{
	unsigned i;

	for (i = 0; i < log_state.nb_modules; i++)
		if (strcmp(log_state.modules[i].name, module) == 0)
			return &log_state.modules[i];
	return NULL;
}

int
sl_log_get_level(const char *module)
{
	struct log_module *m;
	int level;

	pthread_mutex_lock(&log_state.lock);
	level = log_state.default_level;
	if (module != NULL) {
		m = log_module_find(module);
		if (m != NULL)
			level = m->level;
	}
	pthread_mutex_unlock(&log_state.lock);
	return level;
}

int
sl_log_set_level(const char *module, int level)
{
	struct log_module *m;
	int err = 0;

	if (level < SL_LOG_EMERG || level > SL_LOG_DEBUG)
		return -EINVAL;
	if (module != NULL && strlen(module) >= LOG_MODULE_NAMESZ)
		return -EINVAL;
	pthread_mutex_lock(&log_state.lock);
	if (module == NULL || strcmp(module, "*") == 0) {
		log_state.default_level = level;
		goto unlock;
	}
	m = log_module_find(module);
	if (m == NULL) {
		if (log_state.nb_modules == LOG_MODULES_MAX) {
			err = -ENOSPC;
			goto unlock;
		}
		m = &log_state.modules[log_state.nb_modules++];
		snprintf(m->name, sizeof(m->name), "%s", module);
	}
	m->level = level;
unlock:
	pthread_mutex_unlock(&log_state.lock);
	return err;
}

int
sl_log_level_parse(const char *name)
{
	unsigned i;

	if (name == NULL || name[0] == '\0')
		return -EINVAL;
	if (name[1] == '\0' && name[0] >= '0' && name[0] <= '7')
		return name[0] - '0';
	for (i = 0; i < SL_DIM(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "error") == 0)
		return SL_LOG_ERR;
	if (strcasecmp(name, "warn") == 0)
		return SL_LOG_WARNING;
	return -EINVAL;
}

int
sl_log_set_levels(const char *spec)
{
	char *copy, *item, *save = NULL, *eq;
	int level, err = 0;

	if (spec == NULL)
		return -EINVAL;
	copy = strdup(spec);
	if (copy == NULL)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (eq != NULL)
			*eq = '\0';
		level = sl_log_level_parse(eq != NULL ? eq + 1 : item);
		if (level < 0) {
			sl_log(SL_LOG_ERR, "log",
			       "bad log level '%s' in '%s': expected one of "
			       "emerg, alert, crit, err, warning, notice, "
			       "info, debug or 0-7",
			       eq != NULL ? eq + 1 : item, spec);
			err = -EINVAL;
			break;
		}
		err = sl_log_set_level(eq != NULL ? item : NULL, level);
		if (err < 0) {
			sl_log(SL_LOG_ERR, "log",
			       "cannot set level of '%s': %s", item,
			       sl_strerror(err));
			break;
		}
	}
	free(copy);
	return err;
}

int
sl_log_set_sink(int sink, const char *ident)
{
	if (sink != SL_LOG_SINK_STDERR && sink != SL_LOG_SINK_SYSLOG)
		return -EINVAL;
	pthread_mutex_lock(&log_state.lock);
	if (log_state.sink == SL_LOG_SINK_SYSLOG)
		closelog();
	log_state.sink = sink;
	if (sink == SL_LOG_SINK_SYSLOG) {
		snprintf(log_state.ident, sizeof(log_state.ident), "%s",
			 ident != NULL ? ident : "sluice");
		openlog(log_state.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&log_state.lock);
	return 0;
}

void
sl_vlog(int level, const char *module, const char *fmt, va_list ap)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;
	int sink;

	if (module == NULL)
		module = "sluice";
	if (level > sl_log_get_level(module))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_state.lock);
	sink = log_state.sink;
	pthread_mutex_unlock(&log_state.lock);
	if (sink == SL_LOG_SINK_SYSLOG) {
		syslog(level, "%s: %s", module, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %-7s %s: %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		level >= 0 && level <= SL_LOG_DEBUG ? level_names[level] : "?",
		module, msg);
}

void
sl_log(int level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vlog(level, module, fmt, ap);
	va_end(ap);
}

SL_INIT(sl_log_init_env)
{
	const char *spec = getenv("SL_LOG_LEVEL");

	if (spec != NULL && spec[0] != '\0')
		(void)sl_log_set_levels(spec);
}
