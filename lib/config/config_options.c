/*
 * options{}: free-form keys of the application, read through typed
 * accessors. The loader keeps the json-c document, so a value is read when
 * the application asks for it, and a wrong one is reported with its
 * position like every other configuration error.
 */
#define SL_LOG_MODULE "config"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "config_private.h"

static struct json_object *
opts_of(const struct sl_config *cfg)
{
	struct json_object *o;

	if (cfg == NULL ||
	    !json_object_object_get_ex(cfg->doc, "options", &o) ||
	    !json_object_is_type(o, json_type_object))
		return NULL;
	return o;
}

/* @return whether options.key exists (its value may be null). */
static bool
opt_get(const struct sl_config *cfg, const char *key, struct json_object **o)
{
	struct json_object *opts = opts_of(cfg);

	return opts != NULL && key != NULL &&
	       json_object_object_get_ex(opts, key, o);
}

/* Where options.key (or its element idx) is; 0:0 when unknown. */
static struct sl_config_pos
opt_pos(const struct sl_config *cfg, const char *key, int idx)
{
	const struct cfg_where *w = cfg_where_of(cfg);
	struct json_object *opts = opts_of(cfg), *o;
	struct sl_config_pos none = {0, 0};
	const struct cfg_slot *sl;

	if (opts == NULL)
		return none;
	sl = cfg_where_get(w, opts, key, 0);
	if (sl == NULL)
		return none;
	if (idx < 0 || !json_object_object_get_ex(opts, key, &o))
		return sl->val_pos;
	sl = cfg_where_get(w, o, NULL, (uint32_t)idx);
	return sl != NULL ? sl->val_pos : none;
}

static void __attribute__((format(printf, 5, 0)))
opt_verror(const struct sl_config *cfg, const char *key, int idx,
	   struct sl_config_pos pos, const char *fmt, va_list ap)
{
	char path[CFG_PATHSIZE];
	size_t n;

	cfg_path_key(path, "options", key);
	n = strlen(path);
	if (idx >= 0 && n + 16 < sizeof(path))
		snprintf(path + n, sizeof(path) - n, "[%d]", idx);
	cfg_verr(cfg->file, pos, path, fmt, ap);
}

static void __attribute__((format(printf, 4, 5)))
opt_error_at(const struct sl_config *cfg, const char *key,
	     struct sl_config_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	opt_verror(cfg, key, -1, pos, fmt, ap);
	va_end(ap);
}

void
sl_config_opt_error(const struct sl_config *cfg, const char *key, int idx,
		    const char *fmt, ...)
{
	va_list ap;

	if (cfg == NULL || key == NULL || fmt == NULL)
		return;
	va_start(ap, fmt);
	opt_verror(cfg, key, idx, opt_pos(cfg, key, idx), fmt, ap);
	va_end(ap);
}

static int
wrong_type(const struct sl_config *cfg, const char *key, struct json_object *o,
	   const char *expected)
{
	char got[64];

	sl_config_opt_error(cfg, key, -1, "expected %s, got %s", expected,
			    cfg_got(o, got, sizeof(got)));
	return -EINVAL;
}

int
sl_config_opt_str(const struct sl_config *cfg, const char *key, const char *def,
		  const char **out)
{
	struct json_object *o;

	if (cfg == NULL || key == NULL || out == NULL)
		return -EINVAL;
	*out = def;
	if (!opt_get(cfg, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return wrong_type(cfg, key, o, "a string");
	*out = json_object_get_string(o);
	return 0;
}

/* A decimal or 0x-prefixed hexadecimal integer, the whole string. */
static bool
str_int(const char *s, int64_t *v)
{
	const char *p = s;
	char *end;
	int base = 10;

	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoll(s, &end, base);
	return errno == 0 && *end == '\0';
}

int
sl_config_opt_int(const struct sl_config *cfg, const char *key, int64_t def,
		  int64_t min, int64_t max, int64_t *out)
{
	struct json_object *o;
	char got[64];
	bool ok = false;
	int64_t v = 0;

	if (cfg == NULL || key == NULL || out == NULL || min > max)
		return -EINVAL;
	*out = def;
	if (!opt_get(cfg, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		errno = 0;
		v = json_object_get_int64(o);
		ok = errno == 0;
	} else if (json_object_is_type(o, json_type_string)) {
		ok = str_int(json_object_get_string(o), &v);
	}
	if (!ok || v < min || v > max) {
		sl_config_opt_error(cfg, key, -1,
				    "expected an integer %lld..%lld, got %s",
				    (long long)min, (long long)max,
				    cfg_got(o, got, sizeof(got)));
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
sl_config_opt_bool(const struct sl_config *cfg, const char *key, bool def,
		   bool *out)
{
	struct json_object *o;

	if (cfg == NULL || key == NULL || out == NULL)
		return -EINVAL;
	*out = def;
	if (!opt_get(cfg, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_boolean))
		return wrong_type(cfg, key, o, "true or false");
	*out = json_object_get_boolean(o);
	return 0;
}

/* The strings of o (an array of strings, or a string), NULL-terminated. */
static int
strv_make(const struct sl_config *cfg, const char *key, struct json_object *o,
	  const char ***v)
{
	bool one = json_object_is_type(o, json_type_string);
	size_t i, n = one ? 1 : json_object_array_length(o);
	struct json_object *e;
	char got[64];

	*v = calloc(n + 1, sizeof(**v));
	if (*v == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		e = one ? o : json_object_array_get_idx(o, i);
		if (!json_object_is_type(e, json_type_string)) {
			sl_config_opt_error(cfg, key, (int)i,
					    "expected a string, got %s",
					    cfg_got(e, got, sizeof(got)));
			free(*v);
			*v = NULL;
			return -EINVAL;
		}
		(*v)[i] = json_object_get_string(e);
	}
	return 0;
}

int
sl_config_opt_strv(const struct sl_config *cfg, const char *key,
		   const char *const **out, unsigned *n)
{
	static const char *const empty[] = {NULL};
	struct cfg_where *w;
	struct cfg_strv *sv;
	struct json_object *o;
	int err;

	if (cfg == NULL || key == NULL || out == NULL)
		return -EINVAL;
	*out = empty;
	if (n != NULL)
		*n = 0;
	if (!opt_get(cfg, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_string) &&
	    !json_object_is_type(o, json_type_array))
		return wrong_type(cfg, key, o, "an array of strings");
	w = cfg_where_of(cfg);
	for (sv = w->strv; sv != NULL; sv = sv->next)
		if (strcmp(sv->key, key) == 0)
			goto found;
	sv = calloc(1, sizeof(*sv));
	if (sv == NULL || (sv->key = strdup(key)) == NULL) {
		free(sv);
		return -ENOMEM;
	}
	err = strv_make(cfg, key, o, &sv->v);
	if (err < 0) {
		free(sv->key);
		free(sv);
		return err;
	}
	sv->next = w->strv;
	w->strv = sv;
found:
	*out = sv->v;
	if (n != NULL)
		for (*n = 0; sv->v[*n] != NULL; (*n)++)
			;
	return 0;
}

static bool
key_known(const char *key, const char *const *known)
{
	unsigned i;

	for (i = 0; known != NULL && known[i] != NULL; i++)
		if (strcmp(known[i], key) == 0)
			return true;
	return false;
}

int
sl_config_options_check(const struct sl_config *cfg, const char *const *known)
{
	struct json_object *opts = opts_of(cfg);
	struct sl_config_pos none = {0, 0};
	const struct cfg_slot *sl;
	char list[512] = "none";
	int err = 0;

	if (cfg == NULL)
		return -EINVAL;
	if (opts == NULL)
		return 0;
	if (known != NULL && known[0] != NULL)
		cfg_list(list, sizeof(list), known);
	json_object_object_foreach(opts, key, val)
	{
		(void)val;
		sl = cfg_where_get(cfg_where_of(cfg), opts, key, 0);
		if (sl != NULL && sl->dup.line != 0) {
			opt_error_at(cfg, key, sl->key_pos,
				     "option given twice (first at line %u, "
				     "column %u)",
				     sl->dup.line, sl->dup.col);
			err = -EINVAL;
		}
		if (key_known(key, known))
			continue;
		opt_error_at(cfg, key, sl != NULL ? sl->key_pos : none,
			     "unknown option (accepted: %s)", list);
		err = -EINVAL;
	}
	return err;
}
