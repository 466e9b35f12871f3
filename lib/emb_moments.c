/*
 * emb_moments.c - partials of fits: batch-wise mean and centred second
 * moments, their exact pairwise merge, and their partial files (contracts
 * in emb_moments.h; the partial file helpers are in emb_partial.c).
 */
#include <config.h>
#include "emb_moments.h"

#include <cJSON.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A batch is centred on its own mean before dsyrk: about this many bytes
 * of rows, so each BLAS call is large and the O(d^2) merge is rare. */
#define BATCH_BYTES ((size_t)32 << 20)

void emb_moments_init(struct emb_moments *m, size_t dim)
{
	memset(m, 0, sizeof *m);
	m->dim = dim;
	size_t d1 = dim ? dim : 1;
	m->mean = emb_xcalloc(d1, sizeof *m->mean);
	m->bmean = emb_xcalloc(d1, sizeof *m->bmean);
	m->unit_sum = emb_xcalloc(d1, sizeof *m->unit_sum);
	m->m2 = emb_xcalloc(emb_xmul(d1, d1), sizeof *m->m2);
	m->norm_min = INFINITY;
	m->norm_max = -INFINITY;
}

void emb_moments_free(struct emb_moments *m)
{
	free(m->mean);
	free(m->bmean);
	free(m->unit_sum);
	free(m->m2);
	free(m->buf);
	memset(m, 0, sizeof *m);
}

/* The pairwise update of (N, MEAN, M2) by a part of NB rows with mean
 * BMEAN whose own M2 has already been added to M2 (upper triangle). */
static void chan(struct emb_moments *m, uint64_t nb, const double *bmean)
{
	size_t d = m->dim;
	if (nb == 0)
		return;
	if (m->n == 0) {
		memcpy(m->mean, bmean, d * sizeof *m->mean);
		m->n = nb;
		return;
	}
	double na = (double)m->n, nbd = (double)nb, n = na + nbd;
	double *delta = emb_xmalloc(d * sizeof *delta);
	for (size_t j = 0; j < d; j++) {
		delta[j] = bmean[j] - m->mean[j];
		m->mean[j] += delta[j] * (nbd / n);
	}
	cblas_dsyr(CblasRowMajor, CblasUpper, (int)d, na * nbd / n, delta, 1, m->m2, (int)d);
	free(delta);
	m->n += nb;
}

void emb_moments_flush(struct emb_moments *m)
{
	size_t d = m->dim, nb = m->pend;
	if (nb == 0)
		return;
	double *bm = m->bmean;
	memset(bm, 0, d * sizeof *bm);
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < d; j++)
			bm[j] += m->buf[i * d + j];
	for (size_t j = 0; j < d; j++)
		bm[j] /= (double)nb;
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < d; j++)
			m->buf[i * d + j] -= bm[j];
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)nb, 1.0, m->buf, (int)d,
		    1.0, m->m2, (int)d);
	m->pend = 0;
	chan(m, nb, bm);
}

void emb_moments_add(struct emb_moments *m, const struct emb_chunk *c)
{
	size_t d = m->dim;
	if (c->rows == 0 || d == 0)
		return;
	emb_require_finite(c);
	size_t want = BATCH_BYTES / (d * sizeof(double));
	want = want ? want : 1;
	for (size_t i = 0; i < c->rows; i++) {
		if (m->pend == m->buf_rows) {
			if (m->buf_rows >= want) {
				emb_moments_flush(m);
			} else {
				/* Grown with the rows, so a small shard costs little. */
				size_t nr = m->buf_rows ? 2 * m->buf_rows : 256;
				m->buf_rows = nr < want ? nr : want;
				m->buf = emb_xrealloc(m->buf, emb_xmul(emb_xmul(m->buf_rows, d),
								       sizeof *m->buf));
			}
		}
		double *r = m->buf + m->pend * d, ss = 0;
		for (size_t j = 0; j < d; j++) {
			r[j] = emb_get(c, i, j);
			ss += r[j] * r[j];
		}
		/* The norms and unit rows as embstat's one pass has them. */
		double nrm = sqrt(ss);
		m->norm_min = nrm < m->norm_min ? nrm : m->norm_min;
		m->norm_max = nrm > m->norm_max ? nrm : m->norm_max;
		m->norm_sum += nrm;
		if (nrm > 0) {
			for (size_t j = 0; j < d; j++)
				m->unit_sum[j] += r[j] / nrm;
			m->nonzero++;
		}
		m->pend++;
	}
}

void emb_moments_merge(struct emb_moments *a, const struct emb_moments *b)
{
	if (a->n == 0 && a->dim == 0 && b->dim > 0) {
		emb_moments_free(a);
		emb_moments_init(a, b->dim);
	}
	size_t d = a->dim;
	if (b->n == 0)
		return;
	for (size_t i = 0; i < d; i++)
		for (size_t j = i; j < d; j++)
			a->m2[i * d + j] += b->m2[i * d + j];
	for (size_t j = 0; j < d; j++)
		a->unit_sum[j] += b->unit_sum[j];
	a->nonzero += b->nonzero;
	a->norm_sum += b->norm_sum;
	a->norm_min = b->norm_min < a->norm_min ? b->norm_min : a->norm_min;
	a->norm_max = b->norm_max > a->norm_max ? b->norm_max : a->norm_max;
	chan(a, b->n, b->mean);
}

void emb_moments_read_input(struct emb_moments *m, const char *path, const struct emb_opts *o,
			    bool f64)
{
	struct emb_stream *in = emb_open_r(path, o);
	emb_partial_refuse(in);
	in->mtype = in->dtype == EMB_F64 || f64 ? EMB_F64 : EMB_F32;
	struct emb_chunk c = EMB_CHUNK_INIT;
	emb_moments_init(m, in->dim);
	while (emb_read_chunk(in, &c) > 0) {
		/* A later segment may fix a dim the first left at 0. */
		if (m->dim != c.dim && m->n == 0 && m->pend == 0) {
			emb_moments_free(m);
			emb_moments_init(m, c.dim);
		}
		emb_moments_add(m, &c);
	}
	emb_moments_flush(m);
	emb_chunk_free(&c);
	emb_close(in);
}

void emb_moments_write(struct emb_moments *m)
{
	size_t d = m->dim;
	emb_moments_flush(m);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "kind", "moments");
	emb_partial_put(p, "n", (double)m->n);
	emb_partial_put(p, "nonzero", (double)m->nonzero);
	emb_partial_put(p, "norm_sum", m->norm_sum);
	if (m->n > 0) {
		emb_partial_put(p, "norm_min", m->norm_min);
		emb_partial_put(p, "norm_max", m->norm_max);
	}
	struct emb_stream *s = emb_partial_open_w(d, p);
	if (d > 0) {
		emb_write_row(s, "mean", m->mean, EMB_F64);
		emb_write_row(s, "unit_sum", m->unit_sum, EMB_F64);
		double *row = emb_xmalloc(d * sizeof *row);
		for (size_t i = 0; i < d; i++) {
			char key[32];
			/* The full symmetric matrix, from the upper triangle. */
			for (size_t j = 0; j < d; j++)
				row[j] = j >= i ? m->m2[i * d + j] : m->m2[j * d + i];
			snprintf(key, sizeof key, "m2_%zu", i + 1);
			emb_write_row(s, key, row, EMB_F64);
		}
		free(row);
	}
	emb_close(s);
}

/* Read one "moments" partial from PATH into M (initialised here). */
static void read_partial(struct emb_moments *m, const char *path)
{
	cJSON *p;
	struct emb_stream *s = emb_partial_open_r(path, "moments", &p);
	const char *name = s->name;
	double n = emb_partial_get(name, p, "n", true, false, 0);
	double nz = emb_partial_get(name, p, "nonzero", true, false, 0);
	double *rows;
	size_t got = emb_partial_rows(s, &rows), d = s->dim;
	if (got != (d ? d + 2 : 0))
		emb_die(EMB_EXIT_DATA, "%s: a partial of dim %zu has %zu rows, not %zu", name, d,
			got, d ? d + 2 : 0);
	if (nz > n)
		emb_die(EMB_EXIT_DATA, "%s: bad partial.nonzero in its header", name);
	emb_moments_init(m, d);
	m->n = (uint64_t)n;
	m->nonzero = (uint64_t)nz;
	m->norm_sum = emb_partial_get(name, p, "norm_sum", false, false, 0);
	if (m->n > 0) {
		m->norm_min = emb_partial_get(name, p, "norm_min", false, false, 0);
		m->norm_max = emb_partial_get(name, p, "norm_max", false, false, 0);
	}
	if (d > 0) {
		memcpy(m->mean, rows, d * sizeof *m->mean);
		memcpy(m->unit_sum, rows + d, d * sizeof *m->unit_sum);
		memcpy(m->m2, rows + 2 * d, d * d * sizeof *m->m2);
	}
	free(rows);
	emb_close(s);
}

void emb_moments_merge_files(struct emb_moments *m, char *const *paths, int n)
{
	const char *first = NULL;
	emb_moments_init(m, 0);
	for (int i = 0; i < n; i++) {
		struct emb_moments b;
		read_partial(&b, paths[i]);
		/* A partial of an empty input may not know its dim: it adds
		 * nothing, whatever the others' dim. */
		if (b.dim != m->dim && !(b.n == 0 && b.dim == 0) && !(m->n == 0 && m->dim == 0))
			emb_die(EMB_EXIT_DATA, "%s: a partial of dim %zu, but %s has dim %zu",
				paths[i], b.dim, first, m->dim);
		if (b.dim > 0 && !first)
			first = paths[i];
		emb_moments_merge(m, &b);
		emb_moments_free(&b);
	}
}

/* M2 as a full symmetric matrix (caller frees). */
static double *full_m2(const struct emb_moments *m)
{
	size_t d = m->dim;
	double *full = emb_xmalloc(emb_xmul(emb_xmul(d ? d : 1, d ? d : 1), sizeof *full));
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < d; j++)
			full[i * d + j] = j >= i ? m->m2[i * d + j] : m->m2[j * d + i];
	return full;
}

void emb_moments_to_cov(const struct emb_moments *m, struct emb_cov *cv)
{
	double *full = full_m2(m);
	emb_cov_set_moments(cv, m->dim, m->n, m->mean, full);
	free(full);
}

void emb_moments_to_raw_cov(const struct emb_moments *m, struct emb_cov *cv)
{
	double *full = full_m2(m);
	emb_cov_set_raw_moments(cv, m->dim, m->n, m->mean, full);
	free(full);
}
