/*
 * sluice-txgen: a traffic generator over pktdev (any backend) or the XDP
 * live-frames engine. Lports, pools and threads come from a JSONC
 * configuration (-c FILE; without one, a net_ring loopback lport), the
 * traffic from its options{} and the command line. It sends stamped
 * Ethernet/IPv4|IPv6/UDP|TCP|ICMP frames, receives them back, and reports
 * rates every interval and, at the end, loss, order and latency.
 * Exit: 0 done; 1 failed (configuration, run, nothing sent, loss above
 * --max-loss); 2 bad usage. See docs/txgen.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_app.h>
#include <sluice/sl_config.h>
#include <sluice/sl_log.h>
#include <sluice/sl_time.h>

#include "txgen.h"

/* Without -c: one net_ring lport that receives what it sends. */
static const char txgen_default_config[] =
	"{\n"
	"  \"application\": {\"name\": \"sluice-txgen\",\n"
	"    \"description\": \"built-in default: a net_ring loopback "
	"lport\"},\n"
	"  \"umems\": {\"umem0\": {\"bufcnt\": 8, \"bufsz\": 2, "
	"\"mtype\": \"4KB\"}},\n"
	"  \"lports\": {\"ring0\": {\"pmd\": \"net_ring\", \"umem\": "
	"\"umem0\", \"options\": \"loopback=yes\"}},\n"
	"  \"threads\": {\"txgen:0\": {\"lports\": [\"ring0\"]}},\n"
	"  \"options\": {}\n"
	"}\n";

/* Settings given on the command line, applied over the file's. */
struct cli_set {
	const char *key;
	const char *val;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: " TXGEN_NAME " [-c FILE] [--check] [options]\n"
		   "Send stamped frames on the tx lports, count them back on "
		   "the rx lports:\nrates every interval, then loss, order and "
		   "latency. Without -c: one net_ring\nloopback lport (ring0) "
		   "and one thread. Flags override options{} of FILE.\n"
		   "  -c, --config FILE    JSONC configuration (see "
		   "docs/txgen.md)\n"
		   "      --check [FILE]   check the configuration, print it "
		   "with the traffic\n"
		   "                       settings, exit 0 (valid) or 1\n"
		   "      --proto P        udp (default), tcp or icmp\n"
		   "  -4, -6, --family F   ipv4 (default) or ipv6\n"
		   "      --size B         frame bytes without FCS (default: "
		   "64, or the headers\n"
		   "                       and the 16-byte stamp when more)\n"
		   "      --flows N        1..65536 flows: source port and "
		   "source address + i\n"
		   "      --rate PPS       total packets/s, k/M/G suffixes; 0: "
		   "unpaced (default)\n"
		   "      --seconds S      send for S seconds (--duration; "
		   "default 10 without --count)\n"
		   "      --count N        send N packets in total\n"
		   "      --burst N        packets per TX burst, 1..256 "
		   "(default 32)\n"
		   "      --src-mac M      default: the MAC of the tx lport\n"
		   "      --dst-mac M      default: ff:ff:ff:ff:ff:ff\n"
		   "      --src-ip A       default 198.18.0.1 (IPv6: "
		   "2001:2::1)\n"
		   "      --dst-ip A       default 198.19.0.1 (IPv6: "
		   "2001:2:0:1::1)\n"
		   "      --src-port N     source port, ICMP identifier "
		   "(default 9000)\n"
		   "      --dst-port N     destination port (default 9001)\n"
		   "      --tx-lports L    lports that send, comma-separated "
		   "(default: all)\n"
		   "      --rx-lports L    lports that receive (default: all; "
		   "none: no RX)\n"
		   "      --engine E       pktdev (default) or xdp (sl_xdpgen "
		   "live frames)\n"
		   "      --xdp-ifname IF  device of the xdp engine (default: "
		   "of the first tx lport)\n"
		   "      --interval S     live statistics every S seconds "
		   "(default 1; 0: none)\n"
		   "      --max-loss PCT   exit 1 when more than PCT %% of the "
		   "frames are lost\n"
		   "      --json           one JSON object per line\n"
		   "      --log LEVELS     e.g. info, app=debug\n"
		   "  -h, --help\n");
}

static int
parse_args(int argc, char **argv, struct cli_set *sets, unsigned *nsets,
	   const char **file, bool *check)
{
	enum { O_CHECK = 256, O_LOG, O_SECONDS, O_SET };
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, O_CHECK},
		{"log", required_argument, NULL, O_LOG},
		{"help", no_argument, NULL, 'h'},
		{"seconds", required_argument, NULL, O_SECONDS},
		{"duration", required_argument, NULL, O_SET},
		{"proto", required_argument, NULL, O_SET},
		{"family", required_argument, NULL, O_SET},
		{"size", required_argument, NULL, O_SET},
		{"flows", required_argument, NULL, O_SET},
		{"rate", required_argument, NULL, O_SET},
		{"count", required_argument, NULL, O_SET},
		{"burst", required_argument, NULL, O_SET},
		{"src-mac", required_argument, NULL, O_SET},
		{"dst-mac", required_argument, NULL, O_SET},
		{"src-ip", required_argument, NULL, O_SET},
		{"dst-ip", required_argument, NULL, O_SET},
		{"src-port", required_argument, NULL, O_SET},
		{"dst-port", required_argument, NULL, O_SET},
		{"tx-lports", required_argument, NULL, O_SET},
		{"rx-lports", required_argument, NULL, O_SET},
		{"engine", required_argument, NULL, O_SET},
		{"xdp-ifname", required_argument, NULL, O_SET},
		{"interval", required_argument, NULL, O_SET},
		{"max-loss", required_argument, NULL, O_SET},
		{"json", no_argument, NULL, O_SET},
		{NULL, 0, NULL, 0},
	};
	int c, idx;

	*nsets = 0;
	while ((c = getopt_long(argc, argv, "c:46h", lo, &idx)) != -1) {
		switch (c) {
		case 'c':
			*file = optarg;
			break;
		case O_CHECK:
			*check = true;
			break;
		case O_LOG:
			if (sl_log_set_levels(optarg) < 0) {
				fprintf(stderr,
					TXGEN_NAME ": --log '%s': not a level "
						   "list\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case '4':
		case '6':
			sets[*nsets].key = "family";
			sets[*nsets].val = c == '4' ? "ipv4" : "ipv6";
			(*nsets)++;
			break;
		case O_SECONDS:
			sets[*nsets].key = "duration";
			sets[*nsets].val = optarg;
			(*nsets)++;
			break;
		case O_SET:
			sets[*nsets].key = lo[idx].name;
			sets[*nsets].val = optarg != NULL ? optarg : "true";
			(*nsets)++;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	/* --check FILE */
	if (optind < argc && *check && *file == NULL && optind + 1 == argc) {
		*file = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, TXGEN_NAME ": unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The largest frame each TX lport's pool holds (the mbuf data room). */
static int
check_pools(struct txgen *tg)
{
	uint32_t i, room;
	struct sl_mempool *mp;
	struct sl_mbuf *m;

	for (i = 0; i < tg->cfg->nlports; i++) {
		if (!tg->o.is_tx[i] || tg->o.engine != TXGEN_ENGINE_PKTDEV)
			continue;
		mp = sl_app_pool(tg->app, i);
		m = mp != NULL ? sl_mbuf_alloc(mp) : NULL;
		if (m == NULL) {
			fprintf(stderr,
				TXGEN_NAME ": lport '%s': no mbuf in its "
					   "pool\n",
				tg->cfg->lports[i].name);
			return -ENOBUFS;
		}
		room = sl_mbuf_tailroom(m);
		sl_mbuf_free(m);
		if (tg->tmpl.size > room) {
			fprintf(stderr,
				TXGEN_NAME ": size %u does not fit an mbuf "
					   "of lport '%s': at most %u\n",
				tg->tmpl.size, tg->cfg->lports[i].name, room);
			return -EINVAL;
		}
	}
	return 0;
}

/* Mbufs in use in every pool of the lports (each pool once). */
static unsigned
pools_in_use(const struct txgen *tg)
{
	struct sl_mempool *seen[SL_PORT_MAX], *mp;
	unsigned n = 0, total = 0, i, k;

	for (i = 0; i < tg->cfg->nlports; i++) {
		mp = sl_app_pool(tg->app, i);
		if (mp == NULL)
			continue;
		for (k = 0; k < n && seen[k] != mp; k++)
			;
		if (k < n)
			continue;
		seen[n++] = mp;
		total += sl_mempool_in_use_count(mp);
	}
	return total;
}

static void
txgen_free(struct txgen *tg)
{
	uint32_t i;

	txgen_xdp_stop(tg);
	sl_app_destroy(tg->app);
	for (i = 0; tg->threads != NULL && i < tg->nthreads; i++)
		free(tg->threads[i]);
	free(tg->threads);
	txgen_tmpl_free(&tg->tmpl);
	sl_config_free(tg->cfg);
	free(tg);
}

int
main(int argc, char **argv)
{
	static const struct sl_app_thread_type types[] = {
		{"txgen", txgen_thread_fn},
	};
	struct cli_set *sets;
	struct sl_app_cfg ac;
	struct txgen *tg;
	const char *file = NULL;
	bool check = false;
	unsigned nsets, i, in_use_start;
	char msg[256];
	int err, rc = 1;

	sets = calloc((size_t)argc + 1, sizeof(*sets));
	tg = aligned_alloc(SL_CACHE_LINE, sizeof(*tg));
	if (sets == NULL || tg == NULL) {
		fprintf(stderr, TXGEN_NAME ": out of memory\n");
		return 1;
	}
	memset(tg, 0, sizeof(*tg));
	if (parse_args(argc, argv, sets, &nsets, &file, &check) < 0) {
		free(sets);
		free(tg);
		return 2;
	}
	tg->cfg = file != NULL
			  ? sl_config_load(file)
			  : sl_config_parse(txgen_default_config, "<built-in>");
	if (tg->cfg == NULL) {
		fprintf(stderr, TXGEN_NAME ": %s: %s\n",
			file != NULL ? file : "built-in configuration",
			errno == EINVAL ? "not a valid configuration (see "
					  "the messages above)"
					: strerror(errno));
		goto out;
	}
	txgen_opts_init(&tg->o);
	err = txgen_opts_from_config(&tg->o, tg->cfg);
	for (i = 0; i < nsets; i++)
		if (txgen_opt_set(&tg->o, sets[i].key, sets[i].val, msg,
				  sizeof(msg)) < 0) {
			fprintf(stderr, TXGEN_NAME ": --%s\n", msg);
			err = -EINVAL;
		}
	if (txgen_opts_finish(&tg->o, tg->cfg) < 0)
		err = -EINVAL;
	if (err < 0) {
		fprintf(stderr,
			TXGEN_NAME ": %s: the traffic settings are not "
				   "valid\n",
			file != NULL ? file : "<built-in>");
		goto out;
	}
	if (check) {
		if (sl_config_print(tg->cfg, stdout) < 0)
			goto out;
		txgen_opts_print(&tg->o, tg->cfg, stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}

	err = txgen_tmpl_build(&tg->tmpl, &tg->o.pkt, tg->o.max_size);
	if (err < 0) {
		fprintf(stderr, TXGEN_NAME ": building the frames: %s\n",
			sl_strerror(err));
		goto out;
	}
	memset(&ac, 0, sizeof(ac));
	ac.config = tg->cfg;
	ac.types = types;
	ac.ntypes = SL_DIM(types);
	ac.tick = txgen_tick;
	ac.interval = tg->o.interval;
	/* the threads end the run (after the drain); this is a backstop */
	ac.duration = tg->o.duration > 0 ? tg->o.duration + 30 : 0;
	ac.arg = tg;
	tg->app = sl_app_create(&ac);
	if (tg->app == NULL) {
		fprintf(stderr, TXGEN_NAME ": cannot start: %s\n",
			strerror(errno));
		goto out;
	}
	err = txgen_threads_setup(tg);
	if (err == 0)
		err = check_pools(tg);
	if (err == 0 && tg->o.engine == TXGEN_ENGINE_XDP) {
		err = txgen_xdp_start(tg);
		if (err < 0)
			fprintf(stderr, TXGEN_NAME ": engine xdp on %s: %s\n",
				tg->o.xdp_ifname, sl_strerror(err));
	}
	if (err < 0)
		goto out;
	txgen_banner(tg);
	in_use_start = pools_in_use(tg);
	tg->t0_ns = tg->last_ns = sl_time_ns();
	err = sl_app_run(tg->app);
	txgen_xdp_stop(tg);
	/* the last part of an interval, so the samples cover the run */
	if (tg->o.interval > 0 && sl_time_ns() - tg->last_ns > 1000000)
		txgen_tick(tg->app, tg);
	if (err < 0)
		fprintf(stderr, TXGEN_NAME ": run failed: %s\n",
			sl_strerror(err));
	rc = txgen_summary(tg, in_use_start, pools_in_use(tg));
	if (err < 0 || tg->xdp_err < 0)
		rc = 1;
out:
	txgen_free(tg);
	free(sets);
	return rc;
}
