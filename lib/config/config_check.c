/*
 * Error reporting and typed reads of configuration values. Every message
 * is "file:line:column: key.path: what is wrong, what was expected"; a load
 * logs up to CFG_MAX_ERRORS of them and then fails with EINVAL.
 */
#define SL_LOG_MODULE "config"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "config_private.h"

void
cfg_verr(const char *file, struct sl_config_pos pos, const char *path,
	 const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (pos.line == 0)
		SL_ERR("%s: %s: %s", file, path, msg);
	else
		SL_ERR("%s:%u:%u: %s: %s", file, pos.line, pos.col, path, msg);
}

void
cfg_err(struct cfg_ctx *c, struct sl_config_pos pos, const char *path,
	const char *fmt, ...)
{
	struct cfg_msg *m;
	va_list ap;
	int n;

	if (c->nerr++ >= CFG_MAX_ERRORS)
		return;
	if (c->msgs == NULL)
		c->msgs = calloc(CFG_MAX_ERRORS, sizeof(*c->msgs));
	va_start(ap, fmt);
	if (c->msgs == NULL) { /* no memory: log it now */
		cfg_verr(c->file, pos, path, fmt, ap);
		va_end(ap);
		return;
	}
	m = &c->msgs[c->nerr - 1];
	m->pos = pos;
	m->seq = c->nerr;
	n = snprintf(m->text, sizeof(m->text), "%s: ", path);
	if (n > 0 && (size_t)n < sizeof(m->text))
		vsnprintf(m->text + n, sizeof(m->text) - (size_t)n, fmt, ap);
	va_end(ap);
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct cfg_msg *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : 1;
}

/* Log the errors kept, in the order of the file. */
void
cfg_errors_flush(struct cfg_ctx *c)
{
	unsigned i, n = SL_MIN(c->nerr, (unsigned)CFG_MAX_ERRORS);
	const struct cfg_msg *m;

	if (c->msgs == NULL)
		return;
	qsort(c->msgs, n, sizeof(*c->msgs), msg_cmp);
	for (i = 0; i < n; i++) {
		m = &c->msgs[i];
		if (m->pos.line == 0)
			SL_ERR("%s: %s", c->file, m->text);
		else
			SL_ERR("%s:%u:%u: %s", c->file, m->pos.line, m->pos.col,
			       m->text);
	}
	if (c->nerr > n)
		SL_ERR("%s: %u more errors not shown", c->file, c->nerr - n);
	free(c->msgs);
	c->msgs = NULL;
}

/* A key needs quotes in a path unless it is made of [A-Za-z0-9_-]. */
static bool
key_plain(const char *key)
{
	const char *k;

	if (key[0] == '\0')
		return false;
	for (k = key; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return false;
	return true;
}

void
cfg_path_key(char *out, const char *parent, const char *key)
{
	size_t off;

	off = (size_t)snprintf(out, CFG_PATHSIZE, "%s%s", parent,
			       parent[0] != '\0' ? "." : "");
	if (off >= CFG_PATHSIZE)
		return;
	if (key_plain(key)) {
		snprintf(out + off, CFG_PATHSIZE - off, "%s", key);
		return;
	}
	out[off++] = '"';
	for (; *key != '\0' && off + 3 < CFG_PATHSIZE; key++) {
		if (*key == '"' || *key == '\\')
			out[off++] = '\\';
		out[off++] = *key;
	}
	out[off++] = '"';
	out[off] = '\0';
}

void
cfg_val_root(struct cfg_ctx *c, struct cfg_val *v)
{
	memset(v, 0, sizeof(*v));
	v->o = c->root;
	v->pos = cfg_where_of(c->cfg)->root;
	v->key_pos = v->pos;
}

/* Fill out for member key (value o) of parent. */
void
cfg_member(struct cfg_ctx *c, const struct cfg_val *parent, const char *key,
	   struct json_object *o, struct cfg_val *out)
{
	const struct cfg_slot *sl;

	out->o = o;
	sl = cfg_where_get(cfg_where_of(c->cfg), parent->o, key, 0);
	out->key_pos = sl != NULL ? sl->key_pos : parent->pos;
	out->pos = sl != NULL ? sl->val_pos : parent->pos;
	cfg_path_key(out->path, parent->path, key);
}

/* @return whether parent (an object) has key. */
bool
cfg_get(struct cfg_ctx *c, const struct cfg_val *parent, const char *key,
	struct cfg_val *out)
{
	struct json_object *o;

	if (!json_object_is_type(parent->o, json_type_object) ||
	    !json_object_object_get_ex(parent->o, key, &o))
		return false;
	cfg_member(c, parent, key, o, out);
	return true;
}

/* Two names of one key: either may be given, not both. */
bool
cfg_get_alias(struct cfg_ctx *c, const struct cfg_val *parent, const char *key,
	      const char *alias, struct cfg_val *out)
{
	struct cfg_val other;

	if (!cfg_get(c, parent, key, out))
		return cfg_get(c, parent, alias, out);
	if (cfg_get(c, parent, alias, &other))
		cfg_err(c, other.key_pos, other.path,
			"'%s' is another name of '%s', already given", alias,
			key);
	return true;
}

void
cfg_elem(struct cfg_ctx *c, const struct cfg_val *parent, uint32_t idx,
	 struct cfg_val *out)
{
	const struct cfg_slot *sl;

	out->o = json_object_array_get_idx(parent->o, idx);
	sl = cfg_where_get(cfg_where_of(c->cfg), parent->o, NULL, idx);
	out->pos = sl != NULL ? sl->val_pos : parent->pos;
	out->key_pos = out->pos;
	snprintf(out->path, sizeof(out->path), "%.*s[%u]",
		 (int)(sizeof(out->path) - 16), parent->path, idx);
}

static const char *
type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number with a fraction";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "?";
}

/* What a value is, for messages: scalars as written, else their type. */
const char *
cfg_got(struct json_object *o, char *buf, size_t len)
{
	const char *s;

	if (json_object_is_type(o, json_type_object) ||
	    json_object_is_type(o, json_type_array)) {
		snprintf(buf, len, "%s", type_name(o));
		return buf;
	}
	s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strlen(s) > 40)
		snprintf(buf, len, "%.36s...", s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

/* "a, b, c" */
void
cfg_list(char *out, size_t len, const char *const *items)
{
	size_t off = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; items[i] != NULL && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i ? ", " : "", items[i]);
}

static bool
key_in(const char *key, const char *const *keys)
{
	unsigned i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

static void
member_check(struct cfg_ctx *c, const struct cfg_val *m,
	     const struct cfg_slot *sl, const char *key,
	     const char *const *keys, const struct cfg_refused *refused)
{
	char list[512];
	unsigned i;

	if (sl != NULL && sl->dup.line != 0)
		cfg_err(c, m->key_pos, m->path,
			"key given twice (first at line %u, column %u)",
			sl->dup.line, sl->dup.col);
	for (i = 0; refused != NULL && refused[i].key != NULL; i++)
		if (strcmp(refused[i].key, key) == 0) {
			cfg_err(c, m->key_pos, m->path, "%s", refused[i].why);
			return;
		}
	if (keys == NULL || key_in(key, keys))
		return;
	cfg_list(list, sizeof(list), keys);
	cfg_err(c, m->key_pos, m->path, "unknown key (accepted: %s)", list);
}

/*
 * Check that v is an object whose keys are all in keys (NULL: any key;
 * refused: keys with a reason of their own), none given twice.
 */
bool
cfg_object(struct cfg_ctx *c, const struct cfg_val *v, const char *const *keys,
	   const struct cfg_refused *refused)
{
	struct cfg_val m;
	char got[64];

	if (!json_object_is_type(v->o, json_type_object)) {
		cfg_err(c, v->pos, v->path, "expected an object {...}, got %s",
			cfg_got(v->o, got, sizeof(got)));
		return false;
	}
	json_object_object_foreach(v->o, key, val)
	{
		cfg_member(c, v, key, val, &m);
		member_check(c, &m,
			     cfg_where_get(cfg_where_of(c->cfg), v->o, key, 0),
			     key, keys, refused);
	}
	return true;
}

bool
cfg_array(struct cfg_ctx *c, const struct cfg_val *v, size_t min, size_t max)
{
	char got[64];
	size_t n;

	if (!json_object_is_type(v->o, json_type_array)) {
		cfg_err(c, v->pos, v->path, "expected an array [...], got %s",
			cfg_got(v->o, got, sizeof(got)));
		return false;
	}
	n = json_object_array_length(v->o);
	if (n < min) {
		cfg_err(c, v->pos, v->path, "expected at least %zu element%s",
			min, min == 1 ? "" : "s");
		return false;
	}
	if (n > max) {
		cfg_err(c, v->pos, v->path,
			"%zu elements, more than the limit of %zu", n, max);
		return false;
	}
	return true;
}

bool
cfg_uint(struct cfg_ctx *c, const struct cfg_val *v, uint32_t min, uint32_t max,
	 uint32_t *out)
{
	char got[64];
	int64_t x;

	if (json_object_is_type(v->o, json_type_int)) {
		x = json_object_get_int64(v->o);
		if (x >= min && x <= max) {
			*out = (uint32_t)x;
			return true;
		}
	}
	cfg_err(c, v->pos, v->path, "expected an integer %u..%u, got %s", min,
		max, cfg_got(v->o, got, sizeof(got)));
	return false;
}

bool
cfg_bool(struct cfg_ctx *c, const struct cfg_val *v, bool *out)
{
	char got[64];

	if (!json_object_is_type(v->o, json_type_boolean)) {
		cfg_err(c, v->pos, v->path, "expected true or false, got %s",
			cfg_got(v->o, got, sizeof(got)));
		return false;
	}
	*out = json_object_get_boolean(v->o);
	return true;
}

/* A string of at most size - 1 bytes; what names the limit. */
bool
cfg_str(struct cfg_ctx *c, const struct cfg_val *v, char *buf, size_t size,
	const char *what)
{
	char got[64];
	size_t n;

	if (!json_object_is_type(v->o, json_type_string)) {
		cfg_err(c, v->pos, v->path, "expected a string, got %s",
			cfg_got(v->o, got, sizeof(got)));
		return false;
	}
	n = (size_t)json_object_get_string_len(v->o);
	if (n >= size || strlen(json_object_get_string(v->o)) != n) {
		cfg_err(c, v->pos, v->path,
			"%zu bytes, more than the limit of %zu for %s", n,
			size - 1, what);
		return false;
	}
	memcpy(buf, json_object_get_string(v->o), n + 1);
	return true;
}

/* @return the index of the string v holds in choices, or -EINVAL. */
int
cfg_choice(struct cfg_ctx *c, const struct cfg_val *v,
	   const char *const *choices)
{
	char got[64], list[256];
	int i;

	if (json_object_is_type(v->o, json_type_string))
		for (i = 0; choices[i] != NULL; i++)
			if (strcmp(json_object_get_string(v->o), choices[i]) ==
			    0)
				return i;
	cfg_list(list, sizeof(list), choices);
	cfg_err(c, v->pos, v->path, "expected one of %s, got %s", list,
		cfg_got(v->o, got, sizeof(got)));
	return -EINVAL;
}

/* A name used as a key: 1..size-1 bytes. v is the member it names. */
bool
cfg_name(struct cfg_ctx *c, const struct cfg_val *v, const char *name,
	 size_t size, const char *what)
{
	size_t n = strlen(name);

	if (n == 0) {
		cfg_err(c, v->key_pos, v->path, "empty name: expected %s",
			what);
		return false;
	}
	if (n >= size) {
		cfg_err(c, v->key_pos, v->path,
			"%zu bytes, more than the limit of %zu for %s", n,
			size - 1, what);
		return false;
	}
	return true;
}

static bool
parse_num(const char **s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno != 0 || v > max)
		return false;
	*s = end;
	*out = (uint32_t)v;
	return true;
}

/* "N" or "a-b" (a <= b <= max). @return 0 or -EINVAL. */
int
cfg_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	if (!parse_num(&s, max, lo))
		return -EINVAL;
	*hi = *lo;
	if (*s == '-') {
		s++;
		if (!parse_num(&s, max, hi) || *hi < *lo)
			return -EINVAL;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

/* Names of n entries stride bytes apart ("a, b, c", or "none"). */
void
cfg_names(char *out, size_t len, const char *first, size_t stride, uint32_t n)
{
	size_t off = 0;
	uint32_t i;

	snprintf(out, len, "none");
	for (i = 0; i < n && off + 8 < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i ? ", " : "", first + i * stride);
	if (off >= len && len > 4)
		snprintf(out + len - 4, 4, "...");
}
