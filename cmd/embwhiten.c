/*
 * embwhiten - BERT-whitening, ZCA and PCA rotation of a vector stream:
 * fit mean and covariance, then y = (x - mu) U diag((s + eps)^P) [U^T].
 */
#include <config.h>
#include "emb.h"
#include "emb_linalg.h"
#include "emb_moments.h"

#include <cJSON.h>
#include <float.h>
#include <getopt.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embwhiten honours: all of them. */
#define SHARED EMB_SH_ALL

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]\n", emb_progname);
	fputs("Whiten a vector stream (BERT-whitening): fit the mean mu and covariance\n"
	      "U S U^T (N-1 normaliser) and write y = (x - mu) U (S + eps)^P, keeping\n"
	      "the first K columns.  The input is read twice (standard input is\n"
	      "spilled to a temporary file in $TMPDIR); with --load, once.\n"
	      "With no FILE, or when FILE is -, read standard input.\n"
	      "\n"
	      "  -k, --dims=K             keep the top K principal directions (default: all)\n"
	      "      --zca                ZCA: U (S + eps)^P U^T, full rank, closest to\n"
	      "                           the original axes\n"
	      "      --power=P            scale by eigenvalue^P (default -0.5: whitening;\n"
	      "                           0: PCA rotation only)\n"
	      "      --eps=E              add E to the eigenvalues (default 1e-8 times\n"
	      "                           their mean)\n"
	      "      --normalize          L2-normalise the output rows\n"
	      "      --save=MODEL         also write the fitted transform to MODEL\n"
	      "      --load=MODEL         apply a saved transform, in one pass\n"
	      "      --partial            write the input's sufficient statistics (a\n"
	      "                           partial: n, mean, centred second moments) instead\n"
	      "                           of whitening it\n"
	      "      --merge              the operands are partials: merge them exactly and\n"
	      "                           fit the model of their rows (needs --save)\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embwhiten -k 256 --save w.model corpus.emb > white.emb\n"
	      "  embwhiten --load w.model queries.emb\n"
	      "  embwhiten --partial shard1.emb > p1.emb   (one per shard)\n"
	      "  embwhiten --merge -k 256 --save w.model p1.emb p2.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

enum { OPT_ZCA = EMB_OPT_FIRST_PROGRAM, OPT_POWER, OPT_EPS, OPT_NORMALIZE, OPT_SAVE, OPT_LOAD,
       OPT_PARTIAL, OPT_MERGE };
static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"dims", required_argument, NULL, 'k'},
	{"zca", no_argument, NULL, OPT_ZCA},
	{"power", required_argument, NULL, OPT_POWER},
	{"eps", required_argument, NULL, OPT_EPS},
	{"normalize", no_argument, NULL, OPT_NORMALIZE},
	{"save", required_argument, NULL, OPT_SAVE},
	{"load", required_argument, NULL, OPT_LOAD},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	{NULL, 0, NULL, 0},
};

struct whiten_opts {
	long long k;        /* 0 = all */
	bool zca, normalize, fit_opts, partial, merge;
	double power, eps;  /* eps < 0: the default */
	const char *save, *load;
};

/* Eigenvalues below this are zero up to rounding: the covariance is
 * singular there (fewer rows than dims, duplicates, constant columns);
 * every sum is in double (emb_cov), f32 input included. */
static size_t numerical_rank(size_t d, const double *s)
{
	double rel = (double)d * DBL_EPSILON;
	double tol = (s[0] > 0 ? s[0] : 0) * rel;
	size_t r = 0;
	while (r < d && s[r] > tol)
		r++;
	return r;
}

static double default_eps(size_t d, const double *s)
{
	double trace = 0;
	for (size_t i = 0; i < d; i++)
		trace += s[i] > 0 ? s[i] : 0;
	/* With no variance at all every centred row is exactly zero. */
	return trace > 0 ? 1e-8 * trace / (double)d : 1;
}

/* Per-direction scale (s + eps)^P, finite whatever s is. */
static double scale(double s, double eps, double power)
{
	double v = (s > 0 ? s : 0) + eps;
	if (v <= 0)
		return power < 0 ? 0 : (power == 0 ? 1 : 0);
	return pow(v, power);
}

/* Rows of the model matrix (the columns of W) from the M eigenvectors V
 * (rows) and the scales F (dim values).  K <= M: the top K columns; ZCA:
 * W = V^T F V plus F0 (I - V^T V) for the null space when M < d. */
static double *whitening_matrix(size_t d, size_t k, size_t mdir, const double *v,
				const double *f, double f0, bool zca)
{
	if (!zca) {
		double *w = emb_xmalloc(emb_xmul(emb_xmul(k, d), sizeof *w));
		for (size_t j = 0; j < k; j++)
			for (size_t i = 0; i < d; i++)
				w[j * d + i] = v[j * d + i] * f[j];
		return w;
	}
	double *fv = emb_xmalloc(emb_xmul(emb_xmul(mdir ? mdir : 1, d), sizeof *fv));
	for (size_t j = 0; j < mdir; j++)
		for (size_t i = 0; i < d; i++)
			fv[j * d + i] = v[j * d + i] * (mdir < d ? f[j] - f0 : f[j]);
	/* W = U (F U^T) is symmetric, so its rows are its columns. */
	double *z = emb_xcalloc(emb_xmul(d, d), sizeof *z);
	if (mdir)
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)mdir, 1.0,
			    v, (int)d, fv, (int)d, 0.0, z, (int)d);
	for (size_t i = 0; mdir < d && i < d; i++)
		z[i * d + i] += f0;
	free(fv);
	return z;
}

/* The model of the rows summed in CV (D values each), by the one pass or
 * by merged partials. */
static void fit_cov(struct emb_cov *cv, size_t d, const struct whiten_opts *wo,
		    struct emb_model *m)
{
	if (wo->k > 0 && d > 0 && (size_t)wo->k > d)
		emb_usage_error("-k %lld is more than the input's dim %zu", wo->k, d);
	size_t k = wo->zca || wo->k == 0 ? d : (size_t)wo->k;

	double *mean = emb_xmalloc((d ? d : 1) * sizeof *mean);
	double *s = emb_xcalloc(d ? d : 1, sizeof *s);
	double *v = NULL;
	emb_cov_finish(cv, mean, NULL);
	/* With fewer rows than dims only the MDIR < d directions of the
	 * data are computed (the Gram route); the rest is the null space. */
	size_t mdir = emb_cov_eigen(cv, s, &v);
	double eps = d == 0 ? 0 : wo->eps >= 0 ? wo->eps : default_eps(d, s);
	size_t rank = d ? numerical_rank(d, s) : 0;
	if (cv->n > 0 && rank < d && wo->power != 0)
		emb_warn("covariance is singular (rank %zu < dim %zu, %llu %s): "
			 "%zu %s scaled by --eps alone",
			 rank, d, (unsigned long long)cv->n, emb_plural(cv->n, "row", "rows"),
			 d - rank, emb_plural(d - rank, "direction is", "directions are"));
	for (size_t j = 0; j < d; j++)
		s[j] = scale(s[j], eps, wo->power);
	double f0 = scale(0, eps, wo->power);
	size_t explicit_k = k < mdir || wo->zca ? k : mdir;
	double *w = d ? whitening_matrix(d, explicit_k, mdir, v, s, f0, wo->zca) : NULL;

	emb_model_init(m, EMB_MODEL_WHITEN, d, mean, w, explicit_k, wo->normalize, cv->n);
	if (explicit_k < k)
		emb_model_set_null(m, emb_householder(mdir, d, v), mdir, f0, k);
	cJSON_AddNumberToObject(m->params, "power", wo->power);
	cJSON_AddNumberToObject(m->params, "eps", eps);
	cJSON_AddBoolToObject(m->params, "zca", wo->zca);
	cJSON_AddNumberToObject(m->params, "rank", (double)rank);
	free(v);
	free(s);
}

static void fit(struct emb_spill *sp, void *arg, struct emb_model *m)
{
	size_t d = sp->in->dim;
	struct emb_cov cv;
	struct emb_chunk c = EMB_CHUNK_INIT;
	emb_cov_init(&cv, d);
	while (emb_spill_read(sp, &c) > 0)
		emb_cov_add(&cv, &c);
	emb_chunk_free(&c);
	fit_cov(&cv, d, arg, m);
	emb_cov_free(&cv);
}

/* --merge: the model of the rows behind the partials PATHS[0..n). */
static void merge(const struct whiten_opts *wo, char *const *paths, int n)
{
	struct emb_moments mo;
	struct emb_cov cv;
	struct emb_model m;
	emb_check_not_input("--save", wo->save, (const char *const *)paths, (size_t)n);
	struct emb_stream *ms = emb_model_save_open(wo->save, NULL);
	emb_moments_merge_files(&mo, paths, n);
	emb_moments_to_cov(&mo, &cv);
	fit_cov(&cv, mo.dim, wo, &m);
	emb_model_save(&m, ms);
	emb_model_free(&m);
	emb_cov_free(&cv);
	emb_moments_free(&mo);
}

static void parse(int argc, char **argv, struct whiten_opts *wo)
{
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS "k:", long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case 'k': wo->k = emb_parse_int("-k", optarg, 1, EMB_MAX_DIM); wo->fit_opts = true; break;
		case OPT_ZCA: wo->zca = wo->fit_opts = true; break;
		case OPT_POWER: wo->power = emb_parse_double("--power", optarg); wo->fit_opts = true; break;
		case OPT_EPS:
			wo->eps = emb_parse_double("--eps", optarg);
			if (!(wo->eps >= 0))
				emb_usage_error("--eps must be a number >= 0, not '%s'", optarg);
			wo->fit_opts = true;
			break;
		case OPT_NORMALIZE: wo->normalize = true; break;
		case OPT_SAVE: wo->save = optarg; break;
		case OPT_LOAD: wo->load = optarg; break;
		case OPT_PARTIAL: wo->partial = true; break;
		case OPT_MERGE: wo->merge = true; break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	if (!wo->merge && argc - optind > 1)
		emb_usage_error("extra operand '%s'", argv[optind + 1]);
	emb_partial_usage(wo->partial, wo->merge, argc - optind, wo->load ? "--load" : NULL,
			  EMB_SH_WRITE & ~EMB_SH_PROGRESS);
	if (wo->partial && (wo->save || wo->fit_opts || wo->normalize))
		emb_usage_error("--partial writes statistics, not a model: %s belongs to --merge",
				wo->save ? "--save" : wo->normalize ? "--normalize"
				: "-k, --zca, --power or --eps");
	if (wo->merge && !wo->save)
		emb_usage_error("--merge writes a model: give --save=MODEL");
	if (wo->zca && wo->k)
		emb_usage_error("--zca keeps every dimension; it cannot be used with -k");
	if (wo->load && (wo->save || wo->fit_opts))
		emb_usage_error("--load applies a saved model; it cannot be used with %s",
				wo->save ? "--save" : "-k, --zca, --power or --eps");
}

int main(int argc, char **argv)
{
	struct whiten_opts wo = {.power = -0.5, .eps = -1};

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse(argc, argv, &wo);
	if (wo.partial) {
		struct emb_moments mo;
		emb_moments_read_input(&mo, optind < argc ? argv[optind] : "-", &emb_opts, false);
		emb_moments_write(&mo);
		emb_moments_free(&mo);
		return EMB_EXIT_OK;
	}
	if (wo.merge) {
		merge(&wo, argv + optind, argc - optind);
		return EMB_EXIT_OK;
	}
	emb_model_filter(optind < argc ? argv[optind] : "-", wo.load, wo.save, wo.normalize,
			 fit, &wo);
	return EMB_EXIT_OK;
}
