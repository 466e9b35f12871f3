/*
 * emb_slice.c - --dims=A:B and --normalize: a transform of the rows as
 * they are read (Matryoshka truncation, then plain L2 normalisation), so
 * that every program that takes the options applies them alike.
 */
#include <config.h>
#include "emb.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct emb_slice emb_slice;

/* --dims=A:B, A: or :B: whole decimal numbers, 0 <= A < B (an empty
 * slice leaves no vector to score). */
static void parse_dims(struct emb_slice *s, const char *arg)
{
	long long a, b;
	if (emb_parse_slice(arg, &a, &b) && a < EMB_MAX_DIM && (b < 0 || (b > a && b <= EMB_MAX_DIM))) {
		s->dims = true;
		s->a = (size_t)a;
		s->b = b < 0 ? SIZE_MAX : (size_t)b;
		s->spec = arg;
		return;
	}
	emb_usage_error("--dims wants A:B, A: or :B with whole numbers 0 <= A < B, not '%s'", arg);
}

bool emb_slice_option(int opt, const char *arg)
{
	if (opt == EMB_OPT_DIMS) {
		if (emb_slice.dims && strcmp(arg, emb_slice.spec))
			emb_usage_error("--dims given twice ('%s' and '%s')", emb_slice.spec, arg);
		parse_dims(&emb_slice, arg);
	} else if (opt == EMB_OPT_NORMALIZE) {
		emb_slice.normalize = true;
	} else {
		return false;
	}
	emb_opts.slice = &emb_slice;
	return true;
}

void emb_slice_help(void)
{
	fputs("      --dims=A:B           keep dimensions A..B-1 of each row, as Python's\n"
	      "                           x[:, A:B] (A: and :B leave an end open), e.g.\n"
	      "                           :256 for a Matryoshka model's first 256\n"
	      "      --normalize          divide each row (after --dims) by its L2 norm;\n"
	      "                           zero rows stay zero and are counted on stderr\n",
	      stdout);
}

size_t emb_slice_dim(const struct emb_slice *s, const struct emb_stream *in)
{
	if (!s || !s->dims || in->dim == 0)
		return in->dim;
	if (s->a >= in->dim || (s->b != SIZE_MAX && s->b > in->dim))
		emb_die(EMB_EXIT_DATA, "--dims=%s is outside the %zu dimensions of %s", s->spec,
			in->dim, in->name);
	return (s->b == SIZE_MAX ? in->dim : s->b) - s->a;
}

static bool finite_row(const void *x, size_t n, enum emb_dtype t)
{
	for (size_t j = 0; j < n; j++)
		if (!isfinite(t == EMB_F64 ? ((const double *)x)[j] : (double)((const float *)x)[j]))
			return false;
	return true;
}

/* Divide row X (N values of type T) by its L2 norm, summed in double;
 * false (row untouched) if the norm is zero. */
static bool normalize_row(void *x, size_t n, enum emb_dtype t)
{
	double ss = 0;
	if (t == EMB_F64) {
		double *v = x;
		for (size_t j = 0; j < n; j++)
			ss += v[j] * v[j];
		if (ss == 0)
			return false;
		double norm = sqrt(ss);
		for (size_t j = 0; j < n; j++)
			v[j] /= norm;
	} else {
		float *v = x;
		for (size_t j = 0; j < n; j++)
			ss += (double)v[j] * v[j];
		if (ss == 0)
			return false;
		double norm = sqrt(ss);
		for (size_t j = 0; j < n; j++)
			v[j] = (float)(v[j] / norm);
	}
	return true;
}

void emb_slice_chunk(struct emb_slice *s, struct emb_chunk *c)
{
	if (!s || (!s->dims && !s->normalize) || c->rows == 0)
		return;
	size_t es = emb_dtype_size(c->type), d = c->dim;
	size_t lo = 0, hi = d;
	if (s->dims) {
		/* emb_slice_dim checked the stream's dim; a chunk has it */
		lo = s->a;
		hi = s->b == SIZE_MAX ? d : s->b;
	}
	size_t nd = hi - lo;
	char *base = c->data;
	for (size_t i = 0; i < c->rows; i++) {
		char *dst = base + i * nd * es;
		/* rows move towards the start: row i's new place ends before
		 * row i + 1's old one begins, so moving in order is safe */
		if (nd != d || lo)
			memmove(dst, base + (i * d + lo) * es, nd * es);
		if (s->normalize) {
			if (!finite_row(dst, nd, c->type))
				emb_die_row(c, i, "value is not finite: the row has no norm (--normalize)");
			if (!normalize_row(dst, nd, c->type))
				s->zero_rows++;
		}
	}
	c->dim = nd;
}

void emb_slice_report(const struct emb_slice *s)
{
	if (s->zero_rows)
		emb_warn("--normalize: %llu zero %s left as zero (no direction to keep)",
			 (unsigned long long)s->zero_rows, emb_plural(s->zero_rows, "row", "rows"));
}
