/*
 * emb_linalg.c - streaming covariance and symmetric eigendecomposition
 * (contracts in emb_linalg.h).
 */
#include <config.h>
#include "emb_linalg.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void emb_cov_init(struct emb_cov *cv, size_t dim)
{
	memset(cv, 0, sizeof *cv);
	cv->dim = dim;
	cv->shift = emb_xcalloc(dim ? dim : 1, sizeof *cv->shift);
	cv->sum = emb_xcalloc(dim ? dim : 1, sizeof *cv->sum);
	cv->cross = emb_xcalloc(emb_xmul(dim, dim) ? dim * dim : 1, sizeof *cv->cross);
}

void emb_cov_init_mean(struct emb_cov *cv, size_t dim)
{
	memset(cv, 0, sizeof *cv);
	cv->dim = dim;
	cv->shift = emb_xcalloc(dim ? dim : 1, sizeof *cv->shift);
	cv->sum = emb_xcalloc(dim ? dim : 1, sizeof *cv->sum);
}

/* The first chunk's mean is a good enough estimate of the final mean to
 * make the shifted sums small, which is what keeps the subtraction in
 * emb_cov_finish exact to double rounding. */
static void set_shift(struct emb_cov *cv, const struct emb_chunk *c)
{
	for (size_t i = 0; i < c->rows; i++)
		for (size_t j = 0; j < cv->dim; j++)
			cv->shift[j] += emb_get(c, i, j);
	for (size_t j = 0; j < cv->dim; j++)
		cv->shift[j] /= (double)c->rows;
}

/* Rows are batched into BATCH_BYTES of doubles before each dsyrk: fewer,
 * larger BLAS calls keep OpenBLAS's threads busy instead of yielding
 * (measured: input chunks of ~1400 rows at d = 768 spent a fifth of the
 * time in sched_yield). */
#define BATCH_BYTES ((size_t)64 << 20)

static void flush_batch(struct emb_cov *cv)
{
	if (cv->pend_rows && cv->cross)
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cv->dim, (int)cv->pend_rows,
			    1.0, cv->buf, (int)cv->dim, 1.0, cv->cross, (int)cv->dim);
	cv->pend_rows = 0;
}

static void load_shifted(struct emb_cov *cv, const struct emb_chunk *c)
{
	size_t d = cv->dim;
	if (cv->pend_rows + c->rows > cv->buf_rows)
		flush_batch(cv);
	if (c->rows > cv->buf_rows) {
		size_t want = BATCH_BYTES / (d * sizeof *cv->buf);
		free(cv->buf);
		cv->buf_rows = c->rows > want ? c->rows : want;
		cv->buf = emb_xmalloc(emb_xmul(emb_xmul(cv->buf_rows, d), sizeof *cv->buf));
	}
	for (size_t i = 0; i < c->rows; i++) {
		double *b = cv->buf + (cv->pend_rows + i) * d;
		if (c->type == EMB_F64) {
			const double *r = emb_row_f64(c, i);
			for (size_t j = 0; j < d; j++)
				b[j] = r[j] - cv->shift[j];
		} else {
			const float *r = emb_row_f32(c, i);
			for (size_t j = 0; j < d; j++)
				b[j] = (double)r[j] - cv->shift[j];
		}
		for (size_t j = 0; j < d; j++)
			cv->sum[j] += b[j];
	}
	cv->pend_rows += c->rows;
}

/* One f32 batch: ssyrk from scratch, then the result joins the double
 * sums. */
static void flush_f32(struct emb_cov *cv)
{
	size_t d = cv->dim;
	if (!cv->fpend_rows)
		return;
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)cv->fpend_rows, 1.0f,
		    cv->fbuf, (int)d, 0.0f, cv->fcross, (int)d);
	for (size_t i = 0; i < d; i++)
		for (size_t j = i; j < d; j++)
			cv->cross[i * d + j] += cv->fcross[i * d + j];
	cv->fpend_rows = 0;
}

/* B = R - SHIFT rounded once to f32 for ssyrk; SUM += R - SHIFT unrounded
 * (the mean keeps double precision).  Blocks of 8 let GCC's -O2
 * vectorizer (no epilogues) use SIMD: this runs on one thread between
 * ssyrk calls. */
static void shift_row_f32(float *restrict b, double *restrict sum, const float *restrict r,
			  const double *restrict shift, size_t d)
{
	size_t j = 0;
	for (; j + 8 <= d; j += 8)
		for (size_t l = 0; l < 8; l++) {
			double v = (double)r[j + l] - shift[j + l];
			b[j + l] = (float)v;
			sum[j + l] += v;
		}
	for (; j < d; j++) {
		double v = (double)r[j] - shift[j];
		b[j] = (float)v;
		sum[j] += v;
	}
}

static void load_shifted_f32(struct emb_cov *cv, const struct emb_chunk *c)
{
	size_t d = cv->dim;
	if (!cv->fbuf) {
		cv->fbuf = emb_xmalloc(emb_xmul(emb_xmul(EMB_COV_F32_BATCH, d), sizeof *cv->fbuf));
		cv->fcross = emb_xmalloc(emb_xmul(emb_xmul(d, d), sizeof *cv->fcross));
	}
	for (size_t i = 0; i < c->rows; i++) {
		if (cv->fpend_rows == EMB_COV_F32_BATCH)
			flush_f32(cv);
		shift_row_f32(cv->fbuf + cv->fpend_rows * d, cv->sum, emb_row_f32(c, i), cv->shift, d);
		cv->fpend_rows++;
	}
}

void emb_cov_add(struct emb_cov *cv, const struct emb_chunk *c)
{
	if (c->rows == 0 || cv->dim == 0)
		return;
	if (cv->n == 0)
		set_shift(cv, c);
	if (cv->cross && cv->f32_batches && c->type == EMB_F32 && cv->n >= EMB_COV_F64_ROWS) {
		load_shifted_f32(cv, c);
		cv->n_f32 += c->rows;
	} else if (cv->cross) {
		load_shifted(cv, c);
	} else {
		for (size_t i = 0; i < c->rows; i++)
			for (size_t j = 0; j < cv->dim; j++)
				cv->sum[j] += emb_get(c, i, j) - cv->shift[j];
	}
	cv->n += c->rows;
}

void emb_cov_finish(struct emb_cov *cv, double *mean, double *cov)
{
	flush_batch(cv);
	if (cv->cross)
		flush_f32(cv);
	size_t d = cv->dim;
	double n = (double)cv->n;
	for (size_t j = 0; mean && j < d; j++)
		mean[j] = cv->n ? cv->shift[j] + cv->sum[j] / n : 0;
	if (!cov)
		return;
	for (size_t i = 0; i < d; i++) {
		for (size_t j = i; j < d; j++) {
			double v = 0;
			if (cv->n >= 2)
				v = (cv->cross[i * d + j] - cv->sum[i] * cv->sum[j] / n) / (n - 1);
			cov[i * d + j] = cov[j * d + i] = v;
		}
	}
}

void emb_cov_free(struct emb_cov *cv)
{
	free(cv->shift);
	free(cv->sum);
	free(cv->cross);
	free(cv->buf);
	free(cv->fbuf);
	free(cv->fcross);
	memset(cv, 0, sizeof *cv);
}

/* Eigenvector signs are arbitrary; pin them so models are reproducible
 * across LAPACK/GSL and runs. */
static void fix_signs(size_t d, double *evecs)
{
	for (size_t j = 0; j < d; j++) {
		size_t best = 0;
		for (size_t i = 1; i < d; i++)
			if (fabs(evecs[i * d + j]) > fabs(evecs[best * d + j]))
				best = i;
		if (evecs[best * d + j] < 0)
			for (size_t i = 0; i < d; i++)
				evecs[i * d + j] = -evecs[i * d + j];
	}
}

#ifdef HAVE_LAPACK_DSYEVD
/* LAPACK's Fortran entry point, exported by OpenBLAS (no LAPACKE needed);
 * measured 25-30x faster than gsl_eigen_symmv at d = 768..1024. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
		    const int *lda, double *w, double *work, const int *lwork,
		    int *iwork, const int *liwork, int *info, size_t, size_t);

static void eigen_lapack(size_t d, double *a, double *evals, double *evecs)
{
	/* Row-major upper is column-major lower: same bytes, uplo "L". */
	int n = (int)d, lwork = -1, liwork = -1, info = 0, iw;
	double wq;
	double *w = emb_xmalloc(d * sizeof *w);
	dsyevd_("V", "L", &n, a, &n, w, &wq, &lwork, &iw, &liwork, &info, 1, 1);
	lwork = (int)wq;
	liwork = iw;
	double *work = emb_xmalloc(emb_xmul((size_t)lwork, sizeof *work));
	int *iwork = emb_xmalloc(emb_xmul((size_t)liwork, sizeof *iwork));
	dsyevd_("V", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
	if (info != 0)
		emb_die(EMB_EXIT_DATA, "eigendecomposition failed (LAPACK dsyevd info %d)", info);
	/* Column j of the result (ascending) is a[j*d .. j*d+d-1]. */
	for (size_t j = 0; j < d; j++) {
		size_t to = d - 1 - j;
		evals[to] = w[j];
		for (size_t i = 0; i < d; i++)
			evecs[i * d + to] = a[j * d + i];
	}
	free(work);
	free(iwork);
	free(w);
}
#endif

static void eigen_gsl(size_t d, double *a, double *evals, double *evecs)
{
	gsl_matrix_view A = gsl_matrix_view_array(a, d, d);
	gsl_vector_view E = gsl_vector_view_array(evals, d);
	gsl_matrix_view V = gsl_matrix_view_array(evecs, d, d);
	/* GSL reads the lower triangle; mirror the upper one into it. */
	for (size_t i = 0; i < d; i++)
		for (size_t j = i + 1; j < d; j++)
			a[j * d + i] = a[i * d + j];
	gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(d);
	if (!ws)
		emb_die(EMB_EXIT_DATA, "out of memory");
	gsl_eigen_symmv(&A.matrix, &E.vector, &V.matrix, ws);
	gsl_eigen_symmv_free(ws);
	gsl_eigen_symmv_sort(&E.vector, &V.matrix, GSL_EIGEN_SORT_VAL_DESC);
}

void emb_eigen_sym(size_t d, double *a, double *evals, double *evecs)
{
	if (d == 0)
		return;
#ifdef HAVE_LAPACK_DSYEVD
	const char *how = getenv("EMB_EIGEN");
	if (!how || strcmp(how, "gsl") != 0) {
		eigen_lapack(d, a, evals, evecs);
		fix_signs(d, evecs);
		return;
	}
#endif
	eigen_gsl(d, a, evals, evecs);
	fix_signs(d, evecs);
}

size_t emb_normalize_rows(struct emb_chunk *c)
{
	size_t zeros = 0;
	for (size_t i = 0; i < c->rows; i++) {
		double ss = 0;
		for (size_t j = 0; j < c->dim; j++)
			ss += emb_get(c, i, j) * emb_get(c, i, j);
		if (ss == 0) {
			zeros++;
			continue;
		}
		double inv = 1 / sqrt(ss);
		if (c->type == EMB_F64) {
			double *r = emb_row_f64(c, i);
			for (size_t j = 0; j < c->dim; j++)
				r[j] *= inv;
		} else {
			float *r = emb_row_f32(c, i);
			for (size_t j = 0; j < c->dim; j++)
				r[j] = (float)(r[j] * inv);
		}
	}
	return zeros;
}
