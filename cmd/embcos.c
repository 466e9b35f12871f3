/*
 * embcos - cosine (or dot, euclidean, manhattan) similarity of vectors:
 * row by row, by key, top-k neighbours, all pairs, and per block of
 * dimensions.
 */
#include <config.h>
#include "emb.h"
#include "emb_hamming.h"
#include "emb_eval.h"
#include "emb_knn.h"
#include "emb_quant.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embcos honours: all, but it writes vectors
 * (-O, --dtype) only with --matrix. */
#define SHARED EMB_SH_ALL

enum mode {
	MODE_PAIRED, MODE_PAIRS, MODE_TOPK, MODE_MATRIX, MODE_BLOCKS, MODE_MERGE, MODE_CANDIDATES
};
enum zero { ZERO_ERROR, ZERO_NAN, ZERO_ZERO };
enum oov { OOV_SKIP, OOV_NAN, OOV_ZERO, OOV_ERROR };

static struct {
	enum mode mode;
	const char *mode_opt;     /* the option that chose the mode */
	enum emb_sim sim;
	enum zero zero;
	enum oov oov;
	bool ignore_case, exclude_self, softmax;
	bool partial, merge, sim_given, db_offset_given;
	bool hamming;             /* --hamming: bit streams, distances */
	const char *ranges;       /* --ranges: dequantize i8/u8 inputs */
	double tau;
	long long k;
	uint64_t db_offset;       /* --db-offset: global row of the DB's first row */
	const char *pairs, *db, *blocks;
	const char *candidates;   /* --candidates=PAIRS */
	enum emb_run_format format; /* --format of --topk, --candidates, --merge */
	const char *format_opt, *run_tag;
	bool run_tag_given;
} cfg = { .mode = MODE_PAIRED, .sim = EMB_SIM_COS, .run_tag = EMB_RUN_TAG_DEFAULT };

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [A [B]]\n"
	       "  or:  %s --pairs=PAIRS [OPTION]... [VECTORS]\n"
	       "  or:  %s --topk=K --db=DB [OPTION]... [QUERIES]\n"
	       "  or:  %s --candidates=PAIRS -k K --db=DB [OPTION]... [QUERIES]\n"
	       "  or:  %s --merge [-k K] [--softmax=TAU] FILE...\n"
	       "  or:  %s --matrix [OPTION]... [A [B]]\n"
	       "  or:  %s --blocks=SPEC [OPTION]... [A [B]]\n",
	       emb_progname, emb_progname, emb_progname, emb_progname, emb_progname,
	       emb_progname, emb_progname);
	fputs("Score vectors by cosine similarity (or another function below).\n"
	      "Paired (default): row i of A against row i of B, as 'keyA keyB score'.\n"
	      "A missing operand, or -, is standard input; if both are standard input,\n"
	      "each row is paired with itself.\n"
	      "\n"
	      "Modes:\n"
	      "      --pairs=PAIRS        look up the first two tab-separated columns of\n"
	      "                           PAIRS as keys in VECTORS; print each line with\n"
	      "                           the score appended\n"
	      "      --oov=MODE           --pairs with a missing key: skip (default),\n"
	      "                           nan, zero or error\n"
	      "      --ignore-case        --pairs: match keys ignoring ASCII case\n"
	      "  -k, --topk=K             the K best rows of DB for each query, as\n"
	      "                           'qkey dbkey score rank' (ties: lower DB row first)\n"
	      "      --db=DB              the database searched by --topk (streamed)\n"
	      "      --exclude-self       --topk: skip DB row i for query i\n"
	      "      --db-offset=M        --topk: DB is a shard whose first row is row M\n"
	      "                           (0-based) of the whole database\n"
	      "      --partial            --topk: write the lossless list that --merge\n"
	      "                           reads (global rows, exact scores, softmax sums)\n"
	      "      --candidates=PAIRS   rescore only the (query key, DB key) pairs of\n"
	      "                           PAIRS (emblsh --candidates or any --topk output)\n"
	      "                           exactly, keeping the best -k K per query, as\n"
	      "                           --topk prints them\n"
	      "      --format=FMT         --topk, --candidates, --merge: topk (default:\n"
	      "                           'qkey dbkey score rank') or trec ('qid Q0 docid\n"
	      "                           rank score tag', for trec_eval)\n"
	      "      --run-tag=TAG        --format trec: the last column (default embutils)\n"
	      "      --merge              merge the --partial lists of DB shards (FILE...,\n"
	      "                           same queries) into what one --topk run prints;\n"
	      "                           -k: the files' K, or fewer\n"
	      "      --matrix             all pairs of A and B (B defaults to A): one\n"
	      "                           output row per row of A (TSV unless -O emb)\n"
	      "      --blocks=SPEC        paired, plus the score of each block of\n"
	      "                           dimensions: SPEC is N equal blocks or ranges\n"
	      "                           like 0:384,384:768 (start inclusive, end not)\n"
	      "      --softmax=TAU        --topk, --matrix, --merge: print\n"
	      "                           exp(s/TAU)/sum exp(s/TAU) over all DB rows\n"
	      "                           instead of the score s\n"
	      "\n"
	      "Similarity:\n"
	      "      --cos                cosine (default)\n"
	      "      --dot                dot product\n"
	      "      --euclidean          minus the euclidean distance\n"
	      "      --manhattan          minus the manhattan distance\n"
	      "      --zero=MODE          cosine with a zero vector: error (default),\n"
	      "                           nan or zero\n"
	      "      --hamming            bit streams (embquant --ubinary): the number of\n"
	      "                           differing bits, smallest first (paired, --topk,\n"
	      "                           --matrix); --format trec prints minus them\n"
	      "      --ranges=RANGES      score i8/u8 codes as the values they stand for\n"
	      "                           under the embquant ranges they were made with\n"
	      "\n"
	      "Vectors as read (all modes but --merge):\n", stdout);
	emb_slice_help();
	fputs("\nVector streams (-O and --dtype: --matrix only):\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embcos a.emb b.emb | head -n 3\n"
	      "  embcos --pairs pairs.tsv vectors.emb | embspearman -x 3 -y 4\n"
	      "  embcos --topk 5 --db vectors.emb queries.emb\n"
	      "  embcos -k 5 --partial --db shard1.emb queries.emb > top.1\n"
	      "  embcos --merge top.1 top.2 top.3\n"
	      "  embcos -k 10 --format trec --db docs.emb queries.emb > run.trec\n"
	      "  embcos --candidates cand.tsv -k 10 --db docs.emb queries.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

enum {
	OPT_PAIRS = EMB_OPT_FIRST_PROGRAM, OPT_OOV, OPT_IGNORE_CASE, OPT_DB,
	OPT_EXCLUDE_SELF, OPT_MATRIX, OPT_BLOCKS, OPT_SOFTMAX, OPT_COS, OPT_DOT,
	OPT_EUCLIDEAN, OPT_MANHATTAN, OPT_ZERO, OPT_PARTIAL, OPT_MERGE, OPT_DB_OFFSET,
	OPT_HAMMING, OPT_RANGES,
	OPT_CANDIDATES, OPT_FORMAT, OPT_RUN_TAG,
};

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"pairs", required_argument, NULL, OPT_PAIRS},
	{"oov", required_argument, NULL, OPT_OOV},
	{"ignore-case", no_argument, NULL, OPT_IGNORE_CASE},
	{"topk", required_argument, NULL, 'k'},
	{"db", required_argument, NULL, OPT_DB},
	{"exclude-self", no_argument, NULL, OPT_EXCLUDE_SELF},
	{"matrix", no_argument, NULL, OPT_MATRIX},
	{"blocks", required_argument, NULL, OPT_BLOCKS},
	{"softmax", required_argument, NULL, OPT_SOFTMAX},
	{"cos", no_argument, NULL, OPT_COS},
	{"dot", no_argument, NULL, OPT_DOT},
	{"euclidean", no_argument, NULL, OPT_EUCLIDEAN},
	{"manhattan", no_argument, NULL, OPT_MANHATTAN},
	{"zero", required_argument, NULL, OPT_ZERO},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	{"db-offset", required_argument, NULL, OPT_DB_OFFSET},
	{"hamming", no_argument, NULL, OPT_HAMMING},
	{"ranges", required_argument, NULL, OPT_RANGES},
	{"candidates", required_argument, NULL, OPT_CANDIDATES},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"run-tag", required_argument, NULL, OPT_RUN_TAG},
	EMB_SLICE_LONGOPTS,
	{NULL, 0, NULL, 0},
};

/* ---- small helpers ---- */

/* Mode M chosen by option OPT with argument ARG (NULL for a flag): a
 * second mode, or the same one with another argument, is a usage error. */
static void set_mode(enum mode m, const char *opt, const char *arg)
{
	static const char *last_arg;
	if (cfg.mode_opt && cfg.mode != m)
		emb_usage_error("options %s and %s cannot be used together", cfg.mode_opt, opt);
	if (cfg.mode_opt && arg && strcmp(arg, last_arg))
		emb_usage_error("%s given twice ('%s' and '%s')", opt, last_arg, arg);
	cfg.mode = m;
	cfg.mode_opt = opt;
	last_arg = arg;
}

/* The similarity function, by option OPT: one only (--hamming too). */
static const char *sim_opt;
static void set_sim(enum emb_sim sim, const char *opt)
{
	if (sim_opt && (cfg.sim != sim || cfg.hamming))
		emb_usage_error("options %s and %s cannot be used together", sim_opt, opt);
	cfg.sim = sim;
	cfg.sim_given = true;
	sim_opt = opt;
}

static void put_score(double v)
{
	char buf[32];
	fwrite(buf, 1, (size_t)emb_format_g9(buf, v), stdout);
}

/* The cosine score for a zero vector, when --zero allows one. */
static double zero_score(void)
{
	return cfg.zero == ZERO_ZERO ? 0.0 : NAN;
}

/* What is wrong with a row of squared norm AA before it is scored: not
 * finite, or zero when that is an error; NULL if nothing. */
static const char *norm_fault(double aa)
{
	if (!isfinite(aa))
		return "value is not finite";
	if (aa == 0 && cfg.sim == EMB_SIM_COS && cfg.zero == ZERO_ERROR)
		return "zero vector: cosine is undefined (see --zero)";
	return NULL;
}

/* Check row I of a chunk just read (squared norm AA): the message names
 * its line (text) or byte offset (binary). */
static void check_norm(const struct emb_chunk *c, size_t i, double aa)
{
	const char *fault = norm_fault(aa);
	if (fault)
		emb_die_row(c, i, "%s", fault);
}

static void check_chunk_row(const struct emb_chunk *c, size_t i)
{
	double dot, aa, bb;
	const float *x = emb_row_f32(c, i);
	emb_dot3_f32(x, x, c->dim, &dot, &aa, &bb);
	check_norm(c, i, aa);
}

/* Score with the zero-vector rule applied. */
static double score(const float *a, const float *b, size_t dim)
{
	double s = emb_sim_f32(cfg.sim, a, b, dim);
	return isnan(s) ? zero_score() : s;
}

static const char *row_key(char **keys, size_t i, uint64_t rowno, char *buf)
{
	if (keys)
		return keys[i];
	snprintf(buf, 24, "%llu", (unsigned long long)rowno);
	return buf;
}

static void check_dims(const char *a, size_t da, const char *b, size_t db)
{
	if (da && db && da != db)
		emb_die(EMB_EXIT_DATA, "dim mismatch: %s has dim %zu, %s has dim %zu", a, da, b, db);
}

/* ---- paired and blocks: two streams read in step ---- */

struct side {
	struct emb_stream *s;
	struct emb_chunk c;
	size_t pos;     /* next row of c */
	uint64_t row;   /* 1-based number of the current row */
	size_t dim;     /* of the rows as scored (after --dims) */
};

/* Die unless input NAME, of dtype DTYPE, holds bits exactly when
 * --hamming scores them: the cosine of bits read as 0s and 1s is not the
 * measure binary codes are made for. */
static void check_bits(const char *name, const char *dtype)
{
	bool bits = strcmp(dtype, "bit") == 0;
	if (bits && !cfg.hamming)
		emb_die(EMB_EXIT_DATA, "%s: a bit stream: score it with --hamming", name);
	if (!bits && cfg.hamming)
		emb_die(EMB_EXIT_DATA, "%s: --hamming scores bit streams, not %s (make them with "
			"embquant --ubinary)", name, dtype);
}

/* The dtype of the stream table T was loaded from. */
static const char *table_dtype(const struct emb_table *t)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(t->meta, "dtype");
	return cJSON_IsString(d) ? d->valuestring : "f32";
}

/* Make the ROWS f32 rows at X, read from input NAME of dtype DTYPE and
 * header META, real values: i8/u8 codes become what they stand for under
 * --ranges.  Raw codes are never scored: their dot products ignore each
 * dimension's scale and offset (sentence-transformers PR #4058). */
static void codes_to_values(const char *name, const char *dtype, const cJSON *meta, float *x,
			    size_t rows, size_t dim)
{
	static struct emb_ranges r;
	static bool loaded;
	int t = emb_dtype_parse(dtype);
	if (t != EMB_I8 && t != EMB_U8)
		return;
	bool int8, round;
	if (!emb_codes_kind(meta, (enum emb_dtype)t, &int8, &round))
		emb_die(EMB_EXIT_DATA, "%s: packed bits, not int8 or uint8 codes: make them with "
			"embquant --ubinary and score them with --hamming", name);
	if (!cfg.ranges)
		emb_die(EMB_EXIT_DATA, "%s: %s codes: give the --ranges they were made with "
			"(raw codes ignore each dimension's scale)", name, dtype);
	if (!loaded) {
		emb_ranges_read(&r, cfg.ranges, true);
		loaded = true;
	}
	if (r.dim != dim)
		emb_die(EMB_EXIT_DATA, "%s: dim %zu, but the ranges in %s have dim %zu", name, dim,
			cfg.ranges, r.dim);
	emb_dequantize_f32(&r, x, rows, int8, round);
}

/* codes_to_values for a table and for a chunk of stream S. */
static void table_values(struct emb_table *t)
{
	codes_to_values(t->src, table_dtype(t), t->meta, t->data, t->rows, t->dim);
}

static void chunk_values(const struct emb_stream *s, struct emb_chunk *c)
{
	codes_to_values(s->name, emb_dtype_name(s->dtype), s->meta, c->data, c->rows, c->dim);
}

static void side_open(struct side *x, const char *path)
{
	x->s = emb_open_r(path, &emb_opts);
	check_bits(x->s->name, emb_dtype_name(x->s->dtype));
	x->s->mtype = cfg.hamming ? EMB_BIT : EMB_F32;
	x->dim = emb_slice_dim(emb_opts.slice, x->s);
	struct emb_chunk init = EMB_CHUNK_INIT;
	x->c = init;
	x->pos = 0;
	x->row = 0;
}

/* Advance to the next row; false at the end of the stream. */
static bool side_next(struct side *x)
{
	if (x->pos + 1 < x->c.rows && x->row > 0) {
		x->pos++;
	} else {
		if (emb_read_chunk(x->s, &x->c) == 0)
			return false;
		if (!cfg.hamming)
			chunk_values(x->s, &x->c);
		emb_slice_chunk(emb_opts.slice, &x->c);
		x->pos = 0;
	}
	x->row++;
	return true;
}

/* Step both sides of a paired run to their next row (only A when SELF:
 * both are one stream); false at the end of both.  Inputs of different
 * lengths are an error, counted to the end of the longer one. */
static bool sides_next(struct side *a, struct side *b, bool self)
{
	bool more_a = side_next(a);
	bool more_b = self ? more_a : side_next(b);
	if (more_a && more_b)
		return true;
	if (more_a != more_b) {
		struct side *rest = more_a ? a : b;
		while (side_next(rest))
			;
		emb_die(EMB_EXIT_DATA, "%s has %llu %s but %s has %llu", a->s->name,
			(unsigned long long)a->row, emb_plural(a->row, "row", "rows"),
			b->s->name, (unsigned long long)b->row);
	}
	return false;
}

static const float *side_vec(const struct side *x)
{
	return emb_row_f32(&x->c, x->pos);
}

static void side_close(struct side *x)
{
	emb_close(x->s);
	emb_chunk_free(&x->c);
}

struct block { size_t lo, hi; };

static size_t parse_ranges(const char *spec, struct block **out)
{
	size_t n = 0;
	struct block *b = NULL;
	for (const char *p = spec; *p;) {
		char *end;
		unsigned long long lo, hi;
		if (*p < '0' || *p > '9')
			goto bad;
		lo = strtoull(p, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			goto bad;
		hi = strtoull(end + 1, &end, 10);
		if (hi <= lo || (*end && *end != ','))
			goto bad;
		b = emb_xrealloc(b, (n + 1) * sizeof *b);
		b[n++] = (struct block){(size_t)lo, (size_t)hi};
		p = *end ? end + 1 : end;
		if (*end && !*p)
			goto bad;
	}
	*out = b;
	return n;
bad:
	emb_usage_error("--blocks wants N or ranges like 0:384,384:768, not '%s'", spec);
}

/* The blocks of SPEC for DIM dimensions: N equal blocks (the first dim%N
 * one wider, as numpy.array_split does) or explicit ranges. */
static size_t blocks_for(const char *spec, size_t dim, const char *file, struct block **out)
{
	if (!strchr(spec, ':')) {
		size_t n = (size_t)emb_parse_int("--blocks", spec, 1, EMB_MAX_DIM);
		if (n > dim)
			emb_die(EMB_EXIT_DATA, "--blocks: %zu blocks of %s's %zu dimensions", n, file, dim);
		struct block *b = emb_xmalloc(n * sizeof *b);
		for (size_t i = 0, lo = 0; i < n; i++) {
			size_t w = dim / n + (i < dim % n);
			b[i] = (struct block){lo, lo + w};
			lo += w;
		}
		*out = b;
		return n;
	}
	size_t n = parse_ranges(spec, out);
	for (size_t i = 0; i < n; i++)
		if ((*out)[i].hi > dim)
			emb_die(EMB_EXIT_DATA, "--blocks: range %zu:%zu is outside %s's %zu dimensions",
				(*out)[i].lo, (*out)[i].hi, file, dim);
	return n;
}

/* Put the decimal digits of V at O; returns the end. */
static char *put_uint(char *o, uint64_t v)
{
	char t[20];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*o++ = t[--n];
	return o;
}

/* The current key of X (its row number when keyless) at O; returns the
 * end.  O has room for 24 bytes plus the key's length. */
static char *put_key(char *o, const struct side *x)
{
	if (!x->c.keys)
		return put_uint(o, x->c.first_row + x->pos);
	const char *k = x->c.keys[x->pos];
	size_t l = strlen(k);
	memcpy(o, k, l);
	return o + l;
}

static size_t key_len(const struct side *x)
{
	return x->c.keys ? strlen(x->c.keys[x->pos]) : 0;
}

/* One output line: keyA, keyB, then SCORE (already computed, zero rule
 * applied), then the block scores; built in one buffer, one fwrite. */
static void print_pair(const struct side *a, const struct side *b, double s,
		       const struct block *blk, size_t nblk)
{
	char small[512];
	size_t need = key_len(a) + key_len(b) + 96;
	char *line = need <= sizeof small ? small : emb_xmalloc(need);
	/* only blocks read the rows (--hamming rows are packed bits) */
	const float *x = nblk ? side_vec(a) : NULL, *y = nblk ? side_vec(b) : NULL;
	char *o = put_key(line, a);
	*o++ = '\t';
	o = put_key(o, b);
	*o++ = '\t';
	o += emb_format_g9(o, s);
	if (nblk == 0)
		*o++ = '\n';
	fwrite(line, 1, (size_t)(o - line), stdout);
	if (line != small)
		free(line);
	for (size_t i = 0; i < nblk; i++) {
		size_t lo = blk[i].lo, w = blk[i].hi - blk[i].lo;
		if (cfg.sim == EMB_SIM_COS && cfg.zero == ZERO_ERROR) {
			double dot, aa, bb;
			emb_dot3_f32(x + lo, y + lo, w, &dot, &aa, &bb);
			if (aa == 0 || bb == 0)
				emb_die_row(aa == 0 ? &a->c : &b->c, aa == 0 ? a->pos : b->pos,
					    "zero vector in block %zu:%zu: cosine is undefined (see --zero)",
					    blk[i].lo, blk[i].hi);
		}
		putchar('\t');
		put_score(score(x + lo, y + lo, w));
	}
	if (nblk)
		putchar('\n');
	emb_check_stdout(); /* stop at a write error, not at exit */
}

static void run_paired(const char *pa, const char *pb)
{
	struct side a, b = {0};
	bool self = strcmp(pa, "-") == 0 && strcmp(pb, "-") == 0;
	side_open(&a, pa);
	if (!self) {
		side_open(&b, pb);
		check_dims(a.s->name, a.dim, b.s->name, b.dim);
	}
	struct side *bp = self ? &a : &b;
	struct block *blk = NULL;
	size_t nblk = 0;
	if (cfg.mode == MODE_BLOCKS && a.dim)
		nblk = blocks_for(cfg.blocks, a.dim, a.s->name, &blk);

	for (;;) {
		if (!sides_next(&a, &b, self))
			break;
		/* One pass over both rows gives the checks of each (sum x*x is
		 * accumulated exactly as check_row's emb_dot3_f32(x, x) would)
		 * and, for cos and dot, the score itself, as emb_sim_f32 does. */
		const float *x = side_vec(&a), *y = side_vec(bp);
		double dot, aa, bb, s;
		emb_dot3_f32(x, y, a.dim, &dot, &aa, &bb);
		check_norm(&a.c, a.pos, aa);
		if (!self)
			check_norm(&b.c, b.pos, bb);
		if (cfg.sim == EMB_SIM_COS)
			s = aa == 0 || bb == 0 ? zero_score() : dot / sqrt(aa * bb);
		else if (cfg.sim == EMB_SIM_DOT)
			s = dot;
		else
			s = score(x, y, a.dim);
		print_pair(&a, bp, s, blk, nblk);
	}
	free(blk);
	side_close(&a);
	if (!self)
		side_close(&b);
}

/* ---- by key ---- */

struct oov_count { uint64_t pairs, missing, blank; };

/* Split LINE into its first two fields (tab-separated, or blank-separated
 * when the line has no tab).  Returns the number found (0, 1 or 2). */
static int two_keys(const char *line, const char *k[2], size_t len[2])
{
	const char *sep = strchr(line, '\t') ? "\t" : " ";
	const char *p = line;
	int n = 0;
	while (n < 2) {
		if (*sep == ' ')
			p += strspn(p, " ");
		if (!*p)
			break;
		size_t l = strcspn(p, sep);
		k[n] = p;
		len[n++] = l;
		p += l;
		if (!*p)
			break;
		p++;
	}
	return n;
}

static double pair_score(const struct emb_table *t, long i, long j, const char *pairs,
			 uint64_t lineno, const char *const k[2])
{
	const float *x = emb_table_row(t, (size_t)i), *y = emb_table_row(t, (size_t)j);
	for (int s = 0; s < 2; s++) {
		const float *v = s ? y : x;
		double dot, aa, bb;
		emb_dot3_f32(v, v, t->dim, &dot, &aa, &bb);
		if (!isfinite(aa))
			emb_die_at(pairs, lineno, "vector of key '%.*s' has a value that is not finite",
				   (int)strcspn(k[s], "\t "), k[s]);
		if (aa == 0 && cfg.sim == EMB_SIM_COS && cfg.zero == ZERO_ERROR)
			emb_die_at(pairs, lineno, "zero vector for key '%.*s': cosine is undefined (see --zero)",
				   (int)strcspn(k[s], "\t "), k[s]);
	}
	return score(x, y, t->dim);
}

static void pairs_line(const struct emb_table *t, const char *vectors, char *line,
		       uint64_t lineno, struct oov_count *n)
{
	const char *k[2];
	size_t len[2];
	int nf = two_keys(line, k, len);
	if (nf == 0) {
		n->blank++;
		return;
	}
	if (nf < 2)
		emb_die_at(cfg.pairs, lineno, "expected two keys separated by a tab, found one field");
	n->pairs++;
	long i = emb_table_find(t, k[0], len[0]), j = emb_table_find(t, k[1], len[1]);
	double s;
	if (i < 0 || j < 0) {
		n->missing++;
		int m = i < 0 ? 0 : 1;
		if (cfg.oov == OOV_ERROR)
			emb_die_at(cfg.pairs, lineno, "key '%.*s' is not in %s", (int)len[m], k[m], vectors);
		if (cfg.oov == OOV_SKIP)
			return;
		s = cfg.oov == OOV_NAN ? NAN : 0.0;
	} else {
		s = pair_score(t, i, j, cfg.pairs, lineno, k);
	}
	fputs(line, stdout);
	putchar('\t');
	put_score(s);
	putchar('\n');
	emb_check_stdout();
}

static void run_pairs(const char *vectors)
{
	struct emb_table *t = emb_table_load(vectors, &emb_opts, cfg.ignore_case);
	check_bits(t->src, table_dtype(t));
	table_values(t);
	const char *vname = strcmp(vectors, "-") ? vectors : "-";
	FILE *fp = emb_fopen_r(cfg.pairs);
	char *line = NULL;
	size_t cap = 0;
	uint64_t lineno = 0;
	struct oov_count n = {0, 0, 0};
	/* word-sim files come with CRLF (the CR is not part of a field) and
	 * from Excel with a byte order mark (not part of the first key) */
	while (emb_read_line(fp, cfg.pairs, lineno + 1, &line, &cap, NULL) >= 0) {
		lineno++;
		bool bom = lineno == 1 && strncmp(line, EMB_UTF8_BOM, 3) == 0;
		pairs_line(t, vname, line + (bom ? 3 : 0), lineno, &n);
	}
	emb_fclose_r(fp, cfg.pairs);
	free(line);
	static const char *const what[] = {"skipped", "scored nan", "scored 0", ""};
	if (n.missing)
		emb_warn("%s: %llu of %llu pairs (%.1f%%) %s: key not in %s", cfg.pairs,
			 (unsigned long long)n.missing, (unsigned long long)n.pairs,
			 100.0 * (double)n.missing / (double)n.pairs, what[cfg.oov], vname);
	if (n.blank)
		emb_warn("%s: %llu blank lines skipped", cfg.pairs, (unsigned long long)n.blank);
	emb_table_free(t);
}

/* ---- top-k ---- */

/* Keys of a streamed database, kept as one arena (keys are small next to
 * the vectors, which are not kept), and where they sit in the whole
 * database: runs of consecutive global rows, run i starting at global row
 * rg[i] with key rk[i].  A shard's rows need not be contiguous (embcat
 * --shard takes every Nth chunk), only increasing. */
struct keys {
	char *buf; size_t len, cap; size_t *off; size_t n, ncap;
	uint64_t *rg; size_t *rk; size_t nruns, rcap;
};

/* The rows from key index K on are global rows from G on. */
static void keys_run(struct keys *k, uint64_t g)
{
	if (k->nruns && k->rg[k->nruns - 1] + (k->n - k->rk[k->nruns - 1]) == g)
		return;
	if (k->nruns == k->rcap) {
		k->rcap = k->rcap ? 2 * k->rcap : 16;
		k->rg = emb_xrealloc(k->rg, emb_xmul(k->rcap, sizeof *k->rg));
		k->rk = emb_xrealloc(k->rk, emb_xmul(k->rcap, sizeof *k->rk));
	}
	k->rg[k->nruns] = g;
	k->rk[k->nruns++] = k->n;
}

/* The key of global row G (one of the rows added). */
static const char *keys_of_row(const struct keys *k, uint64_t g)
{
	size_t lo = 0, hi = k->nruns;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->rg[mid] <= g)
			lo = mid;
		else
			hi = mid;
	}
	return k->buf + k->off[k->rk[lo] + (g - k->rg[lo])];
}

static void keys_free(struct keys *k)
{
	free(k->buf);
	free(k->off);
	free(k->rg);
	free(k->rk);
}

/* The 0-based global row number of the first row of chunk C, the DB's
 * rows LOCAL onwards: --db-offset plus LOCAL when given (a shard cut
 * without embcat, e.g. by split), else the number the stream carries
 * (emb.5, "Row numbers"), which embcat --shard and --rows keep. */
static uint64_t chunk_global_row(const struct emb_chunk *c, uint64_t local)
{
	return cfg.db_offset_given ? cfg.db_offset + local : c->first_row - 1;
}

static void keys_add(struct keys *k, const char *key)
{
	size_t l = strlen(key) + 1;
	if (k->len + l > k->cap) {
		k->cap = (k->len + l) * 2;
		k->buf = emb_xrealloc(k->buf, k->cap);
	}
	if (k->n == k->ncap) {
		k->ncap = k->ncap ? 2 * k->ncap : 1024;
		k->off = emb_xrealloc(k->off, emb_xmul(k->ncap, sizeof *k->off));
	}
	memcpy(k->buf + k->len, key, l);
	k->off[k->n++] = k->len;
	k->len += l;
}

static void check_table(struct emb_table *t)
{
	check_bits(t->src, table_dtype(t));
	table_values(t);
	for (size_t i = 0; i < t->rows; i++) {
		double dot, aa, bb;
		const float *x = emb_table_row(t, i);
		emb_dot3_f32(x, x, t->dim, &dot, &aa, &bb);
		const char *fault = norm_fault(aa);
		if (fault)
			emb_table_die_row(t, i, "%s", fault);
	}
}

/* One line of --topk output: QKEY, then DBKEY (or the 1-based global
 * ROW when the DB has no keys), VALUE and RANK.  --merge prints through
 * it too, so that the two agree byte for byte. */
static void put_hit(const char *qkey, const char *dbkey, uint64_t row, double value, size_t rank)
{
	char num[24], score[32];
	if (!dbkey) {
		*put_uint(num, row) = '\0';
		dbkey = num;
	}
	emb_run_put(cfg.format, cfg.run_tag, qkey, dbkey, score,
		    (size_t)emb_format_g9(score, value), rank);
}

/*
 * --partial: the top-k of one DB shard as a lossless list that --merge
 * reads (emb.5 has no place for it: it is text, one record per line, so
 * that cat, sort and line-based engines carry it):
 *
 *   #embcos-partial 1 k=K sim=NAME softmax=TAU|none exclude-self=yes|no
 *       db-keys=yes|no db-rows=N queries=NQ query-crc=HEX
 *                                                    (one line, TAB-separated)
 *   q INDEX COUNT LSE QKEY                           (per query, INDEX 1-based)
 *   r ROW SCORE [DBKEY]                              (COUNT of them, best first)
 *
 * ROW is the 1-based global DB row (what a keyless DB prints), SCORE is
 * the double score in %.17g (exact: 17 digits round-trip a double, and
 * scores are doubles, so %.9g may print two different ones alike), LSE
 * is log(sum exp(score/TAU)) over the shard's rows ("-" without
 * --softmax; "-inf" for no rows), and the keys come last so they may hold
 * tabs.  The counts make a list cut short at any line an error.  HEX is
 * the CRC-32C of the dim (u64) and the query values (f32), in memory order
 * (little-endian on the machines we run on).
 */
#define PARTIAL_MAGIC "#embcos-partial"
#define PARTIAL_VERSION 1

static void put_partial_header(const struct emb_table *q, uint64_t db_rows, bool db_keys)
{
	/* the query values as searched (f32), and their dim: lists of other
	 * queries with the same keys (keyless queries are all named 1, 2, ...)
	 * are told apart */
	uint64_t dim = q->dim;
	uint32_t crc = emb_crc32c(0, &dim, sizeof dim);
	crc = emb_crc32c(crc, q->data, q->rows * q->dim * sizeof *q->data);
	printf("%s\t%d\tk=%lld\tsim=%s\t", PARTIAL_MAGIC, PARTIAL_VERSION, cfg.k,
	       emb_sim_name(cfg.sim));
	if (cfg.softmax)
		printf("softmax=%.17g", cfg.tau);
	else
		fputs("softmax=none", stdout);
	printf("\texclude-self=%s\tdb-keys=%s\tdb-rows=%llu\tqueries=%zu\tquery-crc=%08x\n",
	       cfg.exclude_self ? "yes" : "no", db_keys ? "yes" : "no",
	       (unsigned long long)db_rows, q->rows, crc);
}

/* A key in a --partial list ends at the end of its line. */
static void check_partial_key(const char *key, const char *what)
{
	if (strchr(key, '\n'))
		emb_die(EMB_EXIT_DATA, "--partial: %s key '%.*s...' holds a newline", what,
			(int)strcspn(key, "\n"), key);
}

static void print_topk(const struct emb_table *q, struct emb_topk *top, const struct keys *dbk,
		       bool db_keys, const double *lse, uint64_t db_rows)
{
	if (cfg.partial)
		put_partial_header(q, db_rows, db_keys);
	for (size_t i = 0; i < q->rows; i++) {
		emb_topk_sort(top, i);
		if (cfg.partial) {
			check_partial_key(q->keys[i], "query");
			printf("q\t%zu\t%zu\t", i + 1, top->count[i]);
			if (lse)
				printf("%.17g", lse[i]);
			else
				putchar('-');
			printf("\t%s\n", q->keys[i]);
		}
		for (size_t r = 0; r < top->count[i]; r++) {
			double s = top->score[i * top->cap + r];
			uint64_t row = top->row[i * top->cap + r];
			const char *key = db_keys ? keys_of_row(dbk, row) : NULL;
			if (cfg.partial) {
				printf("r\t%llu\t%.17g", (unsigned long long)row + 1, s);
				if (key) {
					check_partial_key(key, "database");
					printf("\t%s", key);
				}
				putchar('\n');
			} else {
				put_hit(q->keys[i], key, row + 1, lse ? exp(s / cfg.tau - lse[i]) : s, r + 1);
			}
		}
		emb_check_stdout();
	}
}

static void run_topk(const char *queries)
{
	struct emb_table *q = emb_table_load(queries, &emb_opts, false);
	check_table(q);
	struct emb_stream *db = emb_open_r(cfg.db, &emb_opts);
	check_bits(db->name, emb_dtype_name(db->dtype));
	db->mtype = EMB_F32;
	check_dims(q->rows ? queries : "-", q->dim, db->name, emb_slice_dim(emb_opts.slice, db));
	struct emb_topk *top = emb_topk_new(q->rows, (size_t)cfg.k);
	struct emb_knn *knn = emb_knn_new(cfg.sim, q->data, q->rows, q->dim, zero_score());
	double *lse = NULL;
	if (cfg.softmax) {
		lse = emb_xmalloc(emb_xmul(q->rows ? q->rows : 1, sizeof *lse));
		for (size_t i = 0; i < q->rows; i++)
			lse[i] = -INFINITY;
	}
	struct keys dbk = {0};
	struct emb_chunk c = EMB_CHUNK_INIT;
	/* Heap rows are global row numbers: ties go to the lower one, and
	 * --exclude-self pairs query i with global row i. */
	uint64_t db_rows = 0;
	while (emb_read_chunk(db, &c) > 0) {
		uint64_t base = chunk_global_row(&c, db_rows);
		chunk_values(db, &c);
		emb_slice_chunk(emb_opts.slice, &c);
		if (c.keys)
			keys_run(&dbk, base);
		for (size_t i = 0; i < c.rows; i++) {
			check_chunk_row(&c, i);
			if (c.keys)
				keys_add(&dbk, c.keys[i]);
		}
		emb_knn_block(knn, top, c.data, c.rows, base, cfg.exclude_self, lse, cfg.tau);
		db_rows += c.rows;
	}
	print_topk(q, top, &dbk, db->has_keys, lse, db_rows);
	size_t short_lists = 0;
	for (size_t i = 0; i < q->rows; i++)
		short_lists += top->count[i] < top->k;
	/* a shard's short lists say nothing of the merged ones: --merge tells */
	if (short_lists && !cfg.partial)
		emb_warn("%zu of %zu queries had fewer than %lld neighbours (%s has %llu rows)",
			 short_lists, q->rows, cfg.k, db->name, (unsigned long long)db_rows);
	emb_close(db);
	emb_chunk_free(&c);
	emb_knn_free(knn);
	emb_topk_free(top);
	emb_table_free(q);
	free(lse);
	keys_free(&dbk);
}

/* ---- --candidates: rescoring the pairs a Hamming or LSH search found ---- */

/*
 * The pairs of PAIRS are looked up as (query key, database key), each
 * scored exactly once (a pair listed twice counts once), and the best K
 * of each query kept by the heaps of --topk, so that order, ties (lower
 * database row first) and scores are those --topk gives over the
 * candidates alone.  Every key must be known before anything is printed.
 */
static void run_candidates(const char *queries)
{
	struct emb_table *q = emb_table_load(queries, &emb_opts, false);
	check_table(q);
	struct emb_table *db = emb_table_load(cfg.db, &emb_opts, false);
	check_table(db);
	if (q->rows && db->rows)
		check_dims(q->src, q->dim, db->src, db->dim);
	struct emb_list *l = emb_list_load(cfg.candidates, EMB_LIST_CANDIDATES);
	emb_list_dedup(l);
	size_t total = 0;
	for (size_t j = 0; j < l->nq; j++) {
		const struct emb_qlist *ql = &l->q[j];
		if (emb_table_find(q, ql->qid, strlen(ql->qid)) < 0)
			emb_die_at(l->name, ql->line, "query key '%s' is not in %s", ql->qid, q->src);
		total += ql->n;
	}
	/* the database row of each item, in the order of the lists */
	size_t *drow = emb_xmalloc(emb_xmul(total ? total : 1, sizeof *drow));
	size_t *first = emb_xmalloc(emb_xmul(l->nq + 1, sizeof *first));
	for (size_t j = 0, m = 0; j < l->nq; j++) {
		first[j] = m;
		for (size_t i = 0; i < l->q[j].n; i++, m++) {
			const struct emb_item *it = &l->q[j].item[i];
			long r = emb_table_find(db, it->doc, strlen(it->doc));
			if (r < 0)
				emb_die_at(l->name, it->line, "database key '%s' is not in %s", it->doc,
					   db->src);
			drow[m] = (size_t)r;
		}
	}
	first[l->nq] = total;
	struct emb_topk *top = emb_topk_new(q->rows, (size_t)cfg.k);
	size_t none = 0;
	for (size_t i = 0; i < q->rows; i++) {
		long j = emb_list_find(l, q->keys[i]);
		if (j < 0) {
			none++;
			continue;
		}
		emb_topk_reserve(top, top->count[i] + (first[j + 1] - first[j]));
		const float *x = emb_table_row(q, i);
		for (size_t m = first[j]; m < first[j + 1]; m++)
			emb_topk_push(top, i, score(x, emb_table_row(db, drow[m]), q->dim), drow[m]);
	}
	for (size_t i = 0; i < q->rows; i++) {
		emb_topk_sort(top, i);
		for (size_t r = 0; r < top->count[i]; r++) {
			uint64_t row = top->row[i * top->cap + r];
			put_hit(q->keys[i], db->keys[row], row + 1, top->score[i * top->cap + r], r + 1);
		}
		emb_check_stdout();
	}
	if (none)
		emb_warn("%zu of %zu queries had no candidates in %s", none, q->rows, l->name);
	emb_topk_free(top);
	free(first);
	free(drow);
	emb_list_free(l);
	emb_table_free(db);
	emb_table_free(q);
}

/* ---- matrix ---- */

/* Turn each row of OUT (ROWS x N) into softmax(row / tau), in double. */
static void softmax_rows(float *out, size_t rows, size_t n)
{
	for (size_t i = 0; i < rows; i++) {
		float *r = out + i * n;
		double m = -INFINITY, sum = 0;
		for (size_t j = 0; j < n; j++)
			if (r[j] / cfg.tau > m)
				m = r[j] / cfg.tau;
		for (size_t j = 0; j < n; j++)
			if (!isnan(r[j]))
				sum += exp(r[j] / cfg.tau - m);
		for (size_t j = 0; j < n; j++)
			r[j] = (float)(exp(r[j] / cfg.tau - m) / sum);
	}
}

/* Score ROWS rows of A (X, with KEYS or row numbers from FIRST) against
 * all of B and write them, in slices that keep the output chunk small. */
static void matrix_rows(struct emb_knn *knn, struct emb_stream *out, const float *x,
			char **keys, size_t rows, uint64_t first, size_t nb, size_t dim)
{
	size_t slice = nb ? (EMB_CHUNK_TARGET_BYTES / sizeof(float)) / nb : rows;
	slice = slice < 1 ? 1 : slice;
	struct emb_chunk oc = EMB_CHUNK_INIT;
	for (size_t r0 = 0; r0 < rows; r0 += slice) {
		size_t n = rows - r0 < slice ? rows - r0 : slice;
		emb_chunk_reserve(&oc, n, nb, EMB_F32, true);
		emb_knn_scores(knn, x + r0 * dim, n, oc.data);
		/* the scores are written as f32: one beyond its range would
		 * come out as inf (a dot of two rows of 1e30) */
		for (size_t i = 0; i < n * nb; i++)
			if (isinf(oc.data ? ((float *)oc.data)[i] : 0)) {
				char buf[24];
				emb_die(EMB_EXIT_DATA, "--matrix: the %s score of row %s with row %zu of B "
					"is beyond the f32 range", emb_sim_name(cfg.sim),
					row_key(keys, r0 + i / nb, first + r0 + i / nb, buf), i % nb + 1);
			}
		if (cfg.softmax)
			softmax_rows(oc.data, n, nb);
		for (size_t i = 0; i < n; i++) {
			char buf[24];
			const char *k = row_key(keys, r0 + i, first + r0 + i, buf);
			emb_chunk_set_key(&oc, i, k, strlen(k));
		}
		emb_write_chunk(out, &oc);
	}
	emb_chunk_free(&oc);
}

static void run_matrix(const char *pa, const char *pb)
{
	struct emb_table *b = emb_table_load(pb ? pb : pa, &emb_opts, false);
	const char *bname = pb ? pb : pa;
	check_table(b);
	if (emb_opts.out_format == EMB_FMT_AUTO)
		emb_opts.out_format = EMB_FMT_TSV;
	struct emb_stream *out = emb_open_w_like(NULL, &emb_opts);
	out->dim = b->rows;
	out->has_keys = true;
	struct emb_knn *knn = emb_knn_new(cfg.sim, b->data, b->rows, b->dim, zero_score());
	if (!pb) {
		matrix_rows(knn, out, b->data, b->keys, b->rows, 1, b->rows, b->dim);
	} else {
		struct emb_stream *a = emb_open_r(pa, &emb_opts);
		check_bits(a->name, emb_dtype_name(a->dtype));
		a->mtype = EMB_F32;
		check_dims(a->name, emb_slice_dim(emb_opts.slice, a), bname, b->dim);
		struct emb_chunk c = EMB_CHUNK_INIT;
		while (emb_read_chunk(a, &c) > 0) {
			chunk_values(a, &c);
			emb_slice_chunk(emb_opts.slice, &c);
			for (size_t i = 0; i < c.rows; i++)
				check_chunk_row(&c, i);
			matrix_rows(knn, out, c.data, c.keys, c.rows, c.first_row,
				    b->rows, b->dim);
		}
		emb_close(a);
		emb_chunk_free(&c);
	}
	if (out->dim)
		emb_write_header(out);
	emb_close(out);
	emb_knn_free(knn);
	emb_table_free(b);
}

/* ---- --merge: the --partial lists of DB shards ---- */

/* One --partial list being read, and what its header line says. */
struct plist {
	const char *name;
	FILE *fp;
	char *line;
	size_t cap;
	uint64_t lineno;
	long long k;
	enum emb_sim sim;
	bool softmax, exclude_self, db_keys;
	double tau;
	uint64_t db_rows;
	uint64_t nq;
	unsigned long qcrc;
};

/* The next line of P without its newline, or NULL at the end.  A last
 * line without a newline is a list cut short: an error, not a warning. */
static char *plist_line(struct plist *p)
{
	errno = 0;
	ssize_t n = getline(&p->line, &p->cap, p->fp);
	if (n < 0) {
		if (ferror(p->fp) || errno == ENOMEM)
			emb_die(EMB_EXIT_DATA, "%s: %s", p->name, strerror(errno ? errno : EIO));
		return NULL;
	}
	p->lineno++;
	size_t ml = strlen(PARTIAL_MAGIC);
	if (p->lineno == 1 && ((size_t)n <= ml || memcmp(p->line, PARTIAL_MAGIC "\t", ml + 1)))
		emb_die_at(p->name, 1, "not an embcos --partial list (made by embcos --topk --partial)");
	if (p->line[n - 1] != '\n')
		emb_die_at(p->name, p->lineno, "last line has no newline (list cut short?)");
	p->line[n - 1] = '\0';
	if (strlen(p->line) != (size_t)n - 1)
		emb_die_at(p->name, p->lineno, "line holds a NUL byte");
	return p->line;
}

/* A whole decimal number at *P (digits only, no overflow), then *P just
 * past it; false if there is none. */
static bool scan_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	*p = s;
	return true;
}

/* A double written by %.17g at *P, up to the next tab or the end, then
 * *P at that tab or end; false if the field is not a number. */
static bool scan_double(const char **p, double *v)
{
	const char *s = *p;
	if (!*s || *s == '\t' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || (*end && *end != '\t') || isnan(*v))
		return false;
	*p = end;
	return true;
}

/* "NAME=" then a value up to the next tab, at *P; the value is returned
 * NUL-terminated in place (the tab overwritten), *P past it. */
static const char *scan_field(char **p, const char *name)
{
	size_t l = strlen(name);
	if (strncmp(*p, name, l) || (*p)[l] != '=')
		return NULL;
	char *v = *p + l + 1;
	char *t = strchr(v, '\t');
	if (t)
		*t++ = '\0';
	*p = t ? t : v + strlen(v);
	return v;
}

static bool yes_no(const char *v, bool *out)
{
	if (v && strcmp(v, "yes") == 0)
		*out = true;
	else if (v && strcmp(v, "no") == 0)
		*out = false;
	else
		return false;
	return true;
}

static void plist_open(struct plist *p, const char *path)
{
	memset(p, 0, sizeof *p);
	p->name = path;
	p->fp = emb_fopen_r(path);
	char *l = plist_line(p);     /* checks the magic */
	size_t ml = strlen(PARTIAL_MAGIC);
	if (!l)
		emb_die(EMB_EXIT_DATA, "%s: empty, not an embcos --partial list", path);
	const char *c = l + ml + 1;
	uint64_t ver, u;
	if (!scan_u64(&c, &ver) || *c != '\t')
		goto bad;
	if (ver != PARTIAL_VERSION)
		emb_die_at(path, 1, "--partial list version %llu: this embcos reads version %d",
			   (unsigned long long)ver, PARTIAL_VERSION);
	char *f = l + (c + 1 - l);
	const char *v;
	if (!(v = scan_field(&f, "k")) || !scan_u64(&v, &u) || *v || u < 1 || u > INT_MAX)
		goto bad;
	p->k = (long long)u;
	if (!(v = scan_field(&f, "sim")))
		goto bad;
	for (p->sim = EMB_SIM_COS; strcmp(v, emb_sim_name(p->sim)); p->sim++)
		if (p->sim == EMB_SIM_MANHATTAN)
			goto bad;
	if (!(v = scan_field(&f, "softmax")))
		goto bad;
	p->softmax = strcmp(v, "none") != 0;
	if (p->softmax && (!scan_double(&v, &p->tau) || *v || !(p->tau > 0) || isinf(p->tau)))
		goto bad;
	if (!yes_no(scan_field(&f, "exclude-self"), &p->exclude_self) ||
	    !yes_no(scan_field(&f, "db-keys"), &p->db_keys))
		goto bad;
	if (!(v = scan_field(&f, "db-rows")) || !scan_u64(&v, &p->db_rows) || *v)
		goto bad;
	if (!(v = scan_field(&f, "queries")) || !scan_u64(&v, &p->nq) || *v)
		goto bad;
	char *end;
	if (!(v = scan_field(&f, "query-crc")) || strlen(v) != 8 || strspn(v, "0123456789abcdef") != 8 || *f)
		goto bad;
	p->qcrc = strtoul(v, &end, 16);
	return;
bad:
	emb_die_at(path, 1, "malformed --partial header line");
}

/* The files must come from one search of one query set: the same K
 * (unless -k asks for no more than any holds), function, --exclude-self,
 * --softmax (when the merge asks for one) and query count. */
static void plist_check(const struct plist *p, const struct plist *first, long long k)
{
	if (k && p->k < k)
		emb_die(EMB_EXIT_DATA, "%s: made with -k %lld, fewer than the %lld asked for",
			p->name, p->k, k);
	if (!k && p->k != first->k)
		emb_die(EMB_EXIT_DATA, "%s: made with -k %lld, but %s with -k %lld "
			"(give --merge -k K, K at most the smaller)", p->name, p->k, first->name,
			first->k);
	if (p->sim != first->sim)
		emb_die(EMB_EXIT_DATA, "%s: made with --%s, but %s with --%s", p->name,
			emb_sim_name(p->sim), first->name, emb_sim_name(first->sim));
	if (cfg.sim_given && p->sim != cfg.sim)
		emb_die(EMB_EXIT_DATA, "%s: made with --%s, not --%s", p->name,
			emb_sim_name(p->sim), emb_sim_name(cfg.sim));
	if (p->exclude_self != first->exclude_self)
		emb_die(EMB_EXIT_DATA, "%s: made with%s --exclude-self, but %s with%s", p->name,
			p->exclude_self ? "" : "out", first->name, first->exclude_self ? "" : "out");
	if (cfg.softmax && !p->softmax)
		emb_die(EMB_EXIT_DATA, "%s: made without --softmax: no sum of exponentials to merge",
			p->name);
	if (cfg.softmax && p->tau != cfg.tau)
		emb_die(EMB_EXIT_DATA, "%s: made with --softmax=%g, not %g", p->name, p->tau, cfg.tau);
	if (p->nq != first->nq)
		emb_die(EMB_EXIT_DATA, "%s: %llu %s, but %s has %llu", p->name,
			(unsigned long long)p->nq, emb_plural(p->nq, "query", "queries"),
			first->name, (unsigned long long)first->nq);
	if (p->qcrc != first->qcrc)
		emb_die(EMB_EXIT_DATA, "%s: made with other query vectors than %s (their checksums "
			"differ)", p->name, first->name);
}

/* One result of one query, from file FILE; its key at KEY in the arena
 * (SIZE_MAX for none). */
struct cand { double score; uint64_t row; size_t file, key; };

/* Best first: the order of emb_topk_sort (higher score, then lower row). */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* Append the NUL-terminated S to the arena *BUF (*LEN used, *CAP room);
 * returns its offset. */
static size_t arena_add(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t l = strlen(s) + 1, off = *len;
	if (*len + l > *cap) {
		*cap = emb_xmul(*len + l, 2);
		*buf = emb_xrealloc(*buf, *cap);
	}
	memcpy(*buf + off, s, l);
	*len += l;
	return off;
}

static int double_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* log sum exp(X[i]) of N log-sums-of-exponentials, as m + log sum
 * exp(x - m) with m the largest (-inf, an empty shard, adds nothing).
 * X is sorted first, so the sum is rounded alike whatever the order of
 * the lists on the command line. */
static double lse_merge(double *x, size_t n)
{
	qsort(x, n, sizeof *x, double_desc);
	if (n == 0 || x[0] == -INFINITY)
		return -INFINITY;
	double sum = 0;
	for (size_t i = n; i-- > 0;)
		sum += exp(x[i] - x[0]);  /* smallest first */
	return x[0] + log(sum);
}

static void run_merge(char *const *files, size_t nfiles)
{
	size_t stdin_uses = 0;
	for (size_t i = 0; i < nfiles; i++)
		stdin_uses += strcmp(files[i], "-") == 0;
	if (stdin_uses > 1)
		emb_usage_error("--merge reads standard input once, not %zu times", stdin_uses);
	struct plist *pl = emb_xcalloc(nfiles, sizeof *pl);
	bool db_keys = false;
	uint64_t db_rows = 0;
	size_t maxc = 0;
	for (size_t i = 0; i < nfiles; i++) {
		plist_open(&pl[i], files[i]);
		plist_check(&pl[i], &pl[0], cfg.k);
		db_rows += pl[i].db_rows;
		maxc += (size_t)pl[i].k;
	}
	/* a shard without rows says nothing about keys */
	const struct plist *keyed = NULL;
	for (size_t i = 0; i < nfiles; i++) {
		if (!pl[i].db_rows)
			continue;
		if (keyed && pl[i].db_keys != keyed->db_keys)
			emb_die(EMB_EXIT_DATA, "%s: database rows %s keys, but %s's %s", pl[i].name,
				pl[i].db_keys ? "have" : "have no", keyed->name,
				keyed->db_keys ? "have" : "have none");
		keyed = &pl[i];
	}
	db_keys = keyed && keyed->db_keys;
	long long k = cfg.k ? cfg.k : pl[0].k;
	struct cand *cand = emb_xmalloc(emb_xmul(maxc, sizeof *cand));
	double *flse = emb_xmalloc(emb_xmul(nfiles, sizeof *flse));
	char *arena = NULL, *qkey = NULL;
	size_t alen = 0, acap = 0, qcap = 0, short_lists = 0;
	for (uint64_t q = 1; q <= pl[0].nq; q++) {
		size_t nc = 0;
		double lse = -INFINITY;
		alen = 0;
		for (size_t f = 0; f < nfiles; f++) {
			struct plist *p = &pl[f];
			const char *l = plist_line(p);
			uint64_t idx, cnt;
			double fl = -INFINITY;
			if (!l)
				emb_die(EMB_EXIT_DATA, "%s: ends before query %llu of %llu (list cut short?)",
					p->name, (unsigned long long)q, (unsigned long long)p->nq);
			if (l[0] != 'q' || l[1] != '\t' || (l += 2, !scan_u64(&l, &idx)) || *l++ != '\t' ||
			    !scan_u64(&l, &cnt) || *l++ != '\t' ||
			    /* an lse exactly when the header names a softmax */
			    (p->softmax ? !scan_double(&l, &fl) || fl == INFINITY :
			     strncmp(l, "-\t", 2) != 0 || (l++, false)) ||
			    *l++ != '\t' || idx != q)
				emb_die_at(p->name, p->lineno, "malformed --partial line (expected the "
					   "line of query %llu)", (unsigned long long)q);
			if (cnt > (uint64_t)p->k)
				emb_die_at(p->name, p->lineno, "query %llu has %llu results, more than "
					   "its -k %lld", (unsigned long long)q, (unsigned long long)cnt, p->k);
			if (cnt > p->db_rows)
				emb_die_at(p->name, p->lineno, "query %llu has %llu results, more than "
					   "its %llu database rows", (unsigned long long)q,
					   (unsigned long long)cnt, (unsigned long long)p->db_rows);
			flse[f] = fl;
			if (f == 0) {
				size_t need = strlen(l) + 1;
				if (need > qcap) {
					qcap = need;
					qkey = emb_xrealloc(qkey, qcap);
				}
				memcpy(qkey, l, need);
			} else if (strcmp(l, qkey)) {
				emb_die_at(p->name, p->lineno, "query %llu is '%s', but '%s' in %s",
					   (unsigned long long)q, l, qkey, pl[0].name);
			}
			for (uint64_t r = 0; r < cnt; r++) {
				const char *e = plist_line(p);
				struct cand *c = &cand[nc];
				if (!e)
					emb_die(EMB_EXIT_DATA, "%s: ends in the results of query %llu "
						"(list cut short?)", p->name, (unsigned long long)q);
				if (e[0] != 'r' || e[1] != '\t' || (e += 2, !scan_u64(&e, &c->row)) ||
				    c->row == 0 || *e++ != '\t' || !scan_double(&e, &c->score) ||
				    isinf(c->score) || (*e == '\t') != p->db_keys)
					emb_die_at(p->name, p->lineno, "malformed --partial line (expected "
						   "result %llu of %llu of query %llu)",
						   (unsigned long long)r + 1, (unsigned long long)cnt,
						   (unsigned long long)q);
				c->row--;
				c->file = f;
				c->key = p->db_keys ? arena_add(&arena, &alen, &acap, e + 1) : SIZE_MAX;
				nc++;
			}
		}
		if (cfg.softmax)
			lse = lse_merge(flse, nfiles);
		qsort(cand, nc, sizeof *cand, cand_cmp);
		for (size_t i = 1; i < nc; i++)
			if (cand[i].row == cand[i - 1].row)
				emb_die(EMB_EXIT_DATA, "%s and %s both hold database row %llu: the shards "
					"overlap (see --db-offset)", pl[cand[i - 1].file].name,
					pl[cand[i].file].name, (unsigned long long)cand[i].row + 1);
		size_t n = nc < (size_t)k ? nc : (size_t)k;
		short_lists += n < (size_t)k;
		for (size_t i = 0; i < n; i++) {
			double s = cand[i].score;
			put_hit(qkey, db_keys ? arena + cand[i].key : NULL, cand[i].row + 1,
				cfg.softmax ? exp(s / cfg.tau - lse) : s, i + 1);
		}
		emb_check_stdout();
	}
	for (size_t f = 0; f < nfiles; f++) {
		if (plist_line(&pl[f]))
			emb_die_at(pl[f].name, pl[f].lineno, "more than the %llu %s the header announces",
				   (unsigned long long)pl[f].nq, emb_plural(pl[f].nq, "query", "queries"));
		emb_fclose_r(pl[f].fp, pl[f].name);
		free(pl[f].line);
	}
	if (short_lists)
		emb_warn("%zu of %llu queries had fewer than %lld neighbours (%zu %s hold %llu rows)",
			 short_lists, (unsigned long long)pl[0].nq, k, nfiles,
			 emb_plural(nfiles, "list", "lists"), (unsigned long long)db_rows);
	free(pl);
	free(cand);
	free(flse);
	free(arena);
	free(qkey);
}

/* ---- --hamming: bit streams ---- */

/* Paired: row i of A against row i of B, "keyA keyB distance". */
static void run_hamming_paired(const char *pa, const char *pb)
{
	struct side a, b = {0};
	bool self = strcmp(pa, "-") == 0 && strcmp(pb, "-") == 0;
	side_open(&a, pa);
	if (!self) {
		side_open(&b, pb);
		check_dims(a.s->name, a.s->dim, b.s->name, b.s->dim);
	}
	struct side *bp = self ? &a : &b;
	size_t rb = emb_row_bytes(EMB_BIT, a.s->dim);
	for (;;) {
		if (!sides_next(&a, &b, self))
			break;
		const unsigned char *x = (const unsigned char *)a.c.data + a.pos * rb;
		const unsigned char *y = (const unsigned char *)bp->c.data + bp->pos * rb;
		print_pair(&a, bp, emb_hamming(x, y, a.s->dim), NULL, 0);
	}
	side_close(&a);
	if (!self)
		side_close(&b);
}

/* The rows of table T (bits read as 0s and 1s) packed again, for the
 * Hamming kernels (caller frees). */
static unsigned char *table_bits(const struct emb_table *t)
{
	size_t rb = emb_row_bytes(EMB_BIT, t->dim);
	unsigned char *p = emb_xmalloc(emb_xmul(t->rows ? t->rows : 1, rb ? rb : 1));
	for (size_t i = 0; i < t->rows; i++)
		emb_bits_pack(p + i * rb, emb_table_row(t, i), t->dim, EMB_F32);
	return p;
}

/* --topk: the K nearest rows of the streamed DB for each query. */
static void run_hamming_topk(const char *queries)
{
	struct emb_table *q = emb_table_load(queries, &emb_opts, false);
	check_bits(q->src, table_dtype(q));
	struct emb_stream *db = emb_open_r(cfg.db, &emb_opts);
	check_bits(db->name, emb_dtype_name(db->dtype));
	db->mtype = EMB_BIT;
	check_dims(q->rows ? queries : "-", q->dim, db->name, db->dim);
	unsigned char *qb = table_bits(q);
	struct emb_topk *top = emb_topk_new(q->rows, (size_t)cfg.k);
	struct keys dbk = {0};
	struct emb_chunk c = EMB_CHUNK_INIT;
	uint64_t db_rows = 0;
	while (emb_read_chunk(db, &c) > 0) {
		uint64_t base = chunk_global_row(&c, db_rows);
		if (c.keys) {
			keys_run(&dbk, base);
			for (size_t i = 0; i < c.rows; i++)
				keys_add(&dbk, c.keys[i]);
		}
		emb_hamming_block(top, qb, q->rows, c.data, c.rows, db->dim, base,
				  cfg.exclude_self);
		db_rows += c.rows;
	}
	size_t short_lists = 0;
	for (size_t i = 0; i < q->rows; i++) {
		emb_topk_sort(top, i);
		short_lists += top->count[i] < top->k;
		for (size_t r = 0; r < top->count[i]; r++) {
			uint64_t row = top->row[i * top->cap + r];
			/* the distance; in a TREC run minus it, since trec_eval
			 * ranks by score, highest first */
			double s = top->score[i * top->cap + r];
			put_hit(q->keys[i], db->has_keys ? keys_of_row(&dbk, row) : NULL, row + 1,
				cfg.format == EMB_RUN_TREC ? s : -s, r + 1);
		}
		emb_check_stdout();
	}
	if (short_lists)
		emb_warn("%zu of %zu queries had fewer than %lld neighbours (%s has %llu rows)",
			 short_lists, q->rows, cfg.k, db->name, (unsigned long long)db_rows);
	emb_close(db);
	emb_chunk_free(&c);
	emb_topk_free(top);
	emb_table_free(q);
	free(qb);
	keys_free(&dbk);
}

/* --matrix: the distance of every row of A to every row of B, one output
 * row per row of A. */
static void run_hamming_matrix(const char *pa, const char *pb)
{
	struct emb_table *b = emb_table_load(pb ? pb : pa, &emb_opts, false);
	check_bits(b->src, table_dtype(b));
	if (emb_opts.out_format == EMB_FMT_AUTO)
		emb_opts.out_format = EMB_FMT_TSV;
	struct emb_stream *out = emb_open_w_like(NULL, &emb_opts);
	out->dim = b->rows;
	out->has_keys = true;
	unsigned char *bb = table_bits(b);
	size_t rb = emb_row_bytes(EMB_BIT, b->dim);
	struct emb_stream *a = pb ? emb_open_r(pa, &emb_opts) : NULL;
	if (a) {
		check_bits(a->name, emb_dtype_name(a->dtype));
		a->mtype = EMB_BIT;
		check_dims(a->name, a->dim, pb, b->dim);
	}
	struct emb_chunk c = EMB_CHUNK_INIT, oc = EMB_CHUNK_INIT;
	for (;;) {
		const unsigned char *x;
		size_t rows;
		char **keys;
		uint64_t first;
		if (a) {
			if (emb_read_chunk(a, &c) == 0)
				break;
			x = c.data, rows = c.rows, keys = c.keys, first = c.first_row;
		} else {
			x = bb, rows = b->rows, keys = b->keys, first = 1;
		}
		for (size_t i = 0; i < rows; i++) {
			char buf[24];
			const char *k = keys ? keys[i] : row_key(NULL, i, first + i, buf);
			emb_chunk_reserve(&oc, 1, b->rows, EMB_F32, true);
			for (size_t j = 0; j < b->rows; j++)
				((float *)oc.data)[j] = (float)emb_hamming(x + i * rb, bb + j * rb, b->dim);
			emb_chunk_set_key(&oc, 0, k, strlen(k));
			emb_write_chunk(out, &oc);
		}
		if (!a)
			break;
	}
	if (out->dim)
		emb_write_header(out);
	if (a)
		emb_close(a);
	emb_close(out);
	emb_chunk_free(&c);
	emb_chunk_free(&oc);
	emb_table_free(b);
	free(bb);
}

/* ---- main ---- */

static void parse_options(int argc, char **argv)
{
	static const char *const zero_names[] = {"error", "nan", "zero"};
	static const char *const oov_names[] = {"skip", "nan", "zero", "error"};
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS "k:", long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage) || emb_slice_option(opt, optarg))
			continue;
		switch (opt) {
		case OPT_PAIRS: set_mode(MODE_PAIRS, "--pairs", optarg); cfg.pairs = optarg; break;
		case OPT_OOV: cfg.oov = emb_parse_name("--oov", optarg, oov_names, 4); break;
		case OPT_IGNORE_CASE: cfg.ignore_case = true; break;
		case 'k':
			cfg.k = emb_parse_int("--topk", optarg, 1, INT_MAX);
			/* with --candidates, -k is its K, not the --topk mode */
			if (cfg.mode != MODE_CANDIDATES)
				set_mode(MODE_TOPK, "--topk", optarg);
			break;
		case OPT_CANDIDATES:
			if (cfg.mode == MODE_TOPK)
				cfg.mode_opt = NULL;
			set_mode(MODE_CANDIDATES, "--candidates", optarg);
			cfg.candidates = optarg;
			break;
		case OPT_FORMAT:
			cfg.format = emb_run_format_parse(optarg);
			cfg.format_opt = "--format";
			break;
		case OPT_RUN_TAG: cfg.run_tag = emb_run_tag_parse(optarg); cfg.run_tag_given = true; break;
		case OPT_DB: cfg.db = optarg; break;
		case OPT_EXCLUDE_SELF: cfg.exclude_self = true; break;
		case OPT_MATRIX: set_mode(MODE_MATRIX, "--matrix", NULL); break;
		case OPT_BLOCKS: set_mode(MODE_BLOCKS, "--blocks", optarg); cfg.blocks = optarg; break;
		case OPT_SOFTMAX:
			cfg.softmax = true;
			cfg.tau = emb_parse_double("--softmax", optarg);
			if (cfg.tau <= 0)
				emb_usage_error("--softmax wants a positive temperature, not '%s'", optarg);
			break;
		case OPT_COS: set_sim(EMB_SIM_COS, "--cos"); break;
		case OPT_DOT: set_sim(EMB_SIM_DOT, "--dot"); break;
		case OPT_EUCLIDEAN: set_sim(EMB_SIM_EUCLIDEAN, "--euclidean"); break;
		case OPT_MANHATTAN: set_sim(EMB_SIM_MANHATTAN, "--manhattan"); break;
		case OPT_ZERO: cfg.zero = emb_parse_name("--zero", optarg, zero_names, 3); break;
		case OPT_RANGES: cfg.ranges = optarg; break;
		case OPT_HAMMING:
			if (sim_opt && !cfg.hamming)
				emb_usage_error("options %s and --hamming cannot be used together", sim_opt);
			cfg.hamming = true;
			sim_opt = "--hamming";
			break;
		case OPT_PARTIAL: cfg.partial = true; break;
		case OPT_MERGE: cfg.merge = true; break;
		case OPT_DB_OFFSET:
			cfg.db_offset = (uint64_t)emb_parse_int("--db-offset", optarg, 0, LLONG_MAX);
			cfg.db_offset_given = true;
			break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
}

static void check_options(int nargs, char *const *operands)
{
	if (cfg.hamming) {
		const char *no = cfg.merge ? "--merge" : cfg.partial ? "--partial" :
			cfg.softmax ? "--softmax" : cfg.mode == MODE_PAIRS ||
			cfg.mode == MODE_BLOCKS ? cfg.mode_opt : NULL;
		if (!no && emb_opts.slice)
			no = emb_slice.dims ? "--dims" : "--normalize";
		if (no || cfg.ranges)
			emb_usage_error("options %s and --hamming cannot be used together",
					no ? no : "--ranges");
	}
	if (cfg.ranges && cfg.merge)
		emb_usage_error("options --ranges and --merge cannot be used together");
	if (cfg.run_tag_given && cfg.format != EMB_RUN_TREC)
		emb_usage_error("--run-tag is only for --format trec");
	if (cfg.format_opt && cfg.partial)
		emb_usage_error("options --partial and --format cannot be used together");
	if (cfg.format_opt && !cfg.merge && cfg.mode != MODE_TOPK && cfg.mode != MODE_CANDIDATES)
		emb_usage_error("--format is only for --topk, --candidates and --merge");
	if (cfg.merge) {
		if (emb_opts.slice)
			emb_usage_error("option '%s' is only for the modes that read vectors",
					emb_slice.dims ? "--dims" : "--normalize");
		if (cfg.mode != MODE_PAIRED && cfg.mode != MODE_TOPK)
			emb_usage_error("options %s and --merge cannot be used together", cfg.mode_opt);
		if (cfg.db)
			emb_usage_error("--merge reads the --partial lists of a search, not --db");
		if (cfg.partial || cfg.exclude_self || cfg.db_offset_given)
			emb_usage_error("%s is for the searches whose lists --merge reads",
					cfg.partial ? "--partial" : cfg.exclude_self ?
					"--exclude-self" : "--db-offset");
		emb_shared_only_for(EMB_SH_ALL, "the modes that read vectors");
		if (nargs == 0)
			emb_usage_error("--merge needs at least one FILE");
		cfg.mode = MODE_MERGE;
		return;
	}
	if (cfg.mode == MODE_TOPK && !cfg.db)
		emb_usage_error("--topk needs --db=DB");
	if (cfg.mode == MODE_CANDIDATES && (!cfg.db || !cfg.k))
		emb_usage_error("--candidates needs --db=DB and -k K");
	if (cfg.db && cfg.mode != MODE_TOPK && cfg.mode != MODE_CANDIDATES)
		emb_usage_error("--db is only for --topk and --candidates");
	if (cfg.exclude_self && cfg.mode != MODE_TOPK)
		emb_usage_error("--exclude-self is only for --topk");
	if (cfg.partial && cfg.mode != MODE_TOPK)
		emb_usage_error("--partial is only for --topk");
	if (cfg.db_offset_given && cfg.mode != MODE_TOPK)
		emb_usage_error("--db-offset is only for --topk");
	if (cfg.mode != MODE_MATRIX)
		emb_shared_only_for(EMB_SH_OUTPUT_FORMAT | EMB_SH_DTYPE, "--matrix");
	if (cfg.softmax && cfg.mode != MODE_TOPK && cfg.mode != MODE_MATRIX)
		emb_usage_error("--softmax is only for --topk, --merge and --matrix");
	if ((cfg.mode == MODE_PAIRS || cfg.mode == MODE_TOPK || cfg.mode == MODE_CANDIDATES) &&
	    nargs > 1)
		emb_usage_error("%s takes at most one file operand", cfg.mode_opt);
	if (cfg.mode == MODE_PAIRS && strcmp(cfg.pairs, "-") == 0 &&
	    (nargs == 0 || strcmp(operands[0], "-") == 0))
		emb_usage_error("--pairs and the vectors cannot both be standard input");
}

int main(int argc, char **argv)
{
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse_options(argc, argv);
	int nargs = argc - optind;
	check_options(nargs, argv + optind);
	if (cfg.mode == MODE_MERGE) {
		run_merge(argv + optind, (size_t)nargs);
		return EMB_EXIT_OK;
	}
	if (nargs > 2)
		emb_usage_error("extra operand '%s'", argv[optind + 2]);
	const char *a = nargs > 0 ? argv[optind] : "-";
	const char *b = nargs > 1 ? argv[optind + 1] : NULL;
	/* Standard input is read once, as by cat: two roles cannot share it. */
	if (cfg.mode == MODE_PAIRS)
		emb_stdin_once("--pairs", cfg.pairs, "VECTORS", a);
	else if (cfg.mode == MODE_TOPK)
		emb_stdin_once("--db", cfg.db, "QUERIES", a);
	else if (cfg.mode == MODE_CANDIDATES) {
		emb_stdin_once("--db", cfg.db, "QUERIES", a);
		emb_stdin_once("--candidates", cfg.candidates, "QUERIES", a);
		emb_stdin_once("--candidates", cfg.candidates, "--db", cfg.db);
	}
	else if (cfg.mode == MODE_MATRIX && b)
		emb_stdin_once("A", a, "B", b);

	if (cfg.hamming) {
		if (cfg.mode == MODE_TOPK)
			run_hamming_topk(a);
		else if (cfg.mode == MODE_MATRIX)
			run_hamming_matrix(a, b);
		else
			run_hamming_paired(a, b ? b : "-");
		return EMB_EXIT_OK;
	}
	switch (cfg.mode) {
	case MODE_PAIRS: run_pairs(a); break;
	case MODE_TOPK: run_topk(a); break;
	case MODE_CANDIDATES: run_candidates(a); break;
	case MODE_MATRIX: run_matrix(a, b); break;
	case MODE_PAIRED:
	case MODE_BLOCKS: run_paired(a, b ? b : "-"); break;
	case MODE_MERGE: break;     /* run above: its operands are many */
	}
	emb_slice_report(&emb_slice);
	return EMB_EXIT_OK;
}
