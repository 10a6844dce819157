/*
 * sl-xdpgen: send UDP frames out of a network device at up to line rate
 * with the kernel's XDP live-frames mode (include/sluice/sl_xdpgen.h).
 * The last line printed is a summary (--json: as JSON).
 * Exit: 0 done (with --count: every frame sent); 1 failed; 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_log.h>
#include <sluice/sl_thread.h>
#include <sluice/sl_xdpgen.h>

struct opts {
	struct sl_xdpgen_cfg cfg;
	uint64_t count;
	double seconds;
	int cpu;
	bool json;
};

static struct sl_xdpgen *gen;

static void
on_signal(int sig)
{
	(void)sig;
	if (gen != NULL)
		sl_xdpgen_stop(gen);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sl-xdpgen --dev IF [options]\n"
		"Send Ethernet/IPv4/UDP frames out of IF (XDP_TX of frames the "
		"kernel makes\nwith BPF_PROG_RUN live frames). A veth peer "
		"receives them only when it has\nan XDP program or GRO on.\n"
		"  --dev IF          device to send on (required)\n"
		"  --redirect IF     XDP_REDIRECT the frames to IF instead\n"
		"  --src-mac M       default: the MAC of --dev\n"
		"  --dst-mac M       default: ff:ff:ff:ff:ff:ff\n"
		"  --src-ip A        default 198.18.0.1\n"
		"  --dst-ip A        default 198.18.0.2\n"
		"  --sport P         UDP source port (default 9000)\n"
		"  --dport P         UDP destination port (default 9001)\n"
		"  --size B          frame length without FCS, %d..%d "
		"(default 64)\n"
		"  --flows N         flows, 1..65536 (default 1)\n"
		"  --flow-field F    what differs between flows: sport, src-ip "
		"or both\n"
		"                    (default sport)\n"
		"  --rate PPS        frames per second, k/M suffixes; 0: "
		"unpaced "
		"(default)\n"
		"  --burst N         token bucket depth in frames (default: "
		"max(32, 2 ms))\n"
		"  --batch N         frames per kernel batch, 1..%d "
		"(default %d)\n"
		"  --seconds S       stop after S seconds (default 10 without "
		"--count)\n"
		"  --count N         stop after exactly N frames\n"
		"  --cpu C           pin to CPU C\n"
		"  --json            print the summary as JSON\n"
		"  --log LEVELS      e.g. info, xdpgen=debug\n",
		SL_XDPGEN_MIN_FRAME, SL_XDPGEN_MAX_FRAME, SL_XDPGEN_BATCH,
		SL_XDPGEN_BATCH);
}

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "sl-xdpgen: %s '%s': %s\n", opt, val, why);
	return -EINVAL;
}

/* An unsigned number with an optional k/M/G suffix, at most max. */
static int
parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	double d;
	char *end;

	errno = 0;
	if (strpbrk(s, "kMG") != NULL) {
		d = strtod(s, &end);
		if (end == s || d < 0 || end[1] != '\0')
			return bad(opt, s, "not a number");
		d *= end[0] == 'k' ? 1e3 : end[0] == 'M' ? 1e6 : 1e9;
		if (d > (double)max)
			goto range;
		*out = (uint64_t)(d + 0.5);
		return 0;
	}
	if (s[0] == '-')
		return bad(opt, s, "must not be negative");
	v = strtoull(s, &end, 0);
	if (end == s || *end != '\0' || errno != 0)
		return bad(opt, s, "not a number");
	if (v > max)
		goto range;
	*out = v;
	return 0;
range:
	fprintf(stderr, "sl-xdpgen: %s '%s': at most %" PRIu64 "\n", opt, s,
		max);
	return -ERANGE;
}

static int
parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &end) != 6)
		return bad(opt, s, "not a MAC address (aa:bb:cc:dd:ee:ff)");
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return bad(opt, s, "not a MAC address");
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int
parse_ip(const char *opt, const char *s, uint32_t *ip)
{
	if (inet_pton(AF_INET, s, ip) != 1 || *ip == 0)
		return bad(opt, s, "not an IPv4 address");
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	enum {
		O_DEV = 256,
		O_REDIR,
		O_SMAC,
		O_DMAC,
		O_SIP,
		O_DIP,
		O_SPORT,
		O_DPORT,
		O_SIZE,
		O_FLOWS,
		O_FIELD,
		O_RATE,
		O_BURST,
		O_BATCH,
		O_SECS,
		O_COUNT,
		O_CPU,
		O_JSON,
		O_LOG,
		O_HELP,
	};
	static const struct option lo[] = {
		{"dev", 1, NULL, O_DEV},
		{"redirect", 1, NULL, O_REDIR},
		{"src-mac", 1, NULL, O_SMAC},
		{"dst-mac", 1, NULL, O_DMAC},
		{"src-ip", 1, NULL, O_SIP},
		{"dst-ip", 1, NULL, O_DIP},
		{"sport", 1, NULL, O_SPORT},
		{"dport", 1, NULL, O_DPORT},
		{"size", 1, NULL, O_SIZE},
		{"flows", 1, NULL, O_FLOWS},
		{"flow-field", 1, NULL, O_FIELD},
		{"rate", 1, NULL, O_RATE},
		{"burst", 1, NULL, O_BURST},
		{"batch", 1, NULL, O_BATCH},
		{"seconds", 1, NULL, O_SECS},
		{"count", 1, NULL, O_COUNT},
		{"cpu", 1, NULL, O_CPU},
		{"json", 0, NULL, O_JSON},
		{"log", 1, NULL, O_LOG},
		{"help", 0, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	uint64_t v = 0;
	char *end;
	int c, err = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_DEV:
			o->cfg.ifname = optarg;
			break;
		case O_REDIR:
			o->cfg.redirect_ifname = optarg;
			break;
		case O_SMAC:
			err = parse_mac("--src-mac", optarg, o->cfg.src_mac);
			break;
		case O_DMAC:
			err = parse_mac("--dst-mac", optarg, o->cfg.dst_mac);
			break;
		case O_SIP:
			err = parse_ip("--src-ip", optarg, &o->cfg.src_ip);
			break;
		case O_DIP:
			err = parse_ip("--dst-ip", optarg, &o->cfg.dst_ip);
			break;
		case O_SPORT:
		case O_DPORT:
			err = parse_u64(c == O_SPORT ? "--sport" : "--dport",
					optarg, 65535, &v);
			if (err == 0 && v == 0)
				err = bad(c == O_SPORT ? "--sport" : "--dport",
					  optarg, "must be 1..65535");
			if (c == O_SPORT)
				o->cfg.src_port = (uint16_t)v;
			else
				o->cfg.dst_port = (uint16_t)v;
			break;
		case O_SIZE:
			err = parse_u64("--size", optarg, 65535, &v);
			if (err == 0 && (v < SL_XDPGEN_MIN_FRAME ||
					 v > SL_XDPGEN_MAX_FRAME)) {
				fprintf(stderr,
					"sl-xdpgen: --size '%s': must be %d "
					"to %d bytes\n",
					optarg, SL_XDPGEN_MIN_FRAME,
					SL_XDPGEN_MAX_FRAME);
				err = -EINVAL;
			}
			o->cfg.frame_size = (uint16_t)v;
			break;
		case O_FLOWS:
			err = parse_u64("--flows", optarg, 65536, &v);
			if (err == 0 && v == 0)
				err = bad("--flows", optarg, "must be >= 1");
			o->cfg.flows = (uint32_t)v;
			break;
		case O_FIELD:
			if (strcmp(optarg, "sport") == 0)
				o->cfg.flow_field = SL_XDPGEN_FLOW_SPORT;
			else if (strcmp(optarg, "src-ip") == 0)
				o->cfg.flow_field = SL_XDPGEN_FLOW_SRC_IP;
			else if (strcmp(optarg, "both") == 0)
				o->cfg.flow_field = SL_XDPGEN_FLOW_BOTH;
			else
				err = bad("--flow-field", optarg,
					  "must be sport, src-ip or both");
			break;
		case O_RATE:
			err = parse_u64("--rate", optarg, 1000000000, &v);
			o->cfg.rate_pps = v;
			break;
		case O_BURST:
			err = parse_u64("--burst", optarg, 1u << 24, &v);
			o->cfg.burst = (uint32_t)v;
			break;
		case O_BATCH:
			err = parse_u64("--batch", optarg, SL_XDPGEN_BATCH, &v);
			if (err == 0 && v == 0)
				err = bad("--batch", optarg, "must be >= 1");
			o->cfg.batch_size = (uint32_t)v;
			break;
		case O_SECS:
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    !(o->seconds > 0) || o->seconds > 1e6)
				err = bad("--seconds", optarg,
					  "must be a number of seconds > 0");
			break;
		case O_COUNT:
			err = parse_u64("--count", optarg, UINT64_MAX, &v);
			if (err == 0 && v == 0)
				err = bad("--count", optarg, "must be >= 1");
			o->count = v;
			break;
		case O_CPU:
			err = parse_u64("--cpu", optarg, 65535, &v);
			o->cpu = (int)v;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_LOG:
			if (sl_log_set_levels(optarg) < 0)
				err = bad("--log", optarg, "not a level list");
			break;
		case 'h':
		case O_HELP:
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
		fprintf(stderr, "sl-xdpgen: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (o->cfg.ifname == NULL) {
		fprintf(stderr, "sl-xdpgen: --dev is required (see --help)\n");
		return -EINVAL;
	}
	if (o->count == 0 && o->seconds == 0)
		o->seconds = 10;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {.cpu = -1};
	struct sl_xdpgen_stats st;
	struct sigaction sa;
	int err, rc = 0;
	double mpps;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (o.cpu >= 0) {
		err = sl_cpu_pin(o.cpu);
		if (err < 0) {
			fprintf(stderr, "sl-xdpgen: pinning to CPU %d: %s\n",
				o.cpu, sl_strerror(err));
			return 1;
		}
	}
	gen = sl_xdpgen_create(&o.cfg);
	if (gen == NULL) {
		fprintf(stderr, "sl-xdpgen: cannot generate on %s: %s\n",
			o.cfg.ifname, strerror(errno));
		return 1;
	}
	/* no SA_RESTART: a signal interrupts the kernel's run */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = sl_xdpgen_run(gen, o.count, o.seconds, &st);
	if (err < 0) {
		fprintf(stderr, "sl-xdpgen: run on %s failed: %s\n",
			o.cfg.ifname, sl_strerror(err));
		rc = 1;
	}
	if (err < 0 && sl_xdpgen_stats_get(gen, &st) < 0)
		memset(&st, 0, sizeof(st));
	mpps = st.seconds > 0 ? (double)st.sent / st.seconds / 1e6 : 0.0;
	if (o.json)
		printf("{\"dev\":\"%s\",\"sent\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"paced\":%" PRIu64 ",\"limited\":%" PRIu64
		       ",\"calls\":%" PRIu64 ",\"seconds\":%.6f,\"mpps\":%.4f"
		       ",\"rate_pps\":%" PRIu64 ",\"count\":%" PRIu64
		       ",\"frame_size\":%u,\"flows\":%u}\n",
		       o.cfg.ifname, st.sent, st.bytes, st.paced, st.limited,
		       st.calls, st.seconds, mpps, o.cfg.rate_pps, o.count,
		       o.cfg.frame_size ? o.cfg.frame_size : 64,
		       o.cfg.flows ? o.cfg.flows : 1);
	else
		printf("sl-xdpgen %s: sent %" PRIu64 " frames (%" PRIu64
		       " bytes) in %.3f s: %.3f Mpps; paced out %" PRIu64
		       ", over the count %" PRIu64 "; %" PRIu64 " calls\n",
		       o.cfg.ifname, st.sent, st.bytes, st.seconds, mpps,
		       st.paced, st.limited, st.calls);
	if (o.count != 0 && st.sent < o.count) {
		if (rc == 0)
			fprintf(stderr,
				"sl-xdpgen: sent %" PRIu64 " of %" PRIu64
				" frames before %s\n",
				st.sent, o.count,
				o.seconds > 0 ? "the deadline"
					      : "being stopped");
		rc = 1;
	}
	sl_xdpgen_destroy(gen);
	return rc;
}
