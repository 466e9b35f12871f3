/*
 * emb_linalg.c - streaming covariance and symmetric eigendecomposition
 * (contracts in emb_linalg.h).
 */
#include <config.h>
#include "emb_linalg.h"

#include <float.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pin the sign of each of the M rows of V (M x D) so that its
 * largest-magnitude component is positive. */
static void fix_signs_rows(size_t m, size_t d, double *v)
{
	for (size_t j = 0; j < m; j++) {
		double *r = v + j * d;
		size_t best = 0;
		for (size_t i = 1; i < d; i++)
			if (fabs(r[i]) > fabs(r[best]))
				best = i;
		if (r[best] < 0)
			for (size_t i = 0; i < d; i++)
				r[i] = -r[i];
	}
}

void emb_cov_init(struct emb_cov *cv, size_t dim)
{
	memset(cv, 0, sizeof *cv);
	cv->dim = dim;
	cv->shift = emb_xcalloc(dim ? dim : 1, sizeof *cv->shift);
	cv->sum = emb_xcalloc(dim ? dim : 1, sizeof *cv->sum);
	/* cross is allocated when the rows reach dim (see load_shifted),
	 * or now if EMB_GRAM=off asks for the covariance route always. */
	const char *g = getenv("EMB_GRAM");
	if (g && strcmp(g, "off") == 0)
		cv->cross = emb_xcalloc(emb_xmul(dim ? dim : 1, dim ? dim : 1), sizeof *cv->cross);
}

void emb_cov_init_raw(struct emb_cov *cv, size_t dim)
{
	emb_cov_init(cv, dim);
	cv->raw = true;
}

void emb_cov_init_mean(struct emb_cov *cv, size_t dim)
{
	memset(cv, 0, sizeof *cv);
	cv->dim = dim;
	cv->shift = emb_xcalloc(dim ? dim : 1, sizeof *cv->shift);
	cv->sum = emb_xcalloc(dim ? dim : 1, sizeof *cv->sum);
	cv->mean_only = true;
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

/* Leave the Gram mode: from now on rows are summed into cross. */
static void alloc_cross(struct emb_cov *cv)
{
	if (!cv->cross)
		cv->cross = emb_xcalloc(emb_xmul(cv->dim, cv->dim), sizeof *cv->cross);
}

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
	if (!cv->cross && cv->n + c->rows < d) {
		/* Gram mode: fewer rows than dims so far; keep them all (less
		 * memory than a d x d cross). */
		if (cv->pend_rows + c->rows > cv->buf_rows) {
			size_t want = 2 * (cv->pend_rows + c->rows);
			cv->buf_rows = want < d ? want : d;
			cv->buf = emb_xrealloc(cv->buf, emb_xmul(emb_xmul(cv->buf_rows, d), sizeof *cv->buf));
		}
	} else {
		alloc_cross(cv);
		if (cv->pend_rows + c->rows > cv->buf_rows)
			flush_batch(cv);
	}
	if (cv->pend_rows + c->rows > cv->buf_rows) {
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

void emb_cov_add(struct emb_cov *cv, const struct emb_chunk *c)
{
	if (c->rows == 0 || cv->dim == 0)
		return;
	emb_require_finite(c);
	if (cv->n == 0 && !cv->raw)
		set_shift(cv, c);
	if (!cv->mean_only) {
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
	if (cov && !cv->mean_only)
		alloc_cross(cv);
	flush_batch(cv);
	size_t d = cv->dim;
	double n = (double)cv->n;
	for (size_t j = 0; mean && j < d; j++)
		mean[j] = cv->n ? cv->shift[j] + cv->sum[j] / n : 0;
	if (!cov)
		return;
	for (size_t i = 0; i < d; i++) {
		for (size_t j = i; j < d; j++) {
			double v = 0;
			if (cv->raw)
				v = cv->n ? cv->cross[i * d + j] / n : 0;
			else if (cv->n >= 2)
				v = (cv->cross[i * d + j] - cv->sum[i] * cv->sum[j] / n) / (n - 1);
			cov[i * d + j] = cov[j * d + i] = v;
		}
	}
}

void emb_cov_set_moments(struct emb_cov *cv, size_t dim, uint64_t n, const double *mean,
			 const double *m2)
{
	emb_cov_init_mean(cv, dim);
	cv->mean_only = false;
	cv->n = n;
	/* The shift is the mean and the shifted sums are 0: emb_cov_finish
	 * then gives MEAN and M2/(n-1) exactly. */
	if (dim) {
		memcpy(cv->shift, mean, dim * sizeof *cv->shift);
		alloc_cross(cv);
		memcpy(cv->cross, m2, dim * dim * sizeof *cv->cross);
	}
}

void emb_cov_set_raw_moments(struct emb_cov *cv, size_t dim, uint64_t n, const double *mean,
			     const double *m2)
{
	emb_cov_init_raw(cv, dim);
	cv->n = n;
	if (!dim)
		return;
	/* X^T X = M2 + n mean mean^T: a sum of two positive terms, so nothing
	 * cancels (the reverse, M2 from X^T X, is what partials avoid). */
	alloc_cross(cv);
	for (size_t i = 0; i < dim; i++) {
		cv->sum[i] = (double)n * mean[i];
		for (size_t j = 0; j < dim; j++)
			cv->cross[i * dim + j] = m2[i * dim + j] + (double)n * mean[i] * mean[j];
	}
}

void emb_cov_free(struct emb_cov *cv)
{
	free(cv->shift);
	free(cv->sum);
	free(cv->cross);
	free(cv->buf);
	memset(cv, 0, sizeof *cv);
}

const double *emb_cov_gram_rows(const struct emb_cov *cv)
{
	return cv->cross || cv->mean_only || cv->n >= cv->dim ? NULL : cv->buf;
}

/* Modified Gram-Schmidt, twice ("twice is enough"), on the M rows of V
 * (M x D), which are nearly orthonormal already. */
static void orthonormalise(size_t m, size_t d, double *v)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m; i++) {
			double *r = v + i * d;
			for (size_t p = 0; p < i; p++) {
				double dot = cblas_ddot((int)d, r, 1, v + p * d, 1);
				cblas_daxpy((int)d, -dot, v + p * d, 1, r, 1);
			}
			double nrm = cblas_dnrm2((int)d, r, 1);
			if (nrm > 0)
				cblas_dscal((int)d, 1 / nrm, r, 1);
		}
}

/* The Gram route (n < dim): the nonzero eigenpairs of C = Xc^T Xc / (n-1)
 * from those of the n x n matrix G = Xc Xc^T = U M U^T: C's eigenvalues
 * are M / (n-1) and its eigenvectors V = Xc^T U M^(-1/2). */
static size_t gram_eigen(struct emb_cov *cv, double *evals, double **vecs)
{
	size_t d = cv->dim, n = (size_t)cv->n;
	memset(evals, 0, d * sizeof *evals);
	if (vecs)
		*vecs = NULL;
	if (n < (cv->raw ? 1u : 2u))
		return 0;
	/* Uncentred (raw): X X^T, whose eigenvalues over n are X^T X / n's. */
	double centre = cv->raw ? 0 : 1, denom = cv->raw ? (double)n : (double)(n - 1);
	double *xc = emb_xmalloc(emb_xmul(emb_xmul(n, d), sizeof *xc));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			xc[i * d + j] = cv->buf[i * d + j] - centre * cv->sum[j] / (double)n;
	double *g = emb_xcalloc(n * n, sizeof *g);
	double *mu = emb_xmalloc(n * sizeof *mu);
	double *u = emb_xmalloc(n * n * sizeof *u);
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)d, 1.0, xc, (int)d,
		    0.0, g, (int)n);
	emb_eigen_sym(n, g, mu, u);
	for (size_t j = 0; j < n; j++)
		evals[j] = mu[j] / denom;
	/* Directions whose eigenvalue is rounding noise have no reliable
	 * vector here: they join the null space (the covariance route's
	 * vectors for them are noise too). */
	double tol = (mu[0] > 0 ? mu[0] : 0) * (double)d * DBL_EPSILON;
	size_t m = 0;
	while (m < n && mu[m] > tol)
		m++;
	/* ... and their eigenvalues are the zeros they stand for (centring
	 * always leaves one). */
	for (size_t j = m; j < n; j++)
		evals[j] = 0;
	if (vecs && m > 0) {
		double *v = emb_xmalloc(emb_xmul(emb_xmul(m, d), sizeof *v));
		/* V^T rows: v_j = sum_i u_ij xc_i / sqrt(mu_j). */
		for (size_t j = 0; j < m; j++) {
			double *r = v + j * d;
			memset(r, 0, d * sizeof *r);
			for (size_t i = 0; i < n; i++)
				cblas_daxpy((int)d, u[i * n + j] / sqrt(mu[j]), xc + i * d, 1, r, 1);
		}
		orthonormalise(m, d, v);
		fix_signs_rows(m, d, v);
		*vecs = v;
	}
	free(xc);
	free(g);
	free(mu);
	free(u);
	return m;
}

size_t emb_cov_eigen(struct emb_cov *cv, double *evals, double **vecs)
{
	size_t d = cv->dim;
	if (vecs)
		*vecs = NULL;
	if (d == 0)
		return 0;
	if (emb_cov_gram_rows(cv))
		return gram_eigen(cv, evals, vecs);
	double *cov = emb_xmalloc(emb_xmul(emb_xmul(d, d), sizeof *cov));
	double *u = emb_xmalloc(emb_xmul(emb_xmul(d, d), sizeof *u));
	emb_cov_finish(cv, NULL, cov);
	emb_eigen_sym(d, cov, evals, u);
	free(cov);
	if (!vecs) {
		free(u);
		return d;
	}
	/* Columns to rows, in place. */
	for (size_t i = 0; i < d; i++)
		for (size_t j = i + 1; j < d; j++) {
			double t = u[i * d + j];
			u[i * d + j] = u[j * d + i];
			u[j * d + i] = t;
		}
	*vecs = u;
	return d;
}

double *emb_householder(size_t m, size_t d, const double *v)
{
	double *h = emb_xmalloc(emb_xmul(emb_xmul(m ? m : 1, d ? d : 1), sizeof *h));
	if (m)
		memcpy(h, v, m * d * sizeof *h);
	for (size_t i = 0; i < m; i++) {
		double *a = h + i * d;
		/* a = H_{i-1} ... H_0 v_i, then the reflector that zeroes
		 * a[i+1..d-1]. */
		for (size_t p = 0; p < i; p++) {
			const double *hp = h + p * d;
			double dot = cblas_ddot((int)(d - p), hp + p, 1, a + p, 1);
			cblas_daxpy((int)(d - p), -2 * dot, hp + p, 1, a + p, 1);
		}
		memset(a, 0, i * sizeof *a);
		double nx = cblas_dnrm2((int)(d - i), a + i, 1);
		double alpha = a[i] > 0 ? -nx : nx;
		a[i] -= alpha;
		double nu = cblas_dnrm2((int)(d - i), a + i, 1);
		if (nu > 0) {
			cblas_dscal((int)(d - i), 1 / nu, a + i, 1);
		} else {
			memset(a + i, 0, (d - i) * sizeof *a);
			a[i] = 1;
		}
	}
	return h;
}

void emb_householder_qt(size_t m, size_t d, const double *h, double *z)
{
	for (size_t i = 0; i < m; i++) {
		const double *hi = h + i * d;
		double dot = cblas_ddot((int)(d - i), hi + i, 1, z + i, 1);
		cblas_daxpy((int)(d - i), -2 * dot, hi + i, 1, z + i, 1);
	}
}

void emb_householder_col(size_t m, size_t d, const double *h, size_t j, double *out)
{
	memset(out, 0, d * sizeof *out);
	out[j] = 1;
	for (size_t i = m; i-- > 0;) {
		const double *hi = h + i * d;
		double dot = cblas_ddot((int)(d - i), hi + i, 1, out + i, 1);
		cblas_daxpy((int)(d - i), -2 * dot, hi + i, 1, out + i, 1);
	}
}

double *emb_cov_top(struct emb_cov *cv, size_t k, double *evals, size_t *m_out)
{
	size_t d = cv->dim;
	double *v = NULL;
	size_t m = emb_cov_eigen(cv, evals, &v);
	if (m_out)
		*m_out = m;
	double *w = emb_xmalloc(emb_xmul(emb_xmul(k ? k : 1, d ? d : 1), sizeof *w));
	if (v)
		memcpy(w, v, (k < m ? k : m) * d * sizeof *w);
	if (k > m) {
		double *h = emb_householder(m, d, v);
		for (size_t j = m; j < k; j++)
			emb_householder_col(m, d, h, j, w + j * d);
		fix_signs_rows(k - m, d, w + m * d);
		free(h);
	}
	free(v);
	return w;
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
