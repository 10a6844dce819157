/*
 * Benchmark plumbing: options, medians, machine description, JSON writer
 * and table. See bench_common.h for the output contract.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sluice/sl_time.h"

#include "bench_common.h"

static void
usage(FILE *f, const char *prog, const char *default_out)
{
	fprintf(f,
		"usage: %s [--out FILE] [--reps N] [--quick]\n"
		"  --out FILE  JSON results (default %s)\n"
		"  --reps N    repetitions per side and row, median reported "
		"(default 7, 1..%d)\n"
		"  --quick     fewer iterations and repetitions (smoke test)\n",
		prog, default_out, BENCH_MAX_REPS);
}

int
bench_parse_args(int argc, char **argv, const char *default_out,
		 struct bench_opts *o)
{
	static const struct option lopts[] = {
		{"out", required_argument, NULL, 'o'},
		{"reps", required_argument, NULL, 'r'},
		{"quick", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool reps_given = false;
	unsigned long v;
	char *end;
	int c;

	o->out = default_out;
	o->reps = 7;
	o->quick = false;
	while ((c = getopt_long(argc, argv, "o:r:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'r':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 ||
			    v > BENCH_MAX_REPS) {
				fprintf(stderr,
					"%s: --reps '%s': need an integer in "
					"1..%d\n",
					argv[0], optarg, BENCH_MAX_REPS);
				return -EINVAL;
			}
			o->reps = (unsigned)v;
			reps_given = true;
			break;
		case 'q':
			o->quick = true;
			break;
		case 'h':
			usage(stdout, argv[0], default_out);
			return 1;
		default:
			usage(stderr, argv[0], default_out);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		usage(stderr, argv[0], default_out);
		return -EINVAL;
	}
	if (o->quick && !reps_given)
		o->reps = 3;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	/* NaN sorts last, so a few failed repetitions stay visible as NaN
	 * only when they are the majority */
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void
bench_report_init(struct bench_report *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
}

void
bench_report_fini(struct bench_report *r)
{
	unsigned i;

	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i].value);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

int
bench_report_add(struct bench_report *r, const char *name, const char *unit,
		 enum bench_dir dir, const char *peer_name,
		 const double *sluice_reps, const double *peer_reps, unsigned n)
{
	double tmp[BENCH_MAX_REPS];
	struct bench_row *row;
	unsigned i;

	if (r->nrows == r->cap) {
		unsigned cap = r->cap != 0 ? r->cap * 2 : 16;
		struct bench_row *rows = realloc(r->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return -ENOMEM;
		r->rows = rows;
		r->cap = cap;
	}
	if (n > BENCH_MAX_REPS)
		n = BENCH_MAX_REPS;
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->unit = unit;
	row->peer_name = peer_name;
	row->dir = dir;
	row->nreps = n;
	for (i = 0; i < n; i++) {
		row->sluice_reps[i] = sluice_reps[i];
		row->peer_reps[i] = peer_reps[i];
	}
	memcpy(tmp, row->sluice_reps, n * sizeof(double));
	row->sluice = bench_median(tmp, n);
	memcpy(tmp, row->peer_reps, n * sizeof(double));
	row->peer = bench_median(tmp, n);
	return 0;
}

static void
note_set(struct bench_report *r, const char *key, char *json)
{
	if (json == NULL || r->nnotes == SL_DIM(r->notes)) {
		free(json);
		return;
	}
	r->notes[r->nnotes].key = key;
	r->notes[r->nnotes].value = json;
	r->nnotes++;
}

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
bench_report_note_str(struct bench_report *r, const char *key,
		      const char *value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	json_str(f, value);
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	note_set(r, key, buf);
}

static void
json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f); /* JSON has no NaN */
}

void
bench_report_note_num(struct bench_report *r, const char *key, double v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	json_num(f, v);
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	note_set(r, key, buf);
}

double
bench_row_speedup(const struct bench_row *row)
{
	if (!(row->sluice > 0) || !(row->peer > 0))
		return NAN;
	if (row->dir == BENCH_LOWER_IS_BETTER)
		return row->peer / row->sluice;
	return row->sluice / row->peer;
}

int
bench_mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len;
	char *p;

	len = strlen(dir);
	if (len == 0)
		return 0;
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int
bench_rm_rf(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

static void
cpu_model(char *buf, size_t len)
{
	static const char *const keys[] = {"model name", "Model", "Hardware",
					   "cpu model"};
	char line[512];
	unsigned k;
	FILE *f;

	snprintf(buf, len, "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return;
	for (k = 0; k < SL_DIM(keys); k++) {
		rewind(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			size_t kl = strlen(keys[k]);
			char *v;

			if (strncmp(line, keys[k], kl) != 0 ||
			    (line[kl] != ' ' && line[kl] != '\t' &&
			     line[kl] != ':'))
				continue;
			v = strchr(line, ':');
			if (v == NULL)
				continue;
			v++;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(buf, len, "%s", v);
			fclose(f);
			return;
		}
	}
	fclose(f);
}

static const char *
compiler_id(void)
{
#if defined(__clang__)
	return "clang " __clang_version__;
#elif defined(__GNUC__)
	return "gcc " __VERSION__;
#else
	return "unknown";
#endif
}

int
bench_report_write_json(const struct bench_report *r, const char *path)
{
	char tmp[PATH_MAX], dir[PATH_MAX], model[256], date[32];
	struct utsname un;
	struct tm tm;
	time_t now;
	unsigned i, j;
	char *slash;
	FILE *f;
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		err = bench_mkdir_p(dir);
		if (err < 0) {
			fprintf(stderr,
				"bench: cannot create directory %s: %s\n", dir,
				strerror(-err));
			return err;
		}
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		fprintf(stderr, "bench: path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		err = -errno;
		fprintf(stderr, "bench: cannot write %s: %s\n", tmp,
			strerror(errno));
		return err;
	}

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cpu_model(model, sizeof(model));
	if (uname(&un) != 0)
		memset(&un, 0, sizeof(un));

	fputs("{\"name\": ", f);
	json_str(f, r->name);
	fputs(", \"date\": ", f);
	json_str(f, date);
	fputs(",\n \"machine\": {\"cpu_model\": ", f);
	json_str(f, model);
	fprintf(f,
		", \"cpus\": %ld, \"kernel\": ", sysconf(_SC_NPROCESSORS_ONLN));
	{
		char kernel[sizeof(un.sysname) + sizeof(un.release) + 2];

		snprintf(kernel, sizeof(kernel), "%s %s", un.sysname,
			 un.release);
		json_str(f, kernel);
	}
	fputs(", \"arch\": ", f);
	json_str(f, un.machine);
	fputs(", \"compiler\": ", f);
	json_str(f, compiler_id());
	fprintf(f, ", \"tsc_hz\": %" PRIu64 "},\n \"config\": {", sl_tsc_hz());
	for (i = 0; i < r->nnotes; i++) {
		fprintf(f, "%s", i > 0 ? ", " : "");
		json_str(f, r->notes[i].key);
		fprintf(f, ": %s", r->notes[i].value);
	}
	fputs("},\n \"rows\": [", f);
	for (i = 0; i < r->nrows; i++) {
		const struct bench_row *row = &r->rows[i];

		fputs(i > 0 ? ",\n  {" : "\n  {", f);
		fputs("\"case\": ", f);
		json_str(f, row->name);
		fputs(", \"unit\": ", f);
		json_str(f, row->unit);
		fputs(", \"sluice\": ", f);
		json_num(f, row->sluice);
		fputs(", \"peer\": ", f);
		json_num(f, row->peer);
		fputs(", \"peer_name\": ", f);
		json_str(f, row->peer_name);
		fputs(", \"better\": ", f);
		json_str(f, row->dir == BENCH_LOWER_IS_BETTER ? "lower"
							      : "higher");
		fputs(", \"speedup\": ", f);
		json_num(f, bench_row_speedup(row));
		fputs(",\n   \"sluice_reps\": [", f);
		for (j = 0; j < row->nreps; j++) {
			fputs(j > 0 ? ", " : "", f);
			json_num(f, row->sluice_reps[j]);
		}
		fputs("], \"peer_reps\": [", f);
		for (j = 0; j < row->nreps; j++) {
			fputs(j > 0 ? ", " : "", f);
			json_num(f, row->peer_reps[j]);
		}
		fputs("]}", f);
	}
	fputs("\n ]}\n", f);

	if (ferror(f) != 0 || fclose(f) != 0) {
		err = -EIO;
		fprintf(stderr, "bench: error writing %s\n", tmp);
		(void)unlink(tmp);
		return err;
	}
	if (rename(tmp, path) != 0) {
		err = -errno;
		fprintf(stderr, "bench: cannot rename %s to %s: %s\n", tmp,
			path, strerror(errno));
		(void)unlink(tmp);
		return err;
	}
	return 0;
}

static void
fmt_num(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.4g", v);
	else
		snprintf(buf, len, "%.2f", v);
}

void
bench_report_print(const struct bench_report *r, FILE *f)
{
	int wcase = (int)strlen("case"), wunit = (int)strlen("unit");
	int wpeer = (int)strlen("peer");
	unsigned i, nfast = 0;

	for (i = 0; i < r->nrows; i++) {
		const struct bench_row *row = &r->rows[i];

		wcase = SL_MAX(wcase, (int)strlen(row->name));
		wunit = SL_MAX(wunit, (int)strlen(row->unit));
		wpeer = SL_MAX(wpeer, (int)strlen(row->peer_name));
	}
	fprintf(f, "%-*s  %-*s  %10s  %10s  %-*s  %8s\n", wcase, "case", wunit,
		"unit", "sluice", "peer", wpeer, "peer", "speedup");
	for (i = 0; i < r->nrows; i++) {
		const struct bench_row *row = &r->rows[i];
		double sp = bench_row_speedup(row);
		char s[32], p[32], x[32];

		fmt_num(s, sizeof(s), row->sluice);
		fmt_num(p, sizeof(p), row->peer);
		if (isfinite(sp))
			snprintf(x, sizeof(x), "%.2fx", sp);
		else
			snprintf(x, sizeof(x), "n/a");
		if (isfinite(sp) && sp >= 1.0)
			nfast++;
		fprintf(f, "%-*s  %-*s  %10s  %10s  %-*s  %8s\n", wcase,
			row->name, wunit, row->unit, s, p, wpeer,
			row->peer_name, x);
	}
	fprintf(f, "bench-%s: %u rows, %u with speedup >= 1.0\n", r->name,
		r->nrows, nfast);
	fflush(f);
}

unsigned
bench_report_check(const struct bench_report *r)
{
	unsigned i, bad = 0;

	for (i = 0; i < r->nrows; i++) {
		const struct bench_row *row = &r->rows[i];

		if (!isfinite(row->sluice) || !(row->sluice > 0) ||
		    !isfinite(row->peer) || !(row->peer > 0)) {
			fprintf(stderr,
				"bench-%s: row '%s' has no valid value "
				"(sluice %g, %s %g)\n",
				r->name, row->name, row->sluice, row->peer_name,
				row->peer);
			bad++;
		}
	}
	return bad;
}
