/*
 * JSONC configuration: loading, the document checks in order (sections
 * that others refer to first), application{}, defaults{} and umems{}.
 * json-c parses the text; config_pos.c finds where each value was, so that
 * every error names its line and column.
 */
#define SL_LOG_MODULE "config"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/sl_log.h"
#include "sluice/sl_mempool.h"
#include "config_private.h"

static const char *const top_keys[] = {
	"application",	"defaults", "umems",   "lports", "lcore-groups",
	"lport-groups", "threads",  "options", "users",	 NULL,
};
static const char *const app_keys[] = {"name", "description", "desc", NULL};
static const char *const defaults_keys[] = {
	"bufcnt", "bufsz", "rxdesc", "txdesc", "cache", "mtype", NULL,
};
static const char *const umem_keys[] = {
	"bufcnt", "bufsz",	 "mtype", "regions",	 "rxdesc", "txdesc",
	"cache",  "shared_umem", "desc",  "description", NULL,
};
static const char *const mtypes[] = {"4KB", "2MB", NULL};

/* ---- application{} ---- */

static void
app_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct sl_config_app *app = &c->cfg->app;
	struct cfg_val v, f;

	if (!cfg_get(c, root, "application", &v) ||
	    !cfg_object(c, &v, app_keys, NULL))
		return;
	if (cfg_get(c, &v, "name", &f))
		cfg_str(c, &f, app->name, sizeof(app->name),
			"an application name");
	if (cfg_get_alias(c, &v, "description", "desc", &f))
		cfg_str(c, &f, app->desc, sizeof(app->desc), "a description");
}

/* ---- defaults{} and umems{} ---- */

/* A count in units of 1024 (buffers, descriptors). */
static bool
units(struct cfg_ctx *c, const struct cfg_val *obj, const char *key,
      uint32_t max, uint32_t *out)
{
	struct cfg_val v;
	uint32_t n;

	if (!cfg_get(c, obj, key, &v) || !cfg_uint(c, &v, 1, max, &n))
		return false;
	*out = n * CFG_KILO;
	return true;
}

static void
bufsz_parse(struct cfg_ctx *c, const struct cfg_val *obj, uint32_t *out)
{
	struct cfg_val v;
	uint32_t kb;

	if (!cfg_get(c, obj, "bufsz", &v) ||
	    !cfg_uint(c, &v, 1, CFG_BUFSZ_MAX, &kb))
		return;
	if ((kb & (kb - 1)) != 0)
		SL_WARN("%s:%u:%u: %s: %u KB is not a power of 2: buffers may "
			"straddle pages",
			c->file, v.pos.line, v.pos.col, v.path, kb);
	*out = kb * CFG_KILO;
}

/* The fields umems{} share with defaults{}. */
static void
umem_fields(struct cfg_ctx *c, const struct cfg_val *obj,
	    struct sl_config_umem *u)
{
	struct cfg_val v;
	uint32_t n;
	int i;

	units(c, obj, "bufcnt", CFG_BUFCNT_MAX, &u->bufcnt);
	bufsz_parse(c, obj, &u->bufsz);
	if (units(c, obj, "rxdesc", CFG_DESC_MAX, &n))
		u->rxdesc = (uint16_t)n;
	if (units(c, obj, "txdesc", CFG_DESC_MAX, &n))
		u->txdesc = (uint16_t)n;
	if (cfg_get(c, obj, "cache", &v))
		cfg_uint(c, &v, 0, SL_MEMPOOL_CACHE_MAX, &u->cache);
	if (cfg_get(c, obj, "mtype", &v)) {
		i = cfg_choice(c, &v, mtypes);
		if (i >= 0)
			snprintf(u->mtype, sizeof(u->mtype), "%s", mtypes[i]);
	}
	u->hugepages = strcmp(u->mtype, "4KB") != 0;
}

static void
defaults_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct sl_config_umem *d = &c->defaults;
	struct cfg_val v;

	d->bufcnt = CFG_DEF_BUFCNT * CFG_KILO;
	d->bufsz = CFG_DEF_BUFSZ * CFG_KILO;
	d->rxdesc = CFG_DEF_DESC * CFG_KILO;
	d->txdesc = CFG_DEF_DESC * CFG_KILO;
	d->cache = CFG_DEF_CACHE;
	d->hugepages = true;
	if (cfg_get(c, root, "defaults", &v) &&
	    cfg_object(c, &v, defaults_keys, NULL))
		umem_fields(c, &v, d);
}

/* regions[]: their sum is bufcnt, or must match the bufcnt given. */
static void
regions_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	      struct sl_config_umem *u, bool bufcnt_given)
{
	struct cfg_val v, e;
	uint32_t i, n, sum = 0;

	if (!cfg_get(c, obj, "regions", &v) ||
	    !cfg_array(c, &v, 1, SL_CONFIG_MAX_REGIONS))
		return;
	n = (uint32_t)json_object_array_length(v.o);
	for (i = 0; i < n; i++) {
		cfg_elem(c, &v, i, &e);
		if (!cfg_uint(c, &e, 1, CFG_BUFCNT_MAX, &u->regions[i]))
			return;
		sum += u->regions[i];
		u->regions[i] *= CFG_KILO;
	}
	if (sum > CFG_BUFCNT_MAX) {
		cfg_err(c, v.pos, v.path,
			"regions add up to %u (x1024 buffers), more than the "
			"limit of %u",
			sum, CFG_BUFCNT_MAX);
		return;
	}
	if (bufcnt_given && sum * CFG_KILO != u->bufcnt) {
		cfg_err(c, v.pos, v.path,
			"regions add up to %u (x1024 buffers) but bufcnt is "
			"%u: "
			"expected the same count",
			sum, u->bufcnt / CFG_KILO);
		return;
	}
	u->nregions = n;
	u->bufcnt = sum * CFG_KILO;
}

struct sl_config_umem *
cfg_umem_add(struct cfg_ctx *c, const char *name, struct sl_config_pos pos)
{
	struct sl_config_umem *u;

	if (c->cfg->numems == CFG_MAX_UMEMS)
		return NULL;
	u = &c->cfg->umems[c->cfg->numems++];
	*u = c->defaults;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->nregions = 1;
	u->regions[0] = u->bufcnt;
	u->pos = pos;
	return u;
}

int
cfg_umem_find(const struct sl_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->numems; i++)
		if (strcmp(cfg->umems[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static void
umem_parse(struct cfg_ctx *c, const struct cfg_val *v, const char *name)
{
	struct sl_config_umem *u;
	struct cfg_val f;

	if (!cfg_name(c, v, name, SL_CONFIG_NAMESIZE, "a umem name") ||
	    !cfg_object(c, v, umem_keys, NULL))
		return;
	u = cfg_umem_add(c, name, v->key_pos);
	if (u == NULL) {
		cfg_err(c, v->key_pos, v->path,
			"more than the limit of %d umems", CFG_MAX_UMEMS);
		return;
	}
	umem_fields(c, v, u);
	u->regions[0] = u->bufcnt;
	regions_parse(c, v, u, cfg_get(c, v, "bufcnt", &f));
	if (cfg_get(c, v, "shared_umem", &f))
		cfg_bool(c, &f, &u->shared_umem);
	if (cfg_get_alias(c, v, "description", "desc", &f))
		cfg_str(c, &f, u->desc, sizeof(u->desc), "a description");
}

static void
umems_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct cfg_val v, m;

	if (!cfg_get(c, root, "umems", &v) || !cfg_object(c, &v, NULL, NULL))
		return;
	json_object_object_foreach(v.o, name, val)
	{
		cfg_member(c, &v, name, val, &m);
		umem_parse(c, &m, name);
	}
}

/* ---- the document ---- */

static void
free_form(struct cfg_ctx *c, const struct cfg_val *root, const char *key)
{
	struct cfg_val v;

	if (cfg_get(c, root, key, &v))
		cfg_object(c, &v, NULL, NULL);
}

static void
doc_check(struct cfg_ctx *c)
{
	struct cfg_val root;

	char got[64];

	cfg_val_root(c, &root);
	if (!json_object_is_type(root.o, json_type_object)) {
		cfg_err(c, root.pos, "(top level)",
			"expected an object {...}, got %s",
			cfg_got(root.o, got, sizeof(got)));
		return;
	}
	cfg_object(c, &root, top_keys, NULL);
	app_parse(c, &root);
	defaults_parse(c, &root);
	umems_parse(c, &root);
	cfg_groups_parse(c, &root);
	cfg_lports_parse(c, &root);
	cfg_lport_groups_parse(c, &root);
	cfg_threads_parse(c, &root);
	cfg_assign_resolve(c);
	free_form(c, &root, "options");
	free_form(c, &root, "users");
}

static void
syntax_error(struct cfg_ctx *c, const char *text, size_t len, size_t off,
	     const char *what)
{
	char found[32] = "";
	unsigned char ch;

	if (off < len) {
		ch = (unsigned char)text[off];
		if (ch >= 0x20 && ch < 0x7F)
			snprintf(found, sizeof(found), " at '%c'", ch);
		else
			snprintf(found, sizeof(found), " at byte 0x%02x", ch);
	}
	cfg_err(c, cfg_text_pos(text, off), "syntax error", "%s%s", what,
		found);
}

/* json-c's parse, then the index of positions. */
static int
doc_parse(struct cfg_ctx *c, const char *text, size_t len)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	size_t end;

	tok = json_tokener_new();
	if (tok == NULL)
		return -ENOMEM;
	c->root = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (c->root == NULL && e == json_tokener_success) {
		cfg_err(c, cfg_text_pos(text, cfg_text_skip(text, len, 0)),
			"(top level)", "expected an object {...}, got null");
		return -EINVAL;
	}
	if (c->root == NULL) {
		syntax_error(c, text, len, end,
			     e == json_tokener_continue
				     ? "unexpected end of the text"
				     : json_tokener_error_desc(e));
		return -EINVAL;
	}
	c->cfg->doc = c->root;
	end = cfg_text_skip(text, len, end);
	if (end < len) {
		syntax_error(c, text, len, end,
			     "text after the end of the document");
		return -EINVAL;
	}
	c->cfg->where = cfg_where_build(text, len, c->root);
	return c->cfg->where == NULL ? -ENOMEM : 0;
}

static struct sl_config *
cfg_alloc(const char *name)
{
	struct sl_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	cfg->umems = calloc(CFG_MAX_UMEMS, sizeof(*cfg->umems));
	cfg->lports = calloc(CFG_MAX_LPORTS, sizeof(*cfg->lports));
	cfg->lcore_groups = calloc(CFG_MAX_GROUPS, sizeof(*cfg->lcore_groups));
	cfg->threads = calloc(CFG_MAX_THREADS, sizeof(*cfg->threads));
	if (cfg->umems == NULL || cfg->lports == NULL ||
	    cfg->lcore_groups == NULL || cfg->threads == NULL) {
		sl_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static struct sl_config *
cfg_parse(const char *text, size_t len, const char *name)
{
	struct cfg_ctx c = {.file = name};
	int err;

	c.cfg = cfg_alloc(name);
	if (c.cfg == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	err = doc_parse(&c, text, len);
	if (err == 0)
		doc_check(&c);
	free(c.assign);
	cfg_errors_flush(&c);
	if (err == 0 && c.nomem)
		err = -ENOMEM;
	if (err == 0 && c.nerr > 0)
		err = -EINVAL;
	if (err < 0) {
		sl_config_free(c.cfg);
		errno = -err;
		return NULL;
	}
	return c.cfg;
}

struct sl_config *
sl_config_parse(const char *text, const char *name)
{
	if (text == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return cfg_parse(text, strlen(text), name != NULL ? name : "<text>");
}

/* The whole file, NUL-terminated; NULL with errno (logged). */
static char *
file_read(const char *path, size_t *len)
{
	char *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	buf = malloc(CFG_MAX_FILE + 1);
	if (buf == NULL)
		goto close_fd;
	*len = 0;
	while ((n = read(fd, buf + *len, CFG_MAX_FILE + 1 - *len)) > 0)
		*len += (size_t)n;
	if (n < 0)
		goto free_buf;
	if (*len > CFG_MAX_FILE) {
		errno = EFBIG;
		goto free_buf;
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
free_buf:
	free(buf);
close_fd:
	n = errno;
	close(fd);
	errno = (int)n;
fail:
	SL_ERR("cannot read the configuration %s: %s%s", path, strerror(errno),
	       errno == EFBIG ? " (the limit is 1 MiB)" : "");
	return NULL;
}

struct sl_config *
sl_config_load(const char *path)
{
	struct sl_config *cfg;
	size_t len;
	char *text;
	int err;

	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	text = file_read(path, &len);
	if (text == NULL)
		return NULL;
	cfg = cfg_parse(text, len, path);
	err = errno;
	free(text);
	errno = err;
	return cfg;
}

void
sl_config_free(struct sl_config *cfg)
{
	if (cfg == NULL)
		return;
	json_object_put(cfg->doc);
	cfg_where_free(cfg->where);
	free(cfg->umems);
	free(cfg->lports);
	free(cfg->lcore_groups);
	free(cfg->threads);
	free(cfg);
}
