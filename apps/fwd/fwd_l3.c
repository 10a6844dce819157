/*
 * l3fwd rules: options."l3fwd-fib-rules" is an array of strings
 *   "<prefix>/<len> <next-hop MAC> <lport>"   e.g.
 *   "198.18.2.0/24 02:00:00:00:00:02 d1:0"
 *   "2001:2:0:2::/64 02:00:00:00:00:02 d1:0"
 * (fields separated by spaces or commas). Each distinct (MAC, lport) pair
 * is one next hop; the routes go into an IPv4 FIB (DIR-24-8) and an IPv6
 * FIB (trie) from lib/fib, looked up in bursts by the l3fwd loop.
 */
#define SL_LOG_MODULE "fwd"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <sluice/sl_log.h>
#include <sluice/sl_pktdev.h>

#include "fwd.h"

struct l3_rule {
	int fam;
	uint8_t addr[16];
	uint8_t depth;
	uint8_t mac[6];
	uint32_t port;
};

static int
mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6], i;
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* Parse "a.b.c.d/len" or "x::y/len". */
static int
prefix_parse(char *s, struct l3_rule *r, const char **why)
{
	char *slash = strchr(s, '/'), *end;
	long len;

	if (slash == NULL) {
		*why = "a prefix needs '/<length>'";
		return -EINVAL;
	}
	*slash = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1) {
		*why = "the prefix length is not a number";
		return -EINVAL;
	}
	if (inet_pton(AF_INET, s, r->addr) == 1) {
		r->fam = 4;
		if (len < 0 || len > 32) {
			*why = "an IPv4 prefix length is 0..32";
			return -EINVAL;
		}
	} else if (inet_pton(AF_INET6, s, r->addr) == 1) {
		r->fam = 6;
		if (len < 0 || len > 128) {
			*why = "an IPv6 prefix length is 0..128";
			return -EINVAL;
		}
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	r->depth = (uint8_t)len;
	return 0;
}

static int
rule_parse(const struct fwd *f, const char *text, struct l3_rule *r,
	   const char **why)
{
	char buf[256], *tok[4], *save = NULL, *p;
	unsigned n = 0;
	int idx;

	if (strlen(text) >= sizeof(buf)) {
		*why = "too long";
		return -EINVAL;
	}
	strcpy(buf, text);
	for (p = strtok_r(buf, " ,\t", &save); p != NULL && n < 4;
	     p = strtok_r(NULL, " ,\t", &save))
		tok[n++] = p;
	if (n != 3) {
		*why = "expected \"<prefix>/<len> <next-hop MAC> <lport>\"";
		return -EINVAL;
	}
	if (prefix_parse(tok[0], r, why) < 0)
		return -EINVAL;
	if (mac_parse(tok[1], r->mac) < 0) {
		*why = "the next-hop MAC is not xx:xx:xx:xx:xx:xx";
		return -EINVAL;
	}
	idx = sl_config_lport_find(f->conf, tok[2]);
	if (idx < 0) {
		*why = "no lport of that name in lports{}";
		return -EINVAL;
	}
	r->port = (uint32_t)idx;
	return 0;
}

/* The next hop id (1..) of (mac, port), added if new. */
static uint32_t
nh_get(struct fwd *f, const uint8_t mac[6], uint32_t port)
{
	uint32_t i;

	for (i = 0; i < f->nnh; i++)
		if (f->nh[i].port == port &&
		    memcmp(f->nh[i].dst_mac, mac, 6) == 0)
			return i + 1;
	memcpy(f->nh[f->nnh].dst_mac, mac, 6);
	f->nh[f->nnh].port = port;
	return ++f->nnh;
}

static int
rule_add(struct fwd *f, const struct l3_rule *r, uint32_t nh)
{
	uint32_t a;

	if (r->fam == 4) {
		a = (uint32_t)r->addr[0] << 24 | (uint32_t)r->addr[1] << 16 |
		    (uint32_t)r->addr[2] << 8 | r->addr[3];
		return sl_fib4_add(f->fib4, a, r->depth, nh);
	}
	return sl_fib6_add(f->fib6, r->addr, r->depth, nh);
}

int
fwd_l3_setup(struct fwd *f, bool needed)
{
	const char *const *rules;
	struct sl_fib_conf fc = {.default_nh = 0};
	unsigned n, i;
	int err = 0;

	if (sl_config_opt_strv(f->conf, "l3fwd-fib-rules", &rules, &n) < 0)
		return -EINVAL;
	if (needed && n == 0) {
		SL_ERR("%s: l3fwd needs options.l3fwd-fib-rules "
		       "(\"<prefix>/<len> <next-hop MAC> <lport>\", ...)",
		       f->conf->file);
		return -EINVAL;
	}
	f->nh = calloc(n ? n : 1, sizeof(*f->nh));
	f->fib4 = sl_fib4_create("l3fwd4", &fc);
	f->fib6 = sl_fib6_create("l3fwd6", &fc);
	if (f->nh == NULL || f->fib4 == NULL || f->fib6 == NULL) {
		SL_ERR("l3fwd: no memory for the FIBs");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct l3_rule r;
		const char *why = NULL;
		int ret;

		memset(&r, 0, sizeof(r));
		if (rule_parse(f, rules[i], &r, &why) < 0) {
			sl_config_opt_error(f->conf, "l3fwd-fib-rules", (int)i,
					    "\"%s\": %s", rules[i], why);
			err = -EINVAL;
			continue;
		}
		ret = rule_add(f, &r, nh_get(f, r.mac, r.port));
		if (ret < 0) {
			sl_config_opt_error(f->conf, "l3fwd-fib-rules", (int)i,
					    "\"%s\": cannot add the route: %s",
					    rules[i], sl_strerror(-ret));
			err = ret;
		}
	}
	f->nrules = n;
	return err;
}

void
fwd_l3_free(struct fwd *f)
{
	sl_fib4_free(f->fib4);
	sl_fib6_free(f->fib6);
	free(f->nh);
	f->fib4 = NULL;
	f->fib6 = NULL;
	f->nh = NULL;
}

void
fwd_l3_print(const struct fwd *f)
{
	const char *const *rules;
	unsigned n, i;

	if (sl_config_opt_strv(f->conf, "l3fwd-fib-rules", &rules, &n) < 0)
		return;
	printf("l3fwd: %u rules, %u next hops\n", n, f->nnh);
	for (i = 0; i < f->nnh; i++)
		printf("  next hop %u: %02x:%02x:%02x:%02x:%02x:%02x via %s\n",
		       i + 1, f->nh[i].dst_mac[0], f->nh[i].dst_mac[1],
		       f->nh[i].dst_mac[2], f->nh[i].dst_mac[3],
		       f->nh[i].dst_mac[4], f->nh[i].dst_mac[5],
		       f->conf->lports[f->nh[i].port].name);
}
