/*
 * embeval - evaluate ranked results: nearest-neighbour recall against
 * exact ground truth (ann-benchmarks, big-ann-benchmarks, FAISS), and
 * trec_eval's measures against relevance judgements.
 */
#include <config.h>
#include "emb.h"
#include "emb_eval.h"
#include "emb_knn.h"

#include <cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared options (emb.h) embeval honours: those of reading, for the
 * vectors of --db and --queries. */
#define SHARED EMB_SH_READ

enum mode { MODE_NONE, MODE_RECALL, MODE_QRELS };

/* One requested measure: a trec_eval measure at one cutoff, or a recall. */
struct measure {
	enum emb_measure m;
	long cutoff;
	char name[48];
	double sum;
};

static struct {
	enum mode mode;
	const char *mode_opt;
	long long k, at;
	double eps;          /* < 0: ann-benchmarks' + 1e-3 */
	enum emb_ties ties;
	enum emb_sim sim;
	bool hamming;        /* --hamming: scores are distances */
	const char *db, *queries, *qrels;
	enum emb_list_format truth_format, run_format;
	bool per_query, json, complete;
	struct measure *meas;
	size_t nmeas;
} cfg = { .eps = -1, .sim = EMB_SIM_COS };

static void usage(int status)
{
	emb_try_help(status);
	printf("Usage: %s --recall -k K [OPTION]... TRUTH [RUN]\n"
	       "  or:  %s --qrels=QRELS [-m MEASURE]... [OPTION]... [RUN]\n",
	       emb_progname, emb_progname);
	fputs("Evaluate ranked results, as trec_eval prints them: 'measure query value'\n"
	      "lines, the last one for query 'all' (the mean).  TRUTH and RUN are the\n"
	      "output of 'embcos --topk' or 'emblsh --db' (query key score rank); RUN\n"
	      "may also be a TREC run (qid Q0 docid rank score tag).  With no RUN, or\n"
	      "when a file is -, read standard input.\n"
	      "\n"
	      "Nearest-neighbour recall:\n"
	      "      --recall             score RUN against the exact neighbours TRUTH\n"
	      "  -k, --topk=K             recall@K: of RUN's first K results, those within\n"
	      "                           the K-th true distance + 1e-3 (ann-benchmarks)\n"
	      "      --at=R               1-recall@R (FAISS): the queries whose nearest\n"
	      "                           neighbour is among RUN's first R results\n"
	      "      --epsilon=E          count results within (1 + E) times the K-th true\n"
	      "                           distance instead (ann-benchmarks epsilon recall)\n"
	      "      --ties=MODE          distance (default, as above), none (plain id\n"
	      "                           sets) or groups (big-ann-benchmarks: the true set\n"
	      "                           grows by the K-th distance's ties)\n"
	      "      --cos                scores are cosines: distance 1 - score (default)\n"
	      "      --dot                scores are dot products: distance -score\n"
	      "      --euclidean          scores are minus euclidean distances (embcos)\n"
	      "      --manhattan          scores are minus manhattan distances (embcos)\n"
	      "      --hamming            scores are Hamming distances, smallest first, as\n"
	      "                           embcos --hamming prints them (minus them in its\n"
	      "                           TREC runs)\n"
	      "      --db=DB              with --queries: take distances from these vectors\n"
	      "      --queries=QUERIES    (needed when TRUTH is ivecs)\n"
	      "      --truth-format=FMT   topk, or 0-based rows: ivecs, ibin or hdf5\n"
	      "                           (neighbors and distances); default: sniffed\n"
	      "\n"
	      "Relevance judgements (trec_eval):\n"
	      "      --qrels=QRELS        TREC qrels: qid iter docid rel\n"
	      "  -m, --measure=MEASURE    map, recip_rank, P[.K,...], recall[.K,...],\n"
	      "                           ndcg_cut[.K,...], success[.K,...]; repeatable\n"
	      "                           (default: map recip_rank P.10 recall.100\n"
	      "                           ndcg_cut.10)\n"
	      "  -c, --complete           average over every query of QRELS: those RUN\n"
	      "                           lacks count 0 (trec_eval -c)\n"
	      "      --run-format=FMT     topk or trec; default: sniffed (4 or 6 fields)\n"
	      "\n"
	      "Output:\n"
	      "  -q, --per-query          a line per query and measure before the means\n"
	      "      --json               one JSON object instead of lines\n"
	      "\n"
	      "Vector streams (--db and --queries only):\n", stdout);
	emb_shared_help(SHARED);
	fputs("\nExamples:\n"
	      "  embcos --topk 10 --db db.emb queries.emb > truth.tsv\n"
	      "  emblsh -L 8 -k 10 --db db.emb queries.emb > run.tsv\n"
	      "  embeval --recall -k 10 truth.tsv run.tsv\n"
	      "  embeval --qrels qrels.txt -m ndcg_cut.10 -m recip_rank run.tsv\n", stdout);
	exit(EMB_EXIT_OK);
}

enum {
	OPT_RECALL = EMB_OPT_FIRST_PROGRAM, OPT_AT, OPT_EPSILON, OPT_TIES, OPT_COS, OPT_DOT,
	OPT_EUCLIDEAN, OPT_MANHATTAN, OPT_DB, OPT_QUERIES, OPT_TRUTH_FORMAT, OPT_QRELS,
	OPT_RUN_FORMAT, OPT_JSON, OPT_HAMMING,
};

static const struct option long_options[] = {
	EMB_COMMON_LONGOPTS,
	{"recall", no_argument, NULL, OPT_RECALL},
	{"topk", required_argument, NULL, 'k'},
	{"at", required_argument, NULL, OPT_AT},
	{"epsilon", required_argument, NULL, OPT_EPSILON},
	{"ties", required_argument, NULL, OPT_TIES},
	{"cos", no_argument, NULL, OPT_COS},
	{"dot", no_argument, NULL, OPT_DOT},
	{"euclidean", no_argument, NULL, OPT_EUCLIDEAN},
	{"manhattan", no_argument, NULL, OPT_MANHATTAN},
	{"hamming", no_argument, NULL, OPT_HAMMING},
	{"db", required_argument, NULL, OPT_DB},
	{"queries", required_argument, NULL, OPT_QUERIES},
	{"truth-format", required_argument, NULL, OPT_TRUTH_FORMAT},
	{"qrels", required_argument, NULL, OPT_QRELS},
	{"measure", required_argument, NULL, 'm'},
	{"complete", no_argument, NULL, 'c'},
	{"run-format", required_argument, NULL, OPT_RUN_FORMAT},
	{"per-query", no_argument, NULL, 'q'},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

/* ---- options ---- */

static void set_mode(enum mode m, const char *opt)
{
	if (cfg.mode_opt && cfg.mode != m)
		emb_usage_error("options %s and %s cannot be used together", cfg.mode_opt, opt);
	cfg.mode = m;
	cfg.mode_opt = opt;
}

/* SIM for --cos and the like; --hamming is HAMMING (SIM unused). */
static void set_sim(enum emb_sim sim, bool hamming, const char *opt)
{
	static const char *given;
	if (given && (cfg.sim != sim || cfg.hamming != hamming))
		emb_usage_error("options %s and %s cannot be used together", given, opt);
	cfg.sim = sim;
	cfg.hamming = hamming;
	given = opt;
}

static struct measure *add_measure(enum emb_measure m, long cutoff)
{
	for (size_t i = 0; i < cfg.nmeas; i++)
		if (cfg.meas[i].m == m && cfg.meas[i].cutoff == cutoff)
			return &cfg.meas[i];  /* asked twice: printed once */
	cfg.meas = emb_xrealloc(cfg.meas, (cfg.nmeas + 1) * sizeof *cfg.meas);
	struct measure *x = &cfg.meas[cfg.nmeas++];
	*x = (struct measure){ .m = m, .cutoff = cutoff };
	if (emb_measure_has_cutoffs(m))
		snprintf(x->name, sizeof x->name, "%s_%ld", emb_measure_name(m), cutoff);
	else
		snprintf(x->name, sizeof x->name, "%s", emb_measure_name(m));
	return x;
}

/* -m NAME or -m NAME.K1,K2,... (trec_eval's syntax; no cutoffs means
 * trec_eval's default ones). */
static void parse_measure(const char *arg)
{
	size_t len = strcspn(arg, ".");
	char name[32];
	if (len >= sizeof name)
		len = sizeof name - 1;
	memcpy(name, arg, len);
	name[len] = '\0';
	int m = emb_measure_parse(name);
	if (m < 0)
		emb_usage_error("unknown measure '%s' (known: map, recip_rank, P, recall, "
				"ndcg_cut, success)", arg);
	if (!arg[len]) {
		size_t n;
		const long *cut = emb_measure_default_cutoffs((enum emb_measure)m, &n);
		if (!n)
			add_measure((enum emb_measure)m, 0);
		for (size_t i = 0; i < n; i++)
			add_measure((enum emb_measure)m, cut[i]);
		return;
	}
	if (!emb_measure_has_cutoffs((enum emb_measure)m))
		emb_usage_error("measure '%s' takes no cutoffs: '%s'", name, arg);
	const char *p = arg + len + 1;
	size_t first = cfg.nmeas;
	for (;;) {
		size_t l = strcspn(p, ",");
		char num[24];
		long long v;
		if (l == 0 || l >= sizeof num)
			emb_usage_error("-m %s: cutoffs are whole numbers from 1, not '%.*s'", arg,
					(int)l, p);
		memcpy(num, p, l);
		num[l] = '\0';
		if (!emb_parse_ll(num, &v) || v < 1 || v > INT_MAX)
			emb_usage_error("-m %s: cutoffs are whole numbers from 1, not '%s'", arg, num);
		for (size_t i = first; i < cfg.nmeas; i++)
			if (cfg.meas[i].m == (enum emb_measure)m && cfg.meas[i].cutoff == v)
				emb_usage_error("-m %s: cutoff %lld given twice", arg, v);
		add_measure((enum emb_measure)m, (long)v);
		p += l;
		if (!*p)
			break;
		p++;
	}
}

/* The first option given that belongs to one mode (its long name), so
 * that options of the other mode are errors: a mistyped command fails
 * instead of printing numbers that ignore them. */
static const char *recall_opt, *qrels_opt;

static void parse_options(int argc, char **argv)
{
	static const char *const ties_names[] = {"distance", "none", "groups"};
	static const char *const truth_names[] = {"topk", "ivecs", "ibin", "hdf5"};
	static const enum emb_list_format truth_formats[] = {EMB_LIST_TOPK, EMB_LIST_IVECS,
							     EMB_LIST_IBIN, EMB_LIST_HDF5};
	static const char *const run_names[] = {"topk", "trec"};
	int opt;
	while ((opt = getopt_long(argc, argv, EMB_COMMON_SHORTOPTS "k:m:cq", long_options,
				  NULL)) != -1) {
		if (emb_common_option(opt, optarg, usage))
			continue;
		for (const struct option *o = long_options; o->name; o++)
			if (o->val == opt && opt != OPT_RECALL && opt != OPT_QRELS) {
				bool q = opt == 'm' || opt == 'c' || opt == OPT_RUN_FORMAT;
				bool r = !q && opt != 'q' && opt != OPT_JSON && opt != OPT_HAMMING;
				static char name[2][32];
				if (q && !qrels_opt) {
					snprintf(name[0], sizeof name[0], "--%s", o->name);
					qrels_opt = name[0];
				}
				if (r && !recall_opt) {
					snprintf(name[1], sizeof name[1], "--%s", o->name);
					recall_opt = name[1];
				}
				break;
			}
		switch (opt) {
		case OPT_RECALL: set_mode(MODE_RECALL, "--recall"); break;
		case 'k': cfg.k = emb_parse_int("--topk", optarg, 1, INT_MAX); break;
		case OPT_AT: cfg.at = emb_parse_int("--at", optarg, 1, INT_MAX); break;
		case OPT_EPSILON:
			cfg.eps = emb_parse_double("--epsilon", optarg);
			if (cfg.eps < 0)
				emb_usage_error("--epsilon wants a number from 0, not '%s'", optarg);
			break;
		case OPT_TIES: cfg.ties = (enum emb_ties)emb_parse_name("--ties", optarg, ties_names, 3); break;
		case OPT_COS: set_sim(EMB_SIM_COS, false, "--cos"); break;
		case OPT_DOT: set_sim(EMB_SIM_DOT, false, "--dot"); break;
		case OPT_EUCLIDEAN: set_sim(EMB_SIM_EUCLIDEAN, false, "--euclidean"); break;
		case OPT_MANHATTAN: set_sim(EMB_SIM_MANHATTAN, false, "--manhattan"); break;
		case OPT_HAMMING: set_sim(EMB_SIM_EUCLIDEAN, true, "--hamming"); break;
		case OPT_DB: cfg.db = optarg; break;
		case OPT_QUERIES: cfg.queries = optarg; break;
		case OPT_TRUTH_FORMAT:
			cfg.truth_format = truth_formats[emb_parse_name("--truth-format", optarg,
									 truth_names, 4)];
			break;
		case OPT_QRELS: set_mode(MODE_QRELS, "--qrels"); cfg.qrels = optarg; break;
		case 'm': parse_measure(optarg); break;
		case 'c': cfg.complete = true; break;
		case OPT_RUN_FORMAT:
			cfg.run_format = emb_parse_name("--run-format", optarg, run_names, 2)
				? EMB_LIST_TREC : EMB_LIST_TOPK;
			break;
		case 'q': cfg.per_query = true; break;
		case OPT_JSON: cfg.json = true; break;
		default: usage(EMB_EXIT_USAGE);
		}
	}
}


static void check_options(char **argv, int nargs)
{
	if (cfg.mode == MODE_NONE)
		emb_usage_error("say what to evaluate: --recall or --qrels=QRELS");
	if (cfg.mode == MODE_RECALL && qrels_opt)
		emb_usage_error("option '%s' is only for --qrels", qrels_opt);
	if (cfg.mode == MODE_QRELS && recall_opt)
		emb_usage_error("option '%s' is only for --recall", recall_opt);
	if (cfg.mode == MODE_RECALL) {
		if (!cfg.k && !cfg.at)
			emb_usage_error("--recall needs -k K or --at R");
		if (!cfg.db != !cfg.queries)
			emb_usage_error("--db and --queries go together");
		if (nargs < 1)
			emb_usage_error("--recall needs TRUTH (and RUN, or standard input)");
		if (nargs > 2)
			emb_usage_error("extra operand '%s'", argv[optind + 2]);
		if (cfg.eps >= 0 && cfg.ties != EMB_TIES_DISTANCE)
			emb_usage_error("--epsilon is for --ties=distance");
	} else {
		if (nargs > 1)
			emb_usage_error("extra operand '%s'", argv[optind + 1]);
		if (!cfg.nmeas) {
			static const char *const defaults[] = {"map", "recip_rank", "P.10", "recall.100",
							       "ndcg_cut.10"};
			for (size_t i = 0; i < 5; i++)
				parse_measure(defaults[i]);
		}
	}
	if (cfg.hamming && cfg.db)
		emb_usage_error("--hamming takes the distances from the lists, not from --db "
				"and --queries");
	if (!cfg.db)
		emb_shared_only_for(SHARED, "--db and --queries");
}

/* ---- output ---- */

static cJSON *json_all, *json_queries;

/* cJSON prints 15 digits when they read back within an epsilon, not
 * exactly: print 17, so that the mean is the one the lines round. */
static void json_number(cJSON *obj, const char *name, double v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.17g", v == 0 ? 0 : v);
	cJSON_AddRawToObject(obj, name, buf);
}

static void put(const char *measure, const char *qid, double v)
{
	if (cfg.json) {
		cJSON *obj = json_all;
		if (strcmp(qid, "all") || obj == NULL) {
			obj = cJSON_GetObjectItemCaseSensitive(json_queries, qid);
			if (!obj)
				obj = cJSON_AddObjectToObject(json_queries, qid);
		}
		json_number(obj, measure, v);
		return;
	}
	printf("%-22s\t%s\t%6.4f\n", measure, qid, v);
	emb_check_stdout();
}

static void put_all(size_t nq)
{
	for (size_t i = 0; i < cfg.nmeas; i++) {
		double mean = nq ? cfg.meas[i].sum / (double)nq : 0;
		if (cfg.json)
			json_number(json_all, cfg.meas[i].name, mean);
		else
			put(cfg.meas[i].name, "all", mean);
	}
}

static void json_begin(void)
{
	if (!cfg.json)
		return;
	json_all = cJSON_CreateObject();
	json_queries = cJSON_CreateObject();
}

static void json_end(size_t nq)
{
	if (!cfg.json)
		return;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "num_q", (double)nq);
	cJSON_AddItemToObject(root, "all", json_all);
	if (cfg.per_query)
		cJSON_AddItemToObject(root, "queries", json_queries);
	else
		cJSON_Delete(json_queries);
	char *s = cJSON_Print(root);
	if (!s)
		emb_die(EMB_EXIT_DATA, "out of memory");
	puts(s);
	free(s);
	cJSON_Delete(root);
}

/* ---- recall ---- */

struct vectors { struct emb_table *db, *q; };

static double distance(double score)
{
	return cfg.sim == EMB_SIM_COS && !cfg.hamming ? 1 - score : -score;
}

/* --hamming: L's scores as minus distances, higher nearer, as every other
 * score is (and as embcos --format trec writes them): a topk list holds
 * the distances themselves. */
static void hamming_scores(struct emb_list *l)
{
	if (!cfg.hamming || l->format == EMB_LIST_TREC || l->format == EMB_LIST_IVECS)
		return;
	for (size_t i = 0; i < l->nq; i++)
		for (size_t j = 0; j < l->q[i].n; j++)
			l->q[i].item[j].score = -l->q[i].item[j].score;
}

static const float *vector_of(const struct emb_table *t, const char *key, const char *what,
			      const struct emb_list *l, uint64_t line)
{
	long i = emb_table_find(t, key, strlen(key));
	if (i < 0) {
		if (l->format == EMB_LIST_IVECS && l->by_row)
			emb_die_at(l->name, line, "row %s is not in %s (%zu rows)", key, what,
				   t->rows);
		if (l->format == EMB_LIST_IVECS)
			emb_die_offset(l->name, line, "row %s is not in %s (%zu rows)", key, what,
				       t->rows);
		emb_die_at(l->name, line, "key '%s' is not in %s", key, what);
	}
	return emb_table_row(t, (size_t)i);
}

/* Distances of Q's items (sorted by rank): from the vectors when given
 * (as ann-benchmarks recomputes them), else from the score column. */
static double *distances(const struct emb_qlist *q, const struct emb_list *l,
			 const struct vectors *v, size_t n)
{
	double *d = emb_xmalloc(emb_xmul(n ? n : 1, sizeof *d));
	const float *qv = v->q ? vector_of(v->q, q->qid, cfg.queries, l, q->line) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct emb_item *it = &q->item[i];
		if (v->db) {
			const float *x = vector_of(v->db, it->doc, cfg.db, l, it->line);
			d[i] = distance(emb_sim_f32(cfg.sim, qv, x, v->db->dim));
			if (isnan(d[i]))
				emb_die_at(l->name, it->line, "the %s of query '%s' and '%s' is "
					   "undefined (zero or non-finite vector)",
					   emb_sim_name(cfg.sim), q->qid, it->doc);
		} else if (l->distances) {
			d[i] = it->score; /* the file's own (HDF5 "distances") */
		} else {
			d[i] = distance(it->score);
		}
	}
	return d;
}

/* Keys for ivecs rows: the vectors' keys when they have them (else the
 * row numbers stay, as embcos prints keyless rows). */
static void rename_ivecs(struct emb_list *t, const struct vectors *v)
{
	if (v->q && t->nq > v->q->rows)
		emb_die(EMB_EXIT_DATA, "%s has %zu rows, more than the %zu of %s", t->name, t->nq,
			v->q->rows, cfg.queries);
	for (size_t i = 0; i < t->nq; i++) {
		struct emb_qlist *q = &t->q[i];
		for (size_t j = 0; j < q->n && v->db; j++) {
			long long r = strtoll(q->item[j].doc, NULL, 10);
			if (r > (long long)v->db->rows && t->by_row)
				emb_die_at(t->name, q->item[j].line, "neighbour %lld is not a row "
					   "of %s (%zu rows)", r - 1, cfg.db, v->db->rows);
			if (r > (long long)v->db->rows)
				emb_die_offset(t->name, q->item[j].line, "neighbour %lld is not a row "
					       "of %s (%zu rows)", r - 1, cfg.db, v->db->rows);
			free(q->item[j].doc);
			q->item[j].doc = emb_xstrdup(v->db->keys[r - 1]);
		}
		if (v->q) {
			free(q->qid);
			q->qid = emb_xstrdup(v->q->keys[i]);
		}
	}
	emb_list_reindex(t); /* the index was built on the row numbers */
}

static void run_recall(const char *truth_path, const char *run_path)
{
	struct vectors v = {NULL, NULL};
	if (cfg.db) {
		v.db = emb_table_load(cfg.db, &emb_opts, false);
		v.q = emb_table_load(cfg.queries, &emb_opts, false);
		if (v.db->rows && v.q->rows && v.db->dim != v.q->dim)
			emb_die(EMB_EXIT_DATA, "dim mismatch: %s has dim %zu, %s has dim %zu",
				cfg.db, v.db->dim, cfg.queries, v.q->dim);
	}
	struct emb_list *truth = emb_truth_load(truth_path, cfg.truth_format ? cfg.truth_format
									      : EMB_LIST_RUN);
	hamming_scores(truth);
	bool need_dist = cfg.ties != EMB_TIES_NONE;
	if (truth->format == EMB_LIST_IVECS) {
		if (need_dist && !v.db && !truth->distances)
			emb_usage_error("%s is %s, which holds no distances: give --db and "
					"--queries, or --ties=none", truth->name, truth->ids_from);
		rename_ivecs(truth, &v);
	}
	struct emb_list *run = emb_list_load(run_path, cfg.run_format ? cfg.run_format
								       : EMB_LIST_RUN);
	hamming_scores(run);
	if (cfg.k)
		snprintf(add_measure(EMB_M_RECALL, 0)->name, sizeof cfg.meas[0].name,
			 "recall_%lld", cfg.k);
	if (cfg.at)
		snprintf(add_measure(EMB_M_SUCCESS, 0)->name, sizeof cfg.meas[0].name,
			 "1-recall_%lld", cfg.at);
	json_begin();
	size_t missing = 0;
	size_t need = cfg.k ? (size_t)cfg.k : 1;
	for (size_t i = 0; i < truth->nq; i++) {
		struct emb_qlist *t = &truth->q[i];
		emb_qlist_sort_rank(t);
		if (t->n < need)
			emb_die_at(truth->name, t->line, "query '%s' has %zu true %s, fewer than "
				   "-k %zu", t->qid, t->n, emb_plural(t->n, "neighbour", "neighbours"),
				   need);
		long r = emb_list_find(run, t->qid);
		struct emb_qlist *rq = r >= 0 ? &run->q[r] : NULL;
		missing += rq == NULL;
		char **tdoc = emb_xmalloc(emb_xmul(t->n, sizeof *tdoc));
		for (size_t j = 0; j < t->n; j++)
			tdoc[j] = t->item[j].doc;
		double *tdist = need_dist ? distances(t, truth, &v, t->n) : NULL;
		size_t nrun = 0, look = (size_t)(cfg.k > cfg.at ? cfg.k : cfg.at);
		char **rdoc = NULL;
		double *rdist = NULL;
		if (rq) {
			emb_qlist_sort_rank(rq);
			nrun = rq->n < look ? rq->n : look;
			rdoc = emb_xmalloc(emb_xmul(nrun ? nrun : 1, sizeof *rdoc));
			for (size_t j = 0; j < nrun; j++)
				rdoc[j] = rq->item[j].doc;
			if (need_dist && cfg.ties == EMB_TIES_DISTANCE)
				rdist = distances(rq, run, &v, nrun);
		}
		for (size_t m = 0; m < cfg.nmeas; m++) {
			double val = 0;
			if (rq && cfg.meas[m].m == EMB_M_RECALL)
				val = (double)emb_recall_hits(cfg.ties, cfg.eps, (size_t)cfg.k,
							      (size_t)cfg.k, tdoc, tdist, t->n, rdoc,
							      rdist, nrun) / (double)cfg.k;
			else if (rq)
				val = emb_recall_hits(cfg.ties, cfg.eps, 1, (size_t)cfg.at, tdoc,
						      tdist, t->n, rdoc, rdist, nrun) > 0;
			cfg.meas[m].sum += val;
			if (cfg.per_query)
				put(cfg.meas[m].name, t->qid, val);
		}
		free(tdoc);
		free(tdist);
		free(rdoc);
		free(rdist);
	}
	if (truth->nq == 0)
		emb_die(EMB_EXIT_DATA, "%s: no queries", truth->name);
	size_t extra = 0;
	for (size_t i = 0; i < run->nq; i++)
		extra += emb_list_find(truth, run->q[i].qid) < 0;
	if (missing)
		emb_warn("%s: %zu of %zu queries have no results (counted as 0)", run->name,
			 missing, truth->nq);
	if (extra)
		emb_warn("%s: %zu %s not in %s (ignored)", run->name, extra,
			 emb_plural(extra, "query", "queries"), truth->name);
	put_all(truth->nq);
	json_end(truth->nq);
	emb_list_free(truth);
	emb_list_free(run);
	if (v.db) {
		emb_table_free(v.db);
		emb_table_free(v.q);
	}
}

/* ---- trec_eval ---- */

static int cmp_doc(const void *a, const void *b)
{
	return strcmp(((const struct emb_item *)a)->doc, ((const struct emb_item *)b)->doc);
}

static int cmp_qid(const void *a, const void *b)
{
	return strcmp(((const struct emb_qlist *)a)->qid, ((const struct emb_qlist *)b)->qid);
}

/* trec_eval prints its measures in one fixed order (measures.c), each
 * measure's cutoffs ascending. */
static int cmp_measure(const void *a, const void *b)
{
	const struct measure *x = a, *y = b;
	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	return (x->cutoff > y->cutoff) - (x->cutoff < y->cutoff);
}

static void run_qrels(const char *run_path)
{
	struct emb_list *qrels = emb_list_load(cfg.qrels, EMB_LIST_QRELS);
	struct emb_list *run = emb_list_load(run_path, cfg.run_format ? cfg.run_format
								       : EMB_LIST_RUN);
	hamming_scores(run);
	qsort(cfg.meas, cfg.nmeas, sizeof *cfg.meas, cmp_measure);
	/* sorting invalidates the index; find() is not used on qrels below */
	qsort(qrels->q, qrels->nq, sizeof *qrels->q, cmp_qid);
	json_begin();
	size_t nq = 0, skipped = 0;
	long *rel = NULL;
	size_t *levels = NULL;
	for (size_t i = 0; i < qrels->nq; i++) {
		struct emb_qlist *qq = &qrels->q[i];
		long r = emb_list_find(run, qq->qid);
		if (r < 0 && !cfg.complete) {
			skipped++;
			continue;
		}
		struct emb_qlist *rq = r >= 0 ? &run->q[r] : NULL;
		qsort(qq->item, qq->n, sizeof *qq->item, cmp_doc);
		long maxrel = 0;
		for (size_t j = 0; j < qq->n; j++)
			if (qq->item[j].rel > maxrel)
				maxrel = qq->item[j].rel;
		levels = emb_xrealloc(levels, emb_xmul((size_t)maxrel + 1, sizeof *levels));
		memset(levels, 0, ((size_t)maxrel + 1) * sizeof *levels);
		for (size_t j = 0; j < qq->n; j++)
			if (qq->item[j].rel >= 0)
				levels[qq->item[j].rel]++;
		size_t nret = rq ? rq->n : 0;
		rel = emb_xrealloc(rel, emb_xmul(nret ? nret : 1, sizeof *rel));
		if (rq) {
			emb_qlist_sort_trec(rq);
			for (size_t j = 0; j < nret; j++) {
				struct emb_item key = { .doc = rq->item[j].doc };
				const struct emb_item *hit = bsearch(&key, qq->item, qq->n,
								     sizeof *qq->item, cmp_doc);
				rel[j] = hit ? hit->rel : -1;
			}
		}
		struct emb_judged jd = { rel, nret, levels, (size_t)maxrel + 1 };
		for (size_t m = 0; m < cfg.nmeas; m++) {
			double val = emb_measure_value(cfg.meas[m].m, cfg.meas[m].cutoff, &jd);
			cfg.meas[m].sum += val;
			if (cfg.per_query)
				put(cfg.meas[m].name, qq->qid, val);
		}
		nq++;
	}
	free(rel);
	free(levels);
	if (nq == 0)
		emb_die(EMB_EXIT_DATA, "no query of %s has results in %s", qrels->name, run->name);
	/* the run's queries the qrels lack: trec_eval drops them silently */
	size_t extra = 0;
	for (size_t i = 0; i < run->nq; i++) {
		struct emb_qlist key = { .qid = run->q[i].qid };
		extra += bsearch(&key, qrels->q, qrels->nq, sizeof *qrels->q, cmp_qid) == NULL;
	}
	if (skipped)
		emb_warn("%s: %zu of %zu queries of %s have no results (not averaged; see -c)",
			 run->name, skipped, qrels->nq, qrels->name);
	if (extra)
		emb_warn("%s: %zu %s not in %s (ignored)", run->name, extra,
			 emb_plural(extra, "query", "queries"), qrels->name);
	put_all(nq);
	json_end(nq);
	emb_list_free(qrels);
	emb_list_free(run);
}

int main(int argc, char **argv)
{
	emb_proginit(argc, argv);
	emb_shared_options(SHARED);
	parse_options(argc, argv);
	int nargs = argc - optind;
	check_options(argv, nargs);
	const char *run = nargs > (cfg.mode == MODE_RECALL) ? argv[argc - 1] : "-";
	if (cfg.mode == MODE_RECALL) {
		emb_stdin_once("TRUTH", argv[optind], "RUN", run);
		if (cfg.db) {
			emb_stdin_once("--db", cfg.db, "--queries", cfg.queries);
			emb_stdin_once("--db", cfg.db, "TRUTH", argv[optind]);
			emb_stdin_once("--db", cfg.db, "RUN", run);
			emb_stdin_once("--queries", cfg.queries, "TRUTH", argv[optind]);
			emb_stdin_once("--queries", cfg.queries, "RUN", run);
		}
		run_recall(argv[optind], run);
	} else {
		emb_stdin_once("--qrels", cfg.qrels, "RUN", run);
		run_qrels(run);
	}
	free(cfg.meas);
	return EMB_EXIT_OK;
}
