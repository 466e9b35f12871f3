/*
 * embcat - concatenate vector streams and convert between formats.
 */
#include <config.h>
#include "emb.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embcat honours: all of them. */
#define SHARED EMB_SH_ALL

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
	      "                           split a stream at chunk boundaries for N jobs\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embcat -O emb vectors.tsv > vectors.emb\n"
	      "  embcat a.emb b.emb | embcat -O tsv | head\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"shard", required_argument, NULL, EMB_OPT_FIRST_PROGRAM},
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

int main(int argc, char **argv)
{
	unsigned long long shard_k = 0, shard_n = 1;
	int opt;

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		if (opt == EMB_OPT_FIRST_PROGRAM) {
			parse_shard(optarg, &shard_k, &shard_n);
		} else {
			usage(EMB_EXIT_USAGE);
		}
	}

	int nfiles = argc - optind;
	char *stdin_only[] = {"-"};
	char **files = nfiles > 0 ? argv + optind : stdin_only;
	if (nfiles <= 0)
		nfiles = 1;

	struct emb_stream *out = NULL;
	struct emb_chunk c = EMB_CHUNK_INIT;
	uint64_t chunkno = 0;
	for (int f = 0; f < nfiles; f++) {
		struct emb_stream *in = emb_open_r(files[f], &emb_opts);
		if (!out) {
			out = emb_open_w_like(in, &emb_opts);
		} else if (in->dim != 0) {
			if (out->dim == 0) {
				out->dim = in->dim;
				out->has_keys = in->has_keys;
			} else if (in->dim != out->dim) {
				emb_die(EMB_EXIT_DATA, "%s: dim %zu differs from the first input's %zu",
					in->name, in->dim, out->dim);
			} else if (in->has_keys != out->has_keys) {
				emb_die(EMB_EXIT_DATA, "%s: %s", in->name, in->has_keys
					? "has keys but the first input has none"
					: "has no keys but the first input has");
			}
		}
		/* Keep f64 values exact when either side is f64. */
		in->mtype = (in->dtype == EMB_F64 || out->dtype == EMB_F64) ? EMB_F64 : EMB_F32;
		while (emb_read_chunk(in, &c) > 0)
			if (chunkno++ % shard_n == shard_k)
				emb_write_chunk(out, &c);
		emb_close(in);
	}
	emb_close(out);
	emb_chunk_free(&c);
	return EMB_EXIT_OK;
}
