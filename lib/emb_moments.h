/*
 * emb_moments.h - partials: the sufficient statistics of a shard of rows,
 * written by --partial and combined exactly by --merge (embcenter,
 * embwhiten, embstat; embpearson's kind lives in emb_corr.c on the same
 * file helpers).
 *
 * A partial is an ordinary binary f64 vector stream with keys whose header
 * has a member "partial": {"kind": KIND, "n": N, ...} (emb.5, "Partials").
 * Kind "moments" (this file) holds, for N rows x of dim D:
 *
 *   row "mean"        mu = sum x / N
 *   row "unit_sum"    sum of x/|x| over the rows of nonzero norm
 *   rows "m2_1".."m2_D"  M2 = sum (x - mu)(x - mu)^T, full symmetric
 *
 * and in "partial" also "nonzero" (rows of nonzero norm), "norm_sum",
 * "norm_min" and "norm_max" (absent when N = 0).  Every number is written
 * in its shortest exact form, so a partial reads back bit for bit.
 *
 * Accumulation is by batches of rows: each batch's own mean and M2 (its
 * rows centred on that mean, BLAS dsyrk), then the batch joins the total
 * by the pairwise update of Chan, Golub and LeVeque (multivariate form:
 * Bennett et al. 2009):
 *     n = nA + nB,  d = muB - muA,  mu = muA + d nB/n,
 *     M2 = M2A + M2B + d d^T nA nB / n,
 * which is also how two partials merge.  Sums of raw products (E[xx^T] -
 * E[x]E[x]^T) are never formed.
 */
#ifndef EMB_MOMENTS_H
#define EMB_MOMENTS_H

#include "emb.h"
#include "emb_linalg.h"

struct cJSON;

struct emb_moments {
	size_t dim;
	uint64_t n;          /* rows */
	double *mean;        /* dim */
	double *m2;          /* dim*dim; only the upper triangle until emb_moments_sym */
	uint64_t nonzero;    /* rows of nonzero norm */
	double *unit_sum;    /* dim: sum of the unit rows */
	double norm_sum, norm_min, norm_max;  /* of the row norms; min/max +-inf at n = 0 */
	/* private: the batch being gathered, rows of doubles */
	double *buf, *bmean;
	size_t buf_rows, pend;
};

/* Empty statistics of DIM values per row.  Everything is owned by M
 * (emb_moments_free). */
void emb_moments_init(struct emb_moments *m, size_t dim);
/* Add C's rows (C->dim == m->dim); dies on a non-finite value naming it. */
void emb_moments_add(struct emb_moments *m, const struct emb_chunk *c);
/* Finish the pending batch (emb_moments_add batches rows). */
void emb_moments_flush(struct emb_moments *m);
/* A += B by the pairwise update (both flushed; B unchanged).  A of dim 0
 * and no rows takes B's dim. */
void emb_moments_merge(struct emb_moments *a, const struct emb_moments *b);
void emb_moments_free(struct emb_moments *m);

/* Read the whole of PATH ("-" = stdin) with options O into M (which this
 * initialises), as --partial does: the in-memory type is f64 when the input
 * is f64 or F64 is set, else f32, as the one-pass fits read. */
void emb_moments_read_input(struct emb_moments *m, const char *path, const struct emb_opts *o,
			    bool f64);
/* Write M as a partial of kind "moments" to standard output. */
void emb_moments_write(struct emb_moments *m);
/* Merge the partials PATHS[0..n) (kind "moments", each checked) into M,
 * which this initialises.  Dies naming the file on anything that is not
 * such a partial, or on partials of different dims. */
void emb_moments_merge_files(struct emb_moments *m, char *const *paths, int n);
/* Make CV (emb_cov_free) hold M's statistics, so that the fit code of the
 * one-pass programs runs on them: mean, covariance M2/(N-1) by the
 * covariance route (never the Gram route, which needs the rows). */
void emb_moments_to_cov(const struct emb_moments *m, struct emb_cov *cv);
/* The same for embcenter --remove-pc: CV (emb_cov_init_raw's kind) holds
 * the uncentred X^T X of the rows. */
void emb_moments_to_raw_cov(const struct emb_moments *m, struct emb_cov *cv);

/* The usage checks every program with --partial and --merge shares:
 * not both; not with CONFLICT (an option given, or NULL); --merge reads
 * at least one partial (NOPERANDS); with --partial none of
 * the shared options in REFUSED (EMB_SH_*; the output is always binary
 * f64), with --merge none but --progress (the inputs are partials).
 * Usage errors, exit 2. */
void emb_partial_usage(bool partial, bool merge, int noperands, const char *conflict,
		       unsigned refused);

/* Die "FILE: a partial, not vectors (merge partials with --merge)" if
 * input S is a partial: fitting or measuring its statistics rows as if
 * they were data would give a confident wrong answer. */
void emb_partial_refuse(const struct emb_stream *s);

/* ---- the files (shared with embpearson's kind, emb_corr.c) ---- */

/* A writer on standard output for a partial of DIM values per row: binary
 * f64 with keys, its header's "partial" member PARTIAL (taken over; its
 * "kind" set by the caller).  The header is written at once. */
struct emb_stream *emb_partial_open_w(size_t dim, struct cJSON *partial);
/* Open PATH as a partial of KIND: dies "PATH: not a partial (...)" or
 * "PATH: a partial of kind 'X', not 'KIND'".  *PARTIAL points into the
 * stream's header (valid until emb_close). */
struct emb_stream *emb_partial_open_r(const char *path, const char *kind,
				      struct cJSON **partial);
/* All rows of partial stream S as f64 into *ROWS (malloc'd, caller frees);
 * returns how many.  Dies on a non-finite value. */
size_t emb_partial_rows(struct emb_stream *s, double **rows);
/* Member NAME of P as an exact number (shortest round-trip text). */
void emb_partial_put(struct cJSON *p, const char *name, double v);
/* Member NAME of P: a finite number (a whole one >= 0 if WHOLE), else dies
 * naming PATH.  DEF if absent and OPTIONAL; absence is an error otherwise. */
double emb_partial_get(const char *path, const struct cJSON *p, const char *name, bool whole,
		       bool optional, double def);

#endif /* EMB_MOMENTS_H */
