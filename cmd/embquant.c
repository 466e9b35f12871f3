/*
 * embquant - int8, uint8 and binary quantization of a vector stream, as
 * sentence-transformers' quantize_embeddings() computes it, with the
 * calibration ranges fitted once and applied anywhere.
 */
#include <config.h>
#include "emb.h"
#include "emb_linalg.h"
#include "emb_moments.h"
#include "emb_quant.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The shared options embquant honours: not --dtype (the codes fix it). */
#define SHARED (EMB_SH_READ | EMB_SH_OUTPUT_FORMAT | EMB_SH_PROGRESS)

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s MODE [OPTION]... [FILE]\n", emb_progname);
	fputs("Quantize a vector stream as sentence-transformers' quantize_embeddings()\n"
	      "does, bit for bit: int8/uint8 codes over per-dimension min/max ranges\n"
	      "(steps = (max - min)/255, code = (x - min)/steps [- 128], toward zero),\n"
	      "or signs (x > 0) packed 8 to a byte.  int8/uint8 without --load read the\n"
	      "input twice (standard input is spilled to a temporary file in $TMPDIR).\n"
	      "With no FILE, or when FILE is -, read standard input.\n"
	      "\n"
	      "Modes (one):\n"
	      "      --int8               int8 codes -128..127 (dtype i8)\n"
	      "      --uint8              uint8 codes 0..255 (dtype u8)\n"
	      "      --binary             packed signs minus 128, ceil(dim/8) i8 values a\n"
	      "                           row (sentence-transformers \"binary\")\n"
	      "      --ubinary            packed signs, dim bits a row (dtype bit;\n"
	      "                           sentence-transformers \"ubinary\")\n"
	      "      --dequantize         i8/u8 codes back to f32: the middle of each\n"
	      "                           code's interval (needs --load)\n"
	      "\n"
	      "Options:\n"
	      "      --round              nearest code (ties to even), not toward zero\n"
	      "      --save=RANGES        also write the fitted ranges to RANGES\n"
	      "      --load=RANGES        use saved ranges, in one pass\n"
	      "      --partial            write the input's ranges (a partial) instead of\n"
	      "                           codes\n"
	      "      --merge              the operands are partials: merge them exactly\n"
	      "                           into RANGES (needs --save)\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nValues outside the ranges get the end codes (numpy's cast wraps them).\n"
	      "\nExamples:\n"
	      "  embquant --int8 --save r.ranges corpus.emb > corpus.i8.emb\n"
	      "  embquant --int8 --load r.ranges queries.emb > queries.i8.emb\n"
	      "  embquant --ubinary corpus.emb > corpus.bit.emb\n"
	      "  embquant --partial shard1.emb > p1.emb   (one per shard)\n"
	      "  embquant --merge --save r.ranges p1.emb p2.emb\n", stdout);
	exit(EMB_EXIT_OK);
}

enum { OPT_INT8 = EMB_OPT_FIRST_PROGRAM, OPT_UINT8, OPT_BINARY, OPT_UBINARY, OPT_DEQUANTIZE,
       OPT_ROUND, OPT_SAVE, OPT_LOAD, OPT_PARTIAL, OPT_MERGE };
static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"int8", no_argument, NULL, OPT_INT8},
	{"uint8", no_argument, NULL, OPT_UINT8},
	{"binary", no_argument, NULL, OPT_BINARY},
	{"ubinary", no_argument, NULL, OPT_UBINARY},
	{"dequantize", no_argument, NULL, OPT_DEQUANTIZE},
	{"round", no_argument, NULL, OPT_ROUND},
	{"save", required_argument, NULL, OPT_SAVE},
	{"load", required_argument, NULL, OPT_LOAD},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	{NULL, 0, NULL, 0},
};

#define MODE_DEQUANTIZE 4
static const char *const mode_opts[] = {"--int8", "--uint8", "--binary", "--ubinary",
					"--dequantize"};

struct quant_opts {
	int mode;           /* enum emb_quant_kind, MODE_DEQUANTIZE, or -1 */
	bool round, partial, merge;
	const char *save, *load;
};

static void parse(int argc, char **argv, struct quant_opts *qo)
{
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS, long_options, NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		switch (opt) {
		case OPT_INT8: case OPT_UINT8: case OPT_BINARY: case OPT_UBINARY:
		case OPT_DEQUANTIZE: {
			int m = opt - OPT_INT8;
			if (qo->mode >= 0 && qo->mode != m)
				emb_usage_error("options %s and %s cannot be used together",
						mode_opts[qo->mode], mode_opts[m]);
			qo->mode = m;
			break;
		}
		case OPT_ROUND: qo->round = true; break;
		case OPT_SAVE: qo->save = optarg; break;
		case OPT_LOAD: qo->load = optarg; break;
		case OPT_PARTIAL: qo->partial = true; break;
		case OPT_MERGE: qo->merge = true; break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
	if (!qo->merge && argc - optind > 1)
		emb_usage_error("extra operand '%s'", argv[optind + 1]);
	emb_partial_usage(qo->partial, qo->merge, argc - optind, qo->load ? "--load" : NULL,
			  EMB_SH_OUTPUT_FORMAT);
	if (qo->partial || qo->merge) {
		const char *mode = qo->partial ? "--partial" : "--merge";
		if (qo->mode >= 0)
			emb_usage_error("options %s and %s cannot be used together", mode,
					mode_opts[qo->mode]);
		if (qo->round)
			emb_usage_error("options %s and --round cannot be used together", mode);
		if (qo->partial && qo->save)
			emb_usage_error("--partial writes ranges to standard output: --save "
					"belongs to --merge");
		if (qo->merge && !qo->save)
			emb_usage_error("--merge writes ranges: give --save=RANGES");
		return;
	}
	if (qo->mode < 0)
		emb_usage_error("give a mode: --int8, --uint8, --binary, --ubinary or --dequantize");
	bool scalar = qo->mode == EMB_Q_INT8 || qo->mode == EMB_Q_UINT8;
	if (!scalar && qo->mode != MODE_DEQUANTIZE && (qo->save || qo->load || qo->round))
		emb_usage_error("%s has no ranges: %s does not apply", mode_opts[qo->mode],
				qo->save ? "--save" : qo->load ? "--load" : "--round");
	if (qo->mode == MODE_DEQUANTIZE && !qo->load)
		emb_usage_error("--dequantize needs the ranges the codes were made with: "
				"give --load=RANGES");
	if (qo->load && qo->save)
		emb_usage_error("options --load and --save cannot be used together");
}

/* The output stream for codes of dtype T, DIM values a row, like IN. */
static struct emb_stream *open_codes(const struct emb_stream *in, enum emb_dtype t, size_t dim,
				     const char *precision, bool round)
{
	struct emb_stream *out = emb_open_w_like(in, &emb_opts);
	if (out->format != EMB_FMT_EMB && out->format != EMB_FMT_NPY &&
	    out->format != EMB_FMT_TSV)
		emb_die(EMB_EXIT_DATA, "%s cannot hold %s codes (write emb, npy or tsv with -O)",
			emb_format_name(out->format), emb_dtype_name(t));
	out->dtype = t;
	out->dim = dim;
	cJSON *q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "precision", precision);
	if (!strcmp(precision, "int8") || !strcmp(precision, "uint8"))
		cJSON_AddStringToObject(q, "rounding", round ? "nearest" : "toward zero");
	cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "quantization");
	cJSON_AddItemToObject(out->meta, "quantization", q);
	return out;
}

static const char *const precision_names[] = {"int8", "uint8", "binary", "ubinary"};

/* Dies unless IN holds real numbers of the ranges' dim. */
static void check_input(const struct emb_stream *in, const struct emb_ranges *r,
			const char *rpath)
{
	emb_partial_refuse(in);
	if (emb_dtype_is_code(in->dtype))
		emb_die(EMB_EXIT_DATA, "%s: already %s codes (embquant quantizes real numbers)",
			in->name, emb_dtype_name(in->dtype));
	if (r && in->dim != r->dim && !(in->dim == 0 && in->recno == 0))
		emb_die(EMB_EXIT_DATA, "%s: dim %zu, but the ranges in %s have dim %zu",
			in->name, in->dim, rpath, r->dim);
}

/* Quantize every row of IN (read through SP when it is not NULL) to OUT. */
static void run(struct emb_stream *in, struct emb_spill *sp, struct emb_stream *out,
		enum emb_quant_kind k, const struct emb_ranges *r, bool round)
{
	struct emb_chunk c = EMB_CHUNK_INIT, q = EMB_CHUNK_INIT;
	emb_write_header(out);
	while ((sp ? emb_spill_read(sp, &c) : emb_read_chunk(in, &c)) > 0) {
		emb_quantize(&c, &q, k, r, round);
		emb_write_chunk(out, &q);
	}
	emb_chunk_free(&c);
	emb_chunk_free(&q);
}

static void quantize_fit(const char *path, const struct quant_opts *qo)
{
	enum emb_quant_kind k = (enum emb_quant_kind)qo->mode;
	struct emb_spill sp;
	struct emb_ranges r;
	struct emb_chunk c = EMB_CHUNK_INIT;
	emb_spill_begin(&sp, path, &emb_opts);
	check_input(sp.in, NULL, NULL);
	struct emb_stream *out = open_codes(sp.in, k == EMB_Q_INT8 ? EMB_I8 : EMB_U8, sp.in->dim,
					    precision_names[k], qo->round);
	/* Opened before the fit, so an unwritable place fails at once. */
	struct emb_stream *rs = qo->save ? emb_model_save_open(qo->save, NULL) : NULL;
	emb_ranges_init(&r, sp.in->dim);
	while (emb_spill_read(&sp, &c) > 0)
		emb_ranges_add(&r, &c);
	emb_chunk_free(&c);
	emb_ranges_warn_small(k, r.n);
	if (rs)
		emb_ranges_write(&r, rs);
	emb_spill_rewind(&sp, &emb_opts);
	run(sp.in, NULL, out, k, &r, qo->round);
	emb_spill_end(&sp);
	emb_close(out);
	emb_ranges_free(&r);
}

static void dequantize(struct emb_stream *in, const struct emb_ranges *r, const char *rpath,
		       bool round)
{
	emb_partial_refuse(in);
	if (in->dtype != EMB_I8 && in->dtype != EMB_U8)
		emb_die(EMB_EXIT_DATA, "%s: dtype %s, not i8 or u8 codes", in->name,
			emb_dtype_name(in->dtype));
	bool int8, nearest;
	if (!emb_codes_kind(in->meta, in->dtype, &int8, &nearest))
		emb_die(EMB_EXIT_DATA, "%s: packed bits (embquant --binary), not int8 or uint8 "
			"codes", in->name);
	if (in->dim != r->dim)
		emb_die(EMB_EXIT_DATA, "%s: dim %zu, but the ranges in %s have dim %zu",
			in->name, in->dim, rpath, r->dim);
	round = round || nearest;
	in->mtype = EMB_F32;
	struct emb_stream *out = emb_open_w_like(in, &emb_opts);
	cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "quantization");
	out->dtype = EMB_F32;
	emb_write_header(out);
	struct emb_chunk c = EMB_CHUNK_INIT;
	while (emb_read_chunk(in, &c) > 0) {
		float *v = c.data;
		for (size_t i = 0; i < c.rows; i++)
			for (size_t j = 0; j < c.dim; j++)
				v[i * c.dim + j] = (float)emb_dequantize1(r, j, v[i * c.dim + j],
									  int8, round);
		emb_write_chunk(out, &c);
	}
	emb_chunk_free(&c);
	emb_close(out);
}

int main(int argc, char **argv)
{
	struct quant_opts qo = {.mode = -1};

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse(argc, argv, &qo);
	const char *path = optind < argc ? argv[optind] : "-";
	/* A closed stdout would hand its descriptor to the spill or the
	 * ranges file: hold it, so that writes still fail with EBADF. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDOUT_FILENO) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	if (qo.partial) {
		struct emb_ranges r;
		struct emb_stream *in = emb_open_r(path, &emb_opts);
		check_input(in, NULL, NULL);
		struct emb_chunk c = EMB_CHUNK_INIT;
		emb_ranges_init(&r, in->dim);
		while (emb_read_chunk(in, &c) > 0)
			emb_ranges_add(&r, &c);
		emb_chunk_free(&c);
		emb_close(in);
		emb_ranges_write(&r, NULL);
		emb_ranges_free(&r);
		return EMB_EXIT_OK;
	}
	if (qo.merge) {
		struct emb_ranges r;
		emb_check_not_input("--save", qo.save, (const char *const *)argv + optind,
				    (size_t)(argc - optind));
		struct emb_stream *rs = emb_model_save_open(qo.save, NULL);
		emb_ranges_init(&r, 0);
		const char *first = NULL;
		for (int i = optind; i < argc; i++) {
			struct emb_ranges b;
			emb_ranges_read(&b, argv[i], false);
			if (b.dim != r.dim && !(b.n == 0 && b.dim == 0) && !(r.n == 0 && r.dim == 0))
				emb_die(EMB_EXIT_DATA, "%s: ranges of dim %zu, but %s has dim %zu",
					argv[i], b.dim, first, r.dim);
			if (b.dim > 0 && !first)
				first = argv[i];
			emb_ranges_merge(&r, &b);
			emb_ranges_free(&b);
		}
		emb_ranges_write(&r, rs);
		emb_ranges_free(&r);
		return EMB_EXIT_OK;
	}
	if (qo.save)
		emb_check_not_input("--save", qo.save, &path, 1);
	if (qo.load)
		emb_check_not_input("--load", qo.load, NULL, 0);
	if (qo.mode == EMB_Q_BINARY || qo.mode == EMB_Q_UBINARY) {
		struct emb_stream *in = emb_open_r(path, &emb_opts);
		check_input(in, NULL, NULL);
		bool ub = qo.mode == EMB_Q_UBINARY;
		struct emb_stream *out = open_codes(in, ub ? EMB_BIT : EMB_I8,
						    ub ? in->dim : emb_row_bytes(EMB_BIT, in->dim),
						    precision_names[qo.mode], false);
		run(in, NULL, out, (enum emb_quant_kind)qo.mode, NULL, false);
		emb_close(in);
		emb_close(out);
		return EMB_EXIT_OK;
	}
	if (!qo.load) {
		quantize_fit(path, &qo);
		return EMB_EXIT_OK;
	}
	struct emb_ranges r;
	emb_ranges_read(&r, qo.load, true);
	struct emb_stream *in = emb_open_r(path, &emb_opts);
	if (qo.mode == MODE_DEQUANTIZE) {
		dequantize(in, &r, qo.load, qo.round);
	} else {
		enum emb_quant_kind k = (enum emb_quant_kind)qo.mode;
		check_input(in, &r, qo.load);
		emb_ranges_warn_small(k, r.n);
		struct emb_stream *out = open_codes(in, k == EMB_Q_INT8 ? EMB_I8 : EMB_U8, r.dim,
						    precision_names[k], qo.round);
		run(in, NULL, out, k, &r, qo.round);
		emb_close(out);
	}
	emb_close(in);
	emb_ranges_free(&r);
	return EMB_EXIT_OK;
}
