/*
 * emb_eval.h - ranked result lists and the measures computed on them
 * (embeval): the text files of `embcos --topk` / `emblsh --db` output,
 * TREC runs and TREC qrels, read into per-query lists; trec_eval's
 * measures; nearest-neighbour recall as ann-benchmarks, big-ann-benchmarks
 * and FAISS count it.
 */
#ifndef EMB_EVAL_H
#define EMB_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a text file of ranked lists holds.  EMB_LIST_RUN sniffs TOPK or
 * TREC from the first line's field count (4 or 6). */
enum emb_list_format {
	EMB_LIST_RUN = 0, /* a run: TOPK or TREC, sniffed */
	EMB_LIST_TOPK,    /* query key score rank (embcos --topk) */
	EMB_LIST_TREC,    /* qid Q0 docid rank score tag */
	EMB_LIST_QRELS,   /* qid iter docid rel */
	EMB_LIST_IVECS,   /* TEXMEX ivecs ground truth: row i holds the 0-based
			     database rows nearest to query i, nearest first */
	EMB_LIST_PAIRS,   /* key key [score] (emblsh --candidates) */
	EMB_LIST_CANDIDATES, /* candidate pairs: PAIRS, TOPK or TREC, sniffed
			     (2 or 3 fields, 4, 6); only the two keys are read,
			     and a pair listed twice is not an error */
	/* The same ids from a big-ann-benchmarks .ibin or an ann-benchmarks
	 * HDF5 file's "neighbors" (and "distances"): requests for
	 * emb_truth_load, which returns them as EMB_LIST_IVECS lists. */
	EMB_LIST_IBIN,
	EMB_LIST_HDF5,
};

/* One line of a list: a document of a query. */
struct emb_item {
	char *doc;        /* document id (owned by the list's arena) */
	double score;     /* TOPK/TREC: the score; QRELS: 0 */
	long long rank;   /* TOPK/TREC: the rank column; QRELS: 0 */
	long rel;         /* QRELS: the judgement; others: 0 */
	uint64_t line;    /* 1-based line of the file (ivecs: byte offset) */
};

struct emb_qlist {
	char *qid;
	struct emb_item *item;
	size_t n, cap;
	uint64_t line;    /* the query's first line */
};

/*
 * A whole file, grouped by query in order of first appearance (lines of
 * one query need not be adjacent).  Strings live in the list's memory;
 * emb_list_free() releases everything.
 */
struct emb_list {
	char *name;       /* file name for messages ("-" for stdin) */
	enum emb_list_format format; /* as read (never EMB_LIST_RUN) */
	struct emb_qlist *q;
	size_t nq, capq;
	/* EMB_LIST_IVECS lists: what the ids came from ("ivecs", "ibin",
	 * "HDF5"); whether item scores are the file's true distances (HDF5
	 * "distances"), not NaN; whether item lines are row numbers (HDF5:
	 * messages say FILE:ROW:) rather than byte offsets. */
	const char *ids_from;
	bool distances, by_row;
	/* private: open-addressing index of query number + 1 (0 = empty) */
	size_t *slots, nslots;
	bool keys_only;   /* read as EMB_LIST_CANDIDATES */
};

/* Read PATH ("-" = stdin) as FORMAT.  Fields are separated by tabs when
 * the line holds one, else by runs of blanks; blank lines are skipped.
 * Malformed lines and a document listed twice for a query are errors
 * ("prog: FILE:LINE: message", exit 1).  Owned by the caller. */
struct emb_list *emb_list_load(const char *path, enum emb_list_format format);
/* Ground truth: PATH read as FORMAT, EMB_LIST_TOPK, EMB_LIST_IVECS,
 * EMB_LIST_IBIN or EMB_LIST_HDF5, or EMB_LIST_RUN to tell them apart (the
 * HDF5 signature means HDF5, a name ending in .ibin ibin, a NUL byte in
 * the first 4 KiB ivecs; text is then a topk list or a TREC run).  ibin
 * and HDF5 "neighbors" rows are read as ivecs rows; an HDF5 file's
 * "distances", when it has them, become the items' scores (distances).  From ivecs, query i becomes qid "i+1" and database row
 * j (0-based) doc "j+1", the numbers embcos prints for keyless rows;
 * scores are NaN (the file holds none) and a negative row is an error. */
struct emb_list *emb_truth_load(const char *path, enum emb_list_format format);
/* Drop the second and later items of a document within each query
 * (keeping the first); returns how many were dropped. */
uint64_t emb_list_dedup(struct emb_list *l);
/* Index of query QID in L, or -1. */
long emb_list_find(const struct emb_list *l, const char *qid);
/* Rebuild the query index after qids were changed in place. */
void emb_list_reindex(struct emb_list *l);
/* Add an item to query QID (created at the end if new); DOC is copied.
 * For lists built from other sources (ivecs ground truth). */
struct emb_item *emb_list_add(struct emb_list *l, const char *qid, const char *doc,
			      uint64_t line);
struct emb_list *emb_list_new(const char *name, enum emb_list_format format);
void emb_list_free(struct emb_list *l);

/* Order the items of Q by rank, then by line (stable). */
void emb_qlist_sort_rank(struct emb_qlist *q);
/* Order the items of Q as trec_eval does: score descending, ties by
 * document id descending (strcmp); the rank column is ignored. */
void emb_qlist_sort_trec(struct emb_qlist *q);

/* ---- writing runs (embcos --topk, emblsh --db) ---- */

/* --format of a run: embcos's 'qkey dbkey score rank', or TREC's
 * 'qid Q0 docid rank score tag' that trec_eval, pytrec_eval and
 * ir_measures read. */
enum emb_run_format { EMB_RUN_TOPK = 0, EMB_RUN_TREC };
/* --format=NAME ("topk" or "trec"), else a usage error. */
enum emb_run_format emb_run_format_parse(const char *arg);
/* --run-tag=TAG: not empty and no blanks, else a usage error. */
const char *emb_run_tag_parse(const char *arg);
#define EMB_RUN_TAG_DEFAULT "embutils"
/* One line of a run on stdout: query QKEY, document DKEY at RANK
 * (1-based) with the score SCORE (LEN bytes of text).  TREC ids are
 * blank-separated, so a TREC key that is empty or holds a blank is an
 * error ("prog: key 'a b' holds a blank: ..."). */
void emb_run_put(enum emb_run_format f, const char *tag, const char *qkey, const char *dkey,
		 const char *score, size_t len, uint64_t rank);

/* ---- trec_eval measures ---- */

enum emb_measure {
	EMB_M_MAP = 0, EMB_M_RECIP_RANK, EMB_M_P, EMB_M_RECALL, EMB_M_NDCG_CUT,
	EMB_M_SUCCESS, EMB_M_COUNT
};
/* trec_eval's names ("map", "P", "ndcg_cut", ...) and whether the
 * measure takes cutoffs. */
const char *emb_measure_name(enum emb_measure m);
bool emb_measure_has_cutoffs(enum emb_measure m);
/* The measure called NAME, or -1. */
int emb_measure_parse(const char *name);
/* trec_eval's default cutoffs of M (static), their count in *N. */
const long *emb_measure_default_cutoffs(enum emb_measure m, size_t *n);

/*
 * One query judged: REL[i] is the judgement of the document at rank i+1
 * of the run (sorted with emb_qlist_sort_trec), -1 for a document not in
 * the qrels; NRET of them.  LEVELS[v] counts the qrels of the query with
 * judgement v >= 0 (v < NLEVELS).  Relevant means judgement >= 1, as
 * trec_eval's default -l 1.
 */
struct emb_judged {
	const long *rel;
	size_t nret;
	const size_t *levels;
	size_t nlevels;
};
/* The value of M (at CUTOFF when it takes one) with trec_eval's
 * definition: see embeval(1). */
double emb_measure_value(enum emb_measure m, long cutoff, const struct emb_judged *j);

/* ---- nearest-neighbour recall ---- */

enum emb_ties {
	EMB_TIES_DISTANCE = 0, /* ann-benchmarks: distance within the K-th true one */
	EMB_TIES_NONE,         /* id sets */
	EMB_TIES_GROUPS,       /* big-ann-benchmarks: the K-th true distance's group */
};

/* Hits of one query: how many of the first LOOK run items (RUN_DOC,
 * RUN_DIST, NRUN of them, in rank order) count against the K nearest of
 * the true list (TRUE_DOC, TRUE_DIST, NTRUE >= K, in rank order).  EPS < 0
 * means the ann-benchmarks default (threshold = K-th true distance +
 * 1e-3); EPS >= 0 the "epsilon" recall (threshold = K-th true distance *
 * (1 + EPS)).  Distances are smaller-is-nearer.  Recall@K is the result
 * (LOOK = K) over K; FAISS's 1-recall@R is whether it is nonzero for
 * K = 1, LOOK = R. */
size_t emb_recall_hits(enum emb_ties ties, double eps, size_t k, size_t look,
		       char *const *true_doc, const double *true_dist, size_t ntrue,
		       char *const *run_doc, const double *run_dist, size_t nrun);

#endif /* EMB_EVAL_H */
