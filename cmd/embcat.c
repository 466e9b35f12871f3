/*
 * embcat - concatenate vector streams and convert between formats.
 */
#include <config.h>
#include "emb.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]...\n", emb_progname);
	fputs("Concatenate vector streams (binary emb or TSV) to standard output,\n"
	      "converting them to one format.  With no FILE, or when FILE is -,\n"
	      "read standard input.  All inputs must have the same dim and agree on keys.\n"
	      "\n"
	      "      --shard=K/N          write only chunks K, K+N, K+2N, ... (0 <= K < N),\n"
	      "                           counting input chunks from 0: split a stream\n"
	      "                           at chunk boundaries for N parallel jobs\n", stdout);
	fputs(emb_common_help, stdout);
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

int main(int argc, char **argv)
{
	unsigned long long shard_k = 0, shard_n = 1;
	int opt;

	emb_proginit(argc, argv);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		if (opt == EMB_OPT_FIRST_PROGRAM) {
			char tail;
			if (sscanf(optarg, "%llu/%llu%c", &shard_k, &shard_n, &tail) != 2 ||
			    shard_n == 0 || shard_k >= shard_n)
				emb_usage_error("--shard wants K/N with 0 <= K < N, not '%s'", optarg);
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
