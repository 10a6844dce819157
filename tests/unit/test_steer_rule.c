/*
 * The text form of steering rules (sl_steer.h): what sl_steer_rule_parse()
 * accepts and what it fills in, that every refusal names the word that is
 * wrong and what was expected, that sl_steer_rule_format() writes what the
 * parser reads back, and the checks of sl_steer_rule_check(). No device is
 * needed: the calls that need one must say so (-ENODEV), or -ENOTSUP when
 * net_af_xdp is not built.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sluice/sl_log.h"
#include "sluice/sl_steer.h"

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
}

/* ---- good rules ---------------------------------------------------------- */

static struct sl_steer_rule
parse_ok(const char *text)
{
	struct sl_steer_rule r;
	int err;

	err = sl_steer_rule_parse(text, &r);
	if (err != 0)
		fail_msg("'%s': %s, expected it to parse", text,
			 strerror(-err));
	return r;
}

static void
test_parse_examples(void **state)
{
	struct sl_steer_rule r;
	uint8_t a4[4], a6[16];

	(void)state;
	r = parse_ok("udp dst 198.18.0.0/24 port 5000-5010 xsk");
	assert_int_equal(r.prio, SL_STEER_PRIO_AUTO);
	assert_int_equal(r.ethertype, 0);
	assert_int_equal(r.ip_proto, 17);
	assert_int_equal(r.dst_family, AF_INET);
	assert_int_equal(r.dst_plen, 24);
	assert_int_equal(inet_pton(AF_INET, "198.18.0.0", a4), 1);
	assert_memory_equal(r.dst, a4, 4);
	assert_int_equal(r.port_lo, 5000);
	assert_int_equal(r.port_hi, 5010);
	assert_int_equal(r.kind, SL_STEER_KIND_MATCH);
	assert_int_equal(r.action, SL_STEER_XSK);

	r = parse_ok("ip6 tcp port 22 pass");
	assert_int_equal(r.ethertype, 0x86dd);
	assert_int_equal(r.ip_proto, 6);
	assert_int_equal(r.port_lo, 22);
	assert_int_equal(r.port_hi, 22);
	assert_int_equal(r.dst_family, 0);
	assert_int_equal(r.action, SL_STEER_PASS);

	r = parse_ok("ethertype 0x88cc drop");
	assert_int_equal(r.ethertype, 0x88cc);
	assert_int_equal(r.ip_proto, 0);
	assert_int_equal(r.port_hi, 0);
	assert_int_equal(r.action, SL_STEER_DROP);

	r = parse_ok("transit xsk");
	assert_int_equal(r.kind, SL_STEER_KIND_TRANSIT);
	assert_int_equal(r.ethertype, 0);
	assert_int_equal(r.action, SL_STEER_XSK);

	/* a host address without /len, words in any order, extra blanks */
	r = parse_ok("  icmp\tdst 198.18.0.1  prio 3 ip   pass ");
	assert_int_equal(r.prio, 3);
	assert_int_equal(r.ethertype, 0x0800);
	assert_int_equal(r.ip_proto, 1);
	assert_int_equal(r.dst_plen, 32);

	r = parse_ok("dst 2001:2::/48 sctp port 1-65535 transit drop");
	assert_int_equal(r.dst_family, AF_INET6);
	assert_int_equal(r.dst_plen, 48);
	assert_int_equal(inet_pton(AF_INET6, "2001:2::", a6), 1);
	assert_memory_equal(r.dst, a6, 16);
	assert_int_equal(r.ip_proto, 132);
	assert_int_equal(r.port_lo, 1);
	assert_int_equal(r.port_hi, 65535);
	assert_int_equal(r.kind, SL_STEER_KIND_TRANSIT);

	r = parse_ok("proto 89 pass");
	assert_int_equal(r.ip_proto, 89);
	r = parse_ok("ospf pass");
	assert_int_equal(r.ip_proto, 89);
	r = parse_ok("port 0-1023 pass"); /* any of UDP, TCP, SCTP */
	assert_int_equal(r.ip_proto, 0);
	assert_int_equal(r.port_lo, 0);
	assert_int_equal(r.port_hi, 1023);
	r = parse_ok("arp pass");
	assert_int_equal(r.ethertype, 0x0806);
	r = parse_ok("ip6 icmp6 prio 0 xsk");
	assert_int_equal(r.ip_proto, 58);
	assert_int_equal(r.prio, 0);
	r = parse_ok("prio 63 dst 198.18.0.0/0 drop");
	assert_int_equal(r.prio, 63);
	assert_int_equal(r.dst_plen, 0);
	r = parse_ok("xsk"); /* every field a wildcard */
	assert_int_equal(r.ethertype, 0);
	assert_int_equal(r.action, SL_STEER_XSK);
}

/* format(parse(text)) is the canonical text, and parses to the same rule */
static void
test_format_round_trip(void **state)
{
	static const char *const texts[][2] = {
		{"udp dst 198.18.0.0/24 port 5000-5010 xsk",
		 "udp dst 198.18.0.0/24 port 5000-5010 xsk"},
		{"ip6 tcp port 22 pass", "ip6 tcp port 22 pass"},
		{"ethertype 0x88cc drop", "ethertype 0x88cc drop"},
		{"transit xsk", "transit xsk"},
		{"ip4 prio 7 proto 200 pass", "prio 7 ip proto 200 pass"},
		{"transit dst 2001:2::/48 ip6 xsk",
		 "ip6 dst 2001:2::/48 transit xsk"},
		{"port 5-5 drop", "port 5 drop"},
	};
	struct sl_steer_rule r, back;
	char buf[SL_STEER_RULE_TEXT_MAX];
	unsigned i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		r = parse_ok(texts[i][0]);
		n = sl_steer_rule_format(&r, buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(texts[i][1]));
		assert_string_equal(buf, texts[i][1]);
		back = parse_ok(buf);
		assert_memory_equal(&back, &r, sizeof(r));
	}
	r = parse_ok("udp dst 198.18.0.0/24 port 5000-5010 xsk");
	assert_int_equal(sl_steer_rule_format(&r, buf, 10), -ENOSPC);
	assert_int_equal(sl_steer_rule_format(&r, buf, 0), -ENOSPC);
	assert_string_equal(sl_steer_action_name(SL_STEER_DROP), "drop");
	assert_string_equal(sl_steer_action_name((enum sl_steer_action)9), "?");
}

/* ---- bad rules: -EINVAL and a message naming the word -------------------- */

static void
expect_bad(const char *text, const char *needle)
{
	struct sl_steer_rule r;
	char log[2048];
	int err;

	capture_begin();
	err = sl_steer_rule_parse(text, &r);
	capture_end(log, sizeof(log));
	if (err != -EINVAL)
		fail_msg("'%s': returned %d, expected -EINVAL", text, err);
	if (strstr(log, needle) == NULL)
		fail_msg("'%s': the log does not say \"%s\": %s", text, needle,
			 log);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect_bad("", "empty: expected at least an action");
	expect_bad("   ", "empty");
	expect_bad("udp port 5000", "'5000': expected the action last");
	expect_bad("udpp xsk", "'udpp': unknown word: expected ip, ip6");
	expect_bad("udp dst 198.18.0.0/33 xsk",
		   "'198.18.0.0/33': expected a prefix length of 0 to 32");
	expect_bad("dst 2001:2::/129 xsk",
		   "'2001:2::/129': expected a prefix length of 0 to 128");
	expect_bad("dst 198.18.0.0/ xsk", "'198.18.0.0/': expected a prefix");
	expect_bad("dst 198.18.0.300 xsk",
		   "'198.18.0.300': expected an IPv4 or IPv6 address");
	expect_bad("dst xsk", "'dst': expected an address with an optional "
			      "/length after it");
	expect_bad("udp port 5010-5000 xsk",
		   "'5010-5000': the first port is above the last");
	expect_bad("udp port 70000 xsk", "'70000': expected a port");
	expect_bad("udp port 5000- xsk", "'5000-': expected a port");
	expect_bad("udp port -5 xsk", "'-5': expected a port");
	expect_bad("port 0 xsk", "'0': port 0 cannot be matched alone");
	expect_bad("icmp port 22 xsk",
		   "'22': ports need udp, tcp or sctp (or no protocol), but "
		   "'icmp' is protocol 1");
	expect_bad("ip6 dst 198.18.0.0/24 xsk",
		   "'198.18.0.0/24': an IPv4 prefix, but 'ip6' selects");
	expect_bad("ip dst 2001:2::/48 xsk",
		   "'2001:2::/48': an IPv6 prefix, but 'ip' selects");
	expect_bad("arp udp pass", "'udp': needs IPv4 or IPv6, but 'arp'");
	expect_bad("arp transit pass",
		   "'transit': needs IPv4 or IPv6, but 'arp'");
	expect_bad("ethertype 0x88cc port 5 pass",
		   "'5': needs IPv4 or IPv6, but 'ethertype'");
	expect_bad("xsk udp pass", "'xsk': an action, but the action comes "
				   "last (here 'pass')");
	expect_bad("udp tcp xsk", "'tcp': a second protocol (after 'udp')");
	expect_bad("proto 6 udp xsk", "'udp': a second protocol");
	expect_bad("ip arp xsk", "'arp': a second ethertype (after 'ip')");
	expect_bad("ethertype 0x10 drop",
		   "'0x10': expected an ethertype of 0x0600 to 0xffff");
	expect_bad("ethertype zz drop", "'zz': expected an ethertype");
	expect_bad("ethertype drop",
		   "'ethertype': expected an ethertype (e.g. 0x88cc) after it");
	expect_bad("prio 64 xsk", "'64': expected a priority of 0 to 63");
	expect_bad("prio -1 xsk", "'-1': expected a priority");
	expect_bad("prio 1 prio 2 xsk", "'prio': given twice");
	expect_bad("transit transit xsk", "'transit': given twice");
	expect_bad("dst 198.18.0.1 dst 198.18.0.2 xsk", "'dst': given twice");
	expect_bad("udp port 1 port 2 xsk", "'port': given twice");
	expect_bad("proto 0 xsk", "'0': expected an IP protocol number");
	expect_bad("proto 256 xsk", "'256': expected an IP protocol number");
	expect_bad("udp XSK", "'XSK': expected the action last");
	expect_bad("dst 198.18.0.0/24/8 xsk", "'198.18.0.0/24/8'");
	expect_bad("a b c d e f g h i j k l m n o p q r s t u v w x y z xsk",
		   "more than 24 words");
}

/* ---- checks of a rule built in C ----------------------------------------- */

static void
expect_refused(const struct sl_steer_rule *r, const char *needle)
{
	char log[2048];
	int err;

	capture_begin();
	err = sl_steer_rule_check(r);
	capture_end(log, sizeof(log));
	assert_int_equal(err, -EINVAL);
	if (strstr(log, needle) == NULL)
		fail_msg("the log does not say \"%s\": %s", needle, log);
}

static void
test_check(void **state)
{
	struct sl_steer_rule r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(sl_steer_rule_check(&r), 0);
	r.prio = SL_STEER_MAX_RULES;
	expect_refused(&r, "priority 64: 0 to 63");
	r.prio = -2;
	expect_refused(&r, "priority -2");
	r.prio = SL_STEER_PRIO_AUTO;
	assert_int_equal(sl_steer_rule_check(&r), 0);
	r.action = (enum sl_steer_action)3;
	expect_refused(&r, "action 3");
	r.action = SL_STEER_PASS;
	r.kind = (enum sl_steer_kind)2;
	expect_refused(&r, "kind 2");
	r.kind = SL_STEER_KIND_MATCH;
	r.dst_family = 7;
	expect_refused(&r, "destination family 7");
	r.dst_family = AF_INET;
	r.dst_plen = 33;
	expect_refused(&r, "prefix length 33: 0 to 32 for IPv4");
	r.dst_plen = 32;
	r.ethertype = 0x86dd;
	expect_refused(&r, "an IPv4 destination prefix with ethertype 0x86dd");
	r.ethertype = 0x0800;
	assert_int_equal(sl_steer_rule_check(&r), 0);
	r.port_lo = 10;
	r.port_hi = 9;
	expect_refused(&r, "port range 10-9");
	r.port_hi = 10;
	r.ip_proto = 1;
	expect_refused(&r,
		       "a port range needs UDP, TCP or SCTP, not protocol 1");
	r.ip_proto = 17;
	assert_int_equal(sl_steer_rule_check(&r), 0);
	memset(&r, 0, sizeof(r));
	r.ethertype = 0x0806;
	r.kind = SL_STEER_KIND_TRANSIT;
	expect_refused(&r, "transit with ethertype 0x0806");
	expect_refused(NULL, "NULL");
}

/* The calls on a device refuse one this process has not attached to. */
static void
test_no_device(void **state)
{
	struct sl_steer_rule r;
	uint8_t a4[4] = {198, 18, 0, 1};
	unsigned id = 0;
	uint64_t p, b;
	char log[2048];
	int err;

	(void)state;
	r = parse_ok("udp port 5000 xsk");
	capture_begin();
	err = sl_steer_rule_add("slt-nosuch0", &r, &id);
	capture_end(log, sizeof(log));
	if (err == -ENOTSUP) {
		assert_non_null(strstr(log, "net_af_xdp is not built"));
		return;
	}
	assert_int_equal(err, -ENODEV);
	assert_non_null(strstr(log, "slt-nosuch0: sluice's XDP program is "
				    "not attached to it by this process"));
	capture_begin();
	assert_int_equal(sl_steer_rule_del("slt-nosuch0", 64), -ENODEV);
	assert_int_equal(sl_steer_rule_stats("slt-nosuch0", 64, &p, &b),
			 -ENODEV);
	assert_int_equal(sl_steer_rule_list("slt-nosuch0", NULL, 0), -ENODEV);
	assert_int_equal(sl_steer_default_set(NULL, SL_STEER_PASS), -ENODEV);
	assert_int_equal(sl_steer_default_set("lo", (enum sl_steer_action)5),
			 -EINVAL);
	assert_int_equal(sl_steer_local_addr_add(NULL, AF_INET, a4), -ENODEV);
	assert_int_equal(sl_steer_local_addr_add(NULL, 99, a4), -EAFNOSUPPORT);
	assert_int_equal(sl_steer_rule_add(NULL, &r, &id), -ENODEV);
	capture_end(log, sizeof(log));
	assert_non_null(strstr(log, "to no device"));
	assert_non_null(strstr(log, "local address of family 99"));
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_parse_examples),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_no_device),
	};

	return cmocka_run_group_tests_name("steer_rule", t, NULL, NULL);
}
