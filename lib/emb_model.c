/*
 * emb_model.c - saved transforms (MODEL streams) and applying them to
 * chunks (contracts in emb_linalg.h).
 */
#include <config.h>
#include "emb_linalg.h"
#include "emb_moments.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kind_names[] = {
	[EMB_MODEL_CENTER] = "center", [EMB_MODEL_ABTT] = "abtt", [EMB_MODEL_WHITEN] = "whiten",
	[EMB_MODEL_REMOVE_PC] = "remove-pc",
};

void emb_model_init(struct emb_model *m, enum emb_model_kind kind, size_t dim_in,
		    double *mean, double *w, size_t k, bool normalize, uint64_t n)
{
	memset(m, 0, sizeof *m);
	m->kind = kind;
	m->dim_in = dim_in;
	m->dim_out = kind == EMB_MODEL_WHITEN ? k : dim_in;
	m->mean = mean;
	m->w = w;
	m->k = k;
	m->normalize = normalize;
	m->params = cJSON_CreateObject();
	cJSON_AddStringToObject(m->params, "kind", kind_names[kind]);
	cJSON_AddNumberToObject(m->params, "dim_in", (double)dim_in);
	cJSON_AddNumberToObject(m->params, "dim_out", (double)m->dim_out);
	cJSON_AddNumberToObject(m->params, "k", (double)k);
	cJSON_AddNumberToObject(m->params, "n", (double)n);
	cJSON_AddBoolToObject(m->params, "normalize", normalize);
}

void emb_model_set_null(struct emb_model *m, double *h, size_t null_m, double scale,
			size_t dim_out)
{
	m->h = h;
	m->null_m = null_m;
	m->null_scale = scale;
	m->dim_out = dim_out;
	cJSON_ReplaceItemInObjectCaseSensitive(m->params, "dim_out", cJSON_CreateNumber((double)dim_out));
	cJSON_AddNumberToObject(m->params, "null_rows", (double)null_m);
	cJSON_AddNumberToObject(m->params, "null_scale", scale);
}

struct emb_stream *emb_model_save_open(const char *path, const struct emb_stream *in)
{
	struct emb_opts o = emb_opts;
	o.out_format = EMB_FMT_EMB;
	o.out_dtype = EMB_F64;
	o.progress = false;
	return emb_open_w_path(path, in, &o);
}

void emb_model_save(const struct emb_model *m, struct emb_stream *s)
{
	s->dim = m->dim_in;
	s->has_keys = true;
	cJSON_DeleteItemFromObjectCaseSensitive(s->meta, "transform");
	cJSON_AddItemToObject(s->meta, "transform", cJSON_Duplicate(m->params, true));
	emb_write_header(s);
	if (m->dim_in > 0) {
		emb_write_row(s, "mean", m->mean, EMB_F64);
		for (size_t i = 0; i < m->k; i++) {
			char key[32];
			snprintf(key, sizeof key, "w%zu", i + 1);
			emb_write_row(s, key, m->w + i * m->dim_in, EMB_F64);
		}
		for (size_t i = 0; m->h && i < m->null_m; i++) {
			char key[32];
			snprintf(key, sizeof key, "h%zu", i + 1);
			emb_write_row(s, key, m->h + i * m->dim_in, EMB_F64);
		}
	}
	emb_close(s);
}

static int kind_parse(const char *name)
{
	for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -1;
}


/* A whole-number member of T in [0, MAX], or -1 if absent; dies if it is
 * present but not such a number. */
static long long param_count(const char *path, cJSON *t, const char *name, double max)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(t, name);
	if (!v)
		return -1;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max) ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		emb_die(EMB_EXIT_DATA, "%s: bad transform.%s in its header", path, name);
	return (long long)v->valuedouble;
}

void emb_model_load(struct emb_model *m, const char *path)
{
	struct emb_opts o = emb_opts;
	o.in_format = EMB_FMT_AUTO;
	o.progress = false;
	struct emb_stream *s = emb_open_r(path, &o);
	cJSON *t = cJSON_GetObjectItemCaseSensitive(s->meta, "transform");
	cJSON *kind = cJSON_GetObjectItemCaseSensitive(t, "kind");
	if (!cJSON_IsObject(t) || !cJSON_IsString(kind))
		emb_die(EMB_EXIT_DATA, "%s: not a transform model (no \"transform\" in its header)", path);
	int kd = kind_parse(kind->valuestring);
	if (kd < 0)
		emb_die(EMB_EXIT_DATA, "%s: unknown transform kind '%s'", path, kind->valuestring);
	const char *kn = kind->valuestring;
	double *rows = NULL;
	/* The whole model is O(k * dim) doubles; finiteness is checked below,
	 * with messages that name the model. */
	size_t n = emb_read_all_f64(s, &rows, false);
	size_t d = s->dim;
	if (n == 0 || d == 0)
		emb_die(EMB_EXIT_DATA, "%s: a %s model needs a mean row", path, kn);
	for (size_t i = 0; i < n * d; i++)
		if (!isfinite(rows[i]))
			emb_die(EMB_EXIT_DATA, "%s: row %zu of the model is not finite", path, i / d + 1);
	/* The header's counts, when present, must say what the rows are. */
	long long dim_in = param_count(path, t, "dim_in", 1e15);
	long long dim_out = param_count(path, t, "dim_out", 1e15);
	long long kk = param_count(path, t, "k", 1e15);
	long long null_m = param_count(path, t, "null_rows", 1e15);
	bool implicit = null_m >= 0;   /* whiten with the null space by reflectors */
	if (implicit && kd != EMB_MODEL_WHITEN)
		emb_die(EMB_EXIT_DATA, "%s: a %s model has null_rows", path, kn);
	size_t nm = null_m > 0 ? (size_t)null_m : 0;
	if (nm >= n)
		emb_die(EMB_EXIT_DATA, "%s: null_rows %zu but only %zu %s", path, nm, n,
			emb_plural(n, "row", "rows"));
	size_t k = n - 1 - nm;
	size_t out = kd == EMB_MODEL_WHITEN ? (implicit ? (dim_out >= 0 ? (size_t)dim_out : 0) : k) : d;
	if (dim_in >= 0 && (size_t)dim_in != d)
		emb_die(EMB_EXIT_DATA, "%s: transform.dim_in %lld differs from the model's dim %zu",
			path, dim_in, d);
	if (kk >= 0 && (size_t)kk != k)
		emb_die(EMB_EXIT_DATA, "%s: transform.k %lld but the model has %zu %s", path, kk,
			k, emb_plural(k, "direction row", "direction rows"));
	/* remove-pc has the layout of every kind, with a zero mean: nothing
	 * is subtracted, and a reader that applies it as abtt agrees. */
	for (size_t j = 0; kd == EMB_MODEL_REMOVE_PC && j < d; j++)
		if (rows[j] != 0)
			emb_die(EMB_EXIT_DATA, "%s: a remove-pc model's mean row is not zero", path);
	if (kd == EMB_MODEL_CENTER && k != 0)
		emb_die(EMB_EXIT_DATA, "%s: a center model has %zu rows, not 1", path, n);
	if (kd != EMB_MODEL_CENTER && k > d)
		emb_die(EMB_EXIT_DATA, "%s: a %s model of dim %zu has %zu direction rows (at most %zu)",
			path, kn, d, k, d);
	if (kd == EMB_MODEL_WHITEN && k == 0 && !implicit)
		emb_die(EMB_EXIT_DATA, "%s: a whiten model has no direction rows", path);
	if (implicit && (nm != k || out <= k || out > d))
		emb_die(EMB_EXIT_DATA, "%s: bad null_rows %zu for k %zu, dim_out %zu, dim %zu",
			path, nm, k, out, d);
	if (dim_out >= 0 && (size_t)dim_out != out)
		emb_die(EMB_EXIT_DATA, "%s: transform.dim_out %lld but the rows give %zu", path,
			dim_out, out);
	cJSON *ns = cJSON_GetObjectItemCaseSensitive(t, "null_scale");
	if (implicit && (!cJSON_IsNumber(ns) || !isfinite(ns->valuedouble)))
		emb_die(EMB_EXIT_DATA, "%s: bad transform.null_scale in its header", path);
	double *mean = emb_xmalloc(d * sizeof *mean);
	memcpy(mean, rows, d * sizeof *mean);
	double *w = NULL, *h = NULL;
	if (k) {
		w = emb_xmalloc(k * d * sizeof *w);
		memcpy(w, rows + d, k * d * sizeof *w);
	}
	if (implicit) {
		h = emb_xmalloc((nm ? nm : 1) * d * sizeof *h);
		memcpy(h, rows + (1 + k) * d, nm * d * sizeof *h);
	}
	free(rows);
	cJSON *norm = cJSON_GetObjectItemCaseSensitive(t, "normalize");
	if (norm && !cJSON_IsBool(norm))
		emb_die(EMB_EXIT_DATA, "%s: bad transform.normalize in its header", path);
	/* rows fitted: informational, but a whole number (no UB on 1e300) */
	long long nfit = param_count(path, t, "n", 9007199254740992.0);
	emb_model_init(m, (enum emb_model_kind)kd, d, mean, w, k, cJSON_IsTrue(norm),
		       nfit > 0 ? (uint64_t)nfit : 0);
	if (implicit)
		emb_model_set_null(m, h, nm, ns->valuedouble, out);
	cJSON_Delete(m->params);
	m->params = cJSON_Duplicate(t, true);
	emb_close(s);
}

static void *scratch(struct emb_model *m, size_t rows, size_t size)
{
	if (rows > m->scratch_rows) {
		free(m->scratch);
		m->scratch = emb_xmalloc(emb_xmul(emb_xmul(rows, m->k ? m->k : 1), size));
		m->scratch_rows = rows;
	}
	return m->scratch;
}

/* R = X - MEAN for one f32 row, subtracted in double and rounded once.
 * Blocks of 8 let GCC's -O2 vectorizer (no epilogues) use SIMD. */
static void subtract_row_f32(float *restrict r, const float *restrict x,
			     const double *restrict mean, size_t d)
{
	size_t j = 0;
	for (; j + 8 <= d; j += 8)
		for (size_t l = 0; l < 8; l++)
			r[j + l] = (float)((double)x[j + l] - mean[j + l]);
	for (; j < d; j++)
		r[j] = (float)((double)x[j] - mean[j]);
}

/* Y = X - mean, in X's type: the subtraction is done in double so a large
 * common offset costs no precision beyond the output type's. */
static void subtract_mean(const struct emb_model *m, const struct emb_chunk *in, void *y)
{
	size_t d = m->dim_in;
	for (size_t i = 0; i < in->rows; i++) {
		if (in->type == EMB_F64) {
			const double *x = emb_row_f64(in, i);
			double *r = (double *)y + i * d;
			for (size_t j = 0; j < d; j++)
				r[j] = x[j] - m->mean[j];
		} else {
			subtract_row_f32((float *)y + i * d, emb_row_f32(in, i), m->mean, d);
		}
	}
}

/* C (rows x k) = A (rows x d) W^T, or for ABTT A -= (A W^T) W. */
static void project(struct emb_model *m, const void *a, void *c, size_t rows, enum emb_dtype t)
{
	int r = (int)rows, k = (int)m->k, d = (int)m->dim_in;
	if (t == EMB_F64) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, k, d, 1.0, a, d,
			    m->w, d, 0.0, c, k);
		return;
	}
	if (!m->wf) {
		m->wf = emb_xmalloc(m->k * m->dim_in * sizeof *m->wf);
		for (size_t i = 0; i < m->k * m->dim_in; i++)
			m->wf[i] = (float)m->w[i];
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, k, d, 1.0f, a, d,
		    m->wf, d, 0.0f, c, k);
}

static void remove_top(struct emb_model *m, void *y, size_t rows, enum emb_dtype t)
{
	int r = (int)rows, k = (int)m->k, d = (int)m->dim_in;
	void *p = scratch(m, rows, t == EMB_F64 ? sizeof(double) : sizeof(float));
	project(m, y, p, rows, t);
	if (t == EMB_F64)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, d, k, -1.0, p, k,
			    m->w, d, 1.0, y, d);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, d, k, -1.0f, p, k,
			    m->wf, d, 1.0f, y, d);
}

/* Whiten with an implicit null space: the K explicit columns by BLAS,
 * then columns K..dim_out-1 row by row (emb_householder_qt). */
static void apply_null(struct emb_model *m, size_t rows, enum emb_dtype t, struct emb_chunk *out)
{
	size_t d = m->dim_in, k = m->k, dout = m->dim_out;
	size_t es = t == EMB_F64 ? sizeof(double) : sizeof(float);
	void *p = k ? scratch(m, rows, es) : NULL;
	if (k)
		project(m, m->centred, p, rows, t);
	double *z = emb_xmalloc(d * sizeof *z);
	for (size_t i = 0; i < rows; i++) {
		for (size_t j = 0; j < d; j++)
			z[j] = t == EMB_F64 ? ((double *)m->centred)[i * d + j]
					    : (double)((float *)m->centred)[i * d + j];
		emb_householder_qt(m->null_m, d, m->h, z);
		for (size_t j = 0; j < dout; j++) {
			double v = j < k ? (t == EMB_F64 ? ((double *)p)[i * k + j]
						       : (double)((float *)p)[i * k + j])
					 : m->null_scale * z[j];
			if (t == EMB_F64)
				emb_row_f64(out, i)[j] = v;
			else
				emb_row_f32(out, i)[j] = (float)v;
		}
	}
	free(z);
}

size_t emb_model_apply(struct emb_model *m, const struct emb_chunk *in, struct emb_chunk *out)
{
	emb_chunk_reserve(out, in->rows, m->dim_out, in->type, in->keys != NULL);
	emb_chunk_number_like(out, in);
	for (size_t i = 0; in->keys && i < in->rows; i++)
		emb_chunk_set_key(out, i, in->keys[i], strlen(in->keys[i]));
	if (in->rows == 0 || m->dim_in == 0)
		return 0;
	emb_require_finite(in);
	if (m->kind == EMB_MODEL_WHITEN) {
		/* The centred copy needs rows x dim_in, the scratch rows x k. */
		if (in->rows > m->centred_rows) {
			free(m->centred);
			m->centred = emb_xmalloc(emb_xmul(emb_xmul(in->rows, m->dim_in), sizeof(double)));
			m->centred_rows = in->rows;
		}
		subtract_mean(m, in, m->centred);
		if (m->dim_out > m->k)
			apply_null(m, in->rows, in->type, out);
		else
			project(m, m->centred, out->data, in->rows, in->type);
	} else {
		subtract_mean(m, in, out->data);  /* remove-pc: a copy (mean 0) */
		if ((m->kind == EMB_MODEL_ABTT || m->kind == EMB_MODEL_REMOVE_PC) && m->k > 0)
			remove_top(m, out->data, in->rows, in->type);
	}
	/* Finite input can still leave a value the output type cannot hold
	 * (f32 data near 3e38 minus its mean). */
	for (size_t i = 0; i < out->rows; i++)
		if (!emb_row_finite(out, i))
			emb_die_row(in, i, "value out of range after the transform");
	return m->normalize ? emb_normalize_rows(out) : 0;
}

void emb_model_free(struct emb_model *m)
{
	free(m->mean);
	free(m->w);
	free(m->scratch);
	free(m->centred);
	free(m->wf);
	free(m->h);
	cJSON_Delete(m->params);
	memset(m, 0, sizeof *m);
}

void emb_model_run(struct emb_model *m, struct emb_stream *in, struct emb_stream *out)
{
	if (in->dim != 0 && in->dim != m->dim_in)
		emb_die(EMB_EXIT_DATA, "%s: dim %zu differs from the model's %zu",
			in->name, in->dim, m->dim_in);
	out->dim = m->dim_out;
	emb_write_header(out);
	struct emb_chunk c = EMB_CHUNK_INIT, y = EMB_CHUNK_INIT;
	uint64_t zeros = 0;
	while (emb_read_chunk(in, &c) > 0) {
		zeros += emb_model_apply(m, &c, &y);
		emb_write_chunk(out, &y);
	}
	if (zeros)
		emb_warn("%llu %s all zeros after the transform and %s left unnormalised",
			 (unsigned long long)zeros, emb_plural(zeros, "row was", "rows were"),
			 emb_plural(zeros, "was", "were"));
	emb_chunk_free(&c);
	emb_chunk_free(&y);
}

static enum emb_dtype memory_type(const struct emb_stream *s)
{
	return s->dtype == EMB_F64 ? EMB_F64 : EMB_F32;
}

void emb_model_filter(const char *path, const char *load, const char *save,
		      bool normalize, emb_fit_fn *fit, void *arg)
{
	struct emb_model m;
	struct emb_stream *out;
	/* A closed stdout would hand its descriptor to the spill or the
	 * model file, and our output would land there: hold it with a
	 * read-only descriptor, so writes still fail with EBADF. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDOUT_FILENO) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	/* Never overwrite an input, or the output, with the model; never
	 * read the model from the output (the shell has emptied it). */
	if (save)
		emb_check_not_input("--save", save, &path, 1);
	if (load)
		emb_check_not_input("--load", load, NULL, 0);
	if (load) {
		emb_model_load(&m, load);
		m.normalize |= normalize;
		struct emb_stream *in = emb_open_r(path, &emb_opts);
		emb_partial_refuse(in);
		in->mtype = memory_type(in);
		out = emb_open_w_like(in, &emb_opts);
		emb_model_run(&m, in, out);
		emb_close(in);
	} else {
		struct emb_spill sp;
		emb_spill_begin(&sp, path, &emb_opts);
		emb_partial_refuse(sp.in);
		sp.in->mtype = memory_type(sp.in);
		/* Opened before the fit, so an unwritable place fails at once;
		 * it gets its name only when complete (emb_open_w_path). */
		struct emb_stream *ms = save ? emb_model_save_open(save, sp.in) : NULL;
		fit(&sp, arg, &m);
		if (ms)
			emb_model_save(&m, ms);
		out = emb_open_w_like(sp.in, &emb_opts);
		emb_spill_rewind(&sp, &emb_opts);
		emb_model_run(&m, sp.in, out);
		emb_spill_end(&sp);
	}
	emb_close(out);
	emb_model_free(&m);
}
