/*
 * sluice-txgen settings: built-in defaults, then options{} of the
 * configuration, then the command line, then the checks that need all
 * of them (txgen_opts_finish()). Every value goes through
 * txgen_opt_set(), so the file and the flags accept the same things.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sl_log.h>
#ifdef TXGEN_HAVE_XDPGEN
#include <sluice/sl_xdpgen.h>
#endif

#include "txgen.h"

/* Keys of options{} (the same names as the long flags, except duration,
 * which is also --seconds). max-loss is a flag only: options{} has no
 * fractional numbers. */
const char *const txgen_option_keys[] = {
	"proto",     "family", "size",	     "flows",	 "rate",
	"duration",  "count",  "burst",	     "src-mac",	 "dst-mac",
	"src-ip",    "dst-ip", "src-port",   "dst-port", "tx-lports",
	"rx-lports", "engine", "xdp-ifname", "json",	 "interval",
	NULL,
};

/* 198.18.0.0/15 (RFC 2544): the sources of 65536 flows, 198.18.0.1 to
 * 198.19.0.0, never reach the destination */
static const uint8_t default_src4[4] = {198, 18, 0, 1};
static const uint8_t default_dst4[4] = {198, 19, 0, 1};
/* 2001:2::/48 (RFC 5180): sources in 2001:2::/64, the destination in
 * 2001:2:0:1::/64 */
static const uint8_t default_src6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0,
					 0,    0,    0,	   0,	 0, 0, 0, 1};
static const uint8_t default_dst6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 1,
					 0,    0,    0,	   0,	 0, 0, 0, 1};

const char *
txgen_engine_name(enum txgen_engine e)
{
	return e == TXGEN_ENGINE_XDP ? "xdp" : "pktdev";
}

void
txgen_opts_init(struct txgen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pkt.proto = TXGEN_PROTO_UDP;
	o->pkt.family = 4;
	o->pkt.size = TXGEN_MIN_FRAME;
	o->pkt.flows = 1;
	memset(o->pkt.dst_mac, 0xff, 6);
	o->pkt.src_port = 9000;
	o->pkt.dst_port = 9001;
	o->burst = 32;
	o->interval = 1;
	o->max_loss = -1;
	o->engine = TXGEN_ENGINE_PKTDEV;
}

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An unsigned number, with an optional k, M or G suffix (1.5M). */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	double d, mul = 1;
	char *end;

	if (s[0] == '\0' || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == '\0') {
		if (errno != 0 || v > max)
			return -ERANGE;
		*out = v;
		return 0;
	}
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno != 0)
		return -EINVAL;
	if (end[0] != '\0') {
		if (end[1] != '\0')
			return -EINVAL;
		if (end[0] == 'k' || end[0] == 'K')
			mul = 1e3;
		else if (end[0] == 'M')
			mul = 1e6;
		else if (end[0] == 'G')
			mul = 1e9;
		else
			return -EINVAL;
	}
	d *= mul;
	if (d != floor(d))
		return -EINVAL;
	if (!(d >= 0) || d > (double)max)
		return -ERANGE;
	*out = (uint64_t)d;
	return 0;
}

static int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || isnan(d))
		return -EINVAL;
	if (d < min || d > max)
		return -ERANGE;
	*out = d;
	return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6], i;
	int n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &n) != 6 ||
	    s[n] != '\0' || n != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* An IPv4 or IPv6 address: @return its family (4 or 6) or -EINVAL. */
static int
parse_ip(const char *s, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 6;
	return -EINVAL;
}

/* A list of lport names, separated by commas (or one name). */
static int
set_names(const char *key, const char *val, char names[][SL_PORT_NAMESIZE],
	  unsigned *n, char *err, size_t len)
{
	const char *p = val, *comma;
	size_t l;

	while (*p != '\0') {
		comma = strchr(p, ',');
		l = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (l == 0 || l >= SL_PORT_NAMESIZE)
			return fail(err, len,
				    "%s: '%.*s' is not an lport name (1 to %d "
				    "characters)",
				    key, (int)l, p, SL_PORT_NAMESIZE - 1);
		if (*n >= SL_PORT_MAX)
			return fail(err, len, "%s: more than %d lports", key,
				    SL_PORT_MAX);
		memcpy(names[*n], p, l);
		names[*n][l] = '\0';
		(*n)++;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
num_fail(int rc, const char *key, const char *val, const char *range, char *err,
	 size_t len)
{
	return fail(err, len, "%s '%s': %s %s", key, val,
		    rc == -ERANGE ? "out of range: must be" : "must be", range);
}

int
txgen_opt_set(struct txgen_opts *o, const char *key, const char *val, char *err,
	      size_t len)
{
	uint64_t v;
	double d;
	int rc;

	if (strcmp(key, "proto") == 0) {
		if (strcmp(val, "udp") == 0)
			o->pkt.proto = TXGEN_PROTO_UDP;
		else if (strcmp(val, "tcp") == 0)
			o->pkt.proto = TXGEN_PROTO_TCP;
		else if (strcmp(val, "icmp") == 0 || strcmp(val, "icmp6") == 0)
			o->pkt.proto = TXGEN_PROTO_ICMP;
		else
			return fail(err, len,
				    "proto '%s': must be udp, tcp or icmp",
				    val);
	} else if (strcmp(key, "family") == 0) {
		if (strcmp(val, "ipv4") == 0 || strcmp(val, "4") == 0)
			o->pkt.family = 4;
		else if (strcmp(val, "ipv6") == 0 || strcmp(val, "6") == 0)
			o->pkt.family = 6;
		else
			return fail(err, len,
				    "family '%s': must be ipv4 or ipv6", val);
		o->family_set = true;
	} else if (strcmp(key, "size") == 0) {
		rc = parse_u64(val, 65535, &v);
		if (rc < 0 || v == 0)
			return num_fail(rc, key, val, "a frame size in bytes",
					err, len);
		o->pkt.size = (uint32_t)v;
		o->size_set = true;
	} else if (strcmp(key, "flows") == 0) {
		rc = parse_u64(val, TXGEN_MAX_FLOWS, &v);
		if (rc < 0 || v == 0)
			return num_fail(rc, key, val, "1 to 65536", err, len);
		o->pkt.flows = (uint32_t)v;
	} else if (strcmp(key, "rate") == 0) {
		rc = parse_u64(val, 1000000000ull, &v);
		if (rc < 0)
			return num_fail(rc, key, val,
					"packets per second, 0 (unpaced) to "
					"1G",
					err, len);
		o->rate = v;
	} else if (strcmp(key, "duration") == 0) {
		rc = parse_double(val, 0, 1e7, &d);
		if (rc < 0)
			return num_fail(rc, key, val,
					"seconds, 0 (no limit) to 1e7", err,
					len);
		o->duration = d;
		o->duration_set = true;
	} else if (strcmp(key, "count") == 0) {
		rc = parse_u64(val, UINT64_MAX / 2, &v);
		if (rc < 0)
			return num_fail(rc, key, val, "a number of packets",
					err, len);
		o->count = v;
	} else if (strcmp(key, "burst") == 0) {
		rc = parse_u64(val, TXGEN_BURST_MAX, &v);
		if (rc < 0 || v == 0)
			return num_fail(rc, key, val, "1 to 256", err, len);
		o->burst = (uint32_t)v;
	} else if (strcmp(key, "interval") == 0) {
		rc = parse_double(val, 0, 3600, &d);
		if (rc < 0 || (d > 0 && d < 0.01))
			return num_fail(rc, key, val,
					"seconds, 0 (none) or 0.01 to 3600",
					err, len);
		o->interval = d;
	} else if (strcmp(key, "max-loss") == 0) {
		rc = parse_double(val, 0, 100, &d);
		if (rc < 0)
			return num_fail(rc, key, val, "a percentage, 0 to 100",
					err, len);
		o->max_loss = d;
	} else if (strcmp(key, "src-port") == 0 ||
		   strcmp(key, "dst-port") == 0) {
		rc = parse_u64(val, 65535, &v);
		if (rc < 0)
			return num_fail(rc, key, val, "0 to 65535", err, len);
		if (key[0] == 's')
			o->pkt.src_port = (uint16_t)v;
		else
			o->pkt.dst_port = (uint16_t)v;
	} else if (strcmp(key, "src-mac") == 0 || strcmp(key, "dst-mac") == 0) {
		if (parse_mac(val, key[0] == 's' ? o->pkt.src_mac
						 : o->pkt.dst_mac) < 0)
			return fail(err, len,
				    "%s '%s': not a MAC address "
				    "(xx:xx:xx:xx:xx:xx)",
				    key, val);
		if (key[0] == 's')
			o->src_mac_set = true;
	} else if (strcmp(key, "src-ip") == 0 || strcmp(key, "dst-ip") == 0) {
		rc = parse_ip(val,
			      key[0] == 's' ? o->pkt.src_ip : o->pkt.dst_ip);
		if (rc < 0)
			return fail(err, len,
				    "%s '%s': not an IPv4 or IPv6 address", key,
				    val);
		if (key[0] == 's') {
			o->src_ip_set = true;
			o->src_ip_family = rc;
		} else {
			o->dst_ip_set = true;
			o->dst_ip_family = rc;
		}
	} else if (strcmp(key, "engine") == 0) {
		if (strcmp(val, "pktdev") == 0)
			o->engine = TXGEN_ENGINE_PKTDEV;
		else if (strcmp(val, "xdp") == 0)
			o->engine = TXGEN_ENGINE_XDP;
		else
			return fail(err, len,
				    "engine '%s': must be pktdev or xdp", val);
	} else if (strcmp(key, "xdp-ifname") == 0) {
		if (val[0] == '\0' || strlen(val) >= TXGEN_IFNAMSIZ)
			return fail(err, len,
				    "xdp-ifname '%s': not a device name", val);
		snprintf(o->xdp_ifname, sizeof(o->xdp_ifname), "%s", val);
	} else if (strcmp(key, "json") == 0) {
		if (strcmp(val, "true") == 0 || strcmp(val, "yes") == 0)
			o->json = true;
		else if (strcmp(val, "false") == 0 || strcmp(val, "no") == 0)
			o->json = false;
		else
			return fail(err, len,
				    "json '%s': must be true or false", val);
	} else if (strcmp(key, "tx-lports") == 0) {
		o->ntx_names = 0;
		return set_names(key, val, o->tx_names, &o->ntx_names, err,
				 len);
	} else if (strcmp(key, "rx-lports") == 0) {
		o->nrx_names = 0;
		o->rx_none = strcmp(val, "none") == 0;
		if (o->rx_none)
			return 0;
		return set_names(key, val, o->rx_names, &o->nrx_names, err,
				 len);
	} else {
		return fail(err, len, "unknown setting '%s'", key);
	}
	return 0;
}

/* options.<key> as a list of lport names (an array, or one string). */
static int
names_from_config(struct txgen_opts *o, const struct sl_config *cfg,
		  const char *key)
{
	const char *const *v;
	char msg[160];
	unsigned n, i;
	bool rx = key[0] == 'r';
	int rc;

	rc = sl_config_opt_strv(cfg, key, &v, &n);
	if (rc < 0 || n == 0)
		return rc;
	if (rx) {
		o->nrx_names = 0;
		o->rx_none = n == 1 && strcmp(v[0], "none") == 0;
		if (o->rx_none)
			return 0;
	} else {
		o->ntx_names = 0;
	}
	for (i = 0; i < n; i++) {
		if (strchr(v[i], ',') != NULL)
			rc = fail(msg, sizeof(msg), "'%s' is not an lport name",
				  v[i]);
		else
			rc = set_names(key, v[i],
				       rx ? o->rx_names : o->tx_names,
				       rx ? &o->nrx_names : &o->ntx_names, msg,
				       sizeof(msg));
		if (rc < 0) {
			sl_config_opt_error(cfg, key, (int)i, "%s", msg);
			return rc;
		}
	}
	return 0;
}

int
txgen_opts_from_config(struct txgen_opts *o, const struct sl_config *cfg)
{
	static const char *const strs[] = {"proto",   "family",	   "src-mac",
					   "dst-mac", "src-ip",	   "dst-ip",
					   "engine",  "xdp-ifname"};
	static const struct {
		const char *key;
		int64_t min, max;
	} nums[] = {
		{"size", 1, 65535},	     {"flows", 1, TXGEN_MAX_FLOWS},
		{"rate", 0, 1000000000},     {"duration", 0, 10000000},
		{"count", 0, INT64_MAX / 2}, {"burst", 1, TXGEN_BURST_MAX},
		{"src-port", 0, 65535},	     {"dst-port", 0, 65535},
		{"interval", 0, 3600},
	};
	char msg[160], buf[32];
	const char *s;
	int64_t v;
	unsigned i;
	int rc, err = 0;

	if (sl_config_options_check(cfg, txgen_option_keys) < 0)
		err = -EINVAL;
	for (i = 0; i < SL_DIM(strs); i++) {
		s = NULL;
		rc = sl_config_opt_str(cfg, strs[i], NULL, &s);
		if (rc < 0) {
			err = rc;
			continue;
		}
		if (s == NULL)
			continue;
		if (txgen_opt_set(o, strs[i], s, msg, sizeof(msg)) < 0) {
			sl_config_opt_error(cfg, strs[i], -1, "%s", msg);
			err = -EINVAL;
		}
	}
	for (i = 0; i < SL_DIM(nums); i++) {
		rc = sl_config_opt_int(cfg, nums[i].key, INT64_MIN, nums[i].min,
				       nums[i].max, &v);
		if (rc < 0) {
			err = rc;
			continue;
		}
		if (v == INT64_MIN)
			continue;
		snprintf(buf, sizeof(buf), "%" PRId64, v);
		if (txgen_opt_set(o, nums[i].key, buf, msg, sizeof(msg)) < 0) {
			sl_config_opt_error(cfg, nums[i].key, -1, "%s", msg);
			err = -EINVAL;
		}
	}
	rc = sl_config_opt_bool(cfg, "json", o->json, &o->json);
	if (rc < 0)
		err = rc;
	rc = names_from_config(o, cfg, "tx-lports");
	if (rc < 0)
		err = rc;
	rc = names_from_config(o, cfg, "rx-lports");
	if (rc < 0)
		err = rc;
	return err;
}

static void opt_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
opt_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, TXGEN_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Mark the lports named (all lports of the threads when none is named)
 * in role; each must belong to a thread (owner[] >= 0). */
static int
resolve_names(const struct sl_config *cfg, const int *owner, const char *key,
	      char names[][SL_PORT_NAMESIZE], unsigned n, bool *role)
{
	unsigned i;
	int idx, err = 0;

	if (n == 0) {
		for (i = 0; i < cfg->nlports && i < SL_PORT_MAX; i++)
			role[i] = owner[i] >= 0;
		return 0;
	}
	for (i = 0; i < n; i++) {
		idx = sl_config_lport_find(cfg, names[i]);
		if (idx < 0) {
			opt_error("%s: no lport '%s' in the configuration", key,
				  names[i]);
			err = -EINVAL;
		} else if (owner[idx] < 0) {
			opt_error("%s: lport '%s' belongs to no thread", key,
				  names[i]);
			err = -EINVAL;
		} else {
			role[idx] = true;
		}
	}
	return err;
}

int
txgen_opts_finish(struct txgen_opts *o, const struct sl_config *cfg)
{
	int owner[SL_PORT_MAX];
	unsigned i, k, hdr, min, ntx = 0, nrx = 0;
	const struct sl_config_thread *th;
	const struct sl_config_umem *u;
	uint32_t room;
	int err = 0;

	/* addresses: defaults of the family; those given must match it */
	/* without a family, IPv6 addresses (and no IPv4 one) choose it */
	if (!o->family_set && (o->src_ip_set || o->dst_ip_set) &&
	    (!o->src_ip_set || o->src_ip_family == 6) &&
	    (!o->dst_ip_set || o->dst_ip_family == 6))
		o->pkt.family = 6;
	if (o->src_ip_set && o->src_ip_family != o->pkt.family) {
		opt_error("src-ip is an IPv%d address but the family is ipv%d",
			  o->src_ip_family, o->pkt.family);
		err = -EINVAL;
	}
	if (o->dst_ip_set && o->dst_ip_family != o->pkt.family) {
		opt_error("dst-ip is an IPv%d address but the family is ipv%d",
			  o->dst_ip_family, o->pkt.family);
		err = -EINVAL;
	}
	if (!o->src_ip_set)
		memcpy(o->pkt.src_ip,
		       o->pkt.family == 6 ? default_src6 : default_src4,
		       o->pkt.family == 6 ? 16 : 4);
	if (!o->dst_ip_set)
		memcpy(o->pkt.dst_ip,
		       o->pkt.family == 6 ? default_dst6 : default_dst4,
		       o->pkt.family == 6 ? 16 : 4);

	/* size: the headers and the stamp must fit */
	hdr = txgen_pkt_hdr_len(o->pkt.proto, o->pkt.family);
	min = txgen_pkt_min_size(o->pkt.proto, o->pkt.family);
	if (!o->size_set) {
		o->pkt.size = min;
	} else if (o->pkt.size < min) {
		opt_error("size %u is too small for %s/ipv%d: at least %u "
			  "bytes (%u of headers, %d of txgen stamp, %d "
			  "at least)",
			  o->pkt.size, txgen_proto_name(o->pkt.proto),
			  o->pkt.family, min, hdr, TXGEN_STAMP_LEN,
			  TXGEN_MIN_FRAME);
		err = -EINVAL;
	}

	/* lports: each of one thread; roles from tx-lports / rx-lports */
	if (cfg->nlports > SL_PORT_MAX) {
		opt_error("more than %d lports", SL_PORT_MAX);
		return -EINVAL;
	}
	for (i = 0; i < SL_PORT_MAX; i++)
		owner[i] = -1;
	for (i = 0; i < cfg->nthreads; i++) {
		th = &cfg->threads[i];
		for (k = 0; k < th->nlports; k++) {
			if (owner[th->lports[k]] >= 0) {
				opt_error(
					"lport '%s' is in threads '%s' and "
					"'%s': give each lport one thread",
					cfg->lports[th->lports[k]].name,
					cfg->threads[owner[th->lports[k]]].name,
					th->name);
				err = -EINVAL;
			}
			owner[th->lports[k]] = (int)i;
		}
	}
	memset(o->is_tx, 0, sizeof(o->is_tx));
	memset(o->is_rx, 0, sizeof(o->is_rx));
	if (resolve_names(cfg, owner, "tx-lports", o->tx_names, o->ntx_names,
			  o->is_tx) < 0)
		err = -EINVAL;
	if (!o->rx_none && resolve_names(cfg, owner, "rx-lports", o->rx_names,
					 o->nrx_names, o->is_rx) < 0)
		err = -EINVAL;
	o->max_size = 65535;
	for (i = 0; i < cfg->nlports; i++) {
		ntx += o->is_tx[i];
		nrx += o->is_rx[i];
		if (!o->is_tx[i] || o->engine != TXGEN_ENGINE_PKTDEV)
			continue;
		u = &cfg->umems[cfg->lports[i].umem];
		room = u->bufsz > SL_MBUF_META_SIZE + SL_MBUF_HEADROOM
			       ? u->bufsz - SL_MBUF_META_SIZE - SL_MBUF_HEADROOM
			       : 0;
		if (room < o->max_size)
			o->max_size = room;
		if (o->pkt.size > room) {
			opt_error("size %u does not fit the buffers of umem "
				  "'%s' (tx lport '%s'): at most %u bytes "
				  "(bufsz %u - %d of mbuf - %d of headroom)",
				  o->pkt.size, u->name, cfg->lports[i].name,
				  room, u->bufsz, SL_MBUF_META_SIZE,
				  SL_MBUF_HEADROOM);
			err = -EINVAL;
		}
	}
	if (ntx == 0 && !(o->engine == TXGEN_ENGINE_XDP && o->xdp_ifname[0])) {
		opt_error("nothing to send: no tx lport (tx-lports, or the "
			  "lports of the threads)");
		err = -EINVAL;
	}
	if (o->max_loss >= 0 && nrx == 0) {
		opt_error("max-loss needs lports that receive (rx-lports)");
		err = -EINVAL;
	}

	/* the XDP live-frames engine sends what sl_xdpgen can make */
	if (o->engine == TXGEN_ENGINE_XDP) {
#ifdef TXGEN_HAVE_XDPGEN
		if (o->pkt.proto != TXGEN_PROTO_UDP || o->pkt.family != 4) {
			opt_error("engine xdp sends IPv4 UDP frames only "
				  "(sl_xdpgen): not %s/ipv%d; use engine "
				  "pktdev",
				  txgen_proto_name(o->pkt.proto),
				  o->pkt.family);
			err = -EINVAL;
		}
		if (o->pkt.size > SL_XDPGEN_MAX_FRAME) {
			opt_error("engine xdp: size %u is above %d, the "
				  "largest frame of sl_xdpgen",
				  o->pkt.size, SL_XDPGEN_MAX_FRAME);
			err = -EINVAL;
		}
		if (o->xdp_ifname[0] == '\0') {
			for (i = 0; i < cfg->nlports; i++)
				if (o->is_tx[i])
					break;
			if (i < cfg->nlports && cfg->lports[i].netdev[0] &&
			    strlen(cfg->lports[i].netdev) < TXGEN_IFNAMSIZ)
				memcpy(o->xdp_ifname, cfg->lports[i].netdev,
				       strlen(cfg->lports[i].netdev) + 1);
			else if (ntx != 0) {
				opt_error("engine xdp: no device to send on: "
					  "give xdp-ifname");
				err = -EINVAL;
			}
		}
#else
		opt_error("engine xdp: this build of sluice has no XDP "
			  "support (%s)",
			  TXGEN_XDPGEN_MISSING);
		err = -EINVAL;
#endif
	} else if (o->xdp_ifname[0] != '\0') {
		opt_error("xdp-ifname is for engine xdp only");
		err = -EINVAL;
	}

	if (!o->duration_set && o->count == 0)
		o->duration = 10;
	return err;
}

static void
print_names(FILE *out, const struct sl_config *cfg, const bool *role)
{
	const char *sep = "";
	unsigned i;

	fputc('[', out);
	for (i = 0; i < cfg->nlports && i < SL_PORT_MAX; i++)
		if (role[i]) {
			fprintf(out, "%s\"%s\"", sep, cfg->lports[i].name);
			sep = ", ";
		}
	fputc(']', out);
}

static void
print_ip(FILE *out, const char *key, int family, const uint8_t *ip)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, ip, s, sizeof(s));
	fprintf(out, "    \"%s\": \"%s\",\n", key, s);
}

static void
print_mac(FILE *out, const char *key, const uint8_t *m)
{
	fprintf(out, "    \"%s\": \"%02x:%02x:%02x:%02x:%02x:%02x\",\n", key,
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

void
txgen_opts_print(const struct txgen_opts *o, const struct sl_config *cfg,
		 FILE *out)
{
	fprintf(out, "{\n  \"txgen\": {\n");
	fprintf(out, "    \"engine\": \"%s\",\n", txgen_engine_name(o->engine));
	if (o->engine == TXGEN_ENGINE_XDP)
		fprintf(out, "    \"xdp-ifname\": \"%s\",\n", o->xdp_ifname);
	fprintf(out, "    \"proto\": \"%s\",\n",
		txgen_proto_name(o->pkt.proto));
	fprintf(out, "    \"family\": \"ipv%d\",\n", o->pkt.family);
	fprintf(out, "    \"size\": %u,\n", o->pkt.size);
	fprintf(out, "    \"flows\": %u,\n", o->pkt.flows);
	fprintf(out, "    \"rate\": %" PRIu64 ",\n", o->rate);
	fprintf(out, "    \"duration\": %g,\n", o->duration);
	fprintf(out, "    \"count\": %" PRIu64 ",\n", o->count);
	fprintf(out, "    \"burst\": %u,\n", o->burst);
	if (o->src_mac_set)
		print_mac(out, "src-mac", o->pkt.src_mac);
	else
		fprintf(out, "    \"src-mac\": \"(the tx lport's)\",\n");
	print_mac(out, "dst-mac", o->pkt.dst_mac);
	print_ip(out, "src-ip", o->pkt.family, o->pkt.src_ip);
	print_ip(out, "dst-ip", o->pkt.family, o->pkt.dst_ip);
	fprintf(out, "    \"src-port\": %u,\n", o->pkt.src_port);
	fprintf(out, "    \"dst-port\": %u,\n", o->pkt.dst_port);
	fprintf(out, "    \"tx-lports\": ");
	print_names(out, cfg, o->is_tx);
	fprintf(out, ",\n    \"rx-lports\": ");
	print_names(out, cfg, o->is_rx);
	fprintf(out, ",\n    \"interval\": %g,\n", o->interval);
	if (o->max_loss >= 0)
		fprintf(out, "    \"max-loss\": %g,\n", o->max_loss);
	fprintf(out, "    \"json\": %s\n  }\n}\n", o->json ? "true" : "false");
}
