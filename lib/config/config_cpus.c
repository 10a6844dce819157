/*
 * lcore-groups{} (named sets of CPUs, each CPU one this process may run
 * on) and threads{} (a type, the group its thread runs on, its lports).
 */
#define SL_LOG_MODULE "config"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "sluice/sl_log.h"
#include "config_private.h"

static const char *const thread_keys[] = {
	"group", "lports",	"idle_timeout", "intr_timeout",
	"yield", "description", "desc",		NULL,
};

/* Longest idle_timeout and intr_timeout: an hour, in ms. */
#define CFG_TIMEOUT_MAX 3600000u

/* ---- lcore-groups{} ---- */

/* "0-3, 6" */
static void
cpus_list(const cpu_set_t *set, char *out, size_t len)
{
	size_t off = 0;
	int cpu, last;

	snprintf(out, len, "none");
	for (cpu = 0; cpu < CFG_MAX_CPUS && off + 12 < len; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		for (last = cpu;
		     last + 1 < CFG_MAX_CPUS && CPU_ISSET(last + 1, set);
		     last++)
			;
		off += (size_t)snprintf(out + off, len - off, "%s%d",
					off ? ", " : "", cpu);
		if (last > cpu)
			off += (size_t)snprintf(out + off, len - off, "-%d",
						last);
		cpu = last;
	}
}

/* One element of a group: a CPU or "a-b"; each must be allowed. */
static void
group_elem(struct cfg_ctx *c, const struct cfg_val *e, const cpu_set_t *allowed,
	   cpu_set_t *set)
{
	char got[64], list[256];
	uint32_t lo, hi, cpu;

	if (json_object_is_type(e->o, json_type_int)) {
		if (!cfg_uint(c, e, 0, CFG_MAX_CPUS - 1, &lo))
			return;
		hi = lo;
	} else if (!json_object_is_type(e->o, json_type_string) ||
		   cfg_range(json_object_get_string(e->o), CFG_MAX_CPUS - 1,
			     &lo, &hi) < 0) {
		cfg_err(c, e->pos, e->path,
			"expected a CPU number or a range \"a-b\" of CPUs "
			"(0..%d), got %s",
			CFG_MAX_CPUS - 1, cfg_got(e->o, got, sizeof(got)));
		return;
	}
	for (cpu = lo; cpu <= hi; cpu++) {
		if (!CPU_ISSET(cpu, allowed)) {
			cpus_list(allowed, list, sizeof(list));
			cfg_err(c, e->pos, e->path,
				"CPU %u is not one this process may run on "
				"(allowed: %s)",
				cpu, list);
			return;
		}
		CPU_SET(cpu, set);
	}
}

static bool
group_fill(struct cfg_ctx *c, struct sl_config_lcore_group *g,
	   const cpu_set_t *set, const struct cfg_val *v)
{
	int cpu;

	if (CPU_COUNT(set) > (int)SL_DIM(g->cpus)) {
		if (v != NULL)
			cfg_err(c, v->pos, v->path,
				"%d CPUs, more than the limit of %zu",
				CPU_COUNT(set), SL_DIM(g->cpus));
		return v == NULL;
	}
	for (cpu = 0; cpu < CFG_MAX_CPUS; cpu++)
		if (CPU_ISSET(cpu, set) && g->ncpus < SL_DIM(g->cpus))
			g->cpus[g->ncpus++] = (uint16_t)cpu;
	return true;
}

static void
group_parse(struct cfg_ctx *c, const struct cfg_val *v, const char *name,
	    const cpu_set_t *allowed)
{
	struct sl_config_lcore_group *g;
	struct cfg_val e;
	cpu_set_t set;
	uint32_t i, n;

	if (!cfg_name(c, v, name, SL_CONFIG_NAMESIZE, "an lcore group name") ||
	    !cfg_array(c, v, 0, CFG_MAX_CPUS))
		return;
	if (json_object_array_length(v->o) == 0) {
		cfg_err(c, v->pos, v->path,
			"empty group: expected at least one CPU");
		return;
	}
	if (c->cfg->ngroups == CFG_MAX_GROUPS) {
		cfg_err(c, v->key_pos, v->path,
			"more than the limit of %d lcore groups",
			CFG_MAX_GROUPS);
		return;
	}
	CPU_ZERO(&set);
	n = (uint32_t)json_object_array_length(v->o);
	for (i = 0; i < n; i++) {
		cfg_elem(c, v, i, &e);
		group_elem(c, &e, allowed, &set);
	}
	g = &c->cfg->lcore_groups[c->cfg->ngroups];
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->pos = v->key_pos;
	if (group_fill(c, g, &set, v))
		c->cfg->ngroups++;
}

/* A group every configuration has: all the CPUs allowed. */
static void
group_builtin(struct cfg_ctx *c, const char *name, const cpu_set_t *allowed)
{
	struct sl_config_lcore_group *g;

	if (cfg_group_find(c->cfg, name) >= 0 ||
	    c->cfg->ngroups == CFG_MAX_GROUPS)
		return;
	g = &c->cfg->lcore_groups[c->cfg->ngroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	group_fill(c, g, allowed, NULL);
}

void
cfg_groups_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct cfg_val v, m;
	cpu_set_t allowed;
	int cpu;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		CPU_ZERO(&allowed);
		for (cpu = 0; cpu < CFG_MAX_CPUS && cpu < CPU_SETSIZE; cpu++)
			CPU_SET(cpu, &allowed);
	}
	if (cfg_get(c, root, "lcore-groups", &v) &&
	    cfg_object(c, &v, NULL, NULL)) {
		json_object_object_foreach(v.o, name, val)
		{
			cfg_member(c, &v, name, val, &m);
			group_parse(c, &m, name, &allowed);
		}
	}
	group_builtin(c, CFG_DEF_GROUP, &allowed);
	group_builtin(c, "initial", &allowed);
}

int
cfg_group_find(const struct sl_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->ngroups; i++)
		if (strcmp(cfg->lcore_groups[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* ---- threads{} ---- */

int
cfg_thread_find(const struct sl_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->nthreads; i++)
		if (strcmp(cfg->threads[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* Give lport to thread t; v is where the file said so. */
bool
cfg_thread_add_lport(struct cfg_ctx *c, uint32_t t, uint32_t lport,
		     const struct cfg_val *v)
{
	struct sl_config_thread *th = &c->cfg->threads[t];
	const char *name = c->cfg->lports[lport].name;

	if (c->owner[lport] != 0) {
		cfg_err(c, v->pos, v->path,
			"lport \"%s\" is already an lport of thread \"%s\": an "
			"lport is polled by one thread",
			name, c->cfg->threads[c->owner[lport] - 1].name);
		return false;
	}
	if (th->nlports == SL_CONFIG_THREAD_PORTS) {
		cfg_err(c, v->pos, v->path,
			"thread \"%s\" has more than the limit of %d lports",
			th->name, SL_CONFIG_THREAD_PORTS);
		return false;
	}
	th->lports[th->nlports++] = lport;
	c->owner[lport] = t + 1;
	return true;
}

static void
thread_lports(struct cfg_ctx *c, const struct cfg_val *obj, uint32_t t)
{
	char name[SL_PORT_NAMESIZE], list[512];
	struct cfg_val v, e;
	uint32_t i, n;
	int lp;

	if (!cfg_get(c, obj, "lports", &v) ||
	    !cfg_array(c, &v, 0, SL_CONFIG_THREAD_PORTS))
		return;
	n = (uint32_t)json_object_array_length(v.o);
	for (i = 0; i < n; i++) {
		cfg_elem(c, &v, i, &e);
		if (!cfg_str(c, &e, name, sizeof(name), "an lport name"))
			continue;
		lp = sl_config_lport_find(c->cfg, name);
		if (lp < 0) {
			cfg_names(list, sizeof(list), c->cfg->lports[0].name,
				  sizeof(c->cfg->lports[0]), c->cfg->nlports);
			cfg_err(c, e.pos, e.path,
				"unknown lport \"%s\" (defined: %s)", name,
				list);
			continue;
		}
		cfg_thread_add_lport(c, t, (uint32_t)lp, &e);
	}
}

static void
thread_group(struct cfg_ctx *c, const struct cfg_val *obj,
	     struct sl_config_thread *th)
{
	char name[SL_CONFIG_NAMESIZE] = CFG_DEF_GROUP, list[512];
	struct cfg_val v = *obj;
	int g;

	if (cfg_get(c, obj, "group", &v) &&
	    !cfg_str(c, &v, name, sizeof(name), "an lcore group name"))
		return;
	g = cfg_group_find(c->cfg, name);
	if (g >= 0) {
		th->group = (uint32_t)g;
		return;
	}
	cfg_names(list, sizeof(list), c->cfg->lcore_groups[0].name,
		  sizeof(c->cfg->lcore_groups[0]), c->cfg->ngroups);
	cfg_err(c, v.pos, v.path, "unknown lcore group \"%s\" (defined: %s)",
		name, list);
}

static void
thread_parse(struct cfg_ctx *c, const struct cfg_val *v, const char *name)
{
	struct sl_config_thread *th;
	struct cfg_val f;
	size_t tlen;

	if (!cfg_name(c, v, name, SL_CONFIG_NAMESIZE, "a thread name") ||
	    !cfg_object(c, v, thread_keys, NULL))
		return;
	tlen = strcspn(name, ":");
	if (tlen == 0) {
		cfg_err(c, v->key_pos, v->path,
			"expected a thread name \"type\" or \"type:id\"");
		return;
	}
	if (c->cfg->nthreads == CFG_MAX_THREADS) {
		cfg_err(c, v->key_pos, v->path,
			"more than the limit of %d threads", CFG_MAX_THREADS);
		return;
	}
	th = &c->cfg->threads[c->cfg->nthreads++];
	snprintf(th->name, sizeof(th->name), "%s", name);
	snprintf(th->type, sizeof(th->type), "%.*s", (int)tlen, name);
	th->pos = v->key_pos;
	thread_group(c, v, th);
	thread_lports(c, v, c->cfg->nthreads - 1);
	if (cfg_get(c, v, "idle_timeout", &f))
		cfg_uint(c, &f, 0, CFG_TIMEOUT_MAX, &th->idle_timeout);
	if (cfg_get(c, v, "intr_timeout", &f))
		cfg_uint(c, &f, 0, CFG_TIMEOUT_MAX, &th->intr_timeout);
	if (cfg_get(c, v, "yield", &f))
		(void)cfg_bool(c, &f, &th->yield);
	if (cfg_get_alias(c, v, "description", "desc", &f))
		cfg_str(c, &f, th->desc, sizeof(th->desc), "a description");
}

void
cfg_threads_parse(struct cfg_ctx *c, const struct cfg_val *root)
{
	struct cfg_val v, m;

	if (!cfg_get(c, root, "threads", &v) || !cfg_object(c, &v, NULL, NULL))
		return;
	json_object_object_foreach(v.o, name, val)
	{
		cfg_member(c, &v, name, val, &m);
		thread_parse(c, &m, name);
	}
}
