/*
 * sluice-fwd: the forwarder. Lports, threads and the mode come from a
 * JSONC configuration (docs/config.md); the same file runs on every
 * backend. Modes (options.mode or --mode):
 *   drop      receive and free
 *   rx-only   receive, read the Ethernet header, free
 *   tx-only   send a prepared UDP frame as fast as the lport takes it
 *             (and free what arrives)
 *   loopback  swap the Ethernet addresses, send back on the same lport
 *   fwd       send on the paired lport, unchanged (options.fwd-pairs)
 *   l3fwd     longest-prefix match on the IPv4/IPv6 destination, rewrite
 *             the Ethernet header, decrement TTL / hop limit, send on the
 *             rule's lport (options.l3fwd-fib-rules)
 * Live statistics every interval: per lport rx/tx packets per second,
 * Mbit/s and drops by reason; per thread CPU; --json prints them as one
 * JSON object per line. Exit: 0 done; 1 failed; 2 bad usage or
 * configuration.
 */
#define SL_LOG_MODULE "fwd"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_log.h>
#include <sluice/sl_pktdev.h>

#include "fwd.h"

/* With no file: one net_ring lport that receives what it sends, in
 * tx-only mode, so the forwarder shows traffic on any machine. */
static const char fwd_default_config[] =
	"{\n"
	"  \"application\": {\"name\": \"sluice-fwd\",\n"
	"    \"description\": \"built-in default: tx-only on a net_ring "
	"loopback lport\"},\n"
	"  \"umems\": {\"umem0\": {\"bufcnt\": 4, \"bufsz\": 2, "
	"\"mtype\": \"4KB\"}},\n"
	"  \"lports\": {\"ring0\": {\"pmd\": \"net_ring\", \"umem\": \"umem0\","
	" \"options\": \"loopback=yes\"}},\n"
	"  \"threads\": {\"fwd:0\": {\"lports\": [\"ring0\"]}},\n"
	"  \"options\": {\"mode\": \"tx-only\"}\n"
	"}\n";

static const char *const fwd_options[] = {
	"mode", "fwd-pairs", "l3fwd-fib-rules", "burst", "tx-size", NULL,
};

struct cli {
	const char *file;
	const char *mode;
	bool check, json;
	double seconds, interval;
	long burst;
};

/* Counters read at one tick. */
struct fwd_snap {
	uint64_t rx, rx_bytes, tx, tx_bytes;
	uint64_t drops[FWD_DROP_MAX];
	uint64_t imissed, nombuf, oerrors, ierrors;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-fwd [-c FILE] [--check] [--mode MODE] [--json]\n"
		"                  [--seconds N] [--interval S] [--burst N]\n"
		"  -c, --config FILE  JSONC configuration (default: built in, "
		"tx-only on net_ring)\n"
		"      --check        validate, print the effective "
		"configuration, exit\n"
		"  -m, --mode MODE    drop, rx-only, tx-only, loopback, fwd, "
		"l3fwd (overrides options.mode)\n"
		"  -j, --json         statistics as one JSON object per line\n"
		"  -s, --seconds N    stop after N seconds (default: until "
		"SIGINT/SIGTERM)\n"
		"  -i, --interval S   statistics every S seconds (default 1; "
		"0: "
		"summary only)\n"
		"  -b, --burst N      packets per burst, 1..%d (default 32)\n",
		FWD_BURST_MAX);
}

static int
cli_parse(int argc, char **argv, struct cli *c)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'C'},
		{"mode", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"seconds", required_argument, NULL, 's'},
		{"interval", required_argument, NULL, 'i'},
		{"burst", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int o;

	memset(c, 0, sizeof(*c));
	c->interval = 1;
	c->burst = -1;
	while ((o = getopt_long(argc, argv, "c:m:js:i:b:h", lo, NULL)) != -1) {
		switch (o) {
		case 'c':
			c->file = optarg;
			break;
		case 'C':
			c->check = true;
			break;
		case 'm':
			c->mode = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 's':
		case 'i':
			*(o == 's' ? &c->seconds : &c->interval) =
				strtod(optarg, &end);
			if (*end != '\0' || end == optarg ||
			    *(o == 's' ? &c->seconds : &c->interval) < 0) {
				fprintf(stderr,
					"sluice-fwd: --%s: '%s' is not a "
					"number of seconds >= 0\n",
					o == 's' ? "seconds" : "interval",
					optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			c->burst = strtol(optarg, &end, 10);
			if (*end != '\0' || c->burst < 1 ||
			    c->burst > FWD_BURST_MAX) {
				fprintf(stderr,
					"sluice-fwd: --burst: '%s' is not "
					"1..%d\n",
					optarg, FWD_BURST_MAX);
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
	if (optind < argc) {
		fprintf(stderr, "sluice-fwd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- settings from options{} ---------------------------------------------
 */

static int
mode_parse(const char *s, enum fwd_mode *m)
{
	int i;

	for (i = 0; i < FWD_MODE_MAX; i++)
		if (strcmp(s, fwd_mode_names[i]) == 0) {
			*m = (enum fwd_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* fwd-pairs: "A B" strings, both directions; without any, lports pair in
 * the order of the configuration (0-1, 2-3, ...; an odd last one sends
 * back on itself). Every lport is the output of at most one lport. */
static int
pairs_setup(struct fwd *f)
{
	const char *const *pairs;
	unsigned n, i;
	uint32_t p;
	int err = 0;

	if (sl_config_opt_strv(f->conf, "fwd-pairs", &pairs, &n) < 0)
		return -EINVAL;
	for (p = 0; p < f->nports; p++)
		f->peer[p] = UINT32_MAX;
	if (n == 0) {
		for (p = 0; p + 1 < f->nports; p += 2) {
			f->peer[p] = p + 1;
			f->peer[p + 1] = p;
		}
		if (f->nports & 1)
			f->peer[f->nports - 1] = f->nports - 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		char a[SL_PORT_NAMESIZE + 1], b[SL_PORT_NAMESIZE + 1], x;
		int ia, ib;

		if (sscanf(pairs[i], "%32s %32s %c", a, b, &x) != 2) {
			sl_config_opt_error(f->conf, "fwd-pairs", (int)i,
					    "\"%s\": expected \"<lport> "
					    "<lport>\"",
					    pairs[i]);
			err = -EINVAL;
			continue;
		}
		ia = sl_config_lport_find(f->conf, a);
		ib = sl_config_lport_find(f->conf, b);
		if (ia < 0 || ib < 0) {
			sl_config_opt_error(f->conf, "fwd-pairs", (int)i,
					    "no lport '%s' in lports{}",
					    ia < 0 ? a : b);
			err = -EINVAL;
			continue;
		}
		if (f->peer[ia] != UINT32_MAX || f->peer[ib] != UINT32_MAX) {
			sl_config_opt_error(f->conf, "fwd-pairs", (int)i,
					    "lport '%s' is already in a pair",
					    f->peer[ia] != UINT32_MAX ? a : b);
			err = -EINVAL;
			continue;
		}
		f->peer[ia] = (uint32_t)ib;
		f->peer[ib] = (uint32_t)ia;
	}
	return err;
}

static bool
uses_mode(const struct fwd *f, enum fwd_mode m)
{
	uint32_t i;

	for (i = 0; i < f->conf->nthreads; i++)
		if (f->tmode[i] == m)
			return true;
	return false;
}

/* Each thread's mode: the one its type names ("tx-only:0"), or
 * options.mode for threads of type "fwd". */
static int
thread_modes(struct fwd *f)
{
	const struct sl_config *c = f->conf;
	uint32_t i;
	int err = 0;

	f->tmode = calloc(c->nthreads ? c->nthreads : 1, sizeof(*f->tmode));
	if (f->tmode == NULL)
		return -ENOMEM;
	for (i = 0; i < c->nthreads; i++) {
		if (strcmp(c->threads[i].type, "fwd") == 0)
			f->tmode[i] = f->mode;
		else if (mode_parse(c->threads[i].type, &f->tmode[i]) < 0) {
			SL_ERR("%s:%u:%u: threads.\"%s\": thread type '%s' is "
			       "not fwd, drop, rx-only, tx-only, loopback or "
			       "l3fwd",
			       c->file, c->threads[i].pos.line,
			       c->threads[i].pos.col, c->threads[i].name,
			       c->threads[i].type);
			err = -EINVAL;
		}
	}
	return err;
}

/* pktdev lets one thread at a time send on an lport: find, for every
 * lport, the threads whose mode sends on it. */
static int
tx_owners_check(const struct fwd *f)
{
	const struct sl_config *c = f->conf;
	uint32_t owner[SL_PORT_MAX], i, k, p, n;
	uint32_t outs[SL_PORT_MAX];
	int err = 0;

	for (p = 0; p < SL_PORT_MAX; p++)
		owner[p] = UINT32_MAX;
	for (i = 0; i < c->nthreads; i++) {
		const struct sl_config_thread *t = &c->threads[i];

		n = 0;
		switch (f->tmode[i]) {
		case FWD_TX_ONLY:
		case FWD_LOOPBACK:
			for (k = 0; k < t->nlports; k++)
				outs[n++] = t->lports[k];
			break;
		case FWD_L2:
			for (k = 0; k < t->nlports; k++) {
				p = f->peer[t->lports[k]];
				if (p != UINT32_MAX) {
					outs[n++] = p;
					continue;
				}
				SL_ERR("%s: thread '%s' forwards lport '%s', "
				       "which is in no pair of "
				       "options.fwd-pairs",
				       c->file, t->name,
				       c->lports[t->lports[k]].name);
				err = -EINVAL;
			}
			break;
		case FWD_L3:
			for (k = 0; k < f->nnh; k++)
				outs[n++] = f->nh[k].port;
			break;
		default:
			break;
		}
		for (k = 0; k < n; k++) {
			p = outs[k];
			if (owner[p] == UINT32_MAX || owner[p] == i) {
				owner[p] = i;
				continue;
			}
			SL_ERR("%s: threads '%s' and '%s' would both send on "
			       "lport '%s' (one thread per lport direction)",
			       c->file, c->threads[owner[p]].name, t->name,
			       c->lports[p].name);
			err = -EINVAL;
		}
	}
	return err;
}

static int
settings(struct fwd *f, const struct cli *c)
{
	const char *mode;
	int64_t v;
	int err;

	err = sl_config_options_check(f->conf, fwd_options);
	if (err < 0)
		return err;
	if (sl_config_opt_str(f->conf, "mode", "fwd", &mode) < 0)
		return -EINVAL;
	if (c->mode != NULL)
		mode = c->mode;
	if (mode_parse(mode, &f->mode) < 0) {
		if (c->mode != NULL)
			SL_ERR("--mode: '%s' is not drop, rx-only, tx-only, "
			       "loopback, fwd or l3fwd",
			       mode);
		else
			sl_config_opt_error(f->conf, "mode", -1,
					    "'%s' is not drop, rx-only, "
					    "tx-only, loopback, fwd or l3fwd",
					    mode);
		return -EINVAL;
	}
	if (sl_config_opt_int(f->conf, "burst", 32, 1, FWD_BURST_MAX, &v) < 0)
		return -EINVAL;
	f->burst = c->burst > 0 ? (unsigned)c->burst : (unsigned)v;
	if (sl_config_opt_int(f->conf, "tx-size", 64, FWD_TX_SIZE_MIN,
			      FWD_TX_SIZE_MAX, &v) < 0)
		return -EINVAL;
	f->tx_size = (unsigned)v;
	f->nports = f->conf->nlports;
	f->peer = calloc(f->nports ? f->nports : 1, sizeof(*f->peer));
	if (f->peer == NULL)
		return -ENOMEM;
	if (f->nports > SL_PORT_MAX) {
		SL_ERR("%s: %u lports: at most %d", f->conf->file, f->nports,
		       SL_PORT_MAX);
		return -EINVAL;
	}
	err = thread_modes(f);
	if (err == 0)
		err = pairs_setup(f);
	if (err == 0)
		err = fwd_l3_setup(f, uses_mode(f, FWD_L3));
	if (err == 0)
		err = tx_owners_check(f);
	return err;
}

static void
settings_print(const struct fwd *f)
{
	const struct sl_config *c = f->conf;
	uint32_t i, k, p;

	printf("burst %u", f->burst);
	if (uses_mode(f, FWD_TX_ONLY))
		printf(", tx-only frames of %u bytes", f->tx_size);
	printf("\n");
	for (i = 0; i < c->nthreads; i++) {
		printf("thread %s: %s on", c->threads[i].name,
		       fwd_mode_names[f->tmode[i]]);
		for (k = 0; k < c->threads[i].nlports; k++) {
			p = c->threads[i].lports[k];
			printf(" %s", c->lports[p].name);
			if (f->tmode[i] == FWD_L2 && f->peer[p] != UINT32_MAX)
				printf("->%s", c->lports[f->peer[p]].name);
		}
		printf("\n");
	}
	if (uses_mode(f, FWD_L3))
		fwd_l3_print(f);
}

/* ---- statistics ----------------------------------------------------------
 */

static void
snap_take(const struct fwd *f, uint32_t p, struct fwd_snap *s)
{
	const struct fwd_ctr *c = &f->ctr[p];
	struct sl_port_stats st;
	unsigned r;

	memset(s, 0, sizeof(*s));
	s->rx = __atomic_load_n(&c->rx.pkts, __ATOMIC_RELAXED);
	s->rx_bytes = __atomic_load_n(&c->rx.bytes, __ATOMIC_RELAXED);
	s->tx = __atomic_load_n(&c->tx.pkts, __ATOMIC_RELAXED);
	s->tx_bytes = __atomic_load_n(&c->tx.bytes, __ATOMIC_RELAXED);
	for (r = 0; r < FWD_DROP_MAX; r++)
		s->drops[r] =
			__atomic_load_n(&c->rx.drops[r], __ATOMIC_RELAXED) +
			__atomic_load_n(&c->tx.drops[r], __ATOMIC_RELAXED);
	if (sl_pktdev_stats_get(sl_app_port(f->app, p), &st) == 0) {
		s->imissed = st.imissed;
		s->nombuf = st.rx_nombuf;
		s->oerrors = st.oerrors;
		s->ierrors = st.ierrors;
	}
}

/* Drops of one lport by reason: the app's and the backend's. */
static void
drops_print(const struct fwd_snap *a, const struct fwd_snap *b, bool json)
{
	const char *sep = "";
	unsigned r;

#define DROP(name, va, vb)                                                     \
	do {                                                                   \
		uint64_t d_ = (vb) - (va);                                     \
		if (json) {                                                    \
			printf("%s\"%s\":%" PRIu64, sep, name, d_);            \
			sep = ",";                                             \
		} else if (d_ != 0) {                                          \
			printf(" %s=%" PRIu64, name, d_);                      \
		}                                                              \
	} while (0)
	for (r = 0; r < FWD_DROP_MAX; r++)
		DROP(fwd_drop_names[r], a->drops[r], b->drops[r]);
	DROP("imissed", a->imissed, b->imissed);
	DROP("rx_nombuf", a->nombuf, b->nombuf);
	DROP("ierrors", a->ierrors, b->ierrors);
	DROP("oerrors", a->oerrors, b->oerrors);
#undef DROP
}

/* Print rates between two snapshots (a zeroed 'a' gives totals). */
static void
report(struct fwd *f, const struct fwd_snap *a, const struct fwd_snap *b,
       const uint64_t *cpu0, const uint64_t *cpu1, double dt, bool summary)
{
	uint32_t p, i, n = sl_app_nthreads(f->app);
	double t = sl_app_elapsed(f->app);

	if (f->json) {
		printf("{%s\"t\":%.3f,\"seconds\":%.3f,\"lports\":{",
		       summary ? "\"summary\":true," : "", t, dt);
		for (p = 0; p < f->nports; p++) {
			printf("%s\"%s\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64
			       ",\"rx_pps\":%.0f,\"tx_pps\":%.0f,"
			       "\"rx_mbps\":%.3f,\"tx_mbps\":%.3f,\"drops\":{",
			       p ? "," : "", f->conf->lports[p].name,
			       b[p].rx - a[p].rx, b[p].tx - a[p].tx,
			       (double)(b[p].rx - a[p].rx) / dt,
			       (double)(b[p].tx - a[p].tx) / dt,
			       (double)(b[p].rx_bytes - a[p].rx_bytes) * 8 /
				       dt / 1e6,
			       (double)(b[p].tx_bytes - a[p].tx_bytes) * 8 /
				       dt / 1e6);
			drops_print(&a[p], &b[p], true);
			printf("}}");
		}
		printf("},\"threads\":{");
		for (i = 0; i < n; i++)
			printf("%s\"%s\":{\"cpu\":%.3f,\"sleeps\":%" PRIu64 "}",
			       i ? "," : "", f->conf->threads[i].name,
			       (double)(cpu1[i] - cpu0[i]) / 1e9 / dt,
			       sl_app_thread_get(f->app, i)->sleeps);
		printf("}}\n");
		fflush(stdout);
		return;
	}
	if (summary)
		printf("summary of %.1f s (averages; totals at the end):\n", t);
	printf("%7.1fs  %-16s %12s %12s %10s %10s  drops\n", t, "lport",
	       "rx pps", "tx pps", "rx Mbit/s", "tx Mbit/s");
	for (p = 0; p < f->nports; p++) {
		printf("%8s  %-16s %12.0f %12.0f %10.1f %10.1f ", "",
		       f->conf->lports[p].name,
		       (double)(b[p].rx - a[p].rx) / dt,
		       (double)(b[p].tx - a[p].tx) / dt,
		       (double)(b[p].rx_bytes - a[p].rx_bytes) * 8 / dt / 1e6,
		       (double)(b[p].tx_bytes - a[p].tx_bytes) * 8 / dt / 1e6);
		drops_print(&a[p], &b[p], false);
		printf("\n");
	}
	for (i = 0; i < n; i++)
		printf("%8s  thread %-9s cpu %5.1f%%  sleeps %" PRIu64 "\n", "",
		       f->conf->threads[i].name,
		       100.0 * (double)(cpu1[i] - cpu0[i]) / 1e9 / dt,
		       sl_app_thread_get(f->app, i)->sleeps);
	if (summary)
		for (p = 0; p < f->nports; p++)
			printf("%8s  total %-16s rx %" PRIu64 " tx %" PRIu64
			       "\n",
			       "", f->conf->lports[p].name, b[p].rx, b[p].tx);
	fflush(stdout);
}

static void
cpu_take(const struct fwd *f, uint64_t *cpu)
{
	uint32_t i;

	for (i = 0; i < sl_app_nthreads(f->app); i++)
		if (sl_app_thread_cpu_ns(f->app, i, &cpu[i]) < 0)
			cpu[i] = 0;
}

static void
tick(struct sl_app *app, void *arg)
{
	struct fwd *f = arg;
	struct fwd_snap now[SL_PORT_MAX];
	uint64_t cpu[SL_CONFIG_THREAD_PORTS * 8];
	double t = sl_app_elapsed(app);
	uint32_t p;

	(void)app;
	for (p = 0; p < f->nports; p++)
		snap_take(f, p, &now[p]);
	cpu_take(f, cpu);
	report(f, f->prev, now, f->prev_cpu, cpu, t - f->prev_t, false);
	memcpy(f->prev, now, sizeof(now[0]) * f->nports);
	memcpy(f->prev_cpu, cpu, sizeof(cpu[0]) * sl_app_nthreads(app));
	f->prev_t = t;
}

static void
summary(struct fwd *f)
{
	struct fwd_snap zero[SL_PORT_MAX], now[SL_PORT_MAX];
	uint64_t cpu0[SL_CONFIG_THREAD_PORTS * 8] = {0};
	uint64_t cpu[SL_CONFIG_THREAD_PORTS * 8];
	double t = sl_app_elapsed(f->app);
	uint32_t p;

	memset(zero, 0, sizeof(zero));
	for (p = 0; p < f->nports; p++)
		snap_take(f, p, &now[p]);
	cpu_take(f, cpu);
	report(f, zero, now, cpu0, cpu, t > 0 ? t : 1, true);
}

/* ---- main ----------------------------------------------------------------
 */

/* The output lports' MACs (l3fwd) and the tx-only frame. */
static int
ports_bind(struct fwd *f)
{
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	uint32_t i;
	int err;

	for (i = 0; i < f->nnh; i++) {
		err = sl_pktdev_mac_get(sl_app_port(f->app, f->nh[i].port),
					f->nh[i].src_mac);
		if (err < 0)
			memset(f->nh[i].src_mac, 0, 6);
	}
	if (f->nports > 0)
		(void)sl_pktdev_mac_get(sl_app_port(f->app, 0), mac);
	fwd_tx_frame_build(f, mac);
	return 0;
}

static int
run(struct fwd *f, const struct cli *c)
{
	static const struct sl_app_thread_type types[] = {
		{"fwd", fwd_thread},	  {"drop", fwd_thread},
		{"rx-only", fwd_thread},  {"tx-only", fwd_thread},
		{"loopback", fwd_thread}, {"l3fwd", fwd_thread},
	};
	struct sl_app_cfg ac = {
		.config = f->conf,
		.types = types,
		.ntypes = sizeof(types) / sizeof(types[0]),
		.tick = tick,
		.interval = c->interval,
		.duration = c->seconds,
		.arg = f,
	};
	int err;

	if (f->nports > SL_PORT_MAX ||
	    f->conf->nthreads > SL_CONFIG_THREAD_PORTS * 8) {
		SL_ERR("%s: at most %d lports and %d threads", f->conf->file,
		       SL_PORT_MAX, SL_CONFIG_THREAD_PORTS * 8);
		return -EINVAL;
	}
	f->ctr = aligned_alloc(SL_CACHE_LINE,
			       sizeof(*f->ctr) * (f->nports ? f->nports : 1));
	f->prev = calloc(f->nports ? f->nports : 1, sizeof(*f->prev));
	f->prev_cpu = calloc(SL_CONFIG_THREAD_PORTS * 8, sizeof(uint64_t));
	if (f->ctr == NULL || f->prev == NULL || f->prev_cpu == NULL)
		return -ENOMEM;
	memset(f->ctr, 0, sizeof(*f->ctr) * (f->nports ? f->nports : 1));
	f->app = sl_app_create(&ac);
	if (f->app == NULL)
		return -errno;
	ports_bind(f);
	if (!f->json)
		settings_print(f);
	err = sl_app_run(f->app);
	summary(f);
	sl_app_destroy(f->app);
	f->app = NULL;
	return err;
}

int
main(int argc, char **argv)
{
	struct fwd f;
	struct cli c;
	int err;

	if (cli_parse(argc, argv, &c) < 0)
		return 2;
	memset(&f, 0, sizeof(f));
	f.json = c.json;
	f.interval = c.interval;
	f.conf = c.file ? sl_config_load(c.file)
			: sl_config_parse(fwd_default_config, "<built-in>");
	if (f.conf == NULL)
		return 2;
	err = settings(&f, &c);
	if (err == 0 && c.check) {
		sl_config_print(f.conf, stdout);
		settings_print(&f);
	} else if (err == 0) {
		err = run(&f, &c);
		if (err < 0)
			SL_ERR("%s", sl_strerror(-err));
	}
	fwd_l3_free(&f);
	free(f.peer);
	free(f.tmode);
	free(f.ctr);
	free(f.prev);
	free(f.prev_cpu);
	sl_config_free((struct sl_config *)(uintptr_t)f.conf);
	if (err == -EINVAL)
		return 2;
	return err < 0 ? 1 : 0;
}
