/*
 * emb_eval.c - ranked lists (topk output, TREC runs, qrels) and the
 * measures embeval computes on them.  The definitions follow their
 * sources line by line: trec_eval 9.0.8 (m_map.c, m_recip_rank.c, m_P.c,
 * m_recall.c, m_ndcg_cut.c, m_success.c, form_res_rels.c), ann-benchmarks
 * (plotting/metrics.py: knn_threshold, epsilon_threshold,
 * get_recall_values) and big-ann-benchmarks (plotting/metrics.py:
 * compute_recall_with_distance_ties).
 */
#include <config.h>
#include "emb.h"
#include "emb_eval.h"
#include "emb_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- lists ---- */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

struct emb_list *emb_list_new(const char *name, enum emb_list_format format)
{
	struct emb_list *l = emb_xcalloc(1, sizeof *l);
	l->name = emb_xstrdup(name);
	l->format = format;
	return l;
}

static void rehash(struct emb_list *l)
{
	free(l->slots);
	l->nslots = l->nslots ? 2 * l->nslots : 64;
	l->slots = emb_xcalloc(l->nslots, sizeof *l->slots);
	for (size_t i = 0; i < l->nq; i++) {
		size_t h = hash_str(l->q[i].qid) & (l->nslots - 1);
		while (l->slots[h])
			h = (h + 1) & (l->nslots - 1);
		l->slots[h] = i + 1;
	}
}

void emb_list_reindex(struct emb_list *l)
{
	free(l->slots);
	l->slots = NULL;
	l->nslots = 32;
	while (l->nslots < 2 * l->nq)
		l->nslots *= 2;
	rehash(l);
}

long emb_list_find(const struct emb_list *l, const char *qid)
{
	if (!l->nslots)
		return -1;
	for (size_t h = hash_str(qid) & (l->nslots - 1); l->slots[h]; h = (h + 1) & (l->nslots - 1))
		if (strcmp(l->q[l->slots[h] - 1].qid, qid) == 0)
			return (long)(l->slots[h] - 1);
	return -1;
}

struct emb_item *emb_list_add(struct emb_list *l, const char *qid, const char *doc, uint64_t line)
{
	long i = emb_list_find(l, qid);
	if (i < 0) {
		if (l->nq == l->capq) {
			l->capq = l->capq ? 2 * l->capq : 64;
			l->q = emb_xrealloc(l->q, emb_xmul(l->capq, sizeof *l->q));
		}
		l->q[l->nq] = (struct emb_qlist){ .qid = emb_xstrdup(qid), .line = line };
		i = (long)l->nq++;
		if (2 * l->nq > l->nslots)
			rehash(l);
		else {
			size_t h = hash_str(qid) & (l->nslots - 1);
			while (l->slots[h])
				h = (h + 1) & (l->nslots - 1);
			l->slots[h] = (size_t)i + 1;
		}
	}
	struct emb_qlist *q = &l->q[i];
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->item = emb_xrealloc(q->item, emb_xmul(q->cap, sizeof *q->item));
	}
	struct emb_item *it = &q->item[q->n++];
	*it = (struct emb_item){ .doc = emb_xstrdup(doc), .line = line };
	return it;
}

void emb_list_free(struct emb_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nq; i++) {
		for (size_t j = 0; j < l->q[i].n; j++)
			free(l->q[i].item[j].doc);
		free(l->q[i].item);
		free(l->q[i].qid);
	}
	free(l->q);
	free(l->slots);
	free(l->name);
	free(l);
}

/* Split LINE in place into at most MAX fields: on tabs when it holds
 * one, else on runs of blanks.  Returns the number of fields (MAX + 1
 * when there are more). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	if (strchr(line, '\t')) {
		for (char *p = line;; p++) {
			if (n == max)
				return max + 1;
			f[n++] = p;
			p += strcspn(p, "\t");
			if (!*p)
				return n;
			*p = '\0';
		}
	}
	for (char *p = line;;) {
		p += strspn(p, " ");
		if (!*p)
			return n;
		if (n == max)
			return max + 1;
		f[n++] = p;
		p += strcspn(p, " ");
		if (!*p)
			return n;
		*p++ = '\0';
	}
}

static const char *const format_fields[] = {
	[EMB_LIST_TOPK] = "query key score rank",
	[EMB_LIST_TREC] = "qid Q0 docid rank score tag",
	[EMB_LIST_QRELS] = "qid iter docid rel",
	[EMB_LIST_PAIRS] = "key key [score]",
};
static const int format_nfields[] = {
	[EMB_LIST_TOPK] = 4, [EMB_LIST_TREC] = 6, [EMB_LIST_QRELS] = 4, [EMB_LIST_PAIRS] = 3,
};

static void parse_line(struct emb_list *l, char *line, uint64_t lineno)
{
	char *f[7];
	int n = split(line, f, 6);
	if (n == 0)
		return;
	if (l->format == EMB_LIST_CANDIDATES) {
		if (n < 2 || n == 5 || n > 6)
			emb_die_at(l->name, lineno, "a candidate list has 2 or 3 fields (key key "
				   "[score]), 4 (%s) or 6 (%s), not %s%d", format_fields[EMB_LIST_TOPK],
				   format_fields[EMB_LIST_TREC], n > 6 ? "more than " : "", n > 6 ? 6 : n);
		l->format = n <= 3 ? EMB_LIST_PAIRS : n == 4 ? EMB_LIST_TOPK : EMB_LIST_TREC;
	}
	if (l->format == EMB_LIST_RUN) {
		if (n != 4 && n != 6)
			emb_die_at(l->name, lineno, "a run has 4 fields (%s) or 6 (%s), "
				   "not %d", format_fields[EMB_LIST_TOPK],
				   format_fields[EMB_LIST_TREC], n);
		l->format = n == 4 ? EMB_LIST_TOPK : EMB_LIST_TREC;
	}
	int want = format_nfields[l->format];
	if (l->format == EMB_LIST_PAIRS && n == 2)
		want = 2;
	if (n != want)
		emb_die_at(l->name, lineno, "expected %d fields (%s), found %s%d", want,
			   format_fields[l->format], n > 6 ? "more than " : "", n > 6 ? 6 : n);
	for (int i = 0; i < n; i++)
		if (!*f[i])
			emb_die_at(l->name, lineno, "field %d is empty", i + 1);
	const char *doc = f[l->format == EMB_LIST_TOPK || l->format == EMB_LIST_PAIRS ? 1 : 2];
	struct emb_item *it = emb_list_add(l, f[0], doc, lineno);
	if (l->keys_only)
		return;
	long long v;
	if (l->format == EMB_LIST_QRELS) {
		if (!emb_parse_ll(f[3], &v))
			emb_die_at(l->name, lineno, "relevance '%s' is not a whole number", f[3]);
		/* judgements index a count per level (trec_eval's rel_levels) */
		if (v < -1000000 || v > 1000000)
			emb_die_at(l->name, lineno, "relevance %lld is outside -1000000..1000000", v);
		it->rel = (long)v;
		return;
	}
	/* pairs: key key [score], no rank (f[3] and f[4] are not set) */
	bool pairs = l->format == EMB_LIST_PAIRS;
	if (pairs && n == 2)
		return;
	const char *score = f[l->format == EMB_LIST_TOPK || pairs ? 2 : 4];
	const char *rank = pairs ? "0" : f[3];
	const char *end;
	double s;
	if (!emb_parse_f64(score, &end, &s) || *end)
		emb_die_at(l->name, lineno, "score '%s' is not a number", score);
	if (!isfinite(s))
		emb_die_at(l->name, lineno, "score '%s' is not finite", score);
	if (!emb_parse_ll(rank, &v))
		emb_die_at(l->name, lineno, "rank '%s' is not a whole number", rank);
	it->score = s;
	it->rank = v;
}

static int cmp_item_doc(const void *a, const void *b)
{
	const struct emb_item *x = *(struct emb_item *const *)a, *y = *(struct emb_item *const *)b;
	int c = strcmp(x->doc, y->doc);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A document twice for one query is an error in all three formats:
 * trec_eval refuses it, and a neighbour counted twice is a recall above
 * what was found. */
static void check_duplicates(const struct emb_list *l)
{
	struct emb_item **p = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < l->nq; i++) {
		const struct emb_qlist *q = &l->q[i];
		if (q->n > cap) {
			cap = q->n;
			free(p);
			p = emb_xmalloc(emb_xmul(cap, sizeof *p));
		}
		for (size_t j = 0; j < q->n; j++)
			p[j] = &q->item[j];
		qsort(p, q->n, sizeof *p, cmp_item_doc);
		for (size_t j = 1; j < q->n; j++)
			if (strcmp(p[j]->doc, p[j - 1]->doc) == 0 && l->format == EMB_LIST_IVECS &&
			    l->by_row)
				emb_die_at(l->name, p[j]->line, "neighbour %lld is listed twice",
					   strtoll(p[j]->doc, NULL, 10) - 1);
			else if (strcmp(p[j]->doc, p[j - 1]->doc) == 0 && l->format == EMB_LIST_IVECS)
				emb_die_offset(l->name, p[j]->line, "neighbour %lld is listed twice",
					       strtoll(p[j]->doc, NULL, 10) - 1);
			else if (strcmp(p[j]->doc, p[j - 1]->doc) == 0)
				emb_die_at(l->name, p[j]->line, "'%s' is listed twice for query '%s' "
					   "(first on line %llu)", p[j]->doc, q->qid,
					   (unsigned long long)p[j - 1]->line);
	}
	free(p);
}

uint64_t emb_list_dedup(struct emb_list *l)
{
	struct emb_item **p = NULL;
	size_t cap = 0;
	uint64_t dropped = 0;
	for (size_t i = 0; i < l->nq; i++) {
		struct emb_qlist *q = &l->q[i];
		if (q->n > cap) {
			cap = q->n;
			free(p);
			p = emb_xmalloc(emb_xmul(cap, sizeof *p));
		}
		for (size_t j = 0; j < q->n; j++)
			p[j] = &q->item[j];
		qsort(p, q->n, sizeof *p, cmp_item_doc);  /* by doc, then line */
		for (size_t j = 1, keep = 0; j < q->n; j++)
			if (strcmp(p[j]->doc, p[keep]->doc) == 0) {
				free(p[j]->doc);
				p[j]->doc = NULL;   /* a later line of the same doc */
			} else {
				keep = j;
			}
		size_t m = 0;
		for (size_t j = 0; j < q->n; j++)
			if (q->item[j].doc)
				q->item[m++] = q->item[j];
		dropped += q->n - m;
		q->n = m;
	}
	free(p);
	return dropped;
}

static struct emb_list *load_fp(FILE *fp, const char *name, enum emb_list_format format)
{
	struct emb_list *l = emb_list_new(name, format);
	l->keys_only = format == EMB_LIST_CANDIDATES;
	char *line = NULL;
	size_t cap = 0;
	uint64_t lineno = 0;
	ssize_t len;
	while ((len = emb_read_line(fp, l->name, lineno + 1, &line, &cap, NULL)) >= 0) {
		lineno++;
		if (strlen(line) != (size_t)len)
			emb_die_at(l->name, lineno, "a NUL byte in a text line (binary file?)");
		char *p = line;
		if (lineno == 1 && strncmp(p, EMB_UTF8_BOM, 3) == 0)
			p += 3;
		parse_line(l, p, lineno);
	}
	emb_fclose_r(fp, l->name);
	free(line);
	if (l->format == EMB_LIST_RUN || l->format == EMB_LIST_CANDIDATES)
		l->format = EMB_LIST_TOPK; /* empty: no lines to tell */
	if (!l->keys_only)
		check_duplicates(l);
	return l;
}

struct emb_list *emb_list_load(const char *path, enum emb_list_format format)
{
	return load_fp(emb_fopen_r(path), strcmp(path, "-") ? path : "-", format);
}

/* Ids ground truth (ivecs, ibin, HDF5 "neighbors") from FP (owned from
 * now on) read as FMT, named NAME. */
static struct emb_list *load_ids(FILE *fp, const char *name, enum emb_format fmt)
{
	struct emb_opts o = emb_opts;
	o.in_format = fmt;
	o.dataset = fmt == EMB_FMT_HDF5 ? "neighbors" : NULL;
	o.tensor = NULL;
	struct emb_stream *s = emb_open_r_fp(fp, name, &o);
	struct emb_list *l = emb_list_new(name, EMB_LIST_IVECS);
	l->ids_from = fmt == EMB_FMT_IVECS ? "ivecs" : fmt == EMB_FMT_IBIN ? "ibin" : "HDF5";
	l->by_row = fmt == EMB_FMT_HDF5;
	struct emb_chunk c = EMB_CHUNK_INIT;
	s->mtype = EMB_F64;
	uint64_t row = 0;
	/* ivecs rows start with their dim; ibin rows are values only */
	unsigned skip = fmt == EMB_FMT_IVECS ? 4 : 0;
	while (emb_read_chunk(s, &c) > 0)
		for (size_t i = 0; i < c.rows; i++) {
			char qid[24], doc[24];
			snprintf(qid, sizeof qid, "%llu", (unsigned long long)++row);
			/* fixed-size rows: row i starts at pos0 + i * pos_step */
			uint64_t at = l->by_row ? row : (c.npos ? c.pos[i] : c.pos0 + i * c.pos_step) + skip;
			for (size_t j = 0; j < c.dim; j++) {
				double v = emb_row_f64(&c, i)[j];
				uint64_t where = l->by_row ? row : at + 4 * j;
				if (v < 0 && l->by_row)
					emb_die_at(name, row, "neighbour %.0f is negative (%s holds 0-based "
						   "rows)", v, l->ids_from);
				if (v < 0)
					emb_die_offset(name, where, "neighbour %.0f is negative (%s holds "
						       "0-based rows)", v, l->ids_from);
				snprintf(doc, sizeof doc, "%.0f", v + 1);
				struct emb_item *it = emb_list_add(l, qid, doc, where);
				it->rank = (long long)j + 1;
				it->score = NAN;
			}
		}
	emb_close(s);
	emb_chunk_free(&c);
	check_duplicates(l);
	return l;
}

/* HDF5 "distances" (FP, owned from now on) into the scores of L, read
 * from "neighbors": the same shape, row for row. */
static void load_distances(struct emb_list *l, FILE *fp, const char *name)
{
	struct emb_opts o = emb_opts;
	o.in_format = EMB_FMT_HDF5;
	o.dataset = "distances";
	o.tensor = NULL;
	struct emb_stream *s = emb_open_r_fp(fp, name, &o);
	struct emb_chunk c = EMB_CHUNK_INIT;
	s->mtype = EMB_F64;
	size_t q = 0;
	while (emb_read_chunk(s, &c) > 0)
		for (size_t i = 0; i < c.rows; i++, q++) {
			if (q >= l->nq || c.dim != l->q[q].n)
				emb_die_at(name, q + 1, "the distances dataset is not the shape of "
					   "neighbors (%zu rows of %zu)", l->nq, l->nq ? l->q[0].n : 0);
			for (size_t j = 0; j < c.dim; j++)
				l->q[q].item[j].score = emb_row_f64(&c, i)[j];
		}
	if (q != l->nq)
		emb_die(EMB_EXIT_DATA, "%s: the distances dataset has %zu rows, neighbors %zu",
			name, q, l->nq);
	l->distances = true;
	emb_close(s);
	emb_chunk_free(&c);
}

/* HDF5 ground truth, the file's N bytes at BUF: HDF5 opens files by name,
 * so they go to a temporary file whose name is removed once both
 * datasets are open. */
static struct emb_list *load_hdf5(const char *name, const char *buf, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/embXXXXXX.h5", emb_tmpdir());
	int fd = mkstemps(path, 3);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		emb_die(EMB_EXIT_DATA, "cannot create a temporary file in %s: %s", emb_tmpdir(),
			strerror(errno));
	bool ok = fwrite(buf, 1, n, f) == n;
	if (fclose(f) != 0 || !ok) {
		int err = errno;
		unlink(path);
		emb_die(EMB_EXIT_DATA, "%s: write error: %s", emb_tmpfile_where(), strerror(err));
	}
	int has = emb_hdf5_has_dataset(path, "neighbors", name);
	int dist = has > 0 ? emb_hdf5_has_dataset(path, "distances", name) : 0;
	FILE *a = fopen(path, "r"), *b = dist > 0 ? fopen(path, "r") : NULL;
	if (has <= 0 || !a || (dist > 0 && !b)) {
		unlink(path);
		if (has < 0)
			emb_die_offset(name, 0, "not a readable HDF5 file (damaged or cut short?)");
		if (has == 0)
			emb_die(EMB_EXIT_DATA, "%s: no dataset 'neighbors' in the HDF5 file", name);
		emb_die(EMB_EXIT_DATA, "%s: %s", emb_tmpfile_where(), strerror(errno));
	}
	struct emb_list *l = load_ids(a, name, EMB_FMT_HDF5);
	if (b)
		load_distances(l, b, name);
	unlink(path);
	return l;
}

struct emb_list *emb_truth_load(const char *path, enum emb_list_format format)
{
	const char *name = strcmp(path, "-") ? path : "-";
	FILE *in = emb_fopen_r(path);
	size_t n = 0, cap = 1 << 16;
	char *buf = emb_xmalloc(cap);
	for (size_t got; (got = fread(buf + n, 1, cap - n, in)) > 0;) {
		n += got;
		if (n == cap)
			buf = emb_xrealloc(buf, cap *= 2);
	}
	emb_fclose_r(in, name);
	if (n == 0) {
		free(buf);
		return emb_list_new(name, format == EMB_LIST_RUN ? EMB_LIST_TOPK :
				    format == EMB_LIST_TOPK ? format : EMB_LIST_IVECS);
	}
	if (format == EMB_LIST_RUN && n >= 8 && memcmp(buf, "\x89HDF\r\n\x1a\n", 8) == 0)
		format = EMB_LIST_HDF5;
	else if (format == EMB_LIST_RUN && emb_format_by_extension(path) == EMB_FMT_IBIN)
		format = EMB_LIST_IBIN;
	else if (format == EMB_LIST_RUN)
		format = memchr(buf, '\0', n < 4096 ? n : 4096) ? EMB_LIST_IVECS : EMB_LIST_RUN;
	struct emb_list *l;
	if (format == EMB_LIST_HDF5) {
		l = load_hdf5(name, buf, n);
		free(buf);
		return l;
	}
	if (format == EMB_LIST_IVECS || format == EMB_LIST_IBIN) {
		/* the binary readers want a file descriptor */
		FILE *fp = emb_tmpfile("ivecs");
		if (fwrite(buf, 1, n, fp) != n || fflush(fp) != 0 || fseek(fp, 0, SEEK_SET) != 0)
			emb_die(EMB_EXIT_DATA, "%s: %s", emb_tmpfile_where(), strerror(errno));
		free(buf);
		return load_ids(fp, name, format == EMB_LIST_IBIN ? EMB_FMT_IBIN : EMB_FMT_IVECS);
	}
	FILE *fp = fmemopen(buf, n, "r");
	if (!fp)
		emb_die(EMB_EXIT_DATA, "%s: %s", name, strerror(errno));
	l = load_fp(fp, name, format);
	free(buf);
	return l;
}

static int cmp_rank(const void *a, const void *b)
{
	const struct emb_item *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

void emb_qlist_sort_rank(struct emb_qlist *q)
{
	qsort(q->item, q->n, sizeof *q->item, cmp_rank);
}

/* form_res_rels.c comp_sim_docno: sim descending, then docno descending. */
static int cmp_trec(const void *a, const void *b)
{
	const struct emb_item *x = a, *y = b;
	if (x->score > y->score)
		return -1;
	if (x->score < y->score)
		return 1;
	return strcmp(y->doc, x->doc);
}

void emb_qlist_sort_trec(struct emb_qlist *q)
{
	qsort(q->item, q->n, sizeof *q->item, cmp_trec);
}

/* ---- writing runs ---- */

enum emb_run_format emb_run_format_parse(const char *arg)
{
	static const char *const names[] = {"topk", "trec"};
	return (enum emb_run_format)emb_parse_name("--format", arg, names, 2);
}

#define TREC_BLANKS " \t\n\r\v\f"

const char *emb_run_tag_parse(const char *arg)
{
	if (!*arg || arg[strcspn(arg, TREC_BLANKS)])
		emb_usage_error("--run-tag wants one word without blanks, not '%s'", arg);
	return arg;
}

static void trec_id(const char *key, const char *what)
{
	if (!*key || key[strcspn(key, TREC_BLANKS)])
		emb_die(EMB_EXIT_DATA, "--format trec: %s key '%s' %s: TREC runs separate "
			"fields by blanks", what, key, *key ? "holds a blank" : "is empty");
}

/* The decimal digits of V, NUL-terminated, in BUF (24 bytes). */
static const char *u64_text(char *buf, uint64_t v)
{
	char *o = buf + 23;
	*o = '\0';
	do
		*--o = (char)('0' + v % 10);
	while (v /= 10);
	return o;
}

/* Lines are put together with stdio's unlocked calls and no printf: a
 * run of a million queries is tens of millions of lines. */
void emb_run_put(enum emb_run_format f, const char *tag, const char *qkey, const char *dkey,
		 const char *score, size_t len, uint64_t rank)
{
	char buf[24];
	const char *r = u64_text(buf, rank);
	if (f == EMB_RUN_TREC) {
		trec_id(qkey, "query");
		trec_id(dkey, "database");
		fputs(qkey, stdout);
		fputs(" Q0 ", stdout);
		fputs(dkey, stdout);
		putchar(' ');
		fputs(r, stdout);
		putchar(' ');
		fwrite(score, 1, len, stdout);
		putchar(' ');
		fputs(tag, stdout);
		putchar('\n');
		return;
	}
	fputs(qkey, stdout);
	putchar('\t');
	fputs(dkey, stdout);
	putchar('\t');
	fwrite(score, 1, len, stdout);
	putchar('\t');
	fputs(r, stdout);
	putchar('\n');
}

/* ---- trec_eval measures ---- */

static const char *const measure_names[EMB_M_COUNT] = {
	[EMB_M_MAP] = "map", [EMB_M_RECIP_RANK] = "recip_rank", [EMB_M_P] = "P",
	[EMB_M_RECALL] = "recall", [EMB_M_NDCG_CUT] = "ndcg_cut", [EMB_M_SUCCESS] = "success",
};

const char *emb_measure_name(enum emb_measure m)
{
	return measure_names[m];
}

bool emb_measure_has_cutoffs(enum emb_measure m)
{
	return m != EMB_M_MAP && m != EMB_M_RECIP_RANK;
}

int emb_measure_parse(const char *name)
{
	for (int m = 0; m < EMB_M_COUNT; m++)
		if (strcmp(name, measure_names[m]) == 0)
			return m;
	return -1;
}

const long *emb_measure_default_cutoffs(enum emb_measure m, size_t *n)
{
	static const long cuts[] = {5, 10, 15, 20, 30, 100, 200, 500, 1000};
	static const long success[] = {1, 5, 10};
	if (m == EMB_M_SUCCESS) {
		*n = 3;
		return success;
	}
	*n = emb_measure_has_cutoffs(m) ? sizeof cuts / sizeof cuts[0] : 0;
	return cuts;
}

static size_t num_rel(const struct emb_judged *j)
{
	size_t n = 0;
	for (size_t v = 1; v < j->nlevels; v++)
		n += j->levels[v];
	return n;
}

/* DCG of the run at CUTOFF (gain = judgement when positive, discount
 * log2(rank + 1)) over the ideal DCG of the qrels' positive judgements,
 * best first; 0 when the query has none (m_ndcg_cut.c). */
static double ndcg_cut(const struct emb_judged *j, size_t cutoff)
{
	double dcg = 0, ideal = 0;
	for (size_t i = 0; i < j->nret && i < cutoff; i++)
		if (j->rel[i] > 0)
			dcg += (double)j->rel[i] / log2((double)(i + 2));
	size_t i = 0;
	for (size_t v = j->nlevels; v-- > 1 && i < cutoff;)
		for (size_t c = 0; c < j->levels[v] && i < cutoff; c++, i++)
			ideal += (double)v / log2((double)(i + 2));
	return ideal > 0 ? dcg / ideal : dcg;
}

double emb_measure_value(enum emb_measure m, long cutoff, const struct emb_judged *j)
{
	size_t nrel = num_rel(j), cut = (size_t)cutoff, hits = 0;
	switch (m) {
	case EMB_M_MAP: {
		double sum = 0;
		for (size_t i = 0; i < j->nret; i++)
			if (j->rel[i] >= 1)
				sum += (double)++hits / (double)(i + 1);
		return hits ? sum / (double)nrel : 0;
	}
	case EMB_M_RECIP_RANK:
		for (size_t i = 0; i < j->nret; i++)
			if (j->rel[i] >= 1)
				return 1.0 / (double)(i + 1);
		return 0;
	case EMB_M_NDCG_CUT:
		return ndcg_cut(j, cut);
	case EMB_M_P:
	case EMB_M_RECALL:
	case EMB_M_SUCCESS:
		for (size_t i = 0; i < j->nret && i < cut; i++)
			hits += j->rel[i] >= 1;
		if (m == EMB_M_P)
			return (double)hits / (double)cut; /* short runs: nonrelevant fill */
		if (m == EMB_M_SUCCESS)
			return hits ? 1 : 0;
		return nrel ? (double)hits / (double)nrel : 0;
	case EMB_M_COUNT:
		break;
	}
	return 0;
}

/* ---- nearest-neighbour recall ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t emb_recall_hits(enum emb_ties ties, double eps, size_t k, size_t look,
		       char *const *true_doc, const double *true_dist, size_t ntrue,
		       char *const *run_doc, const double *run_dist, size_t nrun)
{
	size_t hits = 0, n = nrun < look ? nrun : look;
	if (ties == EMB_TIES_DISTANCE) {
		/* ann-benchmarks knn_threshold / epsilon_threshold */
		double t = eps < 0 ? true_dist[k - 1] + 1e-3 : true_dist[k - 1] * (1 + eps);
		for (size_t i = 0; i < n; i++)
			hits += run_dist[i] <= t;
		return hits;
	}
	/* The true set: the K nearest, and for groups every later one whose
	 * distance is within 1e-6 of the K-th, up to the first that is not
	 * (big-ann-benchmarks anchors the group at position K-1). */
	size_t end = k;
	if (ties == EMB_TIES_GROUPS)
		while (end < ntrue && fabs(true_dist[k - 1] - true_dist[end]) < 1e-6)
			end++;
	char **set = emb_xmalloc(emb_xmul(end, sizeof *set));
	memcpy(set, true_doc, end * sizeof *set);
	qsort(set, end, sizeof *set, cmp_str);
	for (size_t i = 0; i < n; i++)
		hits += bsearch(&run_doc[i], set, end, sizeof *set, cmp_str) != NULL;
	free(set);
	return hits;
}
