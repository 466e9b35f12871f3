/*
 * emb_knn.h - similarity kernels and exact top-k search, shared by embcos
 * (ground truth) and emblsh (re-ranking candidates).
 *
 * Kernels (emb_simd.c) read f32 rows and accumulate in f64, so a score
 * agrees with numpy's float64 result to about 1e-15 relative whatever the
 * dim; the best of AVX-512, AVX2+FMA and SSE2 is chosen once at run time.
 *
 * Search (emb_knn.c) keeps one bounded heap per query.  Order: higher
 * score first, and on equal scores the lower database row first, so the
 * result is a deterministic function of the data (numpy's
 * argsort(-s, kind="stable") order).
 */
#ifndef EMB_KNN_H
#define EMB_KNN_H

#include "emb.h"

#include <math.h>

/* ---- kernels (emb_simd.c) ---- */

/* E such that the largest |value| of the N values at X times 2^-E lies
 * in [0.5, 1); 0 for a zero row.  Scaling a row by 2^-E (in double: it
 * need not be a float) brings denormal and huge rows into the range where
 * f32 arithmetic (sgemm, hashing) loses nothing. */
int emb_row_exp_f32(const float *x, size_t n);
/* In one pass over A and B (N values each): *dot = sum a*b, *aa = sum a*a,
 * *bb = sum b*b, all accumulated in double. */
void emb_dot3_f32(const float *a, const float *b, size_t n,
		  double *dot, double *aa, double *bb);
/* emb_dot3_f32(X, X, N)'s aa, to the same bits, in a third of its work. */
double emb_sumsq_f32(const float *x, size_t n);
/* OUT[i] = (float)(X[i] * BY) for i < N, each product in double. */
void emb_scale_f32(const float *x, size_t n, double by, float *out);
/* sum a*b, accumulated in double. */
double emb_dot_f32(const float *a, const float *b, size_t n);
/* sum (a-b)^2 and sum |a-b|, accumulated in double. */
double emb_l2sq_f32(const float *a, const float *b, size_t n);
double emb_l1_f32(const float *a, const float *b, size_t n);
/* The first index in [I, N) whose value is not below T (a NaN is not
 * below anything), or N: the threshold scan of top-k, one compare per
 * value before any heap work. */
size_t emb_next_nlt_f32(const float *x, size_t i, size_t n, float t);
/* Name of the kernel set in use ("avx512", "avx2", "sse2" or "generic"),
 * for benchmarks and --version-style diagnostics. */
const char *emb_simd_name(void);

/* ---- similarity functions (emb_knn.c) ---- */

/* The scoring functions of sentence-transformers: distances are negated
 * so that higher is always more similar. */
enum emb_sim { EMB_SIM_COS = 0, EMB_SIM_DOT, EMB_SIM_EUCLIDEAN, EMB_SIM_MANHATTAN };
const char *emb_sim_name(enum emb_sim s);
/* Exact score of rows A and B (N values) in double.  For EMB_SIM_COS a
 * zero vector gives NaN (the caller decides what that means). */
double emb_sim_f32(enum emb_sim s, const float *a, const float *b, size_t n);

/* ---- top-k (emb_knn.c) ---- */

/*
 * K best (score, row) pairs for each of NQ queries.  emb_topk_new()
 * allocates everything; emb_topk_free() releases it.  Rows are 0-based
 * database row numbers counted over the whole stream (uint64_t, so a
 * streamed database may exceed memory).
 */
struct emb_topk {
	size_t nq, k;
	size_t cap;        /* entries room per query: min(k, rows offered), grown */
	size_t *count;     /* entries held per query (<= cap) */
	double *score;     /* nq*cap: min-heap by (score, -row) per query */
	uint64_t *row;     /* nq*cap */
};
/* K may be far larger than the database (-k 30000000): the heaps grow
 * with the rows offered, never beyond K, so memory is nq*min(k, rows). */
struct emb_topk *emb_topk_new(size_t nq, size_t k);
void emb_topk_free(struct emb_topk *t);
/* Room for min(k, ROWS) entries per query (emb_knn_block calls it with
 * the entries held plus its block's rows). */
void emb_topk_reserve(struct emb_topk *t, uint64_t rows);
/* The score a candidate must reach to enter query Q's heap (-inf until
 * the heap is full). */
static inline double emb_topk_floor(const struct emb_topk *t, size_t q)
{ return t->count[q] < t->k ? -INFINITY : t->score[q * t->cap]; }
/* Offer (SCORE, ROW) to query Q; NaN scores are never kept. */
void emb_topk_push(struct emb_topk *t, size_t q, double score, uint64_t row);
/* Sort query Q's entries best first, in place (the heap is consumed:
 * push no more to Q afterwards). */
void emb_topk_sort(struct emb_topk *t, size_t q);

/*
 * Exhaustive search of one database block.  Q holds NQ query rows and D
 * holds ND database rows (both f32, DIM values each, as read, all finite).
 * The block is scored with sgemm (of copies normalised in double for
 * EMB_SIM_COS, of copies scaled by a power of two for dot and euclidean,
 * so that f32 neither overflows nor underflows; EMB_SIM_MANHATTAN is
 * scored directly), and every candidate whose sgemm score is within the f32
 * rounding bound of a heap's floor is re-scored exactly with emb_sim_f32
 * before it is pushed, so kept scores and their order are those of
 * float64.  BASE is the database row number of D's first row;
 * EXCLUDE_SELF skips database row == query index.  ZERO is the cosine
 * score given to a zero vector (NaN: the pair is never kept).  If LSE is
 * not NULL, lse[q] accumulates log(sum exp(score/TAU)) over every row
 * scored (for softmax; start each at -INFINITY).  emb_knn_new() keeps a
 * pointer to Q (Q must outlive the object) and owns its scratch buffers.
 */
struct emb_knn;
struct emb_knn *emb_knn_new(enum emb_sim sim, const float *q, size_t nq, size_t dim,
			    double zero);
void emb_knn_block(struct emb_knn *s, struct emb_topk *t, const float *d, size_t nd,
		   uint64_t base, bool exclude_self, double *lse, double tau);
/* All scores of ND rows D against the NQ queries, by sgemm (f32: error
 * about DIM * 2^-24 * |d||q|) into OUT[i*nq + j] = score(d_i, q_j). */
void emb_knn_scores(struct emb_knn *s, const float *d, size_t nd, float *out);
void emb_knn_free(struct emb_knn *s);
/* Query rows per sgemm call against a block of ND rows (of NQ queries):
 * the tiling emb_knn_block uses, for bench/sgemm.c's floor. */
size_t emb_knn_tile_rows(size_t nq, size_t nd);

/* Fold X into a running log-sum-exp *LSE (start from -inf); NaN is
 * ignored. */
static inline void emb_lse_add(double *lse, double x)
{
	if (isnan(x))
		return;
	if (x > *lse)
		*lse = x + log1p(exp(*lse - x));
	else
		*lse = *lse + log1p(exp(x - *lse));
}

#endif /* EMB_KNN_H */
