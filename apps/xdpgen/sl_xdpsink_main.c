/*
 * sl-xdpsink: count and drop every frame a network device receives, with
 * an XDP program (include/sluice/sl_xdpgen.h), for --seconds or until
 * SIGINT/SIGTERM. Prints "ready" once attached, a sample every --interval
 * seconds, and a summary last (--json: JSON lines; a sample's "t" is
 * CLOCK_MONOTONIC seconds, the clock of other tools' timestamps).
 * Exit: 0; 1 failed, or fewer than --expect matched frames; 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sl_log.h>
#include <sluice/sl_xdpgen.h>

struct opts {
	struct sl_xdpsink_cfg cfg;
	double seconds, interval;
	uint64_t expect;
	bool json;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sl-xdpsink --dev IF [options]\n"
		   "Count and drop every frame IF receives (XDP).\n"
		   "  --dev IF          device (required)\n"
		   "  --mode M          native, skb or auto (default native)\n"
		   "  --udp-dport P     count IPv4/UDP frames to port P as "
		   "\"matched\"\n"
		   "  --force           replace an XDP program on IF\n"
		   "  --seconds S       count for S seconds (default 10)\n"
		   "  --interval S      print a sample every S seconds (0: "
		   "none, default)\n"
		   "  --expect N        exit 1 unless >= N frames matched "
		   "(needs --udp-dport)\n"
		   "  --json            print samples and summary as JSON\n"
		   "  --log LEVELS      e.g. info, xdpgen=debug\n");
}

static int
num(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(*out >= min) ||
	    *out > max) {
		fprintf(stderr,
			"sl-xdpsink: %s '%s': must be a number from %g "
			"to %g\n",
			opt, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"dev", 1, NULL, 'i'},	     {"mode", 1, NULL, 'm'},
		{"udp-dport", 1, NULL, 'P'}, {"force", 0, NULL, 'f'},
		{"seconds", 1, NULL, 't'},   {"interval", 1, NULL, 'n'},
		{"expect", 1, NULL, 'e'},    {"json", 0, NULL, 'j'},
		{"log", 1, NULL, 'l'},	     {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double v;
	int c, err = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->cfg.ifname = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "native") == 0)
				o->cfg.mode = SL_XDPSINK_MODE_NATIVE;
			else if (strcmp(optarg, "skb") == 0)
				o->cfg.mode = SL_XDPSINK_MODE_SKB;
			else if (strcmp(optarg, "auto") == 0)
				o->cfg.mode = SL_XDPSINK_MODE_AUTO;
			else {
				fprintf(stderr,
					"sl-xdpsink: --mode '%s': "
					"must be native, skb or auto\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case 'P':
			err = num("--udp-dport", optarg, 1, 65535, &v);
			o->cfg.udp_dport = (uint16_t)v;
			break;
		case 'f':
			o->cfg.force = true;
			break;
		case 't':
			err = num("--seconds", optarg, 0.001, 1e6, &o->seconds);
			break;
		case 'n':
			err = num("--interval", optarg, 0, 3600, &o->interval);
			break;
		case 'e':
			err = num("--expect", optarg, 0, 1e18, &v);
			o->expect = (uint64_t)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			if (sl_log_set_levels(optarg) < 0) {
				fprintf(stderr,
					"sl-xdpsink: --log '%s': not a "
					"level list\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (err < 0)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "sl-xdpsink: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (o->cfg.ifname == NULL) {
		fprintf(stderr, "sl-xdpsink: --dev is required (see --help)\n");
		return -EINVAL;
	}
	if (o->expect != 0 && o->cfg.udp_dport == 0) {
		fprintf(stderr, "sl-xdpsink: --expect needs --udp-dport\n");
		return -EINVAL;
	}
	return 0;
}

static void
print(const struct opts *o, const struct sl_xdpsink_stats *st, double t,
      double secs, bool summary, const char *mode)
{
	if (o->json && summary)
		printf("{\"summary\":true,\"dev\":\"%s\",\"mode\":\"%s\","
		       "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"matched\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"t\":%.6f}\n",
		       o->cfg.ifname, mode, st->packets, st->bytes, st->matched,
		       secs, t);
	else if (o->json)
		printf("{\"t\":%.6f,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"matched\":%" PRIu64 "}\n",
		       t, st->packets, st->bytes, st->matched);
	else
		printf("sl-xdpsink %s%s: %" PRIu64 " frames, %" PRIu64
		       " bytes, %" PRIu64 " matched in %.3f s\n",
		       o->cfg.ifname, summary ? "" : " (sample)", st->packets,
		       st->bytes, st->matched, secs);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o = {.cfg = {.mode = SL_XDPSINK_MODE_NATIVE},
			 .seconds = 10};
	struct timespec tick = {0, 10000000};
	struct sl_xdpsink_stats st;
	struct sl_xdpsink *sink;
	double t0, t, next;
	const char *mode;
	int rc = 0;

	if (parse(argc, argv, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sink = sl_xdpsink_attach(&o.cfg);
	if (sink == NULL) {
		fprintf(stderr, "sl-xdpsink: cannot attach to %s: %s\n",
			o.cfg.ifname, strerror(errno));
		return 1;
	}
	mode = sl_xdpsink_mode(sink) == SL_XDPSINK_MODE_SKB ? "skb" : "native";
	printf(o.json ? "{\"ready\":true,\"mode\":\"%s\"}\n" : "ready (%s)\n",
	       mode);
	fflush(stdout);
	t0 = now_s();
	next = t0 + o.interval;
	for (t = t0; !stop && t - t0 < o.seconds; t = now_s()) {
		if (o.interval > 0 && t >= next) {
			if (sl_xdpsink_stats_get(sink, &st) < 0) {
				rc = 1;
				break;
			}
			print(&o, &st, t, t - t0, false, mode);
			next += o.interval;
		}
		nanosleep(&tick, NULL);
	}
	t = now_s();
	if (sl_xdpsink_stats_get(sink, &st) < 0)
		rc = 1;
	else
		print(&o, &st, t, t - t0, true, mode);
	sl_xdpsink_detach(sink);
	if (o.expect != 0 && st.matched < o.expect) {
		fprintf(stderr,
			"sl-xdpsink: %" PRIu64
			" matched frames, expected %" PRIu64 "\n",
			st.matched, o.expect);
		rc = 1;
	}
	return rc;
}
