/*
 * embinfo - describe vector streams as JSON: rows, dim, dtype, keys,
 * chunks, history (how the file was made) and row-norm statistics.
 */
#include <config.h>
#include "emb.h"

#include <cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embinfo honours: those of reading; it writes
 * JSON, never vectors. */
#define SHARED EMB_SH_READ

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]...\n", emb_progname);
	fputs("Describe each vector stream FILE as one JSON object: format, rows, dim,\n"
	      "dtype, keys, chunks, history and the min/mean/max L2 norm of its rows.\n"
	      "With no FILE, or when FILE is -, read standard input.\n"
	      "\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExample:\n"
	      "  embinfo vectors.emb | jq .history\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{NULL, 0, NULL, 0},
};

static cJSON *add_number(cJSON *obj, const char *name, double v)
{
	/* cJSON prints nan as null, which is what JSON readers expect. */
	return cJSON_AddNumberToObject(obj, name, v);
}

static void describe(const char *path)
{
	struct emb_stream *in = emb_open_r(path, &emb_opts);
	struct emb_chunk c = EMB_CHUNK_INIT;
	double nmin = INFINITY, nmax = -INFINITY, nsum = 0;
	uint64_t nonfinite = 0;

	in->mtype = EMB_F64;
	while (emb_read_chunk(in, &c) > 0) {
		for (size_t i = 0; i < c.rows; i++) {
			const double *r = emb_row_f64(&c, i);
			double ss = 0, big = 0;
			for (size_t j = 0; j < c.dim; j++) {
				ss += r[j] * r[j];
				big = fabs(r[j]) > big || isnan(r[j]) ? fabs(r[j]) : big;
			}
			/* Rows holding NaN or inf are counted, not measured:
			 * min, mean and max are over the finite rows. */
			if (!isfinite(big)) {
				nonfinite++;
				continue;
			}
			/* Finite values whose squares overflow (f64 near
			 * 1e200): scale by the largest first. */
			double n = sqrt(ss);
			if (!isfinite(ss)) {
				ss = 0;
				for (size_t j = 0; j < c.dim; j++)
					ss += (r[j] / big) * (r[j] / big);
				n = big * sqrt(ss);
			}
			nmin = n < nmin ? n : nmin;
			nmax = n > nmax ? n : nmax;
			nsum += n;
		}
	}
	uint64_t finite = in->recno - nonfinite;

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", in->name);
	cJSON_AddStringToObject(o, "format", emb_format_name(in->format));
	add_number(o, "rows", (double)in->recno);
	add_number(o, "dim", (double)in->dim);
	cJSON_AddStringToObject(o, "dtype", emb_dtype_name(in->dtype));
	cJSON_AddBoolToObject(o, "keys", in->has_keys);
	add_number(o, "chunks", (double)in->chunks);
	add_number(o, "nonfinite_rows", (double)nonfinite);
	cJSON *norm = cJSON_AddObjectToObject(o, "norm");
	add_number(norm, "min", finite ? nmin : NAN);
	add_number(norm, "mean", finite ? nsum / (double)finite : NAN);
	add_number(norm, "max", finite ? nmax : NAN);
	cJSON *hist = cJSON_GetObjectItemCaseSensitive(in->meta, "history");
	cJSON_AddItemToObject(o, "history", hist ? cJSON_Duplicate(hist, true) : cJSON_CreateArray());
	/* Everything else the header carries (model parameters, sources...). */
	cJSON *meta = cJSON_CreateObject();
	for (cJSON *m = in->meta ? in->meta->child : NULL; m; m = m->next)
		if (strcmp(m->string, "dim") && strcmp(m->string, "dtype") &&
		    strcmp(m->string, "keys") && strcmp(m->string, "history"))
			cJSON_AddItemToObject(meta, m->string, cJSON_Duplicate(m, true));
	cJSON_AddItemToObject(o, "meta", meta);

	char *text = cJSON_Print(o);
	if (!text)
		emb_die(EMB_EXIT_DATA, "out of memory");
	puts(text);
	free(text);
	cJSON_Delete(o);
	emb_close(in);
	emb_chunk_free(&c);
}

int main(int argc, char **argv)
{
	int opt;
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1)
		if (!emb_common_option(opt, optarg, usage))
			usage(EMB_EXIT_USAGE);
	if (optind == argc)
		describe("-");
	for (int i = optind; i < argc; i++)
		describe(argv[i]);
	return EMB_EXIT_OK;
}
