/*
 * The effective configuration as JSONC (sl_config_print(): what a load
 * made of the file, in the file's own units, loadable again), and the
 * sl_pktdev_open() arguments of an lport (sl_config_port_cfg()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_private.h"

/* ---- building the document ---- */

struct pbuild {
	bool nomem;
};

static void
add(struct pbuild *pb, struct json_object *obj, const char *key,
    struct json_object *v)
{
	if (obj == NULL || v == NULL || json_object_object_add(obj, key, v)) {
		json_object_put(v);
		pb->nomem = true;
	}
}

static void
add_str(struct pbuild *pb, struct json_object *obj, const char *key,
	const char *s)
{
	if (s[0] != '\0')
		add(pb, obj, key, json_object_new_string(s));
}

static void
add_int(struct pbuild *pb, struct json_object *obj, const char *key, int64_t v)
{
	add(pb, obj, key, json_object_new_int64(v));
}

static void
add_bool(struct pbuild *pb, struct json_object *obj, const char *key, bool v)
{
	add(pb, obj, key, json_object_new_boolean(v));
}

static void
push(struct pbuild *pb, struct json_object *arr, struct json_object *v)
{
	if (arr == NULL || v == NULL || json_object_array_add(arr, v)) {
		json_object_put(v);
		pb->nomem = true;
	}
}

static void
app_build(struct pbuild *pb, const struct sl_config *cfg,
	  struct json_object *doc)
{
	struct json_object *o;

	if (cfg->app.name[0] == '\0' && cfg->app.desc[0] == '\0')
		return;
	o = json_object_new_object();
	add_str(pb, o, "name", cfg->app.name);
	add_str(pb, o, "description", cfg->app.desc);
	add(pb, doc, "application", o);
}

static struct json_object *
umem_build(struct pbuild *pb, const struct sl_config_umem *u)
{
	struct json_object *o = json_object_new_object();
	struct json_object *r = json_object_new_array();
	uint32_t i;

	add_int(pb, o, "bufcnt", u->bufcnt / CFG_KILO);
	add_int(pb, o, "bufsz", u->bufsz / CFG_KILO);
	add_str(pb, o, "mtype", u->mtype);
	for (i = 0; i < u->nregions; i++)
		push(pb, r, json_object_new_int64(u->regions[i] / CFG_KILO));
	add(pb, o, "regions", r);
	add_int(pb, o, "rxdesc", u->rxdesc / CFG_KILO);
	add_int(pb, o, "txdesc", u->txdesc / CFG_KILO);
	add_int(pb, o, "cache", u->cache);
	add_bool(pb, o, "shared_umem", u->shared_umem);
	add_str(pb, o, "description", u->desc);
	return o;
}

/* CPUs as numbers, runs of three or more as "a-b". */
static struct json_object *
cpus_build(struct pbuild *pb, const struct sl_config_lcore_group *g)
{
	struct json_object *a = json_object_new_array();
	char range[16];
	uint32_t i, j;

	for (i = 0; i < g->ncpus; i = j + 1) {
		for (j = i;
		     j + 1 < g->ncpus && g->cpus[j + 1] == g->cpus[j] + 1; j++)
			;
		if (j - i >= 2) {
			snprintf(range, sizeof(range), "%u-%u", g->cpus[i],
				 g->cpus[j]);
			push(pb, a, json_object_new_string(range));
		} else {
			push(pb, a, json_object_new_int(g->cpus[i]));
			j = i;
		}
	}
	return a;
}

static void
xdp_build(struct pbuild *pb, const struct sl_config_lport *lp,
	  struct json_object *o)
{
	if (lp->busy_poll >= 0)
		add_bool(pb, o, "busy_poll", lp->busy_poll);
	if (lp->busy_timeout != 0)
		add_int(pb, o, "busy_timeout", lp->busy_timeout);
	if (lp->busy_budget != 0)
		add_int(pb, o, "busy_budget", lp->busy_budget);
	add_str(pb, o, "mode", lp->mode);
	add_str(pb, o, "xsk_pin_path", lp->xsk_pin_path);
	add_str(pb, o, "uds_path", lp->uds_path);
}

static struct json_object *
lport_build(struct pbuild *pb, const struct sl_config *cfg,
	    const struct sl_config_lport *lp)
{
	struct json_object *o = json_object_new_object();

	add_str(pb, o, "pmd", lp->pmd);
	add_int(pb, o, "qid", lp->qid);
	add_str(pb, o, "umem", cfg->umems[lp->umem].name);
	add_int(pb, o, "region", lp->region);
	xdp_build(pb, lp, o);
	add_str(pb, o, "options", lp->options);
	add_str(pb, o, "description", lp->desc);
	return o;
}

static struct json_object *
thread_build(struct pbuild *pb, const struct sl_config *cfg,
	     const struct sl_config_thread *t)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	uint32_t i;

	add_str(pb, o, "group", cfg->lcore_groups[t->group].name);
	for (i = 0; i < t->nlports; i++)
		push(pb, a,
		     json_object_new_string(cfg->lports[t->lports[i]].name));
	add(pb, o, "lports", a);
	add_int(pb, o, "idle_timeout", t->idle_timeout);
	add_int(pb, o, "intr_timeout", t->intr_timeout);
	add_bool(pb, o, "yield", t->yield);
	add_str(pb, o, "description", t->desc);
	return o;
}

/* A free-form section, as given. */
static void
copy_section(struct pbuild *pb, const struct sl_config *cfg,
	     struct json_object *doc, const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(cfg->doc, key, &o))
		add(pb, doc, key, json_object_get(o));
}

static struct json_object *
doc_build(struct pbuild *pb, const struct sl_config *cfg)
{
	struct json_object *doc = json_object_new_object(), *s;
	uint32_t i;

	app_build(pb, cfg, doc);
	s = json_object_new_object();
	for (i = 0; i < cfg->numems; i++)
		add(pb, s, cfg->umems[i].name, umem_build(pb, &cfg->umems[i]));
	add(pb, doc, "umems", s);
	s = json_object_new_object();
	for (i = 0; i < cfg->ngroups; i++)
		add(pb, s, cfg->lcore_groups[i].name,
		    cpus_build(pb, &cfg->lcore_groups[i]));
	add(pb, doc, "lcore-groups", s);
	s = json_object_new_object();
	for (i = 0; i < cfg->nlports; i++)
		add(pb, s, cfg->lports[i].name,
		    lport_build(pb, cfg, &cfg->lports[i]));
	add(pb, doc, "lports", s);
	s = json_object_new_object();
	for (i = 0; i < cfg->nthreads; i++)
		add(pb, s, cfg->threads[i].name,
		    thread_build(pb, cfg, &cfg->threads[i]));
	add(pb, doc, "threads", s);
	copy_section(pb, cfg, doc, "options");
	copy_section(pb, cfg, doc, "users");
	return doc;
}

/* ---- writing it ---- */

static void
write_indent(FILE *out, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		fputs("    ", out);
}

static void
write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static bool
scalar(struct json_object *o)
{
	return !json_object_is_type(o, json_type_object) &&
	       !json_object_is_type(o, json_type_array);
}

static void write_value(FILE *out, struct json_object *o, int depth);

static void
write_object(FILE *out, struct json_object *o, int depth)
{
	bool first = true;

	if (json_object_object_length(o) == 0) {
		fputs("{}", out);
		return;
	}
	fputs("{\n", out);
	json_object_object_foreach(o, key, val)
	{
		if (!first)
			fputs(",\n", out);
		first = false;
		write_indent(out, depth + 1);
		write_string(out, key);
		fputs(": ", out);
		write_value(out, val, depth + 1);
	}
	fputc('\n', out);
	write_indent(out, depth);
	fputc('}', out);
}

/* Arrays of scalars on one line, others one element a line. */
static void
write_array(FILE *out, struct json_object *o, int depth)
{
	size_t i, n = json_object_array_length(o);
	bool flat = true;

	for (i = 0; i < n; i++)
		flat = flat && scalar(json_object_array_get_idx(o, i));
	fputc('[', out);
	for (i = 0; i < n; i++) {
		fputs(i == 0 ? "" : ",", out);
		if (!flat) {
			fputc('\n', out);
			write_indent(out, depth + 1);
		} else if (i > 0) {
			fputc(' ', out);
		}
		write_value(out, json_object_array_get_idx(o, i), depth + 1);
	}
	if (!flat && n > 0) {
		fputc('\n', out);
		write_indent(out, depth);
	}
	fputc(']', out);
}

static void
write_value(FILE *out, struct json_object *o, int depth)
{
	if (json_object_is_type(o, json_type_object))
		write_object(out, o, depth);
	else if (json_object_is_type(o, json_type_array))
		write_array(out, o, depth);
	else if (json_object_is_type(o, json_type_string))
		write_string(out, json_object_get_string(o));
	else
		fputs(json_object_to_json_string_ext(
			      o, JSON_C_TO_STRING_PLAIN |
					 JSON_C_TO_STRING_NOSLASHESCAPE),
		      out);
}

int
sl_config_print(const struct sl_config *cfg, FILE *out)
{
	struct pbuild pb = {false};
	struct json_object *doc;

	if (cfg == NULL || out == NULL)
		return -EINVAL;
	doc = doc_build(&pb, cfg);
	if (pb.nomem) {
		json_object_put(doc);
		return -ENOMEM;
	}
	fprintf(out,
		"// effective configuration of %s: defaults applied, "
		"lport-groups expanded\n",
		cfg->file);
	write_value(out, doc, 0);
	fputc('\n', out);
	json_object_put(doc);
	if (fflush(out) != 0 || ferror(out))
		return errno != 0 ? -errno : -EIO;
	return 0;
}

/* ---- sl_pktdev_open() arguments ---- */

/* Longest options string: the keys of net_af_xdp and the verbatim ones. */
#define OPTS_MAX 1024

struct sbuf {
	char s[OPTS_MAX];
	size_t off;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->off > 0 && b->off + 1 < sizeof(b->s))
		b->s[b->off++] = ',';
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->off, sizeof(b->s) - b->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->off = SL_MIN(b->off + (size_t)n, sizeof(b->s) - 1);
}

static void
xdp_options(struct sbuf *b, const struct sl_config_lport *lp)
{
	if (lp->mode[0] != '\0')
		sb_add(b, "mode=%s", lp->mode);
	if (lp->busy_poll >= 0)
		sb_add(b, "busy_poll=%s", lp->busy_poll ? "yes" : "no");
	if (lp->busy_poll != 0 && lp->busy_timeout != 0)
		sb_add(b, "busy_timeout=%u", lp->busy_timeout);
	if (lp->busy_poll != 0 && lp->busy_budget != 0)
		sb_add(b, "busy_budget=%u", lp->busy_budget);
	if (lp->xsk_pin_path[0] != '\0')
		sb_add(b, "xsk_pin_path=%s", lp->xsk_pin_path);
	if (lp->uds_path[0] != '\0')
		sb_add(b, "uds_path=%s", lp->uds_path);
}

int
sl_config_port_cfg(const struct sl_config *cfg, uint32_t i,
		   struct sl_port_cfg *pc, char *buf, size_t len)
{
	const struct sl_config_lport *lp;
	const struct sl_config_umem *u;
	struct sbuf b;

	if (cfg == NULL || pc == NULL || i >= cfg->nlports ||
	    (buf == NULL && len != 0))
		return -EINVAL;
	lp = &cfg->lports[i];
	u = &cfg->umems[lp->umem];
	b.off = 0;
	b.s[0] = '\0';
	if (cfg_pmd_is_af_xdp(lp->pmd))
		xdp_options(&b, lp);
	if (lp->options[0] != '\0')
		sb_add(&b, "%s", lp->options);
	if (b.off > 0 && b.off >= len)
		return -ENOSPC;
	memset(pc, 0, sizeof(*pc));
	pc->name = lp->name;
	pc->backend = lp->pmd;
	pc->ifname = cfg_pmd_has_device(lp->pmd) ? lp->netdev : NULL;
	pc->qid = lp->qid;
	pc->rx_desc = u->rxdesc;
	pc->tx_desc = u->txdesc;
	if (len > 0)
		memcpy(buf, b.s, b.off + 1);
	pc->options = len > 0 ? buf : NULL;
	return 0;
}
