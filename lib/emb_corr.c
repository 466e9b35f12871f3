/*
 * emb_corr.c - Pearson and Spearman correlation as scipy 1.10 computes
 * them (pearsonr, spearmanr, rankdata, PearsonRResult.confidence_interval),
 * plus what embpearson and embspearman share: options, grouping with the
 * mean/wmean/all aggregates, bootstrap, and the TSV/JSON report.
 * The caller owns every array passed in; results are plain values.
 */
#include <config.h>
#include "emb_corr.h"

#include <cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranking: LSD radix sort of order-preserving keys ---- */

/* Map a double to an unsigned key with the same order (-0 == +0). */
static uint64_t order_key(double v)
{
	uint64_t b;
	if (v == 0)
		v = 0;
	memcpy(&b, &v, sizeof b);
	return (b >> 63) ? ~b : b | (UINT64_C(1) << 63);
}

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

void emb_rankdata(const double *v, size_t n, double *rank)
{
	uint64_t *key = emb_xmalloc(emb_xmul(n, 2 * sizeof *key)), *key2 = key + n;
	uint32_t *idx = emb_xmalloc(emb_xmul(n, 2 * sizeof *idx)), *idx2 = idx + n;
	size_t *count = emb_xmalloc(RADIX_SIZE * sizeof *count);

	for (size_t i = 0; i < n; i++) {
		key[i] = order_key(v[i]);
		idx[i] = (uint32_t)i;
	}
	for (unsigned shift = 0; shift < 64; shift += RADIX_BITS) {
		memset(count, 0, RADIX_SIZE * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(key[i] >> shift) & (RADIX_SIZE - 1)]++;
		if (n == 0 || count[(key[0] >> shift) & (RADIX_SIZE - 1)] == n)
			continue; /* every key has this digit: the pass is a no-op */
		size_t sum = 0;
		for (size_t d = 0; d < RADIX_SIZE; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t o = count[(key[i] >> shift) & (RADIX_SIZE - 1)]++;
			key2[o] = key[i];
			idx2[o] = idx[i];
		}
		uint64_t *tk = key; key = key2; key2 = tk;
		uint32_t *ti = idx; idx = idx2; idx2 = ti;
	}
	/* Ties get the mean of the ranks they span, i+1 .. j. */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && key[j] == key[i]; j++)
			;
		double r = 0.5 * (double)(i + 1 + j);
		for (size_t k = i; k < j; k++)
			rank[idx[k]] = r;
	}
	free(key < key2 ? key : key2);
	free(idx < idx2 ? idx : idx2);
	free(count);
}

/* ---- Pearson r: scipy's arithmetic, with pairwise sums ---- */

/* Pairwise sums (rounding error grows like log n, as in numpy's sum) of
 * X, of the squared scaled deviations ((x-m)/scale)^2, and of the
 * products of normalised deviations ((x-mx)/nx)*((y-my)/ny). */
static double pairwise_sum(const double *x, size_t n)
{
	if (n <= 256) {
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += x[i];
		return s;
	}
	return pairwise_sum(x, n / 2) + pairwise_sum(x + n / 2, n - n / 2);
}

static double sum_sq_dev(const double *x, size_t n, double m, double scale)
{
	if (n <= 256) {
		double s = 0;
		for (size_t i = 0; i < n; i++) {
			double a = (x[i] - m) / scale;
			s += a * a;
		}
		return s;
	}
	return sum_sq_dev(x, n / 2, m, scale) + sum_sq_dev(x + n / 2, n - n / 2, m, scale);
}

static double sum_norm_prod(const double *x, const double *y, size_t n,
			    double mx, double my, double nx, double ny)
{
	if (n <= 256) {
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
		return s;
	}
	size_t h = n / 2;
	return sum_norm_prod(x, y, h, mx, my, nx, ny) +
	       sum_norm_prod(x + h, y + h, n - h, mx, my, nx, ny);
}

static double max_dev(const double *x, size_t n, double m)
{
	double d = 0;
	for (size_t i = 0; i < n; i++)
		d = fmax(d, fabs(x[i] - m));
	return d;
}

/* The L2 norm of X - M, scaled on the way so that no square overflows or
 * underflows whatever the exponents (scipy uses linalg.norm for this). */
static double norm_dev(const double *x, size_t n, double m)
{
	double d = max_dev(x, n, m);
	return d == 0 || !isfinite(d) ? d : d * sqrt(sum_sq_dev(x, n, m, d));
}

double emb_pearson_r(const double *x, const double *y, size_t n)
{
	if (n < 2)
		return NAN;
	double mx = pairwise_sum(x, n) / (double)n, my = pairwise_sum(y, n) / (double)n;
	double nx = norm_dev(x, n, mx), ny = norm_dev(y, n, my);
	if (nx == 0 || ny == 0)
		return NAN;
	/* dot(xm/|xm|, ym/|ym|) as scipy.pearsonr: near r = +-1 at small n the
	 * p-value is so steep that the order of rounding shows. */
	double r = sum_norm_prod(x, y, n, mx, my, nx, ny);
	return fmax(fmin(r, 1.0), -1.0);
}

/* Pearson r of ranks as numpy.corrcoef, which spearmanr uses:
 * cov_xy / sqrt(cov_xx) / sqrt(cov_yy) with covariances over n-1. */
static double corrcoef_r(const double *x, const double *y, size_t n)
{
	double mx = pairwise_sum(x, n) / (double)n, my = pairwise_sum(y, n) / (double)n;
	double f = (double)n - 1;
	double cxx = sum_sq_dev(x, n, mx, 1) / f, cyy = sum_sq_dev(y, n, my, 1) / f;
	double cxy = sum_norm_prod(x, y, n, mx, my, 1, 1) / f;
	double r = cxy / sqrt(cxx) / sqrt(cyy);
	return fmax(fmin(r, 1.0), -1.0);
}

/* ---- p-values and intervals ---- */

/* Regularised incomplete beta I_x(a, b), 0 on underflow. */
static double beta_inc(double a, double b, double x)
{
	gsl_sf_result res;
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	if (gsl_sf_beta_inc_e(a, b, x, &res) != GSL_SUCCESS)
		return res.val > 0 && isfinite(res.val) ? res.val : 0;
	return res.val;
}

/* Student t CDF with DF degrees of freedom (cephes stdtr, which scipy
 * uses), through the incomplete beta: accurate in both tails. */
static double stdtr(double df, double t)
{
	if (!(df > 0) || isnan(t))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	double tail = 0.5 * beta_inc(0.5 * df, 0.5, df / (df + t * t));
	return t < 0 ? tail : 1 - tail;
}

double emb_spearman_p(double r, size_t n, enum emb_alternative alt)
{
	if (isnan(r) || n < 2)
		return NAN;
	double dof = (double)n - 2;
	double q = dof / ((r + 1.0) * (1.0 - r));
	double t = r * sqrt(q < 0 ? 0 : q);  /* NaN at n = 2 as in scipy */
	switch (alt) {
	case EMB_ALT_LESS:
		return stdtr(dof, t);
	case EMB_ALT_GREATER:
		return stdtr(dof, -t);
	default:
		return 2 * stdtr(dof, -fabs(t));
	}
}

double emb_pearson_p(double r, size_t n, enum emb_alternative alt)
{
	if (isnan(r) || n < 2)
		return NAN;
	if (n == 2)
		return 1.0;
	/* Under the null, r ~ Beta(n/2-1, n/2-1) stretched onto [-1, 1]. */
	double ab = (double)n / 2 - 1;
	double sf_abs = beta_inc(ab, ab, (1 - fabs(r)) / 2);
	switch (alt) {
	case EMB_ALT_LESS:
		return beta_inc(ab, ab, (1 + r) / 2);
	case EMB_ALT_GREATER:
		return beta_inc(ab, ab, (1 - r) / 2);
	default:
		return 2 * sf_abs;
	}
}

void emb_fisher_ci(double r, size_t n, double level, enum emb_alternative alt,
		   bool bonett_wright, double *lo, double *hi)
{
	*lo = -1.0;
	*hi = 1.0;
	if (isnan(r)) {
		*lo = *hi = NAN;
		return;
	}
	if (n <= 3)
		return;
	double zr = r == 1 ? INFINITY : r == -1 ? -INFINITY : atanh(r);
	double var = (bonett_wright ? 1 + r * r / 2 : 1.0) / ((double)n - 3);
	double se = sqrt(var);
	if (alt == EMB_ALT_TWO_SIDED) {
		double h = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
		*lo = tanh(zr - h * se);
		*hi = tanh(zr + h * se);
	} else if (alt == EMB_ALT_LESS) {
		*hi = tanh(zr + gsl_cdf_ugaussian_Pinv(level) * se);
	} else {
		*lo = tanh(zr - gsl_cdf_ugaussian_Pinv(level) * se);
	}
}

/* ---- one correlation ---- */

static bool is_constant(const double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* The statistic alone; RX, RY are n-double scratch arrays for ranks. */
static double statistic(enum emb_corr_kind kind, const double *x, const double *y,
			size_t n, double *rx, double *ry)
{
	if (kind == EMB_PEARSON) {
		if (n == 2) /* scipy: the sign of the slope, exactly */
			return (double)((x[1] > x[0]) - (x[1] < x[0])) *
			       (double)((y[1] > y[0]) - (y[1] < y[0]));
		return emb_pearson_r(x, y, n);
	}
	emb_rankdata(x, n, rx);
	emb_rankdata(y, n, ry);
	return corrcoef_r(rx, ry, n);
}

/* Percentile bootstrap interval of Spearman's rho: resample pairs with
 * replacement (GSL's mt19937 seeded with SEED, so runs repeat). */
static void bootstrap_ci(const struct emb_corr_opts *o, const double *x,
			 const double *y, size_t n, double *lo, double *hi)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double *bx = emb_xmalloc(emb_xmul(n, 4 * sizeof *bx));
	double *by = bx + n, *rx = by + n, *ry = rx + n;
	double *rs = emb_xmalloc(emb_xmul(o->bootstrap, sizeof *rs));
	size_t m = 0;

	gsl_rng_set(rng, o->seed);
	for (unsigned long b = 0; b < o->bootstrap; b++) {
		for (size_t i = 0; i < n; i++) {
			size_t k = gsl_rng_uniform_int(rng, n);
			bx[i] = x[k];
			by[i] = y[k];
		}
		if (is_constant(bx, n) || is_constant(by, n))
			continue; /* rho undefined for this resample */
		rs[m++] = statistic(o->kind, bx, by, n, rx, ry);
	}
	if (m < o->bootstrap)
		emb_warn("bootstrap: %lu of %lu resamples were constant and are left out",
			 o->bootstrap - m, o->bootstrap);
	gsl_sort(rs, 1, m);
	*lo = -1.0;
	*hi = 1.0;
	if (m == 0) {
		*lo = *hi = NAN;
	} else if (o->alt == EMB_ALT_TWO_SIDED) {
		*lo = gsl_stats_quantile_from_sorted_data(rs, 1, m, (1 - o->ci) / 2);
		*hi = gsl_stats_quantile_from_sorted_data(rs, 1, m, (1 + o->ci) / 2);
	} else if (o->alt == EMB_ALT_LESS) {
		*hi = gsl_stats_quantile_from_sorted_data(rs, 1, m, o->ci);
	} else {
		*lo = gsl_stats_quantile_from_sorted_data(rs, 1, m, 1 - o->ci);
	}
	free(rs);
	free(bx);
	gsl_rng_free(rng);
}

struct emb_corr_result emb_corr_compute(const struct emb_corr_opts *o,
					 const double *x, const double *y,
					 size_t n, const char *what)
{
	struct emb_corr_result res = {NULL, n, NAN, NAN, NAN, NAN};
	if (n < 2) {
		emb_warn("%s: fewer than 2 pairs; the correlation is not defined", what);
		return res;
	}
	if (is_constant(x, n) || is_constant(y, n)) {
		emb_warn("%s: an input is constant; the correlation is not defined", what);
		return res;
	}
	double *scratch = o->kind == EMB_SPEARMAN ? emb_xmalloc(emb_xmul(n, 2 * sizeof(double)))
						  : NULL;
	res.r = statistic(o->kind, x, y, n, scratch, scratch ? scratch + n : NULL);
	free(scratch);
	res.p = o->kind == EMB_SPEARMAN ? emb_spearman_p(res.r, n, o->alt)
					: emb_pearson_p(res.r, n, o->alt);
	if (o->bootstrap)
		bootstrap_ci(o, x, y, n, &res.lo, &res.hi);
	else if (o->ci > 0)
		emb_fisher_ci(res.r, n, o->ci, o->alt, o->kind == EMB_SPEARMAN,
			      &res.lo, &res.hi);
	return res;
}

/* ---- options ---- */

const char emb_corr_help[] =
"  -x COL                   the first column (default 1)\n"
"  -y COL[,COL]...          the second column(s), each scored against -x\n"
"                           (default 2); COL is a number from 1, or a name\n"
"                           with --header\n"
"      --header             the first line of each input names the columns\n"
"      --group=COL          correlate within each group of rows sharing COL,\n"
"                           then print the aggregates mean, wmean (weighted\n"
"                           by n) and all (pooled rows)\n"
"      --nan=POLICY         missing cells (empty, nan, NA): error (default),\n"
"                           omit (drop the pair, count on stderr), propagate\n"
"      --alternative=ALT    two-sided (default), less or greater\n"
"      --ci=LEVEL           add the interval lo hi at LEVEL (e.g. 0.95)\n"
"      --percent            print r, lo and hi times 100 with 2 decimals\n"
"      --json               print a JSON array of objects instead of TSV\n";

static const char *const alt_names[] = {
	[EMB_ALT_TWO_SIDED] = "two-sided", [EMB_ALT_LESS] = "less",
	[EMB_ALT_GREATER] = "greater",
};
static const char *const nan_names[] = {
	[EMB_NAN_ERROR] = "error", [EMB_NAN_OMIT] = "omit",
	[EMB_NAN_PROPAGATE] = "propagate",
};

static int lookup(const char *const *names, size_t n, const char *arg)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], arg) == 0)
			return (int)i;
	return -1;
}

bool emb_corr_option(struct emb_corr_opts *o, int opt, const char *arg)
{
	int v;
	switch (opt) {
	case 'x':
		o->cols.x = arg;
		return true;
	case 'y':
		o->cols.y = arg;
		return true;
	case EMB_OPT_CORR_HEADER:
		o->cols.header = true;
		return true;
	case EMB_OPT_CORR_GROUP:
		o->cols.group = arg;
		return true;
	case EMB_OPT_CORR_NAN:
		if ((v = lookup(nan_names, 3, arg)) < 0)
			emb_usage_error("--nan must be error, omit or propagate, not '%s'", arg);
		o->cols.nan = (enum emb_nan_policy)v;
		return true;
	case EMB_OPT_CORR_ALT:
		if ((v = lookup(alt_names, 3, arg)) < 0)
			emb_usage_error("--alternative must be two-sided, less or greater, not '%s'", arg);
		o->alt = (enum emb_alternative)v;
		return true;
	case EMB_OPT_CORR_CI:
		o->ci = emb_parse_double("--ci", arg);
		if (!(o->ci > 0 && o->ci < 1))
			emb_usage_error("--ci must be between 0 and 1 (exclusive), not '%s'", arg);
		return true;
	case EMB_OPT_CORR_PERCENT:
		o->percent = true;
		return true;
	case EMB_OPT_CORR_JSON:
		o->json = true;
		return true;
	default:
		return false;
	}
}

/* ---- the report ---- */

struct report {
	const struct emb_corr_opts *o;
	cJSON *json;
};

static void put_num(const struct report *rep, double v, bool scaled)
{
	char buf[40];
	if (scaled && rep->o->percent && isfinite(v)) {
		printf("\t%.2f", v * 100);
		return;
	}
	int len = emb_format_f64(buf, v);
	printf("\t%.*s", len, buf);
}

static void report_header(struct report *rep)
{
	if (rep->o->json) {
		rep->json = cJSON_CreateArray();
		return;
	}
	printf("%sx\ty\tn\tr\tp%s\n", rep->o->cols.group ? "group\t" : "",
	       rep->o->ci > 0 ? "\tlo\thi" : "");
}

/* cJSON prints 15 significant digits when they read back "close enough";
 * raw text keeps every bit, as the TSV does.  nan becomes null. */
static void json_number(const struct report *rep, cJSON *obj, const char *name,
			double v, bool scaled)
{
	char buf[40];
	if (!isfinite(v)) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	if (scaled && rep->o->percent)
		snprintf(buf, sizeof buf, "%.2f", v * 100);
	else
		buf[emb_format_f64(buf, v)] = '\0';
	cJSON_AddRawToObject(obj, name, buf);
}

static void report_row(struct report *rep, const char *xname, const char *yname,
		       const struct emb_corr_result *r)
{
	bool ci = rep->o->ci > 0;
	if (rep->json) {
		cJSON *obj = cJSON_CreateObject();
		if (rep->o->cols.group)
			cJSON_AddStringToObject(obj, "group", r->group);
		cJSON_AddStringToObject(obj, "x", xname);
		cJSON_AddStringToObject(obj, "y", yname);
		cJSON_AddNumberToObject(obj, "n", (double)r->n);
		json_number(rep, obj, "r", r->r, true);
		json_number(rep, obj, "p", r->p, false);
		if (ci) {
			json_number(rep, obj, "lo", r->lo, true);
			json_number(rep, obj, "hi", r->hi, true);
		}
		cJSON_AddItemToArray(rep->json, obj);
		return;
	}
	if (rep->o->cols.group)
		printf("%s\t", r->group);
	printf("%s\t%s\t%zu", xname, yname, r->n);
	put_num(rep, r->r, true);
	put_num(rep, r->p, false);
	if (ci) {
		put_num(rep, r->lo, true);
		put_num(rep, r->hi, true);
	}
	putchar('\n');
}

static void report_end(struct report *rep)
{
	if (!rep->json)
		return;
	char *text = cJSON_Print(rep->json);
	if (!text)
		emb_die(EMB_EXIT_DATA, "out of memory");
	puts(text);
	free(text);
	cJSON_Delete(rep->json);
}

/* ---- grouping and missing values ---- */

/* The rows of each group, contiguous: order[start[g] .. start[g+1]). */
struct groups {
	size_t *order, *start;
};

static struct groups group_rows(const struct emb_cols *c)
{
	struct groups g;
	g.start = emb_xcalloc(c->ngroups + 1, sizeof *g.start);
	g.order = emb_xmalloc(emb_xmul(c->rows + 1, sizeof *g.order));
	for (size_t i = 0; i < c->rows; i++)
		g.start[c->group[i] + 1]++;
	for (size_t k = 0; k < c->ngroups; k++)
		g.start[k + 1] += g.start[k];
	size_t *next = emb_xmalloc((c->ngroups + 1) * sizeof *next);
	memcpy(next, g.start, (c->ngroups + 1) * sizeof *next);
	for (size_t i = 0; i < c->rows; i++)
		g.order[next[c->group[i]]++] = i;
	free(next);
	return g;
}

/* Copy the pairs of rows ROWS[0..m) (all rows if ROWS is NULL) into XS, YS,
 * leaving out pairs with a missing value; returns how many were kept and
 * sets *MISSING if any was left out. */
static size_t gather(const double *x, const double *y, const size_t *rows, size_t m,
		     double *xs, double *ys, size_t *missing)
{
	size_t n = 0;
	for (size_t j = 0; j < m; j++) {
		size_t i = rows ? rows[j] : j;
		xs[n] = x[i];
		ys[n] = y[i];
		n += !isnan(x[i]) && !isnan(y[i]);
	}
	*missing = m - n;
	return n;
}

/* One correlation over a subset of rows, applying the --nan policy. */
static struct emb_corr_result subset(const struct emb_corr_opts *o, const struct emb_cols *c,
				     size_t k, const size_t *rows, size_t m,
				     double *xs, double *ys, const char *what)
{
	size_t missing;
	size_t n = gather(c->x, c->y[k], rows, m, xs, ys, &missing);
	if (missing && o->cols.nan == EMB_NAN_PROPAGATE) {
		struct emb_corr_result r = {NULL, m, NAN, NAN, NAN, NAN};
		return r;
	}
	return emb_corr_compute(o, xs, ys, n, what);
}

static void score_column(struct report *rep, const struct emb_cols *c, size_t k,
			 const struct groups *g, double *xs, double *ys)
{
	const struct emb_corr_opts *o = rep->o;
	char what[256];
	size_t missing;

	gather(c->x, c->y[k], NULL, c->rows, xs, ys, &missing);
	if (missing && o->cols.nan == EMB_NAN_OMIT)
		emb_warn("%s vs %s: omitted %zu of %zu rows with a missing value",
			 c->xname, c->ynames[k], missing, c->rows);
	if (!c->group) {
		snprintf(what, sizeof what, "%s vs %s", c->xname, c->ynames[k]);
		struct emb_corr_result r = subset(o, c, k, NULL, c->rows, xs, ys, what);
		report_row(rep, c->xname, c->ynames[k], &r);
		return;
	}
	double sum = 0, wsum = 0;
	size_t ntot = 0;
	for (size_t gi = 0; gi < c->ngroups; gi++) {
		snprintf(what, sizeof what, "group %s: %s vs %s", c->group_names[gi],
			 c->xname, c->ynames[k]);
		struct emb_corr_result r = subset(o, c, k, g->order + g->start[gi],
						  g->start[gi + 1] - g->start[gi], xs, ys, what);
		r.group = c->group_names[gi];
		report_row(rep, c->xname, c->ynames[k], &r);
		sum += r.r;
		wsum += r.r * (double)r.n;
		ntot += r.n;
	}
	struct emb_corr_result mean = {"mean", ntot, sum / (double)c->ngroups, NAN, NAN, NAN};
	struct emb_corr_result wmean = {"wmean", ntot, wsum / (double)ntot, NAN, NAN, NAN};
	report_row(rep, c->xname, c->ynames[k], &mean);
	report_row(rep, c->xname, c->ynames[k], &wmean);
	snprintf(what, sizeof what, "all: %s vs %s", c->xname, c->ynames[k]);
	struct emb_corr_result all = subset(o, c, k, NULL, c->rows, xs, ys, what);
	all.group = "all";
	report_row(rep, c->xname, c->ynames[k], &all);
}

void emb_corr_main(const struct emb_corr_opts *o, char *const *files, int nfiles)
{
	struct emb_cols c;
	struct report rep = {o, NULL};
	struct groups g = {NULL, NULL};

	gsl_set_error_handler_off();
	emb_cols_read(&c, &o->cols, files, nfiles);
	if (c.rows == 0)
		emb_warn("no data rows");
	if (c.group)
		g = group_rows(&c);
	double *xs = emb_xmalloc(emb_xmul(c.rows + 1, 2 * sizeof *xs)), *ys = xs + c.rows + 1;
	report_header(&rep);
	for (size_t k = 0; k < c.ny; k++)
		score_column(&rep, &c, k, &g, xs, ys);
	report_end(&rep);
	free(xs);
	free(g.order);
	free(g.start);
	emb_cols_free(&c);
}
