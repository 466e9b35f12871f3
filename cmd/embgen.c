/*
 * embgen - synthetic vectors for tests, benchmarks and teaching: isotropic
 * Gaussians, Gaussian mixtures with covariance alpha*I + beta*mu*mu^T per
 * component, and "contextual-embedding-like" anisotropic data (a shared
 * offset plus a few dominant directions).
 *
 * The model parameters come from a GSL taus2 generator (L'Ecuyer's)
 * seeded by --seed.  Rows come in blocks of GEN_BLOCK: the rows of block b
 * are drawn in order from their own xoshiro256++ generator, whose state is
 * derived from (seed, b) by splitmix64.  So row i depends only on the
 * options and i, never on chunking or on where the run starts: --first=M
 * writes rows M.. of the run from row 0, byte for byte, after drawing at
 * most GEN_BLOCK - 1 rows of M's block, and runs of disjoint row ranges
 * can be made in parallel.  (xoshiro256++ rather than a second taus2:
 * GSL seeds taus2 from 32 bits, and a large run has more blocks than
 * 32-bit seeds can keep apart.)  Rows are generated a chunk at a time:
 * memory is O(chunk + K*dim).
 */
#include <config.h>
#include "emb.h"

#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embgen honours: those of writing; --keys
 * (--prefix=w) and --no-keys (the default), about the output; and -I,
 * --vector-field and --key-field for reading the --means file. */
#define SHARED_KEYS (EMB_SH_KEYS | EMB_SH_NO_KEYS)
#define SHARED_MEANS (EMB_SH_INPUT_FORMAT | EMB_SH_VECTOR_FIELD | EMB_SH_KEY_FIELD)
#define SHARED (EMB_SH_WRITE | SHARED_KEYS | SHARED_MEANS)

enum mode { ISOTROPIC, MIXTURE, ANISOTROPIC };

struct gen {
	enum mode mode;
	size_t n, dim;
	double alpha, beta;     /* isotropic variance; variance along mu / dominant dirs */
	double mean_scale;      /* random means ~ N(0, mean_scale^2 I) */
	double offset;          /* anisotropic: shared offset norm / sqrt(dim) */
	size_t k;               /* mixture components or dominant directions */
	const char *means_file; /* mixture means, or NULL for random ones */
	const char *prefix;     /* key prefix, or NULL for no keys */
	unsigned long seed;
	size_t first;           /* --first: the first row written (from 0) */
	bool first_given;
	/* model parameters, drawn before any row */
	double *means;          /* k*dim: component means, or the directions */
	double *off;            /* dim: the anisotropic offset */
	gsl_rng *rng;           /* the model's generator */
	gsl_rng *row_rng;       /* the rows' generator, reseeded per block */
};

/* Rows per block of the row generator (see the top of this file). */
#define GEN_BLOCK 1024

/* ---- xoshiro256++ (Blackman and Vigna) as a GSL generator type ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(void *state)
{
	uint64_t *s = state;
	uint64_t r = rotl(s[0] + s[3], 23) + s[0], t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* The state for block BLOCK of seed SEED (never all zero: splitmix64
 * outputs are a bijection of distinct inputs). */
static void xoshiro_seed(void *state, uint64_t seed, uint64_t block)
{
	uint64_t *s = state, h = seed, b = block;
	uint64_t x = splitmix64(&h) ^ splitmix64(&b);
	for (int i = 0; i < 4; i++)
		s[i] = splitmix64(&x);
}

static void xoshiro_set(void *state, unsigned long seed)
{
	xoshiro_seed(state, seed, 0);
}

/* 32 bits per call: GSL's ziggurat takes one call for a whole draw. */
static unsigned long xoshiro_get(void *state)
{
	return (unsigned long)(xoshiro_next(state) >> 32);
}

static double xoshiro_get_double(void *state)
{
	return (double)(xoshiro_next(state) >> 11) * 0x1.0p-53;
}

static const gsl_rng_type xoshiro_type = {
	"xoshiro256++", 0xffffffffUL, 0, 4 * sizeof(uint64_t),
	xoshiro_set, xoshiro_get, xoshiro_get_double,
};

enum {
	OPT_ISOTROPIC = EMB_OPT_FIRST_PROGRAM, OPT_MIXTURE, OPT_MEANS, OPT_ANISOTROPIC,
	OPT_ALPHA, OPT_BETA, OPT_MEAN_SCALE, OPT_OFFSET, OPT_DIRECTIONS, OPT_PREFIX,
	OPT_FIRST,
};

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]...\n", emb_progname);
	fputs("Write N synthetic D-dimensional vectors to standard output (binary emb\n"
	      "unless -O tsv).  The same options and seed give the same vectors.\n"
	      "\n"
	      "  -n, --rows=N             rows to write (default 1000)\n"
	      "  -d, --dim=D              values per row (default 16)\n"
	      "  -s, --seed=S             seed of the generator (default 1)\n"
	      "      --first=M            write rows M to M+N-1 (from 0) of the run that\n"
	      "                           starts at row 0, the same values and keys, and\n"
	      "                           numbered so (emb(5), \"Row numbers\"): parts of a\n"
	      "                           run made in parallel (default 0)\n"
	      "      --isotropic          rows ~ N(0, alpha I) (the default)\n"
	      "      --mixture=K          K equally likely Gaussian components with\n"
	      "                           means mu_k and covariance alpha I + beta mu_k mu_k^T\n"
	      "      --means=FILE         take the mixture means from the rows of FILE\n"
	      "                           (implies --mixture with K = its rows)\n"
	      "      --mean-scale=M       random means ~ N(0, M^2 I) (default 3)\n"
	      "      --anisotropic        a shared offset of norm OFFSET*sqrt(D) plus R\n"
	      "                           random orthonormal directions with variance\n"
	      "                           beta*D/j (j = 1..R) plus N(0, alpha I) noise\n"
	      "      --directions=R       dominant directions (default 3)\n"
	      "      --offset=OFFSET      shared offset scale (default 2)\n"
	      "      --alpha=A            isotropic variance (default 1)\n"
	      "      --beta=B             variance along mu_k (mixture, default 0) or\n"
	      "                           dominant-direction scale (anisotropic, default 1)\n"
	      "      --prefix=P           give row i (from 0) the key P<i>\n"
	      "      --keys, --no-keys    keys w0, w1, ... (the same as --prefix=w), or\n"
	      "                           no keys (the default)\n"
	      "\n"
	      "Vector streams (-I and the fields: reading the --means FILE):\n", stdout);
	emb_shared_help(SHARED & ~SHARED_KEYS);
	fputs("\nExamples:\n"
	      "  embgen -n 200000 -d 768 --anisotropic > big.emb\n"
	      "  embgen -n 5 -d 3 --mixture 2 -O tsv\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"rows", required_argument, NULL, 'n'},
	{"dim", required_argument, NULL, 'd'},
	{"seed", required_argument, NULL, 's'},
	{"isotropic", no_argument, NULL, OPT_ISOTROPIC},
	{"mixture", required_argument, NULL, OPT_MIXTURE},
	{"means", required_argument, NULL, OPT_MEANS},
	{"anisotropic", no_argument, NULL, OPT_ANISOTROPIC},
	{"alpha", required_argument, NULL, OPT_ALPHA},
	{"beta", required_argument, NULL, OPT_BETA},
	{"mean-scale", required_argument, NULL, OPT_MEAN_SCALE},
	{"offset", required_argument, NULL, OPT_OFFSET},
	{"directions", required_argument, NULL, OPT_DIRECTIONS},
	{"prefix", required_argument, NULL, OPT_PREFIX},
	{"first", required_argument, NULL, OPT_FIRST},
	{NULL, 0, NULL, 0},
};

static double nonneg(const char *opt, const char *arg)
{
	double v = emb_parse_double(opt, arg);
	if (v < 0)
		emb_usage_error("%s must not be negative, not '%s'", opt, arg);
	return v;
}

static void set_mode(struct gen *g, enum mode m, bool *given)
{
	if (*given && g->mode != m)
		emb_usage_error("--isotropic, --mixture/--means and --anisotropic exclude each other");
	g->mode = m;
	*given = true;
}

static void parse_args(struct gen *g, int argc, char **argv)
{
	bool mode_given = false, beta_given = false, dim_given = false, dirs_given = false;
	bool mixture_given = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "n:d:s:" EMB_COMMON_SHORTOPTS,
				  long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case 'n': g->n = (size_t)emb_parse_int("-n", optarg, 0, (long long)1 << 50); break;
		case 'd':
			g->dim = (size_t)emb_parse_int("-d", optarg, 1, EMB_MAX_DIM);
			dim_given = true;
			break;
		case 's': g->seed = (unsigned long)emb_parse_int("--seed", optarg, 0, 4294967295LL); break;
		case OPT_ISOTROPIC: set_mode(g, ISOTROPIC, &mode_given); break;
		case OPT_MIXTURE:
			set_mode(g, MIXTURE, &mode_given);
			mixture_given = true;
			g->k = (size_t)emb_parse_int("--mixture", optarg, 1, 1 << 20);
			break;
		case OPT_MEANS: set_mode(g, MIXTURE, &mode_given); g->means_file = optarg; break;
		case OPT_ANISOTROPIC: set_mode(g, ANISOTROPIC, &mode_given); break;
		case OPT_ALPHA: g->alpha = nonneg("--alpha", optarg); break;
		case OPT_BETA: g->beta = nonneg("--beta", optarg); beta_given = true; break;
		case OPT_MEAN_SCALE: g->mean_scale = nonneg("--mean-scale", optarg); break;
		case OPT_OFFSET: g->offset = emb_parse_double("--offset", optarg); break;
		case OPT_DIRECTIONS:
			g->k = (size_t)emb_parse_int("--directions", optarg, 0, EMB_MAX_DIM);
			dirs_given = true;
			break;
		case OPT_PREFIX: g->prefix = optarg; break;
		case OPT_FIRST:
			g->first = (size_t)emb_parse_int("--first", optarg, 0, (long long)1 << 50);
			g->first_given = true;
			break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	if (optind < argc)
		emb_usage_error("extra operand '%s'", argv[optind]);
	if (!g->means_file)
		emb_shared_only_for(SHARED_MEANS, "--means");
	if (mixture_given && g->means_file)
		emb_usage_error("--mixture and --means cannot be used together (the means fix K)");
	if (g->mode == ANISOTROPIC && !beta_given)
		g->beta = 1;
	if (g->mode == ANISOTROPIC && !dirs_given)
		g->k = g->dim < 3 ? g->dim : 3;
	if (g->mode == ANISOTROPIC && g->k > g->dim)
		emb_usage_error("--directions (%zu) must not exceed the dim (%zu)", g->k, g->dim);
	if (g->means_file && !dim_given)
		g->dim = 0; /* taken from the file by load_means */
	if (g->prefix && emb_opts.keys == EMB_NO)
		emb_usage_error("--no-keys and --prefix exclude each other");
	if (!g->prefix && emb_opts.keys == EMB_YES)
		g->prefix = "w";
}

static void gaussian_fill(gsl_rng *r, double *v, size_t n, double sd)
{
	for (size_t i = 0; i < n; i++)
		v[i] = gsl_ran_gaussian_ziggurat(r, sd);
}

static void load_means(struct gen *g, size_t want_dim)
{
	/* --keys is about the output: the file's keys are detected. */
	struct emb_opts o = emb_opts;
	o.keys = EMB_DETECT;
	struct emb_table *t = emb_table_load(g->means_file, &o, false);
	if (t->rows == 0)
		emb_die(EMB_EXIT_DATA, "%s: no means (empty stream)", g->means_file);
	if (want_dim && t->dim != want_dim)
		emb_die(EMB_EXIT_DATA, "%s: means have dim %zu, but -d is %zu",
			g->means_file, t->dim, want_dim);
	g->dim = t->dim;
	g->k = t->rows;
	g->means = emb_xmalloc(emb_xmul(g->k, emb_xmul(g->dim, sizeof *g->means)));
	for (size_t i = 0; i < g->k * g->dim; i++)
		g->means[i] = t->data[i];
	emb_table_free(t);
}

/* Gram-Schmidt on Gaussian vectors: uniformly random orthonormal rows. */
static void random_orthonormal(gsl_rng *r, double *u, size_t k, size_t dim)
{
	for (size_t j = 0; j < k; j++) {
		double *v = u + j * dim, nn;
		do {
			gaussian_fill(r, v, dim, 1.0);
			for (size_t p = 0; p < j; p++) {
				const double *w = u + p * dim;
				double dot = 0;
				for (size_t i = 0; i < dim; i++)
					dot += v[i] * w[i];
				for (size_t i = 0; i < dim; i++)
					v[i] -= dot * w[i];
			}
			nn = 0;
			for (size_t i = 0; i < dim; i++)
				nn += v[i] * v[i];
		} while (nn < 1e-20);
		for (size_t i = 0; i < dim; i++)
			v[i] /= sqrt(nn);
	}
}

static void draw_model(struct gen *g)
{
	if (g->mode == MIXTURE && g->means_file) {
		load_means(g, g->dim);
	} else if (g->mode == MIXTURE) {
		g->means = emb_xmalloc(emb_xmul(g->k, emb_xmul(g->dim, sizeof *g->means)));
		gaussian_fill(g->rng, g->means, g->k * g->dim, g->mean_scale);
	} else if (g->mode == ANISOTROPIC) {
		g->off = emb_xmalloc(emb_xmul(g->dim, sizeof *g->off));
		random_orthonormal(g->rng, g->off, 1, g->dim);
		for (size_t i = 0; i < g->dim; i++)
			g->off[i] *= g->offset * sqrt((double)g->dim);
		g->means = emb_xmalloc(emb_xmul(g->k + 1, emb_xmul(g->dim, sizeof *g->means)));
		random_orthonormal(g->rng, g->means, g->k, g->dim);
	}
}

/* One row into X.  Mixture: mu + sqrt(alpha) z + sqrt(beta) t mu, t ~ N(0,1),
 * whose covariance is alpha I + beta mu mu^T. */
static void draw_row(struct gen *g, double *x)
{
	size_t d = g->dim;
	gsl_rng *r = g->row_rng;
	gaussian_fill(r, x, d, sqrt(g->alpha));
	if (g->mode == MIXTURE) {
		const double *mu = g->means + gsl_rng_uniform_int(r, g->k) * d;
		double s = 1 + gsl_ran_gaussian_ziggurat(r, sqrt(g->beta));
		for (size_t i = 0; i < d; i++)
			x[i] += s * mu[i];
	} else if (g->mode == ANISOTROPIC) {
		for (size_t i = 0; i < d; i++)
			x[i] += g->off[i];
		for (size_t j = 0; j < g->k; j++) {
			const double *u = g->means + j * d;
			double s = gsl_ran_gaussian_ziggurat(r, sqrt(g->beta * (double)d / (double)(j + 1)));
			for (size_t i = 0; i < d; i++)
				x[i] += s * u[i];
		}
	}
}

static void generate(struct gen *g, struct emb_stream *out)
{
	size_t per = EMB_CHUNK_TARGET_BYTES / (g->dim * sizeof(double));
	per = per < 1 ? 1 : per > 65536 ? 65536 : per;
	enum emb_dtype t = out->dtype == EMB_F64 ? EMB_F64 : EMB_F32;
	struct emb_chunk c = EMB_CHUNK_INIT;
	double *x = emb_xmalloc(emb_xmul(g->dim, sizeof *x));
	size_t plen = g->prefix ? strlen(g->prefix) : 0;
	char *key = emb_xmalloc(plen + 32);

	/* --first numbers the rows (a header "row_offset"), so that parts
	 * written apart concatenate, in any order, into the numbers of the
	 * whole run. */
	out->row_next = (uint64_t)g->first + 1;
	out->row_pinned = g->first_given;
	emb_write_header(out);
	for (size_t done = 0; done < g->n; ) {
		size_t rows = g->n - done < per ? g->n - done : per;
		emb_chunk_reserve(&c, rows, g->dim, t, g->prefix != NULL);
		c.first_row = (uint64_t)(g->first + done) + 1;
		c.numbered = g->first_given;
		for (size_t i = 0; i < rows; i++) {
			uint64_t row = (uint64_t)(g->first + done + i);
			if (row % GEN_BLOCK == 0 || done + i == 0) {
				/* a new block; or the first row, after the rows of its
				 * block before it */
				xoshiro_seed(gsl_rng_state(g->row_rng), g->seed, row / GEN_BLOCK);
				for (uint64_t skip = row % GEN_BLOCK; skip > 0; skip--)
					draw_row(g, x);
			}
			draw_row(g, x);
			for (size_t j = 0; j < g->dim; j++) {
				if (t == EMB_F64)
					emb_row_f64(&c, i)[j] = x[j];
				else
					emb_row_f32(&c, i)[j] = (float)x[j];
			}
			if (g->prefix) {
				int len = snprintf(key, plen + 32, "%s%zu", g->prefix, g->first + done + i);
				emb_chunk_set_key(&c, i, key, (size_t)len);
			}
		}
		emb_write_chunk(out, &c);
		done += rows;
	}
	free(x);
	free(key);
	emb_chunk_free(&c);
}

int main(int argc, char **argv)
{
	struct gen g = {
		.mode = ISOTROPIC, .n = 1000, .dim = 16, .alpha = 1, .beta = 0,
		.mean_scale = 3, .offset = 2, .k = 3, .seed = 1,
	};
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse_args(&g, argc, argv);

	gsl_rng_env_setup();
	g.rng = gsl_rng_alloc(gsl_rng_taus2);
	gsl_rng_set(g.rng, g.seed);
	g.row_rng = gsl_rng_alloc(&xoshiro_type);
	draw_model(&g);

	struct emb_stream *out = emb_open_w_like(NULL, &emb_opts);
	if (emb_opts.out_format == EMB_FMT_AUTO)
		out->format = EMB_FMT_EMB;
	out->dim = g.dim;
	out->has_keys = g.prefix != NULL;
	generate(&g, out);
	emb_close(out);

	gsl_rng_free(g.rng);
	gsl_rng_free(g.row_rng);
	free(g.means);
	free(g.off);
	return EMB_EXIT_OK;
}
