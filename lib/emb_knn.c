/*
 * emb_knn.c - similarity functions, bounded per-query heaps and blocked
 * exhaustive search (sgemm, then exact re-scoring of the few candidates
 * that can enter a heap).
 */
#include <config.h>
#include "emb_knn.h"
#include "emb_par.h"

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
	unsigned nthr;      /* threads searching a block (emb_threads) */
	float **sc;         /* scratch per thread: sgemm scores of one query tile */
	size_t sccap;       /* floats each sc[t] holds */
	double tol;         /* relative sgemm rounding bound */
};

/* Squared norm of X in double; the prepared copy into OUT and its scale
 * into *SCALE (see above) unless the mode needs none. */
static double prepare_row(enum emb_sim sim, const float *x, size_t dim, float *out, double *scale)
{
	double aa = emb_sumsq_f32(x, dim);
	*scale = 1;
	if (sim == EMB_SIM_COS) {
		emb_scale_f32(x, dim, aa > 0 ? 1 / sqrt(aa) : 0, out);
	} else if (sim != EMB_SIM_MANHATTAN) {
		int e = emb_row_exp_f32(x, dim);
		emb_scale_f32(x, dim, ldexp(1.0, -e), out);
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
	/* No more threads than queries (each owns a range of them); the
	 * kernels are chosen here, before any thread could race to. */
	(void)emb_simd_name();
	s->nthr = emb_threads();
	if (s->nthr > nq)
		s->nthr = nq ? (unsigned)nq : 1;
	s->sc = emb_xcalloc(s->nthr, sizeof *s->sc);
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
	for (unsigned i = 0; s->sc && i < s->nthr; i++)
		free(s->sc[i]);
	free(s->sc);
	free(s);
}

struct prep_job {
	struct emb_knn *s;
	const float *d;
	size_t nd;
	unsigned n;
};

static void prepare_part(void *arg, unsigned part)
{
	struct prep_job *j = arg;
	struct emb_knn *s = j->s;
	size_t lo, hi;
	emb_par_range(j->nd, j->n, part, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		s->dsq[i] = prepare_row(s->sim, j->d + i * s->dim, s->dim,
					s->dp ? s->dp + i * s->dim : NULL, &s->dsc[i]);
}

static void prepare_block(struct emb_knn *s, const float *d, size_t nd, unsigned nthr)
{
	if (nd > s->dcap) {
		s->dcap = nd;
		s->dsq = emb_xrealloc(s->dsq, emb_xmul(nd, sizeof *s->dsq));
		s->dsc = emb_xrealloc(s->dsc, emb_xmul(nd, sizeof *s->dsc));
		if (s->sim != EMB_SIM_MANHATTAN)
			s->dp = emb_xrealloc(s->dp, emb_xmul(emb_xmul(nd, s->dim), sizeof(float)));
	}
	/* a thread per 256 rows at least: starting one costs ~20 us */
	unsigned n = nd / 256 < nthr ? (unsigned)(nd / 256) : nthr;
	struct prep_job j = {s, d, nd, n ? n : 1};
	emb_par_run(j.n, prepare_part, &j);
}

/* Rows of queries per tile so that a tile's scores fit the buffer, and
 * buffers for NTHR threads. */
static size_t tile_rows(struct emb_knn *s, size_t nd, unsigned nthr)
{
	size_t rows = emb_knn_tile_rows(s->nq, nd);
	size_t want = emb_xmul(rows ? rows : 1, nd);
	if (want > s->sccap) {
		for (unsigned i = 0; i < s->nthr; i++) {
			free(s->sc[i]);
			s->sc[i] = NULL;
		}
		s->sccap = want;
	}
	for (unsigned i = 0; i < nthr; i++)
		if (!s->sc[i])
			s->sc[i] = emb_xcalloc(s->sccap, sizeof(float)); /* see tile_scores */
	return rows;
}

size_t emb_knn_tile_rows(size_t nq, size_t nd)
{
	size_t rows = nd ? SCORE_BUF_FLOATS / nd : nq;
	rows = rows < 16 ? 16 : rows;
	return rows > nq ? nq : rows;
}

/* sgemm of the prepared queries [q0, q0+nq) against the prepared block
 * into out[(i-q0)*nd + j]; nothing for manhattan.  OUT must hold zeros
 * there: sgemm adds to it (beta = 1), which spares OpenBLAS's pass that
 * zeroes the tile first (7% of a top-k's time), and whoever reads a row
 * of scores zeroes it while it is still in cache (clear_scores). */
static void tile_scores(struct emb_knn *s, size_t nd, size_t q0, size_t nq, float *out)
{
	size_t dim = s->dim;
	if (s->sim == EMB_SIM_MANHATTAN)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nd, (int)dim,
		    1.0f, s->qp + q0 * dim, (int)dim, s->dp, (int)dim, 1.0f, out, (int)nd);
}

/* Give N scores back to zero once read (see tile_scores). */
static void clear_scores(const struct emb_knn *s, float *sc, size_t n)
{
	if (s->sim != EMB_SIM_MANHATTAN)
		memset(sc, 0, n * sizeof *sc);
}

static double exact(const struct emb_knn *s, size_t qi, const float *drow, size_t j)
{
	if (s->sim != EMB_SIM_COS)
		return emb_sim_f32(s->sim, s->q + qi * s->dim, drow, s->dim);
	if (s->qsq[qi] == 0 || s->dsq[j] == 0)
		return s->zero;
	/* emb_sim_f32's cosine to the bit: the norms are its aa and bb
	 * (emb_sumsq_f32), so only the dot product is left to compute. */
	return emb_dot_f32(s->q + qi * s->dim, drow, s->dim) / sqrt(s->qsq[qi] * s->dsq[j]);
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

/* Fold one query's block of scores into its running log-sum-exp.  The
 * shift M is the block's largest score found exactly, as the heaps find
 * theirs (the sgemm maximum scored exactly, then every pair that may beat
 * it), not the sgemm maximum: that one moves with sgemm's rounding, which
 * differs with the tiling and the thread count, and the sum's last bits
 * moved with it. */
static void fold_lse(const struct emb_knn *s, const float *d, size_t nd, const float *sc,
		     size_t qi, uint64_t self, double *lse, double tau)
{
	size_t top = SIZE_MAX;
	double xa = -INFINITY;
	for (size_t j = 0; j < nd; j++) {
		double x = lse_term(s, d, sc, qi, j, INFINITY, tau);
		if (j != self && x > xa) {
			xa = x;
			top = j;
		}
	}
	if (top == SIZE_MAX)
		return;
	double m = xa;  /* manhattan's terms are exact already */
	if (s->sim != EMB_SIM_MANHATTAN) {
		double best = exact(s, qi, d + top * s->dim, top);
		for (size_t j = 0; j < nd; j++) {
			if (j == self || j == top)
				continue;
			bool zero = s->sim == EMB_SIM_COS && (s->qsq[qi] == 0 || s->dsq[j] == 0);
			if (!zero && !may_enter(s, approx(s, sc[j], qi, d, j), best, qi, j))
				continue;
			double e = exact(s, qi, d + j * s->dim, j);
			best = e > best ? e : best;
		}
		m = best / tau;
	}
	double sum = 0;
	if (m == -INFINITY || isnan(m))
		return;
	for (size_t j = 0; j < nd; j++) {
		double x = lse_term(s, d, sc, qi, j, m, tau);
		if (j != self && !isnan(x))
			sum += exp(x - m);
	}
	emb_lse_add(lse, m + log(sum));
}

/* The largest float at most X - 2 TOL, so that an sgemm cosine G below
 * it cannot pass may_enter(G, X): the margin of one more TOL leaves room
 * for the double rounding of G + TOL (cosines are at most ~1). */
static float cos_cut(double x, double tol)
{
	double c = x - 2 * tol;
	float f = (float)c;
	if ((double)f > c)
		f = nextafterf(f, -INFINITY);
	return f;
}

static void scan_row(struct emb_knn *s, struct emb_topk *t, const float *d, size_t nd,
		     const float *sc, size_t qi, uint64_t base, bool exclude_self,
		     double *lse, double tau)
{
	uint64_t self = exclude_self && qi >= base && qi - base < nd ? qi - base : UINT64_MAX;
	double floor = emb_topk_floor(t, qi);
	if (s->sim == EMB_SIM_COS) {
		/* One vector compare per score against the heap's floor: only
		 * the rare pair that may enter is looked at in double. */
		float cut = cos_cut(floor, s->tol);
		for (size_t j = 0; (j = emb_next_nlt_f32(sc, j, nd, cut)) < nd; j++) {
			if (j == self || !may_enter(s, approx(s, sc[j], qi, d, j), floor, qi, j))
				continue;
			emb_topk_push(t, qi, exact(s, qi, d + j * s->dim, j), base + j);
			floor = emb_topk_floor(t, qi);
			cut = cos_cut(floor, s->tol);
		}
		if (lse)
			fold_lse(s, d, nd, sc, qi, self, &lse[qi], tau);
		return;
	}
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

/*
 * Each thread owns a contiguous range of queries and scores it tile by
 * tile: its own single-threaded sgemm, then the scan of that tile while
 * its scores are warm, while the other threads run their sgemms.  One
 * caller of OpenBLAS's threaded sgemm would leave every core but one
 * idle (OpenBLAS's threads spinning in sched_yield) during each scan.
 * A query's pairs are offered in the same order whatever the thread
 * count, so results do not depend on it.
 */
struct search_job {
	struct emb_knn *s;
	struct emb_topk *t;
	const float *d;
	size_t nd;
	uint64_t base;
	bool exclude_self;
	double *lse;
	double tau;
	size_t tile;
	unsigned n;
};

static void search_part(void *arg, unsigned part)
{
	struct search_job *j = arg;
	size_t lo, hi;
	emb_par_range(j->s->nq, j->n, part, &lo, &hi);
	float *sc = j->s->sc[part];
	for (size_t q0 = lo; q0 < hi; q0 += j->tile) {
		size_t nq = hi - q0 < j->tile ? hi - q0 : j->tile;
		tile_scores(j->s, j->nd, q0, nq, sc);
		for (size_t i = 0; i < nq; i++) {
			scan_row(j->s, j->t, j->d, j->nd, sc + i * j->nd, q0 + i, j->base,
				 j->exclude_self, j->lse, j->tau);
			clear_scores(j->s, sc + i * j->nd, j->nd);
		}
	}
}

void emb_knn_block(struct emb_knn *s, struct emb_topk *t, const float *d, size_t nd,
		   uint64_t base, bool exclude_self, double *lse, double tau)
{
	if (nd == 0 || s->nq == 0)
		return;
	/* Room for the rows held plus this block's, not for BASE + ND: a
	 * shard's rows may be numbered from far into the database. */
	emb_topk_reserve(t, (uint64_t)t->cap + nd);
	/* From here no push grows the heaps (at most ND per query), so the
	 * threads share T, each writing only its own queries' entries. */
	unsigned nthr = s->nthr;
	prepare_block(s, d, nd, nthr);
	struct search_job j = {s, t, d, nd, base, exclude_self, lse, tau,
			       tile_rows(s, nd, nthr), nthr};
	if (nthr == 1) {
		search_part(&j, 0);
		return;
	}
	int blas = emb_blas_threads(1);
	emb_par_run(nthr, search_part, &j);
	emb_blas_threads(blas);
}

void emb_knn_scores(struct emb_knn *s, const float *d, size_t nd, float *out)
{
	if (nd == 0 || s->nq == 0)
		return;
	prepare_block(s, d, nd, s->nthr);
	size_t tile = tile_rows(s, nd, 1);
	float *sc = s->sc[0];
	for (size_t q0 = 0; q0 < s->nq; q0 += tile) {
		size_t nq = s->nq - q0 < tile ? s->nq - q0 : tile;
		tile_scores(s, nd, q0, nq, sc);
		/* transpose the tile: out rows are database rows */
		for (size_t i = 0; i < nq; i++)
			for (size_t j = 0; j < nd; j++) {
				double x;
				if (s->sim == EMB_SIM_COS && (s->qsq[q0 + i] == 0 || s->dsq[j] == 0))
					x = s->zero;
				else
					x = approx(s, s->sim == EMB_SIM_MANHATTAN ? 0 :
						   sc[i * nd + j], q0 + i, d, j);
				out[j * s->nq + q0 + i] = (float)x;
			}
		clear_scores(s, sc, nq * nd);
	}
}
