/* Unit tests of the JSONC configuration loader (sl_config.h): a full
 * configuration read back, defaults, lport-groups expansion, every class
 * of error with its exact file:line:column and key path, the print/parse
 * round trip, the options accessors and sl_config_port_cfg().
 *
 * Error cases mark with '@' where each error must point; the marks are
 * removed before parsing and their line:column computed here, independently
 * of the loader (columns count UTF-8 characters). */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/sl_config.h"

#ifndef CONFIG_DIR
#error "CONFIG_DIR: the directory of the test configurations"
#endif
#define FULL CONFIG_DIR "/full.jsonc"

/* ---- stderr capture ---- */

static int saved_stderr = -1, log_fd = -1;
static char logbuf[65536];

static void
capture_start(void)
{
	fflush(stderr);
	log_fd = memfd_create("log", 0);
	assert_true(log_fd >= 0);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(log_fd, 2) >= 0);
}

static const char *
capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	lseek(log_fd, 0, SEEK_SET);
	n = read(log_fd, logbuf, sizeof(logbuf) - 1);
	logbuf[n > 0 ? n : 0] = '\0';
	close(log_fd);
	return logbuf;
}

static void
expect_in(const char *log, const char *want)
{
	if (strstr(log, want) == NULL)
		fail_msg("missing \"%s\" in the log:\n%s", want, log);
}

static unsigned
count_in(const char *log, const char *what)
{
	unsigned n = 0;

	for (; (log = strstr(log, what)) != NULL; log++)
		n++;
	return n;
}

/* ---- positions ---- */

#define MAX_MARKS 8

struct marked {
	char text[8192];
	char at[MAX_MARKS][24];
	unsigned n;
};

static void
pos_step(unsigned *line, unsigned *col, char ch)
{
	if (ch == '\n') {
		(*line)++;
		*col = 1;
	} else if (((unsigned char)ch & 0xC0) != 0x80) {
		(*col)++;
	}
}

/* Remove the '@' marks of src, keeping where each was. */
static void
mark_strip(struct marked *m, const char *src)
{
	unsigned line = 1, col = 1;
	size_t o = 0;

	memset(m, 0, sizeof(*m));
	for (; *src != '\0'; src++) {
		if (*src == '@') {
			assert_true(m->n < MAX_MARKS);
			snprintf(m->at[m->n++], sizeof(m->at[0]), "%u:%u", line,
				 col);
			continue;
		}
		assert_true(o + 1 < sizeof(m->text));
		m->text[o++] = *src;
		pos_step(&line, &col, *src);
	}
	m->text[o] = '\0';
}

/* "line:col" of the first needle in text, plus skip bytes. */
static const char *
pos_of(const char *text, const char *needle, size_t skip)
{
	static char buf[4][24];
	static unsigned next;
	unsigned line = 1, col = 1;
	const char *hit = strstr(text, needle), *p;
	char *out = buf[next++ % 4];

	assert_non_null(hit);
	hit += skip;
	for (p = text; p < hit; p++)
		pos_step(&line, &col, *p);
	snprintf(out, sizeof(buf[0]), "%u:%u", line, col);
	return out;
}

static char *
file_text(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Parse src (with '@' marks): it must fail with EINVAL and log expect[i]
 * at mark i, as "case.jsonc:line:col: expect[i]". @return the log. */
static const char *
check_errors(const char *src, const char *const *expect)
{
	struct sl_config *cfg;
	struct marked m;
	char want[512];
	const char *log;
	unsigned i;
	int err;

	mark_strip(&m, src);
	capture_start();
	errno = 0;
	cfg = sl_config_parse(m.text, "case.jsonc");
	err = errno;
	log = capture_end();
	if (cfg != NULL) {
		sl_config_free(cfg);
		fail_msg("accepted:\n%s", m.text);
	}
	assert_int_equal(err, EINVAL);
	for (i = 0; expect[i] != NULL; i++) {
		assert_true(i < m.n);
		snprintf(want, sizeof(want), "case.jsonc:%s: %s", m.at[i],
			 expect[i]);
		expect_in(log, want);
	}
	assert_int_equal(i, m.n);
	return log;
}

static struct sl_config *
parse_ok(const char *text)
{
	struct sl_config *cfg;
	const char *log;

	capture_start();
	cfg = sl_config_parse(text, "ok.jsonc");
	log = capture_end();
	if (cfg == NULL)
		fail_msg("rejected (errno %d):\n%s\n%s", errno, text, log);
	return cfg;
}

static bool
cpu_allowed(int cpu)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return CPU_ISSET(cpu, &set);
}

static struct sl_config *
load_full(void)
{
	struct sl_config *cfg;

	if (!cpu_allowed(0)) /* full.jsonc puts its lcore groups on CPU 0 */
		return NULL;
	capture_start();
	cfg = sl_config_load(FULL);
	capture_end();
	if (cfg == NULL)
		fail_msg("%s rejected: %s", FULL, logbuf);
	return cfg;
}

/* ---- valid configurations ---- */

static void
test_full_config(void **state)
{
	const struct sl_config_umem *u;
	const struct sl_config_lport *lp;
	const struct sl_config_thread *t;
	struct sl_config *cfg = load_full();
	char at[24];
	cpu_set_t set;

	(void)state;
	if (cfg == NULL)
		skip();
	assert_string_equal(cfg->file, FULL);
	assert_string_equal(cfg->app.name, "fwd");
	assert_string_equal(cfg->app.desc, "forwards between two devices");
	/* umems: given values, then defaults{} for what is left out */
	assert_int_equal(cfg->numems, 2);
	u = &cfg->umems[0];
	assert_string_equal(u->name, "umem0");
	assert_int_equal(u->bufcnt, 32 * 1024);
	assert_int_equal(u->bufsz, 4096);
	assert_string_equal(u->mtype, "2MB");
	assert_true(u->hugepages);
	assert_int_equal(u->nregions, 3);
	assert_int_equal(u->regions[0], 16 * 1024);
	assert_int_equal(u->regions[2], 8 * 1024);
	assert_int_equal(u->rxdesc, 4096);
	assert_int_equal(u->txdesc, 2048);
	assert_int_equal(u->cache, 64);
	assert_false(u->shared_umem);
	assert_string_equal(u->desc, "three pools");
	snprintf(at, sizeof(at), "%u:%u", u->pos.line, u->pos.col);
	assert_string_equal(at, pos_of(file_text(FULL), "\"umem0\": {", 0));
	u = &cfg->umems[1];
	assert_string_equal(u->name, "small");
	assert_int_equal(u->bufcnt, 2048);
	assert_int_equal(u->nregions, 1);
	assert_int_equal(u->regions[0], 2048);
	assert_int_equal(u->bufsz, 2048);
	assert_int_equal(u->rxdesc, 1024);
	assert_int_equal(u->txdesc, 1024);
	assert_int_equal(u->cache, 128);
	assert_string_equal(u->mtype, "4KB");
	assert_false(u->hugepages);
	/* lports, then the 4 of the group */
	assert_int_equal(cfg->nlports, 8);
	lp = &cfg->lports[0];
	assert_string_equal(lp->name, "eth0:0");
	assert_string_equal(lp->netdev, "eth0");
	assert_string_equal(lp->pmd, "net_af_xdp");
	assert_int_equal(lp->qid, 0);
	assert_int_equal(lp->umem, 0);
	assert_int_equal(lp->region, 1);
	assert_int_equal(lp->busy_poll, 1);
	assert_int_equal(lp->busy_timeout, 50);
	assert_int_equal(lp->busy_budget, 64);
	assert_string_equal(lp->mode, "native");
	assert_false(lp->skb_mode);
	assert_string_equal(lp->desc, "first queue");
	lp = &cfg->lports[1];
	assert_int_equal(lp->qid, 5); /* explicit qid wins over the name */
	assert_int_equal(lp->region, 2);
	assert_int_equal(lp->busy_poll, 0);
	assert_true(lp->skb_mode);
	assert_string_equal(lp->mode, "skb");
	assert_string_equal(lp->xsk_pin_path, "/sys/fs/bpf/xsks_map");
	lp = &cfg->lports[2];
	assert_string_equal(lp->name, "ring0");
	assert_string_equal(lp->pmd, "net_ring"); /* "ring" completed */
	assert_int_equal(lp->umem, 1);
	assert_int_equal(lp->busy_poll, -1);
	assert_string_equal(lp->options, "peer=ring1,size=512");
	/* lcore groups: defined ones, then "default" built in */
	assert_int_equal(cfg->ngroups, 3);
	assert_string_equal(cfg->lcore_groups[0].name, "initial");
	assert_int_equal(cfg->lcore_groups[1].ncpus, 1);
	assert_int_equal(cfg->lcore_groups[1].cpus[0], 0);
	assert_string_equal(cfg->lcore_groups[2].name, "default");
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	assert_int_equal(cfg->lcore_groups[2].ncpus, (uint32_t)CPU_COUNT(&set));
	/* threads */
	assert_int_equal(cfg->nthreads, 3);
	t = &cfg->threads[0];
	assert_string_equal(t->name, "main");
	assert_string_equal(t->type, "main");
	assert_int_equal(t->group, 0);
	assert_int_equal(t->nlports, 0);
	t = &cfg->threads[1];
	assert_string_equal(t->type, "fwd");
	assert_int_equal(t->group, 1);
	assert_int_equal(t->idle_timeout, 10);
	assert_int_equal(t->intr_timeout, 100);
	assert_false(t->yield);
	assert_string_equal(t->desc, "first forwarder");
	assert_int_equal(t->nlports, 4);
	assert_int_equal(t->lports[0], 0);
	assert_int_equal(t->lports[1], 2);
	assert_true(cfg->threads[2].yield);
	assert_int_equal(sl_config_lport_find(cfg, "ethB:1"), 7);
	assert_int_equal(sl_config_lport_find(cfg, "nope"), -ENOENT);
	sl_config_free(cfg);
}

static void
test_minimal(void **state)
{
	struct sl_config *cfg;
	struct sl_port_cfg pc;
	char buf[64];
	cpu_set_t set;

	(void)state;
	cfg = parse_ok("{}");
	assert_int_equal(cfg->numems, 0);
	assert_int_equal(cfg->nlports, 0);
	assert_int_equal(cfg->nthreads, 0);
	assert_int_equal(cfg->ngroups, 2);
	assert_string_equal(cfg->lcore_groups[0].name, "default");
	assert_string_equal(cfg->lcore_groups[1].name, "initial");
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	assert_int_equal(cfg->lcore_groups[0].ncpus, (uint32_t)CPU_COUNT(&set));
	sl_config_free(cfg);

	/* only lports: a "default" umem from the built-in defaults */
	cfg = parse_ok("{\"lports\": {\"eth0:3\": {}, \"null0\": "
		       "{\"pmd\": \"null\"}}}");
	assert_int_equal(cfg->numems, 1);
	assert_string_equal(cfg->umems[0].name, "default");
	assert_int_equal(cfg->umems[0].bufcnt, 16384);
	assert_int_equal(cfg->umems[0].bufsz, 2048);
	assert_int_equal(cfg->umems[0].rxdesc, 2048);
	assert_int_equal(cfg->umems[0].txdesc, 2048);
	assert_int_equal(cfg->umems[0].cache, 256);
	assert_int_equal(cfg->umems[0].nregions, 1);
	assert_int_equal(cfg->umems[0].regions[0], 16384);
	assert_string_equal(cfg->umems[0].mtype, "");
	assert_true(cfg->umems[0].hugepages);
	assert_int_equal(cfg->nlports, 2);
	assert_string_equal(cfg->lports[0].pmd, "net_af_xdp");
	assert_string_equal(cfg->lports[0].netdev, "eth0");
	assert_int_equal(cfg->lports[0].qid, 3);
	assert_int_equal(cfg->lports[0].busy_poll, -1);
	assert_int_equal(sl_config_port_cfg(cfg, 0, &pc, buf, sizeof(buf)), 0);
	assert_string_equal(pc.ifname, "eth0");
	assert_string_equal(pc.options, "");
	assert_int_equal(sl_config_port_cfg(cfg, 1, &pc, buf, sizeof(buf)), 0);
	assert_string_equal(pc.backend, "net_null");
	assert_null(pc.ifname);
	assert_int_equal(pc.qid, 0);
	sl_config_free(cfg);
}

static void
test_lport_groups(void **state)
{
	static const char *const names[] = {"a:2", "a:3", "a:4", "b:2",
					    "b:3", "b:4", "c:7"};
	const struct sl_config_thread *t;
	struct sl_config *cfg;
	unsigned i;

	(void)state;
	cfg = parse_ok(
		"{\n"
		" \"umems\": {\"u0\": {}, \"u1\": {\"regions\": [1, 1]}},\n"
		" \"lport-groups\": {\n"
		"  \"g\": {\"netdevs\": [\"a\", \"b\"], \"queues\": "
		"\"2-4\", \"umem\": \"u1\", \"region\": 1,\n"
		"        \"threads\": [\"rx:0\", \"rx:1\"], \"mode\": "
		"\"zc\", \"busy_budget\": 65535},\n"
		"  \"h\": {\"netdevs\": [\"c\"], \"queues\": 7, "
		"\"umem\": \"u0\"},\n"
		"  \"i\": {\"netdevs\": [\"d\"], \"queues\": \"9\", "
		"\"umem\": \"u0\", \"threads\": [\"rx:1\"]}\n"
		" },\n"
		" \"threads\": {\"rx:0\": {}, \"rx:1\": {}}\n"
		"}");
	assert_int_equal(cfg->nlports, 8);
	for (i = 0; i < SL_DIM(names); i++) {
		assert_string_equal(cfg->lports[i].name, names[i]);
		assert_int_equal(cfg->lports[i].qid, names[i][2] - '0');
		assert_int_equal(cfg->lports[i].netdev[0], names[i][0]);
	}
	assert_string_equal(cfg->lports[7].name, "d:9");
	/* the group's settings on each of its lports */
	for (i = 0; i < 6; i++) {
		assert_int_equal(cfg->lports[i].umem, 1);
		assert_int_equal(cfg->lports[i].region, 1);
		assert_string_equal(cfg->lports[i].mode, "zc");
		assert_int_equal(cfg->lports[i].busy_poll, 0);
		assert_int_equal(cfg->lports[i].pos.line, 4);
	}
	assert_int_equal(cfg->lports[6].umem, 0);
	assert_int_equal(cfg->lports[6].busy_poll, -1);
	/* round robin over threads[], in the order netdev, then queue */
	t = &cfg->threads[0];
	assert_int_equal(t->nlports, 3);
	assert_int_equal(t->lports[0], 0);
	assert_int_equal(t->lports[1], 2);
	assert_int_equal(t->lports[2], 4);
	t = &cfg->threads[1];
	assert_int_equal(t->nlports, 4);
	assert_int_equal(t->lports[0], 1);
	assert_int_equal(t->lports[1], 3);
	assert_int_equal(t->lports[2], 5);
	assert_int_equal(t->lports[3], 7);
	sl_config_free(cfg);
}

/* JSONC: both kinds of comment, trailing commas, single quotes. */
static void
test_jsonc_syntax(void **state)
{
	struct sl_config *cfg;

	(void)state;
	cfg = parse_ok("// a line comment\n"
		       "{ /* a block\n comment */\n"
		       "  'application': {\"name\": 'x', },\n"
		       "  \"lports\": {\"e:0\": {\"qid\": 1, /* why */},},\n"
		       "}\n// the end\n");
	assert_string_equal(cfg->app.name, "x");
	assert_int_equal(cfg->lports[0].qid, 1);
	sl_config_free(cfg);
}

/* ---- errors ---- */

static void
test_err_syntax(void **state)
{
	static const char *const bad_char[] = {
		"syntax error: unexpected character at 'x'", NULL};
	static const char *const eof[] = {
		"syntax error: unexpected end of the text", NULL};
	static const char *const after[] = {
		"syntax error: text after the end of the document at '{'",
		NULL};
	static const char *const unquoted[] = {
		"syntax error: quoted object property name expected", NULL};
	static const char *const not_obj[] = {
		"(top level): expected an object {...}, got an array", NULL};

	(void)state;
	check_errors("{\n  \"umems\": {\n    \"u\": {\"bufcnt\": @x}\n  }\n}",
		     bad_char);
	check_errors("{\"lports\": {\"e:0\": {}}\n  @", eof);
	check_errors("{}\n// a comment\n @{}", after);
	check_errors("{\n\t@umems: {}\n}", unquoted);
	check_errors("  /* c */ @[1]", not_obj);
}

static void
test_err_types_ranges(void **state)
{
	static const char *const exp[] = {
		"defaults.bufsz: expected an integer 1..64, got 65",
		"defaults.cache: expected an integer 0..512, got 513",
		"defaults.mtype: expected one of 4KB, 2MB, got \"1GB\"",
		"umems.u.bufcnt: expected an integer 1..65536, got \"16\"",
		"umems.u.shared_umem: expected true or false, got 1",
		"lports: expected an object {...}, got an array",
		("threads.t.idle_timeout: expected an integer 0..3600000, "
		 "got -1"),
		"threads.t.yield: expected true or false, got \"yes\"",
		"options: expected an object {...}, got \"x\"",
	};
	const char *e[2] = {NULL, NULL};
	static const char *const texts[] = {
		"{\"defaults\": {\"bufsz\": @65}}",
		"{\"defaults\": {\"cache\": @513}}",
		"{\"defaults\": {\"mtype\": @\"1GB\"}}",
		"{\"umems\": {\"u\": {\"bufcnt\": @\"16\"}}}",
		"{\"umems\": {\"u\": {\"shared_umem\": @1}}}",
		"{\"lports\": @[]}",
		"{\"threads\": {\"t\": {\"idle_timeout\": @-1}}}",
		"{\"threads\": {\"t\": {\"yield\": @\"yes\"}}}",
		"{\"options\": @\"x\"}",
	};
	unsigned i;

	(void)state;
	for (i = 0; i < SL_DIM(texts); i++) {
		e[0] = exp[i];
		check_errors(texts[i], e);
	}
}

static void
test_err_unknown_keys(void **state)
{
	static const char *const exp[] = {
		"lport: unknown key (accepted: application, defaults, umems, "
		"lports, lcore-groups, lport-groups, threads, options, users)",
		"defaults.bufcount: unknown key (accepted: bufcnt, bufsz, "
		"rxdesc, txdesc, cache, mtype)",
		"umems.u.size: unknown key (accepted: bufcnt, bufsz,",
		"lports.\"eth0:0\".queue: unknown key (accepted: pmd, qid,",
		"threads.\"t:0\".cpu: unknown key (accepted: group, lports,",
		"lport-groups.g.qid: unknown key (accepted: netdevs, queues,",
		"application.\"x y\": unknown key (accepted: name,",
		NULL,
	};

	(void)state;
	check_errors("{\n"
		     "  @\"lport\": {},\n"
		     "  \"defaults\": {@\"bufcount\": 1},\n"
		     "  \"umems\": {\"u\": {\"bufcnt\": 1, @\"size\": 2}},\n"
		     "  \"lports\": {\"eth0:0\": {\n\t\t@\"queue\": 1}},\n"
		     "  \"threads\": {\"t:0\": {@\"cpu\": 1}},\n"
		     "  \"lport-groups\": {\"g\": {\"netdevs\": [\"x\"], "
		     "\"queues\": 0, @\"qid\": 1}},\n"
		     "  \"application\": {\"description\": \"é à\", "
		     "@\"x y\": 1}\n"
		     "}",
		     exp);
}

static void
test_err_references(void **state)
{
	static const char *const exp[] = {
		"lports.\"eth0:0\".umem: unknown umem \"c\" (defined: a, b)",
		"lports.\"eth0:2\": missing key 'umem': expected one when "
		"several umems are defined (a, b)",
		"lports.\"eth0:3\".region: expected a region 0..1: umem \"b\" "
		"has 2 regions",
		"threads.\"t:0\".group: unknown lcore group \"nogroup\" "
		"(defined: default, initial)",
		"threads.\"t:0\".lports[1]: unknown lport \"eth9:9\" (defined: "
		"eth0:0, eth0:1, eth0:2, eth0:3)",
		NULL,
	};

	(void)state;
	check_errors("{\n"
		     "  \"umems\": {\"a\": {}, \"b\": {\"regions\": [1, 1]}},\n"
		     "  \"lports\": {\"eth0:0\": {\"umem\": @\"c\"},\n"
		     "     \"eth0:1\": {\"umem\": \"a\"},\n"
		     "     \"eth0:2\": @{},\n"
		     "     \"eth0:3\": {\"umem\": \"b\", \"region\": @2}},\n"
		     "  \"threads\": {\"t:0\": {\"group\": @\"nogroup\",\n"
		     "     \"lports\": [\"eth0:1\", @\"eth9:9\"]}}\n"
		     "}",
		     exp);
}

static void
test_err_threads(void **state)
{
	static const char *const twice[] = {
		"threads.b.lports[0]: lport \"eth0:0\" is already an lport of "
		"thread \"a\": an lport is polled by one thread",
		NULL,
	};
	static const char *const group_thread[] = {
		"lport-groups.g.threads[0]: unknown thread \"u\" (defined: t)",
		NULL,
	};
	static const char *const too_many[] = {
		"lport-groups.g.threads[0]: thread \"t\" has more than the "
		"limit of 16 lports",
		NULL,
	};
	const char *log;

	(void)state;
	check_errors("{\"lports\": {\"eth0:0\": {}},\n"
		     " \"threads\": {\"a\": {\"lports\": [\"eth0:0\"]},\n"
		     "  \"b\": {\"lports\": [@\"eth0:0\"]}}}",
		     twice);
	/* two lports go to the same unknown thread: one error */
	log = check_errors("{\"threads\": {\"t\": {}},\n"
			   " \"lport-groups\": {\"g\": {\"netdevs\": "
			   "[\"e\"], \"queues\": \"0-1\",\n"
			   "   \"threads\": [@\"u\"]}}}",
			   group_thread);
	assert_int_equal(count_in(log, "unknown thread"), 1);
	/* a group of 17 lports to one thread that has room for 16 */
	check_errors("{\"threads\": {\"t\": {}},\n"
		     " \"lport-groups\": {\"g\": {\"netdevs\": "
		     "[\"e\"], \"queues\": \"0-16\",\n"
		     "   \"threads\": [@\"t\"]}}}",
		     too_many);
}

static void
test_err_umems(void **state)
{
	static const char *const exp[] = {
		"umems.u.regions: regions add up to 3 (x1024 buffers) but "
		"bufcnt is 4: expected the same count",
		"umems.v.regions[1]: expected an integer 1..65536, got 0",
		"umems.w.regions: 17 elements, more than the limit of 16",
		NULL,
	};

	(void)state;
	check_errors("{\"umems\": {\n"
		     "  \"u\": {\"bufcnt\": 4, \"regions\": @[1, 2]},\n"
		     "  \"v\": {\"regions\": [1, @0]},\n"
		     "  \"w\": {\"regions\": @[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
		     "1]}\n"
		     "}}",
		     exp);
}

static void
test_err_af_xdp_keys(void **state)
{
	static const char *const exp[] = {
		"lports.r0.busy_poll: only net_af_xdp takes this key, not pmd "
		"net_ring",
		"lports.r0.mode: only net_af_xdp takes this key, not pmd "
		"net_ring",
		"lports.\"eth0:0\".force_wakeup: true is not supported by "
		"sluice: need_wakeup is always used, expected false",
		"lports.\"eth0:0\".unaligned_buffers: true is not supported by "
		"sluice: sluice uses aligned frames, expected false",
		"lports.\"eth0:1\".busy_budget: 65535 turns busy polling off, "
		"but busy_poll is true",
		"lports.\"eth0:2\".skb_mode: true means mode \"skb\", but mode "
		"is \"zc\"",
		"lports.\"eth0:3\".busy_polling: 'busy_polling' is another "
		"name "
		"of 'busy_poll', already given",
		"lports.\"eth0:4\".busy_timeout: busy polling is off "
		"(busy_poll "
		"false or busy_budget 65535): expected no busy_timeout",
		NULL,
	};

	(void)state;
	check_errors(
		"{\"lports\": {\n"
		"  \"r0\": {\"pmd\": \"net_ring\", @\"busy_poll\": true, "
		"@\"mode\": \"zc\"},\n"
		"  \"eth0:0\": {\"force_wakeup\": @true, "
		"\"unaligned_buffers\": "
		"@true},\n"
		"  \"eth0:1\": {\"busy_poll\": true, \"busy_budget\": "
		"@65535},\n"
		"  \"eth0:2\": {\"mode\": \"zc\", \"skb_mode\": @true},\n"
		"  \"eth0:3\": {\"busy_poll\": true, @\"busy_polling\": "
		"true},\n"
		"  \"eth0:4\": {\"busy_poll\": false, \"busy_timeout\": @20}\n"
		"}}",
		exp);
}

static void
test_err_groups(void **state)
{
	static const char *const dup[] = {
		"lport-groups.g1.netdevs[1]: lport \"eth1:1\" (queue 1) is "
		"already defined (at line 2, column 14)",
		"lport-groups.g2.netdevs[0]: lport \"eth0:1\" (queue 1) is "
		"already defined (at line 4, column 25)",
		NULL,
	};
	static const char *const nodev[] = {
		"lport-groups.g.netdevs[0]: no network device \"nosuchdev9\": "
		"queues \"all\" counts the RX queues in "
		"/sys/class/net/nosuchdev9/queues",
		NULL,
	};
	static const char *const refused[] = {
		"lport-groups.g.uds_path: not accepted in lport-groups",
		"lport-groups.g.xsk_pin_path: not accepted in lport-groups",
		"lport-groups.g.queues: expected \"all\", a queue number or a "
		"range \"a-b\" of queues (0..65535), got \"3-1\"",
		"lport-groups.h: missing key 'netdevs'",
		NULL,
	};

	(void)state;
	check_errors("{\n"
		     "  \"lports\": {\"eth1:1\": {}},\n"
		     "  \"lport-groups\": {\n"
		     "     \"g1\": {\"netdevs\": [\"eth0\", @\"eth1\"], "
		     "\"queues\": \"0-1\"},\n"
		     "     \"g2\": {\"netdevs\": [@\"eth0\"], \"queues\": 1}\n"
		     "  }\n"
		     "}",
		     dup);
	check_errors("{\"lport-groups\": {\"g\": {\"netdevs\": "
		     "[@\"nosuchdev9\"], \"queues\": \"all\"}}}",
		     nodev);
	check_errors("{\"lport-groups\": {\n"
		     "  \"g\": {\"netdevs\": [\"e\"], @\"uds_path\": \"/x\", "
		     "@\"xsk_pin_path\": \"/y\", \"queues\": @\"3-1\"},\n"
		     "  \"h\": @{\"queues\": 1}}}",
		     refused);
}

static void
test_err_cpus(void **state)
{
	char text[256], msg[160];
	const char *exp[4] = {msg,
			      "lcore-groups.h: empty group: expected "
			      "at least one CPU",
			      "lcore-groups.i[0]: expected a CPU number or a "
			      "range \"a-b\" of CPUs (0..1023), got \"5-3\"",
			      NULL};
	cpu_set_t set;
	int ok = -1, bad = -1, cpu;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (cpu = 0; cpu < 1024 && (ok < 0 || bad < 0); cpu++) {
		if (CPU_ISSET(cpu, &set) && ok < 0)
			ok = cpu;
		if (!CPU_ISSET(cpu, &set) && bad < 0)
			bad = cpu;
	}
	if (bad < 0)
		skip(); /* every CPU is allowed */
	snprintf(text, sizeof(text),
		 "{\"lcore-groups\": {\n"
		 "  \"g\": [%d, @%d],\n"
		 "  \"h\": @[],\n"
		 "  \"i\": [@\"5-3\"]}}",
		 ok, bad);
	snprintf(msg, sizeof(msg),
		 "lcore-groups.g[1]: CPU %d is not one this process may run on "
		 "(allowed: ",
		 bad);
	check_errors(text, exp);
}

static void
test_err_names(void **state)
{
	static const char *const exp[] = {
		"umems.a2345678901234567890123456789012: 32 bytes, more than "
		"the "
		"limit of 31 for a umem name",
		"lports.\"eth0:x\": expected an lport name \"netdev:queue\" (a "
		"device name of 1..15 bytes, a queue 0..65535) for pmd "
		"net_af_xdp",
		"lports.\"a234567890123456:1\": expected an lport name",
		"defaults.bufcnt: key given twice (first at line 4, column 16)",
		"threads.\":1\": expected a thread name \"type\" or "
		"\"type:id\"",
		NULL,
	};

	(void)state;
	check_errors(
		"{\n"
		"  \"umems\": {@\"a2345678901234567890123456789012\": {}},\n"
		"  \"lports\": {@\"eth0:x\": {}, @\"a234567890123456:1\": "
		"{}},\n"
		"  \"defaults\": {\"bufcnt\": 1, @\"bufcnt\": 2},\n"
		"  \"threads\": {@\":1\": {}}\n"
		"}",
		exp);
}

/* Errors are logged in file order, at most 50. */
static void
test_err_order_and_cap(void **state)
{
	static const char *const none[] = {NULL};
	char text[4096];
	const char *log, *a, *b;
	size_t off;
	unsigned i;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), "{\"defaults\": {");
	for (i = 0; i < 60; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%s\"k%u\": 1", i ? ", " : "", i);
	snprintf(text + off, sizeof(text) - off, "}}");
	log = check_errors(text, none);
	assert_int_equal(count_in(log, "unknown key"), 50);
	expect_in(log, "case.jsonc: 10 more errors not shown");

	/* the top-level key is checked first but logged last */
	log = check_errors(
		"{\"defaults\": {\"bufsz\": @0}, @\"zzz\": 1}",
		(const char *const[]){"defaults.bufsz:", "zzz:", NULL});
	a = strstr(log, "defaults.bufsz");
	b = strstr(log, "zzz");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
}

/* ---- loading files ---- */

static void
test_load(void **state)
{
	struct sl_config *cfg;
	const char *log;

	(void)state;
	capture_start();
	errno = 0;
	cfg = sl_config_load(CONFIG_DIR "/no-such-file.jsonc");
	log = capture_end();
	assert_null(cfg);
	assert_int_equal(errno, ENOENT);
	expect_in(log, CONFIG_DIR "/no-such-file.jsonc: No such file");
	errno = 0;
	assert_null(sl_config_load(NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(sl_config_parse(NULL, "x"));
	assert_int_equal(errno, EINVAL);
	sl_config_free(NULL);
}

/* ---- printing ---- */

static char *
print_to_string(const struct sl_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(sl_config_print(cfg, f), 0);
	fclose(f);
	return buf;
}

static void
lport_same(const struct sl_config_lport *a, const struct sl_config_lport *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->netdev, b->netdev);
	assert_string_equal(a->pmd, b->pmd);
	assert_int_equal(a->qid, b->qid);
	assert_int_equal(a->umem, b->umem);
	assert_int_equal(a->region, b->region);
	assert_int_equal(a->busy_poll, b->busy_poll);
	assert_int_equal(a->busy_timeout, b->busy_timeout);
	assert_int_equal(a->busy_budget, b->busy_budget);
	assert_int_equal(a->skb_mode, b->skb_mode);
	assert_string_equal(a->mode, b->mode);
	assert_string_equal(a->xsk_pin_path, b->xsk_pin_path);
	assert_string_equal(a->uds_path, b->uds_path);
	assert_string_equal(a->options, b->options);
	assert_string_equal(a->desc, b->desc);
}

static void
umem_same(const struct sl_config_umem *a, const struct sl_config_umem *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->bufcnt, b->bufcnt);
	assert_int_equal(a->bufsz, b->bufsz);
	assert_int_equal(a->cache, b->cache);
	assert_int_equal(a->hugepages, b->hugepages);
	assert_string_equal(a->mtype, b->mtype);
	assert_int_equal(a->rxdesc, b->rxdesc);
	assert_int_equal(a->txdesc, b->txdesc);
	assert_int_equal(a->shared_umem, b->shared_umem);
	assert_int_equal(a->nregions, b->nregions);
	assert_memory_equal(a->regions, b->regions,
			    a->nregions * sizeof(a->regions[0]));
	assert_string_equal(a->desc, b->desc);
}

static void
thread_same(const struct sl_config_thread *a, const struct sl_config_thread *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->type, b->type);
	assert_int_equal(a->group, b->group);
	assert_int_equal(a->nlports, b->nlports);
	assert_memory_equal(a->lports, b->lports,
			    a->nlports * sizeof(a->lports[0]));
	assert_int_equal(a->idle_timeout, b->idle_timeout);
	assert_int_equal(a->intr_timeout, b->intr_timeout);
	assert_int_equal(a->yield, b->yield);
	assert_string_equal(a->desc, b->desc);
}

static void
test_print_round_trip(void **state)
{
	struct sl_config *a = load_full(), *b;
	char *text1, *text2;
	const char *opt;
	unsigned i;

	(void)state;
	if (a == NULL)
		skip();
	text1 = print_to_string(a);
	b = parse_ok(text1);
	assert_int_equal(a->numems, b->numems);
	assert_int_equal(a->nlports, b->nlports);
	assert_int_equal(a->ngroups, b->ngroups);
	assert_int_equal(a->nthreads, b->nthreads);
	assert_string_equal(a->app.name, b->app.name);
	assert_string_equal(a->app.desc, b->app.desc);
	for (i = 0; i < a->numems; i++)
		umem_same(&a->umems[i], &b->umems[i]);
	for (i = 0; i < a->nlports; i++)
		lport_same(&a->lports[i], &b->lports[i]);
	for (i = 0; i < a->ngroups; i++) {
		assert_string_equal(a->lcore_groups[i].name,
				    b->lcore_groups[i].name);
		assert_int_equal(a->lcore_groups[i].ncpus,
				 b->lcore_groups[i].ncpus);
	}
	for (i = 0; i < a->nthreads; i++)
		thread_same(&a->threads[i], &b->threads[i]);
	assert_int_equal(sl_config_opt_str(b, "cli", NULL, &opt), 0);
	assert_string_equal(opt, "single");
	/* printed again: the same text, but for the file name */
	text2 = print_to_string(b);
	assert_string_equal(strchr(text1, '\n'), strchr(text2, '\n'));
	/* names, not indices; the group expanded */
	assert_non_null(strstr(text1, "\"umem\": \"small\""));
	assert_non_null(strstr(text1, "\"ethB:1\": {"));
	assert_null(strstr(text1, "lport-groups\":"));
	free(text1);
	free(text2);
	sl_config_free(a);
	sl_config_free(b);
}

/* ---- options ---- */

static void
test_options(void **state)
{
	static const char *const known[] = {"pkt_api",	 "no-metrics", "burst",
					    "ring_size", "graph:0",    NULL};
	struct sl_config *cfg = load_full();
	const char *const *v;
	const char *s, *log, *text = file_text(FULL);
	char want[256];
	int64_t n;
	unsigned cnt;
	bool on;

	(void)state;
	if (cfg == NULL)
		skip();
	assert_int_equal(sl_config_opt_str(cfg, "pkt_api", "x", &s), 0);
	assert_string_equal(s, "pktdev");
	assert_int_equal(sl_config_opt_str(cfg, "absent", "def", &s), 0);
	assert_string_equal(s, "def");
	assert_int_equal(sl_config_opt_int(cfg, "burst", 0, 1, 256, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(sl_config_opt_int(cfg, "ring_size", 0, 0, 4096, &n),
			 0);
	assert_int_equal(n, 1024);
	assert_int_equal(sl_config_opt_int(cfg, "absent", -5, -10, 10, &n), 0);
	assert_int_equal(n, -5);
	assert_int_equal(sl_config_opt_bool(cfg, "no-metrics", false, &on), 0);
	assert_true(on);
	assert_int_equal(sl_config_opt_strv(cfg, "graph:0", &v, &cnt), 0);
	assert_int_equal(cnt, 2);
	assert_string_equal(v[0], "ip4*");
	assert_string_equal(v[1], "eth_rx");
	assert_null(v[2]);
	assert_int_equal(sl_config_opt_strv(cfg, "cli", &v, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_string_equal(v[0], "single");
	assert_int_equal(sl_config_opt_strv(cfg, "absent", &v, &cnt), 0);
	assert_int_equal(cnt, 0);
	assert_null(v[0]);

	/* wrong types and ranges, each logged at the value */
	capture_start();
	assert_int_equal(sl_config_opt_str(cfg, "burst", NULL, &s), -EINVAL);
	assert_int_equal(sl_config_opt_int(cfg, "burst", 0, 64, 128, &n),
			 -EINVAL);
	assert_int_equal(sl_config_opt_int(cfg, "pkt_api", 0, 0, 9, &n),
			 -EINVAL);
	assert_int_equal(sl_config_opt_bool(cfg, "cli", false, &on), -EINVAL);
	assert_int_equal(sl_config_opt_strv(cfg, "burst", &v, &cnt), -EINVAL);
	assert_int_equal(sl_config_options_check(cfg, known), -EINVAL);
	sl_config_opt_error(cfg, "graph:0", 1, "no node %s", "eth_rx");
	log = capture_end();
	snprintf(want, sizeof(want),
		 FULL ":%s: options.burst: expected a "
		      "string, got 32",
		 pos_of(text, "\"burst\": 32", 9));
	expect_in(log, want);
	snprintf(want, sizeof(want),
		 FULL ":%s: options.burst: expected an "
		      "integer 64..128, got 32",
		 pos_of(text, "\"burst\": 32", 9));
	expect_in(log, want);
	expect_in(log, "options.pkt_api: expected an integer 0..9, got "
		       "\"pktdev\"");
	expect_in(log, "options.cli: expected true or false, got \"single\"");
	expect_in(log, "options.burst: expected an array of strings, got 32");
	snprintf(want, sizeof(want),
		 FULL ":%s: options.cli: unknown option "
		      "(accepted: pkt_api, no-metrics, burst, "
		      "ring_size, graph:0)",
		 pos_of(text, "\"cli\"", 0));
	expect_in(log, want);
	snprintf(want, sizeof(want),
		 FULL ":%s: options.\"graph:0\"[1]: no node eth_rx",
		 pos_of(text, "\"eth_rx\"", 0));
	expect_in(log, want);
	assert_int_equal(count_in(log, "unknown option"), 1);
	sl_config_free(cfg);
}

static void
test_options_more(void **state)
{
	static const char *const known[] = {"a", "b", NULL};
	struct sl_config *cfg;
	const char *const *v;
	struct marked m;
	const char *log;
	char want[128];
	unsigned n;
	int64_t x;

	(void)state;
	mark_strip(&m, "{\"options\": {\"a\": [\"x\", @1],\n"
		       "  \"b\": \"-0x10\", @\"c\": null, \"d\": 1.5}}");
	cfg = parse_ok(m.text);
	assert_int_equal(sl_config_opt_int(cfg, "b", 0, -100, 100, &x), 0);
	assert_int_equal(x, -16);
	capture_start();
	assert_int_equal(sl_config_opt_strv(cfg, "a", &v, &n), -EINVAL);
	assert_int_equal(sl_config_options_check(cfg, known), -EINVAL);
	assert_int_equal(sl_config_opt_int(cfg, "d", 0, 0, 9, &x), -EINVAL);
	log = capture_end();
	snprintf(want, sizeof(want),
		 "ok.jsonc:%s: options.a[1]: expected a string, got 1",
		 m.at[0]);
	expect_in(log, want);
	snprintf(want, sizeof(want),
		 "ok.jsonc:%s: options.c: unknown option (accepted: a, b)",
		 m.at[1]);
	expect_in(log, want);
	expect_in(log, "options.d: expected an integer 0..9, got 1.5");
	/* no options{} at all: defaults, and every check passes */
	sl_config_free(cfg);
	cfg = parse_ok("{}");
	assert_int_equal(sl_config_options_check(cfg, known), 0);
	assert_int_equal(sl_config_opt_int(cfg, "a", 7, 0, 9, &x), 0);
	assert_int_equal(x, 7);
	sl_config_free(cfg);
}

/* ---- sl_pktdev_open() arguments ---- */

static void
test_port_cfg(void **state)
{
	static const char exp0[] =
		"mode=native,busy_poll=yes,busy_timeout=50,busy_budget=64";
	struct sl_config *cfg = load_full();
	struct sl_port_cfg pc;
	char buf[128];
	int i;

	(void)state;
	if (cfg == NULL)
		skip();
	assert_int_equal(sl_config_port_cfg(cfg, 0, &pc, buf, sizeof(buf)), 0);
	assert_string_equal(pc.name, "eth0:0");
	assert_string_equal(pc.backend, "net_af_xdp");
	assert_string_equal(pc.ifname, "eth0");
	assert_int_equal(pc.qid, 0);
	assert_int_equal(pc.rx_desc, 4096);
	assert_int_equal(pc.tx_desc, 2048);
	assert_null(pc.pool);
	assert_ptr_equal(pc.options, buf);
	assert_string_equal(pc.options, exp0);
	/* exactly the room needed, then one byte less */
	assert_int_equal(sl_config_port_cfg(cfg, 0, &pc, buf, sizeof(exp0)), 0);
	assert_int_equal(sl_config_port_cfg(cfg, 0, &pc, buf, sizeof(exp0) - 1),
			 -ENOSPC);
	assert_int_equal(sl_config_port_cfg(cfg, 1, &pc, buf, sizeof(buf)), 0);
	assert_int_equal(pc.qid, 5);
	assert_string_equal(pc.options, "mode=skb,busy_poll=no,xsk_pin_path="
					"/sys/fs/bpf/xsks_map");
	i = sl_config_lport_find(cfg, "ring0");
	assert_int_equal(
		sl_config_port_cfg(cfg, (uint32_t)i, &pc, buf, sizeof(buf)), 0);
	assert_string_equal(pc.backend, "net_ring");
	assert_null(pc.ifname);
	assert_int_equal(pc.rx_desc, 1024);
	assert_string_equal(pc.options, "peer=ring1,size=512");
	/* no options and no buffer: fine */
	i = sl_config_lport_find(cfg, "ring1");
	assert_int_equal(sl_config_port_cfg(cfg, (uint32_t)i, &pc, NULL, 0), 0);
	assert_null(pc.options);
	i = sl_config_lport_find(cfg, "ethA:1");
	assert_int_equal(
		sl_config_port_cfg(cfg, (uint32_t)i, &pc, buf, sizeof(buf)), 0);
	assert_string_equal(pc.options, "mode=zc,busy_poll=no");
	assert_int_equal(pc.qid, 1);
	assert_int_equal(
		sl_config_port_cfg(cfg, cfg->nlports, &pc, buf, sizeof(buf)),
		-EINVAL);
	assert_int_equal(sl_config_port_cfg(cfg, 0, &pc, NULL, 0), -ENOSPC);
	sl_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_lport_groups),
		cmocka_unit_test(test_jsonc_syntax),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_types_ranges),
		cmocka_unit_test(test_err_unknown_keys),
		cmocka_unit_test(test_err_references),
		cmocka_unit_test(test_err_threads),
		cmocka_unit_test(test_err_umems),
		cmocka_unit_test(test_err_af_xdp_keys),
		cmocka_unit_test(test_err_groups),
		cmocka_unit_test(test_err_cpus),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_order_and_cap),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_options_more),
		cmocka_unit_test(test_port_cfg),
	};

	return cmocka_run_group_tests_name("config", t, NULL, NULL);
}
