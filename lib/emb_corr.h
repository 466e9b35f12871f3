/*
 * emb_corr.h - what embspearman and embpearson share: the TSV column
 * reader (emb_cols.c) and the correlation statistics, grouping and report
 * (emb_corr.c).  The statistics follow scipy 1.10's spearmanr/pearsonr
 * (stats/_stats_py.py) case by case, so results agree to rounding.
 */
#ifndef EMB_CORR_H
#define EMB_CORR_H

#include "emb.h"

#include <getopt.h>

/* ---- columns of numbers from TSV text (emb_cols.c) ---- */

enum emb_nan_policy { EMB_NAN_ERROR, EMB_NAN_OMIT, EMB_NAN_PROPAGATE };

/* Which columns to read: each spec is a 1-based number, or a name when
 * HEADER says the first line names the columns.  Y may list several,
 * comma-separated.  GROUP may be NULL. */
struct emb_cols_spec {
	const char *x, *y, *group;
	bool header;
	enum emb_nan_policy nan;
};

/*
 * The chosen columns of all input rows, in memory (O(rows) doubles each).
 * A missing cell (empty, nan, NA) is stored as NaN unless the policy is
 * EMB_NAN_ERROR, which dies naming the line.  Everything is owned by the
 * struct and released by emb_cols_free().
 */
struct emb_cols {
	size_t rows;
	size_t ny;            /* number of y columns */
	double *x;            /* rows values */
	double **y;           /* ny arrays of rows values */
	char *xname;          /* the column's header name, or its number */
	char **ynames;
	uint32_t *group;      /* rows group ids (0..ngroups-1), or NULL */
	char **group_names;   /* by id, in order of first appearance */
	size_t ngroups;
	/* private */
	size_t cap, group_cap;
};

/* Read FILES (NULL or "-" = stdin) in turn; dies on bad data (exit 1) and
 * bad column specs (exit 2). */
void emb_cols_read(struct emb_cols *c, const struct emb_cols_spec *s,
		   char *const *files, int nfiles);
void emb_cols_free(struct emb_cols *c);

/* ---- correlation statistics (emb_corr.c) ---- */

enum emb_alternative { EMB_ALT_TWO_SIDED, EMB_ALT_LESS, EMB_ALT_GREATER };
enum emb_corr_kind { EMB_PEARSON, EMB_SPEARMAN };

/* Ranks 1..n of V (no NaN) with ties given their average rank (scipy
 * rankdata 'average'), into RANK (n doubles, caller's; may be V).  O(n)
 * extra memory: 32 bytes a value allocated, touched only when there are
 * more than 4096 distinct values. */
void emb_rankdata(const double *v, size_t n, double *rank);

/* emb_rankdata() of the K columns V[i] of N values into RANK[i], on up to
 * emb_threads() threads when N is large; RANK[i] may be V[i]. */
void emb_rankdata_cols(const double *const *v, size_t k, size_t n, double *const *rank);

/* Pearson r of X and Y (n values each) as the cosine of the centred
 * columns, two-pass; clamped to [-1, 1].  NaN if n < 2. */
double emb_pearson_r(const double *x, const double *y, size_t n);
/* p-values as scipy: pearsonr's Beta(n/2-1, n/2-1) on [-1, 1] (p = 1 at
 * n = 2), and spearmanr's Student t with n-2 degrees of freedom. */
double emb_pearson_p(double r, size_t n, enum emb_alternative alt);
double emb_spearman_p(double r, size_t n, enum emb_alternative alt);
/* Fisher-z interval at LEVEL (0 < LEVEL < 1) as scipy's
 * PearsonRResult.confidence_interval; BONETT_WRIGHT uses the variance
 * (1 + r^2/2)/(n - 3) that suits Spearman's rho.  (-1, 1) when n <= 3. */
void emb_fisher_ci(double r, size_t n, double level, enum emb_alternative alt,
		   bool bonett_wright, double *lo, double *hi);

/* One output row. */
struct emb_corr_result {
	const char *group;    /* group name, an aggregate name, or NULL */
	size_t n;             /* pairs used */
	double r, p, lo, hi;  /* lo/hi are NaN without an interval */
};

/* Everything the two programs' shared options set. */
struct emb_corr_opts {
	enum emb_corr_kind kind;
	struct emb_cols_spec cols;
	enum emb_alternative alt;
	double ci;            /* interval level, 0 = none */
	unsigned long bootstrap; /* resamples, 0 = Fisher z (or none) */
	unsigned long seed;
	bool percent, json;
	bool compare;         /* compare every pair of y columns (Williams' t) */
	bool steiger;         /* ... and add Steiger's z */
};
#define EMB_CORR_OPTS_INIT(k) {.kind = (k), .cols = {.x = "1", .y = "2"}}

/* Long options both programs accept; splice next to EMB_COMMON_LONGOPTS
 * and add EMB_CORR_SHORTOPTS to the short string. */
enum {
	EMB_OPT_CORR_HEADER = EMB_OPT_FIRST_PROGRAM + 0x40, EMB_OPT_CORR_GROUP,
	EMB_OPT_CORR_NAN, EMB_OPT_CORR_ALT, EMB_OPT_CORR_CI,
	EMB_OPT_CORR_PERCENT, EMB_OPT_CORR_JSON, EMB_OPT_CORR_BOOTSTRAP,
	EMB_OPT_CORR_SEED, EMB_OPT_CORR_COMPARE, EMB_OPT_CORR_STEIGER
};
#define EMB_CORR_SHORTOPTS "x:y:"
#define EMB_CORR_LONGOPTS \
	{"header", no_argument, NULL, EMB_OPT_CORR_HEADER}, \
	{"group", required_argument, NULL, EMB_OPT_CORR_GROUP}, \
	{"nan", required_argument, NULL, EMB_OPT_CORR_NAN}, \
	{"alternative", required_argument, NULL, EMB_OPT_CORR_ALT}, \
	{"ci", required_argument, NULL, EMB_OPT_CORR_CI}, \
	{"percent", no_argument, NULL, EMB_OPT_CORR_PERCENT}, \
	{"json", no_argument, NULL, EMB_OPT_CORR_JSON}, \
	{"bootstrap", required_argument, NULL, EMB_OPT_CORR_BOOTSTRAP}, \
	{"seed", required_argument, NULL, EMB_OPT_CORR_SEED}, \
	{"compare", no_argument, NULL, EMB_OPT_CORR_COMPARE}, \
	{"steiger", no_argument, NULL, EMB_OPT_CORR_STEIGER}
/* The help of the shared options: emb_corr_help ends with the --ci line,
 * which the program continues with its interval's name; then
 * emb_corr_help_compare (bootstrap, seed, compare, steiger). */
extern const char emb_corr_help[], emb_corr_help_compare[];
/* Handle one getopt result if it is a shared correlation option. */
bool emb_corr_option(struct emb_corr_opts *o, int opt, const char *arg);
/* After the options: defaults that depend on others (--bootstrap's level)
 * and usage errors for combinations that mean nothing. */
void emb_corr_options_done(struct emb_corr_opts *o);

/* Read the columns from FILES and print the report: one row per y column
 * (and per group, then the mean, wmean and all aggregates with --group). */
void emb_corr_main(const struct emb_corr_opts *o, char *const *files, int nfiles);

/* embpearson --partial: read the columns of FILES as emb_corr_main does
 * and write their partial (kind "pearson": per y column and group, n, the
 * means, co-moments, minima and maxima) to standard output. */
void emb_corr_partial(const struct emb_corr_opts *o, char *const *files, int nfiles);
/* embpearson --merge: merge the partials FILES exactly and print the report
 * emb_corr_main prints for their rows (O's -x, -y, --group and --nan are
 * the partials'; --alternative, --ci, --percent and --json are O's). */
void emb_corr_merge(const struct emb_corr_opts *o, char *const *files, int nfiles);

/* The correlation of one pair of columns (n values, no NaN), with the
 * interval the options ask for.  Warns (naming WHAT) on constant input. */
struct emb_corr_result emb_corr_compute(const struct emb_corr_opts *o,
					 const double *x, const double *y,
					 size_t n, const char *what);

/* ---- two correlations that share the gold (emb_corr.c) ----
 *
 * R1 = r(x, y1) and R2 = r(x, y2) on the same N rows, R12 = r(y1, y2).
 * Williams' t (Williams 1959, Steiger 1980 eq. 7) has N-3 degrees of
 * freedom; Steiger's z (1980, eq. 14 with the pooled mean of R1 and R2)
 * compares Fisher's z of R1 and R2 and is standard normal.  Both are NaN
 * when N < 4 or an r is NaN; +-inf when R1 or R2 is +-1. */
double emb_williams_t(double r1, double r2, double r12, size_t n);
double emb_steiger_z(double r1, double r2, double r12, size_t n);
/* p-values of a t with DF degrees of freedom, and of a standard normal z. */
double emb_t_p(double t, double df, enum emb_alternative alt);
double emb_z_p(double z, enum emb_alternative alt);

#endif /* EMB_CORR_H */
