/*
 * Where each key and value sits in the text. json-c objects carry no
 * positions, so once json-c has accepted the text, a second pass walks the
 * same text alongside the json-c tree: every object member and array
 * element is recorded under (its container, its key or index) with the
 * line and column of its key and of its value. Keys are decoded by json-c
 * itself, so escapes and single quotes match what the tree holds; an object
 * key given twice is recorded with the position of its first occurrence.
 *
 * The text is known to be valid JSONC (json-c's non-strict grammar:
 * comments, trailing commas, single-quoted strings, NaN), so the walk only
 * needs to skip strings, comments and scalars.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_private.h"

#define WHERE_BUCKETS 1024u

struct scan {
	const char *s;
	size_t len, off;
	struct sl_config_pos pos;
	struct json_tokener *tok;
	struct cfg_where *w;
	int err;
};

static void
pos_step(struct sl_config_pos *p, unsigned char ch)
{
	if (ch == '\n') {
		p->line++;
		p->col = 1;
	} else if ((ch & 0xC0) != 0x80) {
		p->col++; /* a UTF-8 continuation byte adds no column */
	}
}

struct sl_config_pos
cfg_text_pos(const char *text, size_t off)
{
	struct sl_config_pos p = {1, 1};
	size_t i;

	for (i = 0; i < off && text[i] != '\0'; i++)
		pos_step(&p, (unsigned char)text[i]);
	return p;
}

static int
scan_peek(const struct scan *sc)
{
	return sc->off < sc->len ? (unsigned char)sc->s[sc->off] : -1;
}

static void
scan_adv(struct scan *sc)
{
	if (sc->off < sc->len)
		pos_step(&sc->pos, (unsigned char)sc->s[sc->off++]);
}

static bool
scan_at(const struct scan *sc, const char *two)
{
	return sc->off + 1 < sc->len && sc->s[sc->off] == two[0] &&
	       sc->s[sc->off + 1] == two[1];
}

/* Whitespace and comments. */
static void
scan_ws(struct scan *sc)
{
	int ch;

	for (;;) {
		ch = scan_peek(sc);
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f' || ch == '\v') {
			scan_adv(sc);
		} else if (scan_at(sc, "//")) {
			while (scan_peek(sc) >= 0 && scan_peek(sc) != '\n')
				scan_adv(sc);
		} else if (scan_at(sc, "/*")) {
			scan_adv(sc);
			scan_adv(sc);
			while (scan_peek(sc) >= 0 && !scan_at(sc, "*/"))
				scan_adv(sc);
			scan_adv(sc);
			scan_adv(sc);
		} else {
			return;
		}
	}
}

/* A string in double or single quotes, from its opening quote. */
static void
scan_string(struct scan *sc)
{
	int q = scan_peek(sc), ch;

	scan_adv(sc);
	while ((ch = scan_peek(sc)) >= 0 && ch != q) {
		if (ch == '\\')
			scan_adv(sc);
		scan_adv(sc);
	}
	scan_adv(sc);
}

/* A number or literal: up to the next delimiter. */
static void
scan_scalar(struct scan *sc)
{
	int ch;

	while ((ch = scan_peek(sc)) >= 0 && strchr(",]}:/ \t\r\n\f\v", ch) == 0)
		scan_adv(sc);
}

static struct cfg_slot *
slot_find(const struct cfg_where *w, const void *parent, const char *key,
	  uint32_t idx, uint32_t *bucket)
{
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)parent;
	struct cfg_slot *sl;
	const char *k;

	h *= 1099511628211ull;
	if (key == NULL)
		h ^= idx;
	for (k = key; k != NULL && *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	h ^= h >> 29;
	*bucket = (uint32_t)(h & (w->nbuckets - 1));
	for (sl = w->buckets[*bucket]; sl != NULL; sl = sl->next) {
		if (sl->parent != parent)
			continue;
		if (key == NULL ? sl->key == NULL && sl->idx == idx
				: sl->key != NULL && strcmp(sl->key, key) == 0)
			return sl;
	}
	return NULL;
}

static void
slot_record(struct scan *sc, const void *parent, const char *key, uint32_t idx,
	    struct sl_config_pos kpos, struct sl_config_pos vpos)
{
	struct cfg_slot *sl;
	uint32_t b;

	sl = slot_find(sc->w, parent, key, idx, &b);
	if (sl != NULL) {
		sl->dup = sl->key_pos;
		sl->key_pos = kpos;
		sl->val_pos = vpos;
		return;
	}
	sl = calloc(1, sizeof(*sl));
	if (sl == NULL || (key != NULL && (sl->key = strdup(key)) == NULL)) {
		free(sl);
		sc->err = -ENOMEM;
		return;
	}
	sl->parent = parent;
	sl->idx = idx;
	sl->key_pos = kpos;
	sl->val_pos = vpos;
	sl->next = sc->w->buckets[b];
	sc->w->buckets[b] = sl;
}

static void scan_value(struct scan *sc, struct json_object *o);

/* The key at sc, decoded by json-c (NULL if it cannot: not recorded). */
static struct json_object *
scan_key(struct scan *sc)
{
	size_t start = sc->off;
	struct json_object *k;

	scan_string(sc);
	json_tokener_reset(sc->tok);
	k = json_tokener_parse_ex(sc->tok, sc->s + start,
				  (int)(sc->off - start));
	if (k != NULL && !json_object_is_type(k, json_type_string)) {
		json_object_put(k);
		k = NULL;
	}
	return k;
}

static void
scan_member(struct scan *sc, struct json_object *obj)
{
	struct sl_config_pos kpos = sc->pos, vpos;
	struct json_object *key, *child = NULL;
	const char *k;

	key = scan_key(sc);
	scan_ws(sc);
	if (scan_peek(sc) == ':')
		scan_adv(sc);
	scan_ws(sc);
	vpos = sc->pos;
	if (key != NULL) {
		k = json_object_get_string(key);
		if (json_object_is_type(obj, json_type_object))
			json_object_object_get_ex(obj, k, &child);
		slot_record(sc, obj, k, 0, kpos, vpos);
		json_object_put(key);
	}
	scan_value(sc, child);
}

static void
scan_object(struct scan *sc, struct json_object *obj)
{
	int ch;

	scan_adv(sc);
	for (;;) {
		scan_ws(sc);
		ch = scan_peek(sc);
		if (ch == '}' || (ch != '"' && ch != '\''))
			break;
		scan_member(sc, obj);
		if (sc->err < 0)
			return;
		scan_ws(sc);
		if (scan_peek(sc) == ',')
			scan_adv(sc);
	}
	scan_adv(sc);
}

static void
scan_array(struct scan *sc, struct json_object *arr)
{
	struct json_object *elem;
	uint32_t idx = 0;
	int ch;

	scan_adv(sc);
	for (;;) {
		scan_ws(sc);
		ch = scan_peek(sc);
		if (ch == ']' || ch < 0)
			break;
		elem = NULL;
		if (json_object_is_type(arr, json_type_array) &&
		    idx < json_object_array_length(arr))
			elem = json_object_array_get_idx(arr, idx);
		slot_record(sc, arr, NULL, idx, sc->pos, sc->pos);
		scan_value(sc, elem);
		if (sc->err < 0)
			return;
		idx++;
		scan_ws(sc);
		if (scan_peek(sc) == ',')
			scan_adv(sc);
	}
	scan_adv(sc);
}

/* A value whose json-c counterpart is o (NULL when it is null, or lost). */
static void
scan_value(struct scan *sc, struct json_object *o)
{
	int ch = scan_peek(sc);

	if (ch == '{')
		scan_object(sc, o);
	else if (ch == '[')
		scan_array(sc, o);
	else if (ch == '"' || ch == '\'')
		scan_string(sc);
	else
		scan_scalar(sc);
}

size_t
cfg_text_skip(const char *text, size_t len, size_t off)
{
	struct scan sc = {.s = text, .len = len, .off = off, .pos = {1, 1}};

	scan_ws(&sc);
	return sc.off;
}

struct cfg_where *
cfg_where_build(const char *text, size_t len, struct json_object *root)
{
	struct scan sc = {.s = text, .len = len, .pos = {1, 1}};

	sc.w = calloc(1, sizeof(*sc.w));
	if (sc.w == NULL)
		return NULL;
	sc.w->nbuckets = WHERE_BUCKETS;
	sc.w->buckets = calloc(WHERE_BUCKETS, sizeof(*sc.w->buckets));
	sc.tok = json_tokener_new();
	if (sc.w->buckets == NULL || sc.tok == NULL)
		goto fail;
	scan_ws(&sc);
	sc.w->root = sc.pos;
	scan_value(&sc, root);
	if (sc.err < 0)
		goto fail;
	json_tokener_free(sc.tok);
	return sc.w;
fail:
	if (sc.tok != NULL)
		json_tokener_free(sc.tok);
	cfg_where_free(sc.w);
	errno = ENOMEM;
	return NULL;
}

void
cfg_where_free(struct cfg_where *w)
{
	struct cfg_slot *sl, *next;
	struct cfg_strv *sv, *nsv;
	uint32_t b;

	if (w == NULL)
		return;
	for (b = 0; w->buckets != NULL && b < w->nbuckets; b++)
		for (sl = w->buckets[b]; sl != NULL; sl = next) {
			next = sl->next;
			free(sl->key);
			free(sl);
		}
	for (sv = w->strv; sv != NULL; sv = nsv) {
		nsv = sv->next;
		free(sv->key);
		free(sv->v);
		free(sv);
	}
	free(w->buckets);
	free(w);
}

const struct cfg_slot *
cfg_where_get(const struct cfg_where *w, const void *parent, const char *key,
	      uint32_t idx)
{
	uint32_t b;

	if (w == NULL)
		return NULL;
	return slot_find(w, parent, key, idx, &b);
}
