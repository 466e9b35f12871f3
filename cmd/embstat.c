/*
 * embstat - an isotropy report for a vector stream: norms, the average
 * cosine of random pairs (Ethayarajh 2019), the explained variance of the
 * top principal components, the effective rank (Roy & Vetterli 2007),
 * partition-function isotropy (Mu & Viswanath 2018) and IsoScore (Rudman
 * et al. 2022).
 *
 * Memory is O(dim^2 + sample*dim) whatever the number of rows: the first
 * pass accumulates norms, the covariance (emb_cov) and a reservoir sample
 * of unit rows for the random pairs; the partition function needs the
 * eigenvectors of X^T X before it can sum over the rows, so it takes a
 * second pass (standard input is spilled to a temporary file by emb_spill).
 * With fewer rows than dims, emb_cov keeps the rows instead: the spectrum
 * comes from the n x n Gram matrix and the partition function from the
 * kept rows (partition_isotropy_gram), in O(n*dim + n^2) memory.
 */
#include <config.h>
#include "emb.h"
#include "emb_linalg.h"
#include "emb_moments.h"

#include <cJSON.h>
#include <getopt.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct opts {
	bool json, spectrum, partial, merge;
	const char *report_opt, *pairs_opt;  /* the first report / pair option given */
	unsigned long long pairs;
	unsigned long seed;
	size_t sample, top;
};

/* What the first pass gathers. */
struct acc {
	size_t dim;
	uint64_t n, zero_rows;
	double norm_min, norm_max, norm_sum;
	struct emb_cov cv;
	double *unit_sum;   /* sum of the unit rows: exact all-pairs cosine */
	float *sample;      /* reservoir of unit rows, sample_rows of them */
	size_t sample_cap, sample_rows, sample_alloc;
	uint64_t nonzero;   /* unit rows offered to the reservoir */
	gsl_rng *rng;
};

/* The report. */
struct report {
	uint64_t n;
	size_t dim;
	double mean_norm, norm_mean, norm_min, norm_max;
	double avg_cos;
	uint64_t cos_pairs;  /* pairs averaged; 0 = none */
	bool cos_exact;
	double *evals;       /* dim, descending, of the covariance */
	double total_var;
	double effective_rank, partition_isotropy, isoscore;
	bool no_partition;   /* --merge: partition_isotropy needs the rows */
};

/* The shared options (emb.h) embstat honours: those of reading, and
 * --dtype=f64 for double-precision parsing; it writes no vectors. */
#define SHARED (EMB_SH_READ | EMB_SH_DTYPE)

enum { OPT_JSON = EMB_OPT_FIRST_PROGRAM, OPT_PAIRS, OPT_SEED, OPT_SAMPLE, OPT_TOP,
       OPT_SPECTRUM, OPT_PARTIAL, OPT_MERGE };

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]\n", emb_progname);
	fputs("Print an isotropy report for the vector stream FILE (standard input when\n"
	      "there is none or it is -) as NAME<TAB>VALUE lines: n, dim, mean_norm,\n"
	      "norm_mean, norm_min, norm_max, avg_cos, avg_cos_pairs,\n"
	      "explained_variance_ratio (top K values), effective_rank,\n"
	      "partition_isotropy and isoscore.\n"
	      "\n"
	      "      --json               print one JSON object with the same keys\n"
	      "      --pairs=N            average the cosine over N random pairs of\n"
	      "                           distinct rows (default 100000); exact over all\n"
	      "                           pairs when there are at most N\n"
	      "      --sample=M           draw the pairs from a uniform sample of M rows\n"
	      "                           (default 10000; memory is M*dim values)\n"
	      "  -s, --seed=S             seed for the sample and the pairs (default 1)\n"
	      "      --top=K              explained variance ratio of the top K principal\n"
	      "                           components (default 10)\n"
	      "      --spectrum           print the whole covariance spectrum instead, as\n"
	      "                           TSV: k, eigenvalue, ratio, cumulative ratio\n"
	      "      --dtype=f64          parse TSV input in double precision (binary f64\n"
	      "                           input always is)\n"
	      "      --partial            write the input's sufficient statistics (a\n"
	      "                           partial) instead of the report\n"
	      "      --merge              the operands are partials: merge them exactly and\n"
	      "                           print their rows' report (the cosine over all\n"
	      "                           pairs; no partition_isotropy, which needs the rows)\n", stdout);
	emb_shared_help(SHARED & ~EMB_SH_DTYPE);
	fputs("\nExamples:\n"
	      "  embstat vectors.emb\n"
	      "  embstat --spectrum vectors.emb > spec.tsv\n"
	      "  embstat --partial shard1.emb > p1.emb   (one per shard)\n"
	      "  embstat --merge p1.emb p2.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"json", no_argument, NULL, OPT_JSON},
	{"pairs", required_argument, NULL, OPT_PAIRS},
	{"seed", required_argument, NULL, 's'},
	{"sample", required_argument, NULL, OPT_SAMPLE},
	{"top", required_argument, NULL, OPT_TOP},
	{"spectrum", no_argument, NULL, OPT_SPECTRUM},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	{NULL, 0, NULL, 0},
};

static void report_opt(struct opts *o, const char *name)
{
	if (!o->report_opt)
		o->report_opt = name;
}

static void pairs_opt(struct opts *o, const char *name)
{
	if (!o->pairs_opt)
		o->pairs_opt = name;
}

static const char *parse_args(struct opts *o, int argc, char **argv)
{
	int opt;
	while ((opt = getopt_long(argc, argv, "s:" EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case OPT_JSON: o->json = true; report_opt(o, "--json"); break;
		case OPT_PAIRS:
			o->pairs = (unsigned long long)emb_parse_int("--pairs", optarg, 1, (long long)1 << 40);
			pairs_opt(o, "--pairs");
			break;
		case 's':
			o->seed = (unsigned long)emb_parse_int("--seed", optarg, 0, 4294967295LL);
			pairs_opt(o, "--seed");
			break;
		case OPT_SAMPLE:
			o->sample = (size_t)emb_parse_int("--sample", optarg, 2, (long long)1 << 32);
			pairs_opt(o, "--sample");
			break;
		case OPT_TOP:
			o->top = (size_t)emb_parse_int("--top", optarg, 1, EMB_MAX_DIM);
			report_opt(o, "--top");
			break;
		case OPT_SPECTRUM: o->spectrum = true; report_opt(o, "--spectrum"); break;
		case OPT_PARTIAL: o->partial = true; break;
		case OPT_MERGE: o->merge = true; break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	if (!o->merge && argc - optind > 1)
		emb_usage_error("extra operand '%s'", argv[optind + 1]);
	emb_partial_usage(o->partial, o->merge, argc - optind, NULL, 0);
	if (o->partial && (o->report_opt || o->pairs_opt))
		emb_usage_error("--partial writes statistics, not a report: %s belongs to --merge",
				o->report_opt ? o->report_opt : o->pairs_opt);
	if (o->merge && o->pairs_opt)
		emb_usage_error("--merge averages the cosine over all pairs exactly: "
				"%s does not apply", o->pairs_opt);
	if (emb_opts.out_dtype >= 0 && emb_opts.out_dtype != EMB_F64)
		emb_usage_error("--dtype takes only f64 here (embstat writes no vectors), not '%s'",
				emb_dtype_name((enum emb_dtype)emb_opts.out_dtype));
	return optind < argc ? argv[optind] : "-";
}

/* ---------- first pass ---------- */

static void acc_init(struct acc *a, size_t dim, const struct opts *o)
{
	memset(a, 0, sizeof *a);
	a->dim = dim;
	a->norm_min = INFINITY;
	a->norm_max = -INFINITY;
	emb_cov_init(&a->cv, dim);
	a->unit_sum = emb_xcalloc(dim ? dim : 1, sizeof *a->unit_sum);
	a->sample_cap = o->sample;
	a->rng = gsl_rng_alloc(gsl_rng_taus2);
	gsl_rng_set(a->rng, o->seed);
}

/* Algorithm R: after t rows every row is in the sample with equal
 * probability, so pairs drawn from it are uniform over the input. */
static void reservoir_offer(struct acc *a, const double *unit)
{
	size_t slot = a->sample_rows;
	if (a->sample_rows == a->sample_cap) {
		uint64_t j = a->nonzero < (uint64_t)4294967295UL
			? gsl_rng_uniform_int(a->rng, (unsigned long)a->nonzero + 1)
			: (uint64_t)(gsl_rng_uniform(a->rng) * (double)(a->nonzero + 1));
		if (j >= a->sample_cap)
			return;
		slot = (size_t)j;
	} else {
		/* Grown with the rows seen, so --sample never costs more than
		 * the input (a huge M on a small file). */
		if (a->sample_rows == a->sample_alloc) {
			size_t want = a->sample_alloc ? 2 * a->sample_alloc : 64;
			a->sample_alloc = want < a->sample_cap ? want : a->sample_cap;
			a->sample = emb_xrealloc(a->sample, emb_xmul(emb_xmul(a->sample_alloc,
						 a->dim ? a->dim : 1), sizeof *a->sample));
		}
		a->sample_rows++;
	}
	for (size_t j = 0; j < a->dim; j++)
		a->sample[slot * a->dim + j] = (float)unit[j];
}

static void acc_row(struct acc *a, const struct emb_chunk *c, size_t i, double *unit)
{
	double ss = 0;
	for (size_t j = 0; j < a->dim; j++) {
		unit[j] = emb_get(c, i, j);
		ss += unit[j] * unit[j];
	}
	double nrm = sqrt(ss);
	a->norm_min = nrm < a->norm_min ? nrm : a->norm_min;
	a->norm_max = nrm > a->norm_max ? nrm : a->norm_max;
	a->norm_sum += nrm;
	if (nrm == 0) {
		a->zero_rows++;
		return;
	}
	for (size_t j = 0; j < a->dim; j++) {
		unit[j] /= nrm;
		a->unit_sum[j] += unit[j];
	}
	reservoir_offer(a, unit);
	a->nonzero++;
}

static void acc_chunk(struct acc *a, const struct emb_chunk *c)
{
	emb_require_finite(c);
	double *unit = emb_xmalloc(emb_xmul(a->dim ? a->dim : 1, sizeof *unit));
	for (size_t i = 0; i < c->rows; i++)
		acc_row(a, c, i, unit);
	emb_cov_add(&a->cv, c);
	a->n += c->rows;
	free(unit);
}

static void acc_free(struct acc *a)
{
	emb_cov_free(&a->cv);
	free(a->unit_sum);
	free(a->sample);
	gsl_rng_free(a->rng);
}

/* ---------- the metrics ---------- */

/* Mean cosine over distinct pairs.  Exact when all pairs fit in the
 * budget: sum_{i!=j} u_i.u_j = |sum u|^2 - m for unit rows u. */
static void average_cosine(struct acc *a, const struct opts *o, struct report *r)
{
	double m = (double)a->nonzero;
	r->avg_cos = NAN;
	if (a->nonzero < 2)
		return;
	if (m * (m - 1) / 2 <= (double)o->pairs) {
		double ss = 0;
		for (size_t j = 0; j < a->dim; j++)
			ss += a->unit_sum[j] * a->unit_sum[j];
		r->avg_cos = (ss - m) / (m * (m - 1));
		r->cos_pairs = a->nonzero * (a->nonzero - 1) / 2;
		r->cos_exact = true;
		return;
	}
	double sum = 0;
	unsigned long s = (unsigned long)a->sample_rows;
	for (unsigned long long p = 0; p < o->pairs; p++) {
		unsigned long i = gsl_rng_uniform_int(a->rng, s);
		unsigned long j = gsl_rng_uniform_int(a->rng, s - 1);
		j += j >= i; /* distinct rows, each pair equally likely */
		const float *x = a->sample + i * a->dim, *y = a->sample + j * a->dim;
		double dot = 0;
		for (size_t k = 0; k < a->dim; k++)
			dot += (double)x[k] * (double)y[k];
		sum += dot;
	}
	r->avg_cos = sum / (double)o->pairs;
	r->cos_pairs = o->pairs;
}

/* Roy & Vetterli's effective rank exp(H(p)), p_i = sigma_i / sum sigma,
 * with sigma_i the singular values of the centred data, sqrt(lambda_i). */
static double effective_rank(const double *ev, size_t d)
{
	double s = 0, h = 0;
	for (size_t i = 0; i < d; i++)
		s += ev[i] > 0 ? sqrt(ev[i]) : 0;
	if (!(s > 0))
		return NAN;
	for (size_t i = 0; i < d; i++) {
		double p = ev[i] > 0 ? sqrt(ev[i]) / s : 0;
		if (p > 0)
			h -= p * log(p);
	}
	return exp(h);
}

/* IsoScore (Rudman et al. 2022), steps 2-7 of the IsoScore repo: after PCA
 * the diagonal of the covariance is its eigenvalue vector v; normalise to
 * sqrt(d) v/|v|, take the defect from the all-ones vector, and map it to
 * [0, 1].  Negative rounding residue in the eigenvalues counts as 0. */
static double isoscore(const double *ev, size_t d)
{
	double nd = (double)d, nv = 0, def = 0;
	for (size_t i = 0; i < d; i++)
		nv += ev[i] > 0 ? ev[i] * ev[i] : 0;
	nv = sqrt(nv);
	if (d < 2 || !(nv > 0))
		return NAN;
	for (size_t i = 0; i < d; i++) {
		double v = (ev[i] > 0 ? ev[i] : 0) * sqrt(nd) / nv - 1;
		def += v * v;
	}
	double delta2 = def / (2 * (nd - sqrt(nd)));
	double t = nd - delta2 * (nd - sqrt(nd));
	return (t * t - nd) / (nd * (nd - 1));
}

/* ---------- partition function: the second pass ---------- */

/* Running log-sum-exp per column, so that exp(c.x) never overflows. */
struct lse { double *max, *sum; size_t n; };

static void lse_add(struct lse *l, size_t j, double v)
{
	if (v <= l->max[j]) {
		l->sum[j] += exp(v - l->max[j]);
	} else {
		l->sum[j] = l->sum[j] * exp(l->max[j] - v) + 1;
		l->max[j] = v;
	}
}

/* X^T X = (n-1) cov + n mu mu^T: the uncentred Gram matrix from the
 * centred accumulation, whose eigenvectors are the c of Mu & Viswanath. */
static double *gram_eigenvectors(const double *cov, const double *mu, uint64_t n, size_t d)
{
	double *g = emb_xmalloc(emb_xmul(emb_xmul(d, d), sizeof *g));
	double *ev = emb_xmalloc(emb_xmul(d, sizeof *ev));
	double *u = emb_xmalloc(emb_xmul(emb_xmul(d, d), sizeof *u));
	for (size_t i = 0; i < d * d; i++)
		g[i] = (double)(n - 1) * cov[i] + (double)n * mu[i / d] * mu[i % d];
	emb_eigen_sym(d, g, ev, u);
	free(g);
	free(ev);
	return u;
}

/* I = min Z(c) / max Z(c), Z(c) = sum_rows exp(c.x), over c = +-u_j for
 * the eigenvectors u_j of X^T X.  Both signs are taken because eigenvector
 * signs are arbitrary and both are unit vectors of the min/max. */
static double partition_isotropy(struct emb_spill *sp, struct emb_chunk *c,
				 const double *u, size_t d)
{
	struct lse l = {emb_xmalloc(emb_xmul(2 * d, sizeof(double))),
			emb_xcalloc(2 * d, sizeof(double)), 2 * d};
	for (size_t j = 0; j < 2 * d; j++)
		l.max[j] = -INFINITY;
	double *x = NULL, *y = NULL;
	size_t cap = 0;
	while (emb_read_chunk(sp->in, c) > 0) {
		if (c->rows > cap) {
			free(x);
			free(y);
			cap = c->rows;
			x = emb_xmalloc(emb_xmul(emb_xmul(cap, d), sizeof *x));
			y = emb_xmalloc(emb_xmul(emb_xmul(cap, d), sizeof *y));
		}
		for (size_t i = 0; i < c->rows; i++)
			for (size_t j = 0; j < d; j++)
				x[i * d + j] = emb_get(c, i, j);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->rows, (int)d, (int)d,
			    1.0, x, (int)d, u, (int)d, 0.0, y, (int)d);
		for (size_t i = 0; i < c->rows; i++)
			for (size_t j = 0; j < d; j++) {
				lse_add(&l, j, y[i * d + j]);
				lse_add(&l, d + j, -y[i * d + j]);
			}
	}
	double lo = INFINITY, hi = -INFINITY;
	for (size_t j = 0; j < 2 * d; j++) {
		double lz = l.max[j] + log(l.sum[j]);
		lo = lz < lo ? lz : lo;
		hi = lz > hi ? lz : hi;
	}
	free(x);
	free(y);
	free(l.max);
	free(l.sum);
	return d ? exp(lo - hi) : NAN;
}

/* The same with fewer rows than dims, from the rows kept by emb_cov (X =
 * ROWS + SHIFT, n x d) and no second pass: with X X^T = U L U^T the
 * eigenvectors of X^T X are c_j = X^T u_j / sqrt(l_j), so c_j.x_i =
 * sqrt(l_j) u_ij; every other eigenvector is orthogonal to all rows, so
 * c.x_i = 0 and log Z(c) = log n, which the covariance route's null
 * vectors give too (up to rounding). */
static double partition_isotropy_gram(const double *rows, const double *shift, size_t n, size_t d)
{
	double *x = emb_xmalloc(emb_xmul(emb_xmul(n, d), sizeof *x));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = rows[i * d + j] + shift[j];
	double *g = emb_xcalloc(n * n, sizeof *g), *l = emb_xmalloc(n * sizeof *l);
	double *u = emb_xmalloc(n * n * sizeof *u);
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)d, 1.0, x, (int)d,
		    0.0, g, (int)n);
	emb_eigen_sym(n, g, l, u);
	double lo = INFINITY, hi = -INFINITY;
	struct lse ls = {emb_xmalloc(2 * sizeof(double)), emb_xmalloc(2 * sizeof(double)), 2};
	for (size_t j = 0; j < n; j++) {
		double sl = l[j] > 0 ? sqrt(l[j]) : 0;
		ls.max[0] = ls.max[1] = -INFINITY;
		ls.sum[0] = ls.sum[1] = 0;
		for (size_t i = 0; i < n; i++) {
			lse_add(&ls, 0, sl * u[i * n + j]);
			lse_add(&ls, 1, -sl * u[i * n + j]);
		}
		for (int t = 0; t < 2; t++) {
			double lz = ls.max[t] + log(ls.sum[t]);
			lo = lz < lo ? lz : lo;
			hi = lz > hi ? lz : hi;
		}
	}
	if (d > n) {
		double lz = log((double)n);
		lo = lz < lo ? lz : lo;
		hi = lz > hi ? lz : hi;
	}
	free(ls.max);
	free(ls.sum);
	free(x);
	free(g);
	free(l);
	free(u);
	return exp(lo - hi);
}

/* ---------- output ---------- */

static void put_num(const char *name, double v)
{
	char buf[40];
	int len = emb_format_f64(buf, v);
	printf("%s\t%.*s\n", name, len, buf);
}

static void print_tsv(const struct report *r, size_t top)
{
	char buf[40];
	printf("n\t%llu\ndim\t%zu\n", (unsigned long long)r->n, r->dim);
	put_num("mean_norm", r->mean_norm);
	put_num("norm_mean", r->norm_mean);
	put_num("norm_min", r->norm_min);
	put_num("norm_max", r->norm_max);
	put_num("avg_cos", r->avg_cos);
	printf("avg_cos_pairs\t%llu\n", (unsigned long long)r->cos_pairs);
	printf("avg_cos_exact\t%s\n", r->cos_exact ? "true" : "false");
	fputs("explained_variance_ratio", stdout);
	for (size_t i = 0; i < top; i++) {
		int len = emb_format_f64(buf, r->evals[i] / r->total_var);
		printf("\t%.*s", len, buf);
	}
	putchar('\n');
	put_num("effective_rank", r->effective_rank);
	if (!r->no_partition)
		put_num("partition_isotropy", r->partition_isotropy);
	put_num("isoscore", r->isoscore);
}

static void print_json(const struct report *r, size_t top, bool spectrum)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", (double)r->n);
	cJSON_AddNumberToObject(o, "dim", (double)r->dim);
	cJSON_AddNumberToObject(o, "mean_norm", r->mean_norm);
	cJSON_AddNumberToObject(o, "norm_mean", r->norm_mean);
	cJSON_AddNumberToObject(o, "norm_min", r->norm_min);
	cJSON_AddNumberToObject(o, "norm_max", r->norm_max);
	cJSON_AddNumberToObject(o, "avg_cos", r->avg_cos);
	cJSON_AddNumberToObject(o, "avg_cos_pairs", (double)r->cos_pairs);
	cJSON_AddBoolToObject(o, "avg_cos_exact", r->cos_exact);
	cJSON *ev = cJSON_AddArrayToObject(o, "explained_variance_ratio");
	for (size_t i = 0; i < top; i++)
		cJSON_AddItemToArray(ev, cJSON_CreateNumber(r->evals[i] / r->total_var));
	cJSON_AddNumberToObject(o, "effective_rank", r->effective_rank);
	if (!r->no_partition)
		cJSON_AddNumberToObject(o, "partition_isotropy", r->partition_isotropy);
	cJSON_AddNumberToObject(o, "isoscore", r->isoscore);
	if (spectrum)
		cJSON_AddItemToObject(o, "spectrum", cJSON_CreateDoubleArray(r->evals, (int)r->dim));
	char *text = cJSON_Print(o);
	if (!text)
		emb_die(EMB_EXIT_DATA, "out of memory");
	puts(text);
	free(text);
	cJSON_Delete(o);
}

static void print_spectrum(const struct report *r)
{
	char a[40], b[40], c[40];
	double cum = 0;
	puts("# k\teigenvalue\tratio\tcumulative");
	for (size_t i = 0; i < r->dim; i++) {
		cum += r->evals[i] / r->total_var;
		int la = emb_format_f64(a, r->evals[i]);
		int lb = emb_format_f64(b, r->evals[i] / r->total_var);
		int lc = emb_format_f64(c, cum);
		printf("%zu\t%.*s\t%.*s\t%.*s\n", i + 1, la, a, lb, b, lc, c);
	}
}

/* ---------- main ---------- */

static void fill_report(struct report *r, struct acc *a, const struct opts *o, double *mean)
{
	size_t d = a->dim;
	memset(r, 0, sizeof *r);
	r->n = a->n;
	r->dim = d;
	emb_cov_finish(&a->cv, mean, NULL);
	double mn = 0;
	for (size_t j = 0; j < d; j++)
		mn += mean[j] * mean[j];
	r->mean_norm = a->n ? sqrt(mn) : NAN;
	r->norm_mean = a->n ? a->norm_sum / (double)a->n : NAN;
	r->norm_min = a->n ? a->norm_min : NAN;
	r->norm_max = a->n ? a->norm_max : NAN;
	average_cosine(a, o, r);
	r->evals = emb_xcalloc(d ? d : 1, sizeof *r->evals);
	/* The Gram route when there are fewer rows than dims: the d - n
	 * eigenvalues it does not compute are exact zeros. */
	emb_cov_eigen(&a->cv, r->evals, NULL);
	for (size_t i = 0; i < d; i++)
		r->total_var += r->evals[i] > 0 ? r->evals[i] : 0;
	r->effective_rank = effective_rank(r->evals, d);
	r->isoscore = isoscore(r->evals, d);
	r->partition_isotropy = NAN;
}

/* The report of the rows behind the merged partials MO: every metric but
 * the partition function, which needs a pass over the rows with the
 * eigenvectors in hand.  The average cosine is always the exact one. */
static void merged_report(struct report *r, struct emb_moments *mo)
{
	size_t d = mo->dim;
	double n = (double)mo->n, m = (double)mo->nonzero;
	struct emb_cov cv;
	memset(r, 0, sizeof *r);
	r->n = mo->n;
	r->dim = d;
	double mn = 0;
	for (size_t j = 0; j < d; j++)
		mn += mo->mean[j] * mo->mean[j];
	r->mean_norm = mo->n ? sqrt(mn) : NAN;
	r->norm_mean = mo->n ? mo->norm_sum / n : NAN;
	r->norm_min = mo->n ? mo->norm_min : NAN;
	r->norm_max = mo->n ? mo->norm_max : NAN;
	r->avg_cos = NAN;
	if (mo->nonzero >= 2) {
		double ss = 0;
		for (size_t j = 0; j < d; j++)
			ss += mo->unit_sum[j] * mo->unit_sum[j];
		r->avg_cos = (ss - m) / (m * (m - 1));
		r->cos_pairs = mo->nonzero * (mo->nonzero - 1) / 2;
		r->cos_exact = true;
	}
	emb_moments_to_cov(mo, &cv);
	r->evals = emb_xcalloc(d ? d : 1, sizeof *r->evals);
	emb_cov_eigen(&cv, r->evals, NULL);
	emb_cov_free(&cv);
	for (size_t i = 0; i < d; i++)
		r->total_var += r->evals[i] > 0 ? r->evals[i] : 0;
	r->effective_rank = effective_rank(r->evals, d);
	r->isoscore = isoscore(r->evals, d);
	r->partition_isotropy = NAN;
	r->no_partition = true;
}

static void print_report(const struct report *r, const struct opts *o)
{
	size_t top = o->top < r->dim ? o->top : r->dim;
	if (o->json)
		print_json(r, top, o->spectrum);
	else if (o->spectrum)
		print_spectrum(r);
	else
		print_tsv(r, top);
}

int main(int argc, char **argv)
{
	struct opts o = {.pairs = 100000, .seed = 1, .sample = 10000, .top = 10};
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	const char *path = parse_args(&o, argc, argv);
	if (o.partial) {
		struct emb_moments mo;
		emb_moments_read_input(&mo, path, &emb_opts, emb_opts.out_dtype == EMB_F64);
		emb_moments_write(&mo);
		emb_moments_free(&mo);
		return EMB_EXIT_OK;
	}
	if (o.merge) {
		struct emb_moments mo;
		struct report r;
		emb_moments_merge_files(&mo, argv + optind, argc - optind);
		if (mo.n > mo.nonzero)
			emb_warn("%llu zero %s left out of the average cosine",
				 (unsigned long long)(mo.n - mo.nonzero),
				 emb_plural(mo.n - mo.nonzero, "row", "rows"));
		if (!o.spectrum || o.json)
			emb_warn("partition_isotropy left out: it needs a second pass over the rows");
		merged_report(&r, &mo);
		print_report(&r, &o);
		free(r.evals);
		emb_moments_free(&mo);
		return EMB_EXIT_OK;
	}

	struct emb_spill sp;
	struct emb_chunk c = EMB_CHUNK_INIT;
	struct acc a;
	/* The second pass is only for the partition function. */
	bool two_pass = !o.spectrum || o.json;
	if (two_pass) {
		emb_spill_begin(&sp, path, &emb_opts);
	} else {
		memset(&sp, 0, sizeof sp);
		sp.in = emb_open_r(path, &emb_opts);
	}
	emb_partial_refuse(sp.in);
	/* As embcat: --dtype f64 reads TSV in double precision. */
	if (sp.in->dtype == EMB_F64 || emb_opts.out_dtype == EMB_F64)
		sp.in->mtype = EMB_F64;
	size_t d = sp.in->dim;
	acc_init(&a, d, &o);
	while ((two_pass ? emb_spill_read(&sp, &c) : emb_read_chunk(sp.in, &c)) > 0)
		acc_chunk(&a, &c);
	if (a.zero_rows)
		emb_warn("%s: %llu zero %s left out of the average cosine", sp.in->name,
			 (unsigned long long)a.zero_rows, emb_plural(a.zero_rows, "row", "rows"));

	double *mean = emb_xcalloc(d ? d : 1, sizeof *mean);
	struct report r;
	fill_report(&r, &a, &o, mean);
	if (two_pass) {
		emb_spill_rewind(&sp, &emb_opts);
		const double *kept = emb_cov_gram_rows(&a.cv);
		if (a.n > 0 && d > 0 && kept) {
			r.partition_isotropy = partition_isotropy_gram(kept, a.cv.shift, a.n, d);
		} else if (a.n > 0) {
			double *cov = emb_xcalloc(d ? d * d : 1, sizeof *cov);
			emb_cov_finish(&a.cv, NULL, cov);
			double *u = gram_eigenvectors(cov, mean, a.n, d);
			free(cov);
			r.partition_isotropy = partition_isotropy(&sp, &c, u, d);
			free(u);
		}
		emb_spill_end(&sp);
	} else {
		emb_close(sp.in);
	}

	print_report(&r, &o);

	free(mean);
	free(r.evals);
	acc_free(&a);
	emb_chunk_free(&c);
	return EMB_EXIT_OK;
}
