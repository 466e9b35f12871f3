/*
 * emblsh - locality-sensitive hashing of vector streams: bucket ids per row,
 * candidate pairs, approximate nearest neighbours and bucket statistics.
 * The hash families live in lib/emb_lsh.c; this file is the four modes.
 */
#include <config.h>
#include "emb.h"
#include "emb_eval.h"
#include "emb_knn.h"
#include "emb_lsh.h"
#include "emb_quant.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* Projections computed per call: about 1M floats (4 MB), so that one
 * sgemm is large enough for OpenBLAS's threads to pay off (with 256-row
 * blocks they mostly spin) and the block still sits in the L3 cache. */
#define BLOCK_FLOATS (1u << 20)
#define MIN_BLOCK_ROWS 256

enum mode { MODE_HASH, MODE_CANDIDATES, MODE_QUERY, MODE_STATS };

struct cfg {
	struct emb_lsh_params p;
	enum mode mode;
	bool score, json, verbose;
	size_t max_bucket;      /* 0 = no cap */
	const char *query, *db;
	size_t topk, probes;
	size_t max_cand;        /* --max-candidates, 0 = all */
	enum emb_run_format format; /* --format of --db's output */
	const char *run_tag;    /* --run-tag */
	bool format_given, run_tag_given;
};

enum {
	OPT_SCHEME = EMB_OPT_FIRST_PROGRAM, OPT_BUCKETS, OPT_HASHES, OPT_TABLES, OPT_BITS,
	OPT_ROTATIONS, OPT_SEED, OPT_CANDIDATES, OPT_SCORE, OPT_MAX_BUCKET, OPT_QUERY,
	OPT_DB, OPT_TOPK, OPT_PROBES, OPT_STATS, OPT_JSON, OPT_VERBOSE, OPT_MAX_CAND,
	OPT_FORMAT, OPT_RUN_TAG,
};

/* The shared options (emb.h) emblsh honours: those of reading; it writes
 * text, never vectors. */
#define SHARED EMB_SH_READ

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]\n"
	       "  or:  %s --db=DB [--topk=K] [OPTION]... [QUERIES]\n", emb_progname, emb_progname);
	fputs("Hash the rows of a vector stream with angular locality-sensitive hashing.\n"
	      "By default print each row's key and one bucket id per table (TSV), so\n"
	      "rows can be grouped with sort, join or awk.  With no FILE, or when FILE\n"
	      "is -, read standard input.\n"
	      "\n"
	      "Hash family:\n"
	      "      --scheme=NAME        rotation (default; Reformer: argmax of [xR ; -xR],\n"
	      "                           R Gaussian d x B/2), crosspolytope (FALCONN: the\n"
	      "                           same rule after sign flips and fast Walsh-Hadamard\n"
	      "                           transforms), simhash (Charikar: K sign bits)\n"
	      "  -B, --buckets=B          buckets per hash, even (rotation: default 64;\n"
	      "                           crosspolytope: default and maximum twice the dim\n"
	      "                           padded to a power of two)\n"
	      "  -K, --bits=K             simhash: sign bits per hash (default 16)\n"
	      "  -H, --hashes=H           hashes concatenated per table (default 1)\n"
	      "  -L, --tables=L           independent tables (default 1)\n"
	      "      --rotations=R        crosspolytope: rounds of signs + transform (default 1)\n"
	      "  -s, --seed=S             random seed (default 1): same seed, same buckets\n"
	      "\n"
	      "Modes:\n"
	      "      --candidates         print each pair of rows that share a bucket in any\n"
	      "                           table once: KEY1 KEY2 [COSINE]\n"
	      "      --score              with --candidates: add the exact cosine\n"
	      "      --max-bucket=N       with --candidates: skip buckets of more than N rows\n"
	      "                           (the skipped pairs are counted on stderr)\n"
	      "      --db=DB              approximate nearest neighbours: index DB in memory;\n"
	      "                           for each row of QUERIES print, as 'embcos --topk',\n"
	      "                           QKEY DBKEY COSINE RANK, reranked by exact cosine\n"
	      "      --query=QUERIES      the queries (or give them as the operand)\n"
	      "  -k, --topk=K             neighbours per query (default 10)\n"
	      "  -P, --probes=P           buckets looked up per table, best first (default 1)\n"
	      "      --max-candidates=N   score at most N candidates per query (tables\n"
	      "                           and probes in order)\n"
	      "      --format=FMT         with --db: topk (default, as above) or trec\n"
	      "                           ('qid Q0 docid rank score tag', for trec_eval)\n"
	      "      --run-tag=TAG        --format trec: the last column (default embutils)\n"
	      "  -v, --verbose            with --db: candidates scored and timings on stderr\n"
	      "      --stats              bucket occupancy per table (TSV, or --json)\n"
	      "      --json               with --stats: one JSON object\n"
	      "\n"
	      "Vectors as read (every mode; with --db, the database and the queries):\n", stdout);
	emb_slice_help();
	fputc('\n', stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  emblsh -L 4 vectors.emb | sort -k2,2 | head\n"
	      "  emblsh --scheme crosspolytope -L 16 -P 4 --db vectors.emb queries.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"scheme", required_argument, NULL, OPT_SCHEME},
	{"buckets", required_argument, NULL, 'B'},
	{"bits", required_argument, NULL, 'K'},
	{"hashes", required_argument, NULL, 'H'},
	{"tables", required_argument, NULL, 'L'},
	{"rotations", required_argument, NULL, OPT_ROTATIONS},
	{"seed", required_argument, NULL, 's'},
	{"candidates", no_argument, NULL, OPT_CANDIDATES},
	{"score", no_argument, NULL, OPT_SCORE},
	{"max-bucket", required_argument, NULL, OPT_MAX_BUCKET},
	{"query", required_argument, NULL, OPT_QUERY},
	{"db", required_argument, NULL, OPT_DB},
	{"topk", required_argument, NULL, 'k'},
	{"probes", required_argument, NULL, 'P'},
	{"verbose", no_argument, NULL, 'v'},
	{"max-candidates", required_argument, NULL, OPT_MAX_CAND},
	{"stats", no_argument, NULL, OPT_STATS},
	{"json", no_argument, NULL, OPT_JSON},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"run-tag", required_argument, NULL, OPT_RUN_TAG},
	EMB_SLICE_LONGOPTS,
	{NULL, 0, NULL, 0},
};

static void set_mode(struct cfg *c, enum mode m, bool *given)
{
	if (*given && c->mode != m)
		emb_usage_error("--candidates, --db and --stats exclude each other");
	c->mode = m;
	*given = true;
}

static size_t size_opt(const char *name, const char *arg, long long min, long long max)
{
	return (size_t)emb_parse_int(name, arg, min, max);
}

static bool program_option(struct cfg *c, int opt, const char *arg, bool *mode_given)
{
	switch (opt) {
	case OPT_SCHEME: {
		int s = emb_lsh_scheme_parse(arg);
		if (s < 0)
			emb_usage_error("unknown scheme '%s' (known: %s)", arg, emb_lsh_scheme_list());
		c->p.scheme = (enum emb_lsh_scheme)s;
		break;
	}
	case 'B': c->p.buckets = size_opt("--buckets", arg, 2, 65536); break;
	case 'K': c->p.bits = size_opt("--bits", arg, 1, 64); break;
	case 'H': c->p.hashes = size_opt("--hashes", arg, 1, 64); break;
	case 'L': c->p.tables = size_opt("--tables", arg, 1, 1024); break;
	case OPT_ROTATIONS: c->p.rotations = size_opt("--rotations", arg, 1, 16); break;
	case 's': c->p.seed = (unsigned long)emb_parse_int("--seed", arg, 0, 4294967295LL); break;
	case OPT_CANDIDATES: set_mode(c, MODE_CANDIDATES, mode_given); break;
	case OPT_SCORE: c->score = true; break;
	case OPT_MAX_BUCKET: c->max_bucket = size_opt("--max-bucket", arg, 2, 1LL << 40); break;
	case OPT_QUERY: c->query = arg; break;
	case OPT_DB: c->db = arg; set_mode(c, MODE_QUERY, mode_given); break;
	case 'k': c->topk = size_opt("--topk", arg, 1, INT_MAX); break;
	case 'P': c->probes = size_opt("--probes", arg, 1, 4096); break;
	case 'v': c->verbose = true; break;
	case OPT_MAX_CAND: c->max_cand = size_opt("--max-candidates", arg, 1, 1LL << 40); break;
	case OPT_STATS: set_mode(c, MODE_STATS, mode_given); break;
	case OPT_JSON: c->json = true; break;
	case OPT_FORMAT: c->format = emb_run_format_parse(arg); c->format_given = true; break;
	case OPT_RUN_TAG: c->run_tag = emb_run_tag_parse(arg); c->run_tag_given = true; break;
	default: return false;
	}
	return true;
}

/* Options that only make sense in one mode are errors elsewhere, so a
 * typo'd pipeline fails instead of quietly ignoring them. */
static void check_modes(const struct cfg *c, bool topk_given, bool probes_given)
{
	if ((c->score || c->max_bucket) && c->mode != MODE_CANDIDATES)
		emb_usage_error("--score and --max-bucket need --candidates");
	if ((c->query || topk_given || c->verbose || c->max_cand) && c->mode != MODE_QUERY)
		emb_usage_error("--query, --topk, --max-candidates and --verbose need --db");
	if (probes_given && c->mode != MODE_QUERY)
		emb_usage_error("--probes needs --db");
	if (c->format_given && c->mode != MODE_QUERY)
		emb_usage_error("--format needs --db");
	if (c->run_tag_given && c->format != EMB_RUN_TREC)
		emb_usage_error("--run-tag is only for --format trec");
	if (c->json && c->mode != MODE_STATS)
		emb_usage_error("--json needs --stats");
	if (c->p.bits && c->p.scheme != EMB_LSH_SIMHASH)
		emb_usage_error("--bits needs --scheme simhash");
	if (c->p.buckets && c->p.scheme == EMB_LSH_SIMHASH)
		emb_usage_error("--buckets does not apply to simhash (use --bits)");
	if (c->p.rotations && c->p.scheme != EMB_LSH_CROSSPOLYTOPE)
		emb_usage_error("--rotations needs --scheme crosspolytope");
}

static const char *parse_args(struct cfg *c, int argc, char **argv)
{
	bool mode_given = false, topk_given = false, probes_given = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "B:K:H:L:s:k:P:v" EMB_COMMON_SHORTOPTS,
				  long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage) || emb_slice_option(opt, optarg))
			continue;
		topk_given |= opt == 'k';
		probes_given |= opt == 'P';
		if (!program_option(c, opt, optarg, &mode_given))
			usage(EMB_EXIT_USAGE);
	}
	check_modes(c, topk_given, probes_given);
	if (!c->p.bits)
		c->p.bits = 16;
	if (!c->p.rotations)
		c->p.rotations = 1;
	if (argc - optind > 1)
		emb_usage_error("extra operand '%s'", argv[optind + 1]);
	const char *file = optind < argc ? argv[optind] : NULL;
	if (c->mode == MODE_QUERY) {
		if (c->query && file)
			emb_usage_error("give the queries either with --query or as the operand");
		if (!c->query)
			c->query = file ? file : "-";
		emb_stdin_once("--db", c->db, "the queries", c->query);
	}
	return file ? file : "-";
}

/* ---- input checks ---- */

/* A row with a value that is not finite (binary input can hold one) has
 * no bucket and no cosine: an error naming its line or byte. */
static bool row_finite(const float *x, size_t dim)
{
	float s = 0;
	for (size_t j = 0; j < dim; j++)
		s += x[j] * 0.0f;     /* 0 for finite values, NaN otherwise */
	return s == 0;
}

static void check_chunk(const struct emb_chunk *ch)
{
	for (size_t i = 0; i < ch->rows; i++)
		if (!row_finite(emb_row_f32(ch, i), ch->dim))
			emb_die_row(ch, i, "value is not finite");
}

static void check_table(const struct emb_table *t)
{
	emb_refuse_codes(t->src, emb_meta_dtype(t->meta));
	for (size_t i = 0; i < t->rows; i++)
		if (!row_finite(emb_table_row(t, i), t->dim))
			emb_table_die_row(t, i, "value is not finite");
}

/* ---- hashing rows in blocks ---- */

/* Rows projected per call into a proj_buffer(). */
static size_t block_rows(const struct emb_lsh *h)
{
	size_t b = BLOCK_FLOATS / h->ncols;
	return b < MIN_BLOCK_ROWS ? MIN_BLOCK_ROWS : b;
}

/* IDS (n x L) <- bucket ids of N rows; PROJ holds block_rows() x ncols. */
static void hash_rows(struct emb_lsh *h, const float *rows, size_t n, float *proj, uint64_t *ids)
{
	size_t L = h->p.tables, B = block_rows(h);
	for (size_t s = 0; s < n; s += B) {
		size_t b = n - s < B ? n - s : B;
		emb_lsh_project(h, rows + s * h->dim, b, proj);
		for (size_t i = 0; i < b; i++)
			for (size_t t = 0; t < L; t++)
				ids[(s + i) * L + t] = emb_lsh_bucket(h, proj + i * h->ncols, t);
	}
}

static float *proj_buffer(const struct emb_lsh *h)
{
	return emb_xmalloc(emb_xmul(emb_xmul(block_rows(h), h->ncols), sizeof(float)) + 1);
}

static struct emb_lsh *new_lsh(const struct cfg *c, size_t dim)
{
	/* An empty input still gets a valid (unused) hash. */
	return emb_lsh_new(&c->p, dim ? dim : 1);
}

/* ---- default mode: key and bucket ids, streaming ---- */

static void run_hash(const struct cfg *c, const char *path)
{
	struct emb_stream *in = emb_open_r(path, &emb_opts);
	emb_refuse_codes(in->name, emb_dtype_name(in->dtype));
	in->mtype = EMB_F32;
	struct emb_lsh *h = new_lsh(c, emb_slice_dim(emb_opts.slice, in));
	float *proj = proj_buffer(h);
	uint64_t *ids = NULL;
	struct emb_chunk ch = EMB_CHUNK_INIT;
	size_t n;
	while ((n = emb_read_chunk(in, &ch)) > 0) {
		emb_slice_chunk(emb_opts.slice, &ch);
		check_chunk(&ch);
		ids = emb_xrealloc(ids, emb_xmul(emb_xmul(n, c->p.tables), sizeof *ids));
		hash_rows(h, ch.data, n, proj, ids);
		for (size_t i = 0; i < n; i++) {
			if (ch.keys)
				fputs(ch.keys[i], stdout);
			else
				printf("%llu", (unsigned long long)(ch.first_row + i));
			for (size_t t = 0; t < c->p.tables; t++)
				printf("\t%llu", (unsigned long long)ids[i * c->p.tables + t]);
			putchar('\n');
		}
		emb_check_stdout(); /* stop at a write error, not at exit */
	}
	emb_close(in);
	emb_chunk_free(&ch);
	free(ids);
	free(proj);
	emb_lsh_free(h);
}

/* ---- an in-memory index: per table, the rows of each bucket ---- */

/*
 * Per table: the rows grouped by bucket id (ascending ids, ascending rows
 * within a bucket), the distinct ids with the start of their run, and a
 * directory on the top bits of the id that narrows a lookup to the few
 * ids sharing them.  Built by LSD radix sort, O(rows) per table; memory
 * is at most 4 + 12 + 8 bytes per row and table.
 */
struct itable {
	size_t nids;          /* distinct ids */
	uint64_t *id;         /* nids, ascending */
	uint32_t *start;      /* nids + 1: bucket k is row[start[k] .. start[k+1]) */
	uint32_t *dir;        /* (1 << dbits) + 1: ids with top bits p are id[dir[p] .. dir[p+1]) */
	unsigned dshift;      /* p = id >> dshift */
};

struct index {
	size_t rows, tables;
	uint32_t *row;        /* tables x rows */
	struct itable *t;
};

/* Bits of the largest id the hash family can produce. */
static unsigned id_bits(const struct emb_lsh *h)
{
	unsigned b = 0;
	while (b < 64 && ldexp(1.0, (int)b) < h->nbuckets)
		b++;
	return b;
}

struct entry {
	uint64_t id;
	uint32_t row;
};

/* Stable LSD radix sort of E (N entries, ids below 2^BITS) by id, using
 * TMP (N entries) as the other buffer; returns the buffer holding the
 * result.  Passes of at most 11 bits, so the counts stay in L1. */
static struct entry *radix_sort(struct entry *e, struct entry *tmp, size_t n, unsigned bits)
{
	size_t count[(1u << 11) + 1];
	unsigned passes = (bits + 10) / 11, w = passes ? (bits + passes - 1) / passes : 0;
	for (unsigned ps = 0, sh = 0; ps < passes; ps++, sh += w) {
		size_t nb = (size_t)1 << w;
		uint64_t mask = nb - 1;
		memset(count, 0, (nb + 1) * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(e[i].id >> sh & mask) + 1]++;
		for (size_t k = 1; k <= nb; k++)
			count[k] += count[k - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[e[i].id >> sh & mask]++] = e[i];
		struct entry *x = e;
		e = tmp;
		tmp = x;
	}
	return e;
}

static void build_table(struct itable *it, uint32_t *row, const struct entry *e, size_t n,
			unsigned bits)
{
	size_t nids = 0;
	for (size_t i = 0; i < n; i++)
		nids += i == 0 || e[i].id != e[i - 1].id;
	it->nids = nids;
	it->id = emb_xmalloc(emb_xmul(nids, sizeof *it->id) + 1);
	it->start = emb_xmalloc(emb_xmul(nids + 1, sizeof *it->start));
	for (size_t i = 0, k = 0; i < n; i++) {
		if (i == 0 || e[i].id != e[i - 1].id) {
			it->id[k] = e[i].id;
			it->start[k++] = (uint32_t)i;
		}
		row[i] = e[i].row;
	}
	it->start[nids] = (uint32_t)n;
	/* About one distinct id per directory slot. */
	unsigned dbits = 1;
	while (dbits < bits && dbits < 24 && ((size_t)1 << dbits) < nids)
		dbits++;
	it->dshift = bits - dbits;
	size_t nd = (size_t)1 << dbits;
	it->dir = emb_xmalloc(emb_xmul(nd + 1, sizeof *it->dir));
	for (size_t p = 0, k = 0; p <= nd; p++) {
		while (k < nids && (p == nd || it->id[k] >> it->dshift < p))
			k++;
		it->dir[p] = (uint32_t)k;
	}
}

static struct index build_index(struct emb_lsh *h, const struct emb_table *t)
{
	size_t n = t->rows, L = h->p.tables;
	struct index ix = {n, L, NULL, NULL};
	if (n > UINT32_MAX)
		emb_die(EMB_EXIT_DATA, "more than %lu rows to index", (unsigned long)UINT32_MAX);
	uint64_t *ids = emb_xmalloc(emb_xmul(emb_xmul(n, L), sizeof *ids) + 1);
	float *proj = proj_buffer(h);
	hash_rows(h, t->data, n, proj, ids);
	free(proj);
	unsigned bits = id_bits(h);
	struct entry *e = emb_xmalloc(emb_xmul(n, sizeof *e) + 1);
	struct entry *tmp = emb_xmalloc(emb_xmul(n, sizeof *tmp) + 1);
	ix.row = emb_xmalloc(emb_xmul(emb_xmul(n, L), sizeof *ix.row) + 1);
	ix.t = emb_xcalloc(L, sizeof *ix.t);
	for (size_t l = 0; l < L; l++) {
		uint64_t max = 0;
		for (size_t r = 0; r < n; r++) {
			e[r] = (struct entry){ids[r * L + l], (uint32_t)r};
			max = e[r].id > max ? e[r].id : max;
		}
		unsigned used = 0;
		while (used < 64 && max >> used)
			used++;
		build_table(ix.t + l, ix.row + l * n, radix_sort(e, tmp, n, used), n, bits);
	}
	free(tmp);
	free(e);
	free(ids);
	return ix;
}

static void free_index(struct index *ix)
{
	for (size_t l = 0; l < ix->tables && ix->t; l++) {
		free(ix->t[l].id);
		free(ix->t[l].start);
		free(ix->t[l].dir);
	}
	free(ix->t);
	free(ix->row);
}

/* The rows of table L in bucket ID: [*lo, return value) of its row array
 * (empty when no row has that id). */
static size_t index_find(const struct index *ix, size_t l, uint64_t id, size_t *lo)
{
	const struct itable *it = ix->t + l;
	uint64_t p = id >> it->dshift;
	size_t a = it->dir[p], b = it->dir[p + 1];
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (it->id[m] < id)
			a = m + 1;
		else
			b = m;
	}
	if (a == it->dir[p + 1] || it->id[a] != id) {
		*lo = 0;
		return 0;
	}
	*lo = it->start[a];
	return it->start[a + 1];
}

/* ---- exact cosine ---- */

/* The kernel embcos uses, so both print the same digits for a pair.  NaN
 * for a zero row: such pairs are never neighbours (as in embcos). */
static double cosine(const float *a, const float *b, size_t n)
{
	return emb_sim_f32(EMB_SIM_COS, a, b, n);
}

/* ---- --candidates ---- */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/*
 * Each pair of rows that share a bucket in any table, once, in the order
 * (first row, second row).  Row by row, not pair by pair: for row i, the
 * later rows of its bucket in each table are gathered, de-duplicated by a
 * stamp per row, sorted and printed.  Memory is O(rows x tables) whatever
 * the number of pairs (10000 identical rows make 5e7 pairs), and the output
 * is the same as sorting all the pairs.
 */
static void run_candidates(const struct cfg *c, const char *path)
{
	struct emb_table *t = emb_table_load(path, &emb_opts, false);
	check_table(t);
	struct emb_lsh *h = new_lsh(c, t->dim);
	struct index ix = build_index(h, t);
	size_t n = ix.rows, L = ix.tables;
	/* bucket[l * n + r]: the bucket (index into start[]) of row r in table l */
	uint32_t *bucket = emb_xmalloc(emb_xmul(emb_xmul(n, L), sizeof *bucket) + 1);
	unsigned long long dropped = 0, dropped_buckets = 0;
	for (size_t l = 0; l < L; l++) {
		const struct itable *it = ix.t + l;
		for (size_t k = 0; k < it->nids; k++) {
			size_t size = it->start[k + 1] - it->start[k];
			for (size_t m = it->start[k]; m < it->start[k + 1]; m++)
				bucket[l * n + ix.row[l * n + m]] = (uint32_t)k;
			if (c->max_bucket && size > c->max_bucket) {
				dropped += (unsigned long long)size * (size - 1) / 2;
				dropped_buckets++;
			}
		}
	}
	uint32_t *stamp = emb_xcalloc(n + 1, sizeof *stamp);
	uint32_t *cand = emb_xmalloc(emb_xmul(n + 1, sizeof *cand));
	for (size_t i = 0; i < n; i++) {
		size_t nc = 0;
		for (size_t l = 0; l < L; l++) {
			const struct itable *it = ix.t + l;
			size_t k = bucket[l * n + i];
			size_t lo = it->start[k], hi = it->start[k + 1];
			if (c->max_bucket && hi - lo > c->max_bucket)
				continue;
			const uint32_t *e = ix.row + l * n;
			for (size_t m = lo; m < hi; m++) {
				uint32_t j = e[m];
				if (j <= i || stamp[j] == i + 1)
					continue;
				stamp[j] = (uint32_t)(i + 1);
				cand[nc++] = j;
			}
		}
		if (nc > 1)
			qsort(cand, nc, sizeof *cand, u32_cmp);
		for (size_t m = 0; m < nc; m++) {
			size_t j = cand[m];
			fputs(t->keys[i], stdout);
			putchar('\t');
			fputs(t->keys[j], stdout);
			if (c->score) {
				char buf[33];
				buf[0] = '\t';
				fwrite(buf, 1, 1 + (size_t)emb_format_g9(buf + 1, cosine(emb_table_row(t, i),
					emb_table_row(t, j), t->dim)), stdout);
			}
			putchar('\n');
			emb_check_stdout();
		}
	}
	if (dropped)
		emb_warn("skipped %llu pairs in %llu buckets of more than %zu rows",
			 dropped, dropped_buckets, c->max_bucket);
	free(cand);
	free(stamp);
	free(bucket);
	free_index(&ix);
	emb_lsh_free(h);
	emb_table_free(t);
}

/* ---- --db: approximate nearest neighbours ---- */

struct hit {
	double score;
	uint32_t row;
};

/* A is a worse neighbour than B: lower cosine, or equal and a later row. */
static inline bool worse(struct hit a, struct hit b)
{
	return a.score < b.score || (a.score == b.score && a.row > b.row);
}

static void sift_down(struct hit *hp, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && worse(hp[c + 1], hp[c]))
			c++;
		if (!worse(hp[c], hp[i]))
			return;
		struct hit t = hp[i];
		hp[i] = hp[c];
		hp[c] = t;
		i = c;
	}
}

/* Keep the K best hits in a min-heap of the worst (HP, *N). */
static void topk_offer(struct hit *hp, size_t *n, size_t k, struct hit h)
{
	if (*n < k) {
		size_t i = (*n)++;
		hp[i] = h;
		while (i > 0 && worse(hp[i], hp[(i - 1) / 2])) {
			struct hit t = hp[i];
			hp[i] = hp[(i - 1) / 2];
			hp[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (worse(hp[0], h)) {
		hp[0] = h;
		sift_down(hp, *n, 0);
	}
}

static int hit_cmp(const void *a, const void *b)
{
	struct hit x = *(const struct hit *)a, y = *(const struct hit *)b;
	return worse(y, x) ? -1 : worse(x, y) ? 1 : 0;
}

struct searcher {
	const struct cfg *c;
	const struct emb_table *db;
	struct emb_lsh *h;
	struct index ix;
	uint32_t *stamp;       /* per DB row: last query (+1) that scored it */
	uint32_t *cand;        /* one query's candidate rows */
	uint64_t *probe_ids;
	struct hit *heap;
	uint64_t queries, scored, short_lists;
};

/* Score candidates in the order they were gathered (the heap's tie rule
 * makes the order irrelevant to the result; sorting them by row cost more
 * than it saved) with a prefetch PREFETCH_ROWS rows ahead: the database is
 * far bigger than the cache, and scoring is bound by fetching rows. */
#define PREFETCH_ROWS 16
static size_t score_candidates(struct searcher *s, const float *q, size_t nc)
{
	size_t nh = 0, dim = s->db->dim;
	for (size_t i = 0; i < nc; i++) {
		if (i + PREFETCH_ROWS < nc) {
			const char *next = (const char *)emb_table_row(s->db, s->cand[i + PREFETCH_ROWS]);
			for (size_t b = 0; b < dim * sizeof(float); b += 64)
				__builtin_prefetch(next + b);
		}
		struct hit ht = {cosine(q, emb_table_row(s->db, s->cand[i]), dim), s->cand[i]};
		if (!isnan(ht.score))
			topk_offer(s->heap, &nh, s->c->topk, ht);
	}
	if (nh > 1)
		qsort(s->heap, nh, sizeof *s->heap, hit_cmp);
	return nh;
}

/* Gather and score one query's candidates; returns the hits in HEAP. */
static size_t search_one(struct searcher *s, const float *q, const float *proj, uint32_t qno)
{
	size_t nc = 0, budget = s->c->max_cand ? s->c->max_cand : SIZE_MAX;
	for (size_t l = 0; l < s->ix.tables && budget; l++) {
		size_t np = emb_lsh_probe(s->h, proj, l, s->c->probes, s->probe_ids);
		for (size_t k = 0; k < np && budget; k++) {
			size_t lo, hi = index_find(&s->ix, l, s->probe_ids[k], &lo);
			const uint32_t *e = s->ix.row + l * s->ix.rows;
			for (size_t m = lo; m < hi && budget; m++) {
				uint32_t r = e[m];
				if (s->stamp[r] == qno)
					continue;
				s->stamp[r] = qno;
				s->cand[nc++] = r;
				budget--;
			}
		}
	}
	s->scored += nc;
	return score_candidates(s, q, nc);
}

static void search_chunk(struct searcher *s, const struct emb_chunk *ch, float *proj)
{
	size_t B = block_rows(s->h);
	for (size_t a = 0; a < ch->rows; a += B) {
		size_t b = ch->rows - a < B ? ch->rows - a : B;
		emb_lsh_project(s->h, emb_row_f32(ch, a), b, proj);
		for (size_t i = 0; i < b; i++) {
			char num[24];
			const char *qkey = ch->keys ? ch->keys[a + i] : num;
			s->queries++;
			if (!ch->keys)
				snprintf(num, sizeof num, "%llu",
					 (unsigned long long)(ch->first_row + a + i));
			size_t nh = search_one(s, emb_row_f32(ch, a + i), proj + i * s->h->ncols,
					       (uint32_t)s->queries);
			s->short_lists += nh < s->c->topk;
			for (size_t k = 0; k < nh; k++) {
				char score[32];
				int len = emb_format_g9(score, s->heap[k].score);
				emb_run_put(s->c->format, s->c->run_tag, qkey,
					    s->db->keys[s->heap[k].row], score, (size_t)len, k + 1);
			}
			emb_check_stdout();
		}
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void report(const struct searcher *s, double t_index, double t_query)
{
	if (s->short_lists)
		emb_warn("%llu of %llu queries had fewer than %zu candidates",
			 (unsigned long long)s->short_lists, (unsigned long long)s->queries,
			 s->c->topk);
	if (!s->c->verbose)
		return;
	double per = s->queries ? (double)s->scored / s->queries : 0;
	emb_warn("indexed %zu rows in %.3f s; %llu queries in %.3f s (%.0f/s); "
		 "%.1f candidates scored per query (%.3f%% of the db)",
		 s->db->rows, t_index, (unsigned long long)s->queries, t_query,
		 t_query > 0 ? s->queries / t_query : 0.0, per,
		 s->db->rows ? 100 * per / s->db->rows : 0.0);
}

/* Move the database rows to memory backed by 2 MB pages where the system
 * offers them (transparent huge pages on request): scoring reads scattered
 * rows, and with 4 KB pages nearly every candidate costs a TLB miss. */
static void huge_rows(struct emb_table *t)
{
#if defined(MADV_HUGEPAGE)
	size_t huge = (size_t)2 << 20, bytes = t->rows * t->dim * sizeof(float);
	if (bytes < 4 * huge)
		return;
	size_t len = (bytes + huge - 1) / huge * huge;
	float *d = aligned_alloc(huge, len);
	if (!d)
		return;
	madvise(d, len, MADV_HUGEPAGE);
	memcpy(d, t->data, bytes);
	free(t->data);
	t->data = d;
#else
	(void)t;
#endif
}

static void run_query(const struct cfg *c)
{
	double t0 = now();
	struct searcher s = {.c = c};
	struct emb_table *db = emb_table_load(c->db, &emb_opts, false);
	check_table(db);
	huge_rows(db);
	s.db = db;
	struct emb_stream *in = emb_open_r(c->query, &emb_opts);
	emb_refuse_codes(in->name, emb_dtype_name(in->dtype));
	in->mtype = EMB_F32;
	size_t qdim = emb_slice_dim(emb_opts.slice, in);
	if (qdim && db->rows && qdim != db->dim)
		emb_die(EMB_EXIT_DATA, "%s: dim %zu differs from the database's %zu",
			in->name, qdim, db->dim);
	s.h = new_lsh(c, db->dim);
	s.ix = build_index(s.h, db);
	s.stamp = emb_xcalloc(db->rows + 1, sizeof *s.stamp);
	s.cand = emb_xmalloc(emb_xmul(db->rows + 1, sizeof *s.cand));
	s.probe_ids = emb_xmalloc(emb_xmul(c->probes, sizeof *s.probe_ids));
	/* no more hits than rows: -k far beyond the database costs nothing */
	s.heap = emb_xmalloc(emb_xmul(c->topk < db->rows ? c->topk : db->rows + 1, sizeof *s.heap));
	float *proj = proj_buffer(s.h);
	double t1 = now();
	struct emb_chunk ch = EMB_CHUNK_INIT;
	while (emb_read_chunk(in, &ch) > 0) {
		emb_slice_chunk(emb_opts.slice, &ch);
		check_chunk(&ch);
		if (!db->rows)
			s.queries += ch.rows, s.short_lists += ch.rows;
		else
			search_chunk(&s, &ch, proj);
	}
	emb_close(in);
	report(&s, t1 - t0, now() - t1);
	emb_chunk_free(&ch);
	free(proj);
	free(s.heap);
	free(s.probe_ids);
	free(s.stamp);
	free(s.cand);
	free_index(&s.ix);
	emb_lsh_free(s.h);
	emb_table_free(db);
}

/* ---- --stats ---- */

struct occupancy {
	size_t used, min, max;
	double entropy;      /* bits */
};

static struct occupancy occupancy(uint64_t *ids, size_t n)
{
	struct occupancy o = {0, n ? SIZE_MAX : 0, 0, 0};
	if (n > 1)
		qsort(ids, n, sizeof *ids, u64_cmp);
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && ids[b] == ids[a]; b++)
			;
		size_t k = b - a;
		double pk = (double)k / n;
		o.used++;
		o.min = k < o.min ? k : o.min;
		o.max = k > o.max ? k : o.max;
		o.entropy -= pk * log2(pk);
	}
	return o;
}

static void print_stats(const struct cfg *c, const struct emb_lsh *h, size_t l, size_t n,
			struct occupancy o)
{
	double mean = o.used ? (double)n / o.used : 0;
	/* Exact integers: radix^digits reaches 2^64, where a double has no
	 * room for "- used"; a long double's 64-bit (or longer) significand
	 * holds every integer up to 2^64. */
	long double nb = 1;
	for (size_t i = 0; i < h->digits; i++)
		nb *= h->radix;
	long double empty = nb - (long double)o.used;
	if (c->json)
		printf("%s{\"table\": %zu, \"rows\": %zu, \"buckets\": %.0Lf, \"used\": %zu, "
		       "\"empty\": %.0Lf, \"min\": %zu, \"mean\": %.6g, \"max\": %zu, "
		       "\"entropy\": %.6g, \"max_entropy\": %.6g}",
		       l ? ",\n  " : "", l + 1, n, nb, o.used, empty, o.min, mean,
		       o.max, o.entropy, log2(h->nbuckets));
	else
		printf("%zu\t%zu\t%.0Lf\t%zu\t%.0Lf\t%zu\t%.6g\t%zu\t%.6g\t%.6g\n", l + 1, n,
		       nb, o.used, empty, o.min, mean, o.max, o.entropy,
		       log2(h->nbuckets));
}

static void run_stats(const struct cfg *c, const char *path)
{
	struct emb_table *t = emb_table_load(path, &emb_opts, false);
	check_table(t);
	struct emb_lsh *h = new_lsh(c, t->dim);
	size_t L = c->p.tables, n = t->rows;
	uint64_t *ids = emb_xmalloc(emb_xmul(emb_xmul(n, L), sizeof *ids) + 1);
	uint64_t *col = emb_xmalloc(emb_xmul(n, sizeof *col) + 1);
	float *proj = proj_buffer(h);
	hash_rows(h, t->data, n, proj, ids);
	if (c->json)
		printf("{\"scheme\": \"%s\", \"dim\": %zu, \"rows\": %zu, \"tables\": [\n  ",
		       emb_lsh_scheme_name(c->p.scheme), t->dim, n);
	else
		puts("table\trows\tbuckets\tused\tempty\tmin\tmean\tmax\tentropy\tmax_entropy");
	for (size_t l = 0; l < L; l++) {
		for (size_t r = 0; r < n; r++)
			col[r] = ids[r * L + l];
		print_stats(c, h, l, n, occupancy(col, n));
	}
	if (c->json)
		puts("\n]}");
	free(proj);
	free(col);
	free(ids);
	emb_lsh_free(h);
	emb_table_free(t);
}

int main(int argc, char **argv)
{
	struct cfg c = {.p = {EMB_LSH_ROTATION, 1, 1, 0, 0, 0, 1}, .topk = 10, .probes = 1,
			.run_tag = EMB_RUN_TAG_DEFAULT};
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	const char *file = parse_args(&c, argc, argv);
	switch (c.mode) {
	case MODE_HASH: run_hash(&c, file); break;
	case MODE_CANDIDATES: run_candidates(&c, file); break;
	case MODE_QUERY: run_query(&c); break;
	case MODE_STATS: run_stats(&c, file); break;
	}
	emb_slice_report(&emb_slice);
	return EMB_EXIT_OK;
}
