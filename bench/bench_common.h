/**
 * @file Plumbing shared by every sluice benchmark: command line, statistics,
 * machine description and the result writer (JSON file plus aligned table).
 *
 * Output contract, the same for every benchmark: a JSON object
 * @code
 * {"name": "core", "date": "2024-01-01T00:00:00Z",
 *  "machine": {"cpu_model": ..., "cpus": 2, "kernel": ..., "compiler": ...,
 *              "tsc_hz": ...},
 *  "config": {"reps": 7, "quick": false, ...},
 *  "rows": [{"case": "ring SP/SC burst 32", "unit": "cycles/obj",
 *            "sluice": 3.1, "peer": 3.4, "peer_name": "rte_ring",
 *            "speedup": 1.10, "sluice_reps": [...], "peer_reps": [...]}]}
 * @endcode
 * "speedup" is peer/sluice for times (lower is better) and sluice/peer for
 * rates (higher is better), so > 1.0 always means sluice is faster. A value
 * that could not be measured is written as null and makes the run fail.
 * The same rows are printed as a table, then one summary line
 * "bench-<name>: N rows, M with speedup >= 1.0".
 *
 * Not part of libsluice: linked only into the benchmark executables.
 */
#ifndef SL_BENCH_COMMON_H
#define SL_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Most repetitions kept per row. */
#define BENCH_MAX_REPS 64
/** Longest case name, with its NUL. */
#define BENCH_CASE_LEN 64

/** Options every benchmark accepts. */
struct bench_opts {
	const char *out; /**< --out FILE: where the JSON goes */
	unsigned reps;	 /**< --reps N: repetitions per side and row */
	bool quick;	 /**< --quick: fewer iterations, for a smoke test */
};

/** Which way is better for a row's unit. */
enum bench_dir {
	BENCH_LOWER_IS_BETTER,	/**< a time: cycles/obj, ns/pkt */
	BENCH_HIGHER_IS_BETTER, /**< a rate: Mpps, Gbit/s */
};

/** One result row: sluice and its peer on the same case. */
struct bench_row {
	char name[BENCH_CASE_LEN]; /**< the case, e.g. "ring SP/SC burst 8" */
	const char *unit;	   /**< e.g. "cycles/obj"; static storage */
	const char *peer_name;	   /**< e.g. "rte_ring"; static storage */
	enum bench_dir dir;
	double sluice, peer; /**< medians; NAN when not measured */
	unsigned nreps;	     /**< repetitions kept in the arrays below */
	double sluice_reps[BENCH_MAX_REPS], peer_reps[BENCH_MAX_REPS];
};

/** A benchmark's results, plus free-form configuration notes. */
struct bench_report {
	const char *name; /**< "core" gives "bench-core" in the summary */
	struct bench_row *rows;
	unsigned nrows, cap;
	struct {
		const char *key;
		char *value; /**< already JSON: a quoted string or a number */
	} notes[16];
	unsigned nnotes;
};

/**
 * Parse --out FILE, --reps N, --quick and --help.
 * @param default_out Used when --out is not given ("bench/results/x.json").
 * @return 0, 1 when --help was printed (exit 0), or -EINVAL after a message
 *   on stderr (exit 2).
 */
int bench_parse_args(int argc, char **argv, const char *default_out,
		     struct bench_opts *o);

/** @return the median of v[0..n-1] (sorts v in place), NAN when n is 0. */
double bench_median(double *v, unsigned n);

/** Start an empty report; never fails. */
void bench_report_init(struct bench_report *r, const char *name);

/** Free what a report holds. */
void bench_report_fini(struct bench_report *r);

/**
 * Add a row from the per-repetition values of both sides; the row's values
 * are their medians. A side that failed passes NAN values (or n = 0).
 * @return 0 or -ENOMEM.
 */
int bench_report_add(struct bench_report *r, const char *name, const char *unit,
		     enum bench_dir dir, const char *peer_name,
		     const double *sluice_reps, const double *peer_reps,
		     unsigned n);

/** Record a configuration note as a string (JSON-escaped on output). */
void bench_report_note_str(struct bench_report *r, const char *key,
			   const char *value);

/** Record a numeric configuration note. */
void bench_report_note_num(struct bench_report *r, const char *key, double v);

/** @return the row's speedup (> 1.0: sluice is faster), NAN if unknown. */
double bench_row_speedup(const struct bench_row *row);

/**
 * Write the report as JSON, creating the file's directories.
 * @return 0 or -errno after a message on stderr.
 */
int bench_report_write_json(const struct bench_report *r, const char *path);

/** Print the table and the summary line. */
void bench_report_print(const struct bench_report *r, FILE *f);

/**
 * @return the number of rows with a value that is not a finite positive
 *   number (each named on stderr): a benchmark exits non-zero when > 0.
 */
unsigned bench_report_check(const struct bench_report *r);

/** Create a directory and its parents ("mkdir -p"). @return 0 or -errno. */
int bench_mkdir_p(const char *dir);

/** Remove a directory tree ("rm -rf"). @return 0 or -errno. */
int bench_rm_rf(const char *path);

/** Keep a value alive so the compiler cannot drop the work producing it. */
#define BENCH_USE(x) __asm__ volatile("" : : "r"(x) : "memory")
/** Hide a value from the optimiser (no constant propagation through it). */
#define BENCH_OPAQUE(x) __asm__ volatile("" : "+r"(x))

#endif /* SL_BENCH_COMMON_H */
