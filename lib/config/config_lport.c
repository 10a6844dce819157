/*
 * lports{} and lport-groups{}: what sl_pktdev_open() needs for each lport,
 * its umem and region, and the net_af_xdp settings. A group expands into
 * one lport per netdev and queue, handed round-robin to its threads.
 */
#define SL_LOG_MODULE "config"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "config_private.h"

#define QID_MAX 65535u
/* Longest busy_timeout in µs (as net_af_xdp takes it). */
#define BUSY_TIMEOUT_MAX 1000000u
/* busy_budget meaning "no busy polling". */
#define BUSY_BUDGET_OFF 0xFFFFu

static const char *const lport_keys[] = {
	"pmd",		"qid",		"umem",		"region",
	"busy_poll",	"busy_polling", "busy_timeout", "busy_budget",
	"force_wakeup", "skb_mode",	"mode",		"unaligned_buffers",
	"xsk_pin_path", "uds_path",	"options",	"description",
	"desc",		NULL,
};
static const char *const group_keys[] = {
	"netdevs",	"queues",
	"threads",	"pmd",
	"umem",		"region",
	"busy_poll",	"busy_polling",
	"busy_timeout", "busy_budget",
	"force_wakeup", "skb_mode",
	"mode",		"unaligned_buffers",
	"options",	"description",
	"desc",		NULL,
};
static const struct cfg_refused group_refused[] = {
	{"xsk_pin_path", "not accepted in lport-groups (each lport has an "
			 "XSKMAP pin path of its own): define these lports "
			 "in lports{}"},
	{"uds_path", "not accepted in lport-groups (each lport has a device "
		     "plugin socket of its own): define these lports in "
		     "lports{}"},
	{NULL, NULL},
};
/* Keys that only net_af_xdp takes. */
static const char *const xdp_keys[] = {
	"busy_poll",	"busy_polling", "busy_timeout", "busy_budget",
	"force_wakeup", "skb_mode",	"mode",		"unaligned_buffers",
	"xsk_pin_path", "uds_path",	NULL,
};
static const char *const modes[] = {"auto", "native", "skb", "zc", NULL};
/* Backends that open no network device. */
static const char *const nodev_pmds[] = {"net_ring", "net_memif", "net_null",
					 NULL};

bool
cfg_pmd_is_af_xdp(const char *pmd)
{
	return strcmp(pmd, "net_af_xdp") == 0;
}

bool
cfg_pmd_has_device(const char *pmd)
{
	unsigned i;

	for (i = 0; nodev_pmds[i] != NULL; i++)
		if (strcmp(pmd, nodev_pmds[i]) == 0)
			return false;
	return true;
}

int
sl_config_lport_find(const struct sl_config *cfg, const char *name)
{
	uint32_t i;

	if (cfg == NULL || name == NULL)
		return -ENOENT;
	for (i = 0; i < cfg->nlports; i++)
		if (strcmp(cfg->lports[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* ---- settings common to lports and lport-groups ---- */

/* pmd: a backend name; "net_" may be left out. */
static void
pmd_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	  struct sl_config_lport *lp)
{
	char name[SL_CONFIG_NAMESIZE];
	struct cfg_val v;
	const char *p;

	snprintf(lp->pmd, sizeof(lp->pmd), "%s", CFG_DEF_PMD);
	if (!cfg_get(c, obj, "pmd", &v) ||
	    !cfg_str(c, &v, name, sizeof(name) - 4, "a pmd name"))
		return;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			break;
	if (name[0] == '\0' || *p != '\0') {
		cfg_err(c, v.pos, v.path,
			"expected a backend name such as \"net_af_xdp\" "
			"(lower case letters, digits and '_'), got \"%s\"",
			name);
		return;
	}
	snprintf(lp->pmd, sizeof(lp->pmd), "%s%.27s",
		 strncmp(name, "net_", 4) == 0 ? "" : "net_", name);
}

/* The net_af_xdp keys given for another backend: one error each. */
static bool
xdp_keys_check(struct cfg_ctx *c, const struct cfg_val *obj,
	       const struct sl_config_lport *lp)
{
	struct cfg_val v;
	bool ok = true;
	unsigned i;

	if (cfg_pmd_is_af_xdp(lp->pmd))
		return true;
	for (i = 0; xdp_keys[i] != NULL; i++) {
		if (!cfg_get(c, obj, xdp_keys[i], &v))
			continue;
		cfg_err(c, v.key_pos, v.path,
			"only net_af_xdp takes this key, not pmd %s", lp->pmd);
		ok = false;
	}
	return ok;
}

/* busy_poll: true, false or "auto". */
static bool
busy_poll_parse(struct cfg_ctx *c, const struct cfg_val *obj,
		struct sl_config_lport *lp)
{
	struct cfg_val v;
	char got[64];

	if (!cfg_get_alias(c, obj, "busy_poll", "busy_polling", &v))
		return false;
	if (json_object_is_type(v.o, json_type_boolean)) {
		lp->busy_poll = json_object_get_boolean(v.o) ? 1 : 0;
	} else if (json_object_is_type(v.o, json_type_string) &&
		   strcmp(json_object_get_string(v.o), "auto") == 0) {
		lp->busy_poll = -1;
	} else {
		cfg_err(c, v.pos, v.path,
			"expected true, false or \"auto\", got %s",
			cfg_got(v.o, got, sizeof(got)));
	}
	return true;
}

/* busy_budget 0xFFFF turns busy polling off; others need it on. */
static void
budget_check(struct cfg_ctx *c, const struct cfg_val *v,
	     struct sl_config_lport *lp, bool explicit_poll)
{
	if (lp->busy_budget == BUSY_BUDGET_OFF) {
		if (explicit_poll && lp->busy_poll == 1)
			cfg_err(c, v->pos, v->path,
				"%u turns busy polling off, but busy_poll is "
				"true",
				BUSY_BUDGET_OFF);
		lp->busy_poll = 0;
	} else if (lp->busy_budget != 0 && lp->busy_poll == 0) {
		cfg_err(c, v->pos, v->path,
			"busy polling is off (busy_poll false): expected no "
			"busy_budget, or %u",
			BUSY_BUDGET_OFF);
	}
}

static void
busy_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	   struct sl_config_lport *lp)
{
	bool explicit_poll = busy_poll_parse(c, obj, lp);
	struct cfg_val v;

	if (cfg_get(c, obj, "busy_budget", &v) &&
	    cfg_uint(c, &v, 0, BUSY_BUDGET_OFF, &lp->busy_budget))
		budget_check(c, &v, lp, explicit_poll);
	if (cfg_get(c, obj, "busy_timeout", &v) &&
	    cfg_uint(c, &v, 0, BUSY_TIMEOUT_MAX, &lp->busy_timeout) &&
	    lp->busy_timeout != 0 && lp->busy_poll == 0)
		cfg_err(c, v.pos, v.path,
			"busy polling is off (busy_poll false or busy_budget "
			"%u): expected no busy_timeout",
			BUSY_BUDGET_OFF);
}

static void
mode_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	   struct sl_config_lport *lp)
{
	struct cfg_val v;
	bool skb = false;
	int i;

	if (cfg_get(c, obj, "mode", &v)) {
		i = cfg_choice(c, &v, modes);
		if (i >= 0)
			snprintf(lp->mode, sizeof(lp->mode), "%s", modes[i]);
	}
	if (cfg_get(c, obj, "skb_mode", &v) && cfg_bool(c, &v, &skb) && skb) {
		if (lp->mode[0] != '\0' && strcmp(lp->mode, "skb") != 0)
			cfg_err(c, v.pos, v.path,
				"true means mode \"skb\", but mode is \"%s\"",
				lp->mode);
		else
			snprintf(lp->mode, sizeof(lp->mode), "skb");
	}
	lp->skb_mode = strcmp(lp->mode, "skb") == 0;
}

/* force_wakeup and unaligned_buffers: only false is accepted. */
static void
refused_true(struct cfg_ctx *c, const struct cfg_val *obj, const char *key,
	     const char *why)
{
	struct cfg_val v;
	bool on;

	if (cfg_get(c, obj, key, &v) && cfg_bool(c, &v, &on) && on)
		cfg_err(c, v.pos, v.path, "true is not supported by sluice: %s",
			why);
}

static void
path_parse(struct cfg_ctx *c, const struct cfg_val *obj, const char *key,
	   char *buf, size_t size)
{
	struct cfg_val v;

	if (!cfg_get(c, obj, key, &v) || !cfg_str(c, &v, buf, size, "a path"))
		return;
	if (buf[0] == '\0' || strchr(buf, ',') != NULL) {
		cfg_err(c, v.pos, v.path,
			"expected a non-empty path without ','");
		buf[0] = '\0';
	}
}

static void
xdp_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	  struct sl_config_lport *lp)
{
	struct cfg_val v;

	lp->busy_poll = -1;
	if (!xdp_keys_check(c, obj, lp))
		return;
	busy_parse(c, obj, lp);
	mode_parse(c, obj, lp);
	refused_true(c, obj, "force_wakeup",
		     "need_wakeup is always used, expected false");
	refused_true(c, obj, "unaligned_buffers",
		     "sluice uses aligned frames, expected false");
	path_parse(c, obj, "xsk_pin_path", lp->xsk_pin_path,
		   sizeof(lp->xsk_pin_path));
	path_parse(c, obj, "uds_path", lp->uds_path, sizeof(lp->uds_path));
	if (lp->xsk_pin_path[0] != '\0' && lp->uds_path[0] != '\0' &&
	    cfg_get(c, obj, "uds_path", &v))
		cfg_err(c, v.key_pos, v.path,
			"xsk_pin_path is given too: expected one of the two "
			"(each names the XSKMAP to use)");
}

/* umem: required when several umems exist; "default" made if none. */
static void
umem_ref(struct cfg_ctx *c, const struct cfg_val *obj,
	 struct sl_config_lport *lp)
{
	char name[SL_CONFIG_NAMESIZE], list[512];
	struct sl_config_pos builtin = {0, 0};
	struct cfg_val v;
	int u;

	cfg_names(list, sizeof(list), c->cfg->umems[0].name,
		  sizeof(c->cfg->umems[0]), c->cfg->numems);
	if (cfg_get(c, obj, "umem", &v)) {
		if (!cfg_str(c, &v, name, sizeof(name), "a umem name"))
			return;
		u = cfg_umem_find(c->cfg, name);
		if (u < 0)
			cfg_err(c, v.pos, v.path,
				"unknown umem \"%s\" (defined: %s)", name,
				list);
		lp->umem = u < 0 ? UINT32_MAX : (uint32_t)u; /* no region */
		return;
	}
	if (c->cfg->numems == 0)
		cfg_umem_add(c, CFG_DEF_UMEM, builtin);
	else if (c->cfg->numems > 1)
		cfg_err(c, obj->pos, obj->path,
			"missing key 'umem': expected one when several umems "
			"are defined (%s)",
			list);
	lp->umem = 0;
}

static void
region_ref(struct cfg_ctx *c, const struct cfg_val *obj,
	   struct sl_config_lport *lp)
{
	const struct sl_config_umem *u;
	struct cfg_val v;

	if (!cfg_get(c, obj, "region", &v) ||
	    !cfg_uint(c, &v, 0, SL_CONFIG_MAX_REGIONS - 1, &lp->region) ||
	    lp->umem >= c->cfg->numems)
		return;
	u = &c->cfg->umems[lp->umem];
	if (lp->region >= u->nregions)
		cfg_err(c, v.pos, v.path,
			"expected a region 0..%u: umem \"%s\" has %u region%s",
			u->nregions - 1, u->name, u->nregions,
			u->nregions == 1 ? "" : "s");
}

/* Everything but the name and qid, for lports and lport-groups. */
static void
settings_parse(struct cfg_ctx *c, const struct cfg_val *obj,
	       struct sl_config_lport *lp)
{
	struct cfg_val v;

	umem_ref(c, obj, lp);
	region_ref(c, obj, lp);
	xdp_parse(c, obj, lp);
	if (cfg_get(c, obj, "options", &v))
		cfg_str(c, &v, lp->options, sizeof(lp->options),
			"backend options");
	if (cfg_get_alias(c, obj, "description", "desc", &v))
		cfg_str(c, &v, lp->desc, sizeof(lp->desc), "a description");
}

/* ---- lports{} ---- */

/* A device name: 1..15 bytes, no '/', ':' or space, not "." or "..". */
static bool
netdev_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= CFG_IFNAMSIZE || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ')
			return false;
	return true;
}

/* A queue number 0..65535 in s[0..n). */
static bool
qid_ok(const char *s, size_t n, uint32_t *qid)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*qid = v;
	return v <= QID_MAX;
}

/* "netdev:qid": netdev and the default qid; checked for device pmds. */
static void
lport_name(struct cfg_ctx *c, const struct cfg_val *v, const char *name,
	   struct sl_config_lport *lp)
{
	const char *colon = strrchr(name, ':');
	size_t dlen = colon != NULL ? (size_t)(colon - name) : strlen(name);
	uint32_t qid = 0;
	bool num;

	snprintf(lp->name, sizeof(lp->name), "%s", name);
	snprintf(lp->netdev, sizeof(lp->netdev), "%.*s", (int)dlen, name);
	num = colon != NULL && qid_ok(colon + 1, strlen(colon + 1), &qid);
	lp->qid = num ? (uint16_t)qid : 0;
	if (!cfg_pmd_has_device(lp->pmd))
		return;
	if ((colon != NULL && !num) || !netdev_ok(name, dlen))
		cfg_err(c, v->key_pos, v->path,
			"expected an lport name \"netdev:queue\" (a device "
			"name of 1..%d bytes, a queue 0..%u) for pmd %s",
			CFG_IFNAMSIZE - 1, QID_MAX, lp->pmd);
}

static struct sl_config_lport *
lport_new(struct cfg_ctx *c, const struct cfg_val *v)
{
	struct sl_config_lport *lp;

	if (c->cfg->nlports == CFG_MAX_LPORTS) {
		cfg_err(c, v->pos, v->path, "more than the limit of %d lports",
			CFG_MAX_LPORTS);
		return NULL;
	}
	lp = &c->cfg->lports[c->cfg->nlports++];
	memset(lp, 0, sizeof(*lp));
	return lp;
}

static void
lport_parse(struct cfg_ctx *c, const struct cfg_val *v, const char *name)
{
	struct sl_config_lport *lp;
	struct cfg_val f;
	uint32_t qid;

	if (!cfg_name(c, v, name, SL_PORT_NAMESIZE, "an lport name") ||
	    !cfg_object(c, v, lport_keys, NULL))
		return;
	lp = lport_new(c, v);
	if (lp == NULL)
		return;
	lp->pos = v->key_pos;
	pmd_parse(c, v, lp);
	lport_name(c, v, name, lp);
	if (cfg_get(c, v, "qid", &f) && cfg_uint(c, &f, 0, QID_MAX, &qid))
		lp->qid = (uint16_t)qid;
	settings_parse(c, v, lp);
}

void
cfg_lports_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct cfg_val v, m;

	if (!cfg_get(c, root, "lports", &v) || !cfg_object(c, &v, NULL, NULL))
		return;
	json_object_object_foreach(v.o, name, val)
	{
		cfg_member(c, &v, name, val, &m);
		lport_parse(c, &m, name);
	}
}

/* ---- lport-groups{} ---- */

/* What one group expands into. */
struct group {
	struct sl_config_lport tmpl;
	struct cfg_val netdevs, queues, threads;
	bool has_threads, all;
	uint32_t lo, hi; /* queues, unless all */
	uint32_t next;	 /* lports made so far (round robin) */
};

static void
queues_parse(struct cfg_ctx *c, struct group *g)
{
	const struct cfg_val *v = &g->queues;
	char got[64];

	if (json_object_is_type(v->o, json_type_int)) {
		if (cfg_uint(c, v, 0, QID_MAX, &g->lo))
			g->hi = g->lo;
		return;
	}
	if (json_object_is_type(v->o, json_type_string)) {
		if (strcmp(json_object_get_string(v->o), "all") == 0) {
			g->all = true;
			return;
		}
		if (cfg_range(json_object_get_string(v->o), QID_MAX, &g->lo,
			      &g->hi) == 0)
			return;
	}
	cfg_err(c, v->pos, v->path,
		"expected \"all\", a queue number or a range \"a-b\" of queues "
		"(0..%u), got %s",
		QID_MAX, cfg_got(v->o, got, sizeof(got)));
}

/* RX queues of a device, from sysfs; -errno when it does not exist. */
static int
rx_queues(const char *dev)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", dev);
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, "rx-", 3) == 0)
			n++;
	closedir(dir);
	return n;
}

/* One lport of a group: netdev e, queue q. @return false on an error. */
static bool
group_lport(struct cfg_ctx *c, struct group *g, const struct cfg_val *e,
	    uint32_t q)
{
	struct sl_config_lport *lp;
	struct cfg_assign *a;
	char name[SL_PORT_NAMESIZE];
	int old;

	/* the device has at most 15 bytes (names_check) */
	snprintf(name, sizeof(name), "%.15s:%u", json_object_get_string(e->o),
		 q);
	old = sl_config_lport_find(c->cfg, name);
	if (old >= 0) {
		cfg_err(c, e->pos, e->path,
			"lport \"%s\" (queue %u) is already defined (at line "
			"%u, column %u)",
			name, q, c->cfg->lports[old].pos.line,
			c->cfg->lports[old].pos.col);
		return false;
	}
	lp = lport_new(c, e);
	if (lp == NULL)
		return false;
	*lp = g->tmpl;
	snprintf(lp->name, sizeof(lp->name), "%s", name);
	snprintf(lp->netdev, sizeof(lp->netdev), "%s",
		 json_object_get_string(e->o));
	lp->qid = (uint16_t)q;
	lp->pos = e->pos;
	if (!g->has_threads)
		return true;
	a = &c->assign[c->nassign++];
	a->lport = c->cfg->nlports - 1;
	cfg_elem(c, &g->threads,
		 g->next++ % (uint32_t)json_object_array_length(g->threads.o),
		 &a->thread);
	return true;
}

static void
group_netdev(struct cfg_ctx *c, struct group *g, const struct cfg_val *e)
{
	const char *dev = json_object_get_string(e->o);
	uint32_t lo = g->lo, hi = g->hi, q;
	int n;

	if (g->all) {
		n = rx_queues(dev);
		if (n <= 0) {
			cfg_err(c, e->pos, e->path,
				"%s device \"%s\": queues \"all\" counts the "
				"RX queues in /sys/class/net/%s/queues",
				n < 0 ? "no network" : "no RX queue on", dev,
				dev);
			return;
		}
		lo = 0;
		hi = (uint32_t)n - 1;
	}
	for (q = lo; q <= hi; q++)
		if (!group_lport(c, g, e, q))
			return;
}

/* netdevs[] and threads[]: arrays of names. */
static bool
names_check(struct cfg_ctx *c, const struct cfg_val *v, size_t max, bool netdev)
{
	char name[SL_CONFIG_NAMESIZE];
	struct cfg_val e;
	bool ok = true;
	uint32_t i;

	if (!cfg_array(c, v, 1, max))
		return false;
	for (i = 0; i < json_object_array_length(v->o); i++) {
		cfg_elem(c, v, i, &e);
		if (!cfg_str(c, &e, name, netdev ? CFG_IFNAMSIZE : sizeof(name),
			     netdev ? "a device name" : "a thread name")) {
			ok = false;
		} else if (netdev && !netdev_ok(name, strlen(name))) {
			cfg_err(c, e.pos, e.path,
				"expected a device name (no '/', ':' or "
				"space), got \"%s\"",
				name);
			ok = false;
		}
	}
	return ok;
}

static bool
group_keys_parse(struct cfg_ctx *c, const struct cfg_val *v, struct group *g)
{
	bool ok = true;

	memset(&g->tmpl, 0, sizeof(g->tmpl));
	pmd_parse(c, v, &g->tmpl);
	settings_parse(c, v, &g->tmpl);
	if (!cfg_get(c, v, "netdevs", &g->netdevs)) {
		cfg_err(c, v->pos, v->path, "missing key 'netdevs'");
		ok = false;
	} else if (!names_check(c, &g->netdevs, CFG_MAX_LPORTS, true)) {
		ok = false;
	}
	if (!cfg_get(c, v, "queues", &g->queues)) {
		cfg_err(c, v->pos, v->path, "missing key 'queues'");
		ok = false;
	} else {
		queues_parse(c, g);
	}
	g->has_threads = cfg_get(c, v, "threads", &g->threads);
	if (g->has_threads &&
	    !names_check(c, &g->threads, CFG_MAX_THREADS, false))
		ok = false;
	return ok;
}

static void
group_parse(struct cfg_ctx *c, const struct cfg_val *v, const char *name)
{
	unsigned nerr = c->nerr;
	struct group *g;
	struct cfg_val e;
	uint32_t i;

	if (!cfg_name(c, v, name, SL_CONFIG_NAMESIZE, "an lport group name") ||
	    !cfg_object(c, v, group_keys, group_refused))
		return;
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		c->nomem = true;
		return;
	}
	/* expand only a group without errors (no cascade of them) */
	if (group_keys_parse(c, v, g) && c->nerr == nerr)
		for (i = 0; i < json_object_array_length(g->netdevs.o); i++) {
			cfg_elem(c, &g->netdevs, i, &e);
			group_netdev(c, g, &e);
		}
	free(g);
}

void
cfg_lport_groups_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct cfg_val v, m;

	if (!cfg_get(c, root, "lport-groups", &v) ||
	    !cfg_object(c, &v, NULL, NULL))
		return;
	c->assign = calloc(CFG_MAX_LPORTS, sizeof(*c->assign));
	if (c->assign == NULL) {
		c->nomem = true;
		return;
	}
	json_object_object_foreach(v.o, name, val)
	{
		cfg_member(c, &v, name, val, &m);
		group_parse(c, &m, name);
	}
}

/* Whether an earlier lport went to the same element of threads[]. */
static bool
assign_seen(const struct cfg_ctx *c, uint32_t i)
{
	uint32_t j;

	for (j = 0; j < i; j++)
		if (c->assign[j].thread.o == c->assign[i].thread.o)
			return true;
	return false;
}

/* Give the lports of the groups to their threads. */
void
cfg_assign_resolve(struct cfg_ctx *c)
{
	const struct cfg_assign *a;
	char list[512];
	uint32_t i;
	int t;

	for (i = 0; i < c->nassign; i++) {
		a = &c->assign[i];
		t = cfg_thread_find(c->cfg,
				    json_object_get_string(a->thread.o));
		if (t >= 0) {
			cfg_thread_add_lport(c, (uint32_t)t, a->lport,
					     &a->thread);
			continue;
		}
		if (assign_seen(c, i))
			continue;
		cfg_names(list, sizeof(list), c->cfg->threads[0].name,
			  sizeof(c->cfg->threads[0]), c->cfg->nthreads);
		cfg_err(c, a->thread.pos, a->thread.path,
			"unknown thread \"%s\" (defined: %s)",
			json_object_get_string(a->thread.o), list);
	}
}
