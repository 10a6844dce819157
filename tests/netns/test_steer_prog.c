/*
 * The classifier of net_af_xdp's XDP program (bpf/steer.bpf.c) and its
 * run-time rule API (sluice/sl_steer.h), end to end without traffic: the
 * test moves into a network namespace of its own (unshare), makes veth
 * pairs there, opens net_af_xdp lports (which attach the program and put
 * their socket in its XSKMAP at queue 0), changes rules with the API and
 * runs crafted packets through the attached program with BPF_PROG_RUN
 * (bpf_prog_test_run_opts): XDP_REDIRECT is "to the socket", XDP_PASS "to
 * the kernel", XDP_DROP a drop.
 *
 * Covered: IPv4/IPv6, 802.1Q/802.1ad tags, each match field, port ranges
 * at their edges, fragments, IPv6 extension headers, nested prefixes and
 * priorities, the default action, transit rules with and without local
 * addresses, per-rule and per-device counters, the errors of the API, the
 * steer= option and its device-wide conflicts, the xdp.frags build, and
 * the rules the stack's channels add and remove.
 *
 * Needs root (namespaces, CAP_BPF, CAP_NET_ADMIN); exits 77 otherwise or
 * when net_af_xdp is not built.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <cmocka.h>
#ifdef SLT_HAVE_AF_XDP
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

#include "sluice/sl_chnl.h"
#include "sluice/sl_cnet.h"
#include "sluice/sl_log.h"
#include "sluice/sl_mbuf.h"
#include "sluice/sl_mempool.h"
#include "sluice/sl_pktdev.h"
#include "sluice/sl_steer.h"

#ifdef SLT_HAVE_AF_XDP

/* Devices, all in the test's own network namespace. */
#define DEV "sltp0"  /* steer=rules, lport on queue 0 (2 queues) */
#define DEV2 "sltq0" /* steer=all */
#define DEVF "sltf0" /* multi-buffer: the xdp.frags build */

#define XSK XDP_REDIRECT /* what the XSK action returns on queue 0 */
#define PASS XDP_PASS
#define DROP XDP_DROP

static struct sl_mempool *pool;
static struct sl_port *port, *port2;
static int prog_fd = -1, ifindex;

/* ---- log capture --------------------------------------------------------- */

static int cap_fd = -1, cap_saved = -1;

static void
capture_begin(void)
{
	fflush(stderr);
	cap_fd = memfd_create("slt-steer-log", MFD_CLOEXEC);
	assert_true(cap_fd >= 0);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved >= 0);
	assert_true(dup2(cap_fd, STDERR_FILENO) >= 0);
}

static void
capture_end(char *buf, size_t len)
{
	ssize_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	n = pread(cap_fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(cap_fd);
	fputs(buf, stderr);
}

/* ---- packets ------------------------------------------------------------- */

/* A packet to craft; zero fields take defaults. */
struct pk {
	const char *dst;    /* IPv4 or IPv6 destination; NULL: not IP */
	uint16_t ethertype; /* when not IP */
	uint16_t vlan;	    /* TPID of one tag (0x8100, 0x88a8), or 0 */
	uint16_t vlan2;	    /* TPID of a second, inner tag, or 0 */
	uint8_t proto;	    /* default UDP */
	uint16_t dport;
	bool frag;	 /* a fragment other than the first */
	bool first_frag; /* the first fragment (MF set, offset 0) */
	bool hbh;	 /* IPv6: a hop-by-hop options header first */
	bool mcast_mac;	 /* Ethernet destination 01:00:5e:.. */
	bool bcast_mac;	 /* ff:ff:ff:ff:ff:ff */
	uint16_t extra;	 /* payload bytes */
	uint32_t q;	 /* receive queue */
	bool short_l4;	 /* cut right after the IP header(s) */
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
pk_build(uint8_t *b, const struct pk *s)
{
	static const uint8_t src_mac[6] = {2, 0, 0, 0, 0, 2};
	uint8_t dst_mac[6] = {2, 0, 0, 0, 0, 1};
	uint8_t *p = b, *ip;
	uint8_t proto = s->proto != 0 ? s->proto : 17;
	bool v6 = s->dst != NULL && strchr(s->dst, ':') != NULL;

	if (s->bcast_mac)
		memset(dst_mac, 0xff, 6);
	if (s->mcast_mac) {
		static const uint8_t m[6] = {1, 0, 0x5e, 0, 0, 5};

		memcpy(dst_mac, m, 6);
	}
	memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	p += 12;
	if (s->vlan != 0) {
		put16(p, s->vlan);
		put16(p + 2, 100);
		p += 4;
	}
	if (s->vlan2 != 0) {
		put16(p, s->vlan2);
		put16(p + 2, 200);
		p += 4;
	}
	if (s->dst == NULL) {
		put16(p, s->ethertype);
		p += 2;
		memset(p, 0xab, 46u + s->extra);
		return (uint32_t)(p + 46 + s->extra - b);
	}
	put16(p, v6 ? 0x86dd : 0x0800);
	p += 2;
	ip = p;
	if (!v6) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = proto;
		assert_int_equal(inet_pton(AF_INET, "198.18.1.1", ip + 12), 1);
		assert_int_equal(inet_pton(AF_INET, s->dst, ip + 16), 1);
		if (s->frag)
			ip[7] = 0x10; /* offset 16 * 8 */
		if (s->first_frag)
			ip[6] = 0x20; /* MF, offset 0 */
		p += 20;
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, "2001:2::1", ip + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, s->dst, ip + 24), 1);
		p += 40;
		ip[6] = s->hbh ? 0 : s->frag || s->first_frag ? 44 : proto;
		if (s->hbh) {
			memset(p, 0, 8);
			p[0] = s->frag || s->first_frag ? 44 : proto;
			p[2] = 1; /* PadN */
			p[3] = 4;
			p += 8;
		}
		if (s->frag || s->first_frag) {
			memset(p, 0, 8);
			p[0] = proto;
			if (s->frag)
				p[3] = 0x80; /* offset 16 */
			else
				p[3] = 1; /* M, offset 0 */
			p += 8;
		}
	}
	if (s->short_l4)
		return (uint32_t)(p - b);
	/* the ports come first in UDP, TCP and SCTP */
	memset(p, 0, 20);
	put16(p, 40000);
	put16(p + 2, s->dport);
	p += 20;
	memset(p, 0x5a, s->extra);
	return (uint32_t)(p + s->extra - b);
}

/* Run a packet through the attached program: its XDP verdict. */
static int
run_pkt(const uint8_t *pkt, uint32_t len, uint32_t q)
{
	struct xdp_md ctx = {
		.data = 0,
		.data_end = len,
		.ingress_ifindex = (uint32_t)ifindex,
		.rx_queue_index = q,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err != 0)
		fail_msg("BPF_PROG_RUN of %u bytes: %s", len, strerror(-err));
	return (int)o.retval;
}

static uint32_t last_len; /* length of the last packet of RUN() */

static int
run_spec(const struct pk *s)
{
	uint8_t buf[2048];

	last_len = pk_build(buf, s);
	return run_pkt(buf, last_len, s->q);
}

#define RUN(...) run_spec(&(struct pk){__VA_ARGS__})

static const char *
verdict(int v)
{
	return v == XSK ? "XSK" : v == PASS ? "PASS" : v == DROP ? "DROP" : "?";
}

#define EXPECT(want, ...)                                                      \
	do {                                                                   \
		int got_ = RUN(__VA_ARGS__);                                   \
		if (got_ != (want))                                            \
			fail_msg("line %d: %s, expected %s", __LINE__,         \
				 verdict(got_), verdict(want));                \
	} while (0)

/* ---- rules --------------------------------------------------------------- */

static unsigned
add(const char *dev, const char *text)
{
	struct sl_steer_rule r;
	unsigned id = 0;
	int err;

	assert_int_equal(sl_steer_rule_parse(text, &r), 0);
	err = sl_steer_rule_add(dev, &r, &id);
	if (err != 0)
		fail_msg("adding '%s' to %s: %s", text, dev, strerror(-err));
	assert_true(id >= SL_STEER_MAX_RULES);
	return id;
}

static void
del(const char *dev, unsigned id)
{
	int err = sl_steer_rule_del(dev, id);

	if (err != 0)
		fail_msg("deleting rule %u of %s: %s", id, dev, strerror(-err));
}

static uint64_t
rule_pkts(const char *dev, unsigned id, uint64_t *bytes)
{
	uint64_t p = 0, b = 0;

	assert_int_equal(sl_steer_rule_stats(dev, id, &p, &b), 0);
	if (bytes != NULL)
		*bytes = b;
	return p;
}

static int
rules_teardown(void **state)
{
	(void)state;
	assert_int_equal(sl_steer_rule_flush(DEV), 0);
	assert_int_equal(sl_steer_default_set(DEV, SL_STEER_PASS), 0);
	assert_int_equal(sl_steer_rule_list(DEV, NULL, 0), 0);
	return 0;
}

/* ---- the tests ----------------------------------------------------------- */

/* steer=rules: PASS by default; the default is changed at run time and
 * counted; a queue without a socket gets XSK packets in the kernel. */
static void
test_default_action(void **state)
{
	struct sl_steer_dev_stats st0, st;
	enum sl_steer_action a;

	(void)state;
	assert_int_equal(sl_steer_default_get(DEV, &a), 0);
	assert_int_equal(a, SL_STEER_PASS);
	assert_int_equal(sl_steer_dev_stats(DEV, &st0), 0);
	EXPECT(PASS, .dst = "198.18.0.1");
	EXPECT(PASS, .ethertype = 0x0806);
	assert_int_equal(sl_steer_default_set(DEV, SL_STEER_XSK), 0);
	EXPECT(XSK, .dst = "198.18.0.1");
	EXPECT(XSK, .ethertype = 0x0806);
	EXPECT(PASS, .dst = "198.18.0.1", .q = 1); /* no socket there */
	assert_int_equal(sl_steer_default_set(DEV, SL_STEER_DROP), 0);
	EXPECT(DROP, .dst = "2001:2::5");
	assert_int_equal(sl_steer_default_get(DEV, &a), 0);
	assert_int_equal(a, SL_STEER_DROP);
	assert_int_equal(sl_steer_dev_stats(DEV, &st), 0);
	assert_int_equal(st.default_pkts - st0.default_pkts, 6);
	assert_int_equal(st.redirect - st0.redirect, 2);
	assert_int_equal(st.pass - st0.pass, 3);
	assert_int_equal(st.drop - st0.drop, 1);
	assert_int_equal(st.redirect_fail - st0.redirect_fail, 0);
	/* a bare Ethernet header (BPF_PROG_RUN takes nothing shorter): its
	 * ethertype is matched, no IP field is */
	{
		uint8_t hdr[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0};

		assert_int_equal(run_pkt(hdr, 14, 0), DROP);
		(void)add(DEV, "ip pass");
		(void)add(DEV, "udp xsk");
		assert_int_equal(run_pkt(hdr, 14, 0), PASS);
	}
}

/* ethertype, after no tag, an 802.1Q or an 802.1ad tag; one tag only. */
static void
test_ethertype_vlan(void **state)
{
	unsigned lldp, ip;

	(void)state;
	lldp = add(DEV, "ethertype 0x88cc drop");
	ip = add(DEV, "ip xsk");
	EXPECT(DROP, .ethertype = 0x88cc);
	EXPECT(DROP, .ethertype = 0x88cc, .vlan = 0x8100);
	EXPECT(DROP, .ethertype = 0x88cc, .vlan = 0x88a8);
	EXPECT(PASS, .ethertype = 0x88cd);
	EXPECT(PASS, .ethertype = 0x0806);
	EXPECT(XSK, .dst = "198.18.0.1");
	EXPECT(XSK, .dst = "198.18.0.1", .vlan = 0x8100);
	EXPECT(XSK, .dst = "198.18.0.1", .vlan = 0x88a8);
	EXPECT(PASS, .dst = "2001:2::1");
	/* a second tag is not skipped: the ethertype seen is 0x8100 */
	EXPECT(PASS, .dst = "198.18.0.1", .vlan = 0x88a8, .vlan2 = 0x8100);
	assert_int_equal(rule_pkts(DEV, lldp, NULL), 3);
	assert_int_equal(rule_pkts(DEV, ip, NULL), 3);
	(void)add(DEV, "ethertype 0x8100 drop");
	EXPECT(DROP, .dst = "198.18.0.1", .vlan = 0x88a8, .vlan2 = 0x8100);
}

/* IP protocol, IPv4 and IPv6, IPv6 extension headers walked. */
static void
test_proto(void **state)
{
	(void)state;
	(void)add(DEV, "udp xsk");
	(void)add(DEV, "ip6 tcp drop");
	(void)add(DEV, "proto 89 drop");
	EXPECT(XSK, .dst = "198.18.0.1", .proto = 17);
	EXPECT(XSK, .dst = "2001:2::1", .proto = 17);
	EXPECT(XSK, .dst = "2001:2::1", .proto = 17, .hbh = true);
	EXPECT(XSK, .dst = "2001:2::1", .proto = 17, .frag = true);
	EXPECT(XSK, .dst = "2001:2::1", .proto = 17, .hbh = true,
	       .first_frag = true);
	EXPECT(PASS, .dst = "198.18.0.1", .proto = 6);
	EXPECT(DROP, .dst = "2001:2::1", .proto = 6);
	EXPECT(DROP, .dst = "2001:2::1", .proto = 6, .hbh = true);
	EXPECT(DROP, .dst = "198.18.0.1", .proto = 89);
	EXPECT(DROP, .dst = "2001:2::1", .proto = 89);
	EXPECT(PASS, .dst = "198.18.0.1", .proto = 1);
	EXPECT(PASS, .ethertype = 0x0806); /* not IP: no protocol */
}

/* IPv4 prefixes: edges, nested prefixes in both priority orders. */
static void
test_prefix_v4(void **state)
{
	unsigned r24, r16, h;

	(void)state;
	r24 = add(DEV, "prio 2 dst 198.18.0.0/24 xsk");
	r16 = add(DEV, "prio 5 dst 198.18.0.0/16 drop");
	EXPECT(XSK, .dst = "198.18.0.0");
	EXPECT(XSK, .dst = "198.18.0.255");
	EXPECT(DROP, .dst = "198.18.1.0");
	EXPECT(DROP, .dst = "198.18.255.255");
	EXPECT(PASS, .dst = "198.19.0.0");
	EXPECT(PASS, .dst = "198.17.255.255");
	EXPECT(PASS, .dst = "2001:2::1");  /* other family */
	EXPECT(PASS, .ethertype = 0x0806); /* not IP */
	EXPECT(XSK, .dst = "198.18.0.7", .vlan = 0x8100);
	/* the /16 first: it wins inside the /24 too */
	del(DEV, r16);
	EXPECT(PASS, .dst = "198.18.1.0");
	r16 = add(DEV, "prio 1 dst 198.18.0.0/16 drop");
	EXPECT(DROP, .dst = "198.18.0.1");
	EXPECT(DROP, .dst = "198.18.1.1");
	/* a host route between them, and a /0 after everything */
	h = add(DEV, "prio 0 dst 198.18.0.9 pass");
	(void)add(DEV, "prio 60 dst 198.18.0.0/0 xsk");
	EXPECT(PASS, .dst = "198.18.0.9");
	EXPECT(DROP, .dst = "198.18.0.8");
	EXPECT(XSK, .dst = "198.19.0.1");
	EXPECT(XSK, .dst = "203.0.113.1");
	del(DEV, r16);
	EXPECT(XSK, .dst = "198.18.0.8"); /* the /24 again */
	EXPECT(XSK, .dst = "198.18.1.1"); /* the /0 */
	EXPECT(PASS, .dst = "198.18.0.9");
	del(DEV, h);
	EXPECT(XSK, .dst = "198.18.0.9");
	del(DEV, r24);
	EXPECT(XSK, .dst = "198.18.0.9"); /* the /0 still */
	/* host bits of a prefix are ignored */
	(void)add(DEV, "prio 10 dst 198.18.7.77/24 drop");
	EXPECT(DROP, .dst = "198.18.7.1");
}

static void
test_prefix_v6(void **state)
{
	(void)state;
	(void)add(DEV, "prio 3 dst 2001:2::/48 xsk");
	(void)add(DEV, "prio 4 dst 2001:2:0:1::/64 drop");
	(void)add(DEV, "prio 2 dst 2001:2:0:1::7 pass");
	EXPECT(XSK, .dst = "2001:2::");
	EXPECT(XSK, .dst = "2001:2:0:ffff:ffff:ffff:ffff:ffff");
	EXPECT(XSK, .dst = "2001:2:0:1::1"); /* the /48 comes first */
	EXPECT(PASS, .dst = "2001:2:0:1::7");
	EXPECT(PASS, .dst = "2001:2:1::");
	EXPECT(PASS, .dst = "198.18.0.1");
	EXPECT(XSK, .dst = "2001:2::9", .vlan = 0x88a8, .hbh = true);
}

/* Port ranges at their edges, for each L4 protocol; fragments. */
static void
test_ports(void **state)
{
	uint8_t protos[] = {17, 6, 132};
	unsigned i;

	(void)state;
	(void)add(DEV, "udp port 5000-5010 xsk");
	(void)add(DEV, "port 22 drop"); /* UDP, TCP or SCTP */
	(void)add(DEV, "tcp port 0-1023 xsk");
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 4999);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 5000);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 5005);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 5010);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 5011);
	EXPECT(XSK, .dst = "2001:2::1", .dport = 5010);
	EXPECT(PASS, .dst = "2001:2::1", .dport = 5011);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 5000, .proto = 6);
	for (i = 0; i < sizeof(protos); i++) {
		EXPECT(DROP, .dst = "198.18.0.1", .dport = 22,
		       .proto = protos[i]);
		EXPECT(DROP, .dst = "2001:2::1", .dport = 22,
		       .proto = protos[i], .hbh = true);
	}
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 22, .proto = 1); /* ICMP */
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 0, .proto = 6);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 1023, .proto = 6);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 1024, .proto = 6);
	/* a fragment other than the first has no ports; the first has */
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 5000, .frag = true);
	EXPECT(PASS, .dst = "2001:2::1", .dport = 5000, .frag = true);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 5000, .first_frag = true);
	EXPECT(XSK, .dst = "2001:2::1", .dport = 5000, .first_frag = true);
	/* truncated: no ports */
	EXPECT(PASS, .dst = "198.18.0.1", .short_l4 = true);
	(void)add(DEV, "udp drop");
	EXPECT(DROP, .dst = "198.18.0.1", .dport = 5000, .frag = true);
}

/* First match in priority order; deleting gives way to the next; ids
 * are not reused by a later rule in the same slot. */
static void
test_priority(void **state)
{
	struct sl_steer_rule_info info[8];
	unsigned a, b, c, old_b;
	char text[SL_STEER_RULE_TEXT_MAX];
	int n;

	(void)state;
	c = add(DEV, "prio 30 udp pass");
	b = add(DEV, "prio 20 udp port 7000 drop");
	a = add(DEV, "prio 10 dst 198.18.0.0/24 udp port 7000-7001 xsk");
	assert_int_equal(a % SL_STEER_MAX_RULES, 10);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 7000);
	EXPECT(DROP, .dst = "198.18.1.1", .dport = 7000);
	EXPECT(PASS, .dst = "198.18.1.1", .dport = 7001);
	n = sl_steer_rule_list(DEV, info, SL_DIM(info));
	assert_int_equal(n, 3);
	assert_int_equal(info[0].id, a);
	assert_int_equal(info[1].id, b);
	assert_int_equal(info[2].id, c);
	assert_int_equal(info[0].pkts, 1);
	assert_true(sl_steer_rule_format(&info[0].rule, text, sizeof(text)) >
		    0);
	assert_string_equal(text, "prio 10 udp dst 198.18.0.0/24 port "
				  "7000-7001 xsk");
	assert_int_equal(sl_steer_rule_list(DEV, info, 1), 3);
	del(DEV, a);
	EXPECT(DROP, .dst = "198.18.0.1", .dport = 7000);
	del(DEV, b);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 7000);
	/* the same slot again: a new id; the old one is gone */
	old_b = b;
	b = add(DEV, "prio 20 udp port 7000 xsk");
	assert_int_equal(b % SL_STEER_MAX_RULES, 20);
	assert_int_not_equal(b, old_b);
	assert_int_equal(sl_steer_rule_del(DEV, old_b), -ENOENT);
	assert_int_equal(sl_steer_rule_stats(DEV, old_b, NULL, NULL), -ENOENT);
	assert_int_equal(rule_pkts(DEV, b, NULL), 0); /* counters zeroed */
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 7000);
	/* SL_STEER_PRIO_AUTO: after the last rule */
	a = add(DEV, "tcp xsk");
	assert_int_equal(a % SL_STEER_MAX_RULES, 31);
}

/* Transit: unicast IP not for a local address. */
static void
test_transit(void **state)
{
	uint8_t l4[4], l6[16];
	unsigned t;

	(void)state;
	t = add(DEV, "transit xsk");
	EXPECT(XSK, .dst = "198.18.9.9");
	EXPECT(XSK, .dst = "2001:2::99");
	EXPECT(PASS, .dst = "198.18.9.9", .mcast_mac = true);
	EXPECT(PASS, .dst = "198.18.9.9", .bcast_mac = true);
	EXPECT(PASS, .dst = "224.0.0.5", .proto = 89); /* OSPF hello */
	EXPECT(PASS, .dst = "239.1.2.3");
	EXPECT(PASS, .dst = "255.255.255.255");
	EXPECT(PASS, .dst = "127.0.0.1");
	EXPECT(PASS, .dst = "169.254.1.1");
	EXPECT(PASS, .dst = "0.0.0.0");
	EXPECT(PASS, .dst = "ff02::5");
	EXPECT(PASS, .dst = "fe80::1");
	EXPECT(PASS, .dst = "::1");
	EXPECT(PASS, .dst = "::");
	EXPECT(XSK, .dst = "::2");
	EXPECT(PASS, .ethertype = 0x0806);
	/* local addresses: on this device, then on every device (NULL) */
	assert_int_equal(inet_pton(AF_INET, "198.18.9.9", l4), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:2::99", l6), 1);
	assert_int_equal(sl_steer_local_addr_add(DEV, AF_INET, l4), 0);
	EXPECT(PASS, .dst = "198.18.9.9");
	EXPECT(XSK, .dst = "198.18.9.8");
	EXPECT(XSK, .dst = "2001:2::99");
	assert_int_equal(sl_steer_local_addr_add(NULL, AF_INET6, l6), 0);
	EXPECT(PASS, .dst = "2001:2::99");
	EXPECT(XSK, .dst = "2001:2::98");
	assert_int_equal(sl_steer_local_addr_del(NULL, AF_INET, l4), 0);
	EXPECT(XSK, .dst = "198.18.9.9");
	assert_int_equal(sl_steer_local_addr_del(DEV, AF_INET, l4), -ENOENT);
	assert_int_equal(sl_steer_local_addr_del(NULL, AF_INET, l4), -ENOENT);
	assert_int_equal(sl_steer_local_addr_del(DEV, AF_INET6, l6), 0);
	EXPECT(XSK, .dst = "2001:2::99");
	/* combined with fields */
	del(DEV, t);
	(void)add(DEV, "transit udp port 53 drop");
	EXPECT(DROP, .dst = "198.18.9.9", .dport = 53);
	EXPECT(PASS, .dst = "198.18.9.9", .dport = 54);
	assert_int_equal(sl_steer_local_addr_add(DEV, AF_INET, l4), 0);
	EXPECT(PASS, .dst = "198.18.9.9", .dport = 53);
	assert_int_equal(sl_steer_local_addr_del(DEV, AF_INET, l4), 0);
}

/* Per-rule counters: packets and bytes of whole frames; the default's. */
static void
test_counters(void **state)
{
	struct sl_steer_dev_stats st0, st;
	uint64_t bytes = 0, want_bytes = 0, dbytes = 0;
	unsigned a, i;

	(void)state;
	a = add(DEV, "udp port 9000 xsk");
	assert_int_equal(sl_steer_dev_stats(DEV, &st0), 0);
	for (i = 0; i < 10; i++) {
		EXPECT(XSK, .dst = "198.18.0.1", .dport = 9000,
		       .extra = (uint16_t)(i * 100));
		want_bytes += last_len;
		EXPECT(PASS, .dst = "198.18.0.1", .dport = 9001,
		       .extra = (uint16_t)i);
		dbytes += last_len;
	}
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 9000, .q = 1);
	want_bytes += last_len;
	assert_int_equal(rule_pkts(DEV, a, &bytes), 11);
	assert_int_equal(bytes, want_bytes);
	assert_int_equal(sl_steer_dev_stats(DEV, &st), 0);
	assert_int_equal(st.default_pkts - st0.default_pkts, 10);
	assert_int_equal(st.default_bytes - st0.default_bytes, dbytes);
	assert_int_equal(st.redirect - st0.redirect, 10);
	assert_int_equal(st.pass - st0.pass, 11);
	/* deleted with its final counters */
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 9000);
	want_bytes += last_len;
	{
		uint64_t p = 0;

		bytes = 0;
		assert_int_equal(sl_steer_rule_del_stats(DEV, a, &p, &bytes),
				 0);
		assert_int_equal(p, 12);
		assert_int_equal(bytes, want_bytes);
		assert_int_equal(sl_steer_rule_del_stats(DEV, a, &p, &bytes),
				 -ENOENT);
	}
}

/* Errors of the API, and a full table. */
static void
test_api_errors(void **state)
{
	struct sl_steer_rule r;
	char log[8192];
	unsigned id, i, first;

	(void)state;
	id = add(DEV, "prio 5 udp xsk");
	assert_int_equal(sl_steer_rule_parse("prio 5 tcp xsk", &r), 0);
	capture_begin();
	assert_int_equal(sl_steer_rule_add(DEV, &r, &id), -EEXIST);
	assert_int_equal(sl_steer_rule_del(DEV, id + SL_STEER_MAX_RULES),
			 -ENOENT);
	assert_int_equal(sl_steer_rule_del(DEV, 5), -ENOENT);
	assert_int_equal(sl_steer_rule_stats(DEV, 17, NULL, NULL), -ENOENT);
	assert_int_equal(sl_steer_rule_add("sltnone", &r, &id), -ENODEV);
	r.port_hi = 3;
	r.port_lo = 4;
	assert_int_equal(sl_steer_rule_add(DEV, &r, &id), -EINVAL);
	capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "priority 5 is taken by rule"));
	assert_non_null(strstr(log, "no rule 17"));
	assert_non_null(strstr(log, "sltnone: sluice's XDP program is not "
				    "attached"));
	/* fill every slot: after 63, AUTO has no room */
	assert_int_equal(sl_steer_rule_parse("ip6 xsk", &r), 0);
	first = 0;
	for (i = 0; i < SL_STEER_MAX_RULES; i++) {
		if (i == 5)
			continue;
		r.prio = (int)i;
		assert_int_equal(sl_steer_rule_add(DEV, &r, &id), 0);
		if (first == 0)
			first = id;
	}
	assert_int_equal(sl_steer_rule_list(DEV, NULL, 0), SL_STEER_MAX_RULES);
	r.prio = SL_STEER_PRIO_AUTO;
	capture_begin();
	assert_int_equal(sl_steer_rule_add(DEV, &r, &id), -ENOSPC);
	capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "no slot after the last rule"));
	EXPECT(XSK, .dst = "198.18.0.1"); /* prio 5: udp */
	EXPECT(XSK, .dst = "2001:2::1", .proto = 6);
	del(DEV, first);
	EXPECT(XSK, .dst = "2001:2::1", .proto = 6); /* slot 1 now */
}

/* The steer= option: one value per device, named in the refusal. */
static void
test_steer_option(void **state)
{
	struct sl_port_cfg cfg = {
		.name = "steer-q1",
		.backend = "net_af_xdp",
		.ifname = DEV,
		.qid = 1,
		.options = "mode=skb,steer=all",
	};
	struct sl_port *p;
	char log[4096];

	(void)state;
	cfg.pool = pool;
	capture_begin();
	errno = 0;
	p = sl_pktdev_open(&cfg);
	capture_end(log, sizeof(log));
	assert_null(p);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(log, "steer-q1: steer=all, but lport "
				    "steer-q0 attached the XDP program to "
				    "sltp0 with steer=rules"));
	cfg.options = "mode=skb,steer=some";
	capture_begin();
	p = sl_pktdev_open(&cfg);
	capture_end(log, sizeof(log));
	assert_null(p);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(log, "'steer'"));
	cfg.options = "xsk_pin_path=/nonexistent/xsks_map,steer=rules";
	capture_begin();
	p = sl_pktdev_open(&cfg);
	capture_end(log, sizeof(log));
	assert_null(p);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(log, "option 'steer' does not apply with "
				    "xsk_pin_path"));
	/* the same value joins */
	cfg.options = "mode=skb,steer=rules";
	p = sl_pktdev_open(&cfg);
	assert_non_null(p);
	sl_pktdev_close(p);
	/* steer=all (the default) on the other device: everything to the
	 * socket of queue 0, as before rules existed */
	ifindex = (int)if_nametoindex(DEV2);
	{
		int fd = prog_fd;
		struct bpf_xdp_query_opts q;
		enum sl_steer_action a;

		memset(&q, 0, sizeof(q));
		q.sz = sizeof(q);
		assert_int_equal(bpf_xdp_query(ifindex, 0, &q), 0);
		prog_fd = bpf_prog_get_fd_by_id(q.skb_prog_id ? q.skb_prog_id
							      : q.drv_prog_id);
		assert_true(prog_fd >= 0);
		assert_int_equal(sl_steer_default_get(DEV2, &a), 0);
		assert_int_equal(a, SL_STEER_XSK);
		EXPECT(XSK, .dst = "198.18.0.1");
		EXPECT(XSK, .ethertype = 0x0806);
		EXPECT(XSK, .dst = "224.0.0.5", .proto = 89);
		(void)add(DEV2, "ospf pass");
		EXPECT(PASS, .dst = "224.0.0.5", .proto = 89);
		assert_int_equal(sl_steer_rule_flush(DEV2), 0);
		close(prog_fd);
		prog_fd = fd;
		ifindex = (int)if_nametoindex(DEV);
	}
}

/* Multi-buffer lports run the xdp.frags build: frames longer than a page
 * are classified from their first buffer and counted whole (the other
 * build counts the first buffer only); a device runs one build only. */
static void
test_frags(void **state)
{
	struct sl_port_cfg cfg = {
		.name = "steer-f0",
		.backend = "net_af_xdp",
		.ifname = DEVF,
		.qid = 0,
		.options = "mode=skb,steer=rules,multi_buffer=yes",
	};
	struct sl_mbuf_pool_cfg pc = {
		.name = "slt-steer-mb", .n = 1024, .frame_size = 4096};
	static uint8_t big[9000];
	struct bpf_xdp_query_opts q;
	struct sl_mempool *mbpool;
	struct sl_port *p;
	char log[4096];
	uint64_t bytes;
	unsigned id;
	int fd = prog_fd, ix = ifindex;
	uint32_t len;

	(void)state;
	/* a multi-buffer lport needs a pool of its own */
	mbpool = sl_mbuf_pool_create(&pc);
	assert_non_null(mbpool);
	cfg.pool = mbpool;
	p = sl_pktdev_open(&cfg);
	if (p == NULL)
		fail_msg("opening a multi-buffer lport on %s: %s", DEVF,
			 strerror(errno));
	cfg.pool = pool;
	/* a lport without multi-buffer cannot join */
	cfg.name = "steer-f1";
	cfg.qid = 1;
	cfg.options = "mode=skb,steer=rules,multi_buffer=no";
	capture_begin();
	assert_null(sl_pktdev_open(&cfg));
	capture_end(log, sizeof(log));
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(log, "in its xdp.frags (multi-buffer) build "
				    "by lport steer-f0; this lport needs the "
				    "xdp build"));
	ifindex = (int)if_nametoindex(DEVF);
	memset(&q, 0, sizeof(q));
	q.sz = sizeof(q);
	assert_int_equal(bpf_xdp_query(ifindex, 0, &q), 0);
	prog_fd = bpf_prog_get_fd_by_id(q.skb_prog_id);
	assert_true(prog_fd >= 0);
	id = add(DEVF, "udp port 7777 xsk");
	len = pk_build(big, &(struct pk){.dst = "198.18.0.1",
					 .dport = 7777,
					 .extra = 8000});
	assert_true(len > 8000);
	assert_int_equal(run_pkt(big, len, 0), XSK);
	assert_int_equal(rule_pkts(DEVF, id, &bytes), 1);
	assert_int_equal(bytes, len);
	big[14 + 20 + 3] = 0x62; /* port 7778 */
	assert_int_equal(run_pkt(big, len, 0), PASS);
	close(prog_fd);
	/* the other build sees the first buffer only, and counts it alone */
	prog_fd = fd;
	ifindex = ix;
	big[14 + 20 + 3] = 0x61; /* port 7777 again */
	id = add(DEV, "udp port 7777 xsk");
	assert_int_equal(run_pkt(big, len, 0), XSK);
	assert_int_equal(rule_pkts(DEV, id, &bytes), 1);
	assert_true(bytes < len);
	sl_pktdev_close(p);
	sl_mempool_destroy(mbpool);
}

/* The stack's channels (sl_chnl.h) bring their port to sluice while they
 * are bound: a channel opened before sl_cnet_steer_attach() gets its rule
 * at the attach, one opened after at its bind, and closing removes it. */
static void
test_chnl_rules(void **state)
{
	struct sl_cnet *c = sl_cnet_create(NULL);
	struct sl_chnl *a, *b;

	(void)state;
	assert_non_null(c);
	a = sl_chnl_open(c, "udp4-listen:198.18.0.1:7", NULL, NULL);
	assert_non_null(a);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 7); /* not attached yet */
	assert_int_equal(sl_cnet_steer_attach(c, DEV, false), 0);
	assert_int_equal(sl_cnet_steer_attach(c, DEV, false), 0); /* once */
	assert_int_equal(sl_steer_rule_list(DEV, NULL, 0), 1);
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 7);
	EXPECT(PASS, .dst = "198.18.0.2", .dport = 7); /* another address */
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 8);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 7, .proto = 6); /* TCP */
	b = sl_chnl_open(c, "udp4-listen:9", NULL, NULL);
	assert_non_null(b);
	EXPECT(XSK, .dst = "198.18.0.2", .dport = 9); /* any address */
	EXPECT(XSK, .dst = "198.18.0.1", .dport = 9);
	sl_chnl_close(a);
	EXPECT(PASS, .dst = "198.18.0.1", .dport = 7);
	EXPECT(XSK, .dst = "198.18.0.2", .dport = 9);
	sl_chnl_close(b);
	EXPECT(PASS, .dst = "198.18.0.2", .dport = 9);
	assert_int_equal(sl_steer_rule_list(DEV, NULL, 0), 0);
	sl_cnet_free(c);
}

/* ---- setup --------------------------------------------------------------- */

static int
sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "'%s' failed (%d)\n", cmd, rc);
	return rc;
}

static int
write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return rc;
}

/* Our own network namespace and veth pairs; 77 when that is impossible. */
static int
netns_setup(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "SKIP: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 77;
	}
	/* no IPv6 autoconfiguration traffic on the devices */
	(void)write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	(void)write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (sh("ip link set lo up") != 0 ||
	    sh("ip link add " DEV " numrxqueues 2 numtxqueues 2 type veth "
	       "peer name sltp1") != 0) {
		fprintf(stderr, "SKIP: cannot create a veth pair with ip\n");
		return 77;
	}
	if (sh("ip link add " DEV2 " numrxqueues 2 numtxqueues 2 type veth "
	       "peer name sltq1") != 0 ||
	    sh("ip link add " DEVF " numrxqueues 2 numtxqueues 2 type veth "
	       "peer name sltf1") != 0 ||
	    sh("ip link set " DEVF " mtu 9000 && ip link set sltf1 mtu 9000") !=
		    0 ||
	    sh("for d in sltp0 sltp1 sltq0 sltq1 sltf0 sltf1; do "
	       "ip link set $d up || exit 1; done") != 0)
		return 1;
	return 0;
}

static int
group_setup(void **state)
{
	struct sl_mbuf_pool_cfg pc = {
		.name = "slt-steer", .n = 4096, .frame_size = 4096};
	struct sl_port_cfg cfg = {
		.name = "steer-q0",
		.backend = "net_af_xdp",
		.ifname = DEV,
		.qid = 0,
		.options = "mode=skb,steer=rules",
	};
	struct bpf_xdp_query_opts q;

	(void)state;
	pool = sl_mbuf_pool_create(&pc);
	if (pool == NULL)
		return -1;
	cfg.pool = pool;
	port = sl_pktdev_open(&cfg);
	cfg.name = "steer-all";
	cfg.ifname = DEV2;
	cfg.options = "mode=skb";
	port2 = sl_pktdev_open(&cfg);
	if (port == NULL || port2 == NULL) {
		fprintf(stderr, "opening net_af_xdp lports: %s\n",
			strerror(errno));
		return -1;
	}
	ifindex = (int)if_nametoindex(DEV);
	memset(&q, 0, sizeof(q));
	q.sz = sizeof(q);
	if (bpf_xdp_query(ifindex, 0, &q) < 0 || q.skb_prog_id == 0) {
		fprintf(stderr, "no XDP program on %s in SKB mode\n", DEV);
		return -1;
	}
	prog_fd = bpf_prog_get_fd_by_id(q.skb_prog_id);
	return prog_fd >= 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (prog_fd >= 0)
		close(prog_fd);
	if (port != NULL)
		sl_pktdev_close(port);
	if (port2 != NULL)
		sl_pktdev_close(port2);
	sl_mempool_destroy(pool);
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, rules_teardown)

int
main(void)
{
	const struct CMUnitTest t[] = {
		T(test_default_action), T(test_ethertype_vlan),
		T(test_proto),		T(test_prefix_v4),
		T(test_prefix_v6),	T(test_ports),
		T(test_priority),	T(test_transit),
		T(test_counters),	T(test_api_errors),
		T(test_steer_option),	T(test_frags),
		T(test_chnl_rules),
	};
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (a network namespace, "
				"CAP_BPF, CAP_NET_ADMIN)\n");
		return 77;
	}
	rc = netns_setup();
	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("steer_prog", t, group_setup,
					   group_teardown);
}

#else /* !SLT_HAVE_AF_XDP */

int
main(void)
{
	const char *why = getenv("SLT_AF_XDP_MISSING");

	fprintf(stderr, "SKIP: net_af_xdp is not built (missing %s)\n",
		why != NULL && why[0] != '\0' ? why
					      : "libbpf, libxdp or clang");
	return 77;
}

#endif /* SLT_HAVE_AF_XDP */
