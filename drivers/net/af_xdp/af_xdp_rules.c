/*
 * Steering rules of net_af_xdp (sluice/sl_steer.h): their text form, their
 * checks, and their run-time updates in the maps of steer.bpf.c (layouts
 * in bpf/steer.h) on the devices this process attached the program to
 * (af_xdp_prog.c).
 *
 * The maps are the only state: a rule exists while its slot's bit is set
 * in steer_cfg.active. Every change keeps each packet's verdict that of
 * either the old or the new rule set:
 *   add:    write the slot (and zero its counters) while it is not
 *           published, add the rule's bit to the prefix masks (a bit that
 *           is not active is ignored), then publish it by writing
 *           steer_cfg with the bit set;
 *   delete: unpublish (steer_cfg without the bit), wait until no run of
 *           the program can still be reading the rule (an RCU grace
 *           period, see axr_wait()), then clear the slot and the masks.
 * The prefix masks are recomputed from the published rules (plus the one
 * being added): each trie entry holds the rules whose prefix contains it,
 * so any single trie update leaves every lookup consistent for the rules
 * that are active.
 *
 * Without net_af_xdp (no libbpf/libxdp/clang at build time) only the text
 * form works; the other calls answer -ENOTSUP.
 */
#define SL_LOG_MODULE "steer"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "sluice/sl_common.h"
#include "sluice/sl_log.h"
#include "sluice/sl_steer.h"

#define AXR_ETH_P_IP 0x0800
#define AXR_ETH_P_IPV6 0x86dd
#define AXR_ETH_P_ARP 0x0806
#define AXR_TOKEN_MAX 64 /* longest word of the text form */

/* ---- text form and checks ------------------------------------------------ */

static const struct {
	const char *name;
	uint16_t type;
} axr_ethertypes[] = {
	{"ip", AXR_ETH_P_IP},
	{"ip4", AXR_ETH_P_IP},
	{"ip6", AXR_ETH_P_IPV6},
	{"arp", AXR_ETH_P_ARP},
};

static const struct {
	const char *name;
	uint8_t proto;
} axr_protos[] = {
	{"udp", 17},   {"tcp", 6},  {"sctp", 132}, {"icmp", 1},
	{"icmp6", 58}, {"gre", 47}, {"ospf", 89},
};

static const char *const axr_actions[] = {
	[SL_STEER_XSK] = "xsk",
	[SL_STEER_PASS] = "pass",
	[SL_STEER_DROP] = "drop",
};

const char *
sl_steer_action_name(enum sl_steer_action action)
{
	return (unsigned)action < SL_DIM(axr_actions) ? axr_actions[action]
						      : "?";
}

static bool
axr_port_proto(uint8_t proto)
{
	return proto == 0 || proto == 17 || proto == 6 || proto == 132;
}

static bool
axr_ip_ethertype(uint16_t et)
{
	return et == 0 || et == AXR_ETH_P_IP || et == AXR_ETH_P_IPV6;
}

static unsigned
axr_family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

int
sl_steer_rule_check(const struct sl_steer_rule *r)
{
	if (r == NULL) {
		SL_ERR("rule: NULL");
		return -EINVAL;
	}
	if (r->prio != SL_STEER_PRIO_AUTO &&
	    (r->prio < 0 || r->prio >= SL_STEER_MAX_RULES)) {
		SL_ERR("rule: priority %d: 0 to %d, or SL_STEER_PRIO_AUTO",
		       r->prio, SL_STEER_MAX_RULES - 1);
		return -EINVAL;
	}
	if ((unsigned)r->action >= SL_DIM(axr_actions)) {
		SL_ERR("rule: action %d: xsk (0), pass (1) or drop (2)",
		       (int)r->action);
		return -EINVAL;
	}
	if (r->kind != SL_STEER_KIND_MATCH &&
	    r->kind != SL_STEER_KIND_TRANSIT) {
		SL_ERR("rule: kind %d: match (0) or transit (1)", (int)r->kind);
		return -EINVAL;
	}
	if (r->dst_family != 0 && r->dst_family != AF_INET &&
	    r->dst_family != AF_INET6) {
		SL_ERR("rule: destination family %u: AF_INET or AF_INET6",
		       r->dst_family);
		return -EINVAL;
	}
	if (r->dst_family != 0 &&
	    r->dst_plen > axr_family_bits(r->dst_family)) {
		SL_ERR("rule: prefix length %u: 0 to %u for %s", r->dst_plen,
		       axr_family_bits(r->dst_family),
		       r->dst_family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	if (r->dst_family != 0 && r->ethertype != 0 &&
	    r->ethertype != (r->dst_family == AF_INET ? AXR_ETH_P_IP
						      : AXR_ETH_P_IPV6)) {
		SL_ERR("rule: an %s destination prefix with ethertype 0x%04x "
		       "never matches",
		       r->dst_family == AF_INET ? "IPv4" : "IPv6",
		       r->ethertype);
		return -EINVAL;
	}
	if ((r->ip_proto != 0 || r->kind == SL_STEER_KIND_TRANSIT) &&
	    !axr_ip_ethertype(r->ethertype)) {
		SL_ERR("rule: %s with ethertype 0x%04x (not IPv4 or IPv6) "
		       "never matches",
		       r->ip_proto != 0 ? "an IP protocol" : "transit",
		       r->ethertype);
		return -EINVAL;
	}
	if (r->port_lo != 0 || r->port_hi != 0) {
		if (r->port_hi == 0 || r->port_lo > r->port_hi) {
			SL_ERR("rule: port range %u-%u: the first port must "
			       "not be above the last, and the last not 0",
			       r->port_lo, r->port_hi);
			return -EINVAL;
		}
		if (!axr_port_proto(r->ip_proto) ||
		    !axr_ip_ethertype(r->ethertype)) {
			SL_ERR("rule: a port range needs UDP, TCP or SCTP, "
			       "not protocol %u",
			       r->ip_proto);
			return -EINVAL;
		}
	}
	return 0;
}

/* A word of the text form: where it starts and its length. */
struct axr_tok {
	const char *s;
	int len;
};

static void __attribute__((format(printf, 3, 4)))
axr_parse_err(const char *text, const struct axr_tok *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t != NULL)
		SL_ERR("rule '%s': '%.*s': %s", text, t->len, t->s, msg);
	else
		SL_ERR("rule '%s': %s", text, msg);
}

static bool
axr_tok_is(const struct axr_tok *t, const char *word)
{
	return (size_t)t->len == strlen(word) &&
	       strncmp(t->s, word, (size_t)t->len) == 0;
}

/* Copy a word to a NUL-terminated buffer; false when it is too long. */
static bool
axr_tok_str(const struct axr_tok *t, char *buf, size_t len)
{
	if ((size_t)t->len >= len)
		return false;
	memcpy(buf, t->s, (size_t)t->len);
	buf[t->len] = '\0';
	return true;
}

/* An unsigned number (decimal, 0x hex) within [0, max] filling the word. */
static bool
axr_tok_num(const struct axr_tok *t, unsigned long max, unsigned long *v)
{
	char buf[AXR_TOKEN_MAX], *end;

	if (!axr_tok_str(t, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9')
		return false;
	errno = 0;
	*v = strtoul(buf, &end, 0);
	return errno == 0 && *end == '\0' && *v <= max;
}

static int
axr_parse_dst(const char *text, const struct axr_tok *t,
	      struct sl_steer_rule *r)
{
	char buf[AXR_TOKEN_MAX], *slash;
	unsigned long plen;
	struct axr_tok pt;
	unsigned bits;

	if (!axr_tok_str(t, buf, sizeof(buf))) {
		axr_parse_err(text, t, "too long for an address/length");
		return -EINVAL;
	}
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, r->dst) == 1) {
		r->dst_family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, r->dst) == 1) {
		r->dst_family = AF_INET6;
	} else {
		axr_parse_err(text, t,
			      "expected an IPv4 or IPv6 address, with an "
			      "optional /length");
		return -EINVAL;
	}
	bits = axr_family_bits(r->dst_family);
	plen = bits;
	if (slash != NULL) {
		pt.s = t->s + (slash + 1 - buf);
		pt.len = t->len - (int)(slash + 1 - buf);
		if (!axr_tok_num(&pt, bits, &plen)) {
			axr_parse_err(text, t,
				      "expected a prefix length of 0 to %u "
				      "after '/'",
				      bits);
			return -EINVAL;
		}
	}
	r->dst_plen = (uint8_t)plen;
	return 0;
}

static int
axr_parse_port(const char *text, const struct axr_tok *t,
	       struct sl_steer_rule *r)
{
	const char *dash = memchr(t->s, '-', (size_t)t->len);
	struct axr_tok a = *t, b = {NULL, 0};
	unsigned long lo, hi;

	if (dash != NULL) {
		a.len = (int)(dash - t->s);
		b.s = dash + 1;
		b.len = t->len - a.len - 1;
	}
	if (!axr_tok_num(&a, 65535, &lo) ||
	    (dash != NULL && !axr_tok_num(&b, 65535, &hi))) {
		axr_parse_err(text, t,
			      "expected a port (1 to 65535) or a range "
			      "FIRST-LAST");
		return -EINVAL;
	}
	if (dash == NULL)
		hi = lo;
	if (hi == 0 || lo > hi) {
		axr_parse_err(text, t, "%s",
			      hi == 0 ? "port 0 cannot be matched alone"
				      : "the first port is above the last");
		return -EINVAL;
	}
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
}

/* The word following a keyword, or an error naming the keyword. */
static const struct axr_tok *
axr_arg(const char *text, const struct axr_tok *toks, unsigned n, unsigned *i,
	const char *what)
{
	if (*i + 1 >= n) {
		axr_parse_err(text, &toks[*i], "expected %s after it", what);
		return NULL;
	}
	return &toks[++*i];
}

#define AXR_TOKS_MAX 24

/* Consistency of the words given, naming them: what the checks of
 * sl_steer_rule_check() say, for the text form. */
static int
axr_parse_coherent(const char *text, const struct sl_steer_rule *r,
		   const struct axr_tok *et, const struct axr_tok *proto,
		   const struct axr_tok *dst, const struct axr_tok *port,
		   const struct axr_tok *transit)
{
	if (dst != NULL && et != NULL &&
	    r->ethertype != (r->dst_family == AF_INET ? AXR_ETH_P_IP
						      : AXR_ETH_P_IPV6)) {
		axr_parse_err(text, dst,
			      "an %s prefix, but '%.*s' selects ethertype "
			      "0x%04x",
			      r->dst_family == AF_INET ? "IPv4" : "IPv6",
			      et->len, et->s, r->ethertype);
		return -EINVAL;
	}
	if (et != NULL && !axr_ip_ethertype(r->ethertype) &&
	    (proto != NULL || port != NULL || transit != NULL)) {
		const struct axr_tok *t = proto != NULL	 ? proto
					  : port != NULL ? port
							 : transit;

		axr_parse_err(text, t,
			      "needs IPv4 or IPv6, but '%.*s' selects "
			      "ethertype 0x%04x",
			      et->len, et->s, r->ethertype);
		return -EINVAL;
	}
	if (port != NULL && !axr_port_proto(r->ip_proto)) {
		axr_parse_err(text, port,
			      "ports need udp, tcp or sctp (or no protocol), "
			      "but '%.*s' is protocol %u",
			      proto->len, proto->s, r->ip_proto);
		return -EINVAL;
	}
	return 0;
}

int
sl_steer_rule_parse(const char *text, struct sl_steer_rule *r)
{
	const struct axr_tok *et = NULL, *proto = NULL, *dst = NULL,
			     *port = NULL, *transit = NULL, *prio = NULL, *a;
	struct axr_tok toks[AXR_TOKS_MAX], *t;
	const char *p;
	unsigned long v;
	unsigned n = 0, i, k;
	bool done;

	if (text == NULL || r == NULL) {
		SL_ERR("rule: NULL %s", text == NULL ? "text" : "rule");
		return -EINVAL;
	}
	for (p = text;;) {
		p += strspn(p, " \t\n");
		if (*p == '\0')
			break;
		if (n == AXR_TOKS_MAX) {
			axr_parse_err(text, NULL, "more than %d words",
				      AXR_TOKS_MAX);
			return -EINVAL;
		}
		toks[n].s = p;
		toks[n].len = (int)strcspn(p, " \t\n");
		p += toks[n].len;
		n++;
	}
	if (n == 0) {
		axr_parse_err(text, NULL,
			      "empty: expected at least an action (xsk, pass "
			      "or drop)");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->prio = SL_STEER_PRIO_AUTO;
	/* the action comes last */
	t = &toks[n - 1];
	for (k = 0; k < SL_DIM(axr_actions); k++)
		if (axr_tok_is(t, axr_actions[k]))
			break;
	if (k == SL_DIM(axr_actions)) {
		axr_parse_err(text, t,
			      "expected the action last: xsk, pass or drop");
		return -EINVAL;
	}
	r->action = (enum sl_steer_action)k;
	for (i = 0; i + 1 < n; i++) {
		t = &toks[i];
		done = false;
		for (k = 0; k < SL_DIM(axr_actions); k++)
			if (axr_tok_is(t, axr_actions[k])) {
				axr_parse_err(text, t,
					      "an action, but the action "
					      "comes last (here '%.*s')",
					      toks[n - 1].len, toks[n - 1].s);
				return -EINVAL;
			}
		for (k = 0; k < SL_DIM(axr_ethertypes) && !done; k++)
			if (axr_tok_is(t, axr_ethertypes[k].name)) {
				if (et != NULL)
					goto twice_et;
				et = t;
				r->ethertype = axr_ethertypes[k].type;
				done = true;
			}
		for (k = 0; k < SL_DIM(axr_protos) && !done; k++)
			if (axr_tok_is(t, axr_protos[k].name)) {
				if (proto != NULL)
					goto twice_proto;
				proto = t;
				r->ip_proto = axr_protos[k].proto;
				done = true;
			}
		if (done)
			continue;
		if (axr_tok_is(t, "ethertype")) {
			if (et != NULL)
				goto twice_et;
			a = axr_arg(text, toks, n - 1, &i,
				    "an ethertype (e.g. 0x88cc)");
			if (a == NULL)
				return -EINVAL;
			if (!axr_tok_num(a, 0xffff, &v) || v < 0x600) {
				axr_parse_err(text, a,
					      "expected an ethertype of "
					      "0x0600 to 0xffff");
				return -EINVAL;
			}
			et = t;
			r->ethertype = (uint16_t)v;
		} else if (axr_tok_is(t, "proto")) {
			if (proto != NULL)
				goto twice_proto;
			a = axr_arg(text, toks, n - 1, &i,
				    "an IP protocol number (1 to 255)");
			if (a == NULL)
				return -EINVAL;
			if (!axr_tok_num(a, 255, &v) || v == 0) {
				axr_parse_err(text, a,
					      "expected an IP protocol number "
					      "of 1 to 255");
				return -EINVAL;
			}
			proto = a;
			r->ip_proto = (uint8_t)v;
		} else if (axr_tok_is(t, "dst")) {
			if (dst != NULL) {
				axr_parse_err(text, t, "given twice");
				return -EINVAL;
			}
			a = axr_arg(text, toks, n - 1, &i,
				    "an address with an optional /length");
			if (a == NULL || axr_parse_dst(text, a, r) < 0)
				return -EINVAL;
			dst = a;
		} else if (axr_tok_is(t, "port")) {
			if (port != NULL) {
				axr_parse_err(text, t, "given twice");
				return -EINVAL;
			}
			a = axr_arg(text, toks, n - 1, &i,
				    "a port or a range FIRST-LAST");
			if (a == NULL || axr_parse_port(text, a, r) < 0)
				return -EINVAL;
			port = a;
		} else if (axr_tok_is(t, "transit")) {
			if (transit != NULL) {
				axr_parse_err(text, t, "given twice");
				return -EINVAL;
			}
			transit = t;
			r->kind = SL_STEER_KIND_TRANSIT;
		} else if (axr_tok_is(t, "prio")) {
			if (prio != NULL) {
				axr_parse_err(text, t, "given twice");
				return -EINVAL;
			}
			a = axr_arg(text, toks, n - 1, &i,
				    "a priority (0 to 63)");
			if (a == NULL)
				return -EINVAL;
			if (!axr_tok_num(a, SL_STEER_MAX_RULES - 1, &v)) {
				axr_parse_err(text, a,
					      "expected a priority of 0 to %d",
					      SL_STEER_MAX_RULES - 1);
				return -EINVAL;
			}
			prio = a;
			r->prio = (int)v;
		} else {
			axr_parse_err(text, t,
				      "unknown word: expected ip, ip6, arp, "
				      "ethertype, udp, tcp, sctp, icmp, "
				      "icmp6, gre, ospf, proto, dst, port, "
				      "transit, prio, or the action (xsk, "
				      "pass, drop) last");
			return -EINVAL;
		}
	}
	if (axr_parse_coherent(text, r, et, proto, dst, port, transit) < 0)
		return -EINVAL;
	return sl_steer_rule_check(r);
twice_et:
	axr_parse_err(text, t, "a second ethertype (after '%.*s')", et->len,
		      et->s);
	return -EINVAL;
twice_proto:
	axr_parse_err(text, t, "a second protocol (after '%.*s')", proto->len,
		      proto->s);
	return -EINVAL;
}

/* Append to buf at *off; false when it does not fit. */
static bool __attribute__((format(printf, 4, 5)))
axr_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return false;
	*off += (size_t)n;
	return true;
}

int
sl_steer_rule_format(const struct sl_steer_rule *r, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	size_t off = 0, k;
	bool ok = true;
	int err;

	err = sl_steer_rule_check(r);
	if (err < 0)
		return err;
	if (buf == NULL || len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (r->prio >= 0)
		ok = axr_put(buf, len, &off, "prio %d ", r->prio);
	if (ok && r->ethertype != 0) {
		for (k = 0; k < SL_DIM(axr_ethertypes); k++)
			if (axr_ethertypes[k].type == r->ethertype)
				break;
		/* "ip4" is an alias: say "ip" */
		ok = k < SL_DIM(axr_ethertypes)
			     ? axr_put(buf, len, &off, "%s ",
				       axr_ethertypes[k].name)
			     : axr_put(buf, len, &off, "ethertype 0x%04x ",
				       r->ethertype);
	}
	if (ok && r->ip_proto != 0) {
		for (k = 0; k < SL_DIM(axr_protos); k++)
			if (axr_protos[k].proto == r->ip_proto)
				break;
		ok = k < SL_DIM(axr_protos) ? axr_put(buf, len, &off, "%s ",
						      axr_protos[k].name)
					    : axr_put(buf, len, &off,
						      "proto %u ", r->ip_proto);
	}
	if (ok && r->dst_family != 0) {
		inet_ntop(r->dst_family, r->dst, addr, sizeof(addr));
		ok = axr_put(buf, len, &off, "dst %s/%u ", addr, r->dst_plen);
	}
	if (ok && r->port_hi != 0)
		ok = r->port_lo == r->port_hi
			     ? axr_put(buf, len, &off, "port %u ", r->port_lo)
			     : axr_put(buf, len, &off, "port %u-%u ",
				       r->port_lo, r->port_hi);
	if (ok && r->kind == SL_STEER_KIND_TRANSIT)
		ok = axr_put(buf, len, &off, "transit ");
	if (ok)
		ok = axr_put(buf, len, &off, "%s",
			     sl_steer_action_name(r->action));
	return ok ? (int)off : -ENOSPC;
}

#ifdef SL_HAVE_AF_XDP
/* ---- the maps of a device ------------------------------------------------ */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "af_xdp_prog.h"
#include "steer.h"

#define AXR_ID_SEQ_MAX ((1u << 26) - 1) /* id = seq * 64 + slot */
#define AXR_GRACE_US 50000 /* wait when no RCU grace period can be had */
#define AXR_DEVS_MAX 64	   /* devices of one call with ifname NULL */

SL_STATIC_ASSERT(STEER_MAX_RULES == SL_STEER_MAX_RULES, "rule slots");
SL_STATIC_ASSERT((int)STEER_ACT_XSK == (int)SL_STEER_XSK &&
			 (int)STEER_ACT_PASS == (int)SL_STEER_PASS &&
			 (int)STEER_ACT_DROP == (int)SL_STEER_DROP,
		 "actions");

/* Rule changes of this process, one at a time (the maps are the state). */
static pthread_mutex_t axr_lock = PTHREAD_MUTEX_INITIALIZER;

/* The device, with a reference, or -ENODEV logged. */
static int
axr_dev(const char *ifname, struct axp_dev **out)
{
	if (ifname == NULL || ifname[0] == '\0') {
		SL_ERR("no device name given");
		return -ENODEV;
	}
	*out = axp_dev_find(ifname);
	if (*out == NULL) {
		SL_ERR("%s: sluice's XDP program is not attached to it by this "
		       "process (no lport of net_af_xdp on a device of that "
		       "name in this network namespace)",
		       ifname);
		return -ENODEV;
	}
	return 0;
}

/* Every device with the program, or the one named; -ENODEV logged. */
static int
axr_devs(const char *ifname, struct axp_dev **devs, unsigned *n)
{
	int err;

	if (ifname != NULL) {
		err = axr_dev(ifname, &devs[0]);
		*n = err == 0 ? 1 : 0;
		return err;
	}
	*n = axp_dev_all(devs, AXR_DEVS_MAX);
	if (*n == 0) {
		SL_ERR("this process has attached sluice's XDP program to no "
		       "device (no lport of net_af_xdp is open)");
		return -ENODEV;
	}
	return 0;
}

static void
axr_devs_put(struct axp_dev **devs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		axp_dev_put(devs[i]);
}

static int
axr_cfg_read(struct axp_dev *d, struct steer_cfg *c)
{
	uint32_t k = 0;
	int err;

	if (bpf_map_lookup_elem(axp_dev_rule_maps(d)->cfg, &k, c) == 0)
		return 0;
	err = -errno;
	SL_ERR("%s: reading steer_cfg: %s", axp_dev_ifname(d),
	       sl_strerror(err));
	return err;
}

static int
axr_cfg_write(struct axp_dev *d, const struct steer_cfg *c)
{
	uint32_t k = 0;
	int err;

	if (bpf_map_update_elem(axp_dev_rule_maps(d)->cfg, &k, c, BPF_ANY) == 0)
		return 0;
	err = -errno;
	SL_ERR("%s: writing steer_cfg: %s", axp_dev_ifname(d),
	       sl_strerror(err));
	return err;
}

/* Every slot; those whose bit is not in active are free, whatever they
 * hold. */
static int
axr_rules_read(struct axp_dev *d, struct steer_rule *rules)
{
	int fd = axp_dev_rule_maps(d)->rules, err;
	uint32_t k;

	for (k = 0; k < STEER_MAX_RULES; k++)
		if (bpf_map_lookup_elem(fd, &k, &rules[k]) < 0) {
			err = -errno;
			SL_ERR("%s: reading steer_rules[%u]: %s",
			       axp_dev_ifname(d), k, sl_strerror(err));
			return err;
		}
	return 0;
}

static int
axr_rule_write(struct axp_dev *d, uint32_t slot, const struct steer_rule *b)
{
	int err;

	if (bpf_map_update_elem(axp_dev_rule_maps(d)->rules, &slot, b,
				BPF_ANY) == 0)
		return 0;
	err = -errno;
	SL_ERR("%s: writing steer_rules[%u]: %s", axp_dev_ifname(d), slot,
	       sl_strerror(err));
	return err;
}

/* Per-CPU counters of one slot: read (sums) or zeroed. */
static int
axr_rstat(struct axp_dev *d, uint32_t slot, uint64_t *pkts, uint64_t *bytes,
	  bool zero)
{
	int fd = axp_dev_rule_maps(d)->rstats;
	int ncpu = libbpf_num_possible_cpus(), c, err = 0;
	struct steer_rstat *v;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	if (zero) {
		if (bpf_map_update_elem(fd, &slot, v, BPF_ANY) < 0)
			err = -errno;
	} else if (bpf_map_lookup_elem(fd, &slot, v) < 0) {
		err = -errno;
	} else {
		*pkts = *bytes = 0;
		for (c = 0; c < ncpu; c++) {
			*pkts += v[c].pkts;
			*bytes += v[c].bytes;
		}
	}
	free(v);
	if (err < 0)
		SL_ERR("%s: %s the counters of slot %u: %s", axp_dev_ifname(d),
		       zero ? "zeroing" : "reading", slot, sl_strerror(err));
	return err;
}

/*
 * Wait until every run of the XDP program that started before the call has
 * ended (an RCU grace period: XDP runs inside RCU read-side sections). The
 * kernel waits for one (synchronize_rcu()) when a map-in-map gets a new
 * inner map, so a throwaway ARRAY_OF_MAPS does it. Where that cannot be
 * made, sleep: a program run lasts microseconds.
 */
static void
axr_wait(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int inner, outer = -1;
	uint32_t k = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(uint32_t),
			       sizeof(uint32_t), 1, NULL);
	if (inner >= 0) {
		o.inner_map_fd = inner;
		outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL,
				       sizeof(uint32_t), sizeof(uint32_t), 1,
				       &o);
	}
	if (outer < 0 || bpf_map_update_elem(outer, &k, &inner, BPF_ANY) < 0) {
		SL_DBG("no map-in-map to wait for an RCU grace period (%s): "
		       "sleeping %d us",
		       sl_strerror(-errno), AXR_GRACE_US);
		usleep(AXR_GRACE_US);
	}
	if (outer >= 0)
		close(outer);
	if (inner >= 0)
		close(inner);
}

static unsigned
axr_fam(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

/* Does the prefix a/alen contain b/blen? */
static bool
axr_contains(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen)
{
	unsigned full = alen / 8, rest = alen % 8;
	uint8_t m;

	if (alen > blen || memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	m = (uint8_t)(0xff << (8 - rest));
	return (a[full] & m) == (b[full] & m);
}

/* A trie key of either family: prefixlen then the address bytes. */
struct axr_lpm_key {
	uint32_t prefixlen;
	uint8_t addr[16];
};

/*
 * Make the trie of family fam (4 or 6) hold, for every distinct prefix of
 * the rules in mask used, the rules of used whose prefix contains it, and
 * nothing else (rules may be NULL when used is 0). Entries are written
 * before stale ones are deleted.
 */
static int
axr_lpm_sync(struct axp_dev *d, const struct steer_rule *rules, uint64_t used,
	     unsigned fam)
{
	const struct axp_rule_maps *m = axp_dev_rule_maps(d);
	int fd = fam == 4 ? m->lpm4 : m->lpm6;
	unsigned alen = fam == 4 ? 4 : 16, n = 0, i, j, s;
	struct axr_lpm_key want[STEER_MAX_RULES], have[2 * STEER_MAX_RULES];
	struct axr_lpm_key k, next;
	uint64_t mask;
	unsigned nh = 0;
	void *prev;
	int err;

	memset(want, 0, sizeof(want));
	for (s = 0; s < STEER_MAX_RULES; s++) {
		if (!(used & (1ULL << s)) || rules[s].dst_family != fam)
			continue;
		for (i = 0; i < n; i++)
			if (want[i].prefixlen == rules[s].dst_plen &&
			    memcmp(want[i].addr, rules[s].dst, alen) == 0)
				break;
		if (i == n) {
			want[n].prefixlen = rules[s].dst_plen;
			memcpy(want[n].addr, rules[s].dst, alen);
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		mask = 0;
		for (s = 0; s < STEER_MAX_RULES; s++)
			if ((used & (1ULL << s)) &&
			    rules[s].dst_family == fam &&
			    axr_contains(rules[s].dst, rules[s].dst_plen,
					 want[i].addr, want[i].prefixlen))
				mask |= 1ULL << s;
		if (bpf_map_update_elem(fd, &want[i], &mask, BPF_ANY) < 0) {
			err = -errno;
			SL_ERR("%s: writing a prefix of steer_lpm%u: %s",
			       axp_dev_ifname(d), fam, sl_strerror(err));
			return err;
		}
	}
	/* the entries no rule needs any more */
	memset(&k, 0, sizeof(k));
	memset(&next, 0, sizeof(next));
	for (prev = NULL; nh < SL_DIM(have); prev = &k) {
		if (bpf_map_get_next_key(fd, prev, &next) < 0)
			break;
		have[nh++] = next;
		k = next;
	}
	for (j = 0; j < nh; j++) {
		for (i = 0; i < n; i++)
			if (want[i].prefixlen == have[j].prefixlen &&
			    memcmp(want[i].addr, have[j].addr, alen) == 0)
				break;
		if (i < n)
			continue;
		if (bpf_map_delete_elem(fd, &have[j]) < 0 && errno != ENOENT) {
			err = -errno;
			SL_ERR("%s: deleting a prefix of steer_lpm%u: %s",
			       axp_dev_ifname(d), fam, sl_strerror(err));
			return err;
		}
	}
	return 0;
}

/* The map form of a checked rule. */
static void
axr_to_bpf(const struct sl_steer_rule *r, unsigned id, struct steer_rule *b)
{
	unsigned alen, i;

	memset(b, 0, sizeof(*b));
	b->id = id;
	b->action = (uint8_t)r->action;
	if (r->ethertype != 0) {
		b->match |= STEER_M_ETHERTYPE;
		b->ethertype = r->ethertype;
	}
	if (r->ip_proto != 0) {
		b->match |= STEER_M_PROTO;
		b->ip_proto = r->ip_proto;
	}
	if (r->port_hi != 0) {
		b->match |= STEER_M_PORT;
		b->port_lo = r->port_lo;
		b->port_hi = r->port_hi;
	}
	if (r->kind == SL_STEER_KIND_TRANSIT)
		b->match |= STEER_M_TRANSIT;
	b->dst_family = (uint8_t)axr_fam(r->dst_family);
	if (b->dst_family != 0) {
		alen = b->dst_family == 4 ? 4 : 16;
		b->dst_plen = r->dst_plen;
		memcpy(b->dst, r->dst, alen);
		/* host bits zero */
		for (i = 0; i < alen; i++) {
			if (i * 8 >= r->dst_plen)
				b->dst[i] = 0;
			else if (i * 8 + 8 > r->dst_plen)
				b->dst[i] &=
					(uint8_t)(0xff << (8 - (r->dst_plen -
								i * 8)));
		}
	}
}

static void
axr_from_bpf(const struct steer_rule *b, unsigned slot, struct sl_steer_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->prio = (int)slot;
	r->action = (enum sl_steer_action)b->action;
	r->ethertype = b->ethertype;
	r->ip_proto = b->ip_proto;
	r->port_lo = b->port_lo;
	r->port_hi = b->port_hi;
	r->kind = (b->match & STEER_M_TRANSIT) ? SL_STEER_KIND_TRANSIT
					       : SL_STEER_KIND_MATCH;
	if (b->dst_family != 0) {
		r->dst_family = b->dst_family == 4 ? AF_INET : AF_INET6;
		r->dst_plen = b->dst_plen;
		memcpy(r->dst, b->dst, sizeof(r->dst));
	}
}

/* The slot of a new rule, or -EEXIST / -ENOSPC logged. */
static int
axr_slot(struct axp_dev *d, const struct sl_steer_rule *r,
	 const struct steer_rule *rules, uint64_t active)
{
	int s;

	if (r->prio != SL_STEER_PRIO_AUTO) {
		if (active & (1ULL << r->prio)) {
			SL_ERR("%s: priority %d is taken by rule %u",
			       axp_dev_ifname(d), r->prio, rules[r->prio].id);
			return -EEXIST;
		}
		return r->prio;
	}
	for (s = STEER_MAX_RULES - 1; s >= 0; s--)
		if (active & (1ULL << s))
			break;
	if (s == STEER_MAX_RULES - 1) {
		SL_ERR("%s: no slot after the last rule (priority %d): give "
		       "the rule a priority",
		       axp_dev_ifname(d), s);
		return -ENOSPC;
	}
	return s + 1;
}

static int
axr_add(struct axp_dev *d, const struct sl_steer_rule *r, unsigned *id)
{
	struct steer_rule rules[STEER_MAX_RULES];
	struct steer_cfg c;
	uint32_t seq;
	uint64_t bit;
	int slot, err;
	unsigned fam;

	err = axr_cfg_read(d, &c);
	if (err == 0)
		err = axr_rules_read(d, rules);
	if (err < 0)
		return err;
	slot = axr_slot(d, r, rules, c.active);
	if (slot < 0)
		return slot;
	bit = 1ULL << slot;
	seq = c.next_id >= AXR_ID_SEQ_MAX ? 1 : c.next_id + 1;
	axr_to_bpf(r, seq * STEER_MAX_RULES + (unsigned)slot, &rules[slot]);
	/* the slot is not published: write it and zero its counters */
	err = axr_rstat(d, (uint32_t)slot, NULL, NULL, true);
	if (err == 0)
		err = axr_rule_write(d, (uint32_t)slot, &rules[slot]);
	fam = rules[slot].dst_family;
	if (err == 0 && fam != 0)
		err = axr_lpm_sync(d, rules, c.active | bit, fam);
	if (err < 0)
		return err;
	/* publish */
	c.next_id = seq;
	c.active |= bit;
	if (fam == 0)
		c.nodst |= bit;
	err = axr_cfg_write(d, &c);
	if (err < 0)
		return err;
	if (id != NULL)
		*id = rules[slot].id;
	return 0;
}

int
sl_steer_rule_add(const char *ifname, const struct sl_steer_rule *r,
		  unsigned *id)
{
	char text[SL_STEER_RULE_TEXT_MAX];
	struct axp_dev *d;
	unsigned got = 0;
	int err;

	err = sl_steer_rule_check(r);
	if (err < 0)
		return err;
	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	err = axr_add(d, r, &got);
	pthread_mutex_unlock(&axr_lock);
	(void)sl_steer_rule_format(r, text, sizeof(text));
	if (err < 0)
		SL_ERR("%s: rule '%s' not added: %s", ifname, text,
		       sl_strerror(err));
	else
		SL_INFO("%s: rule %u added: %s", ifname, got, text);
	axp_dev_put(d);
	if (err == 0 && id != NULL)
		*id = got;
	return err;
}

/* The slot of rule id, published; -ENOENT logged. */
static int
axr_find(struct axp_dev *d, unsigned id, const struct steer_cfg *c,
	 struct steer_rule *b)
{
	uint32_t slot = id % STEER_MAX_RULES;
	int err;

	if (id < STEER_MAX_RULES || !(c->active & (1ULL << slot)))
		goto none;
	if (bpf_map_lookup_elem(axp_dev_rule_maps(d)->rules, &slot, b) < 0) {
		err = -errno;
		SL_ERR("%s: reading steer_rules[%u]: %s", axp_dev_ifname(d),
		       slot, sl_strerror(err));
		return err;
	}
	if (b->id == id)
		return (int)slot;
none:
	SL_ERR("%s: no rule %u", axp_dev_ifname(d), id);
	return -ENOENT;
}

/* Delete rule id; its final counters in *pkts, *bytes when not NULL. */
static int
axr_del(struct axp_dev *d, unsigned id, uint64_t *pkts, uint64_t *bytes)
{
	struct steer_rule rules[STEER_MAX_RULES], b;
	struct steer_cfg c;
	uint64_t bit;
	int slot, err;

	err = axr_cfg_read(d, &c);
	if (err < 0)
		return err;
	slot = axr_find(d, id, &c, &b);
	if (slot < 0)
		return slot;
	bit = 1ULL << slot;
	/* unpublish, then wait for the runs that may still use it */
	c.active &= ~bit;
	c.nodst &= ~bit;
	err = axr_cfg_write(d, &c);
	if (err < 0)
		return err;
	axr_wait();
	/* final now: no run of the program can count it any more */
	if (pkts != NULL || bytes != NULL) {
		uint64_t p = 0, y = 0;

		err = axr_rstat(d, (uint32_t)slot, &p, &y, false);
		if (pkts != NULL)
			*pkts = p;
		if (bytes != NULL)
			*bytes = y;
		if (err < 0)
			SL_WARN("%s: rule %u is unpublished, but its final "
				"counters could not be read",
				axp_dev_ifname(d), id);
	}
	memset(&rules[slot], 0, sizeof(rules[slot]));
	err = axr_rule_write(d, (uint32_t)slot, &rules[slot]);
	if (err == 0 && b.dst_family != 0)
		err = axr_rules_read(d, rules);
	if (err == 0 && b.dst_family != 0)
		err = axr_lpm_sync(d, rules, c.active, b.dst_family);
	/* the rule is gone even if clearing after it failed */
	if (err < 0)
		SL_WARN("%s: rule %u is unpublished, but clearing after it "
			"failed: %s",
			axp_dev_ifname(d), id, sl_strerror(err));
	return 0;
}

int
sl_steer_rule_del(const char *ifname, unsigned id)
{
	return sl_steer_rule_del_stats(ifname, id, NULL, NULL);
}

int
sl_steer_rule_del_stats(const char *ifname, unsigned id, uint64_t *pkts,
			uint64_t *bytes)
{
	struct axp_dev *d;
	int err;

	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	err = axr_del(d, id, pkts, bytes);
	pthread_mutex_unlock(&axr_lock);
	if (err == 0)
		SL_INFO("%s: rule %u deleted", ifname, id);
	axp_dev_put(d);
	return err;
}

/* Unpublish every rule at once, wait once, then clear the slots. */
static int
axr_flush(struct axp_dev *d)
{
	struct steer_rule empty;
	struct steer_cfg c;
	uint64_t was;
	uint32_t s;
	int err;

	err = axr_cfg_read(d, &c);
	if (err < 0 || c.active == 0)
		return err;
	was = c.active;
	c.active = c.nodst = 0;
	err = axr_cfg_write(d, &c);
	if (err < 0)
		return err;
	axr_wait();
	memset(&empty, 0, sizeof(empty));
	for (s = 0; s < STEER_MAX_RULES && err == 0; s++)
		if (was & (1ULL << s))
			err = axr_rule_write(d, s, &empty);
	if (err == 0)
		err = axr_lpm_sync(d, NULL, 0, 4);
	if (err == 0)
		err = axr_lpm_sync(d, NULL, 0, 6);
	if (err < 0)
		SL_WARN("%s: the rules are unpublished, but clearing after "
			"them failed: %s",
			axp_dev_ifname(d), sl_strerror(err));
	return 0;
}

int
sl_steer_rule_flush(const char *ifname)
{
	struct axp_dev *d;
	int err;

	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	err = axr_flush(d);
	pthread_mutex_unlock(&axr_lock);
	if (err == 0)
		SL_INFO("%s: every rule deleted", ifname);
	axp_dev_put(d);
	return err;
}

int
sl_steer_rule_stats(const char *ifname, unsigned id, uint64_t *pkts,
		    uint64_t *bytes)
{
	struct steer_rule b;
	struct steer_cfg c;
	struct axp_dev *d;
	uint64_t p = 0, y = 0;
	int err, slot;

	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	err = axr_cfg_read(d, &c);
	slot = err < 0 ? err : axr_find(d, id, &c, &b);
	err = slot < 0 ? slot : axr_rstat(d, (uint32_t)slot, &p, &y, false);
	pthread_mutex_unlock(&axr_lock);
	axp_dev_put(d);
	if (err == 0) {
		if (pkts != NULL)
			*pkts = p;
		if (bytes != NULL)
			*bytes = y;
	}
	return err;
}

int
sl_steer_rule_list(const char *ifname, struct sl_steer_rule_info *out,
		   unsigned max)
{
	struct steer_rule rules[STEER_MAX_RULES];
	struct steer_cfg c;
	struct axp_dev *d;
	unsigned s, n = 0;
	int err;

	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	err = axr_cfg_read(d, &c);
	if (err == 0)
		err = axr_rules_read(d, rules);
	for (s = 0; err == 0 && s < STEER_MAX_RULES; s++) {
		if (!(c.active & (1ULL << s)))
			continue;
		if (out != NULL && n < max) {
			out[n].id = rules[s].id;
			axr_from_bpf(&rules[s], s, &out[n].rule);
			err = axr_rstat(d, s, &out[n].pkts, &out[n].bytes,
					false);
		}
		n++;
	}
	pthread_mutex_unlock(&axr_lock);
	axp_dev_put(d);
	return err < 0 ? err : (int)n;
}

int
sl_steer_default_set(const char *ifname, enum sl_steer_action action)
{
	struct axp_dev *devs[AXR_DEVS_MAX];
	struct steer_cfg c;
	unsigned n, i;
	int err;

	if ((unsigned)action >= SL_DIM(axr_actions)) {
		SL_ERR("%s: default action %d: xsk (0), pass (1) or drop (2)",
		       ifname != NULL ? ifname : "every device", (int)action);
		return -EINVAL;
	}
	err = axr_devs(ifname, devs, &n);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	for (i = 0; i < n && err == 0; i++) {
		err = axr_cfg_read(devs[i], &c);
		if (err < 0)
			break;
		c.default_action = (uint32_t)action;
		err = axr_cfg_write(devs[i], &c);
		if (err == 0)
			SL_INFO("%s: default action %s",
				axp_dev_ifname(devs[i]),
				sl_steer_action_name(action));
	}
	pthread_mutex_unlock(&axr_lock);
	axr_devs_put(devs, n);
	return err;
}

int
sl_steer_default_get(const char *ifname, enum sl_steer_action *action)
{
	struct steer_cfg c;
	struct axp_dev *d;
	int err;

	err = axr_dev(ifname, &d);
	if (err < 0)
		return err;
	err = axr_cfg_read(d, &c);
	axp_dev_put(d);
	if (err == 0)
		*action = (enum sl_steer_action)c.default_action;
	return err;
}

/* Add or delete a local address on the devices; with ifname NULL, a
 * delete fails with -ENOENT only when no device had the address. */
static int
axr_local(const char *ifname, int family, const void *addr, bool add)
{
	struct axp_dev *devs[AXR_DEVS_MAX];
	char text[INET6_ADDRSTRLEN] = "?";
	const struct axp_rule_maps *m;
	unsigned n, i, found = 0;
	uint8_t one = 1;
	int err, fd;

	if (family != AF_INET && family != AF_INET6) {
		SL_ERR("local address of family %d: AF_INET or AF_INET6",
		       family);
		return -EAFNOSUPPORT;
	}
	if (addr == NULL) {
		SL_ERR("local address: NULL");
		return -EINVAL;
	}
	inet_ntop(family, addr, text, sizeof(text));
	err = axr_devs(ifname, devs, &n);
	if (err < 0)
		return err;
	pthread_mutex_lock(&axr_lock);
	for (i = 0; i < n; i++) {
		m = axp_dev_rule_maps(devs[i]);
		fd = family == AF_INET ? m->local4 : m->local6;
		if (add ? bpf_map_update_elem(fd, addr, &one, BPF_ANY) == 0
			: bpf_map_delete_elem(fd, addr) == 0) {
			found++;
			continue;
		}
		err = -errno;
		if (!add && err == -ENOENT && ifname == NULL) {
			err = 0;
			continue;
		}
		if (err == -E2BIG)
			err = -ENOSPC;
		SL_ERR("%s: %s local address %s: %s%s", axp_dev_ifname(devs[i]),
		       add ? "adding" : "deleting", text, sl_strerror(err),
		       err == -ENOSPC ? " (the map is full)" : "");
		break;
	}
	pthread_mutex_unlock(&axr_lock);
	if (err == 0 && !add && found == 0) {
		SL_ERR("local address %s: on no device", text);
		err = -ENOENT;
	}
	axr_devs_put(devs, n);
	return err;
}

int
sl_steer_local_addr_add(const char *ifname, int family, const void *addr)
{
	return axr_local(ifname, family, addr, true);
}

int
sl_steer_local_addr_del(const char *ifname, int family, const void *addr)
{
	return axr_local(ifname, family, addr, false);
}

int
sl_steer_dev_stats(const char *ifname, struct sl_steer_dev_stats *st)
{
	int ncpu = libbpf_num_possible_cpus(), c, err, fd;
	uint64_t v[STEER_STAT_MAX] = {0}, *vals;
	struct axp_dev *d;
	uint32_t k;

	if (st == NULL)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (vals == NULL)
		return -ENOMEM;
	err = axr_dev(ifname, &d);
	if (err < 0) {
		free(vals);
		return err;
	}
	fd = axp_dev_rule_maps(d)->stats;
	for (k = 0; k < STEER_STAT_MAX && err == 0; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals) < 0) {
			err = -errno;
			SL_ERR("%s: reading steer_stats: %s", ifname,
			       sl_strerror(err));
			break;
		}
		for (c = 0; c < ncpu; c++)
			v[k] += vals[c];
	}
	free(vals);
	memset(st, 0, sizeof(*st));
	if (err == 0)
		err = axr_rstat(d, STEER_RSTAT_DEFAULT, &st->default_pkts,
				&st->default_bytes, false);
	axp_dev_put(d);
	st->redirect = v[STEER_STAT_REDIRECT];
	st->pass = v[STEER_STAT_PASS];
	st->redirect_fail = v[STEER_STAT_REDIRECT_FAIL];
	st->drop = v[STEER_STAT_DROP];
	return err;
}

#else  /* !SL_HAVE_AF_XDP */
/* ---- without net_af_xdp -------------------------------------------------- */

static int
axr_none(const char *what)
{
	SL_ERR("%s: net_af_xdp is not built (libbpf, libxdp or clang's BPF "
	       "target was missing): no steering rules",
	       what);
	return -ENOTSUP;
}

int
sl_steer_rule_add(const char *ifname, const struct sl_steer_rule *r,
		  unsigned *id)
{
	(void)ifname;
	(void)r;
	(void)id;
	return axr_none("adding a rule");
}

int
sl_steer_rule_del(const char *ifname, unsigned id)
{
	(void)ifname;
	(void)id;
	return axr_none("deleting a rule");
}

int
sl_steer_rule_del_stats(const char *ifname, unsigned id, uint64_t *pkts,
			uint64_t *bytes)
{
	(void)ifname;
	(void)id;
	(void)pkts;
	(void)bytes;
	return axr_none("deleting a rule");
}

int
sl_steer_rule_flush(const char *ifname)
{
	(void)ifname;
	return axr_none("deleting the rules");
}

int
sl_steer_rule_stats(const char *ifname, unsigned id, uint64_t *pkts,
		    uint64_t *bytes)
{
	(void)ifname;
	(void)id;
	(void)pkts;
	(void)bytes;
	return axr_none("reading a rule's counters");
}

int
sl_steer_rule_list(const char *ifname, struct sl_steer_rule_info *out,
		   unsigned max)
{
	(void)ifname;
	(void)out;
	(void)max;
	return axr_none("listing the rules");
}

int
sl_steer_default_set(const char *ifname, enum sl_steer_action action)
{
	(void)ifname;
	(void)action;
	return axr_none("setting the default action");
}

int
sl_steer_default_get(const char *ifname, enum sl_steer_action *action)
{
	(void)ifname;
	(void)action;
	return axr_none("reading the default action");
}

int
sl_steer_local_addr_add(const char *ifname, int family, const void *addr)
{
	(void)ifname;
	(void)family;
	(void)addr;
	return axr_none("adding a local address");
}

int
sl_steer_local_addr_del(const char *ifname, int family, const void *addr)
{
	(void)ifname;
	(void)family;
	(void)addr;
	return axr_none("deleting a local address");
}

int
sl_steer_dev_stats(const char *ifname, struct sl_steer_dev_stats *st)
{
	(void)ifname;
	(void)st;
	return axr_none("reading the counters");
}
#endif /* SL_HAVE_AF_XDP */
