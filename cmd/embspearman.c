/*
 * embspearman - Spearman's rank correlation of TSV columns, as
 * scipy.stats.spearmanr, with groups, intervals and the STS aggregates.
 */
#include <config.h>
#include "emb_corr.h"

#include <getopt.h>
#include <stdlib.h>

/* The shared options (emb.h) embspearman honours: none, for it reads
 * columns of numbers, not vector streams. */
#define SHARED 0u

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s [OPTION]... [FILE]...\n", emb_progname);
	fputs("Print Spearman's rank correlation (ties get average ranks) of column -x\n"
	      "with each column -y of the TSV or blank-separated FILEs, as\n"
	      "'x y n r p' rows after a header; p comes from Student's t with n-2\n"
	      "degrees of freedom, as in scipy.stats.spearmanr.  With --compare, r1,\n"
	      "r2 and r12 are all Spearman's.  With no FILE, or when FILE is -, read\n"
	      "standard input.\n"
	      "\n", stdout);
	fputs(emb_corr_help, stdout);
	fputs("                           (Fisher z with the Bonett-Wright variance)\n", stdout);
	fputs(emb_corr_help_compare, stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embspearman -x 2 -y 3,4 --group 1 --percent scores.tsv\n"
	      "  embcos --pairs pairs.tsv vectors.emb | embspearman -x 3 -y 4\n"
	      "  embspearman --compare -x 2 -y 3,4 --bootstrap 1000 scores.tsv\n", stdout);
	exit(EMB_EXIT_OK);
}

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	EMB_CORR_LONGOPTS,
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct emb_corr_opts o = EMB_CORR_OPTS_INIT(EMB_SPEARMAN);
	int opt;

	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS EMB_CORR_SHORTOPTS,
				  long_options, NULL)) != -1) {
		if (emb_corr_option(&o, opt, optarg) || emb_common_option(opt, optarg, usage))
			continue;
		usage(EMB_EXIT_USAGE);
	}
	emb_corr_options_done(&o);
	emb_corr_main(&o, argv + optind, argc - optind);
	return EMB_EXIT_OK;
}
