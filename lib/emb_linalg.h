/*
 * emb_linalg.h - the fit steps shared by embcenter, embwhiten and embstat:
 * streaming mean and covariance, the symmetric eigendecomposition, the
 * two-pass spill of standard input, and MODEL streams (saved transforms).
 *
 * Typical fit (O(d^2) memory whatever the number of rows; O(n*d + n^2)
 * with n < d rows through emb_cov_eigen, the Gram route below):
 *
 *     struct emb_cov cv;
 *     emb_cov_init(&cv, in->dim);
 *     while (emb_read_chunk(in, &c) > 0)
 *             emb_cov_add(&cv, &c);
 *     double *mean = emb_xmalloc(d * sizeof *mean), *cov = ... d*d ...;
 *     emb_cov_finish(&cv, mean, cov);       -- np.mean, np.cov (N-1)
 *     emb_eigen_sym(d, cov, evals, evecs);  -- descending, vectors in columns
 *     emb_cov_free(&cv);
 *
 * All matrices are dense row-major doubles: element (i, j) of a d x d
 * matrix A is A[i*d + j].
 */
#ifndef EMB_LINALG_H
#define EMB_LINALG_H

#include "emb.h"

#include <sys/stat.h>
#include <time.h>

/* ---- streaming mean and covariance (emb_linalg.c) ---- */

/*
 * Accumulates sum and cross-products of rows in double precision.  Rows
 * are shifted by the mean of the first chunk (in double) before BLAS
 * dsyrk, so data whose mean is far larger than its spread (1e4 times, say)
 * loses nothing to cancellation.  All buffers are owned by the struct
 * (emb_cov_free).
 *
 * f32 rows are widened to double before dsyrk too: an f32 product
 * (ssyrk) would halve the fit's cost but lose the directions whose
 * variance is below about 1e-7 of the largest, so a one-pass fit would no
 * longer equal the merge of its shards' partials (emb_moments.h), nor
 * numpy.
 */
struct emb_cov {
	size_t dim;        /* values per row, fixed by emb_cov_init */
	uint64_t n;        /* rows added so far */
	bool mean_only;    /* emb_cov_init_mean: no covariance */
	bool raw;          /* emb_cov_init_raw: no shift, no centring */
	/* private */
	double *shift;     /* dim: subtracted from every row (first chunk's mean) */
	double *sum;       /* dim: sum of shifted rows */
	double *cross;     /* dim*dim: upper triangle of sum of shifted outer products */
	double *buf;       /* shifted rows waiting for dsyrk (a batch) */
	size_t buf_rows, pend_rows; /* capacity and fill of buf, in rows */
};
void emb_cov_init(struct emb_cov *cv, size_t dim);
/* The same, for the mean only (no O(d^2) work: emb_cov_finish's COV
 * must then be NULL). */
void emb_cov_init_mean(struct emb_cov *cv, size_t dim);
/* The same for the uncentred second moment X^T X (--remove-pc): rows are
 * never shifted, so cross holds X^T X itself and sum X^T 1, and two
 * accumulators of disjoint rows merge by adding them.  emb_cov_finish's
 * COV is then X^T X / n, and emb_cov_eigen/emb_cov_top give its
 * eigenpairs (the Gram route uses X X^T, uncentred, from n = 1 on). */
void emb_cov_init_raw(struct emb_cov *cv, size_t dim);
/* Add C's rows (f32 or f64; C->dim must equal cv->dim). */
void emb_cov_add(struct emb_cov *cv, const struct emb_chunk *c);
/* MEAN (dim values) and COV (dim*dim, full symmetric, N-1 normaliser as
 * np.cov) of the rows added, into caller-owned arrays.  Either may be
 * NULL.  With n < 2 the covariance is all zeros (with n = 0 so is the mean).
 * May be called again after more emb_cov_add() calls. */
void emb_cov_finish(struct emb_cov *cv, double *mean, double *cov);
void emb_cov_free(struct emb_cov *cv);
/* Initialise CV as if N rows of mean MEAN (DIM values) and centred second
 * moments M2 (DIM x DIM, full, sum of (x-mu)(x-mu)^T) had been added by
 * the covariance route (emb_moments.h: merged partials).  Copies both. */
void emb_cov_set_moments(struct emb_cov *cv, size_t dim, uint64_t n, const double *mean,
			 const double *m2);
/* The same for emb_cov_init_raw's uncentred sums: CV then holds
 * X^T X = M2 + n MEAN MEAN^T of the rows behind the moments. */
void emb_cov_set_raw_moments(struct emb_cov *cv, size_t dim, uint64_t n, const double *mean,
			     const double *m2);

/* emb_cov_add() dies on a NaN or an infinity (emb_require_finite(), emb.h)
 * before it can reach a sum. */

/*
 * Fewer rows than dims (the Gram route).  While n < dim, emb_cov keeps
 * the shifted rows themselves (n x dim doubles, less than the dim x dim
 * cross-products, which are only formed once n reaches dim).  Then the
 * eigenpairs come from the n x n Gram matrix Xc Xc^T = U M U^T: the
 * covariance's eigenvalues are M/(n-1), then dim-n exact zeros, and its
 * eigenvectors Xc^T U M^(-1/2).  Memory O(n*dim + n^2), time O(n^2 dim).
 *
 * emb_cov_eigen: all DIM eigenvalues of the covariance into EVALS
 * (descending, as emb_eigen_sym) and, if VECS is not NULL, *VECS (malloc'd,
 * caller frees) = the first M unit eigenvectors as rows (M x dim), signs
 * fixed as emb_eigen_sym's.  Returns M: dim on the covariance route; on
 * the Gram route the number of eigenvalues above rounding noise (at most
 * n-1); the other directions span the null space.  emb_cov_gram_rows()
 * gives the n shifted rows kept in Gram mode, NULL when the cross-products
 * are used instead.
 */
size_t emb_cov_eigen(struct emb_cov *cv, double *evals, double **vecs);
const double *emb_cov_gram_rows(const struct emb_cov *cv);
/* The top K (<= dim) eigenvectors as rows (K x dim, malloc'd), EVALS as
 * emb_cov_eigen, *M its return value if M is not NULL.  Past M, rows are an
 * orthonormal basis of the null space (emb_householder_col). */
double *emb_cov_top(struct emb_cov *cv, size_t k, double *evals, size_t *m);

/*
 * The null space of M orthonormal rows V (M x D) without D x D memory:
 * emb_householder returns the M reflectors H_i = I - 2 h_i h_i^T (rows of
 * an M x D array, malloc'd) of the QR factorisation V^T = Q R, Q = H_0 ...
 * H_(M-1).  Columns M..D-1 of Q are an orthonormal basis of the
 * complement of V's span.  emb_householder_qt replaces Z (D values) by
 * Q^T Z (its entries past M are Z's coordinates in that basis, O(M D));
 * emb_householder_col writes column J of Q into OUT (D values).
 */
double *emb_householder(size_t m, size_t d, const double *v);
void emb_householder_qt(size_t m, size_t d, const double *h, double *z);
void emb_householder_col(size_t m, size_t d, const double *h, size_t j, double *out);

/* ---- symmetric eigendecomposition (emb_linalg.c) ---- */

/*
 * Eigenvalues and eigenvectors of the symmetric d x d matrix A (only its
 * upper triangle is read; A is overwritten).  EVALS (d values) come out in
 * descending order; EVECS (d*d, caller-owned) holds the unit eigenvectors
 * as columns: vector j is EVECS[i*d + j], i = 0..d-1, for EVALS[j].  Each
 * vector's sign is fixed so that its largest-magnitude component is
 * positive, so results are reproducible.  Uses LAPACK dsyevd (from
 * OpenBLAS) when configure found it, unless the environment has
 * EMB_EIGEN=gsl; else GSL's gsl_eigen_symmv.
 */
void emb_eigen_sym(size_t d, double *a, double *evals, double *evecs);

/* ---- two passes over an input (emb_spill.c) ---- */

/*
 * Fit-then-apply programs read their input twice.  emb_spill_begin()
 * opens PATH for the first pass.  A regular named file is opened again for
 * the second (and must not have changed); any other input (standard input,
 * a FIFO, <(...), /dev/stdin) is read once: every chunk read through
 * emb_spill_read() is also copied to an unlinked temporary binary emb file
 * in $TMPDIR (emb_tmpfile), which the second pass reads.  Values are kept
 * exactly (f64 stays f64).
 */
struct emb_spill {
	struct emb_stream *in;   /* the stream to read in the current pass */
	/* private */
	const char *path;        /* a regular file read twice, or NULL */
	dev_t dev;               /* ... and what it was in the first pass */
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct emb_stream *tmp;  /* writer of the spill, first pass only */
	FILE *spill;             /* the spill, until the second pass owns it */
};
/* First pass over PATH ("-" or NULL = stdin) with options O; sp->in is the
 * opened stream (its header is valid, as after emb_open_r). */
void emb_spill_begin(struct emb_spill *sp, const char *path, const struct emb_opts *o);
/* emb_read_chunk() on sp->in, copying the rows to the spill if any. */
size_t emb_spill_read(struct emb_spill *sp, struct emb_chunk *c);
/* Close the first pass and open the second in sp->in.  The caller must
 * have taken what it needs from the first pass's header (emb_open_w_like)
 * before calling this. */
void emb_spill_rewind(struct emb_spill *sp, const struct emb_opts *o);
/* Close the second pass. */
void emb_spill_end(struct emb_spill *sp);

/* ---- saved transforms: MODEL streams (emb_model.c) ---- */

/*
 * A MODEL is an ordinary binary f64 vector stream of dim_in values per
 * row: row "mean" (mu), then rows "w1".."wK" (the K columns of the matrix
 * W, one per row).  Its header has a member
 *     "transform": {"kind": KIND, "dim_out": .., "n": .., ...parameters}
 * with KIND one of:
 *   center  y = x - mu                            (K = 0)
 *   abtt    y = (x-mu) - sum_i ((x-mu).w_i) w_i   (w_i: top K directions)
 *   remove-pc  y = x - sum_i (x.w_i) w_i          (mu = 0: w_i are the top K
 *           eigenvectors of X^T X, the right singular vectors of X)
 *   whiten  y = (x-mu) W, y_j = (x-mu).w_j        (whitening, ZCA, PCA)
 * and "normalize": true when outputs are L2-normalised afterwards.  A
 * whiten model fitted on fewer rows than dims may have "null_rows": M and
 * "null_scale": S, with M more rows "h1".."hM" after the w rows (M = K):
 * then y_j = S (Q^T (x-mu))_j for j = K..dim_out-1 (emb_householder).
 * emb_model_load checks all of this against the rows and dims, and that
 * every value is finite.
 */
enum emb_model_kind { EMB_MODEL_CENTER, EMB_MODEL_ABTT, EMB_MODEL_WHITEN, EMB_MODEL_REMOVE_PC };
struct emb_model {
	enum emb_model_kind kind;
	size_t dim_in, dim_out;
	size_t k;                /* rows of w */
	double *mean;            /* dim_in (owned) */
	double *w;               /* k * dim_in, row i is w_{i+1} (owned, or NULL) */
	bool normalize;
	struct cJSON *params;    /* the "transform" object (owned) */
	/* private: scratch for emb_model_apply */
	void *scratch, *centred;
	size_t scratch_rows, centred_rows;
	float *wf;               /* w as f32 for sgemm on f32 chunks */
	/* whiten only, optional: output columns k..dim_out-1 are
	 * null_scale * (Q^T (x-mu))_j, Q from the null_m Householder rows h
	 * (emb_householder) of the fitted directions: the null space of a fit
	 * with fewer rows than dims, without a dim x dim matrix. */
	double *h;               /* null_m * dim_in (owned), or NULL */
	size_t null_m;
	double null_scale;
};
/* Fill the kind-independent parts of a new "transform" object: the
 * caller adds its own parameters to m->params.  Takes ownership of MEAN
 * and W. */
void emb_model_init(struct emb_model *m, enum emb_model_kind kind, size_t dim_in,
		    double *mean, double *w, size_t k, bool normalize, uint64_t n);
/* --save PATH: open the MODEL stream for PATH, whose header otherwise
 * copies IN's (history), before the fit (emb_open_w_path: it appears under
 * PATH only when complete); then write M to it and close it. */
struct emb_stream *emb_model_save_open(const char *path, const struct emb_stream *in);
void emb_model_save(const struct emb_model *m, struct emb_stream *s);
/* Give whiten model M the implicit null-space columns k..DIM_OUT-1 (see
 * struct emb_model); takes ownership of H (NULL_M x dim_in). */
void emb_model_set_null(struct emb_model *m, double *h, size_t null_m, double scale,
			size_t dim_out);
/* Read a MODEL from PATH; dies with "PATH: not a transform model" etc. */
void emb_model_load(struct emb_model *m, const char *path);
/* Transform chunk IN into OUT (dim_out values, IN's type and keys),
 * L2-normalising if m->normalize.  Returns the number of rows that were
 * all zeros and so stayed unnormalised (the caller reports them). */
size_t emb_model_apply(struct emb_model *m, const struct emb_chunk *in, struct emb_chunk *out);
/* The apply pass: read every chunk of IN, write it transformed to OUT
 * (OUT's dim is set to dim_out and its header written even with no rows).
 * Dies if IN's dim is not the model's; warns about all-zero rows left
 * unnormalised.  Neither stream is closed. */
void emb_model_run(struct emb_model *m, struct emb_stream *in, struct emb_stream *out);
void emb_model_free(struct emb_model *m);

/*
 * The whole of a fit/apply filter (embcenter, embwhiten): with LOAD,
 * apply that MODEL to PATH in one pass; otherwise FIT reads the first pass
 * through emb_spill_read() and fills the model (ARG is its own), which is
 * saved to SAVE if not NULL and applied in the second pass.  NORMALIZE
 * forces L2 normalisation of the output.  Writes standard output.
 */
typedef void emb_fit_fn(struct emb_spill *sp, void *arg, struct emb_model *m);
void emb_model_filter(const char *path, const char *load, const char *save,
		      bool normalize, emb_fit_fn *fit, void *arg);

/* L2-normalise every row of C in place; zero rows stay zero and are
 * counted in the return value. */
size_t emb_normalize_rows(struct emb_chunk *c);

#endif /* EMB_LINALG_H */
