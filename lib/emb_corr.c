/*
 * emb_corr.c - Pearson and Spearman correlation as scipy 1.10 computes
 * them (pearsonr, spearmanr, rankdata, PearsonRResult.confidence_interval),
 * plus what embpearson and embspearman share: options, grouping with the
 * mean/wmean/all aggregates, bootstrap, and the TSV/JSON report.
 * The caller owns every array passed in; results are plain values.
 */
#include <config.h>
#include "emb_corr.h"
#include "emb_par.h"

#include <cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranking ----
 *
 * Only the ranks are wanted, never the sorted array, so each tie group is
 * ranked where it is found:
 *  - few distinct values (STS gold scores: 26 of them in millions of rows):
 *    count them in a small hash table, sort the distinct values, and look
 *    each row's rank up: two passes, no sort of the rows;
 *  - otherwise an MSD radix sort of (key, row) pairs on the bits in which
 *    the keys of a bucket differ, the first pass straight from the values.
 *    Equal keys always share a bucket, so a bucket whose keys are all
 *    equal, or a small one sorted by insertion, is ranked at once (its
 *    place in the whole order is where the bucket starts); one pass over
 *    the sorted pairs then writes the ranks out by row, prefetching.
 * Ties get the mean of the 1-based ranks they span, 0.5 * (i + 1 + j) for
 * positions i .. j-1, as scipy's rankdata('average'). */

/* Map a double to an unsigned key with the same order (-0 == +0). */
static uint64_t order_key(double v)
{
	uint64_t b;
	if (v == 0)
		v = 0;
	memcpy(&b, &v, sizeof b);
	return (b >> 63) ? ~b : b | (UINT64_C(1) << 63);
}

#define FEW_MAX 4096                  /* distinct values for the table */
#define FEW_SLOTS (2 * FEW_MAX)

/* The slot of key K in the open-addressing table TAB (CNT[i] == 0: empty). */
static size_t few_slot(const uint64_t *tab, const size_t *cnt, uint64_t k)
{
	size_t i = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 51) & (FEW_SLOTS - 1);
	while (cnt[i] && tab[i] != k)
		i = (i + 1) & (FEW_SLOTS - 1);
	return i;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* A key and the row it came from; once ranked, KEY holds the rank's bits. */
struct kv {
	uint64_t key, row;
};

#define TOP_BITS 16

/* Below this many rows a column is ranked faster than threads start. */
#define RANK_PAR_MIN 65536
/* Threads of the first pass (each counts into 2^TOP_BITS slots of its own). */
#define FIRST_PAR_MAX 8

/* Everything one ranking needs, allocated before it starts, so that
 * rankings can run on threads (which must not die on a failed malloc).
 * T has room for N pairs, but only the largest first-pass bucket's pages
 * (one such per thread) are ever touched. */
struct rank_scratch {
	uint64_t *tab, *keys;
	size_t *cnt, *count, *end;
	size_t *piece_count;    /* FIRST_PAR_MAX first-pass counts, or NULL */
	double *slot_rank;
	struct kv *a, *t;
};

/* A scratch for N values (n >= 1); the caller frees it with
 * rank_scratch_free(). */
static struct rank_scratch rank_scratch_new(size_t n)
{
	struct rank_scratch w;
	w.tab = emb_xmalloc(FEW_SLOTS * sizeof *w.tab);
	w.cnt = emb_xmalloc(FEW_SLOTS * sizeof *w.cnt);
	w.keys = emb_xmalloc(FEW_MAX * sizeof *w.keys);
	w.slot_rank = emb_xmalloc(FEW_SLOTS * sizeof *w.slot_rank);
	w.count = emb_xmalloc(((size_t)1 << TOP_BITS) * sizeof *w.count);
	w.end = emb_xmalloc(((size_t)1 << TOP_BITS) * sizeof *w.end);
	w.piece_count = n >= RANK_PAR_MIN && emb_threads() > 1 ?
		emb_xmalloc(FIRST_PAR_MAX * ((size_t)1 << TOP_BITS) * sizeof *w.piece_count) : NULL;
	w.a = emb_xmalloc(emb_xmul(n, sizeof *w.a));
	w.t = emb_xmalloc(emb_xmul(n, sizeof *w.t));
	return w;
}

static void rank_scratch_free(struct rank_scratch *w)
{
	free(w->t);
	free(w->a);
	free(w->end);
	free(w->piece_count);
	free(w->count);
	free(w->slot_rank);
	free(w->keys);
	free(w->cnt);
	free(w->tab);
}

/* Rank V if it has at most FEW_MAX distinct values; false (RANK
 * untouched) as soon as it meets more. */
static bool rank_few(struct rank_scratch *w, const double *v, size_t n, double *rank)
{
	uint64_t *tab = w->tab, *keys = w->keys;
	size_t *cnt = w->cnt;
	double *slot_rank = w->slot_rank;
	size_t nd = 0;

	memset(cnt, 0, FEW_SLOTS * sizeof *cnt);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = order_key(v[i]);
		size_t s = few_slot(tab, cnt, k);
		if (!cnt[s]) {
			if (nd == FEW_MAX)
				return false;
			tab[s] = k;
			keys[nd++] = k;
		}
		cnt[s]++;
	}
	qsort(keys, nd, sizeof *keys, cmp_key);
	for (size_t d = 0, pos = 0; d < nd; d++) {
		size_t s = few_slot(tab, cnt, keys[d]);
		slot_rank[s] = 0.5 * (double)(pos + 1 + pos + cnt[s]);
		pos += cnt[s];
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = slot_rank[few_slot(tab, cnt, order_key(v[i]))];
	return true;
}

static uint64_t rank_bits(size_t lo, size_t hi)
{
	double r = 0.5 * (double)(lo + 1 + hi);
	uint64_t b;
	memcpy(&b, &r, sizeof b);
	return b;
}

/* Give the N sorted pairs A[0..n), at positions OFF .. OFF+n-1 of the
 * whole order, their ranks in place of their keys. */
static void rank_sorted(struct kv *a, size_t n, size_t off)
{
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j].key == a[i].key; j++)
			;
		uint64_t r = rank_bits(off + i, off + j);
		for (size_t k = i; k < j; k++)
			a[k].key = r;
	}
}

/* Sort the N pairs A[] (n >= 1), at positions OFF .. OFF+n-1 of the whole
 * order, into HOME[0..n) (which may be A) with their ranks in place of
 * their keys.  T is n pairs of scratch (HOME if A is not HOME).  DIFF is
 * the OR of every key XOR the first (0: all equal).  Leaves are small
 * buckets and tie groups; writing the ranks out by row is left to one
 * pass over the whole sorted array, which can prefetch. */
static void rank_msd(struct kv *a, struct kv *t, struct kv *home, size_t n,
		     size_t off, uint64_t diff)
{
	if (diff == 0 || n <= 32) {
		if (diff == 0) {  /* one tie group */
			uint64_t r = rank_bits(off, off + n);
			for (size_t i = 0; i < n; i++)
				a[i].key = r;
		} else {
			for (size_t i = 1; i < n; i++) {
				struct kv x = a[i];
				size_t j = i;
				for (; j > 0 && a[j - 1].key > x.key; j--)
					a[j] = a[j - 1];
				a[j] = x;
			}
			rank_sorted(a, n, off);
		}
		if (a != home)
			memcpy(home, a, n * sizeof *a);
		return;
	}
	/* The digit: BITS bits from the highest that differs, down. */
	unsigned bits = n >= (1u << 14) ? 11 : n >= 512 ? 8 : 5;
	unsigned high = 64 - (unsigned)__builtin_clzll(diff);
	unsigned shift = high > bits ? high - bits : 0;
	size_t nb = (size_t)1 << bits, count[1u << 11], end[1u << 11];
	memset(count, 0, nb * sizeof *count);
	for (size_t i = 0; i < n; i++)
		count[(a[i].key >> shift) & (nb - 1)]++;
	for (size_t d = 0, sum = 0; d < nb; d++) {
		size_t c = count[d];
		count[d] = sum;
		sum += c;
		end[d] = sum;
	}
	for (size_t i = 0; i < n; i++)
		t[count[(a[i].key >> shift) & (nb - 1)]++] = a[i];
	for (size_t d = 0, start = 0; d < nb; start = end[d++]) {
		if (end[d] == start)
			continue;
		uint64_t k0 = t[start].key, dd = 0;
		for (size_t i = start + 1; i < end[d]; i++)
			dd |= t[i].key ^ k0;
		rank_msd(t + start, a + start, home + start, end[d] - start,
			 off + start, dd);
	}
}

/* The first pass's buckets and what the threads share of them. */
struct rank_pass {
	struct kv *a, *t;
	const size_t *end;
	size_t nb, n, most;
	double *rank;
	unsigned nthr;
};

/* sort_piece: piece P sorts the buckets that start in its share of the
 * positions, with the MOST pairs of T from P * MOST on as scratch;
 * write_piece: piece P writes the ranks of its share of the sorted pairs
 * out by row (rows are distinct, so the writes are too).  Two passes: the
 * write-out needs every bucket sorted. */
static void sort_piece(void *arg, unsigned p)
{
	struct rank_pass *j = arg;
	size_t lo, hi;
	emb_par_range(j->n, j->nthr, p, &lo, &hi);
	for (size_t d = 0, start = 0; d < j->nb; start = j->end[d++]) {
		size_t m = j->end[d] - start;
		if (!m || start < lo || start >= hi)
			continue;
		uint64_t b0 = j->a[start].key, dd = 0;
		for (size_t i = start + 1; i < j->end[d]; i++)
			dd |= j->a[i].key ^ b0;
		rank_msd(j->a + start, j->t + p * j->most, j->a + start, m, start, dd);
	}
}

static void write_piece(void *arg, unsigned p)
{
	struct rank_pass *j = arg;
	size_t lo, hi;
	emb_par_range(j->n, j->nthr, p, &lo, &hi);
	/* Random writes, prefetched well ahead. */
	const size_t ahead = 16;
	for (size_t i = lo; i < hi; i++) {
		if (i + ahead < hi)
			__builtin_prefetch(&j->rank[j->a[i + ahead].row], 1, 0);
		memcpy(&j->rank[j->a[i].row], &j->a[i].key, sizeof *j->rank);
	}
}

/* The first pass on threads: piece P takes its share of the rows, in
 * order, so that the pairs land where one thread would put them. */
struct first_pass {
	const double *v;
	size_t n, nb;
	unsigned nthr, shift;
	uint64_t k0, diff[FIRST_PAR_MAX];
	size_t *count;          /* piece P's counts at P * nb, then its places */
	struct kv *a;
};

static void diff_piece(void *arg, unsigned p)
{
	struct first_pass *j = arg;
	size_t lo, hi;
	emb_par_range(j->n, j->nthr, p, &lo, &hi);
	uint64_t d = 0;
	for (size_t i = lo; i < hi; i++)
		d |= order_key(j->v[i]) ^ j->k0;
	j->diff[p] = d;
}

static void count_piece(void *arg, unsigned p)
{
	struct first_pass *j = arg;
	size_t lo, hi, *count = j->count + p * j->nb;
	emb_par_range(j->n, j->nthr, p, &lo, &hi);
	memset(count, 0, j->nb * sizeof *count);
	for (size_t i = lo; i < hi; i++)
		count[(order_key(j->v[i]) >> j->shift) & (j->nb - 1)]++;
}

static void scatter_piece(void *arg, unsigned p)
{
	struct first_pass *j = arg;
	size_t lo, hi, *place = j->count + p * j->nb;
	emb_par_range(j->n, j->nthr, p, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		uint64_t k = order_key(j->v[i]);
		struct kv x = {k, i};
		j->a[place[(k >> j->shift) & (j->nb - 1)]++] = x;
	}
}

/* The first pass of rankdata_with() on NTHR threads: the pairs in W->a
 * bucketed by the top TOP_BITS bits that differ, W->end[d] where bucket d
 * ends; returns the largest bucket's size. */
static size_t first_pass_par(struct rank_scratch *w, const double *v, size_t n, unsigned nthr)
{
	struct first_pass j = {v, n, (size_t)1 << TOP_BITS, nthr, 0, order_key(v[0]), {0},
			       w->piece_count, w->a};
	emb_par_run(nthr, diff_piece, &j);
	uint64_t diff = 0;
	for (unsigned p = 0; p < nthr; p++)
		diff |= j.diff[p];
	unsigned high = 64 - (unsigned)__builtin_clzll(diff | 1);
	j.shift = high > TOP_BITS ? high - TOP_BITS : 0;
	emb_par_run(nthr, count_piece, &j);
	size_t most = 0, sum = 0;
	for (size_t d = 0; d < j.nb; d++) {
		size_t start = sum;
		for (unsigned p = 0; p < nthr; p++) {
			size_t c = j.count[p * j.nb + d];
			j.count[p * j.nb + d] = sum;
			sum += c;
		}
		w->end[d] = sum;
		most = sum - start > most ? sum - start : most;
	}
	emb_par_run(nthr, scatter_piece, &j);
	return most;
}

/* The first pass on one thread, as first_pass_par(). */
static size_t first_pass(struct rank_scratch *w, const double *v, size_t n)
{
	/* It reads V itself: pairs exist only from the scatter on. */
	size_t nb = (size_t)1 << TOP_BITS, *count = w->count, *end = w->end, most = 0;
	uint64_t k0 = order_key(v[0]), diff = 0;
	for (size_t i = 1; i < n; i++)
		diff |= order_key(v[i]) ^ k0;
	unsigned high = 64 - (unsigned)__builtin_clzll(diff | 1);
	unsigned shift = high > TOP_BITS ? high - TOP_BITS : 0;
	memset(count, 0, nb * sizeof *count);
	for (size_t i = 0; i < n; i++)
		count[(order_key(v[i]) >> shift) & (nb - 1)]++;
	for (size_t d = 0, sum = 0; d < nb; d++) {
		size_t c = count[d];
		most = c > most ? c : most;
		count[d] = sum;
		sum += c;
		end[d] = sum;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = order_key(v[i]);
		struct kv x = {k, i};
		w->a[count[(k >> shift) & (nb - 1)]++] = x;
	}
	return most;
}

/* emb_rankdata() in W's memory, on up to NTHR threads (W must not be
 * shared).  The ranks do not depend on NTHR. */
static void rankdata_with(struct rank_scratch *w, const double *v, size_t n, double *rank,
			  unsigned nthr)
{
	if (n == 0 || rank_few(w, v, n, rank))
		return;
	bool par = n >= RANK_PAR_MIN && nthr > 1 && w->piece_count;
	size_t most = par ? first_pass_par(w, v, n, nthr < FIRST_PAR_MAX ? nthr : FIRST_PAR_MAX) :
		      first_pass(w, v, n);
	/* Each thread needs scratch for the largest bucket; T has n pairs. */
	if (n < RANK_PAR_MIN || most > n / nthr)
		nthr = 1;
	struct rank_pass j = {w->a, w->t, w->end, (size_t)1 << TOP_BITS, n, most, rank, nthr};
	if (j.nthr < 2) {
		sort_piece(&j, 0);
		write_piece(&j, 0);
		return;
	}
	emb_par_run(j.nthr, sort_piece, &j);
	emb_par_run(j.nthr, write_piece, &j);
}

void emb_rankdata(const double *v, size_t n, double *rank)
{
	emb_rankdata_cols(&v, 1, n, &rank);
}

void emb_rankdata_cols(const double *const *v, size_t k, size_t n, double *const *rank)
{
	if (n == 0)
		return;
	/* A column at a time, each on every thread: the columns' costs
	 * differ too much (a gold column of few values is ranked by table)
	 * for a thread per column to share the work out. */
	struct rank_scratch w = rank_scratch_new(n);
	unsigned nthr = emb_threads();
	for (size_t i = 0; i < k; i++)
		rankdata_with(&w, v[i], n, rank[i], nthr);
	rank_scratch_free(&w);
}

/* ---- Pearson r: scipy's arithmetic, with pairwise sums ---- */

/* Pairwise sums (rounding error grows like log n, as in numpy's sum) of
 * X and Y, of the squared scaled deviations ((x-m)/scale)^2, and of the
 * products of normalised deviations ((x-mx)/nx)*((y-my)/ny).  Sums over X
 * and Y go in one pass, each with the same tree as if it were alone. */
static void pairwise_sum2(const double *x, const double *y, size_t n,
			  double *sx, double *sy)
{
	if (n <= 256) {
		double a = 0, b = 0;
		for (size_t i = 0; i < n; i++) {
			a += x[i];
			b += y[i];
		}
		*sx = a;
		*sy = b;
		return;
	}
	double a1, b1, a2, b2;
	pairwise_sum2(x, y, n / 2, &a1, &b1);
	pairwise_sum2(x + n / 2, y + n / 2, n - n / 2, &a2, &b2);
	*sx = a1 + a2;
	*sy = b1 + b2;
}

/* Sums of ((x-mx)/sx)^2, ((y-my)/sy)^2 and ((x-mx)/nx)*((y-my)/ny). */
struct moments {
	double xx, yy, xy;
};

static struct moments sum_moments(const double *x, const double *y, size_t n,
				  double mx, double my, double sx, double sy,
				  double nx, double ny)
{
	struct moments m = {0, 0, 0};
	if (n <= 256) {
		for (size_t i = 0; i < n; i++) {
			double a = (x[i] - mx) / sx, b = (y[i] - my) / sy;
			m.xx += a * a;
			m.yy += b * b;
			m.xy += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
		}
		return m;
	}
	size_t h = n / 2;
	struct moments l = sum_moments(x, y, h, mx, my, sx, sy, nx, ny);
	struct moments r = sum_moments(x + h, y + h, n - h, mx, my, sx, sy, nx, ny);
	m.xx = l.xx + r.xx;
	m.yy = l.yy + r.yy;
	m.xy = l.xy + r.xy;
	return m;
}

/* The largest |x - mx| and |y - my|. */
static void max_dev2(const double *x, const double *y, size_t n, double mx,
		     double my, double *dx, double *dy)
{
	double a = 0, b = 0;
	for (size_t i = 0; i < n; i++) {
		a = fmax(a, fabs(x[i] - mx));
		b = fmax(b, fabs(y[i] - my));
	}
	*dx = a;
	*dy = b;
}

/* The L2 norm of X - M from the largest deviation D and the sum S of the
 * squared deviations scaled by D, so that no square overflows or
 * underflows whatever the exponents (scipy uses linalg.norm for this). */
static double norm_dev(double d, double s)
{
	return d == 0 || !isfinite(d) ? d : d * sqrt(s);
}

double emb_pearson_r(const double *x, const double *y, size_t n)
{
	if (n < 2)
		return NAN;
	double sx, sy;
	pairwise_sum2(x, y, n, &sx, &sy);
	double mx = sx / (double)n, my = sy / (double)n, dx, dy;
	max_dev2(x, y, n, mx, my, &dx, &dy);
	/* The scaled squares in one pass; the products need the norms, so
	 * they take a second (the scales 1 make its squares exact copies). */
	struct moments sq = sum_moments(x, y, n, mx, my, dx, dy, 1, 1);
	double nx = norm_dev(dx, sq.xx), ny = norm_dev(dy, sq.yy);
	if (nx == 0 || ny == 0)
		return NAN;
	/* dot(xm/|xm|, ym/|ym|) as scipy.pearsonr: near r = +-1 at small n the
	 * p-value is so steep that the order of rounding shows. */
	double r = sum_moments(x, y, n, mx, my, 1, 1, nx, ny).xy;
	return fmax(fmin(r, 1.0), -1.0);
}

/* Pearson r of ranks as numpy.corrcoef, which spearmanr uses:
 * cov_xy / sqrt(cov_xx) / sqrt(cov_yy) with covariances over n-1. */
static double corrcoef_r(const double *x, const double *y, size_t n)
{
	double sx, sy;
	pairwise_sum2(x, y, n, &sx, &sy);
	double mx = sx / (double)n, my = sy / (double)n;
	double f = (double)n - 1;
	struct moments m = sum_moments(x, y, n, mx, my, 1, 1, 1, 1);
	double cxx = m.xx / f, cyy = m.yy / f, cxy = m.xy / f;
	double r = cxy / sqrt(cxx) / sqrt(cyy);
	return fmax(fmin(r, 1.0), -1.0);
}

/* ---- p-values and intervals ---- */

/* Regularised incomplete beta I_x(a, b), 0 on underflow. */
static double beta_inc(double a, double b, double x)
{
	gsl_sf_result res;
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	if (gsl_sf_beta_inc_e(a, b, x, &res) != GSL_SUCCESS)
		return res.val > 0 && isfinite(res.val) ? res.val : 0;
	return res.val;
}

/* Student t CDF with DF degrees of freedom (cephes stdtr, which scipy
 * uses), through the incomplete beta: accurate in both tails. */
static double stdtr(double df, double t)
{
	if (!(df > 0) || isnan(t))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	double tail = 0.5 * beta_inc(0.5 * df, 0.5, df / (df + t * t));
	return t < 0 ? tail : 1 - tail;
}

double emb_spearman_p(double r, size_t n, enum emb_alternative alt)
{
	if (isnan(r) || n < 2)
		return NAN;
	double dof = (double)n - 2;
	double q = dof / ((r + 1.0) * (1.0 - r));
	double t = r * sqrt(q < 0 ? 0 : q);  /* NaN at n = 2 as in scipy */
	switch (alt) {
	case EMB_ALT_LESS:
		return stdtr(dof, t);
	case EMB_ALT_GREATER:
		return stdtr(dof, -t);
	default:
		return 2 * stdtr(dof, -fabs(t));
	}
}

double emb_pearson_p(double r, size_t n, enum emb_alternative alt)
{
	if (isnan(r) || n < 2)
		return NAN;
	if (n == 2)
		return 1.0;
	/* Under the null, r ~ Beta(n/2-1, n/2-1) stretched onto [-1, 1]. */
	double ab = (double)n / 2 - 1;
	double sf_abs = beta_inc(ab, ab, (1 - fabs(r)) / 2);
	switch (alt) {
	case EMB_ALT_LESS:
		return beta_inc(ab, ab, (1 + r) / 2);
	case EMB_ALT_GREATER:
		return beta_inc(ab, ab, (1 - r) / 2);
	default:
		return 2 * sf_abs;
	}
}

void emb_fisher_ci(double r, size_t n, double level, enum emb_alternative alt,
		   bool bonett_wright, double *lo, double *hi)
{
	*lo = -1.0;
	*hi = 1.0;
	if (isnan(r)) {
		*lo = *hi = NAN;
		return;
	}
	if (n <= 3)
		return;
	double zr = r == 1 ? INFINITY : r == -1 ? -INFINITY : atanh(r);
	double var = (bonett_wright ? 1 + r * r / 2 : 1.0) / ((double)n - 3);
	double se = sqrt(var);
	if (alt == EMB_ALT_TWO_SIDED) {
		double h = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
		*lo = tanh(zr - h * se);
		*hi = tanh(zr + h * se);
	} else if (alt == EMB_ALT_LESS) {
		*hi = tanh(zr + gsl_cdf_ugaussian_Pinv(level) * se);
	} else {
		*lo = tanh(zr - gsl_cdf_ugaussian_Pinv(level) * se);
	}
}

/* ---- one correlation ---- */

static bool is_constant(const double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* The statistic alone; RX, RY are n-double arrays for the ranks (they may
 * be X and Y, which are then overwritten). */
static double statistic(enum emb_corr_kind kind, const double *x, const double *y,
			size_t n, double *rx, double *ry)
{
	if (kind == EMB_PEARSON) {
		if (n == 2) /* scipy: the sign of the slope, exactly */
			return (double)((x[1] > x[0]) - (x[1] < x[0])) *
			       (double)((y[1] > y[0]) - (y[1] < y[0]));
		return emb_pearson_r(x, y, n);
	}
	emb_rankdata_cols((const double *const[]){x, y}, 2, n, (double *const[]){rx, ry});
	return corrcoef_r(rx, ry, n);
}

/* Percentile bootstrap interval of Spearman's rho: resample pairs with
 * replacement (GSL's mt19937 seeded with SEED, so runs repeat). */
static void bootstrap_ci(const struct emb_corr_opts *o, const double *x,
			 const double *y, size_t n, double *lo, double *hi)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double *bx = emb_xmalloc(emb_xmul(n, 4 * sizeof *bx));
	double *by = bx + n, *rx = by + n, *ry = rx + n;
	double *rs = emb_xmalloc(emb_xmul(o->bootstrap, sizeof *rs));
	size_t m = 0;

	gsl_rng_set(rng, o->seed);
	for (unsigned long b = 0; b < o->bootstrap; b++) {
		for (size_t i = 0; i < n; i++) {
			size_t k = gsl_rng_uniform_int(rng, n);
			bx[i] = x[k];
			by[i] = y[k];
		}
		if (is_constant(bx, n) || is_constant(by, n))
			continue; /* rho undefined for this resample */
		rs[m++] = statistic(o->kind, bx, by, n, rx, ry);
	}
	if (m < o->bootstrap)
		emb_warn("bootstrap: %lu of %lu resamples %s constant and %s left out",
			 o->bootstrap - m, o->bootstrap,
			 emb_plural(o->bootstrap - m, "was", "were"),
			 emb_plural(o->bootstrap - m, "is", "are"));
	gsl_sort(rs, 1, m);
	*lo = -1.0;
	*hi = 1.0;
	if (m == 0) {
		*lo = *hi = NAN;
	} else if (o->alt == EMB_ALT_TWO_SIDED) {
		*lo = gsl_stats_quantile_from_sorted_data(rs, 1, m, (1 - o->ci) / 2);
		*hi = gsl_stats_quantile_from_sorted_data(rs, 1, m, (1 + o->ci) / 2);
	} else if (o->alt == EMB_ALT_LESS) {
		*hi = gsl_stats_quantile_from_sorted_data(rs, 1, m, o->ci);
	} else {
		*lo = gsl_stats_quantile_from_sorted_data(rs, 1, m, 1 - o->ci);
	}
	free(rs);
	free(bx);
	gsl_rng_free(rng);
}

/* emb_corr_compute, with the ranks of a Spearman correlation written to
 * RX and RY (n doubles each, which may be X and Y themselves: they are
 * then consumed), or to scratch where one is NULL.  With a bootstrap X and
 * Y are read again, so they must not be RX or RY. */
static struct emb_corr_result compute(const struct emb_corr_opts *o,
				      const double *x, const double *y, size_t n,
				      const char *what, double *rx, double *ry)
{
	struct emb_corr_result res = {NULL, n, NAN, NAN, NAN, NAN};
	if (n < 2) {
		emb_warn("%s: fewer than 2 pairs; the correlation is not defined", what);
		return res;
	}
	if (is_constant(x, n) || is_constant(y, n)) {
		emb_warn("%s: an input is constant; the correlation is not defined", what);
		return res;
	}
	double *scratch = NULL;
	if (o->kind == EMB_SPEARMAN && (!rx || !ry)) {
		scratch = emb_xmalloc(emb_xmul(n, (size_t)(!rx + !ry) * sizeof(double)));
		if (!rx)
			rx = scratch;
		if (!ry)
			ry = scratch + (rx == scratch ? n : 0);
	}
	res.r = statistic(o->kind, x, y, n, rx, ry);
	free(scratch);
	res.p = o->kind == EMB_SPEARMAN ? emb_spearman_p(res.r, n, o->alt)
					: emb_pearson_p(res.r, n, o->alt);
	if (o->bootstrap)
		bootstrap_ci(o, x, y, n, &res.lo, &res.hi);
	else if (o->ci > 0)
		emb_fisher_ci(res.r, n, o->ci, o->alt, o->kind == EMB_SPEARMAN,
			      &res.lo, &res.hi);
	return res;
}

struct emb_corr_result emb_corr_compute(const struct emb_corr_opts *o,
					 const double *x, const double *y,
					 size_t n, const char *what)
{
	return compute(o, x, y, n, what, NULL, NULL);
}

/* ---- options ---- */

const char emb_corr_help[] =
"  -x COL                   the first column (default 1)\n"
"  -y COL[,COL]...          the second column(s), each scored against -x\n"
"                           (default 2); COL is a number from 1, or a name\n"
"                           with --header\n"
"      --header             the first line of each input names the columns\n"
"      --group=COL          correlate within each group of rows sharing COL,\n"
"                           then print the aggregates mean, wmean (weighted\n"
"                           by n) and all (pooled rows)\n"
"      --nan=POLICY         missing cells (empty, nan, NA): error (default),\n"
"                           omit (drop the pair, count on stderr), propagate\n"
"      --alternative=ALT    two-sided (default), less or greater\n"
"      --percent            print r, lo and hi times 100 with 2 decimals\n"
"      --json               print a JSON array of objects instead of TSV\n"
"      --ci=LEVEL           add the interval lo hi at LEVEL (e.g. 0.95)\n";

const char emb_corr_help_compare[] =
"      --bootstrap=N        make the interval a percentile bootstrap of N\n"
"                           resamples of the rows (default level 0.95)\n"
"      --seed=S             seed of the bootstrap's generator (default 0)\n"
"      --compare            compare every pair of -y columns against the same\n"
"                           -x, on the rows where all are present: print\n"
"                           'x y1 y2 n r1 r2 r12 diff t p', Williams' t with\n"
"                           n-3 degrees of freedom for diff = r1 - r2; with\n"
"                           --bootstrap also 'lo hi p_boot' for diff\n"
"      --steiger            with --compare, add Steiger's (1980) z and p_z\n";

static const char *const alt_names[] = {
	[EMB_ALT_TWO_SIDED] = "two-sided", [EMB_ALT_LESS] = "less",
	[EMB_ALT_GREATER] = "greater",
};
static const char *const nan_names[] = {
	[EMB_NAN_ERROR] = "error", [EMB_NAN_OMIT] = "omit",
	[EMB_NAN_PROPAGATE] = "propagate",
};

static int lookup(const char *const *names, size_t n, const char *arg)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], arg) == 0)
			return (int)i;
	return -1;
}

bool emb_corr_option(struct emb_corr_opts *o, int opt, const char *arg)
{
	int v;
	switch (opt) {
	case 'x':
		o->cols.x = arg;
		return true;
	case 'y':
		o->cols.y = arg;
		return true;
	case EMB_OPT_CORR_HEADER:
		o->cols.header = true;
		return true;
	case EMB_OPT_CORR_GROUP:
		o->cols.group = arg;
		return true;
	case EMB_OPT_CORR_NAN:
		if ((v = lookup(nan_names, 3, arg)) < 0)
			emb_usage_error("--nan must be error, omit or propagate, not '%s'", arg);
		o->cols.nan = (enum emb_nan_policy)v;
		return true;
	case EMB_OPT_CORR_ALT:
		if ((v = lookup(alt_names, 3, arg)) < 0)
			emb_usage_error("--alternative must be two-sided, less or greater, not '%s'", arg);
		o->alt = (enum emb_alternative)v;
		return true;
	case EMB_OPT_CORR_CI:
		o->ci = emb_parse_double("--ci", arg);
		if (!(o->ci > 0 && o->ci < 1))
			emb_usage_error("--ci must be between 0 and 1 (exclusive), not '%s'", arg);
		return true;
	case EMB_OPT_CORR_PERCENT:
		o->percent = true;
		return true;
	case EMB_OPT_CORR_JSON:
		o->json = true;
		return true;
	case EMB_OPT_CORR_BOOTSTRAP:
		o->bootstrap = (unsigned long)emb_parse_int("--bootstrap", arg, 1, 10000000);
		return true;
	case EMB_OPT_CORR_SEED:
		o->seed = (unsigned long)emb_parse_int("--seed", arg, 0, ULONG_MAX >> 1);
		return true;
	case EMB_OPT_CORR_COMPARE:
		o->compare = true;
		return true;
	case EMB_OPT_CORR_STEIGER:
		o->steiger = true;
		return true;
	default:
		return false;
	}
}

void emb_corr_options_done(struct emb_corr_opts *o)
{
	if (o->steiger && !o->compare)
		emb_usage_error("--steiger needs --compare");
	if (o->compare) {
		if (!strchr(o->cols.y, ','))
			emb_usage_error("--compare needs at least two -y columns, not '%s'", o->cols.y);
		/* The only interval of a difference here is the bootstrap's. */
		if (o->ci > 0 && !o->bootstrap)
			emb_usage_error("--ci with --compare needs --bootstrap");
	}
	if (o->bootstrap && o->ci == 0)
		o->ci = 0.95;
}

/* ---- the report ---- */

struct report {
	const struct emb_corr_opts *o;
	cJSON *json;
};

static void put_num(const struct report *rep, double v, bool scaled)
{
	char buf[40];
	if (scaled && rep->o->percent && isfinite(v)) {
		printf("\t%.2f", v * 100);
		return;
	}
	int len = emb_format_f64(buf, v);
	printf("\t%.*s", len, buf);
}

static void report_header(struct report *rep)
{
	if (rep->o->json) {
		rep->json = cJSON_CreateArray();
		return;
	}
	printf("%sx\ty\tn\tr\tp%s\n", rep->o->cols.group ? "group\t" : "",
	       rep->o->ci > 0 ? "\tlo\thi" : "");
}

/* cJSON prints 15 significant digits when they read back "close enough";
 * raw text keeps every bit, as the TSV does.  nan becomes null. */
static void json_number(const struct report *rep, cJSON *obj, const char *name,
			double v, bool scaled)
{
	char buf[40];
	if (!isfinite(v)) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	if (scaled && rep->o->percent)
		snprintf(buf, sizeof buf, "%.2f", v * 100);
	else
		buf[emb_format_f64(buf, v)] = '\0';
	cJSON_AddRawToObject(obj, name, buf);
}

static void report_row(struct report *rep, const char *xname, const char *yname,
		       const struct emb_corr_result *r)
{
	bool ci = rep->o->ci > 0;
	if (rep->json) {
		cJSON *obj = cJSON_CreateObject();
		if (rep->o->cols.group)
			cJSON_AddStringToObject(obj, "group", r->group);
		cJSON_AddStringToObject(obj, "x", xname);
		cJSON_AddStringToObject(obj, "y", yname);
		cJSON_AddNumberToObject(obj, "n", (double)r->n);
		json_number(rep, obj, "r", r->r, true);
		json_number(rep, obj, "p", r->p, false);
		if (ci) {
			json_number(rep, obj, "lo", r->lo, true);
			json_number(rep, obj, "hi", r->hi, true);
		}
		cJSON_AddItemToArray(rep->json, obj);
		return;
	}
	if (rep->o->cols.group)
		printf("%s\t", r->group);
	printf("%s\t%s\t%zu", xname, yname, r->n);
	put_num(rep, r->r, true);
	put_num(rep, r->p, false);
	if (ci) {
		put_num(rep, r->lo, true);
		put_num(rep, r->hi, true);
	}
	putchar('\n');
}

static void report_end(struct report *rep)
{
	if (!rep->json)
		return;
	char *text = cJSON_Print(rep->json);
	if (!text)
		emb_die(EMB_EXIT_DATA, "out of memory");
	puts(text);
	free(text);
	cJSON_Delete(rep->json);
}

/* ---- grouping and missing values ---- */

/* The rows of each group, contiguous: order[start[g] .. start[g+1]). */
struct groups {
	size_t *order, *start;
};

static struct groups group_rows(const struct emb_cols *c)
{
	struct groups g;
	g.start = emb_xcalloc(c->ngroups + 1, sizeof *g.start);
	g.order = emb_xmalloc(emb_xmul(c->rows + 1, sizeof *g.order));
	for (size_t i = 0; i < c->rows; i++)
		g.start[c->group[i] + 1]++;
	for (size_t k = 0; k < c->ngroups; k++)
		g.start[k + 1] += g.start[k];
	size_t *next = emb_xmalloc((c->ngroups + 1) * sizeof *next);
	memcpy(next, g.start, (c->ngroups + 1) * sizeof *next);
	for (size_t i = 0; i < c->rows; i++)
		g.order[next[c->group[i]]++] = i;
	free(next);
	return g;
}

/* How many of the N pairs X[i], Y[i] have a missing value. */
static size_t count_missing(const double *x, const double *y, size_t n)
{
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += isnan(x[i]) || isnan(y[i]);
	return missing;
}

/* Copy the pairs of rows ROWS[0..m) (all rows if ROWS is NULL) into XS, YS,
 * leaving out pairs with a missing value; returns how many were kept and
 * sets *MISSING if any was left out. */
static size_t gather(const double *x, const double *y, const size_t *rows, size_t m,
		     double *xs, double *ys, size_t *missing)
{
	size_t n = 0;
	for (size_t j = 0; j < m; j++) {
		size_t i = rows ? rows[j] : j;
		xs[n] = x[i];
		ys[n] = y[i];
		n += !isnan(x[i]) && !isnan(y[i]);
	}
	*missing = m - n;
	return n;
}

/* One correlation over a subset of rows (all rows if ROWS is NULL),
 * applying the --nan policy.  All rows with nothing missing are used where
 * they are, without a copy; then LAST says this is the last use of
 * c->y[k] (and of c->x, with the last column), which the ranks may
 * overwrite. */
static struct emb_corr_result subset(const struct emb_corr_opts *o, struct emb_cols *c,
				     size_t k, const size_t *rows, size_t m, bool last,
				     double *xs, double *ys, const char *what)
{
	size_t missing;
	bool reuse = !o->bootstrap;  /* the bootstrap resamples x and y after */
	if (!rows && count_missing(c->x, c->y[k], m) == 0)
		return compute(o, c->x, c->y[k], m, what,
			       reuse && last && k + 1 == c->ny ? c->x : NULL,
			       reuse && last ? c->y[k] : NULL);
	size_t n = gather(c->x, c->y[k], rows, m, xs, ys, &missing);
	if (missing && o->cols.nan == EMB_NAN_PROPAGATE) {
		struct emb_corr_result r = {NULL, m, NAN, NAN, NAN, NAN};
		return r;
	}
	return compute(o, xs, ys, n, what, reuse ? xs : NULL, reuse ? ys : NULL);
}

static void score_column(struct report *rep, struct emb_cols *c, size_t k,
			 const struct groups *g, double *xs, double *ys)
{
	const struct emb_corr_opts *o = rep->o;
	char what[256];
	size_t missing = o->cols.nan == EMB_NAN_OMIT ? count_missing(c->x, c->y[k], c->rows) : 0;

	if (missing)
		emb_warn("%s vs %s: omitted %zu of %zu %s with a missing value",
			 c->xname, c->ynames[k], missing, c->rows, emb_plural(c->rows, "row", "rows"));
	if (!c->group) {
		snprintf(what, sizeof what, "%s vs %s", c->xname, c->ynames[k]);
		struct emb_corr_result r = subset(o, c, k, NULL, c->rows, true, xs, ys, what);
		report_row(rep, c->xname, c->ynames[k], &r);
		return;
	}
	double sum = 0, wsum = 0;
	size_t ntot = 0;
	for (size_t gi = 0; gi < c->ngroups; gi++) {
		snprintf(what, sizeof what, "group %s: %s vs %s", c->group_names[gi],
			 c->xname, c->ynames[k]);
		struct emb_corr_result r = subset(o, c, k, g->order + g->start[gi],
						  g->start[gi + 1] - g->start[gi], false,
						  xs, ys, what);
		r.group = c->group_names[gi];
		report_row(rep, c->xname, c->ynames[k], &r);
		sum += r.r;
		wsum += r.r * (double)r.n;
		ntot += r.n;
	}
	struct emb_corr_result mean = {"mean", ntot, sum / (double)c->ngroups, NAN, NAN, NAN};
	struct emb_corr_result wmean = {"wmean", ntot, wsum / (double)ntot, NAN, NAN, NAN};
	report_row(rep, c->xname, c->ynames[k], &mean);
	report_row(rep, c->xname, c->ynames[k], &wmean);
	snprintf(what, sizeof what, "all: %s vs %s", c->xname, c->ynames[k]);
	struct emb_corr_result all = subset(o, c, k, NULL, c->rows, true, xs, ys, what);
	all.group = "all";
	report_row(rep, c->xname, c->ynames[k], &all);
}

/* ---- comparing two correlations that share the gold ---- */

double emb_t_p(double t, double df, enum emb_alternative alt)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	switch (alt) {
	case EMB_ALT_LESS:
		return stdtr(df, t);
	case EMB_ALT_GREATER:
		return stdtr(df, -t);
	default:
		return 2 * stdtr(df, -fabs(t));
	}
}

double emb_z_p(double z, enum emb_alternative alt)
{
	if (isnan(z))
		return NAN;
	switch (alt) {
	case EMB_ALT_LESS:
		return gsl_cdf_ugaussian_P(z);
	case EMB_ALT_GREATER:
		return gsl_cdf_ugaussian_Q(z);
	default:
		return 2 * gsl_cdf_ugaussian_Q(fabs(z));
	}
}

double emb_williams_t(double r1, double r2, double r12, size_t n)
{
	if (n < 4 || isnan(r1) || isnan(r2) || isnan(r12))
		return NAN;
	double nn = (double)n, rb = (r1 + r2) / 2;
	double det = 1 - r1 * r1 - r2 * r2 - r12 * r12 + 2 * r1 * r2 * r12;
	double den = 2 * ((nn - 1) / (nn - 3)) * det + rb * rb * pow(1 - r12, 3);
	return (r1 - r2) * sqrt((nn - 1) * (1 + r12) / den);
}

double emb_steiger_z(double r1, double r2, double r12, size_t n)
{
	if (n < 4 || isnan(r1) || isnan(r2) || isnan(r12))
		return NAN;
	double rb = (r1 + r2) / 2, rb2 = rb * rb;
	double psi = r12 * (1 - 2 * rb2) - 0.5 * rb2 * (1 - 2 * rb2 - r12 * r12);
	double cov = psi / ((1 - rb2) * (1 - rb2));
	return (atanh(r1) - atanh(r2)) * sqrt(((double)n - 3) / (2 - 2 * cov));
}

/* r(x, a), r(x, b) and r(a, b) of N rows (no NaN) into R; SCRATCH holds
 * 3n doubles for the ranks.  False when a column is constant. */
static bool corr3(enum emb_corr_kind kind, const double *x, const double *a,
		  const double *b, size_t n, double *scratch, double r[3])
{
	if (n < 2 || is_constant(x, n) || is_constant(a, n) || is_constant(b, n))
		return false;
	if (kind == EMB_SPEARMAN) {
		double *rx = scratch, *ra = rx + n, *rb = ra + n;
		emb_rankdata_cols((const double *const[]){x, a, b}, 3, n,
				  (double *const[]){rx, ra, rb});
		r[0] = corrcoef_r(rx, ra, n);
		r[1] = corrcoef_r(rx, rb, n);
		r[2] = corrcoef_r(ra, rb, n);
	} else {
		r[0] = emb_pearson_r(x, a, n);
		r[1] = emb_pearson_r(x, b, n);
		r[2] = emb_pearson_r(a, b, n);
	}
	return true;
}

/* One output row of --compare. */
struct cmp_result {
	const char *group;
	size_t n;
	double r1, r2, r12, diff, t, p, z, pz, lo, hi, pboot;
};

static struct cmp_result cmp_nan(const char *group, size_t n)
{
	struct cmp_result r = {group, n, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
	return r;
}

/* Three columns of gathered rows; stratum g is rows off[g] .. off[g+1]. */
struct triple {
	double *x, *a, *b;
	size_t *off, nstrata;
};

/*
 * The paired bootstrap of diff = r1 - r2: B = o->bootstrap resamples, each
 * drawing every stratum's rows with replacement from that stratum (one
 * stratum: the plain paired bootstrap), so both correlations always see
 * the same resampled rows.  D[g*B + b] is stratum g's diff in resample b
 * (NaN if a column of it came out constant); with more than one stratum,
 * MEAN[b] and WMEAN[b] are the mean of the strata's diffs and their mean
 * weighted by rows (NaN if any is).  GSL's mt19937 seeded with o->seed.
 */
static void compare_boot(const struct emb_corr_opts *o, const struct triple *t,
			 double *d, double *mean, double *wmean)
{
	size_t nb = o->bootstrap, ng = t->nstrata, most = 0, total = t->off[ng];
	for (size_t g = 0; g < ng; g++)
		most = t->off[g + 1] - t->off[g] > most ? t->off[g + 1] - t->off[g] : most;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double *buf = emb_xmalloc(emb_xmul(most ? most : 1, 6 * sizeof *buf));
	double *bx = buf, *ba = bx + most, *bb = ba + most, *scratch = bb + most;

	gsl_rng_set(rng, o->seed);
	for (size_t b = 0; b < nb; b++) {
		double sum = 0, wsum = 0;
		for (size_t g = 0; g < ng; g++) {
			size_t lo = t->off[g], m = t->off[g + 1] - lo;
			double r[3];
			for (size_t i = 0; i < m; i++) {
				size_t k = lo + gsl_rng_uniform_int(rng, m);
				bx[i] = t->x[k];
				ba[i] = t->a[k];
				bb[i] = t->b[k];
			}
			double v = m && corr3(o->kind, bx, ba, bb, m, scratch, r) ? r[0] - r[1] : NAN;
			d[g * nb + b] = v;
			sum += v;
			wsum += v * (double)m;
		}
		if (ng > 1) {
			mean[b] = sum / (double)ng;
			wmean[b] = wsum / (double)total;
		}
	}
	free(buf);
	gsl_rng_free(rng);
}

/* The percentile interval at o->ci of the N bootstrap differences D
 * (NaN ones left out, and counted in a warning naming WHAT), and p_boot:
 * the share of differences on the far side of 0 (two-sided: twice the
 * smaller side, at most 1), so that p_boot < 1 - LEVEL when the interval
 * excludes 0. */
static void boot_summary(const struct emb_corr_opts *o, double *d, size_t n,
			 const char *what, struct cmp_result *res)
{
	size_t m = 0, le = 0, ge = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(d[i])) {
			d[m++] = d[i];
			le += d[i] <= 0;
			ge += d[i] >= 0;
		}
	if (m < n)
		emb_warn("%s: bootstrap: %zu of %zu resamples had a constant column and %s left out",
			 what, n - m, n, emb_plural(n - m, "is", "are"));
	res->lo = res->hi = res->pboot = NAN;
	if (m == 0)
		return;
	gsl_sort(d, 1, m);
	double q = o->alt == EMB_ALT_TWO_SIDED ? (1 - o->ci) / 2 : 1 - o->ci;
	res->lo = o->alt == EMB_ALT_LESS ? -2.0 : gsl_stats_quantile_from_sorted_data(d, 1, m, q);
	res->hi = o->alt == EMB_ALT_GREATER ? 2.0
					    : gsl_stats_quantile_from_sorted_data(d, 1, m, 1 - q);
	double pl = (double)le / (double)m, pg = (double)ge / (double)m;
	res->pboot = o->alt == EMB_ALT_GREATER ? pl : o->alt == EMB_ALT_LESS ? pg
			: fmin(1.0, 2 * fmin(pl, pg));
}

/* The comparison on rows [lo, hi) of T (no NaN), without the bootstrap. */
static struct cmp_result compare_rows(const struct emb_corr_opts *o, const struct triple *t,
				      size_t lo, size_t hi, const char *what)
{
	size_t n = hi - lo;
	struct cmp_result res = cmp_nan(NULL, n);
	double r[3];
	double *scratch = emb_xmalloc(emb_xmul(n ? n : 1, 3 * sizeof *scratch));
	bool ok = corr3(o->kind, t->x + lo, t->a + lo, t->b + lo, n, scratch, r);
	free(scratch);
	if (!ok) {
		emb_warn("%s: %s; the correlations are not defined", what,
			 n < 2 ? "fewer than 2 pairs" : "an input is constant");
		return res;
	}
	res.r1 = r[0];
	res.r2 = r[1];
	res.r12 = r[2];
	res.diff = r[0] - r[1];
	if (n < 4) {
		emb_warn("%s: fewer than 4 pairs; Williams' t is not defined", what);
		return res;
	}
	res.t = emb_williams_t(r[0], r[1], r[2], n);
	res.p = emb_t_p(res.t, (double)n - 3, o->alt);
	if (o->steiger) {
		res.z = emb_steiger_z(r[0], r[1], r[2], n);
		res.pz = emb_z_p(res.z, o->alt);
	}
	return res;
}

static void cmp_header(struct report *rep)
{
	const struct emb_corr_opts *o = rep->o;
	if (o->json) {
		rep->json = cJSON_CreateArray();
		return;
	}
	printf("%sx\ty1\ty2\tn\tr1\tr2\tr12\tdiff\tt\tp%s%s\n", o->cols.group ? "group\t" : "",
	       o->steiger ? "\tz\tp_z" : "", o->bootstrap ? "\tlo\thi\tp_boot" : "");
}

static void cmp_row(struct report *rep, const char *xn, const char *an, const char *bn,
		    const struct cmp_result *r)
{
	const struct emb_corr_opts *o = rep->o;
	static const char *const names[] = {"r1", "r2", "r12", "diff", "t", "p", "z", "p_z",
					    "lo", "hi", "p_boot"};
	double v[] = {r->r1, r->r2, r->r12, r->diff, r->t, r->p, r->z, r->pz, r->lo, r->hi,
		      r->pboot};
	bool scaled[] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0};
	bool shown[] = {1, 1, 1, 1, 1, 1, o->steiger, o->steiger, o->bootstrap, o->bootstrap,
			o->bootstrap};
	cJSON *obj = NULL;
	if (rep->json) {
		obj = cJSON_CreateObject();
		if (o->cols.group)
			cJSON_AddStringToObject(obj, "group", r->group);
		cJSON_AddStringToObject(obj, "x", xn);
		cJSON_AddStringToObject(obj, "y1", an);
		cJSON_AddStringToObject(obj, "y2", bn);
		cJSON_AddNumberToObject(obj, "n", (double)r->n);
	} else {
		if (o->cols.group)
			printf("%s\t", r->group);
		printf("%s\t%s\t%s\t%zu", xn, an, bn, r->n);
	}
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (!shown[i])
			continue;
		if (obj)
			json_number(rep, obj, names[i], v[i], scaled[i]);
		else
			put_num(rep, v[i], scaled[i]);
	}
	if (obj)
		cJSON_AddItemToArray(rep->json, obj);
	else
		putchar('\n');
}

/* Gather the rows ROWS[0..m) (all rows if ROWS is NULL) of columns X, A, B
 * where all three are present, appending to T from T->off[T->nstrata] on,
 * and close that stratum.  Returns the number of rows left out. */
static size_t gather3(const double *x, const double *a, const double *b,
		      const size_t *rows, size_t m, struct triple *t)
{
	size_t n = t->off[t->nstrata];
	for (size_t j = 0; j < m; j++) {
		size_t i = rows ? rows[j] : j;
		t->x[n] = x[i];
		t->a[n] = a[i];
		t->b[n] = b[i];
		n += !isnan(x[i]) && !isnan(a[i]) && !isnan(b[i]);
	}
	size_t missing = m - (n - t->off[t->nstrata]);
	t->off[++t->nstrata] = n;
	return missing;
}

/* Compare y columns KA and KB: one row, or with groups a row per group,
 * then mean, wmean (bootstrap only) and all. */
static void compare_pair(struct report *rep, struct emb_cols *c, size_t ka, size_t kb,
			 const struct groups *g, struct triple *t)
{
	const struct emb_corr_opts *o = rep->o;
	const char *xn = c->xname, *an = c->ynames[ka], *bn = c->ynames[kb];
	size_t ng = c->group ? c->ngroups : 0, nb = o->bootstrap;
	char what[512];

	t->nstrata = 0;
	size_t missing = gather3(c->x, c->y[ka], c->y[kb], NULL, c->rows, t);
	if (missing && o->cols.nan == EMB_NAN_OMIT)
		emb_warn("%s vs %s vs %s: omitted %zu of %zu %s with a missing value", xn, an,
			 bn, missing, c->rows, emb_plural(c->rows, "row", "rows"));
	bool propagate = o->cols.nan == EMB_NAN_PROPAGATE;
	struct cmp_result all;
	snprintf(what, sizeof what, "%s%s vs %s vs %s", ng ? "all: " : "", xn, an, bn);
	if (missing && propagate) {
		all = cmp_nan("all", c->rows);
	} else {
		all = compare_rows(o, t, 0, t->off[1], what);
		all.group = "all";
		/* No resample of an undefined comparison is defined either. */
		if (nb && !isnan(all.r1)) {
			double *d = emb_xmalloc(emb_xmul(nb, sizeof *d));
			compare_boot(o, t, d, NULL, NULL);
			boot_summary(o, d, nb, what, &all);
			free(d);
		}
	}
	if (!ng) {
		cmp_row(rep, xn, an, bn, &all);
		return;
	}
	/* The groups, one stratum each; a group with a missing value under
	 * --nan propagate is an empty stratum whose row is nan. */
	struct cmp_result *res = emb_xmalloc(emb_xmul(ng, sizeof *res));
	bool *gnan = emb_xcalloc(ng, sizeof *gnan);
	double sum1 = 0, sum2 = 0, w1 = 0, w2 = 0;
	size_t ntot = 0;
	t->nstrata = 0;
	for (size_t gi = 0; gi < ng; gi++) {
		size_t m = g->start[gi + 1] - g->start[gi];
		size_t miss = gather3(c->x, c->y[ka], c->y[kb], g->order + g->start[gi], m, t);
		snprintf(what, sizeof what, "group %s: %s vs %s vs %s", c->group_names[gi], xn,
			 an, bn);
		if (miss && propagate) {
			t->off[gi + 1] = t->off[gi];
			gnan[gi] = true;
			res[gi] = cmp_nan(NULL, m);
		} else {
			res[gi] = compare_rows(o, t, t->off[gi], t->off[gi + 1], what);
		}
		res[gi].group = c->group_names[gi];
		sum1 += res[gi].r1;
		sum2 += res[gi].r2;
		w1 += res[gi].r1 * (double)res[gi].n;
		w2 += res[gi].r2 * (double)res[gi].n;
		ntot += res[gi].n;
	}
	struct cmp_result mean = cmp_nan("mean", ntot), wmean = cmp_nan("wmean", ntot);
	mean.r1 = sum1 / (double)ng;
	mean.r2 = sum2 / (double)ng;
	mean.diff = mean.r1 - mean.r2;
	wmean.r1 = w1 / (double)ntot;
	wmean.r2 = w2 / (double)ntot;
	wmean.diff = wmean.r1 - wmean.r2;
	if (nb) {
		double *d = emb_xmalloc(emb_xmul(emb_xmul(nb, ng + 2), sizeof *d));
		double *dm = d + ng * nb, *dw = dm + nb;
		compare_boot(o, t, d, ng > 1 ? dm : NULL, ng > 1 ? dw : NULL);
		if (ng == 1) {
			memcpy(dm, d, nb * sizeof *d);
			memcpy(dw, d, nb * sizeof *d);
		}
		for (size_t gi = 0; gi < ng; gi++) {
			snprintf(what, sizeof what, "group %s: %s vs %s vs %s",
				 c->group_names[gi], xn, an, bn);
			if (!isnan(res[gi].r1))
				boot_summary(o, d + gi * nb, nb, what, &res[gi]);
		}
		if (!isnan(mean.diff)) {
			/* The groups' own warnings already counted the bad resamples. */
			snprintf(what, sizeof what, "mean: %s vs %s vs %s", xn, an, bn);
			boot_summary(o, dm, nb, what, &mean);
			snprintf(what, sizeof what, "wmean: %s vs %s vs %s", xn, an, bn);
			boot_summary(o, dw, nb, what, &wmean);
		}
		free(d);
	}
	for (size_t gi = 0; gi < ng; gi++)
		cmp_row(rep, xn, an, bn, &res[gi]);
	cmp_row(rep, xn, an, bn, &mean);
	cmp_row(rep, xn, an, bn, &wmean);
	cmp_row(rep, xn, an, bn, &all);
	free(gnan);
	free(res);
}

static void compare_main(struct report *rep, struct emb_cols *c, const struct groups *g)
{
	struct triple t;
	size_t cap = c->rows + 1;
	t.x = emb_xmalloc(emb_xmul(cap, 3 * sizeof *t.x));
	t.a = t.x + cap;
	t.b = t.a + cap;
	t.off = emb_xcalloc(c->ngroups + 2, sizeof *t.off);
	cmp_header(rep);
	for (size_t ka = 0; ka < c->ny; ka++)
		for (size_t kb = ka + 1; kb < c->ny; kb++)
			compare_pair(rep, c, ka, kb, g, &t);
	report_end(rep);
	free(t.off);
	free(t.x);
}

void emb_corr_main(const struct emb_corr_opts *o, char *const *files, int nfiles)
{
	struct emb_cols c;
	struct report rep = {o, NULL};
	struct groups g = {NULL, NULL};

	gsl_set_error_handler_off();
	emb_cols_read(&c, &o->cols, files, nfiles);
	if (c.rows == 0)
		emb_warn("no data rows");
	if (c.group)
		g = group_rows(&c);
	if (o->compare) {
		if (c.ny < 2)
			emb_usage_error("--compare needs at least two -y columns");
		compare_main(&rep, &c, &g);
		free(g.order);
		free(g.start);
		emb_cols_free(&c);
		return;
	}
	double *xs = emb_xmalloc(emb_xmul(c.rows + 1, 2 * sizeof *xs)), *ys = xs + c.rows + 1;
	report_header(&rep);
	for (size_t k = 0; k < c.ny; k++)
		score_column(&rep, &c, k, &g, xs, ys);
	report_end(&rep);
	free(xs);
	free(g.order);
	free(g.start);
	emb_cols_free(&c);
}

/* ---- partials: embpearson --partial / --merge ----
 *
 * A partial of kind "pearson" (emb.5) has one row of PP_DIM values per
 * y column and cell, where the cells of a column are all its rows (the
 * pooled cell) and then each group in the order of "groups":
 *   rows, n, mean_x, mean_y, Cxx, Cyy, Cxy, min_x, max_x, min_y, max_y
 * over the pairs without a missing value (n of the rows), with the
 * co-moments C = sum (x - mean_x)(y - mean_y) of the same pairwise update
 * as emb_moments.h: C = CA + CB + dx dy nA nB / n.  Minimum and maximum
 * say exactly whether a column is constant, as the one pass sees it. */

#include "emb_moments.h"

enum { PP_ROWS, PP_N, PP_MX, PP_MY, PP_CXX, PP_CYY, PP_CXY, PP_XMIN, PP_XMAX, PP_YMIN,
       PP_YMAX, PP_DIM };

/* The statistics of the pairs of rows ROWS[0..m) (all rows if NULL). */
static void cell_stats(const double *x, const double *y, const size_t *rows, size_t m,
		       double *xs, double *ys, double *out)
{
	size_t missing, n = gather(x, y, rows, m, xs, ys, &missing);
	memset(out, 0, PP_DIM * sizeof *out);
	out[PP_ROWS] = (double)m;
	out[PP_N] = (double)n;
	if (n == 0)
		return;
	double sx, sy;
	pairwise_sum2(xs, ys, n, &sx, &sy);
	double mx = sx / (double)n, my = sy / (double)n;
	struct moments c = sum_moments(xs, ys, n, mx, my, 1, 1, 1, 1);
	out[PP_MX] = mx;
	out[PP_MY] = my;
	out[PP_CXX] = c.xx;
	out[PP_CYY] = c.yy;
	out[PP_CXY] = c.xy;
	out[PP_XMIN] = out[PP_XMAX] = xs[0];
	out[PP_YMIN] = out[PP_YMAX] = ys[0];
	for (size_t i = 1; i < n; i++) {
		out[PP_XMIN] = fmin(out[PP_XMIN], xs[i]);
		out[PP_XMAX] = fmax(out[PP_XMAX], xs[i]);
		out[PP_YMIN] = fmin(out[PP_YMIN], ys[i]);
		out[PP_YMAX] = fmax(out[PP_YMAX], ys[i]);
	}
}

/* A += B by the pairwise update. */
static void cell_merge(double *a, const double *b)
{
	double na = a[PP_N], nb = b[PP_N], n = na + nb;
	a[PP_ROWS] += b[PP_ROWS];
	if (nb == 0)
		return;
	if (na == 0) {
		memcpy(a + PP_N, b + PP_N, (PP_DIM - PP_N) * sizeof *a);
		return;
	}
	double dx = b[PP_MX] - a[PP_MX], dy = b[PP_MY] - a[PP_MY], f = na * nb / n;
	a[PP_MX] += dx * (nb / n);
	a[PP_MY] += dy * (nb / n);
	a[PP_CXX] += b[PP_CXX] + dx * dx * f;
	a[PP_CYY] += b[PP_CYY] + dy * dy * f;
	a[PP_CXY] += b[PP_CXY] + dx * dy * f;
	a[PP_XMIN] = fmin(a[PP_XMIN], b[PP_XMIN]);
	a[PP_XMAX] = fmax(a[PP_XMAX], b[PP_XMAX]);
	a[PP_YMIN] = fmin(a[PP_YMIN], b[PP_YMIN]);
	a[PP_YMAX] = fmax(a[PP_YMAX], b[PP_YMAX]);
	a[PP_N] = n;
}

void emb_corr_partial(const struct emb_corr_opts *o, char *const *files, int nfiles)
{
	struct emb_cols c;
	struct groups g = {NULL, NULL};
	emb_cols_read(&c, &o->cols, files, nfiles);
	if (c.group)
		g = group_rows(&c);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "kind", "pearson");
	emb_partial_put(p, "n", (double)c.rows);
	cJSON_AddStringToObject(p, "x", c.xname);
	cJSON *ya = cJSON_AddArrayToObject(p, "y");
	for (size_t k = 0; k < c.ny; k++)
		cJSON_AddItemToArray(ya, cJSON_CreateString(c.ynames[k]));
	cJSON_AddStringToObject(p, "nan", nan_names[o->cols.nan]);
	if (c.group) {
		cJSON_AddStringToObject(p, "group", o->cols.group);
		cJSON *ga = cJSON_AddArrayToObject(p, "groups");
		for (size_t i = 0; i < c.ngroups; i++)
			cJSON_AddItemToArray(ga, cJSON_CreateString(c.group_names[i]));
	}
	struct emb_stream *s = emb_partial_open_w(PP_DIM, p);
	double *xs = emb_xmalloc(emb_xmul(c.rows + 1, 2 * sizeof *xs)), *ys = xs + c.rows + 1;
	double row[PP_DIM];
	char key[64];
	for (size_t k = 0; k < c.ny; k++) {
		cell_stats(c.x, c.y[k], NULL, c.rows, xs, ys, row);
		snprintf(key, sizeof key, "y%zu", k + 1);
		emb_write_row(s, key, row, EMB_F64);
		for (size_t gi = 0; c.group && gi < c.ngroups; gi++) {
			cell_stats(c.x, c.y[k], g.order + g.start[gi], g.start[gi + 1] - g.start[gi],
				   xs, ys, row);
			snprintf(key, sizeof key, "y%zu.g%zu", k + 1, gi + 1);
			emb_write_row(s, key, row, EMB_F64);
		}
	}
	emb_close(s);
	free(xs);
	free(g.order);
	free(g.start);
	emb_cols_free(&c);
}

/* The merged partials: names, groups and the cells by column. */
struct merged {
	const char *first;      /* the first partial's name, for messages */
	cJSON *x, *y, *nan, *group;  /* the first partial's (owned copies) */
	size_t ny, ngroups;
	char **gnames;          /* ngroups, in order of first appearance */
	double **cells;         /* ny arrays of (1 + ngroups) * PP_DIM */
	uint64_t rows;
};

static bool json_same(const cJSON *a, const cJSON *b)
{
	return (!a && !b) || (a && b && cJSON_Compare(a, b, true));
}

static size_t group_id(struct merged *mg, const char *name)
{
	for (size_t i = 0; i < mg->ngroups; i++)
		if (strcmp(mg->gnames[i], name) == 0)
			return i;
	mg->gnames = emb_xrealloc(mg->gnames, (mg->ngroups + 1) * sizeof *mg->gnames);
	mg->gnames[mg->ngroups] = emb_xstrdup(name);
	for (size_t k = 0; k < mg->ny; k++) {
		mg->cells[k] = emb_xrealloc(mg->cells[k], emb_xmul(mg->ngroups + 2,
								    PP_DIM * sizeof(double)));
		memset(mg->cells[k] + (mg->ngroups + 1) * PP_DIM, 0, PP_DIM * sizeof(double));
	}
	return mg->ngroups++;
}

static void merge_file(struct merged *mg, const char *path)
{
	cJSON *p;
	struct emb_stream *s = emb_partial_open_r(path, "pearson", &p);
	const char *name = s->name;
	cJSON *x = cJSON_GetObjectItemCaseSensitive(p, "x");
	cJSON *y = cJSON_GetObjectItemCaseSensitive(p, "y");
	cJSON *nan = cJSON_GetObjectItemCaseSensitive(p, "nan");
	cJSON *group = cJSON_GetObjectItemCaseSensitive(p, "group");
	cJSON *groups = cJSON_GetObjectItemCaseSensitive(p, "groups");
	int ny = cJSON_GetArraySize(y), ng = cJSON_GetArraySize(groups);
	if (!cJSON_IsString(x) || !cJSON_IsArray(y) || ny < 1 || !cJSON_IsString(nan) ||
	    lookup(nan_names, 3, nan->valuestring) < 0 || (group && !cJSON_IsString(group)) ||
	    (!group != !groups) || (groups && !cJSON_IsArray(groups)) || s->dim != PP_DIM)
		emb_die(EMB_EXIT_DATA, "%s: bad pearson partial header", name);
	for (cJSON *e = y->child; e; e = e->next)
		if (!cJSON_IsString(e))
			emb_die(EMB_EXIT_DATA, "%s: bad pearson partial header", name);
	for (cJSON *e = groups ? groups->child : NULL; e; e = e->next)
		if (!cJSON_IsString(e))
			emb_die(EMB_EXIT_DATA, "%s: bad pearson partial header", name);
	double n = emb_partial_get(name, p, "n", true, false, 0);
	if (!mg->first) {
		mg->first = path;
		mg->x = cJSON_Duplicate(x, true);
		mg->y = cJSON_Duplicate(y, true);
		mg->nan = cJSON_Duplicate(nan, true);
		mg->group = group ? cJSON_Duplicate(group, true) : NULL;
		mg->ny = (size_t)ny;
		mg->cells = emb_xcalloc(mg->ny, sizeof *mg->cells);
		for (size_t k = 0; k < mg->ny; k++)
			mg->cells[k] = emb_xcalloc(PP_DIM, sizeof(double));
	} else if (!json_same(x, mg->x) || !json_same(y, mg->y) || !json_same(group, mg->group)) {
		emb_die(EMB_EXIT_DATA, "%s: a partial of other columns than %s's "
			"(-x, -y and --group must be the same)", name, mg->first);
	} else if (!json_same(nan, mg->nan)) {
		emb_die(EMB_EXIT_DATA, "%s: a partial made with --nan=%s, but %s with --nan=%s",
			name, nan->valuestring, mg->first, mg->nan->valuestring);
	}
	double *rows;
	size_t got = emb_partial_rows(s, &rows), want = (size_t)ny * (size_t)(1 + ng);
	if (got != want)
		emb_die(EMB_EXIT_DATA, "%s: a pearson partial of %d y %s and %d %s has %zu rows, not %zu",
			name, ny, ny == 1 ? "column" : "columns", ng, ng == 1 ? "group" : "groups",
			got, want);
	size_t *ids = emb_xmalloc((size_t)(ng + 1) * sizeof *ids);
	size_t gi = 0;
	for (cJSON *e = groups ? groups->child : NULL; e; e = e->next)
		ids[gi++] = group_id(mg, e->valuestring);
	for (size_t k = 0; k < mg->ny; k++) {
		const double *r = rows + k * (size_t)(1 + ng) * PP_DIM;
		if (r[PP_N] > r[PP_ROWS] || r[PP_N] != floor(r[PP_N]) || r[PP_ROWS] != floor(r[PP_ROWS]))
			emb_die(EMB_EXIT_DATA, "%s: bad counts in row %zu", name, k * (size_t)(1 + ng) + 1);
		cell_merge(mg->cells[k], r);
		for (size_t j = 0; j < (size_t)ng; j++)
			cell_merge(mg->cells[k] + (1 + ids[j]) * PP_DIM, r + (1 + j) * PP_DIM);
	}
	mg->rows += (uint64_t)n;
	free(ids);
	free(rows);
	emb_close(s);
}

/* The result of one merged cell, as subset() and compute() give it. */
static struct emb_corr_result cell_result(const struct emb_corr_opts *o, const double *a,
					  const char *what)
{
	size_t n = (size_t)a[PP_N], m = (size_t)a[PP_ROWS];
	struct emb_corr_result res = {NULL, n, NAN, NAN, NAN, NAN};
	if (n < m && o->cols.nan == EMB_NAN_PROPAGATE) {
		res.n = m;
		return res;
	}
	if (n < 2) {
		emb_warn("%s: fewer than 2 pairs; the correlation is not defined", what);
		return res;
	}
	if (a[PP_XMIN] == a[PP_XMAX] || a[PP_YMIN] == a[PP_YMAX]) {
		emb_warn("%s: an input is constant; the correlation is not defined", what);
		return res;
	}
	if (n == 2) /* scipy: the sign of the slope, exactly */
		res.r = (double)((a[PP_CXY] > 0) - (a[PP_CXY] < 0));
	else
		res.r = fmax(fmin(a[PP_CXY] / (sqrt(a[PP_CXX]) * sqrt(a[PP_CYY])), 1.0), -1.0);
	res.p = emb_pearson_p(res.r, n, o->alt);
	if (o->ci > 0)
		emb_fisher_ci(res.r, n, o->ci, o->alt, false, &res.lo, &res.hi);
	return res;
}

void emb_corr_merge(const struct emb_corr_opts *o, char *const *files, int nfiles)
{
	struct merged mg;
	struct emb_corr_opts mo = *o;
	struct report rep = {&mo, NULL};
	char what[256];

	memset(&mg, 0, sizeof mg);
	gsl_set_error_handler_off();
	for (int i = 0; i < nfiles; i++)
		merge_file(&mg, files[i]);
	mo.cols.nan = (enum emb_nan_policy)lookup(nan_names, 3, mg.nan->valuestring);
	mo.cols.group = mg.group ? mg.group->valuestring : NULL;
	if (mg.rows == 0)
		emb_warn("no data rows");
	const char *xname = mg.x->valuestring;
	report_header(&rep);
	for (size_t k = 0; k < mg.ny; k++) {
		const char *yname = cJSON_GetArrayItem(mg.y, (int)k)->valuestring;
		const double *pooled = mg.cells[k];
		size_t missing = (size_t)(pooled[PP_ROWS] - pooled[PP_N]);
		if (missing && mo.cols.nan == EMB_NAN_OMIT)
			emb_warn("%s vs %s: omitted %zu of %zu %s with a missing value", xname, yname,
				 missing, (size_t)pooled[PP_ROWS],
				 emb_plural((uint64_t)pooled[PP_ROWS], "row", "rows"));
		if (!mg.group) {
			snprintf(what, sizeof what, "%s vs %s", xname, yname);
			struct emb_corr_result r = cell_result(&mo, pooled, what);
			report_row(&rep, xname, yname, &r);
			continue;
		}
		double sum = 0, wsum = 0;
		size_t ntot = 0;
		for (size_t gi = 0; gi < mg.ngroups; gi++) {
			snprintf(what, sizeof what, "group %s: %s vs %s", mg.gnames[gi], xname, yname);
			struct emb_corr_result r = cell_result(&mo, mg.cells[k] + (1 + gi) * PP_DIM, what);
			r.group = mg.gnames[gi];
			report_row(&rep, xname, yname, &r);
			sum += r.r;
			wsum += r.r * (double)r.n;
			ntot += r.n;
		}
		struct emb_corr_result mean = {"mean", ntot, sum / (double)mg.ngroups, NAN, NAN, NAN};
		struct emb_corr_result wmean = {"wmean", ntot, wsum / (double)ntot, NAN, NAN, NAN};
		report_row(&rep, xname, yname, &mean);
		report_row(&rep, xname, yname, &wmean);
		snprintf(what, sizeof what, "all: %s vs %s", xname, yname);
		struct emb_corr_result all = cell_result(&mo, pooled, what);
		all.group = "all";
		report_row(&rep, xname, yname, &all);
	}
	report_end(&rep);
	for (size_t k = 0; k < mg.ny; k++)
		free(mg.cells[k]);
	for (size_t i = 0; i < mg.ngroups; i++)
		free(mg.gnames[i]);
	free(mg.cells);
	free(mg.gnames);
	cJSON_Delete(mg.x);
	cJSON_Delete(mg.y);
	cJSON_Delete(mg.nan);
	cJSON_Delete(mg.group);
}
