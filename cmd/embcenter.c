/*
 * embcenter - subtract the mean of a vector stream, optionally removing
 * its top principal directions too (all-but-the-top); or remove the top
 * singular directions of the uncentred rows (SIF's --remove-pc).
 */
#include <config.h>
#include "emb.h"
#include "emb_linalg.h"
#include "emb_moments.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The shared options (emb.h) embcenter honours: all of them. */
#define SHARED EMB_SH_ALL

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]\n", emb_progname);
	fputs("Centre a vector stream: fit the mean of its rows and subtract it.\n"
	      "The input is read twice (standard input is spilled to a temporary file\n"
	      "in $TMPDIR); with --load, once.\n"
	      "With no FILE, or when FILE is -, read standard input.\n"
	      "\n"
	      "      --abtt[=D]           all-but-the-top: also remove the projections on\n"
	      "                           the top D principal directions (default D:\n"
	      "                           dim/100 rounded, at least 1); D needs the '=':\n"
	      "                           --abtt 2 would read a file named 2\n"
	      "      --remove-pc=D        instead of centring, remove the projections on\n"
	      "                           the top D right singular vectors of the rows\n"
	      "                           as they are (eigenvectors of X^T X, no mean\n"
	      "                           subtracted): SIF's common component removal\n"
	      "      --normalize          L2-normalise the output rows\n"
	      "      --save=MODEL         also write the fitted transform to MODEL\n"
	      "      --load=MODEL         apply a saved transform, in one pass\n"
	      "      --partial            write the input's sufficient statistics (a\n"
	      "                           partial: n, mean, centred second moments) instead\n"
	      "                           of centring it\n"
	      "      --merge              the operands are partials: merge them exactly and\n"
	      "                           fit the model of their rows (needs --save)\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embcenter --save mean.model corpus.emb > centred.emb\n"
	      "  embcenter --load mean.model --normalize queries.emb\n"
	      "  embcenter --partial shard1.emb > p1.emb   (one per shard)\n"
	      "  embcenter --merge --save mean.model p1.emb p2.emb\n"
	      "  embpool -v words.emb --sif 1e-3 --freq freq.txt texts.txt | embcenter --remove-pc=1\n", stdout);
	exit(EMB_EXIT_OK);
}

enum { OPT_ABTT = EMB_OPT_FIRST_PROGRAM, OPT_NORMALIZE, OPT_SAVE, OPT_LOAD, OPT_PARTIAL,
       OPT_MERGE, OPT_REMOVE_PC };
static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"abtt", optional_argument, NULL, OPT_ABTT},
	{"remove-pc", required_argument, NULL, OPT_REMOVE_PC},
	{"normalize", no_argument, NULL, OPT_NORMALIZE},
	{"save", required_argument, NULL, OPT_SAVE},
	{"load", required_argument, NULL, OPT_LOAD},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	{NULL, 0, NULL, 0},
};

struct center_opts {
	bool abtt, normalize, partial, merge;
	long long top;      /* --abtt=D, 0 = the default */
	long long remove_pc; /* --remove-pc=D, 0 = not asked */
	const char *save, *load;
};

static size_t abtt_dims(const struct center_opts *co, size_t d)
{
	if (co->top == 0)
		return (d + 50) / 100 > 0 ? (d + 50) / 100 : 1;
	if ((size_t)co->top > d)
		emb_usage_error("--abtt %lld is more than the input's dim %zu", co->top, d);
	return (size_t)co->top;
}

/* The top D eigenvectors of the covariance, as rows (by the Gram matrix
 * when there are fewer rows than dims: emb_linalg.h). */
static double *top_directions(size_t d, size_t top, struct emb_cov *cv)
{
	double *s = emb_xmalloc(d * sizeof *s);
	double *w = emb_cov_top(cv, top, s, NULL);
	free(s);
	return w;
}

/* The model of the rows summed in CV (D values each), by the one pass or
 * by merged partials.  For --remove-pc, CV holds the uncentred X^T X
 * (emb_cov_init_raw) and the model's mean row is zero. */
static void fit_cov(struct emb_cov *cv, size_t d, const struct center_opts *co,
		    struct emb_model *m)
{
	if (co->remove_pc) {
		size_t top = (size_t)co->remove_pc;
		if (d > 0 && top > d)
			emb_usage_error("--remove-pc %lld is more than the input's dim %zu",
					co->remove_pc, d);
		double *zero = emb_xcalloc(d ? d : 1, sizeof *zero);
		double *w = d > 0 ? top_directions(d, top, cv) : NULL;
		emb_model_init(m, EMB_MODEL_REMOVE_PC, d, zero, w, d > 0 ? top : 0,
			       co->normalize, cv->n);
		return;
	}
	bool abtt = co->abtt && d > 0;
	double *mean = emb_xmalloc((d ? d : 1) * sizeof *mean);
	emb_cov_finish(cv, mean, NULL);
	size_t top = abtt ? abtt_dims(co, d) : 0;
	double *w = abtt ? top_directions(d, top, cv) : NULL;
	emb_model_init(m, abtt ? EMB_MODEL_ABTT : EMB_MODEL_CENTER, d, mean, w, top,
		       co->normalize, cv->n);
}

static void fit(struct emb_spill *sp, void *arg, struct emb_model *m)
{
	const struct center_opts *co = arg;
	size_t d = sp->in->dim;
	struct emb_cov cv;
	struct emb_chunk c = EMB_CHUNK_INIT;
	if (co->remove_pc) {
		emb_cov_init_raw(&cv, d);
	} else if (co->abtt && d > 0) {
		emb_cov_init(&cv, d);
	} else {
		emb_cov_init_mean(&cv, d);
	}
	while (emb_spill_read(sp, &c) > 0)
		emb_cov_add(&cv, &c);
	emb_chunk_free(&c);
	fit_cov(&cv, d, co, m);
	emb_cov_free(&cv);
}

/* --merge: the model of the rows behind the partials PATHS[0..n). */
static void merge(const struct center_opts *co, char *const *paths, int n)
{
	struct emb_moments mo;
	struct emb_cov cv;
	struct emb_model m;
	emb_check_not_input("--save", co->save, (const char *const *)paths, (size_t)n);
	struct emb_stream *ms = emb_model_save_open(co->save, NULL);
	emb_moments_merge_files(&mo, paths, n);
	if (co->remove_pc)
		emb_moments_to_raw_cov(&mo, &cv);
	else
		emb_moments_to_cov(&mo, &cv);
	fit_cov(&cv, mo.dim, co, &m);
	emb_model_save(&m, ms);
	emb_model_free(&m);
	emb_cov_free(&cv);
	emb_moments_free(&mo);
}

/* --abtt takes an optional argument, so "--abtt 2" is --abtt and the
 * operand 2.  When the operand is a whole number and no such file exists,
 * the user meant --abtt=2: say so rather than fail to open "2". */
static void check_abtt_operands(int argc, char **argv)
{
	struct stat st;
	long long d;
	for (int i = optind; i < argc; i++)
		if (emb_parse_ll(argv[i], &d) && stat(argv[i], &st) != 0)
			emb_usage_error("use --abtt=%s (with '=') to remove %s direction%s",
					argv[i], argv[i], d == 1 ? "" : "s");
}

static void parse(int argc, char **argv, struct center_opts *co)
{
	bool abtt_bare = false;
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case OPT_ABTT:
			co->abtt = true;
			abtt_bare = !optarg;
			if (optarg)
				co->top = emb_parse_int("--abtt", optarg, 1, EMB_MAX_DIM);
			break;
		case OPT_REMOVE_PC:
			co->remove_pc = emb_parse_int("--remove-pc", optarg, 1, EMB_MAX_DIM);
			break;
		case OPT_NORMALIZE: co->normalize = true; break;
		case OPT_SAVE: co->save = optarg; break;
		case OPT_LOAD: co->load = optarg; break;
		case OPT_PARTIAL: co->partial = true; break;
		case OPT_MERGE: co->merge = true; break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	if (abtt_bare)
		check_abtt_operands(argc, argv);
	if (!co->merge && argc - optind > 1)
		emb_usage_error("extra operand '%s'", argv[optind + 1]);
	emb_partial_usage(co->partial, co->merge, argc - optind, co->load ? "--load" : NULL,
			  EMB_SH_WRITE & ~EMB_SH_PROGRESS);
	if (co->partial && (co->save || co->abtt || co->remove_pc || co->normalize))
		emb_usage_error("--partial writes statistics, not a model: %s belongs to --merge",
				co->save ? "--save" : co->abtt ? "--abtt" :
				co->remove_pc ? "--remove-pc" : "--normalize");
	if (co->merge && !co->save)
		emb_usage_error("--merge writes a model: give --save=MODEL");
	if (co->abtt && co->remove_pc)
		emb_usage_error("--abtt and --remove-pc are two different removals: choose one");
	if (co->load && (co->save || co->abtt || co->remove_pc))
		emb_usage_error("--load applies a saved model; it cannot be used with %s",
				co->save ? "--save" : co->abtt ? "--abtt" : "--remove-pc");
}

int main(int argc, char **argv)
{
	struct center_opts co = {0};

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse(argc, argv, &co);
	if (co.partial) {
		struct emb_moments mo;
		emb_moments_read_input(&mo, optind < argc ? argv[optind] : "-", &emb_opts, false);
		emb_moments_write(&mo);
		emb_moments_free(&mo);
		return EMB_EXIT_OK;
	}
	if (co.merge) {
		merge(&co, argv + optind, argc - optind);
		return EMB_EXIT_OK;
	}
	emb_model_filter(optind < argc ? argv[optind] : "-", co.load, co.save, co.normalize,
			 fit, &co);
	return EMB_EXIT_OK;
}
