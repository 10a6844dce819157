/*
 * sluice-stack: the IPv4 forwarding data path of the hybrid stack
 * (sl_cnet.h). Lports and threads of type "stack" come from a JSONC
 * configuration (docs/config.md); the kernel mirror fills the routes,
 * neighbours and links at launch and keeps them current. Options:
 *   graph          node-name patterns of each thread's graph (default:
 *                  every node the stack reaches from its sources)
 *   graph-THREAD   the patterns of one thread (e.g. "graph-stack:1")
 *   steer-transit  on net_af_xdp devices, add a "transit xsk" steering
 *                  rule and keep the local-address map equal to the
 *                  kernel's addresses (default true): transit traffic to
 *                  sluice, ARP and traffic for the host to the kernel
 *   steer-rules    more steering rules for every net_af_xdp device
 *                  (sl_steer.h text form, e.g. "arp xsk")
 *   punt           hand punted packets to the kernel through a TAP device
 *                  per device (default true)
 *   channels       UDP channels ("udp4-listen:[ADDR:]PORT") served by the
 *                  UDP echo example (udp_echo.c)
 * Every interval: per-node packet counts, drops by reason summed over the
 * threads and the channels' counters (--json: one JSON object per line).
 * --show prints the
 * tables after the first sync and exits. Exit: 0 done; 1 failed; 2 bad
 * usage or configuration.
 */
#define SL_LOG_MODULE "stack"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_app.h>
#include <sluice/sl_chnl.h>
#include <sluice/sl_cnet.h>
#include <sluice/sl_graph.h>
#include <sluice/sl_log.h>
#include <sluice/sl_steer.h>

#include "udp_echo.h"

#define STACK_THREADS_MAX 128
#define STACK_SYNC_MS 10000

static const char *const stack_options[] = {"graph", "steer-transit",
					    "steer-rules", "punt", "channels"};
#define STACK_NOPTIONS (sizeof(stack_options) / sizeof(stack_options[0]))
#define STACK_GRAPH_KEY "graph-"

static const char *const stack_nodes[] = {
	"eth_rx", "ptype",	 "ip4_input", "ip4_forward", "ip4_output",
	"icmp4",  "udp_input",	 "chnl_recv", "udp_output",  "eth_tx",
	"punt",	  "kernel_recv", "drop",
};
#define STACK_NNODES (sizeof(stack_nodes) / sizeof(stack_nodes[0]))

struct stack {
	const struct sl_config *conf;
	struct sl_app *app;
	struct sl_cnet *cnet;
	const char *const *patterns; /* graph */
	unsigned npatterns;
	/* graph-THREAD, per thread (NULL: graph) */
	const char *const *tpatterns[STACK_THREADS_MAX];
	unsigned ntpatterns[STACK_THREADS_MAX];
	const char *const *rules; /* steer-rules */
	unsigned nrules;
	const char *const *chspecs; /* channels */
	unsigned nchnls;
	struct sl_chnl **chnls;
	bool json, show, steer, punt;
	struct sl_cnet_thread *th[STACK_THREADS_MAX];
};

struct cli {
	const char *file;
	bool json, show;
	double seconds, interval;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluice-stack -c FILE [--json] [--seconds S] "
		   "[--interval S] [--show]\n"
		   "  -c, --config FILE  JSONC configuration (threads of "
		   "type \"stack\")\n"
		   "  -j, --json         statistics as JSON lines\n"
		   "  -s, --seconds S    stop after S seconds (0: at a "
		   "signal)\n"
		   "  -i, --interval S   statistics interval (default 1)\n"
		   "      --show         print links, routes and neighbours "
		   "after sync, exit\n");
}

static int
cli_parse(int argc, char **argv, struct cli *c)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"seconds", required_argument, NULL, 's'},
		{"interval", required_argument, NULL, 'i'},
		{"show", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double *d;
	char *end;
	int o;

	memset(c, 0, sizeof(*c));
	c->interval = 1;
	while ((o = getopt_long(argc, argv, "c:js:i:h", lo, NULL)) != -1) {
		switch (o) {
		case 'c':
			c->file = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'S':
			c->show = true;
			break;
		case 's':
		case 'i':
			d = o == 's' ? &c->seconds : &c->interval;
			*d = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || *d < 0) {
				fprintf(stderr,
					"sluice-stack: '%s' is not a number "
					"of seconds >= 0\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc || c->file == NULL) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* The options: the fixed ones and graph-THREAD for each thread. */
static int
options_check(struct stack *s)
{
	const char *known[STACK_NOPTIONS + STACK_THREADS_MAX + 1];
	char(*keys)[sizeof(STACK_GRAPH_KEY) + SL_CONFIG_NAMESIZE];
	unsigned i, n = 0;
	int err;

	if (s->conf->nthreads > STACK_THREADS_MAX) {
		SL_ERR("at most %d threads", STACK_THREADS_MAX);
		return -EINVAL;
	}
	keys = calloc(s->conf->nthreads + 1, sizeof(*keys));
	if (keys == NULL)
		return -ENOMEM;
	for (i = 0; i < STACK_NOPTIONS; i++)
		known[n++] = stack_options[i];
	for (i = 0; i < s->conf->nthreads; i++) {
		snprintf(keys[i], sizeof(keys[i]), STACK_GRAPH_KEY "%s",
			 s->conf->threads[i].name);
		known[n++] = keys[i];
	}
	known[n] = NULL;
	err = sl_config_options_check(s->conf, known);
	for (i = 0; err == 0 && i < s->conf->nthreads; i++)
		err = sl_config_opt_strv(s->conf, keys[i], &s->tpatterns[i],
					 &s->ntpatterns[i]);
	free(keys);
	return err;
}

static int
settings(struct stack *s)
{
	struct sl_steer_rule r;
	unsigned i;
	int err;

	err = options_check(s);
	if (err < 0)
		return err;
	err = sl_config_opt_strv(s->conf, "graph", &s->patterns, &s->npatterns);
	if (err == 0)
		err = sl_config_opt_bool(s->conf, "steer-transit", true,
					 &s->steer);
	if (err == 0)
		err = sl_config_opt_bool(s->conf, "punt", true, &s->punt);
	if (err == 0)
		err = sl_config_opt_strv(s->conf, "steer-rules", &s->rules,
					 &s->nrules);
	if (err == 0)
		err = sl_config_opt_strv(s->conf, "channels", &s->chspecs,
					 &s->nchnls);
	for (i = 0; err == 0 && i < s->nrules; i++) {
		err = sl_steer_rule_parse(s->rules[i], &r);
		if (err < 0)
			sl_config_opt_error(s->conf, "steer-rules", (int)i,
					    "'%s' is not a steering rule",
					    s->rules[i]);
	}
	if (err == 0 && s->nchnls != 0) {
		s->chnls = calloc(s->nchnls, sizeof(*s->chnls));
		if (s->chnls == NULL)
			err = -ENOMEM;
	}
	return err;
}

/* ---- threads ------------------------------------------------------------ */

static int
stack_thread(struct sl_app_thread *t)
{
	struct stack *s = sl_app_arg(t->app);
	struct sl_cnet_thread *st;
	int ifindex[SL_CNET_THREAD_PORTS];
	char name[SL_GRAPH_NAMESIZE];
	const char *const *pat;
	unsigned npat;
	uint32_t i;

	if (t->nports == 0 || t->nports > SL_CNET_THREAD_PORTS ||
	    t->idx >= STACK_THREADS_MAX) {
		SL_ERR("thread %s: 1 to %d lports", t->cfg->name,
		       SL_CNET_THREAD_PORTS);
		return -EINVAL;
	}
	for (i = 0; i < t->nports; i++) {
		const char *dev = s->conf->lports[t->port_idx[i]].netdev;

		ifindex[i] = (int)if_nametoindex(dev);
		if (ifindex[i] == 0) {
			SL_ERR("thread %s: no device %s", t->cfg->name, dev);
			return -ENODEV;
		}
	}
	snprintf(name, sizeof(name), "stack-%u", t->idx);
	pat = s->patterns;
	npat = s->npatterns;
	if (s->ntpatterns[t->idx] != 0) {
		pat = s->tpatterns[t->idx];
		npat = s->ntpatterns[t->idx];
	}
	st = sl_cnet_thread_create(s->cnet, name, t->ports, ifindex, t->nports,
				   npat ? pat : NULL, npat);
	if (st == NULL)
		return -errno;
	__atomic_store_n(&s->th[t->idx], st, __ATOMIC_RELEASE);
	while (sl_app_running(t))
		sl_app_idle(t, sl_cnet_thread_poll(st));
	return 0;
}

/* ---- statistics --------------------------------------------------------- */

static void
drops_sum(struct stack *s, uint64_t out[SL_CNET_DROP_MAX])
{
	uint64_t d[SL_CNET_DROP_MAX];
	struct sl_cnet_thread *st;
	unsigned i, r;

	memset(out, 0, sizeof(d));
	for (i = 0; i < STACK_THREADS_MAX; i++) {
		st = __atomic_load_n(&s->th[i], __ATOMIC_ACQUIRE);
		if (st == NULL || sl_cnet_thread_drops(st, d) < 0)
			continue;
		for (r = 0; r < SL_CNET_DROP_MAX; r++)
			out[r] += d[r];
	}
}

static void
stats_print(struct stack *s, const char *what)
{
	uint64_t drops[SL_CNET_DROP_MAX];
	struct sl_chnl_stats cs;
	struct sl_node_stats ns;
	const char *sep = "";
	unsigned i;

	drops_sum(s, drops);
	if (s->json) {
		printf("{\"%s\": %.3f, \"nodes\": {", what,
		       s->app ? sl_app_elapsed(s->app) : 0.0);
		for (i = 0; i < STACK_NNODES; i++) {
			if (sl_graph_stats_sum("stack-*", stack_nodes[i], &ns) <
			    0)
				memset(&ns, 0, sizeof(ns));
			printf("%s\"%s\": %" PRIu64, sep, stack_nodes[i],
			       ns.objs);
			sep = ", ";
		}
		printf("}, \"drops\": {");
		sep = "";
		for (i = 0; i < SL_CNET_DROP_MAX; i++) {
			printf("%s\"%s\": %" PRIu64, sep, sl_cnet_drop_name(i),
			       drops[i]);
			sep = ", ";
		}
		printf("}, \"channels\": {");
		sep = "";
		for (i = 0; i < s->nchnls; i++) {
			if (sl_chnl_stats_get(s->chnls[i], &cs) < 0)
				memset(&cs, 0, sizeof(cs));
			printf("%s\"%s\": {\"rx\": %" PRIu64
			       ", \"tx\": %" PRIu64 ", \"rx_full\": %" PRIu64
			       ", \"tx_full\": %" PRIu64 "}",
			       sep, s->chspecs[i], cs.rx_pkts, cs.tx_pkts,
			       cs.rx_full, cs.tx_full);
			sep = ", ";
		}
		printf("}}\n");
	} else {
		printf("%s %.1f s:", what,
		       s->app ? sl_app_elapsed(s->app) : 0.0);
		for (i = 0; i < STACK_NNODES; i++) {
			if (sl_graph_stats_sum("stack-*", stack_nodes[i], &ns) <
			    0)
				continue;
			printf(" %s %" PRIu64, stack_nodes[i], ns.objs);
		}
		printf(" | drops:");
		for (i = 0; i < SL_CNET_DROP_MAX; i++)
			if (drops[i] != 0)
				printf(" %s %" PRIu64, sl_cnet_drop_name(i),
				       drops[i]);
		for (i = 0; i < s->nchnls; i++)
			if (sl_chnl_stats_get(s->chnls[i], &cs) == 0)
				printf(" | %s rx %" PRIu64 " tx %" PRIu64,
				       s->chspecs[i], cs.rx_pkts, cs.tx_pkts);
		printf("\n");
	}
	fflush(stdout);
}

static void
tick(struct sl_app *app, void *arg)
{
	(void)app;
	stats_print(arg, "t");
}

/* ---- main --------------------------------------------------------------- */

/* The stack manages the steering of every net_af_xdp device: the
 * channels' rules, the transit rule (steer-transit) and steer-rules. */
static int
steer_setup(struct stack *s)
{
	struct sl_steer_rule r;
	unsigned i, j, k;
	int err;

	for (i = 0; i < s->conf->nlports; i++) {
		const struct sl_config_lport *lp = &s->conf->lports[i];

		if (strcmp(lp->pmd, "net_af_xdp") != 0)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(s->conf->lports[j].netdev, lp->netdev) == 0)
				break;
		if (j < i)
			continue;
		err = sl_cnet_steer_attach(s->cnet, lp->netdev, s->steer);
		if (err < 0) {
			SL_ERR("%s: steering: %s", lp->netdev,
			       sl_strerror(-err));
			return err;
		}
		for (k = 0; k < s->nrules; k++) {
			err = sl_steer_rule_parse(s->rules[k], &r);
			if (err == 0)
				err = sl_steer_rule_add(lp->netdev, &r, NULL);
			if (err < 0) {
				SL_ERR("%s: steering rule '%s': %s", lp->netdev,
				       s->rules[k], sl_strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

static int
run(struct stack *s, const struct cli *c)
{
	static const struct sl_app_thread_type types[] = {
		{"stack", stack_thread},
	};
	struct sl_cnet_cfg cc = {.steer_local = s->steer && !c->show};
	struct sl_app_cfg ac = {
		.config = s->conf,
		.types = types,
		.ntypes = 1,
		.tick = tick,
		.interval = c->interval,
		.duration = c->seconds,
		.arg = s,
	};
	unsigned i;
	int err;

	/* options_check() bounded the number of threads */
	if (!c->show) {
		s->app = sl_app_create(&ac);
		if (s->app == NULL)
			return -errno;
		cc.pool = sl_app_pool(s->app, 0);
		cc.punt_tap = s->punt && cc.pool != NULL;
	}
	s->cnet = sl_cnet_create(&cc);
	if (s->cnet == NULL) {
		err = -errno;
		goto destroy_app;
	}
	/* the devices are attached: the mirror's addresses reach the
	 * steering maps before the transit rule sends traffic to sluice */
	err = sl_cnet_start(s->cnet, STACK_SYNC_MS);
	if (err < 0) {
		SL_ERR("kernel mirror: %s", sl_strerror(-err));
		goto destroy_app;
	}
	if (c->show) {
		err = sl_cnet_show(s->cnet, stdout);
		goto destroy_app;
	}
	err = steer_setup(s);
	if (err < 0)
		goto destroy_app;
	for (i = 0; i < s->nchnls; i++) {
		s->chnls[i] = udp_echo_open(s->cnet, s->chspecs[i]);
		if (s->chnls[i] == NULL) {
			err = -errno;
			goto destroy_app;
		}
	}
	if (!s->json)
		printf("sluice-stack: %u threads, %u lports, kernel tables "
		       "synced\n",
		       s->conf->nthreads, s->conf->nlports);
	err = sl_app_run(s->app);
	stats_print(s, s->json ? "summary" : "summary");
destroy_app:
	/* held and queued packets go back to the pools before they are
	 * destroyed; the threads leave the QSBR domain first, so that the
	 * channels need not wait for them */
	for (i = 0; i < STACK_THREADS_MAX; i++)
		sl_cnet_thread_destroy(s->th[i]);
	for (i = 0; i < s->nchnls; i++)
		sl_chnl_close(s->chnls[i]);
	sl_cnet_free(s->cnet);
	sl_app_destroy(s->app);
	return err;
}

int
main(int argc, char **argv)
{
	struct stack s;
	struct cli c;
	int err;

	if (cli_parse(argc, argv, &c) < 0)
		return 2;
	memset(&s, 0, sizeof(s));
	s.json = c.json;
	s.conf = sl_config_load(c.file);
	if (s.conf == NULL)
		return 2;
	err = settings(&s);
	if (err == 0) {
		err = run(&s, &c);
		if (err < 0)
			SL_ERR("%s", sl_strerror(-err));
	}
	sl_config_free((struct sl_config *)(uintptr_t)s.conf);
	free(s.chnls);
	if (err == -EINVAL)
		return 2;
	return err < 0 ? 1 : 0;
}
