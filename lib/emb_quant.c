/*
 * emb_quant.c - calibration ranges and codes (contracts in emb_quant.h).
 */
#include <config.h>
#include "emb_quant.h"
#include "emb_linalg.h"
#include "emb_moments.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void emb_ranges_init(struct emb_ranges *r, size_t dim)
{
	r->dim = dim;
	r->n = 0;
	r->f64 = false;
	r->min = emb_xmalloc((dim ? dim : 1) * sizeof *r->min);
	r->max = emb_xmalloc((dim ? dim : 1) * sizeof *r->max);
	for (size_t j = 0; j < dim; j++) {
		r->min[j] = INFINITY;
		r->max[j] = -INFINITY;
	}
}

void emb_ranges_free(struct emb_ranges *r)
{
	free(r->min);
	free(r->max);
	r->min = r->max = NULL;
}

void emb_ranges_add(struct emb_ranges *r, const struct emb_chunk *c)
{
	size_t d = c->dim;
	if (c->type == EMB_F64)
		r->f64 = true;
	for (size_t i = 0; i < c->rows; i++)
		for (size_t j = 0; j < d; j++) {
			double v = emb_get(c, i, j);
			if (isnan(v))
				emb_die_row(c, i, "value %zu is nan", j + 1);
			if (v < r->min[j])
				r->min[j] = v;
			if (v > r->max[j])
				r->max[j] = v;
		}
	r->n += c->rows;
}

void emb_ranges_merge(struct emb_ranges *a, const struct emb_ranges *b)
{
	if (a->n == 0 && a->dim == 0 && b->dim > 0) {
		emb_ranges_free(a);
		emb_ranges_init(a, b->dim);
	}
	for (size_t j = 0; b->n > 0 && j < a->dim; j++) {
		if (b->min[j] < a->min[j])
			a->min[j] = b->min[j];
		if (b->max[j] > a->max[j])
			a->max[j] = b->max[j];
	}
	a->n += b->n;
	a->f64 = a->f64 || (b->f64 && b->n > 0);
}

void emb_ranges_write(const struct emb_ranges *r, struct emb_stream *s)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "kind", "ranges");
	emb_partial_put(p, "n", (double)r->n);
	cJSON_AddStringToObject(p, "precision", r->f64 ? "f64" : "f32");
	if (s) {
		s->dim = r->dim;
		s->has_keys = true;
		cJSON_AddItemToObject(s->meta, "partial", p);
		emb_write_header(s);
	} else {
		s = emb_partial_open_w(r->dim, p);
	}
	if (r->n > 0 && r->dim > 0) {
		emb_write_row(s, "min", r->min, EMB_F64);
		emb_write_row(s, "max", r->max, EMB_F64);
	}
	emb_close(s);
}

void emb_ranges_read(struct emb_ranges *r, const char *path, bool want_rows)
{
	cJSON *p;
	struct emb_stream *s = emb_partial_open_r(path, "ranges", &p);
	const char *name = s->name;
	double n = emb_partial_get(name, p, "n", true, false, 0);
	cJSON *prec = cJSON_GetObjectItemCaseSensitive(p, "precision");
	if (!cJSON_IsString(prec) || (strcmp(prec->valuestring, "f32") != 0 &&
				      strcmp(prec->valuestring, "f64") != 0))
		emb_die(EMB_EXIT_DATA, "%s: bad partial.precision in its header", name);
	double *rows = NULL;
	size_t got = emb_read_all_f64(s, &rows, false), d = s->dim;
	size_t want = n > 0 && d > 0 ? 2 : 0;
	if (got != want)
		emb_die(EMB_EXIT_DATA, "%s: ranges of %.0f rows have %zu rows, not %zu", name, n,
			got, want);
	emb_ranges_init(r, d);
	r->n = (uint64_t)n;
	r->f64 = strcmp(prec->valuestring, "f64") == 0;
	for (size_t j = 0; want && j < d; j++) {
		double lo = rows[j], hi = rows[d + j];
		if (isnan(lo) || isnan(hi) || lo > hi)
			emb_die(EMB_EXIT_DATA, "%s: dimension %zu has no valid range (min %g, max %g)",
				name, j + 1, lo, hi);
		r->min[j] = lo;
		r->max[j] = hi;
	}
	if (want_rows && r->n == 0)
		emb_die(EMB_EXIT_DATA, "%s: ranges fitted from no rows", name);
	free(rows);
	emb_close(s);
}

void emb_ranges_warn_small(enum emb_quant_kind k, uint64_t n)
{
	const char *p = k == EMB_Q_INT8 ? "int8" : "uint8";
	if (n >= 100 || n == 0) /* no rows: no buckets, and no codes either */
		return;
	emb_warn("Computing %s quantization buckets based on %llu embedding%s. %s quantization "
		 "is more stable with `ranges` calculated from more embeddings or a "
		 "`calibration_embeddings` that can be used to calculate the buckets.",
		 p, (unsigned long long)n, n != 1 ? "s" : "", p);
}

/* The code of T (= (x - min) / steps, minus 128 for int8) in [LO, HI],
 * the end code beyond them; toward zero as numpy's cast, or nearest. */
static inline int code_f(float t, int lo, int hi, bool round)
{
	if (round)
		t = rintf(t);
	if (!(t < (float)hi + 1))
		return hi;
	if (!(t > (float)lo - 1))
		return lo;
	return (int)t;
}

static inline int code_d(double t, int lo, int hi, bool round)
{
	if (round)
		t = rint(t);
	if (!(t < hi + 1))
		return hi;
	if (!(t > lo - 1))
		return lo;
	return (int)t;
}

/* x - min over steps, for a dimension whose range is a point (steps 0):
 * below, at and above it. */
static inline double flat(double x, double mn)
{
	return x > mn ? INFINITY : x < mn ? -INFINITY : 0;
}

/* Die naming row I of C if it holds a nan. */
static void check_row(const struct emb_chunk *c, size_t i)
{
	size_t d = c->dim;
	bool bad = false;
	if (c->type == EMB_F32) {
		const float *x = (const float *)c->data + i * d;
		for (size_t j = 0; j < d; j++)
			bad |= x[j] != x[j];
	} else {
		const double *x = (const double *)c->data + i * d;
		for (size_t j = 0; j < d; j++)
			bad |= x[j] != x[j];
	}
	for (size_t j = 0; bad && j < d; j++)
		if (isnan(emb_get(c, i, j)))
			emb_die_row(c, i, "value %zu is nan", j + 1);
}

static void quantize_scalar(const struct emb_chunk *c, struct emb_chunk *out, bool int8,
			    const struct emb_ranges *r, bool round)
{
	size_t d = c->dim;
	int lo = int8 ? -128 : 0, hi = int8 ? 127 : 255;
	emb_chunk_reserve(out, c->rows, d, int8 ? EMB_I8 : EMB_U8, c->keys != NULL);
	bool f32 = c->type == EMB_F32 && !r->f64;
	float *mnf = emb_xmalloc((d ? d : 1) * sizeof *mnf), *stf = emb_xmalloc((d ? d : 1) * sizeof *stf);
	double *std = emb_xmalloc((d ? d : 1) * sizeof *std);
	for (size_t j = 0; j < d; j++) {
		mnf[j] = (float)r->min[j];
		stf[j] = ((float)r->max[j] - mnf[j]) / 255.0f;
		std[j] = (r->max[j] - r->min[j]) / 255.0;
	}
	for (size_t i = 0; i < c->rows; i++) {
		unsigned char *o = (unsigned char *)out->data + i * d;
		check_row(c, i);
		for (size_t j = 0; f32 && j < d; j++) {
			float x = ((const float *)c->data)[i * d + j];
			/* the same float operations as numpy's, in its order */
			float t = stf[j] != 0 ? (x - mnf[j]) / stf[j] : (float)flat(x, mnf[j]);
			if (int8)
				t = t - 128.0f;
			int q = code_f(t, lo, hi, round);
			o[j] = (unsigned char)(int8 ? (unsigned char)(int8_t)q : (unsigned char)q);
		}
		for (size_t j = 0; !f32 && j < d; j++) {
			double v = emb_get(c, i, j);
			double t = std[j] != 0 ? (v - r->min[j]) / std[j] : flat(v, r->min[j]);
			if (int8)
				t = t - 128.0;
			int q = code_d(t, lo, hi, round);
			o[j] = (unsigned char)(int8 ? (unsigned char)(int8_t)q : (unsigned char)q);
		}
	}
	free(mnf);
	free(stf);
	free(std);
}

void emb_quantize(const struct emb_chunk *c, struct emb_chunk *out, enum emb_quant_kind k,
		  const struct emb_ranges *r, bool round)
{
	size_t d = c->dim, rb = emb_row_bytes(EMB_BIT, d);
	if (k == EMB_Q_INT8 || k == EMB_Q_UINT8) {
		quantize_scalar(c, out, k == EMB_Q_INT8, r, round);
	} else {
		bool ub = k == EMB_Q_UBINARY;
		emb_chunk_reserve(out, c->rows, ub ? d : rb, ub ? EMB_BIT : EMB_I8, c->keys != NULL);
		for (size_t i = 0; i < c->rows; i++) {
			check_row(c, i);
			unsigned char *o = (unsigned char *)out->data + i * rb;
			emb_bits_pack(o, (const char *)c->data + i * d * emb_dtype_size(c->type), d,
				      c->type);
			/* sentence-transformers' "binary": the packed byte minus 128 */
			for (size_t b = 0; !ub && b < rb; b++)
				o[b] = (unsigned char)(int8_t)(o[b] - 128);
		}
	}
	emb_chunk_number_like(out, c);
	out->src = c->src;
	if (c->keys) {
		for (size_t i = 0; i < c->rows; i++)
			emb_chunk_set_key(out, i, c->keys[i], strlen(c->keys[i]));
	}
}

double emb_dequantize1(const struct emb_ranges *r, size_t j, double code, bool int8, bool round)
{
	double steps = (r->max[j] - r->min[j]) / 255.0, u;
	if (round)
		u = int8 ? code + 128 : code;
	else if (!int8)
		u = code + 0.5;
	/* toward zero around 0: code c > 0 holds c + 128 <= t < c + 129,
	 * c < 0 holds c + 127 < t <= c + 128, and 0 holds 127 < t < 129 */
	else
		u = code > 0 ? code + 128.5 : code < 0 ? code + 127.5 : 128;
	return r->min[j] + u * steps;
}

bool emb_codes_kind(const cJSON *meta, enum emb_dtype dtype, bool *int8, bool *round)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(meta, "quantization");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(q, "precision");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(q, "rounding");
	if (dtype != EMB_I8 && dtype != EMB_U8)
		return false;
	if (cJSON_IsString(p) && strcmp(p->valuestring, "int8") != 0 &&
	    strcmp(p->valuestring, "uint8") != 0)
		return false;
	*int8 = dtype == EMB_I8;
	*round = cJSON_IsString(r) && strcmp(r->valuestring, "nearest") == 0;
	return true;
}

void emb_dequantize_f32(const struct emb_ranges *r, float *x, size_t rows, bool int8, bool round)
{
	size_t d = r->dim;
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = (float)emb_dequantize1(r, j, x[i * d + j], int8, round);
}

const char *emb_meta_dtype(const cJSON *meta)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(meta, "dtype");
	return cJSON_IsString(d) ? d->valuestring : "f32";
}

void emb_refuse_codes(const char *name, const char *dtype)
{
	int t = emb_dtype_parse(dtype);
	if (t >= 0 && emb_dtype_is_code((enum emb_dtype)t))
		emb_die(EMB_EXIT_DATA, "%s: %s codes, not real numbers (embquant --dequantize makes "
			"values of i8 and u8 codes; embcos --hamming scores bits)", name, dtype);
}
