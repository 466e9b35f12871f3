/*
 * embcat - concatenate vector streams and convert between formats.
 */
#include <config.h>
#include "emb.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embcat honours: all of them. */
#define SHARED (EMB_SH_ALL | EMB_SH_STRICT)

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]...\n", emb_progname);
	fputs("Concatenate vector streams, in any of the formats of emb(5), to standard\n"
	      "output in one format: -O's, else the first input's.  With no FILE, or\n"
	      "when FILE is -, read standard input.  All inputs must have the same dim\n"
	      "and agree on keys.\n"
	      "\n"
	      "      --shard=K/N          write only chunks K, K+N, K+2N, ... (0 <= K < N,\n"
	      "                           N at most 1000000), counting input chunks from 0:\n"
	      "                           split a stream at chunk boundaries for N jobs;\n"
	      "                           a binary file's other chunks are not read\n"
	      "      --rows=A:B           write only the rows after the first A, up to row\n"
	      "                           B (B - A rows, as Python's [A:B]); A: and :B leave\n"
	      "                           an end open.  Rows are counted over all inputs;\n"
	      "                           chunks before A are not read, nor rows after B\n"
	      "Keyless rows keep their row numbers (emb(5)) in binary output.\n", stdout);
	emb_slice_help();
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embcat -O emb vectors.tsv > vectors.emb\n"
	      "  embcat a.emb b.emb | embcat -O tsv | head\n"
	      "  embcat --rows=1000:2000 big.emb > part.emb\n"
	      "  embcat --dims=:256 --normalize vectors.emb > small.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

enum { OPT_SHARD = EMB_OPT_FIRST_PROGRAM, OPT_ROWS };

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"shard", required_argument, NULL, OPT_SHARD},
	{"rows", required_argument, NULL, OPT_ROWS},
	EMB_SLICE_LONGOPTS,
	{NULL, 0, NULL, 0},
};

/* --shard=K/N: two whole decimal numbers, 0 <= K < N <= SHARD_MAX. */
#define SHARD_MAX 1000000
static void parse_shard(const char *arg, unsigned long long *k, unsigned long long *n)
{
	char buf[64];
	const char *slash = strchr(arg, '/');
	long long kk, nn;
	size_t klen = slash ? (size_t)(slash - arg) : 0;
	if (!slash || klen >= sizeof buf)
		goto bad;
	memcpy(buf, arg, klen);
	buf[klen] = '\0';
	if (!emb_parse_ll(buf, &kk) || !emb_parse_ll(slash + 1, &nn) ||
	    kk < 0 || nn <= kk || nn > SHARD_MAX)
		goto bad;
	*k = (unsigned long long)kk;
	*n = (unsigned long long)nn;
	return;
bad:
	emb_usage_error("--shard wants K/N with 0 <= K < N <= %d, not '%s'", SHARD_MAX, arg);
}

/* --rows=A:B, A: or :B (or :): whole decimal numbers, 0 <= A <= B; an
 * open end is 0 or "no end" (UINT64_MAX). */
static void parse_rows(const char *arg, uint64_t *a, uint64_t *b)
{
	long long aa, bb;
	if (emb_parse_slice(arg, &aa, &bb) && (bb < 0 || bb >= aa)) {
		*a = (uint64_t)aa;
		*b = bb < 0 ? UINT64_MAX : (uint64_t)bb;
		return;
	}
	emb_usage_error("--rows wants A:B, A: or :B with whole numbers 0 <= A <= B, not '%s'", arg);
}

/* Write N rows of C from row LO on, numbered from FIRST. */
static void write_part(struct emb_stream *out, const struct emb_chunk *c, size_t lo, size_t n,
		       uint64_t first)
{
	struct emb_chunk v = *c; /* a view: shares C's buffers, never freed */
	v.rows = n;
	v.data = (char *)c->data + lo * c->dim * emb_dtype_size(c->type);
	v.keys = c->keys ? c->keys + lo : NULL;
	v.pos = c->npos ? c->pos + lo : NULL;
	v.npos = c->npos ? n : 0;
	v.pos0 = c->pos0 + lo * c->pos_step;
	v.first_row = first;
	v.numbered = true;
	emb_write_chunk(out, &v);
}

int main(int argc, char **argv)
{
	unsigned long long shard_k = 0, shard_n = 1;
	uint64_t row_a = 0, row_b = UINT64_MAX;
	bool shard = false, rows = false;
	int opt;

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage) || emb_slice_option(opt, optarg))
			continue;
		if (opt == OPT_SHARD) {
			parse_shard(optarg, &shard_k, &shard_n);
			shard = true;
		} else if (opt == OPT_ROWS) {
			parse_rows(optarg, &row_a, &row_b);
			rows = true;
		} else {
			usage(EMB_EXIT_USAGE);
		}
	}
	if (shard && rows)
		emb_usage_error("options --shard and --rows cannot be used together");

	int nfiles = argc - optind;
	char *stdin_only[] = {"-"};
	char **files = nfiles > 0 ? argv + optind : stdin_only;
	if (nfiles <= 0)
		nfiles = 1;

	struct emb_stream *out = NULL;
	struct emb_chunk c = EMB_CHUNK_INIT;
	uint64_t chunkno = 0;
	uint64_t pos = 0;  /* --rows: rows of the input before the next chunk */
	uint64_t last = 0; /* number of the last row of the inputs before this one */
	/* The first input is opened even for an empty range (--rows=0:0): its
	 * header makes the output a stream of 0 rows, not no output at all. */
	for (int f = 0; f < nfiles && (f == 0 || pos < row_b); f++) {
		struct emb_stream *in = emb_open_r(files[f], &emb_opts);
		size_t dim = emb_slice_dim(emb_opts.slice, in);  /* as written */
		if (!out) {
			out = emb_open_w_like(in, &emb_opts);
			if (emb_opts.out_dtype < 0) /* a copy keeps codes codes */
				out->dtype = in->dtype;
			out->dim = dim;
		} else if (in->dim != 0) {
			if (out->dim == 0) {
				out->dim = dim;
				out->has_keys = in->has_keys;
			} else if (dim != out->dim) {
				emb_die(EMB_EXIT_DATA, "%s: dim %zu differs from the first input's %zu",
					in->name, dim, out->dim);
			} else if (in->has_keys != out->has_keys) {
				emb_die(EMB_EXIT_DATA, "%s: %s", in->name, in->has_keys
					? "has keys but the first input has none"
					: "has no keys but the first input has");
			}
		}
		/* Keep f64 values exact when either side is f64. */
		in->mtype = (in->dtype == EMB_F64 || out->dtype == EMB_F64) ? EMB_F64 : EMB_F32;
		/* Rows this input does not number itself go on from the inputs
		 * before it, as the output of embcat without --shard or --rows
		 * numbers them (emb.5, "Row numbers"). */
		uint64_t base = last;
		for (;;) {
			size_t n;
			uint64_t next;
			if (shard) {
				bool mine = chunkno % shard_n == shard_k;
				n = mine ? emb_read_chunk(in, &c) : emb_skip_chunk(in, &c);
				if (n == 0)
					break;
				if (mine)
					emb_slice_chunk(emb_opts.slice, &c);
				chunkno++;
				if (mine)
					write_part(out, &c, 0, n, c.numbered ? c.first_row : base + c.first_row);
			} else if (rows) {
				if (pos >= row_b)
					break;
				if (pos < row_a && emb_peek_chunk(in, &next) && next > 0 &&
				    next <= row_a - pos) {
					pos += emb_skip_chunk(in, &c);
					continue;
				}
				n = emb_read_chunk(in, &c);
				if (n == 0)
					break;
				emb_slice_chunk(emb_opts.slice, &c);
				size_t lo = row_a > pos ? (size_t)(row_a - pos) : 0;
				size_t hi = row_b - pos < n ? (size_t)(row_b - pos) : n;
				if (lo < hi)
					write_part(out, &c, lo, hi - lo, (c.numbered ? c.first_row :
						   base + c.first_row) + lo);
				pos += n;
			} else {
				if (emb_read_chunk(in, &c) == 0)
					break;
				emb_slice_chunk(emb_opts.slice, &c);
				emb_write_chunk(out, &c);
			}
		}
		last = (in->row_pinned ? 0 : base) + in->row_next - 1;
		emb_close(in);
	}
	emb_close(out);
	emb_chunk_free(&c);
	emb_slice_report(&emb_slice);
	return EMB_EXIT_OK;
}
