/*
 * emb_cli.c - options shared by every program, and the name tables for
 * formats and dtypes (datamash op-defs style: enum + name table).
 */
#include <config.h>
#include "emb.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct emb_opts emb_opts = {
	.in_format = EMB_FMT_AUTO,
	.out_format = EMB_FMT_AUTO,
	.out_dtype = -1,
	.keys = EMB_DETECT,
	.progress = false,
	.vector_field = "embedding",
	.key_field = "id",
};

const char emb_common_help[] =
"  -I, --input-format=FMT   read FMT instead of sniffing it (see emb(5)):\n"
"                           emb, tsv, npy, w2v (word2vec text), w2vbin\n"
"                           (word2vec binary), glove, vec (fastText, = w2v),\n"
"                           fvecs, bvecs, ivecs, jsonl (JSON Lines)\n"
"  -O, --output-format=FMT  write FMT (default: the input's format)\n"
"      --dtype=TYPE         binary output values: f32 (default), f64, f16\n"
"      --keys, --no-keys    TSV input: the first column is (not) a key;\n"
"                           default: a key if the first row's first field\n"
"                           is not a number\n"
"      --vector-field=NAME  JSON Lines: the member holding the vector\n"
"                           (default: embedding)\n"
"      --key-field=NAME     JSON Lines: the member holding the key (default: id)\n"
"      --progress           show rows, bytes and rate on stderr\n"
"  -h, --help               display this help and exit\n"
"  -V, --version            output version information and exit\n";

static const char *const format_names[] = {
	[EMB_FMT_AUTO] = "auto", [EMB_FMT_EMB] = "emb", [EMB_FMT_TSV] = "tsv",
	[EMB_FMT_NPY] = "npy", [EMB_FMT_W2V] = "w2v", [EMB_FMT_W2VBIN] = "w2vbin",
	[EMB_FMT_GLOVE] = "glove", [EMB_FMT_VEC] = "vec", [EMB_FMT_FVECS] = "fvecs",
	[EMB_FMT_BVECS] = "bvecs", [EMB_FMT_IVECS] = "ivecs", [EMB_FMT_JSONL] = "jsonl",
};
_Static_assert(sizeof format_names / sizeof *format_names == EMB_FMT_COUNT,
	       "a format without a name");

static const char *const dtype_names[] = {
	[EMB_F32] = "f32", [EMB_F64] = "f64", [EMB_F16] = "f16",
};

const char *emb_format_name(enum emb_format f)
{
	return f < sizeof format_names / sizeof *format_names ? format_names[f] : "?";
}

int emb_format_parse(const char *name)
{
	for (size_t i = 1; i < sizeof format_names / sizeof *format_names; i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *emb_dtype_name(enum emb_dtype t)
{
	return t < sizeof dtype_names / sizeof *dtype_names ? dtype_names[t] : "?";
}

int emb_dtype_parse(const char *name)
{
	for (size_t i = 0; i < sizeof dtype_names / sizeof *dtype_names; i++)
		if (strcmp(name, dtype_names[i]) == 0)
			return (int)i;
	return -1;
}

size_t emb_dtype_size(enum emb_dtype t)
{
	return t == EMB_F64 ? 8 : t == EMB_F16 ? 2 : 4;
}

const char *emb_format_list(void)
{
	return "emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl";
}

bool emb_common_option(int opt, const char *arg, void (*usage)(int))
{
	int v;
	switch (opt) {
	case 'I':
	case 'O':
		v = emb_format_parse(arg);
		if (v < 0)
			emb_usage_error("unknown format '%s' (known: %s)", arg, emb_format_list());
		if (opt == 'I')
			emb_opts.in_format = (enum emb_format)v;
		else
			emb_opts.out_format = (enum emb_format)v;
		return true;
	case EMB_OPT_DTYPE:
		v = emb_dtype_parse(arg);
		if (v < 0)
			emb_usage_error("unknown dtype '%s' (known: f32, f64, f16)", arg);
		emb_opts.out_dtype = v;
		return true;
	case EMB_OPT_KEYS:
		emb_opts.keys = EMB_YES;
		return true;
	case EMB_OPT_NO_KEYS:
		emb_opts.keys = EMB_NO;
		return true;
	case EMB_OPT_VECTOR_FIELD:
		emb_opts.vector_field = arg;
		return true;
	case EMB_OPT_KEY_FIELD:
		emb_opts.key_field = arg;
		return true;
	case EMB_OPT_PROGRESS:
		emb_opts.progress = true;
		return true;
	case 'h':
		usage(EMB_EXIT_OK);
		return true;
	case 'V':
		emb_version();
	case '?':
		usage(EMB_EXIT_USAGE);
		return true;
	default:
		return false;
	}
}

long long emb_parse_int(const char *opt, const char *arg, long long min, long long max)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0' || errno == ERANGE)
		emb_usage_error("invalid number for %s: '%s'", opt, arg);
	if (v < min || v > max)
		emb_usage_error("%s must be between %lld and %lld, not %lld", opt, min, max, v);
	return v;
}

double emb_parse_double(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno == ERANGE || !isfinite(v))
		emb_usage_error("invalid number for %s: '%s'", opt, arg);
	return v;
}
