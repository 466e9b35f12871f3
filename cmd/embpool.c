/*
 * embpool - sentence vectors from word vectors: tokenise each text, look
 * the tokens up in a vocabulary and pool their vectors (mean, sum, max, or
 * a weighted mean with given or SIF weights).
 */
#include <config.h>
#include "emb.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum pool { POOL_MEAN, POOL_SUM, POOL_MAX };
enum empty { EMPTY_SKIP, EMPTY_ZERO, EMPTY_ERROR };

enum {
	OPT_MEAN = EMB_OPT_FIRST_PROGRAM, OPT_SUM, OPT_MAX, OPT_WEIGHTS, OPT_SIF,
	OPT_FREQ, OPT_EMPTY, OPT_DEFAULT_WEIGHT
};

/* The shared options (emb.h) embpool honours: all of them (reading WORDS,
 * writing the pooled vectors). */
#define SHARED EMB_SH_ALL

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s --vectors=WORDS [OPTION]... [TEXT]\n", emb_progname);
	fputs("Write one pooled vector per line of TEXT (standard input when TEXT is\n"
	      "absent or -): the line is lower-cased and tokenised (see embpool(1)),\n"
	      "each token is looked up in the vector stream WORDS, and the vectors\n"
	      "of the known tokens are pooled.  Output rows are keyed by line number.\n"
	      "\n"
	      "  -v, --vectors=WORDS      word vectors, keyed by word (a stream in any\n"
	      "                           format of emb(5))\n"
	      "  -f, --field=N            the text is TAB-separated column N of each line\n"
	      "      --mean               (1/n) sum of the n known token vectors (default)\n"
	      "      --sum                sum of the known token vectors\n"
	      "      --max                element-wise maximum of the known token vectors\n"
	      "      --weights=FILE       multiply each token vector by its weight from\n"
	      "                           FILE (lines: WORD WEIGHT) before --mean or --sum\n"
	      "      --default-weight=W   weight of words not in FILE (default 1)\n"
	      "      --sif=A --freq=FILE  SIF weights A/(A + p(w)), p(w) = count/total\n"
	      "                           from FILE (lines: WORD COUNT)\n"
	      "      --empty=POLICY       a text with no known token: skip (default),\n"
	      "                           zero (write a zero vector) or error\n"
	      "  -q, --quiet              do not report the out-of-vocabulary rate\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embpool --vectors vectors.emb texts.txt | embinfo\n"
	      "  cut -f2 pairs.tsv | embpool -v vectors.emb --max -O tsv\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"vectors", required_argument, NULL, 'v'},
	{"field", required_argument, NULL, 'f'},
	{"quiet", no_argument, NULL, 'q'},
	{"mean", no_argument, NULL, OPT_MEAN},
	{"sum", no_argument, NULL, OPT_SUM},
	{"max", no_argument, NULL, OPT_MAX},
	{"weights", required_argument, NULL, OPT_WEIGHTS},
	{"default-weight", required_argument, NULL, OPT_DEFAULT_WEIGHT},
	{"sif", required_argument, NULL, OPT_SIF},
	{"freq", required_argument, NULL, OPT_FREQ},
	{"empty", required_argument, NULL, OPT_EMPTY},
	{NULL, 0, NULL, 0},
};

struct config {
	const char *vectors, *weights, *freq, *text;
	long field;               /* 1-based column, 0 = the whole line */
	enum pool pool;
	enum empty empty;
	double sif_a, default_weight;
	bool sif, quiet;
};

/* ---- the tokeniser: rules as stated in embpool(1) ---- */

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes of UTF-8 sequences count as letters for splitting, so a word such
 * as "café" stays whole. */
static bool is_word(unsigned char c)
{
	return is_alnum(c) || c >= 0x80;
}

/* Does the byte at s[i] join the word characters on both sides into one
 * token ("u.s", "o'clock", "3.5", "1,000", "10:30")? */
static bool joins(const unsigned char *s, size_t i, size_t len)
{
	if (i == 0 || i + 1 >= len)
		return false;
	unsigned char c = s[i], a = s[i - 1], b = s[i + 1];
	if (c == '.' || c == '\'')
		return is_word(a) && is_word(b);
	if (c == ',' || c == ':')
		return is_digit(a) && is_digit(b);
	return false;
}

typedef void token_fn(const char *tok, size_t len, void *ctx);

/* Drop pieces without an ASCII letter or digit (punctuation, symbols). */
static void emit(const char *tok, size_t len, token_fn *fn, void *ctx)
{
	for (size_t i = 0; i < len; i++)
		if (is_alnum((unsigned char)tok[i])) {
			fn(tok, len, ctx);
			return;
		}
}

static bool ends_with(const char *t, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && memcmp(t + len - n, suffix, n) == 0;
}

/* Treebank-style clitics: "don't" -> do not, "it's" -> it s,
 * "cannot" -> can not (nltk's word_tokenize, then fse's n't -> not and
 * apostrophe stripping). */
static void split_clitics(const char *t, size_t len, token_fn *fn, void *ctx)
{
	static const char *const suffixes[] = {"'s", "'m", "'d", "'re", "'ve", "'ll"};
	if (len > 3 && ends_with(t, len, "n't")) {
		emit(t, len - 3, fn, ctx);
		emit("not", 3, fn, ctx);
		return;
	}
	if (len == 6 && memcmp(t, "cannot", 6) == 0) {
		emit("can", 3, fn, ctx);
		emit("not", 3, fn, ctx);
		return;
	}
	for (size_t k = 0; k < sizeof suffixes / sizeof *suffixes; k++) {
		size_t n = strlen(suffixes[k]);
		if (len > n && ends_with(t, len, suffixes[k])) {
			emit(t, len - n, fn, ctx);
			emit(t + len - n + 1, n - 1, fn, ctx);
			return;
		}
	}
	if (len == 3 && memcmp(t, "n't", 3) == 0)
		t = "not";
	emit(t, len, fn, ctx);
}

/* Lower-case LINE in place and call FN on each token. */
static void tokenise(char *line, size_t len, token_fn *fn, void *ctx)
{
	unsigned char *s = (unsigned char *)line;
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] += 'a' - 'A';
	size_t i = 0;
	while (i < len) {
		if (!is_word(s[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && (is_word(s[i]) || joins(s, i, len)))
			i++;
		split_clitics(line + start, i - start, fn, ctx);
	}
}

/* ---- weights ---- */

/* Read FILE's "WORD NUMBER" lines (TAB or blanks between).  For words of
 * the vocabulary, store NUMBER in vals[row]; return the sum of all numbers
 * (words outside the vocabulary included, as SIF's p(w) needs). */
static double read_word_numbers(const char *path, const struct emb_table *t,
				double *vals, bool counts)
{
	FILE *fp = emb_fopen_r(path);
	const char *name = strcmp(path, "-") ? path : "-";
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	double total = 0;
	while ((n = emb_read_line(fp, name, lineno + 1, &line, &cap, NULL)) >= 0) {
		if (++lineno == 1 && strncmp(line, EMB_UTF8_BOM, 3) == 0)
			memmove(line, line + 3, (size_t)(n -= 3) + 1);
		size_t w = strcspn(line, "\t ");
		const char *p = line + w + strspn(line + w, "\t ");
		const char *end;
		double v;
		if (w == 0 || !emb_parse_f64(p, &end, &v) || *end != '\0')
			emb_die_at(name, lineno, "expected WORD and a number");
		if (!isfinite(v) || (counts && v < 0))
			emb_die_at(name, lineno, "%s must be %s", counts ? "a count" : "a weight",
				   counts ? "finite and not negative" : "finite");
		long r = emb_table_find(t, line, w);
		if (r >= 0)
			vals[r] = v;
		total += v;
	}
	free(line);
	emb_fclose_r(fp, name);
	return total;
}

/* Per-vocabulary-row weights, or NULL when pooling is unweighted. */
static double *load_weights(const struct config *cf, const struct emb_table *t)
{
	if (!cf->weights && !cf->sif)
		return NULL;
	double *w = emb_xmalloc(emb_xmul(t->rows ? t->rows : 1, sizeof *w));
	if (cf->weights) {
		for (size_t r = 0; r < t->rows; r++)
			w[r] = cf->default_weight;
		read_word_numbers(cf->weights, t, w, false);
		return w;
	}
	for (size_t r = 0; r < t->rows; r++)
		w[r] = 0;
	double total = read_word_numbers(cf->freq, t, w, true);
	if (!(total > 0))
		emb_die(EMB_EXIT_DATA, "%s: the counts sum to zero", cf->freq);
	for (size_t r = 0; r < t->rows; r++)
		w[r] = cf->sif_a / (cf->sif_a + w[r] / total);
	return w;
}

/* ---- pooling ---- */

struct pooler {
	const struct config *cf;
	const struct emb_table *t;
	const double *weights;    /* per vocabulary row, or NULL */
	double *acc;              /* dim */
	size_t known;             /* known tokens in the current text */
	uint64_t tokens, oov;     /* over all texts */
};

static void add_token(const char *tok, size_t len, void *ctx)
{
	struct pooler *p = ctx;
	p->tokens++;
	long r = emb_table_find(p->t, tok, len);
	if (r < 0) {
		p->oov++;
		return;
	}
	const float *v = emb_table_row(p->t, (size_t)r);
	double w = p->weights ? p->weights[r] : 1.0;
	size_t dim = p->t->dim;
	if (p->cf->pool == POOL_MAX) {
		for (size_t j = 0; j < dim; j++)
			if (p->known == 0 || v[j] > p->acc[j])
				p->acc[j] = v[j];
	} else {
		for (size_t j = 0; j < dim; j++)
			p->acc[j] += w * v[j];
	}
	p->known++;
}

/* Pool one text into p->acc; false when no token was known. */
static bool pool_text(struct pooler *p, char *text, size_t len)
{
	size_t dim = p->t->dim;
	for (size_t j = 0; j < dim; j++)
		p->acc[j] = 0;
	p->known = 0;
	tokenise(text, len, add_token, p);
	if (p->known == 0)
		return false;
	if (p->cf->pool == POOL_MEAN)
		for (size_t j = 0; j < dim; j++)
			p->acc[j] /= (double)p->known;
	return true;
}

/* Column FIELD (1-based) of a TAB-separated LINE, or NULL if missing. */
static char *field_of(char *line, long field, size_t *len)
{
	char *p = line;
	for (long k = 1; k < field; k++) {
		p = strchr(p, '\t');
		if (!p)
			return NULL;
		p++;
	}
	*len = strcspn(p, "\t");
	return p;
}

static void report(const struct config *cf, const struct pooler *p,
		   uint64_t texts, uint64_t empty)
{
	if (empty && cf->empty != EMPTY_ERROR)
		emb_warn("%llu of %llu texts had no known token and were %s",
			 (unsigned long long)empty, (unsigned long long)texts,
			 cf->empty == EMPTY_SKIP ? "skipped" : "written as zero vectors");
	if (!cf->quiet && texts > 0)
		emb_warn("%llu of %llu tokens (%.2f%%) not in the vocabulary",
			 (unsigned long long)p->oov, (unsigned long long)p->tokens,
			 p->tokens ? 100.0 * (double)p->oov / (double)p->tokens : 0.0);
}

static void run(const struct config *cf, struct emb_table *t, struct emb_stream *out)
{
	struct pooler p = {cf, t, load_weights(cf, t), NULL, 0, 0, 0};
	p.acc = emb_xmalloc(emb_xmul(t->dim, sizeof *p.acc));
	FILE *fp = emb_fopen_r(cf->text);
	const char *name = cf->text;
	char *line = NULL, key[24];
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0, empty = 0;

	while ((n = emb_read_line(fp, name, lineno + 1, &line, &cap, NULL)) >= 0) {
		if (++lineno == 1 && strncmp(line, EMB_UTF8_BOM, 3) == 0)
			memmove(line, line + 3, (size_t)(n -= 3) + 1);
		size_t len = (size_t)n;
		char *text = line;
		if (cf->field > 0 && !(text = field_of(line, cf->field, &len)))
			emb_die_at(name, lineno, "no field %ld", cf->field);
		bool ok = pool_text(&p, text, len);
		if (!ok) {
			if (cf->empty == EMPTY_ERROR)
				emb_die_at(name, lineno, "no known token in the text");
			empty++;
			if (cf->empty == EMPTY_SKIP)
				continue;
		}
		snprintf(key, sizeof key, "%llu", (unsigned long long)lineno);
		emb_write_row(out, key, p.acc, EMB_F64);
	}
	free(line);
	emb_fclose_r(fp, name);
	emb_write_header(out); /* late, so an error on line 1 writes nothing */
	report(cf, &p, lineno, empty);
	free(p.acc);
	free((void *)p.weights);
}

/* ---- options ---- */

static void check_config(struct config *cf, int nfiles)
{
	if (!cf->vectors)
		emb_usage_error("--vectors=WORDS is required");
	if (nfiles > 1)
		emb_usage_error("extra operand '%s'", cf->text);
	if (!strcmp(cf->vectors, "-") && !strcmp(cf->text, "-"))
		emb_usage_error("--vectors and TEXT cannot both be standard input");
	if (cf->sif != (cf->freq != NULL))
		emb_usage_error("--sif=A and --freq=FILE go together");
	if (cf->sif && cf->weights)
		emb_usage_error("--weights and --sif are exclusive");
	if ((cf->sif || cf->weights) && cf->pool == POOL_MAX)
		emb_usage_error("--max takes no weights");
}

static int parse_empty(const char *arg)
{
	static const char *const names[] = {"skip", "zero", "error"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(arg, names[i]))
			return i;
	emb_usage_error("--empty wants skip, zero or error, not '%s'", arg);
}

/* The pooling, by option OPT: one only. */
static void set_pool(struct config *cf, enum pool pool, const char *opt)
{
	static const char *given;
	if (given && cf->pool != pool)
		emb_usage_error("options %s and %s cannot be used together", given, opt);
	cf->pool = pool;
	given = opt;
}

static void parse_options(int argc, char **argv, struct config *cf)
{
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS "v:f:q", long_options,
				  NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case 'v': cf->vectors = optarg; break;
		case 'f': cf->field = (long)emb_parse_int("--field", optarg, 1, 1000000); break;
		case 'q': cf->quiet = true; break;
		case OPT_MEAN: set_pool(cf, POOL_MEAN, "--mean"); break;
		case OPT_SUM: set_pool(cf, POOL_SUM, "--sum"); break;
		case OPT_MAX: set_pool(cf, POOL_MAX, "--max"); break;
		case OPT_WEIGHTS: cf->weights = optarg; break;
		case OPT_FREQ: cf->freq = optarg; break;
		case OPT_EMPTY: cf->empty = (enum empty)parse_empty(optarg); break;
		case OPT_DEFAULT_WEIGHT:
			cf->default_weight = emb_parse_double("--default-weight", optarg);
			break;
		case OPT_SIF:
			cf->sif = true;
			cf->sif_a = emb_parse_double("--sif", optarg);
			if (!(cf->sif_a > 0) || !isfinite(cf->sif_a))
				emb_usage_error("--sif wants a positive number, not '%s'", optarg);
			break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	int nfiles = argc - optind;
	cf->text = nfiles > 0 ? argv[argc - 1] : "-";
	check_config(cf, nfiles);
}

int main(int argc, char **argv)
{
	struct config cf = {NULL, NULL, NULL, "-", 0, POOL_MEAN, EMPTY_SKIP, 0, 1.0, false, false};

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse_options(argc, argv, &cf);

	struct emb_table *t = emb_table_load(cf.vectors, &emb_opts, false);
	if (t->rows == 0)
		emb_die(EMB_EXIT_DATA, "%s: no word vectors", cf.vectors);
	if (!t->has_keys)
		emb_die(EMB_EXIT_DATA, "%s has no keys: word vectors are looked up by word",
			cf.vectors);
	/* a value that is not finite (binary input can hold one) would make
	 * every text with that word nan */
	for (size_t r = 0; r < t->rows; r++)
		for (size_t j = 0; j < t->dim; j++)
			if (!isfinite(emb_table_row(t, r)[j]))
				emb_table_die_row(t, r, "value is not finite");
	struct emb_stream *out = emb_open_w_like(NULL, &emb_opts);
	if (emb_opts.out_format == EMB_FMT_AUTO)
		out->format = EMB_FMT_EMB;
	out->dim = t->dim;
	out->has_keys = true;
	run(&cf, t, out);
	emb_close(out);
	emb_table_free(t);
	return EMB_EXIT_OK;
}
