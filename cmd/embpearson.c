/*
 * embpearson - Pearson's correlation of TSV columns, as scipy.stats.pearsonr,
 * or (--vectors) of the paired rows of two vector streams.
 */
#include <config.h>
#include "emb_corr.h"
#include "emb_linalg.h"
#include "emb_moments.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>

/* The shared options (emb.h) embpearson honours: those of reading, and
 * only with --vectors; columns are not vector streams. */
#define SHARED EMB_SH_READ

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "  or:  %s --vectors A B\n", emb_progname, emb_progname);
	fputs("Print Pearson's correlation (the cosine of the centred columns) of\n"
	      "column -x with each column -y of the TSV or blank-separated FILEs, as\n"
	      "'x y n r p' rows after a header; p is exact under normality (the Beta\n"
	      "distribution of r), as in scipy.stats.pearsonr.  With no FILE, or when\n"
	      "FILE is -, read standard input.\n"
	      "\n", stdout);
	fputs(emb_corr_help, stdout);
	fputs("                           (Fisher z)\n", stdout);
	fputs(emb_corr_help_compare, stdout);
	fputs("      --vectors            read two vector streams A and B instead and print\n"
	      "                           'keyA keyB r' for each pair of rows\n"
	      "      --partial            write the columns' sufficient statistics (a\n"
	      "                           partial: n, means, co-moments) instead of r\n"
	      "      --merge              the FILEs are partials: merge them exactly and\n"
	      "                           print the report of their rows\n"
	      "\n"
	      "With --vectors, for reading A and B:\n", stdout);
	emb_slice_help();
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embpearson -x 2 -y 3,4 scores.tsv\n"
	      "  embpearson --vectors a.emb b.emb | head\n"
	      "  embpearson -x 2 -y 3 --partial shard1.tsv > p1.emb   (one per shard)\n"
	      "  embpearson --merge --ci 0.95 p1.emb p2.emb\n"
	      "  embpearson --compare -x 2 -y 3,4 --steiger scores.tsv\n", stdout);
	exit(EMB_EXIT_OK);
}

enum { OPT_VECTORS = EMB_OPT_FIRST_PROGRAM, OPT_PARTIAL, OPT_MERGE };

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	EMB_CORR_LONGOPTS,
	{"vectors", no_argument, NULL, OPT_VECTORS},
	{"partial", no_argument, NULL, OPT_PARTIAL},
	{"merge", no_argument, NULL, OPT_MERGE},
	EMB_SLICE_LONGOPTS,
	{NULL, 0, NULL, 0},
};

/* A stream read row by row on top of chunks, so two streams with
 * different chunk sizes can be walked in step. */
struct cursor {
	struct emb_stream *s;
	struct emb_chunk c;
	size_t next;
};

static const double *cursor_row(struct cursor *k, const char **key, uint64_t *rowno)
{
	if (k->next == k->c.rows) {
		if (emb_read_chunk(k->s, &k->c) == 0)
			return NULL;
		emb_slice_chunk(emb_opts.slice, &k->c);
		k->next = 0;
	}
	*rowno = k->c.first_row + k->next;
	*key = k->c.keys ? k->c.keys[k->next] : NULL;
	return emb_row_f64(&k->c, k->next++);
}

static void print_key(const char *key, uint64_t rowno)
{
	if (key)
		fputs(key, stdout);
	else
		printf("%llu", (unsigned long long)rowno);
}

/* The centred cosine of each pair of rows of A and B. */
static void vectors(const char *a, const char *b)
{
	struct cursor ca = {emb_open_r(a, &emb_opts), EMB_CHUNK_INIT, 0};
	struct cursor cb = {emb_open_r(b, &emb_opts), EMB_CHUNK_INIT, 0};
	uint64_t constant = 0, ra, rb;
	const char *ka, *kb;
	char buf[40];

	size_t da = emb_slice_dim(emb_opts.slice, ca.s), db = emb_slice_dim(emb_opts.slice, cb.s);
	if (da != db && da && db)
		emb_die(EMB_EXIT_DATA, "%s has dim %zu but %s has dim %zu",
			ca.s->name, da, cb.s->name, db);
	ca.s->mtype = cb.s->mtype = EMB_F64;
	for (;;) {
		const double *x = cursor_row(&ca, &ka, &ra);
		const double *y = cursor_row(&cb, &kb, &rb);
		if (!x || !y) {
			if (x || y) {
				/* Name both counts, as embcos does: read the rest. */
				struct cursor *longer = x ? &ca : &cb;
				while (emb_read_chunk(longer->s, &longer->c) > 0)
					;
				emb_die(EMB_EXIT_DATA, "%s has %llu %s but %s has %llu",
					ca.s->name, (unsigned long long)ca.s->recno,
					emb_plural(ca.s->recno, "row", "rows"),
					cb.s->name, (unsigned long long)cb.s->recno);
			}
			break;
		}
		/* A non-finite value is no constant vector: say which row. */
		if (!emb_row_finite(&ca.c, ca.next - 1))
			emb_die_row(&ca.c, ca.next - 1, "value is not finite");
		if (!emb_row_finite(&cb.c, cb.next - 1))
			emb_die_row(&cb.c, cb.next - 1, "value is not finite");
		double r = emb_pearson_r(x, y, da);
		constant += isnan(r);
		print_key(ka, ra);
		putchar('\t');
		print_key(kb, rb);
		printf("\t%.*s\n", emb_format_f64(buf, r), buf);
		emb_check_stdout();
	}
	if (constant)
		emb_warn("%llu %s with a constant vector: r is nan",
			 (unsigned long long)constant, emb_plural(constant, "pair", "pairs"));
	emb_close(ca.s);
	emb_close(cb.s);
	emb_chunk_free(&ca.c);
	emb_chunk_free(&cb.c);
}

/* The options that choose the columns, and those that shape the report
 * (by their getopt values), or NULL. */
static const char *column_option(int opt)
{
	switch (opt) {
	case 'x': return "-x";
	case 'y': return "-y";
	case EMB_OPT_CORR_HEADER: return "--header";
	case EMB_OPT_CORR_GROUP: return "--group";
	case EMB_OPT_CORR_NAN: return "--nan";
	default: return NULL;
	}
}

/* The options that resample or pair the rows: no partial holds what
 * they need. */
static const char *rows_option(int opt)
{
	switch (opt) {
	case EMB_OPT_CORR_COMPARE: return "--compare";
	case EMB_OPT_CORR_STEIGER: return "--steiger";
	case EMB_OPT_CORR_BOOTSTRAP: return "--bootstrap";
	case EMB_OPT_CORR_SEED: return "--seed";
	default: return NULL;
	}
}

static const char *report_option(int opt)
{
	switch (opt) {
	case EMB_OPT_CORR_ALT: return "--alternative";
	case EMB_OPT_CORR_CI: return "--ci";
	case EMB_OPT_CORR_PERCENT: return "--percent";
	case EMB_OPT_CORR_JSON: return "--json";
	default: return NULL;
	}
}

int main(int argc, char **argv)
{
	struct emb_corr_opts o = EMB_CORR_OPTS_INIT(EMB_PEARSON);
	bool vec = false, partial = false, merge = false;
	const char *column_opt = NULL, *report_opt = NULL, *rows_opt = NULL;
	int opt;

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS EMB_CORR_SHORTOPTS,
				  long_options, NULL)) != -1) {
		/* The columns are fixed by --partial, the report by --merge. */
		const char *name = column_option(opt);
		if (name && !column_opt)
			column_opt = name;
		name = report_option(opt);
		if (name && !report_opt)
			report_opt = name;
		name = rows_option(opt);
		if (name && !rows_opt)
			rows_opt = name;
		if (emb_corr_option(&o, opt, optarg) || emb_common_option(opt, optarg, usage) ||
		    emb_slice_option(opt, optarg))
			continue;
		if (opt == OPT_VECTORS)
			vec = true;
		else if (opt == OPT_PARTIAL)
			partial = true;
		else if (opt == OPT_MERGE)
			merge = true;
		else
			usage(EMB_EXIT_USAGE);
	}
	if (!vec)
		emb_shared_only_for(SHARED, "--vectors");
	if (!vec && emb_opts.slice)
		emb_usage_error("option '%s' is only for --vectors",
				emb_slice.dims ? "--dims" : "--normalize");
	emb_partial_usage(partial, merge, argc - optind, vec ? "--vectors" : NULL, 0);
	if ((partial || merge) && rows_opt)
		emb_usage_error("%s needs the rows themselves: it cannot be used with %s", rows_opt,
				partial ? "--partial" : "--merge");
	if (partial && report_opt)
		emb_usage_error("--partial writes statistics, not a report: %s belongs to --merge",
				report_opt);
	if (merge && column_opt)
		emb_usage_error("--merge takes the columns from the partials: %s belongs to --partial",
				column_opt);
	if (vec && o.compare)
		emb_usage_error("--compare does not apply to --vectors");
	emb_corr_options_done(&o);
	if (partial) {
		emb_corr_partial(&o, argv + optind, argc - optind);
		return EMB_EXIT_OK;
	}
	if (merge) {
		emb_corr_merge(&o, argv + optind, argc - optind);
		return EMB_EXIT_OK;
	}
	if (vec) {
		if (argc - optind != 2)
			emb_usage_error("--vectors wants two streams A B");
		emb_stdin_once("A", argv[optind], "B", argv[optind + 1]);
		vectors(argv[optind], argv[optind + 1]);
		emb_slice_report(&emb_slice);
	} else {
		emb_corr_main(&o, argv + optind, argc - optind);
	}
	return EMB_EXIT_OK;
}
