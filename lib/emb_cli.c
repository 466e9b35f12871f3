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

/* What emb_shared_options() declared, and what the command line gave. */
static unsigned shared_honoured;
static const char *shared_typed[16];   /* by bit number: the option as typed */

/* The help lines of the shared options, by EMB_SH_* bit.  --keys and
 * --no-keys share a line when both are shown. */
static const struct {
	unsigned bit;
	const char *text;
} shared_help[] = {
	{EMB_SH_INPUT_FORMAT,
	 "  -I, --input-format=FMT   read FMT instead of sniffing it (see emb(5)):\n"
	 "                           emb, tsv, npy, w2v (word2vec text), w2vbin\n"
	 "                           (word2vec binary), glove, vec (fastText, = w2v),\n"
	 "                           fvecs, bvecs, ivecs, jsonl (JSON Lines), json\n"
	 "                           (one JSON document), fbin, u8bin, i8bin, ibin\n"
	 "                           (big-ann-benchmarks), safetensors, faiss (flat\n"
	 "                           index), hdf5\n"},
	{EMB_SH_OUTPUT_FORMAT,
	 "  -O, --output-format=FMT  write FMT, one of the names -I takes\n"},
	{EMB_SH_DTYPE,
	 "      --dtype=TYPE         binary output values: f32, f64, f16, i8, u8, bit\n"
	 "                           (default: the input's, else f32)\n"},
	{EMB_SH_KEYS | EMB_SH_NO_KEYS,
	 "      --keys, --no-keys    TSV input: the first column is (not) a key;\n"
	 "                           default: a key if the first row's first field\n"
	 "                           is not a number\n"},
	{EMB_SH_KEYS,
	 "      --keys               TSV input: the first column is a key\n"},
	{EMB_SH_NO_KEYS,
	 "      --no-keys            TSV input: the first column is not a key\n"},
	{EMB_SH_VECTOR_FIELD,
	 "      --vector-field=NAME  JSON: the member holding the vector\n"
	 "                           (default: embedding)\n"},
	{EMB_SH_KEY_FIELD,
	 "      --key-field=NAME     JSON: the member holding the key (default: id)\n"},
	{EMB_SH_STRICT,
	 "      --strict             OpenAI Batch output: a failed request is an error\n"
	 "                           (default: count them on stderr)\n"},
	{EMB_SH_TENSOR,
	 "      --tensor=NAME        safetensors input: the tensor to read (default:\n"
	 "                           the only 2-D one)\n"},
	{EMB_SH_DATASET,
	 "      --dataset=NAME       HDF5 input: the dataset to read: train (default),\n"
	 "                           test, neighbors or distances\n"},
	{EMB_SH_PROGRESS,
	 "      --progress           show rows, bytes and rate on stderr\n"},
};

static const char *const format_names[] = {
	[EMB_FMT_AUTO] = "auto", [EMB_FMT_EMB] = "emb", [EMB_FMT_TSV] = "tsv",
	[EMB_FMT_NPY] = "npy", [EMB_FMT_W2V] = "w2v", [EMB_FMT_W2VBIN] = "w2vbin",
	[EMB_FMT_GLOVE] = "glove", [EMB_FMT_VEC] = "vec", [EMB_FMT_FVECS] = "fvecs",
	[EMB_FMT_BVECS] = "bvecs", [EMB_FMT_IVECS] = "ivecs", [EMB_FMT_JSONL] = "jsonl",
	[EMB_FMT_JSON] = "json",
	/* issue 13: binary dumps */
	[EMB_FMT_FBIN] = "fbin", [EMB_FMT_U8BIN] = "u8bin", [EMB_FMT_I8BIN] = "i8bin",
	[EMB_FMT_IBIN] = "ibin", [EMB_FMT_SAFETENSORS] = "safetensors",
	[EMB_FMT_FAISS] = "faiss", [EMB_FMT_HDF5] = "hdf5",
};
_Static_assert(sizeof format_names / sizeof *format_names == EMB_FMT_COUNT,
	       "a format without a name");

static const char *const dtype_names[] = {
	[EMB_F32] = "f32", [EMB_F64] = "f64", [EMB_F16] = "f16",
	[EMB_I8] = "i8", [EMB_U8] = "u8", [EMB_BIT] = "bit",
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
	return t == EMB_F64 ? 8 : t == EMB_F16 ? 2 : emb_dtype_is_code(t) ? 1 : 4;
}

size_t emb_row_bytes(enum emb_dtype t, size_t dim)
{
	return t == EMB_BIT ? dim / 8 + (dim % 8 != 0) : emb_xmul(dim, emb_dtype_size(t));
}

const char *emb_format_list(void)
{
	return "emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl, json, "
	       "fbin, u8bin, i8bin, ibin, safetensors, faiss, hdf5";
}

void emb_shared_options(unsigned honoured)
{
	shared_honoured = honoured;
}

void emb_shared_help(unsigned which)
{
	const unsigned both = EMB_SH_KEYS | EMB_SH_NO_KEYS;
	for (size_t i = 0; i < sizeof shared_help / sizeof *shared_help; i++) {
		unsigned b = shared_help[i].bit;
		/* the keys lines: the shared one, or the one of the pair shown */
		if (b == both ? (which & both) != both
			      : !(which & b) || ((b & both) && (which & both) == both))
			continue;
		fputs(shared_help[i].text, stdout);
	}
	fputs("  -h, --help               display this help and exit\n"
	      "  -V, --version            output version information and exit\n", stdout);
}

static unsigned bit_number(unsigned bit)
{
	unsigned n = 0;
	while (bit > 1u) {
		bit >>= 1;
		n++;
	}
	return n;
}

const char *emb_shared_given(unsigned which)
{
	for (unsigned n = 0; n < sizeof shared_typed / sizeof *shared_typed; n++)
		if ((which & (1u << n)) && shared_typed[n])
			return shared_typed[n];
	return NULL;
}

void emb_shared_only_for(unsigned which, const char *mode)
{
	const char *o = emb_shared_given(which);
	if (o)
		emb_usage_error("option '%s' is only for %s", o, mode);
}

/* Record shared option BIT, typed as NAME; reject it unless honoured. */
static void shared_seen(unsigned bit, const char *name)
{
	if (!(shared_honoured & bit))
		emb_usage_error("option '%s' does not apply to %s", name, emb_progname);
	shared_typed[bit_number(bit)] = name;
}

bool emb_common_option(int opt, const char *arg, void (*usage)(int))
{
	int v;
	switch (opt) {
	case 'I':
	case EMB_OPT_INPUT_FORMAT:
	case 'O':
	case EMB_OPT_OUTPUT_FORMAT: {
		bool in = opt == 'I' || opt == EMB_OPT_INPUT_FORMAT;
		shared_seen(in ? EMB_SH_INPUT_FORMAT : EMB_SH_OUTPUT_FORMAT,
			    opt == 'I' ? "-I" : opt == 'O' ? "-O"
			    : in ? "--input-format" : "--output-format");
		v = emb_format_parse(arg);
		if (v < 0)
			emb_usage_error("unknown format '%s' (known: %s)", arg, emb_format_list());
		if (in)
			emb_opts.in_format = (enum emb_format)v;
		else
			emb_opts.out_format = (enum emb_format)v;
		return true;
	}
	case EMB_OPT_DTYPE:
		shared_seen(EMB_SH_DTYPE, "--dtype");
		v = emb_dtype_parse(arg);
		if (v < 0)
			emb_usage_error("unknown dtype '%s' (known: f32, f64, f16, i8, u8, bit)", arg);
		emb_opts.out_dtype = v;
		return true;
	case EMB_OPT_KEYS:
		shared_seen(EMB_SH_KEYS, "--keys");
		emb_opts.keys = EMB_YES;
		return true;
	case EMB_OPT_NO_KEYS:
		shared_seen(EMB_SH_NO_KEYS, "--no-keys");
		emb_opts.keys = EMB_NO;
		return true;
	case EMB_OPT_VECTOR_FIELD:
		shared_seen(EMB_SH_VECTOR_FIELD, "--vector-field");
		emb_opts.vector_field = arg;
		return true;
	case EMB_OPT_KEY_FIELD:
		shared_seen(EMB_SH_KEY_FIELD, "--key-field");
		emb_opts.key_field = arg;
		return true;
	case EMB_OPT_STRICT:
		shared_seen(EMB_SH_STRICT, "--strict");
		emb_opts.strict = true;
		return true;
	case EMB_OPT_TENSOR:
		shared_seen(EMB_SH_TENSOR, "--tensor");
		if (!*arg)
			emb_usage_error("--tensor needs a tensor name");
		emb_opts.tensor = arg;
		return true;
	case EMB_OPT_DATASET:
		shared_seen(EMB_SH_DATASET, "--dataset");
		if (!*arg)
			emb_usage_error("--dataset needs a dataset name");
		emb_opts.dataset = arg;
		return true;
	case EMB_OPT_PROGRESS:
		shared_seen(EMB_SH_PROGRESS, "--progress");
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

/* Length of the decimal number syntax at P: [+-]digits, and when REAL
 * also [.digits][(e|E)[+-]digits] (at least one digit before or after the
 * point); 0 if there is none. */
static size_t decimal_span(const char *p, bool real)
{
	size_t i = 0, digits = 0;
	if (p[i] == '+' || p[i] == '-')
		i++;
	while (p[i] >= '0' && p[i] <= '9')
		i++, digits++;
	if (real && p[i] == '.') {
		i++;
		while (p[i] >= '0' && p[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (real && (p[i] == 'e' || p[i] == 'E')) {
		size_t j = i + 1;
		if (p[j] == '+' || p[j] == '-')
			j++;
		if (!(p[j] >= '0' && p[j] <= '9'))
			return 0;
		while (p[j] >= '0' && p[j] <= '9')
			j++;
		i = j;
	}
	return i;
}

bool emb_parse_ll(const char *s, long long *v)
{
	size_t n = decimal_span(s, false);
	if (n == 0 || s[n] != '\0')
		return false;
	errno = 0;
	long long x = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		return false;
	*v = x;
	return true;
}

bool emb_parse_slice(const char *s, long long *a, long long *b)
{
	char buf[64];
	const char *colon = strchr(s, ':');
	size_t alen = colon ? (size_t)(colon - s) : 0;
	long long x = 0, y = -1;
	if (!colon || alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if ((alen && (!emb_parse_ll(buf, &x) || x < 0)) ||
	    (colon[1] && (!emb_parse_ll(colon + 1, &y) || y < 0)))
		return false;
	*a = x;
	*b = y;
	return true;
}

int emb_parse_name(const char *opt, const char *arg, const char *const names[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return (int)i;
	char list[128] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
			 i ? ", " : "", names[i]);
	emb_usage_error("unknown %s '%s' (known: %s)", opt, arg, list);
}

long long emb_parse_int(const char *opt, const char *arg, long long min, long long max)
{
	size_t n = decimal_span(arg, false);
	if (n == 0 || arg[n] != '\0')
		emb_usage_error("invalid number for %s: '%s'", opt, arg);
	long long v;
	if (!emb_parse_ll(arg, &v))
		emb_usage_error("%s must be between %lld and %lld, not %s", opt, min, max, arg);
	if (v < min || v > max)
		emb_usage_error("%s must be between %lld and %lld, not %lld", opt, min, max, v);
	return v;
}

double emb_parse_double(const char *opt, const char *arg)
{
	size_t n = decimal_span(arg, true);
	if (n == 0 || arg[n] != '\0')
		emb_usage_error("invalid number for %s: '%s'", opt, arg);
	errno = 0;
	double v = strtod(arg, NULL);
	/* An underflow rounds towards 0, as in data; an overflow is refused. */
	if (!isfinite(v))
		emb_usage_error("number out of range for %s: '%s'", opt, arg);
	return v;
}
