/*
 * emb_knn.c - similarity functions, bounded per-query heaps and blocked
 * exhaustive search (sgemm, then exact re-scoring of the few candidates
 * that can enter a heap).
 */
#include <config.h>
#include "emb_knn.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#else
#include <gsl/gsl_cblas.h>
#endif

/* Scores held at once per block: queries are tiled so that the score
 * buffer stays near this size (8 MB) whatever the query count. */
#define SCORE_BUF_FLOATS (2u << 20)

static const char *const sim_names[] = {
	[EMB_SIM_COS] = "cos", [EMB_SIM_DOT] = "dot",
	[EMB_SIM_EUCLIDEAN] = "euclidean", [EMB_SIM_MANHATTAN] = "manhattan",
};

const char *emb_sim_name(enum emb_sim s)
{
	return s <= EMB_SIM_MANHATTAN ? sim_names[s] : "?";
}

double emb_sim_f32(enum emb_sim s, const float *a, const float *b, size_t n)
{
	double dot, aa, bb;
	switch (s) {
	case EMB_SIM_COS:
		emb_dot3_f32(a, b, n, &dot, &aa, &bb);
		return aa == 0 || bb == 0 ? NAN : dot / sqrt(aa * bb);
	case EMB_SIM_DOT:
		return emb_dot_f32(a, b, n);
	case EMB_SIM_EUCLIDEAN:
		/* 0 - d, not -d: identical rows score 0, never -0 */
		return 0.0 - sqrt(emb_l2sq_f32(a, b, n));
	case EMB_SIM_MANHATTAN:
		return 0.0 - emb_l1_f32(a, b, n);
	}
	return NAN;
}

/* ---- heaps ---- */

struct emb_topk *emb_topk_new(size_t nq, size_t k)
{
	struct emb_topk *t = emb_xcalloc(1, sizeof *t);
	t->nq = nq;
	t->k = k;
	t->count = emb_xcalloc(nq ? nq : 1, sizeof *t->count);
	return t;
}

void emb_topk_reserve(struct emb_topk *t, uint64_t rows)
{
	size_t want = rows < t->k ? (size_t)rows : t->k;
	if (want <= t->cap)
		return;
	size_t cap = t->cap ? 2 * t->cap : 16;
	cap = cap < want ? want : cap > t->k ? t->k : cap;
	size_t n1 = t->nq ? t->nq : 1;
	double *score = emb_xmalloc(emb_xmul(emb_xmul(n1, cap), sizeof *score));
	uint64_t *row = emb_xmalloc(emb_xmul(emb_xmul(n1, cap), sizeof *row));
	for (size_t q = 0; q < t->nq && t->cap; q++) {
		memcpy(score + q * cap, t->score + q * t->cap, t->count[q] * sizeof *score);
		memcpy(row + q * cap, t->row + q * t->cap, t->count[q] * sizeof *row);
	}
	free(t->score);
	free(t->row);
	t->score = score;
	t->row = row;
	t->cap = cap;
}

void emb_topk_free(struct emb_topk *t)
{
	if (!t)
		return;
	free(t->count);
	free(t->score);
	free(t->row);
	free(t);
}

/* The heap's order: the worst entry (lowest score, then highest row) is
 * at the root, so it is the one a better candidate replaces. */
static inline bool worse(double s1, uint64_t r1, double s2, uint64_t r2)
{
	return s1 < s2 || (s1 == s2 && r1 > r2);
}

static void sift_down(double *s, uint64_t *r, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && worse(s[c + 1], r[c + 1], s[c], r[c]))
			c++;
		if (!worse(s[c], r[c], s[i], r[i]))
			return;
		double ts = s[i]; s[i] = s[c]; s[c] = ts;
		uint64_t tr = r[i]; r[i] = r[c]; r[c] = tr;
		i = c;
	}
}

void emb_topk_push(struct emb_topk *t, size_t q, double score, uint64_t row)
{
	if (isnan(score) || t->k == 0)
		return;
	if (t->count[q] == t->cap && t->cap < t->k)
		emb_topk_reserve(t, (uint64_t)t->cap + 1);
	double *s = t->score + q * t->cap;
	uint64_t *r = t->row + q * t->cap;
	size_t n = t->count[q];
	if (n < t->k) {
		size_t i = n;
		s[i] = score;
		r[i] = row;
		while (i > 0 && worse(s[i], r[i], s[(i - 1) / 2], r[(i - 1) / 2])) {
			size_t p = (i - 1) / 2;
			double ts = s[i]; s[i] = s[p]; s[p] = ts;
			uint64_t tr = r[i]; r[i] = r[p]; r[p] = tr;
			i = p;
		}
		t->count[q] = n + 1;
	} else if (worse(s[0], r[0], score, row)) {
		s[0] = score;
		r[0] = row;
		sift_down(s, r, n, 0);
	}
}

void emb_topk_sort(struct emb_topk *t, size_t q)
{
	double *s = t->score + q * t->cap;
	uint64_t *r = t->row + q * t->cap;
	/* Heap sort: moving the worst to the end leaves the best first. */
	for (size_t n = t->count[q]; n > 1; n--) {
		double ts = s[0]; s[0] = s[n - 1]; s[n - 1] = ts;
		uint64_t tr = r[0]; r[0] = r[n - 1]; r[n - 1] = tr;
		sift_down(s, r, n - 1, 0);
	}
}

/* ---- blocked search ---- */

/*
 * sgemm works on "prepared" copies of the rows, never on the rows as read,
 * so that its f32 arithmetic can neither overflow nor underflow whatever
 * the magnitudes (a row of 3e38s, or of denormals, is as good as any):
 * for cosine the rows scaled to unit length by their norm computed in
 * double; for dot and euclidean the rows scaled by a power of two (exact)
 * so that their largest value is in [0.5, 1), the scale kept in double and
 * applied to sgemm's result in double.  Manhattan needs no sgemm and is
 * scored exactly.  Norms are always those of emb_dot3_f32, in double, so a
 * row is zero for every mode alike only when all its values are zero.
 */
struct emb_knn {
	enum emb_sim sim;
	const float *q;     /* nq*dim, the caller's */
	size_t nq, dim;
	double zero;
	float *qp;          /* prepared queries (not for manhattan) */
	double *qsc;        /* their scales (dot, euclidean) */
	double *qsq;        /* squared query norms */
	float *dp;          /* scratch: prepared database block */
	double *dsc;        /* scratch: its scales */
	double *dsq;        /* scratch: squared database norms */
	size_t dcap;        /* rows dp/dsc/dsq hold */
	float *sc;          /* scratch: sgemm scores of one query tile */
	size_t sccap;
	double tol;         /* relative sgemm rounding bound */
};

/* Squared norm of X in double; the prepared copy into OUT and its scale
 * into *SCALE (see above) unless the mode needs none. */
static double prepare_row(enum emb_sim sim, const float *x, size_t dim, float *out, double *scale)
{
	double dot, aa, bb;
	emb_dot3_f32(x, x, dim, &dot, &aa, &bb);
	*scale = 1;
	if (sim == EMB_SIM_COS) {
		double inv = aa > 0 ? 1 / sqrt(aa) : 0;
		for (size_t j = 0; j < dim; j++)
			out[j] = (float)(x[j] * inv);
	} else if (sim != EMB_SIM_MANHATTAN) {
		int e = emb_row_exp_f32(x, dim);
		double down = ldexp(1.0, -e);
		for (size_t j = 0; j < dim; j++)
			out[j] = (float)(x[j] * down);
		*scale = ldexp(1.0, e);
	}
	return aa;
}

struct emb_knn *emb_knn_new(enum emb_sim sim, const float *q, size_t nq, size_t dim,
			    double zero)
{
	struct emb_knn *s = emb_xcalloc(1, sizeof *s);
	size_t n1 = nq ? nq : 1;
	s->sim = sim;
	s->q = q;
	s->nq = nq;
	s->dim = dim;
	s->zero = zero;
	s->qsq = emb_xmalloc(emb_xmul(n1, sizeof *s->qsq));
	s->qsc = emb_xmalloc(emb_xmul(n1, sizeof *s->qsc));
	if (sim != EMB_SIM_MANHATTAN)
		s->qp = emb_xmalloc(emb_xmul(emb_xmul(n1, dim ? dim : 1), sizeof(float)));
	for (size_t i = 0; i < nq; i++)
		s->qsq[i] = prepare_row(sim, q + i * dim, dim, s->qp ? s->qp + i * dim : NULL,
					&s->qsc[i]);
	/* sgemm's error bound is about dim * u * |q||d| (u = 2^-24), plus the
	 * rounding of the prepared copies: a safe margin, doubled. */
	s->tol = (double)(dim + 8) * 2.0 * FLT_EPSILON;
	return s;
}

void emb_knn_free(struct emb_knn *s)
{
	if (!s)
		return;
	free(s->qp);
	free(s->qsc);
	free(s->qsq);
	free(s->dp);
	free(s->dsc);
	free(s->dsq);
	free(s->sc);
	free(s);
}

static void prepare_block(struct emb_knn *s, const float *d, size_t nd)
{
	if (nd > s->dcap) {
		s->dcap = nd;
		s->dsq = emb_xrealloc(s->dsq, emb_xmul(nd, sizeof *s->dsq));
		s->dsc = emb_xrealloc(s->dsc, emb_xmul(nd, sizeof *s->dsc));
		if (s->sim != EMB_SIM_MANHATTAN)
			s->dp = emb_xrealloc(s->dp, emb_xmul(emb_xmul(nd, s->dim), sizeof(float)));
	}
	for (size_t i = 0; i < nd; i++)
		s->dsq[i] = prepare_row(s->sim, d + i * s->dim, s->dim,
					s->dp ? s->dp + i * s->dim : NULL, &s->dsc[i]);
}

/* Rows of queries per tile so that a tile's scores fit the buffer. */
static size_t tile_rows(struct emb_knn *s, size_t nd)
{
	size_t rows = nd ? SCORE_BUF_FLOATS / nd : s->nq;
	rows = rows < 16 ? 16 : rows;
	rows = rows > s->nq ? s->nq : rows;
	if (emb_xmul(rows ? rows : 1, nd) > s->sccap) {
		s->sccap = emb_xmul(rows ? rows : 1, nd);
		s->sc = emb_xrealloc(s->sc, emb_xmul(s->sccap, sizeof(float)));
	}
	return rows;
}

/* sgemm of the prepared queries [q0, q0+nq) against the prepared block
 * into out[(i-q0)*nd + j]; nothing for manhattan. */
static void tile_scores(struct emb_knn *s, size_t nd, size_t q0, size_t nq, float *out)
{
	size_t dim = s->dim;
	if (s->sim == EMB_SIM_MANHATTAN)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nd, (int)dim,
		    1.0f, s->qp + q0 * dim, (int)dim, s->dp, (int)dim, 0.0f, out, (int)nd);
}

static double exact(const struct emb_knn *s, size_t qi, const float *drow, size_t j)
{
	if (s->sim == EMB_SIM_COS && (s->qsq[qi] == 0 || s->dsq[j] == 0))
		return s->zero;
	return emb_sim_f32(s->sim, s->q + qi * s->dim, drow, s->dim);
}

/* The approximate score of query QI and block row J (in double) from the
 * sgemm value G: scaled back for dot, and made a distance for euclidean;
 * the exact score for manhattan. */
static double approx(const struct emb_knn *s, float g, size_t qi, const float *d, size_t j)
{
	switch (s->sim) {
	case EMB_SIM_COS:
		return g;
	case EMB_SIM_DOT:
		return g * s->qsc[qi] * s->dsc[j];
	case EMB_SIM_EUCLIDEAN: {
		double sq = s->qsq[qi] + s->dsq[j] - 2.0 * (g * s->qsc[qi] * s->dsc[j]);
		return 0.0 - sqrt(sq > 0 ? sq : 0);
	}
	case EMB_SIM_MANHATTAN:
		return exact(s, qi, d + j * s->dim, j);
	}
	return NAN;
}

/* Whether a pair whose approximate score is X may beat FLOOR once scored
 * exactly: X is within the rounding bound of the exact score. */
static bool may_enter(const struct emb_knn *s, double x, double floor, size_t qi, size_t j)
{
	if (x >= floor || isnan(x))
		return true;
	switch (s->sim) {
	case EMB_SIM_COS:
		return x + s->tol >= floor;
	case EMB_SIM_DOT:
		return x + s->tol * sqrt(s->qsq[qi]) * sqrt(s->dsq[j]) >= floor;
	case EMB_SIM_EUCLIDEAN:
		/* compare squared distances, where the gemm error lives */
		return x * x - s->tol * 2 * (s->qsq[qi] + s->dsq[j]) <= floor * floor;
	case EMB_SIM_MANHATTAN:
		return false;
	}
	return true;
}

/* Score J of query QI for the softmax: the approximate value, but exact
 * for the terms within e^-30 of the block's largest (those carry the
 * sum), so the weights keep float64 accuracy whatever TAU is. */
static double lse_term(const struct emb_knn *s, const float *d, const float *sc, size_t qi,
		       size_t j, double m, double tau)
{
	if (s->sim == EMB_SIM_COS && (s->qsq[qi] == 0 || s->dsq[j] == 0))
		return s->zero / tau;
	double x = approx(s, sc ? sc[j] : 0, qi, d, j) / tau;
	if (x >= m - 30 && s->sim != EMB_SIM_MANHATTAN)
		x = exact(s, qi, d + j * s->dim, j) / tau;
	return x;
}

/* Fold one query's block of scores into its running log-sum-exp. */
static void fold_lse(const struct emb_knn *s, const float *d, size_t nd, const float *sc,
		     size_t qi, uint64_t self, double *lse, double tau)
{
	double m = -INFINITY, sum = 0;
	for (size_t j = 0; j < nd; j++) {
		/* the shift m needs no accuracy: sgemm values will do */
		double x = lse_term(s, d, sc, qi, j, INFINITY, tau);
		if (j != self && x > m)
			m = x;
	}
	if (m == -INFINITY || isnan(m))
		return;
	for (size_t j = 0; j < nd; j++) {
		double x = lse_term(s, d, sc, qi, j, m, tau);
		if (j != self && !isnan(x))
			sum += exp(x - m);
	}
	emb_lse_add(lse, m + log(sum));
}

static void scan_row(struct emb_knn *s, struct emb_topk *t, const float *d, size_t nd,
		     const float *sc, size_t qi, uint64_t base, bool exclude_self,
		     double *lse, double tau)
{
	uint64_t self = exclude_self && qi >= base && qi - base < nd ? qi - base : UINT64_MAX;
	double floor = emb_topk_floor(t, qi);
	for (size_t j = 0; j < nd; j++) {
		if (j == self)
			continue;
		if (s->sim == EMB_SIM_MANHATTAN) {
			emb_topk_push(t, qi, exact(s, qi, d + j * s->dim, j), base + j);
			continue;
		}
		if (!may_enter(s, approx(s, sc[j], qi, d, j), floor, qi, j))
			continue;
		emb_topk_push(t, qi, exact(s, qi, d + j * s->dim, j), base + j);
		floor = emb_topk_floor(t, qi);
	}
	if (lse)
		fold_lse(s, d, nd, s->sim == EMB_SIM_MANHATTAN ? NULL : sc, qi, self, &lse[qi], tau);
}

void emb_knn_block(struct emb_knn *s, struct emb_topk *t, const float *d, size_t nd,
		   uint64_t base, bool exclude_self, double *lse, double tau)
{
	if (nd == 0 || s->nq == 0)
		return;
	/* Room for the rows held plus this block's, not for BASE + ND: a
	 * shard's rows may be numbered from far into the database. */
	emb_topk_reserve(t, (uint64_t)t->cap + nd);
	prepare_block(s, d, nd);
	size_t tile = tile_rows(s, nd);
	for (size_t q0 = 0; q0 < s->nq; q0 += tile) {
		size_t nq = s->nq - q0 < tile ? s->nq - q0 : tile;
		tile_scores(s, nd, q0, nq, s->sc);
		for (size_t i = 0; i < nq; i++)
			scan_row(s, t, d, nd, s->sc + i * nd, q0 + i, base, exclude_self, lse, tau);
	}
}

void emb_knn_scores(struct emb_knn *s, const float *d, size_t nd, float *out)
{
	if (nd == 0 || s->nq == 0)
		return;
	prepare_block(s, d, nd);
	size_t tile = tile_rows(s, nd);
	for (size_t q0 = 0; q0 < s->nq; q0 += tile) {
		size_t nq = s->nq - q0 < tile ? s->nq - q0 : tile;
		tile_scores(s, nd, q0, nq, s->sc);
		/* transpose the tile: out rows are database rows */
		for (size_t i = 0; i < nq; i++)
			for (size_t j = 0; j < nd; j++) {
				double x;
				if (s->sim == EMB_SIM_COS && (s->qsq[q0 + i] == 0 || s->dsq[j] == 0))
					x = s->zero;
				else
					x = approx(s, s->sim == EMB_SIM_MANHATTAN ? 0 :
						   s->sc[i * nd + j], q0 + i, d, j);
				out[j * s->nq + q0 + i] = (float)x;
			}
	}
}
