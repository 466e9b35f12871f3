/*
 * emb_vecs.c - TEXMEX .fvecs, .bvecs and .ivecs (SIFT1M, GIST1M and the
 * ANN benchmarks): per row a little-endian int32 dim, then dim values
 * (f32, u8 or int32).  No header, no keys; files concatenate.
 *
 * Every row repeats the dim, so a dim that changes is damage (or two
 * different files glued together) and is an error naming the offset.
 * ivecs values are read as f64 so every int32 is exact; writing bvecs or
 * ivecs refuses values that are not whole numbers in range.
 */
#include <config.h>
#include "emb_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t esize_of(enum emb_format f)
{
	return f == EMB_FMT_BVECS ? 1 : 4;
}

/* Read the next row's dim; false at a clean end of file. */
static bool read_dim(struct emb_stream *s, uint32_t *d)
{
	unsigned char b[4];
	uint64_t start = s->offset;
	size_t got = emb_read_bytes(s, b, 4);
	if (got == 0)
		return false;
	if (got < 4)
		emb_die_offset(s->name, start + got, "truncated file: row dim cut short "
			       "(%zu of 4 bytes)", got);
	s->offset += 4;
	*d = emb_get_u32(b);
	return true;
}

void emb_vecs_read_header(struct emb_stream *s)
{
	uint32_t d;
	s->vecs_esize = (int)esize_of(s->format);
	s->dtype = s->format == EMB_FMT_IVECS ? EMB_F64 : EMB_F32;
	s->mtype = s->dtype;
	s->has_keys = false;
	if (!read_dim(s, &d)) {
		s->at_eof = true;
		return;
	}
	if (d == 0 || d > EMB_MAX_DIM)
		emb_die_offset(s->name, 0, "row 1 claims dim %u (want 1 to %u)", d, EMB_MAX_DIM);
	s->dim = d;
	s->tsv_first_pending = true; /* the first row's dim is already read */
}

static void decode(struct emb_stream *s, void *dst, const unsigned char *src)
{
	if (s->format == EMB_FMT_FVECS) {
		emb_from_disk(dst, src, s->dim, EMB_F32, s->mtype);
		return;
	}
	for (size_t j = 0; j < s->dim; j++) {
		double v = s->format == EMB_FMT_BVECS ? src[j] : (double)(int32_t)emb_get_u32(src + 4 * j);
		if (s->mtype == EMB_F64)
			((double *)dst)[j] = v;
		else
			((float *)dst)[j] = (float)v;
	}
}

size_t emb_vecs_read_rows(struct emb_stream *s, struct emb_chunk *c)
{
	size_t vbytes = s->dim * (size_t)s->vecs_esize;
	size_t want = emb_batch_rows(s->dim, s->mtype), rows = 0;
	emb_chunk_reserve(c, want, s->dim, s->mtype, false);
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	while (rows < want) {
		uint32_t d = (uint32_t)s->dim;
		if (s->tsv_first_pending) {
			s->tsv_first_pending = false;
		} else if (!read_dim(s, &d)) {
			s->at_eof = true;
			break;
		}
		if (d != s->dim)
			emb_die_offset(s->name, s->offset - 4, "row %llu has dim %u, the first row %zu",
				       (unsigned long long)(s->recno + rows + 1), d, s->dim);
		emb_need_bytes(s, s->raw, vbytes, "row values");
		decode(s, (char *)c->data + rows * s->dim * emb_dtype_size(s->mtype), s->raw);
		rows++;
	}
	s->recno += rows;
	c->rows = rows;
	return rows;
}

/* bvecs and ivecs hold whole numbers only: say which value does not fit. */
static uint32_t whole(const struct emb_stream *s, double v, double lo, double hi,
		      uint64_t rowno, size_t j)
{
	if (!(v >= lo && v <= hi) || v != floor(v))
		emb_die(EMB_EXIT_DATA, "row %llu, value %zu: %g is not a whole number from "
			"%.0f to %.0f; it cannot be written as %s", (unsigned long long)rowno,
			j + 1, v, lo, hi, emb_codecs[s->format].name);
	return (uint32_t)(int32_t)v;
}

void emb_vecs_write_rows(struct emb_stream *s, const struct emb_chunk *c)
{
	size_t es = esize_of(s->format), vbytes = 4 + c->dim * es;
	if (s->raw_cap < vbytes) {
		free(s->raw);
		s->raw = emb_xmalloc(vbytes);
		s->raw_cap = vbytes;
	}
	for (size_t i = 0; i < c->rows; i++) {
		unsigned char *o = s->raw;
		uint64_t rowno = s->recno + i + 1;
		emb_put_u32(o, (uint32_t)c->dim);
		if (s->format == EMB_FMT_FVECS)
			emb_to_disk_counted(s, o + 4, (const char *)c->data + i * c->dim * emb_dtype_size(c->type),
				    c->dim, c->type, EMB_F32);
		else if (s->format == EMB_FMT_BVECS)
			for (size_t j = 0; j < c->dim; j++)
				o[4 + j] = (unsigned char)whole(s, emb_get(c, i, j), 0, 255, rowno, j);
		else
			for (size_t j = 0; j < c->dim; j++)
				emb_put_u32(o + 4 + 4 * j, whole(s, emb_get(c, i, j), -2147483648.0,
								 2147483647.0, rowno, j));
		emb_write_bytes(s, o, vbytes);
	}
}
